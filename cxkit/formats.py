"""Numbers and names as people read them: the one home of formatting.

Money with a true minus, signed numbers, percentages, p-values, durations, plurals of bands and the
labels of columns and model terms. Everything that shows a number or a name to a reader formats it here.

Examples
--------
>>> money(1240.4), money(-3_450_000), money(12_345_678, "€"), money(2.914, cents=True)
('$1,240', '−$3.45M', '€12.3M', '$2.91')
>>> duration_phrase(25.2), percent(0.123), p_value(0.0004), number(1234.5678, 2)
('2.1 years', '12%', '< 0.001', '1,234.57')
"""

from __future__ import annotations

import numpy as np

__all__ = ["MINUS", "NOT_AVAILABLE", "money", "signed_money", "signed", "gap", "points", "p_text", "p_value", "percent",
           "number", "duration_phrase", "horizon_phrase", "plural", "column_label", "term_label"]

MINUS = "\u2212"  # a true minus sign: "−$9,737", never "$-9,737"
NOT_AVAILABLE = "not available"


def money(value: float, currency: str = "$", cents: bool = False) -> str:
    """Money for people: ``$1,240``, ``−$9,737``, ``$3.45M``, ``$1.2B``; ``cents=True``: ``$2.91``."""
    if value is None or not np.isfinite(value):
        return NOT_AVAILABLE
    v = abs(value)
    if v >= 1e9:
        text = f"{v / 1e9:.3g}B"
    elif v >= 1e6:
        text = f"{v / 1e6:.3g}M"
    else:
        text = f"{v:,.2f}" if cents else f"{v:,.0f}"
    sign = MINUS if value < 0 and text.strip("0.,") else ""
    return f"{sign}{currency}{text}"


def signed_money(value: float, currency: str = "$") -> str:
    """A difference in money, signed: ``+$122``, ``−$86``, ``$0``.

    >>> signed_money(121.6), signed_money(-86.2), signed_money(0.2)
    ('+$122', '−$86', '$0')
    """
    text = money(value, currency)
    gained = value is not None and np.isfinite(value) and value > 0 and text.strip(currency + "0.,")
    return "+" + text if gained else text


def signed(value: float, digits: int = 0) -> str:
    """A signed number with a true minus: ``+23``, ``−3``, ``0``.

    >>> signed(23.4), signed(-2.6), signed(0.2), signed(-1.25, 1)
    ('+23', '−3', '0', '−1.2')
    """
    if value is None or not np.isfinite(value):
        return NOT_AVAILABLE
    text = f"{abs(value):.{digits}f}"
    if not text.strip("0."):
        return text
    return ("+" if value > 0 else MINUS) + text


def gap(value: float) -> str:
    """A difference of two rounded figures, signed: one decimal under 1 in size, so a gap between +32 and +33
    does not read ``0`` (``−0.5``), else whole.

    >>> gap(-0.46), gap(-3.2), gap(0.0)
    ('−0.5', '−3', '0.0')
    """
    return signed(value, 1 if value is not None and np.isfinite(value) and abs(value) < 1 else 0)


def points(value: float) -> str:
    """NPS points, signed: ``+9 points``, ``−1 point``, ``0 points``."""
    text = signed(value)
    return f"{text} point" + ("" if text.lstrip("+" + MINUS) == "1" else "s")


def p_text(p: float) -> str:
    """A p-value as people read it: ``p < 0.001``, ``p = 0.004``, ``p = 0.03``, ``p = 0.59``.

    >>> p_text(1e-9), p_text(0.0042), p_text(0.031), p_text(0.594)
    ('p < 0.001', 'p = 0.004', 'p = 0.03', 'p = 0.59')
    """
    if p is None or not np.isfinite(p):
        return "p not available"
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}" if p < 0.01 else f"p = {p:.2f}"


def column_label(column: str, band_name: str = "Band") -> str:
    """A column name as a leader reads it: ``internet_type`` -> ``Internet type``; ``segment`` -> the band.

    >>> column_label("internet_type"), column_label("segment", "NPS band")
    ('Internet type', 'NPS band')
    """
    if column == "segment":
        return band_name
    text = str(column).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def slice_label(slice_by: dict) -> str:
    """An audience slice as a leader reads it.

    >>> slice_label({"region": "West", "plan": ["Basic", "Plus"]})
    'Region: West, Plan: Basic / Plus'
    """
    return ", ".join(f"{column_label(k)}: {' / '.join(map(str, v)) if isinstance(v, list) else v}"
                     for k, v in slice_by.items())


def term_label(term: str, band_name: str = "Band") -> str:
    """A model term as a leader reads it: ``plan[Basic]`` -> ``Plan: Basic``; numeric terms by their label.

    >>> term_label("plan[Basic]"), term_label("segment[detractor]", "NPS band"), term_label("tenure_years")
    ('Plan: Basic', 'NPS band: detractor', 'Tenure years')
    """
    if term.endswith("]") and "[" in term:
        column, level = term[:-1].split("[", 1)
        return f"{column_label(column, band_name)}: {level}"
    return column_label(term, band_name)


def percent(value: float, digits: int = 0) -> str:
    """A share as a percentage: ``percent(0.123) == '12%'``."""
    return f"{100 * value:.{digits}f}%"


def duration_phrase(months: float) -> str:
    """Months as people say them: ``8.4 months`` or ``2.1 years``."""
    months = abs(months)
    return f"{months / 12:.1f} years" if months >= 12 else f"{months:.1f} months"


def horizon_phrase(months: int) -> str:
    """A whole horizon as people say it: ``5 years``, ``18 months``.

    >>> horizon_phrase(60), horizon_phrase(18)
    ('5 years', '18 months')
    """
    return f"{months / 12:g} years" if months % 12 == 0 else f"{months} months"


def plural(segment: str) -> str:
    """``promoter`` -> ``Promoters``; other segments -> ``Customers in <segment>``."""
    known = {"detractor", "passive", "promoter"}
    if segment in known:
        return segment.capitalize() + "s"
    if segment in {"dissatisfied", "neutral", "satisfied"}:
        return f"{segment.capitalize()} customers"
    return f"Customers in {segment}"


def p_value(p: float) -> str:
    """A p-value alone: ``< 0.001`` or ``0.030`` (``p_text`` gives the phrase with ``p``)."""
    if p is None or not np.isfinite(p):
        return "n/a"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def number(value: float, digits: int = 3) -> str:
    """A plain number with thousands separators (tables of results)."""
    if value is None or not np.isfinite(value):
        return "–"
    return f"{value:,.{digits}f}"
