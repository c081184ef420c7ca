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

from cxkit.errors import ParamsError

__all__ = ["render", "RenderResult", "NOTEBOOK_DIR", "resolve_notebook", "prepare"]

from cxkit.paths import NOTEBOOK_DIR  # noqa: E402

DEFAULT_NOTEBOOK = "01-leadership-report"
MAX_HTML_BYTES = 3_000_000
_OUTPUTS = ("report.html", "report.pdf", "report.pptx", "manifest.json")


@dataclass
class RenderResult:
    """Where a rendered report landed and how long each step took."""

    run_dir: Path
    outputs: list
    seconds: dict
    fingerprint: str


def resolve_notebook(name: str, base_dir: Path | None = None) -> Path:
    """A notebook by path (relative to the params file) or by name in ``notebooks/``."""
    candidates = []
    if base_dir is not None:
        candidates.append(Path(base_dir) / name)
    candidates += [Path(name), NOTEBOOK_DIR / name, NOTEBOOK_DIR / f"{name}.ipynb"]
    for path in candidates:
        if path.is_file():
            return path.resolve()
    known = ", ".join(sorted(p.stem for p in NOTEBOOK_DIR.glob("*.ipynb")))
    raise ParamsError(f"notebook: {name!r} not found (notebooks: {known})")


def _absolute_data(data: dict, base_dir: Path) -> dict:
    out = {}
    for table, spec in data.items():
        spec = {"path": spec} if isinstance(spec, str) else dict(spec)
        if spec.get("path") and not Path(spec["path"]).expanduser().is_absolute():
            spec["path"] = str((Path(base_dir) / spec["path"]).resolve())
        out[table] = spec
    return out


def prepare(params_path) -> tuple:
    """Read and check a params file before anything runs; validate its data at the gateway.

    Returns
    -------
    notebook : Path
    parameters : dict
        What the notebook receives (data paths made absolute).
    effective : dict
        Every notebook parameter with defaults filled in.
    data : CXData
    raw : dict
        The params file as read.
    """
    from cxkit.load import load
    from cxkit.nbparams import check_params, notebook_parameters
    from cxkit.params import read_params
    from cxkit.report import demo_data

    raw = read_params(params_path)
    base_dir = Path(raw["_base_dir"])
    notebook = resolve_notebook(raw.get("notebook", DEFAULT_NOTEBOOK), base_dir)
    declared = notebook_parameters(notebook)
    parameters = check_params(raw, declared, where=str(params_path))
    if parameters.get("data"):
        parameters["data"] = _absolute_data(parameters["data"], base_dir)
    effective = {p.name: p.default for p in declared} | parameters
    data = load({"data": effective.get("data") or demo_data(), "as_of": effective.get("as_of"),
                 "min_segment_size": effective.get("min_segment_size", 30)})
    data = data.subset(effective.get("slice_by"))
    return notebook, parameters, effective, data, raw


def render(params_path, out_dir: str | Path = "reports", pdf: bool = True, pptx: bool | None = None,
           progress=False) -> RenderResult:
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

    Returns
    -------
    RenderResult

    Raises
    ------
    ParamsError, ValidationError
        Before anything runs, for bad parameters or data.
    NotebookError
        A cell failed (named in the message); the partial notebook is kept.
    """
    from cxkit import __version__
    from cxkit.render.execute import NotebookError, run_notebook
    from cxkit.render.html import notebook_to_html
    from cxkit.render.manifest import Timer, package_versions, run_fingerprint
    from cxkit.render.pdf import html_to_pdf
    from cxkit.render.slides import write_pptx

    timer = Timer()
    with timer("check_and_validate"):
        notebook, parameters, effective, data, raw = prepare(params_path)
    pptx = bool(raw.get("pptx", False)) if pptx is None else pptx
    run_name = str(raw.get("run_name") or Path(params_path).stem)
    out_dir = Path(out_dir).resolve()
    run_dir = out_dir / run_name
    staging = out_dir / f".staging-{run_name}-{uuid.uuid4().hex[:8]}"
    figures = staging / "figures"
    figures.mkdir(parents=True)
    inputs = [src.fingerprint() for src in data.sources.values()]
    versions = package_versions()
    fingerprint = run_fingerprint(effective, inputs, versions)
    executed = staging / notebook.name
    try:
        with timer("execute"):
            nb = run_notebook(notebook, executed, parameters, figures, progress)
        records = _take_records(figures)
        as_of = effective.get("as_of") if data.mode == "dated" else "snapshot"
        footer = f"Data as of {as_of} · run {fingerprint} · cxkit {__version__}"
        title = str(effective.get("title", notebook.stem))
        with timer("html"):
            page = notebook_to_html(nb, title, footer, effective.get("page_size", "A4"),
                                    effective.get("orientation", "landscape"), __version__)
            (staging / "report.html").write_text(page, encoding="utf-8")
        if pdf:
            with timer("pdf"):
                engine = html_to_pdf(staging / "report.html", staging / "report.pdf")
        if pptx:
            with timer("pptx"):
                write_pptx(figures, staging / "report.pptx", title, footer, **records)
        manifest = {"run": run_name, "fingerprint": fingerprint, "notebook": notebook.name,
                    "params_file": str(Path(params_path).resolve()), "parameters": effective,
                    "as_of": str(data.as_of) if data.as_of else None, "inputs": inputs, "row_counts": data.row_counts,
                    "slice_by": data.slice_by, "summary": records["summary"],
                    "versions": versions, "pdf_engine": engine if pdf else None,
                    "html_bytes": (staging / "report.html").stat().st_size, "seconds": timer.seconds}
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
        outputs = _publish(staging, run_dir, executed.name)
    except BaseException as exc:
        if executed.exists():
            failed = run_dir / "failed"
            failed.mkdir(parents=True, exist_ok=True)
            shutil.copy2(executed, failed / executed.name)
            if isinstance(exc, NotebookError):
                raise NotebookError(exc.notebook, exc.cell_index, exc.ename, exc.evalue, exc.source,
                                    failed / executed.name) from None
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if manifest["html_bytes"] > MAX_HTML_BYTES:
        import warnings

        from cxkit.errors import CxkitWarning

        warnings.warn(f"{run_dir / 'report.html'} is {manifest['html_bytes'] / 1e6:.1f} MB, over the 3 MB that mail "
                      "handles well", CxkitWarning, stacklevel=2)
    return RenderResult(run_dir, outputs, timer.seconds, fingerprint)


def _take_records(folder: Path) -> dict:
    """What the notebook recorded beside its figures (summary, notes, figure index), read once and removed
    so that ``figures/`` holds only the PNG and SVG files."""
    def take(name, lines=False):
        path = folder / name
        if not path.exists():
            return []
        text = path.read_text()
        path.unlink()
        return [json.loads(line) for line in text.splitlines()] if lines else json.loads(text)

    return {"summary": take("summary.json"), "notes": take("notes.json"), "figures": take("index.jsonl", True)}


def _publish(staging: Path, run_dir: Path, notebook_name: str) -> list[Path]:
    """Move finished outputs into ``run_dir``: one atomic rename per file, figures swapped as a folder."""
    import os

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
