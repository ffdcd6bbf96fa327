"""Which neighbours a marked sentence brings with it, and which sentence
defines what a question asks about (pure functions of highlight.py; the
real model's highlights are tested in tests/integration/test_quality.py)."""

import pytest

from briefing_qa import analysis
from briefing_qa.highlight import LIST_ITEMS, _defining, _in_context, leans_back
from briefing_qa.query import asks_what_it_is
from briefing_qa.structure import sentence_spans


def _sentences(text):
    return [(s, e, frozenset(analysis.terms(text[s:e])), 1.0) for s, e in sentence_spans(text)]


def _marked(text, picked):
    spans = sentence_spans(text)
    got = _in_context([spans[k] for k in picked], text, _sentences(text))
    return [spans.index(sp) for sp in got]


TEXT = ("Staff should not assume a colleague will act. They should share information early. "
        "Operation Encompass operates in all police forces. It helps police and schools work together. "
        "It is important that schools act. Early help is a duty.")


@pytest.mark.parametrize("picked, marked", [
    ([1], [0, 1]),  # "They should …" brings the sentence it points to
    ([2], [2, 3]),  # a sentence after a marked one, pointing back to it ("It helps …")
    ([3], [2, 3]),
    ([4], [4]),  # "It is important that …" points nowhere
    ([5], [5]),
    ([0], [0, 1]),
])
def test_a_marked_sentence_comes_with_those_it_cannot_be_read_without(picked, marked):
    assert _marked(TEXT, picked) == marked


LIST = "Staff should look for:\n• bruises\n• hunger\n• missing school\n• fear of going home\nThey should act."


@pytest.mark.parametrize("picked, marked", [
    ([2, 3], [1, 2, 3, 4]),  # two items of a short list marked: the list is the answer
    ([2], [2]),  # one item alone
    ([0], [0, 1]),  # a lead-in brings its first item only
    ([0, 5], [0, 1, 2, 3, 4, 5]),  # its first item and the one "They …" points back to: two, so the list
])
def test_two_marked_items_of_a_short_list_mark_the_whole_list(picked, marked):
    assert _marked(LIST, picked) == marked


def test_a_long_list_is_not_marked_whole():
    text = "\n".join(f"• item number {k}" for k in range(LIST_ITEMS + 1))
    assert _marked(text, [1, 2]) == [1, 2]


def test_a_lead_in_ending_with_a_colon_brings_what_it_introduces():
    text = "This briefing should help partnerships to:\n• reflect on their practice\n• plan training"
    assert _marked(text, [0]) == [0, 1]


@pytest.mark.parametrize("sentence, leans", [
    ("They should be mindful", True), ("It helps police", True), ("These children were", True),
    ("Their parents", True), ("It is important that", False), ("It is not", False),
    ("Items such as", False), ("Theirs", False), ("The police", False), ("This", True),
])
def test_which_sentences_point_back(sentence, leans):
    assert leans_back(sentence) is leans


def _weight(stem):
    return 1.0


@pytest.mark.parametrize("text, question, defining", [
    ("Contextual Safeguarding is an approach developed by Dr Firmin. "
     "Complex Safeguarding is a term for many issues.", "contextual safeguarding", 0),
    ("There are times to use force. The term ‘reasonable force’ covers the range of actions. "
     "‘Reasonable’ means no more force than needed.", "what counts as reasonable force", 1),
    ("Children may go missing. They are at risk.", "what is a missing child", None),  # nothing defines one
    # A subject with a word the question lacks, or a sentence saying something else of it, is no definition.
    ("The impact of impoverishment is not always understood. Neglect is also associated with accidents.",
     "what is the impact of poverty on neglect", None),
    ("Neglect is also associated with accidents. Neglect is the persistent failure to meet a child's needs.",
     "what is neglect", 1),
])
def test_the_sentence_defining_what_a_question_asks_about(text, question, defining):
    spans = sentence_spans(text)
    terms = frozenset(analysis.terms(question))
    got = _defining(text, _sentences(text), terms, _weight)
    assert got == (None if defining is None else spans[defining])


def test_the_more_of_the_question_a_defined_subject_holds_the_better():
    text = "Safeguarding is everyone's duty. Contextual Safeguarding is an approach to harm outside the home."
    spans = sentence_spans(text)
    assert _defining(text, _sentences(text), frozenset(analysis.terms("contextual safeguarding")), _weight) == spans[1]


@pytest.mark.parametrize("question, asks", [
    ("what is contextual safeguarding", True), ("what counts as reasonable force", True), ("CME definition", True),
    ("what does LADO mean", True), ("contextual safeguarding?", True), ("meaning of significant harm", True),
    ("when should a school tell the local authority about a pupil missing for ten days", False),
    ("who should I speak to if I am worried about a child at my school", False),
])
def test_which_questions_ask_what_something_is(question, asks):
    normal = question.lower()
    assert asks_what_it_is(normal, tuple(analysis.terms(normal))) is asks
