"""Choose the cleaner by what a photo is (its magic bytes), never by its name.

Example::

    detect_kind(raw, "photos/a.jpg")          # "jpeg", "png", "webp" or "gif"
    stripped = strip_photo(raw, "photos/a.jpg")
    describe_metadata(raw, "photos/a.jpg")    # ("exif", "gps") and nothing changed

Formats that carry metadata this package cannot remove losslessly (HEIC, AVIF,
TIFF and camera RAW, video) are refused with a hint, never passed
through: a photo that is not cleaned must be the author's explicit choice.
"""

from __future__ import annotations

from mirror.errors import PhotoError
from mirror.formats.media import CLEANED_FORMATS, DOCUMENTS, media_for, source_media, suffix_of
from mirror.privacy.exif import CONVERT_HINT, Stripped
from mirror.privacy.gif import is_gif, strip_gif
from mirror.privacy.jpeg import strip_jpeg
from mirror.privacy.png import SIGNATURE as PNG_SIGNATURE
from mirror.privacy.png import strip_png
from mirror.privacy.webp import is_webp, strip_webp

HINT = CONVERT_HINT
HEIC_HINT = ("pass --convert-heic to convert it to JPEG (all metadata dropped, re-encoded), "
             "or convert it to JPEG on the phone first")
TIFF_FIX = "export it as JPEG or PNG from your photo editor"
RAW_FIX = "export it as JPEG from your photo editor, then bundle the JPEG"
VIDEO_FIX = "mirror does not clean videos: move it out of the folder"
DAMAGED_FIX = "copy it again from the phone or camera (this copy may be damaged), or move it out of the folder"
TIFF_OR_RAW_FIX = ("export it as JPEG or PNG from your photo editor (a camera's RAW file: as JPEG, from its RAW "
                   "converter)")
# The fix for a format refused by its content, by how `_MAGIC` and `_iso_media` name it (the first that fits).
FIX_BY_FORMAT = {"a TIFF or camera RAW": TIFF_OR_RAW_FIX, "a camera RAW": RAW_FIX, "a video": VIDEO_FIX}
# HEIF brands (ISO/IEC 23008-12): HEVC-coded and generic image files and sequences, the compact "mif3", and
# images coded as AVC, JPEG, JPEG 2000 or VVC, which are HEIF as well (whether they decode is said on conversion)
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs",
                          b"mif1", b"msf1", b"mif2", b"mif3", b"avci", b"avcs", b"jpeg", b"jpgs", b"j2ki", b"j2is",
                          b"vvic", b"vvis"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_MAX_BRANDS = 64  # compatible brands of an ftyp box looked at
FTYP_HEAD = 16 + 4 * _MAX_BRANDS  # the bytes is_heif looks at: an ftyp box's major and compatible brands
# Leading bytes of formats that are known and refused, with what to call them.
_MAGIC = (
    (b"II*\0", "a TIFF or camera RAW file (DNG, CR2, NEF, ARW)"),
    (b"MM\0*", "a TIFF or camera RAW file (DNG, CR2, NEF, ARW)"),
    (b"II+\0", "a TIFF or camera RAW file (DNG, CR2, NEF, ARW)"),  # BigTIFF
    (b"MM\0+", "a TIFF or camera RAW file (DNG, CR2, NEF, ARW)"),
    (b"IIRO", "a camera RAW file (ORF)"),
    (b"IIU\0", "a camera RAW file (RW2)"),
    (b"FUJIFILMCCD-RAW", "a camera RAW file (RAF)"),
    (b"\x1aE\xdf\xa3", "a video (Matroska/WebM)"),
    (b"\xff\x0a", "a JPEG XL image"),
    (b"\0\0\0\x0cJXL ", "a JPEG XL image"),
    (b"BM", "a BMP image"),
)


def _brands(data: bytes) -> tuple[bytes, frozenset[bytes]]:
    """An ftyp box's major brand and its compatible brands (at most _MAX_BRANDS); (b"", {}) without one."""
    if data[4:8] != b"ftyp":
        return b"", frozenset()
    size = min(int.from_bytes(data[:4], "big"), len(data), FTYP_HEAD)
    return data[8:12], frozenset(data[i:i + 4] for i in range(16, size - 3, 4))


def is_heif(data: bytes) -> bool:
    """Whether `data` starts like a HEIC/HEIF image: an ftyp box whose major brand, or one of its compatible
    brands when the major brand is no other image's (AVIF, CR3), is a HEIF brand."""
    major, compatible = _brands(data)
    return major in _HEIF_BRANDS or (major not in _AVIF_BRANDS and major != b"crx " and
                                     bool(compatible & _HEIF_BRANDS) and not compatible & _AVIF_BRANDS)


def _iso_media(data: bytes) -> str | None:
    """What an ISO base media file is (ftyp box: HEIC, AVIF, CR3, MP4, MOV), or None."""
    box = data[4:8]
    if box in (b"moov", b"mdat", b"wide", b"free", b"skip"):  # QuickTime files without ftyp
        return "a video (MOV)"
    if box != b"ftyp":
        return None
    major, compatible = _brands(data)
    if is_heif(data):
        return "a HEIC/HEIF image"
    if major in _AVIF_BRANDS or compatible & _AVIF_BRANDS:
        return "an AVIF image"
    if major == b"crx ":
        return "a camera RAW file (CR3)"
    return "a video or ISO media file (MP4, MOV, 3GP)"


def _refused_format(data: bytes) -> str | None:
    """What a known unsafe format is, by its magic bytes; None if not recognised."""
    if data[:4] == b"RIFF" and data[8:12] == b"AVI ":
        return "a video (AVI)"
    found = _iso_media(data)
    if found is not None:
        return found
    return next((what for magic, what in _MAGIC if data.startswith(magic)), None)


def heif_plan(name: str) -> str:
    """What `mirror create` does with a HEIC/HEIF photo, in its words: it refuses one by its name (sources.py)
    and by its bytes under any other name (`detect_kind`), both with HEIC_HINT; --convert-heic makes it a JPEG,
    --keep-metadata bundles it as it is. `mirror scan` says this of every HEIF, so that one it finds no metadata
    in is never called clean and then refused by create."""
    media = source_media(name)[0]  # as create names it: .hif is "a HEIF image" (helper-177)
    heif = media is not None and media.type in ("image/heic", "image/heif")
    what = media.described if media is not None and heif else "a HEIC/HEIF image"
    hint = HEIC_HINT
    return (f"{what}: its metadata cannot be removed without re-encoding it, so mirror create refuses it: {hint} "
            "(with --keep-metadata it is bundled as it is, metadata and all)")


def misnamed_heif(start: bytes, name: str) -> tuple[str, str] | None:
    """Why `mirror create` refuses a file named .heic or .heif that is no HEIF, from its first bytes, and the fix:
    a JPEG, PNG, WebP or GIF (a converter that kept the name) is to be renamed, not converted (a lossy
    re-encoding); an AVIF, a TIFF or a video is said to be what it is, with its own fix. None for a HEIF, or for
    bytes of no known format (the HEIF reader says why it cannot read them)."""
    if is_heif(start):
        return None
    try:
        kind = detect_kind(start, name)
    except PhotoError as exc:
        if refused_format(start) is None:
            return None
        return exc.reason, exc.hint or HINT
    _, what, suffix = CLEANED_FORMATS[kind]
    stem = name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return f"{what}, named as a HEIC image", f"rename it to {stem}{suffix}: it needs no converting"


def refused_format(data: bytes) -> str | None:
    """What a file is when its first bytes name a format mirror knows and refuses (an AVIF, a TIFF, a video),
    HEIF included; None for one of the four it cleans, or for bytes of no known format."""
    return _refused_format(data)


def detect_kind(data: bytes, name: str) -> str:
    """Return "jpeg", "png", "webp" or "gif" from the file's first bytes.

    Raises:
        PhotoError: the file is empty, of a known format that cannot be cleaned
            (with a hint to convert it or keep its metadata), or not recognised.
    """
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(PNG_SIGNATURE):
        return "png"
    if is_webp(data):
        return "webp"
    if is_gif(data):
        return "gif"
    if not data:
        raise PhotoError(name, "the file is empty")
    what = _refused_format(data)
    if what is not None:
        fixes = (fix for start, fix in FIX_BY_FORMAT.items() if what.startswith(start))
        hint = HEIC_HINT if is_heif(data) else next(fixes, HINT)
        raise PhotoError(name, f"{what}: its metadata cannot be removed without re-encoding it", hint=hint)
    media = media_for(name)
    named = f" (named like {media.described})" if media is not None and media.kind == "unsafe-photo" else ""
    # named like a photo mirror cleans, but not one: a damaged copy far more often than a format to convert
    damaged = media is not None and media.kind == "photo"
    raise PhotoError(name, f"not a JPEG, PNG, WebP or GIF image{named}", hint=DAMAGED_FIX if damaged else HINT)


def strip_photo(data: bytes, name: str) -> Stripped:
    """Remove identifying metadata from a JPEG, PNG, WebP or GIF, choosing the cleaner by content.

    Raises:
        PhotoError: the format is refused (see `detect_kind`) or the photo is malformed.
    """
    if is_heif(data):  # refused either way; a damaged one is said as such, not sent to --convert-heic
        from mirror.privacy.heic import heic_metadata

        heic_metadata(data, name)
    cleaner = {"jpeg": strip_jpeg, "png": strip_png, "webp": strip_webp, "gif": strip_gif}[detect_kind(data, name)]
    return cleaner(data, name)


def describe_metadata(data: bytes, name: str) -> tuple[str, ...]:
    """The kinds of metadata a photo holds, as `strip_photo` would report them; `data` is unchanged.

    Used when the author keeps the metadata, to record what was kept.

    Raises:
        PhotoError: the format is refused (see `detect_kind`) or the photo is malformed.
    """
    return strip_photo(data, name).removed


OTHER_FIX = "accounts are .md or .txt texts, photos .jpg, .png, .webp or .gif: move it out of the folder"
_FIXES = {"a video": VIDEO_FIX, "a camera RAW file": RAW_FIX, "a TIFF image": TIFF_FIX}


def refused_by_name(relative: str) -> tuple[str, str] | None:
    """Why create refuses a file by its name alone, whatever its bytes, and the fix: a format it never cleans (a
    video, a TIFF, an AVIF: --keep-metadata bundles it as it is), a document, a name of no account or photo (no
    option bundles these). None for a name it reads: an account, a photo it cleans, a HEIC/HEIF. `mirror scan`
    says the same of a HEIF under such a name."""
    media, _ = source_media(relative)
    if media is not None and (media.kind in ("account", "photo") or media.type in ("image/heic", "image/heif")):
        return None
    if media is not None:
        return f"{media.described}: its metadata cannot be removed here", _FIXES.get(media.described, CONVERT_HINT)
    if suffix_of(relative) in DOCUMENTS:
        what, fix = DOCUMENTS[suffix_of(relative)]
        return f"{what}: only plain text is bundled", fix
    return "not an account or a photo", OTHER_FIX
