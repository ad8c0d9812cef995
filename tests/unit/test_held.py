"""What publish looks for on a host for each bundle it holds (publish/held.py)."""

from __future__ import annotations

from mirror.formats.index import BundleEntry
from mirror.publish.held import needed, recorded, short, wrong

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


def test_the_recorded_sizes_are_those_of_the_signed_side_files_and_are_required() -> None:
    """SHA256SUMS and its signature are the bundle's own bytes, one size everywhere: recorded when sent, and a host's
    copy of another size is short; a .torrent (its web seeds follow the host list) and the index files are not
    recorded, and a side file with no record only has to be there and not empty."""
    new = _entry("cd" * 20)
    sums, sig = f"bundles/{SHA}.SHA256SUMS", f"bundles/{SHA}.SHA256SUMS.minisig"
    sides = recorded([(sums, 242, "1" * 64), (sig, 300, "2" * 64), (f"bundles/{SHA}.torrent", 900, "3" * 64),
                      ("index.json.minisig", 300, "4" * 64), (f"bundles/{SHA}.7z", 1234, SHA)])
    assert sides == {sums: (242, "1" * 64), sig: (300, "2" * 64)}
    assert dict(needed(new, sides))[sums] == 242 and dict(needed(new, sides))[f"bundles/{SHA}.torrent"] is None
    sizes: dict[str, int | None] = {path: 10 for path, _ in needed(new)} | {f"bundles/{SHA}.7z": 1234, sig: 300}
    assert short(new, sizes) == []  # without a record: there and not empty is enough
    assert short(new, sizes, sides) == [(sums, 10)]
    assert wrong(new, sums, 10, sides) == "has 10 bytes, not 242" and wrong(new, sums, 0, sides) == "is empty"
    assert wrong(new, f"bundles/{SHA}.torrent", 0, sides) == "is empty" and wrong(new, sums, None) == "is missing"
