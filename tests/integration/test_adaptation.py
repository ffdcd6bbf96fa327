"""The encoder adapted to the corpus (adaptation.py), trained on the real
model and corpus as `make index` does: the service's index is built with it,
and it finds the answers of blind questions, never read in training, more
often than the bundled model it came from."""

import json

import numpy as np

from briefing_qa import analysis
from briefing_qa.adaptation import ADAPTED_DIR, Adaptation, Recipe
from briefing_qa.settings import default_model
from tests.conftest import TRAINING_QUESTIONS, report_half


def test_the_adapted_model_says_what_it_was_made_from(adapted_model, embedder):
    from briefing_qa.embedding import model_identity

    info = Adaptation.read(adapted_model)
    assert info is not None and info.base == "all-MiniLM-L6-v2" and info.base_id == model_identity(default_model())
    assert len(info.documents) == 6 and info.pairs >= 1000 and info.steps == info.pairs // Recipe().batch
    assert info.last_loss < info.first_loss  # it learned something
    assert len(info.losses) == info.steps
    # The second stage read the question files `make index` names, and
    # found most answers in the chunks.
    assert sorted(info.questions) == sorted(p.name for p in TRAINING_QUESTIONS)
    assert info.question_pairs >= 300  # the tune halves and bench/train.jsonl
    r = Recipe()
    assert len(info.question_losses) == info.question_pairs // r.question_batch * r.question_epochs


def test_the_served_index_is_built_with_the_adapted_model(corpus_index, retriever):
    manifest = json.loads((retriever.stored.folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["model"] == "all-MiniLM-L6-v2+adapted"
    assert corpus_index.model_path == str(corpus_index.index / ADAPTED_DIR)


def _gold_ranks(chunks, vectors, question_vectors, questions) -> list[int]:
    texts = [analysis.fold_quote(c.text) for c in chunks]
    ranks = []
    for q, v in zip(questions, question_vectors):
        gold = [i for i, t in enumerate(texts) if any(analysis.fold_quote(a) in t for a in q.accept)]
        if gold:
            order = np.argsort(-(vectors @ v), kind="stable")
            pos = np.empty(len(order), dtype=np.int64)
            pos[order] = np.arange(len(order))
            ranks.append(int(min(pos[g] for g in gold)) + 1)
    return ranks


def test_adapted_vectors_find_blind_answers_more_often(retriever, served_embedder, embedder):
    """Chunk vectors alone (no BM25, no re-ranking), on the report halves of
    blind2 and blind3, which training never reads: the same chunks embedded
    by each model."""
    qs = report_half()
    texts = [" ".join([*q.context, q.question]) for q in qs]
    contexts = [c.context for c in retriever.chunks]
    ranks = {}
    for name, model in (("bundled", embedder), ("adapted", served_embedder)):
        ranks[name] = np.array(_gold_ranks(retriever.chunks, model.embed(contexts), model.embed(texts), qs))
    mrr = {k: float(np.where(r <= 10, 1.0 / r, 0.0).mean()) for k, r in ranks.items()}
    hit5 = {k: float((r <= 5).mean()) for k, r in ranks.items()}
    assert len(ranks["adapted"]) >= 35
    assert mrr["adapted"] >= mrr["bundled"] + 0.03, (mrr, hit5)
    assert hit5["adapted"] > hit5["bundled"], (mrr, hit5)


def test_the_onnx_encoder_serves_the_adapted_model(adapted_model, served_embedder, tmp_path):
    """The service encodes questions with ONNX Runtime: the adapted model's
    folder (as sentence-transformers 5 saves it) must be read as the bundled
    one is, not fall back to torch."""
    from briefing_qa.onnx_encoder import OnnxEmbedder, load_query_embedder

    onnx = load_query_embedder(str(adapted_model), tmp_path, "onnx", batching=False)
    assert isinstance(onnx, OnnxEmbedder)
    texts = ["what do schools have to do about children missing education", "kids with a parent in prison"]
    a, b = onnx.embed(texts), served_embedder.embed(texts)
    assert float(np.min(np.sum(a * b, axis=1))) > 0.999
