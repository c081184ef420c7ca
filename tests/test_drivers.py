"""Drivers of the score and experiences before departure: published values, R, and planted synthetic truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxkit.drivers import DepartureStory, ExperienceHazards, KeyDrivers, TouchpointImpact, driver_frame
from cxkit.drivers.weights import dominance_by_size, general_dominance, r_squared, relative_weights
from cxkit.errors import CxkitError
from cxkit.load import load
from cxkit.synth import write

from .conftest import ROOT

REF = ROOT / "tests" / "data" / "r_reference"
AZEN_BUDESCU = np.array([[1.0, 0.6, 0.3, 0.4, 0.5], [0.6, 1.0, 0.8, 0.1, 0.3], [0.3, 0.8, 1.0, 0.1, 0.1],
                         [0.4, 0.1, 0.1, 1.0, 0.5], [0.5, 0.3, 0.1, 0.5, 1.0]])
# Azen & Budescu (2003), Table 2: mean added R² of x1..x4 by the number of other predictors in the model.
PUBLISHED_BY_SIZE = np.array([[0.360, 0.090, 0.160, 0.250], [0.300, 0.074, 0.095, 0.152],
                              [0.263, 0.069, 0.063, 0.073], [0.246, 0.071, 0.061, 0.010]])
EQUAL_CONTACTS = {"contacts_per_month": {"detractor": 0.3, "passive": 0.3, "promoter": 0.3},
                  "complaint_share_by_band": {"detractor": 0.2, "passive": 0.2, "promoter": 0.2}}


def test_dominance_matches_azen_and_budescu_2003():
    assert dominance_by_size(AZEN_BUDESCU) == pytest.approx(PUBLISHED_BY_SIZE, abs=0.002)
    general = general_dominance(AZEN_BUDESCU)
    assert general == pytest.approx(PUBLISHED_BY_SIZE.mean(axis=0), abs=0.002)
    assert general.sum() == pytest.approx(r_squared(AZEN_BUDESCU), abs=1e-12)


def test_relative_weights_match_r_on_the_azen_budescu_matrix_and_sum_to_r_squared():
    ref = pd.read_csv(REF / "drivers_azen_budescu_rw.csv")
    weights = relative_weights(AZEN_BUDESCU)
    assert weights == pytest.approx(ref["relative_weight"].to_numpy(), abs=1e-10)
    assert weights.sum() == pytest.approx(r_squared(AZEN_BUDESCU), abs=1e-12)
    # the two methods rank alike and agree to within 0.003 here, as Johnson (2000) reports in general
    assert weights == pytest.approx(general_dominance(AZEN_BUDESCU), abs=0.003)


@pytest.fixture(scope="module")
def answers():
    return pd.read_csv(ROOT / "tests" / "data" / "drivers_answers.csv")


DRIVERS = ["csat", "complaint_contacts", "call_contacts", "chat_contacts", "tenure_months", "plan"]


@pytest.mark.parametrize("outcome,method,column", [("nps", "relative_weights", "linear_rw"),
                                                   ("nps", "dominance", "linear_dominance"),
                                                   ("detractor", "relative_weights", "logistic_rw")])
def test_weights_match_r_on_answers(answers, outcome, method, column):
    ref = pd.read_csv(REF / "drivers_answers_weights.csv").set_index("driver")
    kd = KeyDrivers(outcome=outcome, method=method, n_boot=0).fit(answers, DRIVERS)
    got = kd.importance_.set_index("driver")["weight"]
    assert got.reindex(ref.index).to_numpy() == pytest.approx(ref[column].to_numpy(), abs=1e-8)
    r2 = pd.read_csv(REF / "drivers_answers_r2.csv").iloc[0]
    expected = r2["linear_r2"] if outcome == "nps" else r2["logistic_r2_mz"]
    assert kd.r_squared_["value"] == pytest.approx(expected, abs=1e-8)
    assert got.sum() == pytest.approx(expected, abs=1e-8)  # the weights split R² exactly


def test_coefficients_match_lm_and_glm(answers):
    ref = pd.read_csv(REF / "drivers_answers_coef.csv")
    ref["term"] = ref["term"].str.replace(r"^plan_(\w+)$", r"plan[\1]", regex=True)
    ref = ref.set_index("term")
    for outcome, column in (("nps", "linear_coef"), ("detractor", "logistic_coef")):
        coef = KeyDrivers(outcome=outcome, n_boot=0).fit(answers, DRIVERS).coefficients_.set_index("term")["coef"]
        assert coef.reindex(ref.index).to_numpy() == pytest.approx(ref[column].to_numpy(), abs=1e-6)


def test_bootstrap_intervals_signs_and_marks(answers):
    kd = KeyDrivers(n_boot=100, seed=1).fit(answers, DRIVERS)
    imp = kd.importance_.set_index("driver")
    assert list(kd.importance_.columns[:7]) == ["driver", "weight", "share", "lower", "upper", "sign", "n"]
    assert (imp["lower"] <= imp["weight"]).all() and (imp["weight"] <= imp["upper"]).all()
    assert imp.loc["complaint_contacts", "sign"] == "-" and imp.loc["csat", "sign"] == "+"
    assert imp.loc["plan", "sign"] == "by level"
    assert bool(imp.loc["complaint_contacts", "distinguishable"]) is True
    assert bool(imp.loc["chat_contacts", "distinguishable"]) is False  # planted effect 0
    assert imp["share"].sum() == pytest.approx(1.0)
    assert (imp["n"] == len(answers)).all()
    again = KeyDrivers(n_boot=100, seed=1).fit(answers, DRIVERS).importance_
    pd.testing.assert_frame_equal(kd.importance_, again)  # same seed, same intervals


def test_patterns_equal_rows(answers):
    """Collapsing answers into patterns with counts gives the weights of the rows themselves."""
    doubled = pd.concat([answers, answers], ignore_index=True)
    a = KeyDrivers(n_boot=0).fit(answers, DRIVERS).importance_.set_index("driver")["weight"]
    b = KeyDrivers(n_boot=0).fit(doubled, DRIVERS).importance_.set_index("driver")["weight"]
    assert a.to_numpy() == pytest.approx(b.reindex(a.index).to_numpy(), abs=1e-12)


def test_settings_and_inputs_are_checked(answers):
    with pytest.raises(CxkitError, match="outcome"):
        KeyDrivers(outcome="churn")
    with pytest.raises(CxkitError, match="method"):
        KeyDrivers(method="shapley-ish")
    with pytest.raises(CxkitError, match="no column"):
        KeyDrivers(n_boot=0).fit(answers, ["csat", "nope"])
    with pytest.raises(CxkitError, match="own drivers"):
        KeyDrivers(n_boot=0).fit(answers, ["csat", "nps"])
    wide = answers.copy()
    for i in range(16):
        wide[f"d{i}"] = np.random.default_rng(i).normal(size=len(wide))
    with pytest.raises(CxkitError, match="at most 15"):
        KeyDrivers(method="dominance", n_boot=0).fit(wide, [f"d{i}" for i in range(16)])
    wide["twice_csat"] = 2 * wide["csat"]
    with pytest.raises(CxkitError, match="linearly dependent"):
        KeyDrivers(n_boot=0).fit(wide, ["csat", "twice_csat"])


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """Score effects planted: each complaint in the 90 days before an answer -2 points, each call -0.5;
    contact rates equal across bands so that contacts are not a stand-in for the customer's disposition."""
    out = tmp_path_factory.mktemp("planted")
    params = write(out, n_customers=20_000, seed=2, contact_score_effects={"complaint": -2.0, "call": -0.5},
                   **EQUAL_CONTACTS)
    return load(params), pd.read_json(out / "truth.json", typ="series")


def test_planted_score_effects_are_recovered_within_their_intervals(planted):
    data, truth = planted
    effects = truth["contact_score_effects"]
    assert effects == {"call": -0.5, "chat": 0.0, "email": 0.0, "complaint": -2.0}
    frame = driver_frame(data, window_days=truth["score_window_days"])
    kd = KeyDrivers(n_boot=200, seed=0).fit(frame, ["call_contacts", "chat_contacts", "email_contacts",
                                                    "complaint_contacts", "plan", "region", "tenure_months"])
    coef = kd.coefficients_.set_index("term")
    for kind, effect in effects.items():
        row = coef.loc[f"{kind}_contacts"]
        assert row["lower"] <= effect <= row["upper"], (kind, row.to_dict())
    top = kd.importance_.iloc[0]
    assert top["driver"] == "complaint_contacts" and top["distinguishable"]


def test_planted_complaint_hazard_ratio_is_recovered(tmp_path):
    """Each complaint counting (7 to 97 days after it) multiplies the hazard by 1.6. Bands are given the same
    hazard here: an unmeasured spread of hazards pulls a Cox ratio towards 1 (README, limits)."""
    flat = {"band": {"detractor": 1.0, "passive": 1.0, "promoter": 1.0},
            "plan": {"Basic": 1.0, "Plus": 0.8, "Pro": 0.65},
            "region": {"North": 1.0, "South": 1.2, "East": 0.85, "West": 1.1}}
    params = write(tmp_path, n_customers=20_000, seed=1, complaint_hazard_ratio=1.6, hazard_ratios=flat,
                   **EQUAL_CONTACTS)
    truth = pd.read_json(tmp_path / "truth.json", typ="series")
    assert truth["complaint_hazard_ratio"] == 1.6 and truth["expected_churned_share"] is None
    eh = ExperienceHazards(window_days=truth["complaint_window_days"], lag_days=truth["complaint_lag_days"]
                           ).fit_data(load(params))
    s = eh.summary.set_index("experience")
    assert list(eh.summary.columns) == ["experience", "hazard_ratio", "lower", "upper", "p_value"]
    assert s.loc["complaints", "lower"] <= 1.6 <= s.loc["complaints", "upper"]
    assert s.loc["repeat_contacts", "lower"] <= 1.0 <= s.loc["repeat_contacts", "upper"]  # none planted
    risk = eh.revenue_at_risk_.set_index("experience").loc["complaints"]
    assert 0 < risk["lower"] <= risk["monthly_revenue"] <= risk["upper"] < risk["revenue_left"]
    assert risk["leavers_with"] <= risk["leavers"]


def test_default_synth_plants_nothing_and_keeps_its_truths(small_tables):
    tables, truth = small_tables
    assert truth["complaint_hazard_ratio"] == 1.0
    assert set(truth["contact_score_effects"].values()) == {0.0}
    assert truth["ltv"] is not None and truth["expected_churned_share"] is not None


def test_driver_frame_counts_contacts_in_the_window_before_each_answer(small_tables, case):
    from cxkit.load import load as load_params

    tables, _ = small_tables
    data = load_params(case(fmt="parquet"))
    frame = driver_frame(data, window_days=60)
    r, k = tables["responses"], tables["contacts"].copy()
    k["kind"] = k["kind"].astype(str)
    k = k.sort_values(["customer_id", "date"])
    k["repeat"] = k.groupby("customer_id")["date"].diff().dt.days.le(7)
    merged = r.merge(k, on="customer_id")
    merged = merged[(merged["date"] >= merged["response_date"] - pd.Timedelta(days=60))
                    & (merged["date"] < merged["response_date"])]
    expected = merged.groupby(["customer_id", "response_date"]).agg(
        calls=("kind", lambda s: (s == "call").sum()), complaints=("kind", lambda s: (s == "complaint").sum()),
        repeats=("repeat", "sum"), cost=("cost", "sum"))
    got = frame.drop_duplicates(["customer_id", "response_date"]).set_index(["customer_id", "response_date"])
    got.index = got.index.set_levels(pd.to_datetime(got.index.levels[1]), level=1)
    expected = expected.reindex(got.index).fillna(0)
    assert (got["call_contacts"] == expected["calls"]).all()
    assert (got["complaint_contacts"] == expected["complaints"]).all()
    assert (got["repeat_contacts"] == expected["repeats"]).all()
    assert got["contact_cost"].to_numpy() == pytest.approx(expected["cost"].to_numpy())
    assert len(frame) == len(r)
    assert frame.attrs["window_days"] == 60 and "plan" in frame.attrs["drivers"]


def _bootstrap_se(frame: pd.DataFrame, score: str, measure, n_boot: int = 400) -> float:
    """The bootstrap standard error of points lost to complaints: ``measure`` (a function of the scores) without
    the answers that had one, minus all answers, over resamples of the answers."""
    boots = []
    for b in range(n_boot):
        s = frame.sample(len(frame), replace=True, random_state=b)
        had = s["complaint_contacts"] > 0
        boots.append(measure(s.loc[~had, score]) - measure(s[score]))
    return float(np.std(boots))


def test_touchpoint_points_lost_is_the_nps_without_those_answers_minus_all():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"nps": rng.integers(0, 11, 4000), "complaint_contacts": rng.poisson(0.2, 4000)})
    frame.loc[frame["complaint_contacts"] > 0, "nps"] = rng.integers(0, 8, (frame["complaint_contacts"] > 0).sum())

    def nps(s):
        return 100 * ((s >= 9).mean() - (s <= 6).mean())

    t = TouchpointImpact().fit(frame, ["complaint_contacts"]).summary.iloc[0]
    had = frame["complaint_contacts"] > 0
    assert t["points_lost"] == pytest.approx(nps(frame.loc[~had, "nps"]) - nps(frame["nps"]))
    assert t["nps_with"] == pytest.approx(nps(frame.loc[had, "nps"]))
    # the delta-method interval agrees with a bootstrap of the answers
    assert (t["upper"] - t["lower"]) / (2 * 1.959964) == pytest.approx(_bootstrap_se(frame, "nps", nps), rel=0.15)


def test_departure_story_matches_the_tables(small_tables, case):
    from cxkit.load import load as load_params

    tables, _ = small_tables
    data = load_params(case(fmt="parquet"))
    story = DepartureStory(period_months=12, window_days=90).fit_data(data)
    c = tables["customers"]
    as_of = pd.Timestamp("2026-09-30")
    gone = c[(c["end_date"] <= as_of) & (c["end_date"] > as_of - pd.DateOffset(months=12))]
    assert len(story.customers_) == len(gone)
    allrow = story.summary.set_index("reason").loc["all"]
    assert allrow["leavers"] == len(gone)
    k = tables["contacts"].merge(gone[["customer_id", "end_date"]], on="customer_id")
    k = k[(k["date"] <= k["end_date"]) & (k["date"] > k["end_date"] - pd.Timedelta(days=90))]
    assert allrow["with_complaint"] == pytest.approx(k.loc[k["kind"] == "complaint", "customer_id"].nunique()
                                                     / len(gone))
    r = tables["responses"].merge(gone[["customer_id", "end_date"]], on="customer_id")
    r = r[r["response_date"] <= r["end_date"]].sort_values("response_date").groupby("customer_id").tail(1)
    assert allrow["answered"] == pytest.approx(len(r) / len(gone))
    assert allrow["last_band_detractor"] == pytest.approx((r["nps"] <= 6).mean())
    assert story.summary["reason"].iloc[-1] == "all"
    # the summary is counted in SQL (as in a warehouse): the same as read off the listed leavers, one by one
    listed = story.customers_.assign(answered=story.customers_["last_band"].notna())
    med = listed[listed["answered"]].groupby("reason")["days_since_answer"].median()
    got = story.summary.set_index("reason")
    assert got.loc[med.index, "median_days_since_answer"].to_numpy() == pytest.approx(med.to_numpy())
    revenue = listed.groupby("reason")["monthly_revenue"].sum(min_count=1)
    assert got.loc[revenue.index, "monthly_revenue"].to_numpy() == pytest.approx(revenue.to_numpy())
    unlisted = DepartureStory(period_months=12, window_days=90, list_customers=False).fit_data(data)
    assert unlisted.customers_ is None and unlisted.leavers_ == len(gone)
    pd.testing.assert_frame_equal(unlisted.summary, story.summary)
    a, b = story.summary["reason"].iloc[0], story.summary["reason"].iloc[1]
    share = [(listed.loc[listed["reason"] == x, "complaints"] > 0).mean() for x in (a, b)]
    assert story.difference(a, b)["difference"] == pytest.approx(share[0] - share[1])


def test_departure_story_reads_a_run_rate_in_the_scan_that_picks_the_leavers(small_tables, case, monkeypatch):
    """Without a revenue table the leavers' revenue is their ``monthly_revenue``, read in the one scan of the
    customers that picks them (no second scan joined to it): the same per leaver and per reason."""
    from cxkit.load import CXData
    from cxkit.load import load as load_params

    tables, _ = small_tables
    customers = tables["customers"].assign(monthly_revenue=lambda c: 20.0 + 0.25 * np.arange(len(c)))
    customers.loc[customers.index[::5], "monthly_revenue"] = np.nan  # unknown for some: not 0
    data = load_params(case(fmt="parquet", drop=("revenue",), customers=customers))
    queries, real = [], CXData.sql
    monkeypatch.setattr(CXData, "sql", lambda self, query: queries.append(query) or real(self, query))
    story = DepartureStory(period_months=12, window_days=90).fit_data(data)
    listed = story.customers_.merge(customers[["customer_id", "monthly_revenue"]], on="customer_id",
                                    suffixes=("", "_own"))
    assert len(listed) == story.leavers_ > 0 and listed["monthly_revenue"].isna().any()
    pd.testing.assert_series_equal(listed["monthly_revenue"], listed["monthly_revenue_own"], check_names=False)
    revenue = listed.groupby("reason")["monthly_revenue"].sum(min_count=1)
    got = story.summary.set_index("reason")
    assert got.loc[revenue.index, "monthly_revenue"].to_numpy() == pytest.approx(revenue.to_numpy())
    grouped = [q for q in queries if "count(*) AS leavers" in q]
    assert len(grouped) == 1 and grouped[0].count("FROM customers") == 1


def test_risk_set_counts_summed_in_groups_of_customers_are_the_same(small_tables, case, monkeypatch):
    """Summing the risk-set counts over groups of customers (to hold one group's memory at a time) and adding them
    up gives the same counts, spells and fits as one pass over everyone."""
    from cxkit.load import load as load_params

    shuffled = small_tables[0]["contacts"].sample(frac=1, random_state=2)  # not in id order: sorted by groups
    data = load_params(case(fmt="parquet", contacts=shuffled))
    whole = ExperienceHazards(direct_max_rows=0, chunk_customers=None).fit_data(data)
    groups = ExperienceHazards(direct_max_rows=0, chunk_customers=97)
    assert len(groups._chunks(data)) == -(-data.row_counts["customers"] // 97) > 3
    seen, real = [], ExperienceHazards._moves

    def moves(self, data, *args, only=None, since=None, sort=True):
        seen.append((only, sort))
        return real(self, data, *args, only=only, since=since, sort=sort)

    monkeypatch.setattr(ExperienceHazards, "_moves", moves)
    groups.fit_data(data)
    assert seen[0] == (None, False) and len(seen) == 1 + len(groups._chunks(data))  # one pass tried, then groups
    seen.clear()
    in_order = ExperienceHazards(direct_max_rows=0, chunk_customers=97).fit_data(load_params(case(fmt="parquet")))
    assert seen == [(None, False)]  # tables in id order: one pass, however many groups
    assert in_order.spells_ == whole.spells_
    assert (groups.spells_, groups.risk_cells_, groups.prior_cells_) == (whole.spells_, whole.risk_cells_,
                                                                         whole.prior_cells_)
    for model in ("unadjusted_cox_", "cox_"):
        got, want = getattr(groups, model).summary, getattr(whole, model).summary
        assert got["coef"].to_numpy() == pytest.approx(want["coef"].to_numpy(), abs=1e-12)
        assert got["se"].to_numpy() == pytest.approx(want["se"].to_numpy(), abs=1e-12)
    pd.testing.assert_frame_equal(groups.revenue_at_risk_, whole.revenue_at_risk_)
    with pytest.raises(CxkitError, match="chunk_customers"):
        ExperienceHazards(chunk_customers=0)


def test_experiences_need_contacts(small_tables, case):
    from cxkit.load import load as load_params

    data = load_params(case(fmt="parquet", drop=("contacts",)))
    with pytest.raises(CxkitError, match="contacts table"):
        ExperienceHazards().fit_data(data)
    with pytest.raises(CxkitError, match="lag_days"):
        ExperienceHazards(lag_days=-1)


def test_risk_set_counts_give_the_fit_on_every_spell(small_tables, case):
    """The Cox model on each event day's risk-set counts per pattern equals the model on the raw spells."""
    from cxkit.load import load as load_params
    from cxkit.survival.cox import CoxModel

    data = load_params(case(fmt="parquet"))
    eh = ExperienceHazards(direct_max_rows=0).fit_data(data)  # the counts, as for millions of customers
    assert eh.risk_cells_ > 0
    sql = eh._spells_sql(data, eh.experiences_, eh.adjusted_for_)
    spells = data.sql(sql).df()
    for col in eh.adjusted_for_:
        spells[col] = spells[col].astype("category")
    direct = CoxModel().fit(spells, "stop", "event", eh.experiences_ + eh.adjusted_for_, entry_col="start")
    assert eh.spells_ == len(spells)
    got, want = eh.unadjusted_cox_.summary, direct.summary
    assert got["coef"].to_numpy() == pytest.approx(want.loc[got.index, "coef"].to_numpy(), abs=1e-9)
    assert got["se"].to_numpy() == pytest.approx(want.loc[got.index, "se"].to_numpy(), abs=1e-9)
    small = ExperienceHazards().fit_data(data)  # a few thousand customers: fitted on the spells themselves
    assert small.risk_cells_ is None and small.spells_ == len(spells)
    assert eh.prior_missing_ == small.prior_missing_
    assert small.unadjusted_cox_.summary["coef"].to_numpy() == pytest.approx(got["coef"].to_numpy(), abs=1e-9)
    assert small.cox_.summary["coef"].to_numpy() == pytest.approx(eh.cox_.summary["coef"].to_numpy(), abs=1e-9)
    assert small.revenue_at_risk_["monthly_revenue"].to_numpy() == pytest.approx(
        eh.revenue_at_risk_["monthly_revenue"].to_numpy(), rel=1e-9)
    # the leavers per count of experiences on the day they left, counted without spells (and summed where the
    # rows are), are those of their last spells
    last = spells[spells["event"] == 1].groupby(eh.experiences_).size()
    leavers = data.sql(eh._leavers_sql(data, eh.experiences_)).df().set_index(eh.experiences_)["leavers"]
    assert leavers.to_dict() == last.to_dict()



def test_cli_synth_plants_effects_and_refuses_bad_ones(tmp_path, capsys):
    import json

    from cxkit.cli import main

    out = tmp_path / "planted"
    assert main(["synth", "--customers", "300", "--out", str(out), "--complaint-hazard-ratio", "1.5",
                 "--score-effect", "complaint=-2", "--score-effect", "call=-0.5"]) == 0
    truth = json.loads((out / "truth.json").read_text())
    assert truth["complaint_hazard_ratio"] == 1.5
    assert truth["contact_score_effects"]["complaint"] == -2.0 and truth["contact_score_effects"]["call"] == -0.5
    capsys.readouterr()
    for bad, message in ((["--score-effect", "complaint"], "KIND=POINTS"), (["--score-effect", "gripe=-1"], "gripe"),
                         (["--complaint-hazard-ratio", "0"], "positive")):
        assert main(["synth", "--customers", "50", "--out", str(tmp_path / "bad"), *bad]) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err


@pytest.mark.parametrize("notebook", ["01-leadership-report", "04-drivers"])
def test_driver_settings_are_checked_before_any_kernel_starts(notebook):
    from cxkit.errors import CxkitError as Error
    from cxkit.nbparams import check_params, notebook_parameters

    parameters = notebook_parameters(ROOT / "notebooks" / f"{notebook}.ipynb")
    for bad in ({"window_days": 0}, {"lag_days": -1}):
        with pytest.raises(Error, match=list(bad)[0]):
            check_params(bad, parameters)
    assert check_params({"window_days": 30, "lag_days": 0}, parameters)["window_days"] == 30


def test_touchpoints_and_key_drivers_agree_on_a_frame_and_its_relation(small_tables, case):
    from cxkit.drivers.frame import drop_answers_table
    from cxkit.load import load as load_params

    data = load_params(case(fmt="parquet"))
    frame = driver_frame(data)
    rel = driver_frame(data, relation="table")
    try:
        exps = ["complaint_contacts", "call_contacts"]
        a, b = TouchpointImpact().fit(frame, exps).summary, TouchpointImpact().fit(rel, exps).summary
        pd.testing.assert_frame_equal(a, b)
        drivers = ["csat", "call_contacts", "complaint_contacts", "plan"]
        ka = KeyDrivers(n_boot=30).fit(frame, drivers).importance_
        kb = KeyDrivers(n_boot=30).fit(rel, drivers).importance_
        pd.testing.assert_frame_equal(ka, kb)
    finally:
        drop_answers_table(data)
    assert not data.sql("SELECT * FROM duckdb_tables() WHERE table_name = '_driver_answers'").fetchall()


def test_an_audience_is_not_adjusted_for_its_own_column(small_tables, case):
    from cxkit.load import load as load_params

    data = load_params(case(fmt="parquet")).subset({"region": "West"})
    eh = ExperienceHazards().fit_data(data)
    assert eh.adjusted_for_ == ["plan"] and "region" not in " ".join(eh.cox_.summary.index)


def _story(shares: dict, n: int = 400, detractors: dict | None = None):
    """A departure story whose leavers complained in the given share per churn reason (``n`` leavers each), half of
    them answered, and of those the given share per reason (40% unless given) were detractors at their last
    answer."""
    story = DepartureStory(period_months=12, window_days=90)
    detractors = detractors or {}
    rows = []
    for r, share in shares.items():
        d = round(detractors.get(r, 0.4) * n / 2)
        rows += [{"reason": r, "complaints": int(i < round(share * n)),
                  "last_band": None if i % 2 else ("detractor" if i // 2 < d else "promoter")} for i in range(n)]
    story.customers_ = pd.DataFrame(rows)
    story.groups_ = story.customers_.assign(contacts=story.customers_["complaints"]).groupby(
        ["reason", "last_band", "contacts", "complaints"], as_index=False, dropna=False).size().rename(
        columns={"size": "leavers"})
    story.measured_ = {"contacts": True, "answers": True}
    story.summary = story._summarise(story.groups_.assign(days_since_answer=1, revenue=0.0, rated=0))
    return story


def test_the_leavers_sentence_names_every_reason_that_reads_the_same():
    """Two reasons at 12% once rounded, each clearly above price: naming one alone would make a reader ask why."""
    from cxkit.narrative import departures_sentence

    tied = departures_sentence(_story({"product": 0.1225, "service": 0.1175, "price": 0.03}))
    assert ("12% of those whose churn reason was product or service had "
            "complained in their last 90 days, against 3% of those whose reason was price.") in tied
    apart = departures_sentence(_story({"product": 0.1225, "service": 0.08, "price": 0.03}))
    assert " or " not in apart and apart.endswith("against 3% of those whose reason was price.")


def test_the_leavers_sentence_names_the_reason_most_often_detractors():
    """The sentence said "48% of the product leavers who had answered were detractors" (product complained most)
    while the table below showed service at 62%: it names the reasons with the largest and smallest detractor
    shares, where they differ beyond chance (planted: service 62%, product 48%, price 12%), and says nothing of
    detractors where the shares are alike."""
    from cxkit.narrative import departures_sentence

    complained = {"product": 0.1225, "service": 0.10, "price": 0.03}
    apart = departures_sentence(_story(complained, detractors={"product": 0.48, "service": 0.62, "price": 0.12}))
    assert apart.endswith("; of the leavers who had answered, 62% of those whose reason was service were detractors "
                          "at their last answer, against 12% of those whose reason was price.")
    alike = departures_sentence(_story(complained, detractors={"product": 0.41, "service": 0.42, "price": 0.40}))
    assert "detractor" not in alike and alike.endswith("of those whose reason was price.")
    story = _story(complained, detractors={"product": 0.48, "service": 0.62, "price": 0.12})
    d = story.difference("service", "price", "last_band_detractor")
    assert d["difference"] == pytest.approx(0.62 - 0.12)  # of the leavers who had answered, not of all leavers


# ------------------------------------------------------------ any score: CSAT and effort as well as NPS
def test_touchpoints_on_csat_read_the_share_satisfied():
    """Another score's measure is the share in its top band (satisfied: 4-5), as its headline reads."""
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"csat": rng.integers(1, 6, 4000), "complaint_contacts": rng.poisson(0.2, 4000)})
    had = frame["complaint_contacts"] > 0
    frame.loc[had, "csat"] = rng.integers(1, 5, had.sum())

    def satisfied(s):
        return 100 * (s >= 4).mean()

    t = TouchpointImpact(score="csat").fit(frame, ["complaint_contacts"]).summary.iloc[0]
    assert t["points_lost"] == pytest.approx(satisfied(frame.loc[~had, "csat"]) - satisfied(frame["csat"]))
    assert t["score_with"] == pytest.approx(satisfied(frame.loc[had, "csat"]))
    assert t["difference"] == pytest.approx(satisfied(frame.loc[had, "csat"]) - satisfied(frame.loc[~had, "csat"]))
    assert "nps_with" not in t.index
    assert (t["upper"] - t["lower"]) / (2 * 1.959964) == pytest.approx(_bootstrap_se(frame, "csat", satisfied),
                                                                       rel=0.15)
    with pytest.raises(CxkitError, match="no column csat"):
        TouchpointImpact(score="csat").fit(frame.rename(columns={"csat": "nps"}), ["complaint_contacts"])
    with pytest.raises(CxkitError, match="score must be"):
        TouchpointImpact(score="ces")


@pytest.mark.filterwarnings("ignore:contact_cost is fixed")
def test_drivers_of_another_score_take_its_answers_and_keep_nps_as_a_driver(small_tables, case):
    from cxkit.load import load as load_params

    data = load_params(case(fmt="parquet"))
    frame = driver_frame(data, score="csat")
    assert {"csat", "low_band"} <= set(frame.columns) and "detractor" not in frame.columns
    assert "nps" in frame.attrs["drivers"] and "csat" not in frame.attrs["drivers"]
    assert (frame["low_band"] == (frame["csat"] <= 2)).all()
    assert frame.attrs["score"] == "csat" and frame.attrs["flag"] == "low_band"
    kd = KeyDrivers(outcome="csat", n_boot=0).fit(frame)
    assert kd.score_ == "csat" and "nps" in set(kd.importance_["driver"])
    assert not {"csat", "low_band"} & set(kd.importance_["driver"])
    low = KeyDrivers(outcome="low_band", n_boot=0).fit(frame)  # the score from the frame's attrs
    assert low.score_ == "csat"
    rel = driver_frame(data, score="csat", relation=True)
    with pytest.raises(CxkitError, match="needs the score"):
        KeyDrivers(outcome="low_band", n_boot=0).fit(rel)
    both = KeyDrivers(outcome="low_band", n_boot=0, score="csat").fit(rel)
    assert both.importance_["weight"].to_numpy() == pytest.approx(low.importance_["weight"].to_numpy())
    with pytest.raises(CxkitError, match="cannot be one of its own drivers"):
        KeyDrivers(outcome="csat", n_boot=0).fit(frame, ["low_band", "nps"])
    with pytest.raises(CxkitError, match="not a measure of the csat score"):
        KeyDrivers(outcome="nps", score="csat")


@pytest.mark.parametrize("planted_effect", [False, True])
def test_a_csat_touchpoint_is_claimed_only_where_complaints_go_with_lower_scores(tmp_path, planted_effect):
    """Planted truth: with each complaint lowering CSAT by half a point, the CSAT touchpoint sentence names
    complaints; with contacts unrelated to the score, complaints' interval covers no difference."""
    from cxkit import narrative

    effects = {"complaint": -0.5} if planted_effect else {}
    params = write(tmp_path, n_customers=20_000, seed=5, contact_csat_effects=effects, **EQUAL_CONTACTS)
    data = load(params)
    frame = driver_frame(data, score="csat")
    kinds = [c for c in frame.columns if c.endswith("_contacts") and c != "repeat_contacts"]
    t = TouchpointImpact(score="csat").fit(frame, kinds)
    complaint = t.summary.set_index("experience").loc["complaint_contacts"]
    sentence = narrative.touchpoint_sentence(t)
    if planted_effect:
        assert complaint["lower"] > 0 and sentence and "complaint" in sentence and "satisfied" in sentence
    else:  # no claim: the interval covers no difference and the sentence says nothing of complaints
        assert complaint["lower"] <= 0 <= complaint["upper"]
        assert not sentence or "complaint" not in sentence, sentence


@pytest.mark.filterwarnings("ignore:contact_cost is fixed")
def test_a_contact_kind_with_accents_keeps_its_letters(small_tables, case):
    """`réclamation` was `r_clamation_contacts`, shown as "r clamation": a kind is named as written."""
    from cxkit.load import load as load_params
    from cxkit.narrative import driver_label

    contacts = small_tables[0]["contacts"].copy()
    contacts["kind"] = contacts["kind"].astype(str).replace({"complaint": "Réclamation"})
    data = load_params(case(fmt="parquet", contacts=contacts))
    frame = driver_frame(data)
    assert "réclamation_contacts" in frame.columns
    assert driver_label("réclamation_contacts").startswith("réclamation")
    kd = KeyDrivers(n_boot=0).fit(driver_frame(data, relation=True))
    assert "réclamation_contacts" in set(kd.importance_["driver"])


def test_blockwise_resample_is_the_multinomial_resample_of_answers():
    """The Poissonized draws in blocks give every replicate n answers, multinomial means and covariances."""
    from cxkit.drivers.resample import resampled_moments

    counts = np.array([1.0, 1.0, 2.0, 3.0, 5.0, 40.0, 70.0, 300.0])  # small counts (tables) and large (Poisson)
    n, p = counts.sum(), counts / counts.sum()
    z = np.eye(len(counts))  # first moments are then the draws themselves
    total, first, cross = resampled_moments(z, counts, 20_000, np.random.default_rng(3), block=3)
    assert (total == n).all() and (first.sum(axis=1) == n).all()
    assert np.allclose(cross[:, range(8), range(8)], first)
    expected = n * (np.diag(p) - np.outer(p, p))
    assert first.mean(axis=0) == pytest.approx(n * p, rel=0.02, abs=0.05)
    assert np.cov(first, rowvar=False) == pytest.approx(expected, rel=0.1, abs=0.15)


def test_blockwise_bootstrap_intervals_agree_with_the_draw_per_replicate(answers, monkeypatch):
    """Above FAST_PATTERNS the bootstrap draws in blocks: same point estimates, intervals within Monte Carlo error."""
    import cxkit.drivers.key_drivers as kd_module

    many = pd.concat([answers] * 4, ignore_index=True)
    many["tenure_months"] += np.arange(len(many)) % 7  # more patterns
    before = KeyDrivers(n_boot=400, seed=2).fit(many, DRIVERS).importance_.set_index("driver")
    monkeypatch.setattr(kd_module, "FAST_PATTERNS", 1)
    after = KeyDrivers(n_boot=400, seed=2).fit(many, DRIVERS).importance_.set_index("driver")
    assert after["weight"].to_numpy() == pytest.approx(before["weight"].to_numpy(), abs=1e-12)
    width = (before["upper"] - before["lower"]).to_numpy()
    for end in ("lower", "upper"):
        assert np.abs(after[end] - before[end]).to_numpy() == pytest.approx(0, abs=0.1 * width.max())
    assert (after["upper"] - after["lower"]).to_numpy() == pytest.approx(width, rel=0.25)


def test_risk_set_counts_give_the_adjusted_fit_on_every_spell(tmp_path):
    """The model allowing for the earlier answer, on risk-set counts, equals it on its spells (20,000 customers)."""
    data = load(write(tmp_path, n_customers=20_000, seed=4))
    counts = ExperienceHazards(direct_max_rows=0).fit_data(data)
    spells = ExperienceHazards(direct_max_rows=10**9).fit_data(data)
    assert counts.prior_score_ == spells.prior_score_ == "nps" and counts.prior_cells_ > 0
    prior = data.sql(counts._spells_sql(data, counts.experiences_, counts.adjusted_for_, "nps")).df()
    assert counts.prior_spells_ == spells.prior_spells_ == len(prior)
    for attr in ("cox_", "unadjusted_cox_"):  # the same risk sets; Newton stops once a step is below 1e-7
        got, want = getattr(counts, attr).summary, getattr(spells, attr).summary
        assert list(got.index) == list(want.index)
        for col in ("coef", "se"):
            assert got[col].to_numpy() == pytest.approx(want[col].to_numpy(), abs=1e-6), (attr, col)


def _edge_tables(seed: int = 5) -> dict:
    """Synthetic tables with the sweep's edge cases planted: several answers on one day, an experience and an
    answer counting from the same day, change points on the signup day and on the last day observed (not
    counted), customers without contacts and customers who never answered (the synthetic data has both)."""
    from cxkit.synth import generate

    tables = {k: v.copy() for k, v in generate(n_customers=1_500, seed=seed)[0].items()}
    c, k, r = tables["customers"], tables["contacts"], tables["responses"]
    end = c["end_date"].fillna(pd.Timestamp("2026-09-30"))
    day = pd.Timedelta(days=1)
    ids = c["customer_id"].to_numpy()
    extra_k = [  # a complaint on the signup day (from day 7; day 0 with lag_days=0) and one 7 days before it
        {"customer_id": ids[0], "date": c["signup_date"].iloc[0], "kind": "complaint", "cost": 1.0},
        {"customer_id": ids[1], "date": c["signup_date"].iloc[1] - 7 * day, "kind": "complaint", "cost": 1.0},
        # counting from the last day observed: no change point
        {"customer_id": ids[2], "date": end.iloc[2] - 7 * day, "kind": "complaint", "cost": 1.0},
        # a complaint and an answer counting from the same day (the answer 90 days before the complaint)
        {"customer_id": ids[3], "date": c["signup_date"].iloc[3] + 120 * day, "kind": "complaint", "cost": 1.0},
        {"customer_id": ids[3], "date": c["signup_date"].iloc[3] + 121 * day, "kind": "call", "cost": 1.0}]
    # leavers with a complaint on the edges of the window on the day they left: lag_days before (not counted)
    # and lag_days + window_days before (counted)
    left = c.index[c["end_date"].notna() & (c["end_date"] - c["signup_date"] > 200 * day)][-2:]
    extra_k += [{"customer_id": ids[i], "date": c["end_date"].iloc[i] - gap * day, "kind": "complaint", "cost": 1.0}
                for i, gap in zip(left, (7, 97), strict=True)]
    # three answers on one day (dates without a time: which counts is not defined, so one band: detractor)
    extra_r = [{"customer_id": ids[4], "response_date": c["signup_date"].iloc[4] + 30 * day, "nps": s,
                "csat": 3, "effort": pd.NA} for s in (0, 6, 3)]
    extra_r += [{"customer_id": ids[3], "response_date": c["signup_date"].iloc[3] + 30 * day, "nps": 3,
                 "csat": 3, "effort": pd.NA}]
    tables["contacts"] = pd.concat([k, pd.DataFrame(extra_k).astype({"kind": k["kind"].dtype})], ignore_index=True)
    tables["responses"] = pd.concat([r, pd.DataFrame(extra_r).astype(r.dtypes.to_dict())], ignore_index=True)
    return tables


@pytest.mark.parametrize("variant", ["edges", "one_region", "no_complaints", "text_ids_unsorted", "lag_0",
                                     "no_revenue_table"])
def test_sweep_moves_equal_the_sql_moves_and_give_the_same_fit(tmp_path, monkeypatch, variant):
    """The compiled per-customer sweep (local engines) gives exactly the rows of ``moves_sql`` (which a warehouse
    runs), so the hazard ratios are unchanged; checked on planted edge cases and with chunks."""
    from .conftest import write_case

    tables = _edge_tables()
    settings = {"direct_max_rows": 0}
    if variant == "one_region":  # an audience of one region: the region is left out of the model
        tables["customers"]["region"] = "North"
    elif variant == "no_complaints":
        tables["contacts"]["kind"] = tables["contacts"]["kind"].astype(str).replace("complaint", "call")
    elif variant == "text_ids_unsorted":  # ids ranked by their text, and tables not stored in id order
        for name in ("customers", "contacts", "responses", "revenue"):
            t = tables[name].sample(frac=1, random_state=1)
            tables[name] = t.assign(customer_id="c" + t["customer_id"].astype(str))
        settings["chunk_customers"] = 400
    elif variant == "lag_0":
        settings.update(lag_days=0, window_days=30)
    elif variant == "no_revenue_table":  # the rate is monthly_revenue, read by the sweep with the customers
        del tables["revenue"]
        tables["customers"].loc[tables["customers"].index[::7], "monthly_revenue"] = np.nan  # unknown for some
    data = load(write_case(tmp_path / variant, tables, "parquet"))
    seen, real = [], ExperienceHazards._moves

    def both(self, data, experiences, adjust, prior, codes, only=None, since=None, sort=True):
        got, left = real(self, data, experiences, adjust, prior, codes, only, since=since, sort=sort)
        assert left is not None  # the sweep counted the period's leavers
        # and read their revenue with the customers when it is their monthly_revenue (no revenue table)
        assert (left[2] is not None) == (variant == "no_revenue_table")
        seen.append((got.copy(), data.sql(self._moves_sql(data, experiences, adjust, prior, codes, only)).df()))
        return got, left

    monkeypatch.setattr(ExperienceHazards, "_moves", both)
    swept = ExperienceHazards(**settings).fit_data(data)
    assert len(seen) == len(swept._chunks(data)) == (4 if variant == "text_ids_unsorted" else 1)
    for got, want in seen:
        assert list(got.columns) == list(want.columns)
        key = list(got.columns[:-3])
        got, want = (m.sort_values(key).reset_index(drop=True) for m in (got, want))
        pd.testing.assert_frame_equal(got, want)
    # every leaver since long ago too (the period's alone are few here), by the sweep and by _leavers_sql
    ever = ExperienceHazards(**settings, period_months=1200).fit_data(data)
    monkeypatch.setattr(ExperienceHazards, "_moves",
                        lambda self, data, *a, only=None, since=None, sort=True: (
                            data.sql(self._moves_sql(data, *a, only=only)).df(), None))
    sql = ExperienceHazards(**settings).fit_data(data)
    sql_ever = ExperienceHazards(**settings, period_months=1200).fit_data(data)
    for got, want in ((swept, sql), (ever, sql_ever)):
        assert got.revenue_at_risk_["leavers_with"].sum() > 0
        pd.testing.assert_frame_equal(got.revenue_at_risk_, want.revenue_at_risk_, check_exact=False, rtol=1e-12)
    assert (swept.spells_, swept.prior_spells_, swept.risk_cells_) == (sql.spells_, sql.prior_spells_,
                                                                       sql.risk_cells_)
    assert swept.experiences_ == sql.experiences_ == (["repeat_contacts"] if variant == "no_complaints"
                                                      else ["complaints", "repeat_contacts"])
    assert swept.adjusted_for_ == (["plan"] if variant == "one_region" else ["plan", "region"])
    for model in ("unadjusted_cox_", "cox_"):
        got, want = getattr(swept, model).summary, getattr(sql, model).summary
        assert got["coef"].to_numpy() == pytest.approx(want["coef"].to_numpy(), abs=1e-12)
    pd.testing.assert_frame_equal(swept.summary, sql.summary)


def test_patterns_summed_a_block_at_a_time_give_the_same_drivers(tmp_path, monkeypatch):
    """The design's sums and its rank are taken a block of patterns at a time (memory that does not grow with
    the patterns): blocks of 7 patterns give the fit of one block, the dependent contact cost left out alike."""
    import warnings

    import cxkit.drivers.design as design

    frame = driver_frame(load(write(tmp_path, n_customers=3_000, seed=8)), relation=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = KeyDrivers(n_boot=50, seed=3).fit(frame)
        monkeypatch.setattr(design, "BLOCK_ROWS", 7)
        blocks = KeyDrivers(n_boot=50, seed=3).fit(frame)
    assert whole.patterns_ > 7 * 20
    assert any(n.startswith("contact_cost left out: it is fixed") for n in whole.notes_)
    assert blocks.notes_ == whole.notes_
    got, want = blocks.importance_.set_index("driver"), whole.importance_.set_index("driver")
    assert list(got.index) == list(want.index)
    for col in ("weight", "lower", "upper"):
        assert got[col].to_numpy() == pytest.approx(want[col].to_numpy(), abs=1e-12), col
    assert blocks.coefficients_["coef"].to_numpy() == pytest.approx(whole.coefficients_["coef"].to_numpy(),
                                                                    abs=1e-12)


def test_a_driver_left_out_takes_its_own_columns_out():
    """Patterns.without moves the kept columns left in place: the middle driver's two dummies go, the rest stay."""
    from cxkit.drivers.design import Patterns

    z = np.arange(15.0).reshape(3, 5)  # y, a, plan[B], plan[C], c
    pat = Patterns(z.copy(), np.ones(3), ["a", "plan", "c"], [[0], [1, 2], [3]], ["a", "plan[B]", "plan[C]", "c"],
                   {"plan": "A"})
    kept = pat.without(1)
    assert kept.x.tolist() == z[:, [1, 4]].tolist() and kept.y.tolist() == z[:, 0].tolist()
    assert kept.groups == [[0], [1]] and kept.columns == ["a", "c"] and kept.reference == {}


@pytest.mark.parametrize("with_prior", [False, True])
def test_risk_sets_count_each_event_days_risk_set_per_pattern(with_prior):
    """risk_sets against its definition, counted naively: on each day with a departure, a pattern's customers at
    risk are its entries on earlier days less its exits on earlier days; patterns sorted with a missing plan last."""
    from cxkit.drivers.risk_sets import PRIOR_BAND, risk_sets

    rng = np.random.default_rng(5)
    n = 400
    moves = pd.DataFrame({"complaints": rng.integers(0, 3, n), "plan": rng.choice(["Pro", "Basic", None], n),
                          PRIOR_BAND: rng.choice(["detractor", "promoter", None], n),
                          "day": rng.integers(0, 60, n).astype(float), "enter": rng.integers(0, 4, n),
                          "leave": rng.integers(0, 3, n), "events": rng.integers(0, 2, n) * (rng.random(n) < 0.2)})
    moves.loc[moves["day"] == 7, "events"] = 0  # a day without departures is no event day
    counted = pd.DataFrame({"day": [np.nan], "enter": [123], "leave": [45], "events": [np.nan]})
    moves = pd.concat([moves, counted], ignore_index=True)
    covariates = ["complaints", "plan", *([PRIOR_BAND] if with_prior else [])]
    patterns, at_risk, events, days, spells = risk_sets(moves.copy(), covariates, with_prior)

    rows = moves[moves["day"].notna() & (moves[PRIOR_BAND].notna() if with_prior else True)]
    want_days = sorted(d for d, e in rows.groupby("day")["events"].sum().items() if e > 0)
    assert days.tolist() == want_days and 7.0 not in want_days and spells == (45 if with_prior else 123)

    def name(values):  # a pattern's sort key: each value in order, a missing one after every other
        return tuple((1, "") if v is None or v != v else (0, v) for v in values)

    key = [name(r) for r in rows[covariates].itertuples(index=False)]
    want = {}
    for k in sorted(set(key)):
        mine = rows[[x == k for x in key]]
        risk = [mine.loc[mine["day"] < d, "enter"].sum() - mine.loc[mine["day"] < d, "leave"].sum() for d in want_days]
        if sum(risk) > 0:  # a pattern nobody is at risk in on an event day is left out
            want[k] = (risk, [mine.loc[mine["day"] == d, "events"].sum() for d in want_days])
    got = [name(r) for r in patterns[covariates].itertuples(index=False)]
    assert got == list(want)  # in the covariates' order, a missing plan last
    assert any(k[1] == (1, "") for k in got)
    for j, k in enumerate(got):
        assert at_risk[:, j].tolist() == want[k][0] and events[:, j].tolist() == want[k][1], k
    # written as level numbers (as the warehouse and the sweep write them), levels not in text order: the same
    codes = {"plan": ["Pro", "Basic"], PRIOR_BAND: ["promoter", "detractor"]}
    numbered = moves.copy()
    for col, levels in codes.items():
        numbered[col] = numbered[col].map({v: i for i, v in enumerate(levels, start=1)})
    again = risk_sets(numbered, covariates, with_prior, codes)
    pd.testing.assert_frame_equal(again[0].astype(str), patterns.astype(str))
    for a, b in zip(again[1:], (at_risk, events, days, spells), strict=True):
        assert np.array_equal(a, b)



def test_contact_kinds_are_read_once_per_data(small_tables, case, monkeypatch):
    """The driver frame, the experience hazards and the departures' story all need the contact kinds: one scan of
    the contacts per data object gives them (in text order), not one per step."""
    from cxkit.drivers.frame import contact_kind_columns, contact_kinds
    from cxkit.load import CXData
    from cxkit.load import load as load_params

    data = load_params(case(fmt="parquet"))
    queries, real = [], CXData.sql
    monkeypatch.setattr(CXData, "sql", lambda self, query: queries.append(query) or real(self, query))
    first = contact_kinds(data)
    assert first == sorted(small_tables[0]["contacts"]["kind"].astype(str).unique())
    assert contact_kinds(data) == first and list(contact_kind_columns(data)) == first
    ExperienceHazards().fit_data(data)
    DepartureStory().fit_data(data)
    assert sum("DISTINCT CAST(kind AS VARCHAR)" in q for q in queries) == 1


def test_an_adjusted_model_the_data_cannot_pin_down_is_set_aside_without_touching_warnings_filters(tmp_path):
    """100 customers (seed 3): the model that allows for the earlier answer separates (a plan with no departure
    after an answer), so it is not used ("too_few") and the unadjusted model stands. Found from the fit's own
    record (``quiet``), not by turning warnings into errors: the filters are the process's, and the report fits
    this in a second thread."""
    import warnings

    from cxkit.synth import generate

    from .conftest import write_case

    tables, _ = generate(n_customers=100, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = load(write_case(tmp_path, tables, "parquet"))
        before = warnings.filters
        eh = ExperienceHazards().fit_data(data)
        assert warnings.filters is before
    assert eh.prior_missing_ == "too_few" and eh.prior_score_ is None and eh.cox_ is eh.unadjusted_cox_


def test_driver_frame_refuses_a_relation_it_does_not_know(small_tables, case):
    """A misspelt ``relation="pattern"`` used to give the answer-level relation without a word."""
    data = load(case(fmt="parquet"))
    with pytest.raises(CxkitError, match="'table' or 'patterns', not 'pattern'"):
        driver_frame(data, relation="pattern")
    assert driver_frame(data, relation=0).shape[0] > 0  # False by another name: the DataFrame, as before
