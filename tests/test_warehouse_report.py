"""The whole report computed in the warehouse (``data.engine: warehouse``) equals the one from the files.

The leadership notebook's cells run in this process (so the Spark session of the test is the one
``ibis.connect("pyspark://")`` finds) over the same rows twice: read from Parquet files into DuckDB, and left in
the warehouse (Ibis: another DuckDB here, Spark in local mode under the ``spark`` marker), where the gateway's
rules and every aggregation run. The report records must agree block for block, every sentence, table cell and
number (the bootstrap intervals too: its draws depend only on the rows and cells that come back, in a fixed
order), and what came back must be aggregates, not the tables.
"""

from __future__ import annotations

import json
import warnings

import nbformat
import pytest

from cxkit.paths import KIT_PROJECT
from cxkit.synth import write
from tests.same_report import same_blocks

ibis = pytest.importorskip("ibis")
TABLES = ("customers", "responses", "revenue", "contacts")
CUSTOMERS = 3000
N_BOOT = 40


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The demo's tables (a smaller population, seed 0) as Parquet files."""
    folder = tmp_path_factory.mktemp("warehouse-data")
    write(folder, n_customers=CUSTOMERS, seed=0)
    return folder


def _notebook_cells() -> list[str]:
    nb = nbformat.read(KIT_PROJECT / "notebooks" / "01-leadership-report.ipynb", as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "code"]


def record(data: dict, monkeypatch, **params) -> tuple[list[str], dict]:
    """The report's blocks (figures by name, caption and takeaway) from the notebook run here, and its namespace."""
    import cxkit.report as report

    blocks = []
    monkeypatch.setattr(report, "_show", lambda block, png=None: blocks.append(block))
    cells = _notebook_cells()
    space: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(cells[0], space)  # the parameters cell: every default
        space.update(data=data, as_of="2026-09-30", n_boot=N_BOOT, **params)
        for source in cells[1:]:
            exec(source, space)
    shown = [json.dumps({k: v for k, v in b.items() if k not in ("svg", "svg_file", "png_file")}, sort_keys=True)
             for b in blocks]
    return shown, space


def _table_bytes(files) -> int:
    import pyarrow.parquet as pq

    return sum(pq.read_table(files / f"{t}.parquet").nbytes for t in TABLES)


@pytest.fixture(scope="module")
def lake(files, tmp_path_factory):
    """The same tables in another DuckDB database, reached through Ibis: a warehouse on this machine."""
    import duckdb

    path = tmp_path_factory.mktemp("lake") / "lake.duckdb"
    con = duckdb.connect(str(path))
    for t in TABLES:
        con.execute(f"CREATE TABLE {t} AS SELECT * FROM read_parquet('{files / t}.parquet')")
    con.close()
    return {t: {"ibis": f"duckdb://{path}?read_only=true", "table": t} for t in TABLES}


def quarter_audience(value: str = "North") -> dict:
    """The sample quarter's settings (params/quarter.yaml) for one audience: a region's report."""
    from cxkit.params import read_params

    quarter = read_params(KIT_PROJECT / "params" / "quarter.yaml")
    return {"focus": quarter["focus"], "period": quarter["period"], "slice_by": {quarter["audiences"]["by"]: value}}


def test_the_report_computed_in_an_ibis_duckdb_equals_the_files_report(files, lake, monkeypatch):
    local, a = record({t: str(files / f"{t}.parquet") for t in TABLES}, monkeypatch)
    remote, b = record(lake, monkeypatch)
    assert a["cx_data"].engine == "local" and b["cx_data"].engine == "warehouse"
    same_blocks(local, remote)
    _aggregates_only(b["analysis"], files)


def _aggregates_only(analysis, files) -> None:
    """What came back: the drivers' risk-set counts and patterns and the leavers' counts, never their rows (at this
    size counts per day and pattern weigh about half the tables; they grow with patterns, not customers)."""
    assert analysis.experiences_.risk_cells_ is not None  # fitted on risk-set counts, not on spells
    assert analysis.departures_.customers_ is None and analysis.departures_.leavers_ > 0
    assert analysis.bytes_back_["aggregates"] < _table_bytes(files), analysis.bytes_back_


@pytest.mark.spark
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_the_report_computed_in_spark_equals_the_files_report(files, monkeypatch, spark):
    """Spark in local mode: the kit's DuckDB SQL translated by sqlglot, run by Spark, gives the same report."""
    for name in TABLES:  # the session ibis.connect("pyspark://") finds is this one
        spark.read.parquet(str(files / f"{name}.parquet")).createOrReplaceTempView(name)
    local, _ = record({t: str(files / f"{t}.parquet") for t in TABLES}, monkeypatch)
    remote, b = record({t: {"ibis": "pyspark://", "table": t} for t in TABLES}, monkeypatch)
    assert b["cx_data"].engine == "warehouse" and b["cx_data"].con.backend.name == "pyspark"
    same_blocks(local, remote)
    _aggregates_only(b["analysis"], files)


def test_an_audience_report_computed_in_an_ibis_duckdb_equals_the_files_report(files, lake, monkeypatch):
    """The sample quarter's report for one region: the slice, its population's numbers and how the audience
    differs from the other customers, all reduced in the warehouse."""
    params = quarter_audience()
    local, a = record({t: str(files / f"{t}.parquet") for t in TABLES}, monkeypatch, **params)
    remote, b = record(lake, monkeypatch, **params)
    assert b["cx_data"].engine == "warehouse" and b["cx_data"].slice_by == params["slice_by"]
    assert b["analysis"].audience_ is not None
    same_blocks(local, remote)
    assert b["analysis"].bytes_back_["aggregates"] < _table_bytes(files)


def test_an_audience_s_lifetime_values_computed_in_the_warehouse_equal_the_files(files, lake):
    """Where the audience's churn differs (a wider alpha opens the gate here), the bands' lifetime values of the
    audience and of the other customers are fitted in the warehouse too, with the same bootstrap intervals."""
    import pandas as pd

    from cxkit.leadership import LeadershipAnalysis
    from cxkit.report import load_data

    found = {}
    for kind, data in (("files", {t: str(files / f"{t}.parquet") for t in TABLES}), ("warehouse", lake)):
        cx_data, _ = load_data(data, "2026-09-30", slice_by={"region": "North"})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found[kind] = LeadershipAnalysis(alpha=0.2, n_boot=N_BOOT, period="Q").fit(cx_data).audience_.summary
        assert cx_data.engine == ("local" if kind == "files" else "warehouse")
    assert (found["warehouse"]["measure"] == "lifetime value").any()
    pd.testing.assert_frame_equal(found["files"], found["warehouse"], rtol=1e-9)


@pytest.mark.spark
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_an_audience_report_computed_in_spark_equals_the_files_report(files, monkeypatch, spark):
    """The sample quarter's report for one region from Spark in local mode equals the one from the files."""
    for name in TABLES:
        spark.read.parquet(str(files / f"{name}.parquet")).createOrReplaceTempView(name)
    params = quarter_audience()
    local, _ = record({t: str(files / f"{t}.parquet") for t in TABLES}, monkeypatch, **params)
    remote, b = record({t: {"ibis": "pyspark://", "table": t} for t in TABLES}, monkeypatch, **params)
    assert b["cx_data"].con.backend.name == "pyspark" and b["analysis"].audience_ is not None
    same_blocks(local, remote)
    assert b["analysis"].bytes_back_["aggregates"] < _table_bytes(files)


CELLS_ABOVE = 100  # every band of the 3,000 customers' lifetime value is fitted on cells


def _cells_in_the_warehouse_equal_the_local_ones(files, warehouse: dict) -> None:
    """A lifetime value fitted on cells (every band above ``cells_above``): the revenue-rate bin edges are ranked in
    the warehouse and only their few order statistics come back, and the estimates and bootstrap intervals equal
    the local fit's."""
    import pandas as pd

    from cxkit.frames import drop_ltv_frame, ltv_frame
    from cxkit.load import load
    from cxkit.ltv import SegmentLTV

    fits = {}
    for kind, data in (("files", {t: str(files / f"{t}.parquet") for t in TABLES}), ("warehouse", warehouse)):
        cx_data = load({"data": data, "as_of": "2026-09-30"})
        before = getattr(cx_data.con, "rows_back", 0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = SegmentLTV(n_boot=N_BOOT, seed=0, cells_above=CELLS_ABOVE)
            fits[kind] = fit.fit(ltv_frame(cx_data, relation=True))
        drop_ltv_frame(cx_data)
        if kind == "warehouse":  # beyond the cells themselves: per band its count and at most 38 ranked rates
            parts = fits[kind]._segments.values()
            assert all(p.n > CELLS_ABOVE for p in parts)  # every band fitted on cells
            beyond = cx_data.con.rows_back - before - sum(p.d.size for p in parts)
            assert beyond <= 39 * len(parts), beyond
    pd.testing.assert_frame_equal(fits["files"].summary, fits["warehouse"].summary, rtol=1e-9)


def test_lifetime_value_cells_computed_in_an_ibis_duckdb_equal_the_local_ones(files, lake):
    _cells_in_the_warehouse_equal_the_local_ones(files, lake)


@pytest.mark.spark
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_lifetime_value_cells_computed_in_spark_equal_the_local_ones(files, spark):
    for name in TABLES:
        spark.read.parquet(str(files / f"{name}.parquet")).createOrReplaceTempView(name)
    _cells_in_the_warehouse_equal_the_local_ones(files, {t: {"ibis": "pyspark://", "table": t} for t in TABLES})


def _telco():
    """Telco's params (params/telco.yaml: a snapshot, CSAT bands, tenure clock, owners) and its customers' file,
    or a skip where the shared data is not beside the project."""
    from cxkit.params import read_params
    from cxkit.sources import resolve_path

    params = read_params(KIT_PROJECT / "params" / "telco.yaml")
    spec = dict(params["data"]["customers"])
    path, _ = resolve_path(spec.pop("path"), KIT_PROJECT / "params")  # where the kit itself looks
    if not path.exists():
        pytest.skip("the Telco data (../shared/data/telco) is not here")
    settings = {k: params[k] for k in ("score", "clock", "owners", "title") if k in params}
    return settings, spec, path


def test_telco_computed_in_an_ibis_duckdb_equals_the_files_report(monkeypatch, tmp_path):
    """A snapshot (tenure and churn flag, no dates) with its columns renamed by the params file: the same report
    from the CSV and from a warehouse table of the same rows."""
    import duckdb

    settings, spec, path = _telco()
    lake = tmp_path / "telco.duckdb"
    con = duckdb.connect(str(lake))
    con.execute("CREATE TABLE telco AS SELECT * FROM read_csv(?)", [str(path)])
    con.close()
    local, a = record({"customers": {"path": str(path), **spec}}, monkeypatch, **settings)
    remote, b = record({"customers": {"ibis": f"duckdb://{lake}?read_only=true", "table": "telco", **spec}},
                       monkeypatch, **settings)
    assert a["cx_data"].mode == "snapshot" and b["cx_data"].engine == "warehouse"
    same_blocks(local, remote)


@pytest.mark.spark
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_telco_computed_in_spark_equals_the_files_report(monkeypatch, spark):
    settings, spec, path = _telco()
    spark.read.csv(str(path), header=True, inferSchema=True).createOrReplaceTempView("telco")
    local, _ = record({"customers": {"path": str(path), **spec}}, monkeypatch, **settings)
    remote, b = record({"customers": {"ibis": "pyspark://", "table": "telco", **spec}}, monkeypatch, **settings)
    assert b["cx_data"].con.backend.name == "pyspark"
    same_blocks(local, remote)
