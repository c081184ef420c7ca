"""Ending cleanly on SIGTERM and SIGINT: one line, exit 143 or 130, no process of the kit left running.

The ``cxkit`` command turns SIGTERM into :class:`Terminated` (a ``KeyboardInterrupt``, so every path that
cleans up after Ctrl-C cleans up after it too: staging folders removed, kernels stopped). Publishing a run is
one short critical section (:func:`deferred_signals`): a signal arriving then waits until the last file is in
place, so a run is published whole or not at all.

A batch's workers ignore SIGINT (Ctrl-C reaches the whole process group: the command decides) and end on the
SIGTERM the command sends them (:func:`worker_signals`): a worker between reports stops its kernels and exits
at once; one rendering a report unwinds it (its staging folder removed), then does the same. Whatever still
runs after a grace period, kernels and browsers included, is killed (:func:`end_processes`).

Examples
--------
>>> with deferred_signals():   # doctest: +SKIP
...     publish()
"""

from __future__ import annotations

import os
import signal
import time
from contextlib import contextmanager

__all__ = ["Terminated", "install", "deferred_signals", "worker_signals", "rendering", "descendants",
           "end_processes", "exit_code"]


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: the run ends as it would on Ctrl-C, with exit status 143."""


_STATE = {"defer": 0, "pending": None, "worker": False, "rendering": False}


def exit_code(exc: BaseException) -> int:
    """143 for SIGTERM (:class:`Terminated`), 130 for Ctrl-C."""
    return 128 + signal.SIGTERM if isinstance(exc, Terminated) else 128 + signal.SIGINT


def _raise(signum: int):
    import logging

    # Unwinding tears the kernel's client down mid-cell: nbclient would log "Kernel died while waiting for
    # execute reply", asyncio "Task exception was never retrieved". The user asked to stop: one line says so.
    logging.disable(logging.CRITICAL)
    if signum == signal.SIGTERM:
        raise Terminated()
    raise KeyboardInterrupt()


def _handler(signum, frame):
    if _STATE["defer"]:
        _STATE["pending"] = signum
        return
    if _STATE["worker"] and not _STATE["rendering"]:
        _quit_worker()
    _raise(signum)


def install() -> None:
    """In the command's main thread: SIGTERM and SIGINT raise :class:`Terminated` / ``KeyboardInterrupt``."""
    signal.signal(signal.SIGTERM, _handler)
    signal.signal(signal.SIGINT, _handler)


@contextmanager
def deferred_signals():
    """Hold SIGTERM and SIGINT (when :func:`install`-ed) until the block ends, then act on them."""
    _STATE["defer"] += 1
    try:
        yield
    finally:
        _STATE["defer"] -= 1
        if not _STATE["defer"] and _STATE["pending"] is not None:
            signum, _STATE["pending"] = _STATE["pending"], None
            if _STATE["worker"] and not _STATE["rendering"]:
                _quit_worker()
            _raise(signum)


def worker_signals() -> None:
    """A batch worker's initializer: ignore SIGINT, end on SIGTERM (see the module's notes)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _handler)
    _STATE["worker"] = True


@contextmanager
def rendering():
    """A worker renders a report: SIGTERM unwinds it (its staging folder removed), then the worker quits."""
    _STATE["rendering"] = True
    try:
        yield
    except KeyboardInterrupt:
        _STATE["rendering"] = False
        _quit_worker()
    finally:
        _STATE["rendering"] = False


def _quit_worker() -> None:
    """Stop this worker's kernels and browser, then exit at once (143), past the pool's own machinery."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        from cxkit.render.kernels import shutdown_warm_kernels
        from cxkit.render.printer import shutdown_printer

        shutdown_warm_kernels()
        shutdown_printer()
    except BaseException:  # noqa: BLE001 - exiting regardless; end_processes in the command kills what is left
        pass
    end_processes(descendants(os.getpid()), grace=3)
    os._exit(128 + signal.SIGTERM)


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, their children, ...), read from ``/proc``; empty elsewhere."""
    parents: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read().decode(errors="replace")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True


def end_processes(pids, grace: float = 10.0) -> None:
    """SIGTERM each process of ``pids``, wait up to ``grace`` seconds, SIGKILL those still running."""
    pids = [p for p in pids if p != os.getpid()]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.05)
    for pid in pids:
        if _alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
