"""Run the kit's aggregations where the data lives, through Ibis: only small tables come back.

The four aggregations of :mod:`cxkit.aggregate` (life tables, covariate-pattern
counts, ledger flows, NPS counts) are sent as SQL to any Ibis backend, which
translates them from DuckDB's dialect (sqlglot) and runs them next to the data:
DuckDB, Spark, BigQuery, Snowflake, Postgres, ... The estimators then work on
the returned counts exactly as they do locally.

Examples
--------
>>> import ibis                                                       # doctest: +SKIP
>>> from pyspark.sql import SparkSession                              # doctest: +SKIP
>>> wh = Warehouse(ibis.pyspark.connect(SparkSession.builder.getOrCreate()))   # doctest: +SKIP
>>> wh.survival("lake.churn_frame", "tenure_months", "churned", "nps_band").logrank_   # doctest: +SKIP
"""

from __future__ import annotations

import pandas as pd

from cxkit.aggregate import entries_sql, exits_sql, flows_sql, nps_counts_sql, patterns_sql, q

__all__ = ["Warehouse"]


class Warehouse:
    """The kit's estimators over tables in an Ibis backend.

    Parameters
    ----------
    backend : ibis backend
        E.g. ``ibis.duckdb.connect("lake.duckdb")`` or ``ibis.pyspark.connect(spark)``.
    """

    def __init__(self, backend):
        self.backend = backend

    def counts(self, sql: str) -> pd.DataFrame:
        """Run one aggregation (DuckDB dialect, translated for the backend) and return its small result."""
        return self.backend.sql(sql, dialect="duckdb").execute()

    def _src(self, table: str) -> str:
        return ".".join(q(part) for part in table.split("."))

    def _check_events(self, src: str, event: str, what: str) -> None:
        """The kit's one event check, run in the backend (a scan: its types are not read here)."""
        from cxkit.survival.lifetable import check_event_flag

        check_event_flag(lambda sql: list(self.counts(sql).itertuples(index=False, name=None)), src, event, None,
                         what)

    def life_table(self, table: str, duration: str, event: str, segment: str | None = None,
                   entry: str | None = None, weights: str | None = None):
        from cxkit.survival.lifetable import LifeTable

        src = self._src(table)
        self._check_events(src, event, "survival data")
        exits = self.counts(exits_sql(src, duration, event, segment, weights))
        entries = self.counts(entries_sql(src, entry, segment, weights)) if entry else None
        return LifeTable.from_counts(exits, entries)

    def survival(self, table: str, duration: str, event: str, segment: str | None = None, entry: str | None = None,
                 order=None, **options):
        """:class:`~cxkit.survival.SegmentSurvival` from a life table counted in the backend."""
        from cxkit.survival import SegmentSurvival

        return SegmentSurvival(order=order, **options).fit_life_table(
            self.life_table(table, duration, event, segment, entry), order=order)

    def cox(self, table: str, duration: str, event: str, covariates: dict, entry: str | None = None, **options):
        """:class:`~cxkit.survival.CoxModel` from covariate patterns counted in the backend (exact Efron ties).

        ``covariates`` maps column -> ``"categorical"`` or ``"numeric"``.
        """
        from cxkit.survival import CoxModel

        self._check_events(self._src(table), event, "Cox model")
        rows = self.counts(patterns_sql(self._src(table), duration, event, covariates, entry))
        for col, kind in covariates.items():
            if kind == "categorical":
                rows[col] = rows[col].astype(str)
        from cxkit.survival.cox import prepare_patterns

        rows, kinds = prepare_patterns(rows, dict(covariates), entry is not None, event)
        return CoxModel(**options).fit_patterns(rows, list(covariates), kinds, entry is not None)

    def ledger(self, customers: str, as_of, period: str = "M", slice_col: str | None = None,
               run_rate: str | None = None):
        """:class:`~cxkit.ledger.CustomerLedger` from sign-up and leaving flows counted in the backend.

        ``customers`` needs ``signup_date`` and ``end_date`` (empty while active, or after ``as_of``
        for customers still active then); ``run_rate`` names a monthly revenue column.
        """
        from cxkit.ledger import CustomerLedger

        day = f"DATE '{pd.Timestamp(as_of).date().isoformat()}'"
        src = (f"(SELECT signup_date, CASE WHEN end_date <= {day} THEN end_date END AS end_date"
               + (f", {q(slice_col)}" if slice_col else "") + (f", {q(run_rate)}" if run_rate else "")
               + f" FROM {self._src(customers)} WHERE signup_date <= {day}) c")
        new = self.counts(flows_sql(src, "signup_date", period, slice_col, run_rate))
        lost = self.counts(flows_sql(src, "end_date", period, slice_col, run_rate))
        return CustomerLedger(period, by=slice_col).fit_flows(new, lost, as_of)

    def nps_trend(self, responses: str, period: str = "M", **options):
        """:class:`~cxkit.trends.NPSTrend` from answer counts per period counted in the backend."""
        from cxkit.trends import NPSTrend

        return NPSTrend(period, **options).fit_counts(self.counts(nps_counts_sql(self._src(responses), period)))
