"""Issue 28: figures that go straight into a deck: labels clear of whiskers, legends off the data, axes with
their unit and period, signed steps that read right either way, titles grammatical for every score."""

from __future__ import annotations

from types import SimpleNamespace

import matplotlib
import pandas as pd
import pytest

from cxkit import plots

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _close():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def _ltv(extrapolated=(0.2, 0.3, 0.3)):
    summary = pd.DataFrame({"segment": ["detractor", "passive", "promoter"], "ltv": [827.0, 1448.0, 1822.0],
                            "lower": [700.0, 1300.0, 1700.0], "upper": [960.0, 1600.0, 1950.0],
                            "extrapolated_share": list(extrapolated), "identified": [True, True, True]})
    return SimpleNamespace(summary=summary, currency="$", horizon=60)


def _extent(artist, renderer):
    return artist.get_window_extent(renderer)


def test_ltv_value_labels_sit_clear_of_their_whiskers():
    ax = plots.plot_ltv(_ltv())
    renderer = ax.figure.canvas.get_renderer()
    labels = [t for t in ax.texts if t.get_text().startswith("$")]
    assert [t.get_text() for t in labels] == ["$827", "$1,448", "$1,822"]
    whiskers = [seg for coll in ax.collections for seg in coll.get_segments()]  # the error bars' lines
    caps = [xy for line in ax.lines if line.get_marker() not in (None, "None", "") for xy in line.get_xydata()]
    assert whiskers and caps
    for text in labels:
        box = _extent(text, renderer)
        for seg in whiskers:  # no whisker reaches into the label
            (x0, y0), (x1, y1) = ax.transData.transform(seg)
            assert not (box.x0 <= x0 <= box.x1 and min(y0, y1) < box.y0 + 1 < max(y0, y1) + 1
                        and max(y0, y1) > box.y0), text.get_text()
        for x, y in ax.transData.transform(caps):  # every cap under its label sits below it
            assert not (box.x0 <= x <= box.x1 and y + 3 > box.y0), text.get_text()


def test_the_ltv_legend_shows_only_what_is_drawn():
    """A fitted tail is hatched and named in the legend; where the data covers the whole horizon (Telco) there is
    no hatch, and no legend entry for one."""
    legend = plots.plot_ltv(_ltv()).get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["within the data", "extrapolated (fitted tail)"]
    # the swatches are neutral: they stand for every band's bar, not for the detractors' orange one
    from matplotlib.colors import to_hex

    swatches = {to_hex(h.get_facecolor(), keep_alpha=False) for h in legend.legend_handles}
    assert swatches == {"#444444"}
    ax = plots.plot_ltv(_ltv(extrapolated=(0.0, 0.0, 0.0)))
    assert ax.get_legend() is None and not any(p.get_hatch() for p in ax.patches)
    assert "fitted tail" not in " ".join(t.get_text() for lg in ax.figure.legends for t in lg.get_texts())
    from cxkit.narrative import section_intro  # nor does the section's line name a hatch

    assert "hatched" in section_intro("ltv", "tenure", "snapshot")
    assert "hatched" not in section_intro("ltv", "tenure", "snapshot", tail=False)


def test_legends_sit_outside_the_data():
    t = pd.DataFrame({"period": ["2025-07", "2025-08", "2025-09"] * 3,
                      "band": ["detractor"] * 3 + ["passive"] * 3 + ["promoter"] * 3,
                      "cost_per_customer": [2.0, 14.0, 3.0, 1.0, 1.2, 1.1, 0.5, 0.6, 0.5]})
    contacts = SimpleNamespace(by_band_=t, period="M")
    for ax in (plots.plot_contacts(contacts, measure="cost_per_customer"), plots.plot_ltv(_ltv())):
        renderer = ax.figure.canvas.get_renderer()
        legend = ax.get_legend() or ax.figure.legends[0]
        assert not _extent(legend, renderer).overlaps(ax.get_window_extent(renderer))


@pytest.mark.parametrize("period, unit", [("M", "month"), ("Q", "quarter")])
def test_cost_to_serve_says_per_what(period, unit):
    t = pd.DataFrame({"period": ["2025-Q1", "2025-Q2"] * 2, "band": ["detractor"] * 2 + ["promoter"] * 2,
                      "cost_per_customer": [2.0, 3.0, 0.5, 0.6]})
    ax = plots.plot_contacts(SimpleNamespace(by_band_=t, period=period), measure="cost_per_customer")
    assert ax.get_ylabel().replace("\n", " ") == f"Cost to serve per customer per {unit}"
    assert ax.get_xlabel() == unit.capitalize()


def _gap(a, b, revenue):
    table = pd.DataFrame({"part": ["longer life", "higher revenue", "lower cost to serve", "total"],
                          "value": [1400.0, revenue, 0.0, 1400.0 + revenue]})
    return SimpleNamespace(gap_parts=lambda *_: table, currency="$")


@pytest.mark.parametrize("a, b, title", [
    ("promoter", "detractor", "Why promoters are worth more than detractors"),
    ("satisfied", "dissatisfied", "Why satisfied customers are worth more than dissatisfied customers"),
    ("low effort", "high effort", "Why low-effort customers are worth more than high-effort customers")])
def test_the_gap_reads_right_for_either_sign_and_every_score(a, b, title):
    ax = plots.plot_ltv_gap(_gap(a, b, -1293.0), a, b, parts=["longer life", "higher revenue"])
    assert ax.get_title("left") == title
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks == ["lifetime difference", "revenue difference", "total gap"]
    assert [t.get_text().replace("\\$", "$") for t in ax.texts] == ["+$1,400", "\u2212$1,293", "+$107"]
    assert ax.get_ylabel()


def _trend(flags, nps):
    n = len(flags)
    table = pd.DataFrame({"period": [f"2026-{i + 1:02d}" for i in range(n)], "nps": nps,
                          "lower": [v - 5 for v in nps], "upper": [v + 5 for v in nps],
                          "lower_limit": [10.0] * n, "upper_limit": [40.0] * n, "centre": [25.0] * n, "flag": flags})
    return SimpleNamespace(table=table, verdict_=flags[-1], period="M")


def test_the_trend_legend_names_only_what_is_drawn():
    """The demo's NPS over time named a "flagged shift" no period had, and left the grey strip of a period with too
    few answers unexplained: the legend names a flagged shift only where one is drawn, and the strip."""
    nan = float("nan")
    calm = plots.plot_trend(_trend(["suppressed", "within normal variation", "within normal variation"],
                                   [nan, 24.0, 26.0]))
    names = [t.get_text() for t in (calm.get_legend() or calm.figure.legends[0]).get_texts()]
    assert "flagged shift" not in names and "too few answers to show" in names
    assert any(p.get_hatch() for p in calm.patches)  # the strip told apart from the grey band of normal variation
    shift = "shift: 1 period above the upper limit"
    shifted = plots.plot_trend(_trend(["within normal variation", "within normal variation", shift],
                                      [24.0, 26.0, 45.0]))
    names = [t.get_text() for t in (shifted.get_legend() or shifted.figure.legends[0]).get_texts()]
    assert "flagged shift" in names and "too few answers to show" not in names


def test_lines_stay_apart_in_black_and_white_and_legends_follow_them():
    """Churn reasons: a dash per reason besides its colour, the legend in the order the lines end (top first);
    contacts: a marker per band; drivers: a legend entry only for a kind of bar that is drawn."""
    times = [0.0, 1.0, 2.0]
    rows = [{"segment": "detractor", "cause": c, "time": t, "incidence": v * (i + 1) / 3}
            for c, v in (("price", 0.05), ("service", 0.20), ("moved", 0.02)) for i, t in enumerate(times)]
    incidence = SimpleNamespace(incidence_=pd.DataFrame(rows), causes_=["price", "service", "moved"],
                                segments_=["detractor"], time_unit="month")
    ax = plots.plot_incidence(incidence)
    styles = {line.get_label(): str(line.get_linestyle()) for line in ax.lines}
    assert len(set(styles.values())) == 3
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["service", "price", "moved"]
    bands = ["detractor"] * 2 + ["passive"] * 2 + ["no answer"] * 2
    t = pd.DataFrame({"period": ["2025-07", "2025-08"] * 3, "band": bands,
                      "contacts_per_customer": [2.0, 2.1, 1.0, 1.1, 1.0, 1.05]})
    ax = plots.plot_contacts(SimpleNamespace(by_band_=t, period="M"))
    assert len({line.get_marker() for line in ax.lines}) == 3
    importance = pd.DataFrame({"driver": ["plan", "region"], "share": [0.6, 0.4], "lower": [0.1, 0.1],
                               "upper": [0.3, 0.2], "distinguishable": [True, True], "sign": ["by level"] * 2})
    drivers = SimpleNamespace(importance_=importance, r_squared_={"value": 0.4}, score_="nps")
    ax = plots.plot_drivers(drivers)
    legend = ax.get_legend() or ax.figure.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == ["distinguishable from no effect"]
