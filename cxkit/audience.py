"""How an audience differs from the customers around it, on every measure with an interval.

An audience (a region, a plan, a team) is compared with the *other* customers of the population it belongs
to (everyone, or its parent audience in a hierarchy): two independent groups, so each difference has a
plain interval. The measures, one family:

- ``nps``: the headline NPS, audience minus the others (points);
- ``churn hazard``: how much faster (or slower) the audience's customers leave than other customers in the
  same band, a hazard ratio from a Cox model on the population with the band, the other segment columns
  (a plan mix that differs is not the audience's own churn) and a 0/1 audience column (what a leader
  reads as "they leave 1.8 times as fast with the same NPS");
- ``still a customer``: the share still a customer ``retention_months`` after answering, per band,
  audience minus the others (Kaplan-Meier, Greenwood errors);
- ``lifetime value``: per band, the audience's lifetime value minus the others' (two independent bootstrap
  fits, so the difference's standard error is that of each replicate set combined), for bands whose value
  rests on the data in both groups (an assumed tail is not compared).

Which differences *hold* is set by serial gatekeeping: NPS and the churn hazard under Holm's correction;
then, only where the audience's churn differs, the bands' retention and lifetime value under Holm's correction
among them (the whole family's error rate stays ``alpha``). A difference is said only where it holds (and so
where its own interval excludes no difference). Each customer counts once, from their first answer
(``which="first"``): spells of one customer are not independent, and would narrow the intervals.

Examples
--------
>>> diff = AudienceDifferences().fit(population, {"region": ["West"]})   # doctest: +SKIP
>>> diff.summary[["measure", "band", "audience", "others", "difference", "holds"]]   # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from cxkit._display import html_block
from cxkit.errors import CxkitError, NotEstimable
from cxkit.sql import ident, literal

__all__ = ["AudienceDifferences", "audience_condition"]


def audience_condition(slice_by: dict, alias: str | None = None) -> str:
    """The SQL condition of an audience on customers' segment columns (values compared as text).

    >>> audience_condition({"region": "West", "plan": ["Pro", "Plus"]})
    '(CAST("region" AS VARCHAR) IN (\\'West\\') AND CAST("plan" AS VARCHAR) IN (\\'Pro\\', \\'Plus\\'))'
    """
    parts = []
    for col, wanted in slice_by.items():
        values = wanted if isinstance(wanted, list) else [wanted]
        column = f"{alias}.{ident(col)}" if alias else ident(col)
        parts.append(f"CAST({column} AS VARCHAR) IN ({', '.join(literal(str(v)) for v in values)})")
    return "(" + " AND ".join(parts) + ")"


class AudienceDifferences:
    """An audience against the other customers of its population: NPS, churn hazard and retention by band.

    Parameters
    ----------
    alpha : float
        1 - confidence level; also the family's error rate under Holm's correction.
    retention_months : float
        When "still a customer" is read.
    score : str, optional
        The score whose bands are compared (default: the data's first, NPS when present).
    clock, which : str
        See :func:`cxkit.frames.survival_frame`.
    min_size : int
        A band with fewer customers in the audience (or among the others) gets no retention comparison.

    Attributes
    ----------
    summary : DataFrame
        ``measure, band, audience, others, difference, lower, upper, p_value, p_adjusted, tested, holds, null``:
        ``difference`` is audience minus others (NPS points, share points) or their ratio (hazard),
        ``null`` the value of no difference (0 or 1); ``tested`` is False for the bands' retention where the
        churn hazard does not differ (the gate stays shut: a band's interval alone is not a claim).
    adjusted_for_ : list of str
        The other segment columns the hazard ratio allows for (besides the band).
    held_ : DataFrame
        The rows that hold, largest first (by their distance from no difference in standard errors).
    """

    def __init__(self, alpha: float = 0.05, retention_months: float = 12, score: str | None = None,
                 clock: str = "response", which: str = "first", min_size: int = 30):
        if not 0 < alpha < 1:
            raise CxkitError(f"alpha must be between 0 and 1, not {alpha!r}")
        self.alpha, self.retention_months, self.score = alpha, float(retention_months), score
        self.clock, self.which, self.min_size = clock, which, int(min_size)

    def fit(self, population, slice_by: dict, nps: tuple | None = None, value=None) -> AudienceDifferences:
        """Compare the audience ``slice_by`` with the rest of ``population`` (a :class:`~cxkit.load.CXData`).

        ``nps``: ``(audience, others)`` results of :func:`cxkit.nps.nps_from_counts` when the caller has
        them (the headline NPS of each group); their difference joins the family. ``value``: a function
        returning ``(audience, others)`` fitted :class:`~cxkit.ltv.SegmentLTV` (or None), called only where
        the churn hazard differs (a lifetime value fit of the others costs time).
        """
        from cxkit.clock import entry_column
        from cxkit.frames import survival_frame
        from cxkit.scales import SCALES

        score = self.score or ("nps" if "nps" in population.scores else population.scores[0])
        bands = SCALES[score].labels
        frame = survival_frame(population, clock=self.clock, which=self.which, score=score, relation=True)
        frame = frame.project(f"*, CAST({audience_condition(slice_by)} AS INTEGER) AS in_audience")
        # the other segment columns (a plan mix that differs would otherwise pass for the audience's own churn)
        others = [c for c in population.segments if c not in slice_by]
        if others:
            levels = frame.query("f", "SELECT " + ", ".join(f"count(DISTINCT {ident(c)})" for c in others)
                                 + " FROM f").fetchone()
            others = [c for c, k in zip(others, levels, strict=True) if 2 <= k <= 12]
        self.adjusted_for_ = others
        rows = []
        if nps is not None:
            rows.append(self._nps_row(*nps))
        rows.append(self._hazard_row(frame, entry_column(self.clock), bands))
        rows += self._retention_rows(frame, entry_column(self.clock), bands)
        out = pd.DataFrame([r for r in rows if r is not None])
        if out.empty:
            raise NotEstimable("no measure can compare this audience with the others")
        from cxkit.survival.logrank import holm

        # serial gatekeeping: the headline rows (NPS, churn hazard) under Holm first; the bands' retention only
        # where the audience's churn differs, Holm among the bands (the family's error rate stays alpha)
        head = out["measure"].isin(["nps", "churn hazard"])
        out.loc[head, "p_adjusted"] = holm(out.loc[head, "p_value"].to_numpy())
        gate = bool(((out["measure"] == "churn hazard") & (out["p_adjusted"] < self.alpha)).any())
        if gate and value is not None:
            fits = value()
            extra = self._value_rows(*fits, bands) if fits is not None else []
            if extra:
                out = pd.concat([out, pd.DataFrame(extra)], ignore_index=True)
                head = out["measure"].isin(["nps", "churn hazard"])
        bands_p = out.loc[~head, "p_value"].to_numpy()
        out.loc[~head, "p_adjusted"] = holm(bands_p) if gate else 1.0
        out["p_adjusted"] = out["p_adjusted"].astype(float)
        out["tested"] = head | gate  # the bands' retention is tested only where churn differs
        out["holds"] = out["tested"] & (out["p_adjusted"] < self.alpha)
        self.summary = out[["measure", "band", "audience", "others", "difference", "lower", "upper", "p_value",
                            "p_adjusted", "tested", "holds", "null", "z"]].reset_index(drop=True)
        held = self.summary[self.summary["holds"]]
        self.held_ = held.assign(_s=held["z"].abs()).sort_values("_s", ascending=False).drop(columns="_s")
        self.score_, self.bands_, self.slice_by_ = score, bands, dict(slice_by)
        return self

    def _nps_row(self, mine, others) -> dict:
        from cxkit.nps import nps_difference

        d = nps_difference(mine, others, self.alpha)
        return {"measure": "nps", "band": None, "audience": float(mine["nps"]), "others": float(others["nps"]),
                "difference": d["difference"], "lower": d["lower"], "upper": d["upper"], "p_value": d["p_value"],
                "null": 0.0, "z": d["z"]}

    def _hazard_row(self, frame, entry, bands) -> dict | None:
        from cxkit.survival import CoxModel

        counts = frame.query("f", "SELECT in_audience, count(*), sum(event) FROM f GROUP BY 1").fetchall()
        by = {int(r[0]): (r[1], r[2]) for r in counts}
        if len(by) < 2 or min(by[k][1] for k in by) == 0:
            return None
        present = [b for b, in frame.query("f", "SELECT DISTINCT segment FROM f WHERE segment IS NOT NULL").fetchall()]
        terms = (["segment"] if len(present) > 1 else []) + self.adjusted_for_ + ["in_audience"]
        ref = bands[1] if bands[1] in present else present[0]
        try:
            cox = CoxModel(alpha=self.alpha, reference={"segment": ref}).fit(frame, "duration", "event", terms,
                                                                           entry_col=entry)
        except (NotEstimable, CxkitError):
            return None
        r = cox.summary.loc["in_audience"]
        z = float(r["coef"] / r["se"]) if r["se"] > 0 else np.nan
        return {"measure": "churn hazard", "band": None, "audience": np.nan, "others": np.nan,
                "difference": float(r["hazard_ratio"]), "lower": float(r["lower"]), "upper": float(r["upper"]),
                "p_value": float(r["p_value"]), "null": 1.0, "z": z}

    def _retention_rows(self, frame, entry, bands) -> list[dict]:
        from cxkit.survival import SegmentSurvival

        rows = []
        z_crit = stats.norm.ppf(1 - self.alpha / 2)
        at = {}
        for flag in (1, 0):
            part = frame.filter(f"in_audience = {flag}")
            km = SegmentSurvival(alpha=self.alpha, order=bands).fit(part, "duration", "event", "segment",
                                                                    entry_col=entry)
            sizes = dict(part.query("f", "SELECT segment, count(*) FROM f GROUP BY 1").fetchall())
            # S(t) and its Greenwood standard error from the estimator itself; a band all of whose customers had
            # left by then (S = 0) has no spread to compare and is left out, as a band past its follow-up is
            rows_at = km.survival_at([self.retention_months]).set_index("segment")
            at[flag] = {b: (r.survival if r.survival > 0 else np.nan, r.se, sizes.get(b, 0))
                        for b, r in rows_at.iterrows()}
        for b in bands:
            if b not in at[1] or b not in at[0]:
                continue
            (s1, se1, n1), (s0, se0, n0) = at[1][b], at[0][b]
            if min(n1, n0) < self.min_size or not np.isfinite([s1, s0, se1, se0]).all():
                continue
            diff, se = s1 - s0, float(np.hypot(se1, se0))
            if se <= 0:
                continue
            z = diff / se
            rows.append({"measure": "still a customer", "band": b, "audience": s1, "others": s0, "difference": diff,
                         "lower": diff - z_crit * se, "upper": diff + z_crit * se,
                         "p_value": float(2 * stats.norm.sf(abs(z))), "null": 0.0, "z": z})
        return rows

    def _value_rows(self, mine, others, bands) -> list[dict]:
        """Lifetime value per band, audience minus others, where both rest on the data (no assumed tail)."""
        rows = []
        z_crit = stats.norm.ppf(1 - self.alpha / 2)
        # each read of ``summary`` recomputes every segment's bootstrap quantiles: read both once
        value_mine = mine.summary.set_index("segment")["ltv"]
        value_others = others.summary.set_index("segment")["ltv"]
        for b in bands:
            if b not in mine.segments_ or b not in others.segments_ or mine.unidentified(b) or others.unidentified(b):
                continue
            reps = (mine.replicates_[b].to_numpy(), others.replicates_[b].to_numpy())
            if min(len(r) for r in reps) < 20:
                continue
            va, vo = float(value_mine.loc[b]), float(value_others.loc[b])
            se = float(np.hypot(np.std(reps[0], ddof=1), np.std(reps[1], ddof=1)))
            if not se > 0:
                continue
            diff = va - vo
            z = diff / se
            rows.append({"measure": "lifetime value", "band": b, "audience": va, "others": vo, "difference": diff,
                         "lower": diff - z_crit * se, "upper": diff + z_crit * se,
                         "p_value": float(2 * stats.norm.sf(abs(z))), "null": 0.0, "z": z})
        return rows

    def largest(self) -> pd.Series | None:
        """The difference that holds furthest from none, or None."""
        return None if self.held_.empty else self.held_.iloc[0]

    def _repr_html_(self) -> str:
        return html_block("This audience against the other customers", self.summary.drop(columns="z"),
                          ["Serial gatekeeping with Holm's correction (the bands only where churn differs); a "
                           f"difference holds where its adjusted p is below {self.alpha:g}."], digits=3)

    def __repr__(self) -> str:
        return f"AudienceDifferences(slice_by={getattr(self, 'slice_by_', None)!r})"
