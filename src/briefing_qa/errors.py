"""Every error the service raises on purpose. Each carries its HTTP status;
the API turns them into application/problem+json, the CLI into one line and
an exit code."""

from __future__ import annotations

PROBLEM = "application/problem+json"


class BriefingQAError(Exception):
    status = 500
    title = "Internal error"
    slug = "internal-error"
    exit_code = 1

    def __init__(self, detail: str, **extra) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def problem(self) -> dict:
        """The problem+json body (RFC 9457): the one place one is built."""
        return {"type": f"https://briefing-qa.local/problems/{self.slug}", "title": self.title, "status": self.status,
                "detail": self.detail, **self.extra}

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


class RateLimited(BriefingQAError):
    status, title, slug = 429, "Too many requests", "rate-limited"


class ConfigError(BriefingQAError):
    """A BRIEFING_QA_* setting (or CLI option) has a bad value; names the key."""

    status, title, slug, exit_code = 500, "Configuration error", "configuration-error", 2


class IndexUnavailable(BriefingQAError):
    """No index has been built yet, or it cannot be read."""

    status, title, slug, exit_code = 503, "Index unavailable", "index-unavailable", 3


class IndexIncompatible(IndexUnavailable):
    """The index was built with another model or format version."""

    title, slug = "Index incompatible", "index-incompatible"


class SourceError(BriefingQAError):
    """One source file cannot be read; ingestion reports it and goes on."""

    status, title, slug = 422, "Unreadable source", "unreadable-source"

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
