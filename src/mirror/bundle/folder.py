"""verify_folder(): check a folder a bundle was extracted into, with the verdicts of verify_bundle.

Example::

    result = verify_folder(Path("almaty-january-2022"), Keyring(Path("keys")))
    result.trusted, result.signer_name

The same steps as docs/format.md on files instead of members: the signed files read with their caps, the
signature and lists, every listed file's hash, files missing and files not listed. Symbolic links are never
followed, not even to check where they point: a link, a device or a FIFO inside the folder is a problem named
like an unlisted file, and every file is opened one folder at a time with O_NOFOLLOW beneath the folder, so
nothing outside it is ever read. Each file is read at most to its signed size plus one byte.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
import shlex
import stat
from collections.abc import Container, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from mirror.bundle.control import Spool
from mirror.bundle.endorsements import check_endorsements
from mirror.bundle.verify import (
    CONTROL_CAPS,
    MAX_PROBLEMS,
    Keys,
    VerifiedBundle,
    check_content,
    check_signed,
    check_sums_signature,
    signed_name,
    snapshot,
)
from mirror.errors import ArchiveError, ConfigError, ContentError, MirrorError, NotABundle
from mirror.formats.endorsement import MAX_ENDORSEMENT_BYTES, MAX_ENDORSEMENTS, endorsement_key_id, is_endorsement
from mirror.formats.manifest import AUTHOR_KEY_NAME, MAX_MEMBERS, META_NAME, SIG_NAME, SUMS_NAME, V2, Layout, layout_of
from mirror.formats.minisign import Prehashed
from mirror.formats.names import MAX_NAME_BYTES, printable
from mirror.formats.part import MAX_PART_BYTES, PartMarker, part_member
from mirror.safeio import read_at_most
from mirror.trust.keyset import TrustedKeys
from mirror.trust.policy import AuthorTrusted, Evidence, Policy

CHUNK = 1 << 20
MAX_FOLDERS = 10_000


# Folders are opened from the root down, so the steps grow with depth times count: a bundle's own folders (a few
# levels, at most MAX_FOLDERS of them) take far fewer; 500 levels with 9,400 folders below took 22 s.
MAX_WALK_STEPS = 1_000_000
_SPOOLED = frozenset({SUMS_NAME, META_NAME})  # the two signed lists, up to 256 and 512 MiB: never held whole
# SHA256SUMS's signature checked, and bundle.json hashed as SHA256SUMS lists it, each in place before it is spooled:
# two sparse files of no space on a stick were copied whole (750 MiB) into the temporary folder before the signature
# refused them
_ORDER = (SIG_NAME, AUTHOR_KEY_NAME, SUMS_NAME, META_NAME)


class Unreadable(MirrorError):
    """A file or folder this computer cannot read (no permission, an I/O error): not evidence against the folder,
    but the folder is not checked in full (exit 1)."""

    def __init__(self, name: str, why: str, message: str) -> None:
        super().__init__(message)
        self.name, self.why = name, why


@dataclass(slots=True)
class _Found:
    """What the walk finds, never following links: regular files (relative POSIX name -> size), what else is
    there (links, devices), the folders too deep to look into, the folders walked (names without the slash),
    and what could not be read (name, why)."""

    files: dict[str, int] = field(default_factory=dict)
    odd: list[str] = field(default_factory=list)
    deep: list[str] = field(default_factory=list)
    walked: set[str] = field(default_factory=set)
    unreadable: list[tuple[str, str]] = field(default_factory=list)


def _walk(root: Path) -> _Found:
    """Everything under `root`, as `_Found` says; odd, deep and unreadable sorted.

    A folder waiting its turn is only a name: it is opened when its turn comes, from the root down with O_NOFOLLOW
    at every step, so one descriptor is open at a time however many folders wait, and the caps hold as it goes.
    A folder too deep to hold a file a bundle can name (MAX_NAME_BYTES) is not walked but counted as something
    else: opening each from the root made time grow with the square of the depth.

    Raises:
        ArchiveError: more files or folders than a bundle may hold.
        ContentError: a folder was swapped for a link or something else while it waited.
        Unreadable: `root` itself cannot be read (a folder below it that cannot be read is noted, and the walk
            goes on).
    """
    found = _Found()
    files, odd, deep, walked = found.files, found.odd, found.deep, found.walked
    stack, folders, steps = [""], 0, 0
    while stack:
        prefix = stack.pop()
        folders += 1
        steps += prefix.count("/") + 1  # each folder is opened from the root down, one step a level
        if steps > MAX_WALK_STEPS:
            raise ArchiveError(f"{root} holds folders too many and too deep to check (more than {MAX_WALK_STEPS} "
                               "steps from the top to open them)")
        try:
            fd = _open_folder(root, prefix)
        except Unreadable as exc:
            if not prefix:
                raise
            found.unreadable.append((exc.name, exc.why))
            continue
        try:
            with _named(root, prefix), os.scandir(fd) as entries:
                for entry in entries:
                    if len(files) + len(odd) + len(deep) + folders + len(stack) > MAX_MEMBERS + MAX_FOLDERS:
                        raise ArchiveError(f"{root} holds more than {MAX_MEMBERS} files")
                    info = entry.stat(follow_symlinks=False)
                    if stat.S_ISDIR(info.st_mode):
                        if len(f"{prefix}{entry.name}/x".encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
                            deep.append(prefix + entry.name)  # too deep to hold a file of a bundle: not walked
                            continue
                        if folders + len(stack) >= MAX_FOLDERS:
                            raise ArchiveError(f"{root} holds more than {MAX_FOLDERS} folders")
                        stack.append(f"{prefix}{entry.name}/")
                        walked.add(prefix + entry.name)
                    elif stat.S_ISREG(info.st_mode):
                        files[prefix + entry.name] = info.st_size
                    else:
                        odd.append(prefix + entry.name)
        except Unreadable as exc:
            if not prefix:
                raise
            found.unreadable.append((exc.name, exc.why))
        finally:
            os.close(fd)
    if len(files) + len(odd) > MAX_MEMBERS:
        raise ArchiveError(f"{root} holds more than {MAX_MEMBERS} files")
    odd.sort()
    deep.sort()
    found.unreadable.sort()
    return found


def _open_folder(root: Path, prefix: str) -> int:
    """A descriptor of the folder `prefix` ("" or "a/b/") under `root`, no link followed below `root`.

    Raises:
        ContentError: a step is not a folder any more.
    """
    with _named(root, ""):
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    for part in prefix.split("/")[:-1]:
        try:
            with _named(root, prefix):
                inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
        except BaseException:
            os.close(fd)
            raise
        fd, outer = inner, fd
        os.close(outer)
    return fd


@contextlib.contextmanager
def _named(root: Path, prefix: str) -> Iterator[None]:
    """Turn an OSError while reading the folder `prefix` into a ContentError naming it (it vanished, or is locked).

    Raises:
        ContentError: the folder cannot be read.
    """
    try:
        yield
    except OSError as exc:
        raise _unreadable(exc, prefix.rstrip("/") or ".", printable(str(root / prefix))) from None


# What a file or folder swapped while it was checked gives (a link where O_NOFOLLOW forbids one, a file where a
# folder was, gone): evidence against the folder, exit 3. Anything else (no permission, an I/O error) is this
# computer's problem, exit 1: the folder was not judged.
_SWAPPED = frozenset({errno.ELOOP, errno.ENOTDIR, errno.ENOENT, errno.ENXIO, errno.EISDIR})


def _unreadable(exc: OSError, name: str, shown: str, opening: bool = False) -> MirrorError:
    """The file or folder `name` (printed as `shown`) could not be opened or read: as evidence (a swap), or as
    this computer's problem."""
    strerror = exc.strerror or type(exc).__name__
    message = f"{shown} cannot be opened: {strerror}" if opening else f"{shown} cannot be read: {strerror}"
    return ContentError(message) if exc.errno in _SWAPPED else Unreadable(name, strerror, message)


def _open_beneath(root: Path, name: str) -> int:
    """A read-only descriptor of the regular file `name` under `root`, no link followed at any step.

    Raises:
        ContentError: the file was swapped for a link or something not regular.
    """
    *folders, leaf = name.split("/")
    try:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for part in folders:
                inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
                fd, outer = inner, fd  # one step: Ctrl-C between a close and this left `fd` closed twice
                os.close(outer)
            file_fd = os.open(leaf, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY, dir_fd=fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise _unreadable(exc, name, printable(name), opening=True) from None
    if not stat.S_ISREG(os.fstat(file_fd).st_mode):
        os.close(file_fd)
        raise ContentError(f"{printable(name)} is not a regular file")
    return file_fd


def _read(root: Path, name: str, limit: int) -> tuple[bytes, bool]:
    """The file's bytes and False, or nothing and True when it holds more than `limit`. A file larger than that is
    not read: a sparse bundle.json of 100 GB was read to its cap of 512 MiB and then cut to it, a copy (1 GB held:
    a MemoryError, exit 1, under a memory limit the bundle verifies well within)."""
    with os.fdopen(_open_beneath(root, name), "rb") as fp, _reading(name):
        if os.fstat(fp.fileno()).st_size > limit:
            return b"", True
        data = read_at_most(fp, limit + 1)  # it may still grow while read
    return (b"", True) if len(data) > limit else (data, False)


def _spool(root: Path, name: str, limit: int, signed: bool) -> Spool | None:
    """SHA256SUMS (`signed`: its BLAKE2b-512 made on the way) or bundle.json, a piece at a time into a spool (past
    SPILL bytes an unnamed temporary file), or None when it holds more than `limit`, refused by its size before
    it is read. Read whole, a junk SHA256SUMS of 200 MB took 224 MB before its signature refused it; the
    signature is now checked on the BLAKE2b-512 of exactly the bytes spooled, and those are what is parsed."""
    with os.fdopen(_open_beneath(root, name), "rb") as fp:
        with _reading(name):
            if os.fstat(fp.fileno()).st_size > limit:
                return None
        spool, left = Spool(signed), limit + 1  # it may still grow while read
        while left > 0:
            with _reading(name):
                chunk = fp.read(min(CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            spool.write(chunk)  # a full temporary folder is said as such (control.py), not as this file unread
    return None if spool.size > limit else spool


@contextlib.contextmanager
def _reading(name: str) -> Iterator[None]:
    """An OSError while the open file `name` is read, said as such (an I/O error: exit 1, naming it)."""
    try:
        yield
    except OSError as exc:
        raise _unreadable(exc, name, printable(name)) from None


class _Digest(Protocol):
    def update(self, data: bytes, /) -> None: ...


def _hash(root: Path, name: str, limit: int) -> tuple[str, bool]:
    """The sha256 of the file's first `limit` bytes, and whether it holds more."""
    digest = hashlib.sha256()
    more = _digest(root, name, limit, digest)
    return digest.hexdigest(), more


def _digest(root: Path, name: str, limit: int, digest: _Digest, by_size: bool = False) -> bool:
    """Feed `digest` the file's first `limit` bytes; whether it holds more (`by_size`: refused by its size, unread,
    when it says it does)."""
    with os.fdopen(_open_beneath(root, name), "rb") as fp, _reading(name):
        if by_size and os.fstat(fp.fileno()).st_size > limit:
            return True
        left = limit
        while left > 0 and (chunk := fp.read(min(CHUNK, left))):
            left -= len(chunk)
            digest.update(chunk)
        return bool(fp.read(1))


def _listed_sha256(sums: Spool | bytes, member: str) -> str | None:
    """The SHA-256 the (signed) SHA256SUMS gives `member`, from its sorted lines, each read capped; None when it
    is not found that way (check_signed then says what is wrong with the list)."""
    target, longest = member.encode(), 64 + 2 + MAX_NAME_BYTES + 1
    with sums.open() if isinstance(sums, Spool) else io.BytesIO(sums) as fp:
        while line := fp.readline(longest + 1):
            digest, _, path = line.rstrip(b"\n").partition(b"  ")
            if len(line) > longest or path > target:
                return None
            if path == target:
                return digest.decode("ascii", "replace")
    return None


def _in_place(root: Path, name: str, limit: int, blake: bool = False) -> str | bytes | None:
    """The SHA-256 (hex) or, with `blake`, the BLAKE2b-512 of the file `name`, read where it is and not copied;
    None when it holds more than `limit` bytes (refused by its size, unread). Its copy is hashed again as it is
    spooled: a file changed in between still fails."""
    digest = hashlib.blake2b(digest_size=64) if blake else hashlib.sha256()
    if _digest(root, name, limit, digest, by_size=True):
        return None
    return digest.digest() if blake else digest.hexdigest()


def _read_control(root: Path, layout: Layout, files: Container[str], snap: TrustedKeys) -> dict[str, bytes | Spool]:
    """The four signed files, by logical name: the signature and author.pub held; SHA256SUMS hashed in place and
    its signature checked, then spooled; bundle.json spooled only once it hashes in place as SHA256SUMS says.

    Raises:
        ContentError: one is missing, or bundle.json does not match its hash.
        ArchiveError: one is larger than its cap.
        SignatureError: SHA256SUMS's signature does not check.
    """
    members = {logical: member for member, logical in layout.control.items()}
    for member in (members[logical] for logical in _ORDER):
        if member not in files:
            raise ContentError(f"{root} has no {member}")
    control: dict[str, bytes | Spool] = {}
    held: dict[str, bytes] = {}  # the signature and author.pub
    for logical in _ORDER:
        member = members[logical]
        if logical in _SPOOLED:
            found = _in_place(root, member, CONTROL_CAPS[logical], blake=logical == SUMS_NAME)
            if found is None:
                raise ArchiveError(f"{member} is larger than {CONTROL_CAPS[logical]} bytes")
            if isinstance(found, bytes):  # SHA256SUMS
                check_sums_signature(Prehashed(found), held[SIG_NAME], held[AUTHOR_KEY_NAME], snap)
            elif found != (_listed_sha256(control[SUMS_NAME], member) or found):  # bundle.json, where it is listed
                raise ContentError(f"{layout.member(logical)} does not match its hash in SHA256SUMS")
            spooled = _spool(root, member, CONTROL_CAPS[logical], signed=logical == SUMS_NAME)
            data, more = (b"", True) if spooled is None else (spooled, False)
        else:
            held[logical], more = _read(root, member, CONTROL_CAPS[logical])
            data = held[logical]
        if more:
            raise ArchiveError(f"{member} is larger than {CONTROL_CAPS[logical]} bytes")
        control[logical] = data
    return control


def _size(data: bytes | Spool) -> int:
    return len(data) if isinstance(data, bytes) else data.size


_ASK_FOR_THE_BUNDLE = "ask the sender for the bundle itself (a .7z that mirror create made), and verify that"


def verify_folder(root: Path, keys: Keys, policy: Policy | None = None, parts: bool = False) -> VerifiedBundle:
    """Check the folder `root` as if it were the bundle it was extracted from.

    With `parts`, a folder that lacks listed files but holds every signed file (the page too), each file it holds
    matching, is returned with those files in `missing` (what extracting some parts gives), whether or not it
    holds a part marker: the unsigned marker only says which part it was, it never decides. Without `parts`, a
    missing file fails.

    Raises:
        VerificationError: the folder must not be trusted: its signature, lists or files fail, or it holds
            links, devices or files nobody signed.
    """
    snap = snapshot(keys)
    found = _walk(root)
    files, odd, deep = found.files, found.odd, found.deep
    unreadable = found.unreadable  # (name, why): noted, and the check goes on
    if root.name == V2.prefix.rstrip("/") and SUMS_NAME in files:  # `mirror verify X/.mirror`: FAILED, for a good one
        raise ConfigError(f"{root} is the folder of signed files inside an unpacked bundle",
                          hint=f"verify the folder it is in: mirror verify {shlex.quote(str(root.parent))}")
    layout = layout_of(set(files))
    if layout is None:
        linked = next((n for n in odd if n == SUMS_NAME or n == V2.prefix.rstrip("/")), None)
        if linked is not None:  # its signed files are behind a link: never followed, so they are not there
            raise ContentError(f"{root}: {printable(linked)} is not a regular file or folder (a link, device or "
                               "FIFO; never followed), so the folder holds no SHA256SUMS")
        bundles = sorted(n for n in files if "/" not in n and n.lower().endswith(".7z"))
        if SUMS_NAME not in files and bundles:  # a stick or a Downloads folder: bundles in it, not one unpacked
            raise ConfigError(f"{root} is a folder that holds bundles, not an unpacked bundle",
                              hint=f"verify each bundle in it: mirror verify {shlex.quote(str(root / bundles[0]))}")
        if SUMS_NAME not in files and not any(signed_name(name) for name in files):  # as of a 7z (verify.py)
            count = len(files)
            raise NotABundle(f"{root} is a folder of {count:,} file(s) without SHA256SUMS, its signature, "
                             "author.pub or bundle.json: no unpacked mirror bundle, or one whose signed files were "
                             "all taken out, so nothing in it can be checked", hint=_ASK_FOR_THE_BUNDLE)
        raise ContentError(f"{root} holds no SHA256SUMS" if SUMS_NAME not in files else
                           f"{root} holds two SHA256SUMS, at the top and under .mirror/")
    control = _read_control(root, layout, files, snap)
    signed = check_signed(control, snap, layout)
    endorsements: dict[str, bytes] = {}
    for name in sorted(n for n in files if is_endorsement(n, layout)):
        try:
            data, more = _read(root, name, MAX_ENDORSEMENT_BYTES)
        except Unreadable as exc:
            unreadable.append((exc.name, exc.why))
            continue
        if endorsement_key_id(name, layout) is None or more or len(endorsements) >= MAX_ENDORSEMENTS:
            raise ArchiveError(f"unexpected file {printable(name)}: {layout.endorsements} holds at most "
                               f"{MAX_ENDORSEMENTS} small <KEYID>.minisig signature files")
        endorsements[name] = data
    marker, part = part_member(layout), None
    if parts and marker in files and marker not in signed.sums.entries:
        data, more = _read(root, marker, MAX_PART_BYTES)
        part = PartMarker.from_bytes(data + (b" " if more else b""))
        del files[marker]
    changed: set[str] = set()
    sizes = {layout.member(logical): _size(data) for logical, data in control.items()}  # bundle.json, author.pub
    for name, expected in signed.sums.entries.items():
        if name not in files:
            continue
        meta = signed.meta.files.get(name)
        size = meta.size if meta is not None else sizes.get(name, 0)
        try:
            digest, more = _hash(root, name, size)
        except Unreadable as exc:
            unreadable.append((exc.name, exc.why))
            continue
        if more or digest != expected:
            changed.add(name)
    folders = sorted(n for n in found.walked if n in signed.sums.entries)  # a listed file's name, taken by a folder
    others = [f"a folder where a listed file should be: {printable(n)}" for n in folders[:MAX_PROBLEMS]]
    others += [f"not a regular file (a link, device or FIFO; never followed): {printable(n)}"
               for n in odd[:MAX_PROBLEMS]]
    others += [f"a folder too deep to hold a file of a bundle (not looked into): {printable(n)}"
               for n in deep[:MAX_PROBLEMS]]
    hidden = max(0, len(folders) - MAX_PROBLEMS) + max(0, len(odd) - MAX_PROBLEMS) + max(0, len(deep) - MAX_PROBLEMS)
    # the same rule with or without a part marker; links and the like first, all of them counted, 200 shown; a
    # listed name taken by a folder, a link or a device is said once, as that, not also as a missing file
    unread = {name for name, _ in unreadable}
    below = tuple(name + "/" for name in unread)
    if below:  # what an unreadable folder holds is unknown, not missing
        unread.update(p for p in signed.sums.entries if p.startswith(below))
    try:
        missing = check_content(signed, files, changed, parts, first=others, more=hidden,
                                taken={*folders, *odd, *unread})
    except ContentError as exc:  # evidence against the folder: shown with what could not be read
        if not unreadable:
            raise
        lines = [f"cannot be read ({why}): {printable(name)}" for name, why in unreadable[:MAX_PROBLEMS]]
        raise ContentError(str(exc), problems=(*exc.problems, *lines)) from None
    if unreadable:
        name, why = unreadable[0]
        raise MirrorError(f"{len(unreadable)} file(s) or folder(s) cannot be read, so the folder was not checked in "
                          f"full: {printable(name)}: {why}", hint="run it as a user who can read them all")
    checks = check_endorsements(endorsements, signed.control.prehashed(SUMS_NAME), signed.meta, signed.public, snap,
                                layout)
    evidence = Evidence(signed.public, tuple(e.evidence for e in checks if e.evidence is not None))
    verdict = (policy or AuthorTrusted()).judge(evidence, snap)
    return VerifiedBundle(root, signed.meta, signed.sums, signed.public, verdict, signed.signer_name,
                          tuple(sorted(files)), checks, signed.control, layout, part, missing)

