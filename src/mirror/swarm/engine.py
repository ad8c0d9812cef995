"""One libtorrent session: seed checked files, download one file with deadlines, say what peers did.

Example::

    with Swarm(SwarmConfig(), log=print) as swarm:          # listening on 127.0.0.1 before it returns
        swarm.seed(info, Path("bundles/ab12....7z"))          # read-only: never downloads into it
        tally = swarm.download(wanted, Deadlines(stall=30, total=600), advance)

With download.py, the only modules that import libtorrent. Settings come from settings.py. Torrents are
given as an info dict already checked by the caller, or as the signed info hash alone (the
metadata then comes from peers, and libtorrent checks it against the hash; web seeds never
serve it); web seeds, trackers and peers are always the caller's, never a torrent file's,
and libtorrent never parses a magnet link.
Every wait has a deadline: TransferError(TIMEOUT) when it passes.
"""

from __future__ import annotations

import contextlib
import ipaddress
import queue
import socket
import threading
import time
from collections import Counter
from pathlib import Path
from types import TracebackType
from typing import cast
from urllib.parse import urlsplit

import libtorrent as lt

from mirror.errors import Failure, TransferError
from mirror.safeio import file_stamp
from mirror.swarm.download import WHERE, Download
from mirror.swarm.model import Advance, Deadlines, Log, Tally, Wanted, endpoint_text
from mirror.swarm.settings import EVERY_ADDRESS, SwarmConfig, allowed_ranges, session_settings

LISTEN_WAIT = 10.0
RESOLVE_WAIT = 10.0  # seconds to find a web seed host's addresses (local reach; the filter allows only those)
REMOVE_WAIT = 10.0
# connect: a web seed's redirect disconnects it ("redirecting"), and that alert wakes the download's loop, which
# removes the web seed libtorrent added for the redirect before its next second's tick connects it (download.py)
_ALERTS = (lt.alert_category.error | lt.alert_category.peer | lt.alert_category.status
           | lt.alert_category.storage | lt.alert_category.ip_block | lt.alert_category.block_progress
           | lt.alert_category.connect)


MAX_PER_ADDRESS = 8  # connections one address may hold while the seed is crowded (a LAN behind NAT: a few)
CROWDED = 0.8  # of --max-peers: when addresses are counted
REFUSED_SECONDS = 600  # how long an address that crowded the others out is refused


def _group(address: str) -> str:
    """An IPv4 address, or the /64 of an IPv6 one (one host has a whole /64 to open connections from)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:  # not an address libtorrent would give: counted as it is
        return address
    if ip.version == 4:
        return address
    if ip.ipv4_mapped is not None:  # an IPv4 peer on a dual socket
        return str(ip.ipv4_mapped)
    if ip.is_loopback:  # ::1 alone, not the /64 that IPv4-mapped and other addresses fall in (helper-163)
        return str(ip)
    return str(ipaddress.ip_network(f"{address}/64", strict=False))


_THIS_COMPUTER = (("127.0.0.0", "127.255.255.255"), ("::1", "::1"))


LOOK_EVERY = 5.0  # seconds between looks at the seeded files


def _loopback(group: str) -> bool:
    """Whether a `_group` is the address every program on this computer connects from (127.0.0.1 or ::1); another
    of 127.0.0.0/8 is one a program chose."""
    return group in ("127.0.0.1", "::1")


def _bounds(group: str) -> tuple[str, str]:
    """The first and last address of a `_group`."""
    network = ipaddress.ip_network(group, strict=False)
    return str(network[0]), str(network[-1])


class ListenError(TransferError):
    """The session could not listen on the address and port it was given."""


def _torrent_info(info: bytes) -> lt.torrent_info:
    return lt.torrent_info(b"d4:info" + info + b"e")


def _ip_filter(ranges: tuple[tuple[str, str], ...]) -> lt.ip_filter:
    blocked = lt.ip_filter()
    for first, last in EVERY_ADDRESS:
        blocked.add_rule(first, last, 1)
    for first, last in ranges:
        blocked.add_rule(first, last, 0)
    return blocked


def seed_endpoints(wanted: Wanted) -> dict[str, set[str]]:
    """Each web seed URL's host and port as the addresses libtorrent reaches ("127.0.0.1:8080"), its host
    resolved now as libtorrent will (itself if it is an address; none if it cannot be resolved)."""
    found: dict[str, set[str]] = {}
    for url in wanted.web_seeds:
        parts = urlsplit(url)
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            port = 0
        found[url] = {endpoint_text((address, port)) for address in _addresses(parts.hostname or "")}
    return found


def _only(wanted: Wanted, seeds: dict[str, set[str]]) -> lt.ip_filter:
    """Every address blocked but the named peers' and the web seeds' (`seed_endpoints`). libtorrent follows a web
    seed's redirect to wherever it points; fetch's own HTTP never does, and in the local reach nothing but what
    the user and the signed index name may learn the reader's address."""
    allowed = {host for host, _ in wanted.peers}
    for endpoints in seeds.values():
        allowed |= {endpoint.rsplit(":", 1)[0].strip("[]") for endpoint in endpoints}
    only = lt.ip_filter()
    for first, last in EVERY_ADDRESS:
        only.add_rule(first, last, 1)
    for address in allowed:
        only.add_rule(address, address, 0)
    return only


def _addresses(host: str) -> set[str]:
    """The addresses `host` has (itself, if it is one); none if it cannot be resolved within RESOLVE_WAIT."""
    try:
        return {str(ipaddress.ip_address(host))}
    except ValueError:
        pass
    answers: queue.Queue[list[str]] = queue.Queue(1)

    def look_up() -> None:
        try:
            answers.put([str(info[4][0]) for info in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)])
        except (OSError, UnicodeError):
            answers.put([])

    # a daemon: a resolver that hangs is left behind, and neither the filter nor the exit waits for it
    threading.Thread(target=look_up, daemon=True, name="mirror-resolve").start()
    try:
        found = answers.get(timeout=RESOLVE_WAIT)
    except queue.Empty:
        return set()
    return {address.split("%", 1)[0] for address in found}


class Swarm:
    """A libtorrent session with the reach, port and limits of `config`; a context manager."""

    def __init__(self, config: SwarmConfig, log: Log) -> None:
        self.config = config
        self.log = log
        self.addresses: list[str] = []
        self._session: lt.session | None = None
        self._said: set[str] = set()
        self._crowders: dict[str, float] = {}  # addresses refused for holding too many connections, until when
        # each seeded file, its torrent and how it was when checked: one changed on disk is seeded no more
        self._seeded: dict[Path, tuple[lt.torrent_handle, tuple[int, int]]] = {}
        self._next_look = 0.0

    def __enter__(self) -> Swarm:
        settings = cast("lt.settings_pack", {**session_settings(self.config), "alert_mask": _ALERTS})
        session = lt.session(settings, 0)  # 0: no default plugins; the ones wanted are added here
        session.add_extension("ut_metadata")  # magnet links
        session.add_extension("smart_ban")  # find and ban the peer that sent a bad block
        if self.config.reach.value != "local":
            session.add_extension("ut_pex")  # peer exchange: only where peers may be found at all
        everyone = lt.ip_filter()  # rate limits apply to peers on the local network too
        for first, last in EVERY_ADDRESS:
            everyone.add_rule(first, last, 1 << lt.session.global_peer_class_id)
        session.set_peer_class_filter(everyone)
        ranges = self._ranges()
        if ranges is not None:
            session.set_ip_filter(_ip_filter(ranges))
        self._session = session
        if self.config.proxy is not None:
            return self  # no listening socket: every connection goes out through the proxy
        try:
            self._wait_listening()
        except BaseException:
            self._close()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._close()

    def _ranges(self) -> tuple[tuple[str, str], ...] | None:
        """The addresses this session may be connected to, or None for any. In the local reach without a proxy,
        this computer's own: the session listens on 127.0.0.1, and a peer's ut_holepunch "connect" (which
        libtorrent follows, and offers even without plugins) made a seed connect to any address it named, with
        the info hash (helper-160). A download narrows it to the peers and web seeds it names (`_only`)."""
        if self.config.reach.value == "local" and self.config.proxy is None:
            return _THIS_COMPUTER
        return allowed_ranges(self.config.reach)

    def _close(self) -> None:
        if self._session is not None:
            self._session.pause()
            self._session = None  # the destructor stops the session and closes every socket

    @property
    def session(self) -> lt.session:
        """The running session.

        Raises:
            RuntimeError: outside the `with` block.
        """
        if self._session is None:
            raise RuntimeError("the swarm is not running")
        return self._session

    def _wait_listening(self) -> None:
        wanted = 1 if self.config.reach.value == "local" else 2  # 127.0.0.1, or 0.0.0.0 and [::]
        answered, failures = 0, []
        deadline = time.monotonic() + LISTEN_WAIT
        while answered < wanted and time.monotonic() < deadline:
            self.session.wait_for_alert(100)
            for alert in self.session.pop_alerts():
                if isinstance(alert, lt.listen_succeeded_alert) and alert.socket_type == lt.socket_type_t.tcp:
                    answered += 1
                    self.addresses.append(endpoint_text((alert.address, alert.port)))
                elif isinstance(alert, lt.listen_failed_alert) and alert.socket_type == lt.socket_type_t.tcp:
                    answered += 1
                    failures.append(f"{endpoint_text((alert.address, alert.port))}: {alert.error.message()}")
        if not self.addresses:
            reason = "; ".join(failures) or f"no listening socket within {LISTEN_WAIT:.0f} s"
            raise ListenError(WHERE, f"cannot listen: {reason}", Failure.REFUSED, transient=False,
                              hint="choose another --port, or stop the program that uses it")

    def _params(self, info: bytes | None, infohash: str | None, folder: Path, file_name: str
                ) -> lt.add_torrent_params:
        """The torrent to add: from its checked info dict, else from the signed info hash alone (a magnet link's
        other fields, from whoever served the listing, are never parsed by libtorrent: its trackers, web seeds
        and peers are the caller's to name).

        Raises:
            TransferError: libtorrent refuses the info dict (BAD_ANSWER).
        """
        params = lt.add_torrent_params()
        if info is not None:
            try:
                params.ti = _torrent_info(info)
            except RuntimeError as exc:  # libtorrent's error for a dict it cannot use
                raise TransferError(WHERE, f"the torrent's metadata is unusable: {exc}", Failure.BAD_ANSWER,
                                    transient=False) from None
        elif infohash is not None:
            params.info_hashes = lt.info_hash_t(lt.sha1_hash(bytes.fromhex(infohash)))
        else:
            raise ValueError("a torrent needs an info dict or an info hash")
        params.save_path = str(folder)
        params.renamed_files = {0: file_name}
        # always active (not queued behind other torrents); the per-torrent switches repeat the session's reach
        params.flags = lt.torrent_flags.default_flags & ~lt.torrent_flags.auto_managed & ~lt.torrent_flags.paused
        if self.config.reach.value == "local":
            params.flags |= lt.torrent_flags.disable_dht | lt.torrent_flags.disable_lsd | lt.torrent_flags.disable_pex
        elif self.config.reach.value == "lan":
            params.flags |= lt.torrent_flags.disable_dht
        return params

    def seed(self, info: bytes, path: Path, trackers: tuple[str, ...] = (),
             stamp: tuple[int, int] | None = None) -> None:
        """Seed the checked file `path` under the torrent `info`; never write to it.

        Seed mode checks each piece the first time a peer asks for it; upload mode
        keeps libtorrent from ever downloading into the file.
        """
        params = self._params(info, None, path.parent, path.name)
        params.flags |= lt.torrent_flags.seed_mode | lt.torrent_flags.upload_mode
        if self.config.reach.value == "public":
            params.trackers = list(trackers)
        self._seeded[path] = (self.session.add_torrent(params), stamp if stamp is not None else file_stamp(path))

    def download(self, wanted: Wanted, deadlines: Deadlines, advance: Advance | None = None,
                 tally: Tally | None = None) -> Tally:
        """Download `wanted` into its folder, from peers and web seeds together; resume what is on disk. What the
        sources did goes into `tally` (a new one if None), kept up also when the download fails.

        Raises:
            TransferError: a deadline passed (TIMEOUT), or the torrent failed (BAD_ANSWER).
            OSError: the file could not be written.
        """
        seeds = seed_endpoints(wanted) if self.config.proxy is None else {}  # through a proxy: its address
        if self.config.reach.value == "local" and self.config.proxy is None:
            self.session.set_ip_filter(_only(wanted, seeds))
        params = self._params(wanted.info, wanted.infohash, wanted.folder, wanted.file_name)
        params.url_seeds = list(wanted.web_seeds)
        params.peers = list(wanted.peers)
        if self.config.reach.value == "public":
            params.trackers = list(wanted.trackers)
        handle = self.session.add_torrent(params)
        tally = tally if tally is not None else Tally()
        try:
            alone = self.config.reach.value == "local" and not wanted.peers
            Download(self.session, handle, wanted, tally, advance, self.note, alone, seeds).run(deadlines)
        finally:
            self._remove(handle)
        return tally

    def _remove(self, handle: lt.torrent_handle) -> None:
        """Remove a torrent (keeping its file) and wait until its file is closed."""
        self.session.remove_torrent(handle)
        deadline = time.monotonic() + REMOVE_WAIT
        while time.monotonic() < deadline:
            self.session.wait_for_alert(100)
            if any(isinstance(a, lt.torrent_removed_alert) for a in self.session.pop_alerts()):
                return

    def serve(self, seconds: float) -> None:
        """Let the session work for `seconds`, logging bans and errors, and refusing an address that crowds the
        others out (`_crowding`)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.session.wait_for_alert(int(min(left, 1.0) * 1000))
            for alert in self.session.pop_alerts():
                self.note(alert, None)
                if isinstance(alert, lt.file_error_alert):  # the file went away or cannot be read: stop offering it
                    with contextlib.suppress(RuntimeError, ValueError):  # removed already (`_look_at_files`)
                        self.session.remove_torrent(alert.handle)
            self._crowding()
            self._look_at_files()

    def _look_at_files(self) -> None:
        """Every few seconds: a seeded file that changed on disk (rewritten, replaced, removed) is seeded no more,
        and said so. Its pieces failed the readers' checks while the seed went on saying SEEDING (helper-160)."""
        now = time.monotonic()
        if now < self._next_look:
            return
        self._next_look = now + LOOK_EVERY
        for path, (handle, stamp) in list(self._seeded.items()):
            if file_stamp(path) != stamp:
                del self._seeded[path]
                with contextlib.suppress(RuntimeError, ValueError):  # removed already (a file error)
                    self.session.remove_torrent(handle)
                self.log(f"swarm: {path} changed on disk since it was checked: no longer seeded (seed it again to "
                         "check it anew)")

    def _crowding(self) -> None:
        """When the connections near --max-peers, refuse for REFUSED_SECONDS every address (an IPv6 /64) that holds
        more than MAX_PER_ADDRESS of the connections it opened: one address opening hundreds that never ask for a
        piece kept every other reader in the room out (the room's HTTP side limits each address the same way).
        Connections this seed opened, or still opening, are not counted: a peer list naming someone's address
        many times must not get them refused."""
        now = time.monotonic()
        expired = [group for group, until in self._crowders.items() if until <= now]
        torrents = self.session.get_torrents()
        crowded = sum(h.status().num_peers for h in torrents) >= self.config.max_peers * CROWDED
        counts: Counter[str] = Counter()
        if crowded:
            opened_here = lt.peer_info.local_connection | lt.peer_info.connecting | lt.peer_info.handshake
            counts.update(_group(peer.ip[0]) for h in torrents for peer in h.get_peer_info()
                          if not peer.flags & opened_here)
        # never this computer: in the local reach every reader is 127.0.0.1, and refusing it refused them all
        # (helper-160: 41 idle connections of any local program kept every fetch out for 10 minutes)
        crowding = [group for group, n in counts.items()
                    if n > MAX_PER_ADDRESS and group not in self._crowders and not _loopback(group)]
        if not crowding and not expired:
            return
        for group in expired:  # it may come back; refused again if it crowds again
            del self._crowders[group]
        for group in crowding:
            self._crowders[group] = now + REFUSED_SECONDS
            self.log(f"swarm: refused {group} for {REFUSED_SECONDS // 60} minutes: {counts[group]} connections from "
                     f"one address, while others wait (at most {MAX_PER_ADDRESS})")
        ranges = self._ranges()  # the reach's own filter, and the refusals still running on it
        refused = _ip_filter(ranges) if ranges is not None else lt.ip_filter()
        for group in self._crowders:
            first, last = _bounds(group)
            refused.add_rule(first, last, 1)
        self.session.set_ip_filter(refused)

    def uploaded(self) -> tuple[int, int]:
        """Peers connected now and payload bytes uploaded so far, over every torrent."""
        statuses = [h.status() for h in self.session.get_torrents()]
        return sum(s.num_peers for s in statuses), sum(s.total_payload_upload for s in statuses)

    def note(self, alert: lt.alert, tally: Tally | None) -> None:
        """Log what matters in `alert` once; count bans and failed pieces in `tally`."""
        if isinstance(alert, lt.peer_ban_alert):
            address = endpoint_text(alert.endpoint)
            if tally is not None and address in tally.banned:
                return  # libtorrent says so again for each piece it had sent: named once
            if tally is not None:
                tally.banned.append(address)
            self.log(f"swarm: banned peer {address}: it sent data that failed the piece hashes")
        elif isinstance(alert, lt.hash_failed_alert) and tally is not None:
            tally.hash_failures += 1
        elif isinstance(alert, lt.url_seed_alert):
            self._once(f"swarm: web seed {alert.server_url()}: {alert.error_message() or alert.message()}")
        elif isinstance(alert, lt.peer_blocked_alert) and _group(alert.endpoint[0]) not in self._crowders:
            self._once(f"swarm: refused {alert.endpoint[0]}: outside the reach you allowed")
        elif isinstance(alert, lt.file_error_alert):
            self._once(f"swarm: {alert.filename()}: {alert.error.message()}")
        elif isinstance(alert, lt.metadata_failed_alert):
            self._once("swarm: a peer sent metadata that does not match the info hash; ignored")

    def _once(self, line: str) -> None:
        if line not in self._said:
            self._said.add(line)
            self.log(line)
