"""The unsigned peer listing: which bundles a plain folder served by `mirror serve` holds. A hint only.

Example::

    listing = Listing((entry,))                   # BundleEntry values, as in the index
    raw = listing.to_bytes()                      # what `mirror serve` sends as /listing.json
    assert Listing.from_bytes(raw) == listing     # strict: unknown, missing or duplicate fields are errors
    listing, left_out = fitting(entries)          # what a room sends: never more than readers take

Nobody signs a listing. A reader uses it only under the rules of docs/format.md
("The unsigned peer listing"): every bundle it names must still hash to the
listed sha256 and then verify by its author's key, and a reader who has accepted
a publisher's signed index is never moved onto a listing without asking for it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

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


def fitting(entries: Sequence[BundleEntry], limit: int | None = None) -> tuple[Listing, int]:
    """A listing of as many of `entries` as fit in `limit` bytes (MAX_LISTING, what readers take), and how many were
    left out: those that take the most bytes first (the longest titles).

    Each entry is valid on its own, but 10,000 of them with titles of 1,000 characters make 40 MB: a room whose
    folder held a thousand such bundles (4 MB of files planted on a stick) sent a listing every reader refused
    whole, and none of its bundles could be fetched. Left out longest first, such entries never crowd out the
    others.
    """
    limit = MAX_LISTING if limit is None else limit
    whole = Listing(tuple(entries))
    if len(whole.to_bytes()) <= limit:
        return whole, 0
    empty = len(Listing(()).to_bytes())
    # what each entry adds to a listing: alone, its bytes and 5 of layout ("[\n  ", "\n ]"); beside others, its
    # bytes and 4 (",\n  "); the one byte more of the first is counted from the start
    sized = sorted((len(Listing((entry,)).to_bytes()) - empty - 1, n) for n, entry in enumerate(entries))
    kept, total = [], empty + 1
    for size, n in sized:
        if total + size > limit:
            break
        kept.append(n)
        total += size
    while kept and len(Listing(tuple(entries[n] for n in kept)).to_bytes()) > limit:  # never: the sums are exact
        kept.pop()
    return Listing(tuple(entries[n] for n in sorted(kept))), len(entries) - len(kept)
