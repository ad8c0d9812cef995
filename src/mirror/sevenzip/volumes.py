"""7-Zip volumes (`X.7z.001`, `X.7z.002`, ...) read as one archive, from the first volume's name.

Example::

    with open_archive_file(Path("almaty.7z.001")) as fp:   # or a plain "almaty.7z"
        archive = read_archive(fp, Limits())

`7z a -v10m` cuts an archive's bytes into volumes of that size and nothing else, so the volumes, in order,
are the archive. The set is found beside the first volume: every sibling named like it with a number of at least
three digits (as 7-Zip writes them: .001 ... .999, .1000), taken by its value; a gap, two names for one number or
a missing first volume is refused by name before anything is read. Volumes are opened one at a time, each only
if it is a regular file.
"""

from __future__ import annotations

import bisect
import contextlib
import io
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from mirror.errors import ArchiveError, ConfigError, Incomplete, TruncatedArchive
from mirror.safeio import open_regular
from mirror.sevenzip.model import MAGIC

MAX_VOLUMES = 10_000
_VOLUME = re.compile(r"(.+)\.([0-9]{3,5})")


# Names other tools give volumes (HJSplit and Total Commander: X.001; some: X.7z.1, X.part1.7z; a messenger that
# adds .bin to a name it does not know: X.7z.001.bin, helper-158): read here only to
# say what a cut-short first volume is, never as a set (7-Zip's own X.7z.001 is the one name read as one).
_OTHER_NAMES = (re.compile(r"(?P<stem>.+?)(?:\.7z)?\.(?P<n>[0-9]{1,5})(?:\.(?:bin|dat|file|download))?"),
                re.compile(r"(?P<stem>.+)\.part(?P<n>[0-9]{1,5})\.7z"), re.compile(r"(?P<stem>.+)\.7z(?P<n>)"))


def is_first_volume(name: str) -> bool:
    """Whether `name` is the first volume of a 7-Zip set as `volume_set` reads one (X.7z.001)."""
    match = _VOLUME.fullmatch(name)
    return match is not None and match[1].lower().endswith(".7z") and int(match[2]) == 1


def is_volume(name: str) -> bool:
    """Whether `name` is a volume of a 7-Zip set as `volume_set` reads one (X.7z.001, X.7z.002, ...)."""
    match = _VOLUME.fullmatch(name)
    return match is not None and match[1].lower().endswith(".7z")


def volume_hint(path: Path) -> str | None:
    """What to do with a file that ends short and has numbered siblings of the same name (X.001 beside X.002): the
    first of a set of volumes named otherwise than 7-Zip's X.7z.001. None when there are none."""
    own = next((m for p in _OTHER_NAMES if (m := p.fullmatch(path.name))), None)
    if own is None or int(own["n"] or 1) != 1:
        return None
    stem, later, seven = own["stem"], False, None
    with contextlib.suppress(OSError), os.scandir(path.parent if str(path.parent) else ".") as entries:
        for entry in entries:
            if not entry.is_file(follow_symlinks=False):
                continue  # a folder named backup.2024 is no volume
            if entry.name != path.name and is_first_volume(entry.name) \
                    and entry.name.rsplit(".", 1)[0] == f"{stem}.7z":
                seven = entry.name
                break
            later = later or any((m := p.fullmatch(entry.name)) and m["stem"] == stem and m["n"] and int(m["n"]) != 1
                                 for p in _OTHER_NAMES)
    if seven is not None:  # a set named as 7-Zip names it is beside this file: that is what to give
        return f"7-Zip volumes are beside it: give their first, {seven}"
    if not later:
        return None
    return (f"it looks like the first of a set of volumes beside it: name them {stem}.7z.001, {stem}.7z.002, ... "
            f"in order and give the first, or join them into one file in order (cat, or copy /b on Windows)")


def volume_set(first: Path) -> list[Path] | None:
    """The volumes of the set whose first volume is `first`, in order; None when `first` is not a volume name.

    Raises:
        ConfigError: `first` is a later volume, or two files are one volume.
        Incomplete: the set has a gap (exit 4, as for missing parts).
    """
    match = _VOLUME.fullmatch(first.name)
    if match is None or not match[1].lower().endswith(".7z"):
        return None
    stem, width = match[1], len(match[2])
    if int(match[2]) != 1:
        if _begins_archive(first):  # a bundle or a part renamed X.7z.002 by someone: an archive of its own
            return None
        raise ConfigError(f"{first.name} is volume {int(match[2])} of a 7-Zip set",
                          hint=f"give the first volume: {volume_name(first, 1)}")
    found_names: dict[int, str] = {}
    with os.scandir(first.parent if str(first.parent) else ".") as entries:
        for entry in entries:
            found = _VOLUME.fullmatch(entry.name)
            if found is None or found[1] != stem or (entry.is_dir() and int(found[2]) != 1):
                continue  # a folder named X.7z.004 is no volume
            number = int(found[2])  # by value: 7-Zip goes on from .999 to .1000
            if number in found_names:
                raise ConfigError(f"{found_names[number]} and {entry.name} are both volume {number} of {stem}",
                                  hint="keep only one of them beside the first volume")
            found_names[number] = entry.name
            if len(found_names) > MAX_VOLUMES:
                raise ConfigError(f"{stem} has more than {MAX_VOLUMES} volumes")
    archives = [number for number, name in found_names.items()
                if number != 1 and _begins_archive(first.with_name(name))]
    if archives:
        if min(archives) == 2:
            return None  # parts or bundles renamed X.7z.001, X.7z.002 (helper-158): each is an archive of its own
        # an archive of its own named X.7z.005 after a set of four (planted, or another archive's name reused):
        # the set ends before it, as the first such volume shows (helper-164: it made the set read as .001 alone)
        found_names = {number: name for number, name in found_names.items() if number < min(archives)}
    numbers = set(found_names)
    last = max(numbers)
    gaps = sorted(set(range(1, last + 1)) - numbers)
    if gaps:
        names = ", ".join(f"{stem}.{n:0{width}d}" for n in gaps[:5]) + (" ..." if len(gaps) > 5 else "")
        raise Incomplete(f"volume {names} of {stem} is missing ({len(numbers)} of {last} volumes found)",
                          hint="put every volume in the same folder as the first one")
    return [first.with_name(found_names[n]) for n in range(1, last + 1)]


def _begins_archive(path: Path) -> bool:
    """Whether `path` begins as a 7z archive does: a later volume of a set holds the middle of one (a volume that
    begins so by chance would need the 6 bytes of the signature exactly at a cut)."""
    try:
        with open_regular(path) as fp:
            return fp.read(len(MAGIC)) == MAGIC
    except (OSError, ConfigError):
        return False


class VolumeReader(io.RawIOBase):
    """The volumes of a set as one read-only, seekable file; one volume is open at a time."""

    def __init__(self, paths: list[Path]) -> None:
        super().__init__()
        self.paths, self.starts, total = paths, list[int](), 0
        for path in paths:
            with open_regular(path) as fp:  # refuses FIFOs and devices before anything is read
                self.starts.append(total)
                total += os.fstat(fp.fileno()).st_size
        self.size, self.pos = total, 0
        self.current: tuple[int, BinaryIO] | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.pos, 2: self.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def _volume(self, index: int) -> BinaryIO:
        if self.current is None or self.current[0] != index:
            self._close_current()
            self.current = (index, open_regular(self.paths[index]))
        return self.current[1]

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.pos >= self.size:
            return 0
        index = bisect.bisect_right(self.starts, self.pos) - 1  # past any empty volume that starts here
        fp = self._volume(index)
        fp.seek(self.pos - self.starts[index])
        end = self.starts[index + 1] if index + 1 < len(self.starts) else self.size
        data = fp.read(min(len(buffer), end - self.pos))
        if not data:
            raise ArchiveError(f"volume {self.paths[index].name} changed while it was read")
        buffer[: len(data)] = data
        self.pos += len(data)
        return len(data)

    def _close_current(self) -> None:
        if self.current is not None:
            self.current[1].close()
            self.current = None

    def close(self) -> None:
        self._close_current()
        super().close()


@contextlib.contextmanager
def open_archive_file(path: Path) -> Iterator[BinaryIO]:
    """Open a bundle for reading: a plain file, or the first volume of a 7-Zip set (the whole set is read).

    Raises:
        ConfigError: a FIFO, device or folder; a later volume given.
        Incomplete: a gap in the set.
        OSError: a file cannot be read.
    """
    volumes = volume_set(path)
    if volumes is None:
        try:
            with open_regular(path) as fp:
                yield fp
        except TruncatedArchive as exc:  # X.001 beside X.002: volumes named by another tool (every command)
            exc.hint = exc.hint or volume_hint(path)
            raise
        return
    reader = VolumeReader(volumes)
    try:
        yield io.BufferedReader(reader, 1 << 16)
    except ArchiveError as exc:
        if "truncated" not in str(exc):
            raise
        raise ArchiveError(str(exc), hint=_truncated_hint(volumes)) from None
    finally:
        reader.close()


def _truncated_hint(volumes: list[Path]) -> str:
    """What to do about a set that ends too soon: 7-Zip makes every volume but the last as long as the first, so a
    shorter one before the last was cut short (or is another set's), and more volumes can only be missing when the
    last one found is as long as the first."""
    following = volume_name(volumes[0], len(volumes) + 1)
    more = f"{len(volumes)} volumes were found: if there are more, put {following} and the rest beside the first one"
    try:
        sizes = [volume.stat().st_size for volume in volumes]
    except OSError:
        return more
    first = sizes[0]
    for volume, size in zip(volumes[:-1], sizes[:-1], strict=True):
        if size != first:
            name = volume.name
            return (f"{name} is {size:,} bytes and the first volume {first:,}: every volume but the last is as long "
                    "as the first, so it was cut short or belongs to another set; copy it again")
    if sizes[-1] < first:
        name = volumes[-1].name
        return f"{name}, the last volume, is shorter than the others and the archive does not end in it: copy it again"
    return more


def volume_name(first: Path, number: int) -> str:
    """The name of volume `number` of the set `first` belongs to."""
    match = _VOLUME.fullmatch(first.name)
    stem, width = (match[1], len(match[2])) if match else (first.name, 3)
    return f"{stem}.{number:0{width}d}"
