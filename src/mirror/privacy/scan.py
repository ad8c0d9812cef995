"""Find what could identify an author in a photo: everything the cleaner would remove, each item by name.

Example::

    for finding in scan_photo(raw, "photos/a.jpg"):
        print(finding.path, finding.kind, finding.detail)   # photos/a.jpg gps 43.23890 N, 76.88970 E
    result = scan_photo_chunks(chunks, "photos/big.png")     # any size: one segment in memory at a time
    result.findings, result.problem                          # problem: why the scan stopped early, or None

The scanner walks a photo with the cleaner's own parsers (jpeg.py, png.py, webp.py, gif.py)
and asks the cleaner's own question of each segment or chunk: what would be
removed? Every answer but "nothing" becomes at least one finding, so a photo
the scanner calls clean is one the cleaner would leave as it is. The
courier runs this on their own files, so details show values, cut short.
HEIC/HEIF photos are read with pillow-heif (heic.py) for their EXIF, XMP and
colour profile.
"""

from __future__ import annotations

import itertools
import re
import struct
import zlib
from collections.abc import Callable, Iterable, Iterator

from mirror.errors import PhotoError
from mirror.privacy.cursor import Cursor
from mirror.privacy.findings import MAX_PER_FILE, Finding, Found, empty_value, short, with_strings
from mirror.privacy.gif import APPLICATION, COMMENT, PLAIN_TEXT, XMP_ID, BlockJudge, GifBlock, GifWalk, payloads
from mirror.privacy.gpmf import scan_gpmf
from mirror.privacy.icc import standard_icc
from mirror.privacy.jpeg import ADOBE_LEN, APP0, APP1, COM, EXIF_ID, JpegWalk, Segment, app_kinds, icc_number, is_adobe
from mirror.privacy.png import (
    MAX_TEXT,
    TEXT_CHUNKS,
    TEXT_SHOWN,
    XMP_KEYWORD,
    Chunk,
    PngWalk,
    chunk_kinds,
    raw_profile,
    text_chunk,
    text_keyword,
)
from mirror.privacy.scan_blocks import scan_flir, scan_icc, scan_iptc, scan_mpf, scan_photoshop, scan_xmp
from mirror.privacy.scan_joined import MAX_JOINED, JoinedSegments
from mirror.privacy.scan_tiff import scan_tiff
from mirror.privacy.strip import FTYP_HEAD, detect_kind, is_heif
from mirror.privacy.webp import EXIF, ICCP, INFO_FIELDS, XMP_CHUNKS, ChunkJudge, WebpChunk, WebpWalk, chunk_label
from mirror.record import record

MAX_BLOCK = 4 << 20  # ICC and FLIR data spread over several JPEG segments: how much is joined
MAX_HEIC = 64 << 20  # a HEIC is read whole by libheif: larger ones are not scanned
__all__ = ["Finding", "PhotoScan", "TooLarge", "scan_photo", "scan_photo_chunks"]


class TooLarge(PhotoError):
    """A photo larger than a scan reads (a HEIC over MAX_HEIC): its format is known from its first bytes, what it
    holds is not."""


@record
class PhotoScan:
    """What a photo revealed, and why the scan stopped early (None when it read the whole photo)."""

    findings: list[Finding]
    problem: str | None = None


def _app_segment(segment: Segment, kinds: tuple[str, ...], joined: dict[str, bytearray]) -> list[Found]:
    """What one APPn or COM segment holds; ICC and FLIR parts are joined for the end."""
    payload, marker = segment.payload, segment.marker
    if "exif" in kinds:
        return scan_tiff(payload[len(EXIF_ID):])
    if "xmp" in kinds:
        return scan_xmp(payload)
    if "icc" in kinds or (marker == APP1 and payload.startswith(b"FLIR\0")):
        part = joined.setdefault("icc" if "icc" in kinds else "flir", bytearray())
        part += payload[14 if "icc" in kinds else 8:][: MAX_BLOCK - len(part)]
        return []
    if "mpf" in kinds:
        return scan_mpf(payload)
    if "iptc" in kinds:
        return scan_photoshop(payload)
    if "comment" in kinds:
        return [("comment", short(payload.decode("utf-8", "replace")) or "an empty comment")]
    if "jfif-thumbnail" in kinds or "jfxx-thumbnail" in kinds:
        return [("thumbnail", "a JFIF preview image")]
    if is_adobe(segment):
        return [("other-metadata", f"Adobe APP14 segment with {len(payload) - ADOBE_LEN} bytes beyond its 12")]
    label = payload[:24].split(b"\0", 1)[0].decode("ascii", "replace")
    what = f"APP{marker - APP0} segment {label!r}" if marker != COM else "comment"
    if marker == APP0 + 11 and payload.startswith(b"JP") and b"jumb" in payload[:64]:  # ISO 19566-5 JUMBF
        size = len(payload)
        detail = (f"APP11 segment of C2PA content credentials (may name the author or device), {size} bytes"
                  if b"c2pa" in payload[:256] else f"APP11 segment of JUMBF boxes, {size} bytes")
        return with_strings(("other-metadata", short(detail)), payload)
    found = with_strings(("other-metadata", short(f"{what}, {len(payload)} bytes")), payload)
    if marker == APP0 + 6 and payload.startswith(b"GoPro\0"):  # GPMF: the camera's serial, the photo's id
        found[1:1] = scan_gpmf(payload[6:])
    return found


def _scan_jpeg(cursor: Cursor, name: str, full: Callable[[], bool]) -> Iterator[Found]:
    """What a JPEG's segments hold; once `full()`, the rest is only walked (its blocks are not read)."""
    walk = JpegWalk(cursor, name, keep_scans=False)
    joined: dict[str, bytearray] = {}
    numbers: list[tuple[int, int]] = []  # each ICC segment's (sequence, count)
    segments = JoinedSegments(walk.segments())  # EXIF continued in further segments, as one; extended XMP held
    try:
        for segment in segments:
            if (0xE0 <= segment.marker <= 0xEF or segment.marker == COM) and not full():
                kinds = app_kinds(segment)
                if "icc" in kinds:
                    numbers.append(icc_number(segment.payload))
                if segment.start in segments.continued:
                    yield _continued(*segments.continued[segment.start])
                if kinds:
                    yield from _app_segment(segment, kinds, joined)
    except PhotoError:
        yield from _extended(segments, full)  # read before the damage: reported as before it
        raise
    yield from _extended(segments, full)
    if "icc" in joined and not standard_icc(numbers, bytes(joined["icc"])):  # a standard one is kept
        yield from scan_icc(bytes(joined["icc"]))
    if "flir" in joined:
        yield from scan_flir(bytes(joined["flir"]))
    if walk.stray:
        yield "stray-bytes", f"{walk.stray} stray byte(s) between segments"
    if walk.trailing:
        yield from _trailing(walk.trailing, walk.trailing_head, "the end of the image")


def _continued(count: int, size: int, cut: bool) -> Found:
    """What says that an EXIF block ran on over several segments (and was read joined)."""
    detail = f"an EXIF block continued over {count} APP1 segments, {size:,} bytes"
    return "exif", detail + (f"; its first {MAX_JOINED >> 20} MiB read" if cut else "")


def _extended(segments: JoinedSegments, full: Callable[[], bool]) -> Iterator[Found]:
    for found in segments.extended():
        if full():
            return
        yield from found


def _trailing(size: int, head: bytes, place: str) -> list[Found]:
    """What follows the end of a photo, from its first TRAILING_KEPT bytes: another JPEG and a video by what they
    are; an AFCP trailer (the IPTC captions and bylines some newsroom tools append) with its IPTC datasets by name;
    anything else with the readable strings in it (a phone maker's trailer may name the device or the owner)."""
    if head.startswith(b"\xff\xd8"):
        return [("trailing-data", f"{size} bytes after {place}: another JPEG image (a preview, a depth map or a "
                                  "second photo)")]
    if head[4:8] == b"ftyp":
        return [("trailing-data", f"{size} bytes after {place}: a video (a motion or live photo)")]
    if head[:4] in (b"AXS!", b"AXS*"):
        return [("trailing-data", f"{size} bytes after {place}: an AFCP trailer (IPTC captions and bylines, "
                                  "previews)"), *_afcp(head, size)]
    return with_strings(("trailing-data", f"{size} bytes after {place}: data of unknown kind"), head)


def _letters(tag: bytes) -> bool:
    return all(0x20 <= c < 0x7F for c in tag)


_AFCP_ENTRIES = 16  # a trailer has three kinds (IPTC, a text, two previews): thousands, each over the same 64 KiB,
# held one photo's scan for a minute and 2.5 GB (helper-123)


def _afcp(head: bytes, total: int) -> list[Found]:
    """The IPTC datasets of an AFCP trailer: "AXS!" (big-endian) or "AXS*", a version, the number of entries, then
    12-byte entries (a tag, a size, an offset from the start of the file) and their data; it ends with "AXS!" and
    where in the file it starts. Offsets are counted from that start when the whole trailer is at hand (`total`
    bytes, at most TRAILING_KEPT), else (or when that reads no IPTC datasets where its entry says) from the first
    entry's data, which follows the entries, as exiftool finds them when a file was cut: first for as many entries
    as have tags of letters, then for every count up to the one given (a count that lies reads data as entries).
    An entry whose data would lie in the entries or past the trailer is none; a size past it is cut there."""
    order = ">" if head[3:4] == b"!" else "<"
    count = struct.unpack_from(order + "H", head, 6)[0] if len(head) >= 8 else 0
    ends = range(12, min(12 + 12 * min(count, _AFCP_ENTRIES), len(head) - 11), 12)
    table = [struct.unpack_from(order + "4sII", head, at) for at in ends]
    tries: list[tuple[int, int, int]] = []  # (where the trailer starts in the file, entries, where data ends)
    if total == len(head) and len(head) >= 24 and head[-12:-8] == head[:4]:
        tries.append((struct.unpack_from(order + "I", head, len(head) - 8)[0], len(table), len(head) - 12))
    lettered = sum(1 for _ in itertools.takewhile(lambda entry: _letters(entry[0]), table))
    for n in dict.fromkeys((lettered, len(table), *range(1, len(table) + 1))):
        if n:
            tries.append((min(offset for _, _, offset in table[:n]) - (12 + 12 * n), n, len(head)))
    entries = next((read for base, n, end in tries if (read := _afcp_entries(head, table[:n], base, end))), [])
    if not entries:
        return with_strings(("other-metadata", "an AFCP trailer that lists nothing"), head[12:])
    found: list[Found] = []
    for tag, data in entries:
        if tag == b"IPTC":
            found += scan_iptc(data)
        elif tag in (b"Nail", b"PrVw"):
            found.append(("thumbnail", "a preview image in an AFCP trailer"))
        else:
            entry = short(f"AFCP entry {repr(tag.decode('ascii'))}, {len(data)} bytes")  # noqa: RUF010 - catalog form
            found += with_strings(("other-metadata", entry), data)
    return found


def _afcp_entries(head: bytes, table: list[tuple[bytes, int, int]], base: int,
                  end: int) -> list[tuple[bytes, bytes]]:
    """The entries of `table` with tags of letters and their data, for a trailer that starts at `base` in the
    file; none when an entry's data would lie outside the trailer or an IPTC entry's is no IPTC datasets (the
    wrong start, or data read as entries)."""
    first = 12 + 12 * len(table)
    entries: list[tuple[bytes, bytes]] = []
    for tag, size, offset in dict.fromkeys(table):
        at = offset - base
        if not _letters(tag):
            continue
        if not first <= at < end:  # the wrong start, or an entry that is data (a count that lies)
            return []
        data = head[at:min(at + size, end)]
        if tag == b"IPTC" and not data.startswith(b"\x1c"):
            return []
        entries.append((tag, data))
    return entries


# The keywords PNG predefines (ISO/IEC 15948, 11.3.4.2) and those exiftool writes: an empty one names no one. Any
# other keyword is the writer's own words, so one of an empty text is still listed (the keyword may be a name).
_NAMED_KEYWORDS = frozenset({"Title", "Author", "Description", "Copyright", "Creation Time", "Software", "Disclaimer",
                             "Warning", "Source", "Comment", "Collection", "Label", "Artist", "Document", "URL",
                             "Make", "Model", "create-date", "modify-date"})
_EMPTY_SHOWN = 4  # names of empty text fields shown
# An iTXt's language tag as one is written (RFC 3066: "ru", "kk-KZ", "en-US", "x-klingon"): two or three letters
# (or "x", "i"), then subtags; anything else in its place is text a writer put there, a name perhaps
_LANGUAGE_TAG = re.compile(r"(?:[A-Za-z]{2,3}|[xXiI])(?:-[A-Za-z0-9]{1,8})*")


def _text_value(label: str, value: str, whole: bool) -> list[Found]:
    """The finding of a text field (a PNG text chunk, a WebP INFO field): its value; text after a NUL, which most
    viewers stop at, said to be hidden so; [] for a `whole` value that shows nothing at all (spaces, NULs, invisible
    characters: findings.empty_value), as for an empty EXIF, XMP or IPTC value. A value cut short is never empty."""
    shown, _, after = value.partition("\0")
    if not whole or not empty_value(shown):
        return [("text", short(f"{label}: {value}"))]
    if not empty_value(after):
        hidden = " ".join(after.replace("\0", " ").split())
        return [("text", f"{label}: {short(hidden)} (after a NUL byte, which hides it from most viewers)")]
    return []


def _empty_fields(labels: list[str]) -> Found:
    """One finding for text fields that are all empty (create removes them, so the photo is not clean), as for an
    EXIF block of empty tags."""
    names = list(dict.fromkeys(labels))
    shown = ", ".join(names[:_EMPTY_SHOWN]) + (", ..." if len(names) > _EMPTY_SHOWN else "")
    return "text", f"text fields of empty values, which name no one: {shown}"


def _plain_text(chunk: Chunk, keyword: str) -> list[Found]:
    """A tEXt, zTXt or iTXt chunk of text (not XMP, not a raw profile): its keyword and value; [] when the value
    is empty, its keyword one PNG or exiftool names, and an iTXt's translated keyword empty too."""
    _, text = text_chunk(chunk, TEXT_SHOWN)
    value = text.decode("utf-8", "replace")
    whole = len(text) < TEXT_SHOWN and chunk.size == len(chunk.data)  # neither cut by the walk nor inflated in part
    whole = whole and not _after_stream(chunk).strip(b"\0")  # nor bytes hidden after its compressed text
    if chunk.type == b"iTXt":  # keyword, flag, method, language, translated keyword, text
        parts = chunk.data.partition(b"\0")[2][2:].split(b"\0", 2)
        translated = parts[1].decode("utf-8", "replace") if len(parts) > 1 else ""
        if not empty_value(translated) and empty_value(value):  # then its translated keyword is all it says
            value = f"({translated}) {value}"
        language = parts[0].decode("utf-8", "replace")  # an ASCII tag as the standard has it; a name, as written
        if not empty_value(language) and not _LANGUAGE_TAG.fullmatch(language) and empty_value(value):
            value = f"[{language}] {value}"  # no language's tag ("Aigerim Nurlanovna"): what the chunk says
    found = _text_value(keyword, value, whole)
    if not found and keyword not in _NAMED_KEYWORDS:  # the keyword is all it says: that is listed
        return [("text", short(f"{keyword}: {value}"))]
    return found


def _after_stream(chunk: Chunk) -> bytes:
    """What follows a compressed text's zlib stream (no reader shows it, a name may hide there); b"" for a text
    not compressed, or one not inflated to its end within TEXT_SHOWN."""
    rest = chunk.data.partition(b"\0")[2]
    if chunk.type == b"zTXt":
        stream = rest[1:]
    elif chunk.type == b"iTXt" and rest[:1] == b"\1":
        stream = rest[2:].split(b"\0", 2)[-1]
    else:
        return b""
    inflate = zlib.decompressobj()
    try:
        inflate.decompress(stream, TEXT_SHOWN)
    except zlib.error:
        return b""
    return inflate.unused_data if inflate.eof else b""


def _text_chunk(chunk: Chunk) -> list[Found]:
    keyword = text_keyword(chunk)
    if keyword != XMP_KEYWORD and not keyword.startswith("Raw profile type "):
        return _plain_text(chunk, keyword)
    _, text = text_chunk(chunk, MAX_TEXT)
    if keyword == XMP_KEYWORD:
        return scan_xmp(text)
    if keyword.startswith("Raw profile type "):
        profile, kind = raw_profile(text), keyword.removeprefix("Raw profile type ").lower()
        if kind in ("exif", "app1"):
            return scan_tiff(profile.removeprefix(b"Exif\0\0")) or [("exif", "an EXIF block in a text chunk")]
        if kind == "xmp":
            return scan_xmp(profile)
        if kind in ("iptc", "8bim"):
            return scan_photoshop(profile)
        if kind in ("icc", "icm"):
            return scan_icc(profile)
    return [("text", short(f"{keyword}: {text.decode('utf-8', 'replace')}"))]  # another raw profile: as it is


def _png_chunk(chunk: Chunk) -> list[Found]:
    if chunk.type in TEXT_CHUNKS:
        return _text_chunk(chunk)
    if chunk.type == b"eXIf":
        return scan_tiff(chunk.data.removeprefix(b"Exif\0\0"))
    if chunk.type == b"tIME" and len(chunk.data) == 7:
        return [("datetime", "PNG tIME {}-{:02}-{:02} {:02}:{:02}:{:02}".format(*struct.unpack(">HBBBBB",
                                                                                           chunk.data)))]
    if chunk.type == b"iCCP":
        keyword, _, rest = chunk.data.partition(b"\0")
        try:
            profile = zlib.decompressobj().decompress(rest[1:], MAX_BLOCK)
        except zlib.error:
            profile = b""
        return scan_icc(profile, keyword.decode("latin-1"))
    label = chunk.type.decode("ascii")
    what = " (C2PA content credentials: may name the author or device)" if chunk.type == b"caBX" else ""
    return with_strings(("other-metadata", f"PNG {label} chunk, {chunk.size} bytes{what}"), chunk.data)


def _scan_png(cursor: Cursor, name: str, full: Callable[[], bool]) -> Iterator[Found]:
    walk = PngWalk(cursor, name, keep_image=False)
    empty: list[str] = []  # keywords of text chunks that show nothing: said only when nothing else is
    said = False
    for chunk in walk.chunks():
        if full():  # no report lists more: the rest is only walked (compressed text is not inflated again)
            if not chunk.kept:
                yield "text" if chunk.type in TEXT_CHUNKS else "other-metadata", "more"
        elif chunk_kinds(chunk):
            found = _png_chunk(chunk)
            if not found and chunk.type in TEXT_CHUNKS:
                empty.append(text_keyword(chunk))
            said = said or bool(found)
            yield from found
    if walk.trailing:
        said = True
        yield from _trailing(walk.trailing, walk.trailing_head, "the IEND chunk")
    if empty and not said:
        yield _empty_fields(empty)


def _webp_chunk(chunk: WebpChunk) -> list[Found]:
    if chunk.type == EXIF:
        return scan_tiff(chunk.data.removeprefix(b"Exif\0\0")) or [("exif", "an EXIF block")]
    if chunk.type in XMP_CHUNKS:
        return scan_xmp(chunk.data)
    if chunk.type == ICCP:
        return scan_icc(chunk.data)
    if chunk.type in INFO_FIELDS:  # a RIFF INFO string, NUL-terminated
        value = chunk.data.rstrip(bytes(1)).decode("utf-8", "replace")
        return _text_value(INFO_FIELDS[chunk.type], value, chunk.size == len(chunk.data))
    label = chunk_label(chunk.type).strip()
    where = " in an animation frame" if chunk.nested else ""
    return with_strings(("other-metadata", f"WebP {label} chunk{where}, {chunk.size} bytes (readers do not draw it)"),
                        chunk.data)


def _scan_webp(cursor: Cursor, name: str, full: Callable[[], bool]) -> Iterator[Found]:
    walk = WebpWalk(cursor, name)
    judge = ChunkJudge(name)
    empty: list[str] = []  # INFO fields that show nothing: said only when nothing else is
    said = False
    for chunk in walk.chunks():
        keep, kinds = judge.judge(chunk)
        if kinds and keep:  # kept, trimmed to what readers read
            label = chunk_label(chunk.type).strip()
            said = True
            yield "other-metadata", f"WebP {label} chunk with bytes or bits readers ignore, {chunk.size} bytes"
        elif kinds and not full():
            found = _webp_chunk(chunk)
            if not found and chunk.type in INFO_FIELDS:
                empty.append(INFO_FIELDS[chunk.type])
            said = said or bool(found)
            yield from found
        elif kinds:
            said = True
    judge.finish()
    if walk.trailing:
        said = True
        yield from _trailing(walk.trailing, walk.trailing_head, "the RIFF container")
    if empty and not said:
        yield _empty_fields(empty)


def _text(data: bytes) -> str:
    """A GIF's text: ASCII by its specification, often UTF-8 or Latin-1 in practice."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _gif_extension(block: GifBlock) -> list[Found]:
    parts, size = payloads(block.data), block.end - block.start
    if block.label == COMMENT:
        return [("comment", short(_text(b"".join(parts))) or "an empty comment")]
    if block.label == PLAIN_TEXT:  # 12 bytes of grid and colours, then the text
        return [("text", short("plain text: " + _text(b"".join(parts[1:]))))]
    if block.label == APPLICATION and parts:
        ident, rest = parts[0], b"".join(parts[1:])
        if ident[:11] == XMP_ID:  # the packet is stored as it is, not in sub-blocks: skip the identifier's
            return scan_xmp(block.data[1 + len(ident):])
        if ident[:11] == b"ICCRGBG1012":
            return scan_icc(rest)
        if ident[:11] == b"MGK8BIM0000":
            return scan_photoshop(rest)
        if ident[:11] == b"MGKIPTC0000":
            return scan_iptc(rest)
        label = ident.decode("latin-1")
        return with_strings(("other-metadata", short(f"GIF application extension {label!r}, {size} bytes")), rest)
    return with_strings(("other-metadata", f"GIF extension 0x{block.label:02X}, {size} bytes (readers do not draw it)"),
                        b"".join(parts))


def _scan_gif(cursor: Cursor, name: str, full: Callable[[], bool]) -> Iterator[Found]:
    walk = GifWalk(cursor, name)
    judge = BlockJudge(name)
    for block in walk.blocks():
        steps, kinds = judge.judge(block)
        if kinds and steps is not None:  # kept, cut to what readers read
            what = "image descriptor" if block.kind == "image" else f"extension 0x{block.label:02X}"
            yield "other-metadata", f"GIF {what} with bytes or bits readers ignore, {block.end - block.start} bytes"
        elif kinds and not full():
            yield from _gif_extension(block)
    judge.finish()
    for block in judge.dangling:
        size = block.end - block.start
        yield "other-metadata", f"GIF graphic control after the last image (readers ignore it), {size} bytes"
    if walk.trailing:
        where = "a byte no GIF block starts with, where browsers stop" if walk.stray else "the GIF trailer"
        yield from _trailing(walk.trailing, walk.trailing_head, where)


def _scan_heic(cursor: Cursor, name: str) -> list[Found]:
    from mirror.privacy.heic import heic_metadata, movie_times

    data = cursor.take(0, MAX_HEIC + 1)
    if len(data) > MAX_HEIC:
        raise TooLarge(name, reason=f"a HEIC/HEIF image over {MAX_HEIC >> 20} MiB is not read")
    found: list[Found] = []
    for kind, block in heic_metadata(data, name):
        found += (scan_tiff(block.removeprefix(b"Exif\0\0")) if kind == "exif" else scan_xmp(block)
                  if kind == "xmp" else scan_icc(block) if kind == "icc" else [(kind, "a preview image in the HEIC")])
    return found + movie_times(data)


def scan_photo_chunks(chunks: Iterable[bytes], name: str) -> PhotoScan:
    """Scan a photo that arrives in chunks, holding one segment or chunk at a time.

    Findings made before a malformed part are kept; `problem` then says why the scan stopped. At most
    MAX_PER_FILE + 1 findings are kept (reports list MAX_PER_FILE a file, and say it holds more); the rest of
    the photo is still walked, so that what the cleaner refuses the scan does not call read.

    Raises:
        PhotoError: the file is of a format that cannot be scanned (video, RAW, ...), or empty.
    """
    cursor = Cursor.of_chunks(chunks)
    head = cursor.take(0, FTYP_HEAD)  # as create reads it: 32 bytes hid a HEIF brand past the fourth (helper-177)
    if is_heif(head):
        return PhotoScan([Finding(name, kind, detail) for kind, detail in _scan_heic(cursor, name)])
    shape = detect_kind(head, name)
    found: list[Finding] = []
    def full() -> bool:
        return len(found) > MAX_PER_FILE

    walker = {"jpeg": _scan_jpeg, "png": _scan_png, "webp": _scan_webp, "gif": _scan_gif}[shape]
    try:
        for kind, detail in walker(cursor, name, full):
            if len(found) <= MAX_PER_FILE:  # no report lists more: the rest is walked for what makes the cleaner
                found.append(Finding(name, kind, detail))  # refuse the file, not kept (countless comments)
    except PhotoError as exc:
        return PhotoScan(found, exc.reason)
    return PhotoScan(found)


def scan_photo(data: bytes, name: str) -> list[Finding]:
    """List the identifying metadata in a JPEG, PNG, WebP, GIF or HEIC in memory, with short values.

    Raises:
        PhotoError: the photo is malformed, or of a format that cannot be scanned.
    """
    result = scan_photo_chunks([data], name)
    if result.problem is not None:
        raise PhotoError(name, result.problem)
    return result.findings
