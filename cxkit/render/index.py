"""A batch's ``index.html``: every report with whom it is for, its headline and its files, on one page.

A batch of a quarter renders one report per audience; whoever hands them out (or reads several) needs to
find the right one and see, before opening it, what it says first. Each rendered report's row is read from
its ``manifest.json`` (title, audience, customers, the summary's first sentence); a report left out or failed
shows why. The page is self-contained, like the reports, and every text on it is escaped.
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path

__all__ = ["write_index", "check_index"]

_STYLE = ("body{font:15px/1.5 -apple-system,'Segoe UI',Roboto,Arial,sans-serif;margin:24px;color:#222}"
          "table{border-collapse:collapse}td,th{padding:6px 12px;border-bottom:1px solid #ddd;text-align:left;"
          "vertical-align:top}th{white-space:nowrap}td.num{text-align:right;white-space:nowrap}"
          "td.headline{max-width:60ch;color:#444}td.files a{margin-right:8px}.failed td{color:#D55E00}"
          ".left-out td{color:#777}p.counts{color:#555}")


#: Marks an index page as the kit's: one without it is someone else's and is never overwritten.
_GENERATOR = "<meta name='generator' content='cxkit index'>"


def check_index(out_dir: Path) -> None:
    """Refuse an ``index.html`` in ``out_dir`` that the kit did not write (it would be replaced)."""
    from cxkit.errors import RunFolderNotOurs

    page = Path(out_dir) / "index.html"
    if not page.exists():
        return
    try:
        with open(page, encoding="utf-8", errors="replace") as handle:
            head = handle.read(4096)
        ours = _GENERATOR in head or _STYLE in head  # the kit's pages from before the generator mark
    except OSError:
        ours = False
    if not ours:
        raise RunFolderNotOurs(f"{page} was not written by cxkit; nothing was changed: move it away, or write the "
                               "reports into another --out")


def _manifest(run_dir: Path) -> dict:
    try:
        return json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _files(run_dir: Path, run: str) -> str:
    """Links to the report's files that exist: the page, its PDF, slides and the email written for it."""
    names = (("report.html", "HTML"), ("report.pdf", "PDF"), ("report.pptx", "slides"), ("email.eml", "email"))
    return "".join(f"<a href='{html.escape(run)}/{name}'>{label}</a>" for name, label in names
                   if (run_dir / name).is_file())


def _row(item, out_dir: Path) -> str:
    from cxkit.formats import number

    esc = html.escape
    if item.status in ("left out", "failed"):
        why = esc(item.note or item.short_error)
        run_dir = out_dir / item.run
        kept = item.status == "failed" and bool(_manifest(run_dir).get("fingerprint"))  # an earlier run's report
        files = _files(run_dir, item.run) if kept else ""
        return (f"<tr class='{item.status.replace(' ', '-')}'><td>{esc(item.run)}</td><td></td><td></td>"
                f"<td class='headline'>{item.status}: {why}{' (the earlier report is kept)' if files else ''}</td>"
                f"<td class='files'>{files}</td><td class='num'>{item.seconds:.1f} s</td></tr>")
    run_dir = out_dir / item.run
    manifest = _manifest(run_dir)
    parameters = manifest.get("parameters") or {}
    title = parameters.get("title") or item.run
    customers = (manifest.get("row_counts") or {}).get("customers")
    summary = [manifest["headline"]] if manifest.get("headline") else manifest.get("summary") or []
    return (f"<tr><td><a href='{esc(item.run)}/report.html'>{esc(str(title))}</a><br><small>{esc(item.run)}"
            f"</small></td><td>{esc(str(parameters.get('audience') or ''))}</td>"
            f"<td class='num'>{number(customers, 0) if isinstance(customers, int) else 'not available'}</td>"
            f"<td class='headline'>{esc(summary[0]) if summary else ''}</td>"
            f"<td class='files'>{_files(run_dir, item.run)}</td>"
            f"<td class='num'>{item.status}, {item.seconds:.1f} s</td></tr>")


def write_index(items, out_dir: Path) -> Path:
    """``out_dir/index.html`` for the batch's ``items`` (:class:`cxkit.render.batch.BatchItem`), written whole
    or not at all.

    Examples
    --------
    >>> write_index(batch(["params/quarter.yaml"], "reports"), Path("reports"))   # doctest: +SKIP
    PosixPath('reports/index.html')
    """
    out_dir = Path(out_dir)
    check_index(out_dir)
    rendered = sum(1 for it in items if it.ok and not it.note)
    failed = sum(1 for it in items if not it.ok and not it.note)
    left_out = sum(1 for it in items if it.note)
    counts = f"{rendered} report{'s' * (rendered != 1)}, {failed} failed" + (
        f", {left_out} audience{'s' * (left_out != 1)} left out" if left_out else "")
    page = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><meta name='viewport' "
            f"content='width=device-width, initial-scale=1'>{_GENERATOR}<title>Reports</title>"
            f"<style>{_STYLE}</style></head>"
            f"<body><h1>Reports</h1><p class='counts'>{counts}</p><table><thead><tr><th>report</th><th>for</th>"
            "<th>customers in its data, ever (not only today's)</th><th>what it says first</th><th>files</th>"
            "<th>this run</th></tr>"
            "</thead><tbody>"
            + "".join(_row(it, out_dir) for it in items) + "</tbody></table></body></html>")
    tmp = out_dir / ".index.html.tmp"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        tmp.write_text(page, encoding="utf-8")
        os.replace(tmp, out_dir / "index.html")
    except OSError as exc:  # a full disk: the old index stays whole
        tmp.unlink(missing_ok=True)
        from cxkit.errors import OutputError

        raise OutputError(f"cannot write {out_dir / 'index.html'}: {exc.strerror or exc}; the previous index is as "
                          "it was") from None
    return out_dir / "index.html"
