"""What happens to a photo before it is hashed: cleaned by default, converted or kept only when asked.

Example::

    cleaned = clean_photo(raw, "photos/a.jpg", "clean")
    cleaned.data      # the photo without EXIF, XMP, comments, thumbnails, trailing data
    cleaned.record    # {"metadata": "removed", "removed": ["exif", "gps", ...]} for bundle.json
    cleaned.notes     # ("left out 7 stray byte(s) between segments, which decoders skip",)

    clean_photo(heic, "photos/1.jpg", "convert").record
    # {"metadata": "removed", "removed": ["exif", "gps", "xmp"], "converted": "HEIC to JPEG"}

The record names kinds of metadata, never their values. Treatments: "clean"
(lossless, privacy/strip.py), "convert" (a HEIC decoded and re-encoded as JPEG,
privacy/heic.py), "keep" (the photo as it is, --keep-metadata).
"""

from __future__ import annotations

from typing import Any

from mirror.errors import PhotoError
from mirror.privacy.exif import Recipe
from mirror.privacy.strip import describe_metadata, detect_kind, is_heif, refused_format, strip_photo
from mirror.record import record


@record
class Cleaned:
    """A photo ready to hash and store, what was done to it, and what the author should be told."""

    data: bytes
    record: dict[str, Any]
    notes: tuple[str, ...] = ()
    recipe: Recipe = ()  # how `data` is made from the original (privacy/exif.py follow); () when not known
    colours: str = ""  # a colour profile removed whose absence changes the colours shown (exif.Stripped)


def kept_kinds(raw: bytes, name: str) -> list[str]:
    """The kinds of metadata a photo keeps when it is bundled as it is."""
    if is_heif(raw):
        from mirror.privacy.heic import heic_metadata, movie_times

        try:
            return [kind for kind, _ in heic_metadata(raw, name) + movie_times(raw)]
        except PhotoError:
            return ["unknown (format not inspected)"]
    try:
        return list(describe_metadata(raw, name))
    except PhotoError:
        return ["unknown (format not inspected)"]


def _cleaned_kind(raw: bytes, name: str) -> bool:
    """Whether `raw` is a JPEG, PNG, WebP or GIF (what a name of another format cannot be bundled under)."""
    try:
        detect_kind(raw, name)
    except PhotoError:
        return False
    return True


def clean_photo(raw: bytes, name: str, treatment: str) -> Cleaned:
    """Strip identifying metadata losslessly, convert a HEIC, or keep the photo as it is.

    Raises:
        PhotoError: the photo is malformed, of a kind that cannot be cleaned, or not the HEIC its
            name promised (for "convert").
    """
    if treatment == "keep":
        return Cleaned(raw, {"metadata": "kept", "kept": kept_kinds(raw, name)})
    if treatment == "convert":
        from mirror.privacy.heic import convert_heic

        if not is_heif(raw) and refused_format(raw) is not None:
            detect_kind(raw, name)  # an AVIF, a TIFF, a video: refused as what it is, with its own fix
        if not is_heif(raw) and _cleaned_kind(raw, name):
            raise PhotoError(name, "named like a HEIC/HEIF image, but it is not one",
                             hint="give it the extension of what it is (.jpg, .png, .webp or .gif)")
        converted = convert_heic(raw, name)
        return Cleaned(converted.data, {"metadata": "removed", "removed": list(converted.removed),
                                        "converted": "HEIC to JPEG"}, converted.notes)
    stripped = strip_photo(raw, name)
    record: dict[str, Any] = {"metadata": "removed", "removed": list(stripped.removed)}
    if stripped.orientation != 1:
        record["kept"] = ["orientation"]
    return Cleaned(stripped.data, record, stripped.notes, stripped.recipe, stripped.colours)
