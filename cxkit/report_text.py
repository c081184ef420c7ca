"""Plain-text summaries for the terminal (``cxkit validate`` and ``cxkit demo``)."""

from __future__ import annotations

from cxkit.frames import nps_counts_by
from cxkit.narrative import nps_population, signed
from cxkit.nps import nps_table_from_counts

__all__ = ["describe_data", "nps_overview"]


def describe_data(data) -> str:
    """What was loaded: mode, analysis date, rows per table, segment and score columns."""
    lines = [f"data: {data.mode} ({'signup and end dates' if data.mode == 'dated' else 'tenure and churn flag'})"
             + (f", as of {data.as_of}" if data.as_of else "")]
    lines += [f"  {table:<10} {n:>12,} rows" for table, n in data.row_counts.items()]
    lines.append(f"  segments: {', '.join(data.segments) or 'none'}; scores: {', '.join(data.scores) or 'none'}")
    return "\n".join(lines)


def nps_overview(data, alpha: float = 0.05) -> str:
    """The headline NPS overall and per segment column (active customers, latest answer in the window)."""
    if "nps" not in data.scores:
        return "no NPS score in the data"
    counts = nps_counts_by(data, data.segments)  # everyone and each segment column in one pass
    overall = nps_table_from_counts(counts[None], alpha=alpha, min_n=data.min_segment_size).iloc[0]
    level = int(round(100 * (1 - alpha)))
    who = nps_population(data)
    lines = [f"NPS of the {overall.n:,} {who}: {signed(overall.nps, 1)} "
             f"(SE {overall.se:.1f}; {level}% CI {signed(overall.lower, 1)} to {signed(overall.upper, 1)})",
             "  band        answers   share"]
    for band, count in (("detractor", overall.detractors), ("passive", overall.passives),
                        ("promoter", overall.promoters)):
        lines.append(f"  {band:<10} {count:>8,}  {count / overall.n:6.1%}")
    for seg in data.segments:
        table = nps_table_from_counts(counts[seg], by=seg, alpha=alpha, min_n=data.min_segment_size)
        lines.append(f"NPS by {seg}:")
        for row in table.itertuples():
            value = getattr(row, seg)
            if row.small:
                lines.append(f"  {value!s:<12} n={row.n:>6,}  too few answers for a stable NPS")
            else:
                lines.append(f"  {value!s:<12} n={row.n:>6,}  NPS {signed(row.nps, 1):>6}  "
                             f"({level}% CI {signed(row.lower, 1)} to {signed(row.upper, 1)})")
    return "\n".join(lines)
