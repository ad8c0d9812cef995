"""Measure the swarm on 127.0.0.1: making a torrent, and downloading from a peer, a web seed, or plain HTTP.

Usage::

    python bench/swarm.py                  # a 256 MiB file, 3 runs each, a Markdown table on stdout
    python bench/swarm.py --size 64 --runs 1

What it times (median of --runs, warm page cache, everything on loopback):

- hashing: mirror's one pass (SHA-256 of the file and the SHA-1 piece hashes, bundle/torrent.py) against
  libtorrent's own `create_torrent` + `set_piece_hashes`, and `sha256sum` alone;
- download: mirror's swarm engine getting the file from one `Swarm.seed` peer, from one web seed, and, for
  reference, the same file over plain HTTP with `requests` (what `fetch` does without --torrent). The web seed
  and the plain download use the same small Python HTTP server (with Range), so they compare fairly with each other,
  not with nginx.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import libtorrent as lt  # noqa: E402
import requests  # noqa: E402

from mirror.bundle.torrent import hash_file  # noqa: E402
from mirror.formats.bencode import bencode  # noqa: E402
from mirror.formats.torrent import TorrentInfo  # noqa: E402
from mirror.swarm.engine import Swarm  # noqa: E402
from mirror.swarm.model import Deadlines, Wanted  # noqa: E402
from mirror.swarm.settings import SwarmConfig  # noqa: E402


def timed(action: Callable[[], object], runs: int) -> float:
    """Median seconds of `runs` calls."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def libtorrent_hash(path: Path) -> None:
    """libtorrent's own torrent maker, v1 only, same piece length."""
    files = lt.file_storage()
    lt.add_files(files, str(path))
    with warnings.catch_warnings():  # the file_storage constructor is deprecated, and still the v1-only way
        warnings.simplefilter("ignore", DeprecationWarning)
        maker = lt.create_torrent(files, hash_file_piece_length(path), lt.create_torrent.v1_only)
    lt.set_piece_hashes(maker, str(path.parent))
    maker.generate()


def hash_file_piece_length(path: Path) -> int:
    """The piece length mirror chooses for this file."""
    from mirror.formats.torrent import piece_length

    return piece_length(path.stat().st_size)


class Ranges(BaseHTTPRequestHandler):
    """GET with one `Range: bytes=A-B` (web seeds need it; http.server has none), files from `folder`."""

    folder = Path()

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        path = self.folder / self.path.lstrip("/")
        size = path.stat().st_size
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        start, end = (int(match[1]), int(match[2] or size - 1)) if match else (0, size - 1)
        self.send_response(206 if match else 200)
        if match:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        with path.open("rb") as data:
            data.seek(start)
            left = end - start + 1
            while left > 0 and (chunk := data.read(min(left, 1 << 16))):
                self.wfile.write(chunk)
                left -= len(chunk)


class Server:
    """A threaded HTTP server for `folder` on 127.0.0.1, with Range."""

    def __init__(self, folder: Path) -> None:
        handler = type("Handler", (Ranges,), {"folder": folder})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def download(info: TorrentInfo, into: Path, **sources: object) -> None:
    """One swarm download into a fresh folder."""
    shutil.rmtree(into, ignore_errors=True)
    into.mkdir()
    wanted = Wanted(info.infohash, bencode(info.to_value()), into, "file.bin", info.length, **sources)  # type: ignore[arg-type]
    with Swarm(SwarmConfig(), log=lambda line: None) as swarm:
        swarm.download(wanted, Deadlines(stall=30, total=600))


def plain(url: str, into: Path) -> None:
    """The same file over HTTP, as fetch gets it without --torrent."""
    with requests.get(url, stream=True, timeout=30) as response, into.open("wb") as out:
        for chunk in response.iter_content(1 << 16):
            out.write(chunk)


def main() -> None:
    """Run every measurement and print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=256, help="file size in MiB")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mirror-bench-swarm-") as tmp:
        work = Path(tmp)
        (work / "seed").mkdir()
        source = work / "seed" / "file.bin"
        with source.open("wb") as out:
            for _ in range(args.size):
                out.write(os.urandom(1 << 20))
        sha256, size, length, pieces = hash_file(source)
        assert sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
        info = TorrentInfo("file.bin", size, length, pieces)
        rows = [
            ("hash: mirror (SHA-256 + SHA-1 pieces, one pass)", timed(lambda: hash_file(source), args.runs)),
            ("hash: libtorrent create_torrent (SHA-1 pieces)", timed(lambda: libtorrent_hash(source), args.runs)),
            ("hash: sha256sum", timed(lambda: subprocess.run(["sha256sum", str(source)], check=True,
                                                              capture_output=True), args.runs)),
        ]
        server = Server(work / "seed")
        with Swarm(SwarmConfig(), log=lambda line: None) as seed:
            seed.seed(bencode(info.to_value()), source)
            port = int(seed.addresses[0].rpartition(":")[2])
            rows.append(("download: swarm, one peer", timed(
                lambda: download(info, work / "peer", peers=(("127.0.0.1", port),)), args.runs)))
        rows.append(("download: swarm, one web seed (Python HTTP server)", timed(
            lambda: download(info, work / "web", web_seeds=(server.url + "file.bin",)), args.runs)))
        rows.append(("download: plain HTTP (requests, same server)", timed(
            lambda: plain(server.url + "file.bin", work / "plain.bin"), args.runs)))
    print(f"{args.size} MiB, {len(pieces) // 20} pieces of {length // 1024} KiB, median of {args.runs} run(s)\n")
    print("| what | seconds | MiB/s |\n|---|---:|---:|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.2f} | {args.size / seconds:.0f} |")


if __name__ == "__main__":
    main()
