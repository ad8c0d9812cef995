"""Ctrl-C the moment a descriptor changes hands is an interruption, never a second close of it.

A signal's KeyboardInterrupt comes as soon as a call returns: after os.fdopen made the file object that owns the
descriptor, or after os.close let go of one folder before the next was recorded. A cleanup that closed the same
number again said "Bad file descriptor" (exit 1, or exit 3 "cannot be opened" in a folder's check) for a create
that Ctrl-C had ended, or closed a file another part of the run had opened with that number meanwhile.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mirror.bundle.folder import _open_beneath
from mirror.fetch.transport import append_to
from mirror.safeio import open_folder_beneath, open_regular

_FDOPEN = os.fdopen


def _interrupted_fdopen(fd: int, *args: Any, **kwargs: Any) -> Any:
    _FDOPEN(fd, *args, **kwargs).close()  # the file object made, then dropped as the interrupt unwinds
    raise KeyboardInterrupt


@pytest.mark.parametrize("opening", [open_regular, append_to], ids=["open_regular", "append_to"])
def test_ctrl_c_as_the_file_object_is_made(opening: Callable[[Path], Any], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    (path := tmp_path / "account.md").write_text("an account")
    monkeypatch.setattr(os, "fdopen", _interrupted_fdopen)
    with pytest.raises(KeyboardInterrupt):
        opening(path)


@pytest.mark.parametrize("opening", [lambda root: os.close(open_folder_beneath(root, ("a", "b"))),
                                     lambda root: os.close(_open_beneath(root, "a/b/account.md"))],
                         ids=["open_folder_beneath", "folder._open_beneath"])
def test_ctrl_c_as_a_folder_is_let_go_on_the_way_down(opening: Callable[[Path], None], tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "account.md").write_text("an account")
    real, calls = os.close, []

    def close(fd: int) -> None:
        real(fd)
        calls.append(fd)
        if len(calls) == 1:  # the first folder let go: the signal's interrupt comes as the call returns
            raise KeyboardInterrupt

    monkeypatch.setattr(os, "close", close)
    with pytest.raises(KeyboardInterrupt):
        opening(tmp_path)
    assert len(set(calls)) == len(calls), calls  # no number closed twice


def test_ctrl_c_as_an_early_checks_part_is_let_go(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """fetch/early.py: GrowingFile.close let go of the part's descriptor and then forgot it, in two steps; Ctrl-C
    between them (result() closes it on the main thread as an interrupted fetch answers its checks) left the number
    recorded, and the close that comes again (the file object's own, when it is dropped) closed it a second time:
    by then perhaps a file that another part of the run had opened."""
    import threading

    from mirror.fetch.early import GrowingFile

    (part := tmp_path / "bundle.7z.part").write_bytes(b"7z" * 100)
    growing = GrowingFile(part, 200, lambda start: (bytearray(), "a mirror"), lambda: True, threading.Event())
    growing.seek(0)
    assert growing.read(2) == b"7z"  # the part is open now
    real, calls = os.close, []

    def close(fd: int) -> None:
        real(fd)
        calls.append(fd)
        if len(calls) == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(os, "close", close)
    with pytest.raises(KeyboardInterrupt):
        growing.close()
    growing.close()  # as the object's finalizer calls it
    assert calls and len(set(calls)) == len(calls), calls
