"""A small HTTP mirror on 127.0.0.1 that counts the bytes it sends and can misbehave on purpose.

Example::

    with MirrorServer(root) as server:
        server.cut_after = 1000          # close the connection after 1000 body bytes
        fetch(..., mirrors=(server.url,))
        assert server.bytes_sent < size

Behaviours: honest Range (206 with Content-Range), ignore Range (200, whole body),
cut the body off, send more bytes than the file has, serve replacement bytes
for chosen paths (tampering; `replace_ranged`: only to a request with Range), close
every connection after its answer, answer only so many bundle requests (a window
that closes), and send chosen paths slowly, status line and headers included (a
throttle; `rates = {"index.json": 1}` drips one byte a second).
"""

from __future__ import annotations

import gzip
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

_RANGE = re.compile(r"bytes=(\d+)-$")


class MirrorServer:
    """Serves `root` over HTTP; counters and fault switches are plain attributes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.bytes_sent = 0
        self.requests: list[tuple[str, str]] = []  # (path, Range header)
        self.ignore_range = False
        self.cut_after: int | None = None
        self.extra = b""
        self.replace: dict[str, bytes] = {}
        self.replace_ranged: dict[str, bytes] = {}  # served instead, only to requests with a Range header
        self.bundle_answers: int | None = None  # answer this many bundle requests, then 503 (a window closes)
        self.busy = 0  # answer this many bundle requests 503 with `retry_after`, as a crowded room does, then serve
        self.retry_after = "1"
        self.rates: dict[str, float] = {}  # path suffix -> bytes per second for the whole answer (a throttle)
        self.rate_after = 0  # body bytes sent at full speed before the throttle starts (a censor's fast start)
        self.ranged_rate: float | None = None  # bytes per second for every answer to a request with Range
        self.in_flight = 0  # bundle answers being sent now
        self.most_in_flight = 0  # the most bundle answers sent at the same time
        self.keep_alive = True  # False: close after every answer, without saying so (a keep-alive race, every time)
        self.content_range: str | None = None  # sent instead of the true Content-Range of a 206
        self.gzip_bundles = False  # every bundle whole and gzipped, whatever the request asks (some CDNs do)
        self.no_bundles = False  # every bundle answered 404 (a mirror the publisher has not filled yet)
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> MirrorServer:
        self.thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def count(self, n: int) -> None:
        with self._lock:
            self.bytes_sent += n

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as its status lines say (HTTP/1.0 closed after each answer)

            def log_message(self, format: str, *args: object) -> None:
                return

            def do_GET(self) -> None:
                bundle = self.path.endswith(".7z")
                if bundle:
                    with server._lock:
                        server.in_flight += 1
                        server.most_in_flight = max(server.most_in_flight, server.in_flight)
                try:
                    self._answer()
                finally:
                    if bundle:
                        with server._lock:
                            server.in_flight -= 1

            def _answer(self) -> None:
                path = self.path.lstrip("/")
                header = self.headers.get("Range", "")
                server.requests.append((path, header))
                if path.endswith(".7z") and server.busy > 0:
                    server.busy -= 1
                    self.send_response(503)
                    self.send_header("Retry-After", server.retry_after)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if path.endswith(".7z") and server.bundle_answers is not None:
                    if server.bundle_answers <= 0:
                        self.send_error(503)
                        return
                    server.bundle_answers -= 1
                target = server.root.joinpath(*path.split("/"))
                if header and path in server.replace_ranged:
                    data = server.replace_ranged[path]
                elif path in server.replace:
                    data = server.replace[path]
                elif ".." in path.split("/") or not target.is_file() or (server.no_bundles and path.endswith(".7z")):
                    self.send_error(404)
                    return
                else:
                    data = target.read_bytes()
                match = _RANGE.match(header)
                start = int(match[1]) if match and not server.ignore_range and not server.gzip_bundles else 0
                body = data[start:] + (server.extra if path.endswith(".7z") else b"")
                head = [f"HTTP/1.1 {206 if start else 200} {'Partial Content' if start else 'OK'}"]
                if server.gzip_bundles and path.endswith(".7z"):
                    body = gzip.compress(body, 1)
                    head.append("Content-Encoding: gzip")
                if start:
                    true_range = f"bytes {start}-{len(data) - 1}/{len(data)}"
                    head.append(f"Content-Range: {server.content_range or true_range}")
                head += [f"Content-Length: {len(body)}", "Accept-Ranges: bytes", "", ""]
                cut = server.cut_after is not None and len(body) > server.cut_after
                if cut:
                    body = body[: server.cut_after]
                rate = next((r for suffix, r in server.rates.items() if path.endswith(suffix)), None)
                if header and server.ranged_rate is not None:
                    rate = server.ranged_rate
                fast = server.rate_after if rate is not None else len(body)
                try:
                    self._send("\r\n".join(head).encode(), None if fast else rate, counted=False)
                    self._send(body[:fast], None, counted=True)
                    self._send(body[fast:], rate, counted=True)
                except OSError:
                    return  # the client gave up
                if cut or not server.keep_alive:  # a short index.json keeps its connection, as usual
                    self.close_connection = True
                    self.connection.shutdown(2)

            def _send(self, data: bytes, rate: float | None, counted: bool) -> None:
                """Write `data`, at `rate` bytes per second if given (status line and headers too)."""
                step = 8192 if rate is None else max(1, int(rate / 20))
                for i in range(0, len(data), step):
                    piece = data[i : i + step]
                    self.wfile.write(piece)
                    self.wfile.flush()
                    if counted:
                        server.count(len(piece))
                    if rate is not None:
                        time.sleep(len(piece) / rate)

        return Handler
