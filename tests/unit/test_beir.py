"""The BEIR runner on a tiny made-up folder, with the fake embedder: the
documents go through the service's chunking, index and retrieval."""

import json

import pytest
from typer.testing import CliRunner

from briefing_qa import store
from briefing_qa.beir import load_qrels, ndcg_at, recall_at, run_beir, to_document
from briefing_qa.settings import Settings
from tests.fakes import FakeEmbedder

CORPUS = [
    {"_id": "d1", "title": "Vitamin D and bone density", "text": "Vitamin D supplements increase bone mineral density in older adults. The effect is small."},
    {"_id": "d2", "title": "Aspirin and heart attacks", "text": "Daily aspirin lowers the risk of a first heart attack. Bleeding is more common."},
    {"_id": "d3", "title": "Sleep and memory", "text": "Sleep after learning consolidates memory in children and adults."},
    {"_id": "d4", "title": "Coffee", "text": "Coffee drinking is not linked to mortality in large cohorts."},
]
QUERIES = [
    {"_id": "1", "text": "vitamin D improves bone density"},
    {"_id": "2", "text": "aspirin prevents heart attacks"},
    {"_id": "3", "text": "sleep consolidates memory"},
]


@pytest.fixture()
def folder(tmp_path):
    d = tmp_path / "tiny"
    (d / "qrels").mkdir(parents=True)
    (d / "corpus.jsonl").write_text("\n".join(json.dumps(r) for r in CORPUS) + "\n")
    (d / "queries.jsonl").write_text("\n".join(json.dumps(r) for r in QUERIES) + "\n")
    (d / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n1\td1\t1\n2\td2\t1\n3\td3\t1\n")
    (d / "qrels" / "train.tsv").write_text("query-id\tcorpus-id\tscore\n1\td1\t1\n")
    return d


def test_metrics():
    assert ndcg_at(["a", "b"], {"a": 1}) == 1.0
    assert ndcg_at(["b", "a"], {"a": 1}) == pytest.approx(1 / 1.5849625)
    assert ndcg_at(["b"], {"a": 1}) == 0.0
    assert recall_at(["a", "x"], {"a": 1, "b": 1}) == 0.5


def test_documents_are_built_like_the_readers_do():
    doc = to_document(CORPUS[0])
    assert doc.title == "Vitamin D and bone density"
    assert doc.sections[0].title == doc.title
    assert [b.type for b in doc.blocks] == ["heading", "paragraph"]
    para = doc.blocks[1]
    assert doc.text[para.start : para.end] == CORPUS[0]["text"]


def test_run_and_cache(folder, tmp_path):
    emb = FakeEmbedder()
    s = Settings.from_env(env={}, model="fake-bow")
    root = tmp_path / "idx"
    res = run_beir(folder, "test", root, lambda: emb, s)
    assert res["queries"] == 3 and res["documents"] == 4
    assert res["ndcg@10"] == pytest.approx(1.0) and res["recall@100"] == 1.0
    embedded = emb.texts
    # A second run re-chunks but embeds nothing: vectors are reused by content hash.
    res2 = run_beir(folder, "train", root, lambda: emb, s)
    assert emb.texts - embedded == 1  # the one train query, no chunk
    assert res2["queries"] == 1 and len(load_qrels(folder, "train")) == 1
    idx = store.read_index(root)
    assert all(c.text == idx.documents[c.document_id].text[c.start : c.end] for c in idx.chunks)
    # The embedded context says the title once.
    for c in idx.chunks:
        title = idx.documents[c.document_id].title
        assert c.context.startswith(title + ": ") and not c.context.startswith(f"{title} › {title}")


def test_cli_last_line(folder, tmp_path, monkeypatch):
    import briefing_qa.embedding as embedding
    from briefing_qa.cli import app

    monkeypatch.setattr(embedding, "load_embedder", lambda path: FakeEmbedder())
    monkeypatch.setenv("BRIEFING_QA_MODEL", "fake-bow")
    out = CliRunner().invoke(app, ["bench", "beir", str(folder), "--split", "test", "--index", str(tmp_path / "i")])
    assert out.exit_code == 0, out.output
    last = out.stdout.strip().splitlines()[-1]
    assert "nDCG@10=1.0000" in last and "recall@100=" in last
    bad = CliRunner().invoke(app, ["bench", "beir", str(tmp_path), "--index", str(tmp_path / "i")])
    assert bad.exit_code != 0 and "not a BEIR folder" in bad.output
