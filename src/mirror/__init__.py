"""mirror: signed, verifiable offline bundles of accounts and photos.

Example::

    from mirror import create_bundle, verify_bundle, Keyring
    result = verify_bundle(Path("bundle.7z"), Keyring(Path("keys")))

The public names are imported on first use, so that the command line starts fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["CreateRequest", "Keyring", "create_bundle", "extract_bundle", "verify_bundle"]

_WHERE = {
    "CreateRequest": "mirror.bundle.create",
    "create_bundle": "mirror.bundle.create",
    "verify_bundle": "mirror.bundle.verify",
    "extract_bundle": "mirror.bundle.extract",
    "Keyring": "mirror.trust.keyring",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'mirror' has no attribute {name!r}")
