"""Unit fixtures: a small index of the real briefing built with the fake
embedder (fast; retrieval quality is proven on the real model in
tests/integration)."""

import shutil
from pathlib import Path

import pytest

from briefing_qa import store
from briefing_qa.ingest import ingest
from briefing_qa.lexical import LexicalIndex
from briefing_qa.retrieval import Retriever
from briefing_qa.settings import Settings
from tests.fakes import FakeEmbedder

ROOT = Path(__file__).resolve().parents[2]
BRIEFING = "triennial-analysis-briefing-local-safeguarding-partnerships.txt"


@pytest.fixture(scope="session")
def briefing_retriever(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("briefing-idx")
    (tmp / "src").mkdir()
    shutil.copy(ROOT / "ingest" / BRIEFING, tmp / "src" / BRIEFING)
    settings = Settings.from_env(env={}, index=tmp / "index", model="fake-bow")
    emb = FakeEmbedder()
    assert ingest([tmp / "src"], settings, lambda: emb).ok
    stored = store.read_index(settings.index, "fake-bow")
    return Retriever(stored, emb, LexicalIndex(stored.folder / "lexical"))


@pytest.fixture()
def src(tmp_path):
    """A source folder: the real briefing and a one-line note."""
    d = tmp_path / "src"
    d.mkdir()
    shutil.copy(ROOT / "ingest" / BRIEFING, d / BRIEFING)
    (d / "notes.md").write_text("# Notes\n\nA looked-after child has a health assessment.\n")
    return d


@pytest.fixture()
def settings(tmp_path):
    return Settings.from_env(env={}, index=tmp_path / "index", model="fake-bow")
