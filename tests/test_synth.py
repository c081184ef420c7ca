"""The generator against its own truth.json."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cxkit.synth import generate, write


@pytest.fixture(scope="module")
def big():
    return generate(n_customers=40_000, seed=11)


def test_band_shares_match_truth(big):
    _, truth = big
    for band, share in truth["band_share"].items():
        assert truth["observed"]["band_share"][band] == pytest.approx(share, abs=0.01)


def test_response_share_matches_truth(big):
    tables, truth = big
    responders = tables["responses"]["customer_id"].nunique() / truth["n_customers"]
    assert responders == pytest.approx(truth["settings"]["response_share"], abs=0.015)
    assert tables["responses"].groupby("customer_id").size().max() > 1  # some answer several times


def test_churn_share_matches_truth(big):
    tables, truth = big
    churned = tables["customers"]["end_date"].notna().mean()
    assert churned == pytest.approx(truth["expected_churned_share"], abs=0.01)


def test_answers_reflect_band_and_bands_drive_contacts(big):
    tables, _ = big
    resp = tables["responses"]
    by_customer = resp.assign(b=np.select([resp.nps <= 6, resp.nps <= 8], [0, 1], 2)).groupby("customer_id")["b"]
    assert (by_customer.nunique() == 1).all()  # one latent band per customer
    band = by_customer.first()
    contacts = tables["contacts"].groupby("customer_id").size().reindex(band.index, fill_value=0)
    assert contacts[band == 0].mean() > contacts[band == 2].mean()


def test_dates_are_consistent(big):
    tables, truth = big
    c = tables["customers"].set_index("customer_id")
    assert (c["end_date"].dropna() >= c.loc[c["end_date"].notna(), "signup_date"]).all()
    r = tables["responses"].join(c, on="customer_id")
    assert (r["response_date"] >= r["signup_date"]).all()
    assert (r["end_date"].isna() | (r["response_date"] <= r["end_date"])).all()
    assert str(c["signup_date"].max().date()) <= truth["as_of"]


def test_same_seed_same_data():
    a, _ = generate(500, seed=4)
    b, _ = generate(500, seed=4)
    for name in a:
        assert a[name].equals(b[name])


def test_write_gives_a_ready_params_file(tmp_path):
    from cxkit.load import load

    params = write(tmp_path, n_customers=300, seed=2, fmt="csv")
    truth = json.loads((tmp_path / "truth.json").read_text())
    data = load(params, min_segment_size=1)
    assert data.row_counts["customers"] == truth["n_customers"] == 300


def test_synth_params_name_their_report_folder(tmp_path, monkeypatch, capsys):
    """Without a run_name every synthetic report would land in reports/params/ (the params file's name)."""
    import yaml

    from cxkit.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["synth", "--customers", "300", "--seed", "3", "--out", "cx"]) == 0
    assert yaml.safe_load((tmp_path / "cx" / "params.yaml").read_text())["run_name"] == "synth-300-seed3"
    assert main(["synth", "--customers", "300", "--world", "nps-drop", "--out", "w"]) == 0
    assert yaml.safe_load((tmp_path / "w" / "params.yaml").read_text())["run_name"] == "synth-nps-drop-300-seed0"
    capsys.readouterr()
    assert main(["validate", "cx/params.yaml", "--out", "out"]) == 0
    assert f"cxkit render would write {tmp_path / 'out' / 'synth-300-seed3'}/" in capsys.readouterr().out


def test_synth_writes_a_world_with_its_truth_and_refuses_an_unknown_one(tmp_path, capsys):
    import json

    from cxkit.cli import main

    assert main(["synth", "--world", "nps-drop", "--customers", "2000", "--out", str(tmp_path / "w")]) == 0
    truth = json.loads((tmp_path / "w" / "truth.json").read_text())
    assert truth["world"]["name"] == "nps-drop" and truth["score_shift"] == {"from": "2026-07-01", "points": -10.0}
    assert "world nps-drop: answers in the last quarter" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_:
        main(["synth", "--world", "no-such-world", "--out", str(tmp_path / "x")])
    assert exit_.value.code == 2 and not (tmp_path / "x").exists()


def test_a_planted_score_shift_moves_nps_by_its_points_and_growth_tilts_signups_late():
    """The shift moves answers one band down with the probability that takes its points off NPS; the customers
    and their hazards are the same (the same seed gives the same customers)."""
    from cxkit.synth import generate

    base, _ = generate(20_000, seed=4, response_share=0.6)
    shifted, truth = generate(20_000, seed=4, world="nps-drop")
    assert base["customers"].equals(shifted["customers"])
    late = shifted["responses"]["response_date"] >= pd.Timestamp("2026-07-01")

    def nps(r):
        return 100 * ((r["nps"] >= 9).mean() - (r["nps"] <= 6).mean())

    drop = nps(shifted["responses"][late]) - nps(base["responses"][late])
    assert drop == pytest.approx(-10, abs=2.5)
    grown, _ = generate(20_000, seed=4, signup_growth_per_year=0.6)
    last_year = grown["customers"]["signup_date"] >= pd.Timestamp("2025-10-01")
    assert last_year.mean() > 1 / 3 + 0.05  # uniform signups would put a third in the last of three years
