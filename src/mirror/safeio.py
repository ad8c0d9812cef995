"""Atomic file writes: a temporary file beside the target, then `os.replace`.

Example::

    atomic_write(Path("out/key.pub"), b"...", mode=0o644)

    with atomic_output(Path("out.7z"), force=False) as tmp:
        write_archive(tmp)          # on any exception, tmp is removed and out.7z untouched
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from mirror.errors import ConfigError

TMP_SUFFIX = ".mirror-tmp"


def atomic_write(path: Path, data: bytes, mode: int = 0o644, *, overwrite: bool = True) -> None:
    """Write `data` to `path` so that readers see the old file or the new one, never a part."""
    with atomic_output(path, force=overwrite, mode=mode) as tmp, tmp.open("wb") as out:
        out.write(data)


@contextlib.contextmanager
def atomic_output(path: Path, *, force: bool, mode: int = 0o644) -> Iterator[Path]:
    """Yield a temporary path in `path`'s folder; rename it into place on success.

    Raises:
        ConfigError: `path` exists and `force` is False.
    """
    if path.exists() and not force:
        raise ConfigError(f"{path} already exists", hint="pass --force to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, mode)
        with tmp.open("rb") as synced:
            os.fsync(synced.fileno())
        if not force and path.exists():
            raise ConfigError(f"{path} already exists", hint="pass --force to replace it")
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
