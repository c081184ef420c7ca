"""What each audience's report leads with: the one place the ``focus`` parameter is decided.

:mod:`cxkit.narrative` orders the executive summary by it and :mod:`cxkit.report` picks the lead section
and leaves out a section the lead already showed; the analysis is the same for every focus.

Examples
--------
>>> summary_order("care")[:3], lead_section("care"), shows("care", "why"), shows("care", "contacts")
(['why', 'contacts', 'retention'], 'why', False, True)
"""

from __future__ import annotations

__all__ = ["FOCI", "summary_order", "lead_section", "shows"]

FOCI = ("leadership", "product", "care", "region")
_STANDARD = ["descriptive", "nps", "audience", "trend", "retention", "hazard", "ltv", "stake", "ledger", "contacts",
             "why", "small", "unavailable"]
_LEAD = {"leadership": [], "product": ["ltv", "stake"], "care": ["why", "contacts", "retention", "ledger"],
         "region": ["nps", "audience", "retention"]}
_LEAD_SECTION = {"leadership": None, "product": "value", "care": "why", "region": "slice"}


def summary_order(focus: str) -> list[str]:
    """Summary sentence keys in the order this audience reads them."""
    lead = _LEAD[focus]
    return lead + [k for k in _STANDARD if k not in lead]


def lead_section(focus: str) -> str | None:
    """The section shown right after the summary: ``slice``, ``why``, ``value`` or none."""
    return _LEAD_SECTION[focus]


def shows(focus: str, section: str) -> bool:
    """Whether the body shows ``section`` (not when it already led the report)."""
    return section != _LEAD_SECTION[focus]
