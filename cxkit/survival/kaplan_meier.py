"""Kaplan-Meier by segment: curves with log-log intervals, medians, RMST, log-rank tests.

Numbers follow R's ``survival`` package: ``survfit(conf.type="log-log")``
(Greenwood variance), ``print(fit, rmean=tau)`` for the restricted mean and its
standard error (the estimator's sampling variance, not the variance of the
truncated lifetime that lifelines reports), and R's median rule (a curve flat
at exactly 0.5 gives the midpoint to its next drop). Everything is computed
from a :class:`~cxkit.survival.lifetable.LifeTable`, so the cost does not grow
with the number of customers once DuckDB has aggregated them.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6], "e": [1, 1, 0, 1, 1, 0], "g": list("aabbab")})
>>> s = SegmentSurvival().fit(df, duration_col="t", event_col="e", segment_col="g")
>>> s.median_["median"].tolist()  # b sits at 0.5 from t = 4 to its end: R's rule gives 4
[2.0, 4.0]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from cxkit._display import html_block, unfitted_html
from cxkit.survival.lifetable import LifeTable
from cxkit.survival.logrank import format_p, logrank_test, pairwise_logrank

__all__ = ["SegmentSurvival"]

_TOL = np.sqrt(np.finfo(float).eps)  # R's tolerance in quantile.survfit


def _segment_order(values: pd.Series, order=None) -> list[str]:
    if order is not None:
        return [str(v) for v in order]
    if isinstance(values.dtype, pd.CategoricalDtype):
        present = set(values.dropna().astype(str))
        return [str(c) for c in values.cat.categories if str(c) in present]
    return sorted(values.dropna().astype(str).unique())


class SegmentSurvival:
    """Kaplan-Meier curves per segment, with the tests and summaries leaders ask about.

    Parameters
    ----------
    alpha : float
        1 - confidence level of every interval (default 0.05 for 95%).
    conf_type : {"log-log", "log", "plain"}
        Pointwise interval for the curve, as R's ``survfit(conf.type=...)``.
    order : list, optional
        Segment order in outputs (default: category order, else sorted).
    time_unit : str
        Unit of the durations, used in labels ("month").
    clock : str, optional
        How time was measured, stated in summaries (see :mod:`cxkit.survival.clock`).

    Attributes
    ----------
    survival_ : DataFrame
        ``segment, time, at_risk, events, censored, survival, std_err, lower, upper`` at every exit time.
    median_ : DataFrame
        ``segment, median, lower, upper`` (NaN where the curve never reaches 0.5).
    logrank_ : StatisticalResult
        Log-rank test across all segments.
    pairwise_ : DataFrame
        ``segment_a, segment_b, statistic, p_value, p_adjusted`` (Holm).
    life_table_ : LifeTable
    segments_ : list of str
    """

    def __init__(self, alpha: float = 0.05, conf_type: str = "log-log", order=None,
                 time_unit: str = "month", clock: str | None = None):
        if conf_type not in ("log-log", "log", "plain"):
            raise ValueError("conf_type must be 'log-log', 'log' or 'plain'")
        self.alpha, self.conf_type, self.order = alpha, conf_type, order
        self.time_unit, self.clock = time_unit, clock

    # ---------------------------------------------------------------- fitting
    def fit(self, df, duration_col: str, event_col: str, segment_col: str | None = None,
            entry_col: str | None = None, weights_col: str | None = None) -> SegmentSurvival:
        """Fit from one row per subject (a DataFrame or a DuckDB relation).

        Parameters
        ----------
        df : DataFrame or duckdb.DuckDBPyRelation
        duration_col, event_col : str
            Time at exit and event flag (1 or True churned, 0 or False still active / censored; anything
            else is refused).
        segment_col : str, optional
            Segment of each row (e.g. the NPS band); default one segment.
        entry_col : str, optional
            Time at entry for delayed entry (left truncation).
        weights_col : str, optional
            Whole-number frequency of each row, for data already collapsed.
        """
        table = LifeTable.from_frame(df, duration_col, event_col, segment_col, entry_col, weights_col)
        order = self.order
        if order is None and segment_col is not None and isinstance(df, pd.DataFrame):
            order = _segment_order(df[segment_col])
        return self.fit_life_table(table, order=order)

    def fit_life_table(self, table: LifeTable, order=None) -> SegmentSurvival:
        """Fit from an aggregated :class:`LifeTable` (the path used at scale)."""
        present = table.segments
        order = [s for s in (order or self.order or sorted(present)) if s in present]
        self.life_table_ = table
        self.segments_ = order
        self.z_ = float(stats.norm.ppf(1 - self.alpha / 2))
        self.survival_ = pd.concat([self._curve(s) for s in order], ignore_index=True)
        self.median_ = pd.DataFrame([self._median(s) for s in order])
        self.logrank_ = logrank_test(table, order)
        self.pairwise_ = pairwise_logrank(table, order)
        return self

    def _curve(self, segment) -> pd.DataFrame:
        times, n, d, c = self.life_table_.grid([segment])
        n, d, c = n[:, 0], d[:, 0], c[:, 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            surv = np.cumprod(1 - d / n)
            greenwood = np.cumsum(np.where(n > d, d / (n * (n - d)), np.inf * (d > 0)))
        std_err = np.sqrt(greenwood)
        lower, upper = self._interval(surv, std_err)
        return pd.DataFrame({"segment": segment, "time": times, "at_risk": n, "events": d, "censored": c,
                             "survival": surv, "std_err": std_err, "lower": lower, "upper": upper})

    def _interval(self, surv, std_err):
        z = self.z_
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.conf_type == "log-log":
                log_s = np.log(surv)
                width = z * std_err / log_s
                lower, upper = surv ** np.exp(-width), surv ** np.exp(width)
            elif self.conf_type == "log":
                lower, upper = surv * np.exp(-z * std_err), np.minimum(surv * np.exp(z * std_err), 1.0)
            else:
                lower, upper = surv - z * std_err * surv, surv + z * std_err * surv
        defined = (surv > 0) & (surv < 1) & np.isfinite(std_err)
        lower = np.where(defined, np.clip(lower, 0, 1), np.where(surv >= 1, 1.0, np.nan))
        upper = np.where(defined, np.clip(upper, 0, 1), np.where(surv >= 1, 1.0, np.nan))
        return lower, upper

    # ----------------------------------------------------------------- results
    def _seg(self, segment) -> pd.DataFrame:
        return self.survival_[self.survival_["segment"] == segment]

    def _median(self, segment) -> dict:
        curve = self._seg(segment)
        t = curve["time"].to_numpy()
        return {"segment": segment, "median": _quantile_time(t, curve["survival"].to_numpy()),
                "lower": _quantile_time(t, curve["lower"].to_numpy()),
                "upper": _quantile_time(t, curve["upper"].to_numpy())}

    def _at_risk(self, curve: pd.DataFrame, segment, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Two counts at each of ``times``: R's (the risk set of the first exit time at or after t, 0 past
        the last, as ``summary(survfit, times=)`` reports it) and those with entry < t <= exit."""
        t, n = curve["time"].to_numpy(), curve["at_risk"].to_numpy()
        nxt = np.searchsorted(t, times, side="left")
        r_count = np.concatenate([n, [0.0]])[nxt]
        _, at_time, _, _ = self.life_table_.grid([segment], times=times)
        return r_count, at_time[:, 0]

    def survival_at(self, times) -> pd.DataFrame:
        """Survival with its standard error, interval and the number at risk at chosen times.

        Returns
        -------
        DataFrame
            ``segment, time, at_risk, at_risk_at_time, survival, se, lower, upper``, as R's
            ``summary(survfit, times=)``: ``se`` is the standard error of S(t) (Greenwood's, 0 before the
            first event), the limits those of the curve. ``at_risk`` is R's ``n.risk``, the risk set of the
            first exit time at or after t, so under delayed entry it counts those who enter between t and
            that exit; ``at_risk_at_time`` counts those with entry < t <= exit (the two agree without
            delayed entry). Past a segment's last exit time survival, se and limits are NaN (R drops the
            row) and ``at_risk`` is 0.
        """
        times = np.atleast_1d(np.asarray(times, dtype=float))
        rows = []
        for s in self.segments_:
            curve = self._seg(s)
            t = curve["time"].to_numpy()
            at_risk, at_time = self._at_risk(curve, s, times)
            idx = np.searchsorted(t, times, side="right") - 1
            for k, time in enumerate(times):
                if time > t[-1]:
                    surv = se = low = up = np.nan
                elif idx[k] < 0:
                    surv, se, low, up = 1.0, 0.0, 1.0, 1.0
                else:
                    row = curve.iloc[idx[k]]
                    surv, low, up = row["survival"], row["lower"], row["upper"]
                    se = row["survival"] * row["std_err"] if row["survival"] > 0 else 0.0
                rows.append({"segment": s, "time": time, "at_risk": at_risk[k], "at_risk_at_time": at_time[k],
                             "survival": surv, "se": se, "lower": low, "upper": up})
        return pd.DataFrame(rows)

    def rmst(self, tau: float) -> pd.DataFrame:
        """Restricted mean survival time up to ``tau`` with the estimator's standard error.

        The variance is ``sum_k A_k**2 d_k / (n_k (n_k - d_k))`` over event times up to
        ``tau``, with ``A_k`` the area under the curve from ``t_k`` to ``tau`` (as R's
        ``print(survfit, rmean=tau)``).

        Returns
        -------
        DataFrame
            ``segment, tau, rmst, se, lower, upper``.
        """
        rows = []
        for s in self.segments_:
            value, se = _rmst(self._seg(s), tau)
            rows.append({"segment": s, "tau": float(tau), "rmst": value, "se": se,
                         "lower": value - self.z_ * se, "upper": value + self.z_ * se})
        return pd.DataFrame(rows)

    def rmst_difference(self, tau: float, pairs=None) -> pd.DataFrame:
        """Differences in RMST between segments (``a - b``) with standard error, CI and p-value.

        Parameters
        ----------
        tau : float
        pairs : list of (a, b), optional
            Default: every segment against every later one in order.
        """
        table = self.rmst(tau).set_index("segment")
        if pairs is None:
            pairs = [(a, b) for i, a in enumerate(self.segments_) for b in self.segments_[i + 1:]]
        rows = []
        for a, b in pairs:
            diff = table.loc[a, "rmst"] - table.loc[b, "rmst"]
            se = float(np.hypot(table.loc[a, "se"], table.loc[b, "se"]))
            p = float(2 * stats.norm.sf(abs(diff) / se)) if se > 0 else np.nan
            rows.append({"segment_a": a, "segment_b": b, "tau": float(tau), "difference": diff, "se": se,
                         "lower": diff - self.z_ * se, "upper": diff + self.z_ * se, "p_value": p})
        return pd.DataFrame(rows)

    def at_risk_table(self, times) -> pd.DataFrame:
        """Number at risk, and cumulative events and censorings, per segment at ``times``.

        Returns
        -------
        DataFrame
            ``segment, time, at_risk, at_risk_at_time, events, censored`` (events and censored up to and
            including time); the two at-risk counts as in :meth:`survival_at`.
        """
        times = np.atleast_1d(np.asarray(times, dtype=float))
        rows = []
        for s in self.segments_:
            curve = self._seg(s)
            at_risk, at_time = self._at_risk(curve, s, times)
            for k, time in enumerate(times):
                upto = curve["time"] <= time
                rows.append({"segment": s, "time": time, "at_risk": at_risk[k], "at_risk_at_time": at_time[k],
                             "events": curve.loc[upto, "events"].sum(),
                             "censored": curve.loc[upto, "censored"].sum()})
        return pd.DataFrame(rows)

    @property
    def summary(self) -> pd.DataFrame:
        """One row per segment: customers, churn events, median with CI."""
        rows = []
        for s, med in zip(self.segments_, self.median_.itertuples(), strict=True):
            curve = self._seg(s)
            rows.append({"segment": s, "at_start": float(curve["at_risk"].max()),
                         "events": curve["events"].sum(), "censored": curve["censored"].sum(),
                         "median": med.median, "median_lower": med.lower, "median_upper": med.upper})
        return pd.DataFrame(rows)

    def _notes(self) -> list[str]:
        notes = [f"Time in {self.time_unit}s; {int((1 - self.alpha) * 100)}% {self.conf_type} intervals."]
        if self.clock:
            notes.append(f"Clock: {self.clock}")
        notes.append(f"Log-rank across segments: {self.logrank_}")
        return notes

    def _repr_html_(self) -> str:
        if not hasattr(self, "segments_"):
            return unfitted_html(repr(self), "fit(frame, duration_col, event_col, segment_col)")
        return html_block("Kaplan-Meier by segment", self.summary, self._notes(), digits=2, read_next={
            "survival_at([6, 12])": "the share still a customer at those times, with intervals",
            "median_": "median time to churn", "rmst_difference(tau)": "months gained between segments",
            "pairwise_": "log-rank test of each pair", "survival_": "the curves",
            "at_risk_table(times)": "customers still at risk", "plot()": "the chart"})

    def plot(self, ax=None, **kwargs):
        """Kaplan-Meier curves (see :func:`cxkit.plots.plot_survival`)."""
        from cxkit.drawing import draw

        return draw("plot_survival", self, ax=ax, **kwargs)

    def __repr__(self) -> str:
        if not hasattr(self, "segments_"):
            return f"SegmentSurvival(alpha={self.alpha}, conf_type={self.conf_type!r})  # unfitted"
        return (f"SegmentSurvival(alpha={self.alpha}, conf_type={self.conf_type!r}): survival curves of "
                f"{', '.join(map(str, self.segments_))}; log-rank p {format_p(self.logrank_.p_value)}")


def _quantile_time(times: np.ndarray, surv: np.ndarray, p: float = 0.5) -> float:
    """First time the curve is <= p; R's midpoint rule when it sits exactly at p."""
    ok = ~np.isnan(surv)
    times, surv = times[ok], surv[ok]
    hit = np.flatnonzero(surv <= p + _TOL)
    if hit.size == 0:
        return np.nan
    i = hit[0]
    if abs(surv[i] - p) < _TOL:
        lower = np.flatnonzero(surv < surv[i] - _TOL)
        if lower.size:
            return float((times[i] + times[lower[0]]) / 2)
    return float(times[i])


def _rmst(curve: pd.DataFrame, tau: float) -> tuple[float, float]:
    t = curve["time"].to_numpy()
    s = curve["survival"].to_numpy()
    n, d = curve["at_risk"].to_numpy(), curve["events"].to_numpy()
    keep = t <= tau
    t, s, n, d = t[keep], s[keep], n[keep], d[keep]
    knots = np.concatenate([[0.0], t, [tau]])
    level = np.concatenate([[1.0], s])
    pieces = level * np.diff(knots)
    area = float(pieces.sum())
    after = np.cumsum(pieces[::-1])[::-1][1:]  # area from each t_k to tau
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where((n - d) > 0, d / (n * (n - d)), 0.0)
    return area, float(np.sqrt(np.sum(after**2 * h)))
