"""Reading sources: one reader per format, all producing a Document whose
canonical text, sections and blocks come from structure.DocumentBuilder."""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..errors import SourceError
from ..records import Document

SUFFIXES = {".pdf", ".html", ".htm", ".md", ".markdown", ".txt"}
CATALOG = "sources.toml"


@dataclass(frozen=True)
class SourceMeta:
    """Attribution for one file, from sources.toml beside it."""

    title: str | None = None
    publisher: str | None = None
    year: str | None = None
    url: str | None = None
    licence: str | None = None


def load_catalog(folder: Path) -> dict[str, SourceMeta]:
    path = folder / CATALOG
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SourceError(str(path), f"invalid TOML: {exc}") from exc
    out = {}
    for entry in data.get("source", []):
        fields = {k: (str(v) if v is not None else None) for k, v in entry.items() if k in SourceMeta.__dataclass_fields__}
        out[entry["file"]] = SourceMeta(**fields)
    return out


def document_id(path: Path) -> str:
    """Stable, URL-safe id from the file name (never used as a path)."""
    slug = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")
    return slug or "document"


def discover(paths: list[Path]) -> list[Path]:
    """Every file under the given files and folders, sorted, catalog excluded."""
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found += [f for f in sorted(p.rglob("*")) if f.is_file() and f.name != CATALOG and not f.name.startswith(".") and f.name != "README.md"]
        else:
            found.append(p)
    return found


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _decode(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(str(path), f"not UTF-8 text (byte {exc.start}); convert it to UTF-8") from exc


def read_document(path: Path, meta: SourceMeta | None = None, max_bytes: int | None = None, sha256: str | None = None) -> Document:
    """Read one file into a Document. Raises SourceError with a clear reason."""
    meta = meta or SourceMeta()
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise SourceError(str(path), f"unsupported file type {suffix or '(none)'}; expected one of {', '.join(sorted(SUFFIXES))}")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SourceError(str(path), f"cannot read: {exc.strerror}") from exc
    if size == 0:
        raise SourceError(str(path), "empty file")
    if max_bytes is not None and size > max_bytes:
        raise SourceError(str(path), f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit (BRIEFING_QA_MAX_FILE_MB)")
    sha = sha256 or sha256_file(path)
    if suffix == ".pdf":
        from .pdf import read_pdf

        builder, fmt = read_pdf(path), "pdf"
    else:
        data = path.read_bytes()
        if b"\x00" in data[:4096]:
            raise SourceError(str(path), "binary data in a text file")
        raw = _decode(data, path)
        if suffix in (".html", ".htm"):
            from .html import read_html

            builder, fmt = read_html(raw), "html"
        else:
            from .wordpress import looks_like_wordpress, read_wordpress

            if looks_like_wordpress(raw):
                builder, fmt = read_wordpress(raw), "wordpress"
            else:
                from .text import read_text

                md = suffix in (".md", ".markdown")
                builder, fmt = read_text(raw, markdown=md), ("markdown" if md else "text")
    doc = builder.build(
        id=document_id(path), title=meta.title or builder.title or path.stem, path=path.name, sha256=sha,
        format=fmt, publisher=meta.publisher, year=meta.year, url=meta.url, licence=meta.licence,
        pages=builder.page_count,
    )
    if not doc.text.strip():
        raise SourceError(str(path), "no text found")
    return doc
