"""The library: the folder of source files (BRIEFING_QA_CORPUS, default
`ingest/`) and the attribution in its `sources.toml`. The CLI's `ingest`
and the admin API read and change the same folder, so either may be used
at any time.

Everything a user typed is checked here before it touches the disk: an
uploaded file's name must be a plain name (no path parts), of a supported
type, and its bytes must be what the name says. `sources.toml` is edited
block by block, keeping its comments, and replaced atomically.

Changes are made under a lock file in the index folder (one change at a
time, across processes: the server's job and `briefing-qa ingest`) and
with a journal (`journal.py`), so a change that dies half way is undone."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import tomllib
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import Conflict, InvalidRequest, UnsupportedMediaType
from .sources import CATALOG, SUFFIXES, SourceMeta, discover, document_id, load_catalog

FIELDS = ("title", "publisher", "year", "url", "licence")
LIMITS = {"title": 300, "publisher": 300, "year": 20, "url": 2000, "licence": 300}
_YEAR = re.compile(r"(1[5-9]|20|21)[0-9]{2}[a-z]?")  # 1500-2199; "2019a" for a second work of a year
RESERVED = {CATALOG.lower(), "readme.md"}  # never indexed (see sources.discover)
LOCK = ".library.lock"

# What a reader's error means, in plain words for the admin page.
PLAIN = {
    "no extractable text (scanned?)": "no text layer; scanned PDFs need OCR first",
    "encrypted PDF": "the PDF is encrypted (password protected): upload a copy saved without a password",
    "empty file": "the file is empty",
    "no text found": "no text found in the file",
}
# Signatures of formats people upload by mistake.
MAGIC = [(b"%PDF-", "a PDF"), (b"PK\x03\x04", "a ZIP archive or an Office document (.docx, .xlsx)"),
         (b"\xd0\xcf\x11\xe0", "an old Office document (.doc, .xls)"), (b"\x89PNG", "a PNG image"),
         (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"), (b"{\\rtf", "an RTF document"),
         (b"MZ", "a Windows program")]
_HTML = re.compile(rb"<\s*(?:!doctype|html|head|body|p|div|h[1-6]|title|section|article|main|table|ul|ol|br)\b", re.I)


def plain_reason(reason: str) -> str:
    if reason.startswith("not a readable PDF"):
        return "the PDF is damaged or incomplete, and cannot be read" + reason[len("not a readable PDF"):]
    return PLAIN.get(reason, reason)


def safe_name(name: str | None) -> str:
    """The uploaded file's name as the library will store it, or an error:
    never a path (no folders, no `..`), never hidden or reserved."""
    if name is None or not name.strip():
        raise InvalidRequest("the file has no name")
    name = unicodedata.normalize("NFC", name.strip())
    if "/" in name or "\\" in name or name in (".", ".."):
        plain = re.split(r"[/\\\\]", name)[-1] or "document.pdf"
        raise InvalidRequest(f"the file name {name!r} has path parts: upload it under a plain name, e.g. {plain!r}")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise InvalidRequest("the file name has control characters")
    if name.startswith("."):
        raise InvalidRequest(f"the file name {name!r} starts with a dot (hidden files are not indexed)")
    if len(name.encode()) > 200:
        raise InvalidRequest("the file name is over 200 bytes long")
    if name.lower() in RESERVED:
        raise InvalidRequest(f"{name!r} is reserved in the library folder: rename the file")
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise UnsupportedMediaType(f"{name}: " + (f"{suffix} files are" if suffix else "files without an extension are") + " not supported; "
                                   f"upload a PDF, HTML, Markdown, text file or WordPress page export "
                                   f"({', '.join(sorted(SUFFIXES))})")
    return name


def sniff(name: str, data: bytes) -> None:
    """Is the file what its name says? Cheap checks made before any job runs."""
    if not data:
        raise InvalidRequest(f"{name}: the file is empty")
    suffix = Path(name).suffix.lower()
    found = next((what for magic, what in MAGIC if data[:1024].lstrip().startswith(magic)), None)
    if suffix == ".pdf":
        if b"%PDF-" not in data[:1024]:
            raise UnsupportedMediaType(f"{name} is not a PDF" + (f": it looks like {found}" if found else
                                                                 ": it has no PDF header"))
        return
    if found:
        raise UnsupportedMediaType(f"{name} is not a text file: it looks like {found}")
    if b"\x00" in data[:8192]:
        raise UnsupportedMediaType(f"{name} is not a text file: it holds binary data")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnsupportedMediaType(f"{name} is not UTF-8 text (byte {exc.start}): save it as UTF-8 and upload it again") from exc
    if suffix in (".html", ".htm") and not _HTML.search(data[:65536]):
        raise UnsupportedMediaType(f"{name} is not HTML: it has no HTML tags")
    if not text.strip():
        raise InvalidRequest(f"{name}: the file has only white space")


def clean_attribution(values: dict, *, partial: bool) -> dict:
    """Check attribution fields typed by a user. "" or None clears a field
    (but a title can only be changed). Only http(s) URLs: a citation's URL
    becomes a link."""
    out: dict = {}
    for key, raw in values.items():
        if key not in FIELDS:
            raise InvalidRequest(f"unknown field {key!r}; expected {', '.join(FIELDS)}")
        if raw is not None and not isinstance(raw, str | int):
            raise InvalidRequest(f"{key} must be text")
        value = str(raw).strip() if raw is not None else ""
        if len(value) > LIMITS[key]:
            raise InvalidRequest(f"{key} is over {LIMITS[key]} characters")
        if any(unicodedata.category(ch) == "Cc" for ch in value):
            raise InvalidRequest(f"{key} has control characters")
        if key == "url" and value and not re.match(r"^https?://[^\s/$.?#][^\s]*$", value, re.I):
            raise InvalidRequest("url must be a web address starting with http:// or https://")
        # A year typed in a hurry ("20x6", "202") would print in every
        # citation's reference: a year, or nothing ("n.d." in references).
        if key == "year" and value and not _YEAR.fullmatch(value):
            raise InvalidRequest(f"year must be a year such as 2025, not {value!r} (leave it empty when the document gives none)")
        if key == "title" and not value and partial:
            raise InvalidRequest("title cannot be empty (leave it out to keep the current one)")
        out[key] = value or None
    return out


@dataclass(frozen=True)
class LibraryFile:
    id: str
    path: Path
    meta: SourceMeta | None


class Library:
    def __init__(self, folder: Path, index: Path) -> None:
        self.folder = Path(folder)
        self.index = Path(index)

    # -- reading --------------------------------------------------------------
    def files(self) -> list[LibraryFile]:
        """Every source file with the id `ingest` gives it (same order, same rule)."""
        if not self.folder.is_dir():
            return []
        catalogs: dict[Path, dict] = {}
        seen: set[str] = set()
        out = []
        for path in discover([self.folder]):
            if path.suffix.lower() not in SUFFIXES:
                continue  # never indexed
            if path.parent not in catalogs:
                try:
                    catalogs[path.parent] = load_catalog(path.parent)
                except Exception:  # noqa: BLE001 - a broken catalog: the file is still listed
                    catalogs[path.parent] = {}
            doc_id = base = document_id(path)
            n = 2
            while doc_id in seen:
                doc_id, n = f"{base}-{n}", n + 1
            seen.add(doc_id)
            out.append(LibraryFile(doc_id, path, catalogs[path.parent].get(path.name)))
        return out

    def find(self, doc_id: str) -> LibraryFile | None:
        return next((f for f in self.files() if f.id == doc_id), None)

    def by_name(self, name: str) -> LibraryFile | None:
        return next((f for f in self.files() if f.path.parent == self.folder and f.path.name == name), None)

    def check_new_name(self, name: str) -> str:
        """The id an upload of `name` gets; Conflict when another file has it."""
        doc_id = document_id(Path(name))
        for f in self.files():
            if f.id == doc_id and not (f.path.parent == self.folder and f.path.name == name):
                raise Conflict(f"{name} would have the document id {doc_id!r}, which {f.path.name} already has: "
                               f"upload it as {f.path.name} to replace that document, or rename it")
        return doc_id

    # -- changing -------------------------------------------------------------
    def catalog_of(self, path: Path) -> Path:
        return path.parent / CATALOG

    def set_attribution(self, path: Path, meta: dict | None) -> None:
        """Write (or, with None, remove) the [[source]] entry of one file."""
        write_catalog_entry(self.catalog_of(path), path.name, meta)

    @contextlib.contextmanager
    def lock(self, blocking: bool = True) -> Iterator[None]:
        """One change at a time, across processes (released if the holder
        dies). Not blocking: BlockingIOError when another holds it."""
        self.index.mkdir(parents=True, exist_ok=True)
        with open(self.index / LOCK, "a+") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            try:
                yield
            finally:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)


# -- sources.toml, edited block by block ---------------------------------------
def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a valid TOML basic string


def _blocks(text: str) -> list[list[str]]:
    """The file as [preamble, block, block, ...], each a list of lines; a
    block starts at a `[[source]]` line and runs to the next."""
    out: list[list[str]] = [[]]
    for line in text.splitlines(keepends=True):
        if line.strip() == "[[source]]":
            out.append([])
        out[-1].append(line)
    return out


def _entry(block: list[str]) -> dict:
    try:
        data = tomllib.loads("".join(block))
        return (data.get("source") or [{}])[0]
    except tomllib.TOMLDecodeError:
        return {}


def _render(block: list[str], name: str, meta: dict) -> list[str]:
    """The block with each field's line set to meta's value (comments kept)."""
    out, done = [], set()
    key_line = re.compile(r"^\s*(\w+)\s*=")
    for line in block:
        m = key_line.match(line)
        if m and m.group(1) in FIELDS:
            key = m.group(1)
            done.add(key)
            if meta.get(key):
                out.append(f"{key} = {_toml_str(meta[key])}\n")
            continue
        out.append(line if line.endswith("\n") else line + "\n")
    if not block:
        out = ["[[source]]\n", f"file = {_toml_str(name)}\n"]
    # New fields go after the last key line of the block.
    at = max((i for i, ln in enumerate(out) if key_line.match(ln)), default=len(out) - 1) + 1
    extra = [f"{k} = {_toml_str(meta[k])}\n" for k in FIELDS if meta.get(k) and k not in done]
    return out[:at] + extra + out[at:]


def write_catalog_entry(catalog: Path, name: str, meta: dict | None) -> None:
    text = catalog.read_text(encoding="utf-8") if catalog.is_file() else (
        "# Attribution of each source file in this folder (title, publisher, year, url, licence).\n")
    blocks = _blocks(text)
    idx = next((i for i, b in enumerate(blocks[1:], 1) if _entry(b).get("file") == name), None)
    want = {k: v for k, v in (meta or {}).items() if k in FIELDS and v}
    if meta is None:
        if idx is not None:
            del blocks[idx]
    else:
        block = _render(blocks[idx] if idx is not None else [], name, want)
        if idx is None:
            if blocks[-1] and blocks[-1][-1].strip():
                blocks[-1].append("\n")
            blocks.append(block)
        else:
            blocks[idx] = block
    new = "".join("".join(b) for b in blocks)
    # The line edit must say exactly what was meant; if not (a hand-written
    # multi-line value, say), the entry is written anew, comments and all lost.
    entries = {e.get("file"): e for e in tomllib.loads(new).get("source", [])}
    if meta is None:
        ok = name not in entries
    else:
        ok = name in entries and {k: str(v) for k, v in entries[name].items() if k in FIELDS} == want
    if not ok:
        blocks = [b for b in blocks if _entry(b).get("file") != name]
        if meta is not None:
            blocks.append(["\n", "[[source]]\n", f"file = {_toml_str(name)}\n",
                           *[f"{k} = {_toml_str(v)}\n" for k, v in want.items()]])
        new = "".join("".join(b) for b in blocks)
    atomic_write(catalog, new.encode("utf-8"))


def atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
