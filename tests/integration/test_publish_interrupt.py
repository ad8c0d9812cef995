"""Ctrl-C or SIGTERM while publish sends a bundle to a host of each kind: its transfers stop, and its temporary
file is deleted before the interrupt is raised (docs/mirrors.md: none is left on a host that answers)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_hosts import KINDS, _config, _source

from mirror.cli import _interrupted
from mirror.cli.failure import SETTLED
from mirror.publish.hosts import SourceReader, open_host
from mirror.publish.parallel import each_host


@pytest.fixture
def handlers() -> Iterator[None]:
    """The `mirror` command's own handlers, as cli.run() installs them."""
    numbers = (signal.SIGINT, signal.SIGTERM)
    before = {number: signal.getsignal(number) for number in numbers}
    for number in numbers:
        signal.signal(number, _interrupted)
    SETTLED.clear()
    yield
    for number, handler in before.items():
        signal.signal(number, handler)


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "dir"])
def test_an_interrupted_upload_leaves_no_temporary_file(kind: str, handlers: None, request: pytest.FixtureRequest,
                                                         tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bundle half sent when the user interrupts: the host is left as it was (the SFTP host's `.NAME.part`
    stayed: its connection was the one the stop cut, and its removal went out on it)."""
    config, stored = _config(kind, request, tmp_path, monkeypatch)
    host = open_host(config)
    if kind == "s3":
        host.multipart_threshold = host.part_size = 5 * 1024 * 1024  # type: ignore[attr-defined]
    source, sha256 = _source(tmp_path, os.urandom(12 << 20), "big.bin")
    sent = threading.Event()
    whole = SourceReader.readinto

    def slow_disk(reader: SourceReader, buffer: Any) -> int:
        if reader._offset > (6 << 20):  # past the first S3 part: something is stored by now
            sent.set()
            time.sleep(0.05)  # the rest takes five seconds: the signal comes well before its end, under load too
        return whole(reader, memoryview(buffer)[:64 << 10])

    monkeypatch.setattr(SourceReader, "readinto", slow_disk)

    def interrupt_once_begun() -> None:
        sent.wait(30)
        time.sleep(0.2)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=interrupt_once_begun, daemon=True).start()
    try:
        with pytest.raises(KeyboardInterrupt):
            each_host([host], {host.name: 60.0}, lambda h: h.upload("bundles/big.7z", source, sha256), print)
    finally:
        host.close()
    assert sent.is_set()
    assert stored() == set(), kind
