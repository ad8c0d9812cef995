"""The keys a reader trusts, as values: one record per key, and a snapshot of the whole keyring.

Example::

    keys = keyring.snapshot()                     # TrustedKeys, read once from the keys folder
    record = keys.find(sig.key_id, role="author")  # KeyRecord or None; an id only finds a key
    record.name, record.roles, record.checked     # "alice", ("author",), "in-person"

Trust decisions (policy.py, rollback.py) work on these values and never read files.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal, get_args

from mirror.formats.minisign import PublicKeyFile, key_id_hex
from mirror.record import record

Role = Literal["author", "publisher"]
ROLES: tuple[Role, ...] = get_args(Role)
Checked = Literal["own", "in-person", "qr", "phone", "fingerprint", "first-use", "unchecked"]
CHECKS: tuple[Checked, ...] = get_args(Checked)
# How a key can have been compared with its owner; "first-use" and "unchecked" keys were never compared.
COMPARED: tuple[Checked, ...] = ("own", "in-person", "qr", "phone", "fingerprint")


def check_strength(checked: Checked) -> int:
    """How much a way of checking proves, to compare two: own 3, compared with its owner 2, first-use 1,
    unchecked 0. Re-importing a key never lowers it unless asked (keyring.py, `import_public`)."""
    if checked == "own":
        return 3
    return 2 if checked in COMPARED else {"first-use": 1}.get(checked, 0)


@record
class KeyRecord:
    """One key in the keyring and what its owner knows about it."""

    name: str
    public: PublicKeyFile
    roles: tuple[Role, ...]
    checked: Checked
    added: str
    has_secret: bool

    @property
    def compared(self) -> bool:
        """Whether the key was compared with its owner (or is the reader's own), not trusted on first use."""
        return self.checked in COMPARED

    @property
    def key_id_hex(self) -> str:
        """The key id as minisign prints it."""
        return key_id_hex(self.public.key_id)

    @property
    def digest(self) -> str:
        """What this record says, hashed: its name, key, roles and check (cli/workspaces.py remembers those this
        computer wrote into a workspace's keyring; a record changed or added by anyone else has another)."""
        import hashlib

        said = "\n".join((self.name, self.public.to_text().strip(), ",".join(self.roles), self.checked))
        return hashlib.sha256(said.encode()).hexdigest()[:32]


@record
class TrustedKeys:
    """A snapshot of the keyring: the keys a reader trusts, each for its roles."""

    records: tuple[KeyRecord, ...] = ()

    def __iter__(self) -> Iterator[KeyRecord]:
        return iter(self.records)

    def find(self, key_id: bytes, role: Role) -> KeyRecord | None:
        """The key with this id and role, or None; of several, the most surely checked. An id only finds a key; it
        proves nothing (anyone can give a key of their own any id)."""
        found = [r for r in self.records if r.public.key_id == key_id and role in r.roles]
        return max(found, key=lambda r: check_strength(r.checked)) if found else None

    def holds(self, public: PublicKeyFile, role: Role) -> KeyRecord | None:
        """The record of exactly this key (id and key bytes) in this role, or None; of several (one key imported
        under two names), the most surely checked. A key that only shares its id with one held is not held."""
        found = [r for r in self.records if r.public == public and role in r.roles]
        return max(found, key=lambda r: check_strength(r.checked)) if found else None
