"""Helpers that notebooks call to show results: figures, tables, sentences, headings.

Figures are shown inline as SVG (sharp in HTML and PDF) and, when the renderer
sets ``CXKIT_FIGURES_DIR``, saved there as PNG (slide resolution) and SVG with
an index of captions and takeaways for the slides. Text that comes from
parameters (titles, audience names) is HTML-escaped here.
"""

from __future__ import annotations

import html
import io
import json
import os
import re
from pathlib import Path

import pandas as pd

__all__ = ["figure", "table", "markdown", "heading", "bullets", "figures_dir", "demo_data", "DEMO_DIR",
           "collect_warnings", "subtitle", "cox_notes", "method_notes", "data_notes", "section", "lead_section",
           "customer_math", "nps_over_time", "contacts_section", "takeaway", "not_available", "glossary",
           "gap_caption"]

from cxkit.narrative import money as _money  # noqa: E402  one money format: "−$9,737", never "$-9,737"


def _cents(value: float) -> str:
    return _money(value, cents=True)


COMPONENT_FORMATS = {"revenue_per_month": _cents, "cost_to_serve_per_month": _cents,
                     "contacts_per_month": "{:.3f}", "retention_cost_per_month": _cents,
                     "referrals_per_year": "{:.3f}", "expected_lifetime_months": "{:.1f}"}
COMPONENT_NAMES = {"segment": "band", "revenue_per_month": "revenue / month",
                   "cost_to_serve_per_month": "cost to serve / month", "contacts_per_month": "contacts / month",
                   "retention_cost_per_month": "cost to retain / month", "referrals_per_year": "referrals / year",
                   "expected_lifetime_months": "expected months as a customer"}
SCENARIO_FORMATS = {"customers moved": "{:,.0f}", "value added": _money, "lower": _money, "upper": _money,
                    "per customer moved": _money}
KM_FORMATS = {"at_start": "{:,.0f}", "events": "{:,.0f}", "censored": "{:,.0f}", "median": "{:.1f}",
              "median_lower": "{:.1f}", "median_upper": "{:.1f}"}
RMST_FORMATS = {c: "{:.2f}" for c in ("tau", "rmst", "se", "lower", "upper", "difference")} | {"p_value": "{:.2g}"}
COX_FORMATS = {c: "{:.3f}" for c in ("coef", "se", "hazard_ratio", "lower", "upper", "z")} | {"p_value": "{:.2g}"}
LTV_NAMES = {"segment": "band", "ltv": "lifetime value", "margin_per_month": "margin / month",
             "expected_lifetime_months": "expected months", "discounted_lifetime_months": "discounted months",
             "extrapolated_share": "share from the tail", "observed_months": "months in the data", "tail_model": "tail",
             "horizon_months": "horizon (months)", "loglik_sbg": "log-likelihood, sBG",
             "loglik_weibull": "log-likelihood, Weibull", "tail_used": "tail used"}
LTV_FORMATS = {"customers": "{:,.0f}", "ltv": _money, "lower": _money, "upper": _money,
               "margin_per_month": _cents, "expected_lifetime_months": "{:.1f}",
               "discounted_lifetime_months": "{:.1f}", "extrapolated_share": "{:.0%}"}

from cxkit.paths import DEMO_DIR  # noqa: E402

DEMO_CUSTOMERS, DEMO_SEED = 20_000, 0


def _display(obj) -> None:
    from IPython.display import display

    display(obj)


def figures_dir() -> Path | None:
    """Where figures are saved, if a renderer asked for it (``CXKIT_FIGURES_DIR``)."""
    folder = os.environ.get("CXKIT_FIGURES_DIR")
    return Path(folder) if folder else None


def _scoped_svg(svg: str, name: str) -> str:
    """Inline SVG with ids prefixed by the figure name, so several SVGs can share one page."""
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r'id="([^"]+)"', rf'id="{name}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{name}-\1)", svg)
    return re.sub(r'xlink:href="#([^"]+)"', rf'xlink:href="#{name}-\1"', svg)


def figure(obj, name: str, caption: str | None = None, takeaway: str | None = None) -> None:
    """Show a figure inline as SVG; save PNG and SVG when rendering.

    Parameters
    ----------
    obj : matplotlib Axes or Figure
    name : str
        File name without extension (``churn-by-band``).
    caption : str, optional
        Shown under the figure.
    takeaway : str, optional
        The one-line message of the figure, used as the slide title.
    """
    import matplotlib.pyplot as plt

    fig = obj.figure if hasattr(obj, "figure") and not hasattr(obj, "savefig") else obj
    # One layout pass for both files: "tight" would draw the figure twice per file.
    box = fig.get_tightbbox(fig.canvas.get_renderer()).padded(0.1)
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches=box, metadata={"Date": None})
    folder = figures_dir()
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        fig.savefig(folder / f"{name}.png", dpi=200, bbox_inches=box, metadata={"Software": None})
        (folder / f"{name}.svg").write_text(buffer.getvalue(), encoding="utf-8")
        with open(folder / "index.jsonl", "a", encoding="utf-8") as index:
            index.write(json.dumps({"name": name, "caption": caption, "takeaway": takeaway}) + "\n")
    plt.close(fig)
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    from IPython.display import HTML

    _display(HTML(f"<figure class='cx-figure' id='fig-{html.escape(name)}'>"
                  f"{_scoped_svg(buffer.getvalue(), name)}{cap}</figure>"))


def table(frame: pd.DataFrame, formats: dict | None = None, caption: str | None = None,
          rename: dict | None = None, missing: str = "–", text: bool = False) -> None:
    """Show a small table, numbers formatted, everything escaped.

    Parameters
    ----------
    formats : dict
        Column -> format spec (``"{:,.0f}"``, ``"{:.1%}"``) or a callable.
    missing : str
        What an empty cell shows (``"not available"`` where the data does not measure it).
    text : bool
        A table of words (a glossary): every column left-aligned.
    """
    shown = frame.copy()
    for col, fmt in (formats or {}).items():
        if col in shown:
            shown[col] = [(missing if pd.isna(v) else (fmt(v) if callable(fmt) else fmt.format(v)))
                          for v in shown[col]]
    shown = shown.rename(columns=rename or {})
    body = shown.to_html(index=False, escape=True, border=0, classes="cx-table cx-text" if text else "cx-table",
                         na_rep=missing)
    cap = f"<p class='cx-caption'>{html.escape(caption)}</p>" if caption else ""
    from IPython.display import HTML

    _display(HTML(f"<div class='cx-table-wrap'>{body}{cap}</div>"))


def markdown(text: str) -> None:
    """Show Markdown built from computed results (numbers come from result objects)."""
    from IPython.display import Markdown

    _display(Markdown(text))


def heading(text: str, level: int = 1, subtitle: str | None = None) -> None:
    """A heading from parameter text, escaped."""
    from IPython.display import HTML

    sub = f"<p class='cx-subtitle'>{html.escape(subtitle)}</p>" if subtitle else ""
    _display(HTML(f"<h{level} class='cx-title'>{html.escape(text)}</h{level}>{sub}"))


def bullets(sentences: list[str], css_class: str = "cx-summary") -> None:
    """Sentences as an escaped bullet list (the executive summary); recorded for the slides when rendering."""
    from IPython.display import HTML

    folder = figures_dir()
    if folder is not None and css_class in ("cx-summary", "cx-notes"):
        folder.mkdir(parents=True, exist_ok=True)
        name = "summary.json" if css_class == "cx-summary" else "notes.json"
        earlier = json.loads((folder / name).read_text()) if (folder / name).exists() else []
        (folder / name).write_text(json.dumps(earlier + list(sentences)))

    items = "".join(f"<li>{html.escape(s)}</li>" for s in sentences)
    _display(HTML(f"<ul class='{css_class}'>{items}</ul>"))


def demo_data() -> dict:
    """The built-in demo data's sources (written on first use, seed 0), for notebooks run without data."""
    from cxkit.synth import write

    params = DEMO_DIR / "params.yaml"
    if not params.exists():
        write(DEMO_DIR, n_customers=DEMO_CUSTOMERS, seed=DEMO_SEED)
    return {name: str(DEMO_DIR / f"{name}.parquet") for name in ("customers", "responses", "revenue", "contacts")}


class collect_warnings:  # noqa: N801 - used as a context manager, like warnings.catch_warnings
    """Collect the kit's warnings as sentences, to show them in the report instead of on stderr.

    Examples
    --------
    >>> import warnings
    >>> from cxkit.errors import CxkitWarning
    >>> with collect_warnings() as notes:
    ...     warnings.warn("small segment", CxkitWarning)
    >>> notes
    ['small segment']
    """

    def __enter__(self) -> list[str]:
        import warnings

        from cxkit.errors import CxkitWarning

        self._catcher = warnings.catch_warnings(record=True)
        self._caught = self._catcher.__enter__()
        warnings.simplefilter("always", CxkitWarning)
        self.notes: list[str] = []
        return self.notes

    def __exit__(self, *exc) -> None:
        import warnings

        from cxkit.errors import CxkitWarning

        self._catcher.__exit__(*exc)
        for w in self._caught:
            if issubclass(w.category, CxkitWarning):
                self.notes.append(str(w.message))
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def subtitle(audience: str, data, slice_by: dict | None = None) -> str:
    """``Leadership team · data as of 2026-09-30 · Region: West``."""
    from cxkit.narrative import column_label, date_line

    parts = [audience, date_line(data)]
    if slice_by:
        parts.append(", ".join(f"{column_label(k)}: {v if not isinstance(v, list) else ' / '.join(map(str, v))}"
                               for k, v in slice_by.items()))
    return " · ".join(parts)


def cox_notes(cox, band_name: str = "Band") -> None:
    """The Cox model's caveats in plain words: not-estimable terms and failed proportional-hazards checks."""
    from cxkit.narrative import cox_note_lines

    notes = cox_note_lines(cox, band_name)
    if notes:
        bullets([n[0].upper() + n[1:] for n in notes], css_class="cx-notes")


def data_notes(data, notes: list[str]) -> None:
    """Rows used per table, the analysis date, and any data warning."""
    rows = ", ".join(f"{t} {n:,}" for t, n in data.row_counts.items())
    when = (f"Analysis date: {data.as_of}." if data.mode == "dated"
            else f"Report date: {data.as_of or 'none'} (snapshot data carries no dates).")
    lines = [f"Rows used: {rows}.", when]
    lines += [n.replace("\n", " ") for n in dict.fromkeys(notes)]
    bullets(lines, css_class="cx-notes")


def not_available(analysis, what: str) -> None:
    """Say, where a section's figure would be, that it cannot be estimated from this data and why."""
    from IPython.display import HTML

    from cxkit.narrative import unavailable_sentence

    sentence = unavailable_sentence({what: analysis.not_available_.get(what, "the data cannot support it")})
    _display(HTML(f"<p class='cx-unavailable'>{html.escape(sentence)}</p>"))


def method_notes(analysis, data, notes: list[str]) -> None:
    """The clock, the models and the data behind the leadership report, in a few sentences."""
    ltv = analysis.ltv_
    lines = [f"Headline NPS: {analysis.nps_population_}; the NPS of a period counts every answer given in it."
             if analysis.nps_ is not None else None,
             f"Clock: {analysis.clock_}.",
             "Churn curves are Kaplan-Meier estimates with 95% log-log intervals; the test across bands is "
             "the log-rank test."]
    if analysis.cox_ is not None:
        from cxkit.narrative import column_label, join_words

        refs = join_words([f"{column_label(c, analysis.band_name_).lower()} {v}"
                           for c, v in analysis.cox_.reference_.items()]) if analysis.cox_.reference_ else "none"
        lines.append(f"Hazard ratios come from a Cox model with Efron ties (reference groups: {refs}); "
                     f"concordance {analysis.cox_.concordance_:.2f}.")
    if ltv is not None:
        tails = ", ".join(f"{r.segment}: no churn observed, so no tail" if r.tail_model.startswith("none")
                          else f"{r.segment}: {r.tail_model} after {r.observed_months} months"
                          for r in ltv.summary.itertuples())
        margin = ("revenue minus contact costs" if analysis.measured_["cost to serve"]
                  else "revenue; contact costs are not measured in this data")
        start = "signup" if data.mode == "snapshot" else "the first answer"
        lines += [f"Lifetime value counts {ltv.horizon} months of margin ({margin}) from {start}, discounted at "
                  f"{ltv.discount_rate:.0%} a year; beyond the data a fitted tail continues the curve ({tails}).",
                  f"Intervals: {ltv.n_boot} bootstrap replicates over customers (seed {ltv.seed})."]
        if analysis.scenarios:
            lines.append(f"The value at stake scales the "
                         f"{sum(analysis.base_counts_.values()) / analysis.scale_to_base_:,.0f} active customers who "
                         f"answered to all {analysis.active_customers_:,} active customers, assuming those who did "
                         "not answer spread over the bands alike.")
    if analysis.descriptive_:
        lines.append(f"The score separates who left from who stayed with an AUC of {analysis.score_auc_:.2f} "
                     f"(1 = perfectly){'; it was taken at the end of follow-up' if data.mode == 'snapshot' else ''}.")
    unavailable = [f"{what[0].upper()}{what[1:]}: not available, because {reason.rstrip('.')}."
                   for what, reason in analysis.not_available_.items()]
    lines += unavailable
    bullets([line for line in lines if line], css_class="cx-notes")
    data_notes(data, notes)


def glossary(analysis) -> None:
    """Every measure the report shows: who it counts, over what time, by which answer, by what formula."""
    from cxkit.narrative import glossary as terms

    ltv = analysis.ltv_
    words = terms(analysis.score_, analysis.nps_window_months, ltv.horizon if ltv else analysis.horizon_months,
                  ltv.discount_rate if ltv else analysis.discount_rate, analysis.alpha,
                  analysis.data_.mode == "dated", analysis.measured_["cost to serve"])
    table(pd.DataFrame({"term": list(words), "definition": list(words.values())}), text=True)


LOST_FORMATS = {"lost": "{:,.0f}", "monthly revenue lost": _money, "share of lost revenue": "{:.0%}"}


def section(title: str, intro: str | None = None, level: int = 2) -> None:
    """A heading (and a line of explanation) shown only when the section has something to show."""
    from IPython.display import HTML

    text = f"<p>{html.escape(intro)}</p>" if intro else ""
    _display(HTML(f"<h{level}>{html.escape(title)}</h{level}>{text}"))


def lead_section(analysis) -> None:
    """What the audience reads first after the summary: its slice, its contacts or its value."""
    from cxkit import plots

    if analysis.focus == "region" and analysis.slice_table_ is not None:
        section("This slice against everyone", "The same measures for this audience and for all customers; "
                "bands too small for a stable estimate show 'too few'.")
        table(analysis.slice_table_)
    elif analysis.focus == "care" and analysis.contacts_ is not None:
        contacts_section(analysis)
    elif analysis.focus == "product" and analysis.gap_bands_ is not None:
        section("What a better experience is worth", "Lifetime value by band and what moving customers up adds.")
        figure(plots.plot_ltv_gap(analysis.ltv_, *analysis.gap_bands_, parts=analysis.gap_parts_shown_),
               "lead-ltv-gap", caption=gap_caption(analysis))


def gap_caption(analysis) -> str:
    """The waterfall's caption: the parts shown, and the one left out when contact costs are not measured."""
    from cxkit.narrative import join_words

    shown = analysis.gap_parts_shown_
    text = f"The gap split into {join_words(shown)}; the parts add up."
    if "lower cost to serve" not in shown:
        text += " Cost to serve is not available: the data has no contact costs."
    return text


def customer_math(analysis) -> None:
    """The ledger: customers in and out, and the revenue lost by reason and band."""
    if analysis.ledger_ is None:
        return
    from cxkit import narrative

    section("Customer math", "Customers and monthly revenue flowing in and out of the base. Revenue is each "
            "customer's monthly run rate; start + new - lost = end holds in every period.")
    figure(analysis.ledger_.plot(), "customer-ledger",
           takeaway=narrative.ledger_sentence(analysis.ledger_, 12 if analysis.period == "M" else 4))
    window = "last 12 months" if analysis.period == "M" else "last 4 quarters"
    table(analysis.lost_table("reason"), formats=LOST_FORMATS, caption=f"Lost by churn reason, {window}.")
    table(analysis.lost_table("band"), formats=LOST_FORMATS,
          caption=f"Lost by the band of the customer's last answer, {window}.")


def nps_over_time(analysis) -> None:
    """NPS per period with its interval and the verdict: a real shift or normal variation."""
    if analysis.trend_ is None:
        return
    from cxkit import narrative

    trend = analysis.trend_
    section("NPS over time", "Each period's NPS with its 95% interval. The grey band is normal variation "
            "around the baseline; a point outside it, or 8 periods in a row on one side, is a real shift.")
    figure(trend.plot(), "nps-trend", takeaway=narrative.trend_sentence(trend).split(". ")[0] + ".")
    from cxkit.narrative import p_text, signed, trend_verdict

    shown = trend.table.tail(6)[["period", "n", "nps", "lower", "upper", "change", "change_p", "flag", "note"]
                                + (["response_rate"] if "response_rate" in trend.table else [])].copy()
    shown["flag"] = [trend_verdict(f) for f in shown["flag"]]
    def one(v):
        return signed(v, 1)

    table(shown, formats={"nps": one, "lower": one, "upper": one, "change": one,
                          "change_p": lambda p: p_text(p)[2:].strip("= "), "response_rate": "{:.1%}"},
          rename={"n": "answers", "nps": "NPS", "change": "change from previous", "change_p": "p (change)",
                  "flag": "against the baseline", "response_rate": "response rate"},
          caption="Latest periods: the NPS of every answer given in the period. Periods under the minimum number "
                  "of answers are suppressed, with the reason.")


def contacts_section(analysis) -> None:
    """Contacts and cost to serve per customer by band over time."""
    if analysis.contacts_ is None:
        return
    from cxkit import narrative

    section("Contacts and cost to serve", "Care contacts (calls, chats, emails, complaints) and their cost per "
            "customer, by the band of the customer's last answer.")
    figure(analysis.contacts_.plot(measure="cost_per_customer"), "cost-to-serve",
           takeaway=narrative.contacts_sentence(analysis.contacts_, analysis.low_, analysis.high_))


def takeaway(sentences: list[str], word: str) -> str | None:
    """The summary sentence that carries ``word``: a figure's one-line takeaway for its slide."""
    return next((s for s in sentences if word in s), None)
