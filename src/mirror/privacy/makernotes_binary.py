"""Serial numbers in maker notes that are no IFD: blocks of fields at fixed places, as exiftool reads them.

Example::

    scan_binary_note(note, "RECONYX")   # [("serial", "maker-note SerialNumber H500DE01234567"), ...]

Layouts and conditions follow exiftool's MakerNotes.pm and each maker's module: Reconyx.pm (Main, Type2,
Type3: trail cameras, whose UserLabel names a site or an owner) and Kodak.pm (Type7, whose note starts with
its serial).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from mirror.privacy.findings import Found, empty_value, short
from mirror.record import record


@record
class _Field:
    """One field of a block: where, how long, how it is written, and what it is."""

    at: int
    size: int
    codec: str  # "latin-1", "utf-16-le" or "hex"
    kind: str
    label: str


_KODAK7 = re.compile(rb"[CK][A-Z\d]{3} ?[A-Z\d]{1,2}\d{2}[A-Z\d]\d{4}[ \0]")
# (whether a note is of this layout, given its bytes and the lower-case Make; its fields)
_LAYOUTS: tuple[tuple[Callable[[bytes, str], bool], tuple[_Field, ...]], ...] = (
    # Reconyx Main: 0x01F1, then a version, or a Make of RECONYX; fields at int16u indexes 0x15 and 0x2B
    (lambda note, make: note.startswith(b"\x01\xf1") and (note[2:4] in (b"\x02\0", b"\x03\0") or make == "reconyx"),
     (_Field(0x2A, 30, "utf-16-le", "serial", "SerialNumber"), _Field(0x56, 22, "latin-1", "text", "UserLabel"))),
    (lambda note, make: note.startswith(b"RECONYXUF\0"),  # Type2 (UltraFire)
     (_Field(0x4B, 15, "latin-1", "serial", "SerialNumber"), _Field(0x5A, 21, "latin-1", "text", "UserLabel"))),
    (lambda note, make: note.startswith(b"RECONYXH2\0"),  # Type3 (HF2 PRO)
     (_Field(0x7E, 30, "utf-16-le", "serial", "SerialNumber"), _Field(0x68, 22, "latin-1", "text", "UserLabel"))),
    (lambda note, make: "kodak" in make and _KODAK7.match(note) is not None,  # Kodak Type7: the serial first
     (_Field(0, 16, "latin-1", "serial", "SerialNumber"),)),
)


def block_text(raw: bytes, codec: str) -> str:
    """A field's bytes as text, from its first character that is no NUL to the next NUL (UTF-16 in units: a serial
    after NULs, which a reader stopping at the first shows as empty, is shown, as makernotes._value shows one), ""
    when that shows nothing; in hex ("0x...") for codec "hex" unless they are all zero."""
    if codec == "hex":
        return "0x" + raw.hex() if raw.strip(b"\0") else ""
    text = raw.decode(codec, "replace").lstrip("\0").split("\0", 1)[0].strip()
    return "" if empty_value(text) else text


def scan_binary_note(note: bytes, make: str) -> list[Found] | None:
    """The serial numbers (and labels) of a maker note of a block layout; None for a note of none (it may be an
    IFD: makernotes.py reads it then)."""
    make = make.strip().lower()
    for matches, fields in _LAYOUTS:
        if matches(note, make):
            return [(field.kind, f"maker-note {field.label} {short(text)}") for field in fields
                    if (text := block_text(note[field.at:field.at + field.size], field.codec))]
    return None
