"""Real mirror servers for integration tests, each on a free 127.0.0.1 port in a temporary folder.

Example::

    pytest_plugins = ["servers"]

    def test_upload(nginx_dav: DavServer, monkeypatch: pytest.MonkeyPatch) -> None:
        host = open_host(nginx_dav.host_config(monkeypatch))

Each fixture starts its server (recipes in shared/test-servers.md), waits at most
STARTUP seconds for its port, yields what a HostConfig needs, and stops the server by
its PID. Nothing here talks to any address but 127.0.0.1. A missing server program skips
locally and fails in CI (helpers.require_tool).
"""

from __future__ import annotations

import contextlib
import getpass
import importlib.util
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import require_tool
from mirror.publish.config import HostConfig

LOOPBACK = "127.0.0.1"
STARTUP = 15.0


MIN_SHARE = 200  # ports a worker's share must hold to be used


def _port_range() -> range:
    """Where this test process picks its ports: below the system's ephemeral range (which every outgoing
    connection, and every bind to port 0, takes from: one could take a port between its probe and the server's
    bind), in a share of its own for each pytest-xdist worker (gw0, gw1, ...), so two workers never pick one.
    Empty where the ephemeral range starts too low to leave each worker MIN_SHARE ports ("1024 65535")."""
    low, high = 20000, 32767
    with contextlib.suppress(OSError, ValueError):
        high = min(high, int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0]) - 1)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    workers = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    share = (high - low) // workers
    if share < MIN_SHARE:
        return range(0)
    index = int(worker) % workers if worker.isdigit() else 0
    return range(low + share * index, low + share * (index + 1))


def _any_free_ports(count: int) -> list[int]:
    """`count` ports the system gives for port 0 (from its ephemeral range), released at once."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind((LOOPBACK, 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def free_ports(count: int) -> list[int]:
    """`count` different TCP ports on 127.0.0.1 that nothing listens on."""
    ports: list[int] = []
    candidates = _port_range()
    if not candidates:
        return _any_free_ports(count)
    for port in random.sample(candidates, len(candidates)):
        with socket.socket() as probe:
            try:
                probe.bind((LOOPBACK, port))
            except OSError:
                continue
        ports.append(port)
        if len(ports) == count:
            return ports
    raise RuntimeError(f"no {count} free ports in {candidates}")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (also what a dead host looks like)."""
    return free_ports(1)[0]


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on: what a dead host looks like."""
    return free_port()


@dataclass(frozen=True)
class DavServer:
    """A WebDAV server: authenticated writes under `url`, files stored in `root`."""

    url: str
    username: str
    password: str
    root: Path
    pid: int
    started_in: float

    def host_config(self, monkeypatch: pytest.MonkeyPatch, name: str = "dav", password: str | None = None,
                    url: str | None = None) -> HostConfig:
        """A HostConfig for this server; the password goes into an environment variable."""
        variable = f"MIRROR_TEST_{name.upper()}_PASSWORD"
        monkeypatch.setenv(variable, self.password if password is None else password)
        return HostConfig(name=name, kind="webdav", url=url or self.url, username=self.username,
                          password_env=variable, timeout=5.0)


@dataclass(frozen=True)
class SftpServer:
    """An OpenSSH SFTP server that accepts `key_file` for `username`; files stored in `root`."""

    port: int
    username: str
    root: Path
    key_file: Path
    known_hosts: Path
    pid: int
    started_in: float

    def host_config(self, name: str = "ssh", port: int | None = None, **changes: Path) -> HostConfig:
        """A HostConfig for this server (key_file and known_hosts may be replaced)."""
        url = f"sftp://{self.username}@{LOOPBACK}:{port or self.port}{self.root}"
        return HostConfig(name=name, kind="sftp", url=url, key_file=changes.get("key_file", self.key_file),
                          known_hosts=changes.get("known_hosts", self.known_hosts), timeout=5.0)


@dataclass(frozen=True)
class S3Server:
    """A SeaweedFS S3 endpoint with one bucket."""

    endpoint: str
    bucket: str
    access_key: str
    secret_key: str
    pid: int
    started_in: float

    def host_config(self, monkeypatch: pytest.MonkeyPatch, name: str = "bucket", prefix: str = "mirror",
                    secret_key: str | None = None, endpoint: str | None = None) -> HostConfig:
        """A HostConfig for this server; the keys go into environment variables."""
        access, secret = "MIRROR_TEST_S3_ACCESS", "MIRROR_TEST_S3_SECRET"
        monkeypatch.setenv(access, self.access_key)
        monkeypatch.setenv(secret, self.secret_key if secret_key is None else secret_key)
        return HostConfig(name=name, kind="s3", url=f"s3://{self.bucket}/{prefix}", endpoint=endpoint or self.endpoint,
                          region="us-east-1", access_key_env=access, secret_key_env=secret, timeout=10.0)


def listens(pid: int, port: int) -> bool:
    """Whether process `pid` holds a socket listening on TCP `port` (Linux's /proc; True where there is none)."""
    tables = [Path(f"/proc/net/{name}") for name in ("tcp", "tcp6")]
    if not all(table.exists() for table in tables):
        return True
    inodes = set()
    for table in tables:
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # 0A: LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    try:
        held = {os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()}
    except OSError:  # gone, or a file descriptor closed while it was read
        return False
    return bool(inodes & held)


def wait_for_port(process: subprocess.Popen[bytes], port: int, log: Path, limit: float = STARTUP) -> float:
    """Seconds until `port` accepts a connection; fails if the process exits or `limit` passes."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if process.poll() is not None:
            pytest.fail(f"{process.args!r} exited with {process.returncode}:\n{_tail(log)}")
        with socket.socket() as probe:
            probe.settimeout(0.5)
            # the port must be this process's: another program that took it since it was found free would
            # otherwise answer the test in its place (the process then exits, port taken, and says so above)
            if probe.connect_ex((LOOPBACK, port)) == 0 and listens(process.pid, port):
                return time.monotonic() - start
        time.sleep(0.02)
    pytest.fail(f"nothing listened on {LOOPBACK}:{port} within {limit:.0f} s:\n{_tail(log)}")


@contextmanager
def running(args: list[str], log: Path, port: int, grace: float = 5.0,
            env: dict[str, str] | None = None) -> Iterator[tuple[subprocess.Popen[bytes], float]]:
    """Start `args` with its output in `log`, wait for `port`, and stop it by PID at the end."""
    with log.open("wb") as out:
        process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        yield process, wait_for_port(process, port, log)
    finally:
        stop(process, grace)


def stop(process: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(5)


def python_tool(name: str) -> str:
    """A program installed by pip: beside this interpreter (a venv that is not activated), else on PATH."""
    return shutil.which(name, path=str(Path(sys.executable).parent)) or require_tool(name)


def system_tool(name: str) -> str:
    """A Debian server program: on PATH or in /usr/sbin, which a user's PATH often lacks."""
    return shutil.which(name, path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin") or require_tool(name)


def require(present: bool, what: str) -> None:
    """Skip locally, and fail in CI, when `what` is missing (helpers.require_tool's rule)."""
    if not present:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is required in CI but is not installed")
        pytest.skip(f"{what} is not installed")


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:] if log.exists() else ""


DAV_EXT = "/usr/lib/nginx/modules/ngx_http_dav_ext_module.so"
MIRRORS_DOC = Path(__file__).resolve().parents[1] / "docs" / "mirrors.md"
# What the test adds around docs/mirrors.md's location block: a server of its own, run unprivileged.
NGINX_CONF = """load_module {module};
daemon off;
master_process off;
pid {p}/nginx.pid;
error_log stderr notice;
events {{ worker_connections 64; }}
http {{
    access_log {p}/access.log;  # counted by tests (test_host_listing.py)
    default_type application/octet-stream;
    proxy_temp_path {p}/tmp/proxy; fastcgi_temp_path {p}/tmp/fcgi;
    uwsgi_temp_path {p}/tmp/uwsgi; scgi_temp_path {p}/tmp/scgi;
    server {{
        listen {host}:{port};
{location}
    }}
}}
"""


def documented_location(folder: Path) -> str:
    """docs/mirrors.md's nginx location block, with its /srv and htpasswd paths moved under `folder`."""
    text = MIRRORS_DOC.read_text(encoding="utf-8")
    block = text.split("<!-- mirror:nginx-location -->", 1)[1].split("```nginx\n", 1)[1].split("```", 1)[0]
    block = block.replace("/etc/nginx/mirror.htpasswd", f"{folder}/htpasswd").replace("/srv", str(folder / "srv"))
    return "\n".join("        " + line for line in block.splitlines())


def _htpasswd(user: str, password: str) -> str:
    """An htpasswd line made as docs/mirrors.md says: `openssl passwd -6` (SHA-512 crypt)."""
    openssl = system_tool("openssl")
    hashed = subprocess.run([openssl, "passwd", "-6", "-stdin"], input=password, capture_output=True, text=True,
                            encoding="utf-8", check=True, timeout=30).stdout.strip()
    return f"{user}:{hashed}\n"


@pytest.fixture(scope="module")
def nginx_dav(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DavServer]:
    """nginx with WebDAV, configured by docs/mirrors.md: basic auth for writes, anonymous GET with Range."""
    yield from _nginx(tmp_path_factory)


@pytest.fixture(scope="module")
def nginx_dav_unlisted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DavServer]:
    """nginx_dav without `dav_ext_methods PROPFIND`: a server that will not list a folder (405)."""
    yield from _nginx(tmp_path_factory, lambda block: block.replace("dav_ext_methods PROPFIND OPTIONS;",
                                                                    "dav_ext_methods OPTIONS;"))


def _nginx(tmp_path_factory: pytest.TempPathFactory,
           edit: Callable[[str], str] = lambda block: block) -> Iterator[DavServer]:
    nginx = system_tool("nginx")
    require(Path(DAV_EXT).exists(), "nginx's WebDAV module (Debian libnginx-mod-http-dav-ext)")
    folder = tmp_path_factory.mktemp("nginx")
    for sub in ("srv/mirror", "srv/tmp/body", "tmp/proxy", "tmp/fcgi", "tmp/uwsgi", "tmp/scgi"):
        (folder / sub).mkdir(parents=True)
    # Cyrillic, as a publisher in Almaty may choose: requests sent a str password as Latin-1 and failed on it
    password = "пароль-" + secrets.token_urlsafe(12)
    (folder / "htpasswd").write_text(_htpasswd("publisher", password))
    port = free_port()
    (folder / "nginx.conf").write_text(NGINX_CONF.format(module=DAV_EXT, p=folder, host=LOOPBACK, port=port,
                                                         location=edit(documented_location(folder))))
    args = [nginx, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", "stderr"]
    with running(args, folder / "nginx.log", port) as (process, seconds):
        yield DavServer(f"http://{LOOPBACK}:{port}/mirror/", "publisher", password, folder / "srv" / "mirror",
                        process.pid, seconds)


@pytest.fixture(scope="module")
def wsgidav(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DavServer]:
    """WsgiDAV on cheroot: a second WebDAV server (409 for missing parents, non-atomic PUT)."""
    program = python_tool("wsgidav")
    folder = tmp_path_factory.mktemp("wsgidav")
    (folder / "data").mkdir()
    password = secrets.token_urlsafe(12)
    port = free_port()
    config = {"host": LOOPBACK, "port": port, "provider_mapping": {"/": str(folder / "data")},
              "simple_dc": {"user_mapping": {"*": {"publisher": {"password": password}}}},
              "http_authenticator": {"accept_basic": True, "accept_digest": False, "default_to_digest": False,
                                     "trusted_auth_header": None},
              "verbose": 1, "logging": {"enable": False}, "dir_browser": {"enable": False}}
    (folder / "wsgidav.json").write_text(json.dumps(config))
    args = [program, "--config", str(folder / "wsgidav.json")]
    with running(args, folder / "wsgidav.log", port) as (process, seconds):
        yield DavServer(f"http://{LOOPBACK}:{port}/", "publisher", password, folder / "data", process.pid, seconds)


APACHE_MODULES = "/usr/lib/apache2/modules"
# Apache httpd with mod_dav_fs, as a publisher's shared host may run it: writes need the password, reads do not;
# under users/ the user may make no folder but their own (shared hosting, Nextcloud's /remote.php/dav/files/USER/);
# ro/ is read-only. Apache answers an MKCOL of a folder another connection made a moment before with 403.
APACHE_CONF = """ServerRoot {p}
Listen {host}:{port}
ServerName {host}
PidFile {p}/run/httpd.pid
DefaultRuntimeDir {p}/run
ErrorLog {p}/error.log
LogLevel warn
{modules}
{user}
DAVLockDB {p}/lock/DAVLock
DocumentRoot {p}/data
<Directory />
    Require all denied
</Directory>
<Directory {p}/data>
    DAV On
    AuthType Basic
    AuthName mirror
    AuthUserFile {p}/htpasswd
    <LimitExcept GET HEAD OPTIONS>
        Require valid-user
    </LimitExcept>
</Directory>
<Directory {p}/data/users>
    <Limit MKCOL>
        Require all denied
    </Limit>
</Directory>
<Directory {p}/data/users/alice>
    <Limit MKCOL>
        Require valid-user
    </Limit>
</Directory>
<Directory {p}/data/ro>
    <LimitExcept GET HEAD OPTIONS PROPFIND>
        Require all denied
    </LimitExcept>
</Directory>
"""


@pytest.fixture(scope="module")
def apache_dav() -> Iterator[DavServer]:
    """Apache httpd with mod_dav_fs (Debian apache2): a third WebDAV server. Its files live in a folder of their own
    under the system's temporary folder: run as root, Apache serves as www-data, which may not enter pytest's."""
    apache = system_tool("apache2")
    modules = ("mpm_event", "authz_core", "authn_core", "authn_file", "auth_basic", "authz_user", "dav", "dav_fs")
    require(all(Path(f"{APACHE_MODULES}/mod_{m}.so").exists() for m in modules), "Apache's modules (Debian apache2)")
    folder = Path(tempfile.mkdtemp(prefix="mirror-apache-"))
    try:
        folder.chmod(0o755)
        for sub in ("data/mirror", "data/users/alice", "data/ro", "lock", "run"):
            (folder / sub).mkdir(parents=True)
        password = "пароль-" + secrets.token_urlsafe(12)
        (folder / "htpasswd").write_text(_htpasswd("publisher", password))
        user = ""
        if os.getuid() == 0:  # Apache will not serve as root: www-data owns what it writes
            user = "User www-data\nGroup www-data"
            for path in (folder / "data", *(folder / "data").rglob("*"), folder / "lock"):
                shutil.chown(path, "www-data", "www-data")
        port = free_port()
        loads = "\n".join(f"LoadModule {m}_module {APACHE_MODULES}/mod_{m}.so" for m in modules)
        (folder / "httpd.conf").write_text(APACHE_CONF.format(p=folder, host=LOOPBACK, port=port, modules=loads,
                                                              user=user))
        args = [apache, "-DFOREGROUND", "-f", str(folder / "httpd.conf")]
        with running(args, folder / "apache.log", port, env={"PATH": os.environ.get("PATH", "")}) as (process,
                                                                                                        seconds):
            yield DavServer(f"http://{LOOPBACK}:{port}/mirror/", "publisher", password, folder / "data" / "mirror",
                            process.pid, seconds)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _sshd_config(folder: Path, port: int, command: str | None = None) -> str:
    return "\n".join([
        f"ListenAddress {LOOPBACK}", f"Port {port}", f"HostKey {folder}/host", f"PidFile {folder}/sshd.pid",
        f"AuthorizedKeysFile {folder}/authorized_keys", "PasswordAuthentication no",
        "KbdInteractiveAuthentication no", "UsePAM yes", "StrictModes no",
        "Subsystem sftp internal-sftp", f"ForceCommand {command or f'internal-sftp -d {folder}/data'}",
        "AllowTcpForwarding no",
        "X11Forwarding no", "PermitRootLogin prohibit-password", "",
    ])


@pytest.fixture(scope="module")
def sshd_sftp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SftpServer]:
    """OpenSSH's internal-sftp for the current user, key auth only; with a known_hosts file for the client."""
    yield from _sshd(tmp_path_factory)


@pytest.fixture(scope="module")
def sshd_hostile_sftp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SftpServer]:
    """A real sshd whose SFTP session is tests/hostile_sftp.py: a 16 MiB packet, trickled."""
    script = Path(__file__).resolve().parent / "hostile_sftp.py"
    yield from _sshd(tmp_path_factory, f"{sys.executable} {script}")


@pytest.fixture(scope="module")
def sshd_reverse_sftp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SftpServer]:
    """A real sshd whose SFTP session is tests/hostile_sftp.py's `reverse`: reads answered last first."""
    script = Path(__file__).resolve().parent / "hostile_sftp.py"
    yield from _sshd(tmp_path_factory, f"{sys.executable} {script} reverse")


def _sshd(tmp_path_factory: pytest.TempPathFactory, command: str | None = None) -> Iterator[SftpServer]:
    require(importlib.util.find_spec("paramiko") is not None, "paramiko (pip install 'mirror[sftp]')")
    sshd = system_tool("sshd")
    keygen = system_tool("ssh-keygen")
    folder = tmp_path_factory.mktemp("sshd")
    (folder / "data").mkdir()
    for key in ("host", "client"):
        subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(folder / key)], check=True, timeout=30)
    (folder / "authorized_keys").write_bytes((folder / "client.pub").read_bytes())
    port = free_port()
    host_key = (folder / "host.pub").read_text().split()
    (folder / "known_hosts").write_text(f"[{LOOPBACK}]:{port} {host_key[0]} {host_key[1]}\n")
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation folder
    (folder / "sshd_config").write_text(_sshd_config(folder, port, command))
    args = [sshd, "-D", "-e", "-f", str(folder / "sshd_config")]
    with running(args, folder / "sshd.log", port) as (process, seconds):
        yield SftpServer(port, getpass.getuser(), folder / "data", folder / "client", folder / "known_hosts",
                         process.pid, seconds)


@pytest.fixture(scope="module")
def seaweed_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """SeaweedFS (master, volume, filer, S3) with a bucket "mirror" and one identity."""
    require(importlib.util.find_spec("boto3") is not None, "boto3 (pip install 'mirror[s3]')")
    weed = python_tool("weed")
    folder = tmp_path_factory.mktemp("seaweed")
    for sub in ("tmp", "log", "data", "master"):
        (folder / sub).mkdir()
    access, secret = "mirror-test", secrets.token_urlsafe(24)
    identities = [{"name": "mirror", "credentials": [{"accessKey": access, "secretKey": secret}],
                   "actions": ["Admin", "Read", "Write", "List"]}, {"name": "anonymous", "actions": ["Read"]}]
    (folder / "s3.json").write_text(json.dumps({"identities": identities}))
    ports = free_ports(8)
    args = [weed, f"-logdir={folder}/log", "server", f"-ip={LOOPBACK}", f"-ip.bind={LOOPBACK}",
            f"-dir={folder}/data", f"-master.dir={folder}/master", "-master.telemetry=false",
            f"-master.port={ports[0]}", f"-master.port.grpc={ports[1]}", f"-volume.port={ports[2]}",
            f"-volume.port.grpc={ports[3]}", "-volume.max=5", "-master.volumeSizeLimitMB=64", "-filer",
            f"-filer.port={ports[4]}", f"-filer.port.grpc={ports[5]}", f"-filer.localSocket={folder}/filer.sock",
            "-s3", f"-s3.port={ports[6]}", f"-s3.port.grpc={ports[7]}", f"-s3.config={folder}/s3.json",
            "-s3.port.iceberg=0", "-s3.port.lance=0", "-s3.iam=false"]
    env = {**os.environ, "TMPDIR": str(folder / "tmp")}
    try:
        with running(args, folder / "weed.log", ports[6], grace=1.0, env=env) as (process, seconds):
            server = S3Server(f"http://{LOOPBACK}:{ports[6]}", "mirror", access, secret, process.pid, seconds)
            ready = _prepare_bucket(server, folder / "weed.log")
            yield S3Server(server.endpoint, server.bucket, access, secret, process.pid, seconds + ready)
    finally:
        for port in ports:  # SeaweedFS leaves /tmp/seaweedfs-<service>-<port>.sock behind
            for sock in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                sock.unlink(missing_ok=True)


def _prepare_bucket(server: S3Server, log: Path) -> float:
    """Seconds until the bucket exists and takes writes.

    The S3 port opens before the filer is ready, and the first write allocates volumes,
    which takes up to about 5 s: do it here, not in the first test.
    """
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    client = boto3.session.Session().client(
        "s3", endpoint_url=server.endpoint, region_name="us-east-1", aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}, connect_timeout=2,
                      read_timeout=STARTUP))
    start = time.monotonic()
    try:
        while time.monotonic() - start < STARTUP:
            try:
                client.create_bucket(Bucket=server.bucket)
                break
            except (BotoCoreError, ClientError):
                time.sleep(0.1)
        else:
            pytest.fail(f"SeaweedFS did not create a bucket within {STARTUP:.0f} s:\n{_tail(log)}")
        client.put_object(Bucket=server.bucket, Key="warm-up", Body=b"first write")
        client.delete_object(Bucket=server.bucket, Key="warm-up")
    finally:
        client.close()
    return time.monotonic() - start
