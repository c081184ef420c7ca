"""The gateway's key checks in numpy (integer ids in order) report exactly what its SQL reports."""

from __future__ import annotations

import warnings

import duckdb
import numpy as np
import pandas as pd
import pytest

import cxkit.validate as validate
from cxkit.errors import CxkitWarning, ValidationError
from cxkit.load import load
from cxkit.validate_keys import answer_rule_counts, ordered_customer_ids, repeat_candidates, unknown_count


def _outcome(params):
    """(problems as text, warnings as text) of loading ``params``."""
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always", CxkitWarning)
        try:
            load(params)
            problems = []
        except ValidationError as exc:
            problems = sorted(str(p) for p in exc.problems)
    return problems, sorted(str(w.message) for w in said if issubclass(w.category, CxkitWarning))


def _both_ways(params, monkeypatch):
    """The outcome with the shortcuts, the outcome with the SQL alone, and which shortcuts answered."""
    used = []
    real_ids, real_tied = validate.ordered_customer_ids, validate.repeat_candidates

    def ids(con):
        found = real_ids(con)
        used.extend(["ids"] if found is not None else [])
        return found

    def tied(con):
        found = real_tied(con)
        used.extend(["tied"] if found is not None else [])
        return found

    monkeypatch.setattr(validate, "ordered_customer_ids", ids)
    monkeypatch.setattr(validate, "repeat_candidates", tied)
    fast = _outcome(params)
    monkeypatch.setattr(validate, "ordered_customer_ids", lambda con: None)
    monkeypatch.setattr(validate, "repeat_candidates", lambda con: None)
    slow = _outcome(params)
    return fast, slow, used


def _shifted(tables, days):
    """The first response moved ``days`` from its customer's signup."""
    customers, responses = tables["customers"], tables["responses"].copy()
    signup = customers.set_index("customer_id")["signup_date"]
    responses.loc[0, "response_date"] = signup[responses.loc[0, "customer_id"]] + pd.Timedelta(days=days)
    return responses


@pytest.mark.parametrize("fault", ["none", "unknown contact", "unknown bill", "answer before signup",
                                   "answer after end", "unknown answer", "sparse ids and an unknown contact",
                                   "answers repeated exactly", "two answers at one time, different scores"])
def test_the_numpy_checks_report_what_the_sql_reports(case, small_tables, monkeypatch, fault):
    tables = {k: v.copy() for k, v in small_tables[0].items()}
    c, r = tables["customers"], tables["responses"]
    assert c["customer_id"].is_monotonic_increasing  # the shortcut's case: integer ids stored in order
    if fault == "unknown contact":
        tables["contacts"].loc[[0, 5], "customer_id"] = [777_777, 10**9]
    elif fault == "unknown bill":
        tables["revenue"].loc[3, "customer_id"] = -4
    elif fault == "answer before signup":
        tables["responses"] = _shifted(tables, -3)
    elif fault == "answer after end":
        left = c.loc[c["end_date"].notna()].iloc[0]
        r.loc[0, ["customer_id", "response_date"]] = [left["customer_id"], left["end_date"] + pd.Timedelta(days=2)]
        tables["responses"] = r.sort_values(["customer_id", "response_date"], kind="stable")
    elif fault == "unknown answer":
        r.loc[len(r)] = {**r.iloc[-1].to_dict(), "customer_id": 999_999}
    elif fault == "sparse ids and an unknown contact":
        for name in tables:
            tables[name]["customer_id"] *= 100_000
        tables["contacts"].loc[2, "customer_id"] = 123
    elif fault == "answers repeated exactly":
        tables["responses"] = pd.concat([r, r.iloc[[4, 9, 9]]]).sort_values(["customer_id", "response_date"],
                                                                            kind="stable")
    elif fault == "two answers at one time, different scores":
        twin = r.iloc[[4]].assign(nps=(r.iloc[4]["nps"] + 1) % 11)
        tables["responses"] = pd.concat([r, twin]).sort_values(["customer_id", "response_date"], kind="stable")
    params = case(fmt="parquet", **tables)  # integer ids (a CSV's ids are read as text: no shortcut)
    fast, slow, used = _both_ways(params, monkeypatch)
    assert fast == slow
    assert used.count("ids") == 1
    if fault == "none":
        assert fast == ([], [])
    elif fault.startswith("answers repeated"):
        assert "3 answer(s) repeat another exactly" in fast[1][0]
    elif fault.startswith("two answers"):
        assert fast[1] == [] and "tied" in used
    else:
        assert fast[0], "the planted fault is reported"


def test_ids_out_of_order_are_checked_by_sql(case, small_tables):
    customers = small_tables[0]["customers"].sample(frac=1.0, random_state=1)
    customers.iloc[7, 0] = customers.iloc[3, 0]
    with pytest.raises(ValidationError) as info:
        load(case(customers=customers))
    assert any(p.rule == "duplicate customer_id" and p.count == 1 for p in info.value.problems)


def _con(**tables):
    con = duckdb.connect()
    for name, df in tables.items():
        con.register(f"_src_{name}", df)
        con.execute(f"CREATE TABLE _typed_{name} AS SELECT * FROM _src_{name}")
    return con


def test_ordered_ids_and_unknown_counts_by_bitmap_and_by_search():
    con = _con(customers=pd.DataFrame({"customer_id": [2, 5, 9]}),
               contacts=pd.DataFrame({"customer_id": pd.array([5, 6, None, 1, 9, 20], dtype="Int64")}))
    ids = ordered_customer_ids(con)
    assert ids.tolist() == [2, 5, 9]
    assert unknown_count(con, "contacts", ids) == 3  # 6, 1 and 20; the empty id is another rule's
    sparse = _con(customers=pd.DataFrame({"customer_id": [2, 10**12, 10**15]}),
                  contacts=pd.DataFrame({"customer_id": [2, 10**12 + 1, 10**15]}))
    assert unknown_count(sparse, "contacts", ordered_customer_ids(sparse)) == 1
    assert ordered_customer_ids(_con(customers=pd.DataFrame({"customer_id": [1, 1, 2]}))) is None
    assert ordered_customer_ids(_con(customers=pd.DataFrame({"customer_id": ["a", "b"]}))) is None


def test_answer_rules_in_numpy_leave_empty_dates_alone():
    day = pd.Timestamp
    con = _con(customers=pd.DataFrame({"customer_id": [1, 2, 3], "signup_date": [day("2024-01-01")] * 3,
                                       "end_date": [pd.NaT, day("2024-03-01"), day("2024-03-01")]}),
               responses=pd.DataFrame({"customer_id": [1, 2, 2, 3, 4],
                                       "response_date": [day("2025-01-01"), day("2024-03-01 10:00"),
                                                         pd.NaT, day("2023-12-31"), day("2024-02-01")]}))
    con.execute("CREATE OR REPLACE TABLE _typed_customers AS SELECT customer_id, CAST(signup_date AS DATE) "
                "AS signup_date, CAST(end_date AS DATE) AS end_date FROM _typed_customers")
    con.execute("CREATE OR REPLACE TABLE _typed_responses AS SELECT customer_id, CAST(response_date AS TIMESTAMP) "
                "AS response_date FROM _typed_responses")  # as the gateway types them
    # a time on the end day is after it (the SQL compares with the day's midnight); no date: no rule
    assert answer_rule_counts(con, np.array([1, 2, 3])) == (1, 1, 1)


def test_repeat_candidates_are_the_customers_with_two_answers_at_one_time():
    t = pd.Timestamp
    con = _con(responses=pd.DataFrame({"customer_id": [1, 1, 2, 3, 3, 3],
                                       "response_date": [t("2024-01-01"), t("2024-01-02"), t("2024-01-01"),
                                                         t("2024-01-05"), t("2024-01-05"), t("2024-01-06")]}))
    assert repeat_candidates(con).tolist() == [3]
    shuffled = _con(responses=pd.DataFrame({"customer_id": [2, 1], "response_date": [t("2024-01-01")] * 2}))
    assert repeat_candidates(shuffled) is None


def test_a_few_huge_amounts_are_warned_about_and_a_heavy_tail_is_not(case, small_tables):
    revenue = small_tables[0]["revenue"].copy()
    assert len(revenue) > 1000
    revenue.loc[[0, 1, 2], "amount"] = 2_804_000.0
    said = _outcome(case(revenue=revenue))[1]
    assert any("revenue.amount: 3 value(s) over 100 times the 99th percentile" in s for s in said)
    heavy = small_tables[0]["revenue"].copy()
    heavy.loc[heavy.index[:: 50], "amount"] *= 1_000  # 2% of bills: the 99th percentile is among them
    assert not any("revenue.amount" in s for s in _outcome(case(revenue=heavy))[1])
