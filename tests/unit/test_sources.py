from pathlib import Path

import pytest

from briefing_qa.errors import SourceError
from briefing_qa.sources import discover, document_id, load_catalog, read_document


def test_html_headings_lists_tables(tmp_path):
    p = tmp_path / "page.html"
    p.write_text(
        "<html><head><title>Guide</title></head><body><nav>menu</nav><main>"
        "<h1 id='top'>Guide</h1><p>Intro\n line.</p><h2 id='s2'>Part two</h2><p>Do this:</p>"
        "<ul><li>one</li><li>two</li></ul><table><caption>Table 1: Data</caption><tr><th>A</th><td>1</td></tr></table>"
        "</main><script>x()</script></body></html>", encoding="utf-8")
    d = read_document(p)
    assert d.title == "Guide"
    assert "menu" not in d.text and "x()" not in d.text
    assert "Intro line." in d.text
    lst = next(b for b in d.blocks if b.type == "list")
    assert d.text[lst.start : lst.end] == "Do this:\n• one\n• two"
    assert d.section(lst.section_id).path == ("Guide", "Part two")
    assert d.section(lst.section_id).anchor == "s2"
    tbl = next(b for b in d.blocks if b.type == "table")
    assert d.text[tbl.start : tbl.end] == "A | 1\nTable 1: Data"


def test_markdown_and_text(tmp_path):
    p = tmp_path / "notes.md"
    p.write_text("# Notes\n\nA **bold** claim.\n\n## Part\n\n- one\n- two\n", encoding="utf-8")
    d = read_document(p)
    assert d.title == "Notes"
    assert "A bold claim." in d.text
    assert any(d.section(b.section_id).path == ("Notes", "Part") for b in d.blocks if b.type == "list")


@pytest.mark.parametrize(
    "name,content,reason",
    [
        ("empty.txt", b"", "empty file"),
        ("latin1.txt", "caf\xe9 na\xefve".encode("latin-1"), "not UTF-8"),
        ("image.png", b"\x89PNG....", "unsupported file type"),
        ("bin.txt", b"\x00\x01\x02binary", "binary data"),
    ],
)
def test_bad_files_raise_clear_errors(tmp_path, name, content, reason):
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(SourceError) as err:
        read_document(p)
    assert reason in err.value.reason
    assert str(p) in str(err.value)


def test_size_limit(tmp_path):
    p = tmp_path / "big.txt"
    p.write_text("word " * 1000)
    with pytest.raises(SourceError, match="over the"):
        read_document(p, max_bytes=100)


def test_catalog_and_ids(tmp_path):
    (tmp_path / "sources.toml").write_text('[[source]]\nfile = "A b.txt"\ntitle = "Title"\npublisher = "P"\nyear = 2020\n')
    (tmp_path / "A b.txt").write_text("Hello.")
    meta = load_catalog(tmp_path)["A b.txt"]
    assert (meta.title, meta.publisher, meta.year) == ("Title", "P", "2020")
    assert document_id(Path("Keeping_children_safe 2025.pdf")) == "keeping-children-safe-2025"
    assert discover([tmp_path]) == [tmp_path / "A b.txt"]
