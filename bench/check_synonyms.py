#!/usr/bin/env python3
"""Check the synonym vocabulary against the corpus.

Loads src/briefing_qa/data/synonyms.json, extracts the text of the corpus
(the PDFs with pypdf, the .txt briefing as is) and prints every document
term that does not occur in it.  Exits 1 if any is missing, 0 otherwise.

A "document term" is every entry of a set's "to" list and every entry of its
"doc_terms" list; each set must have at least one.  Matching is
case-insensitive and folds runs of whitespace (so phrases split across PDF
lines still match); quotes are NOT folded, so a term with a straight
apostrophe must occur with a straight apostrophe.  A term must start and end
on a word boundary (a footnote digit glued after a word, as pypdf produces,
is allowed).

    check_synonyms.py            # check, exit 1 on any missing term
    check_synonyms.py --update   # recompute every set's doc_terms, then check
    check_synonyms.py --corpus DIR --synonyms FILE
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SYNONYMS = ROOT / "src" / "briefing_qa" / "data" / "synonyms.json"
CORPUS_DIRS = [ROOT / "ingest", Path("/work/shared/corpus")]
MAX_WORDS = 4
REGEX_CHARS = set("\\*?[]^$|(){}")


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def corpus_text(directory: Path) -> str:
    from pypdf import PdfReader  # imported here so --help works without pypdf

    parts = []
    files = sorted(p for p in directory.iterdir() if p.suffix.lower() in {".pdf", ".txt"})
    if not files:
        raise SystemExit(f"no .pdf or .txt files in {directory}")
    for path in files:
        if path.suffix.lower() == ".pdf":
            parts.extend(page.extract_text() or "" for page in PdfReader(str(path)).pages)
        else:
            parts.append(path.read_text(encoding="utf-8"))
    return normalise("\n".join(parts))


def occurs(term: str, text: str) -> bool:
    t = normalise(term)
    if not t:
        return False
    right = r"(?![a-z0-9])" if t[-1].isdigit() else r"(?![a-z])"
    return re.search(r"(?<![a-z0-9])" + re.escape(t) + right, text) is not None


def set_terms(s: dict) -> list[str]:
    out: list[str] = []
    for key in ("terms", "from", "to"):
        value = s.get(key) or []
        out.extend(value if isinstance(value, list) else [value])
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--synonyms", type=Path, default=DEFAULT_SYNONYMS)
    ap.add_argument("--corpus", type=Path, default=None, help="folder of corpus .pdf/.txt files")
    ap.add_argument("--update", action="store_true", help="rewrite each set's doc_terms from the corpus")
    args = ap.parse_args(argv)

    corpus_dir = args.corpus or next((d for d in CORPUS_DIRS if d.is_dir()), None)
    if corpus_dir is None:
        print("corpus folder not found; pass --corpus", file=sys.stderr)
        return 2
    text = corpus_text(corpus_dir)
    data = json.loads(args.synonyms.read_text(encoding="utf-8"))

    problems: list[str] = []
    warnings: list[str] = []
    if not isinstance(data.get("version"), int):
        problems.append("top level: 'version' must be an integer")
    sets = data.get("sets", [])
    for i, s in enumerate(sets):
        label = f"set {i} {set_terms(s)[:3]}"
        if ("terms" in s) == ("from" in s or "to" in s):
            problems.append(f"{label}: needs either 'terms' or 'from'+'to'")
            continue
        if "from" in s and not (s.get("from") and s.get("to")):
            problems.append(f"{label}: one-way set needs non-empty 'from' and 'to'")
        if "terms" in s and len(s["terms"]) < 2:
            problems.append(f"{label}: equivalent set needs at least 2 terms")
        terms = set_terms(s)
        seen = set()
        for term in terms:
            if not isinstance(term, str) or not term.strip():
                problems.append(f"{label}: empty or non-string term {term!r}")
                continue
            if len(term.split()) > MAX_WORDS:
                problems.append(f"{label}: more than {MAX_WORDS} words: {term!r}")
            if REGEX_CHARS & set(term):
                problems.append(f"{label}: looks like a regex: {term!r}")
            key = normalise(term)
            if key in seen and "to" not in s:
                problems.append(f"{label}: duplicate term {term!r}")
            seen.add(key)
        if args.update:
            ordered = []
            for term in terms:
                if occurs(term, text) and term not in ordered:
                    ordered.append(term)
            s["doc_terms"] = ordered
        doc_terms = s.get("doc_terms")
        if not isinstance(doc_terms, list):
            problems.append(f"{label}: missing 'doc_terms' list")
            doc_terms = []
        if not doc_terms:
            problems.append(f"{label}: no document term (drop the set)")
        for term in doc_terms:
            if term not in terms:
                problems.append(f"{label}: doc_term {term!r} is not one of the set's terms")
        for term in dict.fromkeys(list(doc_terms) + list(s.get("to") or [])):
            if not occurs(term, text):
                problems.append(f"{label}: NOT IN CORPUS: {term!r}")
        for term in terms:
            if term not in doc_terms and term not in (s.get("to") or []) and occurs(term, text):
                warnings.append(f"{label}: {term!r} occurs in the corpus but is not listed in doc_terms")

    if args.update:
        args.synonyms.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    for w in warnings:
        print("warning:", w)
    for p in problems:
        print(p)
    n_doc = sum(len(s.get("doc_terms", [])) for s in sets)
    print(f"{len(sets)} sets, {n_doc} document terms checked against {corpus_dir}: "
          f"{'FAIL, ' + str(len(problems)) + ' problem(s)' if problems else 'all found'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
