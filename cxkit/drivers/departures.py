"""The departing customers' story: what those who left said last and what they went through before leaving.

For each customer who left in the last ``period_months``: their churn reason,
their last answer before leaving (score, band, days before leaving) and their
contacts in the ``window_days`` before leaving, by kind. ``summary`` puts it
side by side per churn reason, so a leader sees which experiences come before
which reasons; ``customers_`` lists the leavers, for closing the loop.

Examples
--------
>>> story = DepartureStory(period_months=12).fit_data(data)   # doctest: +SKIP
>>> story.summary[["reason", "leavers", "last_band_detractor", "with_complaint"]]   # doctest: +SKIP
"""

from __future__ import annotations

import pandas as pd

from cxkit._display import html_block, unfitted_html
from cxkit.drivers.frame import contact_kind_columns, is_complaint_sql, kind_counts_sql, rate_sql
from cxkit.errors import CxkitError
from cxkit.sql import ident, literal

__all__ = ["DepartureStory"]


class DepartureStory:
    """Last answers and last contacts of the customers who left, by churn reason.

    Parameters
    ----------
    period_months : int
        Customers who left in this many months up to the as-of date.
    window_days : int
        Contacts in this many days before leaving are counted.
    complaint_kinds : tuple of str
        Contact kinds that are complaints.
    list_customers : bool, optional
        Bring back one row per leaver (``customers_``). Default: yes for data on this machine, no for data in a
        warehouse (``data.engine``), where only the summary's counts come back.

    Attributes
    ----------
    customers_ : DataFrame or None
        One row per leaver: ``customer_id, end_date, reason, last_nps, last_band, days_since_answer,
        contacts, complaints, last_contact_kind, monthly_revenue`` and one ``<kind>_contacts`` column per kind
        (None when not listed).
    leavers_ : int
        Customers who left in the period.
    groups_ : DataFrame
        The leavers counted per ``reason`` and what the summary reads (``last_band, days_since_answer,
        contacts, complaints``): ``leavers, revenue, rated`` (leavers whose revenue is known); every figure of
        ``summary`` comes from it.
    summary : DataFrame
        Per reason (and ``all``): ``reason, leavers, share, answered, last_band_detractor,
        last_band_passive, last_band_promoter, median_days_since_answer, with_contact, with_complaint,
        contacts_per_leaver, monthly_revenue``. Band shares are of the leavers who answered; shares of
        contacts of all leavers; missing where not measured (no responses or contacts table).
    """

    def __init__(self, period_months: int = 12, window_days: int = 90, complaint_kinds=("complaint",),
                 list_customers: bool | None = None):
        if int(period_months) < 1 or int(window_days) < 1:
            raise CxkitError("period_months and window_days must be at least 1")
        if isinstance(complaint_kinds, str):
            complaint_kinds = (complaint_kinds,)
        self.period_months, self.window_days = int(period_months), int(window_days)
        self.complaint_kinds = tuple(complaint_kinds)
        self.list_customers = list_customers

    def fit_data(self, data) -> DepartureStory:
        """Fit from validated dated data."""
        if data.mode != "dated" or data.as_of is None:
            raise CxkitError("the departing customers' story needs dated customers and an as-of date")
        as_of = f"DATE {literal(data.as_of.isoformat())}"
        reason = "coalesce(CAST(c.churn_reason AS VARCHAR), 'unknown')" if data.has("customers", "churn_reason") \
            else "'unknown'"
        left = f"c.end_date <= {as_of} AND c.end_date > {as_of} - INTERVAL {self.period_months} MONTH"
        # a run rate on the customers is read in the scan that picks the leavers (no second scan of them)
        own_rate = not data.has("revenue") and data.has("customers", "monthly_revenue")
        rate = ", c.monthly_revenue AS rate" if own_rate else ""
        parts = [f"SELECT c.customer_id, c.end_date, {reason} AS reason{rate} FROM customers c WHERE {left}"]
        gone, query = f"WITH gone AS ({parts[0]})", "SELECT g.customer_id, g.end_date, g.reason"
        joins = ""
        has_answers = data.has("responses") and "nps" in data.scores
        if has_answers:
            query += (", a.nps AS last_nps, CASE WHEN a.nps <= 6 THEN 'detractor' WHEN a.nps <= 8 THEN 'passive' "
                      "WHEN a.nps IS NOT NULL THEN 'promoter' END AS last_band, "
                      "date_diff('day', a.response_date, g.end_date) AS days_since_answer")
            joins += ("LEFT JOIN (SELECT r.customer_id, arg_max(r.nps, r.response_date) AS nps, "
                      "max(r.response_date) AS response_date FROM responses r JOIN gone g USING (customer_id) "
                      "WHERE r.response_date <= g.end_date AND r.nps IS NOT NULL GROUP BY 1) a USING (customer_id) ")
        kinds = contact_kind_columns(data)
        if kinds:
            per_kind = kind_counts_sql(kinds)
            query += (", coalesce(k.contacts, 0) AS contacts, coalesce(k.complaints, 0) AS complaints, "
                      "k.last_contact_kind" + "".join(f", coalesce(k.{ident(c)}, 0) AS {ident(c)}"
                                                      for c in kinds.values()))
            joins += (f"LEFT JOIN (SELECT k.customer_id, count(*) AS contacts, count(*) FILTER (WHERE "
                      f"{is_complaint_sql(self.complaint_kinds)}) AS complaints, "
                      f"arg_max(CAST(k.kind AS VARCHAR), k.date) AS last_contact_kind{per_kind} "
                      f"FROM contacts k JOIN gone g USING (customer_id) WHERE k.date <= g.end_date "
                      f"AND k.date > g.end_date - {self.window_days} GROUP BY 1) k USING (customer_id) ")
        # joined where the rows are (no list of leavers is sent anywhere); NULL where no revenue is measured
        if own_rate:
            query += ", g.rate AS monthly_revenue"
        else:
            query += ", v.rate AS monthly_revenue"
            joins += f"LEFT JOIN ({rate_sql(data, 'SELECT customer_id FROM gone', where=left)}) v USING (customer_id) "
        leavers = f"{query} FROM gone g {joins}"
        listed = self.list_customers if self.list_customers is not None else data.engine != "warehouse"
        self.customers_ = data.sql(f"{gone} {leavers}ORDER BY g.end_date, g.customer_id").df() if listed else None
        keys = ["reason"] + (["last_band", "days_since_answer"] if has_answers else []) + \
            (["contacts", "complaints"] if kinds else [])
        # counted where the rows are: a few rows per reason come back, however many left
        by = ", ".join(keys)
        self.groups_ = data.sql(f"{gone}, l AS ({leavers}) SELECT {by}, count(*) AS leavers, sum(monthly_revenue) "
                                f"AS revenue, count(monthly_revenue) AS rated FROM l GROUP BY {by} ORDER BY {by}").df()
        self.leavers_, self.as_of_ = int(self.groups_["leavers"].sum()), data.as_of
        self.measured_ = {"answers": has_answers, "contacts": bool(kinds)}
        self.summary = self._summarise(self.groups_)
        return self

    def _summarise(self, groups: pd.DataFrame) -> pd.DataFrame:
        rows = []
        total = int(groups["leavers"].sum())
        nan = float("nan")
        parts = [(r, g) for r, g in groups.groupby("reason", sort=True)] + [("all", groups)]
        for reason, g in parts:
            n = g["leavers"].to_numpy(dtype=float)
            row = {"reason": reason, "leavers": int(n.sum()), "share": n.sum() / total if total else nan}
            if self.measured_["answers"]:
                answered = g["last_band"].notna().to_numpy()
                row["answered"] = float(n[answered].sum() / n.sum()) if n.sum() else nan
                for band in ("detractor", "passive", "promoter"):
                    row[f"last_band_{band}"] = float(n[(g["last_band"] == band).to_numpy()].sum()
                                                     / n[answered].sum()) if answered.any() else nan
                row["median_days_since_answer"] = _weighted_median(g["days_since_answer"].to_numpy()[answered],
                                                                   n[answered]) if answered.any() else nan
            if self.measured_["contacts"]:
                row["with_contact"] = float(n[(g["contacts"] > 0).to_numpy()].sum() / n.sum())
                row["with_complaint"] = float(n[(g["complaints"] > 0).to_numpy()].sum() / n.sum())
                row["contacts_per_leaver"] = float((g["contacts"].to_numpy(dtype=float) * n).sum() / n.sum())
            row["monthly_revenue"] = float(g["revenue"].sum()) if g["rated"].sum() else nan
            rows.append(row)
        out = pd.DataFrame(rows)
        body = out[out["reason"] != "all"].sort_values("leavers", ascending=False)
        return pd.concat([body, out[out["reason"] == "all"]], ignore_index=True)

    def difference(self, a: str, b: str, column: str = "with_complaint", alpha: float = 0.05) -> dict:
        """Difference of a share (``with_complaint``, ``with_contact`` of all leavers; ``last_band_detractor``,
        ``last_band_passive``, ``last_band_promoter`` of the leavers who had answered) between the leavers of
        reasons ``a`` and ``b``: ``difference, lower, upper`` (normal approximation for two independent
        proportions)."""
        from scipy import stats

        counts = {"with_complaint": "complaints", "with_contact": "contacts"}
        g = self.groups_
        if column.startswith("last_band_") and "last_band" in g:
            band = column[len("last_band_"):]
            g = g[g["last_band"].notna()]  # a band's share is of the leavers who had answered
            has_it = g["last_band"] == band
        elif column in counts and counts[column] in g:
            has_it = g[counts[column]] > 0
        else:
            raise CxkitError(f"no share {column!r} here (needs a contacts table, or a responses table for a band)")
        sizes = [float(g.loc[g["reason"] == r, "leavers"].sum()) for r in (a, b)]
        if not all(sizes):
            raise CxkitError(f"no leavers with reason {a!r} or {b!r}")
        has = [float(g.loc[(g["reason"] == r) & has_it, "leavers"].sum()) for r in (a, b)]
        p = [h / m for h, m in zip(has, sizes, strict=True)]
        se = float(sum(pi * (1 - pi) / m for pi, m in zip(p, sizes, strict=True)) ** 0.5)
        z = stats.norm.ppf(1 - alpha / 2)
        diff = p[0] - p[1]
        return {"difference": diff, "lower": diff - z * se, "upper": diff + z * se}

    def _repr_html_(self) -> str:
        if not hasattr(self, "leavers_"):
            return unfitted_html(repr(self), "fit_data(data)")
        return html_block("Customers who left: last answer and last contacts", self.summary, read_next={
                          "customers_": "one row per leaver", "groups_": "the counts behind the summary",
                          "difference(a, b)": "two reasons compared"}, notes=
                          [f"{self.leavers_:,} customers left in the {self.period_months} months to "
                           f"{self.as_of_}; contacts in the {self.window_days} days before leaving."], digits=2)

    def __repr__(self) -> str:
        fitted = f": {self.leavers_:,} customers left" if hasattr(self, "leavers_") else "  # unfitted"
        return f"DepartureStory(period_months={self.period_months}, window_days={self.window_days}){fitted}"


def _weighted_median(values, counts) -> float:
    """The median of ``values`` each repeated ``counts`` times (the mean of the two middle ones for an even
    total, as pandas' ``median``).

    >>> _weighted_median([3.0, 1.0, 2.0], [1, 2, 1])
    1.5
    """
    import numpy as np

    order = np.argsort(values, kind="stable")
    v, c = np.asarray(values, dtype=float)[order], np.asarray(counts, dtype=float)[order]
    ends = np.cumsum(c)
    total = ends[-1]
    low, high = np.searchsorted(ends, [(total - 1) // 2 + 1, total // 2 + 1])
    return float((v[low] + v[high]) / 2)
