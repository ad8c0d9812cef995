"""The reader's index rules (trust/rollback.py) as a table, and index reading against in-memory mirrors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mirror.errors import Failure, ManifestError, SignatureError, TransferError
from mirror.fetch.choose import NoIndex, choose_index
from mirror.fetch.report import Fate, MirrorReport
from mirror.fetch.state import load_seen, save_seen
from mirror.formats.index import Index
from mirror.formats.layout import INDEX_NAME, SIG_SUFFIX
from mirror.trust.index import UnknownPublisher, check_index, read_signed_index
from mirror.trust.keyring import Keyring
from mirror.trust.keys import SecretKey
from mirror.trust.rollback import IndexChooser, Outcome, Seen, judge_index
from simulator import SimMirror, SimPublisher, sha256

NOW = datetime(2022, 1, 10, 12, 0, tzinfo=UTC)
KEY = SecretKey.generate()
PUB = SimPublisher(KEY, NOW)


def _index(version: int, created: timedelta = timedelta(0), days: float = 14) -> Index:
    return PUB.index(version, NOW + created, days)


# One row per rule: (what was seen before, the candidate, --strict, expected outcome, words in the detail).
RULES = [
    pytest.param(None, _index(1), False, Outcome.FRESH, "index v1", id="first index ever: fresh"),
    pytest.param(Seen(5, "x"), _index(6), False, Outcome.FRESH, "index v6", id="newer version: fresh"),
    pytest.param(Seen(5, "x"), _index(4), False, Outcome.STALE, "older than version 5", id="1 rollback: stale"),
    pytest.param(Seen(5, sha256(_index(5).to_bytes())), _index(5), False, Outcome.FRESH, "index v5",
                 id="same version, same bytes: fresh"),
    pytest.param(Seen(5, "other"), _index(5), False, Outcome.ATTACK, "other bytes", id="2 same version other bytes"),
    pytest.param(None, _index(1, created=timedelta(days=-20)), False, Outcome.EXPIRED, "expired 6.0 days ago",
                 id="4 expired: kept as a fallback"),
    pytest.param(None, _index(1, created=timedelta(days=-20)), True, Outcome.STALE, "--strict",
                 id="4 expired with --strict: stale"),
    pytest.param(Seen(5, "x"), _index(3, created=timedelta(days=-20)), False, Outcome.STALE, "older",
                 id="rollback wins over expiry"),
]


@pytest.mark.parametrize(("seen", "index", "strict", "outcome", "words"), RULES)
def test_rule(seen: Seen | None, index: Index, strict: bool, outcome: Outcome, words: str) -> None:
    """Each rule of trust/rollback.py gives its outcome on one index, without I/O."""
    judgement = judge_index(seen, index, sha256(index.to_bytes()), NOW, strict)
    assert judgement.outcome is outcome and words in judgement.detail


def test_rule_3_future_index_is_accepted_with_a_warning() -> None:
    """An index dated more than a day ahead is usable, but the reader hears about the clock."""
    judgement = judge_index(None, _index(1, created=timedelta(days=3)), "d", NOW, False)
    assert judgement.outcome is Outcome.FRESH and "clock" in judgement.warnings[0]
    assert judge_index(None, _index(1, created=timedelta(hours=12)), "d", NOW, False).warnings == ()


def test_rule_5_first_fresh_index_in_mirror_order_wins() -> None:
    """A fresh index ends the search; a later, higher version is not asked for."""
    chooser = IndexChooser({}, NOW, strict=False)
    chooser.offer("a", _index(2), sha256(_index(2).to_bytes()))
    assert chooser.done
    chosen = chooser.choice()
    assert chosen is not None and (chosen.label, chosen.index.version, chosen.expired) == ("a", 2, False)
    assert chooser.new_state() == (PUB.key_id, Seen(2, sha256(_index(2).to_bytes()), ("https://mirror.invalid/m/",)))


def test_rule_5_newest_expired_index_when_none_is_fresh() -> None:
    """With only expired indexes, the highest version is used, and the choice says it expired."""
    chooser = IndexChooser({}, NOW, strict=False)
    old, older = _index(7, created=timedelta(days=-30)), _index(4, created=timedelta(days=-40))
    chooser.offer("a", older, sha256(older.to_bytes()))
    chooser.offer("b", old, sha256(old.to_bytes()))
    chosen = chooser.choice()
    assert not chooser.done and chosen is not None and (chosen.label, chosen.index.version, chosen.expired) == (
        "b", 7, True)


def test_rule_2_mix_and_match_across_mirrors_is_an_attack() -> None:
    """Two mirrors serving the same signed version with different bytes: the second is an attack."""
    chooser = IndexChooser({}, NOW, strict=False)
    first, second = _index(3, created=timedelta(days=-30)), _index(3, created=timedelta(days=-29))
    assert chooser.offer("a", first, sha256(first.to_bytes())).outcome is Outcome.EXPIRED
    judgement = chooser.offer("b", second, sha256(second.to_bytes()))
    assert judgement.outcome is Outcome.ATTACK and "another mirror" in judgement.detail
    chosen = chooser.choice()
    assert chosen is not None and chosen.label == "a"


def test_nothing_usable_gives_no_choice_and_no_new_state() -> None:
    """Only stale answers: no choice, and the reader's state stays as it was."""
    chooser = IndexChooser({PUB.key_id: Seen(9, "x")}, NOW, strict=False)
    chooser.offer("a", _index(3), sha256(_index(3).to_bytes()))
    assert chooser.choice() is None and chooser.new_state() is None


def _check(raw: bytes, sig: bytes) -> Index:
    return check_index(raw, sig, KEY.public)


def test_read_signed_index_from_an_honest_mirror() -> None:
    """The pair verifies at once: one read of each file."""
    mirror = SimMirror("a")
    raw = PUB.publish(mirror, 2)
    assert read_signed_index(mirror, _check) == (Index.from_bytes(raw), raw)
    assert mirror.reads == [INDEX_NAME, INDEX_NAME + SIG_SUFFIX]


def test_read_signed_index_between_two_renames_falls_back_to_the_immutable_copy() -> None:
    """index.json already at v3, its signature still v2: the pinned index/3.json pair is used."""
    mirror = SimMirror("a")
    PUB.publish(mirror, 2)
    old_sig = mirror.files[INDEX_NAME + SIG_SUFFIX]
    raw3 = PUB.publish(mirror, 3)
    mirror.files[INDEX_NAME + SIG_SUFFIX] = old_sig
    index, raw = read_signed_index(mirror, _check)
    assert (index.version, raw) == (3, raw3) and "index/3.json" in mirror.reads


def test_read_signed_index_retries_a_pair_that_was_being_renamed() -> None:
    """The first read catches the old signature; the second read of the pair matches."""
    mirror = SimMirror("a")
    PUB.publish(mirror, 2)
    old_sig = mirror.files[INDEX_NAME + SIG_SUFFIX]
    PUB.publish(mirror, 3)
    mirror.swap_after_first_read[INDEX_NAME + SIG_SUFFIX] = mirror.files[INDEX_NAME + SIG_SUFFIX]
    mirror.files[INDEX_NAME + SIG_SUFFIX] = old_sig
    assert read_signed_index(mirror, _check)[0].version == 3


def test_read_signed_index_refuses_a_tampered_index_with_the_first_problem() -> None:
    """Changed bytes with no valid copy anywhere: SignatureError, naming the signature."""
    mirror = SimMirror("a")
    PUB.publish(mirror, 2)
    mirror.files[INDEX_NAME] = mirror.files[INDEX_NAME].replace(b'"version": 2', b'"version": 9')
    mirror.files["index/2.json"] = mirror.files[INDEX_NAME]
    with pytest.raises(SignatureError, match="does not match"):
        read_signed_index(mirror, _check)


def test_unknown_publisher_is_not_retried() -> None:
    """An index by a key the reader does not hold is refused at once, as untrusted rather than tampered."""
    mirror = SimMirror("a")
    SimPublisher(SecretKey.generate(), NOW).publish(mirror, 1)

    def check(raw: bytes, sig: bytes) -> Index:
        raise UnknownPublisher(b"\x01" * 8)

    with pytest.raises(UnknownPublisher):
        read_signed_index(mirror, check)
    assert mirror.reads == [INDEX_NAME, INDEX_NAME + SIG_SUFFIX]


def test_signed_but_malformed_index_is_a_manifest_error() -> None:
    """Signed bytes that are not an index are refused after the signature checked out."""
    mirror = SimMirror("a")
    sig = KEY.sign(b"{}", "index:x\tversion:1\texpires:y\trole:publisher").to_bytes()
    mirror.files.update({INDEX_NAME: b"{}", INDEX_NAME + SIG_SUFFIX: sig})
    with pytest.raises(ManifestError):
        read_signed_index(mirror, _check)


@pytest.fixture
def reader_keys(tmp_path: Path) -> Keyring:
    """A reader's keyring that trusts PUB as a publisher."""
    ring = Keyring(tmp_path / "reader-keys")
    ring.import_public("press", KEY.public, ("publisher",), "in-person")
    return ring


def test_choose_index_reports_each_mirror_and_remembers_the_choice(reader_keys: Keyring) -> None:
    """Dead, tampered, stale and good mirrors, end to end through choose_index, without HTTP."""
    save_seen(PUB.key_id, Seen(2, "x"))
    dead, tampered, stale, good = SimMirror("dead"), SimMirror("tampered"), SimMirror("stale"), SimMirror("good")
    dead.failures[INDEX_NAME] = TransferError("dead", "cannot connect", Failure.UNREACHABLE)
    PUB.publish(tampered, 5)
    tampered.files[INDEX_NAME] = tampered.files["index/5.json"] = b"x" + tampered.files[INDEX_NAME]
    PUB.publish(stale, 1)
    raw = PUB.publish(good, 4)
    reports: dict[str, MirrorReport] = {}
    chosen = choose_index([dead, tampered, stale, good], reader_keys.snapshot(), NOW, False, reports, lambda _: None)
    assert chosen.index.version == 4 and chosen.label == "good"
    assert [reports[m].fate for m in ("dead", "tampered", "stale", "good")] == [
        Fate.UNREACHABLE, Fate.TAMPERED, Fate.STALE, Fate.OK]
    assert load_seen(PUB.key_id) == Seen(4, sha256(raw), ("https://mirror.invalid/m/",))


def test_choose_index_with_only_tampered_answers_means_do_not_trust(reader_keys: Keyring) -> None:
    """Every mirror that answered served tampered bytes: NoIndex with exit 3, and no state is written."""
    mirror = SimMirror("bad")
    PUB.publish(mirror, 1)
    mirror.files[INDEX_NAME] = mirror.files["index/1.json"] = mirror.files[INDEX_NAME] + b" "
    with pytest.raises(NoIndex) as caught:
        choose_index([mirror], reader_keys.snapshot(), NOW, False, {}, lambda _: None)
    assert caught.value.exit_code == 3 and load_seen(PUB.key_id) is None
