"""Plain-text summaries for the terminal (``cxkit validate`` and ``cxkit demo``); their words live in
:mod:`cxkit.narrative`, these names stay importable here."""

from __future__ import annotations

from cxkit.narrative import describe_data, nps_overview

__all__ = ["describe_data", "nps_overview"]
