"""Read parameter files (YAML) as plain data, within limits.

A params file is a YAML mapping. Keys are the parameters of the notebook that
renders it (``title``, ``as_of``, ``data``, ...); ``notebook`` names that
notebook. Relative paths inside it are resolved against the file's folder,
which is remembered under the private key ``_base_dir``.

A params file is data, never code: it is read with YAML's safe loader (no
Python objects), and within limits so that a hostile or broken file fails with
a message instead of exhausting memory or the stack:

* at most :data:`MAX_BYTES` bytes,
* at most :data:`MAX_DEPTH` levels of nesting,
* at most :data:`MAX_ALIASES` aliases (``*name``), which stops "billion laughs" files,
* at most :data:`MAX_NODES` values in all.

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
import math
from pathlib import Path

from cxkit.errors import ParamsError

__all__ = ["read_params", "parse_params", "MAX_BYTES", "MAX_DEPTH", "MAX_ALIASES", "MAX_NODES"]

MAX_BYTES = 1_000_000
MAX_DEPTH = 20
MAX_ALIASES = 100
MAX_NODES = 100_000


class _Limit(Exception):
    """A params file broke one of the size limits."""


def _limited_loader():
    import yaml

    class LimitedLoader(yaml.SafeLoader):
        """SafeLoader that counts aliases, nesting depth and nodes while composing."""

        def __init__(self, stream):
            super().__init__(stream)
            self._depth = self._aliases = self._nodes = 0

        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                self._aliases += 1
                if self._aliases > MAX_ALIASES:
                    raise _Limit(f"more than {MAX_ALIASES} aliases (*name); write the values out")
            self._nodes += 1
            if self._nodes > MAX_NODES:
                raise _Limit(f"more than {MAX_NODES:,} values")
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise _Limit(f"nested deeper than {MAX_DEPTH} levels")
            try:
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1

        def construct_mapping(self, node, deep=False):
            """A key given twice is refused (YAML would keep the last one without a word: ``as_of`` twice)."""
            if isinstance(node, yaml.MappingNode):
                seen = {}
                for key_node, _ in node.value:
                    if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, yaml.ScalarNode):
                        continue
                    key = self.construct_object(key_node, deep=False)
                    if key in seen:
                        raise yaml.constructor.ConstructorError(
                            None, None, f"the key {key!r} is given twice (first at line {seen[key] + 1}); keep one",
                            key_node.start_mark)
                    seen[key] = key_node.start_mark.line
            return super().construct_mapping(node, deep=deep)

    return LimitedLoader


def _one_line(text: str, where: str) -> str:
    """A text without line breaks: the one a YAML block (``title: >``) ends with is dropped; one inside is refused,
    since every text of a params file may reach a mail header, a figure or a file name (a query is exempt)."""
    trimmed = text.rstrip("\r\n")
    if "\r" in trimmed or "\n" in trimmed or "\x00" in trimmed:
        shown = f"{trimmed[:60]!r}{'...' if len(trimmed) > 60 else ''}"
        raise ParamsError(f"{where}: {shown} holds a line break (or a NUL); it reaches headers, figures and file "
                          "names: write it on one line")
    return trimmed


def _plain(value, where: str = "params", budget: list | None = None):
    """YAML dates become ISO strings (notebook parameters stay plain text); NaN and infinities are refused.

    ``budget`` counts values as aliases expand them, so a small file cannot grow into a huge structure.
    """
    budget = [MAX_NODES] if budget is None else budget
    budget[0] -= 1
    if budget[0] < 0:
        raise ParamsError(f"params: refused: more than {MAX_NODES:,} values once aliases are expanded")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and not where.endswith(".query"):
        return _one_line(value, where)
    if isinstance(value, float) and not math.isfinite(value):
        raise ParamsError(f"{where}: {value!r} is not a usable number")
    if isinstance(value, dict):
        for k in value:
            if isinstance(k, str):
                _one_line(k, f"{where}: the key {k!r}")
        return {k: _plain(v, f"{where}.{k}" if where != "params" else str(k), budget) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, where, budget) for v in value]
    return value


def parse_params(text: str, name: str = "params") -> dict:
    """Parse the text of a params file into a dict (no ``_base_dir``).

    Raises
    ------
    ParamsError
        Not valid YAML, over a limit, not a mapping, or a key that is not text.

    Examples
    --------
    >>> parse_params("n_boot: 200")
    {'n_boot': 200}
    >>> try:
    ...     parse_params("a: !!python/object:os.system echo")
    ... except Exception as exc:
    ...     print(type(exc).__name__)
    ParamsError
    """
    import yaml

    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise ParamsError(f"{name}: over {MAX_BYTES:,} bytes; a params file is a short list of settings")
    try:
        content = yaml.load(text, Loader=_limited_loader())  # noqa: S506 - a SafeLoader subclass
    except _Limit as exc:
        raise ParamsError(f"{name}: refused: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or exc
        if "'\\t'" in str(problem):
            problem = f"{problem} (indent with spaces: YAML does not allow tabs there)"
        raise ParamsError(f"{name}: not valid YAML{where}: {problem}") from None
    except RecursionError:  # the scanner recurses on flow collections before compose_node sees them
        raise ParamsError(f"{name}: refused: nested deeper than {MAX_DEPTH} levels") from None
    if content is None:
        content = {}
    if not isinstance(content, dict):
        raise ParamsError(f"{name}: expected a mapping of parameter names to values")
    bad = [k for k in content if not isinstance(k, str)]
    if bad:
        raise ParamsError(f"{name}: parameter names must be text, got {bad[:5]}")
    return _plain(content)


def read_params(path: str | Path) -> dict:
    """Read a params YAML file into a dict, with ``_base_dir`` set to its folder.

    Raises
    ------
    ParamsError
        The file is missing, too large, not UTF-8, not valid YAML, or not a mapping.
    """
    path = Path(path)
    if path.is_dir():
        raise ParamsError(f"{path} is a folder; give a params file (cxkit batch takes folders)")
    if not path.is_file():
        import difflib

        near = difflib.get_close_matches(path.name, [p.name for p in path.parent.glob("*.y*ml")], n=1) \
            if path.parent.is_dir() else []
        hint = f" (did you mean {path.parent / near[0]}?)" if near else \
            f" (there is no folder {path.parent} here; cxkit init DIR starts a project with params/demo.yaml)" \
            if not path.parent.is_dir() else ""
        raise ParamsError(f"params file not found: {path}{hint}")
    if path.stat().st_size > MAX_BYTES:
        raise ParamsError(f"{path}: over {MAX_BYTES:,} bytes; a params file is a short list of settings")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ParamsError(f"{path}: not UTF-8 text; save the params file as UTF-8") from None
    content = parse_params(text, str(path))
    content["_base_dir"] = str(path.resolve().parent)
    return content
