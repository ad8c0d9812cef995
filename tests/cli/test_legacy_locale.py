"""A reader whose system speaks a legacy code page (ru_RU.CP1251): Kazakh letters it lacks never crash a command.

File names there are encoded in CP1251, which has no Қ, ң, ә: a bundle titled or holding files in Kazakh must
still verify, show its title readably, extract under a name the system can write, or say plainly why not.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import require_tool
from mirror.bundle.create import CreateRequest, create_bundle
from mirror.trust.keys import SecretKey

COMMAND = Path(sys.executable).with_name("mirror")
TITLE = "Алматы, қаңтар 2022"


@pytest.fixture(scope="module")
def cp1251(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An environment in ru_RU.CP1251, compiled into a private folder (nothing on the system changes)."""
    localedef = require_tool("localedef")
    where = tmp_path_factory.mktemp("locales")
    subprocess.run([localedef, "-i", "ru_RU", "-f", "CP1251", str(where / "ru_RU.CP1251")], check=False,
                   capture_output=True, timeout=120)  # exit 1 for warnings about the source is normal
    if not (where / "ru_RU.CP1251").is_dir():
        pytest.fail("localedef made no ru_RU.CP1251 (Debian's locales package holds the sources)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG", "MIRROR_LANG", "PYTHONIO"))}
    env.update(LOCPATH=str(where), LANG="ru_RU.CP1251")
    probe = subprocess.run([sys.executable, "-c", "import sys; print(sys.getfilesystemencoding())"], env=env,
                           capture_output=True, text=True, check=True, timeout=30)
    assert probe.stdout.strip() == "cp1251"
    return env


def _bundle(tmp_path: Path, secret: SecretKey, kazakh_names: bool) -> Path:
    src = tmp_path / "src"
    (src / "accounts").mkdir(parents=True)
    name = "Қаңтар-оқиғасы.md" if kazakh_names else "account.md"
    (src / "accounts" / name).write_text("# Алаң\n\nТаңертең алаңда адамдар көп болды.\n", encoding="utf-8")
    out = tmp_path / "b.7z"
    create_bundle(CreateRequest(src, out, title=TITLE), secret)
    return out


def _run(env: dict[str, str], cwd: Path, *args: str | Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(COMMAND), *map(str, args)], env=env, cwd=cwd, capture_output=True, timeout=120,
                          check=False)


def test_a_kazakh_title_is_shown_and_extracted_under_a_name_the_system_can_write(
        cp1251: dict[str, str], tmp_path: Path, secret: SecretKey) -> None:
    bundle = _bundle(tmp_path, secret, kazakh_names=False)
    verified = _run(cp1251, tmp_path, "verify", bundle)
    assert verified.returncode == 5, verified.stderr
    out = verified.stdout.decode("cp1251")  # every byte is CP1251: Russian words readable, Kazakh letters escaped
    assert "набор" in out and "Алматы, \\u049bа\\u04a3тар 2022" in out
    done = _run(cp1251, tmp_path, "extract", bundle, "--untrusted")
    assert done.returncode == 0, done.stderr.decode("cp1251")
    assert b"Traceback" not in done.stderr
    folders = [p.name for p in tmp_path.iterdir() if p.name.startswith("bundle-")]
    assert len(folders) == 1 and (tmp_path / folders[0] / "accounts" / "account.md").is_file()


def test_a_file_name_the_system_cannot_write_is_refused_in_one_line(
        cp1251: dict[str, str], tmp_path: Path, secret: SecretKey) -> None:
    bundle = _bundle(tmp_path, secret, kazakh_names=True)
    before = sorted(p.name for p in tmp_path.iterdir())
    done = _run(cp1251, tmp_path, "extract", bundle, "out", "--untrusted")
    err = done.stderr.decode("cp1251")
    assert done.returncode == 2 and "Traceback" not in err and "internal error" not in err, err
    assert "нельзя записать как имя файла" in err and "cp1251" in err and "LANG=ru_RU.UTF-8" in err  # in Russian
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no partial folder, no scratch folder
