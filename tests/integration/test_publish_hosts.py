"""One `mirror publish` to nginx WebDAV, OpenSSH SFTP, SeaweedFS S3 and a folder, all real, on 127.0.0.1."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from conftest import invoke
from helpers import require_tool, run
from mirror.publish.config import HostConfig
from mirror.publish.hosts import open_host
from mirror.record import replace
from mirror.trust.keyring import Keyring
from servers import DavServer, S3Server, SftpServer

LAYOUT = ("bundles/{sha}.7z", "bundles/{sha}.SHA256SUMS", "bundles/{sha}.SHA256SUMS.minisig", "index.json",
          "index.json.minisig", "index/{v}.json", "index/{v}.json.minisig")


def _toml(host: HostConfig) -> str:
    lines = [f"[hosts.{host.name}]", f'url = "{host.url}"']
    for key in ("public_url", "username", "password_env", "endpoint", "region", "access_key_env",
                "secret_key_env"):
        if getattr(host, key):
            lines.append(f'{key} = "{getattr(host, key)}"')
    for key in ("key_file", "known_hosts"):
        if getattr(host, key):
            lines.append(f'{key} = "{getattr(host, key)}"')
    lines.append(f"timeout = {host.timeout}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def hosts(nginx_dav: DavServer, sshd_sftp: SftpServer, seaweed_s3: S3Server, tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> list[HostConfig]:
    """Four hosts, each in a fresh folder or prefix of its module-wide server."""
    run_id = uuid.uuid4().hex[:8]
    dav = nginx_dav.host_config(monkeypatch, url=f"{nginx_dav.url}{run_id}/")
    dav = replace(dav, public_url=None)
    sftp = sshd_sftp.host_config()
    sftp = replace(sftp, url=f"{sftp.url}/{run_id}")
    s3 = seaweed_s3.host_config(monkeypatch, prefix=run_id)
    usb = tmp_path / "usb"
    usb.mkdir()
    return [dav, sftp, s3, HostConfig(name="usb", kind="dir", url=str(usb))]


def _config(tmp_path: Path, hosts: list[HostConfig]) -> Path:
    path = tmp_path / "mirror.toml"
    path.write_text('[publisher]\nkey = "alice"\n\n' + "\n".join(_toml(h) for h in hosts))
    return path


def _secrets(hosts: list[HostConfig]) -> list[str]:
    import os

    names = [h.password_env for h in hosts] + [h.secret_key_env for h in hosts] + [h.access_key_env for h in hosts]
    return [os.environ[n] for n in names if n and os.environ.get(n)]


def _files(host: HostConfig, sha: str, version: int) -> dict[str, bytes]:
    driver = open_host(host)
    try:
        return {p: b"".join(driver.stream(p)) for p in (t.format(sha=sha, v=version) for t in LAYOUT)}
    finally:
        driver.close()


def test_one_publish_reaches_every_kind_of_host(hosts: list[HostConfig], bundle: Path, keyring: Keyring,
                                                tmp_path: Path, runner: CliRunner,
                                                nginx_dav: DavServer) -> None:
    """Same layout and bytes everywhere; stock minisign verifies index.json fetched anonymously from nginx."""
    config = _config(tmp_path, hosts)
    code, out, err = invoke(runner, "publish", bundle, "--config", config)
    assert code == 0, out + err
    assert out.count("OK    ") == 4
    sha = __import__("hashlib").sha256(bundle.read_bytes()).hexdigest()
    layouts = [_files(h, sha, 1) for h in hosts]
    assert all(layout == layouts[0] for layout in layouts)
    assert layouts[0][f"bundles/{sha}.7z"] == bundle.read_bytes()
    index = requests.get(f"{hosts[0].url}index.json", timeout=5)  # readers need no password
    signature = requests.get(f"{hosts[0].url}index.json.minisig", timeout=5)
    (tmp_path / "index.json").write_bytes(index.content)
    (tmp_path / "index.json.minisig").write_bytes(signature.content)
    (tmp_path / "publisher.pub").write_text(keyring.get("alice").public.to_text())
    checked = run(require_tool("minisign"), "-Vm", tmp_path / "index.json", "-p", tmp_path / "publisher.pub")
    assert "Signature and comment signature verified" in checked.stdout
    assert json.loads(index.content)["mirrors"] == [hosts[0].url]
    for secret in _secrets(hosts):
        assert secret not in out + err


def test_dead_host_and_wrong_password_fail_alone(hosts: list[HostConfig], bundle: Path, tmp_path: Path,
                                                 runner: CliRunner, nginx_dav: DavServer, closed_port: int,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Exit 4 with one FAIL line each; the other hosts are fully updated and correct."""
    wrong = nginx_dav.host_config(monkeypatch, name="badpw", password="not-the-password-" + uuid.uuid4().hex)
    dead = HostConfig(name="dead", kind="webdav", url=f"http://127.0.0.1:{closed_port}/m/", timeout=2.0)
    config = _config(tmp_path, [*hosts, wrong, dead])
    code, out, err = invoke(runner, "publish", bundle, "--config", config)
    assert code == 4
    assert "FAIL  badpw  authentication failed" in out and "FAIL  dead" in out
    dead_line = next(line for line in out.splitlines() if line.startswith("FAIL  dead"))
    assert "failed" in dead_line and "timed out" not in dead_line, dead_line  # refused at once: no timeout
    assert out.count("OK    ") == 4
    sha = __import__("hashlib").sha256(bundle.read_bytes()).hexdigest()
    for host in hosts:
        files = _files(host, sha, 1)
        assert json.loads(files["index.json"])["version"] == 1
        assert files[f"bundles/{sha}.7z"] == bundle.read_bytes()
    for secret in [*_secrets(hosts), "not-the-password-"]:
        assert secret not in out + err
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.stat().st_size < 1 << 20:
            assert not any(s.encode() in path.read_bytes() for s in _secrets(hosts)), path


def test_same_size_index_change_reaches_every_host(hosts: list[HostConfig], bundle: Path, tmp_path: Path,
                                                   runner: CliRunner) -> None:
    """refresh writes an index.json of the same size with other bytes; every host gets it; versions go up."""
    config = _config(tmp_path, hosts)
    assert invoke(runner, "publish", bundle, "--config", config)[0] == 0
    sha = __import__("hashlib").sha256(bundle.read_bytes()).hexdigest()
    first = _files(hosts[0], sha, 1)["index.json"]
    for version in (2, 3):
        code, out, _ = invoke(runner, "refresh", "--config", config)
        assert code == 0 and f"index version {version}" in out
        for host in hosts:
            now = _files(host, sha, version)["index.json"]
            assert json.loads(now)["version"] == version
            if version == 2:
                assert len(now) == len(first) and now != first  # never compared by size


def test_a_side_file_deleted_on_every_kind_of_host_is_sent_again(hosts: list[HostConfig], bundle: Path,
                                                                 tmp_path: Path, runner: CliRunner,
                                                                 nginx_dav: DavServer, sshd_sftp: SftpServer,
                                                                 seaweed_s3: S3Server) -> None:
    """Each host's admin deletes the bundle's signature file behind publish's back: refresh noticed none of them
    (it looked for the .7z alone) and gave every host the index; now each is seen in that host's one listing of
    bundles/ and sent again before the index (helper-174)."""
    config = _config(tmp_path, hosts)
    assert invoke(runner, "publish", bundle, "--config", config)[0] == 0
    sha = __import__("hashlib").sha256(bundle.read_bytes()).hexdigest()
    signature = f"bundles/{sha}.SHA256SUMS.minisig"
    kept = _files(hosts[0], sha, 1)[signature]
    for host in hosts:
        driver = open_host(host)
        try:
            if host.kind == "s3":
                driver._client.delete_object(Bucket=seaweed_s3.bucket,  # type: ignore[attr-defined]
                                             Key=f"{host.url.rsplit('/', 1)[1]}/{signature}")
            else:
                root = {"webdav": nginx_dav.root / host.url.rstrip("/").rsplit("/", 1)[1],
                        "sftp": sshd_sftp.root / host.url.rsplit("/", 1)[1], "dir": Path(host.url)}[host.kind]
                (root / signature).unlink()
        finally:
            driver.close()
    code, out, err = invoke(runner, "refresh", "--config", config)
    assert code == 0 and out.count("OK    ") == 4, out + err
    for host in hosts:
        assert f"[{host.name}] Test bundle (bundles/{sha}.7z) lacks {signature}, though the index lists it" in err
        assert _files(host, sha, 2)[signature] == kept
