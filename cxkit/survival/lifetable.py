"""Aggregate survival data to a life table in DuckDB: counts per segment and time.

Kaplan-Meier, log-rank and RMST need only, per segment and distinct time, the
number of events, censorings and (with delayed entry) entries. DuckDB computes
these with one GROUP BY, so a table of 10 million customers is never expanded
in Python; the estimators downstream are exactly the row-level ones.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"t": [1, 2, 2, 3], "e": [1, 1, 0, 1], "g": ["a", "a", "b", "b"]})
>>> lt = LifeTable.from_frame(df, "t", "e", "g")
>>> lt.exits.to_dict("list")["events"]
[1.0, 1.0, 0.0, 1.0]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from cxkit.errors import CxkitError

__all__ = ["LifeTable", "SqlSource"]


_NUMBER = re.compile(r"U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?\b|DOUBLE|FLOAT|REAL|DECIMAL")
_INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                  "UBIGINT", "UHUGEINT"}


def _q(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


class SqlSource:
    """Run SQL over ``_src``: a DataFrame (in a fresh DuckDB) or a relation (on its own connection).

    Parameters
    ----------
    source : DataFrame or duckdb.DuckDBPyRelation
    columns : list of str
        Columns the SQL needs; a DataFrame missing one raises a clear error.
    what : str
        Name of the analysis, for error messages.
    """

    def __init__(self, source, columns, what: str = "survival data"):
        self.source, self._con = source, None
        missing = [c for c in columns if c not in source.columns]
        if missing:
            raise CxkitError(f"{what}: missing column(s) {missing}")
        if isinstance(source, pd.DataFrame):
            from cxkit.engine import connect

            self._con = connect()
            self._con.register("_src", source[list(dict.fromkeys(columns))])

    def df(self, sql: str) -> pd.DataFrame:
        if self._con is not None:
            return self._con.execute(sql).df()
        return self.source.query("_src", sql).df()

    def rows(self, sql: str) -> list:
        if self._con is not None:
            return self._con.execute(sql).fetchall()
        return self.source.query("_src", sql).fetchall()

    def check_events(self, column: str, what: str = "survival data") -> None:
        """The one event check (:func:`check_event_flag`) on ``column`` of this source."""
        rel = self._con.sql("SELECT * FROM _src") if self._con is not None else self.source
        kind = str(dict(zip(rel.columns, rel.types, strict=True))[column]).upper()
        check_event_flag(self.rows, "_src", column, kind, what)


def check_event_flag(run, src: str, column: str, kind: str | None = None, what: str = "survival data") -> None:
    """The one check of event flags, shared by every estimator: 0/1 numbers or True/False, nothing else.

    R's ``Surv`` also takes booleans; a flag such as 0.4 (which R drops with a warning) or a 1/2 coding
    (which R reads as censored/event) is refused here, by name, so it never silently counts as censored.

    Parameters
    ----------
    run : callable
        ``run(sql) -> list of rows`` on the engine holding ``src``.
    src : str
        The table (or subquery) to read.
    column : str
        The event column.
    kind : str, optional
        Its SQL type, when known: integer and boolean columns are proven 0/1 from min, max and the missing
        count (Parquet answers those from statistics); other numbers are scanned; text is refused.

    Raises
    ------
    CxkitError
        Naming the column, a few values at fault and the rows holding them.
    """
    from cxkit.aggregate import bad_events_sql, binary_events_sql

    if kind is not None and kind != "BOOLEAN" and not _NUMBER.match(kind):
        shown = run(f"SELECT CAST({_q(column)} AS VARCHAR) AS value, COUNT(*) AS n FROM {src} "
                    "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5")
        raise CxkitError(f"{what}: event column {column!r} is {kind}, not 0/1 or True/False (values "
                         + ", ".join(f"{'missing' if v is None else repr(v)} ({n:,})" for v, n in shown) + ")")
    if kind in _INTEGER_TYPES | {"BOOLEAN"}:
        low, high, missing = run(binary_events_sql(src, column))[0]
        if low is None or (low >= 0 and high <= 1 and missing == 0):
            return
    bad = run(bad_events_sql(src, column))
    if bad:
        raise event_flag_error({_number(v): n for v, n, _, _ in bad}, column, what, total=bad[0][2],
                               kinds=bad[0][3])


def _number(text):
    """A value read back from its text: 2 for '2' or '2.0', 0.4, None for missing, else the text."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() else value


@dataclass(frozen=True)
class LifeTable:
    """Exits and entries per segment and time.

    Attributes
    ----------
    exits : DataFrame
        ``segment, time, events, censored`` (weighted counts), sorted by segment and time.
    entries : DataFrame or None
        ``segment, time, entered``: delayed entries; None when everyone is at risk from the start.
    """

    exits: pd.DataFrame
    entries: pd.DataFrame | None = None

    @property
    def segments(self) -> list:
        return list(pd.unique(self.exits["segment"]))

    @classmethod
    def from_frame(cls, source, duration_col: str, event_col: str, segment_col: str | None = None,
                   entry_col: str | None = None, weights_col: str | None = None,
                   what: str = "survival data") -> LifeTable:
        """Build the life table from a DataFrame or DuckDB relation, aggregating in DuckDB.

        Parameters
        ----------
        source : DataFrame or duckdb.DuckDBPyRelation
            One row per subject (or per subject pattern with a count in ``weights_col``).
        duration_col, event_col : str
            Time at exit and the event flag (1 event, 0 censored).
        segment_col : str, optional
            Segment of each row; without it, one segment named ``"all"``.
        entry_col : str, optional
            Time at entry (left truncation): a row is at risk at t when entry < t <= duration.
        weights_col : str, optional
            Whole-number frequency of each row.
        what : str
            The analysis, named in error messages.

        Raises
        ------
        CxkitError
            Negative or missing durations, event flags other than 0/1 or True/False, entry not before exit.
        """
        cols = [c for c in (duration_col, event_col, segment_col, entry_col, weights_col) if c]
        src = SqlSource(source, cols, what)
        from cxkit.aggregate import entries_sql, exits_sql

        src.check_events(event_col, what)
        exits = src.df(exits_sql("_src", duration_col, event_col, segment_col, weights_col))
        _check(exits, what)
        if entry_col:
            _check_entry(src, _q(duration_col), _q(entry_col))
        entries = src.df(entries_sql("_src", entry_col, segment_col, weights_col)) if entry_col else None
        return cls.from_counts(exits, entries)

    @classmethod
    def from_counts(cls, exits: pd.DataFrame, entries: pd.DataFrame | None = None) -> LifeTable:
        """A life table from counts computed elsewhere (``segment, time, events, censored``; entries likewise)."""
        exits = exits.drop(columns=["bad_events"], errors="ignore").astype(
            {"segment": str, "time": float, "events": float, "censored": float})  # engines differ in types
        exits = exits.sort_values(["segment", "time"], ignore_index=True)
        if entries is not None:
            entries = entries.astype({"segment": str, "time": float, "entered": float}).sort_values(
                ["segment", "time"], ignore_index=True)
        return cls(exits, entries)

    def subset(self, segments) -> LifeTable:
        """The life table of some segments only."""
        keep = set(segments)
        entries = None if self.entries is None else self.entries[self.entries["segment"].isin(keep)]
        return LifeTable(self.exits[self.exits["segment"].isin(keep)], entries)

    def grid(self, segments=None, times=None):
        """At-risk and event counts of each segment on a common time grid.

        Returns
        -------
        times : ndarray (k,)
            Distinct exit times of the chosen segments (or ``times`` if given).
        at_risk, events, censored : ndarray (k, g)
            Counts per time and segment; at risk at t means entry < t <= exit.
        """
        segments = list(segments if segments is not None else self.segments)
        parts = [self._arrays.get(s) for s in segments]
        if times is None:
            found = [p["t"] for p in parts if p is not None]
            grid = np.unique(np.concatenate(found)) if found else np.empty(0)
        else:
            grid = np.asarray(times, dtype=float)
        g = len(segments)
        at_risk = np.zeros((grid.size, g))
        events = np.zeros((grid.size, g))
        censored = np.zeros((grid.size, g))
        for j, part in enumerate(parts):
            if part is None:
                continue
            t, d, c = part["t"], part["d"], part["c"]
            pos = np.searchsorted(grid, t)
            ok = (pos < grid.size) & (grid[np.minimum(pos, grid.size - 1)] == t)
            np.add.at(events[:, j], pos[ok], d[ok])
            np.add.at(censored[:, j], pos[ok], c[ok])
            gone = part["gone"][np.searchsorted(t, grid, side="left")]
            if "entry_t" not in part:
                entered = part["gone"][-1]
            else:
                entered = part["entered"][np.searchsorted(part["entry_t"], grid, side="left")]
            at_risk[:, j] = entered - gone
        return grid, at_risk, events, censored

    @cached_property
    def _arrays(self) -> dict:
        """Per segment, once: exit times, events, censored, cumulative exits (and entries) as arrays."""
        out = {}
        ex = self.exits
        t, d, c = (ex[k].to_numpy(dtype=float) for k in ("time", "events", "censored"))
        for s, idx in ex.groupby("segment", sort=False).indices.items():
            part = {"t": t[idx], "d": d[idx], "c": c[idx]}
            part["gone"] = np.concatenate([[0.0], np.cumsum(part["d"] + part["c"])])
            out[s] = part
        if self.entries is not None:
            en = self.entries
            et, entered = en["time"].to_numpy(dtype=float), en["entered"].to_numpy(dtype=float)
            groups = en.groupby("segment", sort=False).indices
            for s, part in out.items():
                idx = groups.get(s, np.array([], dtype=int))
                part["entry_t"] = et[idx]
                part["entered"] = np.concatenate([[0.0], np.cumsum(entered[idx])])
        return out


def _check(exits: pd.DataFrame, what: str) -> None:
    """Input rules, read off the aggregated table; the rows at fault are counted only when there are some."""
    rows = exits["events"] + exits["censored"]
    for problem, bad in (("missing duration", exits["time"].isna()), ("negative duration", exits["time"] < 0)):
        if bad.any():
            raise CxkitError(f"{what}: {problem} in {int(rows[bad].sum()):,} row(s)")


def event_flag_error(bad: dict, column: str = "event", what: str = "survival data", total: float | None = None,
                     kinds: int | None = None) -> CxkitError:
    """The one message every estimator gives for event flags other than 0/1 or True/False.

    ``bad`` maps value -> rows (the commonest first); ``total`` and ``kinds`` count every row and distinct
    value at fault when ``bad`` shows only some. R's ``Surv`` also reads 1/2 as censored/event; the kit
    refuses it rather than guess, so a 1 never silently means the opposite of what it means elsewhere.

    >>> print(event_flag_error({2: 165, -1: 3}, "status"))  # doctest: +NORMALIZE_WHITESPACE
    survival data: event column 'status' must hold 0/1 or True/False; 168 row(s) hold other values: 2 (165),
    -1 (3); a 1/2 coding (as R's lung data) must be recoded to 0/1 (event = status - 1)
    """
    n = int(total if total is not None else sum(bad.values()))
    values = ", ".join(f"{'missing' if v is None or v != v else v} ({int(c):,})" for v, c in list(bad.items())[:5])
    more = (kinds or len(bad)) - min(len(bad), 5)
    text = (f"{what}: event column {column!r} must hold 0/1 or True/False; {n:,} row(s) hold other values: "
            f"{values}" + (f" and {more:,} other value(s)" if more > 0 else ""))
    if 2 in bad:
        text += f"; a 1/2 coding (as R's lung data) must be recoded to 0/1 (event = {column} - 1)"
    return CxkitError(text)


def _check_entry(src: SqlSource, t: str, entry: str) -> None:
    n = src.rows(f"SELECT count(*) FILTER (WHERE {entry} IS NULL OR {entry} >= {t}) FROM _src")[0][0]
    if n:
        raise CxkitError(f"survival data: entry time not before exit time in {n:,} row(s)")
