"""Announcing a room on the local network with DNS-SD over mDNS (RFC 6762, 6763), and this machine's addresses.

Example::

    addresses = lan_addresses()                     # ["192.168.1.23"]: IPv4, not loopback
    announcement = Announcement(port=8470, addresses=addresses, properties=txt_record(True, 3))
    await announcement.start()                      # "mirror-3fa2c1" on _mirror-bundle._tcp.local.
    await announcement.update(txt_record(True, 4))
    await announcement.stop()

The only module of serve/ that imports zeroconf. The instance and host names are
random ("mirror-" and 6 hex digits), never the machine's name, which often names
its owner. What is announced: that name, the addresses and port, and the TXT record
of formats/announce.py (format version, signed or unsigned, number of bundles).
"""

from __future__ import annotations

import logging
import secrets
import socket

from zeroconf import (  # type: ignore[attr-defined]  # get_all_addresses is public but not in __all__
    InterfaceChoice,
    IPVersion,
    ServiceInfo,
    get_all_addresses,
)
from zeroconf.asyncio import AsyncZeroconf

from mirror.errors import ConfigError
from mirror.formats.announce import SERVICE_TYPE, lan_address


def lan_addresses() -> list[str]:
    """This machine's IPv4 addresses on private or link-local networks (what a peer in the room can reach).

    An address a reader would refuse (formats/announce.py) is not announced either.
    """
    return sorted({a for a in get_all_addresses() if lan_address(a)})


class Announcement:
    """One service announced while the room is open."""

    def __init__(self, port: int, addresses: list[str], properties: dict[str, str]) -> None:
        self.instance = f"mirror-{secrets.token_hex(3)}"
        self._info = self._service(port, addresses, properties)
        self._zeroconf: AsyncZeroconf | None = None

    def _service(self, port: int, addresses: list[str], properties: dict[str, str]) -> ServiceInfo:
        return ServiceInfo(SERVICE_TYPE, f"{self.instance}.{SERVICE_TYPE}", port=port, properties=properties,
                           addresses=[socket.inet_aton(a) for a in addresses], server=f"{self.instance}.local.")

    async def start(self) -> None:
        """Answer mDNS queries for the service on every IPv4 interface.

        Raises:
            ConfigError: the mDNS socket cannot be opened (no multicast here, or port 5353 refused).
        """
        logging.getLogger("zeroconf").addHandler(logging.NullHandler())  # no last-resort output
        try:
            self._zeroconf = AsyncZeroconf(interfaces=InterfaceChoice.All, ip_version=IPVersion.V4Only)
            await self._zeroconf.async_register_service(self._info, allow_name_change=True)
        except OSError as exc:
            await self.stop()
            raise ConfigError(f"cannot announce on the local network: {exc.strerror or exc}") from None
        self.instance = self._info.name.removesuffix(f".{SERVICE_TYPE}")

    async def update(self, properties: dict[str, str]) -> None:
        """Announce new TXT properties (the number of bundles changed)."""
        if self._zeroconf is None:
            return
        info = self._info
        self._info = ServiceInfo(SERVICE_TYPE, info.name, port=info.port, properties=properties,
                                 addresses=info.addresses, server=info.server)
        await self._zeroconf.async_update_service(self._info)

    async def stop(self) -> None:
        """Say goodbye on the network and close the sockets."""
        if self._zeroconf is not None:
            zeroconf, self._zeroconf = self._zeroconf, None
            try:
                await zeroconf.async_unregister_all_services()
            finally:
                await zeroconf.async_close()
