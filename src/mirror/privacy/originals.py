"""The author's private record of salts for --commit-originals (docs/privacy.md).

Example::

    where = save_salts(bundle_id, {"photos/a.jpg": "9f..."})

bundle.json holds sha256(salt + original photo) for each stripped photo. The
salt stays here, on the author's machine, never in the bundle: with it and the
original file, the author can later show an investigator that the original
matches the published photo. Without it, nobody can test guesses about the
original against the published hash.
"""

from __future__ import annotations

import json
from pathlib import Path

from mirror.folders import originals_folder
from mirror.safeio import atomic_write


def save_salts(bundle_id: str, salts: dict[str, str]) -> Path:
    """Write the salts of one bundle, mode 0600; return where."""
    path = originals_folder() / f"{bundle_id}.json"
    doc = {"bundle": bundle_id, "salts": salts,
           "check": "sha256(bytes.fromhex(salt) + original file) equals original_sha256_salted in bundle.json"}
    atomic_write(path, (json.dumps(doc, indent=1) + "\n").encode(), mode=0o600)
    return path
