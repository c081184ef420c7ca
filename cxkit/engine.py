"""The one place DuckDB connections are opened: quiet, thread-capped on request, and unable to reach out.

Following DuckDB's "Securing DuckDB" operations manual, every connection is locked down before any user SQL
runs: no extension is installed or loaded at run time (``autoinstall_known_extensions``,
``autoload_known_extensions`` off), network file systems are disabled (``disabled_filesystems``), persistent
secrets are off, and the configuration is then locked (``lock_configuration``), so a query from a params
file cannot turn any of it back on. Reading local files (``read_csv('exports/x.csv')``) stays allowed; a
query naming a URL, or a function of an extension that is not built in (``read_xlsx``), fails with a clear
error (:func:`cxkit.load.load` words it).
"""

from __future__ import annotations

import os

__all__ = ["connect", "twin", "room_beside", "arrow_table", "LOCKED_SETTINGS", "BUILT_IN_EXTENSIONS"]

#: Settings made, in this order, on every connection before it is handed out.
LOCKED_SETTINGS = (
    "SET autoinstall_known_extensions = false",
    "SET autoload_known_extensions = false",
    "SET allow_community_extensions = false",
    "SET allow_persistent_secrets = false",
    "SET disabled_filesystems = 'HTTPFileSystem'",
    "SET lock_configuration = true",
)
#: Extensions compiled into DuckDB's Python package: the only ones a connection of the kit can use.
BUILT_IN_EXTENSIONS = ("core_functions", "icu", "json", "parquet")


def connect(database: str = ":memory:"):
    """A locked-down DuckDB connection (see the module's notes); ``DUCKDB_THREADS`` caps its threads (the batch
    renderer sets it per worker) and ``DUCKDB_MEMORY_LIMIT`` (DuckDB's syntax, ``1GB``) its memory: beyond it,
    sorts and hash tables spill to a folder in the system's temporary directory."""
    import duckdb

    config = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    if os.environ.get("DUCKDB_THREADS"):
        config["threads"] = int(os.environ["DUCKDB_THREADS"])
    if os.environ.get("DUCKDB_MEMORY_LIMIT"):
        import tempfile

        config["memory_limit"] = os.environ["DUCKDB_MEMORY_LIMIT"]
        config["temp_directory"] = os.path.join(tempfile.gettempdir(), f"cxkit-duckdb-{os.getpid()}")
    con = duckdb.connect(database, config=config)
    try:
        con.execute("SET enable_progress_bar = false")
    except duckdb.Error:  # inside Jupyter without ipywidgets DuckDB refuses the setting and shows no bar anyway
        pass
    for statement in LOCKED_SETTINGS:
        con.execute(statement)
    return con


def twin(con):
    """A second connection to ``con``'s database, for work in another thread (a DuckDB connection serves one
    thread at a time), searching the same schema first (an audience's slice: a bare cursor would search
    ``main`` and read everyone's rows). Its temporary tables are its own; its settings are the database's.

    >>> con = connect()
    >>> _ = con.execute("CREATE TABLE t AS SELECT 1 AS a; CREATE SCHEMA s; CREATE TABLE s.t AS SELECT 2 AS a")
    >>> sliced = con.cursor(); _ = sliced.execute("SET search_path = 's'")
    >>> twin(sliced).execute("SELECT a FROM t").fetchall(), sliced.cursor().execute("SELECT a FROM t").fetchall()
    ([(2,)], [(1,)])
    """
    path = con.execute("SELECT current_setting('search_path')").fetchone()[0]
    other = con.cursor()
    if path:
        from cxkit.sql import literal

        other.execute(f"SET search_path = {literal(str(path))}")
    return other


def room_beside(con) -> bool:
    """Whether this machine and ``con``'s DuckDB allow work in a second thread: two cores or more, and DuckDB
    not held to one thread (a batch's workers are, by ``DUCKDB_THREADS``, so their processes share the cores).

    >>> isinstance(room_beside(connect()), bool)
    True
    """
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    return _cores() >= 2 and int(threads) >= 2


def _cores() -> int:
    """The cores this process may run on (its affinity, where the system says; else all of them)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def arrow_table(relation):
    """A relation's rows as one Arrow table: DuckDB's ``to_arrow_table`` (its ``fetch_arrow_table`` is
    deprecated from DuckDB 1.5), else a warehouse relation's ``arrow()``.

    >>> arrow_table(connect().sql("SELECT 1 AS a")).column_names
    ['a']
    """
    fetch = getattr(relation, "to_arrow_table", None) or getattr(relation, "fetch_arrow_table", None)
    return fetch() if fetch is not None else relation.arrow()
