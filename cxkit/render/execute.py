"""Run a notebook with papermill on a kernel that talks over IPC sockets, not TCP ports.

Kernels started in parallel over TCP can race for the same port (papermill
#578); IPC sockets have unique file names, so a batch never collides.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from cxkit.errors import CxkitError

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


def _ipc_kernel_manager(socket_dir: Path):
    """A kernel manager whose sockets are files in ``socket_dir``, private to this run.

    jupyter_client names IPC sockets ``<ip>-<n>`` with ``ip`` relative to the working
    directory by default, so two kernels started in the same folder would share them.
    The kernel's own stdout and stderr (its log lines, such as "KeyboardInterrupt caught in
    kernel" on every shutdown, or a ZMQ traceback when Ctrl-C stops the run) go to
    ``socket_dir/kernel.log``, not to the user's terminal: what a cell prints reaches the
    notebook through the kernel's messages anyway.
    """
    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("transport", "ipc")
            kwargs.setdefault("ip", str(socket_dir / "k"))
            super().__init__(*args, **kwargs)

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            log = open(socket_dir / "kernel.log", "ab")  # noqa: SIM115 - the kernel process holds it open
            try:
                kw.setdefault("stdout", log)
                kw.setdefault("stderr", log)
                return await super()._async_launch_kernel(kernel_cmd, **kw)
            finally:
                log.close()  # the child has its own descriptor now

        _launch_kernel = _async_launch_kernel

    return IPCKernelManager


@contextmanager
def _environ(**values):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update({k: str(v) for k, v in values.items()})
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_notebook(notebook: Path, output: Path, parameters: dict, progress=False, timeout: int = 1800):
    """Execute ``notebook`` into ``output`` with ``parameters``.

    The report's blocks come back in the executed notebook's outputs (:mod:`cxkit.document`); figures
    carry a PNG for slides (``CXKIT_PNG_FIGURES``).

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

    runtime = Path(tempfile.mkdtemp(prefix="cxk-"))  # short: Unix socket paths are limited to ~107 bytes
    try:
        with _environ(CXKIT_PNG_FIGURES=1, JUPYTER_RUNTIME_DIR=runtime, MPLBACKEND="Agg",
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


def _source_index(executed: Path, index: int) -> int:
    """Index of a cell in the source notebook: papermill's injected-parameters cell is not there."""
    import nbformat

    try:
        cells = nbformat.read(str(executed), as_version=4).cells
    except (OSError, ValueError):
        return index
    injected = [i for i, c in enumerate(cells) if "injected-parameters" in c.get("metadata", {}).get("tags", [])]
    return index - 1 if injected and injected[0] < index else index
