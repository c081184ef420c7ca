"""NPS over time: each period with its interval, the change from the previous one, and a noise verdict.

Control-chart logic on a baseline: the centre line is the pooled NPS of the
baseline periods (default: the first half of the series, at least 6 periods)
and each period's limits are ``centre +/- 3 sigma_i`` with
``sigma_i = 100 sqrt((p + d - (p - d)^2) / n_i)`` from the baseline shares, so
periods with fewer answers get wider limits. Two rules flag a real shift: one
point outside the 3-sigma limits (false alarm 0.27% per period under no
change), or ``run`` (default 8) consecutive periods on one side of the centre.
Everything else is labelled "within normal variation". Periods with fewer than
``min_n`` answers are suppressed, with the reason shown.

Examples
--------
>>> import pandas as pd, numpy as np
>>> rng = np.random.default_rng(0)
>>> days = pd.date_range("2025-01-01", "2026-06-30")
>>> r = pd.DataFrame({"response_date": rng.choice(days, 6000), "nps": rng.choice(11, 6000)})
>>> NPSTrend(period="M", min_n=30).fit(r).table["flag"].iloc[-1]
'within normal variation'
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from cxkit._display import html_block
from cxkit.contract import MIN_SEGMENT_SIZE
from cxkit.errors import CxkitError
from cxkit.periods import PERIODS
from cxkit.periods import label_of as _label

__all__ = ["NPSTrend"]

WITHIN = "within normal variation"


class NPSTrend:
    """NPS per period with sampling error, change tests and control-chart flags.

    Parameters
    ----------
    period : {"M", "Q"}
    min_n : int
        Periods with fewer answers are suppressed.
    alpha : float
        1 - confidence level of the intervals and the change test.
    baseline : int, optional
        Number of leading periods that set the centre line and limits (default: half, at least 6).
    run : int
        Consecutive periods on one side of the centre that count as a shift.
    sigma : float
        Width of the control limits in standard errors.

    Attributes
    ----------
    table : DataFrame
        ``period, n, nps, se, lower, upper, change, change_se, change_p, flag`` plus ``centre,
        lower_limit, upper_limit``, ``response_rate`` (when customers are given) and ``note``.
    verdict_ : str
        The flag of the latest reported period.
    false_alarm_rate_ : float
        Per-period false-alarm rate of the limits rule under no change (two-sided normal tail).
    """

    def __init__(self, period: str = "M", min_n: int = MIN_SEGMENT_SIZE, alpha: float = 0.05,
                 baseline: int | None = None, run: int = 8, sigma: float = 3.0):
        if period not in PERIODS:
            raise CxkitError("period must be 'M' (months) or 'Q' (quarters)")
        self.period, self.min_n, self.alpha, self.baseline = period, int(min_n), alpha, baseline
        self.run, self.sigma = int(run), float(sigma)
        self.false_alarm_rate_ = float(2 * stats.norm.sf(self.sigma))

    def fit(self, responses: pd.DataFrame, customers: pd.DataFrame | None = None, score_col: str = "nps",
            date_col: str = "response_date") -> NPSTrend:
        """Fit from answers (one row each); with ``customers``, also the response rate per period."""
        from cxkit.engine import connect

        con = connect()
        con.register("responses", responses[[date_col, score_col]].rename(
            columns={date_col: "response_date", score_col: "nps"}))
        if customers is not None:
            con.register("customers", customers)
        return self._fit(con, customers is not None)

    def fit_data(self, data, ledger=None) -> NPSTrend:
        """Fit from a :class:`~cxkit.load.CXData`; a fitted :class:`CustomerLedger` of the same period spares
        recounting the active customers behind the response rate."""
        if not data.has("responses"):
            raise CxkitError("an NPS trend needs dated survey answers (a responses table)")
        return self._fit(data.con, True, ledger)

    def _fit(self, con, has_customers: bool, ledger=None) -> NPSTrend:
        from cxkit.aggregate import nps_counts_sql

        self.fit_counts(con.execute(nps_counts_sql("responses", self.period)).df())
        if has_customers:
            self._response_rate(con, self.table, ledger)
        return self

    def fit_counts(self, counts: pd.DataFrame) -> NPSTrend:
        """Fit from counts per period (``period_start, n, promoters, detractors``), counted anywhere.

        See :func:`cxkit.aggregate.nps_counts_sql` and :class:`cxkit.warehouse.Warehouse`.
        """
        if counts.empty:
            raise CxkitError("no answers to trend")
        t = counts.astype({"n": "int64", "promoters": "int64", "detractors": "int64"})
        t = t.assign(period_start=pd.to_datetime(t["period_start"])).sort_values("period_start", ignore_index=True)
        t.insert(0, "period", [_label(pd.Timestamp(d).date(), self.period) for d in t["period_start"]])
        n = t["n"].to_numpy(float)
        p, d = t["promoters"] / n, t["detractors"] / n
        z = stats.norm.ppf(1 - self.alpha / 2)
        t["nps"] = 100 * (p - d)
        t["se"] = 100 * np.sqrt(np.maximum(p + d - (p - d) ** 2, 0) / n)
        t["lower"], t["upper"] = t["nps"] - z * t["se"], t["nps"] + z * t["se"]
        small = n < self.min_n
        t["note"] = np.where(small, [f"suppressed: {int(k)} answers, under {self.min_n}" for k in n], "")
        for col in ("nps", "se", "lower", "upper"):
            t.loc[small, col] = np.nan
        self._changes(t)
        self._control(t, small)
        shown = t[~small]
        self.verdict_ = shown["flag"].iloc[-1] if len(shown) else "too few answers"
        keep = ["period", "period_start", "n", "nps", "se", "lower", "upper", "change", "change_se", "change_p",
                "flag", "centre", "lower_limit", "upper_limit", "note"]
        self.table = t[keep].reset_index(drop=True)
        return self

    def _changes(self, t: pd.DataFrame) -> None:
        """Change from the previous reported period, with SE and two-sided p-value."""
        prev_nps = t["nps"].ffill().shift(1)
        prev_se = t["se"].ffill().shift(1)
        t["change"] = t["nps"] - prev_nps
        t["change_se"] = np.sqrt(t["se"] ** 2 + prev_se**2)
        t["change_p"] = 2 * stats.norm.sf(np.abs(t["change"] / t["change_se"]))

    def _control(self, t: pd.DataFrame, small: np.ndarray) -> None:
        ok = np.flatnonzero(~small)
        if ok.size == 0:  # every period under min_n: nothing to chart
            t["centre"] = t["lower_limit"] = t["upper_limit"] = np.nan
            t["flag"] = "suppressed"
            return
        k = self.baseline or max(6, len(ok) // 2)
        base = t.iloc[ok[:k]]
        n_b = base["n"].sum()
        p, d = base["promoters"].sum() / n_b, base["detractors"].sum() / n_b
        centre = 100 * (p - d)
        sigma_i = 100 * np.sqrt((p + d - (p - d) ** 2) / t["n"].to_numpy(float))
        t["centre"] = centre
        t["lower_limit"], t["upper_limit"] = centre - self.sigma * sigma_i, centre + self.sigma * sigma_i
        t.loc[small, ["lower_limit", "upper_limit"]] = np.nan
        flags = np.array([WITHIN] * len(t), dtype=object)
        side = np.sign(t["nps"].to_numpy() - centre)
        streak, last = 0, 0
        for i in range(len(t)):
            if small[i]:
                flags[i] = "suppressed"
                continue
            streak = streak + 1 if side[i] == last and side[i] != 0 else (1 if side[i] != 0 else 0)
            last = side[i]
            value = t["nps"].iloc[i]
            if value > t["upper_limit"].iloc[i]:
                flags[i] = "shift: above the control limits"
            elif value < t["lower_limit"].iloc[i]:
                flags[i] = "shift: below the control limits"
            elif streak >= self.run:
                flags[i] = f"shift: {streak} periods in a row {'above' if last > 0 else 'below'} the centre"
        t["flag"] = flags

    def _response_rate(self, con, t: pd.DataFrame, ledger=None) -> None:
        """Answers per customer active in the period (average of start and end counts)."""
        from cxkit.ledger import CustomerLedger

        if ledger is None or ledger.period != self.period:
            last_answer = con.execute("SELECT max(response_date) FROM responses").fetchall()[0][0]
            ledger = CustomerLedger(self.period).fit_connection(con, as_of=last_answer)
        counts = ledger.table.groupby("period", sort=False)[["start", "end"]].sum()  # all slices together
        active = counts.mean(axis=1)
        t["response_rate"] = t["n"].to_numpy() / active.reindex(t["period"]).to_numpy()
        rates = t["response_rate"].to_numpy()
        if len(rates) >= 6 and np.nanmean(rates[-3:]) < 0.75 * np.nanmean(rates[:-3]):
            t.loc[t.index[-1], "note"] = (t["note"].iloc[-1] + "; " if t["note"].iloc[-1] else "") + \
                "response rate falling: fewer customers answer, so NPS speaks for fewer of them"

    @property
    def summary(self) -> pd.DataFrame:
        return self.table[["period", "n", "nps", "lower", "upper", "change", "change_p", "flag", "note"]].tail(12)

    def _repr_html_(self) -> str:
        return html_block(f"NPS by {PERIODS[self.period]}", self.summary,
                          [f"Latest period: {self.verdict_}."], digits=1)

    def plot(self, ax=None, **kwargs):
        """NPS per period with its interval, centre line and control limits (see :func:`cxkit.plots.plot_trend`)."""
        from cxkit.drawing import draw

        return draw("plot_trend", self, ax=ax, **kwargs)
