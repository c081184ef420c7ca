"""Efron (or Breslow) partial likelihood, its score and information, on collapsed rows.

Rows carry whole-number frequencies ``w``: a row with ``w`` = 5 is exactly five
identical customers, and Efron's tie correction loops over every one of the D
tied events at a time (``c_j = j / D``), so collapsing to covariate patterns
changes nothing in the estimates. Risk sets support delayed entry
(at risk at t when entry < t <= stop). All sums are vectorised: the work per
iteration is O(rows x covariates + tied events).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cxkit.survival._ties import TiedDepartures

__all__ = ["CoxArrays", "efron", "newton", "weighted_information"]


@dataclass
class CoxArrays:
    """Fixed arrays of one Cox fit, prepared once and reused by every Newton step."""

    x: np.ndarray  # (m, p), centred
    w: np.ndarray  # (m,)
    stop: np.ndarray
    event: np.ndarray  # bool
    entry: np.ndarray | None
    breslow: bool = False  # Breslow's ties: every tied event sees the whole risk set (c_j = 0)

    def __post_init__(self):
        ev = np.flatnonzero(self.event)
        self.ev = ev
        self.tau = np.unique(self.stop[ev])
        k = self.tau.size
        self.k_ev = np.searchsorted(self.tau, self.stop[ev])
        self.deaths = np.bincount(self.k_ev, weights=self.w[ev], minlength=k)
        self.order_stop = np.argsort(self.stop, kind="stable")
        self.idx_stop = np.searchsorted(self.stop[self.order_stop], self.tau, side="left")
        self.pos = np.searchsorted(self.tau, self.stop, side="right")
        if self.entry is not None:
            self.order_entry = np.argsort(self.entry, kind="stable")
            self.idx_entry = np.searchsorted(self.entry[self.order_entry], self.tau, side="left")
            self.epos = np.searchsorted(self.tau, self.entry, side="right")
        else:
            self.epos = np.zeros(self.stop.size, dtype=np.int64)
        counts = np.rint(self.deaths).astype(np.int64)
        if not np.allclose(counts, self.deaths):
            raise ValueError("Efron ties need whole-number frequency weights")
        self.ties = TiedDepartures(counts, self.breslow)

    def risk_sums(self, values: np.ndarray) -> np.ndarray:
        """Sum of ``values`` (m,) or (m, p) over each event time's risk set."""
        def cum(order, idx):
            c = np.cumsum(values[order], axis=0)
            c = np.concatenate([np.zeros((1,) + values.shape[1:]), c])
            return c[idx]

        total = values.sum(axis=0)
        entered = cum(self.order_entry, self.idx_entry) if self.entry is not None else total
        return entered - cum(self.order_stop, self.idx_stop)


def efron(arrays: CoxArrays, beta: np.ndarray, need_information: bool = True) -> dict:
    """Log partial likelihood, score and information at ``beta`` (Efron ties, or Breslow's as the arrays say)."""
    a = arrays
    k = a.tau.size
    eta = a.x @ beta
    r = a.w * np.exp(eta)
    rx = r[:, None] * a.x
    s0 = a.risk_sums(r)
    s1 = a.risk_sums(rx)
    e0 = np.bincount(a.k_ev, weights=r[a.ev], minlength=k)
    e1 = np.stack([np.bincount(a.k_ev, weights=rx[a.ev, j], minlength=k) for j in range(a.x.shape[1])], axis=1)
    tied = a.ties.sums(s0, e0, need_information)
    a1, b1 = tied["a1"], tied["b1"]
    loglik = float(np.sum(a.w[a.ev] * eta[a.ev]) - tied["log_den"])
    cum_a1 = np.concatenate([[0.0], np.cumsum(a1)])
    q = r * (cum_a1[a.pos] - cum_a1[a.epos])
    q[a.ev] -= r[a.ev] * b1[a.k_ev]
    score = a.x[a.ev].T @ a.w[a.ev] - a.x.T @ q
    out = {"loglik": loglik, "score": score, "s0": s0, "s1": s1, "e1": e1, "a1": a1, "b1": b1, "r": r}
    if need_information:
        a2, b2, g2 = tied["a2"], tied["b2"], tied["g2"]
        cross = s1.T @ (b2[:, None] * e1)
        info = (a.x.T @ (q[:, None] * a.x)
                - (s1.T @ (a2[:, None] * s1) - cross - cross.T + e1.T @ (g2[:, None] * e1)))
        out["information"] = info
        # sums of 1/den^2, c/den^2 and c^2/den^2 (a2 and b2 also give the baseline hazard its variance)
        out["a2"], out["b2"], out["g2"] = a2, b2, g2
    return out


def weighted_information(arrays: CoxArrays, res: dict, h: np.ndarray) -> np.ndarray:
    """``sum_k h_k I_k``: the information with each event time's share weighted by ``h`` (one per time).

    ``res`` is :func:`efron` at the fitted beta, with its information. The terms are those of the
    information itself, each time's sums multiplied by its ``h_k``.
    """
    a = arrays
    r, s1, e1 = res["r"], res["s1"], res["e1"]
    cum = np.concatenate([[0.0], np.cumsum(h * res["a1"])])
    q = r * (cum[a.pos] - cum[a.epos])
    q[a.ev] -= r[a.ev] * (h * res["b1"])[a.k_ev]
    cross = s1.T @ ((h * res["b2"])[:, None] * e1)
    return (a.x.T @ (q[:, None] * a.x)
            - (s1.T @ ((h * res["a2"])[:, None] * s1) - cross - cross.T + e1.T @ ((h * res["g2"])[:, None] * e1)))


def newton(arrays: CoxArrays, p: int, max_iter: int = 50, tol: float = 1e-10, start: dict | None = None,
           evaluate=None):
    """Maximise the Efron likelihood by Newton-Raphson with step halving, from beta = 0.

    ``start``: :func:`efron` at beta = 0 when already computed (the null model's numbers). ``evaluate``: the
    likelihood function of ``arrays`` (default :func:`efron`; risk-set counts use
    :func:`cxkit.survival._cox_counts.efron_counts`).

    Returns
    -------
    beta, result_at_beta, iterations, converged
    """
    evaluate = efron if evaluate is None else evaluate
    beta = np.zeros(p)
    current = start if start is not None else evaluate(arrays, beta)
    for it in range(1, max_iter + 1):
        step = np.linalg.solve(current["information"], current["score"])
        halvings = 0
        while True:
            candidate = evaluate(arrays, beta + step)
            if np.isfinite(candidate["loglik"]) and candidate["loglik"] >= current["loglik"] - 1e-12:
                break
            step /= 2
            halvings += 1
            if halvings > 30:
                return beta, current, it, False
        change = abs(candidate["loglik"] - current["loglik"])
        beta, current = beta + step, candidate
        if change <= tol * max(1.0, abs(current["loglik"])) and np.max(np.abs(step)) < 1e-7:
            return beta, current, it, True
    return beta, current, max_iter, False
