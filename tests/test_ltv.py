"""Lifetime value: published sBG estimates, DERL, truth recovery, coverage, value at stake, Telco."""

from __future__ import annotations

import json
import warnings

import matplotlib
import numpy as np
import pytest

from cxkit.errors import CxkitWarning
from cxkit.frames import ltv_frame
from cxkit.load import load
from cxkit.ltv import DiscreteWeibull, SegmentLTV, ShiftedBetaGeometric, discrete_counts
from cxkit.narrative import ltv_gap_sentence, money, value_at_stake_sentence
from cxkit.synth import write

matplotlib.use("Agg")
BANDS = ("detractor", "passive", "promoter")


@pytest.mark.parametrize("alive, alpha, beta", [
    ([1000, 631, 468, 382, 326, 289, 262, 241], 0.704, 1.182),   # Fader & Hardie (2007), Table 1, regular
    ([1000, 869, 743, 653, 593, 551, 517, 491], 0.668, 3.806),   # high end
])
def test_sbg_reproduces_published_estimates(alive, alpha, beta):
    m = ShiftedBetaGeometric().fit(alive)
    assert round(m.alpha_, 3) == alpha and round(m.beta_, 3) == beta


def test_sbg_retention_and_survival_identities():
    m = ShiftedBetaGeometric().fit([1000, 631, 468, 382, 326, 289, 262, 241])
    a, b = m.alpha_, m.beta_
    t = np.arange(1, 10)
    np.testing.assert_allclose(m.retention(t), (b + t - 1) / (a + b + t - 1), rtol=1e-12)
    np.testing.assert_allclose(m.survival(t), np.cumprod(m.retention(t)), rtol=1e-12)


def test_derl_matches_paper_and_direct_sum():
    m = ShiftedBetaGeometric().fit([1000, 869, 743, 653, 593, 551, 517, 491])
    assert round(m.derl(discount_rate=0.10, renewals=7), 3) == 7.530
    n, d = 8, 0.10
    t = np.arange(n, 3000)
    direct = np.sum(m.survival(t) / m.survival(n - 1) / (1 + d) ** (t - n))
    assert m.derl(d, renewals=7) == pytest.approx(direct, rel=1e-10)


def test_weibull_recovers_its_parameters():
    rng = np.random.default_rng(4)
    t = 30 * rng.weibull(0.7, 50_000)
    censor = rng.uniform(0, 60, t.size)
    lost, cens = discrete_counts(np.minimum(t, censor), t <= censor)
    m = DiscreteWeibull().fit_counts(lost, cens)
    assert m.shape_ == pytest.approx(0.7, rel=0.03) and m.scale_ == pytest.approx(30, rel=0.03)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ltv")
    params = write(folder, n_customers=60_000, seed=8)
    truth = json.loads((folder / "truth.json").read_text())["ltv"]
    frame = ltv_frame(load(params))
    return SegmentLTV(horizon=60, discount_rate=0.10, n_boot=150, seed=0).fit(frame), truth


def test_truth_json_matches_the_defaults(fitted):
    ltv, truth = fitted
    assert truth["horizon_months"] == ltv.horizon and truth["discount_rate"] == ltv.discount_rate


def test_ltv_ordering_and_truth_within_interval(fitted):
    ltv, truth = fitted
    s = ltv.summary.set_index("segment")
    assert s.loc["detractor", "ltv"] < s.loc["passive", "ltv"] < s.loc["promoter", "ltv"]
    for band in BANDS:
        assert s.loc[band, "lower"] <= truth["by_band"][band] <= s.loc[band, "upper"], band
    true_gap = truth["by_band"]["promoter"] - truth["by_band"]["detractor"]
    g = ltv.gap("promoter", "detractor")
    assert g["lower"] <= true_gap <= g["upper"]
    assert (s["extrapolated_share"] > 0).all() and (s["extrapolated_share"] < 0.5).all()
    assert set(s["tail_model"]) <= {"shifted-beta-geometric", "Weibull"}


def test_components_recover_truth(fitted):
    ltv, truth = fitted
    c = ltv.components_.set_index("segment")
    for band in BANDS:
        assert c.loc[band, "cost_to_serve_per_month"] == pytest.approx(truth["cost_to_serve_per_month"][band],
                                                                       rel=0.08)
    assert c.loc["promoter", "referrals_per_year"] > c.loc["detractor", "referrals_per_year"]


def test_gap_parts_add_up(fitted):
    ltv, _ = fitted
    parts = ltv.gap_parts("promoter", "detractor").set_index("part")["value"]
    assert parts.drop("total").sum() == pytest.approx(parts["total"])
    assert parts["total"] == pytest.approx(ltv.gap("promoter", "detractor")["estimate"])


def test_value_at_stake(fitted):
    ltv, _ = fitted
    base = {"detractor": 10_000, "passive": 20_000, "promoter": 30_000}
    v = ltv.value_at_stake({"detractor": "passive"}, share=0.10, base_counts=base)
    per = ltv.gap("passive", "detractor")
    assert v["customers_moved"] == pytest.approx(1000)
    assert v["estimate"] == pytest.approx(1000 * per["estimate"])
    assert v["lower"] == pytest.approx(1000 * per["lower"]) and v["upper"] == pytest.approx(1000 * per["upper"])
    double = ltv.value_at_stake({"detractor": "passive"}, share=0.20, base_counts=base)
    assert double["estimate"] == pytest.approx(2 * v["estimate"])


def test_same_seed_same_interval(fitted):
    ltv, _ = fitted
    frame_ltv = SegmentLTV(n_boot=20, seed=5)
    a = frame_ltv.fit(_small_frame()).summary
    b = SegmentLTV(n_boot=20, seed=5).fit(_small_frame()).summary
    assert a.equals(b)


def _small_frame():
    import pandas as pd

    rng = np.random.default_rng(0)
    n = 600
    seg = rng.choice(["a", "b"], n)
    d = rng.exponential(np.where(seg == "a", 20, 40))
    c = rng.uniform(0, 30, n)
    return pd.DataFrame({"duration": np.minimum(d, c), "event": (d <= c).astype(int), "segment": seg,
                         "revenue": 50.0, "billed_months": 1.0, "cost": 0.0, "exposure_months": 1.0})


def test_sentences_are_built_from_results(fitted):
    ltv, _ = fitted
    g = ltv.gap("promoter", "detractor")
    text = ltv_gap_sentence(ltv, "promoter", "detractor")
    assert text.startswith("Promoters stay on average")
    assert money(g["estimate"]) in text and money(g["lower"]) in text and money(g["upper"]) in text
    v = ltv.value_at_stake({"detractor": "passive"}, 0.1)
    text = value_at_stake_sentence(ltv, {"detractor": "passive"}, 0.1)
    assert f"{v['customers_moved']:,.0f} customers" in text and money(v["estimate"]) in text


def test_coverage_study():
    """Seeded study: the 95% interval covers the true per-band LTV at about the nominal rate."""
    import tempfile

    covered = []
    with tempfile.TemporaryDirectory() as folder:
        for rep in range(16):
            params = write(f"{folder}/{rep}", n_customers=5000, seed=1000 + rep)
            truth = json.loads((params.parent / "truth.json").read_text())["ltv"]["by_band"]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", CxkitWarning)
                s = SegmentLTV(n_boot=60, seed=rep).fit(ltv_frame(load(params))).summary.set_index("segment")
            covered += [s.loc[b, "lower"] <= truth[b] <= s.loc[b, "upper"] for b in BANDS]
    rate = np.mean(covered)
    assert 0.85 <= rate <= 1.0, f"coverage {rate:.2f} over {len(covered)} intervals"


def test_telco_ltv_per_satisfaction_band(telco_path):
    from tests.conftest import ROOT

    frame = ltv_frame(load(ROOT / "params" / "telco.yaml"))
    ltv = SegmentLTV(n_boot=50).fit(frame)
    s = ltv.summary.set_index("segment")
    assert list(s.index) == ["dissatisfied", "neutral", "satisfied"]
    assert s.loc["dissatisfied", "ltv"] < s.loc["neutral", "ltv"] < s.loc["satisfied", "ltv"]
    assert np.isfinite(s[["ltv", "lower", "upper"]].to_numpy()).all()
    assert s.loc["satisfied", "tail_model"] == "none (no churn observed)"  # satisfied customers never churned
    assert s.loc["satisfied", "expected_lifetime_months"] == pytest.approx(60)
    assert s["identified"].all()  # 72 months of tenure cover the 5-year horizon: nothing is extrapolated
    assert (s["ltv_extrapolated"].abs() < 1e-9).all()


def test_ltv_plots(fitted):
    import matplotlib.pyplot as plt

    from cxkit import plots

    ltv, _ = fitted
    assert plots.plot_ltv(ltv).get_title(loc="left").startswith("Lifetime value")
    assert len(plots.plot_ltv_gap(ltv).patches) == 4
    ax = plots.plot_value_at_stake(ltv, {"10% of detractors to passive": ({"detractor": "passive"}, 0.1)})
    assert ax.get_yticklabels()[0].get_text() == "10% of detractors to passive"
    assert plots.plot_ltv_curves(ltv).get_xlim()[1] == ltv.horizon
    plt.close("all")


def test_cell_bootstrap_matches_customer_bootstrap(fitted):
    """Cells of alike customers give the customer-level point estimates and nearly the same intervals."""
    ltv, _ = fitted
    frame = ltv_frame_for(ltv)
    cells = SegmentLTV(n_boot=150, seed=0, cells_above=1000).fit(frame).summary.set_index("segment")
    rows = ltv.summary.set_index("segment")
    np.testing.assert_allclose(cells["ltv"], rows["ltv"], rtol=1e-6)
    width = rows["upper"] - rows["lower"]
    assert ((cells["upper"] - cells["lower"]) / width).between(0.75, 1.33).all()
    assert ((cells["lower"] + cells["upper"]) / 2 - (rows["lower"] + rows["upper"]) / 2).abs().lt(0.25 * width).all()


def ltv_frame_for(ltv):
    """The frame a fitted SegmentLTV was built from, rebuilt from its segments' customer rows."""
    import pandas as pd

    parts = []
    for s, part in ltv._segments.items():
        v = part.values
        parts.append(pd.DataFrame({"duration": part.d, "event": part.e, "segment": s, "revenue": v["revenue"],
                                   "billed_months": v["billed"], "cost": v["cost"], "exposure_months": v["exposure"],
                                   "contacts": v["contacts"], "retention_cost": v["retention_cost"],
                                   "referrals": v["referrals"], "tenure_months": v["tenure"]}))
    frame = pd.concat(parts, ignore_index=True)
    frame["segment"] = pd.Categorical(frame["segment"], categories=ltv.segments_)
    return frame


def test_period_counts_equal_discrete_counts(fitted):
    ltv, _ = fitted
    for part in ltv._segments.values():
        w = np.random.default_rng(0).poisson(1.0, part.d.size).astype(float)
        for mine, reference in zip(part.period_counts(w), discrete_counts(part.d, part.e, w), strict=True):
            np.testing.assert_array_equal(mine, reference)


def test_replicates_evaluated_together_equal_one_by_one(fitted):
    """The bootstrap evaluates a block of replicates at once; each equals its own evaluation to rounding."""
    from cxkit.ltv.segment_ltv import DiscreteWeibull as Weibull

    ltv, _ = fitted
    rng = np.random.default_rng(3)
    for name, part in ltv._segments.items():
        tail, revenue_tail = ltv._tails[name]
        kind = "weibull" if isinstance(tail, Weibull) else "sbg"
        w = np.array([part.resample(rng) for _ in range(12)])
        w[0] = 0.0 * w[0] + (part.count > 0)  # one replicate that is the data itself
        tails = part.tail_models(kind, w * part.count, tail.params_)
        revenue_tails = part.tail_models(kind, w * part.rev_rate, revenue_tail.params_)
        ltv_many, life_many = part.evaluate_many(w, tails, revenue_tails)
        one = [part.evaluate(w[b], tails[b], revenue_tails[b]) for b in range(len(w))]
        np.testing.assert_allclose(ltv_many, [o["ltv"] for o in one], rtol=1e-13)
        np.testing.assert_allclose(life_many, [o["expected_lifetime_months"] for o in one], rtol=1e-13)


def _durations(kind: str, n: int = 200_000):
    rng = np.random.default_rng(11)
    if kind == "geometric":  # constant churn: the sBG runs to its bound, a flat ridge
        t = rng.geometric(0.02, n) - rng.uniform(0, 1, n)
    elif kind == "heterogeneous":
        t = rng.geometric(rng.beta(0.8, 6.0, n)) - rng.uniform(0, 1, n)
    else:
        t = 30 * rng.weibull(0.8, n)
    censor = rng.uniform(0, 48, n)
    return np.minimum(t, censor), t <= censor


@pytest.mark.parametrize("model", [ShiftedBetaGeometric, DiscreteWeibull])
@pytest.mark.parametrize("kind", ["geometric", "heterogeneous", "weibull"])
def test_refit_from_the_full_fit_finds_the_replicate_optimum(model, kind):
    """A bootstrap replicate's quick refit reaches the same optimum as a fit from scratch."""
    d, e = _durations(kind)
    full = model().fit_counts(*discrete_counts(d, e))
    for seed in range(3):
        w = np.random.default_rng(seed).poisson(1.0, d.size).astype(float)
        lost, cens = discrete_counts(d, e, w)
        quick = model().refit(lost, cens, start=full.params_)
        scratch = model().fit_counts(lost, cens, start=full.params_)
        assert quick.log_likelihood_ >= scratch.log_likelihood_ - 1e-9 * abs(scratch.log_likelihood_)
        # On the sBG's flat ridge the two optima differ by less than the log-likelihood's rounding noise;
        # their curves by under 1e-5, against a sampling standard error of S(t) near 1e-3 at this size.
        months = np.arange(1, 121)
        np.testing.assert_allclose(quick.survival(months), scratch.survival(months), rtol=0, atol=2e-5)


def test_cell_edges_from_a_few_order_statistics_are_numpy_s_quantiles():
    """The revenue-rate bin edges read from the 2 x 19 order statistics numpy's quantiles interpolate (what a
    warehouse ranks and sends back) are numpy's edges to the last bit: ties, tiny and odd samples included."""
    from cxkit.ltv.segment_ltv import _edges, _edges_from_ranks

    rng = np.random.default_rng(4)
    samples = [np.array([3.0]), np.array([2.0, 1.0]), np.zeros(50), rng.choice([0.0, 19.99, 29.99, 49.99], 777)]
    for n in rng.integers(3, 4000, 200):
        rate = rng.gamma(2.0, 30.0, n) / rng.integers(1, 40, n)
        samples += [rate, np.round(rate)]
    for rate in samples:
        ordered = np.sort(rate)
        asked = []
        edges = _edges_from_ranks(rate.size, lambda ranks, o=ordered, a=asked: a.append(len(ranks)) or o[ranks])
        assert edges.tobytes() == _edges(rate).tobytes()
        assert len(asked) == 1 and asked[0] <= 2 * 19  # one look-up: a warehouse ranks the sample once


def test_relation_in_duckdb_gives_the_frame_numbers(tmp_path):
    """Fitting on the relation (summed in DuckDB) gives the pandas frame's estimates and, from the same
    customers or cells, the same bootstrap draws."""
    data = load(write(tmp_path, n_customers=20_000, seed=5))
    frame, rel = ltv_frame(data), ltv_frame(data, relation=True)
    sizes = frame["segment"].value_counts()
    # customer rows, then cells (every large segment's in two queries), then both (cells for the largest only)
    for cells_above in (50_000, 2_000, int(sizes.max()) - 1):
        a = SegmentLTV(n_boot=40, seed=1, cells_above=cells_above).fit(frame)
        b = SegmentLTV(n_boot=40, seed=1, cells_above=cells_above).fit(rel)
        np.testing.assert_allclose(b.summary["ltv"], a.summary["ltv"], rtol=1e-10)
        np.testing.assert_allclose(b.summary[["lower", "upper"]], a.summary[["lower", "upper"]], rtol=1e-9)
        np.testing.assert_allclose(b.components_.drop(columns="segment"), a.components_.drop(columns="segment"),
                                   rtol=1e-10)
    assert list(b.summary["segment"]) == list(BANDS)


def test_sbg_at_its_geometric_limit_settles_by_newton(monkeypatch):
    """Customers all alike: the sBG's polarisation reaches 0 (a geometric), and every bootstrap replicate
    settles by Newton steps from the full fit, never by the slow Nelder-Mead fallback (issue 13, item 8)."""
    rng = np.random.default_rng(3)
    n = 4000
    t = rng.geometric(0.04, n) - rng.uniform(0, 1, n)
    censor = rng.uniform(0, 48, n)
    d, e = np.minimum(t, censor), t <= censor
    full = ShiftedBetaGeometric().fit_counts(*discrete_counts(d, e))
    assert full.polarisation_ < 0.01 and full.mean_churn_ == pytest.approx(0.04, rel=0.1)
    fallbacks = []
    original = ShiftedBetaGeometric.fit_counts
    monkeypatch.setattr(ShiftedBetaGeometric, "fit_counts",
                        lambda self, *a, **k: fallbacks.append(1) or original(self, *a, **k))
    for seed in range(40):
        w = np.random.default_rng(seed).poisson(1.0, n).astype(float)
        ShiftedBetaGeometric().refit(*discrete_counts(d, e, w), start=full.params_)
    assert len(fallbacks) <= 2, f"{len(fallbacks)} of 40 replicates fell back to the slow fit"


def test_sbg_geometric_model_is_exact_at_zero_polarisation():
    m = ShiftedBetaGeometric()
    m.params_, m._q = np.array([0.05, 0.0]), m._to_q([0.05, 0.0])
    t = np.arange(0, 30)
    np.testing.assert_allclose(m.survival(t), 0.95 ** t, rtol=1e-12)
    assert m.alpha_ == np.inf and m.derl(0.10, 3) == pytest.approx(0.95 / (1 - 0.95 / 1.10))


@pytest.mark.parametrize("model", ["sbg", "weibull"])
def test_bootstrap_tails_refitted_together_reach_each_replicate_s_own_optimum(model):
    """refit_many (every replicate in arrays, projected at the bounds) against one refit per replicate: the
    same optimum to the fit's tolerance, and no replicate left to the slow path, also at the geometric limit."""
    from cxkit.ltv.sbg import PeriodIndex, ShiftedBetaGeometric
    from cxkit.ltv.weibull import DiscreteWeibull

    kind = {"sbg": ShiftedBetaGeometric, "weibull": DiscreteWeibull}[model]
    rng = np.random.default_rng(3)
    n = 3000
    d = np.minimum(rng.weibull(0.7, n) * 20, 40)
    e = (d < 40).astype(float)
    d = np.where(e == 0, rng.uniform(0, 40, n), d)
    periods = PeriodIndex(d, e)
    full = kind().fit_counts(*periods.counts())
    counts = [periods.counts(w) for w in rng.poisson(1.0, (120, n)).astype(float)]
    lost, cens = np.array([c[0] for c in counts]), np.array([c[1] for c in counts])
    alone = [kind().refit(a, b, full.params_) for a, b in zip(lost, cens, strict=True)]
    calls = []
    original = kind.refit
    kind.refit = lambda self, *a, **k: calls.append(1) or original(self, *a, **k)
    try:
        together = kind().refit_many(lost, cens, full.params_)
    finally:
        kind.refit = original
    assert not calls, f"{len(calls)} replicates fell back to the one-by-one fit"
    months = np.arange(120)
    for a, b in zip(alone, together, strict=True):
        assert b.log_likelihood_ >= a.log_likelihood_ - 1e-10 * abs(a.log_likelihood_) * 100
        assert np.max(np.abs(a.survival(months) - b.survival(months))) < 1e-4
    if model == "sbg":
        assert min(m.polarisation_ for m in together) < 1e-6  # some replicates sit at the geometric limit


def test_bootstrap_intervals_do_not_depend_on_how_replicates_are_fitted(tmp_path):
    """The same draws (seed) fitted together or one by one give the same lifetime values and intervals."""
    from cxkit.ltv import sbg

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CxkitWarning)
        data = load(write(tmp_path, n_customers=4000, seed=5)).subset({"region": "West"})
    fast = SegmentLTV(n_boot=60).fit(ltv_frame(data)).summary
    original = sbg._DiscreteModel.refit_many
    sbg._DiscreteModel.refit_many = lambda self, lost, cens, start: [type(self)().refit(a, b, start)
                                                                      for a, b in zip(lost, cens, strict=True)]
    try:
        slow = SegmentLTV(n_boot=60).fit(ltv_frame(data)).summary
    finally:
        sbg._DiscreteModel.refit_many = original
    for col in ("ltv", "lower", "upper"):
        assert np.allclose(fast[col], slow[col], rtol=1e-5), col


# ------------------------------------------------------------------ issue 26.3: only what the data identifies
def _world(folder, **overrides):
    """A synthetic world (20,000 customers, seed 1) fitted as the leadership report fits it, with its truth."""
    from cxkit.leadership import LeadershipAnalysis

    params = write(folder, n_customers=20_000, seed=1, **overrides)
    truth = json.loads((params.parent / "truth.json").read_text())["ltv"]["by_band"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CxkitWarning)
        return LeadershipAnalysis(n_boot=100, seed=0).fit(load(params)), truth


@pytest.fixture(scope="module")
def loyal_promoters(tmp_path_factory):
    """No promoter leaves within the data (their hazard is a millionth of the passives')."""
    from cxkit.synth import DEFAULTS

    bands = {"detractor": 2.0, "passive": 1.0, "promoter": 1e-6}
    return _world(tmp_path_factory.mktemp("loyal"), hazard_ratios={**DEFAULTS["hazard_ratios"], "band": bands})


def test_the_report_values_the_base_value_base_gives(loyal_promoters):
    """The leadership report scales its answered active customers to the whole base once (no second count)."""
    from cxkit.frames import value_base

    a, _ = loyal_promoters
    assert a.base_counts_ == value_base(a.data_, a.score_) == a.ltv_.base_counts_
    assert sum(a.base_counts_.values()) == pytest.approx(a.active_customers_)


def test_a_band_nobody_left_is_split_into_the_observed_part_and_an_assumed_range(loyal_promoters):
    a, truth = loyal_promoters
    s = a.ltv_.summary.set_index("segment")
    assert not s.loc["promoter", "identified"] and s.loc["promoter", "unidentified_reason"] == "no_churn"
    assert s.loc[["detractor", "passive"], "identified"].all()
    assert s.loc["promoter", "ltv_observed"] + s.loc["promoter", "ltv_extrapolated"] == pytest.approx(
        s.loc["promoter", "ltv"])
    assert s.loc["promoter", "tail_low"] < s.loc["promoter", "ltv_extrapolated"] <= s.loc["promoter", "tail_high"]
    assert s.loc["promoter", "tail_low_assumption"] == "like:detractor"  # the fastest leaving seen elsewhere
    assert s.loc["promoter", "lower"] <= truth["promoter"] <= s.loc["promoter", "upper"]
    g = a.ltv_.gap("promoter", "detractor")
    true_gap = truth["promoter"] - truth["detractor"]
    assert not g["identified"] and g["unidentified"] == ["promoter"]
    assert g["lower"] <= true_gap <= g["upper"]
    # the bootstrap under "nobody ever leaves" is tight; the range is what the data can say
    assert g["upper"] - g["lower"] > 2.5 * (g["model_upper"] - g["model_lower"])
    assert g["observed_lower"] < g["observed_estimate"] < g["observed_upper"]


def test_the_report_flags_the_assumed_tail_and_gives_no_tight_interval_for_it(loyal_promoters):
    from cxkit.narrative import summary_parts
    from tests.report_truth import check_summary

    a, truth = loyal_promoters
    g = a.ltv_.gap("promoter", "detractor")
    text = summary_parts(a)["ltv"]
    assert "No promoter has left yet" in text and "assumption" in text
    assert f"between {money(g['lower'])} and {money(g['upper'])} more" in text
    assert text.count("CI") == 1  # the one interval is the part inside the data
    assert f"(95% CI {money(g['observed_lower'])} to {money(g['observed_upper'])})" in text
    assert money(g["model_lower"]) not in text and f"first {g['observed_months']} months" in text
    assert check_summary(a) == []
    v = a.ltv_.value_at_stake({"passive": "promoter"}, 0.10)
    base = a.ltv_.base_counts_["passive"] * 0.10
    assert v["lower"] <= base * (truth["promoter"] - truth["passive"]) <= v["upper"] and not v["identified"]
    stake = value_at_stake_sentence(a.ltv_, {"passive": "promoter"}, 0.10)
    assert stake.startswith("If 10% of passives behaved like promoters") and "CI" not in stake
    assert "assumption" in stake and money(v["lower"]) in stake and money(v["upper"]) in stake
    notes = " ".join(__import__("cxkit.narrative", fromlist=["x"]).method_notes(a))
    assert "promoter: nobody left in the" in notes and "no churn observed, so no tail" not in notes


def test_where_every_band_churns_the_gap_reads_as_before_and_covers_the_truth(tmp_path):
    from cxkit.narrative import summary_parts

    a, truth = _world(tmp_path)
    assert a.ltv_.summary["identified"].all() and not a.ltv_.unidentified()
    g = a.ltv_.gap("promoter", "detractor")
    assert g["identified"] and (g["lower"], g["upper"]) == (g["model_lower"], g["model_upper"])
    assert g["lower"] <= truth["promoter"] - truth["detractor"] <= g["upper"]
    text = summary_parts(a)["ltv"]
    assert text.startswith("Promoters stay on average") and "assumption" not in text
    assert f"(95% CI {money(g['lower'])} to {money(g['upper'])})" in text


def test_a_tiny_band_with_churn_rests_wholly_on_its_tail():
    import pandas as pd

    frame = _small_frame()
    rng = np.random.default_rng(1)
    tiny = pd.DataFrame({"duration": rng.exponential(10, 30), "event": 1, "segment": "c", "revenue": 50.0,
                         "billed_months": 1.0, "cost": 0.0, "exposure_months": 1.0})
    ltv = SegmentLTV(n_boot=30, seed=0).fit(pd.concat([frame, tiny], ignore_index=True))
    s = ltv.summary.set_index("segment")
    assert s.loc["c", "unidentified_reason"] == "few_at_risk" and s.loc["c", "observed_months"] == 0
    assert s.loc["c", "lower"] <= s.loc["c", "model_lower"] and s.loc["c", "upper"] >= s.loc["c", "model_upper"]
    assert s.loc["c", "tail_high_assumption"] == "no_exit"
