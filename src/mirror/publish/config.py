"""mirror.toml's [publisher] and [hosts.NAME] tables, validated, with secrets from the environment.

Example::

    config = load_config(Path("mirror.toml"))
    for host in config.hosts:
        print(host.name, host.kind, host.url, host.public_url)

    [publisher]
    key = "press-desk"          # signs the index
    expires_days = 14
    trackers = []               # BitTorrent trackers for the .torrent files; none: DHT and web seeds only

    [hosts.dav]
    url = "https://dav.example.org/mirror/"
    public_url = "https://example.org/mirror/"
    username = "publisher"
    password_env = "MIRROR_DAV_PASSWORD"
    required = true
    timeout = 30          # seconds to connect, and to wait for data that stopped
    min_rate = "1K"       # bytes per second a transfer must average over `timeout` seconds; 0: none
    budget = 3600         # seconds this host may take in one run (its index: at most 120 of them)
    transfers = 4         # files sent at once, each on its own connection (1 to 8; a folder host: 1)

Secrets are never written in the file: only the names of environment variables
that hold them. Errors name the field: `mirror.toml: hosts.dav.url: ...`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mirror.errors import ConfigError, ManifestError
from mirror.formats.index import DEFAULT_EXPIRY_DAYS
from mirror.formats.torrent import check_urls, lower_scheme
from mirror.net.pace import Limits, parse_rate
from mirror.record import record
from mirror.workspace import read_toml

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
_ENV = re.compile(r"[A-Z_][A-Z0-9_]*")
PASSPHRASE_VARIABLE = "MIRROR_PASSPHRASE"  # noqa: S105 - cli/common.py's: the name of a variable, not a secret
_HOST_KEYS = {"url", "public_url", "username", "password_env", "required", "key_file", "known_hosts",
              "endpoint", "region", "access_key_env", "secret_key_env", "timeout", "min_rate", "budget",
              "transfers"}
_SECRET_KEYS = {"password", "secret", "secret_key", "access_key", "token"}
MAX_BUDGET = 7 * 24 * 3600  # seconds: a week
MAX_TRANSFERS = 8
DEFAULT_TRANSFERS = {"webdav": 4, "s3": 4, "sftp": 2, "dir": 1}  # a folder is one disk: one copy at a time


@record
class HostConfig:
    """One mirror host."""

    name: str
    kind: str  # "webdav", "dir", "sftp" or "s3"
    url: str
    public_url: str | None = None
    username: str | None = None
    password_env: str | None = None
    required: bool = True
    key_file: Path | None = None
    known_hosts: Path | None = None
    endpoint: str | None = None
    region: str | None = None
    access_key_env: str | None = None
    secret_key_env: str | None = None
    timeout: float = 30.0
    min_rate: int = 1024
    budget: float = 3600.0
    transfers: int = 1  # files sent at once, each on its own connection; the index files always go last, alone

    @property
    def limits(self) -> Limits:
        """How patient each transfer is with this host (net/pace.py)."""
        return Limits(stall=self.timeout, min_rate=self.min_rate, budget=self.budget)

    def secret(self, which: str) -> str | None:
        """The secret from the environment variable named by `which` (e.g. "password_env").

        Raises:
            ConfigError: the variable is named but not set.
        """
        variable = getattr(self, which)
        if variable is None:
            return None
        value = os.environ.get(variable)
        if value is None:
            raise ConfigError(f"hosts.{self.name}.{which}: environment variable {variable} is not set")
        return value

    @property
    def reader_url(self) -> str | None:
        """What readers use: public_url, else an http(s) url; None for private folders and SFTP/S3."""
        if self.public_url:
            return self.public_url
        return lower_scheme(self.url) if self.kind == "webdav" else None


@record
class PublisherConfig:
    """Who signs the index, and for how long it is fresh."""

    key: str
    expires_days: int = DEFAULT_EXPIRY_DAYS
    trackers: tuple[str, ...] = ()  # BitTorrent trackers for every .torrent (docs/swarm.md); none by default


@record
class MirrorConfig:
    """The publishing part of mirror.toml."""

    path: Path
    publisher: PublisherConfig | None
    hosts: tuple[HostConfig, ...]

    def host(self, name: str) -> HostConfig:
        """The host called `name`.

        Raises:
            ConfigError: no such host.
        """
        for host in self.hosts:
            if host.name == name:
                return host
        raise ConfigError(f"no host named {name} in {self.path}",
                          hint=f"hosts: {', '.join(h.name for h in self.hosts) or 'none'}")


def _checked_url(url: str, where: str) -> None:
    """Refuse what urlsplit cannot take apart (`http://[::1/`), a port out of range and a query or fragment (which
    would be glued into every path asked for: /m/?token=.../index.json).

    Raises:
        ConfigError: naming the field.
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is no number or out of range
    except ValueError as exc:
        raise ConfigError(f"{where}: not a usable URL ({exc})") from None
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise ConfigError(f"{where}: must not hold a query (?) or a fragment (#)")


def _kind(url: str, where: str) -> str:
    _checked_url(url, f"{where}.url")
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("http", "https"):
        return "webdav"
    if scheme in ("", "file"):
        return "dir"
    if scheme in ("sftp", "s3"):
        return scheme
    raise ConfigError(f"{where}.url: unsupported scheme {scheme!r}", hint="use http(s)://, file://, sftp:// or s3://")


def _loopback(host: str) -> bool:
    """Whether `host` is this computer (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host.lower() == "localhost"


def _string(table: dict[str, Any], key: str, where: str, pattern: re.Pattern[str] | None = None) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value or (pattern is not None and not pattern.fullmatch(value)):
        raise ConfigError(f"{where}.{key}: must be a non-empty string" + (" naming an environment variable"
                                                                          if pattern is _ENV else ""))
    return value


def _limits(table: dict[str, Any], where: str) -> Limits:
    """timeout, min_rate and budget of a host table, checked."""
    timeout, budget = table.get("timeout", 30), table.get("budget", 3600)
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or not 0 < timeout <= 600:
        raise ConfigError(f"{where}.timeout: must be a number of seconds, 1 to 600")
    if not isinstance(budget, int | float) or isinstance(budget, bool) or not 0 < budget <= MAX_BUDGET:
        raise ConfigError(f"{where}.budget: must be a number of seconds, up to {MAX_BUDGET} (a week)")
    try:
        min_rate = parse_rate(table.get("min_rate", 1024))
    except ConfigError:
        raise ConfigError(f"{where}.min_rate: must be bytes per second, like 2048, \"2K\" or \"1.5M\"") from None
    return Limits(stall=float(timeout), min_rate=min_rate, budget=float(budget))


def _host(name: str, table: Any, base: Path, where: str) -> HostConfig:
    if not _NAME.fullmatch(name):
        raise ConfigError(f"{where}: bad host name {name!r}")
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    for key in table:
        if key in _SECRET_KEYS:
            raise ConfigError(f"{where}.{key}: secrets never go in mirror.toml",
                              hint=f"set an environment variable and name it in {key}_env")
        if key not in _HOST_KEYS:
            raise ConfigError(f"{where}.{key}: unknown field")
    url = _string(table, "url", where)
    if url is None:
        raise ConfigError(f"{where}.url: missing")
    kind = _kind(url, where)
    # A URL with user:password@ would end up in logs and, for a public URL, in the signed index that readers
    # download. Only an SFTP url may name its user (sftp://user@host/path), never a password.
    for key, value in (("url", url), ("public_url", table.get("public_url"))):
        if isinstance(value, str):
            _checked_url(value, f"{where}.{key}")
        userinfo = urlsplit(value).netloc.rpartition("@")[0] if isinstance(value, str) else ""
        if userinfo and (":" in userinfo or key == "public_url" or kind != "sftp"):
            raise ConfigError(f"{where}.{key}: must not hold a user name or password",
                              hint="use username and password_env")
    if kind == "webdav" and not url.endswith("/"):
        url += "/"
    if kind == "dir" and not url.startswith("file:") and not Path(url).expanduser().is_absolute():
        url = str(base / url)  # relative to mirror.toml, not to wherever publish runs
    required = table.get("required", True)
    if not isinstance(required, bool):
        raise ConfigError(f"{where}.required: must be true or false")
    limits = _limits(table, where)
    transfers = table.get("transfers", DEFAULT_TRANSFERS[kind])
    if not isinstance(transfers, int) or isinstance(transfers, bool) or not 1 <= transfers <= MAX_TRANSFERS:
        raise ConfigError(f"{where}.transfers: must be a whole number from 1 to {MAX_TRANSFERS}")
    paths = {key: base / Path(value).expanduser() for key in ("key_file", "known_hosts")  # ~/.ssh/... as documented
             if (value := _string(table, key, where)) is not None}
    public = _string(table, "public_url", where)
    endpoint = _string(table, "endpoint", where)
    if endpoint is not None:
        _checked_url(endpoint, f"{where}.endpoint")
    if endpoint is not None and "@" in urlsplit(endpoint).netloc:
        raise ConfigError(f"{where}.endpoint: must not hold a user name or password",
                          hint="use access_key_env and secret_key_env")
    public = None if public is None else lower_scheme(public)  # HTTPS:// signed into the index: readers refuse it
    if public is not None and urlsplit(public).scheme not in ("http", "https"):
        raise ConfigError(f"{where}.public_url: must be an http(s) URL")
    password_env = _string(table, "password_env", where, _ENV)
    for key in ("password_env", "access_key_env", "secret_key_env"):
        if table.get(key) == PASSPHRASE_VARIABLE:  # a mirror.toml someone else wrote would have it sent to a host
            raise ConfigError(f"{where}.{key}: {PASSPHRASE_VARIABLE} holds your signing key's passphrase, which "
                              "never goes to a host", hint="name a variable of the host's own password")
    if password_env is not None and kind == "webdav" and urlsplit(url).scheme == "http" \
            and not _loopback(urlsplit(url).hostname or ""):
        raise ConfigError(f"{where}.url: a password would cross the network in clear over http://",
                          hint="use https://, or http:// to this computer only (127.0.0.1)")
    return HostConfig(
        name=name, kind=kind, url=url, public_url=public if public is None or public.endswith("/") else public + "/",
        username=_string(table, "username", where),
        password_env=password_env, required=required,
        key_file=paths.get("key_file"), known_hosts=paths.get("known_hosts"),
        endpoint=endpoint, region=_string(table, "region", where),
        access_key_env=_string(table, "access_key_env", where, _ENV),
        secret_key_env=_string(table, "secret_key_env", where, _ENV), timeout=limits.stall,
        min_rate=limits.min_rate, budget=limits.budget, transfers=transfers,
    )


def _trackers(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(url, str) for url in value):
        raise ConfigError(f"{where}: must be a list of tracker URLs")
    try:
        return check_urls(tuple(map(lower_scheme, value)), where)
    except ManifestError as exc:
        raise ConfigError(str(exc)) from None


def load_config(path: Path) -> MirrorConfig:
    """Read and validate the publishing tables of `path`.

    Raises:
        ConfigError: any problem, naming the field.
    """
    raw = read_toml(path)
    where = path.name
    publisher = None
    if "publisher" in raw:
        table = raw["publisher"]
        if not isinstance(table, dict) or set(table) - {"key", "expires_days", "trackers"}:
            raise ConfigError(f"{where}: publisher: only 'key', 'expires_days' and 'trackers' are allowed")
        key = _string(table, "key", f"{where}: publisher")
        days = table.get("expires_days", DEFAULT_EXPIRY_DAYS)
        if key is None:
            raise ConfigError(f"{where}: publisher.key: missing")
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 366:
            raise ConfigError(f"{where}: publisher.expires_days: must be a whole number of days, 1 to 366")
        publisher = PublisherConfig(key, days, _trackers(table.get("trackers", []), f"{where}: publisher.trackers"))
    hosts_table = raw.get("hosts", {})
    if not isinstance(hosts_table, dict):
        raise ConfigError(f"{where}: hosts must be a table of [hosts.NAME] tables")
    hosts = tuple(_host(name, table, path.parent, f"{where}: hosts.{name}") for name, table in hosts_table.items())
    return MirrorConfig(path, publisher, hosts)
