"""SourceList: create's files in columns, sorted by member name in merged runs; CheckedFiles over its names."""

from __future__ import annotations

import hashlib
import os
import random
import unicodedata
from pathlib import Path

import pytest

import mirror.bundle.control
import mirror.bundle.sourcelist
from mirror.bundle.checked import CheckedFiles, SortedOverlay
from mirror.bundle.prepare import CreateRequest, prepare_bundle
from mirror.bundle.sourcelist import SourceFile, SourceList
from mirror.bundle.sources import collect_sources
from mirror.errors import InputError
from mirror.formats.manifest import FileMeta, Sums


def _file(relative: str, member: str, kind: str = "account", size: int = 1) -> SourceFile:
    media, treatment = ("text/markdown", "text") if kind == "account" else ("image/jpeg", "clean")
    return SourceFile("/src", relative, member, kind, media, size, treatment)


def test_every_way_a_relative_path_follows_from_its_member_comes_back() -> None:
    """The same relative path, one under accounts/ or photos/, and the rest (renamed, NFC, converted) kept."""
    decomposed = unicodedata.normalize("NFD", "й.md")
    files = [
        _file("accounts/a.md", "accounts/a.md"),
        _file("b.md", "accounts/b.md"),
        _file("DCIM/IMG_0001.jpg", "photos/001.jpg", "photo", 5),
        _file(decomposed, "accounts/" + unicodedata.normalize("NFC", decomposed)),
        _file("x/photos/c.jpg", "photos/x/photos/c.jpg", "photo"),
        SourceFile("/src", "p.heic", "photos/p.jpg", "photo", "image/jpeg", 9, "convert"),
        _file("bad\udcff.md", "accounts/bad\udcff.md"),  # an undecodable name, refused later by the name rules
    ]
    table = SourceList("/src")
    for item in files:
        table.append(item)
    assert list(table) == files and len(table) == len(files)
    assert table[-1] == files[-1] and table[1:3] == files[1:3]
    assert table.count_of("photo") == 3 and table.count_of("account") == 4
    assert [f.member for f in table.of_kind("photo")] == ["photos/001.jpg", "photos/x/photos/c.jpg", "photos/p.jpg"]
    assert table.total_size == 1 + 1 + 5 + 1 + 1 + 9 + 1
    with pytest.raises(IndexError):
        table[len(files)]
    with pytest.raises(ValueError, match="is not in"):
        table.append(SourceFile("/other", "a.md", "accounts/a.md", "account", "text/markdown", 1, "text"))
    with pytest.raises(ValueError):
        table.append(SourceFile("/src", "a.mp4", "accounts/a.mp4", "video", "video/mp4", 1, "text"))


@pytest.mark.parametrize("run", [1, 3, 1 << 16])
def test_sorted_is_the_stable_sort_by_member_name_whatever_the_runs(monkeypatch: pytest.MonkeyPatch,
                                                                    run: int) -> None:
    monkeypatch.setattr(mirror.bundle.sourcelist, "_RUN", run)
    rng = random.Random(run)
    alphabet = ["a", "b", "B", "-", "/", "й", "\u00e9", "\U0001f600", "0"]
    files = [_file(f"f{i}.md", "accounts/" + "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 4))), size=i)
             for i in range(200)]
    table = SourceList("/src")
    for item in files:
        table.append(item)
    ordered = table.sorted()
    assert list(ordered) == sorted(files, key=lambda f: f.member)  # sizes tell equal names apart: stable
    for i, item in enumerate(ordered):
        assert ordered.find(item.member) == next(j for j, f in enumerate(ordered) if f.member == item.member)
        assert ordered.member(i) == item.member
    assert ordered.find("accounts/none") is None and ordered.find("zzz") is None


def test_renamed_members_sort_under_their_new_names() -> None:
    table = SourceList("/src")
    for item in (_file("DCIM/IMG_2.jpg", "photos/DCIM/IMG_2.jpg", "photo"), _file("a.jpg", "photos/a.jpg", "photo"),
                 _file("DCIM/IMG_1.jpg", "photos/DCIM/IMG_1.jpg", "photo")):
        table.append(item)
    ordered = table.sorted({"photos/DCIM/IMG_1.jpg": "photos/001.jpg", "photos/DCIM/IMG_2.jpg": "photos/002.jpg"})
    assert [(f.member, f.relative) for f in ordered] == [
        ("photos/001.jpg", "DCIM/IMG_1.jpg"), ("photos/002.jpg", "DCIM/IMG_2.jpg"), ("photos/a.jpg", "a.jpg")]


def test_collected_sources_are_sorted_and_collisions_refused(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mirror.bundle.sourcelist, "_RUN", 2)
    (tmp_path / "accounts" / "z").mkdir(parents=True)
    names = ["accounts/z/b.md", "accounts/a-b.md", "c.md", "accounts/C.md", "accounts/a.md", "Z.md"]
    for name in names:
        (tmp_path / name).write_text("---\nlanguage: en\n---\nText.\n")
    collected = collect_sources(tmp_path)
    members = [f.member for f in collected.files]
    assert members == sorted(members) == ["accounts/C.md", "accounts/Z.md", "accounts/a-b.md", "accounts/a.md",
                                          "accounts/c.md", "accounts/z/b.md"]
    assert {f.relative for f in collected.files} == set(names)
    assert [(r.path, r.reason) for r in collected.refused] == [
        ("c.md", "it would be the same file as accounts/C.md on Windows or macOS")]


def test_checked_files_over_shared_names_keep_only_what_was_added(monkeypatch: pytest.MonkeyPatch) -> None:
    """A subset of a source list's names; extra fields spilled to a temporary file read back by range."""
    monkeypatch.setattr(mirror.bundle.control, "SPILL", 64)
    table = SourceList("/src")
    for i in range(50):
        table.append(_file(f"{i:02d}.md", f"accounts/{i:02d}.md"))
    checked = CheckedFiles(table.names)
    kept = [i for i in range(50) if i % 3]
    for i in kept:
        checked.add(f"accounts/{i:02d}.md", hashlib.sha256(bytes([i])).digest(), i, "text/markdown",
                    {"title": f"Account {i}", "place": "Алматы"} if i % 2 else {})
    assert list(checked) == [f"accounts/{i:02d}.md" for i in kept] and len(checked) == len(kept)
    for i in reversed(range(50)):  # out of order too: the hint is only where to look first
        name = f"accounts/{i:02d}.md"
        if i in kept:
            extra = {"title": f"Account {i}", "place": "Алматы"} if i % 2 else {}
            assert checked[name] == FileMeta(i, "text/markdown", extra)
            assert checked.digest(name) == hashlib.sha256(bytes([i])).hexdigest()
        else:
            assert name not in checked
    with pytest.raises(ValueError, match="not among the files"):
        checked.add("accounts/99x.md", bytes(32), 1, "text/markdown", {})
    with pytest.raises(ValueError, match="does not sort after"):
        checked.add("accounts/00.md", bytes(32), 1, "text/markdown", {})
    assert len(checked) == len(kept)


def test_sorted_overlay_merges_the_added_in_order_and_sums_come_in_pieces() -> None:
    checked = CheckedFiles()
    for name in ("accounts/a.md", "photos/b.jpg", "photos/d.jpg"):
        checked.add(name, hashlib.sha256(name.encode()).digest(), 1, "text/markdown", {})
    overlay = SortedOverlay({"photos/c.jpg": "0" * 64, "SHA": "1" * 64, "photos/b.jpg": "2" * 64}, checked.digests)
    assert list(overlay) == ["SHA", "accounts/a.md", "photos/b.jpg", "photos/c.jpg", "photos/d.jpg"]
    assert overlay["photos/b.jpg"] == "2" * 64
    sums = Sums(overlay)
    whole = Sums(dict(overlay)).to_bytes()
    assert sums.to_bytes() == whole and b"".join(sums.pieces(size=70)) == whole
    assert all(len(piece) < 70 + 100 for piece in sums.pieces(size=70))


def test_an_undecodable_file_name_is_refused_not_a_crash(tmp_path: Path) -> None:
    """A name that is not UTF-8 (a lone surrogate once decoded) is listed, checked and refused by the name rules
    with every other problem of the run; nothing on the way encodes it strictly."""
    (tmp_path / "good.md").write_text("---\nlanguage: en\n---\nText.\n")
    (tmp_path / os.fsdecode(b"bad\xff.md")).write_text("---\nlanguage: en\n---\nText.\n")
    prepared = prepare_bundle(CreateRequest(tmp_path, tmp_path.parent / "out.7z"))
    assert [(r.path, r.fix) for r in prepared.refused] == [("bad\udcff.md", "rename the file")]
    assert "accounts/bad\udcff.md" in prepared.refused[0].reason
    assert prepared.refused[0].reason.endswith("not UTF-8 (byte 0xFF), perhaps from another system's encoding")
    with pytest.raises(InputError, match="cannot be bundled"):
        prepared.check()
