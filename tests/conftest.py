"""Shared fixtures: small synthetic data sets written as files, and a params writer."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from cxkit.synth import generate

ROOT = Path(__file__).resolve().parents[1]
TELCO = ROOT.parent / "shared" / "data" / "telco" / "telco_customer_churn.csv"


@pytest.fixture(scope="session")
def small_tables():
    """Four contract tables for 400 customers (seed 3), as DataFrames."""
    tables, truth = generate(n_customers=400, seed=3)
    return tables, truth


def write_case(folder: Path, tables: dict, fmt: str = "csv", **params) -> Path:
    """Write tables as files plus a params.yaml pointing at them; return the params path."""
    folder.mkdir(parents=True, exist_ok=True)
    data = {}
    for name, df in tables.items():
        path = folder / f"{name}.{fmt}"
        if fmt == "csv":
            df.to_csv(path, index=False)
        else:
            df.to_parquet(path, index=False)
        data[name] = path.name
    params = {"as_of": "2026-09-30", "data": data, **params}
    out = folder / "params.yaml"
    out.write_text(yaml.safe_dump(params, sort_keys=False))
    return out


@pytest.fixture
def case(tmp_path, small_tables):
    """Call ``case(customers=..., responses=...)`` to write a variant of the small tables."""

    def make(fmt="csv", drop=(), params=None, **replace):
        tables = {k: v.copy() for k, v in small_tables[0].items() if k not in drop}
        tables.update(replace)
        return write_case(tmp_path / "case", tables, fmt, **(params or {}))

    return make


@pytest.fixture
def telco_path():
    if not TELCO.exists():
        pytest.skip("the Telco data set is not beside the repository (../shared/data/telco)")
    return TELCO


def frame(**cols) -> pd.DataFrame:
    return pd.DataFrame(cols)


@pytest.fixture
def spark():
    """A Spark session in local mode (``make test-spark``): skipped without pyspark or Java; stopped after."""
    import shutil

    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java")
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[2]").appName("cxkit-test")
               .config("spark.sql.session.timeZone", "UTC").config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "4").getOrCreate())
    try:
        yield session
    finally:
        session.stop()
