"""Log-rank tests on a life table: across all segments and pairwise with Holm's adjustment."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from cxkit._display import html_block
from cxkit.formats import p_value

__all__ = ["StatisticalResult", "logrank_test", "pairwise_logrank"]


@dataclass(frozen=True)
class StatisticalResult:
    """A chi-square test result, shaped like lifelines' ``StatisticalResult``."""

    statistic: float
    dof: int
    p_value: float
    test_name: str = "log-rank test"

    @property
    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([{"test": self.test_name, "statistic": self.statistic, "dof": self.dof,
                              "p_value": self.p_value}])

    def _repr_html_(self) -> str:
        return html_block(self.test_name, self.summary, digits=4)

    def __str__(self) -> str:
        return f"{self.test_name}: chi2 = {self.statistic:.2f} on {self.dof} df, p = {format_p(self.p_value)}"


def format_p(p: float) -> str:
    """A p-value for people: ``< 0.001`` rather than ``1e-105`` (see :func:`cxkit.formats.p_value`)."""
    return p_value(p)


def holm(p_values) -> list[float]:
    """Holm's step-down adjustment of p-values (same as R's ``p.adjust(method='holm')``).

    Examples
    --------
    >>> [round(p, 3) for p in holm([0.01, 0.04, 0.03])]
    [0.03, 0.06, 0.06]
    >>> [round(p, 3) for p in holm([0.01, float("nan"), 0.03])]
    [0.02, nan, 0.03]
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.size, np.nan)
    ok = np.flatnonzero(~np.isnan(p))  # like R, missing p-values neither count nor change
    m = ok.size
    order = ok[np.argsort(p[ok], kind="stable")]
    out[order] = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    return out.tolist()


def logrank_test(table, segments=None) -> StatisticalResult:
    """Log-rank test that the segments share one survival curve.

    Uses the hypergeometric variance (as R's ``survdiff``) and the at-risk sets
    of the life table, so delayed entry is handled too.

    Parameters
    ----------
    table : LifeTable
    segments : list, optional
        Segments to compare (default: all).
    """
    segments = list(segments if segments is not None else table.segments)
    k = len(segments)
    if k < 2:
        return StatisticalResult(np.nan, 0, np.nan)
    _, n, d, _ = table.grid(segments)
    keep = d.sum(axis=1) > 0
    if not keep.any():  # no events in any compared segment: nothing to test
        return StatisticalResult(np.nan, k - 1, np.nan)
    n, d = n[keep], d[keep]
    n_tot, d_tot = n.sum(axis=1), d.sum(axis=1)
    expected = n * (d_tot / n_tot)[:, None]
    u = (d - expected).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(n_tot > 1, d_tot * (n_tot - d_tot) / (n_tot - 1), 0.0) / n_tot**2
    v = -np.einsum("t,ti,tj->ij", factor, n, n)
    v[np.diag_indices(k)] += (factor * n_tot) @ n
    live = np.flatnonzero(expected.sum(axis=0) > 0)  # as R's survdiff: a segment never at risk at an event
    if len(live) < 2:                                 # time is left out (its row of the variance is all 0)
        return StatisticalResult(np.nan, 0, np.nan)
    u, v, dof = u[live], v[np.ix_(live, live)], len(live) - 1
    stat = float(u[:-1] @ np.linalg.solve(v[:-1, :-1], u[:-1]))
    return StatisticalResult(stat, dof, float(stats.chi2.sf(stat, dof)))


def pairwise_logrank(table, segments=None) -> pd.DataFrame:
    """Log-rank test for every pair of segments, with Holm-adjusted p-values.

    Returns
    -------
    DataFrame
        ``segment_a, segment_b, statistic, p_value, p_adjusted``.
    """
    segments = list(segments if segments is not None else table.segments)
    rows = []
    for i, a in enumerate(segments):
        for b in segments[i + 1:]:
            r = logrank_test(table, [a, b])
            rows.append({"segment_a": a, "segment_b": b, "statistic": r.statistic, "p_value": r.p_value})
    out = pd.DataFrame(rows, columns=["segment_a", "segment_b", "statistic", "p_value"])
    out["p_adjusted"] = holm(out["p_value"].to_numpy()) if len(out) else []
    return out
