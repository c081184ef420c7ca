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


@pytest.fixture(scope="session")
def spark():
    """A Spark session in local mode, started once for the whole run and stopped at its end.

    Skipped where pyspark or Java is missing, except in CI (``CI`` set, as ``.ci/run`` has it), where a
    missing install is a failure: there the install step (.ci/system-deps, the spark extra) must have put them.
    """
    import importlib.util
    import os
    import shutil

    missing = [what for what, there in (("pyspark", importlib.util.find_spec("pyspark") is not None),
                                        ("Java", shutil.which("java") is not None)) if not there]
    if missing:
        why = f"Spark in local mode needs {' and '.join(missing)} (make setup installs them)"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[2]").appName("cxkit-test")
               .config("spark.sql.session.timeZone", "UTC").config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "4").config("spark.ui.showConsoleProgress", "false")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()
