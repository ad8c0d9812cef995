"""The unsigned peer listing: which bundles a plain folder served by `mirror serve` holds. A hint only.

Example::

    listing = Listing((entry,))                   # BundleEntry values, as in the index
    raw = listing.to_bytes()                      # what `mirror serve` sends as /listing.json
    assert Listing.from_bytes(raw) == listing     # strict: unknown, missing or duplicate fields are errors

Nobody signs a listing. A reader uses it only under the rules of docs/format.md
("The unsigned peer listing"): every bundle it names must still hash to the
listed sha256 and then verify by its author's key, and a reader who has accepted
a publisher's signed index is never moved onto a listing without asking for it.
"""

from __future__ import annotations

import json

from mirror.errors import ManifestError
from mirror.formats.index import BundleEntry, parse_entry
from mirror.formats.jsonstrict import parse_json
from mirror.record import as_dict, record

FORMAT = "mirror-listing/1"
MAX_LISTING = 4 << 20
MAX_ENTRIES = 10_000


@record
class Listing:
    """The bundles one peer offers, each under its content address."""

    bundles: tuple[BundleEntry, ...]

    def to_bytes(self) -> bytes:
        """Deterministic JSON, sorted like the index."""
        doc = {"format": FORMAT,
               "bundles": [as_dict(b) for b in sorted(self.bundles, key=lambda b: (b.id, b.version, b.sha256))]}
        return (json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Listing:
        """Parse a listing strictly.

        Raises:
            ManifestError: too large, too many entries, malformed, unknown or duplicate fields.
        """
        doc = parse_json(raw, "listing", MAX_LISTING)
        if not isinstance(doc, dict) or set(doc) != {"format", "bundles"} or doc["format"] != FORMAT:
            raise ManifestError("listing has missing or unknown fields, or an unknown format")
        if not isinstance(doc["bundles"], list) or len(doc["bundles"]) > MAX_ENTRIES:
            raise ManifestError(f"listing bundle list is malformed or longer than {MAX_ENTRIES}")
        return cls(tuple(parse_entry(item) for item in doc["bundles"]))
