"""The customer ledger: customers and monthly revenue in and out, per period, band and churn reason.

A customer who signs up in a period is new in it; one whose ``end_date`` falls
in it is lost in it. ``start`` counts customers active on the period's first
day (signed up before it, not ended before it), so ``start + new - lost = end``
holds exactly in every period and every slice. Revenue in and out is each
customer's monthly run rate (their average monthly bill; ``monthly_revenue``
when there is no revenue table): what the base gains or loses per month.

Examples
--------
>>> import pandas as pd
>>> c = pd.DataFrame({"customer_id": [1, 2, 3],
...                   "signup_date": pd.to_datetime(["2026-01-05", "2026-01-20", "2026-02-03"]),
...                   "end_date": pd.to_datetime([None, "2026-02-10", None])})
>>> led = CustomerLedger(period="M").fit(c, as_of="2026-02-28")
>>> led.table[["period", "start", "new", "lost", "end"]].values.tolist()
[['2026-01', 0, 2, 0, 2], ['2026-02', 2, 1, 1, 2]]
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from cxkit._display import html_block, unfitted_html
from cxkit.aggregate import flows_sql
from cxkit.errors import CxkitError
from cxkit.periods import PERIODS, check_period, label_of

__all__ = ["CustomerLedger", "period_sql", "last_band_sql", "PERIODS"]



def period_sql(column: str, period: str) -> str:
    """SQL for the first day of the period that contains ``column``."""
    return f"CAST(date_trunc('{PERIODS[period]}', {column}) AS DATE)"


def last_band_sql(day: str) -> str:
    """Each customer's NPS band from their last answer before leaving (or before ``day``)."""
    from cxkit.frames import answer_order
    from cxkit.nps import band_sql

    return (f"SELECT r.customer_id, {band_sql('r.nps')} AS band FROM responses r JOIN customers c0 "
            f"USING (customer_id) WHERE r.nps IS NOT NULL AND r.response_date <= coalesce(c0.end_date, {day}) "
            f"QUALIFY row_number() OVER (PARTITION BY r.customer_id ORDER BY {answer_order('nps', 'DESC', 'r.')}) = 1")


def _label(start: dt.date, period: str) -> str:
    return label_of(start, period)


class CustomerLedger:
    """Customers and revenue in versus out, per period (and per slice when ``by`` is given).

    Parameters
    ----------
    period : {"M", "Q"}
        Calendar months or quarters.
    by : str, optional
        A customers column to split every period by (``region``, ``plan``, ``band``).

    Attributes
    ----------
    table : DataFrame
        One row per period (and slice): ``period, period_start, start, new, lost, end, revenue_in,
        revenue_out, net_revenue``; revenue columns are monthly run rates.
    lost_by_band_, lost_by_reason_ : DataFrame
        ``period, band | reason, lost, revenue_out, revenue_out_sq``: who left, by the band of their last answer
        before leaving (``no answer`` when they never answered) and by churn reason; ``revenue_out_sq`` sums the
        squares of the leavers' run rates (the variance of a sum of leavers' revenue, as a compound Poisson count).
    """

    def __init__(self, period: str = "M", by: str | None = None):
        check_period(period)
        self.period, self.by = period, by

    def fit(self, customers: pd.DataFrame, revenue: pd.DataFrame | None = None, as_of=None,
            responses: pd.DataFrame | None = None) -> CustomerLedger:
        """Fit from contract tables as DataFrames (see :meth:`fit_data` for validated data)."""
        from cxkit.engine import connect

        con = connect()
        con.register("customers", customers)
        if revenue is not None:
            con.register("revenue", revenue)
        if responses is not None:
            con.register("responses", responses)
        return self._fit(con, revenue is not None, responses is not None, as_of,
                         "monthly_revenue" in customers.columns, "churn_reason" in customers.columns)

    def fit_data(self, data) -> CustomerLedger:
        """Fit from a :class:`~cxkit.load.CXData` (counts computed where the data lives)."""
        if data.mode != "dated":
            raise CxkitError("the customer ledger needs dated customers (signup_date and end_date); "
                             "snapshot data has no dates")
        from cxkit.frames import customer_cube, latest_answers
        from cxkit.scales import band_sql

        counted = key = None
        if data.has("responses") and "nps" in data.scores:  # the band of the latest score, named per group
            if self.by in (None, "band"):  # the customers counted once (shared with the active base)
                counted = f"SELECT * FROM {customer_cube(data, 'nps')}"
            key = ("s.score", f"LEFT JOIN {latest_answers(data)} s USING (customer_id)", band_sql("k"))
        return self._fit(data.con, data.has("revenue"), data.has("responses"), data.as_of,
                         data.has("customers", "monthly_revenue"), data.has("customers", "churn_reason"),
                         key=key, counted=counted, cut=False)  # the gateway's view: customers signed up by as_of

    def fit_connection(self, con, as_of=None, *, revenue: bool = False, responses: bool = False,
                       monthly_revenue: bool = False, churn_reason: bool = False) -> CustomerLedger:
        """Fit on a DuckDB connection holding ``customers`` (and the tables named by the flags)."""
        return self._fit(con, revenue, responses, as_of, monthly_revenue, churn_reason)

    def _fit(self, con, has_revenue: bool, has_responses: bool, as_of, has_monthly: bool, has_reason: bool,
             key: tuple[str, str, str] | None = None, counted: str | None = None, cut: bool = True):
        """``key``: the SQL of each customer's key ``k``, the join that brings it and the SQL of the band from ``k``
        (default: the band of the last answer before leaving, :func:`last_band_sql`). ``counted``: the customers
        already counted with that key (:func:`cxkit.frames.customer_counts_sql`), else they are counted here."""
        from cxkit.frames import customer_counts_sql

        if as_of is None:
            as_of = con.execute("SELECT max(greatest(signup_date, coalesce(end_date, signup_date))) "
                                "FROM customers").fetchall()[0][0]
        as_of = pd.Timestamp(as_of).date()
        day = f"DATE '{as_of.isoformat()}'"
        if key is None:
            key = (("b.band", f"LEFT JOIN ({last_band_sql(day)}) b USING (customer_id)", "k") if has_responses
                   else ("NULL", "", "k"))
        if counted is None:
            slice_key = f'CAST(c."{self.by}" AS VARCHAR)' if self.by and self.by != "band" else "NULL"
            reason = "coalesce(c.churn_reason, 'unknown')" if has_reason else "'unknown'"
            run_rate, rate_join = ("coalesce(c.monthly_revenue, 0)" if has_monthly else "0.0"), ""
            if has_revenue:
                run_rate = "coalesce(rr.run_rate, 0)"
                rate_join = ("LEFT JOIN (SELECT customer_id, avg(amount) AS run_rate FROM revenue GROUP BY 1) rr "
                             "USING (customer_id) ")
            counted = customer_counts_sql(day, key[0], key[1], slice_key, run_rate, rate_join, reason, cut)
        band = f"coalesce({key[2]}, 'no answer')"
        slice_col = band if self.by == "band" else ("slice_key" if self.by else "'all'")
        # The customers counted once into a small cube (customers and run rate per slice, sign-up period,
        # leaving period, band and reason); the four tables below are sums over it. Periods are named from the
        # counted years and months: a quarter starts at month m - (m - 1) % 3.
        start = "{m}" if self.period == "M" else "{m} - ({m} - 1) % 3"
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _ledger_cube AS SELECT slice, joined, lost_in, band, reason, "
            "CAST(sum(n) AS BIGINT) AS n, sum(rr) AS rr, sum(rr2) AS rr2 FROM ("
            f"SELECT {slice_col} AS slice, make_date(jy, {start.format(m='jm')}, 1) AS joined, "
            f"make_date(ly, {start.format(m='lm')}, 1) AS lost_in, {band} AS band, reason, n, rr, rr2 "
            f"FROM ({counted}) counted) GROUP BY ALL")
        src = "_ledger_cube"
        new = con.execute(flows_sql(src, "joined", self.period, "slice", "rr", count="n")).df()
        if new.empty:
            raise CxkitError("the customer ledger has no customers to count")
        lost = con.execute(flows_sql(src, "lost_in", self.period, "slice", "rr", count="n")).df()
        self._from_flows(new, lost, as_of)
        breakdown = ("SELECT lost_in AS period_start, {key} AS {name}, CAST(sum(n) AS BIGINT) AS lost, "
                     "sum(rr) AS revenue_out, sum(rr2) AS revenue_out_sq FROM _ledger_cube WHERE lost_in IS NOT NULL "
                     "GROUP BY ALL ORDER BY 1, 2")
        self.lost_by_band_ = self._labelled(con.execute(breakdown.format(key="band", name="band")).df())
        self.lost_by_reason_ = self._labelled(con.execute(breakdown.format(key="reason", name="reason")).df())
        con.execute("DROP TABLE _ledger_cube")
        self.as_of_ = as_of
        return self

    def fit_flows(self, new: pd.DataFrame, lost: pd.DataFrame, as_of) -> CustomerLedger:
        """Fit from flows counted anywhere: ``period_start, slice, n, amount`` for sign-ups and for leavers.

        See :func:`cxkit.aggregate.flows_sql` and :class:`cxkit.warehouse.Warehouse`.
        """
        self._from_flows(new, lost, pd.Timestamp(as_of).date())
        self.lost_by_band_ = self.lost_by_reason_ = None
        self.as_of_ = pd.Timestamp(as_of).date()
        return self

    def _from_flows(self, new: pd.DataFrame, lost: pd.DataFrame, as_of: dt.date) -> None:
        """Periods from the first sign-up to ``as_of``; start and end from running sums, so the identity holds."""
        unit = {"M": "MS", "Q": "QS"}[self.period]
        first = pd.Timestamp(new["period_start"].min())
        starts = pd.date_range(first, pd.Timestamp(as_of), freq=unit)
        slices = sorted(set(new["slice"].astype(str)) | set(lost["slice"].astype(str)))
        grid = pd.MultiIndex.from_product([slices, starts], names=["slice", "period_start"])

        def on_grid(flows, name, amount):
            f = flows.assign(slice=flows["slice"].astype(str), period_start=pd.to_datetime(flows["period_start"]),
                             n=flows["n"].astype("int64"), amount=flows["amount"].astype(float))
            f = f.groupby(["slice", "period_start"])[["n", "amount"]].sum()
            return f.reindex(grid, fill_value=0).rename(columns={"n": name, "amount": amount})

        flows = pd.concat([on_grid(new, "new", "revenue_in"), on_grid(lost, "lost", "revenue_out")], axis=1)
        flows = flows.reset_index()
        flows["end"] = flows.groupby("slice")["new"].cumsum() - flows.groupby("slice")["lost"].cumsum()
        flows["start"] = flows["end"] - flows["new"] + flows["lost"]
        flows["period"] = [_label(d.date(), self.period) for d in flows["period_start"]]
        flows["period_start"] = flows["period_start"].dt.date
        flows["net_revenue"] = flows["revenue_in"] - flows["revenue_out"]
        for c in ("start", "new", "lost", "end"):
            flows[c] = flows[c].astype("int64")
        cols = ["period", "period_start", "start", "new", "lost", "end", "revenue_in", "revenue_out", "net_revenue"]
        if self.by:
            self.table = flows[["slice", *cols]].rename(columns={"slice": self.by}).reset_index(drop=True)
        else:
            self.table = flows[cols].reset_index(drop=True)

    def _labelled(self, frame: pd.DataFrame) -> pd.DataFrame:
        frame.insert(0, "period", [_label(d.date() if hasattr(d, "date") else d, self.period)
                                   for d in frame["period_start"]])
        frame["lost"] = frame["lost"].astype("int64")
        return frame

    def totals(self, last: int | None = None) -> dict:
        """Sums over the last ``last`` periods (all by default): start, new, lost, end, revenue in and out."""
        t = self.table if not self.by else self.table.groupby("period", sort=False).sum(numeric_only=True).reset_index()
        t = t.tail(last) if last else t
        return {"periods": len(t), "first": t["period"].iloc[0], "last": t["period"].iloc[-1],
                "start": int(t["start"].iloc[0]), "new": int(t["new"].sum()), "lost": int(t["lost"].sum()),
                "end": int(t["end"].iloc[-1]), "revenue_in": float(t["revenue_in"].sum()),
                "revenue_out": float(t["revenue_out"].sum())}

    def churn_change(self, last: int, alpha: float = 0.05) -> dict | None:
        """The share of the base lost per period over the last ``last`` periods against the ``last`` before them.

        Each window's rate is its customers lost over its customer-periods (each period's average base,
        ``(start + end) / 2``, the last period weighted by the share of its days up to the as-of date); the two
        are compared by their ratio with a Poisson interval on the log scale (``1/lost + 1/lost_before``). A
        count of leavers grows with the base; this rate does not.

        Returns
        -------
        dict or None
            ``rate, rate_before, lost, lost_before, ratio, lower, upper, changed`` (``changed``: the interval
            excludes 1), ``first_before, last_before`` (the earlier window's periods); None when the table holds
            fewer than ``2 * last`` periods or either window lost nobody.

        Examples
        --------
        >>> import pandas as pd
        >>> c = pd.DataFrame({"customer_id": range(4), "signup_date": pd.to_datetime(["2026-01-01"] * 4),
        ...                   "end_date": pd.to_datetime([None, None, "2026-01-20", "2026-02-10"])})
        >>> led = CustomerLedger(period="M").fit(c, as_of="2026-02-28")
        >>> r = led.churn_change(1)
        >>> round(r["rate_before"], 3), round(r["rate"], 3), r["changed"]
        (0.667, 0.4, False)
        """
        import numpy as np
        from scipy import stats

        t = self.table if not self.by else self.table.groupby("period", sort=False).sum(numeric_only=True).reset_index()
        if len(t) < 2 * last:
            return None
        base = (t["start"] + t["end"]) / 2
        first = pd.Timestamp(self.table["period_start"].iloc[-1])
        following = first + pd.offsets.MonthBegin(3 if self.period == "Q" else 1)
        covered = (pd.Timestamp(self.as_of_) - first).days + 1
        base.iloc[-1] *= min(1.0, covered / (following - first).days)  # a period cut short by the as-of date
        now, before = t.tail(last), t.iloc[-2 * last:-last]
        lost, lost_before = int(now["lost"].sum()), int(before["lost"].sum())
        if not lost or not lost_before:
            return None
        rate = lost / float(base.tail(last).sum())
        rate_before = lost_before / float(base.iloc[-2 * last:-last].sum())
        ratio = rate / rate_before
        half = stats.norm.ppf(1 - alpha / 2) * np.sqrt(1 / lost + 1 / lost_before)
        lower, upper = ratio * np.exp(-half), ratio * np.exp(half)
        return {"rate": rate, "rate_before": rate_before, "lost": lost, "lost_before": lost_before,
                "ratio": float(ratio), "lower": float(lower), "upper": float(upper),
                "changed": bool(lower > 1 or upper < 1), "first_before": before["period"].iloc[0],
                "last_before": before["period"].iloc[-1]}

    @property
    def summary(self) -> pd.DataFrame:
        return self.table.tail(12)

    def _repr_html_(self) -> str:
        if not hasattr(self, "table"):
            return unfitted_html(repr(self), "fit_data(data)")
        return html_block(f"Customer ledger by {PERIODS[self.period]}", self.summary,
                          ["start + new - lost = end in every period; revenue is monthly run rate."], digits=0,
                          read_next={"totals(last=12)": "customers and revenue in and out over the last periods",
                                     "table": "every period", "lost_by_band_": "who left, by band",
                                     "lost_by_reason_": "who left, by reason", "plot()": "the leaky bucket"})

    def __repr__(self) -> str:
        if not hasattr(self, "table"):
            return f"CustomerLedger(period={self.period!r})  # unfitted"
        t = self.totals()
        return (f"CustomerLedger(period={self.period!r}): {t['periods']} periods {t['first']} to {t['last']}, "
                f"{t['start']:,} -> {t['end']:,} customers (+{t['new']:,} new, -{t['lost']:,} lost)")

    def plot(self, ax=None, **kwargs):
        """Leaky bucket: new customers in, lost customers out, and the base (see :func:`cxkit.plots.plot_ledger`)."""
        from cxkit.drawing import draw

        return draw("plot_ledger", self, ax=ax, **kwargs)
