"""What the corpus says about words: its vocabulary, the inverse document
frequency of each stem, the short forms it defines ("child sexual
exploitation (CSE)") and the words a mistyped one most likely meant. Built
once per index version; the query analysis uses it for expansions and
corrections, the highlighter for weights."""

from __future__ import annotations

import functools
import json
import math
import re
import string
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from . import analysis

_WORD = re.compile(r"[A-Za-z][A-Za-z&]+")  # a word that may be a short form ("CSE", "Q&A")

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


# A word general English uses at least this often (wordfreq's Zipf scale:
# about once in 10 million words) is never taken for a typo, though the
# corpus may not use it: "groping" is not read as "growing", nor "helper" as
# "helped". Mistypings score 0 ("chlidren", "negelct").
ENGLISH_ZIPF = 2.0
# Longer "words" are not typos of English ones ("responsibilities" has 16
# letters), and their one-edit neighbours would cost memory: a 2,000-letter
# word has 100,000 of them, 2,000 characters each.
LONGEST_WORD = 24
MAX_TYPOS = 8  # words of one text looked at closely
# A slip in a word the documents never use ("eivction", "celaned") is read
# as a common English word one edit away: the encoder then reads "eviction"
# rather than word pieces of nothing. Only common words (Zipf >= 3, about
# 28,000), so a rare name or term is not taken for one.
COMMON_ZIPF = 3.0


@functools.lru_cache(maxsize=50_000)
def is_english(word: str) -> bool:
    try:
        from wordfreq import zipf_frequency
    except ImportError:  # pragma: no cover - a dependency; without it nothing counts as a typo
        return True
    return zipf_frequency(word, "en") >= ENGLISH_ZIPF


@functools.lru_cache(maxsize=1)
def common_english() -> dict[str, float]:
    """General English's common words and their Zipf frequency; built on
    first use (about 0.5 s), as few questions need it."""
    try:
        from wordfreq import iter_wordlist, zipf_frequency
    except ImportError:  # pragma: no cover - a dependency
        return {}
    out: dict[str, float] = {}
    for w in iter_wordlist("en"):
        z = zipf_frequency(w, "en")
        if z < COMMON_ZIPF:
            break
        if w.isascii() and w.isalpha():
            out[w] = z
    return out


def one_edit(word: str) -> set[str]:
    """Every string one letter away: dropped, added, changed, or two
    neighbours swapped (Damerau-Levenshtein distance 1)."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    out |= {a + c + b[1:] for a, b in splits if b for c in string.ascii_lowercase}
    out |= {a + c + b for a, b in splits for c in string.ascii_lowercase}
    out.discard(word)
    return out


@dataclass(frozen=True)
class Vocabulary:
    idf: dict[str, float]  # stem -> log(1 + chunks / chunks holding it)
    default_idf: float  # for a stem the corpus never uses
    abbreviations: dict[str, str]  # "CSE" -> "child sexual exploitation"
    long_forms: dict[str, str]  # "child sexual exploitation" -> "CSE"
    counts: dict[str, int] = field(default_factory=dict)  # word (lower case) -> times the chunks use it
    capitalised: frozenset[str] = frozenset()  # words (lower case) the chunks also write with a capital
    lower: frozenset[str] = frozenset()  # words the chunks write in lower case ("send", never "dsl")
    # Short forms the chunks spell out at least as often as they use ("DSL":
    # 128 to 8; not "LADO", 4 to 41): a short question is read in those words.
    written_out: frozenset[str] = frozenset()

    @property
    def words(self):
        """Every word of the chunks, lower case (a set-like view)."""
        return self.counts.keys()

    @classmethod
    def build(cls, chunk_texts: list[str], document_texts, abbreviations: bool = True) -> Vocabulary:
        df: dict[str, int] = {}
        counts: Counter[str] = Counter()
        capitalised: set[str] = set()
        lower: set[str] = set()
        joined: list[str] = []  # every chunk's words, lower case: for counting long forms
        for text in chunk_texts:
            ws = analysis.words(text)
            joined.append(" ".join(ws).lower())
            counts.update(w.lower() for w in ws)
            capitalised.update(w.lower() for w in ws if w[:1].isupper())
            lower.update(w for w in ws if w.islower())
            for t in {analysis.stem(w) for w in ws if not analysis.is_stop(w)}:
                df[t] = df.get(t, 0) + 1
        n = max(1, len(chunk_texts))
        abbr = mine_abbreviations(document_texts) if abbreviations else {}
        return cls({t: math.log(1 + n / f) for t, f in df.items()}, math.log(1 + n),
                   abbr, {v: k for k, v in abbr.items()}, dict(counts), frozenset(capitalised), frozenset(lower),
                   _written_out(abbr, " " + " ".join(joined) + " ", counts))

    def correction(self, word: str, name: bool = False) -> str | None:
        """The corpus word a mistyped `word` most likely meant: one edit away
        ("chlidren" -> "children"), the one the corpus uses most; with none,
        the commonest English word one edit away ("eivction" -> "eviction").
        None for a word the corpus uses (or its stem), a word of general
        English, a stop word, a word under four letters or over
        LONGEST_WORD, or one with digits or marks.
        `name`: it is written like one (a capital inside a sentence), so only
        a word the corpus also writes with a capital will do ("Encompas" ->
        "Encompass", but "Ketel" stays)."""
        return self._nearest(word, name) if self._unknown(word) else None

    def _unknown(self, word: str) -> bool:
        """Cheap tests first: could `word` be a typo at all?"""
        w = word.lower()
        return not (not 4 <= len(w) <= LONGEST_WORD or not w.isascii() or not w.isalpha()
                    or any(c.isupper() for c in word[1:])  # a name or code inside a word ("aPKCz", "DfE")
                    or w in self.counts or analysis.is_stop(w) or analysis.stem(w) in self.idf or is_english(w))

    def _nearest(self, word: str, name: bool) -> str | None:
        """The corpus word one edit away, or else (not for a name) a common
        English one."""
        w = word.lower()
        edits = one_edit(w)
        found = {c: self.counts[c] for c in edits if c in self.counts and (not name or c in self.capitalised)}
        if not found and not name:
            english = common_english()
            found = {c: english[c] for c in edits if c in english}
        if not found:
            return None
        # Two letters swapped keeps every letter typed: the likelier slip
        # ("casues" is "causes" rather than the commoner "cases").
        letters = sorted(w)
        best = max(found, key=lambda c: (sorted(c) == letters, found[c], c))
        return best.capitalize() if word[:1].isupper() else best

    def corrected(self, text: str) -> tuple[str, tuple[tuple[str, str], ...]]:
        """`text` with its mistyped words put right, and (as typed, read as)
        for each; words inside "quoted phrases" are left as typed. At most
        MAX_TYPOS words of a text are looked at closely (a real question has
        a few slips; 2,000 characters of made-up words would cost 0.4 s)."""
        quoted = [m.span() for m in analysis.PHRASE.finditer(text)]
        fixes: list[tuple[int, int, str, str]] = []
        tried = 0
        for k, (s, e, w) in enumerate(analysis.word_spans(text)):
            if tried >= MAX_TYPOS:
                break
            if any(a <= s < b for a, b in quoted) or not self._unknown(w):
                continue
            tried += 1
            c = self._nearest(w, name=k > 0 and w[:1].isupper())
            if c:
                fixes.append((s, e, w, c))
        out = text
        for s, e, _, c in reversed(fixes):
            out = out[:s] + c + out[e:]
        return out, tuple((w, c) for _, _, w, c in fixes)

    def weight(self, stem: str) -> float:
        return self.idf.get(stem, self.default_idf)

    def abbreviation_expansions(self, text: str) -> list[str]:
        """The long form of a short form `text` uses ("CSE", "SCRs", or "cse"
        when the corpus never writes it in lower case), and the short form of
        a long form it spells out."""
        extra = [self.abbreviations[s] for s in map(self._short_form, _WORD.findall(text)) if s]
        folded = " " + " ".join(analysis.words(text)).lower() + " "
        for form, abbr in self.long_forms.items():
            if " " + form + " " in folded or " " + form + "s " in folded:
                extra.append(abbr)
        return extra

    def _short_form(self, word: str) -> str | None:
        """The short form (a key of `abbreviations`) `word` is, if any: "CSE",
        "SCRs", or "cse" when the corpus never writes it in lower case."""
        key = word[:-1] if word.endswith("s") and word[:-1] in self.abbreviations else word
        if key in self.abbreviations:
            return key
        # Typed in lower case ("dsl", or a question in capitals, folded), a
        # short form is still one unless the corpus writes that word in
        # lower case too ("send" is a verb as well as SEND).
        return key.upper() if key.upper() in self.abbreviations and key.lower() not in self.lower else None

    def spell_out(self, text: str) -> str:
        """`text` with each short form it uses replaced by its long form,
        where the documents mostly write it out ("dsl training" ->
        "designated safeguarding lead training"; "lado" stays)."""
        def long(m: re.Match) -> str:
            short = self._short_form(m.group())
            return self.abbreviations[short] if short in self.written_out else m.group()
        return _WORD.sub(long, text)

    def spellings(self, text: str) -> list[str]:
        """The corpus's spelling of the words of `text` it spells otherwise."""
        out = []
        for w in analysis.words(text):
            lw = w.lower()
            if not analysis.is_stop(lw):
                out += [v for v in analysis.spelling_variants(lw) if v in self.words and v != lw]
        return out


SYNONYMS = Path(__file__).parent / "data" / "synonyms.json"


@dataclass(frozen=True)
class Synonyms:
    """Everyday words and the documents' own (data/synonyms.json, a versioned
    synonym set like Elasticsearch's): the stems of a phrase -> the stems of
    the documents' terms it also means. Only terms the corpus uses are targets."""

    rules: dict[tuple[str, ...], tuple[tuple[str, ...], ...]]
    version: int = 0

    @classmethod
    def load(cls, path: Path = SYNONYMS) -> Synonyms:
        data = json.loads(path.read_text(encoding="utf-8"))
        rules: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
        stems = lambda t: tuple(analysis.index_tokens(t).split())
        for s in data["sets"]:
            targets = {stems(t) for t in s.get("doc_terms", [])} - {()}
            sources = s.get("terms") or s.get("from") or []
            for src in sources:
                key = stems(src)
                if key:
                    rules.setdefault(key, set()).update(t for t in targets if t != key)
        return cls({k: tuple(sorted(v)) for k, v in rules.items() if v}, int(data.get("version", 0)))

    def expand(self, stems: tuple[str, ...]) -> list[tuple[str, ...]]:
        """The documents' terms (as stems, each a phrase) for the phrases of
        `stems` (longest phrase first; a word is used by one phrase only)."""
        out: list[tuple[str, ...]] = []
        longest = max((len(k) for k in self.rules), default=0)
        i = 0
        have = set(stems)
        while i < len(stems):
            for n in range(min(longest, len(stems) - i), 0, -1):
                targets = self.rules.get(tuple(stems[i : i + n]))
                if targets:
                    out += [t for t in targets if not (len(t) == 1 and t[0] in have) and t not in out]
                    i += n
                    break
            else:
                i += 1
        return out


def _written_out(abbreviations: dict[str, str], joined: str, counts: Counter) -> frozenset[str]:
    """The short forms whose long form the chunks (`joined`: their words,
    lower case, space-separated and -bounded) use at least as often (either
    in the singular or the plural) as the short form itself."""
    out = set()
    for short, long in abbreviations.items():
        stem = " ".join(analysis.words(long)).lower()
        stem = stem[:-1] if stem.endswith("s") else stem
        written = joined.count(f" {stem} ") + joined.count(f" {stem}s ")
        if written >= counts.get(short.lower(), 0) + counts.get(short.lower() + "s", 0):
            out.add(short)
    return frozenset(out)
