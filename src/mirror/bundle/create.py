"""create_bundle(): collect accounts and photos, clean, hash, sign, write, self-check.

Example::

    result = create_bundle(CreateRequest(src=Path("seeds"), out=Path("bundles/x.7z"),
                                         title="Almaty, January 2022"), secret)
    print(result.bundle_id, result.files)

The bundle is built in a temporary file beside the output and renamed into
place only after it verified; the sources are only read.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mirror.bundle.accounts import read_account
from mirror.bundle.sources import SourceFile, collect_sources
from mirror.bundle.verify import verify_bundle
from mirror.errors import InputError
from mirror.formats.manifest import (
    AUTHOR_KEY_NAME,
    META_NAME,
    SIG_NAME,
    SUMS_NAME,
    BundleMeta,
    FileMeta,
    Sums,
    trusted_comment,
)
from mirror.formats.minisign import key_id_hex
from mirror.formats.timefmt import now_text
from mirror.privacy.clean import clean_photo
from mirror.safeio import atomic_output
from mirror.sevenzip.writer import BundleWriter
from mirror.trust.keys import SecretKey

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class CreateRequest:
    """What the author asked for."""

    src: Path
    out: Path
    title: str = ""
    force: bool = False
    keep_metadata: bool = False
    commit_originals: bool = False
    bundle_id: str | None = None
    version: int = 1
    created: str | None = None  # fixed only to rebuild a golden test bundle byte for byte


@dataclass(frozen=True, slots=True)
class CreateResult:
    """What was written."""

    out: Path
    bundle_id: str
    version: int
    files: int
    accounts: int
    photos: int
    size: int
    salts: dict[str, str] = field(default_factory=dict)


def _photo_bytes(item: SourceFile, keep_metadata: bool) -> bytes:
    return clean_photo(item.path.read_bytes(), item.member, keep_metadata).data


def _prepare(items: list[SourceFile], request: CreateRequest) -> tuple[dict[str, str], dict[str, FileMeta],
                                                                         list[str], dict[str, str]]:
    """First pass: hash what will be stored, and describe it."""
    digests: dict[str, str] = {}
    files: dict[str, FileMeta] = {}
    languages: list[str] = []
    salts: dict[str, str] = {}
    for item in items:
        raw = item.path.read_bytes()
        extra: dict[str, Any] = {}
        if item.kind == "account":
            account = read_account(raw, item.member)
            extra = {"language": account.language, **account.fields}
            if account.language not in languages:
                languages.append(account.language)
            data = raw
        else:
            cleaned = clean_photo(raw, item.member, request.keep_metadata)
            data = cleaned.data
            extra = {"privacy": cleaned.record}
            if request.commit_originals and not request.keep_metadata:
                salt = uuid.uuid4().hex + uuid.uuid4().hex
                extra["privacy"] = {**cleaned.record, "original_sha256_salted":
                                    hashlib.sha256(bytes.fromhex(salt) + raw).hexdigest()}
                salts[item.member] = salt
        digests[item.member] = hashlib.sha256(data).hexdigest()
        files[item.member] = FileMeta(len(data), item.media_type, extra)
    return digests, files, sorted(languages), salts


def create_bundle(request: CreateRequest, secret: SecretKey, progress: Progress | None = None) -> CreateResult:
    """Build, sign and write a version-1 bundle (docs/format.md), then verify it before renaming.

    Raises:
        InputError: sources the tool refuses (listed), or a source changed while reading.
        PhotoError: a photo that cannot be cleaned.
        ConfigError: the output exists and `force` is not set.
    """
    items = collect_sources(request.src, request.keep_metadata)
    total, accounts = len(items), sum(1 for i in items if i.kind == "account")
    with atomic_output(request.out, force=request.force) as tmp:
        bundle_id, salts = _build(tmp, items, request, secret, progress)
        del items  # everything the build held is free before the self-check runs
        verify_bundle(tmp, None, expect_key=secret.public)  # the same checks a receiver runs
        size = tmp.stat().st_size
    return CreateResult(request.out, bundle_id, request.version, total, accounts, total - accounts, size, salts)


def _build(tmp: Path, items: list[SourceFile], request: CreateRequest, secret: SecretKey,
           progress: Progress | None) -> tuple[str, dict[str, str]]:
    """Hash, describe, sign and write everything into `tmp`; return the bundle id and the salts."""
    digests, files, languages, salts = _prepare(items, request)
    public = secret.public
    bundle_id = request.bundle_id or uuid.uuid4().hex
    meta = BundleMeta(
        bundle_id=bundle_id,
        version=request.version,
        title=request.title or request.src.resolve().name,
        created=request.created or now_text(),
        languages=tuple(languages),
        author_key=key_id_hex(public.key_id),
        files=files,
    )
    meta_bytes, key_bytes = meta.to_bytes(), public.to_text().encode()
    digests[META_NAME] = hashlib.sha256(meta_bytes).hexdigest()
    digests[AUTHOR_KEY_NAME] = hashlib.sha256(key_bytes).hexdigest()
    sums = Sums(digests).to_bytes()
    signature = secret.sign(sums, trusted_comment(bundle_id, request.version)).to_bytes()

    def load(item: SourceFile) -> Callable[[], bytes]:
        def read() -> bytes:
            data = item.path.read_bytes() if item.kind == "account" else _photo_bytes(item, request.keep_metadata)
            if hashlib.sha256(data).hexdigest() != digests[item.member]:
                raise InputError(f"{item.path} changed while the bundle was being made", hint="run create again")
            return data
        return read

    def constant(data: bytes) -> Callable[[], bytes]:
        return lambda: data

    with BundleWriter(tmp) as writer:
        writer.add_block([(SUMS_NAME, constant(sums)), (SIG_NAME, constant(signature)),
                          (AUTHOR_KEY_NAME, constant(key_bytes)), (META_NAME, constant(meta_bytes))],
                         compress=True)
        writer.add_block([(i.member, load(i)) for i in items if i.kind == "account"], True, progress)
        writer.add_block([(i.member, load(i)) for i in items if i.kind == "photo"], False, progress)
    return bundle_id, salts
