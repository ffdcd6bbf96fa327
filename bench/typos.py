"""Questions typed in a hurry: the blind questions with two of their longer
words mistyped, answered with and without reading typos as the documents'
words (Options.typos, vocabulary.py), beside the same questions spelled right.

    .venv/bin/python bench/typos.py                  # index/, the service's encoder
    .venv/bin/python bench/typos.py --slips swap     # letters swapped only

Slips (seeded, --seed): two neighbouring letters swapped, a letter dropped, a
letter doubled, or a letter changed for its neighbour on a QWERTY keyboard;
never the first letter or the last two. Sets: the tune and report halves of
bench/blind2.jsonl and bench/blind3.jsonl (tune also has bench/heldout.jsonl).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from briefing_qa.evaluate import evaluate, load_questions  # noqa: E402
from briefing_qa.retrieval import Retriever  # noqa: E402
from briefing_qa.service import Engine  # noqa: E402
from briefing_qa.settings import Settings  # noqa: E402

ROWS = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]


def neighbour(c: str, rng: random.Random) -> str:
    for row in ROWS:
        if c in row:
            k = row.index(c)
            return rng.choice([row[j] for j in (k - 1, k + 1) if 0 <= j < len(row)])
    return c


def mistype(text: str, rng: random.Random, slips: str) -> str:
    words = text.split()
    long = [i for i, w in enumerate(words) if len(w) > 4 and w.isalpha()]
    for i in rng.sample(long, min(2, len(long))):
        w = list(words[i])
        j = rng.randrange(1, len(w) - 2)
        kind = rng.choice(slips)
        if kind == "s":
            w[j], w[j + 1] = w[j + 1], w[j]
        elif kind == "d":
            del w[j]
        elif kind == "i":
            w.insert(j, w[j])
        else:
            w[j] = neighbour(w[j].lower(), rng)
        words[i] = "".join(w)
    return " ".join(words)


def sets() -> dict[str, list]:
    split = {}
    for name in ("blind2.jsonl", "blind3.jsonl"):
        for line in (ROOT / "bench" / name).read_text(encoding="utf-8").splitlines():
            d = json.loads(line)
            split[d["id"]] = d["split"]
    qs = [q for name in ("heldout.jsonl", "blind2.jsonl", "blind3.jsonl") for q in load_questions(ROOT / "bench" / name)
          if q.answerable]
    return {half: [q for q in qs if split.get(q.id, "tune") == half] for half in ("tune", "report")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, default=None)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--slips", choices=["mixed", "swap"], default="mixed")
    args = ap.parse_args()
    settings = Settings.from_env(index=args.index)
    base = Engine(settings).load()
    rng = random.Random(args.seed)
    slips = "sdia" if args.slips == "mixed" else "s"
    for half, qs in sets().items():
        typed = [replace(q, question=mistype(q.question, rng, slips), context=tuple(mistype(c, rng, slips) for c in q.context))
                 for q in qs]
        for on in (False, True):
            r = Retriever(base.stored, base.embedder, base.lexical, base.abstain_cosine, typos=on)
            print(f"{half:6s} typos={'on ' if on else 'off'} mistyped: {evaluate(r, typed).summary()}", flush=True)
        print(f"{half:6s} spelled right:         {evaluate(base, qs).summary()}", flush=True)


if __name__ == "__main__":
    main()
