"""The relative importance of drivers for one sample of answers: linear (NPS score) or logistic (detractor).

One function per outcome, each returning the drivers' raw weights, the model's
R² and the full model's coefficients, so the point estimate and every bootstrap
replicate run the same code.

The logistic weights follow Tonidandel & LeBreton (2010): the outcome is
regressed on the drivers' orthogonal counterparts, the coefficients are
standardised against the McKelvey-Zavoina R², and carried back to the drivers
as in Johnson's linear weights. Logistic dominance averages added
McKelvey-Zavoina R² over subsets of drivers.
"""

from __future__ import annotations

from itertools import combinations
from math import comb

import numpy as np

from cxkit.drivers.design import logistic_fit, weighted_corr
from cxkit.drivers.weights import MAX_DOMINANCE_DRIVERS, general_dominance, relative_weights
from cxkit.errors import CxkitError

__all__ = ["linear_importance", "logistic_importance"]

_LOGISTIC_VARIANCE = np.pi**2 / 3


def linear_importance(y, x, w, groups, method: str, stacked=None):
    """Raw weights, R² and unstandardised coefficients (outcome units per driver unit) of the linear model."""
    corr, _, sd = weighted_corr(y, x, w, stacked)
    if corr is None:
        raise CxkitError("a driver (or the outcome) does not vary in these answers")
    weights = relative_weights(corr, groups) if method == "relative_weights" else general_dominance(corr, groups)
    beta = np.linalg.solve(corr[1:, 1:], corr[1:, 0])
    return weights, float(weights.sum()), beta * sd[0] / sd[1:]


def _mz_r2(x, y, w, start=None):
    beta = logistic_fit(x, y, w, start)
    eta = x @ beta[1:]
    mean = w @ eta / w.sum()
    var = w @ (eta - mean) ** 2 / (w.sum() - 1)
    return var / (var + _LOGISTIC_VARIANCE), beta


def logistic_importance(y, x, w, groups, method: str, stacked=None):
    """Raw weights, McKelvey-Zavoina R² and log-odds coefficients of the detractor (logistic) model."""
    corr, mean, sd = weighted_corr(y, x, w, stacked)
    if corr is None:
        raise CxkitError("a driver (or the outcome) does not vary in these answers")
    std = (x - mean[1:]) / sd[1:]
    r2, beta = _mz_r2(std, y, w)
    coef = beta[1:] / sd[1:]
    if method == "dominance":
        return _logistic_dominance(std, y, w, groups), r2, coef
    rxx = corr[1:, 1:]
    lam, q = np.linalg.eigh(rxx)
    if lam.min() <= 1e-10 * max(lam.max(), 1.0):
        raise CxkitError("the drivers are linearly dependent (one is a sum of others): leave one out")
    z = std @ (q @ np.diag(1 / np.sqrt(lam)) @ q.T)  # orthogonal counterparts, unit variance
    zr2, zbeta = _mz_r2(z, y, w)
    eta = z @ zbeta[1:]
    sd_eta = np.sqrt(w @ (eta - w @ eta / w.sum()) ** 2 / (w.sum() - 1))
    b_std = zbeta[1:] * np.sqrt(zr2) / sd_eta
    half = q @ np.diag(np.sqrt(lam)) @ q.T
    raw = (half**2) @ (b_std**2)
    return np.array([raw[g].sum() for g in groups]), zr2, coef


def _logistic_dominance(std, y, w, groups):
    p = len(groups)
    if p > MAX_DOMINANCE_DRIVERS:
        raise CxkitError(f"dominance needs every subset of the drivers (2^{p} models); use at most "
                         f"{MAX_DOMINANCE_DRIVERS} drivers or relative weights")
    r2 = {(): 0.0}
    for size in range(1, p + 1):
        for subset in combinations(range(p), size):
            cols = [c for g in subset for c in groups[g]]
            r2[subset] = _mz_r2(std[:, cols], y, w)[0]
    out = np.zeros(p)
    for j in range(p):
        others = [g for g in range(p) if g != j]
        out[j] = np.mean([sum(r2[tuple(sorted((*s, j)))] - r2[s] for s in combinations(others, size))
                          / comb(p - 1, size) for size in range(p)])
    return out
