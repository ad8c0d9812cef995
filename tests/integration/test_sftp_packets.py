"""A hostile SFTP server cannot make the SFTP driver copy a packet over and over, or hold one of up to 16 MiB:
paramiko's client read each packet by `out += channel.recv(n)`, so a 16 MiB packet sent a few bytes at a time
cost about n²/2 bytes of copying, a core busy until the host's watch ended it (helper-pub)."""

from __future__ import annotations

import pytest

from mirror.errors import Failure, TransferError
from mirror.publish.hosts import open_host
from mirror.publish.hosts.sftp_framed import MAX_PACKET, Framed, PacketTooLong
from mirror.record import replace
from servers import SftpServer


def test_a_packet_longer_than_the_limit_is_refused_when_its_length_arrives(
        sshd_hostile_sftp: SftpServer) -> None:
    host = open_host(replace(sshd_hostile_sftp.host_config(), timeout=2.0))
    try:
        with pytest.raises(TransferError) as caught:
            host.stat("bundles/a.7z")
        assert caught.value.failure is Failure.BAD_ANSWER and not caught.value.transient
        assert f"an SFTP packet of {0xFFFFFF:,} bytes, more than {MAX_PACKET:,}" in caught.value.reason
    finally:
        host.close()


def test_an_answer_to_a_read_longer_than_was_asked_is_refused(sshd_hostile_sftp: SftpServer) -> None:
    """paramiko asks 32 KiB a read and kept whatever length came (a file of 64 KiB read as 512 KiB answers, each
    held until read, and asked again and again to the reader's limit)."""
    host = open_host(replace(sshd_hostile_sftp.host_config(), timeout=2.0))
    try:
        with pytest.raises(TransferError) as caught:
            host.read("index.json", 8 << 20)
        assert caught.value.failure is Failure.BAD_ANSWER and not caught.value.transient
        assert f"answered a read with {512 << 10:,} bytes, more than the 32,768 asked" in caught.value.reason
    finally:
        host.close()


def test_an_answer_of_the_wrong_kind_is_a_host_failure(sshd_hostile_sftp: SftpServer) -> None:
    """paramiko raises its SFTPError (no OSError, no SSHException) for a well-formed answer of the wrong kind
    (attributes where a handle is due): it went past the driver's handling, as no TransferError."""
    host = open_host(replace(sshd_hostile_sftp.host_config(), timeout=2.0))
    try:
        with pytest.raises(TransferError) as caught:
            host.sizes("bundles")
        assert caught.value.failure is Failure.BAD_ANSWER and not caught.value.transient
        assert "an SFTP answer that makes no sense (Expected handle)" in caught.value.reason
    finally:
        host.close()


def test_reads_answered_out_of_order_are_held_one_window_at_most(sshd_reverse_sftp: SftpServer) -> None:
    """paramiko's prefetch asked for a whole file at once and kept every answer until the one for the next offset
    came: a server answering last first made the reader hold the whole file (64 MiB here, a bundle of GBs read back
    after its upload). Reads now ask one window ahead, and what they hold stays about that (windows that overlapped
    held twice as much and more, answers that came twice kept for good)."""
    import tracemalloc

    from hostile_sftp import REVERSE_SIZE
    from mirror.publish.hosts.sftp import WINDOW

    host = open_host(replace(sshd_reverse_sftp.host_config(), timeout=10.0))
    tracemalloc.start()
    try:
        got = sum(len(chunk) for chunk in host.stream("bundles/a.7z"))
        _, peak = tracemalloc.get_traced_memory()
        assert got == REVERSE_SIZE
        assert peak < 2 * WINDOW < REVERSE_SIZE // 2, f"{peak:,} bytes held"
        assert len(host.read("index.json", REVERSE_SIZE)) == REVERSE_SIZE
    finally:
        tracemalloc.stop()
        host.close()


class _Trickle:
    """A channel that gives one byte a call, as a server sending tiny SSH messages does."""

    def __init__(self, data: bytes) -> None:
        self.data, self.calls = data, 0

    def recv(self, n: int) -> bytes:
        self.calls += 1
        chunk, self.data = self.data[:1], self.data[1:]
        return chunk


def test_a_packet_is_read_whole_in_one_recv_and_followed_across_packets() -> None:
    """paramiko asks for the 4 bytes of a length, then for the packet: each comes back whole from one call, so its
    own loop appends once; the boundaries are followed whatever sizes are asked."""
    packets = [bytes([1]) * 300, bytes([2]) * 5000, b""]
    stream = b"".join(len(p).to_bytes(4, "big") + p for p in packets)
    framed = Framed(_Trickle(stream))  # type: ignore[arg-type]
    for packet in packets:
        assert framed.recv(4) == len(packet).to_bytes(4, "big")
        assert framed.recv(len(packet)) == packet
    assert framed.recv(4) == b""  # the end of the stream
    odd = Framed(_Trickle(stream + (MAX_PACKET + 1).to_bytes(4, "big")))  # type: ignore[arg-type]
    assert odd.recv(len(stream)) == stream  # one read across every packet
    with pytest.raises(PacketTooLong):
        odd.recv(7)
    with pytest.raises(PacketTooLong):  # the session is out of step: nothing more is read
        odd.recv(1)
    data = (9 + 100).to_bytes(4, "big") + bytes([103]) + bytes(8 + 100)  # a DATA packet with 100 bytes
    assert Framed(_Trickle(data), data_limit=100).recv(len(data)) == data  # type: ignore[arg-type]
    with pytest.raises(PacketTooLong, match="answered a read with 100 bytes, more than the 99 asked"):
        Framed(_Trickle(data), data_limit=99).recv(len(data))  # type: ignore[arg-type]
