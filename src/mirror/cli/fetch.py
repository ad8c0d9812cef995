"""`mirror fetch`: bundles from whichever mirror answers, verified before they land in DEST.

Example::

    $ mirror fetch --mirror https://a.example/m/ --mirror /media/usb/mirror
    mirror  timeout     https://a.example/m/
            index   timeout     GET index.json: too slow: 30 bytes in the last 30 s (at least 1 KiB/s needed)
    mirror  ok          /media/usb/mirror
            index   ok          index v5 (chosen)
            bundle  ok          241a9ca1c0de v2: 612,345 bytes in 0.4 s
    ARRIVED  'Almaty, January 2022' v2 -> ./241a9ca1...-v2.7z  signed by alice

Progress ("trying ...", "still waiting ...", why a mirror was left) goes to stderr as it happens.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mirror.cli.app import main
from mirror.cli.common import (
    dump_json,
    endorsers_option,
    given_path,
    json_option,
    keys_option,
    open_keyring,
    reader_policy_for,
    say,
    seconds,
    shell_word,
)
from mirror.cli.progress import echo_err
from mirror.cli.swarm import SWARM_HINT, reach_options, swarm_source
from mirror.errors import ConfigError, MirrorError
from mirror.i18n import verbatim
from mirror.safeio import writing_to

if TYPE_CHECKING:
    from mirror.fetch.fetcher import FetchResult
    from mirror.fetch.keep import Kept
    from mirror.fetch.lan import Peer
    from mirror.fetch.report import MirrorReport
    from mirror.trust.keyset import TrustedKeys
    from mirror.trust.rollback import Choice


class ByteRate(click.ParamType):  # type: ignore[type-arg]
    """Bytes per second: 2048, 2K, 1.5M (K and M are powers of 1024)."""

    name = "rate"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        """Parse, or fail as click does."""
        from mirror.net.pace import parse_rate

        try:
            return parse_rate(value)
        except ConfigError:
            self.fail(f"{value!r} is not a rate like 2048, 2K or 1.5M (bytes per second)", param, ctx)


def _mirror_rows(reports: dict[str, MirrorReport]) -> list[dict[str, Any]]:
    return [r.to_json() for r in reports.values()]


def _print_mirrors(reports: dict[str, MirrorReport]) -> None:
    from mirror.formats.names import printable
    from mirror.i18n import fate_word

    for report in reports.values():
        value = fate_word(report.fate.value)
        say(f"mirror  {value:<11} {printable(report.label)}")
        if report.index is not None:
            value = fate_word(report.index.fate.value)
            _say_index(value, report.index.detail)
        for entry, event in report.bundles.values():
            value = fate_word(event.fate.value)
            detail = printable(event.detail)  # by its name: a message translated in turn
            say(f"        bundle  {value:<11} {entry.id} v{entry.version}: {detail}")


def _say_index(value: str, said: str) -> None:
    """A mirror's index row: its words translated, "(chosen)" too (choose.py adds it to the detail --json shows)."""
    from mirror.formats.names import printable

    chosen = said.endswith(" (chosen)")
    detail = printable(said.removesuffix(" (chosen)"))  # by its name: a message translated in turn
    fresh = re.fullmatch(r"index v([0-9]+)", detail)
    version = fresh[1] if fresh else ""
    if fresh and chosen:
        say(f"        index   {value:<11} index v{version} (chosen)")
    elif fresh:
        say(f"        index   {value:<11} index v{version}")
    elif chosen:
        say(f"        index   {value:<11} {detail} (chosen)")
    else:
        say(f"        index   {value:<11} {detail}")


def _index_doc(chosen: Choice) -> dict[str, Any]:
    index = chosen.index
    signed = {"version": index.version, "publisher_key": index.publisher_key, "created": index.created,
              "expires": index.expires} if chosen.signed else dict.fromkeys(("version", "publisher_key", "created",
                                                                              "expires"))
    return {"from": chosen.label, "signed": chosen.signed, **signed, "expired": chosen.expired,
            "bundles": [{"id": e.id, "version": e.version, "title": e.title, "size": e.size, "sha256": e.sha256,
                         "author_key": e.author_key, "infohash": e.infohash, "magnet": e.magnet}
                        for e in index.bundles]}


def _print_list(chosen: Choice) -> None:
    from mirror.formats.names import printable

    if chosen.signed:
        say(f"index v{chosen.index.version} from {chosen.label}, expires {chosen.index.expires}"
            + (" (EXPIRED)" if chosen.expired else ""))
    else:
        say(f"unsigned listing from {chosen.label}: each bundle is trusted only by its author's signature")
    for entry in chosen.index.bundles:
        title = verbatim(printable(entry.title))  # a mirror's words: never read as the tool's
        say(f"  {entry.id}  v{entry.version}  {entry.size:>12} bytes  {title}")


def _print_result(result: FetchResult) -> None:
    from mirror.formats.names import printable

    _print_mirrors(result.reports)
    for arrival in result.arrivals:
        entry = arrival.entry
        title = verbatim(printable(repr(entry.title)))
        if arrival.path is not None:
            say(f"ARRIVED  {title} v{entry.version} -> {arrival.path}  {arrival.note}")
        else:
            say(f"MISSING  {title} v{entry.version} ({entry.id})" + (f"  {arrival.note}" if arrival.note else ""))


def _result_doc(result: FetchResult, peers: list[Peer], kept: Kept | None,
                not_kept: MirrorError | None) -> dict[str, Any]:
    return {"index": _index_doc(result.chosen), "mirrors": _mirror_rows(result.reports),
            **_room_doc(peers, kept, not_kept),
            "bundles": [{"id": a.entry.id, "version": a.entry.version, "title": a.entry.title,
                         "arrived": a.path is not None, "path": None if a.path is None else str(a.path),
                         "trusted": a.trusted, "invalid": a.invalid, "note": a.note} for a in result.arrivals],
            "exit_code": int(result.exit_code or (not_kept.exit_code if not_kept else 0))}


def _peer_rows(peers: list[Peer]) -> list[dict[str, str]]:
    return [{"name": p.name, "url": p.url, "index": p.index} for p in peers]


def _room_doc(peers: list[Peer], kept: Kept | None, not_kept: MirrorError | None = None) -> dict[str, Any]:
    return {"peers": _peer_rows(peers),
            "kept": None if kept is None else {"folder": str(kept.folder), "index_version": kept.index_version,
                                               "bundles": list(kept.bundles)},
            "keep_error": None if not_kept is None else str(not_kept)}


def _find_peers(lan: bool, wait: float, as_json: bool) -> list[Peer]:
    """--lan: the rooms on the local network, listed as they are found."""
    if not lan:
        return []  # zeroconf is not even imported (about 8 MB)
    from mirror.fetch.lan import discover
    from mirror.formats.names import printable

    echo_err(f"looking for rooms on the local network ({wait:g} s) ...")
    peers = discover(wait)
    if not peers:
        echo_err("no room answered on the local network")
    for peer in peers if not as_json else ():
        say(f"peer    {printable(peer.name)}  {peer.url}" + (f"  ({peer.index} index)" if peer.index else ""))
    return peers


def _keep(folder: Path | None, result: FetchResult, keys: TrustedKeys,
          as_json: bool) -> tuple[Kept | None, MirrorError | None]:
    """--keep-mirror: what arrived, in the mirror layout, with the signed index as fetched; or why it could not be.

    What arrived in DEST stays, and is reported, whatever happens to the copy.
    """
    from mirror.fetch.keep import Kept, keep_mirror

    if folder is None:
        return None, None
    done: list[str] = []
    try:
        kept = keep_mirror(folder, result, keys, done)
    except (MirrorError, OSError) as exc:
        error = exc if isinstance(exc, MirrorError) else MirrorError(
            f"{f'{exc.filename}: ' if exc.filename else ''}{exc.strerror or exc}")
        return (Kept(folder, None, tuple(done)) if done else None), error
    if not as_json:
        index = f"signed index v{kept.index_version}" if kept.index_version else "no signed index (a plain folder)"
        say(f"KEPT     {len(kept.bundles)} bundle(s) and {index} in {kept.folder}: serve it with `mirror serve`")
    return kept, None


def _room_options(func: Any) -> Any:
    """--lan, --lan-wait, --unsigned, --keep-mirror: fetching in a room, and becoming a mirror."""
    options = [
        click.option("--lan", is_flag=True, help="also fetch from rooms found on the local network (mDNS)"),
        click.option("--lan-wait", type=seconds(0.5, 60), default=3.0, show_default=True,
                     help="seconds to listen for rooms with --lan"),
        click.option("--unsigned", is_flag=True,
                     help="use a peer's unsigned listing even after having accepted a publisher's signed index"),
        click.option("--keep-mirror", type=given_path(file_okay=False, path_type=Path),
                     help="also keep what arrived as a mirror copy in this folder (signed index as fetched)"),
    ]
    for option in reversed(options):
        func = option(func)
    return func


class UtcTime(click.ParamType):  # type: ignore[type-arg]
    """A UTC time as mirror writes it (2022-01-05T18:30:12Z); anything else is a usage error (exit 2)."""

    name = "UTC time"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        """Parse, or fail as click does."""
        from mirror.formats.timefmt import parse_time

        if isinstance(value, datetime):
            return value
        try:
            return parse_time(value)
        except ValueError:
            self.fail(f"{value!r} is not a UTC time like 2022-01-05T18:30:12Z", param, ctx)


def _folders_hint(mirrors: tuple[str, ...]) -> str | None:
    """What to do when every mirror named is a folder (a USB stick) and none held a signed index: a proxy is no
    help there. A folder that holds bundles needs no fetch: each one verifies by its author's key."""
    from urllib.parse import unquote, urlsplit

    folders = []
    for mirror in mirrors:
        parts = urlsplit(mirror)
        if Path(mirror).is_dir():  # fetch reads it as a folder, a colon in its name or not ("usb:stick", "D:\\")
            folders.append(Path(mirror))
        elif parts.scheme == "file":
            folders.append(Path(unquote(parts.path)))
        elif parts.scheme or "://" in mirror:
            return "try other mirrors, or a proxy (--proxy)"
        else:
            folders.append(Path(mirror))
    from mirror.serve.candidates import bundle_folders, named_like_a_bundle

    for folder in folders:
        with contextlib.suppress(OSError):
            # ALMATY.7Z as a FAT stick or a phone names it, in the folder (a link to it too) or its bundles/ (a
            # mirror's copy): where `mirror serve FOLDER` finds them
            named = (p for where in bundle_folders(folder) for p in where.iterdir() if named_like_a_bundle(p.name))
            # a regular file, as a room offers: not a link (to /etc/passwd, or to a bundle the room would not offer)
            found = next((p for p in sorted(itertools.islice(named, 1000)) if p.is_file() and not p.is_symlink()),
                         None)
            if found is not None:
                return (f"{folder} holds bundles but no signed index: check each with mirror verify "
                        f"{shell_word(found)}, or read it with mirror extract; mirror serve {shell_word(folder)} "
                        "offers them to a room")
    return "name the folder that holds the mirror (its index.json) or the bundles"


@main.command()
@click.argument("bundle_ids", nargs=-1)
@click.option("--mirror", "mirrors", multiple=True, help="a mirror URL, file:// URL or folder; repeat to add more")
@click.option("--all", "want_all", is_flag=True, help="every bundle in the index (the default without ids)")
@click.option("--list", "list_only", is_flag=True, help="show the bundles the index lists; download nothing")
@click.option("--dest", type=given_path(file_okay=False, path_type=Path), default=Path("."),
              help="where verified bundles go (default: here)")
@click.option("--proxy", help="e.g. socks5h://127.0.0.1:9050 (Tor); names are resolved by the proxy, socks5:// too")
@click.option("--strict", is_flag=True, help="refuse an expired index instead of warning")
@click.option("--timeout", type=seconds(1, 600), default=30.0, show_default=True,
              help="seconds to connect, and to wait for data that stopped (also the window of --min-rate)")
@click.option("--min-rate", type=ByteRate(), default="1K", show_default=True,
              help="leave a mirror that sends less than this per second, averaged over --timeout seconds; 0: never")
@click.option("--budget", type=seconds(1, 86400), default=120.0, show_default=True,
              help="seconds one mirror may take for the index, and for each turn at a download")
@click.option("--parallel", type=click.IntRange(1, 8), default=2, show_default=True,
              help="bundles downloaded at once, each from whichever mirror answers (the swarm takes one at a time)")
@click.option("--now", type=UtcTime(), hidden=True, help="pretend it is this UTC time (tests)")
@click.option("--torrent", "use_torrent", is_flag=True,
              help="get bundles from the swarm first: peers and the mirrors as web seeds together (docs/swarm.md)")
@click.option("--peer", "torrent_peers", multiple=True, metavar="IP:PORT",
              help="a BitTorrent peer to ask (implies --torrent); repeat")
@reach_options(lan=False)
@_room_options
@json_option
@endorsers_option
@keys_option
def fetch(bundle_ids: tuple[str, ...], mirrors: tuple[str, ...], want_all: bool, list_only: bool, dest: Path,
          proxy: str | None, strict: bool, timeout: float, min_rate: int, budget: float, parallel: int,
          now: datetime | None, use_torrent: bool, torrent_peers: tuple[str, ...], public: bool, port: int,
          upload_limit: int, as_json: bool, require_endorsers: int | None, keys_dir: Path | None, **room: Any) -> None:
    """Fetch bundles from mirrors with failover and resume, and verify them before they land in DEST."""
    from mirror.cli.progress import byte_progress
    from mirror.fetch.choose import NoIndex
    from mirror.fetch.fetcher import FetchRequest, open_index
    from mirror.fetch.fetcher import fetch as run_fetch
    from mirror.net.pace import Limits

    def progress(total: int, label: str) -> Any:
        return byte_progress(total, label, threshold=1 << 20)

    if proxy is not None:
        from mirror.net.proxy import checked_proxy

        proxy = checked_proxy(proxy)  # socks5:// taken as socks5h://: no name is ever looked up around it
        if room["lan"]:  # rooms on the LAN are private addresses, which Tor never reaches; as for the swarm
            raise ConfigError("a proxy hides your address, --lan and --public show it: choose one")
    if want_all and bundle_ids:  # `--all ID` fetched everything, silently (helper-148)
        raise ConfigError("--all and bundle ids: choose one", hint="mirror fetch --all, or mirror fetch ID ...")
    if room["keep_mirror"] is not None and not list_only:
        from mirror.fetch.keep import check_keep_folder

        check_keep_folder(room["keep_mirror"])  # before anything is downloaded, not after
    peers = _find_peers(room["lan"], room["lan_wait"], as_json)
    lan = bool(room["lan"])
    swarm = use_torrent or bool(torrent_peers) or public or bool(port) or bool(upload_limit)
    keys = open_keyring(keys_dir).snapshot()
    policy = reader_policy_for(require_endorsers)
    try:
        with swarm_source(swarm and not list_only, torrent_peers, lan, public, port, upload_limit, proxy,
                          timeout, min_rate) as get:
            request = FetchRequest((*mirrors, *(p.url for p in peers)), dest, bundle_ids, want_all, proxy, strict,
                                   now, Limits(stall=timeout, min_rate=min_rate, budget=budget), progress,
                                   unsigned=room["unsigned"], swarm=get, policy=policy, parallel=parallel,
                                   keep=room["keep_mirror"] is not None)
            if list_only:
                _, reports, chosen = open_index(request, keys, echo_err)
                if as_json:
                    dump_json({"index": _index_doc(chosen), "mirrors": _mirror_rows(reports),
                               "peers": _peer_rows(peers)})
                else:
                    _print_list(chosen)
                return
            with writing_to(dest):
                result = run_fetch(request, keys, echo_err)
    except NoIndex as exc:
        exc.hint = _folders_hint(mirrors) if not peers and mirrors else exc.hint
        if as_json:
            dump_json({"index": None, "mirrors": _mirror_rows(exc.reports), **_room_doc(peers, None),
                       "bundles": [], "exit_code": int(exc.exit_code)})
        else:
            _print_mirrors(exc.reports)
        raise
    if not as_json:
        _print_result(result)
    kept, not_kept = _keep(room["keep_mirror"], result, keys, as_json)
    if as_json:
        dump_json(_result_doc(result, peers, kept, not_kept))
    if any(a.no_room for a in result.arrivals):
        echo_err("hint: make room on that disk, or fetch into a folder on another one with --dest; what arrived "
                 "stays, and the next run fetches the rest")
    elif not swarm and any(a.path is None and not a.invalid and a.entry.infohash for a in result.arrivals):
        echo_err(SWARM_HINT)
    if not_kept is not None:  # said last, so it is what a reader sees; a worse verdict of the fetch still wins
        error, hint = str(not_kept), not_kept.hint
        if kept is None:
            echo_err(f"mirror: no mirror copy was kept: {error}")
        else:  # bundles kept before the failure stay: they are whole, each checked before it took its name
            echo_err(f"mirror: the mirror copy in {kept.folder} is incomplete: {len(kept.bundles)} bundle(s) kept, "
                     f"but not this run's index: {error}")
        if hint:
            echo_err(f"hint: {hint}")
        sys.exit(int(result.exit_code or not_kept.exit_code))
    sys.exit(int(result.exit_code))
