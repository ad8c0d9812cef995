"""Discovery end to end: `serve --lan` and `fetch --lan` in two private network namespaces joined by a veth pair.

The namespaces are made by the test and removed by name at the end; they have no route to anything else,
so no packet (mDNS multicast included) can leave the machine. Needs root and iproute2: skipped locally
without them, a failure when CI is set.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import invoke
from mirror.formats.announce import SERVICE_TYPE
from mirror.trust.keyring import Keyring
from mirror.trust.keys import SecretKey
from room import plain_folder
from servers import require, stop, system_tool

SERVER_IP, READER_IP = "10.213.99.1", "10.213.99.2"

# Announces a room at a public address from inside the server's namespace: a reader must ignore it.
FAKE_PEER = f"""
import socket, time
from zeroconf import ServiceInfo, Zeroconf, IPVersion
zc = Zeroconf(ip_version=IPVersion.V4Only)
zc.register_service(ServiceInfo("{SERVICE_TYPE}", "evil.{SERVICE_TYPE}", port=80,
                                addresses=[socket.inet_aton("8.8.8.8")], server="evil.local."))
print("announced", flush=True)
time.sleep(120)
"""


@dataclass(frozen=True)
class Pair:
    """Two network namespaces: the room's and the reader's."""

    server: str
    reader: str

    def run(self, namespace: str, *args: str) -> list[str]:
        """A command line that runs inside a namespace."""
        return [system_tool("ip"), "netns", "exec", namespace, *args]


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([system_tool("ip"), *args], capture_output=True, text=True, timeout=30, check=False)


@pytest.fixture
def pair() -> Iterator[Pair]:
    """Two fresh namespaces, a veth pair between them, loopback and the pair up; deleted by name afterwards."""
    require(os.geteuid() == 0, "root (to create network namespaces)")
    tag = f"{os.getpid() % 100000}"
    made = Pair(f"mroom-s{tag}", f"mroom-r{tag}")
    steps = [("netns", "add", made.server), ("netns", "add", made.reader),
             ("link", "add", f"mrs{tag}", "type", "veth", "peer", "name", f"mrr{tag}"),
             ("link", "set", f"mrs{tag}", "netns", made.server), ("link", "set", f"mrr{tag}", "netns", made.reader),
             ("-n", made.server, "addr", "add", f"{SERVER_IP}/24", "dev", f"mrs{tag}"),
             ("-n", made.reader, "addr", "add", f"{READER_IP}/24", "dev", f"mrr{tag}"),
             ("-n", made.server, "link", "set", "lo", "up"), ("-n", made.reader, "link", "set", "lo", "up"),
             ("-n", made.server, "link", "set", f"mrs{tag}", "up"),
             ("-n", made.reader, "link", "set", f"mrr{tag}", "up")]
    for name in (made.server, made.reader):  # left over by a run that was killed: same PID, same names
        _ip("netns", "del", name)
    try:
        for step in steps:
            done = _ip(*step)
            require(done.returncode == 0, f"network namespaces (`ip {' '.join(step)}`: {done.stderr.strip()})")
        yield made
    finally:
        for name in (made.server, made.reader):  # deleting a namespace deletes its end of the veth pair too
            _ip("netns", "del", name)


class _Lines:
    """A process's stdout, read on a thread, so the test can wait for a line."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert process.stdout is not None
        self._thread = threading.Thread(target=lambda: self.lines.extend(iter(process.stdout.readline, "")),
                                        daemon=True)
        self._thread.start()

    def wait_for(self, text: str, process: subprocess.Popen[str], limit: float = 30.0) -> str:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            found = next((line for line in list(self.lines) if text in line), None)
            if found is not None:
                return found
            if process.poll() is not None:
                break
            time.sleep(0.05)
        pytest.fail(f"no line with {text!r} from {process.args!r}:\n{''.join(self.lines)[-3000:]}")


def _get(pair: Pair, url: str) -> bytes:
    """A GET from inside the reader's namespace."""
    script = f"import sys, urllib.request; sys.stdout.buffer.write(urllib.request.urlopen({url!r}, timeout=10).read())"
    return subprocess.run(pair.run(pair.reader, sys.executable, "-c", script), capture_output=True, timeout=60,
                          check=True).stdout


def test_a_room_is_found_and_fetched_from(pair: Pair, tmp_path: Path, keyring: Keyring, secret: SecretKey,
                                          runner: CliRunner) -> None:
    """serve --lan prints its LAN URL and QR code and announces itself; fetch --lan finds it, lists it, verifies."""
    folder = plain_folder(tmp_path, secret)
    pub = tmp_path / "alice.pub"
    pub.write_text(keyring.get("alice").public.to_text())
    keys = tmp_path / "reader-keys"
    assert invoke(runner, "keys", "import", pub, "--name", "alice", "--keys", keys)[0] == 0
    room = subprocess.Popen(pair.run(pair.server, sys.executable, "-m", "mirror", "serve", str(folder), "--lan",
                                     "--port", "8470"),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    fake = subprocess.Popen(pair.run(pair.server, sys.executable, "-c", FAKE_PEER), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        output = _Lines(room)
        announced = output.wait_for("announced on the local network as", room).split(" as ")[1].split()[0]
        _Lines(fake).wait_for("announced", fake)
        assert any(f"http://{SERVER_IP}:8470/" in line for line in output.lines)
        assert any("█" in line for line in output.lines)  # the QR code of the URL
        found = subprocess.run(pair.run(pair.reader, sys.executable, "-m", "mirror", "fetch", "--lan", "--lan-wait",
                                        "4", "--keys", str(keys), "--dest", str(tmp_path / "in"), "--json"),
                               capture_output=True, text=True, timeout=120, check=False)
        page = _get(pair, f"http://{SERVER_IP}:8470/")
        qr = _get(pair, f"http://{SERVER_IP}:8470/qr.png")
    finally:
        for process, grace in ((fake, 5.0), (room, 10.0)):
            stop(process, grace)
            if process.stdout is not None:
                process.stdout.close()
    assert found.returncode == 0, found.stderr
    doc = json.loads(found.stdout)
    assert doc["peers"] == [{"name": announced, "url": f"http://{SERVER_IP}:8470/", "index": "unsigned"}]
    assert doc["mirrors"][0]["mirror"] == f"http://{SERVER_IP}:8470/" and doc["mirrors"][0]["fate"] == "ok"
    assert doc["bundles"][0]["arrived"] and doc["bundles"][0]["trusted"]
    (arrived,) = (tmp_path / "in").glob("*.7z")
    assert arrived.read_bytes() == (folder / "almaty.7z").read_bytes()
    assert "8.8.8.8" not in found.stdout + found.stderr  # the announcement pointing off the network was ignored
    assert b'<img class="qr" src="qr.png"' in page and qr.startswith(b"\x89PNG")  # the page shows its address


def test_fetch_lan_alone_with_nobody_around(pair: Pair, tmp_path: Path) -> None:
    """With no room on the network, fetch --lan says so and exits 2 with one line, no traceback."""
    done = subprocess.run(pair.run(pair.reader, sys.executable, "-m", "mirror", "fetch", "--lan", "--lan-wait", "1",
                                   "--dest", str(tmp_path / "in")),
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert "no room answered on the local network" in done.stderr and "Traceback" not in done.stderr
