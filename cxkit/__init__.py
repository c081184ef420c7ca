"""cxkit: tie what customers say (NPS, CSAT, effort) to what they do, in money.

Heavy modules (survival, LTV, plotting, rendering) are imported lazily by the
code that needs them, so ``import cxkit`` stays cheap.

Examples
--------
>>> import cxkit
>>> cxkit.__version__
'0.1.0'
"""

__all__ = ["__version__"]
__version__ = "0.1.0"
