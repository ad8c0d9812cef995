"""How `mirror serve --lan` announces itself on the local network (DNS-SD over mDNS), as values.

Example::

    SERVICE_TYPE                                  # "_mirror-bundle._tcp.local."
    properties = txt_record(signed=True, bundles=3)   # {"v": "1", "index": "signed", "bundles": "3"}
    peer_url("192.168.1.23", 8470)                # "http://192.168.1.23:8470/"
    lan_address("8.8.8.8")                        # False: only private or link-local addresses

The announcement is a hint, like the peer listing: a reader fetches from a peer with
the same checks as from any mirror. A peer's URL is always built from its address and
port (never from announced text), and only for addresses that cannot lead off the
local network, so a hostile announcement cannot send a reader to the internet.
"""

from __future__ import annotations

import ipaddress

SERVICE_TYPE = "_mirror-bundle._tcp.local."  # RFC 6763; "mirror-bundle" is 13 of the 15 characters allowed
TXT_VERSION = "1"
MAX_PEERS = 16
_THIS_NETWORK = ipaddress.IPv4Network("0.0.0.0/8")


def txt_record(signed: bool, bundles: int) -> dict[str, str]:
    """The TXT properties of an announcement: format version, whether a signed index is served, bundle count."""
    return {"v": TXT_VERSION, "index": "signed" if signed else "unsigned", "bundles": str(bundles)}


def lan_address(address: str) -> bool:
    """Whether a peer address may be used: an IPv4 address on a private or link-local network.

    Not loopback: an announcement must not send a reader to a service on the reader's own machine.
    """
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    if not isinstance(parsed, ipaddress.IPv4Address):
        return False
    return (parsed.is_private or parsed.is_link_local) and not (
        parsed.is_loopback or parsed.is_multicast or parsed.is_unspecified or parsed.is_reserved
        or parsed in _THIS_NETWORK)


def peer_url(address: str, port: int) -> str:
    """The mirror URL of a peer: its address and port, path "/"."""
    return f"http://{address}:{port}/"
