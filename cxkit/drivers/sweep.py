"""The risk-set moves of :func:`~cxkit.drivers.risk_sets.moves_sql`, by one compiled pass over each customer.

:func:`~cxkit.drivers.risk_sets.moves_sql` needs, per customer, the repeat
flag of each contact (the contact before it) and the running counts of
experiences and the latest band at every change day: in SQL, window sorts of
every contact and every change point. Here the contacts and answers are read
once, narrow (customer, day, complaint flag; customer, day, second, band), in
customer-then-day order (the order they are usually stored in: checked; the
customers and contacts are sorted by DuckDB, the answers by numpy, only if
not), and a numba-compiled loop walks each customer once: the repeat flags,
the ``+1`` steps on ``day + lag`` and ``-1`` steps on ``day + lag + window``
merged with the answers, and each spell's entry, exit and departure added to a
dense (pattern, day) table. The result is the frame ``moves_sql`` gives (the
same rows, columns and meaning, the ``day`` NULL row counting the spells), so
:func:`~cxkit.drivers.risk_sets.risk_sets` and the Cox fit read it unchanged.
Local engines only: a warehouse runs ``moves_sql``.

Examples
--------
>>> moves = sweep_moves(data, eh, ["complaints", "repeat_contacts"], ["plan"], "nps", codes)  # doctest: +SKIP
>>> list(moves.columns)                                                                         # doctest: +SKIP
['complaints', 'repeat_contacts', 'plan', 'earlier_band', 'day', 'enter', 'leave', 'events']
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numba import njit

from cxkit.drivers.frame import rate_sql
from cxkit.drivers.ordering import ordered
from cxkit.drivers.risk_sets import PRIOR_BAND, coded
from cxkit.errors import CxkitError
from cxkit.scales import band_sql
from cxkit.sql import INT64_TYPES, ident, literal

__all__ = ["sweep_moves", "leaver_groups", "Unordered"]

_LEVEL_BITS, _CODE_BITS = 21, 6  # a pattern packed in one int64: experience counts, then adjuster and band codes
_BATCH = 1 << 20  # rows per batch read


def sweep_moves(data, hazards, experiences: list[str], adjust: list[str], prior: str | None, codes: dict,
                only: str | None = None, since=None, sort: bool = True):
    """Entries, exits and events per pattern and day, as :func:`~cxkit.drivers.risk_sets.moves_sql` gives them.

    Parameters
    ----------
    data : CXData
        Dated data on a local engine (DuckDB), with a contacts table.
    hazards : ExperienceHazards
        The settings (``lag_days``, ``window_days``, ``repeat_days``) and the complaint kinds found in the data.
    experiences : list of str
        ``["complaints", "repeat_contacts"]`` or ``["repeat_contacts"]`` (no complaint kind in the data).
    adjust : list of str
        Adjusters (at most two, each with at most 63 levels), written as their level's number.
    prior : str or None
        The score whose band before the window the patterns carry (None: the band column stays NULL).
    codes : dict
        Adjuster (and ``earlier_band``) -> its levels, as :meth:`ExperienceHazards.fit_data` builds them.
    only : str or None
        A condition on ``customer_id``: only those customers (a group of ``chunk_customers``).
    since : datetime.date or None
        Also count, for each customer who left after this day, the experiences counting on the day they left
        (those of :meth:`ExperienceHazards._leavers_sql`, in the same pass; :func:`leaver_groups` adds their
        revenue and sums them up).
    sort : bool
        Customers or contacts not stored in id order are sorted by DuckDB (all of them, or the group ``only``
        names, at once); False raises :class:`Unordered` instead (the caller then sweeps in groups).

    Returns
    -------
    DataFrame, or (DataFrame, (ids, counts, rates)) with ``since``
        ``<experiences>, <adjusters>, earlier_band, day, enter, leave, events`` with the level numbers
        (:func:`~cxkit.drivers.risk_sets.risk_sets` reads them back), and one row with ``day`` NULL counting the
        spells. With ``since``, also the leavers' ids (the sweep's key: the id, or its rank among the customers'
        for an id that is not an integer; in id order), their count of each experience (leavers x experiences)
        and, when the rate is the customers' ``monthly_revenue`` (no revenue table), their rate (NaN: unknown; else
        None: :func:`leaver_groups` reads it).

    Examples
    --------
    >>> eh = ExperienceHazards()                                                    # doctest: +SKIP
    >>> eh._complaint_values = ["complaint"]                                        # doctest: +SKIP
    >>> sweep_moves(data, eh, ["complaints", "repeat_contacts"], [], None, {})      # doctest: +SKIP
    """
    if len(experiences) * _LEVEL_BITS + (len(adjust) + 1) * _CODE_BITS > 62 or any(
            len(codes.get(a, ())) >= 2 ** _CODE_BITS for a in [*adjust, PRIOR_BAND]):
        raise CxkitError("too many experiences, adjusters or levels for the compiled sweep")
    rated = since is not None and _rate_of_customers(data)  # the leavers' revenue read in the same pass
    people, contacts, answers = _queries(data, hazards, adjust, prior, codes, only, rated)
    con_id, con_day, steps = _experiences(data, contacts, hazards.repeat_days, "complaints" in experiences, sort)
    ans_id, ans_day, _, ans_band = ordered([np.asarray(c) for c in data.sql(answers).fetchnumpy().values()], 3)
    as_of = f"DATE {literal(data.as_of.isoformat())}" if data.as_of else "current_date"
    days = data.sql(f"SELECT coalesce(max(date_diff('day', signup_date, {as_of})), 0) + 1 FROM customers "
                    f"WHERE signup_date <= {as_of}").fetchone()[0]  # more than any customer is observed
    steady = (con_id, con_day, steps, ans_id, ans_day, ans_band, hazards.lag_days,
              hazards.lag_days + hazards.window_days)
    after = _NEVER if since is None else _epoch_day(since)
    leavers = []

    def sweep(cols, state):  # one batch of customers; its leavers after ``since`` kept
        ids, signup, total, churned = cols[:4]
        left = (churned != 0) & (total > 0) & (signup.astype(np.int64) + total > after)
        n_left = int(np.count_nonzero(left))
        lv_id, lv_counts = np.zeros(n_left, np.int64), np.zeros((n_left, len(experiences)), np.int32)
        state = _sweep(ids, signup, total, churned, _adjusters(cols[4:4 + len(adjust)], ids.size), *steady, after,
                       lv_id, lv_counts, *state)
        # the sweep lists the leavers in the customers' order: their revenue is that of the rows picked here
        leavers.append((lv_id, lv_counts, cols[-1][left] if rated else None))
        return state

    try:  # the customers a batch at a time, as stored, while they come in id order
        state, last = _start(len(experiences), len(adjust), days), None
        for cols in _read_ahead(data.sql(people), zero_copy_only=False):  # NULL: NaN
            if not cols[0].size:
                continue
            if (last is not None and cols[0][0] <= last) or (np.diff(cols[0]) <= 0).any():
                raise _Unordered
            last = cols[0][-1]
            state = sweep(cols, state)
    except _Unordered:  # all at once, sorted by DuckDB (a parallel sort)
        if not sort:
            raise Unordered("the customers are not stored in id order") from None
        leavers.clear()
        cols = [np.ma.filled(np.ma.asarray(c), np.nan) if rated and i == len(found) - 1 else np.asarray(c)
                for found in [data.sql(f"SELECT * FROM ({people}) ORDER BY 1").fetchnumpy()]
                for i, c in enumerate(found.values())]
        state = sweep(cols, _start(len(experiences), len(adjust), days))
    moves = _frame(state, [*experiences, *adjust, PRIOR_BAND], len(experiences))
    if since is None:
        return moves
    return moves, (np.concatenate([p[0] for p in leavers]) if leavers else np.zeros(0, np.int64),
                   np.concatenate([p[1] for p in leavers]) if leavers else np.zeros((0, len(experiences)), np.int32),
                   (np.concatenate([p[2] for p in leavers]) if leavers else np.zeros(0)) if rated else None)


def leaver_groups(data, parts: list, experiences: list[str], since) -> pd.DataFrame:
    """The leavers after ``since`` per count of experiences counting on the day they left, with their revenue:
    the table :meth:`ExperienceHazards._leavers_sql` gives (``<experiences>, leavers, revenue, rated``, in the
    order of the counts), from the leavers :func:`sweep_moves` counted (``parts``: its ``(ids, counts, rates)``
    of each group of customers) and the revenue rates of those leavers (:func:`~cxkit.drivers.frame.rate_sql`:
    those the sweep read with the customers, their ``monthly_revenue``, or else read for them alone).

    Examples
    --------
    >>> since = dt.date(2025, 9, 30)                                                            # doctest: +SKIP
    >>> moves, left = sweep_moves(data, eh, ["repeat_contacts"], [], None, {}, since=since)    # doctest: +SKIP
    >>> leaver_groups(data, [left], ["repeat_contacts"], since)                                # doctest: +SKIP
    """
    ids = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
    counts = (np.concatenate([p[1] for p in parts]) if parts else np.zeros((0, len(experiences)), np.int32))
    order = np.argsort(ids, kind="stable")  # the groups' leavers in id order, so sums run in one order
    ids, counts = ids[order], counts[order]
    if parts and all(len(p) > 2 and p[2] is not None for p in parts):  # their rates read by the sweep
        rate = np.concatenate([p[2] for p in parts]).astype(float)[order]
    else:
        rate = _leaver_rates(data, ids, since)
    # the leavers per count of each experience: the counts packed in one number (their order kept), grouped
    counts = counts.astype(np.int64)
    base = int(counts.max(initial=0)) + 1
    packed = np.zeros(ids.size, np.int64)
    for e in range(counts.shape[1]):
        packed = packed * base + counts[:, e]
    keys, group = np.unique(packed, return_inverse=True)
    levels = np.zeros((keys.size, counts.shape[1]), np.int64)
    for e in reversed(range(counts.shape[1])):
        keys, levels[:, e] = np.divmod(keys, base)
    known = ~np.isnan(rate)
    out = pd.DataFrame(levels, columns=experiences)
    out["leavers"] = np.bincount(group, minlength=len(levels)).astype(np.int64)
    out["revenue"] = np.bincount(group, weights=np.where(known, rate, 0.0), minlength=len(levels))
    out["rated"] = np.bincount(group, weights=known, minlength=len(levels)).astype(np.int64)
    return out


def _leaver_rates(data, ids: np.ndarray, since) -> np.ndarray:
    """The revenue rate (:func:`~cxkit.drivers.frame.rate_sql`; unknown: NaN) of each leaver after ``since`` of
    ``ids`` (the sweep's keys, sorted), read for those leavers alone."""
    as_of = f"DATE {literal(data.as_of.isoformat())}" if data.as_of else "current_date"
    end = f"CASE WHEN c.end_date <= {as_of} THEN c.end_date END"
    left = (f"c.signup_date <= {as_of} AND {end} IS NOT NULL AND {end} > DATE {literal(since.isoformat())} "
            f"AND date_diff('day', c.signup_date, {end}) > 0")  # as the sweep picks them
    key, join = _id_key(data)
    rates = rate_sql(data, f"SELECT c.customer_id FROM customers c WHERE {left}", where=left)
    found = data.sql(f"SELECT {key} AS id, CAST(x.rate AS DOUBLE) AS rate FROM ({rates}) x{join}").fetchnumpy()
    rate = np.full(ids.size, np.nan)
    if ids.size and found["id"].size:  # each leaver's rate (unknown: NaN), matched by id
        r_id = np.asarray(found["id"])
        r_rate = np.ma.filled(np.ma.asarray(found["rate"]).astype(float), np.nan)
        at = np.minimum(np.searchsorted(ids, r_id), ids.size - 1)
        hit = ids[at] == r_id
        rate[at[hit]] = r_rate[hit]
    return rate


_NEVER = np.iinfo(np.int64).max  # no customer leaves after this day


def _epoch_day(day) -> int:
    """Days from 1970-01-01 to ``day`` (a date), as the queries' ``date_diff``."""
    import datetime as dt

    return (day - dt.date(1970, 1, 1)).days


def _frame(state, names: list[str], n_exp: int) -> pd.DataFrame:
    """The sweep's tables as ``moves_sql``'s rows: one per (pattern, day) cell a row of it added to (codes 0 as
    NULL), then the spells counted with ``day`` NULL."""
    acc, pats, _, _, counts = state
    pid, day = np.nonzero(acc[:counts[0], :, 3])
    cells = acc[pid, day, :3].T
    none = np.zeros(day.size, dtype=bool)
    cols = {}
    for i, name in enumerate(names):
        values = pats[pid, i]
        cols[name] = pd.arrays.IntegerArray(np.append(values, 0).astype(np.int32),
                                            np.append(values == 0 if i >= n_exp else none, True))
    cols["day"] = pd.arrays.IntegerArray(np.append(day, 0).astype(np.int32), np.append(none, True))
    cols["enter"] = np.append(cells[0], counts[3]).astype(np.int64)
    cols["leave"] = np.append(cells[1], counts[4]).astype(np.int64)
    cols["events"] = pd.arrays.IntegerArray(np.append(cells[2], 0).astype(np.int64), np.append(none, True))
    return pd.DataFrame(cols)


class _Unordered(Exception):
    """Rows not in id order: read them all and sort."""


class Unordered(Exception):  # noqa: N818 - says what was found, as _Unordered
    """Customers or contacts not stored in id order, and :func:`sweep_moves` was asked not to sort them."""


def _adjusters(cols: list, n: int) -> np.ndarray:
    return np.column_stack(cols).astype(np.int8) if cols else np.zeros((n, 0), np.int8)


def _start(n_exp: int, n_adj: int, days: int) -> tuple:
    """The sweep's empty tables: (enter, leave, events, rows of ``moves_sql``) per pattern and day, the patterns,
    the hash table of their keys and their numbers, and the counters (patterns, next contact, next answer, spells
    of each model)."""
    cap = 64
    return (np.zeros((cap, days, 4), np.int64), np.zeros((cap, n_exp + n_adj + 1), np.int64),
            np.full(4 * cap, -1, np.int64), np.zeros(4 * cap, np.int64), np.zeros(5, np.int64))


def _read_ahead(relation, batch: int = _BATCH, zero_copy_only: bool = True):
    """A relation's rows a batch at a time, as numpy columns, the next batch read (by DuckDB, in a thread)
    while the caller works on this one: DuckDB reads without the GIL, and the compiled loops release it,
    so reading and working overlap on two cores. Stopping early (an exception in the caller) waits for the batch
    being read, then lets go."""
    from concurrent.futures import ThreadPoolExecutor

    reader = relation.to_arrow_reader(batch)

    def read():  # StopIteration after the last batch
        got = reader.read_next_batch()
        return [got.column(i).to_numpy(zero_copy_only=zero_copy_only) for i in range(got.num_columns)]

    with ThreadPoolExecutor(1) as pool:
        ahead = pool.submit(read)
        while True:
            try:
                cols = ahead.result()
            except StopIteration:
                return
            ahead = pool.submit(read)
            yield cols


def _rate_of_customers(data) -> bool:
    """Whether a customer's revenue rate (:func:`~cxkit.drivers.frame.rate_sql`) is their ``monthly_revenue``
    (no revenue table), read in the sweep's pass over the customers."""
    return not data.has("revenue") and data.has("customers", "monthly_revenue")


def _queries(data, hazards, adjust, prior, codes, only, rated: bool = False) -> tuple[str, str, str]:
    """SQL for the customers (id, signup day, days observed, churned, adjuster codes; 0 for NULL; with ``rated``
    their ``monthly_revenue`` last), the contacts
    (id, day, complaint) and the answers (id, day, second of the day, band code; 0 for NULL), as stored. Days
    are days since 1970-01-01 (a customer's day since signup is the difference, as ``date_diff``'s)."""
    as_of = f"DATE {literal(data.as_of.isoformat())}" if data.as_of else "current_date"
    where = f" AND ({only})" if only else ""
    key, join = _id_key(data)
    epoch = "CAST(date_diff('day', DATE '1970-01-01', CAST({} AS DATE)) AS INTEGER)"
    end = f"CASE WHEN x.end_date <= {as_of} THEN x.end_date END"
    adj = "".join(f", CAST(coalesce({coded(f'CAST(x.{ident(a)} AS VARCHAR)', codes.get(a))}, 0) AS TINYINT) "
                  f"AS {ident(a)}" for a in adjust)
    people = (f"SELECT {key} AS id, {epoch.format('x.signup_date')} AS signup, "
              f"CAST(date_diff('day', x.signup_date, coalesce({end}, {as_of})) AS INTEGER) AS total, "
              f"CAST({end} IS NOT NULL AS TINYINT) AS churned{adj}"
              f"{', CAST(x.monthly_revenue AS DOUBLE) AS rate' if rated else ''} FROM customers x{join} "
              f"WHERE x.signup_date <= {as_of}{where}")
    values = getattr(hazards, "_complaint_values", None) or []
    complaint = f"coalesce(CAST(x.kind AS VARCHAR) IN ({', '.join(literal(v) for v in values) or 'NULL'}), false)"
    contacts = (f"SELECT {key} AS id, {epoch.format('x.date')} AS day, CAST({complaint} AS TINYINT) AS c "
                f"FROM contacts x{join} WHERE x.date IS NOT NULL AND x.customer_id IS NOT NULL{where}")
    if prior is None:
        return people, contacts, ("SELECT CAST(0 AS BIGINT) AS id, 0 AS day, 0 AS seq, CAST(0 AS TINYINT) AS band "
                                  "WHERE false")
    band = coded(band_sql(f"x.{ident(prior)}", prior), codes.get(PRIOR_BAND))
    answers = (f"SELECT {key} AS id, {epoch.format('x.response_date')} AS day, CAST(date_diff('second', "
               f"date_trunc('day', x.response_date), x.response_date) AS INTEGER) AS seq, "
               f"CAST(coalesce({band}, 0) AS TINYINT) AS band FROM responses x{join} "
               f"WHERE x.{ident(prior)} IS NOT NULL AND x.response_date IS NOT NULL{where}")
    return people, contacts, answers


def _id_key(data) -> tuple[str, str]:
    """The sweep's key of a customer (SQL over a table aliased ``x``) and the join it needs: the id itself when
    it is an integer (it orders the three tables), else its rank among the customers' ids."""
    id_type = str(data.sql("SELECT typeof(customer_id) FROM customers LIMIT 1").fetchone()[0]).upper()
    if id_type in INT64_TYPES:
        return "CAST(x.customer_id AS BIGINT)", ""
    return "i.i", (" JOIN (SELECT customer_id, CAST(row_number() OVER (ORDER BY customer_id) AS BIGINT) AS i "
                   "FROM customers) i USING (customer_id)")


def _experiences(data, query: str, repeat_days: int, complaints: bool, sort: bool = True) -> tuple:
    """The contacts that are experiences, in id-then-day order: id, day and their step per experience (the
    complaint flag, then the repeat flag: the contact before it within ``repeat_days``). Read a batch at a
    time, keeping only experiences, while the contacts come in order; else all at once and sorted (with
    ``sort`` False: :class:`Unordered` raised)."""
    def flags(ids, day, c, before):  # before: the (id, day) of the contact before the first, or None
        out_id, out_day = np.empty_like(ids), np.empty_like(day)
        steps = np.empty((ids.size, 1 + complaints), np.int8)
        kept = _flags(ids, day, c, before is not None, *(before or (0, 0)), repeat_days, complaints,
                      out_id, out_day, steps)
        if kept < 0:
            raise _Unordered
        return out_id[:kept].copy(), out_day[:kept].copy(), steps[:kept].copy()

    parts, last = [], None
    try:
        for ids, day, c in _read_ahead(data.sql(query)):
            if not ids.size:
                continue
            parts.append(flags(ids, day, c, last))  # _Unordered when not in order
            last = (ids[-1], day[-1])
    except _Unordered:  # all at once, sorted by DuckDB (a parallel sort; the order within a day does not matter:
        # a day's contacts add their steps on the same days whichever comes first)
        if not sort:
            raise Unordered("the contacts are not stored in id order") from None
        ids, day, c = [np.asarray(x) for x in data.sql(f"SELECT * FROM ({query}) ORDER BY 1, 2").fetchnumpy().values()]
        parts = [flags(ids, day, c, None)] if ids.size else []
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros((0, 1 + complaints), np.int8)
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(3))


@njit(cache=True, nogil=True)
def _flags(ids, day, c, has_before, before_id, before_day, repeat_days, complaints, out_id, out_day, steps):
    """The contacts that are experiences, written to ``out_id, out_day`` and ``steps`` (the complaint flag when
    ``complaints``, then the repeat flag: the contact before it, of the same customer, within ``repeat_days``;
    the one before the first is ``before`` when ``has_before``). Returns how many, or -1 when a contact comes
    before the one before it in id-then-day order (checked only after ``before``, which the first contact
    must not precede)."""
    kept = 0
    prev_id, prev_day, has_prev = before_id, before_day, has_before
    for i in range(ids.size):
        if has_prev and (ids[i] < prev_id or (ids[i] == prev_id and day[i] < prev_day)):
            return -1
        repeat = has_prev and ids[i] == prev_id and day[i] - prev_day <= repeat_days
        complaint = complaints and c[i] != 0
        if repeat or complaint:
            out_id[kept], out_day[kept] = ids[i], day[i]
            if complaints:
                steps[kept, 0] = 1 if complaint else 0
            steps[kept, steps.shape[1] - 1] = 1 if repeat else 0
            kept += 1
        prev_id, prev_day, has_prev = ids[i], day[i], True
    return kept


@njit(cache=True)
def _home(key, mask):
    """Where ``key`` is looked for first in an open-addressed table of ``mask + 1`` slots (Fibonacci hashing)."""
    return np.int64((np.uint64(key) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(24)) & mask


@njit(cache=True)
def _slot(key, table):
    """The slot of ``key`` in the open-addressed ``table`` (linear probing): where it is, or the empty one."""
    mask = table.size - 1
    s = _home(key, mask)
    while table[s] != -1 and table[s] != key:
        s = (s + 1) & mask
    return s


@njit(cache=True)
def _grow(acc, pats, table, pids):
    """The tables with twice the patterns' rows (the new ones zero), and a hash table twice the size."""
    n = pats.shape[0]
    grown = np.zeros((2 * n, acc.shape[1], acc.shape[2]), np.int64)
    grown[:n] = acc
    more = np.zeros((2 * n, pats.shape[1]), np.int64)
    more[:n] = pats
    new_table, new_pids = np.full(2 * table.size, -1, np.int64), np.zeros(2 * table.size, np.int64)
    for o in range(table.size):
        if table[o] != -1:
            t = _slot(table[o], new_table)
            new_table[t], new_pids[t] = table[o], pids[o]
    return grown, more, new_table, new_pids


@njit(cache=True)
def _known(row, n_exp, table, pids):
    """The number of ``row``'s pattern, or -1 when it is new."""
    sl = _slot(_key(row, n_exp), table)
    return pids[sl] if table[sl] != -1 else -1


@njit(cache=True)
def _pattern(row, n_exp, n_pat, acc, pats, table, pids):
    """The number of ``row``'s pattern, a new row of the tables if it is new (they double when full):
    ``(pattern, patterns so far, acc, pats, table, pids)``."""
    key = _key(row, n_exp)
    sl = _slot(key, table)
    if table[sl] == -1:
        if n_pat == pats.shape[0]:
            acc, pats, table, pids = _grow(acc, pats, table, pids)
            sl = _slot(key, table)
        table[sl], pids[sl], pats[n_pat] = key, n_pat, row
        n_pat += 1
    return pids[sl], n_pat, acc, pats, table, pids


@njit(cache=True)
def _key(row, n_exp):
    """A pattern packed in one int64: each experience count in 21 bits (offset), each code in 6."""
    key = np.int64(0)
    for e in range(n_exp):
        if row[e] <= -(1 << 20) or row[e] >= 1 << 20:
            raise ValueError("an experience count beyond the compiled sweep's range")
        key = (key << 21) | (row[e] + (1 << 20))
    for a in range(n_exp, row.size):
        key = (key << 6) | row[a]
    return key


@njit(cache=True, nogil=True)
def _sweep(ids, signup, total, churned, adj, con_id, con_day, con_steps, ans_id, ans_day, ans_band,
           lag, shift, after, lv_id, lv_counts, acc, pats, table, pids, counts):
    """Every customer once, in id order: the spells' entries, exits and departures added per (pattern, day).

    ``con_steps`` holds each contact's step per experience (0 or 1; contacts with none left out). The state
    (:func:`_start`) carries over from one batch of customers to the next (in id order): the (patterns, days, 4)
    table (enter, leave, events, and how many rows of ``moves_sql`` added to each cell), the patterns
    (experience counts, adjuster codes, band code; a code 0 is NULL), the hash table of their keys and their
    numbers, and the counters (patterns, next contact, next answer, spells of each model); returned updated.
    Each customer who left after the day ``after`` (days since 1970) gets a row of ``lv_id`` and ``lv_counts``
    (their experiences counting on the day they left: from ``lag`` days after one, for ``shift - lag`` days)."""
    n_exp, n_adj = con_steps.shape[1], adj.shape[1]
    n_left = 0
    n_pat, jc, ja, spells_all, spells_band = counts[0], counts[1], counts[2], counts[3], counts[4]
    row = np.zeros(n_exp + n_adj + 1, np.int64)
    for c in range(ids.size):
        cid = ids[c]
        while jc < con_id.size and con_id[jc] < cid:  # contacts and answers of no customer here
            jc += 1
        while ja < ans_id.size and ans_id[ja] < cid:
            ja += 1
        c0, a0 = jc, ja
        while jc < con_id.size and con_id[jc] == cid:
            jc += 1
        while ja < ans_id.size and ans_id[ja] == cid:
            ja += 1
        tot, s, ch = total[c], signup[c], churned[c]
        if tot <= 0:
            continue
        if ch != 0 and np.int64(s) + tot > after:  # a leaver of the period: the experiences counting that day
            lv_id[n_left] = cid
            for i in range(c0, jc):
                if con_day[i] - s + lag < tot <= con_day[i] - s + shift:
                    for e in range(n_exp):
                        lv_counts[n_left, e] += con_steps[i, e]
            n_left += 1
        for e in range(n_exp + n_adj + 1):
            row[e] = 0
        for a in range(n_adj):
            row[n_exp + a] = adj[c, a]
        zero = _known(row, n_exp, table, pids)  # the tables change (rarely) only for a new pattern
        if zero < 0:
            zero, n_pat, acc, pats, table, pids = _pattern(row, n_exp, n_pat, acc, pats, table, pids)
        # everyone's spell at level 0 from signup to the end
        spells_all += 1
        acc[zero, 0, 0] += 1
        acc[zero, 0, 3] += 1
        acc[zero, tot, 1] += 1
        acc[zero, tot, 2] += ch
        acc[zero, tot, 3] += 1
        prev, band = -1, 0
        iu, idn, ia = c0, c0, a0  # the next contact whose step up is to come, its step down, the next answer
        while True:
            while iu < jc and con_day[iu] - s + lag < 0:
                iu += 1
            while idn < jc and con_day[idn] - s + shift < 0:
                idn += 1
            while ia < ja and ans_day[ia] - s + shift < 0:
                ia += 1
            day = tot
            if iu < jc:
                day = min(day, con_day[iu] - s + lag)
            if idn < jc:
                day = min(day, con_day[idn] - s + shift)
            if ia < ja:
                day = min(day, ans_day[ia] - s + shift)
            if day >= tot:
                break
            is_exp = False
            while iu < jc and con_day[iu] - s + lag == day:
                for e in range(n_exp):
                    row[e] += con_steps[iu, e]
                is_exp = True
                iu += 1
            while idn < jc and con_day[idn] - s + shift == day:
                for e in range(n_exp):
                    row[e] -= con_steps[idn, e]
                is_exp = True
                idn += 1
            while ia < ja and ans_day[ia] - s + shift == day:
                if ans_band[ia] != 0:  # of a day's answers the latest counts
                    band = ans_band[ia]
                ia += 1
            row[-1] = band
            pid = _known(row, n_exp, table, pids)  # the tables change (rarely) only for a new pattern
            if pid < 0:
                pid, n_pat, acc, pats, table, pids = _pattern(row, n_exp, n_pat, acc, pats, table, pids)
            if prev < 0:  # the spell at level 0 from signup ends here, not at the end
                acc[zero, day, 1] += 1
                acc[zero, day, 3] += 1
                acc[zero, tot, 1] -= 1
                acc[zero, tot, 2] -= ch
                acc[zero, tot, 3] += 1
            else:
                acc[prev, day, 1] += 1
                acc[prev, day, 3] += 1
            acc[pid, day, 0] += 1
            acc[pid, day, 3] += 1
            if is_exp and day > 0:
                spells_all += 1
            if band != 0:
                spells_band += 1
            prev = pid
        if prev >= 0:
            acc[prev, tot, 1] += 1
            acc[prev, tot, 2] += ch
            acc[prev, tot, 3] += 1
    counts[0], counts[1], counts[2], counts[3], counts[4] = n_pat, jc, ja, spells_all, spells_band
    return acc, pats, table, pids, counts
