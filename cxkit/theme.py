"""The one report theme: colours per segment and figure defaults, set in this one place.

Colours come from the Okabe-Ito palette (safe for the common forms of colour
blindness). Score bands keep the same colour in every figure of the kit:
the unhappy band vermillion, the middle band grey, the happy band blue.

Examples
--------
>>> color_for("promoter")
'#0072B2'
"""

from __future__ import annotations

from cxkit.fonts import EMOJI_FAMILY, FAMILY

__all__ = ["BAND_COLORS", "PALETTE", "color_for", "colors_for", "apply_theme", "FIGSIZE", "KM_FIGSIZE", "FOREST_ROW",
           "PNG_DPI"]

PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]

_UNHAPPY, _MIDDLE, _HAPPY = "#D55E00", "#8C8C8C", "#0072B2"
BAND_COLORS = {
    "detractor": _UNHAPPY, "passive": _MIDDLE, "promoter": _HAPPY,
    "dissatisfied": _UNHAPPY, "neutral": _MIDDLE, "satisfied": _HAPPY,
    "high effort": _UNHAPPY, "neutral effort": _MIDDLE, "low effort": _HAPPY,
    "everyone": "#000000", "all": "#000000",
}

#: The printed page's text width (A4 landscape, 12 mm margins: 273 mm, 10.75 in) less the 0.1 in pad around a
#: saved figure, so a figure prints at its own size (its 12-point labels print at 12 points) across the text
#: width, and one with its table and notes fills a page. The same aspect (about 3:1) fills a 16:9 slide's
#: width under its headline. Figures lay out with constrained layout, so labels and legends fall inside it.
FIGSIZE = (10.5, 3.4)
#: Survival curves with their at-risk rows below (the rows take about 1.3 inches of it).
KM_FIGSIZE = (10.5, 4.3)
#: Height of one row of a hazard-ratio (forest) plot, in inches: 12-point labels with space between them, so
#: a model of 20 terms still prints at its own size on one page.
FOREST_ROW = 0.27

#: PNG figures (email, slides): the report's figures are 8-10 inches wide, so 130 dpi gives 1,100-1,400 px, at
#: least twice the 552 px an email shows them at; 200 dpi cost about a second more per report.
PNG_DPI = 130

RC = {
    "figure.figsize": FIGSIZE,
    "figure.dpi": 100,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "font.size": 13,
    "axes.titlesize": 15,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    # The title sits at the top of the axes (no figure has ticks or labels there), so matplotlib need not
    # measure every tick label to place it: about 0.1 s less per report of ten figures.
    "axes.titley": 1.0,
    "axes.labelsize": 13,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e6e6e6",
    "grid.linewidth": 0.8,
    "axes.axisbelow": True,  # grid lines under bars and curves, not through them (the leaky bucket's bars)
    "legend.frameon": False,
    "legend.fontsize": 12,
    "xtick.labelsize": 12,
    "ytick.labelsize": 12,
    "lines.linewidth": 2.2,
    "svg.fonttype": "none",
    # every text in a figure is text as written: a segment named '$5-$10 plan' is no formula (no mathtext)
    "text.parse_math": False,
    "svg.hashsalt": "cxkit",
    # the kit's own faces (cxkit.fonts), which the report's HTML embeds: figures are SVG with their words as text
    # (svg.fonttype none), so the browser sets them in the face matplotlib measured them with; the SVG names a
    # common sans-serif after them, for a notebook viewed where Inter is not installed
    "font.family": [FAMILY, EMOJI_FAMILY, "sans-serif"],
    "font.sans-serif": ["DejaVu Sans", "Arial"],
}


def color_for(segment, others=None) -> str:
    """Colour of a segment: fixed for bands, else by its position among ``others``."""
    name = str(segment)
    if name in BAND_COLORS:
        return BAND_COLORS[name]
    others = [str(o) for o in (others or [name]) if str(o) not in BAND_COLORS]
    return PALETTE[others.index(name) % len(PALETTE)] if name in others else PALETTE[0]


def colors_for(segments) -> dict:
    """Segment -> colour for a list of segments shown together."""
    segments = [str(s) for s in segments]
    return {s: color_for(s, segments) for s in segments}


def apply_theme() -> None:
    """Set the kit's matplotlib defaults (called by every plot function)."""
    import matplotlib as mpl

    from cxkit.fonts import register_matplotlib

    register_matplotlib()
    mpl.rcParams.update(RC)
