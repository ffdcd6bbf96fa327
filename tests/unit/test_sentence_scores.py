"""The vectorised sentence scores of ranking.py against the plain loops they
replace, on a small index of the real briefing built with the fake embedder
(fast; the scores' quality is proven on the real model in
tests/integration/test_quality.py)."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from briefing_qa import analysis, ranking
from briefing_qa.chunking import embedded_sentence_spans
from briefing_qa.highlight import MIN_TERMS, NEAR_TIE
from briefing_qa.passages import PassageDraft

ROOT = Path(__file__).resolve().parents[2]
BRIEFING = "triennial-analysis-briefing-local-safeguarding-partnerships.txt"


@pytest.fixture()
def retriever(briefing_retriever):
    return briefing_retriever


def test_best_sentence_cosines_equal_the_per_chunk_loop(retriever):
    r = retriever
    qv = r.embedder.embed(["neglect of adolescents and poverty"])[0]
    idx = list(range(len(r.chunks)))[::-1][:200]  # any order, as the fused head comes
    t = r.sentences
    want = []
    for i in idx:
        a, b = t.first[i], t.first[i + 1]
        want.append(float(np.max(t.vectors[a:b] @ qv)) if b > a else float(r.vectors[i] @ qv))
    assert np.allclose(ranking.best_sentence_cosines(t, r.vectors, idx, qv), want, atol=1e-6)


def test_a_chunk_without_sentence_vectors_scores_its_own_cosine(retriever):
    r = retriever
    qv = r.embedder.embed(["serious case reviews"])[0]
    first = r.sentences.first.copy()
    first[2] = first[1]  # chunk 1's sentences taken away, as for a chunk of short fragments
    t = replace(r.sentences, first=first)
    got = ranking.best_sentence_cosines(t, r.vectors, [0, 1, 2], qv)
    assert got[1] == pytest.approx(float(r.vectors[1] @ qv))
    a, b = t.first[2], t.first[3]
    assert got[2] == pytest.approx(float(np.max(t.vectors[a:b] @ qv)))


def test_nearest_sentence_is_the_best_row_of_the_passage(retriever):
    r = retriever
    question = "What did reviews find about poverty and neglect?"
    qv = r.embedder.embed([question])[0]
    res = r.ask(question, top_k=5)
    assert res.passages
    for p in res.passages:
        start, end = p.source_offsets
        rows = []
        for i, c in enumerate(r.chunks):
            if c.document_id == p.citation.document_id and start <= c.start and c.end <= end:
                spans = embedded_sentence_spans(c.text)
                vecs = r.sentences.vectors[r.sentences.first[i]:r.sentences.first[i + 1]]
                rows += [(float(v @ qv), c.start - start + s, c.start - start + e) for (s, e), v in zip(spans, vecs)]
        best = max(r for r in rows if len(analysis.terms(p.quote[r[1]:r[2]])) >= MIN_TERMS)
        assert (best[1], best[2]) in p.highlights
        assert p.quote[best[1]:best[2]].strip()


def test_a_sentence_of_a_word_or_two_is_not_marked_as_nearest(retriever):
    """"In one case:" is embedded behind its section's path, so for a
    question on that section it can come nearest; the nearest sentence that
    says something of its own is marked instead."""
    r = retriever
    t = r.sentences
    i, (s, e) = next((i, sp) for i, c in enumerate(r.chunks) for sp in embedded_sentence_spans(c.text)
                     if c.document_id.startswith("triennial") and len(analysis.terms(c.text[sp[0]:sp[1]])) < MIN_TERMS)
    c = r.chunks[i]
    short = c.text[s:e]
    qv = t.vectors[t.first[i] + embedded_sentence_spans(c.text).index((s, e))]  # the short sentence's own vector
    assert ranking.nearest_rows(t, i, i, qv)[0] == t.first[i] + embedded_sentence_spans(c.text).index((s, e))
    draft = PassageDraft(c.document_id, c.section_id, c.ordinal, c.ordinal, c.start, c.end, c.kind, i)
    got = r.highlighter._nearest(draft, qv)
    assert got and all(c.text[s:e] != short and len(analysis.terms(c.text[s:e])) >= MIN_TERMS for s, e in got)


def test_a_second_sentence_is_marked_only_when_nearly_as_near(retriever):
    """Two sentences about equally near the question are both marked; a
    clearly nearest one alone."""
    r = retriever
    t = r.sentences
    i, spans = next((i, sp) for i, c in enumerate(r.chunks) if len(sp := embedded_sentence_spans(c.text)) >= 3
                    and len(sp) == t.first[i + 1] - t.first[i]
                    and all(len(analysis.terms(c.text[s:e])) >= MIN_TERMS for s, e in sp))
    c = r.chunks[i]
    draft = PassageDraft(c.document_id, c.section_id, c.ordinal, c.ordinal, c.start, c.end, c.kind, i)
    va, vb = t.vectors[t.first[i]], t.vectors[t.first[i] + 1]
    between = (va + vb) / np.linalg.norm(va + vb)  # as near one as the other
    assert sorted(r.highlighter._nearest(draft, between)) == sorted(spans[:2])
    got = r.highlighter._nearest(draft, va)  # the first sentence's own vector
    assert got[0] == spans[0]
    cosines = {sp: float(v @ va) for sp, v in zip(spans, t.vectors[t.first[i]:t.first[i + 1]])}
    runner_up = max(cos for sp, cos in cosines.items() if sp != spans[0])
    assert len(got) == (2 if runner_up >= cosines[spans[0]] - NEAR_TIE else 1)
    assert all(cosines[sp] >= cosines[spans[0]] - NEAR_TIE for sp in got)


def test_a_marked_lead_in_ending_with_a_colon_brings_what_follows(retriever):
    """"This briefing should help local safeguarding partnerships to:" is
    not an answer; the list item after it is marked with it."""
    from briefing_qa.structure import sentence_spans

    res = retriever.ask("What should this briefing help local safeguarding partnerships to do?", top_k=5)
    leads = 0
    for p in res.passages:
        spans = sentence_spans(p.quote)
        for s, e in p.highlights:
            if p.quote[s:e].endswith(":"):
                leads += 1
                after = next(sp for sp in spans if sp[0] >= e)
                assert after in p.highlights
    assert leads >= 1


def test_the_sentence_whose_word_pieces_best_meet_the_question_is_marked(retriever):
    """Worked out here from the stored rows and their start offsets: the
    sentence with the best idf-weighted MaxSim of the question's pieces."""
    from briefing_qa.structure import sentence_spans

    question = "What did reviews find about poverty and neglect of teenagers?"
    r = retriever
    q = r.analyse(question)
    t = r.tokens
    w = t.weights(q.tokens.ids) / t.weights(q.tokens.ids).sum()
    res = r.ask(question, top_k=5)
    assert res.passages and t is not None
    for p in res.passages:
        start, end = p.source_offsets
        spans = sentence_spans(p.quote)
        best = np.full((len(spans), len(q.tokens.ids)), 0.0)
        for i, c in enumerate(r.chunks):
            if c.document_id != p.citation.document_id or not (start <= c.start and c.end <= end):
                continue
            shift = c.start - start - (len(c.context) - len(c.text))
            for row in range(t.first[i], t.first[i + 1]):
                at = int(t.starts[row]) + shift
                for k, (s, e) in enumerate(spans):
                    if s <= at < e:
                        best[k] = np.maximum(best[k], np.clip(t.vectors[row] @ q.tokens.vectors.T, 0, None))
        scores = best @ w
        if scores.max() > 0:
            assert spans[int(np.argmax(scores))] in p.highlights
