"""The members of an untrusted archive that may ever reach a disk: checked names, regular files only.

Example::

    files = regular_files(read_archive(fp, Limits()))   # ArchiveError at the first unsafe member

Refused: unsafe names (formats/names.py), links, devices, set-id or sticky bits, Windows attributes that hide,
deletion markers, folders that carry data, duplicates, a name that is both a file and
a folder, folders no file needs, more than MAX_FOLDERS folders, and names that collide
on a case-insensitive or normalizing file system. Checked on the header alone, before
any data is decoded, in time linear in the size of the header.
"""

from __future__ import annotations

import re
import stat
from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import overload

from mirror.errors import ArchiveError
from mirror.formats.names import check_member_name, collision_key, printable
from mirror.formats.table import KeyedIndex
from mirror.sevenzip.model import MAX_FOLDERS, Archive, Member, MemberTable


def _check_member(member: Member) -> None:
    check_member_name(member.name)
    shown = printable(member.name)
    problem = kind_problem(member)
    if problem is not None:
        raise ArchiveError(f"member {shown!r} {problem}")
    hiding = _out_of_sight(member.attributes)
    if hiding:
        raise ArchiveError(f"member {shown!r} is marked hidden, system, offline or temporary ({hiding:#x}): 7-Zip "
                           "on Windows would extract it out of sight")
    mode = member.unix_mode
    if mode is not None and mode & (stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX):
        raise ArchiveError(f"member {shown!r} has set-id or sticky bits ({mode & 0o7777:o})")
    needed = stat.S_IRUSR | stat.S_IXUSR if member.is_dir else stat.S_IRUSR
    if mode is not None and mode & needed != needed and member.is_dir:  # 7-Zip extracts it with that mode
        raise ArchiveError(f"member {shown!r} has the mode {mode & 0o7777:03o}: extracted by 7-Zip, a folder its "
                           "owner could not open")
    if mode is not None and mode & needed != needed:
        raise ArchiveError(f"member {shown!r} has the mode {mode & 0o7777:03o}: extracted by 7-Zip, a file its "
                           "owner could not read")


def kind_problem(member: Member) -> str | None:
    """Why a member is not a plain file or folder (a link, a device, a deletion marker...), or None."""
    if member.is_dir and member.has_stream:
        return "is a folder that carries data"
    if member.is_empty_file and member.attributes is not None and member.attributes & 0x10:
        return "is marked both as an empty file and as a folder"  # 7-Zip: a file
    if member.is_anti:
        return "is a deletion marker"
    if member.attributes is not None and member.attributes & 0x400:
        return "is a link or reparse point"
    mode = member.unix_mode
    if mode is not None and stat.S_IFMT(mode) not in (stat.S_IFREG, stat.S_IFDIR, 0):
        return "is not a regular file (a link or device)"
    if mode is not None and stat.S_IFMT(mode) == stat.S_IFDIR and not member.is_dir:
        return "is a file whose mode says folder"
    return None


def kind_problems(table: MemberTable) -> Iterator[tuple[int, str]]:
    """Each member of `table` that is not a plain file or folder, and why (`kind_problem`): judged once a kind
    (`MemberTable.kind`), so a million members of a few kinds are not each made a Member and judged."""
    judged: dict[tuple[int, int | None], str | None] = {}
    for i in range(len(table)):
        kind = table.kind(i)
        if kind in judged:
            problem = judged[kind]
        else:
            if len(judged) >= _KINDS_KEPT:  # (a hostile archive gives each member attributes of its own)
                judged.clear()
            problem = judged[kind] = kind_problem(table[i])
        if problem is not None:
            yield i, problem


_KINDS_KEPT = 4096


def _folders(names: Iterable[str]) -> set[str]:
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


# Windows attributes 7-Zip sets on what it extracts there that keep files and folders from being seen as they are:
# hidden (0x2) and system (0x4) ones are not shown by Explorer; temporary (0x100) and offline (0x1000) ones are not
# plain files to it. The container is not signed: anyone passing a bundle on could set them and it still verified
# (helper-149). Read-only, archive, normal, not-indexed, compressed, and encrypted and device (which Windows does
# not let a program set: a copy repacked from an EFS folder carries 0x4000, helper-152) pass. Only the low 16 bits
# are Windows attributes: 7-Zip reads the upper ones as a POSIX mode, with the 0x8000 flag or without it.
_OUT_OF_SIGHT = 0x2 | 0x4 | 0x100 | 0x1000


def _out_of_sight(attributes: int | None) -> int:
    """The Windows attribute bits of `attributes` that hide a member (0: none)."""
    return 0 if attributes is None else attributes & _OUT_OF_SIGHT


# Attributes of a regular file that _check_member accepts at once: none stored, or the archive bit and/or a
# regular file's POSIX mode 0644 (what mirror create and 7-Zip on Linux write), with nothing else set.
_PLAIN_ATTRIBUTES = frozenset({-1, 0, 0x20, 0x8000 | ((stat.S_IFREG | 0o644) << 16),
                               0x20 | 0x8000 | ((stat.S_IFREG | 0o644) << 16)})


class Files(Sequence[Member]):
    """The regular files of an archive, in archive order: a view of its member table, found by name.

    About 12 bytes per file beyond the table (its position, and a slot of the name index, half empty).
    `name in files` and `files.find(name)` look a name up in constant time.
    """

    __slots__ = ("lookup", "positions", "table")

    def __init__(self, table: MemberTable, positions: array[int]) -> None:
        self.table, self.positions = table, positions
        self.lookup = KeyedIndex(len(positions), self.raw)

    def raw(self, k: int) -> bytes:
        """File `k`'s name as UTF-8."""
        return self.table.names.raw(self.positions[k])

    def name(self, k: int) -> str:
        """File `k`'s name."""
        return self.table.names.name(self.positions[k])

    def size(self, k: int) -> int:
        """File `k`'s declared size."""
        return self.table.sizes[self.positions[k]]

    def has_stream(self, k: int) -> bool:
        """Whether file `k` has a data stream (an empty file has none)."""
        return self.table.has_stream(self.positions[k])

    def position(self, member: Member, start: int = 0) -> int | None:
        """The position among the files of `member` (one from this archive's table), looking from `start` on
        first: members come in archive order, so a caller walking them passes the last position found."""
        positions = self.positions
        if member.index >= 0:
            k = start
            while k < len(positions) and positions[k] < member.index:
                k += 1
            if k < len(positions) and positions[k] == member.index:
                return k
        return self.find(member.name)

    def names(self) -> Iterator[str]:
        """Every file's name, in archive order."""
        return (self.name(k) for k in range(len(self)))

    def find(self, name: str) -> int | None:
        """The position among the files of the one named `name`, or None."""
        return self.lookup.find(name.encode("utf-8", "surrogatepass"))

    def __contains__(self, item: object) -> bool:
        name = item.name if isinstance(item, Member) else item
        return isinstance(name, str) and self.find(name) is not None

    def __len__(self) -> int:
        return len(self.positions)

    @overload
    def __getitem__(self, k: int) -> Member: ...

    @overload
    def __getitem__(self, k: slice) -> list[Member]: ...

    def __getitem__(self, k: int | slice) -> Member | list[Member]:
        if isinstance(k, slice):
            return [self[j] for j in range(*k.indices(len(self)))]
        return self.table[self.positions[k]]


_SPECIAL = re.compile(rb"[A-Z\x80-\xff]")  # a name whose collision key may differ from it


class NameList(Sequence[str]):
    """The names of `files`, in archive order, as a sequence of strings made on demand."""

    __slots__ = ("files",)

    def __init__(self, files: Files) -> None:
        self.files = files

    def __len__(self) -> int:
        return len(self.files)

    @overload
    def __getitem__(self, k: int) -> str: ...

    @overload
    def __getitem__(self, k: slice) -> list[str]: ...

    def __getitem__(self, k: int | slice) -> str | list[str]:
        if isinstance(k, slice):
            return [self.files.name(j) for j in range(*k.indices(len(self)))]
        if k < 0:
            k += len(self)
        if not 0 <= k < len(self):
            raise IndexError("file index out of range")
        return self.files.name(k)

    def __iter__(self) -> Iterator[str]:
        return self.files.names()

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.files.find(name) is not None


def regular_files(archive: Archive) -> Files:
    """Every member checked; the regular files, in archive order. Linear time in the size of the header.

    Raises:
        ArchiveError: the first problem found.
    """
    table = archive.members
    positions = array("i")
    directories: set[str] = set()
    plain = _PLAIN_ATTRIBUTES
    for i in range(len(table)):
        if table.plain_file(i, plain):  # a plain file with data: its name alone
            check_member_name(table.name(i))
            positions.append(i)
            continue
        member = table[i]
        _check_member(member)
        if member.is_dir:
            directories.add(member.name)
            if len(directories) > MAX_FOLDERS:  # each must be a folder some file needs: at most that many
                raise ArchiveError(f"the bundle needs more than {MAX_FOLDERS} folders")
            continue
        positions.append(i)
    files = Files(table, positions)
    twice = files.lookup.add_all(len(files))
    if twice is not None:
        name = printable(files.name(twice))
        raise ArchiveError(f"member {name!r} appears twice")
    parents = _folders(files.names())
    if directories - parents:
        raise ArchiveError(f"unexpected folder {printable(sorted(directories - parents)[0])!r} in the bundle")
    both = sorted(p for p in parents if files.find(p) is not None)
    if both:
        raise ArchiveError(f"'{printable(both[0])}' is both a file and a folder")
    collision = find_collision(files, sorted(parents))
    if collision is not None:
        raise ArchiveError(f"members '{printable(collision[0])}' and '{printable(collision[1])}' collide on some "
                           "systems (case or Unicode normalization)")
    return files


def find_collision(files: Files, folders: list[str]) -> tuple[str, str] | None:
    """A pair of names (files, then folders) that collide on a case-insensitive or normalizing system, in
    sorted order; None when none do.

    A name of ASCII without capitals is its own key (NFKC leaves ASCII alone; nothing to fold), and such names
    are all distinct (regular_files refused duplicates and a file that is also a folder). So only the other
    names are keyed: each key is looked up among the names themselves, and among the other keys in an index
    that keeps only a keyed hash of each (two keys are compared, each made again from its name, only when
    their hashes are equal): a few bytes a name, and a crafted hash collision costs a comparison, never a
    wrong answer.
    """
    folder_set = set(folders)
    special = [k for k in range(len(files)) if _SPECIAL.search(files.raw(k))]
    special_folders = [f for f in folders if _SPECIAL.search(f.encode("utf-8", "surrogatepass"))]
    count = len(special) + len(special_folders)

    def name(i: int) -> str:
        return files.name(special[i]) if i < len(special) else special_folders[i - len(special)]

    def key(i: int) -> bytes:
        return collision_key(name(i)).encode("utf-8", "surrogatepass")

    index = KeyedIndex(count, key, tagged=True)
    for i in range(count):
        raw = key(i)
        text = raw.decode("utf-8", "surrogatepass")
        plain = not _SPECIAL.search(raw) and text != name(i)  # then a plain name equal to this key collides
        if plain and (files.find(text) is not None or text in folder_set):
            first, second = sorted((text, name(i)))
            return first, second
        earlier = index.add(i, raw)
        if earlier is not None:
            first, second = sorted((name(earlier), name(i)))
            return first, second
    return None
