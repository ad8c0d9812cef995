"""A TCP proxy on 127.0.0.1 that slows a real server down: a throttling censor, or a host on a bad link.

Example::

    with DripProxy(nginx_port, down_rate=1, after=2000) as proxy:   # 2000 bytes at full speed, then 1 byte a second
        host = WebDavHost("slow", f"http://127.0.0.1:{proxy.port}/", auth, limits)

`down_rate` throttles what the server sends back, `up_rate` what the client sends (an upload to
a server that reads slowly); each starts after `after` bytes have passed in its direction, on
every connection. Every socket the proxy opened is closed when the block ends.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from types import TracebackType

LOOPBACK = "127.0.0.1"


class DripProxy:
    """Forwards 127.0.0.1:port (a free one) to 127.0.0.1:target, at most `rate` bytes per second each way."""

    def __init__(self, target: int, down_rate: float | None = None, up_rate: float | None = None,
                 after: int = 0) -> None:
        self.target = target
        self.down_rate = down_rate
        self.up_rate = up_rate
        self.after = after
        self.connections = 0
        self._listener = socket.create_server((LOOPBACK, 0))
        self.port = int(self._listener.getsockname()[1])
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = threading.Event()

    def __enter__(self) -> DripProxy:
        threading.Thread(target=self._accept, daemon=True, name="drip proxy").start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._closed.set()
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
                server = socket.create_connection((LOOPBACK, self.target))
            except OSError:
                return
            with self._lock:
                self._sockets += [client, server]
                self.connections += 1
            for source, sink, rate in ((client, server, self.up_rate), (server, client, self.down_rate)):
                threading.Thread(target=self._pump, args=(source, sink, rate), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, rate: float | None) -> None:
        passed = 0
        try:
            while not self._closed.is_set():
                free = self.after - passed
                # full speed up to `after`, then a small piece per step
                want = 1 << 16 if rate is None else free if free > 0 else max(1, int(rate / 20))
                data = source.recv(min(want, 1 << 16))
                if not data:
                    break
                sink.sendall(data)
                passed += len(data)
                if rate is not None and passed > self.after:
                    time.sleep(len(data) / rate)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)
