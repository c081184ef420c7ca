"""Print benchmarks/results.json as the Markdown table docs/benchmarks.md shows (python benchmarks/table.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def markdown(records: list[dict]) -> str:
    lines = ["| customers | step | kit s | pandas + lifelines s | speed-up | kit peak MB | baseline peak MB "
             "| same numbers |", "|---:|---|---:|---:|---:|---:|---:|---|"]
    for r in records:
        if r["step"] == "report_render" or r["step"].startswith("batch_"):
            continue
        base = r["baseline_seconds"]
        speed = f"{base / r['kit_seconds']:.1f}x" if base else "-"
        step = r["step"].replace("_", " ")
        if r.get("scan_seconds"):
            step += f" ({r['kit_seconds'] / r['scan_seconds']:.1f}x a scan of its columns"
            step += f", {r['kit_seconds'] / r['read_seconds']:.1f}x reading them out)" if r.get("read_seconds") else ")"
        lines.append(f"| {r['n']:,} | {step} | {r['kit_seconds']:.2f} | {f'{base:.2f}' if base else '-'} | "
                     f"{speed} | {r['kit_peak_mb']} | {r['baseline_peak_mb'] if r['baseline_peak_mb'] else '-'} | "
                     f"{'yes' if r['agree'] else ('-' if r['agree'] is None else 'NO')} |")
    report = next((r for r in records if r["step"] == "report_render"), None)
    if report:
        lines.append("")
        lines.append(f"Demo report render: {report['kit_seconds']:.1f} s against a fixed cost plus compute of "
                     f"{report['baseline_seconds']:.1f} s (within 1.5x: {'yes' if report['agree'] else 'no'}).")
    batches = [r for r in records if r["step"].startswith("batch_")]
    if batches:
        lines += ["", "| audiences | reports | wall time | per report | each report after the first ten "
                  "| today's batch | peak memory |", "|---|---:|---:|---:|---:|---:|---:|"]
        for r in batches:
            name = "one report alone" if r["step"] == "batch_single" else r["step"].split("_")[1]
            marginal = f"{r['marginal_seconds']:.1f} s" if r.get("marginal_seconds") is not None else "-"
            base = r.get("baseline_seconds")
            today = f"{base:,.0f} s ({base / r['kit_seconds']:.1f}x)" if base else "-"
            lines.append(f"| {name} | {r['reports']:,} | {r['kit_seconds']:,.0f} s | {r['per_report_seconds']:.1f} s "
                         f"| {marginal} | {today} | {r['kit_peak_mb']:,} MB |")
    return "\n".join(lines)


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "results.json"
    print(markdown(json.loads(path.read_text())))
