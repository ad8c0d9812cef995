"""Photos with planted metadata, built in memory: Pillow draws the pixels, segments are packed by hand.

Example::

    raw = planted_jpeg()               # EXIF (GPS, serials, thumbnail, Orientation 6), XMP, IPTC, COM, trailer
    raw = planted_png()                # tEXt, zTXt, iTXt, eXIf, tIME, iCCP, XMP, trailer
    plain = plain_jpeg()               # what Pillow wrote, before anything was planted

Pillow cannot write an EXIF thumbnail, IPTC, or segments in a chosen order, so the
EXIF block is assembled with `struct` (a small little-endian TIFF writer) and the
segments are spliced in after Pillow's JFIF APP0. Every planted value contains
"PLANTED" or one of the constants below, so a test can look for it in the bytes.
"""

from __future__ import annotations

import functools
import io
import itertools
import struct
import zlib
from typing import Any

from PIL import Image, ImageCms
from PIL.PngImagePlugin import PngInfo

ASCII, SHORT, LONG, RATIONAL, UNDEFINED = 2, 3, 4, 5, 7
Entry = tuple[int, int, int, bytes]  # tag, type, count, little-endian value bytes

MAKE, MODEL, SERIAL, LENS_SERIAL = "PLANTED-Make", "PLANTED-Model", "PLANTED-SN-0042", "PLANTED-LENS-77"
OWNER, ARTIST, SOFTWARE, TAKEN = "PLANTED-Owner", "PLANTED-Artist", "PLANTED-Software", "2022:01:05 18:30:00"
CREATOR, BYLINE, COMMENT = "PLANTED-Creator", "PLANTED-Byline", "PLANTED comment: taken on the square"
XMP_EXTENSION = b"http://ns.adobe.com/xmp/extension/\0"  # then a GUID, the full length and the chunk's offset
TRAILER = b"PLANTED-TRAILER motion photo video bytes" * 4
LAT, LON = ((43, 1), (14, 1), (1900, 100)), ((76, 1), (56, 1), (4500, 100))  # 43.2386 N, 76.9458 E
SECRETS = (MAKE, MODEL, SERIAL, LENS_SERIAL, OWNER, ARTIST, SOFTWARE, TAKEN, CREATOR, BYLINE, "PLANTED")


def ascii_entry(tag: int, text: str) -> Entry:
    """An ASCII entry with its NUL terminator."""
    data = text.encode() + b"\0"
    return (tag, ASCII, len(data), data)


def short_entry(tag: int, value: int) -> Entry:
    """A SHORT entry."""
    return (tag, SHORT, 1, struct.pack("<H", value))


def long_entry(tag: int, value: int) -> Entry:
    """A LONG entry."""
    return (tag, LONG, 1, struct.pack("<I", value))


def rational_entry(tag: int, *values: tuple[int, int]) -> Entry:
    """A RATIONAL entry with one or more numerator/denominator pairs."""
    return (tag, RATIONAL, len(values), b"".join(struct.pack("<II", n, d) for n, d in values))


def _ifd_size(entries: list[Entry]) -> int:
    return 2 + 12 * len(entries) + 4 + sum(len(v) + len(v) % 2 for *_, v in entries if len(v) > 4)


def _pack_ifd(entries: list[Entry], offset: int, next_ifd: int) -> bytes:
    head, extra = struct.pack("<H", len(entries)), b""
    data_at = offset + 2 + 12 * len(entries) + 4
    for tag, kind, count, value in sorted(entries):
        if len(value) <= 4:
            field = value.ljust(4, b"\0")
        else:
            field = struct.pack("<I", data_at + len(extra))
            extra += value + b"\0" * (len(value) % 2)
        head += struct.pack("<HHI", tag, kind, count) + field
    return head + struct.pack("<I", next_ifd) + extra


def build_tiff(ifd0: list[Entry], exif: list[Entry], gps: list[Entry], thumbnail: bytes | None) -> bytes:
    """A little-endian TIFF block: IFD0 pointing at the EXIF and GPS IFDs, and IFD1 with a thumbnail."""
    ifd0 = [*ifd0, long_entry(0x8769, 0), long_entry(0x8825, 0)]
    ifd1 = [short_entry(0x0103, 6), long_entry(0x0201, 0), long_entry(0x0202, len(thumbnail or b""))]
    off_exif = 8 + _ifd_size(ifd0)
    off_gps = off_exif + _ifd_size(exif)
    off_ifd1 = off_gps + _ifd_size(gps)
    off_thumb = off_ifd1 + _ifd_size(ifd1)
    pointers = {0x8769: off_exif, 0x8825: off_gps, 0x0201: off_thumb}
    ifd0 = [long_entry(e[0], pointers[e[0]]) if e[0] in pointers else e for e in ifd0]
    ifd1 = [long_entry(e[0], pointers[e[0]]) if e[0] in pointers else e for e in ifd1]
    tiff = b"II*\0" + struct.pack("<I", 8) + _pack_ifd(ifd0, 8, off_ifd1 if thumbnail else 0)
    tiff += _pack_ifd(exif, off_exif, 0) + _pack_ifd(gps, off_gps, 0)
    if thumbnail:
        tiff += _pack_ifd(ifd1, off_ifd1, 0) + thumbnail
    return tiff


def camera_tiff(orientation: int = 6, thumbnail: bool = True, makernote: bytes | None = None,
                make: str = MAKE) -> bytes:
    """The TIFF block of a phone photo: GPS, Make, Model, serials, dates, owner, Orientation, thumbnail."""
    ifd0 = [ascii_entry(0x010F, make), ascii_entry(0x0110, MODEL), short_entry(0x0112, orientation),
            ascii_entry(0x0131, SOFTWARE), ascii_entry(0x0132, TAKEN), ascii_entry(0x013B, ARTIST)]
    exif = [ascii_entry(0x9003, TAKEN), ascii_entry(0xA430, OWNER), ascii_entry(0xA431, SERIAL),
            ascii_entry(0xA435, LENS_SERIAL)]
    if makernote is not None:
        exif.append((0x927C, UNDEFINED, len(makernote), makernote))
    gps = [ascii_entry(1, "N"), rational_entry(2, *LAT), ascii_entry(3, "E"), rational_entry(4, *LON),
           ascii_entry(0x001D, "2022:01:05")]
    return build_tiff(ifd0, exif, gps, jpeg_pixels(16, 12, seed=9) if thumbnail else None)


def segment(marker: int, payload: bytes) -> bytes:
    """A JPEG marker segment with its length field."""
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def xmp_packet(creator: str = CREATOR) -> bytes:
    """An XMP packet naming a dc:creator and a GPS position."""
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:exif="http://ns.adobe.com/exif/1.0/" '
        'exif:GPSLatitude="43,14.3N"><dc:creator><rdf:Seq>'
        f"<rdf:li>{creator}</rdf:li></rdf:Seq></dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    ).encode()


def iptc_payload(byline: str = BYLINE) -> bytes:
    """A Photoshop APP13 payload: one 8BIM resource 0x0404 holding IPTC-IIM record 2 with a By-line."""
    text = byline.encode()
    iim = b"\x1c\x02\x00\x00\x02\x00\x04" + b"\x1c\x02\x50" + struct.pack(">H", len(text)) + text
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\0\0" + struct.pack(">I", len(iim)) + iim
    return b"Photoshop 3.0\0" + resource + b"\0" * (len(iim) % 2)


def srgb_profile() -> bytes:
    """An sRGB ICC profile made by LittleCMS."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def pixels(width: int, height: int, seed: int) -> Image.Image:
    """An RGB image with structure in both directions, so a rotation shows."""
    image = Image.new("RGB", (width, height))
    image.putdata([((x * 9 + seed) % 256, (y * 13) % 256, ((x + 2 * y) * 5 + seed) % 256)
                   for y in range(height) for x in range(width)])
    return image


def jpeg_pixels(width: int = 48, height: int = 32, seed: int = 1, **options: object) -> bytes:
    """A JPEG written by Pillow (JFIF APP0 and nothing planted unless `options` ask)."""
    out = io.BytesIO()
    pixels(width, height, seed).save(out, "JPEG", quality=90, **options)
    return out.getvalue()


@functools.cache
def plain_jpeg(progressive: bool = False, restarts: bool = False) -> bytes:
    """A clean JPEG; optionally progressive (several scans, DHT between them) or with RSTn markers."""
    if restarts:
        return jpeg_pixels(progressive=progressive, restart_marker_blocks=2)
    return jpeg_pixels(progressive=progressive)


def splice(jpeg: bytes, segments: bytes, trailer: bytes = b"") -> bytes:
    """Insert `segments` after SOI and Pillow's JFIF APP0, and append `trailer` after EOI."""
    assert jpeg[2:4] == b"\xff\xe0"
    after_app0 = 4 + struct.unpack(">H", jpeg[4:6])[0]
    return jpeg[:after_app0] + segments + jpeg[after_app0:] + trailer


@functools.cache
def planted_jpeg(progressive: bool = False, restarts: bool = False) -> bytes:
    """A JPEG carrying every kind of metadata the cleaner knows, and a trailer after EOI."""
    segments = (segment(0xE1, b"Exif\0\0" + camera_tiff())
                + segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0" + xmp_packet())
                + segment(0xED, iptc_payload())
                + segment(0xE2, b"ICC_PROFILE\0\x01\x01" + srgb_profile())
                + segment(0xE2, b"MPF\0" + b"MM\0*\0\0\0\x08\0\0\0\0\0\0")
                + segment(0xEC, b"Ducky\0\x01\0\x04\0\0\0\x3cPLANTED")
                + segment(0xFE, COMMENT.encode()))
    return splice(plain_jpeg(progressive, restarts), segments, TRAILER)


def jfif_thumbnail_jpeg() -> bytes:
    """A JPEG whose JFIF APP0 carries a 2x1 RGB thumbnail, followed by a JFXX thumbnail APP0."""
    plain = plain_jpeg()
    jfif = segment(0xE0, b"JFIF\0\x01\x01\x00\x00\x01\x00\x01\x02\x01" + b"PLANTD")
    jfxx = segment(0xE0, b"JFXX\0\x10" + jpeg_pixels(8, 8, seed=5))
    rest = 4 + struct.unpack(">H", plain[4:6])[0]
    return plain[:2] + jfif + jfxx + plain[rest:]


def exif_jpeg(tiff: bytes) -> bytes:
    """A clean JPEG with one EXIF APP1 holding `tiff` (which may be broken)."""
    return splice(plain_jpeg(), segment(0xE1, b"Exif\0\0" + tiff))


def split_exif(tiff: bytes, first: int = 65533, rest: int = 65527) -> bytes:
    """APP1 segments of `tiff` as a camera continues it: "Exif\\0\\0" and as much as the first segment holds, then
    "Exif\\0\\0" again and the next `rest` bytes in each further one."""
    body = b"Exif\0\0" + tiff
    out, body = segment(0xE1, body[:first]), body[first:]
    while body:
        out, body = out + segment(0xE1, b"Exif\0\0" + body[:rest]), body[rest:]
    return out


def extended_xmp(packet: bytes, guid: bytes, cuts: list[int], size: int | None = None) -> list[bytes]:
    """The extended XMP segments of `packet`, cut at `cuts`: GUID, full length, offset, chunk."""
    ends = [0, *cuts, len(packet)]
    full = len(packet) if size is None else size
    return [segment(0xE1, XMP_EXTENSION + guid + struct.pack(">II", full, start) + packet[start:end])
            for start, end in itertools.pairwise(ends)]


@functools.cache
def joined_jpeg() -> bytes:
    """A JPEG whose EXIF runs on over three APP1 segments and whose XMP has an extended part in three chunks."""
    tiff = camera_tiff(thumbnail=False)
    packet = xmp_packet().replace(b"<dc:creator>", b"<dc:description>" + b"x" * 300 + b"</dc:description><dc:creator>")
    guid = b"0123456789ABCDEF0123456789ABCDEF"
    main = b"http://ns.adobe.com/xap/1.0/\0" + xmp_packet().replace(b'exif:GPSLatitude="43,14.3N"',
                                                                  b'xmpNote:HasExtendedXMP="' + guid + b'"')
    return splice(plain_jpeg(), split_exif(tiff, 120, 200) + segment(0xE1, main)
                  + b"".join(extended_xmp(packet, guid, [150, 400])))


def chunk(kind: bytes, data: bytes) -> bytes:
    """A PNG chunk with its length and CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@functools.cache
def plain_png(width: int = 24, height: int = 16) -> bytes:
    """A clean PNG written by Pillow."""
    out = io.BytesIO()
    pixels(width, height, 3).save(out, "PNG")
    return out.getvalue()


@functools.cache
def planted_png() -> bytes:
    """A PNG with tEXt, zTXt, iTXt (text and XMP), eXIf, tIME, iCCP, kept colour chunks and a trailer."""
    info = PngInfo()
    info.add_text("Author", ARTIST)
    info.add_text("Comment", COMMENT, zip=True)
    info.add_itxt("Description", "PLANTED Описание: площадь", lang="ru", tkey="Описание", zip=True)
    info.add_itxt("XML:com.adobe.xmp", xmp_packet().decode())
    info.add(b"tIME", struct.pack(">HBBBBB", 2022, 1, 5, 18, 30, 0))
    info.add(b"gAMA", struct.pack(">I", 45455))
    info.add(b"bKGD", struct.pack(">HHH", 0, 0, 0))
    out = io.BytesIO()
    pixels(24, 16, 3).save(out, "PNG", pnginfo=info, exif=camera_tiff(orientation=1, thumbnail=False),
                           icc_profile=srgb_profile(), dpi=(72, 72))
    return out.getvalue() + TRAILER


def canon_makernote(serial: int) -> bytes:
    """A Canon maker note: an IFD (offsets from the EXIF TIFF header) with SerialNumber 0x000C inline."""
    return struct.pack("<HHHII", 1, 0x000C, LONG, 1, serial) + struct.pack("<I", 0)


def canon_owner_tiff(owner: str) -> bytes:
    """EXIF from a Canon whose maker note holds OwnerName (0x0009): its offset counts from the TIFF header."""
    text = owner.encode() + b"\0"
    note = struct.pack("<HHHI", 1, 0x0009, ASCII, len(text)) + b"\xde\xad\xbe\xef" + struct.pack("<I", 0) + text
    tiff = camera_tiff(orientation=1, thumbnail=False, makernote=note, make="Canon")
    at = tiff.index(note)
    return tiff[:at + 10] + struct.pack("<I", at + 18) + tiff[at + 14:]


def fuji_makernote(serial: str) -> bytes:
    """A Fujifilm maker note: "FUJIFILM", the IFD offset (12), then a little-endian IFD with offsets from the note."""
    text = serial.encode() + b"\0"
    ifd = struct.pack("<HHHII", 1, 0x0010, ASCII, len(text), 12 + 18) + struct.pack("<I", 0)
    return b"FUJIFILM" + struct.pack("<I", 12) + ifd + text


def olympus_makernote(serial: str) -> bytes:
    """An Olympus type-2 maker note: "OLYMPUS\\0II", version, an IFD whose Equipment (0x2010) IFD has a serial."""
    text = serial.encode() + b"\0"
    main_at, equipment_at = 12, 12 + 18
    main = struct.pack("<HHHII", 1, 0x2010, 13, 1, equipment_at) + struct.pack("<I", 0)
    equipment = struct.pack("<HHHII", 1, 0x0101, ASCII, len(text), equipment_at + 18) + struct.pack("<I", 0)
    assert len(main) == equipment_at - main_at
    return b"OLYMPUS\0II\x03\0" + main + equipment + text


def pentax_makernote(serial: int) -> bytes:
    """A Pentax maker note: "PENTAX \\0II", then a little-endian IFD (offsets from the note) whose CameraInfo
    (0x0215, five LONGs: model, date, production code, serial) keeps the InternalSerialNumber fifth."""
    info = struct.pack("<5I", 0x12C1E, 20070913, 2, 1, serial)
    ifd = struct.pack("<HHHII", 1, 0x0215, LONG, 5, 10 + 18) + struct.pack("<I", 0)
    return b"PENTAX \0II" + ifd + info


def apple_makernote(uuid: str) -> bytes:
    """An Apple maker note: "Apple iOS\\0", version, "MM", then a big-endian IFD with MediaGroupUUID (0x0011)."""
    text = uuid.encode() + b"\0"
    ifd = struct.pack(">HHHII", 1, 0x0011, ASCII, len(text), 14 + 18) + struct.pack(">I", 0)
    return b"Apple iOS\0\0\x01MM" + ifd + text


def nikon_makernote(serial: str) -> bytes:
    """A Nikon type-3 maker note: "Nikon\\0", version, then its own big-endian TIFF with SerialNumber 0x001D."""
    text = serial.encode() + b"\0"
    ifd = struct.pack(">HHHI", 1, 0x001D, ASCII, len(text)) + struct.pack(">II", 26, 0)
    return b"Nikon\0\x02\x10\0\0" + b"MM\0*" + struct.pack(">I", 8) + ifd + text


# --- Real-world shapes: text fields, GPS from IFD1, ICC names, vendor blocks, quirks writers leave behind ---

XMP_ID = b"http://ns.adobe.com/xap/1.0/\0"
DESCRIPTION, USER_COMMENT, XP_COMMENT, HOST = ("PLANTED Aigerim +7 701 123 45 67", "PLANTED user comment",
                                              "PLANTED XP comment", "PLANTED-MacBook")
PERSONAL_ICC = "PLANTED Aigerim's MacBook display"


def ifd_chain(*ifds: list[Entry], gps: list[Entry] | None = None, gps_from: int = 0) -> bytes:
    """A little-endian TIFF with the IFDs chained (IFD0, IFD1, ...) and a GPS IFD linked from IFD `gps_from`."""
    ifds_list = [list(ifd) for ifd in ifds]
    if gps is not None:
        ifds_list[gps_from].append(long_entry(0x8825, 0))
    offsets, at = [], 8
    for ifd in ifds_list:
        offsets.append(at)
        at += _ifd_size(ifd)
    gps_at = at
    if gps is not None:
        ifds_list[gps_from] = [long_entry(0x8825, gps_at) if e[0] == 0x8825 else e for e in ifds_list[gps_from]]
    body = b"".join(_pack_ifd(ifd, offsets[i], offsets[i + 1] if i + 1 < len(offsets) else 0)
                    for i, ifd in enumerate(ifds_list))
    return b"II*\0" + struct.pack("<I", 8) + body + (_pack_ifd(gps, gps_at, 0) if gps is not None else b"")


def text_fields_tiff() -> bytes:
    """EXIF with ImageDescription, HostComputer, XPComment (UTF-16 BYTEs) and a UNICODE UserComment."""
    xp = XP_COMMENT.encode("utf-16-le") + b"\0\0"
    comment = b"UNICODE\0" + USER_COMMENT.encode("utf-16-le")
    ifd0 = [ascii_entry(0x010E, DESCRIPTION), ascii_entry(0x013C, HOST), (0x9C9C, 1, len(xp), xp),
            long_entry(0x8769, 0)]
    exif = [(0x9286, UNDEFINED, len(comment), comment)]
    off_exif = 8 + _ifd_size(ifd0)
    ifd0 = [long_entry(0x8769, off_exif) if e[0] == 0x8769 else e for e in ifd0]
    return b"II*\0" + struct.pack("<I", 8) + _pack_ifd(ifd0, 8, 0) + _pack_ifd(exif, off_exif, 0)


def gps_in_ifd1_tiff() -> bytes:
    """EXIF whose GPS directory is linked from IFD1 (the thumbnail's directory), as some writers do."""
    gps = [ascii_entry(1, "N"), rational_entry(2, *LAT), ascii_entry(3, "E"), rational_entry(4, *LON)]
    return ifd_chain([short_entry(0x0112, 1)], [short_entry(0x0103, 6)], gps=gps, gps_from=1)


def icc_profile(description: str, copyright_text: str = "No copyright, use freely") -> bytes:
    """A version 2 display ICC profile with a description (desc) and a copyright (cprt) text."""
    text = description.encode("latin-1", "replace")
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(text) + 1) + text + b"\0" + b"\0" * (4 + 4 + 2 + 1 + 67)
    cprt = b"text\0\0\0\0" + copyright_text.encode("latin-1", "replace") + b"\0"
    tags = [(b"desc", desc), (b"cprt", cprt)]
    table_end = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, body in tags:
        table += struct.pack(">4sII", signature, table_end + len(data), len(body))
        data += body + b"\0" * (-len(body) % 4)
    size = table_end + len(data)
    header = (struct.pack(">I4s4s4s4s4s6H4s4sI4s4s8sI", size, b"lcms", b"\x02\x10\0\0", b"mntr", b"RGB ", b"XYZ ",
                          2022, 1, 5, 18, 30, 0, b"acsp", b"APPL", 0, b"none", b"none", b"\0" * 8, 0)
              + struct.pack(">iii", 63190, 65536, 54061) + b"lcms" + b"\0" * 44)
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + data


def icc_jpeg(description: str) -> bytes:
    """A clean JPEG with one APP2 ICC profile."""
    return splice(plain_jpeg(), segment(0xE2, b"ICC_PROFILE\0\x01\x01" + icc_profile(description)))


def png_with(*extra: bytes) -> bytes:
    """The plain PNG with chunks put right after IHDR."""
    plain = plain_png()
    return plain[:33] + b"".join(extra) + plain[33:]


def iccp_chunk(name: str, description: str) -> bytes:
    """A PNG iCCP chunk: a profile name and the zlib-compressed profile."""
    return chunk(b"iCCP", name.encode("latin-1") + b"\0\0" + zlib.compress(icc_profile(description)))


def raw_profile_chunk(tiff: bytes) -> bytes:
    """ImageMagick's zTXt "Raw profile type exif": a name, a length, then the EXIF block in hex."""
    block = b"Exif\0\0" + tiff
    hexed = block.hex()
    lines = "\n".join(hexed[i:i + 72] for i in range(0, len(hexed), 72))
    text = f"\nexif\n{len(block):8d}\n{lines}\n".encode()
    return chunk(b"zTXt", b"Raw profile type exif\0\0" + zlib.compress(text))


def xmp_orientation_chunk(orientation: int) -> bytes:
    """An iTXt XMP packet that gives tiff:Orientation (and names a creator)."""
    packet = xmp_packet().replace(b'exif:GPSLatitude="43,14.3N"',
                                  f'xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="{orientation}"'
                                  .encode())
    return chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + packet)


def cmyk_jpeg(app14_extra: int = 0) -> bytes:
    """A CMYK JPEG as Photoshop writes one: Adobe APP14 (inverted CMYK), here with `app14_extra` bytes more."""
    out = io.BytesIO()
    pixels(16, 16, 4).convert("CMYK").save(out, "JPEG", quality=90)
    data = out.getvalue()
    at = data.index(b"\xff\xee\x00\x0eAdobe")  # Pillow writes the standard 12-byte APP14, and no JFIF
    payload = data[at + 4:at + 16] + bytes(i % 256 for i in range(app14_extra))
    return b"\xff\xd8" + segment(0xE0, plain_jpeg()[6:20]) + data[2:at] + segment(0xEE, payload) + data[at + 16:]


def with_stray_bytes(jpeg: bytes, after_marker: int, stray: bytes) -> bytes:
    """`jpeg` with `stray` bytes after the first segment of `after_marker` (bytes a decoder skips)."""
    at = jpeg.index(bytes((0xFF, after_marker)))
    end = at + 2 + struct.unpack(">H", jpeg[at + 2:at + 4])[0]
    return jpeg[:end] + stray + jpeg[end:]


def flir_segment(serial: str = "PLANTED-FLIR-77", lat: float = 43.2386, lon: float = 76.9458,
                 gps_valid: int = 1, gps_order: str = "<") -> bytes:
    """An APP1 FLIR segment holding FFF data (big-endian, as FLIR cameras write it in JPEG): CameraInfo with a
    serial number, and GPSInfo, little-endian as a FLIR ONE writes it (exiftool's FLIR.pm), or in `gps_order`."""
    camera = bytearray(0x240)
    camera[0xD4:0xD4 + 12] = b"PLANTED-E8\0\0"
    camera[0x104:0x104 + len(serial)] = serial.encode()
    gps = struct.pack(gps_order + "I4s2s2s4sdd", gps_valid, b"\2\2\0\0", b"N\0", b"E\0", b"\0" * 4, lat, lon)
    records = [(0x20, bytes(camera)), (0x2B, gps)]
    directory, data = b"", b""
    start = 0x40 + 0x20 * len(records)
    for kind, body in records:
        directory += struct.pack(">HHIIIIIII", kind, 1, 100, 1, start + len(data), len(body), 0, 0, 0)
        data += body
    header = b"FFF\0" + b"PLANTED".ljust(16, b"\0") + struct.pack(">III", 100, 0x40, len(records))
    return segment(0xE1, b"FLIR\0\x01\x00\x00" + header.ljust(0x40, b"\0") + directory + data)


def heic_photo(orientation: int = 6, width: int = 64, height: int = 48) -> bytes:
    """A HEIC written by pillow-heif carrying EXIF (GPS, serials, owner, Orientation) and XMP."""
    import pillow_heif

    heif = pillow_heif.from_pillow(pixels(width, height, 5))
    heif.info["exif"] = b"Exif\0\0" + camera_tiff(orientation=orientation, thumbnail=False)
    heif.info["xmp"] = xmp_packet()
    out = io.BytesIO()
    heif.save(out, quality=90)
    return out.getvalue()


def riff_chunk(kind: bytes, data: bytes) -> bytes:
    """A RIFF chunk: FourCC, little-endian size, data, a pad byte when the size is odd."""
    return kind + struct.pack("<I", len(data)) + data + b"\0" * (len(data) & 1)


def webp_of(*chunks: bytes) -> bytes:
    """A RIFF/WEBP container of these chunks."""
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def webp_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """The top-level chunks of a well-formed WebP, as (kind, data)."""
    found, pos, end = [], 12, 8 + struct.unpack("<I", data[4:8])[0]
    while pos < end:
        kind, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        found.append((kind, data[pos + 8:pos + 8 + size]))
        pos += 8 + size + (size & 1)
    return found


def plain_webp(lossless: bool = False, size: tuple[int, int] = (40, 24)) -> bytes:
    """A simple WebP (one VP8 or VP8L chunk) without metadata, as Pillow (libwebp) writes it."""
    out = io.BytesIO()
    pixels(*size, 4).save(out, "WEBP", lossless=lossless, quality=80)
    return out.getvalue()


def planted_webp(lossless: bool = False, animated: bool = False, orientation: int = 6) -> bytes:
    """A WebP with EXIF (camera, GPS, serials), XMP and an ICC profile naming a person, as libwebp writes them,
    then an unknown chunk and a trailer."""
    out = io.BytesIO()
    options: dict[str, Any] = {"exif": b"Exif\0\0" + camera_tiff(orientation=orientation, thumbnail=False),
                               "xmp": xmp_packet(), "icc_profile": icc_profile(PERSONAL_ICC),
                               "lossless": lossless, "quality": 80}
    if animated:
        frames = [pixels(32, 24, seed).convert("RGBA") for seed in (5, 6, 7)]
        frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:], duration=120, **options)
    else:
        pixels(40, 24, 4).save(out, "WEBP", **options)
    data = out.getvalue()
    return webp_of(*(riff_chunk(kind, body) for kind, body in webp_chunks(data)),
                   riff_chunk(b"PLNT", b"PLANTED unknown chunk")) + TRAILER


def mutated(raw: bytes, edits: list[tuple[int, int]]) -> bytes:
    """`raw` with each (index, value) edit applied, the index taken modulo its length."""
    data = bytearray(raw)
    for index, value in edits:
        data[index % len(data)] = value
    return bytes(data)


def sub_blocks(data: bytes, size: int = 255) -> bytes:
    """`data` as GIF data sub-blocks of at most `size` bytes, with the terminator."""
    return b"".join(bytes([len(part)]) + part for part in (data[i:i + size] for i in range(0, len(data), size))) + b"\0"


def gif_extension(label: int, *parts: bytes) -> bytes:
    """A GIF extension: its introducer, label, and `parts` as sub-blocks (each at most 255 bytes)."""
    return bytes([0x21, label]) + b"".join(bytes([len(part)]) + part for part in parts) + b"\0"


def gif_application(ident: bytes, data: bytes) -> bytes:
    """An application extension holding `data` in sub-blocks."""
    return bytes([0x21, 0xFF, len(ident)]) + ident + sub_blocks(data)


def gif_xmp(packet: bytes) -> bytes:
    """XMP as Adobe stores it in a GIF: the packet as it is, then a 258-byte tail that walks as sub-blocks."""
    return b"\x21\xff\x0bXMP DataXMP" + packet + b"\x01" + bytes(range(255, -1, -1)) + b"\0"


def plain_gif(animated: bool = False, size: tuple[int, int] = (40, 24)) -> bytes:
    """A GIF without metadata as Pillow writes it: one image, or three frames that loop forever."""
    out = io.BytesIO()
    frames = [pixels(*size, seed).convert("P", palette=Image.Palette.ADAPTIVE, colors=64) for seed in (5, 6, 7)]
    if animated:
        frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=120, loop=0)
    else:
        frames[0].save(out, "GIF")
    return out.getvalue()


def planted_gif(animated: bool = False) -> bytes:
    """A GIF with a comment, XMP (creator, GPS), an ICC profile naming a person, Photoshop IPTC data, a plain
    text extension, an unknown extension, and a trailer after its end."""
    plain = plain_gif(animated)
    head = 13 + (3 << ((plain[10] & 7) + 1) if plain[10] & 0x80 else 0)
    planted = (gif_extension(0xFE, b"PLANTED comment by " + ARTIST.encode()) + gif_xmp(xmp_packet())
               + gif_application(b"ICCRGBG1012", icc_profile(PERSONAL_ICC))
               + gif_application(b"MGK8BIM0000", iptc_payload().removeprefix(b"Photoshop 3.0\0"))
               + gif_extension(0x01, bytes(12), b"PLANTED plain text") + gif_extension(0x99, b"PLANTED unknown"))
    body = plain[head:-1]
    return plain[:head] + planted + body + gif_extension(0xFE, b"PLANTED last comment") + b";" + TRAILER


def frames(data: bytes) -> list[tuple[bytes, object, object]]:
    """Every frame of an animation (GIF, APNG) as Pillow draws it, in RGBA, with its duration and loop count."""
    with Image.open(io.BytesIO(data)) as image:
        drawn = []
        for index in range(getattr(image, "n_frames", 1)):
            image.seek(index)
            drawn.append((image.convert("RGBA").tobytes(), image.info.get("duration"), image.info.get("loop")))
        return drawn


def ifd(entries: list[tuple[int, int, int, bytes]], base: int, order: str = "<") -> bytes:
    """An IFD in byte order `order` ("<" or ">") whose values past 4 bytes follow it, their offsets counted so that
    `base` + the IFD's place is where it starts."""
    head, extra = struct.pack(f"{order}H", len(entries)), b""
    data_at = base + 2 + 12 * len(entries) + 4
    for tag, kind, count, value in entries:
        field = value.ljust(4, b"\0") if len(value) <= 4 else struct.pack(f"{order}I", data_at + len(extra))
        extra += b"" if len(value) <= 4 else value + b"\0" * (len(value) % 2)
        head += struct.pack(f"{order}HHI", tag, kind, count) + field
    return head + struct.pack(f"{order}I", 0) + extra
