"""Kernels for notebooks: on IPC sockets (no TCP ports to race for), and kept warm in batch workers.

A batch worker keeps one kernel per notebook folder for all its reports (:func:`warm_kernel`): the
first notebook imports the kit, every later one starts from an emptied namespace. The papermill engine
that runs notebooks on it is :mod:`cxkit.render.warm`.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

__all__ = ["warm_kernel", "warm_client", "reset_namespace", "discard_warm", "shutdown_warm_kernels", "RESET_SOURCE"]


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
_CLIENTS: dict = {}  # kernel working folder -> the one client that talks to that warm kernel
#: Empties the namespace between notebooks. ``%reset -f`` runs two full garbage collections, which walk every
#: object of the imported stack (0.2 s a report); freezing what survives a reset (the modules and their
#: caches), after its collections, takes those objects out of later ones, so the next resets only walk
#: the last report's objects.
RESET_SOURCE = ("import matplotlib.pyplot as _plt\n_plt.close('all')\n%reset -f\n"
                "import gc as _gc\n_gc.freeze()\ndel _gc")


def warm_kernel(cwd: Path):
    """This process's warm kernel for notebooks in ``cwd``: started once, the kit imported by the first
    notebook and kept; each later notebook starts from an emptied namespace (``%reset -f``)."""
    import atexit
    import tempfile

    from jupyter_core.utils import run_sync

    from cxkit.render.raster import kernel_png_flag

    key = str(Path(cwd).resolve())
    entry = _WARM.get(key)
    if entry is not None and run_sync(entry[0].is_alive)():
        return entry[0]
    runtime = Path(tempfile.mkdtemp(prefix="cxk-"))
    with _environ(CXKIT_PNG_FIGURES=kernel_png_flag(), JUPYTER_RUNTIME_DIR=runtime, MPLBACKEND="Agg",
                  PYDEVD_DISABLE_FILE_VALIDATION=1):
        km = _ipc_kernel_manager(runtime)(kernel_name="python3")
        run_sync(km.start_kernel)(cwd=key)
    if not _WARM:
        atexit.register(shutdown_warm_kernels)
    _WARM[key] = (km, runtime)
    return km


def warm_client(cwd: Path):
    """The one client of the warm kernel for ``cwd``, started once and kept: starting a client costs
    0.2 s (it waits for the kernel's output channel to fall quiet), twice per report (the notebook and
    the reset). Every notebook and reset on that kernel goes through it, so no second client is ever left
    listening to the outputs of the notebooks that follow."""
    from jupyter_core.utils import run_sync

    key = str(Path(cwd).resolve())
    km = warm_kernel(cwd)
    kc = _CLIENTS.get(key)
    if kc is not None and kc.channels_running and _WARM[key][0] is km:
        return kc
    if kc is not None:
        kc.stop_channels()
    kc = km.client()
    kc.start_channels()
    try:
        run_sync(kc.wait_for_ready)(timeout=60)
    except BaseException:
        kc.stop_channels()
        raise
    kc.allow_stdin = False
    _CLIENTS[key] = kc
    return kc


def reset_namespace(cwd: Path, timeout: float = 60) -> None:
    """Empty the warm kernel's namespace (the kit stays imported) through its kept client; a kernel that
    cannot be emptied is stopped instead, so the next notebook starts a clean one."""
    from jupyter_core.utils import run_sync

    try:
        reply = run_sync(warm_client(cwd).execute_interactive)(RESET_SOURCE, timeout=timeout,
                                                               output_hook=lambda msg: None)
        ok = reply["content"]["status"] == "ok"
    except Exception:  # noqa: BLE001 - a kernel that cannot reset is not reused
        ok = False
    if not ok:
        discard_warm(cwd)


def _stop(km, runtime: Path) -> None:
    import shutil

    from jupyter_core.utils import run_sync

    try:
        run_sync(km.shutdown_kernel)(now=True)
    except Exception:  # noqa: BLE001 - a kernel that already died needs no shutdown
        pass
    shutil.rmtree(runtime, ignore_errors=True)


def _drop_client(key: str) -> None:
    kc = _CLIENTS.pop(key, None)
    if kc is not None:
        kc.stop_channels()


def shutdown_warm_kernels() -> None:
    """Stop this process's warm kernels and their clients, and remove their sockets."""
    while _WARM:
        key, entry = _WARM.popitem()
        _drop_client(key)
        _stop(*entry)


def discard_warm(cwd: Path) -> None:
    """Stop the warm kernel of ``cwd`` (after a failure): the next notebook starts a clean one."""
    _drop_client(str(Path(cwd).resolve()))
    entry = _WARM.pop(str(Path(cwd).resolve()), None)
    if entry is not None:
        _stop(*entry)
