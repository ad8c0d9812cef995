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

    def __init__(self, used: int, size: int) -> None:
        self.used_receive_buffer, self.receive_buffer_size = used, size
        self.connection_type, self.ip = lt.peer_info.web_seed, ("127.0.0.1", 8001)


class _Handle:
    def __init__(self, peer: _Peer) -> None:
        self.peer = peer
        self.removed: list[str] = []

    def get_peer_info(self) -> list[_Peer]:
        return [self.peer]

    def remove_url_seed(self, url: str) -> None:
        self.removed.append(url)


def _dropped(used: int, size: int) -> list[str]:
    handle = _Handle(_Peer(used, size))
    wanted = Wanted("0" * 40, None, Path("."), "b.7z", 1 << 30, web_seeds=(URL,))
    download = Download(None, handle, wanted, Tally(), None, lambda alert, tally: None)  # type: ignore[arg-type]
    download._drop_overflowing()
    return handle.removed


def test_a_good_web_seed_whose_buffer_grew_in_a_burst_is_kept() -> None:
    """nginx serving a 1 GiB bundle on 127.0.0.1 under load: libtorrent read what the kernel held at once, and the
    connection's buffer grew to 17.5 MiB (24 MiB with 16 MiB pieces) while it held nothing unused. The first cut
    judged by the buffer's size, and dropped the only good web seed."""
    assert _dropped(used=0, size=24 << 20) == []


def test_a_web_seed_holding_more_than_it_may_unused_is_dropped() -> None:
    """A header without end: libtorrent holds all of it, unused (used == size, measured)."""
    assert _dropped(used=MAX_HELD + 1, size=MAX_HELD + 1) == [URL]
    assert _dropped(used=MAX_HELD, size=MAX_HELD) == []
