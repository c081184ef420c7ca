"""Touchpoint impact: NPS of answers after an experience against the others, and the NPS points lost to it.

For an experience X (at least one contact of a kind in the window before the
answer), ``with`` and ``without`` are the NPS of the two groups of answers and
``points_lost`` = NPS(answers without X) - NPS(all answers) = share_X x
(NPS_without - NPS_with): how much higher the NPS would read if the answers
after X scored like the rest. Intervals come from the multinomial covariance of
the six counts (X or not x detractor, passive, promoter) by the delta method.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"nps": [0, 9, 10, 7, 3, 10], "complaint_contacts": [1, 0, 0, 0, 2, 0]})
>>> t = TouchpointImpact().fit(frame, ["complaint_contacts"])
>>> round(float(t.summary.loc[0, "points_lost"]), 1)   # NPS +75 without the two answers, +17 with them
58.3
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from cxkit._display import html_block, unfitted_html
from cxkit.errors import CxkitError
from cxkit.nps import nps_difference, nps_from_counts

__all__ = ["TouchpointImpact"]


def _points_lost(cells: np.ndarray) -> float:
    """``cells``: shares of (with: D, Pa, Pr, without: D, Pa, Pr) summing to 1."""
    with_, without = cells[:3], cells[3:]
    nps_all = 100 * (with_[2] + without[2] - with_[0] - without[0])
    nps_without = 100 * (without[2] - without[0]) / without.sum()
    return nps_without - nps_all


def _cells(frame, experiences) -> dict:
    """Experience -> answers (with it: detractors, passives, promoters; without it: the same), from a DataFrame or,
    in one pass, a DuckDB relation."""
    if isinstance(frame, pd.DataFrame):
        score = frame["nps"].to_numpy(dtype=float)
        band = np.select([score <= 6, score <= 8], [0, 1], 2)
        out = {}
        for exp in experiences:
            had = frame[exp].fillna(0).to_numpy(dtype=float) > 0
            out[exp] = np.array([np.sum(had & (band == b)) for b in range(3)]
                                + [np.sum(~had & (band == b)) for b in range(3)], dtype=float)
        return out
    from cxkit.sql import ident

    bands = ("nps <= 6", "nps BETWEEN 7 AND 8", "nps >= 9")
    parts = [f"count(*) FILTER (WHERE {'' if had else 'NOT '}coalesce({ident(e)} > 0, false) AND {b})"
             for e in experiences for had in (True, False) for b in bands]
    row = frame.aggregate(", ".join(parts)).fetchone()
    return {e: np.array(row[6 * i: 6 * i + 6], dtype=float) for i, e in enumerate(experiences)}


class TouchpointImpact:
    """NPS with and without each experience, and the NPS points lost to it.

    Parameters
    ----------
    alpha : float
        1 - confidence level.
    min_answers : int
        Experiences with fewer answers after them are flagged ``small``.

    Attributes
    ----------
    summary : DataFrame
        One row per experience, most points lost first: ``experience, answers_with, share_with,
        nps_with, nps_without, difference, difference_lower, difference_upper, points_lost, lower, upper,
        p_value, small``.
    """

    def __init__(self, alpha: float = 0.05, min_answers: int = 30):
        if not 0 < alpha < 1:
            raise CxkitError("alpha must be between 0 and 1")
        self.alpha, self.min_answers = alpha, int(min_answers)

    def fit(self, frame: pd.DataFrame, experiences: list[str]) -> TouchpointImpact:
        """Fit on a :func:`~cxkit.drivers.driver_frame` (``nps`` and count columns, one row per answer; a DataFrame
        or its DuckDB relation)."""
        missing = [c for c in ["nps", *experiences] if c not in frame.columns]
        if missing:
            raise CxkitError(f"the driver frame has no column {', '.join(missing)}")
        z = stats.norm.ppf(1 - self.alpha / 2)
        cells = _cells(frame, experiences)
        rows = []
        for exp in experiences:
            counts = cells[exp]
            n = counts.sum()
            a, b = nps_from_counts(*counts[:3].astype(int)), nps_from_counts(*counts[3:].astype(int))
            diff = nps_difference(a, b, self.alpha) if a["n"] and b["n"] else {}
            lost, se = np.nan, np.nan
            if a["n"] and b["n"]:
                p = counts / n
                lost = _points_lost(p)
                grad = np.array([(_points_lost(p + h) - _points_lost(p - h)) / 2e-7
                                 for h in np.eye(6) * 1e-7])
                cov = (np.diag(p) - np.outer(p, p)) / n
                se = float(np.sqrt(max(grad @ cov @ grad, 0.0)))
            rows.append({"experience": exp, "answers_with": int(counts[:3].sum()), "share_with": counts[:3].sum() / n,
                         "nps_with": a["nps"], "nps_without": b["nps"],
                         "difference": diff.get("difference", np.nan),
                         "difference_lower": diff.get("lower", np.nan), "difference_upper": diff.get("upper", np.nan),
                         "points_lost": lost, "lower": lost - z * se, "upper": lost + z * se,
                         "p_value": diff.get("p_value", np.nan), "small": bool(counts[:3].sum() < self.min_answers)})
        self.summary = pd.DataFrame(rows).sort_values("points_lost", ascending=False, ignore_index=True)
        self.n_ = int(next(iter(cells.values())).sum()) if cells else 0
        return self

    def _repr_html_(self) -> str:
        if not hasattr(self, "n_"):
            return unfitted_html(repr(self), "fit(frame, experiences)")
        return html_block("Touchpoint impact", self.summary, read_next={"summary": "NPS points lost to each "
                          "experience, with its interval"}, notes=
                          [f"{self.n_:,} answers; NPS points lost = NPS without those answers - NPS of all answers. "
                           "Associations, not proof of cause."], digits=2)

    def __repr__(self) -> str:
        return "TouchpointImpact()" + (f" fitted on {self.n_:,} answers" if hasattr(self, "n_") else "  # unfitted")
