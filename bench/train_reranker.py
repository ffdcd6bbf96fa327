"""Train the learned re-ranker (features.py) and write its weights to
src/briefing_qa/data/reranker.json: plain numbers, no pickle.

    .venv/bin/python bench/train_reranker.py [--index index] [--depth 50] [--dry-run]

Trains on blind questions only: bench/heldout.jsonl, bench/check.jsonl and
the `tune` half of bench/blind2.jsonl (the `report` half is never read here;
the dev set is left out too, as in-sample). A candidate is positive when its
chunk holds an accept string (or its first or last eight words). The
regularisation is chosen by 5-fold cross-validation grouped by question;
the figures printed are chunk-level, on the held-out folds, against the
fused order the model replaces."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from briefing_qa import features  # noqa: E402
from briefing_qa.analysis import fold_quote  # noqa: E402
from briefing_qa.evaluate import load_questions  # noqa: E402
from briefing_qa.retrieval import Retriever  # noqa: E402
from briefing_qa.service import Engine  # noqa: E402
from briefing_qa.settings import Settings  # noqa: E402

TRAIN = [ROOT / "bench" / "heldout.jsonl", ROOT / "bench" / "check.jsonl", (ROOT / "bench" / "blind2.jsonl", "tune"),
         (ROOT / "bench" / "blind3.jsonl", "tune")]


def questions():
    out = []
    for item in TRAIN:
        path, split = item if isinstance(item, tuple) else (item, None)
        splits = {json.loads(line)["id"]: json.loads(line).get("split") for line in path.read_text().splitlines() if line.strip()}
        out += [q for q in load_questions(path) if q.answerable and (split is None or splits[q.id] == split)]
    return out


def positive(text: str, accept) -> bool:
    t = fold_quote(text)
    for a in accept:
        fa = fold_quote(a)
        words = fa.split()
        if fa in t or (len(words) > 8 and (" ".join(words[:8]) in t or " ".join(words[-8:]) in t)):
            return True
    return False


def ranks(scores: np.ndarray, y: np.ndarray) -> int | None:
    order = np.argsort(-scores, kind="stable")
    hits = np.nonzero(y[order])[0]
    return int(hits[0]) + 1 if len(hits) else None


def summary(rs: list[int | None]) -> str:
    n = len(rs)
    return (f"hit@1 {sum(r == 1 for r in rs) / n:.3f}  hit@5 {sum(r is not None and r <= 5 for r in rs) / n:.3f}  "
            f"MRR@10 {sum(1 / r for r in rs if r and r <= 10) / n:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path, default=None)
    ap.add_argument("--depth", type=int, default=50)
    ap.add_argument("--dry-run", action="store_true", help="print the figures, write nothing")
    args = ap.parse_args()
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    base = Engine(Settings.from_env(**({"index": args.index} if args.index else {}))).load()
    r = Retriever(base.stored, base.embedder, base.lexical, base.abstain_cosine, learned=False)
    t0 = time.time()
    X, y, g = [], [], []
    qs = questions()
    for k, q in enumerate(qs):
        head, f = r.candidates(q.question, args.depth, q.context)
        lab = np.array([positive(r.chunks[i].text, q.accept) for i in head], dtype=float)
        X.append(f), y.append(lab), g.append(np.full(len(head), k))
    print(f"{len(qs)} questions, {sum(int(v.any()) for v in y)} with a positive in the top {args.depth} "
          f"({time.time() - t0:.0f} s)")
    Xa, ya, ga = np.vstack(X), np.concatenate(y), np.concatenate(g)
    mean, scale = Xa.mean(axis=0), Xa.std(axis=0) + 1e-9
    Z = (Xa - mean) / scale
    base_ranks = [ranks(-np.arange(len(v), dtype=float), v) for v in y]
    print(f"fused order            {summary(base_ranks)}")
    # What the service did before: min-max fused + 0.3 min-max best-sentence cosine over the top 30.
    mm = lambda v: (v - v.min()) / (v.max() - v.min()) if v.max() > v.min() else v * 0
    before = []
    for f, v in zip(X, y):
        s = np.concatenate([mm(f[:30, 0]) + 0.3 * mm(f[:30, 5]), -1 - np.arange(len(v) - min(30, len(v)), dtype=float)])
        before.append(ranks(s, v))
    print(f"sentence re-rank (before) {summary(before)}")
    def fit(idx, c):
        # Pointwise: measured against a pairwise (RankSVM-like) fit, which
        # cross-validated worse (MRR@10 0.528 at best against 0.550).
        return LogisticRegression(C=c, class_weight="balanced", max_iter=3000).fit(Z[idx], ya[idx])

    best = None
    for c in (0.01, 0.1, 0.3, 1.0, 3.0):
        rs: list[int | None] = [None] * len(qs)
        for tr, te in GroupKFold(n_splits=5).split(Z, ya, ga):
            m = fit(tr, c)
            s = Z[te] @ m.coef_[0]
            for k in np.unique(ga[te]):
                sel = ga[te] == k
                rs[int(k)] = ranks(s[sel], ya[te][sel])
        mrr = sum(1 / x for x in rs if x and x <= 10) / len(rs)
        print(f"C={c:<5} cross-validated {summary(rs)}")
        if best is None or mrr > best[0]:
            best = (mrr, c)
    m = fit(np.arange(len(ya)), best[1])
    print("weights (standardised):", {n: round(float(w), 3) for n, w in zip(features.NAMES, m.coef_[0])})
    if args.dry_run:
        return
    out = {"version": 1, "features": list(features.NAMES), "depth": args.depth, "C": best[1],
           "mean": [round(float(v), 6) for v in mean], "scale": [round(float(v), 6) for v in scale],
           "weights": [round(float(v), 6) for v in m.coef_[0]],
           "trained_on": [str(p[0].name + ":" + p[1]) if isinstance(p, tuple) else p.name for p in TRAIN],
           "questions": len(qs), "cross_validated_mrr10": round(best[0], 4)}
    features.MODEL.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {features.MODEL.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
