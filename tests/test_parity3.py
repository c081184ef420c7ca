"""Statistics parity 3: R's survival 3.5.3 on data sets new to the kit (colon, pbc, cgd, kidney, flchain, ovarian).

Reference numbers come from tests/data/make_reference_parity3.R (tests never call R); matched to 1e-6.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxkit.errors import CxkitError
from cxkit.survival import CoxModel, CumulativeIncidence, LifeTable, SegmentSurvival
from tests.conftest import ROOT

DATA = ROOT / "tests" / "data"
REF = DATA / "r_reference"
TOL = 1e-6


def _ref(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / f"{name}.csv", keep_default_na=False, na_values=["NA"])


def _data(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / f"{name}.csv", keep_default_na=False, na_values=["NA"])


# name -> data, exit, event, covariates, entry, settings, categorical columns (R's term names rx... as rx[...])
COX = {
    "colon": ("colon_deaths", "time", "status", ["rx", "sex", "age", "obstruct", "nodes"], None, {}, ["rx"]),
    "pbc": ("pbc", "time", "dead", ["trt", "age", "sex", "edema", "log_bili"], None, {}, ["sex"]),
    "cgd": ("cgd", "tstop", "status", ["treat", "sex", "age", "inherit", "steroids"], "tstart",
            {"reference": {"inherit": "autosomal"}}, ["treat", "sex", "inherit"]),
    "kidney": ("kidney", "time", "status", ["age", "disease"], None, {"strata": ["sex"]}, ["disease"]),
    "ovarian": ("ovarian", "futime", "fustat", ["age", "resid.ds", "rx", "ecog.ps"], None, {}, []),
}


def _fit(name: str, **settings) -> CoxModel:
    data, t, e, covs, entry, base, _ = COX[name.replace("_breslow", "")]
    return CoxModel(**base, **settings).fit(_data(data), t, e, covs, entry_col=entry)


def _term(term: str, categorical) -> str:
    for col in categorical:
        if term.startswith(col) and term != col:
            return f"{col}[{term[len(col):]}]"
    return term


@pytest.mark.parametrize("name", ["colon", "pbc", "cgd", "kidney", "ovarian"])
def test_baseline_survival_is_r_survfit_of_the_fit(name):
    """R centres columns of only 0/1 (every dummy) at 0, others at their mean; survfit(fit) is that curve."""
    model = _fit(name)
    cox = _ref(f"{name}_cox")
    centre = model.centre_.loc[[_term(t, COX[name][6]) for t in cox["term"]]]
    np.testing.assert_allclose(centre, cox["mean"], rtol=1e-12, atol=1e-12)
    ref = _ref(f"{name}_baseline").astype({"stratum": str})
    ref = ref[ref["n_event"] > 0]
    got = model.baseline_survival_
    assert len(got) == len(ref)
    both = got.merge(ref, on=["stratum", "time"], suffixes=("", "_r"))
    assert len(both) == len(ref)
    for col in ("cumulative_hazard", "survival", "se", "lower", "upper"):
        np.testing.assert_allclose(both[col], both[f"{col}_r"], rtol=TOL, atol=1e-10, err_msg=col)


@pytest.mark.parametrize("name, data, exit_, event, segment, entry", [
    ("colon_at", "colon_deaths", "time", "status", "rx", None),
    ("cgd_at", "cgd", "tstop", "status", "treat", "tstart"),
    ("flchain_age_at", "flchain_age", "exit", "death", "sex", "entry"),
])
def test_survival_at_chosen_times_is_r_summary_times(name, data, exit_, event, segment, entry):
    """At risk as R's n.risk (under delayed entry, the risk set of the next exit time), S(t), its SE, limits."""
    km = SegmentSurvival().fit(_data(data), exit_, event, segment, entry_col=entry)
    ref = _ref(name).astype({"segment": str})
    got = km.survival_at(sorted(ref["time"].unique())).merge(ref, on=["segment", "time"], suffixes=("", "_r"))
    assert len(got) == len(ref)
    assert got["at_risk"].tolist() == got["n_risk"].tolist()
    for col, r in (("survival", "surv"), ("se", "se_r"), ("lower", "lower_r"), ("upper", "upper_r")):
        np.testing.assert_allclose(got[col], got[r], rtol=TOL, atol=1e-10, err_msg=col)
    table = km.at_risk_table(ref["time"].unique())
    assert table["at_risk"].tolist() == km.survival_at(ref["time"].unique())["at_risk"].tolist()
    if entry is None:  # without delayed entry the two counts are one
        assert (got["at_risk"] == got["at_risk_at_time"]).all()
    elif name == "flchain_age_at":  # entries at whole ages, between t and the next exit: R counts them
        assert (got["at_risk"] > got["at_risk_at_time"]).sum() >= 8


def _pbc_reasons() -> pd.DataFrame:
    d = _data("pbc")
    return d.assign(left=(d["status"] > 0).astype(int),
                    why=d["status"].map({1: "transplant", 2: "death"}), trt=d["trt"].astype(str))


def test_churn_reasons_at_chosen_times_match_r_summary_times():
    """Before an arm's first exit (day 10) the incidence, its SE and both limits are 0, as R reports them."""
    fit = CumulativeIncidence().fit(_pbc_reasons(), "time", "left", "why", "trt")
    ref = _ref("pbc_cif_at").astype({"segment": str}).rename(columns={"state": "cause"})
    got = fit.at([10, 400, 1000, 2000, 4000]).merge(ref, on=["segment", "time", "cause"], suffixes=("", "_r"))
    assert len(got) == len(ref[ref["cause"] != "(s0)"])
    for col, r in (("incidence", "p"), ("se", "std_err"), ("lower", "lower_r"), ("upper", "upper_r")):
        np.testing.assert_allclose(got[col], got[r], rtol=TOL, atol=1e-10, err_msg=col)
    assert (got.loc[got["time"] == 10, ["incidence", "se", "lower", "upper"]] == 0).all().all()


def _estimators(frame: pd.DataFrame, event: str):
    """Every estimator's fit on pbc with ``event`` as the event column."""
    return {"Cox model": lambda: CoxModel().fit(frame, "time", event, ["age", "log_bili"]),
            "survival data": lambda: SegmentSurvival().fit(frame, "time", event, "trt"),
            "churn reasons": lambda: CumulativeIncidence().fit(frame.assign(why="death"), "time", event, "why", "trt"),
            "life table": lambda: LifeTable.from_frame(frame, "time", event, "trt")}


def test_true_false_events_are_read_as_r_reads_them_by_every_estimator():
    pbc = _data("pbc")
    flagged = pbc.assign(died=pbc["dead"] == 1)
    assert flagged["died"].dtype == bool
    for what, fit in _estimators(flagged, "died").items():
        got = fit()
        want = _estimators(pbc, "dead")[what]()
        if what == "Cox model":
            pd.testing.assert_frame_equal(got.summary, want.summary)
        elif what == "life table":
            pd.testing.assert_frame_equal(got.exits, want.exits)
        elif what == "churn reasons":
            pd.testing.assert_frame_equal(got.incidence_, want.incidence_)
        else:
            pd.testing.assert_frame_equal(got.survival_, want.survival_)
    _match_cox_numbers(CoxModel().fit(flagged, "time", "died", ["trt", "age", "sex", "edema", "log_bili"]), "pbc")


@pytest.mark.parametrize("values, shown, count", [
    ({0: 0.4}, r"0\.4 \(1\)", 1),                               # R drops it with a warning; Cox read it as 0
    ({0: 0.4, 1: 0.4, 2: 7, 3: np.nan}, r"0\.4 \(2\), 7 \(1\), missing \(1\)", 4),
    ({i: 2 for i in range(10)}, r"2 \(10\); a 1/2 coding", 10),
])
def test_one_event_check_and_one_message_for_every_estimator(values, shown, count):
    pbc = _data("pbc").astype({"dead": float})
    for row, value in values.items():
        pbc.loc[row, "dead"] = value
    for what, fit in _estimators(pbc, "dead").items():
        label = "survival data" if what == "life table" else what
        with pytest.raises(CxkitError, match=rf"^{label}: event column 'dead' must hold 0/1 or True/False; "
                                             rf"{count} row\(s\) hold other values: {shown}"):
            fit()


def test_event_check_names_text_columns_and_many_values():
    pbc = _data("pbc")
    with pytest.raises(CxkitError, match=r"event column 'sex' is VARCHAR, not 0/1 or True/False \(values 'f' \(276\)"):
        SegmentSurvival().fit(pbc, "time", "sex")
    with pytest.raises(CxkitError, match=r"300 row\(s\) hold other values: .* and \d+ other value\(s\)"):
        CoxModel().fit(pbc, "time", "log_bili", ["age"])


def _match_cox_numbers(model: CoxModel, name: str) -> None:
    ref = _ref(f"{name}_cox")
    got = model.summary.loc[[_term(t, COX[name.replace("_breslow", "")][6]) for t in ref["term"]]]
    for col in ("coef", "se", "hazard_ratio", "lower", "upper", "p_value"):
        np.testing.assert_allclose(got[col], ref[col], rtol=TOL, atol=1e-10, err_msg=f"{name} {col}")
    assert model.log_likelihood_ == pytest.approx(ref["loglik"].iloc[0], rel=1e-9)


def test_a_warehouse_runs_the_same_event_check():
    ibis = pytest.importorskip("ibis")
    from cxkit.warehouse import Warehouse

    backend = ibis.duckdb.connect()
    pbc = _data("pbc").astype({"dead": float})
    pbc.loc[:2, "dead"] = 0.4
    backend.con.register("pbc_df", pbc)
    backend.con.execute("CREATE TABLE pbc AS SELECT * FROM pbc_df")
    wh = Warehouse(backend)
    for what, fit in (("survival data", lambda: wh.survival("pbc", "time", "dead", "trt")),
                      ("Cox model", lambda: wh.cox("pbc", "time", "dead", {"age": "numeric"}))):
        with pytest.raises(CxkitError, match=rf"^{what}: event column 'dead' must hold 0/1 or True/False; 3 row\(s\) "
                                             r"hold other values: 0\.4 \(3\)"):
            fit()


ZPH_PARITY2 = {  # the data sets of parity 2, whose R 3.x tests were stored for the record
    "veteran": (lambda: _data("veteran"), "time", "status", ["trt", "celltype", "karno", "diagtime", "age", "prior"],
                {}),
    "mgus2": (lambda: _data("mgus2").dropna(subset=["hgb"]), "futime", "death", ["sex", "age", "hgb"], {}),
    "veteran_strata": (lambda: _data("veteran"), "time", "status", ["karno", "age"], {"strata": ["trt"]}),
}


def _zph_matches(model: CoxModel, name: str) -> None:
    ref = _ref(f"{name}_zph3").set_index("covariate")
    got = model.ph_test_.set_index("covariate")
    assert list(got.index) == list(ref.index)
    np.testing.assert_allclose(got["statistic"], ref["statistic"], rtol=TOL, atol=1e-10, err_msg=name)
    np.testing.assert_allclose(got["p_value"], ref["p_value"], rtol=TOL, atol=1e-12, err_msg=name)
    assert got["dof"].tolist() == ref["dof"].tolist()


@pytest.mark.parametrize("name", ["colon", "pbc", "cgd", "kidney", "ovarian"])
def test_ph_test_is_r_3_cox_zph_by_default(name):
    model = _fit(name)
    assert model.ph_test == "score" and "score test" in model.ph_test_name_
    _zph_matches(model, name)


@pytest.mark.parametrize("name", list(ZPH_PARITY2))
def test_ph_test_matches_r_3_where_parity_2_matched_the_old_one(name):
    frame, t, e, covs, settings = ZPH_PARITY2[name]
    _zph_matches(CoxModel(**settings).fit(frame(), t, e, covs), name)
    old = CoxModel(ph_test="approximate", **settings).fit(frame(), t, e, covs)
    assert "before survival 3.0" in old.ph_test_name_
    ref = _ref(f"{name}_zph").set_index("covariate")
    np.testing.assert_allclose(old.ph_test_.set_index("covariate").loc[ref.index, "statistic"], ref["statistic"],
                               rtol=TOL)
    with pytest.raises(ValueError, match="ph_test must be one of 'score', 'approximate'"):
        CoxModel(ph_test="schoenfeld")


@pytest.mark.parametrize("name", ["colon", "pbc", "cgd", "kidney", "ovarian",
                                  "colon_breslow", "pbc_breslow", "kidney_breslow"])
def test_cox_summary_equals_r_coxph_summary(name):
    """Coefficients, the likelihood-ratio, Wald and score tests and the concordance with its standard error,
    with Efron's ties and with Breslow's."""
    model = _fit(name, ties="breslow" if name.endswith("_breslow") else "efron")
    _match_cox_numbers(model, name)
    ref = _ref(f"{name}_cox").iloc[0]
    assert model.log_likelihood_null_ == pytest.approx(ref["loglik_null"], rel=1e-9)
    tests = model.global_tests_.set_index("test")
    for test, col in (("likelihood-ratio test", "lr"), ("Wald test", "wald"), ("score (log-rank) test", "score")):
        assert tests.loc[test, "statistic"] == pytest.approx(ref[col], rel=TOL), test
        assert tests.loc[test, "p_value"] == pytest.approx(ref[f"{col}_p"], rel=TOL, abs=1e-300), test
        assert tests.loc[test, "dof"] == ref["lr_df"]
    assert model.concordance_ == pytest.approx(ref["concordance"], abs=1e-12)
    assert model.concordance_se_ == pytest.approx(ref["concordance_se"], rel=TOL)


@pytest.mark.parametrize("name", ["colon_breslow", "kidney_breslow"])
def test_breslow_ph_test_and_baseline_equal_r(name):
    model = _fit(name, ties="breslow")
    _zph_matches(model, name)
    if name == "colon_breslow":  # survfit of a Breslow fit: Breslow's hazard and its variance
        ref = _ref(f"{name}_baseline")
        ref = ref[ref["n_event"] > 0]
        got = model.baseline_survival_.merge(ref, on=["stratum", "time"], suffixes=("", "_r"))
        assert len(got) == len(ref) == len(model.baseline_survival_)
        for col in ("cumulative_hazard", "survival", "se", "lower", "upper"):
            np.testing.assert_allclose(got[col], got[f"{col}_r"], rtol=TOL, atol=1e-10, err_msg=col)
    with pytest.raises(ValueError, match="ties must be one of 'efron', 'breslow'"):
        CoxModel(ties="exact")


def _flchain_reasons() -> pd.DataFrame:
    d = _data("flchain")
    return d.assign(why=d["cause"].where(d["death"] == 1))


@pytest.mark.parametrize("name", ["flchain", "pbc"])
def test_event_free_state_and_incidences_with_se_and_limits_match_r(name):
    if name == "flchain":
        fit = CumulativeIncidence().fit(_flchain_reasons(), "futime", "death", "why", "sex")
    else:
        fit = CumulativeIncidence().fit(_pbc_reasons(), "time", "left", "why", "trt")
    ref = _ref(f"{name}_cif").astype({"segment": str})
    free = fit.event_free_.merge(ref[ref["state"] == "(s0)"], on=["segment", "time"], suffixes=("", "_r"))
    assert len(free) == len(fit.event_free_) == (ref["state"] == "(s0)").sum()
    for col, r in (("survival", "p"), ("se", "std_err"), ("lower", "lower_r"), ("upper", "upper_r")):
        np.testing.assert_allclose(free[col], free[r], rtol=TOL, atol=1e-10, err_msg=col)
    inc = fit.incidence_.merge(ref.rename(columns={"state": "cause"}), on=["segment", "time", "cause"],
                               suffixes=("", "_r"))
    assert len(inc) == len(fit.incidence_) == (ref["state"] != "(s0)").sum()
    for col, r in (("incidence", "p"), ("se", "std_err"), ("lower", "lower_r"), ("upper", "upper_r")):
        np.testing.assert_allclose(inc[col], inc[r], rtol=TOL, atol=1e-10, err_msg=col)  # NaN where R has NA


@pytest.mark.parametrize("name, profiles", [
    ("colon", {"rx": ["Obs", "Lev+5FU"], "sex": [0, 1], "age": [50, 70], "obstruct": [1, 0], "nodes": [2, 8]}),
    ("pbc", {"trt": [1, 2], "age": [45, 60], "sex": ["f", "m"], "edema": [0, 0.5], "log_bili": [0, 1.5]}),
])
def test_predicted_curves_with_se_and_limits_match_r_survfit_newdata(name, profiles):
    model = _fit(name)
    ref = _ref(f"{name}_predict")
    ref = ref[ref["n_event"] > 0]
    got = model.predict_survival(pd.DataFrame(profiles))
    both = got.merge(ref, on=["row", "time"], suffixes=("", "_r"))
    assert len(both) == len(got) == len(ref)
    for col in ("cumulative_hazard", "survival", "se", "lower", "upper"):
        np.testing.assert_allclose(both[col], both[f"{col}_r"], rtol=TOL, atol=1e-10, err_msg=col)
