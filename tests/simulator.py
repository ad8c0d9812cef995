"""An in-memory mirror and publisher for testing the reader's trust rules without HTTP or files.

Example::

    publisher = SimPublisher(SecretKey.generate(), now)
    mirror = SimMirror("a")
    publisher.publish(mirror, version=3)                  # signed index.json + index/3.json on `mirror`
    mirror.files["index.json"] = b"..."                    # then tamper, roll back, drop, as a test needs
    index, raw = read_signed_index(mirror, check)

Like python-tuf's RepositorySimulator: every attack is a few lines on a dict of files.
SimMirror implements the reader's Mirror protocol (fetch/transport.py) and the
IndexSource of trust/index.py; the in-memory publishing host is in test_publish_retries.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from mirror.errors import Failure, MissingFile, TransferError
from mirror.formats.index import BundleEntry, Index
from mirror.formats.layout import INDEX_NAME, SIG_SUFFIX, version_path
from mirror.formats.minisign import key_id_hex
from mirror.formats.timefmt import format_time
from mirror.trust.index import sign_index
from mirror.trust.keys import SecretKey


@dataclass
class SimMirror:
    """A mirror whose files live in a dict; a path in `failures` raises that error when read."""

    label: str
    files: dict[str, bytes] = field(default_factory=dict)
    failures: dict[str, TransferError] = field(default_factory=dict)
    reads: list[str] = field(default_factory=list)
    swap_after_first_read: dict[str, bytes] = field(default_factory=dict)  # a mirror caught mid-update

    def read(self, path: str, limit: int) -> bytes:
        """A file, at most `limit` bytes, or the scripted failure."""
        self.reads.append(path)
        if path in self.failures:
            raise self.failures[path]
        if path not in self.files:
            raise MissingFile(self.label, f"{path} is not there")
        data = self.files[path]
        if path in self.swap_after_first_read and self.reads.count(path) == 1:
            self.files[path] = self.swap_after_first_read.pop(path)
        if len(data) > limit:
            raise TransferError(self.label, f"{path} is larger than {limit} bytes", Failure.BAD_ANSWER)
        return data

    def download(self, path: str, part: Path, size: int, progress: Callable[[int], None] | None = None) -> bool:
        """Append the rest of `path` to `part`; whether it is complete."""
        data = self.read(path, size)
        start = part.stat().st_size if part.exists() else 0
        with part.open("ab") as out:
            out.write(data[start:size])
        return part.stat().st_size == size


@dataclass
class SimPublisher:
    """Signs index versions with one key and lays them out on mirrors as publish does."""

    secret: SecretKey
    now: datetime
    bundles: tuple[BundleEntry, ...] = ()

    @property
    def key_id(self) -> str:
        """The publisher's key id, as the index names it."""
        return key_id_hex(self.secret.public.key_id)

    def index(self, version: int, created: datetime | None = None, days: float = 14) -> Index:
        """An index of this publisher's bundles."""
        created = created or self.now
        return Index(self.key_id, version, format_time(created), format_time(created + timedelta(days=days)),
                     self.bundles, ("https://mirror.invalid/m/",))

    def signed(self, index: Index) -> tuple[bytes, bytes]:
        """The index bytes and their signature."""
        return index.to_bytes(), sign_index(index, self.secret)

    def publish(self, mirror: SimMirror, version: int, created: datetime | None = None, days: float = 14) -> bytes:
        """Put index.json, its signature and the immutable copy on `mirror`; return the index bytes."""
        raw, sig = self.signed(self.index(version, created, days))
        for path in (version_path(version), INDEX_NAME):
            mirror.files[path], mirror.files[path + SIG_SUFFIX] = raw, sig
        return raw


def sha256(data: bytes) -> str:
    """Hex SHA-256."""
    return hashlib.sha256(data).hexdigest()
