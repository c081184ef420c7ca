"""frames: the answers joined to their customers once (``answer_spells``) give what the joins gave."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from cxkit.errors import CxkitWarning
from cxkit.frames import answer_spells, drop_ltv_frame, ltv_frame, nps_counts_by, spells_table, survival_frame
from cxkit.load import load
from cxkit.synth import write
from cxkit.trends import NPSTrend


@pytest.fixture(scope="module")
def params(tmp_path_factory):
    """Synthetic data with the answers' hard cases added: two answers on one day (the first and the latest of a
    day are picked by score) and answers on the as-of date (a spell of no length, dropped unless it ends in
    churn)."""
    folder = tmp_path_factory.mktemp("frames")
    path = write(folder, n_customers=4_000, seed=7)
    responses = pd.read_parquet(folder / "responses.parquet")
    customers = pd.read_parquet(folder / "customers.parquet")
    as_of = pd.Timestamp(load(path).as_of)
    twice = responses.drop_duplicates("customer_id").head(300).assign(nps=lambda r: (r["nps"] + 5) % 11)
    active = customers.loc[customers["end_date"].isna(), "customer_id"].head(40)
    today = pd.DataFrame({"customer_id": active, "response_date": as_of, "nps": 3})
    extra = pd.concat([twice, today], ignore_index=True)
    pd.concat([responses, extra], ignore_index=True).to_parquet(folder / "responses.parquet", index=False)
    return path


def _fresh(params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CxkitWarning)
        return load(params)


def _rows(rel):
    return rel.query("f", "SELECT * FROM f ORDER BY ALL").fetchall()


def test_the_spells_make_the_answer_table_and_read_it(params):
    data = _fresh(params)
    assert answer_spells(data, "nps") is None  # nothing is made by asking
    spells = spells_table(data)
    assert answer_spells(data, "nps") == "_spells_nps"
    dropped, firsts, answered = data.sql("SELECT count(*) FILTER (WHERE NOT _keep), count(*) FILTER (WHERE _first), "
                                         "count(DISTINCT customer_id) FROM _spells_nps").fetchone()
    assert dropped > 0 and firsts == answered  # the hard cases are there; one first answer per customer
    fresh = survival_frame(_fresh(params), relation=True)
    assert spells.columns == fresh.columns and _rows(spells) == _rows(fresh)
    assert spells_table(data).query("f", "SELECT count(*) FROM f").fetchall() == [(len(_rows(fresh)),)]


@pytest.mark.parametrize("segment, cuts", [("band", None), ("score", None), ("plan", None),
                                           ("band", [(0, 4, "low"), (5, 8, "mid"), (9, 10, "high")])])
def test_the_ltv_frame_from_the_answer_table_is_the_joined_one(params, segment, cuts):
    data, fresh = _fresh(params), _fresh(params)
    spells_table(data)
    ours = ltv_frame(data, segment=segment, cuts=cuts, relation=True)
    theirs = ltv_frame(fresh, segment=segment, cuts=cuts, relation=True)
    assert ours.columns == theirs.columns
    assert _rows(ours) == _rows(theirs)
    drop_ltv_frame(data)
    drop_ltv_frame(fresh)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CxkitWarning)
        frame = ltv_frame(data, segment=segment, cuts=cuts)
        pd.testing.assert_frame_equal(frame, ltv_frame(fresh, segment=segment, cuts=cuts))


@pytest.mark.parametrize("options", [{}, {"window_months": None}, {"active_only": False, "window_months": 6}])
def test_the_headline_counts_from_the_answer_table_are_the_joined_ones(params, options):
    data, fresh = _fresh(params), _fresh(params)
    spells_table(data)
    for columns in ([], ["plan"], list(data.segments)):
        ours, theirs = nps_counts_by(data, columns, **options), nps_counts_by(fresh, columns, **options)
        assert ours.keys() == theirs.keys()
        for key in theirs:
            pd.testing.assert_frame_equal(ours[key], theirs[key])


def test_the_trend_mix_from_the_answer_table_is_the_joined_one(params):
    data, fresh = _fresh(params), _fresh(params)
    spells_table(data)
    ours, adjust = NPSTrend("M")._mix_cells(data)
    theirs, same = NPSTrend("M")._mix_cells(fresh)
    assert adjust == same and "tenure" in adjust
    keys = list(theirs.columns)
    pd.testing.assert_frame_equal(ours.sort_values(keys, ignore_index=True),
                                  theirs.sort_values(keys, ignore_index=True))
    pd.testing.assert_frame_equal(NPSTrend("M").fit_data(data).table, NPSTrend("M").fit_data(fresh).table)


def test_a_slice_makes_its_own_answer_table(params):
    """A slice (its own connection) never reads the whole data's answer table: its LTV frame is its own."""
    data = _fresh(params)
    spells_table(data)
    plan = data.sql("SELECT plan FROM customers ORDER BY customer_id LIMIT 1").fetchone()[0]
    part = data.subset({"plan": plan})
    assert answer_spells(part, "nps") is None
    spells_table(part)
    ours = ltv_frame(part, relation=True).query("f", "SELECT count(*) FROM f").fetchone()
    drop_ltv_frame(part)
    alone = _fresh(params).subset({"plan": plan})
    assert ours == ltv_frame(alone, relation=True).query("f", "SELECT count(*) FROM f").fetchone()
    assert ours < ltv_frame(data, relation=True).query("f", "SELECT count(*) FROM f").fetchone()
