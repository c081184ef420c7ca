"""The driver frame's answers collapsed to their patterns, by one compiled pass over the customers in id order.

:func:`~cxkit.drivers.frame.driver_frame` with ``relation="patterns"`` needs the
distinct rows of (score, drivers) with the answers of each. In SQL that is the
frame's joins (contacts near the answers, a window for the repeat flags, the
range join of answers to contacts, the customers) over every answer, then a
GROUP BY: about 1 GB of join state at ten million customers. Here the customers
(id, signup day, segment codes), the answers (id, day, scores) and the contacts
(id, day, kind code, cost) are read narrow, each once and a batch at a time, in
id-then-day order (the order they are usually stored in: checked), and a
numba-compiled loop walks each customer once: two pointers over the contacts
give each answer's window, the contact before each one its repeat flag, and
each answer's row is added to a hash table of patterns (int32 values, the
cost's bits in two of them). Only the patterns and their counts are kept, so
memory does not grow with the answers. Where there is room
(:func:`cxkit.engine.room_beside`), each chunk is counted in a thread of its own
(the compiled loop lets go of the GIL) while the next is read, which takes
about a second off the pass at ten million customers. Tables not stored in id
order are read a range of ids at a time (about :data:`ANSWERS_PER_GROUP`
answers) and sorted.

Local engines with integer customer ids and integer scores only
(:func:`compiled_patterns` returns None otherwise; the caller then groups the
SQL frame).

Examples
--------
>>> table = compiled_patterns(data, "nps", ["csat"], ["plan"], {"call": "call_contacts"}, True, 90, 7)  # doctest: +SKIP
>>> table.column_names                                                                       # doctest: +SKIP
['nps', 'tenure_months', 'plan', 'csat', 'call_contacts', 'repeat_contacts', 'contact_cost', 'answer_count']
"""

from __future__ import annotations

import numpy as np
from numba import njit

from cxkit.contract import DAYS_PER_MONTH
from cxkit.drivers.ordering import in_order, ordered
from cxkit.engine import arrow_table, room_beside, twin
from cxkit.sql import INT64_TYPES, ident, literal

__all__ = ["compiled_patterns", "ANSWERS_PER_GROUP"]

#: Answers per group of customers read at a time (the groups are ranges of ids, as many as this needs).
ANSWERS_PER_GROUP = 500_000
_NULL = np.iinfo(np.int32).min  # a NULL value in a pattern (scores, tenure, segment codes; values are int32)
_NO_DAY = np.iinfo(np.int32).min  # an answer without a date: no contacts, no tenure
_BATCH = 1 << 18  # rows per batch read (of each table: a few MB)


def compiled_patterns(data, score: str, others: list[str], segments: list[str], kinds: dict, has_cost: bool,
                      window_days: int, repeat_days: int, per_group: int | None = None):
    """The answers' patterns of the driver frame of dated data with their counts, or None where the compiled
    pass does not apply (a warehouse, ids or scores that are not integers).

    Parameters
    ----------
    data : CXData
        Dated data with a responses table.
    score : str
        The score whose answers are the rows (``nps``, ``csat``, ``effort``).
    others : list of str
        The other scores of the same answer, drivers (those the responses hold).
    segments : list of str
        The customers' segment columns (read as text, as the frame casts them).
    kinds : dict
        Contact kind -> its count column (:func:`~cxkit.drivers.frame.contact_kind_columns`; empty without
        contacts).
    has_cost : bool
        Whether the contacts have a cost (summed over the window as ``contact_cost``).
    window_days, repeat_days : int
        As :func:`~cxkit.drivers.frame.driver_frame` takes them.
    per_group : int, optional
        Answers per group of customers (default :data:`ANSWERS_PER_GROUP`).

    Returns
    -------
    pyarrow.Table or None
        ``<score>, tenure_months, <segments>, <others>``, with contacts ``<kind columns>, repeat_contacts`` and
        ``contact_cost`` (with ``has_cost``), then ``answer_count``: one row per distinct pattern, in no order.

    Examples
    --------
    >>> t = compiled_patterns(data, "nps", [], ["plan"], {}, False, 90, 7)     # doctest: +SKIP
    >>> t.column("answer_count").to_numpy().sum() == data.sql(
    ...     "SELECT count(*) FROM responses WHERE nps IS NOT NULL").fetchone()[0]   # doctest: +SKIP
    True
    """
    if getattr(data, "engine", "local") == "warehouse" or not _integers(data, score, others):
        return None
    contacts = data.has("contacts")
    levels = _levels(data, segments)
    width = 2 + len(segments) + len(others) + (len(kinds) + 1 if contacts else 0)
    steady = (np.int64(window_days), np.int64(repeat_days), len(kinds), np.float64(DAYS_PER_MONTH))
    ask = (score, others, segments, levels, kinds, has_cost, contacts)
    per_group = per_group or ANSWERS_PER_GROUP
    with _Counter(width, steady, room_beside(data.con)) as counter:
        try:  # the three tables read once each, a batch at a time, while they come in id-then-day order
            for chunk in _merged(_cursors(data, per_group), [_sql(data, "true", *ask, part=i) for i in range(3)]):
                counter.add(chunk)
        except _Unordered:  # not stored in id order: a range of ids at a time, each sorted
            counter.restart()
            for where in _groups(data, score, per_group):
                counter.add([ordered(_columns(arrow_table(data.sql(_sql(data, where, *ask, part=i))), i),
                                     1 if i == 0 else 2) for i in range(3)])
        state = counter.state()
    return _table(state, score, segments, levels, others, kinds, has_cost, contacts)


class _Counter:
    """The pattern table, each chunk of rows counted in turn: in a thread of its own where there is room (the
    compiled count lets go of the GIL), so the next chunk is read while this one is counted."""

    def __init__(self, width: int, steady: tuple, beside: bool):
        self.width, self.steady, self.pool, self.pending = width, steady, None, None
        self.counted = _start(width)
        if beside:
            from concurrent.futures import ThreadPoolExecutor

            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cxkit-patterns")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.pool is not None:
            self.pool.shutdown(wait=True)  # no count left running, whatever happened

    def add(self, chunk) -> None:
        """Count ``chunk`` (customers, answers, contacts of the same ids, each a list of arrays) after the ones
        before it."""
        people, answers, touches = chunk
        state = self.state()
        if self.pool is None:
            self.counted = _count(*people, *answers, *touches, *self.steady, *state)
        else:
            self.pending = self.pool.submit(_count, *people, *answers, *touches, *self.steady, *state)

    def state(self) -> tuple:
        """The pattern table with every chunk added so far counted."""
        if self.pending is not None:
            self.counted, self.pending = self.pending.result(), None
        return self.counted

    def restart(self) -> None:
        """An empty table again (what was counted waited for and let go)."""
        self.state()
        self.counted = _start(self.width)


class _Unordered(Exception):
    """A table not stored in id-then-day order."""


def _cursors(data, per_group: int) -> list:
    """Connections of their own (three tables are read at once) for the customers, answers and contacts.

    Each reads ``data`` on its search path (:func:`cxkit.engine.twin`), except for an audience's slice of loaded
    data whose tables are views on the whole data (not a batch's store, not copied into memory:
    :meth:`cxkit.load.CXData.subset`) with more answers than one range of ids holds. Its views pick answers and
    contacts by a join on its customers, and a parallel join gives its rows in no order, so the pass would fall
    back to ranges of ids, each read through the join again (10.7-13.9 s for a quarter of 10M customers, against
    3 s for everyone). Its answers and contacts are then read from the whole data, in the order they are stored:
    they hold every one of the slice's, and the pass counts only the answers of the customers it reads (the
    slice's), so the patterns are the same. The whole data's connection is a fresh one on the same database
    (its default schema holds the loaded tables), opened from the slice's: no other thread's connection is used.
    """
    whole = (data.parent is not None and data.store is None and not data.copied
             and data.row_counts.get("responses", 0) > per_group)
    return [twin(data.con), *(data.con.cursor() if whole else twin(data.con) for _ in range(2))]


def _integers(data, score: str, others: list[str]) -> bool:
    """Are the customer ids and the scores integers (ids of :data:`~cxkit.sql.INT64_TYPES`; scores, validated
    within their scale, are read as int32)?"""
    cols = ", ".join(f"typeof({ident(c)})" for c in ["customer_id", score, *others])
    row = data.sql(f"SELECT {cols} FROM responses LIMIT 1").fetchone()
    ids = data.sql("SELECT typeof(customer_id) FROM customers LIMIT 1").fetchone()
    return row is None or (all(str(t).upper() in INT64_TYPES for t in row)
                           and (ids is None or str(ids[0]).upper() in INT64_TYPES))


def _groups(data, score: str, per_group: int) -> list[str]:
    """Conditions on ``customer_id`` that split the customers into ranges of about ``per_group`` answers each,
    covering every id: the answers counted in 1,024 ranges of ids of equal width, adjacent ranges joined."""
    n, low, high = data.sql(f"SELECT count(*), min(customer_id), max(customer_id) FROM responses "
                            f"WHERE {ident(score)} IS NOT NULL").fetchone()
    if int(n) <= per_group:
        return ["true"]
    width = max(1, -(-(int(high) - int(low) + 1) // 1024))
    found = data.sql(f"SELECT (CAST(customer_id AS BIGINT) - {int(low)}) // {width} AS b, count(*) AS n "
                     f"FROM responses WHERE {ident(score)} IS NOT NULL AND customer_id IS NOT NULL "
                     "GROUP BY 1 ORDER BY 1").fetchall()
    edges, held = [], 0
    for bucket, count in found:
        if held and held + count > per_group:
            edges.append(int(low) + int(bucket) * width)
            held = 0
        held += count
    if not edges:
        return ["true"]
    out = [f"customer_id < {edges[0]}"]
    out += [f"customer_id >= {a} AND customer_id < {b}" for a, b in zip(edges, edges[1:], strict=False)]
    return [*out, f"customer_id >= {edges[-1]}"]


def _levels(data, segments: list[str]) -> list[list[str]]:
    """The levels of each segment (as text, in text order), read in one pass over the customers."""
    if not segments:
        return []
    lists = ", ".join(f"list(DISTINCT CAST({ident(s)} AS VARCHAR) ORDER BY CAST({ident(s)} AS VARCHAR))"
                      for s in segments)
    return [[v for v in found if v is not None] for found in data.sql(f"SELECT {lists} FROM customers").fetchone()]


def _sql(data, where: str, score, others, segments, levels, kinds, has_cost, contacts, part: int) -> str:
    """The customers (``part`` 0: id, signup date, segment codes), answers (1: id, date, score and other scores) or
    contacts (2: id, date, kind code, cost) of the customers ``where`` picks, as stored. A NULL score is
    :data:`_NULL`, a NULL segment or another kind -1 (codes are places in ``levels`` and ``kinds``, read by
    ``list_position``: cheaper than a CASE on text)."""
    if part == 0:
        segs = "".join(f", {_code(s, levels[j])} AS {ident(s)}" for j, s in enumerate(segments))
        return (f"SELECT CAST(customer_id AS BIGINT) AS id, CAST(signup_date AS DATE) AS signup{segs} "
                f"FROM customers WHERE customer_id IS NOT NULL AND {where}")
    if part == 1:
        vals = ", ".join(f"coalesce(CAST({ident(c)} AS INTEGER), {_NULL}) AS {ident(c)}" for c in [score, *others])
        return (f"SELECT CAST(customer_id AS BIGINT) AS id, CAST(response_date AS DATE) AS day, {vals} "
                f"FROM responses WHERE {ident(score)} IS NOT NULL AND customer_id IS NOT NULL AND {where}")
    if not contacts:
        return ("SELECT CAST(0 AS BIGINT) AS id, CAST(NULL AS DATE) AS day, CAST(0 AS TINYINT) AS kind, "
                "CAST(0 AS DOUBLE) AS cost WHERE false")
    cost = "coalesce(CAST(cost AS DOUBLE), 0)" if has_cost else "CAST(0 AS DOUBLE)"
    return (f"SELECT CAST(customer_id AS BIGINT) AS id, CAST(date AS DATE) AS day, "
            f"CAST({_code('kind', list(kinds))} AS TINYINT) AS kind, {cost} AS cost FROM contacts "
            f"WHERE date IS NOT NULL AND customer_id IS NOT NULL AND {where}")


def _code(column: str, levels: list[str]) -> str:
    """The place (0, 1, ...) of a column's text among ``levels``, -1 for NULL or another value, as SQL."""
    if not levels:
        return "CAST(-1 AS INTEGER)"
    listed = ", ".join(literal(v) for v in levels)
    return f"CAST(coalesce(list_position([{listed}], CAST({ident(column)} AS VARCHAR)), 0) - 1 AS INTEGER)"


def _columns(batch, part: int) -> list:
    """An Arrow batch (or table) of :func:`_sql`'s ``part`` as the compiled pass's arrays: id, day (days since
    1970-01-01; NULL: :data:`_NO_DAY`), then the other columns as one (rows x columns) array, or for contacts
    (part 2) kind and cost."""
    import pyarrow as pa
    import pyarrow.compute as pc

    day = pc.fill_null(batch.column(1).cast(pa.int32()), _NO_DAY)
    cols = [np.asarray(batch.column(i).to_numpy()) for i in range(batch.num_columns) if i != 1]
    cols.insert(1, np.asarray(day.to_numpy()))
    if part == 2:
        return cols
    rest = (np.column_stack(cols[2:]).astype(np.int32, copy=False) if len(cols) > 2
            else np.zeros((cols[0].size, 0), np.int32))
    return [cols[0], cols[1], rest]


class _Stream:
    """One table's rows a batch at a time, the rows of ids not yet counted held over."""

    def __init__(self, relation, part: int):
        self.reader, self.part, self.cols, self.done = relation.to_arrow_reader(_BATCH), part, None, False

    @property
    def size(self) -> int:
        return 0 if self.cols is None else self.cols[0].size

    def fill(self) -> None:
        """The next batch after the rows held (:class:`_Unordered` if it comes before them)."""
        try:
            cols = _columns(self.reader.read_next_batch(), self.part)
        except StopIteration:
            self.done = True
            return
        if self.size:
            cols = [np.concatenate([a, b]) for a, b in zip(self.cols, cols, strict=True)]
        if not in_order(*cols[:2 if self.part else 1]):
            raise _Unordered
        self.cols = cols

    def take(self, upto) -> list:
        """The rows held with an id before ``upto`` (None: all of them), let go."""
        if self.cols is None:
            return None
        cut = self.size if upto is None else int(np.searchsorted(self.cols[0], upto))
        out = [c[:cut] for c in self.cols]
        self.cols = [c[cut:] for c in self.cols]
        return out


def _merged(cursors: list, queries: list[str]):
    """The rows of the customers, answers and contacts ``queries`` give (each in id-then-day order, each read
    on its connection of ``cursors``, closed at the end), a run of ids at a time: every row of those ids, none of
    later ones."""
    try:
        empty = [_columns(arrow_table(cur.sql(f"SELECT * FROM ({q}) WHERE false")), i)
                 for i, (cur, q) in enumerate(zip(cursors, queries, strict=True))]  # before: a query ends a stream
        streams = [_Stream(cur.sql(q), i) for i, (cur, q) in enumerate(zip(cursors, queries, strict=True))]
        while True:
            for s in streams:
                while not s.done and not s.size:
                    s.fill()
            live = [s for s in streams if not s.done]
            upto = min(int(s.cols[0][-1]) for s in live) if live else None
            parts = [s.take(upto) for s in streams]
            yield [p if p is not None else e for p, e in zip(parts, empty, strict=True)]
            if not live:
                return
            for s in live:
                if s.size and s.cols[0][-1] == upto:
                    s.fill()
    finally:
        for cur in cursors:
            cur.close()


def _start(width: int) -> tuple:
    """The empty pattern table: values (patterns x width, int32; the cost's bits in the last two), counts, the
    hash table (a slot: pattern number or -1, and 32 bits of the pattern's hash), and the number of patterns."""
    cap = 1024
    table = np.zeros((2 * cap, 2), np.int32)
    table[:, 0] = -1
    return np.zeros((cap, width + 2), np.int32), np.zeros(cap, np.int64), table, np.zeros(1, np.int64)


@njit(cache=True)
def _hash(row):
    h = np.uint64(0x9E3779B97F4A7C15)
    for v in row:
        h = (h ^ np.uint64(np.uint32(v))) * np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(31)
    return h


@njit(cache=True)
def _slot(row, h, vals, table):
    """The slot of ``row`` (hash ``h``) in ``table``: where it is, or the empty one to put it in."""
    mask = table.shape[0] - 1
    tag = np.int32(np.uint32(h >> np.uint64(32)))
    s = np.int64(h & np.uint64(mask))
    while table[s, 0] != -1:
        if table[s, 1] == tag:
            p = table[s, 0]
            same = True
            for j in range(row.size):
                if vals[p, j] != row[j]:
                    same = False
                    break
            if same:
                return s
        s = (s + 1) & mask
    return s


@njit(cache=True)
def _grow(vals, counts, table):
    """The tables with room for twice the patterns."""
    p = vals.shape[0]
    more, more_n = np.zeros((2 * p, vals.shape[1]), np.int32), np.zeros(2 * p, np.int64)
    more[:p], more_n[:p] = vals, counts
    slots = np.zeros((4 * p, 2), np.int32)
    slots[:, 0] = -1
    for q in range(p):
        t = _slot(more[q], _hash(more[q]), more, slots)
        slots[t, 0], slots[t, 1] = q, np.int32(np.uint32(_hash(more[q]) >> np.uint64(32)))
    return more, more_n, slots


@njit(cache=True, nogil=True)
def _count(c_id, c_signup, c_seg, a_id, a_day, a_val, k_id, k_day, k_kind, k_cost, window, repeat_days,
           n_kinds, days_per_month, vals, counts, table, n):
    """Every answer of these customers (each table in id-then-day order) counted in its pattern: score,
    tenure in whole months, segment codes, other scores, then with contacts the count of each kind and of
    repeat contacts in the ``window`` days before the answer (``day - window <= contact < day``; a repeat
    contact comes within ``repeat_days`` of the customer's contact before it) and the bits of their cost. Answers
    of an id the customers do not hold are left out (the frame's join)."""
    n_seg, n_oth = c_seg.shape[1], a_val.shape[1] - 1
    width = vals.shape[1]
    first_kind = 2 + n_seg + n_oth
    contacts = width - 2 > first_kind
    rep = first_kind + n_kinds
    row = np.zeros(width, np.int32)
    cost = np.zeros(1)
    bits = cost.view(np.int32)
    jc, jk, i, p_n = 0, 0, 0, n[0]
    while i < a_id.size:
        cid = a_id[i]
        e = i
        while e < a_id.size and a_id[e] == cid:
            e += 1
        while jc < c_id.size and c_id[jc] < cid:
            jc += 1
        if jc == c_id.size or c_id[jc] != cid:
            i = e
            continue
        while jk < k_id.size and k_id[jk] < cid:
            jk += 1
        k0 = jk
        while jk < k_id.size and k_id[jk] == cid:
            jk += 1
        signup = np.int64(c_signup[jc])
        lo, hi = k0, k0
        for a in range(i, e):
            day = np.int64(a_day[a])
            row[0] = a_val[a, 0]
            if day == _NO_DAY or signup == _NO_DAY:
                row[1] = _NULL
            else:
                row[1] = np.int32(np.floor((day - signup) / days_per_month))
            for s in range(n_seg):
                row[2 + s] = c_seg[jc, s]
            for o in range(n_oth):
                row[2 + n_seg + o] = a_val[a, 1 + o]
            cost[0] = 0.0
            if contacts:
                for j in range(first_kind, width - 2):
                    row[j] = 0
                if day != _NO_DAY:
                    while hi < jk and k_day[hi] < day:
                        hi += 1
                    while lo < hi and k_day[lo] < day - window:
                        lo += 1
                    for t in range(lo, hi):
                        if k_kind[t] >= 0:
                            row[first_kind + k_kind[t]] += 1
                        if t > k0 and np.int64(k_day[t]) - k_day[t - 1] <= repeat_days:
                            row[rep] += 1
                        cost[0] += k_cost[t]
            cost[0] += 0.0  # -0.0 is 0.0, as SQL groups them
            row[width - 2], row[width - 1] = bits[0], bits[1]
            h = _hash(row)
            s = _slot(row, h, vals, table)
            if table[s, 0] != -1:
                counts[table[s, 0]] += 1
                continue
            if p_n == vals.shape[0]:  # full: twice the room
                vals, counts, table = _grow(vals, counts, table)
                s = _slot(row, h, vals, table)
            vals[p_n] = row
            counts[p_n] = 1
            table[s, 0], table[s, 1] = p_n, np.int32(np.uint32(h >> np.uint64(32)))
            p_n += 1
        i = e
    n[0] = p_n
    return vals, counts, table, n


def _table(state, score, segments, levels, others, kinds, has_cost, contacts):
    """The patterns as an Arrow table (NULLs where a value is :data:`_NULL`; segments as their text, a dictionary
    of their levels)."""
    import pyarrow as pa

    vals, counts, _, n = state
    p = int(n[0])
    cols, names = [], [score, "tenure_months", *segments, *others]
    for j in range(len(names)):
        v = vals[:p, j]
        segment = 2 <= j < 2 + len(segments)
        null = v < 0 if segment else v == _NULL
        if segment:
            cols.append(pa.DictionaryArray.from_arrays(pa.array(v, pa.int32(), mask=null),
                                                       pa.array(levels[j - 2], pa.string())))
        else:
            cols.append(pa.array(v, pa.int32(), mask=null))
    if contacts:
        first = len(names)
        names += [*kinds.values(), "repeat_contacts"]
        cols += [pa.array(vals[:p, first + j]) for j in range(len(kinds) + 1)]
        if has_cost:
            names.append("contact_cost")
            cols.append(pa.array(np.ascontiguousarray(vals[:p, -2:]).view(np.float64)[:, 0]))
    names.append("answer_count")
    cols.append(pa.array(counts[:p]))
    return pa.table(cols, names=names)
