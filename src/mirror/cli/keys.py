"""`mirror keys`: make, list, export, import and show keys.

Example::

    $ mirror keys new alice
    $ mirror keys list --json
    $ mirror keys import alice.pub --name alice --fingerprint '12345 67890 ...'
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from mirror.cli.app import main
from mirror.cli.common import (
    PASSPHRASE_ATTEMPTS,
    ask_passphrase,
    at_terminal,
    chosen_keyring,
    dump_json,
    echo,
    given_path,
    json_option,
    keys_option,
    open_keyring,
    recorded_here,
    remember_workspace,
    say,
    terminal_encoding,
    warn,
)
from mirror.errors import ConfigError, KeyringError, MirrorError

if TYPE_CHECKING:
    from mirror.bundle.verify import VerifiedBundle
    from mirror.formats.minisign import PublicKeyFile
    from mirror.trust.keyring import Keyring
    from mirror.trust.keyset import KeyRecord

ROLE_CHOICE = click.Choice(["author", "publisher"])
CHECKED_CHOICE = click.Choice(["in-person", "qr", "phone", "first-use", "unchecked"])


@main.group()
def keys() -> None:
    """Make, list, export and import keys."""


def _new_passphrase(name: str, weak: bool) -> bytes:
    """A passphrase for a new key, strong enough unless `weak`; at a terminal, weak ones may be typed again.

    Raises:
        KeyringError: the passphrase is too weak (after the last attempt at a terminal).
    """
    from mirror.trust.passphrase import passphrase_problem

    for attempt in range(PASSPHRASE_ATTEMPTS if at_terminal() else 1, 0, -1):
        passphrase = ask_passphrase(name, confirm=True)
        problem = None if weak else passphrase_problem(passphrase, [name])
        if problem is None:
            return passphrase
        if attempt > 1:
            warn(f"too weak: {problem}; choose another")
    raise KeyringError(f"the passphrase is too weak: {problem}",
                       hint="use four or more words that do not form a phrase, in any language; "
                            "--weak-passphrase accepts it anyway")


@keys.command("new")
@click.argument("name")
@click.option("--no-passphrase", is_flag=True, help="store the secret key unencrypted (not recommended)")
@click.option("--weak-passphrase", is_flag=True, help="accept a passphrase that is easy to guess (not recommended)")
@click.option("--role", "roles", multiple=True, type=ROLE_CHOICE, help="what the key signs (default: both)")
@keys_option
def keys_new(name: str, no_passphrase: bool, weak_passphrase: bool, roles: tuple[str, ...],
             keys_dir: Path | None) -> None:
    """Create the Ed25519 key pair NAME; the secret key is encrypted with a strong passphrase."""
    from mirror.trust.fingerprint import fingerprint
    from mirror.trust.keyring import check_name
    from mirror.trust.keyset import ROLES

    ring = open_keyring(keys_dir, own=True)
    check_name(name)
    passphrase = None if no_passphrase else _new_passphrase(name, weak_passphrase)
    record = ring.create(name, passphrase, tuple(r for r in ROLES if r in roles) or ROLES)
    remember_workspace([record])  # a key made here: its keyring decides this user's verdicts from now on
    say(f"created key {name} ({record.key_id_hex}) in {ring.folder}")
    say(f"fingerprint: {fingerprint(record.public)}")
    if no_passphrase:
        warn("warning: the secret key is not encrypted; anyone with this disk can sign as you")


@keys.command("list")
@json_option
@keys_option
def keys_list(as_json: bool, keys_dir: Path | None) -> None:
    """List the keys in the keyring, and say which keyring that is."""
    from mirror.trust.fingerprint import fingerprint

    records = list(open_keyring(keys_dir))
    folder, source = chosen_keyring()
    if as_json:
        dump_json({"keyring": str(folder), "chosen_by": source, "keys": [
            {"name": r.name, "key_id": r.key_id_hex, "fingerprint": fingerprint(r.public), "roles": list(r.roles),
             "secret": r.has_secret, "checked": r.checked, "added": r.added} for r in records]})
        return
    warn(f"keyring {folder} (chosen by {source})")
    if not records:
        warn("no keys in it")
    for record in records:
        secret = "secret+public" if record.has_secret else "public"
        what = checked_words(record.checked)
        say(f"{record.name}\t{record.key_id_hex}\t{','.join(record.roles)}\t{secret}\tchecked: {what}")


@keys.command("export")
@click.argument("name")
@keys_option
def keys_export(name: str, keys_dir: Path | None) -> None:
    """Print the public key NAME in minisign format."""
    text = _counted(open_keyring(keys_dir), name).public.to_text()
    if sys.stdout is None:  # `>&-`: the key went nowhere, and exit 0 said it was given (helper-148)
        raise MirrorError("standard output is closed: the key was not printed",
                          hint="mirror keys export NAME > NAME.pub")
    echo(text, nl=False)


def _counted(ring: Keyring, name: str) -> KeyRecord:
    """The record of key `name`, if it counts here: a key passed over in a workspace (planted, or replaced) is not
    passed on by export, nor its fingerprint read out to readers.

    Raises:
        KeyringError: no such key, or it is passed over.
    """
    record = ring.get(name)
    if ring.allowed is not None and not ring.allowed(record):
        raise KeyringError(f"key {name} in {ring.folder} is not used here: this computer did not make or import it "
                           "there as it is now", hint="see the warning above; import the key its owner gave you")
    return record


# How a key was checked (trust/keyset.py's Checked), in words a reader understands: the values themselves are
# --checked's, and stay so in --json.
_CHECKED_WORDS = {"own": "your own key", "in-person": "compared in person", "qr": "compared by its QR code",
                  "phone": "compared by phone", "fingerprint": "compared by its fingerprint",
                  "first-use": "trusted on first use, never compared", "unchecked": "never compared with its owner"}


def checked_words(checked: str) -> str:
    """How a key was checked, in words."""
    return _CHECKED_WORDS.get(checked, checked)


MAX_KEY_TEXT = 4096  # a key file is about 100 bytes; more on standard input is not a key


def _read_key(file: Path) -> tuple[PublicKeyFile, VerifiedBundle | None]:
    """The public key in FILE: a key file, a bare key line (the QR code's), standard input, or a bundle.

    From a bundle, the key is its signer's, and only once the bundle verified (with nobody trusted).

    Raises:
        KeyringError: not a key, or a bundle given on standard input.
        VerificationError: a bundle that must not be trusted: no key is taken from it.
    """
    from mirror.bundle.verify import verify_bundle
    from mirror.formats.minisign import PublicKeyFile
    from mirror.safeio import open_regular
    from mirror.sevenzip.model import MAGIC
    from mirror.sevenzip.reader import other_archive
    from mirror.sevenzip.volumes import is_volume

    if str(file) == "-":
        if sys.stdin is None:  # closed (`<&-`): nothing to read
            raise KeyringError("standard input is closed", hint="paste the key there, or name the key's file")
        raw = sys.stdin.buffer.read(MAX_KEY_TEXT + 1)
        if raw.startswith(MAGIC):
            raise KeyringError("a bundle cannot be read from standard input", hint="name the bundle's file")
        return PublicKeyFile.from_text(_key_text(raw[:MAX_KEY_TEXT]), "standard input"), None
    with open_regular(file) as handle:  # a FIFO or device is refused before it is opened
        raw = handle.read(MAX_KEY_TEXT)
    # A bundle as it travels is a 7z archive, or a volume of a set of them, or a copy another tool wrapped (a
    # messenger's zip, a gzip, a self-extracting program): verify says which, and what to do (each was "not a
    # minisign public key")
    if raw.startswith(MAGIC) or is_volume(file.name) or other_archive(raw) is not None:
        verified = verify_bundle(file, None, parts=True, volumes=True)  # trusts nobody; a part or volumes too
        return verified.public, verified
    return PublicKeyFile.from_text(_key_text(raw), str(file)), None


def _key_text(raw: bytes) -> str:
    """A key file's text: UTF-8, or UTF-16 with its byte order mark (Windows Notepad's "Unicode", as create reads
    texts; it was "not a minisign public key", helper-148)."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", "replace")
    return raw.decode("utf-8", "replace")


def _from_a_bundle(file: Path) -> bool:
    """Whether FILE is the signer's key of an unpacked bundle: an author.pub beside the signed list (in .mirror/,
    or at the top of a bundle of format 1)."""
    from mirror.formats.manifest import AUTHOR_KEY_NAME, SUMS_NAME

    return str(file) != "-" and file.name == AUTHOR_KEY_NAME and (file.parent / SUMS_NAME).exists()


@keys.command("import")
@click.argument("file", type=given_path(exists=True, dir_okay=False, allow_dash=True, path_type=Path))
@click.option("--name", required=True, help="your name for this key")
@click.option("--role", "roles", multiple=True, type=ROLE_CHOICE, help="what you trust it to sign (default: author)")
@click.option("--checked", type=CHECKED_CHOICE, default=None, help="how you checked the key belongs to its owner")
@click.option("--fingerprint", "expected", help="the fingerprint digits the owner gave you; must match")
@click.option("--force", is_flag=True, help="record the key even if that lowers how it was checked before")
@keys_option
def keys_import(file: Path, name: str, roles: tuple[str, ...], checked: str | None, expected: str | None,
                force: bool, keys_dir: Path | None) -> None:
    """Add a public key to the keyring as NAME.

    FILE is a key file, a file holding a bare key line (what the author's QR code holds), - for standard input,
    or a bundle (BUNDLE.7z): then the key is the one that signed it, taken only when its signature verifies, and
    only with --fingerprint (the digits the author gave you) or --checked first-use.
    """
    from mirror.trust.fingerprint import FINGERPRINT_DIGITS, fingerprint, same_fingerprint, typed_digits
    from mirror.trust.keyring import check_name
    from mirror.trust.keyset import CHECKS, ROLES, Checked

    check_name(name)  # before the bundle is verified or the digits compared: they were typed for nothing otherwise
    public, bundle = _read_key(file)
    digits = fingerprint(public)
    if bundle is not None and expected is None and checked != "first-use":
        raise KeyringError(f"{file} is a bundle: say how you know its signer's key is the author's",
                           hint="--fingerprint '<the digits the author gave you>', "
                                "or --checked first-use to trust it without comparing")
    if _from_a_bundle(file) and expected is None and checked not in ("first-use", "in-person", "qr", "phone"):
        # the key a bundle carries proves nothing by itself: whoever re-signed the bundle put theirs there
        raise KeyringError(f"{file} is the key that came inside a bundle: say how you know it is the author's",
                           hint="--fingerprint '<the digits the author gave you>', "
                                "or --checked first-use to trust it without comparing")
    if expected is not None:
        if not same_fingerprint(expected, public):  # its digits are not shown: they would only be pasted
            typed = typed_digits(expected)
            if not (typed.isascii() and typed.isdigit() and len(typed) == FINGERPRINT_DIGITS):
                raise KeyringError(f"a fingerprint is {FINGERPRINT_DIGITS} digits; you gave "
                                   f"{sum(c.isdigit() for c in typed)} digits and {sum(not c.isdigit() for c in typed)}"
                                   " other characters", hint="type the 40 digits the owner reads out to you")
            raise KeyringError(f"the fingerprint of {file} is not the one you gave",
                               hint="do not import it; ask the owner to read the digits out again, and check that "
                                    "this is the file they sent")
        checked = "fingerprint" if checked in (None, "first-use", "unchecked") else checked
    how: Checked = next((c for c in CHECKS if c == (checked or "unchecked")), "unchecked")
    ring = open_keyring(keys_dir, strict=True)
    before = ring.get(name) if name in ring.names() else None
    # The key this name was for: as this computer recorded it in the workspace, else as its trust record says (a
    # file replaced, with a record written to match it, says nothing); importing another under it would trust it
    from mirror.formats.minisign import key_id_hex

    expected = recorded_here().get(name) or (ring.replaced(name) if before is not None else None)
    if expected is not None and expected != key_id_hex(public.key_id):
        raise KeyringError(f"{name} in {ring.folder} would be key {key_id_hex(public.key_id)}, not key {expected} "
                           "that this computer recorded under that name: someone replaced it, or it is another key",
                           hint=f"import the key its owner gave you; if {name}.pub there was replaced, remove it and "
                                f"{name}.trust.json first")
    passed_over = before is not None and ring.allowed is not None and not ring.allowed(before)  # not this computer's
    record = ring.import_public(name, public, tuple(r for r in ROLES if r in roles) or ("author",), how,
                                force or passed_over)
    remember_workspace([record])  # into a workspace this user works in: a record this computer wrote
    if bundle is not None:
        say(f"key {record.key_id_hex} signed {file}, and its signature verifies")
    what = checked_words(record.checked)
    say(f"imported {name} ({record.key_id_hex}) as {','.join(record.roles)}: {what}")
    say(f"fingerprint: {digits}")
    if before is not None and before.checked != record.checked:
        detail, what = checked_words(before.checked), checked_words(record.checked)
        say(f"{name} was: {detail}; now: {what}")
    if before is not None and before.roles != record.roles:
        say(f"{name} was trusted as: {','.join(before.roles)}; now: {','.join(record.roles)}")
    for other_name in ring.names():
        try:
            other = ring.get(other_name)
        except KeyringError:  # another key's damaged file: the import is done, and said so (it exited 2)
            continue
        if ring.allowed is not None and not ring.allowed(other):
            continue
        if other.name != name and other.public == public:  # a verdict names the more surely checked of the two
            warn(f"warning: the same key is in your keyring as {other.name} too (checked: {other.checked})")
        elif other.name != name and other.public.key_id == public.key_id:
            warn(f"warning: {other.name} is another key with the same key id {record.key_id_hex}: anyone can "
                 "give a key any id; the fingerprints tell them apart")
    if record.checked == "first-use":
        warn("warning: TRUST ON FIRST USE: nobody compared this key with its owner. Anyone who could hand you a "
             f"bundle could have made this key. Compare the fingerprint with {name} by phone or in person, then "
             f"import it again with --fingerprint")
    elif record.checked == "unchecked":
        warn("warning: compare this fingerprint with the owner by phone or in person")


@keys.command("fingerprint")
@click.argument("name")
@click.option("--png", type=given_path(dir_okay=False, path_type=Path), help="where to write the QR code PNG")
@click.option("--force", is_flag=True, help="replace the --png file if it exists")
@click.option("--no-qr", is_flag=True, help="digits only")
@keys_option
def keys_fingerprint(name: str, png: Path | None, force: bool, no_qr: bool, keys_dir: Path | None) -> None:
    """Show the fingerprint of NAME as digits and a QR code of its public key."""
    from mirror.safeio import atomic_write
    from mirror.trust.fingerprint import fingerprint, qr_png, qr_terminal

    if png is not None and not no_qr:
        if png.suffix.lower() != ".png":
            raise ConfigError(f"{png}: the QR code's file name must end in .png")
        if os.path.lexists(png) and not force:  # a bundle named by mistake must not become a PNG
            raise ConfigError(f"{png} already exists", hint="pass --force to replace it, or name another file")
    ring = open_keyring(keys_dir)
    record = _counted(ring, name)
    say(f"{name}  key {record.key_id_hex}")
    say(fingerprint(record.public))
    if not no_qr:
        echo(qr_terminal(record.public.key_line, terminal_encoding()), nl=False)
    if png is not None and not no_qr:  # a file only when asked for (it was written into the keyring each time)
        atomic_write(png, qr_png(record.public.key_line), mode=0o644)
        warn(f"QR code of the public key written to {png}")


