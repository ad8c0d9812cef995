"""SHA256SUMS and bundle.json as values; exact bytes in and out, no I/O.

Example::

    sums = Sums({"bundle.json": "ab12...", "accounts/a.md": "cd34..."})
    raw = sums.to_bytes()                   # what the author signs
    assert Sums.from_bytes(raw) == sums     # strict: sorted, LF, NFC, lower-case hex

    meta = BundleMeta.from_bytes(raw_json)  # only after its hash matched SHA256SUMS

The format is docs/format.md. We write both ends, so unknown fields are errors
and a new field means a new format version.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from mirror.errors import ManifestError
from mirror.formats.jsonstrict import parse_json
from mirror.formats.media import MEDIA_TYPES
from mirror.formats.names import name_problem, printable

FORMAT = "mirror-bundle/1"
SUMS_NAME = "SHA256SUMS"
SIG_NAME = "SHA256SUMS.minisig"
META_NAME = "bundle.json"
AUTHOR_KEY_NAME = "author.pub"
ENDORSEMENT_DIR = "endorsements/"
MAX_SUMS_BYTES = 16 * 1024 * 1024
MAX_META_BYTES = 64 * 1024 * 1024
_LINE = re.compile(r"([0-9a-f]{64})  (.+)")
BUNDLE_ID = re.compile(r"[a-z0-9][a-z0-9-]{7,63}")
_META_KEYS = {"format", "id", "version", "title", "created", "languages", "author_key", "supersedes", "files"}
_FILE_KEYS = {"size", "type", "language", "title", "date", "place", "source", "privacy"}


def trusted_comment(bundle_id: str, version: int) -> str:
    """The line the author's signature binds to SHA256SUMS."""
    return f"bundle:{bundle_id}\tversion:{version}\trole:author"


@dataclass(frozen=True, slots=True)
class Sums:
    """The signed root: path -> sha256 hex of every listed file."""

    entries: dict[str, str]

    def to_bytes(self) -> bytes:
        """GNU sha256sum lines, sorted by path, LF endings, UTF-8."""
        return "".join(f"{digest}  {path}\n" for path, digest in sorted(self.entries.items())).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Sums:
        """Parse SHA256SUMS strictly (call only after its signature checked out).

        Raises:
            ManifestError: any deviation from the format.
        """
        if len(raw) > MAX_SUMS_BYTES:
            raise ManifestError("SHA256SUMS is too large")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ManifestError("SHA256SUMS is not UTF-8") from None
        if not text.endswith("\n") or "\r" in text:
            raise ManifestError("SHA256SUMS must be LF-terminated lines")
        entries: dict[str, str] = {}
        previous = ""
        for number, line in enumerate(text[:-1].split("\n"), start=1):
            match = _LINE.fullmatch(line)
            if match is None:
                raise ManifestError(f"SHA256SUMS line {number} is malformed")
            digest, path = match.groups()
            problem = name_problem(path)
            if problem is not None:
                raise ManifestError(f"SHA256SUMS line {number}: {printable(path)!r}: {problem}")
            if path in entries:
                raise ManifestError(f"SHA256SUMS lists {path} twice")
            if path <= previous:
                raise ManifestError(f"SHA256SUMS is not sorted at line {number}")
            if path in (SUMS_NAME, SIG_NAME) or path.startswith(ENDORSEMENT_DIR):
                raise ManifestError(f"SHA256SUMS must not list {path}")
            entries[path] = digest
            previous = path
        for required in (META_NAME, AUTHOR_KEY_NAME):
            if required not in entries:
                raise ManifestError(f"SHA256SUMS does not list {required}")
        return cls(entries)


@dataclass(frozen=True, slots=True)
class FileMeta:
    """What bundle.json says about one file."""

    size: int
    type: str
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The JSON object for this file."""
        return {"size": self.size, "type": self.type, **self.extra}


@dataclass(frozen=True, slots=True)
class BundleMeta:
    """bundle.json: what the bundle is and what was done to its files."""

    bundle_id: str
    version: int
    title: str
    created: str
    languages: tuple[str, ...]
    author_key: str
    files: dict[str, FileMeta]
    supersedes: str | None = None

    def to_bytes(self) -> bytes:
        """Deterministic, readable JSON; these bytes are hashed into SHA256SUMS."""
        doc = {
            "format": FORMAT,
            "id": self.bundle_id,
            "version": self.version,
            "title": self.title,
            "created": self.created,
            "languages": list(self.languages),
            "author_key": self.author_key,
            "supersedes": self.supersedes,
            "files": {path: meta.to_json() for path, meta in sorted(self.files.items())},
        }
        return (json.dumps(doc, indent=1, ensure_ascii=False, sort_keys=False) + "\n").encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> BundleMeta:
        """Parse bundle.json strictly (call only after its hash matched).

        Raises:
            ManifestError: malformed, duplicate or unknown keys, wrong types.
        """
        doc = parse_json(raw, "bundle.json", MAX_META_BYTES)
        if not isinstance(doc, dict) or set(doc) != _META_KEYS:
            raise ManifestError("bundle.json has missing or unknown fields")
        if doc["format"] != FORMAT:
            raise ManifestError(f"bundle format {doc['format']!r} is not supported", hint="update mirror")
        _expect(isinstance(doc["id"], str) and BUNDLE_ID.fullmatch(doc["id"]) is not None, "id")
        _expect(type(doc["version"]) is int and 1 <= doc["version"] < 2**31, "version")
        for key in ("title", "created", "author_key"):
            _expect(isinstance(doc[key], str), key)
        _expect(doc["supersedes"] is None or isinstance(doc["supersedes"], str), "supersedes")
        langs = doc["languages"]
        _expect(isinstance(langs, list) and all(isinstance(x, str) for x in langs), "languages")
        _expect(isinstance(doc["files"], dict), "files")
        files = {path: _file_meta(path, item) for path, item in doc["files"].items()}
        return cls(doc["id"], doc["version"], doc["title"], doc["created"], tuple(langs),
                   doc["author_key"], files, doc["supersedes"])


def _expect(ok: bool, key: str) -> None:
    if not ok:
        raise ManifestError(f"bundle.json field {key!r} is malformed")


def _file_meta(path: str, item: Any) -> FileMeta:
    _expect(isinstance(item, dict) and set(item) <= _FILE_KEYS, f"files/{printable(path)}")
    _expect(type(item.get("size")) is int and item["size"] >= 0, f"files/{printable(path)}/size")
    _expect(item.get("type") in MEDIA_TYPES, f"files/{printable(path)}/type")
    size, media_type = item.pop("size"), item.pop("type")
    return FileMeta(size, media_type, item)  # the parsed dict itself: one copy per file is enough
