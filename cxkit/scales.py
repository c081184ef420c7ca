"""Score scales and their bands: the one home of the cut-offs (NPS 0-6 / 7-8 / 9-10, CSAT, effort).

Every module that bands a score, in pandas or in SQL, reads the cut-offs here.

Examples
--------
>>> import pandas as pd
>>> band(pd.Series([0, 6, 7, 8, 9, 10])).tolist()
['detractor', 'detractor', 'passive', 'passive', 'promoter', 'promoter']
>>> for part in band_counts_sql("nps").split(", "):
...     print(part)
count(*) FILTER (WHERE nps BETWEEN 0 AND 6) AS detractors
count(*) FILTER (WHERE nps BETWEEN 7 AND 8) AS passives
count(*) FILTER (WHERE nps BETWEEN 9 AND 10) AS promoters
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["Scale", "SCALES", "band", "band_sql", "band_counts_sql"]


@dataclass(frozen=True)
class Scale:
    """A score scale and its bands, lowest band first.

    Parameters
    ----------
    name : str
        ``nps``, ``csat`` or ``effort``.
    low, high : int
        Valid score range.
    cuts : tuple of (low, high, label)
        Inclusive score ranges of each band, covering ``low..high`` without gaps.
    """

    name: str
    low: int
    high: int
    cuts: tuple

    @property
    def labels(self) -> list[str]:
        return [label for _, _, label in self.cuts]

    def with_cuts(self, cuts) -> Scale:
        """The same scale with other cut points, checked to cover the range exactly once."""
        cuts = tuple((int(lo), int(hi), str(lab)) for lo, hi, lab in cuts)
        covered = [s for lo, hi, _ in cuts for s in range(lo, hi + 1)]
        if sorted(covered) != list(range(self.low, self.high + 1)):
            raise ValueError(f"{self.name} bands must cover {self.low}-{self.high} once each, got {cuts}")
        return Scale(self.name, self.low, self.high, cuts)


SCALES = {
    "nps": Scale("nps", 0, 10, ((0, 6, "detractor"), (7, 8, "passive"), (9, 10, "promoter"))),
    "csat": Scale("csat", 1, 5, ((1, 2, "dissatisfied"), (3, 3, "neutral"), (4, 5, "satisfied"))),
    "effort": Scale("effort", 1, 7, ((1, 3, "high effort"), (4, 4, "neutral effort"), (5, 7, "low effort"))),
}


def _scale(scale: str | Scale, cuts=None) -> Scale:
    s = scale if isinstance(scale, Scale) else SCALES[scale]
    return s.with_cuts(cuts) if cuts is not None else s


def band(scores, scale: str | Scale = "nps", cuts=None) -> pd.Series:
    """Band scores into an ordered categorical (missing scores stay missing).

    Parameters
    ----------
    scores : array-like of int
    scale : str or Scale
        ``nps`` (0-6 / 7-8 / 9-10), ``csat`` (1-2 / 3 / 4-5) or ``effort`` (1-3 / 4 / 5-7).
    cuts : sequence of (low, high, label), optional
        Other cut points for the same scale.
    """
    s = _scale(scale, cuts)
    values = pd.Series(scores)
    out = pd.Series(pd.Categorical([None] * len(values), categories=s.labels, ordered=True), index=values.index)
    for lo, hi, label in s.cuts:
        out[(values >= lo) & (values <= hi)] = label
    return out


def band_sql(column: str, scale: str | Scale = "nps", cuts=None) -> str:
    """The same banding as a DuckDB ``CASE`` expression, for aggregation in the engine."""
    s = _scale(scale, cuts)
    whens = " ".join(f"WHEN {column} BETWEEN {lo} AND {hi} THEN '{label}'" for lo, hi, label in s.cuts)
    return f"CASE {whens} END"


def band_counts_sql(column: str, scale: str | Scale = "nps", cuts=None) -> str:
    """One count per band (``detractors, passives, promoters`` for NPS) as DuckDB aggregate expressions."""
    s = _scale(scale, cuts)
    return ", ".join(f"count(*) FILTER (WHERE {column} BETWEEN {lo} AND {hi}) AS \"{label}s\""
                     if " " in label else f"count(*) FILTER (WHERE {column} BETWEEN {lo} AND {hi}) AS {label}s"
                     for lo, hi, label in s.cuts)
