"""Shifted-beta-geometric (sBG) retention model (Fader & Hardie 2007, 2010).

Each customer renews each period with their own probability 1 - theta; theta
varies across customers as Beta(alpha, beta). So retention rises over time as
the fickle leave first, which a constant-churn model misses.

Examples
--------
>>> m = ShiftedBetaGeometric().fit([1000, 869, 743, 653, 593, 551, 517, 491])
>>> round(m.alpha_, 3), round(m.beta_, 3)
(0.668, 3.806)
>>> round(m.derl(discount_rate=0.10, renewals=7), 3)
7.53
"""

from __future__ import annotations

import numpy as np
from scipy import optimize
from scipy import special as sp

__all__ = ["ShiftedBetaGeometric", "NoChurnTail", "PeriodIndex", "discrete_counts"]


def discrete_counts(durations, events, weights=None, periods: int | None = None):
    """Period counts for discrete-time models from continuous durations.

    A churn at duration d is lost in period ``ceil(d)`` (at least 1); a censored
    duration d survived ``floor(d)`` whole periods.

    Returns
    -------
    lost : ndarray (T,)
        ``lost[t - 1]`` = customers lost in period t, t = 1..T.
    censored : ndarray (T + 1,)
        ``censored[t]`` = customers seen alive after t whole periods and no longer.
    """
    return PeriodIndex(durations, events, periods).counts(weights)


class PeriodIndex:
    """Each row's period (see :func:`discrete_counts`), computed once for counts under many weights.

    >>> PeriodIndex([0.5, 2.2, 3.0], [1, 1, 0]).counts()
    (array([1., 0., 1.]), array([0., 0., 0., 1.]))
    """

    def __init__(self, durations, events, periods: int | None = None):
        d = np.asarray(durations, dtype=float)
        self.churned = np.asarray(events).astype(bool)
        lost_period = np.maximum(np.ceil(d[self.churned]), 1).astype(int)
        cens_period = np.floor(d[~self.churned]).astype(int)
        self.periods = periods or int(max(lost_period.max(initial=0), cens_period.max(initial=0)))
        self._lost_at = np.minimum(lost_period, self.periods + 1) - 1
        self._cens_at = np.minimum(cens_period, self.periods)

    def counts(self, weights=None):
        """``lost, censored`` per period for row weights (default one per row)."""
        w = np.ones(self.churned.size) if weights is None else np.asarray(weights, dtype=float)
        t = self.periods
        lost = np.bincount(self._lost_at, weights=w[self.churned], minlength=t + 1)[:t]
        return lost, np.bincount(self._cens_at, weights=w[~self.churned], minlength=t + 1)[:t + 1]


# Parameters live in [1e-4, 1e6]: an sBG with alpha, beta -> infinity is a geometric (no heterogeneity),
# reached here at 1e6 to many decimals instead of running off to overflow.
_LOG_BOUNDS = (np.log(1e-4), np.log(1e6))


class _DiscreteModel:
    """Shared fitting of a two-parameter discrete survival model on period counts."""

    name = "model"

    def _survival(self, t, p):  # pragma: no cover - defined by subclasses
        raise NotImplementedError

    def _survival_grad(self, t, p):  # pragma: no cover - defined by subclasses
        """S(t) and dS/dp (len(t) x 2)."""
        raise NotImplementedError

    def _negloglik(self, q, lost, cens):
        """Negative log-likelihood and its gradient in log parameters ``q``."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            p = np.exp(q)
            t = np.arange(lost.size + 1)
            s, ds = self._survival_grad(t, p)
            prob = np.maximum(s[:-1] - s[1:], 1e-300)
            s_safe = np.maximum(s, 1e-300)
            ll = lost @ np.log(prob) + cens @ np.log(s_safe)
            grad = (lost / prob) @ (ds[:-1] - ds[1:]) + (cens / s_safe) @ ds
            grad = -grad * p
        if not (np.isfinite(ll) and np.all(np.isfinite(grad))):
            return np.inf, np.zeros(2)  # a step too far: the line search backs off
        return -float(ll), grad

    def fit_counts(self, lost, censored, start=None):
        """Maximum likelihood on period counts (see :func:`discrete_counts`); returns self.

        L-BFGS-B in log parameters, then Newton steps to the optimum (L-BFGS-B can stop early when
        the two parameters differ in scale by orders of magnitude), Nelder-Mead if Newton cannot settle.
        """
        lost, cens = np.asarray(lost, dtype=float), np.asarray(censored, dtype=float)
        x0 = np.log(start) if start is not None else np.zeros(2)
        x0 = np.clip(x0, *_LOG_BOUNDS)
        res = optimize.minimize(self._negloglik, x0, args=(lost, cens), jac=True, method="L-BFGS-B",
                                bounds=[_LOG_BOUNDS] * 2, options={"ftol": 1e-14, "gtol": 1e-8, "maxiter": 1000})
        x, f, settled = self._newton(res.x, lost, cens)
        if not settled:
            res = optimize.minimize(lambda q: self._negloglik(q, lost, cens)[0], x, method="Nelder-Mead",
                                    bounds=[_LOG_BOUNDS] * 2,
                                    options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000})
            x, f = (res.x, res.fun) if res.fun <= f else (x, f)
        self.params_, self.log_likelihood_, self.periods_ = np.exp(x), -float(f), lost.size
        return self

    def refit(self, lost, censored, start):
        """Maximum likelihood from a nearby start (a bootstrap replicate from the full-data fit): Newton
        steps only (see :meth:`_newton`), :meth:`fit_counts` when they cannot settle."""
        lost, cens = np.asarray(lost, dtype=float), np.asarray(censored, dtype=float)
        x, f, settled = self._newton(np.log(start), lost, cens)
        if not settled:
            return self.fit_counts(lost, cens, start=np.exp(x))
        self.params_, self.log_likelihood_, self.periods_ = np.exp(x), -float(f), lost.size
        return self

    def _newton(self, x, lost, cens, max_iter: int = 30):
        """Newton steps on the log parameters from ``x``; returns ``(x, negloglik, settled)``.

        The Hessian comes from differences of the analytic gradient, its eigenvalues taken in absolute
        value and floored (so a ridge or a saddle still gives a descent step), with a halving line
        search. It stops when the Newton decrement (the decrease a full step would bring) is below
        ``1e-10 |loglik|``: with millions of customers the log-likelihood carries rounding noise of
        that order, so asking for less would stall. A parameter at its bound (an sBG at its geometric
        limit, a flat ridge) stays there if the gradient keeps pushing it against the bound, the
        optimality condition of the bounded fit; otherwise this reports not settled.
        """
        lo, hi = _LOG_BOUNDS
        x = np.clip(np.asarray(x, dtype=float), lo, hi)
        free = np.flatnonzero((x > lo + 1e-6) & (x < hi - 1e-6))
        f, g = self._negloglik(x, lost, cens)
        converged = free.size == 0
        for _ in range(max_iter if free.size and np.isfinite(f) else 0):
            h = np.empty((free.size, free.size))
            for a, j in enumerate(free):
                step = np.zeros(2)
                step[j] = 1e-5
                h[:, a] = ((self._negloglik(x + step, lost, cens)[1] - g) / 1e-5)[free]
            eig, vec = np.linalg.eigh((h + h.T) / 2)
            eig = np.maximum(np.abs(eig), 1e-10 * max(float(np.abs(eig).max()), 1e-300))
            step = -(vec @ ((vec.T @ g[free]) / eig))
            if not np.all(np.isfinite(step)):
                break
            if -g[free] @ step <= 1e-10 * max(1.0, abs(f)):  # the Newton decrement: at the optimum
                converged = True
                break
            direction = np.zeros(2)
            direction[free] = step
            t = 1.0
            while t > 1e-4:
                x_new = np.clip(x + t * direction, lo, hi)
                f_new, g_new = self._negloglik(x_new, lost, cens)
                if f_new <= f:
                    break
                t /= 2
            else:
                break
            x, f, g = x_new, f_new, g_new
        tol = 1e-6 * max(1.0, abs(f))
        pinned = all(g[j] <= tol if x[j] >= hi - 1e-6 else g[j] >= -tol for j in np.setdiff1d([0, 1], free))
        return x, f, bool(converged and pinned and np.isfinite(f))

    def survival(self, t):
        """Probability of still being a customer after t whole periods."""
        return self._survival(np.asarray(t, dtype=float), self.params_)

    def retention(self, t):
        """Share of customers alive after period t - 1 who renew into period t (t >= 1)."""
        t = np.asarray(t, dtype=float)
        return self.survival(t) / self.survival(t - 1)


class ShiftedBetaGeometric(_DiscreteModel):
    """Shifted-beta-geometric model of period-to-period retention.

    Attributes
    ----------
    alpha_, beta_ : float
        Beta-distribution parameters of the per-period churn probability.
    log_likelihood_ : float
    """

    name = "shifted-beta-geometric"

    def fit(self, alive):
        """Fit a cohort's survivors at periods 0..T (``alive[0]`` = cohort size)."""
        alive = np.asarray(alive, dtype=float)
        lost = -np.diff(alive)
        cens = np.zeros(alive.size)
        cens[-1] = alive[-1]
        return self.fit_counts(lost, cens)

    def _survival(self, t, p):
        a, b = p
        return np.exp(sp.betaln(a, b + t) - sp.betaln(a, b))

    def _survival_grad(self, t, p):
        a, b = p
        s = self._survival(t, p)
        da = s * (sp.digamma(a + b) - sp.digamma(a + b + t))
        db = s * (sp.digamma(b + t) - sp.digamma(a + b + t) - sp.digamma(b) + sp.digamma(a + b))
        return s, np.stack([da, db], axis=1)

    @property
    def alpha_(self) -> float:
        return float(self.params_[0])

    @property
    def beta_(self) -> float:
        return float(self.params_[1])

    def derl(self, discount_rate: float, renewals: int) -> float:
        """Discounted expected residual lifetime of a customer who has made ``renewals`` renewals.

        Fader & Hardie (2010), eq. 6, with n - 1 = ``renewals``:
        ``(b + n - 1) / (a + b + n - 1) * 2F1(1, b + n; a + b + n; 1 / (1 + d))``; it equals the
        direct sum over t >= n of ``S(t) / S(n - 1) / (1 + d) ** (t - n)``.
        """
        a, b, n, d = self.alpha_, self.beta_, renewals + 1, discount_rate
        return float((b + n - 1) / (a + b + n - 1) * sp.hyp2f1(1, b + n, a + b + n, 1 / (1 + d)))


class NoChurnTail:
    """The tail of a segment in which nobody churned: nothing to fit, survival stays where the data left it."""

    name = "none (no churn observed)"
    params_ = np.array([1.0, 1.0])
    log_likelihood_ = 0.0

    def survival(self, t):
        return np.ones_like(np.asarray(t, dtype=float))
