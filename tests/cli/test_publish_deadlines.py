"""publish and status against a real nginx WebDAV host slowed down by a throttling proxy on 127.0.0.1."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from conftest import invoke
from drip_proxy import DripProxy
from mirror_setup import Setup
from servers import DavServer


@pytest.fixture
def proxy(nginx_dav: DavServer) -> Iterator[DripProxy]:
    """nginx behind a proxy whose rates each test sets before the first connection."""
    with DripProxy(urlsplit(nginx_dav.url).port or 80) as drip:
        yield drip


def _config(setup: Setup, dav: DavServer, proxy: DripProxy, monkeypatch: pytest.MonkeyPatch, *,
            required: bool, slow: str = "") -> Path:
    """The setup's folder host "usb" (required) and "slow", nginx through the proxy, with small limits."""
    monkeypatch.setenv("MIRROR_TEST_SLOW_PASSWORD", dav.password)
    path = setup.root / "slow.toml"
    path.write_text(f'[publisher]\nkey = "alice"\n\n[hosts.usb]\nurl = "{setup.hosts[0]}"\n\n'
                    f'[hosts.slow]\nurl = "http://127.0.0.1:{proxy.port}{urlsplit(dav.url).path}{uuid.uuid4().hex[:8]}/"\n'
                    f'username = "{dav.username}"\npassword_env = "MIRROR_TEST_SLOW_PASSWORD"\n'
                    f"required = {str(required).lower()}\ntimeout = 1\nbudget = 4\n{slow}")
    return path


def _publish(runner: CliRunner, setup: Setup, config: Path) -> tuple[int, str, str, float]:
    started = time.monotonic()
    code, out, err = invoke(runner, "publish", setup.bundle, "--config", config)
    return code, out, err, time.monotonic() - started


def test_an_optional_host_that_drips_is_reported_and_the_others_finish(
        setup: Setup, nginx_dav: DavServer, proxy: DripProxy, runner: CliRunner,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """One byte a second from the first: its index never comes, the folder gets everything, exit 0."""
    proxy.down_rate = 1
    code, out, err, seconds = _publish(runner, setup, _config(setup, nginx_dav, proxy, monkeypatch, required=False))
    assert code == 0, err
    assert seconds < 8
    assert "OK    usb" in out and "FAIL  slow" in out and "(optional)" in out
    # which limit ends the drip first depends on the machine's load: its minimum rate, or its 4 s budget
    assert "too slow" in out or "time budget of 4 s ran out" in out
    assert (setup.hosts[0] / "index.json").exists()


def test_a_required_host_that_drips_gives_exit_4_after_the_others_finish(
        setup: Setup, nginx_dav: DavServer, proxy: DripProxy, runner: CliRunner,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The same drip on a required host: the folder is still complete, and the exit code says incomplete."""
    proxy.down_rate = 1
    code, out, _, seconds = _publish(runner, setup, _config(setup, nginx_dav, proxy, monkeypatch, required=True))
    assert code == 4 and seconds < 8
    assert "OK    usb" in out and "FAIL  slow" in out and "(required)" in out
    assert (setup.hosts[0] / "index.json").exists()


def test_a_host_that_takes_uploads_slowly_is_ended_by_its_budget(
        setup: Setup, nginx_dav: DavServer, proxy: DripProxy, runner: CliRunner,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Its index comes, then it reads the upload at 300 bytes a second: no stall, no minimum rate, so the
    4 s budget ends it; the folder host does not wait for that."""
    proxy.up_rate, proxy.after = 300, 4000
    config = _config(setup, nginx_dav, proxy, monkeypatch, required=False, slow="min_rate = 0\n")
    code, out, err, seconds = _publish(runner, setup, config)
    assert code == 0, err
    assert 4 <= seconds < 12
    assert "FAIL  slow" in out and "time budget of 4 s" in out
    assert "OK    usb" in out and (setup.hosts[0] / "index.json").exists()


def test_status_does_not_wait_for_a_slow_host(setup: Setup, nginx_dav: DavServer, proxy: DripProxy,
                                             runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    """status checks hosts in parallel, each within its budget: the dripping one is FAILED, quickly."""
    config = _config(setup, nginx_dav, proxy, monkeypatch, required=False)
    assert invoke(runner, "publish", setup.bundle, "--config", config, "--to", "usb")[0] == 0
    proxy.down_rate = 1
    started = time.monotonic()
    code, out, _ = invoke(runner, "status", "--config", config)
    assert code == 4 and time.monotonic() - started < 8
    assert "OK     usb" in out and "FAILED slow" in out
    # whichever limit the load lets end it first: the watchdog's rate, the budget, or the socket's own timeout
    assert "too slow" in out or "time budget of 4 s ran out" in out or "timed out" in out, out
