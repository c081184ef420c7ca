"""A bootstrap of answers for many patterns: each replicate's weighted moments, drawn pattern block by block.

Resampling ``n`` answers with replacement gives each pattern of ``counts`` a
multinomial count ``W ~ Multinomial(n, counts / n)``; the linear key-driver
model reads a replicate only through ``sum W``, ``sum W z`` and ``sum W z z'``
(``z`` = outcome and design columns). Drawing the multinomial pattern by
pattern (what ``numpy``'s ``multinomial`` does, one binomial per pattern and
replicate) is the slow part for a few hundred thousand patterns, so the draw is
*Poissonized*, exactly:

1. ``X_p ~ Poisson(mu * counts_p / n)`` independently, with ``mu = n - 6 sqrt(n)``, for a block of patterns and
   every replicate at once (by the inverse of the Poisson CDF from a lookup table for the patterns of up to
   64 answers, which share a few means), and their moments summed by one matrix product per block;
2. given their total ``S = sum X`` (Poisson(mu), at most ``n`` except with probability below 1e-9), ``X`` is
   ``Multinomial(S, counts / n)``; the ``n - S`` answers still to draw are drawn one by one from ``counts / n``
   and added, which makes the replicate ``Multinomial(n, counts / n)``, the same resample of answers;
3. a replicate whose ``S`` exceeded ``n`` is drawn again whole with ``numpy``'s multinomial.

So the unit resampled is still the answer and the distribution of every replicate is the same as before; only
the random numbers differ. Memory is one block of weights (replicates x ``block`` patterns), not all of them.

Examples
--------
>>> import numpy as np
>>> z = np.array([[1.0, 0.0], [2.0, 1.0], [3.0, 1.0]])
>>> total, first, cross = resampled_moments(z, np.array([5.0, 3.0, 2.0]), 4, np.random.default_rng(0))
>>> total.tolist()
[10.0, 10.0, 10.0, 10.0]
"""

from __future__ import annotations

import numpy as np

from cxkit.draws import PoissonTable

__all__ = ["resampled_moments"]


_TABLE_MAX = 64  # patterns with at most this many answers draw their Poisson count from a lookup table


def _pairs(z: np.ndarray, upper) -> np.ndarray:
    return z[:, upper[0]] * z[:, upper[1]]


def _blocks(counts: np.ndarray, block: int):
    """Ranges of patterns (sorted by count) drawn together: each small count's patterns, then the rest."""
    start, size = 0, counts.size
    while start < size:
        c = counts[start]
        end = int(np.searchsorted(counts, c, side="right")) if c <= _TABLE_MAX else size
        for lo in range(start, end, block):
            yield lo, min(lo + block, end), (c if c <= _TABLE_MAX else None)
        start = end


#: Weights drawn at a time (replicates x patterns of a block): 8 MB per array, however many the patterns.
DRAWN_AT_ONCE = 1 << 20


def resampled_moments(z: np.ndarray, counts: np.ndarray, n_boot: int, rng: np.random.Generator,
                      block: int | None = None):
    """Total, first and second moments of ``n_boot`` bootstrap resamples of the answers behind ``counts``.

    Parameters
    ----------
    z : array (patterns, m)
        The values of each pattern.
    counts : array (patterns,)
        Whole-number count of answers with each pattern.
    n_boot : int
    rng : numpy.random.Generator
    block : int, optional
        Patterns drawn at a time; by default as many as keep a block's weights to :data:`DRAWN_AT_ONCE`
        numbers (5,242 patterns for 200 replicates), so memory does not grow with the patterns.

    Returns
    -------
    total : array (n_boot,)
        Answers in each replicate (all ``n``).
    first : array (n_boot, m)
        ``sum W z`` per replicate.
    cross : array (n_boot, m, m)
        ``sum W z z'`` per replicate.
    """
    block = block or max(DRAWN_AT_ONCE // max(n_boot, 1), 1)
    order = np.argsort(counts, kind="stable")  # the sums do not depend on the patterns' order
    z = np.asarray(z, dtype=float)  # read in that order a block at a time: no sorted copy of every pattern
    counts = np.asarray(counts, dtype=float)[order]
    n = int(round(counts.sum()))
    size, m = z.shape
    upper = np.triu_indices(m)
    probs = counts / counts.sum()
    mu = max(n - 6.0 * np.sqrt(n), 0.0)
    first = np.zeros((n_boot, m))
    second = np.zeros((n_boot, upper[0].size))
    drawn = np.zeros(n_boot, dtype=np.int64)
    tables = {}
    for lo, hi, c in _blocks(counts, block):
        if c is None:
            w = rng.poisson(mu * probs[lo:hi], size=(n_boot, hi - lo))
        else:
            table = tables.get(c) or tables.setdefault(c, PoissonTable(mu * c / n))
            w = table.draw(rng.random((n_boot, hi - lo)))
        drawn += w.sum(axis=1)
        w = w.astype(float)
        block_z = z[order[lo:hi]]
        first += w @ block_z
        second += w @ _pairs(block_z, upper)
    cumulative = np.cumsum(probs)
    for r in range(n_boot):
        if drawn[r] > n:  # the Poisson total overshot (probability below 1e-9): this replicate drawn again whole
            w = rng.multinomial(n, probs).astype(float)
            first[r], second[r] = w @ z[order], w @ _pairs(z[order], upper)
            continue
        u = rng.random(n - drawn[r]) * cumulative[-1]
        u.sort()  # the same draws, in increasing order: each search starts where the last ended (3x faster)
        extra = np.searchsorted(cumulative, u, side="right")
        picked = z[order[np.minimum(extra, size - 1)]]
        first[r] += picked.sum(axis=0)
        second[r] += (picked.T @ picked)[upper]
    cross = np.zeros((n_boot, m, m))
    cross[:, upper[0], upper[1]] = second
    cross[:, upper[1], upper[0]] = second
    return np.full(n_boot, float(n)), first, cross
