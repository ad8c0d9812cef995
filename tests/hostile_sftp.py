"""A hostile SFTP server, run by a real sshd as the session's command (servers.py's sshd_hostile_sftp). It answers
INIT properly; then a STAT with a packet that claims 16 MiB - 1 bytes, 4 MiB of it sent a kilobyte at a time, then
nothing (paramiko's client copied the packet so far at each piece); an OPEN, FSTAT and CLOSE properly (a file of
64 KiB), and each READ (32 KiB asked) with 512 KiB (paramiko kept whatever length came).

With the argument `reverse`: an honest server of one file of REVERSE_SIZE bytes that answers its READs last
first, once no more come for a moment: a client that asks for a whole file at once holds all of it but the first
chunk before it can take any."""

from __future__ import annotations

import contextlib
import struct
import sys
import time

STAT, OPEN, CLOSE, READ, FSTAT, OPENDIR = 17, 3, 4, 5, 8, 11
STATUS, HANDLE, DATA, ATTRS = 101, 102, 103, 105


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


def _send(kind: int, rid: bytes, body: bytes) -> None:
    sys.stdout.buffer.write(struct.pack(">IB", 1 + len(rid) + len(body), kind) + rid + body)
    sys.stdout.buffer.flush()


def _string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _trickle(rid: bytes) -> None:
    out = sys.stdout.buffer
    out.write(struct.pack(">IB", 0xFFFFFF, ATTRS) + rid)
    out.flush()
    for _ in range(4096):
        out.write(bytes(1024))
        out.flush()
        time.sleep(0.0005)  # each kilobyte its own SSH message
    time.sleep(60)  # the client gives up before (its stall time); sshd ends this when it goes


def main() -> None:
    _packet()  # SSH_FXP_INIT
    sys.stdout.buffer.write(struct.pack(">IBI", 5, 2, 3))  # SSH_FXP_VERSION 3
    sys.stdout.buffer.flush()
    try:
        while True:
            request = _packet()
            kind, rid = request[0], request[1:5]
            if kind == STAT:
                _trickle(rid)
            elif kind == OPEN:
                _send(HANDLE, rid, _string(b"h"))
            elif kind == FSTAT:
                _send(ATTRS, rid, struct.pack(">IQI", 1 | 4, 64 << 10, 0o100644))
            elif kind == READ:
                _send(DATA, rid, _string(bytes(512 << 10)))
            elif kind == OPENDIR:  # a well-formed packet of the wrong kind: attributes, not a handle
                _send(ATTRS, rid, struct.pack(">I", 0))
            else:
                _send(STATUS, rid, struct.pack(">I", 0 if kind == CLOSE else 4) + _string(b"") + _string(b""))
    except BrokenPipeError:
        pass


REVERSE_SIZE = 64 << 20
INIT, EOF = 1, 1


def _ok(rid: bytes, code: int = 0) -> None:
    _send(STATUS, rid, struct.pack(">I", code) + _string(b"") + _string(b""))


_PATTERN = bytes(range(251)) * 140  # content at an offset: (offset % 251), so a chunk misplaced or repeated shows


def _content(offset: int, length: int) -> bytes:
    out = bytearray()
    while len(out) < length:
        start = (offset + len(out)) % 251
        out += _PATTERN[start:start + min(length - len(out), len(_PATTERN) - 251)]
    return bytes(out)


def expected(size: int) -> bytes:
    """What a server of `reverse SIZE ...` holds."""
    return _content(0, size)


class _Queued:
    """stdout written from a thread of its own, so that requests are read while answers wait to be taken (a client
    that sends while it does not read, as paramiko's prefetch thread does, and a server that does not read while it
    writes were stuck over a socket pair's small buffers)."""

    def __init__(self) -> None:
        import queue
        import threading

        self.buffer = self
        self._queue: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        threading.Thread(target=self._drain, daemon=True).start()

    def write(self, data: bytes) -> int:
        self._queue.put(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def _drain(self) -> None:
        import os

        with contextlib.suppress(OSError):
            while True:
                data = memoryview(self._queue.get())
                while data:
                    data = data[os.write(1, data):]


def reverse(size: int = 0, cap: int = 0, order: str = "reverse", claimed: int = -1) -> None:
    """`size` bytes (REVERSE_SIZE if 0), each DATA at most `cap` bytes (no cap if 0), answered last first (`order`
    "reverse") or as they come ("inorder"); FSTAT gives `claimed` as its size if it is not -1."""
    import os
    import select

    size = REVERSE_SIZE if size == 0 else max(size, 0)
    sys.stdout = _Queued()  # type: ignore[assignment]
    pending: list[tuple[bytes, int, int]] = []  # request id, offset, length
    buffer = bytearray()
    attributes = struct.pack(">IQI", 1 | 4, size if claimed < 0 else claimed, 0o100644)
    while True:
        if pending and (order != "reverse" or not select.select([0], [], [], 0.2)[0]):
            for rid, offset, length in reversed(pending) if order == "reverse" else pending:
                if offset >= size:
                    _ok(rid, EOF)
                else:
                    _send(DATA, rid, _string(_content(offset, min(length, size - offset, cap or length))))
            pending.clear()
            continue
        chunk = os.read(0, 1 << 20)
        if not chunk:
            return
        buffer += chunk
        while len(buffer) >= 4 and len(buffer) >= 4 + (n := struct.unpack(">I", buffer[:4])[0]):
            packet = bytes(buffer[4:4 + n])
            del buffer[:4 + n]
            kind, rid = packet[0], packet[1:5]
            if kind == INIT:
                sys.stdout.buffer.write(struct.pack(">IBI", 5, 2, 3))
                sys.stdout.buffer.flush()
            elif kind == READ:
                handle = struct.unpack(">I", packet[5:9])[0]
                offset, length = struct.unpack(">QI", packet[9 + handle:21 + handle])
                pending.append((rid, offset, length))
            elif kind == OPEN:
                _send(HANDLE, rid, _string(b"h"))
            elif kind in (FSTAT, STAT):
                _send(ATTRS, rid, attributes)
            else:
                _ok(rid, 0 if kind == CLOSE else 4)


if __name__ == "__main__":
    if sys.argv[1:2] == ["reverse"]:
        reverse(*(int(arg) for arg in sys.argv[2:4]), *sys.argv[4:5], *(int(arg) for arg in sys.argv[5:6]))
    else:
        main()
