"""The validation gateway's rules, run in DuckDB on the typed tables built by :mod:`cxkit.load`.

Every rule returns :class:`~cxkit.errors.Problem` records naming the table,
the column, the rule, the number of offending rows and up to five keys.
:func:`check_structure` runs before anything is read (mapping and columns);
:func:`check_values` runs on the typed tables. Neither modifies any input.
"""

from __future__ import annotations

from cxkit.contract import CONTRACT
from cxkit.errors import Problem

__all__ = ["check_structure", "check_values", "MAX_KEYS"]

MAX_KEYS = 5


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
    resolved: dict[str, str] = {}
    problems: list[Problem] = []
    for name, wanted in mapping.items():
        found = wanted if wanted in source_columns else by_lower.get(str(wanted).lower())
        if found is None:
            problems.append(Problem(table, name, f"the mapping names column {wanted!r}, which the source "
                                    f"does not have (it has: {_few(source_columns)})"))
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
            problems.append(Problem(table, name, "missing required column (map it with "
                                    f"data.{table}.columns.{name}: <your column name>)"))
    return resolved, problems


def _few(names: list[str], n: int = 8) -> str:
    shown = ", ".join(names[:n])
    return shown + (", ..." if len(names) > n else "")


class _Rules:
    """Rules of one table, counted in a single scan; keys fetched only for the rules that fail."""

    def __init__(self, table: str):
        self.table, self.items = table, []

    def add(self, column: str, rule: str, where: str, key: str = "customer_id") -> None:
        self.items.append((column, rule, where, key))

    def run(self, con) -> list[Problem]:
        if not self.items:
            return []
        counts = con.execute("SELECT " + ", ".join(f"count(*) FILTER (WHERE {w})" for _, _, w, _ in self.items)
                             + f" FROM _typed_{self.table}").fetchall()[0]
        problems = []
        for (column, rule, where, key), n in zip(self.items, counts, strict=True):
            if n:
                keys = con.execute(f"SELECT CAST({key} AS VARCHAR) FROM _typed_{self.table} WHERE {where} "
                                   f"LIMIT {MAX_KEYS}").fetchall()
                problems.append(Problem(self.table, column, rule, int(n), tuple(k[0] for k in keys)))
        return problems


def _raw_key(column: str) -> str:
    return f"format('{{}} ({{}})', customer_id, {column}__raw)"


def check_values(con, columns: dict[str, list[str]], raw_text: dict[str, set[str]],
                 mode: str) -> list[Problem]:
    """Run every value rule on the typed tables ``_typed_<table>``.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
    columns : dict
        Table -> contract columns present.
    raw_text : dict
        Table -> columns whose source was text, kept as ``<col>__raw`` to spot unparseable values.
    mode : {"dated", "snapshot"}

    Returns
    -------
    list of Problem
    """
    problems: list[Problem] = []
    for table, cols in columns.items():
        n = con.execute(f"SELECT count(*) FROM (SELECT 1 FROM _typed_{table} LIMIT 1)").fetchall()[0][0]
        if n == 0:
            problems.append(Problem(table, "*", "the table is empty"))
            continue
        rules = _Rules(table)
        rules.add("customer_id", "customer_id is empty", "customer_id IS NULL", key="'(empty)'")
        _column_rules(rules, table, cols, raw_text.get(table, set()))
        if table == "customers" and mode == "dated" and "end_date" in cols:
            rules.add("end_date", "end_date before signup_date", "end_date < signup_date",
                      key="format('{} ({} < {})', customer_id, end_date, signup_date)")
        problems += rules.run(con)
    if "customers" in columns:
        problems += _customer_rules(con, columns["customers"], mode)
    unique = not any(p.table == "customers" and p.rule == "duplicate customer_id" for p in problems)
    for table in ("responses", "revenue", "contacts"):
        if table in columns:
            problems += _reference_rules(con, table, columns["customers"] if "customers" in columns else [], unique)
    return problems


def _column_rules(rules: _Rules, table: str, cols: list[str], raw_text: set[str]) -> None:
    spec = CONTRACT[table]
    for col in spec.columns:
        if col.name not in cols or col.name == "customer_id":
            continue
        if col.name in raw_text:
            what = {"date": "unparseable date", "flag": "not a 0/1 flag"}.get(col.dtype, "not a number")
            rules.add(col.name, what, f"{col.name} IS NULL AND {col.name}__raw IS NOT NULL", key=_raw_key(col.name))
        if col.required:
            rules.add(col.name, f"{col.name} is empty",
                      f"{col.name} IS NULL" + (f" AND {col.name}__raw IS NULL" if col.name in raw_text else ""))
        value_key = f"format('{{}} ({{}})', customer_id, {col.name})"
        if col.dtype == "int":
            rules.add(col.name, "not an integer", f"{col.name} <> floor({col.name})", key=value_key)
        if col.range is not None:
            low, high = col.range
            if high is None:
                word = {"amount": "negative revenue"}.get(col.name, f"negative {col.name}")
                rules.add(col.name, word, f"{col.name} < {low}", key=value_key)
            elif col.dtype != "flag":
                rules.add(col.name, f"score outside {low}-{high}", f"{col.name} NOT BETWEEN {low} AND {high}",
                          key=value_key)


def _customer_rules(con, cols: list[str], mode: str) -> list[Problem]:
    problems = []
    dup = con.execute(
        "SELECT count(*) OVER (), CAST(customer_id AS VARCHAR) FROM _typed_customers "
        f"WHERE customer_id IS NOT NULL GROUP BY customer_id HAVING count(*) > 1 LIMIT {MAX_KEYS}"
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


def _reference_rules(con, table: str, customer_cols: list[str], unique: bool = True) -> list[Problem]:
    """Rows naming a customer who is not in customers; answers outside the customer's signup and end dates.

    A response's three rules share one left join (each answer counted once: when customer ids repeat,
    which is already an error, the join is to one row per id).
    """
    if not (table == "responses" and "signup_date" in customer_cols):
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
    dated = "format('{} ({})', r.customer_id, r.response_date)"
    rules = [("customer_id", "unknown customer (not in customers)", "c.customer_id IS NULL", "r.customer_id"),
             ("response_date", "response after the customer's end_date", "r.response_date > c.end_date", dated),
             ("response_date", "response before the customer's signup_date", "r.response_date < c.signup_date",
              dated)]
    counts = con.execute("SELECT " + ", ".join(f"count(*) FILTER (WHERE {cond})" for _, _, cond, _ in rules)
                         + f" FROM {joined}").fetchall()[0]
    problems = []
    for (column, rule, cond, key), n in zip(rules, counts, strict=True):
        if n:
            keys = con.execute(f"SELECT CAST({key} AS VARCHAR) FROM {joined} AND {cond} LIMIT {MAX_KEYS}").fetchall()
            problems.append(Problem(table, column, rule, int(n), tuple(k[0] for k in keys)))
    return problems
