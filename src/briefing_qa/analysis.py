"""The one text analysis: folding, word splitting, stop words, stemming and
spelling variants. The lexical index, the query, highlights, the quote check
and evaluation all use it, so a word is the same word everywhere ("Families"
in a question, "family" in a heading and "families'" in a sentence all stem
to "famili"). The widget mirrors only `fold`; tests/data/analysis_vectors.json
holds the cases both the Python and the browser tests check, and
data/fold.json the character table both use.

Nothing here is syntax: every character a person can type is either part of
a word or ignored."""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from pathlib import Path

import Stemmer

# Characters that word processors, PDF viewers and slide tools swap for one
# another, and what each folds to; everything else (letters, case,
# punctuation) is kept. Data, so the widget folds alike (/v1/widget-config).
FOLD_MAP: dict[str, str] = json.loads((Path(__file__).parent / "data" / "fold.json").read_text(encoding="utf-8"))["map"]

# A word: letters and digits (any script), with inner apostrophes ("child's",
# "don't"), found in the folded text.
WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
# "an exact phrase" in straight or curly double quotes.
PHRASE = re.compile(r'"([^"]+)"|“([^”]+)”')

STOP = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "by", "can", "could", "did", "do", "does", "for", "from", "had", "has",
     "have", "how", "i", "if", "in", "into", "is", "it", "its", "may", "might", "must", "of", "on", "or", "our", "should",
     "so", "than", "that", "the", "their", "them", "there", "these", "they", "this", "those", "to", "was", "were", "what",
     "when", "where", "which", "who", "whom", "why", "will", "with", "would", "you", "your", "about", "after", "all",
     "also", "any", "been", "being", "between", "both", "each", "more", "most", "other", "over", "such", "through",
     "under", "up", "very"]
    # Contractions a practitioner types ("isn't", "what's"): no topic, yet as
    # words the corpus never uses they would weigh most in highlights.
    + ["isn't", "aren't", "wasn't", "weren't", "don't", "doesn't", "didn't", "won't", "can't", "couldn't",
       "shouldn't", "wouldn't", "haven't", "hasn't", "what's", "who's", "it's", "i'm", "i've", "we're", "we've",
       "you're", "they're", "that's", "he's", "she's", "there's", "let's", "you've", "they've", "should've",
       "would've", "could've"]
)

# Contractions typed in a hurry without their apostrophe ("mum wont let me
# share", "im worried"), put back before anything reads the question: the
# encoder splits "wont" into other word pieces than "won't" (cosine to the
# answer 0.29 against 0.33, under the abstention's threshold). Not "its",
# "lets", "ill", "id", "were", "well", "shell": English words as they stand.
BARE_CONTRACTIONS = {
    "isnt": "isn't", "arent": "aren't", "wasnt": "wasn't", "werent": "weren't", "dont": "don't", "doesnt": "doesn't",
    "didnt": "didn't", "wont": "won't", "cant": "can't", "couldnt": "couldn't", "shouldnt": "shouldn't",
    "wouldnt": "wouldn't", "havent": "haven't", "hasnt": "hasn't", "whats": "what's", "whos": "who's", "im": "i'm",
    "ive": "i've", "weve": "we've", "youre": "you're", "theyre": "they're", "thats": "that's", "hes": "he's",
    "shes": "she's", "theres": "there's", "youve": "you've", "theyve": "they've", "shouldve": "should've",
    "wouldve": "would've", "couldve": "could've"}
_BARE_WORD = re.compile(r"\b(" + "|".join(BARE_CONTRACTIONS) + r")\b", re.I)


def apostrophes(text: str) -> str:
    """A contraction typed without its apostrophe, spelled out ("Im" -> "I'm")."""
    def spelled(m: re.Match) -> str:
        w = BARE_CONTRACTIONS[m.group().lower()]
        w = "I" + w[1:] if w.startswith("i'") else w
        if m.group().isupper():
            return w.upper()
        return w[0].upper() + w[1:] if m.group()[0].isupper() else w
    return _BARE_WORD.sub(spelled, text)


_stemmer = Stemmer.Stemmer("english")  # Snowball English (Porter2), as tantivy's en_stem


def fold_with_map(text: str) -> tuple[str, list[int]]:
    """The folded text (case kept), and for each of its characters the offset
    in `text` of the character it came from. White space runs become one space."""
    out: list[str] = []
    where: list[int] = []
    space = True  # no leading space
    for i, ch in enumerate(text):
        rep = FOLD_MAP.get(ch)
        if rep is None:
            rep = _nfkc(ch) if ord(ch) > 127 else ch
        for c in rep:
            if c.isspace() or unicodedata.category(c) == "Cc":
                if not space:
                    out.append(" ")
                    where.append(i)
                    space = True
                continue
            out.append(c)
            where.append(i)
            space = False
    return "".join(out), where


_TRANSLATE = str.maketrans(FOLD_MAP)
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_BLANK = re.compile(r"[\s\x00-\x1f\x7f-\x9f]+")


@functools.lru_cache(maxsize=4096)
def _nfkc(ch: str) -> str:
    return unicodedata.normalize("NFKC", ch)


def fold_quote(text: str) -> str:
    """Quote marks, dashes, bullets and white space folded; case kept. The
    same as fold_with_map's text, without the offsets, at the speed of
    str.translate and two regular expressions (it runs on every candidate
    chunk of every answer)."""
    t = text.translate(_TRANSLATE)
    if not t.isascii():
        t = _NON_ASCII.sub(lambda m: _nfkc(m.group()), t)
    return _BLANK.sub(" ", t).strip()


def fold(text: str) -> str:
    """fold_quote, case folded too: for case-blind phrase checks."""
    return fold_quote(text).lower()


def _plain(text: str) -> bool:
    """Folding cannot change this text's words (most chunks): skip it."""
    return text.isascii() and "`" not in text


def words(text: str) -> list[str]:
    """The words of the folded text, case kept."""
    return WORD.findall(text if _plain(text) else fold_quote(text))


def word_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, word) of each word, offsets in `text` itself."""
    if _plain(text):
        return [(m.start(), m.end(), m.group()) for m in WORD.finditer(text)]
    folded, where = fold_with_map(text)
    return [(where[m.start()], where[m.end() - 1] + 1, m.group()) for m in WORD.finditer(folded)]


def is_stop(word: str) -> bool:
    return word.lower() in STOP


@functools.lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    # Cached: the same few thousand words are stemmed for every answer.
    return _stemmer.stemWord(word.lower().replace("’", "'"))


def terms(text: str) -> list[str]:
    """Stems of the words that carry meaning, in order (stop words out)."""
    return [stem(w) for w in words(text) if not is_stop(w)]


def index_tokens(text: str) -> str:
    """What the lexical index stores for `text`: every word's stem, stop words
    included so that phrase positions stay true, separated by spaces."""
    return " ".join(stem(w) for w in words(text))


def phrases(text: str) -> list[str]:
    """The exact phrases ("in double quotes") of a query."""
    return [p for m in PHRASE.finditer(text) for p in m.groups() if p and p.strip()]


def without_phrases(text: str) -> str:
    return PHRASE.sub(" ", text)


def is_shouting(text: str) -> bool:
    """Typed in capitals: no lower-case letter and at least two letters."""
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 2 and not any(c.islower() for c in letters)


# -- British and American spellings ------------------------------------------
# (where, American, British): suffix or prefix rewrites, tried both ways. They
# over-generate on purpose: only variants the corpus uses are kept.
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
