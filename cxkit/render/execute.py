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


_WARM: dict = {}  # kernel working folder -> (kernel manager, its socket folder), one per process
_RESET = "%reset -f\nimport matplotlib.pyplot as _plt\n_plt.close('all')\ndel _plt"


def _warm_kernel(cwd: Path):
    """This process's warm kernel for notebooks in ``cwd``: started once, the kit imported by the first
    notebook and kept; each later notebook starts from an emptied namespace (``%reset -f``)."""
    import atexit
    import tempfile

    from jupyter_core.utils import run_sync

    key = str(Path(cwd).resolve())
    entry = _WARM.get(key)
    if entry is not None and run_sync(entry[0].is_alive)():
        return entry[0]
    runtime = Path(tempfile.mkdtemp(prefix="cxk-"))
    with _environ(CXKIT_PNG_FIGURES=1, JUPYTER_RUNTIME_DIR=runtime, MPLBACKEND="Agg", PYDEVD_DISABLE_FILE_VALIDATION=1):
        km = _ipc_kernel_manager(runtime)(kernel_name="python3")
        run_sync(km.start_kernel)(cwd=key)
    if not _WARM:
        atexit.register(shutdown_warm_kernels)
    _WARM[key] = (km, runtime)
    return km


def _stop(km, runtime: Path) -> None:
    import shutil

    from jupyter_core.utils import run_sync

    try:
        run_sync(km.shutdown_kernel)(now=True)
    except Exception:  # noqa: BLE001 - a kernel that already died needs no shutdown
        pass
    shutil.rmtree(runtime, ignore_errors=True)


def shutdown_warm_kernels() -> None:
    """Stop this process's warm kernels and remove their sockets."""
    while _WARM:
        _stop(*_WARM.popitem()[1])


def _discard_warm(cwd: Path) -> None:
    """Stop the warm kernel of ``cwd`` (after a failure): the next notebook starts a clean one."""
    entry = _WARM.pop(str(Path(cwd).resolve()), None)
    if entry is not None:
        _stop(*entry)


def _reset_warm(km, cwd: Path) -> None:
    """Empty the warm kernel's namespace (the kit stays imported), through papermill like any notebook."""
    import nbformat
    import papermill as pm

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(_RESET)],
                                  metadata={"kernelspec": {"name": "python3", "language": "python",
                                                           "display_name": "Python 3"}})
    pm.execute_notebook(nb, None, kernel_name="python3", cwd=str(cwd), progress_bar=False, log_output=False,
                        km=km)


def run_notebook(notebook: Path, output: Path, parameters: dict, progress=False, timeout: int = 1800,
                 warm: bool = False):
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

    if warm:
        return _run_warm(notebook, output, parameters, progress, timeout)
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
        _discard_warm(cwd)
        raise NotebookError(Path(notebook).name, _source_index(Path(output), exc.cell_index), exc.ename,
                            exc.evalue, exc.source, Path(output)) from None
    except BaseException:
        _discard_warm(cwd)
        raise
    _reset_warm(_warm_kernel(cwd), cwd)
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
