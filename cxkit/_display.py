"""Small helpers so every result object shows well in notebooks and reports."""

from __future__ import annotations

import html

import pandas as pd

__all__ = ["html_block", "holm"]


def html_block(title: str, frame: pd.DataFrame, notes: list[str] | None = None, digits: int = 3) -> str:
    """A titled, escaped HTML table with notes under it (used by ``_repr_html_``)."""
    table = frame.to_html(index=False, float_format=lambda v: f"{v:,.{digits}f}", na_rep="–",
                          classes="cx-table", border=0, escape=True)
    notes_html = "".join(f"<p class='cx-note'>{html.escape(n)}</p>" for n in notes or [])
    return f"<div class='cx-result'><h4>{html.escape(title)}</h4>{table}{notes_html}</div>"


def holm(p_values) -> list[float]:
    """Holm's step-down adjustment of p-values (same as R's ``p.adjust(method='holm')``).

    Examples
    --------
    >>> [round(p, 3) for p in holm([0.01, 0.04, 0.03])]
    [0.03, 0.06, 0.06]
    >>> [round(p, 3) for p in holm([0.01, float("nan"), 0.03])]
    [0.02, nan, 0.03]
    """
    import numpy as np

    p = np.asarray(p_values, dtype=float)
    out = np.full(p.size, np.nan)
    ok = np.flatnonzero(~np.isnan(p))  # like R, missing p-values neither count nor change
    m = ok.size
    order = ok[np.argsort(p[ok], kind="stable")]
    out[order] = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    return out.tolist()
