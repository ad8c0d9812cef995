"""extract_bundle(): verify fully, then reveal regular files, mode 0644, by renaming a private folder into place.

Example::

    result = extract_bundle(Path("x.7z"), Path("out"), keyring)
    print(result.dest, len(result.verified.members))
    extract_bundle(Path("x.7z"), None, keyring)   # into ./almaty-january-2022-9160a322-v2 (its readable name)

One pass when it can: the signed files come first in a bundle, so their signature
is checked before any other member is decoded; if then the members are exactly the
listed ones with the sizes bundle.json signed, and the author alone is trusted (or
the reader accepts untrusted bundles), each member is written into a hidden staging
folder while it is hashed. No more than the author signed can be written, and the
folder is removed unless every check passes. Otherwise (a repack that put the signed
files last, a policy that needs endorsements) the archive is read twice: once to
verify, once to write, hashing again and comparing with the first pass, so a file
that changes on the USB stick in between is caught. py7zr's extractall is never used
on received bundles; this module writes each file itself, under names already checked.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from mirror.bundle.destination import check_new
from mirror.bundle.verify import Keys, VerifiedBundle, check_container, snapshot, verify_open, write_all
from mirror.errors import ConfigError, ContentError, UntrustedSigner
from mirror.formats.names import readable_name
from mirror.safeio import rename_noreplace
from mirror.sevenzip import Limits, read_ahead, read_archive
from mirror.sevenzip.volumes import open_archive_file
from mirror.trust.policy import AuthorTrusted, Policy


@dataclass(frozen=True, slots=True)
class Extracted:
    """Where a verified bundle was written."""

    dest: Path
    verified: VerifiedBundle
    files: int


def extract_bundle(path: Path, dest: Path | None, keys: Keys, limits: Limits | None = None,
                   allow_untrusted: bool = False, policy: Policy | None = None, parent: Path = Path()) -> Extracted:
    """Verify `path`, then write its files into the new folder `dest`.

    Args:
        dest: the folder to make; None: the bundle's readable name (formats/names.py) inside `parent`.

    Raises:
        ConfigError: `dest` exists (nothing is overwritten), or `path` is a FIFO, device or socket.
        VerificationError: the bundle failed a check; nothing is written.
        UntrustedSigner: intact but unknown signer, unless `allow_untrusted`.
    """
    if dest is not None:
        check_new(dest)
    limits = limits or Limits()
    folder = dest.parent if dest is not None else parent
    made = [p for p in (folder, *folder.parents) if not p.exists()]  # removed again if nothing is extracted
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):  # a file where a folder of the path should be
        _remove_empty(made)
        raise ConfigError(f"{folder} is not a folder", hint="name a new folder inside a folder") from None
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name if dest else path.stem}.", suffix=".mirror-tmp",
                                    dir=folder))
    try:
        with open_archive_file(path) as fp:  # the first volume of a 7-Zip set: the whole set
            checked = verify_open(fp, snapshot(keys), limits, policy or AuthorTrusted(),
                                  writer=_Staging(staging, allow_untrusted))
            verified = checked.result(path)
            if not verified.trusted and not allow_untrusted:
                raise UntrustedSigner(verified.key_id, verified.fingerprint)
            if dest is None:
                dest = parent / readable_name(verified.meta.title, verified.meta.bundle_id, verified.meta.version)
                check_new(dest)
            if checked.written:
                for name in verified.ignored:  # invalid endorsements are verified, never extracted
                    staging.joinpath(*name.split("/")).unlink(missing_ok=True)
                written = len(verified.members) - len(verified.ignored)
            else:  # the signed files did not come first, or the author alone is not trusted: write now
                shutil.rmtree(staging)
                staging.mkdir(mode=0o700)
                written = _write_all(fp, limits, staging, {**checked.unlisted, **verified.sums.entries}, verified)
        os.chmod(staging, 0o755)  # noqa: S103 - a folder of readable files, like plain 7-Zip makes
        rename_noreplace(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        _remove_empty(made)
        raise
    return Extracted(dest, verified, written)


@dataclass(frozen=True, slots=True)
class _Staging:
    """verify_open's writer: new files in the private staging folder."""

    staging: Path
    untrusted_ok: bool

    def create(self, name: str) -> int:
        """A new file for member `name`."""
        return _create(self.staging, name)


def _remove_empty(folders: list[Path]) -> None:
    """Remove the folders made on the way to a target that was not extracted, deepest first, if still empty."""
    for empty in folders:
        with contextlib.suppress(OSError):
            empty.rmdir()


def _create(staging: Path, name: str) -> int:
    """A new file for member `name` under `staging` (a name already checked), as a file descriptor."""
    target = staging.joinpath(*name.split("/"))
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    os.fchmod(fd, 0o644)  # whatever the umask: readable, like plain 7-Zip makes it
    return fd


def _write_all(handle: BinaryIO, limits: Limits, staging: Path, hashes: dict[str, str],
               verified: VerifiedBundle) -> int:
    """Second pass: write each member, hashing it again; the set read must be the set verified.

    Invalid endorsements are read and hashed like the rest, but not written. Returns how many files were.
    """
    archive = read_archive(handle, limits)
    files, _ = check_container(archive)
    if sorted(m.name for m in files) != sorted(verified.members):
        raise ContentError("the bundle changed between verifying and extracting",
                           hint="copy the bundle to local storage and try again")
    skip, seen = verified.ignored, set()
    # Decoded on a second thread (no CRC: each member's SHA-256 is compared); written in chunks of 1 MiB.
    with closing(read_ahead(handle, archive, crc=False)) as pairs:
        for member, chunks in pairs:
            digest = hashlib.sha256()
            if member.name in skip:
                for chunk in chunks:
                    digest.update(chunk)
            else:
                fd = _create(staging, member.name)
                try:
                    for chunk in chunks:
                        digest.update(chunk)
                        write_all(fd, chunk)
                finally:
                    os.close(fd)
            if digest.hexdigest() != hashes.get(member.name):
                raise ContentError(f"{member.name} changed between verifying and extracting",
                                   hint="copy the bundle to local storage and try again")
            seen.add(member.name)
    empty = hashlib.sha256(b"").hexdigest()
    for member in files:
        if member.name not in seen:  # empty files carry no data stream
            if hashes.get(member.name) != empty:
                raise ContentError(f"{member.name} changed between verifying and extracting")
            if member.name not in skip:
                os.close(_create(staging, member.name))
    return len(files) - len(skip)
