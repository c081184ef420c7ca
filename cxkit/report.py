"""What notebooks call to build the report: blocks of a document, shown as they are made.

Every call shows its block in the notebook (HTML) and carries the block itself in the same output
(:data:`cxkit.document.BLOCK_MIME`); after a run the renderer reads the blocks back into one record
(``report.json``) and renders HTML, PDF and slides from it. Figures are SVG inline (sharp in HTML and
PDF); the renderer draws PNGs for email and slides from the SVG (:mod:`cxkit.render.raster`), or, with
no browser to do that, asks the kernel for them here (``CXKIT_PNG_FIGURES``).
Text from parameters (titles, audience names) is escaped by the document.

The section helpers (``churn_section``, ``value_section``, ...) are the leadership report's parts;
notebooks call them in order and keep only narrative.
"""

from __future__ import annotations

import base64
import io
import os

import pandas as pd

from cxkit.demo import DEMO_CUSTOMERS, DEMO_SEED, demo_sources  # noqa: F401  (old names kept here)
from cxkit.document import BLOCK_MIME, EMAIL_PX, KEY_FIGURES, block_html
from cxkit.formats import gap as signed_gap
from cxkit.formats import money as _money
from cxkit.formats import p_text, percent, signed, signed_money, slice_label
from cxkit.theme import PNG_DPI

__all__ = ["figure", "table", "dataframe", "markdown", "heading", "bullets", "sentences", "section", "demo_data",
           "collect_warnings", "subtitle", "cox_notes", "method_notes", "data_notes", "lead_section",
           "customer_math", "nps_over_time", "contacts_section", "takeaway", "not_available", "glossary",
           "gap_caption", "load_data", "summary", "churn_section", "drivers_section", "reasons_section",
           "value_section", "stake_section", "appendix", "why_section", "departure_names", "DRIVER_FORMATS",
           "DRIVER_NAMES", "TOUCHPOINT_FORMATS", "TOUCHPOINT_NAMES", "RISK_FORMATS", "STORY_FORMATS"]


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
LOST_FORMATS = {"lost": "{:,.0f}", "monthly revenue lost": _money, "share of lost revenue": "{:.0%}"}


# ------------------------------------------------------------------ blocks
def _show(block: dict, png: bytes | None = None) -> None:
    """Show a block in the notebook and carry it in the same output, for the renderer."""
    from IPython.display import display

    bundle = {"text/html": block_html(block), BLOCK_MIME: block}
    if png is not None:
        bundle["image/png"] = base64.b64encode(png).decode("ascii")
    display(bundle, raw=True)


def _wants_png() -> bool:
    """Whether figures carry a PNG drawn by matplotlib: only where no browser can draw one from the SVG
    later (:mod:`cxkit.render.raster`), since a PNG costs a report about a second."""
    return os.environ.get("CXKIT_PNG_FIGURES") == "1"


def figure(obj, name: str, caption: str | None = None, takeaway: str | None = None, alt: str | None = None) -> None:
    """A figure, inline as SVG (and as PNG when the renderer asks for it: ``CXKIT_PNG_FIGURES``).

    Parameters
    ----------
    obj : matplotlib Axes or Figure
    name : str
        File name without extension (``churn-by-band``).
    caption : str, optional
        Shown under the figure.
    takeaway : str, optional
        The one-line message of the figure, used as its slide title.
    alt : str, optional
        Text for readers who cannot see the figure (default: its title, or the takeaway).
    """
    import matplotlib.pyplot as plt

    fig = obj.figure if hasattr(obj, "figure") and not hasattr(obj, "savefig") else obj
    engine = fig.get_layout_engine()
    if engine is not None:  # lay the figure out once, then keep it: the box below is measured on that layout
        engine.execute(fig)
        fig.set_layout_engine("none")
    # One layout pass for both files: "tight" would draw the figure twice per file.
    box = fig.get_tightbbox(fig.canvas.get_renderer()).padded(0.1)
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches=box, metadata={"Date": None})
    png = None
    if _wants_png():
        raw = io.BytesIO()
        fig.savefig(raw, format="png", dpi=PNG_DPI, bbox_inches=box, metadata={"Software": None})
        png = raw.getvalue()
    titles = [t for ax in fig.axes for t in (ax.get_title("left"), ax.get_title()) if t]  # the theme's are left
    email = _email_svg(fig, box.width - fig.get_size_inches()[0]) if takeaway and name in KEY_FIGURES and \
        engine is not None else None
    plt.close(fig)
    _show({"type": "figure", "name": name, "svg": buffer.getvalue(), "caption": caption, "takeaway": takeaway,
           "alt": alt or (titles[0] if titles else takeaway) or name, **({"email_svg": email} if email else {})},
          png)


def _thin_crowded_ticks(fig, renderer) -> bool:
    """Keep every other x tick, with its own label, on each axes whose tick labels touch (``$10,000$20,000`` on a
    narrowed figure); whether any was thinned."""
    thinned = False
    for ax in fig.axes:
        for _ in range(3):
            labels = [t for t in ax.get_xticklabels() if t.get_visible() and t.get_text()]
            lo, hi = sorted(ax.get_xlim())
            inside = [t for t in labels if lo <= t.get_position()[0] <= hi]
            boxes = sorted((t.get_window_extent(renderer) for t in inside), key=lambda b: b.x0)
            if len(inside) < 3 or not any(a.x1 + 4 > b.x0 for a, b in zip(boxes, boxes[1:], strict=False)):
                break
            inside.sort(key=lambda t: t.get_position()[0])
            keep = inside[::2]
            limits = ax.get_xlim()
            ax.set_xticks([t.get_position()[0] for t in keep], labels=[t.get_text() for t in keep])
            ax.set_xlim(limits)
            fig.canvas.draw()
            thinned = True
    return thinned


def _email_svg(fig, outside: float = 0.0) -> str:
    """The figure laid out again for an email, which shows it :data:`~cxkit.document.EMAIL_PX` wide: the figure's
    box narrowed to that many points, so each point of a font is a pixel in the inbox (the report's 10.6-inch
    figures put their 11- and 12-point labels, the at-risk counts among them, at 8 px there). Its height is kept,
    so the narrower plot keeps room for its rows. ``outside``: how many inches the report's layout drew beyond the
    figure (a legend, the at-risk labels), allowed for at once (about 0.15 s a figure)."""
    target = EMAIL_PX / 72
    h = fig.get_size_inches()[1]
    fig.set_layout_engine("constrained")
    width = target - max(outside, 0.0) - 0.02
    for _ in range(3):  # measured after the layout, and narrowed again where something still reaches past it
        fig.set_size_inches(width, h)
        fig.get_layout_engine().execute(fig)
        renderer = fig.canvas.get_renderer()
        box = fig.get_tightbbox(renderer).padded(0.1)
        if _thin_crowded_ticks(fig, renderer):  # labels that ran into each other at the narrower width
            box = fig.get_tightbbox(renderer).padded(0.1)
        if box.width <= target:
            break
        width -= box.width - target + 0.02
    fig.set_layout_engine("none")
    out = io.StringIO()
    fig.savefig(out, format="svg", bbox_inches=box, metadata={"Date": None})
    return out.getvalue()


def table(frame: pd.DataFrame, formats: dict | None = None, caption: str | None = None,
          rename: dict | None = None, missing: str = "–", text: bool = False) -> None:
    """A small table, numbers formatted, everything escaped.

    Parameters
    ----------
    formats : dict
        Column -> format spec (``"{:,.0f}"``, ``"{:.1%}"``) or a callable.
    missing : str
        What an empty cell shows (``"not available"`` where the data does not measure it).
    text : bool
        A table of words (a glossary): every column left-aligned.
    """
    _show(_table_block(frame, formats, caption, rename, missing, text))


def _table_block(frame: pd.DataFrame, formats: dict | None, caption: str | None, rename: dict | None,
                 missing: str, text: bool = False) -> dict:
    shown = frame.copy()
    for col, fmt in (formats or {}).items():
        if col in shown:
            shown[col] = [(missing if pd.isna(v) else (fmt(v) if callable(fmt) else fmt.format(v)))
                          for v in shown[col]]
    shown = shown.rename(columns=rename or {})
    split = shown.astype(object).where(shown.notna(), None).to_dict("split")
    rows = [[v.item() if hasattr(v, "item") else v for v in row] for row in split["data"]]
    return {"type": "table", "columns": [str(c) for c in split["columns"]], "rows": rows, "caption": caption,
            "text": text, "missing": missing}


def dataframe(frame: pd.DataFrame, formats: dict | None = None, caption: str | None = None,
              rename: dict | None = None, missing: str = "–") -> None:
    """A DataFrame as an analyst reads it: styled in the notebook, the same table as :func:`table` in the report.

    The notebook shows ``frame`` itself through a pandas ``Styler`` (its numbers formatted with ``formats``,
    its values untouched), so the analyst sorts, filters and reuses the variable it came from; the rendered
    report gets the same block :func:`table` would give it.

    Examples
    --------
    >>> import pandas as pd
    >>> html = _styled(pd.DataFrame({"band": ["a"], "share": [0.25]}), {"share": "{:.0%}"}, "Churn", None, "–")
    >>> "25%" in html and "Churn" in html
    True
    """
    from IPython.display import display

    block = _table_block(frame, formats, caption, rename, missing)
    display({"text/html": _styled(frame, formats, caption, rename, missing), "text/plain": frame.to_string(),
             BLOCK_MIME: block}, raw=True)


def _styled(frame: pd.DataFrame, formats: dict | None, caption: str | None, rename: dict | None,
            missing: str) -> str:
    """``frame`` as a pandas Styler's HTML: numbers formatted, everything escaped, no index."""
    formats = {c: f for c, f in (formats or {}).items() if c in frame}
    import hashlib

    styler = frame.style.format(formats, na_rep=missing, escape="html").hide(axis="index")
    # the same HTML on every run (a Styler's id is random otherwise)
    styler = styler.set_uuid(hashlib.sha1(f"{list(frame.columns)}{caption}".encode()).hexdigest()[:8])
    if rename:
        styler = styler.relabel_index([rename.get(c, c) for c in frame.columns], axis="columns")
    if caption:
        styler = styler.set_caption(caption)
    return styler.to_html()


def markdown(text: str) -> None:
    """Markdown built from computed results (numbers come from result objects)."""
    _show({"type": "markdown", "text": text})


def heading(text: str, level: int = 1, subtitle: str | None = None) -> None:
    """The report's title, from parameter text (escaped), and its subtitle."""
    _show({"type": "heading", "text": text, "subtitle": subtitle})


def sentences(items, role: str = "summary") -> None:
    """Sentences by key (``{"nps": "NPS is ..."}`` or a list of sentences): the summary, notes or a reason."""
    pairs = list(items.items()) if isinstance(items, dict) else [(None, s) for s in items]
    if pairs:
        _show({"type": "sentences", "role": role, "items": [{"key": k, "text": s} for k, s in pairs]})


def bullets(items, css_class: str = "cx-summary") -> None:
    """Sentences as a bullet list: the summary (``cx-summary``) or notes (``cx-notes``)."""
    sentences(items, role="summary" if css_class == "cx-summary" else "notes")


def section(title: str, intro: str | None = None, level: int = 2) -> None:
    """A heading (and a line of explanation)."""
    _show({"type": "section", "title": title, "intro": intro, "level": level})


# ------------------------------------------------------------ loading
def demo_data() -> dict:
    """The built-in demo data's sources (see :func:`cxkit.demo.demo_sources`)."""
    return demo_sources()


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


def load_data(data=None, as_of=None, min_segment_size=None, slice_by=None, parent_slice=None, store=None):
    """The notebooks' load cell in one call: data (default the demo), validated, sliced; warnings kept.

    Parameters
    ----------
    parent_slice : dict, optional
        The audience's parent in a hierarchy (``{"region": "West"}`` for a team in the West): the slice is
        then compared with its parent as well as with everyone.
    store : str, optional
        A batch's analysis store (:class:`cxkit.store.AnalysisStore`, set by ``cxkit batch``): the data was
        validated once for the whole batch and is read from there.

    Returns
    -------
    data : CXData
    notes : list of str
        The kit's warnings while loading, for the report's data notes.
    """
    from cxkit.load import load
    from cxkit.store import AnalysisStore

    with collect_warnings() as notes:
        kept = AnalysisStore(store) if store else None
        if kept is not None and kept.holds_rows:
            loaded = kept.data()
        else:
            params = {"data": data or demo_sources(), "as_of": as_of}
            if min_segment_size is not None:
                params["min_segment_size"] = min_segment_size
            loaded = load(params)
            if kept is not None:  # a warehouse's store: its rows stay there; the batch's shared numbers are here
                loaded = kept.attached_to(loaded)
        loaded = loaded.subset(parent_slice, copy=False if slice_by else None).subset(slice_by)
    return loaded, notes


# ------------------------------------------------------------ the leadership report's parts
def subtitle(audience: str, data, slice_by: dict | None = None) -> str:
    """``Leadership team · data as of 2026-09-30 · Region: West``."""
    from cxkit.formats import slice_label
    from cxkit.narrative import date_line

    parts = [audience, date_line(data)]
    if slice_by:
        parts.append(slice_label(slice_by))
    return " · ".join(parts)


def brief(analysis, owners: dict | None = None) -> None:
    """Page one: the leader brief (headline, tiles, findings, ranked actions with owners), every number traced."""
    from cxkit.brief import brief as leader_brief

    _show({"type": "brief", **leader_brief(analysis, owners)})


def summary(analysis) -> None:
    """The executive summary, each sentence under its key, in the audience's order, with the facts it shows
    (each number's value and the result it was read from)."""
    from cxkit.focus import summary_order
    from cxkit.narrative import traced_summary

    parts = traced_summary(analysis)
    items = [{"key": k, "text": parts[k]["text"], "facts": parts[k]["facts"]}
             for k in summary_order(analysis.focus) if k in parts]
    if items:
        _show({"type": "sentences", "role": "summary", "items": items})
    _behind(analysis, "summary")


def cox_notes(cox, band_name: str = "Band") -> None:
    """The Cox model's caveats in plain words: not-estimable terms and failed proportional-hazards checks."""
    from cxkit.narrative import cox_note_lines

    notes = cox_note_lines(cox, band_name)
    if notes:
        sentences([n[0].upper() + n[1:] for n in notes], role="notes")


def data_notes(data, notes: list[str]) -> None:
    """Rows used per table, the analysis date, and any data warning."""
    from cxkit import narrative

    sentences(narrative.data_notes(data, notes), role="notes")


def not_available(analysis, what: str) -> None:
    """Say, where a section's figure would be, that it cannot be estimated from this data and why."""
    from cxkit.narrative import unavailable_sentence

    reason = analysis.not_available_.get(what, "the data cannot support it")
    sentences({f"unavailable:{what}": unavailable_sentence({what: reason})}, role="unavailable")


def method_notes(analysis, data=None, notes: list[str] | None = None) -> None:
    """The clock, the models and the data behind the leadership report, in a few sentences."""
    from cxkit import narrative

    sentences(narrative.method_notes(analysis) + narrative.data_notes(data or analysis.data_, notes or []),
              role="notes")


def glossary(analysis) -> None:
    """Every measure the report shows: who it counts, over what time, by which answer, by what formula."""
    from cxkit.narrative import glossary as terms

    ltv = analysis.ltv_
    words = terms(analysis.score_, analysis.nps_window_months, ltv.horizon if ltv else analysis.horizon_months,
                  ltv.discount_rate if ltv else analysis.discount_rate, analysis.alpha,
                  analysis.data_.mode == "dated", analysis.measured_["cost to serve"],
                  analysis.measured_["referrals"], period=analysis.period)
    table(pd.DataFrame({"term": list(words), "definition": list(words.values())}), text=True)


def appendix(analysis, notes: list[str]) -> None:
    """Method notes and the glossary."""
    from cxkit.narrative import SECTION_TITLES

    section(SECTION_TITLES["methods"])
    method_notes(analysis, analysis.data_, notes)
    section(SECTION_TITLES["glossary"])
    glossary(analysis)


def gap_caption(analysis) -> str:
    """The waterfall's caption: the parts shown, and the one left out when contact costs are not measured."""
    from cxkit.narrative import gap_caption as caption

    return caption(analysis.gap_parts_shown_)


def _slice_table(analysis) -> pd.DataFrame:
    """The slice comparison as the reader sees it: 'too few' for small bands, 'not available' for gaps."""
    months = analysis.retention_months
    fmt = {"still a customer": percent, "lifetime value": _money, "customers who answered": "{:,.0f}".format}
    rows = []

    def nps(row):
        if row["small"]:
            return "too few answers"
        return f"{signed(row['nps'])} ({signed(row['lower'])} to {signed(row['upper'])})"

    def shown(value, kind, small=False):
        if small:
            return "too few"
        return "not available" if value is None or value != value else fmt[kind](value)

    parent = analysis.parent_slice_
    others = {"everyone": "everyone"} if parent is None else {"parent": slice_label(parent), "everyone": "everyone"}
    for r in analysis.slice_comparison_.to_dict("records"):
        if r["measure"] == "nps":
            results = {"parent": analysis.nps_parent_, "everyone": analysis.nps_everyone_}
            rows.append({"measure": "NPS (headline: active customers, latest answer)",
                         "this audience": nps(analysis.nps_), **{shown_as: nps(results[key])
                                                              for key, shown_as in others.items()}})
            continue
        label = {"still a customer": f"{r['band']}s still customers {months:g} months after {analysis.which} answer",
                 "lifetime value": f"{r['band']} lifetime value"}.get(r["measure"], r["measure"])
        rows.append({"measure": label, "this audience": shown(r["this slice"], r["measure"], r["small"]),
                     **{shown_as: shown(r[key], r["measure"]) for key, shown_as in others.items()}})
    return pd.DataFrame(rows)


def _audience_table(analysis) -> pd.DataFrame:
    """The audience against the other customers, each difference with its interval and whether it holds."""
    from cxkit.narrative import audience_row_label

    diff = analysis.audience_
    rows = []
    for r in diff.summary.to_dict("records"):
        if r["measure"] == "churn hazard":
            mine = others = "·"
            gap = f"{r['difference']:.2f} times ({r['lower']:.2f} to {r['upper']:.2f})"
        elif r["measure"] == "nps":
            mine, others = signed(r["audience"]), signed(r["others"])
            gap = f"{signed_gap(r['difference'])} points ({signed(r['lower'])} to {signed(r['upper'])})"
        elif r["measure"] == "lifetime value":
            mine, others = _money(r["audience"]), _money(r["others"])
            gap = f"{signed_money(r['difference'])} ({signed_money(r['lower'])} to {signed_money(r['upper'])})"
        else:
            mine, others = percent(r["audience"]), percent(r["others"])
            gap = (f"{signed(100 * r['difference'])} points ({signed(100 * r['lower'])} to "
                   f"{signed(100 * r['upper'])})")
        rows.append({"measure": audience_row_label(r, diff), "this audience": mine, "other customers": others,
                     "difference (95% CI)": gap,
                     "holds": "yes" if r["holds"] else "no" if r["tested"] else "not tested: churn alike"})
    return pd.DataFrame(rows)


def lead_section(analysis) -> None:
    """What the audience reads first after the summary: for an audience, how it differs from the other customers
    (always) and its slice against everyone; then its contacts or its value by focus."""
    from cxkit import narrative, plots
    from cxkit.focus import lead_section as lead

    kind = lead(analysis.focus)
    if analysis.slice_comparison_ is not None:
        key = "slice" if analysis.parent_slice_ is None else "slice_parent"
        section(narrative.SECTION_TITLES[key], narrative.section_intro(key, analysis.clock_kind_))
        if analysis.audience_ is not None:
            table(_audience_table(analysis), caption=narrative.caption("audience", adjusted_for=[
                narrative.band_name(analysis.score_), *analysis.audience_.adjusted_for_]))
        table(_slice_table(analysis))
    if kind == "slice":
        return
    if kind == "contacts" and analysis.contacts_ is not None:
        contacts_section(analysis)
    elif kind == "why":
        why_section(analysis)
    elif kind == "value" and analysis.gap_bands_ is not None:
        section(narrative.SECTION_TITLES["value"], narrative.section_intro("value", analysis.clock_kind_))
        figure(plots.plot_ltv_gap(analysis.ltv_, *analysis.gap_bands_, parts=analysis.gap_parts_shown_),
               "lead-ltv-gap", caption=gap_caption(analysis))


def retention_table(analysis, months=(6, 12, 24)) -> pd.DataFrame:
    """Share still a customer per band at chosen months, with its interval, as the reader sees it."""
    from cxkit.narrative import band_name

    at = analysis.retention_at(months)
    at["cell"] = [f"{s:.0%} ({lo:.0%}-{hi:.0%})" if s == s else "–"
                  for s, lo, hi in zip(at["survival"], at["lower"], at["upper"], strict=True)]
    wide = at.pivot(index="segment", columns="time", values="cell")
    wide.columns = [f"after {m:g} months" for m in wide.columns]
    return wide.reindex(analysis.km_.segments_).reset_index().rename(columns={"segment": band_name(analysis.score_)})


def churn_section(analysis, min_at_risk: int = 10) -> None:
    """Churn by band: the curves, their clock, and the share still a customer at 6, 12 and 24 months."""
    from cxkit import narrative

    section(narrative.SECTION_TITLES["churn"], narrative.section_intro("churn", analysis.clock_kind_,
                                                                       analysis.data_.mode))
    figure(analysis.km_.plot(title=f"Share still a customer, by {narrative.band_name(analysis.score_)}",
                             min_at_risk=min_at_risk),
           "churn-by-band", caption=narrative.caption("clock", clock=analysis.clock_, min_at_risk=min_at_risk),
           takeaway=narrative.takeaways(analysis).get("churn-by-band"))
    table(retention_table(analysis), caption=narrative.caption("retention"))


def drivers_section(analysis) -> None:
    """What goes with churn: the Cox model's hazard ratios and its caveats."""
    from cxkit import narrative

    section(narrative.SECTION_TITLES["drivers"], narrative.section_intro("drivers", analysis.clock_kind_), level=3)
    if analysis.cox_ is None:
        not_available(analysis, "churn drivers")
        return
    band = narrative.band_name(analysis.score_)
    figure(analysis.cox_.plot(title="Hazard ratios of churn", band_name=band), "churn-drivers",
           takeaway=narrative.takeaways(analysis).get("churn-drivers"))
    cox_notes(analysis.cox_, band)
    _behind(analysis, "drivers")


def _behind(analysis, section: str) -> None:
    """Page one's figures this section stands behind, said again where a reader looks for them."""
    from cxkit.brief import behind

    sentences(behind(analysis, section), role="findings")


def reasons_section(analysis, min_at_risk: int = 10) -> None:
    """Why the lowest band leaves: each churn reason's cumulative incidence with its interval."""
    from cxkit import narrative

    if analysis.incidence_ is None:
        return
    period = analysis.period if analysis.ledger_ is not None else None
    section(narrative.SECTION_TITLES["reasons"], narrative.reasons_intro(analysis.low_, period, analysis.clock_kind_),
            level=3)
    figure(analysis.incidence_.plot(segment=analysis.low_, min_at_risk=min_at_risk), "churn-reasons",
           caption=narrative.caption("reasons", min_at_risk=min_at_risk),
           takeaway=narrative.takeaways(analysis).get("churn-reasons"))


def value_section(analysis) -> None:
    """Lifetime value per band, the gap's parts and the components table."""
    from cxkit import narrative, plots

    tail = analysis.ltv_ is None or bool((analysis.ltv_.summary["extrapolated_share"] > 0).any())
    section(narrative.SECTION_TITLES["ltv"], narrative.section_intro("ltv", analysis.clock_kind_, analysis.data_.mode,
                                                                     tail=tail))
    if analysis.ltv_ is None:
        not_available(analysis, "lifetime value")
        return
    figure(analysis.ltv_.plot(), "ltv-by-band", takeaway=narrative.takeaways(analysis).get("ltv-by-band"))
    if analysis.gap_bands_ is not None:
        figure(plots.plot_ltv_gap(analysis.ltv_, *analysis.gap_bands_, parts=analysis.gap_parts_shown_),
               "ltv-gap", caption=gap_caption(analysis))
    table(analysis.components_table(), formats=COMPONENT_FORMATS, rename=COMPONENT_NAMES, missing="not available",
          caption=narrative.caption("components", snapshot=analysis.data_.mode == "snapshot",
                                    contacts=analysis.contacts_ is not None))
    _behind(analysis, "ltv")


def stake_section(analysis) -> None:
    """The value at stake: what the base would gain if some customers behaved like the band above, with intervals."""
    from cxkit import narrative, plots

    if analysis.ltv_ is None:
        return
    # without a scenario the intro's "with 95% intervals" promises what the one reason below withholds
    section(narrative.SECTION_TITLES["stake"],
            narrative.section_intro("stake", analysis.clock_kind_) if analysis.scenarios else None)
    if analysis.scenarios:
        figure(plots.plot_value_at_stake(analysis.ltv_, narrative.scenarios(analysis)), "value-at-stake",
               takeaway=narrative.takeaways(analysis).get("value-at-stake"))
        scenario = analysis.scenario_table()
        scenario.insert(0, "scenario", [narrative.scenario_label({a: b}, s) for a, b, s in
                                        zip(scenario["from"], scenario["to"], scenario["share"], strict=True)])
        table(scenario.drop(columns=["from", "to", "share"]), formats=SCENARIO_FORMATS,
              caption=narrative.stake_caption(analysis.ltv_, analysis.scenarios))
        _behind(analysis, "stake")
    elif "value at stake" in analysis.not_available_:
        not_available(analysis, "value at stake")
    else:
        markdown(narrative.summary_parts(analysis).get("stake", ""))


def customer_math(analysis) -> None:
    """The ledger: customers in and out, and the revenue lost by reason and band."""
    if analysis.ledger_ is None:
        return
    from cxkit import narrative

    section(narrative.SECTION_TITLES["ledger"], narrative.section_intro("ledger", analysis.clock_kind_))
    figure(analysis.ledger_.plot(), "customer-ledger", takeaway=narrative.takeaways(analysis).get("customer-ledger"))
    table(analysis.lost_table("reason"), formats=LOST_FORMATS, caption=narrative.caption("lost-reason",
                                                                                         period=analysis.period))
    table(analysis.lost_table("band"), formats=LOST_FORMATS, caption=narrative.caption("lost-band",
                                                                                       period=analysis.period))


def _trend_table(trend) -> pd.DataFrame:
    """The last six periods of an :class:`~cxkit.trends.NPSTrend` as the report shows them: the verdict in
    words, and the ``note`` column only where a period shown has one (a suppressed period's reason)."""
    from cxkit.narrative import trend_verdict

    adjusted = ["mix_change", "adjusted"] if getattr(trend, "adjusted_for_", []) else []
    shown = trend.table.tail(6)[["period", "n", "nps", "change", "change_p", *adjusted, "flag", "note"]
                                + (["response_rate"] if "response_rate" in trend.table else [])].copy()
    shown["flag"] = [trend_verdict(f, baseline=False) for f in shown["flag"]]  # the column's heading names it
    if not shown["note"].fillna("").astype(str).str.strip().any():
        shown = shown.drop(columns="note")  # an empty column says nothing
    return shown


def nps_over_time(analysis) -> None:
    """NPS per period with its interval and the verdict: a real shift or normal variation."""
    if analysis.trend_ is None:
        return
    from cxkit import narrative

    trend = analysis.trend_
    section(narrative.SECTION_TITLES["trend"], narrative.section_intro("trend", analysis.clock_kind_,
                                                                        period=trend.period))
    figure(trend.plot(), "nps-trend", takeaway=narrative.takeaways(analysis).get("nps-trend"))

    def one(v):
        return signed(v, 1)

    table(_trend_table(trend), formats={"nps": one, "change": one, "mix_change": one, "adjusted": one,
                                        "change_p": lambda p: p_text(p)[2:].strip("= "), "response_rate": "{:.1%}"},
          rename={"n": "answers", "nps": "NPS as answered", "change": "change from previous",
                  "change_p": "p (change)", "mix_change": "of which who answered", "adjusted": "NPS at a fixed mix",
                  "flag": "at a fixed mix, against the baseline", "response_rate": "response rate"},
          caption=narrative.caption("trend", adjusted_for=getattr(trend, "adjusted_for_", [])))


def contacts_section(analysis, skip_if_lead: bool = False) -> None:
    """Contacts and cost to serve per customer by band over time (left out where it already led)."""
    from cxkit import narrative
    from cxkit.focus import shows

    if analysis.contacts_ is None or (skip_if_lead and not shows(analysis.focus, "contacts")):
        return
    section(narrative.SECTION_TITLES["contacts"], narrative.section_intro("contacts", analysis.clock_kind_))
    figure(analysis.contacts_.plot(measure="cost_per_customer"), "cost-to-serve",
           takeaway=narrative.takeaways(analysis).get("cost-to-serve"))
    last = _contacts_table(analysis)
    if last is not None:
        frame, period = last
        table(frame, formats=CONTACT_FORMATS, rename=CONTACT_NAMES, missing="not available",
              caption=narrative.caption("contacts", period=period))


CONTACT_FORMATS = {"customers": "{:,.0f}", "contacts": "{:,.0f}", "contacts_per_customer": "{:.2f}",
                   "cost": _money, "cost_per_customer": lambda v: _money(v, cents=True)}
CONTACT_NAMES = {"band": "band of last answer", "customers": "customers", "contacts": "contacts",
                 "contacts_per_customer": "contacts per customer", "cost": "cost",
                 "cost_per_customer": "cost per customer"}


def _contacts_table(analysis):
    """The latest period's contacts and their cost by band, and all bands together; (frame, period), or None.
    Without contact costs in the data the cost columns are left out (not 0)."""
    t = analysis.contacts_.by_band_
    if t.empty:
        return None
    period = t["period"].iloc[-1]
    last = t[t["period"] == period][["band", "customers", "contacts", "contacts_per_customer", "cost",
                                     "cost_per_customer"]].copy()
    total = {"band": "all", "customers": last["customers"].sum(), "contacts": last["contacts"].sum(),
             "cost": last["cost"].sum()}
    total["contacts_per_customer"] = total["contacts"] / total["customers"]
    total["cost_per_customer"] = total["cost"] / total["customers"]
    last = pd.concat([last, pd.DataFrame([total])], ignore_index=True)
    if not analysis.data_.has("contacts", "cost"):
        last = last.drop(columns=["cost", "cost_per_customer"])
    return last, period


DEPARTURE_FORMATS = {"leavers": "{:,.0f}", "answered": "{:.0%}", "last_band_detractor": "{:.0%}",
                     "with_complaint": "{:.0%}", "contacts_per_leaver": "{:.2f}", "monthly_revenue": _money}
DEPARTURE_NAMES = {"reason": "churn reason", "leavers": "customers who left", "answered": "had answered",
                   "last_band_detractor": "detractors at last answer",
                   "with_complaint": "complained in the last {w} days",
                   "contacts_per_leaver": "contacts each, last {w} days", "monthly_revenue": "monthly revenue lost"}


DRIVER_FORMATS = {"weight": "{:.4f}", "share": "{:.1%}", "lower": "{:.4f}", "upper": "{:.4f}", "n": "{:,.0f}"}
DRIVER_NAMES = {"weight": "weight (R² share of variance)", "share": "share of explained", "lower": "weight lower",
                "upper": "weight upper", "n": "answers", "distinguishable": "distinguishable from no effect"}
TOUCHPOINT_FORMATS = {"answers_with": "{:,.0f}", "share_with": "{:.1%}", "nps_with": "{:+.1f}",
                      "nps_without": "{:+.1f}", "difference": "{:+.1f}", "difference_lower": "{:+.1f}",
                      "difference_upper": "{:+.1f}", "points_lost": "{:.1f}", "lower": "{:.1f}", "upper": "{:.1f}",
                      "p_value": "{:.2g}"}
TOUCHPOINT_NAMES = {"answers_with": "answers after it", "share_with": "share of answers", "nps_with": "NPS after it",
                    "nps_without": "NPS of the others", "points_lost": "NPS points lost"}
RISK_FORMATS = {"departures": "{:,.1f}", "departures_lower": "{:,.1f}", "departures_upper": "{:,.1f}",
                "monthly_revenue": _money, "lower": _money, "upper": _money, "revenue_left": _money}
STORY_FORMATS = {"share": "{:.0%}", "answered": "{:.0%}", "last_band_detractor": "{:.0%}",
                 "last_band_passive": "{:.0%}", "last_band_promoter": "{:.0%}", "median_days_since_answer": "{:,.0f}",
                 "with_contact": "{:.0%}", "with_complaint": "{:.0%}", "contacts_per_leaver": "{:.2f}",
                 "monthly_revenue": _money}


def departure_names(window_days: int) -> dict:
    """The leavers-by-reason table's column names as the reader sees them."""
    return {k: v.format(w=window_days) for k, v in DEPARTURE_NAMES.items()}


def _too_few_answers(frame: pd.DataFrame, min_answers: int) -> tuple[pd.DataFrame, dict]:
    """The leavers-by-reason table with a reason's share of detractors shown as ``too few (26 answered)`` where
    fewer of its leavers answered than the report's smallest group given a number (the rule the sentence above it
    keeps to: a 0% from 26 answers is not printed as a figure); the formats for the rest."""
    column = "last_band_detractor"
    if column not in frame or "answered" not in frame:
        return frame, DEPARTURE_FORMATS
    shown = frame.copy()
    answered = (shown["answered"] * shown["leavers"]).round()
    shown[column] = [None if pd.isna(v) else f"too few ({n:,.0f} answered)" if n < min_answers else f"{v:.0%}"
                     for v, n in zip(shown[column], answered, strict=True)]
    return shown, {k: v for k, v in DEPARTURE_FORMATS.items() if k != column}


def why_section(analysis, skip_if_lead: bool = False) -> None:
    """What goes with low scores and with leaving: key drivers, touchpoints, experiences before departure and the
    departing customers' story (left out where it already led the report)."""
    from cxkit import narrative
    from cxkit.focus import shows

    if skip_if_lead and not shows(analysis.focus, "why"):
        return
    parts = narrative.why_parts(analysis)
    nothing = not parts and analysis.key_drivers_ is None and analysis.departures_ is None
    section(narrative.SECTION_TITLES["why"], None if nothing else narrative.section_intro("why", analysis.clock_kind_,
                                                                                    analysis.data_.mode))
    if parts:
        sentences(parts, role="findings")
    story = analysis.departures_
    if story is not None:  # those who left by churn reason: their last answer and last contacts
        shown, formats = _too_few_answers(story.summary[[c for c in DEPARTURE_NAMES if c in story.summary.columns]],
                                          analysis.min_size_)
        table(shown, formats=formats, rename=departure_names(story.window_days), missing="not available",
              caption=narrative.caption("departures", months=story.period_months))
    if analysis.key_drivers_ is not None and not analysis.key_drivers_.importance_.empty:
        figure(analysis.key_drivers_.plot(window_days=analysis.window_days), "key-drivers",
               takeaway=narrative.drivers_takeaway(analysis.key_drivers_, analysis.window_days),
               caption=narrative.caption("drivers", n=analysis.key_drivers_.n_, score=analysis.score_))
    missing = narrative.why_missing_sentence(analysis)
    if missing:
        sentences([missing], role="unavailable")


def takeaway(sentences: list[str], word: str) -> str | None:
    """The summary sentence that carries ``word`` (kept for old notebooks; use ``narrative.takeaways``)."""
    return next((s for s in sentences if word in s), None)
