"""What a user sees when a run is stopped or a report meets data that cannot support every estimate.

Runs the real ``cxkit`` command in a subprocess, as a terminal would: Ctrl-C reaches the whole
foreground process group; a batch's stderr is read line by line.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

CXKIT = [sys.executable, "-m", "cxkit.cli"]
NOISE = ("Traceback", "ZMQError", "[IPKernelApp]", "KeyboardInterrupt")


def _write(folder: Path, tables: dict, run_name: str, **params) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    data = {}
    for name, df in tables.items():
        df.to_parquet(folder / f"{name}.parquet", index=False)
        data[name] = f"{name}.parquet"
    path = folder / f"{run_name}.yaml"
    path.write_text(yaml.safe_dump({"as_of": "2026-09-30", "n_boot": 20, "data": data, **params}))
    return path


@pytest.fixture
def small_params(tmp_path, small_tables):
    return _write(tmp_path / "data", small_tables[0], "small")


def _executing(out) -> bool:
    """Whether the staged notebook has at least one executed cell (it is saved after each cell)."""
    import json

    for path in out.glob(".staging-*/*.ipynb"):
        try:
            cells = json.loads(path.read_text())["cells"]
        except (ValueError, OSError):  # being written
            continue
        if any(c.get("execution_count") for c in cells if c["cell_type"] == "code"):
            return True
    return False


def test_ctrl_c_during_render_is_quiet_and_publishes_nothing(small_tables, tmp_path):
    out = tmp_path / "reports"
    # enough bootstrap replicates that the notebook is still running when Ctrl-C comes, on any machine
    slow = _write(tmp_path / "data", small_tables[0], "small", n_boot=5000)
    # a terminal's Ctrl-C reaches a process whose SIGINT is at its default, whatever this test process inherited
    proc = subprocess.Popen([*CXKIT, "render", str(slow), "--out", str(out), "--no-pdf"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not _executing(out):  # the notebook's first cells have run: the kernel is working
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, (stdout[-1500:], stderr[-1500:])
    assert "interrupted: nothing was published" in stderr
    assert not any(word in stdout + stderr for word in NOISE), stderr
    assert not list(out.rglob("report.html")) and not list(out.glob(".staging-*")), "half-written output left"


def test_successful_batch_prints_no_kernel_lines(tmp_path, small_tables):
    folder = tmp_path / "data"
    for region in ("West", "East"):
        _write(folder, small_tables[0], region.lower(), slice_by={"region": region})
    result = subprocess.run([*CXKIT, "batch", str(folder), "--out", str(tmp_path / "reports"), "--no-pdf"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 rendered, 0 failed" in result.stdout
    assert not any(word in result.stdout + result.stderr for word in NOISE), result.stderr


def _no_churn(tables):
    out = {k: v.copy() for k, v in tables.items()}
    out["customers"]["end_date"] = pd.NaT
    out["customers"]["churn_reason"] = None
    return out


def _one_band(tables):
    out = {k: v.copy() for k, v in tables.items()}
    out["responses"]["nps"] = 3
    return out


def _no_promoters(tables):
    out = {k: v.copy() for k, v in tables.items()}
    out["responses"].loc[out["responses"]["nps"] >= 9, "nps"] = 8
    return out


@pytest.mark.parametrize("make, says", [
    (_no_churn, ["Not available here: churn drivers and lifetime value, because none of the"]),
    (_one_band, ["Not available here: churn drivers, because every answer is in one band (detractors)"]),
    (_no_promoters, ["Too few promoters here (0, under 30)"]),
], ids=["no-churn", "one-band", "no-promoters"])
def test_degenerate_data_gets_an_honest_report(make, says, tmp_path, small_tables):
    from cxkit.render import render

    params = _write(tmp_path / "data", make(small_tables[0]), "degenerate")
    result = render(params, tmp_path / "reports", pdf=False)
    summary = " ".join(yaml.safe_load((result.run_dir / "manifest.json").read_text())["summary"])
    page = (result.run_dir / "report.html").read_text()
    for text in says:
        assert text in summary, summary
        assert text.split(",")[0] in page
    assert "nan" not in summary.lower().replace("financ", "")
