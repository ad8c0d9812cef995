"""fetch(): the newest bundles from whichever mirror answers, resumed across runs and mirrors, verified.

Example::

    result = fetch(FetchRequest(mirrors=("https://a.example/m/", "/media/usb/mirror"), dest=Path("in"),
                                want_all=True), keyring.snapshot(), log=print)
    for report in result.reports.values():
        print(report.label, report.fate)

Bundles are named by their hash and never change, so a download begun on a mirror
that got blocked (or ran out of its time budget) continues on another with Range
(download.py); the final hash decides, then the full verification of a bundle
received by hand, and only then does the bundle move into DEST. Partial downloads
wait in DEST/.mirror-downloads/.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import functools
import hashlib
import itertools
import os
import re
import shutil
import stat
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from datetime import UTC, datetime
from pathlib import Path

from mirror.bundle.verified import Facts, VerifiedCache
from mirror.bundle.verify import VerifiedBundle, verify_bundle
from mirror.errors import ConfigError, ExitCode, MirrorError, VerificationError
from mirror.fetch.choose import Log, NoIndex, choose_index
from mirror.fetch.download import EARLIER, Download, Progress, no_progress
from mirror.fetch.early import EarlyCheck, gate
from mirror.fetch.listing import choose_listing
from mirror.fetch.report import Fate, MirrorReport
from mirror.fetch.space import DiskSpace
from mirror.fetch.state import known_mirrors
from mirror.fetch.transport import FolderMirror, Mirror, open_mirror
from mirror.formats.index import BundleEntry
from mirror.formats.manifest import SIG_NAME, SUMS_NAME, Sums
from mirror.formats.names import local_name
from mirror.formats.torrent import without_trackers
from mirror.net.pace import Limits, Stop, stoppable
from mirror.record import field, record, replace
from mirror.trust.keyset import TrustedKeys
from mirror.trust.policy import AuthorTrusted, Policy
from mirror.trust.rollback import Choice

DOWNLOADS = ".mirror-downloads"
SWARM_FOLDER = "swarm"  # in DOWNLOADS: the swarm's own (fetch/swarm.py)
MAX_LOOKED_AT = 10_000  # names of DEST looked at, once per run, for bundles copied in under names of their own
# Another way to get one bundle's bytes (fetch/swarm.py): (entry, mirrors, downloads folder, reports, log,
# progress) -> a file with the signed sha256, or None; what it returns is checked like any mirror's download.
EntrySource = Callable[[BundleEntry, list[Mirror], Path, dict[str, MirrorReport], Log, Progress], Path | None]


@record
class FetchRequest:
    """What the reader asked for."""

    mirrors: tuple[str, ...]
    dest: Path
    bundle_ids: tuple[str, ...] = ()
    want_all: bool = False
    proxy: str | None = None
    strict: bool = False
    now: datetime | None = None
    limits: Limits = field(default_factory=Limits)
    progress: Progress = no_progress
    unsigned: bool = False  # take a peer's unsigned listing even after having accepted a signed index
    # set by `fetch` when the bundles come from peers' unsigned listings, not a signed index: (sha256, size, info
    # hash) -> the peers that list that file so, and the peers that served a listing (none: a signed index)
    listed_by: Mapping[tuple[str, int, str | None], tuple[str, ...]] = field(default_factory=dict)
    listers: frozenset[str] = frozenset()
    swarm: EntrySource | None = None  # tried first for each bundle; the mirrors then get what it did not deliver
    policy: Policy = field(default_factory=AuthorTrusted)  # who must have signed for a bundle to be trusted
    parallel: int = 2  # bundles downloaded at once (from the mirrors; the swarm takes one at a time)
    keep: bool = False  # the arrivals become a mirror copy (fetch/keep.py): each keeps its signed list and signature


@dataclasses.dataclass(slots=True)
class Arrival:
    """One requested bundle and how it ended."""

    entry: BundleEntry
    path: Path | None = None
    note: str = ""
    trusted: bool = False
    invalid: bool = False  # the bytes matched the index but the bundle failed verification
    # the file, whole and as its author signed it, put back as the part when only the entry's claims disagreed
    # with it: another entry of the same file and size finds it there (fetch/listing.py), not downloaded again
    matched: Path | None = dataclasses.field(default=None, repr=False)
    no_room: bool = False  # not begun: DEST's disk lacks the room (fetch/space.py)
    verified: VerifiedBundle | None = dataclasses.field(default=None, repr=False)  # what verified (keep.py copies it)
    sums_sha256: str = ""  # with --keep-mirror: the SHA-256 of its SHA256SUMS, which keep.py reads back from it


@dataclasses.dataclass(slots=True)
class FetchResult:
    """Per mirror and per bundle, what happened."""

    reports: dict[str, MirrorReport]
    chosen: Choice
    arrivals: list[Arrival] = dataclasses.field(default_factory=list)
    tampered_only: bool = False

    @property
    def exit_code(self) -> ExitCode:
        """0 all arrived verified, 5 some author not in the keyring, 3 only tampered copies, 4 otherwise."""
        if all(a.path is not None for a in self.arrivals):
            return ExitCode.OK if all(a.trusted for a in self.arrivals) else ExitCode.UNTRUSTED
        return ExitCode.INVALID if self.tampered_only else ExitCode.INCOMPLETE


def _verified(path: Path, keys: TrustedKeys, policy: Policy, cache: VerifiedCache | None = None,
              early: EarlyCheck | None = None, listing: bool = False) -> tuple[VerifiedBundle | None, str]:
    """Full verification of a downloaded bundle (done while it downloaded, if `early` holds for the finished
    file); None and why when it fails. With `listing`, the hash it matched is a peer's word, not a signature."""
    try:
        checked = early.result(path) if early is not None else None
        return (checked.result(path) if checked is not None else verify_bundle(path, keys, policy=policy,
                                                                                cache=cache)), ""
    except VerificationError as exc:
        if listing:
            return None, f"the hash a peer's listing gave matched, but the bundle failed verification: {exc}"
        return None, f"signed hash matched, but the bundle failed verification: {exc}"


def _check(entry: BundleEntry, path: Path, keys: TrustedKeys, policy: Policy,
           cache: VerifiedCache | None = None, early: EarlyCheck | None = None,
           listing: bool = False) -> tuple[VerifiedBundle | None, str]:
    """`_verified`, and agreement with what the index (or a peer's `listing`) says of it."""
    verified, problem = _verified(path, keys, policy, cache, early, listing)
    if verified is not None and (problem := _disagrees(entry, verified, listing)):
        return None, problem
    return verified, problem


def _disagrees(entry: BundleEntry, verified: VerifiedBundle, listing: bool = False) -> str:
    """Why the index's entry (or a peer's unsigned `listing`'s) does not name this verified bundle ("" when it
    does)."""
    if (verified.meta.bundle_id, verified.meta.version, verified.meta.title) != (entry.id, entry.version, entry.title):
        if listing:
            return "a peer's listing names this bundle with another id, version or title than the bundle itself"
        return "the index names this bundle with another id, version or title than the bundle itself"
    if verified.key_id != entry.author_key:
        if listing:
            return "a peer's listing names another author key than the bundle's signer"
        return "the index names another author key than the bundle's signer"
    return ""


def _trust_note(verified: VerifiedBundle) -> str:
    if verified.trusted and verified.signer_name is not None:
        return f"signed by {verified.signer_name}"
    if verified.trusted:  # by the reader's policy: trusted keys endorse it
        return f"author key {verified.key_id} is not in your keyring, but {verified.verdict.reason}"
    return (f"intact, but author key {verified.key_id} is not in your keyring "
            f"(fingerprint {verified.fingerprint})")


def arrival_names(entry: BundleEntry, trusted: bool = True) -> tuple[str, ...]:
    """Where a fetched bundle lands in DEST, the first that is free: its readable name (formats/names.py), the same
    with the start of its hash when another file holds that name, and the short name fetch gave bundles before
    readable names (also where a file system takes no name as long as the others).

    A bundle whose signer is not trusted lands under a name that says so, with its key id: anyone can sign a
    bundle with another author's id and title, and it must not take the name the author's own would get."""
    stem = local_name(entry.title, entry.id, entry.version)
    if not trusted:
        unknown = f".unknown-signer-{entry.author_key}"
        return (f"{stem}{unknown}.7z", f"{stem}{unknown}-{entry.sha256[:12]}.7z",
                f"{entry.id}-v{entry.version}{unknown}.7z")
    return f"{stem}.7z", f"{stem}-{entry.sha256[:12]}.7z", f"{entry.id}-v{entry.version}.7z"


def work_folder(folder: Path) -> Path:
    """`folder` (DEST/.mirror-downloads, or a folder in it) made or checked, with nothing in it that leads elsewhere.

    Partial downloads are opened for appending by name, and the swarm writes into its folder: a link
    planted there (a copied folder, a shared USB stick) would make a download write outside DEST, and a
    FIFO would block it. So links (hard links too: a file with another name elsewhere), FIFOs, devices and
    sockets in it are removed (they are never ours), and so are folders under a download's name.

    Raises:
        ConfigError: `folder` itself is a link or not a folder, or a folder in it cannot be removed.
    """
    if not folder.is_symlink() and not folder.exists():
        folder.mkdir(exist_ok=True)
    if folder.is_symlink() or not folder.is_dir():
        raise ConfigError(f"{folder} is a link or not a folder; fetch keeps its partial downloads there",
                          hint="remove it, then fetch again")
    for item in os.scandir(folder):
        info = item.stat(follow_symlinks=False)
        if stat.S_ISDIR(info.st_mode) and item.name.endswith((".part", ".7z")):
            shutil.rmtree(item.path, ignore_errors=True)
            if os.path.lexists(item.path):
                raise ConfigError(f"{item.path} is a folder where fetch keeps a download", hint="remove it")
        elif not stat.S_ISDIR(info.st_mode) and (not stat.S_ISREG(info.st_mode) or info.st_nlink > 1):
            os.unlink(item.path)
    return folder


def _sha256(path: Path, cache: VerifiedCache | None, size: int) -> str:
    """The SHA-256 of the file of `size` bytes at `path`: from the cache while the file is unchanged
    (bundle/verified.py), else read; "" when it is of another size (as opened: a file grown since DEST was looked
    at is not read to its end). Opened without following a link and without blocking, and judged as opened: a FIFO
    swapped in after a look at the folder (a shared folder, a USB stick) would hold the run for good.

    Raises:
        OSError: not a regular file, or it cannot be read.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC | os.O_NOFOLLOW
    with os.fdopen(os.open(path, flags), "rb") as handle:
        before = os.fstat(handle.fileno())
        if not stat.S_ISREG(before.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        if before.st_size != size:
            return ""
        facts = cache.get(before) if cache is not None else None
        if facts is not None and facts.sha256:
            return facts.sha256
        digest, left = hashlib.sha256(), size
        while left > 0 and (chunk := handle.read(min(left, 1 << 20))):
            digest.update(chunk)
            left -= len(chunk)
        if left or handle.read(1):  # shorter or longer than it was when opened: changing, not the bundle
            return ""
        if cache is not None:
            cache.record(before, os.fstat(handle.fileno()), Facts(sha256=digest.hexdigest()))
    return digest.hexdigest()


def already_here(dest: Path, entry: BundleEntry, cache: VerifiedCache | None = None,
                 others: OtherNames | None = None) -> Path | None:
    """A file in DEST, under any of `arrival_names` (trusted or not), or under a name of its own among `others`,
    whose bytes are the signed ones. Links are not followed."""
    names = (*arrival_names(entry), *arrival_names(entry, trusted=False))
    for name in names:
        path = dest / name
        try:
            if _sha256(path, cache, entry.size) == entry.sha256:
                return path
        except OSError:  # none, a link, a name too long for this file system (eCryptfs takes 143 bytes),
            continue     # unreadable: not here
    for path in others.of_size(entry.size) if others is not None else ():
        try:
            if path.name not in names and _sha256(path, cache, entry.size) == entry.sha256:
                return path
        except OSError:  # gone meanwhile, a link or FIFO swapped in, unreadable: not this one
            continue
    return None


class OtherNames:
    """The bundles a reader copied into DEST by hand under names of their own (from a USB stick, a messenger, a
    room), found by size: such a file whose SHA-256 is the signed one is used where it is, never downloaded again
    over a connection that may last minutes. DEST is looked at once per run (at most MAX_LOOKED_AT names, hidden
    ones passed over), when a bundle is first missing under its own names; only files of a wanted size are
    read."""

    def __init__(self, dest: Path) -> None:
        self.dest = dest
        self._by_size: dict[int, list[Path]] | None = None
        self._lock = threading.Lock()

    def of_size(self, size: int) -> list[Path]:
        """The regular files of DEST (not links) of exactly `size` bytes, as they were when first looked at."""
        with self._lock:
            if self._by_size is None:
                self._by_size = {}
                with contextlib.suppress(OSError), os.scandir(self.dest) as items:
                    for item in itertools.islice(items, MAX_LOOKED_AT):
                        with contextlib.suppress(OSError):
                            info = item.stat(follow_symlinks=False)
                            if not item.name.startswith(".") and stat.S_ISREG(info.st_mode):
                                self._by_size.setdefault(info.st_size, []).append(Path(item.path))
            return list(self._by_size.get(size, ()))


def _place(entry: BundleEntry, part: Path, dest: Path, keys: TrustedKeys, policy: Policy,
           cache: VerifiedCache | None = None, early: EarlyCheck | None = None, keep: bool = False,
           listing: bool = False) -> Arrival:
    final = part.with_name(f"{entry.sha256}.7z")
    try:
        os.replace(part, final)
    except BaseException:
        if early is not None:
            early.result(None)
        raise
    before = os.stat(final)  # before it is read for the last time: a change after that is no longer the verified file
    verified, problem = _verified(final, keys, policy, early=early, listing=listing)
    if verified is None:
        final.unlink()
        return Arrival(entry, note=problem, invalid=True)
    problem = _disagrees(entry, verified, listing)
    if problem:  # whole, but not what the entry claims: kept for the next claim on it (_fetch_each removes it)
        os.replace(final, part)
        return Arrival(entry, note=problem, invalid=True, matched=part)
    arrival = Arrival(entry)
    names = arrival_names(entry, verified.trusted)
    free = [dest / name for name in names if _free_for(dest / name, entry)]
    if not free:  # every name is taken by other files (another bundle of the same title): never replaced; this
        # bundle is missing, said with why, the others go on (the whole fetch stopped with exit 2 and no report,
        # helper-162), and what arrived waits for the next run as its part
        os.replace(final, part)
        return Arrival(entry, note=f"{dest / names[0]}, {names[1]} and {names[2]} are other files: move them, or "
                                   "fetch into another folder")
    target = free[0]
    os.replace(final, target)
    if cache is not None:  # the rename changed only its ctime: remembered under its new key
        now = os.stat(target)
        if (before.st_dev, before.st_ino, before.st_size, before.st_mtime_ns) == \
                (now.st_dev, now.st_ino, now.st_size, now.st_mtime_ns):
            cache.record(now, now, Facts(verified.control.sha256(SUMS_NAME), entry.sha256))
    arrival.path, arrival.trusted, arrival.note = target, verified.trusted, _trust_note(verified)
    arrival.verified = _kept(verified, keep)
    arrival.sums_sha256 = verified.control.sha256(SUMS_NAME) if keep else ""
    return arrival


def _kept(verified: VerifiedBundle, keep: bool) -> VerifiedBundle:
    """What an arrival keeps of its verification until the run ends: the verdict, the signer and bundle.json's
    fields, but none of the columns of its files (a million members' are about 100 MB: kept for every bundle,
    a run's memory would grow with each); with `keep` (fetch --keep-mirror copies it, fetch/keep.py) the signed
    list's signature, in memory (the list itself, 100 MB at a million lines, is read back from the bundle then,
    and compared with Arrival.sums_sha256); otherwise no signed file. Never a temporary file (and its
    descriptor) per bundle."""
    return replace(verified, meta=replace(verified.meta, files={}), sums=Sums({}),
                               members=(), missing=(), control=verified.control.only(*((SIG_NAME,) if keep else ())))


def _free_for(path: Path, entry: BundleEntry) -> bool:
    """Whether `entry` may land at `path`: nothing is there, or a regular file with the very same bytes."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return True
    except OSError:  # a name this file system cannot hold: the next name is tried
        return False
    if not stat.S_ISREG(info.st_mode) or info.st_size != entry.size:
        return False  # a link, a folder, a FIFO (never opened) or another file
    try:
        return _sha256(path, None, entry.size) == entry.sha256
    except OSError:  # unreadable, or a link or FIFO swapped in: taken
        return False


def open_index(request: FetchRequest, keys: TrustedKeys, log: Log) -> tuple[list[Mirror], dict[str, MirrorReport],
                                                                         Choice]:
    """The mirrors to try, what each did, and the index chosen from them.

    Raises:
        ConfigError: no mirrors known.
        NoIndex: no mirror served an acceptable index.
    """
    given = list(dict.fromkeys(request.mirrors))
    mirrors = [open_mirror(loc, request.proxy, request.limits) for loc in given]  # a bad one: a usage error
    for location in known_mirrors(keys):
        if location not in given:
            try:
                mirrors.append(open_mirror(location, request.proxy, request.limits))
            except ConfigError as problem:  # a signed index's list: its author's mistake, not this reader's
                log(f"passed over a mirror a signed index names: {problem}")
    if not mirrors:
        raise ConfigError("no mirrors to try", hint="name one with --mirror URL (or a folder)")
    reports: dict[str, MirrorReport] = {m.label: MirrorReport(m.label) for m in mirrors}
    try:
        chosen = choose_index(mirrors, keys, request.now or datetime.now(UTC), request.strict, reports, log,
                              request.limits)
    except NoIndex as no_index:  # a room's plain folder: its unsigned listing, if listing.py's rules allow
        chosen = choose_listing(mirrors, keys, request.strict, request.unsigned, reports, log, no_index)
    return mirrors, reports, chosen


def fetch(request: FetchRequest, keys: TrustedKeys, log: Log) -> FetchResult:
    """Fetch the requested bundles.

    Raises:
        ConfigError: no mirrors known, or an unknown bundle id was asked for.
        NoIndex: no mirror served an acceptable index.
    """
    mirrors, reports, chosen = open_index(request, keys, log)
    request = replace(request, listed_by=chosen.listed_by,
                      listers=frozenset(label for labels in chosen.listed_by.values() for label in labels))
    wanted = _wanted(chosen, request)
    if request.dest.exists() and not request.dest.is_dir():
        raise ConfigError(f"{request.dest} is not a folder", hint="--dest names the folder bundles go into")
    made = not request.dest.exists()
    request.dest.mkdir(parents=True, exist_ok=True)
    try:
        return _fetch_into(request, keys, log, mirrors, reports, chosen, wanted)
    finally:
        if made:  # a DEST this fetch made and nothing came into: not left behind empty (helper-157)
            with contextlib.suppress(OSError):
                request.dest.rmdir()


def _fetch_into(request: FetchRequest, keys: TrustedKeys, log: Log, mirrors: list[Mirror],
                reports: dict[str, MirrorReport], chosen: Choice, wanted: list[BundleEntry]) -> FetchResult:
    with only_fetch_into(request.dest):
        work_folder(request.dest / DOWNLOADS)  # checked here; _fetch_each downloads into it
        _drop_stale_parts(request.dest / DOWNLOADS, chosen)
        order = sorted(mirrors, key=lambda m: m.label != chosen.label)  # the mirror that served the index first
        result = FetchResult(reports, chosen)
        cache = VerifiedCache()
        try:
            _fetch_each(request, keys, wanted, order, reports, result, cache, log, chosen.others)
        finally:
            cache.save()
            tidy_downloads(request.dest)
    return result


@contextlib.contextmanager
def only_fetch_into(dest: Path) -> Iterator[None]:
    """Hold DEST for this fetch alone. Two fetches into one folder append to the same .part file: the first to
    finish renames it into DEST while the other still writes to it, leaving a bundle twice its size.

    The lock is the folder's own (flock on it), so a fetch that is killed leaves nothing behind. Where the system
    cannot lock a folder (no flock; a network file system that refuses it), the fetch goes on without it.

    Raises:
        MirrorError: another fetch holds DEST.
    """
    try:
        import fcntl
    except ImportError:  # not a POSIX system
        yield
        return
    try:
        fd = os.open(dest, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise MirrorError(f"another mirror fetch is downloading into {dest}",
                              hint="wait until it ends, or fetch into another folder (--dest)") from None
        except OSError:
            pass  # cannot be locked here
        yield
    finally:
        os.close(fd)


STALE_PART_SECONDS = 7 * 24 * 3600
_PART_NAME = re.compile(r"([0-9a-f]{64})\.7z(?:\.part)?")


def _drop_stale_parts(downloads: Path, chosen: Choice) -> None:
    """Remove what earlier runs left of bundles the chosen index (and the copies peers offer) no longer lists, once
    untouched for a week: an older version's partial stayed on a reader's stick for good (helper-162), counting
    against its room. A week, so that a reader who fetches two publishers' bundles into one folder keeps the
    other's partial for its next run."""
    listed = {entry.sha256 for entry in chosen.index.bundles}
    listed |= {copy.sha256 for copies in chosen.others.values() for copy in copies}
    now = time.time()
    for folder in (downloads, downloads / SWARM_FOLDER):
        with contextlib.suppress(OSError), os.scandir(folder) as items:
            for item in itertools.islice(items, MAX_LOOKED_AT):
                match = _PART_NAME.fullmatch(item.name)
                if match is None or match[1] in listed or (folder == downloads) != item.name.endswith(".part"):
                    continue
                with contextlib.suppress(OSError):
                    info = item.stat(follow_symlinks=False)
                    if stat.S_ISREG(info.st_mode) and now - info.st_mtime > STALE_PART_SECONDS:
                        os.unlink(item.path)


def tidy_downloads(dest: Path) -> None:
    """Remove DEST/.mirror-downloads (and its swarm folder) when nothing waits in it: a reader's Downloads folder
    or USB stick should not keep an empty hidden folder. One still in use (another fetch, a partial) stays."""
    for folder in (dest / DOWNLOADS / SWARM_FOLDER, dest / DOWNLOADS):
        with contextlib.suppress(OSError):  # not empty, not there, or not ours to remove
            os.rmdir(folder)


def _here(entry: BundleEntry, existing: Path, keys: TrustedKeys, policy: Policy, cache: VerifiedCache,
          keep: bool = False, listing: bool = False) -> Arrival:
    verified, problem = _check(entry, existing, keys, policy, cache, listing=listing)
    if verified is not None and verified.trusted and existing.name in arrival_names(entry, trusted=False):
        existing = _own_name(entry, existing)
    if verified is None:
        return Arrival(entry, None, problem, False, True)
    for partial in (existing.parent / DOWNLOADS / f"{entry.sha256}.7z.part",
                    existing.parent / DOWNLOADS / SWARM_FOLDER / f"{entry.sha256}.7z"):
        # what a run killed while it downloaded left of a bundle that is here now, come another way: never needed
        # again (the swarm's file stayed for good, helper-160); the folders go when empty (tidy_downloads)
        with contextlib.suppress(OSError):
            if partial.is_file() and not partial.is_symlink():
                partial.unlink()
    note = _trust_note(verified)  # by its name: a message translated in turn
    return Arrival(entry, existing, f"already here, {note}", verified.trusted, verified=_kept(verified, keep),
                   sums_sha256=verified.control.sha256(SUMS_NAME) if keep else "")


def _own_name(entry: BundleEntry, path: Path) -> Path:
    """A bundle that landed under an unknown signer's name and is trusted now (its key was imported since),
    moved to the name a trusted one gets, if that is free (never over another file); else where it is."""
    for name in arrival_names(entry)[:2]:
        target = path.with_name(name)
        try:
            os.link(path, target)
        except FileExistsError:
            continue
        except OSError:  # no hard links here (a FAT USB stick): a rename, if nothing took the name meanwhile
            if os.path.lexists(target):
                continue
            try:
                path.rename(target)
            except OSError:
                return path
            return target
        path.unlink()
        return target
    return path


def _fetch_each(request: FetchRequest, keys: TrustedKeys, wanted: list[BundleEntry], order: list[Mirror],
                reports: dict[str, MirrorReport], result: FetchResult, cache: VerifiedCache, log: Log,
                others: Mapping[str, tuple[BundleEntry, ...]]) -> None:
    """Download `request.parallel` bundles at a time (one with the swarm), each resumed and failed over on its own;
    they are verified and placed on one more thread as each arrives (placing checks names already in DEST), so
    downloads overlap verification, and a bundle a slow mirror drips for hours keeps none of the others out of
    DEST (they are reported in the order asked). A bundle that does not arrive trusted is then sought in the
    other copies peers offer (`others`). An interruption ends every transfer within a watchdog tick (net/pace.py,
    Stop); the download threads are daemons, so one stuck in a connect cannot hold the process."""
    failed_clean = False  # a bundle that failed without any mirror serving tampered bytes
    done: list[tuple[Future[Arrival], Download | None]] = []
    # A file of the reader's own is looked for only for a signed index's entries: a peer's unsigned listing can name
    # the SHA-256 of any file (a photo, a document), and would learn from what is not asked for what DEST holds.
    elsewhere = OtherNames(request.dest) if not request.listers else None
    stop, early, space = Stop(), gate(), DiskSpace(request.dest)
    obtained: list[Future[Obtained]] = []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mirror-place") as placing:
        try:
            jobs = [functools.partial(_obtain, request, keys, entry, order, reports, cache, log, early, space,
                                      elsewhere) for entry in wanted]
            if request.swarm is not None:  # the swarm's session is driven from this thread, one at a time
                for entry, job in zip(wanted, jobs, strict=True):
                    done.append(_placed(request, keys, entry, job(), cache, placing))
            else:  # each placed as soon as it is here: one dripping bundle kept every finished one out of DEST
                obtained = _in_background(jobs, max(1, request.parallel), stop)
                turn = {id(future): n for n, future in enumerate(obtained)}
                placed: dict[int, tuple[Future[Arrival], Download | None]] = {}
                for future in as_completed(obtained):
                    n = turn[id(future)]
                    placed[n] = _placed(request, keys, wanted[n], future.result(), cache, placing)
                done = [placed[n] for n in range(len(wanted))]
            for future_arrival, fetched in done:
                arrival = first = future_arrival.result()
                if request.listers and fetched is not None and first.invalid and first.matched is None:
                    _blame_servers(fetched, reports, first.note)
                if not arrival.trusted and others.get(arrival.entry.sha256):
                    arrival = _another_copy(request, keys, arrival, fetched is not None, others[arrival.entry.sha256],
                                            order, reports, cache, log, placing, (early, space, elsewhere))
                if first.matched is not None:  # no claim fitted it: nothing of a file not placed is kept
                    first.matched.unlink(missing_ok=True)
                result.arrivals.append(arrival)
                if arrival.path is None and (fetched is not None or arrival.no_room):
                    # not begun for lack of room: missing, never "only tampered copies" (exit 4, not 3)
                    failed_clean = failed_clean or arrival.no_room or not (
                        fetched is not None and (fetched.tampered or arrival.invalid))
                    result.tampered_only = not failed_clean
        except BaseException:
            stop.set()  # Ctrl-C (or a bug): the other downloads end within a second; none not yet begun starts
            _unanswered(obtained)
            raise


def _blame_servers(fetched: Download, reports: dict[str, MirrorReport], note: str) -> None:
    """Every peer that served bytes of a bundle that does not verify, under the hash its listing gave: no one signed
    that hash, so the bytes are the peer's doing (it was reported "ok", helper-157)."""
    for source in sorted({piece.source for piece in fetched.pieces} - {EARLIER}):
        if source in reports:
            reports[source].blame(fetched.entry, note)


def _unanswered(obtained: Sequence[Future[Obtained]]) -> None:
    """End the early checks of downloads that finished but will not be placed (answering twice is harmless)."""
    for future in obtained:
        if future.done() and not future.cancelled() and future.exception() is None:
            check = future.result()[3]
            if check is not None:
                check.result(None)


def _in_background(jobs: Sequence[Callable[[], Obtained]], workers: int, stop: Stop) -> list[Future[Obtained]]:
    """Run `jobs` on `workers` daemon threads, in order, under `stop`; each job's future, in the same order."""
    futures: list[Future[Obtained]] = [Future() for _ in jobs]
    queue = deque(zip(jobs, futures, strict=True))

    def work() -> None:
        with stoppable(stop):
            while True:
                try:
                    job, future = queue.popleft()
                except IndexError:
                    return
                if stop.is_set():  # stopped: what never began ends as cancelled
                    future.cancel()
                    continue
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    future.set_result(job())
                except BaseException as exc:  # handed to the thread that waits for it
                    future.set_exception(exc)

    for n in range(min(workers, len(jobs))):
        threading.Thread(target=work, name=f"mirror-fetch-{n}", daemon=True).start()
    return futures


# the file (None: nothing arrived), already in DEST, the download, its verification while it downloaded, and why
# nothing was downloaded
Obtained = tuple[Path | None, bool, Download | None, EarlyCheck | None, str]


def _obtain(request: FetchRequest, keys: TrustedKeys, entry: BundleEntry, order: list[Mirror],
            reports: dict[str, MirrorReport], cache: VerifiedCache, log: Log,
            early_gate: threading.BoundedSemaphore, space: DiskSpace, others: OtherNames | None) -> Obtained:
    """One bundle's bytes: already in DEST (under its own names or `others`), or downloaded (from the swarm
    first, if asked) and meanwhile verified as far as it arrived (fetch/early.py; `early_gate` bounds the checks
    of a run); not begun when DEST lacks the room (`space`)."""
    existing = already_here(request.dest, entry, cache, others)
    if existing is not None:
        return existing, True, None, None, ""
    downloads = request.dest / DOWNLOADS
    download = Download(entry, downloads, reports, request.limits, log, request.progress)
    refused = space.claim(download.part, entry.size)
    if refused is not None:
        log(f"{download.name}: {refused}")
        return None, False, None, None, refused
    try:
        return _download(request, keys, entry, order, reports, log, early_gate, download)
    finally:
        space.release(download.part)


def _download(request: FetchRequest, keys: TrustedKeys, entry: BundleEntry, order: list[Mirror],
              reports: dict[str, MirrorReport], log: Log, early_gate: threading.BoundedSemaphore,
              download: Download) -> Obtained:
    part = None
    if request.listers:  # from peers' listings: only those that named this file so, for its bytes or its .torrent
        order = _listing_it(order, request, entry)
    on_hand = request.swarm is not None and _on_hand(order, entry)
    # A peer's unsigned listing may give a magnet link of its own trackers: the swarm (--public) would tell them
    # who fetches the bundle; only a signed index's trackers are the publisher's
    asked = replace(entry, magnet=without_trackers(entry.magnet)) if request.listers and entry.magnet else entry
    if download.held == entry.size and (whole := download.run(())) is not None:
        # whole already (an earlier claim's, or an earlier run's) and its hash matches: not asked of the swarm
        # again, which would fetch it whole into its own folder; a damaged one was thrown away, and is asked for
        return whole, False, download, None, ""
    if on_hand:  # a USB copy holds it: read from there first (a peer dripping real bytes held the swarm for hours)
        log(f"swarm: {entry.id}: a folder named holds it; read from there first")
    elif request.swarm is not None:
        part = request.swarm(asked, order, download.downloads, reports, log, request.progress)
    if part is not None:
        return part, False, download, None, ""
    first = sorted(order, key=lambda m: not isinstance(m, FolderMirror)) if on_hand else order  # the stick first
    path = _from_mirrors(request, keys, entry, first, reports, log, early_gate, download)
    if path[0] is None and on_hand and request.swarm is not None:  # the copy there is damaged: the peers then,
        # with no mirror a web seed (none need hear of a bundle the reader had on a stick)
        folders: list[Mirror] = [m for m in order if isinstance(m, FolderMirror)]
        part = request.swarm(asked, folders, download.downloads, reports, log, request.progress)
        if part is not None:
            return part, False, download, None, ""
    return path


def _from_mirrors(request: FetchRequest, keys: TrustedKeys, entry: BundleEntry, order: list[Mirror],
                  reports: dict[str, MirrorReport], log: Log, early_gate: threading.BoundedSemaphore,
                  download: Download) -> Obtained:
    """The bundle from the mirrors in turn, checked while it arrives (EarlyCheck)."""
    early = EarlyCheck.begin(entry, download, order, keys, request.policy, early_gate)
    try:
        path = download.run(_best_first(order, reports, log, bool(request.listers)))
    except BaseException:
        if early is not None:
            early.result(None)
        raise
    if early is not None and path is None:
        early.result(None)  # nothing to place: the check ends at its next read
        early = None
    elif early is not None:
        early.end()  # no more bytes will come: the check finishes with what is there
    return path, False, download, early, ""


def _listing_it(order: list[Mirror], request: FetchRequest, entry: BundleEntry) -> list[Mirror]:
    """Of the mirrors, those whose listing names this file so (size, info hash), and those that served no listing
    (a folder of bundles): a peer is not asked for what another peer listed (an honest room asked for a liar's
    10,000 fakes lacked them all, and was given up; one asked for the real file at a liar's size was called
    tampered)."""
    named = request.listed_by.get((entry.sha256, entry.size, entry.infohash), ())
    return [m for m in order if m.label in named or m.label not in request.listers]


_SLOW = frozenset({Fate.TIMEOUT, Fate.UNREACHABLE, Fate.REFUSED, Fate.BAD_ANSWER})
MAX_MISSES = 16  # bundles a listing's peer may fail to give, delivering few, before it is asked for no more
MISSES_PER_DELIVERY = 4  # ... "few": fewer than one in this many
_NOT_THERE = frozenset({Fate.MISSING, Fate.REFUSED, Fate.BAD_ANSWER})  # a peer's answers for a file it listed


def _best_first(order: list[Mirror], reports: dict[str, MirrorReport], log: Log, listing: bool) -> list[Mirror]:
    """`order`, with the mirrors that failed a bundle in this run (too slow, busy, unreachable, refusing) after the
    others: a mirror that drips every bundle cost a whole --timeout (or --budget) for each of them before the
    next mirror was asked. From peers' unsigned `listing`s, a peer that lacked MAX_MISSES bundles and delivered
    none is left out: a room lists only what it has, and a listing of 10,000 bundles a peer does not have made
    fetch ask for each in turn (hours, through Tor). (A signed index's mirror may hold only some of the bundles
    it lists, a reader's kept copy or a stick: it is always asked.)"""
    kept: list[tuple[bool, Mirror]] = []
    for mirror in order:
        report = reports.get(mirror.label)
        fates = report.fates if report is not None else Counter[Fate]()
        misses = sum(fates[fate] for fate in _NOT_THERE)
        if listing and report is not None and not report.given_up and misses >= MAX_MISSES \
                and misses > MISSES_PER_DELIVERY * fates[Fate.OK]:
            report.given_up = True
            log(f"{mirror.label}: {MAX_MISSES} bundles it was asked for are not there, and none was: not asked "
                f"for more in this run")
        if report is None or not report.given_up:
            kept.append((any(fates[fate] for fate in _SLOW), mirror))
    return [mirror for _, mirror in sorted(kept, key=lambda pair: pair[0])]


def _on_hand(order: Sequence[Mirror], entry: BundleEntry) -> bool:
    """Whether a folder mirror (a USB copy, a shared folder) holds the bundle at its signed size."""
    for mirror in order:
        if isinstance(mirror, FolderMirror):
            with contextlib.suppress(OSError, ValueError):
                info = os.lstat(mirror.root / entry.path)
                if stat.S_ISREG(info.st_mode) and info.st_size == entry.size:
                    return True
    return False


def _placed(request: FetchRequest, keys: TrustedKeys, entry: BundleEntry, obtained: Obtained, cache: VerifiedCache,
            placing: ThreadPoolExecutor) -> tuple[Future[Arrival], Download | None]:
    """The bundle verified and placed on the `placing` thread (or judged where it already is in DEST)."""
    path, here, download, early, why = obtained
    if here and path is not None:
        return placing.submit(_here, entry, path, keys, request.policy, cache, request.keep,
                              bool(request.listers)), None
    if path is not None:
        return (placing.submit(_place, entry, path, request.dest, keys, request.policy, cache, early, request.keep,
                               bool(request.listers)),
                download)
    nothing: Future[Arrival] = Future()  # nothing arrived (_obtain has answered its early check)
    nothing.set_result(Arrival(entry, note=why, no_room=bool(why)))
    return nothing, download


def _another_copy(request: FetchRequest, keys: TrustedKeys, arrival: Arrival, placed: bool,
                  copies: tuple[BundleEntry, ...], order: list[Mirror], reports: dict[str, MirrorReport],
                  cache: VerifiedCache, log: Log, placing: ThreadPoolExecutor,
                  bounds: tuple[threading.BoundedSemaphore, DiskSpace, OtherNames | None]) -> Arrival:
    """The first of the other copies that arrives trusted; else the first copy that arrived at all (intact, its
    signer not trusted: the reader compares the fingerprint), `arrival` itself if it did.

    A copy this run placed in DEST that is not trusted makes way for a trusted one; copies tried in vain are
    removed again, so DEST never holds two untrusted copies of one bundle from one run, nor one downloaded beside
    one the reader already had (helper-147). A peer that listed the bundle under a lie (bytes it lacks, another
    title or version) and was asked first no longer has the honest peer's intact copy removed for a reader who
    does not hold its author's key yet (helper-146).
    """
    last = arrival
    kept, ours = (arrival, placed) if arrival.path is not None else (None, False)  # the untrusted copy that stays
    whole = arrival.entry if arrival.matched is not None else None  # kept as its part: the file at its true size
    # files that verified, their signer not trusted: the same bytes under another claim cannot verify otherwise
    # (tried, the copy already in DEST was found again and removed as the reader's own, helper-150)
    untrusted = {arrival.entry.sha256} if arrival.path is not None else set()
    for copy in copies:
        if copy.sha256 in untrusted:
            continue
        note = last.note if last.note else "missing"  # a message of its own, translated in turn
        log(f"{last.entry.id}: the copy {last.entry.sha256[:12]} is not trusted ({note}); "
            f"trying another copy the peers offer ({copy.sha256[:12]}, {copy.size:,} bytes)")
        fetched: Download | None = None
        if whole is not None and copy.sha256 == whole.sha256 and copy.size != whole.size:
            # a claim of the file that arrived whole at another size is false: never resumed onto it (and the
            # whole file thrown away when the hash then failed), nor downloaded again
            candidate = Arrival(copy, note="a peer's listing names this bundle at another size than it has",
                                invalid=True)
        else:
            obtained = _obtain(request, keys, copy, order, reports, cache, log, *bounds)
            future, fetched = _placed(request, keys, copy, obtained, cache, placing)
            candidate = future.result()
        if candidate.trusted:
            if kept is not None and ours and kept.path is not None:
                kept.path.unlink(missing_ok=True)
            return candidate
        if candidate.path is not None:
            untrusted.add(copy.sha256)
        if candidate.path is not None and kept is None:
            kept, ours = candidate, fetched is not None
        elif candidate.path is not None and kept is not None and candidate.path == kept.path:
            pass  # the same file: never removed as if it were another
        elif candidate.path is not None and fetched is None and ours and kept is not None and kept.path is not None:
            kept.path.unlink(missing_ok=True)  # the reader had a copy already: it stays, not one more beside it
            kept, ours = candidate, False
        elif fetched is not None and candidate.path is not None:
            candidate.path.unlink(missing_ok=True)
        if candidate.matched is not None and candidate.matched != arrival.matched:
            candidate.matched.unlink(missing_ok=True)  # the first's is the caller's to remove
        last = candidate
    return kept if kept is not None else arrival


def _wanted(chosen: Choice, request: FetchRequest) -> list[BundleEntry]:
    """The entries asked for, each bundle (sha256) once: an id given twice must not be downloaded twice at once."""
    if request.want_all or not request.bundle_ids:
        entries = list(chosen.index.bundles)
    else:
        by_id = {e.id: e for e in chosen.index.bundles}
        missing = [b for b in request.bundle_ids if b not in by_id]
        if missing:
            raise ConfigError(f"the index (version {chosen.index.version}) has no bundle {missing[0]}",
                              hint="see the ids with `mirror fetch --list`")
        entries = [by_id[b] for b in request.bundle_ids]
    unique: dict[str, BundleEntry] = {}
    for entry in entries:
        unique.setdefault(entry.sha256, entry)
    return list(unique.values())
