"""DirectoryHost: a mirror in a local folder, a shared drive or a USB stick.

Example::

    host = DirectoryHost("usb", Path("/media/usb/mirror"))
    host.upload("bundles/ab12.7z", Path("ab12.7z"), sha256)   # temp file, fsync, os.replace, read back
    size = host.stat("bundles/ab12.7z")

The root folder must already exist, so that an unmounted stick never turns into a folder
on the internal disk; folders below the root are created as needed. The root may be reached
through a link (a mount point), but no link inside it is followed: a shared folder may hold
links planted to lead the files elsewhere. Every step is opened with O_NOFOLLOW relative to
the one before (safeio.open_folder_beneath), so a link planted after a check is refused too.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from mirror.errors import ConfigError, Failure, MissingFile, TransferError
from mirror.net.pace import interrupted
from mirror.publish.config import HostConfig
from mirror.publish.hosts import SourceFailed, SourceReader, check_path
from mirror.publish.hosts.base import CHUNK, MAX_LISTING, read_back, too_many
from mirror.safeio import LinkInside, open_folder_beneath, open_regular_beneath, read_at_most, stat_beneath


class DirectoryHost:
    """A mirror in a local folder. Errors of the folder become TransferError; errors reading the source pass."""

    def __init__(self, name: str, root: Path) -> None:
        self._name = name
        self.root = root

    def __repr__(self) -> str:
        return f"DirectoryHost({self._name!r}, {str(self.root)!r})"

    @property
    def name(self) -> str:
        """The host's name from mirror.toml."""
        return self._name

    @classmethod
    def from_config(cls, config: HostConfig) -> DirectoryHost:
        """A host for `config.url`, a path or a file:// URL.

        Raises:
            ConfigError: a file:// URL that names another machine.
        """
        url = config.url
        if url.lower().startswith("file:"):
            parts = urlsplit(url)
            if parts.netloc not in ("", "localhost"):
                raise ConfigError(f"hosts.{config.name}.url: file:// URLs must be local",
                                  hint="mount the share and use its local path")
            url = unquote(parts.path)
        return cls(config.name, Path(url).expanduser())

    def stat(self, path: str) -> int | None:
        """The size of `path`, or None if it does not exist.

        Raises:
            TransferError: the root is missing, `path` is not a regular file, or the folder cannot be read.
        """
        parts = self._parts(path)
        try:
            info = stat_beneath(self.root, parts)
        except FileNotFoundError:
            return None
        except LinkInside as exc:
            raise self._link(exc) from None
        except OSError as exc:
            raise self._error(path, exc) from exc
        if not stat.S_ISREG(info.st_mode):
            raise TransferError(self._name, f"{path} is not a file", Failure.BAD_ANSWER)
        return info.st_size

    def sizes(self, folder: str, wanted: Collection[str] | None = None) -> dict[str, int]:
        """The size of every regular file directly in `folder`, from one scandir (a link or a folder is left out, as
        not a file); an empty dict if there is no such folder.

        Raises:
            TransferError: the root is missing, a link on the way, a folder that cannot be read, or more than
                MAX_LISTING entries.
        """
        parts = self._parts(folder) if folder else self._check_root()
        try:
            fd = open_folder_beneath(self.root, parts)
        except FileNotFoundError:
            return {}
        except LinkInside as exc:
            raise self._link(exc) from None
        except OSError as exc:
            raise self._error(folder or ".", exc) from exc
        found: dict[str, int] = {}
        try:
            with os.scandir(fd) as entries:
                for seen, entry in enumerate(entries):
                    if seen >= MAX_LISTING:
                        raise too_many(self._name, folder, MAX_LISTING)
                    if (wanted is None or entry.name in wanted) and entry.is_file(follow_symlinks=False):
                        found[entry.name] = entry.stat(follow_symlinks=False).st_size
        except OSError as exc:
            raise self._error(folder or ".", exc) from exc
        finally:
            os.close(fd)
        return found

    def read(self, path: str, limit: int) -> bytes:
        """The whole of `path`, at most `limit` bytes.

        Raises:
            MissingFile: `path` does not exist.
            TransferError: it is larger than `limit`, or cannot be read.
        """
        with self._open(path) as file:  # a piece at a time: read(limit + 1) set the limit aside before reading
            try:
                data = read_at_most(file, limit + 1)
            except OSError as exc:
                raise self._error(path, exc) from exc
        if len(data) > limit:
            raise TransferError(self._name, f"{path} is larger than {limit} bytes", Failure.BAD_ANSWER)
        return data

    def stream(self, path: str) -> Iterator[bytes]:
        """`path` in chunks of at most CHUNK bytes.

        Raises:
            MissingFile: `path` does not exist.
            TransferError: it cannot be read.
        """
        with self._open(path) as file:
            while chunk := self._read(file, path, CHUNK):
                yield chunk
                self._go_on(path)

    def upload(self, path: str, source: Path, sha256: str) -> None:
        """Copy `source` to a temporary file beside `path`, fsync it, os.replace it over `path`, read it back.

        Raises:
            TransferError: the folder cannot be written, or the copy reads back with another sha256.
            OSError: `source` cannot be read (it is local, not the host's fault).
        """
        parts = self._parts(path)
        size = source.stat().st_size
        with source.open("rb") as file:
            self._write(parts, SourceReader(file, size), path)
        read_back(self, path, sha256, size)

    def close(self) -> None:
        """Nothing to release."""

    def _parts(self, path: str) -> tuple[str, ...]:
        parts = check_path(self._name, path)
        self._check_root()
        return tuple(parts)

    def _check_root(self) -> tuple[str, ...]:
        """No parts: the root, which must be there (a stick not mounted is no empty mirror)."""
        if not self.root.is_dir():
            raise TransferError(self._name, f"folder {self.root} does not exist", Failure.UNREACHABLE, transient=False,
                                hint="is the drive mounted?")
        return ()

    def _open(self, path: str) -> BinaryIO:
        parts = self._parts(path)
        try:
            return open_regular_beneath(self.root, parts)  # a FIFO or device on the drive is refused, never waited on
        except FileNotFoundError:
            raise MissingFile(self._name, f"{path} does not exist") from None
        except LinkInside as exc:
            raise self._link(exc) from None
        except ConfigError:
            raise TransferError(self._name, f"{path} is not a regular file", Failure.BAD_ANSWER) from None
        except OSError as exc:
            raise self._error(path, exc) from exc

    def _read(self, file: BinaryIO, path: str, size: int) -> bytes:
        try:
            return file.read(size)
        except OSError as exc:
            raise self._error(path, exc) from exc

    def _write(self, parts: tuple[str, ...], reader: SourceReader, path: str) -> None:
        """Write a temporary file in the target's folder (opened with no link followed), then rename it over the
        target's name in that same folder: a link planted there after the check is replaced, never written through."""
        name = parts[-1]
        temp = f".{name}.{secrets.token_hex(8)}.part"
        try:
            folder = open_folder_beneath(self.root, parts[:-1], create=True)
        except LinkInside as exc:
            raise self._link(exc) from None
        except OSError as exc:
            raise self._error(path, exc) from exc
        try:
            self._write_in(folder, name, temp, reader, path)
        finally:
            os.close(folder)

    def _write_in(self, folder: int, name: str, temp: str, reader: SourceReader, path: str) -> None:
        try:
            if stat.S_ISLNK(os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode):
                raise self._link(LinkInside(self.root / path))
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise self._error(path, exc) from exc
        try:
            # os.open, not mkstemp: the file gets the usual umask, so a web server can serve it.
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666,
                         dir_fd=folder)
        except OSError as exc:
            raise self._error(path, exc) from exc
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := reader.read(CHUNK):
                    out.write(chunk)
                    self._go_on(path)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, name, src_dir_fd=folder, dst_dir_fd=folder)
        except SourceFailed as exc:
            _discard(folder, temp)
            raise exc.error from None
        except OSError as exc:
            _discard(folder, temp)
            raise self._error(path, exc) from exc
        except BaseException:  # stopped (Ctrl-C in the waiting thread), or a bug
            _discard(folder, temp)
            raise
        with contextlib.suppress(OSError):  # make the rename durable; some file systems cannot, which is no error
            os.fsync(folder)

    def _go_on(self, path: str) -> None:
        """Raise TransferError once this thread's transfers are stopped: no socket to shut down ends a local copy.

        Raises:
            TransferError: the stop switch is set.
        """
        if interrupted():
            raise TransferError(self._name, f"{path}: interrupted", Failure.TIMEOUT, transient=False)

    def _error(self, path: str, exc: OSError) -> TransferError:
        return TransferError(self._name, f"{path}: {exc.strerror or exc}", Failure.REFUSED)

    def _link(self, exc: LinkInside) -> TransferError:
        return TransferError(self._name, f"{exc.path} is a link; publish writes only inside {self.root}",
                             Failure.REFUSED, transient=False, hint="remove the link, or make it a real folder")


def _discard(folder: int, temp: str) -> None:
    """Remove a temporary file if the folder still allows it (the original error is what matters)."""
    with contextlib.suppress(OSError):
        os.unlink(temp, dir_fd=folder)
