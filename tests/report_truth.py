"""The consistency check: every number in an executive summary against the result it came from.

Used by ``tests/test_report_truth.py`` on the demo, Telco and every sample-quarter params file. Each
summary sentence (by its key in :meth:`LeadershipAnalysis.summary_parts`) may only hold numbers that
come, at their rounding, from the result objects and settings behind it; parts must add up to totals.
"""

from __future__ import annotations

import re

import numpy as np

from cxkit import narrative as say

# A number as sentences write it: $105,933  −3  +28  58%  2.1  3,111  (periods such as 2026-09 come whole)
NUMBER = re.compile(r"\d{4}-(?:\d{2}|Q\d)|[+\u2212-]?\$?\d[\d,]*(?:\.\d+)?[%BM]?")

# Words and identifiers that must never reach a leader: column names, model terms, raw formats.
INTERNAL_NAMES = ["plan[", "segment[", "region[", "segment:", "internet_type", "churn_reason", "monthly_revenue",
                  "customer_id", "change_p", "response_rate", "nps_window_months", "min_at_risk", "as_of",
                  "p = <", "p = n/a", "$-", "×10", "n/a", "NaN", "latest is shift", "_per_month", "_months",
                  "expected_lifetime", "tail_model", "Data as of snapshot", "none (no churn observed)", "\u2212$0 "]


def numbers(sentence: str) -> list[str]:
    """The number tokens of a sentence, signs and units kept."""
    return [t for t in NUMBER.findall(sentence) if any(ch.isdigit() for ch in t)]


def _tokens(*texts: str) -> set[str]:
    return {t for text in texts for t in numbers(text)}


def expected_tokens(a, key: str) -> set[str]:
    """What each summary sentence may say, formatted from the result objects and the settings."""
    settings = _tokens(f"{a.retention_months:g} months", say.percent(a.share_moved), say.percent(a.discount_rate),
                       f"{a.horizon_months / 12:g} years", f"{int(round(100 * (1 - a.alpha)))}%")
    if key == "nps":
        rows = [a.nps_] + ([a.nps_everyone_] if a.nps_everyone_ is not None else [])
        out = {t for r in rows for t in _tokens(say.signed(r["nps"]), say.signed(r["lower"]), say.signed(r["upper"]),
                                                f"{r['n']:,}")}
        d = a.slice_difference_
        if d is not None:
            size = abs(d["difference"])  # under a point with one decimal (formats.gap)
            out |= _tokens(say.signed_gap(d["difference"]), say.signed(d["lower"]), say.signed(d["upper"]),
                           f"{size:.1f}" if size < 1 else f"{size:.0f}")
        return out | _tokens(str(a.data_.as_of), f"{a.nps_window_months:g}") | settings
    if key == "trend":
        t = a.trend_.table[a.trend_.table["nps"].notna()]
        last, prev = t.iloc[-1], t.iloc[-2]
        return _tokens(last["period"], prev["period"], say.signed(last["nps"]), say.signed(last["lower"]),
                       say.signed(last["upper"]), say.signed(last["change"]), say.p_text(last["change_p"]),
                       say.signed(last["centre"]), last["flag"], say.signed(last["raw_centre"]),
                       last["raw_flag"]) | settings
    if key in ("retention", "descriptive"):
        from cxkit.narrative import band_name
        from cxkit.report import retention_table

        table = retention_table(a, [a.retention_months])
        cells = table.set_index(band_name(a.score_)).iloc[:, 0]
        shown = {b: cells[b].split(" ")[0] for b in cells.index}  # "58% (55%-61%)" -> "58%"
        shares = [say.percent(v) for v in a.churned_share_.values()] if key == "descriptive" else []
        return _tokens(*shown.values(), say.p_text(a.km_.logrank_.p_value), *shares) | settings
    if key == "hazard":
        row = a.cox_.summary.loc[f"segment[{a.low_}]"]
        return _tokens(f"{row['hazard_ratio']:.1f}", f"{row['lower']:.1f}", f"{row['upper']:.1f}",
                       f"{row['hazard_ratio']:.2f}", f"{row['lower']:.2f}", f"{row['upper']:.2f}",
                       f"{1 - row['hazard_ratio']:.0%}") | settings
    if key == "ltv":
        g = a.ltv_.gap(a.high_, a.low_)
        observed = _tokens(*(say.money(g[f]) for f in ("observed_estimate", "observed_lower", "observed_upper")),
                           say.money(abs(g["observed_estimate"])), f"{g['observed_months']}")
        return _tokens(say.money(g["estimate"]), say.money(abs(g["estimate"])), say.money(g["lower"]),
                       say.money(g["upper"]), say.money(abs(g["lower"])), say.money(abs(g["upper"])),
                       say.duration_phrase(g["lifetime_months"])) | observed | _months_observed(a, g) | settings
    if key == "stake":
        row = a.scenario_table().iloc[0]
        v = a.ltv_.value_at_stake({row["from"]: row["to"]}, row["share"])
        return _tokens(f"{row['customers moved']:,.0f}", say.money(row["value added"]),
                       say.money(abs(row["value added"])), say.money(row["lower"]), say.money(row["upper"]),
                       say.money(abs(row["lower"])), say.money(abs(row["upper"])),
                       say.money(abs(row["per customer moved"]))) | _months_observed(a, v) | settings
    if key == "ledger":
        periods = 12 if a.period == "M" else 4
        t = a.ledger_.totals(periods)
        band = a.lost_table("band")
        answered = band[band["band"] != "no answer"]
        shares = answered["monthly revenue lost"] / answered["monthly revenue lost"].sum()
        return _tokens(f"{periods}", f"{t['start']:,}", f"{t['end']:,}", f"{t['new']:,}", f"{t['lost']:,}",
                       say.money(t["revenue_out"]), say.money(t["revenue_in"]),
                       *(say.percent(s) for s in shares))
    if key == "contacts":
        t = a.contacts_.by_band_
        last = t[t["period"] == t["period"].iloc[-1]].set_index("band")
        return _tokens(t["period"].iloc[-1], *(f"{v:.2f}" for v in last["contacts_per_customer"]),
                       *(say.money(v, cents=True) for v in last["cost_per_customer"]))
    if key == "small":
        return _tokens(*(f"{a.band_sizes_[b]:,}" for b in a.small_bands_), f"{a.data_.min_segment_size:,}")
    if key == "unavailable":
        return _tokens(*(say.reason_text(r) for r in a.not_available_.values()), f"{a.answered_:,}")
    if key == "audience":
        rows = a.audience_.summary
        hazard = rows[rows["measure"] == "churn hazard"]
        bands = rows[rows["measure"] == "still a customer"]
        value = rows[rows["measure"] == "lifetime value"]
        return _tokens(*(f"{v:.2f}" for v in hazard[["difference", "lower", "upper"]].to_numpy().ravel()),
                       *(say.percent(v) for v in bands[["audience", "others"]].to_numpy().ravel()),
                       *(say.signed(100 * v) for v in bands[["difference", "lower", "upper"]].to_numpy().ravel()),
                       *(say.money(v) for v in value[["audience", "others", "lower", "upper"]].to_numpy().ravel()),
                       f"{len(rows)}") | settings
    if key == "why":
        eh = a.experiences_
        r = eh.summary.set_index("experience").loc["complaints"]
        values = [r["hazard_ratio"], r["lower"], r["upper"]]
        return _tokens(*(f"{v:.2f}" for v in values), *(f"{1 / v:.2f}" for v in values), f"{eh.window_days}",
                       f"{eh.lag_days}") | settings
    raise KeyError(key)


def _months_observed(a, result: dict) -> set[str]:
    """The months the data covers for each band of a gap or value at stake whose tail is an assumption."""
    s = a.ltv_.summary.set_index("segment")
    return _tokens(*(f"{int(s.loc[b, 'observed_months']) + 1}" for b in result["unidentified"]))


def summary_parts(a) -> dict:
    """The summary by key (a test may plant a wrong sentence by setting ``a._planted``)."""
    return getattr(a, "_planted", None) or say.summary_parts(a)


def check_summary(a) -> list[str]:
    """Every number of every summary sentence, against what its result says; returns the mismatches."""
    problems = []
    for key, sentence in summary_parts(a).items():
        allowed = expected_tokens(a, key)
        extra = [t for t in numbers(sentence) if t not in allowed]
        if extra:
            problems.append(f"{key}: {extra} not in the results ({sorted(allowed)}): {sentence}")
    return problems


def check_parts_add_up(a) -> list[str]:
    """Totals equal the sum of their parts: ledger periods, lost by reason and by band, gap parts, reasons."""
    problems = []
    if a.ledger_ is not None:
        t = a.ledger_.table.groupby("period", sort=False)[["start", "new", "lost", "end"]].sum()
        if not (t["start"] + t["new"] - t["lost"] == t["end"]).all():
            problems.append("ledger: start + new - lost != end in some period")
        totals = a.ledger_.totals(12 if a.period == "M" else 4)
        for by in ("reason", "band"):
            lost = a.lost_table(by)
            if int(lost["lost"].sum()) != totals["lost"]:
                problems.append(f"lost by {by}: {int(lost['lost'].sum())} != {totals['lost']}")
            if not np.isclose(lost["monthly revenue lost"].sum(), totals["revenue_out"]):
                problems.append(f"lost revenue by {by} does not add up to the total")
            if not np.isclose(lost["share of lost revenue"].sum(), 1.0):
                problems.append(f"shares of lost revenue by {by} do not add up to 100%")
    if a.gap_bands_ is not None:
        parts = a.ltv_.gap_parts(*a.gap_bands_).set_index("part")["value"]
        gap = a.ltv_.gap(*a.gap_bands_)["estimate"]
        if not np.isclose(parts.drop("total").sum(), parts["total"]) or not np.isclose(parts["total"], gap):
            problems.append("LTV gap parts do not add up to the gap")
        shown = [p for p in parts.index if p != "total" and p not in a.gap_parts_shown_]
        if any(abs(parts[p]) > 1e-9 for p in shown):
            problems.append(f"a gap part left out of the figure is not zero: {shown}")
    if a.incidence_ is not None:
        times = [6.0, 12.0]
        inc = a.incidence_.at(times)
        km = a.km_.survival_at(times).set_index(["segment", "time"])["survival"]
        for (segment, time), part in inc.groupby(["segment", "time"]):
            if part["incidence"].notna().all() and not np.isclose(part["incidence"].sum(), 1 - km[(segment, time)]):
                problems.append(f"churn reasons of {segment} at {time:g} months do not add up to all churn")
    return problems
