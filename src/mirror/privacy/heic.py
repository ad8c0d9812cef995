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
from typing import TYPE_CHECKING, Any

from mirror.errors import PhotoError
from mirror.privacy.exif import exif_kinds, ordered_kinds, read_tiff
from mirror.record import record

if TYPE_CHECKING:
    from pillow_heif import HeifFile

QUALITY = 92
# The largest picture converted: an iPhone's 48 MP HEIC (8064 x 6048) with room to spare. Decoding takes about
# 7 bytes a pixel and encoding 3 more (about 1 GB at the cap); a HEIC may declare up to libheif's own limit of
# 32,768 x 32,768 in a few kilobytes, which would take 10 GB.
MAX_PIXELS = 100_000_000
CONVERTED = f"HEIC converted to JPEG (quality {QUALITY}, sRGB, all metadata dropped)"


@record
class Converted:
    """A JPEG made from a HEIC, and the kinds of metadata the HEIC carried."""

    data: bytes
    removed: tuple[str, ...]


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
    except (ValueError, EOFError, SyntaxError, RuntimeError, OSError) as exc:
        raise PhotoError(name, f"not a readable HEIC/HEIF image ({exc})") from None


def _blocks(info: dict[str, Any]) -> list[tuple[str, bytes]]:
    blocks = [(kind, bytes(info[key])) for kind, key in (("exif", "exif"), ("xmp", "xmp"), ("icc", "icc_profile"))
              if info.get(key)]
    if info.get("thumbnails"):
        blocks.append(("thumbnail", b""))
    return blocks


def heic_metadata(data: bytes, name: str) -> list[tuple[str, bytes]]:
    """The metadata blocks of a HEIC's primary image: ("exif", ...), ("xmp", ...), ("icc", ...), ("thumbnail", b"").

    Raises:
        PhotoError: the file cannot be read as HEIF.
    """
    return _blocks(_open(data, name).info)


def convert_heic(data: bytes, name: str) -> Converted:
    """Decode a HEIC's primary image, turn it upright, and encode it as a JPEG without metadata.

    Raises:
        PhotoError: the file cannot be read or decoded.
    """
    from PIL import ImageCms

    heif = _open(data, name)
    width, height = heif.size
    if width * height > MAX_PIXELS:
        raise PhotoError(name, f"the HEIC image is {width:,} x {height:,} pixels, more than mirror converts "
                         f"({MAX_PIXELS // 1_000_000} million)",
                         hint="convert it to JPEG on the phone or in a photo editor first")
    kinds: list[str] = []
    for kind, block in _blocks(heif.info):
        kinds += exif_kinds(read_tiff(block.removeprefix(b"Exif\0\0"))) if kind == "exif" else [kind]
    try:
        image = heif.to_pillow()
        profile = image.info.get("icc_profile")
        if profile:
            source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
            image = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"),
                                              outputMode="RGB") or image
        out = io.BytesIO()
        if image.mode != "RGB":  # a copy: only when needed (a 48 MP photo is 145 MB of pixels)
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=QUALITY, subsampling="4:2:0", optimize=True)
    except (ValueError, OSError, ImageCms.PyCMSError) as exc:
        raise PhotoError(name, f"the HEIC image cannot be decoded ({exc})") from None
    return Converted(out.getvalue(), ordered_kinds(k if k != "thumbnail" else "exif-thumbnail" for k in kinds))
