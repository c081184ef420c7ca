"""Load the contract tables into DuckDB, validate them once, and apply the analysis date.

:func:`load` is the one gateway every analysis, notebook and CLI command goes
through. DuckDB reads and casts the sources (CSV, Parquet, DuckDB files, SQL),
so large tables are never pulled into pandas just to be checked or joined.

Examples
--------
>>> from cxkit.load import load                     # doctest: +SKIP
>>> data = load("params/demo.yaml")                 # doctest: +SKIP
>>> data.df("customers").shape                      # doctest: +SKIP
(20000, 9)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from cxkit.contract import CONTRACT, MIN_SEGMENT_SIZE
from cxkit.engine import connect
from cxkit.errors import CxkitWarning, ParamsError, Problem, ValidationError
from cxkit.params import read_params
from cxkit.sources import RecordedSource, Source
from cxkit.sql import ident, literal
from cxkit.validate import check_dates_and_magnitudes, check_structure, check_values

__all__ = ["CXData", "load", "engine_of", "SLICE_COPY_ROWS", "ENGINES"]

#: A slice of a batch's analysis store with at most this many rows (all tables together) is copied into
#: memory (a few tens of MB at most); a larger one stays a filtered view of the store.
SLICE_COPY_ROWS = 2_000_000

_ID_TEXT = "VARCHAR"
_DATE_COLUMNS = {"customers": ["signup_date", "end_date"], "responses": ["response_date"],
                 "revenue": ["month"], "contacts": ["date"]}


@dataclass
class CXData:
    """Validated contract tables held in one DuckDB connection.

    Attributes
    ----------
    con : duckdb.DuckDBPyConnection
        Holds the tables ``customers`` and any of ``responses``, ``revenue``, ``contacts``.
    mode : {"dated", "snapshot"}
        ``dated`` when customers have signup dates, ``snapshot`` when only tenure and a churn flag.
    as_of : datetime.date or None
        Analysis date; rows dated after it were set aside when loading.
    segments : tuple of str
        Text columns of ``customers`` usable as segments (plan, region, extra mapped ones).
    scores : tuple of str
        Score columns available (``nps``, ``csat``, ``effort``), from responses or the snapshot.
    row_counts : dict
        Rows per table after validation and the as-of cut.
    sources : dict
        Table -> :class:`~cxkit.sources.Source`, for fingerprints.
    min_segment_size : int
        Segments smaller than this are warned about and flagged in analyses.
    copied : bool
        A slice (:meth:`subset`) whose rows were copied into memory, rather than views on its parent's tables.
    """

    con: object
    mode: str
    as_of: dt.date | None
    segments: tuple
    scores: tuple
    row_counts: dict
    sources: dict
    min_segment_size: int = MIN_SEGMENT_SIZE
    columns: dict = field(default_factory=dict)
    slice_by: dict | None = None
    parent: CXData | None = None
    store: object = None  # the batch's AnalysisStore this data was read from (cxkit.store), if any
    copied: bool = False  # a slice whose rows were copied into memory (subset), not views on its parent's

    @property
    def tables(self) -> tuple:
        return tuple(self.row_counts)

    @property
    def engine(self) -> str:
        """``warehouse`` when the tables stay in an Ibis backend (:mod:`cxkit.backend`), else ``local``."""
        return getattr(self.con, "engine", "local")

    def __repr__(self) -> str:
        rows = ", ".join(f"{t} {n:,}" for t, n in self.row_counts.items())
        sliced = f", slice {self.slice_by}" if self.slice_by else ""
        return (f"CXData({self.mode}, as of {self.as_of}{sliced}: {rows} rows; segments "
                f"{', '.join(self.segments) or 'none'}; scores {', '.join(self.scores) or 'none'})")

    def _repr_html_(self) -> str:
        """The tables (rows, columns, where they came from) and what the analyses can use, never the connection."""
        import pandas as pd

        from cxkit._display import html_block

        def origin(src) -> str:
            return str(getattr(src, "path", None) or getattr(src, "db_table", None) or getattr(src, "ibis", None)
                       or ("query" if getattr(src, "query", None) else ""))

        rows = [{"table": t, "rows": n, "columns": ", ".join(self.columns.get(t, ())), "from": origin(
            self.sources.get(t))} for t, n in self.row_counts.items()]
        notes = [f"Mode {self.mode} ({'signup and end dates' if self.mode == 'dated' else 'tenure and a churn flag'}); "
                 f"as of {self.as_of}; segments {', '.join(self.segments) or 'none'}; scores "
                 f"{', '.join(self.scores) or 'none'}; segments under {self.min_segment_size} customers are flagged."]
        notes += [f"A slice: {self.slice_by}."] if self.slice_by else []
        return html_block("CXData: validated contract tables in DuckDB", pd.DataFrame(rows), notes, read_next={
            "con.sql('SELECT ... FROM customers')": "the tables, queried in DuckDB",
            "subset({'region': 'West'})": "an audience's slice", "has(table, column)": "whether a column is there"})

    def has(self, table: str, column: str | None = None) -> bool:
        """Whether a table (and, optionally, one of its columns) is present."""
        return table in self.columns and (column is None or column in self.columns[table])

    def subset(self, slice_by: dict | None, copy: bool | None = None) -> CXData:
        """The same data restricted to an audience slice, e.g. ``{"region": "West"}`` or ``{"plan": ["Pro", "Plus"]}``.

        Customers are filtered on their segment columns and every other table follows them. The
        tables stay in DuckDB (views in a schema of their own), so nothing is copied; except that a small
        slice of a batch's analysis store (at most :data:`SLICE_COPY_ROWS` rows in all) is copied into
        memory once, so the report's many queries read its rows instead of filtering the whole store again.
        ``copy=False`` never copies (a slice only checked, or only sliced further); ``True`` always does.

        Raises
        ------
        ParamsError
            An unknown column or a value no customer has, naming the key and the values available.
        """
        import hashlib
        import json

        if not slice_by:
            return self
        if not isinstance(slice_by, dict):
            raise ParamsError("slice_by: expected a mapping such as {region: West}")
        conditions = []
        for col, wanted in slice_by.items():
            if col not in self.segments:
                raise ParamsError(f"slice_by.{col}: not a segment column (segments: {', '.join(self.segments)})")
            values = [str(v) for v in (wanted if isinstance(wanted, list) else [wanted])]
            present = [r[0] for r in self.con.execute(f"SELECT DISTINCT {ident(col)} FROM customers").fetchall()]
            missing = [v for v in values if v not in present]
            if missing:
                raise ParamsError(f"slice_by.{col}: no customer has {missing}; values: "
                                  f"{', '.join(sorted(str(p) for p in present if p is not None))}")
            conditions.append(f"{ident(col)} IN ({', '.join(literal(v) for v in values)})")
        schema = "slice_" + hashlib.sha1(json.dumps(slice_by, sort_keys=True).encode()).hexdigest()[:10]
        self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        where = " AND ".join(conditions)
        sources = self._sources(where)
        self.con.execute(f"CREATE OR REPLACE VIEW {schema}.customers AS SELECT * FROM {sources['customers']} "
                         f"WHERE {where}")
        for table in self.tables:
            if table != "customers":
                self.con.execute(f"CREATE OR REPLACE VIEW {schema}.{table} AS SELECT * FROM {sources[table]} "
                                 f"WHERE customer_id IN (SELECT customer_id FROM {schema}.customers)")
        cursor = self.con.cursor()
        cursor.execute(f"SET search_path = '{schema}'")
        local_store = self.store is not None and self.engine != "warehouse"  # a warehouse's rows are not copied
        copied = bool(copy if copy is not None else local_store and self._slice_rows(cursor) <= SLICE_COPY_ROWS)
        if copied:
            self._copy_slice(schema)  # then the counts below read the copies, not the whole store again
        counts = {t: cursor.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in self.tables}
        return replace(self, con=cursor, row_counts=counts, slice_by=dict(slice_by), parent=self, copied=copied)

    def _sources(self, where: str) -> dict[str, str]:
        """Where a slice's rows of each table are read from: the stretch of a batch's store that its customers
        occupy (:meth:`cxkit.store.AnalysisStore.slice_sources`), or the whole tables."""
        # a slice's conditions are whole (a team's name its region too), so they apply to the whole store
        sources = self.store.slice_sources(self.con, where) if self.store is not None else None
        return sources or {table: f"main.{table}" for table in self.tables}

    def _slice_rows(self, cursor) -> float:
        """A slice's rows in all tables, estimated from its customers (counted) and this data's rows per
        customer: enough to decide whether to copy it, without a pass over the other tables."""
        customers = cursor.execute("SELECT count(*) FROM customers").fetchall()[0][0]
        per_customer = sum(self.row_counts.values()) / max(self.row_counts.get("customers", 0), 1)
        return customers * per_customer

    def _copy_slice(self, schema: str) -> None:
        """Copy a slice's rows into memory (``<table>_rows``) and point its views at them: customers first, so
        the other tables are filtered against the slice's copied customers, not the whole store's."""
        for table in ("customers", *(t for t in self.tables if t != "customers")):
            self.con.execute(f"CREATE OR REPLACE TABLE {schema}.{table}_rows AS FROM {schema}.{table}")
            self.con.execute(f"CREATE OR REPLACE VIEW {schema}.{table} AS FROM {schema}.{table}_rows")

    def local_copy(self, tables=("customers", "responses", "contacts", "revenue")) -> CXData:
        """The validated rows of ``tables`` on this machine, in an in-memory DuckDB: for an analyst's own
        row-level work when the data stays in a warehouse (:attr:`engine`); the kit's analyses do not need it.

        ``revenue`` comes back reduced to one row per customer (the mean of their billed months, the only figure
        the drivers read from it), not one per month. Local data is returned as it is.
        """
        if self.engine != "warehouse":
            return self
        local = connect()
        counts = {}
        for table in (t for t in self.tables if t in tables):
            cols = self.columns[table]
            if table == "revenue":
                query = ("SELECT customer_id, min(month) AS month, avg(amount) AS amount FROM revenue GROUP BY 1")
                cols = ["customer_id", "month", "amount"]
            else:
                query = f"SELECT {', '.join(ident(c) for c in cols)} FROM {table}"
            arrow = self.con.execute(query).arrow()
            local.register("_rows", arrow)
            local.execute(f"CREATE TABLE {ident(table)} AS SELECT * FROM _rows")
            local.unregister("_rows")
            counts[table] = self.row_counts[table]
        columns = {t: (["customer_id", "month", "amount"] if t == "revenue" else list(c))
                   for t, c in self.columns.items() if t in counts}
        return replace(self, con=local, row_counts=counts, columns=columns, parent=None)

    def close(self) -> None:
        """Close the DuckDB connection behind this data and every slice of it (a long-running process, such
        as a batch worker, would otherwise keep each report's connection and its caches)."""
        root = self
        while root.parent is not None:
            root = root.parent
        try:
            root.con.close()
        except Exception:  # noqa: BLE001 - already closed
            pass

    def sql(self, query: str):
        """Run SQL on the validated tables and return a DuckDB relation."""
        return self.con.sql(query)

    def df(self, table_or_query: str) -> pd.DataFrame:
        """A table (or the result of a query) as pandas, text columns as categoricals.

        Goes through Arrow and dictionary-encodes text, which keeps memory low
        for many repeated values (plan, region, band).
        """
        query = table_or_query if " " in table_or_query else f"SELECT * FROM {table_or_query}"
        return _arrow_to_pandas(self.con.sql(query).arrow())


def _arrow_to_pandas(table) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.compute as pc

    if hasattr(table, "read_all"):
        table = table.read_all()
    arrays = [pc.dictionary_encode(col) if pa.types.is_string(col.type) or pa.types.is_large_string(col.type)
              else col for col in table.columns]
    return pa.Table.from_arrays(arrays, names=table.column_names).to_pandas()


#: ``data.engine``: where the report is computed. ``local``: every table is read into DuckDB on this machine;
#: ``warehouse``: the tables stay in their one Ibis backend and every query runs there
#: (:class:`cxkit.backend.BackendConnection`); ``auto`` (the default): the warehouse when every table is an Ibis
#: source of one backend, else local.
ENGINES = ("auto", "local", "warehouse")


def load(params, *, base_dir: str | Path | None = None, as_of=None, min_segment_size: int | None = None,
         con=None, pin: bool = False, engine: str | None = None) -> CXData:
    """Read, map, validate and date-cut the contract tables named in a params file.

    Parameters
    ----------
    params : str, Path or dict
        A params YAML file, or its content as a dict. Uses the keys ``data``
        (table -> source spec), ``as_of`` and ``min_segment_size``.
    base_dir : str or Path, optional
        Relative paths are resolved against it (default: the YAML file's folder, or the working directory).
    as_of : str or date, optional
        Overrides ``params["as_of"]``. Default: the latest date in the data.
    min_segment_size : int, optional
        Overrides ``params["min_segment_size"]`` (default 30).
    con : duckdb.DuckDBPyConnection, optional
        Connection to load into (default: a new in-memory one).
    pin : bool
        Take each input file's fingerprint (its content's SHA-256) before reading it, so that a run can record
        it and check afterwards that the files are still what was read (:func:`cxkit.sources.check_unchanged`);
        what ``cxkit render`` and ``batch`` do.
    engine : {"auto", "local", "warehouse"}, optional
        Overrides ``params["data"]["engine"]`` (see :data:`ENGINES`).

    Returns
    -------
    CXData

    Raises
    ------
    ParamsError
        The params are malformed or a file is missing.
    ValidationError
        The data breaks the contract; the message lists every broken rule.
    """
    if isinstance(params, str | Path):
        params = read_params(params)
    params = dict(params)
    base = Path(base_dir or params.get("_base_dir") or ".")
    spec = params.get("data")
    if not isinstance(spec, dict) or "customers" not in spec:
        import difflib

        near = [f"{k} (did you mean {m[0]}?)" for k in (spec if isinstance(spec, dict) else ())
                if k not in CONTRACT and k != "engine" and (m := difflib.get_close_matches(str(k), list(CONTRACT), 1))]
        raise ParamsError("data: give at least data.customers (a path or a source mapping)"
                          + (f"; unknown: {', '.join(near)}" if near else ""))
    spec = dict(spec)
    engine = engine or spec.pop("engine", None) or "auto"
    spec.pop("engine", None)
    if engine not in ENGINES:
        raise ParamsError(f"data.engine: {engine!r}; use one of {', '.join(ENGINES)}")
    unknown = set(spec) - set(CONTRACT)
    if unknown:
        raise ParamsError(f"data: unknown table(s) {sorted(unknown)}; tables: {', '.join(CONTRACT)}")
    sources = {name: Source.from_spec(name, spec[name], base) for name in CONTRACT if spec.get(name)}
    engine = _engine(engine, sources)
    if pin:  # each file's content hash, taken before anything reads it: what a run records and checks at its end
        sources = {name: src.pin() for name, src in sources.items()}
    as_of = _as_date(as_of if as_of is not None else params.get("as_of"), "as_of")
    if min_segment_size is None:
        min_segment_size = params.get("min_segment_size", MIN_SEGMENT_SIZE)
    min_size = _as_count(min_segment_size, "min_segment_size")

    if engine == "warehouse":
        con = _backend_connection(sources)
        fetched = {name: _name_in_backend(con, src) for name, src in sources.items()}
    else:
        con = con or connect()
        for alias, src in {s.attach_alias(): s for s in sources.values() if s.attach_alias()}.items():
            _attach(con, src, alias)
        fetched = {name: fetch_ibis(con, src) for name, src in sources.items() if src.kind == "ibis"}
    described = {name: _without_blank_headers(con, src, _describe(con, src)) for name, src in sources.items()}
    duplicated = [p for name, src in sources.items() for p in _duplicate_columns(con, src, described[name])]
    if duplicated:
        raise ValidationError(duplicated)
    cust_cols = set(described["customers"]) | set(sources["customers"].columns)
    lower = {c.lower() for c in cust_cols}
    mode = "dated" if "signup_date" in lower else "snapshot" if {"duration", "churned"} & lower else None

    resolved, problems = {}, []
    for name, src in sources.items():
        resolved[name], found = check_structure(name, list(described[name]), src.columns, mode)
        problems += found
    if mode == "snapshot" and "responses" in sources:
        problems.append(Problem("responses", "*", "a responses table needs dated customers (signup_date); "
                                "snapshot data carries its score on the customers table"))
    if problems:
        raise ValidationError(problems)

    id_type = _common_id_type(described, resolved)
    raw_text: dict[str, set[str]] = {}
    for name, src in sources.items():
        header = _repeated_header(con, src, described[name])
        raw_text[name] = _build_typed(con, src, resolved[name], described[name], id_type, header)
        if header is not None:
            _drop_repeated_headers(con, src, header)
    columns = {name: list(resolved[name]) for name in sources}
    facts: dict = {}  # the warnings' aggregates, counted in the rules' scans
    problems = check_values(con, columns, raw_text, mode, {n: s.date_format for n, s in sources.items()}, facts)
    if problems:
        raise ValidationError(problems)

    for name, src in sources.items():  # text that needs no trimming is read as it is from here on
        plain = _plain_text(con, src, resolved[name], described[name], id_type)
        if plain:  # a view's source (no CSV): no header lines to flag
            _build_typed(con, src, resolved[name], described[name], id_type, None, frozenset(plain))
    latest = _latest_date(con, columns, facts) if mode == "dated" else None
    if mode == "dated" and as_of is None:
        as_of = latest
    check_dates_and_magnitudes(con, columns, as_of, latest, facts)
    counts = _finalise(con, columns, mode, as_of)
    cust = columns["customers"]
    segments = tuple([c for c in ("plan", "region") if c in cust]
                     + [c for c in cust if c not in CONTRACT["customers"].names])
    score_table = "responses" if "responses" in columns else "customers"
    scores = tuple(s for s in ("nps", "csat", "effort") if s in columns[score_table])
    for name in fetched if engine == "local" else ():  # the rows read from a backend are in the typed table now
        con.execute(f"DROP TABLE IF EXISTS {ident(sources[name].fetched_name())}")
    recorded = {name: RecordedSource(fetched[name]) if name in fetched else src for name, src in sources.items()}
    data = CXData(con, mode, as_of, segments, scores, counts, recorded, min_size, columns)
    _warn_small_segments(data)
    return data


def engine_of(spec: dict, base_dir: str | Path = ".") -> str:
    """The engine a params file's ``data`` spec runs on, ``local`` or ``warehouse``, without reading any data.

    Examples
    --------
    >>> engine_of({"customers": {"ibis": "duckdb://", "table": "customers"}})
    'warehouse'
    >>> engine_of({"customers": {"ibis": "duckdb://", "table": "customers"}, "engine": "local"})
    'local'
    """
    spec = dict(spec)
    engine = spec.pop("engine", None) or "auto"
    if engine not in ENGINES:
        raise ParamsError(f"data.engine: {engine!r}; use one of {', '.join(ENGINES)}")
    return _engine(engine, {name: Source.from_spec(name, spec[name], Path(base_dir))
                            for name in CONTRACT if spec.get(name)})


def _engine(engine: str, sources: dict) -> str:
    """``local`` or ``warehouse`` (see :data:`ENGINES`); the warehouse needs every table in one Ibis backend."""
    urls = {src.ibis for src in sources.values()}
    one_backend = len(urls) == 1 and None not in urls
    if engine == "warehouse" and not one_backend:
        raise ParamsError("data.engine: warehouse needs every table in one Ibis backend (the same 'ibis' URL for "
                          f"{', '.join(sources)}); found {len(urls)} different sources. Use engine: local to read "
                          "them all onto this machine")
    return "warehouse" if engine == "warehouse" or (engine == "auto" and one_backend) else "local"


def _import_ibis(src: Source):
    """The ``ibis`` module, or a params error naming the install line."""
    try:
        import ibis
    except ImportError:
        raise ParamsError(f"data.{src.table}.ibis: reading from {src.backend_name} needs Ibis: pip install "
                          f"'ibis-framework[{src.backend_name}]'") from None
    return ibis


@contextmanager
def _backend_errors(src: Source, doing: str):
    """A backend's errors worded as params errors: a missing driver as its install line; anything else (each
    backend raises its own types) as ``cannot <doing>`` with the error's first line, never the URL's secrets."""
    try:
        yield
    except ImportError:
        raise ParamsError(f"data.{src.table}.ibis: the {src.backend_name} backend needs a driver that is not "
                          f"installed here: pip install 'ibis-framework[{src.backend_name}]'") from None
    except Exception as exc:  # each backend raises its own types; all mean "cannot reach (read) it"
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise ParamsError(f"data.{src.table}: cannot {doing}: {first}") from None


def _connect_ibis(src: Source):
    """``ibis.connect`` on an Ibis source's URL, its errors worded as params errors."""
    ibis = _import_ibis(src)
    with _backend_errors(src, f"connect to {src.backend_name}"):
        return ibis.connect(src.ibis)  # never closed here: for Spark, that would stop the process's session


def _backend_connection(sources: dict):
    """The warehouse engine's connection: the kit's SQL runs in the sources' one backend."""
    from cxkit.backend import BackendConnection

    return BackendConnection(_connect_ibis(next(iter(sources.values()))))


def _name_in_backend(con, src: Source) -> dict:
    """Name an Ibis source in its backend as the gateway reads it (``src.fetched_name()``, a view: nothing is
    read); its fingerprint with its rows, counted there."""
    what = f"{src.backend_name} table {src.db_table}" if src.db_table else f"the query on {src.backend_name}"
    select = f"SELECT * FROM ({src.query}) q" if src.query else \
        "SELECT * FROM " + ".".join(ident(part) for part in src.db_table.split("."))
    with _backend_errors(src, f"read {what}"):
        con.execute(f"CREATE VIEW {src.fetched_name()} AS {select}")
        rows = con.execute(f"SELECT count(*) FROM {src.fetched_name()}").fetchone()[0]
    return {**src.fingerprint(), "rows": int(rows), "engine": "warehouse"}


def fetch_ibis(con, src: Source) -> dict:
    """Read an Ibis source's table or query into ``con`` (as ``src.fetched_name()``), once; its fingerprint
    with what was read: rows and a content hash (order-independent, computed in DuckDB).

    Raises
    ------
    ParamsError
        Ibis or the backend's driver is missing, the backend cannot be reached, or the table or query
        cannot be read; the message names the table and the backend, never the URL's secrets.
    """
    what = f"{src.backend_name} table {src.db_table}" if src.db_table else f"the query on {src.backend_name}"
    ibis = _import_ibis(src)
    with _backend_errors(src, f"read {what}"):
        backend = ibis.connect(src.ibis)  # never closed here: for Spark, that would stop the process's session
        if src.query:
            expr = backend.sql(src.query, dialect="duckdb")
        else:
            *database, name = src.db_table.split(".")
            expr = backend.table(name, database=tuple(database) if len(database) > 1 else
                                 (database[0] if database else None))
        arrow = expr.to_pyarrow()
    view = f"cx_arrow_{src.table}"
    con.register(view, arrow)
    try:
        con.execute(f"CREATE OR REPLACE TABLE {ident(src.fetched_name())} AS SELECT * FROM {ident(view)}")
    finally:
        con.unregister(view)
    names = [c[0] for c in con.execute(f"DESCRIBE {ident(src.fetched_name())}").fetchall()]
    row = ", ".join(ident(n) for n in names)
    rows, xor, total = con.execute(
        f"SELECT count(*), bit_xor(hash({row})), sum(CAST(hash({row}) AS HUGEINT)) "
        f"FROM {ident(src.fetched_name())}").fetchone()
    digest = hashlib.sha256(f"{names}|{rows}|{xor}|{total}".encode()).hexdigest()
    return {**src.fingerprint(), "rows": int(rows), "content_hash": digest}


def _as_count(value, what: str) -> int:
    try:
        number = float(value) if not isinstance(value, bool) else float("nan")
    except (TypeError, ValueError):
        number = float("nan")
    if not number.is_integer():  # also NaN and infinities
        raise ParamsError(f"{what}: {value!r} is not a whole number (e.g. 30)")
    if number < 1:
        raise ParamsError(f"{what}: {value!r} must be at least 1")
    return int(number)


def _attach(con, src: Source, alias: str) -> None:
    """Attach a DuckDB file read-only; a lock held by another process or a damaged file is a user error."""
    try:
        con.execute(f"ATTACH {literal(src.path)} AS {alias} (READ_ONLY)")
    except Exception as exc:  # duckdb.IOException, SerializationException, ...: all mean "cannot open it"
        text = str(exc)
        if "lock" in text.lower():
            holder = text.split("(PID", 1)[1].split(")", 1)[0].strip() if "(PID" in text else None
            who = f" (process {holder})" if holder else ""
            raise ParamsError(f"data.{src.table}: {src.path} is locked by another program{who}; close it there, "
                              "or copy the file and name the copy") from None
        first = text.strip().splitlines()[0]
        raise ParamsError(f"data.{src.table}: cannot open {src.path} as a DuckDB database: {first}") from None


def _header_line(con, src: Source) -> list | None:
    """A CSV's header line as written (None where the sniffer disagrees on a header-less read)."""
    try:
        return list(con.execute(f"SELECT * FROM {src.csv_sql(header=False)} LIMIT 1").fetchone())
    except Exception:  # noqa: BLE001
        return None


def _without_blank_headers(con, src: Source, described: dict[str, str]) -> dict[str, str]:
    """A CSV's columns without those whose header is empty and that hold nothing: the trailing ``,,`` a
    spreadsheet adds to every line."""
    if src.kind != "csv" or src.csv.get("header") is False:
        return described
    header = _header_line(con, src)
    if header is None or len(header) != len(described):
        return described
    kept = {}
    for (name, kind), written in zip(described.items(), header, strict=True):
        if written is None or not str(written).strip():
            filled = con.execute(f"SELECT count({ident(name)}) FILTER (WHERE trim({ident(name)}) <> '') "
                                 f"FROM {src.from_sql()}").fetchone()[0]
            if not filled:
                continue
        kept[name] = kind
    return kept


#: The flag column of a CSV's typed table: the line repeats the header (a concatenation of exports).
_HEADER_FLAG = "__cx_header_line"


def _repeated_header(con, src: Source, described: dict[str, str]) -> tuple[str, str] | None:
    """SQL conditions on a CSV's raw columns: ``(exact, reordered)``: the line is the header again, and the
    line holds the header's names in another order; None for other sources."""
    if src.kind != "csv" or src.csv.get("header") is False:
        return None
    header = _header_line(con, src)
    written = [("" if v is None else str(v).strip()) for v in header] if header is not None and \
        len(header) == len(described) else list(described)
    values = [f"coalesce(trim({ident(name)}), '')" for name in described]
    exact = " AND ".join(f"{v} = {literal(w)}" for v, w in zip(values, written, strict=True))
    reordered = (f"list_sort([{', '.join(values)}]) = list_sort([{', '.join(literal(w) for w in written)}]) "
                 f"AND NOT ({exact})")
    return exact, reordered


def _drop_repeated_headers(con, src: Source, header: tuple[str, str]) -> None:
    """Lines that repeat a CSV's header (``cat export-1.csv export-2.csv``) hold no data: dropped, warned about
    with their count and first line numbers. Names of the header in another order are refused: the rows after
    such a line would be read into the wrong columns."""
    table = f"_typed_{src.table}"
    exact, reordered = con.execute(f"SELECT count(*) FILTER (WHERE {_HEADER_FLAG} = 1), count(*) FILTER "
                                   f"(WHERE {_HEADER_FLAG} = 2) FROM {table}").fetchone()
    if not exact and not reordered:
        return
    lines = _lines_where(con, src, header[1] if reordered else header[0])
    shown = ", ".join(str(n) for n in lines) + (", ..." if (reordered or exact) > len(lines) else "")
    name = src.path.name if src.path is not None else src.table
    if reordered:
        raise ParamsError(f"data.{src.table}: {name} line{'s' if reordered > 1 else ''} {shown} repeat"
                          f"{'' if reordered > 1 else 's'} the header's names in another order ({reordered:,} "
                          "line" + ("s" if reordered > 1 else "") + "): the rows after such a line belong to other "
                          "columns; export the parts with one column order, or as one file")
    con.execute(f"DELETE FROM {table} WHERE {_HEADER_FLAG} = 1")
    warnings.warn(f"{src.table}: {name} repeats its header line {exact:,} time{'s' if exact > 1 else ''} (line"
                  f"{'s' if exact > 1 else ''} {shown}; exports joined one after another?); those lines hold no "
                  "data and were left out", CxkitWarning, stacklevel=4)


def _lines_where(con, src: Source, condition: str, limit: int = 5) -> list[int]:
    """The first line numbers of a CSV's rows matching ``condition`` (the header is line 1 after any skipped
    lines; a quoted value spanning lines would shift the numbers after it)."""
    first = int(src.csv.get("skip", 0)) + 1
    rows = con.execute(f"SELECT n FROM (SELECT row_number() OVER () AS n, {condition} AS hit "
                       f"FROM {src.from_sql()}) WHERE hit ORDER BY n LIMIT {limit}").fetchall()
    return [first + int(r[0]) for r in rows]


def _duplicate_columns(con, src: Source, described: dict[str, str]) -> list[Problem]:
    """Two columns with the same name (DuckDB would quietly rename the second one of a CSV ``name_1``)."""
    if src.kind == "csv":
        header = _header_line(con, src)  # the sniffer may disagree on a header-less read: the described names
        names = [str(v) for v in header if v is not None and str(v).strip()] if header is not None \
            else list(described)
    else:
        names = list(described)
    seen: dict[str, int] = {}
    for name in names:
        seen[name.strip().lower()] = seen.get(name.strip().lower(), 0) + 1
    return [Problem(src.table, name, f"{n} columns are named {name!r}; rename or remove all but one")
            for name, n in seen.items() if n > 1 and name]


def _as_date(value, what: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ParamsError(f"{what}: {value!r} is not a date (use YYYY-MM-DD)") from None


_FAMILIES = (("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
              "UBIGINT", "FLOAT", "DOUBLE", "DECIMAL"), ("DATE", "TIMESTAMP"), ("VARCHAR",), ("BOOLEAN",))


def _family(duckdb_type: str) -> str:
    return next((f[0] for f in _FAMILIES if str(duckdb_type).upper().startswith(f)), str(duckdb_type))


def _check_parquet_parts(con, src: Source) -> None:
    """Parts of one Parquet export whose columns drift in kind (text in one, numbers in another) are refused,
    naming the column and two parts; a column only some parts have is read as empty in the others."""
    try:
        rows = con.execute(f"SELECT file_name, name, duckdb_type FROM parquet_schema({literal(src.path)}) "
                           "WHERE num_children IS NULL").fetchall()
    except Exception:  # noqa: BLE001 - unreadable parts are reported when the source is described
        return
    seen: dict[str, tuple[str, str, str]] = {}  # column -> (family, type, first file)
    for file, name, kind in rows:
        family = _family(kind)
        first = seen.setdefault(str(name).lower(), (family, kind, file))
        if first[0] != family:
            raise ParamsError(f"data.{src.table}: the Parquet parts disagree on column {name!r}: {kind} in "
                              f"{Path(file).name}, {first[1]} in {Path(first[2]).name}; export the parts with one "
                              "schema (or name the parts that share one)")
    files = sorted({r[0] for r in rows})
    having = {col: {f for f, n, _ in rows if str(n).lower() == col} for col in seen}
    for col, present in having.items():
        if len(present) < len(files):
            lacking = [Path(f).name for f in files if f not in present]
            warnings.warn(f"data.{src.table}: column {col!r} is missing from {len(lacking)} of {len(files)} Parquet "
                          f"parts ({', '.join(lacking[:3])}{', ...' if len(lacking) > 3 else ''}); their rows are "
                          "read with it empty", CxkitWarning, stacklevel=4)


def _describe(con, src: Source) -> dict[str, str]:
    alias = src.attach_alias()
    if src.kind == "parquet" and src.is_glob:
        _check_parquet_parts(con, src)
    home = _home(con)
    try:
        if alias and src.query:
            con.execute(f"USE {alias}")
        rows = con.execute(f"DESCRIBE SELECT * FROM {src.from_sql()}").fetchall()
    except Exception as exc:  # duckdb raises many types; all mean "cannot read this source"
        raise ParamsError(_read_error(src, exc)) from None
    finally:
        if alias and src.query:
            con.execute(f"USE {home}")
    return {r[0]: r[1] for r in rows}


def _read_error(src: Source, exc: Exception) -> str:
    """DuckDB's reason for not reading a source, with its hint where it has one (encoding) kept."""
    text = str(exc).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    where = f"data.{src.table}: cannot read {src.path or 'the query'}"
    if "not utf-8 encoded" in text.lower() or "invalid unicode" in text.lower():
        return (f"{where}: the file is not UTF-8 text; save it as UTF-8, or say its encoding "
                f"(data.{src.table}.csv.encoding: latin-1 for Windows-1252 / ISO-8859-1 files)")
    url = re.search(r"File (\S+://\S*) requires the extension", text)
    if url or "HTTPFileSystem" in text:
        named = f" ({url.group(1)})" if url else ""
        return (f"{where}: it names a URL{named}; the kit reads local files only and never reaches the network: "
                "download the file and name the local copy")
    extension = re.search(r'with name "?(\w+)"? is not in the catalog, but it exists in the (\w+) extension', text)
    if extension:
        return (f"{where}: {extension.group(1)} needs DuckDB's {extension.group(2)} extension, which the kit never "
                "installs or loads; export the data as CSV or Parquet and name that file")
    if "sniff" in text.lower():
        mixed = _mixed_line_ends(src)
        if mixed:
            return f"{where}: {mixed}"
        return f"{where}: DuckDB could not make out its columns ({lines[0]}); is it a CSV text file?"
    return f"{where}: {lines[0] if lines else type(exc).__name__}"


def _mixed_line_ends(src: Source, limit: int = 8 << 20) -> str | None:
    """Why a CSV that DuckDB cannot sniff may be unreadable: Windows (CRLF) and Unix (LF) line ends in one file
    (a file appended to on two systems), with the first line of each kind; None when that is not it."""
    if src.kind != "csv" or src.path is None or not src.path.is_file():
        return None
    with open(src.path, "rb") as handle:
        head = handle.read(limit)
    lines = head.split(b"\n")[:-1]
    crlf = [i for i, line in enumerate(lines, 1) if line.endswith(b"\r")]
    if not crlf or len(crlf) == len(lines):
        return None
    lf = next(i for i, line in enumerate(lines, 1) if not line.endswith(b"\r"))
    return (f"{src.path.name} mixes Windows (CRLF) and Unix (LF) line ends ({len(crlf):,} of the first "
            f"{len(lines):,} lines end in CRLF, e.g. line {crlf[0]}; line {lf} in LF): save it with one kind "
            "(dos2unix, or any editor's 'line endings' setting)")


def _common_id_type(described, resolved) -> str | None:
    types = {described[t][resolved[t]["customer_id"]] for t in described}
    return None if len(types) == 1 else _ID_TEXT


_TYPED = {
    "date": ("DATE", "TIMESTAMP"),
    "int": ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
            "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL"),
    "flag": ("BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"),
}
_TYPED["float"] = _TYPED["int"]


def _typed_already(dtype: str, source_type: str) -> bool:
    """The source column already has a type that casts to the contract's without loss or guessing."""
    return source_type.upper().startswith(_TYPED.get(dtype, ()))


def _text(expr: str, plain: bool = False) -> str:
    """Text as the kit reads it: trimmed, and empty as NULL; ``plain``: the source's text is known to need
    neither (:func:`_plain_text`), so it is read as it is (no trim on every row of every later scan)."""
    return f"CAST({expr} AS VARCHAR)" if plain else f"NULLIF(trim(CAST({expr} AS VARCHAR)), '')"


def _cast(col, source_expr: str, source_type: str, src: Source) -> str:
    """SQL turning one source column into the contract's type; NULL where the value does not parse."""
    typed = _typed_already(col.dtype, source_type)
    if col.dtype == "date":
        if typed:
            return f"CAST({source_expr} AS DATE)"
        if src.date_format:
            return f"TRY_STRPTIME({_text(source_expr)}, {literal(src.date_format)})::DATE"
        parsed = f"TRY_CAST({_text(source_expr)} AS DATE)"  # a two-digit year ('26/08/24') is no year 24 AD
        return f"CASE WHEN year({parsed}) >= 1000 THEN {parsed} END"
    if col.dtype == "flag":
        text = f"lower({_text(source_expr)})"
        return (f"CASE WHEN {text} IN ('1', '1.0', 'true', 't', 'yes', 'y') THEN 1 "
                f"WHEN {text} IN ('0', '0.0', 'false', 'f', 'no', 'n') THEN 0 END")
    if col.dtype in ("int", "float"):
        if typed:
            return f"CAST({source_expr} AS DOUBLE)"
        # with a decimal comma, '.' and spaces (also no-break and narrow ones) and "'" group thousands: 1.234,56
        text = (f"replace(regexp_replace({_text(source_expr)}, '[.\\s\u00a0\u202f'']', '', 'g'), ',', '.')"
                if src.decimal_comma else _text(source_expr))
        return f"TRY_CAST({text} AS DOUBLE)"
    return _text(source_expr)


def _home(con) -> str:
    """The catalog the kit's own tables live in (``memory`` for the default connection)."""
    return con.execute("SELECT current_database()").fetchone()[0]


def _plain_text(con, src: Source, resolved: dict[str, str], types: dict[str, str], id_type: str | None) -> set[str]:
    """The source's text columns (contract text, extra segments, text ids) in which no value has spaces around
    it or is empty, for a source read through a view (Parquet, a DuckDB table): its typed view can then read
    them as they are. One scan of those columns, after validation; a CSV or a query is read once into a table,
    where trimming costs nothing later."""
    if not (src.kind == "parquet" or (src.kind == "duckdb" and src.db_table)):
        return set()
    spec = CONTRACT[src.table]
    text = [source for name, source in resolved.items() if types[source] == "VARCHAR" and (
        (name == "customer_id" and id_type is not None) or name not in spec.names
        or spec.column(name).dtype == "text")]
    if not text:
        return set()
    counts = con.execute("SELECT " + ", ".join(
        f"count(*) FILTER (WHERE {ident(c)} <> trim({ident(c)}) OR {ident(c)} = '')" for c in text)
        + f" FROM {src.from_sql()}").fetchone()
    return {c for c, n in zip(text, counts, strict=True) if not n}


def _build_typed(con, src: Source, resolved: dict[str, str], types: dict[str, str],
                 id_type: str | None, header: tuple[str, str] | None = None, plain: frozenset = frozenset()
                 ) -> set[str]:
    """Create ``_typed_<table>`` with contract names and types; return the columns kept raw.

    Every value that is not already of its contract type is kept beside it as text (``<col>__raw``), so a
    value that fails to parse is reported, never silently empty. Text ids are trimmed in every table. With
    ``header`` (:func:`_repeated_header`), a CSV's lines repeating its header are flagged (1: as written,
    2: in another order) in a column the contract's views never read. ``plain``: source text columns read as
    they are (:func:`_plain_text`).
    """
    spec = CONTRACT[src.table]
    selects, raw = [], set()
    for name, source_name in resolved.items():
        expr = ident(source_name)
        if name == "customer_id":
            text_id = id_type is not None or types[source_name] == "VARCHAR"
            selects.append(f"{_text(expr, source_name in plain)} AS customer_id" if text_id
                           else f"{expr} AS customer_id")
            continue
        col = spec.column(name) if name in spec.names else None
        if col is None:  # an extra segment column of customers
            selects.append(f"{_text(expr, source_name in plain)} AS {ident(name)}")
            continue
        selects.append(f"{_text(expr, True)} AS {name}" if source_name in plain and col.dtype == "text" else
                       f"{_cast(col, expr, types[source_name], src)} AS {name}")
        if col.dtype not in ("text", "id") and not _typed_already(col.dtype, types[source_name]):
            selects.append(f"{_text(expr)} AS {name}__raw")
            raw.add(name)
    if header is not None:
        selects.append(f"CASE WHEN {header[0]} THEN 1 WHEN {header[1]} THEN 2 ELSE 0 END::TINYINT AS {_HEADER_FLAG}")
    home = _home(con)
    alias = src.attach_alias()
    if alias and src.query:
        con.execute(f"USE {alias}")
    # Parquet and DuckDB tables are typed already: a view reads them on demand (nothing copied). Text
    # sources (CSV) and free SQL are read once into a table, so casts and queries are not repeated. Both
    # live in the kit's own schema (not TEMP), so that slice views in other schemas resolve them.
    kind = "VIEW" if src.kind == "parquet" or (src.kind == "duckdb" and src.db_table) else "TABLE"
    try:
        con.execute(f"CREATE OR REPLACE {kind} {home}.main._typed_{src.table} AS "
                    f"SELECT {', '.join(selects)} FROM {src.from_sql()}")
    except Exception as exc:
        raise ParamsError(_read_error(src, exc)) from None
    finally:
        if alias and src.query:
            con.execute(f"USE {home}")
    return raw


def _latest_date(con, columns, facts: dict | None = None) -> dt.date:
    """The latest date in the data: from the maxima :func:`~cxkit.validate.check_values` counted (``facts``),
    else by a query."""
    named = [(t, c) for t, cols in _DATE_COLUMNS.items() if t in columns for c in cols if c in columns[t]]
    known = [(facts or {}).get(t, {}).get(f"max({c})", ...) for t, c in named]
    if all(v is not ... for v in known):
        days = [v for v in known if v is not None]
        return max(days) if days else None
    parts = [f"SELECT max({c}) AS d FROM _typed_{t}" for t, c in named]
    return con.execute(f"SELECT max(d) FROM ({' UNION ALL '.join(parts)})").fetchall()[0][0]


def _finalise(con, columns: dict[str, list[str]], mode: str, as_of: dt.date | None) -> dict[str, int]:
    """Create the final tables as views, setting aside what lies after ``as_of`` (with a warning)."""
    counts, cut = {}, []
    later_signups = 0
    if mode == "dated" and as_of is not None:
        later_signups = con.execute(f"SELECT count(*) FROM _typed_customers WHERE signup_date > "
                                    f"DATE '{as_of.isoformat()}'").fetchall()[0][0]
    for table, cols in columns.items():
        spec = CONTRACT[table]
        ordered = [c for c in spec.names if c in cols] + sorted(c for c in cols if c not in spec.names)
        select = []
        for c in ordered:
            quoted = f'"{c}"'
            if c in spec.names and spec.column(c).dtype in ("int", "flag"):
                select.append(f"CAST({quoted} AS INTEGER) AS {quoted}")
            else:
                select.append(quoted)
        where = "TRUE"
        if mode == "dated" and as_of is not None:
            day = f"DATE '{as_of.isoformat()}'"
            if table == "customers":
                # Without customers signing up after as_of, no filter: DuckDB then knows the table's size
                # (a filter makes it guess a fifth) and builds its hash joins on the smaller side.
                where = f"signup_date <= {day}" if later_signups else "TRUE"
                if "end_date" in cols:
                    select = [f"CASE WHEN end_date > {day} THEN NULL ELSE end_date END AS end_date"
                              if s == '"end_date"' else s for s in select]
                    if "churn_reason" in cols:
                        select = [f"CASE WHEN end_date > {day} THEN NULL ELSE churn_reason END AS churn_reason"
                                  if s == '"churn_reason"' else s for s in select]
                    later = con.execute(f"SELECT count(*) FROM _typed_customers WHERE end_date > {day} "
                                        f"AND signup_date <= {day}").fetchall()[0][0]
                    if later:
                        cut.append(f"{later:,} customers who left after it count as still active")
            else:
                where = f"{_DATE_COLUMNS[table][0]} <= {day}"
                if later_signups:  # rows of customers who had not signed up by as_of (usually none: then no join)
                    where += (f" AND customer_id NOT IN "
                              f"(SELECT customer_id FROM _typed_customers WHERE signup_date > {day})")
        con.execute(f"CREATE OR REPLACE VIEW {table} AS SELECT {', '.join(select)} "
                    f"FROM _typed_{table} WHERE {where}")
        total, kept = con.execute(f"SELECT count(*), count(*) FILTER (WHERE {where}) FROM _typed_{table}"
                                  ).fetchall()[0]
        counts[table] = kept
        if kept < total:
            cut.append(f"{total - kept:,} {table} rows dated after it are set aside")
    if cut:
        warnings.warn(f"Analysis date (as_of) {as_of}: " + "; ".join(cut), CxkitWarning, stacklevel=3)
    return counts


def _warn_small_segments(data: CXData) -> None:
    """Warn about segment values held by fewer than ``min_segment_size`` customers: every segment column's sizes
    from one scan (a group per combination of their values, summed per column here)."""
    small = []
    cols = list(data.segments)
    if not cols:
        return
    rows = data.con.execute(f"SELECT {', '.join(ident(c) for c in cols)}, count(*) FROM customers "
                            f"GROUP BY ALL").fetchall()
    if len(rows) > 100_000:  # free-form columns: too many combinations to sum here, one scan per column instead
        rows = None
    for i, col in enumerate(cols):
        if rows is None:
            sizes = dict(data.con.execute(f"SELECT {ident(col)}, count(*) FROM customers GROUP BY 1").fetchall())
        else:
            sizes = {}
            for r in rows:
                sizes[r[i]] = sizes.get(r[i], 0) + r[-1]
        under = sorted(((n, v) for v, n in sizes.items() if n < data.min_segment_size),
                       key=lambda nv: (nv[0], str(nv[1])))
        if under:
            shown = ", ".join(f"{v} ({n})" for n, v in under[:5])
            small.append(f"customers.{col}: {len(under)} segment(s) under {data.min_segment_size} customers: "
                         f"{shown}{', ...' if len(under) > 5 else ''}")
    if small:
        warnings.warn("small segments give unstable estimates and are flagged in reports:\n  "
                      + "\n  ".join(small), CxkitWarning, stacklevel=3)
