"""The keyring: a folder of public keys, trust records, and the author's secret keys.

Example::

    ring = Keyring(Path("keys"))
    ring.create("alice", passphrase=b"...")
    record = ring.get("alice")
    print(record.key_id_hex, record.roles)

Layout of the folder::

    NAME.pub          minisign public key (safe to publish and commit)
    NAME.trust.json   petname, roles and how the key was checked
    NAME.key          secret key, scrypt-encrypted, mode 0600 (never committed)
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path

from mirror.errors import ConfigError, KeyringError, WrongPassphrase
from mirror.formats.minisign import PublicKeyFile, key_id_hex
from mirror.safeio import atomic_write, read_regular
from mirror.trust.keys import SecretKey
from mirror.trust.keyset import CHECKS, ROLES, Checked, KeyRecord, Role, TrustedKeys, check_strength

_KEY_FILE_LIMIT = 64 * 1024  # a key file or trust record is a few hundred bytes
NAME_RE = re.compile(r"[^\W_][\w.-]{0,63}")  # letters of any script (айгүл, Айгуль), digits, '.', '_', '-'
Ask = Callable[[str], bytes]  # asks for the passphrase of the named key


def check_name(name: str) -> str:
    """Return `name` if it is a safe key name.

    Raises:
        KeyringError: the name could escape the folder or is unreadable.
    """
    # NFKC: one form for each name (no NFD twin on a Mac, no bold mathematical letters spelling alice beside
    # alice); 200 bytes leave room in a file name for the key's suffixes
    if not NAME_RE.fullmatch(name) or name.endswith((".pub", ".key")) or unicodedata.normalize("NFKC", name) != name \
            or len(name.encode("utf-8")) > 200:
        raise KeyringError(f"bad key name {name!r}", hint="use letters, digits, '.', '_' or '-', at most 64, "
                                                         "for example alia or bota-2022")
    return name


# A secret key half-written when a command was killed is a temporary file beside it (safeio's TMP_SUFFIX): it holds
# the key too (helper-161: `git add -A` staged one); the .gitignore of earlier versions is brought up to this one
_IGNORE = b"# secret keys never leave this computer\n*.key\n*.mirror-tmp\n"
_OLD_IGNORE = b"# secret keys never leave this computer\n*.key\n"


def _why(exc: ConfigError | OSError) -> str:
    """A few words on why a file could not be read as a key."""
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc.args[0] if exc.args else exc)


class Keyring:
    """A keys folder. Reading never modifies; writing is atomic.

    `allowed`: which records count when the keyring is read whole (iterated, `snapshot`): a handed-over workspace's
    keys that this computer did not write are passed over (cli/workspaces.py). `get` reads any record by name."""

    def __init__(self, folder: Path, allowed: Callable[[KeyRecord], bool] | None = None) -> None:
        self.folder = folder
        self.allowed = allowed

    def _path(self, name: str, suffix: str) -> Path:
        path = self.folder / f"{check_name(name)}{suffix}"
        if not os.path.lexists(path):  # a keyring copied through a Mac's HFS+ holds its names decomposed (NFD):
            decomposed = self.folder / f"{unicodedata.normalize('NFD', name)}{suffix}"  # `names` gives them NFC,
            if decomposed != path and os.path.lexists(decomposed):  # and the key was "not in the keyring"
                return decomposed
        return path

    def names(self) -> list[str]:
        """Names of the keys that have a public key file, sorted."""
        if not self.folder.is_dir():
            return []
        # a Mac's HFS+ gives names back decomposed (NFD): the name is the one it was given (NFC)
        found = (unicodedata.normalize("NFC", p.name[:-4]) for p in self.folder.glob("*.pub"))
        return sorted(name for name in found if NAME_RE.fullmatch(name))

    def __iter__(self) -> Iterator[KeyRecord]:
        for name in self.names():
            if self.allowed is None:
                yield self.get(name)  # a damaged file in the user's own keyring is said, and stops the command
                continue
            try:
                record = self.get(name)
            except KeyringError:
                continue  # in a filtered keyring, a damaged file is passed over (`passed_over` says so)
            if self.allowed(record):
                yield record

    def passed_over(self) -> list[tuple[str, KeyRecord | None]]:
        """The records `allowed` leaves out, by name; None for a file that is no key (so that whoever could plant
        a key cannot instead stop every verdict with a junk file)."""
        if self.allowed is None:
            return []
        left: list[tuple[str, KeyRecord | None]] = []
        for name in self.names():
            try:
                record = self.get(name)
            except KeyringError:
                left.append((name, None))
                continue
            if not self.allowed(record):
                left.append((name, record))
        return left

    def replaced(self, name: str) -> str | None:
        """The key id the trust record of `name` was written for, when NAME.pub now holds another key (replaced
        by hand, or by whoever held the folder); None when they agree, or the record names no key."""
        try:
            loaded = json.loads(read_regular(self._path(name, ".trust.json"), _KEY_FILE_LIMIT).decode("utf-8"))
            public = self.get(name).public
        except (OSError, ValueError, UnicodeDecodeError, KeyringError, RecursionError):
            return None
        recorded = loaded.get("key") if isinstance(loaded, dict) else None
        if not isinstance(recorded, str) or recorded == public.key_line:
            return None
        try:
            return key_id_hex(PublicKeyFile.from_text(recorded).key_id)
        except KeyringError:
            return "unknown"

    def secret_names(self) -> list[str]:
        """The names of the keys whose secret half is here (whatever `allowed` says: the user unlocks them)."""
        return [name for name in self.names() if self._path(name, ".key").exists()]

    def get(self, name: str) -> KeyRecord:
        """The record of key `name`.

        Raises:
            KeyringError: no such key, or its files are damaged.
        """
        pub_path = self._path(name, ".pub")
        try:
            public = PublicKeyFile.from_text(read_regular(pub_path, _KEY_FILE_LIMIT).decode("utf-8"), f"key {name}")
        except FileNotFoundError:
            if os.path.lexists(pub_path):  # a link that leads nowhere: the file to remove is named (helper-165)
                raise KeyringError(f"key {name} in the keyring is no key file (a link to nothing)",
                                   hint=f"replace {pub_path} with the key's own file, or remove it") from None
            raise KeyringError(f"no key named {name} in {self.folder}", hint="see `mirror keys list`") from None
        except UnicodeDecodeError:
            raise KeyringError(f"key {name} is not a text file",
                               hint=f"replace {pub_path} with the key's own file, or remove it") from None
        except KeyringError as exc:  # a stray file there (junk.pub) stopped every verify, saying neither where
            raise KeyringError(f"{exc.args[0]} (key {name} in the keyring is damaged)",
                               hint=f"replace {pub_path} with the key's own file, or remove it") from None
        except (ConfigError, OSError) as exc:  # a folder, a FIFO, a link loop or a file too large planted as
            # NAME.pub stopped every verdict in the keyring (exit 2), where junk in a file is passed over
            raise KeyringError(f"key {name} in the keyring is no key file ({_why(exc)})",
                               hint=f"replace {pub_path} with the key's own file, or remove it") from None
        public.check_key_id(f"key {name}")
        trust: dict[str, object] = {}
        trust_path = self._path(name, ".trust.json")
        if trust_path.exists():
            try:
                loaded = json.loads(read_regular(trust_path, _KEY_FILE_LIMIT).decode("utf-8"))
            except (ValueError, UnicodeDecodeError, ConfigError, OSError, RecursionError):  # [[[[... too deep
                raise KeyringError(f"trust record of key {name} is damaged: {trust_path}") from None
            if isinstance(loaded, dict):
                trust = loaded
        if "key" in trust and trust["key"] != public.key_line:
            # the record of another key: NAME.pub replaced by hand, or two imports at once; it vouches for nothing
            trust = {"roles": [], "checked": "unchecked"}
        roles = trust.get("roles", ["author"])
        checked = trust.get("checked", "unchecked")
        return KeyRecord(
            name=name,
            public=public,
            roles=tuple(r for r in ROLES if r in roles) if isinstance(roles, list) else ("author",),
            checked=next((c for c in CHECKS if c == checked), "unchecked"),
            added=str(trust.get("added", "")),
            has_secret=self._path(name, ".key").exists(),
        )

    def snapshot(self) -> TrustedKeys:
        """Every key in the folder, read once, for trust decisions."""
        return TrustedKeys(tuple(self))

    def _write_trust(self, name: str, public: PublicKeyFile, roles: tuple[Role, ...], checked: Checked) -> None:
        from mirror.formats.timefmt import now_text  # here: reading the keyring (every verify) needs no clock

        doc = {"name": name, "key": public.key_line, "roles": list(roles), "checked": checked, "added": now_text()}
        atomic_write(self._path(name, ".trust.json"), (json.dumps(doc, indent=1) + "\n").encode(), mode=0o644)

    def _check_new_name(self, name: str) -> None:
        """Refuse a new key name that differs from one already here only by case (Alice beside alice): a verdict
        names the key, and on a file system that ignores case (a FAT stick, macOS) the two share their files.

        Raises:
            KeyringError: such a name is taken.
        """
        taken = next((n for n in self.names() if n != name and n.casefold() == name.casefold()), None)
        if taken is not None:
            raise KeyringError(f"a key named {taken} is already in {self.folder}; {name} differs only by case",
                               hint=f"choose a name that is not {taken} in other letters")

    def _make_folder(self) -> None:
        """The keys folder, made readable and writable by its owner alone if it is new, with a .gitignore that
        keeps secret keys out of a repository (a workspace's keys/ is often one: its public keys are shared)."""
        if not self.folder.is_dir():
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        ignore = self.folder / ".gitignore"
        with contextlib.suppress(OSError, ConfigError):  # a read-only folder: the key is still written, or not
            if ignore.is_symlink() or (ignore.exists() and ignore.read_bytes() != _OLD_IGNORE):
                return  # the user's own, or this one already
            atomic_write(ignore, _IGNORE, mode=0o644, overwrite=ignore.exists())

    def create(self, name: str, passphrase: bytes | None, roles: tuple[Role, ...] = ROLES) -> KeyRecord:
        """Generate a key pair; the secret half is sealed with `passphrase` and written 0600.

        Raises:
            KeyringError: a key of that name exists.
        """
        exists = KeyringError(f"a key named {name} already exists in {self.folder}")
        if not self._path(name, ".pub").exists() and self._path(name, ".key").exists():
            # what a `keys new` killed between its two files leaves: no key to list, export or sign with (helper-161)
            raise KeyringError(f"a secret key named {name} is in {self.folder} without its public key (a `keys new` "
                               "that was stopped)", hint=f"if it holds nothing you need, remove "
                               f"{self._path(name, '.key')}; or make your key under another name")
        if self._path(name, ".pub").exists() or self._path(name, ".key").exists():
            raise exists
        self._check_new_name(name)
        self._make_folder()
        secret = SecretKey.generate()
        try:  # never over another's key made meanwhile (two `keys new` at once: one would be lost unsaid)
            atomic_write(self._path(name, ".key"), secret.seal(passphrase), mode=0o600, overwrite=False)
        except ConfigError:
            raise exists from None
        try:  # the pair whole or not at all: a secret key without its public half blocked the name for good
            self._write_trust(name, secret.public, roles, "own")
            atomic_write(self._path(name, ".pub"), secret.public.to_text().encode(), mode=0o644, overwrite=False)
        except BaseException:
            for suffix in (".key", ".trust.json"):
                with contextlib.suppress(OSError):
                    self._path(name, suffix).unlink()
            raise
        return self.get(name)

    def _orphan_public(self, name: str) -> str | None:
        """The public key line a secret key named `name` holds, when it is here without its NAME.pub; else None."""
        if self._path(name, ".pub").exists() or not self._path(name, ".key").exists():
            return None
        try:
            doc = json.loads(self._secret_file(name))
        except (ValueError, KeyringError, ConfigError, OSError, RecursionError):
            return ""  # damaged: no public key is its
        return str(doc.get("public_key", "")) if isinstance(doc, dict) else ""

    def import_public(self, name: str, public: PublicKeyFile, roles: tuple[Role, ...],
                      checked: Checked, force: bool = False) -> KeyRecord:
        """Add someone else's public key with a record of how it was checked.

        The same key again under its name replaces the record, but never with a weaker check (in-person, then
        first-use) unless `force`: a careless re-import must not undo a comparison made before.

        Raises:
            KeyringError: the name is taken by another key, the key id is wrong, or the check would be lowered.
        """
        public.check_key_id(f"key {name}")
        orphan = self._orphan_public(name)
        if orphan is not None and orphan != public.key_line:  # someone else's key beside this computer's secret
            raise KeyringError(f"a secret key named {name} is in {self.folder}, and this is not its public key",
                               hint="import it under another name")
        if self._path(name, ".pub").exists():
            existing = self.get(name)
            if existing.public != public:
                raise KeyringError(f"a different key named {name} is already in {self.folder}")
            if check_strength(checked) < check_strength(existing.checked) and not force:
                raise KeyringError(f"{name} is already in your keyring, checked: {existing.checked}; importing it "
                                   f"as {checked} would record less than you checked before",
                                   hint=f"keep it as it is, or pass --force to record it as {checked}")
        if not self._path(name, ".pub").exists():
            self._check_new_name(name)
        self._make_folder()
        if self._path(name, ".pub").exists():  # the same key again (checked above): only its record changes
            self._write_trust(name, public, roles, checked)
            return self.get(name)
        self._write_trust(name, public, roles, checked)  # first: a public key is never there without its record
        try:
            atomic_write(self._path(name, ".pub"), public.to_text().encode(), mode=0o644)
        except BaseException:  # a failed import takes no effect (a disk that filled left a trusted key behind)
            with contextlib.suppress(OSError):
                self._path(name, ".trust.json").unlink()
            raise
        return self.get(name)

    def secret(self, name: str, passphrase: bytes | None) -> SecretKey:
        """Unlock the secret key `name`.

        Raises:
            KeyringError: no secret key of that name, or it does not open.
        """
        return SecretKey.unseal(self._secret_file(name), passphrase, name)

    def _secret_file(self, name: str) -> bytes:
        try:
            return read_regular(self._path(name, ".key"), _KEY_FILE_LIMIT)
        except FileNotFoundError:
            raise KeyringError(f"no secret key named {name} in {self.folder}") from None

    def check_secret(self, name: str) -> None:
        """What can be known of the secret key `name` without its passphrase: its file is here and can be read, it is
        a mirror secret key whole (SecretKey.check_sealed), and it is the half of NAME.pub. A dry run checks it, so
        that the run itself does not fail where the dry run said all was well (helper-167).

        Raises:
            KeyringError: no such secret key, a damaged one, or the half of another key.
            ConfigError: its file is a folder, a FIFO or too large.
            OSError: its file cannot be read.
        """
        record = self.get(name)
        if SecretKey.check_sealed(self._secret_file(name), name) != record.public.key_line:
            raise KeyringError(f"secret key {name} does not match its public key")

    def secret_is_encrypted(self, name: str) -> bool:
        """Whether the secret key `name` needs a passphrase (False if there is none)."""
        path = self._path(name, ".key")
        return path.exists() and SecretKey.is_encrypted(read_regular(path, _KEY_FILE_LIMIT))

    def unlock(self, name: str, ask: Ask, attempts: int = 1) -> SecretKey:
        """The secret key `name`, asking for its passphrase only when it has one, up to `attempts` times.

        Raises:
            KeyringError: no such key, a wrong passphrase (WrongPassphrase, after the last attempt), or a
                secret key that is not the half of NAME.pub.
        """
        record = self.get(name)
        for attempt in range(attempts, 0, -1):
            # the file is read once, before the passphrase is asked for, and that is what is unlocked: a key put in
            # its place while the prompt waited (one without a passphrase) was used, and then trusted (helper-161)
            raw = self._secret_file(name)
            SecretKey.check_sealed(raw, name)  # a damaged file is said as such, not with a prompt (helper-167)
            passphrase = ask(name) if SecretKey.is_encrypted(raw) else None
            try:
                secret = SecretKey.unseal(raw, passphrase, name)
                break
            except WrongPassphrase:
                if attempt == 1:
                    raise
        if secret.public != record.public or self.get(name) != record:
            raise KeyringError(f"secret key {name} does not match {name}.pub",
                               hint="the two files of this key were mixed up or changed while it was unlocked; "
                                    "restore them from a backup")
        return secret
