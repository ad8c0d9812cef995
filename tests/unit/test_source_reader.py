"""publish/hosts SourceReader: what an upload reads, hashed on a second thread only when read once in order."""

from __future__ import annotations

import hashlib
import io
import os
import threading

from mirror.publish.hosts import SourceReader


def _reader(data: bytes) -> SourceReader:
    return SourceReader(io.BytesIO(data), len(data))


def _drain(reader: SourceReader, block: int) -> bytes:
    out = bytearray()
    while chunk := reader.read(block):
        out += chunk
    return bytes(out)


def test_bytes_read_once_in_order_are_hashed() -> None:
    data = os.urandom(5 << 20)
    reader = _reader(data)
    assert _drain(reader, 1 << 20) == data
    assert reader.sent_sha256() == hashlib.sha256(data).hexdigest()
    reader.close()
    assert reader.sent_sha256() == hashlib.sha256(data).hexdigest()  # closing keeps the answer


def test_a_rewind_to_the_start_hashes_the_second_reading_only() -> None:
    data = os.urandom(300_000)
    reader = _reader(data)
    reader.read(100_000)
    reader.seek(0)  # a retry, or botocore signing the body first
    assert _drain(reader, 65536) == data
    assert reader.sent_sha256() == hashlib.sha256(data).hexdigest()


def test_a_jump_or_an_unfinished_read_gives_no_hash() -> None:
    data = os.urandom(300_000)
    reader = _reader(data)
    reader.read(1000)
    reader.seek(5000)
    _drain(reader, 65536)
    assert reader.sent_sha256() is None  # bytes 1000-5000 were never sent
    partial = _reader(data)
    partial.read(1000)
    assert partial.sent_sha256() is None
    partial.close()
    assert partial.sent_sha256() is None


def test_an_empty_file_hashes_as_empty() -> None:
    assert _reader(b"").sent_sha256() == hashlib.sha256(b"").hexdigest()


def _hashing_threads() -> int:
    return sum(1 for thread in threading.enumerate() if thread.name == "mirror-hash-behind")


def test_no_hashing_thread_is_left_behind() -> None:
    """Counted by name: other tests' daemon threads (a server's, kept alive until a session is collected) may end
    meanwhile; so may another test's hashing thread, so those are waited for first."""
    for thread in threading.enumerate():
        if thread.name == "mirror-hash-behind":
            thread.join(5)
    before = _hashing_threads()
    for _ in range(20):
        reader = _reader(os.urandom(200_000))
        reader.read(50_000)
        reader.close()  # given up half way: its thread ends too
        done = _reader(os.urandom(200_000))
        _drain(done, 65536)
        done.sent_sha256()
    for thread in threading.enumerate():
        if thread.name == "mirror-hash-behind":
            thread.join(5)
    assert _hashing_threads() == before
