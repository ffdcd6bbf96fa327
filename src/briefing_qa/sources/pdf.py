"""PDF reader: turns a PDF into sections and blocks through DocumentBuilder.

pypdf's text extraction with a visitor gives the font size, position and font
of each text run, and (pdf_pen.Pen) where each string is printed. With that
we space words as printed, drop page numbers, running headers, contents pages,
footnotes and the publisher's back cover, strip superscript footnote markers,
rebuild paragraphs, lists (nested ones indented, bulletless ones kept with
their lead-in) and tables (a row a line, cells between " | "), also across
page breaks, and open sections where the outline's bookmarks (or, without an
outline, the contents pages) put the headings. A page pypdf cannot read is
skipped with a warning.

Here the stages are run in order; each lives in a module of its own:
pdf_layout (lines), pdf_clean (page clean-up, with pdf_footnotes,
pdf_contents and pdf_covers), pdf_tables, pdf_outline and pdf_headings,
pdf_paragraphs (blocks and their text)."""

from __future__ import annotations

import collections
import logging
from pathlib import Path

import pypdf

from ..errors import SourceError
from ..structure import DocumentBuilder
from .pdf_clean import PageCleaner
from .pdf_covers import title_pages
from .pdf_headings import headings, place
from .pdf_layout import Line, page_lines, page_runs
from .pdf_model import Heading, Measures
from .pdf_outline import meta_title, read_outline
from .pdf_paragraphs import Paragraphs, render
from .pdf_pen import Piece, junctions
from .pdf_tables import table_lines

log = logging.getLogger(__name__)


def read_pdf(path: Path) -> DocumentBuilder:
    """Read one PDF. Raises SourceError if it cannot be read or has no text."""
    path = Path(path)
    try:
        reader = pypdf.PdfReader(path)
        if reader.is_encrypted and not _decrypt(reader):
            raise SourceError(str(path), "encrypted PDF")
        count = len(reader.pages)
    except SourceError:
        raise
    except Exception as exc:  # pypdf raises many types (and some plain ones) for damaged files
        raise SourceError(str(path), f"not a readable PDF: {exc}") from exc
    pages, pieces, heights, skipped, error, cache = [], [], [], [], None, {}
    for n in range(1, count + 1):
        try:  # a damaged page is skipped, the rest of the document still read
            page = reader.pages[n - 1]
            runs, printed = page_runs(page, cache)
            lines, height = page_lines(runs, junctions(printed), n), float(page.mediabox.height)
        except Exception as exc:
            lines, printed, height, error = [], [], 842.0, exc
            skipped.append(n)
        pages.append(lines)
        pieces.append(printed)
        heights.append(height)
    if len(skipped) == count:
        raise SourceError(str(path), f"not a readable PDF: {error}")
    if skipped:
        log.warning("%s: skipped unreadable page(s) %s (%s)", path.name, ", ".join(map(str, skipped)), error)
    try:
        outline, title = read_outline(reader), meta_title(reader)
    except Exception:
        outline, title = [], None
    if sum(len(line.text.strip()) for lines in pages for line in lines) < 20:
        raise SourceError(str(path), "no extractable text (scanned?)")
    return _assemble(pages, heights, outline, title, pieces)


def _decrypt(reader: pypdf.PdfReader) -> bool:
    """An encrypted PDF with an empty user password is still readable."""
    try:
        return bool(reader.decrypt(""))
    except Exception:  # e.g. AES without the cryptography package
        return False


def _assemble(pages: list[list[Line]], heights: list[float], outline: list[Heading], title: str | None,
              pieces: list[list[Piece]]) -> DocumentBuilder:
    measures = Measures.of(pages)
    cleaner = PageCleaner(pages, heights, outline, measures.body)
    cleaned = [table_lines(lines, printed, measures.body) for lines, printed in zip(cleaner.clean(), pieces)]
    by_page = collections.defaultdict(list)
    for head in headings(outline, cleaner.toc, cleaner.labels, pages, measures):
        by_page[head.page].append(head)
    placed = [x for n, lines in enumerate(cleaned, 1) for x in place(lines, by_page[n], measures)]
    return _build(Paragraphs(pages, measures).blocks(placed), title, len(pages))


def _build(blocks: list, title: str | None, n_pages: int) -> DocumentBuilder:
    b = DocumentBuilder()
    b.title = title or next((x.title for x in blocks if isinstance(x, Heading)), None)
    started = 0

    def start(page: int) -> None:
        nonlocal started
        if started < page:
            b.start_page(page)
            started = page

    covers = title_pages([x for x in blocks if not isinstance(x, Heading)], n_pages)
    for block in blocks:
        if isinstance(block, Heading):
            start(block.page)
            b.heading(block.title, block.level)
            continue
        text, marks = render(block)
        start(block.entries[0][0].page)
        kind = "cover" if block.entries[0][0].page in covers and not marks else block.type
        # A paragraph running on to later pages starts them inside itself.
        if b.add(kind, text, page_breaks=marks) is not None and marks:
            started = max(started, marks[-1][0])
    start(n_pages)
    return b
