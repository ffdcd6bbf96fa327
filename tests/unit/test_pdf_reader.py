"""The PDF reader on the real guidance PDFs in ingest/ (each parsed once per
test session) and on broken copies of them."""

from __future__ import annotations

import collections
import os
import re
import sys
import time
from pathlib import Path

import pypdf
import pytest

ROOT = Path(__file__).resolve().parents[2]
try:
    import briefing_qa  # noqa: F401
except ImportError:  # not installed: run from the source tree
    sys.path.insert(0, str(ROOT / "src"))

from briefing_qa.errors import SourceError  # noqa: E402
from briefing_qa.sources.pdf import read_pdf  # noqa: E402

INGEST = ROOT / "ingest"
CSC = "Childrens_Social_Care_National_Framework__Dec_2023.pdf"
INFO = "Info_sharing_advice_content_May_2024.pdf"
KCSIE = "Keeping_children_safe_in_education_2025.pdf"
CME = "Children_missing_education_guidance_-_August_2024.pdf"
LAC = "Promoting_the_health_and_well-being_of_looked-after_children_August_2022_update.pdf"
ALL = [CME, CSC, INFO, KCSIE, LAC]

_cache: dict = {}


def parse(name: str):
    if name not in _cache:
        path = INGEST / name
        if not path.exists():
            pytest.skip(f"{name} not in ingest/")
        started = time.perf_counter()
        doc = read_pdf(path).build(id="x", title="t", path=path.name, sha256="0", format="pdf")
        _cache[name] = (doc, time.perf_counter() - started)
    return _cache[name][0]


def block_with(doc, needle: str):
    for block in doc.blocks:
        if needle in doc.text[block.start:block.end]:
            return block
    raise AssertionError(f"no block contains {needle!r}")


def path_of(doc, block) -> tuple[str, ...]:
    return doc.section(block.section_id).path


def norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.casefold())


# -- sections ------------------------------------------------------------------

def test_csc_summary_sits_in_its_bookmarked_section():
    doc = parse(CSC)
    block = block_with(doc, "Children’s social care exists to support children, young people and families")
    assert "National Framework – one page summary" in path_of(doc, block)


def test_csc_key_concepts_section():
    doc = parse(CSC)
    block = block_with(doc, "the term ‘looked-after children’ is unhelpful")
    assert "National Framework: Key Concepts" in path_of(doc, block)
    assert path_of(doc, block)[-1] == "Children in care"


def test_csc_outcomes_list_keeps_its_lead_in():
    doc = parse(CSC)
    block = block_with(doc, "There are 4 outcomes")
    text = doc.text[block.start:block.end]
    assert block.type == "list"
    lines = text.split("\n")
    assert lines[0].endswith("There are 4 outcomes:")
    assert [line[:11] for line in lines[1:]] == [f"• Outcome {n}" for n in range(1, 5)]


def test_kcsie_sections_follow_the_bookmarks():
    doc = parse(KCSIE)
    reader = pypdf.PdfReader(INGEST / KCSIE)

    def count(items):
        return sum(count(i) if isinstance(i, list) else 1 for i in items)

    bookmarks = count(reader.outline)
    assert bookmarks == 273
    assert abs(len(doc.sections) - bookmarks) <= 3  # plus the title page's section
    titles = [s.title for s in doc.sections]
    # Annex B's "Table of contents" bookmark only groups its sections: they
    # hang from the annex itself, so no citation names a contents list.
    assert "Table of contents" not in titles
    assert doc.section(block_with(doc, "Operation Encompass operates in all police forces").section_id).path[:2] == (
        "Annex B: Further information", "Domestic abuse")
    assert "Annex A: Safeguarding information for school and college staff" in titles
    assert titles.count("What school and college staff need to know") == 2  # Part one, again in Annex A
    # Bookmark titles carry Word's footnote anchors ("...(CCE)12F"); sections do not.
    assert "Child criminal exploitation (CCE)" in titles
    assert not [t for t in titles if re.search(r"\d+F$", t)]
    assert doc.sections[1].title == "Contents" and doc.sections[2].title == "Summary"


def test_headings_are_not_repeated_as_paragraphs():
    for name in (CSC, KCSIE):
        doc = parse(name)
        for a, b in zip(doc.blocks, doc.blocks[1:]):
            if a.type == "heading":
                assert norm(doc.text[b.start:b.end]) != norm(doc.text[a.start:a.end])


def test_sections_are_bookmarks_not_contents_lines():
    letters = lambda text: re.sub(r"[^a-z]", "", text.casefold())  # noqa: E731
    for name in (CME, CSC, INFO, KCSIE):
        reader = pypdf.PdfReader(INGEST / name)

        def titles(items):
            for item in items:
                if isinstance(item, list):
                    yield from titles(item)
                else:  # without Word's footnote anchors: "Contractors94F"
                    yield letters(re.sub(r"(\s*\d+F)+\s*$", "", item.title))

        bookmarks = set(titles(reader.outline))
        doc = parse(name)
        first = 1 if doc.sections[0].title == doc.title or doc.sections[0].start == 0 else 0
        for section in doc.sections[first:]:
            assert letters(section.title) in bookmarks, (name, section.title)


def test_contents_lines_are_dropped():
    kcsie = parse(KCSIE).text
    assert "Part two: The management of safeguarding 25" not in kcsie
    assert "County lines 151" not in kcsie  # Annex B's own contents list


def test_sections_from_the_contents_pages_when_there_is_no_outline():
    assert pypdf.PdfReader(INGEST / LAC).outline == []
    doc = parse(LAC)
    by_title = {s.title: s for s in doc.sections}
    assert len(doc.sections) >= 40
    assert by_title["Mental health services"].pages[0] == 21
    assert by_title["Mental health services"].path == (
        "Planning and providing services to promote the health of individual looked-after children",
        "Mental health services",
    )
    assert by_title["Annex C: Principles of confidentiality and consent"].level == 1
    assert by_title["Children aged 16 and 17"].level == 2
    block = block_with(doc, "Most children become looked after as a result of abuse and neglect")
    assert path_of(doc, block)[-1] == "Context"
    assert "Mental health services 21" not in doc.text


def test_headings_the_contents_pages_leave_out_are_read_from_the_heading_font():
    """The contents list two levels; the body prints a third in a smaller
    heading font, which a citation should name."""
    doc = parse(LAC)
    by_title = {s.title: s for s in doc.sections}
    who = by_title["Who should carry out the health assessment?"]
    assert who.path[1:] == ("Health assessments, plans and reviews", "Who should carry out the health assessment?")
    assert who.level == 3 and who.pages[0] == 20
    assert by_title["Care leavers"].path[-2:] == ("Transitions from care", "Care leavers")
    assert by_title["Under-5s"].path[-2] == "Recommended content"
    deep = [s for s in doc.sections if s.level == 3]
    assert 8 <= len(deep) <= 14 and not any(s.title.endswith(".") for s in deep)
    block = block_with(doc, "It is the responsibility of the local authority that looks after a child to arrange")
    assert path_of(doc, block)[-1] == "Who should carry out the health assessment?"


# -- text clean-up ------------------------------------------------------------

def test_glued_footnote_markers_are_removed():
    info = parse(INFO).text
    assert "provide a framework to support information sharing" in info
    assert "engage with the child and/or their carer(s)" in info
    assert "framework1" not in info and "child2and" not in info
    csc = parse(CSC).text
    assert "supports around 400,000 children, and in the last 8 years" in csc
    assert "supported by a social worker. These children" in csc
    kcsie = parse(KCSIE).text
    assert "Schools and colleges must obtain written notification from any agency" in kcsie  # raised "96"
    assert "Radicalisation is the process of a person legitimising support" in kcsie  # "150"


def test_footnote_text_is_dropped():
    assert "Drivers of activity in children’s social care - GOV.UK" not in parse(CSC).text
    assert "Gillick competence and Fraser guidelines" not in parse(INFO).text
    kcsie = parse(KCSIE).text
    assert "Detailed information on statutory assessments can be found" not in kcsie
    assert "Safeguarding Vulnerable Groups Act 2006, amended by Protection of Freedoms Act 2012: Schedule 4" not in kcsie
    # a footnote running on to the next page is dropped there too
    assert "health assessment and plan are disapplied" not in parse(LAC).text


def test_no_page_number_lines():
    for name in ALL:
        doc = parse(name)
        for line in doc.text.split("\n"):
            assert not re.fullmatch(r"\s*\d{1,3}\s*", line), (name, line)


def test_paragraph_running_over_a_page_break_is_one_block():
    doc = parse(KCSIE)
    block = block_with(doc, "17. All staff should be aware that children may not feel ready")
    text = doc.text[block.start:block.end]
    assert "and/or they may not recognise their experiences as harmful" in text
    assert block.pages == (9, 10) == doc.pages_of(block.start, block.end)
    csc = parse(CSC)
    block = block_with(csc, "These individuals will hold important, and sometimes statutory, responsibilities")
    assert block.pages == (10, 11)
    # the page starts inside the block, where its text on page 11 begins
    assert csc.text[csc.page_starts[10]:].startswith("hold important, and sometimes statutory")


def test_pages_of_a_known_passage():
    reader = pypdf.PdfReader(INGEST / INFO)
    doc = parse(INFO)
    passage = "Trusted relationships are at the heart of working with children and families"
    block = block_with(doc, passage)
    first, last = block.pages
    assert first == last == 11
    assert passage in reader.pages[first - 1].extract_text().replace(" \n", " ")
    offset = doc.text.index(passage)
    assert doc.page_of(offset) == 11
    kcsie = parse(KCSIE)
    heading = block_with(kcsie, "What school and college staff should look out for")
    assert heading.type == "heading" and heading.pages == (10, 10)


def test_every_page_starts_once_and_in_order():
    for name in ALL:
        doc = parse(name)
        assert len(doc.page_starts) == len(pypdf.PdfReader(INGEST / name).pages)
        assert list(doc.page_starts) == sorted(doc.page_starts)


def test_paragraphs_are_single_lines_and_lines_join_cleanly():
    for name in ALL:
        doc = parse(name)
        for block in doc.blocks:
            text = doc.text[block.start:block.end]
            assert text == text.strip() and "\0" not in text
            if block.type in ("paragraph", "heading"):
                assert "\n" not in text
    lac = parse(LAC).text
    assert "well-being" in lac and "well- being" not in lac and "looked- after" not in lac
    assert "providers of post-16 Education" in parse(KCSIE).text
    assert "’" in parse(CSC).text  # curly quotes kept


def split_words(text: str, vocab) -> set[str]:
    """Pairs "adv ice" whose join is a word of the corpus while one half is not
    (or is rare): words pypdf split where the print has no space."""
    found = set()
    tokens = list(re.finditer(r"[A-Za-z]+", text))
    for a, b in zip(tokens, tokens[1:]):
        if text[a.end():b.start()] == " ":
            left, right = a.group().lower(), b.group().lower()
            if len(left + right) > 3 and vocab[left + right] and min(vocab[left], vocab[right]) <= 2:
                found.add(f"{a.group()} {b.group()}")
    return found


def test_words_are_spaced_as_printed():
    texts = {name: parse(name).text for name in ALL}
    vocab = collections.Counter(w.lower() for t in texts.values() for w in re.findall(r"[A-Za-z]+", t))
    found = set().union(*(split_words(t, vocab) for t in texts.values()))
    # 17 before the reader measured the gaps ("St able", "adv ice", "I nformal", "A c hild"…);
    # these three are real pairs of words
    assert found == {"flow chart", "in sight", "a waiting"}
    csc = texts[CSC]
    assert "set out in Stable Homes, Built on Love" in csc and "This advice sets out" in csc
    assert "a) Informal kinship care" in csc and "multi-agency expectations" in csc
    kcsie = texts[KCSIE]
    assert "204. A child or young person being lesbian" in kcsie and "Governing bodies and" in kcsie
    assert "guidance makes clear" in texts[CME] and "practitioner’s guidance" in texts[CME]
    # genuine spaces stay, and a space missing in the print stays missing
    assert "attendance at the other school" in texts[CME] and "maintain a reasonable standard" in csc
    assert "subject to a section128 direction" in kcsie


def test_tables_are_one_block_with_a_row_a_line():
    kcsie = parse(KCSIE)
    block = block_with(kcsie, "Para 128 - We have added a note")
    assert block.type == "table" and block.kind == "table"
    rows = kcsie.text[block.start:block.end].split("\n")
    assert rows[0] == "Summary | About the guidance (no changes made)"
    assert "Page 38 | Para 135 - Updated to clarify misinformation, disinformation and conspiracy theories" \
        " are safeguarding harms." in rows
    assert "Annex B - Page 157 | Header removed" in rows  # cells printed a little apart, on page 186
    assert "Part five | Child-on-child sexual violence and sexual harassment" in rows
    assert [row for row in rows if row.startswith("Page 140 | Para 545 - Link added")]  # "Page 140" centred
    assert block.pages == (184, 186)  # one table over three pages
    info = parse(INFO)
    block = block_with(info, "Consent | Consent is one of the lawful bases for processing personal information")
    text = info.text[block.start:block.end]
    assert block.type == "table" and "\nPractitioner | An individual working with children" in text
    assert "\nData Protection Impact Assessment (DPIA) | A DPIA is a risk assessment" in text  # the term wraps
    # 2 tables before were glued into paragraphs ("Summary About the guidance (no changes made)")
    assert [sum(b.type == "table" for b in parse(name).blocks) for name in ALL] == [0, 0, 1, 1, 0]
    assert "Summary About the guidance" not in kcsie.text


def test_list_items_keep_their_bullets():
    doc = parse(CME)
    block = block_with(doc, "record the pupil’s attendance and absence up to and including 28 March")
    assert block.type == "list"
    text = doc.text[block.start:block.end]
    assert text.startswith("School A will:\n• record the pupil’s attendance")
    kcsie = parse(KCSIE)
    block = block_with(kcsie, "reflects the whole school/college approach to child-on-child abuse")
    assert "\n  • reflects the whole school/college approach" in kcsie.text[block.start:block.end]  # was "o"


def test_back_cover_boilerplate_is_dropped():
    for name in ALL:
        doc = parse(name)
        for chrome in ("© Crown copyright", "Open Government Licence", "Follow us on", "Reference: DFE-",
                       "About this publication:", "facebook.com/educationgov"):
            assert chrome not in doc.text, (name, chrome)
    # the guidance just before the back cover is kept
    assert parse(CSC).text.endswith("may have different support needs as they transition to adulthood.")
    assert parse(LAC).text.endswith("• Working Together to Safeguard Children")


def test_items_without_bullets_stay_with_their_lead_in():
    kcsie = parse(KCSIE)
    block = block_with(kcsie, "can be categorised into four areas of risk:")
    lines = kcsie.text[block.start:block.end].split("\n")
    assert block.type == "list" and block.pages == (38, 39)
    assert [line.split(":")[0] for line in lines[1:]] == ["content", "contact", "conduct", "commerce"]
    assert lines[2].startswith("contact: being subjected to harmful online interaction")
    block = block_with(kcsie, "has two sections covering the two levels of concerns and allegations:")
    assert kcsie.text[block.start:block.end].split("\n")[1] == "1. Concerns / allegations that may meet the harm threshold."


def test_nested_bullets_are_indented():
    kcsie = parse(KCSIE)
    block = block_with(kcsie, "an effective child protection policy which:")
    text = kcsie.text[block.start:block.end]
    assert "\n• an effective child protection policy which:\n  • reflects the whole school/college approach" in text
    assert "\n  • describes procedures which are in accordance with government guidance\n" in text
    cme = parse(CME)
    block = block_with(cme, "they have not succeeded, or")
    assert "\n  • they have not succeeded, or\n  • they have succeeded but" in cme.text[block.start:block.end]


def test_title_from_the_metadata():
    assert read_pdf(INGEST / CME).title == "Children Missing Education - Guidance for Local authorities"


def test_parsing_time_stays_reasonable():
    for name in ALL:
        parse(name)
    total = sum(seconds for _, seconds in _cache.values())
    assert total < 60, f"{total:.1f}s for all five PDFs"


# -- errors ---------------------------------------------------------------------

@pytest.fixture()
def source() -> Path:
    path = INGEST / INFO
    if not path.exists():
        pytest.skip(f"{INFO} not in ingest/")
    return path


def reason(path: Path) -> str:
    with pytest.raises(SourceError) as caught:
        read_pdf(path)
    assert caught.value.path == str(path)
    return caught.value.reason


def test_truncated_pdf(tmp_path, source):
    path = tmp_path / "truncated.pdf"
    path.write_bytes(source.read_bytes()[:40_000])
    assert reason(path).startswith("not a readable PDF")


def test_random_bytes(tmp_path):
    path = tmp_path / "random.pdf"
    path.write_bytes(os.urandom(5000))
    assert reason(path).startswith("not a readable PDF")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    assert reason(path).startswith("not a readable PDF")


def test_encrypted_pdf(tmp_path, source):
    writer = pypdf.PdfWriter(clone_from=source)
    writer.encrypt("secret")
    path = tmp_path / "encrypted.pdf"
    writer.write(path)
    assert reason(path) == "encrypted PDF"


def test_encrypted_with_empty_user_password_is_read(tmp_path, source):
    writer = pypdf.PdfWriter(clone_from=source)
    writer.encrypt(user_password="", owner_password="owner")
    path = tmp_path / "restricted.pdf"
    writer.write(path)
    doc = read_pdf(path).build(id="x", title="t", path=path.name, sha256="0", format="pdf")
    assert "provide a framework to support information sharing" in doc.text


def test_a_damaged_page_is_skipped_and_the_rest_read(tmp_path, source, caplog):
    writer = pypdf.PdfWriter(clone_from=source)
    stream = pypdf.generic.DecodedStreamObject()
    stream.set_data(b"BT /TT0 1 Tf 12 0 0 12 50 700 Tm (unterminated Tj ET <<")  # pypdf raises on it
    writer.pages[10][pypdf.generic.NameObject("/Contents")] = writer._add_object(stream)
    path = tmp_path / "damaged.pdf"
    writer.write(path)
    with caplog.at_level("WARNING", logger="briefing_qa.sources.pdf"):
        doc = read_pdf(path).build(id="x", title="t", path=path.name, sha256="0", format="pdf")
    assert "skipped unreadable page(s) 11" in caplog.text
    assert "Trusted relationships are at the heart" not in doc.text  # page 11's text
    assert "provide a framework to support information sharing" in doc.text
    assert len(doc.page_starts) == len(writer.pages)  # later pages keep their numbers
    assert doc.page_of(doc.text.index("Consent | Consent is one of the lawful bases")) == 23


def test_pdf_without_text(tmp_path):
    writer = pypdf.PdfWriter()
    writer.add_blank_page(595, 842)
    path = tmp_path / "scanned.pdf"
    writer.write(path)
    assert reason(path) == "no extractable text (scanned?)"


def test_sections_from_font_size_without_outline_or_contents(tmp_path, source):
    reader = pypdf.PdfReader(source)
    writer = pypdf.PdfWriter()
    for page in reader.pages[3:10]:  # after the contents pages, without the outline
        writer.add_page(page)
    path = tmp_path / "plain.pdf"
    writer.write(path)
    builder = read_pdf(path)
    assert builder.title == "The Seven golden rules for sharing information (including personal information):"
    doc = builder.build(id="x", title="t", path=path.name, sha256="0", format="pdf")
    paths = [s.path for s in doc.sections]
    assert ("Introduction", "About this advice") in paths
    assert ("Introduction", "Understanding “safeguarding”") in paths
