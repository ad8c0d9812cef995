"""The swarm on 127.0.0.1: web seeds from nginx, `mirror seed`, two `fetch --torrent` peers, a lying peer."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner

from evil_peer import EvilPeer
from helpers import make_sources, require_tool
from mirror.bundle.create import CreateRequest, create_bundle
from mirror.formats.index import BundleEntry
from mirror.formats.listing import Listing
from mirror.formats.torrent import Torrent, TorrentInfo
from mirror.trust.keyring import Keyring
from mirror_server import MirrorServer
from room import serving
from servers import DavServer, free_ports, running, stop
from swarm_world import (
    LOOPBACK,
    Author,
    StaticTracker,
    World,
    aria2,
    destinations,
    fetch_args,
    finished,
    make_author,
    make_world,
    mirror,
    peer_bytes,
    seeding,
    started,
    swarm_row,
    transmission,
)


@pytest.fixture(scope="module")
def author(tmp_path_factory: pytest.TempPathFactory) -> Author:
    """alice's key and bundle, made once for this module."""
    return make_author(tmp_path_factory.mktemp("author"))


@pytest.fixture
def world(tmp_path: Path, nginx_dav: DavServer, runner: CliRunner, request: pytest.FixtureRequest,
          author: Author) -> World:
    """alice's bundle, published to a folder that nginx serves."""
    return make_world(tmp_path, nginx_dav, runner, request.node.name.replace("[", "-").replace("]", ""), author)


def _arrived(world: World, dest: Path, result: object) -> Path:
    """The one bundle in DEST, after `mirror verify` says it is intact and trusted."""
    found = list(dest.glob("*.7z"))
    assert len(found) == 1, result
    assert mirror(world, "verify", found[0]).returncode == 0
    assert not (dest / ".mirror-downloads").exists()  # nothing left behind, not even an empty folder
    return found[0]


def test_web_seed_only_download_from_nginx(world: World) -> None:
    """No peer at all: libtorrent gets every piece from nginx serving the published mirror (BEP 19)."""
    dest = world.root / "in"
    result = mirror(world, "fetch", "--torrent", "--mirror", world.url, "--dest", dest, "--json")
    assert result.returncode == 0, result.stderr
    row = swarm_row(result)
    assert row["fate"] == "ok" and "0 B from 0 peer(s)" in row["detail"] and "from 1 web seed(s)" in row["detail"]
    _arrived(world, dest, result)
    (seed_row,) = [m for m in json.loads(result.stdout)["mirrors"] if m["mirror"] != "swarm"]
    events = [b["detail"] for b in seed_row["bundles"]]  # its row says it sent the bundle (a second mirror's said
    assert any(d.endswith("B of it to the swarm, as a web seed") for d in events), seed_row  # "not tried")


def test_a_usb_copy_named_alone_makes_no_public_mirror_a_web_seed(world: World) -> None:
    """A reader names only a USB copy. The swarm took the public mirrors of the signed index (known from an
    earlier fetch) as web seeds, so `fetch --torrent` sent them requests, and looked their names up, although the
    bundle was on the stick. A bundle a folder holds is read from there first (a peer that drips real bytes held the
    swarm for hours), and no mirror hears of it; only a damaged copy there sends the reader to the peers."""
    first = mirror(world, "fetch", "--mirror", world.url, "--dest", world.root / "first")
    assert first.returncode == 0, first.stderr  # the reader's state now holds the index's mirror list
    usb = world.root / "usb"
    shutil.copytree(world.host, usb)
    dest = world.root / "in"
    result = mirror(world, "fetch", "--torrent", "--mirror", usb, "--dest", dest, "--timeout", "60", "--json")
    assert result.returncode == 0, result.stderr
    assert "a folder named holds it; read from there first" in result.stderr, result.stderr
    _arrived(world, dest, result)


def test_a_damaged_usb_copy_sends_the_reader_to_the_peers(world: World) -> None:
    """The stick's copy has the signed size but one byte changed: the peers are asked then (the swarm was skipped
    for a bundle the folder held, and fetch failed), still with no mirror as a web seed."""
    usb = world.root / "usb"
    shutil.copytree(world.host, usb)
    (copy,) = usb.glob("bundles/*.7z")
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    seed_port = free_ports(1)[0]
    dest = world.root / "in"
    with seeding(world, world.host, seed_port):
        result = mirror(world, "fetch", "--torrent", "--mirror", usb, "--peer", f"127.0.0.1:{seed_port}",
                        "--timeout", "10", "--dest", dest, "--json")
    assert result.returncode == 0, result.stderr
    rows = {m["mirror"]: m for m in json.loads(result.stdout)["mirrors"]}
    assert rows[str(usb)]["fate"] == "tampered" and rows["swarm"]["fate"] == "ok", rows
    assert "0 B from 0 web seed(s)" in rows["swarm"]["detail"] or "from 0 web seed" in rows["swarm"]["detail"]
    _arrived(world, dest, result)


class _Redirecting(BaseHTTPRequestHandler):
    """A mirror that serves its folder but sends every bundle request elsewhere (302 to `away`); with no `root`,
    the place it sends them, which records who came."""

    root: Path | None = None
    away = ""
    came: ClassVar[list[str]] = []

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        type(self).came.append(self.path)
        target = self.root / self.path.lstrip("/") if self.root is not None else None
        if target is not None and self.path.endswith(".7z"):
            self.send_response(302)
            self.send_header("Location", self.away + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif target is not None and ".." not in self.path and target.is_file():
            body = target.read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_error(404)


def test_a_web_seed_that_redirects_elsewhere_is_not_followed(world: World) -> None:
    """The signed index names one mirror; it answers the bundle with a redirect to another address. fetch's HTTP
    refuses it, and libtorrent, which follows web seed redirects, reaches nobody there: in the local reach only
    the named peers and the web seeds' own addresses may be connected to."""
    elsewhere = type("Elsewhere", (_Redirecting,), {"came": []})
    try:
        away = ThreadingHTTPServer(("127.0.0.2", 0), elsewhere)
    except OSError:
        pytest.fail("127.0.0.2 cannot be bound: the loopback network is not 127.0.0.0/8")
    hop = type("Hop", (_Redirecting,), {"root": world.host, "away": f"http://127.0.0.2:{away.server_port}",
                                        "came": []})
    here = ThreadingHTTPServer(("127.0.0.1", 0), hop)
    for server in (away, here):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        dest = world.root / "in"
        result = mirror(world, "fetch", "--torrent", "--mirror", f"http://127.0.0.1:{here.server_port}/", "--dest",
                        dest, "--timeout", "5", "--json")
    finally:
        for server in (away, here):
            server.shutdown()
            server.server_close()
    assert any(path.endswith(".7z") for path in hop.came), hop.came  # libtorrent or fetch asked for it here
    assert elsewhere.came == []  # and nobody came to the address it was sent to
    assert result.returncode == 4 and not list(dest.glob("*.7z")), result.stderr
    rows = {m["mirror"]: m for m in json.loads(result.stdout)["mirrors"]}  # libtorrent never asks it again: said
    assert rows["swarm"]["fate"] == "unreachable", rows  # at once, not after the whole --timeout
    assert "answered with a redirect, which is not followed" in rows["swarm"]["detail"], rows


def _listening(port: int, process: subprocess.Popen[str], timeout: float = 30) -> None:
    """Wait until `process` accepts connections on 127.0.0.1:`port` (or has ended)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)


class _Endless(BaseHTTPRequestHandler):
    """A mirror that serves its folder, but answers a bundle with a header that never ends (`line`: a status line
    that never ends; `trickle`: one in small pieces, at most 500 kB/s), for a minute at most."""

    root: Path
    kind = "header"

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        target = self.root / self.path.lstrip("/")
        if not self.path.endswith(".7z"):
            if ".." in self.path or not target.is_file():
                self.send_error(404)
                return
            body = target.read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        start = b"HTTP/1.1 206 Partial Content" + (b"\r\n" if self.kind == "header" else b"")
        filler = b"X-Filler: " + b"a" * 990 + b"\r\n" if self.kind == "header" else b"a" * 1000
        end = time.monotonic() + 60
        with contextlib.suppress(OSError):
            self.wfile.write(start)
            while time.monotonic() < end:
                if self.kind == "trickle":
                    self.wfile.write(filler)
                    self.wfile.flush()
                    time.sleep(0.002)
                else:
                    self.wfile.write(filler * 64)


@pytest.mark.parametrize(("kind", "proxied"), [("header", False), ("line", False), ("trickle", False),
                                               ("header", True)])
def test_a_web_seed_whose_header_never_ends_is_dropped_in_bounded_memory(kind: str, proxied: bool,
                                                                         world: World) -> None:
    """The only web seed answers the bundle with a header that never ends. libtorrent keeps such an answer whole
    and has no setting to bound it: a reader's fetch grew to 770 MB in 10 s, and burnt a core past --timeout.
    The web seed is dropped once its connection holds more than a legitimate answer does, and its row says why;
    also when it comes slowly (`trickle`: under 10 MB in the 20 s, which the first cut's 16 MiB never reached,
    while libtorrent searched the whole line again for its end at each piece); and through a SOCKS5 proxy, the
    mirror named by its host name (as through Tor), where fetch learns no address of the mirror to match the
    connection's with (`proxied`: the first cut never dropped it, and the fetch grew to the deadline)."""
    handler = type("Endless", (_Endless,), {"root": world.host, "kind": kind})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://{'localhost' if proxied else '127.0.0.1'}:{server.server_port}/"
    dest = world.root / "in"
    out, err = world.root / "fetch.out", world.root / "fetch.err"
    proxy: list[str] = []
    with contextlib.ExitStack() as stack:
        if proxied:
            proxy_port = free_ports(1)[0]
            stack.enter_context(running([require_tool("microsocks"), "-i", "127.0.0.1", "-p", str(proxy_port)],
                                        world.root / "socks.log", proxy_port))
            proxy = ["--proxy", f"socks5h://127.0.0.1:{proxy_port}"]
        _fetch_from_endless(server, [sys.executable, "-m", "mirror", "fetch", "--torrent", "--mirror", url, *proxy,
                                     "--dest", str(dest), "--timeout", "20", "--json", "--keys",
                                     str(world.reader_keys)], out, err)
    rows = {m["mirror"]: m for m in json.loads(out.read_bytes())["mirrors"]}
    assert not list(dest.glob("*.7z")), err.read_text()
    assert rows["swarm"]["fate"] == "unreachable", rows
    assert f"{url}: sent more than 1 MiB that was not data (a header without end)" in rows["swarm"]["detail"], rows


def _fetch_from_endless(server: ThreadingHTTPServer, command: list[str], out: Path, err: Path) -> None:
    """Run `command`, a fetch from `server`, at most two minutes, watching its peak memory; then stop the server.

    The peak is the process's own high-water mark (VmHWM, which starts afresh at exec), read until it ends: the
    ru_maxrss that wait4 gives counts the memory of the pytest worker it was forked from (466 MB in CI)."""
    own = Path("/proc/self/cmdline").read_bytes()
    peak = 0
    try:
        with out.open("wb") as stdout, err.open("wb") as stderr:
            process = subprocess.Popen(command, stdout=stdout, stderr=stderr)
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError):
                if Path(f"/proc/{process.pid}/cmdline").read_bytes() not in (own, b""):  # exec'd
                    status = Path(f"/proc/{process.pid}/status").read_text()
                    # a process that ended between the two reads is a zombie: its status has no VmHWM line
                    peak = max([peak, *(int(line.split()[1]) for line in status.splitlines()
                                        if line.startswith("VmHWM:"))])
            time.sleep(0.05)
        if process.poll() is None:
            process.kill()
            process.wait()
    finally:
        server.shutdown()
        server.server_close()
    assert process.returncode == 4, err.read_text()
    assert 0 < peak < 300_000, peak  # KiB


def test_three_sessions_seed_and_two_fetchers(world: World) -> None:
    """`mirror seed` and two concurrent `fetch --torrent` on 127.0.0.1: both bundles verify, readers trade pieces."""
    seed_port, port_a, port_b = free_ports(3)
    # The seed sends at most 256 KiB/s, so the 1.6 MB take seconds from it alone, and the second reader starts
    # once the first listens: a peer not listening yet when dialled is not dialled again for a minute, and the
    # two could each finish from the seed alone (on a loaded machine they did).
    with seeding(world, world.host, seed_port, "--upload-limit", "256"):
        runs = {}
        for mine, other in ((port_a, port_b), (port_b, port_a)):
            runs[mine] = started(world, fetch_args(world, world.root / f"in-{mine}", "--port", str(mine), "--peer",
                                                   f"127.0.0.1:{seed_port}", "--peer", f"127.0.0.1:{other}"))
            _listening(mine, runs[mine])
        results = {port: finished(process) for port, process in runs.items()}
    traded = 0
    for port, result in results.items():
        assert result.returncode == 0, result.stderr
        row = swarm_row(result)
        assert "0 B from 0 web seed(s)" in row["detail"]  # the index came from a folder: peers only
        traded += sum(n for a, n in peer_bytes(row["detail"]).items() if a != f"127.0.0.1:{seed_port}")
        _arrived(world, world.root / f"in-{port}", result)
    assert traded > 0  # the readers served each other, not only the seed


def test_a_peer_serving_corrupted_pieces_is_banned(world: World) -> None:
    """A peer that claims every piece and corrupts each block is banned by libtorrent; the bundle still verifies."""
    entry = world.entry
    torrent = Torrent.from_bytes(world.torrent.read_bytes())
    seed_port = free_ports(1)[0]
    with EvilPeer(world.bundle.read_bytes(), str(entry["infohash"]), torrent.info.piece_length) as evil, \
            seeding(world, world.host, seed_port, "--upload-limit", "500"):
        dest = world.root / "in"
        result = mirror(world, *fetch_args(world, dest, "--peer", evil.address, "--peer", f"127.0.0.1:{seed_port}"))
    assert result.returncode == 0, result.stderr
    assert evil.blocks_sent > 0  # it did get to deliver its bad data
    assert f"banned peer {evil.address}" in result.stderr
    assert f"banned {evil.address}" in swarm_row(result)["detail"]
    assert result.stderr.count(f"banned peer {evil.address}") == 1  # named once, however many pieces it spoilt
    _arrived(world, dest, result)


def test_a_torrent_that_contradicts_the_signed_index_is_refused_before_download(world: World, tmp_path: Path) -> None:
    """A mirror's .torrent with another info hash is refused (the mirror is marked tampered); a good one is used."""
    forged = Torrent.from_bytes(world.torrent.read_bytes())
    other = TorrentInfo(forged.info.name, forged.info.length, forged.info.piece_length,
                        bytes(len(forged.info.pieces)))  # the same name and size, other pieces
    bad = tmp_path / "bad-mirror"
    shutil.copytree(world.host, bad, ignore=shutil.ignore_patterns("*.7z"))  # holding it, it would be copied from
    (bad / "bundles" / world.torrent.name).write_bytes(Torrent(other, forged.web_seeds).to_bytes())
    dest = world.root / "in"
    result = mirror(world, "fetch", "--torrent", "--mirror", bad, "--mirror", world.url, "--dest", dest, "--json")
    assert result.returncode == 0, result.stderr
    assert f"has info hash {other.infohash}" in result.stderr and "refused before download" in result.stderr
    rows = {m["mirror"]: m for m in json.loads(result.stdout)["mirrors"]}
    assert rows[str(bad)]["fate"] == "tampered" and rows["swarm"]["fate"] == "ok"
    assert not list((dest / ".mirror-downloads").glob(f"**/*{other.infohash}*"))
    _arrived(world, dest, result)


def test_a_peers_listing_with_another_info_hash_does_not_get_an_honest_room_called_tampered(
        world: World, nginx_dav: DavServer) -> None:
    """Without a signed index (rooms' listings), a hostile peer listed the room's bundle with a made-up info hash:
    the room's real .torrent was then judged against it, the room called tampered and never asked for the bundle
    it held (helper-145). Each claim is now asked of the peers that made it."""
    room = nginx_dav.root / f"{world.host.name}-room"
    shutil.copytree(world.host, room, ignore=shutil.ignore_patterns("index*"))
    (room / "listing.json").write_bytes(Listing((BundleEntry(**world.entry),)).to_bytes())  # type: ignore[arg-type]
    liar = world.root / "liar"
    liar.mkdir()
    real = str(world.entry["infohash"])
    lie = {**world.entry, "infohash": "ab" * 20, "magnet": str(world.entry["magnet"]).replace(real, "ab" * 20)}
    (liar / "listing.json").write_bytes(Listing((BundleEntry(**lie),)).to_bytes())  # type: ignore[arg-type]
    dest = world.root / "in"
    with MirrorServer(liar) as peer:
        result = mirror(world, "fetch", "--torrent", "--mirror", peer.url, "--mirror", f"{nginx_dav.url}{room.name}/",
                        "--dest", dest, "--timeout", "5", "--json")
    assert result.returncode == 0, result.stderr
    fates = {m["mirror"]: m["fate"] for m in json.loads(result.stdout)["mirrors"]}
    assert fates[f"{nginx_dav.url}{room.name}/"] == "ok" and "does not match" not in result.stderr, fates
    _arrived(world, dest, result)


def test_a_torrent_larger_than_any_publish_makes_is_blamed_on_its_mirror(world: World, tmp_path: Path) -> None:
    """A mirror's .torrent of more than 1 MiB is refused unread, and said of that mirror; a good one is used."""
    bad = tmp_path / "bad-mirror"
    shutil.copytree(world.host, bad, ignore=shutil.ignore_patterns("*.7z"))  # holding it, it would be copied from
    (bad / "bundles" / world.torrent.name).write_bytes(world.torrent.read_bytes() + b" " * (1 << 20))
    dest = world.root / "in"
    result = mirror(world, "fetch", "--torrent", "--mirror", bad, "--mirror", world.url, "--dest", dest, "--json")
    assert result.returncode == 0, result.stderr
    assert f"{bad}: bundles/{world.torrent.name} is larger than" in result.stderr
    rows = {m["mirror"]: m for m in json.loads(result.stdout)["mirrors"]}
    assert rows[str(bad)]["fate"] == "tampered" and rows["swarm"]["fate"] == "ok"
    _arrived(world, dest, result)


def test_magnet_link_alone_gets_metadata_from_a_peer(world: World) -> None:
    """No mirror has the .torrent: the signed magnet link and one peer are enough (metadata checked by its hash)."""
    seed_port = free_ports(1)[0]
    with seeding(world, world.host, seed_port):
        world.torrent.unlink()
        dest = world.root / "in"
        result = mirror(world, *fetch_args(world, dest, "--peer", f"127.0.0.1:{seed_port}"))
    assert result.returncode == 0, result.stderr
    assert f"127.0.0.1:{seed_port}=" in swarm_row(result)["detail"]
    _arrived(world, dest, result)


def test_resume_across_runs(world: World) -> None:
    """A run that stalls keeps its pieces; the next run verifies them on disk and downloads only the rest."""
    seed_port = free_ports(1)[0]
    dest = world.root / "in"
    with seeding(world, world.host, seed_port, "--upload-limit", "300") as seeder:
        first = started(world, fetch_args(world, dest, "--peer", f"127.0.0.1:{seed_port}", "--timeout", "2"))
        partial = dest / ".mirror-downloads" / "swarm" / f"{world.sha256}.7z"
        deadline = time.monotonic() + 30
        while not (partial.exists() and partial.stat().st_blocks * 512 >= 4 * 65536) and time.monotonic() < deadline:
            time.sleep(0.05)  # until a few pieces are on disk (the file is sparse: count what is written)
        stop(seeder, 5.0)  # the seed goes away mid-download: the reader stalls and gives up
        result = finished(first)
    assert result.returncode == 4 and swarm_row(result)["fate"] == "timeout", result.stderr
    with seeding(world, world.host, seed_port):
        result = mirror(world, *fetch_args(world, dest, "--peer", f"127.0.0.1:{seed_port}"))
    assert result.returncode == 0, result.stderr
    detail = swarm_row(result)["detail"]
    resumed = int(detail.split(" B from an earlier run")[0].rpartition(" ")[2])
    assert resumed >= 65536 and sum(peer_bytes(detail).values()) < world.bundle.stat().st_size
    _arrived(world, dest, result)


def test_a_swarm_file_left_longer_by_an_earlier_run_is_cut_not_blamed(world: World) -> None:
    """Every piece on disk already, and one byte more: the file is cut to its signed size, not called tampered."""
    dest = world.root / "in"
    partial = dest / ".mirror-downloads" / "swarm" / f"{world.sha256}.7z"
    partial.parent.mkdir(parents=True)
    partial.write_bytes(world.bundle.read_bytes() + b"\x00")
    seed_port = free_ports(1)[0]
    with seeding(world, world.host, seed_port):
        result = mirror(world, *fetch_args(world, dest, "--peer", f"127.0.0.1:{seed_port}"))
    assert result.returncode == 0, result.stderr
    assert swarm_row(result)["fate"] == "ok", result.stdout
    _arrived(world, dest, result)


@pytest.mark.parametrize("damaged", [False, True], ids=["whole", "damaged"])
def test_a_whole_part_from_an_earlier_run_is_not_asked_of_the_swarm(damaged: bool, world: World) -> None:
    """The file an earlier run (or an earlier claim on it) left whole in .mirror-downloads is hashed and placed;
    the swarm is not asked for it again (it fetched the whole bundle into its own folder). A damaged one of the same
    size is thrown away, and the swarm is asked."""
    dest = world.root / "in"
    part = dest / ".mirror-downloads" / f"{world.sha256}.7z.part"
    part.parent.mkdir(parents=True)
    data = bytearray(world.bundle.read_bytes())
    if damaged:
        data[len(data) // 2] ^= 1
    part.write_bytes(bytes(data))
    seed_port = free_ports(1)[0]
    with seeding(world, world.host, seed_port):
        result = mirror(world, *fetch_args(world, dest, "--peer", f"127.0.0.1:{seed_port}"))
    assert result.returncode == 0, result.stderr
    rows = [m for m in json.loads(result.stdout)["mirrors"] if m["mirror"] == "swarm"]
    if damaged:
        assert rows and rows[0]["fate"] == "ok", result.stdout
    else:
        assert not rows or rows[0]["fate"] == "not tried", result.stdout
        assert "complete from an earlier run" in result.stderr
    _arrived(world, dest, result)


def test_aria2_downloads_from_our_web_seed_and_the_bundle_verifies(world: World) -> None:
    """Debian's aria2c reads the published .torrent and fetches every piece from nginx (BEP 19)."""
    dest = world.root / "aria2"
    result = aria2(world.torrent, dest)
    assert result.returncode == 0, result.stdout + result.stderr
    name = Torrent.from_bytes(world.torrent.read_bytes()).info.name
    assert mirror(world, "verify", dest / name).returncode == 0


@pytest.mark.parametrize("web_seed", ["nginx", "room"])
def test_transmission_downloads_from_a_web_seed_and_the_bundle_verifies(world: World, web_seed: str) -> None:
    """Debian's Transmission 3, a second client that is not ours, fetches every piece from a web seed: the
    published .torrent's nginx, or `mirror serve` over the same mirror copy (a room is a web seed too)."""
    size = world.bundle.stat().st_size
    if web_seed == "nginx":
        downloaded = transmission(world.torrent, world.root / "transmission", size)
    else:
        with serving(world.host, world.root) as room:
            torrent = world.root / "room.torrent"
            made = mirror(world, "torrent", world.bundle, "--mirror", room.url, "-o", torrent)
            assert made.returncode == 0, made.stderr
            seeds = Torrent.from_bytes(torrent.read_bytes()).web_seeds
            assert seeds and all(seed.startswith(room.url) for seed in seeds), seeds
            downloaded = transmission(torrent, world.root / "transmission", size)
        sent = re.search(r"stopped: [\d,]+ request\(s\), ([\d,]+) bytes sent", room.log.read_text())
        assert sent and int(sent[1].replace(",", "")) >= size, room.log.read_text()
    assert downloaded.read_bytes() == world.bundle.read_bytes()
    assert mirror(world, "verify", downloaded).returncode == 0


def peers_only(world: World) -> Path:
    """The bundle's torrent without the web seed `mirror torrent` names from mirror.toml: a client that gets the
    bundle got it from peers."""
    torrent = world.root / "peers-only.torrent"
    made = mirror(world, "torrent", world.bundle, "-o", torrent, "--tracker", "http://127.0.0.1:9/announce")
    assert made.returncode == 0, made.stderr
    parsed = Torrent.from_bytes(torrent.read_bytes())
    assert parsed.web_seeds, "mirror torrent names the world's host: the test removes it"
    torrent.write_bytes(Torrent(parsed.info, (), parsed.trackers).to_bytes())
    return torrent


def uploaded(world: World, port: int) -> int:
    """The bytes `mirror seed` on `port` said it uploaded when it stopped."""
    match = re.search(r"stopped: (\d+) B uploaded", (world.root / f"seed-{port}.err").read_text())
    assert match, (world.root / f"seed-{port}.err").read_text()
    return int(match[1])


def test_aria2_downloads_from_mirror_seed(world: World) -> None:
    """aria2c, told of our seeder by a tracker, gets the bundle from `mirror seed` alone (no web seed)."""
    seed_port = free_ports(1)[0]
    torrent = peers_only(world)
    with seeding(world, world.host, seed_port), StaticTracker([("127.0.0.1", seed_port)]) as tracker:
        dest = world.root / "aria2"
        result = aria2(torrent, dest, f"--bt-tracker={tracker.url}", "--bt-exclude-tracker=*")
    assert result.returncode == 0, result.stdout + result.stderr
    assert tracker.announces > 0
    name = Torrent.from_bytes(torrent.read_bytes()).info.name
    assert mirror(world, "verify", dest / name).returncode == 0
    assert uploaded(world, seed_port) >= world.bundle.stat().st_size


def test_seed_refuses_what_does_not_verify(world: World, tmp_path: Path) -> None:
    """A damaged bundle and one by an unknown author are refused, each with its reason; the good one is seeded. A
    link and a FIFO are passed over and said to be (they were, without a word), leaving the exit code alone."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(world.bundle, folder / "good.7z")
    (folder / "linked.7z").symlink_to(world.bundle)
    os.mkfifo(folder / "pipe.7z")
    damaged = bytearray(world.bundle.read_bytes())
    damaged[-3000] ^= 0xFF
    (folder / "damaged.7z").write_bytes(bytes(damaged))
    (folder / "bundles").mkdir()
    (folder / "bundles" / f"{'0' * 64}.7z").write_bytes(world.bundle.read_bytes())  # not the hash in its name
    stranger = Keyring(tmp_path / "stranger")
    stranger.create("mallory", None)
    create_bundle(CreateRequest(make_sources(tmp_path / "src2"), folder / "stranger.7z", title="x"),
                  stranger.secret("mallory", None))
    result = mirror(world, "seed", folder, "--stop-after", "1", timeout=60)
    assert result.returncode == 3, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["REFUSED"] * 5 + ["listening", "SEEDING"]
    refused = {Path(line.split()[1].rstrip(":")).name: line for line in lines[:5]}
    assert "a link or not a regular file" in refused["linked.7z"] and "a link or not" in refused["pipe.7z"]
    assert "is damaged" in refused["damaged.7z"] or "sha256 does not match" in refused["damaged.7z"]
    assert "not the bundle its name says" in refused[f"{'0' * 64}.7z"]
    assert "not in your keyring" in refused["stranger.7z"]
    assert "listening on 127.0.0.1:" in lines[5] and "good.7z" not in refused
    result = mirror(world, "seed", folder, "--stop-after", "1", "--untrusted", timeout=60)
    assert result.stdout.count("SEEDING") == 2 and "is not in your keyring" in result.stdout
    (folder / "good.7z").unlink()
    result = mirror(world, "seed", folder / "bundles", timeout=60)
    assert result.returncode == 3 and "nothing to seed" in result.stderr and "listening" not in result.stdout


def test_seed_never_follows_a_linked_bundles_folder(world: World, tmp_path: Path) -> None:
    """`DIR/bundles` a link to a private folder: seed offered its bundles to the swarm (serve passed over it)."""
    folder, private = tmp_path / "copy", tmp_path / "private"
    folder.mkdir()
    private.mkdir()
    shutil.copy(world.bundle, private / "diary.7z")
    (folder / "bundles").symlink_to(private)
    shutil.copy(world.bundle, folder / "good.7z")
    result = mirror(world, "seed", folder, "--stop-after", "1", timeout=60)
    assert result.returncode == 0, result.stderr
    refused = [line for line in result.stdout.splitlines() if line.startswith("REFUSED")]
    assert len(refused) == 1 and f"{folder / 'bundles'}: a link or not a regular file" in refused[0], result.stdout
    assert "diary" not in result.stdout.replace(str(private), "") and result.stdout.count("SEEDING") == 1


def test_default_seed_and_fetch_talk_to_127_0_0_1_only(world: World) -> None:
    """Traced with strace: no DHT bootstrap, no LSD or UPnP multicast, no DNS, no tracker; the bundle is read-only."""
    strace = require_tool("strace")
    seed_trace, fetch_trace = world.root / "seed.trace", world.root / "fetch.trace"
    trace = ("-f", "-qq", "-e", "trace=connect,sendto,sendmsg,sendmmsg,openat", "-o")
    seed_port = free_ports(1)[0]
    with seeding(world, world.host, seed_port, prefix=(strace, *trace, str(seed_trace))):
        dest = world.root / "in"
        result = mirror(world, *fetch_args(world, dest, "--peer", f"127.0.0.1:{seed_port}"),
                        prefix=(strace, *trace, str(fetch_trace)))
        time.sleep(1)  # let the seed log its side
    assert result.returncode == 0, result.stderr
    _arrived(world, dest, result)
    seen = destinations(seed_trace) | destinations(fetch_trace)
    assert ("127.0.0.1", seed_port) in seen  # the trace does show where traffic went
    assert {address for address, _ in seen} <= LOOPBACK, seen
    assert not {port for _, port in seen} & {53, 1900, 5351, 6771}  # DNS, SSDP (UPnP), NAT-PMP, LSD
    bundle_opens = [line for line in seed_trace.read_text().splitlines()
                    if "openat(" in line and f"{world.sha256}.7z" in line and "= -1" not in line]
    assert bundle_opens and all("O_RDONLY" in line and "O_RDWR" not in line and "O_WRONLY" not in line
                                for line in bundle_opens), bundle_opens


def test_torrent_through_a_socks5_proxy_connects_to_nothing_else(world: World) -> None:
    """With --proxy socks5h://, the index, the .torrent and every web seed byte go through microsocks, traced."""
    strace, microsocks = require_tool("strace"), require_tool("microsocks")
    proxy_port = free_ports(1)[0]
    fetch_trace = world.root / "fetch.trace"
    with running([microsocks, "-i", "127.0.0.1", "-p", str(proxy_port)], world.root / "socks.log", proxy_port):
        dest = world.root / "in"
        result = mirror(world, "fetch", "--torrent", "--mirror", world.url, "--proxy",
                        f"socks5h://127.0.0.1:{proxy_port}", "--dest", dest, "--json",
                        prefix=(strace, "-f", "-qq", "-e", "trace=connect", "-o", str(fetch_trace)))
    assert result.returncode == 0, result.stderr
    assert "from 1 web seed(s)" in swarm_row(result)["detail"]
    assert destinations(fetch_trace) == {("127.0.0.1", proxy_port)}
    _arrived(world, dest, result)


def test_when_the_swarm_fails_the_mirrors_deliver_and_nothing_is_left(world: World) -> None:
    """Only a lying peer in the swarm: it is banned, the swarm stalls, the mirror delivers; no partial stays. (The
    mirror answers a ranged request with other bytes, so it is no web seed: a whole GET is all it serves.)"""
    torrent = Torrent.from_bytes(world.torrent.read_bytes())
    dest = world.root / "in"
    with EvilPeer(world.bundle.read_bytes(), torrent.info.infohash, torrent.info.piece_length) as evil, \
            MirrorServer(world.host) as plain:
        (bundle,) = world.host.glob("bundles/*.7z")
        plain.replace_ranged[bundle.relative_to(world.host).as_posix()] = bytes(bundle.stat().st_size)
        result = mirror(world, "fetch", "--torrent", "--mirror", plain.url, "--peer", evil.address,
                        "--timeout", "3", "--dest", dest, "--json")
    assert result.returncode == 0, result.stderr
    assert evil.blocks_sent > 0 and f"banned peer {evil.address}" in result.stderr, (result.stderr, result.stdout)
    rows = {m["mirror"]: m for m in json.loads(result.stdout)["mirrors"]}
    assert rows["swarm"]["fate"] == "timeout" and rows[plain.url]["fate"] == "ok", rows
    _arrived(world, dest, result)


@pytest.mark.parametrize("fault", ["gzip", "404", "503", "gzip-by-name"])
def test_with_no_peer_to_come_a_web_seed_that_cannot_be_used_ends_the_swarm_with_its_error(fault: str,
                                                                                            world: World) -> None:
    """The only web seed answers every request with the whole bundle gzipped (as some CDNs do), 404, or 503 busy
    once, and no peer is named: the swarm waited its whole stall window without a word (libtorrent never asks a
    web seed again after an HTTP error, Retry-After or not), then the same mirror delivered over plain HTTP at
    once, or did not have it either. Once the web seed has failed for good, or again after libtorrent's wait, the
    swarm says why and gives way; also for a mirror named by host name (libtorrent's errors name the address)."""
    dest = world.root / "in"
    with MirrorServer(world.host) as plain:
        plain.gzip_bundles, plain.no_bundles = fault.startswith("gzip"), fault == "404"
        plain.busy = 1 if fault == "503" else 0
        url = plain.url.replace("127.0.0.1", "localhost") if fault.endswith("by-name") else plain.url
        result = mirror(world, "fetch", "--torrent", "--mirror", url, "--timeout", "60", "--dest", dest,
                        "--json")
    rows = {m["mirror"]: m for m in json.loads(result.stdout)["mirrors"]}
    assert rows["swarm"]["fate"] == "unreachable", rows
    assert f"no peer, and no web seed could be used ({url}: " in rows["swarm"]["detail"], rows
    if fault == "404":
        assert "404" in rows["swarm"]["detail"] and result.returncode == 4, (rows, result.stderr)
        return
    assert fault != "503" or "503 Service Unavailable" in rows["swarm"]["detail"], rows
    assert result.returncode == 0, result.stderr
    assert rows[url]["fate"] == "ok", rows
    _arrived(world, dest, result)


def test_a_web_seed_that_refuses_connections_ends_the_swarm_with_the_others(world: World) -> None:
    """One mirror lists the bundle but has not got it (404), the other refuses connections (libtorrent asks it again
    every 5 s, forever): with no peer to come, the swarm gives way after the refused one failed twice, naming both,
    not after the whole --timeout."""
    dest = world.root / "in"
    closed = socket.create_server(("127.0.0.1", 0))
    refused = f"http://127.0.0.1:{closed.getsockname()[1]}/"
    closed.close()
    with MirrorServer(world.host) as empty:
        empty.no_bundles = True
        result = mirror(world, "fetch", "--torrent", "--mirror", empty.url, "--mirror", refused, "--timeout", "60",
                        "--dest", dest, "--json")
    rows = {m["mirror"]: m for m in json.loads(result.stdout)["mirrors"]}
    assert rows["swarm"]["fate"] == "unreachable" and result.returncode == 4, rows
    assert f"{empty.url}: 404 Not Found" in rows["swarm"]["detail"], rows
    assert f"{refused}: Connection refused" in rows["swarm"]["detail"], rows


def test_the_swarm_gives_way_below_the_minimum_rate(world: World) -> None:
    """A web seed that sends real bytes at 12 KB/s: with --min-rate 64K the swarm gives up after --timeout (it
    needed only a block per window, so a peer dripping real bytes held it for hours), and the mirrors are asked."""
    dest = world.root / "in"
    with MirrorServer(world.host) as slow:
        slow.rates = {".7z": 12_000}
        result = mirror(world, "fetch", "--torrent", "--mirror", slow.url, "--timeout", "3", "--min-rate", "64K",
                        "--dest", dest, "--json")
    rows = {m["mirror"]: m for m in json.loads(result.stdout)["mirrors"]}
    assert rows["swarm"]["fate"] == "timeout", rows
    assert f"less than {64 * 1024 * 3} B in 3 s" in rows["swarm"]["detail"], rows


def test_a_bundle_damaged_while_seeded_is_not_served(world: World, tmp_path: Path) -> None:
    """The seed checks each piece before its first upload: bytes changed after the start never reach a peer."""
    folder = tmp_path / "shared"
    folder.mkdir()
    shared = folder / "bundle.7z"
    shutil.copy(world.bundle, shared)
    seed_port = free_ports(1)[0]
    with seeding(world, folder, seed_port):
        with shared.open("r+b") as handle:  # the seeder's own copy changes under it
            handle.seek(world.bundle.stat().st_size // 2)
            handle.write(b"\x00" * 64)
        dest = world.root / "in"
        result = mirror(world, *fetch_args(world, dest, "--peer", f"127.0.0.1:{seed_port}", "--timeout", "3"))
    assert result.returncode == 4 and swarm_row(result)["fate"] == "timeout", result.stderr
    assert "banned" not in result.stderr  # the seed sent nothing wrong: it held the damaged piece back
    assert not list(dest.glob("*.7z"))


def test_one_address_cannot_crowd_every_reader_out_of_a_seed(world: World) -> None:
    """Many connections from one address, each a handshake and "interested", then silence, filled every slot of
    `mirror seed` (--max-peers): aria2c got no connection at all. Such an address is refused once the seed is
    crowded, and aria2c gets the bundle."""
    seed_port = free_ports(1)[0]
    torrent = peers_only(world)
    infohash = bytes.fromhex(Torrent.from_bytes(torrent.read_bytes()).info.infohash)
    hello = b"\x13BitTorrent protocol" + bytes(8) + infohash + b"-XX0001-" + bytes(12) + b"\x00\x00\x00\x01\x02"
    crowd: list[socket.socket] = []
    try:
        with seeding(world, world.host, seed_port, "--max-peers", "20") as seed, \
                StaticTracker([("127.0.0.1", seed_port)]) as tracker:
            log = world.root / f"seed-{seed_port}.err"
            # The crowd keeps connecting until it is refused, as such an address would: on a busy machine the seed
            # accepts slowly and a burst of connections partly times out (the crowd is judged on the seed's ticks).
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and "refused 127.0.3.1" not in log.read_text():
                if len(crowd) < 300:
                    with contextlib.suppress(OSError):
                        sock = socket.socket()
                        crowd.append(sock)
                        sock.bind(("127.0.3.1", 0))
                        sock.settimeout(2)
                        sock.connect(("127.0.0.1", seed_port))
                        sock.sendall(hello)
                else:
                    time.sleep(0.2)
            result = aria2(torrent, world.root / "aria2", f"--bt-tracker={tracker.url}", "--bt-exclude-tracker=*")
            assert seed.poll() is None
    finally:
        for sock in crowd:
            sock.close()
    assert result.returncode == 0, result.stdout + result.stderr
    name = Torrent.from_bytes(torrent.read_bytes()).info.name
    assert mirror(world, "verify", world.root / "aria2" / name).returncode == 0
    assert "swarm: refused 127.0.3.1 for 10 minutes" in (world.root / f"seed-{seed_port}.err").read_text()
    assert uploaded(world, seed_port) >= world.bundle.stat().st_size


def test_a_seeded_bundle_that_changes_on_disk_is_seeded_no_more(world: World) -> None:
    """A bundle rewritten on disk after seed checked it: readers got bytes that failed their checks, then nothing,
    while the seed went on saying SEEDING without a word (helper-160). It is seeded no more, and said so."""
    seed_port = free_ports(1)[0]
    folder = world.root / "changing"
    shutil.copytree(world.host, folder)
    with seeding(world, folder, seed_port):
        bundle = next((folder / "bundles").glob("*.7z"))
        log = world.root / f"seed-{seed_port}.err"
        bundle.chmod(0o444)  # what changes no byte (helper-166: these dropped bundles that had not changed)
        os.link(bundle, world.root / "a-hard-link.7z")
        os.utime(bundle, ns=(bundle.stat().st_atime_ns, bundle.stat().st_mtime_ns))
        time.sleep(6)  # past a look at the files
        assert "no longer seeded" not in log.read_text(), log.read_text()
        bundle.chmod(0o644)
        with bundle.open("r+b") as handle:
            handle.seek(bundle.stat().st_size // 2)
            handle.write(b"\0" * 4096)
        deadline = time.monotonic() + 30
        while "changed on disk since it was checked: no longer seeded" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
