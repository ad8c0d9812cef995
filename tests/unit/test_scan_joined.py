"""Metadata spread over several JPEG segments is read joined, within bounds; XMP's reading stays linear.

EXIF that runs on into further APP1 "Exif" segments is joined as exiftool joins it (ExifTool.pm, ProcessJPEG:
consecutive segments, each after its header); extended XMP (XMP part 3, 1.1.3.1) is put together by GUID and
offset. The photos are built by hand and exiftool reads each planted value back before the scan is asked.
"""

from __future__ import annotations

import time

import pytest

from helpers import assert_linear
from mirror.privacy.scan_blocks import scan_xmp


@pytest.mark.parametrize("unit", ["a", "a:", "<a:a ", "<", "a:a="])
def test_reading_xmp_costs_time_in_step_with_its_length(unit: str) -> None:
    """A name pattern tried at every letter of a run of them cost the square of the run's length: 64 KiB of "a" in
    one XMP segment held a scan 10 s, a PNG's 1 MiB packet hours."""
    assert_linear(lambda text: scan_xmp(text.encode()), unit)


def test_a_named_value_of_angle_brackets_costs_no_more_than_one_of_spaces() -> None:
    """A value's tags are taken out to show its text: a "<" was tried to the value's end (4,000 bytes) for each
    "<" in it, so 80 values of them took 1.4 s where as many of spaces take 0.01 s."""
    def timed(fill: bytes) -> float:
        packet = (b"<dc:creator>" + fill * 3980 + b"</dc:creator>") * 80
        start = time.perf_counter()
        scan_xmp(packet)
        return time.perf_counter() - start

    brackets = spaces = float("inf")
    for _ in range(3):
        brackets, spaces = min(brackets, timed(b"<")), min(spaces, timed(b" "))
    assert brackets < 10 * spaces + 0.05, (brackets, spaces)
