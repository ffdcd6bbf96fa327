"""Quote check logic on small built documents (no model: a stub retriever
hands out candidate passages, as the real one does)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from briefing_qa.structure import DocumentBuilder
from briefing_qa.verify import find_exact, fold_with_map, verify

POVERTY = ("Poverty leads to additional complexity, stress and anxiety in families, which can in turn heighten "
           "the risk of neglect or abuse. The impact of impoverishment is not always fully understood.")
CASE = "‘The primary focus for agencies was to improve the physical conditions of the home … and little else.’"


def _doc(doc_id="brief", pdf=False):
    b = DocumentBuilder()
    if pdf:
        b.start_page(1)
    b.heading("Neglect", 1, anchor="lscb_neglect")
    b.heading("Impact of poverty", 2)
    b.add("paragraph", POVERTY)
    if pdf:
        b.start_page(2)
    b.add("paragraph", CASE)
    b.heading("Learning points", 2)
    b.add("list", "Practitioners should:\n• ask about money\n• record what the child says")
    return b.build(id=doc_id, title="Briefing", path=f"{doc_id}.txt", sha256=doc_id * 4, publisher="Research in Practice",
                   url="https://example.org/briefing", format="pdf" if pdf else "text")


class StubRetriever:
    """Offers every block of every document as a candidate passage."""

    def __init__(self, *docs):
        self.documents = {d.id: d for d in docs}

    def ask(self, question, top_k=5, document_ids=None, base_url=""):
        passages = [SimpleNamespace(citation=SimpleNamespace(document_id=d.id), source_offsets=(b.start, b.end))
                    for d in self.documents.values() for b in d.blocks if b.type != "heading"]
        return SimpleNamespace(passages=passages[:top_k], abstained=False)


def test_fold_map_points_back_to_the_original():
    text = "a  “b”\u00a0–\n c…"
    folded, where = fold_with_map(text)
    assert folded == 'a "b" - c...'
    assert len(where) == len(folded)
    assert [text[i] for i in where[:3]] == ["a", " ", "“"]
    assert where[-1] == where[-2] == where[-3] == text.index("…")


def test_exact_quote_found_with_offsets_section_and_reference():
    doc = _doc()
    quote = "which can in turn heighten the risk of neglect or abuse."
    [m] = find_exact({doc.id: doc}, quote)
    s, e = m.source_offsets
    assert doc.text[s:e] == m.text == quote and m.identical
    assert m.citation.section_path == ("Neglect", "Impact of poverty")
    assert m.citation.anchor == "lscb_neglect"
    assert "Research in Practice" in m.citation.reference


def test_typographic_and_white_space_differences_are_folded_and_mapped_back():
    doc = _doc()
    pasted = "'The primary focus for agencies was to improve\n the physical conditions of the home ... and little else.'"
    [m] = find_exact({doc.id: doc}, pasted)
    assert m.text == CASE and not m.identical  # the exact canonical slice, curly quotes and ellipsis included
    assert doc.text[m.source_offsets[0]:m.source_offsets[1]] == CASE


def test_bullets_may_be_left_out():
    doc = _doc()
    [m] = find_exact({doc.id: doc}, "Practitioners should: ask about money record what the child says")
    assert m.text.startswith("Practitioners should:\n• ask") and m.citation.section_path[-1] == "Learning points"


def test_a_quote_must_start_and_end_on_word_boundaries():
    doc = _doc()
    assert find_exact({doc.id: doc}, "overty leads to additional") == []
    assert find_exact({doc.id: doc}, "Poverty leads to additiona") == []


def test_every_place_a_repeated_quote_stands_is_listed():
    a, b = _doc("a"), _doc("b")
    matches = find_exact({"a": a, "b": b}, "The impact of impoverishment is not always fully understood.")
    assert sorted(m.citation.document_id for m in matches) == ["a", "b"]


def test_pdf_quote_has_its_page():
    doc = _doc("guide", pdf=True)
    [m] = find_exact({doc.id: doc}, "and little else")
    assert m.citation.pages == (2, 2)


def test_altered_quote_gets_the_closest_passage_with_differences_marked():
    doc = _doc()
    v = verify(StubRetriever(doc), "Poverty leads to extra complexity, stress and worry in families, which can heighten the risk of neglect")
    assert not v.found and v.closest is not None
    c = v.closest
    assert doc.text[c.source_offsets[0]:c.source_offsets[1]] == c.text
    assert c.text == "Poverty leads to additional complexity, stress and anxiety in families, which can in turn heighten the risk of neglect"
    changes = [(d.op, d.quote, d.source) for d in c.differences if d.op != "equal"]
    assert changes == [("changed", "extra", "additional"), ("changed", "worry", "anxiety"), ("deleted", "", "in turn")]
    assert 0.7 < c.similarity < 1
    # The equal runs and the source sides of the changes rebuild the passage.
    assert " ".join(d.source for d in c.differences if d.source) == c.text


CONSENT = ("You do not need consent to share personal information about a child and/or members of their family "
           "if a child is at risk or there is a perceived risk of harm. You need to record what you share.")


@pytest.mark.parametrize(("quote", "expected"), [
    # Words left out in the middle put the quote's last words beyond the
    # first alignment's reach: the closest passage must still go on to them.
    ("You do not need consent to share information about a child if a child is at risk",
     "You do not need consent to share personal information about a child and/or members of their family if a child is at risk"),
    # ... and its first words, before the longest run.
    ("You do not need consent to share information about a child if a child is at risk or there is a perceived risk of harm",
     "You do not need consent to share personal information about a child and/or members of their family if a child is at risk "
     "or there is a perceived risk of harm"),
])
def test_closest_passage_covers_the_quotes_first_and_last_words(quote, expected):
    b = DocumentBuilder()
    b.heading("Consent", 1)
    b.add("paragraph", CONSENT)
    doc = b.build(id="info", title="Information sharing", path="info.txt", sha256="i" * 64)
    c = verify(StubRetriever(doc), quote).closest
    assert c is not None and c.text == expected
    changes = [(d.op, d.quote, d.source) for d in c.differences if d.op != "equal"]
    assert changes == [("deleted", "", "personal"), ("deleted", "", "and/or members of their family")]
    assert c.differences[0].quote.startswith("You do not") and c.differences[-1].op == "equal"
    assert " ".join(d.source for d in c.differences if d.source) == c.text


def test_added_words_are_marked_inserted():
    doc = _doc()
    v = verify(StubRetriever(doc), "The impact of impoverishment is not always very fully understood.")
    assert [(d.op, d.quote) for d in v.closest.differences if d.op != "equal"] == [("inserted", "very")]


def test_a_quote_typed_in_capitals_finds_its_passage_with_the_case_marked():
    doc = _doc()
    v = verify(StubRetriever(doc), "THE IMPACT OF IMPOVERISHMENT IS NOT ALWAYS FULLY UNDERSTOOD.")
    assert not v.found and v.closest is not None  # not word for word: the case differs
    assert v.closest.text == "The impact of impoverishment is not always fully understood."
    [change] = [d for d in v.closest.differences if d.op != "equal"]
    assert change.op == "changed" and change.quote.startswith("THE IMPACT") and change.source.startswith("The impact")
    # One word's case: that word alone is marked.
    v = verify(StubRetriever(doc), "The impact of IMPOVERISHMENT is not always fully understood.")
    assert [(d.op, d.quote, d.source) for d in v.closest.differences if d.op != "equal"] == [
        ("changed", "IMPOVERISHMENT", "impoverishment")]


def test_unrelated_text_has_no_closest_passage():
    doc = _doc()
    v = verify(StubRetriever(doc), "The capital of France is Paris and it is lovely in the spring.")
    assert not v.found and v.closest is None and v.to_json()["closest"] is None


@pytest.mark.parametrize("quote", ["", "   \n "])
def test_blank_quote_finds_nothing(quote):
    doc = _doc()
    assert find_exact({doc.id: doc}, quote) == []


def test_a_quote_with_words_left_out_is_found_part_by_part():
    doc = _doc()
    quote = "Poverty leads to additional complexity … which can in turn heighten the risk of neglect [...] not always fully understood."
    v = verify(StubRetriever(doc), quote)
    assert v.found
    [m] = v.matches
    assert not m.identical and len(m.parts) == 3
    # The match spans the source from the first part to the last; each part is an exact slice.
    assert m.text == doc.text[m.source_offsets[0]:m.source_offsets[1]] == POVERTY
    assert [doc.text[s:e] for s, e in m.parts] == [
        "Poverty leads to additional complexity", "which can in turn heighten the risk of neglect", "not always fully understood."]
    assert m.citation.section_path == ("Neglect", "Impact of poverty")
    assert v.to_json()["matches"][0]["parts"] == [list(p) for p in m.parts]


def test_leading_and_trailing_ellipses_mark_a_cut_quote():
    doc = _doc()
    [m] = verify(StubRetriever(doc), "...heighten the risk of neglect or abuse...").matches
    assert m.text == "heighten the risk of neglect or abuse" and len(m.parts) == 1


@pytest.mark.parametrize("quote", [
    "Poverty leads to additional complexity … the risk of nothing",  # second part not in the source
    "the risk of neglect or abuse … Poverty leads to additional",  # parts out of order
])
def test_elided_parts_must_all_stand_in_order(quote):
    v = verify(StubRetriever(_doc()), quote)
    assert not v.found and not v.matches


def test_elided_parts_far_apart_are_not_one_quote():
    b = DocumentBuilder()
    b.heading("A", 1)
    b.add("paragraph", "The first part stands here.")
    b.add("paragraph", "Filler sentence about something else entirely. " * 60)
    b.add("paragraph", "The last part stands there.")
    doc = b.build(id="d", title="D", path="d.txt", sha256="d" * 8, format="text")
    assert not verify(StubRetriever(doc), "The first part stands here. … The last part stands there.").found
    assert verify(StubRetriever(doc), "The first part stands here. … Filler sentence about something").found
