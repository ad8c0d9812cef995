"""Read-only access to a mirror for readers: over HTTP(S) (optionally through SOCKS) or from a folder.

Example::

    mirror = open_mirror("https://example.org/mirror/", proxy="socks5h://127.0.0.1:9050")
    raw = mirror.read("index.json", limit=MAX_INDEX)
    got = mirror.download("bundles/ab12.7z", part_file, size=1234567)   # resumes from part_file's length

A folder mirror (a USB copy, `file://` or a path) is read by the same code path.
Every answer is judged on its own by the caller; this module only moves bytes,
never more than asked for, and reports what went wrong as TransferError (errors.py), the
same family the publisher's host drivers raise.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urljoin, urlsplit

import requests

from mirror.errors import ConfigError, Failure, MissingFile, TransferError

CHUNK = 1 << 16
_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


@dataclass(frozen=True, slots=True)
class Download:
    """What one download call did."""

    restarted: bool  # the server ignored Range and sent the whole file
    complete: bool


class Mirror(Protocol):
    """A mirror as a reader sees it."""

    @property
    def label(self) -> str:
        """How the mirror is named in reports."""
        ...

    def read(self, path: str, limit: int) -> bytes:
        """A small file, at most `limit` bytes. Raises TransferError."""
        ...

    def download(self, path: str, part: Path, size: int, progress: Callable[[int], None] | None = None) -> Download:
        """Continue `part` (append from its length) up to exactly `size` bytes. Raises TransferError."""
        ...


class FolderMirror:
    """A mirror copied onto a USB stick or a shared folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.label = str(root)

    def _file(self, path: str) -> Path:
        target = self.root.joinpath(*path.split("/"))
        if not target.is_file():
            raise MissingFile(self.label, f"{path} is not there")
        return target

    def read(self, path: str, limit: int) -> bytes:
        """Read a small file."""
        try:
            with self._file(path).open("rb") as handle:
                data = handle.read(limit + 1)
        except OSError as exc:
            raise TransferError(self.label, f"{path}: {exc.strerror}", Failure.UNREACHABLE) from None
        if len(data) > limit:
            raise TransferError(self.label, f"{path} is larger than {limit} bytes", Failure.BAD_ANSWER)
        return data

    def download(self, path: str, part: Path, size: int, progress: Callable[[int], None] | None = None) -> Download:
        """Copy from the part's length on, never past `size`."""
        start = part.stat().st_size if part.exists() else 0
        received = 0
        try:
            with self._file(path).open("rb") as source, part.open("ab") as out:
                source.seek(start)
                while start + received < size:
                    chunk = source.read(min(CHUNK, size - start - received))
                    if not chunk:
                        break
                    out.write(chunk)
                    received += len(chunk)
                    if progress is not None:
                        progress(len(chunk))
        except OSError as exc:
            raise TransferError(self.label, f"{path}: {exc.strerror}", Failure.UNREACHABLE) from None
        return Download(False, start + received == size)


class HttpMirror:
    """A mirror over HTTP(S), through a proxy if given; every request has timeouts."""

    def __init__(self, base: str, proxy: str | None = None, timeout: tuple[float, float] = (10.0, 30.0)) -> None:
        self.base = base if base.endswith("/") else base + "/"
        parts = urlsplit(self.base)
        self.label = f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}"
        self.session = requests.Session()
        self.session.trust_env = False  # only the proxy the reader named, never one from the environment
        self.session.headers["Accept-Encoding"] = "identity"  # byte ranges of the file as stored
        if proxy:
            self.session.proxies = {"http": proxy, "https": proxy}
        self.timeout = timeout

    def _request(self, path: str, headers: dict[str, str]) -> requests.Response:
        try:
            response = self.session.get(urljoin(self.base, path), headers=headers, stream=True,
                                        timeout=self.timeout, allow_redirects=False)
        except requests.Timeout:
            raise TransferError(self.label, "timed out", Failure.TIMEOUT) from None
        except requests.RequestException as exc:
            raise TransferError(self.label, f"cannot connect ({type(exc).__name__})", Failure.UNREACHABLE) from None
        if response.status_code == 404:
            response.close()
            raise MissingFile(self.label, f"{path} is not there (404)")
        if response.status_code not in (200, 206):
            response.close()
            raise TransferError(self.label, f"{path}: HTTP {response.status_code}", Failure.REFUSED)
        return response

    def read(self, path: str, limit: int) -> bytes:
        """GET a small file, reading at most limit + 1 bytes."""
        response = self._request(path, {})
        data = bytearray()
        try:
            for chunk in response.iter_content(CHUNK):
                data += chunk
                if len(data) > limit:
                    raise TransferError(self.label, f"{path} is larger than {limit} bytes", Failure.BAD_ANSWER)
        except requests.RequestException:
            raise TransferError(self.label, f"{path}: the connection broke", Failure.UNREACHABLE) from None
        finally:
            response.close()
        return bytes(data)

    def download(self, path: str, part: Path, size: int, progress: Callable[[int], None] | None = None) -> Download:
        """Resume with Range; accept only 206 with the right Content-Range; a 200 restarts from zero."""
        start = part.stat().st_size if part.exists() else 0
        headers = {"Range": f"bytes={start}-"} if start else {}
        response = self._request(path, headers)
        restarted = False
        try:
            if start and response.status_code == 206:
                match = _RANGE.fullmatch(response.headers.get("Content-Range", ""))
                if match is None or (int(match[1]), int(match[2]), int(match[3])) != (start, size - 1, size):
                    raise TransferError(self.label, f"{path}: wrong Content-Range for a resumed download",
                                        Failure.BAD_ANSWER)
            elif response.status_code == 206:
                raise TransferError(self.label, f"{path}: partial answer to a full request", Failure.BAD_ANSWER)
            elif start:
                restarted, start = True, 0  # the server ignored Range: never append a whole body
            self._write(response, part, start, size, progress)
        except requests.RequestException:
            raise TransferError(self.label, f"{path}: the connection broke", Failure.UNREACHABLE) from None
        finally:
            response.close()
        final = part.stat().st_size
        return Download(restarted, final == size)

    @staticmethod
    def _write(response: requests.Response, part: Path, start: int, size: int,
               progress: Callable[[int], None] | None) -> int:
        received = 0
        # A body cut short must keep what arrived: read until the server stops, then compare sizes.
        response.raw.enforce_content_length = False
        with part.open("r+b" if part.exists() else "wb") as out:
            out.seek(start)
            out.truncate()
            for chunk in response.iter_content(CHUNK):
                chunk = chunk[: size - start - received]  # never more than the signed size
                out.write(chunk)
                received += len(chunk)
                if progress is not None:
                    progress(len(chunk))
                if start + received >= size:
                    break
        return received


def open_mirror(location: str, proxy: str | None = None, timeout: tuple[float, float] = (10.0, 30.0)) -> Mirror:
    """A reader for an http(s) URL, a file:// URL, or a folder path.

    Raises:
        ConfigError: a URL that cannot be parsed (a bad port, an unclosed bracket).
    """
    try:
        scheme = urlsplit(location).scheme.lower()
        if scheme in ("http", "https"):
            return HttpMirror(location, proxy, timeout)
    except ValueError:
        raise ConfigError(f"not a valid mirror URL: {location!r}") from None
    if scheme == "file":
        return FolderMirror(Path(unquote(urlsplit(location).path)))
    return FolderMirror(Path(location))
