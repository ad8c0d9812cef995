"""Check the endorsements a bundle carries: each is parsed strictly, then found trusted, unknown or invalid.

Example::

    found = check_endorsements(raw_by_name, sums_bytes, meta, author, keys)
    [e.status for e in found]            # ["trusted", "unknown", "invalid"]
    evidence = Evidence(author, tuple(e.evidence for e in found if e.evidence))

An endorsement that does not parse as a minisign signature, or whose name is not its signer's key id,
makes the whole bundle fail (exit 3): nothing unparsed is ever accepted. One that parses is judged:
- trusted: its key is in the reader's keyring, the signature over SHA256SUMS and the global signature
  check out, and the trusted comment endorses this bundle's id and version with a known claim;
- unknown: its key is not in the keyring, so nothing about it can be checked (its claim is not shown);
- invalid: its key is in the keyring but a signature or the comment does not check out, or it is the
  author's own key. It is named and ignored: it never counts for the policy and is not extracted.
The verifier only collects this; trust/policy.py decides what it is worth.
"""

from __future__ import annotations

from typing import Literal

from mirror.errors import SignatureError
from mirror.formats.endorsement import claim_of, endorsement_key_id
from mirror.formats.manifest import BundleMeta, Layout
from mirror.formats.minisign import Prehashed, PublicKeyFile, Signature, key_id_hex
from mirror.record import record
from mirror.trust.keys import check_signature
from mirror.trust.keyset import TrustedKeys
from mirror.trust.policy import Endorsement

Status = Literal["trusted", "unknown", "invalid"]


@record
class EndorsementCheck:
    """What the verifier found about one endorsement file."""

    name: str  # the member name, .mirror/endorsements/<KEYID>.minisig (endorsements/... in format 1)
    key_id: str
    status: Status
    signer_name: str | None = None  # the endorser's name in the keyring
    claim: str | None = None  # only for trusted ones: an unknown key's comment is not authenticated
    reason: str = ""  # why it is invalid
    evidence: Endorsement | None = None  # what the policy may count (trusted ones only)
    compared: bool = True  # False: the endorser's key was trusted on first use, so the policy does not count it


def _parse(name: str, raw: bytes, layout: Layout) -> Signature:
    """The signature in an endorsement file, whose name must be its key id.

    Raises:
        SignatureError: not a minisign signature, or named for another key.
    """
    try:
        sig = Signature.from_bytes(raw)
    except SignatureError as exc:
        raise SignatureError(f"{name} is not a minisign signature: {exc}", hint=BROKEN_ENDORSEMENT_HINT) from None
    if endorsement_key_id(name, layout) != key_id_hex(sig.key_id):
        raise SignatureError(f"{name} is signed by key {key_id_hex(sig.key_id)}, not the key its name says",
                             hint=BROKEN_ENDORSEMENT_HINT)
    return sig


# An endorsement is added on the way, by whoever passed the bundle on: never accepted unparsed, and what to do.
BROKEN_ENDORSEMENT_HINT = ("endorsements are added on the way, not by the author, and this bundle's are not as "
                           "mirror writes them: ask for the author's own copy, or a copy without them")


def _judge(name: str, sig: Signature, sums: bytes | Prehashed, meta: BundleMeta, author: PublicKeyFile,
           keys: TrustedKeys) -> EndorsementCheck:
    key_id = key_id_hex(sig.key_id)
    record = keys.find(sig.key_id, "author")
    if sig.key_id == author.key_id:  # whether the reader holds that key or not: never one more person vouching
        return EndorsementCheck(name, key_id, "invalid", record.name if record is not None else None,
                                reason="made with the author's own key")
    if record is None:
        return EndorsementCheck(name, key_id, "unknown")
    if record.public == author:
        return EndorsementCheck(name, key_id, "invalid", record.name, reason="made with the author's own key")
    try:
        check_signature(record.public, sig, sums)
    except SignatureError as exc:
        return EndorsementCheck(name, key_id, "invalid", record.name, reason=str(exc))
    claim = claim_of(sig.trusted_comment, meta.bundle_id, meta.version)
    if claim is None:
        return EndorsementCheck(name, key_id, "invalid", record.name,
                                reason="its trusted comment does not endorse this bundle and version")
    return EndorsementCheck(name, key_id, "trusted", record.name, claim, evidence=Endorsement(record.public, claim),
                            compared=record.compared)


def check_endorsements(files: dict[str, bytes], sums: bytes | Prehashed, meta: BundleMeta, author: PublicKeyFile,
                       keys: TrustedKeys, layout: Layout) -> tuple[EndorsementCheck, ...]:
    """Parse every endorsement strictly, then judge each against the reader's keyring; sorted by name.

    Raises:
        SignatureError: an endorsement that is not a minisign signature, or is named for another key.
    """
    parsed = {name: _parse(name, raw, layout) for name, raw in sorted(files.items())}
    return tuple(_judge(name, sig, sums, meta, author, keys) for name, sig in parsed.items())
