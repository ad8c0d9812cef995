"""How the seed counts connections by address (swarm/engine.py, `_group`, `_bounds`), what a session may connect
to, and what of a peer's words reaches the terminal."""

from __future__ import annotations

import pytest

from mirror.swarm.engine import _bounds, _group


def test_an_ipv6_host_is_counted_by_its_64() -> None:
    """One IPv6 host may open connections from every address of its /64: counted (and refused) as one."""
    assert _group("2001:db8:1:2::5") == _group("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert _group("2001:db8:1:3::5") != _group("2001:db8:1:2::5")
    assert _bounds("2001:db8:1:2::/64") == ("2001:db8:1:2::", "2001:db8:1:2:ffff:ffff:ffff:ffff")
    assert _group("192.0.2.7") == "192.0.2.7" and _bounds("192.0.2.7") == ("192.0.2.7", "192.0.2.7")
    assert _group("not an address") == "not an address"


def test_this_computers_own_address_is_never_refused() -> None:
    """In the local reach every reader connects from 127.0.0.1: refusing the address that crowded refused them all
    (helper-160: 41 idle connections of one local program kept every fetch out for 10 minutes)."""
    from mirror.swarm.engine import _loopback

    assert _loopback(_group("127.0.0.1")) and _loopback(_group("::1"))
    assert not _loopback(_group("127.0.3.1")) and not _loopback(_group("192.168.1.5"))
    assert not _loopback(_group("2001:db8::1"))
    # an IPv4 peer on a dual socket is that IPv4 address, never the /64 of ::1 (helper-163)
    assert _group("::ffff:203.0.113.5") == "203.0.113.5" and not _loopback(_group("::ffff:203.0.113.5"))
    assert not _loopback(_group("::2"))


def test_a_local_session_may_be_connected_to_this_computer_only() -> None:
    """A peer's ut_holepunch "connect" (libtorrent follows it, and offers the extension even without plugins) made
    a local seed connect to any address it named, sending the info hash (helper-160): the local reach's session
    filters every address but this computer's; a proxy's session is left to the proxy."""
    from mirror.swarm.engine import Swarm
    from mirror.swarm.settings import Reach, SwarmConfig

    with Swarm(SwarmConfig(reach=Reach.LOCAL, port=0), lambda line: None) as swarm:
        rules = swarm.session.get_ip_filter()
        assert rules.access("10.1.2.3") == 1 and rules.access("192.168.1.1") == 1 and rules.access("8.8.8.8") == 1
        assert rules.access("2001:db8::1") == 1
        assert rules.access("127.0.0.1") == 0 and rules.access("127.0.0.3") == 0 and rules.access("::1") == 0


def test_a_line_from_a_peer_cannot_move_the_cursor(capsys: pytest.CaptureFixture[str]) -> None:
    """A web seed's HTTP status line reached the terminal raw through fetch's log ("404 Not\\x1b[2J\\x1b]0;PWNED\\x07",
    helper-160): the log escapes what the verdicts do."""
    from mirror.cli.progress import echo_err

    echo_err("swarm: no web seed could be used (404 Not\x1b[2J\x1b]0;PWNED\x07Found)\nFAKE VERIFIED")
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err and err.count("\n") == 1, repr(err)
    assert "\\x1b[2J" in err


@pytest.mark.parametrize(("text", "peer"), [("127.0.0.1:6881", ("127.0.0.1", 6881)), ("[::1]:6881", ("::1", 6881)),
                                            ("[2001:db8::1]:2", ("2001:db8::1", 2))])
def test_a_peer_is_an_address_and_a_port(text: str, peer: tuple[str, int]) -> None:
    from mirror.cli.swarm import parse_peer

    assert parse_peer(text) == peer


@pytest.mark.parametrize("text", ["::1:5", "2001:db8::1:2", "localhost:6881", "127.0.0.1:0", "127.0.0.1"])
def test_an_ambiguous_or_named_peer_is_refused(text: str) -> None:
    """`--peer ::1:5` was taken as ::1, port 5, and `2001:db8::1:2` as 2001:db8::1, port 2 (helper-160): an IPv6
    address without brackets is refused, as are names."""
    from mirror.cli.swarm import parse_peer
    from mirror.errors import ConfigError

    with pytest.raises(ConfigError):
        parse_peer(text)
