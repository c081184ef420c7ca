"""Sending a report by email: SMTP settings from the environment, retries, and a log against duplicates.

Settings come from environment variables (never from a params file): ``CXKIT_SMTP_HOST``,
``CXKIT_SMTP_PORT``, ``CXKIT_SMTP_USER``, ``CXKIT_SMTP_PASSWORD`` (only ever read from the environment,
never logged, never written to a manifest), ``CXKIT_SMTP_FROM`` and ``CXKIT_SMTP_SECURITY``
(``starttls``, ``ssl`` or ``none``; default ``starttls``, or ``none`` on localhost).

Transient failures (a dropped connection, a 4xx reply) are retried with a growing pause; recipients the
server refuses are recorded and the others still get the message. Each run folder keeps a log of what
was sent (``sent.jsonl``: message id, recipient, time, report fingerprint), which ``manifest.json``
mirrors, so sending a run again skips those who already have this very report unless ``resend``.

Examples
--------
>>> email_settings({"email": {"to": "cfo@example.com", "subject": "{title}: {period}"}})
{'to': ['cfo@example.com'], 'cc': [], 'subject': '{title}: {period}'}
"""

from __future__ import annotations

import datetime as dt
import json
import os
import smtplib
import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path

from cxkit.errors import CxkitError, ParamsError
from cxkit.render.email import addresses as _addresses
from cxkit.render.email import bare_address as _bare

__all__ = ["Mailer", "SendResult", "email_settings", "send_report", "SENT_LOG"]

SENT_LOG = "sent.jsonl"
_SECURITY = ("starttls", "ssl", "none")


def email_settings(params: dict) -> dict | None:
    """The params file's ``email:`` block, checked: ``to`` and ``cc`` addresses, a ``subject`` template."""
    block = params.get("email")
    if block is None:
        return None
    if not isinstance(block, dict):
        raise ParamsError("email: expected a mapping with to, cc and subject")
    unknown = set(block) - {"to", "cc", "subject"}
    if unknown:
        raise ParamsError(f"email: unknown key(s) {sorted(unknown)}; allowed: to, cc, subject")
    subject = block.get("subject")
    if subject is not None:
        if not isinstance(subject, str):
            raise ParamsError("email.subject: expected text")
        try:
            subject.format(title="t", audience="a", period="p", as_of="d", when="w")
        except (KeyError, IndexError, ValueError) as exc:
            raise ParamsError(f"email.subject: {subject!r} is not a subject template ({exc}); use {{title}}, "
                              "{audience}, {period}, {as_of} and {when}") from None
    return {"to": _addresses(block.get("to"), "email.to"), "cc": _addresses(block.get("cc"), "email.cc"),
            "subject": subject}


@dataclass
class SendResult:
    """What happened to one message: who got it, who was refused, who was skipped as already sent."""

    message_id: str
    accepted: list = field(default_factory=list)
    refused: dict = field(default_factory=dict)
    skipped: list = field(default_factory=list)
    attempts: int = 0


class Mailer:
    """An SMTP connection's settings, checked in the constructor; :meth:`send` delivers with retries.

    Parameters
    ----------
    host, port : str, int
    security : {"starttls", "ssl", "none"}
    user, password : str, optional
        Login; the password is kept in memory only and never shown (``repr`` hides it).
    sender : str
        The From address.
    retries : int
        Attempts after the first for transient failures (connection errors, 4xx replies).
    pause : float
        Seconds before the first retry, doubled each time.
    """

    def __init__(self, host: str, port: int = 587, security: str = "starttls", user: str | None = None,
                 password: str | None = None, sender: str = "cxkit@localhost", retries: int = 3,
                 pause: float = 1.0, timeout: float = 30.0):
        if security not in _SECURITY:
            raise CxkitError(f"CXKIT_SMTP_SECURITY must be starttls, ssl or none, not {security!r}")
        if not host:
            raise CxkitError("no SMTP host: set CXKIT_SMTP_HOST (and CXKIT_SMTP_PORT, CXKIT_SMTP_SECURITY)")
        _addresses(sender, "CXKIT_SMTP_FROM")
        self.host, self.port, self.security, self.user = host, int(port), security, user
        self._password, self.sender = password, sender
        self.retries, self.pause, self.timeout = int(retries), float(pause), float(timeout)

    def __repr__(self) -> str:
        return (f"Mailer(host={self.host!r}, port={self.port}, security={self.security!r}, user={self.user!r}, "
                f"password={'***' if self._password else None}, sender={self.sender!r})")

    @staticmethod
    def sender_from_env(environ=None) -> str:
        """The From address: ``CXKIT_SMTP_FROM``, else ``cxkit@localhost`` (a dry run needs no server)."""
        env = os.environ if environ is None else environ
        return env.get("CXKIT_SMTP_FROM", "cxkit@localhost")

    @classmethod
    def from_env(cls, environ=None) -> Mailer:
        """Settings from ``CXKIT_SMTP_*`` environment variables."""
        env = os.environ if environ is None else environ
        host = env.get("CXKIT_SMTP_HOST", "")
        local = host in ("localhost", "127.0.0.1", "::1")
        security = env.get("CXKIT_SMTP_SECURITY", "none" if local else "starttls").lower()
        default_port = {"ssl": 465, "starttls": 587, "none": 25}.get(security, 587)
        port = env.get("CXKIT_SMTP_PORT", str(default_port))
        if not str(port).isdigit():
            raise CxkitError(f"CXKIT_SMTP_PORT must be a port number, not {port!r}")
        return cls(host, int(port), security, env.get("CXKIT_SMTP_USER") or None,
                   env.get("CXKIT_SMTP_PASSWORD") or None, cls.sender_from_env(env),
                   retries=int(env.get("CXKIT_SMTP_RETRIES", 3)), pause=float(env.get("CXKIT_SMTP_PAUSE", 1.0)))

    def _connect(self) -> smtplib.SMTP:
        if self.security == "ssl":
            server = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                      context=ssl.create_default_context())
        else:
            server = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.security == "starttls":
                server.starttls(context=ssl.create_default_context())
        if self.user:
            server.login(self.user, self._password or "")
        return server

    def send(self, message, recipients: list[str]) -> SendResult:
        """Deliver ``message`` to ``recipients``; refused recipients are reported, transient errors retried."""
        result = SendResult(message_id=str(message["Message-ID"]))
        for attempt in range(self.retries + 1):
            result.attempts = attempt + 1
            try:
                with self._connect() as server:
                    refused = server.send_message(message, from_addr=_bare(self.sender),
                                                  to_addrs=[_bare(a) for a in recipients])
                named = {_bare(a).lower(): a for a in recipients}
                result.refused = {named.get(a.lower(), a): f"{code} "
                                  f"{text.decode(errors='replace') if isinstance(text, bytes) else text}"
                                  for a, (code, text) in refused.items()}
                result.accepted = [a for a in recipients if a not in result.refused]
                return result
            except smtplib.SMTPRecipientsRefused as exc:  # every recipient refused: nothing to retry
                result.refused = {a: f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
                                  for a, (code, text) in exc.recipients.items()}
                return result
            except smtplib.SMTPAuthenticationError:
                raise CxkitError(f"SMTP login refused for user {self.user!r} on {self.host}:{self.port} "
                                 "(check CXKIT_SMTP_USER and CXKIT_SMTP_PASSWORD)") from None
            except smtplib.SMTPResponseException as exc:
                if not 400 <= exc.smtp_code < 500 or attempt == self.retries:
                    reply = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) \
                        else exc.smtp_error
                    raise CxkitError(f"SMTP server {self.host}:{self.port} refused the message: {exc.smtp_code} "
                                     f"{reply}") from None
            except (TimeoutError, smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError) as exc:
                if attempt == self.retries:
                    raise CxkitError(f"cannot reach the SMTP server {self.host}:{self.port} after "
                                     f"{attempt + 1} attempts ({type(exc).__name__}: {exc})") from None
            time.sleep(self.pause * 2 ** attempt)
        raise AssertionError("unreachable")  # pragma: no cover


def _sent_before(run_dir: Path, fingerprint: str) -> set[str]:
    log = run_dir / SENT_LOG
    if not log.is_file():
        return set()
    out = set()
    for line in log.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("fingerprint") == fingerprint and entry.get("status") == "sent":
            out.add(_bare(str(entry.get("recipient", ""))).lower())
    return out


def _record(run_dir: Path, result: SendResult, fingerprint: str) -> None:
    """Append each recipient's outcome to ``sent.jsonl`` and mirror the sends into ``manifest.json``."""
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    entries = [{"time": now, "fingerprint": fingerprint, "message_id": result.message_id, "recipient": a,
                "status": "sent"} for a in result.accepted]
    entries += [{"time": now, "fingerprint": fingerprint, "message_id": result.message_id, "recipient": a,
                 "status": "refused", "reply": reply} for a, reply in result.refused.items()]
    with open(run_dir / SENT_LOG, "a", encoding="utf-8") as log:
        for entry in entries:
            log.write(json.dumps(entry) + "\n")
    manifest_path = run_dir / "manifest.json"
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        manifest.setdefault("emails", []).append(
            {"time": now, "message_id": result.message_id, "recipients": len(result.accepted),
             "refused": len(result.refused), "skipped": len(result.skipped), "attempts": result.attempts})
        tmp = manifest_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
        os.replace(tmp, manifest_path)


def send_report(run_dir, to: list[str] | None = None, cc: list[str] | None = None, mailer: Mailer | None = None,
                resend: bool = False, subject: str | None = None, attach_html: bool = False,
                keep_browser: bool = False) -> SendResult:
    """Email a rendered run to ``to`` and ``cc`` (default: its params file's ``email:`` block).

    ``keep_browser``: draw missing figure PNGs with this process's kept browser (a batch).

    Recipients who already received this very report (same fingerprint, in ``sent.jsonl``) are skipped
    unless ``resend``.
    """
    from cxkit.render.email import build_message

    run_dir = Path(run_dir)
    record = json.loads((run_dir / "report.json").read_text(encoding="utf-8")) \
        if (run_dir / "report.json").is_file() else {}
    settings = (record.get("meta") or {}).get("email") or {}
    to = list(to or settings.get("to") or [])
    cc = list(cc if cc is not None else settings.get("cc") or [])
    if not to:
        raise CxkitError(f"{run_dir}: no recipient; give --to or an email: {{to: [...]}} block in the params file")
    mailer = mailer or Mailer.from_env()
    fingerprint = (record.get("meta") or {}).get("fingerprint", "")
    done = set() if resend else _sent_before(run_dir, fingerprint)
    skipped = [a for a in to + cc if _bare(a).lower() in done]
    to_now, cc_now = [a for a in to if a not in skipped], [a for a in cc if a not in skipped]
    if not to_now and not cc_now:
        return SendResult(message_id="", skipped=skipped)
    message = build_message(run_dir, to_now or cc_now, cc_now if to_now else [], sender=mailer.sender,
                            subject=subject, attach_html=attach_html, keep_browser=keep_browser)
    result = mailer.send(message, to_now + cc_now)
    result.skipped = skipped
    _record(run_dir, result, fingerprint)
    return result
