"""The driver frame's answers as counted patterns (``driver_frame(relation="patterns")``): the compiled pass gives
exactly the SQL frame's ``GROUP BY ALL count(*)``, and key drivers and touchpoints read the patterns as the answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import cxkit.drivers.patterns as patterns
from cxkit.drivers import KeyDrivers, TouchpointImpact, driver_frame
from cxkit.drivers.frame import ANSWER_COUNT, answers_in, drop_answers_table, frame_drivers
from cxkit.load import load
from cxkit.synth import generate

from .conftest import write_case


def _tables(seed: int = 11) -> dict:
    """Synthetic tables with the window's edge cases planted: contacts on the answer's day (not counted) and
    ``window_days`` before it (counted), several contacts and answers on one day, a repeat contact whose
    previous contact is long before the answer's window, contacts without a cost, answers without
    CSAT or effort, and customers without a plan."""
    tables = {k: v.copy() for k, v in generate(n_customers=1_200, seed=seed)[0].items()}
    c, k, r = tables["customers"], tables["contacts"], tables["responses"].astype({"csat": "Int64", "effort": "Int64"})
    day = pd.Timedelta(days=1)
    a = r.iloc[:6]
    ids, when = a["customer_id"].to_numpy(), a["response_date"].to_numpy()
    extra_k = [
        {"customer_id": ids[0], "date": when[0], "kind": "call", "cost": 3.5},  # the answer's day: not counted
        {"customer_id": ids[0], "date": when[0] - 90 * day, "kind": "complaint", "cost": 2.25},  # the window's edge
        {"customer_id": ids[0], "date": when[0] - 91 * day, "kind": "chat", "cost": 1.0},  # one day before it
        {"customer_id": ids[1], "date": when[1] - 3 * day, "kind": "email", "cost": 1.0},  # two on one day
        {"customer_id": ids[1], "date": when[1] - 3 * day, "kind": "call", "cost": 0.5},
        {"customer_id": ids[2], "date": when[2] - 95 * day, "kind": "call", "cost": 1.0},  # the previous contact,
        {"customer_id": ids[2], "date": when[2] - 89 * day, "kind": "chat", "cost": None},  # out of the window
        {"customer_id": ids[3], "date": when[3] - 10 * day, "kind": "call", "cost": None}]
    extra_r = [{"customer_id": ids[4], "response_date": when[4], "nps": s, "csat": pd.NA, "effort": pd.NA}
               for s in (0, 6, 10)]  # three answers on one day, without CSAT
    tables["contacts"] = pd.concat([k, pd.DataFrame(extra_k).astype({"kind": k["kind"].dtype})], ignore_index=True)
    tables["responses"] = pd.concat([r, pd.DataFrame(extra_r).astype(r.dtypes.to_dict())], ignore_index=True)
    tables["responses"].loc[tables["responses"].index[::9], "csat"] = pd.NA
    tables["customers"]["plan"] = c["plan"].astype(object)
    tables["customers"].loc[c.index[::30], "plan"] = None
    for name, day_col in (("customers", "signup_date"), ("responses", "response_date"), ("contacts", "date")):
        tables[name] = tables[name].sort_values(["customer_id", day_col], kind="stable", ignore_index=True)
    return tables


def _grouped(data, score=None) -> pd.DataFrame:
    """The SQL frame's answers grouped (what the patterns must be), sorted."""
    query = driver_frame(data, relation=True, score=score).sql_query()
    cols = [c for c in data.sql(query).columns if c not in ("customer_id", "response_date")]
    got = data.sql(f"SELECT {', '.join(cols)}, count(*) AS {ANSWER_COUNT} FROM ({query}) GROUP BY ALL")
    return got


def _sorted(rel) -> pd.DataFrame:
    frame = rel.df()
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


@pytest.mark.parametrize("variant", ["edges", "csat", "unordered", "no_cost", "no_contacts", "text_ids", "audience",
                                     "audience_copied", "audience_of_unordered"])
def test_compiled_patterns_are_the_sql_frame_grouped(tmp_path, monkeypatch, variant):
    """The compiled pass (batches of 50 rows: customers cut across batches) counts each answer's pattern as the
    SQL frame does; tables not stored in id order are counted a range of ids at a time (ranges of about 40 answers),
    ids that are not integers by the SQL; an audience's (a slice of the data, on its own connection) alike: its
    customers with the whole data's answers and contacts, in id order (no ranges), or, copied into memory, its
    own copies."""
    tables, score = _tables(), "csat" if variant == "csat" else None
    if variant in ("unordered", "audience_of_unordered"):
        tables = {n: t.sample(frac=1, random_state=2) for n, t in tables.items()}
    elif variant == "no_cost":
        tables["contacts"] = tables["contacts"].drop(columns="cost")
    elif variant == "no_contacts":
        del tables["contacts"]
    elif variant == "text_ids":
        tables = {n: t.assign(customer_id="c" + t["customer_id"].astype(str)) for n, t in tables.items()}
    data = load(write_case(tmp_path / variant, tables, "parquet"))
    if variant.startswith("audience"):
        data = data.subset({"region": "North"}, copy=variant == "audience_copied")
    monkeypatch.setattr(patterns, "_BATCH", 50)
    monkeypatch.setattr(patterns, "ANSWERS_PER_GROUP", 40)
    ranges, real = [], patterns._groups
    monkeypatch.setattr(patterns, "_groups", lambda *a: ranges.append(real(*a)) or ranges[-1])
    kinds = {"call": "call_contacts"} if variant != "no_contacts" else {}
    compiled = patterns.compiled_patterns(data, score or "nps", ["csat"] if score is None else ["nps"], ["plan"],
                                          kinds, variant != "no_cost" and variant != "no_contacts", 90, 7)
    assert (compiled is None) == (variant == "text_ids")
    if variant in ("unordered", "audience_of_unordered"):
        assert len(ranges[0]) > (5 if variant == "unordered" else 2)
    elif variant != "audience_copied":  # (copies of an audience's rows, picked by a join, may come in any order)
        assert not ranges
    try:
        got = driver_frame(data, relation="patterns", score=score)
        want = _grouped(data, score)
        assert got.columns == want.columns and got.types == want.types
        pd.testing.assert_frame_equal(_sorted(got), _sorted(want))
        assert answers_in(got) == len(driver_frame(data, score=score))
        assert ANSWER_COUNT not in frame_drivers(got, score or "nps")
    finally:
        drop_answers_table(data)
    assert not data.sql("SELECT * FROM duckdb_tables() WHERE table_name = '_driver_answers'").fetchall()
    assert not data.sql("SELECT * FROM duckdb_views() WHERE view_name = '_driver_answers'").fetchall()
    table = driver_frame(data, relation="table", score=score)  # the answers in its place, and the patterns again
    assert answers_in(table) == table.aggregate("count(*)").fetchone()[0] == answers_in(want)
    assert answers_in(driver_frame(data, relation="patterns", score=score)) == answers_in(want)
    drop_answers_table(data)


@pytest.mark.parametrize("variant", ["ordered", "unordered"])
def test_counting_beside_the_reading_gives_the_same_patterns(tmp_path, monkeypatch, variant):
    """Where there is room (two cores, DuckDB on two threads or more) each chunk is counted in a thread while the
    next is read; without room, in turn. Both give the same patterns, and the threaded counts ran off the main
    thread (chunks of 50 rows, so many of them; unordered tables by ranges of ids)."""
    import threading

    tables = _tables()
    if variant == "unordered":
        tables = {n: t.sample(frac=1, random_state=3) for n, t in tables.items()}
    data = load(write_case(tmp_path, tables, "parquet"))
    monkeypatch.setattr(patterns, "_BATCH", 50)
    monkeypatch.setattr(patterns, "ANSWERS_PER_GROUP", 40)
    where, real = [], patterns._count

    def count(*args):
        where.append(threading.current_thread() is threading.main_thread())
        return real(*args)

    monkeypatch.setattr(patterns, "_count", count)
    got = {}
    for beside in (False, True):
        monkeypatch.setattr(patterns, "room_beside", lambda con, b=beside: b)
        where.clear()
        table = patterns.compiled_patterns(data, "nps", ["csat"], ["plan"], {"call": "call_contacts"}, True, 90, 7)
        assert len(where) > 10 and set(where) == {not beside}
        got[beside] = table.to_pandas().pipe(lambda f: f.sort_values(list(f.columns)).reset_index(drop=True))
    pd.testing.assert_frame_equal(got[True], got[False])
    answers = data.sql("SELECT count(*) FROM responses WHERE nps IS NOT NULL").fetchone()[0]
    assert got[True][ANSWER_COUNT].sum() == answers


def test_an_audience_of_loaded_data_reads_the_whole_datas_answers_and_a_stores_or_a_copy_its_own(tmp_path):
    """Which rows each of the pass's three streams reads: everyone's own; a large audience of loaded data (views
    picking rows by a join) its customers with the whole data's answers and contacts; an audience copied into
    memory, or of a batch's store, or with fewer answers than one range holds, its own."""
    from cxkit.store import AnalysisStore

    data = load(write_case(tmp_path / "case", _tables(), "parquet"))

    def answers(d, per_group=40):
        cursors = patterns._cursors(d, per_group)
        try:
            return [c.execute("SELECT count(*) FROM responses").fetchone()[0] for c in cursors]
        finally:
            for c in cursors:
                c.close()

    everyone = data.row_counts["responses"]
    north = data.subset({"region": "North"}, copy=False)
    mine = north.row_counts["responses"]
    assert 40 < mine < everyone
    assert answers(data) == [everyone] * 3
    assert answers(north) == [mine, everyone, everyone]
    assert answers(north, per_group=mine) == [mine] * 3
    copied = data.subset({"region": "North"}, copy=True)
    assert copied.copied and not north.copied and not data.copied
    assert answers(copied) == [mine] * 3
    stored = AnalysisStore.build(data, tmp_path / "store", "k", [], cluster_by=["region"]).data()
    assert answers(stored.subset({"region": "North"}, copy=False)) == [mine] * 3


def test_patterns_counted_in_a_warehouse_are_those_of_the_files(tmp_path):
    """A warehouse groups the SQL frame where the rows are: the same patterns as the compiled pass."""
    pytest.importorskip("ibis")
    import duckdb

    from cxkit.report import load_data

    tables = _tables()
    path = write_case(tmp_path / "files", tables, "parquet").parent
    lake = tmp_path / "lake.duckdb"
    con = duckdb.connect(str(lake))
    for t in tables:
        con.execute(f"CREATE TABLE {t} AS SELECT * FROM read_parquet('{path / t}.parquet')")
    con.close()
    local = load(path / "params.yaml")
    remote, _ = load_data({t: {"ibis": f"duckdb://{lake}?read_only=true", "table": t} for t in tables},
                          "2026-09-30")
    assert remote.engine == "warehouse"
    try:
        got, want = driver_frame(remote, relation="patterns"), driver_frame(local, relation="patterns")
        a, b = got.df(), want.df()
        assert list(a.columns) == list(b.columns)
        a, b = (f.sort_values(list(f.columns)).reset_index(drop=True) for f in (a, b))
        pd.testing.assert_frame_equal(a, b, check_dtype=False)
    finally:
        drop_answers_table(remote), drop_answers_table(local)


@pytest.mark.parametrize("score", ["nps", "csat"])
def test_key_drivers_and_touchpoints_read_the_patterns_as_the_answers(tmp_path, score):
    """The same weights, coefficients, R² and intervals (the same seed), and the same touchpoints, from the
    patterns (as a relation or a DataFrame) as from the answers, the drivers chosen or named."""
    data = load(write_case(tmp_path / "case", _tables(), "parquet"))
    answers = driver_frame(data, relation=True, score=score)
    outcomes = [score, "detractor"] if score == "nps" else [score]  # (few low CSAT answers: the logistic separates)
    try:
        pats = driver_frame(data, relation="patterns", score=score)
        assert len(pats.df()) < answers_in(pats) == answers_in(answers) == len(driver_frame(data, score=score))
        for counted in (pats, pats.df()):
            for outcome in outcomes:
                for drivers in (None, ["plan", "tenure_months", "call_contacts", "complaint_contacts"]):
                    a = KeyDrivers(outcome=outcome, score=score, n_boot=25, seed=4).fit(answers, drivers)
                    b = KeyDrivers(outcome=outcome, score=score, n_boot=25, seed=4).fit(counted, drivers)
                    pd.testing.assert_frame_equal(a.importance_, b.importance_)
                    pd.testing.assert_frame_equal(a.coefficients_, b.coefficients_)
                    assert a.r_squared_ == b.r_squared_ and a.notes_ == b.notes_
                    assert (a.n_, a.patterns_) == (b.n_, b.patterns_)
            exps = ["complaint_contacts", "call_contacts", "repeat_contacts"]
            pd.testing.assert_frame_equal(TouchpointImpact(score=score).fit(answers, exps).summary,
                                          TouchpointImpact(score=score).fit(counted, exps).summary)
    finally:
        drop_answers_table(data)


def test_answer_count_is_not_a_driver():
    frame = pd.DataFrame({"nps": [9, 3, 7, 10], "detractor": [0, 1, 0, 0], "calls": [0, 2, 1, 0],
                          ANSWER_COUNT: [3, 1, 2, 5]})
    assert frame_drivers(frame) == ["calls"]
    with pytest.raises(Exception, match="not a driver"):
        KeyDrivers(n_boot=0).fit(frame, ["calls", ANSWER_COUNT])
    rows = frame.loc[frame.index.repeat(frame[ANSWER_COUNT])].drop(columns=ANSWER_COUNT)
    kd = KeyDrivers(n_boot=0).fit(frame)
    assert kd.n_ == answers_in(frame) == len(rows) == 11
    assert kd.importance_["weight"].to_numpy() == pytest.approx(KeyDrivers(n_boot=0).fit(rows).importance_[
        "weight"].to_numpy(), rel=1e-12)
    assert np.isfinite(kd.r_squared_["value"])
