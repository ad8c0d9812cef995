"""Bencode (BEP 3), the encoding of .torrent files: deterministic out, strict and bounded in.

Example::

    raw = bencode({b"length": 5, b"name": b"a.7z"})   # b"d6:lengthi5e4:name4:a.7ze"
    assert bdecode(raw, limit=1 << 20) == {b"length": 5, b"name": b"a.7z"}

Only the canonical encoding is accepted (keys sorted and unique, no leading zeros,
no "-0"): a file decodes only if encoding the result gives the same bytes back, so
the info hash of what was read is the info hash of what was checked. Strings are
bytes; callers decode UTF-8 where the format says so.
"""

from __future__ import annotations

from mirror.errors import ManifestError

Value = int | bytes | list["Value"] | dict[bytes, "Value"]
MAX_DEPTH = 16


def bencode(value: Value) -> bytes:
    """The canonical encoding: dictionary keys sorted as raw bytes."""
    out: list[bytes] = []
    _encode(value, out)
    return b"".join(out)


def _encode(value: Value, out: list[bytes]) -> None:
    if isinstance(value, bool):
        raise TypeError("bencode has no booleans")
    if isinstance(value, int):
        out.append(b"i%de" % value)
    elif isinstance(value, bytes):
        out.append(b"%d:%s" % (len(value), value))
    elif isinstance(value, list):
        out.append(b"l")
        for item in value:
            _encode(item, out)
        out.append(b"e")
    elif isinstance(value, dict):
        out.append(b"d")
        for key in sorted(value):
            _encode(key, out)
            _encode(value[key], out)
        out.append(b"e")
    else:
        raise TypeError(f"bencode cannot encode {type(value).__name__}")


def bdecode(raw: bytes, limit: int, what: str = "torrent") -> Value:
    """Decode one canonical bencoded value that fills `raw` exactly.

    Raises:
        ManifestError: too large, too deep, malformed, trailing bytes, or not canonical.
    """
    if len(raw) > limit:
        raise ManifestError(f"{what} is larger than {limit} bytes")
    try:
        value, end = _decode(raw, 0, 0)
    except (ValueError, IndexError, RecursionError):
        raise ManifestError(f"{what} is not valid bencode") from None
    if end != len(raw):
        raise ManifestError(f"{what} has bytes after its end")
    if bencode(value) != raw:
        raise ManifestError(f"{what} is not canonically encoded (unsorted or repeated keys, or padded numbers)")
    return value


def _decode(raw: bytes, at: int, depth: int) -> tuple[Value, int]:
    if depth > MAX_DEPTH:
        raise ValueError("too deep")
    lead = raw[at : at + 1]
    if lead == b"i":
        end = raw.index(b"e", at)
        return int(raw[at + 1 : end].decode("ascii"), 10), end + 1
    if lead == b"l":
        items: list[Value] = []
        at += 1
        while raw[at : at + 1] != b"e":
            item, at = _decode(raw, at, depth + 1)
            items.append(item)
        return items, at + 1
    if lead == b"d":
        table: dict[bytes, Value] = {}
        at += 1
        while raw[at : at + 1] != b"e":
            key, at = _decode(raw, at, depth + 1)
            if not isinstance(key, bytes):
                raise ValueError("dictionary key is not a string")
            table[key], at = _decode(raw, at, depth + 1)
        return table, at + 1
    if lead.isdigit():
        colon = raw.index(b":", at)
        length = int(raw[at:colon].decode("ascii"), 10)
        start = colon + 1
        if start + length > len(raw):
            raise ValueError("string runs past the end")
        return raw[start : start + length], start + length
    raise ValueError("unknown type")
