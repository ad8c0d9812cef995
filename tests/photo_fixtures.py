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
import struct
import zlib

from PIL import Image, ImageCms
from PIL.PngImagePlugin import PngInfo

ASCII, SHORT, LONG, RATIONAL, UNDEFINED = 2, 3, 4, 5, 7
Entry = tuple[int, int, int, bytes]  # tag, type, count, little-endian value bytes

MAKE, MODEL, SERIAL, LENS_SERIAL = "PLANTED-Make", "PLANTED-Model", "PLANTED-SN-0042", "PLANTED-LENS-77"
OWNER, ARTIST, SOFTWARE, TAKEN = "PLANTED-Owner", "PLANTED-Artist", "PLANTED-Software", "2022:01:05 18:30:00"
CREATOR, BYLINE, COMMENT = "PLANTED-Creator", "PLANTED-Byline", "PLANTED comment: taken on the square"
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


def nikon_makernote(serial: str) -> bytes:
    """A Nikon type-3 maker note: "Nikon\\0", version, then its own big-endian TIFF with SerialNumber 0x001D."""
    text = serial.encode() + b"\0"
    ifd = struct.pack(">HHHI", 1, 0x001D, ASCII, len(text)) + struct.pack(">II", 26, 0)
    return b"Nikon\0\x02\x10\0\0" + b"MM\0*" + struct.pack(">I", 8) + ifd + text
