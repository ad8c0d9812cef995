"""Strict JSON for signed documents: size-capped, UTF-8, no duplicate keys.

Example::

    doc = parse_json(raw, "bundle.json", limit=MAX_META_BYTES)   # ManifestError names "bundle.json"

Parsers disagree on which of two equal keys wins, so a key given twice is an
error rather than a choice.
"""

from __future__ import annotations

import json
from typing import Any

from mirror.errors import ManifestError


def parse_json(raw: bytes, what: str, limit: int) -> Any:
    """Parse signed JSON strictly.

    Raises:
        ManifestError: naming `what`.
    """
    if len(raw) > limit:
        raise ManifestError(f"{what} is too large")
    try:
        return json.loads(raw.decode("utf-8"), object_pairs_hook=reject_duplicate_keys)
    except ManifestError as exc:
        raise ManifestError(f"{what}: {exc}") from None
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ManifestError(f"{what} is not valid UTF-8 JSON") from None


def reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json.loads hook: a key given twice is an error.

    Raises:
        ManifestError: the key.
    """
    result = dict(pairs)
    if len(result) != len(pairs):  # rare: find which key, for the message
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ManifestError(f"JSON has the key {key!r} twice")
            seen.add(key)
    return result
