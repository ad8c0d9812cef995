"""Parts of a bundle (docs/resharing.md): the part marker, sizes, and the channel presets.

Example::

    marker = PartMarker(2, 3)
    marker.to_bytes()                      # b'{"format":"mirror-part/1","part":2,"parts":3}\\n'
    PartMarker.from_bytes(raw)             # strict; ArchiveError on anything else
    part_member(layout)                    # ".mirror/part.json" (format 2) or "part.json" (format 1)
    parse_size("48M")                      # 48_000_000
    CHANNELS["email"].usable               # what fits in one e-mail after base64

A part is a bundle that carries the author's signed files whole and a subset of the listed files. The marker
only says "this is part 2 of 3"; nobody signs it, so it is trusted for nothing but that report: the signature
and the hashes still decide, and a verifier reports every file a part lacks.
"""

from __future__ import annotations

import json
import re

from mirror.errors import ArchiveError, ConfigError
from mirror.formats.manifest import Layout
from mirror.record import record

PART_NAME = "part.json"
PART_FORMAT = "mirror-part/1"
MAX_PART_BYTES = 256
MAX_PARTS = 1000
MAX_SIZE = 10**12  # the largest part: 1 TB
_MARKER = re.compile(rb'\{"format":"mirror-part/1","part":([1-9][0-9]{0,3}),"parts":([1-9][0-9]{0,3})\}\n')
_SIZE = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*(|k|kb|kib|m|mb|mib|g|gb|gib|t|tb|tib|b)", re.I)
_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "kib": 1 << 10, "m": 10**6, "mb": 10**6, "mib": 1 << 20,
          "g": 10**9, "gb": 10**9, "gib": 1 << 30, "t": 10**12, "tb": 10**12, "tib": 1 << 40}


def part_member(layout: Layout) -> str:
    """The member name of the part marker in a bundle of this layout."""
    return layout.member(PART_NAME)


@record
class PartMarker:
    """"Part `number` of `count`": unsigned, used only to report what a part is."""

    number: int
    count: int

    def __post_init__(self) -> None:
        if not 1 <= self.number <= self.count or not 2 <= self.count <= MAX_PARTS:
            raise ArchiveError(f"the part marker says part {self.number} of {self.count}, which cannot be")

    def to_bytes(self) -> bytes:
        """The exact bytes written into a part."""
        doc = {"format": PART_FORMAT, "part": self.number, "parts": self.count}
        return json.dumps(doc, separators=(",", ":")).encode() + b"\n"

    @classmethod
    def from_bytes(cls, raw: bytes) -> PartMarker:
        """Parse a marker exactly as `to_bytes` writes it.

        Raises:
            ArchiveError: anything else.
        """
        match = _MARKER.fullmatch(raw[: MAX_PART_BYTES + 1])
        if match is None:
            raise ArchiveError(f"the part marker {PART_NAME} is malformed")
        return cls(int(match[1]), int(match[2]))


def parse_size(text: str) -> int:
    """A size such as 48M, 48MB (10^6 bytes), 45MiB (2^20 bytes), 500k or 1000000.

    Raises:
        ConfigError: not a size.
    """
    match = _SIZE.fullmatch(text.strip())
    text = text.strip() if len(text.strip()) <= 40 else text.strip()[:40] + "..."  # as it is shown
    if match is None:
        raise ConfigError(f"{text!r} is not a size", hint="write it like 48M (megabytes), 45MiB or 20000000")
    from decimal import Decimal  # here: every verify reads this module, only split parses a size

    size = Decimal(match[1]) * _UNITS[match[2].lower()]  # exact decimal: no float noise, no overflow
    if size > MAX_SIZE:
        raise ConfigError(f"{text} is more than {MAX_SIZE:,} bytes", hint="a part is at most 1T")
    if int(size) < 1:
        raise ConfigError(f"{text} is less than one byte", hint="a part holds the signed files too: give a size "
                                                                 "like 500k or 48M")
    return int(size)


@record
class Channel:
    """A channel's limit on one file, and how much of a bundle fits under it (docs/resharing.md has the sources)."""

    name: str
    limit: int  # what the service documents, in bytes
    usable: int  # the largest part to make: the limit less encoding overhead and a margin


CHANNELS = {channel.name: channel for channel in (
    Channel("telegram-bot", 50 * 10**6, 48 * 10**6),  # Bot API sendDocument: 50 MB
    Channel("signal", 100 * 10**6, 95 * 10**6),  # 100 MB per attachment
    Channel("email", 20 * 10**6, 14 * 10**6),  # 20 MB per encoded message; base64 and lines: about 1.37x
    Channel("whatsapp", 100 * 10**6, 95 * 10**6),  # 2 GB documents in recent apps, 100 MB in older ones
)}
