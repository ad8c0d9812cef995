"""Small state files kept on this machine, written atomically.

Example::

    save_json(published_path("01F0ABCD"), {"version": 4, ...})
    doc = load_json(seen_path("01F0ABCD"))     # {} if absent

The publisher keeps its current signed index (so the next version is one higher);
a reader keeps the highest index version it has seen per publisher (so a mirror
can never roll it back). $MIRROR_STATE, else $XDG_STATE_HOME/mirror, else
~/.local/state/mirror.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from mirror.errors import ConfigError
from mirror.safeio import atomic_write


def state_dir() -> Path:
    """Where state lives."""
    env = os.environ.get("MIRROR_STATE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "mirror"


def published_path(publisher_key: str) -> Path:
    """The publisher's last signed index."""
    return state_dir() / "published" / f"{publisher_key}.json"


def seen_path(publisher_key: str) -> Path:
    """The reader's highest verified index version for one publisher."""
    return state_dir() / "seen" / f"{publisher_key}.json"


def load_json(path: Path) -> dict[str, Any]:
    """The JSON object at `path`, or {} when there is none.

    Raises:
        ConfigError: the file is damaged (never silently reset: that would allow a rollback).
    """
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (ValueError, UnicodeDecodeError):
        raise ConfigError(f"state file {path} is damaged", hint="restore it from a backup; do not delete it") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"state file {path} is damaged")
    return doc


def save_json(path: Path, doc: dict[str, Any]) -> None:
    """Replace the JSON object at `path` atomically."""
    atomic_write(path, (json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode(), mode=0o600)
