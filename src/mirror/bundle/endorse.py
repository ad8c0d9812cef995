"""endorse_bundle(): a new bundle with the same members, byte for byte, and one more endorsement.

Example::

    request = EndorseRequest(Path("almaty.7z"), Path("almaty.endorsed.7z"), "knows-author")
    done = endorse_bundle(request, keyring.get("bob").public, lambda: keyring.secret("bob", passphrase), keyring)
    done.member            # ".mirror/endorsements/5D2F0C8A1B3E4F60.minisig"

An endorsement is a minisign signature by the endorser's key over the bundle's SHA256SUMS bytes, with
the trusted comment `bundle:<id>\\tversion:<n>\\trole:endorser\\tclaim:<claim>` (docs/format.md,
"Endorsements"). Nothing the author signed changes and nothing is recompressed: every block of the
bundle is copied as packed bytes (sevenzip/writer.py, `copy_folders`), the endorsement goes into one
new small block, and the header is written anew. Endorsing costs about a copy of the file plus two
verifications (the source before signing, the copy after writing). With `drop_unknown`, endorsements by
keys the endorser does not hold (and invalid ones) are left out: blocks of them only are skipped, and a small
block that mixes them with other members (a 7-Zip repack) is rewritten without them (`_copy_blocks`).

Order: read the container and the four signed files (the first block), check the author's signature
and the lists; refuse the author's own key, a key that already endorsed, `knows-author` for an author
the endorser's keyring does not hold (or holds only on first use); verify every file of the source, so
that a passphrase is asked only for a bundle that can be endorsed; sign; copy into a temporary file
beside the output; verify that file fully, as a receiver will (so a bundle that changed on its stick
between the reads never becomes an endorsed bundle); then rename it into place. The input is
only ever read; the output never replaces the input, nor any file unless asked.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from mirror.bundle.parts import part_refusal, whole_refusal
from mirror.bundle.verify import (
    Keys,
    VerifiedBundle,
    check_container,
    snapshot,
    verify_bundle,
    verify_open,
)
from mirror.errors import ConfigError, ContentError, SignatureError, TruncatedArchive
from mirror.formats.endorsement import CLAIMS, MAX_ENDORSEMENTS, endorsement_comment, endorsement_name, is_endorsement
from mirror.formats.manifest import SUMS_NAME, Layout
from mirror.formats.minisign import PublicKeyFile, key_id_hex
from mirror.formats.names import check_name_length
from mirror.formats.part import part_member
from mirror.record import field, record, replace
from mirror.safeio import atomic_output, fit_stem, open_regular
from mirror.sevenzip import Archive, Limits, iter_block, read_archive
from mirror.sevenzip.volumes import volume_hint, volume_set
from mirror.sevenzip.writer import ArchiveWriter, members_by_folder
from mirror.trust.keys import SecretKey
from mirror.trust.keyset import KeyRecord
from mirror.trust.policy import AuthorTrusted

# A block that mixes endorsements to drop with members to keep (only a 7-Zip repack makes one) is rewritten in
# memory, up to this size: the signed files of about 100,000 accounts and a hundred endorsements fit; a larger solid
# repack is refused with the way to repack it.
MAX_REWRITE = 64 * 1024 * 1024


@record
class EndorseRequest:
    """Which bundle, where the endorsed copy goes, and what the endorser claims."""

    source: Path
    out: Path
    claim: str
    force: bool = False  # replace a file at `out` (never the source)
    drop_unknown: bool = False  # leave out endorsements by keys the endorser does not hold, and invalid ones
    limits: Limits = field(default_factory=Limits)


@record
class Endorsed:
    """The endorsed bundle, verified, and the member that was added."""

    verified: VerifiedBundle
    member: str
    author_trusted: bool  # whether the endorser's keyring holds the author's key
    dropped: tuple[str, ...] = ()  # endorsements left out (--drop-unknown): unknown keys, invalid ones


def default_output(source: Path) -> Path:
    """Where `mirror endorse` writes without -o: beside the source, `NAME.endorsed.7z`."""
    return source.with_name(f"{fit_stem(source.stem, '.endorsed.7z')}.endorsed.7z")  # a long NAME shortened


def _check_output(request: EndorseRequest) -> None:
    """Refuse an output that is the source (whatever it is called), or that exists unless forced.

    Raises:
        ConfigError: the problem, with the fix.
    """
    source, out = request.source, request.out
    check_name_length(out)
    same = out.resolve() == source.resolve()
    if not same and out.exists():
        try:
            same = os.path.samefile(out, source)
        except OSError:
            same = False
    if same:
        raise ConfigError(f"{out} is the bundle being endorsed; endorse never changes it",
                          hint="name a new file with -o")
    if out.exists() and not request.force:
        raise ConfigError(f"{out} already exists", hint="name a new file with -o, or pass --force to replace it")


def _refuse_by_names(request: EndorseRequest, key: PublicKeyFile, names: set[str], layout: Layout) -> str:
    """The new member's name, or what the claim and the archive's names alone refuse (said before any file is
    checked: a bundle of gigabytes on a stick takes minutes).

    Raises:
        ConfigError: unknown claim, a second endorsement by the key, or too many.
    """
    if request.claim not in CLAIMS:
        raise ConfigError(f"unknown claim {request.claim!r}", hint="one of: " + ", ".join(CLAIMS))
    member = endorsement_name(key.key_id, layout)
    if member in names:
        raise ConfigError(f"the bundle already carries an endorsement by key {key_id_hex(key.key_id)}",
                          hint="a key endorses a bundle once; if mirror verify calls that one INVALID (someone "
                               "else put it there), --drop-unknown leaves it out and endorses")
    if sum(1 for n in names if is_endorsement(n, layout)) >= MAX_ENDORSEMENTS:
        raise ConfigError(f"the bundle already carries {MAX_ENDORSEMENTS} endorsements, as many as a bundle may",
                          hint="--drop-unknown leaves out those by keys not in your keyring, and invalid ones")
    return member


def _refuse(request: EndorseRequest, key: PublicKeyFile, names: set[str], layout: Layout,
            author: KeyRecord | None, author_is_key: bool) -> str:
    """The new member's name, or the reason this endorsement must not be made.

    Raises:
        ConfigError: unknown claim, the author's own key, a second endorsement by the key, too many, or
            knows-author for an author the endorser has not checked (not in the keyring, or only trusted on
            first use).
    """
    if author_is_key:
        raise ConfigError("this key signed the bundle as its author; an author cannot endorse their own bundle",
                          hint="endorse with another person's key")
    member = _refuse_by_names(request, key, names, layout)
    if request.claim == "knows-author" and author is None:
        raise ConfigError("you claim to know the author, but the author's key is not in your keyring",
                          hint="compare the fingerprint with the author, import the key with `mirror keys import "
                               "BUNDLE --name NAME --fingerprint '...'`, then endorse")
    if request.claim == "knows-author" and author is not None and not author.compared:
        raise ConfigError(f"you claim to know the author, but you trusted their key {author.name} on first use and "
                          "never compared it",
                          hint=f"compare the fingerprint with the author, import the key again with `mirror keys "
                               f"import BUNDLE --name {author.name} --fingerprint '...'`, then endorse")
    return member


def endorse_bundle(request: EndorseRequest, endorser: PublicKeyFile, unlock: Callable[[], SecretKey],
                   keys: Keys) -> Endorsed:
    """Write `request.out`: the bundle with every block copied as it is, plus an endorsement by `endorser`.

    `unlock` gives the endorser's secret key; it is called (a passphrase asked) only once every check passed.
    With `request.drop_unknown`, endorsements the endorser's keyring cannot check (unknown keys) or finds
    invalid are left out; a block that holds one of them besides other members is rewritten without it.

    Raises:
        ConfigError: a refusal (see `_refuse`), or the output is the source or exists.
        VerificationError: the bundle (or the copy made from it) does not verify; nothing is written.
        OSError: a file cannot be read or written.
    """
    _check_output(request)
    trusted = snapshot(keys)
    volumes = volume_set(request.source)
    if volumes is not None and len(volumes) > 1:  # X.7z.001 and more: one bundle only once joined (one alone is it)
        refusal = whole_refusal(request.source)
        if refusal is not None:
            raise refusal
    with open_regular(request.source) as src:
        try:
            archive = read_archive(src, request.limits)
        except TruncatedArchive as exc:  # X.001 beside X.002: volumes named by another tool
            exc.hint = exc.hint or volume_hint(request.source)
            raise
        files, layout = check_container(archive)
        if part_member(layout) in {m.name for m in files}:  # a part (mirror split) is no bundle to pass on
            refusal = part_refusal(request.source, "join first: mirror join PART... -o WHOLE.7z, then endorse WHOLE.7z")
            if refusal is not None:
                raise refusal
        names = {m.name for m in files}
        # with --drop-unknown, even an endorsement under the endorser's own name may go (one planted, over other
        # bytes): whether it does is known after the check, which refuses a valid one then
        _refuse_by_names(request, endorser, {n for n in names if not is_endorsement(n, layout)}
                         if request.drop_unknown else names, layout)
        # Every file is checked, by verify's own code and within its bounds (the signed files decoded before their
        # signature is checked count against them: read here without, a 476 KB file declaring 750 MiB of them took
        # 1.3 GB of memory), and before a passphrase is asked.
        checked = verify_open(src, trusted, request.limits, AuthorTrusted(), archive=archive)
        signed = checked.signed
        author = trusted.holds(signed.public, "author")
        sums = signed.control[SUMS_NAME]
        comment = endorsement_comment(signed.meta.bundle_id, signed.meta.version, request.claim)
        dropped = frozenset(e.name for e in checked.endorsements if e.status != "trusted") \
            if request.drop_unknown else frozenset()
        member = _refuse(request, endorser, names - dropped, layout, author, endorser == signed.public)
        key = unlock()
        if key.public != endorser:
            raise ConfigError("the secret key does not match the endorser's public key")
        note = key.sign(sums, comment).to_bytes()
        with atomic_output(request.out, force=request.force) as tmp:
            with ArchiveWriter.create(tmp) as writer:
                _copy_blocks(writer, src, archive, dropped)
                writer.add_block([(member, note)], compress=False)
                writer.copy_empty(archive)
            verified = _check_copy(tmp, trusted, request.limits, sums, (names - dropped) | {member})
    return Endorsed(_moved(verified, request.out), member, author is not None, tuple(sorted(dropped)))


def _copy_blocks(writer: ArchiveWriter, src: BinaryIO, archive: Archive, dropped: frozenset[str]) -> None:
    """Copy every block as packed bytes, except: a block of dropped members only is left out, and a block that
    mixes them with members to keep (a 7-Zip repack, one solid block) is decoded and written anew without them,
    when it is small enough (at most MAX_REWRITE bytes); the kept members are byte for byte the same.

    Raises:
        ContentError: a block cannot be copied (a member without a CRC, the file shrank), or a block to rewrite
            is too large.
        ArchiveError: a block to rewrite does not decode.
    """
    by_folder = members_by_folder(archive)  # one walk of the members, not one per block (2,000 blocks: 38 s)
    for index, folder in enumerate(archive.folders):
        inside = [archive.members.name(i) for i in by_folder.get(index, [])]
        gone = [n for n in inside if n in dropped]
        if gone and len(gone) == len(inside):
            continue
        if not gone:
            try:
                writer.copy_folders(src, archive, [index], by_folder)
            except ValueError as exc:  # a member stored without a CRC, or the file shrank meanwhile
                raise ContentError(f"the bundle cannot be copied as it is: {exc}",
                                   hint="repack it with 7-Zip (7z a) and endorse the repack") from None
            continue
        if folder.unpack_size > MAX_REWRITE:
            raise ContentError(f"the endorsements to drop share a block of {folder.unpack_size:,} bytes with the "
                               "bundle's files, too large to rewrite here",
                               hint="extract it with 7-Zip, delete the endorsements you do not want, repack it "
                                    "(7z a), then endorse the repack")
        kept = []
        for member, chunks in iter_block(src, archive, index):
            data = b"".join(chunks)  # every member is read through, in order, so that the next one decodes
            if member.name not in dropped:
                kept.append((member.name, data))
        writer.add_block(kept)


def _check_copy(tmp: Path, keys: Keys, limits: Limits, sums: bytes, members: set[str]) -> VerifiedBundle:
    """Verify the endorsed copy fully, as a receiver will; it must carry exactly what was signed.

    Raises:
        VerificationError: it does not verify, or its SHA256SUMS or members are not the source's.
    """
    verified = verify_bundle(tmp, keys, limits)
    if hashlib.sha256(verified.control[SUMS_NAME]).digest() != hashlib.sha256(sums).digest():
        raise SignatureError("the bundle changed while it was being endorsed", hint="copy it to local storage first")
    if set(verified.members) != members:
        raise ContentError("the bundle changed while it was being endorsed", hint="copy it to local storage first")
    return verified


def _moved(verified: VerifiedBundle, out: Path) -> VerifiedBundle:
    """The verified result, with the path it now has."""
    return replace(verified, path=out)
