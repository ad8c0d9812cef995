"""Each driver lists a folder in one request (`Host.sizes`), and a publish checks what a host holds with one listing
per folder instead of a size request per file, and notices a deleted side file, on the real servers (helper-174)."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Collection
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import invoke
from mirror.bundle.create import CreateRequest, create_bundle
from mirror.errors import TransferError
from mirror.formats.index import BundleEntry
from mirror.formats.layout import sums_paths, torrent_path
from mirror.publish.config import HostConfig
from mirror.publish.held import needed, short, sizes_on
from mirror.publish.hosts import open_host
from mirror.publish.hosts.base import Host
from mirror.publish.send import _still_there
from mirror.record import replace
from mirror.trust.keys import SecretKey
from servers import DavServer

DRIVERS = ["dir", "nginx", "wsgidav", "apache", "sftp", "s3"]
DAV_FIXTURES = {"nginx": "nginx_dav", "wsgidav": "wsgidav", "apache": "apache_dav"}


def _host(kind: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch,
          tmp_path: Path) -> tuple[HostConfig, Callable[[str], None]]:
    """A fresh folder (or prefix) on a real server of `kind`, and a way to delete a file there behind publish's
    back, as the host's admin would."""
    run = uuid.uuid4().hex[:10]
    if kind in DAV_FIXTURES:
        server = request.getfixturevalue(DAV_FIXTURES[kind])
        config = server.host_config(monkeypatch, url=f"{server.url}{run}/")
        return config, lambda path: (server.root / run / path).unlink()
    if kind == "sftp":
        server = request.getfixturevalue("sshd_sftp")
        config = server.host_config()
        return replace(config, url=f"{config.url}/{run}"), lambda path: (server.root / run / path).unlink()
    if kind == "s3":
        server = request.getfixturevalue("seaweed_s3")
        config = server.host_config(monkeypatch, prefix=run)

        def delete(path: str) -> None:
            driver = open_host(config)
            try:
                driver._client.delete_object(Bucket=server.bucket, Key=f"{run}/{path}")  # type: ignore[attr-defined]
            finally:
                driver.close()

        return config, delete
    folder = tmp_path / "usb"
    folder.mkdir()
    return HostConfig(name="usb", kind="dir", url=str(folder)), lambda path: (folder / path).unlink()


def _entry(host: Host, tmp_path: Path, n: int) -> BundleEntry:
    """A listed bundle whose four files are on `host` (any bytes: only sizes are looked at here)."""
    data = f"bundle {n} ".encode() * (100 + n)
    sha = hashlib.sha256(data).hexdigest()
    entry = BundleEntry.for_bundle(f"{n:032x}", 1, sha, len(data), f"Bundle {n}", "0" * 16)
    for path, body in ((entry.path, data), *((p, b"side " + p.encode()) for p in (*sums_paths(sha),
                                                                                   torrent_path(sha)))):
        local = tmp_path / f"up-{n}-{path.rpartition('/')[2]}"
        local.write_bytes(body)
        host.upload(path, local, hashlib.sha256(body).hexdigest())
    return entry


class _Counted:
    """Counts a driver's size requests (stat) and listings (sizes)."""

    def __init__(self, host: Host) -> None:
        self.stats: list[str] = []
        self.lists: list[str] = []
        stat, sizes = host.stat, host.sizes

        def counted_stat(path: str) -> int | None:
            self.stats.append(path)
            return stat(path)

        def counted_sizes(folder: str, wanted: Collection[str] | None = None) -> dict[str, int] | None:
            self.lists.append(folder)
            return sizes(folder, wanted)

        host.stat = counted_stat  # type: ignore[method-assign]
        host.sizes = counted_sizes  # type: ignore[method-assign]


@pytest.mark.parametrize("kind", DRIVERS)
def test_a_folder_is_listed_with_its_files_sizes(kind: str, request: pytest.FixtureRequest,
                                                 monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """One listing gives every file directly in the folder with its size; a folder inside it is not a file, and a
    folder that is not there lists empty."""
    config, _ = _host(kind, request, monkeypatch, tmp_path)
    host = open_host(config)
    try:
        entry = _entry(host, tmp_path, 1)
        inner = tmp_path / "inner"
        inner.write_bytes(b"x" * 7)
        host.upload("bundles/sub/inner.bin", inner, hashlib.sha256(b"x" * 7).hexdigest())
        sizes = host.sizes("bundles")
        assert sizes is not None
        name = entry.path.rpartition("/")[2]
        assert sizes[name] == entry.size and "inner.bin" not in sizes and "sub" not in sizes, sizes
        assert sorted(sizes) == sorted(p.rpartition("/")[2] for p in (entry.path, *sums_paths(entry.sha256),
                                                                        torrent_path(entry.sha256)))
        assert host.sizes("bundles/sub") == {"inner.bin": 7}
        assert host.sizes("nothing-here") == {}
    finally:
        host.close()


@pytest.mark.parametrize("kind", DRIVERS)
def test_a_hosts_copy_is_checked_with_one_listing_and_a_deleted_side_file_is_noticed(
        kind: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Three held bundles, twelve files: one listing of bundles/ (it was one HEAD or stat per bundle, and only of
    the .7z); a signature file deleted on the server refuses the host its index, naming the file."""
    config, delete = _host(kind, request, monkeypatch, tmp_path)
    host = open_host(config)
    try:
        entries = [_entry(host, tmp_path, n) for n in range(3)]
        counted = _Counted(host)
        _still_there(host, entries, print)
        assert (counted.lists, counted.stats) == (["bundles"], [])
        signature = sums_paths(entries[1].sha256)[1]
        delete(signature)
        missing: list[str] = []
        with pytest.raises(TransferError, match=f"whose {re.escape(signature)}, which is no longer on this host"):
            _still_there(host, entries, print, missing)
        assert missing == [entries[1].path] and counted.lists == ["bundles", "bundles"] and not counted.stats
    finally:
        host.close()


def _requests(log: Path, start: int) -> list[tuple[str, str]]:
    """(method, path) of each request nginx logged after byte `start` of its access log."""
    found = re.findall(r'"([A-Z]+) (\S+) HTTP/1\.[01]"', log.read_text()[start:])
    return [(method, path) for method, path in found]


def test_a_refresh_with_nothing_changed_lists_bundles_once_on_nginx(
        tmp_path: Path, bundle: Path, sources: Path, secret: SecretKey, runner: CliRunner,
        nginx_dav: DavServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Counted in nginx's own access log: a refresh of two held bundles sends one PROPFIND of bundles/ and no HEAD
    there (it sent a HEAD per bundle, and looked at no side file); a deleted .torrent is then sent again, without
    reading its bundle back."""
    run = uuid.uuid4().hex[:10]
    dav = nginx_dav.host_config(monkeypatch, url=f"{nginx_dav.url}{run}/")
    config = tmp_path / "mirror.toml"
    config.write_text(f'[publisher]\nkey = "alice"\n\n[hosts.dav]\nurl = "{dav.url}"\nusername = "{dav.username}"\n'
                      f'password_env = "{dav.password_env}"\n')
    (sources / "accounts" / "more.txt").write_text("Another account, written later.\n")
    other = tmp_path / "other.7z"
    create_bundle(CreateRequest(sources, other, title="Another bundle"), secret)
    for path in (bundle, other):
        assert invoke(runner, "publish", path, "--config", config)[0] == 0
    log = nginx_dav.root.parents[1] / "access.log"
    start = len(log.read_text())
    code, out, err = invoke(runner, "refresh", "--config", config)
    assert code == 0 and "OK    dav" in out, out + err
    seen = [(m, p) for m, p in _requests(log, start) if p.startswith(f"/mirror/{run}/bundles/")]
    assert seen == [("PROPFIND", f"/mirror/{run}/bundles/")], seen
    torrent = next((nginx_dav.root / run / "bundles").glob("*.torrent"))
    torrent.unlink()
    start = len(log.read_text())
    code, out, err = invoke(runner, "refresh", "--config", config)
    assert code == 0 and f"lacks bundles/{torrent.name}" in err and torrent.stat().st_size > 0, out + err
    seen = _requests(log, start)
    assert [m for m, p in seen if m == "PROPFIND"] == ["PROPFIND"]
    # its bundle's .7z was seen at its size: the .torrent is sent again, and the .7z is not read back whole
    assert not [p for m, p in seen if m == "GET" and p.endswith(".7z")], seen


def test_a_long_sftp_listing_counts_as_data_arriving(request: pytest.FixtureRequest,
                                                     monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The names of a long listing arriving over a slow link are data: the driver's watch ended a listing that took
    longer than the host's timeout with "nothing arrived", however steadily the names came."""
    import time

    import paramiko

    config, _ = _host("sftp", request, monkeypatch, tmp_path)
    host = open_host(replace(config, timeout=1.0, min_rate=0))
    real = paramiko.SFTPClient.listdir_iter

    def slowly(self: paramiko.SFTPClient, path: str = ".", read_aheads: int = 50) -> object:
        for entry in real(self, path, read_aheads):
            time.sleep(0.1)  # a slow link: one name every tenth of a second
            yield entry

    try:
        entries = [_entry(host, tmp_path, n) for n in range(6)]  # 24 files: 2.4 s of names
        monkeypatch.setattr(paramiko.SFTPClient, "listdir_iter", slowly)
        sizes = host.sizes("bundles")
        assert sizes is not None and len(sizes) == 24 and sizes[entries[0].path.rpartition("/")[2]] == entries[0].size
    finally:
        host.close()


@pytest.mark.parametrize("left_out", ["st_mode", "st_size"])
def test_an_sftp_listing_without_types_or_sizes_is_not_taken_as_an_empty_folder(
        request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, left_out: str) -> None:
    """A server may leave permissions (or sizes) out of READDIR's attributes; a name without them was passed over
    as no file, so every file of bundles/ looked missing and every held bundle was sent again in every run. Such a
    listing is not used: each file is asked for by stat, which the same server answers."""
    import paramiko

    config, _ = _host("sftp", request, monkeypatch, tmp_path)
    host = open_host(config)
    real = paramiko.SFTPClient.listdir_iter

    def bare(self: paramiko.SFTPClient, path: str = ".", read_aheads: int = 50) -> object:
        for entry in real(self, path, read_aheads):
            setattr(entry, left_out, None)
            yield entry

    try:
        entry = _entry(host, tmp_path, 0)
        monkeypatch.setattr(paramiko.SFTPClient, "listdir_iter", bare)
        assert host.sizes("bundles") is None
        paths = [path for path, _ in needed(entry)]
        sizes = sizes_on(host, paths, print)
        assert sizes[entry.path] == entry.size and not short(entry, sizes)
    finally:
        host.close()
