"""SHA256SUMS and bundle.json as values; exact bytes in and out, no I/O.

Example::

    sums = Sums({"bundle.json": "ab12...", "accounts/a.md": "cd34..."})
    raw = sums.to_bytes()                   # what the author signs
    assert Sums.from_bytes(raw) == sums     # strict: sorted, LF, NFC, lower-case hex

    meta = BundleMeta.from_bytes(raw_json)  # only after its hash matched SHA256SUMS
    for path, described in file_details(raw_json):   # one file at a time, for `show`
        print(path, described.extra.get("title"))

The format is docs/format.md. We write both ends, so unknown fields are errors
and a new field means a new format version. Every size, count and string has a
cap (docs/format.md, "Bounds"), checked as it is read: what a signer wrote can
cost at most what those caps allow.
"""

from __future__ import annotations

import binascii
import bisect
import io
import json
import re
from array import array
from collections import Counter
from collections.abc import Callable, Collection, Container, Iterable, Iterator, Mapping, Sequence
from typing import Any, BinaryIO, overload

from mirror.errors import ManifestError
from mirror.formats.jsonstream import JsonReader
from mirror.formats.media import MEDIA_TYPES, media_for
from mirror.formats.names import MAX_NAME_BYTES, name_problem, printable
from mirror.formats.table import KeyedIndex, NameColumn, NameRefs
from mirror.record import field, record

# The technical files by their logical names; where they live in a bundle depends on its Layout.
SUMS_NAME = "SHA256SUMS"
SIG_NAME = "SHA256SUMS.minisig"
META_NAME = "bundle.json"
AUTHOR_KEY_NAME = "author.pub"
ENDORSEMENT_DIR = "endorsements/"
PAGE_NAME = "index.html"  # the reader's page, format 2 (bundle/page.py)
# The page's LZMA2 block is cut into pieces of this much input (create compresses each as the page is rendered;
# split and join cut it the same way, so that a joined bundle is the original byte for byte). Fixed: the bytes
# depend on the sizes alone.
PAGE_PIECE = 2 << 20
PAGE_TYPE = "text/html"
# Accounts and photos in one bundle: create refuses more before reading any. Create and verify keep members in
# columns and the two signed lists in temporary files (bench/analysis.md, "A million accounts"): a million stay
# under 200 MB in either.
MAX_FILES = 1_000_000
# Members of a bundle; so also lines of SHA256SUMS and files in bundle.json: the files, the page, the signed
# files, up to 100 endorsements and 10,000 folder entries a 7-Zip repack may add, with room to spare.
MAX_MEMBERS = MAX_FILES + 20_000
MAX_SUMS_BYTES = 256 * 1024 * 1024  # 1,020,000 lines with paths of 190 bytes
MAX_META_BYTES = 512 * 1024 * 1024  # 1,000,000 files at up to ~500 bytes each (an account with its four fields ~300)
MAX_TEXT = 1000  # characters of a title, place, source or other text field
MAX_LANGUAGES = 100
_LINE = re.compile(rb"([0-9a-f]{64})  ([^\n]+)\n")
_MAX_LINE = 64 + 2 + 4 * MAX_NAME_BYTES + 1  # a longer line's name breaks the name rules, whatever it is
BUNDLE_ID = re.compile(r"[a-z0-9][a-z0-9-]{7,63}")
_META_KEYS = {"format", "id", "version", "title", "created", "languages", "author_key", "supersedes", "files"}
_TEXT_KEYS = {"language": 35, "title": MAX_TEXT, "date": MAX_TEXT, "place": MAX_TEXT, "source": MAX_TEXT}
_PRIVACY_LISTS = ("removed", "kept")
_PRIVACY_KEYS = {"metadata", *_PRIVACY_LISTS, "original_sha256_salted", "converted"}
_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_ENTRY_BYTES = 64 * 1024  # one file's entry: five text fields of 1,000 characters, escaped, fit
_MEDIA = {media: media for media in MEDIA_TYPES}  # one shared string per type, however many files name it
_MEDIA[PAGE_TYPE] = PAGE_TYPE  # only for the page itself (format 2)
_TYPES = tuple(_MEDIA)  # a file's type as its position here, one byte (FileColumns)
_TYPE_CODES = {media: code for code, media in enumerate(_TYPES)}


@record
class Layout:
    """Where a bundle keeps its technical files (docs/format.md, "Layouts").

    Format 1 keeps SHA256SUMS, its signature, author.pub, bundle.json and endorsements/ at the root, beside the
    accounts and photos. Format 2 keeps them under `.mirror/`, so that a reader who extracts a bundle sees only
    the page (index.html), the accounts and the photos; SHA256SUMS lists every path from the root, so
    `sha256sum -c .mirror/SHA256SUMS` works from the extracted folder.
    """

    format: str
    prefix: str

    def member(self, logical: str) -> str:
        """The member name of a technical file: `Layout.member(META_NAME)` -> ".mirror/bundle.json"."""
        return self.prefix + logical

    @property
    def sums(self) -> str:
        """The member holding SHA256SUMS."""
        return self.member(SUMS_NAME)

    @property
    def sig(self) -> str:
        """The member holding the author's signature."""
        return self.member(SIG_NAME)

    @property
    def meta(self) -> str:
        """The member holding bundle.json."""
        return self.member(META_NAME)

    @property
    def author_key(self) -> str:
        """The member holding author.pub."""
        return self.member(AUTHOR_KEY_NAME)

    @property
    def endorsements(self) -> str:
        """The folder of endorsements, with its trailing slash."""
        return self.member(ENDORSEMENT_DIR)

    @property
    def control(self) -> dict[str, str]:
        """Member name -> logical name of the four signed technical files."""
        return {self.member(n): n for n in (SUMS_NAME, SIG_NAME, AUTHOR_KEY_NAME, META_NAME)}

    @property
    def has_page(self) -> bool:
        """Whether bundles of this layout carry the reader's page."""
        return bool(self.prefix)


V1 = Layout("mirror-bundle/1", "")
V2 = Layout("mirror-bundle/2", ".mirror/")
CURRENT = V2
LAYOUTS = (V1, V2)
FORMATS = {layout.format: layout for layout in LAYOUTS}


def layout_of(names: Container[str]) -> Layout | None:
    """The layout whose SHA256SUMS is among `names` (None for neither, or for both: not a bundle we made)."""
    found = [layout for layout in LAYOUTS if layout.sums in names]
    return found[0] if len(found) == 1 else None


def trusted_comment(bundle_id: str, version: int) -> str:
    """The line the author's signature binds to SHA256SUMS."""
    return f"bundle:{bundle_id}\tversion:{version}\trole:author"


_BISECTIONS = 4096  # lookups by bisection before SumsTable builds its index


class SortedKeys:
    """A mapping whose keys iterate in sorted order: written as they come, never sorted into a list first."""

    __slots__ = ()


def in_order(entries: Mapping[str, object]) -> Iterable[str]:
    """The keys of `entries` in sorted order."""
    return entries if isinstance(entries, SortedKeys) else sorted(entries)


class SumsTable(SortedKeys, Mapping[str, str]):
    """SHA256SUMS as parsed: path -> sha256 hex, in columns.

    The paths as UTF-8 in one buffer with their ends, the digests as 32 bytes each: about 40 bytes a line
    beyond the paths, where a dict of strings would take about 250 and the file itself 67. Iterates in the
    file's order, which is sorted by path (Sums.read refuses any other); `Sums.to_bytes` gives the file back byte
    for byte.
    """

    __slots__ = ("_lookup", "_searches", "digests", "names")

    def __init__(self, names: NameColumn | NameRefs, digests: bytearray) -> None:
        """`names` strictly sorted (Sums.read checked), `digests` 32 bytes for each."""
        self.names, self.digests = names, digests
        self._lookup: KeyedIndex | None = None
        self._searches = 0

    @property
    def lookup(self) -> KeyedIndex:
        """The index of the paths (4 bytes a line and more), built once lookups are many (`_find`)."""
        if self._lookup is None:
            self._lookup = KeyedIndex(len(self.names), self.names.raw)
            self._lookup.add_all(len(self.names))  # no path comes twice: they are strictly sorted
        return self._lookup

    def near(self, raw: bytes, hint: int) -> int | None:
        """The line of the path `raw` (UTF-8), tried first at line `hint`: walking a list sorted like this one,
        the next line is most often the one."""
        if 0 <= hint < len(self.names) and self.names.raw(hint) == raw:
            return hint
        return self._find(raw)

    def _find(self, raw: bytes) -> int | None:
        """The line of `raw`: by bisection for the first few thousand lookups (a bundle made by mirror create
        needs a handful: the files of SHA256SUMS not in bundle.json, the unsigned members), then by the index."""
        if self._lookup is not None or self._searches >= _BISECTIONS:
            return self.lookup.find(raw)
        self._searches += 1
        lo, hi = 0, len(self.names)
        while lo < hi:  # UTF-8 sorts as the code points it encodes: the list's own order
            mid = (lo + hi) // 2
            if self.names.raw(mid) < raw:
                lo = mid + 1
            else:
                hi = mid
        return lo if lo < len(self.names) and self.names.raw(lo) == raw else None

    def raw_path(self, j: int) -> bytes:
        """Line `j`'s path, as UTF-8."""
        return self.names.raw(j)

    def path(self, j: int) -> str:
        """Line `j`'s path."""
        return self.names.raw(j).decode("utf-8")

    def digest(self, j: int) -> str:
        """Line `j`'s sha256, in hex."""
        return self.digests[32 * j : 32 * j + 32].hex()

    def find(self, path: str) -> int | None:
        """The line listing `path`, or None."""
        return self._find(path.encode("utf-8", "surrogatepass"))

    def __getitem__(self, path: str) -> str:
        j = self.find(path)
        if j is None:
            raise KeyError(path)
        return self.digest(j)

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and self.find(path) is not None

    def __iter__(self) -> Iterator[str]:
        return (self.path(j) for j in range(len(self.names)))

    def __len__(self) -> int:
        return len(self.names)


class SumsLines(Sequence[str]):
    """Some of a SumsTable's paths, in its order, as a view: the lines a part lacks are 4 bytes each here, where
    a tuple of strings would take about a hundred."""

    __slots__ = ("lines", "sums")

    def __init__(self, sums: SumsTable, lines: Iterable[int]) -> None:
        self.sums, self.lines = sums, array("I", lines)

    def __len__(self) -> int:
        return len(self.lines)

    @overload
    def __getitem__(self, i: int) -> str: ...

    @overload
    def __getitem__(self, i: slice) -> list[str]: ...

    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self.sums.path(j) for j in self.lines[i]]
        return self.sums.path(self.lines[i])

    def __iter__(self) -> Iterator[str]:
        return (self.sums.path(j) for j in self.lines)

    def __contains__(self, path: object) -> bool:
        j = self.sums.find(path) if isinstance(path, str) else None
        if j is None:
            return False
        at = bisect.bisect_left(self.lines, j)  # the lines are in order
        return at < len(self.lines) and self.lines[at] == j


@record
class Sums:
    """The signed root: path -> sha256 hex of every listed file."""

    entries: Mapping[str, str]  # a dict when made to be written; a SumsTable when parsed

    def to_bytes(self) -> bytes:
        """GNU sha256sum lines, sorted by path, LF endings, UTF-8.

        Line by line: `entries` may make each digest as it is asked for (bundle/checked.py), and a million of
        them are never held as strings at once.
        """
        return b"".join(self.pieces())

    def pieces(self, size: int = 1 << 20) -> Iterator[bytes]:
        """to_bytes() in pieces of about `size` bytes: a million lines are never held at once."""
        out = bytearray()
        for path in in_order(self.entries):
            out += f"{self.entries[path]}  {path}\n".encode()
            if len(out) >= size:
                yield bytes(out)
                out.clear()
        if out:
            yield bytes(out)

    @classmethod
    def from_bytes(cls, raw: bytes, layout: Layout = V1, max_lines: int | None = None,
                   max_bytes: int | None = None) -> Sums:
        """Parse SHA256SUMS strictly (call only after its signature checked out).

        In format 2, nothing under `.mirror/` but bundle.json and author.pub may be listed. The caps default
        to MAX_MEMBERS lines and MAX_SUMS_BYTES (docs/format.md, "Bounds").

        Raises:
            ManifestError: any deviation from the format.
        """
        if len(raw) > (MAX_SUMS_BYTES if max_bytes is None else max_bytes):
            raise ManifestError("SHA256SUMS is too large")
        if not raw.endswith(b"\n") or b"\r" in raw:
            raise ManifestError("SHA256SUMS must be LF-terminated lines")
        return cls.read(io.BytesIO(raw), layout, max_lines, max_bytes)

    @classmethod
    def read(cls, source: BinaryIO, layout: Layout = V1, max_lines: int | None = None,
             max_bytes: int | None = None, names: NameRefs | None = None) -> Sums:
        """from_bytes, reading SHA256SUMS line by line from `source` (never held whole: a million lines are
        about 90 MB). `names`: where the paths go, empty, when most are already held elsewhere (verify passes
        the archive's members: a path the header names costs 4 bytes instead of its bytes again).

        Raises:
            ManifestError: as from_bytes.
        """
        cap = MAX_MEMBERS if max_lines is None else max_lines
        size_cap = MAX_SUMS_BYTES if max_bytes is None else max_bytes
        column: NameColumn | NameRefs = NameColumn() if names is None else names
        digests = bytearray()
        previous, size, number = b"", 0, 0
        # Line by line from bytes: one decoded copy of the whole file would be four times its size if a
        # single path held an astral character; one object per line would be several times its size.
        while line := source.readline(_MAX_LINE + 1):
            size += len(line)
            if size > size_cap:
                raise ManifestError("SHA256SUMS is too large")
            number += 1
            if number > cap:
                raise ManifestError(f"SHA256SUMS lists more than {cap} files")
            if b"\r" in line or (not line.endswith(b"\n") and len(line) <= _MAX_LINE):
                raise ManifestError("SHA256SUMS must be LF-terminated lines")
            match = _LINE.fullmatch(line)
            if match is None:
                raise ManifestError(f"SHA256SUMS line {number} is malformed")
            raw_path = match[2]
            try:
                path = raw_path.decode("utf-8")
            except UnicodeDecodeError:
                raise ManifestError(f"SHA256SUMS line {number} is not UTF-8") from None
            problem = name_problem(path)
            if problem is not None:
                raise ManifestError(f"SHA256SUMS line {number}: '{printable(path)}': {problem}")
            if raw_path == previous:
                raise ManifestError(f"SHA256SUMS lists {path} twice")
            if raw_path < previous:  # strictly sorted (UTF-8 sorts as its code points): no path can come twice
                raise ManifestError(f"SHA256SUMS is not sorted at line {number}")
            if path in (layout.sums, layout.sig) or path.startswith(layout.endorsements) or (
                    layout.prefix and path.startswith(layout.prefix) and path not in (layout.meta, layout.author_key)):
                raise ManifestError(f"SHA256SUMS must not list {printable(path)}")
            column.append(raw_path)
            digests += binascii.a2b_hex(match[1])
            previous = raw_path
        table = SumsTable(column, digests)
        for required in (layout.meta, layout.author_key, *((PAGE_NAME,) if layout.has_page else ())):
            if required not in table:
                raise ManifestError(f"SHA256SUMS does not list {required}")
        return cls(table)


class FileColumns(Mapping[str, "FileMeta"]):
    """bundle.json's size and type of each file SHA256SUMS lists, in columns by its line: 9 bytes a file.

    What verification keeps (docs/format.md, "Bounds"); `file_details` reads the other fields when needed.
    """

    __slots__ = ("count", "sizes", "sums", "types")

    def __init__(self, sums: SumsTable) -> None:
        self.sums, self.count = sums, 0
        self.sizes = array("q", [-1]) * len(sums)  # -1: not described (bundle.json and author.pub)
        self.types = bytearray(len(sums))

    def put(self, j: int, size: int, media: str) -> None:
        """Record line `j`'s file."""
        self.sizes[j], self.types[j] = size, _TYPE_CODES[media]
        self.count += 1

    def __getitem__(self, path: str) -> FileMeta:
        j = self.sums.find(path)
        if j is None or self.sizes[j] < 0:
            raise KeyError(path)
        return FileMeta(self.sizes[j], _TYPES[self.types[j]])

    def __iter__(self) -> Iterator[str]:
        return (self.sums.path(j) for j in range(len(self.sizes)) if self.sizes[j] >= 0)

    def __len__(self) -> int:
        return self.count

    def count_types(self) -> Counter[str]:
        """How many described files have each media type, counted in the columns (no FileMeta is made)."""
        codes: Counter[int] = Counter(code for size, code in zip(self.sizes, self.types, strict=True) if size >= 0)
        return Counter({_TYPES[code]: count for code, count in codes.items()})


def count_types(files: Mapping[str, FileMeta]) -> Counter[str]:
    """How many files of `files` (bundle.json's) have each media type."""
    return files.count_types() if isinstance(files, FileColumns) else Counter(f.type for f in files.values())


@record
class FileMeta:
    """What bundle.json says about one file."""

    size: int
    type: str
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The JSON object for this file."""
        return {"size": self.size, "type": self.type, **self.extra}


@record
class BundleMeta:
    """bundle.json: what the bundle is and what was done to its files."""

    bundle_id: str
    version: int
    title: str
    created: str
    languages: tuple[str, ...]
    author_key: str
    files: Mapping[str, FileMeta]  # FileColumns when read against a parsed SHA256SUMS
    supersedes: str | None = None
    format: str = CURRENT.format

    def to_bytes(self) -> bytes:
        """Deterministic, readable JSON; these bytes are hashed into SHA256SUMS.

        The same bytes as `json.dumps(doc, indent=1, ensure_ascii=False)` of the whole document plus a newline.
        """
        return b"".join(self.pieces())

    def pieces(self) -> Iterator[bytes]:
        """to_bytes() in pieces, file by file: a million files never become a million dicts and a million
        string pieces at once, and a writer that takes the pieces as they come never holds the whole."""
        doc = {
            "format": self.format,
            "id": self.bundle_id,
            "version": self.version,
            "title": self.title,
            "created": self.created,
            "languages": list(self.languages),
            "author_key": self.author_key,
            "supersedes": self.supersedes,
            "files": {},
        }
        head = json.dumps(doc, indent=1, ensure_ascii=False)
        if not self.files:
            yield (head + "\n").encode()
            return
        yield head.removesuffix("{}\n}").encode()  # ... "files": (the files' object follows)
        separator = "{\n  "
        for path in in_order(self.files):
            entry = json.dumps(self.files[path].to_json(), indent=1, ensure_ascii=False).replace("\n", "\n  ")
            yield f"{separator}{json.dumps(path, ensure_ascii=False)}: {entry}".encode()
            separator = ",\n  "
        yield b"\n }\n}\n"

    @classmethod
    def from_bytes(cls, raw: bytes | BinaryIO, listed: Collection[str] | None = None, details: bool = True,
                   undescribed: Collection[str] = (), max_files: int | None = None,
                   max_bytes: int | None = None) -> BundleMeta:
        """Parse bundle.json strictly (call only after its hash matched).

        Args:
            raw: the bytes, at most `max_bytes` (default MAX_META_BYTES); or a file to read them from, a
                window at a time (a million files' bundle.json is never held).
            listed: the files SHA256SUMS lists; when given, bundle.json must describe exactly these, except
                `undescribed` (bundle.json and author.pub), checked as each is read, so it describes at most
                that many. A parsed SHA256SUMS (SumsTable) gives `files` as columns (FileColumns, size and
                type only).
            details: keep each file's language, title, place, source and privacy record. Without them
                (what verification needs), memory grows by a few hundred bytes per file, whatever the
                signer wrote; `file_details` reads them one file at a time.
            max_files: the cap on files (default MAX_MEMBERS).

        Raises:
            ManifestError: malformed, too large, duplicate or unknown keys, wrong types, other files.
        """
        if isinstance(listed, SumsTable):
            reader = _MetaReader(raw, listed, False, max_files, max_bytes, undescribed)
            columns = FileColumns(listed)
            for j, described in reader.lines():
                columns.put(j, described.size, described.type)
            files: Mapping[str, FileMeta] = columns
            expected = len(listed) - len(undescribed)
        else:
            names = None if listed is None else set(listed) - set(undescribed)
            reader = _MetaReader(raw, names, details, max_files, max_bytes)
            files = dict(reader.files())
            expected = len(files) if names is None else len(names)
        top = reader.top
        if set(top) != _META_KEYS:
            raise ManifestError("bundle.json has missing or unknown fields")
        if len(files) != expected:
            raise ManifestError("bundle.json and SHA256SUMS list different files")
        _check_created(top["created"])
        return cls(top["id"], top["version"], top["title"], top["created"], top["languages"],
                   top["author_key"], files, top["supersedes"], top["format"])


def _check_created(created: str) -> None:
    """bundle.json's time of making, as create writes it (2022-01-05T18:30:12Z): "2022-13-45T99:99:99Z" verified
    and `show` printed it (helper-149).

    Raises:
        ManifestError: any other text.
    """
    from mirror.formats.timefmt import is_time

    if not is_time(created):
        raise ManifestError(f"bundle.json's created is not a time like 2022-01-05T18:30:12Z: {created[:64]!r}")


def file_details(raw: bytes | BinaryIO, listed: SumsTable | None = None) -> Iterator[tuple[str, FileMeta]]:
    """Each file bundle.json describes, with all its fields, in the document's order; one at a time.

    `listed`: the SHA256SUMS this bundle.json was verified with: each path is then found there, and no set of
    every path is kept to refuse one given twice (verify refused that already; a million paths took 150 MB).

    Raises:
        ManifestError: as BundleMeta.from_bytes.
    """
    return _MetaReader(raw, listed, True).files()


def _expect(ok: bool, key: str) -> None:
    if not ok:
        raise ManifestError(f"bundle.json field {key!r} is malformed")


class _MetaReader:
    """Reads bundle.json against its schema; files are yielded as they are read, the other fields kept in `top`."""

    def __init__(self, raw: bytes | BinaryIO, listed: Collection[str] | None, details: bool,
                 max_files: int | None = None, max_bytes: int | None = None, undescribed: Collection[str] = ()) -> None:
        cap = MAX_META_BYTES if max_bytes is None else max_bytes
        if isinstance(raw, bytes) and len(raw) > cap:
            raise ManifestError(f"bundle.json is larger than {cap >> 20} MiB")
        self.doc, self.listed, self.details = JsonReader(raw, META_NAME, cap), listed, details
        self.max_files = MAX_MEMBERS if max_files is None else max_files
        self.undescribed = undescribed
        self.top: dict[str, Any] = {}

    def files(self) -> Iterator[tuple[str, FileMeta]]:
        """Parse the whole document, yielding the files on the way."""
        for path, _, described in self._walk():
            yield path, described

    def lines(self) -> Iterator[tuple[int, FileMeta]]:
        """Parse the whole document against a parsed SHA256SUMS, yielding each file's line and size and type.

        Raises:
            ManifestError: also for a file given twice (the reader keeps no set of keys: the caller's
                columns tell).
        """
        seen = bytearray(len(self.listed) if isinstance(self.listed, SumsTable) else 0)
        for key, j, described in self._walk():
            if seen[j]:
                raise self.doc.error(f"JSON has the key {key!r} twice")
            seen[j] = 1
            yield j, described

    def _walk(self) -> Iterator[tuple[str, int, FileMeta]]:
        fields: dict[str, Callable[[], Any]] = {
            "format": self._format, "id": self._id, "version": self._version,
            "title": lambda: self.doc.string(MAX_TEXT), "created": lambda: self.doc.string(64),
            "languages": self._languages, "author_key": lambda: self.doc.string(64),
            "supersedes": lambda: None if self.doc.null() else self.doc.string(128),
        }
        for key in self.doc.members(64):
            if key == "files":
                yield from self._files()
                self.top[key] = True
            elif key in fields:
                self.top[key] = fields[key]()
            else:
                raise ManifestError("bundle.json has missing or unknown fields")
        self.doc.end()

    def _format(self) -> str:
        value = self.doc.string(64)
        if value not in FORMATS:
            raise ManifestError(f"bundle format '{printable(value)}' is not supported", hint="update mirror")
        return value

    def _id(self) -> str:
        value = self.doc.string(64)
        _expect(BUNDLE_ID.fullmatch(value) is not None, "id")
        return value

    def _version(self) -> int:
        value = self.doc.integer()
        _expect(1 <= value < 2**31, "version")
        return value

    def _languages(self) -> tuple[str, ...]:
        return tuple(self.doc.string(35) for _ in self.doc.items(MAX_LANGUAGES))

    def _files(self) -> Iterator[tuple[str, int, FileMeta]]:
        table = self.listed if isinstance(self.listed, SumsTable) else None
        entries = self.doc.small_objects(MAX_NAME_BYTES, MAX_ENTRY_BYTES, unique=table is None)
        j = -1
        for count, (path, item) in enumerate(entries, start=1):
            if table is not None:
                found = table.near(path.encode("utf-8", "surrogatepass"), j + 1)
                if found is None or path in self.undescribed:
                    raise ManifestError("bundle.json and SHA256SUMS list different files")
                j = found
            elif self.listed is not None and path not in self.listed:
                raise ManifestError("bundle.json and SHA256SUMS list different files")
            _expect(count <= self.max_files and (self.listed is not None or name_problem(path) is None),
                    f"files/{printable(path)}")  # a listed path passed the name rules in SHA256SUMS
            yield path, j, self._file(path, item)

    def _file(self, path: str, item: dict[str, Any]) -> FileMeta:
        size, media = item.pop("size", None), item.pop("type", None)
        media = _MEDIA.get(media) if isinstance(media, str) else None
        if (media == PAGE_TYPE) != (path == PAGE_NAME) or (path == PAGE_NAME and item):
            media = None  # the page, and only the page, is text/html, with nothing but its size and type
        problem = _entry_problem(size, media, item)
        if problem is not None:
            raise ManifestError(f"bundle.json field 'files/{printable(path)}{problem}' is malformed")
        named = PAGE_TYPE if path == PAGE_NAME else (found.type if (found := media_for(path)) else None)
        # A file opens by its name: "x.html" or ".git/config" called text/plain would not open as text.
        if named is None:
            raise ManifestError(f"bundle.json lists {printable(path)}, which is not named as an account or a photo")
        if named != media:
            raise ManifestError(f"bundle.json gives {printable(path)} the type {media}, but its name says {named}")
        return FileMeta(size, str(media), item if self.details else {})


def _entry_problem(size: Any, media: str | None, item: dict[str, Any]) -> str | None:
    """Which part of a file's entry breaks the schema ("/size", "/title"...; "" for the entry), or None."""
    if type(size) is not int or not 0 <= size < 2**63:
        return "/size"
    if media is None:
        return "/type"
    for key, value in item.items():
        cap = _TEXT_KEYS.get(key)
        if cap is not None:
            if not _is_text(value, cap):
                return f"/{key}"
        elif key != "privacy" or not _is_privacy(value):
            return ""
    return None


def _is_text(value: Any, cap: int) -> bool:
    """A string of at most `cap` characters, and Unicode text (no lone surrogate from a `\\u` escape)."""
    return isinstance(value, str) and len(value) <= cap and _SURROGATE.search(value) is None


def _is_privacy(value: Any) -> bool:
    """The record of what was done to a photo's metadata: kinds of metadata, never their values."""
    if not isinstance(value, dict) or not set(value) <= _PRIVACY_KEYS:
        return False
    lists = [value[k] for k in _PRIVACY_LISTS if k in value]
    return (all(isinstance(v, list) and len(v) <= 64 and all(_is_text(x, 100) for x in v) for v in lists)
            and all(_is_text(value[k], 64) for k in ("metadata", "original_sha256_salted", "converted") if k in value))
