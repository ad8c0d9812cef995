"""The end of a JPEG scan found by one regular expression equals the byte-by-byte rule libjpeg follows."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mirror.errors import PhotoError
from mirror.privacy.cursor import Cursor
from mirror.privacy.jpeg import JpegWalk


def _reference(data: bytes, pos: int) -> int:
    """The rule, a byte at a time: stuffing and restart markers skip two bytes, fill bytes one."""
    while True:
        found = data.find(b"\xff", pos)
        if found < 0 or found + 1 >= len(data):
            return -1
        follower = data[found + 1]
        if follower == 0 or 0xD0 <= follower <= 0xD7:
            pos = found + 2
        elif follower == 0xFF:
            pos = found + 1
        else:
            return found


def _walk_end(cursor: Cursor, pos: int) -> int:
    try:
        return JpegWalk(cursor, "x.jpg")._scan_end(pos)
    except PhotoError:
        return -1


_BYTES = st.lists(st.sampled_from([0x00, 0xFF, 0xD0, 0xD7, 0xD8, 0xD9, 0xC4, 0x12, 0x01]), max_size=200).map(bytes)


@settings(max_examples=400, deadline=None)
@given(data=_BYTES, pos=st.integers(0, 10), chunk=st.integers(1, 7))
def test_the_same_end_in_memory_and_in_a_stream(data: bytes, pos: int, chunk: int) -> None:
    expected = _reference(data, pos)
    assert _walk_end(Cursor(data), pos) == expected
    pieces = [data[i:i + chunk] for i in range(0, len(data), chunk)]
    assert _walk_end(Cursor.of_chunks(pieces), pos) == expected


@pytest.mark.parametrize(("data", "end"), [
    (b"\x12\xff\x00\x34\xff\xd3\x56\xff\xff\xd9", 8),  # stuffing, a restart, a fill byte, then EOI
    (b"\x12\xff\x00", -1),  # stuffed 0xFF at the very end: truncated
    (b"\x12\xff", -1),  # a lone 0xFF at the end: truncated
    (b"\xff\xc4\x00", 0),  # a table between scans ends the scan
])
def test_examples(data: bytes, end: int) -> None:
    assert _walk_end(Cursor(data), 0) == end == _reference(data, 0)
