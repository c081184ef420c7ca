"""Each day's entries to and exits from the risk set, per covariate pattern, summed in DuckDB without the spells.

A time-varying Cox model reads the data only through its risk sets: on each
event day, how many customers of each covariate pattern are at risk and how
many of them leave. A customer's (start, stop] spell adds one *entry* to its
pattern on its start day and one *exit* (an event if the customer left) on its
stop day, so the risk set of a pattern on day ``d`` is the entries before ``d``
less the exits before ``d``, the cumulated sums of a delayed-entry life table.
The query here therefore never builds the spells: a customer without an
experience or answer adds its one spell to a plain ``GROUP BY``; the others are
read once in day order (one window over their change points), each change point
giving the entry and exit of the spell it starts, and every row goes straight
into a sum per (pattern, day).

One pass serves both of :class:`~cxkit.drivers.ExperienceHazards`'s models:
the pattern carries the band of the earlier answer (``NULL`` until the first
answer counts), the plan-and-region model sums over it (a spell cut in two at a
band change enters and leaves on the same day, which changes no risk set), and
the model that allows for the earlier answer keeps the rows where it is known.

Examples
--------
>>> print(moves_sql("pts", "base", ["complaints"], ["plan"]).split()[0])
WITH
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxkit.sql import ident, literal

__all__ = ["moves_sql", "risk_sets", "coded", "PRIOR_BAND", "EXPERIENCE_SEQ"]

#: The band of the customer's latest answer before the window (NULL before the first answer counts).
PRIOR_BAND = "earlier_band"
#: The ``seq`` of an experience's step: after every answer of its day (an answer's is its second of the day).
EXPERIENCE_SEQ = 86_400


def moves_sql(points: str, base: str, experiences: list[str], adjust: list[str]) -> str:
    """Entries, exits and events per pattern and day, from change points and one spell per customer.

    Parameters
    ----------
    points : str
        A table expression of change points: ``customer_id, t`` (day since signup, ``0 <= t < total``), the
        step of each experience (``+1`` when one starts counting, ``-1`` when it stops), ``band`` (an answer's
        band from ``t`` on, else NULL), ``seq`` (an answer's second of its day: of several on a day the latest
        counts; ``EXPERIENCE_SEQ`` for an experience's step), ``total``, ``churned`` and the adjusters; several
        rows may share a day.
    base : str
        A table expression with one row per customer observed for a positive time: ``total, churned`` and the
        adjusters. Each adds the spell (0, total] at level 0; a customer with change points has it corrected
        below (the first spell ends at the first change point instead).

    Returns
    -------
    str
        SQL giving ``<experiences>, <adjusters>, earlier_band, day, enter, leave, events`` (entries on ``day``,
        exits on ``day``, exits that are departures), plus the spells they stand for in two rows with
        ``day`` NULL: ``enter`` holds the spells of the plan-and-region model (a spell per change of an
        experience count) and ``leave`` those with a known earlier band.
    """
    adj = [ident(a) for a in adjust]
    keep = ", ".join(adj)
    lv = ", ".join(f"CAST(sum({e}) OVER w AS INTEGER) AS {e}" for e in experiences)
    zeros = ", ".join(f"0 AS {e}" for e in experiences)
    pick = ", ".join(f"CASE WHEN k < 2 THEN {e} ELSE 0 END AS {e}" for e in experiences)
    pattern = ", ".join([*experiences, *adj, PRIOR_BAND])
    sep = ", " if adj else ""
    return f"""WITH
spells AS (  -- each change day starts a spell at the levels reached, ending at the next change day or the end
  SELECT customer_id, t, total, churned{sep}{keep}, seq = {EXPERIENCE_SEQ} AS is_exp, {lv},
         last_value(band IGNORE NULLS) OVER w AS {PRIOR_BAND},
         lead(t) OVER o AS after, first_value(t) OVER w = t AS first
  FROM {points}
  -- a day's experience steps sort after its answers (the latest last): the last row of a day has every step of
  -- it and the day's band, and is_exp tells whether an experience count changed that day
  WINDOW w AS (PARTITION BY customer_id ORDER BY t, seq ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
         o AS (PARTITION BY customer_id ORDER BY t, seq)  -- lead takes no frame (Spark refuses one)
  QUALIFY after IS NULL OR after <> t),
ends AS (SELECT total{sep}{keep}, count(*) AS n, sum(churned) AS events FROM {base} GROUP BY ALL),
moves AS (
  -- k = 0: the spell's entry; 1: its exit; 2 and 3 (a customer's first change day only): the spell at level 0
  -- from signup ends here, not at the end as its row in the base says (an exit here, less that exit)
  SELECT {pick}{sep}{keep}, CASE WHEN k < 2 THEN {PRIOR_BAND} END AS {PRIOR_BAND},
         CASE k WHEN 0 THEN t WHEN 1 THEN coalesce(after, total) WHEN 2 THEN t ELSE total END AS day,
         CAST(k = 0 AS BIGINT) AS enter, CASE k WHEN 0 THEN 0 WHEN 3 THEN -1 ELSE 1 END AS leave,
         CASE k WHEN 1 THEN (CASE WHEN after IS NULL THEN churned ELSE 0 END) WHEN 3 THEN -churned ELSE 0 END
           AS events
  FROM spells CROSS JOIN (VALUES (0), (1), (2), (3)) v(k) WHERE k < 2 OR first
  UNION ALL  -- everyone's spell at level 0 from signup to the end, counted per end day first: its entries on
  -- day 0, then its exits and departures on the end day (two selects: Spark's explode does not zip two lists)
  SELECT {zeros}{sep}{keep}, NULL AS {PRIOR_BAND}, 0 AS day, n AS enter, 0 AS leave, 0 AS events FROM ends
  UNION ALL
  SELECT {zeros}{sep}{keep}, NULL AS {PRIOR_BAND}, total AS day, 0 AS enter, n AS leave, events FROM ends)
SELECT {pattern}, day, CAST(sum(enter) AS BIGINT) AS enter, CAST(sum(leave) AS BIGINT) AS leave,
       CAST(sum(events) AS BIGINT) AS events
FROM moves GROUP BY ALL
UNION ALL  -- the spells counted: a customer's first, and one per day an experience count changes after it
SELECT {", ".join(f"NULL AS {c}" for c in pattern.split(", "))}, NULL AS day,
       (SELECT count(*) FROM {base}) + count(*) FILTER (WHERE is_exp AND t > 0),
       count(*) FILTER (WHERE {PRIOR_BAND} IS NOT NULL), NULL
FROM spells"""


def coded(expression: str, levels) -> str:
    """``expression``, or with ``levels`` its place among them (1, 2, ...; NULL elsewhere), as SQL: the level
    numbers :func:`risk_sets` reads back (its ``codes``).

    >>> coded("plan", ["Basic", "Pro"])
    "CASE plan WHEN 'Basic' THEN 1 WHEN 'Pro' THEN 2 END"
    """
    if levels is None:
        return expression
    cases = " ".join(f"WHEN {literal(v)} THEN {i}" for i, v in enumerate(levels, start=1))
    return f"CASE {expression} {cases} END"  # a CASE, not list_position: any SQL engine runs it


def risk_sets(moves: pd.DataFrame, covariates: list[str], with_prior: bool, codes: dict | None = None):
    """Each event day's risk set per pattern from :func:`moves_sql`'s rows.

    Parameters
    ----------
    moves : DataFrame
        :func:`moves_sql`'s rows.
    covariates : list of str
    with_prior : bool
        Only the rows with a known earlier band (the model that allows for it).
    codes : dict, optional
        Column -> its levels, for columns written as level numbers (:func:`coded`): the patterns name the
        levels (and are sorted by them), and the rows are never decoded one by one.

    Returns
    -------
    patterns : DataFrame
        One row per pattern (the covariates), at risk on some event day.
    at_risk, events : ndarray (event days, patterns)
        Customers at risk and departures of each pattern on each event day.
    days : ndarray
        The event days.
    spells : int
        The spells the counts stand for.
    """
    day = moves["day"].to_numpy(dtype=float, na_value=np.nan)
    counted = np.isnan(day)
    spells = int(moves["leave" if with_prior else "enter"].to_numpy(dtype=float)[counted].sum())
    keep = ~counted
    if with_prior:
        keep &= moves[PRIOR_BAND].notna().to_numpy()
    # each row's pattern: its covariates' places among their sorted values (a missing value last), as one number
    code, keys, radix = np.zeros(int(keep.sum()), dtype=np.int64), {}, 1
    for col in covariates:
        places, values = pd.factorize(moves[col].to_numpy()[keep], sort=True)
        if codes and col in codes:  # level numbers: their levels, in text order
            values = np.asarray(codes[col], dtype=object)[np.asarray(values, dtype=np.int64) - 1]
            order = np.argsort(values, kind="stable")
            values, places = values[order], np.where(places < 0, -1, np.argsort(order)[places])
        places = np.where(places < 0, len(values), places)
        code, radix = code * (len(values) + 1) + places, radix * (len(values) + 1)
        keys[col] = values
    found, code = np.unique(code, return_inverse=True)  # patterns in the covariates' sort order
    day = day[keep].astype(np.int64)
    enter, leave, events = (moves[c].to_numpy(dtype=float)[keep] for c in ("enter", "leave", "events"))
    all_days, day_at = np.unique(day, return_inverse=True)
    on = np.bincount(day_at, weights=events, minlength=all_days.size) > 0
    event_days = all_days[on]
    # at risk on event day k: entered before it, less exits before it (an exit on the day is still at risk):
    # each move counts from the first event day after its own day on
    at_risk = np.zeros((event_days.size + 1, found.size))
    np.add.at(at_risk, (np.searchsorted(event_days, day, side="right"), code), enter - leave)
    at_risk = np.cumsum(at_risk, axis=0, out=at_risk)[:-1]
    grid = np.zeros((event_days.size, found.size))
    on_day = on[day_at]
    np.add.at(grid, (np.searchsorted(event_days, day[on_day]), code[on_day]), events[on_day])
    used = at_risk.sum(axis=0) > 0
    return (_patterns(found[used], keys, covariates), at_risk[:, used], grid[:, used], event_days, spells)


def _patterns(found: np.ndarray, keys: dict, covariates: list[str]) -> pd.DataFrame:
    """The covariates of each pattern number (see :func:`risk_sets`), a missing value as NaN."""
    columns = {}
    for col in reversed(covariates):
        values = keys[col]
        found, places = np.divmod(found, len(values) + 1)
        missing = places == len(values)
        if missing.any():
            values = np.append(np.asarray(values, dtype=object), np.nan)
        columns[col] = np.asarray(values)[places]
    return pd.DataFrame({col: columns[col] for col in covariates})
