"""The library folder: upload names and content checked before they touch
the disk, sources.toml edited without losing its comments, and the journal
that undoes a change cut short."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from briefing_qa import store
from briefing_qa.errors import Conflict, InvalidRequest, UnsupportedMediaType
from briefing_qa.journal import Journal
from briefing_qa.library import Library, clean_attribution, plain_reason, safe_name, sniff, write_catalog_entry
from briefing_qa.sources import load_catalog

CORPUS = Path(__file__).resolve().parents[2] / "ingest"


@pytest.mark.parametrize("name", ["../x.pdf", "..\\x.pdf", "a/b.pdf", "/etc/passwd.txt", "..", ".", "x\x00.pdf",
                                  "tab\there.txt", ".hidden.md", "sources.toml", "README.md", "", "   ", None,
                                  "x" * 300 + ".txt"])
def test_unsafe_names_are_refused(name):
    with pytest.raises(InvalidRequest):
        safe_name(name)


@pytest.mark.parametrize("name", ["slides.pptx", "report.docx", "noextension", "archive.tar.gz", "x.PDF.exe"])
def test_unsupported_types_are_415(name):
    with pytest.raises(UnsupportedMediaType):
        safe_name(name)


def test_plain_names_pass_unchanged():
    assert safe_name(" Local threshold document (2026).PDF ") == "Local threshold document (2026).PDF"
    assert safe_name("café.md") == "café.md"


@pytest.mark.parametrize("name,data,error,words", [
    ("x.pdf", b"just some text", UnsupportedMediaType, "not a PDF"),
    ("x.pdf", b"PK\x03\x04rest", UnsupportedMediaType, "Office"),
    ("x.txt", b"%PDF-1.7\n...", UnsupportedMediaType, "looks like a PDF"),
    ("x.md", b"\x89PNG\r\n\x1a\n", UnsupportedMediaType, "PNG"),
    ("x.txt", b"abc\x00def", UnsupportedMediaType, "binary"),
    ("x.txt", "Caf\u00e9".encode("cp1252"), UnsupportedMediaType, "UTF-8"),
    ("x.html", b"no tags at all, just words", UnsupportedMediaType, "not HTML"),
    ("x.txt", b"", InvalidRequest, "empty"),
    ("x.txt", b"  \n\t ", InvalidRequest, "white space"),
])
def test_content_must_be_what_the_name_says(name, data, error, words):
    with pytest.raises(error) as info:
        sniff(name, data)
    assert words in info.value.detail


def test_good_content_passes():
    sniff("x.pdf", (CORPUS / "Info_sharing_advice_content_May_2024.pdf").read_bytes()[:2048])
    sniff("x.html", b"<!doctype html><p>Hello</p>")
    sniff("x.md", "# Café\n\nText".encode())


def test_attribution_is_checked():
    assert clean_attribution({"title": " T ", "year": 2024, "url": ""}, partial=False) == {"title": "T", "year": "2024", "url": None}
    for bad in ({"url": "javascript:alert(1)"}, {"url": "ftp://x"}, {"title": ""}, {"colour": "red"},
                {"publisher": "a\x07b"}, {"year": "1" * 21}, {"year": "20x6"}, {"year": "202"}, {"year": "20255"},
                {"year": "2025; DROP"}, {"year": 99}):
        with pytest.raises(InvalidRequest):
            clean_attribution(bad, partial=True)
    for year in ("2025", " 1999 ", "2019a", 2024):
        assert clean_attribution({"year": year}, partial=True) == {"year": str(year).strip()}
    assert clean_attribution({"year": ""}, partial=True) == {"year": None}  # cleared: "n.d." in references


def test_catalog_edits_keep_comments_and_other_entries(tmp_path):
    cat = tmp_path / "sources.toml"
    shutil.copy(CORPUS / "sources.toml", cat)
    before = cat.read_text(encoding="utf-8")
    name = "triennial-analysis-briefing-local-safeguarding-partnerships.txt"
    write_catalog_entry(cat, name, {"title": 'A "quoted" title \\ with backslash', "publisher": "Research in Practice",
                                    "year": "2019", "url": None, "licence": "© Research in Practice"})
    text = cat.read_text(encoding="utf-8")
    assert "# year: not stated on the page" in text and text.startswith(before.split("[[source]]")[0])
    meta = load_catalog(tmp_path)
    assert meta[name].title == 'A "quoted" title \\ with backslash' and meta[name].year == "2019" and meta[name].url is None
    assert meta["Keeping_children_safe_in_education_2025.pdf"].year == "2025"  # untouched
    write_catalog_entry(cat, "new file.md", {"title": "New", "publisher": "Anytown"})
    write_catalog_entry(cat, "Keeping_children_safe_in_education_2025.pdf", None)
    entries = {e["file"]: e for e in tomllib.loads(cat.read_text(encoding="utf-8"))["source"]}
    assert entries["new file.md"] == {"file": "new file.md", "title": "New", "publisher": "Anytown"}
    assert "Keeping_children_safe_in_education_2025.pdf" not in entries and len(entries) == 6


def test_catalog_is_made_when_missing(tmp_path):
    write_catalog_entry(tmp_path / "sources.toml", "a.md", {"title": "A"})
    assert load_catalog(tmp_path)["a.md"].title == "A"


def test_ids_follow_ingest_and_clashes_are_refused(tmp_path):
    (tmp_path / "KCSIE 2025.pdf").write_bytes(b"%PDF-")
    (tmp_path / "notes.md").write_text("x")
    lib = Library(tmp_path, tmp_path / "index")
    assert {f.id for f in lib.files()} == {"kcsie-2025", "notes"}
    assert lib.check_new_name("KCSIE 2025.pdf") == "kcsie-2025"  # the same name replaces
    with pytest.raises(Conflict):
        lib.check_new_name("kcsie_2025.pdf")  # another name, the same id


def test_plain_reasons():
    assert plain_reason("no extractable text (scanned?)") == "no text layer; scanned PDFs need OCR first"
    assert plain_reason("not a readable PDF: EOF marker not found").startswith("the PDF is damaged or incomplete")


def test_journal_rollback_restores_files_and_the_live_version(tmp_path):
    index = tmp_path / "index"
    for v in ("v1", "v2"):
        (index / v).mkdir(parents=True)
    (index / "CURRENT").write_text("v1\n")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "sources.toml").write_text("# mine\n")
    (corpus / "old.md").write_text("old")
    j = Journal(index)
    j.begin("j1", [corpus / "new.md", corpus / "sources.toml", corpus / "old.md"])
    (corpus / "new.md").write_text("new")
    (corpus / "sources.toml").write_text("changed")
    (corpus / "old.md").unlink()
    (index / "CURRENT").write_text("v2\n")
    assert Journal(index).rollback()["job_id"] == "j1"
    assert sorted(p.name for p in corpus.iterdir()) == ["old.md", "sources.toml"]
    assert (corpus / "sources.toml").read_text() == "# mine\n" and (corpus / "old.md").read_text() == "old"
    assert store.current_version(index).name == "v1"
    assert Journal(index).pending() is None and Journal(index).rollback() is None


def test_the_corpus_setting_is_what_ingest_reads_by_default():
    from briefing_qa.errors import ConfigError
    from briefing_qa.settings import Settings

    s = Settings.from_env(env={"BRIEFING_QA_CORPUS": "/srv/library"})
    assert s.corpus == Path("/srv/library") and s.sources == (Path("/srv/library"),)
    s = Settings.from_env(env={"BRIEFING_QA_CORPUS": "/srv/library", "BRIEFING_QA_SOURCES": "/a,/b"})
    assert s.sources == (Path("/a"), Path("/b"))
    assert Settings.from_env(env={}).corpus == Path("ingest")
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env={"BRIEFING_QA_JOB_ENCODER": "gpu"})
    assert info.value.extra["key"] == "BRIEFING_QA_JOB_ENCODER"
