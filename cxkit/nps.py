"""Score bands and NPS with its sampling error.

NPS = 100 x (promoter share - detractor share). For promoter share p and
detractor share d among n independent answers, its standard error is
``100 * sqrt((p + d - (p - d)**2) / n)`` (the variance of a variable that is
+1, 0 or -1). Groups under ``min_n`` answers are flagged ``small`` and their
interval is not reported as a confident number.

Examples
--------
>>> import pandas as pd
>>> band(pd.Series([0, 6, 7, 8, 9, 10])).tolist()
['detractor', 'detractor', 'passive', 'passive', 'promoter', 'promoter']
>>> r = nps_from_counts(detractors=20, passives=30, promoters=50)
>>> round(r["nps"], 1), round(r["se"], 2)
(30.0, 7.81)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from cxkit.contract import MIN_SEGMENT_SIZE
from cxkit.scales import SCALES, Scale, _scale, band, band_sql  # noqa: F401  (the cut-offs live in cxkit.scales)

__all__ = ["Scale", "SCALES", "band", "band_sql", "nps_from_counts", "nps_table", "nps_table_from_counts",
           "nps_difference"]


def nps_from_counts(detractors: int, passives: int, promoters: int, alpha: float = 0.05,
                    min_n: int = MIN_SEGMENT_SIZE) -> dict:
    """NPS, standard error and confidence interval from band counts.

    Returns
    -------
    dict
        ``n, detractors, passives, promoters, nps, se, lower, upper, small``; the interval
        is a normal approximation clipped to [-100, 100]; ``small`` is True under ``min_n``.
    """
    n = detractors + passives + promoters
    if n == 0:
        return {"n": 0, "detractors": 0, "passives": 0, "promoters": 0, "nps": np.nan, "se": np.nan,
                "lower": np.nan, "upper": np.nan, "small": True}
    p, d = promoters / n, detractors / n
    value = 100 * (p - d)
    se = 100 * float(np.sqrt(max(p + d - (p - d) ** 2, 0.0) / n))
    z = float(stats.norm.ppf(1 - alpha / 2))
    return {"n": int(n), "detractors": int(detractors), "passives": int(passives), "promoters": int(promoters),
            "nps": value, "se": se, "lower": max(value - z * se, -100.0), "upper": min(value + z * se, 100.0),
            "small": bool(n < min_n)}


def nps_table(frame: pd.DataFrame, by=None, score_col: str = "nps", alpha: float = 0.05,
              min_n: int = MIN_SEGMENT_SIZE, cuts=None) -> pd.DataFrame:
    """NPS per group with SE, CI and a small-group flag.

    Parameters
    ----------
    frame : DataFrame
        One row per answer with a 0-10 score column.
    by : str or list of str, optional
        Group columns; without them, one row for everyone.
    score_col : str
        Column with the 0-10 score.

    Returns
    -------
    DataFrame
        Group columns, then ``n, detractors, passives, promoters, nps, se, lower, upper, small``.

    Examples
    --------
    >>> df = pd.DataFrame({"nps": [10, 9, 3, 7], "plan": ["A", "A", "B", "B"]})
    >>> nps_table(df, by="plan", min_n=2)[["plan", "nps"]].to_dict("records")
    [{'plan': 'A', 'nps': 100.0}, {'plan': 'B', 'nps': -50.0}]
    """
    keys = [by] if isinstance(by, str) else list(by or [])
    groups = frame[keys].copy() if keys else pd.DataFrame({"_all": 0}, index=frame.index)
    groups["_band"] = band(frame[score_col], "nps", cuts).values
    counts = groups.groupby(list(groups.columns), observed=True).size().unstack("_band", fill_value=0)
    rows = []
    for idx, row in counts.iterrows():
        rec = dict(zip(keys, idx if isinstance(idx, tuple) else (idx,), strict=True)) if keys else {}
        rec.update(nps_from_counts(int(row.get("detractor", 0)), int(row.get("passive", 0)),
                                   int(row.get("promoter", 0)), alpha, min_n))
        rows.append(rec)
    return pd.DataFrame(rows)


def nps_table_from_counts(counts: pd.DataFrame, by=None, alpha: float = 0.05,
                          min_n: int = MIN_SEGMENT_SIZE) -> pd.DataFrame:
    """:func:`nps_table` from band counts per group (``detractors, passives, promoters`` columns).

    Examples
    --------
    >>> c = pd.DataFrame({"plan": ["A"], "detractors": [20], "passives": [30], "promoters": [50]})
    >>> float(nps_table_from_counts(c, by="plan")["nps"].iloc[0])
    30.0
    """
    keys = [by] if isinstance(by, str) else list(by or [])
    rows = []
    for row in counts.itertuples(index=False):
        rec = {k: getattr(row, k) for k in keys}
        rec.update(nps_from_counts(int(row.detractors), int(row.passives), int(row.promoters), alpha, min_n))
        rows.append(rec)
    return pd.DataFrame(rows)


def nps_difference(a: dict, b: dict, alpha: float = 0.05) -> dict:
    """Difference ``a - b`` between two independent NPS results (groups or periods).

    Parameters
    ----------
    a, b : dict or Series
        Results of :func:`nps_from_counts` (or rows of :func:`nps_table`).

    Returns
    -------
    dict
        ``difference, se, lower, upper, z, p_value`` (two-sided, normal approximation).

    Examples
    --------
    >>> a = nps_from_counts(20, 30, 50); b = nps_from_counts(30, 30, 40)
    >>> round(nps_difference(a, b)["difference"], 1)
    20.0
    """
    diff = a["nps"] - b["nps"]
    se = float(np.hypot(a["se"], b["se"]))
    z_crit = stats.norm.ppf(1 - alpha / 2)
    z = diff / se if se > 0 else np.nan
    p = float(2 * stats.norm.sf(abs(z))) if se > 0 else np.nan
    return {"difference": diff, "se": se, "lower": diff - z_crit * se, "upper": diff + z_crit * se,
            "z": z, "p_value": p}
