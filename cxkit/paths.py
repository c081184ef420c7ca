"""Where things are: the kit's own notebooks and sample params, and the project a command runs in.

A *project* is a folder laid out as ``cxkit init`` writes it: ``notebooks/``, ``params/`` and ``reports/``.
The repository is one; so is each team's folder. The kit carries its own notebooks and sample params: in a
clone they are the repository's ``notebooks/`` and ``params/``; in an installed wheel they are package data
under ``cxkit/project/`` (built from the same folders, see ``[tool.setuptools]`` in ``pyproject.toml``).

Nothing here imports anything heavy or touches the disk on import beyond one ``is_dir``.

Examples
--------
>>> import pathlib, tempfile
>>> team = pathlib.Path(tempfile.mkdtemp())
>>> for name in ("notebooks", "params/quarter"):
...     (team / name).mkdir(parents=True)
>>> project_root(team / "params" / "quarter") == team
True
>>> project_root(pathlib.Path(tempfile.mkdtemp())) is None
True
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["ROOT", "KIT_PROJECT", "NOTEBOOK_DIR", "PARAMS_DIR", "project_root", "project_dirs", "demo_dir",
           "cache_dir"]

_PACKAGE = Path(__file__).resolve().parent
#: The folder above the package: the repository in a clone, ``site-packages`` in an installed wheel.
ROOT = _PACKAGE.parent
#: The kit's own project (its ``notebooks/`` and ``params/``): package data in a wheel, else the repository.
KIT_PROJECT = _PACKAGE / "project" if (_PACKAGE / "project").is_dir() else ROOT
NOTEBOOK_DIR = KIT_PROJECT / "notebooks"
PARAMS_DIR = KIT_PROJECT / "params"


def project_root(start: str | Path | None = None) -> Path | None:
    """The nearest of ``start`` (default the current folder) and its parents that holds ``notebooks/``
    and ``params/``; None when there is none."""
    here = Path(start if start is not None else Path.cwd()).expanduser().resolve()
    for folder in (here, *here.parents):
        if (folder / "notebooks").is_dir() and (folder / "params").is_dir():
            return folder
    return None


def project_dirs(*starts) -> list[Path]:
    """The projects of ``starts`` (a params file's folder, the current folder, ...), nearest first, each once."""
    found = (project_root(s) for s in (starts or (None,)))
    return list(dict.fromkeys(p for p in found if p is not None))


def cache_dir() -> Path:
    """The kit's per-user cache: ``$XDG_CACHE_HOME/cxkit``, ``~/.cache/cxkit`` or, on Windows,
    ``%LOCALAPPDATA%/cxkit``."""
    base = os.environ.get("XDG_CACHE_HOME") or (os.environ.get("LOCALAPPDATA") if os.name == "nt" else None)
    return Path(base).expanduser() / "cxkit" if base else Path.home() / ".cache" / "cxkit"


def demo_dir(start: str | Path | None = None) -> Path:
    """Where the built-in demo data lives: ``reports/data/demo`` in the project of ``start`` (default the
    current folder), else in ``start`` itself; in the kit's per-user cache when that folder is inside the
    installed kit (a kernel running one of the kit's own notebooks): nothing is ever written into the package."""
    here = Path(start if start is not None else Path.cwd()).expanduser().resolve()
    root = project_root(here) or here
    if root == _PACKAGE or _PACKAGE in root.parents:
        return cache_dir() / "demo"
    return root / "reports" / "data" / "demo"
