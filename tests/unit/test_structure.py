from briefing_qa.structure import DocumentBuilder, clean_inline, kind_of_heading, sentence_spans


def test_clean_inline_joins_lines_and_keeps_real_characters():
    assert clean_inline("a line\n  broken   here") == "a line broken here"
    # Curly quotes, en dashes and non-breaking spaces are real text.
    assert clean_inline("‘the report’ – 2019\u00a0x") == "‘the report’ – 2019\u00a0x"


def test_sentence_spans_split_at_sentence_ends_not_abbreviations():
    text = "First one. Second, e.g. this one? Third! 4. Fourth"
    spans = [text[s:e] for s, e in sentence_spans(text)]
    assert spans == ["First one.", "Second, e.g. this one?", "Third!", "4. Fourth"]


def test_kinds_from_headings():
    assert kind_of_heading("Key message") == "key_message"
    assert kind_of_heading("Learning points") == "learning_points"
    assert kind_of_heading("Reflective questions") == "reflective_questions"
    assert kind_of_heading("Example: escalation") == "example"
    assert kind_of_heading("Impact of poverty") is None


def test_builder_offsets_are_exact_slices_and_sections_nest():
    b = DocumentBuilder()
    b.heading("Neglect", 1, "lscb_neglect")
    b.add("paragraph", "Intro text.")
    b.heading("Impact of poverty", 2)
    b.add("paragraph", "Poverty matters.")
    b.heading("Key message", 3)
    b.add("paragraph", "Safe is not tidy.")
    b.heading("Other", 1)
    b.add("list", "Lead:\n• one\n• two")
    doc = b.build(id="d", title="T", path="d.txt", sha256="0")
    for blk in doc.blocks:
        assert doc.text[blk.start : blk.end].strip() == doc.text[blk.start : blk.end]
    paths = {doc.text[b.start : b.end]: doc.section(b.section_id).path for b in doc.blocks}
    assert paths["Poverty matters."] == ("Neglect", "Impact of poverty")
    assert paths["Safe is not tidy."] == ("Neglect", "Impact of poverty", "Key message")
    kinds = {doc.text[b.start : b.end]: b.kind for b in doc.blocks}
    assert kinds["Safe is not tidy."] == "key_message"
    assert kinds["Poverty matters."] == "text"
    # The anchor of a top-level section is inherited by its sub-sections.
    assert doc.sections[1].anchor == "lscb_neglect"


def test_pages_follow_page_starts():
    b = DocumentBuilder()
    b.start_page(1)
    b.add("paragraph", "On page one.")
    b.start_page(2)
    b.add("paragraph", "On page two.")
    doc = b.build(id="d", title="T", path="d.pdf", sha256="0")
    assert [blk.pages for blk in doc.blocks] == [(1, 1), (2, 2)]
