"""The room page in a real browser: headless Chromium renders it, runs nothing, and asks for nothing elsewhere."""

from __future__ import annotations

from pathlib import Path

from browser import Recorder, chromium_run, requests_from_page
from helpers import require_tool
from mirror.serve.room import RoomRequest, RoomThread
from mirror.trust.keys import SecretKey
from room import plain_folder

HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)> "Алматы" \u202e'


def test_page_renders_and_requests_nothing_else(tmp_path: Path, secret: SecretKey) -> None:
    """The DOM holds the hostile title as text, the screenshot is made, and no request leaves the page's server."""
    chromium = require_tool("chromium")
    folder = plain_folder(tmp_path, secret, title=HOSTILE)
    with RoomThread(RoomRequest(folder, port=0)) as room, Recorder() as outside:
        url = f"{room.urls[0]}?lang=kk"
        dom = chromium_run(chromium, tmp_path / "profile", outside.port, "--dump-dom", url)
        chromium_run(chromium, tmp_path / "profile", outside.port, "--window-size=412,1400",
                  f"--screenshot={tmp_path / 'page.png'}", url)
        assert room.room is not None
        asked = set(room.room.stats.paths)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in dom
    assert "<script" not in dom.lower() and "<img src=\"x\"" not in dom and "\u202e" not in dom
    assert "Файлды қалай тексеруге болады" in dom and "Как проверить файл" in dom
    assert requests_from_page(outside) == []  # the page asked nobody else for anything
    assert asked <= {"/?lang=kk", "/favicon.ico"}, asked
    png = (tmp_path / "page.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
