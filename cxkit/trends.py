"""NPS over time: each period with its interval, the change from the previous one, and a noise verdict.

Control-chart logic on a baseline: the centre line is the pooled NPS of the
baseline periods (default: the first half of the series, at least 6 periods)
and each period's limits are ``centre +/- 3 sigma_i`` with
``sigma_i = 100 sqrt((p + d - (p - d)^2) / n_i)`` from the baseline shares, so
periods with fewer answers get wider limits. Two rules flag a real shift: one
point outside the 3-sigma limits (false alarm 0.27% per period under no
change), or ``run`` (default 8) consecutive periods on one side of the centre.
A third rule reads each month with the two before it (monthly series only):
their mean beyond ``centre +/- 3 sigma`` of that mean (false alarm 0.27%), which
finds a sustained move over a quarter that no one month's answers can show.
Everything else is labelled "within normal variation". Periods with fewer than
``min_n`` answers are suppressed, with the reason shown.

Who answers changes too: when detractors leave sooner, the NPS of those still
answering rises though no one's experience changed. Fitted from the data
(:meth:`NPSTrend.fit_data`), each period's NPS is also given at one fixed mix of
tenure and segments (:func:`cxkit.mix.standardise`), each change is split into
the same mix answering differently and a different mix answering, and the
rules above read the adjusted series: a "real shift" is a change in what the
same kind of customers say, not in who is left to say it.

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

from cxkit._display import html_block, unfitted_html
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
        lower_limit, upper_limit``, ``response_rate`` (when customers are given) and ``note``; and
        ``adjusted, adjusted_se, adjusted_lower, adjusted_upper`` (NPS at the pooled mix), ``within_change``
        (change of the adjusted NPS) and ``mix_change`` (the rest of the change: who answered). Without a mix
        to hold (counts only), ``adjusted`` is the NPS and the change is all within. The control chart
        (``centre``, limits, ``flag``) reads the adjusted series; ``raw_flag`` and ``raw_centre`` are the same
        rules on the raw NPS (a raw shift that the adjusted series does not show is who answers).
    overdispersion_ : float
        How much wider than sampling error the adjusted series' limits are (Laney's sigma_z from the moving
        ranges of its z-scores, at least 1): the base's mix wanders from month to month beyond sampling.
    adjusted_for_ : list of str
        What the adjusted series holds fixed (``tenure``, segment columns); empty when it is the raw NPS.
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
        return self._fit(data.con, True, ledger, data=data)

    def _fit(self, con, has_customers: bool, ledger=None, data=None) -> NPSTrend:
        from cxkit.aggregate import nps_counts_sql

        cells, adjust = (self._mix_cells(data) if data is not None else (None, []))
        self.fit_counts(con.execute(nps_counts_sql("responses", self.period)).df(), cells=cells, adjust=adjust)
        if has_customers:
            self._response_rate(con, self.table, ledger)
        return self

    def _mix_cells(self, data):
        """Answers per period, tenure band and segment (the cells of :func:`cxkit.mix.standardise`), counted in
        DuckDB; segment columns with one level (an audience's own) or more than a dozen are left out."""
        from cxkit.frames import answer_spells
        from cxkit.mix import tenure_band_sql
        from cxkit.scales import band_counts_sql
        from cxkit.sql import ident

        if data.mode != "dated" or not data.has("customers", "signup_date"):
            return None, []
        segments = list(data.segments)
        if segments:
            levels = data.sql("SELECT " + ", ".join(f"count(DISTINCT {ident(c)})" for c in segments)
                              + " FROM customers").fetchone()
            segments = [c for c, k in zip(segments, levels, strict=True) if 2 <= k <= 12]
        table = answer_spells(data, "nps")  # every NPS answer already joined to its customer, when made
        c = "r." if table is not None else "c."
        tenure = tenure_band_sql(f"{c}signup_date")
        cols = "".join(f", CAST({c}{ident(s)} AS VARCHAR) AS {ident(s)}" for s in segments)
        source = ("responses r JOIN customers c USING (customer_id)" if table is None else
                  "(SELECT start_date AS response_date, score AS nps, _signup_date AS signup_date"
                  + "".join(f", {ident(s)}" for s in segments) + f" FROM {table}) r")
        sql = (f"SELECT CAST(date_trunc('{PERIODS[self.period]}', r.response_date) AS DATE) AS period_start, "
               f"{tenure} AS tenure{cols}, count(*) AS n, {band_counts_sql('r.nps')} "
               f"FROM {source} WHERE r.nps IS NOT NULL GROUP BY ALL")
        return data.sql(sql).df(), ["tenure", *segments]

    def fit_counts(self, counts: pd.DataFrame, cells: pd.DataFrame | None = None, adjust=()) -> NPSTrend:
        """Fit from counts per period (``period_start, n, promoters, detractors``), counted anywhere.

        ``cells``: the same counts per period and ``adjust`` columns (tenure band, segments), for the NPS at a
        fixed mix (:func:`cxkit.mix.standardise`). See :func:`cxkit.aggregate.nps_counts_sql` and
        :class:`cxkit.warehouse.Warehouse`.
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
        self._adjust(t, cells, list(adjust))
        for col in ("nps", "se", "lower", "upper", "adjusted", "adjusted_se", "adjusted_lower", "adjusted_upper"):
            t.loc[small, col] = np.nan
        self._changes(t)
        self._control(t, small)
        shown = t[~small]
        self.verdict_ = shown["flag"].iloc[-1] if len(shown) else "too few answers"
        keep = ["period", "period_start", "n", "nps", "se", "lower", "upper", "change", "change_se", "change_p",
                "flag", "centre", "lower_limit", "upper_limit", "note", "adjusted", "adjusted_se", "adjusted_lower",
                "adjusted_upper", "within_change", "mix_change", "raw_flag", "raw_centre"]
        self.table = t[keep].reset_index(drop=True)
        return self

    def _adjust(self, t: pd.DataFrame, cells, adjust: list[str]) -> None:
        """The NPS at the pooled mix and each change's two parts (or the raw NPS, all within, without cells)."""
        from cxkit.mix import standardise

        z = stats.norm.ppf(1 - self.alpha / 2)
        self.adjusted_for_ = []
        if cells is not None and len(cells) and adjust:
            c = cells.assign(period_start=pd.to_datetime(cells["period_start"]))
            try:
                mix = standardise(c, adjust).set_index("period_start")
            except np.linalg.LinAlgError:
                mix = None
            if mix is not None:
                at = pd.to_datetime(t["period_start"])
                t["adjusted"] = mix["adjusted"].reindex(at).to_numpy()
                t["adjusted_se"] = mix["adjusted_se"].reindex(at).to_numpy()
                t["_mix"] = mix["mix"].reindex(at).to_numpy()
                self.adjusted_for_ = adjust
        if not self.adjusted_for_:
            t["adjusted"], t["adjusted_se"], t["_mix"] = t["nps"], t["se"], 0.0
        t["adjusted_lower"] = t["adjusted"] - z * t["adjusted_se"]
        t["adjusted_upper"] = t["adjusted"] + z * t["adjusted_se"]

    def _changes(self, t: pd.DataFrame) -> None:
        """Change from the previous reported period, with SE and two-sided p-value, and its two parts."""
        prev_nps = t["nps"].ffill().shift(1)
        prev_se = t["se"].ffill().shift(1)
        t["change"] = t["nps"] - prev_nps
        t["change_se"] = np.sqrt(t["se"] ** 2 + prev_se**2)
        t["change_p"] = 2 * stats.norm.sf(np.abs(t["change"] / t["change_se"]))
        t["within_change"] = t["adjusted"] - t["adjusted"].ffill().shift(1)
        mix = t["_mix"].where(t["nps"].notna())
        t["mix_change"] = mix - mix.ffill().shift(1)

    def _control(self, t: pd.DataFrame, small: np.ndarray) -> None:
        """Centre, limits and flags on the adjusted series (the raw NPS when there is no mix to hold); the raw
        series' own flags as ``raw_flag`` and ``raw_centre``, to say when a raw shift is only who answers."""
        self.overdispersion_, self.centre_se_ = 1.0, 0.0
        ok = np.flatnonzero(~small)
        if ok.size == 0:  # every period under min_n: nothing to chart
            t["centre"] = t["lower_limit"] = t["upper_limit"] = t["raw_centre"] = np.nan
            t["flag"] = t["raw_flag"] = "suppressed"
            return
        k = self.baseline or max(6, len(ok) // 2)
        base = t.iloc[ok[:k]]
        # the raw series as a p-chart: the baseline's shares give each period's spread
        n_b = base["n"].sum()
        p, d = base["promoters"].sum() / n_b, base["detractors"].sum() / n_b
        raw_centre = 100 * (p - d)
        raw_sigma = 100 * np.sqrt((p + d - (p - d) ** 2) / t["n"].to_numpy(float))
        t["raw_centre"] = raw_centre
        t["raw_flag"] = self._flags(t, t["nps"].to_numpy(), raw_centre, raw_sigma, small)
        if self.adjusted_for_:  # the adjusted series: its own standard errors, centre weighted by answers
            centre = float(np.average(base["adjusted"], weights=base["n"]))
            z = ((t["adjusted"] - centre) / t["adjusted_se"]).to_numpy()[~small]
            # Laney's p' chart: spread beyond sampling error (the same customers stay in the base from month to
            # month, so its mix wanders) widens the limits; never narrower than sampling error alone
            self.overdispersion_ = float(max(1.0, np.mean(np.abs(np.diff(z))) / 1.128)) if z.size > 2 else 1.0
            # the centre is itself estimated: its error counts in every comparison with it
            w = base["n"].to_numpy(float)
            self.centre_se_ = float(np.sqrt(np.sum((w * base["adjusted_se"].to_numpy()) ** 2)) / w.sum())
            sigma_i = t["adjusted_se"].to_numpy() * self.overdispersion_
            t["flag"] = self._flags(t, t["adjusted"].to_numpy(), centre, sigma_i, small,
                                    centre_se=self.centre_se_ * self.overdispersion_)
            sigma_i = np.sqrt(sigma_i**2 + (self.centre_se_ * self.overdispersion_) ** 2)
        else:
            centre, sigma_i = raw_centre, raw_sigma
            t["flag"] = t["raw_flag"]
        t["centre"] = centre
        t["lower_limit"], t["upper_limit"] = centre - self.sigma * sigma_i, centre + self.sigma * sigma_i
        t.loc[small, ["lower_limit", "upper_limit"]] = np.nan

    def _flags(self, t, values, centre: float, sigma_i, small, centre_se: float | None = None) -> np.ndarray:
        """Each period's flag against the centre.

        Without ``centre_se`` (the raw p-chart, its centre taken as known): beyond the limits, a run of ``run``
        on one side, three months together beyond. With it (the adjusted series): the centre's own error is
        added to each comparison, and the run rule is not used, as a run on one side of an estimated centre is
        as often the centre's error as a change (the three-month rule finds a sustained move).
        """
        c2 = 0.0 if centre_se is None else centre_se**2
        spread = np.sqrt(sigma_i**2 + c2)
        upper, lower = centre + self.sigma * spread, centre - self.sigma * spread
        flags = np.array([WITHIN] * len(t), dtype=object)
        side = np.sign(values - centre)
        streak, last = 0, 0
        for i in range(len(t)):
            if small[i]:
                flags[i] = "suppressed"
                continue
            streak = streak + 1 if side[i] == last and side[i] != 0 else (1 if side[i] != 0 else 0)
            last = side[i]
            if values[i] > upper[i]:
                flags[i] = "shift: above the control limits"
            elif values[i] < lower[i]:
                flags[i] = "shift: below the control limits"
            elif centre_se is None and streak >= self.run:
                flags[i] = f"shift: {streak} periods in a row {'above' if last > 0 else 'below'} the centre"
            else:
                flags[i] = self._quarter_flag(t, values, sigma_i, small, i, centre, c2) or WITHIN
        return flags

    def _quarter_flag(self, t, values, sigma_i, small, i: int, centre: float, centre_var: float = 0.0) -> str | None:
        """A month with the two before it (a quarter's worth): their mean against the centre, beyond ``sigma``
        standard errors of the difference. Finds a sustained move that no one month's answers can show."""
        if self.period != "M" or i < 2 or small[i - 2:i + 1].any():
            return None
        mean = values[i - 2:i + 1].mean()
        se = np.sqrt((sigma_i[i - 2:i + 1] ** 2).sum() / 9 + centre_var)
        if abs(mean - centre) > self.sigma * se:
            return f"shift: three months together {'above' if mean > centre else 'below'} the control limits"
        return None

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
        if not hasattr(self, "table"):
            return unfitted_html(repr(self), "fit_data(data)")
        return html_block(f"NPS by {PERIODS[self.period]}", self.summary,
                          [f"Latest period: {self.verdict_}."], digits=1,
                          read_next={"table": "every period, raw and at a fixed mix, with control limits",
                                     "verdict_": "what the latest period says", "plot()": "the control chart"})

    def __repr__(self) -> str:
        if not hasattr(self, "table"):
            return f"NPSTrend(period={self.period!r})  # unfitted"
        return f"NPSTrend(period={self.period!r}): NPS over {len(self.table)} periods; latest: {self.verdict_}"

    def plot(self, ax=None, **kwargs):
        """NPS per period with its interval, centre line and control limits (see :func:`cxkit.plots.plot_trend`)."""
        from cxkit.drawing import draw

        return draw("plot_trend", self, ax=ax, **kwargs)
