"""Library change jobs: records kept as JSON in <index>/admin/jobs/, and
one background worker per server process that runs them one at a time.

Each job runs in a child process (`python -m briefing_qa.job_runner`), at a
lower CPU priority and outside the server's GIL, so questions keep being
answered quickly while a file is parsed and embedded; the child dies with
the server (see job_runner). When it has written and switched to a new
index version, the worker loads that version into the running server and
only then marks the job done. A lock file makes jobs of several server
processes and `briefing-qa ingest` take turns.

On start-up the worker first undoes a change that died half way (the
journal) and marks every job that was queued or running as failed."""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import secrets
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from . import audit
from .errors import NotFound
from .journal import Journal
from .library import Library, atomic_write

log = logging.getLogger("briefing_qa.jobs")

STATES = ("queued", "running", "done", "failed")
JOB_ID = re.compile(r"^j\d{8}-\d{9}-[0-9a-f]{6}$")
KEEP_JOBS = 200


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass(frozen=True)
class Job:
    id: str
    action: str  # "upload" (add or replace), "remove" or "edit"
    state: str = "queued"
    progress: float = 0.0
    stage: str = "queued"
    error: str | None = None
    document_id: str | None = None
    file: str | None = None  # its name in the library folder
    sha256: str | None = None  # of the uploaded file
    attribution: dict = field(default_factory=dict)  # the fields the request set
    key: str | None = None  # the API key's hash id, never the key
    created: str = ""
    started: str | None = None
    finished: str | None = None
    version: str | None = None  # the index version the job wrote
    result: dict = field(default_factory=dict)  # what was done: outcome, parsed, embedded, chunks
    pid: int | None = None  # the server process that queued it

    def with_(self, **changes) -> Job:
        return replace(self, **changes)

    def to_json(self) -> dict:
        d = asdict(self)
        d["job_id"] = d.pop("id")
        d.pop("pid")
        return d

    @classmethod
    def from_json(cls, d: dict) -> Job:
        d = dict(d)
        d["id"] = d.pop("job_id")
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


def new_id() -> str:
    t = time.time()  # sorts in the order jobs were made, to the millisecond
    return time.strftime("j%Y%m%d-%H%M%S", time.gmtime(t)) + f"{int(t * 1000) % 1000:03d}-" + secrets.token_hex(3)


class JobStore:
    """Job records on disk, one JSON file each, replaced atomically."""

    def __init__(self, index: Path) -> None:
        self.folder = Path(index) / "admin" / "jobs"
        self.uploads = Path(index) / "admin" / "uploads"

    def _path(self, job_id: str) -> Path:
        if not JOB_ID.match(job_id or ""):  # ids are checked, never used raw as paths
            raise NotFound(f"no job with id {job_id!r}")
        return self.folder / f"{job_id}.json"

    def save(self, job: Job) -> Job:
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write(self._path(job.id), json.dumps({**job.to_json(), "pid": job.pid}, ensure_ascii=False).encode())
        return job

    def get(self, job_id: str) -> Job:
        try:
            data = json.loads(self._path(job_id).read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            raise NotFound(f"no job with id {job_id!r}") from None
        return Job.from_json(data)

    def all(self) -> list[Job]:
        jobs = []
        for p in sorted(self.folder.glob("j*.json")):
            try:
                jobs.append(Job.from_json(json.loads(p.read_text(encoding="utf-8"))))
            except (OSError, ValueError, TypeError):
                continue
        return jobs

    def recent(self, limit: int = 50) -> list[Job]:
        return sorted(self.all(), key=lambda j: j.id, reverse=True)[:limit]

    def upload_path(self, job: Job) -> Path:
        self._path(job.id)
        return self.uploads / job.id / job.file

    def drop_upload(self, job_id: str) -> None:
        self._path(job_id)
        shutil.rmtree(self.uploads / job_id, ignore_errors=True)

    def prune(self) -> None:
        for job in sorted(self.all(), key=lambda j: j.id)[:-KEEP_JOBS]:
            if job.state in ("done", "failed"):
                self._path(job.id).unlink(missing_ok=True)


def _alive(pid: int | None) -> bool:
    if not pid or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


class JobQueue:
    """The server's side: queue, run one at a time, switch, record."""

    def __init__(self, settings, engine) -> None:
        self.settings = settings
        self.engine = engine
        self.store = JobStore(settings.index)
        self.library = Library(settings.corpus, settings.index)
        self._queue: queue.Queue[str] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.idle = threading.Event()
        self.idle.set()

    def start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="briefing-qa-jobs", daemon=True)
                self._thread.start()

    def submit(self, job: Job, upload: bytes | None = None) -> Job:
        job = job.with_(pid=os.getpid(), created=now())
        if upload is not None:
            path = self.store.upload_path(job)
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as f:
                f.write(upload)
                f.flush()
                os.fsync(f.fileno())
        self.store.save(job)
        self.idle.clear()
        self._queue.put(job.id)
        self.start()
        return job

    def _loop(self) -> None:
        try:
            self.recover()
        except Exception:  # noqa: BLE001 - e.g. a read-only index: jobs will fail and say why
            log.exception("job recovery failed")
        while True:
            job_id = self._queue.get()
            try:
                self._run(job_id)
            except Exception:  # noqa: BLE001 - the worker must survive any one job
                log.exception("job %s failed unexpectedly", job_id)
            finally:
                if self._queue.empty():
                    self.idle.set()

    def _run(self, job_id: str) -> None:
        s = self.settings
        cmd = [sys.executable, "-m", "briefing_qa.job_runner", "--index", str(s.index), "--corpus", str(s.corpus),
               "--parent", str(os.getpid()), job_id]
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, env=os.environ.copy())
        code = proc.wait()
        job = self.store.get(job_id)
        if code == 0 and job.state == "running" and job.version is not None:
            try:
                self.engine.load()  # switch now: "done" means the server answers from it
            except Exception as exc:  # noqa: BLE001 - the watcher will retry; say so
                log.warning("job %s: new version written but not loaded: %s", job_id, exc)
            job = job.with_(state="done", progress=1.0, stage="done", finished=now())
        elif code == 0 and job.state == "running":
            job = job.with_(state="done", progress=1.0, stage="done: nothing changed", finished=now())
        elif job.error:  # the runner said why, and undid its change
            job = job.with_(state="failed", stage="failed", finished=now())
        else:
            with self.library.lock():
                Journal(s.index).rollback()
            job = job.with_(state="failed", stage="failed", finished=now(),
                            error=f"the job stopped unexpectedly (exit status {code}); nothing was changed")
        self._finish(job)

    def _finish(self, job: Job) -> None:
        """Tidy up and record, then show the final state (so a client that
        sees "done" or "failed" sees everything else done too)."""
        self.store.drop_upload(job.id)
        audit.record(self.settings.index, job)
        self.store.save(job)
        self.store.prune()

    def needs_recovery(self) -> bool:
        return Journal(self.settings.index).pending() is not None or any(
            j.state in ("queued", "running") and not _alive(j.pid) for j in self.store.all())

    def recover(self, blocking: bool = True) -> None:
        """After a restart: undo a half-made change; fail what was cut short."""
        with self.library.lock(blocking):
            undone = Journal(self.settings.index).rollback()
            if undone:
                log.warning("undid the library change of job %s, cut short by a stop", undone.get("job_id"))
            for job in self.store.all():
                if job.state not in ("queued", "running") or (job.state == "queued" and _alive(job.pid)):
                    continue
                if job.state == "running" and job.version and (undone is None or undone.get("job_id") != job.id):
                    job = job.with_(state="done", progress=1.0, stage="done", finished=now())  # it had committed
                elif job.state == "running" and job.error:  # it had failed and undone itself
                    job = job.with_(state="failed", stage="failed", finished=now())
                elif job.state == "running":
                    job = job.with_(state="failed", stage="failed", finished=now(), error=(
                        "the server stopped during this job; the library and the index are as they were before it"))
                else:
                    job = job.with_(state="failed", stage="failed", finished=now(),
                                    error="the server stopped before this job ran; nothing was changed: try again")
                self._finish(job)
