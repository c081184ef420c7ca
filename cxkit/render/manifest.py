"""What a run was made from: parameters, input fingerprints, row counts, versions, timings."""

from __future__ import annotations

import hashlib
import json
import platform
import time
from importlib import metadata

__all__ = ["package_versions", "run_fingerprint", "Timer"]

_PACKAGES = ("cxkit", "numpy", "scipy", "pandas", "pyarrow", "duckdb", "lifelines", "matplotlib", "papermill",
             "nbconvert", "python-pptx")


def package_versions() -> dict:
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def run_fingerprint(parameters: dict, inputs: list, versions: dict) -> str:
    """Short hash of what determines the numbers: parameters, input file hashes and package versions."""
    content = {k: v for k, v in parameters.items() if k != "data"}  # where files live does not change numbers
    hashes = [{k: v for k, v in i.items() if k != "path"} for i in inputs]
    blob = json.dumps({"parameters": content, "inputs": hashes, "versions": versions}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


class Timer:
    """Wall-clock seconds per step: ``with timer("execute"): ...``; ``timer.seconds`` holds them."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    def __call__(self, step: str):
        timer = self

        class _Step:
            def __enter__(self):
                self.start = time.perf_counter()

            def __exit__(self, *exc):
                timer.seconds[step] = round(time.perf_counter() - self.start, 3)

        return _Step()
