"""Bundle entries of an index or a room's listing: a size, key id or version past what any bundle can have is
refused."""

from __future__ import annotations

import json

import pytest

from mirror.errors import ManifestError
from mirror.formats.index import MAX_BUNDLE_BYTES, parse_entry
from mirror.formats.listing import Listing

_SHA = "ab" * 32


def _entry(size: int) -> dict[str, object]:
    return {"id": "0123456789abcdef0123456789abcdef", "version": 1, "sha256": _SHA, "size": size,
            "path": f"bundles/{_SHA}.7z", "title": "t", "author_key": "C7058BB9C3C0D24C", "infohash": None,
            "magnet": None}


def test_a_size_up_to_the_largest_bundle_is_accepted() -> None:
    assert parse_entry(_entry(MAX_BUNDLE_BYTES)).size == MAX_BUNDLE_BYTES
    assert parse_entry(_entry(32)).size == 32


@pytest.mark.parametrize("size", [0, 1, 31])
def test_a_size_smaller_than_any_bundle_is_refused(size: int) -> None:
    """An entry of 0 bytes with the hash of nothing was 'complete' before any download, and the fetch ended on a
    part file that was never made: a 7z file has at least its 32-byte signature header."""
    with pytest.raises(ManifestError, match="fewer than any bundle has"):
        parse_entry(_entry(size))


@pytest.mark.parametrize("size", [MAX_BUNDLE_BYTES + 1, 10**13, 2**63])
def test_a_listing_that_claims_more_than_a_bundle_can_be_is_refused(size: int) -> None:
    """Fetch would write that many bytes from a room before the hash could fail (a room's listing is unsigned)."""
    raw = json.dumps({"format": "mirror-listing/1", "bundles": [_entry(size)]}).encode()
    with pytest.raises(ManifestError, match="more than a bundle may have"):
        Listing.from_bytes(raw)
    with pytest.raises(ManifestError, match="more than a bundle may have"):
        parse_entry(_entry(size))


@pytest.mark.parametrize(("field", "value"), [
    ("author_key", "A" * 300),  # a file name is made of it: too long a name failed the whole fetch
    ("author_key", "c7058bb9c3c0d24c"),
    ("author_key", "../../C7058BB9C3"),
    ("version", 0),
    ("version", 2**31),
    ("version", 10**300),
])
def test_an_entry_with_a_key_id_or_version_no_bundle_can_have_is_refused(field: str, value: object) -> None:
    with pytest.raises(ManifestError, match="malformed"):
        parse_entry({**_entry(1), field: value})


def test_a_mirror_url_in_an_index_is_unicode_text() -> None:
    """"http://\\ud800" passed as a mirror URL: a publisher's index saying so would have broken the reader's state
    file when it was written back (helper-146)."""
    from mirror.formats.index import Index

    doc = {"format": "mirror-index/1", "publisher_key": "B46D012DF424677C", "version": 1,
           "created": "2022-01-12T18:30:12Z", "expires": "2022-01-19T18:30:12Z", "bundles": [],
           "mirrors": ["https://a.example/m/"]}
    assert Index.from_bytes(json.dumps(doc).encode()).mirrors == ("https://a.example/m/",)
    raw = json.dumps({**doc, "mirrors": ["http://\ud800"]}).encode()
    with pytest.raises(ManifestError, match="mirror list is malformed"):
        Index.from_bytes(raw)
