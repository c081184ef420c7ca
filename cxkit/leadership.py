"""Everything the leadership report shows, computed in one place: numbers and results, never words.

The notebook sets parameters, calls :meth:`LeadershipAnalysis.fit` and hands the fitted object to
:mod:`cxkit.narrative` (the sentences) and :mod:`cxkit.report` (the document); it holds no analysis
logic. The same object serves the analyst notebooks and the tests.

Examples
--------
>>> from cxkit.leadership import LeadershipAnalysis          # doctest: +SKIP
>>> a = LeadershipAnalysis(n_boot=100).fit(load("params/demo.yaml"))  # doctest: +SKIP
>>> from cxkit import narrative; narrative.summary(a)         # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cxkit.clock import clock_description, clock_of, entry_column
from cxkit.errors import CxkitError, NotEstimable, holding_warnings
from cxkit.frames import (
    NPS_WINDOW_MONTHS,
    active_base,
    drop_ltv_frame,
    ltv_frame,
    nps_counts,
    nps_counts_by,
    spells_table,
    survival_frame,
)
from cxkit.nps import nps_table_from_counts
from cxkit.periods import per_year
from cxkit.scales import SCALES

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["LeadershipAnalysis", "Unavailable"]

_MAX_LEVELS = 12  # segment columns with more levels are left out of the Cox model


@dataclass(frozen=True)
class Unavailable:
    """Why an estimate is not available: a reason code and the numbers behind it (words: ``cxkit.narrative``).

    Codes: ``no_churn`` (``answered``), ``one_band`` (``present``), ``descriptive`` (``snapshot``,
    ``separates``, ``no_columns``), ``not_estimable`` (``message``).
    """

    code: str
    details: dict = field(default_factory=dict)


def _wait_quietly(finish) -> None:
    """Wait for work started beside a fit that failed; what it raised gives way to the fit's own error."""
    try:
        finish()
    except BaseException:  # noqa: BLE001 - the fit's error is the one raised
        pass


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
        Horizon of the retention numbers (12 = a year after answering).
    n_boot, seed, alpha : int, int, float
        Bootstrap replicates, its seed, 1 - confidence level.
    period : {"M", "Q"}
        Period of the customer ledger, the NPS trend and contact rates.
    focus : {"leadership", "product", "care", "region"}
        What the report leads with (see :mod:`cxkit.focus`); the analysis itself does not change.
    nps_window_months : float, optional
        The headline NPS counts customers active at ``as_of`` by their latest answer, if that answer is
        from the last ``nps_window_months`` (default 12; None: any age). The same default as
        :func:`cxkit.frames.nps_counts` and ``cxkit validate``.
    min_segment_size : int, optional
        Bands with fewer customers are flagged and never given a number (default: the data's setting).
    slice_n_boot : int
        Bootstrap replicates of everyone's lifetime value in a slice's comparison (its point values are
        shown, not its intervals; default 20).
    window_days, lag_days : int
        Contacts in the ``window_days`` before an answer are its experiences (drivers of the score); an
        experience counts towards churn from ``lag_days`` to ``lag_days + window_days`` after it.

    Attributes
    ----------
    nps_ : Series
        The headline NPS (``nps, se, lower, upper, n, small``).
    descriptive_ : bool
        True when the score mirrors the outcome (a snapshot taken at the end of follow-up, or a score
        whose bands separate who left with an AUC of at least ``SEPARATION_AUC``): the report then
        describes the bands instead of predicting churn or value from them.
    score_auc_ : float
        How well the score separates who left from who stayed (0.5: not at all; 1: perfectly).
    not_available_ : dict
        What cannot be estimated from this data -> :class:`Unavailable` (why).
    scenarios : dict
        ``(from band, to band) -> (moves, share)`` for the value at stake.
    slice_comparison_ : DataFrame or None
        For a slice: ``measure, band, this slice, [parent,] everyone, small`` in numbers (``parent`` for an
        audience in a hierarchy, such as a team within its region).
    audience_ : AudienceDifferences or None
        For an audience: how it differs from the other customers of its population (NPS, churn hazard in the
        same band, retention by band), with intervals and Holm's correction (:mod:`cxkit.audience`).
    parent_slice_ : dict or None
        The parent audience's slice (``{"region": "West"}``) when the data is a slice of a slice.
    key_drivers_, touchpoints_, experiences_, departures_ : result or None
        What goes with dissatisfaction and departure (:mod:`cxkit.drivers`): relative importance for the
        NPS score, NPS points lost to each experience, churn hazard per recent complaint or repeat contact,
        and the last answers and contacts of those who left. None where the data cannot say (``why_missing_``).
    why_missing_ : dict
        Which of those is not available -> reason code (``other_score``, ``no_contacts``, ``snapshot``,
        ``no_departures``, ``not_estimable``).
    """

    SEPARATION_AUC = 0.95

    def __init__(self, score: str | None = None, clock: str = "response", which: str = "latest",
                 horizon_months: int = 60, discount_rate: float = 0.10, share_moved: float = 0.10,
                 retention_months: float = 12, n_boot: int = 200, seed: int = 0, alpha: float = 0.05,
                 period: str = "M", focus: str = "leadership", nps_window_months: float | None = NPS_WINDOW_MONTHS,
                 min_segment_size: int | None = None, slice_n_boot: int = 20, window_days: int = 90,
                 lag_days: int = 7):
        self.score, self.clock, self.which = score, clock, which
        self.horizon_months, self.discount_rate, self.share_moved = horizon_months, discount_rate, share_moved
        self.retention_months, self.n_boot, self.seed, self.alpha = retention_months, n_boot, seed, alpha
        self.period, self.focus, self.nps_window_months = period, focus, nps_window_months
        self.min_segment_size, self.slice_n_boot = min_segment_size, int(slice_n_boot)
        self.window_days, self.lag_days = int(window_days), int(lag_days)
        if self.window_days < 1 or self.lag_days < 0:
            raise CxkitError(f"window_days must be at least 1 and lag_days at least 0, not {window_days!r} and "
                             f"{lag_days!r}")
        if nps_window_months is not None and not 1 <= nps_window_months <= 120:
            raise CxkitError(f"nps_window_months must be 1 to 120 months (None: answers of any age), "
                             f"not {nps_window_months!r}")
        if min_segment_size is not None and min_segment_size < 1:
            raise CxkitError(f"min_segment_size must be at least 1, not {min_segment_size!r}")
        if self.slice_n_boot < 2:
            raise CxkitError(f"slice_n_boot must be at least 2, not {slice_n_boot!r}")

    def fit(self, data) -> LeadershipAnalysis:
        from cxkit.survival import SegmentSurvival

        self.resolve(data)
        score, clock = self.score_, self.clock_kind_
        # what the data measures; what it does not is "not available", never 0
        self.measured_ = {"cost to serve": data.has("contacts", "cost"), "contacts": data.has("contacts"),
                          "referrals": data.has("customers", "referrals"),
                          "revenue": data.has("revenue") or data.has("customers", "monthly_revenue")}
        # The frame is computed once into a DuckDB table (its name is frames'); every model aggregates over it.
        self.frame_ = spells_table(data, clock=clock, which=self.which, score=score)
        self._left_cache = None  # a snapshot's leavers by segment level, read once when asked (left_revenue_by)
        self.clock_ = clock_description(clock, self.which, data.mode)
        entry = entry_column(clock)
        sizes = dict(self._query("SELECT segment, count(*) FROM f GROUP BY 1"))
        self.band_sizes_ = {b: int(sizes.get(b, 0)) for b in self.bands_}
        self.answer_spells_ = sum(sizes.values())
        self.answered_ = int(self._query("SELECT count(DISTINCT customer_id) FROM f")[0][0])
        self.small_bands_ = {b for b, n in self.band_sizes_.items() if n < self.min_size_}
        self.events_ = int(self._query("SELECT coalesce(sum(event), 0) FROM f")[0][0])
        self.not_available_ = {}
        present = [b for b in self.bands_ if self.band_sizes_[b]]
        self.km_ = SegmentSurvival(alpha=self.alpha, clock=self.clock_, order=self.bands_).fit(
            self.frame_, "duration", "event", "segment", entry_col=entry)
        levels = self._query("SELECT " + ", ".join(f'count(DISTINCT "{c}")' for c in data.segments)
                             + " FROM f")[0] if data.segments else []
        # A column with one level here (the slice's own column) explains nothing and is left out.
        self.covariates_ = [c for c, n in zip(data.segments, levels, strict=True) if 2 <= n <= _MAX_LEVELS]
        self.reference_ = next((b for b in (self.mid_, self.high_, self.low_) if b in present), self.mid_)
        self.cox_ = self.incidence_ = self.ltv_ = None
        self._fit_separation(data)
        with holding_warnings():  # the kit's warnings of both threads, warned in order when they are one again
            finish_why = self._start_why(data)  # the drivers section, beside the models below where it can be
            try:
                self._fit_models(data, present, entry)
            except BaseException:
                _wait_quietly(finish_why)  # its connection is not left working under a failed fit
                raise
            finish_why()
        self.slice_difference_ = self.nps_everyone_ = self.nps_parent_ = self.parent_slice_ = None
        self.audience_ = None
        self.slice_comparison_ = self._slice_comparison(data) if data.parent is not None else None
        self.engine_ = data.engine
        self.bytes_back_ = None
        if data.engine == "warehouse":  # what crossed the wire since the data was opened (the gateway's too)
            total = data.con.bytes_back
            self.bytes_back_ = {"aggregates": total}
        return self

    def _fit_models(self, data, present: list, entry: str | None) -> None:
        """The churn models, the headline counts, lifetime value and the flows (what :meth:`fit` does after the
        frame, beside the drivers section)."""
        from cxkit.ltv import SegmentLTV
        from cxkit.survival import CoxModel, CumulativeIncidence

        score = self.score_
        snapshot = data.mode == "snapshot"
        if not self.events_:
            self._unavailable("churn drivers", "lifetime value", code="no_churn", answered=self.answered_)
        elif len(present) < 2:
            self._unavailable("churn drivers", code="one_band", present=present)
        elif self.descriptive_ and not self.covariates_:
            self._unavailable("churn drivers", code="descriptive", snapshot=snapshot, separates=self.separates_,
                              no_columns=True)
        else:  # a score that mirrors the outcome is no driver: the model then weighs the other columns alone
            terms = self.covariates_ if self.descriptive_ else ["segment", *self.covariates_]
            reference = {} if self.descriptive_ else {"segment": self.reference_}
            self.cox_ = self._attempt("churn drivers", lambda: CoxModel(
                alpha=self.alpha, reference=reference, clock=self.clock_).fit(
                self.frame_, "duration", "event", terms, entry_col=entry))
        reasons = self._query("SELECT count(*) FROM f WHERE event = 1 AND churn_reason <> 'unknown'")[0][0]
        if data.has("customers", "churn_reason") and self.events_ and reasons:
            self.incidence_ = self._attempt("churn reasons", lambda: CumulativeIncidence(
                clock=self.clock_, order=self.bands_, alpha=self.alpha).fit(
                self.frame_, "duration", "event", "churn_reason", "segment", entry_col=entry))
        if score == "nps":
            # the headline population, for everyone and each segment column in one pass
            counts = nps_counts_by(data, self.covariates_, window_months=self.nps_window_months)
            self.nps_counts_ = counts[None].iloc[0]
            self.nps_ = nps_table_from_counts(counts[None], alpha=self.alpha, min_n=self.min_size_).iloc[0]
            self.nps_by_ = {c: nps_table_from_counts(counts[c], by=c, alpha=self.alpha, min_n=self.min_size_)
                            for c in self.covariates_}
        else:
            self.nps_, self.nps_by_ = None, {}
        counts, active = active_base(data, score)
        self.answered_base_ = counts
        answered = sum(counts.values())
        self.scale_to_base_ = active / answered if answered else 1.0
        # the API's default base too (value_base's counts, scaled as it scales them), without counting again
        self.base_counts_ = {k: v * self.scale_to_base_ for k, v in counts.items()}
        self.active_customers_ = active
        if self.events_:
            frame = ltv_frame(data, score=score, relation=True)
            clock_note = "value counted from signup" if snapshot else "value counted from the customer's first answer"
            try:
                self.ltv_ = self._attempt("lifetime value", lambda: SegmentLTV(
                    horizon=self.horizon_months, discount_rate=self.discount_rate, alpha=self.alpha,
                    n_boot=self.n_boot, seed=self.seed, clock=clock_note).fit(
                    frame, base_counts=self.base_counts_, order=self.bands_))
            finally:
                drop_ltv_frame(data)
        if self.descriptive_ and self.ltv_ is not None:
            self._unavailable("value at stake", code="descriptive", snapshot=snapshot, separates=self.separates_)
        self._fit_flows(data)

    def _start_why(self, data):
        """Start :meth:`_fit_why` and return the function that waits for it and raises what it raised.

        On a local DuckDB engine with two threads or more it runs in a thread, on a second connection to the same
        database (:func:`cxkit.engine.twin`), while the models run here: its queries and compiled loops use the
        second core while the models' Python holds the first. It changes no warnings filter (they are the
        process's: its models take ``quiet`` instead), and the kit's warnings of both threads wait for the join
        (:func:`cxkit.errors.holding_warnings`). On a warehouse, or DuckDB held to one thread (a batch's
        workers), it runs when waited for, after the models, as before.
        """
        from cxkit.engine import room_beside, twin

        if data.engine == "warehouse" or not room_beside(data.con):
            return lambda: self._fit_why(data)
        from concurrent.futures import ThreadPoolExecutor
        from dataclasses import replace

        import cxkit.drivers.patterns  # noqa: F401 - imported here, not in the thread (numba's import is slow)
        import cxkit.drivers.sweep  # noqa: F401

        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cxkit-drivers")
        future = pool.submit(self._fit_why, replace(data, con=twin(data.con)))
        pool.shutdown(wait=False)  # the thread ends with the work
        return future.result

    def resolve(self, data) -> LeadershipAnalysis:
        """Settle the settings that depend on the data (score, bands, clock, minimum size); :meth:`fit` starts
        here, and a batch calls it alone before :meth:`population_numbers`."""
        self.data_ = data
        self.min_size_ = self.min_segment_size or data.min_segment_size
        self.score_ = self.score or ("nps" if "nps" in data.scores else data.scores[0])
        self.bands_ = SCALES[self.score_].labels
        self.low_, self.mid_, self.high_ = self.bands_
        self.clock_kind_ = clock_of(data.mode, self.clock)
        return self

    def _query(self, sql: str) -> list:
        """Rows of ``sql`` over the spells frame, named ``f`` in the query."""
        return self.frame_.query("f", sql).fetchall()

    def _fit_separation(self, data) -> None:
        """How well the score separates who left (AUC, counted in DuckDB) and the share who left per band."""
        import numpy as np

        rows = self._query("SELECT score, segment, count(*) FILTER (WHERE event = 1), "
                           "count(*) FILTER (WHERE event = 0) FROM f GROUP BY 1, 2 ORDER BY 1")
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
            self._unavailable(what, code="not_estimable", message=str(exc).split(": ", 1)[-1])
            return None

    def _unavailable(self, *what: str, code: str, **details) -> None:
        for w in what:
            self.not_available_[w] = Unavailable(code, details)

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
            self.trend_ = NPSTrend(self.period, min_n=self.min_size_, alpha=self.alpha).fit_data(
                data, ledger=self.ledger_)
        if data.has("contacts"):
            self.contacts_ = ContactRates(self.period).fit_data(data, ledger=self.ledger_)

    def _fit_why(self, data) -> None:
        """What goes with dissatisfaction (key drivers, touchpoints) and departure (experiences, leavers' story)."""
        from cxkit.drivers import DepartureStory, ExperienceHazards, KeyDrivers, TouchpointImpact, driver_frame
        from cxkit.drivers.frame import answers_in, drop_answers_table

        self.key_drivers_ = self.touchpoints_ = self.experiences_ = self.departures_ = None
        self.why_missing_ = {}
        if self.score_ not in data.scores:  # bands from custom cuts of a score the data does not hold
            self.why_missing_["drivers of the score"] = "other_score"
        else:  # the drivers of the report's own score: NPS, CSAT or effort
            frame = driver_frame(data, window_days=self.window_days, relation="patterns",
                                 score=self.score_)  # the answers' patterns with their counts, read twice
            try:
                if answers_in(frame) >= self.min_size_:
                    # quiet: a driver left out is named in notes_, in words by narrative
                    self.key_drivers_ = self._why_attempt("drivers of the score", lambda: KeyDrivers(
                        outcome=self.score_, n_boot=self.n_boot, seed=self.seed, alpha=self.alpha,
                        quiet=True).fit(frame))
                else:
                    self.why_missing_["drivers of the score"] = "too_few"
                experiences = [c for c in frame.columns if c.endswith("_contacts") and c != "repeat_contacts"]
                experiences += ["repeat_contacts"] if "repeat_contacts" in frame.columns else []
                if experiences:
                    self.touchpoints_ = TouchpointImpact(alpha=self.alpha, min_answers=self.min_size_,
                                                         score=self.score_).fit(frame, experiences)
            finally:
                drop_answers_table(data)
        if data.mode != "dated":
            self.why_missing_["experiences before departure"] = "snapshot"
        elif not data.has("contacts"):
            self.why_missing_["experiences before departure"] = "no_contacts"
        elif not self.events_:
            self.why_missing_["experiences before departure"] = "no_departures"
        else:
            self.experiences_ = self._why_attempt("experiences before departure", lambda: ExperienceHazards(
                window_days=self.window_days, lag_days=self.lag_days, period_months=12, alpha=self.alpha,
                seed=self.seed, prior_score=self.score_).fit_data(data))
        if data.mode == "dated" and data.as_of is not None:
            # the report reads the counts per reason; the list of leavers is the analyst's to ask for
            # (DepartureStory().fit_data(data).customers_): at 10M customers it held 0.5 GB for nothing here
            story = DepartureStory(period_months=12, window_days=self.window_days, list_customers=False).fit_data(data)
            self.departures_ = story if story.leavers_ else None

    def _why_attempt(self, what: str, fit):
        """As :meth:`_attempt` for the drivers section: a model the data cannot support is recorded in
        ``why_missing_`` (its own "not available" line), not in ``not_available_`` (the summary's)."""
        try:
            return fit()
        except CxkitError:
            self.why_missing_[what] = "not_estimable"
            return None

    def population_key(self, data) -> str:
        """What a population's reference numbers depend on: its slice and this analysis's settings."""
        import json

        settings = {"slice": data.slice_by or {}, "score": self.score_, "clock": self.clock_kind_,
                    "which": self.which, "horizon": self.horizon_months, "discount": self.discount_rate,
                    "alpha": self.alpha, "seed": self.seed, "n_boot": self.slice_n_boot,
                    "retention": self.retention_months, "window": self.nps_window_months, "min": self.min_size_}
        return json.dumps(settings, sort_keys=True, default=str)

    def population_numbers(self, data) -> dict:
        """A population's numbers a slice is compared with (everyone, or its parent in a hierarchy).

        ``nps_counts`` (headline NPS counts or None), ``still`` (share still a customer per band at
        ``retention_months``), ``ltv`` (lifetime value per band), ``answered`` (customers who answered).
        A batch computes them once per population (:class:`cxkit.store.AnalysisStore`); alone, a report
        computes them here. Needs :meth:`fit`'s resolved settings (``score_``, ``clock_kind_``, ``min_size_``).
        """
        from cxkit.ltv import SegmentLTV
        from cxkit.survival import SegmentSurvival

        frame = survival_frame(data, clock=self.clock_kind_, which=self.which, score=self.score_, relation=True)
        km = SegmentSurvival(alpha=self.alpha, order=self.bands_).fit(
            frame, "duration", "event", "segment", entry_col=entry_column(self.clock_kind_))
        ltv = None
        if frame.query("f", "SELECT coalesce(sum(event), 0) FROM f").fetchall()[0][0]:
            try:  # the same rule as for the slice: no churn at all, no lifetime value
                ltv = SegmentLTV(horizon=self.horizon_months, discount_rate=self.discount_rate,
                                 n_boot=self.slice_n_boot, seed=self.seed).fit(
                    ltv_frame(data, score=self.score_, relation=True), order=self.bands_)
            except NotEstimable:
                pass
            finally:
                drop_ltv_frame(data)
        counts = None
        if self.score_ == "nps":
            table = nps_counts(data, window_months=self.nps_window_months)
            counts = {b: int(table[b].iloc[0]) for b in ("detractors", "passives", "promoters")}
        still = km.survival_at([self.retention_months]).set_index("segment")["survival"]
        values = {} if ltv is None else ltv.summary.set_index("segment")["ltv"]
        return {"nps_counts": counts, "still": {b: float(v) for b, v in still.items()},
                "ltv": {b: float(v) for b, v in values.items()},
                "answered": int(frame.query("f", "SELECT count(DISTINCT customer_id) FROM f").fetchall()[0][0])}

    def _population(self, data) -> dict:
        """The numbers of ``data`` as a population: from the batch's store when it holds them, else computed."""
        store = getattr(self.data_, "store", None)
        numbers = store.numbers(self.population_key(data)) if store is not None else None
        return numbers if numbers is not None else self.population_numbers(data)

    def _slice_comparison(self, data):
        """This slice against its parent (in a hierarchy) and everyone: NPS, share still a customer, LTV."""
        import pandas as pd

        from cxkit.nps import nps_difference, nps_from_counts

        everyone = data.parent
        while everyone.parent is not None:
            everyone = everyone.parent
        others = {"everyone": self._population(everyone)}
        if data.parent is not everyone:
            others["parent"] = self._population(data.parent)
        self.parent_slice_ = data.parent.slice_by if "parent" in others else None
        columns = ["parent", "everyone"] if "parent" in others else ["everyone"]
        rows = []
        if self.nps_ is not None:
            tables = {k: nps_from_counts(*v["nps_counts"].values(), alpha=self.alpha, min_n=self.min_size_)
                      for k, v in others.items()}
            self.nps_everyone_ = pd.Series(tables["everyone"])
            self.nps_parent_ = pd.Series(tables["parent"]) if "parent" in others else None
            closest = others.get("parent", others["everyone"])["nps_counts"]
            rest = [closest[b] - int(self.nps_counts_[b]) for b in ("detractors", "passives", "promoters")]
            if sum(rest) and not self.nps_["small"]:  # against the other customers: two independent groups
                others_nps = nps_from_counts(*rest, alpha=self.alpha)
                self.slice_difference_ = nps_difference(self.nps_, others_nps, self.alpha)
            rows.append({"measure": "nps", "band": None, "this slice": self.nps_["nps"],
                         **{c: tables[c]["nps"] for c in columns}, "small": bool(self.nps_["small"])})
        here = self.km_.survival_at([self.retention_months]).set_index("segment")["survival"]
        mine = {} if self.ltv_ is None else self.ltv_.summary.set_index("segment")["ltv"]
        for band in self.bands_:
            small = band in self.small_bands_
            rows.append({"measure": "still a customer", "band": band, "this slice": here.get(band),
                         **{c: others[c]["still"].get(band) for c in columns}, "small": small})
            rows.append({"measure": "lifetime value", "band": band, "this slice": mine.get(band),
                         **{c: others[c]["ltv"].get(band) for c in columns}, "small": small})
        rows.append({"measure": "customers who answered", "band": None, "this slice": self.answered_,
                     **{c: others[c]["answered"] for c in columns}, "small": False})
        self._fit_audience(data, (self.nps_, others_nps) if self.slice_difference_ is not None else None)
        return pd.DataFrame(rows)

    def _fit_audience(self, data, nps) -> None:
        """The audience against the other customers of its population, every measure with an interval."""
        from cxkit.audience import AudienceDifferences

        try:
            self.audience_ = AudienceDifferences(alpha=self.alpha, retention_months=self.retention_months,
                                                 score=self.score_, clock=self.clock_kind_,
                                                 min_size=self.min_size_).fit(data.parent, data.slice_by, nps=nps,
                                                                              value=lambda: self._value_pair(data))
        except (NotEstimable, CxkitError):
            self.audience_ = None

    def _value_pair(self, data):
        """(this audience's, the other customers') lifetime value, for the audience's comparison; None for an
        audience of several columns (the others are then no slice of the data) or without the audience's own."""
        from cxkit.ltv import SegmentLTV

        if self.ltv_ is None or len(data.slice_by) != 1:
            return None
        (column, wanted), = data.slice_by.items()
        wanted = {str(v) for v in (wanted if isinstance(wanted, list) else [wanted])}
        from cxkit.sql import ident

        values = [v for v, in data.parent.sql(f"SELECT DISTINCT CAST({ident(column)} AS VARCHAR) FROM customers "
                                              f"WHERE {ident(column)} IS NOT NULL").fetchall() if v not in wanted]
        if not values:
            return None
        others = data.parent.subset({column: values}, copy=False)
        try:
            fit = SegmentLTV(horizon=self.horizon_months, discount_rate=self.discount_rate, alpha=self.alpha,
                             n_boot=self.n_boot, seed=self.seed).fit(
                ltv_frame(others, score=self.score_, relation=True), order=self.bands_)
        except (NotEstimable, CxkitError):
            return None
        finally:
            drop_ltv_frame(others)
        return self.ltv_, fit

    #: The fitted results an analyst reads next, in the report's order: attribute -> what it holds.
    RESULTS = {"nps_": "headline NPS (Series: nps, se, lower, upper, n)", "audience_": "an audience against the "
               "other customers (AudienceDifferences)", "trend_": "NPS by period, raw and at a fixed mix (NPSTrend)",
               "km_": "share still a customer by band (SegmentSurvival)", "cox_": "hazard ratios by band and "
               "segment (CoxModel)", "incidence_": "churn reasons (CumulativeIncidence)", "ltv_": "lifetime value "
               "by band, value at stake (SegmentLTV)", "ledger_": "customers and revenue in and out "
               "(CustomerLedger)", "contacts_": "contacts and cost to serve by band (ContactRates)",
               "key_drivers_": "what goes with the score (KeyDrivers)", "touchpoints_": "NPS points lost to "
               "experiences (TouchpointImpact)", "experiences_": "complaints and repeat contacts before departure "
               "(ExperienceHazards)", "departures_": "the leavers' story (DepartureStory; counts per reason, no "
               "list of leavers)"}

    #: Every other fitted attribute, by what it is for (RESULTS are the first group): the map shown by
    #: :meth:`attribute_map` and the notebook's HTML repr.
    ATTRIBUTES = {
        "headline numbers": {"nps_counts_": "answer counts behind the headline NPS", "nps_by_": "NPS by segment "
                             "column (DataFrames)", "nps_everyone_": "for a slice: everyone's NPS",
                             "nps_parent_": "for a slice of a slice: the parent's NPS", "active_customers_":
                             "customers active at the as-of date", "answered_": "customers who answered",
                             "answer_spells_": "answer spells (an answer until the next one or the end)",
                             "events_": "churn events among those who answered", "band_sizes_": "answer spells per "
                             "band", "churned_share_": "share of each band who left", "base_counts_": "active "
                             "customers per band, scaled to the whole base", "answered_base_": "active customers "
                             "who answered, per band of their latest answer (not scaled)",
                             "scale_to_base_": "customers per answering customer"},
        "settings as resolved": {"score_": "the score analysed", "bands_": "its bands, low to high",
                                 "low_": "lowest band", "mid_": "middle band", "high_": "highest band",
                                 "reference_": "reference band of the hazard ratios", "clock_": "the clock, in "
                                 "words", "clock_kind_": "the clock's name", "covariates_": "what the Cox model "
                                 "allows for", "min_size_": "smallest band given a number", "measured_": "what the "
                                 "data measures (revenue, contacts, cost, referrals)"},
        "checks": {"descriptive_": "True when the score mirrors the outcome (the report then describes)",
                   "score_auc_": "how well the score separates leavers from stayers", "separates_": "whether it "
                   "separates them almost perfectly", "small_bands_": "bands too small for a number",
                   "not_available_": "what cannot be estimated, and why", "why_missing_": "drivers not available, "
                   "and why"},
        "data and slices": {"data_": "the validated data (CXData)", "frame_": "one row per answer spell (DuckDB)",
                            "parent_slice_": "the parent audience's slice", "slice_comparison_": "this slice "
                            "against everyone", "slice_difference_": "the slice's difference in numbers"},
        "engine": {"engine_": "where the report was computed: local (DuckDB) or warehouse (an Ibis backend)",
                   "bytes_back_": "on the warehouse engine: bytes brought back (aggregates only)"},
    }

    def attribute_map(self) -> pd.DataFrame:
        """Every fitted attribute: its ``group``, ``attribute``, what it ``holds`` and whether it is ``available``
        (None or missing is not), the results first; sort and filter it as any DataFrame."""
        import pandas as pd

        groups = {"results": self.RESULTS, **self.ATTRIBUTES}
        return pd.DataFrame([{"group": g, "attribute": k, "holds": what,
                              "available": getattr(self, k, None) is not None}
                             for g, attrs in groups.items() for k, what in attrs.items()])

    def __repr__(self) -> str:
        if not hasattr(self, "frame_"):
            return f"LeadershipAnalysis(score={self.score!r}, clock={self.clock!r}, n_boot={self.n_boot})  # unfitted"
        fitted = [k for k in self.RESULTS if getattr(self, k, None) is not None]
        return (f"LeadershipAnalysis(score={self.score_!r}, clock={self.clock_kind_!r}): {self.answered_:,} customers "
                f"answered, {self.events_:,} left; results: {', '.join(fitted)} (map: .attribute_map())")

    def _repr_html_(self) -> str:
        """What the analysis holds and where to read it: each result, available or why not, then the other
        attributes by group."""
        import html

        from cxkit._display import html_block, unfitted_html

        if not hasattr(self, "frame_"):
            return unfitted_html(repr(self), "fit(data)")
        missing = {**{k: v.code for k, v in self.not_available_.items()}, **self.why_missing_}
        table = self.attribute_map()
        results = table[table["group"] == "results"].drop(columns="group")
        results["available"] = results["available"].map({True: "yes", False: "no"})
        notes = [f"Score {self.score_}, bands {', '.join(self.bands_)}; clock: {self.clock_}.",
                 f"{self.answered_:,} customers answered ({self.answer_spells_:,} answer spells); "
                 f"{self.events_:,} left."]
        notes += [f"Not available: {k} ({v})." for k, v in missing.items()]
        notes.append("Words: cxkit.narrative.summary(a) and cxkit.brief.brief(a); each result has its own summary, "
                     "plot() and repr.")
        others = "".join(
            f"<p class='cx-note'><b>{html.escape(group.capitalize())}</b>: "
            + "; ".join(f"<code>{html.escape(k)}</code> {html.escape(what)}" for k, what in attrs.items()) + ".</p>"
            for group, attrs in self.ATTRIBUTES.items())
        block = html_block("LeadershipAnalysis", results, notes, read_next={
            "attribute_map()": "every attribute as a DataFrame", "ltv_.value_at_stake({from: to})": "the money in "
            "moving customers between bands", "cox_.summary": "hazard ratios"})
        return block[:-len("</div>")] + others + "</div>"

    @property
    def scenarios(self) -> dict:
        """Value-at-stake scenarios: ``(from, to) -> ({from: to}, share)``, lowest band up one step, the middle
        band up one step, low to high.

        Only scenarios that move someone between two bands with a stable lifetime value: a band with no
        active customers, no value or too few customers never appears in one; none for a score that mirrors
        the outcome.
        """
        if self.descriptive_:
            return {}
        valued = set(self.ltv_.segments_) if self.ltv_ is not None else set()
        return {(a, b): ({a: b}, self.share_moved)
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

    @property
    def year_periods_(self) -> int:
        """Periods in the last year of the ledger and its tables (12 months or 4 quarters)."""
        return per_year(self.period)

    def lost_table(self, by: str = "reason", last: int | None = None):
        """Customers and monthly revenue lost over the last periods, by churn reason or by band."""
        if self.ledger_ is None:
            return None
        last = last or self.year_periods_
        source = self.ledger_.lost_by_reason_ if by == "reason" else self.ledger_.lost_by_band_
        recent = source[source["period"].isin(self.ledger_.table["period"].drop_duplicates().tail(last))]
        out = recent.groupby(by, as_index=False)[["lost", "revenue_out"]].sum().sort_values("revenue_out",
                                                                                            ascending=False)
        out["share of lost revenue"] = out["revenue_out"] / out["revenue_out"].sum()
        return out.rename(columns={"revenue_out": "monthly revenue lost"})

    def reason_gap(self, first: str, second: str, last: int | None = None) -> dict | None:
        """The monthly revenue lost with churn reason ``first`` minus that lost with ``second`` over the last
        periods, with its interval: leavers as a compound Poisson count, so each sum's variance is the sum of its
        leavers' squared run rates (independent reasons: the two add). ``difference, lower, upper, distinguishable``
        (the interval excludes zero); None without a ledger that measured the squares.

        >>> a.reason_gap("competitor", "price")     # doctest: +SKIP
        {'difference': 64.2, 'lower': -1574.0, 'upper': 1702.4, 'distinguishable': False}
        """
        import numpy as np
        from scipy import stats

        source = getattr(self.ledger_, "lost_by_reason_", None)
        if source is None or "revenue_out_sq" not in source:
            return None
        periods = self.ledger_.table["period"].drop_duplicates().tail(last or self.year_periods_)
        sums = source[source["period"].isin(periods)].groupby("reason")[["revenue_out", "revenue_out_sq"]].sum()
        if not {first, second} <= set(sums.index):
            return None
        difference = float(sums.loc[first, "revenue_out"] - sums.loc[second, "revenue_out"])
        se = float(np.sqrt(sums.loc[first, "revenue_out_sq"] + sums.loc[second, "revenue_out_sq"]))
        half = float(stats.norm.ppf(1 - self.alpha / 2)) * se
        lower, upper = difference - half, difference + half
        return {"difference": difference, "lower": lower, "upper": upper,
                "distinguishable": bool(lower > 0 or upper < 0)}

    def revenue_lost_by_band(self):
        """Monthly revenue lost over the last year by the band of the leaver's last answer, answered bands only
        (a Series by band, most first; the rows of :meth:`lost_table` by band without ``no answer``); None without a
        ledger."""
        t = self.lost_table("band")
        if t is None:
            return None
        return t[t["band"] != "no answer"].set_index("band")["monthly revenue lost"]

    def _left_tables(self):
        """A snapshot's customers, those who had left and the monthly revenue they paid, for every segment column's
        levels and in total, in one query (``column`` None: the total row); computed once."""
        if getattr(self, "_left_cache", None) is None:
            from cxkit.sql import ident

            data = self.data_
            cols = [ident(c) for c in data.segments]
            levels = ", ".join(f"CAST({c} AS VARCHAR) AS {c}" for c in cols)
            which = " + ".join(f"{2 ** i} * (1 - GROUPING({c}))" for i, c in enumerate(cols)) or "0"
            sets = ", ".join([*(f"({c})" for c in cols), "()"])
            revenue = ("coalesce(sum(monthly_revenue) FILTER (WHERE churned = 1), 0)"
                       if data.has("customers", "monthly_revenue") else "CAST(NULL AS DOUBLE)")
            out = data.sql(f"SELECT {which} AS which, {levels + ', ' if levels else ''}count(*) AS customers, "
                           "count(*) FILTER (WHERE churned = 1) AS \"left\", "
                           f"{revenue} AS \"monthly revenue left\" FROM customers GROUP BY GROUPING SETS ({sets})").df()
            self._left_cache = {None: out[out["which"] == 0]}
            for i, column in enumerate(data.segments):
                rows = out[out["which"] == 2 ** i]
                self._left_cache[column] = rows.assign(level=rows[column])[["level", "customers", "left",
                                                                        "monthly revenue left"]]
        return self._left_cache

    def left_share_by(self, column: str):
        """A snapshot's share of each level's customers who had left by the snapshot, by a segment column's level
        (a Series, level -> share; a level counts only with customers); None where the data is dated or the column
        is no segment."""
        data = self.data_
        if data.mode == "dated" or column not in data.segments:
            return None
        t = self._left_tables()[column].set_index("level")
        return (t["left"] / t["customers"]).rename("share left")

    def left_revenue(self) -> dict | None:
        """A snapshot's customers who had left and the monthly revenue they paid: ``left, monthly revenue left``;
        None where the data is dated (see :meth:`lost_table`) or measures no monthly revenue."""
        data = self.data_
        if data.mode == "dated" or not data.has("customers", "monthly_revenue"):
            return None
        total = self._left_tables()[None].iloc[0]
        return {"left": int(total["left"]), "monthly revenue left": float(total["monthly revenue left"])}

    def left_revenue_by(self, column: str):
        """A snapshot's customers who had left and the monthly revenue they paid, by a segment column's level.

        ``level, customers, left, monthly revenue left, share of revenue left``, most revenue first; None
        where the data is dated (its ledger counts what left, :meth:`lost_table`) or measures no monthly
        revenue. A snapshot's churn flag has no date: this is everything that left, not the last year.
        """
        data = self.data_
        if data.mode == "dated" or not data.has("customers", "monthly_revenue") or column not in data.segments:
            return None
        out = self._left_tables()[column].sort_values(["monthly revenue left", "level"], ascending=[False, True],
                                                      ignore_index=True)
        total = out["monthly revenue left"].sum()
        out["share of revenue left"] = out["monthly revenue left"] / total if total > 0 else float("nan")
        return out

    def left_revenue_where(self, levels: dict) -> dict | None:
        """A snapshot's customers who had left and the monthly revenue they paid, among the customers with every
        given segment level (``{column: level}``): ``left, monthly revenue left`` (two levels of one column: none);
        None where the data is dated or measures no monthly revenue. What two actions' money shares.

        >>> a.left_revenue_where({"contract": "Month-to-Month", "offer": "Offer E"})   # doctest: +SKIP
        {'left': 422, 'monthly revenue left': 27067.3}
        """
        from cxkit.audience import audience_condition

        data = self.data_
        if data.mode == "dated" or not data.has("customers", "monthly_revenue") or \
                not set(levels) <= set(data.segments):
            return None
        left, paid = data.sql("SELECT count(*) FILTER (WHERE churned = 1), coalesce(sum(monthly_revenue) FILTER "
                              f"(WHERE churned = 1), 0) FROM customers WHERE {audience_condition(levels)}").fetchone()
        return {"left": int(left), "monthly revenue left": float(paid)}

    def retention_at(self, months=(6, 12, 24)):
        """Share still a customer per band at chosen months: ``segment, time, at_risk, survival, lower, upper``."""
        at = self.km_.survival_at(list(months))
        order = {s: i for i, s in enumerate(self.km_.segments_)}
        return at.sort_values(["segment", "time"], key=lambda c: c.map(order) if c.name == "segment" else c,
                              ignore_index=True)

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
        """Each value-at-stake scenario: ``from, to, share, customers moved, value added, lower, upper, ...``."""
        import pandas as pd

        rows = []
        if self.ltv_ is None:
            return pd.DataFrame(rows)
        for (src, dst), (moves, share) in self.scenarios.items():
            v = self.ltv_.value_at_stake(moves, share)
            rows.append({"from": src, "to": dst, "share": share, "customers moved": v["customers_moved"],
                         "value added": v["estimate"], "lower": v["lower"], "upper": v["upper"],
                         "per customer moved": v["per_customer"]})
        return pd.DataFrame(rows)
