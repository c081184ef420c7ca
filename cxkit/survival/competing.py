"""Churn reasons as competing risks: Aalen-Johansen cumulative incidence per segment.

When customers can leave for several reasons, ``1 - KM`` of one reason (treating
the others as censored) overstates that reason's share. The cumulative
incidence ``F_c(t) = sum_{t_k <= t} S(t_k-) d_ck / n_k`` uses the all-cause
survival ``S`` and sums to ``1 - S`` over reasons. Point estimates equal R's
``survfit(Surv(time, factor(cause)) ~ segment)``.

Standard errors are the infinitesimal jackknife of the Aalen-Johansen estimator, as R's multi-state
``survfit`` computes them: each customer's influence on the state probabilities follows the product
integral ``p(t) = p(t-) (I + dA(t))``, so ``U_i(t) = U_i(t-) (I + dA(t)) + p(t-) dA_i(t)`` with
``dA_i`` the customer's influence on the hazards, and ``var p(t) = sum_i U_i(t)**2``. Customers who share
entry, exit and reason share an influence, so the sum runs over those patterns with their counts.
Limits are R's default ``conf.type="log"``: ``p exp(+-z se / p)``, capped at 1 (none where p is 0).

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"t": [1, 2, 3, 4], "e": [1, 1, 0, 1], "why": ["price", "service", None, "price"]})
>>> ci = CumulativeIncidence().fit(df, "t", "e", "why")
>>> ci.at([4]).set_index("cause")["incidence"].round(3).to_dict()
{'price': 0.75, 'service': 0.25}
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from cxkit._display import html_block, unfitted_html
from cxkit.survival.kaplan_meier import _segment_order
from cxkit.survival.lifetable import LifeTable, SqlSource, _q

__all__ = ["CumulativeIncidence"]


class CumulativeIncidence:
    """Aalen-Johansen cumulative incidence of each churn reason, per segment.

    Parameters
    ----------
    order : list, optional
        Segment order in outputs.
    time_unit : str
    clock : str, optional
        How time was measured, stated in notes.

    Attributes
    ----------
    incidence_ : DataFrame
        ``segment, time, cause, at_risk, incidence`` at every exit time of each segment.
    event_free_ : DataFrame
        ``segment, time, at_risk, survival, se, lower, upper``: the share still a customer (left for no
        reason yet; R's state ``(s0)``), with the same infinitesimal-jackknife standard error and log
        limits as the incidences.
    causes_ : list of str
        Reasons, most frequent first.
    segments_ : list of str
    """

    def __init__(self, order=None, time_unit: str = "month", clock: str | None = None, alpha: float = 0.05):
        self.order, self.time_unit, self.clock, self.alpha = order, time_unit, clock, alpha

    def fit(self, df: pd.DataFrame, duration_col: str, event_col: str, cause_col: str,
            segment_col: str | None = None, entry_col: str | None = None) -> CumulativeIncidence:
        """Fit from one row per customer; ``cause_col`` holds the reason for churned rows."""
        table = LifeTable.from_frame(df, duration_col, event_col, segment_col, entry_col, what="churn reasons")
        src = SqlSource(df, [c for c in (duration_col, event_col, cause_col, segment_col, entry_col) if c],
                        "churn reasons")
        seg = f"CAST({_q(segment_col)} AS VARCHAR)" if segment_col else "'all'"
        entry = f"CAST({_q(entry_col)} AS DOUBLE)" if entry_col else "-1.0"
        patterns = src.df(  # customers alike in entry, exit and reason share their influence
            f"SELECT {seg} AS segment, {entry} AS entry, CAST({_q(duration_col)} AS DOUBLE) AS time, "
            f"CASE WHEN CAST({_q(event_col)} AS DOUBLE) = 1 THEN "
            f"coalesce(CAST({_q(cause_col)} AS VARCHAR), 'unknown') END AS cause, count(*) AS n FROM _src GROUP BY ALL")
        # the exits per segment, time and reason: the patterns' events summed over entry (no second pass)
        exits = patterns[patterns["cause"].notna()]
        causes = (exits.groupby(["segment", "time", "cause"], as_index=False, dropna=False)["n"].sum()
                  .rename(columns={"n": "events"}))
        self.causes_ = causes.groupby("cause")["events"].sum().sort_values(ascending=False).index.tolist()
        order = self.order or (_segment_order(df[segment_col]) if segment_col else ["all"])
        self.segments_ = [s for s in order if s in table.segments]
        parts, free_parts = [], []
        z = stats.norm.ppf(1 - self.alpha / 2)
        for s in self.segments_:
            times, n, d, _ = table.grid([s])
            n, d = n[:, 0], d[:, 0]
            surv_before = np.concatenate([[1.0], np.cumprod(1 - d / n)])[:-1]
            mine = causes[causes["segment"] == s]
            dc = np.zeros((times.size, len(self.causes_)))
            for k, cause in enumerate(self.causes_):
                part = mine[mine["cause"] == cause]
                np.add.at(dc[:, k], np.searchsorted(times, part["time"].to_numpy()), part["events"].to_numpy())
            incidence = np.cumsum(surv_before[:, None] * dc / n[:, None], axis=0)
            se, se_free = _influence_se(times, n, d, dc, surv_before, patterns[patterns["segment"] == s],
                                        self.causes_)
            free = np.cumprod(1 - d / n)
            with np.errstate(divide="ignore", invalid="ignore"):
                free_parts.append(pd.DataFrame({
                    "segment": s, "time": times, "at_risk": n, "survival": free, "se": se_free,
                    "lower": np.where(free > 0, free * np.exp(-z * se_free / free), np.nan),
                    "upper": np.where(free > 0, np.minimum(1.0, free * np.exp(z * se_free / free)), np.nan)}))
            for k, cause in enumerate(self.causes_):
                p, e = incidence[:, k], se[:, k]
                with np.errstate(divide="ignore", invalid="ignore"):
                    lower = np.where(p > 0, p * np.exp(-z * e / p), np.nan)
                    upper = np.where(p > 0, np.minimum(1.0, p * np.exp(z * e / p)), np.nan)
                parts.append(pd.DataFrame({"segment": s, "time": times, "cause": cause, "at_risk": n,
                                           "incidence": p, "se": e, "lower": lower, "upper": upper}))
        self.incidence_ = pd.concat(parts, ignore_index=True)
        self.event_free_ = pd.concat(free_parts, ignore_index=True)
        return self

    def at(self, times) -> pd.DataFrame:
        """Cumulative incidence of each reason at chosen times, with its standard error and limits.

        Returns
        -------
        DataFrame
            ``segment, time, cause, incidence, se, lower, upper``; NaN past a segment's follow-up, and 0
            (limits included) before its first exit, as R's ``summary(fit, times=)``.
        """
        rows = []
        cols = ("incidence", "se", "lower", "upper")
        for (s, cause), part in self.incidence_.groupby(["segment", "cause"], sort=False):
            t = part["time"].to_numpy()
            values = {c: part[c].to_numpy() for c in cols}
            for time in np.atleast_1d(times):
                i = np.searchsorted(t, time, side="right") - 1
                if time > t[-1]:
                    shown = dict.fromkeys(cols, np.nan)
                elif i < 0:  # before the segment's first exit nobody has left: known to be 0, as R says
                    shown = dict.fromkeys(cols, 0.0)
                else:
                    shown = {c: values[c][i] for c in cols}
                rows.append({"segment": s, "time": float(time), "cause": cause, **shown})
        return pd.DataFrame(rows)

    @property
    def summary(self) -> pd.DataFrame:
        """Incidence of each reason by the end of follow-up, one row per segment (reasons as columns)."""
        last = self.incidence_.groupby(["segment", "cause"], sort=False)["incidence"].last().unstack("cause")
        return last.reindex(index=self.segments_, columns=self.causes_).reset_index()

    def _repr_html_(self) -> str:
        if not hasattr(self, "incidence_"):
            return unfitted_html(repr(self), "fit(frame, duration_col, event_col, cause_col, segment_col)")
        notes = [f"Share of customers lost to each reason by the end of follow-up ({self.time_unit}s)."]
        notes += [f"Clock: {self.clock}"] if self.clock else []
        return html_block("Churn reasons: cumulative incidence", self.summary, notes, digits=3, read_next={
            "at([6, 12])": "each reason's share at those times, with intervals", "incidence_": "the curves",
            "plot()": "the chart"})

    def __repr__(self) -> str:
        if not hasattr(self, "incidence_"):
            return f"CumulativeIncidence(alpha={self.alpha})  # unfitted"
        return (f"CumulativeIncidence(alpha={self.alpha}): {len(self.causes_)} churn reasons "
                f"({', '.join(map(str, self.causes_[:4]))}{', ...' if len(self.causes_) > 4 else ''}) "
                f"for {', '.join(map(str, self.segments_))}")

    def plot(self, ax=None, **kwargs):
        """Stacked cumulative incidence (see :func:`cxkit.plots.plot_incidence`)."""
        from cxkit.drawing import draw

        return draw("plot_incidence", self, ax=ax, **kwargs)


def _influence_se(times, at_risk, deaths, by_cause, surv_before, patterns, causes) -> np.ndarray:
    """Infinitesimal-jackknife standard error of each reason's cumulative incidence at each time.

    ``patterns``: ``entry`` (-1 without delayed entry), ``time``, ``cause`` (None when censored) and
    ``n``, the customers sharing them. Runs over the grid once, with every pattern's influence at once.
    Returns the standard errors of the incidences (times x reasons) and of the event-free share (times).
    """
    k = len(causes)
    entry = patterns["entry"].to_numpy(dtype=float)
    exit_ = patterns["time"].to_numpy(dtype=float)
    weight = patterns["n"].to_numpy(dtype=float)
    code = np.array([causes.index(c) if isinstance(c, str) and c in causes else -1 for c in patterns["cause"]])
    exit_at = np.searchsorted(times, exit_)
    u_surv = np.zeros(len(patterns))          # influence on S(t), the share still a customer
    u_inc = np.zeros((len(patterns), k))      # influence on each reason's incidence
    out = np.zeros((times.size, k))
    out_free = np.zeros(times.size)
    for j, t in enumerate(times):
        y, hazard, hazards = at_risk[j], deaths[j] / at_risk[j], by_cause[j] / at_risk[j]
        in_risk = ((entry < t) & (exit_ >= t)).astype(float)
        leaves = exit_at == j
        d_hazard = (np.where(leaves & (code >= 0), 1.0, 0.0) - in_risk * hazard) / y
        d_hazards = -in_risk[:, None] * hazards[None, :] / y
        rows = np.flatnonzero(leaves & (code >= 0))
        d_hazards[rows, code[rows]] += 1.0 / y
        u_inc += u_surv[:, None] * hazards[None, :] + surv_before[j] * d_hazards
        u_surv = u_surv * (1 - hazard) - surv_before[j] * d_hazard
        out[j] = np.sqrt(weight @ u_inc ** 2)
        out_free[j] = np.sqrt(weight @ u_surv ** 2)
    return out, out_free
