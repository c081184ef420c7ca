"""Reporting periods: the one home of what "M" and "Q" mean.

Examples
--------
>>> UNITS["Q"], per_year("M"), per_year("Q"), plural_unit("Q")
('quarter', 12, 4, 'quarters')
>>> label_of(__import__("datetime").date(2026, 8, 1), "Q")
'2026-Q3'
"""

from __future__ import annotations

import datetime as dt

__all__ = ["UNITS", "PERIODS", "per_year", "plural_unit", "label_of", "check_period"]

UNITS = {"M": "month", "Q": "quarter"}  # DuckDB's date_trunc units
PERIODS = UNITS


def per_year(period: str) -> int:
    """Periods in a year: the window of "the last 12 months" or "the last 4 quarters"."""
    return {"M": 12, "Q": 4}[check_period(period)]


def plural_unit(period: str) -> str:
    return UNITS[check_period(period)] + "s"


def label_of(start: dt.date, period: str) -> str:
    """``2026-09`` for a month, ``2026-Q3`` for a quarter."""
    return f"{start.year}-{start.month:02d}" if period == "M" else f"{start.year}-Q{(start.month - 1) // 3 + 1}"


def check_period(period: str) -> str:
    if period not in UNITS:
        from cxkit.errors import CxkitError

        raise CxkitError(f"period must be 'M' (months) or 'Q' (quarters), not {period!r}")
    return period
