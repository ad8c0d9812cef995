"""Writes that never replace what someone else put in place."""

from __future__ import annotations

import errno
import unicodedata
from pathlib import Path

import pytest

from mirror.errors import ConfigError
from mirror.safeio import atomic_output, fit_stem, rename_noreplace


def test_rename_noreplace_refuses_an_empty_folder_that_appeared(tmp_path: Path) -> None:
    """os.rename would silently replace an empty folder; extraction must not."""
    staging, dest = tmp_path / "staging", tmp_path / "dest"
    staging.mkdir()
    (staging / "a.txt").write_text("a")
    dest.mkdir()
    with pytest.raises(ConfigError, match="already exists"):
        rename_noreplace(staging, dest)
    assert list(dest.iterdir()) == [] and (staging / "a.txt").exists()
    dest.rmdir()
    rename_noreplace(staging, dest)
    assert (dest / "a.txt").read_text() == "a" and not staging.exists()


def test_atomic_output_without_force_never_replaces(tmp_path: Path) -> None:
    """A file that appears at the output while it is being written is kept; the new one is dropped."""
    out = tmp_path / "out.7z"
    with pytest.raises(ConfigError, match="already exists"), atomic_output(out, force=False) as tmp:
        tmp.write_bytes(b"new")
        out.write_bytes(b"someone else's")
    assert out.read_bytes() == b"someone else's"
    assert not list(tmp_path.glob(".out.7z.*"))  # the temporary file is gone too


@pytest.mark.parametrize(("unit", "suffix"), [
    ("\u0915\u093f", ".part1of3.7z"),  # Devanagari ki: its vowel sign has combining class 0
    ("\u2764\ufe0f", ".7z"),  # a red heart: the emoji's variation selector
    ("\u1112\u1161\u11ab", ".torrent"),  # NFD Hangul (macOS file names): a syllable is three jamo
    ("\U0001f44b\U0001f3fd", ".endorsed.7z"),  # a waving hand with its skin tone
    ("\U0001f468\u200d\U0001f469\u200d\U0001f467", ".7z"),  # a family: three emoji joined
])
def test_fit_stem_keeps_each_written_letter_whole(unit: str, suffix: str) -> None:
    """A cut between a letter and a mark of combining class 0 left a misspelt name (a bare क, a heart without its
    selector, a lone Hangul consonant): the name is cut before the whole letter."""
    cut = fit_stem(unit * 200, suffix)
    assert len((cut + suffix).encode()) <= 255 and cut and len(cut) % len(unit) == 0, len(cut)


def test_fit_stem_cuts_between_letters_so_a_name_fits_255_bytes() -> None:
    """A name made from another (NAME.part1of4.7z) of a NAME as long as a file system allows is shortened, whole
    letters only: a Cyrillic letter is two bytes, an emoji four, an accent goes with its letter."""
    assert fit_stem("almaty", ".endorsed.7z") == "almaty"
    assert fit_stem("а" * 122, ".part1of4.7z") == "а" * 121  # 244 + 12 bytes: one letter goes
    for stem in ("а" * 130, "😀" * 70, "b" + "а" * 130, unicodedata.normalize("NFD", "й" * 90)):
        for suffix in (".part1of4.7z", ".endorsed.7z", ".torrent", ".part0001of1000.7z"):
            cut = fit_stem(stem, suffix)
            assert stem.startswith(cut) and len((cut + suffix).encode()) <= 255
            assert len((stem[: len(cut) + 1] + suffix).encode()) > 255 or unicodedata.combining(stem[len(cut) + 1])
            assert not cut or not unicodedata.combining(stem[len(cut)])  # never a letter without its accent


def test_a_failed_output_takes_away_the_folders_made_for_it(tmp_path: Path) -> None:
    """`-o new/sub/x.7z` makes new/ and new/sub/; when the output then fails (a full disk, a check), they went
    on standing, empty. A folder something else was put in meanwhile stays; on success, all stay."""
    tmp_path = tmp_path / "base"
    tmp_path.mkdir()
    with pytest.raises(OSError, match="No space left"), atomic_output(tmp_path / "new" / "sub" / "x.7z",
                                                                        force=False) as tmp:
        tmp.write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="refused"), atomic_output(tmp_path / "new" / "sub" / "x.7z",
                                                                   force=False) as tmp:
        (tmp_path / "new" / "kept.txt").write_text("another program's")
        raise ValueError("refused")
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == ["new", "new/kept.txt"]
    with atomic_output(tmp_path / "other" / "x.7z", force=False) as tmp:
        tmp.write_bytes(b"whole")
    assert (tmp_path / "other" / "x.7z").read_bytes() == b"whole"
    with pytest.raises(OSError), atomic_output(tmp_path / "new" / "kept.txt" / "x.7z", force=False):
        pass  # a file stands where a folder should be: said, nothing made
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "new", "new/kept.txt", "other", "other/x.7z"]


def test_a_small_file_read_against_a_huge_cap_asks_for_no_more_memory_than_it_holds(tmp_path: Path) -> None:
    """read(cap + 1) sets the cap aside before it reads a byte: against a cap far past the memory there is, a file of
    a few bytes was a MemoryError (a folder mirror's index read this way, like an extracted folder's signed files).
    Read a piece at a time, it costs what it holds; the cap still holds."""
    from mirror.fetch.transport import FolderMirror
    from mirror.safeio import read_at_most, read_regular

    (tmp_path / "index.json").write_bytes(b"{}\n")
    huge = 1 << 46
    assert FolderMirror(tmp_path).read("index.json", huge) == b"{}\n"
    assert read_regular(tmp_path / "index.json", huge) == b"{}\n"
    with (tmp_path / "index.json").open("rb") as handle:
        assert read_at_most(handle, 2) == b"{}"
    (tmp_path / "big").write_bytes(b"x" * (3 << 20))
    with (tmp_path / "big").open("rb") as handle:
        assert read_at_most(handle, (2 << 20) + 1) == b"x" * ((2 << 20) + 1)


def test_a_folder_hosts_small_file_read_against_a_huge_cap_asks_for_no_more_memory_than_it_holds(
        tmp_path: Path) -> None:
    """The publisher's folder host (a USB stick, a shared drive) read a file with read(limit + 1), which sets the
    limit aside first: against a cap far past the memory there is, an index of a few bytes was a MemoryError.
    It is now read a piece at a time, and a file over the cap is still refused."""
    from mirror.errors import TransferError
    from mirror.publish.hosts.directory import DirectoryHost

    (tmp_path / "index.json").write_bytes(b"{}\n")
    host = DirectoryHost("usb", tmp_path)
    assert host.read("index.json", 1 << 46) == b"{}\n"
    with pytest.raises(TransferError, match=r"index\.json is larger than 2 bytes"):
        host.read("index.json", 2)


def test_a_state_file_nested_deeper_than_the_parser_goes_is_said_damaged(tmp_path: Path) -> None:
    """A state file of 60,000 "[" (a damaged or planted one) raised RecursionError, an internal error: it is
    damaged, and said so like any other (helper-171)."""
    from mirror.safeio import load_state

    state = tmp_path / "state.json"
    state.write_text("[" * 60_000)
    with pytest.raises(ConfigError, match="is damaged"):
        load_state(state)
