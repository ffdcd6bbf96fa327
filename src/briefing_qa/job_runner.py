"""One library change, run in a child process of the server (jobs.JobQueue):

    python -m briefing_qa.job_runner --index DIR --corpus DIR --parent PID JOB_ID

It dies with the server (PR_SET_PDEATHSIG), runs at a lower CPU priority,
and under the library lock with a journal: a file that cannot be read, an
error or a kill leaves the library, sources.toml and the index as they were.
An upload goes through the same incremental `ingest` as the CLI (only the
changed file is parsed and embedded); an attribution edit writes a new
version from the live one without embedding anything."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from . import store
from .errors import BriefingQAError, Conflict, IndexUnavailable, InvalidRequest, NotFound, SourceError
from .jobs import Job, JobStore, now
from .journal import Journal
from .library import FIELDS, Library, plain_reason
from .settings import Settings
from .sources import sha256_file

log = logging.getLogger("briefing_qa.jobs")


class _Progress:
    """Wraps the embedder to report progress batch by batch. ingest embeds
    the new chunks first, then their sentences (about three times as many)."""

    STAGES = [("embedding the new passages", 0.25, 0.45), ("embedding their sentences", 0.45, 0.9)]

    def __init__(self, inner, report) -> None:
        self.inner, self.report, self.calls = inner, report, 0
        self.name, self.dimension, self.max_tokens = inner.name, inner.dimension, inner.max_tokens

    def fits(self, text: str) -> bool:
        return self.inner.fits(text)

    def embed(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._run(texts, lambda batch: (self.inner.embed(batch), None))[0]

    def embed_tokens(self, texts: list[str], progress: bool = False):
        """The vectors and word pieces (tokens.py), with the same progress;
        without it a job would write a version with no word pieces."""
        return self._run(texts, lambda batch: self.inner.embed_tokens(batch))

    def _run(self, texts: list[str], encode) -> tuple[np.ndarray, list]:
        stage, lo, hi = self.STAGES[min(self.calls, 1)]
        self.calls += 1
        # Shortest first, so each batch pads to a length near its own (the
        # ONNX encoder pads a batch to its longest text): 30 % faster here.
        order = sorted(range(len(texts)), key=lambda k: len(texts[k]))
        out = np.zeros((len(texts), self.dimension), dtype="float32")
        pieces: list = [None] * len(texts)
        for i in range(0, len(texts), 64):
            self.report(stage=stage, progress=round(lo + (hi - lo) * i / len(texts), 3))
            rows = order[i : i + 64]
            vecs, toks = encode([texts[k] for k in rows])
            out[rows] = vecs
            for k, t in zip(rows, toks or [None] * len(rows)):
                pieces[k] = t
        self.report(stage="writing the new index version", progress=hi)
        return out, pieces


class Runner:
    def __init__(self, settings: Settings, job_id: str) -> None:
        self.s = settings
        self.store = JobStore(settings.index)
        self.library = Library(settings.corpus, settings.index)
        self.journal = Journal(settings.index)
        self.job: Job = self.store.get(job_id)
        self._embedder = None

    def update(self, **changes) -> None:
        self.job = self.store.save(self.job.with_(**changes))

    def run(self) -> int:
        self.update(state="running", stage="waiting for the library", progress=0.01, started=now())
        with self.library.lock():
            try:
                self.journal.rollback()  # a change cut short before this one (normally none)
                {"upload": self.upload, "remove": self.remove, "edit": self.edit}[self.job.action]()
                return 0
            except BriefingQAError as exc:
                error = f"{self.job.file or Path(exc.path).name}: {plain_reason(exc.reason)}" if isinstance(exc, SourceError) else exc.detail
            except Exception as exc:  # noqa: BLE001 - logged with its stack; the user gets its type
                log.exception("job %s failed", self.job.id)
                error = f"unexpected error ({type(exc).__name__}); it has been logged"
            self.journal.rollback()
            # The server marks it failed once it has tidied up (jobs.JobQueue._run).
            self.update(stage="failed", error=error + "; nothing was changed")
            return 1

    # -- the three kinds of change -------------------------------------------
    def upload(self) -> None:
        job, lib = self.job, self.library
        staged = self.store.upload_path(job)
        if not staged.is_file():
            raise InvalidRequest("the uploaded file is missing from the job's folder: upload it again")
        doc_id = lib.check_new_name(job.file)
        self._check_library_covers_index()
        existing = lib.by_name(job.file)
        meta = {k: v for k, v in {**(asdict(existing.meta) if existing and existing.meta else {}), **job.attribution}.items()
                if k in FIELDS and v}
        target = lib.folder / job.file
        self.journal.begin(job.id, [target, lib.catalog_of(target)])
        self.update(stage="adding the file to the library", progress=0.15)
        lib.folder.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{job.file}.{job.id}.tmp")  # dot files are never indexed
        shutil.copyfile(staged, tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
        lib.set_attribution(target, meta)
        report = self._ingest(stop_on=target)  # the file is read once, there: a bad one stops the job before any write
        if doc_id not in report.documents:
            raise Conflict(f"{job.file} was not indexed as {doc_id!r}; nothing was changed")
        self._done(report, "replaced" if existing else "added", doc_id)

    def remove(self) -> None:
        job, lib = self.job, self.library
        f = lib.find(job.document_id)
        if f is None:
            raise NotFound(f"no document with id {job.document_id!r} in the library (removed already?)")
        if len(lib.files()) == 1:
            raise Conflict("this is the only document in the library; add another before removing it")
        self._check_library_covers_index()
        self.update(file=f.path.name, sha256=sha256_file(f.path), stage="removing the file", progress=0.1)
        self.journal.begin(job.id, [f.path, lib.catalog_of(f.path)])
        f.path.unlink()
        lib.set_attribution(f.path, None)
        report = self._ingest()
        if job.document_id in report.documents:
            raise Conflict(f"{job.document_id!r} is still indexed from another file")
        self._done(report, "removed", job.document_id)

    def edit(self) -> None:
        """Attribution only: a new version from the live one, chunks and vectors kept."""
        from .embedding import model_identity, model_name
        from .ingest import IngestReport, _same_pipeline, build_version

        job, lib = self.job, self.library
        f = lib.find(job.document_id)
        if f is None:
            raise NotFound(f"no document with id {job.document_id!r} in the library")
        prev = store.read_index(self.s.index, model_name(self.s.model_path))
        doc = prev.documents.get(job.document_id)
        if doc is None:
            raise Conflict(f"{job.document_id!r} is in the library but not in the index yet; run `briefing-qa ingest`")
        meta = {k: v for k, v in {**(asdict(f.meta) if f.meta else {}), **job.attribution}.items() if k in FIELDS and v}
        self.update(file=f.path.name, sha256=doc.sha256, stage="writing the attribution", progress=0.2)
        self.journal.begin(job.id, [lib.catalog_of(f.path)])
        lib.set_attribution(f.path, meta)
        if not _same_pipeline(prev, self.s.chunk_tokens, model_identity(self.s.model_path)):  # older pipeline: as `ingest` would
            self._done(self._ingest(), "edited", doc.id)
            return
        new = replace(doc, title=meta.get("title") or doc.title, **{k: meta.get(k) for k in FIELDS if k != "title"})
        docs = [new if d.id == doc.id else d for d in prev.documents.values()]
        files = {d.id: p for d in docs if (p := prev.source_file(d.id)) is not None}
        self.update(stage="writing the new index version", progress=0.5)
        report = IngestReport(documents=[d.id for d in docs])
        build_version(docs, self.s, self._embedder_factory, prev, set(), report, files)
        self._done(report, "edited", doc.id)

    # -- shared steps --------------------------------------------------------
    def _check_library_covers_index(self) -> None:
        live = store.current_version(self.s.index)
        if live is None:
            return
        indexed = set(store.Manifest.read(live).documents)
        missing = sorted(indexed - {f.id for f in self.library.files()})
        if missing:
            raise Conflict(f"the index holds documents whose files are not in the library folder {self.s.corpus} "
                           f"({', '.join(missing[:5])}): run `briefing-qa ingest {self.s.corpus}` first, or serve with "
                           "--corpus set to the folder the index was built from")

    def _embedder_factory(self):
        if self._embedder is None:
            if self.s.job_encoder == "onnx":
                from .onnx_encoder import load_query_embedder

                inner = load_query_embedder(self.s.model_path, self.s.index, "onnx", threads=2, batching=False)
            else:
                from .embedding import load_embedder

                inner = load_embedder(self.s.model_path)
            self._embedder = _Progress(inner, self.update)
        return self._embedder

    def _ingest(self, stop_on: Path | None = None):
        """`ingest` of the library folder. A reading error of `stop_on`
        stops it before anything is written (other files' errors are theirs)."""
        from .ingest import ingest

        def on_error(err: SourceError) -> None:
            if stop_on is not None and Path(err.path).name == stop_on.name:
                raise err

        self.update(stage="reading the changed file", progress=0.2)
        return ingest([self.library.folder], self.s, self._embedder_factory, on_error=on_error)

    def _done(self, report, outcome: str, doc_id: str) -> None:
        result = {"outcome": outcome if report.version else "unchanged", "parsed": len(report.parsed),
                  "embedded": report.embedded, "sentences_embedded": report.sentences_embedded,
                  "chunks": report.chunks, "seconds": round(report.seconds, 2)}
        # Recorded before the journal is dropped: a stop in between is undone
        # on restart (the journal wins), a stop after it keeps the change.
        self.update(version=report.version, result=result, document_id=doc_id, stage="switching to the new version",
                    progress=0.97)
        self.journal.commit()


def _die_with_parent(parent: int) -> None:
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the server died before the line above
        os._exit(3)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="briefing_qa.job_runner")
    ap.add_argument("--index", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--parent", type=int, required=True)
    ap.add_argument("job_id")
    args = ap.parse_args(argv)
    _die_with_parent(args.parent)
    try:
        os.nice(10)  # the server's questions first
    except OSError:
        pass
    from .observability import configure_logging

    configure_logging()
    try:
        settings = Settings.from_env(index=Path(args.index), corpus=Path(args.corpus))
        return Runner(settings, args.job_id).run()
    except (BriefingQAError, IndexUnavailable) as exc:
        log.error("job %s could not start: %s", args.job_id, exc.detail)
        return 2


if __name__ == "__main__":
    sys.exit(main())
