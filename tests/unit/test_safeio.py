"""Writes that never replace what someone else put in place."""

from __future__ import annotations

from pathlib import Path

import pytest

from mirror.errors import ConfigError
from mirror.safeio import atomic_output, rename_noreplace


def test_rename_noreplace_refuses_an_empty_folder_that_appeared(tmp_path: Path) -> None:
    """os.rename would silently replace an empty folder; extraction must not."""
    staging, dest = tmp_path / "staging", tmp_path / "dest"
    staging.mkdir()
    (staging / "a.txt").write_text("a")
    dest.mkdir()
    with pytest.raises(ConfigError, match="already exists"):
        rename_noreplace(staging, dest)
    assert list(dest.iterdir()) == [] and (staging / "a.txt").exists()
    dest.rmdir()
    rename_noreplace(staging, dest)
    assert (dest / "a.txt").read_text() == "a" and not staging.exists()


def test_atomic_output_without_force_never_replaces(tmp_path: Path) -> None:
    """A file that appears at the output while it is being written is kept; the new one is dropped."""
    out = tmp_path / "out.7z"
    with pytest.raises(ConfigError, match="already exists"), atomic_output(out, force=False) as tmp:
        tmp.write_bytes(b"new")
        out.write_bytes(b"someone else's")
    assert out.read_bytes() == b"someone else's"
    assert not list(tmp_path.glob(".out.7z.*"))  # the temporary file is gone too
