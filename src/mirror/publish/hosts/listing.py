"""A WebDAV folder's listing (the 207 answer to PROPFIND with Depth: 1), read streamed, capped and without a DTD.

Example::

    sizes = parse_listing(chunks, "/mirror/bundles/", "dav", "bundles")   # {"ab12.7z": 1234, ...}

The answer is a host's, so untrusted: it is read at most LISTING_BYTES bytes (an endless answer stops there, within
the caller's Watch), parsed by defusedxml with no DTD, entity or external reference allowed (a billion laughs, an
external entity), and each entry is dropped once read, so memory holds one entry, not the tree; more than
MAX_LISTING entries (or their elements, or nesting deeper than an entry's), or an entry of more than ENTRY_BYTES,
are refused. Only entries directly in
the folder count: one naming another place is passed over; a file without a `getcontentlength`, or a listing that
does not name the folder itself (a proxy that moved the server's paths), makes the whole listing unusable (None:
the caller asks HEAD of each).
"""

from __future__ import annotations

import io
from collections.abc import Collection, Iterable, Iterator
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from mirror.errors import Failure, TransferError
from mirror.publish.hosts.base import LISTING_BYTES, MAX_LISTING, too_many

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

LISTING_ASK = (b'<?xml version="1.0" encoding="utf-8"?>\n<D:propfind xmlns:D="DAV:"><D:prop>'
               b"<D:resourcetype/><D:getcontentlength/></D:prop></D:propfind>\n")
LIST_REFUSED = (403, 405, 501)  # a server that will not list: ask each file instead
_DAV = "{DAV:}"
MAX_DEPTH = 16  # multistatus, response, propstat, prop, resourcetype, collection: 6 deep
ELEMENTS_EACH = 16  # elements an entry may have (nginx writes 7 or 8): more is an answer padded to fill memory
# Bytes one entry may take, with what comes before it (nginx writes about 350, Apache about 600): an entry is held
# whole until it ends, so 64 MiB in one, or in a few, as attributes (which no element count sees) held over 1 GB.
ENTRY_BYTES = 64 << 10


class _Capped(io.RawIOBase):
    """The answer's chunks as a file, refusing more than `limit` bytes, and more than ENTRY_BYTES since the last
    `mark` (the end of an entry: the parser is given at most 16 KiB between two looks at its events)."""

    def __init__(self, chunks: Iterable[bytes], limit: int, where: str, what: str) -> None:
        super().__init__()
        self._chunks: Iterator[bytes] = iter(chunks)
        self._left = b""
        self._read = self._given = self._mark = 0
        self._limit, self._where, self._what = limit, where, what

    def mark(self) -> None:
        """An entry ended: the next may take ENTRY_BYTES from what the parser has been given so far."""
        self._mark = self._given

    def readable(self) -> bool:
        """Always true."""
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        """The next bytes of the answer; 0 at its end."""
        view = memoryview(buffer).cast("B")
        while not self._left:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._read += len(chunk)
            if self._read > self._limit:
                raise TransferError(self._where, f"{self._what} is larger than {self._limit:,} bytes",
                                    Failure.BAD_ANSWER)
            self._left = chunk
        if self._given - self._mark > ENTRY_BYTES:
            raise TransferError(self._where, f"{self._what} has an entry larger than {ENTRY_BYTES:,} bytes",
                                Failure.BAD_ANSWER)
        size = min(len(view), len(self._left))
        view[:size], self._left = self._left[:size], self._left[size:]
        self._given += size
        return size


def parse_listing(chunks: Iterable[bytes], base: str, where: str, folder: str,
                  wanted: Collection[str] | None = None) -> dict[str, int] | None:
    """The size of each file the answer lists directly in the folder whose URL path (unquoted) is `base` (of those
    named in `wanted`, if given); None if a file there (one wanted) comes without its length, or if the folder
    itself is not among the entries (a proxy in front of the server that moved its paths: every file would look
    missing, and be read back whole in every run).

    Raises:
        TransferError: the answer is too large, not XML (or XML with a DTD), or lists more than MAX_LISTING entries;
            the chunks' own errors pass.
    """
    what = f"the answer to PROPFIND {folder or '.'}/"
    source = _Capped(chunks, LISTING_BYTES, where, what)
    base = base.rstrip("/") + "/"
    found: dict[str, int] = {}
    lacking = itself = False
    seen = depth = entries = 0
    try:
        for event, element in iterparse(source, events=("start", "end"), forbid_dtd=True):
            if event == "start":
                depth, seen = depth + 1, seen + 1
                if depth == 1:
                    root = element
                if depth > MAX_DEPTH:
                    raise TransferError(where, f"{what} is nested more than {MAX_DEPTH} deep", Failure.BAD_ANSWER)
                if seen > MAX_LISTING * ELEMENTS_EACH:
                    raise too_many(where, folder, MAX_LISTING)
                continue
            depth -= 1
            if depth != 1:
                continue  # a part of an entry, read with it; or the end
            if element.tag == f"{_DAV}response":
                entries += 1
                if entries > MAX_LISTING:
                    raise too_many(where, folder, MAX_LISTING)
                href = element.findtext(f"{_DAV}href") or ""
                path = unquote(urlsplit(href.strip()).path)
                collection = element.find(f".//{_DAV}resourcetype/{_DAV}collection") is not None
                length = (element.findtext(f".//{_DAV}getcontentlength") or "").strip()
                itself = itself or path.rstrip("/") + "/" == base
                name = path[len(base):] if path.startswith(base) else ""
                if not collection and name and "/" not in name and (wanted is None or name in wanted):  # else the
                    # folder itself, one inside it, one elsewhere, or one not asked for
                    if length.isascii() and length.isdigit() and len(length) <= 20:
                        found[name] = int(length)
                    else:
                        lacking = True
            root.clear()  # each entry is dropped once read: memory holds one, not the tree
            source.mark()
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise TransferError(where, f"{what} is not a WebDAV listing ({type(exc).__name__})",
                            Failure.BAD_ANSWER) from exc
    return found if itself and not lacking else None
