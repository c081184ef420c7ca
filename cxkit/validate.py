"""The validation gateway's rules, run in DuckDB on the typed tables built by :mod:`cxkit.load`.

Every rule returns :class:`~cxkit.errors.Problem` records naming the table,
the column, the rule, the number of offending rows and up to five keys.
:func:`check_structure` runs before anything is read (mapping and columns);
:func:`check_values` runs on the typed tables. Neither modifies any input.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import warnings
from dataclasses import replace

from cxkit.contract import CONTRACT
from cxkit.errors import CxkitWarning, Problem
from cxkit.sql import ident
from cxkit.validate_keys import answer_rule_counts, ordered_customer_ids, repeat_candidates, unknown_count

__all__ = ["check_structure", "check_values", "check_dates_and_magnitudes", "suggest_date_format", "MAX_KEYS",
           "MAX_MAGNITUDE", "EARLIEST_PLAUSIBLE", "DATE_FORMATS", "warning_aggregates"]

MAX_KEYS = 5
#: A segment value, churn reason or contact kind longer than this is refused: it names a group in figures.
MAX_LABEL = 120
#: Larger amounts, costs, tenures or counts are errors: no real value is this big, and sums of them overflow.
MAX_MAGNITUDE = 1e12
#: Earlier dates are warned about: usually placeholders (1900-01-01) or a wrong century.
EARLIEST_PLAUSIBLE = dt.date(1970, 1, 1)
#: Values this many times the 99th percentile are warned about (a unit or placeholder error, e.g. cents).
OUTLIER_FACTOR = 100
#: Patterns tried on dates that do not parse, to suggest ``date_format``.
DATE_FORMATS = ("%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%m-%d-%Y", "%Y/%m/%d", "%Y%m%d", "%d/%m/%y",
                "%m/%d/%y", "%d %b %Y", "%b %d, %Y", "%d %B %Y", "%B %d, %Y", "%Y-%m-%dT%H:%M:%S",
                "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M:%S",
                "%m/%d/%Y %H:%M:%S")
#: Beyond this many customers with two answers at one time, the repeat warning groups every answer.
_MAX_TIED = 100_000
#: Rules that are consequences of a value not parsing: skipped while a date does not parse.
_DATE_ORDER_RULES = ("end_date before signup_date", "response after the customer's end_date",
                     "response before the customer's signup_date")


def check_structure(table: str, source_columns: list[str], mapping: dict[str, str],
                    mode: str | None) -> tuple[dict[str, str], list[Problem]]:
    """Match contract columns to source columns; report missing ones.

    Parameters
    ----------
    table : str
        Contract table name.
    source_columns : list of str
        Column names the source actually has.
    mapping : dict
        Contract name -> source name, from the params file (may be empty).
    mode : {"dated", "snapshot", None}
        For ``customers`` only: decided by the caller from the columns present.

    Returns
    -------
    resolved : dict
        Contract (or extra segment) column -> source column, for every column found.
    problems : list of Problem
    """
    spec = CONTRACT[table]
    by_lower = {c.lower(): c for c in source_columns}
    for c in source_columns:  # headers as exports write them: 'Customer ID', ' NPS ', 'signup-date'
        by_lower.setdefault(_header_key(c), c)
    resolved: dict[str, str] = {}
    problems: list[Problem] = []
    for name, wanted in mapping.items():
        found = wanted if wanted in source_columns else by_lower.get(str(wanted).lower())
        if found is None:
            near = difflib.get_close_matches(str(wanted), source_columns, n=1, cutoff=0.6)
            hint = f"did you mean {near[0]!r}? " if near else ""
            problems.append(Problem(table, name, f"the mapping names column {wanted!r}, which the source "
                                    f"does not have ({hint}it has: {_few(source_columns)})"))
        elif name not in spec.names and table != "customers":
            problems.append(Problem(table, name, f"{name!r} is not a column of the {table} contract "
                                    f"(columns: {', '.join(spec.names)})"))
        else:
            resolved[name] = found
    for col in spec.columns:
        if col.name not in mapping and col.name.lower() in by_lower:
            resolved[col.name] = by_lower[col.name.lower()]
    required = [c.name for c in spec.columns if c.required]
    if table == "customers":
        if mode == "snapshot":
            required += ["duration", "churned"]
        elif mode is None:
            problems.append(Problem(table, "signup_date", "missing required column: give signup_date "
                                    "(dated data) or duration and churned (snapshot data)"))
    for name in required:
        if name not in resolved and name not in mapping:
            close = difflib.get_close_matches(_header_key(name), [_header_key(c) for c in source_columns], n=1,
                                              cutoff=0.6)
            hint = next((f"did you mean {c!r}? " for c in source_columns if close and _header_key(c) == close[0]), "")
            problems.append(Problem(table, name, f"missing required column ({hint}map it with "
                                    f"data.{table}.columns.{name}: <your column name>)"))
    return resolved, problems


def _header_key(name) -> str:
    """A header as the contract would name it: case, spaces and hyphens aside (``Customer ID`` -> ``customer_id``)."""
    return re.sub(r"[\s\-.]+", "_", str(name).strip().lower()).strip("_")


def _few(names: list[str], n: int = 8) -> str:
    shown = ", ".join(names[:n])
    return shown + (", ..." if len(names) > n else "")


class _Rules:
    """Rules of one table, counted in a single scan; keys fetched only for the rules that fail."""

    def __init__(self, table: str):
        self.table, self.items = table, []

    def add(self, column: str, rule: str, where: str, key: str = "customer_id", distinct: str | None = None) -> None:
        """A rule; ``distinct`` (an expression) shows the commonest distinct offending values instead of rows."""
        self.items.append((column, rule, where, key, distinct))

    def run(self, con, also: tuple[str, ...] = ()) -> list[Problem]:
        """The problems found; ``also``: more aggregates over the table, counted in the same scan, whose values
        are then in ``self.also`` (the warnings' facts, so that they cost no scan of their own)."""
        self.also = {}
        if not self.items and not also:
            return []
        row = con.execute("SELECT " + ", ".join([f"count(*) FILTER (WHERE {it[2]})" for it in self.items]
                                                + list(also)) + f" FROM _typed_{self.table}").fetchall()[0]
        counts, self.also = row[:len(self.items)], dict(zip(also, row[len(self.items):], strict=True))
        problems = []
        for (column, rule, where, key, distinct), n in zip(self.items, counts, strict=True):
            if not n:
                continue
            if distinct:
                rows = con.execute(f"SELECT {distinct} AS v, count(*) AS n, CAST(min({key}) AS VARCHAR) "
                                   f"FROM _typed_{self.table} WHERE {where} GROUP BY 1 ORDER BY n DESC, v "
                                   f"LIMIT {MAX_KEYS}").fetchall()
                keys = tuple(f"{v!r} ({m:,} rows, first customer {k})" if m > 1 else f"{v!r} (customer {k})"
                             for v, m, k in rows)
                more = len(rows) == MAX_KEYS and sum(r[1] for r in rows) < n
            else:
                keys = tuple(k[0] for k in con.execute(f"SELECT CAST({key} AS VARCHAR) FROM _typed_{self.table} "
                                                       f"WHERE {where} LIMIT {MAX_KEYS}").fetchall())
                more = None
            problems.append(Problem(self.table, column, rule, int(n), keys, more))
        return problems


def check_values(con, columns: dict[str, list[str]], raw_text: dict[str, set[str]],
                 mode: str, date_formats: dict[str, str | None] | None = None,
                 facts: dict | None = None) -> list[Problem]:
    """Run every value rule on the typed tables ``_typed_<table>``.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
    columns : dict
        Table -> contract columns present.
    raw_text : dict
        Table -> columns whose source was text, kept as ``<col>__raw`` to spot unparseable values.
    mode : {"dated", "snapshot"}
    date_formats : dict, optional
        Table -> the ``date_format`` in use, named in the hint when dates do not parse.
    facts : dict, optional
        Filled with table -> {aggregate: value} of :func:`warning_aggregates`, counted in the rules' own scan,
        for :func:`check_dates_and_magnitudes` and the latest date (no scan of their own).

    Returns
    -------
    list of Problem
        Root causes first: while a date does not parse, the date-order rules that it would set off
        (a response "before signup" because day and month are swapped) are not run.
    """
    date_formats = date_formats or {}
    problems: list[Problem] = []
    for table, cols in columns.items():
        n = con.execute(f"SELECT count(*) FROM (SELECT 1 FROM _typed_{table} LIMIT 1)").fetchall()[0][0]
        if n == 0:
            problems.append(Problem(table, "*", "the table is empty"))
            continue
        rules = _Rules(table)
        rules.add("customer_id", "customer_id is empty", "customer_id IS NULL", key="'(empty)'")
        _column_rules(rules, table, cols, raw_text.get(table, set()), mode)
        _label_rules(rules, table, cols)
        if table == "customers" and mode == "dated" and "end_date" in cols:
            rules.add("end_date", "end_date before signup_date", "end_date < signup_date",
                      key="concat(CAST(customer_id AS VARCHAR), ' (', CAST(end_date AS VARCHAR), ' < ', "
                          "CAST(signup_date AS VARCHAR), ')')")
        also = warning_aggregates(table, cols)
        problems += rules.run(con, also)
        if facts is not None:
            facts[table] = rules.also
    problems = [replace(p, rule=f"{p.rule}; {suggest_date_format(con, p.table, p.column, date_formats.get(p.table))}")
                if p.rule == "unparseable date" else
                replace(p, rule=p.rule + _number_hint(con, p.table, p.column)) if p.rule == "not a number" else p
                for p in problems]
    ids = ordered_customer_ids(con) if "customers" in columns else None  # integers in order: none repeats
    if "customers" in columns:
        problems += _customer_rules(con, columns["customers"], mode, ordered=ids is not None)
    unique = not any(p.table == "customers" and p.rule == "duplicate customer_id" for p in problems)
    for table in ("responses", "revenue", "contacts"):
        if table in columns:
            found = _reference_rules(con, table, columns["customers"] if "customers" in columns else [], unique,
                                     ids)
            problems += [replace(p, rule=p.rule + _id_hint(con, table)) if p.rule.startswith("unknown customer")
                         else p for p in found]
    if any(p.rule.startswith("unparseable date") for p in problems):
        problems = [p for p in problems if p.rule not in _DATE_ORDER_RULES]
    return problems


def _number_hint(con, table: str, column: str) -> str:
    """Why numbers do not parse, when the failing values show it: a currency sign, or a decimal comma."""
    failed = f"{column} IS NULL AND {column}__raw IS NOT NULL"
    signs, commas, n = con.execute(
        f"SELECT count(*) FILTER (WHERE regexp_matches({column}__raw, '^[-+]?\\s*[$€£¥]|[$€£¥]\\s*$|^[A-Z]{{3}}\\s')), "
        f"count(*) FILTER (WHERE regexp_matches({column}__raw, '^[-+]?[0-9.]*[0-9],[0-9]{{1,2}}$')), count(*) "
        f"FROM _typed_{table} WHERE {failed}").fetchone()
    if signs and signs * 2 >= n:
        return "; they carry a currency sign or code: export the amounts as plain numbers (one currency)"
    if commas and commas * 2 >= n:
        return f"; they are written with a decimal comma: set data.{table}.csv.decimal_separator: ','"
    return ""


def _id_hint(con, table: str) -> str:
    """Why ids are unknown, when it shows: they match customers' ids once leading zeros are dropped."""
    strip = "ltrim(CAST({} AS VARCHAR), '0')"
    row = con.execute(
        f"SELECT count(*), min(CAST(t.customer_id AS VARCHAR)) FROM _typed_{table} t WHERE t.customer_id NOT IN "
        "(SELECT customer_id FROM _typed_customers WHERE customer_id IS NOT NULL) AND "
        f"{strip.format('t.customer_id')} IN (SELECT {strip.format('customer_id')} FROM _typed_customers)").fetchone()
    if not row[0]:
        return ""
    return (f"; {row[0]:,} of them match a customer once leading zeros are dropped (e.g. {row[1]}): write the ids "
            "the same way in every table (a spreadsheet drops the zeros of ids it reads as numbers)")


def suggest_date_format(con, table: str, column: str, current: str | None = None) -> str:
    """A hint for dates that do not parse: the ``date_format`` patterns under which every sample parses.

    Examples
    --------
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> rows = "VALUES ('31/01/2024'), ('15/02/2024')"
    >>> _ = con.execute(f"CREATE TABLE _typed_t AS SELECT NULL::DATE AS d, * FROM ({rows}) v(d__raw)")
    >>> suggest_date_format(con, "t", "d")
    "set data.t.date_format: '%d/%m/%Y'"
    """
    failed = f"{column} IS NULL AND {column}__raw IS NOT NULL"
    samples = [r[0] for r in con.execute(f"SELECT DISTINCT {column}__raw FROM _typed_{table} "
                                         f"WHERE {failed} ORDER BY 1 LIMIT 200").fetchall()]
    if not samples:
        return "the dates are empty"
    parsed_rows = con.execute(f"SELECT count(*) FROM _typed_{table} WHERE {column} IS NOT NULL").fetchone()[0]
    fits = []
    for fmt in DATE_FORMATS:
        parsed = con.execute("SELECT count(*) FILTER (WHERE year(TRY_STRPTIME(v, ?)) >= 1000) FROM unnest(?) t(v)",
                             [fmt, samples]).fetchone()[0]  # '%Y' reads '24' as the year 24: a two-digit year
        if parsed == len(samples):
            fits.append(fmt)
    now = f"with date_format {current!r} " if current else ""
    serial = [int(v) for v in samples if re.fullmatch(r"\s*\d{5}(\.0+)?\s*", str(v))]
    if not fits and len(serial) == len(samples) and all(20_000 <= v <= 80_000 for v in serial):
        day = dt.date(1899, 12, 30) + dt.timedelta(days=serial[0])  # Excel's day 1 is 1900-01-01 (after its leap bug)
        return (f"these look like Excel serial day numbers ({serial[0]} is {day.isoformat()} in Excel): format the "
                "column as dates (YYYY-MM-DD) in the sheet before exporting it")
    if fits and parsed_rows:
        return (f"{parsed_rows:,} other rows do parse{' ' + now.strip() if now else ' as YYYY-MM-DD'}, these as "
                f"{fits[0]!r}: the export mixes date formats; write every date the same way")
    if not fits and parsed_rows:
        return (f"{parsed_rows:,} other rows parse{' ' + now.strip() if now else ' as YYYY-MM-DD'}; these do not "
                "look like dates (or name a day that does not exist)")
    if not fits:
        return (f"no common pattern parses them {now}(dates are read as YYYY-MM-DD unless "
                f"data.{table}.date_format says otherwise, e.g. '%d/%m/%Y')")
    if len(fits) > 1 and {"%d/%m/%Y", "%m/%d/%Y"} <= set(fits):
        return (f"they read as day/month or month/day; set data.{table}.date_format: '%d/%m/%Y' or "
                "'%m/%d/%Y', whichever your export uses")
    return f"{'they do not parse ' + now + 'but ' if current else ''}set data.{table}.date_format: {fits[0]!r}"


def warning_aggregates(table: str, cols: list[str]) -> tuple[str, ...]:
    """The aggregates the warnings read, per date column (earliest, how many before
    :data:`EARLIEST_PLAUSIBLE`, latest) and unbounded number column (largest, how many given): counted in the
    rules' scan (:func:`check_values`) or on their own."""
    spec = CONTRACT[table]
    aggs = []
    for c in spec.columns:
        if c.name not in cols:
            continue
        if c.dtype == "date":
            aggs += [f"min({c.name})", f"count(*) FILTER (WHERE {c.name} < DATE '{EARLIEST_PLAUSIBLE}')",
                     f"max({c.name})"]
        elif c.dtype in ("int", "float") and (c.range is None or c.range[1] is None):
            aggs += [f"max({c.name})", f"count({c.name})"]
    return tuple(aggs)


def check_dates_and_magnitudes(con, columns: dict[str, list[str]], as_of: dt.date | None,
                               latest: dt.date | None, facts: dict | None = None) -> None:
    """Warn (never stop) about values that are valid but suspicious.

    * dates before :data:`EARLIEST_PLAUSIBLE` (placeholders such as 1900-01-01);
    * an ``as_of`` more than a year after the latest date in the data (everyone still counts as active
      until then, so churn looks lower than it is);
    * amounts, costs, revenue and counts more than :data:`OUTLIER_FACTOR` times their 99th percentile.

    ``facts``: :func:`warning_aggregates`' values per table, as :func:`check_values` counts them (else counted
    here). The 99th percentile is estimated (``approx_quantile``, a scan of its own) only for a column where
    at most 1% of the values (and one) reach a hundredth of its largest: elsewhere the percentile is at least
    that, and the largest value cannot be a hundred times it.
    """
    found = []
    for table, cols in columns.items():
        spec = CONTRACT[table]
        aggs = warning_aggregates(table, cols)
        if not aggs:
            continue
        got = (facts or {}).get(table)
        if got is None or any(a not in got for a in aggs):
            got = dict(zip(aggs, con.execute(f"SELECT {', '.join(aggs)} FROM _typed_{table}").fetchone(),
                           strict=True))
        for c in spec.columns:
            if c.name in cols and c.dtype == "date":
                n = got[f"count(*) FILTER (WHERE {c.name} < DATE '{EARLIEST_PLAUSIBLE}')"]
                if n:
                    found.append(f"{table}.{c.name}: {n:,} date(s) before {EARLIEST_PLAUSIBLE.year} (earliest "
                                 f"{got[f'min({c.name})']}); placeholders such as 1900-01-01 count as real dates")
        tops = {c.name: got[f"max({c.name})"] for c in spec.columns if f"count({c.name})" in got}  # the numbers
        tops = {c: top for c, top in tops.items() if top is not None and top > 0}
        if not tops:
            continue
        near = con.execute("SELECT " + ", ".join(f"count(*) FILTER (WHERE {c} >= ?)" for c in tops)
                           + f" FROM _typed_{table}", [top / OUTLIER_FACTOR for top in tops.values()]).fetchone()
        for (col, top), k in zip(tops.items(), near, strict=True):
            if k > got[f"count({col})"] / 100 + 1:  # over 1% reach top / 100: the 99th percentile does too
                continue
            p99 = con.execute(f"SELECT approx_quantile({col}, 0.99) FROM _typed_{table}").fetchone()[0]
            if p99 and p99 > 0 and top > OUTLIER_FACTOR * p99:
                n = con.execute(f"SELECT count(*) FROM _typed_{table} WHERE {col} > ?", [OUTLIER_FACTOR * p99]
                                ).fetchone()[0]
                found.append(f"{table}.{col}: {n:,} value(s) over {OUTLIER_FACTOR} times the 99th percentile "
                             f"({p99:,.4g}), largest {top:,.6g}; check for placeholders or a unit error (cents?)")
    found += _repeats_and_bills_outside_life(con, columns)
    if as_of is not None and latest is not None and (as_of - latest).days > 365:
        found.append(f"as_of {as_of} is {(as_of - latest).days:,} days after the latest date in the data "
                     f"({latest}); customers without an end date count as active until as_of")
    if found:
        warnings.warn("the data passes, but these values look wrong:\n  " + "\n  ".join(found), CxkitWarning,
                      stacklevel=3)


def _repeats_and_bills_outside_life(con, columns: dict[str, list[str]]) -> list[str]:
    """Answers repeated exactly (same customer, date and scores: an export run twice, a join that doubled rows)
    and bills dated before the customer's signup month or more than a month after their end month. Both are
    kept as given (each repeat counts as an answer, each bill as revenue) and warned about, counted, with a few
    customer ids: the kit never drops rows it cannot prove wrong."""
    found = []
    tied = repeat_candidates(con) if "responses" in columns else None  # in (customer, time) order: who can repeat
    if "responses" in columns and (tied is None or tied.size):
        cols = ", ".join(columns["responses"])
        # plain SQL (a count, then a few keys with LIMIT) that a warehouse runs as DuckDB does; on answers in
        # order, over the customers with two answers at one time only
        among, args = ("", []) if tied is None or tied.size > _MAX_TIED else (
            " WHERE customer_id IN (SELECT unnest(?))", [tied.tolist()])
        repeated = (f"SELECT {cols}, count(*) AS n FROM _typed_responses{among} GROUP BY {cols} HAVING count(*) > 1")
        extra = con.execute(f"SELECT sum(n - 1) FROM ({repeated}) AS r", args).fetchone()[0]
        if extra:
            keys = [k for k, in con.execute(f"SELECT DISTINCT customer_id FROM ({repeated}) AS r ORDER BY 1 "
                                            f"LIMIT {MAX_KEYS}", args).fetchall()]
            found.append(f"responses: {int(extra):,} answer(s) repeat another exactly (same customer, date and "
                         f"scores; customers {', '.join(map(str, keys))}{', ...' if extra > MAX_KEYS else ''});"
                         " each is counted as an answer: remove the copies if the export doubled them")
    if "revenue" in columns and "signup_date" in columns.get("customers", ()):
        end = ("(date_trunc('month', end_date) + INTERVAL 1 MONTH)::DATE" if "end_date" in columns["customers"]
               else "NULL::DATE")  # the bounds as dates, on the customers' side: a fifth of the time of a
        life = (f"SELECT customer_id, date_trunc('month', signup_date)::DATE AS first_month, {end} AS last_month "
                "FROM _typed_customers")  # timestamp comparison on every bill
        outside = (f"FROM _typed_revenue r JOIN ({life}) c ON r.customer_id = c.customer_id "
                   "WHERE r.month < c.first_month OR r.month > c.last_month")
        n = con.execute(f"SELECT count(*) {outside}").fetchone()[0]
        if n:
            keys = [k for k, in con.execute(
                f"SELECT DISTINCT concat(CAST(r.customer_id AS VARCHAR), ' (', CAST(CAST(r.month AS DATE) AS VARCHAR), "
                f"')') AS k {outside} ORDER BY 1 LIMIT {MAX_KEYS}").fetchall()]
            found.append(f"revenue: {n:,} bill(s) dated outside the customer's life (before the signup month or "
                         f"over a month after the end; e.g. {', '.join(sorted(keys))}{', ...' if n > len(keys) else ''}"
                         "); they are counted as that customer's revenue: correct the export if they are not")
    return found


def _required_here(col, table: str, mode: str) -> bool:
    """Required by the contract, or by the shape of the data (dated: signup_date; snapshot: tenure and flag)."""
    if col.required:
        return True
    return table == "customers" and (col.name == "signup_date" and mode == "dated"
                                     or col.name in ("duration", "churned") and mode == "snapshot")


def _column_rules(rules: _Rules, table: str, cols: list[str], raw_text: set[str], mode: str = "dated") -> None:
    spec = CONTRACT[table]
    for col in spec.columns:
        if col.name not in cols or col.name == "customer_id":
            continue
        name = col.name
        if name in raw_text:
            what = {"date": "unparseable date", "flag": "not a 0/1 flag"}.get(col.dtype, "not a number")
            rules.add(name, what, f"{name} IS NULL AND {name}__raw IS NOT NULL", distinct=f"{name}__raw")
        if _required_here(col, table, mode):
            shape = {"signup_date": " (dated data needs every customer's signup date)",
                     "duration": " (snapshot data needs every customer's tenure)",
                     "churned": " (snapshot data needs every customer's churn flag)"}.get(name, "")
            rules.add(name, f"{name} is empty{shape}",
                      f"{name} IS NULL" + (f" AND {name}__raw IS NULL" if name in raw_text else ""))
        if col.dtype not in ("int", "float"):
            continue
        value_key = f"concat(CAST(customer_id AS VARCHAR), ' (', CAST({name} AS VARCHAR), ')')"
        # x - x = 0 holds for every finite number and fails for NaN and infinities, in any SQL engine
        rules.add(name, "not a finite number (NaN or infinity)", f"NOT ({name} - {name} = 0)", key=value_key)
        finite = f"{name} - {name} = 0 AND "
        if col.range is None or col.range[1] is None:
            rules.add(name, f"implausibly large (over {MAX_MAGNITUDE:.0e}): a placeholder or a unit error?",
                      f"{finite}abs({name}) > {MAX_MAGNITUDE}", key=value_key)
        if col.dtype == "int":
            rules.add(name, "not an integer", f"{finite}{name} <> floor({name})", key=value_key)
        if col.range is not None:
            low, high = col.range
            if high is None:
                word = {"amount": "negative revenue"}.get(name, f"negative {name}")
                rules.add(name, word, f"{finite}{name} < {low}", key=value_key)
            else:
                rules.add(name, f"score outside {low}-{high}", f"{finite}{name} NOT BETWEEN {low} AND {high}",
                          key=value_key)


def _label_rules(rules: _Rules, table: str, cols: list[str]) -> None:
    """Text that names a group in figures, tables, sentences and run folders (segments, churn reasons, contact
    kinds): over :data:`MAX_LABEL` characters it is a free-text or pasted column, not a group's name (one such
    value once drew a figure 77,000 pixels wide)."""
    spec = CONTRACT[table]
    labels = [c for c in cols if c != "customer_id" and (c not in spec.names or spec.column(c).dtype == "text")]
    for name in labels:
        rules.add(name, f"longer than {MAX_LABEL} characters (a free-text column, or cells run together?); it names a "
                  "group in figures, tables and file names: shorten the values, or leave the column out",
                  f"length({ident(name)}) > {MAX_LABEL}",
                  key=f"format('{{}} ({{}}...: {{:,}} characters)', customer_id, left({ident(name)}, 24), "
                      f"length({ident(name)}))")


def _customer_rules(con, cols: list[str], mode: str, ordered: bool = False) -> list[Problem]:
    """Repeated customer ids (not looked for when ``ordered``: integer ids stored in strictly increasing order,
    :func:`~cxkit.validate_keys.ordered_customer_ids`), and snapshot columns given with dated data."""
    problems = []
    dup = [] if ordered else con.execute(
        "SELECT count(*) OVER (), CAST(customer_id AS VARCHAR) FROM _typed_customers "
        f"WHERE customer_id IS NOT NULL GROUP BY customer_id HAVING count(*) > 1 ORDER BY customer_id LIMIT {MAX_KEYS}"
    ).fetchall()
    if dup:
        problems.append(Problem("customers", "customer_id", "duplicate customer_id", int(dup[0][0]),
                                tuple(r[1] for r in dup)))
    if mode == "dated":
        for col in ("duration", "churned"):
            if col in cols:
                problems.append(Problem("customers", col, f"{col} is for snapshot data; with signup_date "
                                        "give end_date instead (remove the mapping)"))
    return problems


def _reference_rules(con, table: str, customer_cols: list[str], unique: bool = True,
                     ids=None) -> list[Problem]:
    """Rows naming a customer who is not in customers; answers outside the customer's signup and end dates.

    A response's three rules share one left join (each answer counted once: when customer ids repeat,
    which is already an error, the join is to one row per id). ``ids``: the customers' ids when they are
    integers stored in order (:func:`~cxkit.validate_keys.ordered_customer_ids`): the unknown ids of another
    table are then counted against them in numpy (:func:`~cxkit.validate_keys.unknown_count`), and the SQL runs
    only to name the few examples of a failure.
    """
    if not (table == "responses" and "signup_date" in customer_cols):
        n = unknown_count(con, table, ids) if ids is not None else None
        if n == 0:
            return []
        # counted by a join: a NOT IN subquery is null-aware, which Spark runs as a nested loop over both tables
        # (150 s of a 100,000-customer load); the few example keys of a failure are still listed by NOT IN. No
        # DISTINCT: a repeated customer id multiplies matched rows only, and only unmatched rows are counted (in
        # DuckDB at 10M customers and 22M contacts as fast as NOT IN, where a DISTINCT doubled the time)
        n = n if n is not None else con.execute(
            f"SELECT count(*) FILTER (WHERE c.customer_id IS NULL) FROM _typed_{table} t LEFT JOIN "
            "(SELECT customer_id FROM _typed_customers WHERE customer_id IS NOT NULL) c "
            "ON t.customer_id = c.customer_id WHERE t.customer_id IS NOT NULL").fetchone()[0]
        if not n:
            return []
        unknown = _Rules(table)
        unknown.add("customer_id", "unknown customer (not in customers)",
                    "customer_id IS NOT NULL AND customer_id NOT IN "
                    "(SELECT customer_id FROM _typed_customers WHERE customer_id IS NOT NULL)")
        return unknown.run(con)
    end = "end_date" if "end_date" in customer_cols else "NULL::DATE"
    customers = (f"SELECT customer_id, signup_date, {end} AS end_date FROM _typed_customers" if unique else
                 f"SELECT customer_id, min(signup_date) AS signup_date, max({end}) AS end_date "
                 "FROM _typed_customers WHERE customer_id IS NOT NULL GROUP BY 1")
    joined = (f"_typed_responses r LEFT JOIN ({customers}) c ON r.customer_id = c.customer_id "
              "WHERE r.customer_id IS NOT NULL")
    dated = "concat(CAST(r.customer_id AS VARCHAR), ' (', CAST(r.response_date AS VARCHAR), ')')"
    rules = [("customer_id", "unknown customer (not in customers)", "c.customer_id IS NULL", "r.customer_id"),
             ("response_date", "response after the customer's end_date", "r.response_date > c.end_date", dated),
             ("response_date", "response before the customer's signup_date", "r.response_date < c.signup_date",
              dated)]
    counts = answer_rule_counts(con, ids, end=end == "end_date") if ids is not None else None
    if counts == (0, 0, 0):
        return []
    counts = counts or con.execute("SELECT " + ", ".join(f"count(*) FILTER (WHERE {cond})" for _, _, cond, _ in rules)
                                   + f" FROM {joined}").fetchall()[0]
    problems = []
    for (column, rule, cond, key), n in zip(rules, counts, strict=True):
        if n:
            keys = con.execute(f"SELECT CAST({key} AS VARCHAR) FROM {joined} AND {cond} LIMIT {MAX_KEYS}").fetchall()
            problems.append(Problem(table, column, rule, int(n), tuple(k[0] for k in keys)))
    return problems
