"""The members of an untrusted archive that may ever reach a disk: checked names, regular files only.

Example::

    files = regular_files(read_archive(fp, Limits()))   # ArchiveError at the first unsafe member

Refused: unsafe names (formats/names.py), links, devices, set-id or sticky bits,
deletion markers, folders that carry data, duplicates, a name that is both a file and
a folder, folders no file needs, more than MAX_FOLDERS folders, and names that collide
on a case-insensitive or normalizing file system. Checked on the header alone, before
any data is decoded, in time linear in the size of the header.
"""

from __future__ import annotations

import stat

from mirror.errors import ArchiveError
from mirror.formats.names import check_member_name, find_collision, printable
from mirror.sevenzip.model import MAX_FOLDERS, Archive, Member


def _check_member(member: Member) -> None:
    check_member_name(member.name)
    shown = printable(member.name)
    if member.is_dir and member.has_stream:
        raise ArchiveError(f"member {shown!r} is a folder that carries data")
    if member.is_anti:
        raise ArchiveError(f"member {shown!r} is a deletion marker")
    if member.attributes is not None and member.attributes & 0x400:
        raise ArchiveError(f"member {shown!r} is a link or reparse point")
    mode = member.unix_mode
    if mode is not None:
        if stat.S_IFMT(mode) not in (stat.S_IFREG, stat.S_IFDIR, 0):
            raise ArchiveError(f"member {shown!r} is not a regular file (a link or device)")
        if mode & (stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX):
            raise ArchiveError(f"member {shown!r} has set-id or sticky bits ({mode & 0o7777:o})")


def _folders(names: list[str]) -> set[str]:
    """Every folder the names need, each made once: linear in the total length of the names.

    Raises:
        ArchiveError: more than MAX_FOLDERS folders (each deep name could add a long one).
    """
    folders: set[str] = set()
    for name in names:
        cut = name.rfind("/")
        while cut > 0 and (parent := name[:cut]) not in folders:  # a known folder's parents are known too
            folders.add(parent)
            if len(folders) > MAX_FOLDERS:
                raise ArchiveError(f"the bundle needs more than {MAX_FOLDERS} folders")
            cut = name.rfind("/", 0, cut)
    return folders


def regular_files(archive: Archive) -> list[Member]:
    """Every member checked; the regular files, in archive order. Linear time in the size of the header.

    Raises:
        ArchiveError: the first problem found.
    """
    files: list[Member] = []
    directories: set[str] = set()
    names: set[str] = set()
    for member in archive.members:
        _check_member(member)
        if member.is_dir:
            directories.add(member.name)
            continue
        if member.name in names:
            raise ArchiveError(f"member {printable(member.name)!r} appears twice")
        names.add(member.name)
        files.append(member)
    parents = _folders([m.name for m in files])
    if directories - parents:
        raise ArchiveError(f"unexpected folder {printable(sorted(directories - parents)[0])!r} in the bundle")
    if parents & names:
        raise ArchiveError(f"{printable(sorted(parents & names)[0])!r} is both a file and a folder")
    collision = find_collision(sorted(names | parents))
    if collision is not None:
        raise ArchiveError(f"members {printable(collision[0])!r} and {printable(collision[1])!r} collide on some "
                           "systems (case or Unicode normalization)")
    return files
