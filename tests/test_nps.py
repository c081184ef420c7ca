"""NPS bands, standard error against hand-computed cases, differences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxkit.nps import SCALES, band, band_sql, nps_difference, nps_from_counts, nps_table


def test_bands_default_cuts():
    assert band(range(11)).tolist() == ["detractor"] * 7 + ["passive"] * 2 + ["promoter"] * 2
    assert band([1, 2, 3, 4, 5], "csat").tolist() == ["dissatisfied"] * 2 + ["neutral"] + ["satisfied"] * 2


def test_custom_cuts_must_cover_the_scale():
    assert band([5, 6], cuts=[(0, 5, "low"), (6, 10, "high")]).tolist() == ["low", "high"]
    with pytest.raises(ValueError, match="cover 0-10"):
        band([1], cuts=[(0, 5, "low"), (7, 10, "high")])


def test_band_sql_matches_python():
    import duckdb

    scores = list(range(11))
    got = [r[0] for r in duckdb.sql(f"SELECT {band_sql('s')} FROM (SELECT unnest({scores}) AS s)").fetchall()]
    assert got == band(scores).tolist()


def test_se_hand_computed():
    # p = 0.5, d = 0.2, n = 100: var = 0.5 + 0.2 - 0.3^2 = 0.61; SE = 100 * sqrt(0.61 / 100)
    r = nps_from_counts(detractors=20, passives=30, promoters=50)
    assert r["nps"] == pytest.approx(30.0)
    assert r["se"] == pytest.approx(100 * np.sqrt(0.0061), rel=1e-12)
    assert r["se"] == pytest.approx(7.810249675906654, rel=1e-12)
    assert r["lower"] == pytest.approx(30 - 1.959963984540054 * r["se"])


def test_se_equals_sd_of_plus_minus_one_scores():
    values = np.array([1] * 37 + [0] * 41 + [-1] * 22)
    r = nps_from_counts(22, 41, 37)
    assert r["se"] == pytest.approx(100 * values.std(ddof=0) / np.sqrt(values.size), rel=1e-12)


def test_small_groups_flagged():
    assert nps_from_counts(3, 3, 3, min_n=30)["small"] is True
    assert nps_from_counts(10, 10, 10, min_n=30)["small"] is False


def test_table_by_group():
    df = pd.DataFrame({"nps": [10, 9, 3, 7, 8, 0], "plan": ["A", "A", "B", "B", "B", "B"]})
    t = nps_table(df, by="plan", min_n=3).set_index("plan")
    assert t.loc["A", "nps"] == 100.0 and bool(t.loc["A", "small"])
    assert t.loc["B", "nps"] == pytest.approx(-50.0) and not bool(t.loc["B", "small"])


def test_difference_and_p_value():
    a, b = nps_from_counts(20, 30, 50), nps_from_counts(30, 30, 40)
    d = nps_difference(a, b)
    assert d["difference"] == pytest.approx(20.0)
    assert d["se"] == pytest.approx(np.hypot(a["se"], b["se"]))
    # SE_a^2 = 61, SE_b^2 = 100^2 * (0.7 - 0.01) / 100 = 69: SE = sqrt(130), z = 20 / 11.4018 = 1.7541
    assert d["se"] == pytest.approx(np.sqrt(130.0), rel=1e-12)
    assert d["p_value"] == pytest.approx(0.079411, abs=1e-6)


def test_scales_ranges():
    assert (SCALES["effort"].low, SCALES["effort"].high) == (1, 7)


@pytest.mark.parametrize("reverse", [False, True])
def test_same_day_answers_are_ordered_by_score_whatever_the_row_order(case, small_tables, reverse):
    """Two answers on one day: the lower score is the latest, the higher the first, in every query."""
    from cxkit.frames import latest_answers, nps_counts, survival_frame
    from cxkit.load import load

    responses = small_tables[0]["responses"].copy()
    who = int(responses["customer_id"].value_counts().index[0])  # a customer with several answers
    mine = responses[responses["customer_id"] == who].sort_values("response_date")
    first, last = mine["response_date"].iloc[0], mine["response_date"].iloc[-1]
    twins = mine.iloc[[0, 0, -1, -1]].assign(response_date=[first, first, last, last], nps=[9, 2, 10, 3])
    rest = responses[responses["customer_id"] != who]
    rows = pd.concat([rest, twins] if not reverse else [twins.iloc[::-1], rest], ignore_index=True)
    data = load(case(responses=rows))
    latest = data.sql(f"SELECT score FROM {latest_answers(data)} WHERE customer_id = {who}").fetchall()
    assert latest == [(3,)]
    spells = survival_frame(data, which="first")
    assert spells.loc[spells["customer_id"].astype(str) == str(who), "score"].tolist() == [9]
    spells = survival_frame(data, which="latest")
    mine = spells[spells["customer_id"].astype(str) == str(who)].sort_values("start_date")
    assert mine["score"].tolist() == [2, 3]  # each day's higher score: a zero-length spell, dropped
    everyone = nps_counts(data, active_only=False, window_months=None)
    assert int(everyone[["detractors", "passives", "promoters"]].sum(axis=1).iloc[0]) == rows["customer_id"].nunique()


def test_counts_for_several_columns_in_one_pass_equal_counts_one_by_one(case, small_tables):
    """GROUPING SETS give each column's counts, and everyone's, as pandas counts them from latest answers."""
    from cxkit.frames import nps_counts, nps_counts_by
    from cxkit.load import load

    data = load(case())
    many = nps_counts_by(data, ["plan", "region"], active_only=False, window_months=None)
    tables = small_tables[0]
    latest = tables["responses"].dropna(subset=["nps"]).sort_values(
        ["customer_id", "response_date", "nps"], ascending=[True, True, False]).drop_duplicates(
        "customer_id", keep="last").merge(tables["customers"], on="customer_id")
    bands = band(latest["nps"].to_numpy(), "nps")
    for col in ("plan", "region"):
        expected = pd.crosstab(latest[col].astype(str), bands)
        got = many[col].set_index(col)
        assert got.index.tolist() == sorted(expected.index)
        for name, column in (("detractor", "detractors"), ("passive", "passives"), ("promoter", "promoters")):
            assert got[column].tolist() == expected.loc[got.index, name].tolist()
        pd.testing.assert_frame_equal(got.reset_index(), nps_counts(data, by=col, active_only=False,
                                                                    window_months=None).astype({col: object}))
    assert many[None][["detractors", "passives", "promoters"]].iloc[0].tolist() == [
        int((bands == b).sum()) for b in ("detractor", "passive", "promoter")]
