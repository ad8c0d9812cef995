"""The signed files a verify read, by logical name; SHA256SUMS and bundle.json past SPILL bytes kept in an
unnamed temporary file.

Example::

    spool = Spool()
    for chunk in chunks:                    # bundle.json as the archive decodes it
        spool.write(chunk)
    meta = BundleMeta.from_bytes(spool.open(), ...)        # parsed a window at a time (formats/jsonstream.py)
    control = Control({SUMS_NAME: sums, ..., META_NAME: spool})
    control.open(META_NAME)                 # read it again as a stream (show, the reader's page)
    control[META_NAME]                      # or whole, as bytes (publish and fetch --keep copy it out)

SHA256SUMS and bundle.json of a million files are about 90 and 70 MB. Verify parses each once and then needs
only the columns it made, so past SPILL bytes their bytes wait on disk (in the temporary folder; the file has no
name and is gone when the last reader lets go of it) instead of in memory for the whole run. SHA256SUMS's
signature is checked on the BLAKE2b-512 made as it was spooled: of exactly the bytes then parsed.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import weakref
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

from mirror.formats.minisign import Prehashed, prehash

SPILL = 1 << 20
_CHUNK = 1 << 20


def _close_quietly(file: BinaryIO) -> None:
    """Close a spool's file when the spool is gone; what it could not write was reported when it was written."""
    with contextlib.suppress(OSError):
        file.close()


def _temporary_folder() -> str:
    """Where temporary files go, for an error message (gettempdir raises when there is no usable one)."""
    import tempfile  # only for a spool or an error: not on the start-up of a small verify

    try:
        return tempfile.gettempdir()
    except OSError:
        return tempfile.tempdir or os.environ.get("TMPDIR") or "/tmp"  # noqa: S108 - only named in a message


class _Reader(io.RawIOBase):
    """The spool's file read from the start, with a position of its own (several may read it at once)."""

    def __init__(self, spool: Spool) -> None:
        super().__init__()
        self.spool, self.pos = spool, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        n = os.preadv(self.spool.fileno(), [view[: max(0, self.spool.size - self.pos)]], self.pos)
        self.pos += n
        return n


class Spool:
    """Bytes written once, then read any number of times: in memory up to SPILL, past it in a temporary file."""

    def __init__(self, signed: bool = False, folder: Path | None = None) -> None:
        """`signed`: the message of a signature (SHA256SUMS): its BLAKE2b-512 is made on the way too. `folder`:
        where the temporary file goes (None: the temporary folder, TMPDIR)."""
        self._folder = folder
        self._memory: io.BytesIO | None = io.BytesIO()
        self._file: BinaryIO | None = None
        self._digest = hashlib.sha256()
        self._blake = hashlib.blake2b(digest_size=64) if signed else None
        self.size = 0

    def write(self, data: bytes) -> None:
        """Append `data` (hashed on the way)."""
        self._digest.update(data)
        if self._blake is not None:
            self._blake.update(data)
        self.size += len(data)
        if self._memory is not None and self._memory.tell() + len(data) <= SPILL:
            self._memory.write(data)
            return
        try:
            if self._file is None:
                import tempfile

                self._file = tempfile.TemporaryFile(dir=self._folder)  # noqa: SIM115 - open as long as the spool is
                weakref.finalize(self, _close_quietly, self._file)  # closed (and so gone) when the spool is
                if self._memory is not None:
                    self._file.write(self._memory.getbuffer())
                    self._memory = None
            self._file.write(data)
            self._file.flush()  # a full disk shows here, not at a later read
        except OSError as exc:  # no temporary folder, or a full one: say which, never "bundle is bad"
            if self._folder is not None:  # create's lists, beside the bundle it writes
                raise OSError(exc.errno, f"{exc.strerror or exc} (a temporary file beside the bundle being made)",
                              str(self._folder)) from None
            raise OSError(exc.errno, f"{exc.strerror or exc} (the temporary folder, where the signed lists of a "
                                     "large bundle wait while it is checked; TMPDIR names another)",
                          _temporary_folder()) from None

    def fileno(self) -> int:
        """The temporary file's descriptor (written out first)."""
        if self._file is None:
            raise ValueError("the spool is in memory")
        self._file.flush()
        return self._file.fileno()

    @property
    def sha256(self) -> str:
        """The SHA-256 of everything written, in hex."""
        return self._digest.hexdigest()

    @property
    def prehashed(self) -> Prehashed:
        """What a minisign signature over everything written covers."""
        if self._blake is None:
            raise ValueError("not spooled as a signed message")
        return Prehashed(self._blake.digest())

    def open(self) -> BinaryIO:
        """A reader of everything written, from the start."""
        if self._memory is not None:
            return io.BytesIO(self._memory.getbuffer())
        self.fileno()  # flushed
        return io.BufferedReader(_Reader(self), _CHUNK)

    def chunks(self) -> Iterator[bytes]:
        """Everything written, a MiB at a time."""
        with self.open() as reader:
            while chunk := reader.read(_CHUNK):
                yield chunk

    def read_at(self, offset: int, size: int) -> bytes:
        """`size` bytes written at `offset` (several threads may read at once).

        Raises:
            ValueError: the range is not all written.
        """
        written = self.size
        if offset < 0 or size < 0 or offset + size > written:
            raise ValueError(f"{size} bytes at {offset}, past the {written} written")
        if self._memory is not None:
            return bytes(self._memory.getbuffer()[offset : offset + size])
        data = os.pread(self.fileno(), size, offset)
        if len(data) != size:
            raise OSError("a temporary file ended early")
        return data

    def read(self) -> bytes:
        """Everything written, whole."""
        if self._memory is not None:
            return self._memory.getvalue()
        with self.open() as reader:
            return reader.read()


class Control(Mapping[str, bytes]):
    """The signed files by logical name: each as bytes, read from its spool when it has one."""

    def __init__(self, files: Mapping[str, bytes | Spool]) -> None:
        self._files = dict(files)

    def __getitem__(self, name: str) -> bytes:
        value = self._files[name]
        return value if isinstance(value, bytes) else value.read()

    def __iter__(self) -> Iterator[str]:
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)

    def only(self, *names: str) -> Control:
        """These files alone, in memory: what a caller keeping many verified bundles needs of each, without a
        temporary file (and its descriptor) per bundle."""
        return Control({name: self[name] for name in names})

    def open(self, name: str) -> BinaryIO:
        """`name` as a stream (bundle.json of a million files is never read whole)."""
        value = self._files[name]
        return io.BytesIO(value) if isinstance(value, bytes) else value.open()

    def size(self, name: str) -> int:
        """The bytes of `name`."""
        value = self._files[name]
        return len(value) if isinstance(value, bytes) else value.size

    def sha256(self, name: str) -> str:
        """The SHA-256 of `name`, in hex."""
        value = self._files[name]
        return hashlib.sha256(value).hexdigest() if isinstance(value, bytes) else value.sha256

    def prehashed(self, name: str) -> Prehashed:
        """`name` as the message of a minisign signature (its BLAKE2b-512)."""
        value = self._files[name]
        return Prehashed(prehash(value)) if isinstance(value, bytes) else value.prehashed
