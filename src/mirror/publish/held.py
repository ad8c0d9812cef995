"""What a host must hold of each listed bundle for its readers, and looking for it there cheaply.

Example::

    sizes = sizes_on(host, [p for e in entries for p, _ in needed(e)], log)   # one listing of bundles/
    for entry in entries:
        for path, found in short(entry, sizes):
            print(path, "is", "missing" if found is None else f"{found} bytes")

A reader needs the bundle (`bundles/<sha256>.7z`), its detached `SHA256SUMS` and signature (to check the author
before downloading) and its `.torrent` where the index names one (docs/swarm.md); the index files are sent in
every run. The bundle's size is in the signed index and must match. The detached `SHA256SUMS` and its signature are
the exact bytes signed inside the bundle: their size and SHA-256, recorded when this machine sent them (`Sides`,
kept in the publisher's state), must match too; one this machine has no record of, and the `.torrent` (made again
with each run's mirror list, so of no one fixed size), must be there and not empty (docs/mirrors.md says what each
driver trusts). A host is asked for one listing
per folder where its driver can list (`Host.sizes`), else for each file's size (a bundle's side files only when
its .7z is there; a host that refused a listing is not asked for one again), each request retried when transient.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping

from mirror.formats.index import BundleEntry
from mirror.formats.layout import SIG_SUFFIX, sums_paths, torrent_path
from mirror.publish.hosts.base import Host
from mirror.publish.parallel import with_retries

Log = Callable[[str], None]
_BUNDLE_SUFFIX = ".7z"
# The host objects that refused a listing: not asked for one again (a host object lives for one run). Weak, so a
# closed host is forgotten with it.
_UNLISTED: weakref.WeakSet[Host] = weakref.WeakSet()
_LOCK = threading.Lock()
# A side file's path -> (size, sha256) of the bytes this machine sent there (plan.py's `Plan.sides`): the detached
# SHA256SUMS and signature, copied out of the bundle, the same on every host.
Sides = Mapping[str, tuple[int, str]]


def needed(entry: BundleEntry, sides: Sides | None = None) -> tuple[tuple[str, int | None], ...]:
    """Every file of `entry` a reader needs on a host, with its size where the signed index gives it (the .7z) or
    `sides` records it (its SHA256SUMS and signature). A .torrent only where the index names its info hash: an entry
    published before torrents promises none, and readers do without one (fetch --torrent asks the mirrors for it
    only by that hash)."""
    known = sides or {}
    files = (*sums_paths(entry.sha256), *((torrent_path(entry.sha256),) if entry.infohash is not None else ()))
    return (entry.path, entry.size), *((path, known[path][0] if path in known else None) for path in files)


def recorded(paths: Iterable[tuple[str, int, str]]) -> dict[str, tuple[int, str]]:
    """The `Sides` of files about to be sent, given as (path, size, sha256): their SHA256SUMS and signature files
    (a .torrent's bytes change with the mirror list, so it has no one size to record)."""
    return {path: (size, sha256) for path, size, sha256 in paths if path.startswith("bundles/") and
            path.endswith((".SHA256SUMS", ".SHA256SUMS" + SIG_SUFFIX))}


def sizes_on(host: Host, paths: Iterable[str], log: Log,
             seen: Callable[[str, int | None], None] | None = None, bundle_first: bool = True) -> dict[str, int | None]:
    """The size of each of `paths` on `host` (None: not there), from one listing per folder where the host lists
    it, else one size request per file; `seen` hears of each as it is known (a host's time may run out midway).

    A host that refused a listing (`Host.sizes` gave None) is not asked for one again by this host object (this
    run): each file's size is asked instead. Asked file by file, a bundle's .7z is asked first, and with
    `bundle_first` its side files are not asked at all when it is not there (they are then left out of the answer:
    a bundle missing is sent again, or refused, whole).

    Raises:
        TransferError: the host failed (after retries of transient failures), or its listing was too long.
    """
    folders: dict[str, list[str]] = {}
    for path in dict.fromkeys(paths):
        folders.setdefault(path.rpartition("/")[0], []).append(path)
    found: dict[str, int | None] = {}

    def note(path: str, size: int | None) -> None:
        found[path] = size
        if seen is not None:
            seen(path, size)

    for folder, inside in folders.items():
        names = {path.rpartition("/")[2] for path in inside}  # only these are kept of a long listing
        listed = None
        if len(inside) > 1 and not _refused(host):  # one file: its own request is as cheap as a listing
            listed = with_retries(functools.partial(host.sizes, folder, names), host.name, f"{folder}/", log)
            if listed is None:
                with _LOCK:
                    _UNLISTED.add(host)
        if listed is not None:
            for path in inside:
                note(path, listed.get(path.rpartition("/")[2]))
            continue
        asked, absent = set(inside), set()
        for path in sorted(inside, key=lambda p: not p.endswith(_BUNDLE_SUFFIX)):  # each .7z first
            bundle = bundle_of(path)
            if bundle_first and bundle != path and bundle in asked and bundle in absent:
                continue
            size = with_retries(functools.partial(host.stat, path), host.name, path, log)
            if size is None:
                absent.add(path)
            note(path, size)
    return found


def bundle_of(path: str) -> str:
    """The bundle a content-addressed file belongs to: bundles/<sha256>.SHA256SUMS is bundles/<sha256>.7z's."""
    return path.split(".", 1)[0] + _BUNDLE_SUFFIX


def _refused(host: Host) -> bool:
    with _LOCK:
        return host in _UNLISTED


def short(entry: BundleEntry, sizes: Mapping[str, int | None],
          sides: Sides | None = None) -> list[tuple[str, int | None]]:
    """The files of `entry` that `sizes` (of `sizes_on`) finds missing, empty, or of another size than listed (or
    than `sides` records), each with the size found; files `sizes` does not know of are not judged."""
    return [(path, sizes[path]) for path, size in needed(entry, sides) if path in sizes and
            ((sizes[path] is None or sizes[path] == 0) if size is None else sizes[path] != size)]


def wrong(entry: BundleEntry, path: str, found: int | None, sides: Sides | None = None) -> str:
    """What is wrong with one file `short` gave, to follow its path: "is missing", "is empty", or "has N bytes, not
    M" (the size the index gives, or `sides` records)."""
    expected = dict(needed(entry, sides)).get(path)
    if found is None:
        return "is missing"
    return "is empty" if found == 0 or expected is None else f"has {found:,} bytes, not {expected:,}"


def known_all(entry: BundleEntry, sizes: Mapping[str, int | None]) -> bool:
    """Whether `sizes` knows of every file of `entry`."""
    return all(path in sizes for path, _ in needed(entry))
