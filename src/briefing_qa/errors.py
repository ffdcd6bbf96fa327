"""Every error the service raises on purpose. Each carries its HTTP status;
the API turns them into application/problem+json, the CLI into one line and
an exit code.

`detail` is the whole reason, for the operator (the CLI prints it, the
service logs it). A client sees `public_detail`: the same for a 4xx (it is
about the client's own request), but for a 5xx a fixed plain sentence of the
class: the reason may name files, folders or exception text, and /readyz
answers anyone."""

from __future__ import annotations

PROBLEM = "application/problem+json"


class BriefingQAError(Exception):
    status = 500
    title = "Internal error"
    slug = "internal-error"
    exit_code = 1
    # What a client is told of a 5xx instead of `detail`.
    public = "An unexpected error occurred; it has been logged."

    def __init__(self, detail: str, **extra) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    @property
    def public_detail(self) -> str:
        return self.detail if self.status < 500 else self.public

    def problem(self) -> dict:
        """The problem+json body (RFC 9457): the one place one is built."""
        return {"type": f"https://briefing-qa.local/problems/{self.slug}", "title": self.title, "status": self.status,
                "detail": self.public_detail, **self.extra}

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.extra["retry_after"])} if "retry_after" in self.extra else {}


class HTTPProblem(BriefingQAError):
    """An error the web framework raises itself (unknown route, wrong method)."""

    _TITLES = {400: "Bad request", 404: "Not found", 405: "Method not allowed", 413: "Payload too large"}

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.title, self.slug = status, self._TITLES.get(status, "Error"), f"http-{status}"
        self._headers = dict(headers or {})

    def headers(self) -> dict[str, str]:
        return self._headers


class InvalidRequest(BriefingQAError):
    status, title, slug, exit_code = 422, "Invalid request", "invalid-request", 2


class NotFound(BriefingQAError):
    status, title, slug = 404, "Not found", "not-found"


class Unauthorized(BriefingQAError):
    status, title, slug = 401, "Unauthorized", "unauthorized"


class Forbidden(BriefingQAError):
    status, title, slug = 403, "Forbidden", "forbidden"


class PayloadTooLarge(BriefingQAError):
    status, title, slug = 413, "Payload too large", "payload-too-large"


class UnsupportedMediaType(BriefingQAError):
    """An upload whose type is not supported, or whose content is not what its name says."""

    status, title, slug, exit_code = 415, "Unsupported media type", "unsupported-media-type", 2


class Conflict(BriefingQAError):
    """The request clashes with the library as it stands (e.g. two files, one document id)."""

    status, title, slug, exit_code = 409, "Conflict", "conflict", 2


class RateLimited(BriefingQAError):
    status, title, slug = 429, "Too many requests", "rate-limited"


class ConfigError(BriefingQAError):
    """A BRIEFING_QA_* setting (or CLI option) has a bad value; names the key."""

    status, title, slug, exit_code = 500, "Configuration error", "configuration-error", 2
    public = "The service is not configured correctly; the reason is in its log."


class IndexUnavailable(BriefingQAError):
    """No index has been built yet, or it cannot be read."""

    status, title, slug, exit_code = 503, "Index unavailable", "index-unavailable", 3
    public = "The document index is not available yet; the reason is in the service's log."


class IndexIncompatible(IndexUnavailable):
    """The index was built with another model or format version."""

    title, slug = "Index incompatible", "index-incompatible"
    public = "The document index was built for another version or model of the service; the reason is in its log."


class SourceError(BriefingQAError):
    """One source file cannot be read; ingestion reports it and goes on."""

    status, title, slug = 422, "Unreadable source", "unreadable-source"

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class TooLittleText(BriefingQAError):
    """The sources hold too few sentences to adapt the encoder to them."""

    status, title, slug = 422, "Too little text", "too-little-text"
