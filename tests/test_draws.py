"""Poisson counts from lookup tables (cxkit.draws) are exactly the inverse of the Poisson CDF: the same count as
searching scipy's CDF for every uniform, buckets' edges included, and Poisson in distribution."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from cxkit.draws import BUCKETS, PoissonDraws, PoissonTable


class _Uniforms:
    """A generator whose ``random`` gives the uniforms it was handed (and numpy's Poisson for the rest)."""

    def __init__(self, u):
        self.u, self.rng = np.asarray(u, dtype=float), np.random.default_rng(0)

    def random(self, size):
        assert size == self.u.size
        return self.u

    def poisson(self, lam):
        return self.rng.poisson(lam)


@pytest.mark.parametrize("lam", [0.0, 0.3, 1.0, 7.0, 64.0, 136.0, 900.0])
def test_a_table_gives_the_inverse_cdf_for_every_uniform(lam):
    rng = np.random.default_rng(1)
    edges = np.arange(BUCKETS) / BUCKETS
    u = np.concatenate([edges, np.nextafter(edges[1:], 0), rng.random(200_000)])
    table = PoissonTable(lam)
    want = np.searchsorted(stats.poisson.cdf(np.arange(int(lam + 20 * np.sqrt(lam) + 40)), lam), u, side="right")
    assert np.array_equal(table.draw(u), want)


def test_draws_of_many_means_are_each_ones_inverse_cdf():
    means = np.array([3.0, 1.0, 1.0, 40.0, 0.0, 3.0, 136.0, 5000.0, 2.5])
    rng = np.random.default_rng(2)
    draws = PoissonDraws(means, max_mean=256)
    tabled = means <= 256
    edges = np.arange(BUCKETS) / BUCKETS
    for i in range(200):
        u = rng.random(int(tabled.sum()))
        if i < 100:  # buckets' edges and the uniforms just below them
            u = rng.choice(np.concatenate([edges, np.nextafter(edges[1:], 0)]), u.size)
        got = draws.draw(_Uniforms(u))
        want = [np.searchsorted(stats.poisson.cdf(np.arange(int(m + 20 * np.sqrt(m) + 40)), m), x, side="right")
                for m, x in zip(means[tabled], u, strict=True)]
        assert got[tabled].tolist() == want
        assert got[~tabled][0] > 4000  # the large mean drawn by numpy


def test_draws_are_poisson_in_distribution():
    """20,000 draws of each mean: the frequencies against the Poisson probabilities (chi-square, pooled tails),
    from tables and from numpy; and a large mean from a table."""
    means = np.array([0.5, 4.0, 250.0, 30.0, 2000.0])
    draws = PoissonDraws(means, max_mean=256, max_tables=4)  # 0.5, 4, 30 and 250 from tables; 2000 by numpy
    rng = np.random.default_rng(3)
    x = np.array([draws.draw(rng) for _ in range(20_000)])
    for j, m in enumerate(means):
        lo, hi = stats.poisson.ppf([0.001, 0.999], m).astype(int)
        cells = np.arange(lo, hi + 1)
        seen = np.array([(x[:, j] == c).sum() for c in cells], dtype=float)
        p = stats.poisson.pmf(cells, m)
        seen = np.append(seen, len(x) - seen.sum())
        p = np.append(p, 1 - p.sum())
        keep = p * len(x) >= 5
        stat = (((seen - p * len(x)) ** 2) / (p * len(x)))[keep].sum()
        assert stats.chi2.sf(stat, keep.sum() - 1) > 1e-4, (m, stat)
    assert x[:, 0].mean() == pytest.approx(0.5, abs=0.03)
    assert not draws.all_tabled and x.dtype == np.int64
    assert PoissonDraws(means[:4]).all_tabled and PoissonDraws(means[:4]).draw(rng).dtype == np.int64


def test_the_same_generator_state_gives_the_same_counts():
    means = np.array([1.0, 2.0, 3000.0])
    a = PoissonDraws(means).draw(np.random.default_rng(5))
    b = PoissonDraws(means).draw(np.random.default_rng(5))
    assert a.tolist() == b.tolist()
