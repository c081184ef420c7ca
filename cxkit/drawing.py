"""How result objects draw themselves without the analysis layer importing the presentation layer.

``result.plot()`` hands itself to :func:`draw`, which looks the plotting function up by name in the
plotting backend, imported when first used (as pandas does with its plotting backends). So the layers
stay one way down (analysis never imports :mod:`cxkit.plots`), and a user can point ``BACKEND`` at a
module of their own with the same function names.

Examples
--------
>>> import pandas as pd
>>> from cxkit.survival import SegmentSurvival
>>> km = SegmentSurvival().fit(pd.DataFrame({"t": [1, 2, 3], "e": [1, 0, 1], "g": "a"}), "t", "e", "g")
>>> draw("plot_survival", km).get_ylabel()
'Share still a customer'
"""

from __future__ import annotations

import importlib

__all__ = ["BACKEND", "draw"]

BACKEND = "cxkit.plots"


def draw(function: str, result, **kwargs):
    """Call ``BACKEND.function(result, **kwargs)`` and return its Axes."""
    return getattr(importlib.import_module(BACKEND), function)(result, **kwargs)
