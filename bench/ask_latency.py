"""/v1/ask latency, side by side: the core service's retriever (the first
commit, c4a2a0d) against the current one, on the same full-corpus index, with
the same query encoder, in one process, questions interleaved.

    .venv/bin/python bench/ask_latency.py --index build/idx [--rounds 5] [--http]

The core's retrieval.py is loaded from git (`git show c4a2a0d:...`) as a
module of this package, so it runs its own ranking code on today's index
records. With --http it also starts `briefing-qa serve` and times POST
/v1/ask end to end (the current service only: the core cannot read PDFs).
Prints each median, and the ratio current / core."""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from briefing_qa import store  # noqa: E402
from briefing_qa.evaluate import load_questions  # noqa: E402
from briefing_qa.lexical import LexicalIndex  # noqa: E402
from briefing_qa.retrieval import Retriever  # noqa: E402
from briefing_qa.settings import Settings  # noqa: E402

CORE = "c4a2a0d"
QUESTION_FILES = [ROOT.parent / "shared" / "eval" / "dev.jsonl", ROOT / "bench" / "check.jsonl", ROOT / "bench" / "offtopic.jsonl"]


def core_retriever_class(commit: str = CORE):
    src = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:src/briefing_qa/retrieval.py"],
                         check=True, capture_output=True, text=True).stdout
    spec = importlib.util.spec_from_loader("briefing_qa._core_retrieval", loader=None)
    mod = importlib.util.module_from_spec(spec)
    mod.__package__ = "briefing_qa"
    sys.modules[spec.name] = mod
    exec(compile(src, f"{commit}:retrieval.py", "exec"), mod.__dict__)
    return mod.Retriever


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--index", type=Path, default=ROOT / "build" / "idx")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--http", action="store_true")
    args = ap.parse_args()
    from briefing_qa.onnx_encoder import load_query_embedder

    s = Settings.from_env(index=args.index)
    emb = load_query_embedder(s.model, s.index, s.encoder)
    stored = store.read_index(args.index)
    lex = LexicalIndex(stored.folder / "lexical")
    mine = Retriever(stored, emb, lex)
    core = core_retriever_class()(stored, emb, lex)
    questions = [q.question for f in QUESTION_FILES if f.exists() for q in load_questions(f)]
    for r in (core, mine):  # warm up
        for q in questions[:5]:
            r.ask(q, 5)
    times = {"core": [], "current": []}
    for _ in range(args.rounds):
        for q in questions:
            for name, r in (("core", core), ("current", mine)):
                t0 = time.perf_counter()
                r.ask(q, 5)
                times[name].append(1000 * (time.perf_counter() - t0))
    med = {k: statistics.median(v) for k, v in times.items()}
    out = {"questions": len(questions), "rounds": args.rounds, "chunks": len(stored.chunks),
           "core_median_ms": round(med["core"], 2), "current_median_ms": round(med["current"], 2),
           "ratio": round(med["current"] / med["core"], 3),
           "core_p90_ms": round(sorted(times["core"])[int(0.9 * len(times["core"]))], 2),
           "current_p90_ms": round(sorted(times["current"])[int(0.9 * len(times["current"]))], 2)}
    if args.http:
        out["http_current_median_ms"] = http_median(args.index, questions, args.rounds)
    print(json.dumps(out, indent=2))


def http_median(index: Path, questions: list[str], rounds: int) -> float:
    import httpx

    sys.path.insert(0, str(ROOT))
    from tests.conftest import LiveServer

    server = LiveServer(index).wait_ready(path="/v1/documents")
    try:
        times = []
        with httpx.Client(base_url=server.url, timeout=30) as c:
            for q in questions[:5]:
                c.post("/v1/ask", json={"question": q})
            for _ in range(rounds):
                for q in questions:
                    t0 = time.perf_counter()
                    c.post("/v1/ask", json={"question": q}).raise_for_status()
                    times.append(1000 * (time.perf_counter() - t0))
        return round(statistics.median(times), 2)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
