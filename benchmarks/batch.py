"""Benchmark a batch of audience reports: the kit's batch against today's way and against one report.

    python benchmarks/batch.py                   # 100 audiences over 1M customers, and 1,000 audiences
    python benchmarks/batch.py --audiences 100   # the 100-audience rows only

The data is the benchmark's synthetic data set with two audience columns added: ``team`` (100 values)
and ``squad`` (1,000 values), spread evenly over customers (``benchmarks/data/n<N>-teams/``).

Rows (``step``):

* ``batch_single``: one audience's report rendered alone (``cxkit render``: a fresh kernel, the data
  validated, every number computed).
* ``batch_<K>_audiences``: ``cxkit batch`` of one params file with ``audiences: {by: team}`` (or ``squad``),
  two jobs: the data validated once into the analysis store, the compared population computed once, warm
  kernels. ``kit_seconds`` is the wall time, ``per_report_seconds`` the wall time per report, and
  ``marginal_seconds`` what each report after the first ten added.
  ``baseline_seconds`` is today's batch (before the store and warm kernels: each report a fresh kernel,
  its own validation and every number computed), two at a time, measured on ``baseline_reports`` of the
  audiences and scaled to all of them.
* ``kit_peak_mb`` is the peak of the memory of the batch and all its workers, kernels and browsers
  (summed proportional set sizes, so shared pages count once), sampled every 2 s (every 0.5 s for one report
  alone, whose peak is brief).

Each report is the full report, HTML and PDF, as ``cxkit batch`` writes it by default.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

N = 1_000_000


def dataset(n: int = N) -> Path:
    """The column data set of ``n`` customers with ``team`` and ``squad`` added (written once)."""
    import duckdb
    import yaml
    from run import dataset as base_dataset

    folder = HERE / "data" / f"n{n}-teams"
    params = folder / "params.yaml"
    if params.exists():
        return folder
    source = base_dataset(n)
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(f"COPY (SELECT *, 'team-' || lpad(CAST(hash(customer_id) % 100 AS VARCHAR), 3, '0') AS team, "
                f"'squad-' || lpad(CAST(hash(customer_id) % 1000 AS VARCHAR), 4, '0') AS squad "
                f"FROM read_parquet('{source / 'customers.parquet'}')) TO '{folder / 'customers.parquet'}' "
                "(FORMAT parquet)")
    raw = yaml.safe_load((source / "params.yaml").read_text())
    for table in raw["data"]:
        if table != "customers":
            shutil.copy2(source / raw["data"][table], folder / raw["data"][table])
    raw["data"]["customers"] = "customers.parquet"
    params.write_text(yaml.safe_dump(raw))
    return folder


def _params(folder: Path, target: Path, by: str) -> Path:
    import yaml

    raw = yaml.safe_load((folder / "params.yaml").read_text())
    spec = {"notebook": "01-leadership-report", "title": "{label}: customer experience and value",
            "audience": "{label}", "as_of": raw["as_of"], "focus": "region", "period": "Q",
            "data": {**{t: str(folder / p) for t, p in raw["data"].items()},
                     "customers": {"path": str(folder / raw["data"]["customers"]),
                                   "columns": {"team": "team", "squad": "squad"}}},
            "audiences": {"by": by, "min_customers": 30}}
    target.write_text(yaml.safe_dump(spec))
    return target


class PeakMemory:
    """The peak of the summed memory of a process and everything it started (MB).

    Each process counts its proportional set size (PSS: its private pages plus its share of the pages it
    shares), so libraries and browser pages mapped by many processes are counted once, as the machine
    holds them; summed resident sizes would count them once per process.
    """

    #: Reading the memory maps of the ~30 processes of a batch (the browsers' many) costs 0.1 s of a core and
    #: 0.2 s of wall time each time: every 0.5 s that took 15-20% of a core from the two workers it measured
    #: (100 audiences: 211 s sampled so, 182 s sampled every 2 s, the same code). A batch's memory is flat
    #: once its workers run, so a sample every 2 s finds the same peak (1,624 and 1,643 MB).
    def __init__(self, root_pid: int, every: float):
        self.root_pid, self.every, self.peak_mb = root_pid, every, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        root = psutil.Process(self.root_pid)
        while not self._stop.is_set():
            total = 0
            try:
                for p in [root, *root.children(recursive=True)]:
                    try:
                        total += p.memory_full_info().pss
                    except psutil.Error:
                        pass
            except psutil.Error:
                break
            self.peak_mb = max(self.peak_mb, total / 2**20)
            time.sleep(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _timed(argv: list[str], every: float = 2.0) -> tuple[float, float]:
    """Wall seconds and peak MB (the process and everything it starts) of a cxkit command, memory sampled
    every ``every`` seconds."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "cxkit", *argv], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    with PeakMemory(proc.pid, every) as peak:
        code = proc.wait()
    if code != 0:
        raise RuntimeError(f"cxkit {' '.join(argv)} exited with {code}")
    return time.perf_counter() - start, peak.peak_mb


def _baseline(files: list[Path], out: Path, jobs: int = 2) -> float:
    """Today's batch before this issue: each report a fresh kernel, its own validation, every number."""
    from concurrent.futures import ProcessPoolExecutor

    start = time.perf_counter()
    with ProcessPoolExecutor(jobs) as pool:
        list(pool.map(_render_cold, [str(f) for f in files], [str(out)] * len(files)))
    return time.perf_counter() - start


def _render_cold(path: str, out: str) -> None:
    import os
    import warnings

    os.environ["DUCKDB_THREADS"] = "1"  # as the batch runs two workers on two cores
    from cxkit.render.run import render

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        render(path, out, pdf=True, warm=False, store=None)


def batch_records(audiences=(100, 1000), baseline_reports: int = 10, work: Path | None = None,
                  done=lambda records: None) -> list[dict]:
    """The ``batch_`` rows of ``results.json`` (``done`` is called with the rows so far after each one)."""
    from cxkit.render.audiences import expand_audiences

    folder = dataset()
    work = work or HERE / "data" / "batch-work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    records = []
    files, _ = expand_audiences(_params(folder, work / "teams.yaml", "team"), work / "expanded")
    # one report: its peak is the moment it validates the data, and it leaves a core free for the sampler
    single, single_mb = _timed(["render", str(files[0]), "--out", str(work / "single")], every=0.5)
    records.append({"n": N, "step": "batch_single", "reports": 1, "kit_seconds": round(single, 2),
                    "per_report_seconds": round(single, 2), "baseline_seconds": None,
                    "kit_peak_mb": round(single_mb), "baseline_peak_mb": None, "agree": None})
    print(f"one report alone: {single:.1f} s, {single_mb:.0f} MB", flush=True)
    done(records)
    for k in audiences:
        by = {100: "team", 1000: "squad"}[k]
        params = _params(folder, work / f"{by}.yaml", by)
        seconds, peak = _timed(["batch", str(params), "--out", str(work / f"out-{k}"), "--jobs", "2"])
        expanded = sorted((work / f"out-{k}" / ".audiences").glob("*.yaml"))
        base = None
        if k == 100:
            sample = expanded[:baseline_reports]
            base = _baseline(sample, work / f"base-{k}") * len(expanded) / len(sample)
        # the marginal cost: the same batch on ten of its audiences, fresh (its own store and kernels)
        subset = work / f"{by}-ten-files"
        subset.mkdir(exist_ok=True)
        for f in expanded[:10]:
            shutil.copy2(f, subset / f.name)
        ten_seconds, _ = _timed(["batch", str(subset), "--out", str(work / f"out-{k}-ten"), "--jobs", "2"])
        marginal = (seconds - ten_seconds) / (len(expanded) - 10)
        rec = {"n": N, "step": f"batch_{k}_audiences", "reports": len(expanded), "kit_seconds": round(seconds, 1),
               "per_report_seconds": round(seconds / len(expanded), 2), "marginal_seconds": round(marginal, 2),
               "baseline_seconds": None if base is None else round(base, 1),
               "baseline_reports": baseline_reports if base is not None else None, "kit_peak_mb": round(peak),
               "baseline_peak_mb": None, "agree": None}
        records.append(rec)
        print(json.dumps(rec), flush=True)
        done(records)
    return records


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audiences", type=int, nargs="*", default=[100, 1000], choices=[100, 1000])
    parser.add_argument("--out", default=str(HERE / "results.json"))
    args = parser.parse_args(argv)
    path = Path(args.out)
    measured = {"batch_single", *(f"batch_{k}_audiences" for k in args.audiences)}  # the rows this run rewrites
    kept = [r for r in json.loads(path.read_text()) if r["step"] not in measured] if path.exists() else []

    def write(records):  # after each row, so a long run keeps what it measured
        path.write_text(json.dumps(kept + records, indent=2))

    batch_records(args.audiences, done=write)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
