"""Endorsements a bundle carries: named by verify (text and --json), judged, extracted only if they check.

These tests forge endorsements by hand (a minisign signature over the same SHA256SUMS bytes, trusted comment
`bundle:<id>\tversion:<n>\trole:endorser\tclaim:<c>`), including ones `mirror endorse` would never write;
test_endorse.py covers the command itself.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import invoke
from forge import Entry, forge
from helpers import ENDORSEMENTS, META, SUMS, require_tool, run, sevenzip_extract
from mirror.bundle.verify import verify_bundle
from mirror.formats.endorsement import endorsement_comment, endorsement_name
from mirror.trust.keyring import Keyring
from mirror.trust.keys import SecretKey
from mirror.trust.keyset import TrustedKeys
from mirror.trust.policy import AnyOf, AuthorTrusted, EndorsedBy


def _members(bundle: Path, tmp: Path) -> dict[str, bytes]:
    folder = sevenzip_extract(bundle, tmp / "members")
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _endorse(members: dict[str, bytes], key: SecretKey, claim: str = "knows-author",
             comment: str | None = None, data: bytes | None = None) -> Entry:
    """An endorsement by `key`, over SHA256SUMS (or `data`), with the claim (or a whole other comment)."""
    meta = json.loads(members[META])
    line = comment if comment is not None else endorsement_comment(meta["id"], meta["version"], claim)
    signature = key.sign(members[SUMS] if data is None else data, line)
    return Entry(endorsement_name(key.public.key_id), signature.to_bytes())


@pytest.fixture
def endorsed(bundle: Path, keyring: Keyring, tmp_path: Path) -> Path:
    """alice's bundle endorsed by bob (trusted, knows-author), by a stranger, and by carol with a bad signature."""
    keyring.create("bob", None)
    keyring.create("carol", None)
    members = _members(bundle, tmp_path)
    notes = [_endorse(members, keyring.secret("bob", None)),
             _endorse(members, SecretKey.generate(), "witnessed"),
             _endorse(members, keyring.secret("carol", None), data=b"other bytes")]
    return forge(tmp_path / "endorsed.7z", [*(Entry(n, d) for n, d in members.items()), *notes])


def test_verify_names_each_endorsement(endorsed: Path, keyring: Keyring, runner: CliRunner) -> None:
    """Trusted by name and claim, unknown counted, invalid named and ignored; the verdict stays the author's."""
    bob, carol = keyring.get("bob").key_id_hex, keyring.get("carol").key_id_hex
    code, out, err = invoke(runner, "verify", endorsed)
    assert code == 0, (out, err)
    assert f"endorsed by  bob (key {bob}): knows-author" in out
    stranger = next(e.key_id for e in verify_bundle(endorsed, keyring).endorsements if e.status == "unknown")
    assert "endorsements 1 from keys not in your keyring (not checked; --json lists their key ids)" in out
    assert stranger not in out  # counted in text; listed in --json
    assert f"by carol (key {carol}) is INVALID and ignored: signature does not match" in out

    code, out, _ = invoke(runner, "verify", "--json", endorsed)
    found = {e["endorser"] or "stranger": e for e in json.loads(out)["endorsements"]}
    assert found["stranger"]["key_id"] == stranger
    assert code == 0 and set(found) == {"bob", "carol", "stranger"}
    assert (found["bob"]["status"], found["bob"]["claim"], found["bob"]["key_id"]) == ("trusted", "knows-author", bob)
    assert (found["stranger"]["status"], found["stranger"]["claim"]) == ("unknown", None)  # unchecked: not shown
    assert found["carol"]["status"] == "invalid" and "does not match" in found["carol"]["reason"]


def test_extract_writes_only_endorsements_that_parse_and_are_not_invalid(endorsed: Path, keyring: Keyring,
                                                                          tmp_path: Path, runner: CliRunner) -> None:
    """bob's and the stranger's endorsements are extracted; carol's invalid one is not."""
    dest = tmp_path / "out"
    code, out, err = invoke(runner, "extract", endorsed, dest)
    assert code == 0, (out, err)
    written = {p.name for p in (dest / ENDORSEMENTS).iterdir()}
    assert f"{keyring.get('bob').key_id_hex}.minisig" in written and len(written) == 2
    assert f"{keyring.get('carol').key_id_hex}.minisig" not in written
    assert "extracted 4 accounts and photos into" in out  # as verify counts them: 2 accounts, 2 photos
    assert f"to read them, open {dest / 'index.html'} in a web browser" in out


def test_stock_minisign_verifies_an_endorsement(endorsed: Path, keyring: Keyring, tmp_path: Path) -> None:
    """An endorsement is a plain minisign signature over SHA256SUMS: stock minisign checks it."""
    minisign = require_tool("minisign")
    folder = sevenzip_extract(endorsed, tmp_path / "by-hand")
    bob = keyring.get("bob")
    (tmp_path / "bob.pub").write_text(bob.public.to_text())
    done = run(minisign, "-Vm", folder / SUMS, "-x", folder / ENDORSEMENTS / f"{bob.key_id_hex}.minisig",
               "-p", tmp_path / "bob.pub")
    assert "role:endorser\tclaim:knows-author" in done.stdout


@pytest.mark.parametrize(("comment", "reason"), [
    ("bundle:0123456789abcdef\tversion:1\trole:endorser\tclaim:knows-author", "does not endorse this bundle"),
    ("bundle:{id}\tversion:2\trole:endorser\tclaim:knows-author", "does not endorse this bundle"),
    ("bundle:{id}\tversion:1\trole:author", "does not endorse this bundle"),
    ("bundle:{id}\tversion:1\trole:endorser\tclaim:trust-me", "does not endorse this bundle"),
], ids=["other bundle", "other version", "author role", "unknown claim"])
def test_endorsement_of_something_else_is_invalid(comment: str, reason: str, bundle: Path, keyring: Keyring,
                                                  tmp_path: Path) -> None:
    """A valid signature whose trusted comment endorses another bundle, version or claim is named invalid."""
    keyring.create("bob", None)
    members = _members(bundle, tmp_path)
    bundle_id = json.loads(members[META])["id"]
    note = _endorse(members, keyring.secret("bob", None), comment=comment.replace("{id}", bundle_id))
    result = verify_bundle(forge(tmp_path / "e.7z", [*(Entry(n, d) for n, d in members.items()), note]), keyring)
    assert [(e.status, e.signer_name) for e in result.endorsements] == [("invalid", "bob")]
    assert reason in result.endorsements[0].reason and result.trusted


def test_the_authors_own_endorsement_is_ignored(bundle: Path, keyring: Keyring, tmp_path: Path) -> None:
    """The author cannot vouch for their own bundle."""
    members = _members(bundle, tmp_path)
    note = _endorse(members, keyring.secret("alice", None))
    carried = forge(tmp_path / "e.7z", [*(Entry(n, d) for n, d in members.items()), note])
    result = verify_bundle(carried, keyring)
    assert [(e.status, e.reason) for e in result.endorsements] == [("invalid", "made with the author's own key")]
    # nor when the reader does not hold the author's key: it was 'unknown', one more key vouching in the counts
    stranger = Keyring(tmp_path / "reader")
    stranger.create("bob", None)
    result = verify_bundle(carried, stranger)
    assert [(e.status, e.reason) for e in result.endorsements] == [("invalid", "made with the author's own key")]


def test_policy_counts_only_trusted_endorsements(endorsed: Path, keyring: Keyring) -> None:
    """With alice unknown, bob's knows-author endorsement satisfies "one endorser"; carol's invalid one never counts."""
    readers_keys = TrustedKeys(tuple(r for r in keyring.snapshot() if r.name != "alice"))
    one = AnyOf(AuthorTrusted(), EndorsedBy(1, "knows-author"))
    two = AnyOf(AuthorTrusted(), EndorsedBy(2, "knows-author"))
    assert verify_bundle(endorsed, readers_keys, policy=one).trusted
    assert not verify_bundle(endorsed, readers_keys, policy=two).trusted
    assert not verify_bundle(endorsed, readers_keys).trusted  # the default policy asks for the author


def test_an_endorsement_by_the_authors_own_key_is_named_by_its_key(bundle: Path, keyring: Keyring, tmp_path: Path,
                                                                   runner: CliRunner,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader without the author's key read "endorsement by None (key ...)" (helper-158): an endorser the reader
    cannot name is named by its key."""
    members = _members(bundle, tmp_path)
    alice = keyring.secret("alice", None)
    own = forge(tmp_path / "own.7z", [*(Entry(n, d) for n, d in members.items()), _endorse(members, alice)])
    monkeypatch.setenv("MIRROR_KEYS", str(tmp_path / "empty-keys"))
    code, out, err = invoke(runner, "verify", own)
    assert code == 5, (out, err)
    assert f"endorsement  by key {keyring.get('alice').key_id_hex} is INVALID" in out, out
    assert "None" not in out
