"""A signal that arrives after a command has ended (while the interpreter joins its threads) keeps its exit code."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import hear_hangups

_PROGRAM = """
import os, signal, sys, threading, time
from mirror.cli import _finish_quietly
threading.Thread(target=time.sleep, args=(30,)).start()   # a worker the interpreter would join at exit
_finish_quietly({code!r})
os.kill(os.getpid(), signal.{sig})
time.sleep(30)
"""


@pytest.mark.parametrize(("code", "sig", "expected"), [
    (3, "SIGTERM", 3), (None, "SIGINT", 0), ("mirror: a message", "SIGHUP", 1), (4, "SIGINT", 4)])
def test_a_late_signal_ends_with_the_commands_own_code(code: object, sig: str, expected: int) -> None:
    done = subprocess.run([sys.executable, "-c", _PROGRAM.format(code=code, sig=sig)], capture_output=True,
                          text=True, timeout=20, check=False, preexec_fn=hear_hangups)
    assert done.returncode == expected, done.stderr
    assert "Traceback" not in done.stderr and done.stderr == ""


def test_without_it_the_signal_decides() -> None:
    """The same program without the call ends by the signal: so the test above shows the call's effect."""
    program = _PROGRAM.replace("_finish_quietly({code!r})", "").format(sig="SIGTERM")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=20, check=False)
    assert done.returncode == -signal.SIGTERM


_RACE = """
import signal, sys
import mirror.cli
real, hit = signal.signal, []

def second_signal_meanwhile(number, handler):  # a signal delivered while the handlers are being changed
    if getattr(handler, "__name__", "") == "<lambda>" and not hit:
        hit.append(number)
        raise KeyboardInterrupt
    return real(number, handler)

signal.signal = second_signal_meanwhile
sys.argv = ["mirror", "verify", "no-such-bundle.7z"]
mirror.cli.run()
"""


def test_a_second_signal_while_finishing_prints_no_traceback() -> None:
    """GNU timeout signals the process and its group: the second signal once came while `_finish_quietly` changed
    the handlers, and printed a KeyboardInterrupt traceback (helper-145). The command's own code stands."""
    done = subprocess.run([sys.executable, "-c", _RACE], capture_output=True, text=True, timeout=20, check=False)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 2 and "no-such-bundle.7z" in done.stderr, (done.returncode, done.stderr)


def test_a_signal_while_the_interpreter_ends_never_kills_it() -> None:
    """SIGTERM sent again and again from the moment `mirror --version` has printed until the process is gone: it
    ends with the command's own code (0), or "interrupted" (143) when a signal came before the command had ended;
    never killed by the signal. The interpreter puts the default actions back late in its shutdown, and 25 runs
    of 30 were killed there (-15) before the signals were ignored from the atexit callbacks on."""
    for _ in range(6):
        proc = subprocess.Popen([sys.executable, "-m", "mirror", "--version"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        assert proc.stdout is not None and proc.stdout.read(1)  # it has printed: the command has done its work
        while proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGTERM)
            time.sleep(0.0005)
        _, err = proc.communicate(timeout=20)
        assert proc.returncode in (0, 143), (proc.returncode, err)
        assert proc.returncode == 0 or err == b"mirror: interrupted\n", err


_SETTLED = """
import os, signal, sys
import click
import mirror.cli, mirror.cli.failure as failure
sent = []

def signalled(where, real, first=False):  # `real`, with SIGTERM sent to this process as it begins
    def call(*args, **kwargs):
        if where(*args) and len(sent) < (1 if first else 2):
            sent.append(real.__name__)
            print("signalled", flush=True)
            os.kill(os.getpid(), signal.SIGTERM)
        return real(*args, **kwargs)
    return call

scene = sys.argv.pop(1)
if scene == "version":  # --version has printed; a second SIGTERM while "interrupted" is said
    click.Context.exit = signalled(lambda ctx, *_: True, click.Context.exit, first=True)
    failure.warn = signalled(lambda *_: True, failure.warn)
elif scene == "command":  # the command is running; a second SIGTERM while "interrupted" is said
    click.Context.invoke = signalled(lambda ctx, *_: True, click.Context.invoke, first=True)
    failure.warn = signalled(lambda *_: True, failure.warn)
else:  # the command has printed its result; SIGTERM as click closes its context, before it exits
    click.Context.__exit__ = signalled(lambda ctx, *_: ctx.parent is None and ctx._depth == 1,
                                       click.Context.__exit__, first=True)
sys.argv[0] = "mirror"
mirror.cli.run()
"""


@pytest.mark.parametrize(("scene", "code", "said"), [("version", 143, "mirror: interrupted\n"),
                                                      ("command", 143, "mirror: interrupted\n"),
                                                      ("closing", 0, "no keys in it\n")])
def test_a_signal_once_the_end_is_settled_changes_nothing(scene: str, code: int, said: str, tmp_path: Path) -> None:
    """Once a command has done its work, or said why it ends ("interrupted" included), a signal leaves that end
    as it is. It came into click's own code (its context closed after the command, or a second SIGTERM, as GNU
    timeout sends one to the process and one to its group, while "interrupted" was said) and was click's
    "Aborted!", exit 1."""
    args = ["--version"] if scene == "version" else ["keys", "list"]
    done = subprocess.run([sys.executable, "-c", _SETTLED, scene, *args], capture_output=True, text=True, timeout=60,
                          check=False, env={**os.environ, "MIRROR_KEYS": str(tmp_path)})
    assert done.returncode == code and done.stderr.endswith(said), (done.returncode, done.stderr)
    assert "Aborted" not in done.stderr and done.stderr.count("mirror: interrupted") == (code == 143)
    assert done.stdout.count("signalled") == (1 if scene == "closing" else 2)  # click's code is still as patched


_LINGERING = """
import atexit, sys, time
import mirror.cli, mirror.cli.app as app
real = app.MirrorGroup.main

def main(self, *args, **kwargs):  # a library the command loads registers an exit callback that waits
    atexit.register(lambda: (print("waiting", flush=True), time.sleep(60)))
    return real(self, *args, **kwargs)

app.MirrorGroup.main = main
sys.argv = ["mirror", "--version"]
mirror.cli.run()
"""


def test_an_exit_callback_that_waits_is_still_ended_by_a_signal() -> None:
    """A library's atexit callback (paramiko joins its threads there) that hangs is ended by Ctrl-C or SIGTERM, with
    the command's own code: the signals are ignored only after the last such callback, not before them all."""
    proc = subprocess.Popen([sys.executable, "-c", _LINGERING], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None
        while (line := proc.stdout.readline()) and line != "waiting\n":
            pass
        assert line == "waiting\n", proc.communicate(timeout=20)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        proc.kill()
        proc.communicate()
