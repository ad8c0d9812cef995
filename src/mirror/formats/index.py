"""The mirror index as a value: which bundles a publisher serves, from where, until when.

Example::

    index = Index(publisher_key="01F0...", version=4, created="2022-01-05T18:30:12Z",
                  expires="2022-01-19T18:30:12Z", bundles=(entry,), mirrors=("https://a.example/m/",))
    raw = index.to_bytes()                 # what the publisher signs (trust/index.py)
    assert Index.from_bytes(raw) == index  # strict: unknown or duplicate fields are errors

Signing and checking an index live in trust/index.py; where its files go on a host,
in layout.py. The trusted comment binds publisher, version and expiry to the signature.

Format 2 ("mirror-index/2", docs/format.md) adds each bundle's BitTorrent info hash and
magnet link, or null for an entry carried over from a format-1 index. Format-1 indexes
still parse (their entries have no torrent); a newer format is refused with a hint to
upgrade, never read by guesswork.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from mirror.errors import ManifestError
from mirror.formats.jsonstrict import parse_json
from mirror.formats.layout import bundle_path
from mirror.formats.manifest import BUNDLE_ID, MAX_TEXT
from mirror.formats.timefmt import parse_time
from mirror.formats.torrent import check_infohash, magnet_infohash
from mirror.record import as_dict, record

FORMAT = "mirror-index/2"
FORMATS = ("mirror-index/1", FORMAT)
MAX_INDEX = 8 << 20
# The largest file a bundle can be: verify refuses more than 16 GiB of data (sevenzip Limits, docs/format.md
# "Bounds"), its header is at most 128 MiB, and LZMA2 adds under 0.1% to data it cannot compress. A listed size
# past it (a room's listing is unsigned) would only make fetch write that much before the hash fails.
MAX_BUNDLE_BYTES = (16 << 30) + (1 << 30)
MIN_BUNDLE_BYTES = 32  # a 7z file's signature header alone; an entry of 0 bytes would be "complete" at once
_HEX64 = re.compile(r"[0-9a-f]{64}")
_KEY_ID = re.compile(r"[0-9A-F]{16}")  # as key_id_hex writes it; a file name is made of it (fetch/fetcher.py)
MAX_VERSION = 2**31 - 1  # bundle.json's bound (formats/manifest.py)
_ENTRY_KEYS = {"id", "version", "sha256", "size", "path", "title", "author_key"}
_TORRENT_KEYS = {"infohash", "magnet"}  # format 2
_ALL_ENTRY_KEYS = _ENTRY_KEYS | _TORRENT_KEYS
_INDEX_KEYS = {"format", "publisher_key", "version", "created", "expires", "bundles", "mirrors"}
DEFAULT_EXPIRY_DAYS = 14


def _time(text: object, what: str) -> datetime:
    try:
        return parse_time(text)
    except ValueError:
        raise ManifestError(f"index field {what!r} is not a UTC time") from None


class NewerFormat(ManifestError):
    """An index in a format newer than this mirror reads (a newer mirror wrote it)."""


@record
class BundleEntry:
    """One bundle in the index."""

    id: str
    version: int
    sha256: str
    size: int
    path: str
    title: str
    author_key: str
    infohash: str | None = None  # BitTorrent v1 info hash of bundles/<sha256>.torrent; None: no torrent
    magnet: str | None = None

    @classmethod
    def for_bundle(cls, bundle_id: str, version: int, sha256: str, size: int, title: str,
                   author_key: str, infohash: str | None = None, magnet: str | None = None) -> BundleEntry:
        """An entry stored under its content address."""
        return cls(bundle_id, version, sha256, size, bundle_path(sha256), title, author_key, infohash, magnet)


def index_comment(publisher_key: str, version: int, expires: str) -> str:
    """The trusted comment of an index signature."""
    return f"index:{publisher_key}\tversion:{version}\texpires:{expires}\trole:publisher"


@record
class Index:
    """A parsed index."""

    publisher_key: str
    version: int
    created: str
    expires: str
    bundles: tuple[BundleEntry, ...]
    mirrors: tuple[str, ...]

    def to_bytes(self) -> bytes:
        """Deterministic JSON: these bytes are signed."""
        doc = {"format": FORMAT, "publisher_key": self.publisher_key, "version": self.version,
               "created": self.created, "expires": self.expires,
               "bundles": [as_dict(b) for b in sorted(self.bundles, key=lambda b: (b.id, b.version))],
               "mirrors": list(self.mirrors)}
        return (json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode()

    @property
    def expires_at(self) -> datetime:
        """The expiry as a time."""
        return _time(self.expires, "expires")

    @property
    def created_at(self) -> datetime:
        """The creation time."""
        return _time(self.created, "created")

    @classmethod
    def from_bytes(cls, raw: bytes) -> Index:
        """Parse signed index bytes strictly.

        Raises:
            ManifestError: malformed, unknown or duplicate fields.
        """
        doc = parse_json(raw, "index", MAX_INDEX)
        if isinstance(doc, dict) and isinstance(doc.get("format"), str) and doc["format"] not in FORMATS \
                and doc["format"].startswith("mirror-index/"):
            raise NewerFormat(f"index format {doc['format']} is newer than this mirror reads",
                              hint="upgrade mirror to read this publisher's index")
        if not isinstance(doc, dict) or set(doc) != _INDEX_KEYS or doc["format"] not in FORMATS:
            raise ManifestError("index has missing or unknown fields, or an unknown format")
        if type(doc["version"]) is not int or doc["version"] < 1:
            raise ManifestError("index version is malformed")
        _time(doc["created"], "created")
        _time(doc["expires"], "expires")
        mirrors = doc["mirrors"]
        if not isinstance(mirrors, list) or not all(isinstance(m, str) and m.startswith(("http://", "https://"))
                                                    and _text(m) for m in mirrors):  # helper-146: "http://\ud800"
            raise ManifestError("index mirror list is malformed")
        if not isinstance(doc["bundles"], list) or not isinstance(doc["publisher_key"], str):
            raise ManifestError("index bundle list is malformed")
        keys = _ENTRY_KEYS if doc["format"] == FORMATS[0] else _ENTRY_KEYS | _TORRENT_KEYS
        return cls(doc["publisher_key"], doc["version"], doc["created"], doc["expires"],
                   tuple(parse_entry(item, keys) for item in doc["bundles"]), tuple(mirrors))


def parse_entry(item: Any, keys: set[str] = _ALL_ENTRY_KEYS) -> BundleEntry:
    """One bundle entry of an index or a peer listing, from parsed JSON; `keys` are the fields it must have.

    Raises:
        ManifestError: missing, unknown or malformed fields, or a path that is not the bundle's content address.
    """
    if not isinstance(item, dict) or set(item) != keys:
        raise ManifestError("index bundle entry has missing or unknown fields")
    if not all(_text(value) for value in item.values() if isinstance(value, str)):
        raise ManifestError("index bundle entry holds a lone surrogate, which is no Unicode text")
    _torrent_fields(item.get("infohash"), item.get("magnet"))
    ok = (isinstance(item["id"], str) and BUNDLE_ID.fullmatch(item["id"]) is not None
          and isinstance(item["sha256"], str) and _HEX64.fullmatch(item["sha256"]) is not None
          and type(item["size"]) is int and item["size"] >= 0
          and type(item["version"]) is int and 1 <= item["version"] <= MAX_VERSION
          and isinstance(item["author_key"], str) and _KEY_ID.fullmatch(item["author_key"]) is not None
          and all(isinstance(item[k], str) for k in ("id", "title"))
          and len(item["title"]) <= MAX_TEXT)  # as bundle.json's: a peer's listing titled 200 KB was printed whole
    if not ok or item["path"] != bundle_path(str(item["sha256"])):
        raise ManifestError("index bundle entry is malformed")
    if item["size"] < MIN_BUNDLE_BYTES:
        raise ManifestError(f"index bundle entry declares {item['size']:,} bytes, fewer than any bundle has "
                            f"({MIN_BUNDLE_BYTES})")
    if item["size"] > MAX_BUNDLE_BYTES:
        raise ManifestError(f"index bundle entry declares {item['size']:,} bytes, more than a bundle may have "
                            f"({MAX_BUNDLE_BYTES:,})")
    return BundleEntry(**item)


def _text(value: str) -> bool:
    """Whether `value` is Unicode text: JSON's \\u escapes can give a lone surrogate, which no JSON writer may
    write again (`fetch --json` printed one, and the whole report was unreadable to jq)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _torrent_fields(infohash: object, magnet: object) -> None:
    """Both null, or an info hash and a magnet link that names it."""
    if infohash is None and magnet is None:
        return
    try:
        agree = isinstance(magnet, str) and magnet_infohash(magnet) == check_infohash(infohash)
    except ManifestError as exc:
        raise ManifestError(f"index bundle entry: {exc}") from None
    if not agree:
        raise ManifestError("index bundle entry's magnet link does not name its info hash")
