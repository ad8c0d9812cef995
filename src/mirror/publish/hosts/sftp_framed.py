"""The SFTP session's channel as paramiko's SFTP client reads it, bounded: whole reads, and packets of a sane size.

Example::

    channel = transport.open_session(); channel.invoke_subsystem("sftp")
    sftp = paramiko.SFTPClient(Framed(channel))      # what SSHClient.open_sftp() does, with the channel wrapped

paramiko's SFTP client (5.1, `BaseSFTP._read_all`) reads a packet by `out += channel.recv(n)` until it has the
length the packet's first 4 bytes give, up to 16 MiB: a server that sends a 16 MiB packet a few bytes at a time
(each a small SSH message) makes it copy the packet so far at each step, about n²/2 bytes, and burn a core until
the host's watch ends it. `Framed.recv(n)` returns all n bytes at once (joined once, so paramiko's loop runs one
step), and reads the SFTP packet boundaries in what passes through: a packet longer than MAX_PACKET is refused
(`PacketTooLong`) as soon as its length arrives, before any of it is held, and so is an answer to a read (DATA)
longer than any read paramiko asks (32 KiB: paramiko keeps the answers that come before the one it waits for, each
whatever its length, so a server could make each 32 KiB asked hold 16 MiB). Only the duck type that
`paramiko.SFTPClient` documents for its `sock` (a Channel) is used: recv, send, close, settimeout, gettimeout,
setblocking, recv_ready and get_name; nothing inside paramiko is patched.
"""

from __future__ import annotations

from typing import NoReturn, Protocol

# OpenSSH's sftp-server and Go's pkg/sftp take packets of at most 256 KiB and answer within that (a read of 32 KiB,
# a page of a folder's names); 1 MiB leaves room for other servers. paramiko's own limit is 16 MiB.
MAX_PACKET = 1 << 20
DATA = 103  # SSH_FXP_DATA: the answer to a read, which paramiko asks for at most SFTPFile.MAX_REQUEST_SIZE bytes
DATA_HEAD = 1 + 4 + 4  # its type, request id and the data's length


class Channel(Protocol):
    """What Framed uses of a paramiko Channel (paramiko itself is imported by sftp.py alone)."""

    def recv(self, nbytes: int, /) -> bytes: ...
    def send(self, data: bytes, /) -> int: ...
    def close(self) -> None: ...
    def settimeout(self, timeout: float | None, /) -> None: ...
    def gettimeout(self) -> float | None: ...
    def setblocking(self, blocking: bool, /) -> None: ...
    def recv_ready(self) -> bool: ...
    def get_name(self) -> str: ...


class PacketTooLong(OSError):
    """The server sent an SFTP packet longer than MAX_PACKET (the session is unusable after it)."""


class Framed:
    """A paramiko Channel carrying SFTP, read whole and packet-checked (module docstring)."""

    def __init__(self, channel: Channel, limit: int = MAX_PACKET, data_limit: int = 1 << 15) -> None:
        self._channel = channel
        self._limit = limit
        self._data_limit = data_limit  # the most a read asks for (paramiko.SFTPFile.MAX_REQUEST_SIZE)
        self._typed = False  # whether the current packet's type byte has been seen
        self._header = bytearray()  # the length of the next packet, as far as it has come
        self._body = 0  # bytes of the current packet still to come
        self._broken: PacketTooLong | None = None

    def recv(self, n: int) -> bytes:
        """All `n` bytes (fewer only at the end of the stream).

        Raises:
            PacketTooLong: a packet's length is over the limit.
            TimeoutError: nothing came within the channel's timeout (paramiko's socket.timeout).
        """
        if self._broken is not None:
            raise self._broken
        parts: list[bytes] = []
        got = 0
        while got < n:
            chunk = self._channel.recv(n - got)
            if not chunk:
                break
            self._frame(chunk)
            parts.append(chunk)
            got += len(chunk)
        return b"".join(parts)

    def _frame(self, chunk: bytes) -> None:
        """Follow packet boundaries through `chunk`; refuse a length over the limit."""
        view, at = memoryview(chunk), 0
        while at < len(view):
            if self._body:
                if not self._typed:
                    self._typed = True
                    if view[at] == DATA and self._body > DATA_HEAD + self._data_limit:
                        self._refuse(f"the server answered a read with {self._body - DATA_HEAD:,} bytes, more than "
                                     f"the {self._data_limit:,} asked")
                step = min(self._body, len(view) - at)
                self._body -= step
                at += step
                continue
            step = min(4 - len(self._header), len(view) - at)
            self._header += view[at:at + step]
            at += step
            if len(self._header) == 4:
                length = int.from_bytes(self._header, "big")
                self._header.clear()
                if length > self._limit:
                    self._refuse(f"the server sent an SFTP packet of {length:,} bytes, more than {self._limit:,}")
                self._body, self._typed = length, False

    def _refuse(self, reason: str) -> NoReturn:
        """Raise PacketTooLong, now and at every read after (the session is out of step)."""
        self._broken = PacketTooLong(reason)
        raise self._broken

    def send(self, data: bytes) -> int:
        """Send what the channel takes of `data`; how much."""
        return self._channel.send(data)

    def close(self) -> None:
        """Close the channel."""
        self._channel.close()

    def settimeout(self, timeout: float | None) -> None:
        """The channel's timeout for each read."""
        self._channel.settimeout(timeout)

    def gettimeout(self) -> float | None:
        """The channel's timeout."""
        return self._channel.gettimeout()

    def setblocking(self, blocking: bool) -> None:
        """Blocking reads or not."""
        self._channel.setblocking(blocking)

    def recv_ready(self) -> bool:
        """Whether the channel has bytes to read (this reader holds none of its own)."""
        return self._channel.recv_ready()

    def get_name(self) -> str:
        """The channel's name (paramiko's log lines)."""
        return self._channel.get_name()
