"""The `mirror` command: parses, calls the library, prints, exits. Nothing else lives here.

Example::

    $ mirror keys new alice
    $ mirror create seeds -o bundles/almaty.7z --key alice
    $ mirror verify bundles/almaty.7z

One module per command group (keys.py, create.py, bundles.py, scan.py, publish.py, fetch.py, serve.py,
swarm.py), registered on the click group in app.py; common.py holds the shared options and output, failure.py
how a command fails. A command's module is imported when that command runs (`mirror verify` never loads the
server, the swarm or the publisher), or all of them for `mirror --help`; heavy libraries are imported inside
the commands, so that start-up stays fast. A plain `mirror verify BUNDLE`, the command run most often and
often on a slow phone, does not load click at all (quick.py).
"""

from __future__ import annotations

import atexit
import io
import os
import signal
import sys

# Ctrl-C while the modules below load (the first tenth of a second): out at once with 130, never a traceback.
# run() then makes Ctrl-C a KeyboardInterrupt again, to end a command through its own cleanup. Only in the
# `mirror` command itself (or `python -m mirror`), never in a program that imports this package.
_IGNORED = signal.getsignal(signal.SIGINT) is signal.SIG_IGN  # a background job of a script: it stays so
if not _IGNORED and sys.argv and (os.path.basename(sys.argv[0]) == "mirror" or sys.argv[0].endswith(
        os.path.join("mirror", "__main__.py"))):
    signal.signal(signal.SIGINT, lambda *_: os._exit(130))

from mirror.cli.common import warn  # noqa: E402
from mirror.cli.failure import SETTLED, interrupted, note_signal, settle  # noqa: E402
from mirror.cli.quick import run_quick  # noqa: E402
from mirror.errors import ExitCode  # noqa: E402
from mirror.held_back import holding  # noqa: E402


def _interrupted(signum: int, frame: object) -> None:
    if SETTLED:  # the command has done its work or said why it ends: that end stands (failure.py)
        return
    if holding(signum):  # a few statements that must not be cut in two (held_back.py): raised at their end
        return
    note_signal(signum)
    raise KeyboardInterrupt  # the same way out as Ctrl-C: every command's cleanup runs


def _finish_quietly(code: object) -> None:
    """From here on, Ctrl-C, SIGTERM or SIGHUP end the process at once with the command's own exit code: the
    interpreter's shutdown (joining worker threads) would otherwise print a KeyboardInterrupt traceback, or exit
    130, after the command had already done its work and printed its result."""
    status = _status(code)
    numbers = [n for n in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if n is not None]
    # held back while the handlers change (a second signal, as GNU timeout sends one to the process and one to its
    # group, came between two of them and printed a traceback), then delivered to the new ones
    signal.pthread_sigmask(signal.SIG_BLOCK, numbers)
    try:
        for number in numbers:
            if signal.getsignal(number) is not signal.SIG_IGN:
                signal.signal(number, lambda *_: os._exit(status))
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, numbers)


def _ignore() -> None:
    """The last atexit callback (run() registers it before any other): the interpreter puts the default actions
    back after the callbacks, before its last clean-up, and a signal then killed the process (exit -15) after the
    command had done its work; from here on the signals are ignored. Until here they end it with the command's code
    (_finish_quietly): a library's callback that hangs (paramiko joins its threads in one) is ended by Ctrl-C."""
    for number in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if number is not None:
            signal.signal(number, signal.SIG_IGN)


def _status(code: object) -> int:
    """The exit status of a SystemExit's code."""
    return code if isinstance(code, int) else (0 if code is None else 1)


def run() -> None:
    """Entry point that turns an unexpected bug into one line instead of a traceback.

    SIGTERM and SIGHUP (a closed terminal, a service manager stopping it) end a command as Ctrl-C does: its
    temporary files and folders are removed, "interrupted", and the exit code is 128 + the signal's number (130,
    143, 129) as a shell reports a command a signal ended. (serve and seed stop on them as on Ctrl-C.)
    """
    if isinstance(sys.stdout, io.TextIOWrapper) and sys.stdout.errors == "strict":
        # what the terminal's encoding lacks is written as \u2014: click prints help and usage itself, and a
        # Russian help on a KOI8-R terminal crashed on its first dash (helper-148); JSON stays whole (echo)
        sys.stdout.reconfigure(errors="backslashreplace")
    atexit.register(_ignore)  # before any library registers its own: atexit runs them last registered first
    if not _IGNORED:
        signal.signal(signal.SIGINT, _interrupted)
    for number in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if number is not None and signal.getsignal(number) is not signal.SIG_IGN:  # nohup: hang-ups stay ignored
            signal.signal(number, _interrupted)
    try:
        if not run_quick(sys.argv[1:]):
            from mirror.cli.app import main

            main()
    except SystemExit as done:  # the command has ended and said so: a signal now must not change its exit code
        try:
            _finish_quietly(done.code)
        except KeyboardInterrupt:  # a signal came before the handlers could be changed: the command had ended
            os._exit(_status(done.code))
        raise
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM before a command's own boundary (cli/failure.py) was entered
        settle(True)
        interrupted()
    except Exception as exc:  # the outermost boundary: a bug must still not print a traceback
        if os.environ.get("MIRROR_DEBUG"):
            raise
        # A decoding error quotes what it could not decode: it may be a passphrase, never shown
        said = "" if isinstance(exc, UnicodeError) else f": {exc}"
        warn(f"mirror: internal error: {type(exc).__name__}{said}")
        warn("hint: run again with MIRROR_DEBUG=1 to see where, and report it")
        sys.exit(int(ExitCode.ERROR))
