"""Weibull tail on period counts: ``S(t) = exp(-(t / scale) ** shape)`` at whole periods.

Fitted on the same period counts as :class:`~cxkit.ltv.sbg.ShiftedBetaGeometric`,
so the two likelihoods compare directly (both have two parameters).

Examples
--------
>>> import numpy as np
>>> from cxkit.ltv.sbg import discrete_counts
>>> rng = np.random.default_rng(0)
>>> t = 20 * rng.weibull(0.8, 20_000)
>>> m = DiscreteWeibull().fit_counts(*discrete_counts(t, np.ones_like(t)))
>>> round(m.shape_, 1), round(m.scale_ / 20, 1)
(0.8, 1.0)
"""

from __future__ import annotations

import numpy as np

from cxkit.ltv.sbg import _DiscreteModel

__all__ = ["DiscreteWeibull"]


class DiscreteWeibull(_DiscreteModel):
    """Weibull survival observed at whole periods.

    Attributes
    ----------
    shape_, scale_ : float
        ``shape < 1``: churn risk falls with tenure; ``> 1``: it rises.
    """

    name = "Weibull"

    def _survival(self, t, p):
        shape, scale = p
        with np.errstate(over="ignore"):  # (t / scale) ** shape past the float range: survival is 0, its limit
            return np.exp(-np.power(np.maximum(t, 0) / scale, shape))

    def _survival_grad(self, t, p):
        s, ds = self._survival_grad_many(np.ravel(t), np.asarray(p, dtype=float)[None, :])
        return s[0], ds[0]

    def _survival_grad_many(self, t, p):
        shape, scale = p[:, :1], p[:, 1:]
        u = np.maximum(np.asarray(t, dtype=float), 0)[None, :] / scale
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.power(u, shape)
            s = np.exp(-z)
            d_shape = np.where(u > 0, -s * z * np.log(np.where(u > 0, u, 1.0)), 0.0)
            d_scale = s * z * shape / scale
        return s, np.stack([d_shape, d_scale], axis=2)

    def fit_counts(self, lost, censored, start=None):
        if start is None:
            lost = np.asarray(lost, dtype=float)
            rate = lost.sum() / max(1.0, (np.arange(1, lost.size + 1) @ lost + np.arange(len(censored)) @ censored))
            start = np.array([1.0, 1.0 / max(rate, 1e-6)])
        return super().fit_counts(lost, censored, start)

    @property
    def shape_(self) -> float:
        return float(self.params_[0])

    @property
    def scale_(self) -> float:
        return float(self.params_[1])
