"""HTTP connections that answer to the Watch of the thread using them (net/pace.py), for requests and urllib3.

Example::

    session = watched_session()            # HTTP mirrors and WebDAV hosts: every http(s) URL, any proxy
    with Watch(label, "GET index.json", limits):
        session.get(url, stream=True, timeout=limits.timeouts)

    pool = watched_pool(limits)            # S3 hosts: botocore's before-send event sends through it
    response = send(pool, "bucket", "PUT bundles/ab12.7z", "PUT", url, reader, headers)

Each connection attaches its socket to the thread's current watch when it connects and before each
request, so that the watchdog can shut it down while a read is blocked, even before the headers have
arrived (a peer that drips its status line is the first trick). Every response counts its bytes as
they come off the socket, headers included, and every request counts the bytes it sends, so the
minimum rate is judged mid-read, not between the library's (possibly large) reads.

No answer is read whole without a bound: a body is read streamed, through `read_capped`, at most the few bytes
what is made of it needs (STATUS_BODY when only the status counts), so a host that answers without end costs
a few KiB, never the memory of the machine.
"""

from __future__ import annotations

import http.client
import io
import socket
import threading
from collections.abc import Iterable
from http.cookiejar import DefaultCookiePolicy
from typing import TYPE_CHECKING, Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.contrib.socks import (
    SOCKSConnection,
    SOCKSHTTPConnectionPool,
    SOCKSHTTPSConnection,
    SOCKSHTTPSConnectionPool,
)

from mirror.errors import Failure, TransferError
from mirror.net.pace import Limits, Watch, attach, current
from mirror.net.pace import count as count_bytes

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

_sent = threading.local()  # per thread: whether the latest request went out on a kept-alive connection
SEND_BLOCK = 1 << 16  # bytes handed to the socket at a time, so that an upload's progress is seen
# A file body is read in blocks of this size (urllib3's default is 16 KiB: Python's work per block, reading,
# hashing and counting it, then set the pace of a local upload); each is still sent SEND_BLOCK at a time.
BODY_BLOCK = 1 << 20
MAX_INTERIM = 8  # `100 Continue` answers before the real one: a server sends one at most
# The body of an answer whose status is all that counts (a WebDAV MKCOL, PUT, MOVE or DELETE): servers send none, or
# a line of HTML. It is read, so that the connection can serve the next request, but no more than this.
STATUS_BODY = 4 << 10
# Bytes of lines in one answer (a status line and its headers, a chunked answer's chunk-size lines and trailers),
# less what its data earns back: http.client takes 100 headers of up to 64 KiB; no server sends more than a few KiB.
MAX_LINES_BYTES = 1 << 20
LINE_CREDIT = 4  # bytes of lines each byte of data read earns back (a chunk of 16 KiB: 64 KiB of lines)
_CRLF = b"\r\n"


class _CountingReader(io.RawIOBase):
    """The socket's reader, counting every byte that arrives for one watch."""

    def __init__(self, raw: io.RawIOBase, watch: Watch) -> None:
        super().__init__()
        self._raw = raw
        self._watch = watch

    def readable(self) -> bool:
        """Always true."""
        return True

    def readinto(self, buffer: WriteableBuffer) -> int | None:
        """One read from the socket, counted."""
        received = self._raw.readinto(buffer)
        if received:
            self._watch.count(received)
        return received

    def close(self) -> None:
        """Close the socket's reader too."""
        self._raw.close()
        super().close()


class LinesWithoutEnd(http.client.HTTPException):
    """More than MAX_LINES_BYTES of header, chunk-size or trailer lines in one answer, less what its data earned."""


class _LineBound(io.BufferedReader):
    """A buffered reader that refuses more than MAX_LINES_BYTES of lines, less what the reads between them earn.

    Headers are read line by line (http.client caps their count and length), and so are a chunked answer's
    chunk-size lines and its trailers, which urllib3 reads and discards without end after a complete body: a
    mirror that sent trailers without end held the reader for its whole budget at the line's full rate, and one
    that pads each chunk-size line with an extension to 64 KiB, for chunks of one byte, did the same. Every byte
    of data read earns LINE_CREDIT bytes of lines back, so that lines never cost more than a bounded share of an
    answer, however it is cut into chunks."""

    def __init__(self, raw: io.RawIOBase) -> None:
        super().__init__(raw)
        self._lined = 0

    def readline(self, size: int | None = -1) -> bytes:
        """One line, counted."""
        line = super().readline(size)
        self._lined += len(line)
        if self._lined > MAX_LINES_BYTES:
            raise LinesWithoutEnd(f"more than {MAX_LINES_BYTES} bytes of header, chunk-size or trailer lines")
        return line

    def read(self, size: int | None = -1) -> bytes:
        """Data, which earns lines back; the CRLF read after each chunk earns nothing (it would earn 8 for each
        chunk of one byte, more than its "1" line costs). A chunk of one or two bytes still earns its share, so
        an answer cut into the smallest chunks is read to its end."""
        data = super().read(size)
        if data != _CRLF:
            self._lined = max(0, self._lined - LINE_CREDIT * len(data))
        return data

    def readinto(self, buffer: WriteableBuffer) -> int:
        """Data, which earns lines back, as `read`."""
        received = super().readinto(buffer)
        if received != len(_CRLF) or bytes(memoryview(buffer)[:received]) != _CRLF:
            self._lined = max(0, self._lined - LINE_CREDIT * received)
        return received


class _CountingResponse(http.client.HTTPResponse):
    """http.client's response, reading through a counting reader when a watch is active.

    http.client skips any number of `100 Continue` answers before the real one: a peer that sends them without
    end would count as a fast transfer until the budget ran out. More than MAX_INTERIM is not HTTP."""

    def __init__(self, sock: socket.socket, debuglevel: int = 0, method: str | None = None,
                 url: str | None = None) -> None:
        super().__init__(sock, debuglevel, method, url)
        self._interim = 0
        watch = current()
        if watch is not None:  # nothing has been read yet: the original reader's buffer is empty
            original, self.fp = self.fp, _LineBound(_CountingReader(sock.makefile("rb", buffering=0), watch))
            original.close()  # the socket stays open: the new reader holds a reference to it


    def _read_status(self) -> tuple[str, int, str]:
        version, status, reason = super()._read_status()  # type: ignore[misc]
        if status == http.client.CONTINUE:
            self._interim += 1
            if self._interim > MAX_INTERIM:
                raise http.client.BadStatusLine(f"more than {MAX_INTERIM} '100 Continue' answers to one request")
        return version, status, reason


class _Watched(HTTPConnection):
    """Mixed into each urllib3 connection class: attach the socket, count what is sent and received."""

    response_class = _CountingResponse

    def _new_conn(self) -> socket.socket:
        """The socket, which the current watch may shut down from the moment it is connected: an HTTP proxy's
        answer to CONNECT and the TLS handshake come after, and a proxy that dripped its answer ran past --budget
        for good (helper-157). (A SOCKS proxy's handshake happens inside urllib3's: bounded by the timeout a
        read.)"""
        sock = super()._new_conn()
        attach(sock)
        return sock

    def _tunnel(self) -> None:
        """An HTTP proxy's CONNECT, failed if the watch cut it: http.client takes an answer the shut-down socket cut
        short for a whole one, and TLS then began on a closed socket (an SSLSocket left unclosed)."""
        super()._tunnel()
        watch = current()
        if watch is not None and watch.error is not None:
            raise ConnectionAbortedError("the proxy's answer to CONNECT was cut short")

    def connect(self) -> None:
        """Connect, then let the current watch shut the socket down."""
        super().connect()
        if self.sock is not None:
            attach(self.sock)

    def request(self, method: str, url: str, body: Any = None, headers: Any = None, **kwargs: Any) -> None:
        """Attach a reused connection's socket to the current watch, then send the request.

        urllib3 may connect before this call or (2.8 on) inside it: the socket itself tells whether it carried a
        request before, not a count kept across connects."""
        # This thread's latest request goes out on a connection used before, which the server may have closed.
        _sent.reused = self.sock is not None and self.sock is getattr(self, "_mirror_used", None)
        if self.sock is not None:
            attach(self.sock)
        try:
            super().request(method, url, body, headers, **kwargs)
        finally:
            self._mirror_used = self.sock  # the socket this request went out on, if it is still open

    def send(self, data: Any) -> None:
        """Send in blocks, counting each, so a slow reader on the other side shows as a slow upload."""
        if not isinstance(data, bytes | bytearray | memoryview):
            super().send(data)
            return
        view = memoryview(data)
        for offset in range(0, len(view), SEND_BLOCK):
            block = view[offset : offset + SEND_BLOCK]
            super().send(block)
            count_bytes(len(block))


class _WatchedHTTPS(_Watched, HTTPSConnection):
    pass


class _WatchedSOCKS(_Watched, SOCKSConnection):
    pass


class _WatchedSOCKSHTTPS(_Watched, SOCKSHTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _Watched


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPS


class _SOCKSPool(SOCKSHTTPConnectionPool):
    ConnectionCls = _WatchedSOCKS


class _SOCKSHTTPSPool(SOCKSHTTPSConnectionPool):
    ConnectionCls = _WatchedSOCKSHTTPS


POOLS: dict[str, type[HTTPConnectionPool]] = {"http": _HTTPPool, "https": _HTTPSPool}
SOCKS_POOLS: dict[str, type[HTTPConnectionPool]] = {"http": _SOCKSPool, "https": _SOCKSHTTPSPool}


class _WatchedAdapter(HTTPAdapter):
    """requests' adapter, with watched connections for direct, HTTP-proxied and SOCKS-proxied requests."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """The usual pool manager, with watched pools."""
        super().init_poolmanager(*args, **kwargs, blocksize=BODY_BLOCK)
        self.poolmanager.pool_classes_by_scheme = POOLS

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> urllib3.PoolManager:
        """The usual proxy manager, with watched pools."""
        manager: urllib3.PoolManager = super().proxy_manager_for(proxy, **kwargs, blocksize=BODY_BLOCK)
        manager.pool_classes_by_scheme = SOCKS_POOLS if proxy.lower().startswith("socks") else POOLS
        return manager


def _caused_by(exc: BaseException, kinds: tuple[type[BaseException], ...],
               but: tuple[type[BaseException], ...] = ()) -> bool:
    """Whether `exc`, or any error in its args, cause or context (libraries wrap socket errors in their own, and
    requests wraps those again), is one of `kinds` and none of `but`."""
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        error = todo.pop()
        if not isinstance(error, BaseException) or id(error) in seen:
            continue
        if isinstance(error, kinds) and not isinstance(error, but):
            return True
        seen.add(id(error))
        todo += [*error.args, error.__cause__, error.__context__]
    return False


def timed_out(exc: BaseException) -> bool:
    """Whether a library's error comes from a socket timeout (urllib3 wraps one that hits a send in
    ProtocolError, and requests wraps that in ConnectionError)."""
    # urllib3's NewConnectionError (refused, unreachable) is a TimeoutError by its class, never by its cause
    return _caused_by(exc, (TimeoutError, urllib3.exceptions.TimeoutError), (urllib3.exceptions.NewConnectionError,))


class _Session(requests.Session):
    """requests' session that never looks where a redirect points: requests parses a redirect's Location to prepare
    the next request even when it is not to follow it, and a mirror's `Location: http://[::1` raised ValueError
    there, out of the call. The caller reads Location itself, if at all."""

    def get_redirect_target(self, resp: requests.Response) -> None:
        """None: no redirect is ever prepared."""
        return None


def watched_session() -> requests.Session:
    """A requests session whose every http(s) request answers to the watch of the thread that sends it, that never
    prepares a redirect, and that keeps no cookies (one a host sets would come back with every later request of
    the run: a tag, and headers that grow with each answer)."""
    session = _Session()
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=()))
    for prefix in ("http://", "https://"):
        session.mount(prefix, _WatchedAdapter())
    return session


def watched_pool(limits: Limits) -> urllib3.PoolManager:
    """A urllib3 pool manager with watched connections, the stall time as timeouts, and no retries."""
    manager = urllib3.PoolManager(timeout=urllib3.Timeout(connect=limits.stall, read=limits.stall), retries=False)
    manager.pool_classes_by_scheme = POOLS
    return manager


def send(pool: urllib3.PoolManager, where: str, what: str, method: str, url: str, body: Any,
         headers: dict[str, str]) -> urllib3.BaseHTTPResponse:
    """One request through `pool`; the body of the answer is left unread. `what` names it in errors.

    Raises:
        TransferError: the connection failed, broke or timed out.
    """
    try:
        return pool.urlopen(method, url, body=body, headers=headers, redirect=False, retries=False,
                            preload_content=False, decode_content=False, assert_same_host=False)
    except urllib3.exceptions.HTTPError as exc:
        if timed_out(exc):
            raise TransferError(where, f"{what}: timed out", Failure.TIMEOUT) from exc
        raise TransferError(where, f"{what}: connection failed ({type(exc).__name__})", Failure.UNREACHABLE) from exc


def read_capped(chunks: Iterable[bytes], limit: int, where: str, what: str) -> bytes:
    """The body that `chunks` (a streamed answer's reads, of at most a block each) make, refusing more than `limit`
    bytes as soon as they arrive; `what` names the body in the error ("index.json", "the answer to PUT x").

    Raises:
        TransferError: more than `limit` bytes (BAD_ANSWER); the reads' own errors pass.
    """
    data = bytearray()
    for chunk in chunks:
        data += chunk
        if len(data) > limit:
            raise TransferError(where, f"{what} is larger than {limit} bytes", Failure.BAD_ANSWER)
    return bytes(data)


def read_answer(response: urllib3.BaseHTTPResponse, limit: int, where: str, what: str) -> bytes:
    """The whole body of an answer from `send`, at most `limit` bytes (read_capped), under the caller's watch; the
    connection goes back to the pool, closed unless the body was read to its end.

    Raises:
        TransferError: more than `limit` bytes, or the connection broke or timed out while reading.
    """
    try:
        return read_capped(response.stream(min(limit + 1, BODY_BLOCK)), limit, where, what)
    except urllib3.exceptions.HTTPError as exc:
        response.close()
        failure = Failure.TIMEOUT if timed_out(exc) else Failure.UNREACHABLE
        raise TransferError(where, f"{what}: connection lost while reading", failure) from exc
    except BaseException:
        response.close()  # a body not read to its end: the connection serves no other request
        raise
    finally:
        response.release_conn()


def last_request_reused() -> bool:
    """Whether this thread's latest request went out on a connection that had served a request before (one the
    server may have closed meanwhile), rather than on a new one."""
    return bool(getattr(_sent, "reused", False))


def not_http(exc: BaseException) -> bool:
    """Whether a library's error says the peer answered, but not in HTTP (a bad status line, a header line too
    long, too many headers), rather than that no connection was made or it was closed."""
    return _caused_by(exc, (http.client.HTTPException,)) and not _caused_by(exc, (http.client.RemoteDisconnected,))


def lines_without_end(exc: BaseException) -> bool:
    """Whether a library's error says the answer's lines went on past MAX_LINES_BYTES (`_LineBound`)."""
    return _caused_by(exc, (LinesWithoutEnd,))


def dropped(exc: BaseException) -> bool:
    """Whether a library's error says the peer closed or reset the connection (no refusal, no timeout): what a
    kept-alive connection that the server had just closed gives when it is used again."""
    return _caused_by(exc, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                            ConnectionAbortedError))
