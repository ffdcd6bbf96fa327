"""Access control as plain ASGI middleware, in front of every route:

* API keys (BRIEFING_QA_API_KEYS="k1,k2:admin"): when any are set, /v1/*
  needs a key, sent as `Authorization: Bearer <key>` or `X-API-Key: <key>`.
  A key is a read key unless it ends in ":admin"; read keys ask and search,
  admin keys also reach the operations routes (/v1/admin/*, /metrics).
  No key or an unknown key: 401; a read key on an admin route: 403.
* A per-client rate limit (BRIEFING_QA_RATE_LIMIT="60/minute"): a token
  bucket per API key, or per client address when no valid key is sent;
  429 with Retry-After. Health and readiness probes are not limited.
* A request body limit (BRIEFING_QA_MAX_BODY_BYTES): 413, decided while the
  body streams in (a missing or false Content-Length does not get past it).

Every refusal is application/problem+json, like every other error. CORS
(BRIEFING_QA_CORS_ORIGINS) is installed outside this middleware, so its
headers are on these refusals too (see observability.install)."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from .errors import PROBLEM, BriefingQAError, Forbidden, PayloadTooLarge, RateLimited, Unauthorized
from .settings import Settings, parse_rate

READ, ADMIN = "read", "admin"
# Routes anyone may reach (probes, the page, the schema); everything under
# /v1/ needs a key once keys are configured.
ADMIN_PREFIXES = ("/v1/admin/", "/metrics")
UPLOAD = "/v1/admin/documents"  # takes a file of up to BRIEFING_QA_MAX_FILE_MB, from admin keys only
UNLIMITED = ("/healthz", "/readyz", "/metrics")


@dataclass(frozen=True)
class ApiKey:
    id: str  # a short hash: safe to log and to key buckets by
    role: str


def parse_keys(values: tuple[str, ...]) -> dict[str, ApiKey]:
    """"k1", "k2:admin", "k3:read" -> {secret: ApiKey}."""
    keys: dict[str, ApiKey] = {}
    for raw in values:
        secret, role = raw, READ
        if ":" in raw:
            head, tail = raw.rsplit(":", 1)
            if tail.lower() in (READ, ADMIN):
                secret, role = head, tail.lower()
        secret = secret.strip()
        if secret:
            keys[secret] = ApiKey("key-" + hashlib.sha256(secret.encode()).hexdigest()[:8], role)
    return keys


async def send_problem(send, exc: BriefingQAError, headers: dict[str, str] | None = None) -> None:
    body = json.dumps(exc.problem()).encode()
    raw = [(b"content-type", PROBLEM.encode()), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in {**exc.headers(), **(headers or {})}.items()]
    await send({"type": "http.response.start", "status": exc.status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class TokenBuckets:
    """capacity tokens per client, refilled at capacity/period per second."""

    def __init__(self, capacity: int, period: float, max_clients: int = 100_000) -> None:
        self.capacity = float(capacity)
        self.rate = capacity / period
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, client: str, now: float | None = None) -> float:
        """0 if a token was taken, else the seconds until one is free."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.pop(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self.rate
            self._buckets[client] = (tokens, now)  # most recently used last
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)  # forget the longest idle (a full bucket, by then)
            return wait


def _header(scope, name: bytes) -> str | None:
    for k, v in scope.get("headers", ()):
        if k == name:
            return v.decode("latin-1")
    return None


def presented_key(scope) -> str | None:
    auth = _header(scope, b"authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    key = _header(scope, b"x-api-key")
    return key.strip() if key and key.strip() else None


class SecurityMiddleware:
    def __init__(self, app, settings: Settings) -> None:
        self.app = app
        self.keys = parse_keys(settings.api_keys)
        self.max_body = settings.max_body_bytes
        # Room for the multipart envelope and the form's fields around the file.
        self.max_upload = int(settings.max_file_mb * 1e6) + 65_536 if any(k.role == ADMIN for k in self.keys.values()) else 0
        self.buckets = TokenBuckets(*parse_rate(settings.rate_limit)) if settings.rate_limit else None

    def _lookup(self, secret: str | None) -> ApiKey | None:
        if secret is None:
            return None
        found = None
        for known, key in self.keys.items():  # compare with every key, in constant time
            if hmac.compare_digest(known.encode(), secret.encode()):
                found = key
        return found

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope.get("method") == "OPTIONS":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        key = self._lookup(presented_key(scope))
        state = scope.setdefault("state", {})
        state["client_key"] = key.id if key else None

        if self.buckets is not None and not path.startswith(UNLIMITED):
            client = key.id if key else "ip-" + ((scope.get("client") or ("?", 0))[0])
            wait = self.buckets.take(client)
            if wait > 0:
                retry = max(1, math.ceil(wait))
                await send_problem(send, RateLimited(f"too many requests from this client; retry in {retry} s",
                                                     retry_after=retry))
                return

        if self.keys:
            admin_route = path.startswith(ADMIN_PREFIXES)
            if path.startswith("/v1/") or admin_route:
                if key is None:
                    sent = presented_key(scope) is not None
                    detail = "the API key is not valid" if sent else "an API key is required (Authorization: Bearer <key> or X-API-Key)"
                    await send_problem(send, Unauthorized(detail), {"WWW-Authenticate": 'Bearer realm="briefing-qa"'})
                    return
                if admin_route and key.role != ADMIN:
                    await send_problem(send, Forbidden("this route needs an admin key"))
                    return

        if scope.get("method") in ("POST", "PUT", "PATCH"):
            upload = self.max_upload and path == UPLOAD and scope.get("method") == "POST"
            limit = self.max_upload if upload else self.max_body
            declared = _header(scope, b"content-length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                await send_problem(send, self._too_large(upload))
                return
            body, ok = await self._read_body(receive, limit)
            if not ok:
                await send_problem(send, self._too_large(upload))
                return
            receive = _replay(body, receive)
        await self.app(scope, receive, send)

    def _too_large(self, upload: bool = False) -> PayloadTooLarge:
        if upload:
            mb = (self.max_upload - 65_536) / 1e6
            return PayloadTooLarge(f"the file is over the {mb:g} MB limit (BRIEFING_QA_MAX_FILE_MB)", limit=self.max_upload)
        return PayloadTooLarge(f"the request body is over {self.max_body} bytes", limit=self.max_body)

    async def _read_body(self, receive, limit: int) -> tuple[bytes, bool]:
        """The whole body, reading no more than the limit (+ one chunk)."""
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b"".join(chunks), True
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return b"", False
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), True


def _replay(body: bytes, receive):
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # then wait for the disconnect, as servers do

    return replay
