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
from numba import njit

from cxkit.survival._ties import TiedDepartures

__all__ = ["RiskSetArrays", "efron_counts", "tied_sums"]


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
    tied = tied_sums(a.ties, s0, e0, need_information)
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


def tied_sums(ties: TiedDepartures, s0: np.ndarray, e0: np.ndarray, information: bool = True) -> dict:
    """:meth:`TiedDepartures.sums <cxkit.survival._ties.TiedDepartures.sums>` by a compiled loop over the
    departures: the same sums added in the same order (each event time's to the last bit), and the same
    ``log_den`` (numpy's sum of the logs of each block's denominators, as there), without the block's index
    arrays and five ``bincount`` passes. Millions of departures (ten million customers) take a fraction of
    the time."""
    k = ties.counts.size
    out = {name: np.zeros(k) for name in ("a1", "b1", "a2", "b2", "g2")}
    s0, e0 = np.ascontiguousarray(s0, dtype=float), np.ascontiguousarray(e0, dtype=float)
    ends = np.cumsum(ties.counts)
    den = np.empty(max((int(ends[hi - 1] - ends[lo] + ties.counts[lo]) for lo, hi in ties._bounds), default=0))
    log_den = 0.0
    for lo, hi in ties._bounds:
        used = _tied_block(ties.counts, lo, hi, s0, e0, ties.breslow, information, den,
                           out["a1"], out["b1"], out["a2"], out["b2"], out["g2"])
        log_den += float(np.sum(np.log(den[:used])))
    if not information:
        out = {"a1": out["a1"], "b1": out["b1"]}
    out["log_den"] = log_den
    return out


@njit(cache=True, nogil=True)
def _tied_block(counts, lo, hi, s0, e0, breslow, information, den, a1, b1, a2, b2, g2):
    """Efron's sums of the event times ``lo .. hi - 1``: the ``j``-th of ``D`` tied departures sees
    ``den = S0 - (j / D) E0`` (Breslow: ``S0``); each time's sums of ``1/den, c/den`` (and ``1/den^2, c/den^2,
    c^2/den^2``) added in ``j`` order, the denominators written to ``den``. Returns how many were written."""
    at = 0
    for k in range(lo, hi):
        d = counts[k]
        scale = np.float64(max(d, 1))
        x1, y1, x2, y2, z2 = 0.0, 0.0, 0.0, 0.0, 0.0
        for j in range(d):
            c = 0.0 if breslow else np.float64(j) / scale
            v = s0[k] - c * e0[k]
            den[at] = v
            at += 1
            inv = 1.0 / v
            x1 += inv
            y1 += c * inv
            if information:
                inv2 = inv * inv
                x2 += inv2
                y2 += c * inv2
                z2 += c ** 2 * inv2
        a1[k], b1[k] = x1, y1
        if information:
            a2[k], b2[k], g2[k] = x2, y2, z2
    return at
