"""Analysis-ready tables built in DuckDB from validated data.

Each function takes a :class:`~cxkit.load.CXData` and returns a small pandas
frame (or a DuckDB relation for large ones); the SQL lives here once, so every
analysis, notebook and the benchmark build their inputs the same way.
"""

from __future__ import annotations

import pandas as pd

from cxkit.contract import DAYS_PER_MONTH
from cxkit.scales import band_counts_sql

__all__ = ["answers", "answer_order", "latest_answers", "band_source", "nps_counts", "nps_counts_by",
           "NPS_WINDOW_MONTHS", "survival_frame", "spells_table", "ltv_frame", "drop_ltv_frame", "active_base",
           "value_base", "clock_description", "CLOCKS", "customer_cube", "customer_counts_sql",
           "answer_spells"]


def answer_order(score: str = "nps", direction: str = "ASC", alias: str = "") -> str:
    """``ORDER BY`` terms for a customer's answers in time order.

    Two answers on the same day are ordered by score, highest first, so "latest" and "first" never depend
    on the order rows happen to be read in: the latest is the lowest score of the last day.

    >>> answer_order("nps", "DESC", "r.")
    'r.response_date DESC, r.nps ASC'
    """
    tie = "DESC" if direction.upper() == "ASC" else "ASC"
    return f"{alias}response_date {direction}, {alias}{score} {tie}"


def latest_answers(data, score: str = "nps") -> str:
    """A table (or view) of each customer's latest answer (``customer_id, score, response_date``), once per data
    and score.

    Ledger, contact rates, NPS counts and the active base all need it; with validated data the latest
    answer is also the last one before the customer left (answers after ``end_date`` are refused).
    """
    name = f"_latest_{score}"
    if not _has_temp(data, name):
        data.con.execute(f"CREATE TEMP TABLE {name} AS SELECT customer_id, {score} AS score, response_date "
                         f"FROM responses WHERE {score} IS NOT NULL QUALIFY row_number() OVER "
                         f"(PARTITION BY customer_id ORDER BY {answer_order(score, 'DESC')}) = 1")
    return name


def _has_temp(data, name: str) -> bool:
    """Whether this data's connection already holds the temp table or view ``name`` (made once per data)."""
    if hasattr(data.con, "has_table"):  # the warehouse engine's connection knows what it created
        return bool(data.con.has_table(name))
    return bool(data.con.execute("SELECT (SELECT count(*) FROM duckdb_tables() WHERE table_name = $1 AND temporary) "
                                 "+ (SELECT count(*) FROM duckdb_views() WHERE view_name = $1 AND temporary)",
                                 [name]).fetchall()[0][0])


def customer_counts_sql(day: str, key: str = "NULL", key_join: str = "", slice_key: str = "'all'",
                        run_rate: str = "0.0", rate_join: str = "", reason: str = "'unknown'",
                        cut: bool = False) -> str:
    """Customers counted in one pass: per ``slice_key``, sign-up year and month (``jy, jm``), leaving year and
    month when they left by ``day`` (``ly, lm``), ``active`` (no end date), ``key`` (``k``, e.g. the latest
    score, from ``key_join``) and churn reason when they left; ``n`` customers, ``rr`` and ``rr2`` the sums of
    their monthly run rate and its square.

    Years and months, not ``date_trunc``: a period per customer costs more than the rest of the pass, and
    the periods (months or quarters) are named from the few groups. ``customers`` is ``c`` in the SQL.
    """
    left = f"c.end_date <= {day}"
    # a month as one number (year x 100 + month) while grouping: two keys fewer per customer
    rows = (f"SELECT {slice_key} AS slice_key, year(c.signup_date) * 100 + month(c.signup_date) AS jym, "
            f"CASE WHEN {left} THEN year(c.end_date) * 100 + month(c.end_date) END AS lym, "
            f"CASE WHEN c.end_date IS NULL THEN 1 ELSE 0 END AS active, {key} AS k, "
            f"CASE WHEN {left} THEN {reason} END AS reason, {run_rate} AS rr FROM customers c {rate_join}{key_join}"
            + (f" WHERE c.signup_date <= {day}" if cut else ""))
    return ("SELECT slice_key, jym // 100 AS jy, jym % 100 AS jm, lym // 100 AS ly, lym % 100 AS lm, active, k, "
            "reason, n, rr, rr2 FROM (SELECT slice_key, jym, lym, active, k, reason, count(*) AS n, sum(rr) AS rr, "
            f"sum(rr * rr) AS rr2 FROM ({rows}) GROUP BY ALL)")


def customer_cube(data, score: str = "nps") -> str:
    """A small table of every customer counted once (:func:`customer_counts_sql`), keyed by the latest answer's
    score (``k``, NULL without one): made once per data and score. The active base and the customer ledger are
    sums over it instead of passes over every customer."""
    name = f"_cube_{score}"
    if not _has_temp(data, name):
        run_rate, rate_join = ("coalesce(c.monthly_revenue, 0)" if data.has("customers", "monthly_revenue")
                               else "0.0"), ""
        if data.has("revenue"):
            run_rate = "coalesce(rr.run_rate, 0)"
            rate_join = ("LEFT JOIN (SELECT customer_id, avg(amount) AS run_rate FROM revenue GROUP BY 1) rr "
                         "USING (customer_id) ")
        key, key_join = "NULL", ""
        if data.has("responses") and score in data.scores:
            key, key_join = "s.score", f"LEFT JOIN {latest_answers(data, score)} s USING (customer_id)"
        reason = "coalesce(c.churn_reason, 'unknown')" if data.has("customers", "churn_reason") else "'unknown'"
        sql = customer_counts_sql(f"DATE '{data.as_of.isoformat()}'", key, key_join, "NULL", run_rate, rate_join,
                                  reason)  # the gateway's view holds only customers signed up by as_of
        data.con.execute(f"CREATE TEMP TABLE {name} AS {sql}")
    return name


def band_source(data, score: str = "nps") -> str:
    """SQL giving each customer's band of their latest answer (``customer_id, band``)."""
    from cxkit.scales import band_sql

    return f"SELECT customer_id, {band_sql('score', score)} AS band FROM {latest_answers(data, score)}"


NPS_WINDOW_MONTHS = 12  # the headline NPS counts answers from the last 12 months (see nps_population)


def nps_counts(data, by: str | None = None, which: str = "latest", score: str = "nps",
               active_only: bool = True, window_months: int | None = NPS_WINDOW_MONTHS) -> pd.DataFrame:
    """Detractors, passives and promoters (one answer per customer) per value of ``by``, counted in DuckDB.

    By default the headline population (:func:`cxkit.narrative.nps_population` says it in words):
    customers active at ``as_of`` whose latest answer lies in the last ``window_months``.
    ``active_only=False, window_months=None`` counts everyone who ever answered, churned customers included.

    Returns
    -------
    DataFrame
        ``by`` (or ``all_customers``), ``detractors, passives, promoters``; feed it to
        :func:`cxkit.nps.nps_table_from_counts`.
    """
    return nps_counts_by(data, [by] if by else [], which, score, active_only, window_months)[by]


def nps_counts_by(data, columns=(), which: str = "latest", score: str = "nps", active_only: bool = True,
                  window_months: int | None = NPS_WINDOW_MONTHS) -> dict:
    """:func:`nps_counts` for everyone and per each of ``columns``, in one pass (``GROUPING SETS``).

    Returns
    -------
    dict
        ``None`` -> the counts for everyone; each column -> its counts per value.
    """
    order = "DESC" if which == "latest" else "ASC"
    columns = list(dict.fromkeys(columns))
    table = answer_spells(data, score) if which == "latest" and set(columns) <= set(data.segments) else None
    c = "c."  # where the customer's columns are read
    if data.mode == "snapshot":
        source = f"SELECT customer_id, {score} AS score FROM customers WHERE {score} IS NOT NULL"
        keep = "c.churned = 0" if active_only else "TRUE"
    else:
        if table is not None:  # the latest answers with their customers' columns: no join
            c = "a."
            source = ("SELECT score, start_date AS response_date, _end_date AS end_date"
                      + "".join(f', "{col}"' for col in columns) + f" FROM {table} WHERE _next_date IS NULL")
        elif which == "latest":
            source = f"SELECT customer_id, score, response_date FROM {latest_answers(data, score)}"
        else:
            source = (f"SELECT customer_id, {score} AS score, response_date FROM responses "
                      f"WHERE {score} IS NOT NULL QUALIFY row_number() OVER (PARTITION BY customer_id "
                      f"ORDER BY {answer_order(score, order)}) = 1")
        keep = f"{c}end_date IS NULL" if active_only else "TRUE"
        if window_months:
            days = round(float(window_months) * DAYS_PER_MONTH)
            keep += f" AND a.response_date > DATE '{data.as_of.isoformat()}' - INTERVAL {days} DAY"
    keys = "".join(f'CAST({c}"{col}" AS VARCHAR) AS "{col}", GROUPING({c}"{col}") AS "_rolled_{col}", '
                   for col in columns)
    sets = ", ".join(["()", *(f'({c}"{col}")' for col in columns)])
    joined = f"({source}) a" if c == "a." else f"({source}) a JOIN customers c USING (customer_id)"
    counts = data.df(f"SELECT {keys}"
                     f"{band_counts_sql('a.score', 'nps')} "
                     f"FROM {joined} WHERE {keep} "
                     f"GROUP BY GROUPING SETS ({sets})")
    bands = ["detractors", "passives", "promoters"]
    rolled = counts[[f"_rolled_{col}" for col in columns]].to_numpy() == 1
    overall = counts[rolled.all(axis=1)] if columns else counts
    out = {None: pd.DataFrame({"all_customers": ["all"], **{k: [int(overall[k].sum())] for k in bands}})}
    for j, col in enumerate(columns):
        mine = rolled.sum(axis=1) == len(columns) - 1
        part = counts[mine & ~rolled[:, j]][[col, *bands]]
        part = part.astype({col: "object", **{k: "int64" for k in bands}})
        out[col] = part.sort_values(col, na_position="last").reset_index(drop=True)
    return out


def answers(data, which: str = "latest", score: str = "nps") -> pd.DataFrame:
    """Survey answers with the customer's segment columns.

    Parameters
    ----------
    data : CXData
    which : {"latest", "first", "all"}
        One answer per customer (their latest or first before ``as_of``) or every answer.
    score : str
        Score column to keep rows for (rows without it are dropped).

    Returns
    -------
    DataFrame
        ``customer_id, response_date`` (dated data), the score columns, and the segment columns.
    """
    if which not in ("latest", "first", "all"):
        raise ValueError("which must be 'latest', 'first' or 'all'")
    segs = "".join(f', c."{s}"' for s in data.segments)
    if data.mode == "snapshot":
        scores = ", ".join(f"c.{s}" for s in data.scores)
        return data.df(f"SELECT c.customer_id, {scores}{segs} FROM customers c WHERE c.{score} IS NOT NULL")
    scores = ", ".join(f"r.{s}" for s in data.scores)
    query = (f"SELECT r.customer_id, r.response_date, {scores}{segs} FROM responses r "
             f"JOIN customers c USING (customer_id) WHERE r.{score} IS NOT NULL")
    if which != "all":
        order = "DESC" if which == "latest" else "ASC"
        query += (" QUALIFY row_number() OVER (PARTITION BY r.customer_id "
                  f"ORDER BY {answer_order(score, order, 'r.')}) = 1")
    return data.df(query + " ORDER BY r.customer_id, r.response_date")


from cxkit.clock import CLOCKS, clock_description  # noqa: E402,F401  (the clock's home is cxkit.clock)


def survival_frame(data, clock: str = "response", which: str = "latest", score: str | None = None,
                   segment: str = "band", cuts=None, relation: bool = False, carry=(), slim: bool = False,
                   _answers: str | None = None, _wide: bool = False):
    """One row per customer (or per answer spell) ready for survival analysis.

    Parameters
    ----------
    data : CXData
    clock : {"response", "tenure_entry", "tenure"}
        ``response`` (default): time starts at the survey answer, so nobody is credited with the
        time they had to survive to answer (immortal-time bias). ``tenure_entry``: time since
        signup, entering the risk set at the answer (left truncation). ``tenure``: time since
        signup; the only clock for snapshot data such as Telco.
    which : {"latest", "first"}
        ``latest``: every answer starts a spell in its band, which ends at the next answer
        (censored) or at churn; ``first``: one spell per customer from their first answer.
    score : str, optional
        ``nps``, ``csat`` or ``effort`` (default: ``nps`` when present, else the first score).
    segment : str
        ``band`` (the score's band), ``score`` (the raw score) or a segment column such as ``plan``.
    cuts : optional
        Other band cut points (see :func:`cxkit.nps.band`).
    relation : bool
        Return the DuckDB relation instead of a DataFrame (for large data).
    carry : sequence of str
        More ``customers`` columns to keep (``referrals``, ``signup_date``, ...).
    slim : bool
        Keep only ``customer_id, start_date, duration, event, segment``, ``monthly_revenue`` (when known) and
        ``carry`` (dated data): no score, segment columns or churn reason to read and carry.
    _answers : str, optional
        A table (or parenthesised query) of :func:`_answer_spells_sql` (``which="latest"``, dated data), read
        instead of ordering the answers here.
    _wide : bool
        With ``_answers`` holding ``first_answer``: every answer spell, the rule that keeps it as ``_keep``, and
        the columns :func:`answer_spells` gives its other readers (:data:`_WIDE_COLUMNS`).

    Returns
    -------
    DataFrame
        ``customer_id`` (and ``start_date`` for dated data), ``duration, event, segment`` (+ ``entry``
        for ``tenure_entry``), the score, the segment
        columns, ``churn_reason`` (on events) and ``monthly_revenue`` when known. ``attrs`` holds
        ``clock`` (a sentence), ``time_unit`` and ``entry_col``.
    """
    from cxkit.contract import DAYS_PER_MONTH
    from cxkit.errors import CxkitError, CxkitWarning
    from cxkit.scales import SCALES

    if clock not in CLOCKS:
        raise CxkitError(f"clock must be one of {', '.join(CLOCKS)}, not {clock!r}")
    if which not in ("latest", "first"):
        raise CxkitError("which must be 'latest' or 'first'")
    score = score or ("nps" if "nps" in data.scores else (data.scores[0] if data.scores else None))
    if segment in ("band", "score") and score not in data.scores:
        raise CxkitError(f"no {score or 'score'} column in the data (scores: {', '.join(data.scores) or 'none'})")
    if segment not in ("band", "score") and segment not in data.segments:
        raise CxkitError(f"unknown segment {segment!r}; use 'band', 'score' or one of {', '.join(data.segments)}")
    if data.mode == "snapshot" and clock != "tenure":
        raise CxkitError("snapshot data (no dates) can only be analysed on the tenure clock: use clock='tenure'")

    scale = SCALES.get(score)
    if scale is not None and cuts is not None:
        scale = scale.with_cuts(cuts)
    seg_expr = _segment_sql(scale, segment, "s.score", "c.")
    extra = "".join(f', c."{col}"' for col in data.segments) if not slim else ""
    extra += ", c.monthly_revenue" if data.has("customers", "monthly_revenue") else ""
    extra += "".join(f', c."{col}"' for col in carry if col not in data.segments and col != "monthly_revenue")
    reason = "c.churn_reason" if data.has("customers", "churn_reason") else "NULL"
    dpm = DAYS_PER_MONTH

    if data.mode == "snapshot":
        sql = (f"SELECT c.customer_id, CAST(c.duration AS DOUBLE) AS duration, c.churned AS event, "
               f"{seg_expr} AS segment, "
               f"s.score AS score{extra}, CASE WHEN c.churned = 1 THEN coalesce({reason}, 'unknown') END "
               f"AS churn_reason FROM customers c, LATERAL (SELECT c.{score} AS score) s "
               f"WHERE c.{score} IS NOT NULL")
    else:
        as_of = f"DATE '{data.as_of.isoformat()}'"
        spells = f"SELECT * FROM {_answers}" if _answers else _answer_spells_sql(score)
        if clock == "tenure" or which == "first":  # one answer per customer: no next answer to look up
            order = "DESC" if which == "latest" and clock == "tenure" else "ASC"
            spells = (f"SELECT customer_id, response_date, {score} AS score, NULL::DATE AS next_date "
                      f"FROM responses WHERE {score} IS NOT NULL QUALIFY row_number() OVER "
                      f"(PARTITION BY customer_id ORDER BY {answer_order(score, order)}) = 1")
        end = (f"coalesce(c.end_date, {as_of})" if which == "first" or clock == "tenure"
               else f"coalesce(s.next_date, c.end_date, {as_of})")
        event = ("CASE WHEN c.end_date IS NOT NULL THEN 1 ELSE 0 END" if which == "first" or clock == "tenure"
                 else "CASE WHEN s.next_date IS NULL AND c.end_date IS NOT NULL THEN 1 ELSE 0 END")
        start = "s.response_date" if clock == "response" else "c.signup_date"
        entry = (f", date_diff('day', c.signup_date, s.response_date) / {dpm} AS entry"
                 if clock == "tenure_entry" else "")
        tail = f"{entry}{extra}" if slim else (f", s.score AS score{entry}{extra}, CASE WHEN {event} = 1 THEN "
                                               f"coalesce({reason}, 'unknown') END AS churn_reason")
        if _wide:  # the answer's place in the customer's answers and the customer's dates, for the other readers
            dates = [col for col in ("signup_date", "end_date", "referrals") if data.has("customers", col)]
            tail += ", s.next_date AS _next_date, s.first_answer AS _first" + "".join(f", c.{col} AS _{col}"
                                                                                       for col in dates)
        inner = (f"SELECT c.customer_id, {start} AS start_date, "
                 f"date_diff('day', {start}, {end}) / {dpm} AS duration, {event} AS event, "
                 f"{seg_expr} AS segment{tail} "
                 f"FROM ({spells}) s JOIN customers c USING (customer_id)")
        keep = "duration > entry" if clock == "tenure_entry" else "(duration > 0 OR event = 1)"
        sql = f"SELECT *, {keep} AS _keep FROM ({inner})" if _wide else f"SELECT * FROM ({inner}) WHERE {keep}"
    rel = data.sql(sql)
    description = clock_description(clock, which, data.mode)
    if clock == "tenure" and data.mode == "dated":
        import warnings

        warnings.warn("tenure clock on dated data: " + description.split("; ", 1)[1], CxkitWarning, stacklevel=2)
    if relation:
        return rel
    frame = data.df(sql)
    if segment == "band" and scale is not None:
        frame["segment"] = pd.Categorical(frame["segment"].astype(str), categories=scale.labels, ordered=True)
    frame.attrs.update({"clock": description, "time_unit": "month",
                        "entry_col": "entry" if clock == "tenure_entry" else None})
    return frame


def _segment_sql(scale, segment: str, score: str, customer: str) -> str:
    """A spell's segment as SQL: the band of ``score`` (on ``scale``), the score itself, or a segment column of
    the customer (``customer`` is its table's prefix, such as ``c.``)."""
    from cxkit.scales import band_sql

    return {"band": band_sql(score, scale) if scale else "NULL",
            "score": f"CAST({score} AS VARCHAR)"}.get(segment, f'CAST({customer}"{segment}" AS VARCHAR)')


def _answer_spells_sql(score: str, first: bool = False) -> str:
    """Every answer with the date of the customer's next one (``customer_id, response_date, score, next_date``);
    the last answer has none (``response_date`` is never missing in validated data). With ``first`` also
    ``first_answer``: whether it is the customer's first, in the same order (:func:`answer_order`)."""
    window = f"OVER (PARTITION BY customer_id ORDER BY {answer_order(score)})"
    flag = f", row_number() {window} = 1 AS first_answer" if first else ""
    return (f"SELECT customer_id, response_date, {score} AS score, lead(response_date) {window} AS next_date{flag} "
            f"FROM responses WHERE {score} IS NOT NULL")


#: The columns :func:`answer_spells` adds to the spells: whether the spell is kept (``_keep``), the next
#: answer's date, whether the answer is the customer's first, and the customer's dates and referrals.
_WIDE_COLUMNS = ("_keep", "_next_date", "_first", "_signup_date", "_end_date", "_referrals")


def answer_spells(data, score: str) -> str | None:
    """The table behind :func:`spells_table` for dated data on the response clock, when it was made for this
    data and score (nothing is made here).

    The customers are joined to their answers once: the LTV frame (first answers), the headline NPS counts
    (latest answers) and the NPS trend's mix (every answer) read it instead of joining the customers again.

    Parameters
    ----------
    data : CXData
    score : str
        The score whose answers it holds (``nps``, ``csat`` or ``effort``).

    Returns
    -------
    str or None
        The temp table's name, or None when :func:`spells_table` has not made it (snapshot data, another
        clock, or not yet). One row per answer: ``customer_id, start_date`` (the answer's date), the spell's
        ``duration, event, segment``, ``score``, the segment columns, ``monthly_revenue`` and ``churn_reason``
        as :func:`spells_table` gives them, and :data:`_WIDE_COLUMNS`: ``_keep`` (the spells' own rule: kept
        spells are the spells table), ``_next_date`` (NULL on the latest answer), ``_first`` (the customer's
        first answer) and the customer's ``_signup_date``, ``_end_date`` and ``_referrals`` where the data
        has them.

    Examples
    --------
    >>> rel = spells_table(data)                       # doctest: +SKIP
    >>> answer_spells(data, "nps")                     # doctest: +SKIP
    '_spells_nps'
    """
    name = f"_spells_{score}"
    return name if data.mode == "dated" and score in data.scores and _has_temp(data, name) else None


def _make_answer_spells(data, score: str) -> str:
    """:func:`answer_spells`' table, made once per data and score; its latest answers are also
    :func:`latest_answers`' (the rows that window would pick: the last in answer order), a view on it rather
    than a copy (3M customers' latest answers were 75 MB more at 10M)."""
    name = f"_spells_{score}"
    if not _has_temp(data, name):
        rel = survival_frame(data, clock="response", which="latest", score=score, relation=True,
                             _answers=f"({_answer_spells_sql(score, first=True)})", _wide=True)
        data.con.execute(f"CREATE TEMP TABLE {name} AS {rel.sql_query()}")
    if not _has_temp(data, f"_latest_{score}"):
        data.con.execute(f"CREATE TEMP VIEW _latest_{score} AS SELECT customer_id, score, start_date AS "
                         f"response_date FROM {name} WHERE _next_date IS NULL")
    return name


def spells_table(data, clock: str = "response", which: str = "latest", score: str | None = None):
    """:func:`survival_frame` computed once into a DuckDB temp table of its own; returns a relation on it.

    Models that each aggregate the same spells read the table instead of recomputing the joins. The
    table's name is this module's business: query the relation (``rel.query("f", "SELECT ... FROM f")``).
    Answer spells of dated data (the response clock, every answer) are :func:`answer_spells`' table, kept spells
    only: the answers are put in order and joined to their customers once, for :func:`latest_answers`, the LTV
    frame, the headline NPS counts and the NPS trend too.
    """
    import uuid

    from cxkit.sql import ident

    resolved = score or ("nps" if "nps" in data.scores else (data.scores[0] if data.scores else None))
    if data.mode == "dated" and clock == "response" and which == "latest" and resolved in data.scores:
        name = _make_answer_spells(data, resolved)
        columns = [c for c in data.sql(f"SELECT * FROM {name} LIMIT 0").columns if c not in _WIDE_COLUMNS]
        return data.sql(f"SELECT {', '.join(ident(c) for c in columns)} FROM {name} WHERE _keep")
    rel = survival_frame(data, clock=clock, which=which, score=score, relation=True)
    name = f"_spells_{uuid.uuid4().hex[:12]}"
    data.con.execute(f"CREATE TEMP TABLE {name} AS {rel.sql_query()}")
    return data.sql(f"SELECT * FROM {name}")


def drop_ltv_frame(data) -> None:
    """Release the temp table :func:`ltv_frame` (``relation=True``) keeps, once its fit is done."""
    data.con.execute("DROP TABLE IF EXISTS _ltv_frame")


def ltv_frame(data, score: str | None = None, segment: str = "band", cuts=None, relation: bool = False):
    """One row per customer from their first answer on, with what they paid and cost after it.

    The clock is the response clock (first answer): lifetime value is the value of a customer
    from the moment they gave their score.

    Parameters
    ----------
    data : CXData
    score, segment, cuts
        As in :func:`survival_frame`.
    relation : bool
        Keep the frame in DuckDB (a temp table ``_ltv_frame``) and return a relation on it;
        :meth:`cxkit.ltv.SegmentLTV.fit` then aggregates it there instead of in pandas.

    Returns
    -------
    DataFrame
        ``duration, event, segment`` plus, counted from the answer on: ``revenue`` (billed),
        ``billed_months``, ``cost`` (contacts), ``contacts``, ``retention_cost`` (contacts of a
        kind containing "retention"), ``exposure_months``; and ``referrals`` with ``tenure_months``
        (whole tenure). Snapshot data: ``revenue`` = ``monthly_revenue`` for one billed month.
        The relation also has ``customer_id``. Rows are in ``customer_id`` order.
    """
    sql = _ltv_sql(data, score, segment, cuts)
    if relation:
        data.con.execute(f"CREATE OR REPLACE TEMP TABLE _ltv_frame AS {sql}")
        data.con.execute("DROP TABLE IF EXISTS _ltv_base")
        return data.sql("SELECT * FROM _ltv_frame")
    frame = data.df(sql + " ORDER BY customer_id")  # a fixed order: the same seed then draws the same bootstrap
    data.con.execute("DROP TABLE IF EXISTS _ltv_base")
    frame = frame.drop(columns="customer_id")
    if segment == "band":
        frame.attrs["base_counts"] = value_base(data, score)
    order = survival_frame_order(data, score, segment, cuts)
    if order:
        frame["segment"] = pd.Categorical(frame["segment"].astype(str), categories=order, ordered=True)
    clock = "tenure" if data.mode == "snapshot" else "response"
    frame.attrs.update({"clock": clock_description(clock, "first", data.mode), "time_unit": "month"})
    return frame


def _ltv_sql(data, score, segment, cuts) -> str:
    """The LTV frame's query over the first-answer spells: :func:`answer_spells`' first answers when made (read
    where they lie), else a temp table ``_ltv_base`` created here (computed once, joined twice)."""
    from cxkit.contract import DAYS_PER_MONTH

    clock = "tenure" if data.mode == "snapshot" else "response"
    carry = [c for c in ("referrals", "signup_date", "end_date") if data.has("customers", c)]
    resolved = score or ("nps" if "nps" in data.scores else (data.scores[0] if data.scores else None))
    table = answer_spells(data, resolved) if segment in ("band", "score", *data.segments) else None
    if table is not None:  # the first answers already joined to their customers: a cheap read, twice
        name = f"({_first_spells_sql(data, table, resolved, segment, cuts, carry)})"
        starts = f"(SELECT customer_id, start_date FROM {table} WHERE _first)"  # what the bills and contacts need
    else:  # the columns read below
        base = survival_frame(data, clock=clock, which="first", score=score, segment=segment, cuts=cuts,
                              relation=True, carry=carry, slim=data.mode == "dated").sql_query()
        name = starts = "_ltv_base"
        data.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {base}")
    referrals = "coalesce(f.referrals, 0)" if "referrals" in carry else "0"
    monthly = "coalesce(f.monthly_revenue, 0)" if data.has("customers", "monthly_revenue") else "0"
    if data.mode == "snapshot":
        return (f"SELECT f.customer_id, f.duration, f.event, f.segment, {monthly} AS revenue, "
                "1.0 AS billed_months, 0.0 AS cost, 0 AS contacts, 0.0 AS retention_cost, "
                f"f.duration AS exposure_months, {referrals} AS referrals, f.duration AS tenure_months FROM {name} f")
    as_of = f"DATE '{data.as_of.isoformat()}'"
    if data.has("revenue"):
        revenue = ("SELECT r.customer_id, sum(r.amount) AS revenue, count(*) AS billed_months FROM revenue r "
                   f"JOIN {starts} f USING (customer_id) WHERE r.month >= date_trunc('month', f.start_date) "
                   "GROUP BY 1")
        revenue_cols = "coalesce(rv.revenue, 0) AS revenue, coalesce(rv.billed_months, 0) AS billed_months"
        revenue_join = f"LEFT JOIN ({revenue}) rv USING (customer_id) "
    else:  # a run rate per customer (or nothing) instead of a bill per month
        billed = "1" if data.has("customers", "monthly_revenue") else "0"
        revenue_cols, revenue_join = f"{monthly} AS revenue, {billed} AS billed_months", ""
    cost = "coalesce(k.cost, 0)" if data.has("contacts", "cost") else "0"
    if data.has("contacts"):
        contacts = ("SELECT k.customer_id, sum(" + cost + ") AS cost, count(*) AS contacts, "
                    f"sum(CASE WHEN lower(k.kind) LIKE '%retention%' THEN {cost} ELSE 0 END) AS retention_cost "
                    f"FROM contacts k JOIN {starts} f USING (customer_id) WHERE k.date >= f.start_date GROUP BY 1")
        contact_cols = ("coalesce(ct.cost, 0) AS cost, coalesce(ct.contacts, 0) AS contacts, "
                        "coalesce(ct.retention_cost, 0) AS retention_cost")
        contact_join = f"LEFT JOIN ({contacts}) ct USING (customer_id) "
    else:
        contact_cols, contact_join = "0.0 AS cost, 0 AS contacts, 0.0 AS retention_cost", ""
    tenure = (f"date_diff('day', f.signup_date, coalesce(f.end_date, {as_of})) / {DAYS_PER_MONTH}"
              if "end_date" in carry else f"date_diff('day', f.signup_date, {as_of}) / {DAYS_PER_MONTH}")
    return (f"SELECT f.customer_id, f.duration, f.event, f.segment, {revenue_cols}, {contact_cols}, "
            f"f.duration AS exposure_months, {referrals} AS referrals, {tenure} AS tenure_months "
            f"FROM {name} f {revenue_join}{contact_join}")


def _first_spells_sql(data, table: str, score: str, segment: str, cuts, carry) -> str:
    """The rows of ``survival_frame(data, which="first", slim=True, carry=carry)`` (dated data, response clock)
    read from :func:`answer_spells`' ``table``: each customer's first answer until they left or ``as_of``, the
    same columns and values, without ordering the answers or joining the customers again."""
    from cxkit.contract import DAYS_PER_MONTH
    from cxkit.scales import SCALES

    scale = SCALES.get(score)
    if scale is not None and cuts is not None:
        scale = scale.with_cuts(cuts)
    end = f"coalesce(_end_date, DATE '{data.as_of.isoformat()}')"
    extra = ", monthly_revenue" if data.has("customers", "monthly_revenue") else ""
    extra += "".join(f", _{col} AS {col}" for col in carry)
    inner = (f"SELECT customer_id, start_date, date_diff('day', start_date, {end}) / {DAYS_PER_MONTH} AS duration, "
             f"CASE WHEN _end_date IS NOT NULL THEN 1 ELSE 0 END AS event, "
             f"{_segment_sql(scale, segment, 'score', '')} AS segment{extra} FROM {table} WHERE _first")
    return f"SELECT * FROM ({inner}) WHERE (duration > 0 OR event = 1)"


def survival_frame_order(data, score=None, segment="band", cuts=None) -> list[str] | None:
    """Band labels in order when segments are score bands, else None."""
    from cxkit.scales import SCALES

    score = score or ("nps" if "nps" in data.scores else (data.scores[0] if data.scores else None))
    if segment != "band" or score not in SCALES:
        return None
    scale = SCALES[score] if cuts is None else SCALES[score].with_cuts(cuts)
    return scale.labels


def value_base(data, score: str | None = None) -> dict:
    """Active customers per band of their latest answer, scaled up to every active customer.

    The base the value at stake is counted on, in the report and by default in the API
    (:func:`ltv_frame` carries it in ``attrs["base_counts"]``): those who did not answer are assumed to
    spread over the bands as those who did.
    """
    counts, active = active_base(data, score)
    answered = sum(counts.values())
    scale = active / answered if answered else 1.0
    return {k: v * scale for k, v in counts.items()}


def active_base(data, score: str | None = None, segment: str = "band", cuts=None) -> tuple[dict, int]:
    """Active customers at ``as_of`` per segment of their latest answer, and all active customers.

    Returns
    -------
    counts : dict
        Segment -> active customers who answered, in that segment.
    active : int
        All active customers, answered or not (to scale a value at stake to the whole base).
    """
    from cxkit.scales import SCALES, band_sql

    score = score or ("nps" if "nps" in data.scores else data.scores[0])
    scale = SCALES[score] if cuts is None else SCALES[score].with_cuts(cuts)
    seg = band_sql("s.score", scale) if segment == "band" else (
        "CAST(s.score AS VARCHAR)" if segment == "score" else f'CAST(c."{segment}" AS VARCHAR)')
    if data.mode == "snapshot":
        active_sql = "SELECT count(*) FROM customers WHERE churned = 0"
        sql = (f"SELECT {seg} AS segment, count(*) FROM customers c, LATERAL (SELECT c.{score} AS score) s "
               f"WHERE c.churned = 0 AND c.{score} IS NOT NULL GROUP BY 1")
    elif segment in ("band", "score"):  # sums over the customers counted once (shared with the ledger)
        seg = band_sql("k", scale) if segment == "band" else "CAST(k AS VARCHAR)"
        rows = data.sql(f"SELECT {seg} AS segment, CAST(sum(n) AS BIGINT) FROM {customer_cube(data, score)} "
                        "WHERE active = 1 GROUP BY 1").fetchall()
        return {str(k): int(v) for k, v in rows if k is not None}, sum(int(v) for _, v in rows)
    else:
        active_sql = "SELECT count(*) FROM customers WHERE end_date IS NULL"
        sql = (f"SELECT {seg} AS segment, count(*) FROM {latest_answers(data, score)} s "
               "JOIN customers c USING (customer_id) "
               "WHERE c.end_date IS NULL GROUP BY 1")
    counts = {str(k): int(v) for k, v in data.sql(sql).fetchall() if k is not None}
    return counts, int(data.sql(active_sql).fetchall()[0][0])
