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
        # Chunk number of every tantivy document, read once: fetching the
        # stored field of each of a query's 300 hits cost more than the search.
        everything = self.searcher.search(tantivy.Query.all_query(), max(1, self.searcher.num_docs)).hits
        self._idx = {(a.segment_ord, a.doc): self.searcher.doc(a)["idx"][0] for _, a in everything}

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
        return [(self._idx[(addr.segment_ord, addr.doc)], float(score)) for score, addr in hits]

    @property
    def num_docs(self) -> int:
        return self.searcher.num_docs


# -- abbreviations mined from the corpus ------------------------------------
# "child sexual exploitation (CSE)", "Local Safeguarding Children Board
# (LSCB)", "serious case reviews (SCRs)": a bracketed short form after the
# words it abbreviates (Schwartz & Hearst 2003, simplified).
_ABBR = re.compile(r"\(\s*([A-Z][A-Za-z&]{1,9}?)(s?)\s*\)")


def _long_form(before: str, abbr: str) -> str | None:
    """The shortest tail of `before` whose letters spell `abbr` in order, the
    first letter at the start of a word."""
    letters = [c.lower() for c in abbr if c.isalnum()]
    if len(letters) < 2 or sum(c.isupper() for c in abbr) < 2:
        return None
    ws = re.findall(r"[A-Za-z][A-Za-z'’-]*", before)[-(len(letters) + 4):]
    if not ws:
        return None
    text = " ".join(ws).lower()
    li = len(letters) - 1
    i = len(text) - 1
    while li >= 0:
        c = letters[li]
        while i >= 0 and (text[i] != c or (li == 0 and i > 0 and text[i - 1] not in " -")):
            i -= 1
        if i < 0:
            return None
        li -= 1
        i -= 1
    start = i + 1
    form = " ".join(ws)[start:]
    n = len(form.split())
    if n < 2 or n > len(letters) + 2 or not form[:1].isalpha():
        return None
    return form


def mine_abbreviations(texts) -> dict[str, str]:
    """ABBR -> its commonest long form, from "long form (ABBR)" in `texts`."""
    found: dict[str, dict[str, int]] = {}
    for text in texts:
        for m in _ABBR.finditer(text):
            abbr = m.group(1)
            form = _long_form(text[max(0, m.start() - 160) : m.start()], abbr)
            if form:
                forms = found.setdefault(abbr, {})
                key = form.lower()
                forms[key] = forms.get(key, 0) + 1
    return {a: max(forms, key=lambda f: (forms[f], -len(f))) for a, forms in found.items()}


# -- British and American spellings ------------------------------------------
# (where, American, British): suffix or prefix rewrites, tried both ways. They
# over-generate on purpose: the retriever keeps only variants its corpus uses.
_SPELLING = (
    ("suffix", "ization", "isation"), ("suffix", "izations", "isations"), ("suffix", "ize", "ise"),
    ("suffix", "izes", "ises"), ("suffix", "ized", "ised"), ("suffix", "izing", "ising"), ("suffix", "yze", "yse"),
    ("suffix", "yzed", "ysed"), ("suffix", "or", "our"), ("suffix", "ors", "ours"), ("suffix", "oral", "oural"),
    ("suffix", "er", "re"), ("suffix", "ers", "res"), ("suffix", "ense", "ence"), ("suffix", "og", "ogue"),
    ("suffix", "ogs", "ogues"), ("suffix", "eling", "elling"), ("suffix", "eled", "elled"),
    ("suffix", "program", "programme"), ("suffix", "programs", "programmes"), ("suffix", "gment", "gement"),
    ("prefix", "ped", "paed"), ("prefix", "fet", "foet"), ("prefix", "hem", "haem"), ("prefix", "anem", "anaem"),
    ("prefix", "anest", "anaest"), ("prefix", "esth", "aesth"), ("prefix", "enroll", "enrol"), ("prefix", "fulfill", "fulfil"),
    ("prefix", "gray", "grey"), ("prefix", "mom", "mum"),
)


def spelling_variants(word: str) -> set[str]:
    """Other spellings of `word` (American <-> British) by rule."""
    w = word.lower()
    out = set()
    for where, us, gb in _SPELLING:
        for a, b in ((us, gb), (gb, us)):
            if where == "suffix" and w.endswith(a) and len(w) > len(a) + 2:
                out.add(w[: len(w) - len(a)] + b)
            elif where == "prefix" and w.startswith(a) and len(w) > len(a) + 2:
                out.add(b + w[len(a):])
    out.discard(w)
    return out
