"""Write the 7z container of a bundle with py7zr: the signed files first, then text, then photos.

Example::

    with BundleWriter(tmp_path) as writer:
        writer.add_block([("SHA256SUMS", sums), ("SHA256SUMS.minisig", sig)], compress=True)
        writer.add_block(accounts, compress=True)    # one LZMA2 block for text
        writer.add_block(photos, compress=False)     # Copy: JPEG and PNG are compressed already

Each block is one py7zr write session (py7zr gives one filter chain per
session; appending starts a new block). Only ever used on a file this process
just created: a received bundle is never opened for writing.
"""

from __future__ import annotations

import contextlib
import io
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import py7zr
import py7zr.properties

# LZMA2 preset 3 is about 4x faster than preset 6 on accounts at nearly the same size. Accounts
# are short independent texts, so a 1 MiB dictionary loses almost nothing (0.5% in size on the
# benchmark corpus) while the encoder touches 2 MB instead of 24 MB and runs almost twice as fast.
TEXT_FILTER: dict[str, Any] = {"id": py7zr.FILTER_LZMA2, "preset": 3, "dict_size": 1 << 20}
_MEMBER_ATTRIBUTES = stat.FILE_ATTRIBUTE_ARCHIVE | 0x8000 | ((stat.S_IFREG | 0o644) << 16)

Member = tuple[str, Callable[[], bytes]]


def _filters(compress: bool) -> list[dict[str, Any]]:
    if compress:
        return [dict(TEXT_FILTER)]
    return [{"id": py7zr.FILTER_COPY}]


@contextlib.contextmanager
def _light_header() -> Iterator[None]:
    """Compress the 7z header with the text filter instead of py7zr's preset 7.

    py7zr compresses the header with DEFAULT_FILTERS.ENCODED_HEADER_FILTER each time it writes
    one (once per block). Its preset 7 encoder allocates 194 MB and touches over 30 MB, for a
    header of a few hundred KB. The constant refuses assignment, so its one filter dict is
    changed in place for the duration, and restored.
    """
    header_filter = py7zr.properties.DEFAULT_FILTERS.ENCODED_HEADER_FILTER[0]
    saved = dict(header_filter)
    header_filter.clear()
    header_filter.update(TEXT_FILTER)
    try:
        yield
    finally:
        header_filter.clear()
        header_filter.update(saved)


class BundleWriter:
    """Appends blocks to a new 7z file; members are stored as regular files, mode 0644."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.blocks = 0

    def __enter__(self) -> BundleWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        return None

    def add_block(
        self, members: Iterable[Member], compress: bool, on_member: Callable[[int], None] | None = None
    ) -> None:
        """Write `members` (name, function returning the bytes) as one new block."""
        members = list(members)
        if not members:
            return
        mode = "w" if self.blocks == 0 else "a"
        with _light_header(), py7zr.SevenZipFile(self.path, mode, filters=_filters(compress)) as archive:
            for name, load in members:
                data = load()
                with io.BytesIO(data) as member:
                    archive.writef(member, name)
                info = archive.header.files_info.files[-1]
                # py7zr stores 0600 by default: a receiver using plain 7-Zip would get
                # files only root can read. Store regular files with mode 0644.
                info["attributes"] = _MEMBER_ATTRIBUTES
                # py7zr keeps each member's buffer in its header until the archive is
                # closed: with hundreds of photos that is the whole bundle in memory.
                info["data"] = None
                if on_member is not None:
                    on_member(len(data))
                del data
        self.blocks += 1
