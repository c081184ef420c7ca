"""Experiences that come before departure: a time-varying Cox model on each customer's contact history.

Each customer's tenure is cut into (start, stop] spells at every day their
count of recent experiences changes: a complaint (or a repeat contact, one
within 7 days of the previous contact) on day ``c`` counts from day
``c + lag_days`` to ``c + lag_days + window_days``. For a large population the
spells are never built: DuckDB sums each day's entries to and exits from the
risk set per covariate pattern (:mod:`cxkit.drivers.risk_sets`, one pass for
both models below) and the model is fitted on each event day's risk-set counts,
which gives the fit on the spells. The lag keeps the calls
customers make while leaving (to cancel, to port a number) from counting as
causes of leaving. The Cox model on these spells, allowing for plan and region,
gives the hazard ratio of one more experience in the window.

Unhappy customers both complain more and leave sooner, so a complaint's ratio
on its own mixes the two. The model therefore also allows for what the customer
told us *before* the window: the band of their latest answer given before any
experience that counts on a day (an answer on day ``a`` describes the days from
``a + lag_days + window_days`` on). It is fitted on the time after each
customer's first answer, so every comparison is among customers who gave the
same score. An answer given after the complaint is not used: it would hide an
effect that runs through the score (the complaint sours the customer, who then
leaves). The fit allowing for plan and region only is kept as ``unadjusted_``.

The revenue that left with these experiences: each customer who left in the
last ``period_months`` with ``n`` experiences counting had a hazard
``HR ** n`` times that without them under the model, so a share
``1 - HR ** -n`` of their hazard goes with the experiences (epidemiology's
attributable fraction among those who left, which reads as a cause only if
the model has allowed for every common cause; here it is an association);
summed over leavers with their monthly revenue, with an interval from the
hazard ratio's sampling distribution.

Examples
--------
>>> eh = ExperienceHazards(window_days=90, lag_days=7).fit_data(data)   # doctest: +SKIP
>>> eh.summary[["experience", "hazard_ratio", "lower", "upper"]]        # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxkit._display import html_block, unfitted_html
from cxkit.contract import DAYS_PER_MONTH
from cxkit.drivers.frame import REPEAT_DAYS, contact_kinds, is_complaint_sql, rate_sql
from cxkit.drivers.risk_sets import EXPERIENCE_SEQ, PRIOR_BAND, coded, moves_sql, risk_sets
from cxkit.errors import CxkitError
from cxkit.scales import SCALES, band_sql
from cxkit.sql import ident, literal
from cxkit.survival.cox import CoxModel

__all__ = ["ExperienceHazards", "EXPERIENCES"]

_MAX_LEVELS = 12  # adjusters with more levels are left out, as in the leadership report's Cox model
PRIOR = PRIOR_BAND  # the band of the customer's latest answer before the window, a column of the model

#: Experience column -> how it reads.
EXPERIENCES = {"complaints": "complaint", "repeat_contacts": "repeat contact"}


class ExperienceHazards:
    """Hazard ratio of churn for each recent complaint and repeat contact, and the revenue that left with them.

    Parameters
    ----------
    window_days : int
        An experience counts for this many days ...
    lag_days : int
        ... starting this many days after it happened.
    complaint_kinds : tuple of str
        Contact kinds that are complaints (matched without regard to case).
    repeat_days : int
        A contact within this many days after the previous one is a repeat contact.
    period_months : int
        Leavers of the last this many months count for ``revenue_at_risk_``.
    alpha : float
        1 - confidence level.
    n_draws : int
        Draws of the coefficients for the revenue interval.
    seed : int
    prior_score : str or None
        The score (``nps``, ``csat`` or ``effort``) whose band before the window the model allows for; None
        allows for plan and region only. A score the data does not have is left out (``prior_score_`` None).
    direct_max_rows : int
        When the data can hold at most this many spells (customers plus twice the contacts), the model is
        fitted on the spells themselves; beyond, on each event day's risk-set counts per covariate pattern,
        computed in DuckDB. Both give the same fit (tested); the spells are faster for an audience of a few
        thousand customers, the counts for millions.
    chunk_customers : int or None
        On this machine, more customers than this have their risk-set counts summed a group of about this many
        at a time (by a hash of the id) and added up: the counts are sums over customers, so the result is the
        same, and DuckDB's working memory is that of one group, however large the data. Each group reads the
        tables again, so it costs time (docs: benchmarks). Customers and contacts stored in id order (as exports
        usually are) need no sort: they are read once, a batch at a time, whatever their number (the sweep then
        holds the experiences and answers alone, about 13 bytes a customer). None: all at once. A warehouse
        always sums all at once.

    Attributes
    ----------
    summary : DataFrame
        ``experience, hazard_ratio, lower, upper, p_value`` (per experience counting in the window).
    revenue_at_risk_ : DataFrame
        ``experience, leavers, leavers_with, departures, departures_lower, departures_upper,
        monthly_revenue, lower, upper``: leavers of the period, those with the experience counting when
        they left, the departures attributable to it and the monthly revenue that left with them.
    cox_ : CoxModel
        The fitted model (with plan and region).
    spells_ : int
        (start, stop] spells of the data (the rows of the model, or what its risk-set counts stand for).
    risk_cells_ : int or None
        Rows of risk-set counts the model was fitted on (None when it was fitted on the spells).
    """

    def __init__(self, window_days: int = 90, lag_days: int = 7, complaint_kinds=("complaint",),
                 repeat_days: int = REPEAT_DAYS, period_months: int = 12, alpha: float = 0.05,
                 n_draws: int = 2000, seed: int = 0, prior_score: str | None = "nps",
                 direct_max_rows: int = 100_000, chunk_customers: int | None = 5_000_000):
        if int(window_days) < 1 or int(lag_days) < 0 or int(period_months) < 1:
            raise CxkitError("window_days and period_months must be at least 1 and lag_days at least 0")
        if isinstance(complaint_kinds, str):
            complaint_kinds = (complaint_kinds,)
        self.window_days, self.lag_days, self.repeat_days = int(window_days), int(lag_days), int(repeat_days)
        self.complaint_kinds, self.period_months = tuple(complaint_kinds), int(period_months)
        self.alpha, self.n_draws, self.seed = alpha, int(n_draws), seed
        self.direct_max_rows = int(direct_max_rows)
        if chunk_customers is not None and int(chunk_customers) < 1:
            raise CxkitError("chunk_customers must be at least 1, or None")
        self.chunk_customers = None if chunk_customers is None else int(chunk_customers)
        if prior_score is not None and prior_score not in SCALES:
            raise CxkitError(f"prior_score must be one of {', '.join(SCALES)} or None, not {prior_score!r}")
        self.prior_score = prior_score

    def fit_data(self, data) -> ExperienceHazards:
        """Fit from validated dated data with a contacts table."""
        if data.mode != "dated" or not data.has("contacts"):
            raise CxkitError("experiences before departure need dated customers and a contacts table")
        # the kinds written in the data that are complaints (matched without regard to case), compared exactly below
        kinds = contact_kinds(data)
        wanted = {str(k).lower() for k in self.complaint_kinds}
        self._complaint_values = sorted(k for k in kinds if k.lower() in wanted)
        experiences = (["complaints"] if self._complaint_values else []) + ["repeat_contacts"]
        adjust, levels = [s for s in ("plan", "region") if s in data.segments], {}
        if adjust:  # a column with one value here (an audience's own region) explains nothing and is left out
            found = data.sql("SELECT " + ", ".join(f"list(DISTINCT CAST({ident(a)} AS VARCHAR)) FILTER "
                                                   f"(WHERE {ident(a)} IS NOT NULL)" for a in adjust)
                             + " FROM customers").fetchone()
            levels = {a: sorted(v or []) for a, v in zip(adjust, found, strict=True)}
            adjust = [a for a in adjust if 2 <= len(levels[a]) <= _MAX_LEVELS]
        prior = self.prior_score if self.prior_score and data.has("responses", self.prior_score) else None
        since = (pd.Timestamp(data.as_of) - pd.DateOffset(months=self.period_months)).date()
        # a small data set is fitted on its spells; a large one, or one in a warehouse (where only counts come
        # back), on risk-set counts, one pass for both models
        moves, left = None, None
        rows = data.row_counts["customers"] + 2 * data.row_counts["contacts"]
        if rows > self.direct_max_rows or data.engine == "warehouse":
            codes = {a: levels[a] for a in adjust} | ({PRIOR: SCALES[prior].labels} if prior else {})
            # sums over customers: risk_sets adds the parts up; the local sweep counts the period's leavers too
            parts, chunks = None, self._chunks(data)
            if len(chunks) > 1:  # tables stored in id order are swept in one pass, whatever their size
                from cxkit.drivers.sweep import Unordered

                try:
                    parts = [self._moves(data, experiences, adjust, prior, codes, since=since, sort=False)]
                except Unordered:  # sorted by DuckDB a group at a time
                    parts = None
            if parts is None:
                parts = [self._moves(data, experiences, adjust, prior, codes, only=only, since=since)
                         for only in chunks]
            moves = [m for m, _ in parts]
            moves = pd.concat(moves, ignore_index=True) if len(moves) > 1 else moves[0]  # level numbers, as read
            if all(lv is not None for _, lv in parts):
                left = [lv for _, lv in parts]
        self.unadjusted_cox_, self.spells_, self.risk_cells_ = self._fit_model(
            data, moves, experiences, adjust, None, codes=codes if moves is not None else None)
        self.unadjusted_ = self._table(self.unadjusted_cox_, experiences)
        self.prior_score_, self.prior_spells_, self.prior_cells_ = None, 0, None
        self.prior_missing_ = "no_answers" if prior is None else None
        self.cox_ = self.unadjusted_cox_
        if prior is not None:
            try:  # a ratio the adjusted data cannot pin down: the model is not used (no warnings filter is
                # changed for it: they are the process's, and the report fits this in a thread beside others)
                with np.errstate(divide="raise", over="raise", invalid="raise"):
                    cox, spells, cells = self._fit_model(
                        data, moves, experiences, adjust, prior, reference={PRIOR: SCALES[prior].labels[1]},
                        codes=codes if moves is not None else None, quiet=True)
                if cox.not_estimable_ or not cox.converged_:
                    raise CxkitError("the adjusted model cannot estimate every ratio")
                self.cox_, self.prior_spells_, self.prior_cells_ = cox, spells, cells
                self.prior_score_ = prior
            except (CxkitError, FloatingPointError):  # too few departures after a first answer: said so in words
                self.prior_missing_ = "too_few"
        self.summary = self._table(self.cox_, experiences)
        self.experiences_, self.adjusted_for_ = experiences, adjust
        self.as_of_ = data.as_of
        if left is not None:  # counted by the sweep (the same table: tested)
            from cxkit.drivers.sweep import leaver_groups

            groups = leaver_groups(data, left, experiences, since)
        else:
            groups = data.sql(self._leavers_sql(data, experiences, since)).df()
        self.revenue_at_risk_ = self._revenue(groups, experiences)
        return self

    def _fit_model(self, data, moves, experiences, adjust, prior, reference: dict | None = None,
                   codes: dict | None = None, quiet: bool = False):
        """The Cox model with plan and region (and the earlier answer's band with ``prior``): on the spells
        themselves without ``moves``, else on each event day's risk-set counts per pattern from them (the same
        fit; ``quiet``: its problems recorded, not warned). Returns (model, spells, risk cells or None)."""
        covariates, categorical = [*experiences, *adjust], list(adjust)
        if prior is not None:
            covariates, categorical = [*covariates, PRIOR], [*categorical, PRIOR]
        model = CoxModel(alpha=self.alpha, clock="tenure (months since signup)", reference=reference, quiet=quiet)
        if moves is None:
            rows = data.sql(self._spells_sql(data, experiences, adjust, prior)).df()
            if rows.empty or rows["event"].sum() == 0:
                raise CxkitError("no customer left: there is no departure to relate experiences to")
            for col in categorical:
                rows[col] = rows[col].astype("category")
            model.fit(rows, "stop", "event", covariates, entry_col="start")
            return model, len(rows), None
        patterns, at_risk, events, _, spells = risk_sets(moves, covariates, prior is not None, codes)
        if events.sum() == 0:
            raise CxkitError("no customer left: there is no departure to relate experiences to")
        model.fit_risk_sets(patterns, at_risk, events, covariates, categorical, n_rows=spells)
        return model, spells, int(np.count_nonzero(at_risk))

    @staticmethod
    def _table(cox, experiences) -> pd.DataFrame:
        s = cox.summary
        return pd.DataFrame([{"experience": e, "hazard_ratio": s.loc[e, "hazard_ratio"], "lower": s.loc[e, "lower"],
                              "upper": s.loc[e, "upper"], "p_value": s.loc[e, "p_value"]}
                             for e in experiences if e in s.index])

    def _leavers_sql(self, data, experiences, since=None) -> str:
        """The leavers per count of experiences counting on the day they left (their last spell's, without the
        spells: an experience on day ``c`` counts when ``c + lag < leaving day <= c + lag + window``):
        ``<experiences>, leavers, revenue`` (their monthly revenue, unknown counted as 0) and ``rated`` (leavers
        whose revenue is known). With ``since`` (a date), only those who left after it (and only their contacts
        are read). Summed where the rows are: a few rows come back, however many left."""
        lag, window = self.lag_days, self.window_days
        counts = ", ".join(f"coalesce(sum(e.{x}) FILTER (WHERE e.day + {lag} < p.total AND "
                           f"e.day + {lag + window} >= p.total), 0) AS {x}" for x in experiences)
        left = "churned = 1 AND total > 0" + (f" AND end_date > DATE {literal(since.isoformat())}" if since else "")
        rates = rate_sql(data, "SELECT customer_id FROM leavers")
        names = ", ".join(experiences)
        return (self._base_ctes(data, experiences, [], contacts_of=left)
                + f"leavers AS (SELECT p.customer_id, {counts} "
                f"FROM (SELECT * FROM people WHERE {left}) p LEFT JOIN ev e USING (customer_id) GROUP BY ALL)\n"
                f"SELECT {names}, count(*) AS leavers, coalesce(sum(v.rate), 0) AS revenue, count(v.rate) AS rated "
                f"FROM leavers l LEFT JOIN ({rates}) v USING (customer_id) GROUP BY {names} ORDER BY {names}")

    def _chunks(self, data) -> list:
        """Conditions on ``customer_id`` that split the customers into groups of about ``chunk_customers`` (a hash
        of the id modulo their number), or ``[None]``: one pass over everyone."""
        size = self.chunk_customers
        n = data.row_counts["customers"]
        if size is None or n <= size or data.engine == "warehouse":
            return [None]
        k = -(-n // size)
        return [f"hash(customer_id) % {k} = {i}" for i in range(k)]

    def _base_ctes(self, data, experiences, adjust, contacts_of: str | None = None, codes: dict | None = None,
                   only: str | None = None) -> str:
        """``people`` (days observed, churned, end date, adjusters) and ``ev`` (each contact's day since signup
        and its experience flags; with ``contacts_of``, a condition on ``people``, only those customers'; with
        ``only``, a condition on ``customer_id``, only the customers, contacts and answers it holds). With
        ``codes`` (adjuster -> its levels) an adjuster is its level's number (1, 2, ...), for narrow sorts."""
        as_of = f"DATE {literal(data.as_of.isoformat())}" if data.as_of else "current_date"
        values = getattr(self, "_complaint_values", None)
        complaint = (f"CAST(k.kind AS VARCHAR) IN ({', '.join(literal(v) for v in values) or 'NULL'})"
                     if values is not None else is_complaint_sql(self.complaint_kinds))
        flags = {"complaints": "k.complaint",
                 "repeat_contacts": f"CAST(coalesce(date_diff('day', lag(k.date) OVER (PARTITION BY k.customer_id "
                                    f"ORDER BY k.date), k.date) <= {self.repeat_days}, false) AS INTEGER)"}
        ev = ", ".join(f"{flags[e]} AS {e}" for e in experiences)
        adj = "".join(f", {coded(f'CAST(c.{ident(a)} AS VARCHAR)', (codes or {}).get(a))} AS {ident(a)}"
                      for a in adjust)
        adj_p = "".join(f", p.{ident(a)}" for a in adjust)
        names = ", ".join(f"k.{e}" for e in experiences)
        picked = [f"k.customer_id IN (SELECT customer_id FROM people WHERE {contacts_of})"] if contacts_of else []
        picked += [f"({only})"] if only else []
        where = f" WHERE {' AND '.join(picked)}" if picked else ""
        chunk = f" AND ({only})" if only else ""
        end = f"CASE WHEN c.end_date <= {as_of} THEN c.end_date END"
        return f"""
WITH people AS (
  SELECT c.customer_id, c.signup_date, CAST(date_diff('day', c.signup_date, coalesce({end}, {as_of})) AS INTEGER)
         AS total,
         CAST({end} IS NOT NULL AS INTEGER) AS churned, {end} AS end_date{adj}
  FROM customers c WHERE c.signup_date <= {as_of}{chunk}),
ev AS (  -- the flags from the contacts alone (a narrow sort), then each contact's day since signup
  SELECT k.customer_id, CAST(date_diff('day', p.signup_date, k.date) AS INTEGER) AS day, {names}, p.total,
         p.churned{adj_p}
  FROM (SELECT k.customer_id, k.date, {ev}
        FROM (SELECT k.customer_id, k.date, CAST({complaint} AS INTEGER) AS complaint FROM contacts k{where}) k) k
  JOIN people p USING (customer_id)),
"""

    def _spells_sql(self, data, experiences, adjust, prior: str | None = None) -> str:
        """Each customer's tenure cut into (start, stop] spells at every day a count of experiences changes.

        With ``prior`` (a score column), also at every day the band of the customer's latest answer before the
        window changes (an answer on day ``a`` counts from ``a + lag + window``), that band as ``earlier_band``,
        and only the spells after the first answer so counted.
        """
        if prior is not None:
            return self._prior_spells_sql(data, experiences, adjust, prior)
        ups, downs, zeros, sums, levels, adj_out, any_flag = _spell_parts(experiences, adjust)
        # only contacts that are experiences move a level: the others would split spells without changing them
        return self._base_ctes(data, experiences, adjust) + f"""exp AS (SELECT * FROM ev WHERE {any_flag}),
steps AS (
  SELECT customer_id, day + {self.lag_days} AS t, {ups} FROM exp
  UNION ALL SELECT customer_id, day + {self.lag_days + self.window_days} AS t, {downs} FROM exp
  UNION ALL SELECT customer_id, 0 AS t, {zeros} FROM people WHERE customer_id IN (SELECT customer_id FROM exp)),
points AS (
  SELECT s.customer_id, s.t, {sums} FROM steps s JOIN people p USING (customer_id)
  WHERE s.t >= 0 AND s.t < p.total GROUP BY ALL),
spells AS (
  SELECT customer_id, t AS start_day, lead(t) OVER (PARTITION BY customer_id ORDER BY t) AS next_day, {levels}
  FROM points WINDOW w AS (PARTITION BY customer_id ORDER BY t ROWS UNBOUNDED PRECEDING))
SELECT s.customer_id, s.start_day, coalesce(s.next_day, p.total) AS stop_day,
       s.start_day / {DAYS_PER_MONTH!r} AS start, coalesce(s.next_day, p.total) / {DAYS_PER_MONTH!r} AS stop,
       CASE WHEN s.next_day IS NULL THEN p.churned ELSE 0 END AS event, p.end_date,
       {", ".join(f"s.{e}" for e in experiences)}{adj_out}
FROM spells s JOIN people p USING (customer_id)
UNION ALL  -- customers without an experience: one spell at level 0, no window needed
SELECT p.customer_id, 0 AS start_day, p.total AS stop_day, 0.0 AS start, p.total / {DAYS_PER_MONTH!r} AS stop,
       p.churned AS event, p.end_date, {", ".join(f"0 AS {e}" for e in experiences)}{adj_out}
FROM people p WHERE p.total > 0 AND p.customer_id NOT IN (SELECT customer_id FROM exp)"""

    def _prior_spells_sql(self, data, experiences, adjust, prior: str) -> str:
        """:meth:`_spells_sql` with the earlier answer's band, from the first answer that counts on."""
        ups, downs, zeros, sums, levels, adj_out, any_flag = _spell_parts(experiences, adjust)
        shift = self.lag_days + self.window_days
        band = band_sql(f"r.{ident(prior)}", prior)
        return self._base_ctes(data, experiences, adjust) + f"""ans AS (
  SELECT r.customer_id, date_diff('day', p.signup_date, r.response_date) + {shift} AS t,
         max(r.response_date) AS answered, arg_max({band}, r.response_date) AS band
  FROM responses r JOIN people p USING (customer_id) WHERE r.{ident(prior)} IS NOT NULL GROUP BY ALL),
exp AS (SELECT * FROM ev WHERE ({any_flag}) AND customer_id IN (SELECT customer_id FROM ans)),
steps AS (
  SELECT customer_id, day + {self.lag_days} AS t, {ups}, NULL AS band FROM exp
  UNION ALL SELECT customer_id, day + {shift} AS t, {downs}, NULL AS band FROM exp
  UNION ALL SELECT customer_id, t, {zeros}, band FROM ans
  UNION ALL SELECT DISTINCT customer_id, 0 AS t, {zeros}, NULL AS band FROM ans),
points AS (
  SELECT s.customer_id, s.t, {sums}, max(s.band) AS band FROM steps s JOIN people p USING (customer_id)
  WHERE s.t >= 0 AND s.t < p.total GROUP BY ALL),
spells AS (
  SELECT customer_id, t AS start_day, lead(t) OVER (PARTITION BY customer_id ORDER BY t) AS next_day, {levels},
         last_value(band IGNORE NULLS) OVER w AS {PRIOR}
  FROM points WINDOW w AS (PARTITION BY customer_id ORDER BY t ROWS UNBOUNDED PRECEDING))
SELECT s.customer_id, s.start_day, coalesce(s.next_day, p.total) AS stop_day,
       s.start_day / {DAYS_PER_MONTH!r} AS start, coalesce(s.next_day, p.total) / {DAYS_PER_MONTH!r} AS stop,
       CASE WHEN s.next_day IS NULL THEN p.churned ELSE 0 END AS event, p.end_date,
       {", ".join(f"s.{e}" for e in experiences)}{adj_out}, s.{PRIOR}
FROM spells s JOIN people p USING (customer_id) WHERE s.{PRIOR} IS NOT NULL"""

    def _moves(self, data, experiences, adjust, prior, codes, only=None, since=None, sort=True) -> tuple:
        """The entries, exits and events per pattern and day: on a local engine by the compiled sweep over each
        customer (:mod:`cxkit.drivers.sweep`), in a warehouse by :meth:`_moves_sql` (the same rows). Returns
        ``(moves, leavers)``: with ``since``, the sweep also counts the experiences of each customer who left
        after it (``(ids, counts, rates)``, for :func:`~cxkit.drivers.sweep.leaver_groups`); else, and in a
        warehouse, ``leavers`` is None (:meth:`_leavers_sql` counts them). ``sort=False``: tables not stored
        in id order raise :class:`~cxkit.drivers.sweep.Unordered` instead of being sorted whole."""
        if data.engine == "warehouse":
            return data.sql(self._moves_sql(data, experiences, adjust, prior, codes, only)).df(), None
        from cxkit.drivers.sweep import sweep_moves  # numba compiles (or loads its cache) on first use only

        if since is None:
            return sweep_moves(data, self, experiences, adjust, prior, codes, only, sort=sort), None
        return sweep_moves(data, self, experiences, adjust, prior, codes, only, since=since, sort=sort)

    def _moves_sql(self, data, experiences, adjust, prior: str | None, codes: dict | None = None,
                   only: str | None = None) -> str:
        """Entries to and exits from each pattern's risk set per day (:func:`~cxkit.drivers.risk_sets.moves_sql`),
        for both models at once: every change point of every customer with an experience or an answer (with
        ``only``, a condition on ``customer_id``, of those customers alone)."""
        ups, downs, zeros, _, _, _, any_flag = _spell_parts(experiences, adjust)
        lag, shift = self.lag_days, self.lag_days + self.window_days
        carry = "total, churned" + "".join(f", {ident(a)}" for a in adjust)
        answers = ""
        if prior is not None:
            band = coded(band_sql(f"r.{ident(prior)}", prior), (codes or {}).get(PRIOR))
            # every answer is a change point; of a day's answers the latest counts (the window's order)
            answers = f"""ans AS (
  SELECT r.customer_id, CAST(date_diff('day', p.signup_date, r.response_date) + {shift} AS INTEGER) AS t,
         {band} AS band, CAST(date_diff('second', date_trunc('day', r.response_date), r.response_date) AS INTEGER)
         AS seq, p.total, p.churned{"".join(f", p.{ident(a)}" for a in adjust)}
  FROM responses r JOIN people p USING (customer_id) WHERE r.{ident(prior)} IS NOT NULL),
"""
        null_band = "CAST(NULL AS INTEGER)" if codes and PRIOR in codes else "CAST(NULL AS VARCHAR)"
        steps = (f"SELECT customer_id, day + {lag} AS t, {ups}, {null_band} AS band, {EXPERIENCE_SEQ} AS seq, "
                 f"{carry} FROM exp\n  UNION ALL SELECT customer_id, day + {shift} AS t, {downs}, NULL, "
                 f"{EXPERIENCE_SEQ}, {carry} FROM exp")
        if prior is not None:
            steps += f"\n  UNION ALL SELECT customer_id, t, {zeros}, band, seq, {carry} FROM ans"
        ctes = self._base_ctes(data, experiences, adjust, codes=codes, only=only) + answers
        ctes += f"""exp AS (SELECT * FROM ev WHERE {any_flag}),
pts AS (SELECT * FROM ({steps}) WHERE t >= 0 AND t < total),
base AS (SELECT {carry} FROM people WHERE total > 0)
"""
        body = moves_sql("pts", "base", experiences, adjust)
        return ctes.rstrip() + ",\n" + body.removeprefix("WITH\n")

    def _revenue(self, groups: pd.DataFrame, experiences) -> pd.DataFrame:
        """The departures and revenue that go with the experiences, from the period's leavers per count of
        experiences (:meth:`_leavers_sql`: leavers differ only by those counts)."""
        measured = bool(groups["rated"].sum() > 0)
        levels = groups[experiences].to_numpy(dtype=float)
        people, revenue = groups["leavers"].to_numpy(dtype=float), groups["revenue"].to_numpy(dtype=float)
        beta = self.cox_.params_[experiences].to_numpy()
        cov = self.cox_.variance_matrix_.loc[experiences, experiences].to_numpy()
        draws = np.random.default_rng(self.seed).multivariate_normal(beta, cov, size=self.n_draws)
        q = [100 * self.alpha / 2, 100 * (1 - self.alpha / 2)]
        rows = []
        for label, cols in [*((e, [i]) for i, e in enumerate(experiences)), ("all", list(range(len(experiences))))]:
            if label == "all" and len(experiences) == 1:
                continue
            point = 1 - np.exp(-(levels[:, cols] @ beta[cols]))
            sims = 1 - np.exp(-(levels[:, cols] @ draws[:, cols].T))  # patterns x draws
            dep, money = people @ sims, revenue @ sims
            rows.append({"experience": label, "leavers": int(people.sum()),
                         "leavers_with": int(people[levels[:, cols].sum(axis=1) > 0].sum()),
                         "departures": float(point @ people), "departures_lower": float(np.percentile(dep, q[0])),
                         "departures_upper": float(np.percentile(dep, q[1])),
                         "monthly_revenue": float(point @ revenue), "lower": float(np.percentile(money, q[0])),
                         "upper": float(np.percentile(money, q[1])), "revenue_left": float(revenue.sum())})
        out = pd.DataFrame(rows)
        if not measured:  # no revenue in the data: not available, never $0
            out[["monthly_revenue", "lower", "upper", "revenue_left"]] = np.nan
        return out

    def _repr_html_(self) -> str:
        if not hasattr(self, "spells_"):
            return unfitted_html(repr(self), "fit_data(data)")
        notes = [f"Time-varying Cox on {self.spells_:,} (start, stop] spells; an experience counts from "
                 f"{self.lag_days} to {self.lag_days + self.window_days} days after it; allowing for "
                 f"{', '.join(self.adjusted_for_) or 'nothing else'}. Associations, not proof of cause."]
        return html_block("Experiences before departure", self.summary, notes, digits=3) + \
            html_block("Revenue that left with them", self.revenue_at_risk_, [], digits=2, read_next={
                "summary": "hazard ratio per recent experience", "unadjusted_": "the same without the adjustment",
                "revenue_at_risk_": "monthly revenue that left after each experience", "cox_": "the model"})

    def __repr__(self) -> str:
        fitted = f": {self.spells_:,} spells, experiences {', '.join(self.experiences_)}" \
            if hasattr(self, "spells_") else "  # unfitted"
        return f"ExperienceHazards(window_days={self.window_days}, lag_days={self.lag_days}){fitted}"


def _spell_parts(experiences, adjust) -> tuple[str, ...]:
    """The SQL pieces both spell queries build from the experience columns: a step up, down and zero per
    experience, their sums and running levels, the adjusters to carry and the test for any experience."""
    return (", ".join(f"{e}" for e in experiences), ", ".join(f"-{e}" for e in experiences),
            ", ".join(f"0 AS {e}" for e in experiences), ", ".join(f"sum({e}) AS {e}" for e in experiences),
            ", ".join(f"CAST(sum({e}) OVER w AS INTEGER) AS {e}" for e in experiences),
            "".join(f", p.{ident(a)}" for a in adjust), " OR ".join(f"{e} <> 0" for e in experiences))
