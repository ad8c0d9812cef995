"""What a WebDAV host's answers may say about sizes: a hostile or broken server gets its own failure, never an
internal error that stops publish or status for every host."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mirror.errors import TransferError
from mirror.net.pace import Limits
from mirror.publish.hosts.base import read_back
from mirror.publish.hosts.webdav import WebDavHost

LENGTHS = ["9" * 5000, "\u00b2", "\u0661\u0662", " ", "-1", "12, 12"]


@pytest.fixture
def lying_host() -> Iterator[tuple[WebDavHost, list[str]]]:
    """A server on 127.0.0.1 whose HEAD and GET answers carry the Content-Length in `said[0]`."""
    said = [""]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return

        def _head(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", said[0].encode().decode("latin-1"))
            self.send_header("Connection", "close")
            self.end_headers()

        def do_HEAD(self) -> None:
            self._head()

        def do_GET(self) -> None:
            if said[0] == "endless":  # no length, and bytes without end
                self.send_response(200)
                self.send_header("Connection", "close")
                self.end_headers()
                with contextlib.suppress(OSError):
                    while True:
                        self.wfile.write(bytes(1 << 16))
                return
            self._head()
            self.wfile.write(b"{}")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield WebDavHost("lying", f"http://127.0.0.1:{server.server_address[1]}/", None, Limits(stall=5)), said
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("length", LENGTHS)
def test_a_size_that_is_no_number_is_the_hosts_bad_answer(lying_host: tuple[WebDavHost, list[str]],
                                                          length: str) -> None:
    host, said = lying_host
    said[0] = length
    with pytest.raises(TransferError) as raised:
        host.stat("bundles/x.7z")
    assert "no Content-Length" in str(raised.value)
    with contextlib.suppress(TransferError):  # any other error fails the test
        host.read("index.json", 1 << 20)  # read on: the size said is ignored, the bytes are counted


def test_a_read_back_stops_at_the_size_sent(lying_host: tuple[WebDavHost, list[str]]) -> None:
    """A host that answers a read-back (publish's, status --deep's) with bytes without end is stopped one chunk
    past the file's size, not read until its budget runs out."""
    host, said = lying_host
    said[0] = "endless"
    with pytest.raises(TransferError) as raised:
        read_back(host, "bundles/x.7z", "00" * 32, 300_000)
    assert "reads back longer than its 300,000 bytes" in str(raised.value)
