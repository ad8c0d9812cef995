"""How far a swarm session may reach, as plain libtorrent settings: nothing leaves 127.0.0.1 unless asked.

Example::

    config = SwarmConfig(reach=Reach.LAN, port=6881, upload_limit=200_000)
    session_settings(config)["enable_dht"]          # False: only --public talks to the DHT
    allowed_ranges(Reach.LAN)                        # private and link-local ranges; everything else blocked

Three reaches (docs/swarm.md):
- LOCAL (the default): listen on 127.0.0.1 only; no DHT, no Local Service Discovery, no
  UPnP or NAT-PMP, no peer exchange, no trackers. The only connections are to the peers
  the user names and, for a download, the web seeds of the publisher's signed mirrors
  (engine.py filters every other address, so that a web seed's redirect goes nowhere).
- LAN: listen on every interface; Local Service Discovery and peer exchange; an IP
  filter blocks every address outside private and link-local ranges, web seeds included.
- PUBLIC: the internet: DHT with libtorrent's bootstrap nodes, trackers, peer exchange,
  UPnP and NAT-PMP port mapping. Every peer sees the user's IP address.
"""

from __future__ import annotations

from enum import StrEnum
from urllib.parse import urlsplit

from mirror.errors import ConfigError
from mirror.record import record

MAX_METADATA = 1 << 20  # the largest .torrent info dict a magnet link may fetch (formats/torrent.py MAX_TORRENT)
_SOCKS5, _SOCKS5_PW = 2, 3  # libtorrent's settings_pack::proxy_type_t values (checked by a test)
_V4_PRIVATE = (("10.0.0.0", "10.255.255.255"), ("172.16.0.0", "172.31.255.255"),
               ("192.168.0.0", "192.168.255.255"), ("169.254.0.0", "169.254.255.255"),
               ("127.0.0.0", "127.255.255.255"))
_V6_PRIVATE = (("fc00::", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
               ("fe80::", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), ("::1", "::1"))
EVERY_ADDRESS = (("0.0.0.0", "255.255.255.255"), ("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"))  # noqa: S104
Setting = int | str | bool


class Reach(StrEnum):
    """How far the session may talk."""

    LOCAL = "local"
    LAN = "lan"
    PUBLIC = "public"


@record
class SwarmConfig:
    """One session's reach, listening port, rate limits and proxy."""

    reach: Reach = Reach.LOCAL
    port: int = 0  # 0: any free port
    upload_limit: int = 0  # bytes per second for all peers together, local ones included; 0: no limit
    proxy: str | None = None  # socks5h://host:port or socks5://...; LOCAL reach only
    max_peers: int = 50

    def __post_init__(self) -> None:
        """Check the values.

        Raises:
            ConfigError: a port or limit out of range, a proxy that is not SOCKS5, or one with a wider reach.
        """
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port {self.port} is not between 0 and 65535")
        if self.upload_limit < 0 or self.max_peers < 1:
            raise ConfigError("the upload limit must be 0 (none) or positive, and at least one peer allowed")
        if self.proxy is not None and self.reach is not Reach.LOCAL:
            raise ConfigError("a proxy hides your address, --lan and --public show it: choose one")
        if self.proxy is not None:
            proxy_settings(self.proxy)


def allowed_ranges(reach: Reach) -> tuple[tuple[str, str], ...] | None:
    """The address ranges peers and web seeds may have, or None for no filter."""
    return _V4_PRIVATE + _V6_PRIVATE if reach is Reach.LAN else None


def proxy_settings(proxy: str) -> dict[str, Setting]:
    """libtorrent's proxy settings for a socks5:// or socks5h:// URL: peers, web seeds and trackers through it.

    Raises:
        ConfigError: another scheme, or no host or port.
    """
    try:
        parts = urlsplit(proxy)
        host, port = parts.hostname, parts.port
    except ValueError:
        raise ConfigError(f"not a valid proxy URL: {proxy!r}") from None
    if parts.scheme not in ("socks5", "socks5h") or not host or not port:
        raise ConfigError("the swarm goes through a SOCKS5 proxy only: socks5h://HOST:PORT",
                          hint="socks5h lets the proxy resolve names, so your DNS never sees them")
    settings: dict[str, Setting] = {
        "proxy_type": _SOCKS5_PW if parts.username else _SOCKS5, "proxy_hostname": host, "proxy_port": port,
        "proxy_hostnames": True, "proxy_peer_connections": True,  # socks5:// too: no name is looked up here
        "proxy_tracker_connections": True,
        # uTP needs UDP through the proxy, which most SOCKS5 servers (Tor among them) do not offer
        "enable_outgoing_utp": False, "enable_incoming_utp": False,
    }
    if parts.username:
        settings |= {"proxy_username": parts.username, "proxy_password": parts.password or ""}
    return settings


def session_settings(config: SwarmConfig) -> dict[str, Setting]:
    """The libtorrent settings for `config`; a key left out keeps libtorrent's default."""
    wide, public = config.reach is not Reach.LOCAL, config.reach is Reach.PUBLIC
    interfaces = f"0.0.0.0:{config.port},[::]:{config.port}" if wide else f"127.0.0.1:{config.port}"
    settings: dict[str, Setting] = {
        "listen_interfaces": interfaces,
        "enable_dht": public, "enable_lsd": wide, "enable_upnp": public, "enable_natpmp": public,
        # uTP yields to other traffic on congested internet paths; on a LAN or loopback it is several times
        # slower than TCP (bench/swarm.py), and a peer without it costs a 3 s timeout. Incoming uTP stays on.
        "enable_outgoing_utp": public,
        "upload_rate_limit": config.upload_limit,
        "connections_limit": config.max_peers,
        # a room's readers start at about the same time: libtorrent's backlog of 5 dropped a burst of connections
        # on a busy machine (each tried again after a second or more)
        "listen_queue_size": max(5, min(config.max_peers, 1024)),
        # several peers behind one address: a LAN behind NAT, and every test on 127.0.0.1
        "allow_multiple_connections_per_ip": True,
        "max_metadata_size": MAX_METADATA,
        "alert_queue_size": 20000,  # a block alert per 16 KiB received: room for a fast download between polls
        "active_downloads": -1, "active_seeds": -1, "active_limit": -1,  # every bundle stays in the swarm
        "stop_tracker_timeout": 2,
        "validate_https_trackers": True,
        # A web seed that failed (a 404 on one mirror, a whole-file answer to a Range on another) is asked again
        # after this many seconds, not libtorrent's 30: fetch's window for the swarm is short, and the same
        # mirror over plain HTTP after it delivered in a fraction of a second what the swarm had waited 30 s for.
        "urlseed_wait_retry": 5,
    }
    if config.port:  # a port the user chose (and told others): taken means an error, never the next one free
        settings |= {"max_retry_port_bind": 0, "listen_system_port_fallback": False}
    if not public:
        settings["dht_bootstrap_nodes"] = ""  # never even resolve the default bootstrap hosts
        # In a room, readers start at about the same time and name each other with --peer: a peer that was not
        # listening yet is tried again after 5 s (times its failures), not after libtorrent's 60 s.
        settings["min_reconnect_time"] = 5
    if config.proxy is not None:
        settings |= proxy_settings(config.proxy)
    return settings
