"""`mirror serve`: a folder of bundles for the people in the room, until Ctrl-C.

Example::

    serve_room(RoomRequest(Path("incoming"), lan=True), log=print, started=lambda room: print(room.urls))

    room = RoomThread(RoomRequest(folder, port=0), log)     # in tests: the same server on a thread
    room.urls                                               # ("http://127.0.0.1:41234/",)
    room.close()

Bound to 127.0.0.1 unless the user says `--lan`: then to every IPv4 interface, and
announced over mDNS. The folder is looked at again every few seconds; a bundle added
to it is verified and offered, a removed one disappears. See docs/resharing.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import signal
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

from mirror.errors import ConfigError
from mirror.formats.announce import peer_url, txt_record
from mirror.record import field, record
from mirror.serve.announce import Announcement, lan_addresses
from mirror.serve.catalog import Catalog, Item, folder_state, scan_folder
from mirror.serve.headers import header_field
from mirror.serve.http import HttpServer
from mirror.serve.limits import Limits, Stats
from mirror.serve.listen import check_port
from mirror.serve.page import render_page
from mirror.serve.words import pick_language
from mirror.trust.fingerprint import qr_png
from mirror.trust.keyset import TrustedKeys

Log = Callable[[str], None]
DEFAULT_PORT = 8470
RESCAN_EVERY = 2.0
UNSETTLED_AT_MOST = 15  # rounds a folder that keeps changing waits to be looked at again (30 s)
WATCH_SHARE = 3  # the pause between two looks at the folder, at least, in times the last look took


@record
class RoomRequest:
    """What to serve, where."""

    folder: Path
    lan: bool = False
    port: int = DEFAULT_PORT
    limits: Limits = field(default_factory=Limits)
    announce: bool = True  # with --lan: announce over mDNS
    keys: TrustedKeys | None = None  # the room's keyring: whose bundles a full room offers first


@dataclasses.dataclass(slots=True)
class Room:
    """A room while it is open: where readers find it, what it offers, what it did."""

    urls: tuple[str, ...]
    catalog: Catalog
    stats: Stats
    lan: bool = False
    announced_as: str | None = None
    stale: bool = False  # a file changed under the server: look at the folder again
    _pages: dict[str, Item] = dataclasses.field(default_factory=dict)
    _qr: dict[str, Item] = dataclasses.field(default_factory=dict)

    @property
    def share(self) -> bool:
        """Whether other devices can reach the room (then the page shows a QR code of its address)."""
        return self.lan and bool(self.urls)

    def resolve(self, path: str, query: Mapping[str, str], headers: Mapping[str, str]) -> Item | None:
        """What to send for a path: the page, its QR code, or a file of the catalog."""
        if path == "":
            language = pick_language(query.get("lang"), header_field(headers, "Accept-Language"))
            if language not in self._pages:
                page = render_page(self.catalog.offers, self.catalog.signed_index, language, self.share)
                self._pages[language] = Item.of_bytes(".html", page)
            return self._pages[language]
        if path == "qr.png" and self.share:
            url = next((u for u in self.urls if u == f"http://{headers.get('Host', '')}/"), self.urls[0])
            if url not in self._qr:
                self._qr[url] = Item.of_bytes(path, qr_png(url))
            return self._qr[url]
        return self.catalog.files.get(path)

    def replace(self, catalog: Catalog) -> None:
        """Serve a new catalog from now on."""
        self.catalog, self.stale = catalog, False
        self._pages.clear()


def _binds(request: RoomRequest) -> tuple[str, list[str]]:
    """The address to listen on and the addresses readers use."""
    if not request.lan:
        return "127.0.0.1", ["127.0.0.1"]
    return "0.0.0.0", lan_addresses()  # noqa: S104 - --lan means every interface, and the docs say so


async def _watch(room: Room, folder: Path, log: Log, changed: Callable[[Room], Awaitable[None]],
                 state: tuple[object, ...], spool: Path, keys: TrustedKeys | None = None) -> None:
    """Look at the folder again whenever it changes and has stayed so for one round (a bundle being copied in is
    verified once it is whole, not at every step of the copy), or has kept changing for UNSETTLED_AT_MOST rounds
    (a file that grows for an hour must not keep the others waiting); verify only what is new. `state` is the
    folder's as it was before the first scan began: what came during it is seen in the first round."""
    seen = state
    unsettled = 0
    took = 0.0
    while True:
        # a folder of a million files takes seconds to look at (a stat each): looked at less often, never busy
        await asyncio.sleep(max(RESCAN_EVERY, WATCH_SHARE * took))
        began = time.monotonic()
        now = await asyncio.to_thread(folder_state, folder)
        took = time.monotonic() - began
        unsettled = 0 if now == seen else unsettled + 1
        seen = now
        if not room.stale and (now == state or 0 < unsettled < UNSETTLED_AT_MOST):
            continue
        state, unsettled = now, 0
        try:
            catalog = await asyncio.to_thread(scan_folder, folder, log, room.catalog.cache, spool, keys,
                                              room.catalog.peeked)
        except (ConfigError, OSError) as exc:  # the folder went away (a stick pulled out) or became unreadable
            room.stale = False  # said once: looked at again when the folder changes (it was said every round)
            if room.catalog.offers and not await asyncio.to_thread(folder.is_dir):
                # what it offered is gone: offered no more (every download was "busy, try again" for good and
                # fetch waited its whole budget, helper-157) until the folder is back
                room.replace(Catalog(folder, (), {}, False, (), room.catalog.cache))
                log(f"warning: {exc}: serving nothing until it is back")
                with contextlib.suppress(Exception):  # the announcement could not be updated: said when it is back
                    await changed(room)
            else:  # unreadable, or nothing offered: what was offered stays (a file that goes is then a 404)
                log(f"warning: {exc}")
            continue
        except Exception as exc:  # never a watch that stops without a word: said, and tried when the folder changes
            log(f"warning: looking at the folder again failed: {exc!r}")
            continue
        if catalog.again:
            state = ()  # a file changed while it was checked: the next round looks again, once
        before = {o.sha256 for o in room.catalog.offers}
        known = set(room.catalog.skipped) | set(room.catalog.notes)
        for problem in catalog.skipped:  # a bundle copied in that does not verify: said once, with why
            if problem not in known:
                log(f"skipped {problem}")
        for note in catalog.notes:  # of a bundle offered (or of several): said once too, as what it is
            if note not in known:
                log(f"note: {note}")
        room.replace(catalog)
        if {o.sha256 for o in catalog.offers} != before:
            log(f"now serving {len(catalog.offers)} bundle(s)")
            try:
                await changed(room)
            except Exception as exc:  # the announcement could not be updated: the room still serves
                log(f"warning: the announcement was not updated: {exc!r}")


async def run_room(request: RoomRequest, log: Log, started: Callable[[Room], None], stop: asyncio.Event) -> None:
    """Serve until `stop` is set.

    Raises:
        ConfigError: the folder is not there, or the port is taken.
    """
    from mirror.serve.spool import spool_folder

    # each offered bundle's SHA256SUMS is served from a file of the room's own (never in the folder served, which
    # is only read), not from memory: removed when the room closes, or by the next room if this one is killed
    with spool_folder() as spool:
        await _run_room(request, log, started, stop, spool)


async def _run_room(request: RoomRequest, log: Log, started: Callable[[Room], None], stop: asyncio.Event,
                    spool: Path) -> None:
    host, addresses = _binds(request)
    if request.port:
        check_port(host, request.port)  # a taken port is said at once, before every bundle is verified
    before = await asyncio.to_thread(folder_state, request.folder)  # up to 20,000 stats: never on the event loop
    catalog = await asyncio.to_thread(scan_folder, request.folder, log, None, spool, request.keys)
    room = Room((), catalog, Stats(), request.lan)
    server = HttpServer(room.resolve, request.limits, on_stale=lambda: setattr(room, "stale", True))
    room.stats = server.stats
    bound = await server.start([(host, request.port)])
    port = bound[0][1]
    room.urls = tuple(peer_url(a, port) for a in addresses)
    announcement: Announcement | None = None
    try:
        if request.lan and request.announce and addresses:
            announcement = Announcement(port, addresses, txt_record(catalog.signed_index, len(catalog.offers)))
            try:
                await announcement.start()
                room.announced_as = announcement.instance
            except ConfigError as exc:  # serve anyway: readers can type the address or scan its QR code
                log(f"warning: {exc}; readers need the address or its QR code")
                announcement = None
        started(room)

        async def changed(current: Room) -> None:
            if announcement is not None:
                await announcement.update(txt_record(current.catalog.signed_index, len(current.catalog.offers)))

        watcher = asyncio.ensure_future(_watch(room, request.folder, log, changed, before, spool, request.keys))
        try:
            await stop.wait()
        finally:
            watcher.cancel()
    finally:
        if announcement is not None:
            await announcement.stop()
        await server.stop()


def serve_room(request: RoomRequest, log: Log, started: Callable[[Room], None]) -> None:
    """Serve until Ctrl-C, SIGTERM or SIGHUP (from the main thread).

    Raises:
        ConfigError: the folder is not there, or the port is taken.
    """
    numbers = (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", signal.SIGTERM))
    before = {signum: signal.getsignal(signum) for signum in numbers}

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in numbers:
            if before[signum] is not signal.SIG_IGN:  # nohup, a script's `&`: what it ignores, it ignores
                loop.add_signal_handler(signum, stop.set)
        await run_room(request, log, started, stop)

    try:
        asyncio.run(main())
    finally:  # the loop leaves Python's defaults behind: a second Ctrl-C while the room's summary was written
        for signum, handler in before.items():  # killed the process outright (-15), or gave a traceback
            if handler is not None:
                signal.signal(signum, handler)


class RoomThread:
    """A room served from a background thread (for tests and for embedding); `close()` stops it.

    Raises:
        ConfigError: from the constructor, as run_room.
    """

    def __init__(self, request: RoomRequest, log: Log = lambda _line: None) -> None:
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self.room: Room | None = None
        self._thread = threading.Thread(target=self._run, args=(request, log), daemon=True)
        self._thread.start()
        self._ready.wait(60)
        if self._error is not None:
            raise self._error

    def _run(self, request: RoomRequest, log: Log) -> None:
        def started(room: Room) -> None:
            self.room = room
            self._ready.set()

        try:
            self._loop.run_until_complete(run_room(request, log, started, self._stop))
        except BaseException as exc:  # the thread's boundary: handed to the constructor's caller
            self._error = exc
        finally:
            self._ready.set()
            self._loop.close()

    @property
    def urls(self) -> tuple[str, ...]:
        """Where the room listens."""
        return self.room.urls if self.room is not None else ()

    def close(self) -> None:
        """Stop serving and wait for the thread."""
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(30)

    def __enter__(self) -> RoomThread:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
