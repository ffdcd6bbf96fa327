"""The lexical index: tantivy BM25 over chunk text, section path and title,
with English stemming; phrase queries need positions, which are kept."""

from __future__ import annotations

import re
from pathlib import Path

import tantivy

FIELDS = ("text", "section", "title")
DEFAULT_BOOSTS = {"text": 1.0, "section": 0.6, "title": 0.2}
_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")
_PHRASE = re.compile(r'"([^"]+)"|“([^”]+)”')


def _schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_integer_field("idx", stored=True, indexed=True, fast=True)
    for name in FIELDS:
        sb.add_text_field(name, stored=False, tokenizer_name="en_stem")
    sb.add_text_field("document_id", stored=False, tokenizer_name="raw")
    sb.add_text_field("kind", stored=False, tokenizer_name="raw")
    return sb.build()


def build_lexical(folder: Path, rows: list[dict]) -> None:
    """rows: {idx, text, section, title, document_id, kind} for every chunk."""
    folder.mkdir(parents=True, exist_ok=True)
    index = tantivy.Index(_schema(), path=str(folder))
    writer = index.writer(heap_size=50_000_000, num_threads=1)
    for row in rows:
        writer.add_document(tantivy.Document(**row))
    writer.commit()
    writer.wait_merging_threads()


def words(text: str) -> list[str]:
    return [w.replace("’", "'") for w in _WORD.findall(text)]


def phrases(query: str) -> list[str]:
    """The exact phrases ("in double quotes") of a search query."""
    return [p for m in _PHRASE.finditer(query) for p in m.groups() if p and p.strip()]


class LexicalIndex:
    def __init__(self, folder: Path) -> None:
        self.index = tantivy.Index.open(str(folder))
        self.index.reload()
        self.searcher = self.index.searcher()

    def search(self, query: str, limit: int, boosts: dict[str, float] | None = None,
               require_phrases: bool = True) -> list[tuple[int, float]]:
        """(chunk idx, BM25 score), best first. Quoted phrases in `query` are
        required (phrase queries); the other words are optional terms."""
        boosts = boosts or DEFAULT_BOOSTS
        quoted = phrases(query)
        rest = _PHRASE.sub(" ", query)
        terms = [w for w in words(rest)]
        parts = []
        for p in quoted:
            ws = words(p)
            if ws:
                parts.append(("+" if require_phrases else "") + '"' + " ".join(ws) + '"')
        parts += [w.replace("'", "") for w in terms]
        if not parts:
            return []
        q = self.index.parse_query(" ".join(parts), list(FIELDS), field_boosts=boosts)
        hits = self.searcher.search(q, limit).hits
        return [(self.searcher.doc(addr)["idx"][0], float(score)) for score, addr in hits]

    @property
    def num_docs(self) -> int:
        return self.searcher.num_docs
