"""Poisson counts drawn fast for the bootstraps: by the inverse of the Poisson CDF, read from a lookup table.

The kit's bootstraps resample customers or answers by Poisson counts: a cell of
``k`` alike customers draws ``Poisson(k)`` (lifetime value), a pattern of
answers ``Poisson(mu k / n)`` (key drivers). numpy's ``Generator.poisson`` takes
25-50 ns a draw; millions per replicate add up (40,000 cells x 3 bands x 200
replicates at ten million customers: 1.4 s). The same draws come from one
uniform each: ``X = searchsorted(cdf, U, "right")`` for ``U ~ Uniform(0, 1)``
and the CDF of the mean (scipy's, to where the tail is below 1e-20) makes them
Poisson to double precision (a count whose CDF rounds to 1.0 is never drawn).
:class:`PoissonTable` answers most ``U`` from a table of 4,096 buckets of ``U``
whose answer is the same across the bucket, and searches the CDF for the rest;
:class:`PoissonDraws` keeps a table per distinct mean of an array and draws one
count per element.

Examples
--------
>>> import numpy as np
>>> draws = PoissonDraws(np.array([1.0, 1.0, 3.0, 40.0]))
>>> x = np.array([draws.draw(np.random.default_rng(s)) for s in range(4000)])
>>> x.shape, bool(abs(x.mean(axis=0) - [1, 1, 3, 40]).max() < 0.4)
((4000, 4), True)
"""

from __future__ import annotations

import numpy as np

__all__ = ["PoissonTable", "PoissonDraws", "BUCKETS"]

#: Buckets of the uniform in a lookup table.
BUCKETS = 4096


class PoissonTable:
    """Inverse-CDF draws of one ``Poisson(lam)``: ``searchsorted(cdf, U, "right")`` for uniform ``U``, read from a
    table of :data:`BUCKETS` buckets of ``U`` where the answer is the same across the bucket, and searched
    otherwise.

    Parameters
    ----------
    lam : float
        The mean (0 or more).

    Examples
    --------
    >>> PoissonTable(2.0).draw(np.array([0.01, 0.5, 0.99])).tolist()
    [0, 2, 6]
    """

    def __init__(self, lam: float):
        from scipy import stats

        k = np.arange(int(lam + 20 * np.sqrt(lam) + 40))
        self.cdf = stats.poisson.cdf(k, lam)
        edges = np.arange(BUCKETS + 1) / BUCKETS
        self.low = np.searchsorted(self.cdf, edges[:-1], side="right")
        self.sure = self.low == np.searchsorted(self.cdf, edges[1:], side="left")

    def draw(self, u: np.ndarray) -> np.ndarray:
        """The counts of the uniforms ``u``.

        Parameters
        ----------
        u : array
            Uniforms, each in [0, 1).

        Returns
        -------
        numpy.ndarray
            One count (int64) per uniform.
        """
        bucket = (u * BUCKETS).astype(np.intp)
        out = self.low[bucket]
        unsure = ~self.sure[bucket]
        out[unsure] = np.searchsorted(self.cdf, u[unsure], side="right")
        return out


class PoissonDraws:
    """One ``Poisson(mean)`` count per element of ``means``, all from one array of uniforms.

    Elements whose mean is one of the first ``max_tables`` distinct means (smallest first) up to ``max_mean`` read
    a :class:`PoissonTable`, the tables of all those means stacked so that one gather serves every element; the
    others (large or rare means) are drawn by numpy's ``Generator.poisson`` after the uniforms. A generator in a
    given state gives the same counts however they are used.

    Parameters
    ----------
    means : array
        The mean of each element (0 or more).
    max_mean : float
        The largest mean read from a table (its CDF is ``mean + 20 sqrt(mean) + 40`` long; an uncertain bucket is
        searched in a row as long as the longest table).
    max_tables : int
        At most this many tables.
    """

    def __init__(self, means, max_mean: float = 256.0, max_tables: int = 1024):
        means = np.asarray(means, dtype=float)
        self.means = means
        distinct, index = np.unique(means, return_inverse=True)
        tabled = np.flatnonzero(distinct <= max_mean)[:max_tables]
        tables = [PoissonTable(lam) for lam in distinct[tabled]]
        self.tabled = index < tabled.size
        self.index = index[self.tabled]  # the table of each tabled element (tabled are the first distinct means)
        self.rest = np.flatnonzero(~self.tabled)
        self.all_tabled = self.rest.size == 0
        width = max((t.cdf.size for t in tables), default=1)
        # every table's buckets in one flat array: the count, or -1 where the bucket's uniforms differ in it
        self.table = np.array([np.where(t.sure, t.low, -1) for t in tables], dtype=np.int32).reshape(-1)
        self.base = self.index.astype(np.intp) * BUCKETS  # where each tabled element's table starts
        self.cdf = np.full((len(tables), width), np.inf)  # past a table's end: never below a uniform
        for i, t in enumerate(tables):
            self.cdf[i, :t.cdf.size] = t.cdf

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """A count for every element: one uniform each (of the tabled ones), then numpy's draws of the rest.

        Parameters
        ----------
        rng : numpy.random.Generator

        Returns
        -------
        numpy.ndarray
            One count (int64) per element of ``means``.
        """
        u = rng.random(self.index.size)
        at = (u * BUCKETS).astype(np.intp)
        at += self.base
        got = self.table.take(at)
        unsure = np.flatnonzero(got < 0)
        if unsure.size:  # searchsorted(cdf, u, "right"): the entries of the CDF at or below u
            got[unsure] = (self.cdf[self.index[unsure]] <= u[unsure, None]).sum(axis=1)
        if self.all_tabled:
            return got.astype(np.int64)
        out = np.empty(self.means.size, dtype=np.int64)
        out[self.tabled] = got
        out[self.rest] = rng.poisson(self.means[self.rest])
        return out
