"""The same aggregations through Ibis, on DuckDB and on Spark (local mode), give the kit's numbers."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from cxkit.ledger import CustomerLedger
from cxkit.survival import CoxModel, SegmentSurvival
from cxkit.synth import generate
from cxkit.trends import NPSTrend
from cxkit.warehouse import Warehouse

ibis = pytest.importorskip("ibis")
AS_OF = "2026-09-30"
BANDS4 = ["detractor", "passive", "promoter", "no answer"]


@pytest.fixture(scope="module")
def tables():
    tables, _ = generate(6000, seed=17, revenue="column")
    c, r = tables["customers"], tables["responses"]
    latest = r.sort_values("response_date").groupby("customer_id").tail(1).set_index("customer_id")["nps"]
    band = pd.cut(latest, [-1, 6, 8, 10], labels=["detractor", "passive", "promoter"]).astype(str)
    end = c["end_date"].fillna(pd.Timestamp(AS_OF))
    frame = pd.DataFrame({"duration": (end - c["signup_date"]).dt.days / (365.25 / 12),
                          "event": c["end_date"].notna().astype(int),
                          "segment": band.reindex(c["customer_id"]).fillna("no answer").to_numpy(),
                          "plan": c["plan"].astype(str), "region": c["region"].astype(str)})
    customers = c[["customer_id", "signup_date", "end_date", "region", "monthly_revenue"]].assign(
        region=c["region"].astype(str))
    return {"frame": frame, "customers": customers, "responses": r[["customer_id", "response_date", "nps"]]}


def _check_same(wh: Warehouse, tables) -> None:
    frame = tables["frame"]
    local = SegmentSurvival(order=BANDS4).fit(frame, "duration", "event", "segment")
    remote = wh.survival("frame", "duration", "event", "segment", order=BANDS4)
    pd.testing.assert_frame_equal(local.survival_, remote.survival_, check_exact=False, rtol=0, atol=1e-12)
    assert remote.logrank_.statistic == pytest.approx(local.logrank_.statistic, rel=1e-12)
    np.testing.assert_allclose(remote.rmst(24)["rmst"], local.rmst(24)["rmst"], atol=1e-12)

    ref = {"segment": "passive", "plan": "Basic", "region": "North"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cox_local = CoxModel(reference=ref).fit(frame, "duration", "event", ["segment", "plan", "region"])
        cox_remote = wh.cox("frame", "duration", "event",
                            {"segment": "categorical", "plan": "categorical", "region": "categorical"}, reference=ref)
    np.testing.assert_allclose(cox_remote.params_.loc[cox_local.params_.index], cox_local.params_, atol=1e-10)
    assert cox_remote.concordance_ == pytest.approx(cox_local.concordance_, abs=1e-12)

    c = tables["customers"]
    for by in (None, "region"):
        local_l = CustomerLedger("M", by=by).fit(c.drop(columns=["monthly_revenue"]).assign(
            monthly_revenue=c["monthly_revenue"]), as_of=AS_OF).table
        remote_l = wh.ledger("customers", AS_OF, "M", slice_col=by, run_rate="monthly_revenue").table
        cols = ["period", "start", "new", "lost", "end"]
        pd.testing.assert_frame_equal(local_l[cols].reset_index(drop=True), remote_l[cols].reset_index(drop=True),
                                      check_dtype=False)
        np.testing.assert_allclose(remote_l["revenue_out"], local_l["revenue_out"], rtol=1e-9)

    local_t = NPSTrend("M").fit(tables["responses"]).table
    remote_t = wh.nps_trend("responses", "M").table
    np.testing.assert_allclose(remote_t["nps"], local_t["nps"], atol=1e-9, equal_nan=True)
    assert list(remote_t["flag"]) == list(local_t["flag"])


def test_duckdb_through_ibis(tables):
    backend = ibis.duckdb.connect()
    for name, df in tables.items():  # loaded through DuckDB itself: the warehouse only sends SQL
        backend.con.register(f"{name}_df", df)
        backend.con.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_df")
    _check_same(Warehouse(backend), tables)


@pytest.mark.spark
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_pyspark_local_mode(tables, spark):  # py4j, Spark's bridge to Java, leaves sockets to the collector
    backend = ibis.pyspark.connect(spark)
    for name, df in tables.items():
        sdf = spark.createDataFrame(df)
        for col in ("signup_date", "end_date", "response_date"):
            if col in df:
                sdf = sdf.withColumn(col, sdf[col].cast("date"))
        sdf.createOrReplaceTempView(name)
    _check_same(Warehouse(backend), tables)
