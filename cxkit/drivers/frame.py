"""One row per survey answer with the candidate drivers of its score, built in DuckDB.

For dated data each answer gets the customer's contacts of each kind in the
``window_days`` before it (``d - window <= contact day < d``), the repeat
contacts among them (a contact within ``repeat_days`` after the customer's
previous one), their cost, the customer's segments and tenure at the answer,
and the answer's own CSAT and effort when asked. Snapshot data (no dates) has
one row per customer with the snapshot score, segments and tenure.

Examples
--------
>>> frame = driver_frame(data, window_days=90)            # doctest: +SKIP
>>> frame.columns[:6].tolist()                             # doctest: +SKIP
['customer_id', 'response_date', 'nps', 'detractor', 'tenure_months', 'call_contacts']
"""

from __future__ import annotations

import re
import weakref

import pandas as pd

from cxkit.contract import DAYS_PER_MONTH
from cxkit.errors import CxkitError
from cxkit.scales import SCALES
from cxkit.sql import ident, literal

__all__ = ["driver_frame", "outcome_flag", "contact_kind_columns", "contact_kinds", "drop_answers_table",
           "kind_counts_sql", "is_complaint_sql", "rate_sql", "answers_in", "REPEAT_DAYS", "ANSWER_COUNT"]

#: A contact this many days or fewer after the customer's previous contact is a repeat contact.
REPEAT_DAYS = 7
#: The column of ``driver_frame(relation="patterns")`` counting the answers of each pattern (never a driver).
ANSWER_COUNT = "answer_count"
ANSWERS_TABLE = "_driver_answers"  # the temporary table of driver_frame(relation="table" or "patterns"), this module's
_KINDS: dict = {}  # id(data) -> (a weak reference to it, its contact kinds): contact_kinds


_COUNTED = "_driver_patterns_counted"  # the Arrow table of the compiled patterns, registered on the connection


def drop_answers_table(data) -> None:
    """Drop the temporary table (or view) :func:`driver_frame` made with ``relation="table"`` or ``"patterns"``.

    >>> drop_answers_table(data)      # doctest: +SKIP
    """
    if getattr(data, "engine", "local") == "warehouse":  # the backend drops what it made, table or view
        data.con.execute(f"DROP TABLE IF EXISTS {ANSWERS_TABLE}")
        return
    kinds = data.sql(f"SELECT 'VIEW' FROM duckdb_views() WHERE view_name = {literal(ANSWERS_TABLE)} AND temporary "
                     f"UNION ALL SELECT 'TABLE' FROM duckdb_tables() WHERE table_name = {literal(ANSWERS_TABLE)} "
                     "AND temporary").fetchall()
    for (kind,) in kinds:
        data.con.execute(f"DROP {kind} IF EXISTS {ANSWERS_TABLE}")
    try:
        data.con.unregister(_COUNTED)
    except Exception:  # noqa: BLE001 - none registered
        pass


def kind_counts_sql(kinds: dict, alias: str = "k") -> str:
    """``, count(*) FILTER (WHERE k.kind = 'call') AS call_contacts, ...`` for :func:`contact_kind_columns`."""
    return "".join(f", count(*) FILTER (WHERE CAST({alias}.kind AS VARCHAR) = {literal(kind)}) AS {ident(col)}"
                   for kind, col in kinds.items())


def is_complaint_sql(complaint_kinds, column: str = "k.kind") -> str:
    """Whether a contact's kind is one of ``complaint_kinds`` (compared without regard to case), as SQL."""
    kinds = ", ".join(literal(str(k).lower()) for k in complaint_kinds) or "NULL"
    return f"lower(CAST({column} AS VARCHAR)) IN ({kinds})"


def _column_name(kind: str) -> str:
    name = re.sub(r"\W+", "_", str(kind).strip().lower()).strip("_") or "other"  # letters of any script kept
    return f"{name}_contacts"


def contact_kinds(data) -> list[str]:
    """The contact kinds written in the data, in text order: one pass over the contacts per data object (the
    driver frame, experience hazards and the departures' story all ask; validated data does not change)."""
    known = _KINDS.get(id(data))
    if known is not None and known[0]() is data:
        return list(known[1])
    kinds = [r[0] for r in data.sql("SELECT DISTINCT CAST(kind AS VARCHAR) FROM contacts "
                                    "WHERE kind IS NOT NULL ORDER BY 1").fetchall()]
    try:  # kept while the data lives (validated data is a dataclass: compared by value, so keyed by its id)
        _KINDS[id(data)] = (weakref.ref(data), tuple(kinds))
        weakref.finalize(data, _KINDS.pop, id(data), None)
    except TypeError:  # an object that cannot be weakly referenced: asked again next time
        pass
    return kinds


def contact_kind_columns(data) -> dict:
    """Contact kind -> driver column name (``call`` -> ``call_contacts``), in the data's order of kinds."""
    if not data.has("contacts"):
        return {}
    kinds = contact_kinds(data)
    out, used = {}, set()
    for kind in kinds:
        name = _column_name(kind)
        while name in used:
            name = "x_" + name
        used.add(name)
        out[kind] = name
    return out


def driver_frame(data, window_days: int = 90, repeat_days: int = REPEAT_DAYS, relation: bool | str = False,
                 score: str | None = None):
    """Candidate drivers of each answer's score, one row per answer (or per pattern of answers, counted).

    Parameters
    ----------
    data : CXData
        Validated data (:func:`cxkit.load_data`).
    window_days : int
        Contacts in this many days before the answer count as its experiences.
    repeat_days : int
        A contact within this many days after the customer's previous contact is a repeat contact.
    relation : bool, "table" or "patterns"
        Return the DuckDB relation instead of a DataFrame (for large data: :class:`KeyDrivers` aggregates it
        without bringing rows into Python); ``"table"`` computes it once into a temporary table first, for
        several readers (drop it with :func:`drop_answers_table`). ``"patterns"`` keeps in that table only the
        distinct rows of the outcome columns and drivers, each with the number of its answers in the column
        :data:`ANSWER_COUNT` (no ``customer_id``, ``response_date``): all :class:`KeyDrivers`,
        :class:`TouchpointImpact` and :func:`answers_in` read, a few hundred thousand rows for millions of
        answers. On a local engine with integer ids and scores it is counted by a compiled pass over each group
        of customers (:mod:`cxkit.drivers.patterns`: memory that does not grow with the answers), elsewhere by
        grouping this frame's SQL.
    score : str, optional
        The score whose drivers are sought (``nps``, ``csat`` or ``effort``; default NPS when asked, else the
        data's first score). Its answers are the rows; the other scores of the same answer are drivers.

    Returns
    -------
    DataFrame
        ``customer_id, response_date, nps, detractor, tenure_months`` (whole months completed at the answer,
        so that answers collapse into few patterns), the segment columns (plan,
        region), ``csat`` and ``effort`` when asked, and with a contacts table one ``<kind>_contacts``
        column per contact kind, ``repeat_contacts`` and ``contact_cost`` (when contacts have a cost).
        For another score the outcome columns are the score (``csat``) and ``low_band`` (1 for an answer
        in its lowest band: dissatisfied, high effort), and NPS, when asked, is a driver.
        ``attrs["drivers"]`` lists the driver columns, ``attrs["window_days"]`` the window,
        ``attrs["score"]`` and ``attrs["flag"]`` the outcome columns.

    Examples
    --------
    >>> frame = driver_frame(data, window_days=90)                       # doctest: +SKIP
    >>> patterns = driver_frame(data, relation="patterns")               # doctest: +SKIP
    >>> answers_in(patterns) == len(frame)                               # doctest: +SKIP
    True
    >>> kd = KeyDrivers().fit(patterns)              # the fit on the frame's answers    # doctest: +SKIP
    >>> drop_answers_table(data)                                         # doctest: +SKIP
    """
    if relation not in (False, True, "table", "patterns"):  # a misspelt "pattern" is not a relation of answers
        raise CxkitError(f"relation must be False, True, 'table' or 'patterns', not {relation!r}")
    window_days, repeat_days = int(window_days), int(repeat_days)
    if window_days < 1 or repeat_days < 0:
        raise CxkitError("window_days must be at least 1 and repeat_days at least 0")
    score = score or ("nps" if "nps" in data.scores else (data.scores or [None])[0])
    if score not in data.scores:
        raise CxkitError(f"drivers of the score need the {score or 'score'} question "
                         f"(responses.{score or 'nps'} or customers.{score or 'nps'})")
    flag = outcome_flag(score)
    others = [s for s in ("nps", "csat", "effort") if s != score]
    segments = [s for s in data.segments if s in ("plan", "region")] or list(data.segments)
    seg_cols = "".join(f", CAST(c.{ident(s)} AS VARCHAR) AS {ident(s)}" for s in segments)
    kinds = {}
    has_cost = data.mode == "dated" and data.has("contacts") and data.has("contacts", "cost")
    if data.mode != "dated":
        scores = "".join(f", c.{ident(s)}" for s in others if data.has("customers", s))
        query = (f"SELECT c.customer_id, {_outcome_sql(score, 'c')}, "
                 f"CAST(floor(c.duration) AS INTEGER) AS tenure_months{seg_cols}{scores} FROM customers c "
                 f"WHERE c.{ident(score)} IS NOT NULL")
    else:
        if not data.has("responses"):
            raise CxkitError("drivers of the score need survey answers (a responses table)")
        scores = "".join(f", r.{ident(s)}" for s in others if data.has("responses", s))
        contact_cols, contact_join = "", ""
        if data.has("contacts"):
            kinds = contact_kind_columns(data)
            counts, cost = kind_counts_sql(kinds), "cost" if has_cost else "NULL"
            cost_sum = ", coalesce(sum(k.cost), 0) AS contact_cost" if has_cost else ""
            contact_cols = "".join(f", coalesce(w.{ident(col)}, 0) AS {ident(col)}" for col in kinds.values())
            contact_cols += ", coalesce(w.repeat_contacts, 0) AS repeat_contacts"
            contact_cols += ", coalesce(w.contact_cost, 0) AS contact_cost" if cost_sum else ""
            contact_join = (
                "LEFT JOIN (SELECT r.customer_id, r.response_date"
                f"{counts}, count(*) FILTER (WHERE k.repeat) AS repeat_contacts{cost_sum} "
                "FROM (SELECT DISTINCT customer_id, response_date FROM responses) r "
                f"JOIN (SELECT customer_id, date, CAST(kind AS VARCHAR) AS kind, {cost} AS cost, "
                "coalesce(date_diff('day', lag(date) OVER (PARTITION BY customer_id ORDER BY date), date) <= "
                f"{repeat_days}, false)"
                f" AS repeat FROM ({_near_answers_sql(window_days + repeat_days)})) k "
                f"ON k.customer_id = r.customer_id AND k.date >= r.response_date - {window_days} "
                "AND k.date < r.response_date GROUP BY ALL) w "
                "ON w.customer_id = r.customer_id AND w.response_date = r.response_date ")
        query = (f"SELECT r.customer_id, r.response_date, {_outcome_sql(score, 'r')}, "
                 f"CAST(floor(date_diff('day', c.signup_date, r.response_date) / {DAYS_PER_MONTH!r}) AS INTEGER) "
                 "AS tenure_months"
                 f"{seg_cols}{scores}{contact_cols} FROM responses r JOIN customers c USING (customer_id) "
                 f"{contact_join}WHERE r.{ident(score)} IS NOT NULL")
    if relation == "patterns":
        scores_asked = [s for s in others if data.has("responses" if data.mode == "dated" else "customers", s)]
        return _patterns(data, query, score, scores_asked, segments, kinds, has_cost, window_days, repeat_days)
    if not relation:  # rows in a fixed order for a DataFrame; a relation is summed, never read in order
        query += " ORDER BY r.customer_id, r.response_date"
    rel = data.sql(query)
    drivers = [c for c in rel.columns if c not in ("customer_id", "response_date", score, flag)]
    if relation == "table":  # computed once into this module's temporary table, for several readers
        drop_answers_table(data)
        data.con.execute(f"CREATE OR REPLACE TEMP TABLE {ANSWERS_TABLE} AS {query}")
        return data.sql(f"SELECT * FROM {ANSWERS_TABLE}")
    if relation:
        return rel
    frame = rel.df()
    for s in segments:
        frame[s] = frame[s].astype("category")
    frame.attrs.update({"drivers": drivers, "window_days": window_days, "repeat_days": repeat_days,
                        "contact_kinds": kinds, "score": score, "flag": flag})
    return frame


def _patterns(data, query: str, score: str, others: list[str], segments: list[str], kinds: dict, has_cost: bool,
              window_days: int, repeat_days: int):
    """The frame's distinct rows but for ``customer_id, response_date``, with :data:`ANSWER_COUNT`, in the
    module's temporary table: counted by the compiled pass where it applies (then an Arrow table registered on
    the connection, read through a temporary view in the frame's types), else by grouping ``query``."""
    from cxkit.drivers.patterns import compiled_patterns

    drop_answers_table(data)
    rel = data.sql(query)
    kept = [c for c in rel.columns if c not in ("customer_id", "response_date")]
    counted = None
    if data.mode == "dated":
        counted = compiled_patterns(data, score, others, segments, kinds, has_cost, window_days, repeat_days)
    if counted is None:
        cols = ", ".join(ident(c) for c in kept)
        data.con.execute(f"CREATE OR REPLACE TEMP TABLE {ANSWERS_TABLE} AS SELECT {cols}, "
                         f"count(*) AS {ANSWER_COUNT} FROM ({query}) f GROUP BY ALL")
        return data.sql(f"SELECT * FROM {ANSWERS_TABLE}")
    types = dict(zip(rel.columns, (str(t) for t in rel.types), strict=True))
    flag = outcome_flag(score)
    low, high, _ = SCALES[score].cuts[0]
    select = ", ".join(f"CAST(p.{ident(score)} BETWEEN {low} AND {high} AS INTEGER) AS {ident(flag)}" if c == flag
                       else f"CAST(p.{ident(c)} AS {types[c]}) AS {ident(c)}" for c in kept)
    # the Arrow table (int32 values, a dictionary per segment) is the store: a view gives it the frame's types
    data.con.register(_COUNTED, counted)
    data.con.execute(f"CREATE TEMP VIEW {ANSWERS_TABLE} AS SELECT {select}, "
                     f"CAST(p.{ANSWER_COUNT} AS BIGINT) AS {ANSWER_COUNT} FROM {_COUNTED} p")
    return data.sql(f"SELECT * FROM {ANSWERS_TABLE}")


def answers_in(frame) -> int:
    """The answers of a :func:`driver_frame`: its rows, or with ``relation="patterns"`` the sum of their counts.

    >>> answers_in(pd.DataFrame({"nps": [9, 3], "answer_count": [4, 1]}))
    5
    """
    columns = list(frame.columns)
    if isinstance(frame, pd.DataFrame):
        return int(frame[ANSWER_COUNT].sum()) if ANSWER_COUNT in columns else len(frame)
    what = f"coalesce(sum({ANSWER_COUNT}), 0)" if ANSWER_COUNT in columns else "count(*)"
    return int(frame.aggregate(what).fetchone()[0])


def _near_answers_sql(days: int) -> str:
    """The contacts that can count before an answer or be the previous contact of one that does: those of
    customers who answered, from ``days`` (window + repeat days) before their first answer to their last.
    Dropping the others changes no count: a contact's previous one within the repeat days is never dropped."""
    return ("SELECT k.customer_id, k.date, k.kind, k.* EXCLUDE (customer_id, date, kind) FROM contacts k JOIN "
            "(SELECT customer_id, min(response_date) AS first, max(response_date) AS last FROM responses "
            f"GROUP BY customer_id) a ON k.customer_id = a.customer_id AND k.date >= a.first - {int(days)} "
            "AND k.date < a.last")


def outcome_flag(score: str) -> str:
    """The 0/1 column of an answer in the score's lowest band: ``detractor`` for NPS, else ``low_band``.

    >>> outcome_flag("nps"), outcome_flag("csat")
    ('detractor', 'low_band')
    """
    return "detractor" if score == "nps" else "low_band"


def _outcome_sql(score: str, alias: str) -> str:
    """The score and its lowest-band flag as two select items."""
    low, high, _ = SCALES[score].cuts[0]
    col = f"{alias}.{ident(score)}"
    return f"{col}, CAST({col} BETWEEN {low} AND {high} AS INTEGER) AS {outcome_flag(score)}"


def frame_drivers(frame, score: str = "nps") -> list[str]:
    """The driver columns of a :func:`driver_frame` (its ``attrs``, or every column but keys and the outcomes of
    ``score``)."""
    attrs = getattr(frame, "attrs", None) or {}
    if attrs.get("drivers"):
        return list(attrs["drivers"])
    return [c for c in frame.columns
            if c not in ("customer_id", "response_date", score, outcome_flag(score), ANSWER_COUNT)]


def is_categorical(series: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)


def rate_sql(data, of: str, where: str | None = None) -> str:
    """The monthly revenue of the customers ``of`` names (a query of their ``customer_id``) as SQL
    (``customer_id, rate``): the mean of their billed months, or ``monthly_revenue`` without a revenue table;
    no rows when the data measures no revenue (joined, their rate is NULL: not available, never 0). Joined
    where the rows are (a warehouse too), so no list of customers is sent anywhere; only those customers' rows
    are read (a join to every customer's rate would hold all of them in memory). With ``where`` (a condition on
    the ``customers`` table, aliased ``c``, that picks the same customers as ``of``), ``monthly_revenue`` is
    read in the same scan that picks them, instead of a second one joined to it.

    >>> rate_sql(data, "SELECT customer_id FROM gone")            # doctest: +SKIP
    'SELECT customer_id, avg(amount) AS rate FROM revenue WHERE customer_id IN (SELECT customer_id FROM gone) ...'
    """
    if data.has("revenue"):
        return f"SELECT customer_id, avg(amount) AS rate FROM revenue WHERE customer_id IN ({of}) GROUP BY 1"
    if data.has("customers", "monthly_revenue"):
        if where is not None:
            return f"SELECT c.customer_id, c.monthly_revenue AS rate FROM customers c WHERE {where}"
        return f"SELECT customer_id, monthly_revenue AS rate FROM customers WHERE customer_id IN ({of})"
    return "SELECT customer_id, CAST(NULL AS DOUBLE) AS rate FROM customers WHERE false"
