"""The room's pure parts: Range, the peer listing, peer addresses, page text, languages, piece sizes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mirror.errors import ManifestError
from mirror.fetch.listing import OTHER_COPIES, _merge
from mirror.formats.announce import lan_address, txt_record
from mirror.formats.index import BundleEntry
from mirror.formats.listing import MAX_ENTRIES, MAX_LISTING, Listing, fitting
from mirror.serve.limits import MAX_PIECE, MIN_PIECE, Pace
from mirror.serve.page import clean
from mirror.serve.ranges import Span, span_for
from mirror.serve.words import pick_language

ETAG = '"abc"'
SHA = "a" * 64


@pytest.mark.parametrize(("header", "if_range", "expected"), [
    pytest.param(None, None, Span(0, 1000, False), id="no range"),
    pytest.param("bytes=100-", None, Span(100, 1000, True), id="open end"),
    pytest.param("bytes=0-0", None, Span(0, 1, True), id="first byte"),
    pytest.param("bytes=10-19", None, Span(10, 20, True), id="closed"),
    pytest.param("bytes=990-5000", None, Span(990, 1000, True), id="end past the file"),
    pytest.param("bytes=-100", None, Span(900, 1000, True), id="suffix"),
    pytest.param("bytes=-5000", None, Span(0, 1000, True), id="suffix longer than file"),
    pytest.param("BYTES=5-", None, Span(5, 1000, True), id="unit case"),
    pytest.param("bytes=1000-", None, None, id="start at the end: 416"),
    pytest.param("bytes=-0", None, None, id="empty suffix: 416"),
    pytest.param("bytes=0-1,5-6", None, Span(0, 1000, False), id="several ranges: whole file"),
    pytest.param("bytes=20-10", None, Span(0, 1000, False), id="reversed: ignored"),
    pytest.param("items=0-5", None, Span(0, 1000, False), id="other unit: ignored"),
    pytest.param("bytes=-", None, Span(0, 1000, False), id="no numbers: ignored"),
    pytest.param("bytes=" + "9" * 30 + "-", None, None, id="huge start: 416"),
    pytest.param("bytes=100-" + "9" * 30, None, Span(100, 1000, True), id="huge end: to the end of the file"),
    pytest.param("bytes=-" + "9" * 30, None, Span(0, 1000, True), id="huge suffix: the whole file, 206"),
    pytest.param("bytes=" + "9" * 41 + "-", None, Span(0, 1000, False), id="absurd number: ignored"),
    pytest.param("bytes=100-", ETAG, Span(100, 1000, True), id="if-range matches"),
    pytest.param("bytes=100-", '"other"', Span(0, 1000, False), id="if-range stale: whole file"),
    pytest.param("bytes=100-", "Wed, 21 Oct 2015 07:28:00 GMT", Span(0, 1000, False), id="if-range date"),
])
def test_range_rules(header: str | None, if_range: str | None, expected: Span | None) -> None:
    """One satisfiable range gives 206, an unsatisfiable one 416, anything odd the whole file."""
    assert span_for(header, if_range, ETAG, 1000) == expected


def test_content_range_of_a_span() -> None:
    """Content-Range names the first and last byte and the size."""
    assert Span(100, 1000, True).content_range(1000) == "bytes 100-999/1000"


def _entry(version: int = 1, sha: str = SHA) -> BundleEntry:
    return BundleEntry.for_bundle("3c8dbc1082c840be811be4c5c0a234c6", version, sha, 1000, "<b>t</b>",
                                  "B46D012DF424677C")


def test_listing_round_trip_and_strictness() -> None:
    """A listing reads back equal; unknown fields, a bad path or too many entries are refused."""
    listing = Listing((_entry(),))
    raw = listing.to_bytes()
    assert Listing.from_bytes(raw) == listing
    doc = json.loads(raw)
    for broken in ({**doc, "signed": True}, {**doc, "format": "mirror-listing/2"},
                   {**doc, "bundles": [{**doc["bundles"][0], "path": "../../etc/passwd"}]},
                   {**doc, "bundles": [doc["bundles"][0]] * (MAX_ENTRIES + 1)}):
        with pytest.raises(ManifestError):
            Listing.from_bytes(json.dumps(broken).encode())
    with pytest.raises(ManifestError, match="twice"):
        Listing.from_bytes(b'{"format": "mirror-listing/1", "bundles": [], "bundles": []}')


def test_a_rooms_listing_of_long_titles_is_cut_to_what_readers_take() -> None:
    """A thousand valid entries with titles of 995 emoji (4 bytes each in UTF-8) make more than a reader
    takes: the room keeps those that fit, the longest left out first, so that a short one is never crowded out."""
    long = [BundleEntry.for_bundle("3c8dbc1082c840be811be4c5c0a234c6", n + 1, f"{n:064x}", 4000,
                                   f"{n:05d}" + "\U0001f600" * 995, "B46D012DF424677C") for n in range(1000)]
    short = _entry(sha="b" * 64)
    entries = [*long[:500], short, *long[500:]]
    assert len(Listing(tuple(entries)).to_bytes()) > MAX_LISTING  # what a room sent, and every reader refused
    listing, left_out = fitting(entries)
    raw = listing.to_bytes()
    assert len(raw) <= MAX_LISTING
    assert set(Listing.from_bytes(raw).bundles) == set(listing.bundles)  # a reader takes it
    assert short in listing.bundles
    assert 0 < left_out == len(entries) - len(listing.bundles)
    assert set(listing.bundles) <= set(entries)
    assert fitting([short]) == (Listing((short,)), 0)
    assert fitting([short, *long[:3]], limit=len(Listing((short, *long[:2])).to_bytes())) == \
        (Listing((short, *long[:2])), 1)  # to the byte: what fits exactly is kept


@pytest.mark.parametrize(("address", "usable"), [
    ("192.168.1.23", True), ("10.0.0.5", True), ("172.16.3.4", True), ("169.254.7.7", True),
    ("127.0.0.1", False), ("8.8.8.8", False), ("100.64.0.1", False), ("0.0.0.0", False),  # noqa: S104
    ("0.1.2.3", False),
    ("224.0.0.251", False), ("255.255.255.255", False), ("fe80::1", False), ("::1", False), ("not an ip", False),
])
def test_only_local_network_peers(address: str, usable: bool) -> None:
    """An announcement can only point a reader at a private or link-local IPv4 address."""
    assert lan_address(address) is usable


def test_txt_record_says_little() -> None:
    """The announcement carries the format version, signed or not, and a count; no name, no title."""
    assert txt_record(False, 3) == {"v": "1", "index": "unsigned", "bundles": "3"}


@pytest.mark.parametrize(("value", "shown"), [
    ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ('" onmouseover="x', "&quot; onmouseover=&quot;x"),
    ("a\u202eb\x00c\u2028d", "a\ufffdb\ufffdc\ufffdd"),
    ("Алматы", "Алматы"),
    ("x" * 400, "x" * 300 + "\u2026"),
])
def test_untrusted_text_is_escaped(value: str, shown: str) -> None:
    """Markup, quotes, bidi and control characters from a bundle never reach the page as themselves."""
    assert clean(value) == shown


@pytest.mark.parametrize(("asked", "accept", "language"), [
    ("ru", None, "ru"), ("kk", "en", "kk"), (None, "kk-KZ,ru;q=0.8", "kk"), (None, "de-DE,ru;q=0.5", "ru"),
    ("xx", "fr", "en"), (None, None, "en"), ("<script>", None, "en"),
    (None, "en;q=0.1, ru;q=0.9", "ru"), (None, "ru;q=0, kk;q=0.2", "kk"), (None, "ru;q=0", "en"),
    (None, "kk;q=abc, ru;q=0.5", "ru"), (None, "kk;q=0.5, ru;q=0.5", "kk"),
    (None, "kk;q=\u0660.\u0669, ru;q=0.5", "ru"), (None, "rum, kk;q=0.1", "kk"), (None, "ru-KZ", "ru"),
    (None, "kk;q=1.000, ru;q=0.999", "kk"), (None, "kk;q=1.5", "en"), (None, "ru_RU", "ru"),
])
def test_page_language(asked: str | None, accept: str | None, language: str) -> None:
    """?lang= first, then the browser's languages, then English; nothing else is ever used."""
    assert pick_language(asked, accept) == language


def test_pieces_follow_the_client_speed() -> None:
    """Pieces start at 32 KiB, at most double, and follow about one second of the average speed."""
    pace = Pace(0.0)
    assert pace.piece == MIN_PIECE
    assert pace.next_piece(0.001, MIN_PIECE) == 2 * MIN_PIECE  # fast: doubles, no more
    for _ in range(10):
        pace.next_piece(0.002, 100 << 20)
    assert pace.piece == MAX_PIECE
    assert pace.next_piece(100.0, 20_000 * 100) == MIN_PIECE  # 20 kB/s on average: the smallest piece


def test_listings_merge_by_author_and_version() -> None:
    """Of one id by one author the highest version wins, the lower one tried after it (a peer's "version 99" of
    bytes it does not have hid the real one); another author's bundle of the same id stays apart; the same file
    under another title is another copy to try."""
    old, new = _entry(1, "1" * 64), _entry(2, "2" * 64)
    same_file = BundleEntry.for_bundle("ffffffffffffffff", 1, "2" * 64, 1000, "t", "B46D012DF424677C")
    other = BundleEntry.for_bundle(old.id, 9, "3" * 64, 1000, "t", "0000000000000000")
    merged, others = _merge([Listing((old, other)), Listing((new, same_file))])
    assert merged == (new, other, same_file) and others == {new.sha256: (old, same_file)}  # the same bytes
    retitled = BundleEntry.for_bundle(new.id, 2, new.sha256, new.size, "An official statement", new.author_key)
    merged, others = _merge([Listing((retitled,)), Listing((new,))])
    assert merged == (retitled,) and others == {new.sha256: (new,)}


def test_copies_of_one_version_are_taken_in_turns_across_peers() -> None:
    """Peers offer the author's copy and endorsed ones (larger): each peer's smaller copies first, in turns across
    peers, so a peer that lists many fakes gets one place in each round, and at most 3 in all: it never crowds
    the others out, also with fakes of higher versions."""
    def copy(sha: str, size: int, version: int = 3) -> BundleEntry:
        return BundleEntry.for_bundle("0123456789abcdef", version, sha * 64, size, "t", "B46D012DF424677C")

    plain, endorsed, vouched, older = copy("a", 1000), copy("b", 1400), copy("c", 1800), copy("d", 9000, 2)
    fakes = [copy(f"{i}", 10 + i) for i in range(9)]
    merged, others = _merge([Listing((*fakes, older)), Listing((vouched, endorsed, plain)), Listing((plain,))])
    assert merged == (fakes[0],)
    assert others == {fakes[0].sha256: (plain, fakes[1], endorsed, fakes[2], vouched)}
    higher = [copy(f"{i}", 10 + i, 99 - i) for i in range(9)]  # "versions" 99 to 91 of bytes the peer lacks
    merged, others = _merge([Listing(tuple(higher)), Listing((plain,))])
    assert merged == (higher[0],) and others == {higher[0].sha256: (higher[1], higher[2], plain)}
    # the honest file claimed by 3 fake ids under 3 titles each, by the peer asked first: each id keeps its own
    # entry (fetch ID finds the real one), and the file's copies to try hold the honest one
    fakes = [BundleEntry.for_bundle(f"{i:016x}", 1, plain.sha256, plain.size, f"title {t}", plain.author_key)
             for i in range(3) for t in range(3)]
    merged, others = _merge([Listing(tuple(fakes)), Listing((plain,))])
    assert plain in merged and plain in others[merged[0].sha256]
    merged, others = _merge([Listing((endorsed, plain)), Listing((vouched,))])
    assert merged == (plain,) and others == {plain.sha256: (vouched, endorsed)}


def test_peers_that_make_up_higher_versions_or_ids_never_fill_every_try() -> None:
    """Three peers, each listing three made-up higher versions of a bundle, or the real file under three made-up
    ids, were tried before an honest fourth peer's real one: their nine claims filled the first try and all
    OTHER_COPIES others, and the real bundle was never fetched (helper-150: the ids, whose turns were counted per
    id, still did). Every peer's best gets a place before any peer's second; the places are then tried newest
    first. Only as many lying peers as there are tries can hide the bundle."""
    def copy(sha: str, version: int, bundle_id: str = "0123456789abcdef") -> BundleEntry:
        return BundleEntry.for_bundle(bundle_id, version, sha * 64, 1000 + version, "t", "B46D012DF424677C")

    plain = copy("a", 3)
    for liars in (3, 4, 8):
        made_up = [Listing(tuple(copy(f"{peer % 10}{n}", 99 - n) for n in range(3))) for peer in range(liars)]
        merged, others = _merge([*made_up, Listing((plain,))])
        tries = (*merged, *others[merged[0].sha256])
        assert len(tries) == 1 + OTHER_COPIES and tries[-1] == plain and tries[0].version == 99, liars
    made_up = [Listing(tuple(copy(f"{peer % 10}{n}", 99 - n) for n in range(3))) for peer in range(9)]
    merged, others = _merge([*made_up, Listing((plain,))])
    assert plain not in (*merged, *others[merged[0].sha256])  # nine liars: the bound
    ids = [Listing(tuple(copy("a", 3, f"{peer}{n}" + "f" * 14) for n in range(3))) for peer in range(3)]
    merged, others = _merge([*ids, Listing((plain,))])
    assert plain in merged and plain in others[merged[0].sha256]


def test_a_peers_second_copy_of_the_newest_version_comes_before_an_older_one() -> None:
    """Peer A offers v2 as the author made it and v2 endorsed; peer B v1 endorsed. A reader who requires an
    endorser got v1 (helper-150: the rounds put B's v1 before A's second copy): places are tried newest first."""
    def copy(sha: str, version: int, size: int) -> BundleEntry:
        return BundleEntry.for_bundle("0123456789abcdef", version, sha * 64, size, "t", "B46D012DF424677C")

    plain, endorsed, older = copy("a", 2, 1000), copy("b", 2, 1400), copy("c", 1, 1400)
    merged, others = _merge([Listing((plain, endorsed)), Listing((older,))])
    assert merged == (plain,) and others == {plain.sha256: (endorsed, older)}


def test_a_listed_title_is_no_longer_than_a_bundle_may_have() -> None:
    """A peer's listing titled 200 KB was printed whole in fetch's report: a title is at most 1,000 characters,
    as in bundle.json."""
    entry = json.loads(Listing((_entry(1, "1" * 64),)).to_bytes())
    entry["bundles"][0]["title"] = "t" * 1000
    assert Listing.from_bytes(json.dumps(entry).encode()).bundles[0].title == "t" * 1000
    entry["bundles"][0]["title"] = "t" * 1001
    with pytest.raises(ManifestError, match="malformed"):
        Listing.from_bytes(json.dumps(entry).encode())


@pytest.mark.parametrize("field", ["title", "magnet"])
def test_a_listed_text_is_unicode(field: str) -> None:
    """A title of "\\ud800" (a lone surrogate, which JSON's escapes allow) was taken, and `fetch --json` wrote it
    back: jq refused the whole report (helper-145). Refused like a malformed entry."""
    entry = json.loads(Listing((_entry(1, "1" * 64),)).to_bytes())
    raw = json.dumps(entry).replace('"title": "', '"title": "\\ud800') if field == "title" else \
        json.dumps({**entry, "bundles": [{**entry["bundles"][0], "infohash": "ab" * 20,
                                           "magnet": f"magnet:?xt=urn:btih:{'ab' * 20}&dn=x\ud800"}]})
    with pytest.raises(ManifestError, match="lone surrogate"):
        Listing.from_bytes(raw.encode())


@pytest.mark.parametrize("language", ["en", "ru", "kk"])
def test_the_room_page_hash_check_works_in_an_unpacked_bundle(language: str, bundle: Path, tmp_path: Path) -> None:
    """The page said `sha256sum -c SHA256SUMS`: in a bundle of today's format the list is in .mirror/, so the
    command found no file at the top of the unpacked folder, and every file failed inside .mirror/."""
    import re
    import subprocess

    from helpers import sevenzip_extract
    from mirror.serve.words import WORDS

    (command,) = {m for step in WORDS[language].steps for m in re.findall(r"`(sha256sum -c [^`]+)`", step)}
    folder = sevenzip_extract(bundle, tmp_path / "unpacked")
    result = subprocess.run([*command.split(), "--strict"], cwd=folder, capture_output=True, text=True, check=False)
    assert result.returncode == 0 and ": OK" in result.stdout, result.stdout + result.stderr
