"""extract_bundle(): verify fully, then write regular files, mode 0644, through a temporary folder.

Example::

    result = extract_bundle(Path("x.7z"), Path("out"), keyring)
    print(result.dest, len(result.verified.members))
    extract_bundle(Path("x.7z"), None, keyring)   # into ./almaty-january-2022-9160a322-v2 (its readable name)

The archive is read twice: once to verify, once to write. The second pass
hashes again and compares with the first, so a file that changes on the USB
stick in between is caught. py7zr's extractall is never used on received
bundles; this module writes each file itself, under names already checked.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from mirror.bundle.verify import Keys, VerifiedBundle, check_container, snapshot, verify_open
from mirror.errors import ConfigError, ContentError, UntrustedSigner
from mirror.formats.names import readable_name
from mirror.safeio import open_regular, rename_noreplace
from mirror.sevenzip import Limits, read_ahead, read_archive
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
        _check_new(dest)
    limits = limits or Limits()
    with open_regular(path) as fp:
        checked = verify_open(fp, snapshot(keys), limits, policy or AuthorTrusted())
        verified = checked.result(path)
        if not verified.trusted and not allow_untrusted:
            raise UntrustedSigner(verified.key_id, verified.fingerprint)
        if dest is None:
            dest = parent / readable_name(verified.meta.title, verified.meta.bundle_id, verified.meta.version)
            _check_new(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".mirror-tmp", dir=dest.parent))
        try:
            written = _write_all(fp, limits, staging, {**checked.unlisted, **verified.sums.entries}, verified)
            os.chmod(staging, 0o755)  # noqa: S103 - a folder of readable files, like plain 7-Zip makes
            rename_noreplace(staging, dest)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return Extracted(dest, verified, written)


def _check_new(dest: Path) -> None:
    """Raise unless nothing is at `dest`: extract never overwrites.

    Raises:
        ConfigError: something is there.
    """
    if dest.exists() or dest.is_symlink():
        raise ConfigError(f"{dest} already exists", hint="name a new folder; extract never overwrites")


def _create(staging: Path, name: str) -> int:
    """A new file for member `name` under `staging` (a name already checked), as a file descriptor."""
    target = staging.joinpath(*name.split("/"))
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    os.fchmod(fd, 0o644)  # whatever the umask: readable, like plain 7-Zip makes it
    return fd


def _write_all_of(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


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
                        _write_all_of(fd, chunk)
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
