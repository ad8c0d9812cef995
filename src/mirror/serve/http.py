"""The HTTP side of `mirror serve`: GET and HEAD of a fixed table of paths, bounded, with deadlines for slow clients.

Example::

    server = HttpServer(resolve, Limits())      # resolve(path, query, headers) -> Item | None
    bound = await server.start([("127.0.0.1", 8470)])
    ...
    await server.stop()

The only module that imports aiohttp, chosen because it is asyncio through and through:
a client that reads slowly costs a socket and a few bytes of state, never a thread, and
files go out with sendfile. What this module adds (limits.py holds the numbers, docs/resharing.md
explains them):
- connections are capped, in all and per client address; a connection has `idle`
  seconds to send its request headers, and again between requests;
- at most `max_transfers` files are sent at once, `per_client_transfers` to one address; a request waits at
  most `queue_wait` seconds for its turn, then gets 503 with Retry-After; while one waits, the slowest download
  under `slow_rate` (after `slow_after` seconds) is closed to give it its slot (it may resume with Range), and
  when connections are full, an idle one of the address that holds the most gives way to a new one: a few
  addresses that hold every slot at a trickle, or every connection idle, no longer lock the others out;
- a body goes out in pieces sized to about one second of the client's average speed (32 KiB
  to 2 MiB); a client that takes nothing for `window` seconds, or less than 2 * MIN_PIECE over
  the last two windows, is disconnected (with a reset, so that what the kernel holds for it is
  dropped): a stalled or trickling reader is cut off and never holds up the others; a download
  that was cut can be resumed with Range. What a client took is what its TCP acknowledged
  (Linux's tcpi_bytes_acked, looked at each second; it comes in steps, hence two windows for
  the rate and a second of grace), not what the kernel's buffers accepted: those take megabytes
  at once, so a piece sized while they filled can be far more than an honest slow phone takes
  in `window` seconds. Where the system does not say, each piece must be taken within `window`
  seconds;
- a request waits until the answers before it on its connection are taken (down to UNREAD bytes), at most
  `window` seconds: a client that pipelines requests and reads nothing is disconnected, not given memory;
- every response, aiohttp's own error answers included, carries SECURITY_HEADERS.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import re
import socket
import struct
import sys
import urllib.parse
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from aiohttp import web

from mirror.serve.candidates import Stamp
from mirror.serve.catalog import Item
from mirror.serve.headers import SECURITY_HEADERS, header_field
from mirror.serve.limits import MIN_PIECE, Limits, Pace, Stats, fitted
from mirror.serve.listen import listen
from mirror.serve.ranges import Span, span_for

if TYPE_CHECKING:
    from multidict import CIMultiDictProxy

Resolve = Callable[[str, Mapping[str, str], Mapping[str, str]], Item | None]
DATA_PIECE = 64 << 10
UNREAD = 256 << 10  # answers a connection may leave unread before its next request waits for them to go
_LOOK = 0.02  # seconds between looks at a connection whose answers wait
_PROGRESS_EVERY = 1.0  # seconds between looks at what a download's client acknowledged
_DRAIN_LOOK = 5.0  # seconds a connection closed with answers unsent has to show its client reads them
# Linux's (Android's too): other systems that have TCP_INFO lay out another struct
_TCP_INFO = getattr(socket, "TCP_INFO", None) if sys.platform in ("linux", "android") else None
# struct tcp_info's tcpi_bytes_acked (Linux 4.1 and later): after 8 one-byte fields, 24 four-byte ones and two
# eight-byte ones; shorter answers come from older kernels, which do not count it.
_BYTES_ACKED = struct.Struct("=Q")
_BYTES_ACKED_AT = 120
_LINGER_NOT = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() resets the connection


class _TooSlow(Exception):
    """The client took too little of the body in `window` seconds."""


class _Shrunk(Exception):
    """The file ended before the bytes promised in Content-Length, or changed: cut, replaced or rewritten while
    being sent."""


class _Drain:
    """What a closed connection's client took since the close (what its TCP acknowledged, at each look)."""

    __slots__ = ("looks", "moved", "started", "window")

    def __init__(self, now: float, acked: int | None, window: float) -> None:
        self.started = self.moved = now
        self.window = window
        self.looks: deque[tuple[float, int | None]] = deque([(now, acked)], maxlen=int(2 * window / _DRAIN_LOOK) + 2)

    def stalled(self, now: float, acked: int | None) -> bool:
        """Whether the client took nothing for `window` seconds, or less than 2 * MIN_PIECE over the last two
        windows; where the system does not say, whether `window` seconds have passed."""
        last = self.looks[-1][1]
        if acked is None or last is None:
            return now - self.started >= self.window
        if acked > last:
            self.moved = now
        then = next((taken for at, taken in reversed(self.looks) if at <= now - 2 * self.window), None)
        self.looks.append((now, acked))
        return now - self.moved >= self.window or (then is not None and acked - then < 2 * MIN_PIECE)


class _Protocol(web.RequestHandler):
    """aiohttp's connection handler; its own error answers (bad requests) carry the security headers too.

    A connection closed while answers for it are still unsent (idle after pipelining requests it never reads,
    closed to make room, or after an answer with `Connection: close` that it does not read) is not simply closed.
    Closed, asyncio would wait without end for its own buffer to drain, holding the connection's place in the caps
    (256 such connections from 8 addresses locked every reader out), and the kernel would keep what it holds as an
    orphan for minutes, outside every cap. Every close, aiohttp's own included, goes through `_close_when_sent`:
    such a connection is left open and looked at every `_DRAIN_LOOK` seconds. It is closed once nothing is left to
    send, and reset (what is unsent dropped) by the rule a body's client is held to: once it takes nothing for
    `window` seconds, or less than 2 * MIN_PIECE over the last two windows (where the system does not say what was
    taken, once `window` seconds have passed). Meanwhile it keeps its place in the caps.
    """

    _stopping = False  # the server stops: every connection is closed now, none left for later
    deferred: tuple[asyncio.Transport, asyncio.TimerHandle] | None = None  # closed, its next look still to come
    window = 30.0  # the room's Limits.window, set by the server

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """aiohttp's; the transport's close goes through `_close_when_sent` (aiohttp closes it itself after some
        answers)."""
        super().connection_made(transport)
        if isinstance(transport, asyncio.Transport):
            plain = transport.close
            transport.close = lambda: self._close_when_sent(transport, plain)  # type: ignore[method-assign]

    def force_close(self) -> None:
        """aiohttp's; a connection already closed and still sending its answers (chosen to give way when the caps
        are full) is reset now: closed again, it would go on sending."""
        if self.deferred is not None:
            transport, look = self.deferred
            self.deferred = None
            look.cancel()
            _reset(transport)
        super().force_close()

    async def shutdown(self, timeout: float | None = 15.0) -> None:
        """aiohttp's, when the server stops; a connection whose close was deferred is reset now."""
        self._stopping = True
        if self.deferred is not None:
            transport, look = self.deferred
            look.cancel()
            _reset(transport)
        await super().shutdown(timeout)

    def _close_when_sent(self, transport: asyncio.Transport, plain: Callable[[], None]) -> None:
        """Close now if nothing is left to send (or the server stops), else look again in `_DRAIN_LOOK` seconds."""
        if self.deferred is not None or transport.is_closing():
            return  # a look is due, and decides
        if self._stopping or not (_unsent(transport) or transport.get_write_buffer_size()):
            plain()
            return
        self._look_later(transport, plain, _Drain(asyncio.get_running_loop().time(), _acked(transport), self.window))

    def _look_later(self, transport: asyncio.Transport, plain: Callable[[], None], drain: _Drain) -> None:
        look = asyncio.get_running_loop().call_later(_DRAIN_LOOK, self._look, transport, plain, drain)
        self.deferred = (transport, look)

    def _look(self, transport: asyncio.Transport, plain: Callable[[], None], drain: _Drain) -> None:
        """Close if all was taken; reset a client that takes too little; else look again."""
        self.deferred = None
        if transport.is_closing():
            return
        if not (_unsent(transport) or transport.get_write_buffer_size()):
            plain()
        elif drain.stalled(asyncio.get_running_loop().time(), _acked(transport)):
            _reset(transport)
        else:
            self._look_later(transport, plain, drain)

    def handle_error(self, request: web.BaseRequest, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        """aiohttp's answer, with our headers."""
        response = super().handle_error(request, status, exc, message)
        response.headers.update(SECURITY_HEADERS)
        return response


# What one request's header may hold: a phone's browser sends about ten lines of a few hundred bytes. 32 lines of
# 4 KiB (128 KiB) at most, so that 256 connections that never finish their header hold 32 MiB, not 128.
MAX_FIELD, MAX_HEADERS = 4096, 32
RESCAN_RETRY = 3  # seconds a client is asked to wait when a file changed under the room: it looks at the folder again


class _Server(web.Server):
    """aiohttp's low-level server with caps on connections, in all and per client address. `busy` holds the
    connections answering a request; the others are idle (between requests, or not yet sending one)."""

    def __init__(self, handler: Any, limits: Limits, stats: Stats, busy: set[object], **options: Any) -> None:
        super().__init__(handler, **options)
        self._options = options
        self._limits = limits
        self._stats = stats
        self._busy = busy
        self._clients: Counter[str] = Counter()
        self._client_of: dict[web.RequestHandler, str] = {}
        self._giving_way: set[web.RequestHandler] = set()  # chosen to close, until their connection is lost

    def __call__(self) -> web.RequestHandler:
        handler = _Protocol(self, loop=asyncio.get_running_loop(), **self._options)
        handler.window = self._limits.window
        return handler

    def connection_made(self, handler: web.RequestHandler, transport: asyncio.Transport) -> None:
        super().connection_made(handler, transport)
        client = _client(transport)
        self._client_of[handler] = client
        self._clients[client] += 1
        if self._clients[client] > self._limits.per_client:
            refused: web.RequestHandler | None = handler
        elif len(self._client_of) > self._limits.max_connections:
            refused = self._idle_of_the_most(client)
            if refused is not handler:
                self._stats.gave_way += 1
        else:
            return
        if refused is handler:
            self._stats.refused_connections += 1
        if refused is not None:
            self._giving_way.add(refused)  # at once: newcomers in the same turn of the loop choose another
            asyncio.get_running_loop().call_soon(refused.force_close)  # once aiohttp has set the handler up

    def _idle_of_the_most(self, newcomer: str) -> web.RequestHandler | None:
        """An idle connection of the address holding the most connections (the oldest first), if it holds more
        than the newcomer would: it gives way. Else the new connection itself is refused."""
        idle: dict[str, web.RequestHandler] = {}
        for handler, client in self._client_of.items():  # in the order they came
            # one chosen already frees nothing more; one closed and still sending its answers may give way (it is
            # reset): a client that takes them at the slowest rate allowed would otherwise hold its place for long
            if client not in idle and handler not in self._busy and handler not in self._giving_way:
                idle[client] = handler
        ranked = sorted(idle, key=lambda c: self._clients[c], reverse=True)
        if ranked and self._clients[ranked[0]] > self._clients[newcomer]:
            return idle[ranked[0]]
        return next(h for h, c in reversed(self._client_of.items()) if c == newcomer)

    def connection_lost(self, handler: web.RequestHandler, exc: BaseException | None = None) -> None:
        super().connection_lost(handler, exc)
        self._giving_way.discard(handler)
        client = self._client_of.pop(handler, None)
        if client is not None:
            self._clients[client] -= 1
            if self._clients[client] <= 0:
                del self._clients[client]


def _reset(transport: asyncio.Transport | None) -> None:
    """Close the connection at once with a reset: what the kernel still holds for the client (megabytes of a body)
    is dropped, not sent on after the cut, and the client learns of the cut at once."""
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_NOT)
    transport.abort()


def _unsent(transport: asyncio.BaseTransport) -> int:
    """Bytes of this connection in the kernel's send queue (not yet sent, or not yet acknowledged); 0 when unknown."""
    try:
        import fcntl
        import termios
    except ImportError:  # not a POSIX system
        return 0
    sock = transport.get_extra_info("socket")
    if sock is None or not hasattr(termios, "TIOCOUTQ"):
        return 0
    try:
        queued = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
    except (OSError, ValueError):
        return 0
    value: int = struct.unpack("i", queued)[0]
    return value


def _acked(transport: asyncio.BaseTransport | None) -> int | None:
    """The bytes of this connection the client's TCP acknowledged so far, or None where the system does not say."""
    sock = transport.get_extra_info("socket") if transport is not None and _TCP_INFO is not None else None
    if sock is None:
        return None
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, _TCP_INFO, 256)
    except OSError:
        return None
    if len(info) < _BYTES_ACKED_AT + _BYTES_ACKED.size:
        return None
    acked: int = _BYTES_ACKED.unpack_from(info, _BYTES_ACKED_AT)[0]
    return acked


class _Download:
    """A file being sent: to whom, and how much the client had taken when (what its TCP acknowledged, each
    second; where the system does not say, each piece it took)."""

    __slots__ = ("acked", "client", "deadline", "gave_way", "looking", "moved", "progress", "sent", "start", "task",
                 "transport")

    def __init__(self, client: str, start: float, transport: asyncio.Transport | None) -> None:
        self.client, self.transport, self.sent = client, transport, 0
        self.task, self.gave_way = asyncio.current_task(), False
        self.progress: deque[tuple[float, int]] = deque([(start, 0)], maxlen=128)
        self.start = self.moved = start  # when it began, and when the client last took anything
        self.acked = _acked(transport)  # where the count starts; None: pieces count instead
        self.deadline: asyncio.Timeout | None = None  # the piece in flight's
        self.looking: asyncio.TimerHandle | None = None

    def took(self, now: float, sent: int) -> None:
        """The client took the bytes up to `sent`."""
        if sent > self.sent:
            self.moved = now
        self.sent = sent
        self.progress.append((now, sent))

    def rate(self, now: float, over: float) -> float | None:
        """Bytes a second taken over the last `over` seconds; None when the counts known do not reach that far
        back (a young download, or one so fast that its last 128 pieces took less)."""
        then = next(((t, sent) for t, sent in reversed(self.progress) if t <= now - over), None)
        return None if then is None else (self.sent - then[1]) / (now - then[0])

    def since(self, amount: int) -> float | None:
        """The latest time known since which the client took at least `amount` bytes, or None."""
        return next((t for t, sent in reversed(self.progress) if self.sent - sent >= amount), None)


def _client(transport: asyncio.BaseTransport | None) -> str:
    """The client's address, as the connection caps count it."""
    peer = transport.get_extra_info("peername") if transport is not None else None
    return str(peer[0]) if isinstance(peer, tuple) and peer else "?"


def disposition(name: str) -> str:
    """Content-Disposition for saving a file as `name` (RFC 6266): the name in UTF-8 for browsers that read
    filename* (all current ones), and its ASCII letters, digits and dashes for those that do not."""
    plain = re.sub(r"[^A-Za-z0-9._-]+", "", name).strip("-.")
    plain = plain if plain.endswith(".7z") and len(plain) > 3 else "bundle.7z"
    if plain == name:
        return f'attachment; filename="{name}"'
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{urllib.parse.quote(name, safe='')}"


def _headers(item: Item, span: Span) -> dict[str, str]:
    headers = {**SECURITY_HEADERS, "Content-Type": item.content_type, "ETag": item.etag, "Accept-Ranges": "bytes",
               "Cache-Control": "public, max-age=31536000, immutable" if item.immutable else "no-cache"}
    if item.filename is not None:
        headers["Content-Disposition"] = disposition(item.filename)
    if span.partial:
        headers["Content-Range"] = span.content_range(item.size)
    return headers


def _tags(header: str) -> set[str]:
    """The entity tags of an If-Match or If-None-Match header, weak ones as their strong form."""
    return {tag.strip().removeprefix("W/") for tag in header.split(",")[:64]}


def _precondition(headers: CIMultiDictProxy[str], etag: str) -> int | None:
    """RFC 9110 13.2.2 for GET and HEAD: 412 when If-Match names none of this file's tag (strong comparison; our
    tags are strong), 304 when If-None-Match names it (weak comparison) or is "*"; else None."""
    if_match = header_field(headers, "If-Match")
    if if_match is not None and not ({"*", etag} & {tag.strip() for tag in if_match.split(",")[:64]}):
        return 412
    if_none = header_field(headers, "If-None-Match")
    if if_none is not None and {"*", etag} & _tags(if_none):
        return 304
    return None


def own_host(host: str) -> bool:
    """Whether a request's Host names this room as its readers reach it: an address (what its QR codes and
    printed URLs give) or localhost. A web page elsewhere that points its own name at 127.0.0.1 or a LAN address
    (DNS rebinding) sends that name, and must not read what this person holds; a .local name could be answered by
    anyone on the network. Not this machine's own mDNS name (HOSTNAME.local) either: the room announces a random
    one because a machine's name often names its owner, and answering to it would confirm a guess of it."""
    name = host.strip().lower()
    if name.startswith("["):  # [::1]:8470
        name = name[1:].partition("]")[0]
    elif name.count(":") == 1:
        name, _, port = name.partition(":")
        if not (port.isascii() and port.isdigit()):
            return False
    name = name.rstrip(".")
    if name == "localhost":
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _origin_path(target: str) -> str:
    """The path of a request target without its query; of an absolute-form target ("http://host:port/path", which
    RFC 9112 3.2.2 says a server must accept) too. The host it names is not looked at: the room is one site."""
    lower = target[:8].lower()
    if lower.startswith(("http://", "https://")):
        after = target[lower.index("//") + 2:]
        target = after[after.index("/"):] if "/" in after else "/"
    return _UNRESERVED.sub(lambda m: chr(int(m[1], 16)), target.split("?", 1)[0])


# Escapes of letters, digits and -._~, which mean the same as the character itself (RFC 3986 6.2.2.2): a client
# may send "/%6Cisting.json". Others (%2F, %00, %20...) stay escaped, so they never name a file of the room.
_UNRESERVED = re.compile(r"%(3[0-9]|4[1-9a-fA-F]|5[0-9aA]|6[1-9a-fA-F]|7[0-9aA]|2[dDeE]|5[fF]|7[eE])")


def _plain(status: int, extra: Mapping[str, str] | None = None) -> web.Response:
    text = {404: "not found\n", 405: "only GET and HEAD\n", 412: "precondition failed\n",
            421: "Open this room by its address (the one it printed, or its QR code), not by a name.\n"
                 "Откройте эту комнату по её адресу (который она напечатала или даёт QR-код), а не по имени.\n"
                 "Бұл бөлмені атауы арқылы емес, мекенжайы арқылы ашыңыз (ол басып шығарған немесе QR-код "
                 "беретін).\n",
            416: "range not satisfiable\n", 503: "busy, try again in a few seconds\n",
            505: "HTTP/1.1 only\n"}.get(status, "error\n")
    return web.Response(status=status, text=text, headers={**SECURITY_HEADERS, **(extra or {})})


def _open(source: Path, stamp: Stamp | None) -> BinaryIO | None:
    """The file, if it is still the file that was checked (same device, inode, size and time)."""
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    handle = os.fdopen(fd, "rb", buffering=0)
    if Stamp.of(os.fstat(fd)) != stamp:
        handle.close()
        return None
    return handle


def _unchanged(item: Item) -> bool:
    """Whether the item's file is still the one checked, by its stamp (no file is opened: `_open` checks it again
    once a slot is free)."""
    if item.source is None:
        return False
    try:
        return Stamp.of(os.stat(item.source, follow_symlinks=False)) == item.stamp
    except OSError:
        return False


class HttpServer:
    """Serves whatever `resolve` returns for a path; nothing else."""

    def __init__(self, resolve: Resolve, limits: Limits, on_stale: Callable[[], None] = lambda: None) -> None:
        self.resolve = resolve
        self.limits = fitted(limits)
        self.on_stale = on_stale
        self.stats = Stats()
        self._slots = asyncio.Semaphore(self.limits.max_transfers)
        self._runner: web.ServerRunner | None = None
        self._busy: set[object] = set()  # connections answering a request
        self._downloads: dict[_Download, None] = {}  # the files being sent, in the order they started
        self._per_client: Counter[str] = Counter()  # downloads sent or waiting, by client address

    async def start(self, binds: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
        """Listen on each (address, port); return the addresses and ports bound (port 0 picks a free one).

        Raises:
            ConfigError: the port is taken or the address is not this machine's.
        """
        for name in ("aiohttp", "asyncio"):  # the library never prints: no last-resort tracebacks on stderr
            logging.getLogger(name).addHandler(logging.NullHandler())
        server = _Server(self._handle, self.limits, self.stats, self._busy, keepalive_timeout=self.limits.idle,
                         access_log=None, max_line_size=4096, max_field_size=MAX_FIELD, max_headers=MAX_HEADERS)
        self._runner = web.ServerRunner(server, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        bound = []
        try:
            for host, port in binds:
                sock = listen(host, port)
                bound.append((host, int(sock.getsockname()[1])))
                await web.SockSite(self._runner, sock).start()
        except BaseException:
            await self.stop()
            raise
        return bound

    async def stop(self) -> None:
        """Close every connection and stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        self.stats.requests += 1
        if not await self._caught_up(request):  # answers pile up unread: pipelined requests and no reading
            return self._cut(request)
        self._busy.add(request.protocol)  # being answered; one whose answers wait unread counts as idle
        try:
            return await self._answered(request)
        finally:
            self._busy.discard(request.protocol)

    async def _answered(self, request: web.BaseRequest) -> web.StreamResponse:
        response = await self._answer(request)
        if not response.prepared:  # an answer whole in memory (an error): sent here, within the window
            try:
                async with asyncio.timeout(self.limits.window):
                    await response.prepare(request)
                    await response.write_eof()
            except TimeoutError:
                return self._cut(request)
            except ConnectionError:
                pass  # the client went away
        return response

    def _cut(self, request: web.BaseRequest) -> web.StreamResponse:
        """Disconnect a client that does not take its answers."""
        self.stats.too_slow += 1
        _reset(request.transport)
        return _plain(503)

    async def _answer(self, request: web.BaseRequest) -> web.StreamResponse:
        target = request.raw_path
        self.stats.paths.append(target[:200])
        if request.version.major != 1:  # "GET / HTTP/2.0" in plain text: no HTTP/1 client sends it
            return _plain(505)
        if request.method not in ("GET", "HEAD"):
            return _plain(405, {"Allow": "GET, HEAD"})
        host = request.headers.get("Host")
        if host is not None and not own_host(host):
            return _plain(421)
        path = _origin_path(target)
        item = self.resolve(path[1:], request.query, request.headers) if path.startswith("/") else None
        if item is None:
            return _plain(404)
        extra = {"Vary": "Accept-Language"} if path == "/" else {}  # the page is in the reader's language
        condition = _precondition(request.headers, item.etag)
        if condition == 412:
            return _plain(412, extra)
        if condition == 304:
            return web.Response(status=304, headers={**_headers(item, Span(0, item.size, False)), **extra})
        span = span_for(request.headers.get("Range"), request.headers.get("If-Range"), item.etag, item.size)
        if span is None:
            return _plain(416, {"Content-Range": f"bytes */{item.size}", **extra})
        response = web.StreamResponse(status=206 if span.partial else 200, headers={**_headers(item, span), **extra})
        response.content_length = span.length
        if item.data is not None:
            await response.prepare(request)
            if request.method == "GET":
                await self._send_data(request, response, memoryview(item.data)[span.start:span.end])
            return response
        return await self._send_file(request, response, item, span)

    async def _send_file(self, request: web.BaseRequest, response: web.StreamResponse, item: Item,
                         span: Span) -> web.StreamResponse:
        if not _unchanged(item):  # said at once, not after waiting for a slot (helper-170)
            self.on_stale()
            return _plain(503, {"Retry-After": str(RESCAN_RETRY)})
        if request.method == "HEAD":
            await response.prepare(request)
            return response
        client = _client(request.transport)
        if self._per_client[client] >= self.limits.per_client_transfers:
            self.stats.busy += 1
            return _plain(503, {"Retry-After": "5"})
        self._per_client[client] += 1
        try:
            return await self._send_in_turn(request, response, item, span, client)
        finally:
            self._per_client[client] -= 1
            if self._per_client[client] <= 0:
                del self._per_client[client]

    def _opened(self, item: Item) -> BinaryIO | None:
        """The item's file, if it is still the one checked; else None, and the folder is looked at again (a copy
        replaced by an identical one is offered again; one gone is then a 404)."""
        handle = _open(item.source, item.stamp) if item.source is not None else None
        if handle is None:
            self.on_stale()
        return handle

    async def _send_in_turn(self, request: web.BaseRequest, response: web.StreamResponse, item: Item,
                            span: Span, client: str) -> web.StreamResponse:
        """Sends once a transfer slot is free. The file is opened only then: a request that waits holds its
        connection and no file (helper-157: under a low limit of open files, the waiting ones' files were more
        than `fitted` counted)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.limits.queue_wait
        while True:  # a download may turn slow while this one waits: looked at again each second
            if self._slots.locked():
                self._give_way()
            try:
                async with asyncio.timeout(max(0.0, min(1.0, deadline - loop.time()))):
                    await self._slots.acquire()
                break
            except TimeoutError:
                if loop.time() >= deadline:
                    self.stats.busy += 1
                    return _plain(503, {"Retry-After": "5"})
        handle = self._opened(item)
        if handle is None:
            self._slots.release()
            return _plain(503, {"Retry-After": str(RESCAN_RETRY)})
        with handle:
            return await self._send_held(request, response, handle, span, client, item.stamp)

    async def _send_held(self, request: web.BaseRequest, response: web.StreamResponse, handle: BinaryIO,
                         span: Span, client: str, stamp: Stamp | None) -> web.StreamResponse:
        """Sends `span` of the open file in the slot taken (released here)."""
        loop = asyncio.get_running_loop()
        download = _Download(client, loop.time(), request.transport)
        self._downloads[download] = None
        if download.acked is not None:
            download.looking = loop.call_later(_PROGRESS_EVERY, self._look, download)
        try:
            try:
                await response.prepare(request)
                await self._pieces(request, handle, span, download, stamp)
            except asyncio.CancelledError:
                if not download.gave_way or download.task is None:
                    raise
                download.task.uncancel()
                _reset(request.transport)
            except _TooSlow:
                self.stats.too_slow += 1
                _reset(request.transport)
            except _Shrunk:  # the client must see the body end short at once, not wait for bytes that never come
                self.on_stale()
                _reset(request.transport)
            except ConnectionError:
                pass  # the client went away, or gave way; finish_response sees the closed transport
        finally:
            if download.looking is not None:
                download.looking.cancel()
            self._downloads.pop(download, None)
            self._slots.release()
        return response

    def _look(self, download: _Download) -> None:
        """Once a second while a file is sent: what the client's TCP acknowledged is what it took. The piece in
        flight may wait while the client took something in the last `window` seconds and 2 * MIN_PIECE in the
        last 2 * `window` (one look more: a receiver acknowledges in steps of tens of KiB, not as its reader
        reads, so the rate is judged over two windows; a client that takes nothing is still cut after one)."""
        acked = _acked(download.transport)
        if acked is None or download.acked is None:
            return  # the connection is gone
        loop = asyncio.get_running_loop()
        now, taken = loop.time(), max(0, acked - download.acked)
        download.took(now, taken)
        window, deadline = self.limits.window, download.deadline
        since = download.since(2 * MIN_PIECE)
        since = download.start if since is None else since
        when = deadline.when() if deadline is not None and not deadline.expired() else None
        if deadline is not None and when is not None:
            latest = min(download.moved + window, since + 2 * window) + _PROGRESS_EVERY
            deadline.reschedule(max(when, latest))
        download.looking = loop.call_later(_PROGRESS_EVERY, self._look, download)

    def _give_way(self) -> None:
        """Every slot is taken and a request waits: close the download that took the least over its last
        `slow_after` seconds, if that is under `slow_rate` (of those alike, one of the address holding the most
        downloads, the newest), so that its slot goes to the one that waits; it may resume with Range. A client
        that stopped reading once the kernel's buffers were full counts as taking nothing, however young."""
        now = asyncio.get_running_loop().time()
        rates = ((d.rate(now, self.limits.slow_after), d) for d in self._downloads)
        slow = [(rate, d) for rate, d in rates if rate is not None and rate < self.limits.slow_rate]
        if not slow:
            return
        held = Counter(d.client for d in self._downloads)  # among the slowest, the address holding the most
        _, victim = min(slow, key=lambda pair: (pair[0], -held[pair[1].client], -pair[1].progress[0][0]))
        self._downloads.pop(victim, None)
        self.stats.gave_way += 1
        victim.gave_way = True
        if victim.task is not None:  # its sendfile may wait for a socket that never drains: stop it there
            victim.task.cancel()

    async def _caught_up(self, request: web.BaseRequest) -> bool:
        """Whether the client took the answers before this one, down to UNREAD bytes, within `window` seconds.

        A small answer (the index, the page, an error) is queued whole without waiting for the client; one that
        sends request after request on a connection and reads none would pile them up in memory without end."""
        transport = request.transport
        try:
            async with asyncio.timeout(self.limits.window):
                while transport is not None and not transport.is_closing() \
                        and transport.get_write_buffer_size() > UNREAD:
                    await asyncio.sleep(_LOOK)
        except TimeoutError:
            return False
        return True

    async def _pieces(self, request: web.BaseRequest, handle: BinaryIO, span: Span, download: _Download,
                      stamp: Stamp | None) -> None:
        """Send the span a piece at a time. After each piece the open file must still be the one checked: a bundle
        copied over in place (the same inode, written again) would otherwise go out spliced, old bytes then new,
        as a whole 200 with the old ETag."""
        loop = asyncio.get_running_loop()
        pace = Pace(loop.time())
        done = 0
        while done < span.length:
            transport = request.transport
            if transport is None:
                raise ConnectionResetError("the client went away")
            piece = min(pace.piece, span.length - done)
            try:
                async with asyncio.timeout(self.limits.window) as deadline:  # later while the client takes more
                    download.deadline = deadline
                    sent = await loop.sendfile(transport, handle, span.start + done, piece)
            except TimeoutError:
                raise _TooSlow from None
            finally:
                download.deadline = None
            if sent < piece or Stamp.of(os.fstat(handle.fileno())) != stamp:
                raise _Shrunk
            done += piece
            if download.acked is None:  # what the client took is not known: the pieces its socket took count
                download.took(loop.time(), done)
            self.stats.bytes_sent += piece
            pace.next_piece(loop.time(), done)

    async def _send_data(self, request: web.BaseRequest, response: web.StreamResponse, body: memoryview) -> None:
        try:
            for offset in range(0, len(body), DATA_PIECE):
                async with asyncio.timeout(self.limits.window):
                    await response.write(body[offset : offset + DATA_PIECE])
                self.stats.bytes_sent += min(DATA_PIECE, len(body) - offset)
        except TimeoutError:
            self.stats.too_slow += 1
            _reset(request.transport)
        except ConnectionError:
            pass

