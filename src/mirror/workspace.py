"""The workspace: the nearest mirror.toml with a [workspace] table, and the folders it names.

Example::

    ws = find_workspace(current_folder())
    if ws is not None:
        print(ws.sources, ws.bundles, ws.keys)
    config = find_config_file(current_folder())   # the nearest mirror.toml of any kind, for publish
    trust_settings(ws.root / CONFIG_NAME).require_endorsers  # [trust] require_endorsers = K; 0 when absent

A [workspace] table names `sources`, `bundles` and `keys`, relative to the file. A [trust] table holds the
reader's policy: `require_endorsers = K` (docs/endorsements.md), read by `trust_settings`, and only from a
workspace's mirror.toml. Only the [workspace] table makes a folder a workspace: a mirror.toml with only
[publisher] and [hosts] (read by publish/config.py), or only [trust], leaves the keyring and the policy as
they were.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mirror.errors import ConfigError
from mirror.record import record

CONFIG_NAME = "mirror.toml"
# Why the keyring of a workspace this user never worked in is passed over (cli/common.py, keys_folder_for).
UNKNOWN_WORKSPACE_NOTE = ("no key was made in it on this computer, nor one of its keys unlocked with a passphrase, "
                          "and a folder someone handed over must not decide whom a verdict trusts")
_CONFIG_LIMIT = 1 << 20  # a mirror.toml is a few kilobytes
_KEYS = {"sources", "bundles", "keys"}
MAX_REQUIRED_ENDORSERS = 100  # as many as a bundle may carry (formats/endorsement.py, MAX_ENDORSEMENTS)


@record
class Workspace:
    """A folder with a mirror.toml."""

    root: Path
    sources: Path
    bundles: Path
    keys: Path


def _read_file(config: Path) -> bytes:
    """The bytes of `config`, opened without blocking and refused unless a regular file (a FIFO would hang).

    Raises:
        ConfigError: not a regular file, or larger than a mirror.toml can be.
    """
    fd = os.open(config, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ConfigError(f"{config} is not a regular file", hint="copy what it holds into a file first")
        os.set_blocking(fd, True)
        data = handle.read(_CONFIG_LIMIT + 1)
    if len(data) > _CONFIG_LIMIT:
        raise ConfigError(f"{config} is larger than {_CONFIG_LIMIT} bytes, too large for a mirror.toml")
    return data


def read_toml(config: Path) -> dict[str, Any]:
    """The tables of a mirror.toml.

    Raises:
        ConfigError: not TOML.
    """
    import tomllib  # here: most commands never read a mirror.toml

    try:
        return tomllib.loads(_read_file(config).decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{config}: not valid TOML: {exc}") from None


def load_workspace(config: Path) -> Workspace:
    """Read the [workspace] table of `config` (a mirror.toml); defaults where it is silent.

    Raises:
        ConfigError: not TOML, or a field of the wrong type, named.
    """
    table = read_toml(config).get("workspace", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{config}: [workspace] must be a table")
    unknown = set(table) - _KEYS
    if unknown:
        raise ConfigError(f"{config}: unknown field workspace.{sorted(unknown)[0]}")
    paths: dict[str, Path] = {}
    for key in _KEYS:
        value = table.get(key, key if key != "sources" else "seeds")
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{config}: workspace.{key} must be a folder name")
        paths[key] = config.parent / value
    return Workspace(config.parent, paths["sources"], paths["bundles"], paths["keys"])


def not_yours(path: Path) -> str | None:
    """Why a mirror.toml, the folder it is in, or the keys folder it names must not decide anything for this user,
    or None: another user owns it (a link counts as its own owner's), or every user may change it, as git refuses
    a repository another user owns. A workspace's keyring decides whom a verdict trusts and a publish config where
    passwords go, so a mirror.toml planted in a shared folder above the reader's (/tmp, a shared drive) must not
    choose either. Group-writable is allowed: Ubuntu gives each user a group of their own."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None  # a keys folder not made yet: the folder it would be made in is checked too
    except OSError as exc:
        return f"it cannot be looked at ({exc.strerror})"
    if info.st_uid != os.geteuid():
        return f"it belongs to another user (uid {info.st_uid})"
    if info.st_mode & stat.S_IWOTH and not stat.S_ISLNK(info.st_mode):
        return "every user may change it"
    return None


def current_folder() -> Path | None:
    """The current folder, or None when it was removed after the command was started in it (then no workspace or
    mirror.toml is looked for: absolute paths still work)."""
    try:
        return Path.cwd()
    except FileNotFoundError:
        return None


def _candidates(start: Path | None, ignored: list[tuple[Path, str]] | None) -> Iterator[Path]:
    """Each mirror.toml at or above `start`, nearest first, that is yours in a folder that is yours (`not_yours`);
    the others are passed over, and added to `ignored` with the reason, before a byte of them is read."""
    if start is None:
        return
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_NAME
        try:
            present = candidate.is_file()
        except OSError:  # a link this user may not follow (protected_symlinks), a folder it may not enter
            present = True
        if not present:
            continue
        why = not_yours(candidate) or not_yours(folder)
        if why is None:
            yield candidate
        elif ignored is not None:
            ignored.append((candidate, why))


def find_config_file(start: Path | None, ignored: list[tuple[Path, str]] | None = None) -> Path | None:
    """The nearest mirror.toml at or above `start`, whatever tables it has, that is yours (`not_yours`): publish
    reads hosts and the names of password variables from it."""
    return next(_candidates(start, ignored), None)


def find_workspace(start: Path | None, ignored: list[tuple[Path, str]] | None = None) -> Workspace | None:
    """The workspace of the nearest mirror.toml with a [workspace] table at or above `start`, if any; one that is
    not yours, in a folder that is not yours, or whose keys folder is not, is passed over and added to `ignored`
    with the reason.

    Raises:
        ConfigError: such a file of yours is not valid TOML or its table is malformed.
    """
    for candidate in _candidates(start, ignored):
        if "workspace" in read_toml(candidate):
            workspace = load_workspace(candidate)
            why = not_yours(workspace.keys)
            if why is None:
                return workspace
            if ignored is not None:
                ignored.append((candidate, f"its keys folder: {why}"))
    return None


@record
class TrustSettings:
    """The reader's [trust] table: 0 endorsers means only the author's key decides."""

    require_endorsers: int = 0


def check_endorsers(value: object, where: str) -> int:
    """A number of required endorsers, 0 to MAX_REQUIRED_ENDORSERS.

    Raises:
        ConfigError: not a whole number in range.
    """
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_REQUIRED_ENDORSERS:
        raise ConfigError(f"{where}: must be a whole number from 0 to {MAX_REQUIRED_ENDORSERS}")
    return value


def trust_settings(config: Path | None) -> TrustSettings:
    """The [trust] table of `config` (a mirror.toml), or the defaults when there is no file or no table.

    Raises:
        ConfigError: not TOML, or the table is malformed (the field named).
    """
    if config is None:
        return TrustSettings()
    table = read_toml(config).get("trust", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{config}: [trust] must be a table")
    unknown = set(table) - {"require_endorsers"}
    if unknown:
        raise ConfigError(f"{config}: unknown field trust.{sorted(unknown)[0]}")
    return TrustSettings(check_endorsers(table.get("require_endorsers", 0), f"{config}: trust.require_endorsers"))
