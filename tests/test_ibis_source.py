"""Data read from an Ibis backend (another DuckDB here, Spark in local mode with ``make test-spark``): the
same validated tables and the same report as from files, read once per batch, bad specs refused."""

from __future__ import annotations

import json

import duckdb
import pytest
import yaml

from cxkit.errors import ParamsError
from cxkit.load import load
from cxkit.render.batch import batch
from cxkit.store import AnalysisStore
from cxkit.synth import generate
from tests.same_report import same_blocks

pytest.importorskip("ibis")
TABLES = ("customers", "responses", "revenue", "contacts")
CUSTOMERS = 1500


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Parquet files, and the same tables in a DuckDB 'warehouse' (schema crm) read through Ibis."""
    folder = tmp_path_factory.mktemp("ibis-data")
    tables, _ = generate(CUSTOMERS, seed=23)
    lake = duckdb.connect(str(folder / "lake.duckdb"))
    lake.execute("CREATE SCHEMA crm")
    for name in TABLES:
        tables[name].to_parquet(folder / f"{name}.parquet", index=False)
        lake.execute(f"CREATE TABLE crm.{name} AS SELECT * FROM read_parquet('{folder / name}.parquet')")
    lake.close()
    return folder


def _data(folder, backend: str | None) -> dict:
    if backend is None:
        return {t: str(folder / f"{t}.parquet") for t in TABLES}
    if backend == "duckdb":
        return {t: {"ibis": f"duckdb://{folder / 'lake.duckdb'}?read_only=true", "table": f"crm.{t}"}
                for t in TABLES}
    return {t: {"ibis": "pyspark://", "table": t} for t in TABLES}


def _quarter(folder, data: dict, name: str):
    spec = {"notebook": "01-leadership-report", "title": "{label}: quarter", "audience": "{label}",
            "as_of": "2026-09-30", "n_boot": 20, "data": data, "audiences": {"by": "region"}}
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def _shown(run_dir) -> list[str]:
    """Every sentence, table cell and number source the reader sees (figures by name)."""
    record = json.loads((run_dir / "report.json").read_text())
    return [json.dumps({k: v for k, v in b.items() if k not in ("svg", "svg_file", "png_file")}, sort_keys=True)
            for b in record["blocks"]]


def _same_report_from_backend(tmp_path, files, backend: str, engine: str = "local") -> dict:
    """A quarter's audiences from the backend's tables equal those from the files: exactly when the rows are read
    onto this machine (``engine: local``); to the last bits of a float when the backend computes them
    (``engine: warehouse``: its sums add up in another order)."""
    by_files = tmp_path / "from-files"
    by_backend = tmp_path / f"from-{backend}-{engine}"
    batch([_quarter(tmp_path, _data(files, None), "files")], by_files, jobs=2, pdf=False)
    path = _quarter(tmp_path, {**_data(files, backend), "engine": engine}, f"{backend}-{engine}")
    items = batch([path], by_backend, jobs=2, pdf=False)
    assert items and all(it.ok for it in items), [it.short_error for it in items]
    for it in items:
        if engine == "local":
            assert _shown(by_backend / it.run) == _shown(by_files / it.run), it.run
        else:
            same_blocks(_shown(by_files / it.run), _shown(by_backend / it.run))
    manifest = json.loads((by_backend / items[0].run / "manifest.json").read_text())
    inputs = {i["table"]: i for i in manifest["inputs"]}
    assert inputs["customers"]["kind"] == "ibis" and inputs["customers"]["rows"] == CUSTOMERS
    assert "://" not in json.dumps(manifest["inputs"])
    if engine == "local":  # the rows read are hashed; a warehouse's stay there, unread (the run says so)
        assert len(inputs["customers"]["content_hash"]) == 64
    else:
        assert "content_hash" not in inputs["customers"] and inputs["customers"]["engine"] == "warehouse"
    assert manifest["store"].endswith("-w")  # this batch's store: a backend's tables are read afresh by each
    store = AnalysisStore(by_backend / ".store" / f"{manifest['store']}.duckdb")
    con = duckdb.connect(str(store.path), read_only=True)
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    con.close()
    # local: the rows read once into the store; warehouse: they stay there, the store holds the shared numbers
    assert store.holds_rows == (engine == "local") and tables == ({"meta", *TABLES} if engine == "local" else {"meta"})
    assert store._read_numbers(), "everyone's numbers were computed once for the audiences"
    return {"out": by_backend, "items": items, "path": path, "manifest": manifest}


@pytest.mark.parametrize("engine", ["local", "warehouse"])
def test_a_batch_from_an_ibis_backend_reports_what_the_files_give(tmp_path, files, engine):
    got = _same_report_from_backend(tmp_path, files, "duckdb", engine)
    again = batch([got["path"]], got["out"], jobs=2, pdf=False)  # unchanged rows: every report skipped
    assert all(it.skipped for it in again)
    stores = list((got["out"] / ".store").glob("*.duckdb"))
    assert len(stores) == 1 and stores[0].stem != got["manifest"]["store"]  # read afresh; the old one gone


def test_an_ibis_source_validates_as_a_file_does(files):
    by_files = load({"data": _data(files, None), "as_of": "2026-09-30"})
    by_ibis = load({"data": _data(files, "duckdb"), "as_of": "2026-09-30"})
    assert by_ibis.row_counts == by_files.row_counts and by_ibis.segments == by_files.segments
    for table in TABLES:
        assert by_ibis.df(table).equals(by_files.df(table)), table
    assert not by_ibis.con.execute("SELECT * FROM duckdb_tables() WHERE table_name LIKE 'cx_fetched%'").fetchall()
    fingerprint = by_ibis.sources["contacts"].fingerprint()
    assert fingerprint["backend"] == "duckdb" and fingerprint["source"] == "crm.contacts"
    query = {"ibis": f"duckdb://{files / 'lake.duckdb'}?read_only=true",
             "query": "SELECT * FROM crm.contacts WHERE kind <> 'complaint'"}
    fewer = load({"data": {**_data(files, "duckdb"), "contacts": query}, "as_of": "2026-09-30"})
    kinds = fewer.con.execute("SELECT DISTINCT kind FROM contacts").fetchall()
    assert ("complaint",) not in kinds and fewer.row_counts["contacts"] < by_files.row_counts["contacts"]


@pytest.mark.parametrize("spec, message", [
    ({"ibis": "postgres://cx:s3cret@db.example.com/crm", "table": "customers"}, "holds a password"),
    ({"ibis": "snowflake://cx@acct/db?password=x", "table": "customers"}, "holds a password"),
    ({"ibis": "not a url", "table": "customers"}, "not an Ibis connection URL"),
    ({"ibis": "duckdb://", "table": "customers", "query": "SELECT 1"}, "exactly one of 'table'"),
    ({"ibis": "duckdb://"}, "exactly one of 'table'"),
    ({"ibis": "duckdb://", "table": "customers", "path": "x.csv"}, "drop 'path'"),
    ({"ibis": "duckdb://", "query": "DELETE FROM customers"}, "SELECT"),
])
def test_bad_ibis_specs_are_refused_before_anything_is_read(files, spec, message):
    with pytest.raises(ParamsError, match=message):
        load({"data": {**_data(files, None), "customers": spec}})


def test_an_unreadable_ibis_source_names_the_table_and_backend(files, tmp_path, capsys):
    from cxkit.cli import main

    missing = {"ibis": f"duckdb://{files / 'lake.duckdb'}?read_only=true", "table": "crm.clients"}
    with pytest.raises(ParamsError, match="data.customers: cannot read duckdb table crm.clients"):
        load({"data": {**_data(files, None), "customers": missing}})
    with pytest.raises(ParamsError, match="data.customers.*nosuchbackend"):
        load({"data": {**_data(files, None), "customers": {"ibis": "nosuchbackend://x", "table": "t"}}})
    params = tmp_path / "bad.yaml"
    params.write_text(yaml.safe_dump({"data": {**_data(files, None), "customers": missing}, "as_of": "2026-09-30"}))
    assert main(["validate", str(params)]) == 1
    err = capsys.readouterr().err
    assert "cannot read duckdb table crm.clients" in err and "Traceback" not in err


@pytest.mark.spark
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_batch_from_spark_reports_what_the_files_give(tmp_path, files, spark):
    """The audiences' reports from Spark tables (local mode) equal those from the same rows in files."""
    for name in TABLES:  # the session ibis.connect("pyspark://") finds is this one
        spark.read.parquet(str(files / f"{name}.parquet")).createOrReplaceTempView(name)
    _same_report_from_backend(tmp_path, files, "pyspark")  # read once (the warehouse path in Spark: below)


def test_backend_errors_are_worded_as_params_errors_without_a_traceback():
    """One wording for connect and read: a missing driver is its install line, any other backend error its first
    line after what could not be done."""
    from types import SimpleNamespace

    from cxkit.load import _backend_errors

    src = SimpleNamespace(table="customers", backend_name="postgres")
    with pytest.raises(ParamsError, match=r"data.customers.ibis: the postgres backend needs a driver .*"
                                          r"pip install 'ibis-framework\[postgres\]'"):
        with _backend_errors(src, "connect to postgres"):
            raise ImportError("No module named 'psycopg'")
    with pytest.raises(ParamsError, match=r"^data.customers: cannot connect to postgres: refused$") as info:
        with _backend_errors(src, "connect to postgres"):
            raise OSError("refused\nat host db:5432")
    assert info.value.__cause__ is None and info.value.__suppress_context__
