"""Contractions typed without their apostrophe ("mum wont let me share"):
every blind question holding one (all sets but bench/train.jsonl), asked as
spelled, typed bare with analysis.apostrophes putting them back (the
service), and typed bare without it. Prints top-5 hits and abstentions.

    .venv/bin/python bench/apostrophes.py [--index index]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from compare_indexes import question_sets  # noqa: E402

from briefing_qa import analysis  # noqa: E402
from briefing_qa.evaluate import quote_hits  # noqa: E402
from briefing_qa.service import Engine  # noqa: E402
from briefing_qa.settings import Settings  # noqa: E402

# The contractions analysis.apostrophes puts back, as spelled (either apostrophe).
SPELLED = re.compile(r"\b(" + "|".join(re.escape(w).replace("'", "['’]") for w in analysis.BARE_CONTRACTIONS.values()) + r")\b",
                     re.I)


def bare(text: str) -> str:
    return SPELLED.sub(lambda m: m.group().replace("'", "").replace("’", ""), text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, default=ROOT / "index")
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    args = ap.parse_args()
    r = Engine(Settings.from_env(env={}, index=args.index)).load()
    seen, questions = set(), []
    for name, qs in question_sets(args.shared).items():
        for q in qs:
            if name != "train" and q.id not in seen and SPELLED.search(q.question):
                seen.add(q.id)
                questions.append(q)
    restore = analysis.apostrophes
    ways = {"spelled": (lambda q: q.question, restore),
            "typed bare, put back (service)": (lambda q: bare(q.question), restore),
            "typed bare, as typed": (lambda q: bare(q.question), lambda t: t)}
    ans = [q for q in questions if q.answerable]
    print(f"{len(ans)} answerable and {len(questions) - len(ans)} out-of-scope questions with a contraction")
    try:
        for way, (text, put_back) in ways.items():
            analysis.apostrophes = put_back
            top5 = wrong = oos = 0
            for q in questions:
                res = r.ask(text(q), top_k=5, context=q.context)
                if q.answerable:
                    top5 += any(quote_hits(p.quote, list(q.accept)) for p in res.passages)
                    wrong += res.abstained
                else:
                    oos += res.abstained
            print(f"{way:32s} top 5 {top5}/{len(ans)}  wrongly abstained {wrong}  out of scope abstained {oos}", flush=True)
    finally:
        analysis.apostrophes = restore


if __name__ == "__main__":
    main()
