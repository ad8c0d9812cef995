"""The room's listening socket: a taken port or a foreign address is the user's to fix, said in their words.

Example::

    >>> check_port("127.0.0.1", 8470)  # ConfigError("port 8470 on 127.0.0.1 is already in use") if taken
"""

from __future__ import annotations

import errno
import socket

from mirror.errors import ConfigError


def check_port(host: str, port: int) -> None:
    """Raise now if `port` on `host` cannot be listened on (it is bound again when the server starts).

    Raises:
        ConfigError: the port is taken or the address is not this machine's.
    """
    listen(host, port).close()


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket; a taken port or a foreign address is the user's to fix.

    Raises:
        ConfigError: the address cannot be bound.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(f"port {port} on {host} is already in use",
                              hint="pick another with --port, or --port 0 for any free port") from None
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock
