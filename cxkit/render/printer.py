"""A browser kept open to print many reports (and draw their figures as PNG): what a batch worker uses
instead of one browser per PDF.

Starting headless Chromium costs about a second; a batch prints hundreds of reports. :class:`Printer`
starts the browser once and prints each report in a fresh tab over the DevTools protocol, on
``--remote-debugging-pipe`` (file descriptors 3 and 4: no port, no extra package). The page is printed
as ``--print-to-pdf`` prints it: the page size, orientation and margins of the report's ``@page`` rule,
backgrounds as the print stylesheet asks, no header or footer line. The browser is stopped when the
process exits (:func:`shutdown_printer`), or after a failure, so the next report starts a new one.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from cxkit.errors import CxkitError

__all__ = ["Printer", "print_pdf", "snapshot_svgs", "shutdown_printer", "BROWSER_FLAGS", "browser_env",
           "figure_page"]

#: Flags for a quiet, offline, throwaway browser (as root it needs --no-sandbox).
BROWSER_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-extensions", "--disable-default-apps", "--mute-audio", "--hide-scrollbars"]

#: What the browser reads on top of the machine's fontconfig: no full hinting. The report's text is in the kit's
#: own faces (cxkit.fonts), but where fontconfig asks for full hinting (its default with no configuration at
#: all) FreeType rounds each glyph's advance to whole pixels and the demo prints on 17 pages instead of 16.
_FONTCONFIG = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">{base}</include>
  <match target="font"><edit name="hintstyle" mode="assign"><const>hintslight</const></edit></match>
</fontconfig>
"""

_PRINTER: list = []


def browser_env(profile: str | Path) -> dict:
    """The environment for a browser that prints or draws a report, with a fontconfig file in ``profile``.

    The machine's own fontconfig (``FONTCONFIG_FILE`` if set) is read first, so its fonts stay available for
    scripts the kit's faces lack; only hinting is set, so pages break in the same places on every machine.
    """
    base = os.environ.get("FONTCONFIG_FILE") or "/etc/fonts/fonts.conf"
    path = Path(profile) / "cxkit-fonts.conf"
    path.write_text(_FONTCONFIG.format(base=base.replace("&", "&amp;").replace("<", "&lt;")), encoding="utf-8")
    return {**os.environ, "FONTCONFIG_FILE": str(path)}
#: The drawn figure's size, once the page's fonts are ready.
_SIZE_JS = ("document.fonts.ready.then(() => { const r = document.querySelector('svg').getBoundingClientRect(); "
            "return [r.width, r.height]; })")


class Printer:
    """One headless browser that prints HTML files to PDF, tab by tab.

    Parameters
    ----------
    browser : str
        Path of a Chrome-family browser (:func:`cxkit.render.pdf.find_browser`).
    """

    def __init__(self, browser: str):
        self.browser = browser
        self._printing: tuple[str, str] | None = None  # the kept printing tab (see print)
        self._profile = tempfile.mkdtemp(prefix="cxkit-printer-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def wire():  # the browser reads commands on fd 3 and writes on fd 4
            read_end, write_end = os.dup(to_browser_r), os.dup(from_browser_w)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        self._proc = subprocess.Popen([browser, *BROWSER_FLAGS, f"--user-data-dir={self._profile}",
                                       "--remote-debugging-pipe", "about:blank"], preexec_fn=wire, close_fds=False,
                                      env=browser_env(self._profile), stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, start_new_session=True)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer, self._next = b"", 0

    def _call(self, method: str, params: dict | None = None, session: str | None = None,
              timeout: float = 60, until: str | None = None) -> dict:
        """Send a command; return its result (and, with ``until``, wait for that event of the session too)."""
        self._next += 1
        wanted = self._next
        message = {"id": wanted, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        result, seen = None, until is None
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            ready, _, _ = select.select([self._from_browser], [], [], 0.5)
            if ready:
                chunk = os.read(self._from_browser, 1 << 22)
                if not chunk:
                    raise CxkitError(f"PDF: {self.browser} closed unexpectedly")
                self._buffer += chunk
            *done, self._buffer = self._buffer.split(b"\0")
            for raw in done:
                msg = json.loads(raw)
                if msg.get("id") == wanted:
                    if "error" in msg:
                        raise CxkitError(f"PDF: {method} failed: {msg['error'].get('message')}")
                    result = msg.get("result", {})
                elif until and msg.get("method") == until and msg.get("sessionId") == session:
                    seen = True
            if result is not None and seen:
                return result
            if self._proc.poll() is not None:
                raise CxkitError(f"PDF: {self.browser} exited ({self._proc.returncode})")
        raise CxkitError(f"PDF: {self.browser} did not answer {method} within {timeout:.0f} s")

    def _new_tab(self) -> tuple[str, str]:
        """A new tab with page events on: ``(target id, session id)``."""
        target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
        try:
            session = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            self._call("Page.enable", session=session)
        except BaseException:
            self._call("Target.closeTarget", {"targetId": target})
            raise
        return target, session

    @contextmanager
    def _tab(self):
        """A new tab's session (page events on), closed afterwards."""
        target, session = self._new_tab()
        try:
            yield session
        finally:
            self._call("Target.closeTarget", {"targetId": target})

    def _open(self, session: str, path, timeout: float) -> None:
        self._call("Page.navigate", {"url": Path(path).resolve().as_uri()}, session=session, timeout=timeout,
                   until="Page.loadEventFired")

    def print(self, html_path: Path, pdf_path: Path, timeout: float = 120) -> None:
        """Print ``html_path`` to ``pdf_path`` in the printing tab, opened on first use and kept for the next
        file (a new tab per file costs a page process started and torn down: 0.1 s a report)."""
        if self._printing is None:
            self._printing = self._new_tab()
        try:
            self._open(self._printing[1], html_path, timeout)
            out = self._call("Page.printToPDF", {"preferCSSPageSize": True, "printBackground": False,
                                                 "displayHeaderFooter": False, "generateTaggedPDF": True},
                             session=self._printing[1], timeout=timeout)
        except BaseException:
            self._printing = None  # the caller stops this browser (print_pdf): the next file gets a new one
            raise
        Path(pdf_path).write_bytes(base64.b64decode(out["data"]))

    def snapshot(self, pairs, dpi: float, timeout: float = 60) -> None:
        """Draw each SVG file of ``pairs`` (``(svg_path, png_path)``) as a PNG at ``dpi``, in one tab.

        The browser lays the SVG out at its own size (points as CSS points) with the fonts the HTML and PDF
        use (a page holding the SVG and the kit's faces, :func:`figure_page`), so the picture is the one the
        report shows; ``dpi / 96`` device pixels per CSS pixel.
        """
        import math

        with self._tab() as session:
            for k, (svg_path, png_path) in enumerate(pairs):
                page = Path(self._profile) / f"figure-{k}.html"
                page.write_text(figure_page(Path(svg_path).read_text(encoding="utf-8")), encoding="utf-8")
                self._open(session, page, timeout)
                size = self._call("Runtime.evaluate", {"expression": _SIZE_JS, "returnByValue": True,
                                                       "awaitPromise": True}, session=session)["result"].get("value")
                if not size or min(size) <= 0:
                    raise CxkitError(f"PNG: {svg_path} is not a drawable SVG")
                self._call("Emulation.setDeviceMetricsOverride",
                           {"width": math.ceil(size[0]), "height": math.ceil(size[1]), "deviceScaleFactor": dpi / 96,
                            "mobile": False}, session=session)
                out = self._call("Page.captureScreenshot",
                                 {"format": "png", "captureBeyondViewport": True,
                                  "clip": {"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1}},
                                 session=session, timeout=timeout)
                staging = Path(png_path).with_name(f".{Path(png_path).name}.tmp")
                staging.write_bytes(base64.b64decode(out["data"]))
                os.replace(staging, png_path)

    def close(self) -> None:
        try:
            os.write(self._to_browser, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
            self._proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self._proc.kill()
        finally:
            for fd in (self._to_browser, self._from_browser):
                try:
                    os.close(fd)
                except OSError:
                    pass
            shutil.rmtree(self._profile, ignore_errors=True)


def figure_page(svg: str) -> str:
    """An SVG figure alone on a page with the kit's own faces (:mod:`cxkit.fonts`), to draw it as the report does.

    >>> page = figure_page('<?xml version="1.0"?>\\n<svg xmlns="http://www.w3.org/2000/svg"><text>Churn</text></svg>')
    >>> page.startswith("<!DOCTYPE html>") and "<?xml" not in page and "font-family: 'Inter'" in page
    True
    """
    import html
    import re

    from cxkit import fonts

    svg = svg[svg.index("<svg"):] if "<svg" in svg else svg  # the XML declaration and DOCTYPE go
    text = html.unescape(re.sub(r"<[^>]+>", "", svg))
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><style>{fonts.font_face_css(text)}\n"
            "html, body { margin: 0; padding: 0; background: #fff; } svg { display: block; }</style></head>"
            f"<body>{svg}</body></html>")


def _kept(browser: str) -> Printer:
    """This process's kept browser, started on first use (or again after it stopped)."""
    import atexit

    if not _PRINTER or _PRINTER[0].browser != browser or _PRINTER[0]._proc.poll() is not None:
        shutdown_printer()
        _PRINTER.append(Printer(browser))
        atexit.register(shutdown_printer)
    return _PRINTER[0]


def print_pdf(browser: str, html_path: Path, pdf_path: Path, timeout: float = 120) -> None:
    """Print with this process's kept browser (started on first use); a failed print stops it."""
    try:
        _kept(browser).print(html_path, pdf_path, timeout)
    except BaseException:
        shutdown_printer()
        raise


def snapshot_svgs(browser: str, pairs, dpi: float, keep: bool = False) -> None:
    """:meth:`Printer.snapshot` with this process's kept browser (``keep``) or one started for the call."""
    if not keep:
        printer = Printer(browser)
        try:
            printer.snapshot(pairs, dpi)
        finally:
            printer.close()
        return
    try:
        _kept(browser).snapshot(pairs, dpi)
    except BaseException:
        shutdown_printer()
        raise


def shutdown_printer() -> None:
    """Stop this process's kept browser, if any."""
    while _PRINTER:
        _PRINTER.pop().close()
