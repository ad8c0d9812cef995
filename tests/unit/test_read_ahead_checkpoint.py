"""read_ahead's checkpoint: the reading thread waits at a block boundary until the caller decides what it wants
of the blocks to come (verify: once the signed list is known, a block nobody signed is never decoded). Each test
runs on the reading thread and in line (an archive that decodes to at most IN_LINE_BYTES), which keep one
contract."""

from __future__ import annotations

import threading
import time
from contextlib import closing
from pathlib import Path

import pytest

from mirror.sevenzip import Checkpoint, Limits, Member, ahead, read_ahead, read_archive
from mirror.sevenzip.writer import ArchiveWriter


@pytest.fixture(autouse=True, params=["thread", "in line"])
def way(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """On the reading thread (no archive is small enough to read in line), or in line (these all are)."""
    if request.param == "thread":
        monkeypatch.setattr(ahead, "IN_LINE_BYTES", -1)
    return str(request.param)


def _two_blocks(path: Path) -> Path:
    with ArchiveWriter.create(path) as writer:
        writer.add_block([("signed", b"s" * 1000)])
        writer.add_block([("rest", b"r" * 1000)])
    return path


def test_the_next_block_waits_for_the_decision_then_follows_it(tmp_path: Path) -> None:
    path = _two_blocks(tmp_path / "a.7z")
    asked: list[str] = []

    def want(member: Member) -> bool:
        asked.append(member.name)
        return member.name == "signed"

    with path.open("rb") as fp:
        checkpoint = Checkpoint(lambda member: member.name == "signed", 1)
        with closing(read_ahead(fp, read_archive(fp, Limits()), crc=False, want=want, checkpoint=checkpoint)) as pairs:
            member, chunks = next(pairs)
            assert member.name == "signed" and b"".join(chunks) == b"s" * 1000
            time.sleep(0.3)
            assert asked == ["signed"]  # the block after it is not even looked at before the decision
            checkpoint.decide()
            assert list(pairs) == []  # and then skipped, as `want` says
    assert asked == ["signed", "rest"]


def test_a_member_the_caller_does_not_read_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "a.7z"
    with ArchiveWriter.create(path) as writer:
        writer.add_block([("a", b"a" * 3000), ("b", b"b" * 2000)])
        writer.add_block([("c", b"c" * 1000)])
    seen = {}
    with path.open("rb") as fp, closing(read_ahead(fp, read_archive(fp, Limits()))) as pairs:
        for member, chunks in pairs:
            if member.name != "a":
                seen[member.name] = b"".join(chunks)
    assert seen == {"b": b"b" * 2000, "c": b"c" * 1000}


def test_a_caller_that_stops_at_the_checkpoint_ends_the_reading_thread(tmp_path: Path) -> None:
    path = _two_blocks(tmp_path / "a.7z")
    with path.open("rb") as fp:
        checkpoint = Checkpoint(lambda member: member.name == "signed", 1)
        with closing(read_ahead(fp, read_archive(fp, Limits()), crc=False, checkpoint=checkpoint)) as pairs:
            _, chunks = next(pairs)
            b"".join(chunks)  # then the caller fails (a bad signature) and never decides
    assert not [t for t in threading.enumerate() if t.name == "mirror-read-ahead" and t.is_alive()]


def test_a_decision_made_before_reading_starts_holds(tmp_path: Path, way: str) -> None:
    """A caller that knows what it wants before the first member decides at once: the reading thread, started
    later, must not wait for a decision already made (it waited for ever)."""
    path = _two_blocks(tmp_path / "a.7z")
    read: list[tuple[str, bytes]] = []

    def go() -> None:
        with path.open("rb") as fp:
            checkpoint = Checkpoint(lambda member: member.name == "signed", 1)
            checkpoint.decide()
            with closing(read_ahead(fp, read_archive(fp, Limits()), crc=False, checkpoint=checkpoint)) as pairs:
                read.extend((member.name, b"".join(chunks)) for member, chunks in pairs)

    reader = threading.Thread(target=go, daemon=True)
    reader.start()
    reader.join(10)
    assert not reader.is_alive(), f"read_ahead waited for a decision made before it started ({way})"
    assert read == [("signed", b"s" * 1000), ("rest", b"r" * 1000)]
