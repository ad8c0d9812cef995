"""Scan a folder, a bundle or a single file for what could identify sources, before passing it on.

Example::

    report = scan_path(Path("to-send/"))          # or a bundle, or one photo or text
    for finding in report.findings:
        print(finding.path, finding.kind, finding.detail)
    report.not_scanned                             # [("notes.docx", "a Word document: ...")]: never CLEAN

Any 7z is read (a bundle or another archive) and never extracted: its methods
and sizes are checked first, as `verify` checks them; folders in it are passed
over and links, devices and deletion markers listed as not read; names are
only shown (escaped), never used as paths. A damaged member or block is listed
by name and the rest is still read (a member whose CRC is wrong is read as it is,
and said to be damaged). Every file is streamed: texts line by line
(lines cut at texts.MAX_LINE characters), photos one segment or chunk at a
time, so memory stays bounded for any input. A file the scanner cannot judge
(a video, a document, a broken photo, a link) is listed as not scanned, and
the report is then incomplete, never clean.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from mirror.errors import ArchiveError, ConfigError, Incomplete, PhotoError
from mirror.formats.layout import SIG_SUFFIX
from mirror.formats.manifest import AUTHOR_KEY_NAME, LAYOUTS, SIG_NAME, SUMS_NAME
from mirror.formats.media import DOCUMENTS, junk_folder, media_for, os_junk, source_media, suffix_of
from mirror.formats.names import printable
from mirror.privacy.findings import MAX_FINDINGS, MAX_PER_FILE, Finding
from mirror.privacy.identifiers import Checks, scan_blocks
from mirror.privacy.names import scan_name
from mirror.privacy.places import receiver_fixes
from mirror.privacy.scan import MAX_HEIC, TooLarge, scan_photo_chunks
from mirror.privacy.scan_blocks import scan_xmp
from mirror.privacy.strip import heif_plan, is_heif, misnamed_heif, refused_by_name, refused_format
from mirror.privacy.texts import NOT_TEXT, NOT_TEXT_FIX, stream_codec, text_lines
from mirror.safeio import open_regular
from mirror.sevenzip import Archive, Limits, Member, check_methods, read_archive
from mirror.sevenzip.header import CUT, SHOWN_NAME
from mirror.sevenzip.members import kind_problems
from mirror.sevenzip.reader import block_members, member_blocks, other_archive
from mirror.sevenzip.volumes import is_volume, open_archive_file, volume_name, volume_set
from mirror.walk import walk

READ_CHUNK = 1 << 20
MAX_LISTED = 1000  # files listed as not scanned (all are counted)
SEVENZIP_MAGIC = b"7z\xbc\xaf\x27\x1c"
# Hashes, keys and signatures, in either layout (docs/format.md): nothing to find in them.
MAX_RATIO = 1000  # unpacked to packed, past which a block is not decoded by a scan (past BOMB_FLOOR in all)
# ... and past which the archive as a whole is not decoded: its densest blocks are left out until the rest fits.
# A 450 KB file of one text of 384 MiB (894 times) held the scan 52 s; create's own blocks of 4 MiB reach 300
# times on a collection of one forwarded appeal, but a whole bundle of real accounts stays far below 100.
MAX_TOTAL_RATIO = 100
TOTAL_FLOOR = 256 << 20  # what an archive may unpack to whatever its ratio: 5,000 accounts of one forwarded appeal
# made a bundle of 473 KB that unpacks to 137 MB (290 times), about 13 s of scanning
BOMB_FLOOR = 64 << 20  # a block that unpacks to less is read whatever its ratio
_SIGNATURES = frozenset(layout.member(n) for layout in LAYOUTS for n in (SUMS_NAME, SIG_NAME, AUTHOR_KEY_NAME))
_ENDORSEMENTS = tuple(layout.endorsements for layout in LAYOUTS)
Chunks = Callable[[], Iterator[bytes]]


@dataclass(slots=True)
class ScanReport:
    """What a scan found, and what it could not look into."""

    findings: list[Finding] = field(default_factory=list)
    scanned: int = 0
    not_scanned: list[tuple[str, str]] = field(default_factory=list)  # (path, why), at most MAX_LISTED
    not_scanned_count: int = 0
    unlisted: int = 0  # findings beyond the report's cap: counted, not kept
    stopped: list[str] = field(default_factory=list)  # files read only up to MAX_PER_FILE findings (the first few)
    stopped_count: int = 0
    files_with_findings: int = 0  # every file with a finding, those past the cap included (files come one by one)
    checks: Checks = field(default_factory=Checks)  # libphonenumber calls the scan's files have left
    _last: str | None = None

    def skip(self, name: str, why: str) -> None:
        """Record a file that was not scanned."""
        self.not_scanned_count += 1
        if len(self.not_scanned) < MAX_LISTED:
            self.not_scanned.append((printable(name), why))

    def add(self, findings: Iterable[Finding]) -> None:
        """Keep findings of one file, up to the caps; stop reading the file at MAX_PER_FILE."""
        for count, finding in enumerate(findings, 1):
            if count > MAX_PER_FILE:  # the rest of the file is not read: how many more it holds is not known
                self.stopped_count += 1
                if len(self.stopped) < MAX_LISTED:
                    self.stopped.append(finding.path)
                return
            if finding.path != self._last:
                self._last = finding.path
                self.files_with_findings += 1
            if len(self.findings) < MAX_FINDINGS:
                self.findings.append(finding)
            else:
                self.unlisted += 1


def _looks_like_text(head: bytes) -> bool:
    """No NUL bytes, or the NUL pattern of UTF-16: worth scanning as text."""
    return b"\0" not in head[:8192] or stream_codec(head).startswith(("utf-16", "utf_16", "utf-32", "utf_32"))


def _os_file(name: str, report: ScanReport) -> bool:
    """Whether `name` is a file the system made (.DS_Store, Thumbs.db), said as such: its bytes are not read."""
    junk = os_junk(name)
    if junk is None:
        return False
    report.add([Finding(name, "os-file", f"{junk}; mirror create leaves it out")])
    report.scanned += 1
    return True


def _scan_file(name: str, chunks: Chunks, report: ScanReport, size: int | None = None) -> None:
    """Scan one file, whatever it is, from a stream of its bytes (`size` of them, when known: a HEIC larger than a
    scan reads is then said from its first bytes, the rest never read)."""
    if _os_file(name, report):
        return
    media = media_for(name)
    stream = chunks()
    head = next(stream, b"")
    data = _rejoin(head, stream)
    photo = (media is not None and media.kind != "account") or is_heif(head) or head.startswith(
        (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"))
    report.add(scan_name(name, photo, report.checks))
    if photo:
        if size is not None and size > MAX_HEIC and is_heif(head):  # not read to its 64th MiB to learn as much
            report.add(_format_findings(name, head))
            report.skip(name, f"a HEIC/HEIF image over {MAX_HEIC >> 20} MiB is not read")
            return
        try:
            result = scan_photo_chunks(data, name)
        except TooLarge as exc:  # a HEIC known by its first bytes: create's words for it, whatever its size
            report.add(_format_findings(name, head))
            report.skip(name, exc.reason)
            return
        except PhotoError as exc:
            report.skip(name, _photo_refused(name, head, exc))
            return
        report.add(_format_findings(name, head))
        report.add(result.findings)
        if result.problem is not None:  # scanned as far as it could be read, so counted, and said as incomplete
            report.scanned += 1
            report.skip(name, f"read only in part: {result.problem}")
            return
    elif suffix_of(name) in DOCUMENTS:
        report.skip(name, f"{DOCUMENTS[suffix_of(name)][0]}: mirror cannot read its text and author data")
        return
    elif (media is None or media.kind == "account") and _looks_like_text(head):
        report.add(_sidecar(name, head))
        report.add(scan_blocks(text_lines(data), name, report.checks))
    else:
        report.skip(name, _unread(head, name))
        return
    report.scanned += 1


def _format_findings(name: str, head: bytes) -> list[Finding]:
    """What create does with a photo scan could read, in its words, when that is no cleaning: a HEIF (any HEIF,
    create refuses it unless converted), a JPEG, PNG, WebP or GIF named .heic (to be renamed), one named as a
    format create refuses whatever its bytes (.avif, .tif, a video's or a RAW file's name), or as an account (no
    text to create): scan must not call CLEAN what create then refuses."""
    if is_heif(head):  # one without metadata is no clean photo to create
        return [Finding(name, "format", _heif_plan(name))]
    named = source_media(name)[0]
    if named is not None and named.kind == "account":  # a JPEG or PNG named .txt: create reads it as no text
        refused: tuple[str, str] | None = NOT_TEXT, NOT_TEXT_FIX
    elif named is not None and named.type in ("image/heic", "image/heif"):
        refused = misnamed_heif(head, name)  # a JPEG named .heic (or .HIF): create refuses it
    else:
        refused = _refused_photo_name(name)
    if refused is None:
        return []
    reason, fix = refused
    return [Finding(name, "format", f"{reason}: mirror create refuses it: {fix}")]


def _refused_photo_name(name: str) -> tuple[str, str] | None:
    """create's reason and fix for a name of a photo or video format it never cleans (an AVIF, a TIFF, a RAW file,
    a video), whatever the bytes; None for any other name (a HEIC's has words of its own)."""
    media = source_media(name)[0]
    if media is None or media.kind != "unsafe-photo" or media.type in ("image/heic", "image/heif"):
        return None
    return refused_by_name(name)


def _photo_refused(name: str, head: bytes, exc: PhotoError) -> str:
    """Why a photo was not scanned: for a format create refuses (by its name, or by its first bytes under a
    photo's name), create's own reason and fix, as its refusal says them (an AVIF was "not scanned" with no fix);
    otherwise the reader's reason (a damaged photo)."""
    refused = _refused_photo_name(name)
    if refused is None and not is_heif(head) and refused_format(head) is not None and exc.hint:
        refused = exc.reason, exc.hint  # detect_kind's words: create refuses it in the same ones
    if refused is None:
        return exc.reason
    reason, fix = refused
    return f"{reason}: mirror create refuses it: {fix}"


def _heif_plan(name: str) -> str:
    """What `mirror create` does with a HEIF named `name`, in its words. Named as a HEIC, HEIF or a photo it cleans,
    it is refused unless converted (strip.heif_plan); under any other name create refuses it by the name before
    --convert-heic is looked at (an AVIF, a video, a .heics, an account), so that is said, and what would convert
    it: it was told to pass --convert-heic, which then refused it again (helper-177)."""
    media = source_media(name)[0]
    if media is not None and media.kind == "account":
        reason, fix, kept = NOT_TEXT, NOT_TEXT_FIX, False
    elif (refused := refused_by_name(name)) is not None:
        (reason, fix), kept = refused, media is not None
    else:
        return heif_plan(name)
    if kept:
        return (f"a HEIC/HEIF image, refused by mirror create by its name: {reason}: {fix} (with --keep-metadata "
                "it is bundled as it is, metadata and all); named .heic, it is refused unless --convert-heic "
                "converts it to JPEG")
    return (f"a HEIC/HEIF image, refused by mirror create by its name: {reason}: {fix}; named .heic, it is refused "
            "unless --convert-heic converts it to JPEG")


def _unread(head: bytes, name: str = "") -> str:
    """Why a file that is neither a photo nor a text is not scanned: what it is, when its first bytes or its name
    say so (a 7z archive in a folder, a later volume of a set, a zip or a self-extracting program was "not a photo
    or a text: mirror cannot read it", as if scan could read no archive), and what to do to have it scanned."""
    if head.startswith(SEVENZIP_MAGIC):
        return ("a 7z archive, not opened inside a folder or another archive: scan it on its own "
                "(mirror scan FILE)")
    if is_volume(PurePosixPath(name).name):  # X.7z.002 and on: what they hold is read from the first volume
        first = volume_name(Path(PurePosixPath(name).name), 1)
        return (f"a volume of a 7-Zip set, not opened inside a folder or another archive: scan its first volume, "
                f"{printable(first)}, on its own (mirror scan FILE)")
    kind = other_archive(head)
    if kind == "a program":
        return "a program (a self-extracting archive is one): mirror cannot read what it holds"
    if kind is not None:
        return (f"packed with {kind}, which mirror does not open: unpack it (7z x FILE -oFOLDER), then scan "
                "the folder")
    return "not a photo or a text: mirror cannot read it"


# Text that is a photo's metadata or a record of places, not an account: an XMP sidecar (IMG_0412.xmp, which
# photo editors write beside a photo, with its GPS position, camera serial and author), a GPS track or a map's
# places (GPX, KML, TCX), a GPS receiver's log (NMEA, IGC). Scanned as an account, each was called CLEAN (helper-149,
# helper-191).
# Only the document's root counts (after a BOM, blanks, processing instructions, comments, a DOCTYPE): a text that
# mentions "adobe:ns:meta/" or "<gpx>" is an account (helper-152).
_XMP_ROOT = re.compile(rb"<\?xpacket\s|<(?:[\w.-]+:)?x[am]pmeta[\s>]")
_PLACES_ROOT = re.compile(rb"<(?:[\w.-]+:)?(?:gpx|kml|TrainingCenterDatabase)[\s>]")  # TCX: Garmin's tracks
_PROLOG_PARTS = ((b"<?", b"?>"), (b"<!--", b"-->"), (b"<!doctype", b">"))
MAX_PROLOG = 1 << 16
MAX_GPS_LOOK = 1 << 16  # a log's first fixes come early: after a header of a few lines


def _root(head: bytes) -> bytes:
    """The start of the document's root element: what comes before it skipped, in linear time (a regular expression
    of it backtracked for ever on forty empty comments, helper-153); b"" past MAX_PROLOG bytes of prolog."""
    at = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    limit = min(len(head), MAX_PROLOG)
    while at < limit:
        if head[at:at + 1].isspace():
            at += 1
            continue
        if head.startswith(b"<?xpacket", at):  # XMP's wrapper is itself a processing instruction
            return head[at:at + 64]
        for opener, closer in _PROLOG_PARTS:
            if head[at:at + len(opener)].lower() == opener:
                start = at + len(opener)
                subset = head.find(b"[", at, limit) if opener == b"<!doctype" else -1
                if 0 <= subset < head.find(b">", at, limit):  # <!DOCTYPE gpx [ <!ENTITY ...> ]>: past its "]"
                    start = _subset_end(head, subset + 1, limit)
                end = head.find(closer, start, limit)
                if end < 0:
                    return b""
                at = end + len(closer)
                break
        else:
            return head[at:at + 64]
    return b""


def _subset_end(head: bytes, at: int, limit: int) -> int:
    """Where a DOCTYPE's internal subset that starts at `at` ends: its "]", past quoted values, comments and
    processing instructions, which may hold a "]" of their own (helper-156); `limit` when it does not end."""
    while at < limit:
        char = head[at:at + 1]
        if char == b"]":
            return at
        if char in (b'"', b"'"):
            close = head.find(char, at + 1, limit)
        elif head.startswith(b"<!--", at):
            close = head.find(b"-->", at + 4, limit) + 2
        elif head.startswith(b"<?", at):
            close = head.find(b"?>", at + 2, limit) + 1
        else:
            close = at
        if close < at:  # not closed before the limit
            return limit
        at = close + 1
    return limit


def _sidecar(name: str, head: bytes) -> list[Finding]:
    """What a text that is a photo's metadata (XMP) or a record of places (GPX, KML) holds, from its first MiB."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # saved as UTF-16 (helper-155: a GPX of Notepad's "Unicode")
        head = head[: 1 << 20].decode("utf-16", "replace").encode()
    root = _root(head)
    if _XMP_ROOT.match(root):
        return [Finding(name, kind, detail) for kind, detail in scan_xmp(head)]
    if _PLACES_ROOT.match(root):
        return [Finding(name, "gps", "a GPS track or a map's places (GPX or KML): where someone was, point by point")]
    if receiver_fixes(head[:MAX_GPS_LOOK].decode("utf-8", "replace")):  # NMEA sentences or IGC fixes (places.py)
        return [Finding(name, "gps", "a GPS receiver's log (NMEA or IGC): where someone was, point by point")]
    return []


def _rejoin(head: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield head
    yield from rest


def _given(chunks: Iterator[bytes]) -> Chunks:
    return lambda: chunks


def _read(handle: BinaryIO) -> Iterator[bytes]:
    while chunk := handle.read(READ_CHUNK):
        yield chunk


def _file_chunks(path: Path) -> Chunks:
    def read() -> Iterator[bytes]:
        with open_regular(path) as handle:
            yield from _read(handle)
    return read


def _scan_folder(folder: Path, report: ScanReport) -> None:
    def cannot_list(where: str, exc: OSError) -> None:
        relative = Path(where).relative_to(folder).as_posix()
        report.skip("." if relative == "." else relative + "/", f"cannot be read: {exc.strerror or exc}")

    for root, dirs, files in walk(str(folder), cannot_list):
        dirs.sort()
        # one finding each ("x/.git/"), not walked; a link of such a name is a link, refused or skipped as one
        top = root == str(folder)
        left_out = [d for d in dirs if junk_folder(d, top) and not os.path.islink(os.path.join(root, d))]
        dirs[:] = [d for d in dirs if d not in left_out]
        for name in left_out:
            if _empty_folder(os.path.join(root, name)):  # an empty lost+found, .Trashes or system folder: says nothing
                continue
            _scan_file((Path(root) / name).relative_to(folder).as_posix() + "/", _given(iter(())), report)
        for name in sorted(files) + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            path = Path(root) / name
            relative = path.relative_to(folder).as_posix()
            if os_junk(relative) is not None:  # left out by create whatever it is, link or FIFO: said as such
                _scan_file(relative, _given(iter(())), report)
                continue
            try:
                info = os.lstat(path)
                if not stat.S_ISREG(info.st_mode):
                    report.skip(relative, "a link or not a regular file")
                    continue
                _scan_file(relative, _file_chunks(path), report, info.st_size)
            except ConfigError:  # swapped for a FIFO or device since it was listed
                report.skip(relative, "a link or not a regular file")
            except OSError as exc:  # unreadable (or its path too long): not scanned, the rest still is
                report.skip(relative, f"cannot be read: {exc.strerror or exc}")


def _empty_folder(path: str) -> bool:
    """Whether a folder holds nothing at all; one that cannot be listed is not known to be empty."""
    try:
        with os.scandir(path) as entries:
            return next(entries, None) is None
    except OSError:
        return False


def _bombs(archive: Archive) -> set[int]:
    """Blocks not decoded, a compression bomb: those that unpack to more than MAX_RATIO times their packed size
    when together they unpack past BOMB_FLOOR, and then the densest others while the archive would still unpack
    past MAX_TOTAL_RATIO times all it packs (and past BOMB_FLOOR). So a few MB never make the scan decode
    gigabytes, split into many blocks or not. Real texts shrink about 3 to 10 times."""
    table = archive.folders
    unpack, pack = table.unpack_sizes, table.pack_sizes
    dense = {i for i in range(len(table)) if unpack[i] > MAX_RATIO * pack[i]}
    if sum(unpack[i] for i in dense) <= BOMB_FLOOR:
        dense = set()
    budget = max(TOTAL_FLOOR, MAX_TOTAL_RATIO * sum(pack[i] for i in range(len(table))))
    left = sum(unpack[i] for i in range(len(table)) if i not in dense)
    for i in sorted(range(len(table)), key=lambda i: unpack[i] / max(1, pack[i]), reverse=True):
        if left <= budget:
            break
        if i not in dense:
            dense.add(i)
            left -= unpack[i]
    return dense


def _odd_members(archive: Archive, report: ScanReport) -> set[int]:
    """Members that are neither a file nor a folder (a link, a device, a deletion marker): not read, each said
    as not scanned. Folders hold nothing to scan. Any 7z is scanned, not only a bundle, so none of this stops it."""
    odd = set()
    for i, problem in kind_problems(archive.members):
        odd.add(i)
        report.skip(archive.members.name(i), f"not read: it {problem}")
    return odd


def _odd_names(archive: Archive, report: ScanReport) -> set[int]:
    """Members whose names the header does not give whole (sevenzip.header's shown names): one cut at SHOWN_NAME
    characters, or one the names ran out before, is not read (its suffix, which says what it is, is lost), and
    said; the others still are. Names past the file count (a NUL inside a name splits it in two) are scanned as
    names, and said: the files are named in order, as 7-Zip names them, so from that name on each may carry
    another's; the scan of each file's data does not depend on it."""
    table, names = archive.members, archive.members.names
    odd: set[int] = set()
    if CUT.encode() in names.blob:  # one look at the column: no name of a whole one is decoded twice
        for i in range(len(table)):
            name = table.name(i)
            if name == CUT:
                odd.add(i)
                report.skip(f"file {i + 1:,} of the archive", "not read: the archive gives no name for it")
            elif CUT in name:
                odd.add(i)
                report.skip(name.replace(CUT, "")[:200] + "...", "not read: the archive gives only the start of "
                            f"its name (one longer than {SHOWN_NAME:,} characters, or one no NUL ends), so what "
                            "it is cannot be told")
    extra = len(names) - len(table)
    if extra > 0:
        report.skip("the archive's file names", "more names than files (a NUL inside a name?): the "
                    "files are named in order, as 7-Zip names them, so a file may be named as another; the names "
                    "left over were scanned as names")
        for i in range(len(table), len(names)):
            left_over = names.name(i)
            if left_over and CUT not in left_over:
                report.add(scan_name(left_over, False, report.checks))
    return odd


def _scan_bundle(fp: BinaryIO, report: ScanReport) -> None:
    archive = read_archive(fp, Limits(shown_names=True))  # names are only shown: one not UTF-16 loses nothing
    check_methods(archive)
    odd = _odd_members(archive, report) | _odd_names(archive, report)  # checked before any data is read
    bombs = _bombs(archive)
    for i in range(len(archive.members)) if bombs else ():
        member = archive.members[i]
        if member.folder in bombs:
            packed = archive.folders.pack_sizes[member.folder]
            ratio = archive.folders.unpack_sizes[member.folder] // max(1, packed)
            report.skip(member.name, f"not read: its block unpacks to {ratio:,} times its {packed:,} packed bytes, "
                        "more than a scan decodes (a compression bomb?)")
    mismatched: list[str] = []  # a member whose CRC is wrong is read as it is, and said to be damaged
    for block, first, members in member_blocks(fp, archive, crc=False, mismatched=mismatched,
                                               want=lambda m: m.folder not in bombs and m.index not in odd):
        at, partial = first, False  # the next member of the block, and whether it is being read
        try:
            for member, chunks in members:
                at, partial = member.index, True
                _scan_member(member, chunks, member.index in odd, report)
                if mismatched and member.index not in odd:
                    report.skip(member.name, "damaged: its data does not match the CRC the archive gives (read as "
                                "it is: check it by hand)")
                mismatched.clear()
                at, partial = member.index + 1, False
        except ArchiveError as exc:  # that block's other members are lost, the next blocks' are not
            _lost_members(archive, block, at, partial, str(exc), odd, report)
    table = archive.members
    for i in range(len(table)):  # files without data have names, as in a folder: iter_members yields none of them
        if not table.has_stream(i) and i not in odd and not table.is_dir(i):
            _scan_empty(table.name(i), report)


def _scan_member(member: Member, chunks: Iterator[bytes], odd: bool, report: ScanReport) -> None:
    """One member with data, read to its end (the next member starts after it)."""
    if odd:
        pass  # said as not read; its bytes (a link's target) are passed over below
    elif member.name.endswith((SIG_SUFFIX, ".pub")) and (member.name in _SIGNATURES
                                                          or member.name.startswith(_ENDORSEMENTS)):
        _scan_signed_file(member.name, chunks, report)
    else:
        _scan_file(member.name, _given(chunks), report, member.size)
    for _ in chunks:  # whatever the scan left unread
        pass


def _lost_members(archive: Archive, block: int, at: int, partial: bool, why: str, odd: set[int],
                  report: ScanReport) -> None:
    """The members of a damaged block that could not be read, from `at` on: that one read only in part when
    `partial`, each after it not read; each said by name (a million in a forged block are counted, the first
    MAX_LISTED listed), so one damaged member never hides the others. A block that fails after its last member
    (more data than its members) hides bytes no scan read: said too."""
    lost = 0
    for member in block_members(archive.members, block, at):
        lost += 1
        if member.index in odd:
            continue  # already said as not read
        if partial and member.index == at:
            report.skip(member.name, f"read only in part: the archive is damaged there ({why})")
        else:
            report.skip(member.name, f"not read: the archive is damaged before it, in its block ({why})")
    if not lost:
        report.skip(f"block {block + 1} of the archive", f"not read to its end: {why}")


def _scan_empty(name: str, report: ScanReport) -> None:
    """A file without data, by its name alone (a million of them must not each go through the text scan): what a
    folder scan says of it."""
    if _os_file(name, report):
        return
    media = media_for(name)
    if media is not None and media.kind != "account":
        report.add(scan_name(name, True, report.checks))
        report.skip(name, "the file is empty")
        return
    report.add(scan_name(name, False, report.checks))
    report.scanned += 1


MAX_SIGNED_FILE = 1 << 20  # bytes of a key or signature read for its comments
_BASE64_LINE = re.compile(r"[A-Za-z0-9+/]{40,}={0,2}")  # a key's or signature's own line: no words in it


def _scan_signed_file(name: str, chunks: Iterator[bytes], report: ScanReport) -> None:
    """A public key or a signature (by its name and place, in any 7z): its base64 lines are no words, but its
    comments are free text its signer chose (verify never reads the untrusted one): every other line is read as
    any text is. A larger one than such files are is read as far as MAX_SIGNED_FILE, and said to be. (A hash
    list is read as any text: its hashes are no identifiers, and its names are the files'.)"""
    data = b"".join(_bounded(chunks, MAX_SIGNED_FILE + 1))
    text = data[:MAX_SIGNED_FILE].decode("utf-8", "replace")
    if name.endswith((SIG_SUFFIX, ".pub")):
        text = "\n".join("" if _BASE64_LINE.fullmatch(line.strip()) else line for line in text.splitlines())
    report.add(scan_name(name, False, report.checks))
    report.add(scan_blocks(text_lines(iter([text.encode()])), name, report.checks))
    report.scanned += 1
    if len(data) > MAX_SIGNED_FILE:
        report.skip(name, f"read only in part: its first {MAX_SIGNED_FILE:,} bytes")


def _bounded(chunks: Iterator[bytes], limit: int) -> Iterator[bytes]:
    taken = 0
    for chunk in chunks:
        if taken >= limit:
            return
        yield chunk[:limit - taken]
        taken += len(chunk)


def scan_path(path: Path) -> ScanReport:
    """Scan every photo and text under a folder, in a bundle, or one file.

    A bundle that cannot be read safely (truncated, another method) is reported as not scanned (exit 7).

    Raises:
        ConfigError: the path is a FIFO, device or socket.
        OSError: a file cannot be read.
    """
    report = ScanReport()
    if path.is_dir():
        _scan_folder(path, report)
        return report
    try:
        single = volume_set(path) is None
    except Incomplete as exc:  # X.7z.001 with a volume missing: not scanned, said as such (exit 7)
        report.skip(path.name, str(exc))
        return report
    with open_archive_file(path) as fp:  # a FIFO or device is refused before it is opened; X.7z.001 reads the set
        if fp.read(len(SEVENZIP_MAGIC)) == SEVENZIP_MAGIC:
            # the bundle travels under its name, as a single file does
            report.add(scan_name(path.name, False, report.checks))
            try:
                _scan_bundle(fp, report)
            except ArchiveError as exc:  # truncated, repacked with PPMd, a password: not scanned, said as such
                report.skip(path.name, f"a 7z archive mirror cannot read: {exc}")
        else:
            fp.seek(0)
            size = os.fstat(fp.fileno()).st_size if single else None  # a set's is its volumes' together
            _scan_file(path.name, _given(_read(fp)), report, size)
    return report

