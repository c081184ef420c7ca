"""Benchmark the kit against the straightforward approach at 100k, 1M and 10M customers.

    python benchmarks/run.py            # 100k, 1M and 10M (make bench)
    python benchmarks/run.py --quick    # 100k and 1M (make bench-quick)

Each measurement runs in a fresh forked process: inputs are prepared first (not timed), then the peak
resident memory is reset (``/proc/self/clear_refs``) and the step is timed; the peak is the kernel's
high-water mark during the step. The column scan and Kaplan-Meier take a fraction of a second, so each
is the median of five such runs. Both ways return their numbers and the run checks they agree. Results go
to ``benchmarks/results.json`` as records {n, step, kit_seconds, baseline_seconds, kit_peak_mb,
baseline_peak_mb, agree}. Data sets are generated once into ``benchmarks/data/`` (ignored by git).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

QUICK, FULL = [100_000, 1_000_000], [100_000, 1_000_000, 10_000_000]


def dataset(n: int) -> Path:
    folder = HERE / "data" / f"n{n}-column"
    if not (folder / "params.yaml").exists():
        from cxkit.synth import write

        print(f"generating {n:,} customers ...", flush=True)
        write(folder, n_customers=n, seed=1, revenue="column")
    return folder


def _peak_mb() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _child(step: str, side: int, folder: str, conn) -> None:
    from steps import ALL

    try:
        setup, run = ALL[step][side](Path(folder))
        inputs = setup()
        if side == 0:  # libraries are loaded before the clock starts, on both sides
            import cxkit.leadership  # noqa: F401
            import cxkit.ltv  # noqa: F401
            import cxkit.survival  # noqa: F401
        else:
            import lifelines  # noqa: F401
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset the high-water mark: the peak below is this step's
        start = time.perf_counter()
        result = run(inputs)
        conn.send((time.perf_counter() - start, _peak_mb(), result, None))
    except Exception as exc:  # report, do not hang the parent
        conn.send((None, None, None, f"{type(exc).__name__}: {exc}"))


def measure(step: str, side: int, folder: Path):
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(step, side, str(folder), child))
    proc.start()
    out = parent.recv()
    proc.join()
    if out[3]:
        raise RuntimeError(f"{step} ({'kit' if side == 0 else 'baseline'}): {out[3]}")
    return out[:3]


def _median_seconds(step: str, folder: Path, repeats: int = 5, first: float | None = None) -> float:
    """Median time of ``repeats`` fresh-process runs of a short step (one run is noise at 0.1 s)."""
    import statistics

    times = [first] if first is not None else []
    times += [measure(step, 0, folder)[0] for _ in range(repeats - len(times))]
    return statistics.median(times)


def report_costs(records: list) -> None:
    """Fixed cost of one report (kernel start, imports, render) against the demo report's render.

    The floor is an empty report's render plus importing the kit; the compute is the time the demo
    notebook's own cells take (papermill records each), less the imports. A render within 1.5 x
    (floor + compute) pays only for what it uses.
    """
    import tempfile

    import nbformat
    import yaml

    from cxkit.render import render
    from cxkit.report import demo_data

    demo_data()
    py = sys.executable
    t = time.perf_counter()
    subprocess.run([py, "-c", "pass"], check=True)
    bare = time.perf_counter() - t
    t = time.perf_counter()
    subprocess.run([py, "-c", "import cxkit.leadership, cxkit.report, cxkit.plots, cxkit.load"], check=True)
    imports = time.perf_counter() - t - bare
    with tempfile.TemporaryDirectory() as tmp:
        nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "language": "python",
                                                               "display_name": "Python 3"}})
        nb.cells = [nbformat.v4.new_code_cell('title: str = "floor"  # title\n'
                                              'data: dict = None  # data (None: the built-in demo data)\n'
                                              'as_of: str = "2026-09-30"  # date\n'
                                              'min_segment_size: int = 30  # minimum\n'
                                              'slice_by: dict = None  # slice (None: everyone)',
                                              metadata={"tags": ["parameters"]}),
                    nbformat.v4.new_markdown_cell("An empty report.")]
        (Path(tmp) / "floor.ipynb").write_text(nbformat.writes(nb))
        (Path(tmp) / "floor.yaml").write_text(yaml.safe_dump({"notebook": str(Path(tmp) / "floor.ipynb")}))
        floor = render(Path(tmp) / "floor.yaml", Path(tmp) / "out").seconds
        full = render(HERE.parent / "params" / "demo.yaml", Path(tmp) / "out")
        executed = nbformat.read(str(full.run_dir / "01-leadership-report.ipynb"), as_version=4)
        cells = sum(c.metadata.get("papermill", {}).get("duration") or 0 for c in executed.cells)
    compute = cells - imports
    floor_total, full_total = sum(floor.values()) + imports, sum(full.seconds.values())
    budget = 1.5 * (floor_total + compute)
    print(f"\nreport fixed cost (floor): {floor_total:.2f} s = imports {imports:.2f} + empty report "
          f"({', '.join(f'{k} {v:.2f}' for k, v in floor.items())})")
    print(f"demo report: its cells compute {compute:.2f} s; render {full_total:.2f} s "
          f"({', '.join(f'{k} {v:.2f}' for k, v in full.seconds.items())}); within 1.5 x (floor + compute) = "
          f"{budget:.2f} s: {'yes' if full_total <= budget else 'NO'}")
    records.append({"n": 20_000, "step": "report_render", "kit_seconds": round(full_total, 3),
                    "baseline_seconds": round(floor_total + compute, 3), "kit_peak_mb": None,
                    "baseline_peak_mb": None, "agree": full_total <= budget,
                    "note": "baseline = fixed cost (empty report + imports) + the notebook's compute; "
                            "agree = render within 1.5x of it"})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k and 1M only")
    parser.add_argument("--sizes", type=int, nargs="*", help="customer counts to run")
    parser.add_argument("--out", default=str(HERE / "results.json"))
    parser.add_argument("--steps", nargs="*", help="run only these steps; the other rows of results.json are kept")
    parser.add_argument("--kit-only", action="store_true",
                        help="time the kit only; a row keeps its stored baseline (time, memory, agree), noted")
    args = parser.parse_args(argv)
    sizes = args.sizes or (QUICK if args.quick else FULL)
    from steps import BASELINE_MAX, STEPS, agree

    chosen = {k: v for k, v in STEPS.items() if not args.steps or k in args.steps}

    records = []
    stored = {(r.get("n"), r["step"]): r for r in json.loads(Path(args.out).read_text())} \
        if Path(args.out).exists() else {}
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {memory:.0f} GiB, "
          f"Python {platform.python_version()}")
    header = f"{'n':>10}  {'step':<20} {'kit s':>8} {'base s':>8} {'speed-up':>8} {'kit MB':>8} {'base MB':>8}  agree"
    print(header)
    for n in sizes:
        folder = dataset(n)
        scan_s = read_s = None  # the yardsticks of Kaplan-Meier, measured only with it
        if "km_logrank_rmst" in chosen:
            scan_s, read_s = _median_seconds("scan", folder), _median_seconds("read", folder)
        for step, (_, base_fn) in chosen.items():
            if n > BASELINE_MAX.get(step, n) or args.kit_only:
                base_fn = None
            kit_s, kit_mb, kit_out = measure(step, 0, folder)
            if step == "km_logrank_rmst":  # a fraction of a second: the median of repeats, like the scan
                kit_s = _median_seconds(step, folder, first=kit_s)
            base_s = base_mb = base_out = None
            if base_fn is not None:
                base_s, base_mb, base_out = measure(step, 1, folder)
                if step in ("ltv_with_intervals", "key_drivers"):  # timed on BASELINE_BOOT replicates: scale
                    from steps import BASELINE_BOOT, N_BOOT

                    base_s *= (N_BOOT + 1) / (BASELINE_BOOT + 1)
            ok = agree(step, kit_out, base_out)
            rec = {"n": n, "step": step, "kit_seconds": round(kit_s, 3),
                   "baseline_seconds": None if base_s is None else round(base_s, 3),
                   "kit_peak_mb": round(kit_mb), "baseline_peak_mb": None if base_mb is None else round(base_mb),
                   "agree": ok}
            if step == "km_logrank_rmst":
                rec["scan_seconds"], rec["read_seconds"] = round(scan_s, 3), round(read_s, 3)
            old = stored.get((n, step), {})
            if args.kit_only and old.get("baseline_seconds") is not None:
                rec.update({k: old[k] for k in ("baseline_seconds", "baseline_peak_mb", "agree")})
                base_s, base_mb, ok = old["baseline_seconds"], old["baseline_peak_mb"], old["agree"]
                rec["note"] = "baseline (and agree) from an earlier run; the kit's point estimates are unchanged"
            records.append(rec)
            speed = f"{base_s / kit_s:7.1f}x" if base_s else "       -"
            extra = (f"  ({kit_s / scan_s:.1f}x a scan of the columns, {kit_s / read_s:.1f}x reading them out)"
                     if step == "km_logrank_rmst" else "")
            print(f"{n:>10,}  {step:<20} {kit_s:8.2f} {base_s or float('nan'):8.2f} {speed:>8} {kit_mb:8.0f} "
                  f"{base_mb or float('nan'):8.0f}  {ok}{extra}", flush=True)
    if not args.steps:
        report_costs(records)
    out = Path(args.out)  # the audience-batch rows (benchmarks/batch.py) and steps not run now are kept as they are
    ran = {(r["n"], r["step"]) for r in records}
    kept = [r for r in json.loads(out.read_text()) if str(r["step"]).startswith("batch_")
            or (args.steps and (r.get("n"), r["step"]) not in ran)] if out.exists() else []
    order = list(STEPS)

    def place(r):  # sizes in order, each size's steps in the benchmark's order; the batch rows last
        step = str(r["step"])
        return (step.startswith("batch_"), r.get("n") or 0, order.index(step) if step in order else len(order))

    out.write_text(json.dumps(sorted(records + kept, key=place), indent=2))
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
