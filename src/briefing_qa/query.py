"""A question analysed once: the typed `Query` every later stage reads
(candidates, fusion, re-rank, passages, highlights)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from . import analysis
from .tokens import QueryPieces, TokenVectors
from .vocabulary import Synonyms, Vocabulary


@dataclass(frozen=True)
class Query:
    text: str  # as typed
    normal: str  # folded; a question typed in capitals in lower case: what the encoder and the rules read
    terms: tuple[str, ...]  # stems of the words that carry meaning, quoted ones included
    stems: tuple[str, ...] = ()  # stems of every word: BM25 weighs "under" or "all" by itself (stop words out: held-out hit@1 0.359 -> 0.282)
    phrases: tuple[tuple[str, ...], ...] = ()  # stems of each "quoted phrase", every word
    phrase_texts: tuple[str, ...] = ()  # the quoted phrases as typed, for exact checks and highlights
    expansions: tuple[str, ...] = ()  # stems of short/long forms and the corpus's spellings
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)
    context: tuple[str, ...] = ()  # the earlier questions this one was read in the light of (none: alone)
    synonyms: tuple[tuple[str, ...], ...] = ()  # the documents' terms for its everyday words (stems, each a phrase)
    # Its content word pieces' vectors (tokens.py), with the earlier
    # question's for a follow-up; None without them.
    tokens: TokenVectors | None = field(default=None, compare=False, repr=False)
    # The same pieces as an index's TokenTable holds its rows (projected,
    # idf-weighted): set by Retriever.analyse, read by MaxSim and highlights.
    pieces: QueryPieces | None = field(default=None, compare=False, repr=False)
    corrections: tuple[tuple[str, str], ...] = ()  # (as typed, read as): mistyped words put right (Vocabulary.correction)
    asks_for: str | None = None  # a kind of value or a nation only a passage holding one answers (asks_for), else None
    definition: bool = False  # asks what something is (asks_what_it_is): the sentence defining it is marked

    @property
    def lexical_terms(self) -> tuple[str, ...]:
        """The question's words once each (a word said twice does not weigh
        double: SciFact train 0.7186 -> 0.7216, test 0.7185 -> 0.7204), then
        the expansions (deduplicating them too cost a dev first hit)."""
        return tuple(dict.fromkeys(self.stems)) + self.expansions

    @property
    def term_set(self) -> frozenset[str]:
        return frozenset(self.terms)


# Kinds of value a question can ask for that a passage answers only if it
# holds one: "how much is the fostering allowance" is not answered by a
# passage about fostering that names no sum, however close in meaning, nor
# "the LADO's phone number" by the NSPCC's helpline number; so the value
# must stand near a word of the question other than the asking words
# (WINDOW). retrieval.Retriever abstains when none of the first passages
# holds one. Name -> (asked, a value in text, the asking words).
ANSWER_TYPES = {
    "an amount of money": (
        re.compile(r"[£$€]|\bhow much\b.*\b(cost|costs|charged?|fees?|allowances?|salary|salaries|wages?|prices?|fines?|"
                   r"paid|pay|earn|get|gets|benefits?|credit|grants?)\b|\b(allowances?|salary|salaries|wages?|prices?)\b|"
                   r"\bcosts? (of|for) (a|an)\b|\bfees? for\b|\bwhat (does|do|will) .{1,60}\bcost\b", re.I),
        # "free of charge" answers "what does a DBS check for a volunteer cost".
        re.compile(r"[£$€]\s?\d|\b\d[\d,.]*\s?(pounds|pence)\b|\bfree (of charge|to use)\b|\b(no|without) charge\b|"
                   r"\bat no cost\b", re.I),
        "how much cost costs charge charged fee fees price prices pay paid get gets earn"),
    "a phone number": (
        re.compile(r"\b(phone|telephone|tel|contact|helpline|hotline|duty|front door|referral|gateway|mash|lado)\s+"
                   r"(number|no\.?|numbers)\b|\bnumber (for|to (ring|call|phone))\b|\bphone\b.{0,40}\bnumber\b|"
                   r"\bnumber\b.{0,40}\b(ring|call|phone)\b", re.I),
        re.compile(r"\b0\d{2,4}[ -]?\d{3}[ -]?\d{3,4}\b|\+44[\s\d]{9,13}|\b(call|ring|dial|phone|on)\s+(999|101|111|116\s?\d{3})\b",
                   re.I),
        "phone telephone tel number numbers no contact call ring dial helpline line"),
}
# The documents are England's guidance. A question about another nation of
# the UK ("the age of criminal responsibility in Scotland", "the All Wales
# procedures") is answered only where a first passage names that nation
# near the question's words ("teachers in England and Wales must report
# FGM"), as for a value: name -> (asked, named in text, the asking words).
NATIONS = {
    f"what applies in {nation}": (pattern, pattern, words)
    for nation, pattern, words in (
        ("Scotland", re.compile(r"\b(scotland|scottish)\b", re.I), "scotland scottish"),
        ("Wales", re.compile(r"\b(wales|welsh)\b", re.I), "wales welsh"),
        ("Northern Ireland", re.compile(r"\bnorthern (ireland|irish)\b", re.I), "northern ireland irish"),
    )
}
WINDOW = 250  # characters either side of a value where a word of the question must stand
_NEEDS = {**ANSWER_TYPES, **NATIONS}
_ASKING = {name: frozenset(analysis.terms(words)) for name, (_, _, words) in _NEEDS.items()}
_HOW_MANY = re.compile(r"\bhow many\b", re.I)  # "how many contact numbers should a school keep": a count


def asks_for(normal: str) -> str | None:
    """What only a passage holding it answers: the kind of value the question
    asks for (a key of ANSWER_TYPES), else the nation it asks about (of
    NATIONS), else None."""
    if not _HOW_MANY.search(normal):
        for name, (asked, _, _) in ANSWER_TYPES.items():
            if asked.search(normal):
                return name
    return next((name for name, (asked, _, _) in NATIONS.items() if asked.search(normal)), None)


def asking_words(kind: str) -> frozenset[str]:
    """The stems that ask for a value of this kind ("phone", "cost", "wales"):
    they say what is wanted, not what it is about."""
    return _ASKING[kind]


def holds(kind: str, text: str, near: frozenset[str] = frozenset()) -> bool:
    """Does the text hold a value of that kind (a sum of money, a phone
    number; or name the nation), with one of `near` (stems) within WINDOW characters of it
    (any value when `near` is empty)?"""
    for m in _NEEDS[kind][1].finditer(text):
        if not near or near & set(analysis.terms(text[max(0, m.start() - WINDOW):m.end() + WINDOW])):
            return True
    return False


# "what is contextual safeguarding", "what counts as reasonable force",
# "CME definition"; and a few words alone ("contextual safeguarding?"),
# which mostly name what the reader wants explained.
_DEFINITION = re.compile(r"\b(what is|what are|what's|whats|what does .{1,40} mean|what do .{1,40} mean|meaning of|"
                         r"what counts as|define|definition|defined|what is meant by)\b", re.I)
DEFINITION_TERMS = 3


def asks_what_it_is(normal: str, terms: tuple[str, ...]) -> bool:
    return bool(_DEFINITION.search(normal)) or 0 < len(terms) <= DEFINITION_TERMS


# A follow-up that leans on what came before: "and at school?", "what about
# babies?", "who do I tell?", "is it the first one of these?".
_CUE = re.compile(r"^\W*(and|or|but|also|so|then|what about|how about|what if|same|in that case|if so|why)\b", re.I)
# ... or a word last that points back: "what do I do then?", "and them too?"
_TAIL_CUE = re.compile(r"\b(then|too|as well|instead|either)\W*$", re.I)
_POINTERS = frozenset("they them their theirs this that these those it its he she him her there such".split())
# How much of the earlier question's meaning a follow-up takes (its vector
# is added with this weight). A question that stands alone takes none.
FOLLOW_UP_WEIGHT = 1.0


def refers_back(text: str) -> bool:
    """A question that cannot stand alone: a cue word first or last, a
    pointer word ("they", "this"), or at most two words that carry meaning."""
    ws = [w.lower() for w in analysis.words(text)]
    return bool(_CUE.match(text) or _TAIL_CUE.search(text)) or any(w in _POINTERS for w in ws) or len(analysis.terms(text)) <= 2


def analyse(text: str, vocabulary: Vocabulary | None = None, embed=None, abbreviations: bool = True,
            spelling: bool = True, context: tuple[str, ...] | list[str] = (), synonyms: Synonyms | None = None,
            embed_tokens=None, typos: bool = False) -> Query:
    """`embed`: a function from a list of texts to their vectors, or None
    (lexical search needs no vector); `embed_tokens`, when given, is used
    instead and also gives the word pieces (Embedder.embed_tokens).
    `context`: earlier questions of the same conversation, oldest first; a
    follow-up borrows the last one's words and, weighted, its meaning.
    `typos`: read mistyped words as the corpus word one edit away, in the
    question and the earlier ones, before anything else sees them."""
    fix = vocabulary.corrected if typos and vocabulary is not None else (lambda t: (t, ()))
    normal, corrections = fix(_normal(text))
    quoted = analysis.phrases(normal)
    raw = tuple(c for c in context if c and c.strip())
    earlier = tuple(fix(_normal(c))[0] for c in raw)
    follows = bool(earlier) and refers_back(normal)
    terms = tuple(analysis.terms(normal))
    extra: list[str] = []
    dense = normal
    if vocabulary is not None:
        if abbreviations:
            extra += vocabulary.abbreviation_expansions(normal)
            if len(terms) <= SPELL_OUT_TERMS:
                dense = vocabulary.spell_out(normal)
        if spelling:
            extra += vocabulary.spellings(normal)
    if follows:
        extra.append(earlier[-1])
    vector = tokens = None
    # A second reading whose vector is added: the earlier question for a
    # follow-up, else the question as typed when its short forms were spelled out.
    second = earlier[-1] if follows else (normal if dense != normal else None)
    texts = [dense] if second is None else [dense, second]
    if embed_tokens is not None:
        vecs, pieces = embed_tokens(texts)
        vecs = np.asarray(vecs, dtype="float32")
        tokens = pieces[0] if not follows else TokenVectors(
            np.concatenate([p.ids for p in pieces]), np.concatenate([p.vectors for p in pieces]))
    elif embed is not None:
        vecs = np.asarray(embed(texts), dtype="float32")
    if embed_tokens is not None or embed is not None:
        vector = vecs[0]
        if second is not None:
            vector = vector + (FOLLOW_UP_WEIGHT if follows else 1.0) * vecs[1]
            vector = vector / max(1e-6, float(np.linalg.norm(vector)))
    stems = tuple(analysis.index_tokens(normal).split())
    return Query(
        text=text,
        normal=normal,
        terms=terms,
        stems=stems,
        phrases=tuple(p for p in (tuple(analysis.index_tokens(q).split()) for q in quoted) if p),
        phrase_texts=tuple(quoted),
        expansions=tuple(t for e in extra for t in analysis.index_tokens(e).split()),
        vector=vector,
        context=raw[-1:] if follows else (),
        synonyms=tuple(synonyms.expand(stems)) if synonyms is not None else (),
        tokens=tokens,
        corrections=corrections,
        asks_for=asks_for(normal),
        definition=asks_what_it_is(normal, terms),
    )


# A question of a few words ("dsl", "CME definition") is also read by the
# encoder with the short forms that the documents mostly write out spelled
# out (Vocabulary.spell_out), and its vector is the mean of the two
# readings: the encoder never learnt most short forms, and their rare word
# pieces, matched alone, put first whatever passage repeats the letters (a
# case study saying "the DSL" six times); so the word pieces are the
# spelled-out reading's. BM25 reads both forms. Longer questions keep their
# own words (long forms appended to whole questions moved their vectors off
# topic). The 9 blind questions this can touch: first hit 6 -> 8, top 5 8 -> 9.
SPELL_OUT_TERMS = 3


def _normal(text: str) -> str:
    normal = analysis.apostrophes(analysis.fold_quote(text))
    # "WHAT SHOULD I DO" is the same question as "what should I do".
    return normal.lower() if analysis.is_shouting(normal) else normal
