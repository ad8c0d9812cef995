"""fetch downloads several bundles at once (--parallel), and an interruption ends every download promptly."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from conftest import invoke
from helpers import make_jpeg, make_sources
from mirror.bundle.create import CreateRequest, create_bundle
from mirror.trust.keys import SecretKey
from mirror_server import MirrorServer
from mirror_setup import Setup, fetch_cli, publish_cli


def _two_bundles(setup: Setup, secret: SecretKey, runner: CliRunner) -> MirrorServer:
    """Host a with the setup's bundle and a second one of about the same size, published together."""
    sources = make_sources(setup.root / "second-src")
    (sources / "photos" / "large.jpg").write_bytes(make_jpeg(900, 700, seed=8, noisy=True))
    second = setup.root / "second.7z"
    create_bundle(CreateRequest(sources, second, title="Second bundle"), secret)
    code, _, err = publish_cli(runner, setup, setup.bundle, second)
    assert code == 0, err
    return MirrorServer(setup.hosts[0])


def test_two_bundles_download_at_the_same_time(setup: Setup, secret: SecretKey, runner: CliRunner) -> None:
    """Throttled per connection: with --parallel 2 both bundles are on the wire at once, with 1 never."""
    with _two_bundles(setup, secret, runner) as server:
        server.rates = {".7z": 400_000}
        code, out, err = fetch_cli(runner, setup, "--mirror", server.url, "--parallel", "2")
        assert code == 0, err
        assert out.count("ARRIVED") == 2 and server.most_in_flight == 2
    for arrived in (setup.root / "in").glob("*.7z"):
        arrived.unlink()
    with MirrorServer(setup.hosts[0]) as server:
        server.rates = {".7z": 400_000}
        code, out, err = fetch_cli(runner, setup, "--mirror", server.url, "--parallel", "1")
        assert code == 0, err
        assert out.count("ARRIVED") == 2 and server.most_in_flight == 1


def test_an_id_given_twice_is_fetched_once(setup: Setup, secret: SecretKey, runner: CliRunner) -> None:
    """Two workers must never share one partial download: the second mention of a bundle is dropped."""
    with _two_bundles(setup, secret, runner) as server:
        code, out, _ = fetch_cli(runner, setup, "--mirror", server.url, "--list", "--json")
        ids = [row["id"] for row in json.loads(out)["index"]["bundles"]]
        code, out, err = fetch_cli(runner, setup, "--mirror", server.url, ids[0], ids[1], ids[0])
    assert code == 0, err
    assert out.count("ARRIVED") == 2 and len(list((setup.root / "in").glob("*.7z"))) == 2
    assert [p for p, _ in server.requests if p.endswith(".7z")].count(f"bundles/{setup.sha256}.7z") <= 1


@pytest.mark.parametrize("signals", [1, 2])
def test_an_interruption_ends_every_download_at_once(setup: Setup, secret: SecretKey, runner: CliRunner,
                                                     signals: int) -> None:
    """Two downloads dripping at 2 KB/s (minutes each): SIGINT ends the run within seconds, exit 130, nothing lands
    in DEST, and both partial downloads wait in .mirror-downloads for the next run (what a piece being read when
    the transfer ended held is lost: pieces are 64 KiB). An impatient second Ctrl-C changes nothing."""
    with _two_bundles(setup, secret, runner) as server:
        server.rates = {".7z": 2000}
        dest = setup.root / "in"
        log = setup.root / "fetch.err"
        with log.open("wb") as err:
            process = subprocess.Popen([sys.executable, "-m", "mirror", "fetch", "--keys", str(setup.reader_keys),
                                        "--dest", str(dest), "--mirror", server.url, "--budget", "600"],
                                       stdout=subprocess.DEVNULL, stderr=err, env={**os.environ, "LANG": "C"})
            try:
                deadline = time.monotonic() + 60
                while server.in_flight < 2 and time.monotonic() < deadline and process.poll() is None:
                    time.sleep(0.1)
                assert server.in_flight == 2, log.read_text()
                time.sleep(0.5)
                stopped = time.monotonic()
                for _ in range(signals):
                    process.send_signal(signal.SIGINT)
                    time.sleep(0.2)
                code = process.wait(timeout=30)
                took = time.monotonic() - stopped
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait()
    # A second Ctrl-C that lands while the first is being handled ends the process by the signal itself.
    assert code == 130 or (signals == 2 and code == -signal.SIGINT), (code, log.read_text())
    assert "interrupted" in log.read_text() or code == -signal.SIGINT
    assert took < 10, took
    assert not list(dest.glob("*.7z"))
    parts = list((dest / ".mirror-downloads").glob("*.part"))
    assert len(parts) == 2


def test_a_bundle_that_drips_keeps_no_finished_one_out_of_dest(setup: Setup, secret: SecretKey,
                                                              runner: CliRunner) -> None:
    """The first bundle asked for dripped at 3 KB/s (above --min-rate: minutes, or days for a large one), the
    second came at once: it waited, verified, outside DEST until the first was done, and a Ctrl-C meanwhile lost
    it too (helper-145). Each bundle is now placed as it arrives."""
    with _two_bundles(setup, secret, runner) as server:
        out = fetch_cli(runner, setup, "--mirror", server.url, "--list", "--json")[1]
        first, second = (row["sha256"] for row in json.loads(out)["index"]["bundles"])
        server.rates = {f"{first}.7z": 3000}
        dest = setup.root / "in"
        process = subprocess.Popen([sys.executable, "-m", "mirror", "fetch", "--keys", str(setup.reader_keys),
                                    "--dest", str(dest), "--mirror", server.url, "--budget", "600"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "LANG": "C"})
        try:
            deadline = time.monotonic() + 60
            while not list(dest.glob("*.7z")) and time.monotonic() < deadline and process.poll() is None:
                time.sleep(0.1)
            assert process.poll() is None, "the dripping bundle was done before the test could look"
            (arrived,) = dest.glob("*.7z")
            process.send_signal(signal.SIGINT)
            process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert process.returncode == 130
    assert list(dest.glob("*.7z")) == [arrived] and hashlib.sha256(arrived.read_bytes()).hexdigest() == second
    assert invoke(runner, "verify", arrived, "--keys", setup.reader_keys)[0] == 0


def test_a_sequential_fetch_checks_each_bundle_while_it_downloads(setup: Setup, secret: SecretKey, runner: CliRunner,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Bundles are placed in order, so the first is still being placed when the second starts downloading: the
    second is checked while it downloads too, not read again once it is there (fetch/early.py)."""
    import mirror.fetch.fetcher as fetcher

    monkeypatch.setattr("mirror.fetch.early.EARLY_MIN", 0)  # the test bundles are small
    after: list[object] = []
    real = fetcher.verify_bundle
    monkeypatch.setattr(fetcher, "verify_bundle", lambda path, *a, **k: after.append(path) or real(path, *a, **k))
    with _two_bundles(setup, secret, runner) as server:
        server.rates = {".7z": 400_000}
        code, out, err = fetch_cli(runner, setup, "--mirror", server.url, "--parallel", "1")
    assert code == 0, err
    assert out.count("ARRIVED") == 2 and after == []


def test_a_bundle_the_disk_has_no_room_for_is_not_begun(setup: Setup, secret: SecretKey, runner: CliRunner,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Room for one of two bundles (with the system's reserve left free): one arrives, the other is not begun,
    whichever order the two workers start in, since the first counts with what it still has to write. The
    missing one is named with the sizes, exit 4, no partial file; with room, the next run fetches it."""
    import shutil as real_shutil

    from mirror.fetch import space

    with _two_bundles(setup, secret, runner) as server:
        sizes = [p.stat().st_size for p in setup.hosts[0].glob("bundles/*.7z")]
        total = 10 << 30
        reserve = min(space.RESERVE_MAX, int(total * space.RESERVE_SHARE))
        free = reserve + max(sizes) + min(sizes) // 2
        monkeypatch.setattr(space.shutil, "disk_usage",
                            lambda _: real_shutil._ntuple_diskusage(total, total - free, free))
        server.rates = {".7z": 400_000}  # both on the wire at once
        code, out, err = fetch_cli(runner, setup, "--mirror", server.url, "--parallel", "2")
        assert code == 4 and out.count("ARRIVED") == 1 and out.count("MISSING") == 1, out + err
        assert "not downloaded: it needs " in out and "stay free for the system" in out
        assert "make room on that disk" in err
        assert not list((setup.root / "in" / ".mirror-downloads").glob("*.part"))
        monkeypatch.setattr(space.shutil, "disk_usage", lambda _: real_shutil._ntuple_diskusage(total, 0, total))
        code, out, err = fetch_cli(runner, setup, "--mirror", server.url)
    assert code == 0 and out.count("ARRIVED") == 2 and out.count("already here") == 1, out + err
    assert len(list((setup.root / "in").glob("*.7z"))) == 2


@pytest.mark.parametrize("trouble", ["busy", "dripping"])
def test_a_mirror_that_fails_one_bundle_is_asked_after_the_others_for_the_next(
        trouble: str, setup: Setup, secret: SecretKey, runner: CliRunner) -> None:
    """A mirror that answered every bundle "503, try again in 1 s" held each for the whole --budget, and one that
    dripped every bundle cost a --timeout for each, before the free mirror listed after it was asked (10 bundles:
    minutes of a reader's window). A busy mirror is now asked again after the others, and one that failed a bundle
    comes after them for the next ones."""
    with _two_bundles(setup, secret, runner) as bad, MirrorServer(setup.hosts[0]) as good:
        if trouble == "busy":
            bad.busy = 1000
        else:
            bad.rates = {".7z": 2000}
        code, out, err = fetch_cli(runner, setup, "--mirror", bad.url, "--mirror", good.url, "--parallel", "1",
                                   "--timeout", "1", "--min-rate", "10K", "--budget", "60")
        assert code == 0, err
        assert out.count("ARRIVED") == 2
        asked = {p for p, _ in bad.requests if p.endswith(".7z")}
    assert len(asked) == 1, bad.requests  # the first bundle only; the second went to the good mirror first
    assert len([p for p, _ in bad.requests if p.endswith(".7z")]) == 1
