"""The HTTP API. Errors of every kind leave as application/problem+json."""

from __future__ import annotations

import threading
from contextlib import asynccontextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import __version__
from .admin import router as admin_router
from .analysis import FOLD_MAP
from .errors import PROBLEM, BriefingQAError, HTTPProblem, InvalidRequest, NotFound
from .records import KINDS
from .service import Engine
from .settings import Settings
from .vocabulary import common_english

STATIC = Path(__file__).parent / "static"
# A source file is someone else's content served on this origin, where the
# quote finder keeps an API key in sessionStorage: it runs sandboxed (a unique
# opaque origin: no scripts, no storage, no same-origin requests) and is never
# sniffed into HTML. Browsers' PDF viewers work under the sandbox.
SOURCE_FILE_HEADERS = {"Content-Security-Policy": "sandbox", "X-Content-Type-Options": "nosniff"}


class Kind(StrEnum):
    text = "text"
    key_message = "key_message"
    learning_points = "learning_points"
    reflective_questions = "reflective_questions"
    example = "example"
    table = "table"


assert {k.value for k in Kind} == set(KINDS)


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(min_length=1, max_length=2000, description="What the practitioner asks.")
    top_k: int = Field(5, ge=1, le=20, description="How many passages to return.")
    document_ids: list[str] | None = Field(None, max_length=50, description="Only search these documents (their ids, as GET /v1/documents lists them): an unknown id is a 404.")
    context: list[Annotated[str, Field(min_length=1, max_length=2000)]] | None = Field(
        None, max_length=5, description="Up to 5 earlier questions of the same conversation, oldest first. A question "
        "that leans on them (\"what about babies?\", \"and at school?\") is answered in the light of the last one; "
        "a question that stands alone is answered as if alone.")

    @field_validator("question")
    @classmethod
    def not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("question must not be blank")
        return v

    @field_validator("context")
    @classmethod
    def context_not_blank(cls, v: list[str] | None) -> list[str] | None:
        if v and any(not c.strip() for c in v):
            raise ValueError("an earlier question must not be blank")
        return v


class CitationOut(BaseModel):
    document_id: str
    document_title: str
    section_path: list[str]
    anchor: str | None
    pages: list[int] | None = Field(description="[first, last] page, or null for sources without pages")
    url: str | None = Field(description="Deep link to the place in the source")
    reference: str = Field(description="One-line human-readable citation")


class PassageOut(BaseModel):
    id: str
    rank: int
    score: float
    quote: str = Field(description="Verbatim slice of the document's canonical text")
    highlights: list[list[int]] = Field(description="[start, end] offsets within quote")
    kind: str
    source_offsets: list[int] = Field(description="[start, end] within the canonical text")
    citation: CitationOut
    also_in: list[CitationOut] = Field(default_factory=list, description="Where else the same text stands")


class CorrectionOut(BaseModel):
    typed: str = Field(description="The word as typed, e.g. chlidren")
    read_as: str = Field(description="The documents' word it was read as, e.g. children")


class AskResponse(BaseModel):
    question: str
    abstained: bool = Field(description="True when the documents do not seem to answer; the closest passages are still listed")
    missing: str | None = Field(None, description="When it is abstained on because the question asks for something "
                                "none of the passages found holds: 'an amount of money' or 'a phone number' "
                                "(\"how much is the fostering allowance\"), or 'what applies in Scotland' (or Wales, "
                                "Northern Ireland: the guidance is England's); else null")
    context_used: list[str] = Field(default_factory=list, description="The earlier question(s) this one was answered in "
                                    "the light of; empty when it was answered alone")
    corrections: list[CorrectionOut] = Field(default_factory=list, description="Words of the question taken for "
                                             "typos and the documents' word each was read as (one letter away; never a "
                                             "word of general English, a name or a quoted phrase)")
    passages: list[PassageOut]


class SearchResponse(BaseModel):
    total: int
    results: list[PassageOut]
    did_you_mean: str | None = Field(None, description="The same search with its mistyped words spelled as the "
                                     "documents spell them, when that finds something")


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quote: str = Field(min_length=1, max_length=5000, description="A quote to look for, word for word, in the documents.")

    @field_validator("quote")
    @classmethod
    def quote_not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("quote must not be blank")
        return v


class VerifyMatch(BaseModel):
    text: str = Field(description="The exact slice of the canonical text the quote stands as")
    source_offsets: list[int] = Field(description="[start, end] within the canonical text")
    identical: bool = Field(description="Character for character, before folding white space, quote marks and dashes")
    parts: list[list[int]] = Field(default=[], description="For a quote with words left out (an ellipsis): [start, end] "
                                   "of each quoted part within the canonical text, in order; empty otherwise")
    citation: CitationOut


class VerifyDifference(BaseModel):
    op: str = Field(description="equal | changed | inserted (in the quote, not the source) | deleted (in the source, not the quote)")
    quote: str
    source: str


class VerifyClosest(BaseModel):
    text: str = Field(description="The closest passage: an exact slice of the canonical text")
    source_offsets: list[int]
    similarity: float = Field(description="Word-level similarity, 0..1")
    differences: list[VerifyDifference]
    citation: CitationOut


class VerifyResponse(BaseModel):
    quote: str
    found: bool
    matches: list[VerifyMatch] = Field(description="Everywhere the quote stands exactly")
    closest: VerifyClosest | None = Field(description="When not found: the closest passage, differences marked")


def problem(exc: BriefingQAError) -> JSONResponse:
    return JSONResponse(exc.problem(), status_code=exc.status, media_type=PROBLEM, headers=exc.headers() or None)


def _base_url(request: Request, settings: Settings) -> str:
    """BRIEFING_QA_PUBLIC_URL, else the request's base when its Host is trusted, else "" (relative links)."""
    from .links import citation_base

    return citation_base(settings, request.url.scheme, request.headers.get("host"), request.scope.get("root_path", ""))


def _doc_summary(doc) -> dict:
    return {
        "id": doc.id, "title": doc.title, "publisher": doc.publisher, "year": doc.year, "url": doc.url,
        "licence": doc.licence, "format": doc.format, "pages": doc.pages, "sections": len(doc.sections),
        "chunks": None, "sha256": doc.sha256,
    }


def _tree(doc) -> list[dict]:
    nodes = {s.id: {"id": s.id, "title": s.title, "level": s.level, "anchor": s.anchor,
                    "pages": list(s.pages) if s.pages else None, "offsets": [s.start, s.end], "children": []}
             for s in doc.sections}
    roots = []
    for s in doc.sections:
        (nodes[s.parent_id]["children"] if s.parent_id else roots).append(nodes[s.id])
    return roots


def _offline_docs(app: FastAPI) -> None:
    """/docs with Swagger UI's files served from the swagger-ui-bundle package:
    FastAPI's default page loads them from a CDN, which an intranet may block."""
    import swagger_ui_bundle
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles

    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs():
        return get_swagger_ui_html(openapi_url=app.openapi_url, title="Briefing QA API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon-32x32.png")


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    engine = engine or Engine(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if not engine.ready:
            engine.try_load()
        engine.watch()  # again after a shutdown of the same app (a test client entered twice)
        # English's common words (0.5 s to build) read slips in words the
        # documents never use: built now, off the first such question's time.
        threading.Thread(target=common_english, name="briefing-qa-common-words", daemon=True).start()
        try:
            yield
        finally:
            engine.stop()

    app = FastAPI(
        title="Briefing QA", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
        description="Verbatim, cited passages from safeguarding briefings and statutory guidance. "
        "Never generates text: every quote is a slice of a source document.",
    )
    app.state.engine = engine
    app.state.settings = settings

    # Each error becomes a BriefingQAError and leaves through problem(); an
    # unexpected exception is turned into a 500 by ObservabilityMiddleware.
    @app.exception_handler(BriefingQAError)
    async def _domain_error(request: Request, exc: BriefingQAError):
        if exc.public_detail != exc.detail:  # a 5xx: the client gets a fixed sentence, the log the reason
            import logging

            logging.getLogger("briefing_qa.api").warning(
                "%s: %s", exc.title, exc.detail,  # no path: it may carry what someone typed
                extra={"status": exc.status, "request_id": getattr(request.state, "request_id", None)})
        return problem(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError):
        errors = [{"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", "")} for e in exc.errors()]
        detail = "; ".join(f"{'.'.join(e['loc'][1:]) or e['loc'][0] if e['loc'] else 'body'}: {e['msg']}" for e in errors)
        return problem(InvalidRequest(detail or "invalid request", errors=errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        return problem(HTTPProblem(exc.status_code, str(exc.detail), getattr(exc, "headers", None)))

    _offline_docs(app)
    from .problem_schema import install as describe_problems

    describe_problems(app)  # /openapi.json: errors as application/problem+json with the Problem schema

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict:
        return {"status": "ok"}

    @app.post("/v1/ask", response_model=AskResponse, tags=["answers"])
    def ask(body: AskRequest, request: Request) -> dict:
        r = engine.retriever()
        _known(r, body.document_ids or ())
        result = r.ask(body.question, body.top_k, body.document_ids, _base_url(request, settings), context=body.context or ())
        return result.to_json(body.question)

    @app.get("/v1/search", response_model=SearchResponse, tags=["answers"])
    def search(
        request: Request,
        q: Annotated[str, Query(max_length=2000, description='Words; "a phrase in double quotes" must match exactly')] = "",
        document_id: Annotated[str | None, Query(max_length=200)] = None,
        section: Annotated[str | None, Query(max_length=500, description="A section title or path prefix")] = None,
        kind: Kind | None = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 10,
        offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    ) -> dict:
        r = engine.retriever()
        _known(r, () if document_id is None else (document_id,))
        total, passages = r.search(q, document_id, section, kind.value if kind else None, limit, offset, _base_url(request, settings))
        # A mistyped word: offer the same search spelled as the documents
        # spell it, when that finds something (the search itself stays as typed).
        better = r.suggest(q) if q.strip() else None
        if better and not r.search(better, document_id, section, kind.value if kind else None, 1, 0)[0]:
            better = None
        return {"total": total, "results": [p.to_json() for p in passages], "did_you_mean": better}

    def _known(r, ids) -> None:
        """A 404 naming the first id the index does not hold: a mistyped or
        removed id is said, not answered from fewer documents (or as "the
        documents do not answer")."""
        unknown = [d for d in ids if d not in r.documents]
        if unknown:
            raise NotFound(f"no document with id {unknown[0]!r}" + (f" (nor {len(unknown) - 1} more)" if len(unknown) > 1 else ""))

    def _doc(doc_id: str):
        r = engine.retriever()
        doc = r.documents.get(doc_id)  # ids are looked up, never used as paths
        if doc is None:
            raise NotFound(f"no document with id {doc_id!r}")
        return r, doc

    @app.get("/v1/documents", tags=["documents"])
    def documents() -> dict:
        r = engine.retriever()
        counts: dict[str, int] = {}
        for c in r.chunks:
            counts[c.document_id] = counts.get(c.document_id, 0) + 1
        return {"documents": [{**_doc_summary(d), "chunks": counts.get(d.id, 0)} for d in r.documents.values()]}

    @app.get("/v1/documents/{doc_id}", tags=["documents"])
    def document(doc_id: str) -> dict:
        r, doc = _doc(doc_id)
        chunks = sum(1 for c in r.chunks if c.document_id == doc.id)
        return {**_doc_summary(doc), "chunks": chunks, "section_tree": _tree(doc)}

    @app.get("/v1/documents/{doc_id}/text", tags=["documents"])
    def document_text(doc_id: str) -> dict:
        _, doc = _doc(doc_id)
        return {"id": doc.id, "text": doc.text}

    @app.get("/v1/documents/{doc_id}/file", tags=["documents"], response_class=FileResponse)
    def document_file(doc_id: str):
        """The source file exactly as indexed. A PDF opens in the browser (deep
        links go to #page=N); any other file downloads. All are sandboxed."""
        r, doc = _doc(doc_id)
        path = r.stored.source_file(doc.id)
        if path is None:
            raise NotFound(f"the source file of {doc_id!r} is not in the index")
        media = {".pdf": "application/pdf", ".html": "text/html", ".htm": "text/html"}.get(path.suffix, "text/plain; charset=utf-8")
        disposition = "inline" if path.suffix == ".pdf" else "attachment"
        return FileResponse(path, media_type=media, filename=doc.path, content_disposition_type=disposition,
                            headers=SOURCE_FILE_HEADERS)

    @app.post("/v1/verify", response_model=VerifyResponse, tags=["answers"])
    def verify_quote(body: VerifyRequest, request: Request) -> dict:
        from .verify import verify

        return verify(engine.retriever(), body.quote, _base_url(request, settings)).to_json()

    @app.get("/v1/widget-config", tags=["widget"])
    def widget_config() -> dict:
        """The chat widget's safety notice and danger phrases (null: the widget's defaults), and the
        character folding it matches phrases with (the service's own, data/fold.json)."""
        phrases = [p.strip() for item in settings.danger_phrases for p in item.split(";") if p.strip()]
        return {"safety_notice": settings.safety_notice or None, "danger_phrases": phrases or None, "fold": FOLD_MAP}

    app.include_router(admin_router(settings, engine))  # the library: /admin and /v1/admin/documents, jobs, audit

    if STATIC.is_dir():
        from fastapi.staticfiles import StaticFiles

        app.mount("/static", StaticFiles(directory=STATIC), name="static")

        @app.get("/", include_in_schema=False)
        def index_page():
            return FileResponse(STATIC / "index.html", media_type="text/html")

        @app.get("/widget.js", include_in_schema=False)
        def widget():
            return FileResponse(STATIC / "widget.js", media_type="text/javascript")

    from .observability import install

    install(app, settings, engine)  # probes, metrics, admin; access keys, CORS, rate and body limits; JSON logs
    return app


