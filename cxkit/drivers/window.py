"""The contacts in the window before each answer, by one pass over contacts stored in id order.

:func:`~cxkit.drivers.frame.driver_frame` gives each answer the customer's
contacts of each kind in the ``window_days`` before it (``d - window <=
contact day < d``), the repeat contacts among them (a contact within
``repeat_days`` after the customer's previous one) and their cost. In SQL that
is a window sort of the contacts (each one's previous) and a range join of
contacts to answers. Contacts are usually stored in customer-then-day order
(exports are; the benchmark's are), so here they are read once, a batch at a
time and narrow (customer, day, kind's number, cost), the order checked as
they come, and each batch is matched with the answers (sorted by numpy; a few
per customer) in numpy: each contact's repeat flag from the contact before it,
then its kind, repeat flag and cost added to every answer of the same customer
in the ``window_days`` after it. The counts are the SQL's (whole numbers); each
answer's cost is summed over its contacts in day order. No numba here: loading
it (about 170 MB) would land on the driver frame's peak, the temporary table of
every answer.

Contacts not stored in id order, ids that are not integers, dates that are not
dates, or a warehouse: ``None``, and the frame is built by the SQL as before.

Examples
--------
>>> counts = window_counts(data, {"call": "call_contacts"}, 90, 7, True)   # doctest: +SKIP
>>> counts.column_names                                                       # doctest: +SKIP
['customer_id', 'response_date', 'call_contacts', 'repeat_contacts', 'contact_cost']
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from cxkit.sql import ident, literal

__all__ = ["window_counts", "read_ahead", "BATCH"]

BATCH = 1 << 20  # rows read at a time

_EPOCH = "CAST(date_diff('day', DATE '1970-01-01', {}) AS INTEGER)"


def window_counts(data, kinds: dict, window_days: int, repeat_days: int, has_cost: bool, score: str):
    """Per answer (distinct customer and day, of the answers to ``score``) with a contact in the window: the
    customer's contacts of each kind in the ``window_days`` before it, the repeat contacts among them and
    their cost, as an Arrow table (``customer_id, response_date``, a column per kind in ``kinds``' order,
    ``repeat_contacts``, ``contact_cost`` with ``has_cost``); None when this pass does not apply
    (then the SQL of :func:`~cxkit.drivers.frame.driver_frame` computes them, with the same result).

    Parameters
    ----------
    data : CXData
        Dated data with responses and contacts.
    kinds : dict
        Contact kind -> its column (:func:`~cxkit.drivers.frame.contact_kind_columns`).
    window_days, repeat_days : int
    has_cost : bool
        Whether the contacts have a cost (summed per answer; a missing cost counts 0).
    score : str
        The score whose answers are the rows (answers without it need no counts).
    """
    if getattr(data, "engine", None) == "warehouse" or not _typed(data):
        return None
    answers = data.sql(f"SELECT customer_id, {_EPOCH.format('response_date')} AS day FROM responses "
                       f"WHERE {ident(score)} IS NOT NULL AND customer_id IS NOT NULL").fetchnumpy()
    a_id, a_day = np.asarray(answers["customer_id"]).astype(np.int64), np.asarray(answers["day"])
    if not a_id.size:
        return None
    # only the contacts that can count: of customers in the answers' range of ids, from the repeat days before
    # the first answer's window (a contact's previous one within the repeat days is then never left out) to the
    # last answer; days and ids counted from there, so that (customer, day) is one int64 key
    low_id, high_id = int(a_id.min()), int(a_id.max())
    low_day, high_day = int(a_day.min()) - window_days - repeat_days - 1, int(a_day.max())
    shift = (high_day - low_day + window_days + 2).bit_length()
    if high_id - low_id >= 1 << (62 - shift):  # the key would not fit one int64
        return None
    a_key = np.sort(((a_id - low_id) << shift) | (a_day.astype(np.int64) - low_day))
    del a_id, a_day
    a_key = a_key[np.append(True, a_key[1:] != a_key[:-1])]  # each (customer, day) once
    n_kinds = len(kinds)
    code = " ".join(f"WHEN {literal(k)} THEN {i + 1}" for i, k in enumerate(kinds))
    kind = f"CASE CAST(kind AS VARCHAR) {code} ELSE 0 END" if kinds else "0"
    cost = "coalesce(CAST(cost AS DOUBLE), 0)" if has_cost else "CAST(0 AS DOUBLE)"
    epoch = dt.date(1970, 1, 1)
    first, last = (literal((epoch + dt.timedelta(days=d)).isoformat()) for d in (low_day, high_day))
    contacts = (f"SELECT customer_id, {_EPOCH.format('date')} AS day, CAST({kind} AS TINYINT) AS kind, {cost} "
                f"AS cost FROM contacts WHERE customer_id BETWEEN {low_id} AND {high_id} AND date >= DATE {first} "
                f"AND date < DATE {last}")
    counts = np.zeros((a_key.size, n_kinds + 2), np.int32)  # contacts of no kind (NULL), of each kind; repeats
    cost_sum = np.zeros(a_key.size)
    state = np.array([0, -1], np.int64)  # (unused), the last contact's key
    for cols in read_ahead(data.sql(contacts), BATCH):  # the next batch read while this one is walked
        if not cols[0].size:
            continue
        key = ((cols[0].astype(np.int64) - low_id) << shift) | (cols[1].astype(np.int64) - low_day)
        if not _walk(key, cols[2], cols[3], a_key, shift, window_days, repeat_days, counts, cost_sum, state):
            return None  # not stored in id-then-day order: the SQL sorts them
    import pyarrow as pa

    keep = counts[:, :n_kinds + 1].any(axis=1)  # a contact (of any kind, or none) in the window
    a_key = a_key[keep]
    days = (a_key & ((np.int64(1) << shift) - 1)) + low_day
    columns = {"customer_id": pa.array((a_key >> shift) + low_id),
               "response_date": pa.array(days.astype(np.int32)).view(pa.date32())}
    for i, col in enumerate(kinds.values()):
        columns[col] = pa.array(counts[keep, i + 1].astype(np.int64))  # BIGINT, as SQL's count
    columns["repeat_contacts"] = pa.array(counts[keep, n_kinds + 1].astype(np.int64))
    if has_cost:
        columns["contact_cost"] = pa.array(cost_sum[keep])
    return pa.table(columns)


def read_ahead(relation, batch: int = BATCH, zero_copy_only: bool = True):
    """A relation's rows a batch at a time, as numpy columns, the next batch read (by DuckDB, in a thread)
    while the caller works on this one: DuckDB reads without the GIL, and the sweep's compiled loop releases it,
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


def _typed(data) -> bool:
    """Integer ids and DATE days in both tables (else the SQL path, which compares them as they are)."""
    integer = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER")
    types = [data.sql(f"SELECT {c} FROM {t} LIMIT 0").types
             for t, c in (("responses", "customer_id, response_date"), ("contacts", "customer_id, date"))]
    return all(str(t[0]).upper() in integer and str(t[1]).upper() == "DATE" for t in types)


def _walk(key, kind, cost, a_key, shift, window, repeat, counts, cost_sum, state):
    """Add a batch of contacts (keys ``id << shift | day``, in order) to the answers in the window after each:
    ``a_key`` sorted, ``counts`` (answers, kinds + 2: no kind, each kind, repeat), ``cost_sum``; ``state[1]``
    carries the last contact's key from batch to batch (-1: none). Each contact's answers are found by binary
    search (among the answers the batch can reach), then every (contact, answer) pair is added in contact order
    (``numpy.add.at`` adds in the order given: each answer's cost is summed over its contacts in day order,
    across batches too). False when a contact comes before the one before it (not in order)."""
    prev = state[1]
    if (key.size > 1 and bool((key[1:] < key[:-1]).any())) or (prev >= 0 and key[0] < prev):
        return False
    before = np.empty_like(key)
    before[0], before[1:] = prev, key[:-1]
    rep = (before >= 0) & ((key >> shift) == (before >> shift)) & (key - before <= repeat)
    lo0 = int(np.searchsorted(a_key, key[0], "right"))
    sub = a_key[lo0:int(np.searchsorted(a_key, key[-1] + window, "right"))]
    lo = np.searchsorted(sub, key, "right")
    m = np.searchsorted(sub, key + window, "right") - lo
    total = int(m.sum())
    if total:
        which = np.repeat(np.arange(key.size), m)
        at = np.repeat(lo - np.cumsum(m) + m, m) + np.arange(total) + lo0
        np.add.at(counts, (at, kind[which].astype(np.intp)), 1)
        np.add.at(counts[:, counts.shape[1] - 1], at, rep[which].astype(np.int32))
        np.add.at(cost_sum, at, cost[which])
    state[1] = key[-1]
    return True
