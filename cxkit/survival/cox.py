"""Cox proportional hazards with exact Efron (or Breslow) ties, delayed entry and honest handling of separation.

Rows are first collapsed (in DuckDB) to distinct combinations of covariates,
entry, exit and event with a count; because Efron's correction runs over every
tied event, the fit equals the row-level one, at a fraction of the cost when
covariates are categorical (bands, plans, regions).

A categorical level without a single churn event has an infinite coefficient
(the likelihood keeps rising as its hazard ratio goes to zero). Such a level is
reported as "no events: hazard ratio not estimable", its customers are left out
of the fit (exactly the limit of the likelihood as that coefficient goes to
minus infinity), and a :class:`~cxkit.errors.CxkitWarning` explains it.

Examples
--------
>>> import pandas as pd
>>> from lifelines.datasets import load_rossi
>>> c = CoxModel().fit(load_rossi(), "week", "arrest", covariates=["fin", "age", "prio"])
>>> float(round(c.summary.loc["prio", "hazard_ratio"], 3))
1.102
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from scipy import stats

from cxkit._display import html_block, unfitted_html
from cxkit.errors import CxkitError, NotEstimable, warn
from cxkit.survival._cox_math import CoxArrays, efron, newton, weighted_information
from cxkit.survival.lifetable import SqlSource, _q
from cxkit.survival.logrank import format_p

__all__ = ["CoxModel"]

_PH_TESTS = ("score", "approximate")
_TIES = ("efron", "breslow")
_DIVERGED = 15.0  # |coef| x the covariate's spread beyond this means a monotone likelihood


def _natural(values) -> list[str]:
    def key(v):
        try:
            return (0, float(v), "")
        except ValueError:
            return (1, 0.0, v)

    return sorted((str(v) for v in values), key=key)


class CoxModel:
    """Cox proportional hazards model, shaped like lifelines' ``CoxPHFitter``.

    Parameters
    ----------
    alpha : float
        1 - confidence level of the hazard-ratio intervals.
    reference : dict, optional
        ``{column: level}`` reference level of categorical covariates; default the
        first level in sorted order.
    max_iter : int
        Newton-Raphson iterations allowed.
    clock : str, optional
        How time was measured, stated in the summary notes.
    ties : {"efron", "breslow"}
        How tied event times share the risk set, as R's ``coxph(ties=)``: Efron's correction (R's default)
        or Breslow's (every tied event sees the whole risk set). The baseline curve follows (R's
        ``survfit``: Efron's or Breslow's hazard).
    ph_test : {"score", "approximate"}
        The proportional-hazards test: ``"score"`` is R's ``cox.zph`` since survival 3.0 (a score test
        of adding x * g(t) to the model, what R users run today); ``"approximate"`` is ``cox.zph`` before
        3.0 (the same score with the information approximated from the fit's variance).
    strata : list of str, optional
        Columns whose every combination gets its own baseline hazard (R's ``+ strata(x)``); they get no
        coefficient. The fit stays exact on collapsed patterns: each stratum's rows are moved to a time
        range of their own, entering at its start, so risk sets never mix strata.
    quiet : bool
        Problems (a column with one value or a combination of others, separation, no convergence) are only
        recorded in ``not_estimable_`` and ``converged_``, without a warning: for a caller that reads them
        itself, such as work in a thread, where changing the warnings filters is not safe.

    Attributes
    ----------
    summary : DataFrame
        Indexed by term (``plan[Pro]``, ``age``): ``coef, se, hazard_ratio, lower, upper, z, p_value, note``.
    params_, standard_errors_ : Series
    variance_matrix_ : DataFrame
    concordance_, concordance_se_ : float
        Harrell's C as R's ``coxph`` reports it (tied risk scores count one half), and its standard error
        (R's infinitesimal jackknife, ``fit$concordance["std"]``).
    likelihood_ratio_test_, wald_test_, score_test_ : StatisticalResult
        The three tests that every coefficient is 0, as R's ``summary(coxph)``; ``global_tests_`` lists them.
    log_likelihood_, log_likelihood_null_ : float
    ph_test_ : DataFrame
        Per covariate: ``covariate, statistic, dof, p_value, holds, message``, and a ``GLOBAL`` row: the
        test of proportional hazards chosen by ``ph_test``, on g(t) = 1 - KM(t-) as R's
        ``cox.zph(transform="km")``; ``ph_test_name_`` says which it is.
    not_estimable_ : dict
        Term -> reason, for terms without a finite estimate.
    reference_ : dict
        Reference level used for each categorical covariate.
    n_rows_, n_events_ : float
        Subjects and events used in the fit.
    baseline_survival_ : DataFrame
        ``stratum, time, cumulative_hazard, survival, se, lower, upper`` at each event time, for a customer
        at ``centre_`` (R's ``survfit(fit)``); ``stratum`` is ``"all"`` without strata. ``se`` is the
        standard error of the cumulative hazard, the limits R's default ``conf.type="log"``.
    centre_ : Series
        Per term, the covariate value of the baseline curve, as R 3.x's ``fit$means``: 0 for a column
        holding only -1, 0 and 1 (every dummy, every 0/1 flag), the mean for any other column.
    strata_ : list of str
        The strata, as ``"value"`` (or ``"a, b"`` for several columns), in sorted order.
    """

    def __init__(self, alpha: float = 0.05, reference: dict | None = None, max_iter: int = 50,
                 clock: str | None = None, strata: list[str] | None = None, ph_test: str = "score",
                 ties: str = "efron", quiet: bool = False):
        if ph_test not in _PH_TESTS:
            raise ValueError(f"ph_test must be one of {', '.join(map(repr, _PH_TESTS))}, not {ph_test!r}")
        if ties not in _TIES:
            raise ValueError(f"ties must be one of {', '.join(map(repr, _TIES))}, not {ties!r}")
        self.alpha, self.reference, self.max_iter, self.clock = alpha, dict(reference or {}), max_iter, clock
        self.ph_test, self.ties, self.quiet = ph_test, ties, bool(quiet)
        if isinstance(strata, str):
            strata = [strata]
        self.strata = list(strata or [])

    def fit(self, df, duration_col: str, event_col: str, covariates: list[str], entry_col: str | None = None,
            weights_col: str | None = None) -> CoxModel:
        """Fit the model.

        Parameters
        ----------
        df : DataFrame or duckdb.DuckDBPyRelation
            One row per subject (or per pattern, with whole-number counts in ``weights_col``).
        duration_col, event_col : str
            Exit time and event flag (1 or True churned, 0 or False censored; anything else is refused).
        covariates : list of str
            Text, categorical or boolean columns become dummies against a reference level;
            numeric columns enter as they are.
        entry_col : str, optional
            Entry time for delayed entry (left truncation).
        weights_col : str, optional
            Whole-number frequency of each row.
        """
        covariates = list(covariates)
        if not covariates:
            raise CxkitError("Cox model: name at least one covariate")
        both = set(covariates) & set(self.strata)
        if both:
            raise CxkitError(f"Cox model: {sorted(both)} cannot be both a covariate and a stratum")
        rows, kinds = _collapse(df, duration_col, event_col, [*covariates, *self.strata], entry_col, weights_col,
                                categorical=self.strata)
        return self.fit_patterns(rows, covariates, kinds, entry_col is not None)

    def fit_patterns(self, rows: pd.DataFrame, covariates: list[str], kinds: dict, has_entry: bool = False):
        """Fit from collapsed rows (``_stop, _event, _entry, _w`` and the covariates), counted anywhere.

        See :func:`cxkit.aggregate.patterns_sql` and :class:`cxkit.warehouse.Warehouse`.
        """
        if "_ev_w" not in rows:
            rows, kinds = prepare_patterns(rows, kinds, has_entry)
        self.not_estimable_, self.reference_ = {}, {}
        self._kinds, self._has_entry = dict(kinds), has_entry
        rows = self._drop_separated(rows, list(covariates), kinds)
        rows, has_entry = self._stratify(rows, has_entry)
        x, terms, term_cov = self._design(rows, list(covariates), kinds)
        x, terms, term_cov = self._drop_constant(x, terms, term_cov)
        self._fit_arrays(x, rows, terms, term_cov, has_entry)
        self._baseline()
        return self

    def fit_risk_sets(self, patterns: pd.DataFrame, at_risk: np.ndarray, events: np.ndarray, covariates: list[str],
                      categorical=(), n_rows: float | None = None) -> CoxModel:
        """Fit from each event time's risk set, counted per covariate pattern (the same fit as on the rows).

        Parameters
        ----------
        patterns : DataFrame
            One row per covariate pattern: the covariates.
        at_risk, events : array (event times, patterns)
            Subjects of each pattern at risk, and departures among them, at each event time (in time order).
        covariates : list of str
        categorical : list of str
            Covariates read as categories (the others are numbers).
        n_rows : float, optional
            Subjects (or spells) the counts stand for, as ``n_rows_``.

        Notes
        -----
        Only the coefficients, their variance, the likelihood and the global tests are fitted: the
        concordance, the proportional-hazards test and the baseline curve need each subject's own times
        (``concordance_`` is NaN, ``ph_test_`` and ``baseline_survival_`` None).
        """
        from cxkit.survival._cox_counts import RiskSetArrays, efron_counts

        if self.strata:
            raise CxkitError("Cox model: strata are not supported on risk-set counts")
        covariates = list(covariates)
        kinds = {c: "categorical" if c in categorical else "numeric" for c in covariates}
        at_risk, events = np.asarray(at_risk, dtype=float), np.asarray(events, dtype=float)
        rows = patterns[covariates].reset_index(drop=True).copy()
        for c in covariates:
            rows[c] = rows[c].astype(str) if kinds[c] == "categorical" else rows[c].astype(float)
        rows["_w"], rows["_ev_w"], rows["_pattern"] = at_risk.sum(axis=0), events.sum(axis=0), np.arange(len(rows))
        self.not_estimable_, self.reference_ = {}, {}
        self._kinds, self._has_entry = kinds, True
        rows = self._drop_separated(rows, covariates, kinds)
        keep = rows["_pattern"].to_numpy()
        self.strata_, self._span = ["all"], 0.0
        x, terms, term_cov = self._design(rows, covariates, kinds)
        x, terms, term_cov = self._drop_constant(x, terms, term_cov)
        w = rows["_w"].to_numpy(dtype=float)
        self._means = (w @ x) / w.sum()
        only_signs = np.all(np.isin(x, (-1.0, 0.0, 1.0)), axis=0) if len(x) else np.zeros(x.shape[1], dtype=bool)
        self.centre_ = pd.Series(np.where(only_signs, 0.0, self._means), index=terms, name="centre")
        arrays = RiskSetArrays(x - self._means, at_risk[:, keep], events[:, keep], self.ties == "breslow")
        if arrays.deaths.sum() == 0:
            raise NotEstimable("Cox model: there are no churn events to model")
        self._estimate(arrays, efron_counts, terms, float(w.sum() if n_rows is None else n_rows))
        self.concordance_ = self.concordance_se_ = np.nan
        self.ph_test_ = self.baseline_survival_ = None
        self._terms, self._term_cov = terms, term_cov
        return self

    def _stratify(self, rows: pd.DataFrame, has_entry: bool):
        """Each stratum's rows moved to a time range of their own, entering at its start (exact)."""
        self._original = rows[["_stop", "_entry", "_event", "_w"]].copy()
        if not self.strata:
            self.strata_, self._span, self._code = ["all"], 0.0, np.zeros(len(rows), dtype=int)
            return rows, has_entry
        label = rows[self.strata].astype(str).agg(", ".join, axis=1)
        self.strata_ = _natural(label.unique())
        self._code = label.map({v: i for i, v in enumerate(self.strata_)}).to_numpy()
        self._span = float(max(rows["_stop"].max(), rows["_entry"].max(), 0.0)) + 1.0
        rows = rows.copy()
        offset = self._code * self._span
        rows["_stop"] = rows["_stop"] + offset
        rows["_entry"] = (rows["_entry"] if has_entry else 0.0) + offset
        return rows, True

    def _warn(self, message: str, stacklevel: int = 4) -> None:
        """A problem with the fit, as a :class:`CxkitWarning` unless ``quiet`` (it is recorded either way)."""
        if not self.quiet:
            warn(message, stacklevel=stacklevel)

    def _drop_constant(self, x, terms, term_cov):
        """Columns that explain nothing are left out with a warning, as R leaves them NA: one value in every
        row, or (aliased) a linear combination of the columns before them."""
        constant = [j for j in range(x.shape[1]) if len(x) and np.ptp(x[:, j]) == 0]
        for j in constant:
            self.not_estimable_[terms[j]] = "the same value for every customer: left out of the fit"
        if constant:
            self._warn(f"Cox model: {', '.join(terms[j] for j in constant)} takes one value in every row and "
                       "is left out of the fit (its hazard ratio is not estimable; R reports NA)")
        keep = [j for j in range(x.shape[1]) if j not in constant]
        if keep:  # aliased columns, in order, as R's pivoting finds them
            centred = x[:, keep] - x[:, keep].mean(axis=0)
            gram = centred.T @ centred
            scale = np.sqrt(np.maximum(np.diag(gram), 1e-300))
            gram = gram / np.outer(scale, scale)
            chosen, aliased = [], []
            for a, j in enumerate(keep):
                trial = [*chosen, a]
                if np.linalg.matrix_rank(gram[np.ix_(trial, trial)], tol=1e-10) == len(trial):
                    chosen.append(a)
                else:
                    aliased.append(j)
            for j in aliased:
                self.not_estimable_[terms[j]] = "a combination of the other columns: left out of the fit"
            if aliased:
                self._warn(f"Cox model: {', '.join(terms[j] for j in aliased)} is a linear combination of "
                           "other columns and is left out of the fit (R reports NA)")
            keep = [keep[a] for a in chosen]
        if not keep:
            raise NotEstimable("Cox model: every covariate takes one value in every row; there is nothing to model")
        if len(keep) == x.shape[1]:
            return x, terms, term_cov
        return x[:, keep], [terms[j] for j in keep], [term_cov[j] for j in keep]

    def _drop_separated(self, rows: pd.DataFrame, covariates, kinds) -> pd.DataFrame:
        messages = []
        for col in covariates:
            if kinds[col] != "categorical":
                continue
            by_level = rows.groupby(col, observed=True).agg(n=("_w", "sum"), events=("_ev_w", "sum"))
            empty = [lvl for lvl in _natural(by_level.index) if by_level.loc[lvl, "events"] == 0]
            if not empty or len(empty) == len(by_level):
                continue
            for lvl in empty:
                self.not_estimable_[f"{col}[{lvl}]"] = "no events: hazard ratio not estimable"
                messages.append(f"{col} = {lvl!r} has no churn events among {by_level.loc[lvl, 'n']:,.0f} "
                                "customers")
            rows = rows[~rows[col].isin(empty)]
        if messages:
            self._warn("separation in the Cox model: " + "; ".join(messages) + ". Their hazard ratio is "
                       "zero in the limit and cannot be estimated: they are reported as 'not estimable' and "
                       "left out of the fit, whose other hazard ratios compare the remaining customers.")
        return rows

    def _design(self, rows: pd.DataFrame, covariates, kinds):
        columns, terms, term_cov = [], [], []
        for col in covariates:
            if kinds[col] == "numeric":
                columns.append(rows[col].to_numpy(dtype=float))
                terms.append(col)
                term_cov.append(col)
                continue
            levels = _natural(rows[col].unique())
            ref = str(self.reference.get(col, levels[0]))
            if col in self.reference and ref not in levels:
                raise NotEstimable(f"Cox model: reference level {ref!r} of {col!r} is not in the data "
                                 f"(levels: {', '.join(levels)})")
            self.reference_[col] = ref
            for lvl in levels:
                if lvl != ref:
                    columns.append((rows[col].to_numpy() == lvl).astype(float))
                    terms.append(f"{col}[{lvl}]")
                    term_cov.append(col)
        x = np.column_stack(columns) if columns else np.zeros((len(rows), 0))
        return x, terms, term_cov

    # ---------------------------------------------------------------- fitting
    def _fit_arrays(self, x, rows, terms, term_cov, has_entry: bool) -> None:
        w = rows["_w"].to_numpy(dtype=float)
        means = (w @ x) / w.sum()
        self._means = means  # the fit runs on columns centred at their means (numerically best)
        only_signs = np.all(np.isin(x, (-1.0, 0.0, 1.0)), axis=0) if len(x) else np.zeros(x.shape[1], dtype=bool)
        self.centre_ = pd.Series(np.where(only_signs, 0.0, means), index=terms, name="centre")
        arrays = CoxArrays(x - means, w, rows["_stop"].to_numpy(dtype=float), rows["_event"].to_numpy() == 1,
                           rows["_entry"].to_numpy(dtype=float) if has_entry else None, self.ties == "breslow")
        if arrays.ev.size == 0:
            raise NotEstimable("Cox model: there are no churn events to model")
        self._estimate(arrays, efron, terms, float(w.sum()))
        self.concordance_, self.concordance_se_ = _concordance(arrays, x @ self.params_.to_numpy())
        self.ph_test_ = self._ph_test(term_cov)
        self._terms, self._term_cov = terms, term_cov

    def _estimate(self, arrays, evaluate, terms, n_rows: float) -> None:
        """Newton-Raphson on ``evaluate``'s likelihood of ``arrays``; the coefficients, their variance, the
        likelihoods and the terms that did not converge."""
        p = arrays.x.shape[1]
        null = evaluate(arrays, np.zeros(p))  # the likelihood, score and information of beta = 0
        beta, at_beta, iterations, converged = newton(arrays, p, self.max_iter, start=null, evaluate=evaluate)
        try:
            variance = np.linalg.inv(at_beta["information"])
        except np.linalg.LinAlgError:
            raise CxkitError("Cox model: covariates are collinear (the information matrix is singular); "
                             f"drop one of {terms}") from None
        se = np.sqrt(np.diag(variance))
        self._arrays, self._at_beta = arrays, at_beta
        self.params_ = pd.Series(beta, index=terms, name="coef")
        self.standard_errors_ = pd.Series(se, index=terms, name="se")
        self.variance_matrix_ = pd.DataFrame(variance, index=terms, columns=terms)
        self.log_likelihood_, self.log_likelihood_null_ = at_beta["loglik"], null["loglik"]
        try:  # R's score test: the score at beta = 0 against its information there
            self._score_statistic = float(null["score"] @ np.linalg.solve(null["information"], null["score"]))
        except np.linalg.LinAlgError:
            self._score_statistic = np.nan
        self.n_rows_, self.n_events_ = n_rows, float(arrays.deaths.sum())
        self.iterations_, self.converged_ = iterations, converged
        spread = np.max(np.abs(arrays.x), axis=0) if len(arrays.x) else np.ones(len(terms))
        diverged = [t for t, b, sd, sp in zip(terms, beta, se, spread, strict=True)
                    if abs(b) * sp > _DIVERGED or not np.isfinite(sd)]
        for t in diverged:
            self.not_estimable_[t] = "monotone likelihood: hazard ratio not estimable"
        if diverged or not converged:
            self._warn(f"the Cox model did not converge to finite estimates for {diverged or terms}; "
                       "they are reported as not estimable", stacklevel=5)

    def _km_before(self, times) -> np.ndarray:
        """The Kaplan-Meier of every row, strata ignored, just before each of ``times``."""
        o = self._original
        stop, w = o["_stop"].to_numpy(), o["_w"].to_numpy()
        entry = o["_entry"].to_numpy() if self._has_entry else np.full(stop.size, -np.inf)
        event_times = np.unique(stop[o["_event"].to_numpy() == 1])
        deaths = np.bincount(np.searchsorted(event_times, stop[o["_event"].to_numpy() == 1]),
                             weights=w[o["_event"].to_numpy() == 1], minlength=event_times.size)
        gone = np.concatenate([[0.0], np.cumsum(w[np.argsort(stop)])])[np.searchsorted(np.sort(stop), event_times)]
        came = np.concatenate([[0.0], np.cumsum(w[np.argsort(entry)])])[np.searchsorted(np.sort(entry), event_times)]
        km = np.cumprod(1 - deaths / (came - gone))
        before = np.concatenate([[1.0], km])
        return before[np.searchsorted(event_times, times, side="left")]

    # ------------------------------------------------------ baseline and curves
    def _baseline(self) -> None:
        """The baseline curve per stratum at R's centre (R's ``survfit(fit)``), with its SE and limits.

        R (survival 3.x) centres a column holding only -1, 0 and 1 (every dummy) at 0 and every other
        column at its mean; ``survfit(fit)`` is the curve of that covariate vector.
        """
        a, res = self._arrays, self._at_beta
        stratum = (np.floor(a.tau / self._span).astype(int) if self._span else np.zeros(a.tau.size, dtype=int))
        self._tau_stratum = stratum
        self._tau_time = a.tau - stratum * self._span if self._span else a.tau
        self._d_gradient = res["s1"] * res["a2"][:, None] - res["e1"] * res["b2"][:, None]
        z = self.centre_.to_numpy() - self._means
        rows = [self._curve(z, k, None).assign(stratum=name) for k, name in enumerate(self.strata_)]
        cols = ["stratum", "time", "cumulative_hazard", "survival", "se", "lower", "upper"]
        self.baseline_survival_ = pd.concat(rows, ignore_index=True)[cols]

    def _curve(self, z: np.ndarray, k: int, times) -> pd.DataFrame:
        """The curve of one design row ``z`` (centred at the fit's means) in stratum ``k``.

        ``se`` is the standard error of the cumulative hazard (the baseline's variance plus the
        coefficients' uncertainty); the limits are R's default ``conf.type="log"``.
        """
        res = self._at_beta
        mine = self._tau_stratum == k
        hazard0 = np.cumsum(res["a1"][mine])
        grad = z[None, :] * hazard0[:, None] - np.cumsum(self._d_gradient[mine], axis=0)
        v = self.variance_matrix_.to_numpy()
        with np.errstate(over="ignore", invalid="ignore"):  # a diverged fit (flagged already) gives inf, not a warning
            risk = float(np.exp(z @ self.params_.to_numpy()))
            var = risk ** 2 * (np.cumsum(res["a2"][mine]) + np.einsum("ij,jk,ik->i", grad, v, grad))
        t = self._tau_time[mine]
        curve = pd.DataFrame({"time": t, "cumulative_hazard": risk * hazard0, "se": np.sqrt(var)})
        if times is not None:
            at = np.searchsorted(t, np.asarray(times, dtype=float), side="right") - 1
            picked = curve.iloc[np.maximum(at, 0)].reset_index(drop=True)
            picked.loc[at < 0, ["cumulative_hazard", "se"]] = 0.0
            picked["time"] = np.asarray(times, dtype=float)
            curve = picked
        z_crit = stats.norm.ppf(1 - self.alpha / 2)
        with np.errstate(over="ignore", invalid="ignore"):
            surv = np.exp(-curve["cumulative_hazard"].to_numpy())
            curve["survival"] = surv
            curve["lower"] = surv * np.exp(-z_crit * curve["se"].to_numpy())
            curve["upper"] = np.minimum(1.0, surv * np.exp(z_crit * curve["se"].to_numpy()))
        return curve

    def _new_design(self, frame: pd.DataFrame) -> np.ndarray:
        """The fitted terms' columns for new covariate values, centred at the fit's means."""
        columns = []
        for term, col in zip(self._terms, self._term_cov, strict=True):
            if col not in frame:
                raise CxkitError(f"Cox model: predict_survival needs a value of {col!r} for each row")
            if self._kinds.get(col) == "numeric":
                columns.append(frame[col].to_numpy(dtype=float))
            else:
                level = term[len(col) + 1:-1]
                columns.append((frame[col].astype(str).to_numpy() == level).astype(float))
        x = np.column_stack(columns) if columns else np.zeros((len(frame), 0))
        return x - self._means

    def predict_survival(self, covariates: pd.DataFrame, times=None) -> pd.DataFrame:
        """Survival curves for given covariate values, with standard errors (R's ``survfit(fit, newdata)``).

        Parameters
        ----------
        covariates : DataFrame
            One row per customer profile (``{"plan": ["Basic"], "segment": ["detractor"]}``), every
            covariate of the model. With strata, a row that names its stratum columns gets that stratum's
            curve; otherwise every stratum's.
        times : sequence, optional
            Times to report (step function); default every event time of the stratum.

        Returns
        -------
        DataFrame
            ``row, stratum, time, cumulative_hazard, survival, se, lower, upper``: ``se`` is the standard
            error of the cumulative hazard (Efron's variance with the coefficients' uncertainty), and the
            limits are R's default ``conf.type="log"``.
        """
        frame = pd.DataFrame(covariates).reset_index(drop=True)
        z = self._new_design(frame)
        own = all(c in frame for c in self.strata) and bool(self.strata)
        labels = frame[self.strata].astype(str).agg(", ".join, axis=1) if own else None
        out = []
        for i in range(len(frame)):
            for name in ([labels[i]] if own else self.strata_):
                if name not in self.strata_:
                    raise CxkitError(f"Cox model: stratum {name!r} is not in the fit ({', '.join(self.strata_)})")
                out.append(self._curve(z[i], self.strata_.index(name), times).assign(row=i, stratum=name))
        cols = ["row", "stratum", "time", "cumulative_hazard", "survival", "se", "lower", "upper"]
        return pd.concat(out, ignore_index=True)[cols]

    @property
    def summary(self) -> pd.DataFrame:
        """Hazard ratios with intervals and p-values, one row per term (not-estimable terms included)."""
        z_crit = stats.norm.ppf(1 - self.alpha / 2)
        coef, se = self.params_, self.standard_errors_
        out = pd.DataFrame({"coef": coef, "se": se, "hazard_ratio": np.exp(coef),
                            "lower": np.exp(coef - z_crit * se), "upper": np.exp(coef + z_crit * se),
                            "z": coef / se, "p_value": 2 * stats.norm.sf(np.abs(coef / se)), "note": ""})
        for term, reason in self.not_estimable_.items():
            out.loc[term, ["coef", "se", "hazard_ratio", "lower", "upper", "z", "p_value"]] = np.nan
            out.loc[term, "note"] = reason
        out.index.name = "term"
        return out

    @property
    def likelihood_ratio_test_(self):
        """Likelihood-ratio test that every coefficient is 0 (R's ``summary(coxph)`` "Likelihood ratio test")."""
        stat = 2 * (self.log_likelihood_ - self.log_likelihood_null_)
        return self._global_test(stat, "likelihood-ratio test")

    @property
    def wald_test_(self):
        """Wald test that every coefficient is 0 (R's "Wald test"): beta' V^-1 beta."""
        beta = self.params_.to_numpy()
        return self._global_test(float(beta @ np.linalg.solve(self.variance_matrix_.to_numpy(), beta)), "Wald test")

    @property
    def score_test_(self):
        """Score (log-rank) test that every coefficient is 0 (R's "Score (logrank) test"), at beta = 0."""
        return self._global_test(self._score_statistic, "score (log-rank) test")

    @property
    def global_tests_(self) -> pd.DataFrame:
        """The three tests that every coefficient is 0, as R's ``summary(coxph)`` prints them."""
        return pd.concat([t.summary for t in (self.likelihood_ratio_test_, self.wald_test_, self.score_test_)],
                         ignore_index=True)

    def _global_test(self, stat: float, name: str):
        from cxkit.survival.logrank import StatisticalResult

        dof = len(self.params_)
        return StatisticalResult(stat, dof, float(stats.chi2.sf(stat, dof)), name)

    # --------------------------------------------------------- PH assumption
    def _ph_test(self, term_cov) -> pd.DataFrame:
        """Test of proportional hazards per term and global, on g(t) = 1 - KM(t-) (R's transform "km").

        ``"score"`` (R's ``cox.zph`` since survival 3.0): the score test of adding ``x * g(t)`` for a term's
        columns to the fitted model, with the full information of the enlarged model. ``"approximate"``
        (``cox.zph`` before 3.0): the same score with the enlarged model's information approximated from the
        fit's variance and the spread of g over the events. A term of several columns (a categorical
        covariate) gets one test on its block.
        """
        a, res = self._arrays, self._at_beta
        deaths = a.deaths
        # 1 minus the left-continuous KM, KM(t-), of all customers on the original time scale (strata
        # ignored, as R does), centred at its mean over the events
        g = 1 - self._km_before(a.tau - np.floor(a.tau / self._span) * self._span if self._span else a.tau)
        g = g - np.sum(deaths * g) / deaths.sum()
        x_events = np.stack([np.bincount(a.k_ev, weights=a.w[a.ev] * a.x[a.ev, j], minlength=a.tau.size)
                             for j in range(a.x.shape[1])], axis=1)
        schoenfeld = x_events - (res["s1"] * res["a1"][:, None] - res["e1"] * res["b1"][:, None])
        u = g @ schoenfeld
        p = u.size
        v = self.variance_matrix_.to_numpy()
        if self.ph_test == "score":
            info_g = weighted_information(a, res, g)
            info = np.block([[res["information"], info_g], [info_g, weighted_information(a, res, g * g)]])

            def statistic(idx):
                kk = np.concatenate([np.arange(p), p + idx])
                full = np.concatenate([np.zeros(p), u[idx]])
                return float(full @ np.linalg.solve(info[np.ix_(kk, kk)], full))
        else:
            vu = v @ u
            spread = np.sum(deaths * g ** 2)

            def statistic(idx):
                return float(deaths.sum() * vu[idx] @ np.linalg.solve(v[np.ix_(idx, idx)], vu[idx]) / spread)
        rows = []
        term_cov = np.array(term_cov)
        for cov in pd.unique(term_cov):
            idx = np.flatnonzero(term_cov == cov)
            stat = statistic(idx)
            p_value = float(stats.chi2.sf(stat, idx.size))
            holds = p_value >= self.alpha
            shown = "p < 0.001" if p_value < 0.001 else f"p = {format_p(p_value)}"
            message = ("proportional hazards hold" if holds else
                       f"the effect of {cov} changes over time ({shown}): read its hazard ratio "
                       "as an average over the follow-up, and look at the Kaplan-Meier curves")
            rows.append({"covariate": cov, "statistic": stat, "dof": idx.size, "p_value": p_value, "holds": holds,
                         "message": message})
        stat = statistic(np.arange(p))
        rows.append({"covariate": "GLOBAL", "statistic": stat, "dof": p,
                     "p_value": float(stats.chi2.sf(stat, p)), "holds": None, "message": ""})
        return pd.DataFrame(rows)

    @property
    def ph_test_name_(self) -> str:
        """Which proportional-hazards test ``ph_test_`` holds, in words (for method notes)."""
        return ("the score test of R's cox.zph (survival 3.0 and later)" if self.ph_test == "score" else
                "the approximate test of R's cox.zph before survival 3.0")

    # -------------------------------------------------------------- display
    def _notes(self) -> list[str]:
        notes = [f"{self.n_rows_:,.0f} customers, {self.n_events_:,.0f} churn events; {self.ties.title()} ties; "
                 f"concordance {self.concordance_:.3f} (SE {self.concordance_se_:.3f})."]
        notes += [f"Reference levels: {', '.join(f'{k} = {v}' for k, v in self.reference_.items())}."] \
            if self.reference_ else []
        if self.clock:
            notes.append(f"Clock: {self.clock}")
        notes += [f"{r.covariate}: {r.message}." for r in self.ph_test_.itertuples() if r.holds is False]
        return notes

    def _repr_html_(self) -> str:
        if not hasattr(self, "params_"):
            return unfitted_html(repr(self), "fit(frame, duration_col, event_col, covariates)")
        table = self.summary.reset_index()[["term", "hazard_ratio", "lower", "upper", "p_value", "note"]]
        return html_block("Cox proportional hazards", table, self._notes(), digits=3, read_next={
            "summary": "coefficients, standard errors and hazard ratios", "ph_test_": "whether each hazard is "
            "proportional over time", "reference_": "the reference level of each categorical covariate",
            "predict_survival(covariates)": "survival curves for given customers", "plot()": "the forest plot"})

    def plot(self, ax=None, **kwargs):
        """Hazard-ratio forest plot (see :func:`cxkit.plots.plot_forest`)."""
        from cxkit.drawing import draw

        return draw("plot_forest", self, ax=ax, **kwargs)

    def __repr__(self) -> str:
        if not hasattr(self, "params_"):
            return f"CoxModel(alpha={self.alpha})  # unfitted"
        terms = list(self.params_.index)
        shown = ", ".join(terms[:4]) + (f" and {len(terms) - 4} more" if len(terms) > 4 else "")
        return (f"CoxModel(alpha={self.alpha}): {self.n_rows_:,.0f} rows, {self.n_events_:,.0f} events; "
                f"hazard ratios of {shown}")


def _collapse(df, duration_col, event_col, covariates, entry_col, weights_col, categorical=()):
    """Distinct (covariates, entry, exit, event) rows with their counts, computed in DuckDB.

    ``categorical``: columns read as categories whatever their type (strata such as a 1/2 treatment code).
    """
    needed = [c for c in [duration_col, event_col, entry_col, weights_col, *covariates] if c]
    src = SqlSource(df, needed, "Cox model")
    types = {r[0]: r[1] for r in src.rows("DESCRIBE SELECT * FROM _src")}
    kinds = {}
    for col in covariates:
        # signed and unsigned integers (UTINYINT, USMALLINT, UBIGINT, ...), floats and decimals are numbers
        numeric = re.match(r"U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?\b|DOUBLE|FLOAT|REAL|DECIMAL", types[col])
        kinds[col] = "numeric" if numeric and col not in categorical else "categorical"
    src.check_events(event_col, "Cox model")
    missing = src.rows("SELECT " + ", ".join(f"count(*) FILTER (WHERE {_q(c)} IS NULL)" for c in needed)
                       + " FROM _src")[0]
    bad = {c: n for c, n in zip(needed, missing, strict=True) if n}
    if bad:
        raise CxkitError("Cox model: missing values in " + ", ".join(f"{c} ({n:,} rows)" for c, n in bad.items()))
    from cxkit.aggregate import patterns_sql

    rows = src.df(patterns_sql("_src", duration_col, event_col, kinds, entry_col, weights_col))
    return prepare_patterns(rows, kinds, entry_col is not None, event_col)


def prepare_patterns(rows: pd.DataFrame, kinds: dict, has_entry: bool, event_col: str = "event"):
    """Checks and sorting of collapsed rows, wherever they were counted (``event_col`` named in errors)."""
    rows = rows.astype({c: float for c in ("_stop", "_entry", "_w")} | {"_event": float}
                       | {c: float for c, kind in kinds.items() if kind == "numeric"})  # engines differ in types
    bad = ~rows["_event"].isin([0.0, 1.0])
    if bad.any():  # the same rule and message as every other estimator (a 1/2 coding is refused, not guessed)
        from cxkit.survival.lifetable import event_flag_error

        counts = rows[bad].groupby("_event", dropna=False)["_w"].sum().sort_values(ascending=False)
        raise event_flag_error({None if v != v else int(v) if float(v).is_integer() else v: c
                                for v, c in counts.items()}, event_col, "Cox model")
    rows["_event"] = rows["_event"].astype(int)
    rows = rows.sort_values(list(rows.columns), ignore_index=True)  # the same order from any engine
    if has_entry and (rows["_entry"] >= rows["_stop"]).any():
        raise CxkitError("Cox model: entry time not before exit time in "
                         f"{int(rows.loc[rows['_entry'] >= rows['_stop'], '_w'].sum()):,} rows")
    rows["_ev_w"] = rows["_w"] * rows["_event"]
    return rows, kinds


def _concordance(arrays: CoxArrays, risk: np.ndarray) -> tuple[float, float]:
    """Harrell's C over risk sets (events vs those still at risk; tied event times excluded) and its
    standard error by R's infinitesimal jackknife.

    Each customer's influence counts the concordant, discordant and tied pairs it belongs to, as the event
    (against those still at risk then) and as one still at risk (against each event while it is); the
    variance of Somers' d is the sum of the squared influences (alike customers share theirs), and
    C = (d + 1) / 2. The sweep over event times keeps per risk-score level the running counts of events
    above, below and level with it, so the cost is that of C itself.
    """
    a = arrays
    levels, rank = np.unique(np.round(risk, 12), return_inverse=True)
    m, k = levels.size, a.tau.size
    at_risk = np.zeros(m)
    by_epos = np.argsort(a.epos, kind="stable")
    by_pos = np.argsort(a.pos, kind="stable")
    e_split = np.searchsorted(a.epos[by_epos], np.arange(k + 1), side="right")
    p_split = np.searchsorted(a.pos[by_pos], np.arange(k + 1), side="left")
    ev_order = np.argsort(a.k_ev, kind="stable")
    ev_split = np.searchsorted(a.k_ev[ev_order], np.arange(k + 1), side="left")
    # a row is compared with the events of times epos <= t < end (its own event time excluded)
    end = a.pos - a.event.astype(np.int64)
    start_order, end_order = np.argsort(a.epos, kind="stable"), np.argsort(end, kind="stable")
    start_split = np.searchsorted(a.epos[start_order], np.arange(k + 2), side="left")
    end_split = np.searchsorted(end[end_order], np.arange(k + 2), side="left")
    influence = np.zeros((a.w.size, 3))  # concordant, discordant, tied pairs of each row
    running = np.zeros((3, m))  # per level: events above it, below it, level with it, so far
    conc = disc = tied = 0.0
    e_done = p_done = 0
    for t in range(k):
        rows = start_order[start_split[t]:start_split[t + 1]]
        influence[rows] -= running[:, rank[rows]].T
        rows = end_order[end_split[t]:end_split[t + 1]]
        influence[rows] += running[:, rank[rows]].T
        add = by_epos[e_done:e_split[t]]
        np.add.at(at_risk, rank[add], a.w[add])
        e_done = e_split[t]
        gone = by_pos[p_done:p_split[t + 1]]  # rows with pos <= t, i.e. stop < tau[t]
        np.subtract.at(at_risk, rank[gone], a.w[gone])
        p_done = p_split[t + 1]
        events = a.ev[ev_order[ev_split[t]:ev_split[t + 1]]]
        others = at_risk.copy()
        np.subtract.at(others, rank[events], a.w[events])
        below = np.concatenate([[0.0], np.cumsum(others)])
        r, wt = rank[events], a.w[events]
        mine = np.stack([below[r], below[-1] - below[r + 1], others[r]], axis=1)
        influence[events] += mine
        conc += wt @ mine[:, 0]
        disc += wt @ mine[:, 1]
        tied += wt @ mine[:, 2]
        level = np.bincount(r, weights=wt, minlength=m)
        under = np.cumsum(level) - level
        running += np.stack([level.sum() - under - level, under, level])
    rows = start_order[start_split[k]:start_split[k + 1]]  # entered after the last event time: no pairs
    influence[rows] -= running[:, rank[rows]].T
    rows = end_order[end_split[k]:end_split[k + 1]]
    influence[rows] += running[:, rank[rows]].T
    total = conc + disc + tied
    if total <= 0:
        return np.nan, np.nan
    somers = (conc - disc) / total
    each = ((influence[:, 0] - influence[:, 1]) - somers * influence.sum(axis=1)) / total
    return float((somers + 1) / 2), float(np.sqrt(a.w @ each ** 2) / 2)
