"""WebDavHost: a mirror on a WebDAV server (nginx dav, Apache mod_dav, WsgiDAV, Nextcloud).

Example::

    host = WebDavHost("dav", "https://dav.example.org/mirror/", ("publisher", password), Limits(stall=30))
    host.upload("bundles/ab12.7z", Path("ab12.7z"), sha256)
    # MKCOL bundles/ (405: it exists), PUT bundles/.ab12.7z.<random>.part,
    # MOVE it onto bundles/ab12.7z with Overwrite: T, then check it: a file of 8 MiB or more whose bytes hashed
    # to sha256 as they were sent, by its size and 8 ranges of 64 KiB; anything else GET whole and hashed

Every request runs under a Watch (net/pace.py: a minimum rate, and the budget of the
caller's phase) and follows no redirect, so credentials never travel to another
address. Every answer is read streamed and capped (net/http.read_capped): a file read
at most its caller's limit, an answer whose status is all that counts (MKCOL, PUT,
MOVE, DELETE) at most STATUS_BODY bytes. Messages name the host and path, never the password.
A failed upload DELETEs its temporary, best effort: a server that writes a PUT body
straight to its name (WsgiDAV) may still be writing an aborted one when the DELETE
comes, and keep a hidden `.NAME.RANDOM.part`; the file at `path` stays intact.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Collection, Iterator
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import requests

from mirror.errors import ConfigError, Failure, MissingFile, TransferError
from mirror.net.http import STATUS_BODY, read_capped, timed_out, watched_session
from mirror.net.pace import Limits, Watch, cleanup
from mirror.publish.config import HostConfig
from mirror.publish.hosts import SourceFailed, SourceReader, check_path
from mirror.publish.hosts.base import CHUNK, read_back
from mirror.publish.hosts.listing import LIST_REFUSED, LISTING_ASK, parse_listing

# The read-back of a large file: its size and a few ranges, not all of it again (docs/mirrors.md).
SPOT_CHECK_FROM = 8 << 20
SPOT_BYTES = 64 << 10
SPOT_RANGES = 8

_RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}
_MADE = (201, 405)  # MKCOL: made, or there already (RFC 4918: 405 for an existing resource)
_MISSING_PARENT = 409  # MKCOL: a folder above it is not there
_DEFAULT_PORT = {"http": 80, "https": 443}


def _as_sent(name: str, url: str) -> str:
    """`url` exactly as requests and urllib3 send it: the host name lower-cased, in IDNA as they encode it (UTS 46:
    straße.de is xn--strae-oqa.de, not strasse.de) and without a trailing dot, the path percent-encoded as they
    encode it (a Cyrillic folder, a space, a "%" that starts no escape, escapes in upper case); a path with dot
    segments is refused. MOVE's Destination header is this URL: raw, it crashed the whole publish (a header is ASCII,
    helper-151), and encoded otherwise than the request line it named another path (HTTP 400 after the whole
    upload, helper-152, helper-153).

    Raises:
        ConfigError: a URL requests cannot send (a host name IDNA cannot encode).
    """
    path = urlsplit(url).path
    if any(segment in (".", "..") for segment in unquote(path).split("/")):
        # requests drops them (RFC 3986): /users/alice/../bob/ is /users/bob/, and a typo published elsewhere
        raise ConfigError(f"hosts.{name}.url: the path {path!r} has a '.' or '..' segment",
                          hint="write the folder's path without them")
    try:
        sent = url
        for _ in range(3):  # urllib3 normalizes what requests prepared once more ("%2E%2E" becomes "..", then goes)
            sent, before = requests.Request("GET", sent).prepare().url or sent, sent
            if sent == before:
                break
    except (requests.RequestException, UnicodeError, ValueError):
        raise ConfigError(f"hosts.{name}.url: requests cannot send to {url!r}") from None
    parts = urlsplit(sent)
    host = parts.hostname or ""
    if "%" in host:  # an IPv6 zone (fe80::1%eth0): the Host header drops it, and the name would be looked up
        raise ConfigError(f"hosts.{name}.url: an IPv6 address with a zone ({host}) cannot be published to",
                          hint="use the server's name or another address")
    own_port = parts.port == _DEFAULT_PORT.get(parts.scheme)
    if host.endswith(".") or own_port:
        # http.client sends the Host without a trailing dot and without the scheme's own port: so does Destination
        # (WsgiDAV and Go's webdav compare the two, helper-155)
        netloc = f"[{host.rstrip('.')}]" if ":" in host else host.rstrip(".")
        if parts.port is not None and not own_port:
            netloc += f":{parts.port}"
        sent = urlunsplit(parts._replace(netloc=netloc))
    return sent


def _length(value: str) -> int | None:
    """A Content-Length as a number; None unless it is 1 to 20 ASCII digits (no host sends more: 2^64 has 20)."""
    value = value.strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 20 else None


class WebDavHost:
    """A mirror at a WebDAV URL, with HTTP basic auth.

    Args:
        name: the host's name from mirror.toml.
        url: the folder's URL, ending in "/", with no user name or password in it.
        auth: (user name, password), or None for a server that needs none.
        limits: the stall time (connect, and data that stopped), minimum rate and default budget.
    """

    def __init__(self, name: str, url: str, auth: tuple[str, str] | None, limits: Limits) -> None:
        self._name = name
        self.url = _as_sent(name, url if url.endswith("/") else url + "/")
        self._netloc = urlsplit(self.url).netloc
        self._limits = limits
        self._session = watched_session()
        if auth is not None and urlsplit(self.url).scheme == "http":  # to this computer only (config.py), and
            self._session.trust_env = False  # never through an $http_proxy elsewhere, in clear
        # As UTF-8 (RFC 7617's charset): requests sends a str as Latin-1, and a Cyrillic password crashed it
        self._session.auth = None if auth is None else requests.auth.HTTPBasicAuth(
            auth[0].encode(), auth[1].encode())
        self._session.headers["Accept-Encoding"] = "identity"  # sizes and hashes are of the stored bytes
        self._folders: set[str] = set()

    def __repr__(self) -> str:
        return f"WebDavHost({self._name!r}, {self.url!r})"

    @property
    def name(self) -> str:
        """The host's name from mirror.toml."""
        return self._name

    @classmethod
    def from_config(cls, config: HostConfig) -> WebDavHost:
        """A host for `config.url` with the user name and the password from `password_env`.

        Raises:
            ConfigError: credentials in the URL, a password without a user name, or an unset variable.
        """
        parts = urlsplit(config.url)
        if parts.username is not None or parts.password is not None:
            raise ConfigError(f"hosts.{config.name}.url: must not hold a user name or password",
                              hint="use username and password_env")
        password = config.secret("password_env")
        if password is not None and config.username is None:
            raise ConfigError(f"hosts.{config.name}: password_env needs username")
        auth = None if config.username is None else (config.username, password or "")
        return cls(config.name, config.url, auth, config.limits)

    def stat(self, path: str) -> int | None:
        """The size of `path` from a HEAD request, or None on 404.

        Raises:
            TransferError: any other failure, or a response without a Content-Length.
        """
        response = self._request("HEAD", path, ok=(200, 404))
        response.close()
        if response.status_code == 404:
            return None
        length = _length(response.headers.get("Content-Length", ""))
        if length is None:
            raise TransferError(self._name, f"HEAD {path}: no Content-Length in the response", Failure.BAD_ANSWER)
        return length

    def sizes(self, folder: str, wanted: Collection[str] | None = None) -> dict[str, int] | None:
        """The size of every file directly in `folder`, from one PROPFIND with Depth: 1 (hosts/listing.py); an
        empty dict on 404, None when the server will not list (403, 405, 501: nginx without dav_ext, a server
        that refuses Depth: 1) or gives a file without its length.

        Raises:
            TransferError: any other status, an answer larger than LISTING_BYTES, not XML (or XML with a DTD or
                entities), or of more than MAX_LISTING entries.
        """
        where = f"{folder}/" if folder else ""
        with Watch(self._name, f"PROPFIND {where or '.'}", self._limits):
            url = self._url(where) if where else self.url
            response = self._at("PROPFIND", url, where or ".", data=LISTING_ASK,
                                headers={"Depth": "1", "Content-Type": "application/xml; charset=utf-8"})
            with response:
                if response.status_code in (404, *LIST_REFUSED):  # its page unread (the connection is dropped)
                    return {} if response.status_code == 404 else None
                if response.status_code != 207:
                    raise self._status_error("PROPFIND", where or ".", response.status_code)
                return parse_listing(self._chunks(response, where or ".", "PROPFIND"), unquote(urlsplit(url).path),
                                     self._name, folder, wanted)

    def read(self, path: str, limit: int) -> bytes:
        """The whole of `path`, refusing more than `limit` bytes before or while reading them.

        Raises:
            MissingFile: 404.
            TransferError: larger than `limit`, or any other failure.
        """
        with Watch(self._name, f"GET {path}", self._limits), self._get(path) as response:
            length = _length(response.headers.get("Content-Length", ""))
            if length is not None and length > limit:
                raise TransferError(self._name, f"{path} is larger than {limit} bytes", Failure.BAD_ANSWER)
            return read_capped(self._chunks(response, path), limit, self._name, path)

    def stream(self, path: str) -> Iterator[bytes]:
        """`path` in chunks, from one streamed GET.

        Raises:
            MissingFile: 404.
            TransferError: any other failure, including a body cut short.
        """
        with Watch(self._name, f"GET {path}", self._limits), self._get(path) as response:
            yield from self._chunks(response, path)

    def upload(self, path: str, source: Path, sha256: str) -> None:
        """PUT `source` (streamed from disk) to a temporary name, MOVE it onto `path`, read it back.

        On failure the temporary file is deleted if the server allows it.

        Raises:
            TransferError: any request failed, or the file reads back with another sha256.
            OSError: `source` cannot be read (it is local, not the host's fault).
        """
        parts = check_path(self._name, path)
        self._make_folders(parts[:-1])
        temp = "/".join([*parts[:-1], f".{parts[-1]}.{secrets.token_hex(8)}.part"])
        moved = False
        try:
            sent = self._put(temp, source)
            self._request("MOVE", temp, ok=(201, 204),
                          headers={"Destination": self._url(path), "Overwrite": "T"}).close()
            moved = True
        finally:
            if not moved:
                self._discard(temp)
        size = source.stat().st_size
        if sent != sha256 or size < SPOT_CHECK_FROM or not self._spot_check(path, source, size):
            read_back(self, path, sha256, size)

    def _spot_check(self, path: str, source: Path, size: int) -> bool:
        """Compare the stored file's size and SPOT_RANGES ranges (the first, the last, the rest at random) with the
        local file; False when the server does not answer ranges (then the caller reads it all back).

        The bytes sent were hashed as they were sent, so this checks what the server stored, not what we meant
        to send: a cut-short or damaged upload is caught here, and readers check every byte against the signed
        index in any case (docs/mirrors.md).

        Raises:
            TransferError: another size, or a range that differs.
        """
        if self.stat(path) != size:
            raise TransferError(self._name, f"{path} reads back with another size than was sent", Failure.BAD_ANSWER)
        span = min(SPOT_BYTES, size)
        starts = {0, size - span, *(secrets.randbelow(size - span + 1) for _ in range(SPOT_RANGES - 2))}
        with source.open("rb") as local:
            for start in sorted(starts):
                got = self._range(path, start, span, size)
                if got is None:
                    return False
                local.seek(start)
                if got != local.read(span):
                    raise TransferError(self._name, f"{path} reads back with other bytes than were sent",
                                        Failure.BAD_ANSWER)
        return True

    def _range(self, path: str, start: int, length: int, size: int) -> bytes | None:
        """`length` bytes from `start`, or None if the server answers the whole file instead of the range."""
        last = start + length - 1
        with Watch(self._name, f"GET {path}", self._limits):
            response = self._send("GET", path, ok=(200, 206), headers={"Range": f"bytes={start}-{last}"})
            with response:
                if response.status_code != 206 or \
                        response.headers.get("Content-Range") != f"bytes {start}-{last}/{size}":
                    return None
                data = bytearray()
                for chunk in self._chunks(response, path):
                    data += chunk
                    if len(data) > length:
                        raise TransferError(self._name, f"GET {path}: more bytes than the range asked for",
                                            Failure.BAD_ANSWER)
        return bytes(data)

    def close(self) -> None:
        """Close the session's connections."""
        self._session.close()

    def _url(self, path: str) -> str:
        check_path(self._name, path.removesuffix("/"))  # folders end in "/"
        return self.url + quote(path)

    def _make_root(self) -> None:
        """The host's own folder on the server, made if it is not there; a folder above it only when the server
        says one is missing (a host inside a folder the user may not make, as on shared hosting or Nextcloud's
        /remote.php/dav/files/USER/, is not refused for MKCOL of the folders above it, helper-151)."""
        parts = [p for p in urlsplit(self.url).path.split("/") if p]
        origin = self.url[: len(self.url) - len(urlsplit(self.url).path)]
        self._make_at(origin, parts, len(parts))
        self._folders.add("")

    def _make_at(self, origin: str, parts: list[str], depth: int) -> None:
        """The folder of the first `depth` parts of the host's path, made (its parents first if need be)."""
        if depth == 0:
            return  # the server's root: always there
        url = origin + "/" + "/".join(parts[:depth]) + "/"
        folder = "/".join(parts[:depth]) + "/"
        status = self._mkcol(url, folder)
        if status == _MISSING_PARENT:
            self._make_at(origin, parts, depth - 1)
            status = self._mkcol(url, folder)
        if status not in _MADE and not self._is_folder(url, folder):
            raise self._status_error("MKCOL", folder, status)

    def _make_folders(self, folders: tuple[str, ...]) -> None:
        """MKCOL each missing parent, top down (servers create one level at a time; 405: it exists)."""
        if "" not in self._folders:
            self._make_root()
        for depth in range(1, len(folders) + 1):
            folder = "/".join(folders[:depth]) + "/"
            if folder not in self._folders:
                status = self._mkcol(self._url(folder), folder)
                if status not in _MADE and not self._is_folder(self._url(folder), folder):
                    raise self._status_error("MKCOL", folder, status)
                self._folders.add(folder)

    def _mkcol(self, url: str, folder: str) -> int:
        """MKCOL at `url`; its status, the answer drained."""
        with Watch(self._name, f"MKCOL {folder}", self._limits):
            response = self._at("MKCOL", url, folder)
            with response:
                self._drain(response, "MKCOL", folder)
            return response.status_code

    def _is_folder(self, url: str, folder: str) -> bool:
        """Whether `url` is a folder already (PROPFIND, Depth 0: 207 and a collection). Asked after an MKCOL that
        neither made it nor said it was there: several connections of one publish make the same folder at once,
        and Apache answers all but one 403 ("File exists"), rclone 423; a folder the user may not make may well
        exist."""
        with Watch(self._name, f"PROPFIND {folder}", self._limits):
            response = self._at("PROPFIND", url, folder, headers={"Depth": "0"})
            with response:
                body = read_capped(self._chunks(response, folder, "PROPFIND", STATUS_BODY), STATUS_BODY,
                                   self._name, f"the answer to PROPFIND {folder}")
            return response.status_code == 207 and b"collection" in body

    def _at(self, method: str, url: str, path: str, headers: dict[str, str] | None = None,
            data: SourceReader | bytes | None = None) -> requests.Response:
        """One request to `url` (the host's `path`, or a folder above it) with timeouts and no redirects, its answer
        streamed, whatever its status."""
        try:
            return self._session.request(method, url, headers=headers, data=data, stream=True,
                                         timeout=self._limits.timeouts, allow_redirects=False)
        except (requests.Timeout, requests.ConnectionError) as exc:
            if timed_out(exc):  # requests.Timeout, or a send that timed out (a server reading slowly)
                raise TransferError(self._name, f"{method} {path}: {self._netloc} timed out", Failure.TIMEOUT) from exc
            raise TransferError(self._name, f"{method} {path}: connection to {self._netloc} failed",
                                Failure.UNREACHABLE) from exc
        except requests.RequestException as exc:
            raise TransferError(self._name, f"{method} {path}: {type(exc).__name__}", Failure.BAD_ANSWER) from exc

    def _put(self, temp: str, source: Path) -> str | None:
        """PUT the file; the SHA-256 of the bytes sent, when they went once in order."""
        size = source.stat().st_size
        with source.open("rb") as file:
            body = SourceReader(file, size)
            try:
                self._request("PUT", temp, ok=(200, 201, 204), data=body if size else b"").close()
            except SourceFailed as exc:
                raise exc.error from None
        return body.sent_sha256() if size else None

    def _discard(self, temp: str) -> None:
        """Delete a temporary file, best effort: the error that brought us here is the one to report."""
        with contextlib.suppress(TransferError), cleanup():
            self._request("DELETE", temp, ok=(200, 204, 404)).close()

    def _get(self, path: str) -> requests.Response:
        """A streamed GET, to be read under the caller's Watch."""
        response = self._send("GET", path, ok=(200, 404))
        if response.status_code == 404:
            response.close()
            raise MissingFile(self._name, f"{path} does not exist")
        return response

    def _chunks(self, response: requests.Response, path: str, method: str = "GET",
                block: int = CHUNK) -> Iterator[bytes]:
        try:
            yield from response.iter_content(block)
        except requests.RequestException as exc:
            if timed_out(exc):
                raise TransferError(self._name, f"{method} {path}: nothing arrived for {self._limits.stall:g} s",
                                    Failure.TIMEOUT) from exc
            raise TransferError(self._name, f"{method} {path}: connection lost while reading",
                                Failure.UNREACHABLE) from exc

    def _drain(self, response: requests.Response, method: str, path: str) -> None:
        """Read the body of an answer whose status is all that counts, at most STATUS_BODY bytes, so that the
        connection can serve the next request; a longer body (a host answering without end) is refused."""
        read_capped(self._chunks(response, path, method, STATUS_BODY), STATUS_BODY, self._name,
                    f"the answer to {method} {path}")

    def _request(self, method: str, path: str, ok: tuple[int, ...], *, headers: dict[str, str] | None = None,
                 data: SourceReader | bytes | None = None) -> requests.Response:
        """One request under its own Watch, its answer's body read (at most STATUS_BODY bytes) and dropped;
        statuses outside `ok` become TransferError."""
        with Watch(self._name, f"{method} {path}", self._limits):
            response = self._send(method, path, ok, headers=headers, data=data)
            with response:
                self._drain(response, method, path)
            return response

    def _send(self, method: str, path: str, ok: tuple[int, ...], *, headers: dict[str, str] | None = None,
              data: SourceReader | bytes | None = None) -> requests.Response:
        """One request with timeouts and no redirects, its answer's body left unread (streamed); statuses outside
        `ok` become TransferError."""
        response = self._at(method, self._url(path), path, headers, data)
        if response.status_code not in ok:
            response.close()
            raise self._status_error(method, path, response.status_code)
        return response

    def _status_error(self, method: str, path: str, status: int) -> TransferError:
        if status == 401:
            return TransferError(self._name, f"authentication failed (HTTP {status} for {method} {path})",
                                 Failure.REFUSED,
                                 hint="check the user name and the password in mirror.toml's password_env")
        if status == 403:  # a read-only server or folder, or one this user may not write to: not the password
            return TransferError(self._name, f"forbidden (HTTP 403 for {method} {path}): the server does not let "
                                 "this user do that there", Failure.REFUSED,
                                 hint="check that the user may write to that folder on the server (and the user "
                                      "name and password)")
        if status == 507:
            return TransferError(self._name, f"the server's disk is full (HTTP 507 for {method} {path})",
                                 Failure.REFUSED, hint="make room on the server, or publish to another host")
        if status == 413:
            return TransferError(self._name, f"the server refuses a file this large (HTTP 413 for {method} {path})",
                                 Failure.REFUSED, hint="raise the server's limit on uploads (nginx: "
                                 "client_max_body_size; Apache: LimitRequestBody)")
        return TransferError(self._name, f"{method} {path}: HTTP {status}", Failure.REFUSED,
                             transient=status in _RETRY_STATUS)
