"""The ONNX Runtime query encoder gives torch's vectors, on real text."""

from __future__ import annotations

import numpy as np

from briefing_qa import store
from briefing_qa.onnx_encoder import OnnxEmbedder, ensure, load_query_embedder
from briefing_qa.settings import default_model


def test_onnx_vectors_match_torch(embedder, briefing_index):
    chunks = store.read_index(briefing_index).chunks
    texts = [c.context for c in chunks[:: max(1, len(chunks) // 40)]]
    texts += ["What is the impact of poverty on neglect?", "Who is the designated safeguarding lead?",
              "neglect " * 400]  # longer than the model's 256 word pieces: truncated alike
    onnx = OnnxEmbedder(default_model(), ensure(default_model(), briefing_index))
    a, b = onnx.embed(texts), embedder.embed(texts)
    assert a.shape == b.shape == (len(texts), 384) and a.dtype == np.float32
    cos = (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    assert cos.min() > 0.9999, cos.min()
    # batched or one at a time: the same vectors (padding does not leak into the mean)
    single = np.vstack([onnx.embed([t]) for t in texts[:5]])
    assert np.allclose(single, a[:5], atol=1e-5)
    # the same token budget as the torch model's tokenizer
    for t in texts[:10]:
        assert onnx.token_count(t) == embedder.token_count(t)


def test_server_encoder_is_onnx_and_falls_back_to_torch(briefing_index, tmp_path):
    emb = load_query_embedder(default_model(), briefing_index, "onnx")
    assert isinstance(emb, OnnxEmbedder) and emb.path.parent == briefing_index / "encoder"
    assert not isinstance(load_query_embedder(default_model(), briefing_index, "torch"), OnnxEmbedder)


def test_concurrent_questions_are_batched_and_each_gets_its_own_vector(briefing_index):
    from concurrent.futures import ThreadPoolExecutor

    onnx = OnnxEmbedder(default_model(), ensure(default_model(), briefing_index))
    questions = [f"What should happen at case review number {i} about neglect and {w}?"
                 for i, w in enumerate(["poverty", "housing", "schools", "police", "health", "consent"] * 8)]
    alone, alone_tokens = onnx.embed_tokens(questions)
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda q: onnx.embed_tokens([q]), questions))
    assert np.allclose(np.vstack([v for v, _ in got]), alone, atol=1e-5)
    for (_, [t]), a in zip(got, alone_tokens):  # each its own word pieces too
        assert np.array_equal(t.ids, a.ids) and np.allclose(t.vectors, a.vectors, atol=1e-4)
    b = onnx._batcher
    assert b.encoded == len(questions) and b.batches < len(questions)  # some were encoded together


def test_int8_encoder_is_close_and_the_default(embedder, briefing_index):
    """int8 is three times faster and close to torch's vectors; it is the
    default because it holds the retrieval figures (docs/performance.md)."""
    path = ensure(default_model(), briefing_index, int8=True)
    # The matrix weights in int8; the word-embedding table stays fp32 (a lookup: no speed to gain).
    assert path.name.endswith("-int8pc.onnx") and path.stat().st_size < 0.7 * ensure(default_model(), briefing_index).stat().st_size
    texts = ["What is the impact of poverty on neglect?", "Can I share information without consent?"]
    a, b = OnnxEmbedder(default_model(), path).embed(texts), embedder.embed(texts)
    assert ((a * b).sum(axis=1) > 0.98).all()  # per-channel MatMul quantisation: ~0.994 on real questions
    from briefing_qa.settings import Settings

    assert Settings.from_env(env={}).encoder == "onnx-int8"


def test_onnx_word_pieces_match_torch(embedder, briefing_index):
    """Late interaction (tokens.py) compares the server's question pieces
    with the pieces ingestion stored from torch: the same pieces, close
    vectors; stop words, punctuation and [CLS]/[SEP] left out on both."""
    texts = ["What share of the kids had a disability?", "DSL refresher training - how often?"]
    _, mine = OnnxEmbedder(default_model(), ensure(default_model(), briefing_index)).embed_tokens(texts)
    _, theirs = embedder.embed_tokens(texts)
    tok = embedder.model.tokenizer
    for a, b in zip(mine, theirs):
        assert np.array_equal(a.ids, b.ids)
        assert ((a.vectors * b.vectors).sum(axis=1) > 0.999).all()
    pieces = tok.convert_ids_to_tokens(mine[0].ids.tolist())
    assert "kids" in pieces and "disability" in pieces
    assert not {"what", "of", "the", "?", "[CLS]", "[SEP]"} & set(pieces)
