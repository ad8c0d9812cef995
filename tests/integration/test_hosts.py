"""Every host driver against a real server of its kind, and DirectoryHost on tmp_path."""

from __future__ import annotations

import errno
import hashlib
import io
import re
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from helpers import require_tool
from mirror.errors import ConfigError, MissingFile, TransferError
from mirror.publish.config import HostConfig
from mirror.publish.hosts import Host, open_host, read_back, sending_progress, webdav

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

    from servers import DavServer, S3Server, SftpServer


LOOPBACK = "127.0.0.1"

KINDS = ["dir", "nginx", "wsgidav", "sftp", "s3"]


@dataclass
class Target:
    """A host under test, and every name it stores (temporaries included), read past the driver."""

    kind: str
    host: Host
    stored: Callable[[], set[str]]


def _files(root: Path) -> Callable[[], set[str]]:
    return lambda: {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def _s3_client(server: S3Server) -> S3Client:
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "s3", endpoint_url=server.endpoint, region_name="us-east-1", aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key, config=Config(s3={"addressing_style": "path"}))


def _s3_keys(server: S3Server, prefix: str) -> Callable[[], set[str]]:
    def stored() -> set[str]:
        client = _s3_client(server)
        try:
            listing = client.list_objects_v2(Bucket=server.bucket, Prefix=prefix + "/")
            uploads = client.list_multipart_uploads(Bucket=server.bucket, Prefix=prefix + "/")
        finally:
            client.close()
        names = {item["Key"].removeprefix(prefix + "/") for item in listing.get("Contents", [])}
        return names | {f"(multipart) {item['Key']}" for item in uploads.get("Uploads", [])}
    return stored


def _config(kind: str, request: pytest.FixtureRequest, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> tuple[HostConfig, Callable[[], set[str]]]:
    """A HostConfig for a fresh folder (or key prefix) of the `kind` server, and its listing."""
    unique = f"t{secrets.token_hex(4)}"
    if kind == "dir":
        root = tmp_path / "usb" / "mirror"
        root.mkdir(parents=True)
        return HostConfig(name="usb", kind="dir", url=root.as_uri()), _files(root)
    if kind in ("nginx", "wsgidav"):
        dav: DavServer = request.getfixturevalue("nginx_dav" if kind == "nginx" else "wsgidav")
        (dav.root / unique).mkdir()
        return dav.host_config(monkeypatch, url=f"{dav.url}{unique}/"), _files(dav.root / unique)
    if kind == "sftp":
        ssh: SftpServer = request.getfixturevalue("sshd_sftp")
        (ssh.root / unique).mkdir()
        config = ssh.host_config()
        return HostConfig(name=config.name, kind="sftp", url=f"{config.url}/{unique}", key_file=ssh.key_file,
                          known_hosts=ssh.known_hosts, timeout=5.0), _files(ssh.root / unique)
    s3: S3Server = request.getfixturevalue("seaweed_s3")
    return s3.host_config(monkeypatch, prefix=unique), _s3_keys(s3, unique)


@pytest.fixture(params=KINDS)
def target(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Target]:
    """An open host of each kind, rooted in a folder of its own."""
    config, stored = _config(request.param, request, tmp_path, monkeypatch)
    host = open_host(config)
    yield Target(request.param, host, stored)
    host.close()


def _source(tmp_path: Path, data: bytes, name: str = "source.bin") -> tuple[Path, str]:
    path = tmp_path / name
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


class _FailingFile(io.BufferedReader):
    """A local file whose reads fail once `after` bytes have been read, like a dying USB stick."""

    def __init__(self, path: Path, after: int) -> None:
        super().__init__(io.FileIO(path, "rb"))
        self._after = after

    def read(self, size: int | None = -1) -> bytes:
        position = self.tell()
        if position >= self._after:
            raise OSError(errno.EIO, "simulated read error")
        want = self._after - position if size is None or size < 0 else min(size, self._after - position)
        return super().read(want)


def _fail_reading(monkeypatch: pytest.MonkeyPatch, source: Path, after: int) -> None:
    real_open = Path.open

    def fake_open(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        return _FailingFile(self, after) if self == source else real_open(self, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "open", fake_open)


def test_upload_then_read_it_every_way(target: Target, tmp_path: Path) -> None:
    """An upload into a new folder can be stat'ed, read, streamed and read back, with no temporary left."""
    data = secrets.token_bytes(3 * 1024 * 1024 + 17)
    source, sha256 = _source(tmp_path, data)
    target.host.upload("bundles/ab12.7z", source, sha256)
    assert target.host.stat("bundles/ab12.7z") == len(data)
    assert target.host.read("bundles/ab12.7z", limit=len(data)) == data
    assert b"".join(target.host.stream("bundles/ab12.7z")) == data
    read_back(target.host, "bundles/ab12.7z", sha256, len(data))
    with pytest.raises(TransferError, match="reads back longer"):
        read_back(target.host, "bundles/ab12.7z", sha256, len(data) - 1)
    assert target.stored() == {"bundles/ab12.7z"}


def test_overwrite_with_same_size(target: Target, tmp_path: Path) -> None:
    """A same-size change replaces the old bytes (never compare by size alone)."""
    for letter in (b"A", b"B"):
        source, sha256 = _source(tmp_path, letter * 4096)
        target.host.upload("index.json", source, sha256)
    assert target.host.read("index.json", limit=4096) == b"B" * 4096
    assert target.stored() == {"index.json"}


def test_missing_file(target: Target) -> None:
    """An absent path: stat says None, read and stream raise MissingFile."""
    assert target.host.stat("bundles/none.7z") is None
    with pytest.raises(MissingFile):
        target.host.read("none.json", limit=100)
    with pytest.raises(MissingFile):
        list(target.host.stream("bundles/none.7z"))


def test_read_refuses_more_than_limit(target: Target, tmp_path: Path) -> None:
    """read(limit) refuses a larger file, and the error is not MissingFile."""
    source, sha256 = _source(tmp_path, b"x" * 1000)
    target.host.upload("index.json", source, sha256)
    with pytest.raises(TransferError, match="larger than 999 bytes") as caught:
        target.host.read("index.json", limit=999)
    assert not isinstance(caught.value, MissingFile)
    assert target.host.read("index.json", limit=1000) == b"x" * 1000


def test_upload_cut_off_keeps_old_file(target: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A source that fails midway leaves the old file whole, and no temporary where the server is atomic."""
    old, old_sha = _source(tmp_path, b"old " * 1024, "old.bin")
    target.host.upload("bundles/index.json", old, old_sha)
    new, new_sha = _source(tmp_path, secrets.token_bytes(2 * 1024 * 1024), "new.bin")
    _fail_reading(monkeypatch, new, after=512 * 1024)
    with pytest.raises(OSError, match="simulated read error"):
        target.host.upload("bundles/index.json", new, new_sha)
    assert target.host.read("bundles/index.json", limit=1 << 20) == b"old " * 1024
    leftovers = target.stored() - {"bundles/index.json"}
    if target.kind == "wsgidav":  # it writes a PUT body straight to its name, and may do so after our DELETE
        assert all(re.fullmatch(r"bundles/\.index\.json\.[0-9a-f]{16}\.part", name) for name in leftovers)
    else:
        assert leftovers == set()


@pytest.mark.parametrize("target", ["dir", "nginx", "sftp"], indirect=True)
def test_failed_rename_leaves_no_temporary(target: Target, tmp_path: Path) -> None:
    """When the rename is refused (a folder holds the name), the uploaded temporary is deleted."""
    keep, keep_sha = _source(tmp_path, b"keep", "keep.bin")
    target.host.upload("index.json/keep", keep, keep_sha)
    source, sha256 = _source(tmp_path, b"new index")
    with pytest.raises(TransferError) as caught:
        target.host.upload("index.json", source, sha256)
    assert caught.value.transient is False
    assert target.stored() == {"index.json/keep"}


def test_read_back_catches_other_bytes(target: Target, tmp_path: Path) -> None:
    """An upload whose stored bytes do not hash to the given sha256 fails."""
    source, _ = _source(tmp_path, b"content")
    with pytest.raises(TransferError, match="another sha256"):
        target.host.upload("index.json", source, "0" * 64)


@pytest.mark.parametrize("path", ["../escape.json", "/etc/passwd", "a//b", "a/./b", "", "a\\b"])
def test_unsafe_paths_are_refused(target: Target, path: str) -> None:
    """Paths that could leave the host's root are refused before any request."""
    with pytest.raises(TransferError, match="unsafe path"):
        target.host.stat(path)


def test_s3_multipart_upload_and_abort(seaweed_s3: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above the threshold S3 uploads in parts; a failed part aborts the upload and keeps the old object."""
    from mirror.publish.hosts.s3 import S3Host

    prefix = f"t{secrets.token_hex(4)}"
    host = open_host(seaweed_s3.host_config(monkeypatch, prefix=prefix))
    assert isinstance(host, S3Host)
    host.multipart_threshold = host.part_size = 5 * 1024 * 1024
    data = secrets.token_bytes(11 * 1024 * 1024)
    source, sha256 = _source(tmp_path, data, "big.bin")
    host.upload("bundles/big.7z", source, sha256)
    assert host.stat("bundles/big.7z") == len(data)
    bigger, bigger_sha = _source(tmp_path, secrets.token_bytes(12 * 1024 * 1024), "bigger.bin")
    _fail_reading(monkeypatch, bigger, after=7 * 1024 * 1024)
    with pytest.raises(OSError, match="simulated read error"):
        host.upload("bundles/big.7z", bigger, bigger_sha)
    read_back(host, "bundles/big.7z", sha256, len(data))
    assert _s3_keys(seaweed_s3, prefix)() == {"bundles/big.7z"}
    host.close()


@pytest.mark.parametrize("server", ["nginx_dav", "wsgidav"])
def test_webdav_wrong_password(server: str, request: pytest.FixtureRequest, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A wrong password is an authentication failure, not worth a retry, and is never shown."""
    dav: DavServer = request.getfixturevalue(server)
    wrong = "Wr0ng-" + secrets.token_urlsafe(10)
    host = open_host(dav.host_config(monkeypatch, password=wrong))
    source, sha256 = _source(tmp_path, b"content")
    with pytest.raises(TransferError, match="authentication failed") as caught:
        host.upload("index.json", source, sha256)
    assert caught.value.transient is False
    for shown in (str(caught.value), caught.value.hint or "", repr(host)):
        assert wrong not in shown and dav.password not in shown and "publisher:" not in shown
    host.close()


def test_nginx_serves_readers_anonymously_with_range(nginx_dav: DavServer, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """What the publisher uploads, a reader fetches without credentials, in ranges."""
    data = secrets.token_bytes(4096)
    source, sha256 = _source(tmp_path, data)
    name = f"t{secrets.token_hex(4)}.7z"
    host = open_host(nginx_dav.host_config(monkeypatch))
    host.upload(f"bundles/{name}", source, sha256)
    host.close()
    response = requests.get(f"{nginx_dav.url}bundles/{name}", headers={"Range": "bytes=100-"}, timeout=5)
    assert (response.status_code, response.content) == (206, data[100:])


def _dead_config(kind: str, port: int, request: pytest.FixtureRequest, tmp_path: Path,
                 monkeypatch: pytest.MonkeyPatch) -> HostConfig:
    if kind == "webdav":
        variable = "MIRROR_TEST_DEAD_PASSWORD"
        monkeypatch.setenv(variable, "secret")
        return HostConfig(name="dead", kind="webdav", url=f"http://{LOOPBACK}:{port}/", username="u",
                          password_env=variable, timeout=2.0)
    if kind == "sftp":
        ssh: SftpServer = request.getfixturevalue("sshd_sftp")
        known = tmp_path / "known_hosts"
        known.write_text(ssh.known_hosts.read_text().replace(f":{ssh.port} ", f":{port} "))
        return HostConfig(name="dead", kind="sftp", url=f"sftp://u@{LOOPBACK}:{port}/srv", key_file=ssh.key_file,
                          known_hosts=known, timeout=2.0)
    s3: S3Server = request.getfixturevalue("seaweed_s3")
    return s3.host_config(monkeypatch, endpoint=f"http://{LOOPBACK}:{port}")


@pytest.mark.parametrize("kind", ["webdav", "sftp", "s3"])
def test_dead_host_is_transient(kind: str, closed_port: int, request: pytest.FixtureRequest, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing listening on the port: a TransferError worth a retry."""
    host = open_host(_dead_config(kind, closed_port, request, tmp_path, monkeypatch))
    with pytest.raises(TransferError) as caught:
        host.stat("index.json")
    assert caught.value.transient is True
    assert not isinstance(caught.value, MissingFile)
    host.close()


def test_sftp_refuses_unknown_and_changed_host_keys(sshd_sftp: SftpServer, tmp_path: Path) -> None:
    """A server missing from known_hosts, or with another key there, is refused for good."""
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    host = open_host(sshd_sftp.host_config(known_hosts=empty))
    with pytest.raises(TransferError, match="not in known_hosts") as caught:
        host.stat("index.json")
    assert caught.value.transient is False
    other = _keygen(tmp_path, "other")
    changed = tmp_path / "changed_known_hosts"
    key_type, key = other.with_suffix(".pub").read_text().split()[:2]
    changed.write_text(f"[{LOOPBACK}]:{sshd_sftp.port} {key_type} {key}\n")
    host = open_host(sshd_sftp.host_config(known_hosts=changed))
    with pytest.raises(TransferError, match="does not match known_hosts") as caught:
        host.stat("index.json")
    assert caught.value.transient is False


def test_sftp_wrong_key(sshd_sftp: SftpServer, tmp_path: Path) -> None:
    """A key the server does not accept is an authentication failure, not worth a retry."""
    host = open_host(sshd_sftp.host_config(key_file=_keygen(tmp_path, "stranger")))
    with pytest.raises(TransferError, match="authentication failed") as caught:
        host.stat("index.json")
    assert caught.value.transient is False


def _keygen(folder: Path, name: str) -> Path:
    subprocess.run([require_tool("ssh-keygen"), "-q", "-t", "ed25519", "-N", "", "-f", str(folder / name)],
                   check=True, timeout=30)
    return folder / name


def test_s3_wrong_secret(seaweed_s3: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A wrong secret key is an authentication failure, not worth a retry, and is never shown."""
    wrong = secrets.token_urlsafe(24)
    host = open_host(seaweed_s3.host_config(monkeypatch, secret_key=wrong))
    source, sha256 = _source(tmp_path, b"content")
    with pytest.raises(TransferError, match="authentication failed") as caught:
        host.upload("index.json", source, sha256)
    assert caught.value.transient is False
    assert wrong not in str(caught.value) and wrong not in repr(host)
    host.close()


@pytest.mark.parametrize(("kind", "url", "module", "extra"), [
    ("sftp", "sftp://u@127.0.0.1/srv", "paramiko", "sftp"),
    ("s3", "s3://bucket/prefix", "boto3", "s3"),
])
def test_missing_optional_library(kind: str, url: str, module: str, extra: str,
                                  monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without paramiko or boto3, opening such a host says which extra to install."""
    monkeypatch.setitem(sys.modules, module, None)
    config = HostConfig(name="x", kind=kind, url=url, key_file=tmp_path / "key")
    with pytest.raises(ConfigError) as caught:
        open_host(config)
    assert caught.value.hint == f"pip install 'mirror[{extra}]'"


def test_directory_root_must_exist(tmp_path: Path) -> None:
    """An unmounted stick is an error, and its mount point does not get a new folder."""
    root = tmp_path / "media" / "usb" / "mirror"
    host = open_host(HostConfig(name="usb", kind="dir", url=str(root)))
    source, sha256 = _source(tmp_path, b"content")
    with pytest.raises(TransferError, match="does not exist") as caught:
        host.upload("index.json", source, sha256)
    assert caught.value.hint == "is the drive mounted?"
    assert not root.exists()


def test_webdav_url_must_not_hold_credentials() -> None:
    """user:pass@ in a WebDAV URL is refused, and the password is not repeated."""
    config = HostConfig(name="dav", kind="webdav", url="https://user:hunter2@dav.example.org/")
    with pytest.raises(ConfigError) as caught:
        open_host(config)
    assert "hunter2" not in str(caught.value)


def test_a_password_over_plain_http_never_goes_through_a_proxy(nginx_dav: DavServer, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """http:// with a password is allowed to this computer only; an $http_proxy elsewhere had it cross the network
    in clear all the same (helper-143). Here the proxy is a closed port: used, the upload would fail."""
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9/")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9/")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    host, root = _dav_target(nginx_dav, monkeypatch)
    try:
        source, sha256 = _source(tmp_path, b"through no proxy")
        host.upload("index.json", source, sha256)
    finally:
        host.close()
    assert (root / "index.json").read_bytes() == b"through no proxy"


def _dav_target(nginx_dav: DavServer, monkeypatch: pytest.MonkeyPatch) -> tuple[Host, Path]:
    unique = f"t{secrets.token_hex(4)}"
    (nginx_dav.root / unique).mkdir()
    return open_host(nginx_dav.host_config(monkeypatch, url=f"{nginx_dav.url}{unique}/")), nginx_dav.root / unique


def test_webdav_checks_a_large_upload_by_size_and_ranges(nginx_dav: DavServer, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A large file whose bytes were hashed as they were sent is checked by its size and ranges, not read back
    whole (the full read-back would fail here); a small one is still read back whole."""
    host, root = _dav_target(nginx_dav, monkeypatch)
    data = secrets.token_bytes(webdav.SPOT_CHECK_FROM + 12345)
    source, sha256 = _source(tmp_path, data)

    def no_full_read_back(*_: object) -> None:
        raise AssertionError("read back whole")

    monkeypatch.setattr(webdav, "read_back", no_full_read_back)
    host.upload("bundles/big.7z", source, sha256)
    assert (root / "bundles" / "big.7z").read_bytes() == data
    small, small_sha = _source(tmp_path, b"index", "small.json")
    with pytest.raises(AssertionError, match="read back whole"):
        host.upload("index.json", small, small_sha)
    host.close()


@pytest.mark.parametrize("damage", [
    pytest.param(lambda stored: stored.write_bytes(stored.read_bytes()[:-1] + b"\0"), id="last byte changed"),
    pytest.param(lambda stored: stored.write_bytes(stored.read_bytes()[:-100]), id="cut short"),
])
def test_webdav_spot_check_catches_a_damaged_upload(nginx_dav: DavServer, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    damage: Callable[[Path], object]) -> None:
    """Stored bytes that differ from those sent (here damaged on the server's disk after the MOVE) fail."""
    host, root = _dav_target(nginx_dav, monkeypatch)
    source, sha256 = _source(tmp_path, secrets.token_bytes(webdav.SPOT_CHECK_FROM + 1))
    real_check = webdav.WebDavHost._spot_check

    def damaged_first(self: webdav.WebDavHost, path: str, local: Path, size: int) -> bool:
        damage(root / path)
        return real_check(self, path, local, size)

    monkeypatch.setattr(webdav.WebDavHost, "_spot_check", damaged_first)
    with pytest.raises(TransferError, match=r"reads back with (other bytes|another size)"):
        host.upload("bundles/big.7z", source, sha256)
    host.close()


def test_webdav_reads_back_whole_what_was_not_what_the_plan_hashed(nginx_dav: DavServer, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A large file that changed after its hash was taken is read back whole and refused."""
    host, _ = _dav_target(nginx_dav, monkeypatch)
    source, _ = _source(tmp_path, secrets.token_bytes(webdav.SPOT_CHECK_FROM + 1))
    with pytest.raises(TransferError, match="another sha256"):
        host.upload("bundles/big.7z", source, "0" * 64)
    host.close()


def test_upload_progress_counts_each_byte_once(target: Target, tmp_path: Path) -> None:
    """Every driver reports the bytes it sends through the thread's progress hook; rewinds are taken back."""
    data = secrets.token_bytes(3 * 1024 * 1024 + 5)
    source, sha256 = _source(tmp_path, data)
    seen: list[int] = []
    with sending_progress(seen.append):
        target.host.upload("bundles/p.7z", source, sha256)
    assert sum(seen) == len(data) and max(seen) > 0
    seen.clear()
    target.host.upload("bundles/q.7z", source, sha256)  # outside the hook: nothing reported
    assert seen == []
