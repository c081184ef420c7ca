"""A notebook's typed parameters cell, and checking a params file against it before anything runs.

The first code cell of a report notebook is tagged ``parameters`` and holds one
typed line per parameter, with its help after ``#``::

    as_of: str = "2026-09-30"  # analysis date (YYYY-MM-DD)
    data: dict = None  # data sources (None: the built-in demo data)

Papermill only warns about unknown parameters; :func:`check_params` refuses
them, and checks types and values, naming the key.

Examples
--------
>>> p = parse_parameters('horizon_months: int = 60  # months of value counted')
>>> p[0].name, p[0].type, p[0].default, p[0].help
('horizon_months', 'int', 60, 'months of value counted')
"""

from __future__ import annotations

import ast
import datetime as dt
import io
import tokenize
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cxkit.errors import ParamsError

__all__ = ["Parameter", "parse_parameters", "notebook_parameters", "check_params", "RESERVED", "RENDER_ONLY",
           "describe"]

#: Keys of a params file that steer the renderer and are not notebook parameters.
RESERVED = {"notebook", "run_name", "pptx", "email", "audiences", "_base_dir"}
#: Of those, what a notebook may declare only so that papermill runs a params file without an "unknown
#: parameter" warning: never handed to the notebook, checked by the renderer itself, no part of a run's numbers.
RENDER_ONLY = {"run_name", "pptx", "email", "audiences"}

_TYPES = {"str": str, "int": int, "float": (int, float), "bool": bool, "dict": dict, "list": list}


def _date(value):
    dt.date.fromisoformat(str(value))


#: Value rules for well-known parameter names: (check, what is allowed).
VALUE_RULES = {
    "as_of": (_date, "a date YYYY-MM-DD"),
    "page_size": (lambda v: v in ("A4", "Letter"), "A4 or Letter"),
    "orientation": (lambda v: v in ("landscape", "portrait"), "landscape or portrait"),
    "discount_rate": (lambda v: 0 <= v < 1, "between 0 and 1 (0.10 = 10% a year)"),
    "share_moved": (lambda v: 0 < v <= 1, "between 0 and 1 (0.10 = 10%)"),
    "horizon_months": (lambda v: 1 <= v <= 600, "1 to 600 months"),
    "n_boot": (lambda v: 20 <= v <= 5000, "20 to 5000 replicates"),
    "min_segment_size": (lambda v: v >= 1, "at least 1"),
    "min_at_risk": (lambda v: v >= 1, "at least 1 customer"),
    "nps_window_months": (lambda v: 1 <= v <= 120, "1 to 120 months (null: answers of any age)"),
    "alpha": (lambda v: 0 < v < 0.5, "between 0 and 0.5"),
    "clock": (lambda v: v in ("response", "tenure_entry", "tenure"), "response, tenure_entry or tenure"),
    "which": (lambda v: v in ("latest", "first"), "latest or first"),
    "score": (lambda v: v in ("nps", "csat", "effort"), "nps, csat or effort"),
    "period": (lambda v: v in ("M", "Q"), "M (months) or Q (quarters)"),
    "focus": (lambda v: v in ("leadership", "product", "care", "region"), "leadership, product, care or region"),
    "window_days": (lambda v: 1 <= v <= 730, "1 to 730 days"),
    "lag_days": (lambda v: 0 <= v <= 365, "0 to 365 days"),
    "period_months": (lambda v: 1 <= v <= 120, "1 to 120 months"),
}


@dataclass(frozen=True)
class Parameter:
    """One line of a parameters cell."""

    name: str
    type: str
    default: object
    help: str

    @property
    def required(self) -> bool:
        """A parameter whose default is None and whose help does not say what None means."""
        return self.default is None and "None" not in self.help


def parse_parameters(source: str) -> list[Parameter]:
    """Parse ``name: type = default  # help`` lines of a parameters cell."""
    comments = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string.lstrip("#").strip()
    params = []
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            raise ParamsError(f"parameters cell, line {node.lineno}: write 'name: type = default  # help'")
        kind = ast.unparse(node.annotation)
        if kind not in _TYPES:
            raise ParamsError(f"parameters cell: {node.target.id} has type {kind}; use one of {', '.join(_TYPES)}")
        default = ast.literal_eval(node.value) if node.value is not None else None
        params.append(Parameter(node.target.id, kind, default, comments.get(node.lineno, "")))
    return params


def notebook_parameters(notebook: str | Path) -> list[Parameter]:
    """The parameters declared in a notebook's cell tagged ``parameters``.

    Read once per version of the file (its path, size and modified time) in a process: a batch worker checks
    every report's params against the same notebook. Each call gets its own copy of the defaults.
    """
    import copy
    from dataclasses import replace

    stat = Path(notebook).stat()
    declared = _declared(str(Path(notebook).resolve()), stat.st_size, stat.st_mtime_ns)
    return [replace(p, default=copy.deepcopy(p.default)) for p in declared]


@lru_cache(maxsize=16)
def _declared(path: str, size: int, mtime_ns: int) -> tuple[Parameter, ...]:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            return tuple(parse_parameters(cell.source))
    raise ParamsError(f"{path}: no code cell is tagged 'parameters'")


def check_params(params: dict, parameters: list[Parameter], where: str = "params") -> dict:
    """Check a params dict against declared parameters; return the notebook's share of it.

    Raises
    ------
    ParamsError
        Naming every unknown key, missing required key, wrong type or bad value.
    """
    declared = {p.name: p for p in parameters}
    problems = []
    import difflib

    for key in params:
        if key not in declared and key not in RESERVED:
            close = difflib.get_close_matches(str(key), [*declared, *RESERVED - {"_base_dir"}], n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            problems.append(f"{key}: unknown parameter ({hint}known: {', '.join(sorted(declared))})")
    for p in parameters:
        if p.required and params.get(p.name) is None and p.name not in RENDER_ONLY:
            problems.append(f"{p.name}: missing required parameter ({p.help})")
    for key, value in params.items():
        if key not in declared or value is None or key in RENDER_ONLY:
            continue
        p = declared[key]
        expected = _TYPES[p.type]
        if (p.type in ("int", "float") and isinstance(value, bool)) or not isinstance(value, expected):
            problems.append(f"{key}: expected {p.type}, got {type(value).__name__} {value!r}")
            continue
        rule = VALUE_RULES.get(key)
        if rule is not None:
            try:
                ok = rule[0](value)
            except (ValueError, TypeError):
                ok = False
            if ok is False:
                problems.append(f"{key}: {value!r} is not allowed; use {rule[1]}")
    if problems:
        raise ParamsError(f"{where} does not fit the notebook's parameters:\n  - " + "\n  - ".join(problems))
    return {k: v for k, v in params.items() if k in declared and k not in RENDER_ONLY}


def describe(parameters: list[Parameter]) -> str:
    """Parameters as a table for the terminal (``cxkit params NOTEBOOK``)."""
    width = max(len(p.name) for p in parameters)
    lines = [f"{'name':<{width}}  {'type':<5}  {'default':<22}  help"]
    for p in parameters:
        default = "(required)" if p.required else repr(p.default)
        default = default if len(default) <= 22 else default[:19] + "..."
        rule = VALUE_RULES.get(p.name)
        extra = f" [{rule[1]}]" if rule else ""
        lines.append(f"{p.name:<{width}}  {p.type:<5}  {default:<22}  {p.help}{extra}")
    return "\n".join(lines)
