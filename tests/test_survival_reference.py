"""Known answers from R's survival 3.5.3 (tests/data/make_reference.R), matched to 1e-6.

Data: lifelines' rossi and waltons, R's Stanford heart data in (start, stop] form
(delayed entry), and the IBM Telco set. Deliberate difference: where R reports a
log-log limit as NA because the curve is still at 1, the kit reports 1.0 (no such
row occurs in these data sets, and the tests would flag one).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxkit.survival import CoxModel, CumulativeIncidence, SegmentSurvival
from tests.conftest import ROOT, TELCO

DATA = ROOT / "tests" / "data"
REF = DATA / "r_reference"
TOL = 1e-6


def _rossi():
    df = pd.read_csv(DATA / "rossi.csv")
    df["prio_band"] = np.where(df["prio"] == 0, "0", np.where(df["prio"] <= 2, "1-2", "3+"))
    return df


def _telco():
    if not TELCO.exists():
        pytest.skip("Telco data not beside the repository")
    df = pd.read_csv(TELCO, keep_default_na=False, na_values=[""])
    score = df["Satisfaction Score"]
    df["band"] = np.where(score <= 2, "dissatisfied", np.where(score == 3, "neutral", "satisfied"))
    df["score"] = score.astype(str)
    return df


CASES = {
    "waltons": (lambda: pd.read_csv(DATA / "waltons.csv"), "T", "E", "group", None),
    "rossi_fin": (_rossi, "week", "arrest", "fin", None),
    "rossi_prio": (_rossi, "week", "arrest", "prio_band", None),
    "heart": (lambda: pd.read_csv(DATA / "heart.csv"), "stop", "event", "transplant", "start"),
    "telco_band": (_telco, "Tenure in Months", "Churn Value", "band", None),
    "telco_score": (_telco, "Tenure in Months", "Churn Value", "score", None),
}


def _fit(name):
    load, t, e, g, entry = CASES[name]
    df = load()
    return SegmentSurvival().fit(df, t, e, g, entry_col=entry), df


def _ref(name, kind):
    ref = pd.read_csv(REF / f"{name}_{kind}.csv")
    for col in ("segment", "segment_a", "segment_b"):
        if col in ref:
            ref[col] = ref[col].astype(str)
    return ref


@pytest.mark.parametrize("name", list(CASES))
def test_kaplan_meier_curve(name):
    fit, _ = _fit(name)
    ref = _ref(name, "km")
    both = fit.survival_.merge(ref, on=["segment", "time"], how="outer", suffixes=("", "_r"), indicator=True)
    assert (both["_merge"] == "both").all(), "time points differ from R's"
    for ours, theirs in [("at_risk", "n_risk"), ("events", "n_event"), ("censored", "n_censor"),
                         ("survival", "surv"), ("std_err", "std_err_r")]:
        np.testing.assert_allclose(both[ours], both[theirs], atol=TOL, rtol=0, err_msg=ours)
    r_na = both["lower_r"].isna()
    for ours, theirs in [("lower", "lower_r"), ("upper", "upper_r")]:
        np.testing.assert_allclose(both.loc[~r_na, ours], both.loc[~r_na, theirs], atol=TOL, rtol=0, err_msg=ours)
    # R leaves the log-log limits NA where the curve is still 1 (we give 1.0) or has reached 0 (we agree: NaN)
    at_one = r_na & (both["survival"] == 1)
    assert (both.loc[at_one, ["lower", "upper"]] == 1.0).all().all()
    assert both.loc[r_na & ~at_one, ["lower", "upper"]].isna().all().all()


@pytest.mark.parametrize("name", list(CASES))
def test_median_and_rmst(name):
    fit, _ = _fit(name)
    ref = _ref(name, "summary").set_index("segment").loc[fit.segments_]
    med = fit.median_.set_index("segment")
    for col in ("median", "lower", "upper"):
        np.testing.assert_allclose(med[col], ref[col], atol=TOL, err_msg=col)
    rmst = fit.rmst(ref["tau"].iloc[0]).set_index("segment")
    np.testing.assert_allclose(rmst["rmst"], ref["rmean"], atol=TOL)
    np.testing.assert_allclose(rmst["se"], ref["se_rmean"], atol=TOL)


@pytest.mark.parametrize("name", ["waltons", "rossi_prio", "heart", "telco_band"])
def test_logrank_and_pairwise(name):
    fit, _ = _fit(name)
    ref = _ref(name, "logrank")
    overall = ref.iloc[0]
    assert fit.logrank_.statistic == pytest.approx(overall["statistic"], abs=TOL)
    assert fit.logrank_.dof == overall["df"]
    assert fit.logrank_.p_value == pytest.approx(overall["p"], abs=TOL)
    pairs = fit.pairwise_.merge(ref.iloc[1:], on=["segment_a", "segment_b"])
    assert len(pairs) == len(ref) - 1
    np.testing.assert_allclose(pairs["statistic_x"], pairs["statistic_y"], atol=TOL)
    np.testing.assert_allclose(pairs["p_adjusted"], pairs["p_holm"], atol=TOL)


COX = {
    "rossi": (_rossi, "week", "arrest", ["fin", "age", "race", "wexp", "mar", "paro", "prio"], None,
              lambda t: t),
    "rossi_cat": (_rossi, "week", "arrest", ["prio_band", "fin", "wexp"], None,
                  lambda t: t.replace("prio_band", "prio_band[").replace("factor(fin)1", "fin")
                  .replace("factor(wexp)1", "wexp") + ("]" if t.startswith("prio_band") else "")),
    "heart": (lambda: pd.read_csv(DATA / "heart.csv"), "stop", "event", ["age", "surgery", "transplant"], "start",
              lambda t: t.replace("transplant1", "transplant")),
    "waltons": (lambda: pd.read_csv(DATA / "waltons.csv"), "T", "E", ["group"], None,
                lambda t: t.replace("group", "group[") + "]"),
}


@pytest.mark.parametrize("name", list(COX))
def test_cox_efron(name):
    load, t, e, covs, entry, rename = COX[name]
    fit = CoxModel().fit(load(), t, e, covs, entry_col=entry)
    ref = pd.read_csv(REF / f"{name}_cox.csv")
    ref["term"] = ref["term"].map(rename)
    ours = fit.summary.loc[ref["term"]]
    for col in ("coef", "se", "hazard_ratio", "lower", "upper", "p_value"):
        np.testing.assert_allclose(ours[col], ref[col], atol=TOL, rtol=1e-6, err_msg=col)
    assert fit.log_likelihood_ == pytest.approx(ref["loglik"].iloc[0], abs=TOL)
    assert fit.concordance_ == pytest.approx(ref["concordance"].iloc[0], abs=TOL)


def test_cox_telco_separation_matches_r_on_the_estimable_part():
    df = _telco()
    with pytest.warns(Warning, match="'satisfied' has no churn events among 2,938 customers"):
        fit = CoxModel().fit(df, "Tenure in Months", "Churn Value", ["band", "Contract"])
    s = fit.summary
    assert s.loc["band[satisfied]", "note"] == "no events: hazard ratio not estimable"
    assert np.isnan(s.loc["band[satisfied]", "hazard_ratio"])
    ref = pd.read_csv(REF / "telco_estimable_cox.csv")
    ref["term"] = ref["term"].str.replace(r"^band(.*)$", r"band[\1]", regex=True) \
        .str.replace(r"^contract(.*)$", r"Contract[\1]", regex=True)
    np.testing.assert_allclose(s.loc[ref["term"], "coef"], ref["coef"], atol=TOL)
    np.testing.assert_allclose(s.loc[ref["term"], "se"], ref["se"], atol=TOL)


def test_cumulative_incidence_telco():
    df = _telco()
    df["reason"] = df["Churn Category"]
    fit = CumulativeIncidence().fit(df, "Tenure in Months", "Churn Value", "reason", "band")
    ref = _ref("telco_band", "cif")
    both = fit.incidence_.merge(ref, on=["segment", "time", "cause"], how="outer", indicator=True)
    assert (both["_merge"] == "both").all()
    np.testing.assert_allclose(both["incidence_x"], both["incidence_y"], atol=TOL)
    np.testing.assert_allclose(both["se"], both["std_err"], atol=TOL)  # R's infinitesimal jackknife
