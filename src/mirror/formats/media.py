"""Media types by file name: what the tool bundles, what it refuses, and what bundle.json may name.

Example::

    media_for("photos/a.JPG").type          # "image/jpeg"
    media_for("accounts/a.md").kind         # "account"
    media_for("IMG_1.HEIC").kind            # "unsafe-photo": metadata cannot be removed losslessly

The one table of formats: sources, scan, the photo cleaners and bundle.json's
validation all read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal

Kind = Literal["account", "photo", "unsafe-photo"]


@dataclass(frozen=True, slots=True)
class Media:
    """A format: its media type, what the tool does with it, and how to name it to a person."""

    type: str
    kind: Kind
    described: str


_TABLE: dict[str, Media] = {
    ".md": Media("text/markdown", "account", "a Markdown text"),
    ".markdown": Media("text/markdown", "account", "a Markdown text"),
    ".txt": Media("text/plain", "account", "a plain text"),
    ".jpg": Media("image/jpeg", "photo", "a JPEG image"),
    ".jpeg": Media("image/jpeg", "photo", "a JPEG image"),
    ".png": Media("image/png", "photo", "a PNG image"),
    # Formats whose metadata cannot be removed losslessly: refused unless the author keeps metadata.
    ".heic": Media("image/heic", "unsafe-photo", "a HEIC image"),
    ".heif": Media("image/heif", "unsafe-photo", "a HEIF image"),
    ".avif": Media("image/avif", "unsafe-photo", "an AVIF image"),
    ".tif": Media("image/tiff", "unsafe-photo", "a TIFF image"),
    ".tiff": Media("image/tiff", "unsafe-photo", "a TIFF image"),
    ".gif": Media("image/gif", "unsafe-photo", "a GIF image"),
    ".webp": Media("image/webp", "unsafe-photo", "a WebP image"),
    ".mp4": Media("video/mp4", "unsafe-photo", "a video"),
    ".m4v": Media("video/mp4", "unsafe-photo", "a video"),
    ".mov": Media("video/quicktime", "unsafe-photo", "a video"),
    ".3gp": Media("video/3gpp", "unsafe-photo", "a video"),
    **{raw: Media("image/x-raw", "unsafe-photo", "a camera RAW file")
       for raw in (".dng", ".cr2", ".cr3", ".nef", ".arw", ".orf", ".rw2", ".raf")},
}
MEDIA_TYPES = frozenset(m.type for m in _TABLE.values())


def suffix_of(name: str) -> str:
    """The lower-case extension of the last path part, with its dot; "" when there is none (".md" has none)."""
    return PurePosixPath(name).suffix.lower()


def media_for(name: str) -> Media | None:
    """The format a file name says, or None for names the tool does not know."""
    return _TABLE.get(suffix_of(name))
