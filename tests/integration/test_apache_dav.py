"""`mirror publish` and `fetch` with Apache httpd's mod_dav_fs, on 127.0.0.1 (helper-151's findings)."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from conftest import invoke
from mirror.publish.hosts import Host, open_host
from servers import DavServer


def _config(tmp_path: Path, apache_dav: DavServer, monkeypatch: pytest.MonkeyPatch, url: str,
            password: str | None = None, transfers: int = 4) -> Path:
    monkeypatch.setenv("MIRROR_TEST_APACHE_PASSWORD", apache_dav.password if password is None else password)
    config = tmp_path / "mirror.toml"
    config.write_text(f'[publisher]\nkey = "alice"\n\n[hosts.apache]\nurl = "{url}"\nusername = "publisher"\n'
                      f'password_env = "MIRROR_TEST_APACHE_PASSWORD"\ntransfers = {transfers}\ntimeout = 10\n',
                      encoding="utf-8")
    return config


def _put_and_read_back(host: Host, bundle: Path) -> None:
    """Upload the bundle through the host's driver (PUT, MOVE, its check) and read it back whole; then close."""
    try:
        host.upload("bundles/b.7z", bundle, hashlib.sha256(bundle.read_bytes()).hexdigest())
        assert host.read("bundles/b.7z", 1 << 30) == bundle.read_bytes()
    finally:
        host.close()


def _origin(apache_dav: DavServer) -> str:
    return apache_dav.url.removesuffix("mirror/")


def test_several_connections_make_a_new_folder_at_once(apache_dav: DavServer, bundle: Path, tmp_path: Path,
                                                       runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    """Four connections each made bundles/ in a new folder; Apache answered all but one 403 ("File exists"), and
    the first publish failed as a wrong password, most times. Three fresh folders in a row now all succeed."""
    for _ in range(3):
        url = f"{apache_dav.url}{uuid.uuid4().hex[:8]}/"
        code, out, err = invoke(runner, "publish", bundle, "--config", _config(tmp_path, apache_dav, monkeypatch, url))
        assert code == 0 and "OK    apache" in out, out + err
        sha = hashlib.sha256(bundle.read_bytes()).hexdigest()
        assert requests.get(f"{url}bundles/{sha}.7z", timeout=10).content == bundle.read_bytes()


def test_a_host_inside_a_folder_the_user_may_not_make(apache_dav: DavServer, bundle: Path, tmp_path: Path,
                                                      runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    """users/alice/ exists and is the user's, but users/ refuses MKCOL (shared hosting): publish MKCOLed every
    folder from the server's root and failed at users/. Only a missing folder is made."""
    url = f"{_origin(apache_dav)}users/alice/"
    code, out, err = invoke(runner, "publish", bundle, "--config", _config(tmp_path, apache_dav, monkeypatch, url))
    assert code == 0 and "OK    apache" in out, out + err


def test_a_folder_named_in_cyrillic_then_fetched(apache_dav: DavServer, bundle: Path, tmp_path: Path,
                                                 runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    """A host URL of зеркало/: MOVE's Destination header held it raw, and the whole publish ended in an internal
    error. Published, and a reader fetches from the same URL."""
    url = f"{apache_dav.url}зеркало-{uuid.uuid4().hex[:6]}/"
    code, out, err = invoke(runner, "publish", bundle, "--config", _config(tmp_path, apache_dav, monkeypatch, url))
    assert code == 0 and "OK    apache" in out, out + err
    code, out, err = invoke(runner, "fetch", "--mirror", url, "--dest", tmp_path / "in")
    assert code == 0 and "ARRIVED" in out, out + err
    (arrived,) = (tmp_path / "in").glob("*.7z")
    assert arrived.read_bytes() == bundle.read_bytes()


@pytest.mark.parametrize(("where", "password", "said"), [
    ("ro/", None, "FAIL  apache  forbidden (HTTP 403"),
    ("mirror/x/", "not-the-password", "FAIL  apache  authentication failed (HTTP 401"),
])
def test_forbidden_is_not_called_a_wrong_password(where: str, password: str | None, said: str,
                                                  apache_dav: DavServer, bundle: Path, tmp_path: Path,
                                                  runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    """A read-only folder answered 403 and was reported as a failed authentication, with a hint to check the
    password; only a 401 is."""
    config = _config(tmp_path, apache_dav, monkeypatch, f"{_origin(apache_dav)}{where}", password)
    code, out, err = invoke(runner, "publish", bundle, "--config", config)
    assert code == 4 and said in out, out + err
    assert apache_dav.password not in out + err


def test_a_host_named_in_cyrillic(apache_dav: DavServer, bundle: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A host URL of http://зеркало.рф/: MOVE's Destination header held the name raw, and the whole publish ended in
    an internal error after the upload (helper-152). The name goes out in IDNA, as requests sends the request.
    (The name is looked up here as 127.0.0.1 only: nothing leaves this computer.)"""
    import socket

    looked_up = socket.getaddrinfo

    def loopback(host: object, *args: object, **kwargs: object) -> object:
        assert host in ("зеркало.рф".encode("idna").decode(), "127.0.0.1"), host  # never any other name
        return looked_up("127.0.0.1", *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", loopback)
    port = apache_dav.url.split(":")[2].split("/")[0]
    url = f"http://зеркало.рф:{port}/mirror/idn-{uuid.uuid4().hex[:6]}/"
    # the host itself, as mirror.toml would make it over https (config refuses a password over http elsewhere)
    host = open_host(apache_dav.host_config(monkeypatch, url=url))
    _put_and_read_back(host, bundle)


@pytest.mark.parametrize("folder", ["100%", "50%off", "a%25b", "two words"])
def test_a_percent_sign_in_the_folder(folder: str, apache_dav: DavServer, bundle: Path, tmp_path: Path,
                                      runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    """A "%" that starts no escape: the request line said /100%25/ and MOVE's Destination /100%/, and the server
    answered 400 after the whole upload (helper-152). Both are now the URL as requests sends it."""
    url = f"{apache_dav.url}{uuid.uuid4().hex[:6]}-{folder}/"
    code, out, err = invoke(runner, "publish", bundle, "--config", _config(tmp_path, apache_dav, monkeypatch, url))
    assert code == 0 and "OK    apache" in out, out + err


@pytest.mark.parametrize("server", ["nginx_dav", "wsgidav", "apache_dav"])
@pytest.mark.parametrize("shape", ["LOCALHOST", "localhost.", "caf%c3%a9"])
def test_a_url_urllib3_rewrites_is_moved_to_where_it_was_put(server: str, shape: str, bundle: Path,
                                                            request: pytest.FixtureRequest,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """urllib3 lower-cases the host, drops its trailing dot and upper-cases escapes on the
    request line; MOVE's Destination said the URL as written, and nginx (400) or WsgiDAV (502) refused the move
    after the whole upload (helper-153). Both are the URL as it is sent."""
    dav: DavServer = request.getfixturevalue(server)
    port = dav.url.split(":")[2].split("/")[0]
    path = dav.url.split(f":{port}", 1)[1] + uuid.uuid4().hex[:6]
    url = {"LOCALHOST": f"http://LOCALHOST:{port}{path}/", "localhost.": f"http://localhost.:{port}{path}/",
           "caf%c3%a9": f"http://127.0.0.1:{port}{path}/caf%c3%a9/"}[shape]
    host = open_host(dav.host_config(monkeypatch, url=url))
    _put_and_read_back(host, bundle)


def test_an_international_host_name_is_the_one_requests_connects_to() -> None:
    """Python's IDNA codec (2003) made straße.de strasse.de, another domain, while requests connects to
    xn--strae-oqa.de (UTS 46): publish would have sent the password elsewhere (helper-153)."""
    from mirror.net.pace import Limits
    from mirror.publish.hosts.webdav import WebDavHost

    for url in ("https://straße.de/dav/", "https://зеркало.рф/dav/", "https://Example.ORG./dav/"):
        host = WebDavHost("x", url, None, Limits())
        try:
            assert host.url == requests.Request("GET", url).prepare().url.replace("org./", "org/")
        finally:
            host.close()


def test_the_schemes_own_port_and_an_ipv6_zone() -> None:
    """http.client sends Host without the scheme's own port (`http://h:80/`), and WsgiDAV then refused MOVE, whose
    Destination kept it (502 after the whole upload); an IPv6 zone (fe80::1%eth0) is dropped from Host, and its
    name would be looked up: refused (helper-155)."""
    from mirror.errors import ConfigError
    from mirror.publish.hosts.webdav import _as_sent

    assert _as_sent("x", "http://localhost:80/b/") == "http://localhost/b/"
    assert _as_sent("x", "https://h:0443/b/") == "https://h/b/"
    assert _as_sent("x", "http://[::1]:80/b/") == "http://[::1]/b/"
    assert _as_sent("x", "http://h:8080/b/") == "http://h:8080/b/"
    with pytest.raises(ConfigError, match="zone"):
        _as_sent("x", "http://[fe80::1%25eth0]/b/")


@pytest.mark.parametrize("path", ["/users/alice/../bob/", "/users/./bob/", "/users/%2e%2E/bob/", "/users/bob/.."])
def test_a_path_with_dot_segments_is_refused(path: str) -> None:
    """requests drops dot segments (RFC 3986): `/users/alice/../bob/` published to `/users/bob/` without a word
    (helper-155); a typo there would publish into another user's folder."""
    from mirror.errors import ConfigError
    from mirror.publish.hosts.webdav import _as_sent

    with pytest.raises(ConfigError, match="segment"):
        _as_sent("x", f"http://127.0.0.1:8080{path}")
    assert _as_sent("x", "http://127.0.0.1:8080/users/..bob/.x/") == "http://127.0.0.1:8080/users/..bob/.x/"
