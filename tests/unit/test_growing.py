"""fetch/growing.py: the hash of a partial download kept up while it is appended to."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from mirror.fetch.growing import GrowingHash


def _append(path: Path, data: bytes) -> None:
    with path.open("ab") as out:
        out.write(data)


def test_the_hash_of_a_file_appended_to_while_it_is_followed(tmp_path: Path) -> None:
    part = tmp_path / "x.part"
    growing = GrowingHash(part)
    pieces = [os.urandom(n) for n in (1, 5 << 20, 3, 1 << 20)]
    with growing.following():
        for piece in pieces:
            _append(part, piece)
    whole = b"".join(pieces)
    assert growing.hexdigest(len(whole)) == hashlib.sha256(whole).hexdigest()


def test_bytes_from_an_earlier_run_are_hashed_too(tmp_path: Path) -> None:
    part = tmp_path / "x.part"
    part.write_bytes(b"earlier")
    growing = GrowingHash(part)
    with growing.following():
        _append(part, b" and now")
    assert growing.hexdigest(15) == hashlib.sha256(b"earlier and now").hexdigest()


def test_a_file_thrown_away_and_begun_again_is_hashed_from_its_first_byte(tmp_path: Path) -> None:
    part = tmp_path / "x.part"
    growing = GrowingHash(part)
    with growing.following():
        _append(part, b"bytes from a mirror that ignored Range")
        part.unlink()
        growing.reset()
        _append(part, b"the whole file")
    assert growing.hexdigest(14) == hashlib.sha256(b"the whole file").hexdigest()


def test_no_hash_unless_the_file_is_exactly_the_size_asked(tmp_path: Path) -> None:
    part = tmp_path / "x.part"
    growing = GrowingHash(part)
    assert growing.hexdigest(0) is None  # no file at all
    _append(part, b"abc")
    assert growing.hexdigest(4) is None
    assert growing.hexdigest(3) == hashlib.sha256(b"abc").hexdigest()
    _append(part, b"d")
    assert growing.hexdigest(3) is None  # it grew past the size: what is hashed is not what is there


def test_a_link_in_place_of_the_part_is_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_bytes(b"abc")
    part = tmp_path / "x.part"
    part.symlink_to(target)
    assert GrowingHash(part).hexdigest(3) is None
