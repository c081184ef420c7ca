"""Contacts and complaints per customer, and cost to serve, per period and NPS band.

A customer's band is that of their last answer (``no answer`` if none), as in
the ledger; customers per period are the average of the active customers at
the period's start and end.

Examples
--------
>>> from cxkit.contacts import ContactRates   # doctest: +SKIP
>>> ContactRates("Q").fit_data(data).by_band_.tail(3)   # doctest: +SKIP
"""

from __future__ import annotations

import pandas as pd

from cxkit._display import html_block, unfitted_html
from cxkit.errors import CxkitError
from cxkit.frames import latest_answers
from cxkit.ledger import PERIODS, CustomerLedger, _label, period_sql
from cxkit.scales import band_sql

__all__ = ["ContactRates"]


class ContactRates:
    """Contacts per customer by kind and band, and cost to serve per customer, per period.

    Attributes
    ----------
    table : DataFrame
        ``period, band, kind, contacts, cost, customers, contacts_per_customer, cost_per_customer``.
    by_band_ : DataFrame
        All kinds together: ``period, band, contacts, cost, customers, contacts_per_customer,
        cost_per_customer``.
    """

    def __init__(self, period: str = "M"):
        if period not in PERIODS:
            raise CxkitError("period must be 'M' (months) or 'Q' (quarters)")
        self.period = period

    def fit_data(self, data, ledger=None) -> ContactRates:
        """Fit from validated data; a :class:`CustomerLedger` by band of the same period is reused if given."""
        if data.mode != "dated" or not data.has("contacts"):
            raise CxkitError("contact rates need dated customers and a contacts table")
        latest = (f"(SELECT customer_id, score FROM {latest_answers(data)})"
                  if data.has("responses") and "nps" in data.scores else
                  "(SELECT NULL AS customer_id, NULL AS score WHERE false)")
        cost = "coalesce(k.cost, 0)" if data.has("contacts", "cost") else "0"
        # Counted per day and latest score first, then summed into periods and bands: the period and the band
        # are worked out once per group (a few thousand), not once per contact.
        counts = data.sql(
            f"SELECT {period_sql('day', self.period)} AS period_start, coalesce({band_sql('score')}, 'no answer') "
            "AS band, kind, CAST(sum(n) AS BIGINT) AS contacts, sum(cost) AS cost FROM ("
            f"SELECT k.date AS day, b.score, k.kind, count(*) AS n, sum({cost}) AS cost FROM contacts k "
            f"LEFT JOIN {latest} b USING (customer_id) GROUP BY ALL) GROUP BY ALL ORDER BY 1, 2, 3").df()
        if ledger is None or ledger.by != "band" or ledger.period != self.period:
            ledger = CustomerLedger(self.period, by="band").fit_data(data)
        ledger = ledger.table.copy()
        ledger["customers"] = (ledger["start"] + ledger["end"]) / 2
        active = ledger.set_index(["period", "band"])["customers"]
        counts.insert(0, "period", [_label(pd.Timestamp(d).date(), self.period) for d in counts["period_start"]])
        counts["customers"] = active.reindex(pd.MultiIndex.from_frame(counts[["period", "band"]])).to_numpy()
        counts["contacts_per_customer"] = counts["contacts"] / counts["customers"]
        counts["cost_per_customer"] = counts["cost"] / counts["customers"]
        self.table = counts
        by_band = counts.groupby(["period", "period_start", "band"], as_index=False)[["contacts", "cost"]].sum()
        by_band["customers"] = active.reindex(pd.MultiIndex.from_frame(by_band[["period", "band"]])).to_numpy()
        by_band["contacts_per_customer"] = by_band["contacts"] / by_band["customers"]
        by_band["cost_per_customer"] = by_band["cost"] / by_band["customers"]
        self.by_band_ = by_band
        return self

    @property
    def summary(self) -> pd.DataFrame:
        return self.by_band_.tail(12)

    def _repr_html_(self) -> str:
        if not hasattr(self, "by_band_"):
            return unfitted_html(repr(self), "fit_data(data)")
        return html_block(f"Contacts and cost to serve by {PERIODS[self.period]}", self.summary,
                          ["Per customer active in the period; band of the customer's last answer."], digits=3,
                          read_next={"by_band_": "every period, not only the last 12", "plot()": "the chart"})

    def __repr__(self) -> str:
        if not hasattr(self, "by_band_"):
            return f"ContactRates(period={self.period!r})  # unfitted"
        periods = self.by_band_["period"].nunique() if "period" in self.by_band_ else len(self.by_band_)
        return f"ContactRates(period={self.period!r}): contacts and cost per customer, {periods} periods"

    def plot(self, ax=None, **kwargs):
        """Contacts (or cost) per customer per period, a line per band (see :func:`cxkit.plots.plot_contacts`)."""
        from cxkit.drawing import draw

        return draw("plot_contacts", self, ax=ax, **kwargs)
