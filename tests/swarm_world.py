"""A published mirror served by nginx, and real `mirror seed` / `mirror fetch --torrent` processes on 127.0.0.1.

Example::

    world = make_world(tmp_path, nginx_dav, runner, "t1", author)   # alice's ~1.6 MB bundle, published, served
    with seeding(world, port) as seeder:                     # `mirror seed` in its own process
        result = mirror(world, "fetch", "--torrent", "--peer", f"127.0.0.1:{port}", ...)

Every process talks to 127.0.0.1 only and is stopped by its PID.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import invoke
from helpers import make_jpeg, make_sources, require_tool
from mirror.bundle.create import CreateRequest, create_bundle
from mirror.trust.keyring import Keyring
from servers import DavServer, free_ports, stop

STARTUP = 30.0


@dataclass(frozen=True)
class World:
    """alice's bundle published to a folder that nginx serves; a reader who trusts alice."""

    root: Path
    bundle: Path
    sha256: str
    host: Path  # the published mirror folder
    url: str  # the same mirror over HTTP (nginx)
    reader_keys: Path
    config: Path

    @property
    def entry(self) -> dict[str, object]:
        """The bundle's entry in the signed index."""
        entry: dict[str, object] = json.loads((self.host / "index.json").read_bytes())["bundles"][0]
        return entry

    @property
    def torrent(self) -> Path:
        """The published .torrent."""
        return self.host / "bundles" / f"{self.sha256}.torrent"


@dataclass(frozen=True)
class Author:
    """alice's keyring and her bundle of about 1.6 MB (25 pieces of 64 KiB), made once per test module."""

    keys: Path
    bundle: Path


def make_author(folder: Path) -> Author:
    """Create alice's key and bundle in `folder` (the noisy photos take seconds: share the result)."""
    keyring = Keyring(folder / "keys")
    keyring.create("alice", None)
    sources = make_sources(folder / "src")
    for seed in (7, 8):
        (sources / "photos" / f"large-{seed}.jpg").write_bytes(make_jpeg(1500, 1100, seed=seed, noisy=True))
    bundle = folder / "bundle.7z"
    create_bundle(CreateRequest(sources, bundle, title="Almaty, January 2022"), keyring.secret("alice", None))
    return Author(folder / "keys", bundle)


def make_world(tmp_path: Path, nginx: DavServer, runner: CliRunner, name: str, author: Author) -> World:
    """Publish alice's bundle to a folder that nginx serves, and give a reader her key."""
    host = nginx.root / name
    host.mkdir()
    config = tmp_path / "mirror.toml"
    config.write_text(f'[publisher]\nkey = "alice"\n\n[hosts.web]\nurl = "{host}"\npublic_url = "{nginx.url}{name}/"\n')
    code, _, err = invoke(runner, "publish", author.bundle, "--config", config, "--keys", author.keys)
    assert code == 0, err
    pub = tmp_path / "alice.pub"
    pub.write_text(Keyring(author.keys).get("alice").public.to_text())
    reader = tmp_path / "reader-keys"
    assert invoke(runner, "keys", "import", pub, "--name", "alice", "--role", "author", "--role", "publisher",
                  "--keys", reader)[0] == 0
    digest = hashlib.sha256(author.bundle.read_bytes()).hexdigest()
    return World(tmp_path, author.bundle, digest, host, f"{nginx.url}{name}/", reader, config)


def mirror(world: World, *args: str | Path, timeout: float = 120,
           prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """Run `mirror ARGS` in its own process (the reader's keyring), as a user would."""
    command = [*prefix, sys.executable, "-m", "mirror", *map(str, args), "--keys", str(world.reader_keys)]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)


def fetch_args(world: World, dest: Path, *args: str | Path) -> tuple[str | Path, ...]:
    """`fetch --torrent` into `dest`, the index read from a copy of the mirror without the bundle itself.

    A folder mirror is no web seed, and without the bundle it cannot serve it either: what arrives came
    from the swarm's peers.
    """
    copy = world.root / "index-only"
    if not copy.exists():
        shutil.copytree(world.host, copy, ignore=shutil.ignore_patterns("*.7z"))
    return ("fetch", "--torrent", "--mirror", copy, "--dest", dest, "--timeout", "15", "--json", *args)


@contextmanager
def seeding(world: World, folder: Path, port: int, *args: str,
            prefix: tuple[str, ...] = ()) -> Iterator[subprocess.Popen[bytes]]:
    """`mirror seed FOLDER --port PORT` in its own process, ready once it printed SEEDING; stopped by PID."""
    out, err = world.root / f"seed-{port}.out", world.root / f"seed-{port}.err"
    command = [*prefix, sys.executable, "-m", "mirror", "seed", str(folder), "--port", str(port), *args,
               "--keys", str(world.reader_keys)]
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr)
    try:
        deadline = time.monotonic() + STARTUP
        while b"SEEDING" not in out.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"mirror seed did not start:\n{out.read_text()}\n{err.read_text()}")
            time.sleep(0.05)
        yield process
    finally:
        if prefix:  # a tracer: stop the seed it runs first (strace detaches from its tracee when it is stopped)
            stop_children(process.pid)
        stop(process, 5.0)


def stop_children(pid: int) -> None:
    """SIGTERM the child processes of `pid` (by their PIDs, from /proc) and wait up to 5 s for them to go."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    found = [int(c) for c in children.read_text().split()] if children.exists() else []
    for child in found:
        os.kill(child, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while any(Path(f"/proc/{c}").exists() for c in found) and time.monotonic() < deadline:
        time.sleep(0.05)
    for child in found:
        if Path(f"/proc/{child}").exists():
            os.kill(child, signal.SIGKILL)


def swarm_row(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """The fetch report's row for the swarm."""
    doc = json.loads(result.stdout)
    rows: list[dict[str, str]] = [m for m in doc["mirrors"] if m["mirror"] == "swarm"]
    assert rows, result.stdout + result.stderr
    return rows[0]


def started(world: World, args: tuple[str | Path, ...]) -> subprocess.Popen[str]:
    """`mirror ARGS` started in the background, with a state folder of its own (a reader on another machine)."""
    state = tempfile.mkdtemp(prefix="state-", dir=world.root)
    command = [sys.executable, "-m", "mirror", *map(str, args), "--keys", str(world.reader_keys)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "MIRROR_STATE": state})


def finished(process: subprocess.Popen[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Wait for a process from `started`."""
    out, err = process.communicate(timeout=timeout)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def peer_bytes(detail: str) -> dict[str, int]:
    """The bytes per peer in a swarm report line: "...; bytes by peer: 127.0.0.1:5000=1234, ...; ..."."""
    listed = next((p[len("bytes by peer: "):] for p in detail.split("; ") if p.startswith("bytes by peer: ")), "")
    return {a: int(n) for a, _, n in (item.rpartition("=") for item in listed.split(", ") if item)}


class StaticTracker:
    """An HTTP tracker on 127.0.0.1 that answers every announce with the same peers (compact, BEP 23)."""

    def __init__(self, peers: list[tuple[str, int]]) -> None:
        body = b"d8:intervali60e5:peers%d:%se" % (6 * len(peers), b"".join(
            socket.inet_aton(host) + port.to_bytes(2, "big") for host, port in peers))
        self.announces = 0

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                return

            def do_GET(self) -> None:
                tracker.announces += 1
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        tracker = self
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/announce"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> StaticTracker:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def aria2(torrent: Path, dest: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Debian's aria2c downloads `torrent` into `dest`: no DHT, no LPD, no peer exchange, nothing but 127.0.0.1."""
    program = require_tool("aria2c")
    listen, dht = free_ports(2)
    command = [program, "--no-conf", f"--dir={dest}", "--seed-time=0", "--enable-dht=false", "--enable-dht6=false",
               "--bt-enable-lpd=false", "--enable-peer-exchange=false", f"--listen-port={listen}",
               f"--dht-listen-port={dht}", "--bt-stop-timeout=60", "--summary-interval=0", "--disable-ipv6=true",
               "--console-log-level=warn", "--auto-file-renaming=false", *extra, str(torrent)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def transmission(torrent: Path, dest: Path, size: int) -> Path:
    """Debian's Transmission 3 (`transmission-cli`) downloads `torrent` into `dest`: no DHT, no LPD, no peer
    exchange, no port mapping, bound to 127.0.0.1. It seeds forever once done, so it is stopped by PID as soon as
    the file has all `size` bytes under its own name (a partial one is NAME.part). Transmission 3 takes no peer
    on 127.0.0.0/8 (a "martian" address to it), so on loopback it is tested with web seeds only."""
    program = require_tool("transmission-cli")
    config = dest.with_name(dest.name + "-config")
    config.mkdir(parents=True)
    dest.mkdir(parents=True)
    port = free_ports(1)[0]
    (config / "settings.json").write_text(json.dumps({
        "dht-enabled": False, "lpd-enabled": False, "pex-enabled": False, "utp-enabled": False,
        "port-forwarding-enabled": False, "blocklist-enabled": False, "rpc-enabled": False,
        "bind-address-ipv4": "127.0.0.1", "bind-address-ipv6": "::1", "peer-port": port,
        "rename-partial-files": True}))
    name = _torrent_name(torrent)
    log = dest.with_name(dest.name + ".log")
    with log.open("wb") as out:
        process = subprocess.Popen([program, "-w", str(dest), "-g", str(config), "-p", str(port), str(torrent)],
                                   stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while not ((dest / name).exists() and (dest / name).stat().st_size == size):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"transmission-cli did not finish:\n{log.read_bytes()[-2000:]!r}")
            time.sleep(0.2)
    finally:
        stop(process, 10.0)
    return dest / name


def _torrent_name(torrent: Path) -> str:
    from mirror.formats.torrent import Torrent

    return Torrent.from_bytes(torrent.read_bytes()).info.name


_ADDRESS = re.compile(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"|sin6?_port=htons\((\d+)\)')
LOOPBACK = {"127.0.0.1", "::1", "::ffff:127.0.0.1"}


def destinations(trace: Path) -> set[tuple[str, int]]:
    """Every (address, port) a traced process connected or sent to (strace -e trace=connect,sendto,sendmsg)."""
    found: set[tuple[str, int]] = set()
    for line in trace.read_text().splitlines():
        if not re.search(r"\b(connect|sendto|sendmsg|sendmmsg)\(", line):
            continue
        address, port = None, None
        for match in _ADDRESS.finditer(line):
            address = match[1] or match[2] or address
            port = int(match[3]) if match[3] else port
        if address is not None and port is not None:
            found.add((address, port))
    return found
