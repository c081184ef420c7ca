"""The whole analysis from Spark tables (local mode): computed in the warehouse vs read onto this machine.

    python benchmarks/warehouse.py 100000 1000000      # sizes in customers (default 1,000,000)
    python benchmarks/warehouse.py 10000000 --warehouse-only   # only the warehouse run (reading 10M rows out of
                                                               # Spark into this process is not the point)
    python benchmarks/warehouse.py --table             # the results as the docs' Markdown table

Per size, two runs, each in a fresh process with its own Spark session in local mode (``local[2]``, the kit's
session settings ``cxkit.backend.SPARK_SETTINGS`` in both), over the same Parquet files registered as Spark
tables: ``local`` (``data.engine: local``, today's read-everything path: every row is read with ``to_pyarrow``
into DuckDB here, then analysed) and ``warehouse`` (``data.engine: warehouse``: the gateway and every
aggregation run in Spark). Timed: ``load`` plus ``LeadershipAnalysis(n_boot=200).fit``. Measured: wall time,
the rows and bytes that came back (Arrow sizes: the tables for ``local``; the aggregates for ``warehouse``, the
drivers' patterns and risk-set counts among them), the statements sent, and this Python process's peak resident memory
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
        tables = [data.con.execute(f"SELECT * FROM {t}").to_arrow_table() for t in present]
        back = {"tables": sum(t.nbytes for t in tables), "rows": sum(t.num_rows for t in tables)}
    else:
        back = dict(a.bytes_back_)
        back.update(rows=data.con.rows_back, queries=data.con.queries)
    out.send({"engine": engine, "seconds": round(seconds, 1), "load_seconds": round(seconds_load, 1),
              "bytes_back": back, "peak_mb": round(peak, 1),
              "ltv": {k: round(float(v), 2) for k, v in a.ltv_.summary.set_index("segment")["ltv"].items()},
              "nps": round(float(a.nps_["nps"]), 4)})
    spark.stop()


def _child(engine: str, folder: str, out) -> None:
    """:func:`_run`, its failure sent back as a row (the parent would otherwise wait for a row forever)."""
    try:
        _run(engine, folder, out)
    except Exception as exc:  # noqa: BLE001 - reported, not raised, in the child
        out.send({"engine": engine, "error": f"{type(exc).__name__}: {exc}"[:500]})


def measure(n: int, engines=("warehouse", "local")) -> list[dict]:
    folder = dataset(n)
    rows = []
    for engine in engines:
        ctx = mp.get_context("spawn")
        here, there = ctx.Pipe()
        p = ctx.Process(target=_child, args=(engine, str(folder), there))
        p.start()
        row = here.recv()
        p.join()
        row["n"] = n
        print(json.dumps(row), flush=True)
        rows.append(row)
    same = None  # a warehouse-only run has nothing to compare with
    if len(rows) == 2:
        same = all("nps" in r for r in rows) and rows[0]["nps"] == rows[1]["nps"] and rows[0]["ltv"] == rows[1]["ltv"]
    for row in rows:
        row["same_numbers"] = same
    return rows


def markdown(rows: list[dict]) -> str:
    """The rows of ``warehouse.json`` as the table docs/guide/warehouses.md shows (``--table``)."""
    lines = ["| customers | engine | wall time | of which load | statements | rows back | MB back: aggregates "
             "| MB back: tables | peak MB here | same numbers |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in sorted(rows, key=lambda r: (r["n"], r["engine"] != "warehouse")):
        if "error" in r:
            lines.append(f"| {r['n']:,} | {r['engine']} | failed: {r['error'][:80]} | | | | | | | |")
            continue
        b = r["bytes_back"]
        aggregates = f"{b['aggregates'] / 1e6:.1f}" if "aggregates" in b else "-"
        rows_mb = f"{b['tables'] / 1e6:.1f}" if "tables" in b else "-"
        lines.append(f"| {r['n']:,} | {r['engine']} | {r['seconds']:.0f} s | {r['load_seconds']:.0f} s | "
                     f"{b.get('queries', '-')} | {b['rows']:,} | {aggregates} | {rows_mb} | {r['peak_mb']:.0f} | "
                     f"{ {True: 'yes', False: 'no'}.get(r.get('same_numbers'), '-') } |")
    return "\n".join(lines)


def main(argv=None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description="The whole analysis from Spark tables: in the warehouse vs read here.")
    parser.add_argument("sizes", nargs="*", type=int, default=[1_000_000], help="customers per run (1000000)")
    parser.add_argument("--warehouse-only", action="store_true", help="only the warehouse run of each size")
    parser.add_argument("--table", action="store_true", help="print warehouse.json as the docs' Markdown table")
    args = parser.parse_args(argv)
    results = HERE / "warehouse.json"
    if args.table:
        print(markdown(json.loads(results.read_text())))
        return
    old = json.loads(results.read_text()) if results.exists() else []
    for n in args.sizes:
        new = measure(n, ("warehouse",) if args.warehouse_only else ("warehouse", "local"))
        local = [r for r in old if r["n"] == n and r["engine"] == "local" and "nps" in r]
        if args.warehouse_only and local and "nps" in new[0]:  # the same data read here by an earlier run
            new[0]["same_numbers"] = new[0]["nps"] == local[0]["nps"] and new[0]["ltv"] == local[0]["ltv"]
        ran = {(r["n"], r["engine"]) for r in new}  # a size's other engine keeps its row
        old = [r for r in old if (r["n"], r["engine"]) not in ran] + new
        results.write_text(json.dumps(old, indent=1))


if __name__ == "__main__":
    main()
