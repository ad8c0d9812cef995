"""Collect an author's source folder: accounts and photos, every refusal with its fix, OS junk left out.

Example::

    found = collect_sources(Path("seeds"), SourceOptions(convert_heic=True))
    for f in found.files:
        print(f.relative, f.member, f.treatment)   # "DCIM/IMG_20220105_183012.jpg" "photos/001.jpg" "clean"
    found.refused                                  # [Refusal("notes.docx", "a Word document: ...", "File > ...")]
    found.skipped                                  # [(".DS_Store", "a macOS Finder file (it lists file names)")]

Nothing is skipped silently and nothing is refused one at a time: every file
the tool will not bundle is listed with its reason and a concrete fix, so one
run shows the author everything to do. Files operating systems leave behind
(.DS_Store, Thumbs.db, desktop.ini, __MACOSX/) are left out and named.
Photos whose names or folders carry a capture time or a device pattern get
neutral names (privacy/names.py) unless the author keeps the names.
"""

from __future__ import annotations

import os
import re
import stat
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from mirror.bundle.sourcelist import SourceFile, SourceList, encoded
from mirror.errors import ConfigError, InputError, PhotoError
from mirror.formats.media import junk_folder, os_junk, source_media
from mirror.formats.names import collision_key, name_problem
from mirror.formats.table import KeyedIndex
from mirror.privacy.names import name_pattern, neutral_names
from mirror.privacy.strip import HEIC_HINT, OTHER_FIX, refused_by_name
from mirror.record import field, record
from mirror.walk import walk

_UNDECODED = re.compile("[\udc80-\udcff]")
_UNREADABLE_FIX = "make it readable, or move it out of the folder"
MAX_HEIC_READ = 64 << 20  # read to tell a damaged HEIC from one to convert; a larger one is judged when converted


@record
class SourceOptions:
    """What the author asked for about sources.

    Attributes:
        keep_metadata: paths relative to SRC (files or folders) whose photos are bundled as they are.
        convert_heic: convert HEIC/HEIF photos to JPEG (privacy/heic.py) instead of refusing them.
        keep_names: keep photo names that carry a capture time or a device pattern.
    """

    keep_metadata: frozenset[str] = field(default_factory=frozenset)
    convert_heic: bool = False
    keep_names: bool = False


@record
class Refusal:
    """A file create will not bundle: which, why, and how to fix it."""

    path: str
    reason: str
    fix: str


@record
class Collected:
    """The files to bundle (sorted by member name), the refused ones, the OS files left out, the renamed."""

    files: SourceList
    refused: list[Refusal]
    skipped: list[tuple[str, str]]
    renamed: dict[str, str] = field(default_factory=dict)  # relative path -> why its name was not kept


def covered(relative: str, paths: frozenset[str]) -> bool:
    """Whether `relative` is one of `paths` or lies in a folder among them ("." is the whole of SRC)."""
    return any(p == "." or relative == p or relative.startswith(p.rstrip("/") + "/") for p in paths)


def resolve_in(src: Path, given: Path, option: str) -> str:
    """A path the author gave (relative to the current folder, to SRC, or absolute) as a path relative to SRC.

    Raises:
        ConfigError: it is not in SRC.
    """
    root = src.resolve()
    for candidate in (given, src / given):
        resolved = candidate.resolve() if candidate.exists() else None
        if resolved is not None and (resolved == root or root in resolved.parents):
            return resolved.relative_to(root).as_posix() if resolved != root else "."
    raise ConfigError(f"{option} {given}: not a file or folder in {src}")


def _member_name(relative: str, kind: str) -> str:
    top = "accounts" if kind == "account" else "photos"
    parts = relative.split("/")
    if parts[0] in ("accounts", "photos") and len(parts) > 1:
        parts = parts[1:]
    name = unicodedata.normalize("NFC", "/".join([top, *parts]))
    return relative if name == relative else name  # one string, not two equal ones, for each file




def _misnamed_heic(root: str, relative: str, size: int) -> Refusal | None:
    """A file named .heic that is empty, or a JPEG, PNG, WebP or GIF (a converter that kept the name): said as
    such, with the name to give it, rather than told to be converted from HEIC, a lossy re-encoding. An AVIF (or
    another format mirror knows, a TIFF, a video) named .heic or .heif is said to be what it is, with its own fix:
    it was told to pass --convert-heic, and then to rename it .jpg, .png, .webp or .gif."""
    from mirror.privacy.strip import FTYP_HEAD, misnamed_heif
    from mirror.safeio import open_regular

    if size == 0:
        return Refusal(relative, "the file is empty", "copy the photo again from the phone or camera")
    try:
        with open_regular(Path(root, relative)) as handle:  # a FIFO put in its place is refused, never waited on
            start = handle.read(FTYP_HEAD)
    except (OSError, ConfigError):
        return None  # create reads it later and says why it cannot
    misnamed = misnamed_heif(start, relative)  # what scan says of it too
    return None if misnamed is None else Refusal(relative, *misnamed)


def _unreadable_heic(root: str, relative: str) -> Refusal | None:
    """A HEIC that libheif cannot read, said as such: --convert-heic, the fix for a readable one, would only
    refuse it again for another reason. None when it reads (or cannot be opened now: create says why later)."""
    from mirror.privacy.heic import DAMAGED_HINT, heic_metadata
    from mirror.safeio import read_regular

    try:
        data = read_regular(Path(root, relative), MAX_HEIC_READ)
    except (OSError, ConfigError):
        return None
    try:
        heic_metadata(data, relative)
    except PhotoError as exc:
        return Refusal(relative, exc.reason, exc.hint or DAMAGED_HINT)
    return None


def _classify(root: str, relative: str, size: int, options: SourceOptions) -> SourceFile | Refusal:
    """What to do with one regular file."""
    media, named = source_media(relative)
    keep = covered(relative, options.keep_metadata)
    if media is not None and media.kind == "account":
        return SourceFile(root, relative, _member_name(named, "account"), "account", media.type, size,
                          "text")
    if media is not None and (media.kind == "photo" or keep):
        treatment = "keep" if keep else "clean"
        return SourceFile(root, relative, _member_name(named, "photo"), "photo", media.type, size,
                          treatment)
    if media is not None and media.type in ("image/heic", "image/heif"):
        misnamed = _misnamed_heic(root, relative, size)
        if misnamed is not None:
            return misnamed
        if not options.convert_heic:
            return _unreadable_heic(root, relative) or Refusal(
                relative, f"{media.described}: its metadata cannot be removed without re-encoding it", HEIC_HINT)
        member = _member_name(relative, "photo").rsplit(".", 1)[0] + ".jpg"
        return SourceFile(root, relative, member, "photo", "image/jpeg", size, "convert")
    return Refusal(relative, *(refused_by_name(relative) or ("not an account or a photo", OTHER_FIX)))


def _walk(src: Path, unreadable: list[Refusal]) -> Iterator[tuple[str, os.stat_result]]:
    """Every file and link under `src` (its path relative to `src`, and its lstat), sorted folder by folder;
    an OS or version-control folder once, as "x/.git/", not walked; a folder that cannot be listed added to
    `unreadable`. No object per file outlives its folder: a million accounts are listed in their columns, never as
    Paths."""
    top = str(src)

    def cannot_list(folder: str, exc: OSError) -> None:
        relative = os.path.relpath(folder, top).replace(os.sep, "/")
        unreadable.append(Refusal("." if relative == "." else relative + "/",
                                  f"a folder that cannot be read: {exc.strerror or exc}",
                                  _UNREADABLE_FIX))

    for root, dirs, files in walk(top, cannot_list):
        dirs.sort()
        prefix = os.path.relpath(root, top).replace(os.sep, "/")
        prefix = "" if prefix == "." else prefix + "/"
        # one entry each ("x/.git/"), not walked; a link of such a name is a link, refused or skipped as one
        left_out = [d for d in dirs if junk_folder(d, top=prefix == "") and not os.path.islink(os.path.join(root, d))]
        dirs[:] = [d for d in dirs if d not in left_out]
        for name in sorted(files) + [d for d in dirs if os.path.islink(os.path.join(root, d))] + [
                d + "/" for d in left_out]:
            try:
                status = os.lstat(os.path.join(root, name))
            except FileNotFoundError:
                continue  # gone since its folder was listed, as if it had never been there
            except OSError as exc:  # its path too long for the system, say
                unreadable.append(Refusal(prefix + name, f"it cannot be read: {exc.strerror or exc}", _UNREADABLE_FIX))
                continue
            yield prefix + name, status


def _rename(files: SourceList) -> tuple[SourceList, dict[str, str]]:
    """The files sorted by member name, photos with neutral names where theirs carry a capture time or a device
    pattern; and why each changed. A photo's new name stays under photos/, so accounts are never in the way.
    A photo kept with --keep-metadata keeps its name too: it is kept exactly as it is, for provenance."""
    kept = {f.member for f in files.of_kind("photo") if f.treatment == "keep"}
    photos = [f.member for f in files.of_kind("photo") if f.member not in kept]
    renamed = neutral_names(photos, kept)
    why = {f.relative: name_pattern(f.relative) or "a camera or app folder"
           for f in files.of_kind("photo") if f.member in renamed}
    return files.sorted(renamed), why


def _name_problem(member: str) -> str | None:
    """Why a source's name cannot be a member's, said plainly for the common foreign case: the file system gave
    bytes that are not UTF-8 (names from an old Windows or a ZIP file made there), which Python holds as
    U+DC80..U+DCFF."""
    undecoded = None if member.isascii() else _UNDECODED.search(member)
    if undecoded is not None:
        return f"not UTF-8 (byte 0x{ord(undecoded[0]) - 0xDC00:02X}), perhaps from another system's encoding"
    return name_problem(member)


def _name_refusals(files: SourceList) -> list[Refusal]:
    refused = [Refusal(f.relative, f"its name in the bundle, {f.member}, is not allowed: {problem}",
                       "rename the file") for f in files if (problem := _name_problem(f.member)) is not None]
    keys = KeyedIndex(len(files), lambda i: encoded(collision_key(files.member(i))), tagged=True)
    for i in range(len(files)):
        other = keys.add(i)
        if other is None:
            continue
        first, second = files[other], files[i]
        if first.member == second.member:  # bundled under one name: a .jfif as .jpg, a converted HEIC as .jpg
            refused.append(Refusal(second.relative, f"it would be bundled as {second.member}, as "
                                   f"{first.relative} is", "rename one of them"))
        else:
            refused.append(Refusal(second.relative, f"it would be the same file as {first.relative} on "
                                   "Windows or macOS", "rename one of them"))
    return refused


def collect_sources(src: Path, options: SourceOptions | None = None) -> Collected:
    """Every file under `src`, classified; refusals and OS files listed, never raised one by one.

    Raises:
        InputError: `src` is not a folder.
    """
    if not src.is_dir():
        raise InputError(f"{src} is not a folder")
    options, root = options or SourceOptions(), str(src)
    found = SourceList(root)
    refused: list[Refusal] = []
    skipped: list[tuple[str, str]] = []
    for relative, status in _walk(src, refused):
        junk = os_junk(relative)
        if junk is not None:
            skipped.append((relative, junk))
            continue
        item = _classify(root, relative, status.st_size, options) if stat.S_ISREG(status.st_mode) else Refusal(
            relative, "a link or not a regular file", "put the file itself in the folder, or move the link out")
        if isinstance(item, SourceFile):
            found.append(item)
        else:
            refused.append(item)
    files, renamed = (found.sorted(), {}) if options.keep_names else _rename(found)
    del found
    refused += _name_refusals(files)
    return Collected(files, refused, skipped, renamed)
