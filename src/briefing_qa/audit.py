"""The audit log: one JSON line for every library change or refused upload,
appended to <index>/admin/audit.jsonl. A key is named by its hash id (as
in the access log), never written itself."""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path

FILE = "audit.jsonl"


def path(index: Path) -> Path:
    return Path(index) / "admin" / FILE


def append(index: Path, entry: dict) -> None:
    p = path(index)
    p.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **entry}, ensure_ascii=False)
    with open(p, "a", encoding="utf-8") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)  # whole lines, even from several processes
        f.write(line + "\n")
        f.flush()
        os.fsync(f.fileno())
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def record(index: Path, job) -> None:
    """The line for a finished job."""
    append(index, {
        "key": job.key, "action": job.result.get("outcome") or job.action, "document_id": job.document_id,
        "file": job.file, "sha256": job.sha256, "result": job.state, "error": job.error, "job_id": job.id,
        "version": job.version, **({"attribution": job.attribution} if job.attribution else {}),
    })


def read(index: Path, limit: int = 500) -> list[dict]:
    """The last `limit` entries, oldest first."""
    try:
        lines = path(index).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    out = []
    for line in lines[-limit:]:
        try:
            out.append(json.loads(line))
        except ValueError:
            continue  # a line cut short by a crash
    return out
