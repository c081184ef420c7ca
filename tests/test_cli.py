"""The CLI: exit codes, messages without tracebacks, and the main job."""

from __future__ import annotations

import pandas as pd

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


def test_missing_params_file(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "none.yaml")]) == 1
    assert "params file not found" in capsys.readouterr().err


def test_broken_yaml(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: [unclosed\n")
    assert main(["validate", str(bad)]) == 1
    assert "not valid YAML" in capsys.readouterr().err


def test_demo_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "customers active on 2026-09-30 whose latest answer is from the last 12 months" in out
    assert "promoter" in out
