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

__all__ = ["ShiftedBetaGeometric", "NoChurnTail", "ConstantHazardTail", "PeriodIndex", "discrete_counts"]


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
    """Shared fitting of a two-parameter discrete survival model on period counts.

    The fit works in coordinates ``q`` with box bounds ``_bounds`` (default: the log of the parameters);
    a model may choose others where its likelihood is better shaped (see :class:`ShiftedBetaGeometric`).
    """

    name = "model"
    _bounds = np.array([_LOG_BOUNDS, _LOG_BOUNDS])

    def _to_q(self, params):
        return np.log(np.asarray(params, dtype=float))

    def _from_q(self, q):
        return np.exp(q)

    def _survival_grad_q(self, t, q):
        """S(t) and dS/dq (len(t) x 2)."""
        p = np.exp(q)
        s, ds = self._survival_grad(t, p)
        return s, ds * p

    def _survival(self, t, p):  # pragma: no cover - defined by subclasses
        raise NotImplementedError

    def _survival_grad(self, t, p):  # pragma: no cover - defined by subclasses
        """S(t) and dS/dp (len(t) x 2)."""
        raise NotImplementedError

    def _negloglik(self, q, lost, cens):
        """Negative log-likelihood and its gradient in log parameters ``q``."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            t = np.arange(lost.size + 1)
            s, ds = self._survival_grad_q(t, q)
            prob = np.maximum(s[:-1] - s[1:], 1e-300)
            s_safe = np.maximum(s, 1e-300)
            ll = lost @ np.log(prob) + cens @ np.log(s_safe)
            grad = -((lost / prob) @ (ds[:-1] - ds[1:]) + (cens / s_safe) @ ds)
        if not (np.isfinite(ll) and np.all(np.isfinite(grad))):
            return np.inf, np.zeros(2)  # a step too far: the line search backs off
        return -float(ll), grad

    def fit_counts(self, lost, censored, start=None):
        """Maximum likelihood on period counts (see :func:`discrete_counts`); returns self.

        L-BFGS-B in log parameters, then Newton steps to the optimum (L-BFGS-B can stop early when
        the two parameters differ in scale by orders of magnitude), Nelder-Mead if Newton cannot settle.
        """
        lost, cens = np.asarray(lost, dtype=float), np.asarray(censored, dtype=float)
        bounds = [tuple(b) for b in self._bounds]
        x0 = self._to_q(start) if start is not None else self._default_q(lost, cens)
        x0 = np.clip(x0, self._bounds[:, 0], self._bounds[:, 1])
        res = optimize.minimize(self._negloglik, x0, args=(lost, cens), jac=True, method="L-BFGS-B",
                                bounds=bounds, options={"ftol": 1e-14, "gtol": 1e-8, "maxiter": 1000})
        x, f, settled = self._newton(res.x, lost, cens)
        if not settled:
            res = optimize.minimize(lambda q: self._negloglik(q, lost, cens)[0], x, method="Nelder-Mead",
                                    bounds=bounds, options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000})
            x, f = (res.x, res.fun) if res.fun <= f else (x, f)
        self._q, self.log_likelihood_, self.periods_ = x, -float(f), lost.size
        self.params_ = self._from_q(x)
        return self

    def _default_q(self, lost, cens):
        return np.zeros(2)

    def refit(self, lost, censored, start):
        """Maximum likelihood from a nearby start (a bootstrap replicate from the full-data fit): Newton
        steps only (see :meth:`_newton`), :meth:`fit_counts` when they cannot settle."""
        lost, cens = np.asarray(lost, dtype=float), np.asarray(censored, dtype=float)
        x, f, settled = self._newton(self._to_q(start), lost, cens)
        if not settled:
            return self.fit_counts(lost, cens, start=self._from_q(x))
        self._q, self.log_likelihood_, self.periods_ = x, -float(f), lost.size
        self.params_ = self._from_q(x)
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
        lo, hi = self._bounds[:, 0], self._bounds[:, 1]
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
        pinned = all(g[j] <= tol if x[j] >= hi[j] - 1e-6 else g[j] >= -tol for j in np.setdiff1d([0, 1], free))
        return x, f, bool(converged and pinned and np.isfinite(f))

    # ------------------------------------------------------------ many replicates at once
    def _survival_grad_q_many(self, t, q):
        """S(t) (B x len(t)) and dS/dq (B x len(t) x 2) for each row of ``q`` (B x 2)."""
        p = np.exp(q)
        s, ds = self._survival_grad_many(t, p)
        return s, ds * p[:, None, :]

    def _survival_grad_many(self, t, p):  # pragma: no cover - defined by subclasses
        raise NotImplementedError

    def _negloglik_many(self, q, lost, cens):
        """:meth:`_negloglik` for each row of ``q`` (B x 2), ``lost`` (B x T) and ``cens`` (B x T + 1)."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            t = np.arange(lost.shape[1] + 1)
            s, ds = self._survival_grad_q_many(t, q)
            prob = np.maximum(s[:, :-1] - s[:, 1:], 1e-300)
            s_safe = np.maximum(s, 1e-300)
            ll = np.einsum("bt,bt->b", lost, np.log(prob)) + np.einsum("bt,bt->b", cens, np.log(s_safe))
            grad = -(np.einsum("bt,btk->bk", lost / prob, ds[:, :-1] - ds[:, 1:])
                     + np.einsum("bt,btk->bk", cens / s_safe, ds))
        bad = ~(np.isfinite(ll) & np.all(np.isfinite(grad), axis=1))
        f = -ll
        f[bad], grad[bad] = np.inf, 0.0
        return f, grad

    def refit_many(self, lost, censored, start) -> list:
        """:meth:`refit` for many replicates at once (rows of ``lost`` and ``censored``), from one start.

        The Newton steps of :meth:`_newton` (Hessian from differences of the gradient, absolute
        eigenvalues, halving line search, the Newton-decrement stop), run on every replicate together in
        arrays, projected at the bounds: a parameter at its bound whose gradient pushes it outwards stays
        there (an sBG replicate at its geometric limit), the optimality condition of the bounded fit. A
        replicate that does not settle so is refitted alone by :meth:`refit`. Tested against one
        :meth:`refit` per replicate (the same optimum, to the fit's tolerance).
        """
        lost, cens = np.atleast_2d(np.asarray(lost, dtype=float)), np.atleast_2d(np.asarray(censored, dtype=float))
        n, periods = lost.shape
        lo, hi = self._bounds[:, 0], self._bounds[:, 1]
        x = np.tile(np.clip(self._to_q(start), lo, hi), (n, 1))
        f, g = self._negloglik_many(x, lost, cens)
        active, converged = np.isfinite(f), np.zeros(n, dtype=bool)
        for _ in range(30):
            rows = np.flatnonzero(active)
            if not rows.size:
                break
            xr, fr, gr = x[rows], f[rows], g[rows]
            h = np.empty((rows.size, 2, 2))
            for j in range(2):
                step = np.zeros(2)
                step[j] = 1e-5
                h[:, :, j] = (self._negloglik_many(xr + step, lost[rows], cens[rows])[1] - gr) / 1e-5
            # a parameter at its bound whose gradient pushes it outwards stays there (a projected Newton step):
            # the optimum of the bounded fit, as the scalar path reaches it through L-BFGS-B
            pinned = ((xr <= lo + 1e-6) & (gr > 0)) | ((xr >= hi - 1e-6) & (gr < 0))
            gr = np.where(pinned, 0.0, gr)
            h = np.where(pinned[:, :, None] | pinned[:, None, :], 0.0, h)
            h[:, 0, 0] = np.where(pinned[:, 0], 1.0, h[:, 0, 0])
            h[:, 1, 1] = np.where(pinned[:, 1], 1.0, h[:, 1, 1])
            eig, vec = np.linalg.eigh((h + np.transpose(h, (0, 2, 1))) / 2)
            eig = np.maximum(np.abs(eig), 1e-10 * np.maximum(np.abs(eig).max(axis=1, keepdims=True), 1e-300))
            inner = np.einsum("bji,bj->bi", vec, gr) / eig
            direction = -np.einsum("bij,bj->bi", vec, inner)
            finite = np.all(np.isfinite(direction), axis=1)
            done = finite & (-np.einsum("bi,bi->b", gr, direction) <= 1e-10 * np.maximum(1.0, np.abs(fr)))
            converged[rows[done]] = True
            active[rows[~finite | done]] = False
            search = np.flatnonzero(finite & ~done)
            t = np.ones(search.size)
            while search.size:
                r = rows[search]
                x_new = np.clip(xr[search] + t[:, None] * direction[search], lo, hi)
                f_new, g_new = self._negloglik_many(x_new, lost[r], cens[r])
                ok = f_new <= fr[search]
                x[r[ok]], f[r[ok]], g[r[ok]] = x_new[ok], f_new[ok], g_new[ok]
                t = t[~ok] / 2
                search = search[~ok]
                gave_up = t <= 1e-4
                active[rows[search[gave_up]]] = False
                search, t = search[~gave_up], t[~gave_up]
        settled = converged & np.isfinite(f)
        models = []
        for b in range(n):
            if not settled[b]:
                models.append(type(self)().refit(lost[b], cens[b], start))
                continue
            model = type(self)()
            model._q, model.log_likelihood_, model.periods_ = x[b], -float(f[b]), periods
            model.params_ = model._from_q(x[b])
            models.append(model)
        return models

    def survival(self, t):
        """Probability of still being a customer after t whole periods."""
        return self._survival(np.asarray(t, dtype=float), self.params_)

    def _survival_q(self, t):
        return self._survival_grad_q(np.asarray(t, dtype=float), self._q)[0]

    def retention(self, t):
        """Share of customers alive after period t - 1 who renew into period t (t >= 1)."""
        t = np.asarray(t, dtype=float)
        return self.survival(t) / self.survival(t - 1)


class ShiftedBetaGeometric(_DiscreteModel):
    """Shifted-beta-geometric model of period-to-period retention.

    Fitted in Fader & Hardie's mean and polarisation, ``m = alpha / (alpha + beta)`` (the average churn
    probability) and ``phi = 1 / (alpha + beta + 1)`` (0: every customer alike, a geometric; towards 1:
    customers either leave at once or stay), not in ``alpha, beta``: at the geometric limit ``alpha`` and
    ``beta`` run off to infinity along a flat ridge where Newton never settles, while ``phi`` simply
    reaches its bound 0, where the likelihood is smooth. A fit at ``phi = 0`` is the geometric model.

    Attributes
    ----------
    alpha_, beta_ : float
        Beta-distribution parameters of the per-period churn probability (infinite at ``phi = 0``).
    mean_churn_, polarisation_ : float
        ``m`` and ``phi``; ``params_`` holds them.
    log_likelihood_ : float
    """

    name = "shifted-beta-geometric"
    _bounds = np.array([[-30.0, 30.0], [0.0, 1 - 1e-9]])  # logit(m), phi

    def fit(self, alive):
        """Fit a cohort's survivors at periods 0..T (``alive[0]`` = cohort size)."""
        alive = np.asarray(alive, dtype=float)
        lost = -np.diff(alive)
        cens = np.zeros(alive.size)
        cens[-1] = alive[-1]
        return self.fit_counts(lost, cens)

    def _to_q(self, params):
        m, phi = np.asarray(params, dtype=float)
        m = min(max(m, 1e-13), 1 - 1e-13)
        return np.array([np.log(m / (1 - m)), min(max(phi, 0.0), 1 - 1e-9)])

    def _from_q(self, q):
        return np.array([1 / (1 + np.exp(-q[0])), q[1]])

    def _default_q(self, lost, cens):
        exposure = np.arange(1, lost.size + 1) @ lost + np.arange(cens.size) @ cens
        rate = lost.sum() / max(exposure, 1.0)  # the geometric's churn probability
        return self._to_q([min(max(rate, 1e-6), 0.99), 0.1])

    def _survival_grad_q(self, t, q):
        """S(t) at whole periods t = 0, 1, ... and its gradient in (logit m, phi), by the product
        ``S(t) = prod_{i < t} ((1 - m)(1 - phi) + i phi) / ((1 - phi) + i phi)``, exact at phi = 0
        (:meth:`_survival_grad_q_many` for one row)."""
        s, ds = self._survival_grad_q_many(t, np.asarray(q, dtype=float)[None, :])
        return s[0], ds[0]

    def _survival_grad_q_many(self, t, q, grad: bool = True):
        """S(t) and its gradient in (logit m, phi) for each row of ``q``, at whole periods ``t = 0, 1, ..., T``
        (chain rule for logit m: dm/dlogit = m(1 - m)); S(t) alone without ``grad``."""
        m, phi = 1 / (1 + np.exp(-q[:, :1])), q[:, 1:]
        t = np.asarray(t, dtype=float)
        i = np.arange(int(t.max()) if t.size else 0, dtype=float)
        num = (1 - m) * (1 - phi) + i * phi
        den = (1 - phi) + i * phi
        zero = np.zeros((q.shape[0], 1))
        k = t.astype(int)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_terms = np.log(num) - np.log(den)
        s = np.exp(np.concatenate([zero, np.cumsum(log_terms, axis=1)], axis=1)[:, k])
        if not grad:
            return s
        with np.errstate(divide="ignore", invalid="ignore"):
            d_m = -(1 - phi) / num
            d_phi = (i - 1 + m) / num - (i - 1) / den
        grad_m = np.concatenate([zero, np.cumsum(d_m, axis=1)], axis=1)[:, k] * m * (1 - m)
        grad_phi = np.concatenate([zero, np.cumsum(d_phi, axis=1)], axis=1)[:, k]
        return s, np.stack([s * grad_m, s * grad_phi], axis=2)

    def _survival(self, t, p):
        m, phi = p
        t = np.asarray(t, dtype=float)
        if np.all(t == np.round(t)) and t.size and t.min() >= 0:
            return self._survival_grad_q_many(t.ravel(), self._to_q(p)[None, :], grad=False)[0].reshape(t.shape)
        if phi <= 0:
            return (1 - m) ** t
        a, b = m * (1 - phi) / phi, (1 - m) * (1 - phi) / phi
        return np.exp(sp.betaln(a, b + t) - sp.betaln(a, b))

    @property
    def mean_churn_(self) -> float:
        return float(self.params_[0])

    @property
    def polarisation_(self) -> float:
        return float(self.params_[1])

    @property
    def alpha_(self) -> float:
        m, phi = self.params_
        return float(m * (1 - phi) / phi) if phi > 0 else float("inf")

    @property
    def beta_(self) -> float:
        m, phi = self.params_
        return float((1 - m) * (1 - phi) / phi) if phi > 0 else float("inf")

    def derl(self, discount_rate: float, renewals: int) -> float:
        """Discounted expected residual lifetime of a customer who has made ``renewals`` renewals.

        Fader & Hardie (2010), eq. 6, with n - 1 = ``renewals``:
        ``(b + n - 1) / (a + b + n - 1) * 2F1(1, b + n; a + b + n; 1 / (1 + d))``; it equals the
        direct sum over t >= n of ``S(t) / S(n - 1) / (1 + d) ** (t - n)``. At the geometric limit
        (``phi = 0``) it is ``(1 - m) / (1 - (1 - m) / (1 + d))``.
        """
        n, d = renewals + 1, discount_rate
        if self.polarisation_ <= 1e-9:
            keep = 1 - self.mean_churn_
            return float(keep / (1 - keep / (1 + d)))
        a, b = self.alpha_, self.beta_
        return float((b + n - 1) / (a + b + n - 1) * sp.hyp2f1(1, b + n, a + b + n, 1 / (1 + d)))


class NoChurnTail:
    """The tail of a segment in which nobody churned: nothing to fit, survival stays where the data left it."""

    name = "none (no churn observed)"
    params_ = np.array([1.0, 1.0])
    log_likelihood_ = 0.0

    def survival(self, t):
        return np.ones_like(np.asarray(t, dtype=float))


class ConstantHazardTail:
    """A tail that loses the same share every period: ``S(t) = exp(-rate t)``, an assumption, not a fit.

    Used to bound what a segment with no churn (or almost none) may be worth beyond its data: ``rate`` is
    the exact Poisson upper bound on its hazard (:func:`poisson_upper_rate`).

    >>> ConstantHazardTail(0.1).survival([0, 10]).round(4).tolist()
    [1.0, 0.3679]
    """

    name = "constant hazard (assumed)"
    log_likelihood_ = 0.0

    def __init__(self, rate: float):
        self.rate = float(rate)
        self.params_ = np.array([self.rate, 1.0])

    def survival(self, t):
        return np.exp(-self.rate * np.asarray(t, dtype=float))


def poisson_upper_rate(events: float, exposure: float, alpha: float = 0.05) -> float:
    """Exact (Garwood) upper ``1 - alpha / 2`` bound on a rate from ``events`` over ``exposure``.

    With no events it is ``-log(alpha / 2) / exposure`` (3.69 / exposure at 95%; the one-sided 95% bound
    is the "rule of three", 3.0 / exposure): the fastest constant hazard the data does not rule out.

    >>> round(poisson_upper_rate(0, 1000.0), 5), round(poisson_upper_rate(4, 1000.0), 5)
    (0.00369, 0.01024)
    """
    from scipy.stats import chi2

    return float(chi2.ppf(1 - alpha / 2, 2 * events + 2) / 2 / exposure) if exposure > 0 else float("inf")
