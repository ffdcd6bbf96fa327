"""The command line: ingest, serve, ask. Options fall back to BRIEFING_QA_*
variables; errors print one line and exit non-zero."""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
from pathlib import Path
from typing import Annotated

import typer

from .errors import BriefingQAError
from .settings import Settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Briefing QA: verbatim, cited answers from safeguarding guidance.")

IndexOpt = Annotated[Path | None, typer.Option("--index", help="Index folder [env: BRIEFING_QA_INDEX; default: index]")]


def _settings(**overrides) -> Settings:
    return Settings.from_env(**overrides)


def _fail(exc: BriefingQAError) -> None:
    typer.echo(f"error: {exc.detail}", err=True)
    raise typer.Exit(exc.exit_code)


@app.command()
def ingest(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders [env: BRIEFING_QA_SOURCES; default: ingest/]")] = None,
    index: IndexOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars")] = False,
) -> None:
    """Read the sources and (re)build the index; unchanged files are not embedded again."""
    from .embedding import load_embedder
    from .ingest import ingest as run
    from .journal import exclusive

    try:
        s = _settings(index=index)
        srcs = list(paths) if paths else list(s.sources)
        with exclusive(s.corpus, s.index):  # not while the server's admin job changes the library
            report = run(srcs, s, lambda: load_embedder(s.model_path), progress=not quiet,
                         on_error=lambda e: typer.echo(f"skipped {e.path}: {e.reason}", err=True))
    except BriefingQAError as exc:
        _fail(exc)
    if s.encoder != "torch" and report.documents:
        _export_encoder(s)
    if report.version:
        typer.echo(f"indexed {len(report.documents)} documents, {report.chunks} chunks "
                   f"({report.embedded} embedded, {report.reused} reused; {report.sentences_embedded} sentences embedded) "
                   f"in {report.seconds:.1f} s -> {s.index}/{report.version}")
    elif report.documents:
        typer.echo(f"index is up to date: {len(report.documents)} documents, {report.chunks} chunks ({report.seconds:.1f} s)")
    else:
        typer.echo("nothing indexed: no readable source files", err=True)
    if report.removed:
        typer.echo(f"removed from the index: {', '.join(report.removed)}")
    if report.errors:
        typer.echo(f"{len(report.errors)} file(s) could not be read", err=True)
        raise typer.Exit(1)


@app.command()
def adapt(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders [env: BRIEFING_QA_SOURCES; default: ingest/]")] = None,
    index: IndexOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Train again even if an adapted model is there")] = False,
    questions: Annotated[list[Path] | None, typer.Option(
        "--questions", help="A JSON-lines file of questions and their verbatim answers to learn from too; repeatable. "
        'Records marked "split": "report" are never read [env: BRIEFING_QA_TRAINING_QUESTIONS]')] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress")] = False,
) -> None:
    """Adapt the encoder to the documents (once; some 10 minutes on 2 cores),
    and to practitioners' questions when given, so questions find their
    passages more often; `ingest` then embeds with it."""
    from .adaptation import ADAPTED_DIR, up_to_date
    from .adaptation import adapt as run
    from .embedding import load_embedder, model_identity, model_name
    from .ingest import corpus_chunks
    from .journal import exclusive
    from .settings import default_model

    try:
        s = _settings(index=index, training_questions=tuple(questions) if questions else None)
        base = s.model or default_model()
        out = s.index / ADAPTED_DIR
        base_id = model_identity(base)
        done = None if force else up_to_date(out, base_id, questions=s.training_questions)
        if done is not None:
            typer.echo(f"the encoder is already adapted ({len(done.documents)} documents, {done.created}): {out}; "
                       "--force trains it again")
            return
        with exclusive(s.corpus, s.index):
            docs, chunks = corpus_chunks(list(paths) if paths else list(s.sources), s, load_embedder(base).fits,
                                         on_error=lambda e: typer.echo(f"skipped {e.path}: {e.reason}", err=True))

            def progress(step: int, steps: int, loss: float) -> None:
                if not quiet and (step % 10 == 0 or step == steps):
                    typer.echo(f"step {step}/{steps}: loss {loss:.3f}", err=True)

            info = run(base, model_name(base), base_id, docs, chunks, out, progress=progress, questions=s.training_questions)
    except BriefingQAError as exc:
        _fail(exc)
    typer.echo(f"adapted {info.base} to {len(info.documents)} documents: {info.pairs} pairs, {info.steps} steps, "
               f"loss {info.first_loss:.2f} -> {info.last_loss:.2f}"
               + (f"; {info.question_pairs} questions, {len(info.question_losses)} steps" if info.questions else "")
               + f", {info.seconds:.0f} s -> {out}")
    if s.model:
        typer.echo(f"note: BRIEFING_QA_MODEL is set, so it is still used; set it to {out} to use the adapted model")


def _export_encoder(s: Settings) -> None:
    """Leave the ONNX query encoder beside the index, so servers start fast."""
    from .onnx_encoder import ensure

    try:
        ensure(s.model_path, s.index, int8=s.encoder == "onnx-int8")
    except Exception as exc:  # noqa: BLE001 - servers fall back to torch
        typer.echo(f"warning: ONNX query encoder not exported ({exc}); servers will encode with torch", err=True)


@app.command()
def serve(
    index: IndexOpt = None,
    host: Annotated[str | None, typer.Option(help="[env: BRIEFING_QA_HOST; default: 127.0.0.1]")] = None,
    port: Annotated[int | None, typer.Option(help="[env: BRIEFING_QA_PORT; default: 8000]")] = None,
    workers: Annotated[int | None, typer.Option(help="[env: BRIEFING_QA_WORKERS; default: 1]")] = None,
    corpus: Annotated[Path | None, typer.Option("--corpus", help="The library folder the admin API may change "
                                                "[env: BRIEFING_QA_CORPUS; default: ingest]")] = None,
) -> None:
    """Serve the HTTP API, the quote finder page, the chat widget and the admin page."""
    import os

    import uvicorn

    try:
        s = _settings(index=index, host=host, port=port, workers=workers, corpus=corpus)
    except BriefingQAError as exc:
        _fail(exc)
    # Workers read their settings from the environment, so pass overrides on.
    os.environ["BRIEFING_QA_INDEX"] = str(s.index)
    os.environ["BRIEFING_QA_CORPUS"] = str(s.corpus)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")  # see asgi.py: requests run in parallel threads already
    if s.encoder != "torch":
        _export_encoder(s)  # once, here, rather than in every worker at once
    if s.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # /metrics then sums the counts of all workers, whichever answers.
        import atexit
        import tempfile

        metrics_dir = tempfile.mkdtemp(prefix="briefing-qa-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        atexit.register(shutil.rmtree, metrics_dir, True)
    uvicorn.run("briefing_qa.asgi:app", host=s.host, port=s.port, workers=s.workers, log_level="warning",
                access_log=False, proxy_headers=False)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in quotes")],
    index: IndexOpt = None,
    k: Annotated[int, typer.Option("-k", min=1, max=20, help="How many passages")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON")] = False,
) -> None:
    """Answer a question with quoted passages and their citations."""
    from .service import Engine

    try:
        s = _settings(index=index)
        if not question.strip():
            from .errors import InvalidRequest

            raise InvalidRequest("the question is empty")
        result = Engine(s).load().ask(question, k)
    except BriefingQAError as exc:
        _fail(exc)
    if as_json:
        typer.echo(json.dumps(result.to_json(question), ensure_ascii=False, indent=2))
        return
    if result.corrections:
        typer.secho("Read " + ", ".join(f"'{a}' as '{b}'" for a, b in result.corrections) + ".", dim=True)
    if result.abstained:
        why = result.signals.lacks if result.signals is not None else None
        typer.secho("The documents do not answer this" + (f" (it asks for {why}, and the passages found give none)" if why else "")
                    + ". Closest passages:", fg="yellow")
    width = min(100, shutil.get_terminal_size().columns)
    for p in result.passages:
        c = p.citation
        typer.secho(f"\n[{p.rank}] {c.document_title} › {' › '.join(c.section_path)}"
                    + (f" (p. {c.pages[0]})" if c.pages else ""), bold=True)
        for para in p.quote.split("\n"):
            typer.echo(textwrap.fill(para, width=width, initial_indent="  > ", subsequent_indent="    "))
        typer.echo(f"  {c.reference}")
        if c.url:
            typer.echo(f"  {c.url}")


@app.command("eval")
def eval_(
    file: Annotated[Path, typer.Argument(help="Questions, one JSON object a line (format of ../shared/eval/dev.jsonl)")],
    index: IndexOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Score retrieval on a question file: hit@1, hit@5, MRR@10, section accuracy, abstentions."""
    from .evaluate import evaluate, load_questions
    from .service import Engine

    try:
        s = _settings(index=index)
        questions = load_questions(file)
        report = evaluate(Engine(s).load(), questions)
    except BriefingQAError as exc:
        _fail(exc)
    if as_json:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        return
    typer.echo(f"{report.n_answerable} answerable, {report.n_out_of_scope} out of scope ({file})")
    typer.echo(f"hit@1            {report.hit_at_1:.3f}")
    typer.echo(f"hit@5            {report.hit_at_5:.3f}")
    typer.echo(f"MRR@10           {report.mrr_at_10:.3f}")
    typer.echo(f"section accuracy {report.section_accuracy:.3f}")
    typer.echo(f"answer highlighted {report.highlight_rate:.3f} (of hits in the top 5; "
               f"highlights mark {report.highlight_share:.0%} of those passages)")
    typer.echo(f"out of scope abstained on: {report.oos_abstained}/{report.n_out_of_scope}"
               + (f" (answered: {', '.join(report.oos_answered)})" if report.oos_answered else ""))
    typer.echo(f"answerable wrongly abstained on: {report.wrongly_abstained}"
               + (f" ({', '.join(report.abstained_answerable)})" if report.abstained_answerable else ""))
    typer.echo(f"missed at 5: {', '.join(report.missed_at_5) or 'none'}")
    typer.echo(f"missed at 1: {', '.join(report.missed_at_1) or 'none'}")
    typer.echo(f"wrong section: {', '.join(report.wrong_section) or 'none'}")
    typer.echo(f"median ask latency: {report.median_ms:.1f} ms")


bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks (not tests): retrieval quality on public data sets.")
app.add_typer(bench_app, name="bench")


@bench_app.command("beir")
def bench_beir(
    folder: Annotated[Path, typer.Argument(help="A BEIR folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv")],
    split: Annotated[str, typer.Option("--split", help="test or train")] = "test",
    index: Annotated[Path | None, typer.Option("--index", help="Where to build its index (kept: vectors are reused by content hash) [default: build/bench/<name>]")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Also print the figures as JSON")] = False,
) -> None:
    """Index a BEIR folder with the service's own pipeline, retrieval and query encoder; print nDCG@10 and recall@100."""
    from .beir import run_beir
    from .embedding import load_embedder

    try:
        s = _settings()
        if split not in ("test", "train", "dev"):
            from .errors import InvalidRequest

            raise InvalidRequest(f"--split must be test or train, not {split!r}")
        root = index or Path("build") / "bench" / folder.resolve().name
        from .onnx_encoder import load_query_embedder

        # Questions go through the service's own query encoder (BRIEFING_QA_ENCODER).
        result = run_beir(folder, split, root, lambda: load_embedder(s.model_path), s, progress=True,
                          log=lambda m: typer.echo(m, err=True),
                          query_embedder=lambda: load_query_embedder(s.model_path, root, s.encoder))
    except BriefingQAError as exc:
        _fail(exc)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    typer.echo(f"{folder.name} {split}: {result['queries']} queries, {result['documents']} documents, "
               f"{result['chunks']} chunks; recall@100={result['recall@100']:.4f} nDCG@10={result['ndcg@10']:.4f}")


def main() -> None:
    try:
        app()
    except BriefingQAError as exc:  # pragma: no cover - commands catch their own
        print(f"error: {exc.detail}", file=sys.stderr)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
