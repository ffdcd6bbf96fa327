"""The one-line reference: one full stop after each part, whatever the
heading ends with."""

from __future__ import annotations

import pytest

from briefing_qa.citations import reference
from briefing_qa.records import Document


def _doc(title: str = "Working together") -> Document:
    return Document(id="d", title=title, path="d.txt", sha256="0", text="", sections=(), blocks=(),
                    publisher="Department for Education", year="2023")


@pytest.mark.parametrize(("heading", "expected"), [
    ("What to do if you are worried:", "Section: Part one › What to do if you are worried."),
    ("Types of abuse;", "Section: Part one › Types of abuse."),
    ("Is the child safe?", "Section: Part one › Is the child safe?"),
    ("Act now!", "Section: Part one › Act now!"),
    ("Ends with a full stop.", "Section: Part one › Ends with a full stop."),
    ("Plain heading", "Section: Part one › Plain heading."),
    ("Trailing colon and space:  ", "Section: Part one › Trailing colon and space."),
])
def test_section_title_ending_in_punctuation_gets_one_full_stop(heading, expected):
    ref = reference(_doc(), ("Part one", heading), (3, 3))
    assert expected in ref
    assert ":." not in ref and ".." not in ref and "?." not in ref
    assert ref.endswith("p. 3.")


def test_document_title_ending_in_punctuation():
    assert reference(_doc("Information sharing:"), (), None) == "Department for Education (2023) Information sharing."
    assert reference(_doc("What next?"), (), None) == "Department for Education (2023) What next?"
    assert reference(_doc(), ("Scope",), None) == "Department for Education (2023) Working together. Section: Scope."
