"""`mirror torrent`, the .torrent that publish writes, the swarm options, and how far a session reaches."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import libtorrent as lt
import pytest
from click.testing import CliRunner

from conftest import invoke
from mirror.errors import ConfigError
from mirror.formats.torrent import Torrent, TorrentInfo, magnet_link
from mirror.swarm.settings import Reach, SwarmConfig, allowed_ranges, proxy_settings, session_settings
from mirror.trust.keyring import Keyring


@pytest.fixture
def published(tmp_path: Path, bundle: Path, keyring: Keyring, runner: CliRunner) -> Path:
    """alice's bundle published to a folder host with two public URLs and a tracker; returns mirror.toml. Schemes
    in capitals are written in small letters, by publish and by `mirror torrent` alike."""
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    config = tmp_path / "mirror.toml"
    config.write_text(f'[publisher]\nkey = "alice"\ntrackers = ["UDP://tracker.example:6969/announce"]\n\n'
                      f'[hosts.a]\nurl = "{tmp_path / "a"}"\npublic_url = "HTTPS://a.example/m/"\n\n'
                      f'[hosts.b]\nurl = "{tmp_path / "b"}"\npublic_url = "http://b.example/"\n')
    code, _, err = invoke(runner, "publish", bundle, "--config", config)
    assert code == 0, err
    return config


def test_publish_writes_the_same_torrent_every_time_and_the_index_signs_its_hash(
        tmp_path: Path, bundle: Path, published: Path, runner: CliRunner) -> None:
    """Two publishes give identical .torrent bytes; the signed entry names its info hash; libtorrent agrees."""
    sha = hashlib.sha256(bundle.read_bytes()).hexdigest()
    path = tmp_path / "a" / "bundles" / f"{sha}.torrent"
    first = path.read_bytes()
    path.unlink()
    assert invoke(runner, "publish", bundle, "--config", published)[0] == 0
    assert path.read_bytes() == first
    torrent = Torrent.from_bytes(first)
    assert torrent.web_seeds == (f"https://a.example/m/bundles/{sha}.7z", f"http://b.example/bundles/{sha}.7z")
    assert torrent.trackers == ("udp://tracker.example:6969/announce",)
    assert torrent.info.name == "test-bundle-" + json.loads((tmp_path / "a" / "index.json").read_bytes())[
        "bundles"][0]["id"][:8] + "-v1.7z"
    entry = json.loads((tmp_path / "a" / "index.json").read_bytes())["bundles"][0]
    assert entry["infohash"] == torrent.info.infohash == str(lt.torrent_info(first).info_hashes().v1)
    assert entry["magnet"] == magnet_link(torrent.info, torrent.web_seeds, torrent.trackers)


def test_torrent_command_makes_the_published_file(tmp_path: Path, bundle: Path, published: Path,
                                                  runner: CliRunner) -> None:
    """`mirror torrent` with the same mirror.toml writes the bytes publish wrote; --mirror makes another list."""
    sha = hashlib.sha256(bundle.read_bytes()).hexdigest()
    out = tmp_path / "made.torrent"
    code, stdout, err = invoke(runner, "torrent", bundle, "-o", out, "--config", published, "--json")
    assert code == 0, err
    assert out.read_bytes() == (tmp_path / "a" / "bundles" / f"{sha}.torrent").read_bytes()
    doc = json.loads(stdout)
    assert doc["infohash"] == Torrent.from_bytes(out.read_bytes()).info.infohash and doc["magnet"].startswith("magnet:")
    code, _, err = invoke(runner, "torrent", bundle, "-o", out, "--config", published)
    assert code == 2 and "already exists" in err
    code, stdout, _ = invoke(runner, "torrent", bundle, "-o", out, "--force", "--mirror", "https://c.example/")
    assert code == 0 and "TORRENT" in stdout and doc["infohash"] in stdout  # the info hash ignores the mirrors
    assert Torrent.from_bytes(out.read_bytes()).web_seeds == (f"https://c.example/bundles/{sha}.7z",)
    for url in ("ftp://c.example/", "udp://c.example:6969"):  # udp:// was let through, and left out without a word
        code, _, err = invoke(runner, "torrent", bundle, "-o", tmp_path / "x.torrent", "--mirror", url)
        assert code == 2 and "http(s)" in err and not (tmp_path / "x.torrent").exists(), err
    code, _, err = invoke(runner, "torrent", bundle, "-o", out, "--force", "--mirror", "https://c.example/m",
                          "--mirror", "https://c.example/m/")  # one mirror, named twice: one web seed
    assert code == 0, err
    assert Torrent.from_bytes(out.read_bytes()).web_seeds == (f"https://c.example/m/bundles/{sha}.7z",)
    code, _, err = invoke(runner, "torrent", bundle, "-o", out, "--force", "--mirror", "HTTPS://c.example/m/",
                          "--tracker", "UDP://t.example:6969/announce")
    assert code == 0, err  # a scheme in capitals is still http(s): it was refused, or left out without a word
    made = Torrent.from_bytes(out.read_bytes())  # and libtorrent knows only small letters ("unsupported URL")
    assert made.web_seeds == (f"https://c.example/m/bundles/{sha}.7z",)
    assert made.trackers == ("udp://t.example:6969/announce",), made.trackers
    code, _, err = invoke(runner, "torrent", bundle, "-o", bundle, "--force")
    assert code == 2 and "the output name must end in .torrent" in err
    (tmp_path / "link.torrent").symlink_to(bundle)
    code, _, err = invoke(runner, "torrent", bundle, "-o", tmp_path / "link.torrent", "--force")
    assert code == 2 and "is the bundle itself" in err and bundle.read_bytes()[:2] == b"7z", err


def test_torrent_command_refuses_untrusted_and_damaged(tmp_path: Path, bundle: Path, runner: CliRunner) -> None:
    """An unknown author needs --untrusted (exit 5 otherwise); a damaged bundle gets no torrent (exit 3)."""
    strangers = tmp_path / "other-keys"
    code, _, err = invoke(runner, "torrent", bundle, "--keys", strangers)
    assert code == 5 and "not in your keyring" in err and not bundle.with_suffix(".torrent").exists()
    assert invoke(runner, "torrent", bundle, "--keys", strangers, "--untrusted")[0] == 0
    assert bundle.with_suffix(".torrent").exists()
    damaged = tmp_path / "damaged.7z"
    data = bytearray(bundle.read_bytes())
    data[-100] ^= 0xFF
    damaged.write_bytes(bytes(data))
    assert invoke(runner, "torrent", damaged)[0] == 3 and not damaged.with_suffix(".torrent").exists()


def test_torrent_command_refuses_a_bundle_that_changed_after_it_was_verified(
        tmp_path: Path, bundle: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    """The torrent is of the bytes that verified: a copy rewritten in place between the check and the hashing (a
    stick still being written, another bundle copied over it) had a .torrent made of bytes nobody checked."""
    import mirror.bundle.verify as verify_module

    checked = verify_module.verify_bundle

    def verify_then_rewrite(path: Path, *args: object, **kwargs: object) -> object:
        result = checked(path, *args, **kwargs)  # type: ignore[arg-type]
        data = bytearray(path.read_bytes())
        data[40] ^= 0xFF  # the same size, other bytes, written a second later
        path.write_bytes(bytes(data))
        later = path.stat().st_mtime_ns + 1_000_000_000
        os.utime(path, ns=(later, later))
        return result

    monkeypatch.setattr(verify_module, "verify_bundle", verify_then_rewrite)
    out = tmp_path / "made.torrent"
    code, _, err = invoke(runner, "torrent", bundle, "-o", out)
    assert code == 2 and "changed after it was verified" in err and not out.exists(), err


@pytest.mark.parametrize("url", ["http://user:s3cret@127.0.0.1:1/m/", "https://token@mirror.example/m/"])
def test_torrent_command_refuses_a_url_with_credentials(tmp_path: Path, bundle: Path, runner: CliRunner,
                                                        url: str) -> None:
    """A .torrent and its magnet link are passed on to anyone: a web seed or tracker URL holding a user name or
    password (as publish refuses in mirror.toml) would give it away."""
    for option in ("--mirror", "--tracker"):
        code, out, err = invoke(runner, "torrent", bundle, option, url)
        assert code == 2 and "user name or password" in err, (out, err)
        assert "s3cret" not in out + err and "token" not in out
        assert not bundle.with_suffix(".torrent").exists()


def test_torrent_command_refuses_urls_without_a_host_and_a_folder_that_is_not_there(tmp_path: Path, bundle: Path,
                                                                                    runner: CliRunner) -> None:
    """'udp://[::1' was written into the .torrent and its magnet link; -o in a folder that does not exist made
    every folder on the way. Both are usage errors now, with nothing written; seed --tracker needs --public."""
    for option, url in (("--tracker", "udp://[::1"), ("--mirror", "http://:80/"), ("--tracker", "udp://h:99999")):
        code, _, err = invoke(runner, "torrent", bundle, option, url)
        assert code == 2 and "names no host" in err, (url, err)
    assert not bundle.with_suffix(".torrent").exists()
    code, _, err = invoke(runner, "torrent", bundle, "-o", tmp_path / "no" / "such" / "t.torrent")
    assert code == 2 and "is not a folder" in err and not (tmp_path / "no").exists(), err
    code, _, err = invoke(runner, "seed", bundle.parent, "--tracker", "udp://127.0.0.1:6969")
    assert code == 2 and "only used with --public" in err, err


def test_an_at_sign_after_the_host_is_not_a_password(tmp_path: Path, bundle: Path, runner: CliRunner) -> None:
    code, _, err = invoke(runner, "torrent", bundle, "--mirror", "http://127.0.0.1:1/m/?from=a@b")
    assert code == 0, err


def test_fetch_list_shows_the_signed_magnet_links(tmp_path: Path, published: Path, runner: CliRunner) -> None:
    """`fetch --list --json` shows each bundle's info hash and magnet link from the signed index."""
    code, stdout, err = invoke(runner, "fetch", "--mirror", tmp_path / "a", "--list", "--json")
    assert code == 0, err
    entry = json.loads(stdout)["index"]["bundles"][0]
    assert entry["magnet"].startswith(f"magnet:?xt=urn:btih:{entry['infohash']}&")


def test_fetch_without_the_swarm_points_to_it_when_mirrors_fail(tmp_path: Path, published: Path, bundle: Path,
                                                               runner: CliRunner) -> None:
    """Every mirror failed for a bundle the swarm also has: the reader is told, never sent there silently."""
    sha = hashlib.sha256(bundle.read_bytes()).hexdigest()
    (tmp_path / "a" / "bundles" / f"{sha}.7z").unlink()
    code, _, err = invoke(runner, "fetch", "--mirror", tmp_path / "a", "--dest", tmp_path / "in")
    assert code == 4 and "mirror fetch --torrent" in err and "see your IP address" in err


@pytest.mark.parametrize(("args", "message"), [
    pytest.param(("--peer", "example.org:6881"), "expected IP:PORT", id="peer by name"),
    pytest.param(("--peer", "127.0.0.1:0"), "port out of range", id="peer port 0"),
    pytest.param(("--lan", "--public"), "exclude each other", id="lan and public"),
    pytest.param(("--torrent", "--lan", "--proxy", "socks5h://127.0.0.1:9050"), "a proxy hides your address",
                 id="lan and proxy"),
    pytest.param(("--lan", "--proxy", "socks5h://127.0.0.1:9050"), "a proxy hides your address",
                 id="rooms on the lan and proxy"),  # helper-145: the rooms found were asked through the proxy
    pytest.param(("--torrent", "--proxy", "http://127.0.0.1:3128"), "SOCKS5 proxy only", id="http proxy"),
    # libtorrent keeps a rate in a 32-bit int: 2097152 KiB/s wrapped to 0 (no limit), more was an OverflowError
    pytest.param(("--torrent", "--upload-limit", "2097152"), "2097152 is not in the range", id="upload limit"),
    pytest.param(("--torrent", "--upload-limit", "99999999999999999999"), "is not in the range", id="huge limit"),
])
def test_swarm_options_are_checked(tmp_path: Path, published: Path, runner: CliRunner, args: tuple[str, ...],
                                   message: str) -> None:
    """Contradictory or unsafe swarm options are a usage error, before anything is contacted."""
    code, _, err = invoke(runner, "fetch", "--mirror", tmp_path / "a", "--dest", tmp_path / "in", *args)
    assert code == 2 and message in err, err
    assert not (tmp_path / "in").exists()


def test_seed_joins_the_swarm_of_a_torrent_beside_the_bundle(tmp_path: Path, bundle: Path,
                                                              runner: CliRunner) -> None:
    """A .torrent beside a bundle with the same pieces sets the info hash (whatever its name); another is ignored."""
    folder = tmp_path / "shared"
    folder.mkdir()
    shared = folder / "b.7z"
    shared.write_bytes(bundle.read_bytes())
    assert invoke(runner, "torrent", shared)[0] == 0
    ours = Torrent.from_bytes(shared.with_suffix(".torrent").read_bytes()).info
    renamed = TorrentInfo("named-elsewhere.7z", ours.length, ours.piece_length, ours.pieces)
    shared.with_suffix(".torrent").write_bytes(Torrent(renamed).to_bytes())
    code, out, err = invoke(runner, "seed", folder, "--stop-after", "1")
    assert code == 0, err
    assert f"SEEDING  named-elsewhere.7z  {renamed.infohash}" in out
    assert f"not the one publish makes ({ours.infohash})" in err  # said: no signed index here to say which
    other = TorrentInfo("named-elsewhere.7z", ours.length, ours.piece_length, bytes(len(ours.pieces)))
    shared.with_suffix(".torrent").write_bytes(Torrent(other).to_bytes())
    code, out, err = invoke(runner, "seed", folder, "--stop-after", "1")
    assert code == 0 and f"SEEDING  {ours.name}  {ours.infohash}" in out
    assert "b.torrent beside it is not used (it describes other bytes" in err, err  # it was passed over unsaid
    from mirror.formats.bencode import bdecode, bencode

    stock = bdecode(Torrent(renamed).to_bytes(), 1 << 20)  # another client's: its own keys beside the info dict
    assert isinstance(stock, dict)
    shared.with_suffix(".torrent").write_bytes(bencode({**stock, b"created by": b"Transmission/4.0.6"}))
    code, out, err = invoke(runner, "seed", folder, "--stop-after", "1")
    assert code == 0 and f"SEEDING  {ours.name}  {ours.infohash}" in out
    assert "mirror reads only the .torrent files it writes" in err and ours.infohash in err, err


def test_seed_of_a_mirror_copy_keeps_to_the_swarm_its_signed_index_names(tmp_path: Path, bundle: Path,
                                                                         published: Path, runner: CliRunner) -> None:
    """A courier rewrote a mirror copy's bundles/<sha256>.torrent under another name, with the same pieces: the
    seed followed it out of the swarm readers look in (the signed index's info hash), without a word. The copy's
    index, when its signature checks out with a publisher key in the keyring, now says which swarm."""
    copy = tmp_path / "a"
    sha = hashlib.sha256(bundle.read_bytes()).hexdigest()
    torrent = copy / "bundles" / f"{sha}.torrent"
    ours = Torrent.from_bytes(torrent.read_bytes()).info
    decoy = TorrentInfo("decoy.7z", ours.length, ours.piece_length, ours.pieces)
    torrent.write_bytes(Torrent(decoy).to_bytes())
    code, out, err = invoke(runner, "seed", copy, "--stop-after", "1")
    assert code == 0, err
    assert f"SEEDING  {ours.name}  {ours.infohash}" in out and decoy.infohash not in out + err


def test_seed_needs_bundles(tmp_path: Path, runner: CliRunner) -> None:
    """A folder without bundles is a usage error."""
    (tmp_path / "empty").mkdir()
    code, _, err = invoke(runner, "seed", tmp_path / "empty")
    assert code == 2 and "no bundles" in err


def test_local_reach_turns_every_discovery_off() -> None:
    """The default: 127.0.0.1 only, no DHT (not even its bootstrap names), no LSD, UPnP, NAT-PMP."""
    settings = session_settings(SwarmConfig(port=6881, upload_limit=1000))
    assert settings["listen_interfaces"] == "127.0.0.1:6881" and settings["dht_bootstrap_nodes"] == ""
    assert not any(settings[k] for k in ("enable_dht", "enable_lsd", "enable_upnp", "enable_natpmp"))
    assert settings["upload_rate_limit"] == 1000 and allowed_ranges(Reach.LOCAL) is None


def test_a_burst_of_readers_fits_the_listen_backlog() -> None:
    """libtorrent's backlog of 5 dropped most of a burst of connections on a busy machine (each then tried again a
    second or more later): the backlog follows --max-peers, within bounds."""
    assert session_settings(SwarmConfig())["listen_queue_size"] == SwarmConfig().max_peers
    assert session_settings(SwarmConfig(max_peers=1))["listen_queue_size"] == 5
    assert session_settings(SwarmConfig(max_peers=100_000))["listen_queue_size"] == 1024


def test_lan_reach_filters_everything_outside_the_local_network() -> None:
    """--lan: every interface, LSD on, DHT off; libtorrent's IP filter blocks public addresses, web seeds too."""
    from mirror.swarm.engine import _ip_filter

    settings = session_settings(SwarmConfig(Reach.LAN))
    assert settings["enable_lsd"] and not settings["enable_dht"] and not settings["enable_upnp"]
    assert settings["listen_interfaces"] == "0.0.0.0:0,[::]:0"
    ranges = allowed_ranges(Reach.LAN)
    assert ranges is not None
    blocked = _ip_filter(ranges)
    for address in ("192.168.1.20", "10.0.0.5", "172.16.3.4", "169.254.1.1", "127.0.0.1", "fe80::1", "fd00::2"):
        assert blocked.access(address) == 0, address
    for address in ("8.8.8.8", "172.32.0.1", "100.64.0.1", "2001:db8::1", "93.184.216.34"):
        assert blocked.access(address) == 1, address


def test_on_the_local_network_only_local_mirrors_are_web_seeds() -> None:
    """--lan: a mirror named by a public name would be looked up through the DNS server, outside the network (and
    then refused by the filter): only addresses in the local ranges and .local names are web seeds."""
    from mirror.fetch.swarm import SwarmSource

    lan = SwarmSource(SwarmConfig(Reach.LAN), (), 5.0, lambda line: None)
    for base in ("http://192.168.1.5:8470/", "http://[fe80::1]:8470/", "http://laptop.local:8470/",
                 "http://127.0.0.1:8470/"):
        assert lan._may_seed(base), base
    for base in ("https://mirror.example.org/m/", "http://8.8.8.8/", "http://100.64.0.1/", "http://[2001:db8::1]/"):
        assert not lan._may_seed(base), base
    assert SwarmSource(SwarmConfig(), (), 5.0, lambda line: None)._may_seed("https://mirror.example.org/m/")


def test_public_reach_and_proxy_settings() -> None:
    """--public turns on DHT with libtorrent's own bootstrap nodes; a SOCKS5h proxy carries peers and trackers."""
    settings = session_settings(SwarmConfig(Reach.PUBLIC))
    assert all(settings[k] for k in ("enable_dht", "enable_lsd", "enable_upnp", "enable_natpmp"))
    assert "dht_bootstrap_nodes" not in settings
    proxy = proxy_settings("socks5h://user:pw@127.0.0.1:9050")
    assert proxy["proxy_type"] == int(lt.proxy_type_t.socks5_pw) and proxy["proxy_hostnames"] is True
    assert proxy_settings("socks5://127.0.0.1:9050")["proxy_type"] == int(lt.proxy_type_t.socks5)
    with pytest.raises(ConfigError):
        SwarmConfig(Reach.PUBLIC, proxy="socks5h://127.0.0.1:9050")


def test_a_web_seed_name_that_never_resolves_holds_up_nothing() -> None:
    """The local reach's filter looks each web seed's host up with a deadline; a lookup that hangs is left behind
    and does not keep the process from ending (it waited for it at exit)."""
    script = ("import socket, time\n"
              "import mirror.swarm.engine as engine\n"
              "socket.getaddrinfo = lambda *a, **k: time.sleep(600)\n"
              "engine.RESOLVE_WAIT = 0.5\n"
              "assert engine._addresses('mirror.example') == set()\n"
              "assert engine._addresses('127.0.0.1') == {'127.0.0.1'}\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr


def test_seed_on_a_port_that_is_taken_says_so(tmp_path: Path, bundle: Path, runner: CliRunner) -> None:
    """--port names the port others are told to connect to: if another program holds it, seed stops with that
    reason, where libtorrent would have listened on the next free port up without a word."""
    folder = tmp_path / "shared"
    folder.mkdir()
    (folder / "b.7z").write_bytes(bundle.read_bytes())
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        code, out, err = invoke(runner, "seed", folder, "--port", str(port), "--stop-after", "1")
    assert code == 1 and f"cannot listen: 127.0.0.1:{port}" in err and "choose another --port" in err, err
    assert "SEEDING" not in out
    code, out, err = invoke(runner, "seed", folder, "--port", str(port), "--stop-after", "1")  # free again
    assert code == 0 and "SEEDING" in out, err
