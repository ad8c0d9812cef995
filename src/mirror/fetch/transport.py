"""Read-only access to a mirror for readers: over HTTP(S) (optionally through SOCKS) or from a folder.

Example::

    mirror = open_mirror("https://example.org/mirror/", proxy="socks5h://127.0.0.1:9050", limits=Limits(stall=60))
    raw = mirror.read("index.json", limit=MAX_INDEX)
    complete = mirror.download("bundles/ab12.7z", part_file, size=1234567)   # appends from part_file's length

A folder mirror (a USB copy, `file://` or a path) is read by the same code path.
Every answer is judged on its own by the caller; this module only moves bytes,
never more than asked for, and reports what went wrong as TransferError (errors.py), the
same family the publisher's host drivers raise. Every request runs under a Watch
(net/pace.py): a mirror that answers too slowly, or past the budget of the caller's
phase, is cut off with TransferError(TIMEOUT), however it drips its bytes.
"""

from __future__ import annotations

import contextlib
import email.utils
import os
import re
import stat
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Protocol, TypeVar
from urllib.parse import unquote, urljoin, urlsplit

import requests

from mirror.errors import ConfigError, Failure, MissingFile, TransferError
from mirror.formats.media import is_web_page
from mirror.formats.names import printable
from mirror.net.http import (
    dropped,
    last_request_reused,
    lines_without_end,
    not_http,
    read_capped,
    timed_out,
    watched_session,
)
from mirror.net.pace import Limits, Watch, current, pause
from mirror.net.proxy import shown_url
from mirror.safeio import open_regular, read_at_most
from mirror.sevenzip.model import MAGIC

# A body is appended in pieces of this size. Not larger: when a watch cuts a slow mirror off, the piece being
# read is lost, and a short turn must still keep (nearly) everything that arrived.
CHUNK = 1 << 16
T = TypeVar("T")
_RANGE = re.compile(r"bytes ([0-9]{1,20})-([0-9]{1,20})/([0-9]{1,20})")  # ASCII digits, at most 2^64


class RangeIgnored(TransferError):
    """The server answered a request to resume with the whole file: start again from zero."""

    def __init__(self, where: str, path: str) -> None:
        super().__init__(where, f"{path}: ignored Range and sent the whole file", Failure.BAD_ANSWER, transient=False)


class Busy(TransferError):
    """The server is busy for now (HTTP 503 or 429, as a crowded room answers) and says when to ask again."""

    def __init__(self, where: str, reason: str, retry_after: float) -> None:
        super().__init__(where, reason, Failure.UNREACHABLE)
        self.retry_after = retry_after


_hurried: ContextVar[bool] = ContextVar("hurried", default=False)


@contextlib.contextmanager
def hurried(others_waiting: bool) -> Iterator[None]:
    """While other mirrors wait their turn (fetch/download.py), a busy one is left at once, not waited for: it is
    asked again after them."""
    token = _hurried.set(others_waiting)
    try:
        yield
    finally:
        _hurried.reset(token)


BUSY_WAIT = (1.0, 60.0)  # the least and most seconds waited before asking a busy server again
MAX_BUSY = 60  # times one read asks a busy server again, at most


def retry_after(header: str | None) -> float | None:
    """The wait a 503 or 429 asks for (RFC 9110 10.2.3: seconds, or a date), within BUSY_WAIT; None without one."""
    value = (header or "").strip()
    seconds: float | None = None
    if value.isascii() and value.isdigit() and len(value) <= 9:
        seconds = float(value)
    elif value:
        with contextlib.suppress(TypeError, ValueError, IndexError, OverflowError):
            when = email.utils.parsedate_to_datetime(value)
            seconds = (when - datetime.now(when.tzinfo or UTC)).total_seconds()
    return None if seconds is None else min(max(seconds, BUSY_WAIT[0]), BUSY_WAIT[1])


class Mirror(Protocol):
    """A mirror as a reader sees it."""

    @property
    def label(self) -> str:
        """How the mirror is named in reports."""
        ...

    def read(self, path: str, limit: int) -> bytes:
        """A small file, at most `limit` bytes. Raises TransferError."""
        ...

    def download(self, path: str, part: Path, size: int, progress: Callable[[int], None] | None = None) -> bool:
        """Append to `part` from its length up to `size` bytes; whether it is complete. Raises TransferError
        (RangeIgnored: this mirror can only send the whole file)."""
        ...

    def read_tail(self, path: str, start: int, size: int) -> bytearray:
        """Bytes [start, size) of a file of `size` bytes: the end of a bundle, read before the rest arrives
        (fetch/early.py), in one buffer the caller owns (never copied: it may be tens of MiB). Raises
        TransferError."""
        ...


def append_to(part: Path) -> BinaryIO:
    """The partial download opened for appending; never through a link, and only if it is a regular file with no
    other name (a hard link to a file outside DEST).

    Raises:
        OSError: `part` is a link (ELOOP) or cannot be opened.
    """
    with contextlib.suppress(FileExistsError):  # removed when empty by a fetch into the same DEST that ended
        os.mkdir(part.parent)
    fd = os.open(part, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink > 1:  # a hard link would write outside DEST
            raise OSError(f"{part} is not a regular file of its own")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "ab")  # it owns `fd` once made: never closed twice (safeio._regular_file)


class FolderMirror:
    """A mirror copied onto a USB stick or a shared folder; a slow drive is checked between reads."""

    def __init__(self, root: Path, limits: Limits | None = None) -> None:
        self.root = root
        self.label = str(root)
        self.limits = limits or Limits()

    def _file(self, path: str) -> BinaryIO:
        """`path` opened for reading; a FIFO or device in the folder is refused before it is opened."""
        target = self.root.joinpath(*path.split("/"))
        if self.root.exists() and not self.root.is_dir():  # a bundle given as --mirror, say
            raise MissingFile(self.label, "this is a file, not a mirror folder (a bundle you have: mirror verify)")
        try:
            return open_regular(target)
        except (FileNotFoundError, NotADirectoryError):
            raise MissingFile(self.label, f"{path} is not there") from None
        except ConfigError:
            raise TransferError(self.label, f"{path} is not a regular file", Failure.BAD_ANSWER) from None

    def _unreadable(self, path: str, exc: OSError) -> TransferError:
        """A read of the mirror's file failed: the mirror's failure (another may do better)."""
        return TransferError(self.label, f"{path}: {exc.strerror or exc}", Failure.UNREACHABLE)

    def read(self, path: str, limit: int) -> bytes:
        """Read a small file."""
        with Watch(self.label, f"read {path}", self.limits):
            try:
                with self._file(path) as handle:
                    data = read_at_most(handle, limit + 1)
            except OSError as exc:
                raise self._unreadable(path, exc) from None
        if len(data) > limit:
            raise TransferError(self.label, f"{path} is larger than {limit} bytes", Failure.BAD_ANSWER)
        return data

    def download(self, path: str, part: Path, size: int, progress: Callable[[int], None] | None = None) -> bool:
        """Copy from the part's length on, never past `size`."""
        start = part.stat().st_size if part.exists() else 0
        received = 0
        # Only a failed read is the mirror's; a failed write (a full disk, DEST read-only) is the reader's and
        # goes up as it is: another mirror would fail the same way.
        with Watch(self.label, f"read {path}", self.limits) as watch:
            try:
                source = self._file(path)
            except OSError as exc:
                raise self._unreadable(path, exc) from None
            with source, append_to(part) as out:
                while start + received < size:
                    try:
                        if not received:
                            source.seek(start)
                        chunk = source.read(min(CHUNK, size - start - received))
                    except OSError as exc:
                        raise self._unreadable(path, exc) from None
                    if not chunk:
                        break
                    out.write(chunk)
                    received += len(chunk)
                    watch.count(len(chunk))
                    if progress is not None:
                        progress(len(chunk))
                    watch.check()
        return start + received == size

    def read_tail(self, path: str, start: int, size: int) -> bytearray:
        """Read bytes [start, size), a chunk at a time under the watch (a stalled drive ends it)."""
        data = bytearray(max(0, size - start))
        view, got = memoryview(data), 0
        with Watch(self.label, f"read {path} from byte {start:,}", self.limits) as watch:
            try:
                with self._file(path) as handle, view:
                    while got < len(data):
                        n = os.preadv(handle.fileno(), [view[got : got + CHUNK]], start + got)
                        if not n:
                            break
                        got += n
                        watch.count(n)
                        watch.check()
            except OSError as exc:
                raise self._unreadable(path, exc) from None
        if got != size - start:
            raise TransferError(self.label, f"{path} is not {size:,} bytes long", Failure.BAD_ANSWER)
        return data


_OTHER_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


class HttpMirror:
    """A mirror over HTTP(S), through a proxy if given; every request runs under a Watch."""

    def __init__(self, base: str, proxy: str | None = None, limits: Limits | None = None) -> None:
        self.base = base if base.endswith("/") else base + "/"
        parts = urlsplit(self.base)
        host = f"[{parts.hostname}]" if parts.hostname and ":" in parts.hostname else parts.hostname
        port = f":{parts.port}" if parts.port is not None else ""
        self.label = f"{parts.scheme}://{host}{port}{parts.path}"  # never the user name or password
        self.session = watched_session()
        self.session.trust_env = False  # only the proxy the reader named, never one from the environment
        self.session.headers["Accept-Encoding"] = "identity"  # byte ranges of the file as stored
        if proxy:
            self.session.proxies = {"http": proxy, "https": proxy}
        self.limits = limits or Limits()

    def _get(self, path: str, headers: dict[str, str], again: bool = True) -> requests.Response:
        """The GET itself. A server may close a kept-alive connection just as the next request goes out on it:
        then the GET is sent once more, on a new connection. Never after a new connection was dropped (that is
        the mirror's doing, or a censor's reset), and never after the watch cut it (budget, rate, interrupt)."""
        try:
            return self.session.get(urljoin(self.base, path), headers=headers, stream=True,
                                    timeout=self.limits.timeouts, allow_redirects=False)
        except requests.Timeout:
            raise TransferError(self.label, f"GET {path}: no answer within {self.limits.stall:g} s",
                                Failure.TIMEOUT) from None
        except requests.RequestException as exc:
            watch = current()
            if again and last_request_reused() and dropped(exc) and not timed_out(exc) \
                    and (watch is None or watch.error is None):
                return self._get(path, headers, again=False)
            name = type(exc).__name__
            if not_http(exc):  # still a mirror that cannot be used now: tried again later like an unreachable one
                raise TransferError(self.label, f"GET {path}: the answer is not HTTP ({name})", Failure.UNREACHABLE) \
                    from None
            if self.session.proxies:  # the proxy or the mirror: either may be the one that failed
                raise TransferError(self.label, f"cannot connect through the proxy ({name})", Failure.UNREACHABLE) \
                    from None
            raise TransferError(self.label, f"cannot connect ({name})", Failure.UNREACHABLE) from None

    def _request(self, path: str, headers: dict[str, str]) -> requests.Response:
        response = self._get(path, headers)
        if response.status_code == 404:
            response.close()
            raise MissingFile(self.label, f"{path} is not there (404)")
        wait = retry_after(response.headers.get("Retry-After")) if response.status_code in (429, 503) else None
        if wait is not None:  # busy, and says when to come back (a crowded room): asked again then, within budget
            response.close()
            raise Busy(self.label, f"{path}: busy (HTTP {response.status_code}); asked to try again in {wait:g} s",
                       wait)
        if response.status_code not in (200, 206):
            response.close()
            location = response.headers.get("Location") if 300 <= response.status_code < 400 else None
            if location:  # never followed: a mirror names its own files; where it points may say it moved
                named = _site(location)
                raise TransferError(self.label, f"{path}: HTTP {response.status_code}, a redirect to {named} "
                                                f"(not followed)", Failure.REFUSED)
            raise TransferError(self.label, f"{path}: HTTP {response.status_code}", Failure.REFUSED)
        return response

    def _patiently(self, call: Callable[[], T]) -> T:
        """`call`, asked again after the wait a busy server names, as long as the budget leaves time for it: the
        thread's phase budget if one is running, and this mirror's own budget (--budget) in any case, so that a
        server that is always busy never holds a read that runs outside a phase (a room's listing, a .torrent)."""
        ends = time.monotonic() + self.limits.budget
        for _ in range(MAX_BUSY):
            try:
                return call()
            except Busy as busy:
                if _hurried.get() or time.monotonic() + busy.retry_after >= ends or not pause(busy.retry_after):
                    raise
        return call()

    def read(self, path: str, limit: int) -> bytes:
        """GET a small file, reading at most limit + 1 bytes."""
        return self._patiently(lambda: self._read(path, limit))

    def _read(self, path: str, limit: int) -> bytes:
        with Watch(self.label, f"GET {path}", self.limits):
            response = self._request(path, {})
            try:
                data = read_capped(response.iter_content(CHUNK), limit, self.label, path)
                if is_web_page(data):  # an index, a signature, a listing or a .torrent never is: not "tampered"
                    note = WRONG_BODY_NOTE
                    raise TransferError(self.label, f"{path}: the answer is an HTML page ({note})",
                                        Failure.BAD_ANSWER)
                return data
            except requests.RequestException as exc:
                raise self._broke(path, exc) from None
            finally:
                response.close()

    def download(self, path: str, part: Path, size: int, progress: Callable[[int], None] | None = None) -> bool:
        """Resume with Range; accept only 206 with the right Content-Range; a 200 to a resume is RangeIgnored."""
        return self._patiently(lambda: self._download(path, part, size, progress))

    def _download(self, path: str, part: Path, size: int, progress: Callable[[int], None] | None) -> bool:
        start = part.stat().st_size if part.exists() else 0
        with Watch(self.label, f"GET {path}", self.limits):
            response = self._request(path, {"Range": f"bytes={start}-"} if start else {})
            try:
                if start and response.status_code == 200:
                    raise RangeIgnored(self.label, path)  # never append a whole body
                if start:
                    match = _RANGE.fullmatch(response.headers.get("Content-Range", ""))
                    if match is None or (int(match[1]), int(match[2]), int(match[3])) != (start, size - 1, size):
                        raise TransferError(self.label, f"{path}: wrong Content-Range for a resumed download",
                                            Failure.BAD_ANSWER)
                elif response.status_code == 206:
                    raise TransferError(self.label, f"{path}: partial answer to a full request", Failure.BAD_ANSWER)
                else:
                    _the_bundle(response, path, self.label)
                self._write(response, part, size - start, progress, start == 0)
            except requests.RequestException as exc:
                raise self._broke(path, exc) from None
            finally:
                response.close()
        return part.stat().st_size == size

    def read_tail(self, path: str, start: int, size: int) -> bytearray:
        """GET with Range from `start` to the end; only a 206 for exactly those bytes is read (never a whole body)."""
        return self._patiently(lambda: self._read_tail(path, start, size))

    def _read_tail(self, path: str, start: int, size: int) -> bytearray:
        data = bytearray(max(0, size - start))
        got = 0
        with Watch(self.label, f"GET {path} from byte {start:,}", self.limits):
            response = self._request(path, {"Range": f"bytes={start}-"})
            try:
                match = _RANGE.fullmatch(response.headers.get("Content-Range", ""))
                if response.status_code != 206 or match is None or \
                        (int(match[1]), int(match[2]), int(match[3])) != (start, size - 1, size):
                    raise TransferError(self.label, f"{path}: no partial answer for bytes {start:,} to the end",
                                        Failure.BAD_ANSWER)
                for chunk in response.iter_content(CHUNK):
                    n = min(len(chunk), len(data) - got)
                    data[got : got + n] = chunk[:n]
                    got += n
                    if got >= len(data):
                        break
            except requests.RequestException as exc:
                raise self._broke(path, exc) from None
            finally:
                response.close()
        if got != len(data):
            raise TransferError(self.label, f"GET {path}: the answer ended early", Failure.UNREACHABLE)
        return data

    def _broke(self, path: str, exc: requests.RequestException) -> TransferError:
        """The answer stopped: it stalled past the timeout, or the connection broke."""
        if timed_out(exc):
            return TransferError(self.label, f"GET {path}: nothing arrived for {self.limits.stall:g} s",
                                 Failure.TIMEOUT)
        if lines_without_end(exc):
            return TransferError(self.label, f"GET {path}: the answer's chunk-size or trailer lines do not end",
                                 Failure.BAD_ANSWER)
        if isinstance(exc, requests.exceptions.ContentDecodingError):
            return TransferError(self.label, f"GET {path}: the answer's Content-Encoding cannot be decoded",
                                 Failure.BAD_ANSWER)
        return TransferError(self.label, f"GET {path}: the connection broke", Failure.UNREACHABLE)

    def _write(self, response: requests.Response, part: Path, wanted: int, progress: Callable[[int], None] | None,
               first: bool) -> None:
        received = 0
        # A body cut short must keep what arrived: read until the server stops, then compare sizes.
        response.raw.enforce_content_length = False
        chunks = response.iter_content(CHUNK)
        if first:  # the start of a bundle is 7-Zip's signature: a page answered in its place is never kept
            note = WRONG_BODY_NOTE
            chunks = _starting_with(chunks, MAGIC, lambda: TransferError(
                self.label, f"{part.name}: the answer is not a 7z archive ({note})", Failure.BAD_ANSWER))
        with append_to(part) as out:
            for chunk in chunks:
                chunk = chunk[: wanted - received]  # never more than the signed size
                out.write(chunk)
                received += len(chunk)
                if progress is not None:
                    progress(len(chunk))
                if received >= wanted:
                    break


# What a 200 in place of a bundle usually is, where these readers are.
WRONG_BODY_NOTE = "a login, block or error page, most likely"
MAX_SHOWN_LOCATION = 200  # characters of a redirect's target said


def _site(location: str) -> str:
    """The scheme, host and port a redirect points to, without path or query: a censor's or a mirror's text is not
    passed on to the reader as a link to follow."""
    try:
        parts = urlsplit(location[:MAX_SHOWN_LOCATION])
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return "an address that cannot be read"
    shown = (f"[{host}]" if ":" in host else host) + (f":{port}" if port is not None else "")
    return printable(f"{parts.scheme}://{shown}" if parts.scheme and host else "another address")


def _the_bundle(response: requests.Response, path: str, label: str) -> None:
    """Refuse a whole answer that says it is an HTML page before a byte of it is kept (a captive portal's page,
    kept as the start of a .part, made every later window resume after it and the bundle fail at its end, to be
    fetched whole again). Any other answer must start as a 7z archive does (`_starting_with`); one of another
    length is read as usual (a copy cut short on a mirror still gives its first bytes).

    Raises:
        TransferError: a bad answer.
    """
    note = WRONG_BODY_NOTE
    kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if kind in ("text/html", "application/xhtml+xml"):
        raise TransferError(label, f"{path}: the answer is an HTML page, not the bundle ({note})",
                            Failure.BAD_ANSWER)


def _starting_with(chunks: Iterator[bytes], magic: bytes, wrong: Callable[[], TransferError]) -> Iterator[bytes]:
    """`chunks`, unchanged, once their first bytes are `magic` (a body that ends sooner yields nothing)."""
    head = b""
    for chunk in chunks:
        head += chunk
        if len(head) >= len(magic):
            break
    if head and not (head.startswith(magic) if len(head) >= len(magic) else magic.startswith(head)):
        raise wrong()
    if head:
        yield head
    yield from chunks


_HOST_PORT = re.compile(r"(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}/?")


def open_mirror(location: str, proxy: str | None = None, limits: Limits | None = None) -> Mirror:
    """A reader for an http(s) URL, a file:// URL, or a folder path.

    Raises:
        ConfigError: a URL that cannot be parsed (a bad port, an unclosed bracket).
    """
    try:
        if urlsplit(location.strip()).scheme.lower() in ("http", "https", "file"):
            location = location.strip()  # a URL pasted with a space or a line break after it (a folder: its own)
        split = urlsplit(location)
        scheme = split.scheme.lower()
        if scheme in ("http", "https") and not location.isprintable():
            raise ValueError(location)  # a line break or a control character inside it
        if scheme in ("http", "https"):
            if not split.hostname:  # "http://:80/", "http:///x"
                raise ValueError(location)
            return HttpMirror(location, proxy, limits)
    except ValueError:
        raise ConfigError(f"not a valid mirror URL: {shown_url(location)!r}") from None
    if scheme == "file":
        return FolderMirror(Path(unquote(urlsplit(location).path)), limits)
    if found := _OTHER_URL.match(location):  # ftp://, htps://: not a folder named "ftp:"
        raise ConfigError(f"cannot read a mirror at a URL that starts {found[0]}",
                          hint="a mirror is an http:// or https:// URL, a file:// URL or a folder")
    if not location.strip():
        raise ConfigError("an empty --mirror", hint="name a URL or a folder")
    if _HOST_PORT.fullmatch(location) and not os.path.lexists(location):  # 192.168.1.5:8470, a room's address
        raise ConfigError(f"{location} is neither a folder here nor a URL",
                          hint=f"a room or a web mirror is a URL: --mirror http://{location.rstrip('/')}/")
    return FolderMirror(Path(location), limits)
