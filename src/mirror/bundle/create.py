"""create_bundle(): check, clean, hash, sign, write, self-check.

Example::

    prepared = prepare_bundle(CreateRequest(src=Path("seeds"), out=Path("bundles/x.7z"),
                                            title="Almaty, January 2022"))   # bundle/prepare.py
    prepared.check()                         # every refusal and finding, before any passphrase
    result = write_bundle(prepared, secret)  # sign and write what was checked
    result = create_bundle(request, secret)  # both in one call, for scripts and tests

The bundle is built in a temporary file beside the output and renamed into
place only after it verified; the sources are only read.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import BinaryIO, TypeVar

from mirror.bundle.caps import check_meta
from mirror.bundle.checked import SortedOverlay
from mirror.bundle.control import Spool
from mirror.bundle.inorder import in_order
from mirror.bundle.page import (
    MAX_FIGURES,
    MAX_LISTED,
    MAX_RENDERED,
    PageAccount,
    PageInfo,
    page_pieces,
    strip_front_matter,
)
from mirror.bundle.prepare import CreateRequest, Prepared, file_key, prepare_bundle, stored_bytes
from mirror.bundle.sourcelist import SourceFile
from mirror.bundle.verify import Keys, verify_bundle
from mirror.errors import ConfigError, InputError
from mirror.formats import manifest
from mirror.formats.index import MAX_VERSION
from mirror.formats.manifest import (
    CURRENT,
    PAGE_NAME,
    PAGE_TYPE,
    SUMS_NAME,
    BundleMeta,
    FileMeta,
    Sums,
    trusted_comment,
)
from mirror.formats.minisign import PublicKeyFile, key_id_hex
from mirror.formats.timefmt import now_text
from mirror.heap import trim
from mirror.privacy.exif import follow_pieces
from mirror.record import field, record
from mirror.safeio import atomic_output, read_regular
from mirror.sevenzip.writer import ArchiveWriter, SolidBlock, Summed, cores
from mirror.trust.fingerprint import fingerprint
from mirror.trust.keys import SecretKey

T = TypeVar("T")

Progress = Callable[[int], None]
__all__ = ["CreateRequest", "CreateResult", "create_bundle", "next_version", "prepare_bundle", "write_bundle"]


@record
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


def next_version(old: Path, keys: Keys, public: PublicKeyFile) -> tuple[str, int, str]:
    """The id, the next version and the `supersedes` value for a new version of the bundle `old`.

    `old` is verified as a receiver would verify it, and must be signed by `public`. supersedes is
    "sha256:" and the hash of its SHA256SUMS, the signed root of that version (docs/format.md).

    Raises:
        VerificationError: `old` must not be trusted.
        ConfigError: `old` was signed by another key.
    """
    earlier = verify_bundle(old, keys, parts=True)  # a part is said to be one, not "files failed" (exit 3)
    if earlier.part is not None:
        raise ConfigError(f"{old} is part {earlier.part.number} of {earlier.part.count}, not a whole bundle",
                          hint="join all its parts first (mirror join PART... -o WHOLE.7z), then --update WHOLE.7z")
    if earlier.public != public:
        raise ConfigError(f"{old} was signed by key {earlier.key_id}, not by the key signing this version",
                          hint="sign the new version with the key that signed the earlier one (--key NAME)")
    if earlier.meta.version >= MAX_VERSION:
        raise ConfigError(f"{old} is version {earlier.meta.version:,}, the last a bundle may have",
                          hint="make a new bundle (without --update): it gets an id of its own")
    root = hashlib.sha256(earlier.control[SUMS_NAME]).hexdigest()
    return earlier.meta.bundle_id, earlier.meta.version + 1, f"sha256:{root}"


def create_bundle(request: CreateRequest, secret: SecretKey, progress: Progress | None = None) -> CreateResult:
    """Check and build a bundle in the current format (docs/format.md) in one call.

    Raises:
        InputError: sources the tool refuses (listed in the error's count), or a source changed while reading.
        IdentifiersFound: personal identifiers in what would be signed, not allowed by the request.
        ConfigError: the output exists and `force` is not set.
    """
    prepared = prepare_bundle(request)
    prepared.check()
    return write_bundle(prepared, secret, progress)


def write_bundle(prepared: Prepared, secret: SecretKey, progress: Progress | None = None) -> CreateResult:
    """Sign and write what `prepare_bundle` checked, then verify it before renaming it into place. `prepared`
    is spent once the bundle is written (Prepared.release).

    Raises:
        InputError: a source changed since it was checked.
        ConfigError: the output exists and `force` is not set.
    """
    request = prepared.request
    total, accounts = len(prepared.items), prepared.items.count_of("account")
    with atomic_output(request.out, force=request.force) as tmp:
        bundle_id = _build(tmp, prepared, secret, progress)
        prepared.release()  # spent: a million files' columns are not kept through the self-check
        trim()  # heap.py: what the writing freed goes back before the check starts
        verify_bundle(tmp, None, expect_key=secret.public)  # the same checks a receiver runs
        size = tmp.stat().st_size
    return CreateResult(request.out, bundle_id, request.version, total, accounts, total - accounts, size,
                        prepared.salts)


def _page(prepared: Prepared, title: str, created: str, public: PublicKeyFile) -> Iterator[bytes]:
    """The reader's page (bundle/page.py) in pieces: the first MAX_RENDERED accounts' texts, the next MAX_LISTED
    accounts' fields, MAX_FIGURES photos, and how many more there are. Each account is read as it is rendered."""
    load = _loader(prepared)  # the bytes the checking pass hashed, or InputError
    items = prepared.items
    accounts, photos = items.count_of("account"), items.count_of("photo")
    shown = MAX_RENDERED + MAX_LISTED

    def page_accounts() -> Iterator[PageAccount]:
        for number, item in enumerate(islice(items.of_kind("account"), shown)):
            extra = prepared.files[item.member].extra
            text = ""
            if number < MAX_RENDERED:
                text = strip_front_matter(load(item).decode("utf-8"))
            yield PageAccount(item.member, str(extra.get("language", "")), extra, text)

    info = PageInfo(title, created, prepared.languages, key_id_hex(public.key_id), fingerprint(public))
    figures = [item.member for item in islice(items.of_kind("photo"), MAX_FIGURES)]
    return page_pieces(info, page_accounts(), figures, max(0, accounts - shown), max(0, photos - MAX_FIGURES))


def _ahead(load: Callable[[SourceFile], T], items: Iterable[SourceFile], depth: int = 2) -> Iterator[T]:
    """load(item) for each item, in order, computed up to `depth` items ahead on another thread.

    Reading, hashing (and writing, by the caller) release the GIL: the next photo is read, cleaned and
    hashed while this one is written. At most depth + 1 photos are held.
    """
    return (result for _, result in in_order(load, items, cost=lambda _: 1, workers=1, budget=depth + 1))


def _photo_loader(prepared: Prepared) -> Callable[[SourceFile], Summed]:
    """Reads a photo again for the writing pass, as the pieces of the bytes the checking pass hashed: the ranges
    cleaning kept, cut from the file as it was then (no second parse, no copy), or InputError. Their CRC32 is
    summed here, on the read-ahead thread, while the writer writes the photo before."""
    load, recipes = _loader(prepared), prepared.recipes

    def photo(item: SourceFile) -> Summed:
        known = recipes.get(item.member)
        if known is not None and file_key(item.path) == known[0]:
            raw = read_regular(item.path)
            if file_key(item.path) == known[0]:  # the very file cleaned before: its kept ranges, as they were
                return Summed.of(follow_pieces(known[1], raw))
        return Summed.of([load(item)])

    return photo


def _loader(prepared: Prepared) -> Callable[[SourceFile], bytes]:
    """Reads a file again for the writing pass: the bytes the checking pass hashed (made again from the file and
    compared), or InputError. Photos cleaned by a known recipe go through `_photo_loader` instead."""
    request, digests = prepared.request, prepared.digests

    def load(item: SourceFile) -> bytes:
        raw = read_regular(item.path)
        if item.kind == "account" and hashlib.sha256(raw).hexdigest() == digests[item.member]:
            return raw  # stored as it is (UTF-8 already): no need to decode it again
        data = stored_bytes(item, raw, request)[0]
        if hashlib.sha256(data).hexdigest() != digests[item.member]:
            raise InputError(f"{item.path} changed while the bundle was being made", hint="run create again")
        return data

    return load


def _build(tmp: Path, prepared: Prepared, secret: SecretKey, progress: Progress | None) -> str:
    """Sign and write everything into `tmp` in the current layout (docs/format.md); return the bundle id.

    The page, bundle.json and SHA256SUMS are made first (from the digests of the checking pass), into anonymous
    files beside `tmp` as they are made, so that none of them is held whole; the page is compressed as it is
    rendered. Then the signed files are compressed into `tmp` (on every core, read back piece by piece), the
    page's block and the accounts' blocks are copied in (the checking pass compressed the accounts), then the
    photos, each read again and compared with what was checked.
    """
    layout, items = CURRENT, prepared.items
    with tempfile.TemporaryFile(dir=tmp.parent) as texts, tempfile.TemporaryFile(dir=tmp.parent) as page:
        made = _signed_files(prepared, secret, texts, page, tmp.parent)
        prepared.files.spend_details()  # bundle.json and the page are made: writing needs names and digests
        with ArchiveWriter.create(tmp) as writer:
            writer.add_solid([(layout.sums, made.sums.chunks()), (layout.sig, [made.signature]),
                              (layout.author_key, [made.author_key]), (layout.meta, _read_back(texts, made.meta))])
            writer.add_spooled_block(made.page, progress)
            accounts = items.of_kind("account")
            if prepared.texts is not None:  # compressed in the checking pass, from the very bytes it hashed
                writer.add_spooled(prepared.texts, (i.member for i in accounts), progress)
                prepared.texts.close()  # its disk space is free before the photos are written
            else:  # not spooled (the spool failed, or had no folder): each read again and compared
                load = _loader(prepared)
                writer.add_texts(((i.member, load(i)) for i in accounts), progress)
            photos = items.of_kind("photo")
            names = (i.member for i in items.of_kind("photo"))
            writer.add_stored(zip(names, _ahead(_photo_loader(prepared), photos), strict=True), progress)
    return made.bundle_id


@record
class _Signed:
    """The bundle id, the three small signed files, and where the page and bundle.json lie in the spool."""

    bundle_id: str
    sums: Spool
    signature: bytes
    author_key: bytes
    meta: tuple[int, int]  # offset, size
    page: SolidBlock  # compressed, in a file of its own


def _spill(pieces: Iterable[bytes], fp: BinaryIO) -> tuple[tuple[int, int], str]:
    """Write `pieces` at the end of `fp`; where they lie (offset, size) and their sha256 in hex."""
    fp.seek(0, io.SEEK_END)
    start, digest = fp.tell(), hashlib.sha256()
    for piece in pieces:
        fp.write(piece)
        digest.update(piece)
    return (start, fp.tell() - start), digest.hexdigest()


def _compressed_page(pieces: Iterable[bytes], out: BinaryIO) -> tuple[SolidBlock, str]:
    """The page compressed into `out` while it is rendered (pieces of manifest.PAGE_PIECE, on every core: the second
    core compresses what the first has rendered: S's page of 3.4 MB in two), and its sha256 in hex."""
    digest = hashlib.sha256()

    def hashed() -> Iterator[bytes]:
        for piece in pieces:
            digest.update(piece)
            yield piece

    block = SolidBlock(out, cores(), manifest.PAGE_PIECE)
    try:
        block.add(PAGE_NAME, hashed())
        block.finish()
    finally:
        block.close()
    return block, digest.hexdigest()


def _read_back(fp: BinaryIO, span: tuple[int, int]) -> Iterator[bytes]:
    """The bytes `_spill` wrote at `span`, in chunks of 1 MiB."""
    fp.flush()
    offset, left = span
    while left > 0:
        fp.seek(offset)
        chunk = fp.read(min(left, 1 << 20))
        if not chunk:
            raise OSError("a temporary file ended early")
        offset, left = offset + len(chunk), left - len(chunk)
        yield chunk


def _signed_files(prepared: Prepared, secret: SecretKey, spool: BinaryIO, page_spool: BinaryIO,
                  spool_folder: Path) -> _Signed:
    """Make the page (compressed into `page_spool` as it is rendered) and bundle.json (into `spool`), then
    SHA256SUMS (in a Spool in `spool_folder`) and its signature."""
    request, layout, public = prepared.request, CURRENT, secret.public
    bundle_id = request.bundle_id or uuid.uuid4().hex
    title, created = request.title or request.src.resolve().name, request.created or now_text()
    page, page_digest = _compressed_page(_page(prepared, title, created, public), page_spool)
    meta = BundleMeta(
        bundle_id=bundle_id,
        version=request.version,
        title=title,
        created=created,
        languages=prepared.languages,
        author_key=key_id_hex(public.key_id),
        files=SortedOverlay({PAGE_NAME: FileMeta(page.unpacked, PAGE_TYPE)}, prepared.files),
        supersedes=request.supersedes,
        format=layout.format,
    )
    meta_span, meta_digest = _spill(meta.pieces(), spool)
    check_meta(meta_span[1])
    key_bytes = public.to_text().encode()
    added = {PAGE_NAME: page_digest, layout.meta: meta_digest,  # beside the checked files' digests, never copied
             layout.author_key: hashlib.sha256(key_bytes).hexdigest()}
    sums = Spool(signed=True, folder=spool_folder)  # a million lines: about 90 MB, never held whole
    for piece in Sums(SortedOverlay(added, prepared.digests)).pieces():
        sums.write(piece)
    signature = secret.sign(sums.prehashed, trusted_comment(bundle_id, request.version)).to_bytes()
    return _Signed(bundle_id, sums, signature, key_bytes, meta_span, page)
