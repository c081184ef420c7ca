"""Touchpoint impact: NPS of answers after an experience against the others, and the NPS points lost to it.

For another score (CSAT, effort) the measure is the share of answers in its top band (satisfied, low effort),
in points, as the report's headline reads it.

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
from cxkit.drivers.frame import ANSWER_COUNT
from cxkit.errors import CxkitError
from cxkit.nps import nps_difference, nps_from_counts

__all__ = ["TouchpointImpact"]


def band_points(score: str) -> np.ndarray:
    """Points an answer of each band adds to the score's headline measure: NPS is promoters minus detractors,
    another score the share in its top band.

    >>> band_points("nps").tolist(), band_points("csat").tolist()
    ([-100.0, 0.0, 100.0], [0.0, 0.0, 100.0])
    """
    return np.array([-100.0, 0.0, 100.0]) if score == "nps" else np.array([0.0, 0.0, 100.0])


def _points_lost(cells: np.ndarray, points: np.ndarray | None = None) -> float:
    """``cells``: shares of (with: low, middle, top band; without: the same) summing to 1."""
    w = band_points("nps") if points is None else points
    with_, without = cells[:3], cells[3:]
    return float(w @ without / without.sum() - w @ (with_ + without))


def measure_from_counts(counts, points: np.ndarray) -> dict:
    """The headline measure of answers counted by band (low, middle, top), with its standard error.

    >>> round(measure_from_counts([10, 20, 70], band_points("csat"))["value"], 1)
    70.0
    """
    counts = np.asarray(counts, dtype=float)
    n = counts.sum()
    if n == 0:
        return {"value": np.nan, "se": np.nan, "n": 0}
    p = counts / n
    mean = float(points @ p)
    return {"value": mean, "se": float(np.sqrt(max(points ** 2 @ p - mean ** 2, 0.0) / n)), "n": int(n)}


def _band_of(values: np.ndarray, score: str) -> np.ndarray:
    from cxkit.scales import SCALES

    (_, low_hi, _), (_, mid_hi, _), _ = SCALES[score].cuts
    return np.select([values <= low_hi, values <= mid_hi], [0, 1], 2)


def _cells(frame, experiences, score: str = "nps") -> dict:
    """Experience -> answers (with it: low, middle, top band; without it: the same), from a DataFrame or, in one
    pass, a DuckDB relation; a frame of patterns (with :data:`~cxkit.drivers.frame.ANSWER_COUNT`) weighted by
    its counts."""
    counted = ANSWER_COUNT in frame.columns
    if isinstance(frame, pd.DataFrame):
        band = _band_of(frame[score].to_numpy(dtype=float), score)
        w = frame[ANSWER_COUNT].to_numpy(dtype=float) if counted else np.ones(len(frame))
        out = {}
        for exp in experiences:
            had = frame[exp].fillna(0).to_numpy(dtype=float) > 0
            out[exp] = np.array([w[had & (band == b)].sum() for b in range(3)]
                                + [w[~had & (band == b)].sum() for b in range(3)], dtype=float)
        return out
    from cxkit.scales import SCALES
    from cxkit.sql import ident

    bands = tuple(f"{ident(score)} BETWEEN {lo} AND {hi}" for lo, hi, _ in SCALES[score].cuts)
    n = f"sum({ident(ANSWER_COUNT)})" if counted else "count(*)"
    parts = [f"coalesce({n} FILTER (WHERE {'' if had else 'NOT '}coalesce({ident(e)} > 0, false) AND {b}), 0)"
             for e in experiences for had in (True, False) for b in bands]
    row = frame.aggregate(", ".join(parts)).fetchone()
    return {e: np.array(row[6 * i: 6 * i + 6], dtype=float) for i, e in enumerate(experiences)}


class TouchpointImpact:
    """The score with and without each experience, and the points lost to it (NPS, or a top-band share).

    Parameters
    ----------
    alpha : float
        1 - confidence level.
    min_answers : int
        Experiences with fewer answers after them are flagged ``small``.
    score : {"nps", "csat", "effort"}
        The score of the answers: NPS points, or points of the share in the top band (satisfied, low effort).

    Attributes
    ----------
    summary : DataFrame
        One row per experience, most points lost first: ``experience, answers_with, share_with,
        score_with, score_without, difference, difference_lower, difference_upper, points_lost, lower, upper,
        p_value, small`` (and ``nps_with, nps_without`` for NPS).
    """

    def __init__(self, alpha: float = 0.05, min_answers: int = 30, score: str = "nps"):
        if not 0 < alpha < 1:
            raise CxkitError("alpha must be between 0 and 1")
        if score not in ("nps", "csat", "effort"):
            raise CxkitError("score must be one of nps, csat, effort")
        self.alpha, self.min_answers, self.score = alpha, int(min_answers), score

    def fit(self, frame: pd.DataFrame, experiences: list[str]) -> TouchpointImpact:
        """Fit on a :func:`~cxkit.drivers.driver_frame` (the score's column and count columns, one row per answer;
        a DataFrame or its DuckDB relation), or on its patterns (``relation="patterns"``: one row per pattern of
        answers, weighted by :data:`~cxkit.drivers.frame.ANSWER_COUNT`)."""
        missing = [c for c in [self.score, *experiences] if c not in frame.columns]
        if missing:
            raise CxkitError(f"the driver frame has no column {', '.join(missing)}")
        z = stats.norm.ppf(1 - self.alpha / 2)
        cells = _cells(frame, experiences, self.score)
        w = band_points(self.score)
        rows = []
        for exp in experiences:
            counts = cells[exp]
            n = counts.sum()
            a, b, diff = self._compare(counts)
            lost, se = np.nan, np.nan
            if a["n"] and b["n"]:
                p = counts / n
                lost = _points_lost(p, w)
                grad = np.array([(_points_lost(p + h, w) - _points_lost(p - h, w)) / 2e-7
                                 for h in np.eye(6) * 1e-7])
                cov = (np.diag(p) - np.outer(p, p)) / n
                se = float(np.sqrt(max(grad @ cov @ grad, 0.0)))
            rows.append({"experience": exp, "answers_with": int(counts[:3].sum()), "share_with": counts[:3].sum() / n,
                         "score_with": a["value"], "score_without": b["value"],
                         "difference": diff.get("difference", np.nan),
                         "difference_lower": diff.get("lower", np.nan), "difference_upper": diff.get("upper", np.nan),
                         "points_lost": lost, "lower": lost - z * se, "upper": lost + z * se,
                         "p_value": diff.get("p_value", np.nan), "small": bool(counts[:3].sum() < self.min_answers)})
        self.summary = pd.DataFrame(rows).sort_values("points_lost", ascending=False, ignore_index=True)
        if self.score == "nps":  # the NPS names analysts and earlier notebooks read
            self.summary.insert(3, "nps_with", self.summary["score_with"])
            self.summary.insert(4, "nps_without", self.summary["score_without"])
        self.n_ = int(next(iter(cells.values())).sum()) if cells else 0
        return self

    def _compare(self, counts) -> tuple[dict, dict, dict]:
        """The measure of the answers with and without the experience (``value``, ``n``) and their difference."""
        if self.score == "nps":
            a, b = nps_from_counts(*counts[:3].astype(int)), nps_from_counts(*counts[3:].astype(int))
            diff = nps_difference(a, b, self.alpha) if a["n"] and b["n"] else {}
            return {**a, "value": a["nps"]}, {**b, "value": b["nps"]}, diff
        w = band_points(self.score)
        a, b = measure_from_counts(counts[:3], w), measure_from_counts(counts[3:], w)
        if not (a["n"] and b["n"]):
            return a, b, {}
        d, se = a["value"] - b["value"], float(np.hypot(a["se"], b["se"]))
        z = stats.norm.ppf(1 - self.alpha / 2)
        p = float(2 * stats.norm.sf(abs(d) / se)) if se > 0 else np.nan
        return a, b, {"difference": d, "lower": d - z * se, "upper": d + z * se, "p_value": p}

    def _repr_html_(self) -> str:
        if not hasattr(self, "n_"):
            return unfitted_html(repr(self), "fit(frame, experiences)")
        what = ("NPS points lost = NPS without those answers - NPS of all answers" if self.score == "nps" else
                f"points lost = top-band share of {self.score} without those answers - of all answers")
        return html_block("Touchpoint impact", self.summary, read_next={"summary": "points lost to each "
                          "experience, with its interval"}, notes=
                          [f"{self.n_:,} answers; {what}. Associations, not proof of cause."], digits=2)

    def __repr__(self) -> str:
        return "TouchpointImpact()" + (f" fitted on {self.n_:,} answers" if hasattr(self, "n_") else "  # unfitted")
