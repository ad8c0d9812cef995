"""The swarm's one-line report: what each source sent, counted once, and what no alert named."""

from __future__ import annotations

from pathlib import Path

import pytest

from mirror.swarm.model import Tally


def test_a_banned_peer_is_not_counted_as_having_sent_the_bundle() -> None:
    """Its blocks were in pieces that failed their hash: listed as banned, not among the peers that sent it."""
    tally = Tally(received={"127.0.0.1:5000": 65536, "127.0.0.1:6000": 1_600_000}, banned=["127.0.0.1:5000"],
                  hash_failures=4)
    line = tally.summary()
    assert line.startswith("1600000 B from 1 peer(s); 0 B from 0 web seed(s)")
    assert "bytes by peer: 127.0.0.1:6000=1600000;" in line and "127.0.0.1:5000=" not in line
    assert line.endswith("banned 127.0.0.1:5000 (4 failed piece(s))")


def test_bytes_no_alert_named_are_said_not_dropped() -> None:
    """libtorrent posts no block alert for some blocks: the line said 1,579,493 B of a 1,645,029 B bundle."""
    tally = Tally(received={"127.0.0.1:6000": 1_579_493}, unnamed=65_536, resumed=98_304)
    assert tally.summary() == ("1579493 B from 1 peer(s); 0 B from 0 web seed(s); 65536 B from senders not named; "
                               "98304 B from an earlier run; bytes by peer: 127.0.0.1:6000=1579493")


class _Status:
    def __init__(self, kept: int) -> None:
        self.total_payload_download, self.total_failed_bytes, self.total_redundant_bytes = kept, 0, 0


class _Handle:
    """What Download._settle asks of a torrent handle: its status, its torrent file (none here) and its peers."""

    def __init__(self, kept: int) -> None:
        self.kept = kept

    def status(self) -> _Status:
        return _Status(self.kept)

    def torrent_file(self) -> None:
        return None

    def get_peer_info(self) -> list[object]:
        return []


def _settled(received: dict[str, int], web_seeds: tuple[str, ...], kept: int, peers_seen: bool) -> Tally:
    from pathlib import Path

    from mirror.swarm.download import Download
    from mirror.swarm.model import Wanted

    seeds = {a for a in received if any(f"//{a}/" in url for url in web_seeds)}
    tally = Tally(received=dict(received), web_seeds=seeds)
    wanted = Wanted("0" * 40, None, Path("."), "b.7z", kept, web_seeds=web_seeds)
    download = Download(None, _Handle(kept), wanted, tally, None, lambda alert, tally: None)  # type: ignore[arg-type]
    download.peers_seen = peers_seen
    download._watch_peers = lambda: None  # type: ignore[method-assign]
    download._settle()
    return tally


A, B = "http://127.0.0.1:8001/bundles/x.7z", "http://127.0.0.1:8002/bundles/x.7z"


def test_unnamed_bytes_go_to_the_web_seed_that_sent_not_to_one_that_answered_404() -> None:
    """Mirror A answered 404, B sent the bundle: the line said "from 2 web seed(s)", crediting what no alert named
    to A (the first by sort order)."""
    tally = _settled({"127.0.0.1:8002": 1_000_000}, (A, B), 1_500_000, peers_seen=False)
    assert tally.received == {"127.0.0.1:8002": 1_500_000} and tally.unnamed == 0
    assert tally.summary().startswith("0 B from 0 peer(s); 1500000 B from 1 web seed(s)")


def test_unnamed_bytes_go_to_the_only_peer_when_no_web_seed_was_given() -> None:
    """One peer (aria2c) and no web seed: half the bundle was "from senders not named"."""
    tally = _settled({"127.0.0.1:6881": 1_000_000}, (), 2_000_000, peers_seen=True)
    assert tally.received == {"127.0.0.1:6881": 2_000_000} and tally.unnamed == 0


def test_unnamed_bytes_stay_unnamed_when_they_could_be_anyones() -> None:
    two_peers = _settled({"127.0.0.1:6881": 500, "127.0.0.1:6882": 500}, (), 2_000, peers_seen=True)
    assert two_peers.unnamed == 1_000
    peer_and_seed = _settled({"127.0.0.1:6881": 500, "127.0.0.1:8002": 500}, (A, B), 2_000, peers_seen=True)
    assert peer_and_seed.unnamed == 1_000


def test_a_web_seed_named_by_host_is_credited_at_the_address_libtorrent_reached() -> None:
    """libtorrent names senders by address (127.0.0.1:P), the URL by host (localhost:P): the line said "from 2
    web seed(s)" for one mirror, crediting what no alert named to the host name."""
    tally = _settled({"127.0.0.1:8003": 1_000_000}, ("http://localhost:8003/bundles/x.7z",), 1_500_000,
                     peers_seen=False)
    assert tally.received == {"127.0.0.1:8003": 1_500_000} and tally.web_seeds == {"127.0.0.1:8003"}
    assert tally.summary().startswith("0 B from 0 peer(s); 1500000 B from 1 web seed(s)")


def _rows(urls: list[str], tally: Tally) -> dict[str, list[str]]:
    from mirror.fetch.report import MirrorReport
    from mirror.fetch.swarm import _base, _credit_web_seeds
    from mirror.fetch.transport import HttpMirror
    from mirror.formats.index import BundleEntry

    mirrors = [HttpMirror(url) for url in urls]
    entry = BundleEntry.for_bundle("0" * 32, 1, "a" * 64, 1_000_000, "t", "0" * 16)
    reports: dict[str, MirrorReport] = {}
    _credit_web_seeds(list(mirrors), tuple(b for m in mirrors if (b := _base(m))), entry, tally, reports)
    return {label: [e.detail for _, e in r.bundles.values()] for label, r in reports.items()}


def test_each_mirror_row_says_what_it_sent_as_a_web_seed() -> None:
    """A mirror libtorrent took the bundle from was reported "not tried"; one named by a host name is matched when
    it is the only web seed; mirrors sharing an address are said to share it, not each credited the whole."""
    sent = Tally(received={"127.0.0.1:8001": 1_000}, web_seeds={"127.0.0.1:8001"})
    assert _rows(["http://127.0.0.1:8001/m/"], sent) == {
        "http://127.0.0.1:8001/m/": ["1000 B of it to the swarm, as a web seed"]}
    assert _rows(["http://localhost:8001/m/"], sent) == {
        "http://localhost:8001/m/": ["1000 B of it to the swarm, as a web seed"]}
    shared = _rows(["http://127.0.0.1:8001/a/", "http://127.0.0.1:8001/b/"], sent)
    assert all(d == ["asked as a web seed: 1000 B of it came from 127.0.0.1:8001, which 2 mirrors share"]
               for d in shared.values()) and len(shared) == 2
    assert _rows(["http://127.0.0.1:8002/m/"], sent) == {}  # sent nothing: not said to have
    assert _rows(["http://localhost:8001/m/", "http://localhost:8002/m/"], sent) == {  # by port, among names
        "http://localhost:8001/m/": ["1000 B of it to the swarm, as a web seed"]}


def test_a_mirror_that_answered_an_error_is_never_credited_and_host_names_are_matched_as_resolved() -> None:
    """Two mirrors on one server: /empty/ answered the web seed 404, the other sent everything. The 404 one was
    credited the bytes (or said to share them) and the one that sent them was "not tried". Now the 404 one says
    what it answered, and a web seed reached that sent nothing named says it was asked: both saw the reader."""
    from mirror.formats.torrent import web_seeds

    def url(base: str) -> str:
        return web_seeds((base,), "a" * 64)[0]

    sent = Tally(received={"127.0.0.1:8001": 1_000}, web_seeds={"127.0.0.1:8001"},
                 seed_addresses={url("http://localhost:8001/good/"): {"127.0.0.1:8001", "[::1]:8001"},
                                 url("http://127.0.0.1:8001/empty/"): {"127.0.0.1:8001"}},
                 seed_errors={url("http://127.0.0.1:8001/empty/"): "404 Not Found"})
    assert _rows(["http://127.0.0.1:8001/empty/", "http://localhost:8001/good/"], sent) == {
        "http://localhost:8001/good/": ["1000 B of it to the swarm, as a web seed"],
        "http://127.0.0.1:8001/empty/": ["asked as a web seed, it answered: 404 Not Found"]}
    from mirror.fetch.report import Fate
    from mirror.fetch.swarm import _answer_fate

    # as fetch's own HTTP judges the same answers: a busy room (503) is no "not there", which would give it up
    assert [_answer_fate(a) for a in ("404 Not Found", "503 Service Unavailable", "429 Too Many Requests",
                                      "403 Forbidden", "answered with a redirect, which is not followed")] == [
        Fate.MISSING, Fate.UNREACHABLE, Fate.UNREACHABLE, Fate.REFUSED, Fate.REFUSED]
    sent.asked.add(url("http://127.0.0.1:8002/quiet/"))  # reached, sent nothing named: it saw the reader all the same
    assert _rows(["http://127.0.0.1:8002/quiet/"], sent) == {
        "http://127.0.0.1:8002/quiet/": ["asked as a web seed (what it sent is not told apart from the other sources)"]}
    sent.seed_addresses[url("http://127.0.0.1:8001/other/")] = {"127.0.0.1:8001"}
    shared = _rows(["http://127.0.0.1:8001/empty/", "http://localhost:8001/good/", "http://127.0.0.1:8001/other/"],
                   sent)  # two that may have sent it: said to share the address; the 404 one still not
    assert shared["http://127.0.0.1:8001/empty/"] == ["asked as a web seed, it answered: 404 Not Found"], shared
    assert all("which 2 mirrors share" in shared[u][0] for u in ("http://localhost:8001/good/",
                                                                  "http://127.0.0.1:8001/other/")), shared


@pytest.mark.parametrize(("message", "final"), [("404 Not Found", True), ("403 Forbidden", True),
                                                ("429 Too Many Requests", True), ("408 Request Timeout", True),
                                                ("503 Service Unavailable", True), ("invalid HTTP range", False),
                                                ("Content-Encoding gzip", False)])
def test_a_web_seeds_http_error_is_its_last_answer(message: str, final: bool) -> None:
    """libtorrent never asks a web seed again after an HTTP error, whatever its status (a busy 503 or 429 with
    Retry-After: 1 included: not asked again in 75 s), so the swarm need not wait for it; an answer it could not
    use is asked again."""
    from mirror.swarm.download import _HTTP_ERROR

    assert (_HTTP_ERROR.match(message) is not None) is final


def test_a_web_seed_banned_for_failed_pieces_is_suspect_not_ok() -> None:
    """A mirror whose pieces libtorrent banned was "ok, 600000 B of it to the swarm", and the line counted its
    bytes as from a web seed: it is suspect (who else sent in those pieces is not known), its bytes not counted
    (helper-122)."""
    from mirror.fetch.report import Fate, MirrorReport
    from mirror.fetch.swarm import _base, _credit_web_seeds
    from mirror.fetch.transport import HttpMirror
    from mirror.formats.index import BundleEntry

    tally = Tally(received={"127.0.0.1:8001": 600_000}, web_seeds={"127.0.0.1:8001"}, banned=["127.0.0.1:8001"],
                  hash_failures=3)
    assert tally.summary().startswith("0 B from 0 peer(s); 0 B from 0 web seed(s)")
    mirror = HttpMirror("http://127.0.0.1:8001/m/")
    entry = BundleEntry.for_bundle("0" * 32, 1, "a" * 64, 1_000_000, "t", "0" * 16)
    reports: dict[str, MirrorReport] = {}
    _credit_web_seeds([mirror], (_base(mirror) or "",), entry, tally, reports)
    [(_, event)] = reports[mirror.label].bundles.values()
    assert event.fate is Fate.SUSPECT and "failed the piece hashes" in event.detail


def test_when_the_swarm_gives_up_the_web_seeds_it_asked_still_get_their_rows(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows were written only after a download that succeeded: a mirror libtorrent reached (it saw the reader's
    address) and that answered 503 stayed "not tried" when the swarm then gave up (helper-122)."""
    from mirror.errors import Failure, TransferError
    from mirror.fetch import swarm as source
    from mirror.fetch.download import no_progress
    from mirror.fetch.report import Fate, MirrorReport
    from mirror.fetch.transport import HttpMirror
    from mirror.formats.index import BundleEntry
    from mirror.formats.torrent import web_seeds
    from mirror.swarm.settings import SwarmConfig

    mirror = HttpMirror("http://127.0.0.1:8001/m/")
    entry = BundleEntry.for_bundle("0" * 32, 1, "a" * 64, 1_000_000, "t", "0" * 16, "b" * 40, "magnet:?xt=x")
    url = web_seeds((source._base(mirror) or "",), entry.sha256)[0]

    class GivesUp:
        def download(self, wanted: object, deadlines: object, advance: object, tally: Tally) -> Tally:
            tally.asked.add(url)
            tally.seed_errors[url] = "503 Service Unavailable"
            raise TransferError("swarm", "no peer, and no web seed could be used", Failure.UNREACHABLE)

    monkeypatch.setattr(source, "checked_info", lambda *args: object())
    got = source.SwarmSource(SwarmConfig(), (), 5.0, lambda line: None)
    monkeypatch.setattr(got, "_session", GivesUp)
    reports: dict[str, MirrorReport] = {}
    assert got.get(entry, [mirror], tmp_path, reports, lambda line: None, no_progress) is None
    [(_, event)] = reports[mirror.label].bundles.values()
    assert (event.fate, event.detail) == (Fate.UNREACHABLE, "asked as a web seed, it answered: 503 Service Unavailable")
