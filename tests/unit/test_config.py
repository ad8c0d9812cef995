"""mirror.toml validation: clear errors naming the field; secrets only through environment variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from mirror.errors import ConfigError
from mirror.net.pace import Limits
from mirror.publish.config import load_config


def test_valid_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Kinds come from URL schemes; readers get public URLs and http(s) hosts only."""
    config = load_config(_write(tmp_path, '''
[publisher]
key = "desk"
expires_days = 7
[hosts.dav]
url = "https://dav.example.org/m"
username = "pub"
password_env = "DAV_PW"
[hosts.usb]
url = "file:///media/usb/mirror"
required = false
[hosts.box]
url = "sftp://me@host:2222/srv/m"
public_url = "https://box.example.org/m/"
[hosts.bucket]
url = "s3://bucket/prefix"
endpoint = "http://127.0.0.1:8333"
'''))
    assert config.publisher is not None and config.publisher.expires_days == 7
    kinds = {h.name: h.kind for h in config.hosts}
    assert kinds == {"dav": "webdav", "usb": "dir", "box": "sftp", "bucket": "s3"}
    assert [h.reader_url for h in config.hosts] == ["https://dav.example.org/m/", None,
                                                    "https://box.example.org/m/", None]
    monkeypatch.setenv("DAV_PW", "hunter2")
    dav = config.host("dav")
    assert dav.secret("password_env") == "hunter2" and "hunter2" not in repr(dav)
    monkeypatch.delenv("DAV_PW")
    with pytest.raises(ConfigError, match=r"hosts.dav.password_env: environment variable DAV_PW is not set"):
        dav.secret("password_env")


def test_limits_of_a_host(tmp_path: Path) -> None:
    """timeout, min_rate and budget become the host's limits; rates take K and M; defaults are patient."""
    config = load_config(_write(tmp_path, '[hosts.a]\nurl = "https://x/"\ntimeout = 5\nmin_rate = "2K"\n'
                                          'budget = 60\n[hosts.b]\nurl = "https://y/"\n'))
    assert config.host("a").limits == Limits(stall=5, min_rate=2048, budget=60)
    assert config.host("b").limits == Limits(stall=30, min_rate=1024, budget=3600)


def test_transfers_at_once_per_host(tmp_path: Path) -> None:
    """transfers: as set; by default 4 over HTTP, 2 over SFTP, 1 to a folder (one disk)."""
    config = load_config(_write(tmp_path, '[hosts.a]\nurl = "https://x/"\ntransfers = 8\n[hosts.b]\nurl = "https://y/"\n'
                                          '[hosts.c]\nurl = "sftp://h/srv"\n[hosts.d]\nurl = "/srv/usb"\n'))
    assert [config.host(n).transfers for n in "abcd"] == [8, 4, 2, 1]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mirror.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(("text", "message"), [
    ('[hosts.a]\nurl = "ftp://x/"\n', r"hosts.a.url: unsupported scheme 'ftp'"),
    ('[hosts.a]\npassword = "hunter2"\nurl = "https://x/"\n', r"hosts.a.password: secrets never go in"),
    ('[hosts.a]\nurl = "https://x/"\ncolour = "red"\n', r"hosts.a.colour: unknown field"),
    ('[hosts.a]\nusername = "u"\n', r"hosts.a.url: missing"),
    ('[hosts.a]\nurl = "https://x/"\nrequired = "yes"\n', r"hosts.a.required: must be true or false"),
    ('[hosts.a]\nurl = "https://x/"\npassword_env = "lower case"\n', r"hosts.a.password_env: must be"),
    ('[publisher]\nexpires_days = 0\nkey = "k"\n', r"publisher.expires_days"),
    ('[publisher]\nexpires_days = 3\n', r"publisher.key: missing"),
    ('[hosts]\na = 1\n', r"hosts.a: must be a table"),
    ('[hosts.a]\nurl = "https://x/"\nmin_rate = "fast"\n', r"hosts.a.min_rate: must be bytes per second"),
    ('[hosts.a]\nurl = "https://x/"\nmin_rate = -1\n', r"hosts.a.min_rate: must be bytes per second"),
    ('[hosts.a]\nurl = "https://x/"\nbudget = 0\n', r"hosts.a.budget: must be a number of seconds"),
    ('[hosts.a]\nurl = "https://x/"\nbudget = 1e9\n', r"hosts.a.budget: must be a number of seconds"),
    ('[hosts.a]\nurl = "https://x/"\ntransfers = 0\n', r"hosts.a.transfers: must be a whole number from 1 to 8"),
    ('[hosts.a]\nurl = "https://x/"\ntransfers = 9\n', r"hosts.a.transfers: must be a whole number"),
    ('[hosts.a]\nurl = "https://x/"\ntransfers = true\n', r"hosts.a.transfers: must be a whole number"),
    ("[hosts.a\n", r"not valid TOML"),
    ('[hosts.a]\nurl = "http://[::1/"\n', r"hosts.a.url: not a usable URL"),
    ('[hosts.a]\nurl = "https://x:99999/m/"\n', r"hosts.a.url: not a usable URL \(Port out of range"),
    ('[hosts.a]\nurl = "https://x/m/?token=1"\n', r"hosts.a.url: must not hold a query"),
    ('[hosts.a]\nurl = "https://x/m/"\npublic_url = "http://[::1/"\n', r"hosts.a.public_url: not a usable URL"),
    ('[hosts.a]\nurl = "https://x/m/"\npublic_url = "https://x:70000/m/"\n', r"hosts.a.public_url: not a usable"),
    ('[hosts.a]\nurl = "s3://b/m/"\nendpoint = "https://id:key@s3.example/"\n', r"hosts.a.endpoint: must not hold a"),
    # a mirror.toml someone else wrote (on a stick, in a download) had the signing key's passphrase sent as the
    # password of their host, over plain http
    ('[hosts.a]\nurl = "https://x/m/"\nusername = "x"\npassword_env = "MIRROR_PASSPHRASE"\n',
     r"hosts.a.password_env: MIRROR_PASSPHRASE holds your signing key's passphrase"),
    ('[hosts.a]\nurl = "s3://b/m/"\nsecret_key_env = "MIRROR_PASSPHRASE"\n', r"hosts.a.secret_key_env: MIRROR_PASS"),
    ('[hosts.a]\nurl = "http://dav.example.org/m/"\nusername = "x"\npassword_env = "DAV"\n',
     r"hosts.a.url: a password would cross the network in clear over http://"),
])
def test_bad_config_names_the_field(tmp_path: Path, text: str, message: str) -> None:
    """Each mistake gives a ConfigError that says where."""
    with pytest.raises(ConfigError, match=message):
        load_config(_write(tmp_path, text))


@pytest.mark.parametrize("line", ['url = "https://pub:s3cret@dav.example.org/m/"',
                                  'url = "https://dav.example.org/m/"\npublic_url = "https://u:p@example.org/m/"',
                                  'url = "sftp://me:s3cret@host/srv/m"'])
def test_credentials_in_urls_are_refused(tmp_path: Path, line: str) -> None:
    """A password in a URL would reach logs and, through public_url, the signed index readers download."""
    with pytest.raises(ConfigError, match="must not hold a user name or password"):
        load_config(_write(tmp_path, f"[hosts.a]\n{line}\n"))


def test_key_files_may_start_with_the_home_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/mirrors.md writes key_file = "~/.ssh/..."; it was taken beside mirror.toml, literally."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    config = load_config(_write(tmp_path, '[hosts.a]\nurl = "sftp://me@host/srv/m"\n'
                                          'key_file = "~/.ssh/mirror_ed25519"\nknown_hosts = "known"\n'))
    assert config.hosts[0].key_file == tmp_path / "home" / ".ssh" / "mirror_ed25519"
    assert config.hosts[0].known_hosts == tmp_path / "known"
