"""A scan of an archive of many empty members: each name is checked, and quickly (a forged 415 KB 7z of a million
empty members held `mirror scan` 39 s, each name passing every identifier search)."""

from __future__ import annotations

import random
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from forge import Entry, forge
from mirror.formats.media import suffix_of
from mirror.privacy import identifiers
from mirror.privacy.scan_paths import scan_path
from mirror.sevenzip.members import kind_problem, kind_problems
from mirror.sevenzip.model import Member, MemberTable

# The searches of kinds that need a hint a plain name lacks: each is run only where the hint is
PASSES = ("ibans", "document_numbers", "card_numbers", "coordinates", "map_links", "what3words", "plus_codes",
          "receiver_fixes", "_obfuscated_emails")


def test_plain_names_pass_every_search_for_an_identifier_by(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """2,000 names of no identifier (accounts/000123.md) reach none of the searches of one kind; a name that holds
    a phone number among them is still found."""
    calls: dict[str, int] = dict.fromkeys(PASSES, 0)

    def counted(name: str) -> Any:
        real = getattr(identifiers, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return real(*args, **kwargs)
        return call

    for name in PASSES:
        monkeypatch.setattr(identifiers, name, counted(name))
    entries = [Entry(f"accounts/{i:06d}.md", b"") for i in range(2000)]
    archive = forge(tmp_path / "names.7z", [*entries, Entry("accounts/call +7 701 123 45 67.md", b"")],
                    encode_header=True)
    report = scan_path(archive)
    assert report.scanned == 2001
    assert [(f.path, f.kind) for f in report.findings] == [("accounts/call +7 701 123 45 67.md", "phone")]
    assert sum(calls.values()) <= 2 * len(PASSES), calls  # the phone's name (and its "_" reading) only


def test_an_extension_is_read_as_pure_posix_path_reads_it() -> None:
    """suffix_of reads the name as a string (a PurePosixPath a name cost 4 us of a million names' scan): the same
    suffix for names of slashes, points, empty parts and ".." as PurePosixPath gives."""
    rng = random.Random(5)
    names = ["", ".", "..", "/", "//", "a/", "a/.", "a/./", "a/..", ".md", "a/.md", "a.b.", "a..", "x/y.MD", "x.tar.gz",
             "a/b/.", "a//b.jpg//", "./a.txt", "a/./.", "photos/IMG_0001.JPG", "a.b/c"]
    names += ["".join(rng.choice("ab./.") for _ in range(rng.randint(0, 9))) for _ in range(20_000)]
    for name in names:
        assert suffix_of(name) == PurePosixPath(name).suffix.lower(), name


def _members(rng: random.Random, count: int) -> list[Member]:
    attributes = (None, 0x20, 0x10, 0x400, 0x8000 | 0o100644 << 16, 0x8000 | 0o40755 << 16, 0x8000 | 0o120777 << 16,
                  0o100644 << 16, 0x10 | 0x8000 | 0o100644 << 16, 0x8000 | 0o20644 << 16)
    members = []
    for i in range(count):
        stream = rng.random() < 0.5
        members.append(Member(f"m{i}", 1 if stream else 0, None, 0 if stream else None, rng.choice(attributes),
                              stream, not stream and rng.random() < 0.6, rng.random() < 0.1))
    return members


def test_each_kind_of_member_is_judged_as_each_member_is() -> None:
    """kind_problems judges each kind of member once (MemberTable.kind): the same problems, at the same members, as
    kind_problem of each; MemberTable.is_dir says what Member.is_dir says."""
    members = _members(random.Random(7), 3000)
    table = MemberTable.of(members)
    expected = [(i, problem) for i, member in enumerate(members) if (problem := kind_problem(member)) is not None]
    assert list(kind_problems(table)) == expected
    assert expected  # (the members hold some of each)
    assert [table.is_dir(i) for i in range(len(table))] == [member.is_dir for member in members]
