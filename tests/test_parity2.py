"""Statistics parity 2: R's survival 3.5.3 on data sets new to the kit (veteran, lung, mgus2).

Reference numbers come from tests/data/make_reference.R (tests never call R). Matched to 1e-6:
the proportional-hazards test as R's cox.zph(transform="km") computed it before survival 3.0 (by name), Cox fits on
veteran, mgus2 and lung, unsigned-integer covariates, a constant covariate (R: NA), a 1/2 event coding
(refused), the number at risk under delayed entry, cumulative incidence with its standard error and
limits, stratified Cox and predicted survival curves.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from cxkit.errors import CxkitError, CxkitWarning
from cxkit.survival import CoxModel, CumulativeIncidence, SegmentSurvival
from tests.conftest import ROOT

DATA = ROOT / "tests" / "data"
REF = DATA / "r_reference"
TOL = 1e-6
VETERAN = ["trt", "celltype", "karno", "diagtime", "age", "prior"]


def _veteran() -> pd.DataFrame:
    return pd.read_csv(DATA / "veteran.csv")


def _lung() -> pd.DataFrame:
    df = pd.read_csv(DATA / "lung.csv").dropna(subset=["ph.ecog"])
    return df.assign(sex=df["sex"].astype(str), dead=df["status"] - 1)


def _terms(term: str) -> str:
    """R's term names (celltypelarge, sex2) as the kit's (celltype[large], sex[2])."""
    for col in ("celltype", "sex"):
        if term.startswith(col) and term != col:
            return f"{col}[{term[len(col):]}]"
    return term


def _match_cox(model: CoxModel, name: str) -> None:
    ref = pd.read_csv(REF / f"{name}_cox.csv")
    ref.index = [_terms(t) for t in ref["term"]]
    got = model.summary.loc[ref.index]
    for col in ("coef", "se", "hazard_ratio", "lower", "upper", "p_value"):
        np.testing.assert_allclose(got[col], ref[col], rtol=TOL, atol=1e-10, err_msg=f"{name} {col}")
    assert model.log_likelihood_ == pytest.approx(ref["loglik"].iloc[0], rel=TOL)


@pytest.mark.parametrize("name, frame, time, event, covariates", [
    ("veteran", _veteran, "time", "status", VETERAN),
    ("mgus2", lambda: pd.read_csv(DATA / "mgus2.csv").dropna(subset=["hgb"]), "futime", "death", ["sex", "age", "hgb"]),
])
def test_cox_and_ph_test_match_r(name, frame, time, event, covariates):
    model = CoxModel(ph_test="approximate").fit(frame(), time, event, covariates)
    _match_cox(model, name)
    ref = pd.read_csv(REF / f"{name}_zph.csv").set_index("covariate")
    got = model.ph_test_.set_index("covariate").loc[ref.index]
    np.testing.assert_allclose(got["statistic"], ref["statistic"], rtol=TOL)
    np.testing.assert_allclose(got["p_value"], ref["p_value"], rtol=TOL)
    assert got["dof"].tolist() == ref["dof"].tolist()


def test_a_one_two_event_coding_is_refused_by_every_estimator():
    lung = _lung()
    for fit in (lambda: CoxModel().fit(lung, "time", "status", ["sex", "age"]),
                lambda: SegmentSurvival().fit(lung, "time", "status", "sex"),
                lambda: CumulativeIncidence().fit(lung.assign(why="x"), "time", "status", "why", "sex")):
        with pytest.raises(CxkitError, match=r"event column 'status' must hold 0/1 or True/False; 164 row\(s\) "
                                             r".*recoded to 0/1 \(event = status - 1\)"):
            fit()
    _match_cox(CoxModel().fit(lung, "time", "dead", ["sex", "age", "ph.ecog"]), "lung")


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "uint32", "uint64", "int8"])
def test_unsigned_integers_are_numbers(dtype):
    vet = _veteran()
    model = CoxModel().fit(vet.assign(karno=vet["karno"].astype(dtype)), "time", "status", VETERAN)
    assert "karno" in model.summary.index and not any(t.startswith("karno[") for t in model.summary.index)
    _match_cox(model, "veteran")


def test_a_constant_covariate_is_left_out_with_a_warning_as_r_does():
    vet = _veteran().assign(site=1)
    with pytest.warns(CxkitWarning, match="site takes one value in every row"):
        model = CoxModel().fit(vet, "time", "status", ["karno", "site", "age"])
    assert np.isnan(model.summary.loc["site", "coef"]) and model.summary.loc["site", "note"]
    _match_cox(model, "veteran_nosite")


def test_at_risk_under_delayed_entry_matches_r_summary_times():
    """Times chosen just before whole ages, where customers enter between t and the next exit."""
    df = pd.read_csv(DATA / "mgus2_age.csv").assign(all="all")
    km = SegmentSurvival().fit(df, "exit", "death", "all", entry_col="entry")
    ref = pd.read_csv(REF / "mgus2_age_at_risk.csv")
    got = km.survival_at(ref["time"])
    assert got["at_risk"].tolist() == ref["n_risk"].tolist()
    np.testing.assert_allclose(got["survival"], ref["surv"], rtol=TOL)
    heart = pd.read_csv(DATA / "heart.csv").assign(all="all")
    ref = pd.read_csv(REF / "heart_at_risk.csv")
    got = SegmentSurvival().fit(heart, "stop", "event", "all", entry_col="start").survival_at(ref["time"])
    assert got["at_risk"].tolist() == ref["n_risk"].tolist()


def test_warnings_do_not_leak():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CoxModel().fit(_veteran(), "time", "status", ["karno", "age"])


def _mgus2_reasons() -> pd.DataFrame:
    m = pd.read_csv(DATA / "mgus2.csv")
    m["etime"] = np.where(m["pstat"] == 0, m["futime"], m["ptime"])
    m["left"] = ((m["pstat"] == 1) | (m["death"] == 1)).astype(int)
    m["why"] = np.where(m["pstat"] == 1, "pcm", np.where(m["death"] == 1, "death", None))
    return m


def test_churn_reasons_with_standard_errors_and_limits_match_r():
    fit = CumulativeIncidence().fit(_mgus2_reasons(), "etime", "left", "why", "sex")
    ref = pd.read_csv(REF / "mgus2_cif.csv")
    both = fit.incidence_.merge(ref, on=["segment", "time", "cause"], how="outer", suffixes=("", "_r"),
                                indicator=True)
    assert (both["_merge"] == "both").all() and len(both) == len(ref)
    np.testing.assert_allclose(both["incidence"], both["incidence_r"], atol=TOL)
    np.testing.assert_allclose(both["se"], both["std_err"], atol=TOL)
    np.testing.assert_allclose(both["lower"], both["lower_r"], atol=TOL)  # NaN where R gives NA (p = 0)
    np.testing.assert_allclose(both["upper"], both["upper_r"], atol=TOL)
    at = fit.at([12, 120]).set_index(["segment", "time", "cause"])
    assert {"incidence", "se", "lower", "upper"} <= set(at.columns)
    row = both[(both["segment"] == "M") & (both["cause"] == "death") & (both["time"] <= 120)].iloc[-1]
    assert at.loc[("M", 120.0, "death"), "se"] == pytest.approx(row["std_err"], abs=TOL)


def test_churn_reasons_under_delayed_entry_match_r():
    d = pd.read_csv(DATA / "mgus2_age_cif.csv")
    d["left"] = (d["cause"] != "censor").astype(int)
    d["why"] = d["cause"].where(d["left"] == 1)
    fit = CumulativeIncidence().fit(d, "exit", "left", "why", entry_col="entry")
    ref = pd.read_csv(REF / "mgus2_age_cif.csv")
    both = fit.incidence_.merge(ref, on=["time", "cause"], suffixes=("", "_r"))
    assert len(both) == len(ref)
    np.testing.assert_allclose(both["incidence"], both["incidence_r"], atol=TOL)
    np.testing.assert_allclose(both["se"], both["std_err"], atol=TOL)


def test_stratified_cox_matches_r():
    vet = _veteran()
    model = CoxModel(strata=["trt"], ph_test="approximate").fit(vet, "time", "status", ["karno", "age"])
    _match_cox(model, "veteran_strata")
    ref = pd.read_csv(REF / "veteran_strata_cox.csv")
    assert model.concordance_ == pytest.approx(ref["concordance"].iloc[0], rel=TOL)
    assert model.strata_ == ["1", "2"] and "trt" not in " ".join(model.summary.index)
    zph = pd.read_csv(REF / "veteran_strata_zph.csv").set_index("covariate")
    got = model.ph_test_.set_index("covariate").loc[zph.index]
    np.testing.assert_allclose(got["statistic"], zph["statistic"], rtol=TOL)
    with pytest.raises(CxkitError, match="both a covariate and a stratum"):
        CoxModel(strata=["trt"]).fit(vet, "time", "status", ["trt", "age"])


def test_predicted_survival_per_stratum_matches_r_survfit_newdata():
    model = CoxModel(strata="trt").fit(_veteran(), "time", "status", ["karno", "age"])
    ref = pd.read_csv(REF / "veteran_strata_predict.csv").astype({"stratum": str})
    profile = pd.DataFrame({"karno": [60], "age": [60]})
    every = model.predict_survival(profile)  # a curve for each stratum, at its event times
    assert set(every["stratum"]) == {"1", "2"}
    for stratum, part in ref.groupby("stratum"):
        got = model.predict_survival(profile.assign(trt=int(stratum)), times=part["time"])
        assert set(got["stratum"]) == {stratum}
        for col, r in (("survival", "surv"), ("se", "std_err"), ("lower", "lower"), ("upper", "upper")):
            np.testing.assert_allclose(got[col], part[r], atol=TOL, err_msg=col)
    base = model.baseline_survival_
    assert list(base.columns) == ["stratum", "time", "cumulative_hazard", "survival", "se", "lower", "upper"]


def test_predicted_survival_for_typical_customers_matches_r():
    model = CoxModel().fit(_lung(), "time", "dead", ["sex", "age", "ph.ecog"])
    ref = pd.read_csv(REF / "lung_predict.csv")
    got = model.predict_survival(pd.DataFrame({"sex": ["1", "2"], "age": [60, 70], "ph.ecog": [1, 0]}),
                                 times=ref["time"])
    np.testing.assert_allclose(got.loc[got["row"] == 0, "survival"], ref["surv_1"], atol=TOL)
    np.testing.assert_allclose(got.loc[got["row"] == 1, "survival"], ref["surv_2"], atol=TOL)
    with pytest.raises(CxkitError, match="needs a value of 'ph.ecog'"):
        model.predict_survival(pd.DataFrame({"sex": ["1"], "age": [60]}))


def test_an_aliased_covariate_is_left_out_as_r_does():
    vet = _veteran().assign(site=1)
    vet["karno_twice"] = 2 * vet["karno"]
    with pytest.warns(CxkitWarning, match="karno_twice is a linear combination"):
        model = CoxModel().fit(vet, "time", "status", ["karno", "karno_twice", "age"])
    assert model.summary.loc["karno_twice", "note"].startswith("a combination")
    _match_cox(model, "veteran_nosite")  # the others as without it
