"""Fixtures: a real keyring, a source folder, a signed bundle, a CLI runner."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import make_sources
from mirror.bundle.create import CreateRequest, create_bundle
from mirror.cli.app import main
from mirror.trust.keyring import Keyring
from mirror.trust.keys import SecretKey

os.environ["MIRROR_LANG"] = "en"  # the tests read English, whatever language the developer's terminal speaks

# real nginx, sshd, SeaweedFS and WsgiDAV fixtures, started on 127.0.0.1; a publisher and a reader (mirror_setup)
pytest_plugins = ["servers", "mirror_setup"]


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test reads the developer's keys, workspace, data or cache folder."""
    monkeypatch.delenv("MIRROR_PASSPHRASE", raising=False)
    monkeypatch.setenv("MIRROR_LANG", "en")
    monkeypatch.setenv("MIRROR_KEYS", str(tmp_path / "keys"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("MIRROR_ORIGINALS", str(tmp_path / "originals"))
    monkeypatch.setenv("MIRROR_STATE", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # what this machine verified: per test
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    yield


@pytest.fixture
def keyring(tmp_path: Path) -> Keyring:
    """The receiver's and author's keyring, with one author key "alice" (no passphrase)."""
    ring = Keyring(tmp_path / "keys")
    ring.create("alice", None)
    return ring


@pytest.fixture
def secret(keyring: Keyring) -> SecretKey:
    """Alice's unlocked secret key."""
    return keyring.secret("alice", None)


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    """An author's folder of two accounts and two photos."""
    return make_sources(tmp_path / "src")


@pytest.fixture
def bundle(tmp_path: Path, sources: Path, secret: SecretKey) -> Path:
    """A bundle signed by alice."""
    out = tmp_path / "bundle.7z"
    create_bundle(CreateRequest(sources, out, title="Test bundle"), secret)
    return out


@pytest.fixture
def runner() -> CliRunner:
    """click's runner; stdout and stderr are kept apart."""
    return CliRunner()


def invoke(runner: CliRunner, *args: str | Path) -> tuple[int, str, str]:
    """Run `mirror ARGS`; return exit code, stdout, stderr. A crash fails the test."""
    result = runner.invoke(main, [str(a) for a in args], catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr
