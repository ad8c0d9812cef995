"""Ctrl-C, SIGTERM or SIGHUP the moment a temporary file or working folder is made, or while a host's thread
writes one: it goes with the cleanup, never left behind (a signal between making it and the code that removes it
used to leave it, and so did one while publish copied a bundle to a folder host)."""

from __future__ import annotations

import hashlib
import os
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mirror.bundle.destination import private_folder
from mirror.cli import _interrupted
from mirror.cli.failure import SETTLED
from mirror.held_back import interrupts_held
from mirror.publish.hosts import SourceReader
from mirror.publish.hosts.directory import DirectoryHost
from mirror.publish.parallel import each_host
from mirror.safeio import atomic_write


@pytest.fixture
def handlers() -> Iterator[None]:
    """The `mirror` command's own handlers, as cli.run() installs them, for this test."""
    numbers = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    before = {number: signal.getsignal(number) for number in numbers}
    for number in numbers:
        signal.signal(number, _interrupted)
    SETTLED.clear()  # a command run in this process before (CliRunner) leaves its end settled: run() is a new one
    yield
    for number, handler in before.items():
        signal.signal(number, handler)


def _signalled_after(make: Callable[..., Any], signum: int) -> Callable[..., Any]:
    """`make`, then the signal sent to this process: its handler runs as soon as `make` returns."""

    def made(*args: Any, **kwargs: Any) -> Any:
        result = make(*args, **kwargs)
        os.kill(os.getpid(), signum)
        return result

    return made


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_as_the_temporary_file_is_made_leaves_nothing(handlers: None, signum: int, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    (folder := tmp_path / "out").mkdir()
    monkeypatch.setattr(tempfile, "mkstemp", _signalled_after(tempfile.mkstemp, signum))
    with pytest.raises(KeyboardInterrupt):
        atomic_write(folder / "out.7z", b"a bundle")
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_as_the_working_folder_is_made_leaves_nothing(handlers: None, signum: int, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    (beside := tmp_path / "out").mkdir()
    monkeypatch.setattr(tempfile, "mkdtemp", _signalled_after(tempfile.mkdtemp, signum))
    with pytest.raises(KeyboardInterrupt), private_folder(beside, ".x."):
        pytest.fail("the block ran although the signal came before it")
    assert list(beside.iterdir()) == []


def test_a_signal_as_opens_folder_is_made_leaves_nothing(handlers: None, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """`mirror open`'s view-* folder is kept on success, so it is not a working folder; it goes all the same."""
    from mirror.bundle.view import open_view

    monkeypatch.setattr(tempfile, "mkdtemp", _signalled_after(tempfile.mkdtemp, signal.SIGINT))
    with pytest.raises(KeyboardInterrupt):
        open_view(tmp_path / "any.7z", None, into := tmp_path / "open")
    assert list(into.iterdir()) == []


def test_a_working_folder_goes_when_its_block_fails_before_the_callers_cleanup(tmp_path: Path) -> None:
    """Ctrl-C between `with private_folder(...)` and the caller's own try: the folder and what it holds go."""
    (beside := tmp_path / "out").mkdir()
    with pytest.raises(KeyboardInterrupt), private_folder(beside, ".x.") as folder:
        (folder / "account.txt").write_text("an unpacked account")
        raise KeyboardInterrupt
    assert list(beside.iterdir()) == []


def test_a_held_signal_is_raised_at_the_end_of_the_outermost_block(handlers: None) -> None:
    reached = []
    with pytest.raises(KeyboardInterrupt), interrupts_held():
        with interrupts_held():
            os.kill(os.getpid(), signal.SIGTERM)
            reached.append("inner")
        reached.append("outer")  # the inner block's end does not raise it
        os.kill(os.getpid(), signal.SIGINT)  # a second one is noted, not raised twice
    assert reached == ["inner", "outer"]
    with interrupts_held():  # nothing noted is left over for the next block
        pass



def test_a_signal_while_a_folder_host_copies_a_bundle_leaves_no_part_file(handlers: None, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The host's thread is a daemon: the process used to end with it mid-copy and `.big.7z.*.part` on the drive.
    Now its copy stops, its file goes, and only then is the interrupt raised."""
    (root := tmp_path / "usb").mkdir()
    (source := tmp_path / "big.7z").write_bytes(os.urandom(1 << 20))
    sha256 = hashlib.sha256(source.read_bytes()).hexdigest()
    whole = SourceReader.readinto

    def slow_disk(reader: SourceReader, buffer: Any) -> int:
        time.sleep(0.01)
        return whole(reader, memoryview(buffer)[:4096])

    monkeypatch.setattr(SourceReader, "readinto", slow_disk)

    def interrupt_once_begun() -> None:
        deadline = time.monotonic() + 30
        while not list(root.rglob(".*.part")) and time.monotonic() < deadline:
            time.sleep(0.005)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=interrupt_once_begun, daemon=True).start()
    lines: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        each_host([DirectoryHost("usb", root)], {"usb": 60.0},
                  lambda host: host.upload("bundles/big.7z", source, sha256), lines.append)
    assert [path.name for path in root.rglob("*") if path.is_file()] == []
    assert lines == ["interrupted: ending the transfers under way and removing their temporary files"]


def test_a_signal_while_hosts_are_only_read_says_no_files_are_being_removed(handlers: None, tmp_path: Path) -> None:
    """status and publish's look at the hosts only read: Ctrl-C there said "removing their temporary files",
    which they never make."""
    from mirror.net.pace import pause

    started = threading.Event()

    def look(host: object) -> None:
        started.set()
        pause(30)  # a slow answer; ends as soon as the stop switch is set

    def interrupt_once_begun() -> None:
        started.wait(30)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=interrupt_once_begun, daemon=True).start()
    lines: list[str] = []
    began = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        each_host([DirectoryHost("usb", tmp_path)], {"usb": 60.0}, look, lines.append, reads=True)
    assert lines == ["interrupted: ending the requests under way"]
    assert time.monotonic() - began < 10  # the look ended at the switch, not after its 30 s
