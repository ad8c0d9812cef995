"""A disk that fills while mirror writes: the error names the output the user chose, exit 1, nothing left there.

The limit is real: RLIMIT_FSIZE makes the kernel refuse a write past 64 KiB with EFBIG ("File too large"), said
by the system without a path, as ENOSPC is on a full disk (Python ignores SIGXFSZ, so the write returns the
error instead of killing the process).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import make_jpeg
from mirror_setup import Setup, publish_cli

LIMIT = 64 * 1024


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def _mirror(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mirror", *map(str, args)], capture_output=True, text=True,
                          timeout=120, check=False, stdin=subprocess.DEVNULL, preexec_fn=_limited)


def _said(done: subprocess.CompletedProcess[str], where: Path) -> None:
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stderr.strip().splitlines()[-1] == f"mirror: {where}: File too large", done.stderr
    assert "Traceback" not in done.stderr


@pytest.fixture
def large(tmp_path: Path, sources: Path, keyring: object) -> Path:
    """A signed bundle of photos larger than the limit, made without it."""
    for n in range(3):
        (sources / "photos" / f"noise{n}.jpg").write_bytes(make_jpeg(800, 600, seed=n, noisy=True))
    out = tmp_path / "large.7z"
    done = subprocess.run([sys.executable, "-m", "mirror", "create", sources, "-o", out, "--key", "alice"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and out.stat().st_size > 4 * LIMIT, done.stderr
    return out


def test_create_names_its_output(tmp_path: Path, large: Path, sources: Path) -> None:
    out = tmp_path / "out" / "b.7z"
    _said(_mirror("create", sources, "-o", out, "--key", "alice"), out)
    assert not out.exists() and not out.parent.exists()  # the folder made for it goes too (it stayed, empty)


def test_extract_names_its_destination(tmp_path: Path, large: Path) -> None:
    dest = tmp_path / "x"
    _said(_mirror("extract", large, dest), dest)
    assert not dest.exists() and [p.name for p in tmp_path.iterdir() if p.name.startswith("x")] == []


def test_split_names_its_folder(tmp_path: Path, large: Path) -> None:
    parts = tmp_path / "parts"
    _said(_mirror("split", large, "--max-size", "200K", "-o", parts), parts)
    assert not parts.exists()


def test_endorse_names_its_output(tmp_path: Path, large: Path, keyring: object) -> None:
    done = _mirror("keys", "new", "bob", "--no-passphrase")
    assert done.returncode == 0, done.stderr
    out = tmp_path / "endorsed.7z"
    _said(_mirror("endorse", large, "--key", "bob", "--claim", "relayed", "-o", out), out)
    assert not out.exists()


def test_fetch_names_its_destination(tmp_path: Path, setup: Setup, runner: CliRunner) -> None:
    """A folder mirror with a bundle larger than the limit: the download fails naming DEST; nothing lands."""
    assert publish_cli(runner, setup, setup.bundle)[0] == 0 and setup.bundle.stat().st_size > LIMIT
    dest = tmp_path / "in"
    done = _mirror("fetch", "--keys", setup.reader_keys, "--mirror", setup.hosts[0], "--all", "--dest", dest)
    _said(done, dest)
    assert not list(dest.glob("*.7z"))


_SPILL = """
from mirror.sevenzip import headerwriter
headerwriter.NAMES_IN_MEMORY = 1024  # as a bundle of a million members does past 16 MiB of names
table = headerwriter.HeaderTable()
try:
    for i in range(2000):
        table.add_member(f"accounts/{i:05d}-" + "x" * 80 + ".md", 0, None, None)
    b"".join(table.pieces(0))
except OSError as exc:
    print(exc.filename)
    print(exc.strerror)
table.close()  # quietly: the flush fails again, and must not be a second error
"""


def test_a_full_temporary_folder_is_named_not_the_output(tmp_path: Path) -> None:
    """The member names of a large bundle wait in TMPDIR while it is written: when that folder is full, the error
    names it and says TMPDIR can name another, where blaming the output's disk would send the user astray."""
    spool = tmp_path / "tmp"
    spool.mkdir()
    done = subprocess.run([sys.executable, "-c", _SPILL], capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, "TMPDIR": str(spool)}, preexec_fn=_limited)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    filename, strerror = done.stdout.splitlines()
    assert filename == str(spool)
    assert strerror.startswith("File too large (the temporary folder") and "TMPDIR names another" in strerror


def test_a_full_temporary_folder_is_named_when_an_extracted_folder_is_verified(tmp_path: Path) -> None:
    """An extracted folder's SHA256SUMS past 1 MiB waits in TMPDIR while it is checked: when that folder is full,
    the error names it, not the folder's SHA256SUMS as a file that "cannot be read" (exit 1 either way)."""
    import mirror
    from helpers import sevenzip_extract
    from mirror.bundle.create import CreateRequest, create_bundle
    from mirror.trust.keyring import Keyring

    ring = Keyring(tmp_path / "keys")
    ring.create("alice", None)
    sources = tmp_path / "src"
    sources.mkdir()
    (sources / "a.md").write_text("an account\n")
    create_bundle(CreateRequest(sources, tmp_path / "b.7z", title="t"), ring.secret("alice", None))
    folder = sevenzip_extract(tmp_path / "b.7z", tmp_path / "story")
    sums = next(folder.rglob("SHA256SUMS"))
    # Spooled past 16 bytes here, as past 1 MiB: a forged SHA256SUMS that long is refused by its signature before it
    # is copied, and a genuine one needs a bundle of 13,000 files.
    spill = "import runpy, mirror.bundle.control as c; c.SPILL = 16; runpy.run_module('mirror', run_name='__main__')"
    assert sums.stat().st_size > 64

    def tiny() -> None:  # the genuine SHA256SUMS of one account is a few hundred bytes
        resource.setrlimit(resource.RLIMIT_FSIZE, (64, 64))

    spool = tmp_path / "tmp"
    spool.mkdir()
    done = subprocess.run([sys.executable, "-c", spill, "verify", str(folder), "--keys", str(tmp_path / "keys")],
                          capture_output=True, text=True, timeout=120, check=False, stdin=subprocess.DEVNULL,
                          env={**os.environ, "TMPDIR": str(spool), "PYTHONPATH": str(Path(mirror.__file__).parents[1])},
                          preexec_fn=tiny)
    assert done.returncode == 1 and "Traceback" not in done.stderr, (done.stdout, done.stderr)
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"mirror: {spool}: File too large (the temporary folder"), done.stderr
