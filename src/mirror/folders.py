"""Where mirror keeps things on this machine, outside any workspace (XDG base directories).

Example::

    keys_folder()        # ~/.local/share/mirror/keys (the CLI tries --keys, $MIRROR_KEYS, a workspace first)
    state_folder()       # $MIRROR_STATE, else ~/.local/state/mirror
    originals_folder()   # $MIRROR_ORIGINALS, else ~/.local/share/mirror/originals
    cache_folder()       # ~/.cache/mirror: what `mirror open` unpacks

State and originals have an environment variable of their own first, so tests and
careful users can move one without moving the others.
"""

from __future__ import annotations

import os
from pathlib import Path


def _data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "mirror"


def keys_folder() -> Path:
    """The user's keyring when no option, MIRROR_KEYS or workspace names one."""
    return _data_home() / "keys"


def state_folder() -> Path:
    """Small state files: the publisher's last index, the reader's highest index versions seen."""
    env = os.environ.get("MIRROR_STATE")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "mirror"


def originals_folder() -> Path:
    """The author's private salts for --commit-originals (never in a workspace, which may be shared)."""
    env = os.environ.get("MIRROR_ORIGINALS")
    return Path(env) if env else _data_home() / "originals"


def cache_folder() -> Path:
    """Things that can be made again: the private folders `mirror open` unpacks bundles into."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mirror"
