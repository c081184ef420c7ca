"""Where a contract table comes from: a CSV or Parquet file, a DuckDB table, or a SQL query.

A :class:`Source` only knows how to name its data to DuckDB; reading, casting
and checking happen in :mod:`cxkit.load` and :mod:`cxkit.validate`.

Source specs, as written in a params file (paths are relative to that file)::

    customers: {path: data/customers.parquet}
    responses: {path: data/survey.csv, columns: {nps: likelihood_to_recommend}}
    revenue:   {path: warehouse.duckdb, table: monthly_revenue}
    contacts:  {path: warehouse.duckdb, query: "SELECT * FROM calls WHERE kind <> 'spam'"}
    customers: {query: "SELECT * FROM read_parquet('s3-mirror/customers/*.parquet')"}
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from cxkit.errors import ParamsError

__all__ = ["Source"]

_FILE_KINDS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".gz": "csv", ".parquet": "parquet",
               ".pq": "parquet", ".duckdb": "duckdb", ".db": "duckdb"}
_SPEC_KEYS = {"path", "table", "query", "columns", "date_format", "csv"}


def _quote(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


@dataclass(frozen=True)
class Source:
    """One contract table's source and its column mapping.

    Parameters
    ----------
    table : str
        Contract table name (``customers``, ``responses``, ``revenue``, ``contacts``).
    path : Path, optional
        CSV, Parquet (a glob is fine) or DuckDB database file.
    query : str, optional
        SQL run by DuckDB; with a ``.duckdb`` path, it runs inside that database.
    db_table : str, optional
        Table name inside a DuckDB database file.
    columns : dict
        Contract column name -> the source's column name.
    date_format : str, optional
        strptime format for text dates that are not ISO (``"%d/%m/%Y"``).
    csv : dict
        Extra options for DuckDB's ``read_csv`` (``delim``, ``quote``, ...).

    Examples
    --------
    >>> s = Source("revenue", path=Path("/data/rev.parquet"))
    >>> s.kind, s.from_sql()
    ('parquet', "read_parquet('/data/rev.parquet')")
    """

    table: str
    path: Path | None = None
    query: str | None = None
    db_table: str | None = None
    columns: dict = field(default_factory=dict)
    date_format: str | None = None
    csv: dict = field(default_factory=dict)

    @classmethod
    def from_spec(cls, table: str, spec, base_dir: Path) -> Source:
        """Build a source from its params-file entry (a path string or a mapping)."""
        if isinstance(spec, str):
            spec = {"path": spec}
        if not isinstance(spec, dict):
            raise ParamsError(f"data.{table}: expected a path or a mapping, got {type(spec).__name__}")
        unknown = set(spec) - _SPEC_KEYS
        if unknown:
            raise ParamsError(f"data.{table}: unknown key(s) {sorted(unknown)}; allowed: {sorted(_SPEC_KEYS)}")
        if not spec.get("path") and not spec.get("query"):
            raise ParamsError(f"data.{table}: give a 'path' or a 'query'")
        path = None
        if spec.get("path"):
            path = Path(str(spec["path"])).expanduser()
            if not path.is_absolute():
                path = (Path(base_dir) / path).resolve()
        columns = spec.get("columns") or {}
        if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
            raise ParamsError(f"data.{table}.columns: expected a mapping of contract name -> source column name")
        source = cls(table, path, spec.get("query"), spec.get("table"), dict(columns),
                     spec.get("date_format"), dict(spec.get("csv") or {}))
        source._check()
        return source

    @property
    def kind(self) -> str:
        """``csv``, ``parquet``, ``duckdb`` or ``query``."""
        if self.path is None:
            return "query"
        return _FILE_KINDS.get(self.path.suffix.lower(), "csv")

    def _check(self) -> None:
        if self.kind == "duckdb" and not (self.db_table or self.query):
            raise ParamsError(f"data.{self.table}: a DuckDB file needs 'table' or 'query'")
        if self.path is not None and not any(self.path.parent.glob(self.path.name)):
            raise ParamsError(f"data.{self.table}: file not found: {self.path}")

    def attach_alias(self) -> str | None:
        """Alias the DuckDB file is attached under, or None for other kinds."""
        if self.kind != "duckdb":
            return None
        digest = hashlib.sha1(str(self.path).encode()).hexdigest()[:8]
        return "src_" + re.sub(r"\W", "_", self.path.stem)[:20] + "_" + digest

    def from_sql(self) -> str:
        """SQL that selects the raw source (a table function or a subquery)."""
        kind = self.kind
        if kind == "csv":
            opts = {"header": True, **self.csv, "all_varchar": True}
            args = ", ".join(f"{k}={_sql_value(v)}" for k, v in opts.items())
            return f"read_csv({_quote(self.path)}, {args})"
        if kind == "parquet":
            return f"read_parquet({_quote(self.path)})"
        if kind == "duckdb" and self.db_table:
            return f'{self.attach_alias()}."{self.db_table}"'
        return f"({self.query})"

    def fingerprint(self) -> dict:
        """Identify the input for a run manifest: path, size, modified time and SHA-256."""
        if self.path is None or not self.path.is_file():
            return {"table": self.table, "kind": self.kind, "query": self.query}
        digest = hashlib.sha256()
        with open(self.path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        stat = self.path.stat()
        return {"table": self.table, "kind": self.kind, "path": str(self.path),
                "bytes": stat.st_size, "sha256": digest.hexdigest()}


def _sql_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return _quote(value)
