"""The admin API and page: intranet teams manage the library themselves.

Every /v1/admin/ route needs an admin key (security.py answers 401 without
a key and 403 for a read key); with no admin key configured at all, these
routes refuse (403), so a server without keys cannot be changed by anyone
who reaches it. Changes are queued as jobs (jobs.py) and answered 202.
Checks that need no parsing are made at once: 413, 415, 422 or 409."""


import hashlib
import logging
import os
import time
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from . import audit, store
from .errors import BriefingQAError, Conflict, Forbidden, IndexUnavailable, InvalidRequest, NotFound, PayloadTooLarge
from .jobs import Job, JobQueue, new_id
from .library import FIELDS, Library, clean_attribution, safe_name, sniff
from .security import ADMIN, parse_keys
from .sources import sha256_file

log = logging.getLogger("briefing_qa.admin")
STATIC = Path(__file__).parent / "static"


class JobAccepted(BaseModel):
    job_id: str
    document_id: str | None = None


class JobOut(BaseModel):
    job_id: str
    action: str = Field(description="upload (add or replace), remove or edit")
    state: str = Field(description="queued | running | done | failed")
    progress: float = Field(description="0..1")
    stage: str
    error: str | None = Field(description="Why it failed, in plain words")
    document_id: str | None
    file: str | None
    sha256: str | None
    created: str
    started: str | None
    finished: str | None
    version: str | None = Field(description="The index version the job wrote")
    result: dict = Field(description="outcome (added, replaced, removed, edited, unchanged), parsed, embedded, chunks")


class AttributionPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, max_length=300)
    publisher: str | None = Field(None, max_length=300, description="null or \"\" clears it")
    year: str | int | None = Field(None, description="A year, e.g. 2026 (text or a number); \"\" clears it (references then say n.d.)")
    url: str | None = Field(None, max_length=2000, description="http(s) only")
    licence: str | None = Field(None, max_length=300)


def _problems(**described: str) -> dict:
    """OpenAPI responses for the admin routes' own statuses (s409="…"), as problem+json."""
    content = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    return {int(k[1:]): {"description": v, "content": content} for k, v in described.items()}


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def router(settings, engine) -> APIRouter:
    """The admin routes, bound to one server's settings, engine and job queue."""
    lib = Library(settings.corpus, settings.index)
    jobs = JobQueue(settings, engine)
    has_admin = any(k.role == ADMIN for k in parse_keys(settings.api_keys).values())
    if has_admin and jobs.needs_recovery():
        try:  # before the first load, so a change cut short is undone before it is served
            jobs.recover(blocking=False)
        except (BlockingIOError, OSError) as exc:
            log.warning("library recovery deferred to the job worker: %s", exc)
        jobs.start()

    def admin_only(request: Request) -> str | None:
        if not has_admin:
            raise Forbidden("the library can only be changed with an admin key: set BRIEFING_QA_API_KEYS to include "
                            "one (`secret:admin`) and restart")
        jobs.start()  # its first act: recovery after a restart
        return getattr(request.state, "client_key", None)

    Key = Annotated[str | None, Depends(admin_only)]
    r = APIRouter(tags=["admin"])

    def refused(key, action: str, exc: BriefingQAError, **what) -> None:
        audit.append(settings.index, {"key": key, "action": action, **what, "result": "refused", "status": exc.status,
                                      "error": exc.detail})

    def writable() -> None:
        for folder, what in ((settings.corpus, "library folder"), (settings.index, "index folder")):
            if not os.access(folder if folder.exists() else folder.parent, os.W_OK):
                raise Conflict(f"this server cannot change the library: the {what} {folder} is read-only")

    def covers_index() -> None:
        live = store.current_version(settings.index)
        if live is None:
            return
        missing = sorted(set(store.Manifest.read(live).documents) - {f.id for f in lib.files()})
        if missing:
            raise Conflict(f"the index holds documents whose files are not in the library folder {settings.corpus} "
                           f"({', '.join(missing[:5])}): run `briefing-qa ingest {settings.corpus}` first, or serve "
                           "with --corpus set to the folder the index was built from")

    @r.get("/admin", include_in_schema=False)
    def admin_page():
        return FileResponse(STATIC / "admin.html", media_type="text/html")

    @r.get("/v1/admin/documents", summary="The library: its files, their attribution and what the index holds")
    def library(key: Key) -> dict:
        try:
            served = engine.retriever()
            docs, counts = served.documents, {}
            for c in served.chunks:
                counts[c.document_id] = counts.get(c.document_id, 0) + 1
        except IndexUnavailable:
            docs, counts = {}, {}
        out, seen = [], set()
        for f in lib.files():
            d, st, seen = docs.get(f.id), f.path.stat(), seen | {f.id}
            meta = {k: getattr(f.meta, k) if f.meta else None for k in FIELDS}
            status = "indexed" if d is not None and d.sha256 == sha256_file(f.path) else (
                "changed since indexed" if d is not None else "not indexed")
            out.append({"id": f.id, "file": f.path.relative_to(lib.folder).as_posix(), **meta,
                        "title": d.title if d else meta["title"] or f.path.stem, "format": d.format if d else None,
                        "pages": d.pages if d else None, "chunks": counts.get(f.id, 0), "bytes": st.st_size,
                        "added": _iso(st.st_mtime), "status": status})
        for d in docs.values():
            if d.id not in seen:
                out.append({"id": d.id, "file": d.path, **{k: getattr(d, k) for k in FIELDS}, "format": d.format,
                            "pages": d.pages, "chunks": counts.get(d.id, 0), "bytes": None, "added": None,
                            "status": "not in the library folder"})
        return {"corpus": str(settings.corpus), "max_file_mb": settings.max_file_mb, "documents": out}

    @r.post("/v1/admin/documents", status_code=202, response_model=JobAccepted,
            summary="Add a document, or replace the one with the same file name (a job)",
            responses=_problems(s409="The name would give another file's document id, or the library cannot be changed",
                                s415="A type not supported, or content that is not what the name says"))
    async def upload(
        request: Request, key: Key,
        file: Annotated[UploadFile, File(description="PDF, HTML, Markdown, text or a WordPress page export")],
        title: Annotated[str | None, Form(max_length=300)] = None,
        publisher: Annotated[str | None, Form(max_length=300)] = None,
        year: Annotated[str | None, Form(max_length=20)] = None,
        url: Annotated[str | None, Form(max_length=2000)] = None,
        licence: Annotated[str | None, Form(max_length=300)] = None,
    ):
        limit = int(settings.max_file_mb * 1e6)
        data, sha = b"", None
        try:
            name = safe_name(file.filename)
            data = await file.read(limit + 1)
            sha = hashlib.sha256(data).hexdigest()
            if len(data) > limit:
                raise PayloadTooLarge(f"{name} is over the {settings.max_file_mb:g} MB limit (BRIEFING_QA_MAX_FILE_MB)")
            sniff(name, data)
            given = {"title": title, "publisher": publisher, "year": year, "url": url, "licence": licence}
            attribution = {k: v for k, v in clean_attribution(given, partial=False).items() if v}  # blank: keep
            doc_id = lib.check_new_name(name)
            writable()
            covers_index()
        except BriefingQAError as exc:
            refused(key, "upload", exc, file=(file.filename or "")[:200], sha256=sha)
            raise
        job = jobs.submit(Job(id=new_id(), action="upload", document_id=doc_id, file=name, sha256=sha,
                              attribution=attribution, key=key), upload=data)
        return JSONResponse({"job_id": job.id, "document_id": doc_id}, status_code=202,
                            headers={"Location": f"/v1/admin/jobs/{job.id}"})

    def _known(doc_id: str):
        f = lib.find(doc_id)  # ids are looked up, never used as paths
        if f is None:
            pending = next((j for j in jobs.store.recent(20) if j.document_id == doc_id and j.action == "upload"
                            and j.state in ("queued", "running")), None)
            if pending is not None:
                raise Conflict(f"{doc_id!r} is still being added (job {pending.id}): try again when that job is done")
            raise NotFound(f"no document with id {doc_id!r} in the library")
        return f

    @r.patch("/v1/admin/documents/{doc_id}", status_code=202, response_model=JobAccepted,
             summary="Edit a document's attribution, without embedding anything again (a job)",
             responses=_problems(s409="The document is still being added, or the library cannot be changed"))
    def edit(doc_id: str, body: AttributionPatch, key: Key):
        changes = body.model_dump(exclude_unset=True)
        try:
            if not changes:
                raise InvalidRequest(f"nothing to change: send one or more of {', '.join(FIELDS)}")
            attribution = clean_attribution(changes, partial=True)
            f = _known(doc_id)
            writable()
        except BriefingQAError as exc:
            refused(key, "edit", exc, document_id=doc_id[:200])
            raise
        job = jobs.submit(Job(id=new_id(), action="edit", document_id=doc_id, file=f.path.name, attribution=attribution, key=key))
        return JSONResponse({"job_id": job.id, "document_id": doc_id}, status_code=202,
                            headers={"Location": f"/v1/admin/jobs/{job.id}"})

    @r.delete("/v1/admin/documents/{doc_id}", status_code=202, response_model=JobAccepted,
              summary="Remove a document from the library and the index (a job)",
              responses=_problems(s409="The last document, one still being added, or the library cannot be changed"))
    def remove(doc_id: str, key: Key):
        try:
            f = _known(doc_id)
            if len(lib.files()) == 1:
                raise Conflict("this is the only document in the library; add another before removing it")
            writable()
            covers_index()
        except BriefingQAError as exc:
            refused(key, "remove", exc, document_id=doc_id[:200])
            raise
        job = jobs.submit(Job(id=new_id(), action="remove", document_id=doc_id, file=f.path.name, key=key))
        return JSONResponse({"job_id": job.id, "document_id": doc_id}, status_code=202,
                            headers={"Location": f"/v1/admin/jobs/{job.id}"})

    @r.get("/v1/admin/jobs", summary="Recent jobs, newest first")
    def recent(key: Key, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> dict:
        return {"jobs": [j.to_json() for j in jobs.store.recent(limit)]}

    @r.get("/v1/admin/jobs/{job_id}", response_model=JobOut, summary="One job: state, progress, stage, error")
    def job(job_id: str, key: Key) -> dict:
        return jobs.store.get(job_id).to_json()

    @r.get("/v1/admin/audit", summary="The audit log: one entry per change or refused upload, oldest first")
    def audit_log(key: Key, limit: Annotated[int, Query(ge=1, le=10_000)] = 500) -> dict:
        return {"entries": audit.read(settings.index, limit)}

    r.jobs = jobs  # for tests and the benchmark
    return r
