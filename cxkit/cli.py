"""The ``cxkit`` command: a thin layer over the library.

User errors (:class:`~cxkit.errors.CxkitError`) print a message and exit
non-zero without a traceback; warnings print as ``warning: ...`` lines.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from cxkit.errors import CxkitError, CxkitWarning

__all__ = ["main"]

DEMO_DIR = Path("reports/data/demo")
DEMO_CUSTOMERS = 20_000
DEMO_SEED = 0


def _cmd_synth(args) -> int:
    from cxkit.synth import write

    params = write(args.out, n_customers=args.customers, seed=args.seed, fmt=args.format)
    print(f"wrote {args.customers:,} synthetic customers to {params.parent}/ (try: cxkit validate {params})")
    return 0


def _cmd_validate(args) -> int:
    from cxkit.load import load
    from cxkit.report_text import describe_data

    data = load(args.params, min_segment_size=args.min_segment_size)
    print(describe_data(data))
    print("ok: the data meets the contract")
    return 0


def _cmd_demo(args) -> int:
    from cxkit.load import load
    from cxkit.report_text import describe_data, nps_overview
    from cxkit.synth import write

    params = DEMO_DIR / "params.yaml"
    if not params.exists() or args.rebuild:
        params = write(DEMO_DIR, n_customers=DEMO_CUSTOMERS, seed=DEMO_SEED)
        print(f"generated demo data: {DEMO_CUSTOMERS:,} customers (seed {DEMO_SEED}) in {DEMO_DIR}/")
    data = load(params)
    print(describe_data(data))
    print()
    print(nps_overview(data))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cxkit", description="Tie what customers say to what they do, in money.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("synth", help="write synthetic CX data with known truth")
    p.add_argument("--customers", type=int, default=20_000, help="number of customers (default 20000)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    p.set_defaults(func=_cmd_synth)

    p = sub.add_parser("validate", help="check a params file's data against the contract")
    p.add_argument("params", help="params YAML file")
    p.add_argument("--min-segment-size", type=int, default=None, help="warn about smaller segments")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("demo", help="build the demo data and run the main job on it")
    p.add_argument("--rebuild", action="store_true", help="regenerate the demo data")
    p.set_defaults(func=_cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 bad input or settings, 2 usage)."""
    args = _parser().parse_args(argv)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CxkitWarning)
        try:
            code = args.func(args)
        except CxkitError as exc:
            _print_warnings(caught)
            print(f"error: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130
    _print_warnings(caught)
    return code


def _print_warnings(caught) -> None:
    for w in caught:
        if issubclass(w.category, CxkitWarning):
            print(f"warning: {w.message}", file=sys.stderr)
