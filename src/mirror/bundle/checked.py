"""What the checking pass recorded about each file it accepted, held in columns until the bundle is signed.

Example::

    checked = CheckedFiles()
    checked.add("accounts/a.md", hashlib.sha256(data).digest(), len(data), "text/markdown",
                {"language": "ru", "place": "Almaty"})
    checked["accounts/a.md"]          # FileMeta(size, "text/markdown", {"language": "ru", "place": "Almaty"})
    checked.digests["accounts/a.md"]  # its sha256 in hex, as SHA256SUMS lists it
    checked.total_size                # the bytes create will store

    checked = CheckedFiles(sources.names)   # the names of a SourceList (bundle/sourcelist.py), not copied

create holds this for the whole run, so it costs about 50 bytes a file beside its name instead of about 700 for
a dict of hex strings and a dict of FileMeta with their front-matter strings (bench/analysis.md, "Create memory at
20,000 accounts"): the digests are 32 bytes each in one buffer, the names are the source list's (a position
each), and each file's extra fields are compact JSON bytes in a spool (bundle/control.py: in memory up to 1 MiB,
then an unnamed temporary file), made into a dict again only when bundle.json or the page asks for them. Files
are added in the order of their member names (create sorts them), so a name is found by bisection, and the next
name asked for is tried first: bundle.json, SHA256SUMS and the writing pass each ask in order.
"""

from __future__ import annotations

import heapq
import json
from array import array
from bisect import bisect_left
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Generic, TypeVar

from mirror.bundle.control import Spool
from mirror.bundle.sourcelist import encoded
from mirror.formats.manifest import FileMeta, SortedKeys
from mirror.formats.table import NameColumn

_DIGEST = 32
V = TypeVar("V")


class CheckedFiles(SortedKeys, Mapping[str, FileMeta]):
    """Member name -> FileMeta of every file the checking pass accepted, in member-name order."""

    __slots__ = ("_at", "_codes", "_digests", "_extras", "_hint", "_names", "_own", "_sizes", "_spent", "_spool",
                 "_total", "_type_codes", "_types")

    def __init__(self, names: NameColumn | None = None, folder: Path | None = None) -> None:
        """`names`: the sorted names of the files that may be added (shared, never changed here); None keeps
        the names added. `folder`: where the extra fields wait past 1 MiB (None: TMPDIR)."""
        self._own = names is None
        self._names = NameColumn() if names is None else names
        self._at = array("I")  # each added file's position in _names
        self._digests = bytearray()
        self._sizes = array("Q")
        self._types: list[str] = []  # the few media types' own strings
        self._type_codes: dict[str, int] = {}
        self._codes = bytearray()
        self._spool = Spool(folder=folder)
        self._extras = array("I", [0])  # where each file's extra fields end in the spool (bundle.json's cap, 512 MiB,
        # bounds them all)
        self._hint, self._total, self._spent = 0, 0, False

    def add(self, name: str, digest: bytes, size: int, media_type: str, extra: Mapping[str, Any]) -> None:
        """Record a file; names must come in sorted order, each once (and be among the shared names).

        Raises:
            ValueError: `name` does not sort after the last one (or is not a shared name), `digest` is not a
                SHA-256 or `size` is out of range.
            TypeError: `extra` holds something JSON cannot write.
        """
        raw = encoded(name)
        at = self._at
        if at and not raw > self._names.raw(at[-1]):
            last = self._names.raw(at[-1]).decode("utf-8", "replace")
            raise ValueError(f"{name} does not sort after {last}")
        if len(digest) != _DIGEST:
            raise ValueError("a SHA-256 digest has 32 bytes")
        if not 0 <= size < 1 << 64:
            raise ValueError(f"{name} has a size of {size} bytes")
        fields = json.dumps(extra, ensure_ascii=False, separators=(",", ":")).encode() if extra else b""
        if self._own:
            position = len(self._names)
        else:
            names, start = self._names, at[-1] + 1 if at else 0
            position = start  # the next name, when every file is accepted in turn
            if position >= len(names) or names.raw(position) != raw:
                position = bisect_left(range(len(names)), raw, lo=start, key=names.raw)
            if position == len(names) or names.raw(position) != raw:
                raise ValueError(f"{name} is not among the files to check")
        code = self._type_codes.setdefault(media_type, len(self._types))
        # Everything that can fail is done: the columns grow together or not at all.
        if code == len(self._types):
            self._types.append(media_type)
        if self._own:
            self._names.append(raw)
        if fields:
            self._spool.write(fields)
        at.append(position)
        self._digests += digest
        self._sizes.append(size)
        self._codes.append(code)
        self._extras.append(self._spool.size)
        self._total += size

    def spend_details(self) -> None:
        """Let go of each file's size, type and extra fields once bundle.json and the page are made: create's
        writing pass needs only the names and digests (13 bytes a file and the spool; FileMeta is no longer
        available)."""
        self._sizes, self._codes, self._spool, self._extras, self._spent = array("Q"), bytearray(), Spool(), \
            array("I", [0]), True

    def clear(self) -> None:
        """Let go of every file and of the shared names (create does, once the bundle is written)."""
        self._own, self._names, self._at = True, NameColumn(), array("I")
        self._digests, self._sizes, self._codes = bytearray(), array("Q"), bytearray()
        self._spool, self._extras, self._hint, self._total = Spool(), array("I", [0]), 0, 0

    def _find(self, name: object) -> int | None:
        if not isinstance(name, str):
            return None
        raw, at, names = encoded(name), self._at, self._names
        hint = self._hint  # not locked: only where to look first
        for j in (hint, hint + 1):
            if j < len(at) and names.raw(at[j]) == raw:
                self._hint = j
                return j
        j = bisect_left(at, raw, key=names.raw)
        if j < len(at) and names.raw(at[j]) == raw:
            self._hint = j
            return j
        return None

    def digest(self, name: str) -> str:
        """The sha256 of the bytes stored for `name`, in hex.

        Raises:
            KeyError: no such file was recorded.
        """
        j = self._find(name)
        if j is None:
            raise KeyError(name)
        return self._digests[j * _DIGEST : (j + 1) * _DIGEST].hex()

    @property
    def digests(self) -> Mapping[str, str]:
        """Member name -> sha256 hex, made as each is asked for."""
        return _Digests(self)

    @property
    def total_size(self) -> int:
        """The bytes of every recorded file together."""
        return self._total

    def __getitem__(self, name: str) -> FileMeta:
        if self._spent:
            raise RuntimeError("the files' details were let go (spend_details)")
        j = self._find(name)
        if j is None:
            raise KeyError(name)
        start, end = self._extras[j], self._extras[j + 1]
        extra = json.loads(self._spool.read_at(start, end - start)) if end > start else {}
        return FileMeta(self._sizes[j], self._types[self._codes[j]], extra)

    def __contains__(self, name: object) -> bool:
        return self._find(name) is not None

    def __iter__(self) -> Iterator[str]:
        raw = self._names.raw
        return (raw(p).decode("utf-8", "surrogatepass") for p in self._at)

    def __len__(self) -> int:
        return len(self._at)


class _Digests(SortedKeys, Mapping[str, str]):
    """CheckedFiles' digests as a mapping of hex strings, none of them held."""

    __slots__ = ("_files",)

    def __init__(self, files: CheckedFiles) -> None:
        self._files = files

    def __getitem__(self, name: str) -> str:
        return self._files.digest(name)

    def __contains__(self, name: object) -> bool:
        return name in self._files

    def __iter__(self) -> Iterator[str]:
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)


class Overlay(Mapping[str, V], Generic[V]):
    """`base` with the few entries of `added` (which win) beside it, neither copied: the checked files with the
    page and the signed files create adds to SHA256SUMS and bundle.json. It iterates over `added` first, then over
    the rest of `base` in its own order: sort it where order matters."""

    __slots__ = ("_added", "_base")

    def __init__(self, added: Mapping[str, V], base: Mapping[str, V]) -> None:
        self._added, self._base = added, base

    def __getitem__(self, name: str) -> V:
        return self._added[name] if name in self._added else self._base[name]

    def __contains__(self, name: object) -> bool:
        return name in self._added or name in self._base

    def __iter__(self) -> Iterator[str]:
        yield from self._added
        yield from (name for name in self._base if name not in self._added)

    def __len__(self) -> int:
        return len(self._base) + sum(1 for name in self._added if name not in self._base)


class SortedOverlay(SortedKeys, Overlay[V]):
    """An Overlay whose base iterates in sorted order (CheckedFiles): it iterates in sorted order too, the added
    entries merged in, so SHA256SUMS and bundle.json are written without sorting a million names first."""

    __slots__ = ()

    def __iter__(self) -> Iterator[str]:
        added = self._added
        return heapq.merge(sorted(added), (name for name in self._base if name not in added))
