"""BEIR benchmarks (e.g. SciFact) run through the service's own pipeline.

Each corpus entry becomes a Document made by the same structure builder the
readers use (the title as its heading, the text as a paragraph); the
documents are chunked, embedded and indexed by ingest.build_version (the
code `briefing-qa ingest` runs), and queries go through Retriever.rank, the
ranking /v1/ask uses. A document's score is the best score of its chunks.

The index folder is kept between runs: vectors are reused by content hash,
so only a changed pipeline (chunking, context prefix) embeds again."""

from __future__ import annotations

import csv
import json
import math
import time
from collections.abc import Callable
from pathlib import Path

from .errors import IndexUnavailable, InvalidRequest
from .records import Document
from .settings import Settings
from .structure import DocumentBuilder, clean_inline


def load_corpus(folder: Path) -> list[dict]:
    with (folder / "corpus.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_queries(folder: Path) -> dict[str, str]:
    with (folder / "queries.jsonl").open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return {str(r["_id"]): r["text"] for r in rows}


def load_qrels(folder: Path, split: str) -> dict[str, dict[str, int]]:
    path = folder / "qrels" / f"{split}.tsv"
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8") as f:
        for row in csv.reader(f, delimiter="\t"):
            if not row or row[0] == "query-id":
                continue
            qid, did, score = row[0], row[1], int(row[2])
            qrels.setdefault(qid, {})[did] = score
    return qrels


def to_document(entry: dict) -> Document:
    """One corpus entry as a Document, through the structure builder."""
    b = DocumentBuilder()
    title = clean_inline(entry.get("title") or "")
    doc_id = str(entry["_id"])
    if title:
        b.title = title
        b.heading(title, 1)
    text = clean_inline(entry.get("text") or "")
    if text:
        b.add("paragraph", text)
    return b.build(id=doc_id, title=title or doc_id, path=f"{doc_id}.txt", sha256=_sha(title + "\0" + text), format="text")


def _sha(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def build_index(docs: list[Document], root: Path, settings: Settings, embedder: Callable, progress: bool = False):
    """(Re)build the benchmark index at `root`, re-chunking every document
    but reusing any vector whose embedded text is unchanged."""
    from . import store
    from .embedding import model_name
    from .ingest import IngestReport, build_version

    s = settings.with_(index=root)
    try:
        prev = store.read_index(root, model_name(s.model_path))
    except IndexUnavailable:
        prev = None
    report = IngestReport(documents=[d.id for d in docs], parsed=[d.id for d in docs])
    t0 = time.perf_counter()
    build_version(docs, s, embedder, prev, set(report.parsed), report, None, progress)
    report.seconds = time.perf_counter() - t0
    return report


def ndcg_at(ranked: list[str], rels: dict[str, int], k: int = 10) -> float:
    dcg = sum((2 ** rels.get(d, 0) - 1) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(rels.values(), reverse=True)[:k]
    idcg = sum((2 ** r - 1) / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at(ranked: list[str], rels: dict[str, int], k: int = 100) -> float:
    relevant = {d for d, r in rels.items() if r > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def rank_documents(retriever, query: str, k: int = 100) -> list[str]:
    """Document ids, best first: a document scores as its best chunk."""
    seen: list[str] = []
    got: set[str] = set()
    for i, _score in retriever.rank(query):
        d = retriever.chunks[i].document_id
        if d not in got:
            got.add(d)
            seen.append(d)
            if len(seen) >= k:
                break
    return seen


def score_run(retriever, queries: dict[str, str], qrels: dict[str, dict[str, int]]) -> dict:
    ndcg, recall, ids = [], [], []
    for qid, rels in qrels.items():
        if qid not in queries:
            continue
        ranked = rank_documents(retriever, queries[qid], 100)
        ndcg.append(ndcg_at(ranked, rels, 10))
        recall.append(recall_at(ranked, rels, 100))
        ids.append(qid)
    n = max(1, len(ids))
    return {"queries": len(ids), "ndcg@10": sum(ndcg) / n, "recall@100": sum(recall) / n,
            "per_query": dict(zip(ids, [round(x, 4) for x in ndcg]))}


def open_bench_retriever(root: Path, embedder, **options):
    from . import store
    from .lexical import LexicalIndex
    from .retrieval import Retriever

    stored = store.read_index(root)
    return Retriever(stored, embedder, LexicalIndex(stored.folder / "lexical"), **options)


def run_beir(folder: Path, split: str, root: Path, embedder_factory: Callable, settings: Settings,
             progress: bool = False, log: Callable[[str], None] = lambda m: None, rebuild: bool = True,
             query_embedder: Callable | None = None, **options) -> dict:
    """`embedder_factory` embeds the corpus (as ingest does); questions are
    encoded by `query_embedder` when given (the service's query encoder)."""
    folder = Path(folder)
    for need in ("corpus.jsonl", "queries.jsonl", f"qrels/{split}.tsv"):
        if not (folder / need).is_file():
            raise InvalidRequest(f"{folder} is not a BEIR folder: {need} is missing")
    corpus = load_corpus(folder)
    queries = load_queries(folder)
    qrels = load_qrels(folder, split)
    docs = [to_document(e) for e in corpus]
    if rebuild:
        log(f"indexing {len(docs)} documents into {root} (vectors are reused by content hash)")
        report = build_index(docs, root, settings, embedder_factory, progress=progress)
        log(f"{report.chunks} chunks: {report.embedded} embedded, {report.reused} reused ({report.seconds:.0f} s)")
    emb = (query_embedder or embedder_factory)()
    retriever = open_bench_retriever(root, emb, **options)
    t0 = time.perf_counter()
    result = score_run(retriever, queries, qrels)
    result.pop("per_query")
    result.update(documents=len(docs), chunks=len(retriever.chunks), split=split,
                  seconds_per_query=round((time.perf_counter() - t0) / max(1, result["queries"]), 4))
    return result
