"""Readers in a room: fetch from `mirror serve`, the unsigned listing's rules, and readers that become mirrors."""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import invoke
from helpers import make_sources
from mirror.bundle.create import create_bundle
from mirror.bundle.prepare import CreateRequest
from mirror.formats.index import BundleEntry
from mirror.formats.listing import Listing
from mirror.formats.minisign import key_id_hex
from mirror.record import replace
from mirror.serve.room import RoomRequest, RoomThread
from mirror.trust.keyring import Keyring
from mirror.trust.keys import SecretKey
from mirror_server import MirrorServer
from room import make_bundle, plain_folder, serving


def _reader(tmp_path: Path, keyring: Keyring, runner: CliRunner, name: str, *roles: str) -> Path:
    """A reader's keyring holding alice in these roles."""
    pub = tmp_path / "alice.pub"
    pub.write_text(keyring.get("alice").public.to_text())
    keys = tmp_path / name
    args = [a for role in roles for a in ("--role", role)]
    assert invoke(runner, "keys", "import", pub, "--name", "alice", *args, "--keys", keys)[0] == 0
    return keys


def _fetch(runner: CliRunner, keys: Path, dest: Path, *args: str | Path) -> tuple[int, str, str]:
    return invoke(runner, "fetch", "--keys", keys, "--dest", dest, *args)


@pytest.fixture
def host(tmp_path: Path, keyring: Keyring, secret: SecretKey, runner: CliRunner) -> Path:
    """A publisher's folder host after `mirror publish` of one bundle signed by alice."""
    folder = tmp_path / "host"
    folder.mkdir()
    config = tmp_path / "mirror.toml"
    config.write_text(f'[publisher]\nkey = "alice"\n\n[hosts.usb]\nurl = "{folder}"\n')
    bundle = make_bundle(tmp_path / "pub-src", secret, tmp_path / "published.7z", "Published bundle")
    code, _, err = invoke(runner, "publish", bundle, "--config", config)
    assert code == 0, err
    return folder


def test_fetch_from_a_served_plain_folder(tmp_path: Path, keyring: Keyring, secret: SecretKey,
                                          runner: CliRunner) -> None:
    """`mirror serve` of a folder of bundles; `mirror fetch --mirror URL` verifies and says it had no signed index."""
    folder = plain_folder(tmp_path, secret)
    keys = _reader(tmp_path, keyring, runner, "reader", "author")
    with serving(folder, tmp_path) as served:
        code, out, err = _fetch(runner, keys, tmp_path / "in", "--mirror", served.url, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["index"]["signed"] is False and doc["index"]["version"] is None
    assert doc["bundles"][0]["trusted"] and doc["bundles"][0]["note"] == "signed by alice"
    assert "unsigned listing" in err and "author's signature" in err
    (arrived,) = (tmp_path / "in").glob("*.7z")
    assert arrived.read_bytes() == (folder / "almaty.7z").read_bytes()
    assert invoke(runner, "verify", arrived, "--keys", keys)[0] == 0


def test_a_reader_becomes_a_mirror_for_a_third(tmp_path: Path, host: Path, keyring: Keyring,
                                               runner: CliRunner) -> None:
    """fetch --keep-mirror keeps the publisher's index as it was; served, it lets a third reader verify that index."""
    second = _reader(tmp_path, keyring, runner, "second", "author", "publisher")
    kept = tmp_path / "usb-copy"
    with serving(host, tmp_path) as publisher_room:
        code, out, err = _fetch(runner, second, tmp_path / "in2", "--mirror", publisher_room.url,
                                "--keep-mirror", kept)
    assert code == 0, err
    assert "KEPT     1 bundle(s) and signed index v1" in out
    host_files = sorted(p.relative_to(host).as_posix() for p in host.rglob("*") if p.is_file())
    kept_files = sorted(p.relative_to(kept).as_posix() for p in kept.rglob("*") if p.is_file())
    assert kept_files == host_files  # the full layout: a USB copy of it is a mirror
    for name in host_files:
        assert (kept / name).read_bytes() == (host / name).read_bytes(), name  # byte for byte
    shutil.rmtree(tmp_path / "state")  # the third reader has never fetched anything
    third = _reader(tmp_path, keyring, runner, "third", "author", "publisher")
    with serving(kept, tmp_path) as second_room:
        code, out, err = _fetch(runner, third, tmp_path / "in3", "--mirror", second_room.url, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["index"]["signed"] is True and doc["index"]["version"] == 1
    [row] = doc["mirrors"]
    assert (row["mirror"], row["fate"], row["index"]["detail"]) == (second_room.url, "ok", "index v1 (chosen)")
    assert doc["bundles"][0]["arrived"] and doc["bundles"][0]["trusted"]
    assert "unsigned" not in err


def test_a_usb_copy_of_a_kept_mirror_is_a_mirror(tmp_path: Path, host: Path, keyring: Keyring,
                                                 runner: CliRunner) -> None:
    """The kept folder, copied like a USB stick, is read as a folder mirror with the publisher's index."""
    reader = _reader(tmp_path, keyring, runner, "reader", "author", "publisher")
    assert _fetch(runner, reader, tmp_path / "in", "--mirror", host, "--keep-mirror", tmp_path / "kept")[0] == 0
    shutil.copytree(tmp_path / "kept", tmp_path / "stick")
    shutil.rmtree(tmp_path / "state")
    code, out, _ = _fetch(runner, reader, tmp_path / "in-again", "--mirror", tmp_path / "stick")
    assert code == 0 and "index v1" in out and "ARRIVED" in out


def test_listing_is_refused_after_a_signed_index_unless_asked(tmp_path: Path, host: Path, keyring: Keyring,
                                                              secret: SecretKey, runner: CliRunner) -> None:
    """A reader who accepted a signed index is not moved onto a peer's unsigned listing without --unsigned."""
    reader = _reader(tmp_path, keyring, runner, "reader", "author", "publisher")
    assert _fetch(runner, reader, tmp_path / "in", "--mirror", host)[0] == 0  # the publisher's index, seen
    peer = plain_folder(tmp_path, secret, title="from a peer")
    with RoomThread(RoomRequest(peer, port=0)) as room:
        code, out, err = _fetch(runner, reader, tmp_path / "in2", "--mirror", room.urls[0])
        assert code == 4 and "--unsigned" in err and "untrusted" in out
        assert not list((tmp_path / "in2").glob("*.7z"))
        code, out, err = _fetch(runner, reader, tmp_path / "in2", "--mirror", room.urls[0], "--unsigned")
    assert code == 0 and "ARRIVED" in out and "unsigned listing" in err


def test_strict_never_takes_a_listing(tmp_path: Path, keyring: Keyring, secret: SecretKey,
                                      runner: CliRunner) -> None:
    """--strict refuses a listing: it has no date and no expiry."""
    reader = _reader(tmp_path, keyring, runner, "reader", "author")
    with RoomThread(RoomRequest(plain_folder(tmp_path, secret), port=0)) as room:
        code, _, _ = _fetch(runner, reader, tmp_path / "in", "--mirror", room.urls[0], "--strict")
    assert code == 4 and not list((tmp_path / "in").glob("*.7z"))


def test_a_signed_index_anywhere_wins_over_listings(tmp_path: Path, host: Path, keyring: Keyring,
                                                    secret: SecretKey, runner: CliRunner) -> None:
    """A peer with only a listing, named first, does not stop the signed index of a later mirror from deciding."""
    reader = _reader(tmp_path, keyring, runner, "reader", "author", "publisher")
    with RoomThread(RoomRequest(plain_folder(tmp_path, secret, title="peer only"), port=0)) as room:
        code, out, _ = _fetch(runner, reader, tmp_path / "in", "--mirror", room.urls[0], "--mirror", host, "--json")
    doc = json.loads(out)
    assert code == 0 and doc["index"]["signed"] is True
    assert [b["title"] for b in doc["bundles"]] == ["Published bundle"]


def raw_listing(folder: Path) -> bytes:
    """The listing `mirror serve` makes for a folder."""
    with RoomThread(RoomRequest(folder, port=0)) as room:
        assert room.room is not None
        item = room.room.catalog.files["listing.json"]
        assert item.data is not None
        return item.data


def test_a_listing_that_lies_gets_nothing_in(tmp_path: Path, keyring: Keyring, secret: SecretKey,
                                             runner: CliRunner) -> None:
    """A listing that names a real bundle with another id, version, author or title: it is refused (exit 3)."""
    folder = plain_folder(tmp_path, secret)
    data = (folder / "almaty.7z").read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    evil = tmp_path / "evil"
    (evil / "bundles").mkdir(parents=True)
    (evil / "bundles" / f"{sha}.7z").write_bytes(data)
    meta = json.loads(Listing.from_bytes(raw_listing(folder)).to_bytes())["bundles"][0]
    lies = [{**meta, "id": "0123456789abcdef"}, {**meta, "version": 7}, {**meta, "author_key": "AAAAAAAAAAAAAAAA"},
            {**meta, "title": "An official statement"}]
    reader = _reader(tmp_path, keyring, runner, "reader", "author")
    for n, lie in enumerate(lies):
        (evil / "listing.json").write_bytes(Listing((BundleEntry(**lie),)).to_bytes())
        with MirrorServer(evil) as server:
            code, out, _ = _fetch(runner, reader, tmp_path / f"in{n}", "--mirror", server.url)
        assert code == 3 and "MISSING" in out and "failed" not in out, (lie, out)
        assert "another id, version or title" in out or "another author key" in out, out
        assert "a peer's listing names" in out and "the index names" not in out, out  # no index was used
        assert not list((tmp_path / f"in{n}").glob("*.7z"))


@pytest.mark.parametrize("knows", [True, False], ids=["reader holds the key", "first contact"])
@pytest.mark.parametrize("lie", ["a higher version", "another title", "another id", "a size one byte short",
                                 "a short size and a higher version", "a higher version of the same file"])
def test_a_lying_peer_never_hides_an_honest_peers_bundle(lie: str, knows: bool, tmp_path: Path, keyring: Keyring,
                                                         secret: SecretKey, runner: CliRunner) -> None:
    """Two peers in a room, the hostile one asked first. It listed the real id as "version 99" of bytes it does
    not have, or the real file under another title: either way only its entry was kept, and the honest peer's
    real bundle was never tried (MISSING). The honest entry is now tried after it. Nor does a lie about the real
    file's size or version (helper-145) hide it, get the honest peer called tampered for the liar's size, or have
    the same file downloaded again for the honest entry. A reader who does not hold the author's key yet gets it
    too, as from the honest peer alone (exit 5, to compare the fingerprint): the intact copy was removed as
    "not trusted" and the liar's missing one reported (helper-146)."""
    honest, data, meta = _honest_room(tmp_path, secret)
    told = {"a higher version": {**meta, "version": 99, "sha256": "ab" * 32, "path": f"bundles/{'ab' * 32}.7z"},
            "another title": {**meta, "title": "An official statement"},
            "another id": {**meta, "id": "f" * 32},
            "a size one byte short": {**meta, "size": meta["size"] - 1},
            "a short size and a higher version": {**meta, "size": meta["size"] - 1, "version": meta["version"] + 1},
            "a higher version of the same file": {**meta, "version": meta["version"] + 1}}[lie]
    evil = tmp_path / "evil"
    evil.mkdir()
    (evil / "listing.json").write_bytes(Listing((BundleEntry(**told),)).to_bytes())
    reader = _reader(tmp_path, keyring, runner, "reader", "author") if knows else tmp_path / "no-keys"
    reader.mkdir(exist_ok=True)
    with MirrorServer(honest) as alone:
        assert _fetch(runner, reader, tmp_path / "alone", "--mirror", alone.url)[0] == (0 if knows else 5)
    with MirrorServer(evil) as liar, MirrorServer(honest) as peer:
        code, out, err = _fetch(runner, reader, tmp_path / "in", "--mirror", liar.url, "--mirror", peer.url)
    assert code == (0 if knows else 5) and "ARRIVED" in out and "tampered" not in out + err, out + err
    (arrived,) = (tmp_path / "in").glob("*.7z")
    assert arrived.read_bytes() == data and f"v{meta['version']}" in out
    asked = [path for path, _ in peer.requests if path.endswith(".7z")]
    assert len(asked) == len([path for path, _ in alone.requests if path.endswith(".7z")]), asked
    assert not list((tmp_path / "in").rglob("*.part"))


def _honest_room(tmp_path: Path, secret: SecretKey) -> tuple[Path, bytes, dict[str, object]]:
    """A peer's folder that serves one real bundle, with its listing; the bundle's bytes and listed entry."""
    folder = plain_folder(tmp_path, secret)
    data = (folder / "almaty.7z").read_bytes()
    honest = tmp_path / "honest"
    (honest / "bundles").mkdir(parents=True)
    (honest / "bundles" / f"{hashlib.sha256(data).hexdigest()}.7z").write_bytes(data)
    (honest / "listing.json").write_bytes(raw_listing(folder))
    return honest, data, json.loads(Listing.from_bytes(raw_listing(folder)).to_bytes())["bundles"][0]


@pytest.mark.parametrize("liar_first", [True, False], ids=["liar asked first", "honest asked first"])
def test_a_claim_of_the_same_file_never_removes_the_copy_that_stays(liar_first: bool, tmp_path: Path,
                                                                     secret: SecretKey, runner: CliRunner) -> None:
    """A second listing names the real file with another info hash. For a reader who does not hold the author's
    key, the copy that arrived was found again under the second claim, taken for one the reader had, and removed:
    the report said it arrived, DEST was empty, every run (helper-150). The same bytes are not tried twice."""
    honest, data, meta = _honest_room(tmp_path, secret)
    evil = tmp_path / "evil"
    (evil / "bundles").mkdir(parents=True)
    (evil / "bundles" / f"{meta['sha256']}.7z").write_bytes(data)
    told = {**meta, "infohash": "0" * 40, "magnet": f"magnet:?xt=urn:btih:{'0' * 40}"}
    (evil / "listing.json").write_bytes(Listing((BundleEntry(**told),)).to_bytes())  # type: ignore[arg-type]
    keys = tmp_path / "no-keys"
    keys.mkdir()
    with MirrorServer(evil) as liar, MirrorServer(honest) as peer:
        first, second = (liar, peer) if liar_first else (peer, liar)
        code, out, err = _fetch(runner, keys, tmp_path / "in", "--mirror", first.url, "--mirror", second.url,
                                "--json")
        asked = [path for path, _ in (*liar.requests, *peer.requests) if path.endswith(".7z")]
    (arrived,) = json.loads(out)["bundles"]
    assert code == 5 and arrived["arrived"] and Path(arrived["path"]).read_bytes() == data, out + err
    assert [p.name for p in (tmp_path / "in").glob("*.7z")] == [Path(arrived["path"]).name]
    assert len(asked) == 1, asked


def test_peers_that_name_the_real_file_under_made_up_ids_never_hide_it(tmp_path: Path, keyring: Keyring,
                                                                         secret: SecretKey,
                                                                         runner: CliRunner) -> None:
    """Three peers each list the real file (bytes they do not have) under three made-up ids; the honest peer is
    asked last. Each peer's turns were counted per id, so nine first turns filled every try: MISSING, exit 3
    (helper-150). The real id arrives."""
    honest, data, meta = _honest_room(tmp_path, secret)
    args: list[str | Path] = []
    servers = []
    for n in range(3):
        liar = tmp_path / f"liar{n}"
        liar.mkdir()
        lies = [BundleEntry(**{**meta, "id": f"{n}{k}" + "f" * 30}) for k in range(3)]  # type: ignore[arg-type]
        (liar / "listing.json").write_bytes(Listing(tuple(lies)).to_bytes())
        servers.append(MirrorServer(liar))
    servers.append(MirrorServer(honest))
    reader = _reader(tmp_path, keyring, runner, "reader", "author")
    with contextlib.ExitStack() as stack:
        for server in servers:
            args += ["--mirror", stack.enter_context(server).url]
        code, out, err = _fetch(runner, reader, tmp_path / "in", *args)
    assert code == 0 and "ARRIVED" in out, out + err
    (arrived,) = (tmp_path / "in").glob("*.7z")
    assert arrived.read_bytes() == data


def test_a_peers_endorsed_copy_of_the_newest_version_before_another_peers_older(
        tmp_path: Path, keyring: Keyring, secret: SecretKey, runner: CliRunner) -> None:
    """Room A offers v2 as the author made it and v2 endorsed by bob; room B v1 endorsed by bob. A reader who
    knows only bob and requires one endorser got v1: the rounds put B's older version before A's second copy
    (helper-150). The newest version that is trusted arrives."""
    keyring.create("bob", None)
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    for version in (1, 2):
        sources = make_sources(tmp_path / f"src{version}")
        (sources / "accounts" / f"v{version}.md").write_text(f"version {version}\n")
        create_bundle(CreateRequest(sources, tmp_path / f"v{version}.7z", title="Almaty",
                                    bundle_id="0123456789abcdef", version=version), secret)
    shutil.copy(tmp_path / "v2.7z", a / "v2.7z")
    for version, room in ((2, a), (1, b)):
        code, _, err = invoke(runner, "endorse", tmp_path / f"v{version}.7z", "--key", "bob", "--claim",
                              "knows-author", "-o", room / f"v{version}-bob.7z", "--keys", keyring.folder)
        assert code == 0, err
    reader = Keyring(tmp_path / "reader")
    reader.import_public("bob", keyring.get("bob").public, ("author",), "in-person")
    with RoomThread(RoomRequest(a, port=0)) as room_a, RoomThread(RoomRequest(b, port=0)) as room_b:
        code, out, err = _fetch(runner, reader.folder, tmp_path / "in", "--mirror", room_a.urls[0], "--mirror",
                                room_b.urls[0], "--require-endorsers", "1")
    assert code == 0 and "v2" in out and "v1" not in out, out + err
    (arrived,) = (tmp_path / "in").glob("*.7z")
    assert arrived.read_bytes() == (a / "v2-bob.7z").read_bytes()


@pytest.mark.parametrize("size", [-1, 1], ids=["shorter", "longer"])
def test_a_whole_file_kept_for_the_next_claim_is_never_thrown_away(size: int, tmp_path: Path, keyring: Keyring,
                                                                   secret: SecretKey, runner: CliRunner) -> None:
    """The first peer names the real file under another title (it arrives whole from the honest peer, and is kept
    for the next claim on it); the second names it at another size. Resumed onto for the longer claim, or thrown
    away as "longer than the bundle" for the shorter, the whole file was lost, and the honest peer asked for it
    again: now a claim of another size than the file that arrived whole is refused without a download."""
    honest, data, meta = _honest_room(tmp_path, secret)
    liars = []
    for n, told in enumerate(({**meta, "title": "An official statement"}, {**meta, "size": meta["size"] + size})):
        liars.append(tmp_path / f"liar{n}")
        liars[-1].mkdir()
        (liars[-1] / "listing.json").write_bytes(Listing((BundleEntry(**told),)).to_bytes())
    reader = _reader(tmp_path, keyring, runner, "reader", "author")
    with MirrorServer(liars[0]) as first, MirrorServer(liars[1]) as second, MirrorServer(honest) as peer:
        code, out, err = _fetch(runner, reader, tmp_path / "in", "--mirror", first.url, "--mirror", second.url,
                                "--mirror", peer.url)
    assert code == 0 and "ARRIVED" in out, out + err
    assert "at another size than it has" in err, err
    (arrived,) = (tmp_path / "in").glob("*.7z")
    assert arrived.read_bytes() == data
    assert len([path for path, _ in peer.requests if path.endswith(".7z")]) == 1, peer.requests
    assert not list((tmp_path / "in").rglob("*.part"))


@pytest.mark.parametrize("had", [None, "the first peer's", "the second peer's"])
def test_one_untrusted_copy_of_a_bundle_stays(had: str | None, tmp_path: Path, secret: SecretKey,
                                             runner: CliRunner) -> None:
    """Two peers each hold another intact copy of one bundle (an endorsed one and the author's, say) and the
    reader does not hold the author's key: one copy stays in DEST (exit 5), and when the reader already had one
    of them, that one, not one more downloaded beside it (helper-147)."""
    def peer(name: str) -> tuple[Path, bytes]:
        sources = make_sources(tmp_path / f"{name}-src")
        (sources / "accounts" / f"from-{name}.md").write_text(f"a copy kept by {name}\n")
        folder = tmp_path / f"{name}-plain"
        folder.mkdir()
        create_bundle(CreateRequest(sources, folder / "a.7z", title="Almaty", bundle_id="0123456789abcdef"), secret)
        data = (folder / "a.7z").read_bytes()
        (tmp_path / name / "bundles").mkdir(parents=True)
        (tmp_path / name / "bundles" / f"{hashlib.sha256(data).hexdigest()}.7z").write_bytes(data)
        (tmp_path / name / "listing.json").write_bytes(raw_listing(folder))
        return tmp_path / name, data

    (first, first_data), (second, second_data) = peer("a"), peer("b")
    keys, dest = tmp_path / "no-keys", tmp_path / "in"
    keys.mkdir()
    if had is not None:
        with MirrorServer(first if had == "the first peer's" else second) as one:
            assert _fetch(runner, keys, dest, "--mirror", one.url)[0] == 5
    before = {p.name: p.read_bytes() for p in dest.glob("*.7z")}
    with MirrorServer(first) as a, MirrorServer(second) as b:
        code, out, err = _fetch(runner, keys, dest, "--mirror", a.url, "--mirror", b.url)
    assert code == 5, out + err
    (kept,) = dest.glob("*.7z")
    assert kept.read_bytes() in (first_data, second_data)
    assert all((dest / name).read_bytes() == data for name, data in before.items())


def test_a_peer_listing_bundles_it_lacks_is_not_asked_for_them_all(tmp_path: Path, keyring: Keyring,
                                                                    secret: SecretKey, runner: CliRunner) -> None:
    """A listing of 10,000 bundles the peer does not have made fetch ask for each in turn (minutes on a LAN, hours
    through Tor). A room lists only what it has: after 16 missing and none delivered, the peer is asked no more."""
    folder = plain_folder(tmp_path, secret)
    meta = json.loads(Listing.from_bytes(raw_listing(folder)).to_bytes())["bundles"][0]
    fakes = []
    for n in range(60):
        sha = hashlib.sha256(str(n).encode()).hexdigest()
        fakes.append(BundleEntry(**{**meta, "id": f"fake-{n:04d}-bundle", "sha256": sha, "path": f"bundles/{sha}.7z"}))
    liar = tmp_path / "liar"
    liar.mkdir()
    (liar / "listing.json").write_bytes(Listing(tuple(fakes)).to_bytes())
    reader = _reader(tmp_path, keyring, runner, "reader", "author")
    with MirrorServer(liar) as server:
        code, out, err = _fetch(runner, reader, tmp_path / "in", "--mirror", server.url, "--all")
    asked = [p for p, _ in server.requests if p.endswith(".7z")]
    assert code == 4 and out.count("MISSING") == 60, out + err
    assert 16 <= len(asked) <= 17 and "not asked for more in this run" in err, (asked, err)  # 2 at once
    # an honest room beside it is asked only for what it lists: it was asked for every fake, lacked 16, and was
    # given up before the real bundle's turn
    data = (folder / "almaty.7z").read_bytes()
    honest = tmp_path / "honest"
    (honest / "bundles").mkdir(parents=True)
    (honest / "bundles" / f"{hashlib.sha256(data).hexdigest()}.7z").write_bytes(data)
    (honest / "listing.json").write_bytes(raw_listing(folder))
    with MirrorServer(liar) as server, MirrorServer(honest) as room:
        code, out, err = _fetch(runner, reader, tmp_path / "in2", "--mirror", server.url, "--mirror", room.url,
                                "--all")
    assert "ARRIVED" in out and out.count("MISSING") == 60, out + err
    real = f"bundles/{hashlib.sha256(data).hexdigest()}.7z"
    assert [p for p, _ in room.requests if p.endswith(".7z")] == [real]


def test_keep_mirror_keeps_a_newer_index_and_refuses_another_publisher(
        tmp_path: Path, host: Path, keyring: Keyring, runner: CliRunner) -> None:
    """A folder that holds a newer signed index keeps it; one holding another publisher's mirror is refused."""
    reader = _reader(tmp_path, keyring, runner, "reader", "author", "publisher")
    old = tmp_path / "old-host"
    shutil.copytree(host, old)
    assert invoke(runner, "refresh", "--config", tmp_path / "mirror.toml")[0] == 0  # host now has v2
    kept = tmp_path / "kept"
    assert _fetch(runner, reader, tmp_path / "in", "--mirror", host, "--keep-mirror", kept)[0] == 0
    shutil.rmtree(tmp_path / "state")  # a reader with no memory fetches v1 from an old copy into the same folder
    code, out, _ = _fetch(runner, reader, tmp_path / "in", "--mirror", old, "--keep-mirror", kept)
    assert code == 0 and "signed index v2" in out
    assert json.loads((kept / "index.json").read_bytes())["version"] == 2
    assert (kept / "index" / "1.json").read_bytes() == (old / "index.json").read_bytes()
    keyring.create("bob", None)  # bob publishes the same bundle; his reader keeps it into alice's mirror folder
    bob_config = tmp_path / "bob.toml"
    bob_config.write_text(f'[publisher]\nkey = "bob"\n\n[hosts.usb]\nurl = "{tmp_path / "bob-host"}"\n')
    (tmp_path / "bob-host").mkdir()
    code, _, err = invoke(runner, "publish", tmp_path / "published.7z", "--config", bob_config)
    assert code == 0, err
    bob_reader = tmp_path / "bob-reader"
    pub = tmp_path / "bob.pub"
    pub.write_text(keyring.get("bob").public.to_text())
    assert invoke(runner, "keys", "import", pub, "--name", "bob", "--role", "publisher", "--keys", bob_reader)[0] == 0
    pub_alice = tmp_path / "alice.pub"
    assert invoke(runner, "keys", "import", pub_alice, "--name", "alice", "--role", "publisher",
                  "--role", "author", "--keys", bob_reader)[0] == 0
    code, out, err = _fetch(runner, bob_reader, tmp_path / "in-bob", "--mirror", tmp_path / "bob-host",
                            "--keep-mirror", kept, "--json")
    assert code == 2 and "no mirror copy was kept" in err and "mirror of publisher" in err, err
    doc = json.loads(out)  # the fetch itself went well: its report is printed, and what arrived stays
    assert doc["exit_code"] == 2 and doc["kept"] is None and "mirror of publisher" in doc["keep_error"]
    assert doc["bundles"][0]["arrived"] and Path(doc["bundles"][0]["path"]).is_file()
    assert json.loads((kept / "index.json").read_bytes())["version"] == 2  # alice's mirror is untouched


@pytest.mark.parametrize("part", ["bundles", "index"])
def test_keep_mirror_never_writes_through_a_link(tmp_path: Path, host: Path, keyring: Keyring, runner: CliRunner,
                                                 part: str) -> None:
    """A kept folder whose bundles/ or index/ links elsewhere is refused (exit 2) and nothing lands there."""
    reader = _reader(tmp_path, keyring, runner, "reader", "author", "publisher")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / part).symlink_to(elsewhere)
    code, _, err = _fetch(runner, reader, tmp_path / "in", "--mirror", host, "--keep-mirror", kept)
    assert code == 2 and "is a link or not a folder" in err, err
    assert list(elsewhere.iterdir()) == []
    assert not (tmp_path / "in").exists()  # refused before anything was downloaded


def test_keep_mirror_keeps_no_torrent_a_rooms_listing_names(tmp_path: Path, host: Path, keyring: Keyring,
                                                           runner: CliRunner) -> None:
    """A room's unsigned listing that names the bundle's real info hash with a magnet link of its own trackers:
    the copy kept no .torrent of it (one was made, announcing to the room's tracker, and served as the mirror's
    once the copy held the publisher's index); a later fetch of the signed index keeps the publisher's."""
    from mirror.formats.index import Index
    from mirror.formats.torrent import Torrent

    reader = _reader(tmp_path, keyring, runner, "reader", "author")
    (entry,) = Index.from_bytes((host / "index.json").read_bytes()).bundles
    assert entry.magnet is not None
    evil = tmp_path / "evil"
    shutil.copytree(host / "bundles", evil / "bundles")
    tracked = replace(entry, magnet=entry.magnet + "&tr=http%3A%2F%2Ftracker.invalid%2Fannounce")
    (evil / "listing.json").write_bytes(Listing((tracked,)).to_bytes())
    kept = tmp_path / "kept"
    with MirrorServer(evil) as server:
        code, out, err = _fetch(runner, reader, tmp_path / "in", "--mirror", server.url, "--keep-mirror", kept)
    assert code == 0 and "unsigned listing" in out + err, out + err
    assert (kept / entry.path).is_file() and not list(kept.glob("bundles/*.torrent"))
    publisher = _reader(tmp_path, keyring, runner, "reader2", "author", "publisher")
    assert _fetch(runner, publisher, tmp_path / "in2", "--mirror", host, "--keep-mirror", kept)[0] == 0
    (torrent,) = kept.glob("bundles/*.torrent")
    assert Torrent.from_bytes(torrent.read_bytes()).trackers == ()


def test_the_swarm_is_given_no_tracker_a_rooms_listing_names(tmp_path: Path, host: Path, keyring: Keyring,
                                                              runner: CliRunner,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A room's unsigned listing that names the bundle's real info hash with a magnet link of its own tracker: the
    swarm was handed that link, and with --public told that tracker who fetches the bundle. It gets the link
    without trackers."""
    import contextlib

    import mirror.cli.fetch as cli_fetch
    from mirror.formats.index import Index
    from mirror.formats.torrent import magnet_trackers

    asked: list[BundleEntry] = []

    @contextlib.contextmanager
    def recording(*_: object, **__: object) -> Iterator[object]:
        def get(entry: BundleEntry, *_: object) -> None:
            asked.append(entry)  # nothing from the swarm: the mirrors deliver

        yield get

    monkeypatch.setattr(cli_fetch, "swarm_source", recording)
    reader = _reader(tmp_path, keyring, runner, "reader", "author", "publisher")
    (entry,) = Index.from_bytes((host / "index.json").read_bytes()).bundles
    assert entry.magnet is not None
    evil = tmp_path / "evil"
    shutil.copytree(host / "bundles", evil / "bundles")
    tracked = replace(entry, magnet=entry.magnet + "&tr=http%3A%2F%2F127.0.0.1%3A9%2Fannounce")
    assert magnet_trackers(tracked.magnet or "") == ("http://127.0.0.1:9/announce",)
    (evil / "listing.json").write_bytes(Listing((tracked,)).to_bytes())
    with MirrorServer(evil) as server:
        code, out, err = _fetch(runner, reader, tmp_path / "in", "--mirror", server.url, "--torrent")
    assert code == 0 and len(asked) == 1, out + err
    assert asked[0].infohash == entry.infohash and asked[0].magnet is not None
    assert magnet_trackers(asked[0].magnet) == () and asked[0].magnet.startswith("magnet:?xt=")


def test_keep_mirror_keeps_only_what_verified(tmp_path: Path, host: Path, keyring: Keyring,
                                              runner: CliRunner) -> None:
    """A mirror that serves the signed index but a tampered bundle: the index is kept as signed, the bundle not."""
    reader = _reader(tmp_path, keyring, runner, "reader", "author", "publisher")
    (bundle,) = (host / "bundles").glob("*.7z")
    data = bytearray(bundle.read_bytes())
    data[len(data) // 2] ^= 1
    bundle.write_bytes(bytes(data))
    kept = tmp_path / "kept"
    code, _, _ = _fetch(runner, reader, tmp_path / "in", "--mirror", host, "--keep-mirror", kept)
    assert code != 0
    assert (kept / "index.json").read_bytes() == (host / "index.json").read_bytes()
    assert not list(kept.glob("bundles/*.7z"))


def test_a_mirror_copy_cut_short_says_what_it_kept(tmp_path: Path, host: Path, keyring: Keyring,
                                                   runner: CliRunner) -> None:
    """The bundles were kept but the index could not be written: the error says so, never "no copy was kept"."""
    reader = _reader(tmp_path, keyring, runner, "reader", "author", "publisher")
    kept = tmp_path / "kept"
    (kept / "index" / "1.json").mkdir(parents=True)  # the pinned index cannot take its name
    code, out, err = _fetch(runner, reader, tmp_path / "in", "--mirror", host, "--keep-mirror", kept, "--json")
    (bundle,) = (host / "bundles").glob("*.7z")
    assert code == 2 and "no mirror copy was kept" not in err, err
    assert f"the mirror copy in {kept} is incomplete: 1 bundle(s) kept, but not this run's index" in err, err
    doc = json.loads(out)
    assert doc["kept"] == {"folder": str(kept), "index_version": None, "bundles": [bundle.stem]}, doc["kept"]
    assert (kept / "bundles" / bundle.name).read_bytes() == bundle.read_bytes()
    assert not (kept / "index.json").exists()


def test_a_reader_who_requires_endorsers_gets_the_copy_they_vouch_for(tmp_path: Path, keyring: Keyring,
                                                                      secret: SecretKey, runner: CliRunner) -> None:
    """A room offers three copies of one version: the author's (the smallest, tried first), one endorsed by a
    stranger, and one bob vouches for (the largest). A reader who knows bob but not the author, and requires one
    endorser, ends with bob's copy only, and says why it tried others."""
    room = plain_folder(tmp_path, secret)
    for name in ("bob", "carol", "dave"):
        keyring.create(name, None)
    ring = tmp_path / "keys"

    def endorse(source: Path, key: str, claim: str, out: Path) -> Path:
        code, _, err = invoke(runner, "endorse", source, "--key", key, "--claim", claim, "-o", out, "--keys", ring)
        assert code == 0, err
        return out

    stranger = endorse(room / "almaty.7z", "dave", "relayed", room / "stranger.7z")
    vouched = endorse(endorse(room / "almaty.7z", "carol", "relayed", tmp_path / "c.7z"), "bob", "knows-author",
                      room / "vouched.7z")
    assert vouched.stat().st_size > stranger.stat().st_size > (room / "almaty.7z").stat().st_size
    keys = tmp_path / "reader"
    reader = Keyring(keys)
    reader.import_public("bob", keyring.get("bob").public, ("author",), "in-person")
    with serving(room, tmp_path) as served:
        code, out, err = _fetch(runner, keys, tmp_path / "in", "--mirror", served.url, "--require-endorsers", "1")
    assert code == 0, (out, err)
    assert err.count("trying another copy the peers offer") == 2
    (arrived,) = (tmp_path / "in").glob("*.7z")
    assert arrived.read_bytes() == vouched.read_bytes()


def test_without_a_trusted_copy_fetch_keeps_the_first_and_says_untrusted(tmp_path: Path, keyring: Keyring,
                                                                          secret: SecretKey,
                                                                          runner: CliRunner) -> None:
    """No copy is vouched for: every copy is tried, the first (the author's own file) stays, exit 5."""
    room = plain_folder(tmp_path, secret)
    keyring.create("dave", None)
    code, _, err = invoke(runner, "endorse", room / "almaty.7z", "--key", "dave", "--claim", "relayed",
                          "-o", room / "relayed.7z", "--keys", tmp_path / "keys")
    assert code == 0, err
    keys = tmp_path / "reader"
    Keyring(keys)
    with serving(room, tmp_path) as served:
        code, out, err = _fetch(runner, keys, tmp_path / "in", "--mirror", served.url, "--require-endorsers", "1")
    assert code == 5, (out, err)
    (arrived,) = (tmp_path / "in").glob("*.7z")
    assert arrived.read_bytes() == (room / "almaty.7z").read_bytes()
    assert "trying another copy the peers offer" in err


def test_a_bundle_of_an_unknown_signer_never_takes_the_authors_name(tmp_path: Path, keyring: Keyring,
                                                                   secret: SecretKey, runner: CliRunner) -> None:
    """A room signs a bundle with the id, version and title of alice's: it arrives (exit 5) under a name that says its
    signer is unknown, and alice's own bundle, fetched later into the same folder, gets the plain name."""
    room = plain_folder(tmp_path, secret)
    real = json.loads(Listing.from_bytes(raw_listing(room)).to_bytes())["bundles"][0]
    mallory = keyring.create("mallory", None)
    forged = tmp_path / "forged"
    forged.mkdir()
    create_bundle(CreateRequest(make_sources(tmp_path / "forged-src"), forged / "almaty.7z", title=real["title"],
                                bundle_id=real["id"], version=real["version"]), keyring.secret("mallory", None))
    reader = _reader(tmp_path, keyring, runner, "reader", "author")
    with serving(forged, tmp_path) as served:
        code, out, err = _fetch(runner, reader, tmp_path / "in", "--mirror", served.url)
    assert code == 5, (out, err)
    (squatter,) = (tmp_path / "in").glob("*.7z")
    mark = f"-v{real['version']}.unknown-signer-{key_id_hex(mallory.public.key_id)}.7z"
    assert squatter.name.endswith(mark), squatter.name
    with serving(room, tmp_path) as served:
        code, out, err = _fetch(runner, reader, tmp_path / "in", "--mirror", served.url)
    assert code == 0, (out, err)
    plain = squatter.name.split(".unknown-signer-")[0] + ".7z"
    assert sorted(p.name for p in (tmp_path / "in").glob("*.7z")) == sorted([squatter.name, plain])
    assert (tmp_path / "in" / plain).read_bytes() == (room / "almaty.7z").read_bytes()


def test_a_bundle_kept_as_unknown_takes_its_name_once_its_key_is_imported(tmp_path: Path, keyring: Keyring,
                                                                         secret: SecretKey,
                                                                         runner: CliRunner) -> None:
    """Fetched before the reader had alice's key: NAME.unknown-signer-KEYID.7z (exit 5). Fetched again after the
    key was imported: already here, trusted, and moved to its own name."""
    room = plain_folder(tmp_path, secret)
    reader = tmp_path / "reader"
    Keyring(reader)
    with serving(room, tmp_path) as served:
        code, out, err = _fetch(runner, reader, tmp_path / "in", "--mirror", served.url)
        assert code == 5, out + err + served.log.read_text(errors="replace")
        (kept,) = (tmp_path / "in").glob("*.7z")
        assert ".unknown-signer-" in kept.name
        _reader(tmp_path, keyring, runner, "reader", "author")
        code, out, err = _fetch(runner, reader, tmp_path / "in", "--mirror", served.url)
    assert code == 0 and "already here" in out, (out, err)
    assert [p.name for p in (tmp_path / "in").glob("*.7z")] == [kept.name.split(".unknown-signer-")[0] + ".7z"]


def test_a_served_mirror_copy_offers_its_torrents(tmp_path: Path, host: Path) -> None:
    """fetch --torrent asks a mirror for bundles/<sha256>.torrent before anything else (web seeds never carry it):
    a room serving a mirror copy sends the publisher's file as it is, when the copy's index.json names its info
    hash; another file, or one in a folder without an index, is not offered."""
    import requests

    [torrent] = host.glob("bundles/*.torrent")
    sha = torrent.name.removesuffix(".torrent")
    with RoomThread(RoomRequest(host, port=0)) as room:
        answer = requests.get(f"{room.urls[0]}bundles/{sha}.torrent", timeout=10)
    assert answer.status_code == 200 and answer.content == torrent.read_bytes()
    assert answer.headers["Content-Type"] == "application/x-bittorrent"
    good = torrent.read_bytes()
    torrent.write_bytes(good.replace(b"6:lengthi", b"6:lengthi9", 1))  # not the info hash the index names
    with RoomThread(RoomRequest(host, port=0)) as room:
        assert requests.get(f"{room.urls[0]}bundles/{sha}.torrent", timeout=10).status_code == 404
    torrent.write_bytes(good)
    (host / "index.json").unlink()  # a plain folder: no signed info hash to hold a .torrent to
    with RoomThread(RoomRequest(host, port=0)) as room:
        assert requests.get(f"{room.urls[0]}bundles/{sha}.torrent", timeout=10).status_code == 404


def test_fetch_with_stderr_closed_finishes(tmp_path: Path, keyring: Keyring, secret: SecretKey,
                                          runner: CliRunner) -> None:
    """`mirror fetch ... 2>&-`: the progress bar of a bundle of 1 MiB or more wrote to a closed stderr, and the run
    hung at exit for good (create and publish of 64 MiB and more ended in exit 1, silently; helper-148)."""
    import os
    import subprocess
    import sys

    folder = tmp_path / "host"
    folder.mkdir()
    config = tmp_path / "mirror.toml"
    config.write_text(f'[publisher]\nkey = "alice"\n\n[hosts.usb]\nurl = "{folder}"\n')
    published = make_bundle(tmp_path / "src", secret, tmp_path / "big.7z", "Big", big_photos=1)
    assert published.stat().st_size > 1 << 20
    assert invoke(runner, "publish", published, "--config", config)[0] == 0
    reader = _reader(tmp_path, keyring, runner, "reader", "author", "publisher")
    command = [sys.executable, "-m", "mirror", "fetch", "--mirror", str(folder), "--dest", str(tmp_path / "in"),
               "--keys", str(reader)]
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    done = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, env=env, timeout=120,
                          preexec_fn=lambda: os.close(2))  # the child's stderr closed, as 2>&-
    assert done.returncode == 0 and b"ARRIVED" in done.stdout, done.stdout
    (arrived,) = (tmp_path / "in").glob("*.7z")
    assert arrived.read_bytes() == published.read_bytes()


def test_a_peer_that_serves_a_bundle_that_does_not_verify_is_not_ok(tmp_path: Path, keyring: Keyring,
                                                                    secret: SecretKey, runner: CliRunner) -> None:
    """A peer's listing gave the hash of a damaged bundle it served: the bytes matched, verification failed, and the
    peer was reported "ok" with a note about a "signed hash" no one signed (helper-157). The peer is tampered, and
    the note says whose hash it was."""
    folder = plain_folder(tmp_path, secret)
    data = bytearray((folder / "almaty.7z").read_bytes())
    data[len(data) // 2] ^= 0x55
    sha = hashlib.sha256(data).hexdigest()
    evil = tmp_path / "evil"
    (evil / "bundles").mkdir(parents=True)
    (evil / "bundles" / f"{sha}.7z").write_bytes(bytes(data))
    meta = json.loads(Listing.from_bytes(raw_listing(folder)).to_bytes())["bundles"][0]
    told = {**meta, "sha256": sha, "path": f"bundles/{sha}.7z"}
    (evil / "listing.json").write_bytes(Listing((BundleEntry(**told),)).to_bytes())
    reader = _reader(tmp_path, keyring, runner, "reader", "author")
    with MirrorServer(evil) as server:
        code, out, err = _fetch(runner, reader, tmp_path / "in", "--mirror", server.url, "--json")
    assert code == 3, (out, err)
    report = json.loads(out)
    peer = next(m for m in report["mirrors"] if m["mirror"] == server.url)
    assert peer["fate"] == "tampered", peer
    assert "signed hash" not in out and "the hash a peer's listing gave matched" in out, out
    assert not list((tmp_path / "in").glob("*.7z"))


def test_why_a_peers_listing_could_not_be_had_is_said(tmp_path: Path, keyring: Keyring, runner: CliRunner) -> None:
    """A listing too large (or busy, or an HTML page) was passed over without a word: the reader saw only "no
    mirror served a valid index" (helper-157). What went wrong with it is said; a peer with none says nothing."""
    from mirror.formats.listing import MAX_LISTING

    evil = tmp_path / "evil"
    evil.mkdir()
    (evil / "listing.json").write_bytes(b" " * (MAX_LISTING + 10))
    reader = _reader(tmp_path, keyring, runner, "reader", "author")
    with MirrorServer(evil) as server:
        code, out, err = _fetch(runner, reader, tmp_path / "in", "--mirror", server.url, "--unsigned", "--all")
    assert code == 4, (out, err)
    assert f"{server.url}: its listing could not be read" in err, err
    (evil / "listing.json").unlink()
    with MirrorServer(evil) as server:
        code, out, err = _fetch(runner, reader, tmp_path / "in2", "--mirror", server.url, "--unsigned", "--all")
    assert code == 4 and "its listing" not in err, err


def test_a_mirror_copy_cut_short_is_served_and_says_what_its_index_lacks(
        tmp_path: Path, host: Path, keyring: Keyring, secret: SecretKey, runner: CliRunner) -> None:
    """A copy kept with index v1, then cut short by a run that kept v2's new bundle but not v2's index: a room
    serves both bundles and the index as it is (v1); readers held to v1 do not see the new bundle, so the room
    says so, and how to get it. It said nothing: the page showed two bundles and fetch got one."""
    from mirror.serve import catalog

    reader = _reader(tmp_path, keyring, runner, "reader", "author", "publisher")
    kept = tmp_path / "kept"
    assert _fetch(runner, reader, tmp_path / "in", "--mirror", host, "--keep-mirror", kept)[0] == 0
    newer = make_bundle(tmp_path / "pub-src2", secret, tmp_path / "newer.7z", "Newer bundle")
    code, _, err = invoke(runner, "publish", newer, "--config", tmp_path / "mirror.toml")
    assert code == 0, err
    (kept / "index" / "2.json").mkdir()  # the pinned v2 cannot take its name: the run is cut short
    code, _, err = _fetch(runner, reader, tmp_path / "in", "--mirror", host, "--keep-mirror", kept, "--all")
    assert code == 2 and "2 bundle(s) kept, but not this run's index" in err, err
    found = catalog.scan_folder(kept, log=lambda _line: None)
    assert {o.meta.title for o in found.offers} == {"Published bundle", "Newer bundle"}
    assert found.signed_index and found.files["index.json"].data == (kept / "index.json").read_bytes()
    assert "1 bundle(s) offered on the page are not in the signed index served (index.json, version 1): `mirror " \
           "fetch` from this room holds to that index and never gets them (a browser can, from the page); a mirror " \
           "copy cut short gets its newer index when its fetch --keep-mirror is run again" in found.notes
    assert not found.skipped, found.skipped  # both offered: a note, nothing skipped
    shutil.rmtree(tmp_path / "state")
    third = _reader(tmp_path, keyring, runner, "third", "author", "publisher")
    with serving(kept, tmp_path) as room:
        code, out, err = _fetch(runner, third, tmp_path / "in3", "--mirror", room.url, "--all", "--json")
        assert code == 0, err
        assert [b["title"] for b in json.loads(out)["bundles"]] == ["Published bundle"]  # held to the signed v1
        code, out, err = _fetch(runner, third, tmp_path / "in4", "--mirror", room.url, "--all", "--unsigned")
        assert code == 0 and "'Newer bundle'" not in out, out  # --unsigned too: the signed index decides
        log = room.log.read_text()
    assert "note: 1 bundle(s) offered on the page are not in the signed index served" in log, log
    (kept / "index" / "2.json").rmdir()  # what was in the way is gone: run again, and the copy is whole
    code, _, err = _fetch(runner, reader, tmp_path / "in", "--mirror", host, "--keep-mirror", kept, "--all")
    assert code == 0, err
    found = catalog.scan_folder(kept, log=lambda _line: None)
    assert len(found.offers) == 2 and not found.skipped and not found.notes, (found.skipped, found.notes)
