"""SftpHost: a mirror on an SSH server's SFTP subsystem, through paramiko (the `sftp` extra).

Example::

    [hosts.ssh]
    url = "sftp://publisher@mirror.example.org:22/srv/mirror"   # "/~/mirror": under the login folder
    key_file = "keys/publisher_ed25519"       # or password_env
    known_hosts = "keys/known_hosts"          # the server's key must be listed: unknown keys are refused

    host = open_host(config.host("ssh"))
    host.upload("index.json", Path("index.json"), sha256)   # temp name, posix-rename, read back

The connection opens on first use. A plain SFTP rename refuses to replace a file, and
deleting first would leave a moment with no file, so only `posix-rename@openssh.com`
is used; a server without it fails the upload.

paramiko bounds each wait (connect, banner, authentication, a channel read) but not a
whole transfer: every operation runs under a Watch (net/pace.py) that counts the file's
bytes as they move, in SFTP packets of 32 KiB, and shuts down the TCP socket (which this
driver opens itself) when the server is too slow or the budget is spent; paramiko then
fails whatever call was waiting, and the connection is opened afresh next time. The SFTP channel is read through
sftp_framed.py: a server's packet is read whole (paramiko's own loop copied it over and over) and at most 1 MiB.
"""

from __future__ import annotations

import contextlib
import posixpath
import secrets
import socket
import stat
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import unquote, urlsplit

from mirror.errors import ConfigError, Failure, MissingFile, TransferError
from mirror.net.pace import CLEANUP_SECONDS, Limits, Watch, attach, cleanup, current
from mirror.publish.config import HostConfig
from mirror.publish.hosts import SourceFailed, SourceReader, check_path
from mirror.publish.hosts.base import MAX_LISTING, read_back, too_many
from mirror.publish.hosts.sftp_framed import Framed, PacketTooLong

PACKET = 1 << 15  # what one SFTP read or write request carries; progress is counted in these
# What a read asks for ahead of what it has taken: paramiko's prefetch of a whole file kept whatever the server
# answered out of order until the answer for the next offset came, up to the file's size (a bundle of GBs read
# back); one window at a time, at most this much is held (about one round trip lost a window, 8 MiB of data).
WINDOW = 8 << 20

if TYPE_CHECKING:
    import paramiko


def load_paramiko() -> None:
    """Import paramiko once, so that drivers can then `import paramiko` where they use it.

    Raises:
        ConfigError: it is not installed.
    """
    try:
        import paramiko  # noqa: F401
    except ImportError:
        raise ConfigError("SFTP hosts need paramiko, which is not installed",
                          hint="pip install 'mirror[sftp]'") from None


class SftpHost:
    """A mirror in a folder of an SFTP server; host keys are checked against a known_hosts file."""

    def __init__(self, name: str, address: tuple[str, int], username: str, root: str, *,
                 known_hosts: Path | None, key_file: Path | None, password: str | None, limits: Limits) -> None:
        self._name = name
        self._address = address
        self._username = username
        self._root = root
        self._known_hosts = known_hosts
        self._key_file = key_file
        self._password = password
        self._limits = limits
        self._socket: socket.socket | None = None
        self._client: paramiko.SSHClient | None = None
        self._sftp: paramiko.SFTPClient | None = None
        self._folders: set[str] = set()
        load_paramiko()
        import paramiko

        # paramiko's SFTPError (an answer of the wrong kind, an unknown protocol) is neither an OSError nor an
        # SSHException: a hostile server's odd answer went past the handling below as a traceback
        self._bad_answers: tuple[type[BaseException], ...] = (PacketTooLong, paramiko.SFTPError)
        self._errors: tuple[type[BaseException], ...] = (OSError, EOFError, paramiko.SSHException,
                                                         paramiko.SFTPError)

    def __repr__(self) -> str:
        host, port = self._address
        return f"SftpHost({self._name!r}, 'sftp://{self._username}@{host}:{port}/{self._root.lstrip('/')}')"

    @property
    def name(self) -> str:
        """The host's name from mirror.toml."""
        return self._name

    @classmethod
    def from_config(cls, config: HostConfig) -> SftpHost:
        """A host for `sftp://user@host:port/path` with a key file or a password.

        Raises:
            ConfigError: paramiko is missing, the URL is incomplete, or no credential is configured.
        """
        load_paramiko()
        where = f"hosts.{config.name}"
        parts = urlsplit(config.url)
        try:
            port = parts.port or 22
        except ValueError:
            raise ConfigError(f"{where}.url: bad port") from None
        username = unquote(parts.username or "") or config.username
        if parts.password is not None or not parts.hostname or not username:
            raise ConfigError(f"{where}.url: must be sftp://USER@HOST[:PORT]/PATH, without a password",
                              hint="put a password in the variable that password_env names")
        password = config.secret("password_env")
        if config.key_file is None and password is None:
            raise ConfigError(f"{where}: SFTP needs key_file or password_env")
        path = unquote(parts.path)
        root = "." if path in ("", "/~", "/~/") else path[3:] if path.startswith("/~/") else path
        return cls(config.name, (parts.hostname, port), username, root.rstrip("/") or "/",
                   known_hosts=config.known_hosts, key_file=config.key_file, password=password,
                   limits=config.limits)

    def stat(self, path: str) -> int | None:
        """The size of `path`, or None if it does not exist.

        Raises:
            TransferError: it is not a file, or the server failed.
        """
        remote = self._remote(path)
        try:
            with self._watch("stat", path):
                info = self._connection().stat(remote)
        except FileNotFoundError:
            return None
        except self._errors as exc:
            self._fail("stat", path, exc)
        if info.st_mode is not None and not stat.S_ISREG(info.st_mode):
            raise TransferError(self._name, f"{path} is not a file", Failure.BAD_ANSWER)
        return info.st_size

    def sizes(self, folder: str, wanted: Collection[str] | None = None) -> dict[str, int] | None:
        """The size of every regular file directly in `folder`, read as the server lists it (SFTP READDIR, a few
        requests ahead, each answering many names: paramiko's listdir_iter); an empty dict if there is no such
        folder, None if the server will not let this user list it, or lists a name without its type or size (then
        `stat` is asked of each file, as it is for a WebDAV file without its length).

        Raises:
            TransferError: the server failed, or listed more than MAX_LISTING entries.
        """
        remote = self._remote(folder) if folder else self._root
        found: dict[str, int] = {}
        try:
            with self._watch("list", folder or ".") as watch:
                for seen, entry in enumerate(self._connection().listdir_iter(remote)):
                    watch.count(len(entry.filename) + len(entry.longname or "") + 32)  # about its bytes on the wire
                    if seen >= MAX_LISTING:
                        self.close()  # READDIR requests still under way: this session is done with
                        raise too_many(self._name, folder, MAX_LISTING)
                    if wanted is not None and entry.filename not in wanted:
                        continue
                    if entry.st_mode is None or entry.st_size is None:  # a server that leaves them out of READDIR:
                        return None  # every file looked missing, and every held bundle was sent again each run
                    if stat.S_ISREG(entry.st_mode):
                        found[entry.filename] = entry.st_size
        except FileNotFoundError:
            return {}
        except PermissionError:
            return None
        except self._errors as exc:
            self._fail("list", folder or ".", exc)
        return found

    def read(self, path: str, limit: int) -> bytes:
        """The whole of `path`, at most `limit` bytes.

        Raises:
            MissingFile: it does not exist.
            TransferError: larger than `limit`, or the server failed.
        """
        data = bytearray()
        with self._watch("read", path) as watch, self._open(path) as file:
            try:
                size = file.stat().st_size or 0
                if size > limit:
                    raise TransferError(self._name, f"{path} is larger than {limit} bytes", Failure.BAD_ANSWER)
                for chunk in _read_ahead(file, size):
                    data += chunk
                    watch.count(len(chunk))
                    if len(data) > limit:
                        break
            except self._errors as exc:
                self._fail("read", path, exc)
        if len(data) > limit:
            raise TransferError(self._name, f"{path} is larger than {limit} bytes", Failure.BAD_ANSWER)
        return bytes(data)

    def stream(self, path: str) -> Iterator[bytes]:
        """`path` in chunks, read ahead one window at a time (_read_ahead).

        Raises:
            MissingFile: it does not exist.
            TransferError: the server failed.
        """
        with self._watch("read", path) as watch, self._open(path) as file:
            try:
                for chunk in _read_ahead(file, file.stat().st_size or 0):
                    watch.count(len(chunk))
                    yield chunk
            except self._errors as exc:
                self._fail("read", path, exc)

    def upload(self, path: str, source: Path, sha256: str) -> None:
        """Write `source` to a temporary name beside `path`, posix-rename it over `path`, read it back.

        Raises:
            TransferError: the server failed or lacks posix-rename, or the file reads back with another sha256.
            OSError: `source` cannot be read (it is local, not the host's fault).
        """
        parts = check_path(self._name, path)
        temp = self._remote("/".join([*parts[:-1], f".{parts[-1]}.{secrets.token_hex(8)}.part"]))
        size = source.stat().st_size
        step = "upload"
        with self._watch("upload", path) as watch, source.open("rb") as file:
            try:
                sftp = self._connection()
                self._make_folders(sftp, parts[:-1])
                self._send(sftp, SourceReader(file, size), temp, watch)
                step = "posix-rename onto"
                sftp.posix_rename(temp, self._remote(path))
            except SourceFailed as exc:
                self._discard(temp)
                raise exc.error from None
            except self._errors as exc:
                self._discard(temp)
                self._fail(step, path, exc)
        read_back(self, path, sha256, size)

    def close(self) -> None:
        """Close the SFTP session and the SSH connection."""
        if self._client is not None:
            self._client.close()
        if self._socket is not None:
            self._socket.close()
        self._client = self._sftp = self._socket = None
        self._folders.clear()

    def _connect(self, seconds: float | None = None) -> paramiko.SSHClient:
        """An authenticated SSH connection to a server whose key is in known_hosts; `seconds` to connect, when
        fewer than the stall time (a temporary file's removal has CLEANUP_SECONDS)."""
        import paramiko

        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        self._check_known(client)
        seconds, (hostname, port) = min(seconds or self._limits.stall, self._limits.stall), self._address
        connected = False
        try:
            self._socket = socket.create_connection(self._address, timeout=seconds)
            attach(self._socket)  # the current watch can cut the whole SSH connection
            client.connect(hostname, port, self._username, password=self._password, sock=self._socket,
                           key_filename=None if self._key_file is None else str(self._key_file),
                           timeout=seconds, banner_timeout=seconds, auth_timeout=seconds, channel_timeout=seconds,
                           allow_agent=False, look_for_keys=False)
            connected = True
        except paramiko.BadHostKeyException as exc:
            raise TransferError(self._name, f"the host key of {hostname}:{port} does not match known_hosts",
                                Failure.REFUSED,
                                hint="if the server's key really changed, check its fingerprint, then known_hosts"
                                ) from exc
        except paramiko.AuthenticationException as exc:
            raise TransferError(self._name, f"authentication failed for {self._username}@{hostname}:{port}",
                                Failure.REFUSED, hint="check key_file, or the password in password_env") from exc
        except (OSError, EOFError, paramiko.SSHException) as exc:
            raise TransferError(self._name, f"cannot connect to {hostname}:{port}: {exc}", Failure.UNREACHABLE) from exc
        finally:
            if not connected:
                client.close()
                if self._socket is not None:
                    self._socket.close()
                    self._socket = None
        return client

    def _check_known(self, client: paramiko.SSHClient) -> None:
        """Load known_hosts and refuse, before connecting, a server that is not in it."""
        hostname, port = self._address
        try:
            if self._known_hosts is None:
                client.load_system_host_keys()
            else:
                client.load_host_keys(str(self._known_hosts))
        except OSError as exc:
            raise TransferError(self._name, f"cannot read known_hosts: {exc.strerror}", Failure.REFUSED) from exc
        entry = hostname if port == 22 else f"[{hostname}]:{port}"
        if client.get_host_keys().lookup(entry) is None:
            raise TransferError(self._name, f"{entry} is not in known_hosts", Failure.REFUSED,
                                hint="check the server's key fingerprint, then add it to known_hosts")

    def _remote(self, path: str) -> str:
        parts = check_path(self._name, path)
        return "/".join(parts) if self._root == "." else posixpath.join(self._root, *parts)

    def _connection(self, seconds: float | None = None) -> paramiko.SFTPClient:
        """The SFTP session, opened as SSHClient.open_sftp() does, its channel read through Framed (whole reads,
        packets of at most MAX_PACKET: sftp_framed.py)."""
        if self._sftp is None:
            import paramiko

            client = self._connect(seconds)
            try:
                transport = client.get_transport()
                channel = transport.open_session(timeout=self._limits.stall) if transport is not None else None
                if channel is None:
                    raise paramiko.SSHException("the server opened no session")
                channel.invoke_subsystem("sftp")
                channel.settimeout(self._limits.stall)
                framed = Framed(channel, data_limit=paramiko.SFTPFile.MAX_REQUEST_SIZE)
                self._sftp = paramiko.SFTPClient(framed)  # type: ignore[arg-type]
            except self._errors as exc:
                client.close()
                if isinstance(exc, self._bad_answers):
                    raise TransferError(self._name, f"cannot start SFTP: {exc}", Failure.BAD_ANSWER,
                                        transient=False) from exc
                raise TransferError(self._name, f"cannot start SFTP: {exc}", Failure.UNREACHABLE) from exc
            self._client = client
        return self._sftp

    def _open(self, path: str) -> paramiko.SFTPFile:
        remote = self._remote(path)
        try:
            return self._connection().open(remote, "rb")
        except self._errors as exc:
            self._fail("read", path, exc)

    def _make_folders(self, sftp: paramiko.SFTPClient, folders: tuple[str, ...]) -> None:
        if "" not in self._folders and self._root not in (".", "/"):
            absolute = self._root.startswith("/")
            parts = [p for p in self._root.split("/") if p]
            for depth in range(1, len(parts) + 1):  # the host's own folder, as on a fresh server
                folder = ("/" if absolute else "") + "/".join(parts[:depth])
                try:
                    sftp.mkdir(folder)
                except OSError:
                    pass  # most likely it exists; if not, writing the file says why
                except self._errors as exc:
                    self._fail("mkdir", folder, exc)
            self._folders.add("")
        for depth in range(1, len(folders) + 1):
            folder = "/".join(folders[:depth])
            if folder in self._folders:
                continue
            try:
                sftp.mkdir(self._remote(folder))
            except OSError:
                pass  # most likely it exists; if not, writing the file says why
            except self._errors as exc:
                self._fail("mkdir", folder, exc)
            self._folders.add(folder)

    @staticmethod
    def _send(sftp: paramiko.SFTPClient, reader: SourceReader, temp: str, watch: Watch) -> None:
        with sftp.open(temp, "wb") as remote:
            remote.set_pipelined(True)
            while chunk := reader.read(PACKET):
                remote.write(chunk)
                watch.count(len(chunk))

    @contextlib.contextmanager
    def _watch(self, action: str, path: str) -> Iterator[Watch]:
        """A Watch over one operation that can cut the connection in use (one opened inside attaches itself);
        a connection it cut is closed, to be opened afresh by the next operation."""
        watch = Watch(self._name, f"{action} {path}", self._limits)
        if self._socket is not None:
            watch.attach(self._socket)
        try:
            with watch:
                yield watch
        finally:
            if watch.error is not None:
                self.close()

    def _discard(self, temp: str) -> None:
        """Remove a temporary file, best effort: the error that brought us here is the one to report. When the
        watch over the upload cut its connection (Ctrl-C, a spent budget, a stall), on a new one: the removal went
        out on the cut one, and the `.NAME.part` stayed on the host."""
        if self._sftp is None:
            return  # no session: nothing was written
        watch = current()
        if watch is not None and watch.error is not None:
            self.close()
        with contextlib.suppress(TransferError, *self._errors), cleanup(), self._watch("remove", temp):
            self._connection(CLEANUP_SECONDS).remove(temp)

    def _fail(self, action: str, path: str, exc: BaseException) -> NoReturn:
        """Raise TransferError for `exc`; a dropped or timed-out connection is closed, to be opened afresh."""
        if isinstance(exc, FileNotFoundError) and action in ("read", "stat"):
            raise MissingFile(self._name, f"{path} does not exist") from exc
        if isinstance(exc, self._bad_answers):  # the session is out of step, or the server odd: closed, not tried
            self.close()  # again
            reason = str(exc) if isinstance(exc, PacketTooLong) else f"an SFTP answer that makes no sense ({exc})"
            raise TransferError(self._name, f"{action} {path}: {reason}", Failure.BAD_ANSWER,
                                transient=False) from exc
        transient = isinstance(exc, TimeoutError | EOFError) or not isinstance(exc, OSError)
        failure = Failure.TIMEOUT if isinstance(exc, TimeoutError) else Failure.UNREACHABLE if transient \
            else Failure.REFUSED
        if transient:
            self.close()
        reason = f"nothing arrived for {self._limits.stall:g} s" if isinstance(exc, TimeoutError) \
            else exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
        hint = "the server must support posix-rename, as OpenSSH does" if action.startswith("posix") else None
        raise TransferError(self._name, f"{action} {path}: {reason}", failure, hint=hint) from exc


def _read_ahead(file: paramiko.SFTPFile, size: int) -> Iterator[bytes]:
    """The file from its start to its end, in chunks of at most PACKET bytes: up to `size` (what the server gave) read
    ahead one window at a time: every request of a window is sent at once (paramiko's readv), and the next window is
    asked for only once this one is taken whole; past `size`, one request at a time to the end (a file that grew).

    Windows never overlap: paramiko registers a window's requests from a thread of its own, so a second readv while
    the first was still sending asked for chunks again, and an answer that came twice stayed in its buffers for good.
    No request is sent past `size` ahead: paramiko keeps the end-of-file answer to one such request and raises it
    at the next read of any offset, so a server that answered out of order (allowed) had a file end at an earlier
    read's chunk (a file of 64 KiB read as 0 bytes, one of 8 MiB and 100 bytes as 8 MiB), and one that answered a
    read with fewer bytes than asked (allowed too) had it end there, before paramiko asked for the rest.
    What paramiko keeps of a window once it is taken is dropped (_drop_kept)."""
    at = 0
    while at < size:
        stop = min(at + WINDOW, size)
        for chunk in file.readv([(offset, min(PACKET, stop - offset)) for offset in range(at, stop, PACKET)]):
            asked = min(PACKET, stop - at)
            if chunk:
                yield chunk
            at += len(chunk)
            if len(chunk) < asked:  # paramiko asks for the rest of a short answer itself: the file ends here
                return
        _drop_kept(file)
    while chunk := file.read(PACKET):  # nothing is read ahead here, so paramiko asks for each read
        yield chunk


def _drop_kept(file: paramiko.SFTPFile) -> None:
    """Drop the answers paramiko still holds of a window taken whole. After an answer shorter than asked, paramiko
    asks for the rest of the window one read at a time and never takes the answers already come in: a server that
    answers at most 16 KiB a read (allowed) had about half of every window held until the file was closed, half of
    a stream of GBs. Its buffers are paramiko's own (SFTPFile._prefetch_data, under _prefetch_lock); if a version
    has none, nothing is done."""
    kept, lock = getattr(file, "_prefetch_data", None), getattr(file, "_prefetch_lock", None)
    if isinstance(kept, dict) and lock is not None:
        with lock:
            kept.clear()
