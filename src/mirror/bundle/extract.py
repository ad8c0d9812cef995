"""extract_bundle(): verify fully, then write regular files, mode 0644, through a temporary folder.

Example::

    result = extract_bundle(Path("x.7z"), Path("out"), keyring)
    print(result.dest, len(result.verified.members))
    extract_bundle(Path("x.7z"), None, keyring)   # into ./almaty-january-2022-9160a322-v2 (its readable name)

The archive is read twice (bundle/staging.py): once to verify, once to write. The second pass hashes again and
compares with the first, so a file that changes on the USB stick in between is caught. py7zr's extractall is
never used on received bundles; each file is written under a name already checked. The first volume of a 7-Zip
set (`X.7z.001`) is read as the whole set.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mirror.bundle.destination import check_new, new_folders
from mirror.bundle.staging import stage
from mirror.bundle.verify import Keys, VerifiedBundle
from mirror.errors import UntrustedSigner
from mirror.formats.names import readable_name
from mirror.safeio import rename_noreplace
from mirror.sevenzip import Limits
from mirror.trust.policy import Policy


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
        VerificationError: the bundle failed a check (a part of a split bundle too); nothing is written.
        UntrustedSigner: intact but unknown signer, unless `allow_untrusted`.
    """
    if dest is not None:
        check_new(dest)
    target_parent = dest.parent if dest is not None else parent
    with new_folders(target_parent):  # folders made here are removed again if this fails
        staging = Path(tempfile.mkdtemp(prefix=".mirror-extract.", suffix=".mirror-tmp", dir=target_parent))
        try:
            staged = stage([path], keys, staging, limits, policy, parts=False)
            verified = staged.first
            if not verified.trusted and not allow_untrusted:
                raise UntrustedSigner(verified.key_id, verified.fingerprint)
            if dest is None:
                dest = parent / readable_name(verified.meta.title, verified.meta.bundle_id, verified.meta.version)
                check_new(dest)
            os.chmod(staging, 0o755)  # noqa: S103 - a folder of readable files, like plain 7-Zip makes
            rename_noreplace(staging, dest)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return Extracted(dest, verified, len(staged.members))
