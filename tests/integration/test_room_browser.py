"""The room page in a real browser: headless Chromium renders it, runs nothing, and asks for nothing elsewhere."""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from types import TracebackType

from helpers import require_tool, run
from mirror.serve.room import RoomRequest, RoomThread
from mirror.trust.keys import SecretKey
from room import LOOPBACK, plain_folder

# Chromium's own services, which it calls whatever the page holds (network time, component updates, sign-in),
# even with the flags below; a request to any other host that reaches the refusing proxy came from the page.
BROWSER_SERVICES = (b"google.com", b"googleapis.com", b"gstatic.com", b"gvt1.com")
BROWSER_QUIET = ("--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,Translate",
                 "--no-pings", "--disable-domain-reliability", "--disable-client-side-phishing-detection",
                 "--disable-default-apps", "--disable-extensions", "--no-default-browser-check")
HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)> "Алматы" \u202e'


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


def _browser_service(request_line: bytes) -> bool:
    """Whether a proxied request line (CONNECT host:port, or GET http://host/...) is to one of Chromium's services."""
    target = request_line.split(b" ")[1] if b" " in request_line else b""
    host = target.split(b"://", 1)[-1].split(b"/", 1)[0].rsplit(b":", 1)[0]
    return any(host == s or host.endswith(b"." + s) for s in BROWSER_SERVICES)


def _chromium(chromium: str, profile: Path, proxy: int, *args: str) -> str:
    """Headless Chromium with every other way out of the machine closed (shared/test-servers.md's flags)."""
    return run(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               *BROWSER_QUIET, f"--user-data-dir={profile}", f"--proxy-server=http://{LOOPBACK}:{proxy}",
               f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {LOOPBACK}", *args).stdout


def test_page_renders_and_requests_nothing_else(tmp_path: Path, secret: SecretKey) -> None:
    """The DOM holds the hostile title as text, the screenshot is made, and no request leaves the page's server."""
    chromium = require_tool("chromium")
    folder = plain_folder(tmp_path, secret, title=HOSTILE)
    with RoomThread(RoomRequest(folder, port=0)) as room, Recorder() as outside:
        url = f"{room.urls[0]}?lang=kk"
        dom = _chromium(chromium, tmp_path / "profile", outside.port, "--dump-dom", url)
        _chromium(chromium, tmp_path / "profile", outside.port, "--window-size=412,1400",
                  f"--screenshot={tmp_path / 'page.png'}", url)
        assert room.room is not None
        asked = set(room.room.stats.paths)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in dom
    assert "<script" not in dom.lower() and "<img src=\"x\"" not in dom and "\u202e" not in dom
    assert "Файлды қалай тексеруге болады" in dom and "Как проверить файл" in dom
    from_page = [line for line in (seen.split(b"\r\n")[0] for seen in outside.seen) if not _browser_service(line)]
    assert from_page == []  # the page asked nobody else for anything
    assert asked <= {"/?lang=kk", "/favicon.ico"}, asked
    png = (tmp_path / "page.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
