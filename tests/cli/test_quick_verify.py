"""A plain `mirror verify` runs without click (cli/quick.py). It must print and exit exactly as the click command
does, and leave every other form, and every mistake, to click."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mirror.cli.quick import parse_verify

_SEEN = "import atexit; atexit.register(lambda: sys.stderr.write('\\nCLICK ' + str('click' in sys.modules)))\n"
_ENTRY = "import sys; sys.argv[0] = 'mirror'\n" + _SEEN + "from mirror.cli import run; run()"
_CLICK = "import sys; sys.argv[0] = 'mirror'\n" + _SEEN + "from mirror.cli.app import main; main()"


def _run(code: str, args: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str, bool]:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False,
                          env={**os.environ, **(env or {})}, timeout=60)
    err, _, seen = done.stderr.rpartition("\nCLICK ")
    return done.returncode, done.stdout, err, seen.strip() == "True"


def _both(args: list[str | Path], env: dict[str, str] | None = None) -> tuple[int, str, str, bool]:
    """Run `args` through the entry point and through click alone; they must agree. Returns the entry point's
    exit code, stdout, stderr and whether it loaded click."""
    words = [str(a) for a in args]
    code, out, err, clicked = _run(_ENTRY, words, env)
    assert (code, out, err) == _run(_CLICK, words, env)[:3]
    return code, out, err, clicked


@pytest.fixture
def cases(tmp_path: Path, bundle: Path) -> dict[str, Path]:
    """The bundle, a copy with one byte changed, a text file, an empty keys folder, a file and a folder."""
    broken = tmp_path / "broken.7z"
    data = bytearray(bundle.read_bytes())
    data[len(data) // 2] ^= 0x01
    broken.write_bytes(bytes(data))
    text = tmp_path / "notes.7z"
    text.write_text("not a bundle\n")
    empty = tmp_path / "nobody"
    empty.mkdir()
    folder = tmp_path / "folder"
    folder.mkdir()
    return {"bundle": bundle, "broken": broken, "text": text, "empty": empty, "folder": folder}


@pytest.mark.parametrize(("words", "expected"), [
    (["verify", "{bundle}"], 0),
    (["verify", "{bundle}", "--json"], 0),
    (["verify", "--whole", "--json", "{bundle}"], 0),
    (["verify", "{bundle}", "--keys", "{empty}"], 5),
    (["verify", "--keys={empty}", "{bundle}", "--json"], 5),
    (["verify", "{bundle}", "--keys", "{empty}", "--require-endorsers", "1"], 5),
    (["verify", "{bundle}", "--require-endorsers=100"], 0),
    (["verify", "{broken}"], 3),
    (["verify", "{broken}", "--json"], 3),
    (["verify", "{text}"], 3),
    (["verify", "{folder}"], 3),
])
def test_plain_forms_run_without_click_and_say_the_same(cases: dict[str, Path], keyring: object, words: list[str],
                                                        expected: int) -> None:
    code, out, err, clicked = _both([w.format(**cases) for w in words])
    assert code == expected, (out, err)
    assert not clicked
    assert out or err


def test_the_reader_language_is_the_same_without_click(cases: dict[str, Path], keyring: object) -> None:
    code, out, _, clicked = _both(["verify", cases["broken"]], {"MIRROR_LANG": "ru"})
    assert code == 3 and not clicked
    assert out.startswith("ОШИБКА  ") and "не доверяйте этому набору" in out, out


@pytest.mark.parametrize(("words", "expected"), [
    (["verify", "{bundle}", "--require-endorsers", "101"], 2),
    (["verify", "{bundle}", "--keys", "{text}"], 2),
    (["verify", "{bundle}", "--keys"], 2),
    (["verify", "{bundle}", "--keys="], 2),  # an empty folder name, never the current folder
    (["verify", "{bundle}", "--keys", " "], 2),  # a blank one too, on the quick path as well (helper-124)
    (["verify", "{bundle}", "{bundle}"], 2),
    (["verify", "{bundle}", "--json=yes"], 2),
    (["verify", "{bundle}", "--jso"], 2),
    (["verify", "--json", "--json", "{bundle}"], 0),
    (["verify", "{bundle}/missing.7z"], 2),
    (["verify"], 2),
    (["verify", "--help"], 0),
    (["verify", "--", "{bundle}"], 0),
    (["verify", "{bundle}", "-h"], 0),
    (["show", "{bundle}"], 0),
])
def test_other_forms_and_mistakes_are_left_to_click(cases: dict[str, Path], keyring: object, words: list[str],
                                                    expected: int) -> None:
    code, out, err, clicked = _both([w.format(**cases) for w in words])
    assert code == expected, (out, err)
    assert clicked


@pytest.mark.parametrize("words", [
    ["verify", "x.7z", "--require-endorsers", " 1"],
    ["verify", "x.7z", "--require-endorsers", "+1"],
    ["verify", "x.7z", "--require-endorsers", "\u0661"],  # an Arabic-Indic one: int() takes it, this path does not
    ["verify", "x.7z", "--require-endorsers", "-1"],
    ["verify", "x.7z", "--whole", "--whole"],
    ["verify", "x.7z", "-"],
    ["verify", ""],
    ["verify", "x.7z", "--keys", "-k"],
])
def test_unusual_words_are_never_parsed_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            words: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    Path("x.7z").write_bytes(b"")
    assert parse_verify(words) is None
    assert parse_verify(["verify", "x.7z"]) == {"whole": False, "as_json": False, "require_endorsers": None,
                                                "keys_dir": None, "bundle": Path("x.7z")}


def test_shell_completion_is_left_to_click(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("x.7z").write_bytes(b"")
    monkeypatch.setenv("_MIRROR_COMPLETE", "bash_complete")
    assert parse_verify(["verify", "x.7z"]) is None


def test_a_folder_of_keys_click_would_refuse_is_left_to_click(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unreadable --keys folder is a usage error in click's words, never an empty keyring ("unknown signer")."""
    monkeypatch.chdir(tmp_path)
    Path("x.7z").write_bytes(b"")
    Path("keys").mkdir()
    assert parse_verify(["verify", "x.7z", "--keys", "keys"]) is not None
    real = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: path != "keys" and real(path, mode))
    assert parse_verify(["verify", "x.7z", "--keys", "keys"]) is None


def test_a_signal_before_any_command_began_is_one_line() -> None:
    """SIGTERM while the command is still being loaded: "interrupted" and exit 143 (128 + 15), as in a command."""
    code = ("import os, signal, sys\nimport mirror.cli as cli\nsys.argv = ['mirror', 'verify', 'x.7z']\n"
            "cli.run_quick = lambda args: os.kill(os.getpid(), signal.SIGTERM)\ncli.run()\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60)
    assert (done.returncode, done.stderr) == (143, "mirror: interrupted\n")
