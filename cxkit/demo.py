"""The built-in demo data: 20,000 synthetic customers, seed 0, written on first use.

It lives in the project's ``reports/data/demo/`` (:func:`cxkit.paths.demo_dir`); ``cxkit demo`` writes it there.

Examples
--------
>>> sorted(demo_sources())                                    # doctest: +SKIP
['contacts', 'customers', 'responses', 'revenue']
"""

from __future__ import annotations

from pathlib import Path

from cxkit.paths import demo_dir

__all__ = ["DEMO_CUSTOMERS", "DEMO_SEED", "DEMO_TABLES", "demo_sources", "write_demo"]

DEMO_CUSTOMERS, DEMO_SEED = 20_000, 0
DEMO_TABLES = ("customers", "responses", "revenue", "contacts")


def write_demo(folder: str | Path | None = None, rebuild: bool = False) -> tuple[Path, bool]:
    """The demo data in ``folder`` (default :func:`~cxkit.paths.demo_dir`), written unless it is there:
    ``(its params.yaml, whether it was written now)``."""
    from cxkit.synth import write

    folder = Path(folder) if folder is not None else demo_dir()
    params = folder / "params.yaml"
    if params.exists() and not rebuild and all((folder / f"{t}.parquet").is_file() for t in DEMO_TABLES):
        return params, False
    return write(folder, n_customers=DEMO_CUSTOMERS, seed=DEMO_SEED), True


def demo_sources(folder: str | Path | None = None) -> dict:
    """The demo data's sources (written on first use), for notebooks run without data."""
    params, _ = write_demo(folder)
    return {name: str(params.parent / f"{name}.parquet") for name in DEMO_TABLES}
