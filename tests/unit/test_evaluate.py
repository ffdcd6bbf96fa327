"""The eval metrics and matching rule (../shared/eval/README.md), on a
scripted retriever: no model, no index."""

import json
from dataclasses import dataclass

import pytest

from briefing_qa.analysis import fold_quote
from briefing_qa.errors import InvalidRequest
from briefing_qa.evaluate import accept_span, evaluate, highlight_hits, load_questions, quote_hits, section_hits


@dataclass
class Cit:
    section_path: tuple
    document_id: str = "doc"


@dataclass
class P:
    rank: int
    quote: str
    citation: Cit
    highlights: tuple = ()


@dataclass
class R:
    abstained: bool
    passages: list
    best_cosine: float = 0.5


class Scripted:
    """Answers each question with the passages given for it."""

    def __init__(self, answers):
        self.answers = answers

    def ask(self, question, top_k=5, context=()):
        abstained, quotes = self.answers[question]
        return R(abstained, [P(i + 1, q, Cit(s)) for i, (q, s) in enumerate(quotes[:top_k])])


def write(tmp_path, rows):
    f = tmp_path / "q.jsonl"
    f.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return f


def test_matching_folds_white_space_and_quote_marks_not_case():
    assert fold_quote("a \n\n b\u00a0c") == "a b c"
    assert quote_hits("the child\u2019s view", ["the child's view"])
    assert quote_hits("Neglect  was a\nfeature in three-quarters", ["was a feature"])
    assert not quote_hits("Neglect was a feature", ["was A feature"])  # case is not folded
    assert not quote_hits("anything", [])
    assert section_hits(("Neglect", "Learning  points"), "learning points")
    assert not section_hits(("Neglect",), None)


def test_metrics(tmp_path):
    rows = [
        {"id": "a", "question": "qa", "accept": ["alpha"], "section": "S1", "kind": "fact"},
        {"id": "b", "question": "qb", "accept": ["beta", "bravo"], "section": "S2", "kind": "fact"},
        {"id": "c", "question": "qc", "accept": ["gamma"], "section": "S3", "kind": "fact"},
        {"id": "d", "question": "qd", "accept": ["delta"], "section": "S4", "kind": "fact"},
        {"id": "o", "question": "qo", "accept": [], "section": None, "kind": "out_of_scope"},
        {"id": "o2", "question": "qo2", "accept": [], "section": None, "kind": "out_of_scope"},
    ]
    answers = {
        "qa": (False, [("the alpha text", ("S1",))]),  # hit at 1, right section
        "qb": (False, [("x", ("S2",)), ("bravo", ("Other",))]),  # hit at 2, wrong section
        "qc": (True, [("x", ())] * 6 + [("gamma", ("S3",))]),  # hit at 7 (only in the top 10), abstained
        "qd": (False, [("x", ())]),  # missed
        "qo": (True, [("x", ())]),
        "qo2": (False, [("x", ())]),
    }
    rep = evaluate(Scripted(answers), load_questions(write(tmp_path, rows)))
    assert (rep.n_answerable, rep.n_out_of_scope) == (4, 2)
    assert rep.hit_at_1 == 0.25 and rep.hit_at_5 == 0.5
    assert rep.mrr_at_10 == pytest.approx((1 + 0.5 + 1 / 7) / 4)
    assert rep.section_accuracy == 0.25
    assert rep.oos_abstained == 1 and rep.oos_answered == ["o2"]
    assert rep.wrongly_abstained == 1 and rep.abstained_answerable == ["c"]
    assert rep.missed_at_5 == ["c", "d"] and rep.wrong_section == ["b", "c", "d"]
    assert "hit@5=0.500" in rep.summary()
    assert json.loads(json.dumps(rep.to_json()))["hit_at_1"] == 0.25


def test_highlights_mark_the_answer_when_they_cover_half_of_it():
    quote = "Lead in.  The child\u2019s   view matters. Tail."
    s, e = accept_span(quote, ["nothing", "The child's view matters"])
    assert quote[s:e] == "The child\u2019s   view matters"  # offsets in the unfolded quote
    assert accept_span(quote, ["absent"]) is None
    assert highlight_hits(quote, [(s, e)], ["The child's view matters"])
    assert highlight_hits(quote, [(0, s + (e - s) // 2 + 1)], ["The child's view matters"])
    assert not highlight_hits(quote, [(0, s + 3)], ["The child's view matters"])  # a sliver is not the answer
    assert not highlight_hits(quote, [], ["The child's view matters"])


def test_highlight_rate_counts_first_hits_in_the_top_five(tmp_path):
    rows = [{"id": i, "question": i, "accept": ["answer here"], "section": "S", "kind": "fact"} for i in "abc"]
    text = "Other words. The answer here."
    at = text.index("The")

    class Marked(Scripted):
        def ask(self, question, top_k=5, context=()):
            marks = {"a": ((at, len(text)),), "b": ((0, 12),), "c": ()}[question]
            return R(False, [P(1, text, Cit(("S",)), marks)])

    rep = evaluate(Marked({}), load_questions(write(tmp_path, rows)))
    assert rep.highlight_rate == pytest.approx(1 / 3)
    assert rep.highlight_share == pytest.approx(((len(text) - at) + 12) / len(text) / 3, abs=1e-3)
    assert [r.highlighted for r in rep.results] == [True, False, False]


def test_bad_files_are_refused(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n')
    with pytest.raises(InvalidRequest, match="bad.jsonl:1"):
        load_questions(bad)
    with pytest.raises(InvalidRequest):
        load_questions(tmp_path / "missing.jsonl")
