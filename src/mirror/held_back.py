"""Ctrl-C, SIGTERM and SIGHUP held back for a few statements that must not be cut in two.

Example::

    with interrupts_held():
        fd, name = tempfile.mkstemp(dir=folder)   # made ...
        made.append((fd, name))                    # ... and recorded for the cleanup, or neither
    # a signal that came meanwhile raises its KeyboardInterrupt here, where the cleanup knows what was made

A signal's Python handler runs between two bytecodes of the main thread, so a KeyboardInterrupt can come after a
file was made and before the code that removes it on failure knows of it (a `.x.7z.*.mirror-tmp` left behind by
Ctrl-C). The `mirror` command's handlers (cli/__init__.py) ask `holding` first: inside a block they only note the
signal, and the block's end raises it. Nothing is swapped while a block is entered or left (a handler put back
one signal at a time could itself be cut short). A program that imports mirror keeps its own handlers, and
nothing is held back for it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

_depth = 0  # blocks entered on the main thread and not left
_came: list[int] = []  # signals noted meanwhile, in order


def holding(signum: int) -> bool:
    """For a signal handler: True (and the signal noted, to be raised at the block's end) inside a block."""
    if _depth:
        _came.append(signum)
        return True
    return False


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold back the `mirror` command's SIGINT, SIGTERM and SIGHUP for the block; on leaving the outermost one,
    the first that came is handled as it would have been (its KeyboardInterrupt raised). Blocks may nest; on a
    thread other than the main one, nothing is held (Python delivers signals to the main thread only)."""
    import threading  # writers only: a plain verify starts without it

    global _depth
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if not _depth:
        _came.clear()
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if not _depth and _came:
            signum = _came[0]
            _came.clear()
            _raise(signum)


def _raise(signum: int) -> None:
    """Handle the signal noted as its handler now would: the command's raises its KeyboardInterrupt, or nothing once
    the command's end is settled (cli/failure.py); a handler put back meanwhile (SIG_IGN) decides too."""
    import signal

    handler = signal.getsignal(signum)
    if callable(handler):
        handler(signum, None)
