"""The validation gateway: every rule with a deliberately broken input, sources and the as-of cut."""

from __future__ import annotations

import hashlib
import warnings

import duckdb
import pandas as pd
import pytest

from cxkit.errors import CxkitWarning, ParamsError, ValidationError
from cxkit.load import load


def _problems(params, **kw):
    with pytest.raises(ValidationError) as info:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CxkitWarning)
            load(params, **kw)
    return info.value.problems


def _only(problems, table, column, rule_part):
    hits = [p for p in problems if p.table == table and p.column == column and rule_part in p.rule]
    assert hits, f"no {table}.{column} '{rule_part}' problem in {[str(p) for p in problems]}"
    return hits[0]


def test_clean_data_loads(case):
    data = load(case())
    assert data.mode == "dated"
    assert set(data.tables) == {"customers", "responses", "revenue", "contacts"}
    assert data.segments == ("plan", "region")
    assert data.scores == ("nps", "csat", "effort")
    assert data.row_counts["customers"] == 400


def test_missing_required_column(case, small_tables):
    responses = small_tables[0]["responses"].drop(columns="nps")
    p = _only(_problems(case(responses=responses)), "responses", "nps", "missing required column")
    assert "data.responses.columns.nps" in p.rule


def test_mapping_names_a_missing_column(case, small_tables):
    params = case(params={"data": {"customers": {"path": "customers.csv", "columns": {"plan": "tier"}}}})
    p = _only(_problems(params), "customers", "plan", "names column 'tier'")
    assert "customer_id" in p.rule  # lists what the file has


def test_duplicate_customer_id(case, small_tables):
    customers = small_tables[0]["customers"].copy()
    customers.loc[[5, 6, 7], "customer_id"] = [1, 2, 2]
    p = _only(_problems(case(customers=customers)), "customers", "customer_id", "duplicate")
    assert p.count == 2 and set(p.keys) == {"1", "2"}


@pytest.mark.parametrize("value, rule", [(11, "outside 0-10"), (-1, "outside 0-10"), (7.5, "not an integer")])
def test_score_rules(case, small_tables, value, rule):
    responses = small_tables[0]["responses"].copy()
    responses["nps"] = responses["nps"].astype(float)
    responses.loc[[0, 3], "nps"] = value
    p = _only(_problems(case(responses=responses)), "responses", "nps", rule)
    assert p.count == 2
    assert str(responses.loc[0, "customer_id"]) in p.keys[0]


def test_csat_range(case, small_tables):
    responses = small_tables[0]["responses"].copy()
    responses.loc[2, "csat"] = 6
    assert _only(_problems(case(responses=responses)), "responses", "csat", "outside 1-5").count == 1


def test_unparseable_date(case, small_tables):
    customers = small_tables[0]["customers"].copy()
    customers["signup_date"] = customers["signup_date"].astype(str)
    customers.loc[[1, 2, 3], "signup_date"] = ["2025-13-01", "yesterday", "2025-02-30"]
    p = _only(_problems(case(customers=customers)), "customers", "signup_date", "unparseable date")
    assert p.count == 3 and "'2025-13-01' (customer 2)" in p.keys


def test_end_before_signup(case, small_tables):
    customers = small_tables[0]["customers"].copy()
    customers.loc[4, "end_date"] = customers.loc[4, "signup_date"] - pd.Timedelta(days=3)
    p = _only(_problems(case(customers=customers)), "customers", "end_date", "before signup_date")
    assert p.count == 1 and p.keys[0].startswith("5 (")


def test_response_for_unknown_customer(case, small_tables):
    responses = small_tables[0]["responses"].copy()
    responses.loc[0, "customer_id"] = 999_999
    p = _only(_problems(case(responses=responses)), "responses", "customer_id", "unknown customer")
    assert p.keys == ("999999",)


def test_response_after_end(case, small_tables):
    customers, responses = small_tables[0]["customers"], small_tables[0]["responses"].copy()
    churned = customers.dropna(subset=["end_date"]).set_index("customer_id")["end_date"]
    row = responses.index[responses["customer_id"].isin(churned.index)][0]
    responses.loc[row, "response_date"] = churned[responses.loc[row, "customer_id"]] + pd.Timedelta(days=10)
    p = _only(_problems(case(responses=responses)), "responses", "response_date", "after the customer's end_date")
    assert p.count == 1


def test_response_before_signup_and_all_reference_rules_in_one_join(case, small_tables):
    customers, responses = small_tables[0]["customers"], small_tables[0]["responses"].copy()
    signup = customers.set_index("customer_id")["signup_date"]
    responses.loc[[3, 5], "response_date"] = [signup[responses.loc[i, "customer_id"]] - pd.Timedelta(days=2)
                                               for i in (3, 5)]
    responses.loc[7, "customer_id"] = 888_888
    found = _problems(case(responses=responses))
    before = _only(found, "responses", "response_date", "before the customer's signup_date")
    assert before.count == 2 and str(responses.loc[3, "customer_id"]) in before.keys[0]
    assert _only(found, "responses", "customer_id", "unknown customer").keys == ("888888",)


def test_unknown_customers_are_found_when_a_customer_id_is_empty(case, small_tables):
    """An empty id in customers must not hide unknown ones (SQL's NOT IN with a NULL matches nothing)."""
    customers = small_tables[0]["customers"].copy()
    blanked = int(customers.loc[10, "customer_id"])
    customers["customer_id"] = customers["customer_id"].astype("Int64")
    customers.loc[10, "customer_id"] = pd.NA
    contacts, responses = small_tables[0]["contacts"].copy(), small_tables[0]["responses"].copy()
    contacts.loc[0, "customer_id"] = 777_777
    responses.loc[0, "customer_id"] = 777_778
    found = _problems(case(customers=customers, contacts=contacts, responses=responses))
    assert _only(found, "customers", "customer_id", "customer_id is empty").count == 1
    for table, stray in ((contacts, 777_777), (responses, 777_778)):
        name = "contacts" if table is contacts else "responses"
        p = _only(found, name, "customer_id", "unknown customer")
        assert p.count == 1 + int((table["customer_id"] == blanked).sum())  # the stray row and the blanked one's
        assert str(stray) in p.keys


def test_repeated_customer_ids_do_not_repeat_answers_in_the_counts(case, small_tables):
    customers, responses = small_tables[0]["customers"], small_tables[0]["responses"].copy()
    twice = int(responses.loc[3, "customer_id"])
    customers = pd.concat([customers, customers[customers["customer_id"] == twice]], ignore_index=True)
    signup = customers.drop_duplicates("customer_id").set_index("customer_id")["signup_date"]
    responses.loc[3, "response_date"] = signup[twice] - pd.Timedelta(days=2)
    responses.loc[7, "customer_id"] = 888_888
    found = _problems(case(customers=customers, responses=responses))
    assert _only(found, "customers", "customer_id", "duplicate customer_id").keys == (str(twice),)
    assert _only(found, "responses", "response_date", "before the customer's signup_date").count == 1
    assert _only(found, "responses", "customer_id", "unknown customer").count == 1


def test_negative_revenue(case, small_tables):
    revenue = small_tables[0]["revenue"].copy()
    revenue.loc[[0, 1], "amount"] = -5.0
    p = _only(_problems(case(revenue=revenue)), "revenue", "amount", "negative revenue")
    assert p.count == 2


def test_empty_table(case, small_tables):
    contacts = small_tables[0]["contacts"].iloc[:0]
    _only(_problems(case(contacts=contacts)), "contacts", "*", "empty")


def test_errors_are_collected_and_named(case, small_tables):
    customers = small_tables[0]["customers"].copy()
    customers.loc[5, "customer_id"] = 1
    revenue = small_tables[0]["revenue"].copy()
    revenue.loc[0, "amount"] = -1
    with pytest.raises(ValidationError) as info:
        load(case(customers=customers, revenue=revenue))
    text = str(info.value)
    assert "customers.customer_id: duplicate customer_id (1 row; e.g. 1)" in text
    assert "revenue.amount: negative revenue" in text


def test_inputs_are_never_modified(case, small_tables):
    params = case()
    files = sorted(params.parent.glob("*.csv"))
    before = [hashlib.sha256(f.read_bytes()).hexdigest() for f in files]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CxkitWarning)
        load(params, as_of="2025-06-30")
    assert before == [hashlib.sha256(f.read_bytes()).hexdigest() for f in files]


def test_as_of_cuts_later_rows_with_a_warning(case, small_tables):
    customers = small_tables[0]["customers"]
    cut = pd.Timestamp("2025-06-30")
    with pytest.warns(CxkitWarning, match=r"\(as_of\) 2025-06-30"):
        data = load(case(), as_of="2025-06-30")
    assert data.row_counts["customers"] == int((customers["signup_date"] <= cut).sum())
    later_end = data.sql("SELECT count(*) FROM customers WHERE end_date > DATE '2025-06-30'").fetchall()[0][0]
    assert later_end == 0
    assert data.sql("SELECT max(response_date) FROM responses").fetchall()[0][0] <= cut.date()


def test_as_of_drops_rows_of_customers_not_yet_signed_up(case, small_tables):
    """A contact dated before as_of whose customer signed up after it belongs to no customer at as_of."""
    tables = small_tables[0]
    late = tables["customers"]["customer_id"].iloc[0]
    customers = tables["customers"].copy()
    customers.loc[customers["customer_id"] == late, ["signup_date", "end_date"]] = [pd.Timestamp("2026-01-10"), pd.NaT]
    contacts = tables["contacts"].copy()
    early = contacts.iloc[[0]].assign(customer_id=late, date=pd.Timestamp("2025-03-01"))
    contacts = pd.concat([contacts, early], ignore_index=True)
    responses = tables["responses"][tables["responses"]["customer_id"] != late]
    revenue = tables["revenue"][(tables["revenue"]["customer_id"] != late)  # no bills before the new signup
                                | (tables["revenue"]["month"] >= pd.Timestamp("2026-01-01"))]
    with pytest.warns(CxkitWarning, match=r"\(as_of\) 2025-06-30"):
        data = load(case(customers=customers, contacts=contacts, responses=responses, revenue=revenue),
                    as_of="2025-06-30")
    assert data.sql(f"SELECT count(*) FROM contacts WHERE customer_id = {late}").fetchall()[0][0] == 0
    kept = contacts[(contacts["date"] <= pd.Timestamp("2025-06-30")) & (contacts["customer_id"] != late)]
    assert data.row_counts["contacts"] == len(kept)


def test_small_segments_warn(case, small_tables):
    customers = small_tables[0]["customers"].copy()
    customers["region"] = customers["region"].astype(str)
    customers.loc[:9, "region"] = "Islands"
    with pytest.warns(CxkitWarning, match=r"customers.region: 1 segment\(s\) under 30 customers: Islands \(10\)"):
        load(case(customers=customers))


def test_parquet_source(case):
    assert load(case(fmt="parquet")).row_counts["customers"] == 400


def test_duckdb_table_and_query_sources(tmp_path, small_tables):
    tables = small_tables[0]
    db = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(db))
    for name, df in tables.items():
        con.register("df", df)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM df")
        con.unregister("df")
    con.close()
    params = {"as_of": "2026-09-30", "_base_dir": str(tmp_path), "data": {
        "customers": {"path": "warehouse.duckdb", "table": "customers"},
        "responses": {"path": "warehouse.duckdb", "query": "SELECT * FROM responses WHERE nps IS NOT NULL"},
        "revenue": {"query": f"SELECT * FROM read_parquet('{_parquet(tmp_path, tables['revenue'])}')"},
    }}
    data = load(params)
    assert data.row_counts == {"customers": 400, "responses": len(tables["responses"]),
                               "revenue": len(tables["revenue"])}


def _parquet(folder, df):
    path = folder / "revenue.parquet"
    df.to_parquet(path)
    return path


def test_missing_file_is_a_params_error(tmp_path):
    with pytest.raises(ParamsError, match="file not found"):
        load({"data": {"customers": "nope.csv"}, "_base_dir": str(tmp_path)})


def test_a_file_found_nowhere_names_every_place_tried_in_order(tmp_path, monkeypatch):
    """From a notebook (no preflight) too: next to the params file, the current folder, the project."""
    project = tmp_path / "team"
    for folder in ("notebooks", "params", "elsewhere"):
        (project / folder).mkdir(parents=True)
    monkeypatch.chdir(project / "elsewhere")
    with pytest.raises(ParamsError) as err:
        load({"data": {"customers": "data/nope.csv"}, "_base_dir": str(project / "params")})
    tried = [project / "params" / "data/nope.csv", project / "elsewhere" / "data/nope.csv", project / "data/nope.csv"]
    assert str(err.value).endswith("file not found: " + " or ".join(map(str, tried)))


def test_snapshot_mode_with_mapping(tmp_path):
    df = pd.DataFrame({"ID": ["a", "b", "c"], "Tenure": [1, 5, 7], "Left": ["Yes", "No", "No"],
                       "Score": [2, 5, 4]})
    df.to_csv(tmp_path / "snap.csv", index=False)
    params = {"_base_dir": str(tmp_path), "data": {"customers": {"path": "snap.csv", "columns": {
        "customer_id": "ID", "duration": "Tenure", "churned": "Left", "csat": "Score"}}}}
    data = load(params)
    assert data.mode == "snapshot" and data.scores == ("csat",)
    assert data.df("customers")["churned"].tolist() == [1, 0, 0]


def test_snapshot_needs_churn_flag(tmp_path):
    pd.DataFrame({"customer_id": [1], "duration": [3]}).to_csv(tmp_path / "c.csv", index=False)
    problems = _problems({"_base_dir": str(tmp_path), "data": {"customers": "c.csv"}})
    _only(problems, "customers", "churned", "missing required column")


def test_telco_loads(telco_path):
    from cxkit.params import read_params
    from tests.conftest import ROOT

    data = load(read_params(ROOT / "params" / "telco.yaml"))
    assert data.mode == "snapshot" and data.row_counts["customers"] == 7043
    by_score = dict(data.sql("SELECT csat, avg(churned) FROM customers GROUP BY 1").fetchall())
    assert by_score[1] == 1.0 and by_score[5] == 0.0  # the separation the survival module must survive


def test_near_misses_in_a_params_file_name_what_was_meant(tmp_path):
    """A mapping's misspelt column and a misspelt table name each get a did-you-mean, not just a list."""
    csv = tmp_path / "c.csv"
    csv.write_text("id,signup,Satisfaction Score\n1,2026-01-01,4\n")
    spec = {"path": str(csv), "columns": {"customer_id": "id", "signup_date": "signup", "csat": "Satisfaction Scor"}}
    with pytest.raises(ValidationError, match=r"names column 'Satisfaction Scor', which the source does not have "
                                              r"\(did you mean 'Satisfaction Score'\? it has: id, signup"):
        load({"data": {"customers": spec}})
    with pytest.raises(ParamsError, match=r"unknown: customer \(did you mean customers\?\)"):
        load({"data": {"customer": str(csv)}})


def test_small_segments_are_warned_about_each_column_with_its_smallest(case, small_tables):
    customers = small_tables[0]["customers"].astype({"region": str, "plan": str})
    customers.loc[[0, 1, 2], "region"] = "Atoll"
    customers.loc[[3, 4], "region"] = "Isle"
    customers.loc[[5], "plan"] = "Trial"
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always", CxkitWarning)
        load(case(customers=customers))
    text = "\n".join(str(w.message) for w in said if "small segments" in str(w.message))
    assert "customers.plan: 1 segment(s) under 30 customers: Trial (1)" in text
    assert "customers.region: 2 segment(s) under 30 customers: Isle (2), Atoll (3)" in text


def test_parquet_text_is_read_as_it_is_only_where_no_value_needs_trimming(case, small_tables):
    customers = small_tables[0]["customers"].astype({"region": str, "plan": str, "churn_reason": str})
    customers.loc[0, "region"] = "  West "
    customers.loc[1, "churn_reason"] = ""
    data = load(case(fmt="parquet", customers=customers))
    view = data.con.execute("SELECT sql FROM duckdb_views() WHERE view_name = '_typed_customers'").fetchone()[0]
    assert "CAST(plan AS VARCHAR) AS plan" in view  # clean: read as it is
    assert 'trim"(CAST(region AS VARCHAR))' in view and 'trim"(CAST(churn_reason AS VARCHAR))' in view
    regions = {r for r, in data.con.execute("SELECT DISTINCT region FROM customers").fetchall()}
    assert "West" in regions and "  West " not in regions
    reason = data.con.execute(f"SELECT churn_reason FROM customers WHERE customer_id = "
                              f"{int(customers.loc[1, 'customer_id'])}").fetchone()[0]
    assert reason is None  # empty text is still no value
