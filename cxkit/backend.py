"""A DuckDB-connection face over an Ibis backend: the kit's SQL runs in the warehouse, small results come back.

Every analysis of the kit reads its data with DuckDB-dialect SQL on a connection (``con.execute``,
``con.sql(...).query("f", ...)``): GROUP BYs that return counts per segment, period, pattern or cell.
:class:`BackendConnection` answers the same calls by handing each statement to an Ibis backend (Spark,
BigQuery, Snowflake, Postgres, another DuckDB), which translates it from DuckDB's dialect (sqlglot) and runs it
next to the data; only the result crosses the wire. So the SQL is written once and DuckDB and the warehouse run
the same statements (:func:`cxkit.load.load` with ``data.engine: warehouse``).

What it understands beyond ``SELECT``: ``CREATE [OR REPLACE] [TEMP] TABLE|VIEW name AS SELECT ...`` (a view in
the backend; a table is a view on a cached result, computed once), ``DROP TABLE|VIEW [IF EXISTS] name``,
``DESCRIBE SELECT ...`` (the backend's schema in DuckDB's type names) and ``?`` parameters (written in as
literals). The tables it creates carry a prefix of their own in the backend, so the kit's ``customers`` never
shadows a warehouse table of that name. Every result's Arrow size is added to :attr:`BackendConnection.bytes_back`.

Examples
--------
>>> import ibis
>>> con = BackendConnection(ibis.duckdb.connect())
>>> _ = con.execute("CREATE TEMP TABLE t AS SELECT * FROM range(5) r(x)")
>>> con.sql("SELECT * FROM t").query("f", "SELECT sum(x) FROM f").fetchall()
[(10,)]
>>> con.bytes_back > 0
True
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import uuid

import numpy as np

__all__ = ["BackendConnection", "BackendRelation", "SPARK_SETTINGS", "duckdb_type"]

_CREATE = re.compile(r"^\s*CREATE\s+(OR\s+REPLACE\s+)?(TEMP\s+|TEMPORARY\s+)?(TABLE|VIEW)\s+(\S+)\s+AS\s+(.*)$",
                     re.S | re.I)
_DROP = re.compile(r"^\s*DROP\s+(TABLE|VIEW)\s+(IF\s+EXISTS\s+)?(\S+)\s*$", re.S | re.I)
_DESCRIBE = re.compile(r"^\s*DESCRIBE\s+(.*)$", re.S | re.I)
_SEARCH_PATH = re.compile(r"^\s*SET\s+search_path\s*=\s*'([^']*)'\s*$", re.I)
_IGNORED = re.compile(r"^\s*(SET|RESET|USE|PRAGMA|CREATE\s+SCHEMA)\b", re.I)


#: Set on a Spark session the kit computes in (session settings, no change to results). A table the kit keeps is a
#: cached DataFrame: without the first, Spark keeps a cached result in as many partitions as its last shuffle
#: (``spark.sql.shuffle.partitions``, 200 by default) and every later statement over it runs that many tasks
#: (measured on 100,000 customers in local mode: a count over 30,000 cached rows 2.6 s, with it 0.18 s).
#: The second brings results back as Arrow batches instead of pickled rows (Ibis reads them with ``toPandas``).
SPARK_SETTINGS = {"spark.sql.optimizer.canChangeCachedPlanOutputPartitioning": "true",
                  "spark.sql.execution.arrow.pyspark.enabled": "true"}


def duckdb_type(dtype) -> str:
    """DuckDB's name for an Ibis data type (the gateway and the estimators read DuckDB type names)."""
    if dtype.is_boolean():
        return "BOOLEAN"
    if dtype.is_integer():
        name = {1: "TINYINT", 2: "SMALLINT", 4: "INTEGER", 8: "BIGINT"}[dtype.nbytes]
        return name if dtype.is_signed_integer() else "U" + name
    if dtype.is_floating():
        return "FLOAT" if dtype.nbytes == 4 else "DOUBLE"
    if dtype.is_decimal():
        return f"DECIMAL({dtype.precision},{dtype.scale})"
    if dtype.is_date():
        return "DATE"
    if dtype.is_timestamp():
        return "TIMESTAMP"
    if dtype.is_string():
        return "VARCHAR"
    return str(dtype).upper()


def _literal(value) -> str:
    from cxkit.sql import literal

    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float | np.integer | np.floating):
        return repr(float(value)) if isinstance(value, float | np.floating) else str(int(value))
    if isinstance(value, dt.datetime):
        return f"TIMESTAMP {literal(value.isoformat(sep=' '))}"
    if isinstance(value, dt.date):
        return f"DATE {literal(value.isoformat())}"
    return literal(value)


def _plain_numbers(table):
    """Whole decimals (DuckDB's HUGEINT sums, Spark's DECIMAL(p, 0)) as int64, other decimals as float64: the
    types a DuckDB connection hands the estimators."""
    import pyarrow as pa

    fields = [pa.field(f.name, pa.int64() if f.type.scale == 0 else pa.float64()) if pa.types.is_decimal(f.type)
              else f for f in table.schema]
    return table.cast(pa.schema(fields)) if fields != list(table.schema) else table


def _arrow_of(backend, expr):
    """The rows of an Ibis expression as one Arrow table, typed as Ibis types them.

    Spark's come straight from its Arrow batches: Ibis's ``to_pyarrow`` on Spark goes through pandas
    (``toPandas``, then a table again from the frame), holding four copies of a result at once, and the key
    drivers' patterns and the risk-set counts are the largest results a report brings back.
    """
    hooks = getattr(backend, "_run_pre_execute_hooks", None)  # what Ibis's own execute does first
    if backend.name != "pyspark" or hooks is None or not _spark_has_arrow():
        return expr.to_pyarrow()  # any other backend, or a pyspark before 4.0 (no toArrow)
    from ibis.formats.pyarrow import PyArrowData

    table = expr.as_table()
    hooks(table)  # in-memory tables registered
    arrow = backend.raw_sql(backend.compile(table)).toArrow()
    return expr.__pyarrow_result__(PyArrowData.convert_table(arrow, table.schema()))


def _spark_has_arrow() -> bool:
    """Whether this pyspark's DataFrame hands its rows over as Arrow (``toArrow``, pyspark 4.0 on)."""
    from pyspark.sql import DataFrame

    return hasattr(DataFrame, "toArrow")


class _Result:
    """A fetched result (an Arrow table) with DuckDB's fetch methods."""

    def __init__(self, table):
        self._table = table
        self._rows = None

    def arrow(self):
        return self._table

    def _all(self) -> list:
        if self._rows is None:
            columns = [c.to_pylist() for c in self._table.columns]
            self._rows = list(zip(*columns, strict=True)) if columns else []
        return self._rows

    def fetchall(self) -> list:
        return self._all()

    def fetchone(self):
        rows = self._all()
        return rows[0] if rows else None

    def df(self):
        # dates as DuckDB hands them (datetime64); a block per column: numbers without gaps are not copied again
        return self._table.to_pandas(date_as_object=False, split_blocks=True)

    def fetchnumpy(self) -> dict:
        return {name: self._table.column(name).to_numpy(zero_copy_only=False) for name in self._table.column_names}


class BackendConnection:
    """The calls the kit makes on a DuckDB connection, answered by an Ibis backend.

    Parameters
    ----------
    backend : ibis backend
        Holds the data (``ibis.pyspark.connect(spark)``, ``ibis.duckdb.connect(...)``, ...).

    Attributes
    ----------
    bytes_back, rows_back : int
        Arrow bytes and rows of every result brought back so far (this connection's and its cursors').
    queries : int
        Statements sent to the backend.
    """

    engine = "warehouse"  # what cxkit.load.CXData.engine reads

    def __init__(self, backend):
        self.backend = backend
        self.prefix = f"cx_{uuid.uuid4().hex[:8]}_"
        self.created: dict[str, str] = {}  # the kit's name -> "table" or "view"
        self._cached: dict[str, object] = {}  # Spark: the kit's table name -> its cached DataFrame
        self._meter = {"bytes": 0, "rows": 0, "queries": 0}  # shared with every cursor
        self.search_path: str | None = None  # a schema searched before main (an audience's slice, cxkit.load)
        self._scope = "c0"  # this connection's temporary tables are its own (DuckDB's: one temp catalog each)
        self._root = True
        if backend.name == "pyspark":
            for key, value in SPARK_SETTINGS.items():
                backend._session.conf.set(key, value)

    @property
    def bytes_back(self) -> int:
        """Arrow bytes of every result brought back so far (by this connection and its cursors)."""
        return self._meter["bytes"]

    @property
    def rows_back(self) -> int:
        """Rows of every result brought back so far."""
        return self._meter["rows"]

    @property
    def queries(self) -> int:
        """Statements sent to the backend so far."""
        return self._meter["queries"]

    def __repr__(self) -> str:
        return (f"BackendConnection({self.backend.name}, {self.queries} queries, {self.rows_back:,} rows and "
                f"{self.bytes_back:,} bytes back)")

    # --- names -----------------------------------------------------------------------------------------------
    def _backend_name(self, name: str) -> str:
        return self.prefix + name.replace(".", "__").replace("#", "_")

    def _temp(self, name: str) -> str:
        """The key of this connection's temporary table ``name`` in :attr:`created`."""
        return f"{self._scope}#{name}"

    def _local(self, name: str) -> str:
        """The kit's name of a created table: without catalog or ``main`` (``memory.main._typed_x`` is
        ``_typed_x``), with any other schema (``slice_ab12.customers``, an audience's)."""
        parts = [p.strip('"') for p in name.split(".")]
        return parts[-1] if len(parts) == 1 or parts[-2] == "main" else f"{parts[-2]}.{parts[-1]}"

    def _resolve(self, name: str, schema: str = "") -> str | None:
        """The created table a reference ``schema.name`` reads, as DuckDB finds it: an unqualified name among
        this connection's temporary tables first, then in the search path's schema, then in main."""
        if schema == "temp":
            found = [self._temp(name)]
        elif schema not in ("", "main"):
            found = [f"{schema}.{name}"]
        else:
            found = [self._temp(name)] if not schema else []
            found += [f"{self.search_path}.{name}"] if self.search_path and not schema else []
            found.append(name)
        return next((f for f in found if f in self.created), None)

    def translate(self, sql: str) -> str:
        """``sql`` (DuckDB's dialect) with the kit's own tables renamed to theirs in the backend; still DuckDB."""
        import sqlglot
        from sqlglot import exp

        tree = sqlglot.parse_one(sql, read="duckdb")
        if self.backend.name != "duckdb":  # DuckDB's "/" always divides as DOUBLE (Spark's keeps DECIMAL, BigQuery
            for div in list(tree.find_all(exp.Div)):  # its INT64 ...): say so, so every engine divides alike
                div.set("expression", exp.cast(div.expression, exp.DataType.build("DOUBLE")))
        ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
        for table in list(tree.find_all(exp.Table)):
            name, schema = table.name, table.text("db")
            found = None if name in ctes and not schema else self._resolve(name, schema)
            if found is None:
                continue
            table.set("db", None)
            table.set("catalog", None)
            table.set("this", exp.to_identifier(self._backend_name(found), quoted=True))
            if not table.alias:  # a column qualified by the table's own name still finds it
                table.set("alias", exp.TableAlias(this=exp.to_identifier(name, quoted=True)))
        return tree.sql(dialect="duckdb")

    # --- statements ------------------------------------------------------------------------------------------
    def _bind(self, sql: str, params) -> str:
        if not params:
            return sql
        values = iter(params)
        return re.sub(r"\?", lambda _m: _literal(next(values)), sql)

    def expr(self, sql: str):
        """The Ibis expression of one SELECT (DuckDB's dialect)."""
        return self.backend.sql(self.translate(sql), dialect="duckdb")

    def _fetch(self, sql: str) -> _Result:
        import pyarrow as pa

        self._meter["queries"] += 1
        # Arrow's allocator keeps what earlier results freed (this process's memory would then grow by the
        # largest results brought back, one after another): handed back before the next comes
        pa.default_memory_pool().release_unused()
        table = _plain_numbers(_arrow_of(self.backend, self.expr(sql)))
        self._meter["bytes"] += table.nbytes
        self._meter["rows"] += table.num_rows
        return _Result(table)

    def _describe(self, sql: str) -> _Result:
        import pyarrow as pa

        self._meter["queries"] += 1
        schema = self.expr(sql).schema()
        names, types = list(schema.names), [duckdb_type(t) for t in schema.types]
        nulls = ["YES"] * len(names)
        blank = [None] * len(names)
        return _Result(pa.table({"column_name": names, "column_type": types, "null": nulls, "key": blank,
                                 "default": blank, "extra": blank}, schema=pa.schema(
            [("column_name", pa.string()), ("column_type", pa.string()), ("null", pa.string()),
             ("key", pa.string()), ("default", pa.string()), ("extra", pa.string())])))

    def execute(self, sql: str, params=None) -> _Result:
        """Run one statement (see the module's notes for what beyond SELECT is understood)."""
        import pyarrow as pa

        sql = self._bind(sql.strip().rstrip(";"), params)
        empty = _Result(pa.table({}))
        found = _SEARCH_PATH.match(sql)
        if found:
            self.search_path = found.group(1).split(",")[0].strip() or None
            return empty
        if _IGNORED.match(sql):
            return empty
        found = _CREATE.match(sql)
        if found:
            self.create(self._local(found.group(4)), found.group(5), table=found.group(3).upper() == "TABLE",
                        temporary=bool(found.group(2)))
            return empty
        found = _DROP.match(sql)
        if found:
            self.drop(self._resolve(self._local(found.group(3))) or "")
            return empty
        found = _DESCRIBE.match(sql)
        if found:
            return self._describe(found.group(1))
        if sql.lower().startswith("select current_database()"):
            return _Result(pa.table({"db": ["main"]}))
        return self._fetch(sql)

    def _quoted(self, name: str) -> str:
        import sqlglot

        return sqlglot.exp.to_identifier(name, quoted=True).sql(dialect=self.backend.dialect)

    def _run(self, statement: str) -> None:
        self.backend.raw_sql(statement)  # DuckDB's backend hands back its connection: never closed here

    def create(self, name: str, select: str, table: bool = False, temporary: bool = False) -> None:
        """A temporary view in the backend named for the kit's ``name``; a table is computed once and kept, apart
        from what it was computed from (Spark: a cached DataFrame's view; other backends: a temporary table)."""
        self._meter["queries"] += 1
        compiled = self.backend.compile(self.expr(select))
        if temporary:
            name = self._temp(name)
        self.drop(name)
        target = self._backend_name(name)
        if not table:
            self._run(f"CREATE OR REPLACE TEMPORARY VIEW {self._quoted(target)} AS {compiled}")
        elif self.backend.name == "pyspark":  # a view of a resolved plan, not of SQL text: it outlives its sources
            frame = self.backend._session.sql(compiled).cache()
            frame.createOrReplaceTempView(target)
            self._cached[name] = frame
        else:
            self._run(f"CREATE TEMPORARY TABLE {self._quoted(target)} AS {compiled}")
        self.created[name] = "table" if table else "view"

    def drop(self, name: str) -> None:
        kind = self.created.pop(name, None)
        if kind is None:
            return
        target = self._backend_name(name)
        if name in self._cached:
            self.backend._session.catalog.dropTempView(target)
            self._cached.pop(name).unpersist()
            return
        self._run(f"DROP {'TABLE' if kind == 'table' else 'VIEW'} IF EXISTS {self._quoted(target)}")

    def has_table(self, name: str) -> bool:
        return self._resolve(name) is not None

    def sql(self, sql: str) -> BackendRelation:
        return BackendRelation(self, sql)

    def cursor(self) -> BackendConnection:
        """Another connection to the same backend and tables (as DuckDB's: its own search path, from main)."""
        other = copy.copy(self)  # shares the backend, the created tables and the meter
        other.search_path, other._root, other._scope = None, False, f"c{uuid.uuid4().hex[:8]}"
        return other

    def register(self, name, frame) -> None:
        raise NotImplementedError("the warehouse engine does not upload local frames")

    def close(self) -> None:
        """Drop every table and view the kit created (a cursor's close leaves them to its connection)."""
        if not self._root:
            return
        for name in list(self.created):
            try:
                self.drop(name)
            except Exception:  # noqa: BLE001 - the session is going away
                pass


class BackendRelation:
    """A lazy query on a :class:`BackendConnection`, with the DuckDB relation methods the kit uses."""

    def __init__(self, con: BackendConnection, sql: str):
        self.con, self._sql = con, sql.strip().rstrip(";")
        self._schema = None

    def sql_query(self) -> str:
        return self._sql

    def _schema_of(self):
        if self._schema is None:
            self._schema = self.con.expr(self._sql).schema()
        return self._schema

    @property
    def columns(self) -> list[str]:
        return list(self._schema_of().names)

    @property
    def types(self) -> list[str]:
        return [duckdb_type(t) for t in self._schema_of().types]

    def query(self, name: str, sql: str):
        """``sql`` with ``name`` standing for this relation (as a common table expression)."""
        describe = _DESCRIBE.match(sql)
        inner = describe.group(1) if describe else sql
        import sqlglot

        tree = sqlglot.parse_one(inner, read="duckdb")
        cte = sqlglot.exp.CTE(this=sqlglot.parse_one(self._sql, read="duckdb"),
                              alias=sqlglot.exp.TableAlias(this=sqlglot.exp.to_identifier(name)))
        key = "with_" if "with_" in type(tree).arg_types else "with"  # sqlglot renamed it
        with_ = tree.args.get(key)
        if with_ is None:
            tree.set(key, sqlglot.exp.With(expressions=[cte]))
        else:
            with_.set("expressions", [cte, *with_.expressions])
        text = tree.sql(dialect="duckdb")
        return self.con._describe(text) if describe else BackendRelation(self.con, text)

    def project(self, expression: str) -> BackendRelation:
        """``SELECT expression`` from this relation."""
        return BackendRelation(self.con, f"SELECT {expression} FROM ({self._sql}) _rel")

    def filter(self, condition: str) -> BackendRelation:
        """The rows of this relation where ``condition`` holds."""
        return BackendRelation(self.con, f"SELECT * FROM ({self._sql}) _rel WHERE {condition}")

    def aggregate(self, expression: str) -> _Result:
        return self.query("_rel", f"SELECT {expression} FROM _rel")

    def _result(self) -> _Result:
        return self.con._fetch(self._sql)

    def fetchall(self) -> list:
        return self._result().fetchall()

    def fetchone(self):
        return self._result().fetchone()

    def df(self):
        return self._result().df()

    def fetchnumpy(self) -> dict:
        return self._result().fetchnumpy()

    def arrow(self):
        return self._result().arrow()
