"""Where each file lives on a mirror host: the same layout on every host, in docs/format.md.

Example::

    bundle_path("ab12...")         # "bundles/ab12....7z"
    sums_paths("ab12...")          # ("bundles/ab12....SHA256SUMS", "bundles/ab12....SHA256SUMS.minisig")
    version_path(4)                # "index/4.json"
    LISTING_NAME                   # "listing.json": unsigned, a hint only (listing.py)
    torrent_path("ab12...")        # "bundles/ab12....torrent"

Bundles are named by the SHA-256 of their bytes, so a half-synced mirror never serves
a bundle that differs from its index entry; index/<version>.json is immutable.
"""

from __future__ import annotations

INDEX_NAME = "index.json"
LISTING_NAME = "listing.json"  # the unsigned peer listing `mirror serve` makes for a plain folder (listing.py)
SIG_SUFFIX = ".minisig"
MAX_SIG_FILE = 4096  # a .minisig file is four short lines


def bundle_path(sha256: str) -> str:
    """Where a bundle lives on a host: named by its hash, so it never changes."""
    return f"bundles/{sha256}.7z"


def sums_paths(sha256: str) -> tuple[str, str]:
    """The bundle's detached SHA256SUMS and its signature, to check the author before downloading."""
    return f"bundles/{sha256}.SHA256SUMS", f"bundles/{sha256}.SHA256SUMS{SIG_SUFFIX}"


def version_path(version: int) -> str:
    """The immutable copy of one index version."""
    return f"index/{version}.json"


def torrent_path(sha256: str) -> str:
    """The bundle's .torrent file (docs/swarm.md): its web seeds are the bundle's URL on each mirror."""
    return f"bundles/{sha256}.torrent"
