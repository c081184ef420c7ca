"""Everything checked before a report runs, in one place: ``cxkit validate`` and ``cxkit render`` both call it.

:func:`preflight` reads the params file (safely, within limits), checks it
against the notebook's parameters cell, validates the data at the gateway,
applies the audience slice, checks that the data can carry a report at all, and
works out where the report will be written, refusing any place outside the
output folder. Because render runs exactly this before executing anything,
``cxkit validate`` cannot say "ok" for a params file that ``render`` rejects.

Examples
--------
>>> plan = preflight("params/demo.yaml", "reports")              # doctest: +SKIP
>>> plan.run_dir                                                  # doctest: +SKIP
PosixPath('/.../reports/demo')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from cxkit.contract import MIN_SEGMENT_SIZE
from cxkit.errors import ParamsError

__all__ = ["Plan", "preflight", "run_name_of", "run_dir_in", "resolve_notebook", "notebook_origin", "check_writable",
           "MIN_CUSTOMERS", "RUN_NAME"]

#: A run name is one plain folder name: letters, digits, ``-``, ``_`` and ``.``, starting with a letter or digit.
RUN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
#: Fewer customers than this (after the slice) cannot carry a report: nothing in it could be estimated.
MIN_CUSTOMERS = 10
DEFAULT_NOTEBOOK = "01-leadership-report"


@dataclass
class Plan:
    """A checked params file: what will run, on which data, and where it will land."""

    params_path: Path
    notebook: Path
    parameters: dict  # what the notebook receives (data paths made absolute)
    effective: dict  # every notebook parameter, defaults filled in
    data: object  # CXData, sliced
    raw: dict  # the params file as read
    run_name: str
    run_dir: Path
    store: object = None  # the batch's AnalysisStore the data was read from, if any


def run_name_of(raw: dict, params_path) -> str:
    """The run's folder name: ``run_name`` from the params file, else the file's stem; a plain name only.

    Examples
    --------
    >>> run_name_of({}, "params/quarter/region-west.yaml")
    'region-west'
    >>> try:
    ...     run_name_of({"run_name": "../../escape"}, "x.yaml")
    ... except Exception as exc:
    ...     print(exc)
    run_name: '../../escape' is not a plain name; use letters, digits, '-', '_' and '.' (it names a folder inside --out)
    """
    name = raw.get("run_name", Path(params_path).stem)
    if isinstance(name, str) and RUN_NAME.fullmatch(name):  # starts with a letter or digit: never "." or ".."
        return name
    if "run_name" not in raw:
        raise ParamsError(f"{params_path}: the file name {name!r} cannot name a report folder; "
                          "rename the file or set run_name (letters, digits, '-', '_' and '.')")
    raise ParamsError(f"run_name: {name!r} is not a plain name; use letters, digits, '-', '_' and '.' "
                      "(it names a folder inside --out)")


def run_dir_in(out_dir, run_name: str) -> Path:
    """``out_dir/run_name``, resolved, and refused unless it lies inside ``out_dir`` (symlinks followed)."""
    out = Path(out_dir).expanduser().resolve()
    run_dir = (out / run_name).resolve()
    if run_dir.parent != out:
        raise ParamsError(f"run_name: {run_name!r} would write outside {out}")
    if out.exists() and not out.is_dir():
        raise ParamsError(f"--out: {out} is a file, not a folder")
    if run_dir.exists() and not run_dir.is_dir():
        raise ParamsError(f"run_name: {run_dir} exists and is not a folder")
    return run_dir


def check_writable(run_dir: Path) -> None:
    """Refuse an output place the kit cannot write: a read-only file system, or a folder without write access
    (the nearest folder that exists, when the run folder does not yet)."""
    import os

    place = Path(run_dir)
    while not place.exists() and place.parent != place:
        place = place.parent
    read_only = bool(os.statvfs(place).f_flag & os.ST_RDONLY) if hasattr(os, "statvfs") else False
    if read_only or not os.access(place, os.W_OK | os.X_OK):
        why = "is on a read-only file system" if read_only else "is not writable for this user"
        raise ParamsError(f"--out: {place} {why}; the report cannot be written there (choose another --out)")


def _absolute_data(data: dict, base_dir: Path) -> dict:
    from cxkit.sources import URL, resolve_path

    if not isinstance(data, dict):
        raise ParamsError("data: expected a mapping of table -> source (see docs/guide/data.md, 'Params files')")
    out = {}
    for table, spec in data.items():
        if table == "engine":  # data.engine: local or warehouse, not a table
            out[table] = spec
            continue
        spec = {"path": spec} if isinstance(spec, str) else dict(spec) if isinstance(spec, dict) else spec
        if isinstance(spec, dict) and isinstance(spec.get("path"), str) and not URL.match(spec["path"].strip()):
            path, tried = resolve_path(spec["path"], base_dir, f"data.{table}")
            if len(tried) > 1:  # found nowhere: name every place looked in, not only the first
                demo = "; cxkit demo writes the demo data" if Path(spec["path"]).parts[-3:-1] == ("data", "demo") \
                    else ""
                raise ParamsError(f"data.{table}: file not found: {' or '.join(map(str, tried))}{demo}")
            spec["path"] = str(path)
        out[table] = spec
    return out


def resolve_notebook(name, base_dir: Path | None = None) -> Path:
    """A notebook by path (relative to the params file or the current folder) or by name: in the
    ``notebooks/`` of the params file's project, then of the current folder's project, then the kit's own.
    Found nowhere, the error names the notebooks each folder holds and every path looked at, in order."""
    from cxkit.paths import NOTEBOOK_DIR, project_dirs

    if not isinstance(name, str) or not name.strip():
        raise ParamsError(f"notebook: expected a notebook name, got {name!r}")
    candidates = [Path(base_dir) / name] if base_dir is not None else []
    folders = [root / "notebooks" for root in project_dirs(*(s for s in (base_dir, Path.cwd()) if s is not None))]
    folders = list(dict.fromkeys([*folders, NOTEBOOK_DIR.resolve()]))
    candidates += [Path(name), *(f / n for f in folders for n in (name, f"{name}.ipynb"))]
    for path in candidates:
        if path.is_file() and path.suffix == ".ipynb":
            return path.resolve()
    known = "; ".join(f"{'the kit' if f == NOTEBOOK_DIR.resolve() else f}: "
                      f"{', '.join(sorted(p.stem for p in f.glob('*.ipynb'))) or 'none'}" for f in folders)
    tried = ", ".join(str(p if p.is_absolute() else Path.cwd() / p) for p in dict.fromkeys(candidates))
    raise ParamsError(f"notebook: {name!r} not found (notebooks in {known}); looked for, in order: {tried}")


def notebook_origin(notebook: Path) -> str:
    """Whose notebook this is, for messages: ``the kit's`` or the path it was found at."""
    from cxkit.paths import NOTEBOOK_DIR

    return "the kit's" if Path(notebook).parent == NOTEBOOK_DIR.resolve() else str(notebook)


def _check_reportable(data, effective: dict) -> None:
    """What is known before executing and would leave nothing to report: too few customers, no answers.

    The score checks apply to notebooks that band customers by a score (those with a ``score`` parameter).
    """
    n = data.row_counts.get("customers", 0)
    who = f"the slice {data.slice_by}" if data.slice_by else "the data"
    if n < MIN_CUSTOMERS:
        raise ParamsError(f"{who} has {n:,} customer{'s' if n != 1 else ''} as of {data.as_of or 'the snapshot'}; "
                          f"a report needs at least {MIN_CUSTOMERS}")
    _check_owners(data, effective.get("owners"))
    if "score" not in effective:
        return
    score = effective["score"] or "nps"
    if data.scores and score not in data.scores:
        raise ParamsError(f"score: {score!r} is not in the data (scores: {', '.join(data.scores)})")
    if not data.scores:
        raise ParamsError(f"{who} has no survey score (nps, csat or effort): map one in data.customers.columns "
                          "or give a responses table")
    table = "responses" if data.has("responses") else "customers"
    answered = data.con.execute(f"SELECT count({score}) FROM {table}").fetchone()[0]
    if answered == 0:
        when = f" on or before as_of {data.as_of}" if data.as_of and table == "responses" else ""
        raise ParamsError(f"{who} has no {score} answers{when}: nothing to band customers by")


#: Owners' keys that always name a kind of action of the leader brief (cxkit.brief); the data adds its churn
#: reasons and segment columns.
OWNER_KINDS = ("care", "product", "region")


def _check_owners(data, owners) -> None:
    """An ``owners`` key that is a near miss of a kind of action the brief can assign (care, product, region, a
    churn reason or a segment column of the data) is a typo that would leave its action's owner silently
    unassigned: refused, naming the kind meant. A key like nothing known passes (a churn reason another data
    set has, say)."""
    import difflib

    if not isinstance(owners, dict) or not owners:
        return
    whole = data
    while whole.parent is not None:  # an audience's reasons are those of all its data
        whole = whole.parent
    known = list(OWNER_KINDS) + list(data.segments)
    if whole.has("customers", "churn_reason"):
        known += [str(r[0]) for r in whole.con.execute(
            "SELECT DISTINCT CAST(churn_reason AS VARCHAR) FROM customers WHERE churn_reason IS NOT NULL "
            "ORDER BY 1 LIMIT 50").fetchall()]
    lower = {k.lower(): k for k in known}
    for key in owners:
        close = difflib.get_close_matches(str(key).lower(), sorted(lower), n=1, cutoff=0.75)
        if str(key).lower() not in lower and close:
            raise ParamsError(f"owners.{key}: no action of the brief is of that kind; did you mean {lower[close[0]]}? "
                              f"(owners can name: {', '.join(dict.fromkeys(known))})")


def checked_parameters(raw: dict, where: str):
    """``(notebook, declared, parameters, effective)`` of a params file's content: the notebook it names,
    its declared parameters, the file's parameters checked against them (data paths made absolute) and
    every parameter with defaults filled in. Raises ``ParamsError`` naming what is wrong."""
    from cxkit.nbparams import check_params, notebook_parameters

    base_dir = Path(raw["_base_dir"])
    notebook = resolve_notebook(raw.get("notebook", DEFAULT_NOTEBOOK), base_dir)
    declared = notebook_parameters(notebook)
    parameters = check_params(raw, declared, where=where)
    if parameters.get("data"):
        parameters["data"] = _absolute_data(parameters["data"], base_dir)
    from cxkit.nbparams import RENDER_ONLY

    defaults = {p.name: p.default for p in declared if p.name not in RENDER_ONLY}
    return notebook, declared, parameters, defaults | parameters


def data_spec(effective: dict) -> dict:
    """What :func:`cxkit.load.load` reads for these parameters (the demo data when none is named); the same
    dict keys a batch's analysis store (:func:`cxkit.store.store_key`)."""
    from cxkit.demo import demo_sources

    return {"data": effective.get("data") or demo_sources(), "as_of": effective.get("as_of"),
            "min_segment_size": effective.get("min_segment_size", MIN_SEGMENT_SIZE)}


def preflight(params_path, out_dir="reports", *, min_segment_size: int | None = None, store=None) -> Plan:
    """Run every check that ``render`` runs before executing anything; return the :class:`Plan`.

    Parameters
    ----------
    params_path : str or Path
        A params YAML file.
    out_dir : str or Path
        The reports folder the run would be written into.
    min_segment_size : int, optional
        Overrides the params file's ``min_segment_size``.
    store : AnalysisStore, optional
        A batch's analysis store: when its key matches this file's data, the validated tables are read
        from it instead of validating the inputs again (``Plan.store``; otherwise None).

    Raises
    ------
    ParamsError, ValidationError
        Naming what is wrong; nothing has been written.
    """
    from cxkit.load import load
    from cxkit.params import read_params
    from cxkit.render.folders import check_run_folder

    raw = read_params(params_path)
    if "audiences" in raw:
        raise ParamsError(f"{params_path} describes one report per audience (audiences:): render them with "
                          f"cxkit batch {params_path}; cxkit validate {params_path} checks every audience")
    run_name = run_name_of(raw, params_path)
    run_dir = run_dir_in(out_dir, run_name)
    check_writable(run_dir)
    check_run_folder(run_dir)  # never write into a folder that no manifest of the kit's claims
    if min_segment_size is not None:
        raw["min_segment_size"] = min_segment_size
    notebook, declared, parameters, effective = checked_parameters(raw, str(params_path))
    if parameters.get("store") is not None:
        raise ParamsError(f"{params_path}: store: set by cxkit batch for the reports it renders, never in a params "
                          "file; remove it")
    from cxkit.render.mail import email_settings
    from cxkit.store import store_key

    if raw.get("email") is not None:
        raw["email"] = email_settings(raw)  # checked addresses and subject template, before anything runs
    spec = data_spec(effective)
    if "data" in {p.name for p in declared} and not parameters.get("data"):
        # the demo data this process found, named to the kernel: it runs in the notebook's folder (the kit's
        # own, for a notebook found there), where it would look for the demo data somewhere else
        parameters["data"] = spec["data"]
    if store is not None and "store" in {p.name for p in declared} and store.key == store_key(**spec):
        # validated once for the whole batch: the same tables, warnings and fingerprints; a warehouse's rows
        # stay there (the store holds the shared numbers only), so this report checks its data there itself
        data = store.data() if store.holds_rows else store.attached_to(load(spec, pin=True))
    else:
        data, store = load(spec, pin=True), None
    data = data.subset(effective.get("parent_slice"), copy=False).subset(effective.get("slice_by"), copy=False)
    _check_reportable(data, effective)
    return Plan(Path(params_path), notebook, parameters, effective, data, raw, run_name, run_dir, store)
