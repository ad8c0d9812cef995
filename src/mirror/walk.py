"""Walk a folder tree without recursion, and say which folders could not be read.

Python 3.11's `os.walk` recurses once per level: a tree deeper than about 1,000 folders (made on purpose, or a
copy that went wrong) ends it with RecursionError. And it skips a folder it cannot list without a word, so an
author would sign a bundle that silently lacks that folder's accounts.

Example::

    for root, dirs, files in walk(top, on_error=lambda folder, exc: problems.append(folder)):
        dirs[:] = [d for d in dirs if d != ".git"]    # pruned in place, as with os.walk

Like `os.walk(top, followlinks=False)`: top-down, each folder's `dirs` walked in their order after the caller
has seen (and perhaps sorted or pruned) them; a link to a folder is listed in `dirs` but never entered.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

Folder = tuple[str, list[str], list[str]]


def walk(top: str, on_error: Callable[[str, OSError], None]) -> Iterator[Folder]:
    """(folder, its folders, its other entries) for `top` and every folder under it, depth first."""
    stack = [top]
    while stack:
        root = stack.pop()
        dirs: list[str] = []
        files: list[str] = []
        links: set[str] = set()
        try:
            with os.scandir(root) as entries:
                for entry in entries:
                    try:
                        is_dir = entry.is_dir()
                    except OSError:
                        is_dir = False
                    if not is_dir:
                        files.append(entry.name)
                        continue
                    dirs.append(entry.name)
                    try:
                        if entry.is_symlink():
                            links.add(entry.name)
                    except OSError:
                        links.add(entry.name)  # never entered when in doubt
        except OSError as exc:
            on_error(root, exc)
            continue
        yield root, dirs, files
        stack.extend(os.path.join(root, d) for d in reversed(dirs) if d not in links)
