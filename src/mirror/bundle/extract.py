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
import os
import shutil
from pathlib import Path
from typing import BinaryIO

from mirror.bundle.destination import check_new, private_folder, remove_tree, said_under
from mirror.bundle.staging import create_member, expected_digest, write_again
from mirror.bundle.verify import Checked, Keys, VerifiedBundle, snapshot, verify_open
from mirror.errors import ConfigError, ContentError, UntrustedSigner
from mirror.formats.names import local_name
from mirror.record import record
from mirror.safeio import rename_noreplace
from mirror.sevenzip import Limits
from mirror.sevenzip.volumes import open_archive_file
from mirror.trust.policy import AuthorTrusted, Policy


@record
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
    # the working folder, held (mirror.leftovers) until renamed or removed: a removal is never shared with
    # another run's cleaning; entered first, so that Ctrl-C as soon as the folder is made still removes it
    with contextlib.ExitStack() as holding:
        try:
            staging = holding.enter_context(private_folder(folder, f".{dest.name if dest else path.stem}."))
        except BaseException:
            _remove_empty(made)
            raise
        try:
            with said_under(staging, lambda: dest):
                with open_archive_file(path) as fp:  # the first volume of a 7-Zip set: the whole set
                    checked = verify_open(fp, snapshot(keys), limits, policy or AuthorTrusted(),
                                          writer=_Staging(staging, allow_untrusted))
                    verified = checked.result(path)
                    if not verified.trusted and not allow_untrusted:
                        raise UntrustedSigner(verified.key_id, verified.fingerprint)
                    if dest is None:
                        dest = parent / local_name(verified.meta.title, verified.meta.bundle_id,
                                                   verified.meta.version)
                        check_new(dest)
                    if checked.written:
                        for name in verified.ignored:  # invalid endorsements are verified, never extracted
                            staging.joinpath(*name.split("/")).unlink(missing_ok=True)
                        written = len(verified.members) - len(verified.ignored)
                    else:  # the signed files did not come first, or the author alone is not trusted: write now
                        _empty(staging)
                        written = _write_all(fp, limits, staging, checked, verified)
                os.chmod(staging, 0o755)  # noqa: S103 - a folder of readable files, like plain 7-Zip makes
                rename_noreplace(staging, dest)
        except BaseException:
            remove_tree(staging)
            _remove_empty(made)
            raise
    return Extracted(dest, verified, written)


@record
class _Staging:
    """verify_open's writer: new files in the private staging folder."""

    staging: Path
    untrusted_ok: bool

    def create(self, name: str) -> int:
        """A new file for member `name`."""
        return create_member(self.staging, name)


def _empty(staging: Path) -> None:
    """Remove what the working folder holds, keeping the folder (and the hold on it)."""
    for child in list(staging.iterdir()):
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def _remove_empty(folders: list[Path]) -> None:
    """Remove the folders made on the way to a target that was not extracted, deepest first, if still empty."""
    for empty in folders:
        with contextlib.suppress(OSError):
            empty.rmdir()


def _write_all(handle: BinaryIO, limits: Limits, staging: Path, checked: Checked, verified: VerifiedBundle) -> int:
    """Second pass (staging.write_again): write each member, hashing it again; the set read must be the set
    verified. Invalid endorsements are read and hashed like the rest, but not written. Returns how many files
    were."""
    skip = verified.ignored

    def target(name: str) -> int | None:
        return None if name in skip else create_member(staging, name)

    def check(name: str, digest: str) -> None:
        if digest != expected_digest(checked, verified, name):
            raise ContentError(f"{name} changed between verifying and extracting",
                               hint="copy the bundle to local storage and try again")

    return write_again(handle, limits, verified, target, check,
                       ContentError("the bundle changed between verifying and extracting",
                                    hint="copy the bundle to local storage and try again"))
