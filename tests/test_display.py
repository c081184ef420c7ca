"""Issue 32: every result object a notebook shows has a short text repr and an HTML repr that says what it holds
and what to read next; an object not fitted yet says so."""

from __future__ import annotations

import warnings

import pytest

from cxkit.contacts import ContactRates
from cxkit.drivers import DepartureStory, ExperienceHazards, KeyDrivers, TouchpointImpact
from cxkit.leadership import LeadershipAnalysis
from cxkit.ledger import CustomerLedger
from cxkit.ltv import SegmentLTV
from cxkit.survival import CoxModel, CumulativeIncidence, SegmentSurvival
from cxkit.trends import NPSTrend

UNFITTED = [LeadershipAnalysis(), SegmentLTV(), SegmentSurvival(), CoxModel(), CumulativeIncidence(), KeyDrivers(),
            TouchpointImpact(), ExperienceHazards(), DepartureStory(), ContactRates(), CustomerLedger(), NPSTrend()]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    from cxkit.load import load
    from cxkit.synth import write

    folder = tmp_path_factory.mktemp("display")
    write(folder, n_customers=2000, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = load({"data": {t: str(folder / f"{t}.parquet") for t in ("customers", "responses", "revenue",
                                                                         "contacts")}}, base_dir=folder)
        return LeadershipAnalysis(n_boot=10).fit(data)


@pytest.mark.parametrize("obj", UNFITTED, ids=lambda o: type(o).__name__)
def test_an_unfitted_object_says_so_and_names_the_call_that_fits_it(obj):
    assert repr(obj).startswith(type(obj).__name__ + "(") and repr(obj).endswith("# unfitted")
    page = obj._repr_html_()
    assert "Not fitted yet: call <code>.fit" in page and type(obj).__name__ in page


def test_every_result_of_the_analysis_says_what_it_holds_in_a_line(fitted):
    shown = {k: getattr(fitted, k) for k in LeadershipAnalysis.RESULTS if k != "nps_"}
    shown = {k: v for k, v in shown.items() if v is not None}
    assert len(shown) >= 11  # all but the audience (no slice here)
    for name, result in shown.items():
        text = repr(result)
        assert text.startswith(type(result).__name__ + "(") and "object at 0x" not in text, name
        assert "\n" not in text and len(text) <= 160, (name, text)
        assert "# unfitted" not in text, name
        page = result._repr_html_()
        assert "Read next: <code>." in page and "<table" in page, name
    assert "detractor, passive, promoter" in repr(fitted.km_) and "events" in repr(fitted.cox_)
    assert "customers left" in repr(fitted.departures_) and "periods" in repr(fitted.ledger_)


def test_the_analysis_maps_every_attribute_it_holds(fitted):
    table = fitted.attribute_map()
    held = {k for k in vars(fitted) if k.endswith("_")}
    assert held <= set(table["attribute"]), f"not on the map: {held - set(table['attribute'])}"
    assert list(table["group"].unique()) == ["results", "headline numbers", "settings as resolved", "checks",
                                             "data and slices", "engine"]
    assert not table.loc[table["attribute"] == "audience_", "available"].item()
    text = repr(fitted)
    assert "customers answered" in text and "ltv_" in text and ".attribute_map()" in text and len(text) < 300
    page = fitted._repr_html_()
    for group in ("Headline numbers", "Settings as resolved", "Checks", "Data and slices"):
        assert f"<b>{group}</b>" in page
    assert "<code>score_auc_</code>" in page and "Read next: <code>.attribute_map()</code>" in page


def test_the_data_shows_its_tables_never_its_connection(fitted):
    data = fitted.data_
    text = repr(data)
    assert "DuckDB" not in text and "0x" not in text and "Source(" not in text
    assert text.startswith("CXData(dated, as of 2026-09-30: customers 2,000, responses ") and len(text) < 250
    page = data._repr_html_()
    assert "DuckDBPyConnection" not in page and "customers.parquet" in page and "<td>revenue</td>" in page
    assert "Read next" in page and "subset(" in page
