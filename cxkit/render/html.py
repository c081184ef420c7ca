"""Executed notebook -> one self-contained HTML file that is safe to email.

No code, no prompts, no injected-parameters cell, no scripts and no external
request of any kind: outputs are our own escaped HTML and inline SVG, images
are embedded as data URIs, and the stylesheet is inlined. nbconvert's stock
templates load require.js and MathJax from a CDN, so this exporter writes its
own slim page.
"""

from __future__ import annotations

import html
import re
from importlib import resources

__all__ = ["notebook_to_html", "SKIP_TAGS"]

SKIP_TAGS = {"parameters", "injected-parameters", "remove-cell"}
_PRIORITY = ("text/html", "image/svg+xml", "image/png", "image/jpeg", "text/markdown")


def _markdown(text: str) -> str:
    import mistune

    return mistune.create_markdown(escape=False, plugins=["table", "strikethrough"])(text)


def _output_html(output) -> str:
    if output.get("output_type") not in ("display_data", "execute_result"):
        return ""  # streams (logs, warnings) and errors never reach the report
    data = output.get("data", {})
    for mime in _PRIORITY:
        if mime not in data:
            continue
        value = data[mime]
        value = "".join(value) if isinstance(value, list) else value
        if mime == "text/html":
            return value
        if mime == "image/svg+xml":
            return f"<figure class='cx-figure'>{value[value.find('<svg'):]}</figure>"
        if mime in ("image/png", "image/jpeg"):
            return f"<figure class='cx-figure'><img alt='figure' src='data:{mime};base64,{value.strip()}'></figure>"
        return _markdown(value)
    return ""  # plain-text reprs look like code: left out


def _is_heading(part: str) -> bool:
    """A heading with at most a line of text: it must never end a printed page."""
    return bool(re.match(r"\s*<h[1-4]", part)) and not re.search(r"<(figure|table|svg|img)\b", part)


def keep_with_next(parts: list[str]) -> list[str]:
    """Wrap each heading with what follows it, up to and including its first figure or table.

    The print stylesheet keeps a ``cx-keep`` block on one page, so a heading never sits at the foot
    of a page with its chart on the next.

    >>> keep_with_next(["<h2>A</h2>", "<p>x</p>", "<figure>f</figure>", "<p>after</p>"])
    ["<section class='cx-keep'><h2>A</h2>\\n<p>x</p>\\n<figure>f</figure></section>", '<p>after</p>']
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
                break
        out.append("<section class='cx-keep'>" + "\n".join(block) + "</section>")
    return out


def notebook_to_html(nb, title: str, footer_text: str, page_size: str = "A4", orientation: str = "landscape",
                     version: str = "") -> str:
    """Render an executed notebook's narrative and outputs as one HTML page.

    Parameters
    ----------
    nb : nbformat.NotebookNode
    title : str
        Page title (escaped here).
    footer_text : str
        As-of date and run fingerprint, shown at the foot of the page and of every printed page.
    page_size, orientation : str
        For the print stylesheet (``@page``).
    """
    from jinja2 import Template

    parts = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & SKIP_TAGS:
            continue
        if cell.cell_type == "markdown":
            text = cell.source.strip()
            if text and not (text.startswith("<!--") and text.endswith("-->")):
                parts.append(_markdown(text))
        elif cell.cell_type == "code" and "remove-output" not in tags:
            parts.extend(p for p in (_output_html(o) for o in cell.get("outputs", [])) if p)
    parts = keep_with_next(parts)
    css_template = resources.files("cxkit").joinpath("templates/report.css").read_text(encoding="utf-8")
    css_footer = footer_text.replace("\\", "\\\\").replace('"', '\\"')
    css = Template(css_template).render(page_size=page_size, orientation=orientation, footer_text=css_footer)
    page = resources.files("cxkit").joinpath("templates/report.html.j2").read_text(encoding="utf-8")
    return Template(page).render(title=html.escape(title), css=css, body="\n".join(parts),
                                 footer_text=html.escape(footer_text), version=html.escape(version))
