"""The report as a document: blocks, their HTML, and the one record a run writes (``report.json``).

A notebook builds the report through :mod:`cxkit.report` calls; each call shows its block in the
notebook (HTML) and carries the block itself in the same output, under the MIME type ``BLOCK_MIME``.
After the run, :func:`record_from_notebook` reads the blocks back in notebook order (markdown cells
become markdown blocks) into one versioned record; HTML, PDF and slides are renditions of that record
(:mod:`cxkit.render`), and a new rendition is a new renderer of the same record.

Blocks (plain dicts, JSON-ready):

- ``heading``: ``text``, ``subtitle``
- ``section``: ``title``, ``intro``, ``level``
- ``sentences``: ``role`` (``summary``, ``findings`` (a section's sentences), ``notes`` or ``unavailable``),
  ``items`` (``key``, ``text``)
- ``figure``: ``name``, ``svg`` (inline SVG), ``alt``, ``caption``, ``takeaway``; the PNG for slides travels
  beside it in the output bundle (``image/png``) and lands in ``figures/<name>.png``
- ``table``: ``columns``, ``rows`` (formatted strings), ``caption``, ``text`` (all left-aligned)
- ``markdown``: ``text``
- ``brief``: page one for a leader (:func:`cxkit.brief.brief`): ``headline``, ``tiles``, ``findings``, ``actions``
  (each an item with ``text`` and its traced ``facts``), ``nps_definition``

Examples
--------
>>> block_html({"type": "section", "title": "Churn & value", "intro": "Why <now>", "level": 2})
'<h2>Churn &amp; value</h2><p>Why &lt;now&gt;</p>'
"""

from __future__ import annotations

import base64
import html
import re

__all__ = ["BLOCK_MIME", "SKIP_TAGS", "RECORD_VERSION", "KEY_FIGURES", "EMAIL_PX", "block_html",
           "record_from_notebook", "summary_of", "brief_of",
           "figures_of", "notes_of", "scoped_svg", "with_files"]

BLOCK_MIME = "application/vnd.cxkit.block+json"
SKIP_TAGS = {"parameters", "injected-parameters", "remove-cell"}  # cells that never reach a reader
RECORD_VERSION = 1
#: the figures an email shows first, when the report has them (:mod:`cxkit.render.email` keeps the first four); the
#: kernel lays each of these out a second time at the width an email shows it (:data:`EMAIL_PX`)
KEY_FIGURES = ("churn-by-band", "ltv-by-band", "lead-ltv-gap", "value-at-stake", "customer-ledger", "cost-to-serve",
               "nps-trend", "churn-drivers", "churn-reasons", "ltv-gap")
EMAIL_PX = 552  # an email's figures are shown 552 px wide (a 600 px card less its padding)
_ESC = html.escape


def scoped_svg(svg: str, name: str) -> str:
    """Inline SVG with ids prefixed by the figure name, so several SVGs can share one page."""
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r'id="([^"]+)"', rf'id="{name}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{name}-\1)", svg)
    return re.sub(r'xlink:href="#([^"]+)"', rf'xlink:href="#{name}-\1"', svg)


def _table_html(block: dict) -> str:
    import pandas as pd

    frame = pd.DataFrame(block["rows"], columns=block["columns"])
    classes = "cx-table cx-text" if block.get("text") else "cx-table"
    body = frame.to_html(index=False, escape=True, border=0, classes=classes, na_rep=block.get("missing", "–"))
    cap = f"<p class='cx-caption'>{_ESC(block['caption'])}</p>" if block.get("caption") else ""
    return f"<div class='cx-table-wrap'>{body}{cap}</div>"


def block_html(block: dict) -> str:
    """One block as HTML, every text escaped; the same HTML in the notebook and in the rendered report."""
    kind = block["type"]
    if kind == "heading":
        sub = f"<p class='cx-subtitle'>{_ESC(block['subtitle'])}</p>" if block.get("subtitle") else ""
        return f"<h1 class='cx-title'>{_ESC(block['text'])}</h1>{sub}"
    if kind == "section":
        level = int(block.get("level", 2))
        intro = f"<p>{_ESC(block['intro'])}</p>" if block.get("intro") else ""
        return f"<h{level}>{_ESC(block['title'])}</h{level}>{intro}"
    if kind == "sentences":
        css = {"summary": "cx-summary", "notes": "cx-notes", "findings": "cx-findings"}.get(block["role"], "cx-notes")
        if block["role"] == "unavailable":
            return "".join(f"<p class='cx-unavailable'>{_ESC(i['text'])}</p>" for i in block["items"])
        items = "".join(f"<li>{_ESC(i['text'])}</li>" for i in block["items"])
        return f"<ul class='{css}'>{items}</ul>"
    if kind == "figure":
        cap = f"<figcaption>{_ESC(block['caption'])}</figcaption>" if block.get("caption") else ""
        return (f"<figure class='cx-figure' id='fig-{_ESC(block['name'])}'>"
                f"{scoped_svg(block['svg'], block['name'])}{cap}</figure>")
    if kind == "table":
        return _table_html(block)
    if kind == "brief":
        return _brief_html(block)
    if kind == "markdown":
        import mistune

        return mistune.create_markdown(escape=False, plugins=["table", "strikethrough"])(block["text"])
    raise ValueError(f"unknown block type {kind!r}")


def _brief_html(block: dict) -> str:
    """The leader brief: headline, tiles, findings, ranked actions (tables and plain blocks, no script)."""
    parts = [f"<section class='cx-brief'><p class='cx-headline'>{_ESC(block['headline']['text'])}</p>"]
    if block.get("tiles"):
        tiles = "".join(f"<div class='cx-tile'><div class='cx-tile-value'>{_ESC(t['text'])}</div>"
                        f"<div class='cx-tile-label'>{_ESC(t['label'])}</div>"
                        f"<div class='cx-tile-change'>{_ESC(t.get('change', ''))}</div></div>" for t in block["tiles"])
        parts.append(f"<div class='cx-tiles'>{tiles}</div>")
    if block.get("findings"):
        items = "".join(f"<li>{_ESC(f['text'])}</li>" for f in block["findings"])
        parts.append(f"<h3>What we see, and why it matters</h3><ol class='cx-brief-findings'>{items}</ol>")
    if block.get("actions"):
        rows = "".join(f"<tr><td class='cx-rank'>{a['rank']}</td><td><strong>{_ESC(a['text'])}</strong><br>"
                       f"<span class='cx-assume'>Assumption: {_ESC(a['assumption'])}.</span></td>"
                       f"<td>{_ESC(a['value'])}</td><td>{_ESC(a.get('owner') or 'to assign')}</td></tr>"
                       for a in block["actions"])
        parts.append("<h3>What to do</h3><table class='cx-actions'><thead><tr><th>#</th><th>Action</th>"
                     f"<th>Money involved</th><th>Owner</th></tr></thead><tbody>{rows}</tbody></table>")
    if block.get("nps_definition"):
        parts.append(f"<p class='cx-definition'>{_ESC(block['nps_definition'])}</p>")
    return "".join(parts) + "</section>"


def brief_of(record: dict) -> dict | None:
    """The leader brief of a record (its ``brief`` block), or None for a record without one."""
    return next((b for b in record["blocks"] if b["type"] == "brief"), None)


def record_from_notebook(nb, meta: dict | None = None) -> tuple[dict, dict]:
    """The report record of an executed notebook, and the figure files its blocks carried.

    Returns
    -------
    record : dict
        ``version``, ``meta`` (title, footer, page settings, ...), ``blocks`` in reading order; a
        figure block names its files (``figures/<name>.svg``, ``.png``) instead of holding them.
    files : dict
        Relative path -> bytes, for the renderer to write beside the record.
    """
    blocks, files = [], {}
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & SKIP_TAGS:
            continue
        if cell.cell_type == "markdown":
            text = cell.source.strip()
            if text and not (text.startswith("<!--") and text.endswith("-->")):
                blocks.append({"type": "markdown", "text": text})
            continue
        if cell.cell_type != "code" or "remove-output" in tags:
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {}) if output.get("output_type") in ("display_data", "execute_result") else {}
            if BLOCK_MIME not in data:
                continue  # logs, warnings and plain reprs never reach the report
            block = dict(data[BLOCK_MIME])
            if block["type"] == "figure":
                name = block["name"]
                files[f"figures/{name}.svg"] = block.pop("svg").encode("utf-8")
                block["svg_file"] = f"figures/{name}.svg"
                if "email_svg" in block:  # the figure laid out again at an email's width
                    files[f"figures/{name}.email.svg"] = block.pop("email_svg").encode("utf-8")
                    block["email_svg_file"] = f"figures/{name}.email.svg"
                png = data.get("image/png")
                if png:
                    files[f"figures/{name}.png"] = base64.b64decode("".join(png) if isinstance(png, list) else png)
                    block["png_file"] = f"figures/{name}.png"
            blocks.append(block)
    return {"version": RECORD_VERSION, "meta": dict(meta or {}), "blocks": blocks}, files


def with_files(record: dict, folder) -> dict:
    """The record with each figure's SVG read back from ``folder`` (for the HTML renderer)."""
    from pathlib import Path

    out = dict(record, blocks=[])
    for block in record["blocks"]:
        if block["type"] == "figure" and "svg" not in block:
            block = dict(block, svg=(Path(folder) / block["svg_file"]).read_text(encoding="utf-8"))
        out["blocks"].append(block)
    return out


def summary_of(record: dict) -> list[str]:
    """The executive summary's sentences (the first ``summary`` block)."""
    return [i["text"] for b in record["blocks"] if b["type"] == "sentences" and b["role"] == "summary"
            for i in b["items"]]


def notes_of(record: dict) -> list[str]:
    return [i["text"] for b in record["blocks"] if b["type"] == "sentences" and b["role"] == "notes"
            for i in b["items"]]


def figures_of(record: dict) -> list[dict]:
    return [b for b in record["blocks"] if b["type"] == "figure"]
