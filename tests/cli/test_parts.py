"""Parts that fit a channel: split, verify alone (in mirror and by hand), join, extract any set of them."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

import mirror.bundle.folder
from conftest import invoke
from forge import Entry, forge
from helpers import make_jpeg, make_sources, require_tool, run, sevenzip_extract, sevenzip_rebuild
from mirror.bundle.create import CreateRequest, create_bundle
from mirror.bundle.verify import verify_bundle
from mirror.errors import ArchiveError
from mirror.formats.endorsement import endorsement_comment, endorsement_name
from mirror.sevenzip import Limits, iter_members, read_archive, regular_files
from mirror.trust.keyring import Keyring
from mirror.trust.keys import SecretKey

LIMIT = 48_000_000
SUMS = ".mirror/SHA256SUMS"


def photo(rng: random.Random, size: int) -> bytes:
    """A JPEG the cleaner accepts, made large by random entropy-coded bytes (no 0xFF, so no markers)."""
    base = make_jpeg(seed=3)
    return base[:-2] + rng.randbytes(size).replace(b"\xff", b"\xfe") + b"\xff\xd9"


def make_bundle(folder: Path, photos: list[int], keys: Path, name: str = "big.7z") -> Path:
    """A signed bundle with two accounts and photos of the given sizes, signed by alice in `keys`."""
    src = make_sources(folder / "src")
    rng = random.Random(len(photos))
    for index, size in enumerate(photos):
        (src / "photos" / f"p{index:02d}.jpg").write_bytes(photo(rng, size))
    ring = Keyring(keys)
    if not (keys / "alice.pub").exists():
        ring.create("alice", None)
    out = folder / name
    create_bundle(CreateRequest(src, out, title="Big"), ring.secret("alice", None))
    return out


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A bundle of about 120 MB (40 photos of 3 MB) and the keyring that trusts its author."""
    folder = tmp_path_factory.mktemp("big")
    keys = folder / "keys"
    return make_bundle(folder, [3_000_000] * 40, keys), keys


@pytest.fixture(scope="module")
def split_parts(big: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The big bundle split for a 48 MB limit."""
    bundle, keys = big
    out = tmp_path_factory.mktemp("parts")
    code, stdout, stderr = invoke(CliRunner(), "split", bundle, "--max-size", "48M", "-o", out, "--keys", keys)
    assert code == 0, stderr
    assert "wrote 3 parts" in stdout
    return sorted(out.iterdir())


def content(path: Path) -> dict[str, bytes]:
    """Every member's bytes, read with mirror's own strict reader."""
    with path.open("rb") as fp:
        archive = read_archive(fp, Limits())
        return {m.name: b"".join(chunks) for m, chunks in iter_members(fp, archive)}


def test_every_part_fits_and_verifies_alone(runner: CliRunner, big: tuple[Path, Path],
                                            split_parts: list[Path], tmp_path: Path) -> None:
    """3 parts under 48 MB; each verifies in mirror and by hand with 7zz, minisign and sha256sum."""
    _bundle, keys = big
    minisign, sha256sum = require_tool("minisign"), require_tool("sha256sum")
    assert [p.name for p in split_parts] == [f"big.part{i}of3.7z" for i in (1, 2, 3)]
    present = 0
    for number, part in enumerate(split_parts, start=1):
        assert part.stat().st_size <= LIMIT
        code, out, _ = invoke(runner, "verify", part, "--keys", keys)
        match = re.match(rf"VERIFIED, part {number} of 3: (\d+) of 44 files present, all match", out)
        assert code == 0 and match, out
        present += int(match[1])
        assert "missing " in out  # a part names what it lacks
        folder = sevenzip_extract(part, tmp_path / part.stem)
        signed = run(minisign, "-Vm", SUMS, "-p", keys / "alice.pub", cwd=folder)
        assert "Signature and comment signature verified" in signed.stdout
        checked = run(sha256sum, "-c", "--ignore-missing", SUMS, cwd=folder)
        assert checked.stdout.count(": OK") >= int(match[1]) and "FAILED" not in checked.stdout
    assert present == 44  # every file is in exactly one part


def test_join_gives_the_same_signed_bundle(runner: CliRunner, big: tuple[Path, Path], split_parts: list[Path],
                                           tmp_path: Path) -> None:
    """join rebuilds a bundle that verifies, with the author's SHA256SUMS, signature and files unchanged: for a
    bundle as mirror create made it, the very same bytes (blocks laid out as create lays them out)."""
    bundle, keys = big
    whole = tmp_path / "whole.7z"
    code, _, stderr = invoke(runner, "join", *reversed(split_parts), "-o", whole, "--keys", keys)
    assert code == 0, stderr
    code, out, _ = invoke(runner, "verify", "--whole", whole, "--keys", keys)
    assert code == 0 and out.startswith("VERIFIED  "), out
    assert content(whole) == content(bundle)
    assert whole.read_bytes() == bundle.read_bytes()


def test_join_names_a_copy_of_a_part_that_added_nothing(runner: CliRunner, big: tuple[Path, Path],
                                                       split_parts: list[Path], tmp_path: Path) -> None:
    """A part received twice under two names is counted once, and named; the bundle is the same."""
    bundle, keys = big
    copy = tmp_path / "from-the-messenger.7z"
    shutil.copy(split_parts[0], copy)
    whole = tmp_path / "whole.7z"
    code, out, stderr = invoke(runner, "join", *split_parts, copy, "-o", whole, "--keys", keys)
    assert code == 0, stderr
    assert f"joined {len(split_parts)} part(s) into" in out and f"{copy} added nothing: all it holds came" in out
    assert whole.read_bytes() == bundle.read_bytes()
    code, out, _ = invoke(runner, "join", "--json", *split_parts, "-o", tmp_path / "again.7z", "--keys", keys)
    assert code == 0 and json.loads(out)["added_nothing"] == []


def test_a_damaged_copy_of_a_part_beside_a_good_one_is_left_out(runner: CliRunner, big: tuple[Path, Path],
                                                                split_parts: list[Path], tmp_path: Path) -> None:
    """A reader downloaded part 1 twice and one copy is damaged: join and extract failed on it (exit 3, no hint)
    though the good copy carried all of it. It is left out and named, with why; given alone, it still fails."""
    bundle, keys = big
    damaged = tmp_path / "part1 (1).7z"
    data = bytearray(split_parts[0].read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(data)
    whole = tmp_path / "whole.7z"
    # first: it is checked, and written while it is checked, before the good copy
    code, out, err = invoke(runner, "join", damaged, *split_parts, "-o", whole, "--keys", keys)
    assert code == 0, err
    assert f"joined {len(split_parts)} part(s)" in out and f"left out {damaged}, which failed a check" in out, out
    assert whole.read_bytes() == bundle.read_bytes()
    code, out, err = invoke(runner, "join", "--json", *split_parts, damaged, "-o", tmp_path / "j.7z", "--keys", keys)
    assert code == 0 and [f["path"] for f in json.loads(out)["failed"]] == [str(damaged)], err
    dest = tmp_path / "out"
    code, out, err = invoke(runner, "extract", damaged, *split_parts, dest, "--keys", keys)
    assert code == 0 and f"left out {damaged}" in out, err
    assert invoke(runner, "verify", dest, "--keys", keys)[0] == 0
    code, _, err = invoke(runner, "join", damaged, *split_parts[1:], "-o", tmp_path / "k.7z", "--keys", keys)
    assert code == 3 and str(damaged) in err and not (tmp_path / "k.7z").exists(), err


def test_join_gives_the_same_bytes_when_the_page_is_in_pieces(runner: CliRunner, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """create compresses the page in pieces of PAGE_PIECE as it renders it; split and join cut it the same way,
    or a joined bundle would verify yet no longer match the SHA-256 a mirror's index lists."""
    import mirror.formats.manifest

    monkeypatch.setattr(mirror.formats.manifest, "PAGE_PIECE", 1000)  # the page of two accounts: several pieces
    keys = tmp_path / "keys"
    bundle = make_bundle(tmp_path, [40_000] * 4, keys, "b.7z")
    assert _sizes(bundle)["index.html"] > 3000
    code, _, err = invoke(runner, "split", bundle, "--max-size", "100k", "-o", tmp_path / "p", "--keys", keys)
    assert code == 0, err
    parts = sorted((tmp_path / "p").iterdir())
    code, _, err = invoke(runner, "join", *parts, "-o", tmp_path / "j.7z", "--keys", keys)
    assert code == 0 and len(parts) >= 2, err
    assert (tmp_path / "j.7z").read_bytes() == bundle.read_bytes()


def test_join_refuses_incomplete_or_mixed_parts(runner: CliRunner, big: tuple[Path, Path], split_parts: list[Path],
                                                tmp_path: Path) -> None:
    """join names the missing files, refuses parts of another bundle, and leaves nothing at the output."""
    _bundle, keys = big
    code, _, err = invoke(runner, "join", *split_parts[:2], "-o", tmp_path / "w.7z", "--keys", keys)
    assert code == 4 and re.search(r"lack \d+ file\(s\): ", err), err  # as extract says: incomplete
    assert "of its 3 parts, these were not given: 3" in err  # which to ask for
    other = make_bundle(tmp_path, [10_000] * 3, keys, "other.7z")
    code, _, err = invoke(runner, "join", split_parts[0], other, "-o", tmp_path / "w.7z", "--keys", keys)
    assert code == 2 and "is not from the same bundle" in err
    assert not (tmp_path / "w.7z").exists()
    code, _, err = invoke(runner, "split", split_parts[0], "--max-size", "10M", "-o", tmp_path / "s", "--keys", keys)
    assert code == 2 and "is part 1 of 3, not a whole bundle" in err and "mirror join" in err
    assert not (tmp_path / "s").exists()
    code, _, err = invoke(runner, "open", "--no-browser", split_parts[0], "--keys", keys)
    stem = str(split_parts[0]).removesuffix(".part1of3.7z")
    assert code == 2 and f"mirror join {stem}.part*.7z -o {stem}.7z, then mirror open {stem}.7z" in err, err
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_extract_two_of_three_parts_names_the_missing_files(runner: CliRunner, big: tuple[Path, Path],
                                                            split_parts: list[Path], tmp_path: Path) -> None:
    """extract of parts 1 and 3 writes what they carry and names every file of part 2 as still missing."""
    _, keys = big
    dest = tmp_path / "out"
    code, out, err = invoke(runner, "extract", split_parts[0], split_parts[2], dest, "--keys", keys)
    assert code == 4 and "files are missing from" in err, err  # incomplete unless asked for
    in_two = sorted(n for n in content(split_parts[1]) if n.startswith("photos/") or n.startswith("accounts/"))
    assert f"still missing {len(in_two)} files" in out
    total = len({n for part in split_parts for n in content(part) if n.startswith(("photos/", "accounts/"))})
    assert f"extracted {total - len(in_two)} of {total} accounts and photos into" in out, out
    assert all(name in out for name in in_two)
    assert not any((dest / name).exists() for name in in_two)
    assert not (dest / ".mirror" / "part.json").exists()
    checked = run(require_tool("sha256sum"), "-c", "--ignore-missing", SUMS, cwd=dest)
    assert "FAILED" not in checked.stdout
    code, out, _ = invoke(runner, "verify", "--json", dest, "--keys", keys)  # the folder is incomplete, by name
    assert code == 0 and json.loads(out)["complete"] is False and json.loads(out)["part"]["missing"] == in_two
    code, _, err = invoke(runner, "extract", "--partial", split_parts[0], tmp_path / "p", "--keys", keys)
    assert code == 0 and (tmp_path / "p" / "index.html").exists(), err


def test_a_stripped_bundle_is_never_verified_silently(runner: CliRunner, tmp_path: Path) -> None:
    """Files removed from a whole bundle fail; with a forged part marker every missing file is still named."""
    keys = tmp_path / "keys"
    bundle = make_bundle(tmp_path, [20_000] * 40, keys)
    folder = sevenzip_extract(bundle, tmp_path / "x")
    for name in ("photos/p03.jpg", "accounts/2022-01-06-almaty.ru.md"):
        (folder / name).unlink()
    stripped = sevenzip_rebuild(folder, tmp_path / "stripped.7z", "-mx0")
    code, out, _ = invoke(runner, "verify", stripped, "--keys", keys)
    assert code == 3 and "missing: photos/p03.jpg" in out
    (folder / ".mirror" / "part.json").write_bytes(b'{"format":"mirror-part/1","part":1,"parts":2}\n')
    forged = sevenzip_rebuild(folder, tmp_path / "forged.7z", "-mx0")
    code, out, _ = invoke(runner, "verify", forged, "--keys", keys)
    assert code == 0 and "part 1 of 2: 42 of 44 files present" in out
    code, out, _ = invoke(runner, "verify", "--json", forged, "--keys", keys)
    assert json.loads(out)["complete"] is False  # what a script must check
    assert "photos/p03.jpg" in out and "accounts/2022-01-06-almaty.ru.md" in out
    code, out, _ = invoke(runner, "verify", "--json", forged, "--keys", keys)
    assert '"missing": [\n   "accounts/2022-01-06-almaty.ru.md",\n   "photos/p03.jpg"\n  ]' in out
    code, out, _ = invoke(runner, "verify", "--whole", forged, "--keys", keys)
    assert code == 3 and "missing: photos/p03.jpg" in out
    for marker in (b'{"format":"mirror-part/1","part":1,"parts":1}\n', b'{"part":1}', b"x" * 5000):
        (folder / ".mirror" / "part.json").write_bytes(marker)
        bad = sevenzip_rebuild(folder, tmp_path / f"bad{len(marker)}.7z", "-mx0")
        code, out, _ = invoke(runner, "verify", bad, "--keys", keys)
        assert code == 3, out
    (folder / "index.html").unlink()  # a part must carry every signed file: the page too
    (folder / ".mirror" / "part.json").write_bytes(b'{"format":"mirror-part/1","part":1,"parts":2}\n')
    pageless = sevenzip_rebuild(folder, tmp_path / "pageless.7z", "-mx0")
    code, out, _ = invoke(runner, "verify", pageless, "--keys", keys)
    assert code == 3 and "missing: index.html" in out


def test_split_refuses_a_file_larger_than_a_part(runner: CliRunner, tmp_path: Path) -> None:
    """The too-large file is named with the smallest --max-size that works, and that size works."""
    keys = tmp_path / "keys"
    bundle = make_bundle(tmp_path, [1_500_000, 400_000, 300_000], keys, "b.7z")
    code, _, err = invoke(runner, "split", bundle, "--max-size", "1M", "-o", tmp_path / "o", "--keys", keys)
    assert code == 2 and "photos/p00.jpg is 1,50" in err
    smallest = re.search(r"smallest --max-size that works is (\d+)([kM])", err)
    assert smallest, err
    less = f"{int(smallest[1]) - 1}{smallest[2]}"
    code, _, err = invoke(runner, "split", bundle, "--max-size", less, "-o", tmp_path / "o", "--keys", keys)
    assert code == 2 and "does not fit in one part" in err
    code, out, err = invoke(runner, "split", bundle, "--max-size", smallest[0].split()[-1], "-o", tmp_path / "o",
                            "--keys", keys)
    assert code == 0 and "wrote 2 parts" in out, err
    code, _, err = invoke(runner, "split", bundle, "--max-size", "100M", "-o", tmp_path / "o2", "--keys", keys)
    assert code == 2 and "fits whole" in err
    assert not (tmp_path / "o2").exists()


def test_split_is_deterministic_and_refuses_to_overwrite(runner: CliRunner, tmp_path: Path) -> None:
    """The same bundle gives the same parts holding the same files; existing parts are never replaced."""
    keys = tmp_path / "keys"
    bundle = make_bundle(tmp_path, [200_000, 150_000, 120_000, 90_000, 60_000], keys, "b.7z")
    listings = []
    for out in ("a", "b"):
        code, _, err = invoke(runner, "split", bundle, "--for", "email", "--max-size", "300k", "-o", tmp_path / out,
                              "--keys", keys)
        assert code == 2 and "either --max-size" in err
        code, _, err = invoke(runner, "split", bundle, "--max-size", "300k", "-o", tmp_path / out, "--keys", keys)
        assert code == 0, err
        listings.append([(p.name, content(p)) for p in sorted((tmp_path / out).iterdir())])
    assert listings[0] == listings[1] and len(listings[0]) == 3
    before = {p: p.read_bytes() for p in (tmp_path / "a").iterdir()}
    code, _, err = invoke(runner, "split", bundle, "--max-size", "300k", "-o", tmp_path / "a", "--keys", keys)
    assert code == 2 and "already exists" in err
    assert {p: p.read_bytes() for p in (tmp_path / "a").iterdir()} == before
    # parts of a split for another size are there: refused before the work, so the two sets are never mixed
    code, _, err = invoke(runner, "split", bundle, "--max-size", "200k", "-o", tmp_path / "a", "--keys", keys)
    assert code == 2 and "b.part1of3.7z already exists" in err
    assert {p: p.read_bytes() for p in (tmp_path / "a").iterdir()} == before


def test_volumes_verify_and_extract_from_the_first(runner: CliRunner, tmp_path: Path) -> None:
    """`7zz a -v10m` of a bundle verifies and extracts from .001; gaps and later volumes are refused by name."""
    keys = tmp_path / "keys"
    bundle = make_bundle(tmp_path, [2_000_000] * 6, keys, "b.7z")
    folder = sevenzip_extract(bundle, tmp_path / "x")
    volumes = tmp_path / "vol"
    volumes.mkdir()
    run(require_tool("7zz"), "a", "-bso0", "-bsp0", "-v10m", "-mx0", volumes / "b.7z", ".", cwd=folder)
    assert sorted(p.name for p in volumes.iterdir()) == ["b.7z.001", "b.7z.002"]
    code, out, _ = invoke(runner, "verify", volumes / "b.7z.001", "--keys", keys)
    assert code == 0 and out.startswith("VERIFIED  "), out
    (volumes / "b.7z.003").write_bytes(b"hello")  # another set's volume beside it: named, not "5 bytes follow"
    code, out, err = invoke(runner, "verify", volumes / "b.7z.001", "--keys", keys)
    assert code == 3 and "b.7z.003 begins after the end of the 7z archive that the volumes before it hold" in out, out
    assert "hint: move b.7z.003 out of the folder" in err, err
    (volumes / "b.7z.003").unlink()
    code, out, err = invoke(runner, "extract", volumes / "b.7z.001", tmp_path / "got", "--keys", keys)
    assert code == 0, err
    assert (tmp_path / "got" / "photos" / "p05.jpg").read_bytes() == (folder / "photos" / "p05.jpg").read_bytes()
    code, _, err = invoke(runner, "verify", volumes / "b.7z.002", "--keys", keys)
    assert code == 2 and "give the first volume: b.7z.001" in err
    code, out, err = invoke(runner, "scan", volumes / "b.7z.001")  # the set is read as the one bundle it is
    assert code == 0 and out.startswith("CLEAN"), out + err
    code, _, err = invoke(runner, "endorse", volumes / "b.7z.001", "--claim", "relayed", "-o", tmp_path / "e.7z",
                          "--keys", keys)
    assert code == 2 and "is the first of 2 7-Zip volumes, not a whole bundle" in err and "truncated" not in err
    assert not (tmp_path / "e.7z").exists()
    renamed = tmp_path / "renamed"  # as HJSplit or Total Commander name them: the first alone ends short
    renamed.mkdir()
    for number in (1, 2):
        (renamed / f"b.00{number}").write_bytes((volumes / f"b.7z.00{number}").read_bytes())
    code, _, err = invoke(runner, "verify", renamed / "b.001", "--keys", keys)
    assert code == 3 and "truncated" in err, err
    assert "it looks like the first of a set of volumes beside it: name them b.7z.001, b.7z.002, ..." in err, err
    (renamed / "c.7z").write_bytes((volumes / "b.7z.001").read_bytes())  # a folder named like a volume is none
    (renamed / "c.2024").mkdir()
    code, _, err = invoke(runner, "verify", renamed / "c.7z", "--keys", keys)
    assert code == 3 and "truncated" in err and "volumes" not in err, err
    (volumes / "b.7z").write_bytes((volumes / "b.7z.001").read_bytes())  # beside a set named as 7-Zip names it
    code, _, err = invoke(runner, "verify", volumes / "b.7z", "--keys", keys)
    assert code == 3 and "7-Zip volumes are beside it: give their first, b.7z.001" in err, err
    with pytest.raises(ArchiveError, match="truncated"):  # publish, seed, torrent would pass on one volume alone
        verify_bundle(volumes / "b.7z.001", Keyring(keys))
    (volumes / "b.7z.002").unlink()
    code, out, err = invoke(runner, "verify", volumes / "b.7z.001", "--keys", keys)
    assert code == 3 and "put b.7z.002 and the rest beside the first one" in err


def test_a_volume_cut_short_is_named_and_one_volume_alone_is_the_bundle(runner: CliRunner, tmp_path: Path) -> None:
    """A middle volume cut short got "if there are more, put b.7z.005 ...": every volume was there. 7-Zip makes
    every volume but the last as long as the first, so the short one is named. A set of one volume (7-Zip's
    "split to 48M" of a smaller bundle) is the bundle itself: endorse refused it as "the first of 1 volumes"."""
    keys = tmp_path / "keys"
    bundle = make_bundle(tmp_path, [300_000] * 4, keys, "b.7z")
    Keyring(keys).create("bob", None)
    folder = sevenzip_extract(bundle, tmp_path / "x")
    sevenzip = require_tool("7zz")
    volumes = tmp_path / "vol"
    volumes.mkdir()
    run(sevenzip, "a", "-bso0", "-bsp0", "-v300k", "-mx0", volumes / "b.7z", ".", cwd=folder)
    assert len(list(volumes.iterdir())) >= 4
    middle = volumes / "b.7z.002"
    middle.write_bytes(middle.read_bytes()[:-576])
    code, out, err = invoke(runner, "verify", volumes / "b.7z.001", "--keys", keys)
    assert code == 3 and "b.7z.002 is 306,624 bytes and the first volume 307,200" in err, (out, err)
    assert "copy it again" in err and "put b.7z" not in err, err
    one = tmp_path / "one"
    one.mkdir()
    run(sevenzip, "a", "-bso0", "-bsp0", "-v100m", "-mx0", one / "c.7z", ".", cwd=folder)
    assert [p.name for p in one.iterdir()] == ["c.7z.001"]
    code, out, err = invoke(runner, "endorse", one / "c.7z.001", "--key", "bob", "--claim", "relayed", "-o",
                            tmp_path / "e.7z", "--keys", keys)
    assert code == 0, (out, err)
    assert invoke(runner, "verify", tmp_path / "e.7z", "--keys", keys)[0] == 0
    renamed = tmp_path / "renamed"  # as HJSplit names them: every command says what to do, not verify alone
    renamed.mkdir()
    for number in (1, 2):
        (renamed / f"b.00{number}").write_bytes((volumes / f"b.7z.00{number}").read_bytes())
    for command in (("extract", renamed / "b.001", tmp_path / "got"), ("split", renamed / "b.001", "--max-size",
                    "200k", "-o", tmp_path / "parts"), ("endorse", renamed / "b.001", "--key", "bob", "--claim",
                    "relayed", "-o", tmp_path / "e2.7z")):
        code, _, err = invoke(runner, *command, "--keys", keys)
        assert code == 3 and "name them b.7z.001, b.7z.002, ..." in err, (command, err)


def test_a_plain_byte_split_verifies_too(runner: CliRunner, bundle: Path, tmp_path: Path) -> None:
    """7-Zip's "split file" (bytes cut in pieces, named .001, .002, ...) is read like volumes; a gap is named, and
    is incomplete input (exit 4), not a usage error."""
    data = bundle.read_bytes()
    step = len(data) // 4 + 1
    for index in range(4):
        (tmp_path / f"s.7z.{index + 1:03d}").write_bytes(data[index * step:(index + 1) * step])
    code, out, _ = invoke(runner, "verify", tmp_path / "s.7z.001")
    assert code == 0 and out.startswith("VERIFIED  "), out
    (tmp_path / "s.7z.003").unlink()
    code, _, err = invoke(runner, "verify", tmp_path / "s.7z.001")
    assert code == 4 and "volume s.7z.003 of s.7z is missing (3 of 4 volumes found)" in err
    for command in (("extract", tmp_path / "s.7z.001", tmp_path / "out"), ("show", tmp_path / "s.7z.001")):
        code, _, err = invoke(runner, *command)
        assert code == 4 and "s.7z.003" in err and not (tmp_path / "out").exists(), command
    code, out, _ = invoke(runner, "scan", "--json", tmp_path / "s.7z.001")  # scan's own verdict: not scanned
    assert code == 7 and "s.7z.003" in json.loads(out)["not_scanned"][0]["reason"]


@pytest.mark.parametrize(("options", "method"), [
    pytest.param(("-m0=PPMd",), "with PPMd", id="ppmd"),
    pytest.param(("-m0=BZip2",), "with BZip2", id="bzip2"),
    pytest.param(("-tzip",), "as a zip archive", id="zip"),
])
def test_a_repack_mirror_cannot_read_says_which_and_the_fix(runner: CliRunner, bundle: Path, tmp_path: Path,
                                                            options: tuple[str, ...], method: str) -> None:
    """The method is named with the fix (exit 3); following the fix gives a copy that verifies."""
    folder = sevenzip_extract(bundle, tmp_path / "x")
    repack = sevenzip_rebuild(folder, tmp_path / "repack.7z", *options)
    code, out, err = invoke(runner, "verify", repack)
    assert code == 3
    assert out.startswith("NOT CHECKED  ") and f"repacked {method}, which mirror does not read" in out
    assert "7z a -m0=lzma2 NEW.7z ./FOLDER/." in err
    run(require_tool("7zz"), "a", "-bso0", "-bsp0", "-m0=lzma2", tmp_path / "new.7z", "./x/.", cwd=tmp_path)
    code, out, _ = invoke(runner, "verify", tmp_path / "new.7z")
    assert code == 0, out
    code, out, _ = invoke(runner, "verify", folder)
    assert code == 0, out


def test_verify_a_folder(runner: CliRunner, bundle: Path, keyring: Keyring, tmp_path: Path) -> None:
    """An extracted bundle verifies; a changed, missing or extra file, or a link, fails (exit 3) by name."""
    folder = sevenzip_extract(bundle, tmp_path / "x")
    code, out, _ = invoke(runner, "verify", folder)
    assert code == 0 and out.startswith(f"VERIFIED  {folder}"), out
    code, out, _ = invoke(runner, "verify", folder, "--keys", tmp_path / "nobody")
    assert code == 5 and out.startswith("INTACT, UNKNOWN SIGNER"), out
    original = (folder / "photos" / "square.jpg").read_bytes()
    (folder / "photos" / "square.jpg").unlink()  # a missing file is named: incomplete, not a whole bundle
    code, out, _ = invoke(runner, "verify", folder)
    assert code == 0 and out.startswith("VERIFIED, INCOMPLETE: "), out
    assert "1 files, not in this folder: photos/square.jpg" in out
    code, out, _ = invoke(runner, "verify", "--json", folder)
    assert json.loads(out)["complete"] is False and json.loads(out)["part"]["missing"] == ["photos/square.jpg"]
    code, out, _ = invoke(runner, "verify", "--whole", folder)
    assert code == 3 and "missing: photos/square.jpg" in out
    (folder / "photos" / "square.jpg").write_bytes(original)
    (folder / "index.html").rename(tmp_path / "index.html")  # but every signed file must be there, the page too
    code, out, _ = invoke(runner, "verify", folder)
    assert code == 3 and "missing: index.html" in out
    (tmp_path / "index.html").rename(folder / "index.html")
    cases: dict[str, Callable[[], object]] = {
        "changed: photos/square.jpg": lambda: (folder / "photos" / "square.jpg").write_bytes(original + b"x"),
        "not listed in SHA256SUMS: photos/extra.jpg": lambda: (folder / "photos" / "extra.jpg").write_bytes(b"x"),
    }
    for problem, damage in cases.items():
        damage()
        code, out, _ = invoke(runner, "verify", folder)
        assert code == 3 and problem in out, out
        (folder / "photos" / "extra.jpg").unlink(missing_ok=True)
        (folder / "photos" / "square.jpg").unlink(missing_ok=True)
        (folder / "photos" / "square.jpg").write_bytes(original)
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(original)  # the right bytes, but outside the folder: a link to them must not count
    (folder / "photos" / "square.jpg").unlink()
    (folder / "photos" / "square.jpg").symlink_to(outside)
    code, out, _ = invoke(runner, "verify", folder)
    assert code == 3 and "not a regular file (a link, device or FIFO; never followed): photos/square.jpg" in out
    assert "missing" not in out  # said once, as what it is
    (folder / "photos" / "square.jpg").unlink()
    (folder / "photos" / "square.jpg").mkdir()  # a folder under the file's name: not a file missing from a part
    for whole in ((), ("--whole",)):
        code, out, _ = invoke(runner, "verify", folder, *whole)
        assert code == 3 and "a folder where a listed file should be: photos/square.jpg" in out, out
        assert "missing" not in out
    (folder / "photos" / "square.jpg").rmdir()
    (folder / "photos").rename(tmp_path / "photos")
    (folder / "photos").symlink_to(tmp_path / "photos")  # a linked folder is never entered either
    code, out, _ = invoke(runner, "verify", folder)
    assert code == 3 and "photos" in out
    shutil.rmtree(folder)


def test_a_file_this_computer_cannot_read_is_an_error_not_a_verdict(bundle: Path, keyring: Keyring,
                                                                   tmp_path: Path) -> None:
    """No permission to read a file or a folder is this computer's problem: exit 1, naming it, not "do not
    trust" (exit 3); but it never hides evidence: the check goes on, and a changed file still fails (exit 3),
    with what could not be read beside it. Run as root, the check runs without the capabilities that bypass
    file permissions."""
    folder = sevenzip_extract(bundle, tmp_path / "x")
    prefix: list[str] = []
    if os.geteuid() == 0:
        prefix = [require_tool("setpriv"), "--inh-caps=-dac_override,-dac_read_search",
                  "--bounding-set=-dac_override,-dac_read_search"]
    command = [*prefix, sys.executable, "-m", "mirror", "verify", str(folder)]
    photo = folder / "photos" / "square.jpg"
    account = next((folder / "accounts").iterdir())
    original = account.read_bytes()
    for locked, name in ((photo, "photos/square.jpg"), (folder / "accounts", "accounts")):
        mode = locked.stat().st_mode
        locked.chmod(0)
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=os.environ)
            assert done.returncode == 1, (done.stdout, done.stderr)
            assert f"cannot be read, so the folder was not checked in full: {name}: Permission denied" in done.stderr
            assert "Traceback" not in done.stderr
            if locked == photo:  # and with a changed file beside it: the change decides
                account.write_bytes(original + b"x")
                done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=os.environ)
                account.write_bytes(original)
                assert done.returncode == 3, (done.stdout, done.stderr)
                assert f"changed: accounts/{account.name}" in done.stdout
                assert f"cannot be read (Permission denied): {name}" in done.stdout
        finally:
            locked.chmod(mode)
    assert subprocess.run(command, capture_output=True, timeout=60).returncode == 0


def test_parts_carry_the_endorsements(runner: CliRunner, tmp_path: Path) -> None:
    """Every part carries the trusted and the unknown endorsement, not the invalid one; join keeps them."""
    keys = tmp_path / "keys"
    bundle = make_bundle(tmp_path, [40_000] * 4, keys, "b.7z")
    ring = Keyring(keys)
    ring.create("bob", None)
    ring.create("carol", None)
    folder = sevenzip_extract(bundle, tmp_path / "x")
    members = {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
    meta = json.loads(members[".mirror/bundle.json"])
    notes = []
    for key, data in ((ring.secret("bob", None), members[SUMS]), (ring.secret("carol", None), b"other bytes"),
                      (SecretKey.generate(), members[SUMS])):
        signature = key.sign(data, endorsement_comment(meta["id"], meta["version"], "knows-author"))
        notes.append(Entry(endorsement_name(key.public.key_id), signature.to_bytes()))
    endorsed = forge(tmp_path / "endorsed.7z", [*(Entry(n, d) for n, d in members.items()), *notes])
    code, _, err = invoke(runner, "split", endorsed, "--max-size", "100k", "-o", tmp_path / "p", "--keys", keys)
    assert code == 0, err
    parts = sorted((tmp_path / "p").iterdir())
    assert len(parts) >= 2
    for part in parts:
        code, out, _ = invoke(runner, "verify", part, "--keys", keys)
        assert code == 0 and "endorsed by  bob" in out and "1 from keys not in your keyring" in out, out
        assert "INVALID" not in out and notes[1].name not in content(part)
    code, _, err = invoke(runner, "join", *parts, "-o", tmp_path / "j.7z", "--keys", keys)
    assert code == 0, err
    code, out, _ = invoke(runner, "verify", tmp_path / "j.7z", "--keys", keys)
    assert code == 0 and "endorsed by  bob" in out


def test_parts_share_one_copy_of_the_signed_lists(big: tuple[Path, Path], split_parts: list[Path],
                                                  tmp_path: Path) -> None:
    """Staging every part keeps the signed lists' columns once, not once per part (a million files in 13 parts
    would hold 13 copies), and records each file written as a byte, never as a name."""
    from mirror.bundle.staging import stage

    _, keys = big
    folder = tmp_path / "s"
    folder.mkdir()
    staged = stage(split_parts, Keyring(keys), folder)
    assert len(staged.verified) == 3
    assert all(v.sums is staged.first.sums and v.meta is staged.first.meta for v in staged.verified)
    assert not staged.missing and staged.written == bytearray(b"\x01") * len(staged.first.sums.entries)
    assert set(staged.unlisted) == {SUMS, ".mirror/SHA256SUMS.minisig"}
    assert staged.files == len(staged.first.sums.entries) + 2
    two = tmp_path / "two"
    two.mkdir()
    partial = stage([split_parts[0], split_parts[2]], Keyring(keys), two)
    in_two = sorted(n for n in content(split_parts[1]) if n.startswith(("photos/", "accounts/")))
    assert list(partial.missing) == in_two and in_two[-1] in partial.missing and SUMS not in partial.missing
    assert partial.missing[1:3] == in_two[1:3] and partial.missing[-1] == in_two[-1]


def test_a_bundle_with_an_empty_page_splits_and_joins(runner: CliRunner, tmp_path: Path) -> None:
    """The page is signed like any file and may be empty (create never writes one, another tool may): every part
    still carries it, though it has no data to copy from the block every part shares."""
    import hashlib

    from mirror.formats.manifest import Sums, trusted_comment

    keys = tmp_path / "keys"
    bundle = make_bundle(tmp_path, [40_000] * 4, keys, "b.7z")
    folder = sevenzip_extract(bundle, tmp_path / "x")
    members = {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
    meta = json.loads(members[".mirror/bundle.json"])
    meta["files"]["index.html"]["size"] = 0
    members["index.html"] = b""
    members[".mirror/bundle.json"] = json.dumps(meta, indent=1, ensure_ascii=False).encode() + b"\n"
    listed = {n: hashlib.sha256(d).hexdigest() for n, d in members.items() if not n.startswith(SUMS)}
    members[SUMS] = Sums(listed).to_bytes()
    signature = Keyring(keys).secret("alice", None).sign(members[SUMS], trusted_comment(meta["id"], meta["version"]))
    members[SUMS + ".minisig"] = signature.to_bytes()
    empty_page = forge(tmp_path / "empty-page.7z", [Entry(n, d) for n, d in members.items()])
    code, out, err = invoke(runner, "verify", empty_page, "--keys", keys)
    assert code == 0, out + err
    code, _, err = invoke(runner, "split", empty_page, "--max-size", "100k", "-o", tmp_path / "p", "--keys", keys)
    assert code == 0, err
    parts = sorted((tmp_path / "p").iterdir())
    assert len(parts) >= 2 and all(_sizes(p)["index.html"] == 0 for p in parts)
    code, _, err = invoke(runner, "join", *parts, "-o", tmp_path / "j.7z", "--keys", keys)
    assert code == 0, err
    assert _sizes(tmp_path / "j.7z") == {n: len(d) for n, d in members.items()}


def _sizes(path: Path) -> dict[str, int]:
    """Every regular file of an archive (members without data too), with its size."""
    with path.open("rb") as fp:
        return {m.name: m.size for m in regular_files(read_archive(fp, Limits()))}


def test_verify_a_folder_with_a_very_deep_chain_of_folders(runner: CliRunner, bundle: Path, tmp_path: Path) -> None:
    """Nested folders too deep for any file a bundle names (their path is over MAX_NAME_BYTES): not looked into
    (each folder was opened from the root, so 3,000 levels took 25 s); the folder fails by the chain's name."""
    folder = sevenzip_extract(bundle, tmp_path / "x")
    deep = folder / "accounts" / "/".join(["a" * 120] * 9)
    deep.mkdir(parents=True)
    (deep / "x.md").write_text("nobody signed this\n", encoding="utf-8")
    code, out, _ = invoke(runner, "verify", folder)
    assert code == 3 and "a folder too deep to hold a file of a bundle (not looked into): accounts/aaa" in out, out
    assert "x.md" not in out


def test_verify_a_folder_counts_every_problem_and_shows_200(runner: CliRunner, bundle: Path, tmp_path: Path) -> None:
    """Links and files nobody signed together: the count is all of them, the lines shown at most 200 and one more
    for the rest (links were all listed, and the count was of the lines, not the files)."""
    folder = sevenzip_extract(bundle, tmp_path / "x")
    for i in range(250):
        (folder / "accounts" / f"link{i:03d}.md").symlink_to("/nonexistent")
        (folder / "accounts" / f"extra{i:03d}.md").write_text("x\n", encoding="utf-8")
    code, out, _ = invoke(runner, "verify", folder)
    lines = [line for line in out.splitlines() if line.startswith("  ")]
    assert code == 3 and len(lines) == 201 and lines[-1].strip() == "and 300 more file(s), not listed here", out
    code, out, _ = invoke(runner, "verify", folder, "--json")
    doc = json.loads(out)
    assert code == 3 and doc["error"].startswith("500 file(s) failed") and len(doc["problems"]) == 201


def test_verify_a_folder_with_too_many_deep_folders_stops(runner: CliRunner, bundle: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Folders are opened from the top: depth times count is bounded (500 levels and 9,400 folders took 22 s)."""
    monkeypatch.setattr(mirror.bundle.folder, "MAX_WALK_STEPS", 300)
    folder = sevenzip_extract(bundle, tmp_path / "x")
    deep = folder / "accounts" / "/".join("a" * 30)
    for i in range(20):
        (deep / f"b{i}").mkdir(parents=True)
    code, out, err = invoke(runner, "verify", folder)
    assert code == 3 and "folders too many and too deep to check" in out + err, (out, err)


def test_a_folder_swapped_for_a_link_after_the_walk_is_evidence(tmp_path: Path) -> None:
    """Between the walk and the hashing a folder becomes a link (or a file): that is a swap, exit 3, never
    "cannot be read" (exit 1)."""
    from mirror.bundle import folder as checked_folder
    from mirror.errors import ContentError

    root = tmp_path / "root"
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "a.md").write_text("a\n")
    root.mkdir()
    (root / "accounts").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ContentError, match=r"accounts/a\.md cannot be opened"):
        checked_folder._hash(root, "accounts/a.md", 10)
    (root / "accounts").unlink()
    (root / "accounts").write_text("now a file\n")
    with pytest.raises(ContentError, match=r"accounts/a\.md cannot be opened"):
        checked_folder._read(root, "accounts/a.md", 10)
