"""extract_bundle(): verify fully, then write regular files, mode 0644, through a temporary folder.

Example::

    result = extract_bundle(Path("x.7z"), Path("out"), keyring)
    print(result.dest, len(result.verified.members))

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
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from mirror.bundle.verify import Keys, VerifiedBundle, check_container, snapshot, verify_open
from mirror.errors import ConfigError, ContentError, UntrustedSigner
from mirror.safeio import rename_noreplace
from mirror.sevenzip import Limits, iter_members, read_archive
from mirror.trust.policy import AuthorTrusted, Policy


@dataclass(frozen=True, slots=True)
class Extracted:
    """Where a verified bundle was written."""

    dest: Path
    verified: VerifiedBundle
    files: int


def extract_bundle(path: Path, dest: Path, keys: Keys, limits: Limits | None = None,
                   allow_untrusted: bool = False, policy: Policy | None = None) -> Extracted:
    """Verify `path`, then write its files into the new folder `dest`.

    Raises:
        ConfigError: `dest` exists (nothing is overwritten).
        VerificationError: the bundle failed a check; nothing is written.
        UntrustedSigner: intact but unknown signer, unless `allow_untrusted`.
    """
    if dest.exists() or dest.is_symlink():
        raise ConfigError(f"{dest} already exists", hint="name a new folder; extract never overwrites")
    limits = limits or Limits()
    with path.open("rb") as fp:
        signed, members, unlisted = verify_open(fp, snapshot(keys), limits, policy or AuthorTrusted())
        verified = signed.result(path, members)
        if not verified.trusted and not allow_untrusted:
            raise UntrustedSigner(verified.key_id, verified.fingerprint)
        dest.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".mirror-tmp", dir=dest.parent))
        try:
            _write_all(fp, limits, staging, {**unlisted, **signed.sums.entries}, verified.members)
            os.chmod(staging, 0o755)  # noqa: S103 - a folder of readable files, like plain 7-Zip makes
            rename_noreplace(staging, dest)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return Extracted(dest, verified, len(members))


def _write_all(handle: BinaryIO, limits: Limits, staging: Path, hashes: dict[str, str],
               verified: tuple[str, ...]) -> None:
    """Second pass: write each member, hashing it again; the set written must be the set verified."""
    archive = read_archive(handle, limits)
    files = check_container(archive)
    if sorted(m.name for m in files) != sorted(verified):
        raise ContentError("the bundle changed between verifying and extracting",
                           hint="copy the bundle to local storage and try again")
    written: set[str] = set()
    for member, chunks in iter_members(handle, archive):
        target = staging.joinpath(*member.name.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        digest = hashlib.sha256()
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                digest.update(chunk)
                out.write(chunk)
        os.chmod(target, 0o644)
        if digest.hexdigest() != hashes.get(member.name):
            raise ContentError(f"{member.name} changed between verifying and extracting",
                               hint="copy the bundle to local storage and try again")
        written.add(member.name)
    empty = hashlib.sha256(b"").hexdigest()
    for member in files:
        if member.name not in written:  # empty files carry no data stream
            if hashes.get(member.name) != empty:
                raise ContentError(f"{member.name} changed between verifying and extracting")
            target = staging.joinpath(*member.name.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644))
