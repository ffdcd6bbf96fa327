"""The lexical index: tantivy BM25 over each chunk's text, section path and
document title. Text is analysed by analysis.py before tantivy sees it (the
index stores stems separated by spaces), and queries are built from analysed
terms as query objects: no user text ever reaches tantivy's query parser, so
AND, OR, NOT, quotes, brackets and colons are words or nothing, never syntax."""

from __future__ import annotations

from pathlib import Path

import tantivy

from . import analysis

FIELDS = ("text", "section", "title")
DEFAULT_BOOSTS = {"text": 1.0, "section": 0.6, "title": 0.2}
# The first ingest pipeline (ingest.PIPELINE) whose lexical index holds
# analysis.py's stems; an older index cannot answer these queries.
ANALYSIS_PIPELINE = 5


def _schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_integer_field("idx", stored=True, indexed=True, fast=True)
    for name in FIELDS:
        # Already analysed: the whitespace tokenizer only splits the stems.
        sb.add_text_field(name, stored=False, tokenizer_name="whitespace")
    sb.add_text_field("document_id", stored=False, tokenizer_name="raw")
    sb.add_text_field("kind", stored=False, tokenizer_name="raw")
    return sb.build()


def build_lexical(folder: Path, rows: list[dict]) -> None:
    """rows: {idx, text, section, title, document_id, kind} for every chunk."""
    folder.mkdir(parents=True, exist_ok=True)
    index = tantivy.Index(_schema(), path=str(folder))
    writer = index.writer(heap_size=50_000_000, num_threads=1)
    for row in rows:
        analysed = {k: (analysis.index_tokens(v) if k in FIELDS else v) for k, v in row.items()}
        writer.add_document(tantivy.Document(**analysed))
    writer.commit()
    writer.wait_merging_threads()


class LexicalIndex:
    def __init__(self, folder: Path) -> None:
        self.index = tantivy.Index.open(str(folder))
        self.index.reload()
        self.schema = self.index.schema
        self.searcher = self.index.searcher()
        # Chunk number of every tantivy document, read once: fetching the
        # stored field of each of a query's 300 hits cost more than the search.
        everything = self.searcher.search(tantivy.Query.all_query(), max(1, self.searcher.num_docs)).hits
        self._idx = {(a.segment_ord, a.doc): self.searcher.doc(a)["idx"][0] for _, a in everything}

    def search(self, terms: tuple[str, ...] | list[str], limit: int, phrases: tuple[tuple[str, ...], ...] = (),
               boosts: dict[str, float] | None = None, document_ids: list[str] | None = None,
               also: tuple[tuple[str, ...], ...] = (), also_weight: float = 0.5) -> list[tuple[int, float]]:
        """(chunk idx, BM25 score), best first. `terms` and `phrases` are
        analysed stems (analysis.terms / index_tokens): each phrase is required
        in one of the fields, the terms are optional and score. `also`: other
        words or phrases (synonyms) that score at `also_weight`."""
        boosts = boosts or DEFAULT_BOOSTS
        clauses = [(tantivy.Occur.Should, self._any_field(t, boosts)) for t in terms]
        clauses += [(tantivy.Occur.Should, tantivy.Query.boost_query(self._any_field(p, boosts), also_weight))
                    for p in also if p and also_weight > 0]
        clauses += [(tantivy.Occur.Must, self._any_field(p, boosts)) for p in phrases if p]
        if not clauses:
            return []
        if document_ids:
            clauses.append((tantivy.Occur.Must, tantivy.Query.term_set_query(self.schema, "document_id", list(document_ids))))
        hits = self.searcher.search(tantivy.Query.boolean_query(clauses), limit).hits
        return [(self._idx[(addr.segment_ord, addr.doc)], float(score)) for score, addr in hits]

    def _any_field(self, what: str | tuple[str, ...], boosts: dict[str, float]) -> tantivy.Query:
        """A term (str) or a phrase (stems) in any field, each field boosted."""
        per_field = []
        for name in FIELDS:
            b = boosts.get(name, 0.0)
            if b <= 0:
                continue
            if isinstance(what, str) or len(what) == 1:
                q = tantivy.Query.term_query(self.schema, name, what if isinstance(what, str) else what[0])
            else:
                q = tantivy.Query.phrase_query(self.schema, name, list(what))
            per_field.append((tantivy.Occur.Should, tantivy.Query.boost_query(q, b)))
        return tantivy.Query.boolean_query(per_field)

    @property
    def num_docs(self) -> int:
        return self.searcher.num_docs
