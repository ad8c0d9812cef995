"""Where extract, split and join write: bundle/destination.py's working folders are removed whole."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mirror.bundle import destination


def test_a_tree_is_removed_whole_even_when_interrupted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C or SIGTERM (raised as KeyboardInterrupt) during the removal of a working folder: the removal goes on
    to the end, then the interrupt comes out; before, the folder stayed half removed beside the output."""
    tree = tmp_path / ".mirror-parts.x"
    for i in range(50):
        (tree / f"d{i % 5}").mkdir(parents=True, exist_ok=True)
        (tree / f"d{i % 5}" / f"f{i}").write_bytes(b"x")
    real, calls = shutil.rmtree, []

    def interrupted(path: Path, ignore_errors: bool = False) -> None:
        calls.append(path)
        if len(calls) < 3:  # a signal lands in the first two tries, each after part of the work
            real(next(p for p in Path(path).iterdir()), ignore_errors=True)
            raise KeyboardInterrupt
        real(path, ignore_errors=ignore_errors)

    monkeypatch.setattr(destination.shutil, "rmtree", interrupted)
    with pytest.raises(KeyboardInterrupt):
        destination.remove_tree(tree)
    assert not tree.exists() and len(calls) == 3
