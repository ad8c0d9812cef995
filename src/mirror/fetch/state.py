"""What a reader remembers between runs: per publisher, the highest index version accepted.

Example::

    seen = load_seen("01F0ABCD")           # Seen(version=4, sha256="ab12...", mirrors=(...)) or None
    save_seen("01F0ABCD", Seen(5, "cd34...", ("https://a.example/m/",)))

Kept in the state folder (folders.py), under seen/<publisher key id>.json. A damaged
file is an error, never a reset: resetting would let a mirror roll the reader back.
"""

from __future__ import annotations

from pathlib import Path

from mirror.folders import state_folder
from mirror.safeio import damaged_state, load_state, save_state
from mirror.trust.keyset import TrustedKeys
from mirror.trust.rollback import Seen


def seen_path(publisher_key: str) -> Path:
    """The reader's state file for one publisher."""
    return state_folder() / "seen" / f"{publisher_key}.json"


def load_seen(publisher_key: str) -> Seen | None:
    """The highest index this machine accepted from the publisher, or None.

    Raises:
        ConfigError: the state file is damaged.
    """
    path = seen_path(publisher_key)
    doc = load_state(path)
    if not doc:
        return None
    version, digest, mirrors = doc.get("version"), doc.get("sha256"), doc.get("mirrors", [])
    if type(version) is not int or not isinstance(digest, str) or not isinstance(mirrors, list) \
            or not all(isinstance(m, str) for m in mirrors):
        raise damaged_state(path)
    return Seen(version, digest, tuple(mirrors))


def save_seen(publisher_key: str, seen: Seen) -> None:
    """Remember the accepted index."""
    save_state(seen_path(publisher_key), {"version": seen.version, "sha256": seen.sha256,
                                          "mirrors": list(seen.mirrors)})


def known_mirrors(keys: TrustedKeys) -> list[str]:
    """The signed mirror lists of the last indexes accepted from the publishers in the keyring."""
    found: list[str] = []
    for record in keys:
        if "publisher" in record.roles:
            seen = load_seen(record.key_id_hex)
            found += [m for m in (seen.mirrors if seen else ()) if m not in found]
    return found
