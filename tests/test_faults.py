"""Trust under faults (issue 30): inputs that change during a run, and a real full disk.

An input's fingerprint is taken from its content before anything reads it and checked again, by content, before
the report is published; a full tmpfs (mounted here when this runs as root) ends ``render`` and ``batch`` with a
message, exit 1, the previous reports as they were and nothing half-written.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from cxkit.cli import main


def _run(argv: list[str], capsys) -> tuple[int, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _csv_case(root: Path, small_tables) -> Path:
    from tests.conftest import write_case

    return write_case(root / "data", small_tables[0], "csv", n_boot=20)


def _batch_of_two(params: Path, folder: Path) -> Path:
    """A batch folder of two reports, east and west, on the data of ``params`` (its paths made absolute)."""
    folder.mkdir()
    raw = yaml.safe_load(params.read_text())
    raw["data"] = {k: str(params.parent / v) for k, v in raw["data"].items()}
    for name in ("east", "west"):
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    return folder


def _replace_keeping_size_and_time(path: Path) -> None:
    """Another export of the same shape lands in place: one digit differs, size and modified time are kept (as
    ``cp -p`` or ``rsync -t`` of a file with the same length would leave them)."""
    stat = path.stat()
    text = path.read_bytes()
    digit = next(i for i in range(len(text) - 1, 0, -1) if text[i:i + 1].isdigit())
    new = b"7" if text[digit:digit + 1] != b"7" else b"3"
    path.write_bytes(text[:digit] + new + text[digit + 1:])
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size and path.stat().st_mtime_ns == stat.st_mtime_ns


# ---------------------------------------------------------------- an input changing during a run


@pytest.mark.parametrize("same_bytes", [False, True], ids=["replaced", "rewritten-as-it-was"])
def test_an_input_replaced_mid_run_with_its_size_and_time_is_refused(tmp_path, small_tables, capsys, monkeypatch,
                                                                     same_bytes):
    """The export job lands a new contacts.csv of the same size with the old modified time while the report
    renders: refused by content, the previous report byte-identical. The same bytes written again (a touch, a
    copy of the same file) are no change: the report is published."""
    import cxkit.render.execute as execute

    params = _csv_case(tmp_path, small_tables)
    out = tmp_path / "out"
    assert _run(["render", str(params), "--out", str(out), "--no-pdf"], capsys)[0] == 0
    before = _tree(out / "params")
    contacts = params.parent / "contacts.csv"
    real_run = execute.run_notebook

    def run_then_replace(*args, **kwargs):
        nb = real_run(*args, **kwargs)
        if same_bytes:
            contacts.write_bytes(contacts.read_bytes())
            os.utime(contacts, ns=(time.time_ns(), time.time_ns() + 10**9))
        else:
            _replace_keeping_size_and_time(contacts)
        return nb

    monkeypatch.setattr(execute, "run_notebook", run_then_replace)
    code, text = _run(["render", str(params), "--out", str(out), "--no-pdf", "--force"], capsys)
    assert "Traceback" not in text, text
    if same_bytes:
        assert code == 0, text
        return
    assert code == 1, text
    assert f"data.contacts: {contacts} changed while the report was rendered" in text, text
    assert "not what was read at the start" in text and "previous report is as it was" in text, text
    assert _tree(out / "params") == before
    assert not list(out.glob(".staging-*"))


def test_a_fingerprint_is_the_content_read_and_names_the_part_that_changed(tmp_path, small_tables):
    """Parts of a glob are fingerprinted one by one; the fingerprint is taken when the data is loaded (before it
    is read), stays what the run records, and names the part whose content changed, appeared or went."""
    from cxkit.load import load

    customers = small_tables[0]["customers"]
    parts = tmp_path / "parts"
    parts.mkdir()
    for i, chunk in enumerate((customers.iloc[:200], customers.iloc[200:])):
        chunk.to_csv(parts / f"part-{i}.csv", index=False)
    data = load({"data": {"customers": str(parts / "*.csv")}, "as_of": "2026-09-30"}, pin=True)
    src = data.sources["customers"]
    pinned = src.fingerprint()
    assert [Path(p["path"]).name for p in pinned["files"]] == ["part-0.csv", "part-1.csv"]
    assert src.changed() is None
    _replace_keeping_size_and_time(parts / "part-1.csv")
    assert src.fingerprint() == pinned  # what was read, not what is there now
    assert src.changed() == str(parts / "part-1.csv")
    (parts / "part-1.csv").write_bytes(b"")
    (parts / "part-1.csv").unlink()
    assert src.changed() == str(parts / "part-1.csv")
    data.close()


def test_a_store_key_changes_when_an_input_is_replaced_with_its_size_and_time(tmp_path, small_tables):
    """A batch's analysis store is found by its key; a replacement with the old size and modified time must
    not find the old store (the key holds the inode and change time, which no one sets back by hand)."""
    from cxkit.store import store_key

    params = _csv_case(tmp_path, small_tables)
    spec = {k: str(params.parent / v) for k, v in yaml.safe_load(params.read_text())["data"].items()}
    key = store_key(spec, "2026-09-30", 30)
    assert store_key(spec, "2026-09-30", 30) == key
    _replace_keeping_size_and_time(params.parent / "revenue.csv")
    assert store_key(spec, "2026-09-30", 30) != key


def test_a_batch_store_of_an_input_that_changed_while_read_is_refused(tmp_path, small_tables, capsys, monkeypatch):
    """The batch reads the shared data once into its store; an input replaced while it did: every report on
    that data fails with the table and file named, and no store is left to be reused."""
    import cxkit.store as store_module

    params = _csv_case(tmp_path, small_tables)
    folder = _batch_of_two(params, tmp_path / "quarter")
    real_build = store_module.AnalysisStore.build.__func__

    def build_then_replace(cls, *args, **kwargs):
        built = real_build(cls, *args, **kwargs)
        _replace_keeping_size_and_time(params.parent / "responses.csv")
        return built

    monkeypatch.setattr(store_module.AnalysisStore, "build", classmethod(build_then_replace))
    out = tmp_path / "out"
    code, text = _run(["batch", str(folder), "--out", str(out), "--no-pdf"], capsys)
    assert code == 1 and "Traceback" not in text, text
    assert text.count("data.responses: ") >= 2 and "changed while the batch read it" in text, text
    assert not list((out / ".store").glob("*.duckdb")) and not list(out.rglob("report.html"))


# ---------------------------------------------------------------- a real full disk


@contextmanager
def _tmpfs(where: Path, size: str):
    """A small tmpfs at ``where`` (root only); skipped, with the reason, where mounting is not permitted."""
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("a real full disk needs a tmpfs, which only root can mount here (the forced ENOSPC test in "
                    "test_bad_inputs.py still runs)")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (a container without CAP_SYS_ADMIN?): {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


def _fill(mount: Path, leave_kb: int) -> Path:
    """Fill the file system at ``mount`` but ``leave_kb`` KiB."""
    filler = mount / "filler"
    filler.unlink(missing_ok=True)
    free = os.statvfs(mount)
    left = free.f_bavail * free.f_frsize - leave_kb * 1024
    with open(filler, "wb") as handle:
        for _ in range(left // (1 << 20)):
            handle.write(b"\0" * (1 << 20))
        handle.write(b"\0" * (left % (1 << 20)))
    return filler


def _kit_leftovers(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if p.name.startswith((".staging-", ".figures-old-", ".rerender-", ".index"))
            or p.suffix in (".tmp", ".wal") or (p.parent.name == ".store" and p.name.startswith("."))]


@pytest.mark.parametrize("leave_kb", [600, 64, 4])
def test_a_full_disk_ends_a_render_cleanly(tmp_path, small_tables, capsys, leave_kb):
    """A real ENOSPC (a full tmpfs), at whichever write it comes: exit 1, one clear line, the previous report
    byte-identical, no staging folder and no temporary file left."""
    params = _small_parquet_case(tmp_path, small_tables)
    with _tmpfs(tmp_path / "disk", "12m") as disk:
        out = disk / "out"
        code, text = _run(["render", str(params), "--out", str(out), "--no-pdf"], capsys)
        assert code == 0, text
        before = _tree(out / "params")
        _fill(disk, leave_kb)
        code, text = _run(["render", str(params), "--out", str(out), "--no-pdf", "--force"], capsys)
        assert code == 1 and "Traceback" not in text, text
        assert "error: cannot write the report: No space left on device" in text, text
        assert "the previous report in" in text and "is as it was" in text, text
        assert _tree(out / "params") == before
        assert not _kit_leftovers(out)


def _small_parquet_case(root: Path, small_tables) -> Path:
    from tests.conftest import write_case

    return write_case(root / "data", small_tables[0], "parquet", n_boot=20)


def test_a_full_disk_ends_a_batch_cleanly(tmp_path, small_tables, capsys):
    """A batch of two reports on a full tmpfs: its analysis store cannot be written (then, with the store in
    place, neither can the reports): every report failed with the reason, exit 1, no traceback, the earlier
    reports and index byte-identical, nothing half-written."""
    params = _small_parquet_case(tmp_path, small_tables)
    folder = _batch_of_two(params, tmp_path / "quarter")
    with _tmpfs(tmp_path / "disk", "16m") as disk:
        out = disk / "out"
        code, text = _run(["batch", str(folder), "--out", str(out), "--no-pdf", "--jobs", "1"], capsys)
        assert code == 0, text
        stores = list((out / ".store").glob("*.duckdb"))
        reports = {run: _tree(out / run) for run in ("east", "west")}
        for store in stores:  # the next batch must build it again: on a full disk
            store.unlink()
        filler = _fill(disk, 96)
        code, text = _run(["batch", str(folder), "--out", str(out), "--no-pdf", "--force"], capsys)
        assert code == 1 and "Traceback" not in text, text
        assert text.count("No space left on device") >= 2, text
        assert {run: _tree(out / run) for run in ("east", "west")} == reports
        assert not _kit_leftovers(out) and not list((out / ".store").glob("*.duckdb"))
        filler.unlink()  # room for the store again, then too little for the reports
        code, text = _run(["batch", str(folder), "--out", str(out), "--no-pdf", "--jobs", "1"], capsys)
        assert code == 0, text
        reports = {run: _tree(out / run) for run in ("east", "west")}
        index = (out / "index.html").read_bytes()
        _fill(disk, 300)
        code, text = _run(["batch", str(folder), "--out", str(out), "--no-pdf", "--force", "--jobs", "1"], capsys)
        assert code == 1 and "Traceback" not in text, text
        assert "cannot write the report: No space left on device" in text, text
        assert {run: _tree(out / run) for run in ("east", "west")} == reports
        assert not _kit_leftovers(out)
        assert (out / "index.html").read_bytes() == index or b"No space left on device" in \
            (out / "index.html").read_bytes()


# ---------------------------------------------------------------- names shown as written


def test_dollar_signs_in_a_segment_name_are_text_in_figures(tmp_path):
    """``$5 plan`` and ``$10 plan`` side by side once read as mathtext (an italic '5 plan and ' between the signs);
    every text in a kit figure is plain text: the names, as written, are in the SVG."""
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    from cxkit.plots import plot_survival
    from cxkit.survival.kaplan_meier import SegmentSurvival

    rng = np.random.default_rng(3)
    names = ["$5 plan", "$5-$10 plan", "Café & crème_brûlée 100%"]
    df = pd.DataFrame({"t": rng.exponential(12, 300).round() + 1, "e": rng.integers(0, 2, 300),
                       "plan": np.repeat(names, 100)})
    ax = plot_survival(SegmentSurvival().fit(df, "t", "e", "plan"), title="Customers on the $5 and $10 plans")
    path = tmp_path / "km.svg"
    ax.figure.savefig(path)
    plt.close(ax.figure)
    import re

    drawn = re.findall(r"<text[^>]*>([^<]*)</text>", re.sub(r"<!--.*?-->", "", path.read_text(encoding="utf-8")))
    for text in [*names, "Customers on the $5 and $10 plans"]:
        assert text.replace("&", "&amp;") in drawn, (text, drawn)


def test_the_email_of_a_run_without_a_pdf_says_where_the_report_is(tmp_path, small_tables, capsys):
    """A run rendered with --no-pdf: its email attaches no PDF and no longer says it does; a display-name
    address is kept whole."""
    import email
    from email import policy

    params = _small_parquet_case(tmp_path, small_tables)
    out = tmp_path / "out"
    assert _run(["render", str(params), "--out", str(out), "--no-pdf"], capsys)[0] == 0
    eml = tmp_path / "q3.eml"
    code, text = _run(["email", str(out / "params"), "--to", "Jane Doe <jane@example.com>", "--eml", str(eml)],
                      capsys)
    assert code == 0, text
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["To"] == "Jane Doe <jane@example.com>"
    parts = [p.get_content() for p in message.walk() if p.get_content_type() in ("text/plain", "text/html")]
    assert len(parts) == 2 and not any(p.get_content_type() == "application/pdf" for p in message.walk())
    for part in parts:
        assert "attached as a PDF" not in part and "attached PDF" not in part
        assert "no PDF was made for this run" in part


def test_a_decimal_comma_export_reads_thousands_as_thousands(tmp_path, small_tables):
    """With ``decimal_separator: ','`` the '.' groups thousands: ``1.200`` is twelve hundred (it was read as 1.2),
    ``1.234,50`` is 1234.5, ``28,04`` is 28.04."""
    from cxkit.load import load

    revenue = small_tables[0]["revenue"].copy()
    written = ["1.200", "1.234,50", "28,04", "1 200,5"]
    revenue["amount"] = (written * len(revenue))[:len(revenue)]
    folder = tmp_path / "eu"
    folder.mkdir()
    revenue.to_csv(folder / "revenue.csv", index=False, sep=";")
    small_tables[0]["customers"].to_csv(folder / "customers.csv", index=False)
    data = load({"data": {"customers": str(folder / "customers.csv"),
                          "revenue": {"path": str(folder / "revenue.csv"),
                                      "csv": {"delimiter": ";", "decimal_separator": ","}}}, "as_of": "2026-09-30"})
    read = data.sql("SELECT DISTINCT amount FROM _typed_revenue ORDER BY 1").fetchall()
    assert [r[0] for r in read] == [28.04, 1200.0, 1200.5, 1234.5]
    data.close()
