"""The one text analysis (analysis.py) and the query built from it: the
shared vectors, one stem for a word's forms everywhere, and user text that is
never syntax, on a lexical index of the real briefing (fake embedder)."""

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from briefing_qa import analysis
from briefing_qa.query import analyse

ROOT = Path(__file__).resolve().parents[2]
VECTORS = json.loads((ROOT / "tests" / "data" / "analysis_vectors.json").read_text(encoding="utf-8"))
BRIEFING = "triennial-analysis-briefing-local-safeguarding-partnerships.txt"


@pytest.mark.parametrize("case", VECTORS["fold"], ids=lambda c: c["text"][:24])
def test_shared_vectors(case):
    assert analysis.fold(case["text"]) == case["fold"]
    assert analysis.words(case["text"]) == case["words"]
    assert analysis.terms(case["text"]) == case["terms"]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(list(analysis.FOLD_MAP)), max_size=60))
def test_fast_fold_is_the_offset_fold(text):
    assert analysis.fold_quote(text) == analysis.fold_with_map(text)[0].strip()


def test_shared_stems():
    for case in VECTORS["stem"]:
        assert analysis.stem(case["word"]) == case["stem"], case


def test_a_word_is_the_same_word_in_every_form():
    assert len({analysis.stem(w) for w in ["family", "families", "Families", "FAMILIES", "families'"]}) == 1
    assert analysis.stem("neglected") == analysis.stem("neglect") == analysis.stem("Neglect")
    assert analysis.stem("child's") == analysis.stem("child’s") == analysis.stem("child")


def test_a_contraction_typed_without_its_apostrophe_is_read_as_spelled():
    for typed, spelled in [("mum wont let me share", "mum won't let me share"), ("im not sure", "I'm not sure"),
                           ("Dont know who to tell", "Don't know who to tell"), ("thats abuse isnt it", "that's abuse isn't it"),
                           ("IM WORRIED", "I'M WORRIED"),
                           ("theyve told the school, shouldve I", "they've told the school, should've I")]:
        assert analysis.apostrophes(typed) == spelled, typed
    # English words as they stand are left alone.
    assert analysis.apostrophes("its policy lets pupils leave; were they ill") == "its policy lets pupils leave; were they ill"
    assert analyse("mum wont let me share").normal == "mum won't let me share"


def test_word_spans_are_offsets_in_the_raw_text():
    text = "The child’s \u201cvoice\u201d \u2013 soft\u00adhyphen"
    for s, e, w in analysis.word_spans(text):
        assert analysis.fold(text[s:e]) == w.lower()
    assert [w for _, _, w in analysis.word_spans(text)] == analysis.words(text)


def test_shouting_is_the_same_question():
    a, b = analyse("WHAT SHOULD I DO IF A CHILD IS IN DANGER"), analyse("what should I do if a child is in danger")
    assert (a.normal.lower(), a.terms, a.stems) == (b.normal.lower(), b.terms, b.stems)
    assert analyse("What is CSE?").normal == "What is CSE?"  # mixed case is left alone


def test_quoted_phrases_are_analysed_and_kept_as_typed():
    q = analyse('signs of "Neglected Children" and \u201cpoverty\u201d')
    assert q.phrases == (("neglect", "children"), ("poverti",))
    assert q.phrase_texts == ("Neglected Children", "poverty")


@pytest.fixture()
def retriever(briefing_retriever):
    return briefing_retriever


HOSTILE = ["neglect AND", "OR neglect", "NOT neglect", "AND", "OR", "NOT", "IN", "TO", "text:neglect", "a:b",
           "[a TO b]", "{a TO b}", "neglect^2", "neglect~2", '"unbalanced', "(((", ")))", "+-!&&||", "\\", "*", "?",
           "neglect:", ":", "'", "''", "IN [", "idx:1", "document_id:x", "\u200f\u202e", "\x00\x01", "\U0001F600",
           "a" * 2000, "WHAT SHOULD I DO IF A CHILD IS IN DANGER"]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_no_user_text_is_query_syntax(retriever, text):
    res = retriever.ask(text, top_k=3)
    assert isinstance(res.passages, list)
    total, results = retriever.search(text, limit=3)
    assert total >= 0 and len(results) <= 3


def test_operators_are_words_not_syntax(retriever):
    # "AND" as an operator would demand both sides; as a word it is one more term.
    with_and = retriever.rank("neglect AND poverty")
    plain = retriever.rank("neglect and poverty")
    assert with_and == plain
    assert retriever.rank("NEGLECT AND POVERTY") == plain


def test_the_index_query_and_highlights_share_stems(retriever):
    # The briefing says "families"; the question says "Family".
    total, results = retriever.search("Family", limit=50)
    assert total > 0
    want = analysis.stem("family")
    for p in results:  # a hit may also come from its section title: then nothing in the quote is marked
        marked = [(s, e) for s, e in p.highlights]
        assert all(analysis.stem(p.quote[s:e]) == want for s, e in marked)
        assert len(marked) == sum(analysis.stem(w) == want for _, _, w in analysis.word_spans(p.quote))
    assert any("families" in p.quote for p in results) and any("family" in p.quote.lower().split() for p in results)
