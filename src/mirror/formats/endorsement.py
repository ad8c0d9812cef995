"""Endorsements as the format reserves them: `endorsements/<KEYID>.minisig`, a re-sharer's signature over SHA256SUMS.

Example::

    endorsement_name(key.key_id)                    # "endorsements/2B44AA74552E4081.minisig"
    endorsement_key_id("endorsements/2B44AA74552E4081.minisig")   # "2B44AA74552E4081"
    endorsement_comment("9160a322...", 1, "knows-author")
    # "bundle:9160a322...\tversion:1\trole:endorser\tclaim:knows-author"
    claim_of(comment, "9160a322...", 1)            # "knows-author", or None for any other comment

Each file is a minisign signature (docs/format.md) whose trusted comment binds the bundle's id and
version, the role and one claim. The name carries the signer's key id, so one key endorses at most once.
"""

from __future__ import annotations

import re

from mirror.formats.manifest import CURRENT, Layout
from mirror.formats.minisign import MAX_SIGNATURE_FILE, key_id_hex

CLAIMS = ("relayed", "knows-author", "witnessed")
MAX_ENDORSEMENTS = 100
MAX_ENDORSEMENT_BYTES = MAX_SIGNATURE_FILE  # 4 KiB, like the author's signature file
_FILE = re.compile(r"([0-9A-F]{16})\.minisig")
_COMMENT = re.compile(r"bundle:(.+)\tversion:([0-9]+)\trole:endorser\tclaim:(.+)")


def endorsement_name(key_id: bytes, layout: Layout = CURRENT) -> str:
    """The member name of the endorsement by the key with this id."""
    return f"{layout.endorsements}{key_id_hex(key_id)}.minisig"


def endorsement_key_id(name: str, layout: Layout = CURRENT) -> str | None:
    """The key id a member name in the layout's endorsements folder carries, or None when it is not one of ours."""
    if not name.startswith(layout.endorsements):
        return None
    match = _FILE.fullmatch(name[len(layout.endorsements):])
    return match[1] if match else None


def is_endorsement(name: str, layout: Layout = CURRENT) -> bool:
    """Whether the member is in the layout's endorsements folder (well named or not: the verifier decides)."""
    return name.startswith(layout.endorsements)


def endorsement_comment(bundle_id: str, version: int, claim: str) -> str:
    """The trusted comment an endorser signs: which bundle, which version, and what they claim."""
    return f"bundle:{bundle_id}\tversion:{version}\trole:endorser\tclaim:{claim}"


def claim_of(comment: str, bundle_id: str, version: int) -> str | None:
    """The claim, if `comment` is an endorsement of exactly this bundle and version with a known claim."""
    match = _COMMENT.fullmatch(comment)
    if match is None or match[1] != bundle_id or match[2] != str(version) or match[3] not in CLAIMS:
        return None
    return match[3]
