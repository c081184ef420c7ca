"""Everything the leadership report shows, computed in one place.

The notebook sets parameters, calls :meth:`LeadershipAnalysis.fit` and shows
the attributes; it holds no analysis logic. The same object serves the
analyst notebooks and the tests.

Examples
--------
>>> from cxkit.leadership import LeadershipAnalysis          # doctest: +SKIP
>>> a = LeadershipAnalysis(n_boot=100).fit(load("params/demo.yaml"))  # doctest: +SKIP
>>> a.summary_sentences()                                     # doctest: +SKIP
"""

from __future__ import annotations

from cxkit.frames import active_base, answers, ltv_frame, survival_frame
from cxkit.nps import SCALES, nps_table

__all__ = ["LeadershipAnalysis"]

_MAX_LEVELS = 12  # segment columns with more levels are left out of the Cox model


class LeadershipAnalysis:
    """NPS, churn by band, drivers, churn reasons, lifetime value and the value at stake.

    Parameters
    ----------
    score : str, optional
        ``nps``, ``csat`` or ``effort`` (default: NPS when present).
    clock, which : str
        See :func:`cxkit.frames.survival_frame`.
    horizon_months, discount_rate : int, float
        Lifetime-value horizon and annual discount rate.
    share_moved : float
        Share of the lowest band moved up in the value-at-stake scenarios.
    retention_months : float
        Horizon of the retention sentence (12 = a year after answering).
    n_boot, seed, alpha : int, int, float
        Bootstrap replicates, its seed, 1 - confidence level.
    """

    def __init__(self, score: str | None = None, clock: str = "response", which: str = "latest",
                 horizon_months: int = 60, discount_rate: float = 0.10, share_moved: float = 0.10,
                 retention_months: float = 12, n_boot: int = 200, seed: int = 0, alpha: float = 0.05):
        self.score, self.clock, self.which = score, clock, which
        self.horizon_months, self.discount_rate, self.share_moved = horizon_months, discount_rate, share_moved
        self.retention_months, self.n_boot, self.seed, self.alpha = retention_months, n_boot, seed, alpha

    def fit(self, data) -> LeadershipAnalysis:
        from cxkit.ltv import SegmentLTV
        from cxkit.survival import CoxModel, CumulativeIncidence, SegmentSurvival

        self.data_ = data
        score = self.score or ("nps" if "nps" in data.scores else data.scores[0])
        self.score_ = score
        self.bands_ = SCALES[score].labels
        self.low_, self.mid_, self.high_ = self.bands_
        clock = self.clock_kind_ = "tenure" if data.mode == "snapshot" else self.clock
        self.frame_ = survival_frame(data, clock=clock, which=self.which, score=score)
        self.clock_ = self.frame_.attrs["clock"]
        entry = self.frame_.attrs["entry_col"]
        self.km_ = SegmentSurvival(alpha=self.alpha, clock=self.clock_).fit(
            self.frame_, "duration", "event", "segment", entry_col=entry)
        self.covariates_ = [c for c in data.segments if self.frame_[c].nunique() <= _MAX_LEVELS]
        self.cox_ = CoxModel(alpha=self.alpha, reference={"segment": self.mid_}, clock=self.clock_).fit(
            self.frame_, "duration", "event", ["segment", *self.covariates_], entry_col=entry)
        events = self.frame_[self.frame_["event"] == 1]
        self.incidence_ = None
        if data.has("customers", "churn_reason") and events["churn_reason"].ne("unknown").any():
            self.incidence_ = CumulativeIncidence(clock=self.clock_).fit(
                self.frame_, "duration", "event", "churn_reason", "segment", entry_col=entry)
        if score == "nps":
            latest = answers(data, "latest", score)
            self.nps_ = nps_table(latest, alpha=self.alpha, min_n=data.min_segment_size).iloc[0]
            self.nps_by_ = {c: nps_table(latest, by=c, alpha=self.alpha, min_n=data.min_segment_size)
                            for c in self.covariates_}
        else:
            self.nps_, self.nps_by_ = None, {}
        counts, active = active_base(data, score)
        answered = sum(counts.values())
        self.scale_to_base_ = active / answered if answered else 1.0
        self.base_counts_ = {k: v * self.scale_to_base_ for k, v in counts.items()}
        self.active_customers_ = active
        self.ltv_ = SegmentLTV(horizon=self.horizon_months, discount_rate=self.discount_rate, alpha=self.alpha,
                               n_boot=self.n_boot, seed=self.seed).fit(
            ltv_frame(data, score=score), base_counts=self.base_counts_)
        self.ltv_.clock = self.ltv_frame_clock = "value counted from the customer's first answer"
        return self

    @property
    def scenarios(self) -> dict:
        """Value-at-stake scenarios: the lowest band up one step, the middle band up one step."""
        from cxkit.narrative import plural

        share = self.share_moved
        return {f"{share:.0%} of {plural(a).lower()} to {b}": ({a: b}, share)
                for a, b in ((self.low_, self.mid_), (self.mid_, self.high_), (self.low_, self.high_))}

    def summary_sentences(self) -> list[str]:
        """The executive summary: every number read from a fitted result."""
        from cxkit import narrative as say

        lines = []
        if self.nps_ is not None:
            lines.append(say.nps_sentence(self.nps_, self.alpha))
        after = "after answering" if self.clock_kind_ == "response" else "of tenure"
        lines.append(say.retention_sentence(self.km_, self.retention_months, self.low_, self.high_, after))
        lines.append(say.hazard_sentence(self.cox_, "segment", self.low_, self.mid_, self.covariates_))
        lines.append(say.ltv_gap_sentence(self.ltv_, self.high_, self.low_))
        movable = [(m, s) for m, s in self.scenarios.values() if self.base_counts_.get(next(iter(m)), 0) > 0]
        if movable:
            moves, share = movable[0]
            lines.append(say.value_at_stake_sentence(self.ltv_, moves, share, audience="the active customer base"))
        else:
            lines.append("No active customer sits in a band that could move up: there is no value at stake to show.")
        return lines

    @property
    def band_name_(self) -> str:
        """``NPS band``, ``CSAT band`` or ``effort band``."""
        return {"nps": "NPS band", "csat": "CSAT band", "effort": "effort band"}[self.score_]

    def retention_table(self, months=(6, 12, 24)):
        """Share still a customer at chosen months per band, with intervals and the number at risk."""
        at = self.km_.survival_at(list(months))
        at["still a customer"] = [f"{s:.0%} ({lo:.0%}-{hi:.0%})" if s == s else "–"
                                  for s, lo, hi in zip(at["survival"], at["lower"], at["upper"], strict=True)]
        wide = at.pivot(index="segment", columns="time", values="still a customer")
        wide.columns = [f"after {m:g} months" for m in wide.columns]
        return wide.reindex(self.km_.segments_).reset_index().rename(columns={"segment": self.band_name_})

    def scenario_table(self):
        """Each value-at-stake scenario with customers moved, value added and its interval."""
        import pandas as pd

        rows = []
        for label, (moves, share) in self.scenarios.items():
            v = self.ltv_.value_at_stake(moves, share)
            rows.append({"scenario": label, "customers moved": v["customers_moved"], "value added": v["estimate"],
                         "lower": v["lower"], "upper": v["upper"], "per customer moved": v["per_customer"]})
        return pd.DataFrame(rows)
