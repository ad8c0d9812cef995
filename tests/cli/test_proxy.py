"""`fetch --proxy`: checked before anything is sent, and mirror names always resolved by the proxy."""

from __future__ import annotations

import contextlib
import socket
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import invoke
from mirror.errors import ConfigError
from mirror.net.proxy import checked_proxy


@pytest.mark.parametrize(("given", "used"), [
    ("socks5h://127.0.0.1:9050", "socks5h://127.0.0.1:9050"),
    ("socks5://127.0.0.1:9050", "socks5h://127.0.0.1:9050"),
    ("SOCKS5://user:pw@tor.local:9150", "socks5h://user:pw@tor.local:9150"),
    ("http://proxy.example:3128", "http://proxy.example:3128"),
])
def test_socks5_is_taken_as_socks5h(given: str, used: str) -> None:
    assert checked_proxy(given) == used


@pytest.mark.parametrize("given", ["socks4://127.0.0.1:9050", "ftp://127.0.0.1:21", "127.0.0.1:9050",
                                   "socks5h://127.0.0.1", "socks5h://127.0.0.1:99999", "socks5h://[::1:9050",
                                   "socks5h://:9050", ""])
def test_a_proxy_that_cannot_be_used_is_refused(given: str) -> None:
    with pytest.raises(ConfigError):
        checked_proxy(given)


@pytest.mark.parametrize(("given", "said"), [("127.0.0.1:9050", "the proxy URL does not say its type"),
                                             ("socks4://127.0.0.1:9050", "a proxy of type socks4:// cannot be used")])
def test_a_refused_proxy_says_why(given: str, said: str) -> None:
    """No scheme is said as such (it was "a proxy of type none://", and "none" stayed English in every language)."""
    with pytest.raises(ConfigError, match=said):
        checked_proxy(given)


@pytest.mark.parametrize("given", ["socks5h://alice:s3cret@127.0.0.1", "socks5h://s3cret@127.0.0.1",
                                   "socks5h://alice:s3cret@[::1:9050", "socks5h://a:b@s3cret@127.0.0.1",
                                   "//alice:s3cret@127.0.0.1:9050",
                                   "socks5h://alice:s3/cret@127.0.0.1", "socks5h://alice:s3?cret#@127.0.0.1"])
def test_a_refused_proxy_never_shows_its_password(given: str) -> None:
    """A password, or a token standing alone before "@", is masked, also in a URL that cannot be parsed."""
    with pytest.raises(ConfigError) as caught:
        checked_proxy(given)
    assert "s3cret" not in str(caught.value) and "***" in str(caught.value)


@pytest.mark.parametrize("given", ["http://user:s3cret@127.0.0.1:99999/", "http://user:s3cret@[::1/",
                                   "https://s3cret@[::1/m/", "https://u:s3/cret@127.0.0.1:99999/",
                                   "https://u:s3#cret@127.0.0.1:99999/"])
def test_a_refused_mirror_url_never_shows_its_password(runner: CliRunner, tmp_path: Path, given: str) -> None:
    code, _, err = invoke(runner, "fetch", "--list", "--mirror", given, "--dest", tmp_path)
    assert code == 2 and "s3cret" not in err and "***@" in err, err


def _socks5_recorder(asked: list[str]) -> socket.socket:
    """A SOCKS5 server on 127.0.0.1 that records how each connection names its destination, then refuses it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)

    def serve() -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            with client:
                try:
                    methods = client.recv(2)
                    client.recv(methods[1])
                    client.sendall(b"\x05\x00")
                    request = client.recv(300)
                    asked.append({1: "address", 3: "name", 4: "address"}.get(request[3], "?"))
                    client.sendall(b"\x05\x05\x00\x01" + bytes(6))  # connection refused
                except (OSError, IndexError):
                    pass

    threading.Thread(target=serve, daemon=True).start()
    return server


def test_fetch_through_socks5_never_looks_the_mirror_name_up_itself(runner: CliRunner, tmp_path: Path) -> None:
    """`socks5://`: the proxy is asked for the mirror by name (as with socks5h://), never for an address found in
    the local DNS."""
    asked: list[str] = []
    server = _socks5_recorder(asked)
    try:
        port = server.getsockname()[1]
        code, _, err = invoke(runner, "fetch", "--proxy", f"socks5://127.0.0.1:{port}", "--mirror",
                              "http://localhost:9/", "--dest", tmp_path / "in", "--timeout", "5")
    finally:
        server.close()
    assert code == 4 and "Traceback" not in err
    assert asked and set(asked) == {"name"}, asked


def test_fetch_refuses_a_socks4_proxy_before_sending_anything(runner: CliRunner, tmp_path: Path) -> None:
    code, _, err = invoke(runner, "fetch", "--proxy", "socks4://127.0.0.1:9", "--mirror", "http://localhost:9/",
                          "--dest", tmp_path / "in")
    assert code == 2 and "SOCKS5 or HTTP only" in err


def test_a_proxy_that_does_not_answer_is_named_as_the_possible_cause(runner: CliRunner, tmp_path: Path) -> None:
    """Without a word about the proxy, "cannot connect" sent readers looking at the mirror."""
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    code, out, err = invoke(runner, "fetch", "--proxy", f"socks5h://127.0.0.1:{port}", "--mirror",
                            "http://127.0.0.1:9/", "--dest", tmp_path / "in", "--timeout", "5")
    assert code == 4 and "cannot connect through the proxy" in out + err, (out, err)


def test_a_proxy_that_drips_its_answer_to_connect_is_cut_at_the_timeout(runner: CliRunner, tmp_path: Path) -> None:
    """An HTTP proxy (or a censor in front of one) that answered CONNECT one byte at a time was never cut: the
    socket was watched only once the tunnel and TLS were up, and fetch ran past --timeout and --budget for good
    (helper-157)."""
    import time

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    held: list[socket.socket] = []

    def drip() -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = server.accept()
                held.append(client)
                client.recv(4096)
                client.sendall(b"HTTP/1.1 200 Connection established\r\n")
                threading.Thread(target=_drip_forever, args=(client,), daemon=True).start()

    threading.Thread(target=drip, daemon=True).start()
    started = time.monotonic()
    try:
        code, out, err = invoke(runner, "fetch", "--proxy", f"http://127.0.0.1:{server.getsockname()[1]}",
                                "--mirror", "https://127.0.0.1:1/", "--all", "--dest", tmp_path / "in",
                                "--timeout", "3", "--budget", "6")
    finally:
        server.close()
        for client in held:
            client.close()
    assert code == 4 and "Traceback" not in err, (out, err)
    assert time.monotonic() - started < 30, (out, err)


def _drip_forever(client: socket.socket) -> None:
    import time

    with contextlib.suppress(OSError):
        while True:
            client.sendall(b"X")
            time.sleep(1)
