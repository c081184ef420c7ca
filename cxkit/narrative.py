"""Plain sentences for executive summaries, built only from computed results.

No number in a sentence is typed by hand: every figure is read from a fitted
result object and formatted here.

Examples
--------
>>> money(1240.4), money(-3_450_000), money(12_345_678, "€")
('$1,240', '-$3.45M', '€12.3M')
>>> duration_phrase(25.2)
'2.1 years'
"""

from __future__ import annotations

import numpy as np

__all__ = ["money", "duration_phrase", "plural", "percent", "ltv_gap_sentence", "value_at_stake_sentence",
           "nps_sentence", "retention_sentence", "hazard_sentence", "ledger_sentence", "trend_sentence",
           "contacts_sentence", "too_few_sentence"]


def money(value: float, currency: str = "$") -> str:
    """Money for people: ``$1,240``, ``$3.45M``, ``$12.3M``, ``$1.2B``."""
    if value is None or not np.isfinite(value):
        return "n/a"
    sign = "-" if value < 0 else ""
    v = abs(value)
    if v >= 1e9:
        text = f"{v / 1e9:.3g}B"
    elif v >= 1e6:
        text = f"{v / 1e6:.3g}M"
    else:
        text = f"{v:,.0f}"
    return f"{sign}{currency}{text}"


def percent(value: float, digits: int = 0) -> str:
    """A share as a percentage: ``percent(0.123) == '12%'``."""
    return f"{100 * value:.{digits}f}%"


def duration_phrase(months: float) -> str:
    """Months as people say them: ``8.4 months`` or ``2.1 years``."""
    months = abs(months)
    return f"{months / 12:.1f} years" if months >= 12 else f"{months:.1f} months"


def plural(segment: str) -> str:
    """``promoter`` -> ``Promoters``; other segments -> ``Customers in <segment>``."""
    known = {"detractor", "passive", "promoter"}
    if segment in known:
        return segment.capitalize() + "s"
    if segment in {"dissatisfied", "neutral", "satisfied"}:
        return f"{segment.capitalize()} customers"
    return f"Customers in {segment}"


def ltv_gap_sentence(ltv, a: str = "promoter", b: str = "detractor") -> str:
    """``Promoters stay on average 2.1 years longer and are worth $1,240 more (95% CI ...) than detractors ...``.

    Parameters
    ----------
    ltv : SegmentLTV
    a, b : str
        Segments compared (``a`` minus ``b``).
    """
    g = ltv.gap(a, b)
    level = int(round(100 * (1 - ltv.alpha)))
    stay = "longer" if g["lifetime_months"] >= 0 else "less"
    worth = "more" if g["estimate"] >= 0 else "less"
    years = ltv.horizon / 12
    horizon = f"{years:g} years" if ltv.horizon % 12 == 0 else f"{ltv.horizon} months"
    return (f"{plural(a)} stay on average {duration_phrase(g['lifetime_months'])} {stay} and are worth "
            f"{money(abs(g['estimate']), ltv.currency)} {worth} ({level}% CI {money(g['lower'], ltv.currency)} to "
            f"{money(g['upper'], ltv.currency)}) than {plural(b).lower()} over the next {horizon}, "
            f"discounted at {percent(ltv.discount_rate)} a year.")


def value_at_stake_sentence(ltv, moves: dict, share: float = 0.10, base_counts: dict | None = None,
                            audience: str = "the customer base") -> str:
    """``Moving 10% of detractors (1,234 customers) to passive is worth $X (95% CI ...) ...``."""
    v = ltv.value_at_stake(moves, share, base_counts)
    level = int(round(100 * (1 - ltv.alpha)))
    pairs = " and ".join(f"{plural(src).lower()} to {dst}" for src, dst in moves.items())
    verb = "adds" if v["estimate"] >= 0 else "removes"
    return (f"Moving {percent(share)} of {pairs} ({v['customers_moved']:,.0f} customers) {verb} "
            f"{money(abs(v['estimate']), ltv.currency)} of lifetime value to {audience} ({level}% CI "
            f"{money(v['lower'], ltv.currency)} to {money(v['upper'], ltv.currency)}), "
            f"{money(v['per_customer'], ltv.currency)} per customer moved.")


def join_words(words: list[str]) -> str:
    """``['plan', 'region', 'offer']`` -> ``'plan, region and offer'``."""
    words = [str(w) for w in words]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def nps_sentence(row, alpha: float = 0.05, what: str = "NPS") -> str:
    """``NPS is +23 (95% CI +21 to +25), from the latest answer of 5,929 customers.``"""
    level = int(round(100 * (1 - alpha)))
    if row["small"]:
        return f"Only {row['n']:,} customers answered: too few for a stable {what}."
    return (f"{what} is {row['nps']:+.0f} ({level}% CI {row['lower']:+.0f} to {row['upper']:+.0f}), "
            f"from the latest answer of {row['n']:,} customers.")


def retention_sentence(km, months: float, low: str, high: str, after: str = "after answering") -> str:
    """``12 months after answering, 61% of detractors are still customers against 86% of promoters (...)``.

    ``after`` names the clock: ``"after answering"`` or ``"of tenure"``.
    """
    from cxkit.survival.logrank import format_p

    at = km.survival_at([months]).set_index("segment")["survival"]
    p = format_p(km.logrank_.p_value)
    p_text = f"p {p}" if p.startswith("<") else f"p = {p}"
    lead = f"{months:g} months {after}" if after.startswith("after") else f"At {months:g} months {after}"
    return (f"{lead}, {percent(at[low])} of {plural(low).lower()} are still customers against "
            f"{percent(at[high])} of {plural(high).lower()} (log-rank {p_text}).")


def hazard_sentence(cox, segment_col: str, level: str, reference: str, others: list[str]) -> str:
    """``Detractors churn 2.1 times as fast as passives (95% CI 1.9 to 2.3), allowing for plan and region.``"""
    row = cox.summary.loc[f"{segment_col}[{level}]"]
    level_pct = int(round(100 * (1 - cox.alpha)))
    if row["note"]:
        return f"{plural(level)}: {row['note']}."
    allowing = f", allowing for {join_words(others)}" if others else ""
    return (f"{plural(level)} churn {row['hazard_ratio']:.1f} times as fast as {plural(reference).lower()} "
            f"({level_pct}% CI {row['lower']:.1f} to {row['upper']:.1f}){allowing}.")


def ledger_sentence(ledger, last: int = 12, currency: str = "$") -> str:
    """``Over the last 12 months the base grew from 10,271 to 13,660: 6,570 joined and 3,181 left, ...``."""
    t = ledger.totals(last)
    unit = "months" if ledger.period == "M" else "quarters"
    verb = "grew" if t["end"] >= t["start"] else "shrank"
    text = (f"Over the last {t['periods']} {unit} the base {verb} from {t['start']:,} to {t['end']:,} customers: "
            f"{t['new']:,} joined and {t['lost']:,} left, taking {money(t['revenue_out'], currency)} a month of "
            f"revenue with them against {money(t['revenue_in'], currency)} a month brought in")
    lost = ledger.lost_by_band_
    recent = lost[lost["period"].isin(ledger.table["period"].drop_duplicates().tail(last))]
    answered = recent[recent["band"] != "no answer"]
    if len(answered) and answered["revenue_out"].sum() > 0:
        share = answered.groupby("band")["revenue_out"].sum() / answered["revenue_out"].sum()
        worst = share.idxmax()
        text += (f"; among those who had answered, {plural(worst).lower()} took {percent(share[worst])} of the "
                 "lost revenue")
    return text + "."


def trend_sentence(trend) -> str:
    """``NPS in 2026-09 was +28 (95% CI +19 to +37), 3 points below 2026-08 (p = 0.60): within normal variation.``"""
    t = trend.table[trend.table["nps"].notna()]
    if t.empty:
        return "Too few answers in any period to trend NPS."
    last = t.iloc[-1]
    level = int(round(100 * (1 - trend.alpha)))
    text = f"NPS in {last['period']} was {last['nps']:+.0f} ({level}% CI {last['lower']:+.0f} to {last['upper']:+.0f})"
    if len(t) > 1 and last["change"] == last["change"]:
        prev = t.iloc[-2]["period"]
        word = "above" if last["change"] >= 0 else "below"
        p_value = last["change_p"]
        tested = f" (p = {p_value:.2f})" if p_value == p_value else ""  # no p when both periods have no spread
        text += (f", the same as {prev}" if round(abs(last["change"])) == 0 and not tested
                 else f", {abs(last['change']):.0f} points {word} {prev}{tested}")
    flag = last["flag"]
    verdict = "within normal variation" if flag == "within normal variation" else f"a real shift ({flag[7:]})"
    return f"{text}: {verdict}."


def contacts_sentence(contacts, low: str = "detractor", high: str = "promoter") -> str:
    """``Detractors contact care 0.97 times a quarter against 0.24 for promoters, costing $8.34 against $1.54.``"""
    from cxkit.aggregate import UNITS

    t = contacts.by_band_
    last = t[t["period"] == t["period"].iloc[-1]].set_index("band")
    if low not in last.index or high not in last.index:
        return "Too few answers to compare contacts by band."
    unit = UNITS[contacts.period]
    return (f"In {t['period'].iloc[-1]}, {plural(low).lower()} contacted care "
            f"{last.loc[low, 'contacts_per_customer']:.2f} times per customer against "
            f"{last.loc[high, 'contacts_per_customer']:.2f} for {plural(high).lower()}, costing "
            f"${last.loc[low, 'cost_per_customer']:,.2f} against ${last.loc[high, 'cost_per_customer']:,.2f} "
            f"per customer in the {unit}.")


def too_few_sentence(band: str, n: int, minimum: int) -> str:
    """The sentence shown instead of a number for a band too small for a stable estimate."""
    return (f"Too few {plural(band).lower()} here ({n:,}, under {minimum:,}) for a stable estimate: "
            "their numbers are not shown.")


def no_churn_reason(answered: int) -> str:
    """Why churn drivers and lifetime value are not shown when nobody left."""
    return (f"none of the {answered:,} customers who answered has left, so how long customers stay cannot be "
            "estimated yet")


def one_band_reason(present: list[str]) -> str:
    """Why hazard ratios between bands are not shown when answers fall in one band (or none)."""
    if not present:
        return "no customer answered"
    return f"every answer is in one band ({plural(present[0]).lower()}), so there is no other band to compare with"


def unavailable_sentence(not_available: dict) -> str | None:
    """``Not available here: churn drivers and lifetime value, because ...`` (one sentence per reason).

    Examples
    --------
    >>> unavailable_sentence({"churn drivers": "nobody left", "lifetime value": "nobody left"})
    'Not available here: churn drivers and lifetime value, because nobody left.'
    """
    by_reason: dict[str, list[str]] = {}
    for what, reason in not_available.items():
        by_reason.setdefault(reason, []).append(what)
    if not by_reason:
        return None
    return " ".join(f"Not available here: {join_words(whats)}, because {reason.rstrip('.')}."
                    for reason, whats in by_reason.items())
