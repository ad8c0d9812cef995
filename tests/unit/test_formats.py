"""Strict parsers: minisign files, SHA256SUMS, bundle.json, names, the 7z reader."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forge import Entry, forge
from helpers import require_tool, run
from mirror.errors import ArchiveError, KeyringError, ManifestError, SignatureError
from mirror.formats import manifest
from mirror.formats.manifest import BundleMeta, FileMeta, Sums, file_details
from mirror.formats.minisign import Prehashed, PublicKeyFile, Signature, key_id_for, prehash
from mirror.formats.names import collision_key, name_problem
from mirror.sevenzip import Limits, iter_members, read_archive
from mirror.trust.fingerprint import fingerprint
from mirror.trust.keys import SecretKey, check_signature

GOOD_HASH = "a" * 64


def test_signature_roundtrip_and_tamper() -> None:
    """A signature verifies; any change to data, signature or comment does not."""
    key = SecretKey.generate()
    sig = key.sign(b"data", "bundle:abcdefgh\tversion:1\trole:author")
    parsed = Signature.from_bytes(sig.to_bytes())
    check_signature(key.public, parsed, b"data")
    check_signature(key.public, parsed, Prehashed(prehash(b"data")))  # given by its BLAKE2b-512 (a spool's)
    with pytest.raises(SignatureError):
        check_signature(key.public, parsed, Prehashed(prehash(b"datA")))
    with pytest.raises(SignatureError, match="does not match"):
        check_signature(key.public, parsed, b"datA")
    with pytest.raises(SignatureError, match="trusted comment"):
        check_signature(key.public, Signature(parsed.key_id, parsed.signature, "other", parsed.global_signature),
                        b"data")
    with pytest.raises(SignatureError, match="made by key"):
        check_signature(SecretKey.generate().public, parsed, b"data")


@pytest.mark.parametrize("raw", [b"", b"a\nb\nc\n", b"untrusted comment: x\nAAAA\ntrusted comment: y\nAAAA\n",
                                 b"x" * 5000, b"\xff\xfe\n\n\n\n"])
def test_signature_parser_rejects_malformed(raw: bytes) -> None:
    """Lines, base64, lengths and algorithm are all checked."""
    with pytest.raises(SignatureError):
        Signature.from_bytes(raw)


def test_legacy_unhashed_signature_is_refused() -> None:
    """Only the prehashed ED scheme is accepted."""
    lines = SecretKey.generate().sign(b"x", "t").to_bytes().split(b"\n")
    blob = base64.b64decode(lines[1])
    lines[1] = base64.b64encode(b"Ed" + blob[2:])
    with pytest.raises(SignatureError, match="not a prehashed"):
        Signature.from_bytes(b"\n".join(lines))


@pytest.mark.parametrize(("line", "around"), [(1, " {} "), (1, "{} "), (3, " {}"), (3, "{}\t")])
def test_a_signature_line_with_spaces_around_it_is_refused_as_minisign_refuses_it(line: int, around: str) -> None:
    """Spaces around a signature's base64 were taken: mirror said VERIFIED where `minisign -V`, which the guide to
    verifying by hand uses, says "Signature too long" (helper-161)."""
    lines = SecretKey.generate().sign(b"x", "t").to_bytes().decode().split("\n")
    lines[line] = around.format(lines[line])
    with pytest.raises(SignatureError, match="not valid base64"):
        Signature.from_bytes("\n".join(lines).encode())


def test_public_key_and_key_id() -> None:
    """Key ids are the first 8 bytes of SHA-256 of the key; a wrong id is caught."""
    public = SecretKey.generate().public
    assert public.key_id == hashlib.sha256(public.public_key).digest()[:8] == key_id_for(public.public_key)
    assert PublicKeyFile.from_text(public.to_text()) == public
    assert PublicKeyFile.from_text(public.key_line) == public
    wrong = PublicKeyFile(b"\x00" * 8, public.public_key)
    with pytest.raises(KeyringError, match="does not belong"):
        PublicKeyFile.from_text(wrong.to_text()).check_key_id()
    assert len(fingerprint(public).replace(" ", "")) == 40


def test_sums_roundtrip_and_strictness() -> None:
    """SHA256SUMS must be sorted, LF-only, lower-case hex, with safe names."""
    sums = Sums({"bundle.json": GOOD_HASH, "author.pub": GOOD_HASH, "accounts/a.md": "b" * 64})
    assert Sums.from_bytes(sums.to_bytes()) == sums
    raw = sums.to_bytes()
    bad = [raw.replace(b"\n", b"\r\n"), raw[:-1], raw.upper(), b"".join(reversed(raw.splitlines(True))),
           raw + f"{GOOD_HASH}  ../x\n".encode(), raw + f"{GOOD_HASH}  SHA256SUMS.minisig\n".encode(),
           raw.replace(b"  ", b" *", 1), raw + raw.splitlines(True)[-1]]
    for case in bad:
        with pytest.raises(ManifestError):
            Sums.from_bytes(case)
        with pytest.raises(ManifestError):  # read line by line from a file (verify's spool): the same refusals
            Sums.read(io.BytesIO(case))
    assert Sums.read(io.BytesIO(raw)) == sums and Sums.read(io.BytesIO(raw)).to_bytes() == raw
    long_name = f"{GOOD_HASH}  {'a/' * 3000}x\n".encode()  # past the longest line read: refused, not read whole
    with pytest.raises(ManifestError):
        Sums.read(io.BytesIO(raw + long_name))
    many = Sums({**sums.entries, **{f"accounts/{n:04}.md": GOOD_HASH for n in range(1000)}}).to_bytes()
    with pytest.raises(ManifestError, match="too large"):
        Sums.read(io.BytesIO(many), max_bytes=len(many) // 10)


def test_bundle_meta_strictness() -> None:
    """Unknown fields, duplicate keys and wrong types are errors."""
    meta = BundleMeta("abcdef0123456789", 1, "t", "2026-01-01T00:00:00Z", ("en",), "0" * 16, {})
    assert BundleMeta.from_bytes(meta.to_bytes()) == meta
    raw = meta.to_bytes()
    for bad in (raw.replace(b'"title"', b'"titel"'), raw.replace(b'"version": 1', b'"version": "1"'),
                raw.replace(b'{\n "format"', b'{\n "id": "x",\n "format"'), b"[]", b"\xff", b"{" * 100000):
        with pytest.raises(ManifestError):
            BundleMeta.from_bytes(bad)


@pytest.mark.parametrize("name", ["../x", "/abs", "C:\\x", "a\\..\\b", "a/./b", "a//b", "a\x00b", "a\tb", "con.txt",
                                  "a/b.", "x\u200b", "\u202eabc", "a/ b", "cafe\u0301", "accounts/COM\u00b9.md",
                                  "lpt\u00b3", "a/Com\u00b2.txt", "CON .txt", "a/NUL .md", "CONIN$", "conout$.txt"])
def test_unsafe_names(name: str) -> None:
    """Each hostile name has a reason."""
    assert name_problem(name) is not None


@pytest.mark.parametrize("char", ["\u3164", "\uffa0", "\u115f", "\u2800", "\u034f", "\ufe0f", "\U000e0100",
                                  "\u180b", "\U0001d159", "\U00016fe4"])
def test_names_that_look_like_others_are_refused(char: str) -> None:
    """A character that prints as nothing: 'a.md' and 'a<it>.md' would look the same."""
    assert name_problem(f"accounts/a{char}.md") == f"control or invisible character U+{ord(char):04X}"


@pytest.mark.parametrize("space", ["\u00a0", "\u2007", "\u202f", "\u3000"])
def test_typographic_spaces_are_allowed_and_collide_with_a_plain_one(space: str) -> None:
    """Russian typography puts a no-break space before a dash and inside "10 000": such names are fine, and
    never sit beside their look-alike with a plain space."""
    name = f"accounts/Алматы{space}— 10{space}000.md"
    assert name_problem(name) is None
    assert collision_key(name) == collision_key("accounts/Алматы — 10 000.md")


def test_safe_names_and_collisions() -> None:
    """Ordinary names in several scripts pass; case and compatibility forms collide."""
    for name in ("accounts/2022-01-05.en.md", "photos/Алматы площадь.jpg", "accounts/қала.md"):
        assert name_problem(name) is None
    assert collision_key("photos/A.jpg") == collision_key("photos/a.jpg")
    assert collision_key("\ufb01le") == collision_key("file")


def test_reader_matches_stock_7zip(tmp_path: Path) -> None:
    """Archives written by 7-Zip with several settings read back byte-exact."""
    sevenzz = require_tool("7zz")
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "t.txt").write_text("hello world\n" * 50000)
    (src / "r.bin").write_bytes(hashlib.sha256(b"seed").digest() * 20000)
    (src / "empty.txt").write_bytes(b"")
    expected = {p.relative_to(src).as_posix(): p.read_bytes() for p in src.rglob("*") if p.is_file()}
    for i, options in enumerate([("-mx5",), ("-m0=LZMA",), ("-mhc=off", "-m0=Copy"), ("-ms=off",), ("-mx1",)]):
        archive = tmp_path / f"a{i}.7z"
        run(sevenzz, "a", "-bso0", *options, archive, ".", cwd=src)
        with archive.open("rb") as fp:
            parsed = read_archive(fp, Limits())
            got = {m.name: b"".join(chunks) for m, chunks in iter_members(fp, parsed)}
        got |= {m.name: b"" for m in parsed.members if not m.has_stream and not m.is_dir}
        assert got == expected, options


def test_member_count_cap(tmp_path: Path) -> None:
    """More members than the cap are refused before any data is read."""
    path = forge(tmp_path / "many.7z", [Entry(f"f{i}", b"x") for i in range(50)])
    with path.open("rb") as fp, pytest.raises(ArchiveError, match="too many"):
        read_archive(fp, Limits(max_members=10))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.integers(min_value=0, max_value=400))
def test_reader_never_crashes_on_garbage(noise: bytes, at: int) -> None:
    """Random bytes, and random corruption of a valid archive, give ArchiveError or a clean read."""
    import io
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        good = forge(Path(tmp) / "g.7z", [Entry("a.txt", b"hello" * 20), Entry("b/c.txt", b"world")]).read_bytes()
    for data in (noise, good[:at] + noise[:8] + good[at + 8 :], b"7z\xbc\xaf\x27\x1c" + noise):
        fp = io.BytesIO(data)
        try:
            archive = read_archive(fp, Limits())
            for _, chunks in iter_members(fp, archive):
                for _ in chunks:
                    pass
        except ArchiveError:
            pass


def test_bundle_meta_against_the_signed_list() -> None:
    """With the signed list, bundle.json must describe exactly those files; without details, only size and type."""
    files = {"accounts/a.md": FileMeta(3, "text/markdown", {"title": "Площадь", "date": "2022-01-05"}),
             "photos/b.jpg": FileMeta(9, "image/jpeg", {"privacy": {"metadata": "removed", "removed": ["gps"]}})}
    meta = BundleMeta("abcdef0123456789", 1, "t", "2026-01-01T00:00:00Z", ("en",), "0" * 16, files)
    raw = meta.to_bytes()
    assert BundleMeta.from_bytes(raw, listed=set(files)) == meta
    compact = BundleMeta.from_bytes(raw, listed=set(files), details=False)
    assert {p: (m.size, m.type, m.extra) for p, m in compact.files.items()} == {
        "accounts/a.md": (3, "text/markdown", {}), "photos/b.jpg": (9, "image/jpeg", {})}
    assert dict(file_details(raw)) == files
    for listed in ({"accounts/a.md"}, {*files, "accounts/c.md"}):
        with pytest.raises(ManifestError, match="list different files"):
            BundleMeta.from_bytes(raw, listed=listed)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d.update(title="x" * 1001), "longer than 1000"),
    (lambda d: d.update(languages=["en"] * 101), "more than 100 items"),
    (lambda d: d.update(version=2**31), "'version' is malformed"),
    (lambda d: d.update(version=10**30), "whole number"),
    (lambda d: d["files"]["a.md"].update(size=-1), "size' is malformed"),
    (lambda d: d["files"]["a.md"].update(type="text/html"), "type' is malformed"),
    (lambda d: d["files"]["a.md"].update(note="x"), "'files/a.md' is malformed"),
    (lambda d: d["files"]["a.md"].update(privacy={"removed": [[]]}), "expected a name and an object of strings"),
    (lambda d: d["files"]["a.md"].update(privacy={"removed": ["gps"] * 65}), "'files/a.md' is malformed"),
    (lambda d: d["files"]["a.md"].update(title="\ud800"), "'files/a.md/title' is malformed"),
    (lambda d: d["files"]["a.md"].update(place=["x"]), "expected a name and an object of strings"),
    (lambda d: d["files"]["a.md"].update(place="x" * 70_000), "an object larger than 65536 bytes"),
    (lambda d: d["files"].update({"../x": {"size": 1, "type": "text/plain"}}), "files/../x"),
    (lambda d: d.update(created="2022-13-45T99:99:99Z"), "created is not a time"),  # show printed it (helper-149)
    (lambda d: d.update(created="2022-1-5T18:30:12Z"), "created is not a time"),
], ids=["long title", "101 languages", "version 2**31", "30-digit number", "negative size", "unknown type",
        "unknown file field", "list in privacy", "65 privacy kinds", "lone surrogate in a title", "list as a place",
        "entry over 64 KiB", "unsafe path", "created of month 13", "created not as create writes it"])
def test_bundle_meta_caps(edit: Callable[[dict[str, Any]], None], message: str) -> None:
    """Each cap of docs/format.md's Bounds refuses what exceeds it, naming the problem."""
    doc: dict[str, Any] = {"format": "mirror-bundle/1", "id": "abcdef0123456789", "version": 1, "title": "t",
                           "created": "2022-01-05T18:30:12Z", "languages": [], "author_key": "k", "supersedes": None,
                           "files": {"a.md": {"size": 1, "type": "text/markdown"}}}
    BundleMeta.from_bytes(json.dumps(doc).encode())
    edit(doc)
    with pytest.raises(ManifestError, match=re.escape(message)):
        BundleMeta.from_bytes(json.dumps(doc).encode())


def test_sums_caps(monkeypatch: pytest.MonkeyPatch) -> None:
    """SHA256SUMS: more lines than the member cap, or a path that is not UTF-8, is refused."""
    line = GOOD_HASH.encode() + b"  "
    with pytest.raises(ManifestError, match="not UTF-8"):
        Sums.from_bytes(line + b"a\xff\n")
    monkeypatch.setattr(manifest, "MAX_MEMBERS", 1000)  # the real cap is a million lines: the same code path
    many = b"".join(line + f"f{i:06d}\n".encode() for i in range(1001))
    with pytest.raises(ManifestError, match="more than 1000 files"):
        Sums.from_bytes(many)


def test_a_long_path_part_is_measured_as_itself() -> None:
    """A part over 255 bytes in a long name: the part's own size, then the whole name's length."""
    from mirror.errors import ArchiveError
    from mirror.formats.names import check_member_name

    with pytest.raises(ArchiveError) as caught:
        check_member_name("accounts/" + "я" * 200 + ".md")
    assert "a path part of 403 bytes, more than 255" in str(caught.value)


def test_a_refused_long_name_is_shown_cut_on_one_line() -> None:
    """A member name of 32,767 characters (a real archive's) is refused without being printed whole."""
    from mirror.errors import ArchiveError
    from mirror.formats.names import check_member_name

    with pytest.raises(ArchiveError) as caught:
        check_member_name("a" * 32_767)
    message = str(caught.value)
    assert message.endswith("…': name too long; the name has 32,767 characters") and len(message) < 200


def test_a_time_is_read_only_in_the_one_shape_mirror_writes() -> None:
    """parse_time reads what format_time writes, and refuses the looser shapes strptime took (one-digit fields),
    other digits, a missing Z and impossible dates."""
    from datetime import UTC, datetime

    from mirror.formats.timefmt import format_time, parse_time

    assert parse_time("2022-01-05T18:30:12Z") == datetime(2022, 1, 5, 18, 30, 12, tzinfo=UTC)
    assert format_time(parse_time("1999-12-31T23:59:59Z")) == "1999-12-31T23:59:59Z"
    for bad in ("2022-1-5T18:30:12Z", "2022-01-05 18:30:12Z", "2022-01-05T18:30:12", "2022-01-05T18:30:12+00",
                "\uff12\uff10\uff12\uff12-01-05T18:30:12Z", "+022-01-05T18:30:12Z", "2022-02-30T00:00:00Z",
                "2022-01-05T24:00:00Z", "0000-01-05T18:30:12Z", "2022-01-05T18:30:12Zx", "", 20220105, None):
        with pytest.raises(ValueError):
            parse_time(bad)


def test_is_time_accepts_exactly_what_format_time_gives_back() -> None:
    """is_time (verify's check of bundle.json's created, made without datetime) says yes exactly where
    format_time(parse_time(text)) gives the text back: leap days, month lengths, the last second, and random shapes
    around them; and never for a year before 1000, which strftime writes as 999 with glibc and as 0999 elsewhere
    (Python 3.14 on Linux, macOS, Windows): compared with format_time alone, this test failed there."""
    import random

    from mirror.formats.timefmt import format_time, is_time, parse_time

    def written_back(text: object) -> bool:
        try:
            return format_time(parse_time(text)) == text and parse_time(text).year >= 1000
        except ValueError:
            return False

    samples: list[object] = ["2024-02-29T00:00:00Z", "2023-02-29T00:00:00Z", "2000-02-29T12:00:00Z",
                             "1900-02-29T12:00:00Z", "2022-04-31T00:00:00Z", "2022-12-31T23:59:59Z",
                             "2022-12-31T23:59:60Z", "0999-01-01T00:00:00Z", "1000-01-01T00:00:00Z",
                             "9999-12-31T23:59:59Z", "2022-00-10T00:00:00Z", "2022-01-00T00:00:00Z", None, 7]
    rng = random.Random(16)
    for _ in range(20000):
        year, month, day = rng.randrange(0, 10000), rng.randrange(0, 14), rng.randrange(0, 33)
        hour, minute, second = rng.randrange(0, 26), rng.randrange(0, 62), rng.randrange(0, 62)
        samples.append(f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}Z")
    assert sum(map(is_time, samples)) > 5000  # enough of them are times for the comparison to mean something
    for text in samples:
        assert is_time(text) == written_back(text), text
