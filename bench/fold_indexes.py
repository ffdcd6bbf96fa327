"""Two indexes whose encoders have each seen only half of the training
questions, so every training question can be read as the service reads a
question it has never seen.

    .venv/bin/python bench/fold_indexes.py [--stage1 build/idx-ict/model] [--out build/folds]

`make index` trains the encoder on the tune questions (adaptation.py), so
their cosines with their answers are higher than a new question's will
be. A threshold fitted on them (bench/train_abstention.py) would then sit
too close to where real answerable questions fall. Here the training
questions are split in two by a hash of their text; for each half, the
stage-1 model (trained on the documents alone: `briefing-qa adapt` with
no questions, deterministic) gets the question stage on the *other* half
with the shipped recipe, and the corpus is indexed with it. Each fold
folder lists the questions its model never saw (held_out.json);
`bench/train_abstention.py --folds build/folds` reads those questions'
signals from that fold's index."""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.conftest import CORPUS, TRAINING_QUESTIONS  # noqa: E402

from briefing_qa import adaptation  # noqa: E402
from briefing_qa.embedding import load_embedder, model_identity, model_name  # noqa: E402
from briefing_qa.ingest import corpus_chunks  # noqa: E402
from briefing_qa.settings import Settings, default_model  # noqa: E402

FOLDS = 2


def fold_of(question: str) -> int:
    return int(hashlib.sha256(question.encode()).hexdigest(), 16) % FOLDS


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stage1", type=Path, help="a model adapted on the documents alone (default: train it)")
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "folds")
    args = ap.parse_args()
    from sentence_transformers import SentenceTransformer

    base = default_model()
    settings = Settings.from_env(env={})
    shas, chunks = corpus_chunks([CORPUS], settings, load_embedder(base).fits)
    recipe = adaptation.Recipe()
    stage1 = args.stage1
    if stage1 is None:
        stage1 = args.out / "stage1"
        if adaptation.up_to_date(stage1, model_identity(base), recipe) is None:
            adaptation.adapt(base, model_name(base), model_identity(base), shas, chunks, stage1, recipe)
    info = adaptation.Adaptation.read(stage1)
    if info is None or info.question_pairs:
        sys.exit(f"{stage1}: not a model adapted on the documents alone")
    questions, hashes = adaptation.read_questions(list(TRAINING_QUESTIONS))
    for f in range(FOLDS):
        held = [q for q in questions if fold_of(q.question) == f]
        seen = [q for q in questions if fold_of(q.question) != f]
        model, pairs, losses = adaptation.question_stage(SentenceTransformer(str(stage1), device="cpu"), seen,
                                                         chunks, recipe)
        folder = args.out / f"fold{f}"
        shutil.rmtree(folder, ignore_errors=True)
        adaptation.write_model(model, replace(info, questions=hashes, question_pairs=len(pairs), question_losses=losses),
                               folder / adaptation.ADAPTED_DIR)
        (folder / "held_out.json").write_text(json.dumps(sorted(q.id for q in held), indent=1), encoding="utf-8")
        subprocess.run([str(ROOT / ".venv" / "bin" / "briefing-qa"), "ingest", "--quiet", "--index", str(folder),
                        str(CORPUS)], check=True)
        print(f"fold {f}: trained on {len(pairs)} questions, {len(held)} held out -> {folder}", flush=True)


if __name__ == "__main__":
    main()
