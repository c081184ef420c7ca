"""Quoting for the few values that must be written into SQL text, and the one check on user queries.

Everything from a params file that reaches DuckDB goes through here: values as
literals (:func:`literal`), names as identifiers (:func:`ident`), and a
``query`` only after :func:`read_only_select` has parsed it.

Examples
--------
>>> literal("O'Brien's folder/x.csv")
"'O''Brien''s folder/x.csv'"
>>> ident("internet type")
'"internet type"'
>>> read_only_select("SELECT * FROM calls WHERE kind <> 'spam';", "data.contacts.query")
"SELECT * FROM calls WHERE kind <> 'spam'"
"""

from __future__ import annotations

import re

from cxkit.errors import ParamsError

__all__ = ["literal", "ident", "read_only_select", "PLAIN_NAME", "INT64_TYPES"]

#: DuckDB's integer types whose every value fits numpy's int64: ids of these types are read into numpy as keys
#: (the gateway's key checks, the hazards' sweep).
INT64_TYPES = frozenset({"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"})
#: A name that can be written into SQL and file paths as it is: letters, digits and ``_``, not starting with a digit.
PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_LEADING = re.compile(r"^\s*(?:(?:--[^\n]*\n)|(?:/\*.*?\*/)|\s)*", re.S)
_READ_KEYWORDS = ("select", "with", "from", "values", "(")


def literal(value) -> str:
    """A SQL string literal (single quotes doubled)."""
    return "'" + str(value).replace("'", "''") + "'"


def ident(name) -> str:
    """A SQL identifier (double quotes doubled)."""
    return '"' + str(name).replace('"', '""') + '"'


def read_only_select(query, where: str) -> str:
    """Check that ``query`` is exactly one read-only SELECT (or WITH ... SELECT); return it without a final ``;``.

    DuckDB's own parser splits the text into statements, so a second statement hidden after a
    semicolon, inside a comment trick or a string, is seen as DuckDB would see it.

    Raises
    ------
    ParamsError
        Not text, empty, unparseable, more than one statement, or not a SELECT.
    """
    import duckdb

    if not isinstance(query, str) or not query.strip():
        raise ParamsError(f"{where}: expected one SELECT statement as text")
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0]
        raise ParamsError(f"{where}: not valid SQL: {first}") from None
    if len(statements) != 1:
        raise ParamsError(f"{where}: {len(statements)} statements; give exactly one read-only SELECT "
                          "(no ';' between statements)")
    statement = statements[0]
    text = query[_LEADING.match(query).end():].lstrip().lower()
    if statement.type != duckdb.StatementType.SELECT or not text.startswith(_READ_KEYWORDS):
        kind = text.split(None, 1)[0].upper() if text.split() else str(statement.type).rsplit(".", 1)[-1]
        raise ParamsError(f"{where}: only a read-only SELECT (or WITH ... SELECT) is allowed, not {kind}")
    return statement.query.strip().rstrip(";").strip()
