"""_read_ahead against tests/hostile_sftp.py's honest `reverse` server over a socket pair (no sshd): whatever order
the server answers in, and however short an answer before the end of the file, the file is read whole and exact
(h-rev2: requests past the size the server gave made paramiko keep an end-of-file answer and raise it at an earlier
chunk's read, a file cut short without an error)."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mirror.publish.hosts.sftp import PACKET, WINDOW, _read_ahead

SERVER = Path(__file__).resolve().parent.parent / "hostile_sftp.py"


class _Channel:
    """What paramiko's SFTPClient uses of a channel, over one end of a socket pair."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def get_name(self) -> str:
        return "pair"

    def send(self, data: bytes) -> int:
        return self.sock.send(data)

    def recv(self, n: int) -> bytes:
        return self.sock.recv(n)

    def settimeout(self, timeout: float | None) -> None:
        self.sock.settimeout(timeout)

    def close(self) -> None:
        self.sock.close()


@pytest.mark.parametrize(("size", "cap", "order", "claimed"), [
    (0, 0, "inorder", -1),
    (100, 0, "reverse", -1),
    (PACKET, 0, "reverse", -1),  # 0 bytes were read
    (2 * PACKET, 0, "reverse", -1),  # 0 bytes
    (WINDOW + 100, 0, "reverse", -1),  # 8 MiB
    (2 * PACKET, PACKET // 2, "inorder", -1),  # 16 KiB
    (WINDOW + 3 * PACKET, PACKET // 2, "inorder", -1),  # 8 MiB and 16 KiB
    (3 * PACKET + 5, 0, "reverse", 5),  # FSTAT gives less than there is: the rest is read too
    (WINDOW + 5, 0, "inorder", 5),
    (100_000, 0, "inorder", 0),
])
def test_a_file_is_read_whole_and_exact(size: int, cap: int, order: str, claimed: int) -> None:
    sys.path.insert(0, str(SERVER.parent))
    from hostile_sftp import expected

    with _opened(size, cap, order, claimed) as file:
        got = b"".join(_read_ahead(file, file.stat().st_size or 0))
    assert len(got) == size and got == expected(size)


def test_what_paramiko_kept_of_a_window_is_dropped() -> None:
    """A server that answers at most 16 KiB a read: paramiko asks for the rest of the window one read at a time and
    kept the answers already come in, half of every window, until the file was closed (32 MiB of a 64 MiB file)."""
    size = 8 * WINDOW
    with _opened(size, PACKET // 2, "inorder", -1) as file:
        got, most = 0, 0
        for chunk in _read_ahead(file, file.stat().st_size or 0):
            got += len(chunk)
            most = max(most, sum(len(kept) for kept in file._prefetch_data.values()))
    assert got == size
    assert most <= WINDOW, f"{most:,} bytes kept"


@contextlib.contextmanager
def _opened(size: int, cap: int, order: str, claimed: int) -> Iterator[Any]:
    """"a.7z" opened by paramiko's SFTP client on the `reverse` server (`size` bytes, answers of at most `cap`,
    in `order`, FSTAT saying `claimed`; -1: the size, as it is) over a socket pair; the server stopped after."""
    paramiko = pytest.importorskip("paramiko")
    ours, theirs = socket.socketpair()
    server = subprocess.Popen([sys.executable, str(SERVER), "reverse", str(size or -1), str(cap), order, str(claimed)],
                              stdin=theirs, stdout=theirs)
    theirs.close()
    try:
        ours.settimeout(20)
        client = paramiko.SFTPClient(_Channel(ours))
        with client.open("a.7z", "rb") as file:
            yield file
        client.close()
    finally:
        ours.close()
        server.kill()
        server.wait(timeout=10)
