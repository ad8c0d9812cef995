"""What the checking pass recorded about each file it accepted, held in columns until the bundle is signed.

Example::

    checked = CheckedFiles()
    checked.add("accounts/a.md", hashlib.sha256(data).digest(), len(data), "text/markdown",
                {"language": "ru", "place": "Almaty"})
    checked["accounts/a.md"]          # FileMeta(size, "text/markdown", {"language": "ru", "place": "Almaty"})
    checked.digests["accounts/a.md"]  # its sha256 in hex, as SHA256SUMS lists it
    checked.total_size                # the bytes create will store

create holds this for the whole run, so it costs about 200 bytes a file instead of about 700 for a dict of
hex strings and a dict of FileMeta with their front-matter strings (bench/analysis.md, "Create memory at
20,000 accounts"): the digests are 32 bytes each in one buffer, and each file's extra fields are compact
JSON bytes, made into a dict again only when bundle.json or the page asks for them. Files are added in the
order of their member names (create sorts them), so a name is found by bisection, without an index.
"""

from __future__ import annotations

import json
from array import array
from bisect import bisect_left
from collections.abc import Iterator, Mapping
from typing import Any, Generic, TypeVar

from mirror.formats.manifest import FileMeta

_DIGEST = 32
V = TypeVar("V")


class CheckedFiles(Mapping[str, FileMeta]):
    """Member name -> FileMeta of every file the checking pass accepted, in member-name order."""

    __slots__ = ("_digests", "_extras", "_names", "_sizes", "_types")

    def __init__(self) -> None:
        self._names: list[str] = []
        self._digests = bytearray()
        self._sizes = array("Q")
        self._types: list[str] = []  # the few media types' own strings, shared by every file of a type
        self._extras: list[bytes] = []

    def add(self, name: str, digest: bytes, size: int, media_type: str, extra: Mapping[str, Any]) -> None:
        """Record a file; names must come in sorted order, each once.

        Raises:
            ValueError: `name` does not sort after the last one, `digest` is not a SHA-256 or `size` is out of range.
            TypeError: `extra` holds something JSON cannot write.
        """
        last = self._names[-1] if self._names else None
        if last is not None and name <= last:
            raise ValueError(f"{name} does not sort after {last}")
        if len(digest) != _DIGEST:
            raise ValueError("a SHA-256 digest has 32 bytes")
        if not 0 <= size < 1 << 64:
            raise ValueError(f"{name} has a size of {size} bytes")
        encoded = json.dumps(extra, ensure_ascii=False, separators=(",", ":")).encode() if extra else b""
        # Everything that can fail is done: the columns grow together or not at all.
        self._names.append(name)
        self._digests += digest
        self._sizes.append(size)
        self._types.append(media_type)
        self._extras.append(encoded)

    def _find(self, name: object) -> int | None:
        if not isinstance(name, str):
            return None
        j = bisect_left(self._names, name)
        return j if j < len(self._names) and self._names[j] == name else None

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
        return sum(self._sizes)

    def __getitem__(self, name: str) -> FileMeta:
        j = self._find(name)
        if j is None:
            raise KeyError(name)
        extra = self._extras[j]
        return FileMeta(self._sizes[j], self._types[j], json.loads(extra) if extra else {})

    def __contains__(self, name: object) -> bool:
        return self._find(name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


class _Digests(Mapping[str, str]):
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
