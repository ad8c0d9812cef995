"""verify_bundle(): the ordered checks of docs/format.md, fail closed, memory bounded.

Example::

    result = verify_bundle(Path("x.7z"), Keyring(Path("keys")))
    if result.trusted:                   # the policy's verdict; result.verdict.reason says why
        print("verified, signed by", result.signer_name, result.fingerprint)

Order: (1) container caps, names, types, methods, declared sizes, the signed
files present, endorsements well named and small; (2) read the signature and
find the key; (3) check the signature and trusted comment; (4) parse SHA256SUMS,
check bundle.json's hash, parse it; (5) the member set equals the listed set
plus the known unsigned files; (6) every member's sha256; (7) each endorsement
parsed strictly and judged; then the policy decides. Nothing is written to disk.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
from array import array
from collections import deque
from collections.abc import Callable, Container, Iterator, Mapping, Sequence
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

from mirror.bundle.control import Control, Spool
from mirror.bundle.endorsements import BROKEN_ENDORSEMENT_HINT, EndorsementCheck, check_endorsements
from mirror.errors import (
    ArchiveError,
    ContentError,
    KeyringError,
    ManifestError,
    NotABundle,
    SignatureError,
    UnreadableContainer,
)
from mirror.formats.endorsement import MAX_ENDORSEMENT_BYTES, MAX_ENDORSEMENTS, endorsement_key_id, is_endorsement
from mirror.formats.manifest import (
    AUTHOR_KEY_NAME,
    MAX_META_BYTES,
    MAX_SUMS_BYTES,
    META_NAME,
    PAGE_NAME,
    PAGE_TYPE,
    SIG_NAME,
    SUMS_NAME,
    V1,
    V2,
    BundleMeta,
    FileColumns,
    Layout,
    Sums,
    SumsLines,
    SumsTable,
    layout_of,
    trusted_comment,
)
from mirror.formats.minisign import MAX_SIGNATURE_FILE, Prehashed, PublicKeyFile, Signature, key_id_hex
from mirror.formats.names import printable
from mirror.formats.part import MAX_PART_BYTES, PartMarker, part_member
from mirror.formats.table import NameRefs
from mirror.heap import return_large_buffers
from mirror.record import field, record
from mirror.safeio import open_regular
from mirror.sevenzip import (
    Archive,
    Checkpoint,
    Files,
    Limits,
    Member,
    NameList,
    check_methods,
    read_ahead,
    read_archive,
    regular_files,
)
from mirror.sevenzip.volumes import open_archive_file
from mirror.trust.fingerprint import fingerprint
from mirror.trust.keyring import Keyring
from mirror.trust.keys import check_signature
from mirror.trust.keyset import TrustedKeys
from mirror.trust.policy import AuthorTrusted, Evidence, Policy, Verdict

if TYPE_CHECKING:
    from concurrent.futures import Executor, Future

    from mirror.bundle.verified import VerifiedCache

Keys = Keyring | TrustedKeys | None  # None trusts nobody: the signer is only shown

CONTROL_CAPS = {SUMS_NAME: MAX_SUMS_BYTES, SIG_NAME: MAX_SIGNATURE_FILE, AUTHOR_KEY_NAME: 1024,
                META_NAME: MAX_META_BYTES}  # by logical name; Layout.member gives each one's place
MAX_PROBLEMS = 200  # lines of a failed content check kept and shown; the rest are counted
# From this many members on, a verify's buffers are freed back to the system as they go (heap.py); a small
# bundle does not pay for loading ctypes.
MANY_MEMBERS = 1000
# Data decoded before the signed list is known (a bundle repacked with its signed files last): at most this many
# times the file's size, and never less than the floor. Accounts compress about 4-8 times and photos not at all; a
# few MB that decode to gigabytes of one byte took a minute to fail.
RATIO_BEFORE_SIGNED = 100
FLOOR_BEFORE_SIGNED = 64 << 20
EARLY_SIZE_CHECK = 1 << 20  # a member this large that bundle.json rules out fails at once, not after decoding
EARLY_NO_SUMS = 10_000  # members from which an archive without SHA256SUMS is refused before each is checked
WASTED_BEFORE_REFUSAL = 64 << 20  # smaller ones it rules out fail at once past this many bytes together


def control_caps(limits: Limits) -> dict[str, int]:
    """CONTROL_CAPS with the caps of the two signed lists that `limits` sets, if it sets them."""
    raised = {SUMS_NAME: limits.max_sums_bytes, META_NAME: limits.max_meta_bytes}
    return CONTROL_CAPS | {name: cap for name, cap in raised.items() if cap is not None}


@record
class VerifiedBundle:
    """A bundle whose every check passed."""

    path: Path
    meta: BundleMeta  # each file's size and type; the other fields: manifest.file_details(control[META_NAME])
    sums: Sums
    public: PublicKeyFile
    verdict: Verdict
    signer_name: str | None  # the author's name in the keyring, when the key is there
    members: Sequence[str]  # every regular member, in archive order (a view of columns: NameList)
    endorsements: tuple[EndorsementCheck, ...] = ()
    control: Control = field(default_factory=lambda: Control({}), repr=False)  # the four signed files by logical name
    layout: Layout = field(default=V1, repr=False)  # where its technical files live (docs/format.md, "Layouts")
    part: PartMarker | None = None  # a part of a split bundle (only when the caller accepts parts)
    missing: Sequence[str] = ()  # the listed files a part does not carry; always empty for a whole bundle

    @property
    def trusted(self) -> bool:
        """Whether the reader's policy trusts the bundle (by default: its author is in the keyring)."""
        return self.verdict.trusted

    @property
    def key_id(self) -> str:
        """The signer's key id, as minisign prints it."""
        return key_id_hex(self.public.key_id)

    @property
    def fingerprint(self) -> str:
        """The signer's fingerprint, to compare by phone or in person."""
        return fingerprint(self.public)

    @property
    def ignored(self) -> frozenset[str]:
        """Members that are named in the verdict but never used or extracted: invalid endorsements."""
        return frozenset(e.name for e in self.endorsements if e.status == "invalid")


def _check_endorsement_member(name: str, size: int, layout: Layout) -> None:
    if endorsement_key_id(name, layout) is None:
        raise ArchiveError(f"unexpected member '{printable(name)}': {layout.endorsements} holds only "
                           "<KEYID>.minisig signature files", hint=BROKEN_ENDORSEMENT_HINT)
    if size > MAX_ENDORSEMENT_BYTES:
        raise ArchiveError(f"{name} declares {size} bytes; an endorsement is at most {MAX_ENDORSEMENT_BYTES}",
                           hint=BROKEN_ENDORSEMENT_HINT)


# At any depth: 7-Zip packing a folder (Downloads/) that holds the bundle, or the folder it was extracted into, keeps
# that folder's name above it (the bundle's files two levels down were "the bundle has no SHA256SUMS").
_WRAPPED_BUNDLE = re.compile(r"(?:[^/]+/)*[^/]+\.7z(?:\.[0-9]{3})?")
_WRAPPED_FOLDER = re.compile(r"([^/]+(?:/[^/]+)*?)/(?:\.mirror/)?SHA256SUMS")
# A name a bundle (or a bundle packed again) has: its signed files anywhere, its page, accounts or photos at the
# top, or another 7z inside.
_BUNDLE_SIGN = re.compile(r"(?:(?:.*/)?(?:\.mirror/.*|SHA256SUMS(?:\.minisig)?|author\.pub|bundle\.json|[^/]+\.7z"
                          r"(?:\.[0-9]{3})?)|index\.html|accounts/.*|photos/.*)", re.IGNORECASE)


def _refuse_without_sums(archive: Archive) -> None:
    """Refuse at once an archive no name of which holds "SHA256SUMS" (and none a 7z inside, which _refuse_wrapped
    names), before each member is checked: a header of a million empty files took 20 s to say it has no signed
    list. The names are one blob (formats/table.py): looked at in a few passes of C, not a member at a time."""
    names = getattr(archive.members, "names", None)
    blob = getattr(names, "blob", None)
    if len(archive.members) < EARLY_NO_SUMS or not isinstance(blob, bytearray) or b"SHA256SUMS" in blob:
        return  # a small archive: every member checked first, and named in the first problem found
    lowered = blob.lower()
    if b".7z" in lowered:
        return
    if any(sign in lowered for sign in (b".mirror/", b"author.pub", b"bundle.json")):
        raise ContentError("the bundle has no SHA256SUMS")
    if any(sign in lowered for sign in (b"index.html", b"accounts/", b"photos/")):
        raise _unsigned(len(archive.members))
    raise _foreign(len(archive.members))


def _refuse_foreign(archive: Archive) -> None:
    """Raise NotABundle for a 7z archive that is no bundle at all (no name a bundle has): said as such, not as a
    bundle that lost its signed list or was repacked. Return quietly for anything bundle-like."""
    names = [m.name for m in archive.members if not m.is_dir and not m.is_anti]  # an anti-item deletes a file
    if any(_BUNDLE_SIGN.fullmatch(name) for name in names):
        return
    raise _foreign(len(names))


def _refuse_unsigned(archive: Archive) -> None:
    """Raise NotABundle for an archive that holds a bundle's kind of names (a page, accounts/, photos/) but no
    signed file at all, anywhere: nothing in it is signed, which is not damage (a website's or a photo folder's
    archive looks like this too, links, empty folders and all). Return quietly when any signed file, or another 7z,
    is there: a bundle that lost SHA256SUMS, or holds a link, fails."""
    names = [m.name for m in archive.members if not m.is_dir and not m.is_anti]
    if any(signed_name(name) for name in names):
        return
    raise _unsigned(len(names))


_SIGNED_TAILS = frozenset(name.lower() for name in (SUMS_NAME, SIG_NAME, AUTHOR_KEY_NAME, META_NAME))


def signed_name(name: str) -> bool:
    """Whether `name` is a bundle's signed file (or under .mirror/), or a 7z, at any depth and in any case: string
    tests only, no pattern (each is tens of microseconds for a long name)."""
    low = name.lower()
    tail = low.rpartition("/")[2]
    return (tail in _SIGNED_TAILS or low.startswith(V2.prefix) or f"/{V2.prefix}" in low or tail.endswith(".7z")
            or (tail[-7:-3] == ".7z." and tail[-3:].isdigit()))


_ASK_FOR_THE_BUNDLE = "ask the sender for the bundle itself (a .7z that mirror create made); to see what this one " \
                      "holds: 7z l FILE"


def _foreign(count: int) -> NotABundle:
    return NotABundle(f"this is a 7z archive of {count:,} file(s), not a mirror bundle: nothing in it is signed, so "
                      "nothing in it can be checked", hint=_ASK_FOR_THE_BUNDLE)


def _unsigned(count: int) -> NotABundle:
    return NotABundle(f"this is a 7z archive of {count:,} file(s) without SHA256SUMS, its signature, author.pub or "
                      "bundle.json: not a mirror bundle, or one whose signed files were all taken out, so nothing in "
                      "it can be checked", hint=_ASK_FOR_THE_BUNDLE)


def _refuse_wrapped(files: Files) -> None:
    """Raise UnreadableContainer for an archive without SHA256SUMS that holds a bundle (7-Zip packed the file
    again) or a bundle's files in a folder (its extracted folder packed with its name): a wrapping on the way,
    like a tarball, not a bundle that lost its signed list. Return quietly otherwise."""
    for k in range(len(files)):  # the path to verify is quoted for the shell: the sender chose it (Downloads/
        name = files.name(k)  # Telegram Desktop/ gave a command that verifies another path; a ';' ran what followed)
        # the patterns only where the name's end can match (each is tens of microseconds for a long name: 150,000
        # deep names of a forged archive took 2.7 s more, helper-171)
        if (name.endswith(".7z") or name[-7:-3] == ".7z.") and _WRAPPED_BUNDLE.fullmatch(name):
            import shlex  # here: only for the refusal (1.7 ms of every verify)

            path = shlex.quote(printable(name))
            raise UnreadableContainer(f"this copy is a 7z archive holding another one, '{printable(name)}'",
                                      hint=f"unpack it first (7z x COPY -oFOLDER), then: mirror verify FOLDER/{path}")
        folder = _WRAPPED_FOLDER.fullmatch(name) if name.endswith("SHA256SUMS") else None
        if folder is not None:
            import shlex

            top = printable(folder[1])
            path = shlex.quote(top)
            raise UnreadableContainer(f"this copy holds a bundle's files inside the folder '{top}/'",
                                      hint=f"unpack it (7z x COPY -oFOLDER), then check the folder: "
                                      f"mirror verify FOLDER/{path}")


def check_container(archive: Archive, limits: Limits | None = None) -> tuple[Files, Layout]:
    """Step 1: methods, names, types, duplicates, collisions, the layout and its signed files, every cap.

    Returns the regular files, in archive order, and the bundle's layout.

    Raises:
        ArchiveError: the first problem found (NotABundle: a 7z archive with nothing signed in it).
        ContentError: a signed file is missing.
    """
    try:
        check_methods(archive)
    except ArchiveError:
        _refuse_foreign(archive)  # another archiver's methods on another project's files: no repack of ours
        _refuse_unsigned(archive)
        raise
    _refuse_without_sums(archive)
    try:
        files = regular_files(archive)
    except ArchiveError:
        _refuse_foreign(archive)  # another project's archive with folders, links or odd names: not a bundle
        _refuse_unsigned(archive)
        raise
    names = NameList(files)
    layout = layout_of(names)
    if layout is None:
        if SUMS_NAME not in names:
            _refuse_wrapped(files)
            _refuse_foreign(archive)
            _refuse_unsigned(archive)
        raise ContentError("the bundle has no SHA256SUMS" if SUMS_NAME not in names else
                           "the bundle has two SHA256SUMS, at the top and under .mirror/")
    caps = control_caps(limits or Limits())
    for name, logical in layout.control.items():
        k = files.find(name)
        if k is None:
            raise ContentError(f"the bundle has no {name}")
        size = files.size(k)
        if size > caps[logical]:
            raise ArchiveError(f"{name} declares {size} bytes, more than {caps[logical]}")
    endorsements = 0
    prefix = layout.endorsements.encode()
    for k in range(len(files)):
        if files.raw(k).startswith(prefix):
            _check_endorsement_member(files.name(k), files.size(k), layout)
            endorsements += 1
    if endorsements > MAX_ENDORSEMENTS:
        raise ArchiveError(f"the bundle carries {endorsements} endorsements, more than {MAX_ENDORSEMENTS}",
                           hint=BROKEN_ENDORSEMENT_HINT)
    return files, layout


@record
class _Signed:
    """Steps 2-4: what the author signed, and the key that checked out."""

    sums: Sums
    meta: BundleMeta
    public: PublicKeyFile
    signer_name: str | None
    control: Control  # by logical name
    layout: Layout


@record
class Checked:
    """Every step passed on an open bundle; what extract needs besides the verdict."""

    signed: _Signed
    members: Sequence[str]
    unlisted: dict[str, str]  # sha256 of the members SHA256SUMS does not cover: itself, its signature, endorsements
    endorsements: tuple[EndorsementCheck, ...]
    verdict: Verdict
    part: PartMarker | None = None
    missing: Sequence[str] = ()
    written: bool = False  # every member with data went through the writer (verify_open)

    def result(self, path: Path) -> VerifiedBundle:
        """The verified bundle."""
        signed = self.signed
        return VerifiedBundle(path, signed.meta, signed.sums, signed.public, self.verdict, signed.signer_name,
                              self.members, self.endorsements, signed.control, signed.layout, self.part,
                              self.missing)


def snapshot(keys: Keys) -> TrustedKeys:
    """The trusted keys as a value, read once."""
    if isinstance(keys, Keyring):
        return keys.snapshot()
    return keys if keys is not None else TrustedKeys()


def _author_key(raw: bytes) -> PublicKeyFile:
    """The bundle's author.pub; it proves nothing until its fingerprint is compared."""
    try:
        candidate = PublicKeyFile.from_text(raw.decode("utf-8", "replace"), AUTHOR_KEY_NAME)
        candidate.check_key_id(AUTHOR_KEY_NAME)
    except KeyringError as exc:
        raise ManifestError(f"the bundle's {AUTHOR_KEY_NAME} is not a valid key: {exc}") from None
    return candidate


def _find_key(sig: Signature, author_pub: bytes, keys: TrustedKeys,
              expect_key: PublicKeyFile | None) -> tuple[PublicKeyFile, str | None]:
    if expect_key is not None:
        return expect_key, None
    record = keys.find(sig.key_id, "author")
    if record is not None:
        # Key ids are chosen by whoever makes a key: another key of the keyring may share this one's. The key the
        # bundle names as its author, when the keyring holds exactly it, is the one to check the signature with.
        try:
            named = keys.holds(_author_key(author_pub), "author")
        except ManifestError:
            named = None
        record = named if named is not None and named.public.key_id == sig.key_id else record
        return record.public, record.name
    candidate = _author_key(author_pub)
    if candidate.key_id != sig.key_id:
        raise SignatureError(f"signed by key {key_id_hex(sig.key_id)}, which is neither in your keyring "
                             f"nor the bundle's {AUTHOR_KEY_NAME}")
    return candidate, None


def _whole(value: bytes | Spool) -> bytes:
    return value if isinstance(value, bytes) else value.read()


def check_sums_signature(sums: Prehashed, signature: bytes, author_pub: bytes, keys: TrustedKeys) -> None:
    """Step 3 alone, as check_signed does it first, on SHA256SUMS given by its BLAKE2b-512: for a folder, before
    its SHA256SUMS and bundle.json (up to 256 and 512 MiB) are copied into the temporary folder.

    Raises:
        SignatureError: bad or unknown signature.
    """
    sig = Signature.from_bytes(signature)
    public, _ = _find_key(sig, author_pub, keys, None)
    check_signature(public, sig, sums)


def check_signed(control: Mapping[str, bytes | Spool], keys: TrustedKeys, layout: Layout,
                 expect_key: PublicKeyFile | None = None, limits: Limits | None = None,
                 members: Files | None = None) -> _Signed:
    """Steps 2-4 on the captured control files, by logical name (bundle.json may be spooled: it is parsed a
    window at a time, and never held whole). `members`: the archive's files, whose names SHA256SUMS's paths
    then refer to instead of holding them again.

    Raises:
        SignatureError: bad or unknown signature, changed trusted comment.
        ManifestError: malformed SHA256SUMS or bundle.json, they disagree, or another layout than its format.
    """
    limits = limits or Limits()
    held = Control({name: control[name] for name in CONTROL_CAPS})
    sig = Signature.from_bytes(held[SIG_NAME])
    public, signer_name = _find_key(sig, held[AUTHOR_KEY_NAME], keys, expect_key)
    check_signature(public, sig, held.prehashed(SUMS_NAME))
    with held.open(SUMS_NAME) as source:  # the bytes whose BLAKE2b-512 was just checked (a spool never changes)
        refs = None if members is None else NameRefs(members.raw, members.lookup.find)
        sums = Sums.read(source, layout, limits.max_members, limits.max_sums_bytes, refs)
    for name in (META_NAME, AUTHOR_KEY_NAME):
        if held.sha256(name) != sums.entries[layout.member(name)]:
            raise ContentError(f"{layout.member(name)} does not match its hash in SHA256SUMS")
    with held.open(META_NAME) as source:
        meta = BundleMeta.from_bytes(source, listed=sums.entries, details=False,
                                     undescribed=(layout.meta, layout.author_key), max_files=limits.max_members,
                                     max_bytes=limits.max_meta_bytes)
    if meta.format != layout.format:
        raise ManifestError(f"bundle.json says {meta.format}, but the bundle is laid out as {layout.format}")
    page = meta.files.get(PAGE_NAME)
    if layout.has_page and (page is None or page.type != PAGE_TYPE):
        raise ManifestError(f"a {layout.format} bundle must carry the reader's page {PAGE_NAME}")
    if not layout.has_page and page is not None and page.type == PAGE_TYPE:
        raise ManifestError(f"a {layout.format} bundle has no page, but lists {PAGE_NAME} as one")
    if sig.trusted_comment != trusted_comment(meta.bundle_id, meta.version):
        raise SignatureError("the signed trusted comment does not match bundle.json's id and version")
    if meta.author_key != key_id_hex(sig.key_id):
        raise ManifestError("bundle.json names another author key than the signer's")
    if _author_key(held[AUTHOR_KEY_NAME]) != public:
        raise ManifestError(f"the bundle's {AUTHOR_KEY_NAME} is not the signer's key")
    return _Signed(sums, meta, public, signer_name, held, layout)


def _spooled(chunks: Iterator[bytes], signed: bool = False) -> tuple[Spool, str]:
    """SHA256SUMS (`signed`) or bundle.json, capped before, in a spool, and its SHA-256: past SPILL bytes it
    waits on disk."""
    spool = Spool(signed)
    for chunk in chunks:
        spool.write(chunk)
    return spool, spool.sha256


def _chunks(value: bytes | Spool) -> Iterator[bytes]:
    return iter((value,)) if isinstance(value, bytes) else value.chunks()


def _read_capped(chunks: Iterator[bytes]) -> tuple[bytes, str]:
    """A control file, endorsement or part marker (each capped before), whole, and its SHA-256. Gathered in a
    BytesIO, whose getvalue() hands over its buffer: a join would hold the chunks and the result at once,
    twice the size of a signed list of a million lines."""
    digest, data = hashlib.sha256(), io.BytesIO()
    for chunk in chunks:
        digest.update(chunk)
        data.write(chunk)
    return data.getvalue(), digest.hexdigest()


_OVERLAP = 1 << 16  # a chunk this large is hashed on a helper thread while it is written (both release the GIL)
_HASH_AHEAD = 4  # chunks handed to it and not yet hashed: the hashing thread never waits for the next
_hasher: Executor | None = None


def _hashing_thread() -> Executor:
    """One thread for all hashing beside writing, started on first use (a million small files never need it)."""
    global _hasher
    if _hasher is None:
        from concurrent.futures import ThreadPoolExecutor

        _hasher = ThreadPoolExecutor(1, thread_name_prefix="mirror-hash")
    return _hasher


def hash_chunks(chunks: Iterator[bytes], fd: int | None = None) -> str:
    """The chunks' SHA-256 in hex; with `fd`, each chunk is also written to it as it is hashed (and `fd` is
    closed, whatever happens). Verify, extract and staging all hash and write through this loop.

    While writing, a large chunk is hashed on another thread as it is written: on two cores extract then takes
    about the time of the slower of the two instead of their sum (bench/analysis.md, "Hashing beside writing").
    Up to _HASH_AHEAD chunks wait for that thread: a chunk that is not `bytes` (a buffer its producer could fill
    again) is copied first, so the digest is of the bytes written.
    """
    digest = hashlib.sha256()
    if fd is None:
        for chunk in chunks:
            digest.update(chunk)
        return digest.hexdigest()
    pending: deque[Future[None]] = deque()  # in order: one thread runs them
    try:
        for chunk in chunks:
            if type(chunk) is not bytes:
                chunk = bytes(chunk)
            if len(chunk) >= _OVERLAP or pending:  # once one waits, the rest follow it
                if len(pending) >= _HASH_AHEAD:
                    pending.popleft().result()
                pending.append(_hashing_thread().submit(digest.update, chunk))
            else:
                digest.update(chunk)
            write_all(fd, chunk)
        while pending:
            pending.popleft().result()
    finally:
        for future in pending:  # a write failed: the digest is dropped, once the thread let go of it
            if not future.cancel():
                future.exception()
        os.close(fd)
    return digest.hexdigest()


def write_all(fd: int, data: bytes) -> None:
    """Write all of `data` to `fd` (os.write may write less)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class Writer(Protocol):
    """Where extract writes members as they are verified, once writing is allowed (bundle/extract.py)."""

    @property
    def untrusted_ok(self) -> bool:
        """Write even when the author alone does not make the bundle trusted."""
        ...

    def create(self, name: str) -> int:
        """A new file for member `name` (already checked), as a descriptor open for writing."""
        ...


def _may_write(signed: _Signed, content_ok: Callable[[], bool], keys: TrustedKeys, policy: Policy,
               writer: Writer) -> bool:
    """Whether extract may write the bulk while it is verified: the signature checked out, the members are exactly
    the listed files with the sizes bundle.json signed (so no more can be written than the author signed), and
    the author alone makes the bundle trusted (or the reader accepts untrusted ones). Otherwise extract verifies
    first and writes in a second pass, as before."""
    return content_ok() and (writer.untrusted_ok or policy.judge(Evidence(signed.public, ()), keys).trusted)


class _Stale(Exception):
    """The SHA256SUMS read is not the one the cache entry was made with: verify in full."""


def _columns(signed: _Signed) -> tuple[SumsTable, FileColumns]:
    sums, files = signed.sums.entries, signed.meta.files
    if not isinstance(sums, SumsTable) or not isinstance(files, FileColumns):
        raise TypeError("check_signed parses both lists into columns")
    return sums, files


class _Digests:
    """What the hashes said, in columns by file position: each file's line in SHA256SUMS (found once, when the
    signed list is known), whether its hash differs, and, for files hashed before that, the digest itself (32
    bytes, kept until then)."""

    def __init__(self, files: Files) -> None:
        self.files = files
        self.changed = bytearray(len(files))
        self.lines: array[int] | None = None  # -1: not listed
        self.sums: SumsTable | None = None
        # 32 bytes a file by position, up to the last file hashed before the signed list was known (in a bundle
        # made by mirror create: the signed files themselves, which come first)
        self.pending = bytearray()
        self.waiting = bytearray()
        self.unlisted: dict[str, str] = {}  # the unsigned files' hashes: SHA256SUMS, signature, endorsements

    def match(self, signed: _Signed, unsigned: Callable[[str], bool]) -> None:
        """Find each file's line (most often the next line: both are sorted by path), then compare the digests
        kept so far."""
        sums, _ = _columns(signed)
        files, lines, hint = self.files, array("i", [-1]) * len(self.files), 0
        for k in range(len(files)):
            j = sums.near(files.raw(k), hint)
            if j is not None:
                lines[k], hint = j, j + 1
        self.lines, self.sums = lines, sums
        for k in range(len(self.waiting)):
            if self.waiting[k]:
                name = files.name(k)
                self.record(k, name, self.pending[32 * k : 32 * k + 32].hex(), signed, unsigned(name))
        self.pending, self.waiting = bytearray(), bytearray()

    def record(self, k: int, name: str, digest: str, signed: _Signed | None, unsigned: bool) -> None:
        """Compare file `k`'s digest with the signed list when it is known; otherwise keep it for later."""
        if signed is None or self.lines is None or self.sums is None:
            if len(self.waiting) <= k:
                self.waiting.extend(bytes(k + 1 - len(self.waiting)))
                self.pending.extend(bytes(32 * (k + 1) - len(self.pending)))
            self.pending[32 * k : 32 * k + 32] = bytes.fromhex(digest)
            self.waiting[k] = 1
            return
        j = self.lines[k]
        if j < 0:
            if unsigned:  # any other unlisted member fails the content check: its hash is never needed
                self.unlisted[name] = digest
        elif self.sums.digest(j) != digest:
            self.changed[k] = 1

    def check(self, signed: _Signed, without: int | None, part: bool, hashed: bool = True) -> Sequence[str]:
        """check_content on the columns: every problem as one ContentError, or the lines a part lacks.
        `without`: the part marker's position; `hashed` False: sizes and the member set only (nothing hashed
        yet)."""
        sums, described = _columns(signed)
        layout, files, lines = signed.layout, self.files, self.lines
        if lines is None:
            raise TypeError("match() first")
        seen = bytearray(len(sums))
        unlisted: list[str] = []
        content: list[tuple[int, str]] = []
        more = 0  # problems past MAX_PROBLEMS of a kind: counted, not kept
        marker, lead = part_member(layout), None
        for k in range(len(files)):
            j = lines[k]
            if k == without:
                continue
            if j < 0:
                name = files.name(k)
                if name in (layout.sums, layout.sig) or is_endorsement(name, layout):
                    continue
                if not part and name == marker:  # --whole of a part: say what it is first, not "not listed"
                    lead = f"this is a part of a split bundle ({marker}), not the whole bundle: join every part first"
                elif len(unlisted) < MAX_PROBLEMS:
                    unlisted.append(name)
                else:
                    more += 1
                continue
            seen[j] = 1
            failed = hashed and self.changed[k]
            if failed or 0 <= described.sizes[j] != files.size(k):
                if len(content) >= MAX_PROBLEMS:
                    more += 1
                    continue
                path = files.name(k)
                content.append((j, f"changed: {path} (sha256 does not match)" if failed
                                else f"size differs from bundle.json: {path}"))
        absent = SumsLines(sums, (j for j in range(len(sums)) if not seen[j]))  # in order: sorted
        return _content_verdict(layout, absent, sorted(unlisted), [p for _, p in sorted(content)], part, lead, more)


def verify_open(fp: BinaryIO, keys: TrustedKeys, limits: Limits, policy: Policy,
                expect_key: PublicKeyFile | None = None, known_sums: str | None = None,
                writer: Writer | None = None, parts: bool = False, archive: Archive | None = None) -> Checked:
    """Run every check on an open bundle; with `parts`, a part of a split bundle may lack listed files.

    With `known_sums` (bundle/verified.py: this file's members were all checked against a SHA256SUMS with
    this SHA-256, and the file has not changed since), every step runs except decoding and hashing the
    members' data: only the blocks holding the signed files and endorsements are read.

    With `writer` (extract), each member is also written through it as it is hashed, from the moment
    `_may_write` allows it (the signed files come first in a bundle made by `mirror create`); the result says
    whether everything was (`Checked.written`). Nothing is trusted for being written: the caller keeps it in a
    private folder until every check passed.

    `archive`: the header, already read from `fp` (fetch/early.py reads it before the rest of the file is there).

    Memory stays about 150 bytes per member: the members, SHA256SUMS and bundle.json's sizes are kept in columns
    (sevenzip/model.py, formats/manifest.py), the two signed lists wait in a spool and are parsed from there
    (bundle/control.py), and each member's hash is compared as it is made.

    Raises:
        VerificationError: the first failed step, or ContentError listing every bad file.
        _Stale: the SHA256SUMS read is not the known one.
    """
    archive = archive if archive is not None else read_archive(fp, limits)
    if len(archive.members) >= MANY_MEMBERS:
        return_large_buffers()  # heap.py: 100,000 members peaked at 112 MB without it, 101 MB with it
    files, layout = check_container(archive, limits)
    control = layout.control  # member name -> logical name
    marker = part_member(layout) if parts else None  # unsigned: it only names the part (formats/part.py)
    at = files.find(marker) if marker is not None else None
    if at is not None and files.size(at) > MAX_PART_BYTES:
        raise ArchiveError(f"{marker} declares more than {MAX_PART_BYTES} bytes; a part marker is smaller")
    held: dict[str, bytes | Spool] = {}  # the signed files and the endorsements, each capped in check_container
    digests = _Digests(files)
    signed: _Signed | None = None
    writing = False  # every member so far went through `writer`, and it may go on
    bulk_before_signed = False
    k = 0  # the position among the files of the member being read

    def signed_files() -> dict[str, bytes | Spool]:
        return {logical: held[name] for name, logical in control.items()}

    unsigned_names, endorsed = {layout.sums, layout.sig, marker}, layout.endorsements  # made once: a call a member

    def unsigned(name: str) -> bool:
        return name in unsigned_names or name.startswith(endorsed)

    def content_ok() -> bool:
        if signed is None:
            return False
        try:
            digests.check(signed, None, part=False, hashed=False)
        except ContentError:  # a part (files missing, a marker) is written after
            return False
        return True

    # No CRC: every member's SHA-256 is compared with the signed list (or, for the signature and the
    # endorsements, their signatures checked), and whoever changes data can fix its CRC. Decoded on a second thread.
    def kept(member: Member) -> bool:
        name = member.name
        return name in control or name.startswith(endorsed) or name == marker

    def wanted(member: Member) -> bool:
        """Whether a block holding `member` must be decoded (asked on the reading thread, block by block). Until
        the signed list is known, every block: its members are hashed and kept for it. After, only blocks that
        hold a listed file or a file checked otherwise: data nobody signed fails the member check whatever it
        holds, so it is never decoded (up to the 16 GiB cap of it took a minute to fail). The reading thread
        waits for the signed list at the first block after the signed files (`checkpoint`). Nor is a block
        whose listed file declares another size than bundle.json gives it: it fails whatever it holds (a
        header may declare 15 GiB for a photo signed as 400 KB, and decoding that took a minute)."""
        current = signed
        if current is None or kept(member):
            return True
        return listed_as_is(member, current)

    def listed_as_is(member: Member, current: _Signed) -> bool:
        """Whether SHA256SUMS lists `member` and bundle.json gives it no other size."""
        sums, described = _columns(current)
        j = sums.find(member.name)
        return j is not None and described.sizes[j] in (-1, member.size)

    fp.seek(0, io.SEEK_END)
    before_signed_of = fp.tell()
    before_signed = max(FLOOR_BEFORE_SIGNED, RATIO_BEFORE_SIGNED * before_signed_of)  # bytes it may decode to before
    decoded = 0

    def counted(chunks: Iterator[bytes], control: bool = False) -> Iterator[bytes]:
        """A member decoded before the signed list is known, within `before_signed` for all such members: the
        signed files themselves too (a 117 KB file declared 255 MiB of SHA256SUMS and 511 MiB of bundle.json,
        written to the spool before the signature could fail)."""
        nonlocal decoded
        for chunk in chunks:
            decoded += len(chunk)
            if decoded > before_signed and control:
                raise ArchiveError(f"its signed files decode to more than {before_signed:,} bytes, from an archive "
                                   f"of {before_signed_of:,}, before their signature is checked: a bundle mirror "
                                   "made, or one repacked, holds no such data", hint="ask the sender for another copy")
            if decoded > before_signed:
                raise ArchiveError(f"before its signed files, the archive decodes to more than {before_signed:,} "
                                   f"bytes ({RATIO_BEFORE_SIGNED} times its size): a bundle mirror made, or one "
                                   "repacked, holds no such data", hint="ask the sender for another copy")
            yield chunk

    wasted = 0  # bytes of members bundle.json rules out, decoded so far

    def ruled_out(member: Member, current: _Signed) -> None:
        """Refuse at once a member that bundle.json rules out (another size, or not listed), with the content
        problems known so far, rather than decode it first (a header may declare gigabytes for it): a large one at
        once, small ones once they add up (a gigabyte in a thousand files of a megabyte each)."""
        nonlocal wasted
        if unsigned(member.name) or listed_as_is(member, current):
            return
        wasted += member.size
        if member.size <= EARLY_SIZE_CHECK and wasted <= WASTED_BEFORE_REFUSAL:
            return  # decoded and hashed: the verdict lists every problem of a bundle that is only a little off
        is_part = at is not None and marker not in current.sums.entries
        digests.check(current, at if is_part else None, is_part, hashed=False)  # raises ContentError

    checkpoint = None if known_sums else Checkpoint(lambda member: member.name in control, len(control))
    mismatched: list[str] = []  # members whose data does not have their header's CRC
    with closing(read_ahead(fp, archive, crc=False, want=kept if known_sums else wanted,
                            checkpoint=checkpoint, mismatched=mismatched)) as pairs:
        for member, chunks in pairs:
            found = files.position(member, k)
            if found is None:
                raise ArchiveError("archive header is malformed")  # never: regular_files checked every member
            k = found
            if kept(member):
                if member.name in (layout.sums, layout.meta):
                    held[member.name], digest = _spooled(chunks if signed is not None else counted(chunks, True),
                                                         signed=member.name == layout.sums)
                else:
                    held[member.name], digest = _read_capped(chunks)
                if writing and writer is not None:
                    hash_chunks(_chunks(held[member.name]), writer.create(member.name))
            elif known_sums:
                for _ in chunks:  # decoded only because it shares a block with a signed file
                    pass
                continue
            else:
                bulk_before_signed = bulk_before_signed or signed is None
                if signed is None:
                    chunks = counted(chunks)
                else:
                    ruled_out(member, signed)
                digest = hash_chunks(chunks, writer.create(member.name) if writing and writer is not None else None)
            digests.record(k, member.name, digest, signed, unsigned(member.name))
            if signed is None and all(name in held for name in control):
                signed = check_signed(signed_files(), keys, layout, expect_key, limits, files)  # before the bulk
                digests.match(signed, unsigned)
                if checkpoint is not None:
                    checkpoint.decide()  # the reading thread may go on: it knows what is listed now
                if writer is not None and not bulk_before_signed and _may_write(signed, content_ok, keys, policy,
                                                                                 writer):
                    writing = True
                    for name, data in held.items():
                        hash_chunks(_chunks(data), writer.create(name))
    empty = hashlib.sha256(b"").hexdigest()
    for k in range(len(files)):  # members without a data stream (empty files)
        if files.has_stream(k):
            continue
        name = files.name(k)
        if writing and writer is not None:
            os.close(writer.create(name))
        digests.record(k, name, empty, signed, unsigned(name))
        if name in control or is_endorsement(name, layout):
            held[name] = b""
    if signed is None:
        signed = check_signed(signed_files(), keys, layout, expect_key, limits, files)
        digests.match(signed, unsigned)
    if known_sums and signed.control.sha256(SUMS_NAME) != known_sums:
        raise _Stale
    part = None
    if marker is not None and at is not None and marker not in signed.sums.entries:
        part = PartMarker.from_bytes(_whole(held.get(marker, b"")))
    missing = digests.check(signed, at if part is not None else None, part is not None)
    if mismatched:  # intact by their signed SHA-256; 7-Zip, which checks CRCs, calls them damaged (CRC Failed)
        names = ", ".join(printable(name) for name in sorted(mismatched)[:5])
        raise ArchiveError(f"the 7z header gives {len(mismatched):,} file(s) a CRC their data does not have "
                           f"({names}{', ...' if len(mismatched) > 5 else ''}): 7-Zip calls them damaged, so this "
                           "copy cannot be checked or opened with it", hint="ask the sender for a clean copy")
    endorsements = check_endorsements({n: _whole(raw) for n, raw in held.items() if is_endorsement(n, layout)},
                                      signed.control.prehashed(SUMS_NAME), signed.meta, signed.public, keys,
                                      layout)
    evidence = Evidence(signed.public, tuple(e.evidence for e in endorsements if e.evidence is not None))
    return Checked(signed, NameList(files), digests.unlisted, endorsements, policy.judge(evidence, keys),
                   part, missing, writing)


def _content_verdict(layout: Layout, absent: Sequence[str], unlisted: list[str], content: list[str],
                     part: bool, lead: str | None = None, more: int = 0, first: Sequence[str] = ()) -> Sequence[str]:
    """Raise every problem (each list sorted by path, `lead` first) as one ContentError; return what a part lacks.

    At most MAX_PROBLEMS lines are kept, then one that counts the rest (`more`: problems already counted and not
    kept): a million files not listed cost a number, not a million lines in memory and on the screen."""
    always = {layout.meta, layout.author_key, PAGE_NAME}
    problems = [lead] if lead else []
    damaged = bool(lead and content)
    if damaged:  # a part checked whole: the damage first, not the files other parts hold (helper-158)
        problems, content = [*problems, *content], []
    problems += first[:MAX_PROBLEMS]
    more += max(0, len(first) - MAX_PROBLEMS)
    missing = 0
    for p in absent:
        if not part or p in always:
            missing += 1
            if missing <= MAX_PROBLEMS:
                problems.append(f"file missing: {printable(p)}")
    problems += [f"not listed in SHA256SUMS: {printable(p)}" for p in unlisted]
    problems += content
    # the files that failed: a lead line ("this is a part") is said first but is not one of them
    total = len(problems) - (lead is not None) + max(0, missing - MAX_PROBLEMS) + more
    if total:
        shown = problems[:MAX_PROBLEMS]
        listed = len(shown) - (lead is not None)
        if total > listed:
            shown.append(f"and {total - listed} more file(s), not listed here")
        problem = shown[1] if damaged else shown[0]  # named so that the CLI translates it in the line (i18n.NESTED)
        # an intact part checked whole (--whole) lacks only what the other parts carry: it is joined, not replaced
        whole_part = lead is not None and not damaged and not unlisted and not first
        raise ContentError(f"{total} file(s) failed: {problem}", problems=tuple(shown),
                           hint="join all its parts first: mirror join PART... -o WHOLE.7z" if whole_part else None)
    return absent


def check_content(signed: _Signed, present: Mapping[str, int], changed: Container[str],
                  part: bool, first: Sequence[str] = (), more: int = 0, taken: Container[str] = ()) -> Sequence[str]:
    """Every problem with the files, as one ContentError; a part returns the listed files it lacks instead.

    `present`: each file there is (a folder's: bundle/folder.py), with its size; `changed`: the ones whose hash
    differs; `first`: other problems, shown first (a folder's links and devices), and `more` of them not shown;
    `taken`: listed names there as something other than a file, said in `first`, so not missing.
    A part must still carry every signed file: SHA256SUMS, its signature, author.pub, bundle.json and the page.
    (verify_open checks the same on its columns: _Digests.check.)
    """
    layout = signed.layout
    listed, described = signed.sums.entries, signed.meta.files
    unlisted: list[str] = []
    content: list[tuple[str, str]] = []
    for path, size in present.items():
        if path in (layout.sums, layout.sig) or is_endorsement(path, layout):
            continue
        if path not in listed:
            unlisted.append(path)
        elif path in changed:
            content.append((path, f"changed: {path} (sha256 does not match)"))
        elif path in described and described[path].size != size:
            content.append((path, f"size differs from bundle.json: {path}"))
    absent = [p for p in listed if p not in present and p not in taken]
    return _content_verdict(layout, tuple(sorted(absent)), sorted(unlisted), [p for _, p in sorted(content)], part,
                            more=more, first=first)


def verify_bundle(path: Path, keys: Keys, limits: Limits | None = None, expect_key: PublicKeyFile | None = None,
                  policy: Policy | None = None, parts: bool = False, volumes: bool = False,
                  cache: VerifiedCache | None = None) -> VerifiedBundle:
    """Check a bundle received by hand; return it only if every check passes.

    Args:
        path: the bundle; opened read-only.
        keys: the reader's keyring (or a snapshot of it); None trusts nobody (the signer is then only shown).
        limits: caps on size and member count.
        expect_key: check against exactly this key (used by create's self-check).
        policy: who must have signed for the bundle to be trusted (default: its author is in the keyring).
        parts: accept a part of a split bundle (docs/resharing.md); its `missing` lists what it lacks. Without it,
            a part fails like any bundle with missing files.
        volumes: read `X.7z.001` as the whole set of 7-Zip volumes beside it (sevenzip/volumes.py). Only for a
            caller that does not pass the file itself on (publish or seed would pass on the first volume alone).
        cache: what this machine already checked (publish and fetch only; bundle/verified.py): an unchanged
            file is checked without decoding its data; a file verified in full is recorded in it.

    Raises:
        VerificationError: the bundle must not be trusted.
        ConfigError: `path` is a FIFO, device or socket (refused before it is opened).
        OSError: the file cannot be read.
    """
    return _verify_bundle(path, keys, limits, expect_key, policy, parts, volumes, cache)


def _verify_bundle(path: Path, keys: Keys, limits: Limits | None, expect_key: PublicKeyFile | None,
                   policy: Policy | None, parts: bool, volumes: bool, cache: VerifiedCache | None) -> VerifiedBundle:
    keys, limits, policy = snapshot(keys), limits or Limits(), policy or AuthorTrusted()
    if volumes:  # several files: no one stat to key a cache entry by
        with open_archive_file(path) as fp:
            return verify_open(fp, keys, limits, policy, expect_key, parts=parts).result(path)
    with open_regular(path) as fp:
        before = os.fstat(fp.fileno())
        facts = cache.get(before) if cache is not None else None
        if facts is not None and facts.sums is not None:
            with contextlib.suppress(_Stale):
                return verify_open(fp, keys, limits, policy, expect_key, facts.sums, parts=parts).result(path)
        checked = verify_open(fp, keys, limits, policy, expect_key, parts=parts)
        if cache is not None and not checked.missing and checked.part is None:
            from mirror.bundle.verified import Facts  # publish and fetch only: verify starts without it

            sums = checked.signed.control.sha256(SUMS_NAME)
            cache.record(before, os.fstat(fp.fileno()), Facts(sums=sums))
    return checked.result(path)
