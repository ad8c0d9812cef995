"""The workspace: the nearest mirror.toml and the folders it names.

Example::

    ws = find_workspace(Path.cwd())
    if ws is not None:
        print(ws.sources, ws.bundles, ws.keys)

A mirror.toml's [workspace] table names `sources`, `bundles` and `keys`,
relative to the file. Later tables (publisher, hosts) are read by config.py.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mirror.errors import ConfigError

CONFIG_NAME = "mirror.toml"
_KEYS = {"sources", "bundles", "keys"}


@dataclass(frozen=True, slots=True)
class Workspace:
    """A folder with a mirror.toml."""

    root: Path
    sources: Path
    bundles: Path
    keys: Path
    raw: dict[str, Any]


def load_workspace(config: Path) -> Workspace:
    """Read `config` (a mirror.toml).

    Raises:
        ConfigError: not TOML, or a field of the wrong type, named.
    """
    try:
        raw = tomllib.loads(config.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{config}: not valid TOML: {exc}") from None
    table = raw.get("workspace", {})
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
    return Workspace(config.parent, paths["sources"], paths["bundles"], paths["keys"], raw)


def find_workspace(start: Path) -> Workspace | None:
    """The workspace of the nearest mirror.toml at or above `start`, if any."""
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return load_workspace(candidate)
    return None
