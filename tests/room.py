"""Helpers for the room tests: folders of bundles, `mirror serve` as a real process, raw HTTP requests.

Example::

    folder = plain_folder(tmp_path, secret, title="<script>x</script>")
    with serving(folder, tmp_path) as served:          # python -m mirror serve FOLDER --port P, stopped by PID
        status, headers, body = raw_get(served.port, "/../etc/passwd")

Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import io
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from helpers import make_sources
from mirror.bundle.create import CreateRequest, create_bundle
from mirror.trust.keys import SecretKey
from servers import free_port, running

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Served:
    """A `mirror serve` process."""

    url: str
    port: int
    pid: int
    log: Path


def noise_jpeg(width: int, height: int) -> bytes:
    """A large JPEG quickly: random pixels barely compress."""
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(out, "JPEG", quality=92)
    return out.getvalue()


def make_bundle(folder: Path, secret: SecretKey, out: Path, title: str, big_photos: int = 0) -> Path:
    """A bundle signed by `secret` from a small author's folder (plus `big_photos` photos of about 3 MB)."""
    sources = make_sources(folder)
    for i in range(big_photos):
        (sources / "photos" / f"big-{i}.jpg").write_bytes(noise_jpeg(2000, 1500))
    create_bundle(CreateRequest(sources, out, title=title), secret)
    return out


def plain_folder(tmp_path: Path, secret: SecretKey, title: str = "Almaty, January 2022", name: str = "plain",
                 big_photos: int = 0) -> Path:
    """A plain folder holding one bundle (no index): what a re-sharer has after receiving a file."""
    folder = tmp_path / name
    folder.mkdir()
    make_bundle(tmp_path / f"{name}-src", secret, folder / "almaty.7z", title, big_photos)
    return folder


@contextmanager
def serving(folder: Path, tmp_path: Path, *options: str) -> Iterator[Served]:
    """`python -m mirror serve FOLDER` on a free loopback port; stopped by PID at the end."""
    port = free_port()
    log = tmp_path / f"serve-{port}.log"
    args = [sys.executable, "-m", "mirror", "serve", str(folder), "--port", str(port), *options]
    with running(args, log, port) as (process, _):
        yield Served(f"http://{LOOPBACK}:{port}/", port, process.pid, log)


def raw_request(port: int, request: bytes, timeout: float = 10.0) -> tuple[int, dict[str, str], bytes]:
    """Send exactly these bytes; the status, headers (lower-case names) and body of the answer."""
    with socket.create_connection((LOOPBACK, port), timeout=timeout) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    if not data:  # closed unanswered (the room at its cap for this address): what a client sees as a reset
        raise ConnectionResetError(f"no answer to {request[:40]!r}")
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def raw_get(port: int, target: str, method: str = "GET", extra: str = "") -> tuple[int, dict[str, str], bytes]:
    """A request with this exact target (no client-side normalisation of `..` or escapes)."""
    request = f"{method} {target} HTTP/1.1\r\nHost: {LOOPBACK}:{port}\r\nConnection: close\r\n{extra}\r\n"
    return raw_request(port, request.encode("latin-1"))
