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
    monkeypatch.chdir(tmp_path)
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "customers active on 2026-09-30 whose latest answer is from the last 12 months" in out
    assert "promoter" in out
