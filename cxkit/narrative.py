"""Plain sentences for executive summaries, built only from computed results.

No number in a sentence is typed by hand: every figure is read from a fitted
result object and formatted here.

Examples
--------
>>> money(1240.4), money(-3_450_000), money(12_345_678, "€")
('$1,240', '−$3.45M', '€12.3M')
>>> duration_phrase(25.2)
'2.1 years'
"""

from __future__ import annotations

import numpy as np

from cxkit.formats import (  # noqa: F401  (formatting lives in cxkit.formats; these names stay importable here)
    MINUS,
    NOT_AVAILABLE,
    column_label,
    duration_phrase,
    horizon_phrase,
    money,
    p_text,
    percent,
    plural,
    points,
    signed,
    slice_label,
    term_label,
)
from cxkit.formats import (
    gap as signed_gap,
)
from cxkit.periods import UNITS

__all__ = ["money", "signed", "p_text", "column_label", "term_label", "nps_population", "duration_phrase", "plural",
           "percent", "ltv_gap_sentence", "value_at_stake_sentence", "nps_sentence", "retention_sentence",
           "hazard_sentence", "descriptive_score_sentence", "audience_sentence", "ledger_sentence", "trend_verdict",
           "trend_sentence",
           "trend_title", "contacts_sentence", "too_few_sentence", "MINUS", "NOT_AVAILABLE", "section_intro",
           "cox_note_lines", "date_line", "glossary", "slice_nps_sentence", "score_name", "score_noun", "points",
           "descriptive_ltv_sentence", "reasons_intro", "unclaimed_gaps", "unclaimed_gap_words", "audience_name"]


def nps_population(data, window_months: float | None = 12, active_only: bool = True) -> str:
    """Who an NPS counts, in words; the same definition in the report, the CLI and the API.

    >>> class D: mode, as_of = "dated", "2026-09-30"
    >>> nps_population(D())
    'customers active on 2026-09-30 whose latest answer is from the last 12 months'
    """
    if data.mode == "snapshot":
        return "customers still active in the snapshot" if active_only else "every customer in the snapshot"
    who = f"customers active on {data.as_of}" if active_only else "every customer who ever answered"
    if window_months:
        who += f" whose latest answer is from the last {window_months:g} months"
    return who


def _level(alpha: float) -> int:
    return int(round(100 * (1 - alpha)))


def _excludes(lower: float, upper: float, null: float = 0.0) -> bool:
    """True when an interval lies wholly on one side of ``null``: only then is a difference claimed."""
    return bool(np.isfinite(lower) and np.isfinite(upper) and (lower > null or upper < null))


def _member(segment: str) -> str:
    """``promoter`` -> ``promoter``, ``satisfied`` -> ``satisfied customer``, ``Pro`` -> ``customer in Pro``."""
    name = plural(segment)
    return name[:-1].lower() if name.endswith("s") and not name.startswith("Customers in") else (
        f"customer in {segment}")


def _assumption(key: str) -> str:
    """How fast a band would leave beyond its data under one of :class:`SegmentLTV`'s tail assumptions."""
    if key.startswith("like:"):
        return f"as fast as {plural(key[5:]).lower()}"
    return {"no_exit": "not at all", "bound": "at the fastest steady rate their data allows",
            "own": "at the rate fitted to their data"}[key]


def _why_unidentified(ltv, band: str) -> str:
    row = ltv.summary.set_index("segment").loc[band]
    if row["unidentified_reason"] == "no_churn":
        return f"no {_member(band)} has left yet"
    return f"too few {plural(band).lower()} were followed to see how fast they leave"


def _between(low: float, high: float, cur: str) -> str:
    """``between $887 and $1,424 more``, ``between $20 and $90 less``, or a range across zero, told as such."""
    if low >= 0:
        return f"between {money(low, cur)} and {money(high, cur)} more"
    if high <= 0:
        return f"between {money(-high, cur)} and {money(-low, cur)} less"
    return f"anywhere from {money(-low, cur)} less to {money(high, cur)} more"


def _tail_range_text(ltv, bands: list[str]) -> str:
    """``how fast promoters would leave (from as fast as detractors to not at all)``, for each band."""
    s = ltv.summary.set_index("segment")
    return join_words([f"how fast {plural(x).lower()} would leave (from {_assumption(s.loc[x, 'tail_low_assumption'])}"
                       f" to {_assumption(s.loc[x, 'tail_high_assumption'])})" for x in bands])


def _unidentified_gap_sentence(ltv, g: dict, a: str, b: str, lead: str) -> str:
    """The gap told as a part the data covers, with its interval, and a part beyond it that rests on an
    assumption, with the range of that assumption and no interval of its own."""
    cur, level = ltv.currency, _level(ltv.alpha)
    observed = (f"({level}% CI {money(g['observed_lower'], cur)} to {money(g['observed_upper'], cur)})")
    if _excludes(g["observed_lower"], g["observed_upper"]):
        worth = "more" if g["observed_estimate"] >= 0 else "less"
        first = (f"{lead} {money(abs(g['observed_estimate']), cur)} {worth} per customer than "
                 f"{plural(b).lower()} {observed}")
    else:
        first = (f"{lead} no clear difference from {plural(b).lower()}: {money(g['observed_estimate'], cur)} "
                 f"{observed}")
    why = join_words([_why_unidentified(ltv, x) for x in g["unidentified"]])
    return (f"Over the first {g['observed_months']} months, which the data covers, {first}. "
            f"{why[0].upper()}{why[1:]}, so what comes after is an assumption: over {horizon_phrase(ltv.horizon)}, "
            f"discounted at {percent(ltv.discount_rate)} a year, {plural(a).lower()} are worth "
            f"{_between(g['lower'], g['upper'], cur)} than {plural(b).lower()}, depending on "
            f"{_tail_range_text(ltv, g['unidentified'])}.")


def ltv_gap_sentence(ltv, a: str = "promoter", b: str = "detractor") -> str:
    """``Promoters stay on average 2.1 years longer and are worth $1,240 more (95% CI ...) than detractors ...``.

    A difference is claimed only when its interval excludes zero; otherwise the sentence says the data
    cannot tell the two apart. When either band's survival beyond the data is not identified (nobody in it
    left, or too few were followed), the sentence gives the gap over the months the data covers with its
    interval, and beyond them only the range under the tail assumptions, never a tight interval.

    Parameters
    ----------
    ltv : SegmentLTV
    a, b : str
        Segments compared (``a`` minus ``b``).
    """
    g = ltv.gap(a, b)
    if not g["identified"]:
        return _unidentified_gap_sentence(ltv, g, a, b, f"{plural(a).lower()} brought")
    level = _level(ltv.alpha)
    horizon = horizon_phrase(ltv.horizon)
    cur = ltv.currency
    interval = f"({level}% CI {money(g['lower'], cur)} to {money(g['upper'], cur)})"
    if not _excludes(g["lower"], g["upper"]):
        return (f"Over the next {horizon}, the data shows no clear difference in lifetime value between "
                f"{plural(a).lower()} and {plural(b).lower()}: {money(g['estimate'], cur)} {interval}.")
    stay = "longer" if g["lifetime_months"] >= 0 else "less"
    worth = "more" if g["estimate"] >= 0 else "less"
    return (f"{plural(a)} stay on average {duration_phrase(g['lifetime_months'])} {stay} and are worth "
            f"{money(abs(g['estimate']), cur)} {worth} {interval} than {plural(b).lower()} over the next "
            f"{horizon}, discounted at {percent(ltv.discount_rate)} a year.")


def value_at_stake_sentence(ltv, moves: dict, share: float = 0.10, base_counts: dict | None = None,
                            audience: str = "the customer base") -> str:
    """``If 10% of detractors behaved like passives (1,234 customers), the customer base would gain $X of lifetime
    value (95% CI ...), $Y per customer, assuming they would then stay and spend as passives do today.``

    A scenario, not a forecast: its assumption is named. When the interval includes zero the sentence says the
    data cannot tell whether the move adds value.
    """
    v = ltv.value_at_stake(moves, share, base_counts)
    level = _level(ltv.alpha)
    cur = ltv.currency
    if not v["identified"]:
        like = " and ".join(f"{plural(src).lower()} behaved like {plural(dst).lower()}" for src, dst in moves.items())
        lo, hi = v["lower"], v["upper"]
        change = (f"grow by between {money(lo, cur)} and {money(hi, cur)}" if lo >= 0 else
                  f"shrink by between {money(-hi, cur)} and {money(-lo, cur)}" if hi <= 0 else
                  f"change by anywhere from {money(lo, cur)} to {money(hi, cur)}")
        s = ltv.summary.set_index("segment")
        how = join_words([f"how fast {plural(x).lower()} would leave after their first "
                          f"{int(s.loc[x, 'observed_months']) + 1} months (from "
                          f"{_assumption(s.loc[x, 'tail_low_assumption'])} to "
                          f"{_assumption(s.loc[x, 'tail_high_assumption'])})" for x in v["unidentified"]])
        why = join_words([_why_unidentified(ltv, x) for x in v["unidentified"]])
        return (f"If {percent(share)} of {like} ({v['customers_moved']:,.0f} customers), the lifetime value of "
                f"{audience} would {change}, depending on {how}: {why}, so that is an assumption.")
    like = " and ".join(f"{plural(src).lower()} behaved like {plural(dst).lower()}" for src, dst in moves.items())
    lead = f"If {percent(share)} of {like} ({v['customers_moved']:,.0f} customers)"
    as_they = join_words([plural(dst).lower() for dst in moves.values()])
    assume = f"assuming they would then stay and spend as {as_they} do today"
    interval = f"{level}% CI {money(v['lower'], cur)} to {money(v['upper'], cur)}"
    if not _excludes(v["lower"], v["upper"]):
        return (f"{lead}, the data shows no clear change in the lifetime value of {audience}: "
                f"{money(v['estimate'], cur)} ({interval}), an interval that includes no change.")
    verb = "gain" if v["estimate"] >= 0 else "lose"
    return (f"{lead}, {audience} would {verb} {money(abs(v['estimate']), cur)} of lifetime value ({interval}), "
            f"{money(abs(v['per_customer']), cur)} per customer, {assume}.")


def join_words(words: list[str]) -> str:
    """``['plan', 'region', 'offer']`` -> ``'plan, region and offer'``."""
    words = [str(w) for w in words]
    if not words:
        return ""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def counted(n: int, population: str) -> str:
    """``4,101 customers active on ...``; one is ``1 customer active on ...``.

    >>> counted(1, "customers active on 2026-09-30"), counted(2, "customers")
    ('1 customer active on 2026-09-30', '2 customers')
    """
    if n == 1 and population.startswith("customers"):
        population = "customer" + population[len("customers"):]
    return f"{n:,} {population}"


def nps_sentence(row, alpha: float = 0.05, what: str = "NPS", population: str = "customers") -> str:
    """``NPS is +33 (95% CI +31 to +35) among the 4,101 customers active on 2026-09-30 whose ...``.

    ``population`` says who was counted (:func:`nps_population`).
    """
    if row["small"]:
        return f"Only {counted(row['n'], population)} answered: too few for a stable {what}."
    return (f"{what} is {signed(row['nps'])} ({_level(alpha)}% CI {signed(row['lower'])} to {signed(row['upper'])}) "
            f"among the {row['n']:,} {population}.")


def slice_nps_sentence(mine, everyone, alpha: float, population: str, difference: dict | None = None,
                       parent=None, parent_label: str | None = None, holds: bool | None = None,
                       leaves_faster: bool = False, name: str | None = None) -> str:
    """This audience's NPS, its parent's (in a hierarchy), everyone's, and whether the audience differs from
    the other customers (of its parent, when it has one).

    ``difference`` is :func:`cxkit.nps.nps_difference` of this audience against the rest; a difference is
    claimed only when its interval excludes zero and (``holds``, when given) it holds among the audience's
    comparisons under Holm's correction. ``leaves_faster``: the audience's customers leave faster than others in
    the same band (a difference that holds), so a higher NPS is partly who is left to answer, and is said so.
    """
    if mine["small"]:
        return (f"Only {counted(mine['n'], population)} in {name or 'this audience'} answered: too few for a stable "
                "NPS.")
    level = _level(alpha)
    others = f"everyone's is {signed(everyone['nps'])}"
    rest = "the other customers"
    if parent is not None:
        others = f"for {parent_label} it is {signed(parent['nps'])} and for everyone {signed(everyone['nps'])}"
        rest = f"the other customers of {parent_label}"
    text = (f"{name or 'This audience'}'s NPS is {signed(mine['nps'])} ({level}% CI {signed(mine['lower'])} to "
            f"{signed(mine['upper'])}) among its {mine['n']:,} {population}; {others}.")
    if difference is None:
        return text
    gap = (f"{signed_gap(difference['difference'])} points ({level}% CI {signed(difference['lower'])} to "
           f"{signed(difference['upper'])})")
    if _excludes(difference["lower"], difference["upper"]) and holds is not False:
        way = "above" if difference["difference"] > 0 else "below"
        text += f" It is {way} {rest}' NPS by {gap[1:] if gap[0] in '+' + MINUS else gap}"
        if difference["difference"] > 0 and leaves_faster:
            text += (", but its customers leave faster, so fewer of its unhappy customers remain to answer: a "
                     "higher NPS here need not mean happier customers")
        return text + "."
    return text + f" Against {rest} the data shows no clear difference: {gap}."


def audience_row_label(row, diff) -> str:
    """A row of :class:`~cxkit.audience.AudienceDifferences` as the report's table names it."""
    if row["measure"] == "churn hazard":
        return "churn hazard, same band"
    if row["measure"] == "nps":
        return "NPS (headline)"
    if row["measure"] == "lifetime value":
        return f"{row['band']} lifetime value"
    # each customer from their first answer (the comparison's own clock), told apart from the latest-answer rows
    return f"{plural(row['band']).lower()} still customers {diff.retention_months:g} months after first answer"


def audience_name(slice_by: dict | None) -> str | None:
    """An audience by its own label where one value of one column makes it (``West``); None otherwise (the words
    then say "this audience").

    >>> audience_name({"region": "West"}), audience_name({"region": ["West", "East"]}), audience_name(None)
    ('West', None, None)
    """
    if not slice_by or len(slice_by) != 1:
        return None
    (value,) = slice_by.values()
    if isinstance(value, list):
        if len(value) != 1:
            return None
        value = value[0]
    return str(value)


def audience_sentence(diff, parent_label: str | None = None, name: str | None = None) -> str | None:
    """How an audience differs from the other customers in churn and retention, only where the difference holds
    under Holm's correction (:class:`~cxkit.audience.AudienceDifferences`); None when it has nothing to say.

    ``Its customers leave 1.84 times as fast as other customers with the same NPS band and plan (95% CI 1.64
    to 2.07); 12 months after answering, 47% of its detractors are still customers against 60% of the other
    detractors.``
    """
    if diff is None:
        return None
    s = diff.summary
    level = _level(diff.alpha)
    rest = f"other customers of {parent_label}" if parent_label else "other customers"
    held = s[s["holds"] & (s["measure"] != "nps")]
    tested = s[s["measure"] != "nps"]
    if tested.empty:
        return None
    if held.empty:
        seen = unclaimed_gap_words(diff)
        hazard = s[s["measure"] == "churn hazard"]
        if seen and len(hazard):  # a band's gap shows: the churn comparison with its interval, then the gap
            r = hazard.iloc[0]
            return (f"In churn {name or 'this audience'} is not distinguishable from the {rest} (hazard ratio "
                    f"{r['difference']:.2f}, {level}% CI {r['lower']:.2f} to {r['upper']:.2f}). "
                    f"{seen[0].upper()}{seen[1:]}.")
        return (f"In churn and in retention by band {name or 'this audience'} is not distinguishable from the {rest} "
                f"(the differences seen are no larger than chance alone gives across the {len(s)} comparisons made, "
                f"at {level}% confidence).")
    parts = []
    hazard = held[held["measure"] == "churn hazard"]
    if len(hazard):
        r = hazard.iloc[0]
        same = join_words([f"{band_name(diff.score_)}"] + [_in_sentence(column_label(c)) for c in diff.adjusted_for_])
        ci = f"{level}% CI {r['lower']:.2f} to {r['upper']:.2f}"
        if r["difference"] >= 1:
            parts.append(f"Its customers leave {r['difference']:.2f} times as fast as {rest} with the same {same} "
                         f"({ci})")
        else:
            parts.append(f"Its customers leave at {r['difference']:.2f} times the rate of {rest} with the same "
                         f"{same} ({ci})")
    bands = held[held["measure"] == "still a customer"]
    if len(bands):
        shares = join_words([f"{percent(r['audience'])} of its {plural(r['band']).lower()} are still customers "
                             f"against {percent(r['others'])} of the other {plural(r['band']).lower()}"
                             for _, r in bands.iterrows()])
        parts.append(f"{at_time(diff.retention_months, 'after answering')}, {shares}")
    values = held[held["measure"] == "lifetime value"]
    if len(values):
        worth = join_words([f"its {plural(r['band']).lower()} {money(r['audience'])} against {money(r['others'])} "
                            f"for the other {plural(r['band']).lower()} ({level}% CI of the difference "
                            f"{money(r['lower'])} to {money(r['upper'])})" for _, r in values.iterrows()])
        parts.append(f"lifetime value per customer: {worth}")
    return " ".join(p[:1].upper() + p[1:] + "." for p in parts)


def unclaimed_gaps(diff):
    """The bands' rows of an audience comparison whose own interval excludes no difference but which do not hold
    (the churn gate stayed shut, or Holm's correction took them), most distant from none first: gaps a table shows
    and the words must not call alike, nor claim."""
    s = diff.summary
    scale = np.where(s["measure"] == "still a customer", 100.0, 1.0)  # shares are shown in whole points
    lower, upper, null = (np.round(s[c] * scale) for c in ("lower", "upper", "null"))
    rows = s[(s["measure"] != "nps") & (s["measure"] != "churn hazard") & ~s["holds"]
             & ((lower > null) | (upper < null))]  # as shown: an end that reads 0 does not exclude it
    return rows.assign(_s=rows["z"].abs()).sort_values("_s", ascending=False).drop(columns="_s")


def unclaimed_gap_words(diff) -> str:
    """``its detractors stayed less (49% against 61% of the other detractors still customers 12 months after their
    first answer: -12 points, 95% CI -20 to -4), a gap not claimed: with churn alike overall, one gap among 5
    comparisons can be chance``; empty where no band's own interval excludes no difference."""
    rows = unclaimed_gaps(diff)
    rows = rows[rows["measure"] == "still a customer"]
    if rows.empty:
        return ""
    level = _level(diff.alpha)
    parts = []
    for _, r in rows.iterrows():
        band = plural(r["band"]).lower()
        parts.append(f"its {band} stayed {'less' if r['difference'] < 0 else 'more'} ({percent(r['audience'])} "
                     f"against {percent(r['others'])} of the other {band} still customers "
                     f"{diff.retention_months:g} months after their first answer: {signed(100 * r['difference'])} "
                     f"points, {level}% CI {signed(100 * r['lower'])} to {signed(100 * r['upper'])})")
    gate = bool(rows["tested"].all())  # the churn gate opened: Holm's correction among the bands took them
    why = (f"among {len(diff.summary)} comparisons it can be chance" if gate else
           f"with churn alike overall, one gap among {len(diff.summary)} comparisons can be chance")
    return f"{join_words(parts)}, {'a gap' if len(parts) == 1 else 'gaps'} not claimed: {why}"


def score_noun(score: str) -> str:
    """The score as a thing with a value: ``NPS score``, ``satisfaction score``, ``effort score``.

    >>> score_noun("nps"), score_noun("csat")
    ('NPS score', 'satisfaction score')
    """
    name = score_name(score)
    return name if name.endswith("score") else f"{name} score"


def score_name(score: str) -> str:
    """``nps`` -> ``NPS``, ``csat`` -> ``satisfaction score``, ``effort`` -> ``effort score``."""
    names = {"nps": "NPS", "csat": "satisfaction score", "effort": "effort score"}
    return names.get(score, column_label(score).lower())


def at_time(months: float, phrase: str) -> str:
    """``12 months after answering`` or ``At 12 months of tenure`` (``phrase`` from :func:`cxkit.clock.since`)."""
    from cxkit.clock import since

    return f"{months:g} months {phrase}" if phrase == since("response") else f"At {months:g} months {phrase}"


def retention_sentence(km, months: float, low: str, high: str, after: str = "after answering") -> str:
    """``12 months after answering, 61% of detractors are still customers against 86% of promoters (...)``.

    ``after`` names the clock: ``"after answering"`` or ``"of tenure"``. When the log-rank test cannot
    tell the bands apart, the sentence says so instead of setting one against the other.
    """
    at = km.survival_at([months]).set_index("segment")["survival"]
    p = km.logrank_.p_value
    lead = at_time(months, after)
    shares = (f"{percent(at[low])} of {plural(low).lower()} are still customers against "
              f"{percent(at[high])} of {plural(high).lower()}")
    # the test's name is in the method notes and on the chart; the sentence says what the p means
    if not (np.isfinite(p) and p < km.alpha):
        return f"{lead}, {shares}: no clear difference between the bands ({p_text(p)})."
    return f"{lead}, {shares} (more than chance: {p_text(p)})."


def hazard_sentence(cox, segment_col: str, level: str, reference: str, others: list[str]) -> str:
    """``Detractors churn 2.1 times as fast as passives (95% CI 1.9 to 2.3), allowing for plan and region.``"""
    row = cox.summary.loc[f"{segment_col}[{level}]"]
    level_pct = _level(cox.alpha)
    if row["note"]:
        return f"{plural(level)}: {row['note']}."
    allowing = f", allowing for {join_words([column_label(c).lower() for c in others])}" if others else ""
    interval = f"({level_pct}% CI {row['lower']:.1f} to {row['upper']:.1f})"
    if not _excludes(row["lower"], row["upper"], 1.0):
        return (f"The data shows no clear difference in how fast {plural(level).lower()} and "
                f"{plural(reference).lower()} churn: hazard ratio {row['hazard_ratio']:.1f} {interval}{allowing}.")
    if row["hazard_ratio"] >= 1:
        return (f"{plural(level)} churn {row['hazard_ratio']:.1f} times as fast as {plural(reference).lower()} "
                f"{interval}{allowing}.")
    return (f"{plural(level)} churn {1 - row['hazard_ratio']:.0%} more slowly than {plural(reference).lower()} "
            f"(hazard ratio {row['hazard_ratio']:.2f}, {level_pct}% CI {row['lower']:.2f} to {row['upper']:.2f})"
            f"{allowing}.")


def _score_story(snapshot: bool, separates: bool) -> str:
    if snapshot and separates:
        return "was taken at the end of follow-up and separates who left almost perfectly"
    return "was taken at the end of follow-up" if snapshot else "separates who left almost perfectly"


def descriptive_score_sentence(score_name: str, churned_share: dict, low: str, high: str, snapshot: bool,
                               separates: bool = True) -> str:
    """Why a score that mirrors the outcome is described, not used to predict churn.

    >>> descriptive_score_sentence("satisfaction score", {"dissatisfied": 1.0, "satisfied": 0.0},
    ...                            "dissatisfied", "satisfied", True)  # doctest: +NORMALIZE_WHITESPACE
    'The satisfaction score was taken at the end of follow-up and separates who left almost perfectly:
    100% of dissatisfied customers have left against 0% of satisfied customers. It describes who stayed and
    who left, not who will leave, so this report does not turn it into churn forecasts or value to gain; its
    curves and values by band describe who left.'
    """
    return (f"The {score_name} {_score_story(snapshot, separates)}: {percent(churned_share[low])} of "
            f"{plural(low).lower()} have left against {percent(churned_share[high])} of {plural(high).lower()}. "
            "It describes who stayed and who left, not who will leave, so this report does not turn it into churn "
            "forecasts or value to gain; its curves and values by band describe who left.")


def descriptive_reason(snapshot: bool, separates: bool = True) -> str:
    """Why the value at stake and band hazard ratios are left out for a score that mirrors the outcome."""
    return f"the score {_score_story(snapshot, separates)}, so moving it says nothing about what customers will do"


def descriptive_ltv_sentence(ltv, a: str, b: str) -> str:
    """The lifetime-value gap told as a description of customers by the score they ended with."""
    g = ltv.gap(a, b)
    if not g["identified"]:
        return _unidentified_gap_sentence(ltv, g, a, b, f"customers who ended {a} brought")
    cur = ltv.currency
    interval = f"({_level(ltv.alpha)}% CI {money(g['lower'], cur)} to {money(g['upper'], cur)})"
    horizon = horizon_phrase(ltv.horizon)
    if not _excludes(g["lower"], g["upper"]):
        return (f"Over their first {horizon}, customers who ended {a} and those who ended {b} show no clear "
                f"difference in value: {money(g['estimate'], cur)} {interval}.")
    worth = "more" if g["estimate"] >= 0 else "less"
    return (f"Customers who ended {a} were worth {money(abs(g['estimate']), cur)} {worth} {interval} over their "
            f"first {horizon} than those who ended {b}, discounted at {percent(ltv.discount_rate)} a year.")


def ledger_sentence(ledger, last: int = 12, currency: str = "$") -> str:
    """``Over the last 12 months the base grew from 10,271 to 13,660: 6,570 joined and 3,181 left, ...``."""
    t = ledger.totals(last)
    from cxkit.periods import plural_unit

    unit = plural_unit(ledger.period)
    verb = "grew" if t["end"] >= t["start"] else "shrank"
    text = (f"Over the last {t['periods']} {unit} the base {verb} from {t['start']:,} to {t['end']:,} customers: "
            f"{t['new']:,} joined and {t['lost']:,} left, taking {money(t['revenue_out'], currency)} of monthly "
            f"revenue with them against {money(t['revenue_in'], currency)} of monthly revenue brought in")
    lost = ledger.lost_by_band_
    recent = lost[lost["period"].isin(ledger.table["period"].drop_duplicates().tail(last))]
    answered = recent[recent["band"] != "no answer"]
    if len(answered) and answered["revenue_out"].sum() > 0:
        share = answered.groupby("band")["revenue_out"].sum() / answered["revenue_out"].sum()
        worst = share.idxmax()
        text += (f"; among those who had answered, {plural(worst).lower()} took {percent(share[worst])} of the "
                 "lost revenue")
    return text + "."


def _verdict(flag: str) -> tuple[str, str]:
    """A control-chart flag as (what, the rule that found it): ``("a real shift up", "8 periods in a row above
    the baseline")``; a flag without a rule, such as ``within normal variation``, has none."""
    if flag.startswith("shift"):
        rule = flag.split(": ", 1)[1].replace("the centre", "the baseline")
        return f"a real shift {'up' if 'above' in rule else 'down'}", rule
    return flag, ""


def trend_title(flag: str) -> str:
    """The trend chart's title: what the latest period is against the baseline, short enough to sit over
    the chart (the rule that flagged it is in the table beside it).

    >>> trend_title("shift: 8 periods in a row above the centre")
    'NPS by period: the latest is a real shift up'
    >>> trend_title("within normal variation")
    'NPS by period: the latest is within normal variation'
    """
    return f"NPS by period: the latest is {_verdict(flag)[0]}"


def trend_verdict(flag: str, baseline: bool = True) -> str:
    """A control-chart flag in words: ``a real shift up (8 periods in a row above the baseline)``; ``baseline``
    False leaves out "around the baseline" where a table's column heading says it (one line a row, so the trend
    table prints on its chart's page).

    >>> trend_verdict("shift: 8 periods in a row above the centre")
    'a real shift up (8 periods in a row above the baseline)'
    >>> trend_verdict("within normal variation")
    'within normal variation around the baseline'
    >>> trend_verdict("within normal variation", baseline=False)
    'within normal variation'
    """
    what, rule = _verdict(flag)
    if rule:
        return f"{what} ({rule})"
    return f"{what} around the baseline" if flag == "within normal variation" and baseline else what


def mix_words(adjusted_for: list[str]) -> str:
    """What the adjusted NPS holds fixed, in words: ``tenure, plan and region``.

    >>> mix_words(["tenure", "plan", "region"]), mix_words(["tenure", "internet_type"])
    ('tenure, plan and region', 'tenure and internet type')
    """
    return join_words([_in_sentence(column_label(c)) if c != "tenure" else "tenure" for c in adjusted_for])


def trend_sentence(trend) -> str:
    """Level, change from the previous period (signal or noise), and the level against the baseline at one
    mix of customers (what changed in what customers say, not in who is left to say it).

    ``NPS of the answers given in 2026-09 was +28 (95% CI +20 to +36). Against 2026-08 it moved −3 points,
    within sampling noise (p = 0.59). Held to one mix of tenure, plan and region, it is within normal
    variation around its baseline of +24. The NPS as answered (+28 in 2026-09) reads above its own baseline of +22
    (8 periods in a row above the baseline), while held to one mix it does not: the rise goes with who answers, not
    with the same kinds of customers answering differently.``
    Each of the two questions gets its own answer, so neither can be read as the other.
    """
    t = trend.table[trend.table["nps"].notna()]
    if t.empty:
        return "Too few answers in any period to trend NPS."
    last = t.iloc[-1]
    level = _level(trend.alpha)
    text = (f"NPS of the answers given in {last['period']} was {signed(last['nps'])} ({level}% CI "
            f"{signed(last['lower'])} to {signed(last['upper'])}).")
    if len(t) > 1 and last["change"] == last["change"]:
        prev, p = t.iloc[-2]["period"], last["change_p"]
        if not np.isfinite(p):  # neither period has any spread: nothing to test
            text += (f" It is the same as {prev}." if round(abs(last["change"])) == 0
                     else f" It moved {signed(last['change'])} points from {prev}.")
        elif p < trend.alpha:
            text += (f" Against {prev} it moved {points(last['change'])}, more than sampling noise "
                     f"({p_text(p)}).")
        else:
            text += (f" Against {prev} it moved {points(last['change'])}, within sampling noise "
                     f"({p_text(p)}).")
    flag = last["flag"]
    centre = last.get("centre", np.nan)
    adjusted_for = getattr(trend, "adjusted_for_", [])
    if flag.startswith("shift") or flag == "within normal variation":
        baseline = f"its baseline of {signed(centre)}" if centre == centre else "its baseline"
        what, rule = _verdict(flag)
        held = f"Held to one mix of {mix_words(adjusted_for)}, it" if adjusted_for else "Against its baseline it"
        where = f" against {baseline}" if what.startswith("a real") else f" around {baseline}"
        text += f" {held} is {what}{where}{f' ({rule})' if rule else ''}"
        raw = str(last.get("raw_flag", ""))
        if adjusted_for and raw.startswith("shift") and not flag.startswith("shift"):
            up = "above" in raw
            # its own sentence, naming the series and its numbers (its level, its own baseline, the rule that
            # flagged it), worded as what the move goes with: the mix-held series does not move
            raw_centre = last.get("raw_centre", np.nan)
            own = f"its own baseline of {signed(raw_centre)}" if raw_centre == raw_centre else "its own baseline"
            text += (f". The NPS as answered ({signed(last['nps'])} in {last['period']}) reads "
                     f"{'above' if up else 'below'} {own} ({_verdict(raw)[1]}), while held to one mix it does not: "
                     f"the {'rise' if up else 'fall'} goes with who answers, not with the same kinds of customers "
                     "answering differently")
        elif adjusted_for and flag.startswith("shift"):
            text += ": the same kinds of customers are answering differently"
        text += "."
    return text


def contacts_sentence(contacts, low: str = "detractor", high: str = "promoter") -> str:
    """``Detractors contact care 0.97 times a quarter against 0.24 for promoters, costing $8.34 against $1.54.``"""
    from cxkit.periods import UNITS

    t = contacts.by_band_
    last = t[t["period"] == t["period"].iloc[-1]].set_index("band")
    if low not in last.index or high not in last.index:
        return "Too few answers to compare contacts by band."
    unit = UNITS[contacts.period]
    return (f"In {t['period'].iloc[-1]}, {plural(low).lower()} contacted care "
            f"{last.loc[low, 'contacts_per_customer']:.2f} times per customer against "
            f"{last.loc[high, 'contacts_per_customer']:.2f} for {plural(high).lower()}, costing "
            f"{money(last.loc[low, 'cost_per_customer'], cents=True)} against "
            f"{money(last.loc[high, 'cost_per_customer'], cents=True)} per customer in the {unit}.")


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
        by_reason.setdefault(reason_text(reason), []).append(what)
    if not by_reason:
        return None
    return " ".join(f"Not available here: {join_words(whats)}, because {reason.rstrip('.')}."
                    for reason, whats in by_reason.items())


def section_intro(section: str, clock: str, mode: str = "dated", tail: bool = True, period: str = "M") -> str:
    """The line under a section heading, following the clock the report actually uses (for ``ltv``, ``tail``:
    whether the figure hatches a fitted tail; for ``trend``, ``period``: the months' rule of three together beyond
    the limits is said only of a monthly series, the only one the trend applies it to).

    >>> section_intro("churn", "tenure", "snapshot")[:60]
    'How long customers stayed from signup, by the band of the sc'
    """
    if section == "churn":
        when = {"response": "after they answer the survey, by the band of their answer",
                "tenure_entry": "from signup, counted from their survey answer on, by the band of that answer",
                "tenure": ("from signup, by the band of the score they gave at the end of follow-up"
                           if mode == "snapshot" else "from signup, by the band of their answer")}[clock]
        verb = "stayed" if mode == "snapshot" else "stay"
        return (f"How long customers {verb} {when}. The shaded bands are 95% intervals; the rows under the chart "
                "count the customers still at risk.")
    if section == "ltv":
        start = "from signup" if mode == "snapshot" else "from the moment they first answer"
        return (f"What a customer is worth {start}: margin per month times the chance they are still a customer, "
                "discounted." + (" The hatched part comes from the fitted tail beyond the months the data covers."
                                 if tail else " The data covers the whole horizon: no part is extrapolated."))
    if section == "why" and mode == "snapshot":
        return ("What goes with low scores, from the customers' own columns (a snapshot has no contact history). "
                "These are associations in this data, not proof of cause.")
    if section == "trend":
        rule = (" a point outside it, or three months together beyond it, is" if period == "M" else
                f" a {UNITS.get(period, 'period')} outside it is")
        return ("Each period's NPS at one fixed mix of customers, with its 95% interval, and as answered (grey). "
                f"The shaded band is normal variation around the baseline;{rule} a real shift in what the same kinds "
                "of customers say.")
    if section == "stake":
        return ("What the lifetime value of the active customer base would gain if some customers of one band "
                "behaved like the band above (stayed and spent as it does today), with 95% intervals.")
    fixed = {
        "drivers": ("Hazard ratios from a Cox model: below 1, customers stay longer than the reference group; above "
                    "1, they leave sooner, among customers alike in the other columns. These are associations, not "
                    "levers: a row allowing for the others is not what changing that one thing would do."),
        "slice": ("First how this audience differs from the other customers, each difference with its interval; "
                  "then the same measures for this audience and for all customers (bands too small for a stable "
                  "estimate show 'too few')."),
        "slice_parent": ("First how this audience differs from the other customers of the audience it belongs to, "
                         "each difference with its interval; then the same measures for this audience, for that "
                         "audience and for all customers (bands too small for a stable estimate show 'too few')."),
        "value": "Lifetime value by band, and what it would be worth if customers behaved like the band above.",
        "ledger": ("Customers and monthly revenue flowing in and out of the base. Revenue is each customer's monthly "
                   "run rate; start + new - lost = end holds in every period."),
        "contacts": ("Care contacts (calls, chats, emails, complaints) and their cost per customer, by the band of "
                     "the customer's last answer."),
        "why": ("What goes with low scores and with leaving, from the answers and the contact history. These are "
                "associations in this data, not proof of cause: customers who are unhappy for other reasons may "
                "also complain more."),
    }
    if section in fixed:
        return fixed[section]
    raise ValueError(f"unknown section {section!r}")


SECTION_TITLES = {"churn": "Churn by band", "drivers": "What goes with churn", "ltv": "Lifetime value",
                  "stake": "The value at stake", "slice": "This audience against the other customers",
                  "slice_parent": "This audience against the rest of its parent",
                  "value": "What a better experience is worth", "ledger": "Customer math", "trend": "NPS over time",
                  "contacts": "Contacts and cost to serve", "reasons": "Churn reasons",
                  "why": "What goes with dissatisfaction and departure",
                  "methods": "Appendix: method notes",
                  "glossary": "Appendix: glossary"}


def reasons_intro(low: str, period: str | None = None, clock: str = "response") -> str:
    """The line under the churn reasons' heading: what the chart counts (the lowest band's customers, from their
    answer on) and, with a ledger (``period``), how that differs from the reasons the lost-revenue table and the
    brief's action rank (every leaver of the last year, by the revenue they took), so a different first reason
    is no contradiction.

    >>> reasons_intro("detractor", "M")[:72]
    'The share of detractors lost to each churn reason in the months after th'
    >>> reasons_intro("dissatisfied", clock="tenure")[55:]
    'reason in the months since they signed up, counted in customers.'
    """
    since = "after their answer" if clock == "response" else "since they signed up"  # the chart's own clock
    text = f"The share of {plural(low).lower()} lost to each churn reason in the months {since}, counted in customers."
    if period is not None:
        text += (f" The churn reason in What to do and in Customer math is ranked otherwise: by the monthly revenue "
                 f"that every customer who left in the {window_phrase(period)} took with them, so its first reason "
                 "can differ from this chart's.")
    return text


def plain_clock(clock: str) -> str:
    """A clock's description without its technical name, for a leader's page: ``months since the customer's latest
    survey answer, in the band of that answer`` (the method notes keep ``(landmark clock)``).

    >>> plain_clock("months since signup (tenure clock); customers had to survive")
    'months since signup; customers had to survive'
    """
    for name in (" (landmark clock)", " (tenure clock)"):
        clock = clock.replace(name, "")
    return clock


def caption(key: str, **numbers) -> str:
    """The line under a figure or table, by key (``retention``, ``lost-reason``, ``lost-band``, ``trend``,
    ``reasons``, ``clock``)."""
    if key == "retention":
        return "Share still a customer with 95% interval."
    if key == "lost-reason":
        return f"Lost by churn reason, {window_phrase(numbers['period'])}."
    if key == "lost-band":
        return f"Lost by the band of the customer's last answer, {window_phrase(numbers['period'])}."
    if key == "trend":
        text = "Latest periods: the NPS of every answer given in the period."
        held = numbers.get("adjusted_for") or []
        if held:
            text += (f" At a fixed mix: the NPS those answers would give at the mix of {mix_words(held)} of all "
                     "answers, so that a change in who answers (detractors leave sooner, new customers join) is not "
                     "read as a change in what they say; 'of which who answered' is the part of the change that "
                     "comes from the mix.")
        return text + " Periods under the minimum number of answers are suppressed, with the reason."
    if key == "contacts":
        return (f"Care contacts in {numbers['period']} by the band of each customer's last answer; customers are those "
                "active in the period (the average of its start and end).")
    if key == "components":  # snapshot: counted from signup; without contact data there is no contacts section
        start = "signup" if numbers.get("snapshot") else "their first answer"
        text = ("Per month as a customer: averaged over every month each customer of the band was observed, from "
                f"{start} on.")
        if numbers.get("contacts", True):
            text += (" The contacts section counts one period at a time (the customers of each band in that period), "
                     "so its latest figures differ a little from these.")
        return text
    if key == "audience":
        return ("This audience against the other customers of its population, each customer counted once from their "
                f"first answer. Churn hazard: how many times as fast its customers leave as others with the same "
                f"{join_words([_in_sentence(c) for c in numbers['adjusted_for']])} (Cox model). A difference holds "
                "where it survives the correction for the number of comparisons (Holm, with the bands' retention "
                "tested only where churn differs: 'not tested' where it does not, however wide a band's gap, since "
                "a band's own interval among several is not a claim); a difference that does not hold is not "
                "claimed.")
    if key == "reasons":
        return ("Each line: the share lost to that reason by each month, customers leaving for the other reasons "
                "counted as gone, with its 95% interval; where two reasons' intervals do not overlap, one clearly "
                "outweighs the other. "
                + stop_note(numbers["min_at_risk"]))
    if key == "clock":  # the method notes keep the clock's technical name for analysts
        return f"Clock: {plain_clock(numbers['clock'])}. {stop_note(numbers['min_at_risk'])}"
    if key == "drivers":
        return (f"Johnson's relative weights from a linear model of the {score_noun(numbers.get('score', 'nps'))} on "
                f"{numbers['n']:,} answers; bars "
                "are each driver's share of what the drivers explain together, whiskers 95% bootstrap intervals. "
                "Arrows: whether more of the driver goes with higher or lower scores.")
    if key == "departures":
        return (f"Customers who left in the last {numbers['months']} months, by churn reason: their last answer "
                "before leaving and their contacts in the days before they left. Detractor shares are of those "
                "who had answered.")
    raise ValueError(f"unknown caption {key!r}")


def stop_note(min_at_risk: int) -> str:
    """Where curves stop."""
    return f"Curves stop where fewer than {min_at_risk:,} customers remain at risk."


def cox_note_lines(cox, band_name: str = "Band") -> list[str]:
    """The Cox model's caveats in plain words: terms that cannot be estimated, links that change over time (an
    average, said without pointing to curves the report does not draw by that column)."""
    lines = [f"{term_label(term, band_name)}: {reason}." for term, reason in cox.not_estimable_.items()]
    for r in cox.ph_test_.itertuples():
        if r.holds is False:
            lines.append(f"The link of {column_label(r.covariate, band_name).lower()} with leaving changes over "
                         f"time ({p_text(r.p_value)}): its hazard ratio is an average over the follow-up, higher at "
                         "some times and lower at others.")
    return lines


def date_line(data) -> str:
    """``data as of 2026-09-30``, or for snapshot data ``snapshot data (no dates), report date 2026-09-30``."""
    if data.mode == "snapshot":
        return "snapshot data (no dates)" + (f", report date {data.as_of}" if data.as_of else "")
    return f"data as of {data.as_of}"


def glossary(score: str = "nps", window_months: float | None = 12, horizon: int = 60, discount_rate: float = 0.10,
             alpha: float = 0.05, dated: bool = True, contacts: bool = True, referrals: bool = False,
             period: str = "M") -> dict:
    """Every measure a report shows, defined: population, time window, which answer, formula.

    The settings fill in the numbers (the window, the horizon, the discount rate), so the glossary says
    what this report did; measures the report cannot show are left out.

    >>> list(glossary(score="csat", dated=False, contacts=False))[:3]
    ['Band', 'Active customer', 'Still a customer after N months']
    """
    level = int(round(100 * (1 - alpha)))
    window = f"from the last {window_months:g} months" if window_months else "of any age"
    terms = {}
    if score == "nps":
        terms["NPS (headline)"] = ("Net Promoter Score: the share of promoters (9-10) minus the share of detractors "
                                   "(0-6), in points from −100 to +100. Counts customers active on the analysis date, "
                                   f"each by their latest answer if it is {window}.")
        if dated:
            terms["NPS of a period"] = ("The same formula over every answer given in that month or quarter, churned "
                                        "customers included: the voice of the period, not of today's base.")
            terms["NPS at a fixed mix"] = ("A period's NPS as its answers would read at one mix of tenure and "
                                           "segments (that of all answers): a change in it is the same kinds of "
                                           "customers answering differently, not a change in who is left to answer "
                                           "(on page one: like for like).")
    bands = {"nps": "detractor (0-6), passive (7-8), promoter (9-10)",
             "csat": "dissatisfied (1-2), neutral (3), satisfied (4-5)",
             "effort": "the effort scale's low, middle and high bands"}
    terms["Band"] = f"The group of a customer's answer: {bands.get(score, bands['effort'])}."
    terms["Active customer"] = ("A customer with no end date on or before the analysis date." if dated
                                else "A customer whose churn flag is 0 in the snapshot.")
    terms["Still a customer after N months"] = ("Kaplan-Meier estimate of the share who have not left N months "
                                                + ("after their answer." if dated else "after signup."))
    terms["Hazard ratio"] = ("How fast one group leaves relative to a reference group at any moment, from a Cox "
                             "model that allows for the other columns: 2 means twice as fast, 0.5 half as fast.")
    terms["Lifetime value"] = (f"Revenue minus cost to serve per month, times the chance the customer is still there, "
                               f"summed over {horizon} months from {'the first answer' if dated else 'signup'} and "
                               f"discounted at {percent(discount_rate)} a year.")
    if dated:
        terms["Value at stake"] = ("The change in the lifetime value of today's active base if a share of one band "
                                   "behaved like the band above (stayed and spent as it does today), scaled from the "
                                   "active customers who answered to all of them. A scenario, not a forecast.")
    unit = UNITS.get(period, "period")
    per = "" if period == "M" else f" (per {unit} in the contacts chart, which counts one {unit} at a time)"
    terms["Cost to serve"] = (f"The cost of care contacts per customer per month{per}." if contacts else
                              "Not available here: the data has no contact costs.")
    terms["Referrals per year"] = ("Referrals a band's customers made per year of tenure." if referrals else
                                   "Not available here: the data has no referrals column.")
    terms["Expected months as a customer"] = (f"The area under the band's survival curve over the {horizon}-month "
                                              "horizon, the fitted tail included.")
    if dated:
        terms["Customer ledger"] = ("Customers at the start of a period, plus those who joined, minus those who "
                                    "left, equals those at the end; revenue is each customer's monthly run rate.")
    terms["Share of what the drivers explain"] = (
        "Johnson's relative weight of a driver divided by the R² of all drivers together: the part of the "
        f"differences in {score_name(score)} answers that goes with that driver. An association, not proof of cause.")
    if dated and contacts:
        from cxkit.scales import SCALES

        measure = "NPS" if score == "nps" else f"the share {SCALES[score].labels[-1]}"
        terms["NPS points lost to an experience" if score == "nps" else "Points lost to an experience"] = (
            f"How much higher {measure} would read without the answers given after that experience (a contact of "
            "that kind in the days before the answer).")
    if dated and contacts:
        terms["Hazard ratio per complaint"] = (
            "How much faster customers leave, at any moment, for each complaint they made in the previous window "
            "(counted from a few days after it), among customers who gave the same score before the window, from a "
            "Cox model also allowing for plan and region. An association, not proof of cause.")
    terms[f"{level}% CI"] = (f"A range built so that in {level} of 100 repeats of the survey the range built would "
                             "contain the true value; a difference is only claimed when its interval excludes zero "
                             "(or 1 for a ratio).")
    terms["p"] = (f"How surprising the data would be if there were no difference; p < {1 - level / 100:.2f} is read "
                  "as a real difference.")
    terms["Not available"] = ("The data does not measure it, or cannot support an estimate; the reason is given. "
                              "Never 0.")
    return terms


def reason_text(reason) -> str:
    """Why something is not available, in words, from an analysis' reason code (or a text as it is).

    >>> from cxkit.leadership import Unavailable
    >>> reason_text(Unavailable("no_churn", {"answered": 1234}))[:40]
    'none of the 1,234 customers who answered'
    """
    if isinstance(reason, str):
        return reason
    d = reason.details
    if reason.code == "no_churn":
        return no_churn_reason(d["answered"])
    if reason.code == "one_band":
        return one_band_reason(d["present"])
    if reason.code == "descriptive":
        text = descriptive_reason(d["snapshot"], d["separates"])
        return text + (" and there is no other column to model" if d.get("no_columns") else "")
    if reason.code == "not_estimable":
        return d["message"]
    raise ValueError(f"unknown reason code {reason.code!r}")


def band_name(score: str) -> str:
    """``NPS band``, ``CSAT band`` or ``effort band``."""
    return {"nps": "NPS band", "csat": "CSAT band", "effort": "effort band"}.get(score, f"{score} band")


def scenario_label(moves: dict, share: float) -> str:
    """``10% of detractors to passive``."""
    return " and ".join(f"{percent(share)} of {plural(a).lower()} to {b}" for a, b in moves.items())


def scenarios(analysis) -> dict:
    """The analysis' value-at-stake scenarios labelled for figures and tables: label -> (moves, share)."""
    return {scenario_label(moves, share): (moves, share) for moves, share in analysis.scenarios.values()}


def summary_parts(analysis) -> dict:
    """Each executive-summary sentence by its stable key (``nps``, ``trend``, ``retention``, ``hazard``,
    ``ltv``, ``stake``, ``ledger``, ``contacts``, ``descriptive``, ``small``, ``unavailable``).

    A band too small for a stable estimate never gets a number; every number is read from a result.
    """
    from cxkit.clock import since

    a = analysis
    low, high = a.low_, a.high_
    small = a.small_bands_
    parts = {}
    population = nps_population(a.data_, a.nps_window_months)
    if a.nps_ is not None:
        parts["nps"] = nps_sentence(a.nps_, a.alpha, population=population)
        if a.slice_comparison_ is not None and a.nps_everyone_ is not None:
            parent = None if a.parent_slice_ is None else slice_label(a.parent_slice_)
            holds, faster = None, False
            if a.audience_ is not None:
                s = a.audience_.summary
                nps_row = s[s["measure"] == "nps"]
                holds = bool(nps_row["holds"].iloc[0]) if len(nps_row) else None
                hazard = s[(s["measure"] == "churn hazard") & s["holds"]]
                faster = bool(len(hazard)) and float(hazard["difference"].iloc[0]) > 1
            parts["nps"] = slice_nps_sentence(a.nps_, a.nps_everyone_, a.alpha, population, a.slice_difference_,
                                              a.nps_parent_, parent, holds=holds, leaves_faster=faster,
                                              name=audience_name(a.data_.slice_by))
    if a.is_slice_ and a.audience_ is not None:
        parent = None if a.parent_slice_ is None else slice_label(a.parent_slice_)
        parts["audience"] = audience_sentence(a.audience_, parent, audience_name(a.data_.slice_by))
    if a.trend_ is not None:
        parts["trend"] = trend_sentence(a.trend_)
    if a.descriptive_ and not {low, high} & small:
        parts["descriptive"] = descriptive_score_sentence(score_name(a.score_), a.churned_share_, low, high,
                                                          a.data_.mode == "snapshot", a.separates_)
    if not {low, high} & small and a.events_:
        if not a.descriptive_:
            parts["retention"] = retention_sentence(a.km_, a.retention_months, low, high, since(a.clock_kind_))
        if a.gap_bands_ is not None:
            parts["ltv"] = (descriptive_ltv_sentence(a.ltv_, high, low) if a.descriptive_
                            else ltv_gap_sentence(a.ltv_, high, low))
    ref = a.reference_
    if a.cox_ is not None and low != ref and not {low, ref} & small and not a.descriptive_:
        parts["hazard"] = hazard_sentence(a.cox_, "segment", low, ref, a.covariates_)
    if a.ltv_ is not None and not a.descriptive_:
        movable = list(a.scenarios.values())
        parts["stake"] = (value_at_stake_sentence(a.ltv_, *movable[0], audience="the active customer base")
                          if movable else "No band here has both customers to move and a stable value: "
                          "there is no value at stake to show.")
    parts["unavailable"] = unavailable_sentence(a.not_available_)
    if a.ledger_ is not None:
        parts["ledger"] = ledger_sentence(a.ledger_, a.year_periods_)
    if a.contacts_ is not None and not {low, high} & small:
        parts["contacts"] = contacts_sentence(a.contacts_, low, high)
    why = _why_summary(a)
    if why:
        parts["why"] = why
    too_few = sorted(small, key=a.bands_.index)
    if too_few:
        parts["small"] = " ".join(too_few_sentence(b, a.band_sizes_[b], a.min_size_) for b in too_few)
    return {k: v for k, v in parts.items() if v}


def summary(analysis) -> list[str]:
    """The executive summary, led by what matters to the audience (:mod:`cxkit.focus`)."""
    from cxkit.focus import summary_order

    parts = summary_parts(analysis)
    return [parts[k] for k in summary_order(analysis.focus) if k in parts]


def _in_sentence(label: str) -> str:
    """A label as it reads inside a sentence: ``Plan`` -> ``plan``, while ``NPS band`` keeps its acronym.

    >>> _in_sentence("Plan"), _in_sentence("NPS band"), _in_sentence("Internet type")
    ('plan', 'NPS band', 'internet type')
    """
    first = label.split(" ", 1)[0]
    return label if len(first) > 1 and first.isupper() else label[:1].lower() + label[1:]


def method_notes(analysis) -> list[str]:
    """The clock, the models and the data behind the leadership report, in a few sentences."""
    a, ltv = analysis, analysis.ltv_
    data = a.data_
    lines = []
    if a.nps_ is not None:
        lines.append(f"Headline NPS: {nps_population(data, a.nps_window_months)}; the NPS of a period counts "
                     "every answer given in it.")
    if a.trend_ is not None and getattr(a.trend_, "adjusted_for_", []):
        lines.append(f"NPS over time at a fixed mix: a linear model of each answer (+100 promoter, 0 passive, "
                     f"−100 detractor) on its period and {mix_words(a.trend_.adjusted_for_)} (tenure as its band "
                     "at the answer), read at the mix of all answers; "
                     "a change splits into the same mix answering differently and a different mix answering. The "
                     "verdict reads that series against the baseline (the first half of the periods), with limits "
                     f"widened {a.trend_.overdispersion_:.2f} times for spread beyond sampling (Laney's p' chart) and "
                     "for the baseline's own error. Only the mix of what is measured is held fixed.")
    lines += [f"Clock: {a.clock_}.",
              "Churn curves are Kaplan-Meier estimates with 95% log-log intervals"
              + (" (churn reasons: Aalen-Johansen)" if getattr(a, "incidence_", None) is not None else "")
              + "; the test across bands is the log-rank test."]
    if a.cox_ is not None:
        refs = join_words([f"{_in_sentence(column_label(c, band_name(a.score_)))} {v}"
                           for c, v in a.cox_.reference_.items()]) if a.cox_.reference_ else "none"
        lines.append(f"Hazard ratios come from a Cox model with Efron ties (reference groups: {refs}); "
                     f"concordance {a.cox_.concordance_:.2f}, where 0.5 is a coin toss; proportional hazards checked "
                     f"by {a.cox_.ph_test_name_}; page one names a column only where its ratio holds under Holm's "
                     "correction across all of them.")
    if ltv is not None:
        tails = "; ".join(_tail_note(ltv, r) for r in ltv.summary.itertuples())
        margin = ("revenue minus contact costs" if a.measured_["cost to serve"]
                  else "revenue; contact costs are not measured in this data")
        start = "signup" if data.mode == "snapshot" else "the first answer"
        covered = (ltv.summary["observed_months"] >= ltv.horizon - 1).all()
        beyond = (f"the data covers all {ltv.horizon} months of every band, so no tail is needed" if covered
                  else f"beyond the data a fitted tail continues the curve ({tails})")
        lines += [f"Lifetime value counts {ltv.horizon} months of margin ({margin}) from {start}, discounted at "
                  f"{ltv.discount_rate:.0%} a year; {beyond}.",
                  f"Intervals: {ltv.n_boot} bootstrap replicates over customers (seed {ltv.seed})."]
        if ltv.unidentified():
            lines.append("Where a band's tail is an assumption, its value beyond the data and every gap resting on "
                         "it are given as a range, not an interval: from the fastest to the slowest leaving the "
                         "data allows (each other band's tail from the same month on, a steady rate at the exact "
                         "Poisson upper bound on the band's own churn, nobody leaving), widened by the bootstrap "
                         "interval.")
        if a.scenarios:
            lines.append(f"The value at stake scales the {sum(a.base_counts_.values()) / a.scale_to_base_:,.0f} "
                         f"active customers who answered to all {a.active_customers_:,} active customers, "
                         "assuming those who did not answer spread over the bands alike.")
    if a.key_drivers_ is not None:
        kd = a.key_drivers_
        lines.append(f"Drivers of the score: Johnson's relative weights from a linear model of the "
                     f"{score_noun(getattr(kd, 'score_', 'nps'))} on "
                     f"{kd.n_:,} answers"
                     + (f" with their contacts in the {a.window_days} days before" if any(
                         str(d).endswith("_contacts") for d in kd.importance_["driver"]) else "")
                     + "; intervals from "
                     + f"{kd.n_boot} bootstrap replicates of the answers; a driver counts as distinguishable from no "
                     "effect when its coefficient's interval excludes zero.")
    if a.experiences_ is not None:
        eh = a.experiences_
        prior = getattr(eh, "prior_score_", None)
        allowing = join_words([*eh.adjusted_for_] + ([f"the band of the customer's latest {score_name(prior)} answer "
                                                      "before the window"] if prior else []))
        lines.append(f"Experiences before departure: a Cox model with time-varying counts of complaints and repeat "
                     f"contacts (a contact within {eh.repeat_days} days of the previous one), each counting from "
                     f"{eh.lag_days} to {eh.lag_days + eh.window_days} days after it, on the tenure clock, allowing "
                     f"for {allowing or 'nothing else'}."
                     + (" It is fitted on the time after each customer's first answer, so it compares customers who "
                        "gave the same score; the answer before the window is used because an answer given after "
                        "the complaint would hide an effect that runs through the score. Only what was measured is "
                        "allowed for: this is an association, not proof of cause." if prior else
                        " What customers said before is not allowed for ("
                        + PRIOR_MISSING[getattr(eh, "prior_missing_", None) or "no_answers"]
                        + "), so the ratio mixes the experience with who complains: an association, not proof of "
                        "cause.")
                     + " The revenue that went with them is each leaver's monthly revenue times the share of their "
                     "hazard that goes with the experiences under that model.")
    if a.descriptive_:
        lines.append(f"The score separates who left from who stayed with an AUC of {a.score_auc_:.2f} "
                     f"(1 = perfectly){'; it was taken at the end of follow-up' if data.mode == 'snapshot' else ''}.")
    lines += [f"{what[0].upper()}{what[1:]}: not available, because {reason_text(reason).rstrip('.')}."
              for what, reason in a.not_available_.items()]
    return lines


def _tail_note(ltv, r) -> str:
    """One band's survival in the method notes: what the data covers and what continues it."""
    covered = int(r.observed_months) + 1
    if covered >= ltv.horizon:
        return f"{r.segment}: the data covers all {ltv.horizon} months"
    if r.unidentified_reason == "no_churn":
        return (f"{r.segment}: nobody left in the {covered} months the data covers, so no tail can be fitted "
                f"and its value beyond is an assumption, from {_assumption(r.tail_low_assumption)} to "
                f"{_assumption(r.tail_high_assumption)}")
    if r.unidentified_reason == "few_at_risk":
        return (f"{r.segment}: fewer than {ltv.min_at_risk} customers to follow, so its whole curve is an "
                f"assumption, from {_assumption(r.tail_low_assumption)} to {_assumption(r.tail_high_assumption)}")
    return f"{r.segment}: the data for {covered} months, then {r.tail_model}"


def data_notes(data, warnings: list[str]) -> list[str]:
    """Rows used per table, the analysis date, and every data warning, once each."""
    rows = ", ".join(f"{t} {n:,}" for t, n in data.row_counts.items())
    when = (f"analysis date: {data.as_of}." if data.mode == "dated"
            else f"report date: {data.as_of or 'none'} (snapshot data carries no dates).")
    return [f"Rows used: {rows}; {when}", *(n.replace("\n", " ") for n in dict.fromkeys(warnings))]


def stake_caption(ltv, scenarios: dict) -> str | None:
    """The value-at-stake table's note when a scenario rests on a band whose tail is an assumption."""
    bands = [b for b in ltv.unidentified() if any(b in (src, dst) for moves, _ in scenarios.values()
                                                   for src, dst in moves.items())]
    if not bands:
        return None
    who = join_words([plural(b).lower() for b in bands])
    s = ltv.summary.set_index("segment")
    point = join_words([f"no {_member(b)} leaves later either" if s.loc[b, "unidentified_reason"] == "no_churn"
                        else f"{plural(b).lower()} leave as their fitted tail says" for b in bands])
    return (f"Scenarios that involve {who} rest on an assumption about how fast they would leave beyond the data: "
            f"there, lower and upper give the range under that assumption, not a 95% interval, and the value "
            f"added assumes {point}.")


def gap_caption(shown: list[str]) -> str:
    """The lifetime-value waterfall's caption: the parts shown, and why cost to serve is left out."""
    words = {"longer life": "lifetime", "higher revenue": "revenue", "lower cost to serve": "cost to serve"}
    text = f"The gap split into the difference in {join_words([words.get(p, p) for p in shown])}; the parts add up."
    if "lower cost to serve" not in shown:
        text += " Cost to serve is not available: the data has no contact costs."
    return text


def takeaways(analysis) -> dict:
    """Each figure's one-line takeaway (its slide title) by figure name, picked by summary key."""
    parts = summary_parts(analysis)
    picks = {"churn-by-band": "retention", "churn-drivers": "hazard", "ltv-by-band": "ltv",
             "value-at-stake": "stake", "customer-ledger": "ledger", "cost-to-serve": "contacts"}
    out = {name: parts[key] for name, key in picks.items() if key in parts}
    if analysis.trend_ is not None:
        out["nps-trend"] = trend_sentence(analysis.trend_).split(". ")[0] + "."
    out["churn-reasons"] = f"Why {plural(analysis.low_).lower()} leave"
    return out


def window_phrase(period: str) -> str:
    """``last 12 months`` or ``last 4 quarters``: the window of the ledger's tables."""
    from cxkit.periods import per_year, plural_unit

    return f"last {per_year(period)} {plural_unit(period)}"


# ------------------------------------------------------------ plain text for the terminal (cxkit validate, demo)
def describe_data(data) -> str:
    """What was loaded: mode, analysis date, rows per table, segment and score columns."""
    lines = [f"data: {data.mode} ({'signup and end dates' if data.mode == 'dated' else 'tenure and churn flag'})"
             + (f", as of {data.as_of}" if data.as_of else "")]
    lines += [f"  {table:<10} {n:>12,} rows" for table, n in data.row_counts.items()]
    lines.append(f"  segments: {', '.join(data.segments) or 'none'}; scores: {', '.join(data.scores) or 'none'}")
    return "\n".join(lines)


def nps_overview(data, alpha: float = 0.05) -> str:
    """The headline NPS overall and per segment column (active customers, latest answer in the window)."""
    from cxkit.frames import nps_counts_by
    from cxkit.nps import nps_table_from_counts

    if "nps" not in data.scores:
        return "no NPS score in the data"
    counts = nps_counts_by(data, data.segments)  # everyone and each segment column in one pass
    overall = nps_table_from_counts(counts[None], alpha=alpha, min_n=data.min_segment_size).iloc[0]
    level = int(round(100 * (1 - alpha)))
    who = nps_population(data)
    lines = [f"NPS of the {overall.n:,} {who}: {signed(overall.nps, 1)} "
             f"(SE {overall.se:.1f}; {level}% CI {signed(overall.lower, 1)} to {signed(overall.upper, 1)})",
             "  band        answers   share"]
    for band, count in (("detractor", overall.detractors), ("passive", overall.passives),
                        ("promoter", overall.promoters)):
        lines.append(f"  {band:<10} {count:>8,}  {count / overall.n:6.1%}")
    for seg in data.segments:
        table = nps_table_from_counts(counts[seg], by=seg, alpha=alpha, min_n=data.min_segment_size)
        lines.append(f"NPS by {seg}:")
        for row in table.itertuples():
            value = getattr(row, seg)
            if row.small:
                lines.append(f"  {value!s:<12} n={row.n:>6,}  too few answers for a stable NPS")
            else:
                lines.append(f"  {value!s:<12} n={row.n:>6,}  NPS {signed(row.nps, 1):>6}  "
                             f"({level}% CI {signed(row.lower, 1)} to {signed(row.upper, 1)})")
    return "\n".join(lines)


# ------------------------------------------------------------ traceable numbers
def _fact(text: str, value, source: str) -> dict:
    import numpy as np

    if isinstance(value, np.generic):
        value = value.item()
    return {"text": text, "value": value, "source": source}


def _range_facts(result: dict, src: str) -> list[dict]:
    """A gap's or value at stake's range ends as sentences write them (either sign) and, for a gap, its part
    inside the data."""
    facts = [_fact(money(abs(result[f])), abs(result[f]), f"abs({src}['{f}'])") for f in ("lower", "upper")]
    if "observed_estimate" in result:
        facts += [_fact(money(result[f]), result[f], f"{src}['{f}']")
                  for f in ("observed_estimate", "observed_lower", "observed_upper")]
        facts += [_fact(money(abs(result["observed_estimate"])), abs(result["observed_estimate"]),
                        f"abs({src}['observed_estimate'])"),
                  _fact(f"{result['observed_months']}", result["observed_months"], f"{src}['observed_months']")]
    return facts


def _observed_facts(a, bands) -> list[dict]:
    """Months the data covers for each band whose tail is an assumption."""
    s = a.ltv_.summary.set_index("segment")
    return [_fact(f"{int(s.loc[b, 'observed_months']) + 1}", int(s.loc[b, "observed_months"]) + 1,
                  f"a.ltv_.summary.set_index('segment').loc['{b}', 'observed_months'] + 1") for b in bands]


def summary_facts(analysis) -> dict:
    """Every number each summary sentence may show, with the result and field it was read from.

    ``source`` is a Python expression on the fitted analysis ``a`` (``a.ltv_.gap('promoter', 'detractor')
    ['estimate']``); ``text`` is the value as the sentence writes it. The record keeps them beside each
    sentence, so a reader or a test can check that "$809" is that gap and matches its table.
    """
    a = analysis
    low, high = a.low_, a.high_
    level = int(round(100 * (1 - a.alpha)))
    settings = [_fact(f"{a.retention_months:g}", a.retention_months, "a.retention_months"),
                _fact(percent(a.share_moved), a.share_moved, "a.share_moved"),
                _fact(percent(a.discount_rate), a.discount_rate, "a.discount_rate"),
                _fact(f"{a.horizon_months / 12:g}", a.horizon_months / 12, "a.horizon_months / 12"),
                _fact(f"{level}%", level, "round(100 * (1 - a.alpha))")]
    out = {}
    if a.nps_ is not None:
        rows = [("a.nps_", a.nps_)] + [(name, r) for name, r in (("a.nps_everyone_", a.nps_everyone_),
                                                                   ("a.nps_parent_", a.nps_parent_)) if r is not None]
        facts = [_fact(signed(r[f]), r[f], f"{name}['{f}']") for name, r in rows for f in ("nps", "lower", "upper")]
        facts += [_fact(f"{r['n']:,}", r["n"], f"{name}['n']") for name, r in rows]
        d = a.slice_difference_
        if d is not None:
            src = "a.slice_difference_"
            facts += [_fact(signed(d[f]), d[f], f"{src}['{f}']") for f in ("lower", "upper")]
            facts.append(_fact(signed_gap(d["difference"]), d["difference"], f"{src}['difference']"))
            size = abs(d["difference"])
            facts.append(_fact(f"{size:.1f}" if size < 1 else f"{size:.0f}", size, f"abs({src}['difference'])"))
        facts += [_fact(str(a.data_.as_of), str(a.data_.as_of), "str(a.data_.as_of)")]
        if a.nps_window_months:
            facts.append(_fact(f"{a.nps_window_months:g}", a.nps_window_months, "a.nps_window_months"))
        out["nps"] = facts + settings
    if a.trend_ is not None:
        t = a.trend_.table[a.trend_.table["nps"].notna()]
        if len(t):
            i, src = len(t) - 1, "a.trend_.table[a.trend_.table['nps'].notna()]"
            last = t.iloc[i]
            facts = [_fact(str(last["period"]), last["period"], f"{src}['period'].iloc[-1]")]
            facts += [_fact(signed(last[f]), last[f], f"{src}['{f}'].iloc[-1]") for f in ("nps", "lower", "upper",
                                                                                         "change", "centre")]
            if last.get("raw_centre") == last.get("raw_centre"):  # the as-answered series' own baseline and run
                facts += [_fact(signed(last["raw_centre"]), last["raw_centre"], f"{src}['raw_centre'].iloc[-1]"),
                          _fact(f"{a.trend_.run}", a.trend_.run, "a.trend_.run")]
            facts.append(_fact(p_text(last["change_p"]), last["change_p"], f"{src}['change_p'].iloc[-1]"))
            if len(t) > 1:
                facts.append(_fact(str(t.iloc[-2]["period"]), t.iloc[-2]["period"], f"{src}['period'].iloc[-2]"))
            out["trend"] = facts + settings
    km = "a.km_.survival_at([a.retention_months]).set_index('segment')['survival']"
    at = a.km_.survival_at([a.retention_months]).set_index("segment")["survival"]
    retention = [_fact(percent(at[b]), at[b], f"{km}['{b}']") for b in (low, high) if b in at.index]
    retention.append(_fact(p_text(a.km_.logrank_.p_value), a.km_.logrank_.p_value, "a.km_.logrank_.p_value"))
    out["retention"] = retention + [_fact(f"{a.retention_months:g}", a.retention_months, "a.retention_months")]
    out["descriptive"] = [_fact(percent(a.churned_share_[b]), a.churned_share_[b], f"a.churned_share_['{b}']")
                          for b in (low, high)]
    if a.ltv_ is not None and a.gap_bands_ is not None:
        g = a.ltv_.gap(high, low)
        src = f"a.ltv_.gap('{high}', '{low}')"
        out["ltv"] = [_fact(money(g["estimate"]), g["estimate"], f"{src}['estimate']"),
                      _fact(money(abs(g["estimate"])), abs(g["estimate"]), f"abs({src}['estimate'])"),
                      _fact(money(g["lower"]), g["lower"], f"{src}['lower']"),
                      _fact(money(g["upper"]), g["upper"], f"{src}['upper']"),
                      _fact(duration_phrase(g["lifetime_months"]), g["lifetime_months"],
                            f"{src}['lifetime_months']")]
        out["ltv"] += _range_facts(g, src) + _observed_facts(a, g["unidentified"]) + settings
    if a.cox_ is not None and f"segment[{low}]" in a.cox_.summary.index:
        row = a.cox_.summary.loc[f"segment[{low}]"]
        src = f"a.cox_.summary.loc['segment[{low}]']"
        out["hazard"] = [_fact(fmt.format(row[f]), row[f], f"{src}['{f}']")
                         for f in ("hazard_ratio", "lower", "upper") for fmt in ("{:.1f}", "{:.2f}")]
        out["hazard"].append(_fact(f"{1 - row['hazard_ratio']:.0%}", 1 - row["hazard_ratio"],
                                   f"1 - {src}['hazard_ratio']"))
        out["hazard"] += settings
    if a.ltv_ is not None and a.scenarios:
        moves, share = next(iter(a.scenarios.values()))
        v = a.ltv_.value_at_stake(moves, share)
        src = f"a.ltv_.value_at_stake({moves!r}, {share!r})"
        out["stake"] = [_fact(f"{v['customers_moved']:,.0f}", v["customers_moved"], f"{src}['customers_moved']"),
                        _fact(money(abs(v["estimate"])), abs(v["estimate"]), f"abs({src}['estimate'])"),
                        _fact(money(v["estimate"]), v["estimate"], f"{src}['estimate']"),
                        _fact(money(v["lower"]), v["lower"], f"{src}['lower']"),
                        _fact(money(v["upper"]), v["upper"], f"{src}['upper']"),
                        _fact(money(abs(v["per_customer"])), abs(v["per_customer"]),
                              f"abs({src}['per_customer'])")]
        out["stake"] += _range_facts(v, src) + _observed_facts(a, v["unidentified"]) + settings
    if a.ledger_ is not None:
        t = a.ledger_.totals(a.year_periods_)
        src = "a.ledger_.totals(a.year_periods_)"
        facts = [_fact(f"{a.year_periods_}", a.year_periods_, "a.year_periods_")]
        facts += [_fact(f"{t[f]:,}", t[f], f"{src}['{f}']") for f in ("start", "end", "new", "lost")]
        facts += [_fact(money(t[f]), t[f], f"{src}['{f}']") for f in ("revenue_out", "revenue_in")]
        answered = a.revenue_lost_by_band()
        for b in answered.index:
            share = answered[b] / answered.sum()
            facts.append(_fact(percent(share), share, f"a.revenue_lost_by_band().pipe(lambda s: s['{b}'] / s.sum())"))
        out["ledger"] = facts
    if a.contacts_ is not None:
        t = a.contacts_.by_band_
        src = "a.contacts_.by_band_[a.contacts_.by_band_['period'] == a.contacts_.by_band_['period'].iloc[-1]]" \
              ".set_index('band')"
        last = t[t["period"] == t["period"].iloc[-1]].set_index("band")
        facts = [_fact(str(t["period"].iloc[-1]), t["period"].iloc[-1], "a.contacts_.by_band_['period'].iloc[-1]")]
        for b in last.index:
            facts.append(_fact(f"{last.loc[b, 'contacts_per_customer']:.2f}", last.loc[b, "contacts_per_customer"],
                               f"{src}.loc['{b}', 'contacts_per_customer']"))
            facts.append(_fact(money(last.loc[b, "cost_per_customer"], cents=True), last.loc[b, "cost_per_customer"],
                               f"{src}.loc['{b}', 'cost_per_customer']"))
        out["contacts"] = facts
    if a.experiences_ is not None:
        s = a.experiences_.summary.set_index("experience")
        if "complaints" in s.index:
            src = "a.experiences_.summary.set_index('experience').loc['complaints']"
            r = s.loc["complaints"]
            out["why"] = [_fact(f"{r[f]:.2f}", r[f], f"{src}['{f}']") for f in ("hazard_ratio", "lower", "upper")]
            out["why"] += [_fact(f"{1 / r[f]:.2f}", 1 / r[f], f"1 / {src}['{f}']") for f in ("hazard_ratio", "lower",
                                                                                          "upper")]
            out["why"] += [_fact(f"{a.experiences_.window_days}", a.experiences_.window_days,
                                 "a.experiences_.window_days"),
                           _fact(f"{a.experiences_.lag_days}", a.experiences_.lag_days, "a.experiences_.lag_days"),
                           _fact(f"{level}%", level, "round(100 * (1 - a.alpha))")]
    if a.audience_ is not None:
        src = "a.audience_.summary"
        facts = []
        for i, r in a.audience_.summary.iterrows():
            if r["measure"] == "churn hazard":
                facts += [_fact(f"{r[f]:.2f}", r[f], f"{src}.loc[{i}, '{f}']")
                          for f in ("difference", "lower", "upper")]
            elif r["measure"] == "still a customer":
                facts += [_fact(percent(r[f]), r[f], f"{src}.loc[{i}, '{f}']") for f in ("audience", "others")]
                # a gap said as seen and not claimed gives its points and interval (unclaimed_gap_words)
                facts += [_fact(signed(100 * r[f]), 100 * r[f], f"100 * {src}.loc[{i}, '{f}']")
                          for f in ("difference", "lower", "upper")]
            elif r["measure"] == "lifetime value":
                facts += [_fact(money(r[f]), r[f], f"{src}.loc[{i}, '{f}']")
                          for f in ("audience", "others", "lower", "upper")]
        facts.append(_fact(f"{len(a.audience_.summary)}", len(a.audience_.summary), f"len({src})"))
        out["audience"] = facts + settings
    out["small"] = [_fact(f"{a.band_sizes_[b]:,}", a.band_sizes_[b], f"a.band_sizes_['{b}']") for b in a.small_bands_]
    out["small"].append(_fact(f"{a.min_size_:,}", a.min_size_, "a.min_size_"))
    out["unavailable"] = [_fact(f"{a.answered_:,}", a.answered_, "a.answered_")]
    return out


def traced_summary(analysis) -> dict:
    """The summary by key, each sentence with the facts it shows: ``{key: {"text": ..., "facts": [...]}}``.

    A fact is kept only where its text appears in the sentence.
    """
    facts = summary_facts(analysis)
    return {key: {"text": text, "facts": shown_facts(text, facts.get(key, []))}
            for key, text in summary_parts(analysis).items()}


def shown_facts(text: str, facts: list[dict]) -> list[dict]:
    """The facts whose text appears in ``text``, each text once, in order (what a sentence shows).

    >>> [f["text"] for f in shown_facts("58% against 85%", [_fact("58%", .58, "a"), _fact("9%", .09, "b"),
    ...                                                      _fact("58%", .58, "c")])]
    ['58%']
    """
    seen, kept = set(), []
    for fact in facts:
        if fact["text"] in text and fact["text"] not in seen:
            seen.add(fact["text"])
            kept.append(fact)
    return kept


# ------------------------------------------------------------ why: drivers of the score and of departure
_KIND_PLURALS = {"call": "calls", "chat": "chats", "email": "emails", "complaint": "complaints"}
WHY_MISSING = {"other_score": "this report's bands come from another score",
               "too_few": "too few answers for a stable estimate",
               "snapshot": "snapshot data has no contact history or departure dates",
               "no_contacts": "the data has no contacts table", "no_departures": "no customer left",
               "not_estimable": "the model cannot be estimated from this data"}


def driver_label(name: str, window_days: int = 90) -> str:
    """A driver column in words: ``complaint_contacts`` -> ``complaints in the 90 days before``.

    >>> driver_label("repeat_contacts")
    'repeat contacts in the 90 days before'
    """
    if name.endswith("_contacts"):
        kind = name[: -len("_contacts")]
        words = ({"repeat": "repeat contacts"}.get(kind) or _KIND_PLURALS.get(kind)
                 or f"{kind.replace('_', ' ')} contacts")
        return f"{words} in the {window_days} days before"
    fixed = {"contact_cost": f"cost of contacts in the {window_days} days before", "tenure_months": "tenure",
             "csat": "CSAT", "effort": "effort score", "nps": "NPS"}
    return fixed.get(name, name.replace("_", " "))


def experience_label(name: str) -> str:
    """``complaints`` -> ``complaint``; ``repeat_contacts`` -> ``repeat contact`` (one of them)."""
    return {"complaints": "complaint", "repeat_contacts": "repeat contact"}.get(name, name.replace("_", " "))


def _shown_drivers(kd, top: int = 3):
    rows = kd.importance_
    return rows[rows["distinguishable"].fillna(False).astype(bool)].head(top)


def key_drivers_sentence(kd, window_days: int = 90) -> str | None:
    """``The drivers measured account for 37% of the differences in NPS answers. Of that, CSAT accounts for 76%
    (higher scores with higher CSAT), ...``; None when no driver can be told from no effect."""
    shown = _shown_drivers(kd)
    if shown.empty:
        return None
    parts = []
    for r in shown.itertuples():
        label = driver_label(r.driver, window_days)
        noun = label.split(" in the ")[0]
        if r.sign == "by level":
            direction = f"scores differ by {noun}"
        else:
            more = "longer" if r.driver == "tenure_months" else ("higher" if noun in ("CSAT", "effort score", "NPS")
                                                                 else "more")
            direction = f"{'higher' if r.sign == '+' else 'lower'} scores with {more} {noun}"
        verb = "accounts for " if not parts else "for "
        parts.append(f"{label} {verb}{percent(r.share)} ({direction})")
    return (f"The drivers measured account for {percent(kd.r_squared_['value'])} of the differences in "
            f"{_answers_of(kd)}. Of that, {join_words(parts)}.")


def _answers_of(kd) -> str:
    """``NPS answers``, ``satisfaction score answers``, or ``who answers as a detractor`` for a 0/1 outcome."""
    from cxkit.scales import SCALES

    score = getattr(kd, "score_", "nps")
    if kd.outcome in ("detractor", "low_band"):
        return f"who answers in the lowest band ({SCALES[score].labels[0]})"
    return f"{score_name(score)} answers"


def _one(name: str) -> str:
    """``call_contacts`` -> ``a call``; ``repeat_contacts`` -> ``a repeat contact``."""
    kind = name[: -len("_contacts")] if name.endswith("_contacts") else name
    word = {"repeat": "repeat contact"}.get(kind, kind.replace("_", " "))
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


def drivers_takeaway(kd, window_days: int = 90) -> str | None:
    """The key-driver figure's one line: ``What goes with the score: CSAT, complaints and calls``."""
    shown = _shown_drivers(kd)
    if shown.empty:
        return None
    names = [driver_label(d, window_days).split(" in the ")[0] for d in shown["driver"]]
    return f"What goes with the {score_noun(getattr(kd, 'score_', 'nps'))}: {join_words(names)}"


def not_distinguishable_sentence(kd, window_days: int = 90) -> str | None:
    """``Repeat contacts, plan and region are not distinguishable from no effect.``"""
    rows = kd.importance_
    flat = rows[rows["distinguishable"].eq(False)]["driver"].tolist()
    if not flat:
        return None
    words = join_words([driver_label(d, window_days) for d in flat])
    verb = "is" if len(flat) == 1 else "are"
    return f"{words[0].upper()}{words[1:]} {verb} not distinguishable from no effect on the score."


def touchpoint_sentence(touchpoints, window_days: int = 90) -> str | None:
    """The experience that costs the most points of the score (NPS, or the share in the top band of another
    score), where the interval of the gap between the answers after it and the others excludes zero: the two
    scores and that gap, said as an association (unhappy customers also contact care more), never as what fewer
    such contacts would gain (which "without those answers NPS would read 6.1 points higher" was read as)."""
    from cxkit.scales import SCALES

    rows = touchpoints.summary
    rows = rows[~rows["small"] & (rows["lower"] > 0) & (rows["difference_upper"] < 0)]
    if rows.empty:
        return None
    r = rows.iloc[0]
    level = int(round(100 * (1 - touchpoints.alpha)))
    what = f"{_one(r['experience'])} in the {window_days} days before"
    gap = (f"a gap of {abs(r['difference']):.0f} points, {level}% CI {abs(r['difference_upper']):.0f} to "
           f"{abs(r['difference_lower']):.0f}")
    caveat = "unhappy customers also contact care more, so this is not what fewer such contacts would gain"
    score = getattr(touchpoints, "score", "nps")
    if score == "nps":
        return (f"Answers given after {what} score an NPS of {signed(r['score_with'])} against "
                f"{signed(r['score_without'])} for the other answers ({gap}); {caveat}.")
    top = SCALES[score].labels[-1]
    return (f"Of the answers given after {what}, {r['score_with']:.0f}% are {top}, against "
            f"{r['score_without']:.0f}% of the other answers ({gap}); {caveat}.")


PRIOR_MISSING = {"no_answers": "no earlier answers to allow for",
                 "too_few": "too few departures after an answer to allow for it"}


def experience_hazard_sentence(eh, name: str = "complaints") -> str | None:
    """``Among customers who gave the same score before, each complaint in a customer's previous 90 days ...
    goes with a 1.46 times higher monthly churn hazard (95% CI ...)``, from the model that allows for the
    earlier answer (:class:`~cxkit.drivers.ExperienceHazards`); without earlier answers, the sentence says the
    ratio does not allow for them."""
    s = eh.summary.set_index("experience")
    if name not in s.index:
        return None
    r = s.loc[name]
    level = int(round(100 * (1 - eh.alpha)))
    what = experience_label(name)
    window = (f"in a customer's previous {eh.window_days} days (counted from {eh.lag_days} days after it, so calls "
              "made while leaving do not count)")
    prior = getattr(eh, "prior_score_", None)
    among = "Among customers who gave the same score before, e" if prior else "E"
    others = join_words(eh.adjusted_for_)
    if prior:
        adjust = f", allowing also for {others}" if others else ""
    else:
        why = PRIOR_MISSING[getattr(eh, "prior_missing_", None) or "no_answers"]
        adjust = (f", allowing for {others} but not for what customers said before ({why})" if others
                  else f", not allowing for what customers said before ({why})")
    ci = f"{level}% CI {r['lower']:.2f} to {r['upper']:.2f}"
    if not _excludes(r["lower"], r["upper"], 1.0):
        who = "among customers who gave the same score before " if prior else ""
        return (f"Customers' churn is not distinguishable between those with and without a recent {what}, "
                f"{who}(hazard ratio {r['hazard_ratio']:.2f} per {what}, {ci}).")
    if r["hazard_ratio"] > 1:
        ratio, more = f"{r['hazard_ratio']:.2f}", "higher"
    else:
        ratio, more = f"{1 / r['hazard_ratio']:.2f}", "lower"
        ci = f"{level}% CI {1 / r['upper']:.2f} to {1 / r['lower']:.2f}"
    return f"{among}ach {what} {window} goes with a {ratio} times {more} monthly churn hazard ({ci}){adjust}."


def experience_unadjusted_sentence(eh, name: str = "complaints") -> str | None:
    """For comparison: the same ratio when the model does not know what the customer said before.

    ``Not allowing for the earlier score, the ratio reads 1.59 (95% CI 1.47 to 1.71): unhappy customers both
    complain more and leave sooner, so that figure mixes the two.``
    """
    prior = getattr(eh, "prior_score_", None)
    s, u = eh.summary.set_index("experience"), eh.unadjusted_.set_index("experience")
    if not prior or name not in s.index or name not in u.index:
        return None
    r = u.loc[name]
    level = int(round(100 * (1 - eh.alpha)))
    return (f"Not allowing for the earlier {score_name(prior)}, the ratio per {experience_label(name)} reads "
            f"{r['hazard_ratio']:.2f} ({level}% CI {r['lower']:.2f} to {r['upper']:.2f}): unhappy customers both "
            "complain more and leave sooner, so that figure mixes the experience with who the customer already was.")


def experience_revenue_sentence(eh, name: str = "complaints") -> str | None:
    """The monthly revenue that left with the extra churn of an experience, where its ratio is above 1 and
    distinguishable from no effect."""
    s = eh.summary.set_index("experience")
    if name not in s.index or not s.loc[name, "lower"] > 1:
        return None
    r = eh.revenue_at_risk_.set_index("experience").loc[name]
    if not np.isfinite(r["monthly_revenue"]):
        return None
    level = int(round(100 * (1 - eh.alpha)))
    return (f"Of the {money(r['revenue_left'])} a month of revenue that left in the last {eh.period_months} months, "
            f"{money(r['monthly_revenue'])} a month ({level}% CI {money(r['lower'])} to {money(r['upper'])}) went with "
            f"the extra churn that came with {name.replace('_', ' ')}.")


def departures_sentence(story, min_leavers: int = 30) -> str | None:
    """Which churn reason's leavers had complained most in their last days, against which least, where the
    difference's interval excludes zero."""
    if not story.measured_["contacts"]:
        return None
    rows = story.summary[(story.summary["reason"] != "all") & (story.summary["reason"] != "unknown")
                         & (story.summary["leavers"] >= min_leavers)]
    if len(rows) < 2:
        return None
    most, least = rows.loc[rows["with_complaint"].idxmax()], rows.loc[rows["with_complaint"].idxmin()]
    d = story.difference(most["reason"], least["reason"], "with_complaint")
    if not _excludes(d["lower"], d["upper"]):
        return None
    tied_most, tied_least = _reading_alike(story, rows, most, least), _reading_alike(story, rows, least, most)
    text = (f"Of the customers who left in the last {story.period_months} months, {percent(most['with_complaint'])} "
            f"of those whose churn reason was {most['reason']}{tied_most} had complained in their last "
            f"{story.window_days} days, against {percent(least['with_complaint'])} of those whose reason was "
            f"{least['reason']}{tied_least}")
    return text + _detractor_clause(story, min_leavers) + "."


def _detractor_clause(story, min_leavers: int) -> str:
    """``; of the leavers who had answered, 62% of those whose reason was service were detractors at their last
    answer, against 12% of those whose reason was moved``: the reasons whose answered leavers were most and least
    often detractors (the table's largest and smallest shares), where the difference's interval excludes zero;
    empty otherwise."""
    if not story.measured_["answers"]:
        return ""
    s = story.summary
    rows = s[(s["reason"] != "all") & (s["reason"] != "unknown") & (s["answered"] * s["leavers"] >= min_leavers)
             & s["last_band_detractor"].notna()]
    if len(rows) < 2:
        return ""
    column = "last_band_detractor"
    most, least = rows.loc[rows[column].idxmax()], rows.loc[rows[column].idxmin()]
    d = story.difference(most["reason"], least["reason"], column)
    if not _excludes(d["lower"], d["upper"]):
        return ""
    tied_most = _reading_alike(story, rows, most, least, column)
    tied_least = _reading_alike(story, rows, least, most, column)
    return (f"; of the leavers who had answered, {percent(most[column])} of those whose reason was "
            f"{most['reason']}{tied_most} were detractors at their last answer, against {percent(least[column])} "
            f"of those whose reason was {least['reason']}{tied_least}")


def _reading_alike(story, rows, row, other, column: str = "with_complaint") -> str:
    """`` or service``: the other reasons whose share (of leavers who complained, by default) reads as ``row``'s
    once rounded and differs from ``other``'s as ``row``'s does (a reader who sees two equal shares would ask why
    the sentence names one). Shares that round alike have a joint share that rounds the same, so the percentage
    holds for each reason and for them together."""
    same = []
    for _, r in rows.iterrows():
        if r["reason"] in (row["reason"], other["reason"]) or percent(r[column]) != percent(row[column]):
            continue
        d = story.difference(r["reason"], other["reason"], column)
        if _excludes(d["lower"], d["upper"]):
            same.append(r["reason"])
    return "".join(f" or {r}" for r in same)


def why_parts(analysis) -> dict:
    """The section's sentences by key (``drivers``, ``touchpoint``, ``hazard``, ``unadjusted``, ``revenue``,
    ``story``); drivers
    that cannot be told from no effect are drawn hollow in the figure (:func:`not_distinguishable_sentence`)."""
    a = analysis
    parts = {}
    if a.key_drivers_ is not None:
        parts["drivers"] = key_drivers_sentence(a.key_drivers_, a.window_days)
    if a.touchpoints_ is not None:
        parts["touchpoint"] = touchpoint_sentence(a.touchpoints_, a.window_days)
    if a.experiences_ is not None:
        parts["hazard"] = experience_hazard_sentence(a.experiences_, "complaints") or \
            experience_hazard_sentence(a.experiences_, "repeat_contacts")
        parts["unadjusted"] = experience_unadjusted_sentence(a.experiences_, "complaints")
        parts["revenue"] = experience_revenue_sentence(a.experiences_, "complaints")
    if a.departures_ is not None:
        parts["story"] = departures_sentence(a.departures_, a.min_size_)
    return {k: v for k, v in parts.items() if v}


def _why_summary(analysis) -> str | None:
    """The summary's line on departure: the complaint hazard ratio, where it can be told from no effect."""
    eh = analysis.experiences_
    if eh is None:
        return None
    s = eh.summary.set_index("experience")
    if "complaints" not in s.index or not _excludes(s.loc["complaints", "lower"], s.loc["complaints", "upper"], 1.0):
        return None
    if not getattr(eh, "prior_score_", None):  # a ratio mixing the complaint with who complains stays in its section
        return None
    return experience_hazard_sentence(eh, "complaints")


def why_missing_sentence(analysis) -> str | None:
    """``Not available here: experiences before departure, because the data has no contacts table.``"""
    missing = analysis.why_missing_
    if not missing:
        return None
    return " ".join(f"{what[0].upper()}{what[1:]}: not available, because {WHY_MISSING[code]}."
                    for what, code in missing.items())
