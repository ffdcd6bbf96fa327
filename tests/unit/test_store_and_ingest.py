import json
from pathlib import Path

import pytest

from briefing_qa import store
from briefing_qa.errors import IndexIncompatible, IndexUnavailable
from briefing_qa.ingest import ingest
from briefing_qa.settings import Settings
from tests.fakes import FakeEmbedder

ROOT = Path(__file__).resolve().parents[2]
BRIEFING = "triennial-analysis-briefing-local-safeguarding-partnerships.txt"


def test_ingest_writes_a_readable_versioned_index(src, settings):
    emb = FakeEmbedder()
    report = ingest([src], settings, lambda: emb)
    assert report.ok and report.version and report.embedded == report.chunks > 0
    idx = store.read_index(settings.index, "fake-bow")
    manifest = json.loads((idx.folder / "manifest.json").read_text())
    assert manifest["format_version"] == store.FORMAT_VERSION
    assert manifest["model"] == "fake-bow" and manifest["dimension"] == 64
    assert set(manifest["documents"]) == {"notes", BRIEFING[:-4]}
    assert all(len(d["sha256"]) == 64 for d in manifest["documents"].values())
    for c in idx.chunks:
        assert c.text == idx.documents[c.document_id].text[c.start : c.end]
    assert not list(idx.folder.rglob("*.pkl")) and not list(idx.folder.rglob("*.pickle"))


def test_reingest_unchanged_embeds_nothing_and_writes_no_version(src, settings):
    ingest([src], settings, FakeEmbedder)
    first = store.current_version(settings.index)
    calls = []
    report = ingest([src], settings, lambda: calls.append(1) or FakeEmbedder())
    assert report.version is None and report.embedded == 0 and not calls  # the model is not even loaded
    assert store.current_version(settings.index) == first


def test_index_from_another_pipeline_is_rebuilt_reusing_vectors(src, settings):
    """After an upgrade that changes reading or chunking, unchanged files are
    read and chunked again (their old chunks are stale), but text embedded
    before is not embedded again."""
    import briefing_qa.ingest as ingest_mod

    first = ingest([src], settings, FakeEmbedder)
    manifest = store.current_version(settings.index) / "manifest.json"
    data = json.loads(manifest.read_text())
    assert data["pipeline"] == ingest_mod.PIPELINE
    data["pipeline"] = ingest_mod.PIPELINE - 1
    manifest.write_text(json.dumps(data))
    report = ingest([src], settings, FakeEmbedder)
    assert sorted(report.parsed) == sorted(first.documents) and report.version is not None
    assert report.embedded == 0 and report.reused == report.chunks == first.chunks
    assert store.read_index(settings.index, "fake-bow").manifest.pipeline == ingest_mod.PIPELINE
    # ... and then it is current: the next run is a no-op again.
    assert ingest([src], settings, FakeEmbedder).version is None


def test_changed_and_removed_files(src, settings):
    ingest([src], settings, FakeEmbedder)
    (src / "notes.md").write_text("# Notes\n\nA different text now.\n")
    emb = FakeEmbedder()
    report = ingest([src], settings, lambda: emb)
    assert report.parsed == ["notes"]
    assert 0 < report.embedded < report.chunks  # only the changed file is embedded
    (src / "notes.md").unlink()
    report = ingest([src], settings, FakeEmbedder)
    assert report.removed == ["notes"]
    assert "notes" not in store.read_index(settings.index, "fake-bow").documents


def test_bad_file_is_reported_and_others_indexed(src, settings):
    (src / "broken.pdf").write_bytes(b"%PDF-1.7 garbage")
    (src / "latin.txt").write_bytes("caf\xe9".encode("latin-1"))
    report = ingest([src], settings, FakeEmbedder)
    assert {Path(e.path).name for e in report.errors} == {"broken.pdf", "latin.txt"}
    assert set(report.documents) == {"notes", BRIEFING[:-4]}
    assert report.version is not None


def test_failed_build_leaves_previous_version_serving(src, settings, monkeypatch):
    ingest([src], settings, FakeEmbedder)
    before = store.current_version(settings.index)
    (src / "notes.md").write_text("# Notes\n\nChanged.\n")

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr("briefing_qa.ingest.build_lexical", boom)
    with pytest.raises(RuntimeError):
        ingest([src], settings, FakeEmbedder)
    assert store.current_version(settings.index) == before
    assert store.read_index(settings.index, "fake-bow").documents["notes"].text.endswith("looked-after child has a health assessment.")
    assert not list(settings.index.glob(".tmp-*"))


def test_other_model_or_format_is_refused_with_advice(src, settings):
    ingest([src], settings, FakeEmbedder)
    with pytest.raises(IndexIncompatible, match="briefing-qa ingest"):
        store.read_index(settings.index, "another-model")
    folder = store.current_version(settings.index)
    m = json.loads((folder / "manifest.json").read_text())
    m["format_version"] = 999
    (folder / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(IndexIncompatible, match="format 999"):
        store.read_index(settings.index, "fake-bow")


def test_missing_index_says_what_to_do(tmp_path):
    with pytest.raises(IndexUnavailable, match="briefing-qa ingest"):
        store.read_index(tmp_path / "nothing")


def test_old_versions_are_pruned(src, settings):
    for text in ("one", "two", "three"):
        (src / "notes.md").write_text(f"# Notes\n\n{text}.\n")
        ingest([src], settings, FakeEmbedder)
    versions = [p for p in settings.index.glob("v*") if p.is_dir()]
    assert len(versions) == store.KEEP_VERSIONS
    assert store.current_version(settings.index) in versions


def test_sentence_vectors_are_stored_as_plain_files_and_reused(src, settings):
    from briefing_qa.chunking import sentence_texts

    first = ingest([src], settings, FakeEmbedder)
    idx = store.read_index(settings.index, "fake-bow")
    texts, owner = sentence_texts(idx.chunks)
    assert first.sentences_embedded == len(texts) == len(idx.sentences.owner) > len(idx.chunks)
    assert idx.sentences.owner == owner and idx.sentences.vectors.shape == (len(texts), 64)
    assert json.loads((idx.folder / "manifest.json").read_text())["sentences"] == len(texts)
    # Each row is the vector of its sentence's text (behind the chunk's context prefix).
    k = len(texts) // 2
    assert (idx.sentences.vectors[k] == FakeEmbedder().embed([texts[k]])[0]).all()
    # A changed file: only its new sentences are embedded.
    (src / "notes.md").write_text("# Notes\n\nA looked-after child has a health assessment. Another sentence here.\n")
    report = ingest([src], settings, FakeEmbedder)
    assert 0 < report.sentences_embedded < len(texts)


def test_damaged_sentence_vectors_are_refused_with_advice(src, settings):
    ingest([src], settings, FakeEmbedder)
    folder = store.current_version(settings.index)
    meta = json.loads((folder / "sentences.json").read_text())
    meta["owner"] = meta["owner"][:-1]
    (folder / "sentences.json").write_text(json.dumps(meta))
    with pytest.raises(IndexUnavailable, match="rebuild"):
        store.read_index(settings.index, "fake-bow")


def _fake_model_folder(parent: Path, weights: bytes) -> Path:
    """A model folder as sentence-transformers lays it out; `weights` stands for its weights."""
    folder = parent / "minilm-finetuned"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text('{"hidden_size": 64}')
    (folder / "model.safetensors").write_bytes(weights)
    (folder / "README.md").write_text("notes that do not change a vector")
    return folder


def _assert_all_vectors_are(settings, emb) -> None:
    from briefing_qa.chunking import sentence_texts

    idx = store.read_index(settings.index)
    assert (idx.vector_array() == emb.embed([c.context for c in idx.chunks])).all()
    texts, _ = sentence_texts(idx.chunks)
    assert (idx.sentences.vectors == emb.embed(texts)).all()


def test_another_model_of_the_same_name_and_dimension_reuses_no_vector(src, tmp_path):
    """Two fine-tuned MiniLMs in folders of the same name: the manifest names
    both "all-MiniLM-L6-v2" and both make 64-dimensional vectors, but the
    second must embed everything anew, not inherit the first one's vectors."""
    index = tmp_path / "index"
    a = Settings.from_env(env={}, index=index, model=str(_fake_model_folder(tmp_path / "a", b"weights A")))
    b = Settings.from_env(env={}, index=index, model=str(_fake_model_folder(tmp_path / "b", b"weights B")))
    first = ingest([src], a, lambda: FakeEmbedder("model A"))
    assert first.embedded == first.chunks > 0
    emb_b = FakeEmbedder("model B")
    report = ingest([src], b, lambda: emb_b)
    assert report.version is not None
    assert report.reused == 0 and report.embedded == report.chunks and report.sentences_embedded > 0
    _assert_all_vectors_are(b, emb_b)
    # The same model again: everything reused, nothing written.
    assert ingest([src], b, lambda: FakeEmbedder("model B")).version is None


def test_a_model_retrained_in_place_reuses_no_vector(src, tmp_path):
    folder = _fake_model_folder(tmp_path, b"weights A")
    settings = Settings.from_env(env={}, index=tmp_path / "index", model=str(folder))
    ingest([src], settings, lambda: FakeEmbedder("model A"))
    (folder / "README.md").write_text("edited notes")
    assert ingest([src], settings, lambda: FakeEmbedder("model A")).version is None  # a README changes no vector
    (folder / "model.safetensors").write_bytes(b"weights B")  # same size, other weights
    emb_b = FakeEmbedder("model B")
    report = ingest([src], settings, lambda: emb_b)
    assert report.reused == 0 and report.embedded == report.chunks
    _assert_all_vectors_are(settings, emb_b)


def test_vector_key_depends_on_the_model_identity():
    from briefing_qa.embedding import content_hash

    assert content_hash("text", "model-a") != content_hash("text", "model-b")
    assert content_hash("text", "model-a") == content_hash("text", "model-a")
