"""The analysis store of a batch: validated once, read by every audience, with the same numbers as alone.

Also the hierarchy of audiences: a team is compared with its region (its parent) and with everyone.
"""

from __future__ import annotations

import json
import os
import warnings

import pytest
import yaml

from cxkit.errors import CxkitWarning, ParamsError
from cxkit.leadership import LeadershipAnalysis
from cxkit.load import load
from cxkit.narrative import summary
from cxkit.render.audiences import expand_audiences
from cxkit.render.stores import effective_params, key_of, open_or_build
from cxkit.store import AnalysisStore, store_key
from cxkit.synth import write


@pytest.fixture(scope="module")
def params_file(tmp_path_factory):
    return write(tmp_path_factory.mktemp("store"), n_customers=5000, seed=11)


@pytest.fixture(scope="module")
def store(params_file, tmp_path_factory):
    raw = yaml.safe_load(params_file.read_text())
    data_spec = {t: str(params_file.parent / p) for t, p in raw["data"].items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CxkitWarning)
        data = load({"data": data_spec, "as_of": raw["as_of"]})
    folder = tmp_path_factory.mktemp("stores")
    built = AnalysisStore.build(data, folder, "k", ["a load warning, kept for the report's notes"],
                                cluster_by=["region", "plan"])
    return built, data


def _fit(data, **settings):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CxkitWarning)
        return LeadershipAnalysis(n_boot=20, **settings).fit(data)


def test_the_store_holds_the_validated_tables_and_repeats_the_load_warnings(store):
    built, data = store
    with pytest.warns(CxkitWarning, match="a load warning, kept"):
        again = built.data()
    assert again.row_counts == data.row_counts and again.columns == data.columns
    assert (again.mode, again.as_of, again.segments, again.scores, again.min_segment_size) == (
        data.mode, data.as_of, data.segments, data.scores, data.min_segment_size)
    assert {t: s.fingerprint() for t, s in again.sources.items()} == {t: s.fingerprint()
                                                                     for t, s in data.sources.items()}
    assert again.store is built and again.subset({"region": "West"}).store is built
    for table in data.tables:
        query = f"SELECT * FROM {table} ORDER BY ALL"
        assert again.sql(query).fetchall() == data.sql(query).fetchall()


@pytest.mark.parametrize("slice_by", [{"region": "East"}, {"region": "East", "plan": "Pro"},
                                      {"plan": "Basic"}, {"region": ["North", "West"]}])
def test_an_audience_read_from_the_store_says_what_it_says_alone(store, slice_by):
    """In the store's audience order (by region, then plan) or across it (a plan, two regions)."""
    built, data = store
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CxkitWarning)
        from_store = built.data().subset(slice_by)
    alone, shared = _fit(data.subset(slice_by)), _fit(from_store)
    assert summary(shared) == summary(alone)
    assert shared.slice_comparison_.equals(alone.slice_comparison_)
    for table in data.tables:
        query = f"SELECT * FROM {table} ORDER BY ALL"
        assert from_store.sql(query).fetchall() == data.subset(slice_by).sql(query).fetchall()


def test_each_audience_is_one_stretch_of_the_store(store):
    """Rows are stored in the audiences' order, so an audience's rows of every table lie together and a
    slice reads only that stretch (DuckDB skips the row groups outside it); the position column stays
    hidden from the kit."""
    from cxkit.store import POSITION

    built, data = store
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CxkitWarning)
        everyone = built.data()
    assert POSITION not in [r[0] for r in everyone.sql("DESCRIBE customers").fetchall()]
    for table in data.tables:  # each stored table is in position order
        positions = [r[0] for r in everyone.con.execute(
            f"SELECT {POSITION} FROM cxstore.{table} ORDER BY rowid").fetchall()]
        assert positions == sorted(positions, key=lambda p: (p is None, p))
    for region, plan in everyone.sql("SELECT DISTINCT region, plan FROM customers").fetchall():
        for slice_by in ({"region": region}, {"region": region, "plan": plan}):
            where = " AND ".join(f"{column} = '{value}'" for column, value in slice_by.items())
            sources = built.slice_sources(everyone.con, where)
            low, high, n = everyone.con.execute(
                f"SELECT min({POSITION}), max({POSITION}), count(*) FROM cxstore.customers WHERE {where}").fetchone()
            assert high - low + 1 == n  # its customers, and no one else, in one stretch
            sliced = data.subset(slice_by)
            for table in data.tables:  # the stretch of each table holds exactly the audience's rows
                assert everyone.sql(f"SELECT count(*) FROM {sources[table]}").fetchone()[0] == sliced.row_counts[table]


def test_a_store_in_another_order_is_rewritten_without_validating_again(params_file, tmp_path, monkeypatch):
    import cxkit.load

    raw = yaml.safe_load(params_file.read_text())
    plan = effective_params({"notebook": "01-leadership-report", "as_of": raw["as_of"], "slice_by": {"region": "West"},
                             "data": {t: str(params_file.parent / p) for t, p in raw["data"].items()},
                             "_base_dir": str(tmp_path)}, "p")
    first = open_or_build(plan[1], tmp_path, ["region"])
    assert first.cluster_by == ["region"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CxkitWarning)
        before = first.data()
    rows = {t: before.sql(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in before.tables}
    before.close()

    def no_validation(*args, **kwargs):
        raise AssertionError("validated the data again")

    monkeypatch.setattr(cxkit.load, "load", no_validation)
    assert open_or_build(plan[1], tmp_path, ["region"]).cluster_by == ["region"]  # opened as it is
    assert open_or_build(plan[1], tmp_path).cluster_by == ["region"]  # no order asked for: any will do
    again = open_or_build(plan[1], tmp_path, ["plan", "region"])
    assert again.path == first.path and again.cluster_by == ["plan", "region"]
    assert again.meta_["warnings"] == first.meta_["warnings"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CxkitWarning)
        after = again.data()
    assert {t: after.sql(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in after.tables} == rows
    plain = open_or_build(plan[1], tmp_path, [])  # no audiences: the rows as they came, read whole
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CxkitWarning)
        west = plain.data().subset({"region": "West"})
    assert plain.cluster_by == [] and plain.slice_sources(west.con, "region = 'West'") is None
    assert west.row_counts == after.subset({"region": "West"}).row_counts


def test_a_small_slice_of_the_store_is_copied_once_into_memory(store):
    """An audience's report queries its slice many times: from a store, the slice's rows are copied once
    (tables, not views over the whole store); ``copy=False`` (the preflight's check) copies nothing."""
    built, _ = store

    def copied(data):
        return sorted(r[0] for r in data.con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name LIKE 'slice_%'").fetchall())

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CxkitWarning)
        checked = built.data().subset({"region": "East"}, copy=False)
        east = built.data().subset({"region": "East"})
    assert copied(checked) == []
    assert copied(east) == sorted(f"{t}_rows" for t in east.tables)
    assert {t: east.sql(f"SELECT count(*) FROM {t}").fetchone()[0] for t in east.tables} == east.row_counts


def test_a_team_is_compared_with_its_region_and_everyone(store):
    built, data = store
    region = data.subset({"region": "North"})
    team = region.subset({"region": "North", "plan": "Basic"})
    assert team.parent is region and region.parent is data
    a = _fit(team)
    assert a.parent_slice_ == {"region": "North"}
    table = a.slice_comparison_
    assert list(table.columns) == ["measure", "band", "this slice", "parent", "everyone", "small"]
    helper = LeadershipAnalysis(n_boot=20).resolve(team)
    for column, population in (("parent", region), ("everyone", data)):
        expected = helper.population_numbers(population)
        assert table.loc[table["measure"] == "customers who answered", column].item() == expected["answered"]
        still = table[table["measure"] == "still a customer"].set_index("band")[column]
        assert still.to_dict() == pytest.approx(expected["still"])
    rest = [helper.population_numbers(region)["nps_counts"][b] - int(a.nps_counts_[b])
            for b in ("detractors", "passives", "promoters")]
    assert a.slice_difference_["difference"] == pytest.approx(
        a.nps_["nps"] - 100 * (rest[2] - rest[0]) / sum(rest))  # against the region's other customers
    text = " ".join(summary(a))
    assert "for Region: North it is" in text and "for everyone" in text
    from cxkit.report import _slice_table

    assert list(_slice_table(a).columns) == ["measure", "this audience", "Region: North", "everyone"]


def test_population_numbers_come_from_the_store_when_it_has_them(store, monkeypatch):
    built, data = store
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CxkitWarning)
        everyone = built.data()
    helper = LeadershipAnalysis(n_boot=20).resolve(everyone)
    built.add_numbers({helper.population_key(everyone): helper.population_numbers(everyone)})
    alone = _fit(data.subset({"region": "South"}))

    def not_again(self, population):
        raise AssertionError("recomputed a population the store holds")

    monkeypatch.setattr(LeadershipAnalysis, "population_numbers", not_again)
    shared = _fit(everyone.subset({"region": "South"}))
    assert shared.slice_comparison_.equals(alone.slice_comparison_)
    other = LeadershipAnalysis(n_boot=20, horizon_months=36).resolve(everyone)
    assert built.numbers(other.population_key(everyone)) is None  # other settings, other numbers


def test_the_store_key_follows_the_inputs_and_settings(params_file, tmp_path):
    raw = yaml.safe_load(params_file.read_text())
    spec = {t: str(params_file.parent / p) for t, p in raw["data"].items()}
    key = store_key(spec, "2026-09-30", 30)
    assert key == store_key(spec, "2026-09-30", 30)
    assert key != store_key(spec, "2026-06-30", 30) and key != store_key(spec, "2026-09-30", 50)
    copy = tmp_path / "customers.parquet"
    copy.write_bytes((params_file.parent / raw["data"]["customers"]).read_bytes())
    moved = {**spec, "customers": str(copy)}
    before = store_key(moved, "2026-09-30", 30)
    os.utime(copy, ns=(1, 1))  # the file changed (as far as its modified time says)
    assert store_key(moved, "2026-09-30", 30) != before


def test_a_hierarchy_expands_with_each_audience_s_parent(params_file, tmp_path):
    raw = yaml.safe_load(params_file.read_text())
    spec = {"notebook": "01-leadership-report", "title": "{label}", "as_of": raw["as_of"],
            "data": {t: str(params_file.parent / p) for t, p in raw["data"].items()},
            "audiences": {"by": "region > plan", "min_customers": 100}}
    path = tmp_path / "teams.yaml"
    path.write_text(yaml.safe_dump(spec))
    files, _ = expand_audiences(path, tmp_path / "out")
    expanded = {f.stem: yaml.safe_load(f.read_text()) for f in files}
    assert expanded["region-west"]["slice_by"] == {"region": "West"} and "parent_slice" not in expanded["region-west"]
    team = expanded["region-west-plan-basic"]
    assert team["slice_by"] == {"region": "West", "plan": "Basic"} and team["parent_slice"] == {"region": "West"}
    assert team["title"] == "West / Basic"
    assert len(list((tmp_path / "out" / ".store").glob("*.duckdb"))) == 1  # validated once, into the store
    plan = effective_params({**team, "_base_dir": str(tmp_path)}, "team")
    assert (tmp_path / "out" / ".store" / f"{key_of(plan[1])}.duckdb").is_file()  # every audience's key
    assert open_or_build(plan[1], tmp_path / "out").path.parent == tmp_path / "out" / ".store"


@pytest.mark.parametrize("audiences, message", [
    ({"by": "region > "}, "a level is empty"),
    ({"by": "region > country"}, "'country' is not a segment column"),
    ({"by": "region", "extra": [{"run_name": "region-west", "audience": "Care"}]},
     "would both render into 'region-west'"),
])
def test_a_mistake_in_the_audiences_writes_no_audience(params_file, tmp_path, audiences, message):
    """Every level and run name is checked before any audience's params file is written."""
    raw = yaml.safe_load(params_file.read_text())
    spec = {"notebook": "01-leadership-report", "title": "{label}", "as_of": raw["as_of"],
            "data": {t: str(params_file.parent / p) for t, p in raw["data"].items()}, "audiences": audiences}
    path = tmp_path / "teams.yaml"
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(ParamsError, match=message):
        expand_audiences(path, tmp_path / "out")
    assert not list((tmp_path / "out").glob(".audiences/*"))


def test_a_params_file_cannot_name_a_store(params_file, tmp_path, capsys):
    from cxkit.cli import main

    raw = yaml.safe_load(params_file.read_text())
    spec = {"notebook": "01-leadership-report", "as_of": raw["as_of"], "store": str(tmp_path / "x.duckdb"),
            "data": {t: str(params_file.parent / p) for t, p in raw["data"].items()}}
    path = tmp_path / "mine.yaml"
    path.write_text(json.dumps(spec))
    assert main(["validate", str(path)]) == 1
    assert "store: set by cxkit batch" in capsys.readouterr().err
    with pytest.raises(ParamsError, match="render them with cxkit batch"):
        from cxkit.render.preflight import preflight

        path.write_text(yaml.safe_dump({**spec, "store": None, "audiences": {"by": "region"}}))
        preflight(path)


def test_run_names_do_not_repeat_a_column_its_values_already_name():
    from cxkit.render.audiences import _run_part

    assert _run_part("region", "West") == "region-west"
    assert _run_part("team", "team-082") == "team-082" and _run_part("team", "Team 82") == "team-82"
    assert _run_part("plan", "Planet") == "plan-planet"  # a value that merely starts with the same letters


def test_stores_no_batch_used_for_a_week_are_pruned(tmp_path):
    import time

    from cxkit.render.stores import STORE_DIR, prune_stores

    folder = tmp_path / STORE_DIR
    folder.mkdir()
    old, fresh, used = (folder / f"{k}.duckdb" for k in ("old", "fresh", "used"))
    for path in (old, fresh, used):
        path.write_bytes(b"x")
    (folder / "old.numbers.json").write_text("{}")
    week = time.time() - 8 * 86400
    for path in (old, used):
        os.utime(path, (week, week))
    gone = prune_stores(tmp_path, {str(used)})
    assert sorted(p.name for p in gone) == ["old.duckdb", "old.numbers.json"]
    assert fresh.exists() and used.exists() and time.time() - used.stat().st_mtime < 60  # used: touched
