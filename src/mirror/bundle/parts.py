"""Parts that fit a channel and verify alone: split a bundle, join parts, extract any set of them.

Example::

    result = split_bundle(Path("almaty.7z"), Path("out"), 48_000_000, keys)
    # out/almaty.part1of3.7z ... each a bundle: the signed files whole, a share of the listed files
    join_parts(result.parts, Path("whole.7z"), keys)          # the same signed bundle again
    got = extract_parts(result.parts[:2], Path("folder"), keys)
    got.missing                                                # the files of the part not given

A part carries SHA256SUMS, its signature, author.pub, bundle.json, the page (format 2), every endorsement, and
a part marker (formats/part.py) that only says "part k of n". Files are packed by size (first fit, largest
first), so the plan depends only on the bundle: the same bundle always gives the same parts. A block of the
bundle that holds only such files, and fits a part, is packed as one and copied byte for byte (as are the blocks
of what every part carries): a part is then as large as planned, and nothing is compressed again. Every part is
verified before any is put in place; nothing is left at the output paths when something fails.
"""

from __future__ import annotations

import contextlib
import glob
import math
import os
import re
import shlex
import shutil
from array import array
from bisect import bisect_left
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path

from mirror.bundle.destination import check_new, new_folders, private_folder, remove_tree, said_under
from mirror.bundle.staging import Staged, signed_lines, stage
from mirror.bundle.verify import Keys, VerifiedBundle, snapshot, verify_bundle
from mirror.errors import ConfigError, ContentError, Incomplete, MirrorError, UntrustedSigner, VerificationError
from mirror.formats import manifest
from mirror.formats.manifest import PAGE_NAME, SUMS_NAME, FileColumns, SumsLines
from mirror.formats.names import check_name_length, local_name, printable
from mirror.formats.part import MAX_PARTS, PartMarker, parse_size, part_member
from mirror.heap import trim
from mirror.record import record, replace
from mirror.safeio import atomic_output, fit_stem, open_regular, rename_noreplace, writing_to
from mirror.sevenzip import Archive, Folder, Limits, read_archive
from mirror.sevenzip.model import LZMA1, LZMA2
from mirror.sevenzip.volumes import volume_set
from mirror.sevenzip.writer import COPY_CHUNK, ArchiveWriter
from mirror.trust.policy import AuthorTrusted, Evidence, Policy, Verdict

SLACK = 1024  # beside the measured shared part: a longer marker, block boundaries; a short estimate is corrected
PER_MEMBER = 96  # a member's entry in the header: its name (UTF-16, compressed) and sizes, CRC, attributes
MAX_TRIES = 6
BLOCK_SHARE = 8  # a block is copied whole into a part when it takes at most an eighth of one
MIN_SOLID = 1 << 16  # a block of texts smaller than this compresses worse alone than its files in a larger block
MAX_RECOMPRESS = 64 << 20  # what every part carries is compressed again (to compare) up to this much input


@record
class SplitResult:
    """The parts written, in order, and their sizes."""

    parts: tuple[Path, ...]
    sizes: tuple[int, ...]


@record
class PartsExtracted:
    """What `extract_parts` wrote."""

    dest: Path
    verified: tuple[VerifiedBundle, ...]
    files: int
    missing: Sequence[str]  # in the signed list's order
    left_out: int = 0  # endorsements of other copies not written: a bundle carries at most 100
    failed: tuple[tuple[Path, str], ...] = ()  # inputs that failed a check, left out: the others carried all
    differing: tuple[tuple[str, Path], ...] = ()  # see join_parts
    verdict: Verdict | None = None  # what the inputs earn together (combined_verdict): whom to name as signer

    @property
    def shown(self) -> VerifiedBundle:
        """The first input, with the verdict of all of them together: the same words whatever their order (the
        first part alone may carry no endorsement that the others do)."""
        first = self.verified[0]
        return first if self.verdict is None else replace(first, verdict=self.verdict)


@contextlib.contextmanager
def _scratch(beside: Path) -> Iterator[Path]:
    """A private folder inside `beside` (made, with the folders above it, if needed; what was made is removed
    again when it stays empty)."""
    with new_folders(beside), writing_to(beside), private_folder(beside, ".mirror-parts.") as folder:
        try:
            yield folder
        finally:
            remove_tree(folder)


def _cost(name: str, size: int) -> int:
    """An upper bound of what a member adds to a part: LZMA2 never grows data by more than about 0.1%."""
    return size + size // 1000 + PER_MEMBER + 2 * len(name.encode())


def plan_parts(sizes: dict[str, int], capacity: int) -> list[list[str]]:
    """Put the files into as few parts as first fit, largest first, allows; each part's files in name order.

    Raises:
        ConfigError: a file does not fit even alone (its name, and the smallest size that works, are named).
    """
    names = sorted(sizes)
    costs = array("Q", (_cost(n, sizes[n]) for n in names))
    plan = _first_fit(array("Q", (sizes[n] for n in names)), costs, capacity, names.__getitem__)
    return [[names[i] for i in part] for part in plan]


def _first_fit(sizes: array[int], costs: array[int], capacity: int, name: Callable[[int], str],
               limit: int | None = None) -> list[array[int]]:
    """plan_parts on files 0..n-1 in name order, as positions: a million files are never a list of names. Past
    `limit` parts it stops (the plan is then `limit` + 1 parts long, and incomplete): a file that fits only a
    part of its own, 50,000 times over, took minutes before the count was refused. The first part with room is
    found in a tree of the parts' rooms, in time that grows with the logarithm of the part count."""
    if any(cost > capacity for cost in costs):
        i = max(range(len(costs)), key=costs.__getitem__)
        raise _TooLarge(name(i), sizes[i], costs[i])
    parts: list[array[int]] = []
    rooms = _Rooms(min(len(sizes), len(sizes) if limit is None else limit + 1))
    for i in sorted(range(len(sizes)), key=sizes.__getitem__, reverse=True):  # stable: equal sizes by name
        cost = costs[i]
        index = rooms.first(cost)
        if index < 0:
            if limit is not None and len(parts) > limit:
                break
            index = len(parts)
            parts.append(array("I"))
            rooms.set(index, capacity)
        parts[index].append(i)
        rooms.set(index, rooms.room(index) - cost)
    return [array("I", sorted(p)) for p in parts]


class _Rooms:
    """The room left in each part, in a tree of maxima: the leftmost part with room for a file in log time."""

    def __init__(self, count: int) -> None:
        self.leaves = 1
        while self.leaves < max(1, count):
            self.leaves *= 2
        self.tree = array("q", [-1]) * (2 * self.leaves)  # -1: no part there yet

    def room(self, index: int) -> int:
        return self.tree[self.leaves + index]

    def set(self, index: int, room: int) -> None:
        at = self.leaves + index
        self.tree[at] = room
        while at > 1:
            at //= 2
            self.tree[at] = max(self.tree[2 * at], self.tree[2 * at + 1])

    def first(self, need: int) -> int:
        """The leftmost part with at least `need` bytes of room, or -1."""
        if self.tree[1] < need:
            return -1
        at = 1
        while at < self.leaves:
            at = 2 * at if self.tree[2 * at] >= need else 2 * at + 1
        return at - self.leaves


@record
class _Blocks:
    """The bundle's blocks that hold only files parts share out. Such a block goes into a part whole, its
    packed bytes copied: nothing is decompressed or compressed again, and a part is exactly as large as
    planned. Block k's files are the positions `files[starts[k]:starts[k + 1]]` of the shared-out lines.
    `common`: the blocks that hold exactly what every part carries, when they can be copied too (else None)."""

    path: Path
    archive: Archive
    folders: array[int]  # the block's index in `archive`
    costs: array[int]  # its packed bytes, and its members' entries in a header
    starts: array[int]
    files: array[int]
    common: array[int] | None


def _compressed(folder: Folder) -> bool:
    """Whether a block is LZMA2 or LZMA alone: not stored, not filtered."""
    return len(folder.chain) == 1 and folder.chain[0].method in (LZMA2, LZMA1)


def _photos(verified: VerifiedBundle) -> Callable[[str], bool]:
    """Whether bundle.json says a listed file is a photo."""
    files = verified.meta.files
    return lambda name: name in files and files[name].type.startswith("image/")


def _blocks(path: Path, lines: SumsLines, common: Collection[str], photo: Callable[[str], bool]) -> _Blocks | None:
    """The blocks of `path` that parts may copy whole; None for a set of 7-Zip volumes (staged instead).
    A block is left out when any member is not a listed file parts share out (the signed files, the page, an
    endorsement), has no CRC, or is not a plain file, and when copying it would cost more than packing its files
    again: a block of texts that is stored or filtered (a repack with -mx0), or of less than MIN_SOLID bytes (one
    short account a block). Its files are then packed one by one. The blocks of `common` (the files every part
    carries) are copied when they hold nothing else and every one of them, each compressed."""
    if volume_set(path) is not None:
        return None
    with open_regular(path) as fp:  # verified just before; every part is verified again
        archive = read_archive(fp, Limits())
    table, order, wanted = archive.members, lines.lines, set(common)
    # a member's entry in a part's header: twice what one takes in the bundle's header, and 16 bytes (names
    # compress in a header; a short estimate only makes a part too large, which is planned again with less)
    header = path.stat().st_size - 32 - sum(archive.folders.pack_sizes)
    entry = 2 * max(0, header) // max(1, len(table)) + 16
    folders, costs, starts, files, together = array("I"), array("Q"), array("Q", [0]), array("I"), array("I")
    found: set[str] = set()  # in blocks of nothing else
    here: list[str] = []
    current, cost, good, only_common, pictures = -1, 0, False, False, False

    def close() -> None:
        if current < 0:
            return
        block = archive.folders[current]
        if good and (pictures or (_compressed(block) and block.unpack_size >= MIN_SOLID)):
            folders.append(current)
            costs.append(cost + block.pack_size)
            starts.append(len(files))
        else:
            del files[starts[-1]:]
        if only_common and (_compressed(block) or block.unpack_size < MIN_SOLID):  # an endorsement: stored
            together.append(current)
            found.update(here)

    for i in range(len(table)):
        folder = table.folder(i)
        if folder is None or not table.has_stream(i):
            continue
        if folder != current:
            close()
            current, cost, good, only_common, pictures = folder, 0, True, True, True
            here.clear()
        member = table[i]
        pictures = pictures and photo(member.name)
        plain = member.crc is not None and not member.is_dir
        if plain and member.name in wanted:
            here.append(member.name)
        else:
            only_common = False
        j = lines.sums.find(member.name)
        position = bisect_left(order, j) if j is not None else len(order)
        if position == len(order) or order[position] != j or not plain:
            good = False
        elif good:
            files.append(position)
            cost += min(entry, _cost(member.name, 0))
    close()
    return _Blocks(path, archive, folders, costs, starts, files, together if found == wanted else None)


@record
class _Units:
    """What first fit packs: whole blocks and single files. Unit u is block -ref[u] - 1 of `blocks` when
    ref[u] < 0, else the file at position ref[u] of the shared-out lines."""

    sizes: array[int]
    costs: array[int]
    ref: array[int]
    blocks: _Blocks | None

    def parts(self, units: Sequence[int]) -> tuple[list[int], list[int]]:
        """The blocks (indexes in the archive) and the file positions of `units`, each in order."""
        copied, single = [], []
        for u in units:
            ref = self.ref[u]
            if ref >= 0:
                single.append(ref)
            elif self.blocks is not None:
                copied.append(self.blocks.folders[-ref - 1])
        return sorted(copied), sorted(single)

    def namer(self, lines: SumsLines) -> Callable[[int], str]:
        """The name of a single file's unit (first fit names a file too large for a part)."""
        return lambda u: lines[self.ref[u]]


def _units(blocks: _Blocks | None, room: int, capacity: int, sizes: array[int], costs: array[int]) -> _Units:
    """Blocks small beside a part as units, and every other file alone (`sizes` and `costs` by position).

    `room`: the bytes a part has beside what every part repeats; `capacity`: what the plan packs into it, in
    the files' costs (their uncompressed size at first, more when they compressed well). A block is a unit only
    if it takes at most 1/BLOCK_SHARE of `room` (whole blocks leave room unused at the end of each part, less
    than one block: beside larger blocks that would make more parts than packing their files one by one), and
    costs its share of `capacity`: its packed bytes, scaled as `capacity` was, so that giving compressed files
    more room gives blocks none they do not fill."""
    unit_sizes, unit_costs, ref = array("Q"), array("Q"), array("q")
    covered = bytearray(len(sizes))
    if blocks is not None:
        scale = max(1.0, capacity / max(1, room))
        for k, packed in enumerate(blocks.costs):
            if packed <= room // BLOCK_SHARE:
                cost = math.ceil(packed * scale)
                unit_sizes.append(cost)
                unit_costs.append(cost)
                ref.append(-k - 1)
                for position in blocks.files[blocks.starts[k]:blocks.starts[k + 1]]:
                    covered[position] = 1
    for position, size in enumerate(sizes):
        if not covered[position]:
            unit_sizes.append(size)
            unit_costs.append(costs[position])
            ref.append(position)
    return _Units(unit_sizes, unit_costs, ref, blocks)


class _TooLarge(ConfigError):
    """One file does not fit in a part even alone; `cost` is what it needs beside the shared files."""

    def __init__(self, name: str, size: int, cost: int) -> None:
        super().__init__(f"{name} is {size:,} bytes: it does not fit in one part", hint="")
        self.name, self.cost = name, cost


def _megabytes(size: int) -> str:
    """A size rounded up, as --max-size takes it: megabytes from 10 MB, else kilobytes."""
    return f"{math.ceil(size / 10**6)}M" if size >= 10**7 else f"{math.ceil(size / 1000)}k"


def _suggest(works: int, whole: int) -> str:
    """--max-size for at least `works` bytes, rounded up unless that reaches `whole` (the bundle would fit whole)."""
    rounded = _megabytes(works)
    return rounded if parse_size(rounded) < whole else str(works)


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".001", ".7z"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name or "bundle"


def _chunks(path: Path) -> Iterator[bytes]:
    """A staged file (in this process's private scratch folder) in large chunks."""
    with path.open("rb") as fp:
        while chunk := fp.read(COPY_CHUNK):
            yield chunk


def _common(staged: Staged) -> tuple[list[str], list[str], list[str]]:
    """What every part carries: the signed files, the endorsements, and the page (when the bundle lists one)."""
    layout = staged.first.layout
    control = [layout.sums, layout.sig, layout.author_key, layout.meta]
    endorsements = sorted(n for n in staged.unlisted if n not in control)  # unlisted: never a listed file
    return control, endorsements, [PAGE_NAME] if PAGE_NAME in staged.first.sums.entries else []


def _write(out: Path, staged: Staged, names: Sequence[str], marker: PartMarker | None,
           shared: Path | None = None, copied: tuple[_Blocks | None, Sequence[int]] = (None, ())) -> None:
    """One bundle (or part) from staged files: the signed files and endorsements, the page, the part marker,
    then texts, then photos. `shared`: an archive `_write` made of the first two (no names, no marker), whose
    blocks are copied byte for byte instead of compressed again for every part. `copied`: blocks of the bundle
    copied byte for byte after the marker; `names` are then the files outside them."""
    first, folder = staged.first, staged.folder
    layout = first.layout
    control, endorsements, page = _common(staged)
    files = first.meta.files
    texts = (n for n in names if not files[n].type.startswith("image/"))
    photos = (n for n in names if files[n].type.startswith("image/"))
    with ArchiveWriter.create(out) as writer:
        if shared is None:
            writer.add_block([(n, (folder / n).read_bytes()) for n in control + endorsements])
            if page:
                writer.add_solid([(PAGE_NAME, _chunks(folder / PAGE_NAME))], piece=manifest.PAGE_PIECE)
        else:
            with shared.open("rb") as src:  # made by this process, in its private scratch folder
                archive = read_archive(src, Limits())
                writer.copy_folders(src, archive, range(len(archive.folders)))
                writer.copy_empty(archive)  # an empty page (valid, if not what create writes) has no block
        if marker is not None:
            writer.add_block([(part_member(layout), marker.to_bytes())], compress=False)
        blocks, indexes = copied
        if blocks is not None and indexes:
            with open_regular(blocks.path) as src:  # every part is verified once it is written
                writer.copy_folders(src, blocks.archive, indexes)
        writer.add_texts((n, (folder / n).read_bytes()) for n in texts)
        writer.add_stored((n, _chunks(folder / n)) for n in photos)


def _copy(out: Path, blocks: _Blocks, indexes: Sequence[int]) -> None:
    """An archive of the bundle's blocks `indexes`, copied byte for byte."""
    with ArchiveWriter.create(out) as writer, open_regular(blocks.path) as src:
        writer.copy_folders(src, blocks.archive, indexes)


def _shared(out: Path, staged: Staged, blocks: _Blocks | None) -> None:
    """What every part carries, as small as it comes: the bundle's own blocks of it when they can be copied and
    are too large to compress again in reasonable time (MAX_RECOMPRESS: a million accounts' lists and page);
    otherwise compressed again, and the copy kept instead only when it is no larger (a repack by 7-Zip at a
    faster level compresses the page worse than create)."""
    if blocks is None or blocks.common is None:
        _write(out, staged, [], None)
        return
    _copy(out, blocks, blocks.common)
    if sum(blocks.archive.folders[k].unpack_size for k in blocks.common) > MAX_RECOMPRESS:
        return
    made = out.with_name("made-" + out.name)
    _write(made, staged, [], None)
    if made.stat().st_size < out.stat().st_size:
        os.replace(made, out)
    else:
        made.unlink()


def _sizes_of(verified: VerifiedBundle, lines: SumsLines) -> array[int]:
    """bundle.json's size of each file of `lines`."""
    files = verified.meta.files
    if isinstance(files, FileColumns):
        return array("Q", (files.sizes[j] for j in lines.lines))
    return array("Q", (files[name].size for name in lines))


def _content_lines(verified: VerifiedBundle) -> SumsLines:
    """The listed files parts share out (all but bundle.json, author.pub and the page), in order, as a view of the
    signed list: a million names are never a list."""
    lines, files, shared = signed_lines(verified), verified.meta.files, (PAGE_NAME, verified.layout.meta)
    if isinstance(files, FileColumns):
        sizes = files.sizes
        return SumsLines(lines, (j for j in range(len(lines)) if sizes[j] >= 0 and lines.path(j) not in shared))
    return SumsLines(lines, (j for j, p in enumerate(lines) if p in files and p not in shared))


def _stage_whole(path: Path, keys: Keys, staging: Path) -> Staged:
    """Stage a whole bundle; a part is refused as one, with the way to a whole bundle.

    Raises:
        ConfigError: `path` is a part.
        VerificationError: `path` must not be trusted.
    """
    try:
        return stage([path], keys, staging, parts=False)
    except ContentError:
        refusal = part_refusal(path, "join all its parts first (mirror join PART... -o WHOLE.7z), then split that")
        if refusal is None:
            raise
        raise refusal from None


def part_refusal(path: Path, hint: str) -> ConfigError | None:
    """The error for a command that needs a whole bundle and was given a part; None when `path` is no part.

    Raises:
        VerificationError: `path` is not an intact part either.
    """
    part = part_of_split(path)
    if part is None:
        return None
    return ConfigError(f"{path} is part {part.number} of {part.count}, not a whole bundle", hint=hint)


def part_of_split(path: Path) -> PartMarker | None:
    """Which part of a split bundle `path` is; None when it is no part.

    Raises:
        VerificationError: `path` is not an intact part either.
    """
    verified = verify_bundle(path, None, parts=True, volumes=True)  # only to say what it is
    if verified.part is None or not verified.missing:  # the marker is not signed: what counts is whether files
        return None  # are missing (one added to a whole bundle had endorse refuse it, while verify --whole passed)
    return verified.part


_PART_NAME = re.compile(r"(.+)\.part[0-9]+of[0-9]+\.7z")  # what split names a part: NAME.part2of3.7z


def _shell(path: Path) -> str:
    """`path` as a shell and click take it in a command to copy: quoted, and never read as an option ("-b.7z")."""
    text = str(path)
    return shlex.quote("./" + text if text.startswith("-") else text)


def open_part_refusal(path: Path) -> ConfigError | None:
    """`part_refusal` for `mirror open`, whose hint names the parts as split named them."""
    named = _PART_NAME.fullmatch(path.name)
    stem = _shell(path.with_name(named[1])) if named else "NAME"
    return part_refusal(path, hint=f"open the whole bundle: mirror join {stem}.part*.7z -o {stem}.7z, then "
                                   f"mirror open {stem}.7z; or mirror extract {stem}.part*.7z FOLDER and open "
                                   "FOLDER/index.html")


def whole_refusal(path: Path) -> ConfigError | None:
    """The error for a command that passes on a whole bundle and was given a part or the first 7-Zip volume;
    None when `path` is neither, so the caller's own error stands.

    Raises:
        ConfigError: `path` is a later volume of a 7-Zip set.
        Incomplete: the set has a gap.
    """
    volumes = volume_set(path)
    if volumes is not None:  # join reads the set from its first volume; the paths as a shell takes them
        first, joined = _shell(path), _shell(path.with_name(path.name[: -len(path.suffix)]))
        return ConfigError(f"{path} is the first of {len(volumes)} 7-Zip volumes, not a whole bundle",
                           hint=f"join the volumes first: mirror join {first} -o {joined}")
    try:
        return part_refusal(path, "join all its parts first: mirror join PART... -o WHOLE.7z")
    except VerificationError:
        return None


def _cannot_split(path: Path, st_size: int, fixed: int, exc: _TooLarge) -> ConfigError:
    """No part could be smaller than the bundle: every part carries the signed files, and exc's file."""
    return ConfigError(f"{path} is {st_size:,} bytes and cannot be split smaller: every part carries "
                       f"the signed files ({fixed:,} bytes), and {exc.name} would need a part of "
                       f"{fixed + exc.cost:,}", hint="send it whole; a channel that takes "
                       f"{_megabytes(st_size)} or more takes it")


def split_bundle(path: Path, out_dir: Path, max_size: int, keys: Keys) -> SplitResult:
    """Write parts of `path`, each at most `max_size` bytes and each a bundle that verifies alone.

    What every part repeats (the signed files, the page, the endorsements, the marker) is measured by writing it
    once; the files are then packed at their uncompressed size plus LZMA2's worst case. Texts compress, so when
    the largest part comes out well under the size, the plan is made again with more room (a bounded number of
    times, the fewest parts kept); a part over the size makes it again with less.

    Raises:
        VerificationError: `path` is not an intact, whole bundle.
        ConfigError: a file is larger than a part may be, the bundle fits already, it would take more than
            MAX_PARTS parts, or a part exists.
    """
    check_name_length(out_dir)
    st_size = sum(p.stat().st_size for p in (volume_set(path) or [path]))  # a 7-Zip set: all its volumes
    if out_dir.is_dir():  # said before the work, not after it: parts of an earlier split are there
        target = _earlier_part(out_dir, _stem(path))
        if target is not None:
            raise ConfigError(f"{target} already exists", hint="choose another folder (-o DIR)")
    with _scratch(out_dir) as scratch:
        staging = scratch / "files"
        staging.mkdir()
        staged = _stage_whole(path, keys, staging)
        verified = staged.first
        if st_size <= max_size:
            raise ConfigError(f"{path} is {st_size:,} bytes, no more than {max_size:,}: it fits whole",
                              hint="send it as it is")
        lines = _content_lines(verified)  # the files parts share out, in name order, and their sizes and costs
        content_sizes = _sizes_of(verified, lines)
        costs = array("Q", (_cost(name, size) for name, size in zip(lines, content_sizes, strict=True)))
        control, endorsements, page = _common(staged)
        blocks = _blocks(path, lines, control + endorsements + page, _photos(verified))
        shared = scratch / "shared.7z"  # what every part carries: compressed once, copied into each
        _shared(shared, staged, blocks)
        fixed = shared.stat().st_size + len(PartMarker(MAX_PARTS, MAX_PARTS).to_bytes()) + SLACK  # the widest
        capacity = max_size - fixed
        best: tuple[list[array[int]], list[Path], list[int]] | None = None
        step = 0
        for attempt in range(MAX_TRIES):
            units = _units(blocks, max_size - fixed, capacity, content_sizes, costs)
            # a size at which first fit needs at most MAX_PARTS parts
            works = fixed + max(max(units.costs), 2 * sum(units.costs) // (MAX_PARTS - 1) + 1)
            try:
                plan = _first_fit(units.sizes, units.costs, capacity, units.namer(lines), MAX_PARTS)
            except _TooLarge as exc:
                if best is not None:
                    break
                if fixed + exc.cost >= st_size:  # no part could be smaller than the bundle itself
                    raise _cannot_split(path, st_size, fixed, exc) from None
                smallest = _suggest(max(fixed + exc.cost, works), st_size)  # the largest file, and the part count
                raise ConfigError(str(exc), hint=f"every part also carries the signed files; the smallest "
                                  f"--max-size that works is {smallest}") from None
            if len(plan) > MAX_PARTS:
                if best is not None:
                    break
                if works >= st_size:
                    raise ConfigError(f"{path} is {st_size:,} bytes and cannot be split smaller in at most "
                                      f"{MAX_PARTS} parts", hint="send it whole; a channel that takes "
                                      f"{_megabytes(st_size)} or more takes it")
                raise ConfigError(f"{path} would need more than {MAX_PARTS} parts of at most {max_size:,} bytes",
                                  hint=f"use a larger size: --max-size {_suggest(works, st_size)} works")
            if len(plan) < 2:  # all in one part: a part is one of at least two, so halve it
                if blocks is not None and len(plan[0]) < 2 and units.ref[plan[0][0]] < 0:
                    blocks = None  # one block holds it all: its files one by one
                    continue
                files = plan[0]
                if len(files) < 2:
                    if best is not None:
                        break
                    one = units.ref[files[0]]
                    raise _cannot_split(path, st_size, fixed, _TooLarge(lines[one], content_sizes[one], costs[one]))
                plan = [files[: len(files) // 2], files[len(files) // 2 :]]
            if best is not None and len(plan) >= len(best[0]):
                capacity += step  # no fewer parts: more room still, without writing the same count again
                continue
            folder = scratch / f"try{attempt}"
            folder.mkdir()
            built = [folder / f"part{i}.7z" for i in range(1, len(plan) + 1)]
            sizes = []
            for index, (part, tmp) in enumerate(zip(plan, built, strict=True), start=1):
                copied, single = units.parts(part)
                _write(tmp, staged, SumsLines(lines.sums, (lines.lines[i] for i in single)),
                       PartMarker(index, len(plan)), shared, (blocks, copied))
                sizes.append(tmp.stat().st_size)
            largest = max(range(len(plan)), key=lambda k: sizes[k])
            if sizes[largest] > max_size:
                shutil.rmtree(folder)  # scratch space stays at most two sets of parts
                if best is not None:
                    break
                capacity -= sizes[largest] - max_size + 4096  # the estimate was short: plan again with less
                continue
            if best is not None:
                shutil.rmtree(best[1][0].parent)
            best = (plan, built, sizes)
            room = max_size - sizes[largest]
            if len(plan) <= 2 or room < (max_size - fixed) // 10:  # two is the fewest; or close enough
                break
            planned = sum(units.costs[u] for u in plan[largest])
            ratio = max(1.0, planned / max(1, sizes[largest] - fixed + SLACK))  # how much its files compressed
            step = max(1, int(room * ratio * 0.9))
            capacity += step  # well under the size: more room, in uncompressed bytes
        if best is None:
            raise MirrorError(f"could not make parts of at most {max_size:,} bytes")
        plan, built, sizes = best
        outputs = [out_dir / part_name(_stem(path), i, len(plan)) for i in range(1, len(plan) + 1)]
        for target in outputs:
            if target.exists() or target.is_symlink():
                raise ConfigError(f"{target} already exists", hint="choose another folder (-o DIR)")
        public, signed = verified.public, verified.control.sha256(SUMS_NAME)
        # the columns of every file (a million of them: over 150 MB) are not held beside each part's verification
        del staged, verified, lines, content_sizes, costs, blocks, units, best, plan
        trim()
        for tmp in built:  # each verifies alone, and carries the very list verified (blocks were read again)
            carried = verify_bundle(tmp, None, expect_key=public, parts=True).control.sha256(SUMS_NAME)
            if carried != signed:
                raise ContentError(f"{path} changed while it was being split", hint="copy it to local storage first")
        placed: list[Path] = []
        try:
            for tmp, target in zip(built, outputs, strict=True):
                rename_noreplace(tmp, target)
                placed.append(target)
        except BaseException:
            for target in placed:  # all the parts or none: a half set would look like a set that lost some
                target.unlink(missing_ok=True)
            raise
    return SplitResult(tuple(outputs), tuple(sizes))


def part_name(stem: str, number: int, count: int) -> str:
    """`NAME.part1of3.7z`; from 10 parts on, numbers are zero-padded (`part01of12`) so names sort in order. A NAME
    too long for a file name beside the suffix is shortened, alike in every part of the set."""
    width = len(str(count))
    stem = fit_stem(stem, f"{count}{count}.partof.7z")  # as long as the set's widest suffix, .partNofN.7z
    return f"{stem}.part{number:0{width}d}of{count}.7z"


_PART_NUMBERS = re.compile(r".+\.part([0-9]+)of([0-9]+)\.7z")


def _earlier_part(out_dir: Path, stem: str) -> Path | None:
    """A part of any count that a split of a bundle named `stem` writes, already in `out_dir`."""
    shortest = fit_stem(stem, part_name("", MAX_PARTS, MAX_PARTS))  # what every count's names start with
    for found in sorted(out_dir.glob(glob.escape(shortest) + "*.part*of*.7z")):
        numbers = _PART_NUMBERS.fullmatch(found.name)
        if numbers and 0 < int(numbers[2]) <= MAX_PARTS and part_name(stem, int(numbers[1]), int(numbers[2])) \
                == found.name:
            return found
    return None


def _volumes_of(path: Path) -> list[Path] | None:
    """The volumes of the 7-Zip set whose first volume is `path`; None for anything else (or a set with a gap,
    which the check names)."""
    try:
        return volume_set(path)
    except (ConfigError, Incomplete, OSError):
        return None


def _parts_hint(verified: Sequence[VerifiedBundle]) -> str:
    """Which parts to ask for, by the (unsigned) part markers of those given: "part 2 of 3 was not given"."""
    markers = [v.part for v in verified if v.part is not None]
    counts = {m.count for m in markers}
    if len(counts) != 1:
        return "give every part of the bundle"
    count = counts.pop()
    absent = sorted(set(range(1, count + 1)) - {m.number for m in markers})
    if not absent:
        return "give every part of the bundle"
    shown = ", ".join(map(str, absent[:10])) + (" ..." if len(absent) > 10 else "")
    return f"give every part of the bundle: of its {count} parts, these were not given: {shown}"


def join_parts(paths: list[Path], out: Path, keys: Keys, force: bool = False,
               idle: list[Path] | None = None, left_out: list[str] | None = None,
               failed: list[tuple[Path, str]] | None = None,
               differing: list[tuple[str, Path]] | None = None) -> VerifiedBundle:
    """Rebuild one bundle from parts of it; it carries the author's signature unchanged and verifies.

    `idle`, if given, receives the inputs that added nothing to those before them (a copy of a part given too);
    `left_out`, the endorsements of other copies not carried (a bundle carries at most 100), in name order;
    `failed`, the inputs that failed a check and were left out, the others carrying every file (with why);
    `differing`, the endorsements a later input carried other bytes of, by a key the keyring does not hold (the
    first given is kept; which one checks out, only a holder of that key can tell).

    Raises:
        VerificationError: a part failed a check.
        ConfigError: parts of different bundles, or `out` exists.
        Incomplete: files missing (named): exit 4, as extract gives.
    """
    check_name_length(out)
    if out.exists() and not force:
        raise ConfigError(f"{out} already exists", hint="pass --force to replace it")
    inputs = [volume for path in paths for volume in (_volumes_of(path) or [path])]  # X.7z.001: every volume
    for path in inputs:
        if out.exists() and os.path.samefile(out, path):
            raise ConfigError(f"{out} is one of the parts being joined; join never replaces a part",
                              hint="name a new file with -o")
    _given_once(paths)
    with _scratch(out.parent) as scratch:
        staged = stage(paths, keys, scratch)
        missing = staged.missing
        if missing:
            raise Incomplete(f"the parts given lack {len(missing)} file(s): {', '.join(missing[:5])}"
                              + (" ..." if len(missing) > 5 else ""), hint=_parts_hint(staged.verified))
        with atomic_output(out, force=force) as tmp:
            _write(tmp, staged, _content_lines(staged.first), None)
            result = verify_bundle(tmp, keys)  # the same signed files: the same signer
    if idle is not None:
        idle += staged.idle
    if left_out is not None:
        left_out += sorted(staged.left_out)
    if failed is not None:
        failed += staged.failed
    if differing is not None:
        differing += staged.differing
    return result


def _given_once(paths: list[Path]) -> None:
    """Refuse a part given twice, by name or by another link to it (a shell's glob and a name typed again).

    Raises:
        ConfigError: naming both.
    """
    seen: dict[tuple[int, int], Path] = {}
    for path in paths:
        with contextlib.suppress(OSError):  # one that cannot be read is said so by the check
            info = path.stat()
            key = (info.st_dev, info.st_ino)
            if key in seen:
                also = "" if seen[key] == path else f" (also as {printable(str(seen[key]))})"
                raise ConfigError(f"{printable(str(path))} is given twice{also}", hint="give each part once")
            seen[key] = path


def combined_verdict(verified: list[VerifiedBundle], keys: Keys, policy: Policy | None) -> Verdict:
    """The policy's verdict on parts of one bundle taken together: the endorsements each part carries count
    once each, as they would in the bundle `join` makes of them (copies endorsed by different people may
    have been split). A part trusted alone makes the whole trusted."""
    if any(v.trusted for v in verified):
        return next(v.verdict for v in verified if v.trusted)
    evidence = Evidence(verified[0].public, tuple(e.evidence for v in verified for e in v.endorsements
                                                  if e.evidence is not None))
    return (policy or AuthorTrusted()).judge(evidence, snapshot(keys))


def extract_parts(paths: list[Path], dest: Path | None, keys: Keys, allow_untrusted: bool = False,
                  parent: Path = Path(), policy: Policy | None = None) -> PartsExtracted:
    """Verify each bundle or part, then write what they carry into the new folder `dest`.

    Raises:
        ConfigError: `dest` exists, a part is given twice, or the parts come from different bundles.
        VerificationError: a part failed a check; nothing is written.
        UntrustedSigner: intact but unknown signer, unless `allow_untrusted`.
    """
    if dest is not None:
        check_new(dest)
    _given_once(paths)
    target_parent = dest.parent if dest is not None else parent
    with _scratch(target_parent) as scratch, said_under(scratch / "files", lambda: dest):
        staging = scratch / "files"
        staging.mkdir()
        staged = stage(paths, keys, staging, policy=policy, untrusted_ok=allow_untrusted)
        first = staged.first
        verdict = combined_verdict(staged.verified, keys, policy)
        if not allow_untrusted and not verdict.trusted:
            raise UntrustedSigner(first.key_id, first.fingerprint)
        if dest is None:
            dest = parent / local_name(first.meta.title, first.meta.bundle_id, first.meta.version)
            if first.part is not None and (dest.is_dir() and not dest.is_symlink()):
                # a courier's second try with a later part: the first run named this folder, not the user
                raise ConfigError(f"{dest} already exists: an earlier extract of this bundle made it",
                                  hint="extract all the parts you have, the earlier ones too, together into a new "
                                       "folder: mirror extract PART... FOLDER (extract never adds to a folder)")
            check_new(dest)
        os.chmod(staging, 0o755)  # noqa: S103 - a folder of readable files, like plain 7-Zip makes
        rename_noreplace(staging, dest)
    return PartsExtracted(dest, tuple(staged.verified), staged.files, staged.missing, len(staged.left_out),
                          tuple(staged.failed), tuple(staged.differing), verdict)
