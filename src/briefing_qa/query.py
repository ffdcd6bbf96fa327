"""A question analysed once: the typed `Query` every later stage reads
(candidates, fusion, re-rank, passages, highlights)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import analysis
from .vocabulary import Vocabulary


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

    @property
    def lexical_terms(self) -> tuple[str, ...]:
        return self.stems + self.expansions

    @property
    def term_set(self) -> frozenset[str]:
        return frozenset(self.terms)


def analyse(text: str, vocabulary: Vocabulary | None = None, embed=None,
            abbreviations: bool = True, spelling: bool = True) -> Query:
    """`embed`: a function from a list of texts to their vectors, or None
    (lexical search needs no vector)."""
    normal = analysis.fold_quote(text)
    if analysis.is_shouting(normal):
        normal = normal.lower()  # "WHAT SHOULD I DO" is the same question as "what should I do"
    quoted = analysis.phrases(normal)
    extra: list[str] = []
    if vocabulary is not None:
        if abbreviations:
            extra += vocabulary.abbreviation_expansions(normal)
        if spelling:
            extra += vocabulary.spellings(normal)
    return Query(
        text=text,
        normal=normal,
        terms=tuple(analysis.terms(normal)),
        stems=tuple(analysis.index_tokens(normal).split()),
        phrases=tuple(p for p in (tuple(analysis.index_tokens(q).split()) for q in quoted) if p),
        phrase_texts=tuple(quoted),
        expansions=tuple(t for e in extra for t in analysis.index_tokens(e).split()),
        vector=None if embed is None else np.asarray(embed([normal])[0], dtype="float32"),
    )
