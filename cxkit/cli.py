"""The ``cxkit`` command: a thin layer over the library.

User errors (:class:`~cxkit.errors.CxkitError`) print a message and exit
non-zero without a traceback; warnings print as ``warning: ...`` lines.
"""

from __future__ import annotations

import argparse
import errno
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path

from cxkit.errors import CxkitError, CxkitWarning

__all__ = ["main"]


def _cmd_synth(args) -> int:
    from cxkit.synth import WORLDS, write

    effects = {}
    for item in args.score_effect or []:
        kind, sep, value = item.partition("=")
        try:
            effects[kind.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not kind.strip():
            print(f"error: --score-effect takes KIND=POINTS (e.g. complaint=-2), not {item!r}", file=sys.stderr)
            return 2
    if args.complaint_hazard_ratio <= 0:
        print("error: --complaint-hazard-ratio must be positive", file=sys.stderr)
        return 2
    try:
        planted = {"complaint_hazard_ratio": args.complaint_hazard_ratio} if args.complaint_hazard_ratio != 1.0 else {}
        if effects:
            planted["contact_score_effects"] = effects
        params = write(args.out, n_customers=args.customers, seed=args.seed, fmt=args.format, revenue=args.revenue,
                       world=args.world, **planted)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {args.customers:,} synthetic customers to {params.parent}/ (try: cxkit validate {params})")
    if args.world != "default":
        print(f"world {args.world}: {WORLDS[args.world][0]} (truth.json holds it)")
    return 0


def _cmd_validate(args) -> int:
    from cxkit.params import read_params
    from cxkit.render.preflight import preflight
    from cxkit.report_text import describe_data

    if "audiences" in read_params(args.params):
        return _validate_audiences(args)
    plan = preflight(args.params, args.out, min_segment_size=args.min_segment_size)
    print(describe_data(plan.data))
    print("ok: the data meets the contract")
    from cxkit.render.preflight import notebook_origin

    print(f"ok: the params fit {plan.notebook.stem} ({notebook_origin(plan.notebook)}); "
          f"cxkit render would write {plan.run_dir}/")
    return 0


def _validate_audiences(args) -> int:
    """Every audience of a params file with ``audiences:``, checked as the batch would render it."""
    import tempfile

    from cxkit.render.audiences import expand_audiences
    from cxkit.render.preflight import preflight

    with tempfile.TemporaryDirectory(prefix="cxkit-validate-") as folder:  # nothing left behind
        files, skipped = expand_audiences(Path(args.params), Path(folder))
        for path in files:
            plan = preflight(path, args.out, min_segment_size=args.min_segment_size)
            print(f"ok: {plan.run_name}: {plan.data.row_counts['customers']:,} customers; "
                  f"cxkit batch would write {plan.run_dir}/")
    for item in skipped:
        print(f"left out: {item.run}: {item.note}")
    print(f"ok: {len(files)} audience reports from {args.params}")
    return 0


def _cmd_demo(args) -> int:
    from cxkit.demo import DEMO_CUSTOMERS, DEMO_SEED, write_demo
    from cxkit.load import load
    from cxkit.render import render
    from cxkit.report_text import describe_data, nps_overview

    out = Path(args.out)
    data_params, written = write_demo(out / "data" / "demo", rebuild=args.rebuild)
    if written:
        print(f"generated demo data: {DEMO_CUSTOMERS:,} customers (seed {DEMO_SEED}) in {data_params.parent}/")
    data = load(data_params)
    print(describe_data(data))
    print()
    print(nps_overview(data))
    if args.no_report:
        return 0
    from cxkit.render.pdf import pdf_engine_available

    pdf = not args.no_pdf
    if pdf and not pdf_engine_available():
        print("warning: no Chromium, Chrome, Edge or WeasyPrint here: rendering HTML only "
              "(apt-get install chromium for the PDF)", file=sys.stderr)
        pdf = False
    print("\nrendering the demo leadership report ...")
    result = render(_demo_params(data_params), out, pdf=pdf, progress=sys.stderr.isatty())
    _print_outputs(result)
    return 0


def _demo_params(data_params: Path) -> Path:
    """The kit's ``params/demo.yaml`` with its data pointed at the demo data beside it (``demo.yaml`` there),
    so the demo renders wherever ``--out`` put the data."""
    import yaml

    from cxkit.demo import DEMO_TABLES
    from cxkit.paths import PARAMS_DIR

    params = yaml.safe_load((PARAMS_DIR / "demo.yaml").read_text(encoding="utf-8"))
    params["data"] = {table: f"{table}.parquet" for table in DEMO_TABLES}
    path = data_params.parent / "demo.yaml"
    text = "# The kit's params/demo.yaml on the demo data beside it: written by cxkit demo.\n" + \
        yaml.safe_dump(params, sort_keys=False, allow_unicode=True)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


def _cmd_init(args) -> int:
    from cxkit.scaffold import init_project

    folder = init_project(args.folder)
    print(f"created {folder}/: notebooks/ (the kit's, to adapt), params/ (demo.yaml, quarter.yaml), reports/, "
          "README.md, environment.yml, .gitignore")
    here = Path.cwd().resolve()
    shown = folder.relative_to(here) if folder.is_relative_to(here) else folder
    print(f"next: cd {shown} && cxkit demo" if shown != Path(".") else "next: cxkit demo")
    return 0


def _cmd_lab(args) -> int:
    import os
    import subprocess

    from cxkit.paths import project_root

    root = project_root() or Path.cwd()
    port = args.port if args.port is not None else _env_port()
    argv = _lab_argv(root, port=port, ip=args.ip, browser=not args.no_browser)
    print(f"JupyterLab on {root} with this kit's Python ({sys.executable}); Ctrl-C twice stops it", flush=True)
    _warn_other_kernel()
    if os.name == "posix":
        os.execv(argv[0], argv)  # Jupyter takes over this process: Ctrl-C and signals reach it alone
    return subprocess.call(argv)


def _lab_argv(root: Path, port: int | None = None, ip: str | None = None, browser: bool = True,
              euid: int | None = None) -> list[str]:
    """The command that starts JupyterLab in ``root`` on this Python, so its ``python3`` kernel is the kit's."""
    import os

    argv = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={root}"]
    if port is not None:  # a port asked for is that port or a clear failure, never the next free one
        argv += [f"--ServerApp.port={port}", "--ServerApp.port_retries=0"]
    if ip is not None:
        argv.append(f"--ServerApp.ip={ip}")
    if not browser:
        argv.append("--no-browser")
    euid = euid if euid is not None else (os.geteuid() if hasattr(os, "geteuid") else None)
    if euid == 0:  # containers and CI machines run as root; Jupyter refuses root unless told
        argv.append("--allow-root")
    return argv


def _warn_other_kernel() -> None:
    """Warn when a ``python3`` kernel spec of the user's or the system's would run another Python."""
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        spec = KernelSpecManager().get_kernel_spec("python3")
    except Exception:  # noqa: BLE001 - no kernel spec at all: Jupyter says so itself
        return
    runs = spec.argv[0] if spec.argv else ""
    # "python" and "{python}" are what ipykernel's own spec says (this Python); else the same bin/ folder (not
    # the resolved file: a venv's python is a link to the base interpreter shared by every venv)
    if runs not in ("python", "python3", "{python}") and Path(runs).parent.resolve() != \
            Path(sys.executable).parent.resolve():
        print(f"warning: the python3 kernel here runs {runs} (from {spec.resource_dir}), not this kit's "
              f"{sys.executable}; remove that kernel spec or run: {sys.executable} -m ipykernel install --user",
              file=sys.stderr)


def _print_outputs(result) -> None:
    for path in result.outputs:
        print(f"  {path}")
    print(f"report: {result.run_dir / 'report.html'}  ({sum(result.seconds.values()):.1f} s, run {result.fingerprint})")


def _cmd_render(args) -> int:
    from cxkit.render import render

    result = render(args.params, args.out, pdf=not args.no_pdf, pptx=True if args.pptx else None,
                    progress=sys.stderr.isatty(), force=args.force)
    if result.skipped:
        print(f"unchanged: {result.run_dir / 'report.html'} was made from the same data, parameters and code "
              "(--force renders it again)")
        return 0
    _print_outputs(result)
    return 0


def _cmd_batch(args) -> int:
    from collections import Counter

    from cxkit.render.batch import batch

    def logged(item, done: int, total: int) -> None:  # a scheduled batch's log: a line as each report ends
        why = f"  {item.short_error}" if item.status == "failed" else ""
        print(f"[{done}/{total}] {item.run}  {item.status}  {item.seconds:.1f} s{why}", file=sys.stderr, flush=True)

    def prepared(reports: int, stores: int, seconds: float, failed: int) -> None:
        shared = f", from data validated once ({seconds:.1f} s)" if stores else ""
        broken = f"; {failed} failed before rendering" if failed else ""
        print(f"{reports} report{'s' * (reports != 1)} to render{shared}{broken}", file=sys.stderr, flush=True)

    print("reading the params and validating the data...", file=sys.stderr, flush=True)
    items = batch(args.params, args.out, jobs=args.jobs, pdf=not args.no_pdf, pptx=True if args.pptx else None,
                  send=args.send, resend=args.resend, force=args.force, shard=args.shard,
                  on_done=None if sys.stderr.isatty() else logged,  # a terminal shows a progress bar instead
                  on_prepared=prepared, strict=args.strict)
    if not items:  # a machine's share of a split batch can be empty: nothing to do is not a failure
        print(f"shard {'/'.join(map(str, args.shard))} holds none of this batch's reports: nothing rendered"
              if args.shard else "no report to render")
        return 0
    width = max(len(it.run) for it in items)
    print(f"{'report':<{width}}  status     seconds  error / email / note")
    for it in items:
        error = (it.note or it.email) if it.ok else it.short_error
        print(f"{it.run:<{width}}  {it.status:<9}  {it.seconds:7.1f}  {error}")
    tally = Counter(it.status for it in items)
    counts = [f"{tally['rendered']} rendered", *(f"{tally[s]} {s}" for s in ("unchanged", "left out") if tally[s]),
              f"{tally['failed']} failed"]
    print(f"{', '.join(counts)}; index: {Path(args.out) / 'index.html'}")
    return 1 if tally["failed"] else 0



def _shard(text: str | None):
    """``--shard K/N`` as ``(K, N)``; checked where the options are read, so a wrong one is a usage error (2)."""
    k, _, n = text.partition("/")
    if not (k.isdigit() and n.isdigit()) or not 1 <= int(k) <= int(n):
        raise argparse.ArgumentTypeError(f"{text!r}: use K/N with 1 <= K <= N, for example 2/4 for the second of "
                                         "four machines")
    return int(k), int(n)


def _cmd_index(args) -> int:
    from cxkit.render.batch import index_of

    print(f"  {index_of(Path(args.out))}")
    return 0


def _cmd_rerender(args) -> int:
    from cxkit.render.pdf import pdf_engine_available
    from cxkit.render.renditions import rerender

    pdf = not args.no_pdf and pdf_engine_available()
    for path in rerender(args.run_dir, pdf=pdf, pptx=True if args.pptx else None):
        print(f"  {path}")
    return 0


def _cmd_email(args) -> int:
    from pathlib import Path

    from cxkit.render.email import build_message
    from cxkit.render.mail import Mailer, send_report

    run_dir = Path(args.run_dir)
    if args.send:
        result = send_report(run_dir, args.to or None, args.cc, Mailer.from_env(), resend=args.resend,
                             subject=args.subject, attach_html=args.with_html)
        for address in result.skipped:
            print(f"  already sent to {address} (use --resend to send again)")
        for address, reply in result.refused.items():
            print(f"  refused: {address} ({reply})", file=sys.stderr)
        if result.accepted:
            print(f"sent {result.message_id} to {len(result.accepted)} recipient(s)")
        return 1 if result.refused and not result.accepted else 0
    import json

    meta = json.loads((run_dir / "report.json").read_text()).get("meta", {}) if (run_dir / "report.json").is_file() \
        else {}
    to = args.to or (meta.get("email") or {}).get("to") or ["recipient@example.com"]
    message = build_message(run_dir, to, args.cc or (meta.get("email") or {}).get("cc"),
                            sender=Mailer.sender_from_env(),
                            subject=args.subject, attach_html=args.with_html)
    target = Path(args.eml) if args.eml else run_dir / "email.eml"
    from cxkit.render.folders import write_whole

    write_whole(target, message.as_bytes())
    size = len(message.as_bytes())
    print(f"  {target}  ({size / 1000:.0f} KB; a dry run: open it in any mail client; --send mails it)")
    return 0


def _cmd_params(args) -> int:
    from cxkit.nbparams import describe, notebook_parameters
    from cxkit.render.run import resolve_notebook

    print(describe(notebook_parameters(resolve_notebook(args.notebook))))
    return 0


def _at_least_one(text: str) -> int:
    """A count on the command line (customers, jobs): a whole number of at least 1, or a usage error."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def _port(text: str) -> int:
    """A TCP port on the command line: 1 to 65535, or a usage error."""
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 1 to 65535, got {text!r}")
    return int(text)


def _env_port() -> int | None:
    """``$PORT`` (``make lab PORT=9000``), when set."""
    import os

    text = os.environ.get("PORT", "").strip()
    try:
        return _port(text) if text else None
    except argparse.ArgumentTypeError as exc:
        raise CxkitError(f"PORT={text}: {exc}") from None


def _one_line(text: str) -> str:
    """A text that reaches a mail header: one line, or a usage error (a CR or LF would start a new header)."""
    if "\r" in text or "\n" in text or "\x00" in text:
        raise argparse.ArgumentTypeError(f"{text!r} holds a line break; give it on one line")
    return text


def _worlds() -> list[str]:
    from cxkit.synth import WORLDS

    return list(WORLDS)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cxkit", description="Tie what customers say to what they do, in money.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("init", help="start a project of your own: notebooks/ (the kit's, to adapt), params/, "
                       "reports/, README.md, environment.yml")
    p.add_argument("folder", help="a new (or empty) folder; nothing is ever overwritten")
    p.set_defaults(func=_cmd_init)

    p = sub.add_parser("synth", help="write synthetic CX data with known truth")
    p.add_argument("--customers", type=_at_least_one, default=20_000, help="number of customers (default 20000)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    p.add_argument("--revenue", choices=["table", "column"], default="table",
                   help="a monthly revenue table (default) or a monthly_revenue column on customers")
    p.add_argument("--complaint-hazard-ratio", type=float, default=1.0, metavar="RATIO",
                   help="plant an effect: each complaint in the last 90 days (from 7 days after it) multiplies the "
                        "churn hazard by RATIO (default 1: none)")
    p.add_argument("--score-effect", action="append", metavar="KIND=POINTS",
                   help="plant an effect: each contact of KIND in the 90 days before an answer moves its NPS score "
                        "by POINTS (repeatable, e.g. --score-effect complaint=-2)")
    p.add_argument("--world", choices=_worlds(), default="default",
                   help="a world with one planted truth, for checking the report's claims: " + ", ".join(_worlds()))
    p.set_defaults(func=_cmd_synth)

    p = sub.add_parser("validate", help="run every check that render runs, without rendering (params, data, "
                       "slice, output folder)")
    p.add_argument("params", help="params YAML file")
    p.add_argument("--out", default=None,
                   help="reports folder render would write to (default: reports/ of the project you are in, else "
                        "./reports)")
    p.add_argument("--min-segment-size", type=int, default=None, help="warn about smaller segments")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("demo", help="build the demo data and render the demo leadership report")
    p.add_argument("--rebuild", action="store_true", help="regenerate the demo data")
    p.add_argument("--out", default=None, help="reports folder (default: reports/ of the project you are in, else "
                                                "./reports); the data lands in OUT/data/demo")
    p.add_argument("--no-pdf", action="store_true", help="skip the PDF")
    p.add_argument("--no-report", action="store_true", help="only build and summarise the data")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("render", help="render one report from a params file")
    p.add_argument("params", help="params YAML file")
    p.add_argument("--out", default=None, help="reports folder (default: reports/ of the project you are in, else "
                                                "./reports); the run lands in OUT/<run>")
    p.add_argument("--no-pdf", action="store_true", help="skip the PDF")
    p.add_argument("--pptx", action="store_true", help="also write report.pptx")
    p.add_argument("--force", action="store_true", help="render even when nothing changed since the last run")
    p.set_defaults(func=_cmd_render)

    p = sub.add_parser("batch", help="render many reports in parallel (params files or folders)")
    p.add_argument("params", nargs="+", help="params YAML files or folders of them")
    p.add_argument("--out", default=None, help="reports folder (default: reports/ of the project you are in, else "
                                                "./reports)")
    p.add_argument("--jobs", type=_at_least_one, default=None, help="reports at once (default: cores)")
    p.add_argument("--no-pdf", action="store_true", help="skip the PDFs")
    p.add_argument("--pptx", action="store_true", help="also write report.pptx files")
    p.add_argument("--send", action="store_true", help="mail each report with an email: block once it has rendered")
    p.add_argument("--force", action="store_true", help="render every report, even those unchanged since the last run")
    p.add_argument("--shard", type=_shard, default=None,
                   help="K/N: render only this machine's share of the reports (stable by run name)")
    p.add_argument("--resend", action="store_true", help="with --send: mail again those who already have it")
    p.add_argument("--strict", action="store_true",
                   help="render nothing unless every report passes cxkit validate's checks (default: a report whose "
                        "params or data are wrong fails alone and the others render)")
    p.set_defaults(func=_cmd_batch)

    p = sub.add_parser("index", help="write OUT/index.html from the run folders there (merge shards of a batch)")
    p.add_argument("out", help="a reports folder holding run folders")
    p.set_defaults(func=_cmd_index)

    p = sub.add_parser("rerender", help="rebuild a run's HTML, PDF and slides from its report.json (no kernel)")
    p.add_argument("run_dir", help="a run folder written by cxkit render (reports/<run>)")
    p.add_argument("--no-pdf", action="store_true", help="skip the PDF")
    p.add_argument("--pptx", action="store_true", help="also write report.pptx")
    p.set_defaults(func=_cmd_rerender)

    p = sub.add_parser("email", help="the email of a rendered report: an .eml file (dry run) or, with --send, "
                                     "mailed through CXKIT_SMTP_* settings")
    p.add_argument("run_dir", help="a run folder written by cxkit render (reports/<run>)")
    p.add_argument("--to", action="append", default=[], type=_one_line,
                   help="recipient (repeat; default the params file's email.to)")
    p.add_argument("--cc", action="append", default=None, type=_one_line, help="copy to (repeat)")
    p.add_argument("--subject", default=None, type=_one_line,
                   help="subject template with {title}, {audience}, {period}, {as_of}, {when}")
    p.add_argument("--eml", default=None, help="where to write the .eml (default RUN_DIR/email.eml)")
    p.add_argument("--send", action="store_true", help="send it (SMTP settings from CXKIT_SMTP_* variables)")
    p.add_argument("--resend", action="store_true", help="send again to those who already have this report")
    p.add_argument("--with-html", action="store_true", help="also attach the full report.html")
    p.set_defaults(func=_cmd_email)

    p = sub.add_parser("lab", help="open JupyterLab in this project (or the current folder) on the kit's kernel")
    p.add_argument("--port", type=_port, default=None, metavar="PORT",
                   help="port to serve on (default $PORT, else Jupyter's 8888 or the next free one)")
    p.add_argument("--ip", default=None, help="address to listen on (default localhost; 0.0.0.0: every address, "
                                              "see docs/getting-started.md for opening it from another machine)")
    p.add_argument("--no-browser", action="store_true", help="print the URL (with its token) instead of opening "
                                                             "a browser")
    p.set_defaults(func=_cmd_lab)

    p = sub.add_parser("params", help="list a notebook's parameters with types, defaults and help")
    p.add_argument("notebook", help="notebook name or path (e.g. 01-leadership-report)")
    p.set_defaults(func=_cmd_params)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 bad input or settings, 2 usage)."""
    from cxkit.render.process import skip_unused_imports

    skip_unused_imports()
    args = _parser().parse_args(argv)
    if getattr(args, "out", "") is None:  # reports/ of the project this runs in (from any of its folders), else here
        from cxkit.paths import project_root

        args.out = str((project_root() or Path.cwd()) / "reports")
    with warnings.catch_warnings(record=True) as caught, _signals_handled():
        warnings.simplefilter("always", CxkitWarning)
        try:
            code = args.func(args)
        except CxkitError as exc:
            _print_warnings(caught)
            print(f"error: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt as exc:
            return _interrupted(exc, args.command)
        except OSError as exc:  # the last net for a full or read-only disk under a step that does not say so
            if exc.errno not in _DISK_ERRORS:
                raise
            _print_warnings(caught)
            print(f"error: cannot write: {exc.strerror}{f' ({exc.filename})' if exc.filename else ''}",
                  file=sys.stderr)
            return 1
    _print_warnings(caught)
    return code


#: What a full, read-only or over-quota disk raises.
_DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG}


@contextmanager
def _signals_handled():
    """SIGTERM and SIGINT end the command cleanly (:mod:`cxkit.render.signals`); the old handlers come back."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    from cxkit.render.signals import install

    old = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    install()
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


def _interrupted(exc: KeyboardInterrupt, command: str) -> int:
    """SIGTERM or Ctrl-C: end every process the command started, say so on one line, exit 143 or 130."""
    import logging
    import os
    import signal

    from cxkit.render.signals import Terminated, descendants, end_processes, exit_code

    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second signal must not cut the clean-up short
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The kernel's client is torn down mid-cell: nbclient and asyncio would log "Kernel died" and
    # "Task exception was never retrieved" with tracebacks as the process exits. The user asked to stop.
    logging.disable(logging.CRITICAL)
    end_processes(descendants(os.getpid()), grace=5)  # kernels, workers, browsers: none outlives the command
    what = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
    done = ("reports finished before it are published, no other was written" if command == "batch"
            else "nothing was published; earlier reports are as they were")
    print(f"{what}: {done}", file=sys.stderr, flush=True)
    return exit_code(exc)


def _print_warnings(caught) -> None:
    for w in caught:
        if issubclass(w.category, CxkitWarning):
            print(f"warning: {w.message}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
