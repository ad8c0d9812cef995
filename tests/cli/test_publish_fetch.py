"""publish to folders and fetch back through HTTP: layout, versions, failover, resume, rollback, freeze."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import invoke
from helpers import require_tool, run
from mirror.bundle.create import CreateRequest, create_bundle
from mirror.formats.index import Index
from mirror.publish.state import load_published
from mirror.record import replace
from mirror.trust.index import sign_index
from mirror.trust.keyring import Keyring
from mirror.trust.keys import SecretKey
from mirror_server import MirrorServer
from mirror_setup import Setup, fetch_cli, publish_cli
from servers import free_port

FUTURE = "2030-01-01T00:00:00Z"


def test_publish_lays_out_every_host_and_minisign_verifies(setup: Setup, runner: CliRunner,
                                                           keyring: Keyring) -> None:
    """Bundles by hash with detached signatures, the immutable index copy, index.json last; stock minisign agrees."""
    code, out, err = publish_cli(runner, setup, setup.bundle)
    assert code == 0, err
    assert out.count("OK    ") == 2 and "index version 1" in out
    for host in setup.hosts:
        names = sorted(p.relative_to(host).as_posix() for p in host.rglob("*") if p.is_file())
        assert names == [f"bundles/{setup.sha256}.7z", f"bundles/{setup.sha256}.SHA256SUMS",
                         f"bundles/{setup.sha256}.SHA256SUMS.minisig", f"bundles/{setup.sha256}.torrent",
                         "index.json", "index.json.minisig", "index/1.json", "index/1.json.minisig"]
        index = json.loads((host / "index.json").read_bytes())
        assert index["bundles"][0]["sha256"] == setup.sha256
        assert index["mirrors"] == ["http://127.0.0.1:9/m/"]  # the private folder b is not advertised
    minisign = require_tool("minisign")
    pub = setup.root / "publisher.pub"
    pub.write_text(keyring.get("alice").public.to_text())
    result = run(minisign, "-Vm", setup.hosts[0] / "index.json", "-p", pub)
    assert "Trusted comment: index:" in result.stdout and "\tversion:1\t" in result.stdout


def test_version_only_goes_up_even_without_local_state(setup: Setup, runner: CliRunner, tmp_path: Path) -> None:
    """A second run makes version 2; with the local state lost, the hosts' version 2 still leads to 3."""
    code, out, _ = publish_cli(runner, setup, setup.bundle)
    assert code == 0 and "1 bundle(s), 1 added" in out
    code, out, _ = publish_cli(runner, setup, setup.bundle)
    assert code == 0 and "index version 2" in out and "1 bundle(s), 0 added" in out  # listed already
    assert out.count("5 sent, 3 already there") == 2  # content-addressed files are not sent again (.torrent is)
    shutil.rmtree(tmp_path / "state")  # the publisher's local state is lost
    code, out, _ = invoke(runner, "refresh", "--config", setup.config)
    assert code == 0 and "index version 3" in out
    assert json.loads((setup.hosts[1] / "index.json").read_bytes())["version"] == 3


def test_an_older_version_given_is_not_listed_and_said_so(setup: Setup, runner: CliRunner, sources: Path,
                                                          keyring: Keyring, tmp_path: Path) -> None:
    """The index lists the newest version of each bundle: version 1 given after version 2 is not added."""
    newer = tmp_path / "v2.7z"
    assert invoke(runner, "create", sources, "-o", newer, "--key", "alice", "--update", setup.bundle,
                  "--keys", tmp_path / "keys")[0] == 0
    assert publish_cli(runner, setup, newer)[0] == 0
    code, out, err = publish_cli(runner, setup, setup.bundle)
    assert code == 0 and "1 bundle(s), 0 added" in out
    assert "Test bundle: version 1 is not listed: the index has version 2" in err
    assert json.loads((setup.hosts[0] / "index.json").read_bytes())["bundles"][0]["version"] == 2


def test_dead_host_gives_exit_4_and_others_complete(setup: Setup, runner: CliRunner) -> None:
    """A host that cannot be written fails alone; the others are fully updated."""
    setup.hosts[1].parent.joinpath("blocked").write_text("a file where a folder should be")
    text = setup.config.read_text().replace(f"file://{setup.hosts[1]}", f"{setup.hosts[1].parent}/blocked/sub")
    setup.config.write_text(text)
    code, out, _ = publish_cli(runner, setup, setup.bundle, "--dry-run")
    assert code == 4, out  # what the publish would end with (it exited 0, however many hosts were down)
    code, out, _ = publish_cli(runner, setup, setup.bundle)
    assert code == 4
    assert "OK    a" in out and "FAIL  b" in out
    assert (setup.hosts[0] / "index.json").exists()


def test_a_host_that_missed_a_bundle_gets_it_before_an_index_naming_it(setup: Setup, runner: CliRunner) -> None:
    """The index is saved before uploading; a host that did not get a bundle then gets it on the next run."""
    b = setup.hosts[1]
    bundle_on = [f"bundles/{setup.sha256}.7z", f"bundles/{setup.sha256}.SHA256SUMS.minisig"]
    assert publish_cli(runner, setup, setup.bundle, "--to", "a")[0] == 0
    assert not any(b.iterdir())
    code, out, err = invoke(runner, "refresh", "--config", setup.config)
    assert code == 0 and "OK    b" in out, err
    assert "not known to be on every host" in err
    assert all((b / name).is_file() for name in bundle_on)
    assert json.loads((b / "index.json").read_bytes())["bundles"][0]["sha256"] == setup.sha256
    code, out, err = invoke(runner, "refresh", "--config", setup.config)  # now known everywhere: nothing sent
    assert code == 0 and "not known" not in err and out.count("4 sent, 0 already there") == 2  # the index files


def test_a_host_lacking_a_bundle_whose_file_is_gone_gets_no_index(setup: Setup, runner: CliRunner,
                                                                  tmp_path: Path) -> None:
    """Without the publisher's copy, a host that lacks a listed bundle is refused, and named; the others go on."""
    b = setup.hosts[1]
    assert publish_cli(runner, setup, setup.bundle, "--to", "a")[0] == 0
    moved = tmp_path / "elsewhere.7z"
    setup.bundle.rename(moved)
    code, out, err = invoke(runner, "refresh", "--config", setup.config, "--dry-run")
    assert code == 4 and "not on this host" in out + err, out + err  # as the refresh will (it said 0: helper-134)
    code, out, err = invoke(runner, "refresh", "--config", setup.config)
    assert code == 4 and "OK    a" in out, err
    assert "FAIL  b" in out and f"the index lists Test bundle (bundles/{setup.sha256}.7z), which is not on" in out
    assert not (b / "index.json").exists()
    assert "cannot send it again" in err
    code, out, err = publish_cli(runner, setup, moved)  # published again from where it is now
    assert code == 0 and "OK    b" in out, err
    assert (b / f"bundles/{setup.sha256}.7z").is_file() and (b / "index.json").is_file()


def test_a_bundle_read_back_on_a_host_whose_run_then_fails_is_remembered_as_held(setup: Setup, runner: CliRunner,
                                                                                  tmp_path: Path,
                                                                                  keyring: Keyring) -> None:
    """After a lost state, a listed bundle whose file is gone is read back whole on each host; once read, it is
    held, even if the host's run fails later. It was forgotten, and read back again on every run: a host holding
    more than its budget's worth could never get a new index."""
    b = setup.hosts[1]
    assert publish_cli(runner, setup, setup.bundle)[0] == 0
    setup.bundle.rename(tmp_path / "elsewhere.7z")
    shutil.rmtree(tmp_path / "state")  # the publisher's local state is lost: nothing is known held
    (b / "index").rename(b / "index.kept")
    (b / "index").write_text("a file where the folder of versions should be")  # b fails after the read-back
    code, out, err = invoke(runner, "refresh", "--config", setup.config)
    assert code == 4 and "OK    a" in out and "FAIL  b" in out, out + err
    (b / "index").unlink()
    (b / "index.kept").rename(b / "index")
    published = load_published(keyring.get("alice").key_id_hex)
    assert published is not None
    held = list(published.holding.values())
    assert len(held) == 2 and all(f"bundles/{setup.sha256}.7z" in h for h in held), held
    on_b = b / f"bundles/{setup.sha256}.7z"
    on_b.write_bytes(bytes(on_b.stat().st_size))  # a read-back now would refuse b: none is made
    code, out, err = invoke(runner, "refresh", "--config", setup.config)
    assert code == 0 and "OK    b" in out, out + err


def test_a_host_that_failed_gets_what_it_missed_next_time(setup: Setup, runner: CliRunner) -> None:
    """After a failed run the host's index is older; the next run sends it the bundle as well as the index."""
    good = setup.config.read_text()
    setup.hosts[1].parent.joinpath("blocked").write_text("a file where a folder should be")
    setup.config.write_text(good.replace(f"file://{setup.hosts[1]}", f"{setup.hosts[1].parent}/blocked/sub"))
    assert publish_cli(runner, setup, setup.bundle)[0] == 4
    setup.config.write_text(good)
    code, out, err = invoke(runner, "refresh", "--config", setup.config)
    assert code == 0 and "OK    b" in out, err
    assert (setup.hosts[1] / f"bundles/{setup.sha256}.7z").is_file()


def test_publish_refuses_a_bundle_that_fails_verification(setup: Setup, runner: CliRunner) -> None:
    """Nobody publishes a damaged bundle; nothing reaches the hosts."""
    damaged = setup.root / "damaged.7z"
    data = bytearray(setup.bundle.read_bytes())
    data[-100] ^= 0xFF
    damaged.write_bytes(bytes(data))
    code, _, err = publish_cli(runner, setup, setup.bundle, damaged)
    assert code == 3 and f"mirror: {damaged}: " in err, err  # which of the bundles given
    assert not any(setup.hosts[0].iterdir())


def test_publish_refuses_a_bundle_by_a_key_not_known_as_an_author_with_exit_5(setup: Setup, runner: CliRunner,
                                                                               sources: Path) -> None:
    """Intact, but by a stranger: exit 5, as verify says of such a bundle, with the fingerprint to compare (it
    was exit 2, a usage error); nothing reaches the hosts."""
    stranger = Keyring(setup.root / "stranger-keys")
    stranger.create("mallory", None)
    theirs = setup.root / "theirs.7z"
    create_bundle(CreateRequest(sources, theirs, title="Not alice's"), stranger.secret("mallory", None))
    code, _, err = publish_cli(runner, setup, setup.bundle, theirs)
    key = stranger.get("mallory")
    assert code == 5 and f"mirror: {theirs}: signed by key {key.key_id_hex}, which is not in your keyring" in err, err
    assert "fingerprint " in err and "mirror keys import" in err, err
    assert not any(setup.hosts[0].iterdir()) and not any(setup.hosts[1].iterdir())


def test_a_publisher_key_without_its_secret_is_said_before_any_host_is_written(setup: Setup, runner: CliRunner,
                                                                               keyring: Keyring) -> None:
    """[publisher] names a key whose secret half is not on this computer: exit 2 naming it, before the bundles
    are checked and sent (they were uploaded, then the index could not be signed); the dry run says the same (it
    passed, and the run then failed: helper-167)."""
    (keyring.folder / "alice.key").unlink()
    code, out, err = publish_cli(runner, setup, setup.bundle)
    assert code == 2 and f"no secret key named alice in {keyring.folder}" in err, (out, err)
    assert "index version" not in out, out  # no plan was made
    assert not any(setup.hosts[0].iterdir()) and not any(setup.hosts[1].iterdir())
    for args in (("publish", setup.bundle), ("refresh",)):
        code, out, err = invoke(runner, *args, "--dry-run", "--config", setup.config)
        assert code == 2 and f"no secret key named alice in {keyring.folder}" in err, (args, out, err)
        assert "would send" not in out, out


def test_dry_run_changes_nothing(setup: Setup, runner: CliRunner) -> None:
    """--dry-run prints the plan and writes no host and no state."""
    code, out, _ = publish_cli(runner, setup, setup.bundle, "--dry-run")
    assert code == 0 and "would send to a" in out
    assert not any(setup.hosts[0].iterdir()) and not any(setup.hosts[1].iterdir())


def test_status_flags_stale_and_missing(setup: Setup, runner: CliRunner) -> None:
    """status shows versions; a host left behind is stale, a deleted bundle is missing; --deep reads back."""
    assert publish_cli(runner, setup, setup.bundle)[0] == 0
    assert invoke(runner, "status", "--config", setup.config, "--deep")[0] == 0
    assert invoke(runner, "refresh", "--config", setup.config, "--to", "a")[0] == 0
    (setup.hosts[0] / "bundles" / f"{setup.sha256}.7z").write_bytes(b"x" * setup.bundle.stat().st_size)
    code, out, _ = invoke(runner, "status", "--config", setup.config, "--deep")
    assert code == 4
    assert "stale: version 1, current is 2" in out
    assert "reads back with another sha256" in out


def test_failover_dead_tampered_good(setup: Setup, served: MirrorServer, runner: CliRunner) -> None:
    """The bundle arrives from the good mirror and each mirror's fate is reported."""
    tampered_root = setup.root / "tampered"
    shutil.copytree(setup.hosts[0], tampered_root)
    index = tampered_root / "index.json"
    index.write_bytes(index.read_bytes().replace(b'"version": 1', b'"version": 9'))
    (tampered_root / "index" / "1.json").write_bytes(index.read_bytes())
    dead = f"http://127.0.0.1:{free_port()}/"
    with MirrorServer(tampered_root) as bad:
        code, out, err = fetch_cli(runner, setup, "--mirror", dead, "--mirror", bad.url, "--mirror", served.url)
    assert code == 0, err
    assert "mirror  unreachable" in out and "mirror  tampered" in out and "mirror  ok" in out
    arrived = setup.root / "in"
    assert len(list(arrived.glob("*.7z"))) == 1 and "ARRIVED" in out


def test_older_index_is_stale_and_same_version_other_bytes_is_an_attack(
        setup: Setup, served: MirrorServer, runner: CliRunner, keyring: Keyring) -> None:
    """After seeing v2, a validly signed v1 is stale; a differently signed v2 is reported as an attack."""
    old = setup.root / "old"
    shutil.copytree(setup.hosts[0], old)
    assert invoke(runner, "refresh", "--config", setup.config)[0] == 0
    assert fetch_cli(runner, setup, "--mirror", served.url)[0] == 0
    with MirrorServer(old) as stale:
        code, out, _ = fetch_cli(runner, setup, "--mirror", stale.url)
    assert code == 4 and "stale" in out and "older than version 2" in out
    current = Index.from_bytes((setup.hosts[0] / "index.json").read_bytes())
    forged = Index(current.publisher_key, current.version, current.created, FUTURE, current.bundles, ())
    evil = setup.root / "evil"
    shutil.copytree(setup.hosts[0], evil)
    (evil / "index.json").write_bytes(forged.to_bytes())
    (evil / "index.json.minisig").write_bytes(sign_index(forged, keyring.secret("alice", None)))
    with MirrorServer(evil) as attacker:
        code, out, _ = fetch_cli(runner, setup, "--mirror", attacker.url)
    assert code == 3 and "ATTACK" in out


def test_expired_index_warns_and_strict_refuses(setup: Setup, served: MirrorServer, runner: CliRunner) -> None:
    """Time is injected: after expiry the index is used with a warning, or refused with --strict."""
    code, out, err = fetch_cli(runner, setup, "--mirror", served.url, "--now", FUTURE)
    assert code == 0 and "expired" in err and "stale" in out
    code, out, _ = fetch_cli(runner, setup, "--mirror", served.url, "--now", FUTURE, "--strict")
    assert code == 4 and "(--strict)" in out


def test_future_index_is_warned_about(setup: Setup, served: MirrorServer, runner: CliRunner) -> None:
    """A reader whose clock is far behind is told so."""
    code, _, err = fetch_cli(runner, setup, "--mirror", served.url, "--now", "2020-01-01T00:00:00Z")
    assert code == 0 and "in the future" in err


def test_interrupted_download_resumes_on_another_mirror(setup: Setup, served: MirrorServer,
                                                        runner: CliRunner) -> None:
    """Run 1 is cut off midway; run 2 reaches a different mirror and transfers less than the whole file."""
    size = setup.bundle.stat().st_size
    served.cut_after, served.bundle_answers = size // 2, 1
    code, out, _ = fetch_cli(runner, setup, "--mirror", served.url)
    assert code == 4 and "MISSING" in out
    part = setup.root / "in" / ".mirror-downloads" / f"{setup.sha256}.7z.part"
    assert 0 < part.stat().st_size < size
    with MirrorServer(setup.hosts[1]) as other:
        code, out, _ = fetch_cli(runner, setup, "--mirror", other.url)
        assert code == 0, out
        bundle_bytes = other.bytes_sent - sum((setup.hosts[1] / p).stat().st_size
                                              for p in ("index.json", "index.json.minisig"))
        assert 0 < bundle_bytes < size
        assert any(r.startswith("bytes=") for _, r in other.requests)
    assert not part.exists()


@pytest.mark.parametrize("content_range", ["bytes {big}-{big}/{big}", "bytes \u0661-\u0662/\u0663"])
def test_a_content_range_of_countless_digits_is_a_bad_answer(setup: Setup, served: MirrorServer, runner: CliRunner,
                                                             content_range: str) -> None:
    """A resume answered with a 5,000-digit (or non-ASCII) Content-Range made int() raise, and every later run
    stopped there with an internal error, never reaching the honest mirror: it is that mirror's bad answer."""
    size = setup.bundle.stat().st_size
    served.cut_after, served.bundle_answers = size // 2, 1
    assert fetch_cli(runner, setup, "--mirror", served.url)[0] == 4
    served.cut_after, served.bundle_answers = None, None
    served.content_range = content_range.format(big="9" * 5000).encode().decode("latin-1")
    with MirrorServer(setup.hosts[1]) as honest:
        code, out, err = fetch_cli(runner, setup, "--mirror", served.url, "--mirror", honest.url)
    assert code == 0 and "ARRIVED" in out, out + err
    assert "wrong Content-Range for a resumed download" in err


def test_interrupted_download_resumes_on_the_same_mirror(setup: Setup, served: MirrorServer,
                                                         runner: CliRunner) -> None:
    """The second run asks for the rest with Range and the server sends less than the whole file."""
    size = setup.bundle.stat().st_size
    served.cut_after, served.bundle_answers = size // 2, 1
    assert fetch_cli(runner, setup, "--mirror", served.url)[0] == 4
    served.cut_after, served.bundle_answers, served.bytes_sent, served.requests[:] = None, None, 0, []
    code, _, _ = fetch_cli(runner, setup, "--mirror", served.url)
    assert code == 0
    bundle_requests = [r for p, r in served.requests if p.endswith(".7z")]
    assert len(bundle_requests) == 1 and bundle_requests[0].startswith("bytes=")
    index_bytes = sum((setup.hosts[0] / p).stat().st_size for p in ("index.json", "index.json.minisig"))
    assert 0 < served.bytes_sent - index_bytes <= size - size // 2 + 8192


def test_a_busy_mirror_that_says_when_to_come_back_is_asked_again(setup: Setup, served: MirrorServer,
                                                                  runner: CliRunner) -> None:
    """503 with Retry-After (a crowded room's answer): asked again after the wait, within the budget."""
    served.busy = 2
    code, out, err = fetch_cli(runner, setup, "--mirror", served.url)
    assert code == 0 and "ARRIVED" in out, out + err
    assert len([p for p, _ in served.requests if p.endswith(".7z")]) == 3


def test_a_busy_mirror_whose_wait_passes_the_budget_is_left_at_once(setup: Setup, served: MirrorServer,
                                                                    runner: CliRunner) -> None:
    """A wait longer than what the budget leaves is not waited: the mirror's turn ends, and it says why."""
    served.busy, served.retry_after = 100, "30"
    code, out, err = fetch_cli(runner, setup, "--mirror", served.url, "--budget", "10")
    assert code == 4 and "MISSING" in out, out + err
    assert "busy (HTTP 503); asked to try again in 30 s" in out + err
    assert len([p for p, _ in served.requests if p.endswith(".7z")]) == 1


def test_resume_on_same_mirror_and_ignored_range(setup: Setup, served: MirrorServer, runner: CliRunner) -> None:
    """A server that ignores Range restarts the download instead of appending to it."""
    size = setup.bundle.stat().st_size
    served.cut_after, served.bundle_answers = size // 3, 1
    assert fetch_cli(runner, setup, "--mirror", served.url)[0] == 4
    served.cut_after, served.bundle_answers, served.ignore_range = None, None, True
    code, _, err = fetch_cli(runner, setup, "--mirror", served.url)
    assert code == 0 and "ignored Range" in err


def test_a_mirror_that_cannot_resume_gets_one_turn(setup: Setup, served: MirrorServer, runner: CliRunner) -> None:
    """A mirror that ignores Range and drops every answer half-way would start from zero turn after turn: after
    the one that restarted, it gets no more, and fetch ends (it never did, before)."""
    size = setup.bundle.stat().st_size
    served.cut_after, served.ignore_range = size // 2, True
    code, _, err = fetch_cli(runner, setup, "--mirror", served.url)
    assert code == 4 and "ignored Range" in err
    # a whole first turn; then one asking for the rest, answered from byte 0, and asked again without Range
    assert [r for p, r in served.requests if p.endswith(".7z")] == ["", f"bytes={size // 2}-", ""]


def test_a_mirror_that_cannot_resume_does_not_undo_an_honest_one(setup: Setup, served: MirrorServer,
                                                                  runner: CliRunner) -> None:
    """An honest mirror whose connection breaks every third of the file, and one that ignores Range and breaks
    half-way: the second throws the part away once, and the first finishes the bundle from what the second
    sent (before, each turn of the second threw the first one's bytes away, for ever)."""
    size = setup.bundle.stat().st_size
    served.cut_after = size // 3
    assert publish_cli(runner, setup, setup.bundle)[0] == 0
    with MirrorServer(setup.hosts[1]) as other:
        other.cut_after, other.ignore_range = size // 2, True
        code, out, err = fetch_cli(runner, setup, "--mirror", served.url, "--mirror", other.url)
        assert code == 0, out + err
        assert [r for p, r in other.requests if p.endswith(".7z")] == [f"bytes={size // 3}-", ""]  # one turn


def test_corrupted_partial_is_thrown_away(setup: Setup, served: MirrorServer, runner: CliRunner) -> None:
    """A damaged partial file fails the hash, is discarded, and the bundle is fetched again."""
    size = setup.bundle.stat().st_size
    served.cut_after, served.bundle_answers = size // 2, 1
    assert fetch_cli(runner, setup, "--mirror", served.url)[0] == 4
    part = setup.root / "in" / ".mirror-downloads" / f"{setup.sha256}.7z.part"
    part.write_bytes(b"\0" * part.stat().st_size)
    served.cut_after, served.bundle_answers = None, None
    code, _, err = fetch_cli(runner, setup, "--mirror", served.url)
    assert code == 0 and "damaged" in err


def test_a_partial_longer_than_the_bundle_is_dropped_unread(setup: Setup, served: MirrorServer,
                                                           runner: CliRunner) -> None:
    """A .part longer than the signed size is damaged whatever it holds. It was hashed whole first (a planted
    sparse file of 8 GiB took 32 s, a terabyte would take an hour, without a word); it is removed unread."""
    assert publish_cli(runner, setup, setup.bundle)[0] == 0
    part = setup.root / "in" / ".mirror-downloads" / f"{setup.sha256}.7z.part"
    part.parent.mkdir(parents=True)
    with part.open("wb") as planted:
        planted.truncate(setup.bundle.stat().st_size + (1 << 30))  # sparse: no disk space taken
    code, out, err = fetch_cli(runner, setup, "--mirror", served.url)
    assert code == 0 and "ARRIVED" in out, err
    assert "the partial file of an earlier run is longer than the bundle" in err
    assert "damaged" not in err  # nothing was hashed to be judged


def test_longer_body_is_cut_off(setup: Setup, served: MirrorServer, runner: CliRunner) -> None:
    """Bytes beyond the signed size are never read into the bundle."""
    served.extra = b"X" * 50_000
    code, _, _ = fetch_cli(runner, setup, "--mirror", served.url)
    assert code == 0
    (arrived,) = (setup.root / "in").glob("*.7z")
    assert arrived.read_bytes() == setup.bundle.read_bytes()


def test_mirror_between_index_and_signature_is_not_tampered(setup: Setup, served: MirrorServer,
                                                             runner: CliRunner) -> None:
    """index.json is version 2 but its signature is still version 1's: the immutable pair is used."""
    old_sig = (setup.hosts[0] / "index.json.minisig").read_bytes()
    assert invoke(runner, "refresh", "--config", setup.config, "--to", "a")[0] == 0
    (setup.hosts[0] / "index.json.minisig").write_bytes(old_sig)
    code, out, _ = fetch_cli(runner, setup, "--mirror", served.url)
    assert code == 0 and "tampered" not in out and "index v2" in out


def test_fetch_from_a_usb_copy(setup: Setup, runner: CliRunner) -> None:
    """A folder is a mirror too, with the same checks."""
    assert publish_cli(runner, setup, setup.bundle)[0] == 0
    code, out, _ = fetch_cli(runner, setup, "--mirror", setup.hosts[1])
    assert code == 0 and "ARRIVED" in out


def test_a_second_fetch_into_the_same_folder_is_refused(setup: Setup, runner: CliRunner) -> None:
    """Two fetches into one DEST appended to one .part file: the first to finish renamed it into DEST while the
    other still wrote to it, and left a bundle twice its size that had been reported ARRIVED. A fetch holds DEST
    now (a lock on the folder, which any other open of it meets, in this process or another)."""
    assert publish_cli(runner, setup, setup.bundle)[0] == 0
    dest = setup.root / "in"
    dest.mkdir(exist_ok=True)
    held = os.open(dest, os.O_RDONLY)
    try:
        fcntl.flock(held, fcntl.LOCK_EX)
        code, _, err = fetch_cli(runner, setup, "--mirror", setup.hosts[1])
        assert code == 1 and f"another mirror fetch is downloading into {dest}" in err, err
        assert list(dest.iterdir()) == []
    finally:
        os.close(held)
    code, out, _ = fetch_cli(runner, setup, "--mirror", setup.hosts[1])
    assert code == 0 and "ARRIVED" in out


def test_tampered_bundle_only_gives_exit_3(setup: Setup, served: MirrorServer, runner: CliRunner) -> None:
    """When the only copy has other bytes than the index says, nothing lands and the exit code is 3."""
    path = f"bundles/{setup.sha256}.7z"
    data = bytearray(setup.bundle.read_bytes())
    data[len(data) // 2] ^= 1
    served.replace[path] = bytes(data)
    code, out, _ = fetch_cli(runner, setup, "--mirror", served.url)
    assert code == 3 and "tampered" in out
    assert list((setup.root / "in").glob("*.7z")) == []


def test_fetch_through_microsocks(setup: Setup, served: MirrorServer, runner: CliRunner, tmp_path: Path) -> None:
    """socks5h:// works and the proxy sees the connections."""
    import subprocess
    import time

    microsocks = require_tool("microsocks")
    port = free_port()
    log = (tmp_path / "socks.log").open("w")
    proc = subprocess.Popen([microsocks, "-i", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.02)
        served_port = served.url.rsplit(":", 1)[1].strip("/")
        code, out, _ = fetch_cli(runner, setup, "--mirror", served.url, "--proxy", f"socks5h://127.0.0.1:{port}")
        assert code == 0, out
    finally:
        proc.kill()
        proc.wait()
        log.close()
    seen = (tmp_path / "socks.log").read_text()
    assert f"127.0.0.1:{served_port}" in seen  # microsocks logs each connection it makes


def test_complete_partial_is_used_without_asking_again(setup: Setup, served: MirrorServer,
                                                       runner: CliRunner) -> None:
    """A run stopped after the last byte but before hashing: the next run checks the part first."""
    downloads = setup.root / "in" / ".mirror-downloads"
    downloads.mkdir(parents=True)
    (downloads / f"{setup.sha256}.7z.part").write_bytes(setup.bundle.read_bytes())
    code, out, _ = fetch_cli(runner, setup, "--mirror", served.url)
    assert code == 0 and "ARRIVED" in out
    assert not [p for p, _ in served.requests if p.endswith(".7z")]
    assert not downloads.exists()  # emptied, so removed: a reader's folder keeps no hidden leftovers


def test_bundle_already_here_is_verified_again(setup: Setup, served: MirrorServer, runner: CliRunner,
                                               tmp_path: Path) -> None:
    """A second fetch does not turn an author who is not in the keyring into a trusted one."""
    keys = tmp_path / "publisher-only"
    pub = setup.root / "alice.pub"
    assert invoke(runner, "keys", "import", pub, "--name", "alice", "--role", "publisher", "--keys", keys)[0] == 0
    args = ("fetch", "--keys", keys, "--dest", setup.root / "in2", "--mirror", served.url)
    assert invoke(runner, *args)[0] == 5
    code, out, _ = invoke(runner, *args)
    assert code == 5 and "already here, intact, but author key" in out


@pytest.mark.parametrize("url", ["http://127.0.0.1:99999/", "http://:80/", "https:///bundles/"])
def test_bad_mirror_url_is_a_usage_error(setup: Setup, runner: CliRunner, url: str) -> None:
    """A URL that cannot be parsed, or names no host, gives exit 2 and one line (not "unreachable http://None")."""
    code, _, err = fetch_cli(runner, setup, "--mirror", url)
    assert code == 2 and "not a valid mirror URL" in err, err


def test_a_bad_url_in_a_signed_mirror_list_is_passed_over(setup: Setup, runner: CliRunner,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A signed index's mirror list only has to start with http(s)://: one that names no host or a port past
    65535 (the author's mistake) would stop every later fetch as a usage error. It is passed over, and said."""
    assert publish_cli(runner, setup, setup.bundle)[0] == 0
    monkeypatch.setattr("mirror.fetch.fetcher.known_mirrors", lambda keys: ["http://:80/", "http://a.example:99999/"])
    code, out, err = fetch_cli(runner, setup, "--mirror", setup.hosts[1])
    assert code == 0 and "ARRIVED" in out, err
    assert err.count("passed over a mirror a signed index names: not a valid mirror URL") == 2, err


@pytest.mark.parametrize("location", ["ftp://user:pw@127.0.0.1/m/", "htps://127.0.0.1/", ""])
def test_a_mirror_that_is_neither_a_url_nor_a_folder_is_a_usage_error(setup: Setup, runner: CliRunner,
                                                                        location: str) -> None:
    """ftp://, a mistyped scheme or nothing at all were read as folders (ftp:/127.0.0.1, or the current one)."""
    code, out, err = fetch_cli(runner, setup, "--mirror", location)
    assert code == 2 and ("cannot read a mirror at a URL that starts" in err or "empty" in err), (out, err)
    assert "pw" not in err and "MISSING" not in out


@pytest.mark.parametrize("location", ["127.0.0.1:8470", "192.168.1.5:8470/", "localhost:8470", "[::1]:8470"])
def test_a_rooms_address_without_http_is_named_as_such(setup: Setup, runner: CliRunner, location: str) -> None:
    """An address as a room shows it, typed without http://, was read as a folder ("index.json is not there")."""
    code, out, err = fetch_cli(runner, setup, "--mirror", location)
    assert code == 2 and "is neither a folder here nor a URL" in err, (out, err)
    assert f"--mirror http://{location.rstrip('/')}/" in err


def test_publish_and_fetch_remember_what_they_verified(setup: Setup, served: MirrorServer, runner: CliRunner,
                                                       tmp_path: Path) -> None:
    """Publish records the bundle's hashes and torrent pieces; fetch records what it placed, and a bundle already
    in DEST is trusted from the record only while it is unchanged: a changed one is verified and refused."""
    from mirror.bundle.verified import VerifiedCache

    cache = VerifiedCache(tmp_path / "cache" / "mirror" / "verified.json")  # conftest's XDG_CACHE_HOME
    published = cache.lookup(setup.bundle)
    assert published is not None and published.sha256 == setup.sha256 and published.sums and published.pieces
    assert fetch_cli(runner, setup, "--mirror", served.url)[0] == 0
    placed = next((setup.root / "in").glob("*.7z"))
    fetched = VerifiedCache(cache.path).lookup(placed)
    assert fetched is not None and fetched.sha256 == setup.sha256 and fetched.sums == published.sums
    code, out, _ = fetch_cli(runner, setup, "--mirror", served.url)
    assert code == 0 and "already here" in out
    data = bytearray(placed.read_bytes())
    data[len(data) // 2] ^= 0x01  # same size, same inode; the record no longer applies
    placed.write_bytes(bytes(data))
    assert VerifiedCache(cache.path).lookup(placed) is None
    code, out, _ = fetch_cli(runner, setup, "--mirror", served.url)
    assert code == 0 and "already here" not in out  # not the signed bytes: fetched again, beside it
    assert placed.read_bytes() == bytes(data)  # never replaced
    assert setup.sha256 in {hashlib.sha256(p.read_bytes()).hexdigest() for p in (setup.root / "in").glob("*.7z")}


def test_a_bundle_copied_in_under_its_own_name_is_not_fetched_again(setup: Setup, served: MirrorServer,
                                                                    runner: CliRunner) -> None:
    """A bundle a reader already has under a name of their own (from a USB stick, a messenger) is used where it is:
    never downloaded again over a connection that may last minutes. A file of the same size that is not the signed
    bundle is left alone, and a link of that name is not followed."""
    assert fetch_cli(runner, setup, "--mirror", served.url)[0] == 0
    dest = setup.root / "in"
    placed = next(dest.glob("*.7z"))
    data = placed.read_bytes()
    (dest / "aaa-same-size.7z").write_bytes(bytes(len(data)))
    (dest / "aab-link.bin").symlink_to(placed.rename(dest / "from a USB stick.7z"))
    served.requests[:] = []
    code, out, err = fetch_cli(runner, setup, "--mirror", served.url)
    assert code == 0 and f"-> {dest / 'from a USB stick.7z'}  already here" in out, (out, err)
    assert not [p for p, _ in served.requests if p.endswith(".7z")], served.requests
    assert sorted(p.name for p in dest.iterdir() if not p.name.startswith(".")) == \
        ["aaa-same-size.7z", "aab-link.bin", "from a USB stick.7z"]
    assert (dest / "from a USB stick.7z").read_bytes() == data


def test_a_fifo_or_link_swapped_in_is_never_read_as_a_copy(tmp_path: Path) -> None:
    """DEST is looked at first and its files read later: a FIFO swapped in meanwhile (a shared folder, a USB stick)
    held fetch for good in open(); a link was followed. Both are opened without blocking and refused."""
    import os

    from mirror.fetch.fetcher import _sha256

    (tmp_path / "real.7z").write_bytes(b"x" * 100)
    os.mkfifo(tmp_path / "fifo.7z")
    (tmp_path / "link.7z").symlink_to(tmp_path / "real.7z")
    for name in ("fifo.7z", "link.7z"):
        with pytest.raises(OSError):
            _sha256(tmp_path / name, None, 100)
    assert _sha256(tmp_path / "real.7z", None, 100) == hashlib.sha256(b"x" * 100).hexdigest()
    assert _sha256(tmp_path / "real.7z", None, 99) == ""  # grown since DEST was looked at: not read to its end


def test_a_rooms_listing_never_learns_what_dest_holds(setup: Setup, runner: CliRunner, tmp_path: Path) -> None:
    """A hostile room's unsigned listing names the SHA-256 and size of a file it wants to know the reader has (a
    photo, a leaked document). A file of the reader's own is looked for only for a signed index: the room is
    asked for it like any other, and learns nothing from what is not asked for (helper-122)."""
    dest = setup.root / "in"
    dest.mkdir()
    held = dest / "IMG_2041.jpg"
    held.write_bytes(os.urandom(123_457))
    room = tmp_path / "room"
    (room / "bundles").mkdir(parents=True)
    sha = hashlib.sha256(held.read_bytes()).hexdigest()
    entry = {"id": "1" * 32, "version": 1, "sha256": sha, "size": held.stat().st_size, "path": f"bundles/{sha}.7z",
             "title": "probe", "author_key": "2B44AA74552E4081", "infohash": None, "magnet": None}
    (room / "listing.json").write_text(json.dumps({"format": "mirror-listing/1", "bundles": [entry]}))
    with MirrorServer(room) as server:
        code, out, err = fetch_cli(runner, setup, "--mirror", server.url)
        assert code == 4 and "Traceback" not in out + err, (out, err)
        assert any(sha in path for path, _ in server.requests), server.requests
    assert held.read_bytes() and "already here" not in out


def test_a_file_changed_after_its_last_check_is_not_remembered_as_verified(setup: Setup, served: MirrorServer,
                                                                         runner: CliRunner,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A download changed in place after it was verified (another writer in DEST) was recorded in the verified
    cache under its changed key: every later fetch (and publish) said "already here" of bytes `verify` fails. The
    key is now taken before the last read, and the changed file is read again (helper-122)."""
    from mirror.fetch import fetcher

    real_check = fetcher._verified

    def check_then_changed(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        answer = real_check(path, *args, **kwargs)
        data = bytearray(path.read_bytes())
        data[100_000] ^= 0xFF  # inside a stored photo: nothing decodes it
        with path.open("r+b") as changed:  # in place: the same inode
            changed.write(bytes(data))
        return answer

    monkeypatch.setattr(fetcher, "_verified", check_then_changed)
    assert fetch_cli(runner, setup, "--mirror", served.url)[0] == 0
    monkeypatch.setattr(fetcher, "_verified", real_check)
    code, out, _ = fetch_cli(runner, setup, "--mirror", served.url)
    assert code == 0 and "already here" not in out, out


def test_keep_mirror_hashes_what_it_keeps_and_never_links_the_readers_file(setup: Setup, served: MirrorServer,
                                                                         runner: CliRunner, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A bundle the reader copied in under a name of their own, verified there and then changed in place: the
    mirror copy hard-linked it unread, and friends fetching from it were told it was tampered with. What is kept is
    hashed as it lands (a change is an error, nothing kept), and the reader's own file is copied, never linked."""
    from mirror.fetch import fetcher

    assert fetch_cli(runner, setup, "--mirror", served.url)[0] == 0
    dest = setup.root / "in"
    own = next(dest.glob("*.7z")).rename(dest / "from a friend.7z")
    keep = tmp_path / "kept"
    code, out, err = fetch_cli(runner, setup, "--mirror", served.url, "--keep-mirror", keep)
    copy = keep / "bundles" / f"{setup.sha256}.7z"
    assert code == 0 and hashlib.sha256(copy.read_bytes()).hexdigest() == setup.sha256, (out, err)
    assert os.stat(own).st_nlink == 1 and os.stat(copy).st_ino != os.stat(own).st_ino
    copy.unlink()
    real_here = fetcher._here

    def here_then_changed(entry, existing, *args, **kwargs):  # type: ignore[no-untyped-def]
        arrival = real_here(entry, existing, *args, **kwargs)
        data = bytearray(existing.read_bytes())
        data[100_000] ^= 0xFF
        existing.write_bytes(bytes(data))
        return arrival

    monkeypatch.setattr(fetcher, "_here", here_then_changed)
    code, out, err = fetch_cli(runner, setup, "--mirror", served.url, "--keep-mirror", keep)
    assert code != 0 and "changed after it was verified" in out + err and "Traceback" not in out + err, (out, err)
    assert not copy.exists() and not list((keep / "bundles").glob(".*"))


def test_a_file_fetch_cannot_read_at_the_bundles_name_is_passed_over(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A file of the bundle's size that cannot be read (another user's, a FIFO swapped in) at one of its names
    ended the run with 'Permission denied' and every other bundle's report lost: that name is taken, the next is
    tried (helper-122)."""
    from mirror.fetch import fetcher
    from mirror.formats.index import BundleEntry

    (tmp_path / "taken.7z").write_bytes(b"x" * 10)
    entry = BundleEntry.__new__(BundleEntry)
    object.__setattr__(entry, "size", 10)
    object.__setattr__(entry, "sha256", hashlib.sha256(b"x" * 10).hexdigest())

    def unreadable(path: Path, cache: object, size: int) -> str:
        raise PermissionError(13, "Permission denied", str(path))

    assert fetcher._free_for(tmp_path / "taken.7z", entry)
    monkeypatch.setattr(fetcher, "_sha256", unreadable)
    assert not fetcher._free_for(tmp_path / "taken.7z", entry)
    assert fetcher._free_for(tmp_path / "free.7z", entry)


@pytest.mark.parametrize("planted", ["bundles", "index", "index.json"])
def test_links_planted_in_a_folder_host_are_refused(setup: Setup, runner: CliRunner, planted: str) -> None:
    """A shared folder may hold links that lead the files elsewhere: the host fails, naming the link, and nothing
    is written where it leads; a host root reached through a link (a mount point) is used as given."""
    elsewhere = setup.root / "elsewhere"
    elsewhere.mkdir()
    (setup.hosts[1] / planted).symlink_to(elsewhere / planted)
    if planted != "index.json":
        (elsewhere / planted).mkdir()
    mount = setup.root / "mount"
    mount.symlink_to(setup.hosts[0])
    setup.config.write_text(setup.config.read_text().replace(f'"{setup.hosts[0]}"', f'"{mount}"'))
    code, out, err = publish_cli(runner, setup, setup.bundle)
    assert code == 4
    assert "OK    a" in out and "FAIL  b" in out
    assert f"{setup.hosts[1] / planted} is a link; publish writes only inside {setup.hosts[1]}" in out + err
    assert "Traceback" not in out + err
    assert sorted(p.name for p in elsewhere.rglob("*")) == ([planted] if planted != "index.json" else [])
    assert (setup.hosts[0] / "index.json").exists()


def test_a_publish_while_another_runs_is_refused_and_changes_nothing(setup: Setup, runner: CliRunner,
                                                                    keyring: Keyring) -> None:
    """Two runs at once (a refresh from cron and a publish by hand) each signed version 1, one with each bundle,
    and both said OK: one bundle was lost. The second now stops before reading anything, and says why."""
    from mirror.formats.minisign import key_id_hex
    from mirror.publish.state import published_path

    lock = published_path(key_id_hex(keyring.get("alice").public.key_id)).with_suffix(".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        code, _, err = publish_cli(runner, setup, setup.bundle)
    assert code == 1 and "another `mirror publish` or `mirror refresh` for this publisher is running" in err, err
    assert not any(setup.hosts[0].iterdir()) and not any(setup.hosts[1].iterdir())
    assert publish_cli(runner, setup, setup.bundle)[0] == 0  # once it is let go


def test_one_version_signed_twice_is_followed_by_one_listing_both(setup: Setup, runner: CliRunner,
                                                                  sources: Path, secret: SecretKey,
                                                                  tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Version 1 signed on two machines (or by two runs before the lock), each with its own bundle: the next
    version lists both, and a host that lacks one is not given an index naming it."""
    assert publish_cli(runner, setup, setup.bundle, "--to", "a")[0] == 0
    (sources / "accounts" / "later.md").write_text("# Later\n\nAnother account.\n", encoding="utf-8")
    other = tmp_path / "other.7z"
    create_bundle(CreateRequest(sources, other, title="Other bundle"), secret)
    monkeypatch.setenv("MIRROR_STATE", str(tmp_path / "state-of-another-machine"))
    code, out, err = publish_cli(runner, setup, other, "--to", "b")
    assert code == 0 and "index version 1" in out, err
    monkeypatch.setenv("MIRROR_STATE", str(tmp_path / "state"))
    code, out, err = invoke(runner, "refresh", "--config", setup.config, "--to", "b")
    assert code == 0 and "index version 2, expires" in out and "2 bundle(s)" in out, err
    assert "index version 1 was signed 2 times with other bundles" in err
    listed = json.loads((setup.hosts[1] / "index.json").read_bytes())["bundles"]
    assert sorted(e["title"] for e in listed) == ["Other bundle", "Test bundle"]
    assert (setup.hosts[1] / f"bundles/{setup.sha256}.7z").is_file()  # sent again from the publisher's copy


@pytest.mark.parametrize("planted", ["another key", "a newer format"])
def test_an_index_publish_must_not_replace_is_said_and_nothing_is_sent(setup: Setup, runner: CliRunner,
                                                                      keyring: Keyring, planted: str) -> None:
    """A host's index signed by another key (mirror.toml's key changed, or names the wrong one) was "not usable",
    and the run signed a version 1 with no bundles over it on every host: that host now gets nothing (it fails,
    alone: a key named in a signature cannot be checked without that key, so anyone who can write there could
    name one, and must not stop the other hosts). This publisher's index in a newer format was replaced by an
    older mirror, rolling readers back: that stops the run before anything is signed."""
    assert publish_cli(runner, setup, setup.bundle)[0] == 0
    a = setup.hosts[0]
    index = Index.from_bytes((a / "index.json").read_bytes())
    if planted == "another key":
        keyring.create("mallory", None)
        signer = keyring.secret("mallory", None)
        raw = index.to_bytes()
    else:  # version 2 by a newer mirror: index.json and its immutable copy
        signer = keyring.secret("alice", None)
        index = replace(index, version=2)
        raw = index.to_bytes().replace(b'"mirror-index/2"', b'"mirror-index/3"')
    signature = sign_index(index, signer) if planted == "another key" else _signed(raw, index, signer)
    for name in ("index.json", f"index/{index.version}.json"):
        (a / name).write_bytes(raw)
        (a / f"{name}.minisig").write_bytes(signature)
    before = {p: p.read_bytes() for host in setup.hosts for p in host.rglob("*") if p.is_file()}
    code, out, err = invoke(runner, "refresh", "--config", setup.config)
    after = {p: p.read_bytes() for host in setup.hosts for p in host.rglob("*") if p.is_file()}
    if planted == "another key":
        assert code == 4 and "FAIL  a  its index names key" in out and "OK    b" in out, out + err
        assert "[a] its index names key" in err and "remove index.json and index.json.minisig there" in err, err
        assert {p: d for p, d in after.items() if p.is_relative_to(a)} == \
            {p: d for p, d in before.items() if p.is_relative_to(a)}
        assert json.loads((setup.hosts[1] / "index.json").read_bytes())["version"] == 2
    else:
        assert code == 2 and "[a] it holds this publisher's index in index format mirror-index/3 is newer" in err
        assert after == before


def _signed(raw: bytes, index: Index, secret: SecretKey) -> bytes:
    """A minisign signature over `raw` with the trusted comment `index` would have."""
    from mirror.trust.index import index_comment

    return secret.sign(raw, index_comment(index.publisher_key, index.version, index.expires)).to_bytes()


def test_a_host_wiped_since_the_last_run_gets_the_bundles_again(setup: Setup, runner: CliRunner) -> None:
    """The state said host b held the bundle; a new stick (or a server rebuilt at the same URL) holds nothing, and
    the refresh gave it an index naming a bundle it did not have, said OK, and did so every time after."""
    b = setup.hosts[1]
    assert publish_cli(runner, setup, setup.bundle)[0] == 0
    for path in sorted(b.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    code, out, err = invoke(runner, "refresh", "--config", setup.config)
    assert code == 0 and "OK    b" in out, err
    assert (b / f"bundles/{setup.sha256}.7z").read_bytes() == setup.bundle.read_bytes()
    assert (b / f"bundles/{setup.sha256}.SHA256SUMS.minisig").is_file()


def _published_to_a_with_other_bytes_on_b(setup: Setup, runner: CliRunner) -> Path:
    """Publish to host a alone, and put a copy of the bundle with one bit changed under its name on host b."""
    b = setup.hosts[1]
    assert publish_cli(runner, setup, setup.bundle, "--to", "a")[0] == 0
    (b / "bundles").mkdir()
    damaged = bytearray(setup.bundle.read_bytes())
    damaged[len(damaged) // 2] ^= 0x01
    (b / f"bundles/{setup.sha256}.7z").write_bytes(bytes(damaged))
    return b


def test_other_bytes_under_a_bundles_name_are_replaced(setup: Setup, runner: CliRunner) -> None:
    """A read-back that failed left the wrong bytes under the bundle's name, and the next run took them as there
    already because the size was right: readers got a tampered bundle from an honest mirror."""
    b = _published_to_a_with_other_bytes_on_b(setup, runner)
    code, out, err = invoke(runner, "refresh", "--config", setup.config)
    assert code == 0 and "OK    b" in out, err
    assert f"[b] bundles/{setup.sha256}.7z is there with other bytes; it is sent again" in err
    assert (b / f"bundles/{setup.sha256}.7z").read_bytes() == setup.bundle.read_bytes()
    code, out, err = invoke(runner, "refresh", "--config", setup.config)  # known to be there now: not read again
    assert code == 0 and "other bytes" not in err and out.count("4 sent, 0 already there") == 2, out + err


def test_a_bundle_counts_as_on_a_host_once_all_its_files_are(setup: Setup, runner: CliRunner) -> None:
    """The bundle arrived, its detached SHA256SUMS did not: the host was still counted as holding the bundle, and
    the next refresh gave it an index without ever sending the missing file."""
    b = setup.hosts[1]
    (b / "bundles" / f"{setup.sha256}.SHA256SUMS").mkdir(parents=True)  # nothing can be renamed over a folder
    code, out, _ = publish_cli(runner, setup, setup.bundle)
    assert code == 4 and "FAIL  b" in out and (b / f"bundles/{setup.sha256}.7z").is_file()
    (b / "bundles" / f"{setup.sha256}.SHA256SUMS").rmdir()
    code, out, err = invoke(runner, "refresh", "--config", setup.config)
    assert code == 0 and "OK    b" in out, err
    assert (b / f"bundles/{setup.sha256}.SHA256SUMS").is_file() and (b / "index.json").is_file()


def _clock(monkeypatch: pytest.MonkeyPatch, days: int) -> None:
    """The publisher's clock `days` off (behind if negative)."""
    import datetime as dt

    import mirror.cli.publish

    class Skewed(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> Skewed:  # type: ignore[override]
            moment = dt.datetime.now(tz) + dt.timedelta(days=days)
            return cls.fromtimestamp(moment.timestamp(), tz)

    monkeypatch.setattr(mirror.cli.publish, "datetime", Skewed)


def test_a_clock_behind_the_last_index_signs_nothing(setup: Setup, runner: CliRunner,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A cron machine that booted 20 days in the past replaced a fresh index with one that had expired already,
    said OK, and readers with --strict then refused every mirror (and the fresh one could not come back: a rollback).
    Ten minutes of difference are let through (clocks are never quite the same)."""
    assert publish_cli(runner, setup, setup.bundle)[0] == 0
    before = (setup.hosts[0] / "index.json").read_bytes()
    _clock(monkeypatch, -20)
    code, _, err = invoke(runner, "refresh", "--config", setup.config)
    assert code == 2 and "this machine's clock says" in err and "before the last index was signed" in err, err
    assert (setup.hosts[0] / "index.json").read_bytes() == before


def test_an_index_readers_would_refuse_for_its_size_is_not_signed(setup: Setup, runner: CliRunner,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Past 8 MiB (about 17,000 bundles) readers refuse an index: it was signed, sent, said OK, and the next
    refresh called the local state damaged. A tiny cap here stands in for 8 MiB."""
    import mirror.publish.plan

    monkeypatch.setattr(mirror.publish.plan, "MAX_INDEX", 400)
    code, _, err = publish_cli(runner, setup, setup.bundle)
    assert code == 2 and "the index would be" in err and "more than readers take (400)" in err, err
    assert not any(setup.hosts[0].iterdir())
    monkeypatch.setattr(mirror.publish.plan, "MAX_INDEX", 8 << 20)
    assert invoke(runner, "refresh", "--config", setup.config)[0] == 0  # nothing was saved as the last index


def test_status_says_an_index_was_signed_in_the_future(setup: Setup, runner: CliRunner,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A clock ahead by 400 days signed an index that expires in two years; status printed it as "-9600.0 h old",
    OK."""
    _clock(monkeypatch, 400)
    assert publish_cli(runner, setup, setup.bundle)[0] == 0
    _clock(monkeypatch, 0)
    code, out, _ = invoke(runner, "status", "--config", setup.config)
    assert code == 4 and "index signed in the future" in out, out


def test_a_config_any_user_may_change_is_not_used_even_when_named(setup: Setup, runner: CliRunner) -> None:
    """README: a mirror.toml every user may change is passed over (it says where the passwords go); named with
    --config it was used without a word."""
    setup.config.chmod(0o666)
    code, _, err = invoke(runner, "status", "--config", setup.config)
    assert code == 2 and "is not used: every user may change it" in err and "chmod o-w" in err, err
    setup.config.chmod(0o644)
    assert invoke(runner, "status", "--config", setup.config)[0] in (0, 4)


def test_a_wrong_passphrase_is_said_before_any_bundle_is_checked(setup: Setup, runner: CliRunner,
                                                                 keyring: Keyring,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """It was said after every bundle was verified and every host asked: here a damaged bundle would be named
    first if it were checked first."""
    keyring.create("carol", b"correct horse battery staple alpha")
    setup.config.write_text(setup.config.read_text().replace('key = "alice"', 'key = "carol"'))
    damaged = setup.root / "damaged.7z"
    data = bytearray(setup.bundle.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    monkeypatch.setenv("MIRROR_PASSPHRASE", "not the passphrase at all")
    code, _, err = publish_cli(runner, setup, damaged)
    assert code == 2 and err.startswith("mirror: wrong passphrase for secret key carol"), err
    assert not any(setup.hosts[0].iterdir())


def test_status_without_the_local_state_compares_the_hosts(setup: Setup, runner: CliRunner,
                                                           tmp_path: Path) -> None:
    """On another machine (no local state), a host left at version 1 while another has 2 was "OK"."""
    assert publish_cli(runner, setup, setup.bundle)[0] == 0
    assert invoke(runner, "refresh", "--config", setup.config, "--to", "a")[0] == 0
    shutil.rmtree(tmp_path / "state")
    code, out, _ = invoke(runner, "status", "--config", setup.config)
    assert code == 4 and "STALE  b" in out and "stale: version 1, another host has 2" in out, out
    assert "OK     a" in out


def test_a_bundle_that_cannot_be_sent_again_is_read_back_where_it_is_not_known(setup: Setup, runner: CliRunner,
                                                                               tmp_path: Path) -> None:
    """The file a bundle was published from is gone, and host b, not known to hold it, has a file of its size
    with other bytes under its name: b was given the index, OK, and counted as holding it (helper-134)."""
    b = _published_to_a_with_other_bytes_on_b(setup, runner)
    for name in (f"bundles/{setup.sha256}.SHA256SUMS", f"bundles/{setup.sha256}.SHA256SUMS.minisig",
                 f"bundles/{setup.sha256}.torrent"):  # every side file a reader needs there (helper-174)
        (b / name).write_bytes((setup.hosts[0] / name).read_bytes())
    setup.bundle.rename(tmp_path / "elsewhere.7z")
    code, out, err = invoke(runner, "refresh", "--config", setup.config)
    assert code == 4 and "FAIL  b" in out and "on this host with other bytes" in out, out + err
    assert not (b / "index.json").exists()


def test_after_an_index_signed_by_a_clock_ahead_the_right_clock_can_sign(setup: Setup, runner: CliRunner,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """An index signed while the clock ran 2 days ahead (or by another machine whose clock does) blocked every
    later run, and the hint said to set a clock that was right (helper-134): the hint names both cases, and
    --clock-is-right signs."""
    _clock(monkeypatch, 2)
    assert publish_cli(runner, setup, setup.bundle)[0] == 0
    _clock(monkeypatch, 0)
    code, _, err = invoke(runner, "refresh", "--config", setup.config)
    assert code == 2 and "if it is right, that index was signed by a clock ahead" in err, err
    code, out, err = invoke(runner, "refresh", "--config", setup.config, "--clock-is-right")
    assert code == 0 and "index version 2" in out, err


def test_what_a_killed_run_left_of_a_bundle_here_now_is_removed(setup: Setup, served: MirrorServer,
                                                                 runner: CliRunner) -> None:
    """A fetch killed while the swarm (or a mirror) downloaded, then the bundle had another way: the swarm's file
    stayed in DEST/.mirror-downloads for good, also after runs that said "already here" (helper-160)."""
    assert fetch_cli(runner, setup, "--mirror", served.url)[0] == 0
    downloads = setup.root / "in" / ".mirror-downloads"
    (downloads / "swarm").mkdir(parents=True)
    (downloads / "swarm" / f"{setup.sha256}.7z").write_bytes(b"\0" * 4096)
    (downloads / f"{setup.sha256}.7z.part").write_bytes(b"x" * 100)
    code, out, _ = fetch_cli(runner, setup, "--mirror", served.url)
    assert code == 0 and "already here" in out
    assert not downloads.exists(), list(downloads.rglob("*"))


def test_a_bundle_id_is_its_authors_in_the_index(setup: Setup, runner: CliRunner, keyring: Keyring,
                                                 sources: Path) -> None:
    """Another author's bundle made with alice's id and a higher version replaced hers in the signed index (OK,
    exit 0), for every reader who trusts both, and kept her out for good with a version of 2^31 (helper-162).
    Refused before anything is signed or sent."""
    assert publish_cli(runner, setup, setup.bundle)[0] == 0
    code, out, _ = invoke(runner, "show", setup.bundle, "--json")
    bundle_id = json.loads(out)["bundle"]["id"]
    keyring.create("mallory", None)
    hijack = setup.root / "hijack.7z"
    code, _, err = invoke(runner, "create", sources, "-o", hijack, "--key", "mallory", "--id", bundle_id,
                          "--version", "3")
    assert code == 0, err
    before = (setup.hosts[0] / "index.json").read_bytes()
    code, _, err = publish_cli(runner, setup, hijack)
    assert code == 2 and f"bundle id {bundle_id} is listed by author key" in err, err
    assert (setup.hosts[0] / "index.json").read_bytes() == before


def test_names_all_taken_in_dest_miss_that_bundle_and_report_the_rest(setup: Setup, runner: CliRunner) -> None:
    """Three other files under a bundle's three names in DEST stopped the whole fetch with exit 2 and no report,
    with other bundles already placed (helper-162). That bundle is missing, with why; the report is printed, and
    what arrived waits as its part for the next run."""
    from mirror.fetch.fetcher import arrival_names
    from mirror.formats.index import Index

    assert publish_cli(runner, setup, setup.bundle)[0] == 0
    entry = Index.from_bytes((setup.hosts[0] / "index.json").read_bytes()).bundles[0]
    dest = setup.root / "in"
    dest.mkdir()
    for name in arrival_names(entry):
        (dest / name).write_bytes(b"another file")
    with MirrorServer(setup.hosts[0]) as server:
        code, out, err = fetch_cli(runner, setup, "--mirror", server.url, "--json")
        assert code == 4, (out, err)
        row = json.loads(out)["bundles"][0]
        assert not row["arrived"] and "are other files: move them" in row["note"], row
        (dest / arrival_names(entry)[0]).unlink()
        before = server.bytes_sent
        code, out, err = fetch_cli(runner, setup, "--mirror", server.url)
        assert code == 0, (out, err)
        assert server.bytes_sent - before < setup.bundle.stat().st_size // 2  # not downloaded again
    assert (dest / arrival_names(entry)[0]).read_bytes() == setup.bundle.read_bytes()


def test_a_week_old_partial_of_a_bundle_no_longer_listed_is_removed(setup: Setup, served: MirrorServer,
                                                                    runner: CliRunner) -> None:
    """A partial download of a version the index no longer lists stayed in DEST/.mirror-downloads for good, on a
    reader's stick (helper-162). Once a week old it goes; a newer one stays (another publisher's, perhaps)."""
    import os
    import time

    downloads = setup.root / "in" / ".mirror-downloads"
    (downloads / "swarm").mkdir(parents=True)
    old_part, new_part = downloads / f"{'a' * 64}.7z.part", downloads / f"{'b' * 64}.7z.part"
    old_swarm, other = downloads / "swarm" / f"{'c' * 64}.7z", downloads / "notes.txt"
    for path in (old_part, new_part, old_swarm, other):
        path.write_bytes(b"x" * 100)
    week_ago = time.time() - 8 * 24 * 3600
    for path in (old_part, old_swarm, other):
        os.utime(path, (week_ago, week_ago))
    assert fetch_cli(runner, setup, "--mirror", served.url)[0] == 0
    assert not old_part.exists() and not old_swarm.exists()
    assert new_part.exists() and other.exists()


def test_a_bundle_can_be_withdrawn_from_the_index(setup: Setup, runner: CliRunner) -> None:
    """No bundle could be taken out of the index: every new version listed every bundle the last did, also one
    that exposes a source (helper-162). `refresh --withdraw ID` signs a version without it, which the next ones
    keep; an id that is not listed is refused before anything is signed."""
    from mirror.formats.index import Index

    assert publish_cli(runner, setup, setup.bundle)[0] == 0
    index = Index.from_bytes((setup.hosts[0] / "index.json").read_bytes())
    bundle_id = index.bundles[0].id
    code, _, err = invoke(runner, "refresh", "--withdraw", "0" * 32, "--config", setup.config)
    assert code == 2 and "is not in the index; nothing was signed or sent" in err, err
    code, out, err = invoke(runner, "refresh", "--withdraw", bundle_id.upper(), "--config", setup.config)
    assert code == 0 and "left out of the index" in err, (out, err)
    for host in setup.hosts:
        after = Index.from_bytes((host / "index.json").read_bytes())
        assert after.version == index.version + 1 and after.bundles == ()
    assert invoke(runner, "refresh", "--config", setup.config)[0] == 0
    assert Index.from_bytes((setup.hosts[0] / "index.json").read_bytes()).bundles == ()
    assert publish_cli(runner, setup, setup.bundle)[0] == 0  # listed again, then withdrawn and given in one run:
    code, _, err = publish_cli(runner, setup, setup.bundle, "--withdraw", bundle_id)  # the one given takes its place
    assert code == 0, err
    assert [e.id for e in Index.from_bytes((setup.hosts[0] / "index.json").read_bytes()).bundles] == [bundle_id]


def test_refresh_says_which_bundles_it_signs_again_for_an_author_no_longer_trusted(
        setup: Setup, runner: CliRunner, keyring: Keyring, sources: Path) -> None:
    """A refresh signed again, without a word, a bundle whose author's key the publisher had removed (helper-162)."""
    keyring.create("mallory", None)
    other = setup.root / "other.7z"
    assert invoke(runner, "create", sources, "-o", other, "--key", "mallory")[0] == 0
    assert publish_cli(runner, setup, setup.bundle, other)[0] == 0
    for suffix in (".pub", ".key", ".trust.json"):
        (keyring.folder / f"mallory{suffix}").unlink()
    (keyring.folder / "zzz.pub").write_text("junk\n")  # a damaged key file: this step only warns (helper-164)
    code, _, err = invoke(runner, "refresh", "--config", setup.config)
    assert code == 0 and "which is not in your keyring as an author: leave it out with mirror refresh --withdraw" in err
    assert err.count("stays listed") == 1, err


def test_a_dest_made_for_a_fetch_that_brought_nothing_is_not_left_empty(setup: Setup, served: MirrorServer,
                                                                        runner: CliRunner) -> None:
    """When no bundle arrived, DEST stayed behind as an empty folder (helper-157); one that was there stays."""
    served.no_bundles = True
    code, _, _ = fetch_cli(runner, setup, "--mirror", served.url)
    assert code == 4 and not (setup.root / "in").exists()
    (setup.root / "in").mkdir()
    assert fetch_cli(runner, setup, "--mirror", served.url)[0] == 4 and (setup.root / "in").is_dir()


def test_a_first_index_says_it_is_version_1_and_what_that_means(setup: Setup, runner: CliRunner) -> None:
    """A new machine publishing to a new host signed version 1, which every reader who saw a later version took as
    stale, without a word (helper-162). The first index says so; the next ones do not."""
    code, _, err = publish_cli(runner, setup, setup.bundle)
    assert code == 0 and "so this one is version 1" in err, err
    code, _, err = invoke(runner, "refresh", "--config", setup.config)
    assert code == 0 and "version 1" not in err, err


def test_a_bundle_withdrawn_on_one_machine_and_kept_by_a_twin_is_named(setup: Setup, runner: CliRunner,
                                                                       keyring: Keyring, sources: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Withdrawn on this machine to host a, while another machine signed the same version with it to host b: the
    next index lists it again (the union of the two), and it is named so that it can be left out again
    (helper-164, -166)."""
    from mirror.formats.index import Index

    assert publish_cli(runner, setup, setup.bundle)[0] == 0
    bundle_id = Index.from_bytes((setup.hosts[0] / "index.json").read_bytes()).bundles[0].id
    assert invoke(runner, "refresh", "--withdraw", bundle_id, "--to", "a", "--config", setup.config)[0] == 0
    mine = os.environ["MIRROR_STATE"]
    monkeypatch.setenv("MIRROR_STATE", str(setup.root / "other-machine"))
    assert invoke(runner, "refresh", "--to", "b", "--config", setup.config)[0] == 0
    monkeypatch.setenv("MIRROR_STATE", mine)
    code, _, err = invoke(runner, "refresh", "--config", setup.config)
    assert code == 0 and f"it stays listed; if it was withdrawn, leave it out again with --withdraw {bundle_id}" in err
