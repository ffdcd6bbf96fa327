"""The index on disk: a folder of plain, versioned files.

    index/
      CURRENT                 name of the live version (replaced atomically)
      v20261128-031500-ab12/  one complete build
        manifest.json         format version, model, dimension, document hashes
        documents.jsonl       each document: canonical text, sections, blocks
        chunks.jsonl          each chunk, in vector order, with its content hash
        vectors.faiss         FAISS inner-product index of normalised vectors
        sentences.npy/.json   each sentence's vector, its chunk and content hash
        tokens.npy            each chunk's content word pieces' vectors (int8),
        token_scales.npy        their scales, token ids and count per chunk
        token_ids.npy           (tokens.py), and where each starts in its chunk
        token_counts.npy
        token_starts.npy
        lexical/              tantivy BM25 index

A build is written to a temporary folder, then renamed, then CURRENT is
replaced: a build that dies half way never touches what is being served."""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import faiss
import numpy as np

from .errors import IndexIncompatible, IndexUnavailable
from .records import Block, Chunk, Document, Section
from .tokens import TokenVectors, quantise

FORMAT_VERSION = 1
CURRENT = "CURRENT"
KEEP_VERSIONS = 2


@dataclass(frozen=True)
class Manifest:
    format_version: int
    model: str
    dimension: int
    created: str
    version: str
    chunk_tokens: int
    documents: dict  # id -> {"path", "sha256"}
    chunks: int
    pipeline: int | None = None  # ingest.PIPELINE of the build (None: written before it existed)
    model_id: str | None = None  # embedding.model_identity of the model (None: written before it existed)

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        data = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__})


# -- (de)serialising records as plain JSON ---------------------------------
def document_to_json(doc: Document) -> dict:
    return asdict(doc)


def document_from_json(d: dict) -> Document:
    def pages(v):
        return tuple(v) if v else None

    sections = tuple(Section(**{**s, "path": tuple(s["path"]), "pages": pages(s["pages"])}) for s in d["sections"])
    blocks = tuple(Block(**{**b, "pages": pages(b["pages"]), "breaks": tuple(b["breaks"])}) for b in d["blocks"])
    return Document(**{**d, "sections": sections, "blocks": blocks, "page_starts": tuple(d["page_starts"])})


def chunk_to_json(c: Chunk, content_hash: str) -> dict:
    return {**asdict(c), "hash": content_hash}


def chunk_from_json(d: dict) -> Chunk:
    d = {k: v for k, v in d.items() if k != "hash"}
    return Chunk(**{**d, "section_path": tuple(d["section_path"]), "pages": tuple(d["pages"]) if d["pages"] else None})


def _jsonl(path: Path, rows) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


# -- versions ----------------------------------------------------------------
def current_version(root: Path) -> Path | None:
    """The folder of the live version, or None when there is none."""
    try:
        name = (root / CURRENT).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    folder = root / name
    return folder if name and folder.is_dir() else None


@dataclass(frozen=True)
class Sentences:
    """What sentences.npy and sentences.json hold: rows grouped by chunk, in chunk order."""

    vectors: np.ndarray
    owner: list[int]
    hashes: list[str]


@dataclass(frozen=True)
class Tokens:
    """What the tokens*.npy files hold: the content word pieces of each chunk
    (rows grouped by chunk, in chunk order) as int8 vectors with a scale per
    row, their token ids, and how many rows each chunk has."""

    vectors: np.ndarray  # int8, rows x dimension
    scales: np.ndarray  # float32, one a row
    ids: np.ndarray  # int32, one a row
    counts: np.ndarray  # int32, one a chunk
    starts: np.ndarray  # int32, one a row: where the piece starts in the chunk's embedded text

    @property
    def first(self) -> np.ndarray:
        """Where each chunk's rows begin (len(counts) + 1 entries)."""
        return np.concatenate([[0], np.cumsum(self.counts, dtype=np.int64)])

    def chunk(self, i: int, first: np.ndarray | None = None) -> Tokens:
        """Chunk i's rows alone (`first`: self.first, when asked for many)."""
        f = self.first if first is None else first
        rows = slice(int(f[i]), int(f[i + 1]))
        return Tokens(self.vectors[rows], self.scales[rows], self.ids[rows], self.counts[i : i + 1], self.starts[rows])

    @classmethod
    def of_pieces(cls, pieces: TokenVectors) -> Tokens:
        """One chunk's pieces as the files keep them (int8 with scales)."""
        q, scales = quantise(pieces.vectors)
        starts = pieces.starts if pieces.starts is not None else np.full(len(pieces.ids), -1, dtype=np.int32)
        return cls(q, scales, pieces.ids, np.array([len(pieces.ids)], dtype=np.int32), starts)

    @classmethod
    def concat(cls, parts: list[Tokens], dim: int) -> Tokens:
        """Chunks' rows one after another, in the order given."""
        def joined(f: str) -> np.ndarray:
            if parts:
                return np.concatenate([getattr(t, f) for t in parts]).astype(TOKEN_TYPES[f])
            return np.zeros((0, dim) if f == "vectors" else 0, dtype=TOKEN_TYPES[f])

        return cls(**{f: joined(f) for f in TOKEN_FILES})


TOKEN_FILES = {"vectors": "tokens.npy", "scales": "token_scales.npy", "ids": "token_ids.npy", "counts": "token_counts.npy",
               "starts": "token_starts.npy"}
TOKEN_TYPES = {"vectors": np.int8, "scales": np.float32, "ids": np.int32, "counts": np.int32, "starts": np.int32}


def write_version(root: Path, manifest: dict, documents: list[Document], chunks: list[Chunk],
                  hashes: list[str], vectors: np.ndarray, build_lexical, files: dict[str, Path] | None = None,
                  sentences: Sentences | None = None, tokens: Tokens | None = None) -> Path:
    """Write a complete version beside the live one and switch to it."""
    root.mkdir(parents=True, exist_ok=True)
    now = time.time()
    # Names sort in build order (to the millisecond), so pruning keeps the newest.
    version = time.strftime("v%Y%m%d-%H%M%S", time.gmtime(now)) + f"{int(now * 1000) % 1000:03d}-" + uuid.uuid4().hex[:4]
    tmp = root / f".tmp-{version}"
    tmp.mkdir()
    try:
        _jsonl(tmp / "documents.jsonl", (document_to_json(d) for d in documents))
        _jsonl(tmp / "chunks.jsonl", (chunk_to_json(c, h) for c, h in zip(chunks, hashes, strict=True)))
        index = faiss.IndexFlatIP(manifest["dimension"])
        if len(vectors):
            index.add(np.ascontiguousarray(vectors, dtype="float32"))
        faiss.write_index(index, str(tmp / "vectors.faiss"))
        build_lexical(tmp / "lexical")
        if sentences is not None:
            np.save(tmp / "sentences.npy", np.ascontiguousarray(sentences.vectors, dtype="float32"), allow_pickle=False)
            (tmp / "sentences.json").write_text(json.dumps({"owner": sentences.owner, "hashes": sentences.hashes}),
                                                encoding="utf-8")
        if tokens is not None:
            for field, name in TOKEN_FILES.items():
                np.save(tmp / name, np.ascontiguousarray(getattr(tokens, field), dtype=TOKEN_TYPES[field]), allow_pickle=False)
        # A copy of each source file, so deep links open exactly what was indexed.
        (tmp / "files").mkdir()
        for doc_id, src in (files or {}).items():
            shutil.copyfile(src, tmp / "files" / f"{doc_id}{src.suffix.lower()}")
        full = {"format_version": FORMAT_VERSION, "version": version, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                **manifest, "chunks": len(chunks)}
        (tmp / "manifest.json").write_text(json.dumps(full, indent=2, ensure_ascii=False), encoding="utf-8")
        _fsync_tree(tmp)
        final = root / version
        os.rename(tmp, final)
        pointer = root / f".{CURRENT}.{version}"
        pointer.write_text(version + "\n", encoding="utf-8")
        os.replace(pointer, root / CURRENT)  # the atomic switch
        _fsync_dir(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    prune(root)
    return root / version


def prune(root: Path, keep: int = KEEP_VERSIONS) -> None:
    """Remove old versions (keeping the live one and the one before it, which
    a server may still be reading) and leftovers of builds that died."""
    live = current_version(root)
    versions = sorted(p for p in root.glob("v*") if p.is_dir())
    for old in versions[:-keep]:
        if old != live:
            shutil.rmtree(old, ignore_errors=True)
    for tmp in root.glob(".tmp-*"):
        # A temporary folder older than an hour belongs to a build that died.
        if time.time() - tmp.stat().st_mtime > 3600:
            shutil.rmtree(tmp, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(folder: Path) -> None:
    for p in folder.rglob("*"):
        if p.is_file():
            with p.open("rb") as f:
                os.fsync(f.fileno())
    _fsync_dir(folder)


# -- reading -----------------------------------------------------------------
@dataclass
class StoredIndex:
    folder: Path
    manifest: Manifest
    documents: dict[str, Document]
    chunks: list[Chunk]
    hashes: list[str]
    vectors: faiss.Index
    # Each sentence of each chunk embedded on its own (sentences.npy), with the
    # chunk it is in and its content hash (sentences.json); None in an index
    # written before they existed.
    sentences: Sentences | None = None
    tokens: Tokens | None = None  # each chunk's word-piece vectors (tokens.py); None before they existed

    def source_file(self, doc_id: str) -> Path | None:
        doc = self.documents.get(doc_id)
        if doc is None:
            return None
        path = self.folder / "files" / f"{doc.id}{Path(doc.path).suffix.lower()}"
        return path if path.is_file() else None

    def vector_array(self) -> np.ndarray:
        n = self.vectors.ntotal
        return self.vectors.reconstruct_n(0, n) if n else np.zeros((0, self.manifest.dimension), dtype="float32")


def check_compatible(manifest: Manifest, model: str | None) -> None:
    if manifest.format_version != FORMAT_VERSION:
        raise IndexIncompatible(
            f"the index was written in format {manifest.format_version}, this version reads format {FORMAT_VERSION}: "
            "rebuild it with `briefing-qa ingest`"
        )
    if model is not None and manifest.model != model:
        raise IndexIncompatible(
            f"the index was built with the model {manifest.model!r}, but {model!r} is configured: rebuild it with "
            "`briefing-qa ingest` or set BRIEFING_QA_MODEL to the model it was built with"
        )


def read_index(root: Path, model: str | None = None) -> StoredIndex:
    folder = current_version(root)
    if folder is None:
        raise IndexUnavailable(f"no index at {root}: build one with `briefing-qa ingest --index {root}`")
    try:
        manifest = Manifest.read(folder)
    except (OSError, ValueError, TypeError) as exc:
        raise IndexUnavailable(f"cannot read {folder / 'manifest.json'}: {exc}; rebuild with `briefing-qa ingest`") from exc
    check_compatible(manifest, model)
    try:
        docs = [document_from_json(d) for d in _read_jsonl(folder / "documents.jsonl")]
        rows = _read_jsonl(folder / "chunks.jsonl")
        vectors = faiss.read_index(str(folder / "vectors.faiss"))
    except (OSError, ValueError, TypeError, KeyError, RuntimeError) as exc:
        raise IndexUnavailable(f"the index at {folder} is damaged ({exc}); rebuild with `briefing-qa ingest`") from exc
    if vectors.ntotal != len(rows):
        raise IndexUnavailable(f"the index at {folder} is inconsistent ({vectors.ntotal} vectors, {len(rows)} chunks); rebuild it")
    sent = _read_sentences(folder, len(rows), manifest.dimension)
    toks = _read_tokens(folder, len(rows), manifest.dimension)
    return StoredIndex(folder, manifest, {d.id: d for d in docs}, [chunk_from_json(r) for r in rows],
                       [r["hash"] for r in rows], vectors, sent, toks)


def _read_sentences(folder: Path, n_chunks: int, dimension: int) -> Sentences | None:
    if not (folder / "sentences.npy").is_file():
        return None
    try:
        vecs = np.load(folder / "sentences.npy", allow_pickle=False)
        meta = json.loads((folder / "sentences.json").read_text(encoding="utf-8"))
        owner, hashes = list(meta["owner"]), list(meta["hashes"])
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise IndexUnavailable(f"the sentence vectors at {folder} are damaged ({exc}); rebuild with `briefing-qa ingest`") from exc
    if (vecs.ndim != 2 or len(vecs) != len(owner) or len(owner) != len(hashes) or vecs.shape[1] != dimension
            or any(not 0 <= o < n_chunks for o in owner) or owner != sorted(owner)):
        raise IndexUnavailable(f"the sentence vectors at {folder} do not match its chunks; rebuild with `briefing-qa ingest`")
    return Sentences(vecs.astype("float32", copy=False), owner, hashes)


def _read_tokens(folder: Path, n_chunks: int, dimension: int) -> Tokens | None:
    if not (folder / TOKEN_FILES["vectors"]).is_file():
        return None
    try:
        arrays = {f: np.load(folder / name, allow_pickle=False) for f, name in TOKEN_FILES.items()}
    except (OSError, ValueError) as exc:
        raise IndexUnavailable(f"the token vectors at {folder} are damaged ({exc}); rebuild with `briefing-qa ingest`") from exc
    t = Tokens(**arrays)
    n = len(t.vectors)
    if (t.vectors.ndim != 2 or (n and t.vectors.shape[1] != dimension) or len(t.scales) != n or len(t.ids) != n
            or len(t.starts) != n
            or len(t.counts) != n_chunks or int(t.counts.sum()) != n
            or any(getattr(t, f).dtype != TOKEN_TYPES[f] for f in TOKEN_FILES)):
        raise IndexUnavailable(f"the token vectors at {folder} do not match its chunks; rebuild with `briefing-qa ingest`")
    return t
