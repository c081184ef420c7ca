"""Open a report in headless Chromium with the network cut off, and list every request the page makes.

Chromium is driven over the DevTools protocol on ``--remote-debugging-pipe``
(file descriptors 3 and 4; no port, no extra package), so each request is
attributed exactly: ``Network.requestWillBeSent`` events of the report's own
tab. All traffic also goes to a proxy on 127.0.0.1 that refuses everything,
so nothing leaves the machine; Chromium's own housekeeping (update and time
checks) is refused there and is not the page's doing.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cxkit.render.pdf import BROWSER_FLAGS, find_browser


class _Refuser(BaseHTTPRequestHandler):
    def _refuse(self):
        self.send_error(403)

    do_GET = do_POST = do_HEAD = do_CONNECT = _refuse

    def log_message(self, *args):
        pass


class _Pipe:
    """DevTools messages: JSON objects separated by NUL bytes."""

    def __init__(self, write_fd: int, read_fd: int):
        self.write_fd, self.read_fd, self.buffer, self.next_id = write_fd, read_fd, b"", 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> int:
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.write_fd, json.dumps(msg).encode() + b"\0")
        return self.next_id

    def read(self, timeout: float) -> list[dict]:
        ready, _, _ = select.select([self.read_fd], [], [], timeout)
        if ready:
            self.buffer += os.read(self.read_fd, 1 << 20)
        *done, self.buffer = self.buffer.split(b"\0")
        return [json.loads(d) for d in done if d]

    def call(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 30):
        wanted = self.send(method, params, session)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for msg in self.read(0.2):
                if msg.get("id") == wanted:
                    return msg.get("result", {})
                self.events.append(msg)
        raise TimeoutError(method)


def open_in_browser(html_path: Path, settle: float = 2.0) -> tuple[str, list[str]]:
    """Load the page with the network cut off.

    Returns
    -------
    dom : str
        The page as rendered (``document.documentElement.outerHTML``).
    requests : list of str
        URLs the page asked for beyond itself (``data:`` URIs excluded: they never touch a network).
    """
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refuser)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    profile = tempfile.mkdtemp(prefix="cx-browser-")
    to_browser_r, to_browser_w = os.pipe()
    from_browser_r, from_browser_w = os.pipe()

    def wire():  # the browser reads commands on fd 3 and writes on fd 4
        read_end, write_end = os.dup(to_browser_r), os.dup(from_browser_w)  # out of the way of 3 and 4
        os.dup2(read_end, 3)
        os.dup2(write_end, 4)

    proc = subprocess.Popen([find_browser(), *BROWSER_FLAGS, f"--user-data-dir={profile}",
                             f"--proxy-server=http://127.0.0.1:{server.server_address[1]}",
                             "--proxy-bypass-list=<-loopback>", "--remote-debugging-pipe", "about:blank"],
                            preexec_fn=wire, close_fds=False,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(to_browser_r)
    os.close(from_browser_w)
    pipe = _Pipe(to_browser_w, from_browser_r)
    url = Path(html_path).resolve().as_uri()
    try:
        target = pipe.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = pipe.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        pipe.call("Network.enable", session=session)
        pipe.call("Page.enable", session=session)
        pipe.call("Page.navigate", {"url": url}, session=session)
        end = time.monotonic() + 30
        loaded = None
        while time.monotonic() < end and (loaded is None or time.monotonic() < loaded + settle):
            for msg in pipe.read(0.2):
                pipe.events.append(msg)
                if msg.get("method") == "Page.loadEventFired" and loaded is None:
                    loaded = time.monotonic()
        dom = pipe.call("Runtime.evaluate", {"expression": "document.documentElement.outerHTML"},
                        session=session)["result"]["value"]
        requests = [e["params"]["request"]["url"] for e in pipe.events
                    if e.get("method") == "Network.requestWillBeSent" and e.get("sessionId") == session]
        pipe.send("Browser.close")
    finally:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        os.close(to_browser_w)
        os.close(from_browser_r)
        server.shutdown()
        server.server_close()
        shutil.rmtree(profile, ignore_errors=True)
    return dom, [u for u in requests if u != url and not u.startswith("data:")]
