"""The journal of one library change, so that a change that dies half way
(an error, or the server killed) is undone: the library folder, its
`sources.toml` and the served index version all go back to how they were.

    begin()    copy every file the change will touch (or note it absent) and
               the live index version into <index>/admin/journal/, fsynced
    ...        change the library, build and switch to a new index version
    commit()   the change stands: drop the journal
    rollback() put the files back, point CURRENT at the version before

A server that starts and finds a journal rolls it back (jobs.recover)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from . import store
from .library import atomic_write

JOURNAL = "journal"


class Journal:
    def __init__(self, index: Path) -> None:
        self.index = Path(index)
        self.folder = self.index / "admin" / JOURNAL
        self.file = self.folder / "journal.json"

    def pending(self) -> dict | None:
        try:
            return json.loads(self.file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except ValueError:
            # Written atomically before anything changes, so a damaged one means
            # the disk was damaged: nothing to restore from.
            return {"job_id": None, "before": None, "files": [], "damaged": True}

    def begin(self, job_id: str, paths: list[Path]) -> None:
        if self.pending() is not None:
            self.rollback()
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        before = store.current_version(self.index)
        files = []
        for n, path in enumerate(paths):
            backup = None
            if path.is_file():
                backup = self.folder / f"{n}.bak"
                shutil.copyfile(path, backup)
                with open(backup, "rb") as f:
                    os.fsync(f.fileno())
            files.append({"path": str(Path(path).resolve()), "backup": str(backup) if backup else None})
        record = {"job_id": job_id, "before": before.name if before else None, "files": files}
        atomic_write(self.file, json.dumps(record, indent=1).encode())

    def commit(self) -> None:
        self.file.unlink(missing_ok=True)
        shutil.rmtree(self.folder, ignore_errors=True)

    def rollback(self) -> dict | None:
        """Undo the pending change, if any; returns what was undone."""
        record = self.pending()
        if record is None:
            return None
        for entry in record.get("files", []):
            path = Path(entry["path"])
            if entry.get("backup"):
                tmp = path.with_name(f".{path.name}.restore")
                shutil.copyfile(entry["backup"], tmp)
                os.replace(tmp, path)
            else:
                path.unlink(missing_ok=True)
        if record.get("damaged"):
            self.commit()
            return record
        before = record.get("before")
        live = store.current_version(self.index)
        if before and (live is None or live.name != before) and (self.index / before).is_dir():
            pointer = self.index / f".{store.CURRENT}.rollback"
            pointer.write_text(before + "\n", encoding="utf-8")
            os.replace(pointer, self.index / store.CURRENT)
        elif before is None and live is not None:
            (self.index / store.CURRENT).unlink(missing_ok=True)
        self.commit()
        return record


@contextlib.contextmanager
def exclusive(corpus: Path, index: Path) -> Iterator[None]:
    """Hold the library lock, with any change cut short undone first: how
    `briefing-qa ingest` and the server's jobs take turns on one library."""
    from .library import Library

    with Library(corpus, index).lock():
        Journal(index).rollback()
        yield
