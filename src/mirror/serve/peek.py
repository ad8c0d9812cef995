"""What a 7z archive's first block says of its signer, read within small bounds: which files a full room verifies.

Example::

    rank = peek(path, stamp, keys)    # TRUSTED, SIGNED, UNKNOWN or NOT_A_BUNDLE

Only used when a folder holds more 7z archives than a room verifies in one look
(catalog.MAX_CANDIDATES): each is ranked by the steps of verification that read its
header and its signed files (docs/format.md, steps 1-4), no more than PEEK_BYTES of
either, and the best ranked are verified in full. So neither thousands of small 7z
archives that are no bundles nor bundles forged with a trusted key's id (their
signature does not check) take the places of the bundles a room's keyring trusts.
"""

from __future__ import annotations

import os
from pathlib import Path

from mirror.bundle.verify import check_container, check_signed
from mirror.errors import ConfigError, VerificationError
from mirror.safeio import open_regular
from mirror.serve.candidates import Stamp
from mirror.sevenzip import Limits, iter_block, read_archive
from mirror.trust.keyset import TrustedKeys

PEEK_BYTES = 1 << 20  # of the 7z header decoded, and of the signed files read before the signature is checked
TRUSTED = 3  # the signature checks, by an author key of the room's keyring
SIGNED = 2  # the signature checks, by a key the keyring does not hold
UNKNOWN = 1  # more than PEEK_BYTES to read, or the file changed: verified if there is room
NOT_A_BUNDLE = 0  # no bundle, or its signature does not check: verified last, to say why


def peek(path: Path, stamp: Stamp, keys: TrustedKeys) -> int:
    """How far up the room's order this file goes (the higher, the sooner it is verified)."""
    try:
        with open_regular(path) as fp:
            if Stamp.of(os.fstat(fp.fileno())) != stamp:
                return UNKNOWN
            try:
                archive = read_archive(fp, Limits(max_header=PEEK_BYTES))
            except VerificationError:
                return UNKNOWN  # a header over the bound, or a broken one: verification says which
            files, layout = check_container(archive)
            wanted = dict(layout.control)  # member name -> logical name
            table = archive.members
            places: dict[int, set[str]] = {}  # block -> the signed files in it
            for i in range(len(table)):
                member = table[i]
                if member.name in wanted and member.folder is not None:
                    places.setdefault(member.folder, set()).add(member.name)
            held: dict[str, bytes] = {}
            budget = PEEK_BYTES
            for block, needed in sorted(places.items()):
                for member, chunks in iter_block(fp, archive, block):
                    if member.size > budget:
                        return UNKNOWN
                    budget -= member.size
                    data = b"".join(chunks)
                    if member.name in needed:
                        held[wanted[member.name]] = data
                        needed.discard(member.name)
                        if not needed:
                            break
            signed = check_signed(held, keys, layout, members=files)
    except (VerificationError, KeyError):  # KeyError: a signed file with no data (empty): no bundle
        return NOT_A_BUNDLE
    except (ConfigError, OSError):
        return UNKNOWN  # swapped for a FIFO, or unreadable: verification says which
    return TRUSTED if signed.signer_name is not None else SIGNED
