"""Atomic file writes: a temporary file beside the target, then `os.replace`.

Example::

    atomic_write(Path("out/key.pub"), b"...", mode=0o644)

    with atomic_output(Path("out.7z"), force=False) as tmp:
        write_archive(tmp)          # on any exception, tmp is removed and out.7z untouched

    save_state(path, {"version": 4})      # small JSON state files, mode 0600
    load_state(path)                      # {} when absent; ConfigError when damaged

    with open_regular(Path("x.7z")) as fp:  # ConfigError for a FIFO, device or socket, before opening it
        ...
    read_regular(Path("keys/alice.pub"), limit=64 * 1024)   # the same check, then the whole file (capped)
    fit_stem(name, ".endorsed.7z")    # NAME shortened (whole letters) so NAME.endorsed.7z fits in 255 bytes
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import stat
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from mirror.errors import ConfigError

TMP_SUFFIX = ".mirror-tmp"
NAME_BYTES = 255  # the longest file name (one part of a path) file systems take, in bytes
_STATE_LIMIT = 16 << 20  # a state file is a few kilobytes; a larger one is not ours


def name_bytes(text: str) -> int:
    """How many bytes `text` takes as a file name on this system (UTF-8 where its encoding lacks a letter)."""
    try:
        return len(os.fsencode(text))
    except UnicodeEncodeError:
        return len(text.encode("utf-8", "surrogatepass"))


def fit_stem(stem: str, suffix: str, limit: int = NAME_BYTES) -> str:
    """`stem`, shortened so that `stem + suffix` takes at most `limit` bytes as a file name: for names made from
    another (NAME.part1of3.7z, NAME.endorsed.7z), whose NAME may be as long as a file system allows. Cut between
    letters, never inside one (nor between a letter and its accents); the stem unchanged when it fits.

    "а" * 122 with ".part1of4.7z" (256 bytes in UTF-8) -> "а" * 121.
    """
    room = limit - name_bytes(suffix)
    if not stem or name_bytes(stem) <= room:
        return stem
    end, size = 0, name_bytes(stem[0])
    while size <= room:  # `end`: the first letter that does not fit
        end += 1
        size += name_bytes(stem[end])
    while end > 0 and (_goes_with_before(stem[end]) or stem[end - 1] == _JOINER):  # a letter's marks go with it
        end -= 1
    return stem[:end]


_JOINER = "\u200d"  # joins two emoji into one ("family"): what follows it is part of the same one


def _goes_with_before(char: str) -> bool:
    """Whether `char` is part of the letter before it: an accent or vowel sign (Devanagari's ि has combining class
    0), an emoji's variation selector or skin tone, a joiner, or an NFD Hangul syllable's vowel or final."""
    return (unicodedata.category(char) in ("Mn", "Mc", "Me") or char in "\u200c\u200d"
            or "\ufe00" <= char <= "\ufe0f" or "\u1160" <= char <= "\u11ff" or "\U0001f3fb" <= char <= "\U0001f3ff"
            or "\U000e0100" <= char <= "\U000e01ef")


def atomic_write(path: Path, data: bytes, mode: int = 0o644, *, overwrite: bool = True) -> None:
    """Write `data` to `path` so that readers see the old file or the new one, never a part."""
    with atomic_output(path, force=overwrite, mode=mode) as tmp, tmp.open("wb") as out:
        out.write(data)


def _place_new(tmp: Path, path: Path) -> None:
    """Rename `tmp` to `path` only if nothing is there, with no window in between where possible."""
    try:
        os.link(tmp, path)  # fails if `path` appeared meanwhile; os.replace would overwrite it
    except FileExistsError:
        raise ConfigError(f"{path} already exists", hint="pass --force to replace it") from None
    except OSError:  # no hard links here (FAT on a USB stick): check, then rename
        if path.exists():
            raise ConfigError(f"{path} already exists", hint="pass --force to replace it") from None
        os.replace(tmp, path)


def rename_noreplace(source: Path, target: Path) -> None:
    """Rename `source` to `target`, failing if `target` exists, even as an empty folder made a moment ago.

    Uses renameat2(RENAME_NOREPLACE) where the C library and file system offer it, else checks first.

    Raises:
        ConfigError: `target` exists.
    """
    import ctypes  # only extract renames this way; a verify need not load it

    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is not None:
        at_fdcwd, rename_noreplace_flag = -100, 1
        if renameat2(at_fdcwd, os.fsencode(source), at_fdcwd, os.fsencode(target), rename_noreplace_flag) == 0:
            return
        error = ctypes.get_errno()
        if error == errno.EEXIST:
            raise ConfigError(f"{target} already exists; nothing was overwritten")
        if error not in (errno.ENOSYS, errno.EINVAL):  # EINVAL: the file system lacks the flag
            raise OSError(error, os.strerror(error), str(target))
    if target.exists() or target.is_symlink():
        raise ConfigError(f"{target} already exists; nothing was overwritten")
    os.rename(source, target)


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


# Said by the system without a path (a write fails, not an open): a full disk, a quota, a file too large for the
# file system (FAT's 4 GiB).
OUTPUT_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


@contextlib.contextmanager
def writing_to(path: Path) -> Iterator[None]:
    """An OSError of a full disk that names no file names `path`, the output the user chose, instead of nothing:
    "x.7z: No space left on device", not "No space left on device"."""
    try:
        yield
    except OSError as exc:
        if exc.filename is None and exc.errno in OUTPUT_FULL:
            exc.filename = str(path)
        raise


def probe_output_folder(path: Path) -> None:
    """Check that a file can be made where `path` goes (its folder, or the nearest one there is, where the rest
    would be made), before long work whose result would have nowhere to go; nothing is left behind.

    Raises:
        ConfigError: a file where a folder should be.
        OSError: a read-only or full file system, no permission, a folder that cannot hold files (/proc); the
            folder is named.
    """
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise ConfigError(f"{folder} is not a folder", hint="name a new folder inside a folder")
    import tempfile

    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:  # /proc says ENOENT: the folder is there, a file cannot be made in it
        reason = exc.strerror or str(exc)
        raise OSError(exc.errno, f"no file can be made in this folder, where the output would go ({reason})",
                      str(folder)) from None


@contextlib.contextmanager
def atomic_output(path: Path, *, force: bool, mode: int = 0o644) -> Iterator[Path]:
    """Yield a temporary path in `path`'s folder; rename it into place on success. The temporary file is held
    (mirror.leftovers) while it exists; what runs killed outright left in the folder is removed first.
    A caller that puts another file at the temporary name holds that one itself.

    Raises:
        ConfigError: `path` exists and `force` is False, or it is not a regular file (a device, a FIFO, a
            folder: replacing it would destroy what it is, not the file the user meant).
    """
    try:
        existing = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        existing = None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        kind = _KINDS.get(stat.S_IFMT(existing.st_mode), "not a regular file")
        raise ConfigError(f"{path} is {kind}, not a file to write", hint="give the path of a new file")
    if existing is not None and not force:
        raise ConfigError(f"{path} already exists", hint="pass --force to replace it")
    made = _make_folders(path.parent)
    placed = False
    try:
        yield from _atomic_in_folder(path, force, mode)
        placed = True
    finally:
        if not placed:  # the folders made for it go again, if nothing else was put there meanwhile
            for folder in reversed(made):
                with contextlib.suppress(OSError):
                    folder.rmdir()


def _make_folders(folder: Path) -> list[Path]:
    """Make `folder` and the missing folders above it; those made, outermost first."""
    missing: list[Path] = []
    while not (folder.exists() or folder.is_symlink()) and folder.parent != folder:
        missing.append(folder)
        folder = folder.parent
    made: list[Path] = []
    try:
        for step in reversed(missing):
            try:
                step.mkdir()
            except FileExistsError:
                if not step.is_dir():
                    raise
                continue
            made.append(step)
    except OSError:
        for step in reversed(made):
            with contextlib.suppress(OSError):
                step.rmdir()
        raise
    return made


def _atomic_in_folder(path: Path, force: bool, mode: int) -> Iterator[Path]:
    import tempfile  # writers only; readers start faster without it

    from mirror.held_back import interrupts_held
    from mirror.leftovers import made_and_claimed, remove_unheld

    prefix = fit_stem(f".{path.name}.", "12345678" + TMP_SUFFIX)  # a long name shortened: 8 random letters follow
    remove_unheld(path.parent)  # what runs killed outright left there

    def make() -> tuple[int, Path]:
        try:
            fd, name = tempfile.mkstemp(prefix=prefix, suffix=TMP_SUFFIX, dir=path.parent)
        except OSError as exc:  # a read-only folder, a full disk: said of the file asked for, not of a temporary
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        return fd, Path(name)

    fd, tmp = -1, None
    try:
        with interrupts_held():  # Ctrl-C after the file was made and before `tmp` was set left the file behind
            claimed = made_and_claimed(make)  # held until the fd is closed below: never taken for a killed run's
            if claimed is None:
                raise OSError(errno.EAGAIN, "another run of mirror keeps removing this run's temporary files",
                              str(path))
            fd, tmp = claimed
        with writing_to(path):
            yield tmp
            os.chmod(tmp, mode)
            with tmp.open("rb") as synced:
                os.fsync(synced.fileno())
            if force:
                os.replace(tmp, path)
            else:
                _place_new(tmp, path)
    except OSError as exc:
        if tmp is None or exc.filename != str(tmp):
            raise
        raise OSError(exc.errno, exc.strerror, str(path)) from None  # "No space left on device: x.pub", not .x.tmp
    finally:
        if tmp is not None:
            with interrupts_held():  # a signal now (after another error) must not skip the unlink or the close
                try:
                    with contextlib.suppress(FileNotFoundError):
                        tmp.unlink()
                finally:
                    os.close(fd)  # whatever the unlink said (a stick pulled out): a held fd kept for good leaks


def load_state(path: Path) -> dict[str, Any]:
    """The JSON object in a state file, or {} when there is none.

    Raises:
        ConfigError: the file is damaged (never silently reset: that would allow a rollback).
    """
    try:
        doc = json.loads(read_regular(path, _STATE_LIMIT).decode("utf-8"))
    except FileNotFoundError:
        return {}
    except (ValueError, UnicodeDecodeError, RecursionError):  # nested deeper than the parser goes (helper-171)
        raise damaged_state(path) from None
    if not isinstance(doc, dict):
        raise damaged_state(path)
    return doc


def damaged_state(path: Path) -> ConfigError:
    """The error for a state file that cannot be read as what it should hold."""
    return ConfigError(f"state file {path} is damaged", hint="restore it from a backup; do not delete it")


def save_state(path: Path, doc: dict[str, Any]) -> None:
    """Replace the JSON object in a state file atomically, readable by its owner only."""
    atomic_write(path, (json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode(), mode=0o600)


_KINDS = {stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFSOCK: "a socket", stat.S_IFDIR: "a folder"}


def _not_regular(path: Path, mode: int) -> ConfigError:
    kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
    return ConfigError(f"{path} is {kind}, not a regular file", hint="copy what it holds into a file first")


def open_regular(path: Path) -> BinaryIO:
    """Open `path` for reading only if it is a regular file (or a link to one).

    A FIFO would block until a writer comes, a device may never end or may act on being opened (a tape
    rewinds): so the type is checked before opening, and again on the open file (without blocking), so
    that a FIFO swapped in between is refused too.

    Raises:
        ConfigError: a FIFO, device, socket or folder (exit 2).
        OSError: the file cannot be opened.
    """
    before = os.stat(path)
    if not stat.S_ISREG(before.st_mode):
        raise _not_regular(path, before.st_mode)
    return _regular_file(os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC), path)


def _regular_file(fd: int, path: Path) -> BinaryIO:
    """The file opened (without blocking) as `fd`, if it is a regular file; `fd` is closed otherwise.

    Raises:
        ConfigError: a FIFO, device, socket or folder was swapped in before the open.
    """
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):
            raise _not_regular(path, opened.st_mode)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    # Outside the try: once the file object exists it owns `fd`. Ctrl-C as it is made drops it, which closes `fd`;
    # a second close here said "Bad file descriptor" instead of "interrupted" (or closed a file opened meanwhile).
    return os.fdopen(fd, "rb")


READ_PIECE = 1 << 20


def read_at_most(handle: BinaryIO, limit: int) -> bytes:
    """Up to `limit` bytes of `handle`, read a piece at a time. `handle.read(limit)` sets `limit` bytes aside before
    it reads one: a folder's bundle.json of 5 KB read against its cap of 512 MiB asked for 512 MiB, an internal
    error (MemoryError) under a memory limit of 500 MB, where verifying the bundle itself takes 30 MB."""
    try:  # a file's size known, it comes in one read, never held twice (the pieces and their join)
        want = max(READ_PIECE, os.fstat(handle.fileno()).st_size + 1)
    except (OSError, ValueError, AttributeError):  # no file behind it (BytesIO): pieces
        want = READ_PIECE
    pieces, left = [], limit
    while left > 0:
        piece = handle.read(min(want, left))
        if not piece:
            break
        pieces.append(piece)
        left -= len(piece)
        want = READ_PIECE  # it grew while read: the rest a piece at a time
    return pieces[0] if len(pieces) == 1 else b"".join(pieces)


def read_regular(path: Path, limit: int | None = None) -> bytes:
    """The whole of `path` if it is a regular file (as `open_regular` checks), at most `limit` bytes.

    Raises:
        ConfigError: a FIFO, device, socket or folder, or a file larger than `limit`.
        OSError: the file cannot be read (FileNotFoundError when it is not there).
    """
    with open_regular(path) as handle:
        data = handle.read() if limit is None else read_at_most(handle, limit + 1)
    if limit is not None and len(data) > limit:
        raise ConfigError(f"{path} is larger than {limit} bytes, too large for what it should hold")
    return data


class LinkInside(Exception):
    """A link inside a folder that is written or read only within itself (a folder host): `path` is the link."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self.path = path


_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


def _refuse_link(name: str, folder: int, shown: Path) -> None:
    """Raise LinkInside if `name` in the folder `folder` is a link (anything else, or nothing, passes)."""
    try:
        info = os.stat(name, dir_fd=folder, follow_symlinks=False)
    except OSError:
        return
    if stat.S_ISLNK(info.st_mode):
        raise LinkInside(shown)


def open_folder_beneath(root: Path, parts: tuple[str, ...] | list[str], *, create: bool = False) -> int:
    """A descriptor of the folder root/parts..., no link followed below `root` (`root` itself may be reached through
    one, as a mount point often is); missing folders made when `create`. The caller closes it.

    Each step is opened with O_NOFOLLOW relative to the one before, so a link planted at any moment is refused, never
    followed.

    Raises:
        LinkInside: a step is a link.
        OSError: a step is missing (FileNotFoundError), is not a folder, or cannot be opened or made.
    """
    fd = os.open(root, _FOLDER)
    here = root
    try:
        for part in parts:
            here = here / part
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, 0o777, dir_fd=fd)
            try:
                inner = os.open(part, _FOLDER | os.O_NOFOLLOW, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    _refuse_link(part, fd, here)
                raise
            fd, outer = inner, fd  # one step: Ctrl-C between a close and this closed `fd` twice below
            os.close(outer)
    except BaseException:
        os.close(fd)
        raise
    return fd


def stat_beneath(root: Path, parts: tuple[str, ...]) -> os.stat_result:
    """The status of root/parts... itself, no link followed below `root`.

    Raises:
        LinkInside: a step, or the file itself, is a link.
        OSError: it cannot be reached (FileNotFoundError when it is not there).
    """
    folder = open_folder_beneath(root, parts[:-1])
    try:
        info = os.stat(parts[-1], dir_fd=folder, follow_symlinks=False)
    finally:
        os.close(folder)
    if stat.S_ISLNK(info.st_mode):
        raise LinkInside(root.joinpath(*parts))
    return info


def open_regular_beneath(root: Path, parts: tuple[str, ...]) -> BinaryIO:
    """Open root/parts... for reading, as `open_regular` does, with no link followed below `root`.

    Raises:
        LinkInside: a step, or the file itself, is a link.
        ConfigError: a FIFO, device, socket or folder.
        OSError: the file cannot be opened (FileNotFoundError when it is not there).
    """
    path = root.joinpath(*parts)
    folder = open_folder_beneath(root, parts[:-1])
    try:
        before = os.stat(parts[-1], dir_fd=folder, follow_symlinks=False)
        if stat.S_ISLNK(before.st_mode):
            raise LinkInside(path)
        if not stat.S_ISREG(before.st_mode):
            raise _not_regular(path, before.st_mode)
        try:
            fd = os.open(parts[-1], os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC | os.O_NOFOLLOW,
                         dir_fd=folder)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise LinkInside(path) from None
            raise
    finally:
        os.close(folder)
    return _regular_file(fd, path)


def file_stamp(path: Path) -> tuple[int, int]:
    """A file's size and modification time, (-1, -1) when it is gone: what a seed compares to see a bundle changed
    on disk since it was checked. Not its inode or change time: a hard link, chmod or a FAT stick's reloaded inode
    change those, and bundles that had not changed were dropped (helper-166)."""
    try:
        info = path.stat()
    except OSError:
        return -1, -1
    return info.st_size, info.st_mtime_ns
