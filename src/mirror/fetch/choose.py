"""Choose an index from mirrors: publisher's signature, no rollback, no freeze, no mixing of answers.

Example::

    chosen = choose_index(mirrors, keyring, now, strict=False, reports=reports, log=print)
    chosen.index.bundles        # what this publisher serves now

A mirror caught between renaming index.json and its signature serves a pair that
does not match: the pair is fetched again, then the immutable index/<version>.json
pair, before the mirror is called tampered. The highest version seen per
publisher is kept on this machine: a lower one means a stale mirror; the same
version with other bytes is an attack.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from mirror.errors import ExitCode, ManifestError, MirrorError, SignatureError
from mirror.fetch.transport import Mirror, MirrorFailure
from mirror.formats.index import INDEX_NAME, MAX_INDEX, Index, check_index, version_path
from mirror.formats.minisign import Signature, key_id_hex
from mirror.state import load_json, save_json, seen_path
from mirror.trust.keyring import Keyring

Log = Callable[[str], None]
FUTURE_SLACK = timedelta(days=1)
_VERSION = re.compile(r"\tversion:(\d+)\t")


@dataclass(slots=True)
class MirrorReport:
    """What one mirror did: ok, dead, slow, missing, stale, tampered or untrusted."""

    label: str
    fate: str = "not tried"
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Chosen:
    """The index a fetch works from, and the mirror that served it."""

    index: Index
    mirror: Mirror
    expired: bool


class NoIndex(MirrorError):
    """No mirror served an acceptable index; exit 3 if every answer was tampered, else 4."""

    def __init__(self, reports: dict[str, MirrorReport]) -> None:
        super().__init__("no mirror served a valid index", hint="try other mirrors, or a proxy (--proxy)")
        fates = {r.fate for r in reports.values()}
        answered = fates - {"dead", "slow", "missing", "not tried"}  # mirrors that served an index at all
        self.exit_code = ExitCode.INVALID if answered == {"tampered"} else ExitCode.INCOMPLETE
        self.reports = reports


class Rejected(Exception):
    """An index this mirror served is not acceptable; `fate` says why."""

    def __init__(self, fate: str, detail: str) -> None:
        super().__init__(detail)
        self.fate = fate
        self.detail = detail


def _verified(raw: bytes, sig: bytes, keyring: Keyring) -> Index:
    key_id = Signature.from_bytes(sig).key_id
    record = keyring.find(key_id, role="publisher")
    if record is None:
        raise Rejected("untrusted", f"index signed by key {key_id_hex(key_id)}, not a publisher in your keyring")
    return check_index(raw, sig, record.public)


def read_index(mirror: Mirror, keyring: Keyring) -> tuple[Index, bytes]:
    """A validly signed index from one mirror, with its bytes.

    Raises:
        MirrorFailure: the mirror did not answer.
        Rejected: the index is not signed by a trusted publisher ("untrusted") or does not verify ("tampered").
    """
    raw, sig = mirror.get(INDEX_NAME, MAX_INDEX), mirror.get(INDEX_NAME + ".minisig", 4096)
    try:
        return _verified(raw, sig, keyring), raw
    except (SignatureError, ManifestError) as first:
        # Possibly caught between two renames: try the pair again, then the immutable copy.
        raw, sig = mirror.get(INDEX_NAME, MAX_INDEX), mirror.get(INDEX_NAME + ".minisig", 4096)
        try:
            return _verified(raw, sig, keyring), raw
        except (SignatureError, ManifestError):
            pass
        candidates = {v for v in (_version_of(sig), _version_of_json(raw)) if v is not None}
        for candidate in sorted(candidates, reverse=True):  # the newer of the two first
            try:
                path = version_path(candidate)
                raw = mirror.get(path, MAX_INDEX)
                return _verified(raw, mirror.get(path + ".minisig", 4096), keyring), raw
            except (SignatureError, ManifestError, MirrorFailure):
                continue
        raise Rejected("tampered", f"index does not verify: {first}") from None


def _version_of(sig: bytes) -> int | None:
    try:
        match = _VERSION.search(Signature.from_bytes(sig).trusted_comment + "\t")
    except SignatureError:
        return None
    return int(match[1]) if match else None


def _version_of_json(raw: bytes) -> int | None:
    match = re.search(rb'"version": (\d{1,9}),', raw[:4096])
    return int(match[1]) if match else None


def judge(index: Index, raw: bytes, now: datetime, strict: bool, log: Log, label: str) -> bool:
    """Check rollback and same-version attacks against local state; return True if the index expired.

    Raises:
        Rejected: stale (older than seen, or expired with --strict) or an attack (same version, other bytes).
    """
    seen = load_json(seen_path(index.publisher_key))
    seen_version = int(seen.get("version", 0))
    digest = hashlib.sha256(raw).hexdigest()
    if index.version < seen_version:
        raise Rejected("stale", f"index version {index.version}, older than version {seen_version} seen before")
    if index.version == seen_version and seen.get("sha256") not in (None, digest):
        raise Rejected("tampered", f"ATTACK: index version {index.version} with other bytes than seen before")
    if index.created_at > now + FUTURE_SLACK:
        log(f"warning: {label} serves an index dated {index.created} (in the future: is your clock right?)")
    expired = index.expires_at <= now
    if expired and strict:
        raise Rejected("stale", f"index expired {_age(now - index.expires_at)} ago (--strict)")
    return expired


def remember(index: Index, raw: bytes) -> None:
    """Record the accepted index as the highest seen from its publisher."""
    save_json(seen_path(index.publisher_key), {"version": index.version, "sha256": hashlib.sha256(raw).hexdigest(),
                                               "mirrors": list(index.mirrors)})


def known_mirrors(keyring: Keyring) -> list[str]:
    """The signed mirror lists of the last indexes accepted from the publishers in the keyring."""
    found: list[str] = []
    for record in keyring:
        if "publisher" in record.roles:
            found += [m for m in load_json(seen_path(record.key_id_hex)).get("mirrors", []) if m not in found]
    return found


def _age(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f} hours" if hours < 48 else f"{hours / 24:.1f} days"


def choose_index(mirrors: Sequence[Mirror], keyring: Keyring, now: datetime, strict: bool,
                 reports: dict[str, MirrorReport], log: Log) -> Chosen:
    """The first fresh index in mirror order; else the newest expired one (not with --strict).

    Raises:
        ConfigError: no mirror served an acceptable index.
    """
    fallback: tuple[Index, bytes, Mirror] | None = None
    for mirror in mirrors:
        report = reports.setdefault(mirror.label, MirrorReport(mirror.label))
        try:
            index, raw = read_index(mirror, keyring)
            expired = judge(index, raw, now, strict, log, mirror.label)
        except MirrorFailure as exc:
            report.fate, report.detail = exc.kind, exc.reason
            continue
        except Rejected as exc:
            report.fate, report.detail = exc.fate, exc.detail
            continue
        if not expired:
            report.fate, report.detail = "ok", f"index v{index.version}"
            remember(index, raw)
            return Chosen(index, mirror, False)
        report.fate, report.detail = "stale", f"index v{index.version} expired {_age(now - index.expires_at)} ago"
        if fallback is None or index.version > fallback[0].version:
            fallback = (index, raw, mirror)
    if fallback is None:
        raise NoIndex(reports)
    index, raw, mirror = fallback
    log(f"warning: every index found has expired; using version {index.version} from {mirror.label}")
    remember(index, raw)
    return Chosen(index, mirror, True)
