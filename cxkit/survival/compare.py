"""The same band hazard ratios on each clock, to show what immortal-time bias does."""

from __future__ import annotations

import warnings

import pandas as pd

from cxkit.errors import CxkitWarning
from cxkit.frames import clock_description, survival_frame
from cxkit.survival.cox import CoxModel

__all__ = ["clock_comparison"]


def clock_comparison(data, score: str | None = None, which: str = "first") -> pd.DataFrame:
    """Band hazard ratios (against the middle band) on the response, delayed-entry and tenure clocks.

    Returns
    -------
    DataFrame
        ``clock, term, hazard_ratio, lower, upper, description``.
    """
    from cxkit.frames import survival_frame_order

    labels = survival_frame_order(data, score)
    rows = []
    for clock in ("response", "tenure_entry", "tenure"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CxkitWarning)
            frame = survival_frame(data, clock=clock, which=which, score=score)
            fit = CoxModel(reference={"segment": labels[1]}).fit(frame, "duration", "event", ["segment"],
                                                                  entry_col=frame.attrs["entry_col"])
        for term, r in fit.summary.iterrows():
            rows.append({"clock": clock, "term": term, "hazard_ratio": r["hazard_ratio"], "lower": r["lower"],
                         "upper": r["upper"], "description": clock_description(clock, which, data.mode)})
    return pd.DataFrame(rows)
