"""Rebuild tests/data/golden-v2.7z, the bundle that catches format drift.

Run from the repository root: `python tests/data/make_golden.py`. The golden
key is derived from a published constant, so it is a test key that anyone can
recompute (never use it for anything else); with it, a fixed bundle id and a
fixed creation time, the signed files and the reader's page come out byte for
byte the same, and so does the 7z container (it stores no timestamps): a rebuild with
the same liblzma gives the same file.

golden-v1.7z, made by the first version of the tool in format 1, is kept as it
was: today's verifier must still accept it. It is never rebuilt.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mirror.bundle.create import CreateRequest, create_bundle
from mirror.trust.keys import SecretKey

HERE = Path(__file__).parent
SOURCES = HERE / "golden-src"
GOLDEN = HERE / "golden-v2.7z"
GOLDEN_KEY = HERE / "golden.pub"
BUNDLE_ID = "601de4b5e0f34c1a8f4b2a9d7c3e1f00"
CREATED = "2026-11-23T00:00:00Z"


def golden_secret() -> SecretKey:
    """The published test key."""
    seed = hashlib.sha256(b"mirror golden bundle test key; public, never trust it").digest()
    return SecretKey(Ed25519PrivateKey.from_private_bytes(seed))


def build(out: Path) -> Path:
    """Build the golden bundle from golden-src/ into `out`."""
    request = CreateRequest(SOURCES, out, title="Golden bundle, format 2", force=True,
                            bundle_id=BUNDLE_ID, created=CREATED)
    create_bundle(request, golden_secret())
    return out


if __name__ == "__main__":
    build(GOLDEN)
    GOLDEN_KEY.write_text(golden_secret().public.to_text())
    print(f"wrote {GOLDEN} and {GOLDEN_KEY}")
