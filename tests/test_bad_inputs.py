"""The bad-input corpus (tests/data/bad_inputs.yaml): every case fails or warns exactly as written there.

For every case, besides its own expectations: no traceback, the inputs are byte-identical afterwards,
nothing is written outside the output folder, a failed case leaves no report, and ``cxkit validate`` and
``cxkit render`` agree (render's preflight is validate's).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from cxkit.cli import main

CASES = yaml.safe_load((Path(__file__).parent / "data" / "bad_inputs.yaml").read_text(encoding="utf-8"))


def _text_tables(tables: dict) -> dict[str, pd.DataFrame]:
    """The synthetic tables as text, the way an export writes them (dates ISO, blanks empty)."""
    out = {}
    for name, df in tables.items():
        text = pd.DataFrame(index=df.index)
        for col in df.columns:
            values = df[col]
            if pd.api.types.is_datetime64_any_dtype(values):
                text[col] = values.dt.strftime("%Y-%m-%d")
            else:
                text[col] = values.astype(object).where(values.notna(), None).map(
                    lambda v: None if v is None else str(v))
        out[name] = text.fillna("")
    return out


def _fill(template: str, current: str) -> str:
    if template == "{dmy}":
        return pd.Timestamp(current).strftime("%d/%m/%Y") if current else current
    if template == "{yyyymmdd}":
        return pd.Timestamp(current).strftime("%Y%m%d") if current else current
    if template == "{decimal_comma}":
        return current.replace(".", ",")
    if template == "{thousands_decimal_comma}":  # 2804.5 -> '2.804.500,00' (a European export of cents)
        return f"{float(current) * 1000:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    if template == "{dmy2}":
        return pd.Timestamp(current).strftime("%d/%m/%y") if current else current
    if template == "{excel_serial}":  # a date column exported as Excel's day numbers (45238 = 2023-11-06)
        return str((pd.Timestamp(current) - pd.Timestamp("1899-12-30")).days) if current else current
    if template == "{iso_tz}":  # an ISO timestamp with its offset, as an API export writes it
        return pd.Timestamp(current).strftime("%Y-%m-%dT14:30:00+02:00") if current else current
    if template == "{long}":  # a free-text note pasted into a segment column
        return "Customer asked about the new bundle and said the region office would call back; " * 4
    return template.replace("{value}", current)


def _apply_set(tables: dict, edits: dict | None) -> None:
    for table, columns in (edits or {}).items():
        df = tables[table]
        for col, edit in columns.items():
            rows = df.index if edit["rows"] == "all" else df.index[edit["rows"]]
            if col not in df:
                df[col] = ""
            df.loc[rows, col] = [_fill(str(edit["value"]), str(v)) for v in df.loc[rows, col]]


def _merge(base: dict, extra: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        elif isinstance(value, dict) and isinstance(out.get(key), str):
            out[key] = _merge({"path": out[key]}, value)
        else:
            out[key] = value
    return out


def _store(folder: Path, table: str, kind: str) -> dict | str:
    """Re-store a table written as CSV as Parquet, a DuckDB file or a query; return its data spec."""
    csv = folder / f"{table}.csv"
    con = duckdb.connect()
    quoted = "'" + csv.as_posix().replace("'", "''") + "'"
    typed = f"read_csv({quoted}, header=true)"  # DuckDB infers types, as a warehouse export would
    if kind in ("parquet", "parquet_int_dates"):
        target = (folder / f"{table}.parquet").as_posix().replace("'", "''")
        con.execute(f"COPY (SELECT * FROM {typed}) TO '{target}' (FORMAT parquet)")
        csv.unlink()
        return f"{table}.parquet"
    if kind == "duckdb":
        path = folder / f"{table}.duckdb"
        con.execute("ATTACH '" + path.as_posix().replace("'", "''") + "' AS w")
        con.execute(f"CREATE TABLE w.{table} AS SELECT * FROM {typed}")
        con.execute("DETACH w")
        csv.unlink()
        return {"path": path.name, "table": table}
    if kind == "query":
        return {"query": f"SELECT * FROM {typed}"}
    raise ValueError(kind)


def _file_edit(folder: Path, table: str, what: str, data: dict, frame: pd.DataFrame) -> None:
    spec = data[table]
    path = folder / (spec if isinstance(spec, str) else spec["path"])
    rng = np.random.default_rng(7)
    if what == "empty":
        path.write_bytes(b"")
    elif what == "folder":
        sub = folder / f"{table}-export"
        sub.mkdir()
        path.rename(sub / path.name)
        data[table] = sub.name
    elif what == "xlsx":
        path.write_bytes(b"PK\x03\x04" + rng.bytes(2000))
    elif what == "xlsx_name":
        path.rename(folder / f"{table}.xlsx")
        data[table] = f"{table}.xlsx"
    elif what == "binary":
        path.write_bytes(b"\x00\x01\x02" + rng.bytes(4000))
    elif what == "parquet":
        frame.to_parquet(path, index=False)
    elif what == "header_only":
        path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    elif what == "missing":
        path.unlink()
    elif what == "cp1252":
        frame = frame.copy()
        frame.loc[frame.index[:5], "region"] = "Zürich"
        path.write_bytes(frame.to_csv(index=False).encode("cp1252"))
    elif what == "trailing_commas":  # a spreadsheet's export: empty columns after the last one
        lines = path.read_text(encoding="utf-8").splitlines()
        path.write_text("\n".join(line + ",," for line in lines) + "\n", encoding="utf-8")
    elif what == "nul_padding":
        path.write_bytes(path.read_bytes() + b"\x00" * 8192)
    elif what == "fifo":
        import os

        path.unlink()
        os.mkfifo(path)
    elif what in ("parquet_parts_drift", "parquet_parts_missing"):
        parts = folder / f"{table}-parts"
        parts.mkdir()
        half = len(frame) // 2
        first, second = frame.iloc[:half].copy(), frame.iloc[half:].copy()
        if what == "parquet_parts_drift":  # one part's export typed the column, the other kept it as text
            second["referrals"] = pd.to_numeric(second["referrals"]).astype("int64")
        else:
            second = second.drop(columns=["region"])
        first.to_parquet(parts / "part-0.parquet", index=False)
        second.to_parquet(parts / "part-1.parquet", index=False)
        path.unlink()
        data[table] = f"{table}-parts/*.parquet"
    elif what == "semicolons":
        path.write_text(frame.to_csv(index=False, sep=";"), encoding="utf-8")
    elif what in ("header_repeat", "header_reordered"):  # exports joined one after another (cat a.csv b.csv)
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        header = lines[0] if what == "header_repeat" else ",".join(reversed(lines[0].strip().split(","))) + "\n"
        lines = lines[:11] + [header] + lines[11:21] + [header] + lines[21:]
        path.write_text("".join(lines), encoding="utf-8")
    elif what == "bom_semicolons":  # Excel's "CSV UTF-8" in a locale whose list separator is ';'
        path.write_bytes(b"\xef\xbb\xbf" + frame.to_csv(index=False, sep=";").encode("utf-8"))
    elif what == "mixed_eol":  # a file appended to on Windows and on Unix
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        path.write_bytes("".join(line.replace("\n", "\r\n") if i % 2 else line
                                 for i, line in enumerate(lines)).encode("utf-8"))
    elif what == "utf16":  # Excel's "Unicode Text"
        path.write_bytes(frame.to_csv(index=False).encode("utf-16"))
    elif what == "symlink_loop":
        import os

        path.unlink()
        os.symlink(path.name + ".2", path)
        os.symlink(path.name, path.with_name(path.name + ".2"))
    elif what == "totals_line":  # a report tool's export with its total at the foot
        path.write_text(path.read_text(encoding="utf-8") + "Total,,123456.78\n", encoding="utf-8")
    else:
        raise ValueError(what)


def _params_text(text: str) -> str:
    if text == "{deep}":
        return "a: " + "[" * 5000 + "]" * 5000 + "\n"
    if text == "{large}":
        return "title: '" + "x" * 1_100_000 + "'\n"
    return text


def _substitute(value, folder: Path):
    if isinstance(value, str):
        return value.replace("{dir}", folder.as_posix())
    if isinstance(value, dict):
        return {k: _substitute(v, folder) for k, v in value.items()}
    return value


def _build(case: dict, root: Path, small_tables) -> tuple[Path, Path]:
    """Write the case's data and params file under ``root``; return (params path, data folder)."""
    folder = root / case.get("folder", "case")
    folder.mkdir(parents=True)
    tables = _text_tables(small_tables[0])
    keep = case.get("keep_customers")
    if keep:
        ids = set(tables["customers"]["customer_id"].iloc[:keep])
        tables = {name: df[df["customer_id"].isin(ids)].reset_index(drop=True) for name, df in tables.items()}
    for table, cols in (case.get("drop") or {}).items():
        tables[table] = tables[table].drop(columns=cols)
    for table, n in (case.get("repeat_rows") or {}).items():  # an export run twice into one file, in part
        tables[table] = pd.concat([tables[table], tables[table].iloc[:n]], ignore_index=True)
    _apply_set(tables, case.get("set"))
    _apply_set(tables, case.get("more_set"))
    for table, mapping in (case.get("rename") or {}).items():
        tables[table] = tables[table].rename(columns=mapping)
    for table, col in (case.get("duplicate") or {}).items():
        tables[table] = pd.concat([tables[table], tables[table][[col]]], axis=1)
    data: dict = {}
    for name, df in tables.items():
        df.to_csv(folder / f"{name}.csv", index=False)
        data[name] = f"{name}.csv"
    for table, kind in (case.get("format") or {}).items():
        data[table] = _store(folder, table, kind)
    for table, what in (case.get("file") or {}).items():
        _file_edit(folder, table, what, data, tables[table])
    params = _merge({"as_of": "2026-09-30", "n_boot": 20, "data": data},
                    _substitute(case.get("params") or {}, folder))
    path = folder / "params.yaml"
    if "params_text" in case:
        path.write_text(_params_text(case["params_text"]), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(params, sort_keys=False, allow_unicode=True), encoding="utf-8")
    if case.get("batch_duplicate"):
        batch = folder / "quarter"
        batch.mkdir()
        for name in ("east", "west"):
            (batch / f"{name}.yaml").write_text(yaml.safe_dump(
                {**params, "run_name": "q3", "data": {k: (folder / v).as_posix() if isinstance(v, str) else v
                                                      for k, v in data.items()}}), encoding="utf-8")
    return path, folder


def _snapshot(root: Path, skip: Path) -> dict[str, str]:
    """Every file under ``root`` except under ``skip``, with its SHA-256."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and skip not in p.parents}


class _Lock:
    """Another process holding a DuckDB file open for writing (as a running job or a GUI would)."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self):
        code = ("import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
                "time.sleep(120)")
        self.proc = subprocess.Popen([sys.executable, "-c", code, str(self.path)], stdout=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while self.proc.stdout.readline().strip() != "ready":
            assert time.monotonic() < deadline, "the locking process did not start"
        return self

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()


def _run(argv: list[str], capsys) -> tuple[int, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_corpus_is_large_and_ids_unique():
    ids = [c["id"] for c in CASES]
    assert len(ids) >= 60 and len(ids) == len(set(ids))


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_bad_input(case, tmp_path, small_tables, capsys, monkeypatch):
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # where DuckDB would put extensions it downloads
    params, folder = _build(case, tmp_path, small_tables)
    out = tmp_path / "out"
    before = _snapshot(tmp_path, out)
    expect = case["expect"]
    lock = _Lock(folder / f"{case['lock']}.duckdb") if case.get("lock") else None
    results = {}
    try:
        if lock:
            lock.__enter__()
        for command in case.get("commands", ["validate", "render"]):
            if command == "batch":
                argv = ["batch", str(folder / "quarter"), "--out", str(out), "--no-pdf"]
            else:
                argv = [command, str(params), "--out", str(out)] + (["--no-pdf"] if command == "render" else [])
            results[command] = _run(argv, capsys)
    finally:
        if lock:
            lock.__exit__(None, None, None)
    for command, (code, text) in results.items():
        assert code == expect["exit"], f"{command}: exit {code}\n{text}"
        assert "Traceback" not in text, f"{command} printed a traceback:\n{text}"
        for part in expect.get("says", []):
            assert part in text, f"{command}: {part!r} not in:\n{text}"
        for part in expect.get("not_says", []):
            assert part not in text, f"{command}: {part!r} should not be in:\n{text}"
    if {"validate", "render"} <= set(results) and expect["exit"]:
        errors = {c: [line for line in t.splitlines() if line.startswith(("error", "  -"))]
                  for c, (_, t) in results.items()}
        assert errors["validate"] == errors["render"], "validate and render disagree"
    assert _snapshot(tmp_path, out) == before, "an input changed, or a file was written outside the output folder"
    for path in expect.get("absent", []):
        target = Path(path) if Path(path).is_absolute() else folder / path
        assert not target.exists(), f"{target} was written"
    if expect["exit"]:
        assert not list(out.rglob("report.html")), "a failed run left a report"
    assert not (tmp_path / "home" / ".duckdb").exists(), "DuckDB installed or looked for an extension"


# ---------------------------------------------------------------- faults: folders the kit did not write


def _small_case(root: Path, small_tables, **params) -> Path:
    from tests.conftest import write_case

    return write_case(root / "data", small_tables[0], "parquet", n_boot=20, **params)


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("manifest", [None, '{"run": "params", "fingerpr', '{"run": "other", "fingerprint": "x"}'])
def test_a_run_folder_the_kit_did_not_write_is_refused_untouched(tmp_path, small_tables, capsys, manifest):
    """A folder with the run's name but no manifest of the kit's (or one that cannot be read, or claims another
    run): validate and render refuse it by name and change nothing (it once lost a user's board chart)."""
    params = _small_case(tmp_path, small_tables)
    run_dir = tmp_path / "out" / "params"
    (run_dir / "figures").mkdir(parents=True)
    (run_dir / "figures" / "board-chart.png").write_bytes(b"the board's chart")
    (run_dir / "report.html").write_text("my own report", encoding="utf-8")
    if manifest is not None:
        (run_dir / "manifest.json").write_text(manifest, encoding="utf-8")
    before = _tree(run_dir)
    for command in (["validate"], ["render", "--no-pdf"]):
        code, text = _run([command[0], str(params), "--out", str(tmp_path / "out"), *command[1:]], capsys)
        assert code == 1 and "Traceback" not in text, text
        assert f"{run_dir} exists and was not written by cxkit" in text and "Nothing was changed" in text, text
        assert "figures/" in text and "report.html" in text
    assert _tree(run_dir) == before
    assert not list((tmp_path / "out").glob(".staging-*"))


def test_a_file_the_kit_did_not_write_in_its_figures_is_refused(tmp_path, small_tables, capsys):
    params = _small_case(tmp_path, small_tables)
    run_dir = tmp_path / "out" / "params"
    (run_dir / "figures").mkdir(parents=True)
    (run_dir / "figures" / "fig-1.svg").write_text("<svg/>", encoding="utf-8")
    (run_dir / "figures" / "board-chart.png").write_bytes(b"the board's chart")
    (run_dir / "manifest.json").write_text(json.dumps({"run": "params", "fingerprint": "abc",
                                                       "files": ["figures/fig-1.svg", "manifest.json"]}))
    before = _tree(run_dir)
    code, text = _run(["validate", str(params), "--out", str(tmp_path / "out")], capsys)
    assert code == 1 and "figures/board-chart.png" in text and "the kit did not write" in text, text
    assert _tree(run_dir) == before


def test_a_run_mailed_then_rendered_again_is_still_the_kits(tmp_path, small_tables, capsys):
    """`cxkit email` draws each key figure's PNG beside its SVG; a second render of the same run took those PNGs
    for someone else's files and refused ("holds files the kit did not write"). A PNG of a listed SVG is the
    kit's; another file beside them is still refused."""
    params = _small_case(tmp_path, small_tables)
    out, run_dir = tmp_path / "out", tmp_path / "out" / "params"
    assert _run(["render", str(params), "--out", str(out), "--no-pdf"], capsys)[0] == 0
    code, text = _run(["email", str(run_dir), "--to", "cfo@example.com"], capsys)
    assert code == 0, text
    drawn = [p.name for p in (run_dir / "figures").glob("*.png")]
    assert drawn, "the email drew no PNG to test with"
    code, text = _run(["render", str(params), "--out", str(out), "--no-pdf", "--force"], capsys)
    assert code == 0 and "did not write" not in text, text
    (run_dir / "figures" / "board-chart.png").write_bytes(b"the board's chart")
    code, text = _run(["render", str(params), "--out", str(out), "--no-pdf", "--force"], capsys)
    assert code == 1 and "figures/board-chart.png" in text and "did not write" in text, text


def test_index_html_the_kit_did_not_write_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    (out / "r1").mkdir(parents=True)
    (out / "r1" / "manifest.json").write_text(json.dumps({"run": "r1", "fingerprint": "abc", "seconds": {}}))
    (out / "index.html").write_text("my own index page", encoding="utf-8")
    code, text = _run(["index", str(out)], capsys)
    assert code == 1 and "index.html" in text and "not written by cxkit" in text, text
    assert (out / "index.html").read_text(encoding="utf-8") == "my own index page"


# ---------------------------------------------------------------- faults: signals


def _cxkit(args: list[str]) -> subprocess.Popen:
    """``python -m cxkit ARGS`` in a session of its own (a terminal's Ctrl-C reaches its whole group)."""
    import os

    from tests.conftest import ROOT

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "cxkit", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, start_new_session=True, cwd=ROOT)


def _alive(pids) -> list[int]:
    out = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if state != b"Z":
            out.append(pid)
    return out


def _wait_for_kernels(proc: subprocess.Popen, out: Path, kernels: int = 1, timeout: float = 120) -> list[int]:
    """Wait until ``proc`` runs ``kernels`` kernels and a staging folder exists; return its process tree."""
    from cxkit.render.signals import descendants

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        tree = descendants(proc.pid)
        running = [p for p in tree if b"ipykernel" in Path(f"/proc/{p}/cmdline").read_bytes()] if tree else []
        if len(running) >= kernels and list(out.glob(".staging-*")):
            time.sleep(1.0)  # into the notebook's cells
            return descendants(proc.pid)
        time.sleep(0.1)
    raise AssertionError("the command never started its kernels")


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process tree from /proc")
@pytest.mark.parametrize("signum", [15, 2], ids=["SIGTERM", "SIGINT"])
def test_a_signal_ends_a_render_cleanly(tmp_path, small_tables, signum):
    """SIGTERM or Ctrl-C during a render: one line, exit 143/130, the kernel ended, no staging folder, no report."""
    import os

    params = _small_case(tmp_path, small_tables)
    out = tmp_path / "out"
    proc = _cxkit(["render", str(params), "--out", str(out), "--no-pdf"])
    tree = _wait_for_kernels(proc, out)
    (os.killpg if signum == 2 else os.kill)(proc.pid, signum)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("terminated" if signum == 15 else "interrupted"), stderr
    assert not _alive(tree), "a kernel outlived the command"
    assert not list(out.glob(".staging-*")) and not list(out.rglob("report.html"))


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process tree from /proc")
@pytest.mark.parametrize("signum", [15, 2], ids=["SIGTERM", "SIGINT"])
def test_a_signal_ends_a_batch_with_its_workers_and_kernels(tmp_path, small_tables, signum):
    """SIGTERM or Ctrl-C during a batch: every worker and kernel ended before the command exits, nothing written
    into --out after it, no staging folder, no worker's traceback."""
    import os

    params = _small_case(tmp_path, small_tables)
    folder = tmp_path / "quarter"
    folder.mkdir()
    for name in ("east", "west", "north"):
        text = yaml.safe_load(params.read_text())
        text["data"] = {k: str(params.parent / v) for k, v in text["data"].items()}
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(text), encoding="utf-8")
    out = tmp_path / "out"
    proc = _cxkit(["batch", str(folder), "--out", str(out), "--no-pdf", "--jobs", "2"])
    tree = _wait_for_kernels(proc, out, kernels=2)
    (os.killpg if signum == 2 else os.kill)(proc.pid, signum)
    stdout, stderr = proc.communicate(timeout=90)
    assert proc.returncode == 128 + signum, stderr
    assert "Traceback" not in stderr, stderr
    assert stderr.strip().splitlines()[-1].startswith("terminated" if signum == 15 else "interrupted"), stderr
    assert not _alive(tree), "a worker or kernel outlived the command"
    after = _snapshot(out, out / ".store")
    time.sleep(3)
    assert _snapshot(out, out / ".store") == after, "something was written into --out after the command ended"
    assert not list(out.glob(".staging-*")) and not (out / "index.html").exists()


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process tree from /proc")
def test_a_killed_renders_staging_folder_is_removed_by_the_next_run(tmp_path, small_tables, capsys):
    """kill -9 leaves a staging folder; the next run into the same --out removes it (and only it: a folder
    without the kit's marker stays)."""
    import os

    params = _small_case(tmp_path, small_tables)
    out = tmp_path / "out"
    proc = _cxkit(["render", str(params), "--out", str(out), "--no-pdf"])
    _wait_for_kernels(proc, out)
    os.killpg(proc.pid, 9)
    proc.communicate(timeout=30)
    left = list(out.glob(".staging-*"))
    assert left, "kill -9 left no staging folder to clean"
    foreign = out / ".staging-not-ours"
    foreign.mkdir()
    code, text = _run(["render", str(params), "--out", str(out), "--no-pdf"], capsys)
    assert code == 0, text
    assert not any(p.exists() for p in left) and foreign.is_dir()
    assert (out / "params" / "report.html").is_file()


def test_duckdb_connections_cannot_reach_out():
    """Locked down before any user SQL: no autoinstall or autoload, no network file system, and locked."""
    from cxkit.engine import connect

    con = connect()
    names = ("autoinstall_known_extensions", "autoload_known_extensions", "lock_configuration")
    settings = dict(con.execute("SELECT name, value FROM duckdb_settings() WHERE list_contains(?, name)",
                                [list(names)]).fetchall())
    assert settings == {"autoinstall_known_extensions": "false", "autoload_known_extensions": "false",
                        "lock_configuration": "true"}
    with pytest.raises(duckdb.Error, match="locked"):
        con.execute("SET autoload_known_extensions = true")
    with pytest.raises(duckdb.Error, match="HTTPFileSystem.*disabled|locked"):  # DuckDB does not list it, but keeps it
        con.execute("SET disabled_filesystems = ''")


# ---------------------------------------------------------------- faults: resources


def test_a_full_disk_while_writing_leaves_the_previous_report(tmp_path, small_tables, capsys, monkeypatch):
    """ENOSPC while writing into the staging folder (forced here; tests/test_faults.py fills a real tmpfs): a
    clear message, exit 1, the previous report byte-identical, no staging folder."""
    import errno

    params = _small_case(tmp_path, small_tables)
    out = tmp_path / "out"
    assert _run(["render", str(params), "--out", str(out), "--no-pdf"], capsys)[0] == 0
    before = _tree(out / "params")

    real_write = Path.write_text

    def full_disk(self, *args, **kwargs):
        if ".staging-" in str(self) and self.name == "report.json":
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real_write(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full_disk)
    code, text = _run(["render", str(params), "--out", str(out), "--no-pdf", "--force"], capsys)
    assert code == 1 and "Traceback" not in text, text
    assert "error: cannot write the report: No space left on device" in text and "is as it was" in text, text
    assert _tree(out / "params") == before
    assert not list(out.glob(".staging-*"))


def test_a_read_only_out_is_refused_by_validate_and_render(tmp_path, small_tables, capsys):
    """A read-only --out (a read-only mount; or, for a user who is not root, a folder without write access)."""
    import os

    params = _small_case(tmp_path, small_tables)
    out = tmp_path / "ro"
    out.mkdir()
    mounted = False
    if os.geteuid() == 0:
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", str(out)],
                                 capture_output=True).returncode == 0
        if not mounted:
            pytest.skip("root here, but cannot mount a read-only tmpfs")
    else:
        out.chmod(0o555)
    try:
        for command in (["validate"], ["render", "--no-pdf"]):
            code, text = _run([command[0], str(params), "--out", str(out), *command[1:]], capsys)
            assert code == 1 and "Traceback" not in text, text
            assert f"--out: {out}" in text and ("read-only file system" in text or "not writable" in text), text
    finally:
        if mounted:
            subprocess.run(["umount", str(out)], check=True)
        else:
            out.chmod(0o755)


# ---------------------------------------------------------------- faults: commands on what they find


def test_rerender_of_a_folder_without_figures_says_so(tmp_path, capsys):
    from cxkit.document import RECORD_VERSION

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "report.json").write_text(json.dumps({"version": RECORD_VERSION, "meta": {}, "blocks": [
        {"type": "figure", "svg_file": "figures/churn.svg"}]}))
    code, text = _run(["rerender", str(run_dir), "--no-pdf"], capsys)
    assert code == 1 and "Traceback" not in text and "no figures/ folder here" in text, text
    (run_dir / "figures").mkdir()
    code, text = _run(["rerender", str(run_dir), "--no-pdf"], capsys)
    assert code == 1 and "Traceback" not in text and "figures are missing (e.g. figures/churn.svg)" in text, text


def test_index_over_a_truncated_manifest_lists_the_others(tmp_path, capsys):
    out = tmp_path / "out"
    for run in ("east", "west"):
        (out / run).mkdir(parents=True)
    (out / "east" / "manifest.json").write_text(json.dumps({"run": "east", "fingerprint": "abc", "seconds": {"x": 1}}))
    (out / "west" / "manifest.json").write_text('{"run": "west", "fingerpri')
    code, text = _run(["index", str(out)], capsys)
    assert code == 0 and "Traceback" not in text, text
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "east/report.html" in page and "west" in page and "cannot be read" in page


@pytest.mark.parametrize("option", ["--subject", "--to"])
def test_a_line_break_in_an_email_option_is_a_usage_error(tmp_path, capsys, option):
    with pytest.raises(SystemExit) as info:
        main(["email", str(tmp_path), option, "Q3\r\nBcc: everyone@example.com"])
    assert info.value.code == 2
    assert "holds a line break" in capsys.readouterr().err


def test_a_folded_title_with_an_email_block_renders_and_mails_in_a_batch(tmp_path, small_tables, capsys):
    """``title: >`` ends in a newline: the batch used to die after its first report (no index, no emails)."""
    params = _small_case(tmp_path, small_tables)
    folder = tmp_path / "quarter"
    folder.mkdir()
    data = {k: str(params.parent / v) for k, v in yaml.safe_load(params.read_text())["data"].items()}
    text = ("title: >\n  Q3 report\n  for the board\nn_boot: 20\nas_of: '2026-09-30'\n"
            "email: {to: 'Chief Financial Officer <cfo@example.com>'}\n" + yaml.safe_dump({"data": data}))
    (folder / "board.yaml").write_text(text, encoding="utf-8")
    code, out = _run(["batch", str(folder), "--out", str(tmp_path / "out"), "--no-pdf"], capsys)
    assert code == 0 and "Traceback" not in out, out
    eml = (tmp_path / "out" / "board" / "email.eml").read_bytes().decode()
    assert "Subject: Q3 report for the board" in eml and "cfo@example.com" in eml
    assert (tmp_path / "out" / "index.html").is_file()


def test_segment_values_that_slug_alike_get_distinct_run_names(tmp_path, small_tables, capsys):
    """``North East`` and ``north-east`` (and ``Zürich``, ``Zurich``) were one run folder: the batch refused itself."""
    tables = {k: v.copy() for k, v in small_tables[0].items()}
    customers = tables["customers"]
    customers["region"] = customers["region"].astype(str)
    for rows, value in ((slice(0, 40), "North East"), (slice(40, 80), "north-east"), (slice(80, 120), "Zürich"),
                        (slice(120, 160), "Zurich"), (slice(160, 200), "🚀"), (slice(200, 240), "🛰")):
        customers.loc[customers.index[rows], "region"] = value
    from tests.conftest import write_case

    params = write_case(tmp_path / "data", tables, "parquet", n_boot=20,
                        audiences={"by": "region", "min_customers": 1})
    code, text = _run(["validate", str(params), "--out", str(tmp_path / "out")], capsys)
    assert code == 0 and "Traceback" not in text, text
    runs = re.findall(r"^ok: (\S+): ", text, flags=re.M)
    assert len(runs) == len(set(runs)) == customers["region"].nunique(), text
    assert sum(r.startswith("region-north-east-") for r in runs) == 2
    assert sum(r.startswith("region-zurich-") for r in runs) == 2
