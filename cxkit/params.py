"""Read parameter files (YAML).

A params file is a YAML mapping. Keys are the parameters of the notebook that
renders it (``title``, ``as_of``, ``data``, ...); ``notebook`` names that
notebook. Relative paths inside it are resolved against the file's folder,
which is remembered under the private key ``_base_dir``.

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "x.yaml"
>>> _ = p.write_text("as_of: 2026-09-30\\ndata: {customers: c.csv}\\n")
>>> read_params(p)["as_of"]
'2026-09-30'
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cxkit.errors import ParamsError

__all__ = ["read_params"]


def _plain(value):
    """YAML dates become ISO strings: notebook parameters stay plain text."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def read_params(path: str | Path) -> dict:
    """Read a params YAML file into a dict, with ``_base_dir`` set to its folder.

    Raises
    ------
    ParamsError
        The file is missing, is not valid YAML, or is not a mapping.
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"params file not found: {path}")
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ParamsError(f"{path}: not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    if content is None:
        content = {}
    if not isinstance(content, dict):
        raise ParamsError(f"{path}: expected a mapping of parameter names to values")
    bad = [k for k in content if not isinstance(k, str)]
    if bad:
        raise ParamsError(f"{path}: parameter names must be text, got {bad[:5]}")
    content = _plain(content)
    content["_base_dir"] = str(path.resolve().parent)
    return content
