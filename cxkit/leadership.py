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
from cxkit.frames import active_base, clock_description, ltv_frame, nps_counts, nps_counts_by, survival_frame
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
    """

    def __init__(self, score: str | None = None, clock: str = "response", which: str = "latest",
                 horizon_months: int = 60, discount_rate: float = 0.10, share_moved: float = 0.10,
                 retention_months: float = 12, n_boot: int = 200, seed: int = 0, alpha: float = 0.05,
                 period: str = "M", focus: str = "leadership"):
        self.score, self.clock, self.which = score, clock, which
        self.horizon_months, self.discount_rate, self.share_moved = horizon_months, discount_rate, share_moved
        self.retention_months, self.n_boot, self.seed, self.alpha = retention_months, n_boot, seed, alpha
        self.period, self.focus = period, focus

    def fit(self, data) -> LeadershipAnalysis:
        from cxkit import narrative as say
        from cxkit.ltv import SegmentLTV
        from cxkit.survival import CoxModel, CumulativeIncidence, SegmentSurvival

        self.data_ = data
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
        self.answered_ = sum(sizes.values())
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
        if not self.events_:
            respondents = data.sql("SELECT count(DISTINCT customer_id) FROM _lead_frame").fetchall()[0][0]
            self._unavailable("churn drivers", "lifetime value", reason=say.no_churn_reason(respondents))
        elif len(present) < 2:
            self._unavailable("churn drivers", reason=say.one_band_reason(present))
        else:
            self.cox_ = self._attempt("churn drivers", lambda: CoxModel(
                alpha=self.alpha, reference={"segment": self.reference_}, clock=self.clock_).fit(
                self.frame_, "duration", "event", ["segment", *self.covariates_], entry_col=entry))
        reasons = data.sql("SELECT count(*) FROM _lead_frame WHERE event = 1 AND churn_reason <> 'unknown'")
        if data.has("customers", "churn_reason") and self.events_ and reasons.fetchall()[0][0]:
            self.incidence_ = self._attempt("churn reasons", lambda: CumulativeIncidence(
                clock=self.clock_, order=self.bands_).fit(self.frame_, "duration", "event", "churn_reason",
                                                          "segment", entry_col=entry))
        if score == "nps":
            counts = nps_counts_by(data, self.covariates_)  # everyone and each segment column in one pass
            self.nps_ = nps_table_from_counts(counts[None], alpha=self.alpha, min_n=data.min_segment_size).iloc[0]
            self.nps_by_ = {c: nps_table_from_counts(counts[c], by=c, alpha=self.alpha, min_n=data.min_segment_size)
                            for c in self.covariates_}
        else:
            self.nps_, self.nps_by_ = None, {}
        counts, active = active_base(data, score)
        answered = sum(counts.values())
        self.scale_to_base_ = active / answered if answered else 1.0
        self.base_counts_ = {k: v * self.scale_to_base_ for k, v in counts.items()}
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
                self.ltv_.clock = "value counted from the customer's first answer"
        self._fit_flows(data)
        self.slice_table_ = self._slice_comparison(data) if data.parent is not None else None
        return self

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
        from cxkit.survival import SegmentSurvival

        everyone = data.parent
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
            overall = nps_table_from_counts(nps_counts(everyone), alpha=self.alpha).iloc[0]
            rows.append({"measure": "NPS (latest answers)", "this slice": _fmt_nps(self.nps_),
                         "everyone": _fmt_nps(overall)})
        here = self.km_.survival_at([months]).set_index("segment")["survival"]
        there = km.survival_at([months]).set_index("segment")["survival"]
        mine, theirs = ({} if r is None else r.summary.set_index("segment")["ltv"] for r in (self.ltv_, ltv))

        def shown(value, fmt, small):
            return "too few" if small else "not available" if value is None or value != value else fmt.format(value)

        for band in self.bands_:
            small = band in self.small_bands_
            rows.append({"measure": f"{band}s still customers after {months:g} months",
                         "this slice": shown(here.get(band), "{:.0%}", small),
                         "everyone": shown(there.get(band), "{:.0%}", False)})
            rows.append({"measure": f"{band} lifetime value",
                         "this slice": shown(mine.get(band), "${:,.0f}", small),
                         "everyone": shown(theirs.get(band), "${:,.0f}", False)})
        everyone_n = everyone.sql(f"SELECT count(*) FROM ({frame.sql_query()})").fetchall()[0][0]
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

    def summary_sentences(self) -> list[str]:
        """The executive summary, led by what matters to the audience; every number read from a result."""
        from cxkit import narrative as say

        parts = self._summary_parts(say)
        lead = {"product": ["ltv", "stake"], "care": ["contacts", "retention", "ledger"],
                "region": ["slice", "nps", "retention"]}.get(self.focus, [])
        standard = ["nps", "trend", "retention", "hazard", "ltv", "stake", "ledger", "contacts", "slice", "small",
                    "unavailable"]
        order = lead + [k for k in standard if k not in lead]
        return [parts[k] for k in order if parts.get(k)]

    def _summary_parts(self, say) -> dict:
        """Each summary sentence by key; a band too small for a stable estimate never gets a number."""
        low, high = self.low_, self.high_
        small = self.small_bands_
        after = "after answering" if self.clock_kind_ == "response" else "of tenure"
        parts = {}
        if self.nps_ is not None:
            parts["nps"] = say.nps_sentence(self.nps_, self.alpha)
        if self.trend_ is not None:
            parts["trend"] = say.trend_sentence(self.trend_)
        if not {low, high} & small:
            parts["retention"] = say.retention_sentence(self.km_, self.retention_months, low, high, after)
            if self.gap_bands_ is not None:
                parts["ltv"] = say.ltv_gap_sentence(self.ltv_, high, low)
        ref = self.reference_
        if self.cox_ is not None and low != ref and not {low, ref} & small:
            parts["hazard"] = say.hazard_sentence(self.cox_, "segment", low, ref, self.covariates_)
        if self.ltv_ is not None:
            movable = list(self.scenarios.values())
            parts["stake"] = (say.value_at_stake_sentence(self.ltv_, *movable[0], audience="the active customer base")
                              if movable else "No band here has both customers to move and a stable value: "
                              "there is no value at stake to show.")
        parts["unavailable"] = say.unavailable_sentence(self.not_available_)
        if self.ledger_ is not None:
            parts["ledger"] = say.ledger_sentence(self.ledger_, 12 if self.period == "M" else 4)
        if self.contacts_ is not None and not {low, high} & small:
            parts["contacts"] = say.contacts_sentence(self.contacts_, low, high)
        if self.slice_table_ is not None and self.nps_ is not None:
            row = self.slice_table_.iloc[0]
            parts["slice"] = f"This slice's NPS is {row['this slice']} against {row['everyone']} for everyone."
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
    return "too few answers" if row["small"] else f"{row['nps']:+.0f} ({row['lower']:+.0f} to {row['upper']:+.0f})"
