"""Run a notebook with papermill on a kernel that talks over IPC sockets, not TCP ports.

Kernels started in parallel over TCP can race for the same port (papermill
#578); IPC sockets have unique file names, so a batch never collides.
"""

from __future__ import annotations

from pathlib import Path

from cxkit.errors import CxkitError
from cxkit.render.kernels import (  # noqa: F401  (the warm kernels' old home; tests and callers import them here)
    _WARM,
    _environ,
    _ipc_kernel_manager,
    discard_warm,
    reset_namespace,
    shutdown_warm_kernels,
    warm_kernel,
)

__all__ = ["NotebookError", "run_notebook"]


class NotebookError(CxkitError):
    """A cell failed; names the cell and the error. The partial notebook is kept at ``partial``."""

    def __init__(self, notebook: str, cell_index: int, ename: str, evalue: str, source: str, partial: Path | None):
        self.notebook, self.source = notebook, source
        self.cell_index, self.ename, self.evalue, self.partial = cell_index, ename, evalue, partial
        first = next((line for line in source.splitlines() if line.strip()), "")
        kept = f"\n  the partial notebook is kept at {partial}" if partial else ""
        super().__init__(f"{notebook}: cell {cell_index} (counting from 0) failed with {ename}: {evalue}\n"
                         f"  cell starts: {first[:100]}{kept}")


def run_notebook(notebook: Path, output: Path, parameters: dict, progress=False, timeout: int = 1800,
                 warm: bool = False):
    """Execute ``notebook`` into ``output`` with ``parameters``.

    The report's blocks come back in the executed notebook's outputs (:mod:`cxkit.document`); figures
    carry a PNG only where no browser can draw one later (:func:`cxkit.render.raster.kernel_png_flag`).

    Parameters
    ----------
    progress : bool or dict
        papermill's progress bar (a dict passes tqdm options such as ``position``).

    Raises
    ------
    NotebookError
        A cell failed; the partially executed notebook stays at ``output``.
    """
    import shutil
    import tempfile

    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    from cxkit.render.raster import kernel_png_flag

    if warm:
        return _run_warm(notebook, output, parameters, progress, timeout)
    runtime = Path(tempfile.mkdtemp(prefix="cxk-"))  # short: Unix socket paths are limited to ~107 bytes
    try:
        with _environ(CXKIT_PNG_FIGURES=kernel_png_flag(), JUPYTER_RUNTIME_DIR=runtime, MPLBACKEND="Agg",
                      PYDEVD_DISABLE_FILE_VALIDATION=1):
            return pm.execute_notebook(str(notebook), str(output), parameters=parameters, kernel_name="python3",
                                       cwd=str(Path(notebook).parent), progress_bar=progress, log_output=False,
                                       kernel_manager_class=_ipc_kernel_manager(runtime),
                                       execution_timeout=timeout,
                                       request_save_on_cell_execute=True)
    except PapermillExecutionError as exc:
        raise NotebookError(Path(notebook).name, _source_index(Path(output), exc.cell_index), exc.ename,
                            exc.evalue, exc.source, Path(output)) from None
    finally:
        shutil.rmtree(runtime, ignore_errors=True)


def _run_warm(notebook: Path, output: Path, parameters: dict, progress, timeout: int):
    """:func:`run_notebook` through the ``cxkit-warm`` engine; a failed notebook takes its kernel down with
    it, so the next one starts clean. The notebook is written once at the end (and on a failure, by
    papermill), not after every cell: a report's notebook carries megabytes of figures."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    from cxkit.render.warm import register

    cwd = Path(notebook).parent
    register()
    try:
        nb = pm.execute_notebook(str(notebook), str(output), parameters=parameters, kernel_name="python3",
                                 cwd=str(cwd), progress_bar=progress, log_output=False, engine_name="cxkit-warm",
                                 execution_timeout=timeout, request_save_on_cell_execute=False)
    except PapermillExecutionError as exc:
        discard_warm(cwd)
        raise NotebookError(Path(notebook).name, _source_index(Path(output), exc.cell_index), exc.ename,
                            exc.evalue, exc.source, Path(output)) from None
    except BaseException:
        discard_warm(cwd)
        raise
    reset_namespace(cwd)  # a kernel that cannot be emptied is stopped: the next notebook starts a clean one
    return nb


def _source_index(executed: Path, index: int) -> int:
    """Index of a cell in the source notebook: papermill's injected-parameters cell is not there."""
    import nbformat

    try:
        cells = nbformat.read(str(executed), as_version=4).cells
    except (OSError, ValueError):
        return index
    injected = [i for i, c in enumerate(cells) if "injected-parameters" in c.get("metadata", {}).get("tags", [])]
    return index - 1 if injected and injected[0] < index else index
