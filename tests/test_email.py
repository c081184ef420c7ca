"""Email: the report as a message that reads in an inbox, built from the record and sent for real.

A real SMTP server (aiosmtpd) listens on loopback inside the tests; every message it receives is parsed:
part order, every Content-ID resolves, sizes, headers, a subject with non-ASCII and HTML characters.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import shutil
import socket
import threading
from pathlib import Path

import pytest
import yaml

from cxkit.errors import CxkitError, ParamsError
from cxkit.render.email import HTML_BUDGET, EmailBudgetError, build_message, check_budget
from cxkit.render.mail import Mailer, email_settings, send_report
from tests.conftest import ROOT


class Inbox:
    """An aiosmtpd handler that keeps every message; some addresses are refused, some replies delayed."""

    def __init__(self, refuse=(), busy_first: int = 0):
        self.messages, self.refuse, self.busy_left = [], set(refuse), busy_first

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.busy_left:
            self.busy_left -= 1
            return "451 4.3.0 try again later"
        self.messages.append({"to": list(envelope.rcpt_tos), "from": envelope.mail_from,
                              "message": email.message_from_bytes(envelope.content, policy=email.policy.default),
                              "raw": envelope.content})
        return "250 Message accepted"


@pytest.fixture
def smtp():
    """A loopback SMTP server; yields (inbox, port, start) where start(handler) swaps in another inbox."""
    from aiosmtpd.controller import Controller

    servers = []

    def start(inbox: Inbox) -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        servers.append(controller)
        return port

    yield start
    for controller in servers:
        controller.stop()


def _mailer(port: int) -> Mailer:
    return Mailer("127.0.0.1", port, "none", sender="reports@example.com", retries=2, pause=0.05)


@pytest.fixture(scope="module")
def quarter_runs(tmp_path_factory):
    """The sample quarter rendered once (demo data built here, fewer replicates), with its email blocks."""
    from cxkit.render.batch import batch
    from cxkit.synth import write

    root = tmp_path_factory.mktemp("quarter")
    write(root / "data", n_customers=20_000, seed=0)
    files = []
    for path in [ROOT / "params" / "quarter.yaml", ROOT / "params" / "demo.yaml"]:
        raw = yaml.safe_load(path.read_text())
        raw["data"] = {t: str(root / "data" / Path(p).name) for t, p in raw["data"].items()}
        raw["n_boot"] = 20
        target = root / "params" / path.name
        target.parent.mkdir(exist_ok=True)
        target.write_text(yaml.safe_dump(raw, allow_unicode=True))
        files.append(target)
    out = root / "out"
    items = batch(files, out, jobs=2, pdf=True)
    assert all(it.ok for it in items), [it.error for it in items if not it.ok]
    quarter = [it for it in items if it.run != "demo"]
    assert all(it.email == "dry run: email.eml" for it in quarter)  # without --send: a dry run per audience
    assert not (out / "demo" / "email.eml").exists()  # no email block, no email
    return out, quarter, sorted((out / ".audiences").glob("*.yaml"))  # each audience's params, as expanded


def _parts(message) -> list[str]:
    return [p.get_content_type() for p in message.walk()]


def _check_structure(message, run_dir: Path) -> None:
    assert _parts(message)[:4] == ["multipart/mixed", "multipart/alternative", "text/plain", "multipart/related"]
    assert _parts(message)[4] == "text/html"
    html_part = message.get_body(("html",))
    body = html_part.get_content()
    check_budget(body)
    assert len(body.encode()) < HTML_BUDGET
    cids = set(re.findall(r"src=[\"']cid:([^\"']+)", body))
    parts = {p["Content-ID"].strip("<>"): p for p in message.walk() if p["Content-ID"]}
    assert cids and cids == set(parts)  # every image the HTML shows is a part, and no part goes unused
    for cid, part in parts.items():
        assert "@" not in cid and part.get_content_type() == "image/png"
        assert part.get_payload(decode=True)[:8] == b"\x89PNG\r\n\x1a\n"
    attachments = [p.get_filename() for p in message.iter_attachments()]
    assert attachments == ["report.pdf"]
    pdf = next(message.iter_attachments()).get_payload(decode=True)
    assert pdf == (run_dir / "report.pdf").read_bytes()
    text = message.get_body(("plain",)).get_content()
    record = json.loads((run_dir / "report.json").read_text())
    brief = next(b for b in record["blocks"] if b["type"] == "brief")  # the email leads with the leader brief
    assert " ".join(text.split()).startswith(" ".join(f"{record['meta']['title']}".split()))
    assert brief["headline"]["text"] in text and "What to do" in text and not re.search(r"</?[a-z]", text)
    assert all(a["text"] in text and a["value"] in text for a in brief["actions"])
    assert brief["headline"]["text"] in body and "What we see, and why it matters" in body


def test_the_email_of_a_report_is_built_to_mail_client_rules(quarter_runs):
    out, _, _ = quarter_runs
    run = out / "care"
    message = build_message(run, ["care-leads@example.com"], sender="reports@example.com")
    raw = message.as_bytes()
    assert raw.count(b"\n") == raw.count(b"\r\n")  # CRLF line ends only
    _check_structure(email.message_from_bytes(raw, policy=email.policy.default), run)
    eml = (run / "email.eml").read_bytes()  # the batch's dry run is the same message
    assert b"multipart/related" in eml and b"report.pdf" in eml


def test_budgets_say_what_to_drop():
    with pytest.raises(EmailBudgetError, match="over the 90 KB budget"):
        check_budget("<p>" + "x" * 95_000 + "</p>")
    for body, what in (("<svg></svg>", "inline SVG"), ("<img src='data:image/png;base64,AA'>", "data: URI"),
                       ("<script>1</script>", "a script"), ("<img src='https://cdn.example.com/x.png'>", "remote"),
                       ("<p style=\"background:url('//x.example.com/a.png')\">", "remote")):
        with pytest.raises(EmailBudgetError, match=what):
            check_budget(body)


def test_a_batch_of_the_sample_quarter_is_received_one_message_per_audience(quarter_runs, smtp):
    from cxkit.render.mail import SENT_LOG

    out, items, files = quarter_runs
    inbox = Inbox()
    port = smtp(inbox)
    runs = {it.run: out / it.run for it in items}
    for run_dir in runs.values():
        (run_dir / SENT_LOG).unlink(missing_ok=True)
    for run, run_dir in runs.items():
        result = send_report(run_dir, mailer=_mailer(port))
        assert result.accepted == [f"{run}-leads@example.com"]
    assert len(inbox.messages) == len(runs) == 6
    for got in inbox.messages:
        run = got["to"][0].split("-leads@")[0]
        _check_structure(got["message"], runs[run])
        assert got["from"] == "reports@example.com"
        title = yaml.safe_load((files[0].parent / f"{run}.yaml").read_text())["title"]
        assert got["message"]["Subject"].startswith(title)
    manifest = json.loads((runs["care"] / "manifest.json").read_text())
    assert manifest["emails"][-1]["recipients"] == 1 and "password" not in json.dumps(manifest).lower()
    # sending the same reports again sends nothing, unless asked
    for run_dir in runs.values():
        assert send_report(run_dir, mailer=_mailer(port)).skipped
    assert len(inbox.messages) == 6
    send_report(runs["care"], mailer=_mailer(port), resend=True)
    assert len(inbox.messages) == 7


def test_a_refused_recipient_does_not_stop_the_others_and_busy_servers_are_retried(quarter_runs, smtp):
    out, _, _ = quarter_runs
    run = out / "product"
    inbox = Inbox(refuse={"gone@example.com"}, busy_first=1)
    port = smtp(inbox)
    result = send_report(run, ["gone@example.com", "cfo@example.com"], mailer=_mailer(port), resend=True)
    assert result.accepted == ["cfo@example.com"] and "gone@example.com" in result.refused
    assert result.attempts == 2 and len(inbox.messages) == 1  # the 451 was retried
    assert inbox.messages[0]["to"] == ["cfo@example.com"]
    log = [json.loads(line) for line in (run / "sent.jsonl").read_text().splitlines()]
    assert {"refused", "sent"} <= {e["status"] for e in log}


def test_the_batch_command_sends_each_audience_its_report(quarter_runs, smtp, monkeypatch, tmp_path, capsys):
    from cxkit.cli import main

    _, _, files = quarter_runs
    inbox = Inbox()
    port = smtp(inbox)
    for key, value in {"CXKIT_SMTP_HOST": "127.0.0.1", "CXKIT_SMTP_PORT": str(port), "CXKIT_SMTP_SECURITY": "none",
                       "CXKIT_SMTP_FROM": "reports@example.com", "CXKIT_SMTP_PASSWORD": "hunter2-secret"}.items():
        monkeypatch.setenv(key, value)
    assert main(["batch", str(files[0]), str(files[1]), "--out", str(tmp_path), "--no-pdf", "--send"]) == 0
    printed = capsys.readouterr()
    assert "sent to 1" in printed.out and "hunter2-secret" not in printed.out + printed.err
    assert len(inbox.messages) == 2
    assert all([p.get_filename() for p in m["message"].iter_attachments()] == [] for m in inbox.messages)  # no PDF
    for run_dir in tmp_path.iterdir():
        if run_dir.is_dir() and not run_dir.name.startswith("."):  # not the batch's .store
            assert "hunter2-secret" not in (run_dir / "manifest.json").read_text()


def test_the_email_command_writes_a_dry_run_and_refuses_bad_settings(quarter_runs, tmp_path, capsys, monkeypatch):
    from cxkit.cli import main

    out, _, _ = quarter_runs
    run = tmp_path / "west"
    shutil.copytree(out / "region-west", run)
    assert main(["email", str(run), "--to", "vp@example.com", "--eml", str(tmp_path / "west.eml")]) == 0
    message = email.message_from_bytes((tmp_path / "west.eml").read_bytes(), policy=email.policy.default)
    assert message["To"] == "vp@example.com"
    assert main(["email", str(tmp_path / "nothing"), "--to", "vp@example.com"]) == 1
    assert "no report.json here" in capsys.readouterr().err
    assert main(["email", str(run), "--to", "not an address"]) == 1
    assert "--to: not an email address" in capsys.readouterr().err
    monkeypatch.setenv("CXKIT_SMTP_SECURITY", "tls13")
    monkeypatch.setenv("CXKIT_SMTP_HOST", "mail.example.com")
    assert main(["email", str(run), "--send"]) == 1
    assert "must be starttls, ssl or none" in capsys.readouterr().err


def test_subjects_escape_nothing_they_should_not_and_encode_non_ascii(quarter_runs, smtp):
    out, _, _ = quarter_runs
    run = out / "region-east"
    inbox = Inbox()
    port = smtp(inbox)
    send_report(run, ["vp@example.com"], mailer=_mailer(port), resend=True,
                subject="Résumé <Q3> & {audience} — {period}")
    got = inbox.messages[-1]
    assert got["message"]["Subject"] == "Résumé <Q3> & East region leadership — 2026-Q3"
    assert b"Subject: =?utf-8?" in got["raw"]  # encoded on the wire, decoded back exactly
    assert "&lt;Q3&gt;" not in got["message"].get_body(("html",)).get_content()  # the subject is not in the body


@pytest.mark.parametrize("block, message", [
    ({"to": "not-an-address"}, "email.to: not an email address"),
    ({"to": ["a@example.com"], "cc": ["b@"]}, "email.cc: not an email address"),
    ({"to": ["a@example.com"], "subject": "{quarter}"}, "not a subject template"),
    ({"to": ["a@example.com"], "bcc": ["x@example.com"]}, "unknown key"),
])
def test_the_email_block_is_checked_before_anything_runs(block, message):
    with pytest.raises(ParamsError, match=message):
        email_settings({"email": block})


def test_unreachable_servers_fail_with_a_plain_message():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here
    mailer = Mailer("127.0.0.1", port, "none", retries=1, pause=0.01)
    with pytest.raises(CxkitError, match="cannot reach the SMTP server 127.0.0.1"):
        mailer.send(email.message.EmailMessage(), ["a@example.com"])
    assert "password=None" in repr(mailer) and "***" in repr(Mailer("h", 25, "none", password="pw"))
    threading.enumerate()  # no server thread left behind by the failed connection


@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_real_mail_client_shows_every_image_and_the_pdf(quarter_runs, tmp_path):
    """Debian's Thunderbird, headless, opens the .eml: every image has a width and the PDF is attached; a
    control message whose image points at a missing Content-ID must show a broken image."""
    from tests import thunderbird

    why = thunderbird.available()
    if why:
        pytest.skip(why)
    out, _, _ = quarter_runs
    eml = tmp_path / "demo.eml"
    message = build_message(out / "demo", ["leadership@example.com"], sender="reports@example.com")
    check_budget(message.get_body(("html",)).get_content())  # the demo email passes the budgets
    eml.write_bytes(message.as_bytes())
    shown = thunderbird.open_eml(eml)
    assert len(shown["images"]) >= 2
    assert all(i["width"] > 0 and i["shown"] > 0 and i["alt"] for i in shown["images"]), shown["images"]
    assert shown["attachments"] == ["report.pdf"]
    assert "What we see, and why it matters" in shown["text"] and "What to do" in shown["text"]
    # The control drops the first image part altogether: a client may heal a mismatched Content-ID from the
    # parts it has (some Thunderbird versions do), but it cannot show an image that is not in the message.
    broken = tmp_path / "broken.eml"
    control_message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    related = next(p for p in control_message.walk() if p.get_content_type() == "multipart/related")
    parts = related.get_payload()
    first_image = next(p for p in parts if p.get_content_maintype() == "image")
    related.set_payload([p for p in parts if p is not first_image])
    broken.write_bytes(control_message.as_bytes())
    control = thunderbird.open_eml(broken)
    assert len(control["images"]) == len(shown["images"]), control["images"]
    assert any(i["width"] == 0 for i in control["images"]), ("the control without an image part must show a "
                                                            f"broken image: {control['images']}")


def test_the_default_subject_names_the_data_date_not_a_month():
    """The demo's email read "..., Leadership team, 2026-09" over a year of figures: the default subject names the
    data's date as the footer does; a template may still ask for {period}."""
    from cxkit.render.email import subject_for

    meta = {"title": "Customer experience and value: demo", "audience": "Leadership team", "as_of": "2026-09-30",
            "period_label": "2026-09", "footer": "Data as of 2026-09-30 \u00b7 run c42ce0e1cded \u00b7 cxkit 0.1.0"}
    assert subject_for({"meta": meta}) == ("Customer experience and value: demo \u2013 Leadership team, data as of "
                                           "2026-09-30")
    snapshot = {**meta, "footer": "Snapshot data (no dates), report date 2026-09-30 \u00b7 run 6d2e \u00b7 cxkit 0.1.0"}
    assert subject_for({"meta": snapshot}).endswith("Leadership team, snapshot data (no dates), report date 2026-09-30")
    assert subject_for({"meta": meta}, "{title}: {period}").endswith(": 2026-09")


@pytest.mark.parametrize("with_ltv", [True, False])
def test_the_email_sends_no_reader_to_a_section_it_has_not(with_ltv):
    """The email's finding said "(the value section gives the gap's interval)"; the email has no value section.
    It points at the lifetime value figure below where the email shows it, else at the full report."""
    from cxkit.brief import VALUE_SECTION
    from cxkit.render.email import email_text

    finding = {"text": f"Each promoter is worth $809 more. Why it matters: a test would tell{VALUE_SECTION}.",
               "facts": []}
    brief = {"type": "brief", "headline": {"text": "In the last year 3,181 customers left.", "facts": []},
             "tiles": [], "findings": [finding], "actions": [], "nps_definition": ""}
    figures = [{"type": "figure", "name": "ltv-by-band" if with_ltv else "churn-by-band",
                "takeaway": "Promoters are worth $809 more (95% CI $710 to $909).", "caption": None, "alt": "LTV"}]
    record = {"version": 1, "meta": {"title": "T", "footer": "F"},
              "blocks": [{"type": "heading", "text": "T", "subtitle": "S"}, brief, *figures]}
    text = email_text(record)
    assert "the value section" not in text.replace("full report's value section", "")
    assert ("(the lifetime value figure below gives the gap's interval)" in text) is with_ltv
    assert ("(the full report's value section gives the gap's interval)" in text) is (not with_ltv)


def test_every_text_of_an_email_chart_reads_at_11_px_or_more(tmp_path, monkeypatch):
    """The email showed the report's 10.6-inch charts 552 px wide, so their 11- and 12-point labels (the at-risk
    counts under the survival chart among them) came out at about 8 px. A key figure is laid out a second time for
    the email, at 552 points wide, so every text in it is as many pixels as its font has points (11 or more); the
    report's own figure keeps its width, and a figure the email does not show gets no second layout."""
    import matplotlib

    matplotlib.use("agg")
    import numpy as np

    from cxkit import report
    from cxkit.document import EMAIL_PX
    from cxkit.survival import SegmentSurvival

    rng = np.random.default_rng(0)
    n = 3000
    frame = {"duration": rng.exponential(20, n).round() + 1, "event": rng.integers(0, 2, n),
             "segment": rng.choice(["detractor", "passive", "promoter"], n)}
    import pandas as pd

    km = SegmentSurvival().fit(pd.DataFrame(frame), "duration", "event", "segment")
    shown = []
    monkeypatch.setattr(report, "_show", lambda block, png=None: shown.append(block))
    report.figure(km.plot(title="Share still a customer"), "churn-by-band", takeaway="Detractors leave sooner.")
    report.figure(km.plot(title="Share still a customer"), "churn-by-band", takeaway=None)  # not in the email

    def width(svg):
        return float(re.search(r'<svg[^>]* width="([0-9.]+)pt"', svg).group(1))

    def sizes(svg):
        return [float(v) for v in re.findall(r"font-size: *([0-9.]+)px", svg)]

    keyed, plain = shown
    assert width(keyed["svg"]) > 700 and "email_svg" not in plain
    email_svg = keyed["email_svg"]
    scale = EMAIL_PX / width(email_svg)  # pixels per point where the email shows it
    assert scale >= 1.0
    assert min(sizes(email_svg)) * scale >= 11 and min(sizes(keyed["svg"])) * EMAIL_PX / width(keyed["svg"]) < 11
    assert "At risk" in email_svg


def test_the_email_attaches_each_charts_email_layout_where_the_run_has_one(tmp_path):
    """A run keeps a key figure's email layout beside the report's; the message attaches it, and a figure without
    one (an older run) keeps the report's."""
    from cxkit.render.email import _email_figures

    (tmp_path / "figures").mkdir()
    for f in ("a.svg", "a.email.svg", "a.email.png", "b.svg", "b.png"):
        (tmp_path / "figures" / f).write_text("x")
    figures = [{"name": "a", "svg_file": "figures/a.svg", "email_svg_file": "figures/a.email.svg"},
               {"name": "b", "svg_file": "figures/b.svg", "png_file": "figures/b.png"}]
    a, b = _email_figures(tmp_path, figures)
    assert a["png_file"] == "figures/a.email.png" and a["svg_file"] == "figures/a.email.svg"
    assert b == figures[1]


def test_an_email_charts_tick_labels_do_not_run_into_each_other():
    """Narrowed to the email's width, the value-at-stake chart printed "$10,000$20,000$30,000" as one run of
    text. Its email layout keeps every other tick where the labels touch; the report's own layout keeps them all."""
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    from cxkit import report
    from cxkit.plots import new_axes

    def chart():
        ax = new_axes(None)
        ax.barh([0, 1, 2], [25_085, 36_537, 40_204])
        ax.set_yticks([0, 1, 2], ["10% of detractors to passive", "10% of passives to promoter",
                                  "10% of detractors to promoter"])
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"${v:,.0f}"))
        ax.set_xlim(0, 72_000)
        ax.figure.get_layout_engine().execute(ax.figure)
        ax.figure.set_layout_engine("none")
        return ax

    def touching(ax):
        renderer = ax.figure.canvas.get_renderer()
        boxes = sorted((t.get_window_extent(renderer) for t in ax.get_xticklabels() if t.get_text()),
                       key=lambda b: b.x0)
        return any(a.x1 + 4 > b.x0 for a, b in zip(boxes, boxes[1:], strict=False))

    wide, narrow = chart(), chart()
    report._email_svg(narrow.figure)
    narrow.figure.canvas.draw()
    assert not touching(wide) and not touching(narrow)
    assert len([t for t in narrow.get_xticklabels() if t.get_text()]) < len(
        [t for t in wide.get_xticklabels() if t.get_text() and 0 <= t.get_position()[0] <= 72_000])
    assert narrow.get_xlim() == (0, 72_000)
    plt.close("all")
