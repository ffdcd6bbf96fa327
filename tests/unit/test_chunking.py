from pathlib import Path

import pytest

from briefing_qa.chunking import chunk_document, count_tokens
from briefing_qa.sources import read_document
from briefing_qa.structure import sentence_spans

ROOT = Path(__file__).resolve().parents[2]
BRIEFING = ROOT / "ingest" / "triennial-analysis-briefing-local-safeguarding-partnerships.txt"


@pytest.fixture(scope="module")
def doc():
    return read_document(BRIEFING)


@pytest.fixture(scope="module")
def chunks(doc):
    return chunk_document(doc, budget=200)


def test_chunks_are_exact_slices_within_one_section(doc, chunks):
    sections = {s.id: s for s in doc.sections}
    for c in chunks:
        assert c.text == doc.text[c.start : c.end]
        sec = sections[c.section_id]
        assert sec.start <= c.start and c.end <= sec.end, c.section_path


def test_budget_holds_with_context(chunks):
    assert chunks
    for c in chunks:
        assert count_tokens(c.context) <= 200, (count_tokens(c.context), c.context[:80])


def test_context_names_document_and_section(doc, chunks):
    c = next(c for c in chunks if "Poverty leads to additional complexity" in c.text)
    assert c.context.startswith(f"{doc.title} › Neglect › Impact of poverty: ")


def test_chunks_hold_whole_blocks_or_whole_sentences(doc, chunks):
    starts = {b.start for b in doc.blocks}
    for c in chunks:
        if c.start not in starts:  # a later piece of a split block starts at a sentence or an item
            prev = doc.text[: c.start].rstrip()
            assert prev[-1] in ".?!:”’)\n" or doc.text[c.start - 1] == "\n" or doc.text[c.start] == "•", doc.text[c.start - 30 : c.start + 30]


def test_list_keeps_lead_in_and_table_keeps_caption(chunks):
    c = next(c for c in chunks if "• Poor dental hygiene" in c.text)
    assert "typically include:" in c.text
    t = next(c for c in chunks if "Mental health problems 153 (55%)" in c.text)
    assert "Table 1: Parental characteristics" in t.text or "Table 1: Parental characteristics" in t.context
    assert t.kind == "table"


def test_small_budget_splits_at_sentences(doc):
    small = chunk_document(doc, budget=80)
    assert len(small) > len(chunk_document(doc, budget=200))
    for c in small:
        assert c.text == doc.text[c.start : c.end]
        if count_tokens(c.context) > 80:  # only a single sentence may overrun: it cannot be split
            assert len(sentence_spans(c.text)) == 1, c.text


def test_ids_are_stable(doc, chunks):
    again = chunk_document(doc, budget=200)
    assert [c.id for c in again] == [c.id for c in chunks]
