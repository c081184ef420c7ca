"""The CLI: exit codes, messages without tracebacks, and the main job."""

from __future__ import annotations

import pandas as pd
import pytest

from cxkit.cli import main


def test_synth_then_validate(tmp_path, capsys):
    assert main(["synth", "--customers", "500", "--seed", "1", "--out", str(tmp_path)]) == 0
    assert main(["validate", str(tmp_path / "params.yaml")]) == 0
    out = capsys.readouterr().out
    assert "ok: the data meets the contract" in out and "500 rows" in out


def test_validate_bad_data_exits_non_zero_without_traceback(tmp_path, capsys):
    main(["synth", "--customers", "300", "--out", str(tmp_path), "--format", "csv"])
    customers = pd.read_csv(tmp_path / "customers.csv")
    customers.loc[3, "customer_id"] = customers.loc[4, "customer_id"]
    customers.to_csv(tmp_path / "customers.csv", index=False)
    assert main(["validate", str(tmp_path / "params.yaml")]) == 1
    err = capsys.readouterr().err
    assert "customers.customer_id: duplicate customer_id" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv", [["synth", "--customers", "0"], ["synth", "--customers", "-5"],
                                  ["synth", "--customers", "ten"], ["batch", "params.yaml", "--jobs", "0"]])
def test_a_count_below_one_is_a_usage_error(tmp_path, capsys, argv):
    """Customers and jobs are whole numbers of at least 1 (0 customers ended in a solver's message, -5 in
    numpy's, and --jobs -1 ran one job silently)."""
    with pytest.raises(SystemExit) as stop:
        main([*argv, "--out", str(tmp_path)])
    assert stop.value.code == 2
    assert "expected a whole number of at least 1" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_missing_params_file(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "none.yaml")]) == 1
    assert "params file not found" in capsys.readouterr().err


def test_broken_yaml(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: [unclosed\n")
    assert main(["validate", str(bad)]) == 1
    assert "not valid YAML" in capsys.readouterr().err


def test_demo_runs(tmp_path, monkeypatch, capsys):
    """From any folder: the demo data and the report land under ./reports/ (nothing beside the kit)."""
    monkeypatch.chdir(tmp_path)
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "customers active on 2026-09-30 whose latest answer is from the last 12 months" in out
    assert "promoter" in out
    assert f"generated demo data: 20,000 customers (seed 0) in {tmp_path / 'reports' / 'data' / 'demo'}/" in out
    assert (tmp_path / "reports" / "demo" / "report.html").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports"]


def test_demo_writes_into_the_project_it_runs_in(tmp_path, monkeypatch, capsys):
    from cxkit.scaffold import init_project

    project = init_project(tmp_path / "team")
    monkeypatch.chdir(project / "notebooks")
    assert main(["demo", "--no-report"]) == 0
    assert (project / "reports" / "data" / "demo" / "customers.parquet").is_file()
    assert not (project / "notebooks" / "reports").exists()


@pytest.mark.parametrize("euid, port, ip, browser, expected", [
    (0, None, None, True, ["--allow-root"]),
    (1000, 9000, None, False, ["--ServerApp.port=9000", "--ServerApp.port_retries=0", "--no-browser"]),
    (1000, None, "0.0.0.0", True, ["--ServerApp.ip=0.0.0.0"]),
])
def test_lab_command_as_root_and_as_a_user(tmp_path, euid, port, ip, browser, expected):
    import sys

    from cxkit.cli import _lab_argv

    argv = _lab_argv(tmp_path, port=port, ip=ip, browser=browser, euid=euid)
    assert argv == [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={tmp_path}", *expected]


@pytest.mark.parametrize("argv, env, message", [
    (["lab", "--port", "http"], {}, "expected a port from 1 to 65535, got 'http'"),
    (["lab"], {"PORT": "99999"}, "error: PORT=99999: expected a port from 1 to 65535"),
])
def test_lab_refuses_a_bad_port(argv, env, message, monkeypatch, capsys):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    assert code in (1, 2) and message in capsys.readouterr().err


def test_lab_serves_the_project_on_loopback_with_the_kits_kernel(tmp_path):
    """cxkit lab started as a user would (as root here too: --allow-root), polled over HTTP on 127.0.0.1
    with a token, then stopped; no browser."""
    import json
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    from cxkit.scaffold import init_project

    project = init_project(tmp_path / "team")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "JUPYTER_TOKEN": "cxkit-test", "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "PORT": str(port)}
    log = tmp_path / "lab.log"
    with open(log, "wb") as out:
        lab = subprocess.Popen([sys.executable, "-m", "cxkit", "lab", "--no-browser", "--ip", "127.0.0.1"],
                               cwd=project / "params", env=env, stdout=out, stderr=subprocess.STDOUT,
                               start_new_session=True)

    def get(path):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}?token=cxkit-test", timeout=5) as reply:
            return json.load(reply)

    try:
        deadline, status = time.monotonic() + 90, None
        while status is None and time.monotonic() < deadline and lab.poll() is None:
            try:
                status = get("/api/status")
            except OSError:
                time.sleep(0.5)
        assert status is not None, log.read_text()[-3000:]
        listed = {item["name"] for item in get("/api/contents")["content"]}
        assert {"notebooks", "params", "reports"} <= listed  # the project, found from its params/ folder
        specs = get("/api/kernelspecs")
        runs = specs["kernelspecs"][specs["default"]]["spec"]["argv"][0]
        assert Path(runs).parent.resolve() == Path(sys.executable).parent.resolve()  # this environment's Python
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        try:
            lab.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(lab.pid, signal.SIGKILL)
            lab.wait()
