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
