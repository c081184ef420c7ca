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
                                  "ledger", "nps_trend"])
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
