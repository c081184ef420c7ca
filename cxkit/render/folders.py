"""Which folders are the kit's: run folders its manifest claims, and staging folders it can prove are left over.

The kit deletes and overwrites only what it wrote. A run folder is the kit's when its ``manifest.json`` says so
(:func:`claim`): the run it holds, written by cxkit. Anything else in the way (a folder of someone's own files
that happens to carry the run's name, a manifest that cannot be read, a file in ``figures/`` that the manifest
does not list) is refused by name before anything is written (:func:`check_run_folder`).

Work in progress lives in staging folders beside the run folders (``OUT/.staging-<run>-<id>``), each with a
marker naming the process that owns it (host and pid). The owner removes its staging folder on every way out;
one whose owner died without doing so (``kill -9``, a power cut) is removed by the next run into the same
``--out`` (:func:`sweep_stale`), and only when its marker shows it was left by a process of this machine that
no longer runs.

Examples
--------
>>> check_run_folder(Path("reports/demo"))   # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import uuid
from pathlib import Path

from cxkit.errors import RunFolderNotOurs

__all__ = ["claim", "check_run_folder", "claim_failed", "staging_folder", "sweep_stale", "write_whole", "KIT_NAMES",
           "MARKER"]

#: What the kit writes into a run folder (besides the executed notebook, named after the notebook).
KIT_NAMES = ("report.json", "report.html", "report.pdf", "report.pptx", "manifest.json", "figures", "failed",
             "email.eml", "sent.jsonl")
#: The file inside a staging folder naming the process that owns it.
MARKER = ".cxkit-staging"
_TEMPORARY = (".staging-", ".figures-old-", ".rerender-")


def claim(run_dir: Path) -> dict | None:
    """The manifest by which the kit claims ``run_dir``, or None: a JSON object naming this run folder and
    written by cxkit (a rendered run's fingerprint, or a failed first run's ``status: failed``)."""
    try:
        manifest = json.loads((Path(run_dir) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("run") != Path(run_dir).name:
        return None
    return manifest if manifest.get("fingerprint") or manifest.get("status") == "failed" else None


def _listing(paths, limit: int = 4) -> str:
    names = sorted(paths)
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def check_run_folder(run_dir: Path) -> None:
    """Refuse to write into ``run_dir`` unless it is absent, empty, or claimed by the kit's manifest; in a
    claimed folder, refuse files in ``figures/`` that the manifest does not list (publishing replaces that
    folder whole).

    Raises
    ------
    RunFolderNotOurs
        Naming the folder and what is in the way; nothing has been changed.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        return
    present = [p.name + ("/" if p.is_dir() else "") for p in run_dir.iterdir()
               if not p.name.startswith(_TEMPORARY)]
    if not present:
        return
    manifest = claim(run_dir)
    if manifest is None:
        why = ("its manifest.json cannot be read as the kit's" if (run_dir / "manifest.json").exists()
               else "it has no manifest.json of cxkit's")
        raise RunFolderNotOurs(f"{run_dir} exists and was not written by cxkit ({why}); it holds "
                               f"{_listing(present)}. Nothing was changed: move those files away, or render with "
                               "another --out or run_name")
    listed = manifest.get("files")
    figures = run_dir / "figures"
    if isinstance(listed, list) and figures.is_dir():
        foreign = [p.relative_to(run_dir).as_posix() for p in figures.rglob("*")
                   if not p.is_dir() and p.relative_to(run_dir).as_posix() not in listed
                   and not _drawn_from_listed_svg(p.relative_to(run_dir), listed)]
        if foreign:
            raise RunFolderNotOurs(f"{figures} holds files the kit did not write ({_listing(foreign)}); "
                                   "a new run replaces that folder, so nothing was changed: move them away first")


def _drawn_from_listed_svg(path: Path, listed: list) -> bool:
    """A figure's PNG the kit drew later from its listed SVG (the email and slides do, :mod:`cxkit.render.raster`).

    >>> _drawn_from_listed_svg(Path("figures/churn.png"), ["figures/churn.svg"])
    True
    >>> _drawn_from_listed_svg(Path("figures/board-chart.png"), ["figures/churn.svg"])
    False
    """
    return path.suffix == ".png" and path.with_suffix(".svg").as_posix() in listed


def claim_failed(run_dir: Path, notebook_name: str) -> None:
    """Mark a run folder the kit creates for a failed first run (its partial notebook only) as the kit's."""
    from cxkit import __version__

    manifest = {"run": run_dir.name, "status": "failed", "cxkit": __version__,
                "files": [f"failed/{notebook_name}"]}
    tmp = run_dir / f".manifest-{uuid.uuid4().hex[:8]}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    os.replace(tmp, run_dir / "manifest.json")


def _owner() -> dict:
    return {"host": socket.gethostname(), "pid": os.getpid()}


def staging_folder(out_dir: Path, run_name: str) -> Path:
    """A new staging folder in ``out_dir`` for ``run_name``, marked with this process as its owner."""
    staging = Path(out_dir) / f".staging-{run_name}-{uuid.uuid4().hex[:8]}"
    (staging / "figures").mkdir(parents=True)
    (staging / MARKER).write_text(json.dumps(_owner()), encoding="utf-8")
    return staging


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def sweep_stale(out_dir: Path) -> list[Path]:
    """Remove staging folders in ``out_dir`` left by processes of this machine that no longer run; returns them.

    A folder without the kit's marker, or marked by another machine (a shared drive), is left alone.
    """
    out_dir = Path(out_dir)
    removed = []
    if not out_dir.is_dir():
        return removed
    host = socket.gethostname()
    for folder in out_dir.glob(".staging-*"):
        try:
            owner = json.loads((folder / MARKER).read_text(encoding="utf-8"))
            pid = int(owner["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if owner.get("host") == host and pid != os.getpid() and not _alive(pid):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def write_whole(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all: a temporary file beside it, renamed over it; on a full disk the
    temporary file goes and the old ``path`` stays as it was (``OutputError``)."""
    from cxkit.errors import OutputError

    path = Path(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}; "
                          + ("the previous one is as it was" if path.exists() else "nothing was written")) from None
