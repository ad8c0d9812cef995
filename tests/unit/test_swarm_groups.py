"""How the seed counts connections by address (swarm/engine.py, `_group`, `_bounds`)."""

from __future__ import annotations

from mirror.swarm.engine import _bounds, _group


def test_an_ipv6_host_is_counted_by_its_64() -> None:
    """One IPv6 host may open connections from every address of its /64: counted (and refused) as one."""
    assert _group("2001:db8:1:2::5") == _group("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert _group("2001:db8:1:3::5") != _group("2001:db8:1:2::5")
    assert _bounds("2001:db8:1:2::/64") == ("2001:db8:1:2::", "2001:db8:1:2:ffff:ffff:ffff:ffff")
    assert _group("192.0.2.7") == "192.0.2.7" and _bounds("192.0.2.7") == ("192.0.2.7", "192.0.2.7")
    assert _group("not an address") == "not an address"
