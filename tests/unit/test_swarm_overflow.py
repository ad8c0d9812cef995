"""Which web seed fetch drops for what its connection holds (swarm/download.py `_drop_overflowing`)."""

from __future__ import annotations

from pathlib import Path

import libtorrent as lt

from mirror.swarm.download import MAX_HELD, Download
from mirror.swarm.model import Tally, Wanted

URL = "http://127.0.0.1:8001/bundles/x.7z"


class _Peer:
    """The fields of libtorrent's peer_info that the check reads, for one web seed connection."""

    web_seed, http_seed = lt.peer_info.web_seed, lt.peer_info.http_seed

    def __init__(self, used: int, size: int, ip: tuple[str, int] = ("127.0.0.1", 8001), client: bytes = b"") -> None:
        self.used_receive_buffer, self.receive_buffer_size = used, size
        self.connection_type, self.ip, self.client = lt.peer_info.web_seed, ip, client
        _Peer.made += 1
        self.local = ("127.0.0.1", 50000 + _Peer.made)  # each connection's own end: its own port

    made = 0

    def local_endpoint(self) -> tuple[str, int]:
        return self.local



class _Handle:
    def __init__(self, *peers: _Peer) -> None:
        self.peers = list(peers)
        self.removed: list[str] = []

    def get_peer_info(self) -> list[_Peer]:
        return self.peers[:1] if len(self.peers) == 1 else [self.peers.pop(0)]

    def remove_url_seed(self, url: str) -> None:
        self.removed.append(url)


def _dropped(used: int, size: int) -> list[str]:
    return _drop(_Peer(used, size), (URL,))[0]


def _drop(peer: _Peer | tuple[_Peer, ...], urls: tuple[str, ...], checks: int = 1,
          resolved: dict[str, set[str]] | None = None) -> tuple[list[str], dict[str, str]]:
    """The web seeds removed in `checks` checks for `peer`'s connection (it still holds as much at each), or for
    one of `peer`'s connections at each, and the errors their rows give. `resolved`: the addresses fetch resolved
    each host name to (none by default: through a proxy, fetch resolves none)."""
    handle = _Handle(*(peer if isinstance(peer, tuple) else (peer,)))
    wanted = Wanted("0" * 40, None, Path("."), "b.7z", 1 << 30, web_seeds=urls)
    tally = Tally()
    download = Download(None, handle, wanted, tally, None, lambda alert, tally: None,  # type: ignore[arg-type]
                        seed_endpoints=resolved)
    for _ in range(checks):
        download._drop_overflowing()
    return handle.removed, tally.seed_errors


def test_a_good_web_seed_whose_buffer_grew_in_a_burst_is_kept() -> None:
    """nginx serving a 1 GiB bundle on 127.0.0.1 under load: libtorrent read what the kernel held at once, and the
    connection's buffer grew to 17.5 MiB (24 MiB with 16 MiB pieces) while it held nothing unused. The first cut
    judged by the buffer's size, and dropped the only good web seed."""
    assert _dropped(used=0, size=24 << 20) == []


def test_a_web_seed_holding_more_than_it_may_unused_is_dropped() -> None:
    """A header without end: libtorrent holds all of it, unused (used == size, measured)."""
    assert _dropped(used=MAX_HELD + 1, size=MAX_HELD + 1) == [URL]
    assert _dropped(used=MAX_HELD, size=MAX_HELD) == []


A, B = "https://a.example/bundles/x.7z", "https://b.example/bundles/x.7z"
HIDDEN = ("0.0.0.0", 443)  # noqa: S104  (a connection through a proxy: no address)


def test_through_a_proxy_the_web_seed_is_known_by_its_host_name() -> None:
    """Through a SOCKS5 proxy, libtorrent's connection has no address (0.0.0.0 and the URL's port): the first cut
    found no URL for it and never dropped it (a fetch through microsocks grew to 1.3 GB). A header without end
    leaves the host name libtorrent names the connection by."""
    removed, errors = _drop(_Peer(MAX_HELD + 1, MAX_HELD + 1, HIDDEN, b"b.example"), (A, B))
    assert removed == [B] and errors[B].startswith("sent more than 1 MiB that was not data"), errors


def test_through_a_proxy_a_web_seed_that_cannot_be_told_from_others_drops_them_all() -> None:
    """A complete header (its Server field replaces the host name), then a chunk size without end: any web seed at
    that port may be the one, and each is dropped, its row saying so."""
    removed, errors = _drop(_Peer(MAX_HELD + 1, MAX_HELD + 1, HIDDEN, b"nginx"), (A, B, "http://c.example/"))
    assert removed == [A, B], removed
    assert errors[A] == errors[B] == ("a web seed at port 443 (a proxy hides which) sent more than 1 MiB that was "
                                      "not data (a header without end)")


def test_through_a_proxy_a_seed_that_names_another_mirror_is_dropped_too() -> None:
    """A hostile mirror's Server header names another mirror at its port (libtorrent names a connection by it once
    the header ended: "nginx/1.22.1", measured through microsocks), then a chunk size without end. The first cut
    dropped the mirror it named, again at each check, and never the hostile one (through microsocks: the good
    mirror dropped, the hostile one kept, 78 MiB held after 25 s, growing). Its connection still holds too much
    after the seed it named was dropped: every seed at its port is dropped then, each row saying a proxy hides
    which."""
    peer = _Peer(MAX_HELD + 1, MAX_HELD + 1, HIDDEN, b"a.example")
    removed, errors = _drop(peer, (A, B), checks=1)
    assert removed == [A], removed  # the name is all there is to go by, at first
    removed, errors = _drop(peer, (A, B), checks=2)
    assert set(removed) == {A, B}, removed
    assert errors[A] == errors[B] == ("a web seed at port 443 (a proxy hides which) sent more than 1 MiB that was "
                                      "not data (a header without end)")


SHARED = {A: {"185.199.108.153:443"}, B: {"185.199.108.153:443"}}  # two mirrors on one host's (a CDN's) address


def test_mirrors_that_share_an_address_are_told_apart_by_host_name() -> None:
    """Two mirrors on one address and port (GitHub Pages, a CDN, a shared host), one of them sending a header
    without end (libtorrent names its connection by its host name until the header ends). The first cut dropped
    both, the good one's row saying it "sent more than 1 MiB that was not data" (helper-180)."""
    peer = _Peer(MAX_HELD + 1, MAX_HELD + 1, ("185.199.108.153", 443), b"b.example")
    removed, errors = _drop(peer, (A, B), resolved=SHARED)
    assert removed == [B] and A not in errors, (removed, errors)


def test_mirrors_that_share_an_address_and_cannot_be_told_apart_are_all_dropped_saying_so() -> None:
    """Its header ended ("nginx", its Server field), then a chunk size without end: either may be the one. Each
    is dropped, and its row says the address was shared, not that this mirror surely sent it (the first cut)."""
    peer = _Peer(MAX_HELD + 1, MAX_HELD + 1, ("185.199.108.153", 443), b"nginx")
    removed, errors = _drop(peer, (A, B), resolved=SHARED)
    assert removed == [A, B], removed
    assert errors[A] == errors[B] == ("a web seed at 185.199.108.153:443 (mirrors that share an address cannot be "
                                      "told apart) sent more than 1 MiB that was not data (a header without end)")


def test_through_a_proxy_a_seed_that_names_one_mirror_after_another_is_not_believed_twice() -> None:
    """The same hostile seed, reconnected (a new connection), naming the next mirror at its port: names are taken
    once at a port, so the second overflow there drops every seed at it (a guard by connection let it knock out
    the mirrors one by one, helper-180)."""
    first = _Peer(MAX_HELD + 1, MAX_HELD + 1, HIDDEN, b"a.example")
    again = _Peer(MAX_HELD + 1, MAX_HELD + 1, HIDDEN, b"b.example")
    removed, _ = _drop((first, again), (A, B, "https://c.example/x.7z"), checks=2)
    assert removed[0] == A and set(removed) == {A, B, "https://c.example/x.7z"}, removed
