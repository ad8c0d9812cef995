"""What publish looks for on a host for each bundle it holds (publish/held.py)."""

from __future__ import annotations

from mirror.formats.index import BundleEntry
from mirror.publish.held import needed, short

SHA = "ab" * 32


def _entry(infohash: str | None) -> BundleEntry:
    return BundleEntry.for_bundle("0" * 32, 1, SHA, 1234, "t", "RWQ", infohash, None)


def test_a_torrent_is_needed_only_where_the_index_names_its_info_hash() -> None:
    """An entry published before torrents promises no .torrent, and readers do without one: a host lacking it was
    refused the index (helper-174's first cut), until a bundle no longer on the publisher's machine was sent again."""
    old, new = _entry(None), _entry("cd" * 20)
    assert f"bundles/{SHA}.torrent" not in dict(needed(old))
    assert f"bundles/{SHA}.torrent" in dict(needed(new))
    sizes: dict[str, int | None] = {path: 10 for path, _ in needed(new)} | {f"bundles/{SHA}.7z": 1234,
                                                                          f"bundles/{SHA}.torrent": None}
    assert short(old, sizes) == []
    assert short(new, sizes) == [(f"bundles/{SHA}.torrent", None)]
