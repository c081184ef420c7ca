"""Synthetic CX data with known truth, for demos, tests and benchmarks.

Each customer has one latent NPS band that all their survey answers reflect.
Lifetimes are exponential (a constant monthly hazard), so the hazard after a
survey answer equals the hazard before it and the band's true hazard ratio is
recoverable on the landmark clock. The hazard is the product of a baseline and
hazard ratios for band, plan and region (``truth.json`` lists them all).
Answers arrive as a Poisson process while the customer is active, at a rate
calibrated so that about ``response_share`` of customers answer at least once.

Examples
--------
>>> from cxkit.synth import generate
>>> tables, truth = generate(n_customers=2_000, seed=1)
>>> sorted(tables)
['contacts', 'customers', 'responses', 'revenue']
>>> truth["hazard_ratios"]["band"]["detractor"]
2.0
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd

from cxkit.contract import DAYS_PER_MONTH

__all__ = ["DEFAULTS", "WORLDS", "generate", "run_name", "write"]

DEFAULTS = {
    "as_of": "2026-09-30",
    "years": 3.0,
    "baseline_hazard_per_month": 0.025,  # passive, Basic, North
    "band_share": {"detractor": 0.25, "passive": 0.35, "promoter": 0.40},
    "hazard_ratios": {
        "band": {"detractor": 2.0, "passive": 1.0, "promoter": 0.6},
        "plan": {"Basic": 1.0, "Plus": 0.8, "Pro": 0.65},
        "region": {"North": 1.0, "South": 1.2, "East": 0.85, "West": 1.1},
    },
    "plan_share": {"Basic": 0.5, "Plus": 0.3, "Pro": 0.2},
    "region_share": {"North": 0.3, "South": 0.25, "East": 0.25, "West": 0.2},
    "monthly_price": {"Basic": 30.0, "Plus": 55.0, "Pro": 90.0},
    "price_spread": 0.10,  # each customer's price is the plan price x U(1 - s, 1 + s)
    "response_share": 0.30,
    "score_probs": {  # probabilities of scores within each band
        "detractor": {0: 0.03, 1: 0.03, 2: 0.05, 3: 0.07, 4: 0.12, 5: 0.30, 6: 0.40},
        "passive": {7: 0.5, 8: 0.5},
        "promoter": {9: 0.55, 10: 0.45},
    },
    "csat_probs": {
        "detractor": [0.25, 0.35, 0.25, 0.10, 0.05],
        "passive": [0.03, 0.10, 0.37, 0.40, 0.10],
        "promoter": [0.01, 0.03, 0.11, 0.35, 0.50],
    },
    "effort_share": 0.6,  # answers that include the effort question
    "contacts_per_month": {"detractor": 0.35, "passive": 0.15, "promoter": 0.08},
    "contact_kinds": {"call": 0.45, "chat": 0.30, "email": 0.15, "complaint": 0.10},
    "complaint_share_by_band": {"detractor": 0.25, "passive": 0.08, "promoter": 0.03},
    "contact_cost": {"call": 9.0, "chat": 4.0, "email": 2.5, "complaint": 15.0},
    "referrals_per_month": {"detractor": 0.001, "passive": 0.006, "promoter": 0.02},
    # Planted experience effects (off by default, so the constant-hazard truths above stay exact):
    "complaint_hazard_ratio": 1.0,  # each complaint in the lagged window multiplies the churn hazard
    "complaint_window_days": 90,  # a complaint counts for this many days ...
    "complaint_lag_days": 7,  # ... starting this many days after it was made
    "contact_score_effects": {},  # kind -> NPS points per contact of that kind in the window before an answer
    "contact_csat_effects": {},  # kind -> CSAT points (1-5 scale) per contact of that kind, the same window
    "score_window_days": 90,
    # Planted changes over time (off by default):
    "signup_growth_per_year": 0.0,  # signups per day grow by this share a year (0.5: each year 50% more)
    "score_shift": None,  # {"from": "2026-07-01", "points": -10}: answers from that day move NPS by POINTS on average
    "churn_reasons": ["price", "service", "competitor", "product", "moved"],
    "reason_probs": {
        "detractor": [0.15, 0.35, 0.25, 0.20, 0.05],
        "passive": [0.30, 0.15, 0.30, 0.15, 0.10],
        "promoter": [0.35, 0.05, 0.20, 0.10, 0.30],
    },
}

BANDS = ("detractor", "passive", "promoter")

#: Worlds with one planted truth each, for testing the claims a report makes (``cxkit synth --world NAME``):
#: name -> (what is true there, the settings that make it so). Every world keeps the defaults' survivorship:
#: detractors leave twice as fast as passives and complain more often.
WORLDS = {
    "default": ("the defaults: no complaint effect, attitudes that never change, every band churns", {}),
    "complaint-effect": ("each complaint counting (7 to 97 days after it) multiplies the churn hazard by 1.8",
                         {"complaint_hazard_ratio": 1.8}),
    "composition-only": ("attitudes never change; the base grows 60% a year and detractors leave sooner, so the "
                         "NPS of those answering drifts with who is left",
                         {"signup_growth_per_year": 0.6}),
    "nps-drop": ("answers in the last quarter (from 2026-07-01) read 10 NPS points lower: a planted drop",
                 {"score_shift": {"from": "2026-07-01", "points": -10.0}, "response_share": 0.6}),
    "band-without-churn": ("no promoter ever leaves: their survival beyond the data is not identified",
                           {"hazard_ratios": {"band": {"detractor": 2.0, "passive": 1.0, "promoter": 1e-9},
                                              "plan": {"Basic": 1.0, "Plus": 0.8, "Pro": 0.65},
                                              "region": {"North": 1.0, "South": 1.0, "East": 1.0, "West": 1.0}}}),
    "audience-retention": ("customers in the West churn 1.8 times as fast in every band, with the same NPS; "
                           "the other regions alike",
                           {"hazard_ratios": {"band": {"detractor": 2.0, "passive": 1.0, "promoter": 0.6},
                                              "plan": {"Basic": 1.0, "Plus": 0.8, "Pro": 0.65},
                                              "region": {"North": 1.0, "South": 1.0, "East": 1.0, "West": 1.8}}}),
}


def _pick(rng, n: int, shares: dict) -> np.ndarray:
    keys = list(shares)
    return rng.choice(len(keys), size=n, p=np.array(list(shares.values())) / sum(shares.values()))


def _uniform_points(rng, counts: np.ndarray, spans: np.ndarray):
    """For each item i, ``counts[i]`` sorted uniform points in [0, spans[i]); returns (owner, point)."""
    owner = np.repeat(np.arange(len(counts)), counts)
    points = rng.random(owner.size) * spans[owner]
    order = np.lexsort((points, owner))
    return owner[order], points[order]


def _signup_offsets(rng, n: int, window_days: int, growth: float) -> np.ndarray:
    """Days before ``as_of`` of each signup: uniform without growth, else a density growing by ``growth`` a year
    (inverse of its distribution function)."""
    if growth == 0:
        return rng.integers(0, window_days, size=n)
    if growth <= -1:
        raise ValueError("signup_growth_per_year must be above -1")
    r = np.log1p(growth) / 365.25  # per day, from the window's start
    since_start = np.log1p(rng.random(n) * np.expm1(r * window_days)) / r
    return np.clip(window_days - 1 - np.floor(since_start), 0, window_days - 1).astype(np.int64)


def _calibrate_rate(exposure_months: np.ndarray, share: float) -> float:
    """Poisson rate per month at which ``share`` of customers answer at least once."""
    from scipy.optimize import brentq

    sample = exposure_months[: 200_000]
    return float(brentq(lambda r: np.mean(1 - np.exp(-r * sample)) - share, 1e-6, 10.0))


def generate(n_customers: int = 20_000, seed: int = 0, revenue: str = "table", world: str = "default",
             **overrides) -> tuple[dict, dict]:
    """Generate the four contract tables and the truth behind them.

    Parameters
    ----------
    n_customers : int
        Number of customers.
    seed : int
        Seed of the random generator; the same seed gives the same data.
    revenue : {"table", "column"}
        ``table``: a revenue table with one row per customer and billed month; ``column``: each
        customer's monthly price as ``customers.monthly_revenue`` and no revenue table (about 15 times
        fewer rows, for benchmarks at tens of millions of customers).
    world : str
        One of :data:`WORLDS`: settings that plant one truth (overrides still apply on top).
    **overrides
        Any key of :data:`DEFAULTS` (e.g. ``as_of="2025-12-31"``, ``response_share=0.5``).

    Returns
    -------
    tables : dict of str -> pandas.DataFrame
        ``customers``, ``responses``, ``revenue``, ``contacts`` in the contract's column names.
    truth : dict
        Every generating parameter plus derived expectations (band shares, NPS, churn share).
    """
    if world not in WORLDS:
        raise ValueError(f"unknown world {world!r}; worlds: {', '.join(WORLDS)}")
    cfg = {**DEFAULTS, **WORLDS[world][1], **overrides}
    unknown = set(overrides) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown synth settings: {sorted(unknown)}")
    rng = np.random.default_rng(seed)
    n = int(n_customers)
    as_of = np.datetime64(cfg["as_of"], "D")
    window_days = int(round(cfg["years"] * 365.25))

    band = _pick(rng, n, cfg["band_share"])
    plan = _pick(rng, n, cfg["plan_share"])
    region = _pick(rng, n, cfg["region_share"])
    hr = cfg["hazard_ratios"]
    hazard = (cfg["baseline_hazard_per_month"]
              * np.array([hr["band"][b] for b in BANDS])[band]
              * np.array(list(hr["plan"].values()))[plan]
              * np.array(list(hr["region"].values()))[region])

    signup_offset = _signup_offsets(rng, n, window_days, cfg["signup_growth_per_year"])  # days before as_of
    signup = as_of - signup_offset.astype("timedelta64[D]")
    planted = _planted(cfg)
    if planted:  # experiences come first: complaints change the hazard, contacts the scores
        contacts_all = _contact_events(np.random.default_rng([seed, 17]), cfg, band, signup_offset)
        life_days = _lifetimes(rng.exponential(1.0, size=n), hazard, signup_offset, contacts_all, cfg)
    else:
        life_days = np.ceil(rng.exponential(1.0 / hazard) * DAYS_PER_MONTH).astype(np.int64)
    churned = life_days <= signup_offset
    observed_days = np.where(churned, life_days, signup_offset)
    end = np.where(churned, signup + life_days.astype("timedelta64[D]"), np.datetime64("NaT"))

    price = (np.array(list(cfg["monthly_price"].values()))[plan]
             * rng.uniform(1 - cfg["price_spread"], 1 + cfg["price_spread"], size=n)).round(2)
    exposure = observed_days / DAYS_PER_MONTH
    ref_rate = np.array([cfg["referrals_per_month"][b] for b in BANDS])[band]
    reason_idx = np.full(n, -1)
    for b_i, b in enumerate(BANDS):
        mask = churned & (band == b_i)
        reason_idx[mask] = rng.choice(len(cfg["churn_reasons"]), size=mask.sum(), p=cfg["reason_probs"][b])
    reasons = np.array(cfg["churn_reasons"] + [None], dtype=object)[reason_idx]

    customer_id = np.arange(1, n + 1, dtype=np.int64)
    customers = pd.DataFrame({
        "customer_id": customer_id,
        "signup_date": signup,
        "end_date": end,
        "plan": pd.Categorical.from_codes(plan, list(cfg["plan_share"])),
        "region": pd.Categorical.from_codes(region, list(cfg["region_share"])),
        "churn_reason": reasons,
        "referrals": rng.poisson(ref_rate * exposure),
    })
    if revenue == "column":
        customers["monthly_revenue"] = price

    rate = _calibrate_rate(exposure, cfg["response_share"])
    if planted:
        owner, day, kind = contacts_all
        seen = day < observed_days[owner]
        contacts = (owner[seen], day[seen], kind[seen])
    else:
        contacts = None
    responses = _responses(rng, cfg, customer_id, signup, observed_days, band, rate, contacts)
    tables = {"customers": customers, "responses": responses}
    if revenue == "table":
        tables["revenue"] = _revenue(customer_id, signup, observed_days, price)
    elif revenue != "column":
        raise ValueError("revenue must be 'table' or 'column'")
    if contacts is None:
        contacts = _contact_events(rng, cfg, band, observed_days)
    tables["contacts"] = _contact_frame(cfg, customer_id, signup, contacts)

    truth = _truth(cfg, seed, n, rate, window_days)
    truth["world"] = {"name": world, "what": WORLDS[world][0]}
    truth["score_shift"] = cfg["score_shift"]
    truth["signup_growth_per_year"] = float(cfg["signup_growth_per_year"])
    # with a complaint effect the hazard is no longer constant: lifetime value has no closed form
    hazard_constant = cfg["complaint_hazard_ratio"] == 1.0
    truth["ltv"] = _true_ltv(cfg, responses, customer_id, band, hazard, price) if hazard_constant else None
    if not hazard_constant:
        truth["expected_churned_share"] = None
    truth["observed"] = {
        "churned_share": float(churned.mean()),
        "responding_share": float(responses["customer_id"].nunique() / n),
        "band_share": {b: float(np.mean(band == i)) for i, b in enumerate(BANDS)},
    }
    return tables, truth


def _responses(rng, cfg, customer_id, signup, observed_days, band, rate, contacts=None) -> pd.DataFrame:
    counts = rng.poisson(rate * observed_days / DAYS_PER_MONTH)
    owner, when = _uniform_points(rng, counts, observed_days.astype(float))
    day = signup[owner] + np.floor(when).astype("timedelta64[D]")
    b = band[owner]
    nps = np.empty(owner.size, dtype=np.int64)
    csat = np.empty(owner.size, dtype=np.int64)
    for i, name in enumerate(BANDS):
        mask = b == i
        probs = cfg["score_probs"][name]
        nps[mask] = rng.choice(list(probs), size=mask.sum(), p=list(probs.values()))
        csat[mask] = rng.choice(np.arange(1, 6), size=mask.sum(), p=cfg["csat_probs"][name])
    effort = np.clip(np.rint(1 + 6 * (csat - 1) / 4 + rng.normal(0, 0.8, owner.size)), 1, 7)
    effort = np.where(rng.random(owner.size) < cfg["effort_share"], effort, np.nan)
    if cfg["score_shift"]:
        nps = _shift_scores(rng, cfg, nps, day)
    if contacts is not None and any(cfg["contact_score_effects"].values()):
        shift = _score_shift(cfg, owner, np.floor(when).astype(np.int64), contacts)
        # stochastic rounding keeps the expected shift exact; the 0-10 scale clips it at the ends
        step = np.floor(shift) + (rng.random(owner.size) < shift - np.floor(shift))
        nps = np.clip(nps + step.astype(np.int64), 0, 10)
    if contacts is not None and any(cfg["contact_csat_effects"].values()):
        shift = _score_shift(cfg, owner, np.floor(when).astype(np.int64), contacts, "contact_csat_effects")
        step = np.floor(shift) + (rng.random(owner.size) < shift - np.floor(shift))
        csat = np.clip(csat + step.astype(np.int64), 1, 5)
    out = pd.DataFrame({"customer_id": customer_id[owner], "response_date": day, "nps": nps,
                        "csat": csat, "effort": pd.array(effort, dtype="Int64")})
    # a survey keeps one record of an answer: two drawn on the same day with the same scores are one (the gateway
    # warns about exact repeats in real exports, and the generator should not make them)
    return out[~out.duplicated()].reset_index(drop=True)


def _shift_scores(rng, cfg, nps: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Answers from ``score_shift["from"]`` on: each moves one band (down for a negative shift) with the
    probability that moves their NPS by ``points`` on average; a moved answer takes a score drawn as its new
    band's. The customers and their hazards are unchanged: only what they say changes."""
    shift = cfg["score_shift"]
    points = float(shift["points"])
    after = day >= np.datetime64(shift["from"], "D")
    bands = np.select([nps <= 6, nps <= 8], [0, 1], 2)
    step = -1 if points < 0 else 1
    movable = after & (bands != (0 if step < 0 else 2))
    share = movable.sum() / max(after.sum(), 1)
    # a move is worth 100 NPS points to the answer: q * share * 100 = |points|
    q = min(1.0, abs(points) / (100 * share)) if share else 0.0
    move = movable & (rng.random(nps.size) < q)
    out = nps.copy()
    for b in range(len(BANDS)):
        mask = move & (bands == b)
        target = BANDS[b + step]
        probs = cfg["score_probs"][target]
        out[mask] = rng.choice(list(probs), size=mask.sum(), p=list(probs.values()))
    return out


def _planted(cfg) -> bool:
    for key in ("contact_score_effects", "contact_csat_effects"):
        unknown = set(cfg[key]) - set(cfg["contact_kinds"])
        if unknown:
            raise ValueError(f"{key} names kinds that are not generated: {sorted(unknown)}")
    if cfg["complaint_hazard_ratio"] <= 0:
        raise ValueError("complaint_hazard_ratio must be positive")
    return (cfg["complaint_hazard_ratio"] != 1.0 or any(cfg["contact_score_effects"].values())
            or any(cfg["contact_csat_effects"].values()))


def _score_shift(cfg, answer_owner, answer_day, contacts, key: str = "contact_score_effects") -> np.ndarray:
    """Points added to each answer's score (NPS, or CSAT with ``key="contact_csat_effects"``): the effect of each
    contact in the window of days before it.

    A contact on day ``c`` counts for an answer on day ``d`` when ``d - window <= c < d`` (whole days since
    signup), as :func:`cxkit.drivers.driver_frame` counts them.
    """
    owner, day, kind = contacts
    kinds = list(cfg["contact_kinds"])
    effect = np.array([float(cfg[key].get(k, 0.0)) for k in kinds])[kind]
    keep = effect != 0
    owner, day, effect = owner[keep], day[keep], effect[keep]
    order = np.lexsort((day, owner))
    owner, day, effect = owner[order], day[order], effect[order]
    key = owner.astype(np.float64) * 1e6 + day  # sorted: owners apart by more than any day count
    cum = np.concatenate([[0.0], np.cumsum(effect)])
    a_key = answer_owner.astype(np.float64) * 1e6
    hi = np.searchsorted(key, a_key + answer_day, side="left")
    lo = np.searchsorted(key, a_key + answer_day - cfg["score_window_days"], side="left")
    return cum[hi] - cum[lo]


def _lifetimes(exp_draws, hazard, span_days, contacts, cfg) -> np.ndarray:
    """Whole days to churn when each complaint multiplies the hazard while it is in its lagged window.

    A complaint on day ``c`` counts on days ``(c + lag, c + lag + window]``; the hazard is the customer's
    monthly ``hazard`` x ``complaint_hazard_ratio`` ** (complaints counting). ``exp_draws`` are unit
    exponential draws, the cumulative hazard at which each customer leaves; customers still there at
    ``span_days`` get a lifetime beyond it.
    """
    owner, day, kind = contacts
    complaint = kind == list(cfg["contact_kinds"]).index("complaint")
    owner, day = owner[complaint], day[complaint].astype(float)
    start = day + cfg["complaint_lag_days"]
    n = hazard.size
    t = np.concatenate([np.zeros(n), start, start + cfg["complaint_window_days"], span_days.astype(float)])
    who = np.concatenate([np.arange(n), owner, owner, np.arange(n)])
    step = np.concatenate([np.zeros(n), np.ones(owner.size), -np.ones(owner.size), np.zeros(n)])
    inside = t <= span_days[who]
    t, who, step = t[inside], who[inside], step[inside]
    order = np.lexsort((step, t, who))  # at equal times a window closes before the next opens
    t, who, step = t[order], who[order], step[order]
    first = np.r_[True, who[1:] != who[:-1]]
    level = np.cumsum(step)
    level -= np.maximum.accumulate(np.where(first, level - step, -np.inf))  # running count per customer
    length = np.r_[np.where(who[1:] == who[:-1], t[1:] - t[:-1], 0.0), 0.0]
    rate = hazard[who] / DAYS_PER_MONTH * cfg["complaint_hazard_ratio"] ** np.round(level)
    cum = np.cumsum(rate * length)
    before = cum - rate * length
    base = np.maximum.accumulate(np.where(first, before, -np.inf))
    before -= base
    after = before + rate * length
    target = exp_draws[who]
    hit = (after >= target) & (length > 0)
    death = np.full(n, np.inf)
    rows = np.flatnonzero(hit)
    rows = rows[np.r_[True, who[rows][1:] != who[rows][:-1]]] if rows.size else rows  # first hit per customer
    death[who[rows]] = t[rows] + (target[rows] - before[rows]) / rate[rows]
    life = np.where(np.isfinite(death), np.ceil(death), span_days + 1)
    return np.maximum(life, 1).astype(np.int64)


def _revenue(customer_id, signup, observed_days, price) -> pd.DataFrame:
    first = signup.astype("datetime64[M]")
    last = (signup + observed_days.astype("timedelta64[D]")).astype("datetime64[M]")
    months = (last - first).astype(np.int64) + 1
    owner = np.repeat(np.arange(customer_id.size), months)
    step = np.arange(owner.size) - np.repeat(np.cumsum(months) - months, months)
    month = (first[owner] + step.astype("timedelta64[M]")).astype("datetime64[D]")
    return pd.DataFrame({"customer_id": customer_id[owner], "month": month, "amount": price[owner]})


def _contact_events(rng, cfg, band, span_days):
    """Contacts of each customer over ``[0, span_days)``: (owner index, whole day since signup, kind index)."""
    rate = np.array([cfg["contacts_per_month"][b] for b in BANDS])[band]
    counts = rng.poisson(rate * span_days / DAYS_PER_MONTH)
    owner, when = _uniform_points(rng, counts, span_days.astype(float))
    kinds = list(cfg["contact_kinds"])
    kind = np.empty(owner.size, dtype=np.int64)
    for i, name in enumerate(BANDS):
        mask = band[owner] == i
        probs = np.array(list(cfg["contact_kinds"].values()))
        c_share = cfg["complaint_share_by_band"][name]
        probs = np.append(probs[:-1] / probs[:-1].sum() * (1 - c_share), c_share)
        kind[mask] = rng.choice(len(kinds), size=mask.sum(), p=probs)
    return owner, np.floor(when).astype(np.int64), kind


def _contact_frame(cfg, customer_id, signup, contacts) -> pd.DataFrame:
    owner, day, kind = contacts
    kinds = list(cfg["contact_kinds"])
    cost = np.array([cfg["contact_cost"][k] for k in kinds])[kind]
    return pd.DataFrame({"customer_id": customer_id[owner],
                         "date": signup[owner] + day.astype("timedelta64[D]"),
                         "kind": pd.Categorical.from_codes(kind, kinds), "cost": cost})


def _cost_per_month(cfg, band_name: str) -> float:
    """Expected contact cost per month of a band (its contact rate x the mean cost of its contact mix)."""
    probs = np.array(list(cfg["contact_kinds"].values()))
    c_share = cfg["complaint_share_by_band"][band_name]
    probs = np.append(probs[:-1] / probs[:-1].sum() * (1 - c_share), c_share)
    return float(cfg["contacts_per_month"][band_name] * probs @ np.array(list(cfg["contact_cost"].values())))


def _true_ltv(cfg, responses, customer_id, band, hazard, price, horizon=60, discount_rate=0.10) -> dict:
    """True LTV per band from the first answer on, averaged over the customers who answered.

    Each customer's value is ``sum_{t < horizon} margin_i exp(-hazard_i t) (1 + r) ** (-t / 12)``
    with ``margin_i`` = their price minus their band's expected contact cost per month.
    """
    who = np.unique(responses["customer_id"].to_numpy()) - customer_id[0]
    q = np.exp(-hazard[who]) * (1 + discount_rate) ** (-1 / 12)
    discounted_life = (1 - q**horizon) / (1 - q)
    p = np.exp(-hazard[who])
    life = (1 - p**horizon) / (1 - p)
    cost = np.array([_cost_per_month(cfg, b) for b in BANDS])[band[who]]
    value = (price[who] - cost) * discounted_life
    b = band[who]
    return {"horizon_months": horizon, "discount_rate": discount_rate, "clock": "from the first answer",
            "by_band": {name: float(value[b == i].mean()) for i, name in enumerate(BANDS)},
            "expected_lifetime_months": {name: float(life[b == i].mean()) for i, name in enumerate(BANDS)},
            "cost_to_serve_per_month": {name: _cost_per_month(cfg, name) for name in BANDS}}


def _truth(cfg, seed, n, rate, window_days) -> dict:
    hr = cfg["hazard_ratios"]
    w = window_days / DAYS_PER_MONTH
    expected_churn = 0.0
    for b, pb in cfg["band_share"].items():
        for p, pp in cfg["plan_share"].items():
            for r, pr in cfg["region_share"].items():
                lam = cfg["baseline_hazard_per_month"] * hr["band"][b] * hr["plan"][p] * hr["region"][r]
                # signup uniform over the window: P(churned by as_of) = 1 - (1 - e^{-lam W}) / (lam W)
                expected_churn += pb * pp * pr * (1 - (1 - np.exp(-lam * w)) / (lam * w))
    shares = cfg["band_share"]
    return {
        "seed": seed,
        "n_customers": n,
        "as_of": cfg["as_of"],
        "time_unit": "month",
        "settings": {k: v for k, v in cfg.items() if k not in ("score_probs",)},
        "hazard_ratios": hr,
        "complaint_hazard_ratio": float(cfg["complaint_hazard_ratio"]),
        "complaint_window_days": int(cfg["complaint_window_days"]),
        "complaint_lag_days": int(cfg["complaint_lag_days"]),
        "contact_score_effects": {k: float(cfg["contact_score_effects"].get(k, 0.0)) for k in cfg["contact_kinds"]},
        "contact_csat_effects": {k: float(cfg["contact_csat_effects"].get(k, 0.0)) for k in cfg["contact_kinds"]},
        "score_window_days": int(cfg["score_window_days"]),
        "reference_levels": {"band": "passive", "plan": "Basic", "region": "North"},
        "band_share": shares,
        "true_nps": 100 * (shares["promoter"] - shares["detractor"]),
        "response_rate_per_month": rate,
        "expected_churned_share": float(expected_churn),
    }


def _to_file(df: pd.DataFrame, path: Path, fmt: str) -> None:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    if fmt == "parquet":
        pq.write_table(table, path)
    else:
        pacsv.write_csv(table.cast(pa.schema([f.with_type(_csv_type(f.type)) for f in table.schema])), path)


def _csv_type(t):
    import pyarrow as pa

    return pa.string() if pa.types.is_dictionary(t) else t


def run_name(n_customers: int, seed: int, world: str = "default") -> str:
    """The report folder a synthetic data set's params file names (``run_name``): its world (unless the
    default), size and seed, so its report is not filed under ``reports/params/``, the name of every such file.

    Examples
    --------
    >>> run_name(100_000, 7)
    'synth-100000-seed7'
    >>> run_name(2_000, 0, "nps-drop")
    'synth-nps-drop-2000-seed0'
    """
    return "-".join(["synth", *([world] if world != "default" else []), str(n_customers), f"seed{seed}"])


def write(out_dir: str | Path, n_customers: int = 20_000, seed: int = 0, fmt: str = "parquet",
          revenue: str = "table", world: str = "default", **overrides) -> Path:
    """Generate data and write the tables, ``truth.json`` and a ready ``params.yaml`` (its ``run_name`` from
    :func:`run_name`, so the report lands in ``reports/synth-.../``, not ``reports/params/``).

    Returns
    -------
    Path
        The ``params.yaml`` written, ready for ``cxkit validate``.
    """
    import yaml

    if fmt not in ("parquet", "csv"):
        raise ValueError("fmt must be 'parquet' or 'csv'")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tables, truth = generate(n_customers, seed, revenue=revenue, world=world, **overrides)
    for name, df in tables.items():
        _to_file(df, out / f"{name}.{fmt}", fmt)
    (out / "truth.json").write_text(json.dumps(truth, indent=2, default=float))
    params = {
        "title": f"Synthetic CX data ({n_customers:,} customers, seed {seed})",
        "run_name": run_name(n_customers, seed, world),
        "as_of": truth["as_of"],
        "data": {name: f"{name}.{fmt}" for name in tables},
        "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
    }
    del params["generated"]  # keep the file reproducible: same seed, same bytes
    path = out / "params.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    return path
