"""Index folders side by side on every blind question set, each with the
model it names (index/model when `briefing-qa adapt` wrote one, else the
bundled model) and the service's query encoder.

    .venv/bin/python bench/compare_indexes.py build/idx-bundled index [--encoder onnx-int8]

Sets: tune = bench/heldout.jsonl + the tune halves of blind2 and blind3
(choices were made on these); report = the report halves (never tuned on);
follow-ups (blind2 + followups.jsonl, with `context`) and the first
questions of followups.jsonl by their halves; everyday questions
(everyday.jsonl and everyday2.jsonl, two writers: situations, answerable
or not) by their halves; questions by role (roles.jsonl: three writers,
never trained on) by their halves; dev (in-sample), check,
train (bench/train.jsonl: written to train on, in-sample), off-topic,
near-domain and out of scope (blind: bench/outofscope.jsonl, never fitted on). Prints hit@1 / hit@5 / MRR@10 / section,
highlights, abstentions, one line a set and index."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from briefing_qa.evaluate import Question, evaluate, load_questions  # noqa: E402
from briefing_qa.service import Engine  # noqa: E402
from briefing_qa.settings import Settings  # noqa: E402

B = ROOT / "bench"


def question_sets(shared: Path) -> dict[str, list[Question]]:
    blind = load_questions(B / "blind2.jsonl") + load_questions(B / "blind3.jsonl")
    follow = [q for q in load_questions(B / "blind2.jsonl") + load_questions(B / "followups.jsonl") if q.kind == "followup"]
    firsts = [q for q in load_questions(B / "followups.jsonl") if q.kind != "followup"]
    halves = {"": blind, "follow-ups ": follow, "first questions ": firsts,
              "everyday ": load_questions(B / "everyday.jsonl"), "everyday2 ": load_questions(B / "everyday2.jsonl"),
              "roles ": load_questions(B / "roles.jsonl")}
    sets = {f"{name}{half}": [q for q in qs if q.split == half] for name, qs in halves.items() for half in ("tune", "report")}
    sets["tune"] = load_questions(B / "heldout.jsonl") + sets["tune"]
    return {
        **sets,
        "dev (in-sample)": load_questions(shared / "eval" / "dev.jsonl"),
        "check": load_questions(B / "check.jsonl"),
        "train": load_questions(B / "train.jsonl"),
        "off-topic": load_questions(B / "offtopic.jsonl"),
        "near-domain": load_questions(B / "neardomain.jsonl"),
        "out of scope (blind)": load_questions(B / "outofscope.jsonl"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("indexes", nargs="+", type=Path)
    ap.add_argument("--encoder", default="onnx-int8", choices=["onnx-int8", "onnx", "torch"])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    args = ap.parse_args()
    sets = question_sets(args.shared)
    for index in args.indexes:
        settings = Settings.from_env(env={}, index=index, encoder=args.encoder)
        r = Engine(settings).load()
        print(f"# {index}: {r.stored.manifest.model} ({r.stored.manifest.version}), encoder {args.encoder}", flush=True)
        for name, qs in sets.items():
            e = evaluate(r, qs)
            line = f"{name:24s} n={e.n_answerable:3d}"
            if e.n_answerable:
                line += (f"  {e.hit_at_1:.3f} / {e.hit_at_5:.3f} / {e.mrr_at_10:.3f} / {e.section_accuracy:.3f}"
                         f"  highlights {e.highlight_rate:.3f}  wrongly abstained {e.wrongly_abstained}")
            if e.n_out_of_scope:
                line += f"  out of scope abstained {e.oos_abstained}/{e.n_out_of_scope}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
