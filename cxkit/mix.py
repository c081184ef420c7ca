"""NPS per period at a fixed mix of customers: experience change separated from who is answering.

When detractors leave sooner, the NPS of those still answering rises though no one's experience changed;
when the base grows, new customers (who answer differently) weigh more. Both are changes in *who* answers.
This module standardises each period's NPS to one fixed mix of tenure and segments (regression
standardisation, epidemiology's "adjusted rate"): a linear model of each answer's NPS value (+100 a
promoter, 0 a passive, -100 a detractor) on one effect per period plus tenure bands and segments,

    y_i = alpha_period(i) + x_i' gamma + e_i,

fitted by least squares on the cells of answers that share a period, tenure band and segments (counts
from the engine; no answer-level frame). The adjusted NPS of a period is ``alpha_t + xbar' gamma`` with
``xbar`` the mix of all answers pooled; its variance is heteroscedasticity-robust (HC0, from the cells'
sums of squares). With period effects in the model, each period's residuals sum to zero, so a period's raw
NPS is ``alpha_t + xbar_t' gamma`` exactly and every change splits into two parts that add up:

- *the same mix answering differently*: ``alpha_t - alpha_{t-1}`` (the change of the adjusted NPS);
- *a different mix answering*: ``(xbar_t - xbar_{t-1})' gamma``.

Limits: only the mix of what is measured (tenure, segments) is held fixed; answers of one customer in two
periods are treated as independent.

Examples
--------
>>> import pandas as pd
>>> cells = pd.DataFrame({"period_start": ["2026-01-01"] * 2 + ["2026-02-01"] * 2, "tenure": ["new", "old"] * 2,
...                       "n": [80, 20, 20, 80], "promoters": [20, 10, 5, 40], "detractors": [40, 2, 10, 8]})
>>> out = standardise(cells, ["tenure"])
>>> out[["raw", "adjusted"]].round(1).to_numpy().tolist()
[[-12.0, 7.5], [27.0, 7.5]]
>>> (out["within_change"] + out["mix_change"]).round(1).tolist()[1], out["raw"].diff().round(1).tolist()[1]
(39.0, 39.0)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["standardise", "tenure_band_sql", "TENURE_BANDS"]

#: Tenure at the answer (months since signup): band edges; the last band is open.
TENURE_BANDS = (0, 3, 6, 12, 24, 36, 60)


def tenure_band_sql(signup: str = "c.signup_date", at: str = "r.response_date") -> str:
    """The tenure band at an answer as SQL (``'0-3'``, ``'3-6'``, ..., ``'60+'`` months since signup).

    >>> tenure_band_sql().split(" THEN ")[0]
    "CASE WHEN date_diff('day', c.signup_date, r.response_date) / 30.4375 < 3"
    """
    months = f"date_diff('day', {signup}, {at}) / 30.4375"
    edges = TENURE_BANDS
    whens = " ".join(f"WHEN {months} < {hi} THEN '{lo}-{hi}'" for lo, hi in zip(edges[:-1], edges[1:], strict=True))
    return f"CASE {whens} ELSE '{edges[-1]}+' END"


def _dummies(values: pd.Series) -> np.ndarray:
    """0/1 columns of every level but the most frequent (the reference)."""
    counts = values.value_counts()
    levels = [v for v in counts.index if v != counts.index[0]]
    return np.column_stack([(values == v).to_numpy(float) for v in levels]) if levels else np.empty((len(values), 0))


def standardise(cells: pd.DataFrame, covariates: list[str], period_col: str = "period_start") -> pd.DataFrame:
    """Each period's NPS at the pooled mix of ``covariates``, and each change split in two.

    Parameters
    ----------
    cells : DataFrame
        One row per period and combination of covariates: ``period_col``, the covariates, ``n`` answers,
        ``promoters``, ``detractors``.
    covariates : list of str
        Categorical columns whose mix is held fixed (tenure band, segments).
    period_col : str

    Returns
    -------
    DataFrame
        Per period in order: ``period_start, n, raw, adjusted, adjusted_se, mix, within_change, mix_change``
        (``mix`` = raw - adjusted: what the period's mix adds against the pooled mix).
    """
    c = cells[cells["n"] > 0].reset_index(drop=True)
    periods = sorted(c[period_col].unique())
    index = {p: i for i, p in enumerate(periods)}
    n = c["n"].to_numpy(float)
    sum_y = 100.0 * (c["promoters"].to_numpy(float) - c["detractors"].to_numpy(float))
    sum_y2 = 100.0**2 * (c["promoters"].to_numpy(float) + c["detractors"].to_numpy(float))
    period_x = np.zeros((len(c), len(periods)))
    period_x[np.arange(len(c)), c[period_col].map(index).to_numpy()] = 1.0
    other = [_dummies(c[col].astype(str)) for col in covariates]
    z = np.column_stack(other) if other else np.empty((len(c), 0))
    x = np.column_stack([period_x, z])
    # keep the columns the cells can identify (a level seen in one period only is absorbed by it)
    xtwx = x.T @ (x * n[:, None])
    keep = _independent(xtwx, len(periods))
    x, xtwx = x[:, keep], xtwx[np.ix_(keep, keep)]
    bread = np.linalg.inv(xtwx)
    beta = bread @ (x.T @ sum_y)
    fitted = x @ beta
    sq_resid = sum_y2 - 2 * fitted * sum_y + n * fitted**2  # sum over the cell's answers of e_i^2
    meat = x.T @ (x * np.maximum(sq_resid, 0)[:, None])
    cov = bread @ meat @ bread
    k = len(periods)
    zk = x[:, k:]
    gamma = beta[k:]
    pooled = (n @ zk) / n.sum()
    contrast = np.column_stack([np.eye(k), np.tile(pooled, (k, 1))])  # alpha_t + pooled' gamma
    adjusted = contrast @ beta
    se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", contrast, cov, contrast), 0))
    by_period = pd.DataFrame({"p": c[period_col].map(index), "n": n, "y": sum_y, "xg": n * (zk @ gamma)})
    totals = by_period.groupby("p")[["n", "y", "xg"]].sum().sort_index()
    raw = (totals["y"] / totals["n"]).to_numpy()
    mean_xg = (totals["xg"] / totals["n"]).to_numpy()
    out = pd.DataFrame({period_col: periods, "n": totals["n"].to_numpy().astype(int), "raw": raw,
                        "adjusted": adjusted, "adjusted_se": se, "mix": mean_xg - pooled @ gamma})
    out["within_change"] = out["adjusted"].diff()
    out["mix_change"] = out["mix"].diff()
    out.attrs["cov"] = contrast @ cov @ contrast.T  # of the adjusted values, period by period
    return out


def _independent(xtwx: np.ndarray, first: int, tol: float = 1e-9) -> np.ndarray:
    """Indices of columns kept by a greedy pass (the first ``first`` always kept) so the cross-product is full
    rank."""
    kept = list(range(first))
    for j in range(first, xtwx.shape[0]):
        trial = kept + [j]
        sub = xtwx[np.ix_(trial, trial)]
        if np.linalg.matrix_rank(sub, tol=tol * max(1.0, np.abs(sub).max())) == len(trial):
            kept.append(j)
    return np.array(kept)
