"""Finding rooms on the local network: DNS-SD over mDNS, for `mirror fetch --lan`.

Example::

    peers = discover(wait=3.0)
    [p.url for p in peers]          # ["http://192.168.1.23:8470/"]
    # then fetched like any mirror: the same checks, nothing trusted because it was found nearby

The only module of fetch/ that imports zeroconf. Announcements are untrusted text:
a peer's URL is built from its address and port only, the address must be a private or
link-local IPv4 address (formats/announce.py), and at most MAX_PEERS are kept.
"""

from __future__ import annotations

import logging
import threading
import time

from zeroconf import IPVersion, ServiceBrowser, ServiceStateChange, Zeroconf

from mirror.errors import Failure, TransferError
from mirror.formats.announce import MAX_PEERS, SERVICE_TYPE, lan_address, peer_url
from mirror.record import record

WHERE = "local network"
RESOLVE_SECONDS = 5.0  # for asking all the rooms heard of for their addresses, after listening


@record
class Peer:
    """A room that answered: its announced name (untrusted text), its URL, and what its TXT record says."""

    name: str
    url: str
    index: str  # "signed", "unsigned" or "" (a hint only)


class _Names:
    """Service names seen by the browser thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.names: list[str] = []

    def changed(self, zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange) -> None:
        """ServiceBrowser's callback (on zeroconf's thread)."""
        with self.lock:
            if state_change is not ServiceStateChange.Removed and name not in self.names \
                    and len(self.names) < 4 * MAX_PEERS:
                self.names.append(name)


def _peer(zeroconf: Zeroconf, name: str, timeout: float) -> Peer | None:
    info = zeroconf.get_service_info(SERVICE_TYPE, name, timeout=int(timeout * 1000))
    if info is None or not info.port:
        return None
    address = next((a for a in info.parsed_addresses(IPVersion.V4Only) if lan_address(a)), None)
    if address is None:
        return None
    index = (info.properties or {}).get(b"index") or b""
    return Peer(name.removesuffix(f".{SERVICE_TYPE}")[:63], peer_url(address, info.port),
                index.decode("ascii", "replace") if index in (b"signed", b"unsigned") else "")


def discover(wait: float = 3.0) -> list[Peer]:
    """The rooms that answer on the local network within `wait` seconds (at most MAX_PEERS), in `wait` + 5 s at most.

    Raises:
        TransferError: mDNS cannot be used here (no multicast-capable network, or the port is refused).
    """
    logging.getLogger("zeroconf").addHandler(logging.NullHandler())  # no last-resort output
    try:
        zeroconf = Zeroconf(ip_version=IPVersion.V4Only)
    except OSError as exc:
        raise TransferError(WHERE, f"cannot listen for peers: {exc.strerror or exc}", Failure.UNREACHABLE,
                            hint="join the room's Wi-Fi, or ask for the room's address and use --mirror URL") \
            from None
    try:
        names = _Names()
        browser = ServiceBrowser(zeroconf, SERVICE_TYPE, handlers=[names.changed])
        time.sleep(wait)
        browser.cancel()
        with names.lock:
            found = list(names.names)
        peers: dict[str, Peer] = {}
        deadline = time.monotonic() + RESOLVE_SECONDS  # announcers that never answer cannot hold the reader
        for name in found:
            left = deadline - time.monotonic()
            if left <= 0 or len(peers) >= MAX_PEERS:
                break
            peer = _peer(zeroconf, name, timeout=min(2.0, left))
            if peer is not None and peer.url not in peers:
                peers[peer.url] = peer
        return list(peers.values())
    finally:
        zeroconf.close()
