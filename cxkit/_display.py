"""Small helpers so every result object shows well in notebooks and reports."""

from __future__ import annotations

import html

import pandas as pd

__all__ = ["html_block"]


def html_block(title: str, frame: pd.DataFrame, notes: list[str] | None = None, digits: int = 3) -> str:
    """A titled, escaped HTML table with notes under it (used by ``_repr_html_``)."""
    from cxkit.formats import number

    table = frame.to_html(index=False, float_format=lambda v: number(v, digits), na_rep="–",
                          classes="cx-table", border=0, escape=True)
    notes_html = "".join(f"<p class='cx-note'>{html.escape(n)}</p>" for n in notes or [])
    return f"<div class='cx-result'><h4>{html.escape(title)}</h4>{table}{notes_html}</div>"
