"""Follow-up detection in query.analyse: which questions lean on the
earlier one (and borrow its words) and which stand alone. No model."""

import numpy as np
import pytest

from briefing_qa import analysis
from briefing_qa.query import analyse, asks_for, holds, refers_back

EARLIER = "What are the signs of neglect in teenagers?"


@pytest.mark.parametrize("text", [
    "what about babies?", "and at school?", "Or in colleges", "who do I tell?",  # cue first, or few meaningful words
    "is it the first one of these they've done?",  # pointer words
    "what does effective protection actually need then?",  # a cue last
    "does that apply to foster carers too?", "should the school report it instead",
])
def test_questions_that_lean_on_the_earlier_one(text):
    assert refers_back(text)
    q = analyse(text, context=[EARLIER])
    assert q.context == (EARLIER,)
    assert "neglect" in q.expansions  # the earlier question's words reach BM25


@pytest.mark.parametrize("text", [
    "What must schools do when a child goes missing from education repeatedly?",
    "How often should a looked after child's health plan be reviewed?",
    "When does the local authority have to notify the health commissioner of a placement?",
])
def test_questions_that_stand_alone_ignore_the_context(text):
    assert not refers_back(text)
    alone, with_context = analyse(text), analyse(text, context=[EARLIER])
    assert with_context.context == () and with_context.expansions == alone.expansions


def test_a_follow_up_vector_takes_the_earlier_meaning():
    vecs = {"and at school?": np.array([1.0, 0.0]), EARLIER: np.array([0.0, 1.0])}
    q = analyse("and at school?", embed=lambda texts: [vecs[t] for t in texts], context=["", EARLIER])
    assert np.allclose(q.vector, np.array([1.0, 1.0]) / np.sqrt(2))
    assert analyse("and at school?", embed=lambda texts: [vecs[t] for t in texts]).context == ()


def test_a_short_question_is_embedded_with_its_short_forms_spelled_out():
    from briefing_qa.vocabulary import Vocabulary

    texts = ["The designated safeguarding lead (DSL) keeps records. Ask the designated safeguarding lead.",
             "Children missing education (CME) is a local authority duty for children missing education.",
             "Tell the local authority designated officer (LADO). The LADO decides; the LADO records it."]
    v = Vocabulary.build(texts, texts)
    read: list[str] = []

    def embed(batch):
        read.extend(batch)
        return [np.ones(4, dtype="float32") for _ in batch]

    q = analyse("dsl", v, embed)
    assert read == ["designated safeguarding lead", "dsl"]  # the vector is the mean of both readings
    assert q.lexical_terms[0] == "dsl" and "design" in q.expansions  # BM25 reads both forms
    read.clear()
    analyse("CMEs definition", v, embed)
    assert read == ["children missing education definition", "CMEs definition"]
    # A short form the documents mostly use as it is stays as typed: the
    # passages about it say "LADO".
    read.clear()
    analyse("lado", v, embed)
    assert read == ["lado"]
    # A longer question keeps its own words for the encoder.
    read.clear()
    analyse("how often does the DSL need to redo the training", v, embed)
    assert read == ["how often does the DSL need to redo the training"]


@pytest.mark.parametrize("text, kind", [
    ("how much is the weekly fostering allowance?", "an amount of money"),
    ("newly qualified social worker starting salary", "an amount of money"),
    ("what does an enhanced dbs check cost", "an amount of money"),
    ("court fee for a care order", "an amount of money"),
    ("is £20 pocket money ok", "an amount of money"),
    ("LADO phone number for kent?", "a phone number"),
    ("what number do I ring for the out of hours team", "a phone number"),
    ("nspcc helpline number", "a phone number"),
    # Not a value asked for: a count, a score, "in charge", "fine" as "all right", a phone policy.
    ("how many emergency contact numbers should the school hold", None),
    ("SDQ score - what number means we should worry", None),
    ("who is in charge of the single central record", None),
    ("is it fine for me to share without consent", None),
    ("mobile phone policy school", None),
    ("how much should I tell the parents", None),
    # Another nation of the UK: the documents are England's guidance.
    ("what is the age of criminal responsibility in Scotland", "what applies in Scotland"),
    ("all wales child protection procedures strategy discussion", "what applies in Wales"),
    ("how many social workers are employed in Wales", "what applies in Wales"),  # a count, still of Wales
    ("Northern Ireland safeguarding board", "what applies in Northern Ireland"),
    ("northern ireland safeguarding board referral number", "a phone number"),  # a value asked for comes first
    ("a pupil has just moved here from Ireland", None),
])
def test_the_kind_of_value_a_question_asks_for(text, kind):
    assert asks_for(text) == kind
    assert analyse(text).asks_for == kind


def test_values_of_each_kind_in_text():
    assert holds("a phone number", "The NSPCC provides a helpline for professionals at 0808 800 5000 and help@")
    assert holds("a phone number", "Staff can call 0800 0280285 - 08:00 to 20:00")
    assert holds("a phone number", "In an emergency, call 999.")
    assert not holds("a phone number", "more than one emergency contact number for each pupil")
    assert not holds("a phone number", "In 2019, 47 deaths (72 per cent) were maltreatment related.")
    assert holds("an amount of money", "The allowance is £152.94 a week.")
    assert holds("an amount of money", "a fee of 40 pounds")
    assert not holds("an amount of money", "the proportionality of costs versus safeguarding risks")
    duty = "Teachers, along with regulated professionals in England and Wales, must report to the police where they discover FGM."
    assert holds("what applies in Wales", duty, frozenset(analysis.terms("FGM")))
    assert not holds("what applies in Wales", duty + " " + "x " * 200 + "Forced marriage is a crime.",
                     frozenset(analysis.terms("forced marriage")))
    assert not holds("what applies in Scotland", duty)
