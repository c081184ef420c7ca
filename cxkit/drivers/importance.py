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

import numpy as np

from cxkit.drivers.design import corr_from_moments, logistic_fit, weighted_corr
from cxkit.drivers.weights import added_by_size, carry_back, correlation_roots, general_dominance, relative_weights
from cxkit.errors import CxkitError

__all__ = ["linear_importance", "logistic_importance"]

_LOGISTIC_VARIANCE = np.pi**2 / 3


def linear_importance(y, x, w, groups, method: str, stacked=None, moments=None):
    """Raw weights, R² and unstandardised coefficients (outcome units per driver unit) of the linear model.

    ``moments``: ``(sum w, sum w z, sum w z z')`` of ``z = [y, x]`` when already summed (``y, x, w`` unused).
    """
    corr, _, sd = corr_from_moments(*moments) if moments is not None else weighted_corr(y, x, w, stacked)
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
    half, inverse_half = correlation_roots(corr[1:, 1:])
    z = std @ inverse_half  # orthogonal counterparts, unit variance
    zr2, zbeta = _mz_r2(z, y, w)
    eta = z @ zbeta[1:]
    sd_eta = np.sqrt(w @ (eta - w @ eta / w.sum()) ** 2 / (w.sum() - 1))
    return carry_back(half, zbeta[1:] * np.sqrt(zr2) / sd_eta, groups), zr2, coef


def _logistic_dominance(std, y, w, groups):
    """General dominance of the McKelvey-Zavoina R²: a logistic fit per subset of drivers."""
    return added_by_size(lambda subset: _mz_r2(std[:, [c for g in subset for c in groups[g]]], y, w)[0],
                         len(groups)).mean(axis=0)
