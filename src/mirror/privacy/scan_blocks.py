"""What XMP, IPTC, ICC, FLIR and MPF blocks say about a photo's author, each item by name.

Example::

    scan_xmp(packet)        # [("xmp", "XMP packet, 14 properties"), ("serial", "XMP aux:SerialNumber 0421..."), ...]
    scan_photoshop(app13)   # [("iptc", ...), ("owner", "IPTC By-line ..."), ("thumbnail", "a Photoshop preview image")]
    scan_icc(profile)       # [("icc", "ICC profile 'Aigerim's MacBook' (not a standard colour space...)")]
    scan_flir(fff)          # [("gps", "FLIR GPS 43.23890, 76.88970"), ("serial", "FLIR CameraSerialNumber ...")]
    scan_mpf(mpf)           # [("mpf", "3 images in one file (MPF) ...")]

Each block gives at least one finding, so a scan never calls a photo clean
that the cleaner would change. Block layouts: XMP (ISO 16684-1), Photoshop
image resources and IPTC-IIM 4.2, ICC.1:2010 (header, tag table, desc, mluc
and text types), FLIR FFF as exiftool's FLIR.pm reads it, CIPA DC-007 (MPF).
"""

from __future__ import annotations

import re
import struct

from mirror.privacy.exif import read_tiff
from mirror.privacy.findings import Found, empty_value, short
from mirror.privacy.icc import standard_profile, tag_texts
from mirror.privacy.scan_tiff import scan_tiff

# XMP properties that may identify someone: "prefix:Name" -> kind.
XMP_PROPERTIES = {
    **dict.fromkeys(("dc:creator", "dc:rights", "xmpRights:Owner", "photoshop:AuthorsPosition", "photoshop:Credit",
                     "photoshop:CaptionWriter", "aux:OwnerName", "exifEX:CameraOwnerName", "tiff:Artist",
                     "Iptc4xmpCore:CreatorContactInfo", "Iptc4xmpCore:CiEmailWork", "Iptc4xmpCore:CiTelWork",
                     "Iptc4xmpCore:CiAdrExtadr", "Iptc4xmpCore:CiUrlWork", "xmpDM:artist", "plus:ImageCreator",
                     "plus:CopyrightOwner", "exifEX:Photographer", "exifEX:ImageEditor", "photoshop:Source",
                     "xmpRights:WebStatement", "pdf:Author", "dc:contributor", "dc:publisher", "plus:Licensor",
                     "plus:ImageSupplier"), "owner"),
    **dict.fromkeys(("aux:SerialNumber", "aux:LensSerialNumber", "exifEX:BodySerialNumber", "exifEX:LensSerialNumber",
                     "exif:BodySerialNumber"), "serial"),
    # DJI drones' own position (some firmware writes it there only; "GpsLongtitude" as DJI spells it, DJI.pm)
    **dict.fromkeys(("exif:GPSLatitude", "exif:GPSLongitude", "exif:GPSAltitude", "exif:GPSDestLatitude",
                     "drone-dji:GpsLatitude", "drone-dji:GpsLongitude", "drone-dji:GpsLongtitude",
                     "drone-dji:Latitude", "drone-dji:Longitude"), "gps"),
    **dict.fromkeys(("photoshop:City", "photoshop:State", "photoshop:Country", "Iptc4xmpCore:Location",
                     "Iptc4xmpCore:CiAdrCity", "Iptc4xmpExt:LocationShown", "Iptc4xmpExt:LocationCreated",
                     "Iptc4xmpCore:CountryCode"), "place"),
    **dict.fromkeys(("mwg-rs:Name", "MPRI:PersonDisplayName", "Iptc4xmpExt:PersonInImage"), "people"),
    **dict.fromkeys(("xmp:CreateDate", "exif:DateTimeOriginal", "photoshop:DateCreated", "xmp:ModifyDate",
                     "xmp:MetadataDate", "exif:DateTimeDigitized", "exif:GPSTimeStamp", "exif:GPSDateTime"),
                  "datetime"),
    **dict.fromkeys(("xmp:CreatorTool", "tiff:Software"), "software"),
    **dict.fromkeys(("tiff:Make",), "make"),
    **dict.fromkeys(("tiff:Model", "aux:Lens", "exifEX:LensModel"), "model"),
    **dict.fromkeys(("xmpMM:DocumentID", "xmpMM:OriginalDocumentID", "xmpMM:InstanceID", "xmpMM:DerivedFrom",
                     "xmpMM:History", "exifEX:ImageUniqueID", "exif:ImageUniqueID", "photoshop:TransmissionReference"),
                  "unique-id"),
    # the photo's name as the camera gave it (Camera Raw's: the RAW file's, IMG_0918.CR2)
    **dict.fromkeys(("xmpMM:PreservedFileName", "crs:RawFileName"), "name"),
    **dict.fromkeys(("dc:description", "dc:title", "dc:subject", "photoshop:Headline", "photoshop:Instructions",
                     "exif:UserComment", "tiff:ImageDescription", "lr:hierarchicalSubject"), "text"),
}
# A name starts where no name character is before it and is at most _NAME long on either side of its colon: a
# name pattern tried at every letter of a long run of them cost the square of its length (64 KiB of "a": 10 s)
_NAME = rb"[A-Za-z][\w.-]{0,99}:[A-Za-z][\w.-]{0,99}"
_XMP_ATTR = re.compile(rb"(?<![\w.:-])(" + _NAME + rb")\s*=\s*(?:\"([^\"]{0,2000})\"|'([^']{0,2000})')")
_XMP_OPEN = re.compile(rb"<(" + _NAME + rb")([^<>]{0,2000}?)(/?)>")
# XMP's first prefixes (xap, Adobe before 2004): what older cameras and Photoshop write (helper-154)
_OLD_PREFIXES = {b"xap:": b"xmp:", b"xapMM:": b"xmpMM:", b"xapRights:": b"xmpRights:"}
_TAGS = re.compile(rb"<[^<>]{0,2000}>")  # a run of "<" is no tag: each one is tried only to the next
_VALUE = 4000  # bytes of an element's value read: a longer one (a description exiftool moved to extended XMP) is cut
_SKIP = (b"xmlns:", b"rdf:", b"x:", b"xml:", b"stEvt:", b"stRef:")
MAX_XMP = 1 << 20
# IPTC-IIM record 2 datasets that may identify someone: number -> (kind, name).
IPTC = {5: ("text", "ObjectName"), 25: ("text", "Keywords"), 40: ("text", "SpecialInstructions"),
        55: ("datetime", "DateCreated"), 60: ("datetime", "TimeCreated"), 80: ("owner", "By-line"),
        85: ("owner", "By-lineTitle"), 90: ("place", "City"), 92: ("place", "Sub-location"),
        95: ("place", "Province-State"), 101: ("place", "Country"), 103: ("unique-id", "OriginalTransmissionReference"),
        110: ("owner", "Credit"), 115: ("owner", "Source"), 116: ("owner", "CopyrightNotice"),
        118: ("owner", "Contact"), 120: ("text", "Caption-Abstract"), 122: ("owner", "Writer-Editor")}
# ICC descriptions that name only a colour space (ICC profiles shipped by systems and applications).
STANDARD_ICC = frozenset({
    "srgb", "srgb iec61966-2.1", "srgb iec61966-2-1 black scaled", "srgb built-in", "display p3", "dci-p3",
    "adobe rgb (1998)", "prophoto rgb", "apple rgb", "colormatch rgb", "ecirgb v2", "generic rgb profile",
    "generic gray profile", "generic gray gamma 2.2 profile", "generic cmyk profile", "dot gain 20%", "c2",
    "u.s. web coated (swop) v2", "coated fogra39 (iso 12647-2:2004)", "coated fogra27 (iso 12647-2:2004)",
    "uncoated fogra29 (iso 12647-2:2004)", "japan color 2001 coated", "rec. itu-r bt.709", "rec. 2020",
    "gray gamma 2.2", "sgray", "linear rgb", "srgb v4 icc preference perceptual intent beta", "icc profile",
    "icc", "photoshop icc profile", "embedded profile", "skia", "gimp built-in srgb",
})


def _xmp_properties(packet: bytes) -> list[tuple[bytes, bytes]]:
    """(name, value) of every property: attributes (name="value"), elements (<name>value</name>), and elements
    whose value is in their attributes (<xmpMM:DocumentID rdf:resource="uuid:..."/>, <xmpMM:DerivedFrom
    stRef:documentID="..."/>: helper-154 found both unnamed in real photos). The first prefixes (xap:) are read
    as today's."""
    found = [(m.group(1), m.group(2) if m.group(2) is not None else m.group(3)) for m in _XMP_ATTR.finditer(packet)]
    reach: dict[bytes, int] = {}  # where the last value read of each name ends
    for match in _XMP_OPEN.finditer(packet):
        name, start = match.group(1), match.end()
        if name.startswith(_SKIP):
            continue
        if match.group(3):  # <name .../>: its own attributes (read above too) are its value
            values = [m.group(2) if m.group(2) is not None else m.group(3) for m in _XMP_ATTR.finditer(match[2])
                      if not m.group(1).startswith(b"xmlns:")]
            if values:
                found.append((name, b" ".join(values)))
            continue
        # within a value of its own name, nested in it or after an opening never closed: only what lies past the
        # part read already is read (each read again cost _VALUE bytes; read not at all, a value past the first's
        # first _VALUE bytes went unread)
        start = max(start, reach.get(name, 0))
        end = packet.find(b"</" + name + b">", start, match.end() + _VALUE)
        reach[name] = end if end >= 0 else max(start, match.end() + _VALUE)  # a long value: its start
        found.append((name, packet[start:reach[name]]))
    return [(_today(name), value) for name, value in found if not name.startswith(_SKIP)]


def _today(name: bytes) -> bytes:
    """An XMP property's name with today's prefix (xap:CreateDate is xmp:CreateDate)."""
    for old, new in _OLD_PREFIXES.items():
        if name.startswith(old):
            return new + name[len(old):]
    return name


# XMP's encodings (XMP part 1, 7.3.2): UTF-8, or UTF-16 or UTF-32 of either byte order, told by the first
# character, "<" or the xpacket's BOM: (its first 4 bytes, codec)
_XMP_WIDE = ((b"\xff\xfe\0\0", "utf-32-le"), (b"\0\0\xfe\xff", "utf-32-be"), (b"<\0\0\0", "utf-32-le"),
             (b"\0\0\0<", "utf-32-be"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"), (b"<\0", "utf-16-le"),
             (b"\0<", "utf-16-be"))
# A JPEG's XMP segment starts with XMP's namespace and a NUL, then the packet (XMP part 3, 1.1.3)
_JPEG_XMP_ID = b"http://ns.adobe.com/xap/1.0/\0"


def _as_utf8(packet: bytes) -> bytes:
    """An XMP packet in UTF-16 or UTF-32 as UTF-8 (its properties were never matched: "0 properties", a
    dc:creator unread, helper-177), also after a JPEG segment's namespace (exiftool's t/images/XMP.jpg); a UTF-8
    one as it is."""
    body = packet.removeprefix(_JPEG_XMP_ID)
    codec = next((codec for start, codec in _XMP_WIDE if body.startswith(start)), None)
    if codec is None:
        return packet
    width = 4 if codec.startswith("utf-32") else 2
    return body[:len(body) - len(body) % width].decode(codec, "replace").encode("utf-8")


def xmp_properties(packet: bytes, limit: int = MAX_XMP) -> tuple[int, list[Found]]:
    """How many properties an XMP packet (its first `limit` bytes) holds, and those that may identify someone."""
    found: list[Found] = []
    properties = _xmp_properties(_as_utf8(packet[:limit]))
    for name, value in properties:
        label = name.decode("ascii", "replace")
        kind = XMP_PROPERTIES.get(label)
        if kind is not None:
            text = " ".join(_TAGS.sub(b" ", value).decode("utf-8", "replace").split())
            if not empty_value(text):  # <dc:creator><rdf:Seq><rdf:li/></rdf:Seq></dc:creator> names no one
                found.append((kind, short(f"XMP {label} {text}")))
    return len({name for name, _ in properties}), found


def scan_xmp(packet: bytes) -> list[Found]:
    """Named properties of an XMP packet, and how many it holds in all."""
    count, found = xmp_properties(packet)
    return [("xmp", f"XMP packet, {count} properties, {len(packet)} bytes"), *found]


def _iim(data: bytes) -> list[Found]:
    """IPTC-IIM datasets (0x1C, record, dataset, 2-byte length, value)."""
    found: list[Found] = []
    pos = data.find(b"\x1c")
    while pos >= 0 and pos + 5 <= len(data) and data[pos] == 0x1C:
        record, number, size = data[pos + 1], data[pos + 2], struct.unpack_from(">H", data, pos + 3)[0]
        value = data[pos + 5:pos + 5 + min(size, 2000)]
        if record == 2 and number in IPTC and not empty_value(value.decode("utf-8", "replace")):
            kind, label = IPTC[number]
            found.append((kind, short(f"IPTC {label} {value.decode('utf-8', 'replace')}")))
        pos += 5 + (size & 0x7FFF)
    return found


def scan_iptc(data: bytes) -> list[Found]:
    """Bare IPTC-IIM datasets (a GIF's MGKIPTC0000 extension)."""
    return [("iptc", f"IPTC metadata, {len(data)} bytes"), *_iim(data)]


def scan_photoshop(payload: bytes) -> list[Found]:
    """Photoshop image resources (APP13 "Photoshop 3.0"): IPTC, thumbnails, embedded EXIF and XMP."""
    found: list[Found] = [("iptc", f"IPTC/Photoshop metadata, {len(payload)} bytes")]
    pos = payload.find(b"8BIM")
    while pos >= 0 and pos + 12 <= len(payload) and payload[pos:pos + 4] == b"8BIM":
        number = struct.unpack_from(">H", payload, pos + 4)[0]
        name_len = payload[pos + 6]
        at = pos + 6 + (name_len + 2) // 2 * 2
        if at + 4 > len(payload):
            break
        size = struct.unpack_from(">I", payload, at)[0]
        data = payload[at + 4:at + 4 + size]
        if number == 0x0404:
            found += _iim(data)
        elif number in (0x0409, 0x040C):
            found.append(("thumbnail", "a Photoshop preview image"))
        elif number in (0x0422, 0x0423):
            found += scan_tiff(data.removeprefix(b"Exif\0\0"))
        elif number == 0x0424:
            found += scan_xmp(data)
        pos = at + 4 + size + (size & 1)
    return found


def scan_icc(profile: bytes, name: str = "") -> list[Found]:
    """An ICC profile's description (and the name it is stored under); one beyond a colour space's is flagged."""
    texts: dict[str, str] = {"name": name} if name else {}
    texts.update(tag_texts(profile, frozenset({b"desc"})))
    names = [value for value in texts.values() if value]
    unusual = [value for value in names if value.lower() not in STANDARD_ICC]
    if unusual:
        return [("icc", short(f"ICC profile that may name a person or a device: '{'; '.join(unusual)}'"))]
    if standard_profile(profile) is not None:  # byte for byte a published one: create keeps it
        return [("icc", short(f"ICC profile '{texts.get('desc') or 'unnamed'}' (a standard colour space)"))]
    return [("icc", short(f"ICC profile '{texts.get('desc') or 'unnamed'}' (named like a common colour space)"))]


def _flir_strings(record: bytes, fields: dict[int, tuple[int, str]]) -> list[Found]:
    found: list[Found] = []
    for offset, (size, label) in fields.items():
        value = record[offset:offset + size].split(b"\0", 1)[0].decode("latin-1").strip()
        if value:
            found.append(("serial" if "Serial" in label else "model", f"FLIR {label} {short(value)}"))
    return found


def scan_flir(fff: bytes) -> list[Found]:
    """GPS position, camera and lens serial numbers, and the visible-light photo in FLIR FFF data."""
    found: list[Found] = [("other-metadata", f"FLIR thermal data, {len(fff)} bytes")]
    if len(fff) < 0x40 or fff[:4] not in (b"FFF\0", b"AFF\0"):
        return found
    order = ">" if 100 <= struct.unpack_from(">I", fff, 0x14)[0] < 200 else "<"
    start, count = struct.unpack_from(order + "II", fff, 0x18)
    for i in range(min(count, 1000)):
        entry = fff[start + 0x20 * i:start + 0x20 * (i + 1)]
        if len(entry) < 0x20:
            break
        kind = struct.unpack_from(order + "H", entry, 0)[0]
        offset, size = struct.unpack_from(order + "II", entry, 0x0C)
        record = fff[offset:offset + size]
        if kind == 0x20 and len(record) >= 0x23C:
            found += _flir_strings(record, {0xD4: (32, "CameraModel"), 0x104: (16, "CameraSerialNumber"),
                                            0x170: (32, "LensModel"), 0x1A0: (16, "LensSerialNumber"),
                                            0x21C: (32, "FilterSerialNumber")})
        elif kind == 0x2B and len(record) >= 0x20 and record[:4] in (b"\1\0\0\0", b"\0\0\0\1"):
            # GPSInfo's order is not the FFF header's: a FLIR ONE writes it little-endian in a big-endian FFF (as
            # exiftool's FLIR.pm reads it), a Vue Pro big-endian; GPSValid (its first field) is 1 in the order of
            # the record. Otherwise the doubles are whatever the camera left there: no position.
            lat, lon = struct.unpack_from("<dd" if record[0] else ">dd", record, 0x10)
            refs = record[8:12].replace(b"\0", b"").decode("latin-1")
            found.append(("gps", f"FLIR GPS {lat:.5f}, {lon:.5f} {refs}".strip()))
        elif kind == 0x0E:
            found.append(("thumbnail", "a visible-light photo embedded by the FLIR camera"))
    return found


def scan_mpf(payload: bytes) -> list[Found]:
    """How many images an MPF index says the file holds (the extra ones follow the photo's end)."""
    tiff = read_tiff(payload[4:])
    count = tiff.ifd0.get(0xB001) if tiff is not None else None
    number = count.integer() if count is not None else None
    if number is None:
        return [("mpf", "several images in one file (MPF): previews or a second full-size image follow the photo")]
    return [("mpf", f"{number} images in one file (MPF): previews or a second full-size image follow the photo")]
