"""Page one as a leader brief: what changed, why it matters in money, and what to do (words, on top of
:mod:`cxkit.narrative`).

A leader reads the brief in a minute: a headline (the one finding that matters most, with its money), three or
four tiles (a number, a label, its change), three findings ("what we see" and "why it matters"), and a short
ranked list of actions, each with its value, its assumption in plain words and its owner. Intervals, p-values
and model names stay in the sections; every number here is a traced fact (``text``, ``value``, ``source`` on
the fitted analysis ``a``), as in the summary.

Findings are associations: "detractors leave sooner" says who leaves, not that a detractor's score makes them
leave; actions are worded as scenarios ("if 10% of detractors behaved like passives").

Examples
--------
>>> b = brief(analysis, owners={"care": "VP Customer Care"})     # doctest: +SKIP
>>> b["headline"]["text"]                                          # doctest: +SKIP
'Detractors took 38% of the revenue that left in the last 12 months: $56,545 a month.'
"""

from __future__ import annotations

import numpy as np

from cxkit.formats import column_label, money, percent, signed
from cxkit.narrative import (
    _fact,
    _in_sentence,
    band_name,
    driver_label,
    join_words,
    plural,
    score_name,
    score_noun,
    shown_facts,
    unclaimed_gap_words,
    unclaimed_gaps,
)
from cxkit.periods import UNITS

__all__ = ["brief", "behind", "segment_strength", "VALUE_SECTION"]


def _item(text: str, facts: list[dict], **more) -> dict:
    """A piece of the brief with the facts its text shows (a fact is kept only where its text appears)."""
    shown = " ".join([text, *(v for v in more.values() if isinstance(v, str))])
    return {"text": text, "facts": shown_facts(shown, facts), **more}


def segment_strength(a, rank: int = 0):
    """The segment columns ranked by how much their levels differ in churn, from the report's Cox model; the
    ``rank``-th (0: the strongest) as ``column, level, reference, term, hazard_ratio, lower, upper``: its level
    furthest from its reference among those that hold under Holm's correction across every level of every segment
    column (the gate page one applies to an audience's comparisons too: picking the strongest of many ratios by
    their own intervals would find a difference in one of them by chance). None when fewer columns have one.
    (Association: among customers alike in the model's other columns.)"""
    cox = a.cox_
    if cox is None:
        return None
    s = cox.summary
    family = s[[any(str(i).startswith(f"{c}[") for c in a.covariates_) for i in s.index]]
    held = _held(family["p_value"], a.alpha)
    best = []
    for column in a.covariates_:
        rows = s[[str(i).startswith(f"{column}[") for i in s.index]]
        top = None
        for term, r in rows.iterrows():
            if not (r["lower"] > 1 or r["upper"] < 1) or not np.isfinite(r["hazard_ratio"]) or not held[term]:
                continue
            strength = abs(np.log(r["hazard_ratio"]))
            if top is None or strength > top[0]:
                top = (strength, column, str(term)[len(column) + 1:-1], term, r)
        if top is not None:
            best.append(top)
    best.sort(key=lambda x: -x[0])
    if len(best) <= rank:
        return None
    _, column, level, term, r = best[rank]
    return {"column": column, "level": level, "reference": cox.reference_.get(column), "term": term,
            "hazard_ratio": float(r["hazard_ratio"]), "lower": float(r["lower"]), "upper": float(r["upper"])}


def _held(p_values, alpha: float) -> dict:
    """Which of a family of p-values (a Series by term) hold under Holm's correction at ``alpha``."""
    from cxkit.survival.logrank import holm

    adjusted = holm(p_values.to_numpy(dtype=float))
    return {term: bool(q < alpha) for term, q in zip(p_values.index, adjusted, strict=True)}


# ------------------------------------------------------------------ the pieces
def _tiles(a) -> list[dict]:
    tiles = []
    if a.nps_ is not None and not a.nps_["small"]:
        facts = [_fact(signed(a.nps_["nps"]), a.nps_["nps"], "a.nps_['nps']"),
                 _fact(f"{a.nps_['n']:,}", a.nps_["n"], "a.nps_['n']")]
        change = ""
        if a.trend_ is not None:
            flag = str(a.trend_.verdict_)
            # the verdict reads the series held to one mix of customers, not the figure above it: it says so, in a
            # leader's words (like for like: the same kinds of customers, as like-for-like sales)
            unit = f"{UNITS[a.period]}ly NPS"
            held = f"{unit}, like for like" if getattr(a.trend_, "adjusted_for_", None) else unit
            change = (f"{held}: a real shift " + ("up" if "above" in flag else "down") if flag.startswith("shift")
                      else f"{held}: steady" if flag.startswith("within") else "")
        who = f"NPS of {a.nps_['n']:,} active customers who answered"  # not all active customers (the next tile)
        window = a.nps_window_months if a.data_.mode != "snapshot" else None
        if window:
            facts.append(_fact(f"{window:g}", window, "a.nps_window_months"))
            who += f" in the last {window:g} months"
        tiles.append(_item(signed(a.nps_["nps"]), facts, label=who, change=change))
    elif a.nps_ is None:
        share = a.base_counts_.get(a.high_, 0) / max(sum(a.base_counts_.values()), 1)
        facts = [_fact(percent(share), share, f"a.base_counts_['{a.high_}'] / sum(a.base_counts_.values())")]
        # the change line said only the score's name: it says whose answers count instead
        tiles.append(_item(percent(share), facts, label=f"{plural(a.high_).lower()} among active customers who "
                                                        f"gave a {score_noun(a.score_)}",
                           change="in this snapshot" if a.data_.mode == "snapshot" else "by their latest answer"))
    if a.ledger_ is not None:
        t = a.ledger_.totals(a.year_periods_)
        src = "a.ledger_.totals(a.year_periods_)"
        net = t["end"] - t["start"]
        facts = [_fact(f"{t['end']:,}", t["end"], f"{src}['end']"),
                 _fact(f"{'+' if net >= 0 else '−'}{abs(net):,}", net, f"{src}['end'] - {src}['start']"),
                 _fact(f"{t['new']:,}", t["new"], f"{src}['new']"),
                 _fact(f"{t['lost']:,}", t["lost"], f"{src}['lost']")]
        tiles.append(_item(f"{t['end']:,}", facts, label="customers today",
                           change=f"{'+' if net >= 0 else '−'}{abs(net):,} in a year: {t['new']:,} joined, "
                                  f"{t['lost']:,} left"))
        facts = [_fact(money(t["revenue_out"]), t["revenue_out"], f"{src}['revenue_out']"),
                 _fact(money(t["revenue_in"]), t["revenue_in"], f"{src}['revenue_in']")]
        tiles.append(_item(money(t["revenue_out"]), facts, label="monthly revenue that left in a year",
                           change=f"against {money(t['revenue_in'])} a month that joined"))
    elif a.events_:  # a snapshot: who answered and the share who had left by then
        share = a.events_ / max(a.answer_spells_, 1)
        facts = [_fact(f"{a.answered_:,}", a.answered_, "a.answered_"),
                 _fact(percent(share), share, "a.events_ / a.answer_spells_")]
        tiles.append(_item(f"{a.answered_:,}", facts, label="customers who answered", change="in this snapshot"))
        tiles.append(_item(percent(share), facts, label="of them had left", change="by the snapshot"))
    care = _care_tile(a) if a.focus == "care" else None
    if care is not None:  # care's own money in place of the count of customers
        tiles = [t for t in tiles if t.get("label") != "customers today"]
        tiles.insert(1 if a.nps_ is not None else 0, care)
    stake = _stake(a)
    if stake is not None:
        v, moves, share, src = stake
        (low, mid), = moves.items()
        facts = _stake_facts(v, share, src)
        years = f"{a.horizon_months / 12:g}"  # lifetime value, beside a tile of monthly revenue
        facts.append(_fact(years, a.horizon_months / 12, "a.horizon_months / 12"))
        tiles.append(_item(money(v["estimate"]), facts, label=f"lifetime value at stake over {years} years: "
                           f"{percent(share)} of all {plural(low).lower()} behaving like {plural(mid).lower()}",
                           change=f"range {money(v['lower'])} to {money(v['upper'])}"))
    return tiles[:4]


def _care_tile(a) -> dict | None:
    """Care's tile: what care contacts cost in the latest period, with the cost per customer of the lowest and
    highest bands; None where the data measures no contact cost."""
    c = a.contacts_
    if c is None or not a.data_.has("contacts", "cost") or c.by_band_.empty:
        return None
    period = c.by_band_["period"].iloc[-1]
    last = c.by_band_[c.by_band_["period"] == period].set_index("band")
    rows = f"a.contacts_.by_band_[a.contacts_.by_band_['period'] == {period!r}]"
    total = float(last["cost"].sum())
    if not total > 0:
        return None
    facts = [_fact(money(total), total, f"{rows}['cost'].sum()"), _fact(period, period, "a.contacts_.by_band_"
                                                                                          "['period'].iloc[-1]")]
    change = ""
    low, high = a.low_, a.high_
    if {low, high} <= set(last.index):
        each = {b: float(last.loc[b, "cost_per_customer"]) for b in (low, high)}
        facts += [_fact(money(each[b], cents=True), each[b], f"{rows}.set_index('band').loc[{b!r}, "
                                                             "'cost_per_customer']") for b in (low, high)]
        change = f"{money(each[low], cents=True)} a {_one(low)}, {money(each[high], cents=True)} a {_one(high)}"
    return _item(money(total), facts, label=f"care contacts cost in {period}", change=change)


def _stake_facts(v: dict, share: float, src: str) -> list[dict]:
    """The value at stake, its range and the share moved, as facts."""
    return [_fact(money(v[f]), v[f], f"{src}['{f}']") for f in ("estimate", "lower", "upper")] + [
        _fact(percent(share), share, "a.share_moved")]


def _stake(a):
    """The first value-at-stake scenario when its interval excludes no change: (result, moves, share, source)."""
    if a.ltv_ is None or not a.scenarios or a.descriptive_:
        return None
    moves, share = next(iter(a.scenarios.values()))
    v = a.ltv_.value_at_stake(moves, share)
    if not (v["lower"] > 0 or v["upper"] < 0) or not v.get("identified", True):
        return None
    return v, moves, share, f"a.ltv_.value_at_stake({moves!r}, {share!r})"


def _findings(a) -> list[dict]:
    """Candidate findings in the order a leader needs them: the audience's own story, what separates churn most,
    who leaves, where the lost revenue went, what care costs."""
    out = []
    low, high = a.low_, a.high_
    if a.audience_ is not None:
        held = a.audience_.held_
        hazard = held[held["measure"] == "churn hazard"]
        if len(hazard):
            r = hazard.iloc[0]
            i = int(hazard.index[0])
            src = f"a.audience_.summary.loc[{i}]"
            facts = [_fact(f"{r['difference']:.1f}", r["difference"], f"{src}['difference']")]
            excess = _audience_excess(a)
            ratio = r["difference"]
            name, rest = _audience_names(a)
            see = (f"{name} loses customers {ratio:.1f} times as fast as {rest} with the same {band_name(a.score_)}"
                   if ratio > 1 else
                   f"{name} loses customers at {ratio:.1f} times the rate of {rest} with the same "
                   f"{band_name(a.score_)}")
            if excess is None:
                text = f"{see}."
            else:
                value, lo, hi, efacts = excess
                facts += efacts
                # whose rate: the others' ("their" read as the audience's own)
                others = rest.replace("customers in other ", "the other ") if rest != "other customers" else \
                    "the other customers"
                text = (f"{see}: at {others}' churn rate it would have lost about {money(abs(value))} a month "
                        f"{'less' if value > 0 else 'more'} revenue over the last year (range {money(abs(lo))} to "
                        f"{money(abs(hi))}).")
            out.append(_item(text, facts, key="audience"))
        elif len(held):  # without a churn difference only the NPS can hold (the bands are gated on churn)
            r = held.iloc[0]
            i = int(held.index[0])
            src = f"a.audience_.summary.loc[{i}]"
            name, rest = _audience_names(a)
            facts = [_fact(signed(abs(r["difference"])).lstrip("+"), abs(r["difference"]),
                           f"abs({src}['difference'])")]
            facts += [_fact(signed(r[f]), r[f], f"{src}['{f}']") for f in ("lower", "upper")]
            out.append(_item(f"{name}'s NPS is {signed(abs(r['difference'])).lstrip('+')} points "
                             f"{'above' if r['difference'] > 0 else 'below'} that of {rest} (from "
                             f"{signed(r['lower'])} to {signed(r['upper'])}), while how fast its customers leave is "
                             "not distinguishable from theirs. Why it matters: what its customers say differs; what "
                             "they do does not, so far.", facts, key="audience"))
        else:
            out.append(_alike_finding(a))
    if a.descriptive_ and a.events_ and not {low, high} & a.small_bands_:
        mid = a.mid_
        bands = [b for b in (low, mid, high) if b not in a.small_bands_ and np.isfinite(a.churned_share_[b])]
        facts = [_fact(percent(a.churned_share_[b]), a.churned_share_[b], f"a.churned_share_['{b}']") for b in bands]
        shares = join_words([f"{percent(a.churned_share_[b])} of {plural(b).lower()}" for b in bands])
        see = (f"The {score_name(a.score_)} was recorded as customers were leaving ({shares} had left), so it "
               "describes who left and cannot predict who will")
        left = a.left_revenue()
        if left is not None and left["monthly revenue left"] > 0:
            facts += [_fact(f"{left['left']:,}", left["left"], "a.left_revenue()['left']"),
                      _fact(money(left["monthly revenue left"]), left["monthly revenue left"],
                            "a.left_revenue()['monthly revenue left']")]
            see += (f"; the {left['left']:,} customers who had left paid {money(left['monthly revenue left'])} a "
                    "month")
        out.append(_item(f"{see}. Why it matters: to find who will leave, look at the customer columns below "
                         "instead.", facts, key="descriptive", see=see))
    if not a.descriptive_ and a.events_ and not {low, high} & a.small_bands_:
        km = "a.km_.survival_at([a.retention_months]).set_index('segment')['survival']"
        at = a.km_.survival_at([a.retention_months]).set_index("segment")["survival"]
        if low in at.index and high in at.index and a.km_.logrank_.p_value < a.alpha:
            facts = [_fact(percent(at[low]), at[low], f"{km}['{low}']"), _fact(percent(at[high]), at[high],
                                                                                 f"{km}['{high}']")]
            matters = _gap_words(a, facts)
            out.append(_item(f"{plural(low)} leave sooner: {percent(at[low])} are still customers a year after "
                             f"answering, against {percent(at[high])} of {plural(high).lower()}. Why it matters: "
                             f"{matters}.", facts, key="retention"))
    lost = a.revenue_lost_by_band()
    if lost is not None and low in lost.index and lost.sum() > 0:
        share = lost[low] / lost.sum()
        src = "a.revenue_lost_by_band()"
        facts = [_fact(percent(share), share, f"{src}.pipe(lambda s: s['{low}'] / s.sum())"),
                 _fact(money(lost[low]), lost[low], f"{src}['{low}']")]
        every = a.lost_table("band").set_index("band")["share of lost revenue"]
        unanswered = float(every.get("no answer", 0.0))
        if unanswered > 0:
            src = "a.lost_table('band').set_index('band').loc['no answer', 'share of lost revenue']"
            facts.append(_fact(percent(unanswered), unanswered, src))
            text = (f"{percent(unanswered)} of the revenue that left in the last year went with customers who had "
                    f"never answered the survey. Of the revenue that left with customers who had answered, "
                    f"{plural(low).lower()} took {percent(share)}: "
                    f"{money(lost[low])} a month. Why it matters: that money left with customers who had told us they "
                    f"were unhappy; for the {percent(unanswered)}, the survey cannot say how those customers felt.")
        else:
            text = (f"Of the revenue that left in the last year, {plural(low).lower()} took {percent(share)}: "
                    f"{money(lost[low])} a month. Why it matters: that money left with customers who had told us they "
                    "were unhappy.")
        out.append(_item(text, facts, key="lost"))
    if a.contacts_ is not None and not {low, high} & a.small_bands_:
        t = a.contacts_.by_band_
        last = t[t["period"] == t["period"].iloc[-1]].set_index("band")
        if {low, high} <= set(last.index) and last.loc[high, "contacts_per_customer"] > 0:
            src = ("a.contacts_.by_band_[a.contacts_.by_band_['period'] == a.contacts_.by_band_['period'].iloc[-1]]"
                   ".set_index('band')")
            times = last.loc[low, "contacts_per_customer"] / last.loc[high, "contacts_per_customer"]
            c_low, c_high = last.loc[low, "cost_per_customer"], last.loc[high, "cost_per_customer"]
            facts = [_fact(f"{times:.1f}", times, f"{src}.loc['{low}', 'contacts_per_customer'] / "
                                                  f"{src}.loc['{high}', 'contacts_per_customer']")]
            period = str(t["period"].iloc[-1])
            if np.isfinite(c_low) and np.isfinite(c_high):
                facts += [_fact(money(c_low, cents=True), c_low, f"{src}.loc['{low}', 'cost_per_customer']"),
                          _fact(money(c_high, cents=True), c_high, f"{src}.loc['{high}', 'cost_per_customer']"),
                          _fact(period, period, "a.contacts_.by_band_['period'].iloc[-1]")]
                cost = (f"each {_one(low)} cost {money(c_low, cents=True)} in care contacts against "
                        f"{money(c_high, cents=True)} for each {_one(high)}")
                matters = f"in {period} {cost}"
            else:
                cost, matters = "", "contact costs are not available in this data"
            see = f"{plural(low)} contacted care {times:.1f} times as often as {plural(high).lower()} in {period}"
            out.append(_item(f"{see}. Why it matters: {matters}.", facts, key="contacts",
                             headline=f"{see}, and {cost}." if cost else f"{see}."))
    for rank in (0, 1):
        strength = segment_strength(a, rank)
        if strength is None or (a.audience_ is not None and strength["column"] in a.audience_.slice_by_):
            continue
        col = _in_sentence(column_label(strength["column"]))
        faster, slower, ratio, fact = _faster(strength, rank)
        alike = [_in_sentence(column_label(c)) for c in a.covariates_ if c != strength["column"]]
        if not a.descriptive_:  # the model holds the answer's band alike too ("segment" among its terms)
            alike.append(band_name(a.score_))
        # the ranking is among the customer columns: the score's own bands may separate churn more (the headline's)
        lead = (f"Besides the {score_noun(a.score_)}, {col} goes with leaving most" if rank == 0
                else f"Next comes {col}")
        matters = (f"{col} is the first place to look for who will leave, and for what would keep them" if rank == 0
                   else f"{col} is the next place to look")
        shares = _left_shares(a, strength)
        varies = _varies(a, strength["column"])
        if shares is None:  # the ratio with its interval, read the same way up, as the hazard table gives it
            average = ", on average: the gap changes over time" if varies else ""
            ci, ci_facts = _ratio_interval(strength, rank)
            inside = f" ({ci}, with {join_words(alike)} alike)" if alike else f" ({ci})"
            see, facts = f"{faster} leave {_times(ratio)} as fast as {slower}{inside}{average}", [fact, *ci_facts]
            text = f"{lead}: {see}"
        else:  # a snapshot: plain shares who had left; the model's two caveats said of the ranking, each plainly
            see, facts = shares
            text = f"{lead}: {see}"
            held = [f"The ranking compares customers with the same {join_words(alike)}"] if alike else []
            if varies:
                held.append(f"{col[0].upper()}{col[1:]}'s link with leaving changes over time, so the ranking "
                            "rests on its average")
            text += "".join(f". {h}" for h in held)
        out.append(_item(f"{text}. Why it matters: {matters}.", facts, key="segment" if rank == 0 else "segment2",
                         column=strength["column"], see=see))
    drivers = _drivers_finding(a)
    if drivers is not None:
        out.append(drivers)
    return out


def _varies(a, column: str) -> bool:
    """Whether the Cox model's test finds the link of ``column`` with leaving changing over time (proportional
    hazards rejected): its hazard ratio is then an average over the follow-up, and page one says so."""
    test = getattr(a.cox_, "ph_test_", None)
    if test is None or not len(test):
        return False
    return bool((test.loc[test["covariate"] == column, "holds"] == False).any())  # noqa: E712 - None is not False


def _alike_finding(a) -> dict:
    """An audience none of whose differences holds: alike where no row's own interval excludes no difference;
    else its churn against the others' with its interval, and the bands' gaps a table shows said as seen and not
    claimed (the churn gate stayed shut), never called alike."""
    name, rest = _audience_names(a)
    diff = a.audience_
    seen = unclaimed_gaps(diff)
    seen = seen[seen["measure"] == "still a customer"]
    if seen.empty:
        return _item(f"{name} is like {rest} in NPS, churn and retention: the differences seen are no larger than "
                     "chance alone gives across this many comparisons.", [], key="audience")
    s = diff.summary
    facts = []
    for i, r in seen.iterrows():
        src = f"a.audience_.summary.loc[{i}]"
        facts += [_fact(percent(r[f]), r[f], f"{src}['{f}']") for f in ("audience", "others")]
        facts += [_fact(signed(100 * r[f]), 100 * r[f], f"100 * {src}['{f}']")
                  for f in ("difference", "lower", "upper")]
    facts.append(_fact(f"{len(s)}", len(s), "len(a.audience_.summary)"))
    hazard = s[s["measure"] == "churn hazard"]
    nps = s[s["measure"] == "nps"]
    nps_alike = bool(len(nps)) and nps["lower"].iloc[0] <= 0 <= nps["upper"].iloc[0]
    if len(hazard):
        i, r = int(hazard.index[0]), hazard.iloc[0]
        src = f"a.audience_.summary.loc[{i}]"
        facts += [_fact(f"{r[f]:.2f}", r[f], f"{src}['{f}']") for f in ("difference", "lower", "upper")]
        see = (f"{name}'s customers leave at {r['difference']:.2f} times the rate of {rest} with the same "
               f"{band_name(a.score_)} (95% CI {r['lower']:.2f} to {r['upper']:.2f}): not distinguishable"
               + (", nor is its NPS" if nps_alike else ""))
    else:
        see = f"{name} is not distinguishable from {rest} in how fast its customers leave"
    words = unclaimed_gap_words(diff)
    return _item(f"{see}. {words[0].upper()}{words[1:]}. Why it matters: the gap is one to watch, not to act on.",
                 facts, key="audience")


def _drivers_finding(a) -> dict | None:
    """What goes with the report's score most (key drivers told apart from no effect), as a finding."""
    kd = a.key_drivers_
    if kd is None:
        return None
    shown = kd.importance_[kd.importance_["distinguishable"].eq(True)].head(2)  # None: not tested
    if shown.empty:
        return None
    src = "a.key_drivers_.importance_.set_index('driver')"
    names = [driver_label(d, a.window_days).split(" in the ")[0] for d in shown["driver"]]
    facts = [_fact(percent(r.share), r.share, f"{src}.loc['{r.driver}', 'share']") for r in shown.itertuples()]
    first = f"{names[0]} ({percent(shown['share'].iloc[0])} of what the drivers explain"
    more = f"; then {names[1]}, {percent(shown['share'].iloc[1])})" if len(names) > 1 else ")"
    if getattr(a, "descriptive_", False):  # a score recorded as customers left is no target to lift
        matters = (f"the {score_noun(a.score_)} was recorded as customers were leaving, so this describes who was "
                   "unhappy as they left; it is not a target to lift")
    else:
        matters = (f"it is where to look first for what would lift the {score_noun(a.score_)}; an association, not "
                   "a lever")
    return _item(f"What goes with the {score_noun(a.score_)} most: {first}{more}. Why it matters: {matters}.", facts,
                 key="drivers")


def _times(ratio: float) -> str:
    """``1.8 times``, ``52 times``: two figures are enough for a ratio a leader repeats."""
    return f"{ratio:.0f} times" if ratio >= 10 else f"{ratio:.1f} times"


def _who(level: str, column: str) -> str:
    """``Pro customers``; a level called None reads ``customers with no offer``."""
    if str(level).strip().lower() in ("none", "no", "nan", ""):
        return f"customers with no {_in_sentence(column_label(column))}"
    return f"{level} customers"


def _faster(strength: dict, rank: int):
    """(the faster group, the slower group, their ratio of at least 1, its fact) of a segment strength."""
    hr = strength["hazard_ratio"]
    level, reference = _who(strength["level"], strength["column"]), _who(strength["reference"], strength["column"])
    src = f"segment_strength(a, {rank})['hazard_ratio']"
    if hr >= 1:
        return level, reference, hr, _fact(_times(hr).split()[0], hr, src)
    return reference, level, 1 / hr, _fact(_times(1 / hr).split()[0], 1 / hr, f"1 / {src}")


def _ratio_interval(strength: dict, rank: int) -> tuple[str, list[dict]]:
    """``95% CI 1.6 to 2.1``: a segment strength's interval read the way :func:`_faster` reads its ratio (at least
    1: the ends inverted and swapped for a ratio below 1), and its facts."""
    src = f"segment_strength(a, {rank})"
    if strength["hazard_ratio"] >= 1:
        ends = [(strength["lower"], f"{src}['lower']"), (strength["upper"], f"{src}['upper']")]
    else:
        ends = [(1 / strength["upper"], f"1 / {src}['upper']"), (1 / strength["lower"], f"1 / {src}['lower']")]
    words = [_times(v).split()[0] for v, _ in ends]
    if "1.0" in words:  # an end that rounds to 1 would read as touching no difference: two decimals show it does not
        words = [f"{v:.2f}" for v, _ in ends]
    return f"95% CI {words[0]} to {words[1]}", [_fact(w, v, s) for w, (v, s) in zip(words, ends, strict=True)]


def _left_shares(a, strength: dict):
    """A snapshot's plain shares who had left, of a segment strength's faster and slower levels (``46% of
    Month-to-Month customers had left by the snapshot, against 3% of Two Year customers``) and their facts; None
    for dated data (a hazard ratio is read there), or where the plain shares run against the model's order."""
    shares = a.left_share_by(strength["column"])
    up = strength["hazard_ratio"] >= 1
    fast, slow = (strength["level"], strength["reference"]) if up else (strength["reference"], strength["level"])
    if shares is None or not {fast, slow} <= set(shares.index) or not shares[fast] > shares[slow]:
        return None
    src = f"a.left_share_by({strength['column']!r})"
    facts = [_fact(percent(shares[lv]), shares[lv], f"{src}[{lv!r}]") for lv in (fast, slow)]
    return (f"{percent(shares[fast])} of {_who(fast, strength['column'])} had left by the snapshot, against "
            f"{percent(shares[slow])} of {_who(slow, strength['column'])}", facts)


def _left_revenue(a, strength: dict) -> tuple[str, list[dict], float]:
    """A snapshot's money for the column that goes with leaving most: the monthly revenue its faster-leaving
    level's leavers paid, and their share of all that left (or why there is none)."""
    table = a.left_revenue_by(strength["column"])
    level = strength["level"] if strength["hazard_ratio"] >= 1 else strength["reference"]
    if table is None or level not in set(table["level"]) or not table["monthly revenue left"].sum() > 0:
        return "not in money here: this data is a snapshot, with no revenue measured", [], 0.0
    src = f"a.left_revenue_by({strength['column']!r}).set_index('level').loc[{str(level)!r}]"
    row = table.set_index("level").loc[level]
    facts = [_fact(money(row["monthly revenue left"]), row["monthly revenue left"], f"{src}['monthly revenue left']"),
             _fact(percent(row["share of revenue left"]), row["share of revenue left"],
                   f"{src}['share of revenue left']"),
             _fact(f"{int(row['left']):,}", int(row["left"]), f"{src}['left']")]
    who = _who(level, strength["column"])
    return (f"the {int(row['left']):,} {who} who had left paid {money(row['monthly revenue left'])} a month "
            f"({percent(row['share of revenue left'])} of the monthly revenue that left, over the whole snapshot)",
            facts, float(row["monthly revenue left"]) * 12)


def _audience_names(a) -> tuple[str, str]:
    """(``South``, ``customers in other regions``) for a one-column audience; else generic words."""
    slice_by = a.data_.slice_by or {}
    if len(slice_by) == 1:
        (col, value), = slice_by.items()
        if not isinstance(value, list) or len(value) == 1:
            value = value[0] if isinstance(value, list) else value
            return str(value), f"customers in other {_in_sentence(column_label(col))}s"
    return "This audience", "other customers"


def _value_finding(a) -> dict | None:
    """What keeping a customer is worth: the lifetime value gap between the bands, where it is identified (not for
    a score that mirrors the outcome: its bands say who left, not what keeping one is worth)."""
    if a.descriptive_:
        return None
    facts = []
    words = _gap_words(a, facts)
    if not facts:
        return None
    return _item(f"{words[0].upper()}{words[1:]}. Why it matters: that gap is the most a {_one(a.low_)} won back "
                 "could be worth; how much of it a win-back recovers is not known from this data, and a test would "
                 f"tell{VALUE_SECTION}.", facts, key="value")


#: where the value finding sends a reader for the gap's interval (a rendition without that section rewords it)
VALUE_SECTION = " (the value section gives the gap's interval)"

TAIL_SHARE = 0.10  # a fitted tail carrying this share of the lifetime-value gap or more is said on page one


def _one(band: str) -> str:
    """A band's member as a noun: ``promoter``; ``satisfied customer`` for a band named by an adjective."""
    return band if plural(band).lower() == f"{band}s" else f"{band} customer"


def _gap_words(a, facts: list[dict]) -> str:
    """Why retention matters, in money: the lifetime value gap where it is identified, else plain words."""
    if a.gap_bands_ is None:
        return "a customer who stays keeps paying"
    high, low = a.gap_bands_
    g = a.ltv_.gap(high, low)
    if not (g["lower"] > 0 or g["upper"] < 0) or not g.get("identified", True):
        return "a customer who stays keeps paying; how much more each band is worth is in the value section"
    src = f"a.ltv_.gap('{high}', '{low}')"
    facts.append(_fact(money(abs(g["estimate"])), abs(g["estimate"]), f"abs({src}['estimate'])"))
    years = f"{a.horizon_months / 12:g}"
    facts.append(_fact(years, a.horizon_months / 12, "a.horizon_months / 12"))
    more = "more" if g["estimate"] >= 0 else "less"
    words = (f"each {_one(high)} is worth {money(abs(g['estimate']))} {more} than each {_one(low)} over {years} "
             "years, as customers behave today")
    # how much of it the data covers and how much a curve fitted past it carries, where the tail is material
    tail = g["estimate"] - g["observed_estimate"]
    if g["observed_months"] >= a.horizon_months or abs(tail) < TAIL_SHARE * abs(g["estimate"]):
        return words
    if g["observed_estimate"] * g["estimate"] < 0 or tail * g["estimate"] < 0:  # parts pulling apart: no split
        facts.append(_fact(f"{g['observed_months']}", g["observed_months"], f"{src}['observed_months']"))
        return words + (f" (the data covers {g['observed_months']} months; the rest is from a curve fitted "
                        "beyond)")
    facts += [_fact(money(abs(g["observed_estimate"])), abs(g["observed_estimate"]),
                    f"abs({src}['observed_estimate'])"),
              _fact(f"{g['observed_months']}", g["observed_months"], f"{src}['observed_months']"),
              _fact(money(abs(tail)), abs(tail), f"abs({src}['estimate'] - {src}['observed_estimate'])")]
    words += (f" ({money(abs(g['observed_estimate']))} of it within the {g['observed_months']} months the data "
              f"covers; {money(abs(tail))} from a curve fitted beyond)")
    return words


def _audience_excess(a):
    """Revenue an audience lost a month, over the last year, beyond what it would have lost at the other
    customers' churn rate in the same band: ``lost x (1 - 1 / HR)`` (negative: kept), with the range from the
    hazard ratio's interval (the end nearer zero first), and the facts; None without a ledger or a churn
    difference that holds. (Under proportional hazards and low monthly churn the number who leave scales with the
    hazard; an association, not a cause.)"""
    if a.ledger_ is None or a.audience_ is None:
        return None
    held = a.audience_.held_
    hazard = held[held["measure"] == "churn hazard"]
    if not len(hazard):
        return None
    i = int(hazard.index[0])
    r = hazard.iloc[0]
    lost = a.ledger_.totals(a.year_periods_)["revenue_out"]
    src_lost = "a.ledger_.totals(a.year_periods_)['revenue_out']"
    src = f"a.audience_.summary.loc[{i}]"
    value = lost * (1 - 1 / r["difference"])
    ends = sorted([lost * (1 - 1 / r["lower"]), lost * (1 - 1 / r["upper"])], key=abs)  # nearer zero first
    facts = [_fact(money(abs(value)), abs(value), f"abs({src_lost} * (1 - 1 / {src}['difference']))")]
    facts += [_fact(money(abs(v)), abs(v), f"abs({src_lost} * (1 - 1 / {src}['{end}']))")
              for v, end in ((lost * (1 - 1 / r["lower"]), "lower"), (lost * (1 - 1 / r["upper"]), "upper"))]
    return float(value), float(ends[0]), float(ends[1]), facts


def _actions(a, owners: dict) -> list[dict]:
    """Ranked actions the analysis supports, each with its value, assumption and owner."""
    out = []
    stake = _win_back(a, owners)
    if stake is not None:
        out.append(stake)
    eh = a.experiences_
    if eh is not None and getattr(eh, "prior_score_", None) and "complaints" in set(eh.summary["experience"]):
        row = eh.summary.set_index("experience").loc["complaints"]
        money_row = eh.revenue_at_risk_.set_index("experience").loc["complaints"]
        if row["lower"] > 1 and np.isfinite(money_row["monthly_revenue"]):
            src = "a.experiences_.revenue_at_risk_.set_index('experience').loc['complaints']"
            facts = [_fact(money(money_row[f]), money_row[f], f"{src}['{f}']")
                     for f in ("monthly_revenue", "lower", "upper")]
            out.append(_item("Resolve complaints at the first contact.", facts,
                             value=f"{money(money_row['monthly_revenue'])} a month of revenue went with the extra "
                                   f"churn after complaints ({money(money_row['lower'])} to "
                                   f"{money(money_row['upper'])})",
                             assumption="the ratio compares customers who gave the same score before; it is an "
                                        "association, so fewer complaints need not win all of it back",
                             owner=owners.get("care", ""), amount=float(money_row["monthly_revenue"]) * 12,
                             key="complaints", lead="resolve complaints at the first contact"))
    if a.ledger_ is not None:
        reason = _reason_action(a, owners)
        if reason is not None:
            out.append(reason)
    excess = _audience_excess(a)
    if excess is not None:
        value, lo, hi, facts = excess
        name, rest = _audience_names(a)
        out.append(_item(f"Find out why {name} keeps {'fewer' if value > 0 else 'more'} of its customers than "
                         f"{rest} do, and report back what could be copied or fixed.", facts,
                         value=f"about {money(abs(value))} a month of revenue {'lost' if value > 0 else 'kept'} "
                               f"over the last year against the other customers' rate (range {money(abs(lo))} to "
                               f"{money(abs(hi))})",
                         assumption="the difference holds in the data; its cause is not known from it",
                         owner=owners.get("region", owners.get(next(iter(a.data_.slice_by)), "")),
                         amount=abs(value) * 12, key="audience",
                         lead=f"find out why {name} keeps {'fewer' if value > 0 else 'more'} of its customers"))
    if not out:  # nothing in money over time (a snapshot): the columns that go with leaving most are where to look
        for rank in (0, 1):
            strength = segment_strength(a, rank)
            if strength is None or strength["column"] in (a.data_.slice_by or {}):
                continue
            faster, slower, ratio, fact = _faster(strength, rank)
            column = strength["column"]
            value, facts, amount = _left_revenue(a, strength)
            shares = _left_shares(a, strength)
            why, why_facts = (f"{faster} leave {_times(ratio)} as fast as {slower}", [fact]) if shares is None \
                else shares
            out.append(_item(f"Look into why {why}, and what would move customers the other way.",
                             [*why_facts, *facts], value=value,
                             assumption="customers choose their "
                                        f"{_in_sentence(column_label(column))}; the gap goes with it and need not "
                                        "be caused by it",
                             owner=owners.get(column, owners.get("product", "")), amount=amount, key="segment",
                             lead=f"look into why {faster} leave faster",
                             pool={column: _money_level(strength)} if facts else None))
    own = _own_action(a, owners, out)
    out += [own] if own is not None else []
    order = {"audience": 0, "stake": 1, "complaints": 2, "contact": 3, "reason": 4, "product": 5, "segment": 6}
    out.sort(key=lambda x: order[x["key"]])  # how directly each is supported
    mine = OWN_ACTIONS.get(a.focus)
    if mine:  # an audience's report: its own actions first; one of the others' for context where it has one
        first = [x for x in out if x["key"] in mine]
        out = first + [x for x in out if x["key"] not in mine][:max(0, 2 - len(first))]
    for rank, action in enumerate(out, 1):
        action["rank"] = rank
    out = out[:4]
    _overlaps(a, out)
    return out


#: the actions an audience's report leads with (its own team's); the others' actions are cut to one, for context
OWN_ACTIONS = {"care": ("stake", "complaints", "contact"), "product": ("product",)}


def _own_action(a, owners: dict, actions: list[dict]) -> dict | None:
    """The action an audience's own team owns where the leadership's list has none: for care, the contacts that
    come before low scores (:func:`_contact_action`); for product, the product churn reason (unless the reasons'
    action already names it)."""
    if a.focus == "care":
        return _contact_action(a, owners)
    if a.focus == "product" and a.ledger_ is not None:
        reason = next((x for x in actions if x["key"] == "reason"), None)
        if reason is not None and any("'product'" in f["source"] for f in reason["facts"]):
            return None  # the leadership's reason action is already product's
        return _product_action(a, owners)
    return None


def _contact_action(a, owners: dict) -> dict | None:
    """Care's own action: review the kind of contact that comes before the lowest scores, where the gap between
    the answers after it and the others excludes zero (as :func:`~cxkit.narrative.touchpoint_sentence` says it);
    an association, so its value is that gap in points, not money."""
    t = a.touchpoints_
    if t is None or a.descriptive_:
        return None
    rows = t.summary[~t.summary["small"] & (t.summary["lower"] > 0) & (t.summary["difference_upper"] < 0)]
    if rows.empty:
        return None
    i, r = rows.index[0], rows.iloc[0]
    kind = str(r["experience"]).removesuffix("_contacts").replace("_", " ")
    src = f"a.touchpoints_.summary.loc[{i}]"
    level = int(round(100 * (1 - a.alpha)))
    facts = [_fact(signed(r["score_with"]), r["score_with"], f"{src}['score_with']"),
             _fact(signed(r["score_without"]), r["score_without"], f"{src}['score_without']"),
             *[_fact(f"{abs(r[f]):.0f}", abs(r[f]), f"abs({src}['{f}'])")
               for f in ("difference", "difference_upper", "difference_lower")],
             _fact(f"{a.window_days}", a.window_days, "a.window_days")]
    score = score_noun(a.score_) if a.score_ != "nps" else "NPS"
    return _item(f"Review the {kind}s that came before low scores and fix what recurs; measure it by the {score} "
                 f"of answers given after a {kind}.", facts,
                 value=f"not in money: answers given after a {kind} in the {a.window_days} days before score "
                       f"{signed(r['score_with'])} against {signed(r['score_without'])} for the others (a gap of "
                       f"{abs(r['difference']):.0f} points, {level}% CI {abs(r['difference_upper']):.0f} to "
                       f"{abs(r['difference_lower']):.0f})",
                 assumption="an association: unhappy customers also contact care more, so fewer such contacts need "
                            "not raise the score",
                 owner=owners.get("care", ""), amount=0.0, key="contact", lead=f"review the {kind}s before low scores")


def _product_action(a, owners: dict) -> dict | None:
    """Product's own action: the churn reason ``product``, by the revenue that left with it in the last year."""
    reasons = a.lost_table("reason").set_index("reason")
    if "product" not in reasons.index or not reasons.loc["product", "monthly revenue lost"] > 0:
        return None
    r = reasons.loc["product"]
    src = "a.lost_table('reason').set_index('reason').loc['product']"
    facts = [_fact(money(r["monthly revenue lost"]), r["monthly revenue lost"], f"{src}['monthly revenue lost']"),
             _fact(percent(r["share of lost revenue"]), r["share of lost revenue"], f"{src}['share of lost revenue']")]
    return _item("Work on the product reasons customers give for leaving; measure it by the revenue that leaves "
                 "with them each month.", facts,
                 value=f"{money(r['monthly revenue lost'])} a month of revenue left with customers who gave product as "
                       f"their reason, over the last year ({percent(r['share of lost revenue'])} of the revenue that "
                       "left with all leavers)",
                 assumption="this is what left, not what can be won back: part of it would have left anyway",
                 owner=owners.get("product", ""), amount=float(r["monthly revenue lost"]) * 12, key="product",
                 lead="work on the product reasons for leaving")


def _win_back(a, owners: dict) -> dict | None:
    """Win back the low band, worded as a test: call a random half of the active customers whose latest answer was
    in the low band (the only ones who can be called by name) and compare their churn with the other half's after
    the retention horizon. Its money is the scenario on those customers alone (``value_at_stake`` with their count
    as the base, so the interval comes from the same bootstrap as the whole base's, which the tile and the value
    section keep); the calls' cost only where the contacts data measures what a call costs. None without a value
    at stake or anyone to call."""
    stake = _stake(a)
    if stake is None:
        return None
    _, moves, share, _ = stake
    (low, mid), = moves.items()
    called = int(a.answered_base_.get(low, 0))
    if not called:
        return None
    v = a.ltv_.value_at_stake(moves, share, {low: called})
    if not (v["lower"] > 0 or v["upper"] < 0):
        return None
    src = f"a.ltv_.value_at_stake({moves!r}, {share!r}, {{{low!r}: a.answered_base_[{low!r}]}})"
    years = f"{a.horizon_months / 12:g}"
    months = f"{a.retention_months:g}"
    facts = [*_stake_facts(v, share, src),
             _fact(f"{v['customers_moved']:,.0f}", v["customers_moved"], f"{src}['customers_moved']"),
             _fact(years, a.horizon_months / 12, "a.horizon_months / 12"),
             _fact(f"{called:,}", called, f"a.answered_base_['{low}']"),
             _fact(months, a.retention_months, "a.retention_months")]
    who = _callers(a, low, called, facts)
    value = (f"{money(v['estimate'])} of lifetime value over {years} years ({money(v['lower'])} to "
             f"{money(v['upper'])}) if {percent(share)} of the {called:,} (about {v['customers_moved']:,.0f}) come to "
             f"behave like {plural(mid).lower()}")
    cost = _call_cost(a)
    if cost is not None:
        each, csrc = cost
        facts += [_fact(money(called * each), called * each, f"a.answered_base_['{low}'] * {csrc}"),
                  _fact(f"${each:,.2f}", each, csrc)]
        value += f"; calling all {called:,} costs about {money(called * each)} at ${each:,.2f} a care call"
    return _item(f"Test a win-back of {plural(low).lower()}: call a random half of the {who}, fix what they report, "
                 f"and after {months} months compare their churn with the other half's.", facts, value=value,
                 assumption=f"those who move stay and spend as {plural(mid).lower()} do today",
                 owner=owners.get("care", ""), amount=float(v["estimate"]), key="stake",
                 lead="test a win-back")


CALL = "call"  # the contact kind whose mean cost prices a win-back call


def _call_cost(a) -> tuple[float, str] | None:
    """The mean cost of a care call in the contacts data and its source, or None where the data measures no cost of
    a call (no contacts, no cost column, no contact of kind ``call``, or calls that cost nothing recorded): the cost
    is then not said, never said to be 0."""
    c = a.contacts_
    if c is None or not a.data_.has("contacts", "cost"):
        return None
    calls = c.table[c.table["kind"] == CALL]
    n, cost = float(calls["contacts"].sum()), float(calls["cost"].sum())
    if not n or not cost > 0:
        return None
    rows = f"a.contacts_.table[a.contacts_.table['kind'] == {CALL!r}]"
    return cost / n, f"({rows}['cost'].sum() / {rows}['contacts'].sum())"


def _reason_action(a, owners: dict) -> dict | None:
    """Work on the churn reason that costs most; where the top two cannot be told apart (the interval of their
    difference in revenue lost includes zero, :meth:`~cxkit.leadership.LeadershipAnalysis.reason_gap`), both, as
    costing about the same, with both owners."""
    reasons = a.lost_table("reason")
    reasons = reasons[~reasons["reason"].isin(["unknown", "no reason"])]
    if not len(reasons) or not reasons["monthly revenue lost"].iloc[0] > 0:
        return None
    src = "a.lost_table('reason').set_index('reason')"
    top = reasons.iloc[:2]
    gap = a.reason_gap(*top["reason"]) if len(top) == 2 else None
    if gap is None or gap["distinguishable"]:
        top = top.iloc[:1]
    facts = []
    for r in top.itertuples(index=False):
        row = dict(zip(top.columns, r, strict=True))
        facts += [_fact(money(row["monthly revenue lost"]), row["monthly revenue lost"],
                        f"{src}.loc['{row['reason']}', 'monthly revenue lost']"),
                  _fact(percent(row["share of lost revenue"]), row["share of lost revenue"],
                        f"{src}.loc['{row['reason']}', 'share of lost revenue']")]
    names = [str(x) for x in top["reason"]]
    who = [owners.get(n, owners.get("product", "")) for n in names]
    owner = join_words(list(dict.fromkeys(w for w in who if w))) if all(who) else ""
    assumption = "this is what left, not what can be won back: part of it would have left anyway"
    amount = float(top["monthly revenue lost"].sum()) * 12
    if len(top) == 1:
        r = top.iloc[0]
        return _item(f"Work on the churn reason that costs most: {r['reason']}; measure it by the revenue that "
                     "leaves with it each month.", facts,
                     value=f"{money(r['monthly revenue lost'])} a month of revenue left with customers who gave "
                           f"{r['reason']} as their reason, over the last year ({percent(r['share of lost revenue'])}"
                           " of the revenue that left with all leavers)",
                     assumption=assumption, owner=owner, amount=amount, key="reason",
                     lead=f"work on {r['reason']}, the churn reason that costs most")
    first, second = top.iloc[0], top.iloc[1]
    gsrc = f"a.reason_gap({names[0]!r}, {names[1]!r})"
    facts.append(_fact(money(abs(gap["difference"])), abs(gap["difference"]), f"abs({gsrc}['difference'])"))
    facts += [_fact(_signed_money(gap[f]), gap[f], f"{gsrc}['{f}']") for f in ("lower", "upper")]
    shares = (f"{percent(first['share of lost revenue'])} each" if percent(first["share of lost revenue"]) ==
              percent(second["share of lost revenue"]) else
              f"{percent(first['share of lost revenue'])} and {percent(second['share of lost revenue'])}")
    return _item(f"Work on {names[0]} and {names[1]}, the churn reasons that cost most (about the same); measure "
                 "each by the revenue that leaves with it each month.", facts,
                 value=f"{money(first['monthly revenue lost'])} and {money(second['monthly revenue lost'])} a month "
                       f"left with customers giving {names[0]} and {names[1]} as their reason in the last year "
                       f"({shares} of all revenue that left); the {money(abs(gap['difference']))} between them is "
                       f"within chance (95% CI {_signed_money(gap['lower'])} to {_signed_money(gap['upper'])})",
                 assumption=assumption, owner=owner, amount=amount, key="reason",
                 lead=f"work on {names[0]} and {names[1]}, the churn reasons that cost most")


def _signed_money(value: float) -> str:
    """``−$1,574``, ``$1,702``: an interval's end in money, its sign shown when negative."""
    return f"−{money(abs(value))}" if value < 0 else money(value)


def _money_level(strength: dict) -> str:
    """The level of a segment strength whose leavers' money an action counts: the faster-leaving one."""
    return strength["level"] if strength["hazard_ratio"] >= 1 else strength["reference"]


def _overlaps(a, actions: list[dict]) -> None:
    """Where an action's money (what its ``pool`` of leavers paid) is partly an earlier action's, say so in its
    value: how many of its leavers and how much of their money the earlier action already counts, and the money
    outside it, so a reader adding the column does not count the same revenue twice. Any pair of pooled actions,
    from the customers table (:meth:`~cxkit.leadership.LeadershipAnalysis.left_revenue_where`)."""
    for i, later in enumerate(actions):
        pool = later.get("pool")
        if not pool:
            continue
        for earlier in actions[:i]:
            first = earlier.get("pool")
            if not first or set(first) & set(pool):  # two levels of one column share no customer
                continue
            both = {**first, **pool}
            shared = a.left_revenue_where(both)
            if shared is None or not shared["left"]:
                continue
            own = a.left_revenue_where(pool)
            outside = own["monthly revenue left"] - shared["monthly revenue left"]
            src, own_src = f"a.left_revenue_where({both!r})", f"a.left_revenue_where({pool!r})"
            (column, level), = first.items()
            later["facts"] = [*later["facts"], _fact(f"{shared['left']:,}", shared["left"], f"{src}['left']"),
                              _fact(money(shared["monthly revenue left"]), shared["monthly revenue left"],
                                    f"{src}['monthly revenue left']"),
                              _fact(money(outside), outside, f"{own_src}['monthly revenue left'] - "
                                                             f"{src}['monthly revenue left']"),
                              _fact(str(earlier["rank"]), earlier["rank"], str(earlier["rank"]))]
            later["value"] += (f". Not to be added to action {earlier['rank']}: {shared['left']:,} of these leavers "
                               f"({money(shared['monthly revenue left'])} a month) are {_who(level, column)} it "
                               f"already counts; {money(outside)} a month is outside it")


def _callers(a, low: str, called: int, facts: list[dict]) -> str:
    """Who the win-back action calls: the active customers whose latest answer, of any age, is in the low band;
    where the NPS tile counts only recent answers, how many of them answered within its window (the tile's
    detractors), so the page's two counts of detractors are told apart."""
    who = f"{called:,} active customers whose latest answer, of any age, was a {_one(low)}'s"
    window = a.nps_window_months if a.data_.mode != "snapshot" else None
    key = plural(low).lower()
    if a.nps_ is None or a.nps_["small"] or not window or key not in getattr(a, "nps_counts_", {}):
        return who
    recent = int(a.nps_counts_[key])
    if recent == called:
        return who
    facts += [_fact(f"{recent:,}", recent, f"a.nps_counts_['{key}']"),
              _fact(f"{window:g}", window, "a.nps_window_months")]
    return f"{who} ({recent:,} of them answered in the last {window:g} months, as the NPS tile counts)"


def _headline(a, findings: list[dict], actions: list[dict]) -> dict:
    """The one finding that matters most, then the first thing to do: an audience's own difference, a real shift in
    what customers say, or the year's lost customers and revenue (against the year before) with who leaves soonest;
    else the strongest finding."""
    item = _headline_finding(a, findings)
    if actions and actions[0].get("lead"):
        item = {**item, "text": f"{item['text']} First to do: {actions[0]['lead']}."}
    return item


def _as_headline(f: dict) -> dict:
    """A finding as a headline: its own headline words, else what we see without its 'Why it matters:' label."""
    text = f.get("headline") or (f.get("see") and f"{f['see'][0].upper()}{f['see'][1:]}.") or \
        f["text"].split(". Why it matters:")[0].rstrip(".") + "."
    return {**_item(text, f["facts"], key=f["key"]), **({"uses": f["uses"]} if "uses" in f else {})}


def _headline_finding(a, findings: list[dict]) -> dict:
    keyed = {f["key"]: f for f in findings}
    if "audience" in keyed and a.audience_ is not None and len(a.audience_.held_):
        return _as_headline(keyed["audience"])
    lost = _lost_words(a)
    if a.trend_ is not None and str(a.trend_.verdict_).startswith("shift"):
        up = "above" in str(a.trend_.verdict_)
        text = (f"What customers say has changed: held to one mix of customers, NPS is a real shift "
                f"{'up' if up else 'down'} against its baseline")
        return _item(text + (f". {lost[0][0].upper()}{lost[0][1:]}." if lost else "."), lost[1] if lost else [],
                     key="trend")
    lead = {"care": "contacts", "product": "value"}.get(a.focus)
    if lead in keyed:  # a care report leads with what care sees, a product report with what a customer is worth
        return _as_headline(keyed[lead])
    retention = keyed.get("retention")
    if lost and retention:
        see = retention["text"].split(". Why it matters")[0]
        return _item(f"{lost[0][0].upper()}{lost[0][1:]}. {see}.", lost[1] + retention["facts"],
                     key="headline", uses="retention")
    for key in ("descriptive", "segment", "retention", "lost", "contacts"):
        if key in keyed:
            return _as_headline(keyed[key])
    return _item("Too little in this data for a headline: see the sections.", [], key="none")


def _lost_words(a):
    """``in the last year 3,181 customers left: 2.2% of the base a month, down from 2.4% the year before; they took
    $148,803 of monthly revenue`` and its facts, or None: a change against the year before only where
    the rate ratio's interval excludes 1 (else "no real change"), and none where the ledger holds no year before.
    The rate is in the report's period (a quarter for a quarterly report); the revenue is a monthly run rate in
    every report, said in its own clause."""
    if a.ledger_ is None:
        return None
    t = a.ledger_.totals(a.year_periods_)
    src = "a.ledger_.totals(a.year_periods_)"
    facts = [_fact(f"{t['lost']:,}", t["lost"], f"{src}['lost']"),
             _fact(money(t["revenue_out"]), t["revenue_out"], f"{src}['revenue_out']")]
    change = a.ledger_.churn_change(a.year_periods_, alpha=a.alpha)
    rate = ""
    if change is not None:
        csrc = f"a.ledger_.churn_change(a.year_periods_, alpha={a.alpha!r})"
        digits = 1
        while digits < 3 and percent(change["rate"], digits) == percent(change["rate_before"], digits) \
                and change["changed"]:
            digits += 1  # a real change never reads as two equal figures
        now, before = percent(change["rate"], digits), percent(change["rate_before"], digits)
        facts += [_fact(now, change["rate"], f"{csrc}['rate']"),
                  _fact(before, change["rate_before"], f"{csrc}['rate_before']")]
        unit = UNITS[a.period]
        ratio = (f"{change['ratio']:.2f} times the rate, {100 * (1 - a.alpha):g}% CI {change['lower']:.2f} to "
                 f"{change['upper']:.2f}")
        facts += [_fact(f"{change[f]:.2f}", change[f], f"{csrc}['{f}']") for f in ("ratio", "lower", "upper")]
        if change["changed"]:
            rate = (f": {now} of the base a {unit}, {'down' if change['ratio'] < 1 else 'up'} from {before} the year "
                    f"before ({ratio})")
        else:
            rate = f": {now} of the base a {unit}, no real change from {before} the year before ({ratio})"
        # the count beside the rate: more leavers at a lower rate is a base that grew, not fewer leaving
        facts.append(_fact(f"{change['lost_before']:,}", change["lost_before"], f"{csrc}['lost_before']"))
        more, down = change["lost"] > change["lost_before"], change["rate"] < change["rate_before"]
        base = (", from a smaller base" if more and down else ", from a bigger base" if not more and not down and
                change["lost"] < change["lost_before"] else "")
        count = f" (against {change['lost_before']:,} the year before{base})"
    else:
        count = ""
    # the rate beside the customers it counts, in the report's period; the revenue, a monthly run rate whatever the
    # period, in a clause of its own ("$30,826 a month of revenue: 7.0% of the base a quarter" mixed the two units)
    text = (f"in the last year {t['lost']:,} customers left{count}{rate}; they took {money(t['revenue_out'])} of "
            "monthly revenue")
    return text, facts


def brief(analysis, owners: dict | None = None) -> dict:
    """The leader brief of a fitted :class:`~cxkit.leadership.LeadershipAnalysis`.

    Returns
    -------
    dict
        ``headline`` (an item: ``text``, ``facts``), ``tiles`` (items with ``label`` and ``change``; the item's
        text is the number), ``findings`` (three items, "what we see. Why it matters: ..."), ``actions`` (ranked
        items with ``value``, ``assumption``, ``owner``, ``rank``), ``nps_definition`` (the one NPS figure's
        definition, once).
    """
    from cxkit.narrative import nps_population

    a = analysis
    owners = {str(k).lower(): str(v) for k, v in (owners or {}).items()}
    findings = _findings(a)
    value = _value_finding(a)
    findings += [value] if value else []
    actions = _actions(a, owners)
    test = next((x["rank"] for x in actions if x["key"] == "stake"), None)
    if value and test is not None:  # the test the value finding asks for is an action: it says which
        value["text"] = value["text"].replace("a test would tell", f"the test of action {test} would tell")
        value["facts"] = [*value["facts"], _fact(str(test), test, str(test))]
    headline = _headline(a, findings, actions)
    used = {headline.get("key"), headline.pop("uses", None)}
    rest = [f for f in findings if f["key"] not in used]
    if "retention" in {f["key"] for f in rest}:  # retention's 'why it matters' already gives what a customer is worth
        rest = [f for f in rest if f["key"] != "value"]
    first = {"care": ["contacts", "lost"], "product": ["value", "segment"]}.get(a.focus, [])
    order = ["audience", "value", "retention", "segment", "lost", "contacts", "segment2", "drivers", "descriptive"]
    rest.sort(key=lambda f: (f["key"] not in first, first.index(f["key"]) if f["key"] in first else 0,
                             order.index(f["key"]) if f["key"] in order else 99))
    rest = rest[:3]
    for action in actions:
        action.pop("amount", None)
        action.pop("lead", None)
        action.pop("pool", None)
    definition = (f"NPS here is that of the {nps_population(a.data_, a.nps_window_months)}."
                  if a.nps_ is not None else "")
    return {"headline": headline, "tiles": _tiles(a), "findings": rest, "actions": actions,
            "nps_definition": definition}


#: the section that shows each piece of page one again with what stands behind it (key of a finding or action)
BEHIND = {"summary": ("headline", "trend", "reason", "descriptive", "audience", "contacts"),
          "drivers": ("segment", "segment2"),
          "ltv": ("value",), "stake": ("stake",)}


def behind(analysis, section: str) -> list[str]:
    """Page one's figures that ``section`` stands behind, said again there so a reader can find each one: the
    segment findings under the hazard ratios, the value gap (with its interval) under lifetime value, the win-back
    under the value at stake, the year's leavers and the churn reasons under the summary of findings. Each names its
    place on page one (``Page one, finding 2: ...``); empty where page one shows none of them.

    Examples
    --------
    >>> behind(analysis, "drivers")                                   # doctest: +SKIP
    ['Page one, finding 2: Basic customers leave 1.8 times as fast as Pro customers (95% CI 1.6 to 2.1, ...).']
    """
    a = analysis
    keys = BEHIND.get(section, ())
    b = brief(a)
    out = []
    head = b["headline"]
    lost = _lost_words(a) if head.get("key") in ("headline", "trend") and section == "summary" else None
    if lost is not None:  # the year's leavers lead the headline
        out.append(f"Page one's headline: {lost[0][0].upper()}{lost[0][1:]}.")
    elif head.get("key") in keys:  # a finding made headline
        out.append(f"Page one's headline: {head['text'].split(' First to do:')[0]}")
    for t in b["tiles"]:
        if section == "summary" and t.get("label") == "customers today":
            out.append(f"Page one's tile: {t['text']} {t['label']}, {t['change']}.")
    snapshot = a.data_.mode == "snapshot"  # a snapshot's segment findings are plain shares, not the chart's ratios
    for i, f in enumerate(b["findings"], 1):
        segment = f["key"] in ("segment", "segment2")
        if (f["key"] in keys and not (segment and snapshot)) or (segment and snapshot and section == "summary"):
            words = f.get("see") or f["text"].split(". Why it matters:")[0].rstrip(".")
            out.append(f"Page one, finding {i}: {words[0].upper()}{words[1:]}.")
    if section == "ltv" and a.gap_bands_ is not None and not a.descriptive_:
        facts: list[dict] = []
        words = _gap_words(a, facts)
        shown = " ".join(x["text"] for x in [*b["findings"], head])
        if facts and facts[0]["text"] in shown and not any(f["key"] == "value" for f in b["findings"]):
            out.append(f"Page one: {words[0].upper()}{words[1:]}.")
        if facts:
            g = a.ltv_.gap(*a.gap_bands_)
            level = f"{100 * (1 - a.alpha):g}% CI"
            within = (f"; its {money(g['observed_estimate'])} within the {g['observed_months']} months the data "
                      f"covers: {level} {money(g['observed_lower'])} to {money(g['observed_upper'])}"
                      if g["observed_months"] < a.horizon_months and np.isfinite(g.get("observed_lower", np.nan))
                      else "")
            held = ", with the fitted tail held as chosen (the interval does not vary it)" if within else ""
            out.append(f"The gap of {money(g['estimate'])}: {level} {money(g['lower'])} to {money(g['upper'])}"
                       f"{held}{within}.")
    for x in b["actions"]:
        if x["key"] in ("reason", "segment", "audience", "contact", "product") and section == "summary":  # money
            out.append(f"Page one, action {x['rank']}: {x['value'][0].upper()}{x['value'][1:]}.")
        elif x["key"] == "stake" and section == "stake":
            out.append(f"Page one, action {x['rank']}: {x['text']} Money involved: {x['value']}.")
    return out
