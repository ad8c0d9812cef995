"""hash_chunks, the loop every verify, extract and staging write goes through: the same SHA-256 and the same bytes
written whether chunks are hashed in line or beside the write on the helper thread, and a failed write ends it."""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from mirror.bundle.verify import hash_chunks


@pytest.mark.parametrize("seed", range(4))
def test_large_and_small_chunks_hash_and_write_in_order(tmp_path: Path, seed: int) -> None:
    rnd = random.Random(seed)
    chunks = [rnd.randbytes(rnd.choice((0, 1, 100, 65535, 65536, 1 << 20, 3 << 20))) for _ in range(40)]
    out = tmp_path / "out"
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    whole = b"".join(chunks)
    assert hash_chunks(iter(chunks), fd) == hashlib.sha256(whole).hexdigest() == hash_chunks(iter(chunks))
    assert out.read_bytes() == whole
    with pytest.raises(OSError):
        os.fstat(fd)  # closed


def test_a_write_that_fails_raises_and_closes(tmp_path: Path) -> None:
    """/dev/full: every write fails with ENOSPC, as on a full disk; the error comes out and the file is closed,
    with a chunk being hashed on the helper thread at the time."""
    fd = os.open("/dev/full", os.O_WRONLY)
    with pytest.raises(OSError, match="No space"):
        hash_chunks(iter([b"x" * (1 << 20)] * 4), fd)
    with pytest.raises(OSError):
        os.fstat(fd)
    fd = os.open(tmp_path / "again", os.O_WRONLY | os.O_CREAT, 0o600)  # the helper thread is still usable
    assert hash_chunks(iter([b"y" * (1 << 20)]), fd) == hashlib.sha256(b"y" * (1 << 20)).hexdigest()


def test_a_buffer_its_producer_fills_again_is_hashed_as_it_was_written() -> None:
    """Chunks wait for the hashing thread while the next is made: a producer that reuses one buffer must not change
    what is hashed after it was written."""
    rnd = random.Random(9)
    parts = [rnd.randbytes(8 << 20) for _ in range(6)]
    buffer = bytearray(8 << 20)

    def refilled() -> Iterator[bytearray]:
        for part in parts:
            buffer[:] = part
            yield buffer

    fd = os.open(os.devnull, os.O_WRONLY)  # writes take no time: the next refill comes while a hash waits
    assert hash_chunks(refilled(), fd) == hashlib.sha256(b"".join(parts)).hexdigest()  # type: ignore[arg-type]


def test_a_source_that_fails_with_chunks_queued_raises_and_closes(tmp_path: Path) -> None:
    """The source fails with several chunks waiting for the hashing thread: its error comes out, the file is
    closed, and the thread is free for the next caller."""
    def failing() -> Iterator[bytes]:
        for _ in range(6):
            yield b"z" * (1 << 20)
        raise OSError("the source ended")

    fd = os.open(tmp_path / "out", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with pytest.raises(OSError, match="the source ended"):
        hash_chunks(failing(), fd)
    with pytest.raises(OSError):
        os.fstat(fd)
    fd = os.open(tmp_path / "again", os.O_WRONLY | os.O_CREAT, 0o600)
    assert hash_chunks(iter([b"y" * (2 << 20)]), fd) == hashlib.sha256(b"y" * (2 << 20)).hexdigest()
