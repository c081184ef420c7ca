"""The benchmark's two ways agree on small data, and its records keep the documented shape."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import pytest

from cxkit.synth import write

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture(scope="module")
def steps(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench")
    write(folder, n_customers=4000, seed=1, revenue="column")
    sys.path.insert(0, str(BENCH))
    try:
        with warnings.catch_warnings():  # the steps module silences warnings for the benchmark's output
            import steps as module
        yield module, folder
    finally:
        sys.path.remove(str(BENCH))
        sys.modules.pop("steps", None)


@pytest.mark.parametrize("step", ["load_validate", "nps_bands", "km_logrank_rmst", "cox", "ltv_with_intervals",
                                  "ledger", "nps_trend", "key_drivers", "experience_hazards"])
def test_kit_and_straightforward_way_agree(steps, step):
    module, folder = steps
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifelines' and pandas' own warnings are not under test here
        for side in (0, 1):
            setup, run = module.STEPS[step][side](folder)
            out.append(run(setup()))
    assert module.agree(step, *out) is True


def test_yardsticks_and_the_whole_analysis_run(steps):
    module, folder = steps
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in ("scan", "read"):
            setup, run = module.ALL[name][0](folder)
            run(setup())
        setup, run = module.STEPS["whole_analysis"][0](folder)
        assert run(setup())["sentences"] >= 5


def test_results_records_have_the_documented_fields():
    records = json.loads((BENCH / "results.json").read_text())
    keys = {"n", "step", "kit_seconds", "baseline_seconds", "kit_peak_mb", "baseline_peak_mb", "agree"}
    assert records and all(keys <= set(r) for r in records)
    assert {r["n"] for r in records} >= {100_000, 1_000_000, 10_000_000}
    assert all(r["agree"] is not False for r in records)


def test_the_audience_batch_rows_are_recorded():
    """benchmarks/batch.py's rows: 100 and 1,000 audiences over 1M customers and one report alone."""
    records = {r["step"]: r for r in json.loads((BENCH / "results.json").read_text())}
    keys = {"reports", "kit_seconds", "per_report_seconds", "baseline_seconds", "kit_peak_mb"}
    batch_rows = {k: r for k, r in records.items() if k.startswith("batch_")}
    assert {"batch_single", "batch_100_audiences", "batch_1000_audiences"} <= set(batch_rows)
    assert all(keys <= set(r) for r in batch_rows.values())
    hundred = batch_rows["batch_100_audiences"]
    assert hundred["reports"] == 100 and hundred["baseline_seconds"] > hundred["kit_seconds"]
    assert batch_rows["batch_1000_audiences"]["reports"] == 1000


def test_the_batch_benchmark_measures_what_the_batch_starts():
    """PeakMemory sums a process tree: a child holding 200 MB shows in the peak."""
    import subprocess

    sys.path.insert(0, str(BENCH))
    try:
        from batch import PeakMemory
    finally:
        sys.path.remove(str(BENCH))
    child = "import time; b = bytearray(200 * 2**20); b[::4096] = b'x' * len(b[::4096]); time.sleep(2)"
    parent = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}])"
    proc = subprocess.Popen([sys.executable, "-c", parent])
    with PeakMemory(proc.pid, every=0.2) as peak:
        proc.wait()
    assert peak.peak_mb > 200
