"""Report record -> one self-contained HTML file that is safe to email.

No code, no prompts, no injected-parameters cell, no scripts and no external
request of any kind: blocks are rendered by :func:`cxkit.document.block_html`
(escaped text, inline SVG), and the stylesheet is inlined. nbconvert's stock
templates load require.js and MathJax from a CDN, so this renderer writes its
own slim page.
"""

from __future__ import annotations

import html
import re
from importlib import resources

__all__ = ["record_to_html", "notebook_to_html", "keep_with_next", "SKIP_TAGS"]

from cxkit.document import SKIP_TAGS  # noqa: E402  (kept importable here)


def _is_heading(part: str) -> bool:
    """A heading with at most a line of text: it must never end a printed page."""
    return bool(re.match(r"\s*<h[1-4]", part)) and not re.search(r"<(figure|table|svg|img)\b", part)


def _is_table(part: str) -> bool:
    """A table block (its wrapper and caption), not a figure."""
    return bool(re.match(r"\s*<div class='cx-table-wrap'", part)) and "<figure" not in part


def keep_with_next(parts: list[str]) -> list[str]:
    """Wrap each heading with what follows it, up to and including its first figure or table (and the tables right
    after that figure: printed side by side where they fit, with the figure on its page).

    The print stylesheet keeps a ``cx-keep`` block on one page, so a heading never sits at the foot
    of a page with its chart on the next. The executive summary (``cx-flow``) keeps its heading with its
    first sentence, and the rest may go on over the next page.

    >>> keep_with_next(["<h2>A</h2>", "<p>x</p>", "<figure>f</figure>", "<p>after</p>"])
    ["<section class='cx-keep'><h2>A</h2>\\n<p>x</p>\\n<figure>f</figure></section>", '<p>after</p>']
    >>> kept = keep_with_next(["<h2>B</h2>", "<figure>f</figure>", "<div class='cx-table-wrap'>t</div>", "<p>x</p>"])
    >>> kept[0].endswith("<figure>f</figure>\\n<div class='cx-table-wrap'>t</div></section>"), kept[1]
    (True, '<p>x</p>')
    >>> two = ["<div class='cx-table-wrap'>t</div>", "<div class='cx-table-wrap'>u</div>"]
    >>> "<div class='cx-side'>" in keep_with_next(["<h2>C</h2>", "<figure>f</figure>", *two])[0]
    True
    >>> keep_with_next(["<h2>Summary</h2>", "<ul class='cx-summary'><li>a</li></ul>"])
    ["<section class='cx-flow'><h2>Summary</h2>\\n<ul class='cx-summary'><li>a</li></ul></section>"]
    """
    out, i = [], 0
    while i < len(parts):
        if not _is_heading(parts[i]):
            out.append(parts[i])
            i += 1
            continue
        block = [parts[i]]
        i += 1
        while i < len(parts) and not _is_heading(parts[i]):
            block.append(parts[i])
            i += 1
            if re.search(r"<(figure|table|svg|img)\b", block[-1]):
                # a figure's own tables (the periods under a trend chart) stay with it: split, the chart ends one
                # page half empty and a table starts the next alone; two or more sit side by side where they fit
                tables = []
                while block[-1].lstrip().startswith("<figure") and i < len(parts) and _is_table(parts[i]):
                    tables.append(parts[i])  # block[-1] stays the figure
                    i += 1
                if len(tables) > 1:
                    tables = ["<div class='cx-side'>" + "\n".join(tables) + "</div>"]
                block += tables
                break
        # the executive summary may go on over the next page, a sentence at a time: kept whole, a summary a
        # little too long for the title page would leave the title alone on it
        flows = any("class='cx-summary'" in part for part in block)
        out.append(f"<section class='{'cx-flow' if flows else 'cx-keep'}'>" + "\n".join(block) + "</section>")
    return out


def record_to_html(record: dict) -> str:
    """Render a report record (figures' SVG included, see :func:`cxkit.document.with_files`) as one page.

    The record's ``meta`` gives the title, the footer (as-of date and run fingerprint, shown at the foot
    of the page and of every printed page), and the print page size and orientation.
    """
    from jinja2 import Template

    from cxkit import fonts
    from cxkit.document import block_html

    meta = record.get("meta", {})
    parts = keep_with_next([block_html(b) for b in record["blocks"]])
    footer_text = meta.get("footer", "")
    css_template = resources.files("cxkit").joinpath("templates/report.css").read_text(encoding="utf-8")
    css_footer = footer_text.replace("\\", "\\\\").replace('"', '\\"')
    body = "\n".join(parts)
    title = meta.get("title", "")
    faces = fonts.font_face_css(html.unescape(body + title + footer_text), italic=bool(re.search(r"<(em|i)\b", body)))
    css = Template(css_template).render(page_size=meta.get("page_size", "A4"),
                                        orientation=meta.get("orientation", "landscape"), footer_text=css_footer,
                                        font_faces=faces, font_stack=fonts.STACK)
    page = resources.files("cxkit").joinpath("templates/report.html.j2").read_text(encoding="utf-8")
    return Template(page).render(title=html.escape(title), css=css, body=body,
                                 footer_text=html.escape(footer_text), version=html.escape(meta.get("version", "")))


def notebook_to_html(nb, title: str, footer_text: str, page_size: str = "A4", orientation: str = "landscape",
                     version: str = "") -> str:
    """Render an executed notebook's report blocks as one HTML page (see :func:`record_to_html`)."""
    from cxkit.document import record_from_notebook

    record, files = record_from_notebook(nb, {"title": title, "footer": footer_text, "page_size": page_size,
                                              "orientation": orientation, "version": version})
    for block in record["blocks"]:
        if block["type"] == "figure":
            block["svg"] = files[block["svg_file"]].decode("utf-8")
    return record_to_html(record)
