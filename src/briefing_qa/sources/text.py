"""Markdown and plain text: '#' headings (Markdown) and blank-line paragraphs."""

from __future__ import annotations

import re

from ..structure import DocumentBuilder, clean_inline

_ITEM = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")


def read_text(raw: str, markdown: bool) -> DocumentBuilder:
    b = DocumentBuilder()
    for para in re.split(r"\n\s*\n", raw.replace("\r\n", "\n")):
        lines = [ln for ln in para.split("\n") if ln.strip()]
        if not lines:
            continue
        m = re.match(r"^(#{1,6})\s+(.+?)\s*#*$", lines[0]) if markdown else None
        if m:
            title = clean_inline(m.group(2))
            if b.title is None and len(m.group(1)) == 1:
                b.title = title
            b.heading(title, len(m.group(1)))
            lines = lines[1:]
            if not lines:
                continue
        if any(_ITEM.match(ln) for ln in lines):
            out: list[str] = []
            for ln in lines:
                if _ITEM.match(ln):
                    out.append("• " + clean_inline(_ITEM.sub("", ln)) if re.match(r"^\s*[-*+•]", ln) else clean_inline(ln))
                elif out and not _ITEM.match(lines[0]) and len(out) == 1 and not out[0].startswith("•"):
                    out[0] = clean_inline(out[0] + " " + ln)
                elif out:
                    out[-1] = clean_inline(out[-1] + " " + ln)
                else:
                    out.append(clean_inline(ln))
            b.add("list", "\n".join(out))
        else:
            text = clean_inline("\n".join(lines))
            if markdown:
                text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
            b.add("paragraph", text)
    return b
