"""The folder walk that create and scan use: os.walk's order and links, no recursion, folders it cannot list said.

A tree deeper than Python's recursion limit is made (and removed) through folder descriptors, never by path:
its deepest folders have paths longer than the system allows (4,096 bytes), so listing them by path fails with
ENAMETOOLONG, a real folder that cannot be read even by root.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mirror.walk import walk

DEPTH = 2_200  # "d/" per level: past Python's recursion limit (1,000) and past PATH_MAX (4,096 bytes)


def _deep(top: Path, depth: int, leaf: bytes) -> None:
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(depth):
            os.mkdir("d", dir_fd=fd)
            inner = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = inner
        with open(os.open("a.md", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "wb") as out:
            out.write(leaf)
    finally:
        os.close(fd)


def _remove_deep(top: Path) -> None:
    """Down through "d" by descriptor, then each level's contents removed on the way up."""
    fds = [os.open(top, os.O_RDONLY | os.O_DIRECTORY)]
    try:
        while "d" in os.listdir(fds[-1]):
            fds.append(os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fds[-1]))
        while len(fds) > 1:
            inner = fds.pop()
            for name in os.listdir(inner):
                os.unlink(name, dir_fd=inner)
            os.close(inner)
            os.rmdir("d", dir_fd=fds[-1])
    finally:
        for fd in fds:
            os.close(fd)


@pytest.fixture
def deep(tmp_path: Path) -> Iterator[Path]:
    top = tmp_path / "deep"
    top.mkdir()
    (top / "note.md").write_text("---\nlanguage: en\n---\nA short account.\n")
    _deep(top, DEPTH, b"---\nlanguage: en\n---\nAt the bottom.\n")
    yield top
    _remove_deep(top)


def test_the_order_and_the_links_are_those_of_os_walk(tmp_path: Path) -> None:
    for folder in ("a/b/c", "a/e", "f", "g/h"):
        (tmp_path / folder).mkdir(parents=True)
    for file in ("x.md", "a/y.md", "a/b/c/z.md", "g/h/w.md"):
        (tmp_path / file).write_text("x")
    (tmp_path / "a" / "to-g").symlink_to(tmp_path / "g")  # listed among the folders, never entered
    (tmp_path / "a" / "dangling").symlink_to(tmp_path / "none")
    os.mkfifo(tmp_path / "f" / "pipe.md")

    def sorted_walk(seen: Iterator[tuple[str, list[str], list[str]]]) -> list[tuple[str, list[str], list[str]]]:
        out = []
        for root, dirs, files in seen:
            dirs.sort()
            if "e" in dirs:
                dirs.remove("e")  # pruned in place
            out.append((root, list(dirs), sorted(files)))
        return out

    ours = sorted_walk(walk(str(tmp_path), lambda folder, exc: pytest.fail(f"{folder}: {exc}")))
    assert ours == sorted_walk(os.walk(tmp_path, followlinks=False))
    assert (str(tmp_path / "a"), ["b", "to-g"], ["dangling", "y.md"]) in ours


def test_a_tree_deeper_than_the_recursion_limit_is_walked_and_its_unlistable_folders_said(deep: Path) -> None:
    failed: list[tuple[str, int | None]] = []
    depth = 0
    for root, _, _ in walk(str(deep), lambda folder, exc: failed.append((folder, exc.errno))):
        depth = max(depth, root.count(os.sep) - str(deep).count(os.sep))
    assert 1_000 < depth < DEPTH
    assert len(failed) == 1 and failed[0][1] == errno.ENAMETOOLONG and failed[0][0].count(os.sep) > depth


def _mirror(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mirror", *map(str, args)], capture_output=True, text=True,
                          timeout=120, check=False, stdin=subprocess.DEVNULL)


def test_create_refuses_a_folder_it_cannot_read_instead_of_leaving_it_out(deep: Path, tmp_path: Path,
                                                                           keyring: object) -> None:
    """Before: RecursionError (an internal error); and an unreadable folder would have been left out silently."""
    out = tmp_path / "b.7z"
    done = _mirror("create", deep, "-o", out, "--key", "alice")
    assert done.returncode == 2 and not out.exists(), done.stderr
    assert "a folder that cannot be read: File name too long" in done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr


def test_scan_says_the_folder_it_could_not_read(deep: Path) -> None:
    done = _mirror("scan", deep)
    assert done.returncode == 7, (done.stdout, done.stderr)
    assert "cannot be read: File name too long" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
