"""cxkit.backend: the calls the kit makes on a DuckDB connection, answered by an Ibis backend as DuckDB answers them."""

from __future__ import annotations

import pytest

from cxkit.backend import BackendConnection
from cxkit.engine import connect

ibis = pytest.importorskip("ibis")

# What CXData.subset writes for an audience, with temporary tables of the same name on two connections.
SCRIPT = [
    ("main", "CREATE TABLE people AS SELECT * FROM (VALUES (1, 'West'), (2, 'East'), (3, 'West')) v(id, region)"),
    ("main", "CREATE TEMP TABLE _latest AS SELECT count(*) AS n FROM people"),
    ("main", "CREATE SCHEMA IF NOT EXISTS slice_w"),
    ("main", "CREATE OR REPLACE VIEW slice_w.people AS SELECT * FROM main.people WHERE region IN ('West')"),
    ("cursor", "SET search_path = 'slice_w'"),
    ("cursor", "CREATE TEMP TABLE _latest AS SELECT count(*) AS n FROM people"),
]
QUERIES = ["SELECT n FROM _latest", "SELECT count(*) FROM people", "SELECT count(*) FROM main.people",
           "SELECT count(*) FROM slice_w.people"]


def _answers(con) -> dict:
    cursor = con.cursor()
    for where, sql in SCRIPT:
        (con if where == "main" else cursor).execute(sql)
    return {(where, q): (con if where == "main" else cursor).execute(q).fetchall()
            for where in ("main", "cursor") for q in QUERIES}


def test_a_cursor_has_its_own_search_path_and_temporary_tables_as_duckdb_s():
    """An audience's cursor reads its slice first and keeps its own temporary tables (the population's latest
    answers are not the slice's), exactly as a DuckDB cursor does."""
    duck = _answers(connect())
    backend = BackendConnection(ibis.duckdb.connect())
    assert _answers(backend) == duck
    assert duck[("main", "SELECT n FROM _latest")] == [(3,)] and duck[("cursor", "SELECT n FROM _latest")] == [(2,)]
    assert duck[("cursor", "SELECT count(*) FROM people")] == [(2,)]


def test_what_came_back_is_counted_across_cursors():
    con = BackendConnection(ibis.duckdb.connect())
    con.execute("CREATE TABLE t AS SELECT * FROM range(10) r(x)")
    con.execute("SELECT x FROM t").fetchall()
    cursor = con.cursor()
    cursor.execute("SELECT sum(x) FROM t").fetchall()
    assert con.rows_back == 11 and con.queries == cursor.queries == 3 and con.bytes_back == cursor.bytes_back > 0
