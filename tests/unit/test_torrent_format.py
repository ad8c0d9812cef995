"""Torrent files as values: canonical bencode, the info dict, names, piece lengths, magnet links, index format 2."""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path

import libtorrent as lt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mirror.errors import ManifestError
from mirror.formats.bencode import Value, bdecode, bencode
from mirror.formats.index import BundleEntry, Index
from mirror.formats.torrent import (
    MAX_PIECE,
    MIN_PIECE,
    Torrent,
    TorrentInfo,
    magnet_infohash,
    magnet_link,
    piece_count,
    piece_length,
    torrent_name,
    web_seeds,
)

SHA = "ab" * 32
BUNDLE_ID = "9160a32272b841109d3e2645b87aafa7"


def _info(data: bytes = b"x" * 200_000, name: str = "almaty-9160a322-v1.7z") -> TorrentInfo:
    length = piece_length(len(data))
    pieces = b"".join(hashlib.sha1(data[i : i + length]).digest()  # noqa: S324 - BEP 3
                      for i in range(0, len(data), length))
    return TorrentInfo(name, len(data), length, pieces)


values: st.SearchStrategy[Value] = st.recursive(
    st.integers(min_value=-(2**70), max_value=2**70) | st.binary(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.binary(max_size=6), inner, max_size=4),
    max_leaves=12)


@given(values)
@settings(max_examples=200, deadline=None)
def test_bencode_roundtrips(value: Value) -> None:
    """Whatever we encode decodes to the same value."""
    assert bdecode(bencode(value), 1 << 20) == value


@given(st.binary(max_size=64))
@settings(max_examples=300, deadline=None)
def test_bdecode_never_crashes(raw: bytes) -> None:
    """Random bytes decode or raise ManifestError, nothing else."""
    with contextlib.suppress(ManifestError):
        bdecode(raw, 1 << 20)


@pytest.mark.parametrize("raw", [
    pytest.param(b"d1:bi1e1:ai2ee", id="unsorted keys"),
    pytest.param(b"d1:ai1e1:ai2ee", id="repeated key"),
    pytest.param(b"i03e", id="leading zero"),
    pytest.param(b"i-0e", id="minus zero"),
    pytest.param(b"i 3e", id="space in number"),
    pytest.param(b"i1_0e", id="underscore in number"),
    pytest.param(b"03:abc", id="padded length"),
    pytest.param(b"4:abc", id="string past the end"),
    pytest.param(b"i1ei2e", id="trailing value"),
    pytest.param(b"di1ei2ee", id="integer key"),
    pytest.param(b"l" * 40 + b"e" * 40, id="too deep"),
    pytest.param(b"x", id="unknown type"),
    pytest.param(b"", id="empty"),
])
def test_bdecode_refuses_non_canonical(raw: bytes) -> None:
    """Only the canonical encoding is read, so the info hash read is the info hash checked."""
    with pytest.raises(ManifestError):
        bdecode(raw, 1 << 20)


def test_bdecode_cap() -> None:
    """A file over the cap is refused before it is parsed."""
    with pytest.raises(ManifestError, match="larger than"):
        bdecode(b"0:" * 10, 5)


@pytest.mark.parametrize(("size", "expected"), [
    (0, MIN_PIECE), (1, MIN_PIECE), (MIN_PIECE * 2048, MIN_PIECE), (MIN_PIECE * 2048 + 1, 2 * MIN_PIECE),
    (1 << 30, 512 << 10), (16 << 30, 8 << 20), (1 << 40, MAX_PIECE),
])
def test_piece_length_rule(size: int, expected: int) -> None:
    """A power of two from 64 KiB to 16 MiB, at most 2048 pieces while the cap allows."""
    assert piece_length(size) == expected
    assert piece_count(size, expected) <= 2048 or expected == MAX_PIECE


@pytest.mark.parametrize(("title", "expected"), [
    ("Almaty, January 2022", "almaty-january-2022-9160a322-v3.7z"),
    ("Алматы: январь 2022", "алматы-январь-2022-9160a322-v3.7z"),
    ("../../etc/passwd", "etc-passwd-9160a322-v3.7z"),
    ("\u202eevil\u0000", "evil-9160a322-v3.7z"),
    ("!!!", "bundle-9160a322-v3.7z"),
    ("\uff21" * 200, "a" * 60 + "-9160a322-v3.7z"),
])
def test_torrent_name_is_a_safe_readable_slug(title: str, expected: str) -> None:
    """Letters and digits of the title in any script, never a path, a control character or an empty name."""
    assert torrent_name(title, BUNDLE_ID, 3) == expected


def test_torrent_is_deterministic_and_libtorrent_agrees() -> None:
    """Same values, same bytes; libtorrent reads our file and computes the same info hash and web seeds."""
    info = _info()
    seeds = web_seeds(("https://a.example/m/", "http://b.example/x"), SHA)
    assert seeds == (f"https://a.example/m/bundles/{SHA}.7z", f"http://b.example/x/bundles/{SHA}.7z")
    raw = Torrent(info, seeds, ("udp://t.example:6969/announce",)).to_bytes()
    assert raw == Torrent(_info(), seeds, ("udp://t.example:6969/announce",)).to_bytes()
    assert b"creation date" not in raw and b"created by" not in raw
    params = lt.load_torrent_buffer(raw)
    parsed = params.ti
    assert parsed is not None and str(parsed.info_hashes().v1) == info.infohash
    assert params.url_seeds == list(seeds) and params.trackers == ["udp://t.example:6969/announce"]
    assert (parsed.name(), parsed.total_size(), parsed.piece_length()) == (info.name, info.length, info.piece_length)
    assert Torrent.from_bytes(raw) == Torrent(info, seeds, ("udp://t.example:6969/announce",))


@pytest.mark.parametrize("change", [
    pytest.param(lambda d: d[b"info"].update({b"private": 1}), id="unknown info key"),
    pytest.param(lambda d: d.update({b"comment": b"hi"}), id="unknown top key"),
    pytest.param(lambda d: d[b"info"].update({b"pieces": b"x" * 19}), id="short piece list"),
    pytest.param(lambda d: d[b"info"].update({b"name": b"../x.7z"}), id="path in name"),
    pytest.param(lambda d: d[b"info"].update({b"piece length": 3000}), id="piece length not a power of two"),
    pytest.param(lambda d: d[b"info"].update({b"piece length": 1 << 40}), id="huge piece length"),
    pytest.param(lambda d: d[b"info"].update({b"name": b"..\\..\\x.7z"}), id="backslash path in name"),
    pytest.param(lambda d: d[b"info"].update({b"name": b".."}), id="dot-dot name"),
    pytest.param(lambda d: d[b"info"].update({b"files": [{b"length": 1, b"path": [b"..", b"x"]}]}), id="file list"),
    pytest.param(lambda d: d[b"info"].update({b"name": b"\xe2\x80\xaex.7z"}), id="bidi name"),
    pytest.param(lambda d: d.update({b"url-list": [b"file:///etc/passwd"]}), id="file URL web seed"),
    pytest.param(lambda d: d.update({b"url-list": b"http://a/"}), id="web seed not a list"),
    pytest.param(lambda d: d.update({b"announce-list": [[b"http://a/"]]}), id="announce-list without announce"),
])
def test_torrent_parser_refuses(change: object) -> None:
    """Anything but the form mirror writes is refused."""
    doc = bdecode(Torrent(_info(), web_seeds(("http://a.example/",), SHA)).to_bytes(), 1 << 20)
    assert isinstance(doc, dict)
    change(doc)  # type: ignore[operator]
    with pytest.raises(ManifestError):
        Torrent.from_bytes(bencode(doc))


def test_magnet_link_libtorrent_reads_it() -> None:
    """Our magnet link names the info hash, name, size, trackers and web seeds, and libtorrent parses it so."""
    info = _info(name="алматы-9160a322-v1.7z")
    link = magnet_link(info, (f"http://a.example/m/bundles/{SHA}.7z",), ("udp://t.example:1/announce",))
    assert magnet_infohash(link) == info.infohash
    params = lt.parse_magnet_uri(link)
    assert str(params.info_hashes.v1) == info.infohash and params.name == info.name
    assert params.url_seeds == [f"http://a.example/m/bundles/{SHA}.7z"]
    assert params.trackers == ["udp://t.example:1/announce"]
    for bad in ("magnet:?xt=urn:btih:" + "A" * 40, "http://x", f"magnet:?xt=urn:btih:{info.infohash}&xt=urn:btih:"
                f"{info.infohash}", f"magnet:?xt=urn:btih:{info.infohash} ",
                f"{link}&xt=urn:btmh:zz", f"{link}&xt.2=urn:btmh:1220" + "ab" * 32):  # libtorrent refuses the first
        with pytest.raises(ManifestError):
            magnet_infohash(bad)


def _index(entry: BundleEntry) -> Index:
    return Index("0123456789ABCDEF", 3, "2022-01-05T18:30:12Z", "2022-01-19T18:30:12Z", (entry,),
                 ("https://a.example/m/",))


def test_index_format_2_roundtrip_and_format_1_still_reads() -> None:
    """Format 2 carries infohash and magnet; a format-1 index parses with no torrent; format 3 asks for an upgrade."""
    info = _info()
    entry = BundleEntry.for_bundle(BUNDLE_ID, 1, SHA, info.length, "T", "0123456789ABCDEF", info.infohash,
                                   magnet_link(info))
    raw = _index(entry).to_bytes()
    assert json.loads(raw)["format"] == "mirror-index/2"
    assert Index.from_bytes(raw) == _index(entry)
    old = json.loads(raw)
    old["format"] = "mirror-index/1"
    for item in old["bundles"]:
        del item["infohash"], item["magnet"]
    parsed = Index.from_bytes(json.dumps(old).encode())
    assert parsed.bundles[0].infohash is None and parsed.bundles[0].magnet is None
    old["format"] = "mirror-index/3"
    with pytest.raises(ManifestError, match="newer") as caught:
        Index.from_bytes(json.dumps(old).encode())
    assert caught.value.hint is not None and "upgrade" in caught.value.hint


@pytest.mark.parametrize(("infohash", "magnet"), [
    pytest.param("0" * 40, None, id="infohash without magnet"),
    pytest.param(None, "magnet:?xt=urn:btih:" + "0" * 40, id="magnet without infohash"),
    pytest.param("0" * 40, "magnet:?xt=urn:btih:" + "1" * 40, id="magnet names another torrent"),
    pytest.param("0" * 39, "magnet:?xt=urn:btih:" + "0" * 39, id="short infohash"),
])
def test_index_torrent_fields_must_agree(infohash: str | None, magnet: str | None) -> None:
    """The signed info hash and magnet link name the same torrent, or are both null."""
    entry = BundleEntry.for_bundle(BUNDLE_ID, 1, SHA, 5, "T", "0123456789ABCDEF", infohash, magnet)
    with pytest.raises(ManifestError, match="bundle entry"):
        Index.from_bytes(_index(entry).to_bytes())


def test_a_hostile_name_is_not_echoed_whole() -> None:
    """A torrent name of thousands of characters is cut in the error message, which stays one short line."""
    with pytest.raises(ManifestError) as caught:
        TorrentInfo("\u202e" + "a" * 5000, 10, 1 << 16, b"1" * 20)
    assert len(str(caught.value)) < 200 and "\u202e" not in str(caught.value)


def test_an_empty_file_is_no_torrent_of_a_bundle() -> None:
    """Length 0 with one piece hash: libtorrent refuses the dict ("incorrect number of piece hashes"), so the
    parser does, before it gets there."""
    with pytest.raises(ManifestError, match="out of range"):
        TorrentInfo("a.7z", 0, 1 << 14, bytes(20))


def test_metadata_libtorrent_refuses_is_a_bad_answer_not_a_crash(tmp_path: Path) -> None:
    """Whatever got past the parser and still makes libtorrent raise is that peer's bad answer (TransferError),
    never an internal error that ends the fetch."""
    from mirror.errors import Failure, TransferError
    from mirror.swarm.engine import Swarm
    from mirror.swarm.settings import SwarmConfig

    unusable = bencode({b"length": 0, b"name": b"a.7z", b"piece length": 1 << 14, b"pieces": bytes(20)})
    swarm = Swarm(SwarmConfig(), log=lambda _line: None)
    with pytest.raises(TransferError) as caught:
        swarm._params(unusable, None, tmp_path, "a.7z")
    assert caught.value.failure is Failure.BAD_ANSWER and "metadata is unusable" in str(caught.value)
    params = swarm._params(None, "ab" * 20, tmp_path, "a.7z")  # a magnet link's topic alone, nothing it names
    assert str(params.info_hashes.v1) == "ab" * 20 and params.trackers == [] and params.url_seeds == []
