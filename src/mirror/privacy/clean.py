"""What happens to a photo before it is hashed: cleaned by default, kept only when asked.

Example::

    cleaned = clean_photo(raw, "photos/a.jpg", keep_metadata=False)
    cleaned.data      # the photo without EXIF, XMP, comments, thumbnails, trailing data
    cleaned.record    # {"metadata": "removed", "removed": ["exif", "gps", ...]} for bundle.json

The record names kinds of metadata, never their values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mirror.errors import PhotoError
from mirror.privacy.strip import describe_metadata, strip_photo


@dataclass(frozen=True, slots=True)
class Cleaned:
    """A photo ready to hash and store, and what was done to it."""

    data: bytes
    record: dict[str, Any]


def clean_photo(raw: bytes, name: str, keep_metadata: bool) -> Cleaned:
    """Strip identifying metadata losslessly, unless the author keeps it.

    Raises:
        PhotoError: the photo is malformed, or of a kind that cannot be cleaned.
    """
    if keep_metadata:
        try:
            kinds = list(describe_metadata(raw, name))
        except PhotoError:
            kinds = ["unknown (format not inspected)"]
        return Cleaned(raw, {"metadata": "kept", "kept": kinds})
    stripped = strip_photo(raw, name)
    record: dict[str, Any] = {"metadata": "removed", "removed": list(stripped.removed)}
    if stripped.orientation != 1:
        record["kept"] = ["orientation"]
    return Cleaned(stripped.data, record)
