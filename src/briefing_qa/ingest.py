"""The ingestion pipeline: read sources, chunk, embed what is new, write a
new index version. Unchanged files are neither parsed nor embedded again."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import store
from .chunking import chunk_document, sentence_texts
from .embedding import Embedder, content_hash, model_identity, model_name
from .errors import BriefingQAError, IndexUnavailable, SourceError
from .lexical import build_lexical
from .records import Chunk, Document
from .settings import Settings
from .sources import discover, document_id, load_catalog, read_document, sha256_file

log = logging.getLogger("briefing_qa.ingest")


@dataclass
class IngestReport:
    version: str | None = None  # None: nothing changed, no new version
    documents: list[str] = field(default_factory=list)
    parsed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    errors: list[SourceError] = field(default_factory=list)
    chunks: int = 0
    embedded: int = 0
    reused: int = 0
    sentences_embedded: int = 0  # sentence vectors (for re-ranking) embedded anew
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors


# What the readers, the structure builder and the chunker make. Bump it when
# a change to them changes their output: an index built by another pipeline
# then has every file read and chunked again on the next ingest (vectors are
# still reused wherever the embedded text is unchanged).
PIPELINE = 6  # 3: sentence vectors; 4: PDF "Table of contents" bookmarks lift their children; 5: analysis.py stems the lexical index; 6: word-piece vectors (tokens.py)


def _previous(root: Path, model: str) -> store.StoredIndex | None:
    """The live index, if its vectors can be reused for this build."""
    try:
        return store.read_index(root, model)
    except IndexUnavailable:
        return None


def _same_pipeline(prev: store.StoredIndex | None, chunk_tokens: int, model_id: str) -> bool:
    """Can the previous index's documents, chunks and vectors be kept as they
    are? Not when another model made them, even one of the same name and
    dimension: its tokenizer cuts chunks elsewhere, its vectors mean other things."""
    return (prev is not None and prev.manifest.chunk_tokens == chunk_tokens and prev.manifest.pipeline == PIPELINE
            and prev.manifest.model_id == model_id)


def ingest(paths: list[Path], settings: Settings, embedder: Callable[[], Embedder],
           progress: bool = False, on_error: Callable[[SourceError], None] | None = None) -> IngestReport:
    """Index `paths` into settings.index. `embedder` is called only if some
    text needs embedding, so a no-change run never loads the model."""
    t0 = time.perf_counter()
    report = IngestReport()
    root = settings.index
    model = model_name(settings.model_path)
    model_id = model_identity(settings.model_path)
    prev = _previous(root, model)
    same = _same_pipeline(prev, settings.chunk_tokens, model_id)
    prev_docs = prev.documents if same else {}

    def fail(err: SourceError) -> None:
        report.errors.append(err)
        if on_error:
            on_error(err)

    docs, report.parsed, files_by_id = read_sources(paths, settings, prev_docs, fail, progress)
    report.documents = [d.id for d in docs]
    report.removed = sorted(set(prev.documents if prev else {}) - set(report.documents))

    unchanged = same and not report.parsed and not report.removed
    if unchanged:
        report.chunks = len(prev.chunks)
        report.reused = len(prev.chunks)
        report.seconds = time.perf_counter() - t0
        return report
    if not docs:
        report.seconds = time.perf_counter() - t0
        return report  # nothing readable: keep serving what there was

    build_version(docs, settings, embedder, prev, set(report.parsed), report, files_by_id, progress)
    report.seconds = time.perf_counter() - t0
    return report


def read_sources(paths: list[Path], settings: Settings, prev_docs: dict[str, Document],
                 fail: Callable[[SourceError], None], progress: bool = False) -> tuple[list[Document], list[str], dict[str, Path]]:
    """Every source file read (documents, ids parsed anew, id -> file): an
    unchanged file keeps its document from `prev_docs`; an unreadable one is
    passed to `fail` and the others go on."""
    catalogs: dict[Path, dict] = {}
    files = discover(paths)
    if not files:
        fail(SourceError(", ".join(map(str, paths)), "no source files found"))
    docs: list[Document] = []
    files_by_id: dict[str, Path] = {}
    seen: set[str] = set()
    parsed: list[str] = []
    for path in _progress(files, progress, "reading"):
        doc_id = None
        try:
            folder = path.parent
            if folder not in catalogs:
                catalogs[folder] = load_catalog(folder)
            meta = catalogs[folder].get(path.name)
            doc_id = _unique(document_id(path), seen)
            sha = sha256_file(path)
            old = prev_docs.get(doc_id)
            files_by_id[doc_id] = path
            if old is not None and old.sha256 == sha and _same_meta(old, meta):
                docs.append(old)
                continue
            doc = read_document(path, meta, max_bytes=int(settings.max_file_mb * 1e6), sha256=sha)
            if doc.id != doc_id:
                doc = _with_id(doc, doc_id)
            docs.append(doc)
            parsed.append(doc_id)
        except SourceError as err:
            seen.discard(doc_id)
            files_by_id.pop(doc_id, None)
            fail(err)
        except Exception as exc:  # a reader bug must not stop the other files
            log.exception("reading %s failed", path)
            seen.discard(doc_id)
            files_by_id.pop(doc_id, None)
            fail(SourceError(str(path), f"could not be read ({type(exc).__name__}: {exc})"))
    return docs, parsed, files_by_id


def corpus_chunks(paths: list[Path], settings: Settings, fits: Callable[[str], bool],
                  on_error: Callable[[SourceError], None] | None = None) -> tuple[dict[str, str], list[Chunk]]:
    """The sources read and chunked as `ingest` does (document id -> sha256,
    chunks), for `briefing-qa adapt`; an unreadable file is reported and skipped."""
    docs, _, _ = read_sources(paths, settings, {}, on_error or (lambda err: None))
    return {d.id: d.sha256 for d in docs}, [c for d in docs for c in chunk_document(d, budget=settings.chunk_tokens, fits=fits)]


def build_version(docs: list[Document], settings: Settings, embedder: Callable[[], Embedder],
                  prev: store.StoredIndex | None, parsed: set[str], report: IngestReport,
                  files: dict[str, Path] | None = None, progress: bool = False) -> None:
    """Chunk, embed and write a new index version of `docs` into settings.index.
    Documents not in `parsed` keep their chunks from `prev`; any chunk whose
    embedded text was embedded before by the same model keeps its vector
    (the key hashes the text with the model's identity). (Also used by the
    BEIR benchmark, so it measures exactly this pipeline.)"""
    root = settings.index
    model = model_name(settings.model_path)
    model_id = model_identity(settings.model_path)
    emb: Embedder | None = None

    def loaded() -> Embedder:  # the model, loaded only if something needs chunking or embedding
        nonlocal emb
        emb = emb or embedder()
        return emb

    # Chunks of unchanged documents are reused as they are.
    prev_chunks: dict[str, list[tuple[Chunk, str]]] = {}
    if prev and prev.manifest.model_id != model_id:
        prev = None  # another model's chunks and vectors: nothing to reuse
    if prev:
        for c, h in zip(prev.chunks, prev.hashes):
            prev_chunks.setdefault(c.document_id, []).append((c, h))
    chunks: list[Chunk] = []
    hashes: list[str] = []
    for doc in docs:
        if doc.id not in parsed and doc.id in prev_chunks:
            for c, h in prev_chunks[doc.id]:
                chunks.append(c)
                hashes.append(h)
            continue
        for c in chunk_document(doc, budget=settings.chunk_tokens, fits=loaded().fits):
            chunks.append(c)
            hashes.append(content_hash(c.context, model_id))
    dim = prev.manifest.dimension if prev else loaded().dimension
    vectors, tokens, report.embedded = _chunk_vectors([c.context for c in chunks], hashes, prev, dim, loaded, progress)
    report.reused = len(chunks) - report.embedded
    report.chunks = len(chunks)
    # Every sentence of every chunk, embedded behind its chunk's context
    # prefix: retrieval re-ranks its best candidates by their best sentence.
    texts, owner = sentence_texts(chunks)
    sentence_hashes = [content_hash(t, model_id) for t in texts]
    sentence_vectors, report.sentences_embedded = _reuse_or_embed(
        texts, sentence_hashes, prev.sentences.hashes if prev and prev.sentences else [],
        prev.sentences.vectors if prev and prev.sentences else None, dim, loaded, progress)

    titles = {d.id: d.title for d in docs}
    rows = [
        {"idx": i, "text": c.text, "section": " ".join(c.section_path), "title": titles[c.document_id],
         "document_id": c.document_id, "kind": c.kind}
        for i, c in enumerate(chunks)
    ]
    manifest = {
        "model": model, "model_id": model_id, "dimension": dim, "chunk_tokens": settings.chunk_tokens, "pipeline": PIPELINE,
        "documents": {d.id: {"path": d.path, "sha256": d.sha256} for d in docs}, "sentences": len(texts),
    }
    folder = store.write_version(root, manifest, docs, chunks, hashes, vectors, lambda f: build_lexical(f, rows),
                                 files=files, sentences=store.Sentences(sentence_vectors, owner, sentence_hashes),
                                 tokens=tokens)
    report.version = folder.name


def _chunk_vectors(texts: list[str], hashes: list[str], prev: store.StoredIndex | None, dim: int,
                   model: Callable[[], Embedder], progress: bool) -> tuple[np.ndarray, store.Tokens | None, int]:
    """Each chunk's vector and its word pieces' vectors (tokens.py), reused
    by content hash where an earlier version has them, else embedded in one
    run of the model; an earlier version without pieces has every chunk run
    again. No pieces when the embedder cannot give them (then only new text
    is embedded). Returns the vectors, the pieces and how many chunks were
    embedded."""
    old = prev.tokens if prev else None
    known = {h: i for i, h in enumerate(prev.hashes)} if prev else {}
    emb = model() if old is None or any(h not in known for h in hashes) else None
    if emb is not None and not hasattr(emb, "embed_tokens"):
        vectors, embedded = _reuse_or_embed(texts, hashes, prev.hashes if prev else [],
                                            prev.vector_array() if prev else None, dim, lambda: emb, progress)
        return vectors, None, embedded
    fresh = [k for k, h in enumerate(hashes) if h not in known or old is None]
    vectors, new = np.zeros((len(texts), dim), dtype="float32"), {}
    if fresh:
        vectors[fresh], pieces = emb.embed_tokens([texts[k] for k in fresh], progress=progress)
        new = dict(zip(fresh, pieces))
    first = old.first if old is not None else None
    if len(fresh) < len(texts):
        old_vectors = prev.vector_array()
        for k, h in enumerate(hashes):
            if k not in new:
                vectors[k] = old_vectors[known[h]]
    parts = [store.Tokens.of_pieces(new[k]) if k in new else old.chunk(known[h], first) for k, h in enumerate(hashes)]
    return vectors, store.Tokens.concat(parts, dim), len(fresh)


def _reuse_or_embed(texts: list[str], hashes: list[str], known_hashes: list[str], known_vectors: np.ndarray | None,
                    dim: int, model: Callable[[], Embedder], progress: bool) -> tuple[np.ndarray, int]:
    """A vector for each text: the stored one where the same content hash was
    embedded before, else embedded now. Returns the vectors and how many were
    embedded."""
    known = {h: i for i, h in enumerate(known_hashes)} if known_vectors is not None else {}
    vectors = np.zeros((len(texts), dim), dtype="float32")
    todo = []
    for k, h in enumerate(hashes):
        if h in known:
            vectors[k] = known_vectors[known[h]]
        else:
            todo.append(k)
    if todo:
        vectors[todo] = model().embed([texts[k] for k in todo], progress=progress)
    return vectors, len(todo)


def _unique(doc_id: str, seen: set[str]) -> str:
    base, n = doc_id, 2
    while doc_id in seen:
        doc_id = f"{base}-{n}"
        n += 1
    seen.add(doc_id)
    return doc_id


def _same_meta(doc: Document, meta) -> bool:
    if meta is None:
        return doc.publisher is None and doc.url is None
    return (doc.title, doc.publisher, doc.year, doc.url, doc.licence) == (
        meta.title or doc.title, meta.publisher, meta.year, meta.url, meta.licence)


def _with_id(doc: Document, doc_id: str) -> Document:
    from dataclasses import replace

    return replace(doc, id=doc_id)


def _progress(items, enabled: bool, desc: str):
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="file")


__all__ = ["BriefingQAError", "IngestReport", "ingest"]
