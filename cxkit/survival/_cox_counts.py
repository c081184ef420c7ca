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

from cxkit.survival._ties import TiedDepartures

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
        self.ties = TiedDepartures(counts, self.breslow)
        self.events_by_pattern = self.d.sum(axis=0)


def efron_counts(a: RiskSetArrays, beta: np.ndarray, need_information: bool = True) -> dict:
    """Log partial likelihood, score and information at ``beta`` (as :func:`cxkit.survival._cox_math.efron`)."""
    eta = a.x @ beta
    r = np.exp(eta)
    rx = r[:, None] * a.x
    s0, e0 = a.n @ r, a.d @ r
    s1, e1 = a.n @ rx, a.d @ rx
    tied = a.ties.sums(s0, e0, need_information)
    a1, b1 = tied["a1"], tied["b1"]
    loglik = float(a.events_by_pattern @ eta - tied["log_den"])
    score = a.events_by_pattern @ a.x - (a1 @ s1 - b1 @ e1)
    out = {"loglik": loglik, "score": score, "a1": a1, "b1": b1}
    if need_information:
        a2, b2, g2 = tied["a2"], tied["b2"], tied["g2"]
        u = r * (a1 @ a.n - b1 @ a.d)  # each pattern's share of the second moments
        cross = s1.T @ (b2[:, None] * e1)
        out["information"] = (a.x.T @ (u[:, None] * a.x)
                              - (s1.T @ (a2[:, None] * s1) - cross - cross.T + e1.T @ (g2[:, None] * e1)))
    return out
