"""The gateway's key checks in one streamed read, for integer ids stored in order (DuckDB only).

The duplicate-id rule, the unknown-customer rule and the exact-repeat warning
are hash aggregates and hash joins in SQL: at ten million customers and 22
million contacts they are a third of the load (several CPU seconds each).
Most exports store customers by id, and contacts and answers by customer and
date, with integer ids. Then the questions have cheap exact answers:

* customer ids strictly increasing in storage order cannot repeat;
* with the customers' ids known unique and sorted, a child row's id is looked
  up in a bitmap of the id range (or by binary search when the ids are sparse);
* answers in (customer, time) order can repeat one another only where two of them share a customer and a time,
  side by side: only those customers' answers are grouped.

Each function answers only when its shortcut applies and returns None
otherwise, and then :mod:`cxkit.validate` runs its SQL as before. A shortcut
only ever says "nothing to report" or gives a count; the problem's wording and
example keys always come from the SQL, so both paths report the same.

Examples
--------
>>> import duckdb
>>> con = duckdb.connect()
>>> _ = con.execute("CREATE TABLE _typed_customers AS SELECT range + 1 AS customer_id FROM range(5)")
>>> _ = con.execute("CREATE TABLE _typed_contacts AS SELECT * FROM (VALUES (1), (2), (9)) t(customer_id)")
>>> ids = ordered_customer_ids(con)
>>> ids.tolist(), unknown_count(con, "contacts", ids)
([1, 2, 3, 4, 5], 1)
"""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc

from cxkit.sql import INT64_TYPES

__all__ = ["ordered_customer_ids", "unknown_count", "answer_rule_counts", "repeat_candidates"]

#: Rows per batch read.
BATCH = 1 << 20
#: A bitmap covers the id range when it is at most this many times the number of customers (else binary search).
SPARSE = 8


def _local(con) -> bool:
    import duckdb

    return isinstance(con, duckdb.DuckDBPyConnection)


def _type(con, table: str, column: str) -> str:
    return str(con.execute(f"DESCRIBE SELECT {column} FROM _typed_{table}").fetchall()[0][1]).upper()


def _integer_ids(con, table: str) -> bool:
    return _type(con, table, "customer_id") in INT64_TYPES


def _found(ids: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which of ``x`` are among ``ids`` (sorted, unique), and where (a place in ``ids``; any where not found)."""
    if not ids.size:
        return np.zeros(x.size, dtype=bool), np.zeros(x.size, dtype=np.intp)
    place = np.minimum(np.searchsorted(ids, x), ids.size - 1)
    return ids[place] == x, place


def _batches(con, query: str):
    """The query's rows a batch at a time, as stored (DuckDB keeps the insertion order of a scan)."""
    yield from con.sql(query).to_arrow_reader(BATCH)


def ordered_customer_ids(con) -> np.ndarray | None:
    """The customers' ids when they are integers, none empty, stored in strictly increasing order (so none
    repeats); None otherwise (or on a warehouse), and the duplicate rule then runs its SQL.

    Examples
    --------
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE _typed_customers AS SELECT * FROM (VALUES (3), (1)) t(customer_id)")
    >>> ordered_customer_ids(con) is None
    True
    """
    if not _local(con) or not _integer_ids(con, "customers"):
        return None
    parts, last = [], None
    for batch in _batches(con, "SELECT customer_id FROM _typed_customers"):
        column = batch.column(0)
        if column.null_count:
            return None
        ids = column.to_numpy().astype(np.int64, copy=False)
        if not ids.size:
            continue
        if (last is not None and ids[0] <= last) or bool((ids[1:] <= ids[:-1]).any()):
            return None
        last = ids[-1]
        parts.append(ids)
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


def unknown_count(con, table: str, ids: np.ndarray) -> int | None:
    """Rows of ``table`` whose customer id (not empty) is not among ``ids`` (sorted, unique; from
    :func:`ordered_customer_ids`), counted a batch at a time; None when the table's ids are not integers.

    Examples
    --------
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE _typed_revenue AS SELECT * FROM (VALUES (2), (NULL), (7)) t(customer_id)")
    >>> unknown_count(con, "revenue", np.array([1, 2, 3]))
    1
    """
    if not _local(con) or not _integer_ids(con, table):
        return None
    query = f"SELECT customer_id FROM _typed_{table} WHERE customer_id IS NOT NULL"
    if not ids.size:
        return int(con.execute(f"SELECT count(*) FROM ({query})").fetchone()[0])
    lo, hi = int(ids[0]), int(ids[-1])
    known = None
    if hi - lo < SPARSE * ids.size + 1024:  # a bitmap of the id range: one lookup per row
        known = np.zeros(hi - lo + 1, dtype=bool)
        known[ids - lo] = True
    missing = 0
    for batch in _batches(con, query):
        x = batch.column(0).to_numpy().astype(np.int64, copy=False)
        inside = (x >= lo) & (x <= hi)
        missing += int(x.size - np.count_nonzero(inside))
        x = x[inside]
        if known is not None:
            missing += int(x.size - np.count_nonzero(known[x - lo]))
        else:
            missing += int(x.size - np.count_nonzero(_found(ids, x)[0]))
    return missing


def answer_rule_counts(con, ids: np.ndarray, end: bool = True) -> tuple[int, int, int] | None:
    """The answers of an unknown customer, after their customer's end date and before their signup date, counted
    against ``ids`` (:func:`ordered_customer_ids`) in numpy, as the responses' rules count them with a join;
    None when the shortcut does not apply (ids not integers, dates not plain dates or times).

    ``end``: the customers have an end date.

    Examples
    --------
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE _typed_customers AS SELECT * FROM (VALUES (1, DATE '2024-01-01', NULL), "
    ...                 "(2, DATE '2024-01-01', DATE '2024-06-30')) t(customer_id, signup_date, end_date)")
    >>> _ = con.execute("CREATE TABLE _typed_responses AS SELECT * FROM (VALUES (1, DATE '2023-12-31'), "
    ...                 "(2, DATE '2024-07-01'), (3, DATE '2024-02-01')) t(customer_id, response_date)")
    >>> answer_rule_counts(con, np.array([1, 2]))
    (1, 1, 1)
    """
    plain = {"DATE", "TIMESTAMP"}
    if (not _local(con) or not _integer_ids(con, "responses") or _type(con, "responses", "response_date") not in plain
            or _type(con, "customers", "signup_date") != "DATE"
            or (end and _type(con, "customers", "end_date") != "DATE")):
        return None
    day_us = 86_400_000_000
    end_sql = "CAST(date_diff('day', DATE '1970-01-01', end_date) AS INTEGER)" if end else "NULL::INTEGER"
    days = con.execute(f"SELECT CAST(date_diff('day', DATE '1970-01-01', signup_date) AS INTEGER), {end_sql} "
                       "FROM _typed_customers").fetchnumpy()  # in the order of ``ids`` (a scan keeps it)
    first, last = (np.ma.asarray(days[k]) for k in list(days))
    first = np.ma.filled(first, np.iinfo(np.int32).min).astype(np.int32, copy=False)  # no date: never before it
    last = np.ma.filled(last, np.iinfo(np.int32).max).astype(np.int32, copy=False)  # no end: never after it
    unknown = after = before = 0
    query = ("SELECT customer_id, epoch_us(CAST(response_date AS TIMESTAMP)) FROM _typed_responses "
             "WHERE customer_id IS NOT NULL")
    for batch in _batches(con, query):
        x = batch.column(0).to_numpy().astype(np.int64, copy=False)
        dated = ~np.asarray(batch.column(1).is_null())
        at = pc.fill_null(batch.column(1), 0).to_numpy().astype(np.int64, copy=False)
        found, place = _found(ids, x)
        unknown += int(x.size - np.count_nonzero(found))
        place, at = place[found & dated], at[found & dated]
        ends, starts = last[place].astype(np.int64), first[place].astype(np.int64)
        after += int(np.count_nonzero((ends < np.iinfo(np.int32).max) & (at > ends * day_us)))
        before += int(np.count_nonzero((starts > np.iinfo(np.int32).min) & (at < starts * day_us)))
    return unknown, after, before


def repeat_candidates(con) -> np.ndarray | None:
    """The customers with two answers at the same time, when the answers come in (customer id, response time)
    order with integer ids and none empty; None otherwise (the repeat warning then groups every answer).

    An exact repeat (same customer, time and scores) needs two answers at the same time; in that order they sit
    side by side, so one streamed pass finds every such customer, and only their answers are grouped.

    Examples
    --------
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE _typed_responses AS SELECT * FROM (VALUES (1, TIMESTAMP '2024-01-01'), "
    ...                 "(1, TIMESTAMP '2024-01-01'), (2, TIMESTAMP '2024-01-01')) t(customer_id, response_date)")
    >>> repeat_candidates(con).tolist()
    [1]
    """
    if not _local(con) or not _integer_ids(con, "responses"):
        return None
    last, tied = None, []
    query = "SELECT customer_id, epoch_us(CAST(response_date AS TIMESTAMP)) FROM _typed_responses"
    for batch in _batches(con, query):
        if batch.column(0).null_count or batch.column(1).null_count:
            return None
        ids = batch.column(0).to_numpy().astype(np.int64, copy=False)
        at = batch.column(1).to_numpy().astype(np.int64, copy=False)
        if not ids.size:
            continue
        if last is not None:  # the batch's first row against the one before it
            if (ids[0], at[0]) < last:
                return None
            if (ids[0], at[0]) == last:
                tied.append(ids[:1])
        same_id = ids[1:] == ids[:-1]
        if bool(((ids[1:] < ids[:-1]) | (same_id & (at[1:] < at[:-1]))).any()):
            return None
        tied.append(ids[1:][same_id & (at[1:] == at[:-1])])
        last = (ids[-1], at[-1])
    return np.unique(np.concatenate(tied)) if tied else np.zeros(0, np.int64)
