"""`mirror fetch`: bundles from whichever mirror answers, verified before they land in DEST.

Example::

    $ mirror fetch --mirror https://a.example/m/ --mirror /media/usb/mirror
    mirror  ok          https://a.example/m/  (index v5)
    ARRIVED  'Almaty, January 2022' v2 -> ./241a9ca1...-v2.7z  signed by alice
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mirror.cli import main
from mirror.cli.common import UtcTime, dump_json, json_option, keys_option, open_keyring, say, warn
from mirror.cli.swarm import SWARM_HINT, reach_options, swarm_source

if TYPE_CHECKING:
    from mirror.fetch.fetcher import FetchResult
    from mirror.fetch.report import MirrorReport
    from mirror.trust.rollback import Choice


def _mirror_rows(reports: dict[str, MirrorReport]) -> list[dict[str, str]]:
    return [{"mirror": r.label, "fate": r.fate.value, "detail": r.detail} for r in reports.values()]


def _print_mirrors(reports: dict[str, MirrorReport]) -> None:
    for report in reports.values():
        say(f"mirror  {report.fate.value:<11} {report.label}" + (f"  ({report.detail})" if report.detail else ""))


def _index_doc(chosen: Choice) -> dict[str, Any]:
    index = chosen.index
    return {"from": chosen.label, "version": index.version, "publisher_key": index.publisher_key,
            "created": index.created, "expires": index.expires, "expired": chosen.expired,
            "bundles": [{"id": e.id, "version": e.version, "title": e.title, "size": e.size, "sha256": e.sha256,
                         "author_key": e.author_key, "infohash": e.infohash, "magnet": e.magnet}
                        for e in index.bundles]}


def _print_list(chosen: Choice) -> None:
    from mirror.formats.names import printable

    say(f"index v{chosen.index.version} from {chosen.label}, expires {chosen.index.expires}"
        + (" (EXPIRED)" if chosen.expired else ""))
    for entry in chosen.index.bundles:
        say(f"  {entry.id}  v{entry.version}  {entry.size:>12} bytes  {printable(entry.title)}")


def _print_result(result: FetchResult) -> None:
    from mirror.formats.names import printable

    _print_mirrors(result.reports)
    for arrival in result.arrivals:
        entry = arrival.entry
        title = printable(repr(entry.title))
        if arrival.path is not None:
            say(f"ARRIVED  {title} v{entry.version} -> {arrival.path}  {arrival.note}")
        else:
            say(f"MISSING  {title} v{entry.version} ({entry.id})" + (f"  {arrival.note}" if arrival.note else ""))


def _result_doc(result: FetchResult) -> dict[str, Any]:
    return {"index": _index_doc(result.chosen), "mirrors": _mirror_rows(result.reports),
            "bundles": [{"id": a.entry.id, "version": a.entry.version, "title": a.entry.title,
                         "arrived": a.path is not None, "path": None if a.path is None else str(a.path),
                         "trusted": a.trusted, "invalid": a.invalid, "note": a.note} for a in result.arrivals],
            "exit_code": int(result.exit_code)}


@main.command()
@click.argument("bundle_ids", nargs=-1)
@click.option("--mirror", "mirrors", multiple=True, help="a mirror URL, file:// URL or folder; repeat to add more")
@click.option("--all", "want_all", is_flag=True, help="every bundle in the index (the default without ids)")
@click.option("--list", "list_only", is_flag=True, help="show the bundles the index lists; download nothing")
@click.option("--dest", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              help="where verified bundles go (default: here)")
@click.option("--proxy", help="e.g. socks5h://127.0.0.1:9050 (Tor); names are resolved by the proxy")
@click.option("--strict", is_flag=True, help="refuse an expired index instead of warning")
@click.option("--timeout", type=click.FloatRange(1, 600), default=30.0, help="read timeout in seconds")
@click.option("--now", type=UtcTime(), hidden=True, help="pretend it is this UTC time (tests)")
@click.option("--torrent", "use_torrent", is_flag=True,
              help="get bundles from the swarm first: peers and the mirrors as web seeds together (docs/swarm.md)")
@click.option("--peer", "peers", multiple=True, metavar="IP:PORT", help="a peer to ask (implies --torrent); repeat")
@reach_options
@json_option
@keys_option
def fetch(bundle_ids: tuple[str, ...], mirrors: tuple[str, ...], want_all: bool, list_only: bool, dest: Path,
          proxy: str | None, strict: bool, timeout: float, now: datetime | None, use_torrent: bool,
          peers: tuple[str, ...], lan: bool, public: bool, port: int, upload_limit: int, as_json: bool,
          keys_dir: Path | None) -> None:
    """Fetch bundles from mirrors with failover and resume, and verify them before they land in DEST."""
    from mirror.cli.progress import byte_progress
    from mirror.fetch.choose import NoIndex
    from mirror.fetch.fetcher import FetchRequest, open_index
    from mirror.fetch.fetcher import fetch as run_fetch

    def progress(total: int, label: str) -> Any:
        return byte_progress(total, label, threshold=1 << 20)

    swarm = use_torrent or bool(peers) or lan or public or bool(port) or bool(upload_limit)
    keys = open_keyring(keys_dir).snapshot()
    try:
        with swarm_source(swarm and not list_only, peers, lan, public, port, upload_limit, proxy, timeout) as get:
            request = FetchRequest(mirrors, dest, bundle_ids, want_all, proxy, strict, now,
                                   (min(10.0, timeout), timeout), progress, get)
            if list_only:
                _, reports, chosen = open_index(request, keys, warn)
                if as_json:
                    dump_json({"index": _index_doc(chosen), "mirrors": _mirror_rows(reports)})
                else:
                    _print_list(chosen)
                return
            result = run_fetch(request, keys, warn)
    except NoIndex as exc:
        if as_json:
            dump_json({"index": None, "mirrors": _mirror_rows(exc.reports), "bundles": [],
                       "exit_code": int(exc.exit_code)})
        else:
            _print_mirrors(exc.reports)
        raise
    if as_json:
        dump_json(_result_doc(result))
    else:
        _print_result(result)
    if not swarm and any(a.path is None and not a.invalid and a.entry.infohash for a in result.arrivals):
        warn(SWARM_HINT)
    sys.exit(int(result.exit_code))
