"""What the PDF's catalogue says of its structure: the outline's bookmarks
(the headings, when there are some) and the title in its metadata."""

from __future__ import annotations

import re

import pypdf

from ..structure import clean_inline
from .pdf_model import CONTENTS, Heading


def meta_title(reader: pypdf.PdfReader) -> str | None:
    try:
        title = clean_inline(str((reader.metadata or {}).get("/Title") or ""))
    except Exception:
        return None
    # Word often leaves "Microsoft Word - file.docx" here, which is no title.
    return None if not title or re.search(r"^microsoft word|\.docx?$", title, re.IGNORECASE) else title


def read_outline(reader: pypdf.PdfReader) -> list[Heading]:
    """Bookmarks in order, their level from the nesting."""
    found: list[Heading] = []

    def walk(items: list, level: int) -> None:
        lifted = False
        for k, item in enumerate(items):
            if isinstance(item, list):
                walk(item, level if lifted else level + 1)
                lifted = False
                continue
            # Word appends footnote anchors to bookmark titles: "Contractors94F".
            title = clean_inline(re.sub(r"(\s*\d+F)+\s*$", "", str(item.title or "")))
            if CONTENTS.fullmatch(title) and k + 1 < len(items) and isinstance(items[k + 1], list):
                # A "Table of contents" bookmark holding an annex's sections
                # (KCSIE Annex B) is no section: "Annex B › Table of contents ›
                # Cybercrime" would cite a contents list. Its children move up.
                lifted = True
                continue
            try:
                page = reader.get_destination_page_number(item)
            except Exception:  # a bookmark to nowhere
                continue
            if title and page is not None and page >= 0:
                found.append(Heading(page + 1, title, level))

    try:
        walk(reader.outline, 1)
    except Exception:  # a broken outline leaves the text readable
        pass
    return found
