from pathlib import Path

import pytest

from briefing_qa.sources import SourceMeta, read_document
from briefing_qa.sources.wordpress import read_wordpress

ROOT = Path(__file__).resolve().parents[2]
BRIEFING = ROOT / "ingest" / "triennial-analysis-briefing-local-safeguarding-partnerships.txt"


@pytest.fixture(scope="module")
def doc():
    return read_document(BRIEFING, SourceMeta(publisher="Research in Practice"))


def _block_with(doc, needle):
    for b in doc.blocks:
        if needle in doc.text[b.start : b.end]:
            return b
    raise AssertionError(f"no block contains {needle!r}")


def test_sections_come_from_spoilers_with_anchors(doc):
    top = [s for s in doc.sections if s.level == 1]
    assert [s.title for s in top][:4] == ["Contents", "Introduction", "About this briefing", "Neglect"]
    about = next(s for s in top if s.title == "About this briefing")
    assert about.anchor == "lscb_about"  # written "#lscb_about" in the source


def test_sub_headings_nest_under_their_section(doc):
    b = _block_with(doc, "Poverty leads to additional complexity")
    assert doc.section(b.section_id).path == ("Neglect", "Impact of poverty")
    b = _block_with(doc, "Rectifying the physical manifestations of poverty")
    assert doc.section(b.section_id).path == ("Neglect", "Impact of poverty", "Key message")
    assert b.kind == "key_message"


def test_reflective_question_groups_keep_their_kind(doc):
    b = _block_with(doc, "Is adolescent neglect recognised and effectively acted upon?")
    assert doc.section(b.section_id).path[-2:] == ("Reflective questions", "Practice")
    assert b.kind == "reflective_questions"


def test_list_stays_with_its_lead_in(doc):
    b = _block_with(doc, "• Poor dental hygiene")
    text = doc.text[b.start : b.end]
    assert b.type == "list"
    assert text.startswith("As noted in the introduction, SCR findings in relation to neglect typically include:")


def test_tables_keep_rows_and_caption(doc):
    b = _block_with(doc, "Mental health problems 153 (55%)")
    text = doc.text[b.start : b.end]
    assert b.type == "table" and b.kind == "table"
    assert text.splitlines()[-1].startswith("Table 1: Parental characteristics")
    t5 = _block_with(doc, "Table 5: SCR methodology")
    assert doc.text[t5.start : t5.end].endswith("Table 5: SCR methodology")  # the paragraph glued after it is split off


def test_page_chrome_is_dropped(doc):
    assert "Back to contents" not in doc.text
    assert "&nsbp;" not in doc.text
    assert "Organisational membership" not in doc.text  # the advert after the accordion
    assert not doc.text.startswith("Safeguarding partnerships")
    assert "[su_" not in doc.text
    assert "Introduction About this briefing Neglect" not in doc.text  # flattened contents links


def test_curly_quotes_are_kept(doc):
    assert "‘the report’" in doc.text


def test_title_from_page(doc):
    assert doc.title == "Triennial Analysis of SCRs: Briefing for Local Safeguarding Partnerships"


def test_minimal_export():
    raw = 'Crumb\n\nPage title\n\n[su_accordion] [su_spoiler title="A" anchor="a"]\n\nA\n\nHello there.\n\n[/su_spoiler] [/su_accordion] advert'
    d = read_wordpress(raw).build(id="x", title="t", path="x.txt", sha256="0")
    assert d.text == "A\n\nHello there."
