"""The signed mirror index: which bundles a publisher serves, from where, until when.

Example::

    index = Index(publisher_key="01F0...", version=4, created=now, expires=now + 14 days,
                  bundles=(entry,), mirrors=("https://a.example/m/",))
    raw, sig = index.to_bytes(), sign_index(index, secret)
    parsed = check_index(raw, sig, publisher_public)   # SignatureError / ManifestError

On a host: index.json(.minisig), index/<version>.json(.minisig) (immutable), and
per bundle bundles/<sha256>.7z with bundles/<sha256>.SHA256SUMS(.minisig).
The trusted comment binds publisher, version and expiry to the signature.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from mirror.errors import ManifestError, SignatureError
from mirror.formats.manifest import BUNDLE_ID, parse_json
from mirror.formats.minisign import PublicKeyFile, Signature, key_id_hex
from mirror.trust.keys import SecretKey, check_signature

FORMAT = "mirror-index/1"
MAX_INDEX = 8 << 20
INDEX_NAME = "index.json"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_ENTRY_KEYS = {"id", "version", "sha256", "size", "path", "title", "author_key"}
_INDEX_KEYS = {"format", "publisher_key", "version", "created", "expires", "bundles", "mirrors"}
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def format_time(moment: datetime) -> str:
    """UTC, to the second, with a Z."""
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


def parse_time(text: str, what: str) -> datetime:
    """Parse a time written by format_time.

    Raises:
        ManifestError: any other shape.
    """
    try:
        return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC)
    except (ValueError, TypeError):
        raise ManifestError(f"index field {what!r} is not a UTC time") from None


@dataclass(frozen=True, slots=True)
class BundleEntry:
    """One bundle in the index."""

    id: str
    version: int
    sha256: str
    size: int
    path: str
    title: str
    author_key: str

    @classmethod
    def for_bundle(cls, bundle_id: str, version: int, sha256: str, size: int, title: str,
                   author_key: str) -> BundleEntry:
        """An entry stored under its content address."""
        return cls(bundle_id, version, sha256, size, bundle_path(sha256), title, author_key)


def bundle_path(sha256: str) -> str:
    """Where a bundle lives on a host: named by its hash, so it never changes."""
    return f"bundles/{sha256}.7z"


def version_path(version: int) -> str:
    """The immutable copy of one index version."""
    return f"index/{version}.json"


def index_comment(publisher_key: str, version: int, expires: str) -> str:
    """The trusted comment of an index signature."""
    return f"index:{publisher_key}\tversion:{version}\texpires:{expires}\trole:publisher"


@dataclass(frozen=True, slots=True)
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
               "bundles": [asdict(b) for b in sorted(self.bundles, key=lambda b: (b.id, b.version))],
               "mirrors": list(self.mirrors)}
        return (json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode()

    @property
    def expires_at(self) -> datetime:
        """The expiry as a time."""
        return parse_time(self.expires, "expires")

    @property
    def created_at(self) -> datetime:
        """The creation time."""
        return parse_time(self.created, "created")

    @classmethod
    def from_bytes(cls, raw: bytes) -> Index:
        """Parse signed index bytes strictly.

        Raises:
            ManifestError: malformed, unknown or duplicate fields.
        """
        doc = parse_json(raw, "index", MAX_INDEX)
        if not isinstance(doc, dict) or set(doc) != _INDEX_KEYS or doc["format"] != FORMAT:
            raise ManifestError("index has missing or unknown fields, or an unknown format")
        if type(doc["version"]) is not int or doc["version"] < 1:
            raise ManifestError("index version is malformed")
        parse_time(doc["created"], "created")
        parse_time(doc["expires"], "expires")
        mirrors = doc["mirrors"]
        if not isinstance(mirrors, list) or not all(isinstance(m, str) and m.startswith(("http://", "https://"))
                                                    for m in mirrors):
            raise ManifestError("index mirror list is malformed")
        if not isinstance(doc["bundles"], list) or not isinstance(doc["publisher_key"], str):
            raise ManifestError("index bundle list is malformed")
        return cls(doc["publisher_key"], doc["version"], doc["created"], doc["expires"],
                   tuple(_entry(item) for item in doc["bundles"]), tuple(mirrors))


def _entry(item: Any) -> BundleEntry:
    if not isinstance(item, dict) or set(item) != _ENTRY_KEYS:
        raise ManifestError("index bundle entry has missing or unknown fields")
    ok = (isinstance(item["id"], str) and BUNDLE_ID.fullmatch(item["id"]) is not None
          and isinstance(item["sha256"], str) and _HEX64.fullmatch(item["sha256"]) is not None
          and type(item["size"]) is int and item["size"] >= 0 and type(item["version"]) is int
          and all(isinstance(item[k], str) for k in ("id", "title", "author_key")))
    if not ok or item["path"] != bundle_path(str(item["sha256"])):
        raise ManifestError("index bundle entry is malformed")
    return BundleEntry(**item)


def sign_index(index: Index, secret: SecretKey) -> bytes:
    """The .minisig of the index, bound to publisher, version and expiry."""
    comment = index_comment(index.publisher_key, index.version, index.expires)
    return secret.sign(index.to_bytes(), comment).to_bytes()


def check_index(raw: bytes, signature: bytes, publisher: PublicKeyFile) -> Index:
    """Verify an index pair from a host and parse it.

    Raises:
        SignatureError: bad signature, or another publisher's.
        ManifestError: signed but malformed, or the comment disagrees with the content.
    """
    sig = Signature.from_bytes(signature)
    check_signature(publisher, sig, raw)
    index = Index.from_bytes(raw)
    if index.publisher_key != key_id_hex(publisher.key_id):
        raise ManifestError("index names another publisher key than its signer")
    if sig.trusted_comment != index_comment(index.publisher_key, index.version, index.expires):
        raise SignatureError("index signature's trusted comment does not match the index")
    return index
