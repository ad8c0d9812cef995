"""The workspaces this user works in: only their keyring (and [trust] table) decides a reader's verdict.

Example::

    if not is_known(workspace):      # a folder handed over: its keyring is passed over (cli/common.py)
        ...
    remember(workspace)              # after `keys new` in it, or a passphrase typed for one of its keys

Owning the files proves nothing: a folder copied from a stick, or a stick a desktop mounts, belongs to whoever
copied or mounted it, keyring and all. A workspace becomes known when this user makes a key in it, or unlocks one of
its secret keys with a passphrase (a key with none could have come with the folder). Kept in the state folder as
the hex of each workspace folder's real path (any bytes a file system allows), the oldest forgotten first.
"""

from __future__ import annotations

import os
from typing import Any

from mirror.errors import ConfigError
from mirror.folders import state_folder
from mirror.safeio import load_state, save_state
from mirror.workspace import Workspace

KNOWN_NAME = "workspaces.json"
MAX_KNOWN = 1000


def _identity(workspace: Workspace) -> str:
    """The workspace folder's real path, as the hex of its bytes."""
    return os.fsencode(os.path.realpath(workspace.root)).hex()


def _known() -> list[Any]:
    try:
        known = load_state(state_folder() / KNOWN_NAME).get("workspaces", [])
    except ConfigError:  # damaged: no workspace is known, which trusts less, never more
        return []
    return known if isinstance(known, list) else []


def is_known(workspace: Workspace) -> bool:
    """Whether this user works in `workspace` (`remember`)."""
    return _identity(workspace) in _known()


def remember(workspace: Workspace) -> None:
    """Note `workspace` as this user's."""
    identity, known = _identity(workspace), _known()
    if identity not in known:
        save_state(state_folder() / KNOWN_NAME, {"workspaces": [*known, identity][-MAX_KNOWN:]})
