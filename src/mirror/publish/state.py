"""What a publisher remembers between runs: the last index it signed, where each bundle it lists came from, and
which hosts are known to hold which bundles, and the size and SHA-256 of each listed bundle's detached SHA256SUMS
and signature (`sides`: a host's copy of them is compared with these, held.py).

Example::

    last = load_published("01F0ABCD")        # Published(version=4, index=Index(...), ...) or None
    save_published(index, raw, signature, sources, holding)    # before anything is uploaded
    record_holding("01F0ABCD", {host_key(config.host("dav")): frozenset(...)})   # after

Kept in the state folder (folders.py), under published/<publisher key id>.json. The index is saved before it is
uploaded anywhere, so a version number is never signed twice with different content. So the index may list a
bundle that some host never received (that host failed, or was not asked): `holding` says, per host, which listed
bundles are known to be there, and `sources` where the publisher's copy of each is, so the next run sends what a
host lacks before giving it an index that names it.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mirror.errors import ConfigError, ManifestError, MirrorError
from mirror.folders import state_folder
from mirror.formats.index import Index
from mirror.publish.config import HostConfig
from mirror.record import field, record
from mirror.safeio import damaged_state, load_state, save_state

_SHA256 = re.compile("[0-9a-f]{64}")  # as hashlib's hexdigest writes one


@record
class Published:
    """The publisher's last signed index, and what is known of where its bundles are."""

    version: int
    index: Index | None
    raw: bytes
    sources: Mapping[str, str] = field(default_factory=dict)  # listed bundle path -> the local file it came from
    holding: Mapping[str, frozenset[str]] = field(default_factory=dict)  # host_key -> listed bundle paths there
    # a listed bundle's SHA256SUMS or signature path -> (size, sha256) of the bytes sent there (held.py's Sides)
    sides: Mapping[str, tuple[int, str]] = field(default_factory=dict)


def host_key(host: HostConfig) -> str:
    """A host's name in the state: its kind and URL, hashed (a URL may carry a user name)."""
    return hashlib.sha256(f"{host.kind}\n{host.url}".encode()).hexdigest()[:32]


def published_path(publisher_key: str) -> Path:
    """The publisher's state file."""
    return state_folder() / "published" / f"{publisher_key}.json"


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


class _DamagedSides(TypeError):
    """The state's `sides` is not what save_published writes (edited by hand): the rest of the state may be whole."""


def _sides(value: Any) -> dict[str, tuple[int, str]]:
    """The state's `sides`, checked: {path: [size, sha256]}. Raises _DamagedSides."""
    if not isinstance(value, dict):
        raise _DamagedSides(value)
    sides = {}
    for path, pair in value.items():
        # a signed SHA256SUMS or signature is never empty: a size of 0 would pass an empty file on a host as whole
        if not (isinstance(pair, list) and len(pair) == 2 and type(pair[0]) is int and pair[0] > 0 and
                isinstance(pair[1], str) and _SHA256.fullmatch(pair[1])):
            raise _DamagedSides(pair)
        sides[path] = (pair[0], pair[1])
    return sides


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
        sources, holding = doc.get("sources", {}), doc.get("holding", {})
        if type(version) is not int or not isinstance(sources, dict) or not isinstance(holding, dict):
            raise TypeError(version)
        if not all(isinstance(v, str) for v in sources.values()) or not all(map(_strings, holding.values())):
            raise TypeError(sources)
        return Published(version, Index.from_bytes(raw) if raw else None, raw, dict(sources),
                         {k: frozenset(v) for k, v in holding.items()}, _sides(doc.get("sides", {})))
    except _DamagedSides:  # a record this machine can do without: "restore it from a backup" is rarely possible
        raise ConfigError(f"state file {path} is damaged in its record of side files (\"sides\")",
                          hint="remove its \"sides\" entry (side files are then only checked to be there and not "
                               "empty until their bundle is sent again), or restore the file from a backup") from None
    except (KeyError, TypeError, AttributeError, ManifestError):
        raise damaged_state(path) from None


def save_published(index: Index, raw: bytes, signature: bytes, sources: Mapping[str, str],
                   holding: Mapping[str, frozenset[str]], sides: Mapping[str, tuple[int, str]] | None = None) -> None:
    """Record a signed index as the publisher's newest, before it is uploaded anywhere."""
    save_state(published_path(index.publisher_key),
               {"version": index.version, "index": raw.decode(), "signature": signature.decode(),
                "sources": dict(sources), "holding": {k: sorted(v) for k, v in holding.items()},
                "sides": {k: list(v) for k, v in sorted((sides or {}).items())}})


def record_holding(publisher_key: str, holding: Mapping[str, frozenset[str]]) -> None:
    """After an upload: which listed bundles each host is now known to hold."""
    path = published_path(publisher_key)
    doc = load_state(path)
    if doc:
        doc["holding"] = {k: sorted(v) for k, v in holding.items()}
        save_state(path, doc)


@contextmanager
def publishing(publisher_key: str) -> Iterator[None]:
    """Held by a publish or refresh from reading the state to recording what the hosts got: two at once (a refresh
    from cron and a publish by hand) each signed the same version with other bundles, and one was lost.

    Raises:
        MirrorError: another run for this publisher holds it.
    """
    path = published_path(publisher_key).with_suffix(".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise MirrorError("another `mirror publish` or `mirror refresh` for this publisher is running on this "
                              "machine", hint="run this one again when it has finished") from None
        yield
    finally:
        os.close(fd)
