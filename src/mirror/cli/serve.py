"""`mirror serve`: share a folder of bundles with the people in the room, until Ctrl-C.

Example::

    $ mirror serve incoming/ --lan
    serving 2 bundle(s) from incoming (the publisher's signed index, as it is)
      http://192.168.1.23:8470/
    announced on the local network as mirror-3fa2c1 (_mirror-bundle._tcp)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from mirror.cli.app import main
from mirror.cli.common import echo, given_path, keys_option, open_keyring, say, terminal_encoding, warn

if TYPE_CHECKING:
    from mirror.serve.room import Room


def _started(room: Room, lan: bool) -> None:
    from mirror.formats.names import printable
    from mirror.trust.fingerprint import qr_terminal

    catalog = room.catalog
    kind = ("the publisher's signed index, as it is" if catalog.signed_index
            else "an unsigned listing: readers rely on each bundle's author signature")
    say(f"serving {len(catalog.offers)} bundle(s) from {printable(str(catalog.root))} ({kind})")
    for problem in catalog.skipped:
        warn(f"skipped {problem}")
    for note in catalog.notes:
        warn(f"note: {note}")
    if lan:
        warn("--lan: anyone on the networks this machine is connected to can open the page and download these "
             "bundles, and sees this machine's address (docs/resharing.md)")
        if not room.urls:
            warn("no network address besides 127.0.0.1 was found: other devices cannot reach this machine yet")
    for url in room.urls:
        say(f"  {url}")
        if lan:
            echo(qr_terminal(url, terminal_encoding()), nl=False)
    if room.announced_as:
        say(f"announced on the local network as {room.announced_as} (_mirror-bundle._tcp)")
    warn("press Ctrl-C to stop")


@main.command()
@click.argument("folder", type=given_path(file_okay=False, path_type=Path), default=Path("."))
@click.option("--lan", is_flag=True,
              help="listen on every network of this machine and announce it there (default: 127.0.0.1 only)")
@click.option("--port", type=click.IntRange(0, 65535), default=8470, show_default=True,
              help="TCP port; 0 picks a free one")
@click.option("--no-announce", is_flag=True, help="with --lan: do not announce the room over mDNS")
@keys_option
def serve(folder: Path, lan: bool, port: int, no_announce: bool, keys_dir: Path | None) -> None:
    """Serve FOLDER (a mirror copy, or a plain folder of bundles) to readers: a page at / and the mirror layout.

    Every bundle is verified before it is offered. Readers fetch with `mirror fetch --mirror URL`
    (or `--lan`), or open the page on a phone. A folder that holds more bundles than a room offers gets those
    whose signer your keyring trusts first, then those endorsed by keys it trusts, then the newest.
    """
    from mirror.serve.room import RoomRequest, serve_room

    totals: list[Room] = []

    def started(room: Room) -> None:
        totals.append(room)
        _started(room, lan)

    keys = open_keyring(keys_dir).snapshot()
    serve_room(RoomRequest(folder, lan=lan, port=port, announce=not no_announce, keys=keys), warn, started)
    if totals:
        stats = totals[0].stats
        warn(f"stopped: {stats.requests} request(s), {stats.bytes_sent} bytes sent, "
             f"{stats.too_slow} too-slow client(s) cut off")
