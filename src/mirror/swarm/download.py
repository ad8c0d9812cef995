"""Waiting for one download: alerts, deadlines, progress on the caller's bar, and which source sent what.

Example::

    Download(session, handle, wanted, tally, advance, note).run(Deadlines(stall=30, total=600))

Used by engine.Swarm.download. The wait ends when libtorrent reports the torrent finished
(every block alert is posted before that, so the tally is complete), or raises
TransferError(TIMEOUT) when less than a block arrived in `stall` seconds or `total` passed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import libtorrent as lt

from mirror.errors import Failure, TransferError
from mirror.formats.names import printable
from mirror.swarm.model import Advance, Deadlines, Tally, Wanted, endpoint_text

WHERE = "swarm"
FINISH_WAIT = 2.0  # after the torrent is complete, how long to wait for its last alerts
BLOCK = 16 << 10  # the BitTorrent request size
MIN_PROGRESS = BLOCK  # less than a block in a stall window counts as no progress
# How libtorrent words a web seed's HTTP error ("404 Not Found"): it never asks that seed again, whatever the
# status (seen for 404, 408, 429 and 503, even with Retry-After: 1), so it is the seed's last answer
_HTTP_ERROR = re.compile(r"[1-5][0-9][0-9] ")
_REDIRECTING = "redirecting"  # libtorrent's error when a web seed answers with a redirect, which it never asks again
# A connection holding more than this that libtorrent has not used (peer_info's used_receive_buffer) was sent
# something it cannot use as it comes: a web seed's HTTP header, status line or chunk size without end, which
# libtorrent keeps whole and searches again for its end at each piece that arrives, with no setting to bound it (a
# hostile mirror took a reader's fetch to 770 MB in 10 s; one that trickled its status line at 500 kB/s burnt a
# core, under the 16 MiB a first cut allowed, until the deadline). A good web seed's connection holds nothing
# unused between reads (0 B in 27,000 samples of nginx at 55-350 MB/s, bench/web_seed_buffer.py), and an HTTP
# header is a few kB. Its buffer's size (receive_buffer_size) is no measure: libtorrent reads all the kernel holds
# at once (tcp_rmem lets it hold 32 MiB), and nginx's grew to 20.6 MiB for a 1 GiB bundle.
MAX_HELD = 1 << 20
WAKE_MS = 100  # the longest between two looks at the download (its alerts, its peers, what each connection holds)
RETRIED = 3.0  # seconds between a web seed's first and latest error that show it was asked again (settings.py: 5)
_CHECKING = {lt.torrent_status.states.checking_files, lt.torrent_status.states.checking_resume_data,
             lt.torrent_status.states.queued_for_checking}
Note = Callable[[lt.alert, Tally | None], None]


class Download:
    """The wait for one download: alerts, deadlines, progress, and who sent what."""

    def __init__(self, session: lt.session, handle: lt.torrent_handle, wanted: Wanted, tally: Tally,
                 advance: Advance | None, note: Note, alone: bool = False,
                 seed_endpoints: dict[str, set[str]] | None = None) -> None:
        self.session, self.handle, self.wanted, self.tally = session, handle, wanted, tally
        self.advance, self.note = advance, note
        self.shown = 0
        self.checked_metadata = wanted.info is not None
        self.peers_seen = False  # a BitTorrent peer was connected at some point (web seeds are not peers)
        # No peer can come (the local reach, none named): the web seeds are the only sources, and once each has
        # failed for good or again after libtorrent's wait to ask it again, the wait ends, with their errors.
        self.alone = alone
        self.seed_failures: dict[str, list[tuple[float, str]]] = {}  # web seed URL -> (when, error), in order
        # web seed URL -> the addresses libtorrent reaches it at (its host resolved: engine.seed_endpoints)
        self.endpoints = {url: {url_endpoint(url), *(seed_endpoints or {}).get(url, ())} - {""}
                          for url in wanted.web_seeds}
        tally.seed_addresses.update(self.endpoints)
        # where a web seed was dropped by the name its connection gave (an address, or a port through a proxy): a
        # connection there that holds too much again, the same or a new one, is not taken at its word
        self.named_at: set[str] = set()

    def run(self, deadlines: Deadlines) -> None:
        """Wait until the file is complete.

        Raises:
            TransferError: a deadline passed (TIMEOUT), or the torrent failed (BAD_ANSWER).
            OSError: the file could not be written.
        """
        start = mark_time = time.monotonic()
        mark_done, first, done_at = 0, True, 0.0
        while True:
            now = time.monotonic()
            if now - start > deadlines.total:
                raise TransferError(WHERE, f"no complete copy within {deadlines.total:.0f} s", Failure.TIMEOUT)
            # Every 0.1 s at the longest: what a web seed's endless header holds grows at the link's speed between
            # two looks (_drop_overflowing), about 1 GB/s through a local proxy: up to 280 MB at a look each 0.25 s
            self.session.wait_for_alert(WAKE_MS)
            if self._alerts():
                self._settle()
                return
            self._watch_peers()
            self._drop_overflowing()
            status = self.handle.status()
            if status.has_metadata and not self.checked_metadata:
                self._check_metadata()
            if status.state in _CHECKING or not status.has_metadata:
                mark_time = now if status.state in _CHECKING else mark_time  # reading back a file is progress
            elif first:  # what an earlier run left: what is done, less what this run has received so far
                mark_done = status.total_wanted_done
                self.tally.resumed = max(0, mark_done - _kept(status))
                first = False
            elif status.total_wanted_done - mark_done >= max(MIN_PROGRESS, deadlines.least):
                mark_done, mark_time = status.total_wanted_done, now
            self._show(status.total_wanted_done)
            if (status.is_finished or status.is_seeding) and now - (done_at := done_at or now) > FINISH_WAIT:
                self._settle()
                return  # complete on disk, but the alert never came
            if now - mark_time > deadlines.stall:
                least = max(MIN_PROGRESS, deadlines.least)
                raise TransferError(WHERE, f"less than {least} B in {deadlines.stall:.0f} s "
                                           f"({status.num_peers} peer(s) connected)", Failure.TIMEOUT)

    def _alerts(self) -> bool:
        """Handle what the session posted; True once the torrent finished (every block alert came before that).

        Raises:
            TransferError: the torrent failed.
            OSError: its file could not be written.
        """
        finished = False
        for alert in self.session.pop_alerts():
            self.note(alert, self.tally)
            if isinstance(alert, lt.block_finished_alert):
                self._count_block(alert)
            elif isinstance(alert, lt.torrent_finished_alert):
                finished = True
            elif isinstance(alert, lt.file_error_alert):
                raise OSError(alert.error.value(), alert.error.message(), alert.filename())
            elif isinstance(alert, lt.torrent_error_alert):
                raise TransferError(WHERE, f"torrent failed: {alert.error.message()}", Failure.BAD_ANSWER)
            elif isinstance(alert, lt.peer_error_alert | lt.url_seed_alert | lt.peer_disconnected_alert):
                self._seed_failed(alert)
            if isinstance(alert, lt.peer_connect_alert):  # a web seed reached learns the reader's address
                address = endpoint_text(alert.endpoint)
                self.tally.asked.update(url for url, endpoints in self.endpoints.items() if address in endpoints)
            elif isinstance(alert, lt.url_seed_alert) and alert.server_url() in self.endpoints:
                self.tally.asked.add(alert.server_url())
        self._drop_redirected()
        if finished:
            self._show(self.wanted.size)
        elif self.alone:
            self._give_up_without_sources()
        return finished

    def _drop_redirected(self) -> None:
        """Remove every web seed libtorrent added on its own: it follows a web seed's redirect by adding where it
        points as a new web seed, which the IP filter judges by address only (another port of an allowed address
        passes). The redirect's alert wakes this loop at once; libtorrent connects a new web seed on its next
        second's tick, so it is gone before then."""
        given = set(self.wanted.web_seeds)
        for url in self.handle.url_seeds():
            if url not in given:
                self.handle.remove_url_seed(url)

    def _drop_overflowing(self) -> None:
        """Remove every web seed whose connection holds more than MAX_HELD bytes libtorrent has not used (not its
        buffer's size, which a good seed's fills in bursts): removing it closes the connection and frees what it
        held. It is not asked again, and its row says why."""
        for peer in self.handle.get_peer_info():
            if peer.used_receive_buffer <= MAX_HELD or not peer.connection_type & (peer.web_seed | peer.http_seed):
                continue
            urls, proxied, sure = self._seeds_of(peer)
            if sure:
                error = f"sent more than {MAX_HELD >> 20} MiB that was not data (a header without end)"
            elif proxied:
                error = f"a web seed at port {peer.ip[1]} (a proxy hides which) sent more than {MAX_HELD >> 20} " \
                    "MiB that was not data (a header without end)"
            else:
                error = f"a web seed at {endpoint_text(peer.ip)} (mirrors that share an address cannot be told " \
                    f"apart) sent more than {MAX_HELD >> 20} MiB that was not data (a header without end)"
            for url in urls:
                self.handle.remove_url_seed(url)
                self._failed_for_good(url, error)

    def _seeds_of(self, peer: lt.peer_info) -> tuple[list[str], bool, bool]:
        """The web seed URLs a web seed's connection may be, whether it goes through a proxy, and whether it is
        surely each of them. By its address; through a proxy, which resolves the host name (the connection's
        address is then 0.0.0.0 and the URL's port), by that port. Where several web seeds share the address (a
        shared host, a CDN's) or the port (through a proxy, 443 for every HTTPS mirror), by the host name libtorrent
        names the connection by (until an answer's Server header replaces it); or else every one of them, none of
        which can be told from the others (each is dropped: better than a fetch that grows without bound).

        The name is the seed's own word once its header ended: a hostile seed whose Server header names another
        mirror at its port (then a chunk size without end) had that mirror dropped in its place, again at each
        check, and grew without bound (78 MiB in 25 s through microsocks, helper-180). So names are taken once at
        an address (or port): a connection there that holds too much after a seed was dropped by name, the same
        connection or a new one (a seed that named one mirror, hung up and came back to name the next), drops every
        seed there, each row saying so."""
        address = endpoint_text(peer.ip)
        urls = [url for url, endpoints in self.endpoints.items() if address in endpoints]
        proxied = not urls
        if proxied:
            urls = [url for url in self.endpoints if url_endpoint(url).rpartition(":")[2] == str(peer.ip[1])]
        if len(urls) <= 1:
            return urls, proxied, True
        where = f"port {peer.ip[1]}" if proxied else address
        if where not in self.named_at:  # else a seed there was dropped by name, and one there holds too much again
            client = peer.client.decode("utf-8", "replace").lower()
            named = [url for url in urls if urlsplit(url).hostname == client]
            if named:
                self.named_at.add(where)
                return named, proxied, True
        return urls, proxied, False

    def _failed_for_good(self, url: str, error: str) -> None:
        """Note that the web seed `url` is never asked again, and why (its row says it sent nothing, unless its
        address sent blocks)."""
        if not any(self.tally.received.get(e) for e in self.endpoints[url]):
            self.tally.seed_errors[url] = error
        now = time.monotonic()
        self.seed_failures.setdefault(url, []).extend([(now - RETRIED, error), (now, error)])

    def _seed_failed(self, alert: lt.peer_error_alert | lt.url_seed_alert | lt.peer_disconnected_alert) -> None:
        """Note a web seed's failure, by its URL: an HTTP error or a redirect (libtorrent never asks that seed
        again: its last answer), an answer that cannot be used, a connection that could not be made (asked again
        after libtorrent's wait). A connection's alert names only an address (the one a host name resolved to):
        a connection that could not be made counts for every URL at that address; any other error only for the
        one URL there, and for none when several share it."""
        if isinstance(alert, lt.url_seed_alert):
            urls, error = [alert.server_url()], alert.error_message() or alert.message()
            final = _HTTP_ERROR.match(alert.error_message()) is not None
        else:
            connecting = alert.op == lt.operation_t.connect
            redirect = alert.error.message() == _REDIRECTING
            if isinstance(alert, lt.peer_disconnected_alert) and not (connecting or redirect):
                return  # a connection closed (the end of an answer, or an error already posted on its own)
            address = endpoint_text(alert.endpoint)
            urls = [url for url, endpoints in self.endpoints.items() if address in endpoints]
            urls = urls if connecting else urls[:1] if len(urls) == 1 else []
            error = "answered with a redirect, which is not followed" if redirect else alert.error.message()
            final = redirect
        now = time.monotonic()
        for url in urls:  # a URL whose address has sent blocks may have sent them: neither failed nor refused
            if url in self.endpoints and not any(self.tally.received.get(e) for e in self.endpoints[url]):
                if final:  # it sent nothing, and is never asked again: its row says it sent nothing
                    self.tally.seed_errors[url] = error
                self.seed_failures.setdefault(url, []).extend([(now - RETRIED, error)] if final else [])
                self.seed_failures[url].append((now, error))

    def _give_up_without_sources(self) -> None:
        """Raise when no source is left: no peer can come, nothing has arrived, and every web seed failed for good
        (an HTTP error or a redirect: libtorrent does not ask it again) or again after libtorrent's wait to ask it
        again (two errors of one attempt are not yet a second try).

        Raises:
            TransferError: UNREACHABLE, naming each web seed's error.
        """
        seeds = self.wanted.web_seeds
        if not seeds or self.peers_seen or _kept(self.handle.status()) > 0:
            return
        failures = [self.seed_failures.get(url, []) for url in seeds]
        if any(not f or f[-1][0] - f[0][0] < RETRIED for f in failures):
            return
        errors = "; ".join(f"{_site(url)}: {self.seed_failures[url][-1][1]}" for url in sorted(seeds))
        raise TransferError(WHERE, f"no peer, and no web seed could be used ({errors})", Failure.UNREACHABLE)

    def _check_metadata(self) -> None:
        """A magnet link's metadata matches the info hash (libtorrent checked); it must also be our one file."""
        info = self.handle.torrent_file()
        if info is None or info.num_files() != 1 or info.total_size() != self.wanted.size:
            raise TransferError(WHERE, "the torrent's metadata does not describe the bundle the index lists",
                                Failure.BAD_ANSWER)
        self.checked_metadata = True

    def _show(self, done: int) -> None:
        if self.advance is not None and done > self.shown:
            self.advance(done - self.shown)
        self.shown = max(self.shown, done)

    def _count_block(self, alert: lt.block_finished_alert) -> None:
        """Count a block's bytes for the peer or web seed that sent it."""
        info = self.handle.torrent_file()
        if info is None:
            return
        address = endpoint_text(alert.endpoint)
        if address not in self.tally.received:
            self.tally.received[address] = 0
            self._classify(address)
        size = min(BLOCK, info.piece_size(alert.piece_index) - alert.block_index * BLOCK)
        self.tally.received[address] += size

    def _watch_peers(self) -> None:
        """Note whether any BitTorrent peer (not a web seed) has been connected during the download."""
        if not self.peers_seen:
            self.peers_seen = any(not peer.connection_type & (peer.web_seed | peer.http_seed)
                                  for peer in self.handle.get_peer_info())

    def _settle(self) -> None:
        """Once complete: payload that no block alert named (libtorrent does not post one for every block) is
        credited to the one source it can have come from: with no BitTorrent peer ever connected, the one address
        that sent named blocks (a web seed, whatever its URL's host), or else the one web seed given; with no web
        seed given, the one peer that sent. Otherwise it stays unnamed (a web seed that only answered 404 is never
        credited)."""
        self._watch_peers()
        seeds = sorted(self._seed_endpoints())
        sending = [a for a, n in self.tally.received.items() if n and a not in self.tally.banned]
        if not self.peers_seen and seeds:  # every sender was a web seed, named by the address libtorrent reached
            self.tally.web_seeds.update(sending)
        unnamed = _kept(self.handle.status()) - sum(self.tally.received[a] for a in sending)
        if unnamed <= 0:
            return
        if not self.peers_seen and seeds:
            credited = sending if len(sending) == 1 else seeds if not sending and len(seeds) == 1 else []
        elif not seeds:
            credited = sending if len(sending) == 1 else []
        else:
            credited = []
        if credited:
            self.tally.received[credited[0]] = self.tally.received.get(credited[0], 0) + unnamed
            if seeds:
                self.tally.web_seeds.add(credited[0])
        else:
            self.tally.unnamed = unnamed

    def _seed_endpoints(self) -> set[str]:
        """The addresses of the web seeds: the URLs given with the download (add_torrent_params.url_seeds, which
        the torrent_info does not list) and any the torrent itself names."""
        urls = list(self.wanted.web_seeds)
        info = self.handle.torrent_file()
        if info is not None:
            urls += [seed["url"] for seed in info.web_seeds()]
        return {e for e in map(url_endpoint, urls) if e}

    def _classify(self, address: str) -> None:
        """A source at the address of one of the torrent's web seed URLs is that web seed; otherwise web seeds
        stay connected until the end, and a source that is gone by now was a BitTorrent peer."""
        if address in self._seed_endpoints():
            self.tally.web_seeds.add(address)
            return
        for peer in self.handle.get_peer_info():
            if endpoint_text(peer.ip) == address and peer.connection_type & (peer.web_seed | peer.http_seed):
                self.tally.web_seeds.add(address)


def _kept(status: lt.torrent_status) -> int:
    """Payload received in this run and kept: not in pieces that failed their hash, not sent twice."""
    return max(0, status.total_payload_download - status.total_failed_bytes - status.total_redundant_bytes)


def _site(url: str) -> str:
    """A web seed as the report names it: its scheme, host, port and folder, not the bundle's long name."""
    head, sep, _ = url.rpartition("/bundles/")
    return printable(head + "/" if sep else url)


def url_endpoint(url: str) -> str:
    """A web seed URL's host and port as endpoint_text writes an address ("127.0.0.1:8080"); "" if it has none."""
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return ""
    host = parts.hostname or ""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
