"""Audience slices: tables follow the slice, slice vs everyone, small bands suppressed, audience focus."""

from __future__ import annotations

import warnings

import pytest

from cxkit.errors import CxkitWarning, ParamsError
from cxkit.leadership import LeadershipAnalysis
from cxkit.load import load
from cxkit.narrative import summary
from cxkit.synth import write


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return load(write(tmp_path_factory.mktemp("slices"), n_customers=6000, seed=31))


def test_subset_filters_every_table(data):
    west = data.subset({"region": "West"})
    n = west.sql("SELECT count(*) FROM customers").fetchall()[0][0]
    assert 0 < n < data.row_counts["customers"] and west.row_counts["customers"] == n
    orphan = west.sql("SELECT count(*) FROM responses WHERE customer_id NOT IN (SELECT customer_id FROM customers)")
    assert orphan.fetchall()[0][0] == 0
    assert west.parent is data and data.subset(None) is data
    two = data.subset({"region": ["West", "East"], "plan": "Pro"})
    assert two.sql("SELECT DISTINCT plan FROM customers").fetchall() == [("Pro",)]


@pytest.mark.parametrize("bad, message", [({"colour": "red"}, "not a segment column"),
                                          ({"region": "Atlantis"}, r"no customer has \['Atlantis'\]")])
def test_bad_slices_name_the_key(data, bad, message):
    with pytest.raises(ParamsError, match=message):
        data.subset(bad)


def test_slice_against_everyone_and_focus(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CxkitWarning)
        a = LeadershipAnalysis(n_boot=20, focus="region").fit(data.subset({"region": "West"}))
    table = a.slice_comparison_.set_index("measure")
    assert {"band", "this slice", "everyone", "small"} == set(table.columns)
    assert table.loc["customers who answered", "this slice"] < table.loc["customers who answered", "everyone"]
    first = summary(a)[0]
    assert first.startswith("West's NPS is") and "everyone's is" in first  # by its own name
    assert "the other customers" in first  # compared with the rest: two independent groups
    assert sum("NPS is" in s for s in summary(a)) == 1  # the slice NPS is stated once
    assert "region" not in " ".join(a.cox_.summary.index)  # the slice's own column is not a driver
    west = table.loc["customers who answered", "this slice"]
    assert int(west) == a.data_.sql("SELECT count(DISTINCT customer_id) FROM responses").fetchall()[0][0]


def test_small_bands_are_suppressed_not_shown(data):
    small = data.subset({"region": "West", "plan": "Pro"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CxkitWarning)
        a = LeadershipAnalysis(n_boot=20).fit(small)
    assert a.small_bands_, "a West-and-Pro slice has bands under 30 customers"
    text = " ".join(summary(a))
    for band in a.small_bands_:
        assert f"Too few {band}s here" in text
    assert "times as fast as" not in text or not {a.low_, a.mid_} & a.small_bands_
    assert a.slice_comparison_["small"].any()
    from cxkit.report import _slice_table

    assert (_slice_table(a)["this audience"] == "too few").any()
    from cxkit.narrative import method_notes

    notes = " ".join(method_notes(a))  # no band here has 50 customers to follow: its value is the fitted tail's
    assert (a.ltv_.summary["observed_months"] == 0).any() and "after 0 months" not in notes
    assert f"fewer than {a.ltv_.min_at_risk} customers to follow, so its whole curve is an assumption" in notes


def test_care_focus_leads_with_complaints_then_contacts(data):
    from cxkit.narrative import summary_parts

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CxkitWarning)
        a = LeadershipAnalysis(n_boot=20, focus="care", period="Q").fit(data)
    parts, lines = summary_parts(a), summary(a)
    contacts = lines.index(parts["contacts"])
    assert "contacted care" in lines[contacts] and "per customer in the quarter" in lines[contacts]
    if "why" in parts:  # what goes with leaving comes first, where the data can tell it from no effect
        assert lines[0] == parts["why"] and "complaint" in lines[0] and contacts == 1
    else:
        assert contacts == 0


def test_sample_quarter_renders_in_one_batch(tmp_path):
    """params/quarter.yaml: one report per region plus product and care, from one file in one batch call."""
    from cxkit.paths import PARAMS_DIR
    from cxkit.render.batch import batch
    from cxkit.report import demo_data

    demo_data()
    items = batch([PARAMS_DIR / "quarter.yaml"], tmp_path / "reports", jobs=2, pdf=False)
    assert len(items) == 6 and all(it.ok for it in items), [it.short_error for it in items if not it.ok]
    assert (tmp_path / "reports" / "index.html").exists()
