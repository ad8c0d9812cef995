"""Where extract, split and join write: a new folder or file, and the folders leading to it.

Example::

    check_new(Path("out/almaty"))                 # ConfigError if anything is there
    with new_folders(Path("out")) as made:        # makes out/ if needed; removes what it made if left empty
        ...

A file where a folder of the path should be is refused by name ("bundle.7z is not a folder"), and folders this
run made are removed again when they stay empty (a failure leaves nothing behind).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from mirror.errors import ConfigError
from mirror.formats.names import check_name_length
from mirror.held_back import interrupts_held
from mirror.leftovers import made_and_claimed, remove_unheld
from mirror.safeio import OUTPUT_FULL, TMP_SUFFIX, fit_stem


def dangling(path: Path) -> str | None:
    """If `path` is a link whose target does not exist, the refusal to print; else None."""
    try:
        if not path.is_symlink() or path.exists():
            return None
        target = os.readlink(path)
    except OSError:
        return None
    return f"{path} is a link to {target}, which does not exist"


def check_new(dest: Path) -> None:
    """Raise unless nothing is at `dest`: extract never overwrites.

    Raises:
        ConfigError: something is there, a file stands where a folder above it should be, or a name is longer
            than a file system takes.
    """
    check_name_length(dest)
    try:
        there = dest.exists() or dest.is_symlink()
    except OSError:
        there = True
    if there:
        raise ConfigError(dangling(dest) or f"{dest} already exists",
                          hint="name a new folder; extract never overwrites, nor writes through a link")
    _folder_above(dest.parent)


def _folder_above(folder: Path) -> list[Path]:
    """The folders of `folder`'s path that do not exist yet, outermost first.

    Raises:
        ConfigError: something that is not a folder stands on the path.
    """
    missing: list[Path] = []
    while not (folder.exists() or folder.is_symlink()):
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    broken = dangling(folder)
    if broken is not None:
        raise ConfigError(broken, hint="name a new folder inside a folder; mirror never writes through a broken link")
    if (folder.exists() or folder.is_symlink()) and not folder.is_dir():
        raise ConfigError(f"{folder} is not a folder", hint="name a new folder inside a folder")
    return list(reversed(missing))


def remove_tree(path: Path) -> None:
    """Remove `path` and everything under it, whatever fails, and even if Ctrl-C or SIGTERM comes meanwhile:
    the removal goes on to the end and the interrupt is raised after it, so a working folder of 20,000 files is
    never left behind half removed."""
    interrupted: KeyboardInterrupt | None = None
    while True:
        try:
            shutil.rmtree(path, ignore_errors=True)
            break
        except KeyboardInterrupt as exc:  # what our SIGTERM and SIGHUP handlers raise too (cli/__init__.py)
            interrupted = exc
    if interrupted is not None:
        raise interrupted


@contextlib.contextmanager
def new_folders(folder: Path) -> Iterator[list[Path]]:
    """Make `folder` and the folders above it that are missing; on leaving, remove those left empty.

    Raises:
        ConfigError: a file stands where a folder of the path should be.
    """
    made: list[Path] = []
    try:
        for step in _folder_above(folder):
            try:
                step.mkdir()
            except FileExistsError:
                if not step.is_dir():
                    folder = step
                    raise ConfigError(f"{folder} is not a folder", hint="name a new folder inside a folder") from None
                continue
            except NotADirectoryError:
                folder = step.parent
                raise ConfigError(f"{folder} is not a folder", hint="name a new folder inside a folder") from None
            made.append(step)
        yield made
    finally:
        for path in reversed(made):
            with contextlib.suppress(OSError):
                path.rmdir()  # only when empty: what this run wrote (or anyone else did) stays


@contextlib.contextmanager
def private_folder(beside: Path, prefix: str) -> Iterator[Path]:
    """A new private working folder (mode 0700) inside `beside`, named `prefix` and random letters, held
    (mirror.leftovers) for the `with` block; the caller renames it or removes it, and it is removed when the
    block raises. What runs killed outright left there (working folders with the accounts and photos they had
    unpacked) is removed first.

    Raises:
        OSError: it cannot be made; the error names `beside`, the folder the reader chose, not the working one.
    """
    prefix = fit_stem(prefix, "12345678" + TMP_SUFFIX)  # a prefix made from a long name is shortened
    remove_unheld(beside)

    def make() -> tuple[int, Path]:
        try:
            folder = Path(tempfile.mkdtemp(prefix=prefix, suffix=TMP_SUFFIX, dir=beside))
            return os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC), folder
        except OSError as exc:
            exc.filename, exc.filename2 = str(beside), None
            raise

    fd, folder = -1, None
    try:
        with interrupts_held():  # Ctrl-C after the folder was made and before `folder` was set left it behind
            claimed = made_and_claimed(make)
            if claimed is None:
                raise OSError(errno.EAGAIN, "another run of mirror keeps removing this run's working folders",
                              str(beside))
            fd, folder = claimed
        yield folder
    except BaseException:
        if folder is not None:  # the caller failed, perhaps interrupted before its own cleanup began
            remove_tree(folder)  # (a folder the caller renamed into place is no longer there)
        raise
    finally:
        if fd >= 0:
            os.close(fd)


@contextlib.contextmanager
def said_under(private: Path, public: Callable[[], Path | None]) -> Iterator[None]:
    """An OSError naming a path inside the private working folder `private` names it under `public()` instead
    (the output: the reader never saw the working folder, and it is gone), or by its place in the bundle alone
    when the output is not named yet (None). A path too long for the system is said as that, with the fix.

    Raises:
        ConfigError: a file's path was too long for the system.
    """
    try:
        yield
    except OSError as exc:
        inside, where = str(private), public()
        if exc.filename is None and exc.errno in OUTPUT_FULL and where is not None:
            exc.filename = str(where)  # a full disk is said without a path
        for attr in ("filename", "filename2"):
            value = getattr(exc, attr, None)
            if isinstance(value, str) and (value == inside or value.startswith(inside + os.sep)):
                if exc.errno == errno.ENAMETOOLONG and attr == "filename":
                    member = value[len(inside) :].lstrip(os.sep).replace(os.sep, "/")
                    raise ConfigError(f"{member}: its path is too long for this system where it is extracted",
                                      hint="extract into a folder with a shorter path (mirror writes beside DEST "
                                      "first, in a folder with a longer name)") from None
                rest = value[len(inside) :]
                setattr(exc, attr, str(where) + rest if where is not None else rest.lstrip(os.sep) or ".")
        raise
