"""Audiences from the data: one params file with an ``audiences:`` block becomes one report per audience.

.. code-block:: yaml

    title: "{label}: customer experience and value, the year to September 2026"
    audience: "{label} leadership"
    focus: region
    audiences:
      by: region                 # a column, a list of columns ([region, plan]) or a hierarchy ("region > plan")
      min_customers: 200         # smaller audiences are skipped, with a note (default 30)
      email: {to: ["{value}-leads@example.com"]}
      extra:                     # audiences named by hand: whole overrides of the file's parameters
        - {run_name: care, title: "Customer care", audience: "Customer care", focus: care}

Each audience's params are the file's own, with ``slice_by`` set to its values (and, below the top of
a hierarchy, ``parent_slice`` to its parent's, so a team is compared with its region and with everyone),
``run_name`` from them (``region-west``), and ``{label}``, ``{value}``, ``{column}`` filled in ``title``,
``audience`` and the email addresses (other fields, such as ``{title}`` in a subject, are kept for later).
The values and their customer counts are read from the data validated once, into the batch's analysis
store (:mod:`cxkit.render.stores`). The expanded files are written inside the output folder (``.audiences/``), with
data paths made absolute, so each report renders, checks and fingerprints as if it were its own file.
"""

from __future__ import annotations

import re
from pathlib import Path

from cxkit.errors import ParamsError, RunFolderConflict

__all__ = ["expand_audiences", "Skipped"]

_KEYS = {"by", "min_customers", "email", "extra"}


class Skipped:
    """An audience left out, and why (too few customers)."""

    def __init__(self, run: str, note: str):
        self.run, self.note = run, note


def _levels(by) -> list[list[str]]:
    """``region`` -> [[region]]; ``[region, plan]`` -> [[region, plan]];
    ``region > plan`` -> [[region], [region, plan]] (each region, then each plan within it)."""
    hierarchy = isinstance(by, str) and ">" in by
    cols = [c.strip() for c in by.split(">")] if hierarchy else [by] if isinstance(by, str) else list(by or [])
    if not cols or not all(isinstance(c, str) and c for c in cols):
        raise ParamsError("audiences.by: expected a column, a list of columns or a hierarchy such as 'region > plan'"
                          + (f", not {by!r} (a level is empty)" if hierarchy else ""))
    return [cols[: i + 1] for i in range(len(cols))] if hierarchy else [cols]


def _slug(text: str) -> str:
    """A folder-name part: accents dropped (``Zürich`` -> ``zurich``), anything else not a letter or digit a ``-``."""
    import unicodedata

    plain = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-") or "audience"


def _distinct(run: str, values) -> str:
    """``run`` with a short hash of the values it was made from: two values that slug alike (``North-East`` and
    ``north east``, two names of emoji only) each get a run name of their own."""
    import hashlib

    return f"{run}-{hashlib.sha256(repr([str(v) for v in values]).encode()).hexdigest()[:6]}"


def _run_part(column: str, value) -> str:
    """``region``, ``West`` -> ``region-west``; a value that already names its column (``team-082``) stays as it is,
    not ``team-team-082``."""
    col, val = _slug(column), _slug(value)
    return val if val == col or val.startswith(col + "-") else f"{col}-{val}"


class _Keep(dict):
    """Template fields: an audience's own filled in, any other (``{title}`` in an email subject) kept as written."""

    def __missing__(self, key):
        return "{" + key + "}"


def _fill(value, fields: dict):
    if isinstance(value, str):
        try:
            return value.format_map(_Keep(fields))
        except (IndexError, ValueError, AttributeError) as exc:
            raise ParamsError(f"audiences: {value!r} is not a template ({exc}); use {{label}}, {{value}}, "
                              "{column}") from None
    if isinstance(value, list):
        return [_fill(v, fields) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, fields) for k, v in value.items()}
    return value


def _plan(planned: dict, run: str, params: dict, path) -> None:
    """Add an audience's params under its run name; two audiences may not share one folder."""
    if run in planned:
        first, second = (p.get("slice_by") or p.get("audience") or run for p in (planned[run], params))
        raise RunFolderConflict(f"{path}: audiences: {first} and {second} would both render into "
                                f"{run!r}; give one of them another run_name (or values that differ in more than "
                                "case and punctuation)")
    planned[run] = params


def expand_audiences(path: Path, out_dir: Path) -> tuple[list[Path], list[Skipped]]:
    """The params files of each audience of ``path`` (written under ``out_dir/.audiences``), and those skipped."""
    import yaml

    from cxkit.contract import MIN_SEGMENT_SIZE
    from cxkit.demo import demo_sources
    from cxkit.load import load
    from cxkit.params import read_params
    from cxkit.render.preflight import _absolute_data, checked_parameters
    from cxkit.render.stores import cluster_columns, effective_params, open_or_build, store_data

    raw = read_params(path)
    block = raw.pop("audiences")
    base_dir = Path(raw.pop("_base_dir"))
    if not isinstance(block, dict):
        raise ParamsError(f"{path}: audiences: expected a mapping with by (and min_customers, email, extra)")
    unknown = set(block) - _KEYS
    if unknown:
        raise ParamsError(f"{path}: audiences: unknown key(s) {sorted(unknown)}; allowed: {sorted(_KEYS)}")
    minimum = block.get("min_customers", MIN_SEGMENT_SIZE)
    if isinstance(minimum, bool) or not isinstance(minimum, int) or minimum < 1:
        raise ParamsError(f"{path}: audiences.min_customers: expected a whole number of customers, at least 1")
    if raw.get("data"):
        raw["data"] = _absolute_data(raw["data"], base_dir)
    shared = raw | {"_base_dir": str(base_dir)}
    checked_parameters(shared, str(path))  # a file that does not fit its notebook fails before its data is read
    plan = effective_params(shared, str(path))
    levels = _levels(block.get("by")) if block.get("by") else []
    if plan is not None:  # validated once, into the batch's store (in the audiences' order), which they all read
        extras = [e["slice_by"] for e in block.get("extra") or [] if isinstance(e, dict)
                  and isinstance(e.get("slice_by"), dict)]
        order = cluster_columns([*(dict.fromkeys(cols) for cols in levels), *extras])
        data = store_data(open_or_build(plan[1], out_dir, order), plan[1])
    else:
        data = load({"data": raw.get("data") or demo_sources(), "as_of": raw.get("as_of")})
    missing = [c for cols in levels for c in cols if c not in data.segments]
    if missing:  # every level checked before any audience is written
        raise ParamsError(f"{path}: audiences.by: {missing[0]!r} is not a segment column "
                          f"(segments: {', '.join(data.segments) or 'none'})")
    planned, skipped = {}, []  # run file -> params, written once every audience checks out
    hierarchy = isinstance(block.get("by"), str) and ">" in block["by"]
    for cols in levels:
        select = ", ".join(f'CAST("{c}" AS VARCHAR)' for c in cols)
        rows = data.sql(f"SELECT {select}, count(*) FROM customers GROUP BY ALL ORDER BY ALL").fetchall()
        slugs = ["-".join(_run_part(c, v) for c, v in zip(cols, row[:-1], strict=True)) for row in rows]
        for slug, (*values, n) in zip(slugs, rows, strict=True):
            run = _distinct(slug, values) if slugs.count(slug) > 1 else slug
            if n < minimum:
                skipped.append(Skipped(run, f"{n:,} customers, under audiences.min_customers {minimum:,}"))
                continue
            fields = {"label": " / ".join(map(str, values)), "value": "-".join(_slug(v) for v in values),
                      "column": cols[-1]}
            params = {k: v for k, v in raw.items() if k not in ("run_name",)}
            for key in ("title", "audience"):
                if key in params:
                    params[key] = _fill(params[key], fields)
            if block.get("email"):  # the audience's recipients over the file's email settings (its subject)
                params["email"] = {**(params.get("email") or {}), **_fill(block["email"], fields)}
            params["slice_by"] = dict(zip(cols, values, strict=True))
            if hierarchy and len(cols) > 1:  # a team within its region: compared with the region and everyone
                params["parent_slice"] = dict(zip(cols[:-1], values[:-1], strict=True))
            params["run_name"] = run
            _plan(planned, run, params, path)
    for i, extra in enumerate(block.get("extra") or []):
        if not isinstance(extra, dict) or not extra.get("run_name"):
            raise ParamsError(f"{path}: audiences.extra[{i}]: expected a mapping with a run_name")
        base = {k: v for k, v in raw.items() if k not in ("run_name", "slice_by")}
        label = str(extra.get("audience") or extra["run_name"])
        base = {k: _fill(v, {"label": label, "value": _slug(label), "column": ""}) if k in ("title", "audience")
                else v for k, v in base.items()}
        params = base | extra
        if params.get("slice_by") is None:
            params.pop("slice_by", None)
        _plan(planned, str(extra["run_name"]), params, path)
    if not planned:
        raise ParamsError(f"{path}: audiences: no audience has {minimum:,} customers or more")
    folder = Path(out_dir) / ".audiences"
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for run, params in planned.items():
        target = folder / f"{run}.yaml"
        target.write_text(yaml.safe_dump(params, allow_unicode=True, sort_keys=False), encoding="utf-8")
        files.append(target)
    return files, skipped
