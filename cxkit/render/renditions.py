"""The renditions of a report record: HTML, PDF and slides, each from ``report.json`` and its figures.

A run writes them after executing the notebook; ``cxkit rerender RUN_DIR`` writes them again from the
record alone, without a kernel. A new rendition (email) is a new function here, reading the same record.
"""

from __future__ import annotations

import json
import os
import uuid
from contextlib import nullcontext
from pathlib import Path

__all__ = ["write_renditions", "rerender"]


def write_renditions(folder: Path, record: dict, pdf: bool = True, pptx: bool = False, timer=None,
                     keep_browser: bool = False) -> str | None:
    """Write ``report.html`` (and ``report.pdf``, ``report.pptx``) into ``folder`` from ``record``.

    Returns the PDF engine used (None without a PDF).
    """
    from cxkit.document import figures_of, with_files
    from cxkit.render.html import record_to_html
    from cxkit.render.pdf import html_to_pdf
    from cxkit.render.raster import figure_pngs
    from cxkit.render.slides import write_pptx

    folder = Path(folder)

    def step(name):
        return timer(name) if timer is not None else nullcontext()

    with step("html"):
        page = record_to_html(with_files(record, folder))
        (folder / "report.html").write_text(page, encoding="utf-8")
    engine = None
    if pdf:
        with step("pdf"):
            engine = html_to_pdf(folder / "report.html", folder / "report.pdf", keep=keep_browser)
    if pptx:
        with step("pptx"):
            write_pptx(folder / "figures", folder / "report.pptx", record,
                       figures=figure_pngs(folder, figures_of(record), keep=keep_browser))
    return engine


def rerender(run_dir, pdf: bool = True, pptx: bool | None = None) -> list[Path]:
    """Rebuild a run's renditions from its ``report.json``, without a kernel; each file replaced atomically.

    Parameters
    ----------
    pptx : bool, optional
        Default: write slides only when the run had them.
    """
    from cxkit.errors import ParamsError

    run_dir = Path(run_dir)
    source = run_dir / "report.json"
    if not source.is_file():
        raise ParamsError(f"{run_dir}: no report.json here; rerender needs a run folder written by cxkit render")
    try:
        record = json.loads(source.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ParamsError(f"{source}: not a report record ({exc})") from None
    from cxkit.document import RECORD_VERSION

    if record.get("version") != RECORD_VERSION:
        raise ParamsError(f"{source}: record version {record.get('version')!r}; this cxkit reads {RECORD_VERSION}")
    if not (run_dir / "figures").is_dir():
        raise ParamsError(f"{run_dir}: no figures/ folder here; rerender draws the report from report.json and its "
                          "figures: render the report again (cxkit render)")
    from cxkit.document import figures_of

    missing = [b["svg_file"] for b in figures_of(record) if "svg" not in b and b.get("svg_file")
               and not (run_dir / b["svg_file"]).is_file()]
    if missing:
        raise ParamsError(f"{run_dir}: {len(missing)} of the report's figures are missing (e.g. {missing[0]}); "
                          "rerender draws from them: render the report again (cxkit render)")
    pptx = (run_dir / "report.pptx").exists() if pptx is None else pptx
    staging = run_dir / f".rerender-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        os.symlink((run_dir / "figures").resolve(), staging / "figures")
        write_renditions(staging, record, pdf=pdf, pptx=pptx)
        written = []
        for name in ("report.html", "report.pdf", "report.pptx"):
            if (staging / name).exists():
                os.replace(staging / name, run_dir / name)
                written.append(run_dir / name)
        return written
    finally:
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
