"""The data contract: the tables cxkit reads, their columns, types and ranges.

This module only describes; :mod:`cxkit.load` reads sources onto it and
:mod:`cxkit.validate` enforces it. The contract table of the docs (docs/guide/data.md) is generated from
:func:`contract_table`, so the two never disagree.

Examples
--------
>>> from cxkit.contract import CONTRACT
>>> CONTRACT["responses"].column("nps").range
(0, 10)
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["Column", "Table", "CONTRACT", "SCORES", "DAYS_PER_MONTH", "contract_table", "contract_markdown"]

#: DuckDB type that each contract dtype is cast to.
SQL_TYPES = {
    "id": None,  # kept as the source has it (integer or text)
    "date": "DATE",
    "int": "BIGINT",
    "float": "DOUBLE",
    "text": "VARCHAR",
    "flag": "INTEGER",
}


@dataclass(frozen=True)
class Column:
    """One column of a contract table."""

    name: str
    dtype: str  # one of SQL_TYPES
    required: bool
    description: str
    range: tuple | None = None  # inclusive (low, high) for scores; (low, None) for a floor

    @property
    def sql_type(self) -> str | None:
        return SQL_TYPES[self.dtype]


@dataclass(frozen=True)
class Table:
    """A contract table: its columns and whether the kit can run without it."""

    name: str
    columns: tuple[Column, ...]
    required: bool
    description: str

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


def _score(name: str, low: int, high: int, what: str, required: bool = False) -> Column:
    return Column(name, "int", required, f"{what}, integer {low}-{high}", (low, high))


#: Score columns and their valid ranges, shared by responses and snapshot customers.
SCORES = {
    "nps": (0, 10),
    "csat": (1, 5),
    "effort": (1, 7),
}

_SCORE_TEXT = {
    "nps": "likelihood to recommend (NPS question)",
    "csat": "customer satisfaction",
    "effort": "customer effort score (7 = easiest)",
}

CUSTOMERS = Table(
    "customers",
    (
        Column("customer_id", "id", True, "unique key of the customer"),
        Column("signup_date", "date", False, "first day as a customer (dated data)"),
        Column("end_date", "date", False, "last day as a customer; empty while active"),
        Column("duration", "float", False, "tenure in months (snapshot data without dates)", (0, None)),
        Column("churned", "flag", False, "1 if the customer left, 0 if active (snapshot data)", (0, 1)),
        Column("plan", "text", False, "product or plan (a segment column)"),
        Column("region", "text", False, "region (a segment column)"),
        Column("churn_reason", "text", False, "why the customer left, for churned customers"),
        Column("monthly_revenue", "float", False, "revenue per month when there is no revenue table", (0, None)),
        Column("referrals", "int", False, "customers this customer referred (advocacy)", (0, None)),
        *(_score(s, lo, hi, f"snapshot {_SCORE_TEXT[s]}") for s, (lo, hi) in SCORES.items()),
    ),
    True,
    "one row per customer; either signup_date (dated) or duration + churned (snapshot)",
)

RESPONSES = Table(
    "responses",
    (
        Column("customer_id", "id", True, "the customer who answered"),
        Column("response_date", "date", True, "day of the answer"),
        _score("nps", 0, 10, _SCORE_TEXT["nps"], required=True),
        _score("csat", 1, 5, _SCORE_TEXT["csat"]),
        _score("effort", 1, 7, _SCORE_TEXT["effort"]),
    ),
    False,
    "survey answers; a customer may answer many times",
)

REVENUE = Table(
    "revenue",
    (
        Column("customer_id", "id", True, "the paying customer"),
        Column("month", "date", True, "any day in the month billed (first of month preferred)"),
        Column("amount", "float", True, "revenue billed in that month, in the report currency", (0, None)),
    ),
    False,
    "one row per customer and month billed",
)

CONTACTS = Table(
    "contacts",
    (
        Column("customer_id", "id", True, "the customer who got in touch"),
        Column("date", "date", True, "day of the contact"),
        Column("kind", "text", True, "call, chat, email, complaint, ..."),
        Column("cost", "float", False, "cost to serve this contact", (0, None)),
    ),
    False,
    "care contacts and complaints, with their cost",
)

CONTRACT: dict[str, Table] = {t.name: t for t in (CUSTOMERS, RESPONSES, REVENUE, CONTACTS)}


def contract_table() -> pd.DataFrame:
    """The contract as one DataFrame (table, column, type, required, description).

    Examples
    --------
    >>> contract_table().query("table == 'revenue'")["column"].tolist()
    ['customer_id', 'month', 'amount']
    """
    rows = []
    for table in CONTRACT.values():
        for col in table.columns:
            if table.name == "customers" and col.name in ("signup_date", "duration", "churned"):
                required = "signup_date, or duration + churned"
            elif col.required:
                required = "yes" if table.required else "yes, if the table is given"
            else:
                required = "no"
            rows.append({"table": table.name, "column": col.name, "type": col.dtype,
                         "required": required, "description": col.description})
    return pd.DataFrame(rows)


def contract_markdown() -> str:
    """The contract as the Markdown table the docs show (docs/guide/data.md; a test keeps them equal)."""
    frame = contract_table()
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(f"`{v}`" if k == "column" else str(v) for k, v in row.items()) + " |"
              for row in frame.to_dict("records")]
    return "\n".join(lines)


#: Days in the kit's month: durations are measured in days and reported in months of this length.
DAYS_PER_MONTH = 365.25 / 12
MIN_SEGMENT_SIZE = 30  # segments with fewer customers (or answers) are flagged, never shown as confident numbers
