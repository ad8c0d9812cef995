"""`mirror torrent` and `mirror seed`, and the swarm options `fetch --torrent` shares with seed.

Example::

    $ mirror torrent almaty.7z --mirror https://a.example/m/
    TORRENT  almaty.torrent
      infohash  4a1f...
    $ mirror seed incoming/ --lan --upload-limit 200
    listening on 0.0.0.0:6881, [::]:6881 (lan)
    SEEDING  almaty-january-2022-9160a322-v2.7z  4a1f...  Almaty, January 2022
"""

from __future__ import annotations

import contextlib
import importlib.util
import ipaddress
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mirror.cli.app import main
from mirror.cli.common import (
    check_suffix,
    config_option,
    dump_json,
    given_path,
    json_option,
    keys_option,
    open_keyring,
    say,
    seconds,
    warn,
)
from mirror.cli.failure import fail
from mirror.errors import ConfigError, ExitCode, UntrustedSigner, VerificationError
from mirror.i18n import verbatim

if TYPE_CHECKING:
    from mirror.bundle.seeds import Refusal, Seed
    from mirror.fetch.fetcher import EntrySource
    from mirror.swarm.engine import Swarm
    from mirror.swarm.settings import SwarmConfig

STATS_EVERY = 60.0
MAX_UPLOAD_KIB = (2**31 - 1) // 1024  # libtorrent keeps a rate in a 32-bit int of bytes: more wraps round to 0 or 1
WARNINGS = {
    "lan": "warning: every device on your local network can see your address and which bundles you share",
    "public": "warning: anyone on the internet, including whoever watches these bundles, sees your IP address "
              "and that you share them; do not seed from an address that can be traced to you if that puts you "
              "at risk (docs/swarm.md)",
}


def reach_options(lan: bool = True) -> Callable[[Any], Any]:
    """--lan, --public, --port, --upload-limit: how far the BitTorrent session reaches, and how fast it sends.

    `fetch` has a --lan of its own (rooms and LAN peers alike: "the local network may be used"), so it asks for
    these without it.
    """
    options = [
        click.option("--public", is_flag=True, help="the internet: DHT, trackers; every peer sees your IP address"),
        click.option("--port", "port", type=click.IntRange(0, 65535), default=0,
                     help="BitTorrent listening port (default: any free one)"),
        click.option("--upload-limit", type=click.IntRange(0, MAX_UPLOAD_KIB), default=0, metavar="KIB/S",
                     help="upload at most this many KiB per second, to every peer together (0: no limit)"),
    ]
    if lan:
        options.insert(0, click.option("--lan", is_flag=True,
                                       help="the local network: Local Service Discovery, LAN peers only"))

    def decorate(func: Any) -> Any:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def require_libtorrent() -> None:
    """Fail with a hint when the optional BitTorrent engine is missing.

    Raises:
        ConfigError: libtorrent is not installed.
    """
    if importlib.util.find_spec("libtorrent") is None:
        raise ConfigError("the swarm needs libtorrent, which is not installed", hint="pip install 'mirror[swarm]'")


def swarm_config(lan: bool, public: bool, port: int, upload_limit: int, proxy: str | None = None,
                 max_peers: int = 50) -> SwarmConfig:
    """The session settings the options ask for.

    Raises:
        ConfigError: --lan with --public, or a proxy with either.
    """
    from mirror.swarm.settings import Reach, SwarmConfig

    require_libtorrent()
    if lan and public:
        raise ConfigError("--lan and --public exclude each other", hint="--public already includes the local network")
    reach = Reach.PUBLIC if public else Reach.LAN if lan else Reach.LOCAL
    if reach.value in WARNINGS:
        warn(WARNINGS[reach.value])
    return SwarmConfig(reach, port, upload_limit * 1024, proxy=proxy, max_peers=max_peers)


SWARM_HINT = ("hint: the index lists these bundles in the swarm too: mirror fetch --torrent --peer IP:PORT, or "
              "--lan / --public (other peers then see your IP address; docs/swarm.md)")


@contextlib.contextmanager
def swarm_source(wanted: bool, peers: tuple[str, ...], lan: bool, public: bool, port: int, upload_limit: int,
                 proxy: str | None, stall: float, min_rate: float = 0) -> Iterator[EntrySource | None]:
    """For `fetch --torrent`: the swarm as a source of bundles, its session closed at the end; None if not wanted.

    Raises:
        ConfigError: contradictory options, a bad --peer, or no libtorrent.
    """
    if not wanted:
        yield None
        return
    from mirror.fetch.swarm import SwarmSource

    config = swarm_config(lan, public, port, upload_limit, proxy)
    with SwarmSource(config, tuple(parse_peer(p) for p in peers), stall, warn, min_rate) as source:
        yield source.get


def checked_urls(urls: tuple[str, ...], what: str) -> tuple[str, ...]:
    """`urls`, if each is an http(s) or udp URL.

    Raises:
        ConfigError: one is not, naming `what`.
    """
    from mirror.errors import ManifestError
    from mirror.formats.torrent import check_urls

    try:
        return check_urls(urls, what)
    except ManifestError as exc:
        raise ConfigError(str(exc)) from None


def parse_peer(text: str) -> tuple[str, int]:
    """HOST:PORT or [V6]:PORT with an IP address (no names: resolving one would tell a DNS server).

    Raises:
        ConfigError: not an address and port.
    """
    host, _, port = text.rpartition(":")
    bracketed = host.startswith("[") and host.endswith("]")
    host = host[1:-1] if bracketed else host
    if ":" in host and not bracketed:  # 2001:db8::1:2 is an address, or ::1 and port 2: never guessed
        raise ConfigError(f"--peer {text!r}: an IPv6 address goes in brackets before its port, e.g. [::1]:6881")
    try:
        address, number = ipaddress.ip_address(host), int(port)
    except ValueError:
        raise ConfigError(f"--peer {text!r}: expected IP:PORT, e.g. 192.168.1.20:6881 or [::1]:6881") from None
    if not 0 < number < 65536:
        raise ConfigError(f"--peer {text!r}: port out of range")
    return str(address), number


@main.command()
@click.argument("bundle", type=given_path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--out", type=given_path(dir_okay=False, path_type=Path),
              help="where to write it (default: BUNDLE with .torrent instead of .7z)")
@click.option("--mirror", "mirrors", multiple=True,
              help="a mirror's public URL: the bundle there becomes a web seed (default: mirror.toml's hosts)")
@click.option("--tracker", "trackers", multiple=True, help="a tracker URL (default: mirror.toml's, else none)")
@click.option("--untrusted", is_flag=True, help="make it even though the author is not in your keyring")
@click.option("--force", is_flag=True, help="replace an existing output file")
@json_option
@config_option
@keys_option
def torrent(bundle: Path, out: Path | None, mirrors: tuple[str, ...], trackers: tuple[str, ...], untrusted: bool,
            force: bool, as_json: bool, config_path: Path | None, keys_dir: Path | None) -> None:
    """Verify BUNDLE and write the .torrent `mirror publish` writes for it; print its info hash and magnet link."""
    from mirror.bundle.parts import whole_refusal
    from mirror.bundle.seeds import torrent_beside
    from mirror.bundle.torrent import make_torrent
    from mirror.bundle.verify import verify_bundle
    from mirror.formats.names import check_name_length
    from mirror.formats.torrent import magnet_link
    from mirror.safeio import atomic_write, file_stamp

    if out is not None:
        check_suffix(out, ".torrent")  # `-o keep.7z --force` replaced a bundle with a torrent
        check_name_length(out)  # before the bundle is verified, not after
        if not out.parent.is_dir():
            raise ConfigError(f"{out.parent} is not a folder", hint="-o names a file in an existing folder")
    stamp = file_stamp(bundle)  # the torrent must describe the bytes verified: a copy still being written is not
    try:
        verified = verify_bundle(bundle, open_keyring(keys_dir))
    except VerificationError:
        refusal = whole_refusal(bundle)  # a part or a volume: say what it is, exit 2
        if refusal is not None:
            raise refusal from None
        raise
    if not verified.trusted and not untrusted:
        raise UntrustedSigner(verified.key_id, verified.fingerprint)
    from mirror.formats.torrent import lower_scheme

    mirrors, trackers = tuple(map(lower_scheme, mirrors)), tuple(map(lower_scheme, trackers))
    if any(not url.startswith(("http://", "https://")) for url in mirrors):  # a web seed is HTTP (BEP 19)
        raise ConfigError("--mirror: every URL must be http(s):// (a mirror is a web seed)",
                          hint="name trackers with --tracker")
    mirrors, trackers = _publisher_defaults(config_path, mirrors, trackers)  # as publish writes them
    mirrors, trackers = tuple(map(lower_scheme, mirrors)), tuple(map(lower_scheme, trackers))
    checked_urls(mirrors + trackers, "--mirror and --tracker")
    made = make_torrent(bundle, verified, mirrors, trackers)
    if file_stamp(bundle) != stamp:  # it changed between the check and the hashing: the torrent is of other bytes
        raise ConfigError(f"{bundle} changed after it was verified",
                          hint="let whatever writes it finish, then try again")
    target = out or torrent_beside(bundle)
    if target.resolve() == bundle.resolve():
        raise ConfigError(f"{target} is the bundle itself", hint="name the output with -o FILE.torrent")
    atomic_write(target, made.torrent.to_bytes(), overwrite=force)
    info = made.torrent.info
    doc = {"torrent": str(target), "name": info.name, "infohash": info.infohash, "size": info.length,
           "piece_length": info.piece_length, "web_seeds": list(made.torrent.web_seeds), "trackers": list(trackers),
           "magnet": magnet_link(info, made.torrent.web_seeds, trackers)}
    if as_json:
        dump_json(doc)
        return
    say(f"TORRENT  {target}")
    for key in ("name", "infohash", "magnet"):
        say(f"  {key:<9} {doc[key]}")
    say(f"  web seeds {len(made.torrent.web_seeds)}, trackers {len(trackers)}, "
        f"{len(info.pieces) // 20} piece(s) of {info.piece_length // 1024} KiB")


def _publisher_defaults(config_path: Path | None, mirrors: tuple[str, ...],
                        trackers: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """--mirror and --tracker, else what mirror.toml gives publish, so that both write the same file."""
    from mirror.cli.common import nearest_config, warn
    from mirror.cli.workspaces import config_known
    from mirror.formats.names import printable
    from mirror.publish.config import load_config

    path = config_path or nearest_config()
    if path is None or (mirrors and trackers):
        return mirrors, trackers
    if config_path is None and not config_known(path):  # a stick's trackers and web seeds: readers' clients ask them
        warn(f"{printable(str(path))} is not used: you never named it, as it is now, with --config")
        return mirrors, trackers
    config = load_config(path)
    return (mirrors or tuple(h.reader_url for h in config.hosts if h.reader_url),
            trackers or (config.publisher.trackers if config.publisher else ()))


@main.command()
@click.argument("folder", type=given_path(exists=True, file_okay=False, path_type=Path))
@reach_options()
@click.option("--tracker", "trackers", multiple=True, help="announce to this tracker too (with --public)")
@click.option("--max-peers", type=click.IntRange(1, 10000), default=50, help="connect to at most this many peers")
@click.option("--untrusted", is_flag=True, help="also seed intact bundles whose author is not in your keyring")
@click.option("--stop-after", type=seconds(1), metavar="SECONDS", help="stop after this long (default: never)")
@keys_option
def seed(folder: Path, lan: bool, public: bool, port: int, upload_limit: int, trackers: tuple[str, ...],
         max_peers: int, untrusted: bool, stop_after: float | None, keys_dir: Path | None) -> None:
    """Seed every bundle in FOLDER that verifies: a mirror copy or a folder of bundles. Only 127.0.0.1 by default."""
    from mirror.bundle.seeds import check_seeds, find_bundles, passed_over
    from mirror.formats.names import printable
    from mirror.formats.torrent import lower_scheme
    from mirror.swarm.engine import Swarm

    config = swarm_config(lan, public, port, upload_limit, max_peers=max_peers)
    trackers = checked_urls(tuple(map(lower_scheme, trackers)), "--tracker")
    if trackers and not public:
        raise ConfigError("--tracker is only used with --public",
                          hint="a tracker is public: add --public, or leave --tracker out")
    paths = find_bundles(folder)
    for path in passed_over(folder):  # said, as serve says it; the exit code stays the bundles' own
        say(f"REFUSED  {printable(str(path))}: a link or not a regular file, never followed; seed offers regular "
            f"files only")
    if not paths:
        raise ConfigError(f"no bundles in {folder}", hint="a mirror copy holds bundles/*.7z, a plain folder *.7z")
    seeds, refused = check_seeds(paths, open_keyring(keys_dir).snapshot(), untrusted)
    for refusal in refused:
        say(f"REFUSED  {refusal.path}: {refusal.reason}")
    if not seeds:
        fail(f"nothing to seed in {folder}: no bundle verified", "mirror verify shows why, bundle by bundle",
             _exit_code(refused))
    with Swarm(config, warn) as swarm:
        say(f"listening on {', '.join(swarm.addresses)} ({config.reach.value})")
        for item in seeds:
            swarm.seed(_info_bytes(item), item.path, trackers, item.stamp)  # as it was before it was checked
            say(f"SEEDING  {item.info.name}  {item.info.infohash}  {_title(item)}")
            if item.note is not None:
                warn(f"  {item.path.name}: {item.note}")
        _serve(swarm, len(seeds), stop_after)
    sys.exit(int(_exit_code(refused)))


def _info_bytes(item: Seed) -> bytes:
    from mirror.formats.bencode import bencode

    return bencode(item.info.to_value())


def _title(item: Seed) -> str:
    from mirror.formats.names import printable

    title = verbatim(printable(item.title))  # the author's words: never read as the tool's
    return title + ("" if item.trusted else f"  (author {item.signer} is not in your keyring)")


def _exit_code(refused: list[Refusal]) -> ExitCode:
    """The gravest refusal: a bundle that must not be trusted, then an I/O error, then an unknown author."""
    codes = {r.exit_code for r in refused}
    return next((c for c in (ExitCode.INVALID, ExitCode.ERROR, ExitCode.UNTRUSTED) if c in codes),
                max(codes, default=ExitCode.OK))


def _serve(swarm: Swarm, count: int, stop_after: float | None) -> None:
    """Seed until Ctrl-C, SIGTERM or --stop-after; a line of numbers on stderr every minute."""
    end = time.monotonic() + stop_after if stop_after else float("inf")
    next_stats = time.monotonic() + STATS_EVERY
    with _stop_on_signals() as stopped:
        while not stopped and time.monotonic() < end:
            swarm.serve(min(1.0, max(0.0, end - time.monotonic())))
            if time.monotonic() >= next_stats:
                peers, sent = swarm.uploaded()
                warn(f"seeding {count} bundle(s): {peers} peer(s) connected, {sent} B uploaded")
                next_stats += STATS_EVERY
    warn(f"stopped: {swarm.uploaded()[1]} B uploaded")


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[list[int]]:
    """A list that SIGINT, SIGTERM and SIGHUP append to, so that seeding ends cleanly; the old handlers come back
    after."""
    stopped: list[int] = []
    previous = {number: signal.signal(number, lambda signum, frame: stopped.append(signum))
                for number in {signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", signal.SIGTERM)}
                if signal.getsignal(number) is not signal.SIG_IGN}  # nohup, a script's `&`: still ignored
    try:
        yield stopped
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
