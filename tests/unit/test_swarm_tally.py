"""The swarm's one-line report: what each source sent, counted once, and what no alert named."""

from __future__ import annotations

from mirror.swarm.model import Tally


def test_a_banned_peer_is_not_counted_as_having_sent_the_bundle() -> None:
    """Its blocks were in pieces that failed their hash: listed as banned, not among the peers that sent it."""
    tally = Tally(received={"127.0.0.1:5000": 65536, "127.0.0.1:6000": 1_600_000}, banned=["127.0.0.1:5000"],
                  hash_failures=4)
    line = tally.summary()
    assert line.startswith("1600000 B from 1 peer(s); 0 B from 0 web seed(s)")
    assert "peers 127.0.0.1:6000=1600000;" in line and "127.0.0.1:5000=" not in line
    assert line.endswith("banned 127.0.0.1:5000 (4 failed piece(s))")


def test_bytes_no_alert_named_are_said_not_dropped() -> None:
    """libtorrent posts no block alert for some blocks: the line said 1,579,493 B of a 1,645,029 B bundle."""
    tally = Tally(received={"127.0.0.1:6000": 1_579_493}, unnamed=65_536, resumed=98_304)
    assert tally.summary() == ("1579493 B from 1 peer(s); 0 B from 0 web seed(s); 65536 B from senders not named; "
                               "98304 B from an earlier run; peers 127.0.0.1:6000=1579493")


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
