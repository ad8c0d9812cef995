"""HEIC/HEIF photos: what metadata they carry, and a JPEG made from them when the author asks (--convert-heic).

Example::

    heic_metadata(raw, "IMG_0001.HEIC")    # [("exif", b"Exif\\0\\0MM..."), ("xmp", b"<x:xmpmeta..."), ("icc", ...)]
    converted = convert_heic(raw, "IMG_0001.HEIC")
    converted.data          # a JPEG: upright, sRGB, quality 92, nothing but the picture
    converted.removed       # ("exif", "gps", "xmp", "icc")

A HEIF file keeps its metadata in items of an ISO box structure that cannot be
cut out losslessly here, so a HEIC is only ever converted, and only when the
author asks: the primary image is decoded with libheif (through pillow-heif),
which applies the file's own rotation and mirroring; pixels in another colour
space (iPhones write Display P3) are converted to sRGB with the embedded
profile; the result is encoded as a baseline JPEG at quality `QUALITY` with
4:2:0 chroma and no EXIF, XMP, ICC or comment. It is re-encoded, so it is
reported as converted, never as lossless. This module is the only one that
imports Pillow and pillow-heif, and only when a HEIC is met.
"""

from __future__ import annotations

import io
import itertools
import re
from typing import TYPE_CHECKING, Any

from mirror.errors import PhotoError
from mirror.privacy.exif import exif_kinds, ordered_kinds, read_tiff
from mirror.record import record

if TYPE_CHECKING:
    from PIL import Image
    from pillow_heif import HeifFile

QUALITY = 92
DAMAGED_HINT = "copy the photo again from the phone or camera (this copy is damaged), or leave it out"
# The largest picture converted: an iPhone's 48 MP HEIC (8064 x 6048) with room to spare. Converting takes about
# 8 bytes a pixel at its peak (decoding, then one picture of 3 while it is encoded: about 400 MB at 48 MP, 800 MB at
# the cap); a HEIC may declare up to libheif's own limit of 32,768 x 32,768 in a few kilobytes, which would take
# 10 GB.
MAX_PIXELS = 100_000_000
CONVERTED = f"HEIC converted to JPEG (quality {QUALITY}, sRGB, all metadata dropped)"


@record
class Converted:
    """A JPEG made from a HEIC, the kinds of metadata the HEIC carried, and what the author should know."""

    data: bytes
    removed: tuple[str, ...]
    notes: tuple[str, ...] = (CONVERTED,)


def _open(data: bytes, name: str) -> HeifFile:
    """The HEIF file, opened by pillow-heif.

    Raises:
        PhotoError: pillow-heif is missing, or cannot read the file.
    """
    try:
        import pillow_heif
    except ImportError:  # pragma: no cover - a dependency; only a broken install lacks it
        raise PhotoError(name, "pillow-heif is not installed, so HEIC photos cannot be read",
                         hint="pip install pillow-heif") from None
    try:
        return pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True)
    except Exception as exc:  # pillow-heif reading hostile bytes raises IndexError, RuntimeError, ...
        raise _undecodable(name, exc, opening=True) from None


# The top-level boxes of a HEIF file (ISO/IEC 23008-12, 14496-12). Whatever else follows them is a trailer that
# libheif never reads: Samsung phones append one (SEFH/SEFT) to their HEIC photos.
_BOXES = frozenset((b"ftyp", b"meta", b"mdat", b"moov", b"idat", b"free", b"skip", b"uuid", b"moof", b"mfra", b"wide",
                    b"pdin", b"styp", b"sidx", b"jumb"))


def _cut_box(data: bytes) -> str | None:
    """The type of the top-level box (ISO BMFF: size, type, contents) that the file ends inside, or None.

    A copy cut short in its image data (`mdat`, usually last) still opens; libheif paints the tiles it lacks."""
    at = 0
    while at + 8 <= len(data):
        size, kind = int.from_bytes(data[at:at + 4], "big"), data[at + 4:at + 8]
        if kind not in _BOXES:
            return None  # a trailer, not a box
        shown = kind.decode("ascii")
        if size == 1:  # a 64-bit size follows the type
            if at + 16 > len(data):
                return shown
            size = int.from_bytes(data[at + 8:at + 16], "big")
        elif size == 0:  # to the end of the file
            return None
        if size < 8 or at + size > len(data):
            return shown if at + size > len(data) else None  # a size below 8: libheif says what is wrong
        at += size
    return None  # a few bytes too short for a box header: nothing libheif reads


def _blocks(info: dict[str, Any]) -> list[tuple[str, bytes]]:
    blocks = [(kind, bytes(info[key])) for kind, key in (("exif", "exif"), ("xmp", "xmp"), ("icc", "icc_profile"))
              if info.get(key)]
    if info.get("thumbnails"):
        blocks.append(("thumbnail", b""))
    return blocks


# Exif and XMP items a reader may find though no image links them (exiftool does): found by their signatures, at
# most UNLINKED of each, each at most ITEM_BYTES long
_EXIF_ITEM = re.compile(rb"Exif\0\0(?:MM\0\*|II\*\0)|MM\0\*\0\0\0\x08|II\*\0\x08\0\0\0")  # or a bare TIFF header
_LOOKED_AT = 256  # signatures looked at, at most (each compared with the blocks the images link)
_XMP_START, _XMP_END = b"<x:xmpmeta", b"</x:xmpmeta>"
UNLINKED = 16
ITEM_BYTES = 1 << 20


def _unlinked(data: bytes, seen: set[bytes]) -> list[tuple[str, bytes]]:
    """Exif and XMP blocks in the file's bytes that are not among `seen` (those the images link)."""
    found: list[tuple[str, bytes]] = []
    tiffs = [known.removeprefix(b"Exif\0\0") for known in seen if known]  # an item's bytes, then the file's next
    for match in itertools.islice(_EXIF_ITEM.finditer(data), _LOOKED_AT):
        block = data[match.start() : match.start() + ITEM_BYTES]
        tiff = block.removeprefix(b"Exif\0\0")
        if not any(tiff.startswith(known) for known in tiffs):
            tiffs.append(tiff[:64])  # a second signature inside this block is this block again
            found.append(("exif", block))
            if len(found) >= UNLINKED:
                break
    start = data.find(_XMP_START)
    for _ in range(UNLINKED):
        if start < 0:
            break
        end = data.find(_XMP_END, start, start + ITEM_BYTES)
        block = data[start : end + len(_XMP_END) if end >= 0 else start + ITEM_BYTES]
        if not any(block in known or known in block for known in seen):
            found.append(("xmp", block))
        start = data.find(_XMP_START, start + len(_XMP_START))
    return found


_QUICKTIME_EPOCH = -2_082_844_800  # 1904-01-01 UTC, in Unix seconds: where a movie box counts its times from
_TIMED = (b"mvhd", b"tkhd", b"mdhd")
_INTO = frozenset((b"moov", b"trak", b"mdia"))
MAX_BOXES = 4096  # boxes of a moov looked at


def movie_times(data: bytes) -> list[tuple[str, str]]:
    """The creation and modification times in a HEIF's `moov` box (an image sequence: a burst, a live photo),
    as ("datetime", "CreateDate 2018:03:09 14:16:50 (movie header)"), each value once. libheif does not show
    them, and they say when the photos were taken."""
    import datetime

    found: list[tuple[str, str]] = []
    stack, looked = [(0, len(data), 0)], 0
    while stack and looked < MAX_BOXES:
        at, end, depth = stack.pop()
        while at + 8 <= end and looked < MAX_BOXES:
            looked += 1
            size, kind, head = int.from_bytes(data[at:at + 4], "big"), data[at + 4:at + 8], 8
            if size == 1 and at + 16 <= end:
                size, head = int.from_bytes(data[at + 8:at + 16], "big"), 16
            elif size == 0:
                size = end - at
            if size < head or at + size > end:
                break
            if kind in _INTO and (depth > 0 or kind == b"moov") and depth < 3:
                stack.append((at + head, at + size, depth + 1))
            elif kind in _TIMED and depth > 0:
                body = data[at + head:at + size]
                wide = body[:1] == b"\1"
                for label, offset in (("CreateDate", 4), ("ModifyDate", 12 if wide else 8)):
                    raw = body[offset:offset + (8 if wide else 4)]
                    seconds = int.from_bytes(raw, "big") if len(raw) in (4, 8) else 0
                    try:
                        when = datetime.datetime.fromtimestamp(_QUICKTIME_EPOCH + seconds, datetime.UTC)
                    except (OverflowError, OSError, ValueError):
                        continue
                    value = f"{label} {when:%Y:%m:%d %H:%M:%S}"  # each once: every header of a burst repeats it
                    if seconds and not any(detail.startswith(value) for _, detail in found):
                        found.append(("datetime", _in_header(value, kind)))
            at += size
    return found


def _in_header(value: str, kind: bytes) -> str:
    """A time and the box it is in, each line a template of its own (translated)."""
    if kind == b"mvhd":
        return f"{value} (movie header)"
    if kind == b"tkhd":
        return f"{value} (track header)"
    return f"{value} (media header)"


def heic_metadata(data: bytes, name: str) -> list[tuple[str, bytes]]:
    """The metadata blocks of a HEIC: ("exif", ...), ("xmp", ...), ("icc", ...), ("thumbnail", b""), of every
    image in it, and Exif and XMP items that no image links to (found by their signatures).

    Raises:
        PhotoError: the file cannot be read as HEIF.
    """
    heif = _open(data, name)
    blocks: list[tuple[str, bytes]] = []
    try:
        for index in range(len(heif)):
            blocks += [b for b in _blocks(heif[index].info) if b not in blocks]
    except Exception as exc:  # pillow-heif reading hostile bytes raises IndexError, RuntimeError, ...
        raise _undecodable(name, exc, opening=True) from None
    return blocks + _unlinked(data, {block for kind, block in blocks if kind in ("exif", "xmp")})


def convert_heic(data: bytes, name: str) -> Converted:
    """Decode a HEIC's primary image, turn it upright, and encode it as a JPEG without metadata.

    Raises:
        PhotoError: the file cannot be read or decoded.
    """
    cut = _cut_box(data)
    if cut is not None:  # libheif decodes what is there and paints the rest in one colour, without a word
        raise PhotoError(name, f"the file is cut short: its {cut} box ends past the end of the file",
                         hint="copy the photo again from the phone or camera")
    try:
        # no reference kept here: _convert lets go of the decoded picture
        return _convert(_open(data, name), name, exif_turns=not _turned_by_heif(data))
    except PhotoError:
        raise
    except Exception as exc:  # pillow-heif reading hostile bytes raises IndexError, RuntimeError, ...
        raise _undecodable(name, exc, uncompressed=_UNCOMPRESSED in data[:MAX_META_LOOK]) from None


_UNCOMPRESSED = b"unci"  # the item type of an uncompressed image (ISO/IEC 23001-17), in the meta box's item list
MAX_META_LOOK = 1 << 20  # bytes of the file's start where the item list is looked for
_NOT_BUILT = re.compile(r"compression format has not been built in: ([^(]{1,40}?) *(?:\(|$)")
OTHER_CODING_HINT = "convert it to JPEG on the phone or in a photo editor first, then check it with mirror scan"


def _undecodable(name: str, exc: Exception, opening: bool = False, uncompressed: bool = False) -> PhotoError:
    """Why a HEIF image cannot be opened or converted, in words: a coding mirror does not decode, no image of a
    coding it reads (`uncompressed`: the file names an uncompressed image item), or libheif's own reason, a
    damaged copy (never Python's name for the error)."""
    text = str(exc)
    coding = _NOT_BUILT.search(text)
    if coding is not None:
        return PhotoError(name, f"its image is coded as {coding[1]}, which mirror's HEIF decoder does not read",
                          hint=OTHER_CODING_HINT)
    if uncompressed and (isinstance(exc, IndexError) or "no images" in text.lower()):  # pillow-heif lists none
        return PhotoError(name, "its image is stored uncompressed or with generic compression (ISO/IEC 23001-17), "
                                "which mirror's HEIF decoder does not read", hint=OTHER_CODING_HINT)
    reason = "no image in it could be read" if isinstance(exc, IndexError) else text.strip() or "no reason given"
    if opening:
        return PhotoError(name, f"not a readable HEIC/HEIF image ({reason})", hint=DAMAGED_HINT)
    return PhotoError(name, f"the HEIC image cannot be decoded ({reason})", hint=DAMAGED_HINT)


def _turned_by_heif(data: bytes) -> bool:
    """Whether the file's meta box holds a rotation (irot) or a mirror (imir) property, which libheif applies; a
    HEIC without either is turned upright by its EXIF Orientation alone (Samsung phones and Fujifilm cameras write
    it so, and their galleries show it turned)."""
    at = 0
    while at + 8 <= len(data):
        size, kind = int.from_bytes(data[at:at + 4], "big"), data[at + 4:at + 8]
        if kind == b"meta":
            end = at + size if size >= 8 else len(data)  # 0: to the end; 1: a 64-bit size, read as far as we look
            body = data[at + 8:min(end, at + 8 + MAX_META_LOOK)]
            return b"irot" in body or b"imir" in body
        if kind not in _BOXES or size < 8:
            break
        at += size
    return True  # no meta box found: nothing is turned beyond what libheif does


def _convert(heif: HeifFile, name: str, exif_turns: bool = False) -> Converted:
    from PIL import Image, ImageCms

    width, height = heif.size
    if width * height > MAX_PIXELS:
        raise PhotoError(name, f"the HEIC image is {width:,} x {height:,} pixels, more than mirror converts "
                         f"({MAX_PIXELS // 1_000_000} million)",
                         hint="convert it to JPEG on the phone or in a photo editor first")
    kinds: list[str] = []
    orientation = 1
    for kind, block in _blocks(heif.info):
        tiff = read_tiff(block.removeprefix(b"Exif\0\0")) if kind == "exif" else None
        kinds += exif_kinds(tiff) if kind == "exif" else [kind]
        if exif_turns and tiff is not None and orientation == 1:
            orientation = tiff.orientation_tag() or 1
    try:
        image = heif.to_pillow()  # a copy of libheif's picture, which goes with the file (3 bytes a pixel)
        del heif
        notes: tuple[str, ...] = (CONVERTED,)
        if image.has_transparency_data:  # RGBA, LA, premultiplied RGBa and La, a palette's transparency
            # JPEG has no transparency: the colours under transparent pixels (anything, unseen) would show
            profile = image.info.get("icc_profile")
            image, notes = _on_white(image), (CONVERTED, TRANSPARENT_NOTE)
            image.info["icc_profile"] = profile
        profile = image.info.get("icc_profile")
        if profile:
            source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
            if image.mode == "RGB":  # in place: a second picture of 3 bytes a pixel (145 MB at 48 MP) is not made
                ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), inPlace=True)
            else:
                image = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"),
                                                  outputMode="RGB") or image
        out = io.BytesIO()
        if image.mode != "RGB":  # a copy: only when needed (a 48 MP photo is 145 MB of pixels)
            image = image.convert("RGB")
        if orientation in _TURNS:  # a copy too, only for a HEIC turned by its EXIF alone
            image = image.transpose(Image.Transpose[_TURNS[orientation]])
        image.save(out, "JPEG", quality=QUALITY, subsampling="4:2:0", optimize=True)
    except (ValueError, OSError, ImageCms.PyCMSError) as exc:
        raise PhotoError(name, f"the HEIC image cannot be decoded ({exc})", hint=DAMAGED_HINT) from None
    return Converted(out.getvalue(), ordered_kinds(k if k != "thumbnail" else "exif-thumbnail" for k in kinds),
                     notes)


# EXIF's Orientation as a transposition of the stored picture (as Pillow's ImageOps.exif_transpose does it)
_TURNS = {2: "FLIP_LEFT_RIGHT", 3: "ROTATE_180", 4: "FLIP_TOP_BOTTOM", 5: "TRANSPOSE", 6: "ROTATE_270", 7: "TRANSVERSE",
          8: "ROTATE_90"}

TRANSPARENT_NOTE = ("its transparent parts were made white (JPEG has no transparency; what lay hidden under them "
                    "is not carried)")


def _on_white(image: Image.Image) -> Image.Image:
    """`image` drawn over white, as a viewer shows a transparent picture on a white page."""
    from PIL import Image

    rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB")
