"""The hostile bundles of issue 10, at any scale: shared by tests/cli/test_hostile_shapes.py and bench/hostile.py.

Example::

    duplicate_at_end(tmp / "dup.7z", 100_000)          # 100,000 empty members, the last two share a name
    big_account(tmp / "acct.7z", 256 << 20)             # a 256 MiB account in a few dozen KB
    big_endorsement(tmp / "e.7z", signed_by(key, {}), 64 << 20)   # a signed bundle and a 64 MiB "endorsement"

Each builder writes the file and returns its path. Big members are streamed
into the LZMA2 coder piece by piece, so building a 1 GiB shape costs little memory.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator
from pathlib import Path

from forge import Coded, Entry, forge, lzma2
from helpers import AUTHOR, ENDORSEMENTS, META, SIG, SUMS
from mirror.formats.manifest import PAGE_NAME, PAGE_TYPE, BundleMeta, FileMeta, Sums, trusted_comment
from mirror.formats.minisign import key_id_hex
from mirror.trust.keys import SecretKey

PIECE = 1 << 20
PAGE = b"<!doctype html><title>hostile</title>\n"
LINE = "Люди стояли на площади до вечера; связи не было весь день.\n".encode()


def _pieces(size: int, pattern: bytes) -> Iterator[bytes]:
    block = (pattern * (PIECE // len(pattern) + 1))[:PIECE]
    for start in range(0, size, PIECE):
        yield block[: min(PIECE, size - start)]


def _crc(size: int, pattern: bytes) -> int:
    crc = 0
    for piece in _pieces(size, pattern):
        crc = zlib.crc32(piece, crc)
    return crc


def duplicate_at_end(out: Path, count: int, signed_name: bool = False) -> Path:
    """`count` empty members; the last two share a name (quadratic duplicate checks choke on it). With
    `signed_name`, the first is an empty .mirror/SHA256SUMS: a bundle's, so that the duplicate is what fails (an
    archive with nothing signed in it is said to be one, whatever else is wrong)."""
    names = [f"accounts/{i:06d}.md" for i in range(count - 1)] + [f"accounts/{count - 2:06d}.md"]
    if signed_name:
        names[0] = ".mirror/SHA256SUMS"
    return forge(out, [Entry(name, b"") for name in names], encode_header=True)


def long_names(out: Path, count: int, length: int = 140) -> Path:
    """`count` empty members with valid names of about `length` characters, some outside the BMP (so Python
    holds them at four bytes a character): a header near its cap."""
    words = "Алматы-😀-" * length
    folder, stem = words[:80], words[: length - 80 - 22]
    return forge(out, [Entry(f"accounts/{folder}/{stem}-{i:08d}.md", b"") for i in range(count)],
                 encode_header=True)


def _after(out: Path, signed: dict[str, bytes] | None, name: str, size: int, pattern: bytes,
           dict_prop: int | None = None, declared: int | None = None) -> Path:
    """The signed files (a throwaway key's by default), then one member of `size` bytes of `pattern`, in
    one LZMA2 block; the member may declare another size than it has."""
    members = signed if signed is not None else signed_by(SecretKey.generate(), {})
    entries = [Entry(n, d) for n, d in members.items()]
    coded = lzma2([e.data for e in entries] + list(_pieces(size, pattern)), dict_prop)
    big = Entry(name, b"", size=size if declared is None else declared, crc=_crc(size, pattern))
    return forge(out, [*entries, big], coded=coded, encode_header=True)


def big_account(out: Path, size: int, signed: dict[str, bytes] | None = None) -> Path:
    """An unlisted account of `size` bytes of Russian text lines after the signed files, LZMA2-coded."""
    return _after(out, signed, "accounts/unlisted.md", size, LINE)


def huge_dictionary(out: Path, size: int, dict_prop: int = 36, signed: dict[str, bytes] | None = None) -> Path:
    """`size` zero bytes in a block whose LZMA2 header declares a dictionary of 1 GiB (property 36)."""
    return _after(out, signed, "accounts/zeros.md", size, b"\0", dict_prop=dict_prop)


def stream_ends_early(out: Path, missing: int = 4096, signed: dict[str, bytes] | None = None) -> Path:
    """A block that declares `missing` more bytes than its LZMA2 stream holds (the old `Aborted!` case)."""
    return _after(out, signed, "accounts/short.md", 64 << 10, LINE, declared=(64 << 10) + missing)


def signed_by(secret: SecretKey, files: dict[str, bytes], title: str = "Hostile", meta_padding: int = 0,
              described: dict[str, str] | None = None, types: dict[str, str] | None = None) -> dict[str, bytes]:
    """The four signed files and `files`, signed by `secret`; the title padded by `meta_padding` bytes, and
    each file `described` (title, place...) in bundle.json, of its type in `types` (default text/markdown)."""
    public = secret.public
    described_files = {name: FileMeta(len(data), (types or {}).get(name, "text/markdown"), dict(described or {}))
                       for name, data in files.items()}
    meta = BundleMeta("hostile-0001", 1, title + " " * meta_padding, "2022-01-05T18:30:12Z", ("ru",),
                      key_id_hex(public.key_id), described_files | {PAGE_NAME: FileMeta(len(PAGE), PAGE_TYPE)})
    # the reader's page a format 2 bundle must carry: without it verify stops before it reads bundle.json
    members = dict(files) | {PAGE_NAME: PAGE, AUTHOR: public.to_text().encode(), META: meta.to_bytes()}
    sums = Sums({name: hashlib.sha256(data).hexdigest() for name, data in members.items()}).to_bytes()
    signature = secret.sign(sums, trusted_comment(meta.bundle_id, meta.version)).to_bytes()
    return {SUMS: sums, SIG: signature, **members}


def pack(out: Path, members: dict[str, bytes], *extra: Entry, coded: Coded | None = None) -> Path:
    """`members` (and `extra` entries) in one LZMA2 block, as a bundle repacked by hand would be."""
    entries = [Entry(name, data) for name, data in members.items()] + list(extra)
    return forge(out, entries, coded=coded or lzma2(b"".join(e.data for e in entries if e.data)),
                 encode_header=True)


def big_bundle_json(out: Path, secret: SecretKey, size: int) -> Path:
    """A bundle whose bundle.json is about `size` bytes (a padded title), signed by `secret`."""
    return pack(out, signed_by(secret, {"accounts/a.md": LINE}, meta_padding=size))


def big_endorsement(out: Path, members: dict[str, bytes], size: int) -> Path:
    """A real bundle's members plus `endorsements/<KEYID>.minisig` of `size` bytes: a padded "note"."""
    head = b"untrusted comment: a note from the author, please read\n"
    note = head + b" " * (size - len(head))
    name = f"{ENDORSEMENTS}{key_id_hex(SecretKey.generate().public.key_id)}.minisig"
    entries = [Entry(n, d) for n, d in members.items()]
    coded = lzma2([e.data for e in entries] + [note])
    return forge(out, [*entries, Entry(name, note)], coded=coded, encode_header=True)
