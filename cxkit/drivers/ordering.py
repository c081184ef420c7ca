"""Rows in the order of their keys: checked in one pass, sorted only when they are not.

The compiled passes over the customers, answers and contacts
(:mod:`cxkit.drivers.patterns`, :mod:`cxkit.drivers.sweep`) walk each table in
id-then-day order. Tables are usually stored that way, so the order is checked
first (one compiled loop for one or two keys, no temporary arrays) and the rows
are sorted (numpy's stable ``lexsort``) only when the check fails.

Examples
--------
>>> import numpy as np
>>> ids, days = np.array([1, 1, 2]), np.array([5, 3, 1])
>>> in_order(ids), in_order(ids, days)
(True, False)
>>> [c.tolist() for c in ordered([ids, days], 2)]
[[1, 1, 2], [3, 5, 1]]
>>> in_order(ids[:0], days[:0], days[:0])
True
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["in_order", "ordered"]


def in_order(*keys) -> bool:
    """Are the rows in the order of the ``keys`` (arrays of equal length): each row after the one before it on
    the first key that differs, or equal on all of them? (No rows or one: yes.)"""
    if keys[0].size < 2:
        return True
    if len(keys) <= 2:
        return bool(_two_in_order(keys[0], keys[-1]))
    before, same = np.zeros(keys[0].size - 1, dtype=bool), np.ones(keys[0].size - 1, dtype=bool)
    for k in keys:  # greater on a key, all keys before it equal
        before |= same & (k[1:] > k[:-1])
        same &= k[1:] == k[:-1]
    return bool((before | same).all())


def ordered(columns: list, keys: int) -> list:
    """The columns (arrays, row-aligned) in the order of their first ``keys`` columns: as they are when already
    so (checked in one pass), else sorted (numpy's lexsort, stable)."""
    if columns[0].size < 2 or in_order(*columns[:keys]):
        return columns
    order = np.lexsort(columns[:keys][::-1])
    return [c[order] for c in columns]


@njit(cache=True, nogil=True)
def _two_in_order(ids, days):
    """One key (``days`` is ``ids``) or two: the rows in order of ids, then days."""
    for i in range(1, ids.size):
        if ids[i] < ids[i - 1] or (ids[i] == ids[i - 1] and days[i] < days[i - 1]):
            return False
    return True
