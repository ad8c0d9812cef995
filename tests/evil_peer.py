"""A BitTorrent peer on 127.0.0.1 that claims every piece and serves corrupted blocks (BEP 3 wire protocol).

Example::

    with EvilPeer(bundle_bytes, infohash) as peer:
        fetch(..., "--peer", peer.address)
        assert peer.blocks_sent > 0          # it did get to send its bad data

Written here, not with libtorrent: libtorrent checks a piece before it uploads it,
so an honest library cannot be made to lie. Every block it sends has its first byte
flipped, so any piece it contributes to fails its SHA-1 check.
"""

from __future__ import annotations

import socket
import struct
import threading
from types import TracebackType

PROTOCOL = b"\x13BitTorrent protocol"
CHOKE, UNCHOKE, INTERESTED, BITFIELD, REQUEST, PIECE = 0, 1, 2, 5, 6, 7


class EvilPeer:
    """Serves `data` (the torrent's one file) with every block corrupted; counts what it sent."""

    def __init__(self, data: bytes, infohash: str, piece_length: int) -> None:
        self.data = data
        self.infohash = bytes.fromhex(infohash)
        self.piece_length = piece_length
        self.blocks_sent = 0
        self.connections = 0
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = int(self._listener.getsockname()[1])
        self.address = f"127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> EvilPeer:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(5)
        self._listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        try:
            with conn:
                greeting = _read(conn, 68)
                if greeting[:20] != PROTOCOL or greeting[28:48] != self.infohash:
                    return
                conn.sendall(PROTOCOL + bytes(8) + self.infohash + b"-EV0001-" + bytes(12))
                pieces = -(-len(self.data) // self.piece_length)
                field = bytearray((pieces + 7) // 8)
                for index in range(pieces):
                    field[index // 8] |= 0x80 >> (index % 8)
                _send(conn, BITFIELD, bytes(field))
                _send(conn, UNCHOKE, b"")
                while not self._stop.is_set():
                    kind, payload = _message(conn)
                    if kind == REQUEST:
                        index, begin, length = struct.unpack(">III", payload)
                        start = index * self.piece_length + begin
                        block = bytearray(self.data[start : start + length])
                        block[0] ^= 0xFF
                        _send(conn, PIECE, struct.pack(">II", index, begin) + bytes(block))
                        self.blocks_sent += 1
        except (OSError, ConnectionError, struct.error):
            return


def _read(conn: socket.socket, count: int) -> bytes:
    data = bytearray()
    while len(data) < count:
        chunk = conn.recv(count - len(data))
        if not chunk:
            raise ConnectionError("peer closed")
        data += chunk
    return bytes(data)


def _message(conn: socket.socket) -> tuple[int, bytes]:
    while True:
        (length,) = struct.unpack(">I", _read(conn, 4))
        if length == 0:
            continue  # keep-alive
        if length > 1 << 20:
            raise ConnectionError("message too large")
        body = _read(conn, length)
        return body[0], body[1:]


def _send(conn: socket.socket, kind: int, payload: bytes) -> None:
    conn.sendall(struct.pack(">IB", len(payload) + 1, kind) + payload)
