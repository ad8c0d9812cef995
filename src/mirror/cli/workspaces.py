"""The workspaces this user works in: only their keyring (and [trust] table) decides a reader's verdict.

Example::

    if not is_known(workspace):      # a folder handed over: its keyring is passed over (cli/common.py)
        ...
    remember(workspace)              # after `keys new` in it, or a passphrase typed for one of its keys

Owning the files proves nothing: a folder copied from a stick, or a stick a desktop mounts, belongs to whoever
copied or mounted it, keyring and all. A workspace becomes known when this user makes a key in it, or unlocks one of
its secret keys with a passphrase (a key with none could have come with the folder). Kept in the state folder as
the hex of each workspace folder's real path (any bytes a file system allows), the oldest forgotten first.

Nor does a known path prove the folder is the same: another stick mounted where this user's was (/media/USER/USB),
or keys added to the folder by whoever held it, would bring their own keyring. So what is remembered is also each
key record this computer wrote into the workspace's keyring (made, imported, or unlocked with its passphrase), by
its digest (trust/keyset.py): a verdict counts those only (`trusted_here`); any other record there (another key,
or a key's record raised from first-use to in-person) is passed over, and said so.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mirror.errors import ConfigError
from mirror.folders import state_folder
from mirror.safeio import load_state, save_state
from mirror.trust.keyset import KeyRecord
from mirror.workspace import Workspace

KNOWN_NAME = "workspaces.json"
MAX_KNOWN = 1000
MAX_RECORDS = 10_000  # key records remembered per workspace
LOCK_WAIT = 10.0  # seconds a command waits for another to finish changing the file


@contextmanager
def _changing() -> Iterator[None]:
    """Held from reading workspaces.json to writing it back: two commands at once (`keys new` in one terminal, a
    passphrase typed for a key in another) each wrote back what they had read, and one's key record was lost (that
    key then passed over until imported again). Waits for the other command up to LOCK_WAIT seconds; where no lock
    is to be had (no flock, a file system that refuses it, a command stuck holding it), goes on without: the file
    is still replaced whole, never left torn."""
    import fcntl

    fd = -1
    try:
        folder = state_folder()
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(folder / (KNOWN_NAME + ".lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        deadline = time.monotonic() + LOCK_WAIT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.01)
    except OSError:
        pass
    try:
        yield
    finally:
        if fd >= 0:
            os.close(fd)


def _identity(workspace: Workspace) -> str:
    """The workspace folder's real path, as the hex of its bytes."""
    return os.fsencode(os.path.realpath(workspace.root)).hex()


def _config_digest(config: Path) -> str | None:
    """The SHA-256 of a mirror.toml's bytes (None when it cannot be read: then it is not known either)."""
    import hashlib

    from mirror.safeio import read_regular

    try:
        return hashlib.sha256(read_regular(config, 1 << 20)).hexdigest()
    except (OSError, ConfigError):
        return None


def _configs() -> dict[str, str]:
    try:
        configs = load_state(state_folder() / KNOWN_NAME).get("configs", {})
    except (ConfigError, OSError):
        return {}
    return {k: v for k, v in configs.items() if isinstance(k, str) and isinstance(v, str)} \
        if isinstance(configs, dict) else {}


def config_known(config: Path) -> bool:
    """Whether publish, refresh, status or torrent may use `config`, found here or above without --config: only
    one this user named with --config before, at that path, with these very bytes (`remember_config`). A path
    proves nothing (another stick mounted where theirs was, a file rewritten by whoever held the folder), and such
    a file chooses the hosts that the passwords its variables name are sent to."""
    named = _configs().get(os.fsencode(os.path.realpath(config)).hex())
    return named is not None and named == _config_digest(config)


def remember_config(config: Path) -> None:
    """Note the bytes of `config`, a mirror.toml this user named with --config (`config_known`)."""
    digest = _config_digest(config)
    if digest is None:
        return
    with _changing():
        try:
            doc = load_state(state_folder() / KNOWN_NAME)
        except ConfigError:
            doc = {}
        configs = _configs()
        path = os.fsencode(os.path.realpath(config)).hex()
        configs.pop(path, None)
        configs[path] = digest
        doc["configs"] = dict(list(configs.items())[-MAX_KNOWN:])
        save_state(state_folder() / KNOWN_NAME, doc)


def _state() -> tuple[list[Any], dict[str, Any]]:
    try:
        doc = load_state(state_folder() / KNOWN_NAME)
    except (ConfigError, OSError):  # damaged or unreadable: no workspace is known, which trusts less, never more
        return [], {}
    known, keys = doc.get("workspaces", []), doc.get("keys", {})
    return (known if isinstance(known, list) else []), (keys if isinstance(keys, dict) else {})


def _known() -> list[Any]:
    return _state()[0]


def is_known(workspace: Workspace) -> bool:
    """Whether this user works in `workspace` (`remember`)."""
    return _identity(workspace) in _known()


def trusted_here(workspace: Workspace) -> frozenset[str] | None:
    """The digests of the key records this computer wrote into `workspace`'s keyring; None for a workspace
    remembered before records were (every record of it counts, as it did then)."""
    identity = _identity(workspace)
    known, keys = _state()
    if identity in keys and isinstance(keys[identity], list):
        return frozenset(d for d in keys[identity] if isinstance(d, str))
    return None if identity in known else frozenset()


def recorded_keys(workspace: Workspace) -> dict[str, str]:
    """Name -> key id of each key record this computer wrote into `workspace`'s keyring: a file of that name
    holding another key was replaced, whatever record came with it."""
    try:
        names = load_state(state_folder() / KNOWN_NAME).get("names", {})
    except (ConfigError, OSError):
        return {}
    mine = names.get(_identity(workspace)) if isinstance(names, dict) else None
    return {k: v for k, v in mine.items() if isinstance(k, str) and isinstance(v, str)} if isinstance(mine, dict) \
        else {}


def _records_in(workspace: Workspace) -> list[str]:
    """The digests of every key record in `workspace`'s keyring as it is now (damaged files left out)."""
    from mirror.errors import KeyringError
    from mirror.trust.keyring import Keyring

    ring, found = Keyring(workspace.keys), []
    for name in ring.names():
        try:
            found.append(ring.get(name).digest)
        except KeyringError:
            continue
    return found


def remember(workspace: Workspace, records: Iterable[KeyRecord] = (), known_too: bool = True) -> None:
    """Note `workspace` as this user's, and `records` as written into its keyring by this computer (`known_too`
    False: the records only; an import through --keys into a folder's keys makes it no one's workspace)."""
    with _changing():
        _remember(workspace, list(records), known_too)


def _remember(workspace: Workspace, records: list[KeyRecord], known_too: bool) -> None:
    identity = _identity(workspace)
    known, keys = _state()
    listed = keys.get(identity)
    had: list[str] = [d for d in listed if isinstance(d, str)] if isinstance(listed, list) else []
    if identity in known and not isinstance(listed, list):  # remembered before records were: all of them counted
        had = _records_in(workspace)
    digests = list(dict.fromkeys([*had, *(r.digest for r in records)]))[-MAX_RECORDS:]
    if (identity in known or not known_too) and digests == had:
        return
    if known_too:
        known = [k for k in known if k != identity] + [identity]
    kept = known[-MAX_KNOWN:]
    try:
        doc = load_state(state_folder() / KNOWN_NAME)
    except ConfigError:
        doc = {}
    configs, names = doc.get("configs", {}), doc.get("names", {})
    names = names if isinstance(names, dict) else {}
    mine = names.pop(identity, {})
    names[identity] = {**(mine if isinstance(mine, dict) else {}), **{r.name: r.key_id_hex for r in records}}
    keys.pop(identity, None)  # last written last: the oldest are forgotten first
    keys[identity] = digests
    save_state(state_folder() / KNOWN_NAME, {"workspaces": kept, "keys": dict(list(keys.items())[-MAX_KNOWN:]),
                                             "configs": configs if isinstance(configs, dict) else {},
                                             "names": dict(list(names.items())[-MAX_KNOWN:])})
