"""When the documents do not answer: the decision to abstain.

A question the documents do not answer still has a closest chunk. Far-off
questions ("Who won the 2018 World Cup?") are caught by the best chunk's
cosine alone (retrieval.ABSTAIN_COSINE). Near-domain ones ("the named
person under GIRFEC in Scotland", "the weekly fostering allowance") share
the documents' vocabulary, so one cosine cannot tell them apart from a
question in a practitioner's own words. Two signals together do better:
how close the best *sentence* of the ranked head comes to the question, and
how much of the question's word weight the best BM25 match holds. A logistic
model over them, fitted on blind questions (bench/train_abstention.py), with
its threshold set so that about 1 answerable question in 100 of the
fitting set is abstained on (half the limit of 1 in 50, as new questions
fare worse than fitted ones), and never one whose every word the first
passages hold, lives in data/abstention.json: plain numbers, no pickle, and the model
(encoder) it was fitted with, since cosines move with the model. The
encoder trained on the tune questions, so their signals are read from fold
encoders that never saw them (bench/fold_indexes.py): read in-sample, they
set a threshold that refused 1 in 15 new answerable questions."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "abstention.json"
VERSION = 1
NAMES = ("best_sentence", "bm25_share")


@dataclass(frozen=True)
class Signals:
    """What a ranking says about whether the documents answer the question."""

    best_cosine: float  # the best chunk's cosine
    best_sentence: float  # the best sentence cosine among the re-ranked head
    bm25: float  # the best BM25 score
    weight: float  # the idf weight of the question's meaning words, summed
    covered: bool = False  # every meaning word stands in the first passages found
    words: int = 0  # the question's meaning words
    # What the question asks for that none of the first passages holds: a
    # kind of value ("an amount of money"; query.ANSWER_TYPES) or another
    # nation's rules ("what applies in Wales"; query.NATIONS); else None.
    lacks: str | None = None

    @property
    def bm25_share(self) -> float:
        """The best BM25 score over the question's word weight: near 1 when one
        chunk holds the question's rare words, low when it holds only a few
        (a long question is not favoured by its length)."""
        return self.bm25 / self.weight if self.weight > 0 else 0.0

    @property
    def keyword(self) -> bool:
        """A one-word question the first passages hold ("dsl"): a keyword the
        documents use, answered however far its vector falls from the
        chunks' (the 2026-12-04 night encoder put "dsl" at cosine 0.244).
        Two or more words the documents happen to use ("'; DROP TABLE x;
        --") are not: they still meet the cosine floor."""
        return self.covered and self.words == 1

    def vector(self) -> list[float]:
        return [float(getattr(self, n)) for n in NAMES]


@dataclass(frozen=True)
class Abstention:
    """A linear model over NAMES (standardised): above `threshold`, abstain."""

    model: str  # the encoder whose cosines it was fitted on (manifest model)
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    intercept: float
    threshold: float
    fitted_on: dict  # what it was fitted on and what it measured there
    names: tuple[str, ...] = NAMES
    version: int = VERSION

    def score(self, s: Signals) -> float:
        x = s.vector()
        return self.intercept + sum(w * (v - m) / sd for w, v, m, sd in zip(self.weights, x, self.mean, self.scale))

    def abstains(self, s: Signals) -> bool:
        """Never when every word of the question stands in the first passages:
        a keyword ("sexting") the documents do use is not out of scope,
        however weak one word's cosine."""
        return not s.covered and self.score(s) > self.threshold

    @classmethod
    def load(cls, model: str, path: Path = DATA) -> Abstention | None:
        """The fitted model, or None (use the cosine floor alone) when there is
        none, it reads other signals, or it was fitted on another encoder."""
        if not path.is_file():
            return None
        d = json.loads(path.read_text(encoding="utf-8"))
        if d.get("version") != VERSION or tuple(d.get("names", ())) != NAMES or d.get("model") != model:
            return None
        return cls(d["model"], tuple(d["mean"]), tuple(d["scale"]), tuple(d["weights"]), float(d["intercept"]),
                   float(d["threshold"]), dict(d.get("fitted_on", {})))

    def write(self, path: Path = DATA) -> None:
        d = asdict(self)
        d["names"] = list(self.names)
        path.write_text(json.dumps(d, indent=1) + "\n", encoding="utf-8")
