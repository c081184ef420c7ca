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

from cxkit.errors import NotEstimable
from cxkit.frames import (
    NPS_WINDOW_MONTHS,
    active_base,
    clock_description,
    ltv_frame,
    nps_counts,
    nps_counts_by,
    survival_frame,
    value_base,
)
from cxkit.nps import SCALES, nps_table_from_counts

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
    period : {"M", "Q"}
        Period of the customer ledger, the NPS trend and contact rates.
    focus : {"leadership", "product", "care", "region"}
        What the executive summary leads with: the whole story, value (product), contacts and cost to
        serve (care) or this slice against everyone (region).
    nps_window_months : float, optional
        The headline NPS counts customers active at ``as_of`` by their latest answer, if that answer is
        from the last ``nps_window_months`` (default 12; None: any age). The same default as
        :func:`cxkit.frames.nps_counts` and ``cxkit validate``.

    Attributes
    ----------
    nps_ : Series
        The headline NPS (``nps, se, lower, upper, n, small``); ``nps_population_`` says who it counts.
    descriptive_ : bool
        True when the score mirrors the outcome (a snapshot taken at the end of follow-up, or a score
        whose bands separate who left with an AUC of at least ``SEPARATION_AUC``): the report then
        describes the bands instead of predicting churn or value from them.
    score_auc_ : float
        How well the score separates who left from who stayed (0.5: not at all; 1: perfectly).
    """

    SEPARATION_AUC = 0.95

    def __init__(self, score: str | None = None, clock: str = "response", which: str = "latest",
                 horizon_months: int = 60, discount_rate: float = 0.10, share_moved: float = 0.10,
                 retention_months: float = 12, n_boot: int = 200, seed: int = 0, alpha: float = 0.05,
                 period: str = "M", focus: str = "leadership", nps_window_months: float | None = NPS_WINDOW_MONTHS):
        self.score, self.clock, self.which = score, clock, which
        self.horizon_months, self.discount_rate, self.share_moved = horizon_months, discount_rate, share_moved
        self.retention_months, self.n_boot, self.seed, self.alpha = retention_months, n_boot, seed, alpha
        self.period, self.focus, self.nps_window_months = period, focus, nps_window_months
        if nps_window_months is not None and not 1 <= nps_window_months <= 120:
            from cxkit.errors import CxkitError

            raise CxkitError(f"nps_window_months must be 1 to 120 months (None: answers of any age), "
                             f"not {nps_window_months!r}")

    def fit(self, data) -> LeadershipAnalysis:
        from cxkit import narrative as say
        from cxkit.ltv import SegmentLTV
        from cxkit.survival import CoxModel, CumulativeIncidence, SegmentSurvival

        self.data_ = data
        # what the data measures; what it does not is "not available", never 0
        self.measured_ = {"cost to serve": data.has("contacts", "cost"), "contacts": data.has("contacts"),
                          "referrals": data.has("customers", "referrals"),
                          "revenue": data.has("revenue") or data.has("customers", "monthly_revenue")}
        score = self.score or ("nps" if "nps" in data.scores else data.scores[0])
        self.score_ = score
        self.bands_ = SCALES[score].labels
        self.low_, self.mid_, self.high_ = self.bands_
        clock = self.clock_kind_ = "tenure" if data.mode == "snapshot" else self.clock
        # The frame is computed once into a DuckDB table; every model aggregates over it there.
        spells = survival_frame(data, clock=clock, which=self.which, score=score, relation=True)
        data.con.execute(f"CREATE OR REPLACE TEMP TABLE _lead_frame AS {spells.sql_query()}")
        self.frame_ = data.sql("SELECT * FROM _lead_frame")
        self.clock_ = clock_description(clock, self.which, data.mode)
        entry = "entry" if clock == "tenure_entry" else None
        sizes = dict(data.sql("SELECT segment, count(*) FROM _lead_frame GROUP BY 1").fetchall())
        self.band_sizes_ = {b: int(sizes.get(b, 0)) for b in self.bands_}
        self.answer_spells_ = sum(sizes.values())
        self.answered_ = int(data.sql("SELECT count(DISTINCT customer_id) FROM _lead_frame").fetchall()[0][0])
        self.small_bands_ = {b for b, n in self.band_sizes_.items() if n < data.min_segment_size}
        self.events_ = int(data.sql("SELECT coalesce(sum(event), 0) FROM _lead_frame").fetchall()[0][0])
        self.not_available_ = {}
        present = [b for b in self.bands_ if self.band_sizes_[b]]
        self.km_ = SegmentSurvival(alpha=self.alpha, clock=self.clock_, order=self.bands_).fit(
            self.frame_, "duration", "event", "segment", entry_col=entry)
        levels = data.sql("SELECT " + ", ".join(f'count(DISTINCT "{c}")' for c in data.segments)
                          + " FROM _lead_frame").fetchall()[0] if data.segments else []
        # A column with one level here (the slice's own column) explains nothing and is left out.
        self.covariates_ = [c for c, n in zip(data.segments, levels, strict=True) if 2 <= n <= _MAX_LEVELS]
        self.reference_ = next((b for b in (self.mid_, self.high_, self.low_) if b in present), self.mid_)
        self.cox_ = self.incidence_ = self.ltv_ = None
        self._fit_separation(data)
        if not self.events_:
            self._unavailable("churn drivers", "lifetime value", reason=say.no_churn_reason(self.answered_))
        elif len(present) < 2:
            self._unavailable("churn drivers", reason=say.one_band_reason(present))
        elif self.descriptive_ and not self.covariates_:
            self._unavailable("churn drivers", reason=say.descriptive_reason(data.mode == "snapshot", self.separates_)
                              + " and there is no other column to model")
        else:  # a score that mirrors the outcome is no driver: the model then weighs the other columns alone
            terms = self.covariates_ if self.descriptive_ else ["segment", *self.covariates_]
            reference = {} if self.descriptive_ else {"segment": self.reference_}
            self.cox_ = self._attempt("churn drivers", lambda: CoxModel(
                alpha=self.alpha, reference=reference, clock=self.clock_).fit(
                self.frame_, "duration", "event", terms, entry_col=entry))
        reasons = data.sql("SELECT count(*) FROM _lead_frame WHERE event = 1 AND churn_reason <> 'unknown'")
        if data.has("customers", "churn_reason") and self.events_ and reasons.fetchall()[0][0]:
            self.incidence_ = self._attempt("churn reasons", lambda: CumulativeIncidence(
                clock=self.clock_, order=self.bands_).fit(self.frame_, "duration", "event", "churn_reason",
                                                          "segment", entry_col=entry))
        self.nps_population_ = say.nps_population(data, self.nps_window_months)
        if score == "nps":
            # the headline population, for everyone and each segment column in one pass
            counts = nps_counts_by(data, self.covariates_, window_months=self.nps_window_months)
            self.nps_counts_ = counts[None].iloc[0]
            self.nps_ = nps_table_from_counts(counts[None], alpha=self.alpha, min_n=data.min_segment_size).iloc[0]
            self.nps_by_ = {c: nps_table_from_counts(counts[c], by=c, alpha=self.alpha, min_n=data.min_segment_size)
                            for c in self.covariates_}
        else:
            self.nps_, self.nps_by_ = None, {}
        counts, active = active_base(data, score)
        answered = sum(counts.values())
        self.scale_to_base_ = active / answered if answered else 1.0
        self.base_counts_ = value_base(data, score)  # the API's default base too
        self.active_customers_ = active
        if self.events_:
            frame = ltv_frame(data, score=score, relation=True)
            try:
                self.ltv_ = self._attempt("lifetime value", lambda: SegmentLTV(
                    horizon=self.horizon_months, discount_rate=self.discount_rate, alpha=self.alpha,
                    n_boot=self.n_boot, seed=self.seed).fit(frame, base_counts=self.base_counts_, order=self.bands_))
            finally:
                data.con.execute("DROP TABLE IF EXISTS _ltv_frame")
            if self.ltv_ is not None:
                self.ltv_.clock = ("value counted from signup" if data.mode == "snapshot"
                                   else "value counted from the customer's first answer")
        if self.descriptive_ and self.ltv_ is not None:
            self._unavailable("value at stake", reason=say.descriptive_reason(data.mode == "snapshot", self.separates_))
        self._fit_flows(data)
        self.slice_difference_ = self.nps_everyone_ = None
        self.slice_table_ = self._slice_comparison(data) if data.parent is not None else None
        return self

    def _fit_separation(self, data) -> None:
        """How well the score separates who left (AUC, counted in DuckDB) and the share who left per band."""
        import numpy as np

        rows = data.sql("SELECT score, segment, count(*) FILTER (WHERE event = 1), count(*) FILTER (WHERE event = 0) "
                        "FROM _lead_frame GROUP BY 1, 2 ORDER BY 1").fetchall()
        left = np.array([r[2] for r in rows], dtype=float)
        stayed = np.array([r[3] for r in rows], dtype=float)
        pairs = left.sum() * stayed.sum()
        # P(a leaver scored lower than a stayer) + half the ties: the Mann-Whitney AUC of score against staying
        below = np.concatenate([[0.0], np.cumsum(left)[:-1]])
        self.score_auc_ = float(np.sum(stayed * (below + left / 2)) / pairs) if pairs else float("nan")
        by_band = {}
        for _score, band, n_left, n_stayed in rows:
            a, b = by_band.get(band, (0, 0))
            by_band[band] = (a + n_left, b + n_stayed)
        self.churned_share_ = {b: (by_band[b][0] / sum(by_band[b])) if b in by_band else float("nan")
                               for b in self.bands_}
        self.separates_ = bool(self.score_auc_ >= self.SEPARATION_AUC)
        self.descriptive_ = data.mode == "snapshot" or self.separates_

    def _attempt(self, what: str, fit):
        """Fit one model; when the data cannot support it, record why (``not_available_``) and return None."""
        try:
            return fit()
        except NotEstimable as exc:
            self._unavailable(what, reason=str(exc).split(": ", 1)[-1])
            return None

    def _unavailable(self, *what: str, reason: str) -> None:
        for w in what:
            self.not_available_[w] = reason

    def _fit_flows(self, data) -> None:
        """Customer ledger, NPS trend and contact rates, for dated data."""
        from cxkit.contacts import ContactRates
        from cxkit.ledger import CustomerLedger
        from cxkit.trends import NPSTrend

        self.ledger_ = self.trend_ = self.contacts_ = None
        if data.mode != "dated":
            return
        # One ledger by band: its slices add up to the whole base, and contact and response rates reuse it.
        self.ledger_ = CustomerLedger(self.period, by="band").fit_data(data)
        if data.has("responses") and self.score_ == "nps":
            self.trend_ = NPSTrend(self.period, min_n=data.min_segment_size, alpha=self.alpha).fit_data(
                data, ledger=self.ledger_)
        if data.has("contacts"):
            self.contacts_ = ContactRates(self.period).fit_data(data, ledger=self.ledger_)

    def _slice_comparison(self, data):
        """This slice against everyone: NPS, churn a year on, lifetime value per band."""
        import pandas as pd

        from cxkit.ltv import SegmentLTV
        from cxkit.nps import nps_difference, nps_from_counts
        from cxkit.survival import SegmentSurvival

        everyone = data.parent
        self.slice_difference_ = None
        frame = survival_frame(everyone, clock=self.clock_kind_, which=self.which, score=self.score_, relation=True)
        km = SegmentSurvival(alpha=self.alpha, order=self.bands_).fit(
            frame, "duration", "event", "segment", entry_col="entry" if self.clock_kind_ == "tenure_entry" else None)
        ltv = None
        if everyone.sql(f"SELECT coalesce(sum(event), 0) FROM ({frame.sql_query()})").fetchall()[0][0]:
            try:  # the same rule as for the slice: no churn at all, no lifetime value
                ltv = SegmentLTV(horizon=self.horizon_months, discount_rate=self.discount_rate, n_boot=20,
                                 seed=self.seed).fit(ltv_frame(everyone, score=self.score_, relation=True),
                                                     order=self.bands_)
            except NotEstimable:
                pass
            finally:
                everyone.con.execute("DROP TABLE IF EXISTS _ltv_frame")
        months = self.retention_months
        rows = []
        if self.nps_ is not None:
            counts = nps_counts(everyone, window_months=self.nps_window_months)
            overall = nps_table_from_counts(counts, alpha=self.alpha, min_n=data.min_segment_size).iloc[0]
            self.nps_everyone_ = overall
            bands = ["detractors", "passives", "promoters"]
            rest = [int(counts[b].iloc[0]) - int(self.nps_counts_[b]) for b in bands]
            if sum(rest) and not self.nps_["small"]:  # against the other customers: two independent groups
                self.slice_difference_ = nps_difference(self.nps_, nps_from_counts(*rest, alpha=self.alpha),
                                                        self.alpha)
            rows.append({"measure": "NPS (headline: active customers, latest answer)",
                         "this slice": _fmt_nps(self.nps_), "everyone": _fmt_nps(overall)})
        here = self.km_.survival_at([months]).set_index("segment")["survival"]
        there = km.survival_at([months]).set_index("segment")["survival"]
        mine, theirs = ({} if r is None else r.summary.set_index("segment")["ltv"] for r in (self.ltv_, ltv))

        from cxkit.narrative import money, percent

        def shown(value, fmt, small):
            return "too few" if small else "not available" if value is None or value != value else fmt(value)

        for band in self.bands_:
            small = band in self.small_bands_
            rows.append({"measure": f"{band}s still customers after {months:g} months",
                         "this slice": shown(here.get(band), percent, small),
                         "everyone": shown(there.get(band), percent, False)})
            rows.append({"measure": f"{band} lifetime value",
                         "this slice": shown(mine.get(band), money, small),
                         "everyone": shown(theirs.get(band), money, False)})
        everyone_n = everyone.sql(f"SELECT count(DISTINCT customer_id) FROM ({frame.sql_query()})").fetchall()[0][0]
        rows.append({"measure": "customers who answered", "this slice": f"{self.answered_:,}",
                     "everyone": f"{everyone_n:,}"})
        return pd.DataFrame(rows)

    @property
    def scenarios(self) -> dict:
        """Value-at-stake scenarios: the lowest band up one step, the middle band up one step, low to high.

        Only scenarios that move someone between two bands with a stable lifetime value: a band with no
        active customers, no value or too few customers never appears in one.
        """
        from cxkit.narrative import plural

        share = self.share_moved
        if self.descriptive_:
            return {}
        valued = set(self.ltv_.segments_) if self.ltv_ is not None else set()
        return {f"{share:.0%} of {plural(a).lower()} to {b}": ({a: b}, share)
                for a, b in ((self.low_, self.mid_), (self.mid_, self.high_), (self.low_, self.high_))
                if {a, b} <= valued and not {a, b} & self.small_bands_ and self.base_counts_.get(a, 0) > 0}

    @property
    def gap_bands_(self) -> tuple | None:
        """(high band, low band) when both have a stable lifetime value, for the gap figure; else None."""
        high, low = self.high_, self.low_
        valued = set(self.ltv_.segments_) if self.ltv_ is not None else set()
        return (high, low) if {high, low} <= valued and not {high, low} & self.small_bands_ else None

    @property
    def is_slice_(self) -> bool:
        return self.data_.parent is not None

    def summary_sentences(self) -> list[str]:
        """The executive summary, led by what matters to the audience; every number read from a result."""
        from cxkit import narrative as say

        parts = self._summary_parts(say)
        lead = {"product": ["ltv", "stake"], "care": ["contacts", "retention", "ledger"],
                "region": ["nps", "retention"]}.get(self.focus, [])
        standard = ["descriptive", "nps", "trend", "retention", "hazard", "ltv", "stake", "ledger", "contacts",
                    "small", "unavailable"]
        order = lead + [k for k in standard if k not in lead]
        return [parts[k] for k in order if parts.get(k)]

    def summary_parts(self) -> dict:
        """The summary sentences by key (``nps``, ``trend``, ``retention``, ...), for checks and other renditions."""
        from cxkit import narrative as say

        return {k: v for k, v in self._summary_parts(say).items() if v}

    def _summary_parts(self, say) -> dict:
        """Each summary sentence by key; a band too small for a stable estimate never gets a number."""
        low, high = self.low_, self.high_
        small = self.small_bands_
        after = "after answering" if self.clock_kind_ == "response" else "of tenure"
        parts = {}
        if self.nps_ is not None:
            parts["nps"] = say.nps_sentence(self.nps_, self.alpha, population=self.nps_population_)
            if self.slice_table_ is not None:
                parts["nps"] = say.slice_nps_sentence(self.nps_, self.nps_everyone_, self.alpha,
                                                      self.nps_population_, self.slice_difference_)
        if self.trend_ is not None:
            parts["trend"] = say.trend_sentence(self.trend_)
        if self.descriptive_ and not {low, high} & small:
            parts["descriptive"] = say.descriptive_score_sentence(
                say.score_name(self.score_), self.churned_share_, low, high, self.data_.mode == "snapshot",
                self.separates_)
        if not {low, high} & small and self.events_:
            if not self.descriptive_:
                parts["retention"] = say.retention_sentence(self.km_, self.retention_months, low, high, after)
            if self.gap_bands_ is not None:
                parts["ltv"] = (say.descriptive_ltv_sentence(self.ltv_, high, low) if self.descriptive_
                                else say.ltv_gap_sentence(self.ltv_, high, low))
        ref = self.reference_
        if self.cox_ is not None and low != ref and not {low, ref} & small and not self.descriptive_:
            parts["hazard"] = say.hazard_sentence(self.cox_, "segment", low, ref, self.covariates_)
        if self.ltv_ is not None and not self.descriptive_:
            movable = list(self.scenarios.values())
            parts["stake"] = (say.value_at_stake_sentence(self.ltv_, *movable[0], audience="the active customer base")
                              if movable else "No band here has both customers to move and a stable value: "
                              "there is no value at stake to show.")
        parts["unavailable"] = say.unavailable_sentence(self.not_available_)
        if self.ledger_ is not None:
            parts["ledger"] = say.ledger_sentence(self.ledger_, 12 if self.period == "M" else 4)
        if self.contacts_ is not None and not {low, high} & small:
            parts["contacts"] = say.contacts_sentence(self.contacts_, low, high)
        too_few = sorted(small, key=self.bands_.index)
        if too_few:
            parts["small"] = " ".join(say.too_few_sentence(b, self.band_sizes_[b], self.data_.min_segment_size)
                                      for b in too_few)
        return parts

    def lost_table(self, by: str = "reason", last: int | None = None):
        """Customers and monthly revenue lost over the last periods, by churn reason or by band."""
        if self.ledger_ is None:
            return None
        last = last or (12 if self.period == "M" else 4)
        source = self.ledger_.lost_by_reason_ if by == "reason" else self.ledger_.lost_by_band_
        recent = source[source["period"].isin(self.ledger_.table["period"].drop_duplicates().tail(last))]
        out = recent.groupby(by, as_index=False)[["lost", "revenue_out"]].sum().sort_values("revenue_out",
                                                                                            ascending=False)
        out["share of lost revenue"] = out["revenue_out"] / out["revenue_out"].sum()
        return out.rename(columns={"revenue_out": "monthly revenue lost"})

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

    UNMEASURED = {"cost_to_serve_per_month": "cost to serve", "contacts_per_month": "contacts",
                  "retention_cost_per_month": "cost to serve", "referrals_per_year": "referrals",
                  "revenue_per_month": "revenue"}

    def components_table(self):
        """Lifetime value's parts per band; a part the data does not measure is NaN ("not available"), never 0."""
        if self.ltv_ is None:
            return None
        out = self.ltv_.components_.copy()
        for col, what in self.UNMEASURED.items():
            if col in out and not self.measured_[what]:
                out[col] = float("nan")
        return out

    @property
    def gap_parts_shown_(self) -> list[str]:
        """The parts of the lifetime-value gap the data measures (cost to serve needs contact costs)."""
        parts = ["longer life", "higher revenue", "lower cost to serve"]
        return [p for p in parts if p != "lower cost to serve" or self.measured_["cost to serve"]]

    def scenario_table(self):
        """Each value-at-stake scenario with customers moved, value added and its interval."""
        import pandas as pd

        rows = []
        if self.ltv_ is None:
            return pd.DataFrame(rows)
        for label, (moves, share) in self.scenarios.items():
            v = self.ltv_.value_at_stake(moves, share)
            rows.append({"scenario": label, "customers moved": v["customers_moved"], "value added": v["estimate"],
                         "lower": v["lower"], "upper": v["upper"], "per customer moved": v["per_customer"]})
        return pd.DataFrame(rows)


def _fmt_nps(row) -> str:
    from cxkit.narrative import signed

    return ("too few answers" if row["small"]
            else f"{signed(row['nps'])} ({signed(row['lower'])} to {signed(row['upper'])})")
