"""The customer ledger: identities in every period and slice, totals equal to counts from the raw tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxkit.errors import CxkitError
from cxkit.ledger import CustomerLedger
from cxkit.synth import generate

AS_OF = pd.Timestamp("2026-09-30")


@pytest.fixture(scope="module")
def tables():
    return generate(8000, seed=12)[0]


@pytest.mark.parametrize("period, by", [("M", None), ("Q", None), ("M", "region"), ("Q", "plan")])
def test_identities_hold_in_every_period_and_slice(tables, period, by):
    led = CustomerLedger(period, by=by).fit(tables["customers"], tables["revenue"], as_of=AS_OF)
    t = led.table
    assert (t["start"] + t["new"] - t["lost"] == t["end"]).all()
    groups = t.groupby(by) if by else [(None, t)]
    for _, part in groups:
        assert (part["start"].iloc[1:].to_numpy() == part["end"].iloc[:-1].to_numpy()).all()
        assert part["start"].iloc[0] == 0
    assert (t[["start", "new", "lost", "end"]] >= 0).all().all()


def test_counts_equal_the_raw_tables(tables):
    c = tables["customers"]
    led = CustomerLedger("M").fit(c, tables["revenue"], as_of=AS_OF)
    run_rate = tables["revenue"].groupby("customer_id")["amount"].mean()
    for row in led.table.sample(8, random_state=1).itertuples():
        p0 = pd.Timestamp(row.period_start)
        p1 = p0 + pd.offsets.MonthEnd(0)
        new = c[(c.signup_date >= p0) & (c.signup_date <= p1)]
        lost = c[(c.end_date >= p0) & (c.end_date <= p1)]
        start = c[(c.signup_date < p0) & (c.end_date.isna() | (c.end_date >= p0))]
        assert (row.new, row.lost, row.start) == (len(new), len(lost), len(start))
        assert row.revenue_in == pytest.approx(run_rate.reindex(new.customer_id).sum())
        assert row.revenue_out == pytest.approx(run_rate.reindex(lost.customer_id).sum())
    assert led.table["end"].iloc[-1] == int(c.end_date.isna().sum())
    assert led.table["new"].sum() == len(c) and led.table["lost"].sum() == int(c.end_date.notna().sum())


def test_quarters_add_up_months(tables):
    m = CustomerLedger("M").fit(tables["customers"], as_of=AS_OF).table
    q = CustomerLedger("Q").fit(tables["customers"], as_of=AS_OF).table
    m["quarter"] = pd.PeriodIndex(pd.to_datetime(m["period_start"]), freq="Q").astype(str).str.replace("Q", "-Q")
    summed = m.groupby("quarter")[["new", "lost"]].sum()
    np.testing.assert_array_equal(summed.to_numpy(), q.set_index("period")[["new", "lost"]].to_numpy())


def test_breakdowns_add_up(tables):
    led = CustomerLedger("M").fit(tables["customers"], tables["revenue"], as_of=AS_OF, responses=tables["responses"])
    lost = led.table.set_index("period")["lost"]
    for part in (led.lost_by_band_, led.lost_by_reason_):
        sums = part.groupby("period")["lost"].sum()
        np.testing.assert_array_equal(sums.to_numpy(), lost.loc[sums.index].to_numpy())
    assert set(led.lost_by_band_["band"]) <= {"detractor", "passive", "promoter", "no answer"}
    by_band = led.lost_by_band_.groupby("band")["lost"].sum()
    assert by_band["detractor"] > 0 and by_band["no answer"] > by_band["promoter"]


def test_as_of_cuts_the_ledger(tables):
    led = CustomerLedger("M").fit(tables["customers"], as_of="2025-12-31")
    assert led.table["period"].iloc[-1] == "2025-12"


def test_snapshot_data_is_refused(telco_path):
    from cxkit.load import load
    from tests.conftest import ROOT

    with pytest.raises(CxkitError, match="needs dated customers"):
        CustomerLedger().fit_data(load(ROOT / "params" / "telco.yaml"))


def test_ledger_plot(tables):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = CustomerLedger("M").fit(tables["customers"], as_of=AS_OF).plot()
    assert ax.get_title().startswith("The leaky bucket") or ax.get_title(loc="left").startswith("The leaky bucket")
    # the grid runs under the bars: drawn over them, white lines cut through every bar (the read's finding 20)
    assert ax.get_axisbelow() is True
    plt.close("all")


def _world(hazards: tuple[float, float], n: int = 12000, seed: int = 3) -> pd.DataFrame:
    """Customers signing up evenly over three years to 2026-09; each month a customer leaves with the first hazard
    until 2025-09 and the second after (planted truth for the change against the year before)."""
    rng = np.random.default_rng(seed)
    months = pd.date_range("2023-10-01", "2026-09-01", freq="MS")
    joined = rng.integers(0, len(months), n)
    end = np.full(n, np.nan)
    for k, month in enumerate(months):
        h = hazards[0] if month < pd.Timestamp("2025-10-01") else hazards[1]
        leaving = (joined <= k) & np.isnan(end) & (rng.random(n) < h)
        end[leaving] = k
    day = rng.integers(0, 28, n)
    signup = [months[j] + pd.Timedelta(days=int(d)) for j, d in zip(joined, day, strict=True)]
    ends = [pd.NaT if np.isnan(e) else months[int(e)] + pd.Timedelta(days=27) for e in end]
    return pd.DataFrame({"customer_id": range(n), "signup_date": pd.to_datetime(signup),
                         "end_date": pd.to_datetime(ends)})


@pytest.mark.parametrize("hazards, changed", [((0.02, 0.02), False), ((0.02, 0.03), True), ((0.03, 0.02), True)])
def test_the_change_against_the_year_before_is_claimed_only_where_it_was_planted(hazards, changed):
    """A count of leavers grows with the base: the rate per customer-month is what changes, and only an interval
    that excludes 1 calls it a change (the headline's "down from" / "no real change")."""
    led = CustomerLedger("M").fit(_world(hazards), as_of="2026-09-30")
    r = led.churn_change(12)
    assert r["changed"] is changed, r
    assert r["rate"] == pytest.approx(hazards[1], rel=0.12) and r["rate_before"] == pytest.approx(hazards[0], rel=0.12)
    assert (r["first_before"], r["last_before"]) == ("2024-10", "2025-09")
    if not changed:  # the base grew, so more left though the rate held
        assert r["lost"] > r["lost_before"] and r["lower"] < 1 < r["upper"]
    assert CustomerLedger("M").fit(_world(hazards), as_of="2025-03-31").churn_change(12) is None  # no year before


@pytest.mark.parametrize("period", ["M", "Q"])
def test_the_active_base_and_the_ledger_read_the_customers_counted_once(tmp_path, tables, period):
    """Validated data: the active base and the ledger by band are sums over one small table of the customers
    counted by latest score, sign-up and leaving month (``cxkit.frames.customer_cube``), made once; they equal
    the raw tables counted here and the ledger fitted from DataFrames (its own pass over every customer)."""
    from cxkit.frames import active_base, customer_cube
    from cxkit.load import load
    from cxkit.nps import band
    from tests.conftest import write_case

    data = load(write_case(tmp_path, tables, "parquet"))
    counts, active = active_base(data)
    cube = customer_cube(data)
    assert data.con.execute(f"SELECT sum(n) FROM {cube}").fetchall()[0][0] == len(tables["customers"])
    c, r = tables["customers"], tables["responses"].dropna(subset=["nps"])
    latest = r.sort_values(["response_date", "nps"], ascending=[True, False]).groupby("customer_id").last()
    still = c[c["end_date"].isna()]
    assert active == len(still)
    bands = band(latest["nps"].reindex(still["customer_id"]).dropna())
    assert counts == {str(k): int(v) for k, v in bands.value_counts().items()}
    ledger = CustomerLedger(period, by="band").fit_data(data)
    again = CustomerLedger(period, by="band").fit(c, tables["revenue"], as_of=AS_OF, responses=tables["responses"])
    pd.testing.assert_frame_equal(ledger.table, again.table)
    pd.testing.assert_frame_equal(ledger.lost_by_band_, again.lost_by_band_)
    pd.testing.assert_frame_equal(ledger.lost_by_reason_, again.lost_by_reason_)
