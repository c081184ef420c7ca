"""Where a contract table comes from: a CSV or Parquet file, a DuckDB table, a SQL query, or a table or
query in any Ibis backend (Spark, Postgres, BigQuery, Snowflake, another DuckDB, ...).

A :class:`Source` only knows how to name its data to DuckDB; reading, casting
and checking happen in :mod:`cxkit.load` and :mod:`cxkit.validate`.

Source specs, as written in a params file (paths are relative to that file)::

    customers: {path: data/customers.parquet}
    responses: {path: data/survey.csv, columns: {nps: likelihood_to_recommend}}
    revenue:   {path: warehouse.duckdb, table: monthly_revenue}
    contacts:  {path: warehouse.duckdb, query: "SELECT * FROM calls WHERE kind <> 'spam'"}
    customers: {query: "SELECT * FROM read_parquet('s3-mirror/customers/*.parquet')"}
    customers: {ibis: "pyspark://", table: crm.customers}
    contacts:  {ibis: "postgres://cx@warehouse/crm", query: "SELECT * FROM calls WHERE kind <> 'spam'"}

An Ibis source is read once, into the DuckDB connection the gateway validates (:func:`cxkit.load.load`);
its ``query`` is written in DuckDB's SQL and translated for the backend by Ibis (sqlglot). A URL must not
hold a password: the backend takes it from its own settings or environment.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from cxkit.errors import ParamsError
from cxkit.sql import PLAIN_NAME, ident, literal, read_only_select

__all__ = ["Source", "RecordedSource", "CSV_OPTIONS", "URL", "check_unchanged"]

_FILE_KINDS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".gz": "csv", ".parquet": "parquet",
               ".pq": "parquet", ".duckdb": "duckdb", ".db": "duckdb"}
_SPEC_KEYS = {"path", "table", "query", "columns", "date_format", "csv", "ibis"}

#: CSV options a params file may set (``data.<table>.csv``): name -> (DuckDB read_csv option, check, allowed).
CSV_OPTIONS = {
    "delimiter": ("delim", lambda v: isinstance(v, str) and 1 <= len(v) <= 4, "one character such as ';' or '\\t'"),
    "quote": ("quote", lambda v: isinstance(v, str) and len(v) <= 1, "one character such as '\"'"),
    "escape": ("escape", lambda v: isinstance(v, str) and len(v) <= 1, "one character"),
    "decimal_separator": ("decimal_separator", lambda v: v in (".", ","), "'.' or ','"),
    "encoding": ("encoding", lambda v: str(v).lower().replace("_", "-") in ("utf-8", "utf-16", "latin-1"),
                 "utf-8, utf-16 or latin-1"),
    "header": ("header", lambda v: isinstance(v, bool), "true or false"),
    "skip": ("skip", lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 1000,
             "a number of lines to skip before the header"),
}
_CSV_ALIASES = {"delim": "delimiter", "sep": "delimiter", "decimal": "decimal_separator"}
#: A path that is a URL (``https://...``, ``s3://...``): never read (see :mod:`cxkit.engine`).
URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
#: First bytes of files that are not text, with what to do instead.
_MAGIC = {b"PK\x03\x04": "an Excel workbook or a zip archive; export the sheet as CSV (UTF-8)",
          b"\xd0\xcf\x11\xe0": "an old Excel (.xls) workbook; export the sheet as CSV (UTF-8)",
          b"PAR1": "a Parquet file; name it with a .parquet suffix",
          b"SQLite format 3": "a SQLite database; export the table as CSV or Parquet",
          b"%PDF": "a PDF document"}



def _exists(path: Path) -> bool:
    return path.exists() or any(path.parent.glob(path.name)) if path.parent.exists() else path.exists()


def _resolved(path: Path, where: str) -> Path:
    """``path.resolve()``, with a symbolic link that loops named as such (a ``ParamsError``, not a traceback)."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):  # Python < 3.13 raises RuntimeError for a loop, later OSError
        raise ParamsError(f"{where}: {path} is a symbolic link that loops back on itself; name the file itself") \
            from None


def resolve_path(path, base_dir, where: str = "data") -> tuple[Path, tuple]:
    """A data path from a params file: absolute as given; a relative one is looked up next to the params
    file, else from the current folder, else from the params file's project (the folder holding its
    ``params/``, where the sample params files' paths start), so ``papermill`` run from the project folder
    finds what ``cxkit render`` finds from anywhere.

    Returns the path and the places tried (for the "not found" message).
    """
    from cxkit.paths import project_dirs

    path = Path(str(path)).expanduser()
    if path.is_absolute():
        return path, (path,)
    folders = (base_dir, Path.cwd(), *project_dirs(base_dir))
    places = tuple(dict.fromkeys(_resolved(Path(folder) / path, where) for folder in folders))
    found = next((p for p in places if _exists(p)), None)
    return (found, (found,)) if found is not None else (places[0], places)


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
    ibis : str, optional
        An Ibis connection URL (``pyspark://``, ``duckdb:///lake.duckdb``, ``postgres://user@host/db``): the
        ``db_table`` (``schema.table``) or ``query`` is read from that backend.

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
    tried: tuple = field(default=(), compare=False, repr=False)  # where a relative path was looked for
    ibis: str | None = None
    pinned: dict | None = field(default=None, compare=False, repr=False)  # the fingerprint taken before reading
    seen: tuple = field(default=(), compare=False, repr=False)  # each file's stat when it was pinned

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
        if spec.get("ibis") is not None:
            _check_ibis(table, spec)
        elif not spec.get("path") and not spec.get("query"):
            raise ParamsError(f"data.{table}: give a 'path' or a 'query'")
        path, tried = None, ()
        if isinstance(spec.get("path"), str) and URL.match(spec["path"].strip()):
            raise ParamsError(f"data.{table}.path: {spec['path']!r} is a URL; the kit reads local files only and "
                              "never reaches the network: download the file and name the local copy")
        if spec.get("path"):
            path, tried = resolve_path(spec["path"], base_dir, f"data.{table}")
        columns = spec.get("columns") or {}
        if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
            raise ParamsError(f"data.{table}.columns: expected a mapping of contract name -> source column name")
        odd = [k for k in columns if not PLAIN_NAME.fullmatch(str(k))]
        if odd:
            raise ParamsError(f"data.{table}.columns: {odd[0]!r} is not a plain name; the name on the left is the "
                              "kit's (letters, digits and _, e.g. internet_type), the one on the right is yours")
        query = spec.get("query")
        if query is not None:
            query = read_only_select(query, f"data.{table}.query")
        db_table = spec.get("table")
        if db_table is not None and (not isinstance(db_table, str) or not db_table.strip()):
            raise ParamsError(f"data.{table}.table: expected a table name")
        date_format = spec.get("date_format")
        if date_format is not None and (not isinstance(date_format, str) or "%" not in date_format):
            raise ParamsError(f"data.{table}.date_format: {date_format!r} is not a date pattern; "
                              "write it with % codes, e.g. '%d/%m/%Y' or '%Y%m%d'")
        source = cls(table, path, query, db_table, dict(columns), date_format,
                     _csv_options(table, spec.get("csv")), tried, spec.get("ibis"))
        source._check()
        return source

    @property
    def kind(self) -> str:
        """``csv``, ``parquet``, ``duckdb``, ``query`` or ``ibis``."""
        if self.ibis is not None:
            return "ibis"
        if self.path is None:
            return "query"
        return _FILE_KINDS.get(self.path.suffix.lower(), "csv")

    def _check(self) -> None:
        where = f"data.{self.table}"
        if self.query and self.path is not None and self.kind not in ("duckdb", "ibis"):
            raise ParamsError(f"{where}: give a 'path' or a 'query', not both: a query runs on its own (it names "
                              "its files) or inside a DuckDB file's 'path'")
        if self.kind == "duckdb" and not (self.db_table or self.query):
            raise ParamsError(f"{where}: a DuckDB file needs 'table' or 'query'")
        if self.csv and self.kind != "csv":
            raise ParamsError(f"{where}.csv: CSV options apply to CSV files only, and {self.path or 'a query'} "
                              "is not one")
        if self.path is None:
            return
        if self.path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods"):
            raise ParamsError(f"{where}: {self.path.name} is a spreadsheet; export the sheet as CSV (UTF-8) "
                              "or Parquet and name that file")
        if self.path.is_dir():
            raise ParamsError(f"{where}: {self.path} is a folder; name a file, or every file in it with a glob "
                              f"such as {self.path.name}/*.csv")
        if self.path.is_symlink() and not self.path.exists():
            raise ParamsError(f"{where}: {self.path} is a symbolic link that loops or points to nothing "
                              f"({os.readlink(self.path)}); name the file itself")
        if not self.path.exists() and not any(self.path.parent.glob(self.path.name)):
            places = " or ".join(str(p) for p in self.tried) if len(self.tried) > 1 else str(self.path)
            raise ParamsError(f"{where}: file not found: {places}")
        matched = [self.path] if self.path.exists() else sorted(self.path.parent.glob(self.path.name))
        odd = [m for m in matched if not m.is_file() and not m.is_dir()]
        if odd:
            kind = "a named pipe (FIFO)" if odd[0].is_fifo() else "a device" if (
                odd[0].is_char_device() or odd[0].is_block_device()) else "a socket" if odd[0].is_socket() else \
                "not a regular file"
            raise ParamsError(f"{where}: {odd[0]} is {kind}, not a file; reading it could wait forever: "
                              "save the data to a file and name that")
        if self.path.is_file():
            self._check_content(where)

    def _check_content(self, where: str) -> None:
        """A file that cannot be what its name says: empty, or binary where text is expected."""
        size = self.path.stat().st_size
        if size == 0:
            raise ParamsError(f"{where}: {self.path} is empty (0 bytes)")
        if self.kind != "csv":
            return
        with open(self.path, "rb") as handle:
            head = handle.read(4096)
        if self.path.suffix.lower() == ".gz":
            return
        utf16 = str(self.csv.get("encoding", "")).lower().replace("_", "-").startswith("utf-16")
        if not utf16 and (head[:2] in (b"\xff\xfe", b"\xfe\xff") or head[1:400:2].count(0) > 150):
            raise ParamsError(f"{where}: {self.path.name} is UTF-16 text (as Excel's 'Unicode Text' saves it); "
                              f"set data.{self.table}.csv.encoding: utf-16, or save it as CSV UTF-8")
        if size > len(head):
            with open(self.path, "rb") as handle:
                handle.seek(max(size - 4096, 0))
                tail = handle.read()
            padding = len(tail) - len(tail.rstrip(b"\x00"))
            if padding and not str(self.csv.get("encoding", "")).lower().startswith("utf-16"):
                more = " or more" if padding == len(tail) else ""
                raise ParamsError(f"{where}: {self.path.name} ends in {padding:,}{more} NUL bytes (padding left by a "
                                  "copy or a crash); the text before them may be cut short: export the file again")
        for magic, what in _MAGIC.items():
            if head.startswith(magic):
                raise ParamsError(f"{where}: {self.path.name} is not a CSV file: it is {what}")
        if b"\x00" in head and not str(self.csv.get("encoding", "")).lower().startswith("utf-16"):
            raise ParamsError(f"{where}: {self.path.name} is not a CSV text file (it holds binary bytes); "
                              "export it as CSV, or set data." + self.table + ".csv.encoding: utf-16")

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
            return self.csv_sql()
        if kind == "parquet":  # parts of one export: columns matched by name, one missing in a part is empty there
            return f"read_parquet({literal(self.path)}{', union_by_name=true' if self.is_glob else ''})"
        if kind == "duckdb" and self.db_table:
            return f"{self.attach_alias()}.{ident(self.db_table)}"
        if kind == "ibis":
            return ident(self.fetched_name())
        return f"({self.query})"

    def fetched_name(self) -> str:
        """The DuckDB table an Ibis source's rows are read into (:func:`cxkit.load.load`)."""
        return f"cx_fetched_{self.table}"

    @property
    def backend_name(self) -> str | None:
        """An Ibis source's backend (the URL's scheme: ``pyspark``, ``duckdb``, ``postgres``, ...)."""
        return self.ibis.split("://", 1)[0] if self.ibis else None

    def csv_sql(self, header: bool | None = None) -> str:
        """``read_csv(...)`` with the params file's options, every value a literal; text columns only.

        ``header=False`` reads the header line as data, to see the column names exactly as written.
        """
        opts = {"header": True} | {CSV_OPTIONS[k][0]: v for k, v in self.csv.items()} | {"all_varchar": True}
        if header is not None:
            opts["header"] = header
        args = ", ".join(f"{k}={_sql_value(v)}" for k, v in opts.items())
        return f"read_csv({literal(self.path)}, {args})"

    @property
    def is_glob(self) -> bool:
        """The path names several files (``parts/*.parquet``)."""
        return self.path is not None and any(ch in self.path.name for ch in "*?[")

    @property
    def decimal_comma(self) -> bool:
        """Numbers in this CSV are written with a decimal comma (``csv: {decimal_separator: ','}``)."""
        return self.csv.get("decimal_separator") == ","

    def files(self) -> list[Path]:
        """The files this source reads: its path, or every file its glob matches (none for a query)."""
        if self.path is None or self.kind == "ibis":
            return []
        if self.path.is_file():
            return [self.path]
        return sorted(p for p in self.path.parent.glob(self.path.name) if p.is_file())

    def fingerprint(self) -> dict:
        """Identify the input for a run manifest: path, bytes and SHA-256 of its content (for a glob, of
        every file it matches, and each file's own).

        The fingerprint :meth:`pin` took before the data was read, when it was; otherwise the files as they
        are now. An Ibis source is identified by its backend and table or query here; what was read from it
        (row count and content hash) is added when it is read (:func:`cxkit.load.load`).
        """
        if self.pinned is not None:
            return dict(self.pinned)
        if self.kind == "ibis":
            return {"table": self.table, "kind": "ibis", "backend": self.backend_name,
                    "source": self.db_table or self.query}
        files = self.files()
        if not files:
            return {"table": self.table, "kind": self.kind, "query": self.query}
        parts = [{"path": str(f), "bytes": f.stat().st_size, "sha256": _sha256(f)} for f in files]
        if not self.is_glob:
            return {"table": self.table, "kind": self.kind, **parts[0]}
        whole = hashlib.sha256("".join(p["path"] + p["sha256"] for p in parts).encode()).hexdigest()
        return {"table": self.table, "kind": self.kind, "path": str(self.path),
                "bytes": sum(p["bytes"] for p in parts), "sha256": whole, "files": parts}

    def _stats(self) -> tuple:
        """Each file's path, size, modified and changed time and inode: a write changes the change time, which
        no one can set back by hand (``touch`` and ``os.utime`` set the modified time only)."""
        out = []
        for f in self.files():
            try:
                st = f.stat()
            except OSError:
                continue
            out.append((str(f), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino))
        return tuple(out)

    def pin(self) -> Source:
        """This source with its fingerprint taken now, from the bytes as they are before anything reads them:
        the fingerprint a run records, and what :meth:`changed` compares the files with afterwards."""
        fresh = replace(self, pinned=None, seen=())
        seen = fresh._stats()
        return replace(self, pinned=fresh.fingerprint(), seen=seen)

    def changed(self) -> str | None:
        """The first file whose content is no longer what :meth:`pin` read (or that appeared or went since),
        or None when every file is as it was (or the source was never pinned, or reads no file). Files whose
        stat is as it was are not read again; any other is hashed, so the same bytes written again are no
        change."""
        if self.pinned is None or "sha256" not in self.pinned:
            return None
        if self._stats() == self.seen:
            return None
        now = replace(self, pinned=None).fingerprint()
        if now.get("sha256") == self.pinned["sha256"]:
            return None
        before = {p["path"]: p["sha256"] for p in self.pinned.get("files", [self.pinned])}
        after = {p["path"]: p["sha256"] for p in now.get("files", [now] if "sha256" in now else [])}
        return next((path for path in sorted(before.keys() | after.keys()) if before.get(path) != after.get(path)),
                    str(self.path))


def check_unchanged(sources: dict, when: str) -> None:
    """Refuse what was made from input files whose content changed (or that appeared or went) since their
    fingerprints were taken, before they were read: ``ParamsError`` naming the table and the file.

    Examples
    --------
    >>> check_unchanged({}, "while the report was rendered")
    """
    for table, src in sources.items():
        changed = src.changed() if isinstance(src, Source) else None
        if changed:
            raise ParamsError(f"data.{table}: {changed} changed {when} (its content is not what was read at the "
                              "start: an export still being written, or replaced?); nothing was published and the "
                              "previous report is as it was: run again once the file is complete")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class RecordedSource:
    """An input as it was recorded when read (an analysis store's inputs, or rows fetched from an Ibis
    backend): its fingerprint, for run manifests, without reading it again."""

    def __init__(self, fingerprint: dict):
        self._fingerprint = dict(fingerprint)

    def fingerprint(self) -> dict:
        return dict(self._fingerprint)


def _check_ibis(table: str, spec: dict) -> None:
    """An Ibis source: a URL without a password, and exactly one of ``table`` and ``query``."""
    from urllib.parse import urlsplit

    where = f"data.{table}.ibis"
    url = spec["ibis"]
    if not isinstance(url, str) or not re.fullmatch(r"[a-z][a-z0-9+.-]*://\S*", url.strip()):
        raise ParamsError(f"{where}: {url!r} is not an Ibis connection URL such as 'pyspark://', "
                          "'duckdb:///data/lake.duckdb' or 'postgres://user@host/db'")
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    if password or re.search(r"(?i)(password|passwd|pwd|secret|token)=", url):
        raise ParamsError(f"{where}: the URL holds a password; a params file is no place for one: give it to the "
                          "backend through its own settings or environment (for Postgres, PGPASSWORD or ~/.pgpass)")
    for key in ("path", "csv"):
        if spec.get(key):
            raise ParamsError(f"data.{table}.{key}: an Ibis source reads from its backend; drop '{key}'")
    if bool(spec.get("table")) == bool(spec.get("query")):
        raise ParamsError(f"data.{table}: an Ibis source needs exactly one of 'table' (e.g. crm.customers) and "
                          "'query'")


def _csv_options(table: str, options) -> dict:
    """Check ``data.<table>.csv``: known options with allowed values, under their canonical names."""
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise ParamsError(f"data.{table}.csv: expected a mapping such as {{delimiter: ';', decimal_separator: ','}}")
    checked = {}
    for key, value in options.items():
        name = _CSV_ALIASES.get(str(key), str(key))
        if name not in CSV_OPTIONS:
            raise ParamsError(f"data.{table}.csv.{key}: unknown CSV option; options: {', '.join(CSV_OPTIONS)}")
        if not CSV_OPTIONS[name][1](value):
            raise ParamsError(f"data.{table}.csv.{key}: {value!r} is not allowed; use {CSV_OPTIONS[name][2]}")
        checked[name] = value
    return checked


def _sql_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return literal(value)
