"""The files create bundles, in columns: about 50 bytes a file, so a million accounts fit beside everything else.

Example::

    files = SourceList("seeds")
    files.append(SourceFile("seeds", "a.md", "accounts/a.md", "account", "text/markdown", 120, "text"))
    files = files.sorted()                  # by member name: the order of SHA256SUMS and of the bundle
    files[0]                                # SourceFile("seeds", "a.md", "accounts/a.md", ...), made when asked
    files.find("accounts/a.md")             # 0
    files.count_of("account")               # 1

A SourceFile object with its two strings costs about 170 bytes; here a file costs its member name as UTF-8, an
offset, its size and three bytes. Its path relative to SRC is kept only where it does not follow from its member
name (the member is the relative path itself, or the relative path under "accounts/" or "photos/"): renamed photos,
names normalized to NFC, converted HEIC photos.
"""

from __future__ import annotations

import heapq
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import overload

from mirror.formats.media import MEDIA_TYPES
from mirror.formats.table import NameColumn
from mirror.record import record

_HOW = (("account", "text"), ("photo", "clean"), ("photo", "keep"), ("photo", "convert"))
_HOW_CODES = {how: code for code, how in enumerate(_HOW)}
_TYPES = tuple(sorted(MEDIA_TYPES))
_TYPE_CODES = {media: code for code, media in enumerate(_TYPES)}
_SAME, _UNDER_TOP, _OTHER = 0, 1, 2  # how a file's relative path follows from its member name
_RUN = 1 << 16  # names sorted at once; runs are then merged, so no more than this many keys exist at a time


def encoded(name: str) -> bytes:
    """A name as stored: UTF-8, a lone surrogate of an undecodable file name kept (it sorts as its code point)."""
    return name.encode("utf-8", "surrogatepass")


@record
class SourceFile:
    """One file to bundle: where it is, its name in the bundle, what it is and what create does to it.

    Attributes:
        root: the source folder as text (`path` joins it with `relative`).
        treatment: "text" (an account), "clean" (a photo stripped losslessly), "keep" (a photo bundled as
            it is, --keep-metadata) or "convert" (a HEIC made into a JPEG, --convert-heic).
    """

    root: str
    relative: str
    member: str
    kind: str  # "account" or "photo"
    media_type: str
    size: int
    treatment: str

    @property
    def path(self) -> Path:
        """Where the file is."""
        return Path(self.root, self.relative)


class SourceList(Sequence[SourceFile]):
    """SourceFiles of one source folder in columns; each is made again when it is asked for."""

    __slots__ = ("_how", "_relatives", "_sizes", "_types", "_whence", "names", "root")

    def __init__(self, root: str) -> None:
        self.root = root
        self.names = NameColumn()  # member names, UTF-8
        self._how = bytearray()  # kind and treatment, a code of _HOW
        self._types = bytearray()  # media type, a code of _TYPES
        self._sizes = array("Q")
        self._whence = bytearray()  # how `relative` follows from the member name
        self._relatives: dict[int, str] = {}  # the rest

    def append(self, item: SourceFile) -> None:
        """Add a file of this list's root.

        Raises:
            ValueError: another root, or a kind, treatment or media type create does not know.
        """
        if item.root != self.root:
            raise ValueError(f"{item.relative} is not in {self.root}")
        how, media = _HOW_CODES.get((item.kind, item.treatment)), _TYPE_CODES.get(item.media_type)
        if how is None or media is None:
            raise ValueError(f"{item.relative}: {item.kind}, {item.treatment}, {item.media_type}")
        member, relative = item.member, item.relative
        if relative == member:
            whence = _SAME
        elif member.endswith(relative) and member[: len(member) - len(relative)] in ("accounts/", "photos/"):
            whence = _UNDER_TOP
        else:
            whence = _OTHER
            self._relatives[len(self._how)] = relative
        self.names.append(encoded(member))
        self._how.append(how)
        self._types.append(media)
        self._sizes.append(item.size)
        self._whence.append(whence)

    def clear(self) -> None:
        """Let go of every file (create does, once the bundle is written and before it checks it)."""
        self.names = NameColumn()
        self._how, self._types, self._sizes, self._whence = bytearray(), bytearray(), array("Q"), bytearray()
        self._relatives = {}

    def __len__(self) -> int:
        return len(self._how)

    @overload
    def __getitem__(self, i: int) -> SourceFile: ...

    @overload
    def __getitem__(self, i: slice) -> list[SourceFile]: ...

    def __getitem__(self, i: int | slice) -> SourceFile | list[SourceFile]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        member = self.member(i)
        whence = self._whence[i]
        relative = member if whence == _SAME else (
            member.split("/", 1)[1] if whence == _UNDER_TOP else self._relatives[i])
        kind, treatment = _HOW[self._how[i]]
        return SourceFile(self.root, relative, member, kind, _TYPES[self._types[i]], self._sizes[i], treatment)

    def __iter__(self) -> Iterator[SourceFile]:
        return (self[i] for i in range(len(self)))

    def member(self, i: int) -> str:
        """File i's name in the bundle."""
        return self.names.raw(i).decode("utf-8", "surrogatepass")

    def of_kind(self, kind: str) -> Iterator[SourceFile]:
        """The files of one kind, in order."""
        codes = {code for code, how in enumerate(_HOW) if how[0] == kind}
        return (self[i] for i, code in enumerate(self._how) if code in codes)

    def count_of(self, kind: str) -> int:
        """How many files are of `kind`."""
        return sum(self._how.count(code) for code, how in enumerate(_HOW) if how[0] == kind)

    def members(self) -> Iterator[str]:
        """The member names, in order."""
        return (self.member(i) for i in range(len(self)))

    @property
    def total_size(self) -> int:
        """The bytes of every file together, as they are in SRC."""
        return sum(self._sizes)

    def find(self, member: str) -> int | None:
        """The position of the first file named `member` in a sorted list, or None."""
        raw = encoded(member)
        j = bisect_left(range(len(self)), raw, key=self.names.raw)
        return j if j < len(self) and self.names.raw(j) == raw else None

    def sorted(self, renamed: dict[str, str] | None = None) -> SourceList:
        """A new list of the same files sorted by member name (stable), each in `renamed` under its new name."""
        renamed = renamed or {}
        out = SourceList(self.root)
        for i in _order(len(self), self._sort_key(renamed)):
            item = self[i]
            new = renamed.get(item.member)
            out.append(item if new is None else SourceFile(item.root, item.relative, new, item.kind,
                                                           item.media_type, item.size, item.treatment))
        return out

    def _sort_key(self, renamed: dict[str, str]) -> Callable[[int], bytes]:
        raws = {encoded(old): encoded(new) for old, new in renamed.items()}
        raw = self.names.raw
        if not raws:
            return raw
        return lambda i: raws.get(raw(i)) or raw(i)


def _order(count: int, key: Callable[[int], bytes]) -> Iterable[int]:
    """0..count-1 ordered by key (stable): sorted in runs of _RUN, the runs merged, so that only a run's keys
    and one key per run exist at a time."""
    runs = [array("L", sorted(range(start, min(start + _RUN, count)), key=key)) for start in range(0, count, _RUN)]
    return heapq.merge(*runs, key=key) if len(runs) > 1 else (runs[0] if runs else ())

