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


def _home() -> Path:
    """The user's home folder: $HOME if it is an absolute path, else the system's record of the user (an empty or
    relative HOME put a secret key under the current folder)."""
    home = os.environ.get("HOME", "")
    if os.path.isabs(home):
        return Path(home)
    import pwd

    return Path(pwd.getpwuid(os.getuid()).pw_dir)


def _xdg(name: str, *default: str) -> Path:
    """An XDG base folder: the variable if it holds an absolute path (the specification says to ignore a relative
    one), else `default` under the home folder."""
    value = os.environ.get(name, "")
    return Path(value) if os.path.isabs(value) else _home().joinpath(*default)


def _data_home() -> Path:
    return _xdg("XDG_DATA_HOME", ".local", "share") / "mirror"


def keys_folder() -> Path:
    """The user's keyring when no option, MIRROR_KEYS or workspace names one."""
    return _data_home() / "keys"


def state_folder() -> Path:
    """Small state files: the publisher's last index, the reader's highest index versions seen."""
    env = os.environ.get("MIRROR_STATE")
    if env:
        return Path(env)
    return _xdg("XDG_STATE_HOME", ".local", "state") / "mirror"


def originals_folder() -> Path:
    """The author's private salts for --commit-originals (never in a workspace, which may be shared)."""
    env = os.environ.get("MIRROR_ORIGINALS")
    return Path(env) if env else _data_home() / "originals"


def cache_folder() -> Path:
    """Things that can be made again: the private folders `mirror open` unpacks bundles into."""
    return _xdg("XDG_CACHE_HOME", ".cache") / "mirror"
