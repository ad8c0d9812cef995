"""How a command fails: one line on stderr (and a hint), in the reader's language, and an exit code.

Example::

    with failures():            # MirrorError, OSError, Ctrl-C -> "mirror: ..." and its exit code
        verify_command(...)
    fail("no such key", "mirror keys list shows them", ExitCode.ERROR)

Shared by the click group (cli/app.py) and the plain verify that runs without click (cli/quick.py), so both
fail in the same words.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

from mirror.cli.common import warn
from mirror.errors import ExitCode, MirrorError

INTERRUPT_BASE = 128  # a shell's convention: a command ended by signal N exits 128 + N (130 after Ctrl-C)
_SIGINT = 2
_signal_number = _SIGINT  # the signal that raised the KeyboardInterrupt being handled (cli/__init__.py sets it)


def note_signal(number: int) -> None:
    """Remember which signal is ending the command, for its exit code."""
    global _signal_number
    _signal_number = number


# The command's end is known (its work done, or `fail` called): from then on SIGINT, SIGTERM and SIGHUP leave that end
# as it is (the `mirror` command's handler, cli/__init__.py, does nothing; `_finish_quietly` keeps it so to the
# process's end). A signal in click's code after the command, or a second one while "interrupted" was said (GNU
# timeout signals the process and its group), was click's "Aborted!" and exit 1. `settle(True)` is the list's own
# append, C code: a signal that came meanwhile is handled as a Python function is entered, before its first line,
# and a `settle` of Python's own cut short that way was the same "Aborted!" in 1 run of 200 (--version, spammed).
SETTLED: list[bool] = []
settle = SETTLED.append


def interrupted() -> NoReturn:
    """Say "interrupted" and exit as a shell expects of a command a signal ended: 130 after Ctrl-C, 143 after
    SIGTERM, 129 after SIGHUP. The command's cleanup has already run (its temporary files are gone)."""
    fail("interrupted", None, INTERRUPT_BASE + _signal_number)


def fail(message: str, hint: str | None, code: int) -> NoReturn:
    """Print the error (and the hint) on stderr, translated, and exit with `code`."""
    settle(True)
    warn(f"mirror: {message}")
    if hint:
        warn(f"hint: {hint}")
    sys.exit(int(code))


@contextmanager
def failures() -> Iterator[None]:
    """Turn mirror's errors, the system's and an interruption into `fail`; a closed stdout is left to the caller."""
    try:
        yield
    except MirrorError as exc:
        fail(str(exc), exc.hint, exc.exit_code)
    except BrokenPipeError:
        raise  # `mirror verify X | head`: the caller quiets the pipe and exits
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        fail(f"{where}{exc.strerror or exc}", None, ExitCode.ERROR)
    except KeyboardInterrupt:
        settle(True)  # before the call: a second signal as it begins is one after the end was settled
        interrupted()
