"""The verified-hash cache: an unchanged bundle is not hashed again; any change, or a damaged cache, means verify."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from mirror.bundle.verified import FORMAT, Facts, VerifiedCache, file_key
from mirror.bundle.verify import verify_bundle
from mirror.errors import ContentError
from mirror.sevenzip import Limits, iter_members, read_archive
from mirror.trust.keyring import Keyring


def _member(bundle: Path, name: str) -> bytes:
    with bundle.open("rb") as fp:
        archive = read_archive(fp, Limits())
        for member, chunks in iter_members(fp, archive):
            data = b"".join(chunks)
            if member.name == name:
                return data
    raise AssertionError(name)


def _tampered(bundle: Path) -> bytes:
    """The bundle's bytes with one byte of a stored photo changed: same size, the CRC left as it was."""
    data = bytearray(bundle.read_bytes())
    photo = _member(bundle, "photos/square.jpg")
    at = data.find(photo) + len(photo) // 2
    assert data.count(photo) == 1
    data[at] ^= 0x01
    return bytes(data)


def _sums(bundle: Path) -> str:
    return hashlib.sha256(_member(bundle, ".mirror/SHA256SUMS")).hexdigest()


def _same_size_mtime_other_inode(bundle: Path, bad: bytes) -> None:
    st = bundle.stat()
    other = bundle.with_name("other.7z")
    other.write_bytes(bad)
    os.utime(other, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(other, bundle)


def _in_place_mtime_restored(bundle: Path, bad: bytes) -> None:
    st = bundle.stat()
    with bundle.open("r+b") as out:
        out.write(bad)
    os.utime(bundle, ns=(st.st_atime_ns, st.st_mtime_ns))


def _in_place_touched(bundle: Path, bad: bytes) -> None:
    with bundle.open("r+b") as out:
        out.write(bad)


def _truncated_and_regrown(bundle: Path, bad: bytes) -> None:
    st = bundle.stat()
    os.truncate(bundle, len(bad) // 2)
    with bundle.open("r+b") as out:
        out.write(bad)
    os.utime(bundle, ns=(st.st_atime_ns, st.st_mtime_ns))


@pytest.mark.parametrize("change", [
    pytest.param(_same_size_mtime_other_inode, id="same size and mtime, other inode"),
    pytest.param(_in_place_mtime_restored, id="written in place, mtime set back"),
    pytest.param(_in_place_touched, id="written in place, mtime touched"),
    pytest.param(_truncated_and_regrown, id="truncated and regrown"),
])
def test_a_changed_bundle_is_verified_again(bundle: Path, keyring: Keyring, tmp_path: Path,
                                            change: Callable[[Path, bytes], None]) -> None:
    """After any change to the file, the cache entry of its verified state is not used: the change is caught."""
    cache = VerifiedCache(tmp_path / "verified.json")
    assert verify_bundle(bundle, keyring, cache=cache).trusted
    cache.save()
    assert cache.lookup(bundle) == Facts(sums=_sums(bundle))
    change(bundle, _tampered(bundle))
    with pytest.raises(ContentError, match=r"photos/square\.jpg"):
        verify_bundle(bundle, keyring, cache=VerifiedCache(tmp_path / "verified.json"))


def test_an_entry_for_the_unchanged_file_skips_its_data(bundle: Path, keyring: Keyring, tmp_path: Path) -> None:
    """An entry keyed by the file's current stat is believed for the data (and only the data): so it must be
    exact. The test writes one for a tampered file, which then passes; the signature is still checked."""
    bundle.write_bytes(_tampered(bundle))
    cache = VerifiedCache(tmp_path / "verified.json")
    cache.record(bundle.stat(), bundle.stat(), Facts(sums=_sums(bundle)))
    assert verify_bundle(bundle, keyring, cache=cache).trusted
    assert not verify_bundle(bundle, None, cache=cache).trusted  # trust is decided again every time
    with pytest.raises(ContentError):
        verify_bundle(bundle, keyring)  # no cache: hashed, caught


def test_an_entry_made_for_other_signed_lists_is_not_used(bundle: Path, keyring: Keyring, tmp_path: Path) -> None:
    """An entry whose SHA256SUMS differs from the one in the file means a full verify."""
    bundle.write_bytes(_tampered(bundle))
    cache = VerifiedCache(tmp_path / "verified.json")
    cache.record(bundle.stat(), bundle.stat(), Facts(sums="0" * 64))
    with pytest.raises(ContentError):
        verify_bundle(bundle, keyring, cache=cache)


@pytest.mark.parametrize("damage", [
    pytest.param(lambda entry: b"{" + json.dumps(entry).encode()[:-3], id="cut short"),
    pytest.param(lambda entry: json.dumps({"format": "mirror-verified/9", "entries": entry}).encode(),
                 id="other format"),
    pytest.param(lambda entry: json.dumps({"format": FORMAT, "entries": {**entry, "k": {"sums": "zz"}}}).encode(),
                 id="one bad entry among good ones"),
    pytest.param(lambda entry: json.dumps({"format": FORMAT, "entries": {**entry, "k": {"x": 1}}}).encode(),
                 id="an unknown field"),
    pytest.param(lambda entry: b"\xff\xfe" + os.urandom(64), id="not text"),
])
def test_a_damaged_cache_file_means_verify_again(bundle: Path, keyring: Keyring, tmp_path: Path,
                                                 damage: Callable[[dict[str, object]], bytes]) -> None:
    """A cache file that is not exactly well formed is ignored as a whole, even its entry for this very file,
    and the next save writes a sound one."""
    bundle.write_bytes(_tampered(bundle))
    path = tmp_path / "verified.json"
    path.write_bytes(damage({file_key(bundle.stat()): {"sums": _sums(bundle)}}))
    with pytest.raises(ContentError):
        verify_bundle(bundle, keyring, cache=VerifiedCache(path))


def test_a_missing_or_unwritable_cache_is_no_error(bundle: Path, keyring: Keyring, tmp_path: Path) -> None:
    """No cache file: verify in full and write one; a cache that cannot be written is just not kept."""
    path = tmp_path / "verified.json"
    cache = VerifiedCache(path)
    assert verify_bundle(bundle, keyring, cache=cache).trusted
    cache.save()
    doc = json.loads(path.read_text())
    assert doc["format"] == FORMAT and list(doc["entries"]) == [file_key(bundle.stat())]
    assert path.stat().st_mode & 0o777 == 0o600
    blocked = VerifiedCache(tmp_path / "file" / "verified.json")
    (tmp_path / "file").write_bytes(b"")  # its folder is a file
    assert verify_bundle(bundle, keyring, cache=blocked).trusted
    blocked.save()


def test_a_file_changed_while_it_was_read_is_not_recorded(tmp_path: Path) -> None:
    """record() keeps nothing when the stat after the read differs from the one before it."""
    target = tmp_path / "x"
    target.write_bytes(b"one")
    before = target.stat()
    target.write_bytes(b"two!")
    cache = VerifiedCache(tmp_path / "verified.json")
    cache.record(before, target.stat(), Facts(sums="a" * 64))
    assert cache.lookup(target) is None and cache.get(before) is None


def test_a_cache_padded_with_entries_is_cut_to_the_newest(tmp_path: Path) -> None:
    """A cache file of 300,000 entries (6 MB, under the read limit) took a minute on its first record (the oldest
    were dropped one at a time, each dropping slower than the last) and fetch 33 s for one bundle: only the newest
    MAX_ENTRIES are read, and past a slack the oldest are dropped at once (helper-122)."""
    from mirror.bundle.verified import FORMAT, MAX_ENTRIES

    path = tmp_path / "verified.json"
    path.write_text('{"format":"' + FORMAT + '","entries":{'
                    + ",".join(f'"0:{i}:1:1:1":{{}}' for i in range(300_000)) + "}}")
    cache = VerifiedCache(path)
    assert cache.lookup(path) is None and len(cache._all()) == MAX_ENTRIES  # read: the newest only
    here = tmp_path / "a"
    here.write_bytes(b"a")
    stat = os.stat(here)
    for _ in range(3_000):  # the same file, recorded again and again: each record makes it the newest
        cache.record(stat, stat, Facts(sha256="0" * 64))
    assert cache.get(os.stat(tmp_path / "a")) == Facts(sha256="0" * 64)
    cache.save()
    kept = json.loads(path.read_text())["entries"]
    assert len(kept) == MAX_ENTRIES and "0:299999:1:1:1" in kept and "0:0:1:1:1" not in kept  # the newest only


def test_on_a_file_system_of_coarse_times_nothing_is_cached(tmp_path: Path) -> None:
    """On FAT and exFAT (a USB stick as fetch's DEST) the change time is the modification time, which a program
    sets back: a bundle rewritten in place kept its key, and fetch said "already here" of bytes verify fails
    (helper-122). Times in whole hundredths of a second: the cache is neither read nor written."""
    here = tmp_path / "b.7z"
    here.write_bytes(b"b")
    fine = os.stat(here)
    coarse = os.stat_result((*fine[:7], 1_640_995_200, 1_640_995_200, 1_640_995_200),
                            {"st_mtime_ns": 1_640_995_200_000_000_000, "st_ctime_ns": 1_640_995_200_000_000_000})
    cache = VerifiedCache(tmp_path / "verified.json")
    cache.record(coarse, coarse, Facts(sha256="0" * 64))
    assert cache.get(coarse) is None and not (cache.save() or (tmp_path / "verified.json").exists())
    elsewhere = os.stat_result((fine[0], fine[1], fine.st_dev + 1, *fine[3:10]),
                               {"st_mtime_ns": fine.st_mtime_ns, "st_ctime_ns": fine.st_ctime_ns})
    cache.record(elsewhere, elsewhere, Facts(sha256="0" * 64))  # a stick: NTFS's change time is set on Windows
    assert cache.get(elsewhere) is None and not (tmp_path / "verified.json").exists()
    if fine.st_mtime_ns % 10_000_000:
        cache.record(fine, fine, Facts(sha256="0" * 64))
        assert cache.get(fine) == Facts(sha256="0" * 64)


def test_what_an_earlier_mirror_verified_is_verified_again(tmp_path: Path) -> None:
    """Entries of mirror-verified/1 were verified without the members' CRCs (a CRC in the header that the data does
    not have passed): none is used (helper-134)."""
    from mirror.bundle.verified import FORMAT

    path = tmp_path / "verified.json"
    path.write_text('{"format":"mirror-verified/1","entries":{"0:1:1:1:1":{}}}')
    assert FORMAT != "mirror-verified/1" and VerifiedCache(path)._all() == {}
