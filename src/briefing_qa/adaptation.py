"""Adapting the encoder to the corpus, from the documents alone.

all-MiniLM-L6-v2 learned what "similar" means from general web pairs; the
guidance speaks its own language ("section 47 enquiries", "designated
safeguarding lead", "looked-after children"). `briefing-qa adapt` teaches it
this corpus with the inverse cloze task (Lee et al., 2019): a sentence of a
chunk is the query, and the chunk's embedded context without that sentence
is the passage it must pick out of its batch (in-batch negatives, a softmax
over scaled cosines: sentence-transformers' MultipleNegativesRankingLoss,
written out because its trainer needs packages nothing else here uses).
No question of any evaluation set is read: only the documents.

The adapted model is a plain sentence-transformers folder at
<index>/model with `adaptation.json` beside it (what it was adapted from,
how, and on which documents), which `Settings.model_path` then prefers to
the bundled model. Written to a temporary folder and renamed into place, so
a crash leaves the previous model (or none) and never half a one."""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .errors import TooLittleText
from .records import Chunk
from .structure import sentence_spans

log = logging.getLogger("briefing_qa.adaptation")

FORMAT = 1
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


@dataclass(frozen=True)
class Pair:
    query: str
    passage: str
    key: str  # the chunk's text: pairs from one text are not each other's negatives


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


def train(base: str, pairs: list[Pair], recipe: Recipe, progress: Callable[[int, int, float], None] | None = None):
    """Fine-tune the model at `base` on the pairs, one pass; returns the
    model (in eval mode) and each step's loss."""
    import torch
    from sentence_transformers import SentenceTransformer

    steps = len(pairs) // recipe.batch
    if steps == 0:
        raise TooLittleText(f"the sources give {len(pairs)} training sentences, fewer than one batch of {recipe.batch}: "
                            "too little text to adapt the encoder to")
    torch.manual_seed(recipe.seed)
    model = SentenceTransformer(base, device="cpu")
    model.max_seq_length = recipe.max_tokens
    opt = torch.optim.AdamW(model.parameters(), lr=recipe.lr)
    warm = max(1, steps // 10)  # linear warm-up, then linear decay to zero
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (steps - s) / steps))
    prep = getattr(model, "preprocess", None) or model.tokenize
    model.train()
    losses: list[float] = []
    for k in range(steps):
        batch = pairs[k * recipe.batch : (k + 1) * recipe.batch]
        q = torch.nn.functional.normalize(model(prep([p.query for p in batch]))["sentence_embedding"], dim=-1)
        d = torch.nn.functional.normalize(model(prep([p.passage for p in batch]))["sentence_embedding"], dim=-1)
        logits = q @ d.T * recipe.scale
        keys = [p.key for p in batch]
        # Another query of the same text is no negative for this one.
        same = torch.tensor([[i != j and keys[i] == keys[j] for j in range(len(keys))] for i in range(len(keys))])
        loss = torch.nn.functional.cross_entropy(logits.masked_fill(same, -1e4), torch.arange(len(batch)))
        loss.backward()
        opt.step()
        sched.step()
        opt.zero_grad()
        losses.append(round(float(loss.item()), 4))
        if progress:
            progress(k + 1, steps, losses[-1])
    model.eval()
    return model, losses


def adapt(base: str, base_name: str, base_id: str, documents: dict[str, str], chunks: list[Chunk], out: Path,
          recipe: Recipe | None = None, progress: Callable[[int, int, float], None] | None = None) -> Adaptation:
    """Train and write the adapted model to `out` (atomically: a crash
    leaves what was there)."""
    recipe = recipe or Recipe()
    t0 = time.perf_counter()
    pairs = training_pairs(chunks, recipe)
    model, losses = train(base, pairs, recipe, progress)
    info = Adaptation(
        name=f"{base_name}+adapted", base=base_name, base_id=base_id, recipe=asdict(recipe), documents=documents,
        pairs=len(pairs), steps=len(losses), first_loss=losses[0], last_loss=_tail_mean(losses),
        seconds=round(time.perf_counter() - t0, 1), created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        losses=losses,
    )
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
    log.info("adapted %s in %.0f s -> %s", base_name, info.seconds, out)
    return info


def up_to_date(folder: Path, base_id: str, recipe: Recipe | None = None) -> Adaptation | None:
    """The adaptation at `folder` if it was made from this base model with
    this recipe. New documents do not call for another: the model learned
    the field's language, which one more document hardly changes."""
    info = Adaptation.read(folder)
    if info is None or info.base_id != base_id or info.recipe != asdict(recipe or Recipe()):
        return None
    return info


def _tail_mean(losses: list[float], n: int = 10) -> float:
    tail = losses[-n:]
    return round(sum(tail) / len(tail), 4)
