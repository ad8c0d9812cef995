"""The column structures that keep verify's memory flat: names, keyed indexes, the member table, SHA256SUMS."""

from __future__ import annotations

import hashlib
import io
from array import array
from pathlib import Path

import pytest

from mirror.errors import ArchiveError, ManifestError
from mirror.formats import manifest
from mirror.formats.manifest import V2, BundleMeta, FileColumns, FileMeta, Sums, SumsTable
from mirror.formats.table import KeyedIndex, NameColumn, NameRefs
from mirror.sevenzip import Files, Limits, Member, MemberTable, NameList, read_archive, regular_files
from mirror.sevenzip.members import find_collision
from mirror.sevenzip.writer import ArchiveWriter


def _column(*names: str) -> NameColumn:
    column = NameColumn()
    column.extend(name.encode() for name in names)
    return column


def test_name_column_round_trips_any_script() -> None:
    """Names come back exactly, whatever their script, from one blob and their offsets."""
    names = ["accounts/a.md", "фото/снимок.jpg", "\U0001d518/x", ""]
    column = _column(*names)
    assert [column.name(i) for i in range(len(column))] == names
    assert column.raw(1) == names[1].encode()


def test_forced_hash_collision_the_real_name_decides() -> None:
    """With every name hashed alike, lookups still find exactly the entry with those bytes, and nothing else."""
    names = [f"accounts/{i}.md" for i in range(50)]
    column = _column(*names)
    index = KeyedIndex(len(column), column.raw, hasher=lambda _: 7)  # every key collides
    assert index.add_all(len(column)) is None  # all distinct: the bytes, not the hash, were compared
    for i, name in enumerate(names):
        assert index.find(name.encode()) == i
    assert index.find(b"accounts/50.md") is None
    assert index.find(b"accounts/1.MD") is None


def test_keyed_index_reports_the_earlier_duplicate() -> None:
    """add() returns the position of an earlier entry with the same bytes; add_all() the later one."""
    column = _column("a", "b", "a")
    index = KeyedIndex(3, column.raw, hasher=lambda _: 0)
    assert index.add(0) is None
    assert index.add(1) is None
    assert index.add(2) == 0
    assert KeyedIndex(3, column.raw).add_all(3) == 2


def test_tagged_index_calls_raw_only_on_equal_hashes() -> None:
    """A tagged index compares keys (costly to make) only when their stored hashes agree."""
    made: list[int] = []

    def key(i: int) -> bytes:
        made.append(i)
        return b"k%d" % i

    index = KeyedIndex(100, key, tagged=True)
    for i in range(100):
        assert index.add(i, b"k%d" % i) is None
    assert made == []  # distinct keys, distinct 64-bit hashes: no key was ever made again


def _members() -> list[Member]:
    return [Member("a.md", 3, 0x1234, 0, 0x20, True, False, False),
            Member("dir", 0, None, None, 0x10, False, False, False),
            Member("empty.md", 0, None, None, None, False, True, False)]


def test_member_table_views_equal_the_members() -> None:
    """A table of members gives back equal Member values (with their position) and reads single columns."""
    members = _members()
    table = MemberTable.of(members)
    assert len(table) == 3
    assert [(m.name, m.size, m.crc, m.folder, m.attributes, m.has_stream, m.is_empty_file, m.is_anti)
            for m in table] == [(m.name, m.size, m.crc, m.folder, m.attributes, m.has_stream, m.is_empty_file,
                                 m.is_anti) for m in members]
    assert table[-1].index == 2
    assert (table.name(0), table.size(0), table.folder(1), table.has_stream(2)) == ("a.md", 3, None, False)
    with pytest.raises(IndexError):
        table[3]


def _archive(tmp_path: Path, names: list[str]) -> Path:
    path = tmp_path / "a.7z"
    with ArchiveWriter.create(path) as writer:
        writer.add_texts([(name, name.encode()) for name in names])
    return path


def test_files_find_names_and_keep_archive_order(tmp_path: Path) -> None:
    """regular_files gives a view in archive order that finds each name, and a NameList of them."""
    names = ["b/x.md", "a/y.md", "Кириллица/z.md"]
    with _archive(tmp_path, names).open("rb") as fp:
        files = regular_files(read_archive(fp, Limits()))
    assert isinstance(files, Files)
    assert list(files.names()) == names
    assert [files.find(n) for n in names] == [0, 1, 2]
    assert files.find("a/Y.md") is None
    listed = NameList(files)
    assert list(listed) == names and listed[-1] == names[-1] and "a/y.md" in listed and "a" not in listed


@pytest.mark.parametrize(("names", "pair"), [
    (["accounts/A.md", "accounts/a.md"], ("accounts/A.md", "accounts/a.md")),
    (["Photos/x.jpg", "photos/y.jpg"], ("Photos", "photos")),  # two folders
    (["accounts/\ufb01le.md", "accounts/file.md"], ("accounts/file.md", "accounts/\ufb01le.md")),
    (["ÄB/x", "äb/y"], ("ÄB", "äb")),
    (["accounts/ok.md", "accounts/OK2.md", "фото/А.jpg"], None),
], ids=["case", "folders", "NFKC", "non-ASCII case", "none"])
def test_collisions_found_among_files_and_folders(tmp_path: Path, names: list[str],
                                                  pair: tuple[str, str] | None) -> None:
    """Names that one file system would merge are found, plain lowercase ones or not."""
    path = _archive(tmp_path, names)
    with path.open("rb") as fp:
        archive = read_archive(fp, Limits())
    if pair is None:
        regular_files(archive)
        return
    with pytest.raises(ArchiveError, match="collide"):
        regular_files(archive)
    table = archive.members
    files = Files(table, array("i", range(len(table))))
    files.lookup.add_all(len(files))
    folders = sorted({n.rsplit("/", 1)[0] for n in names if "/" in n})
    assert find_collision(files, folders) == pair


def test_duplicate_member_is_refused(tmp_path: Path) -> None:
    """Two members of one name are refused by their real bytes."""
    with _archive(tmp_path, ["a.md", "b.md", "a.md"]).open("rb") as fp:
        archive = read_archive(fp, Limits())
    with pytest.raises(ArchiveError, match=r"'a\.md' appears twice"):
        regular_files(archive)


def _sums(paths: list[str]) -> bytes:
    return Sums({p: hashlib.sha256(p.encode()).hexdigest() for p in paths}).to_bytes()


def test_sums_table_reads_the_signed_bytes() -> None:
    """SHA256SUMS parses into a mapping over its own bytes: sorted iteration, lookups, equality with a dict."""
    paths = [".mirror/author.pub", ".mirror/bundle.json", "accounts/\u0431.md", "accounts/a.md", "index.html"]
    raw = _sums(paths)
    sums = Sums.from_bytes(raw, V2)
    table = sums.entries
    assert isinstance(table, SumsTable)
    assert list(table) == sorted(paths)
    assert table["accounts/\u0431.md"] == hashlib.sha256("accounts/\u0431.md".encode()).hexdigest()
    assert "accounts/c.md" not in table and table.get("accounts/c.md") is None
    assert sums == Sums({p: hashlib.sha256(p.encode()).hexdigest() for p in paths})
    assert table.near(b"accounts/a.md", 2) == 2 and table.near(b"accounts/a.md", 0) == 2
    assert Sums(dict(table)).to_bytes() == raw


def test_sums_table_finds_by_bisection_then_by_its_index(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first lookups bisect the sorted lines (no index for a handful); past a few, the index is built; both
    give the same answers, in any script, and None for what is not listed."""
    monkeypatch.setattr(manifest, "_BISECTIONS", 50)
    paths = [".mirror/author.pub", ".mirror/bundle.json", "index.html"]
    paths += [f"accounts/{chr(0x430 + n % 32)}{chr(0x1F600 + n % 7)}{n}.md" for n in range(300)]
    table = Sums.from_bytes(_sums(paths), V2).entries
    assert isinstance(table, SumsTable)
    order = list(table)
    for path in reversed(paths):  # 303 lookups: 50 by bisection, then the index
        assert table.find(path) == order.index(path)
        assert table.find(path + "x") is None and table.find(path[:-1]) is None
    assert table.find("") is None and table.find("\U0010ffff") is None
    assert table._lookup is not None


def test_sums_table_caps_from_limits() -> None:
    """The line and byte caps can be given (a benchmark raises them); the defaults are docs/format.md's."""
    raw = _sums([".mirror/author.pub", ".mirror/bundle.json", "index.html", "a.md"])
    with pytest.raises(ManifestError, match="more than 3 files"):
        Sums.from_bytes(raw, V2, max_lines=3)
    with pytest.raises(ManifestError, match="too large"):
        Sums.from_bytes(raw, V2, max_bytes=len(raw) - 1)


def test_file_columns_against_the_signed_list() -> None:
    """bundle.json read against a parsed SHA256SUMS keeps size and type by line; duplicates and strays fail."""
    files = {"accounts/a.md": FileMeta(3, "text/markdown", {"title": "x"}), "index.html": FileMeta(5, "text/html"),
             "photos/b.jpg": FileMeta(9, "image/jpeg"), "photos/c.jpg": FileMeta(4, "image/jpeg")}
    meta = BundleMeta("abcdef0123456789", 1, "t", "2026-01-01T00:00:00Z", ("en",), "0" * 16, files)
    raw = meta.to_bytes()
    listed = Sums.from_bytes(_sums([*files, ".mirror/author.pub", ".mirror/bundle.json"]), V2).entries
    undescribed = (".mirror/author.pub", ".mirror/bundle.json")
    parsed = BundleMeta.from_bytes(raw, listed=listed, undescribed=undescribed)
    assert isinstance(parsed.files, FileColumns)
    assert {p: (m.size, m.type) for p, m in parsed.files.items()} == {p: (m.size, m.type) for p, m in files.items()}
    assert ".mirror/bundle.json" not in parsed.files
    twice = raw.replace(b'"photos/c.jpg"', b'"photos/b.jpg"')
    with pytest.raises(ManifestError, match=r"twice|different files"):
        BundleMeta.from_bytes(twice, listed=listed, undescribed=undescribed)
    with pytest.raises(ManifestError, match="different files"):
        BundleMeta.from_bytes(raw, listed=listed, undescribed=(*undescribed, "index.html"))


def test_member_table_of_a_real_archive_matches_its_members(tmp_path: Path) -> None:
    """The header parser fills whole columns for an archive whose members all have data."""
    names = [f"accounts/{i:04d}.md" for i in range(300)]
    path = _archive(tmp_path, names)
    archive = read_archive(io.BytesIO(path.read_bytes()), Limits())
    assert [m.name for m in archive.members] == names
    assert [m.size for m in archive.members] == [len(n) for n in names]
    assert all(m.crc is not None and m.folder is not None for m in archive.members)


def test_sums_paths_refer_to_the_members_they_name() -> None:
    """Read with NameRefs over the archive's names, a listed path the archive has costs a position, one it lacks
    is kept; the table answers exactly as one that keeps every path."""
    members = NameColumn()
    for name in ["index.html", "accounts/a.md", ".mirror/bundle.json", "accounts/\u0431\U0001f600.md", "extra.md"]:
        members.append(name.encode())
    index = KeyedIndex(len(members), members.raw)
    index.add_all(len(members))
    paths = [".mirror/author.pub", ".mirror/bundle.json", "accounts/a.md", "accounts/\u0431\U0001f600.md",
             "accounts/gone.md", "index.html"]
    raw = _sums(paths)
    refs = NameRefs(members.raw, index.find)
    shared = Sums.read(io.BytesIO(raw), V2, names=refs).entries
    whole = Sums.from_bytes(raw, V2).entries
    assert isinstance(shared, SumsTable) and list(shared) == list(whole) == sorted(paths)
    assert dict(shared) == dict(whole) and Sums(dict(shared)).to_bytes() == raw
    assert [refs.raw(j) for j in range(len(refs))] == [p.encode() for p in sorted(paths)]
    assert len(refs.own) == 2  # .mirror/author.pub and accounts/gone.md: not members
    assert list(refs.refs) == [-1, 2, 1, -2, 3, 0]  # sorted: gone.md before the Cyrillic name
    for path in paths:
        assert shared.find(path) == whole.find(path)
    assert shared.find("extra.md") is None  # a member SHA256SUMS does not list
