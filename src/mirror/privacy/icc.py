"""Colour profiles kept in a cleaned JPEG: the published standard ones, byte for byte, and nothing else.

Example::

    standard_profile(profile)                  # "Display P3" or "Adobe RGB (1998)", or None
    standard_icc([(1, 1)], profile)            # True: one whole segment of a standard profile

A JPEG without its profile is shown as sRGB: a photo in Display P3 (iPhones sharing "Most Compatible" JPEGs) or
Adobe RGB (cameras set to it) loses colour, by 10 levels on average for Adobe RGB. A profile can also name a
person or a device (a calibrated display's), and its header holds dates and ids, so only profiles that are
exactly one of these published files, compared by SHA-256, are kept. Any other goes, as before.
"""

from __future__ import annotations

import hashlib
import struct
import zlib

# SHA-256 of the profile bytes (after the JPEG segments' 14-byte headers are joined away) -> its name.
STANDARD_PROFILES = {
    "20789fdbea9835251a4f0796c8bf45cbd964896044886540da21ffc7457af0ab": "Display P3",  # Apple, 2022
    "e5f6ffb83b6d3491301dd750975684cc5cc2a1951c994a14b08cfdaa0d75a041": "Adobe RGB (1998)",  # Adobe
    "07c1e0738ba6068b961ab698e24d5d9c06f71d4ee1d863aed239a24dd1fb8896": "Adobe RGB (1998)",  # relative intent
    "2b3aa1645779a9e634744faf9b01e9102b0c9b88fd6deced7934df86b949af7e": "sRGB IEC61966-2.1",  # HP, 1998
}
MAX_STANDARD = 4096  # none of them is larger


def standard_profile(profile: bytes) -> str | None:
    """The name of a standard profile these bytes are exactly, or None."""
    if len(profile) > MAX_STANDARD:
        return None
    return STANDARD_PROFILES.get(hashlib.sha256(profile).hexdigest())


def standard_icc(numbers: list[tuple[int, int]], profile: bytes) -> bool:
    """Whether JPEG ICC segments numbered `numbers` ((sequence, count) each, in file order) hold one standard
    profile, `profile` being their data joined in that order: numbered 1 to n of n, as readers join them."""
    count = len(numbers)
    return numbers == [(i, count) for i in range(1, count + 1)] and standard_profile(profile) is not None


_GENERIC_NAMES = frozenset({"icc profile", "icc", "embedded profile"})  # iCCP keywords that name only a profile


def _iccp_profile(data: bytes) -> bytes | None:
    """The profile in an iCCP chunk's data, if its keyword names only a profile and its stream is whole."""
    keyword, _, rest = data.partition(b"\0")
    name = keyword.decode("latin-1").lower()
    named = name in _GENERIC_NAMES or name in {known.lower() for known in STANDARD_PROFILES.values()}
    if not named or rest[:1] != b"\0":
        return None
    inflate = zlib.decompressobj()
    try:
        profile = inflate.decompress(rest[1:], MAX_STANDARD + 1)
    except zlib.error:
        return None
    return profile if inflate.eof and not inflate.unused_data else None


def canonical_iccp(data: bytes) -> bytes:
    """A kept iCCP chunk's data as the cleaner writes it: keyword "ICC Profile", the profile compressed anew, so
    nothing of how it was compressed (empty deflate blocks carry free bits) rides along."""
    profile = _iccp_profile(data)
    return data if profile is None else b"ICC Profile\0\0" + zlib.compress(profile, 9)  # None: never kept


def standard_iccp(data: bytes) -> bool:
    """Whether a PNG iCCP chunk's data (keyword, NUL, method 0, zlib stream) holds a standard profile under a
    keyword that names nothing but a profile."""
    profile = _iccp_profile(data)
    return profile is not None and standard_profile(profile) is not None


MAX_NAMED = 64  # characters of a profile's description said to the author


def tag_text(profile: bytes, offset: int, size: int) -> str:
    """The text of a 'desc' (ICC v2), 'text' or 'mluc' (v4, its first record) tag at `offset`; "" for another."""
    data = profile[offset:offset + min(size, 4096)]
    if data[:4] == b"desc" and len(data) >= 12:
        (length,) = struct.unpack_from(">I", data, 8)
        return data[12:12 + length].split(b"\0", 1)[0].decode("latin-1")
    if data[:4] == b"text":
        return data[8:].split(b"\0", 1)[0].decode("latin-1")
    if data[:4] == b"mluc" and len(data) >= 28:
        length, start = struct.unpack_from(">II", data, 20)
        return data[start:start + length].decode("utf-16-be", "replace")
    return ""


def tag_texts(profile: bytes, wanted: frozenset[bytes]) -> dict[str, str]:
    """The texts of the tags named in `wanted` (b"desc", b"cprt", ...), each on one line; at most 100 tags are
    looked at."""
    texts: dict[str, str] = {}
    if len(profile) < 132:
        return texts
    (count,) = struct.unpack_from(">I", profile, 128)
    for i in range(min(count, 100)):
        at = 132 + 12 * i
        if at + 12 > len(profile):
            break
        sig, offset, size = struct.unpack_from(">4sII", profile, at)
        if sig in wanted:  # the first of a tag wins, as readers take it
            texts.setdefault(sig.decode("latin-1"), " ".join(tag_text(profile, offset, size).split()))
    return texts


def profile_name(profile: bytes) -> str:
    """A profile's description (its 'desc' tag), printable and at most MAX_NAMED characters; "" if none."""
    name = tag_texts(profile, frozenset({b"desc"})).get("desc", "")
    return "".join(c for c in name if c.isprintable())[:MAX_NAMED]


def shifts_colours(profile: bytes) -> str | None:
    """The name of a profile ("unnamed" if it has none) whose removal changes how colour-managed viewers show the
    photo: any but an sRGB one, since a photo without a profile is shown as sRGB. None for sRGB."""
    name = profile_name(profile)
    return None if "srgb" in name.lower().replace(" ", "") else name or "unnamed"


def iccp_profile_head(data: bytes, limit: int = 65_536) -> bytes:
    """The first `limit` bytes of the profile in a PNG iCCP chunk's data (enough for its header and description),
    whatever its keyword; b"" when the stream does not inflate."""
    _, _, rest = data.partition(b"\0")
    try:
        return zlib.decompressobj().decompress(rest[1:], limit)
    except zlib.error:
        return b""
