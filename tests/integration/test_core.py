"""The core path on the real model and the real corpus: ingestion, quotes,
citations, idempotence, crash safety and per-file errors."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pypdf
import pytest

from briefing_qa import store
from briefing_qa.chunking import chunk_document
from briefing_qa.ingest import ingest
from briefing_qa.settings import Settings
from tests.conftest import BRIEFING, CORPUS, SHARED

NATIONAL_FRAMEWORK = "childrens-social-care-national-framework-dec-2023"
FOLD = lambda s: re.sub(r"\s+", " ", s)


def dev_questions():
    path = SHARED / "eval" / "dev.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_all_six_documents_indexed_with_attribution(retriever):
    docs = retriever.documents
    assert len(docs) == 6
    kcsie = docs["keeping-children-safe-in-education-2025"]
    assert kcsie.publisher == "Department for Education" and kcsie.year == "2025" and kcsie.pages == 187
    assert len(kcsie.sections) > 200  # from its 273 bookmarks


@pytest.mark.parametrize("q", [q for q in dev_questions() if q["accept"]], ids=lambda q: q["id"])
def test_every_quote_is_an_exact_slice_of_its_document(retriever, q):
    result = retriever.ask(q["question"], top_k=10)
    assert result.passages
    for p in result.passages:
        doc = retriever.documents[p.citation.document_id]
        start, end = p.source_offsets
        assert p.quote == doc.text[start:end]
        for hs, he in p.highlights:
            assert 0 <= hs < he <= len(p.quote)
        for other in p.also_in:
            assert other.document_id in retriever.documents


def _first_hit(retriever, question, accept):
    for p in retriever.ask(question, top_k=10).passages:
        if any(FOLD(a) in FOLD(p.quote) for a in accept):
            return p
    raise AssertionError(f"no passage for {question!r}")


def test_section_path_of_known_answers(retriever):
    p = _first_hit(retriever, "How does poverty affect neglect?", ["Poverty leads to additional complexity, stress and anxiety"])
    assert p.citation.section_path[:2] == ("Neglect", "Impact of poverty")
    assert p.citation.anchor == "lscb_neglect"
    assert p.citation.url.startswith("https://rip-micro4-live.digitalconnect.co.uk/safeguarding-partnerships/#lscb_neglect:~:text=")
    assert p.citation.pages is None
    p = _first_hit(retriever, "What is contextual safeguarding?", ["Contextual Safeguarding is an approach"])
    assert p.citation.section_path[0] == "Vulnerable adolescents"


def test_page_numbers_of_a_known_pdf_passage(retriever):
    needle = "the term ‘looked-after children’ is unhelpful"
    p = _first_hit(retriever, "Why does the framework say 'children in care' rather than 'looked-after children'?", [needle])
    assert p.citation.document_id == NATIONAL_FRAMEWORK
    assert "National Framework: Key Concepts" in p.citation.section_path
    # The page the citation names is the page pypdf finds the words on.
    reader = pypdf.PdfReader(CORPUS / "Childrens_Social_Care_National_Framework__Dec_2023.pdf")
    pages = [i + 1 for i, page in enumerate(reader.pages) if "is unhelpful" in FOLD(page.extract_text())]
    assert pages and p.citation.pages[0] <= pages[0] <= p.citation.pages[1]
    assert p.citation.url.endswith(f"/v1/documents/{NATIONAL_FRAMEWORK}/file#page={p.citation.pages[0]}")
    assert f"p. {p.citation.pages[0]}" in p.citation.reference or "pp." in p.citation.reference


def test_title_pages_stay_in_the_text_but_are_never_passages(retriever):
    doc = retriever.documents[NATIONAL_FRAMEWORK]
    covers = [b for b in doc.blocks if b.type == "cover"]
    assert covers and all(doc.pages_of(b.start, b.end) == (1, 1) for b in covers)
    assert "Statutory guidance on the purpose, principles for practice" in doc.text[covers[0].start:covers[-1].end]
    assert not [c for c in retriever.chunks if c.document_id == NATIONAL_FRAMEWORK and c.pages == (1, 1)]
    # A question naming the document gets its answer, not its title page:
    # no passage from the cover, the answer near the top (the introduction,
    # which names "the outcomes" too, may come first).
    question = "What does the children's social care national framework say about outcomes?"
    assert not [q for q in retriever.ask(question, top_k=5).passages
                if q.citation.document_id == NATIONAL_FRAMEWORK and q.citation.pages[0] == 1]
    p = _first_hit(retriever, question, ["There are 4 outcomes"])
    assert p.rank <= 2 and p.citation.section_path[-1] == "Outcome"
    # A cover that says something (a sentence) is still a passage.
    kcsie = [c for c in retriever.chunks if c.document_id == "keeping-children-safe-in-education-2025" and c.pages == (1, 1)]
    assert any("comes into force in September 2025." in c.text for c in kcsie)


def test_chunks_fit_the_model_with_their_context(retriever, embedder):
    assert max(embedder.token_count(c.context) for c in retriever.chunks) <= embedder.max_tokens == 256
    # And chunking with the model's check never produces an overlong context.
    doc = retriever.documents["keeping-children-safe-in-education-2025"]
    assert all(embedder.fits(c.context) for c in chunk_document(doc, fits=embedder.fits))


def test_out_of_scope_question_abstains(retriever):
    assert retriever.ask("What is the capital of France?").abstained
    assert not retriever.ask("What is contextual safeguarding?").abstained


def test_duplicate_text_is_shown_once(retriever):
    # Keeping children safe in education repeats Part one in Annex A.
    result = retriever.ask("What should staff do if they have a concern about a child's welfare?", top_k=10)
    keys = [FOLD(p.quote).lower() for p in result.passages]
    assert len(keys) == len(set(keys))


def test_reingest_is_a_noop(corpus_index, embedder):
    before = store.current_version(corpus_index.index)
    calls = []
    t0 = time.perf_counter()
    report = ingest([CORPUS], corpus_index, lambda: calls.append(1) or embedder)
    assert report.ok and report.version is None and report.embedded == 0 and not calls
    assert store.current_version(corpus_index.index) == before
    assert time.perf_counter() - t0 < 30


def _cli(*args, env=None, **kw):
    full = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFING_QA_")}
    full.update(env or {})
    return subprocess.Popen([sys.executable, "-m", "briefing_qa.cli", *args], env=full, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def test_ingestion_killed_half_way_leaves_the_old_index_serving(tmp_path, briefing_only, embedder):
    index = tmp_path / "index"
    settings = Settings.from_env(env={}, index=index)
    assert ingest([briefing_only], settings, lambda: embedder).version
    before = store.current_version(index)
    # A second, bigger build: kill -9 it once it has started writing.
    shutil.copy(CORPUS / "Keeping_children_safe_in_education_2025.pdf", briefing_only)
    proc = _cli("ingest", str(briefing_only), "--index", str(index), "--quiet")
    # The old index must survive a kill at any moment; kill while the build is
    # parsing or embedding (about 10 s in), or as soon as it writes its folder.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and proc.poll() is None and not list(index.glob(".tmp-*")):
        time.sleep(0.05)
    assert proc.poll() is None, "ingestion finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert store.current_version(index) == before
    from briefing_qa.service import Engine

    r = Engine(settings, embedder).load()
    assert r.ask("What is contextual safeguarding?").passages
    assert set(r.documents) == {BRIEFING[:-4]}
    # The next ingestion succeeds and includes the new file.
    report = ingest([briefing_only], settings, lambda: embedder)
    assert report.ok and report.version
    assert "keeping-children-safe-in-education-2025" in store.read_index(index).documents


def test_corrupt_pdf_is_reported_and_skipped(tmp_path, briefing_only):
    data = (CORPUS / "Info_sharing_advice_content_May_2024.pdf").read_bytes()
    (briefing_only / "truncated.pdf").write_bytes(data[: len(data) // 3])
    (briefing_only / "noise.pdf").write_bytes(os.urandom(5000))
    proc = _cli("ingest", str(briefing_only), "--index", str(tmp_path / "index"), "--quiet")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, (out, err)
    lines = [ln for ln in err.splitlines() if ln.startswith("skipped ")]
    assert len(lines) == 2
    assert any("truncated.pdf" in ln for ln in lines) and any("noise.pdf" in ln for ln in lines)
    assert "indexed 1 documents" in out
    assert BRIEFING[:-4] in store.read_index(tmp_path / "index").documents
