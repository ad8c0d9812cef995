"""A reader of stdout that goes away early (`mirror verify X | head -1`): no traceback, and the verdict's exit code."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent.parent / "data" / "golden-v2.7z"


def _run_into_closed_pipe(*args: str | Path, tmp_path: Path) -> subprocess.CompletedProcess[bytes]:
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will read: the first write fails with EPIPE
    try:
        env = {**os.environ, "MIRROR_LANG": "en", "MIRROR_STATE": str(tmp_path / "state")}
        return subprocess.run([sys.executable, "-m", "mirror", *map(str, args)], stdout=write_end,
                              stderr=subprocess.PIPE, env=env, timeout=120, check=False)
    finally:
        os.close(write_end)


@pytest.mark.parametrize("json_flag", [(), ("--json",)])
def test_the_verdict_survives_a_closed_stdout(tmp_path: Path, json_flag: tuple[str, ...]) -> None:
    unknown = _run_into_closed_pipe("verify", GOLDEN, "--keys", tmp_path / "nokeys", *json_flag, tmp_path=tmp_path)
    assert unknown.returncode == 5 and unknown.stderr == b""  # intact, signer not in the keyring
    bad = tmp_path / "bad.7z"
    shutil.copy(GOLDEN, bad)
    with bad.open("r+b") as handle:
        handle.seek(bad.stat().st_size // 2)
        byte = handle.read(1)
        handle.seek(-1, os.SEEK_CUR)
        handle.write(bytes((byte[0] ^ 0xFF,)))
    tampered = _run_into_closed_pipe("verify", bad, "--keys", tmp_path / "nokeys", *json_flag, tmp_path=tmp_path)
    assert tampered.returncode == 3
    assert b"Traceback" not in tampered.stderr


def test_help_into_a_closed_pipe_is_quiet(tmp_path: Path) -> None:
    done = _run_into_closed_pipe("--help", tmp_path=tmp_path)
    assert b"Traceback" not in done.stderr and b"internal error" not in done.stderr
