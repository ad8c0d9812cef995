"""publish(): bundles and a new signed index to every host, independently and in parallel.

Example::

    plan = plan_publish(config, hosts, publisher, [Path("x.7z")], keyring, now)
    results = run_plan(plan, hosts, log=print)     # one HostResult per host, failures included

Order on each host: every bundle with its detached SHA256SUMS and signature, then
the immutable index/<version>.json pair, then index.json and its signature last.
Each file goes to a temporary name and is renamed into place, then read back.
The next version is one above both the local state and the highest validly signed
version found on any host, and it is saved locally before anything is uploaded, so
a version number is never signed twice with different content.
"""

from __future__ import annotations

import functools
import hashlib
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from mirror.bundle.verify import verify_bundle
from mirror.errors import ConfigError, MirrorError
from mirror.formats.index import (
    INDEX_NAME,
    MAX_INDEX,
    BundleEntry,
    Index,
    check_index,
    format_time,
    sign_index,
    version_path,
)
from mirror.formats.manifest import SIG_NAME, SUMS_NAME
from mirror.formats.minisign import PublicKeyFile, key_id_hex
from mirror.publish.config import MirrorConfig
from mirror.publish.hosts.base import Host, HostError, MissingFile
from mirror.safeio import file_sha256
from mirror.state import load_json, published_path, save_json
from mirror.trust.keyring import Keyring
from mirror.trust.keys import SecretKey

Log = Callable[[str], None]
RETRIES = 3


@dataclass(frozen=True, slots=True)
class Upload:
    """One file for every host: where it goes, where it comes from."""

    path: str
    source: Path
    sha256: str
    size: int
    replace: bool  # index files are always sent; content-addressed files only when absent


@dataclass(slots=True)
class HostResult:
    """What happened on one host."""

    name: str
    required: bool
    sent: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when every file reached the host."""
        return self.error is None


@dataclass(frozen=True, slots=True)
class Plan:
    """A signed (or, for a dry run, unsigned) index and the files every host must get."""

    index: Index
    uploads: tuple[Upload, ...]
    added: tuple[str, ...]


def host_version(host: Host, publisher: PublicKeyFile, log: Log) -> Index | None:
    """The host's current index if it is validly signed by `publisher`; None otherwise."""
    try:
        raw = host.read(INDEX_NAME, MAX_INDEX)
        sig = host.read(INDEX_NAME + ".minisig", 4096)
        return check_index(raw, sig, publisher)
    except MissingFile:
        return None
    except MirrorError as exc:
        log(f"[{host.name}] its index was not usable: {exc}")
        return None


def _bundle_files(path: Path, keyring: Keyring, staging: Path) -> tuple[BundleEntry, list[Upload]]:
    verified = verify_bundle(path, keyring)
    if not verified.trusted:
        raise ConfigError(f"{path}: signed by key {verified.key_id}, which is not in your keyring as an author",
                          hint="import the author's key first; nobody publishes a bundle they cannot vouch for")
    digest, size = file_sha256(path), path.stat().st_size
    entry = BundleEntry.for_bundle(verified.meta.bundle_id, verified.meta.version, digest, size,
                                   verified.meta.title, verified.key_id)
    uploads = [Upload(entry.path, path, digest, size, False)]
    for name in (SUMS_NAME, SIG_NAME):
        local = staging / f"{digest}.{name}"
        local.write_bytes(verified.control[name])
        uploads.append(Upload(f"bundles/{digest}.{name}", local, file_sha256(local), local.stat().st_size, False))
    return entry, uploads


def _merge(previous: Sequence[BundleEntry], added: Sequence[BundleEntry]) -> tuple[BundleEntry, ...]:
    """Keep the highest version of each bundle id."""
    best: dict[str, BundleEntry] = {}
    for entry in (*previous, *added):
        if entry.id not in best or entry.version >= best[entry.id].version:
            best[entry.id] = entry
    return tuple(best.values())


def plan_publish(config: MirrorConfig, hosts: Sequence[Host], publisher: PublicKeyFile, bundles: Sequence[Path],
                 keyring: Keyring, now: datetime, staging: Path, log: Log) -> Plan:
    """Verify the bundles, find the next version, and lay out the new index (not yet signed).

    Raises:
        VerificationError: a bundle fails verification.
        ConfigError: a bundle's signer is not trusted, or the local state is damaged.
    """
    entries, uploads = [], []
    for path in bundles:
        entry, files = _bundle_files(path, keyring, staging)
        entries.append(entry)
        uploads += files
    key_id = key_id_hex(publisher.key_id)
    local = load_json(published_path(key_id))
    previous = Index.from_bytes(local["index"].encode()) if local.get("index") else None
    with ThreadPoolExecutor(max_workers=max(1, len(hosts))) as pool:
        found_on_hosts = list(pool.map(lambda h: host_version(h, publisher, log), hosts))
    for found in found_on_hosts:
        if found is not None and (previous is None or found.version > previous.version):
            previous = found  # a lost local state must not drop bundles or roll the version back
    version = max(int(local.get("version", 0)), previous.version if previous else 0) + 1
    days = config.publisher.expires_days if config.publisher else 14
    mirrors = tuple(h.reader_url for h in config.hosts if h.reader_url)
    index = Index(key_id, version, format_time(now), format_time(now + timedelta(days=days)),
                  _merge(previous.bundles if previous else (), entries), mirrors)
    return Plan(index, tuple(uploads), tuple(e.path for e in entries))


def sign_plan(plan: Plan, secret: SecretKey, staging: Path) -> Plan:
    """Sign the index, save it as the local state, and add the index files to the uploads."""
    raw, sig = plan.index.to_bytes(), sign_index(plan.index, secret)
    save_json(published_path(plan.index.publisher_key),
              {"version": plan.index.version, "index": raw.decode(), "signature": sig.decode()})
    files = []
    for remote, data in ((version_path(plan.index.version), raw), (version_path(plan.index.version) + ".minisig", sig),
                         (INDEX_NAME, raw), (INDEX_NAME + ".minisig", sig)):
        local = staging / remote.replace("/", "_")
        local.write_bytes(data)
        files.append(Upload(remote, local, hashlib.sha256(data).hexdigest(), len(data), True))
    return replace(plan, uploads=plan.uploads + tuple(files))


def _with_retries(action: Callable[[], None], host: str, what: str, log: Log) -> None:
    for attempt in range(RETRIES):
        try:
            action()
            return
        except HostError as exc:
            if not exc.transient or attempt == RETRIES - 1:
                raise
            delay = 0.5 * 2**attempt
            log(f"[{host}] {what}: {exc.reason}; trying again in {delay:g} s")
            time.sleep(delay)


def publish_to_host(host: Host, required: bool, uploads: Sequence[Upload], log: Log) -> HostResult:
    """Send every upload to one host, in order; stop at the first failure (the index goes last)."""
    result = HostResult(host.name, required)
    try:
        for upload in uploads:
            if not upload.replace and host.stat(upload.path) == upload.size:
                result.present.append(upload.path)
                continue
            _with_retries(functools.partial(host.upload, upload.path, upload.source, upload.sha256), host.name,
                          upload.path, log)
            result.sent.append(upload.path)
            log(f"[{host.name}] sent {upload.path} ({upload.size} bytes)")
    except HostError as exc:
        result.error = exc.reason
    except OSError as exc:  # reading a local file failed: this host's run ends, the others go on
        result.error = f"{exc.filename}: {exc.strerror}"
    finally:
        host.close()
    return result


def run_plan(plan: Plan, hosts: Sequence[Host], required: dict[str, bool], log: Log) -> list[HostResult]:
    """Publish to every host in parallel; one failure never stops the others."""
    with ThreadPoolExecutor(max_workers=max(1, len(hosts))) as pool:
        futures = [pool.submit(publish_to_host, h, required.get(h.name, True), plan.uploads, log) for h in hosts]
        return [f.result() for f in futures]


def staging_dir() -> tempfile.TemporaryDirectory[str]:
    """A private folder for the detached signature files and index of one run."""
    return tempfile.TemporaryDirectory(prefix="mirror-publish-")
