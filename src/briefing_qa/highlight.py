"""Which sentences of a passage to mark. For a question: the sentence
nearest it in meaning (by the index's stored sentence vectors) and the one
holding most of its idf-weighted words. For a search: the quoted phrases,
or else the query's words. Offsets are within the passage's quote."""

from __future__ import annotations

import math
import re

import numpy as np

from . import analysis
from .chunking import embedded_sentence_spans
from .passages import PassageDraft, chunk_run
from .query import Query
from .ranking import SentenceTable, nearest_rows
from .records import Chunk
from .structure import sentence_spans
from .tokens import TokenTable, sentence_scores
from .vocabulary import Vocabulary

MIN_TERMS = 3  # meaning words a sentence needs to be marked as nearest the question
# A second sentence this close in cosine to the nearest one is marked too: when
# two are about equally near, the vectors cannot tell which answers (blind
# tune questions, answer marked 105 -> 107 of 123 for 0.02 more of a passage
# marked; 0.02 / 0.06 / 0.1: 106 / 107 / 108 at 0.01 / 0.03 / 0.05 more).
NEAR_TIE = 0.04


class Highlighter:
    def __init__(self, chunks: list[Chunk], vocabulary: Vocabulary, sentences: SentenceTable | None,
                 tokens: TokenTable | None = None) -> None:
        self.chunks = chunks
        self.vocabulary = vocabulary
        self.sentences = sentences
        self.tokens = tokens
        self._sentence_cache: dict[tuple, list] = {}
        self._span_cache: dict[int, list] = {}

    def for_question(self, draft: PassageDraft, quote: str, query: Query) -> list[tuple[int, int]]:
        """The sentence nearest the question in meaning, the one whose word
        pieces best meet the question's (tokens.py), and the one holding most
        of its (idf-weighted) words: one to three sentences, as they agree;
        for a question asking what something is, the sentence defining it;
        and the sentences a marked one cannot be read without (_in_context).
        docs/evaluation.md measures each choice (`eval` reports how often
        the answer is marked)."""
        sentences = self._sentences((draft.document_id, draft.start, draft.end), quote)
        if not sentences:
            return []
        weight = self.vocabulary.weight
        terms = query.term_set
        scored = [(sum(weight(t) for t in terms & st) / norm, s, e) for s, e, st, norm in sentences]
        top = max(scored)
        nearest = self._nearest(draft, query.vector)
        if not nearest and top[0] <= 0:
            picks = [(sentences[0][0], sentences[0][1])]
        elif not nearest:  # also a runner-up that is nearly as good (answers often span two sentences)
            picks = [(s, e) for score, s, e in scored if score >= 0.8 * top[0]][:2]
        else:
            picks = nearest + [p for p in (self._best_pieces(draft, quote, query, sentences),
                                           (top[1], top[2]) if top[0] > 0 else None) if p]
        if query.definition:
            picks.append(_defining(quote, sentences, terms, weight))
        return _in_context(_distinct([p for p in picks if p]), quote, sentences)

    def for_search(self, quote: str, query: Query) -> list[tuple[int, int]]:
        """Every place a quoted phrase stands (case and quote marks folded),
        or else every word of the query, stemmed."""
        if query.phrase_texts:
            folded, where = analysis.fold_with_map(quote)
            low = folded.lower()
            out = []
            for p in query.phrase_texts:
                fp = analysis.fold(p)
                pos = low.find(fp)
                while pos != -1 and fp:
                    out.append((where[pos], where[pos + len(fp) - 1] + 1))
                    pos = low.find(fp, pos + len(fp))
            return sorted(out)
        terms = query.term_set
        return [(s, e) for s, e, w in analysis.word_spans(quote) if analysis.stem(w) in terms]

    def _sentences(self, key: tuple, quote: str) -> list[tuple[int, int, frozenset, float]]:
        """(start, end, stems, length norm) of each sentence of a passage;
        cached per passage span, as the same passages answer many questions."""
        got = self._sentence_cache.get(key)
        if got is None:
            got = []
            for s, e in sentence_spans(quote):
                st = frozenset(analysis.terms(quote[s:e]))
                got.append((s, e, st, math.sqrt(len(st) + 4)))
            if len(self._sentence_cache) > 50_000:
                self._sentence_cache.clear()
            self._sentence_cache[key] = got
        return got

    def _nearest(self, draft: PassageDraft, qv: np.ndarray | None) -> list[tuple[int, int]]:
        """The passage's sentence nearest the question by the stored sentence
        vectors, and the next one when it is within NEAR_TIE of it (offsets
        within the quote); none without sentence vectors."""
        if qv is None or self.sentences is None:
            return []
        run = chunk_run(draft, self.chunks)
        if run is None:
            return []
        first = None
        found: list[tuple[int, int]] = []
        best = 0.0
        for row in nearest_rows(self.sentences, run[0], run[1], qv):
            i = int(self.sentences.owner[row])
            spans = self._embedded_spans(i)
            if len(spans) != self.sentences.first[i + 1] - self.sentences.first[i]:  # vectors from another sentence split
                return []
            s, e = spans[row - self.sentences.first[i]]
            start = self.chunks[i].start - draft.start
            first = first or (start + s, start + e)
            # A sentence of a word or two ("In one case:") is embedded behind
            # its section's path, which then is most of what its vector
            # says: the nearest ones that say something of their own.
            if len(analysis.terms(self.chunks[i].text[s:e])) < MIN_TERMS:
                continue
            cosine = float(self.sentences.vectors[row] @ qv)
            if found and cosine < best - NEAR_TIE:
                break
            if not found:
                best = cosine
            found.append((start + s, start + e))
            if len(found) == 2:
                break
        return found or ([first] if first else [])

    def _best_pieces(self, draft: PassageDraft, quote: str, query: Query, sentences: list) -> tuple[int, int] | None:
        """The passage's sentence whose word pieces best meet the question's
        (offsets within the quote); None without word pieces."""
        if self.tokens is None or query.pieces is None or not len(query.pieces.weights):
            return None
        run = chunk_run(draft, self.chunks)
        if run is None:
            return None
        spans = [(s, e) for s, e, _, _ in sentences]
        best = np.zeros(len(spans))
        for i in range(run[0], run[1] + 1):
            c = self.chunks[i]
            shift = c.start - draft.start - (len(c.context) - len(c.text))  # embedded text -> quote offsets
            best = np.maximum(best, sentence_scores(self.tokens, i, shift, spans, query.pieces))
        k = int(np.argmax(best))
        return spans[k] if best[k] > 0 else None

    def _embedded_spans(self, i: int) -> list[tuple[int, int]]:
        got = self._span_cache.get(i)
        if got is None:
            if len(self._span_cache) > 50_000:
                self._span_cache.clear()
            got = self._span_cache[i] = embedded_sentence_spans(self.chunks[i].text)
        return got


def _distinct(picks: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Each span once, and none that overlaps one picked before it."""
    out: list[tuple[int, int]] = []
    for s, e in picks:
        if all(e <= a or b <= s for a, b in out):
            out.append((s, e))
    return sorted(out)


# A sentence opening with a word that points back ("They should be mindful
# …", "It helps police and schools …") leans on the one before it. The
# expletive "it is important that …" does not.
_LEANS_BACK = re.compile(r"(it|this|these|they|their|such|those|he|she)\b(?! is (important|essential|vital|possible|likely|not)\b)",
                         re.I)
LIST_ITEMS = 8  # a longer list is not marked whole (tune halves: the same at 12, one answer fewer at 5)
# "X is a …", "X means …", "The term ‘X’ covers …": a sentence defining
# its subject X ("X is also associated with …" does not).
_DEFINES = re.compile(r"""(?:(?:the|a|an) )?(?:term )?[‘'“"]?([^.;:]{2,60}?)[’'”"]? """
                      r"(?:(?:is|are) (?:a|an|the|any|when|where|defined as|used to describe)|means|mean|covers|cover|"
                      r"refers to|refer to|describes)\b", re.I)


def leans_back(text: str, at: int = 0) -> bool:
    """Does the sentence starting at `at` open with a word pointing back?"""
    return bool(_LEANS_BACK.match(text, at))


def _defining(quote: str, sentences: list, terms: frozenset[str], weight) -> tuple[int, int] | None:
    """The sentence defining a subject made only of the question's words
    ("‘reasonable force’" for "what counts as reasonable force", not "the
    impact of impoverishment" for "what is the impact of poverty"), the one
    holding most of their idf weight, the first of equals; else None."""
    best, pick = 0.0, None
    for s, e, _, _ in sentences:
        m = _DEFINES.match(quote, s, e)
        subject = set(analysis.terms(m.group(1))) if m else set()
        if subject and subject <= terms:
            got = sum(weight(t) for t in subject)
            if got > best:
                best, pick = got, (s, e)
    return pick


def _in_context(picks: list[tuple[int, int]], quote: str, sentences: list) -> list[tuple[int, int]]:
    """The marked sentences with those they cannot be read without: after a
    lead-in ending with a colon ("This briefing should help partnerships
    to:"), the sentence it introduces; before one opening with a word that
    points back ("They should be mindful …"), the sentence it points to;
    and after a marked one, a sentence pointing back to it ("It helps
    police …"); and when two items of a list of at most LIST_ITEMS are
    marked, the whole list, since the answer is then the list.
    docs/evaluation.md measures each."""
    spans = [(s, e) for s, e, _, _ in sentences]
    out = list(picks)
    for s, e in picks:
        k = next((j for j, (a, b) in enumerate(spans) if a <= s < b), None)
        if k is None:
            continue
        if k + 1 < len(spans) and (quote[:e].rstrip().endswith(":") or leans_back(quote, spans[k + 1][0])):
            out.append(spans[k + 1])
        if k > 0 and leans_back(quote, spans[k][0]):
            out.append(spans[k - 1])
    return _distinct(sorted(set(out) | _whole_lists(set(out), quote, spans)))


def _whole_lists(marked: set[tuple[int, int]], quote: str, spans: list[tuple[int, int]]) -> set[tuple[int, int]]:
    """The items of every list (a run of sentences opening with "•") of at
    most LIST_ITEMS items of which two or more are marked."""
    out: set[tuple[int, int]] = set()
    run: list[tuple[int, int]] = []
    for sp in spans + [(len(quote), len(quote))]:  # a sentinel closes the last run
        if sp[0] < len(quote) and quote.startswith("•", sp[0]):
            run.append(sp)
            continue
        if len(run) <= LIST_ITEMS and len(marked.intersection(run)) >= 2:
            out.update(run)
        run = []
    return out
