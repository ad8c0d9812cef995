"""What a host must hold of each listed bundle for its readers, and looking for it there cheaply.

Example::

    sizes = sizes_on(host, [p for e in entries for p, _ in needed(e)], log)   # one listing of bundles/
    for entry in entries:
        for path, found in short(entry, sizes):
            print(path, "is", "missing" if found is None else f"{found} bytes")

A reader needs the bundle (`bundles/<sha256>.7z`), its detached `SHA256SUMS` and signature (to check the author
before downloading) and its `.torrent` where the index names one (docs/swarm.md); the index files are sent in
every run. The bundle's size is in the signed index and must match; the side files' sizes are not known here, so
they must be there and not empty (docs/mirrors.md says what each driver trusts). A host is asked for one listing
per folder where its driver can list (`Host.sizes`), else for each file's size, each request retried when
transient.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping

from mirror.formats.index import BundleEntry
from mirror.formats.layout import sums_paths, torrent_path
from mirror.publish.hosts.base import Host
from mirror.publish.parallel import with_retries

Log = Callable[[str], None]


def needed(entry: BundleEntry) -> tuple[tuple[str, int | None], ...]:
    """Every file of `entry` a reader needs on a host, with its size where the signed index gives it. A .torrent
    only where the index names its info hash: an entry published before torrents promises none, and readers do
    without one (fetch --torrent asks the mirrors for it only by that hash)."""
    sides = (*sums_paths(entry.sha256), *((torrent_path(entry.sha256),) if entry.infohash is not None else ()))
    return (entry.path, entry.size), *((path, None) for path in sides)


def sizes_on(host: Host, paths: Iterable[str], log: Log,
             seen: Callable[[str, int | None], None] | None = None) -> dict[str, int | None]:
    """The size of each of `paths` on `host` (None: not there), from one listing per folder where the host lists
    it, else one size request per file; `seen` hears of each as it is known (a host's time may run out midway).

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
        listed = with_retries(functools.partial(host.sizes, folder, names), host.name, f"{folder}/", log) \
            if len(inside) > 1 else None  # one file: its own request is as cheap as a listing
        for path in inside:
            note(path, listed.get(path.rpartition("/")[2]) if listed is not None else
                 with_retries(functools.partial(host.stat, path), host.name, path, log))
    return found


def short(entry: BundleEntry, sizes: Mapping[str, int | None]) -> list[tuple[str, int | None]]:
    """The files of `entry` that `sizes` (of `sizes_on`) finds missing, empty, or of another size than listed, each
    with the size found; files `sizes` does not know of are not judged."""
    return [(path, sizes[path]) for path, size in needed(entry) if path in sizes and
            ((sizes[path] is None or sizes[path] == 0) if size is None else sizes[path] != size)]


def known_all(entry: BundleEntry, sizes: Mapping[str, int | None]) -> bool:
    """Whether `sizes` knows of every file of `entry`."""
    return all(path in sizes for path, _ in needed(entry))
