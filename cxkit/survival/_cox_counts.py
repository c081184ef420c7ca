"""Efron (or Breslow) partial likelihood from risk-set counts: customers at risk and departures per pattern and
event time.

With covariates that take a few values (counts of experiences, plans, bands) everyone at risk at an event
time is one of a few covariate patterns, and the partial likelihood only reads, at each event time ``k``,
how many customers of each pattern ``p`` are at risk (``n[k, p]``) and leave (``d[k, p]``). The sums over
risk sets become products of these (event times x patterns) matrices, so the work per Newton step no longer
grows with customers or spells; Efron's correction runs over every tied departure as in
:mod:`cxkit.survival._cox_math`, and the result is the fit on the spells themselves (tested to 1e-9).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["RiskSetArrays", "efron_counts"]


@dataclass
class RiskSetArrays:
    """Fixed arrays of a fit from risk-set counts."""

    x: np.ndarray  # (patterns, p), centred
    n: np.ndarray  # (event times, patterns): at risk
    d: np.ndarray  # (event times, patterns): departures
    breslow: bool = False

    def __post_init__(self):
        self.deaths = self.d.sum(axis=1)
        counts = np.rint(self.deaths).astype(np.int64)
        if not np.allclose(counts, self.deaths) or not np.allclose(self.d, np.rint(self.d)):
            raise ValueError("Efron ties need whole-number counts of departures")
        k = counts.size
        self.k_j = np.repeat(np.arange(k), counts)
        starts = np.repeat(np.cumsum(counts) - counts, counts)
        self.c_j = (np.zeros(self.k_j.size) if self.breslow else
                    (np.arange(self.k_j.size) - starts) / np.maximum(counts, 1)[self.k_j])
        self.events_by_pattern = self.d.sum(axis=0)


def efron_counts(a: RiskSetArrays, beta: np.ndarray, need_information: bool = True) -> dict:
    """Log partial likelihood, score and information at ``beta`` (as :func:`cxkit.survival._cox_math.efron`)."""
    k = a.deaths.size
    eta = a.x @ beta
    r = np.exp(eta)
    rx = r[:, None] * a.x
    s0, e0 = a.n @ r, a.d @ r
    s1, e1 = a.n @ rx, a.d @ rx
    den = s0[a.k_j] - a.c_j * e0[a.k_j]
    inv = 1.0 / den
    a1 = np.bincount(a.k_j, weights=inv, minlength=k)
    b1 = np.bincount(a.k_j, weights=a.c_j * inv, minlength=k)
    loglik = float(a.events_by_pattern @ eta - np.sum(np.log(den)))
    score = a.events_by_pattern @ a.x - (a1 @ s1 - b1 @ e1)
    out = {"loglik": loglik, "score": score, "a1": a1, "b1": b1}
    if need_information:
        inv2 = inv * inv
        a2 = np.bincount(a.k_j, weights=inv2, minlength=k)
        b2 = np.bincount(a.k_j, weights=a.c_j * inv2, minlength=k)
        g2 = np.bincount(a.k_j, weights=a.c_j**2 * inv2, minlength=k)
        u = r * (a1 @ a.n - b1 @ a.d)  # each pattern's share of the second moments
        cross = s1.T @ (b2[:, None] * e1)
        out["information"] = (a.x.T @ (u[:, None] * a.x)
                              - (s1.T @ (a2[:, None] * s1) - cross - cross.T + e1.T @ (g2[:, None] * e1)))
    return out
