"""The command line as scripts and operators meet it: usage errors, pipes, workspaces, which keyring."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import invoke
from mirror.bundle.create import CreateRequest, create_bundle
from mirror.trust.keyring import Keyring
from mirror.trust.keys import SecretKey


def test_bad_now_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    """A --now that is not a UTC time is exit 2 ("usage"), never 3 ("do not trust")."""
    code, out, err = invoke(runner, "fetch", "--now", "yesterday", "--mirror", tmp_path)
    assert code == 2 and out == "" and "is not a UTC time" in err


def test_show_into_a_closed_pipe_ends_quietly(sources: Path, secret: SecretKey, tmp_path: Path) -> None:
    """`mirror show BUNDLE | head -1` with more output than a pipe holds: no "Broken pipe" message, no traceback."""
    for n in range(1500):  # about 120 KB of listing, twice what a pipe buffers
        (sources / "accounts" / f"account-{n:04}.en.md").write_text(f"Account {n}.\n")
    bundle = tmp_path / "many.7z"
    create_bundle(CreateRequest(sources, bundle), secret)
    env = {**os.environ, "MIRROR_KEYS": str(tmp_path / "keys")}
    shell = f"{sys.executable} -m mirror show {bundle} | head -1"
    result = subprocess.run(["bash", "-o", "pipefail", "-c", shell], capture_output=True, text=True, env=env,
                            timeout=60, check=False)
    assert result.stdout.startswith("VERIFIED") and result.stdout.count("\n") == 1
    assert result.stderr == ""


def _workspace(root: Path, tables: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "mirror.toml").write_text(tables)
    return root


def test_only_a_workspace_table_moves_the_keyring(runner: CliRunner, tmp_path: Path, monkeypatch: object) -> None:
    """A publisher-only mirror.toml leaves the keyring where it was; a [workspace] table moves it to ./keys."""
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.delenv("MIRROR_KEYS")
    default = tmp_path / "data" / "mirror" / "keys"
    publisher_only = _workspace(tmp_path / "pub", '[publisher]\nkey = "press"\n')
    monkeypatch.chdir(publisher_only)
    assert invoke(runner, "keys", "new", "press", "--no-passphrase")[0] == 0
    assert (default / "press.pub").exists() and not (publisher_only / "keys").exists()
    code, _, err = invoke(runner, "keys", "list")
    assert code == 0 and f"keyring {default} (chosen by your data folder)" in err
    workspace = _workspace(tmp_path / "ws", '[workspace]\nkeys = "my-keys"\n')
    monkeypatch.chdir(workspace)
    assert invoke(runner, "keys", "new", "writer", "--no-passphrase")[0] == 0  # this user works in it
    code, out, err = invoke(runner, "keys", "list")
    assert code == 0 and out.startswith("writer") and f"keyring {workspace / 'my-keys'} (chosen by workspace" in err


def test_a_workspace_that_is_not_yours_never_chooses_the_keyring(runner: CliRunner, tmp_path: Path, sources: Path,
                                                                  secret: SecretKey, monkeypatch: object) -> None:
    """A mirror.toml with a keyring of its own beside a forged bundle (a USB stick, a shared folder above the
    reader's) made the forgery VERIFIED, also when the reader owned the files (copied with `cp -r`, or on a stick a
    desktop mounts as the user's). A workspace this user never worked in (made a key in, created, endorsed or
    published from) is passed over with a warning that names --keys; so is one another user owns, or every user
    may change, even after. One the reader works in chooses the keyring, and the verdict then says which."""
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setenv("MIRROR_KEYS", "")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "reader-data"))  # the reader's own keyring: empty
    stick = _workspace(tmp_path / "stick", '[workspace]\nkeys = ".k"\n')
    Keyring(stick / ".k").import_public("alice", secret.public, ("author",), "in-person")
    bundle = stick / "almaty.7z"
    create_bundle(CreateRequest(sources, bundle), secret)
    (stick / "sub").mkdir()
    monkeypatch.chdir(stick / "sub")
    for command in (("verify", bundle), ("extract", bundle, tmp_path / "out"), ("show", bundle)):
        code, out, err = invoke(runner, *command)
        assert code == 5 and f"{stick / 'mirror.toml'} is not used as a workspace: no key was made in it" in err, err
        assert f"pass --keys {stick / '.k'}" in err and not (tmp_path / "out").exists()
    (tmp_path / "alice.pub").write_text(secret.public.to_text())
    code, out, err = invoke(runner, "keys", "import", tmp_path / "alice.pub", "--name", "alice2",
                            "--checked", "in-person")  # into the reader's own keyring: it does not make it theirs
    assert code == 0 and "is not used as a workspace" in err and not (stick / ".k" / "alice2.pub").exists()
    assert (tmp_path / "reader-data" / "mirror" / "keys" / "alice2.pub").exists()
    (tmp_path / "reader-data" / "mirror" / "keys" / "alice2.pub").unlink()
    code, out, _ = invoke(runner, "verify", bundle, "--keys", stick / ".k")
    assert code == 0 and out.startswith("VERIFIED")
    # a command that fails, or a key that came with the folder without a passphrase, makes it no one's
    Keyring(stick / ".k").create("planted", None)
    assert invoke(runner, "endorse", bundle, "--key", "nosuch", "--claim", "relayed", "-o", tmp_path / "e.7z")[0] != 0
    # (a key without a passphrase that came with the folder does not even sign: anyone could have put it there)
    assert invoke(runner, "endorse", bundle, "--key", "planted", "--claim", "relayed", "-o", tmp_path / "f.7z")[0] == 2
    assert invoke(runner, "verify", bundle)[0] == 5
    planted = stick / ".k" / "planted.key"  # written without spaces: it was taken for an encrypted key, which then
    planted.write_text(json.dumps(json.loads(planted.read_text()), separators=(",", ":")))  # opened with anything
    monkeypatch.setenv("MIRROR_PASSPHRASE", "anything at all")
    assert invoke(runner, "endorse", bundle, "--key", "planted", "--claim", "relayed", "-o", tmp_path / "g.7z")[0] == 2
    monkeypatch.delenv("MIRROR_PASSPHRASE")
    assert invoke(runner, "verify", bundle)[0] == 5
    (stick / "mirror.toml").write_text('[workspace]\nkeys = ".k"\n[trust]\nrequire_endorsers = "all"\n')
    assert invoke(runner, "verify", bundle)[0] == 5  # its [trust] is not read either (malformed: exit 2)
    (stick / "mirror.toml").write_text('[workspace]\nkeys = ".k"\n')
    assert invoke(runner, "keys", "new", "reader", "--no-passphrase")[0] == 0  # the reader works in it now
    assert (stick / ".k" / "reader.pub").exists()
    # but the keys that came with the folder are not the reader's: alice's record was there before (it made the
    # forgery VERIFIED once the reader made a key of their own in the folder)
    code, out, err = invoke(runner, "verify", bundle)
    assert code == 5 and f"{stick / '.k' / 'alice'}.pub is not used: this computer did not make or import it" in err
    code, _, err = invoke(runner, "keys", "import", stick / ".k" / "alice.pub", "--name", "alice", "--checked",
                          "in-person", "--force")  # the reader compared it: now a record this computer wrote
    assert code == 0, err
    code, out, err = invoke(runner, "verify", bundle)
    assert code == 0 and out.startswith("VERIFIED") and f"keyring      {stick / '.k'} (the workspace of " in out
    assert "alice.pub is not used" not in err and "planted.pub is not used" in err  # planted stays passed over
    (stick / "new.toml").write_text('[workspace]\nkeys = ".k"\n')  # an editor or git rewrote it: still the same
    (stick / "new.toml").replace(stick / "mirror.toml")
    assert invoke(runner, "verify", bundle)[0] == 0
    for planted in ("another user", "everyone may write"):
        if planted == "another user":
            os.chown(stick / "mirror.toml", 4242, 4242)
        else:
            os.chown(stick / "mirror.toml", os.geteuid(), os.getegid())
            (stick / "mirror.toml").chmod(0o666)
        code, out, err = invoke(runner, "verify", bundle)
        assert code == 5 and out.startswith("INTACT, UNKNOWN SIGNER"), planted
        assert f"{stick / 'mirror.toml'} is not used as a workspace" in err, err


def test_another_stick_where_this_users_was_brings_no_keys(runner: CliRunner, tmp_path: Path, sources: Path,
                                                          monkeypatch: object) -> None:
    """A desktop mounts every stick labelled USB at /media/USER/USB: the user's own stick made that path a known
    workspace, and another stick mounted there later made a forgery by its own key VERIFIED. What this computer
    wrote into the keyring is remembered, so the other stick's keys are passed over, and said so."""
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.delenv("MIRROR_KEYS")
    stick = _workspace(tmp_path / "media" / "USB", "[workspace]\n")
    monkeypatch.chdir(stick)
    assert invoke(runner, "keys", "new", "mine", "--no-passphrase")[0] == 0  # the user's own stick: known
    shutil.rmtree(stick)
    _workspace(stick, "[workspace]\n")  # another stick, mounted at the same path
    monkeypatch.chdir(stick)
    evil = Keyring(stick / "keys")
    evil.create("evil", None)
    forged = stick / "news.7z"
    create_bundle(CreateRequest(sources, forged), evil.secret("evil", None))
    code, out, err = invoke(runner, "verify", forged)
    assert code == 5 and out.startswith("INTACT, UNKNOWN SIGNER"), (out, err)
    assert f"{stick / 'keys' / 'evil'}.pub is not used: this computer did not make it in this workspace" in err, err
    assert "--fingerprint" in err and "--checked in-person" not in err, err  # a key no passphrase protects


def test_a_config_that_is_not_yours_is_never_read(runner: CliRunner, tmp_path: Path, monkeypatch: object) -> None:
    """Publish reads hosts and password variables from the nearest mirror.toml: one another user planted above
    (a shared folder), linked there, malformed, or in a folder every user may write, is passed over before a byte
    of it is read, never sent a password and never an error for the commands below it."""
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    shared = tmp_path / "shared"
    mine = shared / "alice" / "work"
    mine.mkdir(parents=True)
    monkeypatch.chdir(mine)
    monkeypatch.setenv("MIRROR_KEYS", "")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    planted = shared / "mirror.toml"
    for shape in ("another user's", "a link of another user's", "malformed", "in a folder all may write"):
        planted.unlink(missing_ok=True)
        if shape == "a link of another user's":
            own = tmp_path / "own.toml"
            own.write_text('[workspace]\nkeys = "k"\n[hosts.evil]\nurl = "http://127.0.0.1:9/dav/"\n')
            planted.symlink_to(own)
            os.lchown(planted, 4242, 4242)
        else:
            planted.write_text("[workspace\n" if shape == "malformed" else
                               '[publisher]\nkey = "k"\n[hosts.evil]\nurl = "http://127.0.0.1:9/dav/"\n'
                               'password_env = "SECRET"\n')
            os.chown(planted, *((4242, 4242) if shape != "in a folder all may write" else (os.geteuid(),) * 2))
        shared.chmod(0o777 if shape == "in a folder all may write" else 0o755)
        code, _, err = invoke(runner, "publish", "--dry-run")
        assert code == 2 and "no mirror.toml here or above" in err and f"{planted} is not used" in err, (shape, err)
        code, _, err = invoke(runner, "keys", "list")  # walks up for a workspace too
        assert code == 0 and "(chosen by your data folder)" in err, (shape, err)


def test_a_keyring_folder_that_does_not_exist_is_named(runner: CliRunner, bundle: Path, tmp_path: Path) -> None:
    """A mistyped --keys made every bundle "not in your keyring" without a word of why."""
    code, out, _ = invoke(runner, "verify", bundle, "--keys", tmp_path / "kyes")
    assert code == 5 and f"keyring      {tmp_path / 'kyes'} does not exist (chosen by --keys)" in out
    code, out, _ = invoke(runner, "verify", bundle, "--keys", tmp_path / "keys")
    assert code == 0 and "does not exist" not in out


def test_a_first_time_reader_is_told_no_key_is_imported_yet(runner: CliRunner, bundle: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """With no keyring at all yet (a new reader, no workspace), the verdict says none has been imported, calmly,
    rather than that a folder does not exist."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "fresh"))
    monkeypatch.delenv("MIRROR_KEYS", raising=False)
    monkeypatch.chdir(tmp_path)
    code, out, _ = invoke(runner, "verify", bundle)
    assert code == 5 and "keyring      none yet: no key has been imported on this computer" in out, out
    assert "does not exist" not in out


def test_a_signer_held_only_as_a_publisher_is_said_to_be(runner: CliRunner, bundle: Path, keyring: Keyring,
                                                           tmp_path: Path) -> None:
    """A key imported with --role publisher only was "not in your keyring" as a bundle's signer: the reader then
    imported it again, to the same verdict. It is named, with the role it has."""
    (tmp_path / "alice.pub").write_text(keyring.get("alice").public.to_text())
    reader = tmp_path / "reader"
    code, _, err = invoke(runner, "keys", "import", tmp_path / "alice.pub", "--name", "press", "--role", "publisher",
                          "--checked", "in-person", "--keys", reader)
    assert code == 0, err
    code, out, _ = invoke(runner, "verify", bundle, "--keys", reader)
    assert code == 5 and "press (key " in out and "in your keyring as publisher only, not as an author" in out, out
    assert "not in your keyring" not in out


def test_keys_list_names_the_keyring_it_reads(runner: CliRunner, keyring: Keyring, tmp_path: Path) -> None:
    """--keys wins over $MIRROR_KEYS, and the listing says which folder it read and why."""
    code, out, err = invoke(runner, "keys", "list")
    assert code == 0 and f"keyring {keyring.folder} (chosen by $MIRROR_KEYS)" in err and out.startswith("alice\t")
    other = tmp_path / "other"
    code, out, err = invoke(runner, "keys", "list", "--keys", other)
    assert code == 0 and out == "" and f"keyring {other} (chosen by --keys)" in err and "no keys in it" in err


def test_fetch_list_shows_the_index_without_downloading(runner: CliRunner, bundle: Path, tmp_path: Path,
                                                        keyring: Keyring) -> None:
    """The hint of an unknown bundle id names `mirror fetch --list`, which exists and downloads nothing."""
    (tmp_path / "host").mkdir()
    config = tmp_path / "mirror.toml"
    config.write_text(f'[publisher]\nkey = "alice"\n\n[hosts.a]\nurl = "{tmp_path / "host"}"\n')
    assert invoke(runner, "publish", bundle, "--config", config)[0] == 0
    reader = ("--mirror", tmp_path / "host", "--dest", tmp_path / "in")
    code, _, err = invoke(runner, "fetch", "nosuchbundle1", *reader)
    assert code == 2 and "mirror fetch --list" in err
    code, out, _ = invoke(runner, "fetch", "--list", *reader)
    assert code == 0 and "index v1" in out and "Test bundle" in out and not (tmp_path / "in").exists()


def test_a_removed_current_folder_is_no_error(bundle: Path, keyring: Keyring,
                                                                      tmp_path: Path) -> None:
    """A command run in a folder removed meanwhile failed with "mirror: No such file or directory" even with
    absolute paths: it looked for a workspace there (helper-121)."""
    gone = tmp_path / "gone"
    gone.mkdir()
    env = {**os.environ, "MIRROR_PASSPHRASE": "tram fog lantern quietly"}
    done = subprocess.run([sys.executable, "-c", f"import os, sys; os.chdir({str(gone)!r}); os.rmdir({str(gone)!r}); "
                           "sys.argv = ['mirror', 'verify', sys.argv[1], '--keys', sys.argv[2]]; "
                           "from mirror.cli import run; run()", str(bundle), str(keyring.folder)],
                          capture_output=True, text=True, timeout=120, env=env, check=False)
    assert done.returncode == 0 and "VERIFIED" in done.stdout, done


def test_relative_xdg_folders_and_an_empty_home_are_passed_over(monkeypatch: pytest.MonkeyPatch) -> None:
    """A relative XDG_DATA_HOME or an empty HOME put a new secret key under the current folder, and a relative
    XDG_CACHE_HOME broke `open`: the XDG specification says to ignore a relative value (helper-121)."""
    import pwd

    from mirror import folders

    home = Path(pwd.getpwuid(os.getuid()).pw_dir)
    for name in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(name, "relative/folder")
    monkeypatch.delenv("MIRROR_STATE", raising=False)
    for value in ("", "relative/home"):
        monkeypatch.setenv("HOME", value)
        assert folders.keys_folder() == home / ".local/share/mirror/keys"
        assert folders.state_folder() == home / ".local/state/mirror"
        assert folders.cache_folder() == home / ".cache/mirror"
    monkeypatch.setenv("HOME", "/home/reader")
    monkeypatch.setenv("XDG_CACHE_HOME", "/var/cache/reader")
    assert (folders.keys_folder(), folders.cache_folder()) == (Path("/home/reader/.local/share/mirror/keys"),
                                                               Path("/var/cache/reader/mirror"))


@pytest.mark.parametrize("text", ["this is not toml = = \n", "[workspace]\nbogus = 1\n"])
def test_a_broken_mirror_toml_above_stops_no_verdict(runner: CliRunner, bundle: Path, tmp_path: Path, text: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """One in a downloads folder or on a stick above the bundle made verify, extract and keys list exit 2, even with
    --keys: it decides nothing, and is said to be passed over; a command that signs still stops on it."""
    folder = tmp_path / "downloads" / "sub"
    folder.mkdir(parents=True)
    (tmp_path / "downloads" / "mirror.toml").write_text(text)
    monkeypatch.chdir(folder)
    monkeypatch.delenv("MIRROR_KEYS")
    code, out, err = invoke(runner, "verify", bundle, "--keys", tmp_path / "keys")
    assert code == 0 and out.startswith("VERIFIED"), (out, err)
    code, _, err = invoke(runner, "keys", "list")
    assert code == 0 and "a mirror.toml here or above is not used as a workspace: " in err, err
    assert invoke(runner, "keys", "new", "x", "--no-passphrase")[0] == 2


def test_a_key_made_where_the_state_cannot_be_written_is_said(runner: CliRunner, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """keys new in a workspace made the key, then exited 1 on the state folder, never showing its fingerprint."""
    (tmp_path / "statefile").write_text("a file where the state folder should be")
    monkeypatch.setenv("MIRROR_STATE", str(tmp_path / "statefile"))
    monkeypatch.delenv("MIRROR_KEYS")
    monkeypatch.chdir(_workspace(tmp_path / "ws", "[workspace]\n"))
    code, out, err = invoke(runner, "keys", "new", "s6", "--no-passphrase")
    assert code == 0 and "fingerprint: " in out and "could not note the workspace as yours" in err, (out, err)


def test_a_keyring_others_may_change_is_refused_however_chosen(runner: CliRunner, bundle: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A workspace's keys folder was checked; --keys, $MIRROR_KEYS and the data folder were not, nor a link's
    target: another user could plant a key with a record saying it was compared in person."""
    shared = tmp_path / "keys"
    shared.chmod(0o777)
    linked = tmp_path / "linked"
    linked.symlink_to(shared)
    for args, env in (((), str(shared)), (("--keys", linked), "")):
        monkeypatch.setenv("MIRROR_KEYS", env)
        code, _, err = invoke(runner, "verify", bundle, *args)
        assert code == 2 and "must not decide whom you trust: every user may change it" in err, err
    shared.chmod(0o1777)  # sticky, as /tmp: others may still add a key of theirs
    assert invoke(runner, "verify", bundle, "--keys", linked)[0] == 2
    shared.chmod(0o755)
    code, _, err = invoke(runner, "verify", bundle, "--keys", linked)
    assert code == 0, err


def test_a_key_planted_in_a_known_workspace_counts_nowhere(runner: CliRunner, tmp_path: Path, sources: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """helper-142: endorse and publish (commands that use keys) still trusted a key planted beside the user's: a
    forgery got a real knows-author endorsement and was signed into the publisher's index. The hint to import a
    passed-over key again was refused for any key checked more than "unchecked"; --keys naming the workspace's own
    keys folder did not remember the import; a broken mirror.toml sent `keys import` to the data folder; a junk
    .pub stopped every verdict; and state written before records were lost every key at the first new one."""
    monkeypatch.delenv("MIRROR_KEYS")
    monkeypatch.setenv("MIRROR_PASSPHRASE", "tram fog lantern quietly orbit")
    ws = _workspace(tmp_path / "ws", '[workspace]\n[publisher]\nkey = "bob"\n[hosts.usb]\nurl = "usb"\n')
    (ws / "usb").mkdir()
    monkeypatch.chdir(ws)
    assert invoke(runner, "keys", "new", "bob")[0] == 0
    attacker = Keyring(tmp_path / "att")
    attacker.create("alice", None)
    forged = tmp_path / "forged.7z"
    create_bundle(CreateRequest(sources, forged), attacker.secret("alice", None))
    shutil.copy(attacker.folder / "alice.pub", ws / "keys" / "alice.pub")
    (ws / "keys" / "alice.trust.json").write_text('{"name": "alice", "roles": ["author"], "checked": "in-person"}')
    (ws / "keys" / "junk.pub").write_text("not a key")
    code, out, err = invoke(runner, "verify", forged)
    assert code == 5 and "alice.pub is not used" in err and "junk.pub is not used" in err, (out, err)
    code, _, err = invoke(runner, "endorse", forged, "--key", "bob", "--claim", "knows-author", "-o",
                          tmp_path / "endorsed.7z")
    assert code == 2 and "the author's key is not in your keyring" in err, err
    code, _, err = invoke(runner, "publish", forged, "--config", ws / "mirror.toml")
    assert code == 5 and "which is not in your keyring as an author" in err, err
    assert not any((ws / "usb").iterdir())
    # the hint works: a passed-over record imported again says how it was checked
    (ws / "keys" / "junk.pub").unlink()  # (--keys is the user's own choice: a damaged file there is said, and stops)
    code, _, err = invoke(runner, "keys", "import", ws / "keys" / "alice.pub", "--name", "alice", "--checked",
                          "in-person", "--keys", ws / "keys")  # --keys naming the workspace's own keys folder
    assert code == 0, err
    assert invoke(runner, "verify", forged)[0] == 0  # the user's own decision now, remembered
    (ws / "mirror.toml").write_text("not toml = = \n")
    code, _, err = invoke(runner, "keys", "import", ws / "keys" / "alice.pub", "--name", "alice2", "--checked",
                          "phone")
    assert code == 2 and not (tmp_path / "data" / "mirror" / "keys" / "alice2.pub").exists(), err


def test_state_remembered_before_records_keeps_every_key_it_had(runner: CliRunner, tmp_path: Path, bundle: Path,
                                                                keyring: Keyring,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A workspace remembered by an earlier version (no records) counted all of its keys; the first record this
    version noted made the others, the user's own among them, not count."""
    monkeypatch.delenv("MIRROR_KEYS")
    ws = _workspace(tmp_path / "ws", "[workspace]\n")
    monkeypatch.chdir(ws)
    assert invoke(runner, "keys", "new", "carol", "--no-passphrase")[0] == 0
    Keyring(ws / "keys").import_public("alice", keyring.get("alice").public, ("author",), "in-person")
    state = tmp_path / "state" / "workspaces.json"
    state.write_text(json.dumps({"workspaces": json.loads(state.read_text())["workspaces"]}))  # the old form
    assert invoke(runner, "verify", bundle)[0] == 0
    other = Keyring(tmp_path / "o").create("dave", None).public
    (tmp_path / "dave.pub").write_text(other.to_text())
    assert invoke(runner, "keys", "import", tmp_path / "dave.pub", "--name", "dave", "--checked", "phone")[0] == 0
    code, _, err = invoke(runner, "verify", bundle)
    assert code == 0 and "is not used" not in err, err


def test_a_publish_config_found_here_is_used_only_once_named_or_in_a_known_workspace(
        runner: CliRunner, tmp_path: Path, bundle: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A mirror.toml on a stick or in a download chose the hosts that the passwords its variables name were sent to
    (helper-142: `status` sent $GITHUB_TOKEN to the stick's host). Found here, it is used once the user named it
    with --config, or in a workspace they work in."""
    folder = _workspace(tmp_path / "stick", '[publisher]\nkey = "alice"\n[hosts.a]\nurl = "out"\n')
    (folder / "out").mkdir()
    monkeypatch.chdir(folder)
    code, _, err = invoke(runner, "status")
    assert code == 2 and "is not used: you never named it, as it is now, with --config" in err, err
    assert "--config" in err
    invoke(runner, "status", "--config", folder / "mirror.toml")
    code, _, err = invoke(runner, "status")
    assert "is not used" not in err, err
    # the same path with other bytes (another stick mounted there, the file rewritten): not known (helper-143)
    (folder / "mirror.toml").write_text('[publisher]\nkey = "alice"\n[hosts.a]\nurl = "elsewhere"\n')
    code, _, err = invoke(runner, "status")
    assert code == 2 and "you never named it, as it is now" in err, err
    # a stick's trackers and web seeds are not put into a torrent readers' clients will ask
    (folder / "mirror.toml").write_text('[publisher]\nkey = "alice"\ntrackers = ["http://t.example/announce"]\n')
    code, out, err = invoke(runner, "torrent", bundle, "--untrusted")
    assert "t.example" not in out and "is not used: you never named it" in err, (out, err)


def _workspace_trusting(runner: CliRunner, tmp_path: Path, sources: Path, monkeypatch: pytest.MonkeyPatch,
                        name: str) -> tuple[Path, Keyring, Path]:
    """A workspace this computer made a key in, holding `name`'s key imported as compared in person, and a bundle
    signed by mallory: the workspace, mallory's keyring and the forgery."""
    monkeypatch.delenv("MIRROR_KEYS")
    ws = _workspace(tmp_path / "ws", "[workspace]\n")
    monkeypatch.chdir(ws)
    assert invoke(runner, "keys", "new", "me", "--no-passphrase")[0] == 0
    friend = Keyring(tmp_path / "friend")
    friend.create(name, None)
    assert invoke(runner, "keys", "import", friend.folder / f"{name}.pub", "--name", name, "--checked",
                  "in-person")[0] == 0
    mallory = Keyring(tmp_path / "evil")
    mallory.create("mallory", None)
    forged = tmp_path / "forged.7z"
    create_bundle(CreateRequest(sources, forged), mallory.secret("mallory", None))
    return ws, mallory, forged


def test_a_replaced_key_is_said_to_be_replaced_and_never_imported(runner: CliRunner, tmp_path: Path, sources: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """helper-143: bob.pub swapped for mallory's key was passed over with a hint to import it again as in-person,
    which made the forgery VERIFIED as bob's; keys export and fingerprint printed the planted key."""
    ws, mallory, forged = _workspace_trusting(runner, tmp_path, sources, monkeypatch, "bob")
    shutil.copy(mallory.folder / "mallory.pub", ws / "keys" / "bob.pub")
    code, _, err = invoke(runner, "verify", forged)
    assert code == 5 and "bob.pub is not used: it now holds key" in err and "do not import it" in err, err
    assert "mirror keys import" not in err, err
    code, _, err = invoke(runner, "keys", "import", ws / "keys" / "bob.pub", "--name", "bob", "--checked", "in-person")
    assert code == 2 and "someone replaced it" in err, err
    assert invoke(runner, "verify", forged)[0] == 5
    for command in (("keys", "export", "bob"), ("keys", "fingerprint", "bob")):
        code, out, err = invoke(runner, *command)
        assert code != 0 and "is not used here" in err and mallory.get("mallory").key_id_hex not in out, (out, err)


def test_a_key_replaced_with_a_record_to_match_is_still_replaced(runner: CliRunner, tmp_path: Path, sources: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """helper-144: alice.pub and alice.trust.json both rewritten for mallory's key looked like an honest record
    passed over, and the hint to import it again as in-person made the forgery VERIFIED as alice's. This computer
    remembers which key it wrote under each name."""
    ws, mallory, forged = _workspace_trusting(runner, tmp_path, sources, monkeypatch, "alice")
    (ws / "keys" / "alice.trust.json").unlink()
    (ws / "keys" / "alice.pub").unlink()
    Keyring(ws / "keys").import_public("alice", mallory.get("mallory").public, ("author",), "in-person")
    code, _, err = invoke(runner, "verify", forged)
    assert code == 5 and "alice.pub is not used: it now holds key" in err and "mirror keys import" not in err, err
    code, _, err = invoke(runner, "keys", "import", ws / "keys" / "alice.pub", "--name", "alice", "--checked",
                          "in-person")
    assert code == 2 and "not key" in err and "that this computer recorded under that name" in err, err
    assert invoke(runner, "verify", forged)[0] == 5
    code, _, err = invoke(runner, "create", sources, "-o", tmp_path / "x.7z", "--key", "alice")
    assert code == 2, err



def test_a_relative_mirror_keys_is_refused(runner: CliRunner, bundle: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """`export MIRROR_KEYS=keys` is read in whatever folder a later command runs: a verify in a stick's folder
    trusted the keys/ the stick carried (helper-161). Refused, with how to mean the one here; --keys keys, named
    for one command, is taken."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MIRROR_KEYS", "keys")
    code, _, err = invoke(runner, "verify", bundle)
    assert code == 2 and "$MIRROR_KEYS is not an absolute path: keys" in err and 'MIRROR_KEYS="$PWD/keys"' in err
    monkeypatch.setenv("MIRROR_KEYS", "~/keys")  # quoted, the shell left it (helper-163)
    code, _, err = invoke(runner, "verify", bundle)
    assert code == 2 and 'MIRROR_KEYS="$HOME/keys"' in err, err
    monkeypatch.setenv("MIRROR_KEYS", "~bob/keys")  # another user's home: its whole path (helper-164)
    code, _, err = invoke(runner, "verify", bundle)
    assert code == 2 and "write the folder's whole path" in err and "$HOME" not in err, err
    monkeypatch.setenv("MIRROR_KEYS", "")
    assert invoke(runner, "verify", bundle, "--keys", "keys")[0] == 0


def test_a_key_file_others_may_change_is_refused_too(runner: CliRunner, bundle: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the keys folder's owner and mode were checked: alice.pub and its record made writable by everyone let
    another user put their key, "checked in person", under alice's name (helper-161)."""
    keys = tmp_path / "keys"
    (keys / "alice.pub").chmod(0o666)
    code, _, err = invoke(runner, "verify", bundle)
    assert code == 2 and "alice.pub: every user may change it" in err, err
    (keys / "alice.pub").chmod(0o644)
    assert invoke(runner, "verify", bundle)[0] == 0
    shared = tmp_path / "shared"  # a link to a file every user may write (helper-163)
    shared.mkdir()
    (keys / "alice.pub").rename(shared / "alice.pub")
    (shared / "alice.pub").chmod(0o666)
    (keys / "alice.pub").symlink_to(shared / "alice.pub")
    code, _, err = invoke(runner, "verify", bundle)
    assert code == 2 and "alice.pub: every user may change it" in err, err


def test_a_key_file_that_is_no_file_is_passed_over(runner: CliRunner, keyring: Keyring, bundle: Path,
                                                   tmp_path: Path) -> None:
    """A folder, a FIFO or a link loop planted as NAME.pub (or NAME.trust.json) in a workspace's keyring stopped
    every verdict there with exit 1 or 2, where junk in a file is passed over (helper-161); in the user's own
    keyring it is one line naming the file, exit 2."""
    import os

    keys = tmp_path / "keys"
    (keys / "folder.pub").mkdir()
    os.mkfifo(keys / "fifo.pub")
    (keys / "loop.pub").symlink_to(keys / "loop.pub")
    filtered = Keyring(keys, allowed=lambda record: True)
    assert [record.name for record in filtered] == ["alice"]
    assert {name for name, record in filtered.passed_over() if record is None} == {"fifo", "folder", "loop"}
    code, _, err = invoke(runner, "verify", bundle)
    assert code == 2 and "in the keyring is no key file" in err and "Traceback" not in err, err
    for planted in ("folder.pub", "fifo.pub", "loop.pub"):
        (keys / planted).rmdir() if (keys / planted).is_dir() else (keys / planted).unlink()
    (keys / "gone.pub").symlink_to(tmp_path / "nowhere")  # a link to nothing: named, not "no key named" (helper-165)
    code, _, err = invoke(runner, "verify", bundle)
    assert code == 2 and "key gone in the keyring is no key file (a link to nothing)" in err, err
