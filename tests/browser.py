"""Headless Chromium for page tests: every way out of the machine closed, and a proxy that records what was asked.

Example::

    chromium = require_tool("chromium")
    with Recorder() as outside:
        dom = chromium_run(chromium, tmp_path / "profile", outside.port, "--dump-dom", url)
    assert requests_from_page(outside) == []
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from types import TracebackType

from helpers import run

LOOPBACK = "127.0.0.1"

# Chromium's own services, which it calls whatever the page holds (network time, component updates, sign-in),
# even with the flags below; a request to any other host that reaches the refusing proxy came from the page.
BROWSER_SERVICES = (b"google.com", b"googleapis.com", b"gstatic.com", b"gvt1.com")
BROWSER_QUIET = ("--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,Translate",
                 "--no-pings", "--disable-domain-reliability", "--disable-client-side-phishing-detection",
                 "--disable-default-apps", "--disable-extensions", "--no-default-browser-check")


class Recorder:
    """A proxy on 127.0.0.1 that refuses everything and records what was asked of it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind((LOOPBACK, 0))
        self.sock.listen(16)
        self.port = int(self.sock.getsockname()[1])
        self.seen: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            with client:
                client.settimeout(2)
                try:
                    self.seen.append(client.recv(200))
                except OSError:
                    self.seen.append(b"?")

    def __enter__(self) -> Recorder:
        self.thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.sock.close()
        self.thread.join(5)


def browser_service(request_line: bytes) -> bool:
    """Whether a proxied request line (CONNECT host:port, or GET http://host/...) is to one of Chromium's services."""
    target = request_line.split(b" ")[1] if b" " in request_line else b""
    host = target.split(b"://", 1)[-1].split(b"/", 1)[0].rsplit(b":", 1)[0]
    return any(host == s or host.endswith(b"." + s) for s in BROWSER_SERVICES)


def chromium_run(chromium: str, profile: Path, proxy: int, *args: str) -> str:
    """Headless Chromium with every other way out of the machine closed (shared/test-servers.md's flags)."""
    return run(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               *BROWSER_QUIET, f"--user-data-dir={profile}", f"--proxy-server=http://{LOOPBACK}:{proxy}",
               f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {LOOPBACK}", *args).stdout




def requests_from_page(outside: Recorder) -> list[bytes]:
    """The request lines that reached the refusing proxy from the page (Chromium's own services left out).

    A connection closed before it sent a byte asked for nothing (Chromium opens spare connections to its proxy
    and may close them unused when it exits), so it is not counted; one that sent anything is."""
    lines = (seen.split(b"\r\n")[0] for seen in outside.seen if seen)
    return [line for line in lines if not browser_service(line)]
