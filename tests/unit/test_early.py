"""fetch/early.py: the part file read as the bundle it will be, while a download appends to it."""

from __future__ import annotations

import io
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from mirror.fetch.early import AT_ONCE, EARLY_MIN, Abandoned, EarlyCheck, GrowingFile, gate
from mirror.formats.index import BundleEntry
from mirror.trust.keyset import TrustedKeys
from mirror.trust.policy import AuthorTrusted


class Part:
    """A part file, a download's end and its resets, as GrowingFile sees them."""

    def __init__(self, path: Path, whole: bytes) -> None:
        self.path, self.whole = path, whole
        self.over = threading.Event()
        self.generation = 0
        self.tails: list[int] = []

    def tail(self, start: int) -> tuple[bytearray, str]:
        self.tails.append(start)
        return bytearray(self.whole[start:]), "a mirror"

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
    answers = iter([bytearray(100), bytearray(whole[-5000:])])
    growing = GrowingFile(part.path, len(whole), lambda start: (next(answers), "a mirror"), lambda: True, part.over)
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


def test_a_check_no_longer_wanted_reads_nothing_more(tmp_path: Path) -> None:
    """Nothing arrived for the caller (a failed download, Ctrl-C): the bytes already in the part are not read."""
    whole = os.urandom(1 << 20)
    part = Part(tmp_path / "b.7z.part", whole)
    part.append(whole)
    growing = part.file()
    growing.ahead = False
    with io.BufferedReader(growing, 1 << 16) as fp:
        assert fp.read(1000) == whole[:1000]
        growing.cancelled.set()
        with pytest.raises(Abandoned):
            fp.read()


def test_a_narrower_tail_is_let_go_before_a_wider_one_arrives(tmp_path: Path) -> None:
    whole = os.urandom(1 << 20)
    part = Part(tmp_path / "b.7z.part", whole)
    part.append(whole[:32])
    held: list[int] = []

    def tail(start: int) -> tuple[bytearray, str]:
        held.append(len(growing.tail))
        return bytearray(whole[start:]), "a mirror"

    growing = GrowingFile(part.path, len(whole), tail, lambda: True, part.over)
    with io.BufferedReader(growing, 1 << 16) as fp:
        fp.seek(len(whole) - 100)
        fp.read(100)
        fp.seek(len(whole) - 5000)
        fp.read(100)
    assert held == [0, 0]


def test_a_drive_that_fails_when_compared_does_not_hold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = os.urandom(1 << 20)
    part = Part(tmp_path / "b.7z.part", whole)
    part.append(whole[:32])
    growing = part.file()
    with io.BufferedReader(growing, 1 << 16) as fp:
        fp.seek(len(whole) - 100)
        fp.read(100)
        part.append(whole[32:])
        assert growing.holds(part.path)

        def failing(fd: int, n: int, at: int) -> bytes:
            raise OSError(5, "Input/output error")

        monkeypatch.setattr(os, "pread", failing)
        assert not growing.holds(part.path)


class _Download:
    """What EarlyCheck uses of a Download: its part, whether it threw bytes away, and the mirrors' reports."""

    def __init__(self, part: Path) -> None:
        self.part = part
        self.growing = type("Growing", (), {"generation": 0})()
        self.reports: dict[str, object] = {}


def _check(tmp_path: Path, gate: threading.BoundedSemaphore, cls: type[EarlyCheck] = EarlyCheck) -> EarlyCheck | None:
    part = tmp_path / "b.7z.part"
    part.write_bytes(os.urandom(EARLY_MIN))  # not a bundle: the check ends at once, finding nothing
    entry = BundleEntry(id="b", version=1, title="b", path="bundles/b.7z", sha256="0" * 64, size=EARLY_MIN,
                        author_key="0" * 16)
    return cls.begin(entry, _Download(part), [], TrustedKeys(), AuthorTrusted(), gate)  # type: ignore[arg-type]


def test_checks_at_once_are_bounded_until_answered(tmp_path: Path) -> None:
    """`fetch --parallel` places bundles in order: a check whose thread is done still holds its findings and an
    open file until it is answered, so no more than AT_ONCE exist; the next begins once one is answered."""
    one = gate()
    first = _check(tmp_path, one)
    others = [_check(tmp_path, one) for _ in range(AT_ONCE - 1)]
    assert first is not None and None not in others
    first._thread.join()  # the check itself is over, not yet answered
    assert _check(tmp_path, one) is None
    assert first.result(None) is None
    assert first.result(None) is None  # answered twice (an interrupted fetch answers them all): released once
    second = _check(tmp_path, one)
    assert second is not None and second.result(None) is None
    for other in others:
        assert other is not None and other.result(None) is None
    for _ in range(AT_ONCE):
        assert one.acquire(blocking=False)
    assert not one.acquire(blocking=False)


def test_a_begin_interrupted_as_its_thread_starts_releases_the_gate_once(tmp_path: Path) -> None:
    class Interrupted(EarlyCheck):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            start = self._thread.start

            def started_then_interrupted() -> None:
                start()
                raise KeyboardInterrupt

            self._thread.start = started_then_interrupted  # type: ignore[method-assign]

    one = gate()
    with pytest.raises(KeyboardInterrupt):
        _check(tmp_path, one, Interrupted)
    with pytest.raises(ValueError):  # a BoundedSemaphore released more often than acquired: not here
        one.release()


def test_a_closed_part_is_never_opened_again(tmp_path: Path) -> None:
    """result() closes the part while a check may still be reading (a second Ctrl-C during its join): a read after
    that ends the check instead of opening the part again."""
    whole = os.urandom(1 << 16)
    part = Part(tmp_path / "b.7z.part", whole)
    part.append(whole)
    growing = part.file()
    growing.ahead = False
    assert growing._length() == len(whole)
    growing.close()
    with pytest.raises(Abandoned):
        growing._length()
    assert growing._fd is None
