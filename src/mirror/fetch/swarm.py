"""`fetch --torrent`: a bundle from the swarm, peers and web seeds together, held to the signed index.

Example::

    with SwarmSource(SwarmConfig(), peers=(("127.0.0.1", 6881),), stall=30.0, log=print) as source:
        fetch(FetchRequest(..., swarm=source.get), keys, log=print)

For each bundle the index lists with an info hash, the torrent's info dict comes from a
mirror's bundles/<sha256>.torrent and is used only if its SHA-1 is the signed info hash
(a mirror that serves another one is marked tampered, before anything is downloaded);
without one, the signed magnet link, whose metadata libtorrent checks against that hash.
Web seeds are the bundle's URL on the http(s) mirrors being tried, trackers only those of
the signed magnet link, and only with --public: never what a .torrent file says. The
finished file must have the signed SHA-256; fetcher.py then verifies the bundle exactly
as it verifies a download from a mirror.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

from mirror.errors import Failure, ManifestError, TransferError
from mirror.fetch.choose import Log
from mirror.fetch.download import Progress
from mirror.fetch.fetcher import SWARM_FOLDER, already_here, tidy_downloads, work_folder
from mirror.fetch.report import Fate, MirrorReport
from mirror.fetch.transport import HttpMirror, Mirror
from mirror.formats.bencode import bencode
from mirror.formats.index import BundleEntry
from mirror.formats.layout import torrent_path
from mirror.formats.torrent import MAX_TORRENT, Torrent, magnet_trackers, web_seeds
from mirror.safeio import file_sha256
from mirror.swarm.download import url_endpoint
from mirror.swarm.engine import ListenError, Swarm
from mirror.swarm.model import Deadlines, Tally, Wanted
from mirror.swarm.settings import Reach, SwarmConfig, allowed_ranges

LABEL = "swarm"
FOLDER = SWARM_FOLDER  # inside DEST/.mirror-downloads: the swarm writes pieces anywhere in the file, so it has its own
MIN_RATE = 4 << 10  # bytes per second: the whole download's budget is the stall time plus size / MIN_RATE


def _base(mirror: Mirror) -> str | None:
    """An http(s) mirror's base URL without user name or password (those stay with the mirror)."""
    if not isinstance(mirror, HttpMirror):
        return None
    parts = urlsplit(mirror.base)
    host = f"[{parts.hostname}]" if parts.hostname and ":" in parts.hostname else parts.hostname
    return parts._replace(netloc=f"{host}:{parts.port}" if parts.port is not None else str(host)).geturl()


def checked_info(entry: BundleEntry, mirrors: list[Mirror], reports: dict[str, MirrorReport], log: Log) -> bytes | None:
    """The bencoded info dict of the first mirror's .torrent whose info hash is the signed one, or None."""
    path = torrent_path(entry.sha256)
    for mirror in mirrors:
        report = reports.setdefault(mirror.label, MirrorReport(mirror.label))
        if report.distrusted:
            continue
        try:
            torrent = Torrent.from_bytes(mirror.read(path, MAX_TORRENT))
        except TransferError as exc:
            if exc.failure is Failure.BAD_ANSWER:  # larger than any torrent mirror publish makes, say
                detail = exc.reason if path in exc.reason else f"{path}: {exc.reason}"
                report.blame(entry, detail)
                log(f"{mirror.label}: {detail}; refused")
            continue  # else a mirror published before torrents existed, or one that does not answer
        except ManifestError as exc:
            report.blame(entry, f"{path}: {exc}")
            log(f"{mirror.label}: {path} is malformed; refused")
            continue
        if torrent.info.infohash != entry.infohash:
            # the info hash of the signed index's entry, or of a peer's listing (then only that peer is asked)
            report.blame(entry, f"{path} does not match the info hash the bundle is listed with")
            log(f"{mirror.label}: {path} has info hash {torrent.info.infohash}, the bundle is listed with "
                f"{entry.infohash}; refused before download")
            continue
        if torrent.info.length != entry.size:  # the same info hash: the listing's own size is the lie
            report.blame(entry, f"{path} is of {torrent.info.length:,} bytes, the bundle is listed with "
                                f"{entry.size:,}")
            log(f"{mirror.label}: {path} is of {torrent.info.length:,} bytes, the bundle is listed with "
                f"{entry.size:,}; refused before download")
            continue
        return bencode(torrent.info.to_value())
    return None


def _record(report: MirrorReport, entry: BundleEntry, fate: Fate, detail: str) -> None:
    """What the swarm did for one bundle, in the report fetch prints."""
    report.bundle(entry).set(fate, detail)


def _is_address(host: str) -> bool:
    """Whether a URL's host is an IP address rather than a name."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _answer_fate(answer: str) -> Fate:
    """A web seed's last answer in fetch's words: not there (404, 410); a server busy or failing for now (408, 429,
    5xx), unreachable, never "not there", so that a busy room is asked again over HTTP (fetch's own HTTP calls
    a 429 or 503 with Retry-After busy, and refuses the rest); any other answer or a redirect, refused."""
    status = answer[:3]
    if status in ("404", "410"):
        return Fate.MISSING
    if status in ("408", "429") or (status.startswith("5") and status.isdigit()):
        return Fate.UNREACHABLE
    return Fate.REFUSED


def _credit_web_seeds(mirrors: list[Mirror], bases: tuple[str, ...], entry: BundleEntry, tally: Tally,
                      reports: dict[str, MirrorReport]) -> None:
    """Each mirror that sent bytes of the bundle as a web seed says so on its own row: it was asked, and it learnt
    the reader's address (it was reported "not tried"). libtorrent names a sender by the address it reached: a
    mirror is matched by the addresses its host had (resolved as libtorrent resolved it), or, for a host name
    that was not resolved, when it was the one web seed on the port of the one address that sent there. A mirror
    whose last answer was an HTTP error or a redirect sent nothing. Mirrors that share the address that sent are
    each said to share it, not credited the bytes alone."""
    given: list[tuple[Mirror, str, set[str]]] = []
    for mirror in mirrors:
        if (base := _base(mirror)) in bases:
            url = web_seeds((base,), entry.sha256)[0]
            if url in tally.seed_errors:  # it answered with an error or a redirect, and saw the reader's address
                answer = tally.seed_errors[url]
                _record(reports.setdefault(mirror.label, MirrorReport(mirror.label)), entry, _answer_fate(answer),
                        f"asked as a web seed, it answered: {answer}")
            else:
                given.append((mirror, url, tally.seed_addresses.get(url) or {url_endpoint(url)}))
    sent = {a: n for a, n in tally.received.items() if a in tally.web_seeds and n}

    def port(address: str) -> str:
        return address.rsplit(":", 1)[-1]

    for mirror, url, endpoints in given:
        banned = sorted(endpoints.intersection(tally.banned))
        if banned:  # libtorrent banned it: pieces it sent in failed their hashes (who else sent in them is not known)
            _record(reports.setdefault(mirror.label, MirrorReport(mirror.label)), entry, Fate.SUSPECT,
                    f"asked as a web seed, {banned[0]} sent data that failed the piece hashes and was banned")
            continue
        matched = [a for a in sent if a in endpoints]
        if not matched and not _is_address(urlsplit(url).hostname or ""):
            # a host name not resolved: the one address that sent on its port, if no other mirror has that port
            on_port = [a for a in sent if {port(a)} == {port(e) for e in endpoints}]
            if len(on_port) == 1 and sum(1 for _, _, other in given if {port(e) for e in other} ==
                                          {port(e) for e in endpoints}) == 1:
                matched = on_port
        if not matched:
            if url in tally.asked:  # reached, and what it sent (if anything) is not told apart from the others'
                _record(reports.setdefault(mirror.label, MirrorReport(mirror.label)), entry, Fate.OK,
                        "asked as a web seed (what it sent is not told apart from the other sources)")
            continue
        address = matched[0]
        sharing = sum(1 for other, _, reached in given if other is mirror or address in reached)
        report = reports.setdefault(mirror.label, MirrorReport(mirror.label))
        if sharing == 1:
            _record(report, entry, Fate.OK, f"{sent[address]} B of it to the swarm, as a web seed")
        else:
            _record(report, entry, Fate.OK, f"asked as a web seed: {sent[address]} B of it came from {address}, "
                                            f"which {sharing} mirrors share")


class SwarmSource:
    """Gets bundles through one libtorrent session, started the first time a bundle needs it."""

    def __init__(self, config: SwarmConfig, peers: tuple[tuple[str, int], ...], stall: float, log: Log,
                 min_rate: float = 0) -> None:
        self.config, self.peers, self.stall, self.log = config, peers, stall, log
        self.min_rate = min_rate  # bytes per second over each stall window, as for a mirror (--min-rate)
        self._swarm: Swarm | None = None
        self._unfinished: list[tuple[BundleEntry, Path, Path]] = []  # (entry, partial file, DEST) for next time

    def __enter__(self) -> SwarmSource:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._swarm is not None:
            self._swarm.__exit__(kind, exc, tb)
            self._swarm = None
        for entry, partial, dest in self._unfinished:
            if already_here(dest, entry) is not None:  # the mirrors delivered it after all
                partial.unlink(missing_ok=True)
                tidy_downloads(dest)

    def _session(self) -> Swarm:
        if self._swarm is None:
            self._swarm = Swarm(self.config, self.log).__enter__()
            where = ", ".join(self._swarm.addresses) or "no address: only out through the proxy"
            self.log(f"swarm: listening on {where} ({self.config.reach.value})")
        return self._swarm

    def _may_seed(self, base: str) -> bool:
        """Whether a mirror may be a web seed in this reach. On the local network only an address of it, or a
        name it answers for itself (mDNS, `.local`): any other name would be asked of the DNS server, outside."""
        if self.config.reach is not Reach.LAN or self.config.proxy is not None:
            return True
        host = (urlsplit(base).hostname or "").rstrip(".").lower()
        if host == "localhost" or host.endswith(".local"):
            return True
        try:
            address = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return False
        number = int(address)
        return any(int(ipaddress.ip_address(first)) <= number <= int(ipaddress.ip_address(last))
                   for first, last in allowed_ranges(Reach.LAN) or ()
                   if ipaddress.ip_address(first).version == address.version)

    def get(self, entry: BundleEntry, mirrors: list[Mirror], downloads: Path, reports: dict[str, MirrorReport],
            log: Log, progress: Progress) -> Path | None:
        """The bundle's bytes, with the signed SHA-256, as DEST/.mirror-downloads/<sha256>.7z.part; or None.

        Raises:
            ListenError: the session cannot listen.
            OSError: the downloaded file cannot be written or read.
        """
        report = reports.setdefault(LABEL, MirrorReport(LABEL))
        if entry.infohash is None or entry.magnet is None:
            log(f"swarm: no torrent is listed for {entry.id} (an index published before torrents, or a room's "
                "listing, which names none)")
            return None
        info = checked_info(entry, mirrors, reports, log)
        trusted = [m for m in mirrors if not reports.setdefault(m.label, MirrorReport(m.label)).distrusted]
        bases = tuple(b for b in map(_base, trusted) if b and self._may_seed(b))
        if self.config.reach is Reach.LOCAL and not self.peers and not bases:  # nobody it could ask: not waited for
            log(f"swarm: {entry.id}: no peer named and no mirror to be a web seed; from the mirrors")
            return None
        folder = work_folder(downloads / FOLDER)
        wanted = Wanted(entry.infohash, info, folder, f"{entry.sha256}.7z",
                        entry.size, web_seeds(bases, entry.sha256), magnet_trackers(entry.magnet), self.peers)
        deadlines = Deadlines(self.stall, self.stall + entry.size / MIN_RATE, int(self.min_rate * self.stall))
        tally = Tally()
        try:
            with progress(entry.size, f"swarm {entry.sha256[:8]}") as advance:
                self._session().download(wanted, deadlines, advance, tally)
        except ListenError:
            raise  # no session at all: nothing from the swarm this run
        except TransferError as exc:
            _record(report, entry, Fate.of(exc.failure), exc.reason)
            log(f"swarm: {entry.id}: {exc.reason}")
            self._unfinished.append((entry, folder / wanted.file_name, downloads.parent))
            _credit_web_seeds(trusted, bases, entry, tally, reports)  # those reached saw the reader all the same
            return None
        got = folder / wanted.file_name
        with contextlib.suppress(OSError):  # a file left longer by an earlier run: its tail is no piece of ours
            if got.stat().st_size > entry.size:
                os.truncate(got, entry.size)
        if file_sha256(got) != entry.sha256:
            got.unlink()
            _record(report, entry, Fate.TAMPERED,
                    f"{entry.path}: the copy does not match the sha256 it was listed with")
            return None
        part = downloads / f"{entry.sha256}.7z.part"
        os.replace(got, part)
        _record(report, entry, Fate.OK, tally.summary())
        log(f"swarm: {entry.id}: {tally.summary()}")
        _credit_web_seeds(trusted, bases, entry, tally, reports)
        return part

