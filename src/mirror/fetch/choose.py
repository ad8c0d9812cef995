"""Choose an index from mirrors: read each answer, check its signature, apply the rollback rules.

Example::

    chosen = choose_index(mirrors, keys, now, strict=False, reports=reports, log=print, limits=Limits(stall=60))
    chosen.index.bundles        # what this publisher serves now

Each mirror's answer is checked on its own (never trust carried from one mirror to the
next: apt CVE-2018-0501). The decisions are in trust/rollback.py, as pure functions;
this module does the reading (trust/index.py reads a consistent signed pair) and
keeps the reader's state (state.py). Each mirror has `limits.budget` seconds for all the
requests its index takes (net/pace.py); then the next mirror is tried.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from mirror.errors import ExitCode, ManifestError, MirrorError, SignatureError, TransferError
from mirror.fetch.report import Fate, MirrorReport
from mirror.fetch.state import load_seen, save_seen
from mirror.fetch.transport import Mirror
from mirror.formats.index import Index
from mirror.formats.minisign import Signature
from mirror.net.pace import Limits, budget
from mirror.record import replace
from mirror.trust.index import UnknownPublisher, check_index, read_signed_index
from mirror.trust.keyset import TrustedKeys
from mirror.trust.rollback import Choice, IndexChooser, Outcome, Seen

Log = Callable[[str], None]


class NoIndex(MirrorError):
    """No mirror served an acceptable index; exit 3 if every answer was tampered, else 4."""

    def __init__(self, reports: dict[str, MirrorReport]) -> None:
        super().__init__("no mirror served a valid index", hint="try other mirrors, or a proxy (--proxy)")
        answered = {r.index.fate for r in reports.values() if r.index is not None and r.index.fate.delivered}
        self.exit_code = ExitCode.INVALID if answered == {Fate.TAMPERED} else ExitCode.INCOMPLETE
        self.reports = reports


class _Checker:
    """Checks an index pair with the publishers of the keyring; keeps each pair that checked out, by its sha256."""

    def __init__(self, keys: TrustedKeys) -> None:
        self.keys = keys
        self.pairs: dict[str, tuple[bytes, bytes]] = {}

    def __call__(self, raw: bytes, sig: bytes) -> Index:
        key_id = Signature.from_bytes(sig).key_id
        record = self.keys.find(key_id, "publisher")
        if record is None:
            raise UnknownPublisher(key_id)
        index = check_index(raw, sig, record.public)
        self.pairs[hashlib.sha256(raw).hexdigest()] = (raw, sig)
        return index


_FATES = {Outcome.FRESH: Fate.OK, Outcome.EXPIRED: Fate.STALE, Outcome.STALE: Fate.STALE,
          Outcome.ATTACK: Fate.TAMPERED}


def _read_index(mirror: Mirror, check: Callable[[bytes, bytes], Index], report: MirrorReport, limits: Limits,
                log: Log) -> tuple[Index, bytes] | None:
    """The mirror's signed index within its budget; None (and the report says why) if there is none."""
    log(f"trying {mirror.label} ...")
    started = time.monotonic()
    try:
        with budget(limits.budget, log):
            return read_signed_index(mirror, check)
    except TransferError as exc:
        fate, detail = Fate.of(exc.failure), exc.reason
    except UnknownPublisher as exc:
        fate, detail = Fate.UNTRUSTED, str(exc)
    except (SignatureError, ManifestError) as exc:
        fate, detail = Fate.TAMPERED, f"index does not verify: {exc}"
    report.set_index(fate, detail, time.monotonic() - started)
    log(_index_failed(mirror.label, fate, detail))
    return None


def _index_failed(label: str, fate: Fate, detail: str) -> str:
    """The log line for a mirror whose index did not come, one whole message for each fate (so that the word is
    translated with the rest: "unreachable" stayed English in a Russian line); two words at least, so the catalogs
    carry each."""
    if fate is Fate.UNREACHABLE:
        return f"{label}: cannot be reached: {detail}"
    if fate is Fate.TIMEOUT:
        return f"{label}: too slow: {detail}"
    if fate is Fate.MISSING:
        return f"{label}: no index there: {detail}"
    if fate is Fate.BAD_ANSWER:
        return f"{label}: the answer was not from a mirror: {detail}"
    if fate is Fate.UNTRUSTED:
        return f"{label}: an index you do not trust: {detail}"
    if fate is Fate.TAMPERED:
        return f"{label}: a tampered index: {detail}"
    return f"{label}: it refused: {detail}"


def choose_index(mirrors: Sequence[Mirror], keys: TrustedKeys, now: datetime, strict: bool,
                 reports: dict[str, MirrorReport], log: Log, limits: Limits | None = None) -> Choice:
    """The first fresh index in mirror order; else the newest expired one (not with --strict).

    Raises:
        NoIndex: no mirror served an acceptable index.
        ConfigError: the reader's state file is damaged.
    """
    limits = limits or Limits()
    publishers = [r.key_id_hex for r in keys if "publisher" in r.roles]
    seen: dict[str, Seen] = {k: s for k in publishers if (s := load_seen(k)) is not None}
    chooser = IndexChooser(seen, now, strict)
    check = _Checker(keys)
    for mirror in mirrors:
        report = reports.setdefault(mirror.label, MirrorReport(mirror.label))
        started = time.monotonic()
        answer = _read_index(mirror, check, report, limits, log)
        if answer is None:
            continue
        index, raw = answer
        judgement = chooser.offer(mirror.label, index, hashlib.sha256(raw).hexdigest())
        for warning in judgement.warnings:
            log(f"warning: {mirror.label}: {warning}")
        report.set_index(_FATES[judgement.outcome], judgement.detail, time.monotonic() - started, len(raw))
        if chooser.done:
            break
    chosen = chooser.choice()
    if chosen is None:
        raise NoIndex(reports)
    chosen_event = reports[chosen.label].index
    if chosen_event is not None:
        chosen_event.detail += " (chosen)"
    raw, sig = check.pairs[chosen.sha256]
    chosen = replace(chosen, raw=raw, signature=sig)  # the exact files, for a mirror copy
    if chosen.expired:
        log(f"warning: every index found has expired; using version {chosen.index.version} from {chosen.label}")
    change = chooser.new_state()
    if change is not None:
        save_seen(*change)
    return chosen
