"""SFTP (paramiko) and S3 (boto3) hosts behind a throttling proxy: each transfer ends within its limits.

Both libraries bound only each wait on a socket; a server that drips, or reads an upload slowly, would
hold them forever. Real OpenSSH and SeaweedFS on 127.0.0.1, slowed by tests/drip_proxy.py.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from drip_proxy import DripProxy
from mirror.errors import Failure, TransferError
from mirror.publish.config import HostConfig
from mirror.publish.hosts import Host, open_host
from mirror.record import replace
from servers import S3Server, SftpServer

FAST_BYTES = 64 << 10  # the handshake and the start pass at full speed; then one byte a second


def _sftp(server: SftpServer, tmp_path: Path, proxy: DripProxy) -> HostConfig:
    """The SFTP server's host config through `proxy`, whose port needs its own known_hosts line."""
    key = server.known_hosts.read_text().split(" ", 1)[1]
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{proxy.port} {key}")
    config = server.host_config(port=proxy.port, known_hosts=known)
    return replace(config, timeout=1.0, budget=20.0)


def _s3(server: S3Server, monkeypatch: pytest.MonkeyPatch, proxy: DripProxy, prefix: str) -> HostConfig:
    config = server.host_config(monkeypatch, prefix=prefix, endpoint=f"http://127.0.0.1:{proxy.port}")
    return replace(config, timeout=1.0, budget=20.0)


@pytest.fixture
def big(tmp_path: Path) -> Path:
    """8 MiB: more than socket buffers and an SSH window can swallow."""
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(8 << 20))
    return path


def _ends_quickly(action: Callable[[], object]) -> TransferError:
    """Run `action`, which must fail as too slow within a few seconds; return the error."""
    started = time.monotonic()
    with pytest.raises(TransferError) as caught:
        action()
    assert time.monotonic() - started < 6
    assert caught.value.failure is Failure.TIMEOUT
    return caught.value


@pytest.fixture
def sftp_proxy(sshd_sftp: SftpServer) -> Iterator[DripProxy]:
    """A proxy in front of sshd; each test sets its rates."""
    with DripProxy(sshd_sftp.port, after=FAST_BYTES) as proxy:
        yield proxy


def test_sftp_read_that_drips_is_cut(sshd_sftp: SftpServer, sftp_proxy: DripProxy, tmp_path: Path,
                                     big: Path) -> None:
    """A download slowed to a byte a second after 64 KiB ends with TIMEOUT; the host works again afterwards."""
    name = f"t{secrets.token_hex(4)}.bin"
    (sshd_sftp.root / name).write_bytes(big.read_bytes())
    sftp_proxy.down_rate = 1
    host = open_host(_sftp(sshd_sftp, tmp_path, sftp_proxy))
    try:
        error = _ends_quickly(lambda: list(host.stream(name)))
        assert error.reason.startswith(f"read {name}: ")  # paramiko's own wait or the watch, whichever is first
        sftp_proxy.down_rate = None  # the next connection is fast: the cut one was closed, not kept
        assert host.stat(name) == big.stat().st_size
    finally:
        host.close()


def test_sftp_upload_to_a_slow_reader_is_cut(sshd_sftp: SftpServer, sftp_proxy: DripProxy, tmp_path: Path,
                                             big: Path) -> None:
    """The server takes the upload at a byte a second: the writes block, the watch ends the upload."""
    sftp_proxy.up_rate = 1
    host = open_host(_sftp(sshd_sftp, tmp_path, sftp_proxy))
    try:
        name = f"t{secrets.token_hex(4)}/big.bin"
        sha256 = hashlib.sha256(big.read_bytes()).hexdigest()
        error = _ends_quickly(lambda: host.upload(name, big, sha256))
        assert f"upload {name}:" in error.reason
    finally:
        host.close()
    assert not (sshd_sftp.root / name).exists()


@pytest.fixture
def s3_proxy(seaweed_s3: S3Server) -> Iterator[DripProxy]:
    """A proxy in front of SeaweedFS's S3 port; each test sets its rates."""
    with DripProxy(int(seaweed_s3.endpoint.rsplit(":", 1)[1]), after=FAST_BYTES) as proxy:
        yield proxy


def test_s3_answer_that_drips_is_cut(seaweed_s3: S3Server, s3_proxy: DripProxy,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """An S3 server whose answers drip from the first byte (status line, headers): HEAD ends with TIMEOUT."""
    s3_proxy.down_rate, s3_proxy.after = 1, 0
    host: Host = open_host(_s3(seaweed_s3, monkeypatch, s3_proxy, f"t{secrets.token_hex(4)}"))
    try:
        error = _ends_quickly(lambda: host.stat("index.json"))
        # the pace watchdog ("too slow") or, on a loaded machine, the socket's own 1 s timeout comes first
        assert "HEAD index.json: too slow" in error.reason or "HEAD index.json: timed out" in error.reason
    finally:
        host.close()


def test_s3_upload_to_a_slow_reader_is_cut(seaweed_s3: S3Server, s3_proxy: DripProxy, big: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The server takes a PUT at a byte a second after 64 KiB: the upload ends with TIMEOUT."""
    s3_proxy.up_rate = 1
    host = open_host(_s3(seaweed_s3, monkeypatch, s3_proxy, f"t{secrets.token_hex(4)}"))
    try:
        sha256 = hashlib.sha256(big.read_bytes()).hexdigest()
        error = _ends_quickly(lambda: host.upload("bundles/big.7z", big, sha256))
        assert "PUT bundles/big.7z:" in error.reason
    finally:
        host.close()
