"""Plan a publish: verify the bundles, find the next index version, lay out and sign the index.

Example::

    with staging_dir() as tmp:
        plan = plan_publish(config, hosts, publisher, [Path("x.7z")], keyring, now, Path(tmp), log=print)
        plan = sign_plan(plan, secret, Path(tmp))          # saves the new local state first
        results = run_plan(plan, hosts, config, log=print)   # send.py: one HostResult per host

The next version is one above both the local state and the highest validly signed
version found on any host, and it is saved locally before anything is uploaded, so
a version number is never signed twice with different content. The hosts' indexes
are read in parallel, each within INDEX_BUDGET seconds (or the host's budget, if
smaller); a host that does not answer in time gets nothing this run (its version is
unknown) and is reported as failed, so a slow optional host never holds the others.
Uploads list every bundle with its detached SHA256SUMS and signature and its .torrent
(docs/swarm.md), then the immutable index/<version>.json pair, then index.json and its
signature last.

The new index also lists what the last one did. A listed bundle that a host is not known to hold (an earlier
run failed there, or it was not asked, or the local state was lost) is sent again from the file it was published
from, if that is still here and unchanged; if not, the host must show that it has it before it gets the index
(`Plan.unsure`), so no host is given an index naming a bundle it lacks. One a host is known to hold is looked
for there, with its side files, in one listing per folder (`_still_held`, held.py): a bundle or side file deleted
there since is then sent again, or the host refused.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

from mirror.bundle.torrent import hash_known, make_torrent
from mirror.bundle.verified import VerifiedCache
from mirror.bundle.verify import verify_bundle
from mirror.errors import (
    ConfigError,
    Failure,
    MirrorError,
    MissingFile,
    TransferError,
    UntrustedSigner,
    VerificationError,
)
from mirror.formats.index import DEFAULT_EXPIRY_DAYS, MAX_INDEX, BundleEntry, Index, NewerFormat
from mirror.formats.layout import INDEX_NAME, SIG_SUFFIX, sums_paths, torrent_path, version_path
from mirror.formats.manifest import SIG_NAME, SUMS_NAME
from mirror.formats.minisign import PublicKeyFile, Signature, key_id_hex
from mirror.formats.names import printable
from mirror.formats.timefmt import format_time
from mirror.formats.torrent import magnet_link
from mirror.publish.config import MirrorConfig
from mirror.publish.held import Sides, known_all, needed, recorded, short, sizes_on, wrong
from mirror.publish.hosts.base import Host
from mirror.publish.parallel import each_host, with_retries
from mirror.publish.state import Published, host_key, load_published, save_published
from mirror.record import field, record, replace
from mirror.safeio import file_sha256
from mirror.trust.index import UnknownPublisher, check_index, read_signed_index, sign_index
from mirror.trust.keyring import Keyring
from mirror.trust.keys import SecretKey

Log = Callable[[str], None]
INDEX_BUDGET = 120.0  # seconds a host may take to show its index (a few small files)
CLOCK_SLACK = timedelta(minutes=10)  # how far behind the last index's time this machine's clock may be


@record
class Upload:
    """One file for every host: where it goes, where it comes from."""

    path: str
    source: Path
    sha256: str
    size: int
    replace: bool  # index files are always sent; content-addressed files only when absent


@record
class Plan:
    """A signed (or, for a dry run, unsigned) index and the files every host must get."""

    index: Index
    uploads: tuple[Upload, ...]
    added: tuple[str, ...]
    unread: Mapping[str, TransferError] = field(default_factory=dict)  # hosts whose index did not come: skipped
    unsure: Mapping[str, tuple[BundleEntry, ...]] = field(default_factory=dict)  # host -> listed, to be checked there
    sources: Mapping[str, str] = field(default_factory=dict)  # listed bundle path -> local file (state.py)
    holding: Mapping[str, frozenset[str]] = field(default_factory=dict)  # host_key -> listed bundles known there
    unchecked: Mapping[str, tuple[BundleEntry, ...]] = field(default_factory=dict)  # host -> held, to be looked for
    # host -> held bundles whose .7z was found at its size though a side file was not: sent again, read back no more
    whole: Mapping[str, frozenset[str]] = field(default_factory=dict)
    sides: Sides = field(default_factory=dict)  # a listed bundle's SHA256SUMS (or signature) -> its size and SHA-256


def host_index(host: Host, publisher: PublicKeyFile) -> tuple[Index, bytes]:
    """The host's current index, validly signed by `publisher`, and its bytes.

    Raises:
        MissingFile: the host has no index.
        TransferError: the host did not answer.
        UnknownPublisher: the index there is signed by another key.
        SignatureError, ManifestError: the index there does not verify.
    """
    def check(raw: bytes, sig: bytes) -> Index:
        signer = Signature.from_bytes(sig).key_id
        if signer != publisher.key_id:
            raise UnknownPublisher(signer)
        return check_index(raw, sig, publisher)

    return read_signed_index(host, check)


def host_version(host: Host, publisher: PublicKeyFile, log: Log) -> Index | None:
    """The host's current index if it is validly signed by `publisher`; None if it has none, or a damaged one
    (which the new index replaces).

    Raises:
        TransferError: the host did not answer (after retries of transient failures).
        TransferError: also when the index there names another key as its signer: replacing it would drop every
            bundle it lists (that host gets nothing this run).
        ConfigError: the index there is this publisher's in a newer format: replacing it would roll its readers
            back (nothing is signed or sent then).
    """
    try:
        return with_retries(lambda: host_index(host, publisher)[0], host.name, "index.json", log)
    except MissingFile:
        return None
    except TransferError:
        raise
    except UnknownPublisher as exc:  # that host alone: anyone who can write there (or a man in the middle of
        # plain HTTP) can name any key, unverifiable without it, and must not stop every other host's refresh
        raise TransferError(host.name, f"its index names key {key_id_hex(exc.key_id)} as its signer, not the "
                                       f"publisher key {key_id_hex(publisher.key_id)}", Failure.BAD_ANSWER,
                            transient=False,
                            hint="if that host is another publisher's, leave it out of mirror.toml; if the key "
                                 "changed on purpose, remove index.json and index.json.minisig there first "
                                 "(readers who trust only the old key will refuse the new index)") from None
    except NewerFormat as exc:
        raise ConfigError(f"[{host.name}] it holds this publisher's index in {exc}; nothing was signed or sent",
                          hint="upgrade mirror, then publish again") from None
    except MirrorError as exc:
        log(f"[{host.name}] its index was not usable: {exc}")
        return None


def _bundle_files(path: Path, keyring: Keyring, staging: Path, mirrors: tuple[str, ...],
                  trackers: tuple[str, ...], cache: VerifiedCache) -> tuple[BundleEntry, list[Upload]]:
    # The file's SHA-256 and torrent piece hashes are read on the other core while the bundle verifies; they
    # are used only once it has.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mirror-hash") as side:
        hashed = side.submit(hash_known, path, cache)
        try:
            verified = verify_bundle(path, keyring, cache=cache)
        except VerificationError as exc:  # which of the bundles given (their class, hint and problems kept)
            exc.args = (f"{printable(str(path))}: {exc}", *exc.args[1:])
            raise
        if not verified.trusted:
            raise UntrustedSigner(verified.key_id, verified.fingerprint,
                                  f"{printable(str(path))}: signed by key {verified.key_id}, which is not in your "
                                  f"keyring as an author; fingerprint {verified.fingerprint}",
                                  hint="compare the fingerprint with the author, then `mirror keys import` their key; "
                                       "nobody publishes a bundle they cannot vouch for")
        hashes = hashed.result()
    made = make_torrent(path, verified, mirrors, trackers, hashes=hashes)
    digest, size, torrent = made.sha256, made.size, made.torrent
    entry = BundleEntry.for_bundle(verified.meta.bundle_id, verified.meta.version, digest, size,
                                   verified.meta.title, verified.key_id, torrent.info.infohash,
                                   magnet_link(torrent.info, torrent.web_seeds, torrent.trackers))
    uploads = [Upload(entry.path, path, digest, size, False)]
    for name, remote in zip((SUMS_NAME, SIG_NAME), sums_paths(digest), strict=True):
        local = staging / f"{digest}.{name}"
        with verified.control.open(name) as source, local.open("wb") as out:  # a million lines: about 100 MB
            shutil.copyfileobj(source, out, 1 << 20)
        uploads.append(Upload(remote, local, file_sha256(local), local.stat().st_size, False))
    local = staging / f"{digest}.torrent"
    local.write_bytes(torrent.to_bytes())  # replaced each time: the mirror list in it may have changed
    uploads.append(Upload(torrent_path(digest), local, file_sha256(local), local.stat().st_size, True))
    return entry, uploads


def _merge(previous: Sequence[BundleEntry], added: Sequence[BundleEntry]) -> tuple[BundleEntry, ...]:
    """Keep the highest version of each bundle id."""
    best: dict[str, BundleEntry] = {}
    for entry in (*previous, *added):
        if entry.id not in best or entry.version >= best[entry.id].version:
            best[entry.id] = entry
    return tuple(best.values())


def _say_unvouched(listed: Sequence[BundleEntry], keyring: Keyring, log: Log) -> None:
    """Say which listed bundles this index signs again though their author is no longer in the keyring as one (a
    key removed, or a bundle another machine listed): the publisher vouches for them anew (helper-162)."""
    authors = set()
    for name in keyring.names():  # a damaged key file is passed over here: this only warns (it stopped refresh)
        try:
            known = keyring.get(name)
        except ConfigError:
            continue
        if "author" in known.roles and (keyring.allowed is None or keyring.allowed(known)):
            authors.add(known.key_id_hex)
    for entry in listed:
        if entry.author_key not in authors:
            log(f"warning: {entry.title!r} ({entry.id}) stays listed, signed by key {entry.author_key}, which is not "
                f"in your keyring as an author: leave it out with mirror refresh --withdraw {entry.id}")


def _withdrawn(listed: tuple[BundleEntry, ...], added: Sequence[BundleEntry], withdraw: frozenset[str],
               log: Log) -> tuple[BundleEntry, ...]:
    """The bundles listed, without those `withdraw` names by id (`refresh --withdraw`: a bundle that must no longer
    be offered, say one that exposes a source; helper-162 found none could be taken out of the index).

    A bundle given in the same run with that id takes its place (`publish --withdraw ID BUNDLE`: the real
    author's, where another author's held the id).

    Raises:
        ConfigError: an id that is not listed.
    """
    if not withdraw:
        return listed
    withdraw = frozenset(bundle_id.strip().lower() for bundle_id in withdraw)
    unknown = sorted(withdraw - {entry.id for entry in listed})
    if unknown:
        raise ConfigError(f"bundle id {unknown[0]} is not in the index; nothing was signed or sent",
                          hint="the ids are in index.json on a host (\"id\"), or: mirror show BUNDLE")
    for entry in listed:
        if entry.id in withdraw:
            log(f"left out of the index: {entry.title!r} version {entry.version} ({entry.id}); its files stay on "
                "the hosts and with whoever fetched it")
            for given in added:
                if given.id == entry.id and given.author_key != entry.author_key:  # the publisher's choice: said
                    log(f"bundle id {entry.id} is now listed with author key {given.author_key}, not "
                        f"{entry.author_key}")
    return tuple(entry for entry in listed if entry.id not in withdraw)


def _same_author(listed: Sequence[BundleEntry], added: Sequence[BundleEntry]) -> None:
    """Refuse a bundle whose id is listed, or given, with another author's key: its higher version replaced the
    other author's bundle in the index, for every reader who trusts both, and a version of 2^31 kept the first
    author out for good (helper-162). A bundle id is its author's (`create --update` refuses another signer too).

    Raises:
        ConfigError: two authors for one id.
    """
    authors: dict[str, str] = {}
    for entry in (*listed, *added):
        first = authors.setdefault(entry.id, entry.author_key)
        if first != entry.author_key:
            raise ConfigError(f"bundle id {entry.id} is listed by author key {first}, and {entry.title!r} version "
                              f"{entry.version} is signed by {entry.author_key}; nothing was signed or sent",
                              hint="a bundle id is its author's: make that bundle with its own id (mirror create "
                                   f"without --id); if the listed one is the impostor, leave it out: --withdraw "
                                   f"{entry.id}")


def plan_publish(config: MirrorConfig, hosts: Sequence[Host], publisher: PublicKeyFile, bundles: Sequence[Path],
                 keyring: Keyring, now: datetime, staging: Path, log: Log,
                 cache: VerifiedCache | None = None, clock_is_right: bool = False,
                 withdraw: frozenset[str] = frozenset()) -> Plan:
    """Verify the bundles, find the next version, and lay out the new index (not yet signed).

    Bundles are verified two at a time; a bundle unchanged since this machine last verified it (`cache`,
    by default the user's: bundle/verified.py) has its signature and member set checked, not its data again.

    Raises:
        VerificationError: a bundle fails verification.
        ConfigError: a bundle's signer is not trusted, or the local state is damaged.
    """
    mirrors = tuple(h.reader_url for h in config.hosts if h.reader_url)
    trackers = config.publisher.trackers if config.publisher else ()
    cache = cache if cache is not None else VerifiedCache()
    entries, uploads = [], []
    try:
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="mirror-plan") as pool:
            for entry, files in pool.map(lambda p: _bundle_files(p, keyring, staging, mirrors, trackers, cache),
                                         list(dict.fromkeys(bundles))):
                entries.append(entry)
                uploads += files
    finally:
        cache.save()  # what verified before a failure need not be verified again
    plan = _next_index(config, hosts, publisher, entries, uploads, mirrors, now, log, clock_is_right, withdraw)
    _say_unvouched(plan.index.bundles, keyring, log)
    plan = _still_held(plan, config, hosts, log)
    return _send_again(plan, config, hosts, lambda p: _bundle_files(p, keyring, staging, mirrors, trackers, cache),
                       cache, log)


def _next_index(config: MirrorConfig, hosts: Sequence[Host], publisher: PublicKeyFile, entries: list[BundleEntry],
                uploads: list[Upload], mirrors: tuple[str, ...], now: datetime, log: Log,
                clock_is_right: bool = False, withdraw: frozenset[str] = frozenset()) -> Plan:
    """The next index: the last one's bundles (local or any host's, whichever is newer) with those given."""
    key_id = key_id_hex(publisher.key_id)
    local = load_published(key_id)
    previous = local.index if local is not None else None
    seconds = {h.name: min(INDEX_BUDGET, config.host(h.name).budget) for h in hosts}
    unread: dict[str, TransferError] = {}
    newest: list[Index] = [previous] if previous is not None else []
    bare: set[str] = set()  # hosts with no index of this publisher's
    for host, found in zip(hosts, each_host(hosts, seconds, lambda h: host_version(h, publisher, log), log,
                                                       reads=True),
                           strict=True):
        if isinstance(found, TransferError):
            unread[host.name] = found
            if found.failure is Failure.BAD_ANSWER:  # it came, and cannot be replaced (another key's)
                log(f"[{host.name}] {found.reason}; nothing is sent to it this time" + (
                    f" ({found.hint})" if found.hint else ""))
            else:
                log(f"[{host.name}] its index did not come ({found.reason}); nothing is sent to it this time")
            continue
        if found is None:  # a new host, or one wiped (a new stick, a server rebuilt at the same URL): it holds
            bare.add(host_key(config.host(host.name)))  # nothing, whatever this machine last sent there
        elif previous is None or found.version > previous.version:
            previous, newest = found, [found]  # a lost local state must not drop bundles or roll the version back
        elif found.version == previous.version and all(found.bundles != index.bundles for index in newest):
            newest.append(found)  # the same version with other bundles: signed on another machine as well
    signed = max((index.created_at for index in newest), default=None)
    days = config.publisher.expires_days if config.publisher else DEFAULT_EXPIRY_DAYS
    # --clock-is-right is taken at its word, however far apart the two times are: a last index signed by a clock
    # years ahead would otherwise keep a right clock from publishing until then. The message shows both dates.
    if signed is not None and now < signed - CLOCK_SLACK and not clock_is_right:  # an index expired at birth
        raise ConfigError(f"this machine's clock says {format_time(now)}, before the last index was signed "
                          f"({format_time(signed)}); nothing was signed or sent",
                          hint="if this clock is behind, set it (a machine without a clock battery starts in the "
                               "past until it syncs); if it is right, that index was signed by a clock ahead: "
                               "run this again with --clock-is-right")
    version = max(local.version if local else 0, previous.version if previous else 0) + 1
    if local is None and previous is None and not unread:
        # a new machine, or a lost state, and hosts that hold no index of this key: readers who saw a later version
        # from hosts not in this mirror.toml take this one as stale (helper-162: a USB stick's v1)
        log("note: neither this machine nor any host here holds an earlier index of this publisher key, so this one "
            "is version 1. If this key published before, from another machine or to hosts not in this mirror.toml, "
            "readers who saw its later versions take this one as stale: add a host that holds the latest index to "
            "mirror.toml, and publish again to go on from its version")
    listed = _merge((), [entry for index in newest for entry in index.bundles])
    if len(newest) > 1:
        log(f"index version {previous.version if previous else 0} was signed {len(newest)} times with other "
            "bundles (two publishes at once, or on two machines); the next one lists the bundles of all of them")
        for entry in listed:  # one may be a bundle the other machine withdrew: each such one is named (helper-164);
            # what one of them added looks the same from here (helper-165, -166), so the line says both
            if entry.id not in {i.strip().lower() for i in withdraw} and \
                    any(all(other.id != entry.id for other in index.bundles) for index in newest):
                log(f"warning: {entry.title!r} ({entry.id}) is in one of them and not in another (added on one "
                    f"machine, or withdrawn on the other): it stays listed; if it was withdrawn, leave it out again "
                    f"with --withdraw {entry.id}")
    listed = _withdrawn(listed, entries, withdraw, log)
    _same_author(listed, entries)
    merged = _merge(listed, entries)
    index = Index(key_id, version, format_time(now), format_time(now + timedelta(days=days)), merged, mirrors)
    size = len(index.to_bytes())
    if size > MAX_INDEX:
        raise ConfigError(f"the index would be {size:,} bytes with {len(merged):,} bundles, more than readers take "
                          f"({MAX_INDEX:,}); nothing was signed or sent",
                          hint="publish further bundles under another publisher key")
    listed_paths = {e.path for e in merged}
    sources = {p: s for p, s in (local.sources if local else {}).items() if p in listed_paths}
    sources.update((u.path, str(u.source.resolve())) for u in uploads if u.path in listed_paths)
    holding = {k: frozenset() if k in bare else v for k, v in _still_listed(local, listed_paths).items()}
    sides = _sides_of(local.sides if local else {}, uploads, merged)
    return Plan(index, tuple(uploads), _added(listed, merged, entries, log), unread, {}, sources, holding, sides=sides)


def _sides_of(before: Sides, uploads: Sequence[Upload], listed: Sequence[BundleEntry]) -> dict[str, tuple[int, str]]:
    """The recorded side files (held.py's Sides) of the listed bundles: those this run sends, else those recorded
    when they were sent before; one of a bundle no longer listed is forgotten."""
    keep = {path for entry in listed for path in sums_paths(entry.sha256)}
    return {p: v for p, v in {**before, **recorded((u.path, u.size, u.sha256) for u in uploads)}.items() if p in keep}


def _still_listed(local: Published | None, listed: set[str]) -> dict[str, frozenset[str]]:
    return {k: v & listed for k, v in (local.holding if local else {}).items()}


def _still_held(plan: Plan, config: MirrorConfig, hosts: Sequence[Host], log: Log) -> Plan:
    """Look on every host asked for each listed bundle it is known to hold and that this run does not send (those
    are looked for as they are sent), and for its side files (held.py: the bundle at its size, its SHA256SUMS,
    signature and .torrent there), in one listing of the folder where the host can list it: one deleted there since
    (by the host's admin, or a cleanup) or cut short is held no longer, so `_send_again` sends it again or the host
    must show it has it. Known as held, it was never looked for, and the host was given an index naming a bundle it
    did not have (helper-167); only the .7z was looked for, by one request each, and a host whose admin deleted a
    signature file got the index all the same (helper-174). A bundle whose .7z is there at its size, and only a side
    file not, is sent again without reading its .7z back (`Plan.whole`).

    Each host looks within INDEX_BUDGET seconds (or its budget, if smaller), so that a slow or hung host does not
    hold the others here; what it had no time for (or could not answer) is looked for in its own run, before its
    index is sent (`Plan.unchecked`; send.py)."""
    given = {u.path for u in plan.uploads}
    asked = [h for h in hosts if h.name not in plan.unread]
    known = {h.name: plan.holding.get(host_key(config.host(h.name)), frozenset()) for h in asked}
    due = {h.name: [e for e in plan.index.bundles if e.path in known[h.name] and e.path not in given] for h in asked}
    found: dict[str, dict[str, int | None]] = {h.name: {} for h in asked}  # written by each host's thread
    lock = threading.Lock()

    def look(host: Host) -> None:
        def seen(path: str, size: int | None) -> None:
            with lock:
                found[host.name][path] = size

        sizes_on(host, [path for entry in due[host.name] for path, _ in needed(entry, plan.sides)], log, seen)

    outcomes = each_host(asked, {h.name: min(INDEX_BUDGET, config.host(h.name).budget) for h in asked}, look, log,
                         reads=True)
    holding, unchecked, wholes = dict(plan.holding), {}, {}
    for host, outcome in zip(asked, outcomes, strict=True):
        with lock:  # a thread left behind (a hung share) may still be writing
            sizes = dict(found[host.name])
        gone, whole = set(), set()
        for entry in due[host.name]:
            missing = short(entry, sizes, plan.sides)
            if missing and all(path != entry.path for path, _ in missing):
                whole.add(entry.path)
            for path, size in missing:
                gone.add(entry.path)
                what = wrong(entry, path, size, plan.sides)
                log(f"[{host.name}] {printable(entry.title)} ({entry.path})" + (
                    (" is no longer there" if size is None else f" has {size:,} bytes, not {entry.size:,}")
                    if path == entry.path else f" lacks {path}" if size is None else
                    f" has {path} empty" if what == "is empty" else f", whose {path} {what}") +
                    ", though the index lists it")
        if gone:
            key = host_key(config.host(host.name))
            holding[key] = holding[key] - gone
        if whole:
            wholes[host.name] = frozenset(whole)
        rest = tuple(e for e in due[host.name] if e.path not in gone and not known_all(e, sizes))
        if rest:
            reason = outcome.reason if isinstance(outcome, TransferError) else "?"
            log(f"[{host.name}] {len(rest)} of the bundles it holds were not looked for while planning ({reason}); "
                "they are looked for before its index is sent")
            unchecked[host.name] = rest
    return replace(plan, holding=holding, unchecked=unchecked, whole=wholes)


def _send_again(plan: Plan, config: MirrorConfig, hosts: Sequence[Host],
                files_of: Callable[[Path], tuple[BundleEntry, list[Upload]]], cache: VerifiedCache,
                log: Log) -> Plan:
    """Add the listed bundles that a host asked is not known to hold: sent again from the publisher's copy if it
    is here and unchanged (verified again, quickly when the cache knows it), otherwise to be checked on the host."""
    given = {u.path for u in plan.uploads}
    asked = [h for h in hosts if h.name not in plan.unread]
    known = {h.name: plan.holding.get(host_key(config.host(h.name)), frozenset()) for h in asked}
    lacking = [e for e in plan.index.bundles if e.path not in given and any(e.path not in known[h.name] for h in asked)]
    uploads, unsure = list(plan.uploads), []
    try:
        for entry in lacking:
            source = plan.sources.get(entry.path)
            try:
                if source is None or not Path(source).is_file():
                    raise FileNotFoundError(source)
                again, files = files_of(Path(source))
                if again.sha256 != entry.sha256:
                    raise MirrorError(f"{source} has changed since it was published")
            except (MirrorError, OSError) as exc:
                if source is not None:
                    log(f"{printable(entry.title)}: cannot send it again from {printable(source)}: "
                        f"{exc if isinstance(exc, MirrorError) else 'the file is gone'}")
                unsure.append(entry)
                continue
            log(f"{printable(entry.title)}: not known to be on every host; sent again where it is missing")
            uploads += files
    finally:
        cache.save()
    checks = {h.name: tuple(e for e in unsure if e.path not in known[h.name]) for h in asked}
    return replace(plan, uploads=tuple(uploads), unsure={n: c for n, c in checks.items() if c},
                   sides=_sides_of(plan.sides, uploads, plan.index.bundles))


def _added(listed: Sequence[BundleEntry], merged: Sequence[BundleEntry], given: Sequence[BundleEntry],
           log: Log) -> tuple[str, ...]:
    """The bundles given that the new index lists and the last one did not: one published again is not added,
    and an older version of a bundle the index has in a newer one is left out, and said so."""
    before, after = {e.path for e in listed}, {e.path for e in merged}
    newest = {e.id: e.version for e in merged}
    for entry in given:
        if entry.path not in after:
            log(f"{printable(entry.title)}: version {entry.version} is not listed: the index has version "
                f"{newest[entry.id]}")
    return tuple(dict.fromkeys(e.path for e in given if e.path in after and e.path not in before))


def sign_plan(plan: Plan, secret: SecretKey, staging: Path) -> Plan:
    """Sign the index, save it as the local state, and add the index files to the uploads."""
    raw, sig = plan.index.to_bytes(), sign_index(plan.index, secret)
    save_published(plan.index, raw, sig, plan.sources, plan.holding, plan.sides)
    files = []
    pinned = version_path(plan.index.version)
    for remote, data in ((pinned, raw), (pinned + SIG_SUFFIX, sig), (INDEX_NAME, raw), (INDEX_NAME + SIG_SUFFIX, sig)):
        local = staging / remote.replace("/", "_")
        local.write_bytes(data)
        files.append(Upload(remote, local, hashlib.sha256(data).hexdigest(), len(data), True))
    return replace(plan, uploads=plan.uploads + tuple(files))


def staging_dir() -> tempfile.TemporaryDirectory[str]:
    """A private folder for the detached signature files and index of one run."""
    return tempfile.TemporaryDirectory(prefix="mirror-publish-")
