"""The one place DuckDB connections are opened: quiet (no progress bar) and thread-capped on request."""

from __future__ import annotations

import os

__all__ = ["connect"]


def connect(database: str = ":memory:"):
    """A DuckDB connection; ``DUCKDB_THREADS`` caps its threads (the batch renderer sets it per worker)."""
    import duckdb

    config = {"threads": int(os.environ["DUCKDB_THREADS"])} if os.environ.get("DUCKDB_THREADS") else {}
    con = duckdb.connect(database, config=config)
    try:
        con.execute("SET enable_progress_bar = false")
    except duckdb.Error:  # inside Jupyter without ipywidgets DuckDB refuses the setting and shows no bar anyway
        pass
    return con
