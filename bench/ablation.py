"""Ablations: each retrieval step switched on in turn, on the dev questions
(full corpus) and on SciFact train (tuning) or test (reporting).

    .venv/bin/python bench/ablation.py dev --index build/idx
    .venv/bin/python bench/ablation.py scifact --split train
    .venv/bin/python bench/ablation.py grid --split train      # fusion weights, or --variants '[{...}]'
    .venv/bin/python bench/ablation.py devgrid --variants '[{}, {"sentence_dense": 0.5}]' [--encoder onnx-int8]

Both indexes must exist, built by the current pipeline, which stores the
sentence vectors the re-rank uses (`briefing-qa ingest --index build/idx` and
`briefing-qa bench beir ../shared/bench/scifact` build them)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from briefing_qa import store  # noqa: E402
from briefing_qa.beir import load_qrels, load_queries, score_run  # noqa: E402
from briefing_qa.embedding import load_embedder  # noqa: E402
from briefing_qa.evaluate import evaluate, load_questions  # noqa: E402
from briefing_qa.lexical import LexicalIndex  # noqa: E402
from briefing_qa.retrieval import Options, Retriever  # noqa: E402
from briefing_qa.settings import default_model  # noqa: E402

SCIFACT = ROOT.parent / "shared" / "bench" / "scifact"
DEV = ROOT.parent / "shared" / "eval" / "dev.jsonl"

STOCK = Options(fusion="rrf", dense_weight=0.5, abbreviations=False, spelling=False, dedupe=False, sentence_dense=0.0,
                late_weight=0.0)
# The steps, in the order they were tried; each adds to the one before.
STEPS = [
    ("core: RRF(dense, BM25)", {}),
    ("+ convex fusion (0.5/0.5)", dict(fusion="convex")),
    ("+ abbreviations (BM25 side)", dict(abbreviations=True)),
    ("+ spellings", dict(spelling=True)),
    ("+ near-duplicates folded", dict(dedupe=True)),
    ("+ best-sentence cosine re-rank 0.3", dict(sentence_dense=0.3)),
    ("+ late interaction (word-piece MaxSim) 0.5", dict(late_weight=0.5)),
]


def open_retriever(root: Path, emb, opts: Options) -> Retriever:
    stored = store.read_index(root)
    if stored.sentences is None and opts.sentence_dense > 0:
        sys.exit(f"{root} has no sentence vectors: rebuild it with the current pipeline")
    return Retriever(stored, emb, LexicalIndex(stored.folder / "lexical"), options=opts)


def dev_row(root: Path, emb, opts: Options, questions: Path = DEV) -> dict:
    r = open_retriever(root, emb, opts)
    rep = evaluate(r, load_questions(questions))
    return {"hit@1": rep.hit_at_1, "hit@5": rep.hit_at_5, "MRR@10": rep.mrr_at_10, "section": rep.section_accuracy,
            "oos": f"{rep.oos_abstained}/{rep.n_out_of_scope}", "wrong_abst": rep.wrongly_abstained,
            "ms": rep.median_ms, "missed@1": " ".join(rep.missed_at_1)}


def scifact_row(root: Path, emb, opts: Options, split: str) -> dict:
    r = open_retriever(root, emb, opts)
    t0 = time.perf_counter()
    res = score_run(r, load_queries(SCIFACT), load_qrels(SCIFACT, split))
    return {"nDCG@10": res["ndcg@10"], "R@100": res["recall@100"], "ms": 1000 * (time.perf_counter() - t0) / res["queries"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["dev", "scifact", "grid", "devgrid"])
    ap.add_argument("--index", type=Path)
    ap.add_argument("--split", default="train")
    ap.add_argument("--only", type=int, default=None, help="run only the first N steps")
    ap.add_argument("--encoder", default="torch", choices=["torch", "onnx", "onnx-int8"], help="query encoder")
    ap.add_argument("--questions", type=Path, default=DEV, help="devgrid: the questions file (eval format)")
    ap.add_argument("--variants", type=json.loads, default=FUSION_GRID,
                    help='grid/devgrid: JSON list of Options overrides, e.g. \'[{}, {"sentence_dense": 0.5}]\'')
    args = ap.parse_args()
    root = args.index or (ROOT / ("build/idx" if args.what in ("dev", "devgrid") else "build/bench/scifact"))
    if args.encoder == "torch":
        emb = load_embedder(default_model())
    else:  # the service's ONNX query encoders
        from briefing_qa.onnx_encoder import load_query_embedder

        emb = load_query_embedder(default_model(), root, args.encoder)
    if args.what in ("grid", "devgrid"):
        grid(root, emb, args.split, args.variants, dev=args.what == "devgrid", questions=args.questions)
        return
    opts = STOCK
    for name, change in STEPS[: args.only]:
        opts = replace(opts, **change)
        row = dev_row(root, emb, opts) if args.what == "dev" else scifact_row(root, emb, opts, args.split)
        print(json.dumps({"step": name, **{k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}}),
              flush=True)


FUSION_GRID = [{"fusion": "rrf"}, {"dense_weight": 0.3}, {"dense_weight": 0.4}, {}, {"dense_weight": 0.6}]


def grid(root: Path, emb, split: str, variants: list[dict], dev: bool = False, questions: Path = DEV) -> None:
    """Variants of the service's defaults (Options()), each a dict of
    overrides, on SciFact (train for tuning) or on the dev set."""
    for change in variants:
        opts = replace(Options(), **change)
        row = dev_row(root, emb, opts, questions) if dev else scifact_row(root, emb, opts, split)
        print(json.dumps({"variant": change, **{k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}}),
              flush=True)


if __name__ == "__main__":
    main()
