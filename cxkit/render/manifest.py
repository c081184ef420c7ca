"""What a run was made from: parameters, input fingerprints, row counts, versions, timings."""

from __future__ import annotations

import hashlib
import json
import platform
import time
from functools import cache
from importlib import metadata

__all__ = ["package_versions", "run_fingerprint", "content_hash", "Timer"]

_PACKAGES = ("cxkit", "numpy", "scipy", "pandas", "pyarrow", "duckdb", "lifelines", "matplotlib", "papermill",
             "nbconvert", "python-pptx")


def package_versions() -> dict:
    """The versions of Python and the packages behind the numbers (read once per process)."""
    return dict(_versions())


@cache
def _versions() -> dict:
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


def content_hash(fingerprint: str, notebook, extra: dict | None = None) -> str:
    """What a finished run was made from, beyond its numbers: the run fingerprint, the notebook, the kit's
    own code and templates, and ``extra`` (title, email block, renditions asked for). A rerun whose hash
    matches the published run's has nothing new to show and is skipped.
    """
    from pathlib import Path

    digest = hashlib.sha256(fingerprint.encode())
    digest.update(Path(notebook).read_bytes())
    package = Path(__file__).resolve().parents[1]
    for path in sorted(p for p in package.rglob("*") if p.suffix in (".py", ".css", ".j2") and p.is_file()):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    digest.update(json.dumps(extra or {}, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:16]


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
