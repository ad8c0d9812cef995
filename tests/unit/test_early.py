"""fetch/early.py: the part file read as the bundle it will be, while a download appends to it."""

from __future__ import annotations

import io
import os
import threading
import time
from pathlib import Path

import pytest

from mirror.fetch.early import Abandoned, GrowingFile


class Part:
    """A part file, a download's end and its resets, as GrowingFile sees them."""

    def __init__(self, path: Path, whole: bytes) -> None:
        self.path, self.whole = path, whole
        self.over = threading.Event()
        self.generation = 0
        self.tails: list[int] = []

    def tail(self, start: int) -> bytes:
        self.tails.append(start)
        return self.whole[start:]

    def file(self) -> GrowingFile:
        return GrowingFile(self.path, len(self.whole), self.tail, lambda: self.generation == 0, self.over)

    def append(self, data: bytes) -> None:
        with self.path.open("ab") as out:
            out.write(data)


def _append_slowly(part: Part, data: bytes, pieces: int) -> threading.Thread:
    def work() -> None:
        step = -(-len(data) // pieces)
        for i in range(0, len(data), step):
            time.sleep(0.01)
            part.append(data[i : i + step])
        part.over.set()

    thread = threading.Thread(target=work)
    thread.start()
    return thread


def test_a_read_waits_for_the_bytes_the_download_appends(tmp_path: Path) -> None:
    whole = os.urandom(3 << 20)
    part = Part(tmp_path / "b.7z.part", whole)
    growing = part.file()
    growing.ahead = False
    thread = _append_slowly(part, whole, 40)  # the part does not even exist when the first read comes
    with io.BufferedReader(growing, 1 << 16) as fp:
        got = fp.read(1 << 20) + fp.read()
    thread.join()
    assert got == whole and not part.tails


def test_the_header_at_the_end_is_read_ahead_and_kept(tmp_path: Path) -> None:
    whole = os.urandom(1 << 20)
    part = Part(tmp_path / "b.7z.part", whole)
    part.append(whole[:32])
    growing = part.file()
    with io.BufferedReader(growing, 1 << 16) as fp:
        assert fp.read(32) == whole[:32]  # the start header: from the part
        fp.seek(len(whole) - 100)
        assert fp.read(100) == whole[-100:]  # ahead of the download: from a mirror
        fp.seek(len(whole) - 5000)  # further back (a packed header): the tail grows
        assert fp.read(4900) == whole[-5000:-100]
        assert part.tails == [len(whole) - 100, len(whole) - 5000]
        growing.ahead = False
        part.append(whole[32:])
        assert growing.holds(part.path)
        fp.seek(32)
        assert fp.read() == whole[32:]


def test_the_start_header_is_never_read_ahead(tmp_path: Path) -> None:
    """A small bundle is never fetched twice: the first bytes, and anything past the tail's reach, wait."""
    whole = os.urandom(4096)
    part = Part(tmp_path / "b.7z.part", whole)
    thread = _append_slowly(part, whole, 4)
    with io.BufferedReader(part.file(), 1 << 16) as fp:
        assert fp.read(32) == whole[:32]
    thread.join()
    assert not part.tails


def test_a_download_that_ends_short_abandons_the_read(tmp_path: Path) -> None:
    whole = os.urandom(1 << 20)
    part = Part(tmp_path / "b.7z.part", whole)
    part.append(whole[:1000])
    growing = part.file()
    growing.ahead = False
    threading.Timer(0.1, part.over.set).start()
    with io.BufferedReader(growing, 1 << 16) as fp:
        assert fp.read(1000) == whole[:1000]
        with pytest.raises(Abandoned):
            fp.read(1)


def test_bytes_thrown_away_abandon_the_read(tmp_path: Path) -> None:
    whole = os.urandom(1 << 20)
    part = Part(tmp_path / "b.7z.part", whole)
    part.append(whole[:1000])
    growing = part.file()
    growing.ahead = False

    def throw_away() -> None:
        part.path.unlink()
        part.generation += 1
        part.append(whole)  # a new part, complete: but not the file that was being read

    threading.Timer(0.1, throw_away).start()
    with io.BufferedReader(growing, 1 << 16) as fp:
        assert fp.read(1000) == whole[:1000]
        with pytest.raises(Abandoned):
            fp.read(1)


def test_a_tail_unlike_the_finished_file_does_not_hold(tmp_path: Path) -> None:
    """A mirror that answers the read ahead with other bytes than the file it serves: nothing read early counts."""
    whole = os.urandom(1 << 20)
    other = whole[:-10] + bytes(10)
    part = Part(tmp_path / "b.7z.part", other)  # the read ahead sees `other`
    part.append(whole[:32])
    growing = part.file()
    with io.BufferedReader(growing, 1 << 16) as fp:
        fp.seek(len(whole) - 100)
        assert fp.read(100) == other[-100:]
        part.append(whole[32:])
        assert not growing.holds(part.path)


def test_another_file_at_the_path_does_not_hold(tmp_path: Path) -> None:
    whole = os.urandom(1 << 16)
    part = Part(tmp_path / "b.7z.part", whole)
    part.append(whole)
    growing = part.file()
    with io.BufferedReader(growing, 1 << 16) as fp:
        assert fp.read() == whole
        assert growing.holds(part.path)
        elsewhere = tmp_path / "copy.7z"
        elsewhere.write_bytes(whole)
        assert not growing.holds(elsewhere)


def test_every_tail_read_ahead_is_compared_not_only_the_last(tmp_path: Path) -> None:
    """The first answer (the header's locator, parsed) was other bytes; a wider second answer is the truth. What was
    parsed from the first is not the file's: nothing read early holds."""
    whole = os.urandom(1 << 20)
    part = Part(tmp_path / "b.7z.part", whole)
    part.append(whole[:32])
    answers = iter([bytes(100), whole[-5000:]])
    growing = GrowingFile(part.path, len(whole), lambda start: next(answers), lambda: True, part.over)
    with io.BufferedReader(growing, 1 << 16) as fp:
        fp.seek(len(whole) - 100)
        assert fp.read(100) == bytes(100)
        fp.seek(len(whole) - 5000)
        assert fp.read(5000) == whole[-5000:]
        part.append(whole[32:])
        assert not growing.holds(part.path)


def test_never_more_than_an_eighth_of_the_file_is_read_ahead(tmp_path: Path) -> None:
    """The start header, which the mirror of the part chose, may point a "header" far back: that read waits for the
    download instead of fetching most of the file a second time."""
    whole = os.urandom(1 << 20)
    part = Part(tmp_path / "b.7z.part", whole)
    part.append(whole[:32])
    growing = part.file()
    part.over.set()  # the download ended here: a read that waits gives up at once
    with io.BufferedReader(growing, 1 << 16) as fp:
        fp.seek(len(whole) - len(whole) // 8)
        assert fp.read(100) == whole[-(len(whole) // 8) :][:100]  # an eighth: read ahead
        fp.seek(len(whole) - len(whole) // 8 - 1)
        with pytest.raises(Abandoned):
            fp.read(100)
    assert part.tails == [len(whole) - len(whole) // 8]
