"""Adapting the encoder to the corpus: its documents, then practitioners' questions.

all-MiniLM-L6-v2 learned what "similar" means from general web pairs; the
guidance speaks its own language ("section 47 enquiries", "designated
safeguarding lead", "looked-after children"). `briefing-qa adapt` teaches it
this corpus with the inverse cloze task (Lee et al., 2019): a sentence of a
chunk is the query, and the chunk's embedded context without that sentence
is the passage it must pick out of its batch (in-batch negatives, a softmax
over scaled cosines: sentence-transformers' MultipleNegativesRankingLoss,
written out because its trainer needs packages nothing else here uses).
Then, when given question files (`--questions`), a second stage teaches it
practitioners' own words: each question is a query and the chunk holding
its verbatim answer the passage, against the chunk the model itself ranks
first without the answer (a hard negative). A question marked
`"split": "report"` is never read: those are kept to measure on.

The adapted model is a plain sentence-transformers folder at
<index>/model with `adaptation.json` beside it (what it was adapted from,
how, and on which documents and question files), which `Settings.model_path` then prefers to
the bundled model. Written to a temporary folder and renamed into place, so
a crash leaves the previous model (or none) and never half a one."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .analysis import fold_quote
from .errors import InvalidRequest, TooLittleText
from .evaluate import Question, holds_answer, load_questions
from .records import Chunk
from .structure import sentence_spans

log = logging.getLogger("briefing_qa.adaptation")

FORMAT = 1  # fields added since have defaults: a folder written before still reads
ADAPTED_DIR = "model"  # <index>/model
PROVENANCE = "adaptation.json"  # written last: its presence means the folder is complete


@dataclass(frozen=True)
class Recipe:
    """How the model is adapted. Chosen on the blind questions' tune halves
    (docs/evaluation.md); changing it makes `adapt` train again."""

    per_chunk: int = 1  # query sentences drawn from each chunk (2 measured no better, at twice the time)
    min_words: int = 8  # shorter sentences ("See Annex B.") say too little to find their chunk
    max_words: int = 50
    keep: float = 0.1  # share of passages that keep their query sentence, as an answer often repeats a question's words
    batch: int = 32  # in-batch negatives: each query against the other 31 passages
    lr: float = 2e-5
    scale: float = 20.0  # cosine -> logit, as MultipleNegativesRankingLoss
    max_tokens: int = 256  # the model's own limit; chunks are cut to fit it
    seed: int = 0
    # The second stage, on questions (when any are given): smaller batches,
    # as there are ~150 questions, a few passes over them at a constant
    # rate (2-fold cross-validation on the tune questions, dense chunk
    # hit@5: lr 1e-5 decaying 0.705, constant 0.765, without hard negatives
    # 0.745; decaying 2e-5 0.758, 3e-5 0.799; constant 3e-5 0.819, 5e-5 0.779).
    question_batch: int = 16
    question_lr: float = 3e-5
    question_epochs: int = 3
    question_decay: bool = False


@dataclass(frozen=True)
class Pair:
    query: str
    passage: str
    key: str  # the chunk's text: pairs from one text are not each other's negatives
    negative: str = ""  # a hard negative's embedded text (question pairs)
    negative_key: str = ""


@dataclass(frozen=True)
class Adaptation:
    """The provenance written to adaptation.json."""

    name: str  # what the index manifest records as the model
    base: str
    base_id: str
    recipe: dict
    documents: dict[str, str]  # id -> sha256 of the documents it was adapted on
    pairs: int
    steps: int
    first_loss: float
    last_loss: float
    seconds: float
    created: str
    format: int = FORMAT
    losses: list[float] = field(default_factory=list)
    questions: dict[str, str] = field(default_factory=dict)  # file name -> sha256 of the question files read
    question_pairs: int = 0  # questions whose answer stands in a chunk
    question_losses: list[float] = field(default_factory=list)

    @classmethod
    def read(cls, folder: Path) -> Adaptation | None:
        """The folder's provenance, or None when it is no complete adapted model."""
        try:
            data = json.loads((folder / PROVENANCE).read_text(encoding="utf-8"))
            return cls(**data) if data.get("format") == FORMAT else None
        except (OSError, ValueError, TypeError):
            return None


def training_pairs(chunks: list[Chunk], recipe: Recipe) -> list[Pair]:
    """Up to `per_chunk` (sentence, context without it) pairs a chunk, shuffled;
    the same chunks and recipe give the same pairs."""
    rng = random.Random(recipe.seed)
    pairs: list[Pair] = []
    seen: set[str] = set()
    for c in chunks:
        if c.text in seen:  # a repeated text (Part one again in Annex A) once
            continue
        seen.add(c.text)
        spans = [(a, b) for a, b in sentence_spans(c.text)
                 if recipe.min_words <= len(c.text[a:b].split()) <= recipe.max_words]
        for a, b in rng.sample(spans, min(recipe.per_chunk, len(spans))):
            sentence = c.text[a:b]
            keep = rng.random() < recipe.keep
            pairs.append(Pair(sentence, c.context if keep else c.context.replace(sentence, " "), c.text))
    rng.shuffle(pairs)
    return pairs


def read_questions(paths: list[Path]) -> tuple[list[Question], dict[str, str]]:
    """The questions to learn from in files of the evaluation format
    (evaluate.load_questions), and each file's sha256. Never read: a
    question marked "split": "report" (kept to measure on), a follow-up (its
    meaning leans on earlier questions) and one with no answer (out of scope)."""
    questions: list[Question] = []
    hashes: dict[str, str] = {}
    for path in paths:
        try:
            hashes[Path(path).name] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        except OSError as exc:
            raise InvalidRequest(f"cannot read the questions file {path}: {exc.strerror}") from exc
        questions += [q for q in load_questions(path) if q.split != "report" and not q.context and q.answerable]
    return questions, hashes


def question_pairs(questions: list[Question], chunks: list[Chunk], ranked: Callable[[Question], list[int]],
                   seed: int = 0) -> list[Pair]:
    """(question, the first chunk holding its answer) pairs, shuffled, each
    with the best chunk of `ranked(question)` (chunk numbers, best first)
    that does not hold it as a hard negative. A question whose answer no
    chunk holds is left out."""
    folded = [fold_quote(c.text) for c in chunks]
    pairs: list[Pair] = []
    for q in questions:
        holds = [i for i, t in enumerate(folded) if holds_answer(t, q.accept)]
        if not holds:
            continue
        pos = chunks[holds[0]]
        neg = next((chunks[i] for i in ranked(q) if i not in holds and chunks[i].text != pos.text), None)
        pairs.append(Pair(q.question, pos.context, pos.text, neg.context if neg else "", neg.text if neg else ""))
    random.Random(seed).shuffle(pairs)
    return pairs


def train(base, pairs: list[Pair], recipe: Recipe, progress: Callable[[int, int, float], None] | None = None,
          batch: int | None = None, lr: float | None = None, epochs: int = 1, decay: bool = True):
    """Fine-tune the model at `base` (a folder, or a model already loaded) on
    the pairs, `epochs` passes (reshuffled after the first); returns the
    model (in eval mode) and each step's loss."""
    import torch
    from sentence_transformers import SentenceTransformer

    batch = batch or recipe.batch
    per_epoch = len(pairs) // batch
    steps = per_epoch * epochs
    if steps == 0:
        raise TooLittleText(f"the sources give {len(pairs)} training pairs, fewer than one batch of {batch}: "
                            "too little text to adapt the encoder to")
    torch.manual_seed(recipe.seed)
    model = SentenceTransformer(base, device="cpu") if isinstance(base, str | Path) else base
    model.max_seq_length = recipe.max_tokens
    opt = torch.optim.AdamW(model.parameters(), lr=lr or recipe.lr)
    warm = max(1, steps // 10)  # linear warm-up, then linear decay to zero (or a constant rate)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (steps - s) / steps) if decay else 1.0)
    prep = getattr(model, "preprocess", None) or model.tokenize
    rng = random.Random(recipe.seed)
    order = list(pairs)
    model.train()
    losses: list[float] = []
    for k in range(steps):
        if k and k % per_epoch == 0:
            rng.shuffle(order)
        b = order[(k % per_epoch) * batch : (k % per_epoch + 1) * batch]
        negatives = [p for p in b if p.negative]
        q = torch.nn.functional.normalize(model(prep([p.query for p in b]))["sentence_embedding"], dim=-1)
        d = torch.nn.functional.normalize(model(prep([p.passage for p in b] + [p.negative for p in negatives]))
                                          ["sentence_embedding"], dim=-1)
        logits = q @ d.T * recipe.scale
        keys = [p.key for p in b] + [p.negative_key for p in negatives]
        # Another passage of the same text as this query's own is no negative for it.
        same = torch.tensor([[i != j and keys[j] == b[i].key for j in range(len(keys))] for i in range(len(b))])
        loss = torch.nn.functional.cross_entropy(logits.masked_fill(same, -1e4), torch.arange(len(b)))
        loss.backward()
        opt.step()
        sched.step()
        opt.zero_grad()
        losses.append(round(float(loss.item()), 4))
        if progress:
            progress(k + 1, steps, losses[-1])
    model.eval()
    return model, losses


def _dense_ranking(model, chunks: list[Chunk]) -> Callable[[Question], list[int]]:
    """Chunks by the model's cosine with a question, best first."""
    import numpy as np

    vectors = model.encode([c.context for c in chunks], batch_size=32, normalize_embeddings=True)
    return lambda q: np.argsort(-(vectors @ model.encode([q.question], normalize_embeddings=True)[0]),
                                 kind="stable")[:50].tolist()


def adapt(base: str, base_name: str, base_id: str, documents: dict[str, str], chunks: list[Chunk], out: Path,
          recipe: Recipe | None = None, progress: Callable[[int, int, float], None] | None = None,
          questions: list[Path] | tuple[Path, ...] = ()) -> Adaptation:
    """Train and write the adapted model to `out` (atomically: a crash
    leaves what was there); `questions`: files for the second stage."""
    recipe = recipe or Recipe()
    t0 = time.perf_counter()
    asked, hashes = read_questions(list(questions))  # a bad file fails before any training
    pairs = training_pairs(chunks, recipe)
    model, losses = train(base, pairs, recipe, progress)
    qpairs: list[Pair] = []
    qlosses: list[float] = []
    if asked:
        model, qpairs, qlosses = question_stage(model, asked, chunks, recipe, progress)
    info = Adaptation(
        name=f"{base_name}+adapted", base=base_name, base_id=base_id, recipe=asdict(recipe), documents=documents,
        pairs=len(pairs), steps=len(losses), first_loss=losses[0], last_loss=_tail_mean(losses),
        seconds=round(time.perf_counter() - t0, 1), created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        losses=losses, questions=hashes, question_pairs=len(qpairs), question_losses=qlosses,
    )
    write_model(model, info, out)
    log.info("adapted %s in %.0f s -> %s", base_name, info.seconds, out)
    return info


def question_stage(model, questions: list[Question], chunks: list[Chunk], recipe: Recipe,
                   progress: Callable[[int, int, float], None] | None = None):
    """The second stage on a model already loaded: each question against its
    answer chunk, with the model's own best wrong chunk as a hard negative.
    Returns the model, the pairs and each step's loss."""
    pairs = question_pairs(questions, chunks, _dense_ranking(model, chunks), recipe.seed)
    model, losses = train(model, pairs, recipe, progress, batch=recipe.question_batch, lr=recipe.question_lr,
                          epochs=recipe.question_epochs, decay=recipe.question_decay)
    return model, pairs, losses


def write_model(model, info: Adaptation, out: Path) -> None:
    """The model and its provenance to `out`, atomically: a crash leaves what was there."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    old = out.with_name(f".{out.name}.{os.getpid()}.old")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        model.save(str(tmp))
        (tmp / PROVENANCE).write_text(json.dumps(asdict(info), indent=1), encoding="utf-8")
        if out.exists():
            out.rename(old)
        tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def up_to_date(folder: Path, base_id: str, recipe: Recipe | None = None,
               questions: list[Path] | tuple[Path, ...] = ()) -> Adaptation | None:
    """The adaptation at `folder` if it was made from this base model with
    this recipe and these question files. New documents do not call for
    another: the model learned the field's language, which one more
    document hardly changes."""
    info = Adaptation.read(folder)
    if info is None or info.base_id != base_id or info.recipe != asdict(recipe or Recipe()):
        return None
    if info.questions != read_questions(list(questions))[1]:
        return None
    return info


def _tail_mean(losses: list[float], n: int = 10) -> float:
    tail = losses[-n:]
    return round(sum(tail) / len(tail), 4)
