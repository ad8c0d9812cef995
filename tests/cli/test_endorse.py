"""`mirror endorse` and the reader's policy: endorsements accumulate, copy every block as it is, and count only
when the reader asks (`--require-endorsers K`, `[trust] require_endorsers`)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import invoke
from helpers import AUTHOR, ENDORSEMENTS, META, SIG, SUMS, require_tool, run, sevenzip_extract, sevenzip_rebuild
from mirror.bundle.create import CreateRequest, create_bundle
from mirror.bundle.verify import verify_bundle
from mirror.sevenzip import read_archive
from mirror.sevenzip.model import Limits
from mirror.trust.keyring import Keyring
from mirror.trust.keys import SecretKey
from room import noise_jpeg

DATA = Path(__file__).resolve().parents[1] / "data"


def _endorse(runner: CliRunner, source: Path, key: str, claim: str, out: Path) -> Path:
    keys = out.parent / "keys"  # the endorsers' keyring (the `keyring` fixture's), whatever MIRROR_KEYS says
    code, output, err = invoke(runner, "endorse", source, "--key", key, "--claim", claim, "-o", out, "--keys", keys)
    assert code == 0, (output, err)
    return out


@pytest.fixture
def people(keyring: Keyring) -> Keyring:
    """bob, carol and dave have keys; alice is the author."""
    for name in ("bob", "carol", "dave"):
        keyring.create(name, None)
    return keyring


@pytest.fixture
def endorsed(bundle: Path, people: Keyring, tmp_path: Path, runner: CliRunner) -> Path:
    """alice's bundle endorsed by bob and carol (knows-author), then dave (relayed): three accumulate."""
    one = _endorse(runner, bundle, "bob", "knows-author", tmp_path / "one.7z")
    two = _endorse(runner, one, "carol", "knows-author", tmp_path / "two.7z")
    return _endorse(runner, two, "dave", "relayed", tmp_path / "three.7z")


@pytest.fixture
def reader(people: Keyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A reader who holds bob's and carol's keys, but not alice's."""
    folder = tmp_path / "reader-keys"
    ring = Keyring(folder)
    for name in ("bob", "carol"):
        ring.import_public(name, people.get(name).public, ("author",), "in-person")
    monkeypatch.setenv("MIRROR_KEYS", str(folder))
    return folder


def _members(bundle: Path, tmp: Path) -> dict[str, bytes]:
    folder = sevenzip_extract(bundle, tmp)
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _packed(bundle: Path) -> list[tuple[object, bytes, list[tuple[str, int | None, int | None]]]]:
    """Each block: its coders, its packed bytes, and its members (name, CRC, attributes)."""
    with bundle.open("rb") as fp:
        archive = read_archive(fp, Limits())
        blocks = []
        for index, folder in enumerate(archive.folders):
            fp.seek(folder.pack_offset)
            members = [(m.name, m.crc, m.attributes) for m in archive.members if m.folder == index]
            blocks.append((folder.chain, fp.read(folder.pack_size), members))
    return blocks


def test_endorsed_bundle_verifies_and_lists_each_endorser(endorsed: Path, people: Keyring,
                                                          runner: CliRunner) -> None:
    """With the author trusted: exit 0, and each endorser by name and claim."""
    code, out, _ = invoke(runner, "verify", endorsed)
    assert code == 0
    for name, claim in (("bob", "knows-author"), ("carol", "knows-author"), ("dave", "relayed")):
        assert f"endorsed by  {name} (key {people.get(name).key_id_hex}): {claim}" in out


def test_every_block_is_copied_byte_for_byte(bundle: Path, endorsed: Path, tmp_path: Path) -> None:
    """No recompression: each block of the original is in the endorsed bundle with the same packed bytes,
    coders and members; the author's files extract byte-identical."""
    before, after = _packed(bundle), _packed(endorsed)
    assert after[: len(before)] == before
    added = after[len(before):]
    assert [len(b[2]) for b in added] == [1, 1, 1]
    assert all(b[2][0][0].startswith(ENDORSEMENTS) for b in added)
    original, copied = _members(bundle, tmp_path / "a"), _members(endorsed, tmp_path / "b")
    for name in (SUMS, SIG, AUTHOR, META):
        assert copied[name] == original[name]
    assert {n: d for n, d in copied.items() if not n.startswith(ENDORSEMENTS)} == original


def _works_here() -> None:
    """Make the workspace here one this user works in (as `mirror keys new` in it does): its [trust] then counts."""
    from mirror.cli.workspaces import remember
    from mirror.workspace import load_workspace

    remember(load_workspace(Path("mirror.toml").resolve()))


def test_endorsers_count_only_when_the_reader_asks(endorsed: Path, reader: Path, runner: CliRunner,
                                                   tmp_path: Path) -> None:
    """Author unknown, bob and carol trusted: exit 5 by default, 0 with --require-endorsers 2 or mirror.toml,
    and dave's relayed endorsement (a key the reader does not hold) is only counted."""
    code, out, _ = invoke(runner, "verify", endorsed)
    assert code == 5 and "INTACT, UNKNOWN SIGNER" in out
    assert "endorsements 1 from keys not in your keyring" in out
    code, out, _ = invoke(runner, "verify", endorsed, "--require-endorsers", "2")
    assert code == 0, out
    assert out.startswith(f"VERIFIED  {endorsed}")
    assert "trusted      endorsed as knows-author by keys you trust: 2 (bob, carol)" in out
    code, out, _ = invoke(runner, "verify", "--json", endorsed, "--require-endorsers", "2")
    doc = json.loads(out)
    assert (code, doc["verdict"], doc["trust"]["require_endorsers"]) == (0, "verified", 2)
    assert sorted(doc["trust"]["vouched_by"]) == ["bob", "carol"]
    assert [e["status"] for e in doc["endorsements"]].count("unknown") == 1
    assert invoke(runner, "verify", endorsed, "--require-endorsers", "3")[0] == 5

    Path("mirror.toml").write_text("[workspace]\n\n[trust]\nrequire_endorsers = 2\n")
    assert invoke(runner, "verify", endorsed)[0] == 5  # a workspace this user never worked in sets no policy
    _works_here()
    assert invoke(runner, "verify", endorsed)[0] == 0
    assert invoke(runner, "verify", endorsed, "--require-endorsers", "0")[0] == 5  # the option wins
    code, out, _ = invoke(runner, "extract", endorsed, tmp_path / "out")
    assert code == 0 and "endorsed as knows-author by keys you trust: 2" in out
    Path("mirror.toml").write_text("[workspace]\n[trust]\nrequire_endorsers = true\n")
    code, _, err = invoke(runner, "verify", endorsed)
    assert code == 2 and "trust.require_endorsers" in err


def test_one_endorser_is_not_two(bundle: Path, people: Keyring, reader: Path, tmp_path: Path,
                                 runner: CliRunner) -> None:
    """Only bob endorses: K=2 gives exit 5 and says how many were found; nothing is extracted."""
    one = _endorse(runner, bundle, "bob", "knows-author", tmp_path / "one.7z")
    code, out, _ = invoke(runner, "verify", one, "--require-endorsers", "2")
    assert code == 5
    assert "knows-author endorsements from keys you trust: 1 of 2 required" in out
    code, _, _ = invoke(runner, "extract", one, tmp_path / "out", "--require-endorsers", "2")
    assert code == 5 and not (tmp_path / "out").exists()
    assert invoke(runner, "verify", one, "--require-endorsers", "1")[0] == 0


def test_a_tampered_endorsement_is_named_and_ignored(endorsed: Path, people: Keyring, reader: Path, tmp_path: Path,
                                                     runner: CliRunner) -> None:
    """carol's endorsement re-signed over other bytes: named INVALID, never counted, never extracted."""
    folder = sevenzip_extract(endorsed, tmp_path / "x")
    carol = people.get("carol")
    note = folder / ENDORSEMENTS / f"{carol.key_id_hex}.minisig"
    meta = json.loads((folder / META).read_text())
    comment = f"bundle:{meta['id']}\tversion:{meta['version']}\trole:endorser\tclaim:knows-author"
    note.write_bytes(people.secret("carol", None).sign(b"other bytes", comment).to_bytes())
    tampered = sevenzip_rebuild(folder, tmp_path / "tampered.7z")
    code, out, _ = invoke(runner, "verify", tampered, "--require-endorsers", "2")
    assert code == 5
    assert f"by carol (key {carol.key_id_hex}) is INVALID and ignored" in out
    assert invoke(runner, "verify", tampered, "--require-endorsers", "1")[0] == 0  # bob's still counts
    result = verify_bundle(tampered, Keyring(reader))
    assert [e.status for e in result.endorsements].count("invalid") == 1


def test_an_endorsement_planted_under_ones_own_key_id_does_not_bar_one(endorsed: Path, people: Keyring,
                                                                          tmp_path: Path, runner: CliRunner) -> None:
    """Someone put carol's name on a signature over other bytes: carol could never endorse that copy, even with
    --drop-unknown, which leaves out invalid endorsements. Now the planted one goes and hers takes its place; without
    the option, the refusal says how."""
    folder = sevenzip_extract(endorsed, tmp_path / "x")
    carol = people.get("carol")
    meta = json.loads((folder / META).read_text())
    comment = f"bundle:{meta['id']}\tversion:{meta['version']}\trole:endorser\tclaim:knows-author"
    (folder / ENDORSEMENTS / f"{carol.key_id_hex}.minisig").write_bytes(
        people.secret("carol", None).sign(b"other bytes", comment).to_bytes())
    planted = sevenzip_rebuild(folder, tmp_path / "planted.7z")
    keys = tmp_path / "keys"
    code, _, err = invoke(runner, "endorse", planted, "--key", "carol", "--claim", "relayed", "-o",
                          tmp_path / "no.7z", "--keys", keys)
    assert code == 2 and "--drop-unknown leaves it out" in err and not (tmp_path / "no.7z").exists()
    code, out, err = invoke(runner, "endorse", planted, "--key", "carol", "--claim", "relayed", "-o",
                            tmp_path / "yes.7z", "--keys", keys, "--drop-unknown")
    assert code == 0, out + err
    again = verify_bundle(tmp_path / "yes.7z", Keyring(keys))
    assert {(e.signer_name, e.status, e.claim) for e in again.endorsements if e.signer_name == "carol"} == {
        ("carol", "trusted", "relayed")}
    code, _, err = invoke(runner, "endorse", endorsed, "--key", "carol", "--claim", "relayed", "-o",
                          tmp_path / "twice.7z", "--keys", keys, "--drop-unknown")
    assert code == 2 and "already carries an endorsement" in err  # her own valid one still bars a second


def test_stock_minisign_verifies_an_endorsement(endorsed: Path, people: Keyring, tmp_path: Path) -> None:
    """From the extracted folder, exactly as the by-hand guide says."""
    minisign = require_tool("minisign")
    folder = sevenzip_extract(endorsed, tmp_path / "by-hand")
    bob = people.get("bob")
    (tmp_path / "bob.pub").write_text(bob.public.to_text())
    done = run(minisign, "-Vm", ".mirror/SHA256SUMS", "-x", f".mirror/endorsements/{bob.key_id_hex}.minisig",
               "-p", tmp_path / "bob.pub", cwd=folder)
    assert "role:endorser\tclaim:knows-author" in done.stdout
    sha256sum = require_tool("sha256sum")
    assert run(sha256sum, "-c", ".mirror/SHA256SUMS", cwd=folder).returncode == 0


@pytest.mark.parametrize(("key", "claim", "words"), [
    ("bob", "relayed", "already carries an endorsement by key"),
    ("alice", "relayed", "an author cannot endorse their own bundle"),
], ids=["same key twice", "the author's key"])
def test_refused_endorsements_write_nothing(key: str, claim: str, words: str, endorsed: Path, tmp_path: Path,
                                            runner: CliRunner) -> None:
    """Exit 2, one line, and no file (not even a temporary one) in the output's folder."""
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    code, out, err = invoke(runner, "endorse", endorsed, "--key", key, "--claim", claim, "-o", out_dir / "x.7z")
    assert (code, out) == (2, "") and words in err
    assert list(out_dir.iterdir()) == []


def test_knows_author_needs_the_authors_key(bundle: Path, people: Keyring, reader: Path, tmp_path: Path,
                                            runner: CliRunner) -> None:
    """An endorser who never checked the author's key may relay the bundle, but not claim to know the author."""
    Keyring(reader).create("erin", None)
    out = tmp_path / "e.7z"
    code, _, err = invoke(runner, "endorse", bundle, "--key", "erin", "--claim", "knows-author", "-o", out)
    assert code == 2 and "not in your keyring" in err and not out.exists()
    code, _, err = invoke(runner, "endorse", bundle, "--key", "erin", "--claim", "relayed", "-o", out)
    assert code == 0 and "not in your keyring" in err


def test_the_input_is_never_overwritten(endorsed: Path, people: Keyring, tmp_path: Path, runner: CliRunner) -> None:
    """-o naming the input (or a hard link to it) is refused even with --force; an existing output needs --force."""
    before = endorsed.read_bytes()
    os.link(endorsed, tmp_path / "link.7z")
    for target in (endorsed, tmp_path / "link.7z", tmp_path / ".." / tmp_path.name / endorsed.name):
        code, _, err = invoke(runner, "endorse", endorsed, "--key", "bob", "--claim", "relayed",
                              "-o", target, "--force")
        assert code == 2 and "endorse never changes it" in err
    people.create("erin", None)
    other = tmp_path / "other.7z"
    other.write_bytes(b"keep me")
    code, _, err = invoke(runner, "endorse", endorsed, "--key", "erin", "--claim", "relayed", "-o", other)
    assert code == 2 and "already exists" in err and other.read_bytes() == b"keep me"
    assert invoke(runner, "endorse", endorsed, "--key", "erin", "--claim", "relayed", "-o", other, "--force")[0] == 0
    assert endorsed.read_bytes() == before
    assert verify_bundle(other, people).trusted


def test_a_bundle_that_does_not_verify_is_not_endorsed(bundle: Path, people: Keyring, tmp_path: Path,
                                                       runner: CliRunner) -> None:
    """A changed account: exit 3, and no output."""
    folder = sevenzip_extract(bundle, tmp_path / "x")
    account = next((folder / "accounts").iterdir())
    account.write_bytes(account.read_bytes() + b"\nadded later\n")
    tampered = sevenzip_rebuild(folder, tmp_path / "tampered.7z")
    code, _, _ = invoke(runner, "endorse", tampered, "--key", "bob", "--claim", "relayed", "-o", tmp_path / "e.7z")
    assert code == 3
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith((".e.7z", "e.7z"))) == []


def test_a_format_1_bundle_gets_its_endorsement_at_the_top(people: Keyring, tmp_path: Path,
                                                           runner: CliRunner) -> None:
    """Format 1 keeps its layout: the endorsement goes to endorsements/KEYID.minisig, as format 1 reserved."""
    golden = tmp_path / "golden-v1.7z"
    shutil.copy(DATA / "golden-v1.7z", golden)
    out = _endorse(runner, golden, "bob", "relayed", tmp_path / "v1-endorsed.7z")
    result = verify_bundle(out, people)
    assert result.layout.format.endswith("/1")
    assert [e.name for e in result.endorsements] == [f"endorsements/{people.get('bob').key_id_hex}.minisig"]
    assert [e.status for e in result.endorsements] == ["trusted"]


def test_fetch_applies_the_readers_policy(endorsed: Path, people: Keyring, tmp_path: Path,
                                          runner: CliRunner) -> None:
    """A reader who trusts alice only as a publisher, and bob and carol: the endorsed bundle arrives untrusted
    (exit 5), and trusted with --require-endorsers 2 (exit 0), with who vouched in its note."""
    (tmp_path / "host").mkdir()
    config = tmp_path / "mirror.toml"
    config.write_text(f'[publisher]\nkey = "alice"\n\n[hosts.a]\nurl = "{tmp_path / "host"}"\n')
    assert invoke(runner, "publish", endorsed, "--config", config, "--keys", people.folder)[0] == 0
    ring = Keyring(tmp_path / "reader")
    ring.import_public("alice", people.get("alice").public, ("publisher",), "in-person")
    for name in ("bob", "carol"):
        ring.import_public(name, people.get(name).public, ("author",), "in-person")
    reader = ("--keys", ring.folder, "--mirror", tmp_path / "host")
    code, out, _ = invoke(runner, "fetch", "--json", *reader, "--dest", tmp_path / "in1")
    assert code == 5 and json.loads(out)["bundles"][0]["trusted"] is False
    code, out, _ = invoke(runner, "fetch", "--json", *reader, "--dest", tmp_path / "in2", "--require-endorsers", "2")
    arrived = json.loads(out)["bundles"][0]
    assert code == 0 and arrived["trusted"] is True
    assert "endorsed as knows-author by keys you trust: 2 (bob, carol)" in arrived["note"]


def test_open_says_who_vouched(endorsed: Path, reader: Path, tmp_path: Path, runner: CliRunner,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    """open with --require-endorsers 2: no red warning, but a note beside the signed page naming bob and carol."""
    import webbrowser

    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", lambda url, *a, **k: opened.append(url) or True)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    code, _, err = invoke(runner, "open", endorsed)
    assert code == 5 and opened == []
    code, out, err = invoke(runner, "open", endorsed, "--require-endorsers", "2")
    assert code == 0, err
    assert "endorsed as knows-author by keys you trust: 2 (bob, carol)" in out
    page = Path(opened[0].removeprefix("file://"))
    text = page.read_text()
    assert page.name.startswith("mirror-view-") and 'role="alert"' not in text
    assert "people in your keyring endorse it as knowing the author: bob, carol" in text
    # the page made here, not the bundle's own: that is the work of a key the reader does not hold, and could put
    # the note where it is not seen, or show another key's fingerprint
    assert "The bundle&#x27;s own page is not shown" in text or "The bundle's own page is not shown" in text, text
    code, out, err = invoke(runner, "extract", endorsed, tmp_path / "out", "--require-endorsers", "2")
    assert code == 0 and "to read them, open" not in out and "do not open" in err, (out, err)
    assert "its author's key is not in your keyring (people you trust vouch for it)" in err, err


def test_a_7zip_repack_is_endorsed_as_it_is_and_stock_7zip_opens_both(bundle: Path, people: Keyring, tmp_path: Path,
                                                                      runner: CliRunner) -> None:
    """A bundle 7-Zip repacked into one solid block keeps that block; 7-Zip tests every endorsed bundle clean."""
    sevenzip = require_tool("7zz")
    repack = sevenzip_rebuild(sevenzip_extract(bundle, tmp_path / "x"), tmp_path / "repack.7z", "-mx5")
    out = _endorse(runner, repack, "bob", "witnessed", tmp_path / "repack-endorsed.7z")
    assert _packed(out)[: len(_packed(repack))] == _packed(repack)
    for endorsed in (out, _endorse(runner, bundle, "bob", "relayed", tmp_path / "plain-endorsed.7z")):
        assert "Everything is Ok" in run(sevenzip, "t", endorsed).stdout
        assert verify_bundle(endorsed, people).endorsements[0].status == "trusted"


@pytest.mark.parametrize("checked", ["first-use", "unchecked"])
def test_an_endorser_trusted_on_first_use_is_not_counted(endorsed: Path, people: Keyring, tmp_path: Path,
                                                         runner: CliRunner, checked: str) -> None:
    """A reader who took carol's key on first use: bob's endorsement counts, carol's is shown but not counted."""
    ring = Keyring(tmp_path / "first-use-keys")
    ring.import_public("bob", people.get("bob").public, ("author",), "in-person")
    ring.import_public("carol", people.get("carol").public, ("author",), checked)  # type: ignore[arg-type]
    code, out, _ = invoke(runner, "verify", endorsed, "--require-endorsers", "2", "--keys", ring.folder)
    assert code == 5, out
    assert "knows-author endorsements from keys you trust: 1 of 2 required" in out
    assert "endorsed by  carol" in out and "(trusted on first use, never compared: not counted)" in out
    code, out, _ = invoke(runner, "verify", endorsed, "--require-endorsers", "1", "--keys", ring.folder)
    assert code == 0 and "not counted, trusted only on first use (never compared): carol" in out
    code, out, _ = invoke(runner, "verify", endorsed, "--json", "--keys", ring.folder)
    counted = {e["endorser"]: (e["status"], e["counted"]) for e in json.loads(out)["endorsements"]}
    assert counted == {"bob": ("trusted", True), "carol": ("trusted", False), None: ("unknown", False)}, counted
    ring.import_public("dave", people.get("dave").public, ("author",), "in-person")  # compared, but only relayed
    code, out, _ = invoke(runner, "verify", endorsed, "--json", "--keys", ring.folder)
    assert {e["endorser"]: e["counted"] for e in json.loads(out)["endorsements"]}["dave"] is False


@pytest.mark.parametrize("checked", ["first-use", "unchecked"])
def test_knows_author_refuses_an_author_trusted_on_first_use(bundle: Path, people: Keyring, tmp_path: Path,
                                                             runner: CliRunner, checked: str) -> None:
    """bob holds alice's key only on first use: he may relay, not claim to know her; verify says so too."""
    ring = Keyring(tmp_path / "bob-keys")
    ring.import_public("alice", people.get("alice").public, ("author",), checked)  # type: ignore[arg-type]
    ring.create("bob", None)
    out = tmp_path / "e.7z"
    code, _, err = invoke(runner, "endorse", bundle, "--key", "bob", "--claim", "knows-author", "-o", out,
                          "--keys", ring.folder)
    assert code == 2 and not out.exists()
    assert "on first use and never compared" in err and "--fingerprint" in err
    code, text, _ = invoke(runner, "verify", bundle, "--keys", ring.folder)
    said = "(trusted on first use, never compared)" if checked == "first-use" else "(never compared with its owner)"
    assert code == 0 and "signed by    alice (key " in text and said in text
    code, text, _ = invoke(runner, "verify", "--json", bundle, "--keys", ring.folder)
    assert json.loads(text)["signer"]["checked"] == checked
    assert json.loads(invoke(runner, "verify", "--json", bundle, "--keys", people.folder)[1])["signer"]["checked"] \
        == "own"


def test_trust_is_read_only_from_a_workspace(endorsed: Path, reader: Path, runner: CliRunner, tmp_path: Path) -> None:
    """A mirror.toml without [workspace] (one dropped in Downloads, or a publisher's) never changes the policy;
    a workspace's applies to verify, show, extract, open and fetch, also from a folder inside it."""
    Path("mirror.toml").write_text("[trust]\nrequire_endorsers = 2\n")
    for command in ("verify", "show"):
        assert invoke(runner, command, endorsed)[0] == 5
    code, _, _ = invoke(runner, "extract", endorsed, tmp_path / "out")
    assert code == 5 and not (tmp_path / "out").exists()
    Path("mirror.toml").write_text("[workspace]\n\n[trust]\nrequire_endorsers = 2\n")
    _works_here()
    Path("inside").mkdir()
    os.chdir("inside")
    for command in ("verify", "show"):
        assert invoke(runner, command, endorsed)[0] == 0
    assert invoke(runner, "extract", endorsed, tmp_path / "out")[0] == 0
    Path("mirror.toml").write_text("[publisher]\nkey = 'alice'\n")  # a nearer file of another kind
    assert invoke(runner, "verify", endorsed)[0] == 0


def test_the_passphrase_is_asked_only_after_the_whole_bundle_checked_out(bundle: Path, people: Keyring,
                                                                        tmp_path: Path, runner: CliRunner,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A bundle with one changed account fails (exit 3) before any passphrase is asked; a good one asks once."""
    import mirror.cli.common

    people.create("erin", b"correct horse battery staple")
    asked: list[str] = []
    monkeypatch.setattr(mirror.cli.common, "ask_passphrase",
                        lambda name, confirm=False: asked.append(name) or b"correct horse battery staple")
    folder = sevenzip_extract(bundle, tmp_path / "x")
    account = next(p for p in sorted(folder.rglob("*.md")) if ".mirror" not in p.parts)
    account.write_bytes(account.read_bytes() + b"changed")
    changed = sevenzip_rebuild(folder, tmp_path / "changed.7z")
    code, _, err = invoke(runner, "endorse", changed, "--key", "erin", "--claim", "relayed", "-o", tmp_path / "o.7z",
                          "--keys", people.folder)
    assert code == 3 and "sha256" in err and asked == [] and not (tmp_path / "o.7z").exists()
    code, _, err = invoke(runner, "endorse", bundle, "--key", "erin", "--claim", "relayed", "-o", tmp_path / "o.7z",
                          "--keys", people.folder)
    assert code == 0, err
    assert asked == ["erin"]


def _stranger_notes(folder: Path, count: int) -> list[str]:
    """Write `count` endorsements by throwaway keys into an extracted bundle; their member names."""
    from mirror.formats.endorsement import endorsement_comment, endorsement_name
    from mirror.trust.keys import SecretKey

    meta = json.loads((folder / META).read_text())
    sums = (folder / SUMS).read_bytes()
    names = []
    for _ in range(count):
        key = SecretKey.generate()
        name = endorsement_name(key.public.key_id)
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(key.sign(sums, endorsement_comment(meta["id"], meta["version"], "relayed"))
                                    .to_bytes())
        names.append(name)
    return names


def test_drop_unknown_clears_throwaway_endorsements(endorsed: Path, people: Keyring, tmp_path: Path,
                                                    runner: CliRunner) -> None:
    """dave, who holds bob but not carol, adds his endorsement with --drop-unknown: carol's (a key he does not
    hold) is left out, bob's and his own stay; every block of the author's is copied byte for byte."""
    ring = Keyring(tmp_path / "dave-keys")
    for name in ("alice", "bob"):
        ring.import_public(name, people.get(name).public, ("author",), "in-person")
    ring.create("erin", None)
    out = tmp_path / "dropped.7z"
    code, text, err = invoke(runner, "endorse", "--json", endorsed, "--key", "erin", "--claim", "knows-author",
                             "--drop-unknown", "-o", out, "--keys", ring.folder)
    assert code == 0, err
    doc = json.loads(text)
    carol, dave_id = people.get("carol").key_id_hex, people.get("dave").key_id_hex
    assert sorted(doc["dropped"]) == sorted(f"{ENDORSEMENTS}{k}.minisig" for k in (carol, dave_id))
    kept = {e.key_id for e in verify_bundle(out, ring).endorsements}
    assert kept == {people.get("bob").key_id_hex, ring.get("erin").key_id_hex}
    before, after = _members(endorsed, tmp_path / "a"), _members(out, tmp_path / "b")
    assert {n: d for n, d in after.items() if not n.startswith(ENDORSEMENTS)} == \
        {n: d for n, d in before.items() if not n.startswith(ENDORSEMENTS)}
    assert _packed(out)[0] == _packed(endorsed)[0]  # the signed files' block, as it was
    assert "Everything is Ok" in run(require_tool("7zz"), "t", out).stdout


def test_a_full_bundle_can_be_endorsed_by_dropping_unknown_ones(bundle: Path, people: Keyring, tmp_path: Path,
                                                                runner: CliRunner) -> None:
    """A relayer filled a 7-Zip repack (one solid block) with 100 throwaway endorsements: endorse refuses and
    names --drop-unknown; with it, that block is rewritten without them and the author's files are unchanged."""
    folder = sevenzip_extract(bundle, tmp_path / "x")
    _stranger_notes(folder, 100)
    full = sevenzip_rebuild(folder, tmp_path / "full.7z")
    out = tmp_path / "out.7z"
    code, _, err = invoke(runner, "endorse", full, "--key", "bob", "--claim", "knows-author", "-o", out,
                          "--keys", people.folder)
    assert code == 2 and "100 endorsements" in err and "--drop-unknown" in err and not out.exists()
    code, text, err = invoke(runner, "endorse", full, "--key", "bob", "--claim", "knows-author", "-o", out,
                             "--drop-unknown", "--keys", people.folder)
    assert code == 0, err
    assert "dropped      endorsements from keys not in your keyring, or invalid: 100" in text
    result = verify_bundle(out, people)
    assert [e.signer_name for e in result.endorsements] == ["bob"]
    assert "Everything is Ok" in run(require_tool("7zz"), "t", out).stdout
    after = _members(out, tmp_path / "b")
    assert {n: d for n, d in after.items() if not n.startswith(ENDORSEMENTS)} == _members(bundle, tmp_path / "a")


def test_parts_of_differently_endorsed_copies_count_together(sources: Path, secret: SecretKey, people: Keyring,
                                                             reader: Path, tmp_path: Path, runner: CliRunner) -> None:
    """One part from a copy bob endorsed, the rest from a copy carol endorsed: extract counts both, as join does
    (exit 0 with K=2); parts that all come from bob's copy still count one endorser (exit 5)."""
    for i in range(3):  # photos large enough to be split apart
        (sources / "photos" / f"big-{i}.jpg").write_bytes(noise_jpeg(400, 300))
    bundle = create_bundle(CreateRequest(sources, tmp_path / "big.7z", title="Parts"), secret).out
    copies = {}
    for name in ("bob", "carol"):
        endorsed_copy = _endorse(runner, bundle, name, "knows-author", tmp_path / f"{name}.7z")
        out = tmp_path / f"parts-{name}"
        size = str(endorsed_copy.stat().st_size * 3 // 4)
        code, _, err = invoke(runner, "split", endorsed_copy, "--max-size", size, "-o", out)
        assert code == 0, err
        copies[name] = sorted(out.iterdir())
    assert len(copies["bob"]) == len(copies["carol"]) >= 2
    mixed = [copies["bob"][0], *copies["carol"][1:]]
    code, out, err = invoke(runner, "extract", *mixed, tmp_path / "got", "--require-endorsers", "2")
    assert code == 0, out + err
    code, _, err = invoke(runner, "join", *mixed, "-o", tmp_path / "joined.7z")
    assert code == 0, err
    assert invoke(runner, "verify", tmp_path / "joined.7z", "--require-endorsers", "2")[0] == 0
    code, _, _ = invoke(runner, "extract", *copies["bob"], tmp_path / "bob-only", "--require-endorsers", "2")
    assert code == 5 and not (tmp_path / "bob-only").exists()


def test_joined_parts_keep_the_endorsement_that_counts(sources: Path, secret: SecretKey, people: Keyring,
                                                       reader: Path, tmp_path: Path, runner: CliRunner) -> None:
    """Bob endorsed one copy as relayed and another as knows-author; a part of the first joined with the rest of
    the second kept the first one's (the first written), and the reader's knows-author count lost it. Of two that
    check out, the one that vouches for the author is kept."""
    for i in range(3):  # photos large enough to be split apart
        (sources / "photos" / f"big-{i}.jpg").write_bytes(noise_jpeg(400, 300))
    bundle = create_bundle(CreateRequest(sources, tmp_path / "big.7z", title="Parts"), secret).out
    copies = {}
    for claim in ("relayed", "knows-author"):
        endorsed_copy = _endorse(runner, bundle, "bob", claim, tmp_path / f"{claim}.7z")
        out = tmp_path / f"parts-{claim}"
        size = str(endorsed_copy.stat().st_size * 3 // 4)
        assert invoke(runner, "split", endorsed_copy, "--max-size", size, "-o", out)[0] == 0
        copies[claim] = sorted(out.iterdir())
    keys = tmp_path / "keys"  # bob's own keyring: he checks both copies of his endorsement
    mixed = [copies["relayed"][0], *copies["knows-author"][1:]]
    code, _, err = invoke(runner, "join", *mixed, "-o", tmp_path / "joined.7z", "--keys", keys)
    assert code == 0, err
    code, out, _ = invoke(runner, "verify", tmp_path / "joined.7z", "--require-endorsers", "1")
    assert code == 0 and "bob (key" in out and "knows-author" in out, out


def test_extract_of_parts_names_who_vouched_whatever_their_order(sources: Path, secret: SecretKey, people: Keyring,
                                                                  reader: Path, tmp_path: Path,
                                                                  runner: CliRunner) -> None:
    """Parts of the bare bundle and of its endorsed copy, given together, are trusted through the endorsements
    one of them carries. What extract says was the first part's alone: with a bare part first, 'signed by unknown
    key' and the warning for a stranger's page; the same parts in the other order named bob and carol."""
    for i in range(3):
        (sources / "photos" / f"big-{i}.jpg").write_bytes(noise_jpeg(400, 300))
    bundle = tmp_path / "large.7z"
    create_bundle(CreateRequest(sources, bundle, title="Test bundle"), secret)
    endorsed = _endorse(runner, _endorse(runner, bundle, "bob", "knows-author", tmp_path / "one.7z"), "carol",
                        "knows-author", tmp_path / "two.7z")
    bare, copy = tmp_path / "bare", tmp_path / "copy"
    for source, folder in ((bundle, bare), (endorsed, copy)):
        code, _, err = invoke(runner, "split", source, "--max-size", "160k", "-o", folder)
        assert code == 0, err
    bare_parts, copy_parts = sorted(bare.iterdir()), sorted(copy.iterdir())
    assert len(bare_parts) == len(copy_parts) >= 2, (bare_parts, copy_parts)
    said = []
    for n, parts in enumerate(([bare_parts[0], *copy_parts[1:]], [*copy_parts[:-1], bare_parts[-1]])):
        code, out, err = invoke(runner, "extract", *parts, tmp_path / f"out{n}", "--require-endorsers", "2")
        assert code == 0, (out, err)
        assert "endorsed as knows-author by keys you trust: 2 (bob, carol)" in out, out
        assert "do not open" not in out and "a key you do not hold signed it" not in err, (out, err)
        said.append((out + err).replace(f"out{n}", "OUT"))
    assert said[0] == said[1]


def test_what_the_names_alone_refuse_is_said_before_any_file_is_checked(endorsed: Path, people: Keyring,
                                                                        tmp_path: Path, runner: CliRunner,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A second endorsement by the same key: said at once, not after every file of a bundle of gigabytes was
    checked."""
    import mirror.bundle.endorse

    def no_check(*args: object, **kwargs: object) -> None:
        raise AssertionError("the bundle was checked before a refusal its names alone make")

    monkeypatch.setattr(mirror.bundle.endorse, "verify_open", no_check)
    keys = tmp_path / "keys"
    code, _, err = invoke(runner, "endorse", endorsed, "--key", "bob", "--claim", "relayed", "-o",
                          tmp_path / "again.7z", "--keys", keys)
    assert code == 2 and "already carries an endorsement by key" in err, err
