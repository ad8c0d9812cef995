"""A publisher with two folder hosts and a reader who trusts her, for the publish and fetch tests.

Example::

    from mirror_setup import Setup, fetch_cli      # the fixtures come through conftest.py's pytest_plugins

    def test_x(setup: Setup, served: MirrorServer, runner: CliRunner) -> None:
        code, out, err = fetch_cli(runner, setup, "--mirror", served.url)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import invoke
from helpers import make_jpeg
from mirror.bundle.create import CreateRequest, create_bundle
from mirror.trust.keyring import Keyring
from mirror.trust.keys import SecretKey
from mirror_server import MirrorServer


@dataclass
class Setup:
    """A publisher workspace with two folder hosts, and a reader keyring."""

    root: Path
    config: Path
    hosts: tuple[Path, Path]
    reader_keys: Path
    bundle: Path
    sha256: str


@pytest.fixture
def large_bundle(tmp_path: Path, sources: Path, secret: SecretKey) -> Path:
    """A bundle of about 600 KB, so that downloads take several reads."""
    (sources / "photos" / "large.jpg").write_bytes(make_jpeg(900, 700, seed=7, noisy=True))
    out = tmp_path / "bundle.7z"
    create_bundle(CreateRequest(sources, out, title="Test bundle"), secret)
    return out


@pytest.fixture
def setup(tmp_path: Path, large_bundle: Path, keyring: Keyring, runner: CliRunner) -> Setup:
    """alice publishes to two folders; the reader trusts alice as author and publisher."""
    hosts = (tmp_path / "host-a", tmp_path / "host-b")
    for host in hosts:
        host.mkdir()  # a folder host must exist: an unmounted USB stick is an error, not a new folder
    config = tmp_path / "mirror.toml"
    config.write_text(f'[publisher]\nkey = "alice"\nexpires_days = 14\n\n'
                      f'[hosts.a]\nurl = "{hosts[0]}"\npublic_url = "http://127.0.0.1:9/m/"\n\n'
                      f'[hosts.b]\nurl = "file://{hosts[1]}"\n')
    pub = tmp_path / "alice.pub"
    pub.write_text(keyring.get("alice").public.to_text())
    reader = tmp_path / "reader-keys"
    assert invoke(runner, "keys", "import", pub, "--name", "alice", "--role", "author", "--role", "publisher",
                  "--keys", reader)[0] == 0
    return Setup(tmp_path, config, hosts, reader, large_bundle,
                 hashlib.sha256(large_bundle.read_bytes()).hexdigest())


def publish_cli(runner: CliRunner, s: Setup, *args: str | Path) -> tuple[int, str, str]:
    """`mirror publish ARGS --config` the setup's mirror.toml."""
    return invoke(runner, "publish", *args, "--config", s.config)


def fetch_cli(runner: CliRunner, s: Setup, *args: str | Path) -> tuple[int, str, str]:
    """`mirror fetch` with the reader's keys, into ROOT/in."""
    return invoke(runner, "fetch", "--keys", s.reader_keys, "--dest", s.root / "in", *args)


@pytest.fixture
def served(setup: Setup, runner: CliRunner) -> Iterator[MirrorServer]:
    """Host a, published, served over HTTP."""
    assert publish_cli(runner, setup, setup.bundle)[0] == 0
    with MirrorServer(setup.hosts[0]) as server:
        yield server
