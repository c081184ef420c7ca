"""Relative importance from a correlation matrix: Johnson's relative weights and general dominance.

Both split a model's R² among its drivers, so the weights sum to R². A driver
may be several columns (the dummies of a plan or region); its weight is then
the sum of its columns' relative weights, and dominance treats it as one unit.

Johnson (2000): with ``Rxx = Q diag(λ) Q'``, the drivers' orthogonal
counterparts ``Z`` relate to them by ``Λ* = Rxx^{1/2}``; regressing the outcome
on ``Z`` gives ``β* = Rxx^{-1/2} rxy``, and driver ``j`` gets
``Σ_k Λ*_{jk}² β*_k²``. General dominance (Budescu 1993; Azen & Budescu 2003)
averages a driver's added R² over every subset of the others, first within
each subset size and then across sizes: the Shapley value of R².

Examples
--------
>>> import numpy as np
>>> r = np.array([[1.0, 0.6, 0.3, 0.4, 0.5], [0.6, 1.0, 0.8, 0.1, 0.3], [0.3, 0.8, 1.0, 0.1, 0.1],
...               [0.4, 0.1, 0.1, 1.0, 0.5], [0.5, 0.3, 0.1, 0.5, 1.0]])
>>> [round(float(v), 3) for v in general_dominance(r)]
[0.292, 0.076, 0.095, 0.121]
"""

from __future__ import annotations

from itertools import combinations
from math import comb

import numpy as np

from cxkit.errors import CxkitError

__all__ = ["relative_weights", "general_dominance", "dominance_by_size", "added_by_size", "correlation_roots",
           "carry_back", "r_squared", "MAX_DOMINANCE_DRIVERS"]

#: Dominance fits every subset of drivers (2^p models); beyond this many drivers use relative weights.
MAX_DOMINANCE_DRIVERS = 15


def _split(corr: np.ndarray, groups):
    corr = np.asarray(corr, dtype=float)
    p = corr.shape[0] - 1
    groups = [[j] for j in range(p)] if groups is None else [list(g) for g in groups]
    return corr[1:, 1:], corr[1:, 0], groups


def r_squared(corr: np.ndarray, columns=None) -> float:
    """R² of the outcome (row and column 0 of ``corr``) on the drivers' ``columns`` (all by default)."""
    rxx, rxy, _ = _split(corr, None)
    cols = np.arange(rxx.shape[0]) if columns is None else np.asarray(columns, dtype=int)
    if cols.size == 0:
        return 0.0
    sub, r = rxx[np.ix_(cols, cols)], rxy[cols]
    return float(r @ np.linalg.solve(sub, r))


def correlation_roots(rxx: np.ndarray):
    """``(Rxx^{1/2}, Rxx^{-1/2})`` of the drivers' correlation matrix: the first carries the drivers onto their
    orthogonal counterparts (Johnson's Λ*), the second makes those counterparts. Raises for dependent drivers."""
    lam, q = np.linalg.eigh(rxx)
    if lam.min() <= 1e-10 * max(lam.max(), 1.0):
        raise CxkitError("the drivers are linearly dependent (one is a sum of others): leave one out")
    return q @ np.diag(np.sqrt(lam)) @ q.T, q @ np.diag(1 / np.sqrt(lam)) @ q.T


def carry_back(half: np.ndarray, beta: np.ndarray, groups) -> np.ndarray:
    """Raw weights of each driver from the standardised coefficients ``beta`` of its orthogonal counterparts."""
    raw = (half**2) @ (beta**2)
    return np.array([raw[g].sum() for g in groups])


def relative_weights(corr: np.ndarray, groups=None) -> np.ndarray:
    """Johnson's relative weights of each driver (a group of columns) from the full correlation matrix.

    Parameters
    ----------
    corr : array (p + 1, p + 1)
        Correlations of the outcome (first) and the ``p`` driver columns.
    groups : list of list of int, optional
        Driver columns (0-based, outcome excluded) that form one driver; one driver per column by default.

    Returns
    -------
    numpy.ndarray
        One raw weight per driver; they sum to the model's R².
    """
    rxx, rxy, groups = _split(corr, groups)
    half, inverse_half = correlation_roots(rxx)
    return carry_back(half, inverse_half @ rxy, groups)  # the outcome on the orthogonal counterparts


def added_by_size(fit_of, p: int) -> np.ndarray:
    """Mean added fit of each of ``p`` drivers by the number of other drivers already in the model.

    ``fit_of(subset)`` gives the fit (R²) of the model with the drivers in ``subset`` (a sorted tuple of
    indices); it is called once per subset, 2^p - 1 times. Row ``k`` of the result holds, for each driver, the
    mean fit it adds to the models of ``k`` other drivers (Azen & Budescu's conditional dominance table).
    """
    if p > MAX_DOMINANCE_DRIVERS:
        raise CxkitError(f"dominance needs every subset of the drivers (2^{p} models); use at most "
                         f"{MAX_DOMINANCE_DRIVERS} drivers or relative weights")
    fits = {(): 0.0}
    for size in range(1, p + 1):
        for subset in combinations(range(p), size):
            fits[subset] = fit_of(subset)
    table = np.zeros((p, p))
    for j in range(p):
        others = [g for g in range(p) if g != j]
        for size in range(p):
            gains = [fits[tuple(sorted((*s, j)))] - fits[s] for s in combinations(others, size)]
            table[size, j] = float(np.sum(gains)) / comb(p - 1, size)
    return table


def dominance_by_size(corr: np.ndarray, groups=None) -> np.ndarray:
    """Average added R² of each driver by the number of other drivers already in the model (``(p, p)``; see
    :func:`added_by_size`), the R² of each subset read from the correlation matrix."""
    rxx, rxy, groups = _split(corr, groups)

    def r2(subset):
        cols = [c for g in subset for c in groups[g]]
        r = rxy[cols]
        return float(r @ np.linalg.lstsq(rxx[np.ix_(cols, cols)], r, rcond=None)[0])

    return added_by_size(r2, len(groups))


def general_dominance(corr: np.ndarray, groups=None) -> np.ndarray:
    """General dominance weight of each driver: its added R² averaged over subset sizes (sums to R²)."""
    return dominance_by_size(corr, groups).mean(axis=0)
