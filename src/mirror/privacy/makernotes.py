"""Owner names, serial numbers, unique ids and places in camera makers' private EXIF notes.

Example::

    scan_makernote(tiff, note_tag, "Canon")   # [("owner", "maker-note OwnerName Aigerim N."),
                                              #  ("serial", "maker-note SerialNumber 123456789")]

Maker notes are IFDs in each maker's own layout; where each one starts, which
byte order it uses and what its offsets count from follow exiftool
(MakerNotes.pm, and each maker's module for the tag numbers); notes that are no IFD but a block of fields
(Reconyx, Kodak's Type7) are read by makernotes_binary.py. A note this
module does not know is still reported, by size, as one that may hold a
serial number.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping

from mirror.privacy.exif import TYPE_SIZE, Tag, Tiff, read_ifd, read_tiff
from mirror.privacy.findings import Found, empty_value, short
from mirror.privacy.makernote_codes import CANON_CITIES, CANON_UNSET, PENTAX_CITIES
from mirror.privacy.makernotes_binary import block_text, scan_binary_note
from mirror.record import field, record

_OLYMPUS = {0x0404: ("serial", "SerialNumber"), 0x101A: ("serial", "SerialNumber"),
            0x0101: ("serial", "SerialNumber"), 0x0102: ("serial", "InternalSerialNumber"),
            0x0202: ("serial", "LensSerialNumber"), 0x0302: ("serial", "ExtenderSerialNumber"),
            0x1003: ("serial", "FlashSerialNumber")}
# Tags of Olympus's Equipment directory whose numbers the main one uses for numbers (OneTouchWB, BrightnessValue):
# a serial only as text
_OLYMPUS_TEXTS = frozenset({0x0302, 0x1003})


@record
class _Code:
    """A number in a note's tag that stands for a place, shown by its name (a Pentax's HometownCity 29 is Moscow).

    Attributes:
        tag: the tag that holds it.
        at: where it starts in the tag's value.
        size: 1, 2 or 4 bytes, in the note's byte order.
        kind: the finding's kind.
        label: exiftool's name.
        names: what each number stands for; a number it lacks is shown as it is.
        mask: the bit it is, when it is a flag (0: the whole number).
        unset: numbers that say nothing was set (no finding).
    """

    tag: int
    at: int
    size: int
    kind: str
    label: str
    names: Mapping[int, str]
    mask: int = 0
    unset: frozenset[int] = frozenset()


@record
class _Maker:
    """Where one maker's note keeps its IFD, and which of its tags identify the camera or its owner.

    Attributes:
        prefix: the note starts with these bytes (b"" to match by Make instead).
        make: the EXIF Make starts with this (lower case), when `prefix` is empty.
        start: where the IFD begins in the note.
        base: what offsets count from: "tiff" (the EXIF block), "note" (the note itself),
            "fuji" (the note, little-endian, IFD offset stored at 8), "nikon" (a TIFF header at 10).
        tags: tag -> (kind, exiftool's name).
        subdirs: tags that point at further IFDs of the same note.
        elements: tag -> (index, kind, exiftool's name): one 32-bit number of a tag that holds several (Pentax's
            CameraInfo keeps the InternalSerialNumber fifth).
        texts: (tag, offset, length, codec, kind, exiftool's name): bytes of a tag that holds a block (a Leica
            R8's SerialInfo keeps the serial at 4); codec "hex" shows them in hex.
        codes: numbers that stand for a place, shown by name.
        make_match: how `make` is matched: "start" (the Make starts with it), "whole", or "within".
        unless: a note that starts with these bytes is not this maker's (another of its layouts).
        text_only: tags of `tags` that count only as text (ASCII or UNDEFINED): another directory of the note
            uses the same number for a number.
    """

    prefix: bytes
    make: str
    start: int
    base: str
    tags: Mapping[int, tuple[str, str]]
    subdirs: frozenset[int] = field(default_factory=frozenset)
    elements: Mapping[int, tuple[int, str, str]] = field(default_factory=dict)
    texts: tuple[tuple[int, int, int, str, str, str], ...] = ()
    codes: tuple[_Code, ...] = ()
    make_match: str = "start"
    unless: bytes = b""
    text_only: frozenset[int] = frozenset()


# Pentax.pm's Main: the serial, the owner's name and copyright a K-5 and later keep (0x022E, 0x022F), and the world
# time's cities (0x0023, 0x0024, int16u each; TimeInfo, 0x006B, on a K-5 and later: flags, then the cities' bytes). Its
# summer-time flags (0x0025, 0x0026, TimeInfo's bits) say nothing of a person or a place and are not named
_PENTAX = {0x0229: ("serial", "SerialNumber"), 0x022E: ("owner", "Artist"), 0x022F: ("owner", "Copyright")}
_PENTAX_TIMES = (
    _Code(0x0023, 0, 2, "place", "HometownCity", PENTAX_CITIES),
    _Code(0x0024, 0, 2, "place", "DestinationCity", PENTAX_CITIES),
    _Code(0x006B, 2, 1, "place", "HometownCity", PENTAX_CITIES),
    _Code(0x006B, 3, 1, "place", "DestinationCity", PENTAX_CITIES),
)
_LEICA_AG = " ".join(("leica", "camera", "ag"))  # the Make of Leica's own cameras, lower case (data, no words)
# Panasonic.pm's Main: serials, and what a camera lets its owner set (a baby's or pet's name, a title) or finds
# itself from GPS (place names; "---" where none)
_PANASONIC = {0x0025: ("serial", "InternalSerialNumber"), 0x0052: ("serial", "LensSerialNumber"),
              0x0054: ("serial", "AccessorySerialNumber"), 0x0065: ("text", "Title"), 0x0066: ("people", "BabyName"),
              0x0067: ("place", "Location"), 0x0069: ("place", "Country"), 0x006B: ("place", "State"),
              0x006D: ("place", "City"), 0x006F: ("place", "Landmark"), 0x0080: ("place", "City2")}
# FaceRecInfo (0x0061): the names of up to three faces the camera was taught, 20 bytes each
_PANASONIC_FACES = ((0x0061, 4, 20, "utf-8", "people", "RecognizedFace1Name"),
                    (0x0061, 52, 20, "utf-8", "people", "RecognizedFace2Name"),
                    (0x0061, 100, 20, "utf-8", "people", "RecognizedFace3Name"))
_LEICA5 = {0x0305: ("serial", "SerialNumber"), 0x0500: ("serial", "InternalSerialNumber")}
# Kodak's IFD layouts (Kodak.pm Type8): the serial is in SubIFD0 (0xFC00) or CameraInfo (0xFF00)
_KODAK = {0xFA19: ("serial", "SerialNumber"), 0xFA04: ("serial", "SerialNumber")}
_KODAK_SUBDIRS = frozenset({0xFC00, 0xFF00})


_MAKERS = (
    _Maker(b"Apple iOS\0", "", 14, "note", {0x000B: ("unique-id", "BurstUUID"),
                                            0x0011: ("unique-id", "MediaGroupUUID"),
                                            0x0015: ("unique-id", "ImageGroupIdentifier"),
                                            0x0020: ("unique-id", "ImageCaptureRequestID")}),
    # Nikon (Nikon.pm): LocationInfo (0x0039) of a GPS camera (AW100) keeps the country's code and the place's name
    _Maker(b"Nikon\0\x02", "", 10, "nikon", {0x001D: ("serial", "SerialNumber"), 0x00A0: ("serial", "SerialNumber")},
           texts=((0x0039, 5, 3, "latin-1", "place", "CountryCode"), (0x0039, 9, 70, "utf-8", "place", "Location"))),
    # Sanyo (MakerNoteSanyo: "SANYO\0", the IFD at 8, offsets from the EXIF block; Sanyo.pm)
    _Maker(b"SANYO\0", "", 8, "tiff", {0x0209: ("serial", "CameraID")}),
    _Maker(b"OLYMPUS\0", "", 12, "note", _OLYMPUS, frozenset({0x2010}), text_only=_OLYMPUS_TEXTS),
    _Maker(b"OM SYSTEM\0", "", 16, "note", _OLYMPUS, frozenset({0x2010}), text_only=_OLYMPUS_TEXTS),
    _Maker(b"OLYMP\0", "", 8, "tiff", _OLYMPUS, frozenset({0x2010}), text_only=_OLYMPUS_TEXTS),
    _Maker(b"Panasonic\0", "", 12, "tiff", _PANASONIC, texts=_PANASONIC_FACES),
    _Maker(b"FUJIFILM", "", 8, "fuji", {0x0010: ("serial", "InternalSerialNumber")}),
    # Casio's second layout (MakerNoteCasio2: "QVC\0", or "DCI\0" of Concord's, the IFD at 6, offsets from the EXIF
    # block; Casio.pm Type2): the home city of its world time, as text; so is an "AOC\0" note of Make Asahi
    # (MakerNotePentax3: the Optio 330RS and 430RS), though any other Asahi's is Pentax's (MakerNotePentax, for
    # every Model but those two): both read
    *(_Maker(prefix, "", 6, "tiff", {0x3006: ("place", "HometownCity")}) for prefix in (b"QVC\0", b"DCI\0")),
    _Maker(b"AOC\0", "asahi", 6, "tiff", {**_PENTAX, 0x3006: ("place", "HometownCity")},
           elements={0x0215: (4, "serial", "InternalSerialNumber")}, codes=_PENTAX_TIMES),
    _Maker(b"PENTAX \0", "", 10, "note", _PENTAX, elements={0x0215: (4, "serial", "InternalSerialNumber")},
           codes=_PENTAX_TIMES),
    _Maker(b"AOC\0", "", 6, "tiff", _PENTAX, elements={0x0215: (4, "serial", "InternalSerialNumber")},
           codes=_PENTAX_TIMES),
    # Pentax's Optio 330 and 430 (MakerNotePentax2: Make "Asahi", the IFD at once): the cities' codes as letters
    _Maker(b"", "asahi", 0, "tiff", {0x1000: ("place", "HometownCityCode"), 0x1001: ("place", "DestinationCityCode")}),
    _Maker(b"SIGMA\0", "", 10, "tiff", {0x0002: ("serial", "SerialNumber")}),
    _Maker(b"FOVEON\0", "", 10, "tiff", {0x0002: ("serial", "SerialNumber")}),
    _Maker(b"", "canon", 0, "tiff", {0x0009: ("owner", "OwnerName"), 0x000C: ("serial", "SerialNumber"),
                                     0x0096: ("serial", "InternalSerialNumber"),
                                     0x0028: ("unique-id", "ImageUniqueID")},
           texts=((0x4019, 0, 5, "hex", "serial", "LensSerialNumber"),),  # LensInfo (Canon.pm)
           codes=(_Code(0x0035, 8, 4, "place", "TimeZoneCity", CANON_CITIES, unset=CANON_UNSET),)),  # TimeInfo
    # Samsung's Type2 (Samsung.pm): serials, the place names a GPS camera (NX100) looked up, the names of faces it
    # was taught
    _Maker(b"", "samsung", 0, "tiff", {0xA002: ("serial", "SerialNumber"),
                                       0xA005: ("serial", "InternalLensSerialNumber"),
                                       0x0030: ("place", "LocalLocationName"), 0x0031: ("place", "LocationName"),
                                       0x0123: ("people", "FaceName")}),
    # Motorola (MakerNotes.pm: "MOT\0", the IFD at 8, offsets from the note's start; Motorola.pm: 0x5501)
    _Maker(b"MOT\0", "", 8, "note", {0x5501: ("serial", "SerialNumber")}),
    # Ricoh's own layout (MakerNoteRicoh: "Ricoh" or "RICOH", the IFD at 8, offsets from the EXIF block; Ricoh.pm:
    # 0x0005, the SerialNumber when it is text, else the InternalSerialNumber, shown in hex). "RICOH\0II" and
    # "RICOH\0MM" are Pentax's layout (the GR III), not read here (_OTHER_LAYOUTS).
    _Maker(b"Ricoh", "", 8, "tiff", {0x0005: ("serial", "SerialNumber")}),
    _Maker(b"RICOH", "", 8, "tiff", {0x0005: ("serial", "SerialNumber")}),
    # Sony (MakerNoteSony: the IFD at 12, offsets from the EXIF block; Sony.pm 0x2031, the ILCE-9's; others keep
    # theirs enciphered in Tag9050, not read here), Hasselblad's Sony-made bodies too
    *(_Maker(prefix, "", 12, "tiff", {0x2031: ("serial", "SerialNumber")})
      for prefix in (b"SONY DSC ", b"SONY CAM ", b"SONY MOBILE", b"\0\0SONY PIC\0", b"VHAB     \0")),
    # Leica's layouts (MakerNotes.pm MakerNoteLeica..Leica10, their tables in Panasonic.pm), in exiftool's order
    _Maker(b"", "leica", 8, "tiff", _PANASONIC, make_match="whole"),  # Make "LEICA": Panasonic's layout
    # Leica2 (M8): its offsets count from the IFD, 8 bytes on, but its SerialNumber is a LONG in its entry
    _Maker(b"LEICA\0\0\0", _LEICA_AG, 8, "note", {0x0303: ("serial", "SerialNumber")}),
    _Maker(b"LEICA0", "", 8, "note", {0x3103: ("serial", "SerialNumber")},  # Leica4 (M9): in its subdirectories
           frozenset({0x3000, 0x3100, 0x3400, 0x3900})),
    *(_Maker(b"LEICA\0" + bytes((version,)) + b"\0", "", 8, "note", _LEICA5)  # Leica5 (X1, X2, T)
      for version in (0x01, 0x04, 0x05, 0x06, 0x07, 0x10, 0x1A)),
    _Maker(b"LEICA\0\x08\0", "", 8, "tiff", _LEICA5),  # Leica8 (Q)
    _Maker(b"LEICA\0\x09\0", "", 8, "tiff", _LEICA5),
    _Maker(b"LEICA CAMERA AG\0", "", 18, "tiff", _PANASONIC),  # Leica10 (D-Lux7): Panasonic's tags
    _Maker(b"", _LEICA_AG, 0, "tiff", {}, make_match="start", unless=b"LEICA",  # Leica3 (R8, R9)
           texts=((0x000B, 4, 8, "latin-1", "serial", "SerialNumber"),)),
    # Nintendo (Nintendo.pm): CameraInfo (0x1101) keeps the InternalSerialNumber at byte 0x18
    _Maker(b"", "nintendo", 0, "tiff", {}, make_match="whole",
           texts=((0x1101, 0x18, 4, "hex", "serial", "InternalSerialNumber"),)),
    # Kodak's IFD layouts (MakerNoteKodak8b, 8c: a TIFF header, the IFD at 8, offsets from the note; 8a: the IFD
    # at once, offsets from the EXIF block)
    _Maker(b"MM\0*\0\0\0\x08", "kodak", 8, "note", _KODAK, _KODAK_SUBDIRS, make_match="within"),
    _Maker(b"II*\0\x08\0\0\0", "kodak", 8, "note", _KODAK, _KODAK_SUBDIRS, make_match="within"),
    _Maker(b"", "kodak", 0, "tiff", _KODAK, _KODAK_SUBDIRS, make_match="within"),
)
_OTHER_LAYOUTS = (b"RICOH\0II", b"RICOH\0MM")  # a note of a maker's layout this module does not read


def _make_matches(maker: _Maker, make: str) -> bool:
    make = make.strip().lower()
    if maker.make_match == "whole":
        return make == maker.make
    return maker.make in make if maker.make_match == "within" else make.startswith(maker.make)


def _find_maker(note: bytes, make: str) -> _Maker | None:
    """The first maker whose prefix the note starts with and whose Make it is (where it gives either)."""
    if note.startswith(_OTHER_LAYOUTS):
        return None
    for maker in _MAKERS:
        if maker.unless and note.startswith(maker.unless):
            continue
        if (not maker.prefix or note.startswith(maker.prefix)) and (not maker.make or _make_matches(maker, make)):
            return maker
    return None


def _ifd(data: bytes, big: bool, offset: int, shift: int = 0) -> dict[int, Tag]:
    """The IFD at `offset`, in whichever byte order gives a plausible entry count and a known type for its first
    entry (exiftool's 'Unknown'): a big-endian count of 1 reads as 256 little-endian, a plausible count alone.
    When neither order gives a known type (a first entry of a damaged type), the first with a plausible count: its
    other entries may still hold a serial."""
    plausible = []
    for order in (big, not big):
        if offset + 2 <= len(data):
            count = struct.unpack_from(">H" if order else "<H", data, offset)[0]
            kind = struct.unpack_from(">H" if order else "<H", data, offset + 4)[0] if offset + 6 <= len(data) else 0
            if 0 < count < 512 and kind in TYPE_SIZE:
                return read_ifd(data, order, offset, shift)[0]
            if 0 < count < 512:
                plausible.append(order)
    return read_ifd(data, plausible[0], offset, shift)[0] if plausible else {}


def _canon_shift(tiff: Tiff, note: Tag) -> int:
    """How far an editor moved a Canon maker note without changing its offsets: Canon ends the note with a TIFF
    footer ("II*\0", in the note's byte order, and where the note was); its values lie that much further on
    (exiftool's FixBase, "Adjusted MakerNotes base"). 0 when there is no footer, or when the last value ends right
    at the footer: then the offsets were changed with the note and only the footer was not (Picasa's and ACDSee's
    bug, as exiftool tells)."""
    footer, data, start = note.raw[-8:], tiff.data, note.offset
    if len(note.raw) <= 8 or footer[:4] not in (b"II*\0", b"MM\0*") or start + 2 > len(data):
        return 0
    order = ">" if footer[:2] == b"MM" else "<"
    (count,) = struct.unpack_from(order + "H", data, start)
    shift = start - struct.unpack_from(order + "I", footer, 4)[0]
    if not shift or not 0 < count < 512:  # a note in the other byte order than its footer's is none of Canon's
        return 0
    ends = [pointer + size for pos in range(start + 2, min(start + 2 + 12 * count, len(data) - 11), 12)
            for _, kind, n, pointer in [struct.unpack_from(order + "HHII", data, pos)]
            if (size := TYPE_SIZE.get(kind, 0) * n) > 4]
    return 0 if ends and start + len(note.raw) - 8 - max(ends) in (0, 1) else shift


def _value(tag: Tag) -> str:
    """A tag's value as the author can read it: a number, text, or hex for bytes that are not text (an id of 16
    binary bytes); what says so when there is nothing to show (an offset this reader does not follow, as some
    notes moved by an editor have)."""
    numbers = tag.integers()
    if numbers and tag.type != 1:
        return str(numbers[0])
    raw = tag.raw.strip(b"\0")  # NULs pad a text on either side (Panasonic's serial, read 2 bytes early)
    try:  # and part texts within (a Samsung's LocalLocationName: two names, NUL and space between)
        text = " ".join(part for part in raw.decode().split("\0") if part.strip())
    except UnicodeDecodeError:
        text = ""
    if tag.type in (1, 7) and raw:  # bytes in hex as they are, leading zeros too (exiftool's Ricoh serial)
        whole = tag.raw
        return text if text and text.isprintable() else "0x" + whole[:32].hex() + ("..." if len(whole) > 32 else "")
    shown = tag.text().strip()
    return shown if shown and shown.isprintable() else "(no readable value: read it with exiftool)"


def _longs(tag: Tag) -> tuple[int, ...]:
    """A tag's value as 32-bit numbers in the note's byte order, whatever type it is stored as."""
    whole = len(tag.raw) // 4
    return struct.unpack(f"{'>' if tag.big_endian else '<'}{whole}I", tag.raw[:4 * whole]) if whole else ()


def _directories(tiff: Tiff, note: Tag, maker: _Maker) -> list[dict[int, Tag]]:
    """The note's main IFD and the IFDs it points at, read with the maker's layout."""
    if maker.base == "nikon":
        inner = read_tiff(note.raw[maker.start:])
        return [dict(inner.ifd0)] if inner is not None else []
    shift = 0
    if maker.base == "tiff":
        data, big, start = tiff.data, tiff.big_endian, note.offset + maker.start
        shift = _canon_shift(tiff, note) if maker.make == "canon" else 0
    else:  # offsets count from the start of the note
        data, big, start = note.raw, tiff.big_endian or maker.prefix == b"Apple iOS\0", maker.start
        if maker.base == "fuji" and len(note.raw) >= 12:
            big, start = False, struct.unpack_from("<I", note.raw, 8)[0]
    main = _ifd(data, big, start, shift)
    subs = [_ifd(data, big, _subdir_at(main[tag])) for tag in maker.subdirs if tag in main]
    return [main, *subs]


def _subdir_at(tag: Tag) -> int:
    """Where a subdirectory a tag leads to starts: where its value points (a LONG or an IFD), or its value itself
    when that is the directory (UNDEFINED bytes: a Leica M9's 0x3000...); 0, none, otherwise."""
    if tag.type == 7:
        return tag.offset
    return next(iter(tag.integers()), 0)


def _code(tag: Tag, code: _Code) -> str:
    """What the number `code` reads from `tag` stands for; "" when the tag is too short or says nothing is set."""
    raw = tag.raw[code.at:code.at + code.size]
    if len(raw) != code.size:
        return ""
    number = int.from_bytes(raw, "big" if tag.big_endian else "little")
    if code.mask:
        number = int(bool(number & code.mask))
    if number in code.unset:
        return ""
    return code.names.get(number, str(number))


def _blank(tag: Tag) -> bool:
    """Whether a maker note's text holds bytes that show nothing (an OwnerName of NULs or spaces, a Panasonic's City
    of "---", which it writes for none): it names no one. A number, even 0, is a value; a tag whose bytes could not
    be read at all is not known to be empty."""
    text = tag.raw.decode("utf-8", "replace")
    return tag.type in (1, 2, 7) and bool(tag.raw) and empty_value(text.replace("-", ""))  # Panasonic's "---"


def scan_makernote(tiff: Tiff, note: Tag, make: str) -> list[Found]:
    """Owner names, serial numbers and unique ids in a maker note; its size when none can be read."""
    binary = scan_binary_note(note.raw, make)  # a block of fields (Reconyx, Kodak Type7), no IFD
    maker = _find_maker(note.raw, make) if binary is None else None
    found: list[Found] = binary or []
    if maker is not None:
        for entries in _directories(tiff, note, maker):
            found += [(kind, f"maker-note {label} {short(_value(entries[number]))}")
                      for number, (kind, label) in maker.tags.items()
                      if number in entries and not _blank(entries[number])
                      and (number not in maker.text_only or entries[number].type in (2, 7))]
            found += [(kind, f"maker-note {label} {values[index]}")
                      for number, (index, kind, label) in maker.elements.items()
                      if number in entries and len(values := _longs(entries[number])) > index]
            found += [(kind, f"maker-note {label} {short(text)}")
                      for number, at, size, codec, kind, label in maker.texts
                      if number in entries and (text := block_text(entries[number].raw[at:at + size], codec))]
            found += [(code.kind, f"maker-note {code.label} {short(text)}")
                      for code in maker.codes if code.tag in entries and (text := _code(entries[code.tag], code))]
    return found or [("makernote", f"maker notes, {len(note.raw)} bytes (may hold a serial number)")]
