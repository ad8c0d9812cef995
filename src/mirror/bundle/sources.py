"""Collect an author's source folder: accounts (UTF-8 text) and photos, nothing else.

Example::

    files = collect_sources(Path("seeds"))
    for f in files:
        print(f.member, f.kind)      # "accounts/2022-01-05.en.md" "account"

Files the tool does not understand are refused as a list, never skipped: an
author must know exactly what goes into a signed bundle.
"""

from __future__ import annotations

import os
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from mirror.errors import InputError, PhotoError
from mirror.formats.media import media_for, suffix_of
from mirror.formats.names import find_collision, name_problem, printable
from mirror.privacy.exif import CONVERT_HINT


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One file to bundle: where it is, its name in the bundle, what it is."""

    path: Path
    member: str
    kind: str  # "account" or "photo"
    media_type: str
    size: int


def _member_name(relative: str, kind: str) -> str:
    top = "accounts" if kind == "account" else "photos"
    parts = relative.split("/")
    if parts[0] in ("accounts", "photos") and len(parts) > 1:
        parts = parts[1:]
    return unicodedata.normalize("NFC", "/".join([top, *parts]))


def collect_sources(src: Path, keep_metadata: bool = False) -> list[SourceFile]:
    """Every file under `src`, classified; sorted by member name.

    Raises:
        InputError: unknown files, links, unsafe names, or name collisions (listed).
        PhotoError: a photo format that cannot be cleaned (without --keep-metadata).
    """
    if not src.is_dir():
        raise InputError(f"{src} is not a folder")
    found: list[SourceFile] = []
    refused: list[str] = []
    for root, dirs, files in os.walk(src, followlinks=False):
        dirs.sort()
        for name in sorted(files) + [d for d in dirs if (Path(root) / d).is_symlink()]:
            path = Path(root) / name
            relative = path.relative_to(src).as_posix()
            info = path.lstat()
            media = media_for(name)
            if not stat.S_ISREG(info.st_mode):
                refused.append(f"{printable(relative)} (not a regular file)")
            elif media is not None and media.kind == "account":
                found.append(SourceFile(path, _member_name(relative, "account"), "account", media.type,
                                        info.st_size))
            elif media is not None and (media.kind == "photo" or keep_metadata):
                found.append(SourceFile(path, _member_name(relative, "photo"), "photo", media.type, info.st_size))
            elif media is not None:
                raise PhotoError(relative, f"{suffix_of(name)[1:].upper()} files cannot be cleaned of metadata safely",
                                 hint=CONVERT_HINT)
            else:
                refused.append(printable(relative))
    if refused:
        shown = ", ".join(refused[:10]) + (f" and {len(refused) - 10} more" if len(refused) > 10 else "")
        raise InputError(f"{len(refused)} file(s) in {src} are not accounts or photos: {shown}",
                         hint="accounts are .md or .txt (UTF-8), photos .jpg or .png; move the others out")
    if not found:
        raise InputError(f"{src} holds no accounts or photos")
    for item in found:
        problem = name_problem(item.member)
        if problem is not None:
            raise InputError(f"{printable(item.member)}: {problem}", hint="rename the file")
    collision = find_collision([f.member for f in found])
    if collision is not None:
        raise InputError(f"{collision[0]} and {collision[1]} would be the same file on some systems",
                         hint="rename one of them")
    return sorted(found, key=lambda f: f.member)
