"""Verify bundles or parts of one bundle, and write the files they carry into one folder.

Example::

    staged = stage([Path("a.part1of3.7z"), Path("a.part3of3.7z")], keys, folder)
    staged.missing        # the listed files none of them carried
    staged.has(name)      # whether member `name` was written (the part markers never are)

A whole bundle given first is written while it is verified, in one pass, when bundle/verify.py allows it (its
signed files first, exactly the listed members with their signed sizes, a trusted author or the reader's consent).
Otherwise each input is verified in full first (parts accepted), then read a second time to write its
members, hashing them again, so a file that changes in between is caught. Every input must carry the same
SHA256SUMS bytes: the same signed bundle. A file several inputs carry (the signed files, the page) is written
once; its copies are checked against the same signed hash. Invalid endorsements are never written.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
from collections.abc import Callable, Sequence
from contextlib import closing
from pathlib import Path
from typing import BinaryIO

from mirror.bundle.endorsements import EndorsementCheck
from mirror.bundle.verify import Checked, Keys, VerifiedBundle, check_container, hash_chunks, snapshot, verify_open
from mirror.errors import ConfigError, ContentError, MirrorError, VerificationError
from mirror.formats.endorsement import MAX_ENDORSEMENTS, is_endorsement
from mirror.formats.manifest import SUMS_NAME, Layout, SumsLines, SumsTable
from mirror.formats.names import unwritable
from mirror.formats.part import part_member
from mirror.record import record, replace
from mirror.sevenzip import Limits, read_ahead, read_archive
from mirror.sevenzip.volumes import open_archive_file
from mirror.trust.policy import AuthorTrusted, Policy

_EMPTY = hashlib.sha256(b"").hexdigest()


@dataclasses.dataclass(slots=True)
class Staged:
    """What the inputs carried, written under `folder`.

    Compact at a million files: a listed file written is one byte by its line of SHA256SUMS (its hash is the
    signed one: nothing else is ever recorded for it); only the few members SHA256SUMS does not list (itself,
    its signature, endorsements) are kept by name, with the hash each was written with.
    """

    folder: Path
    verified: list[VerifiedBundle] = dataclasses.field(default_factory=list)
    written: bytearray = dataclasses.field(default_factory=bytearray)  # by line of the signed list: 1 once written
    unlisted: dict[str, str] = dataclasses.field(default_factory=dict)  # member name -> sha256, for the unlisted ones
    left_out: set[str] = dataclasses.field(default_factory=set)  # endorsements of later inputs not written (a bundle
    # carries at most MAX_ENDORSEMENTS)
    ranks: dict[str, int] = dataclasses.field(default_factory=dict)  # endorsement written -> _RANK of its status
    # endorsements another input carried other bytes of, which the reader's keyring could not rank: (name, input)
    differing: list[tuple[str, Path]] = dataclasses.field(default_factory=list)
    idle: list[Path] = dataclasses.field(default_factory=list)  # inputs after the first that added no file (copies)
    failed: list[tuple[Path, str]] = dataclasses.field(default_factory=list)  # inputs that failed a check, left
    # out because the others carried every file (a damaged second download of a part)

    @property
    def first(self) -> VerifiedBundle:
        """The first input's verification (they all carry the same signed files)."""
        return self.verified[0]

    @property
    def files(self) -> int:
        """How many files were written."""
        return self.written.count(1) + len(self.unlisted)

    @property
    def missing(self) -> Sequence[str]:
        """The listed files no input carried, in the list's order."""
        written = self.written
        return SumsLines(signed_lines(self.first), (j for j in range(len(written)) if not written[j]))

    def has(self, name: str) -> bool:
        """Whether member `name` was written."""
        j = signed_lines(self.first).find(name)
        return bool(self.written[j]) if j is not None else name in self.unlisted

    def digest(self, name: str) -> str | None:
        """The SHA-256 member `name` was written with, or None."""
        lines = signed_lines(self.first)
        j = lines.find(name)
        if j is None:
            return self.unlisted.get(name)
        return lines.digest(j) if self.written[j] else None

    def forget(self, name: str) -> None:
        """An endorsement written before makes way for a better copy from another input (`_write`)."""
        self.folder.joinpath(*name.split("/")).unlink()
        self.unlisted.pop(name, None)
        self.ranks.pop(name, None)

    def record(self, name: str, digest: str) -> None:
        """Member `name` was written, with `digest` (for a listed file, its signed hash: checked before)."""
        j = signed_lines(self.first).find(name)
        if j is None:
            self.unlisted[name] = digest
        else:
            self.written[j] = 1


def signed_lines(verified: VerifiedBundle) -> SumsTable:
    """The parsed SHA256SUMS of a verified bundle, in columns (what verify always makes)."""
    entries = verified.sums.entries
    if not isinstance(entries, SumsTable):
        raise TypeError("a verified bundle's SHA256SUMS is a SumsTable")
    return entries


def _shared(verified: VerifiedBundle, first: VerifiedBundle) -> VerifiedBundle:
    """A later input's verification holding the first one's columns of the signed lists, which it carries byte
    for byte (the same SHA-256): one copy for every part, not one for each."""
    lines = signed_lines(first)
    missing = SumsLines(lines, verified.missing.lines) if isinstance(verified.missing, SumsLines) else verified.missing
    return replace(verified, sums=first.sums, meta=first.meta, missing=missing)


def stage(paths: list[Path], keys: Keys, folder: Path, limits: Limits | None = None, policy: Policy | None = None,
          parts: bool = True, untrusted_ok: bool = False) -> Staged:
    """Verify each input and write what it carries into the existing, empty `folder`.

    `untrusted_ok`: the caller will keep what an unknown signer signed, so it may be written in one pass too.

    An input of several that fails a check is left out (in `failed`) when the others carry every file of the
    bundle between them: a damaged second download of a part beside a good one. What is written is the signed
    files' bytes either way; otherwise its error is raised.

    Raises:
        VerificationError: an input failed a check, and the others do not carry all it should have; or two
            inputs claim the same bundle and version under different keys.
        ConfigError: the inputs come from different bundles, or one is a FIFO or a device.
    """
    staged, limits = Staged(folder), limits or Limits()
    snap, policy = snapshot(keys), policy or AuthorTrusted()
    errors: list[VerificationError] = []
    for path in paths:
        with open_archive_file(path) as fp:
            writer = _OnePass(folder, untrusted_ok) if not staged.verified else None
            try:
                checked = verify_open(fp, snap, limits, policy, parts=parts, writer=writer)
            except VerificationError as exc:
                if len(paths) == 1:
                    raise
                if writer is not None:
                    _empty(folder)  # what it wrote while it was checked
                errors.append(_naming(exc, path))  # which of the inputs to ask for again
                staged.failed.append((path, str(exc)))
                continue
            verified = checked.result(path)
            if staged.verified and verified.control.sha256(SUMS_NAME) != staged.first.control.sha256(SUMS_NAME):
                raise _other_bundle(path, verified, staged.first)
            if staged.verified:
                verified = _shared(verified, staged.first)
            else:
                staged.written = bytearray(len(signed_lines(verified)))
            staged.verified.append(verified)
            if checked.written:
                _adopt(checked, verified, staged)
                staged.ranks.update((e.name, _rank(e)) for e in verified.endorsements if staged.has(e.name))
            elif not _write(fp, limits, checked, verified, staged):
                staged.idle.append(path)
            del checked  # its own columns of the signed lists: not beside the next input's
    if errors and (not staged.verified or staged.missing):
        if staged.verified:  # the others are intact: say what to do with them (exit 3 stays: one was tampered)
            bad = staged.failed[0][0]
            errors[0].hint = (f"leave out {bad} and ask for it again; without it, mirror extract writes what the "
                              f"other inputs carry (with --partial, the files still missing are accepted)")
        raise errors[0]
    return staged


def _empty(folder: Path) -> None:
    """Remove everything in `folder` (a staging folder of ours: never a link followed out of it)."""
    for entry in os.scandir(folder):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path)
        else:
            os.unlink(entry.path)


def _other_bundle(path: Path, verified: VerifiedBundle, first: VerifiedBundle) -> MirrorError:
    """The error for an input that carries other signed files than the first: another version of the same
    bundle is named as one (parts of an update beside parts of the bundle it updates). Two signers claiming one
    bundle and version is no mistake of the user's: one of them made a part in the other's name, and what was
    given must not be trusted (exit 3)."""
    earlier = first.path
    version, first_version = verified.meta.version, first.meta.version
    if verified.meta.bundle_id == first.meta.bundle_id and version != first_version:
        return ConfigError(f"{path} is version {version} of the bundle, {earlier} is version {first_version}",
                           hint="give parts of one version")
    if verified.meta.bundle_id == first.meta.bundle_id and verified.public != first.public:
        # a part put in another's place: which one is the stranger is the reader's keyring's to say, not the order
        who, named = _signer(verified), _signer(first)
        hint = ("leave out the parts signed by a key you do not hold (mirror verify PART names the signer), and ask "
                "for those parts again")
        if verified.signer_name is None and first.signer_name is None:  # "a key you do not hold" is each of them
            hint = ("you hold neither key: compare each one's fingerprint (mirror verify PART prints it) with the "
                    "digits the author gave you, and keep only the parts signed by the key that matches")
        elif verified.signer_name is not None and first.signer_name is not None:
            held, also = verified.signer_name, first.signer_name
            hint = (f"both keys are in your keyring: ask the author whether {held} or {also} signs this bundle, and "
                    "keep only the parts that key signed")
        return VerificationError(f"{path} and {earlier} claim the same bundle and version, but {path} is signed "
                                 f"by {who} and {earlier} by {named}", hint=hint)
    return ConfigError(f"{path} is not from the same bundle as {earlier}",
                       hint="give only parts of one split of one bundle (mirror show PART names its title, id "
                            "and version)")


def _signer(verified: VerifiedBundle) -> str:
    """Who signed `verified`, in the words a verdict uses: a name from the keyring, or an unknown key."""
    if verified.signer_name is not None:
        return verified.signer_name
    return f"key {verified.key_id}, which is not in your keyring"


def _naming(exc: VerificationError, path: Path) -> VerificationError:
    """The same error, saying which input it is about."""
    if isinstance(exc, ContentError):
        return ContentError(f"{path}: {exc}", exc.hint, exc.problems)
    try:
        return type(exc)(f"{path}: {exc}", exc.hint)
    except TypeError:  # a kind made another way: the same exit code
        return VerificationError(f"{path}: {exc}", exc.hint)


@record
class _OnePass:
    """verify_open's writer: each member into `folder` while it is verified."""

    folder: Path
    untrusted_ok: bool

    def create(self, name: str) -> int:
        """A new file for member `name`."""
        return create_member(self.folder, name)


def _adopt(checked: Checked, verified: VerifiedBundle, staged: Staged) -> None:
    """After a verify that wrote every member: record them; remove the ones never extracted (invalid
    endorsements)."""
    lines, ignored = signed_lines(verified), verified.ignored
    for name in verified.members:
        if name in ignored:
            staged.folder.joinpath(*name.split("/")).unlink(missing_ok=True)
        elif (j := lines.find(name)) is not None:
            staged.written[j] = 1
        elif (digest := checked.unlisted.get(name)) is not None:
            staged.unlisted[name] = digest


def expected_digest(checked: Checked, verified: VerifiedBundle, name: str) -> str | None:
    """The SHA-256 the first pass found right for member `name`: the signed one, or for an unsigned member
    (SHA256SUMS, its signature, an endorsement, a part marker) the one it hashed."""
    return verified.sums.entries.get(name) or checked.unlisted.get(name)


def write_again(fp: BinaryIO, limits: Limits, verified: VerifiedBundle, target: Callable[[str], int | None],
                check: Callable[[str, str], None], changed: ContentError) -> int:
    """The second pass of extract and staging: read the verified bundle again and write what it holds.

    The member set must be the one verified (else `changed` is raised). Each member is hashed as it is
    decoded and written to the new file `target(name)` gives (None: hashed only); then `check(name, digest)`
    compares. Members without data (empty files) likewise, with the empty file's digest. Decoded on a second
    thread, without CRCs: each member's SHA-256 is compared. Returns how many files were written.
    """
    archive = read_archive(fp, limits)
    files, _ = check_container(archive, limits)
    if len(files) != len(verified.members) or any(a != b for a, b in zip(files.names(), verified.members,
                                                                            strict=True)):
        raise changed
    written = 0
    with closing(read_ahead(fp, archive, crc=False)) as pairs:
        for member, chunks in pairs:
            fd = target(member.name)
            written += fd is not None
            check(member.name, hash_chunks(chunks, fd))
    for k in range(len(files)):
        if not files.has_stream(k):  # empty files carry no data stream
            name = files.name(k)
            fd = target(name)
            if fd is not None:
                os.close(fd)
                written += 1
            check(name, _EMPTY)
    return written


def create_member(folder: Path, name: str) -> int:
    """A new file for member `name` (a name already checked) under `folder`, mode 0644, as a file descriptor.

    Raises:
        ConfigError: this system cannot write the name (its file names are in a code page without its letters).
    """
    problem = unwritable(name)
    if problem is not None:
        raise ConfigError(problem, hint="extract it where file names are UTF-8, for example with LANG=ru_RU.UTF-8 "
                                        "or LANG=kk_KZ.UTF-8 before the command")
    target = folder.joinpath(*name.split("/"))
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    os.fchmod(fd, 0o644)
    return fd


def _write(fp: BinaryIO, limits: Limits, checked: Checked, verified: VerifiedBundle, staged: Staged) -> int:
    """Second pass over one input: write each member not written yet, hashing every one again; how many were."""
    marker, layout = part_member(verified.layout), verified.layout
    skip = set(verified.ignored) | (set() if marker in verified.sums.entries else {marker})  # a listed file is content

    ranks = {e.name: _rank(e) for e in verified.endorsements}

    def target(name: str) -> int | None:
        if name in skip:
            return None
        if is_endorsement(name, layout):
            kept, theirs = staged.unlisted.get(name), expected_digest(checked, verified, name)
            if kept is not None and theirs != kept and ranks.get(name) == staged.ranks.get(name) == _RANK["unknown"] \
                    and all(n != name for n, _ in staged.differing):
                staged.differing.append((name, verified.path))  # the first given is kept: said, never silently
            return _endorsement_target(name, ranks.get(name, 0), staged, layout, skip)
        if staged.has(name):
            return None
        return create_member(staged.folder, name)

    def check(name: str, digest: str) -> None:
        _record(name, digest, expected_digest(checked, verified, name), skip, staged, verified)
        if is_endorsement(name, layout) and name not in skip and name in staged.unlisted:
            staged.ranks.setdefault(name, ranks.get(name, 0))

    return write_again(fp, limits, verified, target, check,
                       ContentError(f"{verified.path} changed between verifying and reading it",
                                    hint="copy it to local storage and try again"))


# Which copy of an endorsement the inputs' union keeps, and which endorsements, past the cap: one that checks out
# with a key the user holds over one by a key nobody here knows, and either over one that does not check out. Parts
# of copies endorsed by different people are joined; a part may carry a forged file under a real endorser's name.
# Of two that check out, the one that vouches for the author (knows-author) over one that does not: it is the one
# a reader's policy counts.
_RANK = {"trusted": 3, "unknown": 2, "invalid": 1}


def _rank(check: EndorsementCheck) -> int:
    return _RANK[check.status] + (check.status == "trusted" and check.claim == "knows-author")


def _endorsement_target(name: str, rank: int, staged: Staged, layout: Layout, skip: set[str]) -> int | None:
    """Where to write this input's endorsement `name` (None: not written): a better copy replaces a worse one
    written before, and past MAX_ENDORSEMENTS it takes the place of the worst one written, if it is better."""
    if staged.has(name):
        if rank <= staged.ranks.get(name, 0):
            skip.add(name)
            return None
        staged.forget(name)
    elif sum(is_endorsement(n, layout) for n in staged.unlisted) >= MAX_ENDORSEMENTS:
        worst = min((n for n in staged.unlisted if is_endorsement(n, layout)), key=lambda n: staged.ranks.get(n, 0))
        if rank <= staged.ranks.get(worst, 0):
            skip.add(name)  # copies endorsed by others: together they may carry more than a bundle may
            staged.left_out.add(name)
            return None
        staged.forget(worst)
        staged.left_out.add(worst)
    staged.left_out.discard(name)
    return create_member(staged.folder, name)


def _record(name: str, digest: str, expected: str | None, skip: frozenset[str] | set[str], staged: Staged,
            verified: VerifiedBundle) -> None:
    if name in skip:
        return
    previous = staged.digest(name)  # None: not written yet
    if previous is not None:
        if previous != digest and name in verified.sums.entries:
            raise ContentError(f"{name} differs between the parts", hint="copy them to local storage and try again")
        return  # an endorsement by the same key in another copy: the first one written is kept
    if digest != expected:
        raise ContentError(f"{name} in {verified.path} changed between verifying and reading it",
                           hint="copy it to local storage and try again")
    staged.record(name, digest)
