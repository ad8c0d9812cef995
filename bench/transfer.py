"""What the deadlines cost: downloads from nginx on 127.0.0.1 with and without a Watch (net/pace.py).

Example::

    python bench/transfer.py                 # 256 MiB, 5 runs each, A/B interleaved
    python bench/transfer.py --mib 16 --runs 1

Every request of `mirror fetch` runs under a Watch: connections count each socket read, and a watchdog
thread judges the rate. This measures a large download through `HttpMirror.download` (watched) against
the same download through a plain requests session (nothing counted, no watchdog), both writing to a
file, and prints MiB/s and CPU seconds per GiB (median of the runs). Needs nginx (Debian `nginx`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import requests

from mirror.fetch.transport import HttpMirror
from mirror.net.pace import Limits

CONF = """daemon off; master_process off; pid {p}/nginx.pid; error_log stderr error;
events {{ worker_connections 16; }}
http {{ access_log off; sendfile on;
  client_body_temp_path {p}/tmp; proxy_temp_path {p}/tmp; fastcgi_temp_path {p}/tmp;
  uwsgi_temp_path {p}/tmp; scgi_temp_path {p}/tmp;
  server {{ listen 127.0.0.1:{port}; root {p}/data; }} }}
"""


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _plain(url: str, out: Path) -> None:
    with requests.get(url, stream=True, timeout=30) as response, out.open("wb") as file:
        for chunk in response.iter_content(1 << 16):
            file.write(chunk)


def _watched(url: str, out: Path, size: int) -> None:
    base, name = url.rsplit("/", 1)
    if not HttpMirror(base + "/", limits=Limits()).download(name, out, size):
        raise SystemExit("the watched download stopped early")


def _measure(action: Callable[[], None]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (this process and its threads) of one run."""
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    """Start nginx, download the file both ways, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    nginx = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin") or sys.exit("nginx is needed")
    with tempfile.TemporaryDirectory(prefix="mirror-bench-") as tmp:
        root = Path(tmp)
        (root / "data").mkdir()
        (root / "tmp").mkdir()
        size = args.mib << 20
        (root / "data" / "big.bin").write_bytes(os.urandom(size))
        port = _port()
        (root / "nginx.conf").write_text(CONF.format(p=root, port=port))
        server = subprocess.Popen([nginx, "-p", str(root), "-c", str(root / "nginx.conf"), "-e", "stderr"])
        try:
            for _ in range(100):
                with socket.socket() as probe:
                    if probe.connect_ex(("127.0.0.1", port)) == 0:
                        break
                time.sleep(0.05)
            url = f"http://127.0.0.1:{port}/big.bin"
            results: dict[str, list[tuple[float, float]]] = {"plain requests": [], "watched (mirror)": []}
            out = root / "out.bin"
            ways: dict[str, Callable[[], None]] = {"plain requests": lambda: _plain(url, out),
                                                   "watched (mirror)": lambda: _watched(url, out, size)}
            for _ in range(args.runs):
                for label, way in ways.items():  # A/B interleaved, a fresh file each time
                    out.unlink(missing_ok=True)
                    results[label].append(_measure(way))
        finally:
            server.terminate()
            server.wait(10)
    print(f"| download of {args.mib} MiB from nginx on 127.0.0.1 | MiB/s | CPU s per GiB |")
    print("|---|---|---|")
    for label, runs in results.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"| {label} | {args.mib / wall:.0f} | {cpu * 1024 / args.mib:.2f} |")


if __name__ == "__main__":
    main()
