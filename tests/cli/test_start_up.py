"""A verify of a small bundle loads only what it needs: start-up is most of its time (bench/floors.py measures it),
so the modules for other commands, other libraries and temporary files are left for the commands that use them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

_PROBE = """
import atexit, json, sys
atexit.register(lambda: sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules)) + "\\n"))
sys.argv = ["mirror", *sys.argv[1:]]
from mirror.cli import run
run()
"""
# Loaded by other commands only: creating, publishing, fetching, the room, the swarm, the page, photo cleaning;
# click, since a plain verify runs without it (cli/quick.py); dataclasses and inspect, which records replace
# (mirror/record.py); datetime and shlex, which a verify that passes needs none of (formats/timefmt.py is_time).
_NOT_FOR_VERIFY = ("click", "dataclasses", "inspect", "datetime", "shlex", "tempfile", "py7zr", "requests", "urllib3",
                   "markdown_it", "PIL", "pillow_heif", "zeroconf",
                   "libtorrent", "phonenumbers", "charset_normalizer", "babel", "socket", "ssl", "subprocess",
                   "ctypes", "concurrent", "logging", "mirror.bundle.create", "mirror.bundle.folder",
                   "mirror.bundle.page", "mirror.privacy", "mirror.net", "mirror.fetch", "mirror.publish",
                   "mirror.serve")


def _modules(*args: str | Path, env: dict[str, str] | None = None) -> tuple[int, set[str]]:
    done = subprocess.run([sys.executable, "-c", _PROBE, *map(str, args)], capture_output=True, text=True,
                          check=False, env=env)
    line = next(line for line in done.stderr.splitlines() if line.startswith("MODULES "))
    return done.returncode, set(json.loads(line.removeprefix("MODULES ")))


def test_a_verify_loads_none_of_what_other_commands_need(bundle: Path) -> None:
    code, loaded = _modules("verify", bundle, "--json")
    assert code == 0, code
    assert "mirror.bundle.verify" in loaded
    assert not {m for m in loaded if any(m == n or m.startswith(n + ".") for n in _NOT_FOR_VERIFY)}


def test_a_verify_outside_a_workspace_loads_no_workspace_records(bundle: Path, tmp_path: Path) -> None:
    """Without --keys or $MIRROR_KEYS, and in no workspace (a reader's downloads folder), the records of the
    workspaces this user works in are not needed: they were loaded all the same."""
    env = {k: v for k, v in os.environ.items() if k != "MIRROR_KEYS"}
    code, loaded = _modules("verify", bundle, "--json", env=env)
    assert code == 5, code  # intact, its signer in no keyring of this user's
    assert "mirror.cli.workspaces" not in loaded and "mirror.bundle.verify" in loaded


def test_a_verify_of_a_folder_loads_the_folder_check(bundle: Path, tmp_path: Path) -> None:
    """The folder check is loaded when BUNDLE is a folder (and the probe sees a module when it is loaded)."""
    folder = tmp_path / "folder"
    folder.mkdir()
    code, loaded = _modules("verify", folder)
    assert code != 0 and "mirror.bundle.folder" in loaded


def test_ctrl_c_while_the_command_loads_ends_it_quietly() -> None:
    """Ctrl-C in the first tenth of a second, while the command's modules load (before its own handling begins),
    printed a KeyboardInterrupt traceback: it ends the command at once with 130 and nothing else (helper-121)."""
    probe = ("import os, signal, sys\nsys.argv = ['mirror', 'verify', 'x.7z']\nimport mirror.cli\n"
             "os.kill(os.getpid(), signal.SIGINT)\nimport time\ntime.sleep(5)\nprint('not ended')\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (130, "", ""), done


def _ignore_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)


def test_a_signal_the_parent_ignores_stays_ignored() -> None:
    """A script's background job (`mirror fetch ... &`) starts with Ctrl-C ignored, and `nohup` ignores hang-ups:
    both ended the command once its handlers replaced the ignoring (helper-124)."""
    probe = ("import os, signal, sys, time\nsys.argv = ['mirror', 'verify', '--help']\nfrom mirror.cli import run\n"
             "os.kill(os.getpid(), signal.SIGINT)\ntry:\n    run()\nexcept SystemExit:\n    pass\n"
             "os.kill(os.getpid(), signal.SIGINT)\nos.kill(os.getpid(), signal.SIGHUP)\ntime.sleep(0.3)\n"
             "print('still here')\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False,
                          preexec_fn=_ignore_interrupts)
    assert (done.returncode, done.stdout.splitlines()[-1:]) == (0, ["still here"]), done
