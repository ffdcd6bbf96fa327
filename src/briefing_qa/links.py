"""The base URL of the deep links in citations (links to the PDFs this
service serves).

A request's Host header is chosen by whoever sends it: echoing it into the
links would let a forged Host plant links to another site in answers that a
shared cache or a copied citation passes on. So the base is, in order:

1. BRIEFING_QA_PUBLIC_URL when set (the address users reach the service at);
2. the request's own scheme and host when that host is loopback (localhost,
   127.0.0.1, ::1) or one of BRIEFING_QA_ALLOWED_HOSTS;
3. otherwise none: links are relative (/v1/documents/{id}/file#page=N), and
   the widget and the quote finder resolve them against the service they
   asked."""

from __future__ import annotations

import re

from .settings import Settings

LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
# A host header we would repeat: a DNS name or IPv4 address, or an IPv6
# literal in brackets, then an optional port. Nothing else (no userinfo, no
# path, no second host).
_HOST = re.compile(r"^(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]{2,45}\])(?::(?P<port>[0-9]{1,5}))?$")


def host_name(host_header: str | None) -> str | None:
    """The host name of a well-formed Host header, lower case, without brackets or port; else None."""
    m = _HOST.match(host_header or "")
    if not m:
        return None
    return m.group("host").strip("[]").lower().rstrip(".")


def citation_base(settings: Settings, scheme: str, host_header: str | None, root_path: str = "") -> str:
    """"" (relative links), or an absolute base URL without a trailing slash."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    name = host_name(host_header)
    if name is None or scheme not in ("http", "https"):
        return ""
    allowed = LOOPBACK | {h.strip("[]").lower().rstrip(".") for h in settings.allowed_hosts}
    if name not in allowed:
        return ""
    return f"{scheme}://{host_header}{root_path.rstrip('/')}"
