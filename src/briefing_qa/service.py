"""The loaded index a server answers from, and its switch to a newer
version when `briefing-qa ingest` writes one: a background thread checks for
it, loads it off any request's time and swaps it in; a request keeps the
Retriever it started with, so none in flight fails."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from . import store
from .embedding import Embedder, model_name
from .errors import IndexIncompatible, IndexUnavailable
from .lexical import ANALYSIS_PIPELINE, LexicalIndex
from .retrieval import ABSTAIN_COSINE, Retriever
from .settings import Settings

log = logging.getLogger("briefing_qa.service")


def open_retriever(index_root: Path, get_embedder, model: str, abstain: float = 0.0) -> Retriever:
    """Read the index first, so a missing one fails before the model loads."""
    stored = store.read_index(index_root, model)
    if (stored.manifest.pipeline or 0) < ANALYSIS_PIPELINE:
        raise IndexIncompatible("the index was built by an older version of the service: rebuild it with `briefing-qa ingest`")
    embedder: Embedder = get_embedder()
    if stored.manifest.dimension != embedder.dimension:
        raise IndexIncompatible(
            f"the index has {stored.manifest.dimension}-dimensional vectors but the model makes {embedder.dimension}: rebuild it")
    # A threshold set by the operator is the whole rule: the cosine floor alone.
    return Retriever(stored, embedder, LexicalIndex(stored.folder / "lexical"), abstain if abstain > 0 else ABSTAIN_COSINE,
                     learned_abstention=abstain <= 0)


class Engine:
    """Holds the current Retriever; a watcher thread switches to new versions."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        # Resolved once: a model adapted after start-up belongs to a later
        # server, and an index built with it is refused until then.
        self.model_path = settings.model_path
        self._embedder = embedder
        self._retriever: Retriever | None = None
        self._lock = threading.Lock()
        self._checked = 0.0
        self._watcher: threading.Thread | None = None
        self._stop = threading.Event()
        self.error: str | None = None
        self.loaded_at: float | None = None

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            from .onnx_encoder import load_query_embedder

            s = self.settings
            self._embedder = load_query_embedder(self.model_path, s.index, s.encoder, s.encoder_threads, s.encoder_batching)
        return self._embedder

    @property
    def current(self) -> Retriever | None:
        """The version being served, or None: for metrics and logs, never raises."""
        return self._retriever

    @property
    def version(self) -> str | None:
        return self._retriever.stored.manifest.version if self._retriever else None

    @property
    def ready(self) -> bool:
        return self._retriever is not None

    def _open(self) -> Retriever:
        s = self.settings
        return open_retriever(s.index, lambda: self.embedder, model_name(self.model_path), s.abstain_threshold)

    def load(self) -> Retriever:
        r = self._open()
        with self._lock:
            self._retriever, self.error, self.loaded_at = r, None, time.time()
        log.info("index loaded", extra={"version": r.stored.manifest.version, "chunks": len(r.chunks)})
        return r

    def try_load(self) -> None:
        try:
            self.load()
        except IndexUnavailable as exc:
            self.error = exc.detail
            log.warning("index not loaded: %s", exc.detail)

    def retriever(self) -> Retriever:
        if self._retriever is None or self._watcher is None:
            self._maybe_reload()  # else the background watcher does it, off the request's time
        r = self._retriever
        if r is None:
            raise IndexUnavailable(self.error or f"no index loaded from {self.settings.index}")
        return r

    def _maybe_reload(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < self.settings.reload_interval:
            return
        self._checked = now
        live = store.current_version(self.settings.index)
        current = self._retriever.stored.folder if self._retriever else None
        if live is not None and live != current and self._lock.acquire(blocking=False):
            try:
                r = self._open()
                self._retriever, self.error, self.loaded_at = r, None, time.time()
                log.info("switched to index version %s", r.stored.manifest.version)
            except IndexUnavailable as exc:
                self.error = exc.detail  # keep serving the version we have
                log.warning("new index version not loaded: %s", exc.detail)
            finally:
                self._lock.release()

    def watch(self) -> threading.Thread:
        """Check for a new index version in the background (once per engine),
        so that loading a new version never happens on a request's time."""
        if self._watcher is not None and self._watcher.is_alive():
            return self._watcher
        interval = max(0.1, float(self.settings.reload_interval))
        stop = self._stop = threading.Event()

        def loop() -> None:
            while not stop.wait(interval):
                if self._retriever is None and self.error is None and self.loaded_at is None:
                    continue  # the first load is (about to be) under way in the app's start-up
                try:
                    self._maybe_reload(force=True)
                except Exception:  # noqa: BLE001 - keep watching; the error is logged
                    log.exception("index reload check failed")

        self._watcher = threading.Thread(target=loop, name="briefing-qa-index-watcher", daemon=True)
        self._watcher.start()
        return self._watcher

    def stop(self) -> None:
        """Stop the background watcher (the app's shutdown): nothing checks or
        logs after the server is gone."""
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=5)
            self._watcher = None
