"""Open an .eml in a real mail client, Debian's Thunderbird, headless, and read what it shows.

Thunderbird is driven through Marionette (``marionette_driver``), with a fresh profile whose first-run
screens are switched off. Only for tests: nothing here reaches the network.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PREFS = {"mail.provider.enabled": False, "mail.shell.checkDefaultClient": False,
         "mailnews.start_page.enabled": False, "datareporting.policy.dataSubmissionEnabled": False,
         "toolkit.telemetry.reportingpolicy.firstRun": False, "app.update.disabledForTesting": True,
         "mail.rights.version": 1, "mail.spotlight.firstRunDone": True, "mail.winsearch.firstRunDone": True,
         "mailnews.database.global.indexer.enabled": False, "network.proxy.type": 1,
         "network.proxy.http": "127.0.0.1", "network.proxy.http_port": 9, "network.proxy.ssl": "127.0.0.1",
         "network.proxy.ssl_port": 9, "network.dns.disableIPv6": True}

READ_MESSAGE = """
let mb = document.getElementById("messageBrowser");
if (!mb || !mb.contentWindow) return null;
let am = mb.contentWindow;
let pane = am.document.getElementById("messagepane");
if (!pane || !pane.contentDocument || !pane.contentDocument.body) return null;
let doc = pane.contentDocument;
if (doc.readyState !== "complete" || doc.documentURI.startsWith("about:")) return null;
if (!Array.from(doc.images).every(i => i.complete)) return null;
return {subject: doc.title,
        images: Array.from(doc.images).map(i => ({src: i.src, width: i.naturalWidth,
                                                   shown: i.getBoundingClientRect().width, alt: i.alt})),
        attachments: (am.currentAttachments || []).map(a => a.name),
        text: doc.body.innerText};
"""


def available() -> str | None:
    """Why the mail-client test cannot run here, or None when it can."""
    if shutil.which("thunderbird") is None:
        return "Thunderbird is not installed (apt-get install thunderbird; .ci/system-deps does it as root)"
    try:
        _marionette()
    except ImportError:
        return "marionette_driver is not installed (pip install marionette_driver)"
    return None


def _marionette():
    """marionette_driver's client class; its mozinfo import warns about a deprecated distro call."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from marionette_driver.marionette import Marionette
    return Marionette


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def open_eml(eml: Path, screenshot: Path | None = None, timeout: float = 90) -> dict:
    """What Thunderbird shows for ``eml``: subject, images (natural and shown width), attachment names."""
    Marionette = _marionette()  # noqa: N806 - a class

    profile = Path(tempfile.mkdtemp(prefix="cxk-tb-"))
    port = _free_port()
    prefs = {**PREFS, "marionette.port": port}
    (profile / "user.js").write_text("".join(f'user_pref("{k}", {str(v).lower() if isinstance(v, bool) else v!r});\n'
                                             .replace("'", '"') for k, v in prefs.items()))
    proc = subprocess.Popen(["thunderbird", "--headless", "--marionette", "--remote-allow-system-access",
                             "-profile", str(profile), "-no-remote", str(eml)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    client = None
    try:
        deadline = time.monotonic() + timeout
        while not _listening(port):  # our own probe: the driver's leaves sockets open while it waits
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("Thunderbird did not start with Marionette")
            time.sleep(0.5)
        client = Marionette(host="127.0.0.1", port=port, startup_timeout=30)
        client.start_session()
        client.set_context(client.CONTEXT_CHROME)
        while True:
            for handle in client.chrome_window_handles:
                client.switch_to_window(handle)
                if client.execute_script("return document.documentURI").endswith("messageWindow.xhtml"):
                    shown = client.execute_script(READ_MESSAGE)
                    if shown is not None:
                        if screenshot is not None:
                            client.set_window_rect(width=900, height=1400)
                            time.sleep(1.0)
                            screenshot.write_bytes(client.screenshot(format="binary"))
                        return shown
            if time.monotonic() > deadline:
                raise RuntimeError("Thunderbird did not show the message")
            time.sleep(0.5)
    finally:
        if client is not None:
            try:
                client.delete_session()
            except Exception:  # noqa: BLE001
                pass
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)
