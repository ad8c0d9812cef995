"""HttpMirror against a real HTTP server on 127.0.0.1 that closes kept-alive connections behind the client's back."""

from __future__ import annotations

import email.utils
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mirror.errors import TransferError
from mirror.fetch.transport import FolderMirror, HttpMirror, retry_after
from mirror.net.pace import Limits
from mirror_server import MirrorServer


def test_a_mirror_that_closes_each_connection_after_its_answer_still_serves_every_read(tmp_path: Path) -> None:
    """The server says HTTP/1.1 and closes anyway: the next GET on that connection is dropped, and sent again on a
    new one. Without the second try, about one read in three failed here."""
    (tmp_path / "index.json").write_bytes(b"{}" * 50)
    with MirrorServer(tmp_path) as server:
        server.keep_alive = False
        mirror = HttpMirror(server.url, limits=Limits(stall=5, budget=30))
        for _ in range(200):
            assert mirror.read("index.json", limit=1000) == b"{}" * 50
    assert len(server.requests) >= 200


class Resetting:
    """A server that reads each request and resets the connection: dropped every time."""

    def __init__(self) -> None:
        self.url = ""
        self.connections = 0


@pytest.fixture
def resetting() -> Iterator[Resetting]:
    server = Resetting()
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            server.connections += 1
            with connection:
                connection.recv(4096)
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
    yield server
    stop.set()
    thread.join()
    listener.close()


def test_a_new_connection_that_is_reset_is_not_tried_again(resetting: Resetting) -> None:
    """Only a kept-alive connection is sent a GET again: a censor that resets every connection sees one."""
    mirror = HttpMirror(resetting.url, limits=Limits(stall=5, budget=30))
    with pytest.raises(TransferError, match="cannot connect"):
        mirror.read("index.json", limit=1000)
    assert resetting.connections == 1


def test_the_end_of_a_file_is_read_only_from_an_answer_for_that_range(tmp_path: Path) -> None:
    """fetch/early.py reads a bundle's header ahead of its download; a server that ignores Range (200, the whole
    file) or names other bytes is refused, never read through."""
    data = bytes(range(256)) * (1 << 17)  # 32 MiB: more than the socket buffers hold
    (tmp_path / "b.7z").write_bytes(data)
    with MirrorServer(tmp_path) as server:
        mirror = HttpMirror(server.url, limits=Limits(stall=5, budget=30))
        assert mirror.read_tail("b.7z", len(data) - 1000, len(data)) == data[-1000:]
        with pytest.raises(TransferError, match="no partial answer"):
            mirror.read_tail("b.7z", len(data) - 1000, len(data) + 5)  # the file is not the size signed
        server.ignore_range, server.bytes_sent = True, 0
        with pytest.raises(TransferError, match="no partial answer"):
            mirror.read_tail("b.7z", len(data) - 1000, len(data))
        mirror.session.close()
    assert server.bytes_sent < len(data) // 2


def test_the_end_of_a_file_in_a_folder_mirror(tmp_path: Path) -> None:
    (tmp_path / "b.7z").write_bytes(b"0123456789")
    mirror = FolderMirror(tmp_path)
    assert mirror.read_tail("b.7z", 6, 10) == b"6789"
    with pytest.raises(TransferError, match="not 12 bytes long"):
        mirror.read_tail("b.7z", 6, 12)


@pytest.mark.parametrize(("url", "label"), [
    ("http://127.0.0.1:0/", "http://127.0.0.1:0/"),
    ("http://user:secret@[::1]:8080/m", "http://[::1]:8080/m/"),
    ("https://a.example/mirror/", "https://a.example/mirror/"),
])
def test_a_mirror_is_named_by_scheme_host_port_and_path_only(url: str, label: str) -> None:
    """Reports name the mirror as given, an IPv6 address in brackets, a port 0 kept, never a password."""
    assert HttpMirror(url).label == label


@pytest.mark.parametrize(("header", "wait"), [
    ("5", 5.0), (" 12 ", 12.0), ("0", 1.0), ("999999999", 60.0), ("", None), (None, None), ("soon", None),
    ("-3", None), ("1.5", None), ("٣", None), ("Wed, 21 Oct 2015 07:28:00 GMT", 1.0)])
def test_retry_after_is_read_as_seconds_or_a_date_within_bounds(header: str | None, wait: float | None) -> None:
    assert retry_after(header) == wait


def test_retry_after_as_a_date_ahead() -> None:
    ahead = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    wait = retry_after(ahead)
    assert wait is not None and 17 <= wait <= 20


def test_a_server_always_busy_is_left_within_the_mirrors_budget_outside_any_phase(tmp_path: Path) -> None:
    """A read outside a phase budget (a room's listing, a .torrent) asked a server that always answers 503 with
    Retry-After again and again, forever: the mirror's own budget bounds it."""
    (tmp_path / "bundles").mkdir()
    (tmp_path / "bundles" / "x.7z").write_bytes(b"x")
    with MirrorServer(tmp_path) as server:
        server.busy = 1_000_000
        mirror = HttpMirror(server.url, limits=Limits(stall=5, min_rate=0, budget=3))
        with pytest.raises(TransferError, match=r"busy \(HTTP 503\)"):
            mirror.read("bundles/x.7z", 100)
    assert 2 <= len(server.requests) <= 4  # asked again after each second, until three seconds were spent


def test_an_answer_in_chunks_of_one_byte_is_read_to_its_end() -> None:
    """A legitimate answer cut into 1-byte chunks: each "1" line costs 3 bytes of the answer's line allowance, and
    the byte of data earned nothing (only reads of 3 bytes or more did), so after about 350 KB the answer was
    called bad ("chunk-size or trailer lines do not end"). Data of any size earns; the CRLF after a chunk does not."""
    body = bytes(range(256)) * 1600  # 409,600 bytes
    answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + \
        b"".join(b"1\r\n%c\r\n" % byte for byte in body) + b"0\r\n\r\n"
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        mirror = HttpMirror(f"http://127.0.0.1:{listener.getsockname()[1]}/", limits=Limits(stall=30, budget=120))
        assert mirror.read("index.json", limit=len(body)) == body
    finally:
        listener.close()
        thread.join(5)
