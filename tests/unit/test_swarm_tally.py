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
