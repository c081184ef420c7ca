"""Report-quality plots. Each takes a fitted result and ``ax=None``, returns the Axes, never shows.

Examples
--------
>>> import pandas as pd
>>> from cxkit.survival import SegmentSurvival
>>> df = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6], "e": [1, 1, 0, 1, 1, 0], "g": list("aabbab")})
>>> ax = plot_survival(SegmentSurvival().fit(df, "t", "e", "g"))
>>> ax.get_ylabel()
'Share still a customer'
"""

from __future__ import annotations

import numpy as np

from cxkit.theme import FIGSIZE, FOREST_ROW, KM_FIGSIZE, apply_theme, colors_for

__all__ = ["plot_survival", "plot_forest", "plot_incidence", "plot_ltv", "plot_ltv_gap", "plot_value_at_stake",
           "plot_ltv_curves", "plot_ledger", "plot_trend", "plot_contacts", "plot_drivers", "new_axes"]

_MAX_CENSOR_MARKS = 60
MIN_AT_RISK = 10  # curves stop where fewer customers remain at risk: the last steps of a few are noise



def _drawn_steps(*columns) -> np.ndarray:
    """Which points of a post-step curve (and its band) change what is drawn: the first, the last and each
    where any of ``columns`` moves. A time with only censoring repeats the values before it, so leaving it
    out draws the same picture with fewer points (a shorter SVG, a faster figure and PDF).

    >>> _drawn_steps(np.array([1.0, 0.9, 0.9, 0.9, 0.8, 0.8])).tolist()
    [True, True, False, False, True, True]
    """
    n = len(columns[0])
    keep = np.zeros(n, dtype=bool)
    if n:
        keep[[0, -1]] = True
        for values in columns:
            values = np.asarray(values, dtype=float)
            moved = values[1:] != values[:-1]
            moved &= ~(np.isnan(values[1:]) & np.isnan(values[:-1]))
            keep[1:] |= moved
    return keep


def new_axes(ax=None, figsize=None):
    """The given Axes, or new ones in the kit's theme.

    New figures use matplotlib's constrained layout, so labels, at-risk rows and a legend outside the axes
    all fall inside ``figsize``: every figure is as wide as the theme says (the printed page's text width),
    whatever the length of its labels, and prints at its own size.
    """
    import matplotlib.pyplot as plt

    apply_theme()
    if ax is None:
        _, ax = plt.subplots(figsize=figsize or FIGSIZE, layout="constrained")
    return ax


#: Line styles drawn in turn beside the colours, so that lines stay apart in print without colour.
LINE_STYLES = ("-", "--", "-.", ":", (0, (6, 2, 1, 2, 1, 2)))
#: A marker per band for the same reason.
BAND_MARKERS = {"detractor": "o", "passive": "s", "promoter": "^", "no answer": "D"}


def _legend(ax, handles=None, labels=None, below: bool = False, **kwargs):
    """A legend outside the data: right of the plot, its top level with the plot's top.

    Inside the axes a legend sits on whatever data reaches its corner (a cost peak ran through one and hid a
    point); outside, constrained layout makes room for it.
    """
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    kwargs.setdefault("title", None)
    fig = ax.figure
    if below and fig.get_layout_engine() is not None and all(a is ax or a.bbox.bounds == ax.bbox.bounds
                                                             for a in fig.axes):
        # the figure is this plot's own (a twin axis shares its box): under everything, its labels included;
        # for a plot with a second axis on the right, or a left-aligned title wider than a narrow plot
        return fig.legend(handles, labels, loc="outside lower center", ncols=len(handles), **kwargs)
    # a little below the plot's top: a left-aligned title longer than the plot is wide passes above it
    return ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 0.94), borderaxespad=0.0, **kwargs)


def _per(period) -> str:
    """``month`` for ``M``, ``quarter`` for ``Q``: the period an axis counts per (``period`` may be None)."""
    from cxkit.periods import UNITS

    return UNITS.get(period or "M", "period")


def plot_survival(result, ax=None, ci: bool = True, censor_marks: bool = True, medians: bool = True,
                  at_risk_times=None, logrank: bool = True, title: str | None = None,
                  min_at_risk: int = MIN_AT_RISK):
    """Kaplan-Meier curves per segment.

    Draws each segment's curve with its confidence band, censoring marks, a
    dotted line at each reached median, the number at risk under the x axis and
    the log-rank p-value on the plot.

    Parameters
    ----------
    result : SegmentSurvival
    ax : matplotlib Axes, optional
    at_risk_times : sequence, optional
        Times for the at-risk table (default: about six ticks across the follow-up).
    min_at_risk : int
        Each curve stops at the last time with at least this many customers at risk (default 10).
    """
    from cxkit.narrative import p_text

    ax = new_axes(ax, figsize=KM_FIGSIZE)  # 16:9 with the rows under it printed its numbers at 5 points
    colors = colors_for(result.segments_)
    curves = result.survival_
    curves = curves[curves["at_risk"] >= min_at_risk]
    t_max = float(curves["time"].max()) if len(curves) else 1.0
    for s in result.segments_:
        c = curves[curves["segment"] == s]
        t = np.concatenate([[0.0], c["time"].to_numpy()])
        surv = np.concatenate([[1.0], c["survival"].to_numpy()])
        band = [np.concatenate([[1.0], c[v].to_numpy()]) for v in ("lower", "upper")] if ci else []
        drawn = _drawn_steps(surv, *band)
        t, surv, band = t[drawn], surv[drawn], [b[drawn] for b in band]
        color = colors[str(s)]
        ax.step(t, surv, where="post", color=color, label=str(s))
        if band:
            ax.fill_between(t, *band, step="post", color=color, alpha=0.15, linewidth=0)
        if censor_marks:
            cens = c[c["censored"] > 0]
            if len(cens) > _MAX_CENSOR_MARKS:
                cens = cens.iloc[np.linspace(0, len(cens) - 1, _MAX_CENSOR_MARKS).astype(int)]
            ax.plot(cens["time"], cens["survival"], linestyle="none", marker="|", markersize=6,
                    color=color, alpha=0.7)
    if medians:
        for med in result.median_.itertuples():
            if np.isfinite(med.median) and med.median <= t_max:
                ax.plot([0, med.median, med.median], [0.5, 0.5, 0], linestyle=":", linewidth=1.2,
                        color=colors[str(med.segment)])
    ax.set_xlim(0, t_max * 1.01)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(f"{result.time_unit.capitalize()}s")
    ax.set_ylabel("Share still a customer")
    ax.yaxis.set_major_formatter(_percent())
    if logrank and len(result.segments_) > 1:
        ax.text(0.98, 0.96, f"log-rank {p_text(result.logrank_.p_value)}", transform=ax.transAxes,
                ha="right", va="top", fontsize=12)
    _legend(ax)
    if title:
        ax.set_title(title)
    _at_risk_rows(ax, result, at_risk_times, colors)
    return ax


def _percent():
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0, decimals=0)


def _at_risk_rows(ax, result, times, colors) -> None:
    if times is None:
        ticks = [t for t in ax.get_xticks() if 0 <= t <= ax.get_xlim()[1]]
        times = ticks
    table = result.at_risk_table(times)
    ax.annotate("At risk", xy=(0, 0), xycoords="axes fraction", xytext=(-30, -48), textcoords="offset points",
                ha="right", va="top", fontsize=11, fontweight="bold")
    for row, s in enumerate(result.segments_):
        part = table[table["segment"] == s]
        offset = -66 - 16 * row
        ax.annotate(str(s), xy=(0, 0), xycoords="axes fraction", xytext=(-30, offset), textcoords="offset points",
                    ha="right", va="top", fontsize=12, color=colors[str(s)])
        for r in part.itertuples():
            ax.annotate(f"{r.at_risk:,.0f}", xy=(r.time, 0), xycoords=("data", "axes fraction"),
                        xytext=(0, offset), textcoords="offset points", ha="center", va="top", fontsize=12,
                        color=colors[str(s)])


def plot_forest(result, ax=None, title: str | None = None, band_name: str = "Band"):
    """Hazard ratios with their intervals on a log scale; reference levels and not-estimable terms labelled.

    Terms are labelled as people read them (``Plan: Basic``), the x axis ticked at round ratios.

    Parameters
    ----------
    result : CoxModel
    band_name : str
        How the band column (``segment``) is named (``NPS band``).
    """
    from cxkit.narrative import term_label

    n_rows = len(result.summary) + len(result.reference_)
    ax = new_axes(ax, figsize=(FIGSIZE[0], max(FIGSIZE[1] * 0.75, FOREST_ROW * n_rows + 1.3)))
    rows = []
    for term, r in result.summary.iterrows():
        rows.append((term, r["hazard_ratio"], r["lower"], r["upper"], r["note"]))
    for col, level in result.reference_.items():
        rows.append((f"{col}[{level}]", 1.0, np.nan, np.nan, "reference"))
    rows.sort(key=lambda r: (r[0].split("[")[0], r[0]))
    y = np.arange(len(rows))[::-1]
    for yi, (_term, hr, low, up, note) in zip(y, rows, strict=True):
        if note == "reference":
            ax.plot([1.0], [yi], marker="D", color="#8C8C8C", markersize=6)
            ax.annotate("reference", (1.0, yi), xytext=(8, 0), textcoords="offset points", va="center",
                        fontsize=11, color="#666666")
        elif note:
            ax.annotate(note, (0.02, yi), xycoords=("axes fraction", "data"), va="center", fontsize=11,
                        color="#D55E00")
        else:
            ax.plot([low, up], [yi, yi], color="#333333", linewidth=2)
            ax.plot([hr], [yi], marker="s", color="#0072B2", markersize=8)
            # the numbers beside each row, so page one's ratios can be found here (read-findings-3 #9)
            ax.annotate(f"{hr:.2f} ({low:.2f} to {up:.2f})", (1.0, yi), xycoords=("axes fraction", "data"),
                        xytext=(-4, 0), textcoords="offset points", ha="right", va="center", fontsize=11,
                        color="#333333")
    ax.annotate("hazard ratio (95% CI)", (1.0, len(rows) - 0.3), xycoords=("axes fraction", "data"),
                xytext=(-4, 2), textcoords="offset points", ha="right", va="bottom", fontsize=11, color="#666666")
    ax.axvline(1.0, color="#999999", linewidth=1, linestyle="--")
    ax.set_xscale("log")
    ax.set_yticks(y, [term_label(r[0], band_name) for r in rows])
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlabel("Hazard ratio of churn (log scale; < 1 means customers stay longer)")
    ax.grid(axis="y", visible=False)
    finite = [v for r in rows for v in r[1:4] if isinstance(v, float) and np.isfinite(v) and v > 0]
    high = None
    if finite:  # the right third kept clear for the numbers
        low, high = min(finite) / 1.3, max(finite) * 1.3
        ax.set_xlim(low, high * (high / low) ** 0.45)
    _ratio_ticks(ax, below=high)
    if title:
        ax.set_title(title)
    return ax


def _ratio_ticks(ax, below: float | None = None) -> None:
    """Round ratios on a log axis (0.25, 0.5, 1, 2, 4, ...), never ``4×10⁻¹``; none past ``below`` (a part of the
    axis kept for labels)."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    low, high = ax.get_xlim()
    high = min(high, below) if below else high
    ladder = [0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 4, 5, 10, 20, 50, 100]
    ticks = [t for t in ladder if low <= t <= high]
    if len(ticks) > 7:
        ticks = [t for t in ticks if t in (0.01, 0.1, 0.25, 0.5, 1, 2, 4, 10, 100)]
    ax.xaxis.set_major_locator(FixedLocator(ticks or [1]))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))


def plot_incidence(result, ax=None, segment=None, title: str | None = None, min_at_risk: int = MIN_AT_RISK,
                   stacked: bool = False):
    """Cumulative incidence of each churn reason for one segment (default: the first).

    By default one line per reason with its 95% interval, so "is price really a bigger reason than
    service?" can be read off (intervals that do not overlap); ``stacked=True`` stacks the reasons up
    to all churn instead.

    Parameters
    ----------
    result : CumulativeIncidence
    segment : str, optional
    min_at_risk : int
        Curves stop at the last time with at least this many customers at risk (default 10).
    """
    from cxkit.narrative import plural

    ax = new_axes(ax)
    segment = segment if segment is not None else result.segments_[0]
    part = result.incidence_[result.incidence_["segment"] == segment]
    if "at_risk" in part:
        part = part[part["at_risk"] >= min_at_risk]
    colors = colors_for(result.causes_)
    times = np.unique(part["time"])
    shown = [v for v in ("incidence", "lower", "upper") if v in part]
    if len(result.causes_):
        times = times[_drawn_steps(*(part[part["cause"] == cause].set_index("time")[v].reindex(times).to_numpy()
                                     for cause in result.causes_ for v in shown))]
    stack, last = np.zeros(times.size), {}
    for i, cause in enumerate(result.causes_):
        c = part[part["cause"] == cause].set_index("time").reindex(times)
        value = c["incidence"].to_numpy()
        if stacked:
            ax.fill_between(times, stack, stack + value, step="post", color=colors[cause], alpha=0.85,
                            label=cause, linewidth=0)
        else:  # a dash per reason as well as a colour: the lines stay apart on a black-and-white printer
            ax.step(times, value, where="post", color=colors[cause], label=cause, linewidth=2,
                    linestyle=LINE_STYLES[i % len(LINE_STYLES)])
            last[cause] = float(np.nan_to_num(value[-1])) if value.size else 0.0
            if "lower" in c:
                ax.fill_between(times, c["lower"].fillna(0).to_numpy(), c["upper"].fillna(0).to_numpy(),
                                step="post", color=colors[cause], alpha=0.15, linewidth=0)
        stack = np.maximum(stack + value, value) if stacked else np.maximum(stack, c.get("upper", c["incidence"])
                                                                             .fillna(0).to_numpy())
    ax.set_xlim(0, times.max() if times.size else 1)
    ax.set_ylim(0, max(0.05, float(stack.max()) * 1.1) if times.size else 1)
    ax.yaxis.set_major_formatter(_percent())
    ax.set_xlabel(f"{result.time_unit.capitalize()}s")
    ax.set_ylabel("Share of customers lost")
    if last:  # the legend in the order the lines end, top first, as the eye meets them
        handles, labels = ax.get_legend_handles_labels()
        pairs = sorted(zip(handles, labels, strict=True), key=lambda hl: -last.get(hl[1], 0.0))
        _legend(ax, [h for h, _ in pairs], [lab for _, lab in pairs])
    else:
        _legend(ax)
    ax.set_title(title or f"Why {plural(segment).lower()} leave: share lost to each reason"
                 + ("" if stacked else ", with 95% interval"))
    return ax


def _range_label(low: float, high: float, currency: str) -> str:
    """``$1,929 to $2,391`` (no text in a kit figure is read as mathtext: :data:`cxkit.theme.RC`)."""
    from cxkit.narrative import money

    return f"{money(low, currency)} to {money(high, currency)}"


def plot_ltv(result, ax=None, title: str | None = None):
    """Lifetime value per segment with its interval, the extrapolated part hatched.

    A segment whose survival beyond the data is an assumption (``summary['identified']`` false) shows the
    range under its tail assumptions as a dashed bar, labelled with both ends instead of one value.

    Parameters
    ----------
    result : SegmentLTV
    """
    from matplotlib.ticker import FuncFormatter

    from cxkit.narrative import money

    ax = new_axes(ax)
    s = result.summary
    colors = colors_for(s["segment"])
    x = np.arange(len(s))
    observed = s["ltv"] * (1 - s["extrapolated_share"])
    tail = bool((s["ltv"] - observed > 0).any())  # a legend entry only for what is drawn: no tail, no hatch
    ax.bar(x, observed, color=[colors[str(v)] for v in s["segment"]], width=0.6,
           label="within the data" if tail else None)
    if tail:
        ax.bar(x, s["ltv"] - observed, bottom=observed, color=[colors[str(v)] for v in s["segment"]], width=0.6,
               alpha=0.45, hatch="//", edgecolor="white", label="extrapolated (fitted tail)")
    known = s["identified"].to_numpy(dtype=bool)
    for keep, style in ((known, "-"), (~known, "--")):
        if keep.any():
            bars = ax.errorbar(x[keep], s["ltv"][keep], yerr=[(s["ltv"] - s["lower"])[keep],
                                                              (s["upper"] - s["ltv"])[keep]],
                               fmt="none", ecolor="#222222", capsize=6, linewidth=1.5,
                               label=None if style == "-" else "range: the tail is an assumption")
            bars[-1][0].set_linestyle(style)
    for xi, v, lo, hi, ok in zip(x, s["ltv"], s["lower"], s["upper"], known, strict=True):
        # above the whisker's cap, never across it (a label at the value was struck through by its whisker)
        text = money(v, result.currency) if ok else _range_label(lo, hi, result.currency)
        ax.annotate(text, (xi, max(v, hi)), xytext=(0, 5), textcoords="offset points", ha="center", va="bottom",
                    fontsize=12, fontweight="bold")
    ax.set_xticks(x, s["segment"])
    ax.set_ylabel(f"Lifetime value per customer\nover {result.horizon} months")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: money(v, result.currency)))
    ax.set_ylim(0, max(s["upper"].max(), s["ltv"].max()) * 1.15)
    ax.grid(axis="x", visible=False)
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        from matplotlib.patches import Patch

        neutral = {"within the data": Patch(facecolor="#444444"),  # every band's bar, not the first band's colour
                   "extrapolated (fitted tail)": Patch(facecolor="#444444", alpha=0.45, hatch="//", edgecolor="white")}
        _legend(ax, [neutral.get(label, h) for h, label in zip(handles, labels, strict=True)], labels)
    ax.set_title(title or "Lifetime value per customer, with 95% interval")
    return ax


def plot_ltv_gap(result, a: str = "promoter", b: str = "detractor", ax=None, title: str | None = None,
                 parts: list[str] | None = None):
    """Waterfall of the LTV gap between two segments: longer life, higher revenue, lower cost.

    ``parts`` keeps only the parts the data measures (``["longer life", "higher revenue"]`` without
    contact costs); a part left out is zero by construction, so the steps still add up to the total.
    """
    from matplotlib.ticker import FuncFormatter

    from cxkit.narrative import money

    ax = new_axes(ax)
    table = result.gap_parts(a, b)
    steps = table[table["part"] != "total"]
    if parts is not None:
        steps = steps[steps["part"].isin(parts)]
    parts = table
    total = float(parts.loc[parts["part"] == "total", "value"].iloc[0])
    bottom = 0.0
    labels = []
    for i, row in enumerate(steps.itertuples()):
        color = "#0072B2" if row.value >= 0 else "#D55E00"
        ax.bar(i, row.value, bottom=bottom, color=color, width=0.6)
        ax.annotate(_signed_money(row.value, result.currency), (i, bottom + max(row.value, 0)), xytext=(0, 6),
                    textcoords="offset points", ha="center", fontsize=12)
        bottom += row.value
        labels.append(_GAP_PARTS.get(row.part, row.part))
    ax.bar(len(steps), total, color="#333333", width=0.6)
    ax.annotate(_signed_money(total, result.currency), (len(steps), max(total, 0)), xytext=(0, 6),
                textcoords="offset points", ha="center", fontsize=12, fontweight="bold")
    ax.axhline(0, color="#999999", linewidth=1)
    running = np.concatenate([[0.0], np.cumsum(steps["value"].to_numpy()), [total]])
    span = running.max() - min(running.min(), 0)
    ax.set_ylim(min(running.min(), 0) - 0.05 * span, running.max() + 0.15 * span)
    ax.set_xticks(range(len(steps) + 1), [*labels, "total gap"])
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: money(v, result.currency)))
    ax.set_ylabel("Difference in lifetime value\nper customer")
    ax.grid(axis="x", visible=False)
    ax.set_title(title or f"Why {_who(a)} are worth {'more' if total >= 0 else 'less'} than {_who(b)}")
    return ax


#: The waterfall's steps named for what they measure, so a label reads right with either sign (a bar called
#: "higher revenue" showed -$105 where the lower band spends more a month).
_GAP_PARTS = {"longer life": "lifetime difference", "higher revenue": "revenue difference",
              "lower cost to serve": "cost-to-serve difference"}


def _signed_money(value: float, currency: str = "$") -> str:
    """``+$852`` or ``−$105``: a step of a difference always shows its sign."""
    from cxkit.narrative import money

    text = money(value, currency)
    return "+" + text if value > 0 and text[0] != "−" else text


def _who(segment: str) -> str:
    """A band's customers as a plural noun: ``promoters``, ``satisfied customers``, ``low-effort customers``.

    >>> _who("promoter"), _who("satisfied"), _who("low effort"), _who("North")
    ('promoters', 'satisfied customers', 'low-effort customers', 'customers in North')
    """
    name = str(segment)
    if name in {"detractor", "passive", "promoter"}:
        return name + "s"
    if name in {"dissatisfied", "neutral", "satisfied"}:
        return f"{name} customers"
    if name.endswith(" effort"):
        return f"{name.replace(' ', '-')} customers"
    return f"customers in {name}"


def plot_value_at_stake(result, scenarios: dict, ax=None, base_counts=None, title: str | None = None):
    """Change in the base's lifetime value for each scenario, with its interval.

    Parameters
    ----------
    scenarios : dict
        Label -> (moves, share), e.g. ``{"10% detractors to passive": ({"detractor": "passive"}, 0.1)}``.
    """
    from matplotlib.ticker import FuncFormatter

    from cxkit.narrative import money

    ax = new_axes(ax, figsize=(FIGSIZE[0], min(FIGSIZE[1], 0.6 * len(scenarios) + 1.4)))
    labels, values, lows, highs, known = [], [], [], [], []
    for label, (moves, share) in scenarios.items():
        v = result.value_at_stake(moves, share, base_counts)
        labels.append(label)
        values.append(v["estimate"])
        lows.append(v["lower"])
        highs.append(v["upper"])
        known.append(v["identified"])
    y = np.arange(len(labels))[::-1]
    values, lows, highs, known = map(np.asarray, (values, lows, highs, known))
    ax.barh(y[known], values[known], color="#0072B2", height=0.55)
    if (~known).any():  # resting on an assumed tail: the range only, no bar at one value
        ax.barh(y[~known], (highs - lows)[~known], left=lows[~known], color="#0072B2", alpha=0.35, hatch="//",
                edgecolor="white", height=0.55, label="range: rests on an assumed tail")
        _legend(ax)
    ax.errorbar(values[known], y[known], xerr=[(values - lows)[known], (highs - values)[known]], fmt="none",
                ecolor="#222222", capsize=5)
    for yi, v, lo, hi, ok in zip(y, values, lows, highs, known, strict=True):
        text = money(v, result.currency) if ok else _range_label(lo, hi, result.currency)
        ax.annotate(text, (hi, yi), xytext=(8, 0), textcoords="offset points", va="center",
                    fontsize=12, fontweight="bold")
    ax.set_yticks(y, labels)
    ax.set_xlim(min(0, lows.min() * 1.1), highs.max() * (1.25 if known.all() else 1.6))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: money(v, result.currency)))
    ax.set_xlabel(f"Lifetime value added to the base, over {result.horizon} months")
    ax.grid(axis="y", visible=False)
    ax.set_title(title or "Value at stake: lifetime value added to the base")
    return ax


def plot_ltv_curves(result, ax=None, title: str | None = None):
    """Survival used for LTV per segment: solid within the data, dashed where the fitted tail takes over."""
    ax = new_axes(ax)
    curves = result.curves_
    colors = colors_for(result.segments_)
    for s in result.segments_:
        c = curves[curves["segment"] == s]
        inside = c[~c["extrapolated"]]
        ax.step(inside["month"], inside["survival"], where="post", color=colors[s], label=s)
        tail = c[c["month"] >= inside["month"].max()]
        ax.step(tail["month"], tail["survival"], where="post", color=colors[s], linestyle="--")
    start = min(result.summary["observed_months"])
    ax.axvspan(start, result.horizon, color="#f2f2f2", zorder=0)
    ax.annotate("extrapolated\n(fitted tail)", (start, 0.98), xytext=(8, 0), textcoords="offset points", va="top",
                fontsize=11, color="#555555")
    ax.set_xlim(0, result.horizon)
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(_percent())
    ax.set_xlabel("Months since the answer")
    ax.set_ylabel("Share still a customer")
    _legend(ax)
    ax.set_title(title or "Survival behind lifetime value")
    return ax


def plot_ledger(result, ax=None, last: int | None = 24, title: str | None = None):
    """Leaky bucket: customers gained (up) and lost (down) per period, and the base at the end of each.

    Parameters
    ----------
    result : CustomerLedger
    last : int, optional
        Periods shown (the most recent); default 24.
    """
    ax = new_axes(ax)
    t = result.table if not result.by else result.table.groupby("period", sort=False).sum(numeric_only=True)\
        .reset_index()
    t = t.tail(last) if last else t
    x = np.arange(len(t))
    ax.bar(x, t["new"], color="#0072B2", width=0.7, label="new customers")
    ax.bar(x, -t["lost"], color="#D55E00", width=0.7, label="lost customers")
    ax.axhline(0, color="#666666", linewidth=1)
    ax.set_ylabel(f"Customers in / out per {_per(result.period)}")
    step = max(1, -(-len(t) // 6))
    ax.set_xticks(x[::step], t["period"].iloc[::step], rotation=0)
    base = ax.twinx()
    base.plot(x, t["end"], color="#333333", linewidth=2, label="customers at end of period")
    base.set_ylabel(f"Customers at end of {_per(result.period)}")
    base.grid(False)
    base.spines["right"].set_visible(True)
    lines = ax.get_legend_handles_labels()
    more = base.get_legend_handles_labels()
    _legend(ax, lines[0] + more[0], lines[1] + more[1], below=True)
    ax.set_ylim(-t["lost"].max() * 1.15, t["new"].max() * 1.15)
    ax.set_xlabel(_per(result.period).capitalize())
    ax.set_title(title or "The leaky bucket: customers in and out")
    return ax


def plot_trend(result, ax=None, title: str | None = None):
    """NPS per period at a fixed mix with its interval (as answered in grey when the two differ), the centre line
    and control limits; flagged periods marked."""
    ax = new_axes(ax)
    t = result.table
    x = np.arange(len(t))
    shown = t["nps"].notna()
    adjusted = bool(getattr(result, "adjusted_for_", []))
    y, lo, hi = ((t["adjusted"], t["adjusted_lower"], t["adjusted_upper"]) if adjusted
                 else (t["nps"], t["lower"], t["upper"]))
    ax.fill_between(x, t["lower_limit"], t["upper_limit"], color="#eeeeee", step="mid", label="normal variation")
    ax.axhline(t["centre"].iloc[0], color="#999999", linestyle="--", linewidth=1, label="baseline centre")
    if adjusted:
        ax.plot(x[shown], t.loc[shown, "nps"], "-", color="#999999", linewidth=1.2, label="NPS as answered")
    ax.errorbar(x[shown], y[shown], yerr=[y[shown] - lo[shown], hi[shown] - y[shown]],
                fmt="o-", color="#0072B2", ecolor="#9cc3e0", capsize=2, markersize=4,
                label="NPS at a fixed mix, 95% CI" if adjusted else "NPS with 95% CI")
    flagged = shown & t["flag"].str.startswith("shift")
    if flagged.any():  # the legend names only what is drawn
        ax.plot(x[flagged], y[flagged], "o", color="#D55E00", markersize=9, fillstyle="none",
                markeredgewidth=2, label="flagged shift")
    for i, xi in enumerate(x[~shown]):
        ax.axvspan(xi - 0.5, xi + 0.5, facecolor="white", edgecolor="#cccccc", hatch="////", linewidth=0, zorder=1.1,
                   label="too few answers to show" if i == 0 else None)  # hatched: told apart from the grey band
    step = max(1, -(-len(t) // 6))
    ax.set_xticks(x[::step], t["period"].iloc[::step])
    ax.set_ylabel("NPS (−100 to +100)")
    ax.set_xlabel(f"{_per(getattr(result, 'period', 'M')).capitalize()} of the answer")
    _legend(ax)
    from cxkit.narrative import trend_title

    ax.set_title(title or trend_title(result.verdict_))
    return ax


def plot_contacts(result, ax=None, measure: str = "contacts_per_customer", last: int | None = 24,
                  title: str | None = None):
    """Contacts (or ``cost_per_customer``) per customer and period, one line per band."""
    ax = new_axes(ax)
    t = result.by_band_
    periods = list(dict.fromkeys(t["period"]))[-last:] if last else list(dict.fromkeys(t["period"]))
    t = t[t["period"].isin(periods)]
    x_of = {p: i for i, p in enumerate(periods)}
    bands = [b for b in ("detractor", "passive", "promoter", "no answer") if b in set(t["band"])]
    colors = colors_for(bands)
    colors["no answer"] = "#bbbbbb"
    for b in bands:  # a marker per band as well as a colour, for a black-and-white printer
        part = t[t["band"] == b]
        ax.plot([x_of[p] for p in part["period"]], part[measure], marker=BAND_MARKERS.get(b, "o"), markersize=4,
                color=colors[b], label=b, linestyle="--" if b == "no answer" else "-")
    step = max(1, -(-len(periods) // 6))
    ax.set_xticks(range(0, len(periods), step), periods[::step])
    if measure == "cost_per_customer":
        from matplotlib.ticker import FuncFormatter

        from cxkit.narrative import money

        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: money(v, cents=True)))
        ax.set_ylabel(f"Cost to serve per customer\nper {_per(result.period)}")
    else:
        ax.set_ylabel(f"Contacts per customer\nper {_per(result.period)}")
    ax.set_xlabel(_per(result.period).capitalize())
    ax.set_ylim(bottom=0)
    _legend(ax)
    ax.set_title(title or ("Cost to serve per customer, by band" if measure == "cost_per_customer"
                           else "Contacts per customer, by band"))
    return ax


def plot_drivers(result, ax=None, title: str | None = None, window_days: int | None = None):
    """Key drivers: each driver's share of the explained differences in scores, with its 95% interval.

    Drivers not distinguishable from no effect are drawn hollow; the label says whether more of the driver
    goes with higher or lower scores.
    """
    from cxkit.narrative import driver_label, score_noun

    window = window_days or 90
    rows = result.importance_.iloc[::-1]
    ax = new_axes(ax, figsize=(FIGSIZE[0], max(FIGSIZE[1] * 0.6, 0.32 * len(rows) + 1.3)))
    ax.set_axisbelow(True)
    r2 = result.r_squared_["value"]
    y = np.arange(len(rows))
    solid = rows["distinguishable"].fillna(False).astype(bool).to_numpy()
    color = "#2f6f9f"
    # each kind in the legend only where a bar of it is drawn (an empty barh gives a handle in the default colour)
    if solid.any():
        ax.barh(y[solid], rows["share"].to_numpy()[solid], color=color, height=0.6,
                label="distinguishable from no effect")
    if (~solid).any():
        ax.barh(y[~solid], rows["share"].to_numpy()[~solid], color="white", edgecolor=color, hatch="///",
                height=0.6, label="not distinguishable from no effect")
    if r2 > 0 and rows["lower"].notna().all():
        lo, hi = rows["lower"].to_numpy() / r2, rows["upper"].to_numpy() / r2
        share = rows["share"].to_numpy()
        ax.errorbar(share, y, xerr=[np.maximum(share - lo, 0), np.maximum(hi - share, 0)], fmt="none",
                    ecolor="#333333", capsize=3, lw=1)
    arrows = {"+": " (↑ higher scores)", "-": " (↓ lower scores)", "by level": ""}
    labels = [driver_label(d, window)[0].upper() + driver_label(d, window)[1:] + (arrows.get(s, "") if shown else "")
              for d, s, shown in zip(rows["driver"], rows["sign"], solid, strict=True)]
    ax.set_yticks(y, labels)
    ax.xaxis.set_major_formatter(_percent())
    ax.set_xlabel(f"Share of the differences in scores the drivers explain (R² {r2:.2f})")
    ax.set_xlim(0, min(1.0, max(0.05, float(np.nanmax(rows["share"])) * 1.15,
                                float(np.nanmax(rows["upper"] / r2)) * 1.05 if r2 > 0 and rows["upper"].notna().all()
                                else 0)))
    _legend(ax, below=True)
    ax.set_title(title or f"What goes with the {score_noun(getattr(result, 'score_', 'nps'))}")
    return ax
