"""The built-in demo data: 20,000 synthetic customers, seed 0, written on first use.

Examples
--------
>>> sorted(demo_sources())                                    # doctest: +SKIP
['contacts', 'customers', 'responses', 'revenue']
"""

from __future__ import annotations

from cxkit.paths import DEMO_DIR

__all__ = ["DEMO_CUSTOMERS", "DEMO_SEED", "DEMO_DIR", "demo_sources"]

DEMO_CUSTOMERS, DEMO_SEED = 20_000, 0


def demo_sources() -> dict:
    """The demo data's sources (written on first use), for notebooks run without data."""
    from cxkit.synth import write

    if not (DEMO_DIR / "params.yaml").exists():
        write(DEMO_DIR, n_customers=DEMO_CUSTOMERS, seed=DEMO_SEED)
    return {name: str(DEMO_DIR / f"{name}.parquet") for name in ("customers", "responses", "revenue", "contacts")}
