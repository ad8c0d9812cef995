"""What a web seed's connection holds in libtorrent: a good one (nginx on 127.0.0.1) against what fetch drops one
for (swarm/download.py MAX_HELD, 1 MiB unused).

Usage::

    python bench/web_seed_buffer.py                      # 1 GiB, the piece length a bundle of that size gets
    python bench/web_seed_buffer.py --size 512 --piece 16384 --load 2 --runs 3
    python bench/web_seed_buffer.py --size 256 --load 2 --proxy     # through microsocks, two mirrors on one port

A file of --size MiB of random bytes, a v1 torrent of it, nginx serving it, and a libtorrent session with fetch's
settings downloading it from nginx alone; peer_info is read as often as the loop can (`--load N`: N busy
processes beside it, as on a loaded machine). Printed per run: the largest used_receive_buffer (what libtorrent
holds and has not used: what fetch judges) and the largest receive_buffer_size (the buffer's size, which grows
when libtorrent reads all the kernel holds at once). `--proxy`: through microsocks (socks5h, as through Tor), from
two mirrors on nginx's one port named by two host names (localhost and vm, both 127.0.0.1 in /etc/hosts), whose
connections libtorrent knows by port alone.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import libtorrent as lt  # noqa: E402

from mirror.formats.torrent import piece_length  # noqa: E402
from mirror.swarm.download import MAX_HELD  # noqa: E402
from mirror.swarm.settings import SwarmConfig, session_settings  # noqa: E402

NGINX = """daemon off; master_process off; pid {p}/nginx.pid; error_log {p}/error.log notice;
events {{ worker_connections 64; }}
http {{ access_log off; default_type application/octet-stream;
  client_body_temp_path {p}/tmp; proxy_temp_path {p}/tmp; fastcgi_temp_path {p}/tmp;
  uwsgi_temp_path {p}/tmp; scgi_temp_path {p}/tmp;
  server {{ listen 127.0.0.1:{port}; root {p}/srv; }} }}
"""


def one_run(folder: Path, data: Path, piece: int, port: int, proxy: int | None) -> tuple[int, int, float]:
    """The largest used and sized receive buffer of the web seed's connection, and the seconds it took."""
    files = lt.file_storage()
    files.add_file(data.name, data.stat().st_size)
    maker = lt.create_torrent(files, piece, lt.create_torrent.v1_only)
    lt.set_piece_hashes(maker, str(data.parent))
    config = SwarmConfig(proxy=None if proxy is None else f"socks5h://127.0.0.1:{proxy}")
    session = lt.session(session_settings(config))
    dest = folder / "dest"
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir()
    params = lt.add_torrent_params()
    params.ti, params.save_path = lt.torrent_info(maker.generate()), str(dest)
    params.url_seeds = [f"http://127.0.0.1:{port}/"] if proxy is None else \
        [f"http://localhost:{port}/", f"http://vm:{port}/"]
    handle = session.add_torrent(params)
    used = size = 0
    names: set[str] = set()
    start = time.monotonic()
    while not handle.status().is_seeding and time.monotonic() - start < 300:
        for peer in handle.get_peer_info():
            used, size = max(used, peer.used_receive_buffer), max(size, peer.receive_buffer_size)
            names.add(f"{peer.client.decode('utf-8', 'replace')} at {peer.ip[0]}:{peer.ip[1]}")
        session.pop_alerts()
    print(f"  connections seen as: {', '.join(sorted(names))}")
    return used, size, time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1024, help="MiB (default 1024)")
    parser.add_argument("--piece", type=int, default=0, help="KiB (default: what a bundle of --size gets)")
    parser.add_argument("--load", type=int, default=0, help="busy processes beside it")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--proxy", action="store_true", help="through microsocks, two mirrors on one port")
    args = parser.parse_args()
    piece = args.piece << 10 or piece_length(args.size << 20)
    with tempfile.TemporaryDirectory(prefix="web-seed-buffer-") as name:
        folder = Path(name)
        for sub in ("srv", "tmp"):
            (folder / sub).mkdir()
        data = folder / "srv" / "bundle.7z"
        with data.open("wb") as out:
            for _ in range(args.size):
                out.write(os.urandom(1 << 20))
        port, socks = _free_port(), _free_port()
        (folder / "nginx.conf").write_text(NGINX.format(p=folder, port=port))
        nginx = subprocess.Popen(["nginx", "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e",
                                  str(folder / "error.log")])
        socks_command = ["microsocks", "-i", "127.0.0.1", "-p", str(socks)]
        helpers = [subprocess.Popen(socks_command, stdout=subprocess.DEVNULL)] if args.proxy else []
        busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.load)]
        try:
            time.sleep(0.5)
            print(f"{args.size} MiB, pieces of {piece >> 10} KiB, {args.load} busy process(es)"
                  f"{', through microsocks from two mirrors on one port' if args.proxy else ''}; "
                  f"fetch drops a web seed holding more than {MAX_HELD / 2**20:g} MiB unused")
            for _ in range(args.runs):
                used, size, seconds = one_run(folder, data, piece, port, socks if args.proxy else None)
                print(f"  {seconds:5.1f} s ({args.size / seconds:4.0f} MiB/s): largest unused {used / 2**20:6.2f} MiB,"
                      f" largest buffer {size / 2**20:6.2f} MiB")
        finally:
            for process in busy + helpers:
                process.kill()
                process.wait()
            nginx.terminate()
            nginx.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


if __name__ == "__main__":
    main()
