"""Answers collapsed to driver patterns with counts, and the model arithmetic run on them.

Every statistic :class:`~cxkit.drivers.KeyDrivers` needs is a weighted sum over
the distinct patterns of (outcome, drivers): means and cross-products for the
linear model, the logistic likelihood's gradient and information for the
detractor model. Collapsing first (in DuckDB) makes millions of answers a few
thousand rows, and a bootstrap of answers is a multinomial draw of the counts.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from cxkit.drivers.frame import ANSWER_COUNT
from cxkit.engine import arrow_table
from cxkit.errors import CxkitError
from cxkit.sql import ident

__all__ = ["Patterns", "collapse", "weighted_corr", "weighted_moments", "centred_factor",
           "rank_of_factor", "corr_from_moments", "logistic_fit"]


class Patterns:
    """Distinct (outcome, drivers) rows with their counts, and the design matrix built from them.

    The outcome and the design columns are held as one array ``z = [y, x]`` (a pattern per row), of which ``y``
    and ``x`` are views: the weighted sums every fit reads are taken from it a block of patterns at a time, so
    no second copy of it is made however many patterns there are.

    Attributes
    ----------
    z : ndarray (patterns, 1 + columns)
        Outcome and design columns of each pattern.
    y : ndarray
        Outcome of each pattern (``z[:, 0]``).
    x : ndarray (patterns, columns)
        Design columns (``z[:, 1:]``): numeric drivers as they are, categorical ones as dummies against their
        most common level.
    counts : ndarray
        Answers with each pattern.
    groups : list of list of int
        Design columns of each driver, in the order of ``drivers``.
    columns : list of str
        Design column names (``plan[Pro]`` for a dummy).
    reference : dict
        Categorical driver -> its reference level.

    Examples
    --------
    >>> import numpy as np
    >>> pat = Patterns(np.array([[7.0, 1.0], [9.0, 3.0]]), np.array([2.0, 1.0]), ["calls"], [[0]], ["calls"], {})
    >>> pat.n, pat.y.tolist(), pat.x.tolist()
    (3, [7.0, 9.0], [[1.0], [3.0]])
    """

    def __init__(self, z, counts, drivers, groups, columns, reference):
        self.z, self.counts = z, counts
        self.drivers, self.groups, self.columns, self.reference = drivers, groups, columns, reference

    @property
    def y(self) -> np.ndarray:
        return self.z[:, 0]

    @property
    def x(self) -> np.ndarray:
        return self.z[:, 1:]

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    def without(self, j: int) -> Patterns:
        """The same answers without driver ``j`` (patterns that now coincide stay apart: the sums are the same).

        The columns kept move left within this object's array (no copy of every pattern), so this object is
        given up: use the one returned.
        """
        keep = [i for i in range(len(self.drivers)) if i != j]
        cols = [c for i in keep for c in self.groups[i]]
        for at, c in enumerate(cols, start=1):  # later columns move left: each source is read before it is written
            if at != c + 1:
                self.z[:, at] = self.z[:, c + 1]
        groups, at = [], 0
        for i in keep:
            groups.append(list(range(at, at + len(self.groups[i]))))
            at += len(self.groups[i])
        reference = {k: v for k, v in self.reference.items() if k != self.drivers[j]}
        return Patterns(self.z[:, :1 + len(cols)], self.counts, [self.drivers[i] for i in keep], groups,
                        [self.columns[c] for c in cols], reference)


#: Patterns summed at a time: a block's temporary product is at most this many rows of ``z``.
BLOCK_ROWS = 65_536


def weighted_moments(z: np.ndarray, w: np.ndarray, block: int | None = None):
    """``(sum w, sum w z, sum w z z')`` over the rows of ``z``, a block of rows at a time.

    >>> import numpy as np
    >>> total, first, cross = weighted_moments(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 2.0]))
    >>> float(total), first.tolist(), cross.tolist()
    (3.0, [7.0, 10.0], [[19.0, 26.0], [26.0, 36.0]])
    """
    block = block or BLOCK_ROWS
    m = z.shape[1]
    first, cross = np.zeros(m), np.zeros((m, m))
    for lo in range(0, len(w), block):
        zb, wb = z[lo:lo + block], w[lo:lo + block]
        first += wb @ zb
        cross += zb.T @ (zb * wb[:, None])
    return float(w.sum()), first, cross


def centred_factor(x: np.ndarray, w: np.ndarray, block: int | None = None) -> np.ndarray:
    """The triangular factor ``R`` of the weighted, centred design ``(x - mean) * sqrt(w)`` (``= QR``), built a
    block of rows at a time: ``R`` has the design's singular values, so its rank is the design's
    (:func:`rank_of_factor`) in a few columns square, however many the rows.

    >>> import numpy as np
    >>> x = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.5]])
    >>> rank_of_factor(centred_factor(x, np.ones(3)), 3), rank_of_factor(centred_factor(x[:2], np.ones(2)), 2)
    (2, 1)
    """
    block = block or BLOCK_ROWS
    mean = (w @ x) / w.sum()
    r = np.zeros((0, x.shape[1]))
    for lo in range(0, len(w), block):
        part = (x[lo:lo + block] - mean) * np.sqrt(w[lo:lo + block])[:, None]
        r = np.linalg.qr(np.vstack([r, part]), mode="r")
    return r


def rank_of_factor(r: np.ndarray, rows: int, columns: list[int] | None = None) -> int:
    """``numpy.linalg.matrix_rank`` of the design behind the factor ``r`` (``rows`` rows; its default tolerance
    counts them), or of ``columns`` of it."""
    part = r if columns is None else r[:, columns]
    if not part.size:
        return 0
    s = np.linalg.svd(part, compute_uv=False)
    return int(np.count_nonzero(s > s.max() * max(rows, part.shape[1]) * np.finfo(float).eps))


def _relation(frame):
    from cxkit.backend import BackendRelation

    if isinstance(frame, duckdb.DuckDBPyRelation | BackendRelation):  # summed where the rows are (a warehouse)
        return frame
    if isinstance(frame, pd.DataFrame):
        con = duckdb.connect()
        return con.from_df(frame)
    raise CxkitError("drivers need a DataFrame or DuckDB relation from driver_frame(...)")


def collapse(frame, outcome: str, drivers: list[str], categorical: set) -> Patterns:
    """Group the answers into patterns of the outcome and the drivers (rows missing any are left out).

    A frame with the column :data:`~cxkit.drivers.frame.ANSWER_COUNT` (``driver_frame(relation="patterns")``)
    has a row per pattern of answers: its counts are summed, so the patterns and counts are those of the answers.

    The counts come back as Arrow columns and are written straight into the design array: a categorical
    driver's levels are read from its dictionary (a few strings), never as a string per pattern.
    """
    import pyarrow.compute as pc

    rel = _relation(frame)
    cols = [outcome, *drivers]
    missing = [c for c in cols if c not in rel.columns]
    if missing:
        raise CxkitError(f"the driver frame has no column {', '.join(missing)}")
    select = ", ".join(f"CAST({ident(c)} AS VARCHAR) AS {ident(c)}" if c in categorical else ident(c)
                       for c in cols)
    where = " AND ".join(f"{ident(c)} IS NOT NULL" for c in cols)
    n = f"CAST(sum({ident(ANSWER_COUNT)}) AS BIGINT)" if ANSWER_COUNT in rel.columns else "count(*)"
    table = arrow_table(rel.query("_driver_rows", f"SELECT {select}, {n} AS _n FROM _driver_rows WHERE {where} "
                                             "GROUP BY ALL ORDER BY ALL"))
    if not table.num_rows:
        raise CxkitError("no answer has every driver filled in")
    counts = table.column("_n").to_numpy().astype(float)
    coded, reference = {}, {}
    for d in drivers:
        if d in categorical:  # levels in text order, the most answered the reference (the first such on a tie)
            encoded = pc.dictionary_encode(table.column(d).combine_chunks())
            values = np.asarray(encoded.dictionary.to_pylist(), dtype=object)
            codes = encoded.indices.to_numpy()
            totals = np.bincount(codes, weights=counts, minlength=len(values))
            order = sorted(range(len(values)), key=lambda i: values[i])
            ref = max(order, key=lambda i: totals[i])  # max keeps the first of equal totals, as idxmax did
            reference[d] = str(values[ref])
            coded[d] = (codes, [(str(values[i]), i) for i in order if i != ref])
    width = sum(len(coded[d][1]) if d in coded else 1 for d in drivers)
    z = np.empty((table.num_rows, 1 + width))
    z[:, 0] = table.column(outcome).to_numpy()
    groups, names = [], []
    for d in drivers:
        start = len(names)
        if d in coded:
            codes, levels = coded.pop(d)
            for value, code in levels:
                z[:, 1 + len(names)] = codes == code
                names.append(f"{d}[{value}]")
        else:
            z[:, 1 + len(names)] = table.column(d).to_numpy()
            names.append(d)
        table = table.drop_columns([d])  # each column let go once copied: the counts are never held twice
        groups.append(list(range(start, len(names))))
    del table
    return Patterns(z, counts, list(drivers), groups, names, reference)


def weighted_corr(y: np.ndarray, x: np.ndarray, w: np.ndarray, stacked: np.ndarray | None = None):
    """Correlation matrix of ``[y, x]`` under frequency weights ``w``, with the means and standard deviations.

    ``stacked`` (``[y, x]`` as one array) saves re-stacking in a bootstrap. The weighted cross-products are one
    matrix product over the patterns; the means are taken out afterwards.
    """
    data = np.column_stack([y, x]) if stacked is None else stacked
    return corr_from_moments(*weighted_moments(data, w))


def corr_from_moments(total: float, first: np.ndarray, cross: np.ndarray):
    """:func:`weighted_corr` from the weighted sums: ``total = sum w``, ``first = sum w z``, ``cross = sum w z z'``."""
    mean = first / total
    cov = (cross - total * np.outer(mean, mean)) / (total - 1)
    sd = np.sqrt(np.clip(np.diag(cov), 0, None))
    if np.any(sd <= 1e-12 * np.maximum(np.abs(mean), 1.0)):
        return None, mean, sd
    return cov / np.outer(sd, sd), mean, sd


def logistic_fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, start=None, max_iter: int = 50, tol: float = 1e-10):
    """Weighted logistic regression with an intercept (Newton-Raphson); returns coefficients, intercept first."""
    design = np.column_stack([np.ones(len(y)), x])
    beta = np.zeros(design.shape[1]) if start is None else np.array(start, dtype=float)
    for _ in range(max_iter):
        eta = design @ beta
        p = 1.0 / (1.0 + np.exp(-eta))
        grad = design.T @ (w * (y - p))
        info = (design * (w * p * (1 - p))[:, None]).T @ design
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError as err:
            raise CxkitError("the detractor model cannot be fitted: a driver separates detractors perfectly "
                             "or drivers are linearly dependent") from err
        beta += step
        if np.max(np.abs(step)) < tol:
            break
    if not np.all(np.isfinite(beta)) or np.max(np.abs(beta[1:]), initial=0) > 30:
        raise CxkitError("the detractor model does not converge: a driver separates detractors perfectly")
    return beta
