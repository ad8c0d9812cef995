"""Media types by file name: what the tool bundles, what it refuses, and what bundle.json may name.

Example::

    media_for("photos/a.JPG").type          # "image/jpeg"
    media_for("accounts/a.md").kind         # "account"
    media_for("IMG_1.HEIC").kind            # "unsafe-photo": metadata cannot be removed losslessly
    DOCUMENTS[".docx"]                      # ("a Word document", 'File > Save As > "Plain Text (.txt)", ...')
    os_junk("__MACOSX/._a.jpg")             # "macOS archive leftovers (copies of file attributes)"

The one table of formats: sources, scan, the photo cleaners and bundle.json's
validation all read it.
"""

from __future__ import annotations

import re
from typing import Literal

from mirror.record import record

Kind = Literal["account", "photo", "unsafe-photo"]


@record
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
    ".webp": Media("image/webp", "photo", "a WebP image"),
    ".gif": Media("image/gif", "photo", "a GIF image"),
    # Formats whose metadata cannot be removed losslessly: refused unless the author keeps metadata.
    ".heic": Media("image/heic", "unsafe-photo", "a HEIC image"),
    ".heif": Media("image/heif", "unsafe-photo", "a HEIF image"),
    ".avif": Media("image/avif", "unsafe-photo", "an AVIF image"),
    ".tif": Media("image/tiff", "unsafe-photo", "a TIFF image"),
    ".tiff": Media("image/tiff", "unsafe-photo", "a TIFF image"),
    ".mp4": Media("video/mp4", "unsafe-photo", "a video"),
    ".m4v": Media("video/mp4", "unsafe-photo", "a video"),
    ".mov": Media("video/quicktime", "unsafe-photo", "a video"),
    ".3gp": Media("video/3gpp", "unsafe-photo", "a video"),
    ".bmp": Media("image/bmp", "unsafe-photo", "a BMP image"),
    ".jxl": Media("image/jxl", "unsafe-photo", "a JPEG XL image"),
    **{raw: Media("image/x-raw", "unsafe-photo", "a camera RAW file")
       for raw in (".dng", ".cr2", ".cr3", ".nef", ".arw", ".orf", ".rw2", ".raf")},
}
MEDIA_TYPES = frozenset(m.type for m in _TABLE.values())
# The photo formats the cleaners read (privacy/strip.py's detect_kind): media type, what to call one, usual suffix.
CLEANED_FORMATS = {"jpeg": ("image/jpeg", "a JPEG image", ".jpg"), "png": ("image/png", "a PNG image", ".png"),
                   "webp": ("image/webp", "a WebP image", ".webp"), "gif": ("image/gif", "a GIF image", ".gif")}
# Other names of a format, which bundles never carry: such a file is bundled under the usual one (a browser on
# Windows saves a JPEG as .jfif; Canon and Sony cameras save HEIF as .HIF; 3D cameras a JPEG as .MPO). Readers
# older than this list still open the bundle.
_ALIASES = {".jfif": ".jpg", ".jfi": ".jpg", ".jif": ".jpg", ".jpe": ".jpg", ".hif": ".heif", ".apng": ".png",
            ".mpo": ".jpg"}  # an animated PNG; a camera's multi-picture JPEG (its other pictures are removed)
# Documents that hold text an author may mean as an account, and how to turn each into plain text.
_SAVE_AS = ('File > Save As > "Plain Text (.txt)", encoding "Unicode (UTF-8)" (Word; LibreOffice: "Text (.txt)", '
            'character set "Unicode (UTF-8)")')
DOCUMENTS = {
    ".docx": ("a Word document", _SAVE_AS), ".doc": ("a Word document", _SAVE_AS),
    ".odt": ("an OpenDocument text", _SAVE_AS), ".rtf": ("an RTF document", _SAVE_AS),
    ".pages": ("a Pages document", 'File > Export To > "Plain Text", encoding "Unicode (UTF-8)"'),
    ".pdf": ("a PDF document", "copy its text into a text editor and save it as plain text (UTF-8, .txt)"),
}
# What operating systems leave in folders: never bundled (Thumbs.db even holds small copies of photos).
_JUNK_FILES = {
    ".ds_store": "a macOS Finder file (it lists file names)", "thumbs.db": "a Windows thumbnail cache (it holds "
    "small copies of photos)", "ehthumbs.db": "a Windows thumbnail cache", "ehthumbs_vista.db":
    "a Windows thumbnail cache", "desktop.ini": "a Windows folder settings file", ".directory":
    "a KDE folder settings file", ".picasa.ini": "a Picasa file (it may name people tagged in photos)",
    "picasa.ini": "a Picasa file (it may name people tagged in photos)", "icon\r": "a macOS folder icon",
    ".localized": "a macOS folder name file", ".git": "a git worktree's pointer to its repository",
    **{name: "a version-control file (it may name files and people)" for name in (
        ".gitignore", ".gitattributes", ".gitmodules", ".gitkeep", ".mailmap", ".git-blame-ignore-revs",
        ".hgignore", ".hgtags", ".hgsub", ".hgsubstate", ".bzrignore", ".cvsignore", ".fslckout", "_fossil_")},
}
_JUNK_FOLDERS = {
    "__macosx": "macOS archive leftovers (copies of file attributes)", ".spotlight-v100": "a macOS search index",
    ".trashes": "a macOS trash folder", ".fseventsd": "a macOS change log", ".temporaryitems": "macOS temporary files",
    ".thumbnails": "a thumbnail cache", "@eadir": "a Synology thumbnail folder", ".@__thumb": "a QNAP thumbnail folder",
    ".documentrevisions-v100": "a macOS version store (old copies of files)",
    "$recycle.bin": "a Windows recycle bin", "system volume information": "a Windows system folder",
    "lost+found": "a file system's recovery folder (pieces of lost files)", ".trash": "a trash folder",
    **{name: "a version-control folder (its history names who changed what, and when)" for name in (
        ".git", ".hg", ".svn", ".bzr", "_darcs", ".fossil-settings", ".jj")},
}
# Names a person may give a folder of their own too (a project called "Recycler"): a system's only at the top of
# the source folder, where a drive's root puts them.
_ROOT_FOLDERS = {"recycler": "a Windows recycle bin", "found.000": "Windows disk-check leftovers"}
_USER_TRASH = re.compile(r"\.trash-[0-9]{1,10}")  # a Linux desktop's trash on a removable drive: .Trash-1000


def _junk_folder(name: str, top: bool) -> str | None:
    lower = name.lower()
    found = _JUNK_FOLDERS.get(lower) or (_ROOT_FOLDERS.get(lower) if top else None)
    return found or ("a trash folder" if lower.startswith(".trash-") and _USER_TRASH.fullmatch(lower) else None)


def junk_folder(name: str, top: bool) -> bool:
    """Whether a folder of this name (`top`: right in the source folder) is an operating system's or a tool's,
    left out whole and never walked: its files are no one's accounts, and at a drive's root (.Trashes, System
    Volume Information, lost+found) it is often unreadable even to the drive's owner."""
    return _junk_folder(name, top) is not None


def suffix_of(name: str) -> str:
    """The lower-case extension of the last path part, with its dot; "" when there is none (".md" has none)."""
    last = name.rpartition("/")[2]
    if last in ("", "."):  # "a/b/", "a/b/.": the last part PurePosixPath names, past trailing slashes and "."
        last = next((part for part in reversed(name.split("/")) if part not in ("", ".")), "")
    dot = last.rfind(".")  # PurePosixPath(name).suffix, without making a path (4 us a name: a million in a scan)
    return last[dot:].lower() if 0 < dot < len(last) - 1 else ""


def media_for(name: str) -> Media | None:
    """The format a file name says, or None for names the tool does not know."""
    return _TABLE.get(suffix_of(name))


def source_media(name: str) -> tuple[Media | None, str]:
    """The format of a source file, and the name it is bundled under: `name` itself, or with an alias's suffix
    replaced by the usual one ("a.jfif" -> "a.jpg")."""
    suffix = suffix_of(name)
    usual = _ALIASES.get(suffix)
    if usual is None:
        return _TABLE.get(suffix), name
    return _TABLE[usual], name[: len(name) - len(suffix)] + usual


def os_junk(relative: str) -> str | None:
    """What an operating system's file or folder in a source tree is (".DS_Store", "Thumbs.db", "__MACOSX/..."),
    or None for anything else."""
    folders, _, name = relative.rpartition("/")
    for depth, part in enumerate(folders.split("/") if folders else ()):
        junk = _junk_folder(part, top=depth == 0)
        if junk is not None:
            return junk
    if name.startswith("._"):
        return "a macOS file-attribute copy (it may hold where a file was downloaded from)"
    return _JUNK_FILES.get(name.lower())


_PAGE_STARTS = (b"<!doctype html", b"<html", b"<head", b"<!--", b"<meta", b"<body")


def is_web_page(start: bytes) -> bool:
    """Whether a file's first bytes are an HTML page's: what a captive portal, a block page or a browser's "save"
    gives in place of a file (fetch refuses it as an answer, verify names it)."""
    return start[:64].lstrip(b"\xef\xbb\xbf \t\r\n").lower().startswith(_PAGE_STARTS)
