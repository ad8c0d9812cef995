"""`mirror keys`: new, list, export, import, fingerprint."""

from __future__ import annotations

import stat
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from conftest import invoke
from helpers import require_tool, run
from mirror.cli.keys import checked_words
from mirror.formats.minisign import PublicKeyFile
from mirror.trust.fingerprint import fingerprint
from mirror.trust.keyring import Keyring


def test_new_key_is_encrypted_with_the_passphrase(runner: CliRunner, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The secret key is sealed, mode 0600, and never contains the passphrase or the raw key."""
    monkeypatch.setenv("MIRROR_PASSPHRASE", "correct horse battery")
    code, out, err = invoke(runner, "keys", "new", "alice")
    assert code == 0, err
    assert "correct horse" not in out + err
    secret_file = tmp_path / "keys" / "alice.key"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    raw = secret_file.read_bytes()
    assert b'"kdf": "scrypt"' in raw and b"correct horse" not in raw
    ring = Keyring(tmp_path / "keys")
    assert ring.secret("alice", b"correct horse battery").public == ring.get("alice").public


def test_wrong_passphrase_gives_a_clear_error(runner: CliRunner, sources: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """create with a wrong passphrase exits 2 with one line and writes nothing."""
    monkeypatch.setenv("MIRROR_PASSPHRASE", "right tram fog lantern")
    assert invoke(runner, "keys", "new", "alice")[0] == 0
    monkeypatch.setenv("MIRROR_PASSPHRASE", "wrong tram fog lantern")
    code, out, err = invoke(runner, "create", sources, "-o", "out.7z", "--key", "alice")
    assert code == 2
    assert err.startswith("mirror: wrong passphrase for secret key alice")
    assert "wrong tram" not in out + err
    assert not Path("out.7z").exists()


def test_no_passphrase_without_terminal_is_refused(runner: CliRunner) -> None:
    """Without a terminal or MIRROR_PASSPHRASE, keys new refuses instead of storing a clear key."""
    code, _, err = invoke(runner, "keys", "new", "alice")
    assert code == 2
    assert "MIRROR_PASSPHRASE" in err


def test_list_export_and_stock_minisign_key(runner: CliRunner, keyring: Keyring, tmp_path: Path) -> None:
    """export prints a minisign public key that stock minisign accepts."""
    code, out, _ = invoke(runner, "keys", "list")
    assert code == 0 and out.startswith("alice\t") and "secret+public" in out
    code, exported, _ = invoke(runner, "keys", "export", "alice")
    assert code == 0
    public = PublicKeyFile.from_text(exported)
    assert public == keyring.get("alice").public
    assert exported.splitlines()[0] == f"untrusted comment: minisign public key {keyring.get('alice').key_id_hex}"
    minisign = require_tool("minisign")
    message = tmp_path / "msg"
    message.write_bytes(b"hello")
    (tmp_path / "msg.minisig").write_bytes(keyring.secret("alice", None).sign(b"hello", "t").to_bytes())
    (tmp_path / "alice.pub").write_text(exported)
    assert run(minisign, "-Vm", message, "-p", tmp_path / "alice.pub").returncode == 0


def test_import_checks_fingerprint_and_records_how(runner: CliRunner, keyring: Keyring, tmp_path: Path) -> None:
    """A matching fingerprint is recorded; a wrong one is refused and nothing is imported."""
    other = Keyring(tmp_path / "bob-keys")
    other.create("bob", None)
    pub = tmp_path / "bob.pub"
    pub.write_text(other.get("bob").public.to_text())
    digits = fingerprint(other.get("bob").public)
    wrong = ("1" if digits[0] != "1" else "2") + digits[1:]
    code, _, err = invoke(runner, "keys", "import", pub, "--name", "bob", "--fingerprint", wrong)
    assert code == 2 and "not the one you gave" in err
    assert digits not in err and digits.replace(" ", "") not in err  # never shown, to be pasted back
    code, _, err = invoke(runner, "keys", "import", pub, "--name", "bob", "--fingerprint", digits[:23])
    assert code == 2 and "a fingerprint is 40 digits; you gave 20 digits and 0 other characters" in err
    code, _, err = invoke(runner, "keys", "import", pub, "--name", "bob", "--fingerprint", "DIGITS THE AUTHOR GAVE")
    assert code == 2 and "you gave 0 digits" in err
    assert "bob" not in keyring.names()
    dashed = digits.replace(" ", "-")  # how some people write groups; also dots and no-break spaces
    code, out, _ = invoke(runner, "keys", "import", pub, "--name", "bob", "--fingerprint", dashed, "--keys",
                          tmp_path / "dashed")
    assert code == 0 and "compared by its fingerprint" in out
    for other in ("\uff10", "\u0660"):  # typed on a full-width (CJK) or an Arabic keyboard (helper-121)
        written = "".join(chr(ord(other) + int(c)) if c.isdigit() else c for c in digits)
        code, out, err = invoke(runner, "keys", "import", pub, "--name", "bob", "--fingerprint", written, "--keys",
                                tmp_path / f"digits{ord(other)}")
        assert code == 0 and "compared by its fingerprint" in out, err
    code, out, _ = invoke(runner, "keys", "import", pub, "--name", "bob", "--fingerprint", digits)
    assert code == 0 and "compared by its fingerprint" in out
    record = keyring.get("bob")
    assert (record.roles, record.checked, record.has_secret) == (("author",), "fingerprint", False)
    code, _, err = invoke(runner, "keys", "import", pub, "--name", "pub2", "--role", "publisher", "--checked", "phone")
    assert code == 0 and keyring.get("pub2").roles == ("publisher",)


def test_import_refuses_garbage_and_name_escape(runner: CliRunner, keyring: Keyring, tmp_path: Path) -> None:
    """Not-a-key files and path-like names give exit 2, one line each."""
    junk = tmp_path / "junk.pub"
    junk.write_bytes(b"\x00\xffnot a key")
    assert invoke(runner, "keys", "import", junk, "--name", "x")[0] == 2
    good = tmp_path / "a.pub"
    good.write_text(keyring.get("alice").public.to_text())
    code, _, err = invoke(runner, "keys", "import", good, "--name", "../evil")
    assert code == 2 and "bad key name" in err
    assert not (tmp_path / "evil.pub").exists()
    secret = keyring.folder / "alice.key"  # given by mistake for the .pub beside it: said so, and nothing of it shown
    code, out, err = invoke(runner, "keys", "import", secret, "--name", "x")
    assert code == 2 and "is a secret key, not a public one" in err and "import the .pub file" in err, err
    assert secret.read_text()[40:80] not in out + err
    stock = tmp_path / "minisign.key"
    stock.write_text("untrusted comment: minisign encrypted secret key\nRWRTY0IyAAAA\n")
    assert "is a secret key" in invoke(runner, "keys", "import", stock, "--name", "y")[2]
    commented = tmp_path / "bob.pub"  # a public key whose comment names a secret key is still a public key
    key_line = keyring.get("alice").public.to_text().splitlines()[1]
    commented.write_text(f"untrusted comment: Bob's public key - his secret key stays offline\n{key_line}\n")
    code, _, err = invoke(runner, "keys", "import", commented, "--name", "bob", "--checked", "first-use")
    assert "secret key" not in err, err


def test_fingerprint_shows_digits_and_writes_qr(runner: CliRunner, keyring: Keyring, tmp_path: Path) -> None:
    """40 digits in groups of 5, a terminal QR code, and a PNG image."""
    png = tmp_path / "alice.png"
    code, out, _ = invoke(runner, "keys", "fingerprint", "alice", "--png", png)
    assert code == 0
    digits = fingerprint(keyring.get("alice").public)
    groups = digits.split()
    assert len(groups) == 8 and all(len(g) == 5 and g.isdigit() for g in groups)
    assert (digits in out and "\u2580" in out) or "\u2588" in out
    with Image.open(png) as image:
        assert image.format == "PNG" and image.size[0] > 100
    bundle = tmp_path / "almaty.7z"
    bundle.write_bytes(b"7z\xbc\xaf\x27\x1c a bundle")
    for target in (png, bundle, tmp_path / "almaty"):  # an existing file, or one not named .png: never replaced
        code, _, err = invoke(runner, "keys", "fingerprint", "alice", "--png", target)
        assert code == 2 and ("already exists" in err or "must end in .png" in err), err
    assert bundle.read_bytes() == b"7z\xbc\xaf\x27\x1c a bundle"
    assert invoke(runner, "keys", "fingerprint", "alice", "--png", png, "--force")[0] == 0
    before = sorted(p.name for p in keyring.folder.iterdir())
    code, out, _ = invoke(runner, "keys", "fingerprint", "alice")  # no --png: no file (one was written into the
    assert code == 0 and digits in out and sorted(p.name for p in keyring.folder.iterdir()) == before  # keyring)


@pytest.mark.parametrize(("before", "after"), [
    ("in-person", "first-use"), ("phone", "unchecked"), ("first-use", "unchecked"), ("qr", "first-use"),
])
def test_import_again_never_lowers_how_a_key_was_checked_unless_forced(runner: CliRunner, keyring: Keyring,
                                                                      tmp_path: Path, before: str,
                                                                      after: str) -> None:
    """The same key under the same name, checked less carefully than before: refused, the record unchanged;
    with --force it is recorded, and the output says what changed."""
    other = Keyring(tmp_path / "bob-keys")
    other.create("bob", None)
    pub = tmp_path / "bob.pub"
    pub.write_text(other.get("bob").public.to_text())
    assert invoke(runner, "keys", "import", pub, "--name", "bob", "--checked", before)[0] == 0
    trust = (keyring.folder / "bob.trust.json").read_bytes()
    code, out, err = invoke(runner, "keys", "import", pub, "--name", "bob", "--checked", after)
    assert (code, out) == (2, "")
    assert f"bob is already in your keyring, checked: {before}" in err and "--force" in err
    assert (keyring.folder / "bob.trust.json").read_bytes() == trust
    code, out, _ = invoke(runner, "keys", "import", pub, "--name", "bob", "--checked", after, "--force")
    assert code == 0 and f"bob was: {checked_words(before)}; now: {checked_words(after)}" in out
    assert keyring.get("bob").checked == after


def test_import_again_may_raise_the_check_and_says_so(runner: CliRunner, keyring: Keyring, tmp_path: Path) -> None:
    """first-use, then the fingerprint compared: recorded without --force, and the change is named. Your own key
    is never recorded as someone else's without --force."""
    other = Keyring(tmp_path / "bob-keys")
    other.create("bob", None)
    pub = tmp_path / "bob.pub"
    pub.write_text(other.get("bob").public.to_text())
    assert invoke(runner, "keys", "import", pub, "--name", "bob", "--checked", "first-use")[0] == 0
    code, out, _ = invoke(runner, "keys", "import", pub, "--name", "bob",
                          "--fingerprint", fingerprint(other.get("bob").public))
    assert code == 0 and "bob was: trusted on first use, never compared; now: compared by its fingerprint" in out
    own = tmp_path / "alice.pub"
    own.write_text(keyring.get("alice").public.to_text())
    code, _, err = invoke(runner, "keys", "import", own, "--name", "alice", "--checked", "in-person")
    assert code == 2 and "checked: own" in err and keyring.get("alice").checked == "own"


def test_one_key_under_two_names_is_said_and_the_surer_check_counts(runner: CliRunner, keyring: Keyring,
                                                                    bundle: Path, tmp_path: Path) -> None:
    """Importing a key already held under another name warns; a verdict names the record checked in person, not
    the one trusted on first use, whichever name sorts first."""
    pub = tmp_path / "alice.pub"
    pub.write_text(keyring.get("alice").public.to_text())
    reader = tmp_path / "reader"
    code, _, _ = invoke(runner, "keys", "import", pub, "--name", "a-first", "--checked", "first-use", "--keys", reader)
    assert code == 0
    code, _, err = invoke(runner, "keys", "import", pub, "--name", "b-met", "--checked", "in-person", "--keys", reader)
    assert code == 0 and "the same key is in your keyring as a-first too (checked: first-use)" in err, err
    code, out, _ = invoke(runner, "verify", bundle, "--keys", reader)
    assert code == 0 and "signed by    b-met" in out and "never compared" not in out, out


@pytest.mark.parametrize("name", ["Айгуль", "айгүл-2022", "Бота.Қ"])
def test_a_key_may_be_named_in_the_readers_own_letters(runner: CliRunner, keyring: Keyring, tmp_path: Path,
                                                       name: str) -> None:
    """The Russian and Kazakh hints say `--name ИМЯ` / `АТЫ`, and a reader types a name in their own script: it was
    refused (Latin only), after the 40 digits had been typed and matched."""
    good = tmp_path / "a.pub"
    good.write_text(keyring.get("alice").public.to_text())
    code, _, err = invoke(runner, "keys", "import", good, "--name", name, "--checked", "phone")
    assert code == 0, err
    assert name in keyring.names() and keyring.get(name).public == keyring.get("alice").public


def test_a_key_named_in_cyrillic_is_listed_where_the_disk_gives_names_back_decomposed(keyring: Keyring) -> None:
    """A Mac's HFS+ gives file names back in NFD: "Алексей" came back with a combining breve and was dropped from
    the list (and the keyring). (This file system opens a name only as written, HFS+ either way: only the listing
    is shown here.)"""
    keyring.import_public("Алексей", keyring.get("alice").public, ("author",), "phone", False)
    for path in keyring.folder.glob("Алексей.*"):
        path.rename(path.with_name(unicodedata.normalize("NFD", path.name)))
    assert "Алексей" in keyring.names()


def test_a_bad_name_is_refused_before_the_digits_are_compared(runner: CliRunner, keyring: Keyring,
                                                              tmp_path: Path) -> None:
    good = tmp_path / "a.pub"
    good.write_text(keyring.get("alice").public.to_text())
    for bad in ("../x", "a b", "_x", "x\u202e", "e\u0301",  # NFD: the same letters could name two keys
                "\U0001d41a\U0001d425\U0001d422\U0001d41c\U0001d41e",  # bold math letters: alice to the eye
                "\U00020000" * 60):  # 240 bytes: no room for the suffixes in a file name
        code, _, err = invoke(runner, "keys", "import", good, "--name", bad, "--fingerprint", "1" * 40)
        assert code == 2 and "bad key name" in err and "fingerprint" not in err, (bad, err)


def test_an_empty_keys_folder_is_a_usage_error_never_the_current_folder(runner: CliRunner, keyring: Keyring,
                                                                         sources: Path, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """`--keys "$KEYS"` with KEYS unset made the current folder the keyring: a key planted beside a forged bundle
    (a stick handed over) made it VERIFIED, and `keys new` wrote a secret key there (helper-121)."""
    bundle = tmp_path / "b.7z"
    assert invoke(runner, "create", sources, "-o", bundle, "--key", "alice")[0] == 0
    stick = tmp_path / "stick"
    stick.mkdir()
    for name in ("alice.pub", "alice.trust.json"):
        (stick / name).write_bytes((keyring.folder / name).read_bytes())
    monkeypatch.chdir(stick)
    for args in (("verify", bundle, "--keys", ""), ("verify", bundle, "--keys", " "),
                 ("keys", "new", "x", "--keys", "")):
        code, out, err = invoke(runner, *args)
        assert code == 2 and "an empty path: name the keys folder" in err and "VERIFIED" not in out, (args, out, err)
    assert sorted(p.name for p in stick.iterdir()) == ["alice.pub", "alice.trust.json"]


def test_a_closed_standard_input_is_said_not_a_crash(tmp_path: Path) -> None:
    """With standard input closed (`<&-`, some service managers), `keys import -` and a passphrase prompt ended in
    "internal error: AttributeError" (helper-121)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "MIRROR_PASSPHRASE"}
    for args, says in ((["keys", "import", "-", "--name", "a"], "standard input is closed"),
                       (["keys", "new", "b"], "a passphrase is needed for key b")):
        done = subprocess.run([sys.executable, "-m", "mirror", *args, "--keys", str(tmp_path / "k")], env=env,
                              capture_output=True, text=True, timeout=60, check=False,
                              preexec_fn=lambda: os.close(0))
        assert done.returncode == 2 and says in done.stderr and "internal error" not in done.stderr, done


def test_a_new_keys_folder_is_private_and_keeps_secret_keys_out_of_git(tmp_path: Path) -> None:
    """A workspace's keys/ is often a repository's: a secret key made there could be committed with the public
    ones (helper-141). The folder mirror makes is its owner's alone, and says to git to leave *.key out."""
    from mirror.trust.keyring import Keyring

    keyring = Keyring(tmp_path / "ws" / "keys")
    keyring.create("author1", None)
    assert stat.S_IMODE(keyring.folder.stat().st_mode) == 0o700
    assert {"*.key", "*.mirror-tmp"} <= set((keyring.folder / ".gitignore").read_text().splitlines())
    (keyring.folder / ".gitignore").write_text("mine\n")
    keyring.create("author2", None)  # one the user wrote stays as it is
    assert (keyring.folder / ".gitignore").read_text() == "mine\n"
    # an earlier version's lacked the half-written key a killed `keys new` leaves (helper-161): brought up to date
    (keyring.folder / ".gitignore").write_text("# secret keys never leave this computer\n*.key\n")
    keyring.create("author3", None)
    assert "*.mirror-tmp" in (keyring.folder / ".gitignore").read_text().splitlines()


def test_a_key_pair_is_made_whole_or_not_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A disk that filled after the secret key was written left it without its public half: the name was taken
    ("already exists") yet no key could be listed or used. A failed import left its public key behind, and verify
    trusted it. Two `keys new` at once both said "created", and one key was lost (helper-121)."""
    from mirror.safeio import atomic_write
    from mirror.trust import keyring as module
    from mirror.trust.keyring import Keyring

    keyring = Keyring(tmp_path / "keys")
    public = Keyring(tmp_path / "other").create("friend", None).public

    def full(path: Path, data: bytes, mode: int = 0o644, *, overwrite: bool = True) -> None:
        if path.suffix == ".pub":
            raise OSError(28, "No space left on device", str(path))
        atomic_write(path, data, mode, overwrite=overwrite)

    monkeypatch.setattr(module, "atomic_write", full)
    with pytest.raises(OSError):
        keyring.create("pk", None)
    with pytest.raises(OSError):
        keyring.import_public("friend", public, ("author",), "in-person")
    assert [p.name for p in keyring.folder.iterdir()] == [".gitignore"]  # no key, nor half of one
    monkeypatch.undo()
    keyring.import_public("friend", public, ("author",), "first-use")
    monkeypatch.setattr(module, "atomic_write", full)  # imported again, as a publisher checked in person: its
    keyring.import_public("friend", public, ("author", "publisher"), "in-person")  # public half is not written
    monkeypatch.undo()  # again (a failure there kept the new record: helper-124, helper-125)
    record = keyring.get("friend")
    assert (record.roles, record.checked) == (("author", "publisher"), "in-person")
    (keyring.folder / "friend.pub").unlink()
    (keyring.folder / "friend.trust.json").unlink()
    assert keyring.create("pk", None).name == "pk"
    from mirror.errors import KeyringError
    from mirror.trust.keys import SecretKey

    made = SecretKey.generate

    def another_run_first() -> SecretKey:  # the other `keys new race` saves its key while this one derives
        (keyring.folder / "race.key").write_bytes(b"the other run's key")
        return made()

    monkeypatch.setattr(SecretKey, "generate", staticmethod(another_run_first))
    with pytest.raises(KeyringError, match="already exists"):
        keyring.create("race", None)
    assert (keyring.folder / "race.key").read_bytes() == b"the other run's key"
    assert not (keyring.folder / "race.pub").exists()


def test_a_damaged_file_in_the_keyring_is_named_with_its_fix(runner: CliRunner, keyring: Keyring, sources: Path,
                                                            tmp_path: Path) -> None:
    """A stray junk.pub in the keyring stopped every verify with "key junk is not valid base64": no file, no fix
    (helper-121). It is named, with the fix; nothing is trusted meanwhile."""
    bundle = tmp_path / "b.7z"
    assert invoke(runner, "create", sources, "-o", bundle, "--key", "alice")[0] == 0
    (keyring.folder / "junk.pub").write_text("untrusted comment: x\nnot base64 at all!\n")
    code, out, err = invoke(runner, "verify", bundle)
    assert code == 2 and "VERIFIED" not in out and str(keyring.folder / "junk.pub") in err, (out, err)
    assert "(key junk in the keyring is damaged)" in err


def test_a_folder_that_takes_no_file_is_said_of_the_file_asked_for(runner: CliRunner, keyring: Keyring,
                                                                   tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A read-only keyring or a full disk was said of a temporary name (".bob.pub.x1y2.mirror-tmp: Read-only file
    system"): it is said of the file asked for (helper-121)."""
    import tempfile

    pub = tmp_path / "bob.pub"
    Keyring(tmp_path / "other").create("bob", None)
    pub.write_bytes((tmp_path / "other" / "bob.pub").read_bytes())

    def read_only(*args: object, **kwargs: object) -> tuple[int, str]:
        raise OSError(30, "Read-only file system", str(keyring.folder / ".bob.pub.x1y2.mirror-tmp"))

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    code, _, err = invoke(runner, "keys", "import", pub, "--name", "bob", "--checked", "in-person")
    assert code != 0 and "mirror-tmp" not in err and "Read-only file system" in err, err
    assert "bob" in err and "Traceback" not in err


def test_a_trust_record_vouches_only_for_its_own_key(tmp_path: Path) -> None:
    """A NAME.pub copied over by hand (or written by a second import at once) kept the old key's record: a key
    taken on first use could inherit "in-person". The record names its key; another key under it is trusted for
    nothing."""
    from mirror.trust.keyring import Keyring

    keyring = Keyring(tmp_path / "keys")
    checked = Keyring(tmp_path / "a").create("alice", None).public
    keyring.import_public("alice", checked, ("author",), "in-person")
    other = Keyring(tmp_path / "b").create("mallory", None).public
    (keyring.folder / "alice.pub").write_text(other.to_text())
    record = keyring.get("alice")
    assert record.public == other and record.roles == () and record.checked == "unchecked"
    assert keyring.snapshot().holds(other, "author") is None


def test_a_name_that_differs_only_by_case_is_refused(tmp_path: Path) -> None:
    """Alice beside alice: a verdict names the key, and a FAT stick or a Mac would give both the same files."""
    from mirror.errors import KeyringError
    from mirror.trust.keyring import Keyring

    keyring = Keyring(tmp_path / "keys")
    keyring.create("alice", None)
    other = Keyring(tmp_path / "b").create("x", None).public
    with pytest.raises(KeyringError, match=r"a key named alice is already in .*; Alice differs only by case"):
        keyring.import_public("Alice", other, ("author",), "in-person")
    with pytest.raises(KeyringError, match="differs only by case"):
        keyring.create("ALICE", None)
    keyring.import_public("алиса", other, ("author",), "in-person")  # another name, in another script


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-be"])
def test_a_key_file_saved_with_a_byte_order_mark_is_read(encoding: str, runner: CliRunner, tmp_path: Path) -> None:
    """Windows Notepad saves UTF-8 with a BOM before the comment line, or UTF-16 ("Unicode"): the key was "not a
    minisign public key" (UTF-16: helper-148)."""
    from mirror.trust.keyring import Keyring

    public = Keyring(tmp_path / "a").create("alice", None).public
    marked = tmp_path / "alice.pub"
    text = public.to_text().replace("\n", "\r\n")
    marked.write_bytes(("\ufeff" + text).encode(encoding) if encoding == "utf-16-be" else text.encode(encoding))
    code, out, err = invoke(runner, "keys", "import", marked, "--name", "alice", "--checked", "in-person",
                            "--keys", tmp_path / "reader")
    assert code == 0 and "imported alice" in out, (out, err)


def test_export_and_fingerprint_with_stdout_closed(keyring: Keyring) -> None:
    """`mirror keys export alice >&-` exited 0 though the key went nowhere; `keys fingerprint alice >&-` ended in
    "internal error: AttributeError" (its QR code asked the closed stdout for its encoding; helper-148)."""
    import os
    import subprocess
    import sys

    command = [str(Path(sys.executable).with_name("mirror")), "keys"]
    env = {**os.environ, "MIRROR_LANG": "en"}
    for args, code, said in ((["export", "alice"], 1, "standard output is closed"),
                             (["fingerprint", "alice"], 0, "")):
        done = subprocess.run([*command, *args, "--keys", str(keyring.folder)], stderr=subprocess.PIPE, text=True,
                              env=env, timeout=60, check=False, preexec_fn=lambda: os.close(1))
        assert done.returncode == code and said in done.stderr and "internal error" not in done.stderr, done.stderr


def test_a_key_put_in_place_while_the_passphrase_is_asked_is_not_used(tmp_path: Path) -> None:
    """Another program swapped NAME.key and NAME.pub for a key of its own, with no passphrase, while the prompt
    waited: that key signed, and was then "your own key" (helper-161). What is unlocked is the file read before
    the prompt, and a pair that changed meanwhile is refused."""
    from mirror.errors import KeyringError

    ring = Keyring(tmp_path / "keys")
    ring.create("me", b"tram fog lantern quietly")
    other = Keyring(tmp_path / "other")
    other.create("me", None)

    def swap_then_answer(name: str) -> bytes:
        for suffix in (".key", ".pub", ".trust.json"):
            source = other.folder / f"me{suffix}"
            if source.exists():
                (ring.folder / f"me{suffix}").write_bytes(source.read_bytes())
        return b"tram fog lantern quietly"

    mine = ring.get("me").public
    with pytest.raises(KeyringError, match="does not match"):
        ring.unlock("me", swap_then_answer)
    (tmp_path / "keys2").mkdir()
    ring2 = Keyring(tmp_path / "keys2")
    ring2.create("me", b"tram fog lantern quietly")

    def swap_secret_only(name: str) -> bytes:  # the .pub stays: the key read before the prompt is the one unlocked
        (ring2.folder / "me.key").write_bytes((other.folder / "me.key").read_bytes())
        return b"tram fog lantern quietly"

    kept = ring2.get("me").public
    assert ring2.unlock("me", swap_secret_only).public == kept != mine


@pytest.mark.parametrize("change", [{"n": -2}, {"n": 2**20}, {"n": 3 * 2**15}, {"n": 2**17 + 0.0}, {"r": 8.0},
                                    {"p": True}, {"n": "131072"}, {"n": 2**64}])
def test_scrypt_settings_a_key_file_asks_for_are_bounded(change: dict[str, object], tmp_path: Path) -> None:
    """A key file's scrypt settings came from the file: n=-2 was an internal error (OverflowError), 2^20 took
    1 GiB, and r=8.0 or p=true were taken (helper-161). Exact integers, n a power of two up to twice the cost
    mirror writes, r=8 and p=1; anything else is a damaged key, said as such."""
    import json

    from mirror.errors import KeyringError
    from mirror.trust.keys import SecretKey

    sealed = json.loads(SecretKey.generate().seal(b"tram fog lantern quietly"))
    with pytest.raises(KeyringError, match="unsupported scrypt settings"):
        SecretKey.unseal(json.dumps({**sealed, **change}).encode(), b"tram fog lantern quietly", "alice")


def test_a_key_signs_only_what_its_role_is_for(runner: CliRunner, keyring: Keyring, sources: Path,
                                              tmp_path: Path) -> None:
    """A key made for publishing only signed a bundle, which its own author's verify then called "UNKNOWN SIGNER,
    publisher only" (helper-161): create refuses it before any work, naming the role it lacks."""
    keyring.create("ponly", None, roles=("publisher",))
    code, _, err = invoke(runner, "create", sources, "-o", tmp_path / "b.7z", "--key", "ponly")
    assert code == 2 and "the key ponly is recorded as publisher, not as author" in err, err
    assert not (tmp_path / "b.7z").exists()
    assert invoke(runner, "create", sources, "-o", tmp_path / "b.7z", "--key", "alice")[0] == 0
    keyring.create("aonly", None, roles=("author",))  # and publish's dry run fails where the run would (helper-163)
    (tmp_path / "host").mkdir()
    config = tmp_path / "mirror.toml"
    config.write_text(f'[publisher]\nkey = "aonly"\n\n[hosts.usb]\nurl = "{tmp_path / "host"}"\n')
    for dry in (("--dry-run",), ()):
        code, _, err = invoke(runner, "publish", tmp_path / "b.7z", "--config", config, *dry)
        assert code == 2 and "the key aonly is recorded as author, not as publisher" in err, (dry, err)


def test_a_keyring_copied_through_a_mac_finds_its_decomposed_names(keyring: Keyring, tmp_path: Path) -> None:
    """HFS+ stores names decomposed (NFD): `keys list` and every verify then said "no key named айгүлй", since the
    names were read composed and their files opened so (helper-161)."""
    name = "айгүлй"
    from mirror.trust.keys import SecretKey

    keyring.import_public(name, SecretKey.generate().public, ("author",), "in-person")
    for suffix in (".pub", ".trust.json"):
        composed = keyring.folder / f"{name}{suffix}"
        composed.rename(keyring.folder / f"{unicodedata.normalize('NFD', name)}{suffix}")
    record = Keyring(keyring.folder).get(name)
    assert record.name == name and record.checked == "in-person"


def test_an_import_beside_a_damaged_key_file_says_it_is_done(runner: CliRunner, keyring: Keyring,
                                                             tmp_path: Path) -> None:
    """`keys import` printed "imported al" and then exited 2 on another key's junk file: a script took the import
    for failed (helper-161)."""
    from mirror.trust.keys import SecretKey

    (keyring.folder / "junk.pub").write_text("junk\n")
    pub = tmp_path / "bob.pub"
    pub.write_text(SecretKey.generate().public.to_text())
    code, out, err = invoke(runner, "keys", "import", pub, "--name", "bob")
    assert code == 0 and "imported bob" in out, (out, err)


def test_a_secret_key_without_its_public_half_is_said_and_never_paired_with_another(
        runner: CliRunner, keyring: Keyring, tmp_path: Path) -> None:
    """`keys new` killed between its two files left NAME.key alone: `keys new NAME` said "already exists" with no
    hint, and `keys import OTHER.pub --name NAME` paired someone else's key with this secret one (helper-161)."""
    from mirror.errors import KeyringError
    from mirror.trust.keys import SecretKey

    own = keyring.create("zed", None).public
    (keyring.folder / "zed.pub").unlink()
    (keyring.folder / "zed.trust.json").unlink()
    code, _, err = invoke(runner, "keys", "new", "zed", "--no-passphrase")
    assert code == 2 and "without its public key (a `keys new` that was stopped)" in err, err
    with pytest.raises(KeyringError, match="this is not its public key"):
        keyring.import_public("zed", SecretKey.generate().public, ("author",), "in-person")
    assert keyring.import_public("zed", own, ("author",), "in-person").has_secret


@pytest.mark.parametrize("name", ["alice.trust.json", "alice.key"])
def test_a_keyring_file_nested_deeper_than_json_goes_is_said_damaged(runner: CliRunner, keyring: Keyring,
                                                                      bundle: Path, name: str) -> None:
    """A trust record (or a secret key file) of [[[[... 60,000 deep, within the 64 KB a key file may have: every
    verify with that keyring, and keys list, stopped on an internal error (RecursionError, exit 1)."""
    (keyring.folder / name).write_bytes(b"[" * 60_000)
    for args in (("verify", bundle), ("keys", "list")):
        code, out, err = invoke(runner, *args, "--keys", keyring.folder)
        assert code != 1 and "internal error" not in err, (args, code, out, err)
