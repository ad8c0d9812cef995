"""What this machine already checked about a bundle file, so that publish and fetch do not read it all again.

Example::

    cache = VerifiedCache()                       # ~/.cache/mirror/verified.json, read on first use
    verified = verify_bundle(path, keyring, cache=cache)   # the second time: header, signed files, no data
    cache.save()                                  # atomically; an error writing it only loses the cache

An entry says: the file whose (device, inode, size, mtime, ctime) are these had every
member's SHA-256 equal to the one listed in a SHA256SUMS whose own SHA-256 is `sums`;
and, once known, the file's SHA-256 and its torrent's piece hashes. It never makes
anything trusted: with an entry, verify still reads the header, checks the container,
the signature against today's keyring, bundle.json and the exact member set with
their sizes, and compares the SHA256SUMS it reads with `sums`; it skips only decoding
and hashing the members' data. A changed file gets a new key: a write changes mtime
and ctime, a truncation the size, a copy or a replacement the inode, and ctime cannot
be set back by a program (only by changing the system clock, as root). An entry is
recorded only when the file's key is the same after the read as before it. All this holds
on this machine's own disk: a file on another file system than the cache's (a USB stick,
an SD card, a network share) may have been rewritten elsewhere, where ctime can be set
(Windows sets NTFS's; FAT keeps none), and the cache is not used for it.

A missing, unreadable, damaged or foreign cache file means "verify again", never
"trusted" and never an error. `mirror verify` and `mirror extract` (what a receiver
runs on a bundle received by hand) never use the cache; see docs/mirrors.md.
"""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path

from mirror.folders import cache_folder
from mirror.record import record
from mirror.safeio import atomic_write

FORMAT = "mirror-verified/2"  # 2: what verified then had its CRCs checked too (a /1 entry is verified again)
MAX_ENTRIES = 10_000  # the oldest are dropped past this
_SLACK = 1_000  # entries past MAX_ENTRIES before the oldest are dropped
MAX_FILE = 64 << 20  # a larger cache file is not read (a 1 GiB bundle's pieces take about 40 KB)
_HEX64 = re.compile(r"[0-9a-f]{64}")
_PIECES = re.compile(r"(?:[0-9a-f]{40})*")


@record
class Facts:
    """What was checked about one file."""

    sums: str | None = None  # SHA-256 of the SHA256SUMS every member matched; None: not verified
    sha256: str | None = None  # the file's SHA-256, when something read it whole
    piece_length: int = 0
    pieces: bytes = b""  # the torrent's joined SHA-1 piece hashes (bundle/torrent.py), when made


def file_key(st: os.stat_result) -> str:
    """The identity of a file's bytes as the file system tells it; any change to the file changes it."""
    return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


def coarse_times(st: os.stat_result) -> bool:
    """Whether the file's times are kept in steps of 10 ms or more (FAT and exFAT on USB sticks and SD cards,
    HFS+): there a program can set ctime back with mtime (FAT's ctime is its mtime), and rewrite a file in place
    under the same key. A file system of fine times gives a time in whole hundredths of a second about once in
    ten million."""
    return st.st_mtime_ns % 10_000_000 == 0 and st.st_ctime_ns % 10_000_000 == 0


def _facts(value: object) -> Facts | None:
    """One entry, or None when it is not exactly what this module writes."""
    if not isinstance(value, dict) or set(value) - {"sums", "sha256", "piece_length", "pieces"}:
        return None
    sums, sha256 = value.get("sums"), value.get("sha256")
    length, pieces = value.get("piece_length", 0), value.get("pieces", "")
    if any(v is not None and not (isinstance(v, str) and _HEX64.fullmatch(v)) for v in (sums, sha256)):
        return None
    if type(length) is not int or length < 0 or not isinstance(pieces, str) or not _PIECES.fullmatch(pieces) \
            or bool(length) != bool(pieces):
        return None
    return Facts(sums, sha256, length, bytes.fromhex(pieces))


def _read(path: Path) -> dict[str, Facts]:
    """The entries of the cache file; {} when it is missing, unreadable or not entirely well formed."""
    try:
        if path.stat().st_size > MAX_FILE:
            return {}
        doc = json.loads(path.read_bytes())
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        return {}
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("entries"), dict):
        return {}
    entries: dict[str, Facts] = {}
    for key, value in list(doc["entries"].items())[-MAX_ENTRIES:]:  # the newest: a file padded with more is cut
        facts = _facts(value)
        if facts is None or not isinstance(key, str):
            return {}  # damaged: nothing in it is used
        entries[key] = facts
    return entries


class VerifiedCache:
    """The cache file, loaded on first use; safe to share between the threads of one run."""

    def __init__(self, path: Path | None = None) -> None:
        """Args: path: the cache file (default: verified.json in the cache folder, folders.py)."""
        self.path = path if path is not None else cache_folder() / "verified.json"
        self._entries: dict[str, Facts] | None = None
        self._changed = False
        self._lock = threading.Lock()
        self._device: int | None = None

    def _all(self) -> dict[str, Facts]:
        if self._entries is None:
            self._entries = _read(self.path)
        return self._entries

    def _here(self, st: os.stat_result) -> bool:
        """Whether the file is on the cache's own file system, of fine times: a USB stick, an SD card or a network
        share travels, and elsewhere (Windows sets NTFS's change time; root sets ext4's) a file on it can be
        rewritten in place under the same key."""
        if self._device is None:
            folder = self.path.parent
            while not folder.exists() and folder != folder.parent:
                folder = folder.parent
            try:
                self._device = os.stat(folder).st_dev
            except OSError:
                self._device = -1
        return st.st_dev == self._device and not coarse_times(st)

    def get(self, st: os.stat_result) -> Facts | None:
        """What is known about the file with this stat, or None (always, for a file `_here` passes over)."""
        if not self._here(st):
            return None
        with self._lock:
            return self._all().get(file_key(st))

    def lookup(self, path: Path) -> Facts | None:
        """What is known about the file at `path` as it is now, or None."""
        try:
            return self.get(os.stat(path))
        except OSError:
            return None

    def record(self, before: os.stat_result, now: os.stat_result, facts: Facts) -> None:
        """Add `facts` about a file read while its stat was `before`, if it is still `now`; merged with the rest."""
        key = file_key(before)
        if key != file_key(now) or not self._here(now):
            return  # it changed while it was read, or it is on media that travel: nothing is learnt
        with self._lock:
            entries = self._all()
            old = entries.pop(key, Facts())
            entries[key] = Facts(facts.sums or old.sums, facts.sha256 or old.sha256,  # last, as the newest
                                 facts.piece_length or old.piece_length, facts.pieces or old.pieces)
            if len(entries) > MAX_ENTRIES + _SLACK:  # the oldest dropped at once (one at a time was quadratic)
                self._entries = dict(list(entries.items())[-MAX_ENTRIES:])
            self._changed = True

    def save(self) -> None:
        """Write the cache atomically if anything was added; a cache that cannot be written is simply not kept."""
        with self._lock:
            if not self._changed or self._entries is None:
                return
            doc = {"format": FORMAT, "entries": {
                key: {k: (v.hex() if isinstance(v, bytes) else v) for k, v in _fields(facts).items() if v}
                for key, facts in list(self._entries.items())[-MAX_ENTRIES:]}}
            try:
                atomic_write(self.path, json.dumps(doc, separators=(",", ":")).encode(), mode=0o600)
            except OSError:
                return
            self._changed = False


def _fields(facts: Facts) -> dict[str, str | int | bytes | None]:
    return {"sums": facts.sums, "sha256": facts.sha256, "piece_length": facts.piece_length, "pieces": facts.pieces}
