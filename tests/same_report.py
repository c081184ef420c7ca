"""Two renderings of a report compared block by block, allowing raw floats to differ in their last bits."""

from __future__ import annotations

import json

import pytest

__all__ = ["close_json", "same_blocks"]


def close_json(a, b, where: str = "") -> None:
    """Equal JSON, except that raw floats may differ in their last bits: a sum of money added up in another order
    (any parallel engine's, DuckDB's own from run to run). Every text, table cell and shown number is equal."""
    if isinstance(a, float) and isinstance(b, float):
        assert b == pytest.approx(a, rel=1e-9, abs=1e-9), where
    elif isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            close_json(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            close_json(x, y, f"{where}[{i}]")
    else:
        assert b == a, where


def same_blocks(local: list[str], remote: list[str]) -> None:
    assert len(remote) == len(local)
    for i, (a, b) in enumerate(zip(local, remote, strict=True)):
        close_json(json.loads(a), json.loads(b), f"block {i}")
