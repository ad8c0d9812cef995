"""Mirror host drivers, chosen by the `kind` of a [hosts.NAME] table.

Example::

    host = open_host(config.host("dav"))
    try:
        host.upload("bundles/ab12.7z", Path("ab12.7z"), sha256)
        raw = host.read("index.json", limit=1 << 20)
    finally:
        host.close()

WebDAV (requests) and local folders are in the core; SFTP (paramiko) and S3 (boto3)
are extras whose libraries are imported only when such a host is opened.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, BinaryIO

from mirror.errors import ConfigError, Failure, MissingFile, TransferError
from mirror.hashing import BackgroundHash
from mirror.publish.config import HostConfig
from mirror.publish.hosts.base import Host, read_back

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = ["Host", "MissingFile", "TransferError", "open_host", "read_back"]  # check_path, SourceReader: for drivers


def open_host(config: HostConfig) -> Host:
    """The driver for `config.kind`; no connection is made until the first call.

    Raises:
        ConfigError: unknown kind, a bad URL, a missing secret, or a missing optional library.
    """
    if config.kind == "dir":
        from mirror.publish.hosts.directory import DirectoryHost

        return DirectoryHost.from_config(config)
    if config.kind == "webdav":
        from mirror.publish.hosts.webdav import WebDavHost

        return WebDavHost.from_config(config)
    if config.kind == "sftp":
        from mirror.publish.hosts.sftp import SftpHost

        return SftpHost.from_config(config)
    if config.kind == "s3":
        from mirror.publish.hosts.s3 import S3Host

        return S3Host.from_config(config)
    raise ConfigError(f"hosts.{config.name}: unknown kind {config.kind!r}")


def check_path(host: str, path: str) -> tuple[str, ...]:
    """The parts of a relative POSIX path under a host's root.

    Raises:
        TransferError: the path is empty, absolute, or has empty, `.`, `..` or control-character parts.
    """
    parts = tuple(path.split("/"))
    if not path or any(part in ("", ".", "..") for part in parts) or any(
            ord(char) < 32 or char in "\\\x7f" for char in path):
        raise TransferError(host, f"refusing unsafe path {path!r}", Failure.REFUSED)
    return parts


class SourceFailed(Exception):
    """Reading the local source failed; carries the OSError past HTTP libraries that would retry it."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


_progress = threading.local()


@contextlib.contextmanager
def sending_progress(advance: Callable[[int], None] | None) -> Iterator[None]:
    """Within it, every SourceReader made on this thread (every driver sends through one) tells `advance` how many
    bytes it read, and takes them back when it is rewound: the progress of uploads, whatever the host."""
    before = getattr(_progress, "advance", None)
    _progress.advance = advance
    try:
        yield
    finally:
        _progress.advance = before


class SourceReader(io.RawIOBase):
    """A local file read in at most `size` bytes, for HTTP bodies that are streamed from disk.

    `len()` gives the size (requests then sends a Content-Length); reading raises SourceFailed
    if the file cannot be read or turns out shorter than `size`, so a changed file never
    looks like a network error.
    """

    def __init__(self, file: BinaryIO, size: int) -> None:
        super().__init__()
        self._file = file
        self._size = size
        self._offset = 0
        self._in_order = True  # every byte read since the start was read once, in order: it can be hashed
        self._advance: Callable[[int], None] | None = getattr(_progress, "advance", None)
        self._digest: BackgroundHash | None = None  # of the bytes read in order from the start; made on the first read

    def sent_sha256(self) -> str | None:
        """SHA-256 of the bytes read, if they were read once in order from the first to the last; else None."""
        if self._offset != self._size or not self._in_order:
            return None
        if self._digest is None:
            return hashlib.sha256(b"").hexdigest() if self._size == 0 else None
        return self._digest.hexdigest()

    def _drop_digest(self) -> None:
        if self._digest is not None:
            self._digest.close()
        self._digest = None

    def close(self) -> None:
        """Finish or stop hashing (`sent_sha256` still answers); the file itself belongs to the caller."""
        if self._digest is not None and self._in_order and self._offset == self._size:
            self._digest.hexdigest()
        elif self._digest is not None:
            self._drop_digest()
            self._in_order = False
        super().close()

    def __len__(self) -> int:
        return self._size

    def readable(self) -> bool:
        """Always true."""
        return True

    def seekable(self) -> bool:
        """Always true: botocore rewinds bodies to sign and to retry them."""
        return True

    def tell(self) -> int:
        """The current offset."""
        return self._offset

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move within the first `size` bytes.

        Raises:
            SourceFailed: the file cannot be positioned.
        """
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._offset, io.SEEK_END: self._size}[whence]
        target = min(max(base + offset, 0), self._size)
        if self._advance is not None and target != self._offset:
            self._advance(target - self._offset)  # a rewind (a retry, a signer) takes the bytes back
        if target == 0 or target != self._offset:
            self._drop_digest()
            self._in_order = target == 0  # read again from the start (a retry, a signer's rewind), or from the middle
        self._offset = target
        try:
            self._file.seek(self._offset)
        except OSError as exc:
            raise SourceFailed(exc) from exc
        return self._offset

    def readinto(self, buffer: WriteableBuffer) -> int:
        """Fill `buffer` from the file, never past `size`.

        Raises:
            SourceFailed: the file cannot be read or ends early.
        """
        view = memoryview(buffer).cast("B")
        want = min(len(view), self._size - self._offset)
        if want == 0:
            return 0
        try:
            chunk = self._file.read(want)
        except OSError as exc:
            raise SourceFailed(exc) from exc
        if not chunk:
            name = getattr(self._file, "name", "source")
            raise SourceFailed(OSError(f"{name}: file became shorter while it was being sent"))
        view[: len(chunk)] = chunk
        if self._in_order:
            if self._digest is None:  # the first read from the start
                self._digest = BackgroundHash()
            self._digest.update(chunk)
        self._offset += len(chunk)
        if self._advance is not None:
            self._advance(len(chunk))
        return len(chunk)
