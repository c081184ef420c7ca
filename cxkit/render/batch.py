"""Render many params files in parallel: one process per report, IPC kernels, failures isolated.

Each report runs in its own process with its own kernel over IPC sockets (no
TCP ports to collide on). A failed report is recorded with its error and
failing cell; the others carry on. ``index.html`` lists every report (:mod:`cxkit.render.index`).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cxkit.errors import CxkitError, ParamsError, RunFolderConflict
from cxkit.render.index import check_index, write_index

__all__ = ["BatchItem", "batch", "expand_params", "write_index"]


@dataclass
class BatchItem:
    """The outcome of one report in a batch."""

    params: str
    run: str
    ok: bool
    seconds: float
    error: str = ""
    cell: int | None = None
    email: str = ""  # what happened to its email: "sent to 2", "refused: ...", "dry run: email.eml", ...
    skipped: bool = False  # unchanged since the published run (same data, parameters and code)
    note: str = ""  # why an audience was left out (too few customers)

    @property
    def status(self) -> str:
        """``rendered``, ``unchanged`` (skipped: the published run is current), ``left out`` or ``failed``: the
        word the command's table, its log and the index all show."""
        return "left out" if self.note else "failed" if not self.ok else "unchanged" if self.skipped else "rendered"

    @property
    def short_error(self) -> str:
        """The error on one line: the lines that say what is wrong, not the file path heading them; over 300
        characters, cut at a word with `` ...``."""
        lines = [line.strip(" -") for line in self.error.splitlines() if line.strip()]
        body = lines[1:] if len(lines) > 1 and lines[0].endswith(":") else lines
        text = "; ".join(line for line in body if not line.startswith("the partial notebook"))
        if len(text) <= 300:
            return text
        cut = text.rfind(" ", 200, 296)
        return text[: cut if cut > 0 else 296].rstrip(",;") + " ..."


def expand_params(paths, out_dir: str | Path | None = None, skipped: list | None = None,
                  failed: list | None = None) -> list[Path]:
    """Params files from files and folders (a folder contributes its ``*.yaml``), run names unique.

    A file with an ``audiences:`` block becomes one file per audience (see :mod:`cxkit.render.audiences`;
    written under ``out_dir``; audiences too small are added to ``skipped``). Every file is read and its
    parameters checked against its notebook before anything renders. A file that cannot be read, whose
    audiences cannot be drawn from its data, or whose parameters do not fit its notebook is added to
    ``failed`` as a failed :class:`BatchItem` with the message ``cxkit render`` gives, and left out of the
    list; without ``failed``, the first such error is raised. Two files that would write the same report
    folder are always refused (:class:`~cxkit.errors.RunFolderConflict`): the plan itself is ambiguous.
    """
    from cxkit.params import read_params
    from cxkit.render.audiences import expand_audiences
    from cxkit.render.preflight import checked_parameters, run_name_of

    listed: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            listed += sorted(list(p.glob("*.yaml")) + list(p.glob("*.yml")))
        elif p.is_file():
            listed.append(p)
        else:
            raise ParamsError(f"batch: {p} is neither a params file nor a folder")
    if not listed:
        raise ParamsError("batch: no params files found")
    runs: dict[str, list[str]] = {}  # run folder -> the files that would write it, failing or not
    files: list[Path] = []

    def refused(path: Path, exc: CxkitError, run: str | None = None) -> None:
        if failed is None or isinstance(exc, RunFolderConflict):
            raise exc
        failed.append(BatchItem(str(path), run or Path(path).stem, False, 0.0, str(exc)))

    for f in listed:
        try:
            raw = read_params(f)
            if "audiences" in raw:
                generated, small = expand_audiences(f, Path(out_dir or "reports"))
                if skipped is not None:
                    skipped += small
            else:
                generated = [f]
        except CxkitError as exc:
            refused(f, exc)
            continue
        for g in generated:
            try:
                own = raw if g == f else read_params(g)
                run = run_name_of(own, g)
            except CxkitError as exc:
                refused(g, exc)
                continue
            runs.setdefault(run, []).append(str(g))
            try:
                checked_parameters(own, str(g))  # its parameters against its notebook's, as its preflight does
            except CxkitError as exc:
                refused(g, exc, run)
                continue
            files.append(g)
    dupes = {run: names for run, names in runs.items() if len(names) > 1}
    if dupes:
        listed = "; ".join(f"{run}: {', '.join(names)}" for run, names in sorted(dupes.items()))
        raise RunFolderConflict(f"batch: several params files would write the same report folder ({listed}); "
                                "give each its own run_name")
    return files


@lru_cache(maxsize=4)
def _opened_store(path: str):
    """A worker's analysis store, opened once for all the reports it renders from it."""
    from cxkit.store import AnalysisStore

    return AnalysisStore(path)


def _render_one(path: str, out_dir: str, pdf: bool, pptx, position, threads: int = 1,
                force: bool = False, store: str | None = None) -> BatchItem:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "DUCKDB_THREADS"):
        os.environ[var] = str(threads)  # parallel kernels share the cores instead of fighting over them
    from cxkit.render.process import skip_unused_imports

    skip_unused_imports()
    import time
    import warnings

    from cxkit.errors import CxkitError, CxkitWarning
    from cxkit.params import read_params
    from cxkit.render.execute import NotebookError
    from cxkit.render.preflight import run_name_of
    from cxkit.render.run import render
    from cxkit.render.signals import rendering

    start = time.perf_counter()
    try:
        run = run_name_of(read_params(path), path)
    except CxkitError:
        run = Path(path).stem
    progress = {"position": position, "desc": run[:24], "leave": False} if position else False
    try:
        with rendering(), warnings.catch_warnings():
            warnings.simplefilter("ignore", CxkitWarning)
            shared = _opened_store(store) if store else None
            result = render(path, out_dir, pdf=pdf, pptx=pptx, progress=progress, force=force, warm=True,
                            store=shared)
        return BatchItem(path, result.run_dir.name, True, time.perf_counter() - start, skipped=result.skipped)
    except NotebookError as exc:
        return BatchItem(path, run, False, time.perf_counter() - start, str(exc), exc.cell_index)
    except CxkitError as exc:
        return BatchItem(path, run, False, time.perf_counter() - start, str(exc))
    except Exception as exc:  # a bug in one report must not stop the others
        return BatchItem(path, run, False, time.perf_counter() - start, f"{type(exc).__name__}: {exc}")


def batch(paths, out_dir: str | Path = "reports", jobs: int | None = None, pdf: bool = True,
          pptx: bool | None = None, send: bool = False, resend: bool = False, mailer=None,
          force: bool = False, shard: tuple[int, int] | None = None, on_done=None,
          on_prepared=None, strict: bool = False) -> list[BatchItem]:
    """Render every params file; returns one :class:`BatchItem` per report: those rendered (or failed while
    rendering) in input order, then those that failed before rendering, then the audiences left out.

    A report whose params file cannot be read, whose parameters do not fit its notebook, or whose data (shared
    with other reports, validated once) fails validation fails alone, with the message ``cxkit render`` gives
    (its :attr:`BatchItem.error`); the others render. Two reports that would write one report folder refuse
    the whole batch (:class:`~cxkit.errors.RunFolderConflict`) before any renders.

    Parameters
    ----------
    paths : list of str or Path
        Params files and folders of them.
    strict : bool
        Render nothing unless every report passes the checks ``cxkit validate`` makes (each report's preflight,
        its data included): otherwise raise ``ParamsError`` naming every report that does not, and why.
    jobs : int, optional
        Reports rendered at once (default: the number of cores, at most the number of reports).
    send : bool
        Mail each report with an ``email:`` block to its recipients as soon as it has rendered (SMTP
        settings from ``CXKIT_SMTP_*``, or ``mailer``); without it, such a report gets ``email.eml``, a dry
        run. A refused recipient or a failed send never stops the batch; a report already sent to someone
        is not sent to them again unless ``resend``.
    force : bool
        Render every report; otherwise a report whose published run was made from the same data,
        parameters and code is skipped (``BatchItem.skipped``), so a rerun re-renders only what changed.
    shard : (k, n), optional
        Render only the reports of shard ``k`` of ``n`` (by a stable hash of the run name), to split one
        batch over ``n`` machines; copy the run folders together and ``cxkit index OUT`` lists them all.
    on_done : callable, optional
        Called as ``on_done(item, done, total)`` as each report finishes (after its mail), in the order
        they finish (those that failed before rendering first): how ``cxkit batch`` logs its progress where
        no terminal shows a progress bar.
    on_prepared : callable, optional
        Called as ``on_prepared(reports, stores, seconds, failed)`` once the reports are known and the data they
        share validated into ``stores`` analysis stores, before any report renders (over millions of customers
        that takes a minute, which ``cxkit batch`` then accounts for); ``failed`` reports failed already.
    """
    import multiprocessing
    import time
    import uuid
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from tqdm.auto import tqdm

    from cxkit.render.printer import shutdown_printer
    from cxkit.render.signals import worker_signals
    from cxkit.render.stores import prepare_stores
    from cxkit.store import BATCH_ID_VARIABLE

    started = time.perf_counter()
    os.environ[BATCH_ID_VARIABLE] = uuid.uuid4().hex  # data read from a warehouse is read afresh by each batch
    left_out: list = []
    failed: list[BatchItem] = []  # reports that failed before rendering, with the message cxkit render gives
    check_index(Path(out_dir))  # someone's own index.html in --out: refused before anything is written
    files = expand_params(paths, out_dir, left_out, failed)
    if shard is not None:
        files = [f for f in files if in_shard(_run_of(f), *shard)]
        left_out = [s for s in left_out if in_shard(s.run, *shard)]
        failed = [it for it in failed if in_shard(it.run, *shard)]
        if not files and not failed:
            return []
    bad_data: dict[str, str] = {}
    shared = prepare_stores(files, out_dir, bad_data)  # validated once, shared
    failed += [BatchItem(str(f), _run_of(f), False, 0.0, bad_data[str(f)]) for f in files if str(f) in bad_data]
    files = [f for f in files if str(f) not in bad_data]
    if strict:
        reports = len(files) + len(failed)
        failed += _preflight_failures(files, out_dir, shared)
        if failed:
            raise ParamsError(_refusal(failed, reports))
    stores = {f: str(s.path) for f, s in shared.items()}
    if on_prepared is not None:
        on_prepared(len(files), len(set(stores.values())), time.perf_counter() - started, len(failed))
    total = len(files) + len(failed)
    for done, item in enumerate(failed if on_done is not None else [], 1):  # known first, so logged first
        on_done(item, done, total)
    results: dict[int, BatchItem] = {}
    if files:
        jobs = max(1, min(jobs or os.cpu_count() or 1, len(files)))
        tty = sys.stderr.isatty()
        overall = tqdm(total=len(files), desc="reports", position=0, disable=not tty, leave=True)
        pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"), initializer=worker_signals)
        try:
            threads = max(1, (os.cpu_count() or 1) // jobs)
            futures = {pool.submit(_render_one, str(f), str(out_dir), pdf, pptx, (i % jobs) + 1 if tty else None,
                                   threads, force, stores.get(str(f))): i for i, f in enumerate(files)}
            for fut in as_completed(futures):
                item = results[futures[fut]] = _outcome(fut, files[futures[fut]])
                if item.ok:
                    item.email = _mail_one(Path(out_dir) / item.run, send, resend, mailer)
                overall.update(1)
                if on_done is not None:
                    on_done(item, len(failed) + len(results), total)
        except BaseException:  # SIGTERM, Ctrl-C: every worker and its kernels ended before the command exits
            _stop_workers(pool)
            raise
        finally:
            overall.close()
            shutdown_printer()  # the browser that drew the mailed reports' figures
        pool.shutdown()
    items = [results[i] for i in range(len(files))] + failed
    items += [BatchItem("", s.run, True, 0.0, note=s.note) for s in left_out]
    write_index(items, Path(out_dir))
    return items


def _outcome(future, path) -> BatchItem:
    """A worker's result; a worker that died (killed, out of memory) fails its report, not the batch."""
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001 - BrokenProcessPool and kin
        try:
            run = _run_of(path)
        except CxkitError:
            run = Path(path).stem
        return BatchItem(str(path), run, False, 0.0, f"the worker rendering it stopped: {type(exc).__name__}: {exc}")


def _stop_workers(pool) -> None:
    """End a pool's workers: SIGTERM (each stops its kernels, removes its staging folder and exits), then, after
    a grace period, SIGKILL whatever of theirs still runs."""
    from cxkit.render.signals import descendants, end_processes

    workers = [p.pid for p in (getattr(pool, "_processes", None) or {}).values() if p.pid]
    tree = descendants(os.getpid())  # read before the workers go: their kernels are theirs
    pool.shutdown(wait=False, cancel_futures=True)
    end_processes(workers, grace=30)
    end_processes([p for p in tree if p not in workers], grace=3)


def _preflight_failures(files, out_dir, stores: dict) -> list[BatchItem]:
    """Each report's preflight (what ``cxkit validate`` checks: its data, its slice, its folder), run before
    any report renders; the reports that fail it, with why. A report reads its data from its batch store
    when it has one, so only data no other report shares is validated here (and again as it renders)."""
    import time
    import warnings

    from cxkit.errors import CxkitWarning
    from cxkit.render.preflight import preflight

    failures = []
    for f in files:
        start = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", CxkitWarning)  # each report's render says them, as ever
                plan = preflight(f, out_dir, store=stores.get(str(f)))
            plan.data.con.close()
        except CxkitError as exc:
            failures.append(BatchItem(str(f), _run_of(f), False, time.perf_counter() - start, str(exc)))
    return failures


def _refusal(failed: list[BatchItem], total: int) -> str:
    """Why a strict batch renders nothing: every report that would fail, on one line each."""
    lines = [f"  - {it.run}: {it.short_error}" for it in failed]
    return (f"batch --strict: {len(failed)} of {total} reports would fail, so none was rendered:\n"
            + "\n".join(lines))


def in_shard(run: str, k: int, n: int) -> bool:
    """Whether run ``run`` belongs to shard ``k`` of ``n`` (1-based): a stable hash, the same on every machine.

    >>> [in_shard("region-west", k, 3) for k in (1, 2, 3)].count(True)
    1
    """
    import hashlib

    if not 1 <= k <= n:
        raise ParamsError(f"batch: shard {k}/{n}: use K/N with 1 <= K <= N")
    return int(hashlib.sha256(run.encode()).hexdigest(), 16) % n == k - 1


def _run_of(path: Path) -> str:
    from cxkit.params import read_params
    from cxkit.render.preflight import run_name_of

    return run_name_of(read_params(path), path)


def index_of(out_dir: Path) -> Path:
    """``out_dir/index.html`` from the run folders there (after copying several machines' shards together)."""
    from cxkit.render.folders import claim

    items = []
    for manifest in sorted(Path(out_dir).glob("*/manifest.json")):
        data = claim(manifest.parent)
        if data is None:  # truncated, not JSON, or not the kit's: shown as such, the others listed as ever
            items.append(BatchItem("", manifest.parent.name, False, 0.0,
                                   "manifest.json cannot be read as the kit's (truncated or not written by cxkit)"))
            continue
        if data.get("status") == "failed":
            items.append(BatchItem(data.get("params_file", ""), manifest.parent.name, False, 0.0,
                                   "its first render failed; the partial notebook is in failed/"))
            continue
        seconds = data.get("seconds") if isinstance(data.get("seconds"), dict) else {}
        items.append(BatchItem(data.get("params_file", ""), manifest.parent.name, True,
                               float(sum(v for v in seconds.values() if isinstance(v, int | float)))))
    if not items:
        raise ParamsError(f"{out_dir}: no rendered reports here (no */manifest.json)")
    return write_index(items, Path(out_dir))


def _mail_one(run_dir: Path, send: bool, resend: bool, mailer) -> str:
    """Send (or write the dry-run .eml of) one rendered report with an email block; say what happened."""
    import json

    from cxkit.render.email import build_message
    from cxkit.render.folders import write_whole
    from cxkit.render.mail import Mailer, send_report

    meta = json.loads((run_dir / "report.json").read_text(encoding="utf-8")).get("meta", {})
    settings = meta.get("email") or {}
    if not settings.get("to"):
        return ""
    try:
        if not send:
            sender = mailer.sender if mailer is not None else Mailer.sender_from_env()
            message = build_message(run_dir, settings["to"], settings.get("cc"), sender=sender, keep_browser=True)
            write_whole(run_dir / "email.eml", message.as_bytes())
            return "dry run: email.eml"
        result = send_report(run_dir, mailer=mailer or Mailer.from_env(), resend=resend, keep_browser=True)
    except CxkitError as exc:
        return f"not sent: {exc}"
    except Exception as exc:  # noqa: BLE001 - one report's email must never stop the batch
        return f"not sent: {type(exc).__name__}: {exc}"
    parts = []
    if result.accepted:
        parts.append(f"sent to {len(result.accepted)}")
    if result.skipped:
        parts.append(f"{len(result.skipped)} already had it")
    if result.refused:
        parts.append("refused: " + ", ".join(result.refused))
    return "; ".join(parts)
