"""Trust policies as values: who must have signed a bundle for the reader to trust it.

Example::

    evidence = Evidence(author=public)              # the key whose signature checked out
    verdict = AuthorTrusted().judge(evidence, keyring.snapshot())
    verdict.trusted, verdict.reason                 # True, "signed by alice"

    policy = AnyOf(AuthorTrusted(), EndorsedBy(2, "knows-author"))
    policy.judge(evidence, keys)                    # trusted if the author is, or two known people vouch
    reader_policy(2) == policy                      # what --require-endorsers 2 asks for

A policy never checks a signature: the verifier does that first and hands over only
what verified (the author's key, endorsements by key and claim). A policy decides,
from a snapshot of the reader's keyring, whether that is enough. Policies compose
(AnyOf, AllOf), as in sigstore-python's verify/policy.py, and do no I/O.
"""

from __future__ import annotations

from typing import Protocol

from mirror.formats.minisign import PublicKeyFile, key_id_hex
from mirror.record import record
from mirror.trust.keyset import KeyRecord, Role, TrustedKeys


@record
class Endorsement:
    """A re-sharer's signature over the same signed list, already verified, and what it claims."""

    key: PublicKeyFile
    claim: str


@record
class Evidence:
    """What verified cryptographically: the author's key, and any endorsements."""

    author: PublicKeyFile
    endorsements: tuple[Endorsement, ...] = ()


@record
class Verdict:
    """A policy's decision and the reason, in words for the reader."""

    trusted: bool
    reason: str
    vouchers: tuple[KeyRecord, ...] = ()  # the trusted keys the decision rests on


class Policy(Protocol):
    """Anything that can judge evidence against a snapshot of trusted keys."""

    def judge(self, evidence: Evidence, keys: TrustedKeys) -> Verdict:
        """Decide; never raises for untrusted evidence (that is a verdict, not an error)."""
        ...


@record
class SignedBy:
    """Trusted when the signer's exact key is in the keyring with `role`."""

    role: Role = "author"

    def judge(self, evidence: Evidence, keys: TrustedKeys) -> Verdict:
        """Look the author's key up by id and compare the key itself."""
        record = keys.holds(evidence.author, self.role)
        if record is None:
            return Verdict(False, f"signed by key {key_id_hex(evidence.author.key_id)}, "
                                  f"which is not in your keyring as {self.role}")
        return Verdict(True, f"signed by {record.name}", (record,))


def AuthorTrusted() -> SignedBy:
    """The default policy: the author's key is in the keyring as an author."""
    return SignedBy("author")


@record
class EndorsedBy:
    """Trusted when at least `count` distinct keys in the keyring endorse the bundle with `claim`."""

    count: int
    claim: str = "knows-author"

    def judge(self, evidence: Evidence, keys: TrustedKeys) -> Verdict:
        """Count distinct trusted endorsers making the claim; the author's own key never counts, nor a key that
        was trusted on first use and never compared with its owner (it could be anybody's)."""
        vouchers: dict[bytes, KeyRecord] = {}
        skipped: set[str] = set()
        for endorsement in evidence.endorsements:
            if endorsement.claim != self.claim or endorsement.key == evidence.author:
                continue
            record = keys.holds(endorsement.key, "author")
            if record is not None and record.compared:
                vouchers[record.public.key_id] = record
            elif record is not None:
                skipped.add(record.name)
        found = tuple(sorted(vouchers.values(), key=lambda r: r.name))
        names, count, claim, required = ", ".join(r.name for r in found), len(found), self.claim, self.count
        first_use = ", ".join(sorted(skipped))
        if count >= required and first_use:
            return Verdict(True, f"endorsed as {claim} by keys you trust: {count} ({names}); not counted, trusted "
                                 f"only on first use (never compared): {first_use}", found)
        if count >= required:
            return Verdict(True, f"endorsed as {claim} by keys you trust: {count} ({names})", found)
        if first_use:
            return Verdict(False, f"endorsements ({claim}) from keys you trust: {count} of {required} required; "
                                  f"not counted, trusted only on first use (never compared): {first_use}", found)
        return Verdict(False, f"endorsements ({claim}) from keys you trust: {count} of {required} required", found)


@record
class AnyOf:
    """Trusted when any of the policies trusts; the first that does gives the reason."""

    policies: tuple[Policy, ...]

    def __init__(self, *policies: Policy) -> None:
        object.__setattr__(self, "policies", policies)

    def judge(self, evidence: Evidence, keys: TrustedKeys) -> Verdict:
        """Ask each in order."""
        verdicts = [p.judge(evidence, keys) for p in self.policies]
        for verdict in verdicts:
            if verdict.trusted:
                return verdict
        return Verdict(False, "; ".join(v.reason for v in verdicts) or "no policy")


@record
class AllOf:
    """Trusted only when every policy trusts."""

    policies: tuple[Policy, ...]

    def __init__(self, *policies: Policy) -> None:
        object.__setattr__(self, "policies", policies)

    def judge(self, evidence: Evidence, keys: TrustedKeys) -> Verdict:
        """Ask each; the first refusal gives the reason."""
        verdicts = []
        for policy in self.policies:
            verdict = policy.judge(evidence, keys)
            if not verdict.trusted:
                return verdict
            verdicts.append(verdict)
        return Verdict(bool(verdicts), "; ".join(v.reason for v in verdicts) or "no policy",
                       tuple(r for v in verdicts for r in v.vouchers))


def reader_policy(require_endorsers: int = 0) -> Policy:
    """The reader's policy: the author is trusted, or (only when asked, K > 0) K trusted keys endorse the bundle
    with the claim knows-author (`--require-endorsers K`, `[trust] require_endorsers = K`)."""
    if require_endorsers <= 0:
        return AuthorTrusted()
    return AnyOf(AuthorTrusted(), EndorsedBy(require_endorsers, "knows-author"))
