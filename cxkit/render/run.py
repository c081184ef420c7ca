"""Render one params file: check, validate, execute, export HTML / PDF / slides, publish atomically.

Everything is written to a staging folder first and moved into ``reports/<run>/``
file by file with ``os.replace`` only when every step succeeded, so a failed or
interrupted run never leaves a half-written ``report.html`` or ``report.pdf`` in
place of a good one. A failing cell's partial notebook is kept under
``reports/<run>/failed/`` for debugging.
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

__all__ = ["render", "RenderResult", "NOTEBOOK_DIR", "resolve_notebook"]

from cxkit.errors import CxkitError, OutputError  # noqa: E402
from cxkit.paths import NOTEBOOK_DIR  # noqa: E402
from cxkit.render.folders import MARKER, check_run_folder, claim, claim_failed, staging_folder, sweep_stale  # noqa: E402
from cxkit.render.preflight import resolve_notebook  # noqa: E402
from cxkit.render.signals import deferred_signals  # noqa: E402
from cxkit.sources import check_unchanged  # noqa: E402

MAX_HTML_BYTES = 3_000_000
_OUTPUTS = ("report.json", "report.html", "report.pdf", "report.pptx", "manifest.json")


@dataclass
class RenderResult:
    """Where a rendered report landed and how long each step took."""

    run_dir: Path
    outputs: list
    seconds: dict
    fingerprint: str
    skipped: bool = False  # the published run was made from the same data, parameters and code


def render(params_path, out_dir: str | Path = "reports", pdf: bool = True, pptx: bool | None = None,
           progress=False, force: bool = False, warm: bool = False, store=None) -> RenderResult:
    """Render the report a params file describes into ``out_dir/<run>/``.

    Parameters
    ----------
    params_path : str or Path
        A params YAML file (its ``notebook`` key picks the notebook; default the leadership report).
    out_dir : str or Path
        Parent folder of the run folder (default ``reports``).
    pdf : bool
        Also print ``report.pdf``.
    pptx : bool, optional
        Also write ``report.pptx``; default the params file's ``pptx`` key (False).
    progress : bool or dict
        Papermill's progress bar.
    force : bool
        Render even when the published run was made from the same data, parameters and code (otherwise
        such a rerun is skipped: ``RenderResult.skipped``).
    warm : bool
        Execute on this process's warm kernel (kept across renders, its namespace emptied between
        notebooks) instead of starting one, and print the PDF with a browser kept open between reports:
        what a batch worker does.
    store : AnalysisStore, optional
        A batch's analysis store (:mod:`cxkit.store`): when it holds this file's data, the data is not
        validated again and the notebook reads it, and the numbers shared across audiences, from the store.
        The report is the same as without it.

    Returns
    -------
    RenderResult

    Raises
    ------
    ParamsError, ValidationError
        Before anything runs (:func:`~cxkit.render.preflight.preflight`), for bad parameters or data.
    NotebookError
        A cell failed (named in the message); the partial notebook is kept.
    """
    from cxkit.render.manifest import Timer
    from cxkit.render.preflight import preflight

    timer = Timer()
    with timer("check_and_validate"):
        plan = preflight(params_path, out_dir, store=store)
    try:
        return _render(plan, params_path, timer, pdf, pptx, progress, force, warm)
    finally:
        plan.data.close()  # a batch worker renders hundreds of reports: no connection may outlive its report


def _render(plan, params_path, timer, pdf, pptx, progress, force, warm) -> RenderResult:
    """:func:`render` after the preflight."""
    from cxkit import __version__
    from cxkit.document import brief_of, record_from_notebook, summary_of
    from cxkit.narrative import date_line
    from cxkit.periods import label_of
    from cxkit.render.execute import NotebookError, run_notebook
    from cxkit.render.manifest import content_hash, package_versions, run_fingerprint
    from cxkit.render.renditions import write_renditions

    notebook, parameters, effective, data, raw = plan.notebook, plan.parameters, plan.effective, plan.data, plan.raw
    pptx = bool(raw.get("pptx", False)) if pptx is None else pptx
    run_name, run_dir = plan.run_name, plan.run_dir
    out_dir = run_dir.parent
    inputs = [src.fingerprint() for src in data.sources.values()]
    versions = package_versions()
    fingerprint = run_fingerprint(effective, inputs, versions)
    content = content_hash(fingerprint, notebook, {"parameters": effective, "email": raw.get("email"), "pdf": pdf,
                                                   "pptx": pptx, "run": run_name})
    if not force and _unchanged(run_dir, content, pdf, pptx):
        return RenderResult(run_dir, [run_dir / name for name in _OUTPUTS if (run_dir / name).exists()],
                            dict(timer.seconds), fingerprint, skipped=True)
    sweep_stale(out_dir)  # what a killed run into this folder left behind
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        staging = staging_folder(out_dir, run_name)
    except OSError as exc:
        raise OutputError(_cannot_write(exc, run_dir)) from None
    executed = staging / notebook.name
    try:
        with timer("execute"):
            given = parameters if plan.store is None else {**parameters, "store": str(plan.store.path)}
            nb = run_notebook(notebook, executed, given, progress, warm=warm)
        when = date_line(data)
        meta = {"title": str(effective.get("title", notebook.stem)), "run": run_name, "fingerprint": fingerprint,
                "notebook": notebook.name, "version": __version__,
                "footer": f"{when[0].upper()}{when[1:]} · run {fingerprint} · cxkit {__version__}",
                "page_size": effective.get("page_size", "A4"),
                "orientation": effective.get("orientation", "landscape"),
                "audience": effective.get("audience"), "as_of": str(data.as_of) if data.as_of else None,
                "period_label": label_of(data.as_of, effective.get("period", "M")) if data.as_of else None,
                "email": raw.get("email")}
        record, files = record_from_notebook(nb, meta)
        for name, blob in files.items():
            (staging / name).write_bytes(blob)
        (staging / "report.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
        engine = write_renditions(staging, record, pdf=pdf, pptx=pptx, timer=timer, keep_browser=warm)
        manifest = {"run": run_name, "fingerprint": fingerprint, "content_hash": content, "notebook": notebook.name,
                    "params_file": str(Path(params_path).resolve()), "parameters": effective,
                    "as_of": str(data.as_of) if data.as_of else None, "inputs": inputs, "row_counts": data.row_counts,
                    "slice_by": data.slice_by, "summary": summary_of(record),
                    "headline": (brief_of(record) or {}).get("headline", {}).get("text"),
                    "store": plan.store.key if plan.store is not None else None,
                    "versions": versions, "pdf_engine": engine,
                    "html_bytes": (staging / "report.html").stat().st_size, "seconds": timer.seconds}
        manifest["files"] = sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*")
                                   if p.is_file() and p.name != MARKER) + ["manifest.json"]
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
        check_unchanged(data.sources, "while the report was rendered")
        with deferred_signals():  # all of the run or none of it: a signal waits until the last file is in place
            outputs = _publish(staging, run_dir, executed.name)
    except BaseException as exc:
        kept = None
        if executed.exists() and (isinstance(exc, NotebookError) or not isinstance(exc, KeyboardInterrupt | OSError
                                                                                       | CxkitError)):
            kept = _keep_failed(executed, run_dir)  # a failing cell (or a bug): the partial notebook shows where
        if isinstance(exc, NotebookError) and kept is not None:
            raise NotebookError(exc.notebook, exc.cell_index, exc.ename, exc.evalue, exc.source, kept) from None
        if isinstance(exc, OSError):  # a full disk (a buffered write's error names no file), a read-only one, ...
            raise OutputError(_cannot_write(exc, run_dir)) from None
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if manifest["html_bytes"] > MAX_HTML_BYTES:
        import warnings

        from cxkit.errors import CxkitWarning

        warnings.warn(f"{run_dir / 'report.html'} is {manifest['html_bytes'] / 1e6:.1f} MB, over the 3 MB that mail "
                      "handles well", CxkitWarning, stacklevel=2)
    return RenderResult(run_dir, outputs, timer.seconds, fingerprint)


def _cannot_write(exc: OSError, run_dir: Path) -> str:
    """Why the report could not be written, for the user: the system's reason and the file, no traceback."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    where = f" ({exc.filename})" if exc.filename else ""
    return (f"cannot write the report: {reason}{where}; nothing was published"
            + (f" and the previous report in {run_dir} is as it was" if run_dir.exists() else ""))


def _keep_failed(executed: Path, run_dir: Path) -> Path | None:
    """Keep a failed run's partial notebook in ``run_dir/failed/``; None when it cannot be kept (a full disk,
    a folder that is not the kit's)."""
    try:
        if run_dir.exists() and any(run_dir.iterdir()) and claim(run_dir) is None:
            return None  # never write into a folder the kit does not own
        fresh = claim(run_dir) is None
        failed = run_dir / "failed"
        failed.mkdir(parents=True, exist_ok=True)
        shutil.copy2(executed, failed / executed.name)
        if fresh:
            claim_failed(run_dir, executed.name)
        return failed / executed.name
    except OSError:
        return None


def _unchanged(run_dir: Path, content: str, pdf: bool, pptx: bool) -> bool:
    """The published run has this content hash and every output asked for."""
    try:
        manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    wanted = ["report.json", "report.html", *(["report.pdf"] if pdf else []), *(["report.pptx"] if pptx else [])]
    return manifest.get("content_hash") == content and all((run_dir / name).is_file() for name in wanted)


def _publish(staging: Path, run_dir: Path, notebook_name: str) -> list[Path]:
    """Move finished outputs into ``run_dir``: one atomic rename per file, figures swapped as a folder."""
    import os

    check_run_folder(run_dir)  # again: the folder may have appeared since the preflight
    run_dir.mkdir(parents=True, exist_ok=True)
    outputs = []
    for name in (*_OUTPUTS, notebook_name):
        src, dst = staging / name, run_dir / name
        if src.exists():
            os.replace(src, dst)
            outputs.append(dst)
        elif name in ("report.pdf", "report.pptx") and dst.exists():
            dst.unlink()  # an output this run did not make must not pass for one it did
    old = run_dir / f".figures-old-{uuid.uuid4().hex[:8]}"
    if (run_dir / "figures").exists():
        os.replace(run_dir / "figures", old)
    os.replace(staging / "figures", run_dir / "figures")
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(run_dir / "failed", ignore_errors=True)
    outputs.append(run_dir / "figures")
    return outputs
