"""The four aggregations behind the kit's scale, each written once as portable SQL.

Life tables (Kaplan-Meier, log-rank, RMST), covariate-pattern counts (Cox),
ledger flows and NPS counts are plain ``GROUP BY`` queries over one source.
The kit runs them in DuckDB; :mod:`cxkit.warehouse` hands the very same SQL
to any Ibis backend (``dialect="duckdb"``; sqlglot translates it for Spark,
BigQuery, Snowflake, ...), so only small tables ever come back to Python.

Examples
--------
>>> print(nps_counts_sql("responses", "M"))  # doctest: +NORMALIZE_WHITESPACE
SELECT CAST(date_trunc('month', "response_date") AS DATE) AS period_start, COUNT(*) AS n,
SUM(CASE WHEN "nps" BETWEEN 9 AND 10 THEN 1 ELSE 0 END) AS promoters,
SUM(CASE WHEN "nps" BETWEEN 0 AND 6 THEN 1 ELSE 0 END) AS detractors FROM responses WHERE "nps" IS NOT NULL GROUP BY 1
"""

from __future__ import annotations

from cxkit.periods import UNITS
from cxkit.sql import ident

__all__ = ["q", "exits_sql", "binary_events_sql", "bad_events_sql", "entries_sql", "patterns_sql", "flows_sql",
           "nps_counts_sql", "UNITS"]



q = ident  # a quoted SQL identifier (the kit's one quoting helper, cxkit.sql.ident)


def _segment(segment: str | None) -> str:
    return f"CAST({q(segment)} AS VARCHAR)" if segment else "'all'"


def _weight(weights: str | None) -> str:
    return f"CAST({q(weights)} AS DOUBLE)" if weights else "CAST(1 AS DOUBLE)"  # a bare 1.0 is DECIMAL


def exits_sql(src: str, duration: str, event: str, segment: str | None = None, weights: str | None = None) -> str:
    """Life table: events and censorings per segment and exit time.

    The event flags must have passed the one event check (:func:`cxkit.survival.lifetable.check_event_flag`):
    0/1 numbers or booleans, read here as numbers.
    """
    e = f"CAST({q(event)} AS DOUBLE)"
    if weights:
        w = _weight(weights)
        events, rows = f"SUM({w} * {e})", f"SUM({w})"
    else:
        events, rows = f"SUM({e})", "COUNT(*)"
    return (f"SELECT {_segment(segment)} AS segment, CAST({q(duration)} AS DOUBLE) AS time, "
            f"{events} AS events, {rows} - {events} AS censored FROM {src} GROUP BY 1, 2")


def binary_events_sql(src: str, event: str) -> str:
    """Smallest and largest event flag and the missing ones: for an integer or boolean column, 0 <= min,
    max <= 1 and none missing prove every flag is 0 or 1 (Parquet files answer it from their statistics)."""
    e = q(event)
    return f"SELECT MIN({e}), MAX({e}), COUNT(*) - COUNT({e}) FROM {src}"


def bad_events_sql(src: str, event: str, shown: int = 5) -> str:
    """Event flags other than 0/1 (or True/False): the ``shown`` commonest values (missing as NULL), each
    with its rows, the rows at fault in all and the number of distinct values at fault."""
    e = q(event)
    return (f"SELECT value, n, SUM(n) OVER () AS total, COUNT(*) OVER () AS kinds FROM ("
            f"SELECT CAST({e} AS VARCHAR) AS value, COUNT(*) AS n FROM {src} "
            f"WHERE {e} IS NULL OR CAST({e} AS DOUBLE) NOT IN (0, 1) GROUP BY 1) bad "
            f"ORDER BY n DESC, value LIMIT {int(shown)}")


def entries_sql(src: str, entry: str, segment: str | None = None, weights: str | None = None) -> str:
    """Delayed entries per segment and entry time."""
    return (f"SELECT {_segment(segment)} AS segment, CAST({q(entry)} AS DOUBLE) AS time, "
            f"SUM({_weight(weights)}) AS entered FROM {src} GROUP BY 1, 2")


def patterns_sql(src: str, duration: str, event: str, covariates: dict, entry: str | None = None,
                 weights: str | None = None) -> str:
    """Distinct (covariates, entry, exit, event) rows with their counts, for an exact Efron Cox fit.

    ``covariates`` maps column -> ``"categorical"`` or ``"numeric"``.
    """
    cols = [f"CAST({q(c)} AS VARCHAR) AS {q(c)}" if kind == "categorical" else f"CAST({q(c)} AS DOUBLE) AS {q(c)}"
            for c, kind in covariates.items()]
    start = f"CAST({q(entry)} AS DOUBLE)" if entry else "0.0"
    keys = ", ".join(str(i) for i in range(1, len(cols) + 4))
    return (f"SELECT {', '.join(cols)}, CAST({q(duration)} AS DOUBLE) AS _stop, CAST({q(event)} AS DOUBLE) AS "
            f"_event, {start} AS _entry, SUM({_weight(weights)}) AS _w FROM {src} GROUP BY {keys}")


def flows_sql(src: str, date_col: str, period: str, slice_col: str | None = None, value: str | None = None,
              count: str | None = None) -> str:
    """Customers (and the sum of ``value``) per period of ``date_col`` and slice: new or lost counts.

    ``count`` names a column of customer counts when ``src`` is already grouped (rows = groups of customers).
    """
    total = f"SUM(CAST({q(value)} AS DOUBLE))" if value else "0.0"
    n = f"CAST(SUM({q(count)}) AS BIGINT)" if count else "COUNT(*)"
    return (f"SELECT CAST(date_trunc('{UNITS[period]}', {q(date_col)}) AS DATE) AS period_start, "
            f"{_segment(slice_col)} AS slice, {n} AS n, {total} AS amount FROM {src} "
            f"WHERE {q(date_col)} IS NOT NULL GROUP BY 1, 2")


def nps_counts_sql(src: str, period: str, score: str = "nps", date_col: str = "response_date") -> str:
    """Answers, promoters and detractors per period."""
    s = q(score)
    return (f"SELECT CAST(date_trunc('{UNITS[period]}', {q(date_col)}) AS DATE) AS period_start, COUNT(*) AS n, "
            f"{_band_sum(s, 'promoter')} AS promoters, {_band_sum(s, 'detractor')} AS detractors "
            f"FROM {src} WHERE {s} IS NOT NULL GROUP BY 1")


def _band_sum(column: str, label: str, scale: str = "nps") -> str:
    """``SUM(CASE ...)`` of one band, its cut-offs read from :mod:`cxkit.scales` (portable to Spark SQL)."""
    from cxkit.scales import SCALES

    lo, hi = next((lo, hi) for lo, hi, name in SCALES[scale].cuts if name == label)
    return f"SUM(CASE WHEN {column} BETWEEN {lo} AND {hi} THEN 1 ELSE 0 END)"
