"""SftpHost reads an honest server's file whole and exact (h-rev2): one that answers its READs out of order (the
SFTP protocol allows it) or answers a READ with fewer bytes than asked before the end of the file (allowed too)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mirror.publish.hosts import open_host
from mirror.publish.hosts.sftp import PACKET, WINDOW
from mirror.record import replace
from servers import SftpServer, _sshd

CASES = {
    # size, cap on a DATA's length (0: none), order
    "reverse-64KiB": (2 * PACKET, 0, "reverse"),
    "reverse-window+100": (WINDOW + 100, 0, "reverse"),
    "inorder-capped-64KiB": (2 * PACKET, PACKET // 2, "inorder"),
    "inorder-capped-window+100": (WINDOW + 100, PACKET // 2, "inorder"),
    "inorder-capped-window+3packets": (WINDOW + 3 * PACKET, PACKET // 2, "inorder"),
    "inorder-window+100": (WINDOW + 100, 0, "inorder"),
    "reverse-packet": (PACKET, 0, "reverse"),
    "inorder-0": (0, 0, "inorder"),
}


@pytest.fixture(scope="module", params=list(CASES))
def honest_sftp(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[tuple[SftpServer, int]]:
    size, cap, order = CASES[request.param]
    script = Path(__file__).resolve().parent.parent / "hostile_sftp.py"
    for server in _sshd(tmp_path_factory, f"{sys.executable} {script} reverse {size or -1} {cap} {order}"):
        yield server, size


def test_a_file_is_read_whole_and_exact(honest_sftp: tuple[SftpServer, int]) -> None:
    from hostile_sftp import expected

    server, size = honest_sftp
    host = open_host(replace(server.host_config(), timeout=10.0))
    try:
        streamed = b"".join(host.stream("bundles/a.7z"))
        assert len(streamed) == size and streamed == expected(size)
        read = host.read("index.json", 64 << 20)
        assert len(read) == size and read == expected(size)
    finally:
        host.close()
