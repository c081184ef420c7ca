"""Survival module: aggregate-first equals row-level, truth recovery, clocks, separation, plots."""

from __future__ import annotations

import json
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest

from cxkit.errors import CxkitError, CxkitWarning
from cxkit.frames import survival_frame
from cxkit.load import load
from cxkit.survival import CoxModel, CumulativeIncidence, SegmentSurvival
from cxkit.synth import write

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    folder = tmp_path_factory.mktemp("syn")
    params = write(folder, n_customers=60_000, seed=21)
    return load(params), json.loads((folder / "truth.json").read_text())


@pytest.fixture(scope="module")
def frame(synthetic):
    return survival_frame(synthetic[0])


def test_km_from_life_table_equals_lifelines_row_level(frame):
    from lifelines import KaplanMeierFitter

    fit = SegmentSurvival().fit(frame, "duration", "event", "segment")
    for seg in fit.segments_:
        rows = frame[frame["segment"] == seg]
        ref = KaplanMeierFitter().fit(rows["duration"], rows["event"]).survival_function_.iloc[1:, 0]
        ours = fit.survival_[fit.survival_["segment"] == seg].set_index("time")["survival"]
        np.testing.assert_allclose(ours.to_numpy(), ref.loc[ours.index].to_numpy(), atol=1e-9, rtol=0)


def test_logrank_equals_lifelines(frame):
    from lifelines.statistics import multivariate_logrank_test

    fit = SegmentSurvival().fit(frame, "duration", "event", "segment")
    ref = multivariate_logrank_test(frame["duration"], frame["segment"].astype(str), frame["event"])
    assert fit.logrank_.statistic == pytest.approx(ref.test_statistic, rel=1e-9)


def test_logrank_leaves_out_a_segment_never_at_risk_at_an_event_as_r_does():
    """R: survdiff(Surv(t, e) ~ g) on these eight rows gives Chisq = 2 on 1 df: group a (both censored before the
    first event) has expected 0 and is left out. The variance with it is singular, which used to raise."""
    rows = pd.DataFrame({"t": [1, 1, 2, 3, 2, 4, 5, 3], "e": [0, 0, 1, 1, 0, 1, 1, 0],
                         "g": ["a", "a", "b", "b", "c", "c", "c", "b"]})
    fit = SegmentSurvival().fit(rows, "t", "e", "g")
    assert fit.logrank_.statistic == pytest.approx(2.0, rel=1e-12) and fit.logrank_.dof == 1


def test_rmst_value_equals_lifelines(frame):
    from lifelines import KaplanMeierFitter
    from lifelines.utils import restricted_mean_survival_time

    fit = SegmentSurvival().fit(frame, "duration", "event", "segment")
    rows = frame[frame["segment"] == "promoter"]
    ref = restricted_mean_survival_time(KaplanMeierFitter().fit(rows["duration"], rows["event"]), t=24)
    assert fit.rmst(24).set_index("segment").loc["promoter", "rmst"] == pytest.approx(ref, rel=1e-9)


def test_relation_input_equals_dataframe_input(synthetic, frame):
    rel = survival_frame(synthetic[0], relation=True)
    a = SegmentSurvival().fit(frame, "duration", "event", "segment").survival_
    b = SegmentSurvival(order=["detractor", "passive", "promoter"]).fit(rel, "duration", "event", "segment").survival_
    pd.testing.assert_frame_equal(a, b)


def test_collapsed_weights_equal_row_level_cox(frame):
    rows = CoxModel().fit(frame, "duration", "event", ["segment", "plan"])
    collapsed = frame.groupby(["duration", "event", "segment", "plan"], observed=True).size().rename("n").reset_index()
    assert len(collapsed) < len(frame)
    pat = CoxModel().fit(collapsed, "duration", "event", ["segment", "plan"], weights_col="n")
    np.testing.assert_allclose(pat.params_, rows.params_, atol=1e-10)
    np.testing.assert_allclose(pat.standard_errors_, rows.standard_errors_, atol=1e-10)


def test_cox_equals_lifelines_on_tied_data(frame):
    from lifelines import CoxPHFitter

    sample = frame.sample(4000, random_state=1)
    sample = sample.assign(duration=np.ceil(sample["duration"]))  # heavy ties: whole months
    ours = CoxModel().fit(sample, "duration", "event", ["segment"])
    dummies = pd.get_dummies(sample["segment"].astype(str), drop_first=True, dtype=float)
    ref = CoxPHFitter().fit(pd.concat([sample[["duration", "event"]], dummies], axis=1), "duration", "event",
                            fit_options={"precision": 1e-12})
    np.testing.assert_allclose(ours.params_.to_numpy(), ref.params_.to_numpy(), atol=1e-9)


def test_cox_recovers_true_band_hazard_ratios_on_the_landmark_clock(synthetic, frame):
    _, truth = synthetic
    fit = CoxModel(reference={"segment": "passive"}).fit(frame, "duration", "event", ["segment", "plan", "region"])
    s = fit.summary
    for band in ("detractor", "promoter"):
        true_hr = truth["hazard_ratios"]["band"][band]
        assert s.loc[f"segment[{band}]", "lower"] <= true_hr <= s.loc[f"segment[{band}]", "upper"], band
    for plan in ("Plus", "Pro"):
        true_hr = truth["hazard_ratios"]["plan"][plan]
        assert s.loc[f"plan[{plan}]", "lower"] <= true_hr <= s.loc[f"plan[{plan}]", "upper"], plan


def test_delayed_entry_clock_recovers_truth_too(synthetic):
    data, truth = synthetic
    f = survival_frame(data, clock="tenure_entry", which="first")
    assert (f["entry"] < f["duration"]).all()
    s = CoxModel(reference={"segment": "passive"}).fit(f, "duration", "event", ["segment", "plan", "region"],
                                                       entry_col="entry").summary
    hr = truth["hazard_ratios"]["band"]["detractor"]
    assert s.loc["segment[detractor]", "lower"] <= hr <= s.loc["segment[detractor]", "upper"]


def test_clocks(synthetic):
    data, _ = synthetic
    latest = survival_frame(data, which="latest")
    first = survival_frame(data, which="first")
    assert len(latest) > len(first) == data.sql("SELECT count(DISTINCT customer_id) FROM responses").fetchall()[0][0]
    assert latest["event"].sum() == first["event"].sum()  # a churn ends exactly one spell
    assert (first["duration"] >= 0).all()
    assert "landmark clock" in latest.attrs["clock"] and "new spell" in latest.attrs["clock"]
    with pytest.warns(CxkitWarning, match="immortal-time bias"):
        survival_frame(data, clock="tenure")


def test_summary_and_html_state_the_clock(frame):
    fit = SegmentSurvival(clock=frame.attrs["clock"]).fit(frame, "duration", "event", "segment")
    html = fit._repr_html_()
    assert "landmark clock" in html and "Log-rank" in html
    assert list(fit.summary["segment"]) == ["detractor", "passive", "promoter"]
    at = fit.survival_at([6, 12, 1000])
    assert at.loc[at["time"] == 1000, "survival"].isna().all()  # beyond follow-up: no estimate
    assert (at.loc[at["time"] == 6, "survival"] > at.loc[at["time"] == 12, "survival"].to_numpy()).all()


def test_rmst_difference(frame):
    fit = SegmentSurvival().fit(frame, "duration", "event", "segment")
    diff = fit.rmst_difference(24, pairs=[("promoter", "detractor")]).iloc[0]
    r = fit.rmst(24).set_index("segment")
    assert diff["difference"] == pytest.approx(r.loc["promoter", "rmst"] - r.loc["detractor", "rmst"])
    assert diff["lower"] > 0 and diff["p_value"] < 0.001


def test_telco_end_to_end_with_separation_warning(telco_path):
    from tests.conftest import ROOT

    data = load(ROOT / "params" / "telco.yaml")
    f = survival_frame(data, clock="tenure")
    km = SegmentSurvival(clock=f.attrs["clock"]).fit(f, "duration", "event", "segment")
    assert km.median_.set_index("segment").loc["satisfied", "median"] != km.median_.set_index("segment").loc[
        "satisfied", "median"]  # NaN: never reaches one half
    with pytest.warns(CxkitWarning, match="separation"):
        cox = CoxModel(clock=f.attrs["clock"]).fit(f, "duration", "event", ["segment", "contract"])
    assert cox.summary.loc["segment[satisfied]", "note"].startswith("no events")
    assert np.isfinite(cox.summary.drop("segment[satisfied]")["hazard_ratio"]).all()
    assert "not estimable" in cox._repr_html_()
    ci = CumulativeIncidence().fit(f, "duration", "event", "churn_reason", "segment")
    assert ci.summary.set_index("segment").loc["satisfied"].sum() == 0


def test_bad_input_is_a_clear_error():
    df = pd.DataFrame({"t": [1.0, -2.0, 3.0], "e": [1, 0, 2], "g": ["a", "b", "a"]})
    with pytest.raises(CxkitError, match="event column 'e' must hold 0/1"):  # the event check comes first
        SegmentSurvival().fit(df, "t", "e", "g")
    with pytest.raises(CxkitError, match="negative duration in 1 row"):
        SegmentSurvival().fit(df.assign(e=[1, 0, 1]), "t", "e", "g")
    with pytest.raises(CxkitError, match="missing column"):
        CoxModel().fit(df, "t", "e", ["nope"])


@pytest.mark.parametrize("flags, bad", [([1, 0, 2, 1], 1), ([1, 0.5, 0, 1], 1), ([1, -1, 2, 0], 2),
                                        ([1, None, 0, 0], 1), ([0.5, 1.5, 1, 0], 2)])
def test_event_flags_other_than_0_or_1_are_counted(flags, bad):
    """Caught by the one event check (a float column is scanned), counted exactly."""
    df = pd.DataFrame({"t": [1.0, 1.0, 2.0, 3.0], "e": pd.array(flags, dtype="Float64"), "g": ["a", "a", "a", "b"]})
    with pytest.raises(CxkitError, match=f"event column 'e' must hold 0/1 or True/False; {bad} row"):
        SegmentSurvival().fit(df, "t", "e", "g")


def test_monotone_likelihood_is_flagged():
    df = pd.DataFrame({"t": np.arange(1, 21, dtype=float), "e": 1, "x": np.arange(20, 0, -1, dtype=float)})
    with pytest.warns(CxkitWarning, match="did not converge to finite estimates"):
        fit = CoxModel().fit(df, "t", "e", ["x"])
    assert "not estimable" in fit.summary.loc["x", "note"]


def test_plots_return_axes_without_showing(frame, monkeypatch):
    import matplotlib.pyplot as plt

    monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("plot functions must not call show()"))
    km = SegmentSurvival().fit(frame, "duration", "event", "segment")
    ax = km.plot()
    assert ax.get_ylabel() == "Share still a customer"
    assert any("log-rank p" in t.get_text() for t in ax.texts)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["detractor", "passive", "promoter"]
    colors = {line.get_label(): matplotlib.colors.to_hex(line.get_color()) for line in ax.get_lines()
              if not line.get_label().startswith("_")}
    assert colors["detractor"] == "#d55e00" and colors["promoter"] == "#0072b2"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CxkitWarning)
        cox = CoxModel(reference={"segment": "passive"}).fit(frame, "duration", "event", ["segment", "plan"])
    assert cox.plot().get_xscale() == "log"
    ci = CumulativeIncidence().fit(frame, "duration", "event", "churn_reason", "segment")
    assert ci.plot(segment="detractor").get_legend() is not None
    plt.close("all")


def test_spells_table_orders_the_answers_once_for_the_latest_answers_too(tmp_path):
    """Dated data: the spells table also leaves each customer's latest answer (``latest_answers``', a view on the
    spells' answer table), the rows its own window picks (latest day, lowest score on it)."""
    from cxkit.frames import answer_order, latest_answers, spells_table

    data = load(write(tmp_path, n_customers=3_000, seed=4))
    spells = spells_table(data)
    names = {r[0] for r in data.con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()}
    views = {r[0] for r in data.con.execute("SELECT view_name FROM duckdb_views() WHERE temporary").fetchall()}
    assert "_latest_nps" in views and not any(n.startswith("_answers_") for n in names)  # a view on the spells
    own = data.con.execute("SELECT customer_id, nps AS score, response_date FROM responses WHERE nps IS NOT NULL "
                           "QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY "
                           f"{answer_order('nps', 'DESC')}) = 1 ORDER BY ALL").fetchall()
    assert latest_answers(data) == "_latest_nps"
    assert data.con.execute("SELECT * FROM _latest_nps ORDER BY ALL").fetchall() == own
    cols = "customer_id, start_date, duration, event, segment, churn_reason"
    assert (spells.query("f", f"SELECT {cols} FROM f ORDER BY ALL").fetchall()
            == survival_frame(data, relation=True).query("f", f"SELECT {cols} FROM f ORDER BY ALL").fetchall())


def test_a_slim_first_answer_frame_is_the_full_one_without_the_extra_columns(synthetic):
    """``slim=True`` (what the LTV base reads) keeps the spells and carried columns only, the same rows and values."""
    data, _ = synthetic
    full = survival_frame(data, which="first", carry=["signup_date"], relation=True)
    slim = survival_frame(data, which="first", carry=["signup_date"], relation=True, slim=True)
    rate = ["monthly_revenue"] if data.has("customers", "monthly_revenue") else []
    assert slim.columns == ["customer_id", "start_date", "duration", "event", "segment", *rate, "signup_date"]
    assert {"score", "churn_reason", *data.segments} <= set(full.columns) - set(slim.columns)
    cols = ", ".join(slim.columns)
    assert (slim.query("f", f"SELECT {cols} FROM f ORDER BY ALL").fetchall()
            == full.query("f", f"SELECT {cols} FROM f ORDER BY ALL").fetchall())
