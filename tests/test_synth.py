"""The generator against its own truth.json."""

from __future__ import annotations

import json

import numpy as np
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
