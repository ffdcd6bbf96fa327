"""The abstention model (abstention.py): plain JSON, read only for the
encoder it was fitted on, monotone in its signals, and standing down when
the first passages hold every word of the question. And short forms typed
in lower case (vocabulary.py), which it leans on for keyword queries."""

import json

import pytest

from briefing_qa.abstention import DATA, NAMES, Abstention, Signals
from briefing_qa.vocabulary import Vocabulary

MODEL = "all-MiniLM-L6-v2+adapted"


def model(**kw) -> Abstention:
    d = dict(model="m", mean=(0.5, 1.0), scale=(0.1, 1.0), weights=(-2.0, -1.0), intercept=0.0, threshold=1.0,
             fitted_on={})
    return Abstention(**{**d, **kw})


def signals(sentence: float, share: float, covered: bool = False) -> Signals:
    return Signals(best_cosine=sentence, best_sentence=sentence, bm25=share * 10, weight=10.0, covered=covered)


def test_bm25_share_is_the_best_score_over_the_question_weight():
    assert signals(0.5, 1.5).bm25_share == pytest.approx(1.5)
    assert Signals(0.5, 0.5, 12.0, 0.0).bm25_share == 0.0  # a question of stop words only


def test_weak_sentences_and_words_abstain_unless_every_word_is_found():
    m = model()
    assert m.abstains(signals(0.30, 0.5))  # far from the question on both counts
    assert not m.abstains(signals(0.60, 2.0))
    assert not m.abstains(signals(0.30, 0.5, covered=True))  # a keyword the documents use
    assert m.score(signals(0.30, 1.0)) > m.score(signals(0.40, 1.0)) > m.score(signals(0.40, 2.0))


def test_written_and_read_back_as_plain_json(tmp_path):
    path = tmp_path / "abstention.json"
    m = model(fitted_on={"date": "2026-12-03"})
    m.write(path)
    d = json.loads(path.read_text(encoding="utf-8"))
    assert d["names"] == list(NAMES) and d["version"] == 1
    assert Abstention.load("m", path) == m


def test_not_read_for_another_encoder_other_signals_or_no_file(tmp_path):
    path = tmp_path / "abstention.json"
    model().write(path)
    assert Abstention.load("all-MiniLM-L6-v2", path) is None  # cosines move with the model
    d = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**d, "names": ["best_cosine"]}), encoding="utf-8")
    assert Abstention.load("m", path) is None
    assert Abstention.load("m", tmp_path / "missing.json") is None


def test_the_shipped_model_abstains_on_weaker_rankings():
    m = Abstention.load(MODEL, DATA)
    assert m is not None, "data/abstention.json: refit with bench/train_abstention.py --write"
    assert all(w < 0 for w in m.weights)  # lower cosines and less of the question's weight: more likely out of scope
    fit = m.fitted_on["fit"]
    assert fit["wrongly_abstained"][1] <= fit["answerable"] / 50 + 1
    assert fit["out_of_scope_abstained"][1] > fit["out_of_scope_abstained"][0]


TEXTS = ["The designated safeguarding lead (DSL) keeps records. Ask the DSL.",
         "Special educational needs and disabilities (SEND) support. Staff send the form to the DSL."]


def test_a_short_form_typed_in_lower_case_is_still_expanded():
    v = Vocabulary.build(TEXTS, TEXTS)
    assert v.abbreviations["DSL"] == "designated safeguarding lead"
    assert "designated safeguarding lead" in v.abbreviation_expansions("dsl training how often")
    assert "designated safeguarding lead" in v.abbreviation_expansions("DSL training")
    # "send" is also a word the documents write in lower case: not read as SEND.
    assert "special educational needs and disabilities" not in v.abbreviation_expansions("who do i send it to")
    assert "special educational needs and disabilities" in v.abbreviation_expansions("SEND support")


def test_the_cosine_floor_stands_down_only_for_a_keyword_the_passages_hold():
    """"dsl" alone fell under the floor with the 2026-12-04 night encoder; a
    longer question whose words all happen to stand in the documents still
    meets it."""
    from types import SimpleNamespace

    from briefing_qa.retrieval import Retriever

    r = SimpleNamespace(abstain_cosine=0.25, abstention=None)
    far = dict(best_cosine=0.24, best_sentence=0.37, bm25=18.0, weight=6.0)
    assert not Retriever.abstains(r, Signals(**far, covered=True, words=1))
    assert Retriever.abstains(r, Signals(**far, covered=False, words=1))
    assert Retriever.abstains(r, Signals(**far, covered=True, words=3))
    assert not Retriever.abstains(r, Signals(**{**far, "best_cosine": 0.4}, covered=True, words=3))
