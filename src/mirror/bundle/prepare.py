"""Everything create checks before anything is signed: one pass that reads, cleans, hashes and scans each file.

Example::

    prepared = prepare_bundle(CreateRequest(src=Path("seeds"), out=Path("x.7z")))
    prepared.refused     # every file create will not bundle, with its reason and fix
    prepared.findings    # phone numbers, e-mail addresses, IINs in texts, names and the title (masked)
    prepared.notes       # renamed, converted, repaired, left out, kept as it is, allowed
    if prepared.ok:
        write_bundle(prepared, secret)   # bundle/create.py: sign and write, nothing is checked twice

The author sees every problem of a run at once, before the passphrase is
asked; nothing about findings, allowances or original names goes into
bundle.json.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from mirror.bundle.accounts import read_account
from mirror.bundle.caps import check_meta, check_sources, entry_size
from mirror.bundle.checked import CheckedFiles
from mirror.bundle.inorder import in_order
from mirror.bundle.sourcelist import SourceFile, SourceList
from mirror.bundle.sources import Refusal, SourceOptions, collect_sources, covered
from mirror.errors import IdentifiersFound, InputError, PhotoError
from mirror.formats.manifest import MAX_META_BYTES, MAX_TEXT
from mirror.formats.media import CLEANED_FORMATS
from mirror.formats.names import printable
from mirror.heap import reuse_large_buffers
from mirror.privacy.clean import Cleaned, clean_photo
from mirror.privacy.exif import Recipe
from mirror.privacy.findings import MAX_FINDINGS, MAX_PER_FILE, Finding
from mirror.privacy.identifiers import Checks, find_identifiers, mask, scan_text_kept
from mirror.privacy.jpeg import REPAIR_HINT
from mirror.privacy.names import scan_name
from mirror.privacy.scan import scan_photo
from mirror.privacy.strip import detect_kind, is_heif
from mirror.privacy.texts import Decoded, decode_text
from mirror.record import field, record
from mirror.safeio import read_regular
from mirror.sevenzip.writer import TEXT_BLOCK, SpooledTexts


@record
class CreateRequest:
    """What the author asked for."""

    src: Path
    out: Path
    title: str = ""
    force: bool = False
    keep_metadata: frozenset[str] = field(default_factory=frozenset)  # paths relative to src
    commit_originals: bool = False
    bundle_id: str | None = None
    version: int = 1
    created: str | None = None  # fixed only to rebuild a golden test bundle byte for byte
    allow_identifiers: bool = False
    allow: frozenset[str] = field(default_factory=frozenset)  # paths relative to src
    keep_text: frozenset[str] = field(default_factory=frozenset)  # texts signed as they are, though they look damaged
    keep_names: bool = False
    convert_heic: bool = False
    text_encoding: str | None = None
    supersedes: str | None = None


NoteKind = Literal["renamed", "converted", "repaired", "left out", "kept", "allowed", "colours"]


@record
class Note:
    """Something the author should know about one file: what, which file, and the detail."""

    what: NoteKind
    path: str
    detail: str
    kind: str = ""  # an allowed or kept finding's kind ("phone", "gps"), said apart from its detail as in "found"


@record
class Prepared:
    """The result of the checking pass: what would be signed, and every problem with it."""

    request: CreateRequest
    items: SourceList  # sorted by member name
    files: CheckedFiles  # each accepted file's digest, size, type and bundle.json fields
    languages: tuple[str, ...]
    salts: dict[str, str]
    refused: tuple[Refusal, ...]
    findings: tuple[Finding, ...]
    notes: tuple[Note, ...]
    # For a photo cleaned by ranges of its original: the file's stat when it was read, and the recipe. The writing
    # pass rebuilds it from the same file without parsing or hashing it again (the self-check verifies the result).
    recipes: dict[str, tuple[tuple[int, ...], Recipe]] = field(default_factory=dict)
    # The accounts as hashed, compressed during the pass (on the other cores); the writing pass copies them in.
    # None: not spooled (nothing will be signed, or the spool failed): the writing pass compresses them.
    texts: SpooledTexts | None = None
    # Findings of a text past the first MAX_PER_FILE, counted and not kept: path -> how many (blocking ones only).
    unlisted: dict[str, int] = field(default_factory=dict)
    # Past MAX_FINDINGS: identifiers that stop create in files none of whose findings are listed, and those files.
    elsewhere: tuple[int, int] = (0, 0)

    @property
    def digests(self) -> Mapping[str, str]:
        """Member name -> sha256 hex of the bytes create stores for it."""
        return self.files.digests

    @property
    def ok(self) -> bool:
        """Whether nothing stops the bundle from being signed."""
        return not self.refused and not self.findings and not self.unlisted and not self.elsewhere[0]

    def release(self) -> None:
        """Let go of the file lists (about 100 bytes a file): write_bundle does once the bundle is written, so
        that its self-check does not run beside them. The counts, notes and findings stay."""
        self.items.clear()
        self.files.clear()
        self.recipes.clear()
        if self.texts is not None:
            self.texts.close()

    def check(self) -> None:
        """Raise the error that stops create, if any.

        Raises:
            InputError: files were refused (exit 2).
            IdentifiersFound: identifiers found and not allowed (exit 6).
        """
        if self.refused:
            raise InputError(f"{len(self.refused)} file(s) in {self.request.src} cannot be bundled; nothing was "
                             "signed", hint="fix each file as listed, then run create again")
        if not self.ok:
            found = len(self.findings) + sum(self.unlisted.values()) + self.elsewhere[0]
            raise IdentifiersFound(f"{found:,} personal identifier(s) in what would be signed; nothing was signed",
                                     hint="remove them; or pass --allow FILE for a file you checked, or "
                                     "--allow-identifiers")


def stored_bytes(item: SourceFile, raw: bytes, request: CreateRequest) -> tuple[bytes, Decoded | Cleaned]:
    """The bytes create stores for `item`, and what produced them (a Decoded text or a Cleaned photo).

    Raises:
        InputError: a text create refuses (encoding, control characters).
        PhotoError: a photo that cannot be cleaned or converted.
    """
    if item.kind == "account":
        decoded = decode_text(raw, item.relative, request.text_encoding,
                              as_it_is=covered(item.relative, request.keep_text))  # a folder's texts too
        return decoded.data, decoded
    treatment = item.treatment
    if treatment == "clean" and request.convert_heic and is_heif(raw):
        treatment = "convert"
    if treatment != "convert":
        _check_named_as_it_is(raw, item)
    cleaned = clean_photo(raw, item.relative, treatment)
    return cleaned.data, cleaned


def _check_named_as_it_is(raw: bytes, item: SourceFile) -> None:
    """Refuse a photo whose content is another of the four formats than its name says (a PNG named .jpg): the
    cleaner goes by the content, but bundle.json would sign the type the name says, and readers open it by name.

    Raises:
        PhotoError: named as another format; the hint gives the name to use.
    """
    if item.media_type not in {kind[0] for kind in CLEANED_FORMATS.values()}:
        return
    try:
        kind = detect_kind(raw[:64], item.relative)
    except PhotoError:
        return  # not one of the four: the cleaner says what it is
    media_type, described, suffix = CLEANED_FORMATS[kind]
    if media_type != item.media_type:
        stem, named = item.relative.rsplit("/", 1)[-1].rsplit(".", 1)[0], _described(item.media_type)
        raise PhotoError(item.relative, f"{described}, named as {named}",
                         hint=f"rename it to {stem}{suffix}: its name says how readers open it")


def _described(media_type: str) -> str:
    """'a JPEG image' for image/jpeg (one of CLEANED_FORMATS)."""
    return next(described for kind_type, described, _ in CLEANED_FORMATS.values() if kind_type == media_type)


@dataclasses.dataclass(slots=True)
class _Pass:
    """What the checking pass gathers."""

    files: CheckedFiles = dataclasses.field(default_factory=CheckedFiles)
    languages: set[str] = dataclasses.field(default_factory=set)
    salts: dict[str, str] = dataclasses.field(default_factory=dict)
    refused: list[Refusal] = dataclasses.field(default_factory=list)
    meta_size: int = 0  # about what bundle.json will take (bundle/caps.py)
    findings: list[Finding] = dataclasses.field(default_factory=list)
    unlisted: dict[str, int] = dataclasses.field(default_factory=dict)  # a text's findings past MAX_PER_FILE
    # Texts none of whose findings are kept (past MAX_FINDINGS): [identifiers, files], those that stop create and
    # those allowed.
    elsewhere: list[int] = dataclasses.field(default_factory=lambda: [0, 0])
    allowed_elsewhere: list[int] = dataclasses.field(default_factory=lambda: [0, 0])
    notes: list[Note] = dataclasses.field(default_factory=list)
    recipes: dict[str, tuple[tuple[int, ...], Recipe]] = dataclasses.field(default_factory=dict)
    texts: SpooledTexts | None = None  # None once a file is refused: nothing will be written
    accounts_done: bool = False  # a photo was recorded: no account comes after (names sort accounts/ first)
    # The author's own collection: every candidate of every file is judged by libphonenumber, not by shape past a
    # budget, which is for scan's input (anyone's): a number shapes miss would be signed.
    checks: Checks = dataclasses.field(default_factory=lambda: Checks(1 << 62, 1 << 62))


def _account(item: SourceFile, decoded: Decoded, request: CreateRequest, state: _Pass) -> tuple[dict[str, Any], bool]:
    """Read and scan one account into `state`: its bundle.json fields, and whether it holds identifiers that stop
    create."""
    account = read_account(decoded.data, item.relative)
    state.languages.add(account.language)
    room = max(0, min(MAX_PER_FILE, MAX_FINDINGS - len(state.findings)))  # memory flat in the number found
    kept, more = scan_text_kept(decoded.text, item.relative, room, state.checks)
    state.findings += kept
    stops = bool(kept or more) and _stops(item.relative, request)
    if more and kept:
        state.unlisted[item.relative] = more
    elif more:  # past MAX_FINDINGS: counted with the other files that have no room either
        counts = state.elsewhere if stops else state.allowed_elsewhere
        counts[0] += more
        counts[1] += 1
    if decoded.converted:
        state.notes.append(Note("converted", item.relative, f"from {decoded.converted} to UTF-8"))
    return {"language": account.language, **account.fields}, stops


def _photo(item: SourceFile, raw: bytes, cleaned: Cleaned, request: CreateRequest, state: _Pass) -> dict[str, Any]:
    record = dict(cleaned.record)
    state.notes += [Note("converted" if "converted" in record else "repaired", item.relative, note)
                    for note in cleaned.notes]
    if cleaned.colours:  # removed with the rest of the metadata: the author sees why the photo looks different
        profile = cleaned.colours
        state.notes.append(Note("colours", item.relative, f"its colour profile '{profile}' was removed with the "
                                "metadata: its colours may look different (often darker or duller)"
                                if profile != "unnamed" else "its colour profile (one without a name) was removed "
                                "with the metadata: its colours may look different (often darker or duller)"))
    if record["metadata"] == "kept":
        try:  # each kind said apart from its detail, which is in the author's language
            reveals = [Note("kept", item.relative, f.detail, f.kind) for f in scan_photo(raw, item.relative)]
        except PhotoError:
            reveals = [Note("kept", item.relative, "what it reveals cannot be read by mirror")]
        # its name and folders are kept too: a capture time or a camera's folder in them is said with the rest
        reveals += [Note("kept", item.relative, f.detail, f.kind) for f in scan_name(item.member, True, state.checks)
                    if f.kind == "name"]
        state.notes += reveals or [Note("kept", item.relative, "nothing mirror can see")]
    elif request.commit_originals:
        salt = secrets.token_hex(32)
        record["original_sha256_salted"] = hashlib.sha256(bytes.fromhex(salt) + raw).hexdigest()
        state.salts[item.member] = salt
    return {"privacy": record}


def file_key(path: Path) -> tuple[int, ...]:
    """What changes whenever a file is written, replaced or truncated: device, inode, size, mtime, ctime."""
    st = os.stat(path)
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


@record
class _Examined:
    """What reading one file found, before anything is recorded: on a worker thread for photos."""

    before: tuple[int, ...]  # file_key before it was read
    raw: bytes  # the file as read, when recording needs it (--commit-originals, --keep-metadata), else empty
    data: bytes = b""  # what create stores
    made: Decoded | Cleaned | None = None
    digest: bytes = b""  # SHA-256 of data
    unchanged: bool = False  # file_key after cleaning is still `before`
    error: InputError | None = None


def _examine(item: SourceFile, request: CreateRequest) -> _Examined:
    """Read, convert or clean, and hash one file (reading and hashing release the interpreter's lock)."""
    try:
        before = file_key(item.path)
        raw = read_regular(item.path)  # a FIFO swapped in since the folder was listed is refused, not waited on
    except OSError as exc:  # listed with the other refusals: one unreadable file does not hide the rest
        reason = f"{item.relative}: cannot be read: {exc.strerror or exc}"
        return _Examined((), b"", error=InputError(reason, hint="make it readable for you, or move it out of the "
                                                               "folder"))
    try:
        data, made = stored_bytes(item, raw, request)
    except InputError as exc:
        return _Examined(before, b"", error=exc)
    unchanged = isinstance(made, Cleaned) and bool(made.recipe) and file_key(item.path) == before
    # what _photo reads it for (metadata kept: `data` is `raw` anyway, so holding it costs nothing)
    needed = request.commit_originals or (isinstance(made, Cleaned) and made.record.get("metadata") == "kept")
    return _Examined(before, raw if needed else b"", data, made, hashlib.sha256(data).digest(), unchanged)


def _repair_hint(item: SourceFile) -> str:
    """How to repair a photo a cleaner cannot read: saved again in its own format (a PNG or GIF saved as JPEG would
    lose its transparency or animation)."""
    saved_as = {"image/png": "PNG", "image/webp": "WebP", "image/gif": "GIF"}.get(item.media_type)
    if saved_as is None:
        return REPAIR_HINT
    return f"open it in an image editor and save it again as {saved_as}, then check it with mirror scan"


def _refuse(item: SourceFile, exc: InputError, state: _Pass) -> None:
    fix = exc.hint or (_repair_hint(item) if isinstance(exc, PhotoError) else "save it as plain UTF-8 text")
    state.refused.append(Refusal(item.relative, str(exc).removeprefix(f"{item.relative}: "), fix))
    _stop_texts(state)


def _stop_texts(state: _Pass) -> None:
    """Stop compressing: nothing will be written (a file refused, an identifier found), or the spool failed (a
    full disk: the writing pass compresses instead, and says so after the author saw the report)."""
    if state.texts is not None:
        state.texts.close()
        state.texts = None


def _spool(state: _Pass, work: Callable[[SpooledTexts], None]) -> None:
    """`work` on the spool, if there is one; the spool is given up if it fails."""
    if state.texts is not None:
        try:
            work(state.texts)
        except OSError:
            _stop_texts(state)


def _stops(path: str, request: CreateRequest) -> bool:
    """Whether identifiers found in `path` stop create: unless --allow or --allow-identifiers let them through."""
    return not request.allow_identifiers and not covered(path, request.allow)


def _blocking(findings: Iterable[Finding], request: CreateRequest) -> list[Finding]:
    """The findings that stop create."""
    return [f for f in findings if _stops(f.path, request)]


def _record(item: SourceFile, seen: _Examined, request: CreateRequest, state: _Pass) -> None:
    """Scan one examined file and record it; a problem becomes a refusal. In the order of the files."""
    made = seen.made
    try:
        if seen.error is not None:
            raise seen.error
        if isinstance(made, Decoded):
            extra, stops = _account(item, made, request, state)
            if stops:
                _stop_texts(state)  # nothing will be signed this run
        elif isinstance(made, Cleaned):
            extra = _photo(item, seen.raw, made, request, state)
        else:
            raise AssertionError("examined without a result or an error")
    except InputError as exc:
        _refuse(item, exc, state)
        return
    if item.member in state.files:
        return  # a second file with this name in the bundle: collect_sources refused it already
    if isinstance(made, Decoded):  # the very bytes hashed and scanned: nothing to read or compare again
        _spool(state, lambda texts: texts.add(item.member, seen.data))
    elif not state.accounts_done:
        state.accounts_done = True
        _spool(state, lambda texts: texts.flush())  # the last accounts' block: compressed while the photos are checked
    if isinstance(made, Cleaned) and seen.unchanged:
        state.recipes[item.member] = (seen.before, made.recipe)
    state.files.add(item.member, seen.digest, len(seen.data), item.media_type, extra)
    state.meta_size += entry_size(item.member, extra)
    if state.meta_size > MAX_META_BYTES:
        check_meta(state.meta_size)  # stop at once: the rest would be read for nothing


def _in_flight(item: SourceFile) -> int:
    """What examining `item` holds until it is recorded: the file read and what is stored of it."""
    return 2 * item.size


def _name_findings(items: Iterable[SourceFile], title: str, run: Checks) -> list[Finding]:
    """Identifiers in the names files get in the bundle, and in its title."""
    found = [Finding(item.relative, f.kind, f"{f.detail} (named {item.member} in the bundle)")
             for item in items for f in scan_name(item.member, False, run)]
    return found + [Finding("--title", kind, mask(value)) for kind, value, _, _ in find_identifiers(title, run)]


def _check_title(title: str, src: Path) -> None:
    """The title readers see on one line: text (a folder named in cp1251 or cp866, as Windows zip files bring
    them, is no UTF-8 and broke the page after the passphrase was asked), no control characters, some words.

    Raises:
        InputError: it is none of these, with the fix.
    """
    given = bool(title)
    title = title or src.resolve().name
    if any("\udc80" <= char <= "\udcff" for char in title):
        if given:
            raise InputError("the title is not UTF-8 text", hint="type it again in a terminal set to UTF-8")
        raise InputError(f"the folder name {printable(title)} is not UTF-8 text, and it would be the title",
                         hint='give a title: --title "..."')
    if given and not title.strip():
        raise InputError("the title is empty", hint='give a title with words: --title "..."')
    if any(unicodedata.category(char) == "Cc" for char in title):
        raise InputError(f"the title {printable(title)} holds control characters (a line break, an escape)",
                         hint='give a title on one line: --title "..."')


def prepare_bundle(request: CreateRequest) -> Prepared:
    """Collect, read, clean or convert, hash and scan every source file; list every problem.

    Raises:
        InputError: SRC is not a folder or holds nothing at all, the title is too long, or the bundle would break
            a bound of docs/format.md (bundle/caps.py: checked before the files are read, bundle.json's as it grows).
        OSError: a source file cannot be read.
    """
    if len(request.title) > MAX_TEXT:
        raise InputError(f"the title has {len(request.title)} characters, more than {MAX_TEXT}",
                         hint="give a shorter --title; readers see it on one line")
    _check_title(request.title, request.src)
    options = SourceOptions(request.keep_metadata, request.convert_heic, request.keep_names)
    collected = collect_sources(request.src, options)
    if not collected.files and not collected.refused:
        raise InputError(f"{request.src} holds no accounts or photos")
    check_sources(collected.files)
    if sum(f.size for f in collected.files if f.kind == "account") < TEXT_BLOCK:
        reuse_large_buffers()  # heap.py: photos reuse freed buffers faster than the system maps new ones
    beside = request.out.parent if request.out.parent.is_dir() else None  # like create's other temporary files
    state = _Pass(CheckedFiles(collected.files.names, beside), refused=list(collected.refused))
    named = _name_findings(collected.files, request.title or request.src.resolve().name, state.checks)
    if beside is not None and not state.refused and not _blocking(named, request) \
            and any(f.kind == "account" for f in collected.files):
        with contextlib.suppress(OSError):  # no spool (a read-only folder): the writing pass compresses
            state.texts = SpooledTexts(beside)
    try:
        _check_all(collected.files, request, state)
    except BaseException:
        _stop_texts(state)
        raise
    state.notes += [Note("left out", path, what) for path, what in collected.skipped]
    state.notes += [Note("renamed", f.relative, f"to {f.member}: its name carried {why}")
                    for f in collected.files if (why := collected.renamed.get(f.relative)) is not None]
    findings = state.findings + named
    blocked = _blocking(findings, request)
    stopping = set(blocked)
    state.notes += [Note("allowed", f.path, f.detail, f.kind) for f in findings if f not in stopping]
    unlisted = {path: more for path, more in state.unlisted.items() if _stops(path, request)}
    state.notes += [Note("allowed", path, f"and {more:,} more identifier(s), not listed")
                    for path, more in state.unlisted.items() if path not in unlisted]
    allowed_elsewhere, allowed_files = state.allowed_elsewhere
    if allowed_files:
        state.notes.append(Note("allowed", f"{allowed_files:,} more file(s)",
                                f"{allowed_elsewhere:,} identifier(s), not listed"))
    return Prepared(request, collected.files, state.files, tuple(sorted(state.languages)),
                    state.salts, tuple(state.refused), tuple(blocked), tuple(state.notes), state.recipes,
                    state.texts, unlisted, (state.elsewhere[0], state.elsewhere[1]))


def _check_all(items: SourceList, request: CreateRequest, state: _Pass) -> None:
    """The checking pass proper: each file examined (photos on two threads; a HEIC converted is decoded whole, so
    with --convert-heic one at a time), then recorded in order; accepted accounts compressed as they come."""
    for item, seen in in_order(lambda item: _examine(item, request), items, cost=_in_flight,
                               pooled=lambda item: item.kind == "photo" and not request.convert_heic):
        _record(item, seen, request, state)
        del item, seen  # not held while the next is read and cleaned
    _spool(state, lambda texts: texts.finish())
