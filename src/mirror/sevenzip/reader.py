"""A strict, read-only 7z reader for untrusted archives, with bounded memory.

Example::

    with path.open("rb") as fp:
        archive = read_archive(fp, Limits())
        for member, chunks in iter_members(fp, archive):
            for chunk in chunks:
                digest.update(chunk)

Why not py7zr for reading: py7zr rewrites names as it parses them (backslashes
become slashes, names are cut at NUL), decodes whatever methods its optional
packages support, and decompresses in chunks of up to 128 MB. A verifier must
see the names as stored, accept an explicit list of methods, and hold little in
memory. This reader parses the header into values with every count and size
capped, and streams members through the standard library's `lzma` decoder.
The layout follows 7-Zip's 7zFormat.txt; header.py parses it, model.py holds the values.
"""

from __future__ import annotations

import lzma
import re
import struct
import zlib
from array import array
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from mirror.errors import ArchiveError, TruncatedArchive, UnreadableContainer
from mirror.formats.media import is_web_page
from mirror.sevenzip.header import K_ENCODED_HEADER, K_HEADER, Buf, parse_header, parse_streams
from mirror.sevenzip.model import (
    BCJ,
    CHUNK,
    COPY,
    DELTA,
    LZMA1,
    LZMA2,
    MAGIC,
    MAX_DICT,
    REPACK_HINT,
    Archive,
    Coder,
    Folder,
    Limits,
    Member,
    MemberTable,
    refuse_unread,
)

# What a bundle becomes when someone on the way packs it again with another tool, by the bytes it starts with.
_OTHER_CONTAINERS = ((b"Rar!\x1a\x07", "RAR"), (b"\x1f\x8b", "gzip"), (b"\xfd7zXZ\x00", "xz"), (b"BZh", "bzip2"),
                     (b"\x28\xb5\x2f\xfd", "zstd"))


# Files people send by mistake in place of a bundle, by the bytes they start with.
_PROGRAM = "a program, not a file of data"
_OTHER_FILES = ((b"\xff\xd8\xff", "a JPEG photo"), (b"\x89PNG\r\n\x1a\n", "a PNG picture"), (b"GIF8", "a GIF picture"),
                (b"%PDF-", "a PDF document"), (b"\x7fELF", _PROGRAM), (b"MZ", _PROGRAM),
                *((magic, _PROGRAM) for magic in (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xcf",
                                                  b"\xfe\xed\xfa\xce", b"\xca\xfe\xba\xbe")))  # Mach-O: macOS
_PROGRAM_HINT = ("a self-extracting archive is a program: do not run it; ask the sender for the .7z bundle itself, "
                 "sent as a file")
# Files that travel beside a bundle (a .torrent, its signature, the signed list of an unpacked bundle, an index).
_TORRENT = "a .torrent file, which describes a bundle to fetch"
_SIGNATURE = "a minisign signature or key"
_SUMS = "a list of SHA-256 sums"
_JSON = "a JSON file (an index, a listing or bundle.json)"
_SECRET_KEY = "a secret key (mirror keys new writes these into the keyring)"  # noqa: S105 - a description
_PAGE = "a web page (HTML)"
_NOT_A_BUNDLE = {
    _PAGE: "a browser or a blocked network saved a page in place of the file: download the .7z itself again (or "
           "ask the sender to send it as a file); if it is a bundle's index.html, verify the folder it is in",
    _PROGRAM: _PROGRAM_HINT,
    _TORRENT: "a BitTorrent client (Transmission, aria2c) fetches the bundle it describes, as mirror fetch --torrent "
              "does from a mirror; then verify the .7z that arrives",
    _SIGNATURE: "verify the .7z bundle itself (it carries its signature inside), or the folder it was unpacked into",
    _SUMS: "verify the folder the bundle was unpacked into: mirror verify FOLDER",
    _JSON: "verify the .7z bundle itself, or the folder it was unpacked into",
    _SECRET_KEY: "keep it in the keyring and never send it; verify the .7z bundle itself",
}
_TORRENT_START = re.compile(rb"d[0-9]{1,3}:(?:announce|comment|created by|creation date|encoding|info|url-list)")
_SUMS_LINE = re.compile(rb"[0-9a-f]{32}")  # the first 32 bytes: half of a SHA-256 in hex


def _what_else(start: bytes) -> str | None:
    """What a file that is no 7z archive is instead, when its first bytes say so: a photo, a document, a program,
    or a file that travels beside a bundle."""
    if start[:4] == b"RIFF" and start[8:12] == b"WEBP":
        return "a WebP picture"
    if start[4:8] == b"ftyp":
        return "a HEIC photo or a video"
    if _TORRENT_START.match(start):
        return _TORRENT
    if start.startswith((b"untrusted comment:", b"RWQ", b"RWS")):
        return _SIGNATURE
    if _SUMS_LINE.fullmatch(start):
        return _SUMS
    if start.startswith(b"{\\rtf"):
        return "an RTF document"
    if start.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return _SECRET_KEY if b"mirror-secret-key" in start else _JSON
    if is_web_page(start):
        return _PAGE
    return next((name for magic, name in _OTHER_FILES if start.startswith(magic)), None)


def other_archive(start: bytes) -> str | None:
    """The format of a file another archiver or compressor made (zip, RAR, gzip, xz, bzip2, zstd, tar), by its
    first 263 bytes; "a program" for one that runs (a self-extracting archive is one); None otherwise."""
    if start[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    name = next((n for magic, n in _OTHER_CONTAINERS if start.startswith(magic)), None)
    if name is None and start[257:263] in (b"ustar\x00", b"ustar "):
        name = "tar"
    if name is None and any(start.startswith(magic) for magic, what in _OTHER_FILES if what == _PROGRAM):
        name = "a program"
    return name


def _zip_hint(start: bytes) -> str:
    """What to do with a zip: one made around a bundle (a mail program or messenger zips what it sends) holds the
    .7z itself, to unzip and verify; one made of a bundle's files is repacked."""
    from mirror.formats.names import printable

    if start[:4] == b"PK\x03\x04" and len(start) >= 30:
        length = int.from_bytes(start[26:28], "little")
        name = start[30:30 + length].decode("utf-8", "replace")
        if re.search(r"\.7z(\.[0-9]+)?$", name, re.IGNORECASE):
            return (f"it holds {printable(name)}: unzip it (unzip COPY, or 7z x COPY), then verify that: mirror "
                    "verify NAME.7z")
    return REPACK_HINT


def _refuse_other_container(fp: BinaryIO, start: bytes) -> None:
    """Raise UnreadableContainer, naming the tool's format, for a copy that another archiver made (a tar's magic
    is at byte 257); return quietly when the start is nobody's we know."""
    name = next((n for magic, n in _OTHER_CONTAINERS if start.startswith(magic)), None)
    if name is None:
        fp.seek(257)
        name = "tar" if fp.read(6) in (b"ustar\x00", b"ustar ") else None
    if name is not None:
        raise UnreadableContainer(f"this copy was repacked with {name}, which mirror does not read",
                                  hint="unpack it first (7z x COPY -oFOLDER opens these too; a .tar.gz takes two "
                                  "rounds, the second on the .tar), then check what it held: "
                                  "mirror verify FOLDER/NAME.7z, or mirror verify FOLDER if it held a bundle's files")


def read_archive(fp: BinaryIO, limits: Limits) -> Archive:
    """Parse and check the header of the archive open in `fp`.

    Raises:
        ArchiveError: not a 7z archive, truncated, malformed, or over a limit.
    """
    try:
        fp.seek(0, 2)
    except OSError as exc:  # a file the system makes up as it is read (/proc): no end to find, no archive
        raise ArchiveError(f"not a 7z archive: the file has no end to read from ({exc.strerror or exc})",
                           hint="give the .7z file the bundle came in") from None
    size = fp.tell()
    fp.seek(0)
    start = fp.read(32)
    if start[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        fp.seek(0)
        raise UnreadableContainer("this copy was repacked as a zip archive, which mirror does not read",
                                  hint=_zip_hint(fp.read(30 + 1024)))
    if start[:6] != MAGIC:
        _refuse_other_container(fp, start)
    if not start:
        raise ArchiveError("the file is empty (0 bytes): not a 7z archive", hint="ask the sender for another copy")
    if len(start) < 32 or start[:6] != MAGIC:
        what = _what_else(start)
        if what is not None:
            raise ArchiveError(f"not a 7z archive: it is {what}", hint=_NOT_A_BUNDLE.get(what))
        raise ArchiveError("not a 7z archive (or truncated in its first 32 bytes)",
                           hint="give the .7z file the bundle came in; if this is it, it was damaged on its way: get "
                                "another copy")
    if start[6] != 0:
        raise ArchiveError(f"unsupported 7z format version {start[6]}.{start[7]}")
    if zlib.crc32(start[12:32]) != struct.unpack("<I", start[8:12])[0]:
        raise ArchiveError("the 7z start header is damaged")
    offset, length, crc = struct.unpack("<QQI", start[12:32])
    if 32 + offset + length > size or offset > size:
        raise TruncatedArchive("archive is truncated: its end header is missing")
    if length > limits.max_header:
        raise ArchiveError("archive header is too large")
    past = _volumes_past(fp, 32 + offset + length)
    if len(past) == 1:  # not bytes riding along: a volume of another set that shares its name
        raise ArchiveError(f"{past[0]} begins after the end of the 7z archive that the volumes before it hold: it "
                           "belongs to no part of it", hint=f"move {past[0]} out of the folder")
    if past:
        raise ArchiveError(f"{past[0]} and the {len(past) - 1} volume(s) after it begin after the end of the 7z "
                           "archive that the volumes before them hold: they belong to no part of it",
                           hint=f"move {past[0]} and those after it out of the folder")
    if 32 + offset + length < size:  # 7-Zip warns of them too; a zip's directory there would make a polyglot
        raise ArchiveError(f"{size - 32 - offset - length:,} bytes follow the end of the 7z archive; they belong "
                           "to no file in it and are not signed", hint=_CLEAN_COPY)
    if length == 0:
        _check_packed_regions([], 32 + offset)
        return Archive()
    fp.seek(32 + offset)
    source, expected = _Pieces(_file_pieces(fp, length)), crc
    regions: list[tuple[int, int]] = []  # where each level of encoded header keeps its packed bytes
    for level in range(2):  # 7-Zip reads a header encoded once, never one encoded again
        buf = Buf(b"", source)  # parsed as it is read or decoded: never held whole
        try:
            kind = buf.byte()
            if kind == K_HEADER:
                archive = parse_header(buf, limits, 32 + offset)
            elif kind == K_ENCODED_HEADER and level == 0:
                folders, _ = parse_streams(buf, limits, 32 + offset)
            elif kind == K_ENCODED_HEADER:
                raise ArchiveError("archive header is encoded twice, which 7-Zip does not read")
            else:
                raise ArchiveError("archive header is malformed")
        except ArchiveError:
            if not source.failed:
                source.check(expected)  # damaged bytes are said to be damaged, not malformed
            raise
        after = buf.left() + source.check(expected)
        if after:  # 7-Zip calls the headers broken; unchecked, they could hold another file (a zip's directory)
            raise ArchiveError(f"the 7z header holds {after:,} bytes after its end; they belong to no file and are "
                               "not signed", hint=_CLEAN_COPY)
        if kind == K_HEADER:
            table = archive.folders
            if len(table):
                regions.append((table.pack_offsets[0], table.pack_offsets[-1] + table.pack_sizes[-1]))
            _check_packed_regions(regions, 32 + offset)
            return archive
        if len(folders) != 1 or folders[0].unpack_size > limits.max_header:
            raise ArchiveError("archive header is malformed or too large")
        regions.append((folders[0].pack_offset, folders[0].pack_offset + folders[0].pack_size))
        _check_chain(folders[0].chain)  # an encrypted header (7z a -p -mhe=on) is a repack, said as one
        source = _Pieces(_whole(_FolderReader(fp, folders[0]), folders[0].unpack_size))
        expected = folders[0].crc
    raise AssertionError("unreachable: the second level is a header or an error")


_CLEAN_COPY = "ask the sender for a clean copy; 7-Zip and mirror write none of them"


def _volumes_past(fp: BinaryIO, end: int) -> list[str]:
    """The names of the volumes of a set (volumes.py's VolumeReader under `fp`) that begin at or after `end`."""
    raw = getattr(fp, "raw", fp)
    starts, paths = getattr(raw, "starts", None), getattr(raw, "paths", None)
    if not isinstance(starts, list) or not isinstance(paths, list):
        return []
    from mirror.formats.names import printable

    return [printable(path.name) for start, path in zip(starts, paths, strict=True) if start >= end and start > 0]


def _check_packed_regions(regions: list[tuple[int, int]], header_at: int) -> None:
    """The packed data (the blocks, then each encoded header's) fills the archive from its start header to its
    end header, as 7-Zip and mirror write it: bytes between them would belong to no file, and could be another
    format's (a PDF's start) riding in a verified file.

    Raises:
        ArchiveError: a gap before, between or after the packed data.
    """
    at = 32
    for start, end in sorted(region for region in regions if region[1] > region[0]):
        if start != at:
            break
        at = end
    else:
        if at == header_at:
            return
    # bytes before the data were said to be "between its data and its header" (helper-149)
    raise ArchiveError("the 7z archive holds bytes that belong to no file in it, before or between its data, or "
                       "after it before its header", hint=_CLEAN_COPY)


def _file_pieces(fp: BinaryIO, length: int) -> Iterator[bytes]:
    """The `length` bytes at `fp`'s position (the file is known to hold them), a chunk at a time."""
    while length > 0:
        piece = fp.read(min(length, CHUNK))
        if not piece:
            raise TruncatedArchive("archive is truncated: its end header is missing")
        length -= len(piece)
        yield piece


class _Pieces:
    """A header's bytes as they are read or decoded, with their CRC32 so far."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self.pieces, self.crc, self.failed = pieces, 0, False

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        try:
            piece = next(self.pieces)
        except ArchiveError:  # truncated or damaged data: the error says so
            self.failed = True
            raise
        self.crc = zlib.crc32(piece, self.crc)
        return piece

    def check(self, expected: int | None) -> int:
        """Read the rest, then compare the CRC of all of it with `expected` (None: none stored); how many bytes
        the rest was."""
        rest = sum(len(piece) for piece in self)
        if expected is not None and self.crc != expected:
            raise ArchiveError("archive header is damaged (CRC mismatch)")
        return rest


def _dictionary(size: int) -> int:
    """Refuse a dictionary larger than MAX_DICT: decoding would need all of it in memory. 7-Zip's presets write
    at most 256 MiB, but a packer may choose up to 1.5 GiB by hand (-md): such a copy may be intact, and is not
    checked."""
    if size > MAX_DICT:
        declared = f"{size >> 20} MiB" if size % (1 << 20) == 0 else f"{size:,} bytes"
        raise UnreadableContainer(f"this copy was packed with an LZMA dictionary of {declared}, more memory than "
                                  f"mirror gives one archive ({MAX_DICT >> 20} MiB, the most 7-Zip's presets use)",
                                  hint=REPACK_HINT)
    return size


def _lzma_filters(chain: tuple[Coder, ...]) -> list[dict[str, Any]]:
    filters: list[dict[str, Any]] = []
    for coder in reversed(chain):  # lzma wants encoding order: filters first, compressor last
        if coder.method == LZMA2 and len(coder.props) == 1 and coder.props[0] <= 40:
            p = coder.props[0]
            dict_size = 0xFFFFFFFF if p == 40 else (2 | (p & 1)) << (p // 2 + 11)
            filters.append({"id": lzma.FILTER_LZMA2, "dict_size": _dictionary(dict_size)})
        elif coder.method == LZMA1 and len(coder.props) == 5:
            d, dict_size = coder.props[0], struct.unpack("<I", coder.props[1:])[0]
            if d >= 9 * 5 * 5:
                raise ArchiveError("unsupported LZMA settings")
            if d % 9 + (d // 9) % 5 > 4:  # 7-Zip writes them (-m0=LZMA:lc=8); Python's lzma reads lc + lp <= 4 only
                raise UnreadableContainer("unsupported LZMA settings (lc + lp over 4): this copy was repacked in a "
                                          "way mirror does not read", hint=REPACK_HINT)
            if dict_size > 4096 and dict_size % 16:  # liblzma would round it up, 7-Zip keeps it: the one decodes
                raise UnreadableContainer(  # what the other calls damaged (7-Zip writes 2^n or 3 * 2^n bytes)
                    f"this copy was packed with an LZMA dictionary of {dict_size:,} bytes, not a multiple of 16, "
                    "which mirror does not read as 7-Zip does", hint=REPACK_HINT)
            filters.append({"id": lzma.FILTER_LZMA1, "lc": d % 9, "lp": (d // 9) % 5, "pb": d // 45,
                            "dict_size": max(_dictionary(dict_size), 4096)})
        elif coder.method == BCJ and not coder.props:
            filters.append({"id": lzma.FILTER_X86})
        elif coder.method == DELTA and len(coder.props) == 1:
            filters.append({"id": lzma.FILTER_DELTA, "dist": coder.props[0] + 1})
        elif coder.method == COPY and len(chain) == 1:  # with properties: it said "repacked with Copy alone"
            raise ArchiveError("a block is stored (Copy) with properties, which 7-Zip does not read either")
        elif coder.method == COPY:
            break  # in a chain: refused below, with the whole chain named
        elif coder.method == LZMA2 and len(coder.props) == 1:
            raise ArchiveError(f"a block's LZMA2 dictionary property is {coder.props[0]}, over 40")
        elif coder.method in (LZMA1, LZMA2):  # it said "unsupported method", of a method mirror reads (helper-149)
            raise ArchiveError(f"a block's {coder.name} properties are {len(coder.props)} bytes, not the "
                               f"{5 if coder.method == LZMA1 else 1} 7-Zip writes")
        else:
            raise ArchiveError(f"unsupported method {coder.name} in this archive")
    if len(filters) != len(chain) or filters[-1]["id"] not in (lzma.FILTER_LZMA1, lzma.FILTER_LZMA2) or any(
        f["id"] in (lzma.FILTER_LZMA1, lzma.FILTER_LZMA2) for f in filters[:-1]
    ):  # 7-Zip reads these (-m0=lzma2 -m1=lzma2 makes one): a repack, not a damaged archive
        if len(chain) > 1:
            coders = " + ".join(c.name for c in chain)
            raise UnreadableContainer(f"this copy was repacked with the chain {coders}, which mirror does not read",
                                      hint=REPACK_HINT)
        name = chain[0].name  # a filter alone (Delta, BCJ): it compresses nothing
        raise UnreadableContainer(f"this copy was repacked with {name} alone, which mirror does not read",
                                  hint=REPACK_HINT)
    return filters


def check_methods(archive: Archive) -> None:
    """Raise unless every block uses only the accepted methods, in a chain we decode.

    Raises:
        ArchiveError: "unsupported method X", naming it.
    """
    for chain in archive.folders.chains:
        _check_chain(chain)


def _check_chain(chain: tuple[Coder, ...]) -> None:
    """Raise unless the block's methods are accepted: a method mirror does not read is a repack, named."""
    refuse_unread(chain)
    if chain != (Coder(COPY, b""),):
        _lzma_filters(chain)


class _FolderReader:
    """Decodes one folder's packed stream, never yielding more than asked for; `finish` then checks that the
    stream ends where the block does, as 7-Zip requires.

    LZMA (version 1) streams in 7z most often have no end marker: liblzma's raw decoder cannot tell where such a
    stream ends, so it is decoded as a .lzma stream of known size (13 bytes of header made up from the coder's
    properties and the block's size), which stops exactly there. liblzma refuses an end marker after a known
    size (py7zr's LZMA writes one): then the block is decoded again from its start with the raw decoder, which
    reads up to the end marker.
    """

    def __init__(self, fp: BinaryIO, folder: Folder) -> None:
        self.fp, self.start, self.packed_size = fp, folder.pack_offset, folder.pack_size
        self.pos, self.left = self.start, self.packed_size
        self.dec: lzma.LZMADecompressor | None = None
        self.post: lzma.LZMADecompressor | None = None  # the filters after an LZMA (version 1) decoder
        self.raw_filters: list[dict[str, Any]] = []
        self.prefix = b""  # fed before the packed stream (the made-up .lzma header)
        self.alone = False  # LZMA (version 1) decoded as a stream of known size
        self.produced = 0  # bytes the first decoder gave so far
        if folder.chain != (Coder(COPY, b""),):
            filters = _lzma_filters(folder.chain)
            lzma1 = folder.chain[0].method == LZMA1
            try:
                if lzma1 and len(filters) > 1:
                    # A filter after LZMA looks ahead past the data (BCJ: 4 bytes), so it gets the LZMA output
                    # framed as LZMA2 chunks stored as they are, then LZMA2's end marker, and so leaves the last
                    # bytes as 7-Zip does.
                    self.post = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[
                        *filters[:-1], {"id": lzma.FILTER_LZMA2, "dict_size": 1 << 12}])
                self.raw_filters = filters[-1:] if self.post is not None else filters
                if lzma1:
                    self.dec, self.alone = lzma.LZMADecompressor(lzma.FORMAT_ALONE), True
                    self.prefix = folder.chain[0].props + struct.pack("<Q", folder.unpack_size)
                else:
                    self.dec = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=filters)
            except lzma.LZMAError:
                raise ArchiveError("unsupported LZMA settings") from None
        self.unpacked = folder.unpack_size  # what the first decoder has left to give (to `post`)
        self.framed = False  # the first stored chunk was given to `post` (it resets the dictionary)

    def _packed(self, n: int) -> bytes:
        self.fp.seek(self.pos)
        data = self.fp.read(min(n, self.left))
        self.pos += len(data)
        self.left -= len(data)
        if self.prefix:
            data, self.prefix = self.prefix + data, b""
        return data

    def _again_raw(self) -> None:
        """The .lzma decoder refused the stream (an end marker after the known size, or damage): decode the
        block again from its start with the raw decoder, up to where the caller was."""
        self.pos, self.left, self.alone = self.start, self.packed_size, False
        self.dec = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=self.raw_filters)
        skip, self.produced = self.produced, 0
        while skip > 0:
            skip -= len(self._decoded(min(skip, CHUNK)))

    def read(self, n: int) -> bytes:
        """Exactly `n` bytes of decoded data, or ArchiveError."""
        if self.dec is None:
            data = self._packed(n)
            if len(data) != n:
                raise ArchiveError("archive is truncated: data ends early")
            return data
        if self.post is not None:
            return self._filtered(self.post, n)
        return self._decoded(n)

    def _decoded(self, n: int) -> bytes:
        """Exactly `n` bytes from the first decoder."""
        pieces: list[bytes] = []  # most often one piece of exactly n bytes, returned without a copy
        got = 0
        while got < n:
            dec = self.dec
            if dec is None:
                raise ArchiveError("compressed data is damaged")  # never: read() sends Copy blocks elsewhere
            if dec.eof:  # the stream ended before the declared size: never call past its end
                raise ArchiveError("compressed data ends before the declared size")
            feed = b""
            if dec.needs_input:
                feed = self._packed(CHUNK)
                if not feed:
                    raise ArchiveError("archive is truncated or damaged: compressed data ends early")
            try:
                piece = dec.decompress(feed, n - got)
            except (lzma.LZMAError, EOFError):
                if not self.alone:
                    raise ArchiveError("compressed data is damaged") from None
                self.produced += got
                self._again_raw()  # gives back what this call had, from the start of the block
                self.produced -= got
                continue
            if not piece and not feed:  # and at the end of the stream: the check above says so next
                raise ArchiveError("compressed data ends before the declared size")
            pieces.append(piece)
            got += len(piece)
        self.produced += got
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def _filtered(self, post: lzma.LZMADecompressor, n: int) -> bytes:
        """Exactly `n` bytes through the filters after LZMA (version 1)."""
        pieces: list[bytes] = []
        got = 0
        while got < n:
            if post.eof:
                raise ArchiveError("compressed data ends before the declared size")
            feed = b""
            if post.needs_input:
                if self.unpacked > 0:
                    data = self._decoded(min(self.unpacked, 1 << 16))
                    self.unpacked -= len(data)
                    feed = bytes([2 if self.framed else 1]) + (len(data) - 1).to_bytes(2, "big") + data
                    self.framed = True
                else:
                    feed = b"\x00"  # LZMA2's end marker: the filters let go of the last bytes as they are
            try:
                piece = post.decompress(feed, n - got)
            except (lzma.LZMAError, EOFError):
                raise ArchiveError("compressed data is damaged") from None
            pieces.append(piece)
            got += len(piece)
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def chunks(self, size: int, chunk: int = CHUNK) -> Iterator[bytes]:
        """The next `size` bytes, in chunks of at most `chunk`."""
        while size > 0:
            piece = self.read(min(size, chunk))
            size -= len(piece)
            yield piece

    def finish(self) -> None:
        """Once the block's declared bytes were read: the packed stream must end there too. 7-Zip reports a
        stream that holds more, one cut inside a chunk, or bytes after its end, as a data error, and so does
        mirror. LZMA2 may end without its end marker, at a chunk's end (7-Zip accepts that): its end marker is
        then given to the decoder, which must end there.

        Raises:
            ArchiveError: more data than declared, or bytes after the end of the stream.
        """
        marker = True  # LZMA2's end marker may still be given
        while self.dec is not None and not self.dec.eof:
            dec = self.dec
            feed = b""
            if dec.needs_input:
                feed = self._packed(CHUNK)
                if not feed:
                    if self.alone or self.raw_filters[-1]["id"] != lzma.FILTER_LZMA2 or not marker:
                        raise ArchiveError("compressed data ends without the end of its stream")
                    feed, marker = b"\x00", False
            try:
                piece = dec.decompress(feed, 1)
            except (lzma.LZMAError, EOFError):
                if not self.alone:
                    raise ArchiveError("compressed data is damaged after the declared end of its block") from None
                self._again_raw()  # an end marker after the known size: the raw decoder reads it
                continue
            if piece:
                raise ArchiveError("compressed block holds more data than it declares")
        if (self.dec is not None and self.dec.unused_data) or self.left:
            raise ArchiveError("archive block has data after the end of its compressed stream")
        post = self.post
        if post is not None and not post.eof and post.decompress(b"\x00" if post.needs_input else b"", 1):
            raise ArchiveError("compressed block holds more data than it declares")


def _whole(reader: _FolderReader, size: int) -> Iterator[bytes]:
    """A block of `size` bytes that must end there (an encoded header)."""
    yield from reader.chunks(size)
    reader.finish()


def iter_members(fp: BinaryIO, archive: Archive, crc: bool = True, chunk: int = CHUNK,
                 want: Callable[[Member], bool] | None = None,
                 mismatched: list[str] | None = None) -> Iterator[tuple[Member, Iterator[bytes]]]:
    """Each member with data, in archive order, with an iterator over its bytes.

    The caller must consume each chunk iterator before advancing. A member's
    CRC is checked after its last chunk, unless `crc` is False. With `crc`
    False and a `mismatched` list, the name of each member whose CRC does not
    match is added to it, and nothing is raised: a caller that compares every
    member with a signed SHA-256 says what the SHA-256 found first, and a CRC
    that does not match data that does is what 7-Zip would still call damaged.
    Chunks are at most `chunk` bytes. With `want`, a block none of whose
    members it wants is skipped, not decoded.

    Raises:
        ArchiveError: damaged or truncated data, CRC mismatch.
    """
    for _, _, members in member_blocks(fp, archive, crc, chunk, want, mismatched):
        yield from members


def member_blocks(fp: BinaryIO, archive: Archive, crc: bool = True, chunk: int = CHUNK,
                  want: Callable[[Member], bool] | None = None, mismatched: list[str] | None = None,
                  ) -> Iterator[tuple[int, int, Iterator[tuple[Member, Iterator[bytes]]]]]:
    """Each block with members, as (its index, the index of its first member, its members as `iter_members`
    gives them). A damaged block raises from its own members' iterator, so a caller that catches it (a scan,
    which reads what it can) goes on with the next block; the members of the damaged one it has not had are
    those of `first`'s run after the last it had (`block_members`)."""
    table = archive.members
    # Members with data come in the order of their blocks (header.py assigns streams in order), so each block's
    # members are one run: walked by index, one Member made at a time.
    starts = array("q", [-1]) * len(archive.folders)  # each block's first member
    for i, folder_index in enumerate(table.folders):
        if folder_index >= 0 and starts[folder_index] < 0:
            starts[folder_index] = i
    for index, first in enumerate(starts):
        if first < 0:
            continue
        if want is not None and not any(want(m) for m in block_members(table, index, first)):
            continue
        yield index, first, _block_members(fp, archive, index, first, crc, chunk, mismatched)


def _block_members(fp: BinaryIO, archive: Archive, index: int, first: int, crc: bool, chunk: int,
                   mismatched: list[str] | None) -> Iterator[tuple[Member, Iterator[bytes]]]:
    reader = _FolderReader(fp, archive.folders[index])
    for member in block_members(archive.members, index, first):
        chunks = reader.chunks(member.size, chunk)
        if crc:
            chunks = _checked(chunks, member)
        elif mismatched is not None and member.crc is not None:
            chunks = _noted(chunks, member, mismatched)
        yield member, chunks
    reader.finish()


def block_members(table: MemberTable, index: int, first: int) -> Iterator[Member]:
    """The members of block `index`, from `first` (its first member, or a later one of its own), in order."""
    for i in range(first, len(table)):
        folder = table.folders[i]
        if folder == index:
            yield table[i]
        elif folder >= 0:
            return


def iter_block(fp: BinaryIO, archive: Archive, index: int) -> Iterator[tuple[Member, Iterator[bytes]]]:
    """The members with data of block `index` alone, as `iter_members` gives them (consume each in turn).

    Raises:
        ArchiveError: damaged or truncated data, CRC mismatch.
        IndexError: no such block.
    """
    reader = _FolderReader(fp, archive.folders[index])
    table = archive.members
    for i in range(len(table)):
        if table.folders[i] == index:
            member = table[i]
            yield member, _checked(reader.chunks(member.size), member)
    reader.finish()


def _noted(chunks: Iterator[bytes], member: Member, mismatched: list[str]) -> Iterator[bytes]:
    """The chunks; the member's name added to `mismatched` after the last if its CRC does not match."""
    crc = 0
    for chunk in chunks:
        crc = zlib.crc32(chunk, crc)
        yield chunk
    if crc != member.crc:
        mismatched.append(member.name)


def _checked(chunks: Iterator[bytes], member: Member) -> Iterator[bytes]:
    crc = 0
    for chunk in chunks:
        crc = zlib.crc32(chunk, crc)
        yield chunk
    if member.crc is not None and crc != member.crc:
        raise ArchiveError(f"member {member.name!r} is damaged (CRC mismatch)")
