"""What a publisher remembers between runs: the last index it signed, so the next version is higher.

Example::

    last = load_published("01F0ABCD")        # Published(version=4, index=Index(...)) or None
    save_published(index, raw, signature)    # before anything is uploaded

Kept in the state folder (folders.py), under published/<publisher key id>.json.
"""

from __future__ import annotations

from pathlib import Path

from mirror.errors import ManifestError
from mirror.folders import state_folder
from mirror.formats.index import Index
from mirror.record import record
from mirror.safeio import damaged_state, load_state, save_state


@record
class Published:
    """The publisher's last signed index."""

    version: int
    index: Index | None
    raw: bytes


def published_path(publisher_key: str) -> Path:
    """The publisher's state file."""
    return state_folder() / "published" / f"{publisher_key}.json"


def load_published(publisher_key: str) -> Published | None:
    """The last index this machine signed for the publisher, or None.

    Raises:
        ConfigError: the state file is damaged.
    """
    path = published_path(publisher_key)
    doc = load_state(path)
    if not doc:
        return None
    try:
        raw = doc["index"].encode() if doc.get("index") else b""
        version = doc["version"]
        if type(version) is not int:
            raise TypeError(version)
        return Published(version, Index.from_bytes(raw) if raw else None, raw)
    except (KeyError, TypeError, AttributeError, ManifestError):
        raise damaged_state(path) from None


def save_published(index: Index, raw: bytes, signature: bytes) -> None:
    """Record a signed index as the publisher's newest, before it is uploaded anywhere."""
    save_state(published_path(index.publisher_key),
               {"version": index.version, "index": raw.decode(), "signature": signature.decode()})
