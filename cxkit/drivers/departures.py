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
from cxkit.drivers.frame import contact_kind_columns, is_complaint_sql, kind_counts_sql, monthly_revenue
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

    Attributes
    ----------
    customers_ : DataFrame
        One row per leaver: ``customer_id, end_date, reason, last_nps, last_band, days_since_answer,
        contacts, complaints, last_contact_kind, monthly_revenue`` and one ``<kind>_contacts`` column per kind.
    summary : DataFrame
        Per reason (and ``all``): ``reason, leavers, share, answered, last_band_detractor,
        last_band_passive, last_band_promoter, median_days_since_answer, with_contact, with_complaint,
        contacts_per_leaver, monthly_revenue``. Band shares are of the leavers who answered; shares of
        contacts of all leavers; missing where not measured (no responses or contacts table).
    """

    def __init__(self, period_months: int = 12, window_days: int = 90, complaint_kinds=("complaint",)):
        if int(period_months) < 1 or int(window_days) < 1:
            raise CxkitError("period_months and window_days must be at least 1")
        if isinstance(complaint_kinds, str):
            complaint_kinds = (complaint_kinds,)
        self.period_months, self.window_days = int(period_months), int(window_days)
        self.complaint_kinds = tuple(complaint_kinds)

    def fit_data(self, data) -> DepartureStory:
        """Fit from validated dated data."""
        if data.mode != "dated" or data.as_of is None:
            raise CxkitError("the departing customers' story needs dated customers and an as-of date")
        as_of = f"DATE {literal(data.as_of.isoformat())}"
        reason = "coalesce(CAST(c.churn_reason AS VARCHAR), 'unknown')" if data.has("customers", "churn_reason") \
            else "'unknown'"
        parts = [f"SELECT c.customer_id, c.end_date, {reason} AS reason FROM customers c "
                 f"WHERE c.end_date <= {as_of} AND c.end_date > {as_of} - INTERVAL {self.period_months} MONTH"]
        query = f"WITH gone AS ({parts[0]}) SELECT g.*"
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
        frame = data.sql(f"{query} FROM gone g {joins}ORDER BY g.end_date, g.customer_id").df()
        rates = monthly_revenue(data, frame["customer_id"])
        frame["monthly_revenue"] = frame["customer_id"].map(rates)
        self.customers_, self.as_of_ = frame, data.as_of
        self.measured_ = {"answers": has_answers, "contacts": bool(kinds)}
        self.summary = self._summarise(frame)
        return self

    def _summarise(self, frame: pd.DataFrame) -> pd.DataFrame:
        rows = []
        total = len(frame)
        groups = [(r, g) for r, g in frame.groupby("reason", sort=True)] + [("all", frame)]
        for reason, g in groups:
            row = {"reason": reason, "leavers": len(g), "share": len(g) / total if total else float("nan")}
            if self.measured_["answers"]:
                answered = g["last_band"].notna()
                row["answered"] = float(answered.mean()) if len(g) else float("nan")
                for band in ("detractor", "passive", "promoter"):
                    row[f"last_band_{band}"] = float((g.loc[answered, "last_band"] == band).mean()) \
                        if answered.any() else float("nan")
                row["median_days_since_answer"] = float(g["days_since_answer"].median()) if answered.any() \
                    else float("nan")
            if self.measured_["contacts"]:
                row["with_contact"] = float((g["contacts"] > 0).mean())
                row["with_complaint"] = float((g["complaints"] > 0).mean())
                row["contacts_per_leaver"] = float(g["contacts"].mean())
            row["monthly_revenue"] = float(g["monthly_revenue"].sum(min_count=1))
            rows.append(row)
        out = pd.DataFrame(rows)
        body = out[out["reason"] != "all"].sort_values("leavers", ascending=False)
        return pd.concat([body, out[out["reason"] == "all"]], ignore_index=True)

    def difference(self, a: str, b: str, column: str = "with_complaint", alpha: float = 0.05) -> dict:
        """Difference of a share (``with_complaint``, ``with_contact``) between the leavers of reasons ``a`` and
        ``b``: ``difference, lower, upper`` (normal approximation for two independent proportions)."""
        from scipy import stats

        flags = {"with_complaint": self.customers_.get("complaints"), "with_contact": self.customers_.get("contacts")}
        if flags.get(column) is None:
            raise CxkitError(f"no share {column!r} here (needs a contacts table)")
        has = flags[column] > 0
        groups = [has[self.customers_["reason"] == r] for r in (a, b)]
        if any(len(g) == 0 for g in groups):
            raise CxkitError(f"no leavers with reason {a!r} or {b!r}")
        p = [float(g.mean()) for g in groups]
        se = float(sum(pi * (1 - pi) / len(g) for pi, g in zip(p, groups, strict=True)) ** 0.5)
        z = stats.norm.ppf(1 - alpha / 2)
        diff = p[0] - p[1]
        return {"difference": diff, "lower": diff - z * se, "upper": diff + z * se}

    def _repr_html_(self) -> str:
        if not hasattr(self, "customers_"):
            return unfitted_html(repr(self), "fit_data(data)")
        return html_block("Customers who left: last answer and last contacts", self.summary, read_next={
                          "customers_": "one row per leaver", "difference(a, b)": "two reasons compared"}, notes=
                          [f"{len(self.customers_):,} customers left in the {self.period_months} months to "
                           f"{self.as_of_}; contacts in the {self.window_days} days before leaving."], digits=2)

    def __repr__(self) -> str:
        fitted = f": {len(self.customers_):,} customers left" if hasattr(self, "customers_") else "  # unfitted"
        return f"DepartureStory(period_months={self.period_months}, window_days={self.window_days}){fitted}"
