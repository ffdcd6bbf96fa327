"""Late interaction (tokens.py): the content-piece rule, int8 storage, the
MaxSim score against a plain loop, and the token files of an index (written,
reused by content hash, refused when damaged). Fake embedder: fast; the
retrieval figures are on the real model (tests/integration/test_quality.py)."""

import numpy as np
import pytest

from briefing_qa import store
from briefing_qa.errors import IndexUnavailable
from briefing_qa.ingest import ingest
from briefing_qa.tokens import TokenTable, TokenVectors, content_mask, maxsim, quantise
from tests.fakes import FakeEmbedder


def test_content_pieces_leave_out_markers_punctuation_and_stop_words():
    vocab = {"[CLS]": 0, "[SEP]": 1, "[PAD]": 2, "?": 3, "the": 4, "kids": 5, "##ing": 6, "2014": 7, "of": 8, "-": 9}
    mask = content_mask(vocab)
    assert [t for t, i in vocab.items() if mask[i]] == ["kids", "##ing", "2014"]


def test_int8_rows_keep_their_direction():
    rng = np.random.default_rng(1)
    v = rng.normal(size=(50, 384)).astype("float32")
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    q, scale = quantise(np.vstack([v, np.zeros((1, 384), dtype="float32")]))
    assert q.dtype == np.int8 and scale.dtype == np.float32 and scale[-1] == 1.0 and not q[-1].any()
    back = q[:-1].astype("float32") * scale[:-1, None]
    assert ((back * v).sum(axis=1) / np.linalg.norm(back, axis=1) > 0.999).all()


def _table(rng, counts, dim=16, vocab=40):
    rows = int(sum(counts))
    v = rng.normal(size=(rows, dim)).astype("float32")
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    q, s = quantise(v)
    starts = np.concatenate([np.arange(n, dtype=np.int32) * 10 for n in counts]) if rows else np.zeros(0, np.int32)
    stored = store.Tokens(q, s, rng.integers(0, vocab, size=rows).astype(np.int32), np.asarray(counts, dtype=np.int32), starts)
    return stored, TokenTable.of(stored, len(counts))


def test_maxsim_equals_the_plain_loop():
    rng = np.random.default_rng(7)
    counts = [3, 0, 5, 1, 4, 4, 0, 2, 6, 3]
    stored, table = _table(rng, counts)
    qv = rng.normal(size=(4, 16)).astype("float32")
    query = TokenVectors(np.array([1, 2, 39, 77], dtype=np.int32), qv / np.linalg.norm(qv, axis=1, keepdims=True))
    first = np.concatenate([[0], np.cumsum(counts)])
    w = table.weights(query.ids)
    assert w[3] == pytest.approx(np.log1p(len(counts)))  # an id the corpus never has: the highest weight
    idx = [8, 2, 3, 1, 9, 0, 4, 5]  # any order, runs of neighbours and a chunk with no pieces
    want = []
    for i in idx:
        rows = table.vectors[first[i] : first[i + 1]]
        want.append(float(((rows @ table.project(query).T).max(axis=0) * w).sum() / w.sum()) if len(rows) else 0.0)
    assert np.allclose(maxsim(table, idx, table.prepare(query)), want, atol=1e-6)
    none = table.prepare(TokenVectors(np.zeros(0, np.int32), np.zeros((0, 16), np.float32)))
    assert not maxsim(table, idx, none).any()
    prepared = table.prepare(query)  # what the highlighter reads too: projected once, weights summing to 1
    assert np.allclose(prepared.vectors, table.project(query)) and prepared.weights.sum() == pytest.approx(1.0)


def test_sentence_scores_count_the_pieces_inside_each_span():
    from briefing_qa.tokens import sentence_scores

    rng = np.random.default_rng(5)
    _, table = _table(rng, [2, 6, 3])  # chunk 1's pieces start at 0, 10, ..., 50
    qv = rng.normal(size=(3, 16)).astype("float32")
    query = TokenVectors(np.array([1, 2, 3], dtype=np.int32), qv / np.linalg.norm(qv, axis=1, keepdims=True))
    w = table.weights(query.ids) / table.weights(query.ids).sum()
    rows = table.vectors[table.first[1] : table.first[2]]
    spans = [(100, 125), (125, 150), (150, 200)]  # shifted by 100: pieces 0-2, 3-4, 5; none before 100
    got = sentence_scores(table, 1, 100, [(0, 100)] + spans + [(200, 300)], table.prepare(query))
    assert got[0] == 0.0 and got[-1] == 0.0  # no piece starts there
    got = got[1:]
    for k, (a, b) in enumerate([(0, 3), (3, 5), (5, 6)]):
        assert got[k] == pytest.approx(float(np.clip(rows[a:b] @ table.project(query).T, 0, None).max(axis=0) @ w), abs=1e-6)


def test_rows_are_held_on_their_principal_directions():
    """384-dimensional pieces are held on 128 directions: cosines between
    pieces change little, and a question's pieces go through the same."""
    from briefing_qa.tokens import PROJECTED

    rng = np.random.default_rng(11)
    topics = rng.normal(size=(20, 384))  # pieces cluster, as real ones do
    v = (topics[rng.integers(0, 20, size=3000)] + 0.3 * rng.normal(size=(3000, 384))).astype("float32")
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    q, sc = quantise(v)
    stored = store.Tokens(q, sc, np.zeros(3000, np.int32), np.array([3000], np.int32), np.zeros(3000, np.int32))
    table = TokenTable.of(stored, 1)
    assert table.vectors.shape == (3000, PROJECTED) and table.vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(table.vectors, axis=1), 1.0, atol=1e-5)
    pieces = TokenVectors(np.zeros(5, np.int32), v[:5])
    assert np.allclose(table.project(pieces), table.vectors[:5], atol=0.02)  # the same projection on both sides
    full, held = v[:200] @ v[200:400].T, table.vectors[:200] @ table.vectors[200:400].T
    assert np.corrcoef(full.ravel(), held.ravel())[0, 1] > 0.95


def test_idf_counts_chunks_not_rows():
    rng = np.random.default_rng(3)
    stored, _ = _table(rng, [2, 2, 2])
    stored = store.Tokens(stored.vectors, stored.scales, np.array([5, 5, 5, 6, 7, 7], dtype=np.int32), stored.counts,
                          stored.starts)
    table = TokenTable.of(stored, 3)
    assert table.idf[5] == pytest.approx(np.log1p(3 / 3)) and table.idf[6] == pytest.approx(np.log1p(3 / 2))


def test_token_files_are_written_reused_and_checked(src, settings):
    first = ingest([src], settings, FakeEmbedder)
    idx = store.read_index(settings.index, "fake-bow")
    t = idx.tokens
    assert t is not None and len(t.counts) == len(idx.chunks) and int(t.counts.sum()) == len(t.vectors) == len(t.ids)
    assert t.vectors.dtype == np.int8 and sorted(p.name for p in idx.folder.glob("token*.npy")) == sorted(store.TOKEN_FILES.values())
    # A chunk's rows are its content words' vectors, in order.
    k = len(idx.chunks) // 2
    _, [want] = FakeEmbedder().embed_tokens([idx.chunks[k].context])
    at = int(t.counts[:k].sum())
    got = t.vectors[at : at + t.counts[k]].astype("float32") * t.scales[at : at + t.counts[k], None]
    assert np.array_equal(t.ids[at : at + t.counts[k]], want.ids) and np.allclose(got, want.vectors, atol=0.02)
    assert np.array_equal(t.starts[at : at + t.counts[k]], want.starts)  # where each piece starts in the embedded text
    # A changed file: only its chunks are run through the model; every other chunk keeps its rows.
    (src / "notes.md").write_text("# Notes\n\nA looked-after child has a health assessment. Another sentence here.\n")
    report = ingest([src], settings, FakeEmbedder)
    assert 0 < report.embedded < first.chunks
    again = store.read_index(settings.index, "fake-bow")
    old = {h: i for i, h in enumerate(idx.hashes)}
    old_first, new_first = np.concatenate([[0], np.cumsum(t.counts)]), np.concatenate([[0], np.cumsum(again.tokens.counts)])
    kept = [(i, old[h]) for i, h in enumerate(again.hashes) if h in old]
    assert kept and all(np.array_equal(again.tokens.vectors[new_first[i] : new_first[i + 1]], t.vectors[old_first[j] : old_first[j + 1]])
                        for i, j in kept)
    # Damaged: counts that do not add up are refused with advice.
    np.save(again.folder / "token_counts.npy", again.tokens.counts[:-1])
    with pytest.raises(IndexUnavailable, match="rebuild"):
        store.read_index(settings.index, "fake-bow")


def test_an_index_without_token_files_gets_them_at_the_next_ingest(src, settings):
    import json

    import briefing_qa.ingest as ingest_mod

    ingest([src], settings, FakeEmbedder)
    folder = store.current_version(settings.index)
    for name in store.TOKEN_FILES.values():
        (folder / name).unlink()
    data = json.loads((folder / "manifest.json").read_text())
    data["pipeline"] = ingest_mod.PIPELINE - 1  # as written by the version before word pieces
    (folder / "manifest.json").write_text(json.dumps(data))
    assert store.read_index(settings.index, "fake-bow").tokens is None  # still served, without late interaction
    report = ingest([src], settings, FakeEmbedder)
    assert report.embedded == report.chunks and store.read_index(settings.index, "fake-bow").tokens is not None



class _NoPieces:
    """An embedder that gives vectors only (no embed_tokens)."""

    def __init__(self) -> None:
        self.inner = FakeEmbedder()
        self.name, self.dimension, self.max_tokens = self.inner.name, self.inner.dimension, self.inner.max_tokens

    def embed(self, texts, progress=False):
        return self.inner.embed(texts, progress)

    def fits(self, text):
        return self.inner.fits(text)


def test_an_embedder_without_word_pieces_embeds_only_new_text(src, settings):
    ingest([src], settings, _NoPieces)
    assert store.read_index(settings.index, "fake-bow").tokens is None
    (src / "notes.md").write_text("# Notes\n\nA looked-after child has a health assessment. Another sentence here.\n")
    emb = _NoPieces()
    report = ingest([src], settings, lambda: emb)
    assert 0 < report.embedded < report.chunks  # not every chunk again for pieces it cannot give
    assert emb.inner.texts == report.embedded + report.sentences_embedded


def test_an_admin_job_keeps_the_word_pieces(src, settings):
    """The job runner's progress wrapper passes word pieces through, so a
    version written by an upload still has them (and the next job does not
    embed every chunk again)."""
    from briefing_qa.job_runner import _Progress

    steps = []
    emb = _Progress(FakeEmbedder(), lambda **kw: steps.append(kw))
    vecs, toks = emb.embed_tokens(["The child's views.", "Kids and teenagers in care"])
    _, want = FakeEmbedder().embed_tokens(["The child's views.", "Kids and teenagers in care"])
    assert vecs.shape == (2, 64) and [t.ids.tolist() for t in toks] == [t.ids.tolist() for t in want] and steps
    first = ingest([src], settings, lambda: _Progress(FakeEmbedder(), lambda **kw: None))
    assert store.read_index(settings.index, "fake-bow").tokens is not None and first.embedded == first.chunks
