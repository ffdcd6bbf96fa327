"""What an operator sees: structured JSON logs, Prometheus metrics, probes.

* Access log: one JSON line per request on the `briefing_qa.access` logger
  with request id (X-Request-ID taken from the request when it is sane, else
  made; always sent back), method, route *template* (never the path, which
  can carry a document id someone typed, nor the query string, which carries
  the question), status, latency and the API key's hash id.
* Privacy: by default no question and no quote text is logged, anywhere:
  an unexpected error is logged with its type and stack, not its message.
  With BRIEFING_QA_LOG_QUERIES=true the question of /v1/ask and /v1/search
  is logged too, after `redact()` has masked names, dates, phone numbers,
  emails, postcodes and street addresses.
* /metrics (Prometheus): requests and latency by route and status, the
  index version, documents and chunks. /readyz: 200 once an index is loaded.
* POST /v1/admin/reload: load the live index version now.

`install(app, settings, engine)` wires all of it, and security and CORS,
into the app in one call."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import traceback
import uuid
from urllib.parse import parse_qs

from .errors import BriefingQAError

log = logging.getLogger("briefing_qa.api")
access = logging.getLogger("briefing_qa.access")
queries = logging.getLogger("briefing_qa.queries")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


# -- JSON logging -------------------------------------------------------------
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(), "logger": record.name, "msg": record.getMessage(),
        }
        out.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info and record.exc_info[0] is not None:
            # Type and stack only: an exception's message may quote the request.
            out["error"] = record.exc_info[0].__name__
            out["stack"] = "".join(traceback.format_tb(record.exc_info[2]))[-4000:]
        return json.dumps(out, ensure_ascii=False, default=str)


def configure_logging(level: str | None = None) -> None:
    """JSON lines on stderr for the service's loggers (idempotent)."""
    root = logging.getLogger("briefing_qa")
    if any(getattr(h, "_briefing_qa", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler._briefing_qa = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level or os.environ.get("BRIEFING_QA_LOG_LEVEL", "INFO").upper())


# -- redaction ----------------------------------------------------------------
_MONTHS = "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
_STREET = ("street|st|road|rd|avenue|ave|lane|ln|close|drive|dr|way|court|ct|crescent|cres|place|pl|gardens|gdns|terrace|"
           "grove|hill|park|square|sq|mews|row|walk|view|rise|green|parade|estate|house|flats?")
_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("[EMAIL]", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    ("[DATE]", re.compile(r"\b\d{1,4}[/.-]\d{1,2}[/.-]\d{2,4}\b")),
    ("[DATE]", re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})\.?,?(?:\s+\d{{2,4}})?\b", re.I)),
    ("[DATE]", re.compile(rf"\b(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{2,4}})?\b", re.I)),
    ("[PHONE]", re.compile(r"(?<![\w+])(?:\+\d{1,3}[\s-]?)?(?:\(0\)\s?)?\(?\d[\d\s()-]{7,}\d(?!\w)")),
    ("[POSTCODE]", re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", re.I)),
    ("[ADDRESS]", re.compile(rf"\b(?:flat|apartment|apt|unit)\s+\d+[a-z]?\b|\b\d+[a-z]?,?\s+(?:[A-Za-z'-]+\s+){{1,3}}(?:{_STREET})\b", re.I)),
    ("[NAME]", re.compile(r"\b(?:mr|mrs|ms|miss|mx|dr|prof)\.?\s+[A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)?")),
]
# A word after one of these is taken to be a name, whatever its case.
_CUES = (r"(?:named|called|name is|known as|child|boy|girl|son|daughter|baby|mother|father|mum|mom|dad|"
         r"brother|sister|stepfather|stepmother|uncle|aunt|grandmother|grandfather|pupil|student|client|"
         r"carer|partner|boyfriend|girlfriend)")
_CUE = re.compile(rf"\b({_CUES}(?:\s+{_CUES})*)\s+([A-Za-z][a-z'-]+)", re.I)
_CAPITALISED = re.compile(r"\b[A-Z][a-z'’-]+(?:[A-Z][a-z]+)?\b")
_COMMON = set(
    "a an and are as at be by can could did do does for from had has have how i if in into is it its may might must of on or "
    "our should so than that the their them there these they this those to was were what when where which who whom why will "
    "with would you your about after all also any been being between both each more most other over such through under up "
    "very he she his her him we us my me mine not no yes please thanks hello hi dear".split()
)


def redact(text: str, vocabulary: set[str] | frozenset[str] = frozenset()) -> str:
    """Mask what could identify a person in a question. Names are a
    heuristic: a word after a cue ("my client Jo", "a girl called amy", "Mr
    Smith") or any capitalised word that is neither a common word nor a word
    of the indexed documents (`vocabulary`, lower case)."""
    for label, pattern in _PATTERNS:
        text = pattern.sub(label, text)

    def cue(m: re.Match) -> str:
        word = m.group(2)
        if word.lower() in _COMMON or (word.lower() in vocabulary and not word[0].isupper()):
            return m.group(0)
        return f"{m.group(1)} [NAME]"

    text = _CUE.sub(cue, text)

    def cap(m: re.Match) -> str:
        w = m.group(0)
        low = w.lower().replace("’", "'")
        if low in _COMMON or low.split("'")[0] in vocabulary or low in vocabulary:
            return w
        return "[NAME]"

    text = _CAPITALISED.sub(cap, text)
    return re.sub(r"\[NAME\](?:\s+\[NAME\])+", "[NAME]", text)


def corpus_vocabulary(retriever) -> frozenset[str]:
    words: set[str] = set()
    for doc in retriever.documents.values():
        words.update(w.lower() for w in re.findall(r"[A-Za-z][A-Za-z'-]*", doc.text + " " + doc.title))
    return frozenset(words)


# -- metrics ------------------------------------------------------------------
class Metrics:
    """Prometheus metrics of one app. With several workers and
    PROMETHEUS_MULTIPROC_DIR set, every worker's counts are summed."""

    def __init__(self, engine) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self.registry = CollectorRegistry(auto_describe=True)
        reg = None if self.multiprocess else self.registry
        self.requests = Counter("briefing_qa_requests", "HTTP requests answered", ["method", "route", "status"], registry=reg)
        self.latency = Histogram("briefing_qa_request_duration_seconds", "Time to answer an HTTP request",
                                 ["route", "status"], buckets=BUCKETS, registry=reg)
        self.engine = engine
        self.registry.register(_IndexCollector(engine))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(route, str(status)).observe(seconds)

    def render(self) -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        data = generate_latest(self.registry)
        if self.multiprocess:
            from prometheus_client import CollectorRegistry
            from prometheus_client.multiprocess import MultiProcessCollector

            shared = CollectorRegistry()
            MultiProcessCollector(shared)
            data += generate_latest(shared)
        return data, CONTENT_TYPE_LATEST


class _IndexCollector:
    """Index gauges read at scrape time from the engine's live version."""

    def __init__(self, engine) -> None:
        self.engine = engine

    def describe(self):
        return []

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily

        r = self.engine.current
        ready = GaugeMetricFamily("briefing_qa_ready", "1 when an index is loaded")
        ready.add_metric([], 1.0 if r is not None else 0.0)
        yield ready
        if r is None:
            return
        m = r.stored.manifest
        info = InfoMetricFamily("briefing_qa_index", "The index version being served")
        info.add_metric([], {"version": str(m.version), "model": str(m.model)})
        yield info
        docs = GaugeMetricFamily("briefing_qa_index_documents", "Documents in the served index")
        docs.add_metric([], float(len(r.documents)))
        yield docs
        chunks = GaugeMetricFamily("briefing_qa_index_chunks", "Chunks in the served index")
        chunks.add_metric([], float(len(r.chunks)))
        yield chunks
        if self.engine.loaded_at:
            loaded = GaugeMetricFamily("briefing_qa_index_loaded_timestamp_seconds", "When this worker loaded the index")
            loaded.add_metric([], float(self.engine.loaded_at))
            yield loaded


# -- the middleware ------------------------------------------------------------
class ObservabilityMiddleware:
    """Request id, access log, metrics, and the last word on errors: an
    exception that escapes the app becomes a problem+json 500 here, inside
    CORS, so even that answer carries the CORS headers."""

    def __init__(self, app, settings, engine, metrics: Metrics, routes) -> None:
        self.app = app
        self.settings = settings
        self.engine = engine
        self.metrics = metrics
        self.routes = routes
        self._vocab: tuple[object, frozenset[str]] | None = None

    def route_of(self, scope) -> str:
        from starlette.routing import Match

        partial = None
        for route in self.routes:
            try:
                match, _ = route.matches(scope)
            except Exception:  # noqa: BLE001
                continue
            if match == Match.FULL:
                return getattr(route, "path", None) or "unknown"
            if match == Match.PARTIAL and partial is None:  # the path matches, the method does not
                partial = getattr(route, "path", None)
        return partial or "unmatched"

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        incoming = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"x-request-id"), "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        route = self.route_of({**scope, "method": scope.get("method", "GET")})
        status = 500
        started = False
        body_parts: list[bytes] = []
        capture = self.settings.log_queries and route == "/v1/ask" and scope.get("method") == "POST"

        async def recv():
            message = await receive()
            if capture and message.get("type") == "http.request" and sum(map(len, body_parts)) < 65536:
                body_parts.append(message.get("body", b""))
            return message

        async def send_wrapper(message):
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, recv if capture else receive, send_wrapper)
        except Exception:  # noqa: BLE001
            status = 500
            log.error("unhandled error", exc_info=True, extra={"request_id": request_id, "route": route})
            if not started:
                from .security import send_problem

                err = BriefingQAError("an unexpected error occurred; it has been logged", request_id=request_id)
                await send_problem(send, err, {"X-Request-ID": request_id})
        finally:
            seconds = time.perf_counter() - t0
            self.metrics.observe(scope.get("method", ""), route, status, seconds)
            state = scope.get("state", {})
            access.info("request", extra={
                "request_id": request_id, "method": scope.get("method"), "route": route, "status": status,
                "latency_ms": round(seconds * 1000, 2), "key": state.get("client_key"),
            })
            if self.settings.log_queries and route in ("/v1/ask", "/v1/search"):
                self._log_query(scope, route, body_parts, request_id, status)

    def _log_query(self, scope, route: str, body_parts: list[bytes], request_id: str, status: int) -> None:
        text = None
        if route == "/v1/search":
            text = (parse_qs(scope.get("query_string", b"").decode("latin-1")).get("q") or [None])[0]
        else:
            try:
                text = json.loads(b"".join(body_parts) or b"{}").get("question")
            except (ValueError, AttributeError):
                text = None
        if not isinstance(text, str) or not text:
            return
        queries.info("query", extra={"request_id": request_id, "route": route, "status": status,
                                     "question": redact(text[:2000], self._vocabulary())})

    def _vocabulary(self) -> frozenset[str]:
        r = self.engine.current
        if r is None:
            return frozenset()
        if self._vocab is None or self._vocab[0] is not r:
            self._vocab = (r, corpus_vocabulary(r))
        return self._vocab[1]


# -- wiring ---------------------------------------------------------------------
def install(app, settings, engine) -> None:
    """Probes, metrics, admin routes, then the middleware stack (outermost
    first): CORS -> observability -> security -> the app, so every answer,
    refusals and the 500 made by observability included, has CORS headers."""
    from fastapi.responses import Response

    from .security import SecurityMiddleware

    configure_logging()
    metrics = Metrics(engine)
    app.state.metrics = metrics

    @app.get("/readyz", tags=["operations"], summary="Ready: an index is loaded")
    def readyz() -> dict:
        r = engine.retriever()  # 503 problem+json while no index is loaded
        return {"status": "ready", "version": r.stored.manifest.version, "documents": len(r.documents), "chunks": len(r.chunks)}

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics (admin key when keys are set)",
             response_class=Response)
    def prometheus():
        data, ctype = metrics.render()
        return Response(data, media_type=ctype)

    @app.post("/v1/admin/reload", tags=["operations"], summary="Load the live index version now (admin key)")
    def reload() -> dict:
        before = engine.version
        r = engine.load()  # IndexUnavailable: 503 problem+json, the old version still served
        return {"version": r.stored.manifest.version, "previous": before}

    app.add_middleware(SecurityMiddleware, settings=settings)
    app.add_middleware(ObservabilityMiddleware, settings=settings, engine=engine, metrics=metrics, routes=app.router.routes)
    if settings.cors_origins:
        from starlette.middleware.cors import CORSMiddleware

        origins = list(settings.cors_origins)
        app.add_middleware(
            CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"], max_age=600,
        )
    engine.watch()
