"""Evaluation on question files in the format of ../shared/eval/dev.jsonl.

One JSON object a line: `id`, `question`, `accept` (verbatim strings; empty
for a question the corpus cannot answer), `section` (the title the answer
sits under), `kind`.

The matching rule: a passage hits when its quote contains any accept string,
both with runs of white space folded to one space. The section is right when
the citation's section path of the first passage that hits names the
`section` title (compared with white space folded and case ignored).

Metrics, over the answerable questions: hit@1, hit@5, MRR@10, section
accuracy of the first hit, and how often the first hit's highlights mark the
answer (they cover at least half of the accept string's characters), with
the share of a passage's characters they mark (so marking everything does
not pass for finding the answer); over the out-of-scope ones: how many were
abstained on; and how many answerable ones were wrongly abstained on. Hits
are counted on the passages returned whether or not the answer abstained
(an abstaining answer still shows its closest passages); wrong abstentions
are reported on their own."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .analysis import fold, fold_quote, fold_with_map
from .errors import InvalidRequest


def quote_hits(quote: str, accept: list[str]) -> bool:
    return holds_answer(fold_quote(quote), accept)


def holds_answer(folded: str, accept) -> bool:
    """The matching rule, on a text already folded (fold_quote): for callers
    that check one text against many questions."""
    return any(fold_quote(a) in folded for a in accept if a.strip())


def accept_span(quote: str, accept: list[str]) -> tuple[int, int] | None:
    """Where the first accept string that the quote holds stands in it
    (offsets in the unfolded quote)."""
    folded, where = fold_with_map(quote)
    for a in accept:
        fa = fold_quote(a)
        pos = folded.find(fa) if fa else -1
        if pos != -1:
            return where[pos], where[pos + len(fa) - 1] + 1
    return None


def highlight_hits(quote: str, highlights, accept: list[str]) -> bool:
    """The highlights cover at least half of the answer's characters."""
    span = accept_span(quote, accept)
    if span is None:
        return False
    s, e = span
    covered = sum(max(0, min(e, he) - max(s, hs)) for hs, he in highlights)
    return 2 * covered >= e - s


def section_hits(section_path, section: str | None) -> bool:
    if not section:
        return False
    want = fold(section)
    return any(fold(t) == want for t in section_path)


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    accept: tuple[str, ...]
    section: str | None
    kind: str
    context: tuple[str, ...] = ()  # earlier questions of the conversation (follow-ups)
    split: str = ""  # "tune" or "report" in the blind sets: `adapt` never reads a "report" one

    @property
    def answerable(self) -> bool:
        return bool(self.accept)


def load_questions(path: Path) -> list[Question]:
    out = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InvalidRequest(f"cannot read {path}: {exc.strerror}") from exc
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            out.append(Question(id=str(d["id"]), question=d["question"], accept=tuple(d.get("accept") or ()),
                                section=d.get("section"), kind=d.get("kind") or "",
                                context=tuple(d.get("context") or ()), split=str(d.get("split") or "")))
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidRequest(f"{path}:{n}: not a question record ({exc})") from exc
    if not out:
        raise InvalidRequest(f"{path}: no questions")
    return out


@dataclass
class QuestionResult:
    id: str
    kind: str
    answerable: bool
    abstained: bool
    rank: int | None  # 1-based rank of the first passage that hits (within 10)
    section_ok: bool
    best_cosine: float
    highlighted: bool = False  # the first hit's highlights mark the answer
    marked: float = 0.0  # share of the first hit's characters highlighted
    first: str = ""  # citation of the first passage, for reading misses


@dataclass
class EvalReport:
    n_answerable: int
    n_out_of_scope: int
    hit_at_1: float
    hit_at_5: float
    mrr_at_10: float
    section_accuracy: float
    highlight_rate: float  # of the questions hit in the top 5
    highlight_share: float  # mean share of those passages' characters marked
    oos_abstained: int
    wrongly_abstained: int
    missed_at_5: list[str]
    missed_at_1: list[str]
    wrong_section: list[str]
    oos_answered: list[str]
    abstained_answerable: list[str]
    median_ms: float
    results: list[QuestionResult] = field(default_factory=list)

    def to_json(self, details: bool = True) -> dict:
        d = asdict(self)
        if not details:
            d.pop("results")
        for k in ("hit_at_1", "hit_at_5", "mrr_at_10", "section_accuracy", "highlight_rate", "highlight_share"):
            d[k] = round(d[k], 4)
        return d

    def summary(self) -> str:
        return (f"hit@1={self.hit_at_1:.3f} hit@5={self.hit_at_5:.3f} MRR@10={self.mrr_at_10:.3f} "
                f"section={self.section_accuracy:.3f} highlighted={self.highlight_rate:.3f} "
                f"(marking {self.highlight_share:.0%} of text) oos_abstained={self.oos_abstained}/{self.n_out_of_scope} "
                f"wrongly_abstained={self.wrongly_abstained}/{self.n_answerable}")


def evaluate(retriever, questions: list[Question]) -> EvalReport:
    """Ask every question (top 10 for MRR@10; top 5 as a user sees them for
    hit@1/hit@5/section) and score the passages."""
    results: list[QuestionResult] = []
    times = []
    for q in questions:
        t0 = time.perf_counter()
        five = retriever.ask(q.question, top_k=5, context=q.context)
        times.append(time.perf_counter() - t0)
        rank = None
        section_ok = highlighted = False
        marked = 0.0
        if q.answerable:
            for p in five.passages:
                if quote_hits(p.quote, list(q.accept)):
                    rank = p.rank
                    section_ok = section_hits(p.citation.section_path, q.section)
                    highlighted = highlight_hits(p.quote, p.highlights, list(q.accept))
                    marked = sum(e - s for s, e in p.highlights) / max(1, len(p.quote))
                    break
            if rank is None:
                ten = retriever.ask(q.question, top_k=10, context=q.context)
                for p in ten.passages:
                    if quote_hits(p.quote, list(q.accept)):
                        rank = p.rank
                        break
        first = ""
        if five.passages:
            c = five.passages[0].citation
            first = f"{c.document_id} › {' › '.join(c.section_path)}"
        results.append(QuestionResult(q.id, q.kind, q.answerable, five.abstained, rank, section_ok,
                                      round(float(five.best_cosine), 4), highlighted, round(marked, 4), first))
    ans = [r for r in results if r.answerable]
    oos = [r for r in results if not r.answerable]
    top5 = [r for r in ans if r.rank is not None and r.rank <= 5]
    n = max(1, len(ans))
    times.sort()
    return EvalReport(
        n_answerable=len(ans), n_out_of_scope=len(oos),
        hit_at_1=sum(r.rank == 1 for r in ans) / n,
        hit_at_5=sum(r.rank is not None and r.rank <= 5 for r in ans) / n,
        mrr_at_10=sum(1.0 / r.rank for r in ans if r.rank is not None and r.rank <= 10) / n,
        section_accuracy=sum(r.section_ok for r in ans) / n,
        highlight_rate=sum(r.highlighted for r in top5) / max(1, len(top5)),
        highlight_share=sum(r.marked for r in top5) / max(1, len(top5)),
        oos_abstained=sum(r.abstained for r in oos),
        wrongly_abstained=sum(r.abstained for r in ans),
        missed_at_5=[r.id for r in ans if r.rank is None or r.rank > 5],
        missed_at_1=[r.id for r in ans if r.rank != 1],
        wrong_section=[r.id for r in ans if not r.section_ok],
        oos_answered=[r.id for r in oos if not r.abstained],
        abstained_answerable=[r.id for r in ans if r.abstained],
        median_ms=round(1000 * times[len(times) // 2], 2) if times else 0.0,
        results=results,
    )
