"""The loaded index a server answers from, and its switch to a newer
version when `briefing-qa ingest` writes one (no request in flight fails:
a request keeps the Retriever it started with)."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from . import store
from .embedding import Embedder, model_name
from .errors import IndexUnavailable
from .lexical import LexicalIndex
from .retrieval import ABSTAIN_COSINE, Retriever
from .settings import Settings

log = logging.getLogger("briefing_qa.service")


def open_retriever(index_root: Path, get_embedder, model: str, abstain: float = 0.0) -> Retriever:
    """Read the index first, so a missing one fails before the model loads."""
    stored = store.read_index(index_root, model)
    embedder: Embedder = get_embedder()
    if stored.manifest.dimension != embedder.dimension:
        raise store.IndexIncompatible(
            f"the index has {stored.manifest.dimension}-dimensional vectors but the model makes {embedder.dimension}: rebuild it")
    return Retriever(stored, embedder, LexicalIndex(stored.folder / "lexical"), abstain if abstain > 0 else ABSTAIN_COSINE)


class Engine:
    """Holds the current Retriever; checks now and then for a new version."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._embedder = embedder
        self._retriever: Retriever | None = None
        self._lock = threading.Lock()
        self._checked = 0.0
        self.error: str | None = None
        self.loaded_at: float | None = None

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            from .onnx_encoder import load_query_embedder

            s = self.settings
            self._embedder = load_query_embedder(s.model, s.index, s.encoder, s.encoder_threads, s.encoder_batching)
        return self._embedder

    def load(self) -> Retriever:
        r = open_retriever(self.settings.index, lambda: self.embedder, model_name(self.settings.model), self.settings.abstain_threshold)
        with self._lock:
            self._retriever = r
            self.error = None
            self.loaded_at = time.time()
        log.info("index loaded", extra={"version": r.stored.manifest.version, "chunks": len(r.chunks)})
        return r

    def try_load(self) -> None:
        try:
            self.load()
        except IndexUnavailable as exc:
            self.error = exc.detail
            log.warning("index not loaded: %s", exc.detail)

    @property
    def ready(self) -> bool:
        return self._retriever is not None

    def retriever(self) -> Retriever:
        if self._retriever is None or getattr(self, "_watcher", None) is None:
            self._maybe_reload()  # else the background watcher does it, off the request's time
        r = self._retriever
        if r is None:
            raise IndexUnavailable(self.error or f"no index loaded from {self.settings.index}")
        return r

    def _maybe_reload(self) -> None:
        now = time.monotonic()
        if now - self._checked < self.settings.reload_interval:
            return
        self._checked = now
        live = store.current_version(self.settings.index)
        current = self._retriever.stored.folder if self._retriever else None
        if live is not None and live != current and self._lock.acquire(blocking=False):
            try:
                r = open_retriever(self.settings.index, lambda: self.embedder, model_name(self.settings.model), self.settings.abstain_threshold)
                self._retriever, self.error, self.loaded_at = r, None, time.time()
                log.info("switched to index version %s", r.stored.manifest.version)
            except IndexUnavailable as exc:
                self.error = exc.detail  # keep serving the version we have
                log.warning("new index version not loaded: %s", exc.detail)
            finally:
                self._lock.release()
