"""A hostile SFTP server, run by a real sshd as the session's command (servers.py's sshd_hostile_sftp): it answers
the client's INIT properly, then answers the first request with a packet that claims 16 MiB - 1 bytes and sends
4 MiB of it a kilobyte at a time, then nothing (paramiko's client copied the packet so far at each piece)."""

from __future__ import annotations

import struct
import sys
import time


def _read(n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sys.stdin.buffer.read1(n - len(data))
        if not chunk:
            sys.exit(0)
        data += chunk
    return data


def _packet() -> bytes:
    return _read(struct.unpack(">I", _read(4))[0])


def main() -> None:
    out = sys.stdout.buffer
    _packet()  # SSH_FXP_INIT
    out.write(struct.pack(">IBI", 5, 2, 3))  # SSH_FXP_VERSION 3
    out.flush()
    request = _packet()
    out.write(struct.pack(">IB", 0xFFFFFF, 105) + request[1:5])  # SSH_FXP_ATTRS for its id, 16 MiB - 1 long
    out.flush()
    try:
        for _ in range(4096):
            out.write(bytes(1024))
            out.flush()
            time.sleep(0.0005)  # each kilobyte its own SSH message
        time.sleep(60)  # the client gives up before (its stall time); sshd ends this when it goes
    except BrokenPipeError:
        pass


if __name__ == "__main__":
    main()
