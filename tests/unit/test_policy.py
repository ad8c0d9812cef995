"""Trust policies (trust/policy.py) judged on values: a keyring snapshot and what verified."""

from __future__ import annotations

import pytest

from mirror.formats.minisign import PublicKeyFile
from mirror.trust.keys import SecretKey
from mirror.trust.keyset import Checked, KeyRecord, Role, TrustedKeys
from mirror.trust.policy import AllOf, AnyOf, AuthorTrusted, EndorsedBy, Endorsement, Evidence, SignedBy

AUTHOR, BOB, CAROL, DAVE = (SecretKey.generate().public for _ in range(4))


def _record(name: str, public: PublicKeyFile, roles: tuple[Role, ...] = ("author",),
            checked: Checked = "in-person") -> KeyRecord:
    return KeyRecord(name, public, roles, checked, "2022-01-05T00:00:00Z", False)


def _keys(*records: KeyRecord) -> TrustedKeys:
    return TrustedKeys(records)


def _endorsed(*keys: PublicKeyFile, claim: str = "knows-author") -> Evidence:
    return Evidence(AUTHOR, tuple(Endorsement(k, claim) for k in keys))


def test_author_in_keyring_is_trusted_and_named() -> None:
    """The default policy trusts a bundle whose author key is in the keyring as an author."""
    verdict = AuthorTrusted().judge(Evidence(AUTHOR), _keys(_record("alice", AUTHOR)))
    assert verdict.trusted and verdict.reason == "signed by alice" and verdict.vouchers[0].name == "alice"


@pytest.mark.parametrize("keys", [
    pytest.param(_keys(), id="empty keyring"),
    pytest.param(_keys(_record("alice", AUTHOR, ("publisher",))), id="same key, publisher role only"),
    pytest.param(_keys(_record("mallory", PublicKeyFile(AUTHOR.key_id, BOB.public_key))), id="same key id, other key"),
])
def test_author_not_trusted(keys: TrustedKeys) -> None:
    """No author record with exactly this key: not trusted, and the reason names the key id."""
    verdict = AuthorTrusted().judge(Evidence(AUTHOR), keys)
    assert not verdict.trusted and "not in your keyring as author" in verdict.reason


def test_publisher_role_is_its_own_policy() -> None:
    """SignedBy("publisher") wants the publisher role, not the author role."""
    keys = _keys(_record("press", AUTHOR, ("publisher",)))
    assert SignedBy("publisher").judge(Evidence(AUTHOR), keys).trusted
    assert not SignedBy("author").judge(Evidence(AUTHOR), keys).trusted


TRUSTED = _keys(_record("bob", BOB), _record("carol", CAROL))


@pytest.mark.parametrize(("evidence", "count", "trusted"), [
    pytest.param(_endorsed(BOB, CAROL), 2, True, id="two trusted endorsers, K=2"),
    pytest.param(_endorsed(BOB), 2, False, id="one trusted endorser, K=2"),
    pytest.param(_endorsed(BOB, BOB), 2, False, id="the same key twice counts once"),
    pytest.param(_endorsed(BOB, DAVE), 2, False, id="an unknown endorser does not count"),
    pytest.param(_endorsed(BOB, CAROL, claim="relayed"), 1, False, id="relayed is not knows-author"),
    pytest.param(Evidence(BOB, (Endorsement(BOB, "knows-author"),)), 1, False, id="the author vouching for itself"),
])
def test_endorsed_by(evidence: Evidence, count: int, trusted: bool) -> None:
    """K distinct trusted keys with the claim make a bundle trusted; nothing else counts."""
    verdict = EndorsedBy(count).judge(evidence, TRUSTED)
    assert verdict.trusted is trusted
    assert ("endorsed as knows-author" in verdict.reason) if trusted else ("required" in verdict.reason)


@pytest.mark.parametrize("checked", ["first-use", "unchecked"])
def test_an_endorser_trusted_on_first_use_does_not_count(checked: Checked) -> None:
    """A key never compared with its owner vouches for nobody; the reason names it as skipped."""
    keys = _keys(_record("bob", BOB), _record("erin", CAROL, checked=checked))
    verdict = EndorsedBy(2).judge(_endorsed(BOB, CAROL), keys)
    assert not verdict.trusted and [r.name for r in verdict.vouchers] == ["bob"]
    assert "1 of 2 required" in verdict.reason
    assert "not counted, trusted only on first use (never compared): erin" in verdict.reason
    assert EndorsedBy(1).judge(_endorsed(BOB, CAROL), keys).reason == (
        "endorsed as knows-author by keys you trust: 1 (bob); not counted, trusted only on first use "
        "(never compared): erin")


@pytest.mark.parametrize("checked", ["own", "in-person", "qr", "phone", "fingerprint"])
def test_an_endorser_compared_any_way_counts(checked: Checked) -> None:
    """Every way of comparing a key (or holding it as one's own) makes its endorsement count."""
    keys = _keys(_record("bob", BOB, checked=checked))
    verdict = EndorsedBy(1).judge(_endorsed(BOB), keys)
    assert verdict.trusted and verdict.reason == "endorsed as knows-author by keys you trust: 1 (bob)"


def test_any_of_takes_the_first_trusting_policy() -> None:
    """Author trusted, or K endorsements: either suffices; the reason says which."""
    policy = AnyOf(AuthorTrusted(), EndorsedBy(2))
    assert policy.judge(_endorsed(BOB, CAROL), TRUSTED).reason.startswith("endorsed")
    assert policy.judge(Evidence(AUTHOR), _keys(_record("alice", AUTHOR))).reason == "signed by alice"
    refused = policy.judge(_endorsed(BOB), TRUSTED)
    assert not refused.trusted and "not in your keyring" in refused.reason and "required" in refused.reason


def test_all_of_needs_every_policy() -> None:
    """Author trusted and one endorsement: both are needed; the first refusal is the reason."""
    policy = AllOf(AuthorTrusted(), EndorsedBy(1))
    keys = _keys(_record("alice", AUTHOR), _record("bob", BOB))
    both = policy.judge(_endorsed(BOB), keys)
    assert both.trusted and [r.name for r in both.vouchers] == ["alice", "bob"]
    assert not policy.judge(Evidence(AUTHOR), keys).trusted
    assert not AllOf().judge(Evidence(AUTHOR), keys).trusted  # an empty policy trusts nothing
