"""Churn reasons as competing risks: Aalen-Johansen cumulative incidence per segment.

When customers can leave for several reasons, ``1 - KM`` of one reason (treating
the others as censored) overstates that reason's share. The cumulative
incidence ``F_c(t) = sum_{t_k <= t} S(t_k-) d_ck / n_k`` uses the all-cause
survival ``S`` and sums to ``1 - S`` over reasons. Point estimates equal R's
``survfit(Surv(time, factor(cause)) ~ segment)``.

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

from cxkit._display import html_block
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
    causes_ : list of str
        Reasons, most frequent first.
    segments_ : list of str
    """

    def __init__(self, order=None, time_unit: str = "month", clock: str | None = None):
        self.order, self.time_unit, self.clock = order, time_unit, clock

    def fit(self, df: pd.DataFrame, duration_col: str, event_col: str, cause_col: str,
            segment_col: str | None = None, entry_col: str | None = None) -> CumulativeIncidence:
        """Fit from one row per customer; ``cause_col`` holds the reason for churned rows."""
        table = LifeTable.from_frame(df, duration_col, event_col, segment_col, entry_col)
        src = SqlSource(df, [c for c in (duration_col, event_col, cause_col, segment_col) if c], "churn reasons")
        seg = f"CAST({_q(segment_col)} AS VARCHAR)" if segment_col else "'all'"
        causes = src.df(
            f"SELECT {seg} AS segment, CAST({_q(duration_col)} AS DOUBLE) AS time, "
            f"coalesce(CAST({_q(cause_col)} AS VARCHAR), 'unknown') AS cause, count(*) AS events "
            f"FROM _src WHERE {_q(event_col)} = 1 GROUP BY ALL")
        self.causes_ = causes.groupby("cause")["events"].sum().sort_values(ascending=False).index.tolist()
        order = self.order or (_segment_order(df[segment_col]) if segment_col else ["all"])
        self.segments_ = [s for s in order if s in table.segments]
        parts = []
        for s in self.segments_:
            times, n, d, _ = table.grid([s])
            n, d = n[:, 0], d[:, 0]
            surv_before = np.concatenate([[1.0], np.cumprod(1 - d / n)])[:-1]
            mine = causes[causes["segment"] == s]
            for cause in self.causes_:
                dc = np.zeros(times.size)
                part = mine[mine["cause"] == cause]
                np.add.at(dc, np.searchsorted(times, part["time"].to_numpy()), part["events"].to_numpy())
                parts.append(pd.DataFrame({"segment": s, "time": times, "cause": cause, "at_risk": n,
                                           "incidence": np.cumsum(surv_before * dc / n)}))
        self.incidence_ = pd.concat(parts, ignore_index=True)
        return self

    def at(self, times) -> pd.DataFrame:
        """Cumulative incidence of each reason at chosen times (``segment, time, cause, incidence``)."""
        rows = []
        for (s, cause), part in self.incidence_.groupby(["segment", "cause"], sort=False):
            t = part["time"].to_numpy()
            values = part["incidence"].to_numpy()
            for time in np.atleast_1d(times):
                i = np.searchsorted(t, time, side="right") - 1
                value = np.nan if time > t[-1] else (0.0 if i < 0 else values[i])
                rows.append({"segment": s, "time": float(time), "cause": cause, "incidence": value})
        return pd.DataFrame(rows)

    @property
    def summary(self) -> pd.DataFrame:
        """Incidence of each reason by the end of follow-up, one row per segment (reasons as columns)."""
        last = self.incidence_.groupby(["segment", "cause"], sort=False)["incidence"].last().unstack("cause")
        return last.reindex(index=self.segments_, columns=self.causes_).reset_index()

    def _repr_html_(self) -> str:
        notes = [f"Share of customers lost to each reason by the end of follow-up ({self.time_unit}s)."]
        notes += [f"Clock: {self.clock}"] if self.clock else []
        return html_block("Churn reasons: cumulative incidence", self.summary, notes, digits=3)

    def plot(self, ax=None, **kwargs):
        """Stacked cumulative incidence (see :func:`cxkit.plots.plot_incidence`)."""
        from cxkit.plots import plot_incidence

        return plot_incidence(self, ax=ax, **kwargs)
