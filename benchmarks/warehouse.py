"""The whole analysis from Spark tables (local mode): computed in the warehouse vs read onto this machine.

    python benchmarks/warehouse.py 100000 1000000      # sizes in customers (default 1,000,000)

Per size, two runs, each in a fresh process with its own Spark session in local mode (``local[2]``, the kit's
session settings ``cxkit.backend.SPARK_SETTINGS`` in both), over the same Parquet files registered as Spark
tables: ``local`` (``data.engine: local``, today's read-everything path: every row is read with ``to_pyarrow``
into DuckDB here, then analysed) and ``warehouse`` (``data.engine: warehouse``: the gateway and every
aggregation run in Spark). Timed: ``load`` plus ``LeadershipAnalysis(n_boot=200).fit``. Measured: wall time,
the rows and bytes that came back (Arrow sizes: the tables for ``local``; for ``warehouse`` the aggregates and,
apart, the rows the drivers still read), the statements sent, and this Python process's peak resident memory
(``VmHWM``; the Spark JVM is the warehouse's and not counted). ``same_numbers``: the two runs' headline NPS and
lifetime values per band agree. Rows are written to ``benchmarks/warehouse.json`` (a size's rows replaced).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
from run import _peak_mb, dataset  # noqa: E402  (the benchmark's data sets and memory reading, written once)

TABLES = ("customers", "responses", "revenue", "contacts")


def _run(engine: str, folder: str, out) -> None:
    from pyspark.sql import SparkSession

    from cxkit.backend import SPARK_SETTINGS

    builder = (SparkSession.builder.master("local[2]").appName("cxkit-bench").config("spark.ui.enabled", "false")
               .config("spark.sql.session.timeZone", "UTC").config("spark.driver.memory", "6g")
               .config("spark.ui.showConsoleProgress", "false"))
    for key, value in SPARK_SETTINGS.items():  # the read-everything path gets them too: only the engine differs
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    present = [t for t in TABLES if (Path(folder) / f"{t}.parquet").exists()]
    for t in present:
        spark.read.parquet(f"{folder}/{t}.parquet").createOrReplaceTempView(t)
    from cxkit.leadership import LeadershipAnalysis
    from cxkit.load import load

    warnings.simplefilter("ignore")
    Path("/proc/self/clear_refs").write_text("5")  # the peak from here on
    start = time.perf_counter()
    data = load({"data": {**{t: {"ibis": "pyspark://", "table": t} for t in present}, "engine": engine},
                 "as_of": "2026-09-30"})
    seconds_load = time.perf_counter() - start
    a = LeadershipAnalysis(n_boot=200).fit(data)
    seconds = time.perf_counter() - start
    peak = _peak_mb()
    if engine == "local":  # every row of every table came back (counted after the clock stopped)
        tables = [data.con.execute(f"SELECT * FROM {t}").arrow() for t in present]
        back = {"tables": sum(t.nbytes for t in tables), "rows": sum(t.num_rows for t in tables)}
    else:
        back = dict(a.bytes_back_)
        back.update(rows=data.con.rows_back, queries=data.con.queries)
    out.send({"engine": engine, "seconds": round(seconds, 1), "load_seconds": round(seconds_load, 1),
              "bytes_back": back, "peak_mb": round(peak, 1),
              "ltv": {k: round(float(v), 2) for k, v in a.ltv_.summary.set_index("segment")["ltv"].items()},
              "nps": round(float(a.nps_["nps"]), 4)})
    spark.stop()


def measure(n: int) -> list[dict]:
    folder = dataset(n)
    rows = []
    for engine in ("warehouse", "local"):
        ctx = mp.get_context("spawn")
        here, there = ctx.Pipe()
        p = ctx.Process(target=_run, args=(engine, str(folder), there))
        p.start()
        row = here.recv()
        p.join()
        row["n"] = n
        print(json.dumps(row), flush=True)
        rows.append(row)
    same = rows[0]["nps"] == rows[1]["nps"] and rows[0]["ltv"] == rows[1]["ltv"]
    for row in rows:
        row["same_numbers"] = same
    return rows


if __name__ == "__main__":
    sizes = [int(a) for a in sys.argv[1:]] or [1_000_000]
    results = HERE / "warehouse.json"
    old = json.loads(results.read_text()) if results.exists() else []
    for n in sizes:
        new = measure(n)
        old = [r for r in old if r["n"] != n] + new
        results.write_text(json.dumps(old, indent=1))
