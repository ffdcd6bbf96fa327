"""Mistyped words read as the corpus word one edit away (vocabulary.py),
and never a word general English uses, a name, a code or a quoted phrase."""

from briefing_qa.query import analyse
from briefing_qa.vocabulary import Vocabulary, one_edit

TEXTS = [
    "Children missing education: neglect of babies and children.",
    "The designated safeguarding lead records the causes. Cases and cases and cases.",
    "Kinship care is growing; the children's social care framework.",
]


def vocab() -> Vocabulary:
    return Vocabulary.build(TEXTS, TEXTS, abbreviations=False)


def test_one_edit_covers_swaps_drops_additions_and_changes():
    edits = one_edit("care")
    assert {"acre", "cre", "carre", "cart"} <= edits and "care" not in edits


def test_a_mistyped_word_is_read_as_the_corpus_word():
    v = vocab()
    assert v.correction("chlidren") == "children"  # two letters swapped
    assert v.correction("negect") == "neglect"  # one dropped
    assert v.correction("safeguardinng") == "safeguarding"  # one doubled
    assert v.correction("kinshio") == "kinship"  # a neighbouring key
    assert v.correction("Negelct") == "Neglect"  # capital kept
    # A swap keeps every letter typed: the likelier slip, though "cases" is commoner.
    assert v.correction("casues") == "causes"


def test_a_slip_in_a_word_the_corpus_never_uses_is_read_as_common_english():
    v = vocab()
    assert v.correction("eivction") == "eviction"  # the corpus has no "eviction"
    assert v.correction("celaned") == "cleaned"
    assert v.correction("Eivction") == "Eviction"  # at the start of a sentence
    # Written like a name inside a sentence: only the corpus's own names will do.
    _, fixes = v.corrected("the Eivction team")
    assert fixes == ()
    assert v.correction("girfec") is None  # nothing common one edit away


def test_words_that_are_not_typos_are_left_alone():
    v = vocab()
    assert v.correction("groping") is None  # English, though one letter from "growing"
    assert v.correction("helper") is None
    assert v.correction("children") is None  # the corpus's own word
    assert v.correction("neglected") is None  # its stem is the corpus's
    assert v.correction("cre") is None  # under four letters
    assert v.correction("aPKCz") is None and v.correction("c4re") is None  # a code
    assert v.correction("zzqxv") is None  # nothing one edit away
    assert v.correction("chlidren" + "a" * 2000) is None  # not a word: no 100,000 neighbours built


def test_a_text_of_made_up_words_costs_a_bounded_look():
    from briefing_qa.vocabulary import MAX_TYPOS

    v = vocab()
    text, fixes = v.corrected(" ".join(["abcdefghijklmnopqrstuvw"] * 80 + ["chlidren"]))
    assert fixes == () and text.endswith("chlidren")  # the budget ran out before the last word
    _, fixes = v.corrected(" ".join(["chlidren"] * (MAX_TYPOS + 3)))
    assert len(fixes) == MAX_TYPOS


def test_corrected_text_skips_quoted_phrases_and_names_the_corpus_does_not_write():
    v = vocab()
    text, fixes = v.corrected('Chlidren and "negelct" with Kinshio, Carre and kinshio')
    # "Kinship" stands capitalised in the corpus, so "Kinshio" is read as it;
    # "Carre" looks like a name and the corpus never writes "Care".
    assert text == 'Children and "negelct" with Kinship, Carre and kinship'
    assert fixes == (("Chlidren", "Children"), ("Kinshio", "Kinship"), ("kinshio", "kinship"))


def test_the_query_reads_the_corrected_words_and_says_so():
    v = vocab()
    q = analyse("signs of negelct in chlidren", v, typos=True)
    assert q.normal == "signs of neglect in children" and q.corrections == (("negelct", "neglect"), ("chlidren", "children"))
    assert "neglect" in q.terms
    as_typed = analyse("signs of negelct in chlidren", v)
    assert as_typed.normal == "signs of negelct in chlidren" and as_typed.corrections == ()
    # The earlier questions of a follow-up are read the same way.
    follow = analyse("and in babbies?", v, context=["signs of negelct"], typos=True)
    assert "neglect" in follow.expansions
