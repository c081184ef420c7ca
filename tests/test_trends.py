"""NPS trends: standard errors, suppression, the false-alarm rate under no change, a planted shift."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxkit.nps import nps_from_counts
from cxkit.trends import WITHIN, NPSTrend

MONTHS = pd.date_range("2024-01-01", periods=24, freq="MS")
NO_CHANGE = np.array([0.2] * 7 + [0.3] * 2 + [0.5] * 2) / np.array([0.2] * 7 + [0.3] * 2 + [0.5] * 2).sum()


def _series(rng, n_per_month=300, shift_from=None, shift=None):
    """Answers month by month; from ``shift_from`` on, the score distribution is ``shift``."""
    rows = []
    for i, m in enumerate(MONTHS):
        probs = shift if shift_from is not None and i >= shift_from else NO_CHANGE
        scores = rng.choice(11, n_per_month, p=probs)
        days = m + pd.to_timedelta(rng.integers(0, 28, n_per_month), unit="D")
        rows.append(pd.DataFrame({"response_date": days, "nps": scores}))
    return pd.concat(rows, ignore_index=True)


def test_standard_errors_match_the_nps_formula():
    r = _series(np.random.default_rng(0))
    t = NPSTrend("M").fit(r).table
    first = r[r.response_date < MONTHS[1]]
    counts = ((first.nps <= 6).sum(), ((first.nps >= 7) & (first.nps <= 8)).sum(), (first.nps >= 9).sum())
    ref = nps_from_counts(*map(int, counts))
    assert t["nps"].iloc[0] == pytest.approx(ref["nps"]) and t["se"].iloc[0] == pytest.approx(ref["se"])
    assert t["change_se"].iloc[1] == pytest.approx(np.hypot(t["se"].iloc[0], t["se"].iloc[1]))


def test_small_periods_are_suppressed_with_the_reason():
    rng = np.random.default_rng(1)
    r = _series(rng)
    r = r[~((r.response_date >= MONTHS[5]) & (r.response_date < MONTHS[6]))]
    r = pd.concat([r, pd.DataFrame({"response_date": [MONTHS[5]] * 12, "nps": rng.choice(11, 12)})])
    t = NPSTrend("M", min_n=30).fit(r).table
    row = t[t["period"] == "2024-06"].iloc[0]
    assert np.isnan(row["nps"]) and row["flag"] == "suppressed" and "12 answers, under 30" in row["note"]
    from cxkit.report import _trend_table

    shown = _trend_table(NPSTrend("M", min_n=30).fit(r[r.response_date < MONTHS[8]]))  # June among the last six
    assert "12 answers, under 30" in " ".join(shown["note"])
    assert "note" not in _trend_table(NPSTrend("M", min_n=30).fit(_series(rng)))  # nothing to note: no column


def test_false_alarm_rate_under_no_change():
    """No true change: points beyond the 3-sigma limits at about the nominal 0.27%, three months together beyond
    theirs about as often (their mean is tested; a month flagged alone is not counted again), change tests at 5%."""
    rng = np.random.default_rng(2024)
    outside = together = monitored = significant = changes = 0
    for _ in range(250):
        t = NPSTrend("M", baseline=12).fit(_series(rng)).table
        after = t.iloc[12:]
        outside += after["flag"].str.match(r"shift: (above|below) the control limits").sum()
        together += after["flag"].str.startswith("shift: three months together").sum()
        monitored += len(after)
        significant += (t["change_p"] < 0.05).sum()
        changes += t["change_p"].notna().sum()
    rate = outside / monitored
    nominal = NPSTrend().false_alarm_rate_
    assert nominal == pytest.approx(0.0027, abs=1e-4)
    assert 0.0005 <= rate <= 0.007, f"false-alarm rate {rate:.4f} against nominal {nominal:.4f}"
    assert together / monitored <= 0.007, f"three-month false-alarm rate {together / monitored:.4f}"
    assert 0.035 <= significant / changes <= 0.065


def test_planted_shift_is_flagged():
    """A realistic drop: 6% of answers move from promoter to detractor (NPS 12 points lower) for 8 months."""
    worse = NO_CHANGE.copy()
    worse[[5, 6]] += 0.03
    worse[[9, 10]] -= 0.03
    drop = 100 * (worse[9:].sum() - worse[:7].sum()) - 100 * (NO_CHANGE[9:].sum() - NO_CHANGE[:7].sum())
    assert drop == pytest.approx(-12)
    rng = np.random.default_rng(7)
    caught = 0
    for _ in range(40):
        t = NPSTrend("M", baseline=12).fit(_series(rng, shift_from=16, shift=worse)).table
        caught += t.iloc[16:]["flag"].str.startswith("shift: below").any()
    assert caught / 40 >= 0.75  # 33 of 40 with this seed: a sustained 2.5-SE drop is caught most of the time


def test_within_normal_variation_is_the_default_verdict():
    t = NPSTrend("M", baseline=12).fit(_series(np.random.default_rng(3)))
    assert (t.table["flag"] == WITHIN).mean() > 0.9


def test_falling_response_rate_is_noted():
    rng = np.random.default_rng(5)
    r = _series(rng, n_per_month=200)
    late = r.response_date >= MONTHS[-3]
    r = pd.concat([r[~late], r[late].sample(frac=0.4, random_state=1)])
    customers = pd.DataFrame({"customer_id": range(5000), "signup_date": pd.Timestamp("2023-12-01"),
                              "end_date": pd.NaT})
    t = NPSTrend("M").fit(r, customers=customers).table
    assert "response rate falling" in t["note"].iloc[-1]
    assert t["response_rate"].iloc[0] == pytest.approx((r.response_date < MONTHS[1]).sum() / 5000)
