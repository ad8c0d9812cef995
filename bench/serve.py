"""Throughput of `mirror serve` against nginx serving the same folder on 127.0.0.1; writes docs/serve-performance.md.

Usage::

    python bench/serve.py                       # a 100 MB bundle, 1/8/24 clients, 5 rounds (about 3 minutes)
    python bench/serve.py --quick --out /tmp/serve.md     # an 8 MB bundle, one round (CI smoke)

Both servers serve one mirror-layout folder holding one bundle (random-noise photos, so it does not
compress): nginx as stock Debian runs it (`worker_processes auto`, sendfile on), `mirror serve` as a user
would start it. Clients are curl processes, each downloading the bundle several times to /dev/null;
throughput is all bytes received over the wall time of the round. Rounds alternate which server goes
first; figures are medians. The last row adds 5 readers that take one byte per second, for both servers.
The issue's target: `mirror serve` at least half of nginx's throughput. Loopback only; everything started
here is stopped by its PID.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
MB = 1_000_000
LOOPBACK = "127.0.0.1"
NGINX = """worker_processes auto;
user root;
pid {p}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    default_type application/octet-stream;
    client_body_temp_path {p}/tmp; proxy_temp_path {p}/tmp; fastcgi_temp_path {p}/tmp;
    uwsgi_temp_path {p}/tmp; scgi_temp_path {p}/tmp;
    server {{ listen {host}:{port}; root {root}; }}
}}
"""


@dataclass(frozen=True, slots=True)
class Row:
    """One scenario: clients, downloads each, and MB/s per server."""

    clients: int
    each: int
    trickling: int
    nginx: float
    mirror: float

    @property
    def ratio(self) -> float:
        """mirror serve's throughput over nginx's."""
        return self.mirror / self.nginx if self.nginx else 0.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def wait_for(port: int, process: subprocess.Popen[bytes], limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{process.args!r} exited with {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex((LOOPBACK, port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"nothing listened on port {port}")


def make_folder(work: Path, photos: int) -> tuple[Path, str, int]:
    """A mirror-layout folder with one bundle of `photos` noise photos of about 2.7 MB each."""
    from PIL import Image

    sys.path.insert(0, str(ROOT / "src"))
    from mirror.bundle.create import CreateRequest, create_bundle
    from mirror.trust.keyring import Keyring

    source = work / "src"
    (source / "photos").mkdir(parents=True)
    (source / "accounts").mkdir()
    (source / "accounts" / "note.en.md").write_text("---\ntitle: Bench\n---\nA bundle to serve.\n")
    for i in range(photos):
        out = io.BytesIO()
        Image.frombytes("RGB", (2000, 1500), os.urandom(2000 * 1500 * 3)).save(out, "JPEG", quality=92)
        (source / "photos" / f"{i:03d}.jpg").write_bytes(out.getvalue())
    ring = Keyring(work / "keys")
    ring.create("bench", None)
    bundle = work / "bundle.7z"
    create_bundle(CreateRequest(source, bundle, title="Serve benchmark"), ring.secret("bench", None))
    sha = hashlib.sha256(bundle.read_bytes()).hexdigest()
    folder = work / "mirror"
    (folder / "bundles").mkdir(parents=True)
    shutil.move(bundle, folder / "bundles" / f"{sha}.7z")
    for path in (work, folder, folder / "bundles"):
        path.chmod(0o755)
    return folder, sha, (folder / "bundles" / f"{sha}.7z").stat().st_size


def trickle(port: int, path: str, stop: threading.Event) -> None:
    """A reader that takes one byte per second until stopped (or cut off)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((LOOPBACK, port))
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        try:
            while not stop.wait(1.0) and sock.recv(1):
                pass
        except OSError:
            pass


def round_trip(port: int, path: str, clients: int, each: int, size: int, trickling: int) -> float:
    """MB/s for `clients` curl processes downloading the file `each` times, with `trickling` slow readers."""
    curl = shutil.which("curl") or "curl"
    url = f"http://{LOOPBACK}:{port}{path}"
    stop = threading.Event()
    slow = [threading.Thread(target=trickle, args=(port, path, stop)) for _ in range(trickling)]
    for thread in slow:
        thread.start()
    time.sleep(0.3 if trickling else 0)
    args = [curl, "-s", "--fail", *[a for _ in range(each) for a in (url, "-o", "/dev/null")]]
    start = time.monotonic()
    running = [subprocess.Popen(args) for _ in range(clients)]
    failed = sum(process.wait() != 0 for process in running)
    wall = time.monotonic() - start
    stop.set()
    for thread in slow:
        thread.join(10)
    if failed:
        raise SystemExit(f"{failed} curl client(s) failed against port {port}")
    return clients * each * size / wall / MB


def peak_rss(pid: int) -> int:
    """VmHWM of a process, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def measure(folder: Path, sha: str, size: int, scenarios: list[tuple[int, int, int]], rounds: int,
            work: Path) -> tuple[list[Row], int]:
    nginx_port, mirror_port = free_port(), free_port()
    (work / "nginx" / "tmp").mkdir(parents=True)
    conf = work / "nginx" / "nginx.conf"
    conf.write_text(NGINX.format(p=work / "nginx", host=LOOPBACK, port=nginx_port, root=folder))
    nginx = subprocess.Popen([shutil.which("nginx", path="/usr/sbin:/usr/bin") or "nginx", "-p", str(work / "nginx"),
                              "-c", str(conf), "-e", "stderr", "-g", "daemon off;"])
    mirror = subprocess.Popen([sys.executable, "-m", "mirror", "serve", str(folder), "--port", str(mirror_port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(nginx_port, nginx)
        wait_for(mirror_port, mirror)
        path = f"/bundles/{sha}.7z"
        rows = []
        for clients, each, trickling in scenarios:
            got: dict[str, list[float]] = {"nginx": [], "mirror": []}
            for i in range(rounds):
                order = [("nginx", nginx_port), ("mirror", mirror_port)]
                for name, port in order if i % 2 == 0 else order[::-1]:
                    got[name].append(round_trip(port, path, clients, each, size, trickling))
            rows.append(Row(clients, each, trickling, statistics.median(got["nginx"]),
                            statistics.median(got["mirror"])))
            print(f"{clients:>3} clients x {each} (+{trickling} trickling): nginx {rows[-1].nginx:8.0f} MB/s, "
                  f"mirror serve {rows[-1].mirror:8.0f} MB/s ({rows[-1].ratio:.2f}x)", flush=True)
        return rows, peak_rss(mirror.pid)
    finally:
        for process in (mirror, nginx):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(5)


def report(rows: list[Row], size: int, rss: int, rounds: int) -> str:
    weakest = min(rows, key=lambda r: r.ratio)
    verdict = "PASS" if weakest.ratio >= 0.5 else "FAIL"
    lines = [
        "# Serving performance", "",
        "`mirror serve` against nginx serving the same folder on 127.0.0.1, measured by `python bench/serve.py`.",
        "", "## Targets", "", "From issue 13:", "", "```",
        f"{verdict}  mirror serve's throughput at least half of nginx's on loopback, in every scenario: "
        f"lowest {weakest.ratio:.2f}x ({weakest.clients} clients, {weakest.trickling} trickling)", "```", "",
        "## Machine", "", "| | |", "|---|---|",
        f"| date | {datetime.now(UTC):%Y-%m-%d %H:%M} UTC |", f"| cores | {os.cpu_count()} |",
        f"| python | {sys.version.split()[0]} |",
        f"| nginx | {subprocess.run(['nginx', '-v'], capture_output=True, text=True, check=False).stderr.strip()} |",
        f"| bundle | {size / MB:.1f} MB (does not compress) |", "",
        "## Method", "",
        "nginx runs as stock Debian does (`worker_processes auto`, one worker per core, sendfile on); `mirror "
        "serve` is one process. Clients are curl processes on the same machine (they share its 2 cores with the "
        "servers), each downloading the bundle several times to /dev/null; throughput is all bytes received "
        "over the round's wall time. Rounds alternate which server goes first; each figure is the median of "
        f"{rounds} round(s). \"Trickling\" readers take one byte per second for the whole round (`mirror serve` "
        "cuts them off after 30 s without progress; nginx's send_timeout is 60 s).", "",
        "## Results", "",
        "| clients | downloads each | trickling readers | nginx MB/s | mirror serve MB/s | mirror / nginx |",
        "|---:|---:|---:|---:|---:|---:|",
        *[f"| {r.clients} | {r.each} | {r.trickling} | {r.nginx:.0f} | {r.mirror:.0f} | {r.ratio:.2f} |"
          for r in rows], "",
        f"Peak memory of the `mirror serve` process over all rounds: {rss / MB:.0f} MB.", "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="an 8 MB bundle, one round (smoke test)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "serve-performance.md")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    photos, rounds = (3, 1) if args.quick else (37, args.rounds)
    # At most 29 connections: every client here comes from 127.0.0.1, and a room allows 32 per address.
    scenarios = [(1, 2, 0), (4, 2, 0)] if args.quick else [(1, 5, 0), (8, 3, 0), (24, 2, 0), (24, 2, 5)]
    with tempfile.TemporaryDirectory(prefix="mirror-serve-bench-") as tmp:
        work = Path(tmp)
        folder, sha, size = make_folder(work, photos)
        rows, rss = measure(folder, sha, size, scenarios, rounds, work)
    text = report(rows, size, rss, rounds)
    args.out.write_text(text)
    if not args.quick:
        results = BENCH / "results"
        results.mkdir(exist_ok=True)
        (results / "serve.json").write_text(json.dumps([asdict(r) | {"ratio": r.ratio} for r in rows], indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
