"""Readers become mirrors: `fetch --keep-mirror DIR` keeps what arrived in the mirror layout, index as fetched.

Example::

    result = fetch(request, keys, log)
    kept = keep_mirror(Path("usb/mirror"), result, keys)
    kept.index_version, kept.bundles          # 5, ("ab12...",)
    # DIR can now be served (`mirror serve DIR`) or copied to a USB stick: it is a full mirror

What DIR gets (formats/layout.py): each bundle that arrived verified under its content
address, with its detached SHA256SUMS and signature (the exact bytes signed inside the
bundle); then the publisher's index pair exactly as fetched, first as the immutable
index/<version>.json pair, then as index.json and its signature. Every file is written
atomically (safeio.py); a bundle is hard-linked from DEST where the file system allows.
An index already in DIR is replaced only by a newer or equal version of the same
publisher, unless it does not verify; a listing-only fetch keeps the bundles alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from mirror.bundle.torrent import make_torrent
from mirror.bundle.verify import VerifiedBundle
from mirror.errors import ConfigError, ContentError, ManifestError, SignatureError
from mirror.fetch.fetcher import FetchResult, arrival_names
from mirror.formats.index import MAX_INDEX, BundleEntry
from mirror.formats.layout import (
    INDEX_NAME,
    MAX_SIG_FILE,
    SIG_SUFFIX,
    bundle_path,
    sums_paths,
    torrent_path,
    version_path,
)
from mirror.formats.manifest import SIG_NAME
from mirror.formats.minisign import Signature
from mirror.formats.torrent import magnet_trackers
from mirror.leftovers import held
from mirror.record import record
from mirror.safeio import atomic_output, atomic_write, file_sha256, open_regular, read_at_most
from mirror.sevenzip import Limits, iter_members, read_archive
from mirror.trust.index import check_index
from mirror.trust.keyset import TrustedKeys
from mirror.trust.rollback import Choice


@record
class Kept:
    """What the mirror copy holds after this run."""

    folder: Path
    index_version: int | None  # the signed index now in the folder, or None (a listing-only fetch)
    bundles: tuple[str, ...]  # sha256 of each bundle kept in this run


def _place_bundle(source: Path, target: Path, sha256: str, fetched: bool) -> None:
    """The bundle at its content address: left alone if already right; else hard-linked, if fetch placed it itself
    (`fetched`) on the same file system, or copied (a file the reader copied in under a name of their own is never
    linked: it is theirs to change). What lands is hashed before it takes the name, never a link.

    Raises:
        ContentError: the bundle no longer has the signed bytes (changed after it was verified).
    """
    if target.is_file() and not target.is_symlink() and target.stat().st_size == source.stat().st_size \
            and file_sha256(target) == sha256:
        return
    with contextlib.ExitStack() as holding, atomic_output(target, force=True) as tmp:
        tmp.unlink()  # the file atomic_output holds goes: the one put in its place is held until it is renamed
        digest = _linked(source, tmp, holding) if fetched else None
        if digest is None:
            digest = _copied(source, tmp, holding)
        if digest != sha256:
            raise ContentError(f"{source} changed after it was verified", hint="fetch it again")


@contextlib.contextmanager
def _opened(path: Path) -> Iterator[io.BufferedReader]:
    """`path` opened for reading without following a link or blocking on a FIFO, if it is a regular file."""
    with open(os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC), "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise ContentError(f"{path} is no longer a regular file", hint="fetch it again")
        yield handle


def _linked(source: Path, tmp: Path, holding: contextlib.ExitStack) -> str | None:
    """The SHA-256 of `source` hard-linked at `tmp` (held in `holding`), or None where it cannot be linked (another
    file system, FAT)."""
    try:
        os.link(source, tmp, follow_symlinks=False)
    except OSError:
        return None
    holding.enter_context(held(tmp))
    try:
        with _opened(tmp) as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except (OSError, ContentError):  # a link to a link: copied instead
        tmp.unlink()
        return None


def _copied(source: Path, tmp: Path, holding: contextlib.ExitStack) -> str:
    """The SHA-256 of what was copied from `source` to `tmp` (held in `holding`), hashed as it was copied."""
    digest = hashlib.sha256()
    with _opened(source) as src, tmp.open("wb") as out:
        holding.enter_context(held(tmp))
        while chunk := src.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def _keep_sums(bundle: Path, member: str, target: Path, sha256: str) -> None:
    """The bundle's SHA256SUMS (member `member`) beside it, read back from the bundle kept a moment ago and
    compared with the SHA-256 its verification found (a million lines are about 100 MB: never held whole).

    Raises:
        ContentError: the bundle no longer holds the list that was verified.
    """
    changed = ContentError(f"{bundle} changed after it was verified", hint="fetch it again")
    with bundle.open("rb") as fp:
        archive = read_archive(fp, Limits())
        for found, chunks in iter_members(fp, archive, crc=False, want=lambda m: m.name == member):
            if found.name != member:  # another member of the list's block (a repack may put it anywhere)
                for _ in chunks:
                    pass
                continue
            digest = hashlib.sha256()
            with atomic_output(target, force=True) as tmp, tmp.open("wb") as out:
                for chunk in chunks:
                    digest.update(chunk)
                    out.write(chunk)
                if digest.hexdigest() != sha256:
                    raise changed
            return
    raise changed


def _version_in_folder(folder: Path, chosen: Choice, keys: TrustedKeys) -> int:
    """The version of the validly signed index of the same publisher the folder holds already (0: none).

    Raises:
        ConfigError: the folder holds a valid index of another publisher (one folder, one mirror).
    """
    try:
        # open_regular: a FIFO or device planted in the folder is refused (ConfigError), never waited on
        with open_regular(folder / INDEX_NAME) as index, open_regular(folder / (INDEX_NAME + SIG_SUFFIX)) as signature:
            raw, sig = read_at_most(index, MAX_INDEX + 1), read_at_most(signature, MAX_SIG_FILE + 1)
        record = keys.find(Signature.from_bytes(sig).key_id, "publisher")
        if record is None:
            return 0
        there = check_index(raw, sig, record.public)
    except (OSError, SignatureError, ManifestError):
        return 0  # nothing there, or nothing valid: ours replaces it
    if there.publisher_key != chosen.index.publisher_key:
        raise ConfigError(f"{folder} is a mirror of publisher {there.publisher_key}, not of "
                          f"{chosen.index.publisher_key}", hint="keep each publisher's mirror in its own folder")
    return there.version


def _keep_torrent(folder: Path, entry: BundleEntry, verified: VerifiedBundle, mirrors: tuple[str, ...],
                  signed: bool) -> None:
    """The bundle's .torrent, made again the way publish made it; kept only for an entry of a signed index (its
    trackers are the publisher's), and only if it has the signed info hash.

    A peer's unsigned listing may name an info hash and a magnet link too: anyone with the bundle can work out
    its info hash, and the trackers of the link are whoever wrote it. Kept from there, a room's listing put its
    own tracker into the copy's .torrent, which a room serving the copy sent on as the mirror's once the copy
    held the publisher's index (a BitTorrent client opening it tells that tracker who fetches the bundle)."""
    if not signed or entry.infohash is None or entry.magnet is None:
        return  # an entry of an unsigned listing, or one published before torrents
    made = make_torrent(folder / bundle_path(entry.sha256), verified, mirrors, magnet_trackers(entry.magnet))
    if made.torrent.info.infohash == entry.infohash:
        atomic_write(folder / torrent_path(entry.sha256), made.torrent.to_bytes())


def check_keep_folder(folder: Path) -> None:
    """Refuse a folder whose bundles/ or index/ would lead the files elsewhere; fetch asks before it downloads.

    Raises:
        ConfigError: the folder is not a folder, or its bundles/ or index/ is a link or a file.
    """
    if (folder.is_symlink() or folder.exists()) and not folder.is_dir():  # a file, or a link to none or to a file
        raise ConfigError(f"{folder} is not a folder", hint="keep the mirror in a new folder")
    for part in ("bundles", "index"):  # a copied folder may hold links that lead the files elsewhere
        if (folder / part).is_symlink() or ((folder / part).exists() and not (folder / part).is_dir()):
            raise ConfigError(f"{folder / part} is a link or not a folder; a mirror copy writes only inside "
                              f"{folder}", hint="keep the mirror in a new folder")


def keep_mirror(folder: Path, result: FetchResult, keys: TrustedKeys, kept: list[str] | None = None) -> Kept:
    """Write every bundle that arrived, with its detached signature files, then the signed index as fetched.

    `kept` gets the sha256 of each bundle as it is kept, so a caller can tell a copy cut short from none at all.

    Raises:
        ConfigError: the folder holds another publisher's mirror, or its bundles/ or index/ is a link or a file.
        OSError: the folder cannot be written.
    """
    chosen = result.chosen
    folder.mkdir(parents=True, exist_ok=True)
    check_keep_folder(folder)
    there = _version_in_folder(folder, chosen, keys) if chosen.signed else 0
    kept = [] if kept is None else kept
    for arrival in result.arrivals:
        if arrival.path is None or arrival.verified is None:
            continue
        sha256 = arrival.entry.sha256
        fetched = arrival.path.name in (*arrival_names(arrival.entry), *arrival_names(arrival.entry, trusted=False))
        _place_bundle(arrival.path, folder / bundle_path(sha256), sha256, fetched)
        sums, signature = sums_paths(sha256)
        _keep_sums(folder / bundle_path(sha256), arrival.verified.layout.sums, folder / sums, arrival.sums_sha256)
        atomic_write(folder / signature, arrival.verified.control[SIG_NAME])
        _keep_torrent(folder, arrival.entry, arrival.verified, chosen.index.mirrors, chosen.signed)
        kept.append(sha256)
    if not (chosen.signed and chosen.raw):
        return Kept(folder, None, tuple(kept))
    pinned = version_path(chosen.index.version)
    pairs = [(pinned, chosen.raw), (pinned + SIG_SUFFIX, chosen.signature)]
    if there <= chosen.index.version:  # between these two renames, readers fall back to the pinned pair
        pairs += [(INDEX_NAME, chosen.raw), (INDEX_NAME + SIG_SUFFIX, chosen.signature)]
    for path, data in pairs:
        atomic_write(folder / path, data)
    return Kept(folder, max(there, chosen.index.version), tuple(kept))
