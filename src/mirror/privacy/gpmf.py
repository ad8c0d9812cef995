"""The camera's serial number and the photo's unique id in a GoPro's APP6 "GoPro" segment (GPMF).

Example::

    scan_gpmf(app6_payload[6:])   # [("serial", "GoPro CameraSerialNumber C3221324545448"),
                                  #  ("unique-id", "GoPro MediaUniqueID e76b316787c8ac70...")]

GPMF (github.com/gopro/gpmf-parser) is a list of entries: a four-letter key, a type byte (0 for a list of further
entries), the size of one value, how many values (big-endian 16-bit), then the values, padded to 4 bytes. Keys and
how they read follow exiftool's GoPro.pm: CASN, the camera's serial; MUID, the media's unique id (eight 32-bit
numbers, shown in hex as exiftool shows them); LINF, which holds the lens's serial (exiftool leaves it unnamed).
"""

from __future__ import annotations

import struct

from mirror.privacy.findings import Found, empty_value, short

# key -> (kind, name)
_NAMED = {b"CASN": ("serial", "CameraSerialNumber"), b"MUID": ("unique-id", "MediaUniqueID"),
          b"LINF": ("serial", "LINF")}
_DEPTH = 8  # lists within lists; GoPro's go two deep
# entries read of one segment: more than it can hold (at most 8,191 of the smallest, 8 bytes, in each of _DEPTH + 1
# levels), so none is left unread (4,096 left a serial after 5,000 TICKs unnamed); a bound all the same
_ENTRIES = 1 << 16


def _value(kind: int, data: bytes) -> str:
    """A value as exiftool prints it: text, or 32-bit numbers in hex run together (MUID), else hex."""
    if kind == ord("c"):
        text = data.split(b"\0", 1)[0].decode("utf-8", "replace").strip()
        return "" if empty_value(text) else text
    if kind == ord("L") and len(data) % 4 == 0:
        return "".join(f"{number:08x}" for (number,) in struct.iter_unpack(">I", data)) if any(data) else ""
    return data.hex() if any(data) else ""


def scan_gpmf(data: bytes) -> list[Found]:
    """The named entries of GPMF data, in every list, each once per value; [] when there are none."""
    found: list[Found] = []
    lists = [(data, 0)]
    read = 0
    while lists and read < _ENTRIES:
        block, depth = lists.pop()
        pos = 0
        while pos + 8 <= len(block) and read < _ENTRIES:
            key, kind, size, count = struct.unpack_from(">4sBBH", block, pos)
            end = pos + 8 + size * count
            if end > len(block) or key == b"\0\0\0\0":
                break
            read += 1
            if kind == 0 and depth < _DEPTH:
                lists.append((block[pos + 8:end], depth + 1))
            elif key in _NAMED and (value := _value(kind, block[pos + 8:end])):
                what, name = _NAMED[key]
                found.append((what, short(f"GoPro {name} {value}")))
            pos += 8 + (size * count + 3) // 4 * 4
    return list(dict.fromkeys(found))
