"""fetch against slow and lying mirrors on 127.0.0.1: give up within the budget, move on, report what each did."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import mirror.net.pace as pace
from mirror_server import MirrorServer
from mirror_setup import Setup, fetch_cli

QUICK = ("--timeout", "1", "--budget", "4")  # drips are judged over 1 s; no mirror gets more than 4 s per phase


def _copy(setup: Setup, name: str) -> Path:
    """Another mirror with host a's files (published by the `served` fixture)."""
    root = setup.root / name
    shutil.copytree(setup.hosts[0], root)
    return root


def _mirrors(out: str) -> dict[str, Any]:
    """The per-mirror reports of `fetch --json`, by mirror label."""
    return {row["mirror"]: row for row in json.loads(out)["mirrors"]}


def test_a_mirror_that_drips_its_index_gives_way(setup: Setup, served: MirrorServer, runner: CliRunner) -> None:
    """One byte a second, status line first: cut off after about a second, and the next mirror serves all."""
    with MirrorServer(_copy(setup, "slow")) as slow:
        slow.rates = {"": 1}
        started = time.monotonic()
        code, out, err = fetch_cli(runner, setup, *QUICK, "--mirror", slow.url, "--mirror", served.url, "--json")
    assert code == 0, err
    assert time.monotonic() - started < 8
    reports = _mirrors(out)
    # One byte a second against a 1 s window: the watch ("too slow") and the socket's own 1 s read timeout race.
    detail = reports[slow.url]["index"]["detail"]
    assert reports[slow.url]["fate"] == "timeout" and ("too slow" in detail or "no answer within 1 s" in detail)
    assert reports[served.url]["index"]["fate"] == "ok" and reports[served.url]["bundles"][0]["fate"] == "ok"
    assert f"trying {slow.url} ..." in err and f"trying {served.url} ..." in err
    assert f"trying {served.url} for " in err  # downloads say where they go too


def test_the_budget_ends_a_mirror_that_keeps_just_above_the_minimum_rate(
        setup: Setup, served: MirrorServer, runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no minimum rate a drip never stalls, but the mirror's 2 s budget for its index ends it; meanwhile
    fetch says it is still waiting."""
    monkeypatch.setattr(pace, "HEARTBEAT", 0.5)
    with MirrorServer(_copy(setup, "slow")) as slow:
        slow.rates = {"": 3}
        started = time.monotonic()
        code, out, err = fetch_cli(runner, setup, "--timeout", "1", "--min-rate", "0", "--budget", "2",
                                   "--mirror", slow.url, "--mirror", served.url)
    assert code == 0, err
    assert 2 <= time.monotonic() - started < 8
    assert "the time budget of 2 s ran out" in out and "ARRIVED" in out
    assert f"{slow.url}: still waiting for GET index.json: " in err


def test_a_bundle_that_stops_mid_download_continues_on_the_next_mirror(
        setup: Setup, served: MirrorServer, runner: CliRunner) -> None:
    """A fast first half, then a drip: the drip is cut, the next mirror resumes with Range, the report says so.
    (A 3 s stall limit: at 1 s, a machine under a load of 4.5 once paused the fast half that long, and the cut
    came before it was all there.)"""
    size = setup.bundle.stat().st_size
    with MirrorServer(_copy(setup, "throttled")) as throttled:
        throttled.rates, throttled.rate_after = {".7z": 1}, size // 2
        code, out, err = fetch_cli(runner, setup, "--timeout", "3", "--budget", "8", "--mirror", throttled.url,
                                   "--mirror", served.url, "--json")
    assert code == 0, err
    reports = _mirrors(out)
    slow_bundle = reports[throttled.url]["bundles"][0]
    assert reports[throttled.url]["index"]["fate"] == "ok" and slow_bundle["fate"] == "timeout"
    assert size // 2 <= slow_bundle["bytes"] < size
    assert reports[served.url]["index"] is None  # never asked: an index was chosen already
    assert reports[served.url]["fate"] == "ok" and reports[served.url]["bundles"][0]["bytes"] < size
    assert [r for p, r in served.requests if p.endswith(".7z")] == [f"bytes={slow_bundle['bytes']}-"]
    assert f"trying {served.url} for " in err and f"from byte {slow_bundle['bytes']:,}" in err


def test_a_slow_honest_mirror_still_delivers_a_big_bundle(setup: Setup, served: MirrorServer,
                                                         runner: CliRunner) -> None:
    """Faster than the minimum rate but slower than the 1 s budget allows: turns resume until it is all there."""
    served.rates = {".7z": 250_000}
    code, out, err = fetch_cli(runner, setup, "--timeout", "1", "--budget", "1", "--mirror", served.url)
    assert code == 0, err
    assert "ARRIVED" in out and "the time budget of 1 s ran out" in err
    turns = [r for p, r in served.requests if p.endswith(".7z")]
    assert len(turns) >= 2 and turns[0] == "" and all(r.startswith("bytes=") for r in turns[1:])


def test_report_after_a_tampered_mirror(setup: Setup, served: MirrorServer, runner: CliRunner) -> None:
    """The mirror that served other bytes is tampered; the one that then delivered is ok, not "not tried"."""
    with MirrorServer(_copy(setup, "liar")) as liar:
        path = f"bundles/{setup.sha256}.7z"
        data = bytearray(setup.bundle.read_bytes())
        data[-1000] ^= 1
        liar.replace[path] = bytes(data)
        code, out, err = fetch_cli(runner, setup, "--mirror", liar.url, "--mirror", served.url, "--json")
        assert code == 0, err
        reports = _mirrors(out)
        text = fetch_cli(runner, setup, "--mirror", liar.url, "--mirror", served.url)[1]
    assert reports[liar.url]["fate"] == "tampered" and reports[liar.url]["index"]["fate"] == "ok"
    assert reports[liar.url]["bundles"][0]["fate"] == "tampered"
    assert reports[served.url]["fate"] == "ok" and reports[served.url]["bundles"][0]["fate"] == "ok"
    assert f"mirror  ok          {served.url}" in text or "already here" in text


def test_report_after_a_mirror_served_a_corrupted_first_half(setup: Setup, served: MirrorServer,
                                                            runner: CliRunner) -> None:
    """Bytes from two mirrors fail the hash: fetched whole again, the mirror whose half differs is blamed."""
    size = setup.bundle.stat().st_size
    with MirrorServer(_copy(setup, "liar")) as liar:
        data = bytearray(setup.bundle.read_bytes())
        for offset in range(100, size // 2, 4096):
            data[offset] ^= 0xFF
        liar.replace[f"bundles/{setup.sha256}.7z"] = bytes(data)
        liar.cut_after, liar.bundle_answers = size // 2, 1  # then its window closes
        code, out, err = fetch_cli(runner, setup, "--mirror", liar.url, "--mirror", served.url, "--json")
    assert code == 0, err
    reports = _mirrors(out)
    assert reports[liar.url]["fate"] == "tampered"
    assert f"the {size // 2:,} bytes it served from byte 0 do not match" in reports[liar.url]["bundles"][0]["detail"]
    assert reports[served.url]["fate"] == "ok" and reports[served.url]["bundles"][0]["fate"] == "ok"
    assert "fetching it whole" in err
    assert len([p for p, _ in served.requests if p.endswith(".7z")]) == 2  # the rest, then the whole


def test_without_a_whole_good_copy_both_sources_stay_suspect(setup: Setup, served: MirrorServer,
                                                            runner: CliRunner) -> None:
    """A bad first half, a good second half, then both windows close: nobody is blamed, both are suspect."""
    size = setup.bundle.stat().st_size
    with MirrorServer(_copy(setup, "liar")) as liar:
        data = bytearray(setup.bundle.read_bytes())
        data[100] ^= 0xFF
        liar.replace[f"bundles/{setup.sha256}.7z"] = bytes(data)
        liar.cut_after, liar.bundle_answers, served.bundle_answers = size // 2, 1, 1
        code, out, err = fetch_cli(runner, setup, "--mirror", liar.url, "--mirror", served.url, "--json")
    assert code == 4, err
    reports = _mirrors(out)
    assert [reports[m]["fate"] for m in (liar.url, served.url)] == ["suspect", "suspect"]
    assert "no whole copy arrived" in reports[liar.url]["detail"]
    assert not list((setup.root / "in").glob("*.7z"))


def test_mirrors_that_are_never_asked_are_reported_as_such(setup: Setup, served: MirrorServer,
                                                          runner: CliRunner) -> None:
    """A later mirror is "not tried" only when nothing at all was asked of it."""
    with MirrorServer(_copy(setup, "spare")) as spare:
        code, out, _ = fetch_cli(runner, setup, "--mirror", served.url, "--mirror", spare.url)
    assert code == 0
    assert f"mirror  not tried   {spare.url}" in out and not spare.requests


class _NotHttp:
    """A "mirror" on 127.0.0.1 that answers every request with `answer` (`endless`: again and again, or `tail`
    without end after it), then closes; it keeps each request's first bytes and counts what it sends."""

    def __init__(self, answer: bytes, endless: bool = False, tail: bytes = b"") -> None:
        self.answer, self.endless, self.tail = answer, endless, tail
        self.received: list[bytes] = []
        self.sent = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.stop = threading.Event()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                with contextlib.suppress(OSError):
                    self.received.append(conn.recv(65536))
                    conn.sendall(self.answer)
                    again = self.tail or (self.answer if self.endless else b"")
                    while again and not self.stop.is_set():
                        conn.sendall(again)
                        self.sent += len(again)

    def __enter__(self) -> _NotHttp:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(5)
        self.listener.close()


@pytest.mark.parametrize("answer", [b"SSH-2.0-OpenSSH_9.2\r\n", b"HTTP/1.1 200 OK\r\n" + b"X-A: b\r\n" * 150 + b"\r\n",
                                    b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n"])
def test_a_mirror_that_does_not_answer_in_http_is_said_to(answer: bytes, setup: Setup, served: MirrorServer,
                                                          runner: CliRunner) -> None:
    """Another protocol, too many headers, a header line too long: 'the answer is not HTTP', not 'cannot
    connect'; the next mirror serves all."""
    with _NotHttp(answer) as liar:
        code, out, err = fetch_cli(runner, setup, *QUICK, "--mirror", liar.url, "--mirror", served.url, "--json")
    assert code == 0, err
    detail = _mirrors(out)[liar.url.rstrip("/") + "/"]["index"]["detail"]
    assert "the answer is not HTTP" in detail and "cannot connect" not in detail, detail


def test_a_mirror_that_answers_100_continue_without_end_is_not_http(setup: Setup, served: MirrorServer,
                                                                    runner: CliRunner) -> None:
    """http.client skips any number of "100 Continue" answers: sent fast and without end, they counted as a
    quick transfer until the mirror's budget ran out, for every file. After a few, the answer is not HTTP."""
    with _NotHttp(b"HTTP/1.1 100 Continue\r\n\r\n" * 1000, endless=True) as liar:
        code, out, err = fetch_cli(runner, setup, *QUICK, "--mirror", liar.url, "--mirror", served.url, "--json")
    assert code == 0, err
    detail = _mirrors(out)[liar.url.rstrip("/") + "/"]["index"]["detail"]
    assert "the answer is not HTTP" in detail, detail


def _bundle_path(setup: Setup) -> str:
    """The path of the one bundle on host a, as a mirror serves it."""
    (found,) = setup.hosts[0].glob("bundles/*.7z")
    return found.relative_to(setup.hosts[0]).as_posix()


PAGE = b"<!DOCTYPE html><html><head><title>Sign in to the Wi-Fi</title></head><body>Log in</body></html>\n"


@pytest.mark.parametrize("shape", ["shorter", "the signed size"])
def test_a_page_answered_for_a_bundle_is_never_kept(shape: str, setup: Setup, served: MirrorServer,
                                                    runner: CliRunner) -> None:
    """A captive portal's 200 page for a bundle was appended to the .part file as its first bytes: the next mirror
    resumed after it, the hash failed at the end and the whole bundle was fetched again (every window, for a
    large one). A start that is not 7-Zip's (or text/html) is a bad answer now, and nothing of it is kept."""
    path = _bundle_path(setup)
    size = (setup.hosts[0] / path).stat().st_size
    captive = MirrorServer(_copy(setup, "captive"))
    captive.replace[path] = PAGE if shape == "shorter" else PAGE.ljust(size, b" ")
    with captive:
        code, out, err = fetch_cli(runner, setup, *QUICK, "--mirror", captive.url, "--json")
        assert code == 4, err
        assert not list((setup.root / "in").glob(".mirror-downloads/*.part"))  # not even an empty one (helper-145)
        detail = _mirrors(out)[captive.url]["bundles"][0]["detail"]
        assert "the answer is not a 7z archive" in detail and "login, block or error page" in detail, detail
        served.bytes_sent = 0
        code, out, err = fetch_cli(runner, setup, *QUICK, "--mirror", captive.url, "--mirror", served.url)
    assert code == 0, err
    assert served.bytes_sent == size  # once: nothing to throw away at the end


def test_a_page_answered_for_the_index_is_a_bad_answer_not_tampering(setup: Setup, served: MirrorServer,
                                                                      runner: CliRunner) -> None:
    """A block page for index.json was "index does not verify", exit 3 (do not trust), where a reader on a
    captive Wi-Fi needs "try another mirror" (exit 4, as for one not reached)."""
    captive = MirrorServer(_copy(setup, "captive"))
    captive.replace["index.json"] = PAGE
    with captive:
        code, out, err = fetch_cli(runner, setup, *QUICK, "--mirror", captive.url, "--json")
    assert code == 4, err
    index = _mirrors(out)[captive.url]["index"]
    assert index["fate"] == "bad answer" and "an HTML page" in index["detail"], index


def test_a_redirect_is_not_followed_but_said(setup: Setup, served: MirrorServer, runner: CliRunner) -> None:
    """A mirror that moved (http to https, another path) answered "HTTP 302" and nothing more."""
    moved = b"HTTP/1.1 302 Found\r\nLocation: https://mirror.invalid/m/index.json\r\nContent-Length: 0\r\n\r\n"
    with _NotHttp(moved) as liar:
        code, out, err = fetch_cli(runner, setup, *QUICK, "--mirror", liar.url, "--json")
    assert code == 4, err
    detail = _mirrors(out)[liar.url]["index"]["detail"]
    assert "HTTP 302, a redirect to https://mirror.invalid (not followed)" in detail, detail  # no path: no lure
    moved = b"HTTP/1.1 301 Moved\r\nLocation: http://[::1]:8443/new/m/index.json\r\nContent-Length: 0\r\n\r\n"
    with _NotHttp(moved) as liar:
        code, out, err = fetch_cli(runner, setup, *QUICK, "--mirror", liar.url, "--json")
    detail = _mirrors(out)[liar.url]["index"]["detail"]
    assert "a redirect to http://[::1]:8443 (not followed)" in detail, detail  # the port was left out


def _after_liar(setup: Setup, served: MirrorServer, runner: CliRunner, liar: _NotHttp, *options: str) -> Any:
    """fetch with `liar` first and `served` second, which must deliver: what the liar's index answer was called."""
    code, out, err = fetch_cli(runner, setup, *options, "--mirror", liar.url, "--mirror", served.url, "--json")
    assert code == 0, err
    return _mirrors(out)[liar.url]["index"]


@pytest.mark.parametrize("location", [b"http://[::1", b"//[zz", b"http://[zz]/", b"http://\xff\xfe/x"])
def test_a_redirect_to_an_address_that_cannot_be_read_is_refused_and_the_next_mirror_used(
        location: bytes, setup: Setup, served: MirrorServer, runner: CliRunner) -> None:
    """requests parsed a redirect's Location even though it was not to follow it: `http://[::1` raised ValueError
    out of the call, and the whole fetch ended with "internal error" (exit 1) before the next mirror was asked."""
    moved = b"HTTP/1.1 302 Found\r\nLocation: " + location + b"\r\nContent-Length: 0\r\n\r\n"
    with _NotHttp(moved) as liar:
        index = _after_liar(setup, served, runner, liar, *QUICK)
    assert index["fate"] == "refused" and "(not followed)" in index["detail"], index


def test_endless_trailer_lines_after_a_whole_index_cost_little(setup: Setup, served: MirrorServer,
                                                                runner: CliRunner) -> None:
    """A whole chunked index.json, then trailer lines without end: urllib3 reads and drops them without limit,
    and the reader took them at the line's full rate for the mirror's whole budget. After 1 MiB of lines the
    answer is bad."""
    index = (setup.hosts[0] / "index.json").read_bytes()
    answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n" % (len(index), index)
    with _NotHttp(answer, tail=b"X-T: " + b"a" * 1000 + b"\r\n") as liar:
        found = _after_liar(setup, served, runner, liar, "--timeout", "5", "--budget", "60")
    assert found["fate"] == "bad answer" and "trailer lines do not end" in found["detail"], found
    assert liar.sent < 64 << 20


@pytest.mark.parametrize("encoding", [b"gzip, " * 2000 + b"gzip", b"gzip"])
def test_an_answer_whose_encoding_cannot_be_decoded_is_a_bad_answer(encoding: bytes, setup: Setup,
                                                                    served: MirrorServer, runner: CliRunner) -> None:
    """2,000 gzip layers (urllib3 takes at most 5), or a body that is not gzip: "the connection broke"."""
    answer = b"HTTP/1.1 200 OK\r\nContent-Encoding: " + encoding + b"\r\nContent-Length: 12\r\n\r\nnot gzipped!"
    with _NotHttp(answer) as liar:
        index = _after_liar(setup, served, runner, liar, *QUICK)
    assert index["fate"] == "bad answer" and "Content-Encoding cannot be decoded" in index["detail"], index


@pytest.mark.parametrize("padding", [65_000, 9])
def test_chunk_size_lines_padded_without_end_cost_little(padding: int, setup: Setup, served: MirrorServer,
                                                         runner: CliRunner) -> None:
    """Each chunk one byte, each chunk-size line padded to 64 KiB with an extension: the read of each chunk started
    the count of lines again, and the reader took 6.8 GB at line rate for the mirror's whole budget. Padded by a
    few bytes, a line must still cost more than its byte of data (and the CRLF after it) earns back."""
    chunk = b"1;" + b"e" * padding + b"\r\n{\r\n"
    with _NotHttp(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", tail=chunk) as liar:
        found = _after_liar(setup, served, runner, liar, "--timeout", "5", "--budget", "60")
    assert found["fate"] == "bad answer" and "chunk-size or trailer lines do not end" in found["detail"], found
    assert liar.sent < 64 << 20


def test_the_body_of_a_redirect_is_never_read(setup: Setup, served: MirrorServer, runner: CliRunner) -> None:
    """requests read a redirect's whole body into memory to prepare the next request, even when not following
    it: a 302 with a body of 200 MB took 433 MiB. Now the answer is closed unread."""
    moved = b"HTTP/1.1 302 Found\r\nLocation: https://elsewhere.invalid/\r\nContent-Length: 1000000000\r\n\r\n"
    with _NotHttp(moved, tail=bytes(1 << 16)) as liar:
        assert _after_liar(setup, served, runner, liar, *QUICK)["fate"] == "refused"
    assert liar.sent < 64 << 20


def test_a_mirror_cookie_never_comes_back(setup: Setup, served: MirrorServer, runner: CliRunner) -> None:
    """requests kept a cookie a mirror set and sent it with every later request of the run: a tag on the reader,
    and headers that grew with each answer (90 cookies of 4 KB each made a 723 KB header by the third)."""
    index = (setup.hosts[0] / "index.json").read_bytes()
    answer = (b"HTTP/1.1 200 OK\r\nSet-Cookie: reader=tagged-4711; Path=/\r\nContent-Length: %d\r\n\r\n%s"
              % (len(index), index))
    with _NotHttp(answer) as liar:
        fetch_cli(runner, setup, *QUICK, "--mirror", liar.url, "--json")
    assert len(liar.received) >= 2, liar.received
    assert not any(b"tagged-4711" in request for request in liar.received), liar.received


@pytest.mark.parametrize("option", ["--timeout", "--budget", "--lan-wait"])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_seconds_are_finite(option: str, value: str, setup: Setup, runner: CliRunner) -> None:
    """click's FloatRange lets NaN through: --timeout nan was an internal error, --budget nan turned the budget
    off."""
    code, _, err = fetch_cli(runner, setup, option, value, "--mirror", "http://127.0.0.1:9/")
    assert code == 2 and f"Invalid value for '{option}'" in err, err


def test_a_webdav_host_redirect_that_cannot_be_read_is_a_refusal() -> None:
    """publish and status share the session: the same Location ended them with "internal error" too."""
    from mirror.errors import TransferError
    from mirror.net.pace import Limits
    from mirror.publish.hosts.webdav import WebDavHost

    moved = b"HTTP/1.1 302 Found\r\nLocation: http://[::1\r\nContent-Length: 0\r\n\r\n"
    with _NotHttp(moved) as liar:
        host = WebDavHost("dav", liar.url, None, Limits(stall=2, budget=5))
        with pytest.raises(TransferError, match="302"):
            host.stat("index.json")
