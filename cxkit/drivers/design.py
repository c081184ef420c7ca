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

from cxkit.errors import CxkitError
from cxkit.sql import ident

__all__ = ["Patterns", "collapse", "weighted_corr", "corr_from_moments", "logistic_fit"]


class Patterns:
    """Distinct (outcome, drivers) rows with their counts, and the design matrix built from them.

    Attributes
    ----------
    y : ndarray
        Outcome of each pattern.
    x : ndarray (patterns, columns)
        Design columns: numeric drivers as they are, categorical ones as dummies against their most
        common level.
    counts : ndarray
        Answers with each pattern.
    groups : list of list of int
        Design columns of each driver, in the order of ``drivers``.
    columns : list of str
        Design column names (``plan[Pro]`` for a dummy).
    reference : dict
        Categorical driver -> its reference level.
    """

    def __init__(self, y, x, counts, drivers, groups, columns, reference):
        self.y, self.x, self.counts = y, x, counts
        self.drivers, self.groups, self.columns, self.reference = drivers, groups, columns, reference

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    def without(self, j: int) -> Patterns:
        """The same answers without driver ``j`` (patterns that now coincide stay apart: the sums are the same)."""
        keep = [i for i in range(len(self.drivers)) if i != j]
        cols = [c for i in keep for c in self.groups[i]]
        groups, at = [], 0
        for i in keep:
            groups.append(list(range(at, at + len(self.groups[i]))))
            at += len(self.groups[i])
        reference = {k: v for k, v in self.reference.items() if k != self.drivers[j]}
        return Patterns(self.y, self.x[:, cols], self.counts, [self.drivers[i] for i in keep], groups,
                        [self.columns[c] for c in cols], reference)


def _relation(frame):
    from cxkit.backend import BackendRelation

    if isinstance(frame, duckdb.DuckDBPyRelation | BackendRelation):  # summed where the rows are (a warehouse)
        return frame
    if isinstance(frame, pd.DataFrame):
        con = duckdb.connect()
        return con.from_df(frame)
    raise CxkitError("drivers need a DataFrame or DuckDB relation from driver_frame(...)")


def collapse(frame, outcome: str, drivers: list[str], categorical: set) -> Patterns:
    """Group the answers into patterns of the outcome and the drivers (rows missing any are left out)."""
    rel = _relation(frame)
    cols = [outcome, *drivers]
    missing = [c for c in cols if c not in rel.columns]
    if missing:
        raise CxkitError(f"the driver frame has no column {', '.join(missing)}")
    select = ", ".join(f"CAST({ident(c)} AS VARCHAR) AS {ident(c)}" if c in categorical else ident(c)
                       for c in cols)
    where = " AND ".join(f"{ident(c)} IS NOT NULL" for c in cols)
    counts = rel.query("_driver_rows", f"SELECT {select}, count(*) AS _n FROM _driver_rows WHERE {where} "
                       "GROUP BY ALL ORDER BY ALL").df()
    if counts.empty:
        raise CxkitError("no answer has every driver filled in")
    y = counts[outcome].to_numpy(dtype=float)
    blocks, groups, names, reference, at = [], [], [], {}, 0
    for d in drivers:
        if d in categorical:
            values = counts[d].astype(str)
            totals = counts.groupby(values)["_n"].sum().sort_index()
            ref = str(totals.idxmax())
            levels = [v for v in totals.index if v != ref]
            reference[d] = ref
            block = np.column_stack([(values == v).to_numpy(dtype=float) for v in levels]) if levels else \
                np.zeros((len(counts), 0))
            names += [f"{d}[{v}]" for v in levels]
        else:
            block = counts[[d]].to_numpy(dtype=float)
            names.append(d)
        blocks.append(block)
        groups.append(list(range(at, at + block.shape[1])))
        at += block.shape[1]
    x = np.hstack(blocks) if blocks else np.zeros((len(counts), 0))
    return Patterns(y, x, counts["_n"].to_numpy(dtype=float), list(drivers), groups, names, reference)


def weighted_corr(y: np.ndarray, x: np.ndarray, w: np.ndarray, stacked: np.ndarray | None = None):
    """Correlation matrix of ``[y, x]`` under frequency weights ``w``, with the means and standard deviations.

    ``stacked`` (``[y, x]`` as one array) saves re-stacking in a bootstrap. The weighted cross-products are one
    matrix product over the patterns; the means are taken out afterwards.
    """
    data = np.column_stack([y, x]) if stacked is None else stacked
    return corr_from_moments(w.sum(), w @ data, data.T @ (data * w[:, None]))


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
