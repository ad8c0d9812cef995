"""The Host protocol: what publish and status need from a mirror host, and nothing more.

Example::

    host = open_host(config)                    # hosts/__init__.py picks the driver by URL scheme
    if host.stat("bundles/ab12.7z") != size:
        host.upload("bundles/ab12.7z", Path("x.7z"), sha256)   # temp name, atomic rename, read back
    raw = host.read("index.json", limit=MAX_INDEX)

Every driver raises TransferError (never a library's own exception) with the host's
name, a `Failure` kind and a reason that holds no credentials; `transient` marks errors
worth a retry (timeouts, connection resets, 5xx). Readers' transports (fetch/transport.py)
raise the same family.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Protocol

from mirror.errors import Failure, TransferError

CHUNK = 1 << 20
# Entries one folder's listing may have (`Host.sizes`): an index of at most MAX_INDEX bytes lists under 15,000
# bundles, four files each. More is a host answering without end, refused with a one-line error.
MAX_LISTING = 100_000
LISTING_BYTES = 64 << 20  # a WebDAV listing's XML: 640 bytes an entry (nginx writes about 350)


class Host(Protocol):
    """One mirror host. Paths are relative POSIX paths under the host's root."""

    @property
    def name(self) -> str:
        """The host's name from mirror.toml."""
        ...

    def stat(self, path: str) -> int | None:
        """The size of `path`, or None if it does not exist. Raises TransferError."""
        ...

    def sizes(self, folder: str, wanted: Collection[str] | None = None) -> dict[str, int] | None:
        """The size of every file directly in `folder` (a relative path, no trailing "/"), by name, from one listing
        (WebDAV PROPFIND Depth: 1, S3 ListObjectsV2 pages, SFTP and local readdir); only those named in `wanted`,
        if given (a host's listing of 100,000 long names is not kept); an empty dict for a folder that is not
        there; None when the host will not list it (then ask `stat` of each file). Raises TransferError, also for a
        listing of more than MAX_LISTING entries."""
        ...

    def read(self, path: str, limit: int) -> bytes:
        """The whole of a small file. Raises MissingFile, or TransferError if larger than `limit`."""
        ...

    def stream(self, path: str) -> Iterator[bytes]:
        """The file in chunks (for read-back and deep checks). Raises MissingFile or TransferError."""
        ...

    def upload(self, path: str, source: Path, sha256: str) -> None:
        """Store `source` at `path` atomically: a temporary name in the same folder, then a rename
        that replaces any existing file (WebDAV MOVE with Overwrite: T, SFTP posix-rename,
        os.replace; S3 PUTs are atomic per object). Then read it back and compare sha256 (WebDAV checks a
        large file whose bytes hashed to sha256 as they were sent by its size and a few ranges instead).
        On any failure the previous file at `path`, if any, is intact and no temporary is left
        when the host allows deleting it. Raises TransferError."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def too_many(host: str, folder: str, limit: int) -> TransferError:
    """The error for a listing of more than `limit` (MAX_LISTING) entries."""
    return TransferError(host, f"the listing of {folder}/ has more than {limit:,} entries", Failure.BAD_ANSWER,
                         hint="remove what does not belong there on the host")


def read_back(host: Host, path: str, sha256: str, size: int) -> None:
    """Raise TransferError unless the file at `path` on `host` hashes to `sha256`; a host that sends more than
    the `size` bytes the file has is stopped there (an endless answer would otherwise be read until the budget
    runs out)."""
    digest = hashlib.sha256()
    got = 0
    for chunk in host.stream(path):
        got += len(chunk)
        if got > size:
            raise TransferError(host.name, f"{path} reads back longer than its {size:,} bytes",
                                Failure.BAD_ANSWER)
        digest.update(chunk)
    if digest.hexdigest() != sha256:
        raise TransferError(host.name, f"{path} reads back with another sha256 than was sent", Failure.BAD_ANSWER)
