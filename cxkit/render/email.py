"""The email rendition of a report record: a message that reads in a real inbox.

Mail clients are not browsers: Gmail and Outlook show no inline SVG and Gmail no ``data:`` images, honours
``<style>`` only in the head and clips HTML over about 102 KB, and corporate gateways distrust ``.html``
attachments. So the email body is its own rendition of the record (``report.json``), not the web page:

- a 600 px table layout with inline styles (css-inline; one small ``@media`` block stays in the head);
- the executive summary first, then the key figures as PNG (130 dpi, 2-2.5x at 552 px) with alt text and
  their one-line takeaways, a "what to do" line where the report has one, and the footer (as-of date and
  run fingerprint);
- a plain-text alternative built from the same sentences, never scraped from the HTML;
- the PDF attached (and the full HTML page when asked);
- MIME ``mixed[alternative[text, related[html, images]], attachments]``, CRLF line ends, Content-IDs
  without a domain.

Budgets are checked when the message is built (:func:`check_budget`): the HTML part under 90 KB, no
``<svg>``, no ``data:`` URI, no script and no remote resource; an oversize or unsupported message fails
with a message saying what to drop.

Examples
--------
>>> check_budget("<table><tr><td>ok</td></tr></table>")
>>> check_budget("<img src='data:image/png;base64,xx'>")
Traceback (most recent call last):
...
cxkit.render.email.EmailBudgetError: the email's HTML has a data: URI (Gmail shows none): use a CID image part
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path

from cxkit.document import EMAIL_PX, KEY_FIGURES
from cxkit.errors import CxkitError, ParamsError

__all__ = ["addresses", "bare_address",
           "HTML_BUDGET", "MAX_FIGURES", "EmailBudgetError", "build_message", "check_budget", "email_html",
           "email_text", "subject_for"]

HTML_BUDGET = 90_000  # bytes of the HTML part: Gmail clips messages over about 102 KB
MAX_FIGURES = 4  # key figures in the body; the PDF carries the rest
# the figures a leader reads first, when the report has them (shown in the report's order)
# the figures a leader reads first, when the report has them (shown in the report's order): KEY_FIGURES
WIDTH = 600
_ESC = html.escape

_CSS = """
body { margin: 0; padding: 0; background: #f3f4f6; }
.wrap { width: 100%; background: #f3f4f6; }
.card { width: 600px; max-width: 600px; background: #ffffff; }
.pad { padding: 20px 24px; font-family: Arial, Helvetica, sans-serif; color: #1b1b1b; font-size: 15px;
       line-height: 1.5; }
h1 { font-size: 22px; line-height: 1.25; margin: 0 0 4px 0; font-family: Arial, Helvetica, sans-serif; }
h2 { font-size: 17px; margin: 0 0 8px 0; font-family: Arial, Helvetica, sans-serif; }
.sub { color: #5a5a5a; font-size: 13px; margin: 0; }
ul, ol { margin: 0; padding: 0 0 0 18px; }
li { margin: 0 0 8px 0; }
.head { font-size: 17px; font-weight: bold; line-height: 1.4; margin: 0; }
.tile { border-top: 4px solid #0072B2; padding: 8px 8px 10px 0; vertical-align: top; font-family: Arial, Helvetica,
        sans-serif; }
.big { font-size: 22px; font-weight: bold; margin: 0; }
.lab { font-size: 13px; margin: 0; }
.chg { font-size: 12px; color: #5a5a5a; margin: 0; }
.do { background: #eef6fb; border-left: 4px solid #0072B2; padding: 10px 12px; margin: 0; }
.take { font-weight: bold; margin: 0 0 8px 0; }
.cap { color: #5a5a5a; font-size: 12px; margin: 6px 0 0 0; }
img { display: block; border: 0; width: 100%; max-width: 552px; height: auto; }
.foot { color: #6b6b6b; font-size: 12px; }
@media (max-width: 620px) { .card { width: 100% !important; } .pad { padding: 16px 14px !important; } }
"""


_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$|^[^@\s<>,;\"]+@localhost$")


def addresses(value, where: str) -> list[str]:
    """Checked email addresses from one or a list (``where`` names them in the error); an address may come with
    a display name as mail clients export it (``Chief Financial Officer <cfo@example.com>``, accents and all).

    >>> addresses(["cfo@example.com", "Zoë Müller <zoe@example.com>"], "email.to")
    ['cfo@example.com', 'Zoë Müller <zoe@example.com>']
    """
    items = [value] if isinstance(value, str) else value or []
    if not isinstance(items, list) or not all(isinstance(a, str) for a in items):
        raise ParamsError(f"{where}: expected an address or a list of addresses")
    out, bad = [], []
    for item in items:
        text = item.strip()
        if "\r" in text or "\n" in text:
            bad.append(item)
            continue
        name, address = parseaddr(text) if "<" in text else ("", text)
        if not _ADDRESS.match(address) or (name and text.count("<") != 1):
            bad.append(item)
            continue
        if not name:
            out.append(address)
        elif re.search(r'[,;:"()<>@\[\]\\]', name):  # specials: quoted, as RFC 5322 wants them
            out.append('"' + name.replace("\\", "\\\\").replace('"', '\\"') + f'" <{address}>')
        else:
            out.append(f"{name} <{address}>")
    if bad:
        raise ParamsError(f"{where}: not an email address: {', '.join(repr(b) for b in bad[:3])}")
    return out


def bare_address(address: str) -> str:
    """``cfo@example.com`` from ``Chief Financial Officer <cfo@example.com>`` (what an SMTP server is given).

    >>> bare_address("Chief Financial Officer <cfo@example.com>")
    'cfo@example.com'
    """
    return parseaddr(address)[1] if "<" in address else address


class EmailBudgetError(CxkitError):
    """The message would not read well in mail clients; the text says what to drop."""


def check_budget(body: str, budget: int = HTML_BUDGET) -> None:
    """Raise :class:`EmailBudgetError` when the HTML part breaks a mail client's limits."""
    size = len(body.encode("utf-8"))
    if size > budget:
        raise EmailBudgetError(f"the email's HTML is {size / 1000:.0f} KB, over the {budget / 1000:.0f} KB budget "
                               "(Gmail clips longer messages): show fewer figures (--figures) or shorter tables")
    checks = [(r"<svg\b", "inline SVG (Gmail and Outlook show none): use PNG image parts"),
              (r"data:", "a data: URI (Gmail shows none): use a CID image part"),
              (r"<script\b", "a script (every client strips it, many flag the message): drop it"),
              (r"""(?:src|href|background)\s*=\s*["']?\s*(?:https?:)?//""",
               "a remote resource (blocked by default in most clients): attach it or leave it out"),
              (r"url\(\s*['\"]?\s*(?:https?:)?//", "a remote resource in CSS: leave it out")]
    for pattern, what in checks:
        if re.search(pattern, body, flags=re.IGNORECASE):
            raise EmailBudgetError(f"the email's HTML has {what}")


def _email_figures(run_dir: Path, figures: list[dict]) -> list[dict]:
    """Each figure as the email shows it: its email layout (laid out at :data:`~cxkit.document.EMAIL_PX`, so a
    12-point label reads 12 px in the inbox) where the run has one and its PNG can be drawn; else the report's."""
    from cxkit.render.pdf import find_browser

    out = []
    for f in figures:
        svg = f.get("email_svg_file")
        png = svg and svg.removesuffix(".svg") + ".png"
        if svg and (run_dir / svg).is_file() and ((run_dir / png).is_file() or find_browser()):
            f = dict(f, svg_file=svg, png_file=png)
        out.append(f)
    return out


def _parts(record: dict) -> dict:
    """What the email shows, read from the record: title, subtitle, summary, action, figures, footer."""
    from cxkit.document import figures_of

    blocks = record["blocks"]
    heading = next((b for b in blocks if b["type"] == "heading"), {})
    summary = [i for b in blocks if b["type"] == "sentences" and b["role"] == "summary" for i in b["items"]]
    action = next((i["text"] for i in summary if i.get("key") == "stake"), None)
    shown = [f for f in figures_of(record) if f.get("takeaway")]
    keep = sorted(shown, key=lambda f: KEY_FIGURES.index(f["name"]) if f["name"] in KEY_FIGURES else 99)
    keep = {f["name"] for f in keep[:MAX_FIGURES]}
    figures = [f for f in shown if f["name"] in keep]
    meta = record.get("meta", {})
    from cxkit.document import brief_of

    brief = brief_of(record)
    if brief is not None:  # the brief leads (headline, tiles, findings, ranked actions); the summary is in the PDF
        brief = _without_sections(brief, keep)
        return {"title": heading.get("text") or meta.get("title", ""), "subtitle": heading.get("subtitle") or "",
                "brief": brief, "summary": [], "action": None, "figures": figures, "footer": meta.get("footer", "")}
    return {"title": heading.get("text") or meta.get("title", ""), "subtitle": heading.get("subtitle") or "",
            "summary": [i["text"] for i in summary if i.get("key") != "stake" or not action],
            "action": action, "figures": figures, "brief": None,
            "footer": meta.get("footer", "")}


def _without_sections(brief: dict, figures: set) -> dict:
    """The brief with its pointer to the value section (which an email has not) pointed at what the email has:
    the lifetime value figure below, where it is among the key figures, else the full report."""
    from cxkit.brief import VALUE_SECTION

    where = (" (the lifetime value figure below gives the gap's interval)" if "ltv-by-band" in figures else
             " (the full report's value section gives the gap's interval)")
    findings = [{**f, "text": f["text"].replace(VALUE_SECTION, where)} for f in brief.get("findings") or []]
    return {**brief, "findings": findings}


def _brief_rows(brief: dict) -> list[str]:
    """The brief as email rows: the headline, the tiles two by two, the findings, the ranked actions."""
    rows = [f"<tr><td class='pad'><p class='head'>{_ESC(brief['headline']['text'])}</p></td></tr>"]
    tiles = brief.get("tiles") or []
    if tiles:
        cells = [f"<td class='tile' width='50%'><p class='big'>{_ESC(t['text'])}</p><p class='lab'>{_ESC(t['label'])}"
                 f"</p><p class='chg'>{_ESC(t.get('change', ''))}</p></td>" for t in tiles]
        pairs = "".join("<tr>" + "".join(cells[i:i + 2]) + "</tr>" for i in range(0, len(cells), 2))
        rows.append("<tr><td class='pad'><table role='presentation' width='100%' cellpadding='0' cellspacing='0'>"
                    f"{pairs}</table></td></tr>")
    if brief.get("findings"):
        rows.append("<tr><td class='pad'><h2>What we see, and why it matters</h2><ol>"
                    + "".join(f"<li>{_ESC(f['text'])}</li>" for f in brief["findings"]) + "</ol></td></tr>")
    if brief.get("actions"):
        rows.append("<tr><td class='pad'><h2>What to do</h2><ol>"
                    + "".join(f"<li><strong>{_ESC(a['text'])}</strong> {_ESC(a['value'])}. Assumption: "
                              f"{_ESC(a['assumption'])}. Owner: {_ESC(a.get('owner') or 'to assign')}.</li>"
                              for a in brief["actions"]) + "</ol></td></tr>")
    if brief.get("nps_definition"):
        rows.append(f"<tr><td class='pad'><p class='cap'>{_ESC(brief['nps_definition'])}</p></td></tr>")
    return rows


def _brief_text(brief: dict) -> list[str]:
    lines = [brief["headline"]["text"], ""]
    lines += [f"- {t['text']}: {t['label']} ({t.get('change', '')})" for t in brief.get("tiles") or []]
    if brief.get("findings"):
        lines += ["", "What we see, and why it matters", ""]
        lines += [f"{k}. {f['text']}" for k, f in enumerate(brief["findings"], 1)]
    if brief.get("actions"):
        lines += ["", "What to do", ""]
        lines += [f"{a['rank']}. {a['text']} {a['value']}. Assumption: {a['assumption']}. Owner: "
                  f"{a.get('owner') or 'to assign'}." for a in brief["actions"]]
    if brief.get("nps_definition"):
        lines += ["", brief["nps_definition"]]
    return lines


def email_html(record: dict, cids: dict, budget: int = HTML_BUDGET, attached: tuple = ("pdf",)) -> str:
    """The HTML part: 600 px, inline styles, images by Content-ID (``cids``: figure name -> cid); ``attached``
    says which of ``pdf`` and ``html`` the message carries (its last line says so, and no more)."""
    import css_inline

    p = _parts(record)
    rows = [f"<tr><td class='pad'><h1>{_ESC(p['title'])}</h1><p class='sub'>{_ESC(p['subtitle'])}</p></td></tr>"]
    if p["brief"] is not None:
        rows += _brief_rows(p["brief"])
    else:
        rows.append("<tr><td class='pad'><h2>Executive summary</h2><ul>"
                    + "".join(f"<li>{_ESC(s)}</li>" for s in p["summary"]) + "</ul></td></tr>")
    if p["action"]:
        rows.append(f"<tr><td class='pad'><p class='do'><strong>What to do:</strong> {_ESC(p['action'])}</p>"
                    "</td></tr>")
    for fig in p["figures"]:
        cap = f"<p class='cap'>{_ESC(fig['caption'])}</p>" if fig.get("caption") else ""
        rows.append(f"<tr><td class='pad'><p class='take'>{_ESC(fig['takeaway'])}</p>"
                    f"<img src='cid:{cids[fig['name']]}' width='{EMAIL_PX}' "
                    f"alt='{_ESC(fig.get('alt') or fig['takeaway'])}'>"
                    f"{cap}</td></tr>")
    rows.append(f"<tr><td class='pad foot'>{_ESC(p['footer'])}<br>{_ESC(_where_the_report_is(attached))}</td></tr>")
    page = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{_ESC(p['title'])}</title><style>{_CSS}</style></head><body>"
            "<table role='presentation' class='wrap' width='100%' cellpadding='0' cellspacing='0'><tr>"
            "<td align='center'>"
            f"<table role='presentation' class='card' width='{WIDTH}' cellpadding='0' cellspacing='0'>"
            + "".join(rows) + "</table></td></tr></table></body></html>")
    body = css_inline.CSSInliner(keep_at_rules=True).inline(page)
    check_budget(body, budget)
    return body


def _where_the_report_is(attached: tuple) -> str:
    """The email's last line: what is attached, never a PDF that is not.

    >>> _where_the_report_is(())
    'The full report is report.html in the run folder (no PDF was made for this run).'
    """
    names = [name for kind, name in (("pdf", "a PDF"), ("html", "a web page (report.html)")) if kind in attached]
    if not names:
        return "The full report is report.html in the run folder (no PDF was made for this run)."
    return "The full report is attached as " + " and as ".join(names) + "."


def email_text(record: dict, attached: tuple = ("pdf",)) -> str:
    """The plain-text part, from the same sentences as the HTML."""
    p = _parts(record)
    lines = [p["title"], p["subtitle"], ""]
    if p["brief"] is not None:
        lines += _brief_text(p["brief"])
    else:
        lines += ["Executive summary", ""] + [f"- {s}" for s in p["summary"]]
    if p["action"]:
        lines += ["", f"What to do: {p['action']}"]
    if p["figures"]:
        lines += ["", "Key figures (in the HTML version" + (" and the attached PDF" if "pdf" in attached else "")
                  + "):"]
        lines += [f"- {f['takeaway']}" for f in p["figures"]]
    lines += ["", p["footer"], _where_the_report_is(attached)]
    return "\n".join(lines) + "\n"


def subject_for(record: dict, template: str | None = None) -> str:
    """The subject from a template with ``{title}``, ``{audience}``, ``{period}`` (the as-of date's month or
    quarter), ``{as_of}`` and ``{when}`` (the footer's ``data as of 2026-09-30``). The default names the data's
    date, not its last period: most figures cover the last year, and "2026-09" read as if they covered a month.

    >>> subject_for({"meta": {"title": "CX", "audience": "Board", "period_label": "2026-09",
    ...                       "footer": "Data as of 2026-09-30 · run 1a2b · cxkit 0.1"}})
    'CX – Board, data as of 2026-09-30'
    """
    meta = record.get("meta", {})
    footer = meta.get("footer") or ""
    when = footer.split(" \u00b7 run ")[0] if " \u00b7 run " in footer else ""
    when = f"{when[:1].lower()}{when[1:]}" or (f"data as of {meta['as_of']}" if meta.get("as_of") else "")
    fields = {"title": meta.get("title", ""), "audience": meta.get("audience") or "", "as_of": meta.get("as_of") or "",
              "period": meta.get("period_label") or meta.get("as_of") or "", "when": when}
    template = template or ("{title} \u2013 {audience}, {when}" if fields["audience"] else "{title}, {when}")
    try:
        return " ".join(template.format(**fields).split()).strip(" ,:")  # one line: a record from before the check
    except (KeyError, IndexError, ValueError) as exc:
        raise CxkitError(f"email.subject: {template!r} is not a subject template ({exc}); use {{title}}, "
                         "{audience}, {period}, {as_of} and {when}") from None


def build_message(run_dir, to: list[str], cc: list[str] | None = None, sender: str = "cxkit@localhost",
                  subject: str | None = None, attach_html: bool = False, budget: int = HTML_BUDGET,
                  keep_browser: bool = False) -> EmailMessage:
    """The email of a rendered run (its ``report.json``, figures and ``report.pdf``).

    The figures' PNGs are drawn from their SVG the first time a run is mailed (:mod:`cxkit.render.raster`).

    Parameters
    ----------
    run_dir : str or Path
        A run folder written by ``cxkit render``.
    to, cc : list of str
        Recipients.
    subject : str, optional
        A subject template (see :func:`subject_for`); default the params file's ``email.subject``.
    attach_html : bool
        Also attach the full ``report.html``.
    keep_browser : bool
        Draw missing PNGs with this process's kept browser (a batch mailing many reports).
    """
    from cxkit.render.raster import figure_pngs

    to, cc = addresses(to, "--to"), addresses(cc, "--cc")
    if not to:
        raise CxkitError("no recipient: give --to (or an email: {to: [...]} block in the params file)")
    run_dir = Path(run_dir)
    source = run_dir / "report.json"
    if not source.is_file():
        raise CxkitError(f"{run_dir}: no report.json here; email needs a run folder written by cxkit render")
    record = json.loads(source.read_text(encoding="utf-8"))
    p = _parts(record)
    run = record.get("meta", {}).get("fingerprint", "report")
    cids = {f["name"]: f"fig{i}.{run}.{f['name']}" for i, f in enumerate(p["figures"], start=1)}
    pdf = run_dir / "report.pdf"
    attached = (*(["pdf"] if pdf.is_file() else []), *(["html"] if attach_html else []))
    body = email_html(record, cids, budget, attached)
    # CRLF line ends; headers up to RFC 5322's 998 characters, so a subject is never folded before its
    # first word (Python's folder would, and some clients then show a leading space)
    msg = EmailMessage(policy=SMTP.clone(max_line_length=998))
    msg["Subject"] = subject_for(record, subject or (record.get("meta", {}).get("email") or {}).get("subject"))
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Date"] = format_datetime(dt.datetime.now().astimezone())
    msg["Message-ID"] = make_msgid(idstring=run, domain=sender.rsplit("@", 1)[-1].strip(">") or "localhost")
    msg.set_content(email_text(record, attached))
    msg.add_alternative(body, subtype="html")
    html_part = msg.get_payload()[1]
    for fig in figure_pngs(run_dir, _email_figures(run_dir, p["figures"]), keep=keep_browser):
        png = (run_dir / fig["png_file"]).read_bytes()
        html_part.add_related(png, maintype="image", subtype="png", cid=f"<{cids[fig['name']]}>",
                              filename=f"{fig['name']}.png", disposition="inline")
    if "pdf" in attached:
        msg.add_attachment(pdf.read_bytes(), maintype="application", subtype="pdf", filename="report.pdf")
    if attach_html:
        msg.add_attachment((run_dir / "report.html").read_bytes(), maintype="text", subtype="html",
                           filename="report.html")
    return msg
