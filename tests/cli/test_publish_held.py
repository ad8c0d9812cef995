"""publish and refresh look for every listed bundle on every host they give the index to, and a dry run checks the
secret key it will sign with (helper-167)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import invoke
from mirror.bundle.create import CreateRequest, create_bundle
from mirror.trust.keyring import Keyring
from mirror.trust.keys import SecretKey
from mirror_setup import Setup, publish_cli
from servers import DavServer


def _on(host: Path, setup: Setup) -> Path:
    return host / f"bundles/{setup.sha256}.7z"


def test_a_bundle_deleted_from_a_host_known_to_hold_it_is_sent_again(setup: Setup, runner: CliRunner) -> None:
    """The host's admin deleted a bundle the index lists: refresh gave that host the new index all the same and said
    OK, exit 0, and readers were promised a bundle it did not have (only `status` saw it)."""
    b = setup.hosts[1]
    assert publish_cli(runner, setup, setup.bundle)[0] == 0
    _on(b, setup).unlink()
    code, out, err = invoke(runner, "refresh", "--config", setup.config)
    assert code == 0 and "OK    a" in out and "OK    b" in out, out + err
    assert f"[b] Test bundle (bundles/{setup.sha256}.7z) is no longer there, though the index lists it" in err, err
    assert _on(b, setup).read_bytes() == setup.bundle.read_bytes()
    assert invoke(runner, "status", "--config", setup.config)[0] == 0


def test_a_bundle_cut_short_on_a_host_is_sent_again_by_a_publish_of_another(setup: Setup, runner: CliRunner,
                                                                               sources: Path,
                                                                               secret: SecretKey) -> None:
    """A listed bundle of the wrong size on a host (cut short by a full disk, or by hand) is sent again where
    publish has its file, when another bundle is published."""
    b = setup.hosts[1]
    assert publish_cli(runner, setup, setup.bundle)[0] == 0
    with _on(b, setup).open("r+b") as file:
        file.truncate(1000)
    (sources / "accounts" / "more.txt").write_text("Another account, written later.\n")
    other = setup.root / "other.7z"
    create_bundle(CreateRequest(sources, other, title="Another bundle"), secret)
    code, out, err = publish_cli(runner, setup, other)
    assert code == 0 and "OK    b" in out, out + err
    assert f"[b] Test bundle (bundles/{setup.sha256}.7z) has 1,000 bytes, not " in err, err
    assert _on(b, setup).read_bytes() == setup.bundle.read_bytes()
    assert invoke(runner, "status", "--config", setup.config)[0] == 0


def test_a_bundle_deleted_from_a_host_whose_file_is_gone_fails_that_host(setup: Setup, runner: CliRunner,
                                                                          tmp_path: Path) -> None:
    """Without the publisher's copy the deleted bundle cannot be sent again: that host gets no index naming it,
    its line names the bundle and what to do, and the run ends with exit 4; the dry run says so first."""
    b = setup.hosts[1]
    assert publish_cli(runner, setup, setup.bundle)[0] == 0
    _on(b, setup).unlink()
    moved = tmp_path / "elsewhere.7z"
    setup.bundle.rename(moved)
    code, out, err = invoke(runner, "refresh", "--config", setup.config, "--dry-run")
    # it said "cannot reach b" of a host it had reached, and found lacking the bundle
    assert code == 4 and "nothing would be sent to b: the index lists Test bundle" in out, out + err
    code, out, err = invoke(runner, "refresh", "--config", setup.config)
    assert code == 4 and "OK    a" in out, out + err
    assert f"FAIL  b  the index lists Test bundle (bundles/{setup.sha256}.7z), which is not on this host" in out
    assert "publish that bundle again" in out
    assert json.loads((b / "index.json").read_bytes())["version"] == 1  # not given the index that names it
    code, out, err = publish_cli(runner, setup, moved)  # from where it is now
    assert code == 0 and "OK    b" in out, out + err
    assert _on(b, setup).is_file() and invoke(runner, "status", "--config", setup.config)[0] == 0


def test_a_bundle_deleted_from_a_webdav_host_is_sent_again(tmp_path: Path, bundle: Path, runner: CliRunner,
                                                           nginx_dav: DavServer, keyring: Keyring,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The same on nginx WebDAV: the bundle deleted on the server is found missing (HEAD) and PUT again."""
    run_id = uuid.uuid4().hex[:12]
    dav = nginx_dav.host_config(monkeypatch, url=f"{nginx_dav.url}{run_id}/")
    config = tmp_path / "mirror.toml"
    config.write_text(f'[publisher]\nkey = "alice"\n\n[hosts.dav]\nurl = "{dav.url}"\nusername = "{dav.username}"\n'
                      f'password_env = "{dav.password_env}"\n')
    assert invoke(runner, "publish", bundle, "--config", config)[0] == 0
    stored = next((nginx_dav.root / run_id / "bundles").glob("*.7z"))
    stored.unlink()
    code, out, err = invoke(runner, "refresh", "--config", config)
    assert code == 0 and "OK    dav" in out, out + err
    assert "is no longer there" in err and stored.read_bytes() == bundle.read_bytes()


def _dry_runs_say(runner: CliRunner, setup: Setup, expected: str) -> None:
    """Both dry runs end with exit 2 and `expected`, and plan nothing."""
    for args in (("publish", setup.bundle), ("refresh",)):
        code, out, err = invoke(runner, *args, "--dry-run", "--config", setup.config)
        assert code == 2 and expected in err, (args, out, err)
        assert "would send" not in out and not any(setup.hosts[0].iterdir()), out


def test_a_dry_run_says_the_secret_key_file_cannot_be_read(setup: Setup, runner: CliRunner,
                                                           keyring: Keyring) -> None:
    """A folder where the publisher's secret key file should be (or one this user may not read): the dry run
    passed, and the run then failed."""
    (keyring.folder / "alice.key").unlink()
    (keyring.folder / "alice.key").mkdir()
    _dry_runs_say(runner, setup, "the secret key file of the publisher key alice cannot be read: ")


@pytest.mark.parametrize("damage", ["cut", "nested", "other"])
def test_a_dry_run_says_the_secret_key_is_damaged_or_another_keys(setup: Setup, runner: CliRunner,
                                                                   keyring: Keyring, damage: str) -> None:
    """A secret key file cut short, or another key's in its place, is said by the dry run, and by the run before
    any passphrase is asked (a damaged file asked for one, then said `a passphrase is needed`)."""
    path = keyring.folder / "alice.key"
    if damage in ("cut", "nested"):  # nested: JSON too deep for Python's parser (a RecursionError, exit 1)
        path.write_bytes(path.read_bytes()[:40] if damage == "cut" else b"[" * 60_000)
        expected = "secret key alice is damaged or not a mirror secret key"
    else:
        other = Keyring(setup.root / "other-keys")
        other.create("alice", None)
        path.write_bytes((other.folder / "alice.key").read_bytes())
        expected = "secret key alice does not match its public key"
    _dry_runs_say(runner, setup, expected)
    code, out, err = invoke(runner, "refresh", "--config", setup.config)
    assert code == 2 and "passphrase" not in err and "index version" not in out, out + err


def test_a_bundle_not_looked_for_while_planning_is_looked_for_before_the_index(
        setup: Setup, runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    """Looking for the bundles a host holds is bounded while planning (a hung share held every other host up to its
    whole budget); what a host did not answer then is looked for in its own run, before its index. One found
    missing there fails the host, named, and is held no more: the next run sends it again."""
    from mirror.errors import Failure, TransferError
    from mirror.publish.hosts.directory import DirectoryHost

    b = setup.hosts[1]
    assert publish_cli(runner, setup, setup.bundle)[0] == 0
    _on(b, setup).unlink()
    real, calls = DirectoryHost.sizes, []

    def slow_once(host: DirectoryHost, folder: str, wanted: Collection[str] | None = None) -> dict[str, int]:
        if host.name == "b" and not calls:
            calls.append(folder)  # the planning's look: no answer in time
            raise TransferError("b", "the time budget of 120 s ran out", Failure.TIMEOUT, transient=False)
        return real(host, folder, wanted)

    monkeypatch.setattr(DirectoryHost, "sizes", slow_once)
    code, out, err = invoke(runner, "refresh", "--config", setup.config)
    assert code == 4 and "OK    a" in out, out + err
    assert "[b] 1 of the bundles it holds were not looked for while planning" in err, err
    assert f"FAIL  b  the index lists Test bundle (bundles/{setup.sha256}.7z), which is no longer on this host" in out
    assert json.loads((b / "index.json").read_bytes())["version"] == 1
    monkeypatch.setattr(DirectoryHost, "sizes", real)
    code, out, err = invoke(runner, "refresh", "--config", setup.config)
    assert code == 0 and "OK    b" in out and "not known to be on every host" in err, out + err
    assert _on(b, setup).read_bytes() == setup.bundle.read_bytes()


def test_a_dry_run_says_a_torrent_is_sent_again(setup: Setup, runner: CliRunner) -> None:
    """A .torrent is always sent again (its web seeds follow the host list): the dry run said it was present when
    its size was the same, and the run then sent it."""
    assert publish_cli(runner, setup, setup.bundle)[0] == 0
    code, out, err = publish_cli(runner, setup, setup.bundle, "--dry-run")
    assert code == 0 and f"present  bundles/{setup.sha256}.7z" in out, out + err
    assert f"send     bundles/{setup.sha256}.torrent" in out, out


def test_a_host_named_twice_with_to_is_published_to_once(setup: Setup, runner: CliRunner) -> None:
    """--to a --to a ran two publishes to host a at once, and said OK twice."""
    code, out, err = publish_cli(runner, setup, setup.bundle, "--to", "a", "--to", "a")
    assert code == 0 and out.count("OK    a") == 1, out + err
    assert err.count("[a] sent index.json (") == 1, err
