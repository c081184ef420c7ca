"""Key drivers: which experiences and traits go with a customer's score, ranked by relative importance.

Examples
--------
>>> from cxkit.drivers import KeyDrivers, driver_frame          # doctest: +SKIP
>>> kd = KeyDrivers(outcome="nps", n_boot=200).fit(driver_frame(data))   # doctest: +SKIP
>>> kd.importance_[["driver", "share", "lower", "upper"]]       # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxkit._display import html_block, unfitted_html
from cxkit.drivers.design import centred_factor, collapse, rank_of_factor
from cxkit.drivers.frame import ANSWER_COUNT, frame_drivers, is_categorical, outcome_flag
from cxkit.drivers.importance import linear_importance, logistic_importance
from cxkit.drivers.resample import resampled_moments
from cxkit.errors import CxkitError, warn

__all__ = ["KeyDrivers"]

OUTCOMES = {"nps": "NPS score (0-10)", "detractor": "being a detractor (0-6)", "csat": "CSAT score (1-5)",
            "effort": "effort score (1-7)", "low_band": "an answer in the score's lowest band"}
FLAGS = ("detractor", "low_band")  # the 0/1 outcomes, fitted by logistic regression
#: From this many answer patterns on, the linear model's bootstrap draws its resamples in blocks of patterns
#: (:func:`cxkit.drivers.resample.resampled_moments`: the same multinomial resample of answers, other random
#: numbers); below it, one multinomial draw per replicate as always.
FAST_PATTERNS = 20_000
METHODS = ("relative_weights", "dominance")


class KeyDrivers:
    """Relative importance of candidate drivers for the score (linear) or for being a detractor (logistic).

    Parameters
    ----------
    outcome : {"nps", "detractor", "csat", "effort", "low_band"}
        A score (``nps`` 0-10, ``csat``, ``effort``): linear model, R². ``detractor`` (a 0-6 answer) or
        ``low_band`` (an answer in the lowest band of ``score``: dissatisfied, high effort): logistic model,
        McKelvey-Zavoina R².
    method : {"relative_weights", "dominance"}
        Johnson's relative weights (any number of drivers) or general dominance, the Shapley value of R²
        (every subset of drivers: at most 15).
    n_boot : int
        Bootstrap replicates of the answers for the intervals (0: none).
    seed : int
        Seed of the bootstrap.
    alpha : float
        1 - confidence level of the intervals.
    score : str, optional
        The score the outcome belongs to, for ``low_band`` (default: the driver frame's ``attrs["score"]``);
        its column is then not a driver.
    quiet : bool
        A driver left out because the others fix it is named in ``notes_`` only, without a warning (for a
        caller that words the notes itself, such as work in a thread, where changing the warnings filters is
        not safe).

    Attributes
    ----------
    importance_ : DataFrame
        One row per driver, most important first: ``driver, weight`` (share of the outcome's variance it
        accounts for), ``share`` (of the model's R²), ``lower, upper`` (bootstrap percentile interval of
        the weight), ``sign`` (``+``: more of the driver goes with a higher outcome; ``-``; ``by level``
        for a categorical driver), ``n`` (answers), ``distinguishable`` (False when the driver's effect
        in the full model cannot be told from no effect at the interval's level).
    coefficients_ : DataFrame
        Full model, one row per design column: ``term, coef, lower, upper`` (NPS points, or log-odds of
        being a detractor, per unit of the driver; a dummy against ``reference_``).
    r_squared_ : dict
        ``value, lower, upper``.
    n_ : int
        Answers used (those with every driver filled in).
    reference_ : dict
        Reference level of each categorical driver.
    notes_ : list of str
        Drivers left out and why.
    """

    def __init__(self, outcome: str = "nps", method: str = "relative_weights", n_boot: int = 200, seed: int = 0,
                 alpha: float = 0.05, score: str | None = None, quiet: bool = False):
        if outcome not in OUTCOMES:
            raise CxkitError(f"outcome must be one of {', '.join(OUTCOMES)}")
        if method not in METHODS:
            raise CxkitError(f"method must be one of {', '.join(METHODS)}")
        if int(n_boot) < 0 or not 0 < alpha < 1:
            raise CxkitError("n_boot must be 0 or more and alpha between 0 and 1")
        if score is not None and score not in ("nps", "csat", "effort"):
            raise CxkitError("score must be one of nps, csat, effort")
        if score is not None and outcome not in ("low_band", score) and not (outcome == "detractor" and score == "nps"):
            raise CxkitError(f"outcome {outcome!r} is not a measure of the {score} score")
        self.outcome, self.method, self.n_boot, self.seed, self.alpha = outcome, method, int(n_boot), seed, alpha
        self.score, self.quiet = score, bool(quiet)

    def fit(self, frame, drivers: list[str] | None = None) -> KeyDrivers:
        """Fit on a :func:`~cxkit.drivers.driver_frame` (a DataFrame or its DuckDB relation).

        Parameters
        ----------
        frame : DataFrame or duckdb.DuckDBPyRelation
            One row per answer with the outcome columns ``nps`` / ``detractor`` and the drivers; or one row per
            pattern of answers with their number in :data:`~cxkit.drivers.frame.ANSWER_COUNT`
            (``driver_frame(data, relation="patterns")``), weighted by it: the same fit as on the answers.
        drivers : list of str, optional
            Driver columns; by default every driver of the frame that is filled in for every answer and
            varies (a contact cost that is the sum of the kinds' counts times fixed costs is left out).
        """
        self.notes_ = []
        self.score_ = self._score_of(frame)
        explicit = drivers is not None
        drivers = self._choose(frame, drivers)
        if ANSWER_COUNT in drivers:
            raise CxkitError(f"{ANSWER_COUNT} counts the answers of each pattern: it is not a driver")
        categorical = self._categorical(frame, drivers)
        pat = collapse(frame, self.outcome, drivers, categorical)
        pat = self._drop_dependent(pat, explicit)
        one = logistic_importance if self.outcome in FLAGS else linear_importance
        weights, r2, coef = one(pat.y, pat.x, pat.counts, pat.groups, self.method, pat.z)
        boot_w, boot_r2, boot_c = self._bootstrap(pat, one)
        self.n_, self.reference_, self.patterns_ = pat.n, pat.reference, len(pat.counts)
        self._tables(pat, weights, r2, coef, boot_w, boot_r2, boot_c)
        return self

    def _score_of(self, frame) -> str:
        """The score the outcome measures: the outcome itself, NPS for ``detractor``, else ``score`` or the
        frame's."""
        if self.outcome in ("nps", "csat", "effort"):
            return self.outcome
        if self.outcome == "detractor":
            return "nps"
        score = self.score or (getattr(frame, "attrs", None) or {}).get("score")
        if score is None:
            raise CxkitError("outcome 'low_band' needs the score it belongs to: KeyDrivers(score='csat')")
        return score

    def _choose(self, frame, drivers):
        columns = list(frame.columns)
        if drivers is not None:
            drivers = list(drivers)
            unknown = [d for d in drivers if d not in columns]
            if unknown or not drivers:
                raise CxkitError(f"the driver frame has no column {', '.join(unknown)}" if unknown
                                 else "name at least one driver")
            outcomes = {self.outcome, self.score_, outcome_flag(self.score_)}
            if outcomes & set(drivers):
                raise CxkitError(f"the outcome ({', '.join(sorted(outcomes))}) cannot be one of its own drivers")
            return drivers
        chosen = []
        candidates = [d for d in frame_drivers(frame, self.score_) if d in columns]
        stats = _filled_and_distinct(frame, candidates)
        for d in candidates:
            filled, distinct = stats[d]
            if filled < 1.0:
                self.notes_.append(f"{d} left out: asked in {filled:.0%} of the answers (pass it to use those "
                                   "answers only)")
            elif distinct < 2:
                self.notes_.append(f"{d} left out: the same for every answer")
            else:
                chosen.append(d)
        if not chosen:
            raise CxkitError("no candidate driver varies across the answers")
        return chosen

    @staticmethod
    def _categorical(frame, drivers) -> set:
        if isinstance(frame, pd.DataFrame):
            return {d for d in drivers if is_categorical(frame[d])}
        types = dict(zip(frame.columns, frame.types, strict=True))
        return {d for d in drivers if str(types[d]) in ("VARCHAR", "BOOLEAN") or str(types[d]).startswith("ENUM")}

    def _drop_dependent(self, pat, explicit: bool):
        """Leave out drivers that are sums of others (contact cost = counts x fixed costs), naming them."""
        while True:
            factor = centred_factor(pat.x, pat.counts)  # a few columns square, whatever the patterns
            rank = rank_of_factor(factor, len(pat.counts))
            if rank == pat.x.shape[1]:
                return pat
            if explicit:
                raise CxkitError("the drivers are linearly dependent (one is a sum of others, e.g. contact cost "
                                 "with fixed costs per kind): leave one out")
            # the last driver whose removal leaves independent columns (cost, listed after the counts, goes first)
            j = next((j for j in reversed(range(len(pat.drivers)))
                      if len(cols := [c for i, g in enumerate(pat.groups) if i != j for c in g]) == rank
                      and rank_of_factor(factor, len(pat.counts), cols) == rank), None)
            if j is None:
                raise CxkitError("the drivers are linearly dependent: pass a list of drivers without the duplicates")
            name = pat.drivers[j]
            self.notes_.append(f"{name} left out: it is fixed by the other drivers (a sum of them)")
            if not self.quiet:
                warn(f"{name} is fixed by the other drivers and was left out", stacklevel=3)
            pat = pat.without(j)

    def _bootstrap(self, pat, one):
        if self.n_boot == 0:
            return None, None, None
        rng = np.random.default_rng(self.seed)
        probs = pat.counts / pat.counts.sum()
        stacked = pat.z
        moments = None
        if one is linear_importance and len(pat.counts) >= FAST_PATTERNS:  # the same resample, drawn in blocks
            moments = resampled_moments(stacked, pat.counts, self.n_boot, rng)
        ws, r2s, cs = [], [], []
        for i in range(self.n_boot):
            try:
                if moments is not None:
                    weights, r2, coef = one(None, None, None, pat.groups, self.method,
                                            moments=(moments[0][i], moments[1][i], moments[2][i]))
                else:
                    w = rng.multinomial(pat.n, probs).astype(float)  # a resample of the answers: counts per pattern
                    weights, r2, coef = one(pat.y, pat.x, w, pat.groups, self.method, stacked)
            except CxkitError:
                continue  # a replicate where a rare driver does not vary or separates: skipped, counted below
            ws.append(weights), r2s.append(r2), cs.append(coef)
        if len(ws) < 0.9 * self.n_boot:
            self.notes_.append(f"only {len(ws)} of {self.n_boot} bootstrap replicates could be fitted: intervals "
                               "are rough")
        return np.array(ws), np.array(r2s), np.array(cs)

    def _tables(self, pat, weights, r2, coef, boot_w, boot_r2, boot_c):
        def interval(samples, j=None):
            if samples is None or len(samples) == 0:
                return np.nan, np.nan
            return self._percentiles(samples if j is None else samples[:, j])

        terms = []
        for j, name in enumerate(pat.columns):
            lo, hi = interval(boot_c, j)
            terms.append({"term": name, "coef": float(coef[j]), "lower": lo, "upper": hi})
        self.coefficients_ = pd.DataFrame(terms)
        rows = []
        for i, driver in enumerate(pat.drivers):
            lo, hi = interval(boot_w, i)
            cols = pat.groups[i]
            if driver in pat.reference:
                sign = "by level"
            else:
                sign = "+" if coef[cols[0]] > 0 else "-"
                if self.outcome in FLAGS:
                    sign = "-" if sign == "+" else "+"  # more of it, more low answers: a lower score
            rows.append({"driver": driver, "weight": float(weights[i]), "share": float(weights[i] / r2) if r2 else
                         np.nan, "lower": lo, "upper": hi, "sign": sign, "n": pat.n,
                         "distinguishable": self._distinguishable(coef[cols], None if boot_c is None else
                                                                  boot_c[:, cols])})
        self.importance_ = pd.DataFrame(rows).sort_values("weight", ascending=False, ignore_index=True)
        lo, hi = interval(boot_r2)
        self.r_squared_ = {"value": float(r2), "lower": lo, "upper": hi}

    def _percentiles(self, samples) -> tuple[float, float]:
        """The bootstrap percentile interval at this model's level."""
        lo, hi = np.percentile(samples, [100 * self.alpha / 2, 100 * (1 - self.alpha / 2)])
        return float(lo), float(hi)

    def _distinguishable(self, coef, samples):
        """Whether the driver's full-model effect differs from none: its interval (one column) or a Wald test
        with the bootstrap covariance (a categorical driver's dummies together)."""
        if samples is None or len(samples) < 20:
            return None
        from scipy import stats

        if len(coef) == 1:
            lo, hi = self._percentiles(samples[:, 0])
            return bool(lo > 0 or hi < 0)
        cov = np.cov(samples, rowvar=False)
        try:
            stat = float(coef @ np.linalg.solve(cov, coef))
        except np.linalg.LinAlgError:
            return None
        return bool(stats.chi2.sf(stat, len(coef)) < self.alpha)

    @property
    def summary(self) -> pd.DataFrame:
        """``importance_`` (one row per driver)."""
        return self.importance_

    def _notes(self) -> list[str]:
        r2 = self.r_squared_
        notes = [f"{self.n_:,} answers; outcome {OUTCOMES[self.outcome]}; "
                 f"{'relative weights' if self.method == 'relative_weights' else 'general dominance'}; "
                 f"R² {r2['value']:.3f}" + (f" ({round(100 * (1 - self.alpha))}% CI {r2['lower']:.3f} to "
                                            f"{r2['upper']:.3f})"
                                            if np.isfinite(r2["lower"]) else "") + "."]
        notes += ["Associations in these answers, not proof of cause."]
        return notes + list(self.notes_)

    def _repr_html_(self) -> str:
        if not hasattr(self, "importance_"):
            return unfitted_html(repr(self), "fit(frame, drivers)")
        return html_block("Key drivers", self.importance_, self._notes(), digits=3, read_next={
            "importance_": "each driver's share of R², with its interval", "coefficients_": "the regression's "
            "coefficients", "r_squared_": "how much of the score the drivers explain", "plot()": "the chart"})

    def plot(self, ax=None, **kwargs):
        """Bar chart of each driver's share of R² with its interval (see :func:`cxkit.plots.plot_drivers`)."""
        from cxkit.drawing import draw

        return draw("plot_drivers", self, ax=ax, **kwargs)

    def __repr__(self) -> str:
        fitted = f" fitted on {self.n_:,} answers" if hasattr(self, "n_") else "  # unfitted"
        return f"KeyDrivers(outcome={self.outcome!r}, method={self.method!r}){fitted}"


def _filled_and_distinct(frame, columns) -> dict:
    """Column -> (share of answers filled in, distinct values), in one pass over a DuckDB relation (a frame of
    patterns, with :data:`~cxkit.drivers.frame.ANSWER_COUNT`, weighted by its counts)."""
    counted = ANSWER_COUNT in frame.columns
    if isinstance(frame, pd.DataFrame):
        w = frame[ANSWER_COUNT].to_numpy(dtype=float) if counted else np.ones(len(frame))
        n = w.sum()
        return {c: ((float(w[frame[c].notna().to_numpy()].sum() / n) if n else 0.0), int(frame[c].nunique()))
                for c in columns}
    from cxkit.sql import ident

    if not columns:
        return {}
    if counted:
        n = ident(ANSWER_COUNT)
        parts = ", ".join(f"coalesce(sum({n}) FILTER (WHERE {ident(c)} IS NOT NULL), 0), count(DISTINCT {ident(c)})"
                          for c in columns)
        row = frame.aggregate(f"coalesce(sum({n}), 0), {parts}").fetchone()
    else:
        parts = ", ".join(f"count({ident(c)}), count(DISTINCT {ident(c)})" for c in columns)
        row = frame.aggregate(f"count(*), {parts}").fetchone()
    total = row[0]
    return {c: ((row[1 + 2 * i] / total if total else 0.0), int(row[2 + 2 * i])) for i, c in enumerate(columns)}
