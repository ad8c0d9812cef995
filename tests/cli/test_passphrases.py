"""Passphrases: a new key's must be strong, and a mistyped one may be typed again at a real terminal."""

from __future__ import annotations

import contextlib
import os
import pty
import resource
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import invoke
from mirror.trust.keyring import Keyring
from mirror.trust.passphrase import passphrase_problem

STRONG = "tram fog lantern quietly"
PROMPTS = (b"Passphrase for key", b"Repeat for confirmation")


def in_terminal(args: list[str], answers: list[str] | list[bytes], env: dict[str, str],
                timeout: float = 60) -> tuple[int, str]:
    """Run `python -m mirror ARGS` on a real pseudo-terminal, answering each passphrase prompt in turn."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "mirror", *args], stdin=slave, stdout=slave, stderr=slave,
                            env=env, close_fds=True)
    os.close(slave)
    output, answered, deadline = b"", 0, time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    data = os.read(master, 4096)
                except OSError:  # the child closed the terminal
                    break
                output += data
                if sum(output.count(p) for p in PROMPTS) > answered and answered < len(answers):
                    answer = answers[answered]
                    os.write(master, (answer if isinstance(answer, bytes) else answer.encode()) + b"\n")
                    answered += 1
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    return code, output.decode("utf-8", "replace")


@pytest.mark.parametrize(("passphrase", "strong"), [
    ("a", False), ("Almaty2022", False), ("qwerty123", False), ("right one", False),
    (STRONG, True), ("площадь республики январь", True), ("correct horse battery staple", True),
])
def test_strength_rule(passphrase: str, strong: bool) -> None:
    """zxcvbn must estimate 10^12 guesses or more; words it does not know count by their length."""
    assert (passphrase_problem(passphrase.encode(), ["alice"]) is None) == strong


def test_weak_passphrase_is_refused_unless_insisted(runner: CliRunner, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """keys new refuses a guessable passphrase (exit 2, why and what to do); --weak-passphrase accepts it."""
    monkeypatch.setenv("MIRROR_PASSPHRASE", "Almaty2022")
    code, _, err = invoke(runner, "keys", "new", "alice")
    assert code == 2 and "too weak" in err and "--weak-passphrase" in err and "Almaty2022" not in err
    assert not (tmp_path / "keys" / "alice.key").exists()
    code, _, err = invoke(runner, "keys", "new", "alice", "--weak-passphrase")
    assert code == 0, err
    assert Keyring(tmp_path / "keys").secret("alice", b"Almaty2022").public is not None


def test_terminal_gives_a_second_chance(tmp_path: Path, sources: Path) -> None:
    """At a terminal: a weak new passphrase may be replaced, and a mistyped one typed again when signing."""
    env = {k: v for k, v in os.environ.items() if k != "MIRROR_PASSPHRASE"}
    env["MIRROR_KEYS"] = str(tmp_path / "keys")
    code, out = in_terminal(["keys", "new", "bob"], ["weak", "weak", STRONG, STRONG], env)
    assert code == 0, out
    assert "too weak" in out and "created key bob" in out
    bundle = tmp_path / "b.7z"
    code, out = in_terminal(["create", str(sources), "-o", str(bundle), "--key", "bob"], ["mistyped", STRONG], env)
    assert code == 0, out
    assert "wrong passphrase; try again" in out and f"created {bundle}" in out
    code, out = in_terminal(["create", str(sources), "-o", str(tmp_path / "c.7z"), "--key", "bob"],
                            ["one", "two", "three"], env)
    assert code == 2 and "mirror: wrong passphrase for secret key bob" in out
    assert not (tmp_path / "c.7z").exists()


@pytest.mark.parametrize(("passphrase", "strong"), [
    ("x7" * 36 + "q", False), ("abc" * 40, False), ("a" * 100_000, False),
    ("tram fog lantern quietly " * 3 + "x", True), ("площадь республики январь " * 6, True),
    ("Almaty2022 " * 8 + "tram fog lantern quietly", True),
    # helper-161: a unit whose length does not divide 72 began each piece mid-word, and each piece scored high
    ("12345" * 29, False), ("password12" * 8, False), ("dragon1" * 21, False), ("qwertyuiop1" * 14, False),
])
def test_any_length_is_judged(passphrase: str, strong: bool) -> None:
    """Beyond zxcvbn's 72 characters a passphrase is judged in pieces: no error, a long repetition stays weak."""
    assert (passphrase_problem(passphrase.encode(), ["alice"]) is None) == strong


def test_long_passphrase_makes_a_key(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """keys new accepts a strong passphrase of several hundred characters (no traceback)."""
    long = "tram fog lantern quietly, " * 20
    monkeypatch.setenv("MIRROR_PASSPHRASE", long)
    code, _, err = invoke(runner, "keys", "new", "alice")
    assert code == 0, err
    assert Keyring(tmp_path / "keys").secret("alice", long.encode()).public is not None


def test_an_empty_passphrase_variable_is_named_as_empty(runner: CliRunner, tmp_path: Path, sources: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """MIRROR_PASSPHRASE= (set, but to nothing) with no terminal: the message says it is empty, not to set it."""
    monkeypatch.setenv("MIRROR_PASSPHRASE", "Almaty, January: tram fog lantern")
    assert invoke(runner, "keys", "new", "alice")[0] == 0
    monkeypatch.setenv("MIRROR_PASSPHRASE", "")
    code, _, err = invoke(runner, "create", sources, "-o", tmp_path / "b.7z", "--key", "alice")
    assert code == 2 and "MIRROR_PASSPHRASE is set but empty" in err, err
    assert not (tmp_path / "b.7z").exists()


def test_the_advice_on_a_weak_passphrase_is_in_the_readers_language(tmp_path: Path) -> None:
    """zxcvbn's advice is English only: each sentence of it is translated, so a Russian author reads it all."""
    from mirror.trust.passphrase import ADVICE_NOTE

    env = {k: v for k, v in os.environ.items() if k not in ("MIRROR_LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE")}
    env.update(LANG="ru_RU.UTF-8", PYTHONIOENCODING="utf-8")
    env["MIRROR_PASSPHRASE"] = "password" + "123"  # one of the commonest: zxcvbn says so
    done = subprocess.run([sys.executable, "-m", "mirror", "keys", "new", "weak", "--keys", str(tmp_path / "k")],
                          capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode == 2 and "Это очень распространённый пароль." in done.stderr, done.stderr
    assert not any(sentence in done.stderr for sentence in ADVICE_NOTE)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_at_the_passphrase_prompt_is_an_interruption(sig: signal.Signals, tmp_path: Path) -> None:
    """Ctrl-C (or SIGTERM) while the passphrase is asked: click's prompt said "Aborted!" and exit 1, where every
    other moment of a command says "interrupted" and exits 128 + the signal's number. No key is made."""
    env = {k: v for k, v in os.environ.items() if k != "MIRROR_PASSPHRASE"}
    env["MIRROR_KEYS"] = str(tmp_path / "keys")
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "mirror", "keys", "new", "bob"], stdin=slave, stdout=slave,
                            stderr=slave, env=env, close_fds=True)
    os.close(slave)
    output, deadline = b"", time.monotonic() + 60
    try:
        while PROMPTS[0] not in output and time.monotonic() < deadline:
            if select.select([master], [], [], 0.1)[0]:
                output += os.read(master, 4096)
        assert PROMPTS[0] in output, output
        proc.send_signal(sig)
        code = proc.wait(timeout=30)
        with contextlib.suppress(OSError):
            while select.select([master], [], [], 0.2)[0]:
                output += os.read(master, 4096)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert code == 128 + sig and b"interrupted" in output and b"Aborted" not in output, (code, output)
    assert not list((tmp_path / "keys").glob("bob*"))


def test_a_passphrase_that_is_not_utf8_is_used_as_its_bytes_and_never_shown(runner: CliRunner, tmp_path: Path,
                                                                          sources: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """MIRROR_PASSPHRASE set from a cp1251 or KOI8-R terminal (bytes that are not UTF-8) crashed create with an
    "internal error" that quoted a byte of the passphrase and where it sat; typed at such a terminal, the same.
    From the environment it is used as its bytes; typed, it is refused in one line that shows none of it
    (helper-121)."""
    secret = os.fsdecode(STRONG.encode() + b" \xe9\xf2\xee")
    monkeypatch.setenv("MIRROR_PASSPHRASE", secret)
    keys = tmp_path / "keys"
    assert invoke(runner, "keys", "new", "bob", "--keys", keys)[0] == 0
    code, out, err = invoke(runner, "create", sources, "-o", tmp_path / "b.7z", "--key", "bob", "--keys", keys)
    assert code == 0 and "internal error" not in out + err, err
    env = {k: v for k, v in os.environ.items() if k != "MIRROR_PASSPHRASE"}
    env.update(MIRROR_KEYS=str(tmp_path / "keys2"), LANG="C.UTF-8", LC_ALL="C.UTF-8")
    typed = STRONG.encode() + b" \xe9\xf2\xee"
    for lang in ("C.UTF-8", "C"):
        env.update(LANG=lang, LC_ALL=lang)
        code, out = in_terminal(["keys", "new", f"carol{len(lang)}"], [typed, typed], env)
        assert "internal error" not in out and "0xe9" not in out and "\\xe9" not in out, out
        assert code == 0 or (code == 2 and "not text in this terminal's encoding" in out), out
        if code == 0:  # the bytes typed are the passphrase, as the same bytes in MIRROR_PASSPHRASE are
            monkeypatch.setenv("MIRROR_PASSPHRASE", os.fsdecode(typed))
            assert invoke(runner, "create", sources, "-o", tmp_path / f"{lang}.7z", "--key", f"carol{len(lang)}",
                          "--keys", tmp_path / "keys2")[0] == 0


def _cores_allowed() -> None:
    """In the child, before it runs: cores of up to 1 MiB (whatever the test runner's own soft limit)."""
    resource.setrlimit(resource.RLIMIT_CORE, (1 << 20, resource.getrlimit(resource.RLIMIT_CORE)[1]))


def test_a_process_waiting_for_a_passphrase_leaves_no_core_and_is_not_dumpable(tmp_path: Path,
                                                                                sources: Path) -> None:
    """A crash (or a kill -QUIT) while the passphrase or the secret key is in memory wrote them into a core file,
    in the working folder or the system's crash store (helper-161): at its prompt, `mirror create` already has a
    core size limit of 0. And the key's code marks the process not dumpable (PR_GET_DUMPABLE 0)."""
    Keyring(tmp_path / "keys").create("bob", STRONG.encode())
    env = {k: v for k, v in os.environ.items() if k != "MIRROR_PASSPHRASE"}
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "mirror", "create", str(sources), "-o", str(tmp_path / "b.7z"),
                             "--key", "bob"], stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True,
                            preexec_fn=_cores_allowed)
    os.close(slave)
    output, deadline = b"", time.monotonic() + 60
    try:
        while PROMPTS[0] not in output and time.monotonic() < deadline and proc.poll() is None:
            if select.select([master], [], [], 0.1)[0]:
                with contextlib.suppress(OSError):
                    output += os.read(master, 4096)
        assert PROMPTS[0] in output, output
        limits = Path(f"/proc/{proc.pid}/limits").read_text()
        [core] = [line for line in limits.splitlines() if line.startswith("Max core file size")]
        assert core.split()[4] == "0", core
    finally:
        proc.kill()
        proc.wait()
        os.close(master)
    probe = ("import ctypes, resource\nfrom mirror.trust.keys import SecretKey\n"
             "print(ctypes.CDLL(None).prctl(3, 0, 0, 0, 0), resource.getrlimit(resource.RLIMIT_CORE))\n"
             "SecretKey.generate()\n"
             "print(ctypes.CDLL(None).prctl(3, 0, 0, 0, 0), resource.getrlimit(resource.RLIMIT_CORE))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True,
                          preexec_fn=_cores_allowed)
    before, after = done.stdout.splitlines()
    assert before.startswith("1 (1048576, ") and after.startswith("0 (0, ")
