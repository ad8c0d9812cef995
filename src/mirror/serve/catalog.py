"""What a folder offers to a room: its verified bundles under their content addresses, and its index as it is.

Example::

    catalog = scan_folder(Path("incoming"), log=print)
    catalog.offers                          # one Offer per bundle that verified
    catalog.files["bundles/ab12....7z"]     # Item: what to send for that path
    catalog.skipped                         # ("old.7z: does not verify: ...",)
    catalog = scan_folder(Path("incoming"), log=print, cache=catalog.cache)   # only new files are verified

A folder is a mirror copy (index.json and its signature, sent byte for byte as they
are), a plain folder of bundles, or both. Bundles are `*.7z` at the top and in
`bundles/`; each must verify (docs/format.md) before it is offered, under the mirror
layout (formats/layout.py) with its detached SHA256SUMS and signature taken from the
bundle itself. An unsigned listing (formats/listing.py) names every bundle offered, as many as
readers take (the longest titles are left out first).
Only regular files count (no symlinks), and no name from a request ever reaches the
file system: the server sends what this table holds, nothing else.
"""

from __future__ import annotations

import contextlib
import hashlib
import heapq
import hmac
import os
import re
import secrets
import shlex
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from mirror.bundle.control import Control
from mirror.bundle.verify import snapshot, verify_bundle, verify_open
from mirror.errors import ConfigError, ManifestError, SignatureError, VerificationError
from mirror.formats.index import MAX_INDEX, BundleEntry, Index, NewerFormat
from mirror.formats.layout import (
    INDEX_NAME,
    LISTING_NAME,
    MAX_SIG_FILE,
    SIG_SUFFIX,
    bundle_path,
    sums_paths,
    torrent_path,
)
from mirror.formats.listing import MAX_ENTRIES, fitting
from mirror.formats.manifest import SIG_NAME, SUMS_NAME, BundleMeta
from mirror.formats.minisign import Signature
from mirror.formats.names import printable, readable_name
from mirror.formats.torrent import Torrent
from mirror.record import field, record, replace
from mirror.safeio import open_regular, read_at_most
from mirror.serve.candidates import Chosen, Stamp, bundle_folders, choose, folder_digest, open_quietly
from mirror.serve.headers import content_type
from mirror.serve.peek import peek
from mirror.sevenzip import Limits, read_archive
from mirror.sevenzip.volumes import is_first_volume
from mirror.trust.keyset import TrustedKeys
from mirror.trust.policy import AuthorTrusted

Log = Callable[[str], None]
MAX_CANDIDATES = 2 * MAX_ENTRIES  # 7z files verified in a folder (candidates.py); the rest are counted
MAX_PEEKED = 2 * MAX_CANDIDATES  # 7z files peeked at (peek.py) when there are more than MAX_CANDIDATES
MAX_SKIPPED = 100  # problems listed one by one; beyond, a count
MAX_PINNED = 1000  # index/<version> pairs served, the highest versions (readers ask for the newest)
_VERSIONED = re.compile(r"\d{1,9}\.json(\.minisig)?")


@record
class Item:
    """What to send for one path: bytes held in memory, or a file that must still have its stamp when opened."""

    content_type: str
    etag: str
    size: int
    data: bytes | None = None
    source: Path | None = None  # read from here when `data` is None
    stamp: Stamp | None = None  # ... and only while the file still has this stamp
    immutable: bool = False  # named by its hash: it never changes
    filename: str | None = None  # the name a browser saves it under

    @classmethod
    def of_bytes(cls, path: str, data: bytes) -> Item:
        """An item held in memory."""
        return cls(content_type(path), f'"{hashlib.sha256(data).hexdigest()}"', len(data), data=data)

    @classmethod
    def of_file(cls, path: str, source: Path, stamp: Stamp, etag: str, **options: Any) -> Item:
        """An item read from a file when asked for."""
        return cls(content_type(path), etag, stamp.size, source=source, stamp=stamp, **options)


@record
class Offer:
    """One bundle that verified: what the page and the listing say of it."""

    sha256: str
    size: int
    meta: BundleMeta
    key_id: str
    fingerprint: str
    trusted: bool = False  # its signer is in the room's keyring (serve --keys)
    endorsed: int = 0  # endorsements by keys of the room's keyring that check out
    carried: int = 0  # endorsements the copy carries, checked or not: the page tells an endorsed copy from a plain one

    @property
    def rank(self) -> tuple[bool, int, str, int]:
        """Which bundles a full room offers first (the highest): trusted, then endorsed, then the newest."""
        return self.trusted, self.endorsed, self.meta.created, self.meta.version

    @property
    def entry(self) -> BundleEntry:
        """Its entry in the listing, as in a publisher's index."""
        return BundleEntry.for_bundle(self.meta.bundle_id, self.meta.version, self.sha256, self.size,
                                      self.meta.title, self.key_id)

    @property
    def download_name(self) -> str:
        """The name a browser saves it under: the one `mirror fetch` gives it (a slug of its title, its id's
        start, its version), so that one bundle has one name on every phone and computer."""
        return readable_name(self.meta.title, self.meta.bundle_id, self.meta.version) + ".7z"


@record
class _Checked:
    """A verification result kept between scans: the offer and its detached files, or why it was skipped."""

    offer: Offer | None
    sums: Item | None = None  # SHA256SUMS: a file in the room's spool folder, or in memory where there is none
    sig: bytes = b""
    problem: str = ""
    again: bool = False  # a passing state (changed while it was checked): checked again at the next scan, once
    retried: bool = False  # and it was so again: kept like any other result, until the file's stamp changes


Cache = Mapping[tuple[Path, Stamp], _Checked]
Peeked = Mapping[tuple[Path, Stamp], int]
Seen = Mapping[int, Mapping[str, _Checked]]  # the bundles offered in a scan so far: by size, then SHA-256


@record
class Catalog:
    """Everything a folder offers, as a table from URL path (no leading slash) to item."""

    root: Path
    offers: tuple[Offer, ...]
    files: Mapping[str, Item]
    signed_index: bool
    skipped: tuple[str, ...]  # files not offered, each with why (or how many more)
    cache: Cache = field(default_factory=dict, repr=False)
    again: bool = False  # a file was in a passing state: the folder is looked at again even if it does not change
    peeked: Peeked = field(default_factory=dict, repr=False)  # peek.py's rank of each file, when there were too many
    notes: tuple[str, ...] = ()  # what is said of bundles offered: a bundle's own note, those left out of the listing


def _regular(path: Path) -> os.stat_result | None:
    """The file's stat when it is a regular file (never following a symlink), else None."""
    try:
        info = path.lstat()
    except OSError:
        return None
    return info if stat.S_ISREG(info.st_mode) else None


def _read_capped(path: Path, limit: int) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            data = read_at_most(handle, limit + 1)
    except OSError:
        return None
    return data if len(data) <= limit else None


def _index_files(root: Path) -> tuple[dict[str, Item], list[str]]:
    """index.json and its signature as they are (in memory), and the immutable index/<version> pairs; and what
    was passed over. Each must be what its name says (an index, a signature), not any file that has the name (a
    folder served with `mirror serve .` may hold another program's index.json, with its token); the pinned ones
    by their first bytes, as there may be a thousand of them."""
    files: dict[str, Item] = {}
    passed: list[str] = []
    for name, limit in ((INDEX_NAME, MAX_INDEX), (INDEX_NAME + SIG_SUFFIX, MAX_SIG_FILE)):
        if _regular(root / name) is not None and (data := _read_capped(root / name, limit)) is not None:
            try:
                Signature.from_bytes(data) if name.endswith(SIG_SUFFIX) else _index_or_newer(data)
            except (ManifestError, SignatureError) as exc:
                passed.append(f"{name}: not served, it is not a signature ({exc})" if name.endswith(SIG_SUFFIX)
                              else f"{name}: not served, it is not an index ({exc})")
                continue
            files[name] = Item.of_bytes(name, data)
    pinned = root / "index"
    if pinned.is_dir() and not pinned.is_symlink():
        with os.scandir(pinned) as listed:  # the highest only, held as they come: 300,000 names took 81 MB
            entries = heapq.nlargest(2 * MAX_PINNED, (e for e in listed if _VERSIONED.fullmatch(e.name)),
                                     key=lambda entry: int(entry.name.split(".", 1)[0]))
        for entry in entries:
            info = _regular(Path(entry.path))
            if info is not None:
                signature = entry.name.endswith(SIG_SUFFIX)
                if info.st_size <= (MAX_SIG_FILE if signature else MAX_INDEX) and _looks_like(
                        Path(entry.path), _SIGNATURE_START if signature else _INDEX_START):
                    stamp = Stamp.of(info)
                    files[f"index/{entry.name}"] = Item.of_file(entry.name, Path(entry.path), stamp,
                                                                _stamp_etag(stamp))
                elif len(passed) < MAX_SKIPPED:
                    passed.append(f"index/{entry.name}: not served, it is not a signature" if signature
                                  else f"index/{entry.name}: not served, it is not an index")
    return files, passed


def _index_or_newer(data: bytes) -> None:
    """An index, or one of a newer format (which newer readers take).

    Raises:
        ManifestError: not an index.
    """
    with contextlib.suppress(NewerFormat):
        Index.from_bytes(data)


_INDEX_START = re.compile(rb'\{\s{0,64}"format"\s{0,8}:\s{0,8}"mirror-index/')
_SIGNATURE_START = re.compile(rb"untrusted comment: ")


def _looks_like(path: Path, start: re.Pattern[bytes]) -> bool:
    """Whether the file begins as an index (or a minisign signature) does."""
    head = _read_head(path, 256)
    return head is not None and start.match(head) is not None


def _read_head(path: Path, size: int) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            return handle.read(size)
    except OSError:
        return None


_ETAG_KEY = secrets.token_bytes(16)  # this run's: an index file's tag says nothing of its inode or times


def _stamp_etag(stamp: Stamp) -> str:
    """A tag that changes with the file (inode, size, modification time), keyed for this run: those numbers, as
    they were, told anyone in the room to the nanosecond when this person got their copy, and linked the laptop
    across rooms and restarts."""
    raw = f"{stamp.inode}-{stamp.size}-{stamp.mtime_ns}".encode()
    return f'"{hmac.new(_ETAG_KEY, raw, hashlib.sha256).hexdigest()[:32]}"'


def _first_volumes(root: Path) -> list[Path]:
    """The first volumes of 7-Zip sets (X.7z.001) at the root and in bundles/, at most MAX_SKIPPED: never offered
    (a volume is not a bundle), but said, so that a room that offers nothing says why."""
    found: list[Path] = []
    for folder in bundle_folders(root):
        with contextlib.suppress(OSError), os.scandir(folder) as entries:
            for entry in entries:
                regular = entry.is_file(follow_symlinks=False)  # a link is said as one, with the other links
                if regular and is_first_volume(entry.name) and not entry.name.startswith("."):
                    found.append(folder / entry.name)
                    if len(found) >= MAX_SKIPPED:
                        return sorted(found)
    return sorted(found)


def _candidates(root: Path, keys: TrustedKeys | None = None, peeked: Peeked | None = None,
                ) -> tuple[Chosen, list[Path], dict[tuple[Path, Stamp], int]]:
    """The bundles to look at (candidates.py: regular 7z files, at most MAX_CANDIDATES, never the first names),
    the paths that are links or not regular files (never followed: the room serves what is in its folder), and
    what was peeked at (peek.py: kept between scans by stamp, like the checks).

    With more 7z archives than MAX_CANDIDATES, up to MAX_PEEKED are peeked at, and the best ranked are verified
    (signed by a key of `keys`, then signed, then those too large to peek at, then the rest): sixty small 7z
    archives that are no bundles took both places before the author's bundle about 62 times in 64 (a cap of 2).

    Raises:
        OSError: a folder cannot be listed.
    """
    chosen = choose(root, max(MAX_PEEKED, MAX_CANDIDATES))
    ranks: dict[tuple[Path, Stamp], int] = {}
    if len(chosen.paths) > MAX_CANDIDATES:
        trusted = keys if keys is not None else TrustedKeys()
        for found in chosen.paths:
            rank = (peeked or {}).get(found)
            ranks[found] = rank if rank is not None else peek(*found, trusted)
        best = sorted(range(len(chosen.paths)), key=lambda i: -ranks[chosen.paths[i]])  # stable: the room's order
        kept = [chosen.paths[i] for i in best[:MAX_CANDIDATES]]
        chosen = replace(chosen, paths=kept, beyond=chosen.beyond + len(chosen.paths) - len(kept))
    odd = list(chosen.odd)
    linked = root / "bundles"
    if linked.is_symlink():
        odd.append(linked)
    return chosen, odd, ranks


def _sha256(handle: BinaryIO) -> str:
    """The SHA-256 of what `handle` reads from where it is to its end."""
    hashed = hashlib.sha256()
    while piece := handle.read(1 << 20):
        hashed.update(piece)
    return hashed.hexdigest()


def _still(path: Path, stamp: Stamp) -> bool:
    """Whether `path` is still the file of `stamp` (looked at, never opened)."""
    try:
        return Stamp.of(os.lstat(path)) == stamp
    except OSError:
        return False


def _check(path: Path, stamp: Stamp, lists: Lists, seen: Seen | None = None,
           keys: TrustedKeys | None = None) -> _Checked:
    """Verify first, hash after: a file still being written (a copy, a torrent client's preallocated file) fails
    on its header at once, where hashing first would read it whole each time the folder is looked at. Both read
    one open file, the one listed: swapped for another file (or a FIFO that would block the hash for good)
    since it was listed, written to while it was read, or no longer at its path when both are done, it is
    looked at again next round. So what is offered is one file's metadata and hash, and that file is the one
    the path names.

    A file of the size of a bundle checked already (`seen`: by size, then SHA-256) is hashed first: a copy of it
    is offered as that bundle was, not decoded again. A bundle of 100,000 empty members, 117 KB, takes 6 s to
    check: twenty copies of it (or links to it) kept a room from opening for two minutes, and a stick holds
    thousands."""
    again = _Checked(None, problem="changed while it was checked; it is looked at again", again=True)
    try:
        with open_regular(path) as handle:
            if Stamp.of(os.fstat(handle.fileno())) != stamp:
                return again
            known = (seen or {}).get(stamp.size, {})
            digest = _sha256(handle) if known else ""
            if digest in known and Stamp.of(os.fstat(handle.fileno())) == stamp and _still(path, stamp):
                return known[digest]
            handle.seek(0)
            verified = verify_open(handle, snapshot(keys), Limits(), AuthorTrusted()).result(path)
            if not digest:  # else hashed already, and the stamp looked at below covers both reads
                handle.seek(0)
                digest = _sha256(handle)
            if Stamp.of(os.fstat(handle.fileno())) != stamp or not _still(path, stamp):
                return again
            sums, note = lists.hold(digest, verified.control)
    except VerificationError as exc:
        return _Checked(None, problem=_part_or_failure(path, exc))
    except ConfigError as exc:  # swapped for a FIFO, a device or a folder since it was listed
        return _Checked(None, problem=f"is no longer a regular file: {exc}", again=True)
    except OSError as exc:
        return _Checked(None, problem=f"cannot be read: {exc.strerror}")  # kept: a round each would only repeat it
    # bundle.json's fields without the columns of its files (about 100 bytes a member), which neither the page nor
    # the listing shows: kept for every offered bundle for as long as the room runs, they grew it by tens of MB a
    # bundle of 100,000 members
    endorsed = sum(1 for e in verified.endorsements if e.status == "trusted" and e.compared)
    offer = Offer(digest, stamp.size, replace(verified.meta, files={}), verified.key_id, verified.fingerprint,
                  verified.trusted, endorsed, len(verified.endorsements))
    return _Checked(offer, sums, verified.control[SIG_NAME], problem=note)


SPOOLED = ".SHA256SUMS"  # the end of each spooled file's name
MAX_SPOOLED = 2 << 30  # bytes of lists in the room's spool folder, in all: eight lists of a million files
MAX_IN_MEMORY = 64 << 20  # bytes of lists held in memory, in all, where the spool folder has no room


class Lists:
    """The detached SHA256SUMS one scan of the folder serves: one for each bundle, however many files hold it, and
    at most MAX_SPOOLED bytes of them in the room's spool folder and MAX_IN_MEMORY in memory.

    A list is as large as its bundle's members are many (about 230 bytes a member with long names): one bundle of
    100,000 empty files, 117 KB, has a list of 21 MB, and a million make a megabyte or so of bundle and 230 MB of
    list. Spooled for every file that held a bundle, a stick holding one such bundle linked a thousand times
    (`ln`: no room taken on the stick) filled the room's temporary folder (RAM, where /tmp is a tmpfs), then its
    memory. Past the bounds a bundle is offered without its detached list, which only people checking by hand
    use: readers, and `fetch --keep-mirror`, take the list from the bundle itself."""

    def __init__(self, spool: Path | None) -> None:
        self.spool = spool
        self.items: dict[str, Item] = {}
        self.spooled = 0
        self.in_memory = 0

    def share(self, digest: str, item: Item) -> Item:
        """`item` (held already, by an earlier scan) counted as this bundle's list; or, when another file of the
        same bundle came first, the list held for that one, in its place."""
        if digest in self.items:
            return self.items[digest]
        self.items[digest] = item
        if item.source is not None:
            self.spooled += item.size
        else:
            self.in_memory += item.size
        return item

    def hold(self, digest: str, control: Control) -> tuple[Item | None, str]:
        """The item that serves this bundle's list: the one held for it already, else a new file in the spool
        folder, else bytes in memory (no spool folder, or no room in it), within the bounds; or None and why."""
        if digest in self.items:
            return self.items[digest], ""
        size = control.size(SUMS_NAME)
        served = sums_paths(digest)[0]
        if self.spool is not None and self.spooled + size <= MAX_SPOOLED:
            with contextlib.suppress(OSError):  # no room there (a full /tmp): held in memory then, if small enough
                return self.share(digest, _spooled(control, self.spool, served)), ""
        if self.in_memory + size <= MAX_IN_MEMORY:
            return self.share(digest, Item.of_bytes(served, control[SUMS_NAME])), ""
        return None, (f"offered without its signed list of files beside it ({SUMS_NAME}, {size:,} bytes): the "
                      f"lists of the bundles before it take all the room may hold ({MAX_SPOOLED >> 30} GiB in its "
                      f"temporary folder, {MAX_IN_MEMORY >> 20} MiB in memory)")


def _spooled(control: Control, spool: Path, served: str) -> Item:
    """The bundle's SHA256SUMS written into a new file of the room's `spool` folder, as an item served from there:
    held in memory for every offered bundle, a room of six bundles of 100,000 members with long names grew by
    26 MB each (helper-145); a million members' list is 100 MB and more. `served` is the path it is served at
    (its media type is the one of that name).

    Raises:
        OSError: the spool folder cannot be written.
    """
    import tempfile

    fd, name = tempfile.mkstemp(suffix=SPOOLED, dir=spool)
    try:
        with os.fdopen(fd, "wb") as out, control.open(SUMS_NAME) as sums:
            while chunk := sums.read(1 << 20):
                out.write(chunk)
            out.flush()
            stamp = Stamp.of(os.fstat(out.fileno()))
    except BaseException:
        os.unlink(name)
        raise
    return Item.of_file(served, Path(name), stamp, f'"{control.sha256(SUMS_NAME)}"')


def _spool_intact(checked: _Checked) -> bool:
    """Whether a check's spooled list is still the file written (a cleaner of /tmp may have removed it: then the
    bundle is checked and spooled again, where its list was answered 503 for good, helper-146)."""
    item = checked.sums
    if item is None or item.source is None:
        return True
    try:
        return Stamp.of(os.lstat(item.source)) == item.stamp
    except OSError:
        return False


def _drop_spooled(spool: Path, kept: Mapping[tuple[Path, Stamp], _Checked]) -> None:
    """Remove the spooled files no checked bundle names any longer (the bundle was removed or changed)."""
    named = {c.sums.source for c in kept.values() if c.sums is not None}
    with contextlib.suppress(OSError), os.scandir(spool) as entries:
        for entry in entries:
            if entry.name.endswith(SPOOLED) and Path(entry.path) not in named:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _part_or_failure(path: Path, reason: VerificationError) -> str:
    """Why a file that does not verify as a whole bundle is not offered: it is a part, or what failed."""
    try:
        part = verify_bundle(path, None, parts=True).part  # only to say what it is
    except (VerificationError, ConfigError, OSError):
        part = None
    if part is not None:
        return f"is part {part.number} of {part.count} of a split bundle; join the parts to offer it (mirror join)"
    return f"does not verify: {reason}"


def _offer_files(offer: Offer, checked: _Checked, path: Path, stamp: Stamp) -> dict[str, Item]:
    sums, sig = sums_paths(offer.sha256)
    bundle = Item.of_file(".7z", path, stamp, f'"{offer.sha256}"', immutable=True, filename=offer.download_name)
    files = {bundle_path(offer.sha256): bundle, sig: Item.of_bytes(sig, checked.sig)}
    if checked.sums is not None:  # beside an offer, unless the lists held before it took all the room (Lists)
        files[sums] = checked.sums
    return files


MAX_ROOM_TORRENT = 256 << 10  # a bundle's .torrent: 2,048 piece hashes (40 KB) and the mirror list fit with room


def _outside_index(files: Mapping[str, Item], offers: Mapping[str, Offer]) -> list[str]:
    """What to say of offered bundles the folder's signed index does not list: a mirror copy cut short (`fetch
    --keep-mirror` kept the bundles, then could not write the newer index) served the older index, and readers
    who fetch from the room, held to that index, never saw the newer bundles the page showed, with no word why."""
    item = files.get(INDEX_NAME)
    if item is None or item.data is None or not _looks_signed(files):
        return []
    try:
        index = Index.from_bytes(item.data)
    except (ManifestError, NewerFormat):
        return []
    listed = {entry.sha256 for entry in index.bundles}
    outside = sum(1 for sha256 in offers if sha256 not in listed)
    if not outside:
        return []
    return [f"{outside} bundle(s) offered on the page are not in the signed index served ({INDEX_NAME}, version "
            f"{index.version}): `mirror fetch` from this room holds to that index and never gets them (a browser "
            "can, from the page); a mirror copy cut short gets its newer index when its fetch --keep-mirror is run "
            "again"]


def _signed_infohashes(files: Mapping[str, Item]) -> dict[str, str]:
    """sha256 -> info hash of each bundle the folder's index.json lists (not checked here: readers check it)."""
    item = files.get(INDEX_NAME)
    if item is None or item.data is None:
        return {}
    try:
        return {e.sha256: e.infohash for e in Index.from_bytes(item.data).bundles if e.infohash}
    except ManifestError:
        return {}


def _torrent(root: Path, offer: Offer, infohashes: Mapping[str, str]) -> Item | None:
    """A mirror copy's bundles/<sha256>.torrent (publish writes it; fetch --torrent reads it), offered only when the
    copy's index.json names this bundle with that very info hash, and the file is at most MAX_ROOM_TORRENT: read
    from the file when asked (never held), and only while it is the file that was checked."""
    wanted = infohashes.get(offer.sha256)
    folder = root / "bundles"
    if wanted is None or folder.is_symlink() or not folder.is_dir():
        return None
    path = folder / f"{offer.sha256}.torrent"
    info = _regular(path)
    data = _read_capped(path, MAX_ROOM_TORRENT) if info is not None else None
    if info is None or data is None or len(data) != info.st_size:
        return None
    try:
        torrent = Torrent.from_bytes(data)
    except ManifestError:
        return None
    if torrent.info.infohash != wanted or torrent.info.length != offer.size:
        return None
    return Item.of_file(torrent_path(offer.sha256), path, Stamp.of(info), f'"{hashlib.sha256(data).hexdigest()}"')


def scan_folder(root: Path, log: Log, cache: Cache | None = None, spool: Path | None = None,
                keys: TrustedKeys | None = None, peeked: Peeked | None = None) -> Catalog:
    """Verify what the folder holds (files already checked with the same stamp are not read again). With `spool`
    (a private folder of the room's), each bundle's SHA256SUMS is served from a file there, not held in memory.
    With `keys` (the room's keyring), a room that holds more bundles than it offers (MAX_ENTRIES) offers those
    whose signer the keyring trusts first, then those endorsed by keys it trusts, then the newest: never the
    first found (a stick of 10,000 bundles signed by a stranger crowded the author's out).

    Raises:
        ConfigError: the folder does not exist or is not a folder.
    """
    if not root.is_dir():
        raise ConfigError(f"{root} is not a folder", hint="name a folder of bundles, or a mirror copy")
    files, skipped = _index_files(root)
    notes: list[str] = []
    infohashes = _signed_infohashes(files)
    offers: dict[str, Offer] = {}
    checked_now: dict[tuple[Path, Stamp], _Checked] = {}
    found: dict[str, tuple[_Checked, Path, Stamp]] = {}  # each bundle that verified, in the first file found
    chosen, odd, ranks = _candidates(root, keys, peeked)
    candidates, failing = chosen.paths, 0
    for name in (INDEX_NAME, INDEX_NAME + SIG_SUFFIX):  # passed over as a bundle would be: said, not in silence
        if os.path.lexists(root / name) and _regular(root / name) is None:
            odd = [root / name, *odd]
    for path in odd[:MAX_SKIPPED]:
        skipped.append(f"{printable(str(path.relative_to(root)))}: a link or not a regular file, never followed; "
                       "copy the file itself into the folder")
    if len(odd) + chosen.more_odd > MAX_SKIPPED:
        skipped.append(f"{len(odd) + chosen.more_odd - MAX_SKIPPED} more link(s) or file(s) that are not regular "
                       "files, never followed")
    for path in _first_volumes(root)[:MAX_SKIPPED - len(skipped)]:
        volume = printable(str(path.relative_to(root)))
        command = f"mirror join {shlex.quote(str(path))} -o {shlex.quote(str(path.with_name(path.name[:-4])))}"
        skipped.append(f"{volume}: the first of a set of 7-Zip volumes, not a bundle; to offer it, join the set "
                       f"into one: {printable(command)}")
    for path in chosen.passed[:max(0, MAX_SKIPPED - len(skipped))]:  # the first said one by one, as verify says it
        skipped.append(f"{printable(str(path.relative_to(root)))}: {_not_an_archive(path)}")
    lists = Lists(spool)
    earlier_checks: dict[tuple[Path, Stamp], _Checked] = {}
    for path, stamp in candidates:  # the lists held already count first: they take their room whatever comes
        earlier = (cache or {}).get((path, stamp))
        if earlier is not None and _spool_intact(earlier):
            if earlier.offer is not None and earlier.sums is not None:
                earlier = replace(earlier, sums=lists.share(earlier.offer.sha256, earlier.sums))
            earlier_checks[(path, stamp)] = earlier
    seen: dict[int, dict[str, _Checked]] = {}
    for checked in earlier_checks.values():
        if checked.offer is not None:
            seen.setdefault(checked.offer.size, {}).setdefault(checked.offer.sha256, checked)
    for path, stamp in candidates:
        earlier = earlier_checks.get((path, stamp))
        known = earlier
        if known is None or (known.again and not known.retried):
            log(f"checking {printable(path.name)} ...")
            known = _check(path, stamp, lists, seen, keys)
            if known.again and earlier is not None:  # twice in a row: never a check every round for good
                known = replace(known, retried=True)
            if known.offer is not None:
                seen.setdefault(known.offer.size, {}).setdefault(known.offer.sha256, known)
        checked_now[(path, stamp)] = known
        where = printable(str(path.relative_to(root)))
        if known.offer is None:
            if len(skipped) < MAX_SKIPPED:
                skipped.append(f"{where}: {known.problem}")
            else:
                failing += 1
            continue
        if known.problem and len(notes) < MAX_SKIPPED:  # offered, and something of it is said
            notes.append(f"{where}: {known.problem}")
        found.setdefault(known.offer.sha256, (known, path, stamp))
    ranked = sorted(found.values(), key=lambda held: held[0].offer.rank if held[0].offer else (), reverse=True)
    for known, path, stamp in ranked[:MAX_ENTRIES]:
        offer = known.offer
        if offer is not None:
            offers[offer.sha256] = offer
            files.update(_offer_files(offer, known, path, stamp))
            torrent = _torrent(root, offer, infohashes)
            if torrent is not None:
                files[torrent_path(offer.sha256)] = torrent
    skipped += _passed_over(chosen, failing)
    if len(ranked) > MAX_ENTRIES:  # not offered, though they verify
        skipped.append(f"{len(ranked) - MAX_ENTRIES} bundle(s) that verify left out: a room offers at most "
                       f"{MAX_ENTRIES:,}; first those whose signer its keyring trusts (serve --keys), then those "
                       "endorsed by keys it trusts, then the newest")
    ordered = tuple(sorted(offers.values(), key=lambda o: (o.meta.title, o.meta.bundle_id, o.meta.version)))
    listing, left_out = fitting([o.entry for o in ordered])
    files[LISTING_NAME] = Item.of_bytes(LISTING_NAME, listing.to_bytes())
    if left_out:  # offered on the page and at their paths; readers would refuse the whole listing with them
        notes.append(f"{left_out} bundle(s) left out of {LISTING_NAME} (offered on the page only): with them it "
                       "would be larger than readers take; those with the longest titles are left out first")
    notes += _outside_index(files, offers)
    again = any(k.again and not k.retried for k in checked_now.values())  # a file changed while it was checked
    if spool is not None:
        _drop_spooled(spool, checked_now)
    return Catalog(root, ordered, files, _looks_signed(files), tuple(skipped), checked_now, again, ranks,
                   tuple(notes))


def _not_an_archive(path: Path) -> str:
    """Why a file passed over (candidates.py) is no bundle, as verification says it: no 7z signature, or what the
    file is instead (a zip, a photo...); read no further than its start."""
    try:
        with os.fdopen(open_quietly(str(path)), "rb") as handle:  # its access time kept, as candidates.py reads it
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise ConfigError("not a regular file")
            read_archive(handle, Limits())
    except VerificationError as reason:  # the template verify's own messages use
        return f"does not verify: {reason}"
    except (ConfigError, OSError):
        return "changed while it was checked; it is looked at again"
    return "changed while it was checked; it is looked at again"  # a 7z archive now: the watch sees the change


def _passed_over(chosen: Chosen, failing: int) -> list[str]:
    """What a scan says of the files it did not offer beyond those named one by one: how many, and why."""
    said = []
    if failing:
        said.append(f"{failing} more file(s) that were not offered: they do not verify")
    if chosen.small + chosen.foreign > len(chosen.passed):
        said.append(f"{chosen.small + chosen.foreign} *.7z file(s) passed over without a look: {chosen.small} too "
                    f"small to be a 7z archive, {chosen.foreign} not beginning as one does")
    if chosen.beyond:
        said.append(f"{chosen.beyond} more 7z archive(s) not verified: a room verifies at most {MAX_CANDIDATES:,} in "
                    "one look, first those signed by keys its keyring trusts, then other bundles whose signature "
                    "checks, never the first names")
    return said


def _looks_signed(files: Mapping[str, Item]) -> bool:
    """Whether the folder holds an index pair: index.json and a minisign signature by a publisher beside it.

    The server cannot check the signature (it does not know the publisher's key; readers do); it only
    says "signed" when there is a signature of an index at all.
    """
    index, signature = files.get(INDEX_NAME), files.get(INDEX_NAME + SIG_SUFFIX)
    if index is None or signature is None or signature.data is None:
        return False
    try:
        return Signature.from_bytes(signature.data).trusted_comment.startswith("index:")
    except (SignatureError, ManifestError):
        return False


def folder_state(root: Path) -> tuple[object, ...]:
    """A cheap summary of the folder that changes when a file is added, removed, renamed, written to (a bundle
    copied in, or copied over one, writes into a file the folder already lists) or the index rewritten: one stat
    for each *.7z file, none opened (candidates.py).

    It watched only the first names in name order, as the scan verified them: a bundle copied over a planted file
    past them was never seen."""
    state: list[object] = []
    for path in (root, root / "bundles", root / "index", root / INDEX_NAME, root / (INDEX_NAME + SIG_SUFFIX)):
        try:
            info = path.lstat()
        except OSError:
            state.append(None)
            continue
        state.append((info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns))
    try:
        state.append(folder_digest(root))  # every *.7z file, whichever the scan looks at
    except OSError:
        state.append(None)
    return tuple(state)
