"""Compact columns for up to millions of names: a packed name column and a keyed hash index over any column.

Example::

    names = NameColumn()
    for name in ("accounts/a.md", "photos/b.jpg"):
        names.append(name.encode())
    index = KeyedIndex(len(names), names.raw)
    index.add(0), index.add(1)                    # None, None: no earlier entry with the same bytes
    index.find(b"photos/b.jpg")                   # 1
    names.name(1)                                 # "photos/b.jpg"

A Python object per name costs about a hundred bytes before its text; here a name costs its UTF-8 bytes
and an offset, and an index eight bytes per entry (an array of positions, half empty). The index is open
addressing over a 64-bit hash keyed for this run: the built-in `hash()` of the bytes after a random
prefix, so an author cannot choose names that collide (even under a fixed PYTHONHASHSEED). A hash only
chooses where to look: every match is confirmed on the real bytes, so correctness never depends on it,
and a collision costs one more comparison.
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Callable, Iterable

_SALT = os.urandom(16)


def keyed_hash(data: bytes) -> int:
    """A 64-bit hash of `data`, keyed per run."""
    return hash(_SALT + data)


class NameColumn:
    """Names as one UTF-8 blob and the end offset of each."""

    __slots__ = ("blob", "ends")

    def __init__(self) -> None:
        self.blob = bytearray()
        self.ends = array("I")  # 4 bytes an offset: every column is bounded far below 4 GiB (docs/format.md)

    def append(self, raw: bytes) -> None:
        """Add one name, as UTF-8 bytes."""
        self.blob += raw
        self.ends.append(len(self.blob))

    def extend(self, raws: Iterable[bytes]) -> None:
        """Add names, as UTF-8 bytes."""
        blob, ends = self.blob, self.ends
        for raw in raws:
            blob += raw
            ends.append(len(blob))

    def __len__(self) -> int:
        return len(self.ends)

    def raw(self, i: int) -> bytes:
        """Name `i` as UTF-8 bytes."""
        return bytes(self.blob[self.ends[i - 1] if i else 0 : self.ends[i]])

    def name(self, i: int) -> str:
        """Name `i`."""
        return self.blob[self.ends[i - 1] if i else 0 : self.ends[i]].decode("utf-8")


class NameRefs:
    """Names that are mostly another list's: each such name is that list's position (4 bytes); the rest are kept
    here as a NameColumn. SHA256SUMS names the members the 7z header named already (formats/manifest.py SumsTable).

    `other(k)` gives the other list's name k as UTF-8, `find(raw)` the position of the name `raw` there, or None.
    """

    __slots__ = ("find", "other", "own", "refs")

    def __init__(self, other: Callable[[int], bytes], find: Callable[[bytes], int | None]) -> None:
        self.other, self.find = other, find
        self.refs = array("i")  # k >= 0: the other list's name k; -1 - j: own name j
        self.own = NameColumn()

    def append(self, raw: bytes) -> None:
        """Add one name, as UTF-8."""
        k = self.find(raw)
        if k is None or self.other(k) != raw:  # find confirms the bytes; checked again all the same
            self.own.append(raw)
            self.refs.append(-len(self.own))
        else:
            self.refs.append(k)

    def __len__(self) -> int:
        return len(self.refs)

    def raw(self, i: int) -> bytes:
        """Name `i` as UTF-8 bytes."""
        k = self.refs[i]
        return self.other(k) if k >= 0 else self.own.raw(-1 - k)


class KeyedIndex:
    """Positions 0..n-1 of a column, found by their bytes: open addressing, at most half full.

    `raw(i)` gives entry i's bytes; `hasher` is keyed_hash (a test may force collisions with its own).
    """

    __slots__ = ("hasher", "mask", "raw", "slots", "tags", "used")

    def __init__(self, count: int, raw: Callable[[int], bytes], hasher: Callable[[bytes], int] = keyed_hash,
                 tagged: bool = False) -> None:
        """An empty index for at most `count` entries. `tagged` keeps each entry's hash too (8 bytes more a
        slot), so that `raw` is called only when two hashes are equal: for keys that are costly to make."""
        size = 8
        while size < 2 * count:
            size *= 2
        self.slots = array("i", [-1]) * size
        self.tags = array("q", bytes(8 * size)) if tagged else None
        self.mask, self.raw, self.hasher, self.used = size - 1, raw, hasher, 0

    def _probe(self, key: bytes) -> tuple[int, int, int]:
        """(slot, position, hash): the entry with bytes `key`, or (first free slot, -1, hash)."""
        h = self.hasher(key)
        slot = h & self.mask
        slots, tags, mask, raw = self.slots, self.tags, self.mask, self.raw
        while (at := slots[slot]) >= 0:
            if (tags is None or tags[slot] == h) and raw(at) == key:  # the real bytes decide, never the hash
                return slot, at, h
            slot = (slot + 1) & mask
        return slot, -1, h

    def add(self, i: int, key: bytes | None = None) -> int | None:
        """Index entry `i` (whose bytes are `key`, if the caller has them); or, if an earlier entry has the same
        bytes, leave it and return that one's position."""
        slot, found, h = self._probe(self.raw(i) if key is None else key)
        if found >= 0:
            return found
        if 2 * (self.used + 1) > len(self.slots):
            raise OverflowError  # sized for `count` entries at construction: a caller's mistake
        self.slots[slot] = i
        if self.tags is not None:
            self.tags[slot] = h
        self.used += 1
        return None

    def add_all(self, count: int) -> int | None:
        """Index entries 0..count-1 in turn; stop at the first whose bytes an earlier one has, and return its
        position (None: all distinct). The loop of `add`, inlined: this is most of building an index."""
        slots, mask, raw, hasher = self.slots, self.mask, self.raw, self.hasher
        if self.tags is not None or self.used or 2 * count > len(slots):
            for i in range(count):
                if self.add(i) is not None:
                    return i
            return None
        for i in range(count):
            key = raw(i)
            slot = hasher(key) & mask
            while (at := slots[slot]) >= 0:
                if raw(at) == key:
                    self.used = i
                    return i
                slot = (slot + 1) & mask
            slots[slot] = i
        self.used = count
        return None

    def find(self, key: bytes) -> int | None:
        """The position of the entry whose bytes are `key`, or None."""
        found = self._probe(key)[1]
        return found if found >= 0 else None
