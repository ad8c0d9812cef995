"""Parts, volumes and folders at their edges: paths under files, failures that must leave nothing behind."""

from __future__ import annotations

import errno
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_parts import make_bundle

from conftest import invoke
from helpers import require_tool, run
from mirror.bundle.destination import said_under
from mirror.sevenzip import Limits, read_archive
from mirror.trust.keyring import Keyring


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[Path]]:
    """A bundle of four 60 KB photos, its keyring, and its parts of at most 150 KB."""
    folder = tmp_path_factory.mktemp("small")
    keys = folder / "keys"
    bundle = make_bundle(folder, [60_000] * 4, keys, "s.7z")
    code, _, err = invoke(CliRunner(), "split", bundle, "--max-size", "150k", "-o", folder / "parts", "--keys", keys)
    assert code == 0, err
    return bundle, keys, sorted((folder / "parts").iterdir())


def test_outputs_under_a_file_are_refused_by_name(runner: CliRunner, small: tuple[Path, Path, list[Path]]) -> None:
    """split -o, join -o and extract DEST under a file: exit 2, the file named as not a folder."""
    bundle, keys, parts = small
    for args in (("split", bundle, "--max-size", "150k", "-o", bundle / "sub"),
                 ("join", *parts, "-o", bundle / "w.7z"),
                 ("extract", *parts, bundle / "out"),
                 ("extract", bundle, bundle / "a" / "out")):
        code, _, err = invoke(runner, *args, "--keys", keys)
        assert code == 2 and f"{bundle} is not a folder" in err, (args, err)


def test_a_broken_link_as_output_is_named_and_never_written_through(
        runner: CliRunner, small: tuple[Path, Path, list[Path]], tmp_path: Path) -> None:
    """extract DEST, split -o and extract's last argument as a link to nothing: exit 2, the link and its target
    named; nothing appears where the link points."""
    bundle, keys, parts = small
    target = tmp_path / "nowhere"
    link = tmp_path / "out"
    link.symlink_to(target)
    for args in (("extract", bundle, link), ("extract", *parts, link), ("split", bundle, "--max-size", "150k",
                                                                            "-o", link)):
        code, _, err = invoke(runner, *args, "--keys", keys)
        assert code == 2 and f"{link} is a link to {target}, which does not exist" in err, (args, err)
        assert "does not exist\n" not in err.replace("which does not exist\n", "")
    assert not target.exists()


def test_an_extracted_folder_whose_mirror_folder_is_a_link_says_so(
        runner: CliRunner, small: tuple[Path, Path, list[Path]], tmp_path: Path) -> None:
    bundle, keys, _ = small
    out = tmp_path / "x"
    assert invoke(runner, "extract", bundle, out, "--keys", keys)[0] == 0
    (out / ".mirror").rename(tmp_path / "elsewhere")
    (out / ".mirror").symlink_to(tmp_path / "elsewhere")
    code, _, err = invoke(runner, "verify", out, "--keys", keys)
    assert code == 3 and ".mirror is not a regular file or folder (a link" in err, err


def test_a_failure_leaves_no_folders_behind(runner: CliRunner, small: tuple[Path, Path, list[Path]],
                                            tmp_path: Path) -> None:
    """Folders made for DEST or -o are removed again when the command fails."""
    bundle, keys, parts = small
    nobody = tmp_path / "nobody"
    for args in (("extract", bundle, tmp_path / "z1" / "z2" / "dest", "--keys", nobody),
                 ("extract", *parts, tmp_path / "z1" / "z2" / "dest", "--keys", nobody),
                 ("split", bundle, "--max-size", "1k", "-o", tmp_path / "z1" / "z2", "--keys", keys),
                 ("join", parts[0], "-o", tmp_path / "z1" / "z2" / "w.7z", "--keys", keys)):
        code, _, err = invoke(runner, *args)
        assert code in (2, 4, 5), (args, err)
        assert not (tmp_path / "z1").exists(), args


def test_an_error_writing_names_dest_not_the_working_folder(runner: CliRunner, small: tuple[Path, Path, list[Path]],
                                                            tmp_path: Path) -> None:
    """A file whose path is too long for the system is named by its place in the bundle, with the fix (a shorter
    DEST), never under the hidden working folder that is gone by then; a folder that cannot be written in is
    named as the reader gave it. Nothing is left behind."""
    bundle, keys, parts = small
    deep = tmp_path
    while len(str(deep)) < 4040 - 200:
        deep /= "d" * 199
    deep /= "d" * (4040 - len(str(deep)) - 1)
    deep.mkdir(parents=True)
    for inputs in ([bundle], parts):
        code, _, err = invoke(runner, "extract", *inputs, deep / "o", "--keys", keys)
        assert code == 2 and "its path is too long for this system" in err and "a shorter path" in err, err
        assert "mirror-tmp" not in err, err
        assert list(deep.iterdir()) == []
    read_only = tmp_path / "ro"
    read_only.mkdir(mode=0o555)
    prefix: list[str] = []
    if os.geteuid() == 0:
        prefix = [require_tool("setpriv"), "--inh-caps=-dac_override", "--bounding-set=-dac_override"]
    for inputs in ([bundle], parts):
        done = subprocess.run([*prefix, sys.executable, "-m", "mirror", "extract", *map(str, inputs),
                               str(read_only / "o"), "--keys", str(keys)], capture_output=True, text=True, timeout=60)
        assert done.returncode == 1 and f"{read_only}: no file can be made in this folder" in done.stderr, done.stderr
        assert "(Permission denied)" in done.stderr, done.stderr
        assert "mirror-tmp" not in done.stderr and list(read_only.iterdir()) == []


def test_an_output_folder_that_takes_no_file_is_named_before_the_work(
        small: tuple[Path, Path, list[Path]], tmp_path: Path) -> None:
    """split, join and endorse into a folder where no file can be made (read-only here; /proc said "No such file
    or directory"): said at once by the folder's name, as create says it; endorse named its temporary file."""
    bundle, keys, parts = small
    read_only = tmp_path / "ro"
    read_only.mkdir(mode=0o555)
    prefix: list[str] = []
    if os.geteuid() == 0:
        prefix = [require_tool("setpriv"), "--inh-caps=-dac_override", "--bounding-set=-dac_override"]
    for args in (["split", str(bundle), "--max-size", "150k", "-o", str(read_only)],
                 ["join", *map(str, parts), "-o", str(read_only / "w.7z")],
                 ["endorse", str(bundle), "--key", "alice", "--claim", "relayed", "-o", str(read_only / "e.7z")]):
        done = subprocess.run([*prefix, sys.executable, "-m", "mirror", *args, "--keys", str(keys)],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 1, done.stderr
        assert done.stderr.startswith(f"mirror: {read_only}: no file can be made in this folder"), done.stderr
        assert "mirror-tmp" not in done.stderr and list(read_only.iterdir()) == []


def test_an_error_before_dest_is_named_says_the_file_in_the_bundle(tmp_path: Path) -> None:
    """Without DEST (its name comes from the bundle's title once verified), an error inside the working folder
    names the file by its place in the bundle."""
    private = tmp_path / ".x.mirror-tmp"
    with pytest.raises(OSError) as caught, said_under(private, lambda: None):
        raise OSError(errno.ENOSPC, "No space left on device", str(private / "photos" / "a.jpg"))
    assert caught.value.filename == "photos/a.jpg"
    with pytest.raises(OSError) as caught, said_under(private, lambda: tmp_path / "out"):
        raise OSError(errno.EACCES, "Permission denied", str(private / "photos"), None, str(tmp_path / "elsewhere"))
    assert caught.value.filename == str(tmp_path / "out" / "photos")
    assert caught.value.filename2 == str(tmp_path / "elsewhere")


def test_a_mistyped_part_is_not_taken_for_the_destination(runner: CliRunner, small: tuple[Path, Path, list[Path]],
                                                         tmp_path: Path) -> None:
    """A last argument that does not exist but is named like a bundle, a volume or a part is refused by name."""
    _, keys, parts = small
    for typo in ("s.part13of12.7z", "s.7z", "s.7z.004", "S.PART3OF3.7Z"):
        code, _, err = invoke(runner, "extract", *parts, tmp_path / typo, "--keys", keys)
        assert code == 2 and f"{tmp_path / typo} does not exist" in err, err
        assert not (tmp_path / typo).exists()


def test_an_existing_file_meant_as_the_destination_is_refused(runner: CliRunner,
                                                               small: tuple[Path, Path, list[Path]],
                                                               tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`extract BUNDLE out/report` with out/report a file: it was taken for one more input, left out as failing a
    check, and the files went to a folder of the bundle's name, exit 0 (helper-149). Refused; nothing written. A
    part renamed to anything still counts as one (it begins as a 7z)."""
    bundle, keys, parts = small
    monkeypatch.chdir(tmp_path)
    report = tmp_path / "report"
    report.write_text("notes\n")
    before = set(tmp_path.iterdir())
    code, _, err = invoke(runner, "extract", bundle, report, "--keys", keys)
    assert code == 2 and f"{report} already exists and is not a bundle" in err, err
    assert set(tmp_path.iterdir()) == before and report.read_text() == "notes\n"
    renamed = tmp_path / "second"
    renamed.write_bytes(parts[1].read_bytes())
    code, _, err = invoke(runner, "extract", parts[0], *parts[2:], renamed, tmp_path / "out", "--keys", keys)
    assert code == 0 and (tmp_path / "out").is_dir(), err


@pytest.mark.parametrize(("size", "words"), [
    pytest.param("1" + "0" * 400, "is more than 1,000,000,000,000 bytes", id="400-digits"),
    pytest.param("10000000000G", "is more than 1,000,000,000,000 bytes", id="too-large"),
    pytest.param("1e5", "is not a size", id="exponent"),
])
def test_a_size_out_of_range_is_a_usage_error(runner: CliRunner, small: tuple[Path, Path, list[Path]],
                                              tmp_path: Path, size: str, words: str) -> None:
    """--max-size is parsed exactly: a huge or malformed size is exit 2 with the reason, never a crash."""
    bundle, keys, _ = small
    code, _, err = invoke(runner, "split", bundle, "--max-size", size, "-o", tmp_path / "o", "--keys", keys)
    assert code == 2 and words in err, err


def test_exact_sizes() -> None:
    """Decimal sizes have no float noise."""
    from mirror.formats.part import parse_size

    assert parse_size("1000G") == 10**12 and parse_size("0.1M") == 100_000 and parse_size("45MiB") == 45 << 20


def test_the_key_import_hint_works_for_a_part_and_for_volumes(runner: CliRunner, small: tuple[Path, Path, list[Path]],
                                                              tmp_path: Path) -> None:
    """verify of an unknown signer's part or first volume prints a keys import command, and that command works."""
    bundle, _, parts = small
    volumes = tmp_path / "v"
    volumes.mkdir()
    data = bundle.read_bytes()
    half = len(data) // 2
    (volumes / "s.7z.001").write_bytes(data[:half])
    (volumes / "s.7z.002").write_bytes(data[half:])
    for index, given in enumerate((parts[1], volumes / "s.7z.001")):
        reader = tmp_path / f"reader{index}"
        code, out, _ = invoke(runner, "verify", given, "--keys", reader)
        assert code == 5, out
        fingerprint = re.search(r"fingerprint  (.+)", out)
        assert fingerprint and f"mirror keys import {given}" in out
        code, _, err = invoke(runner, "keys", "import", given, "--name", "alice", "--fingerprint", fingerprint[1],
                              "--keys", reader)
        assert code == 0, err
        code, out, _ = invoke(runner, "verify", given, "--keys", reader)
        assert code == 0, out


def test_show_open_and_endorse_with_parts_and_volumes(runner: CliRunner, small: tuple[Path, Path, list[Path]],
                                                      tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """show takes a part (its lacking files marked) and volumes; open takes volumes and sends a part to join or
    extract; endorse sends a part to join (exit 2), never a "files failed" verdict."""
    bundle, keys, parts = small
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    volumes = tmp_path / "v"
    volumes.mkdir()
    data = bundle.read_bytes()
    (volumes / "s.7z.001").write_bytes(data[: len(data) // 2])
    (volumes / "s.7z.002").write_bytes(data[len(data) // 2:])
    code, out, err = invoke(runner, "show", parts[0], "--keys", keys)
    assert code == 0 and f"part 1 of {len(parts)}" in out and "[not in this part]" in out, err
    code, out, _ = invoke(runner, "show", "--json", parts[0], "--keys", keys)
    assert code == 0 and json.loads(out)["complete"] is False and json.loads(out)["part"]["number"] == 1
    code, out, err = invoke(runner, "show", volumes / "s.7z.001", "--keys", keys)
    assert code == 0 and "[not in this part]" not in out and "p03.jpg" in out, err
    code, out, err = invoke(runner, "open", "--no-browser", volumes / "s.7z.001", "--keys", keys)
    assert code == 0 and out.startswith("OPENED  "), err
    code, _, err = invoke(runner, "open", "--no-browser", parts[1], "--keys", keys)
    stem = str(parts[1]).removesuffix(f".part2of{len(parts)}.7z")
    assert code == 2 and f"is part 2 of {len(parts)}" in err and f"mirror extract {stem}.part*.7z FOLDER" in err, err
    if not (keys / "bob.pub").exists():
        Keyring(keys).create("bob", None)
    code, _, err = invoke(runner, "endorse", parts[0], "--key", "bob", "--claim", "relayed", "-o", tmp_path / "e.7z",
                          "--keys", keys)
    assert code == 2 and f"is part 1 of {len(parts)}, not a whole bundle" in err and "join first" in err, err
    assert not (tmp_path / "e.7z").exists()


def test_split_measures_what_every_part_repeats(runner: CliRunner, small: tuple[Path, Path, list[Path]],
                                                tmp_path: Path) -> None:
    """A text-heavy bundle can be split (the smallest size named is under the bundle's, and works), and a photo
    bundle's parts are filled: at most one part well under the size."""
    from helpers import make_sources
    from mirror.bundle.create import CreateRequest, create_bundle

    _, keys, _ = small
    src = make_sources(tmp_path / "src")
    for index in range(300):
        (src / "accounts" / f"2022-02-{index:04d}.en.md").write_text(
            f"---\ntitle: T{index}\ndate: 2022-02-01\nlanguage: en\n---\nThe street was quiet, {index * 7919}.\n")
    text = tmp_path / "t.7z"
    create_bundle(CreateRequest(src, text, title="Texts"), Keyring(keys).secret("alice", None))
    code, _, err = invoke(runner, "split", text, "--max-size", "1k", "-o", tmp_path / "o", "--keys", keys)
    smallest = re.search(r"smallest --max-size that works is (\d+)k", err)
    assert code == 2 and smallest, err
    assert int(smallest[1]) * 1000 < text.stat().st_size
    code, out, err = invoke(runner, "split", text, "--max-size", f"{text.stat().st_size - 1}", "-o",
                            tmp_path / "o", "--keys", keys)
    assert code == 0 and "wrote 2 parts" in out, err
    sizes = [45_000, 40_000, 35_000, 30_000, 25_000, 20_000, 15_000, 12_000, 10_000, 8_000]
    photos = make_bundle(tmp_path / "pb", sizes, keys, "p.7z")
    code, out, err = invoke(runner, "split", photos, "--max-size", "100k", "-o", tmp_path / "p", "--keys", keys)
    assert code == 0, err
    sizes = sorted(p.stat().st_size for p in (tmp_path / "p").iterdir())
    assert max(sizes) <= 100_000 and all(size > 75_000 for size in sizes[1:]), sizes


def test_split_of_volumes_counts_every_volume(runner: CliRunner, small: tuple[Path, Path, list[Path]],
                                              tmp_path: Path) -> None:
    """A 7-Zip set whose first volume is under the size, but not the whole set, is split, not called whole."""
    bundle, keys, _ = small
    data = bundle.read_bytes()
    (tmp_path / "s.7z.001").write_bytes(data[:100_000])
    (tmp_path / "s.7z.002").write_bytes(data[100_000:])
    code, out, err = invoke(runner, "split", tmp_path / "s.7z.001", "--max-size", "150k", "-o", tmp_path / "o",
                            "--keys", keys)
    assert code == 0 and "wrote 2 parts" in out and (tmp_path / "o" / "s.part1of2.7z").exists(), err


def test_split_refuses_more_parts_than_allowed_and_names_a_size(small: tuple[Path, Path, list[Path]],
                                                                tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    """More parts than a marker may count is a usage error with a size that works, not an invalid part."""
    import mirror.bundle.parts as parts_module
    from mirror.errors import ConfigError

    _, keys, _ = small
    bundle = make_bundle(tmp_path, [20_000] * 8, keys, "e.7z")
    monkeypatch.setattr(parts_module, "MAX_PARTS", 5)
    with pytest.raises(ConfigError, match="would need more than 5 parts of at most 40,000 bytes") as refused:
        parts_module.split_bundle(bundle, tmp_path / "o", 40_000, Keyring(keys))
    works = re.search(r"--max-size (\d+)k works", refused.value.hint or "")
    assert works, refused.value.hint
    assert len(parts_module.split_bundle(bundle, tmp_path / "o", int(works[1]) * 1000, Keyring(keys)).parts) <= 5


def test_a_failed_rename_leaves_no_parts(small: tuple[Path, Path, list[Path]], tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """All the parts or none: when placing one fails, the ones placed before it are removed."""
    import mirror.bundle.parts as parts_module

    bundle, keys, _ = small
    real, calls = parts_module.rename_noreplace, []

    def fail_second(source: Path, target: Path) -> None:
        calls.append(target)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real(source, target)

    monkeypatch.setattr(parts_module, "rename_noreplace", fail_second)
    (tmp_path / "o").mkdir()
    with pytest.raises(OSError):
        parts_module.split_bundle(bundle, tmp_path / "o", 150_000, Keyring(keys))
    assert len(calls) == 2 and list((tmp_path / "o").iterdir()) == []


def test_a_set_of_more_than_999_volumes_is_read_whole(runner: CliRunner, small: tuple[Path, Path, list[Path]],
                                                      tmp_path: Path) -> None:
    """7-Zip goes on from .999 to .1000: volumes are numbered by value, and two names for one number are refused."""
    bundle, keys, _ = small
    data = bundle.read_bytes()
    step = len(data) // 1002
    for index in range(0, len(data) // step + 1):
        (tmp_path / f"v.7z.{index + 1:03d}").write_bytes(data[index * step:(index + 1) * step])
    assert (tmp_path / "v.7z.1001").stat().st_size > 0
    code, out, err = invoke(runner, "verify", tmp_path / "v.7z.001", "--keys", keys)
    assert code == 0 and out.startswith("VERIFIED  "), out + err
    (tmp_path / "v.7z.0002").write_bytes(b"")
    code, _, err = invoke(runner, "verify", tmp_path / "v.7z.001", "--keys", keys)
    assert code == 2 and "are both volume 2 of v.7z" in err, err


def test_verify_dir_holds_one_folder_open_at_a_time(runner: CliRunner, tmp_path: Path) -> None:
    """3000 waiting subfolders under a limit of 256 open files: still a verdict (here: files not listed), no
    "Too many open files"."""
    import subprocess
    import sys

    from helpers import sevenzip_extract

    bundle, keys = make_bundle(tmp_path, [1_000], tmp_path / "keys", "f.7z"), tmp_path / "keys"
    folder = sevenzip_extract(bundle, tmp_path / "x")
    for index in range(3000):
        (folder / "many" / f"d{index}").mkdir(parents=True)
    (folder / "many" / "d7" / "stray.txt").write_bytes(b"x")
    limit = "import resource; resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256)); "
    done = subprocess.run([sys.executable, "-c", limit + "from mirror.cli.app import main; main()", "verify",
                           str(folder), "--keys", str(keys)], capture_output=True, text=True, check=False)
    assert done.returncode == 3 and "not listed in SHA256SUMS: many/d7/stray.txt" in done.stdout, done.stderr


def test_an_encrypted_header_is_called_a_repack(runner: CliRunner, bundle: Path, tmp_path: Path) -> None:
    """`7z a -p -mhe=on` encrypts the header too: still "NOT CHECKED ... encrypted with a password", exit 3."""
    from helpers import sevenzip_extract, sevenzip_rebuild

    folder = sevenzip_extract(bundle, tmp_path / "x")
    locked = sevenzip_rebuild(folder, tmp_path / "locked.7z", "-psecret", "-mhe=on")
    code, out, err = invoke(runner, "verify", locked)
    assert code == 3 and out.startswith("NOT CHECKED  ") and "encrypted with a password" in out, out + err


def test_a_folder_that_vanishes_is_named_with_its_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A subfolder gone (or unreadable) by the time its turn comes is a problem naming its full path."""
    import mirror.bundle.folder as folder_module
    from mirror.errors import ContentError

    (tmp_path / "root" / "a" / "b").mkdir(parents=True)
    real = folder_module._open_folder

    def vanish(root: Path, prefix: str) -> int:
        if prefix == "a/b/":  # listed while a was read, gone when its turn comes
            (root / "a" / "b").rmdir()
        return real(root, prefix)

    monkeypatch.setattr(folder_module, "_open_folder", vanish)
    with pytest.raises(ContentError, match=re.escape(f"{tmp_path / 'root' / 'a' / 'b'} cannot be read: No such")):
        folder_module.verify_folder(tmp_path / "root", None)


def test_torrent_names_a_part_or_volumes_and_join_keeps_its_parts(runner: CliRunner,
                                                                 small: tuple[Path, Path, list[Path]],
                                                                 tmp_path: Path) -> None:
    """torrent of a part or of a first volume says what it is and how to get a whole bundle (exit 2), never
    "files failed"; the whole bundle made as the hint says is accepted; join never replaces one of its parts,
    and it and extract refuse one given twice (by name or by another link to it)."""
    bundle, keys, parts = small
    code, _, err = invoke(runner, "torrent", parts[0], "-o", tmp_path / "p.torrent", "--keys", keys)
    assert code == 2 and f"is part 1 of {len(parts)}, not a whole bundle" in err and "mirror join" in err, err
    data = bundle.read_bytes()
    (tmp_path / "s.7z.001").write_bytes(data[: len(data) // 2])
    (tmp_path / "s.7z.002").write_bytes(data[len(data) // 2:])
    code, _, err = invoke(runner, "torrent", tmp_path / "s.7z.001", "-o", tmp_path / "v.torrent", "--keys", keys)
    assert code == 2 and "first of 2 7-Zip volumes" in err, err
    assert f"mirror join {tmp_path / 's.7z.001'} -o {tmp_path / 's.7z'}" in err, err
    assert not (tmp_path / "p.torrent").exists() and not (tmp_path / "v.torrent").exists()
    (tmp_path / "s.7z").write_bytes((tmp_path / "s.7z.001").read_bytes() + (tmp_path / "s.7z.002").read_bytes())
    code, _, err = invoke(runner, "torrent", tmp_path / "s.7z", "-o", tmp_path / "s.torrent", "--keys", keys)
    assert code == 0 and (tmp_path / "s.torrent").exists(), err
    before = parts[0].read_bytes()
    code, _, err = invoke(runner, "join", *parts, "-o", parts[0], "--force", "--keys", keys)
    assert code == 2 and "is one of the parts being joined" in err, err
    assert parts[0].read_bytes() == before
    (tmp_path / "again.7z").hardlink_to(parts[1])
    for twice, said in (((parts[1], parts[1]), f"{parts[1]} is given twice"),
                        ((parts[1], tmp_path / "again.7z"), f"is given twice (also as {parts[1]})")):
        code, _, err = invoke(runner, "join", *parts[:1], *twice, "-o", tmp_path / "w.7z", "--keys", keys)
        assert code == 2 and said in err and not (tmp_path / "w.7z").exists(), err
        code, _, err = invoke(runner, "extract", *parts[:1], *twice, tmp_path / "x", "--keys", keys)
        assert code == 2 and said in err and not (tmp_path / "x").exists(), err  # as join says it


def test_a_missing_file_is_named_in_the_reader_s_language(small: tuple[Path, Path, list[Path]],
                                                          tmp_path: Path) -> None:
    """verify --whole of a part names each missing file in Russian, the path as it is."""
    import subprocess
    import sys

    _, keys, parts = small
    env = {"PATH": "/usr/bin:/bin", "LANG": "ru_RU.UTF-8", "MIRROR_KEYS": str(keys), "HOME": str(tmp_path),
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-m", "mirror", "verify", "--whole", str(parts[0])], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 3, done.stderr
    assert "нет файла: photos/" in done.stdout + done.stderr and "file missing" not in done.stdout + done.stderr


def test_verify_whole_of_an_intact_part_says_to_join_it(runner: CliRunner, small: tuple[Path, Path, list[Path]],
                                                        tmp_path: Path) -> None:
    """verify --whole of an intact part fails (exit 3) with the hint to join the parts: it was told "this copy was
    broken or changed on its way: do not open it or pass it on; get another copy", of a sound part. A part with a
    changed byte still gets that one."""
    _, keys, parts = small
    code, _, err = invoke(runner, "verify", "--whole", parts[0], "--keys", keys)
    assert code == 3 and "hint: join all its parts first: mirror join PART... -o WHOLE.7z" in err, err
    assert "broken or changed" not in err, err
    data = bytearray(parts[0].read_bytes())
    data[len(data) // 2] ^= 0xFF
    (changed := tmp_path / "changed.part1.7z").write_bytes(data)
    code, _, err = invoke(runner, "verify", "--whole", changed, "--keys", keys)
    assert code == 3 and "hint: this copy was broken or changed on its way" in err, err


def test_the_size_a_refusal_suggests_works_and_never_points_back(runner: CliRunner, tmp_path: Path) -> None:
    """A bundle of a few KB split too small: the hint names a size; that size splits it (it does not answer
    'fits whole'); a size of zero is refused as one."""
    golden = Path(__file__).parent.parent / "data" / "golden-v2.7z"
    keys = Path(__file__).parent.parent / "data"
    code, _, err = invoke(runner, "split", golden, "--max-size", "3k", "-o", tmp_path / "a", "--keys", keys)
    match = re.search(r"the smallest --max-size that works is (\S+)", err)
    assert code == 2 and match, err
    code, _, err = invoke(runner, "split", golden, "--max-size", match[1], "-o", tmp_path / "b", "--keys", keys)
    assert code == 0 and "fits whole" not in err, err
    for zero in ("0", "0.4"):
        code, _, err = invoke(runner, "split", golden, "--max-size", zero, "-o", tmp_path / "c", "--keys", keys)
        assert code == 2 and "is less than one byte" in err, err


def test_verify_whole_of_a_part_says_it_is_a_part(runner: CliRunner, small: tuple[Path, Path, list[Path]]) -> None:
    _, keys, parts = small
    code, out, err = invoke(runner, "verify", "--whole", parts[0], "--keys", keys)
    assert code == 3 and "this is a part of a split bundle (.mirror/part.json), not the whole bundle" in out, out
    assert "not listed in SHA256SUMS: .mirror/part.json" not in out
    counted = re.search(r"(\d+) file\(s\) failed", err)
    assert counted and int(counted[1]) == out.count("file missing:") > 0, out  # the lead line is not a file


def test_texts_that_compress_never_make_a_part_of_one(runner: CliRunner, tmp_path: Path) -> None:
    """A bundle of text accounts only, whose page (in every part) is as large as its texts: the first plan's parts
    come out far under the size, more room is tried, and a plan of one part is halved instead of written as
    "part 1 of 1" (which verify refuses). The parts verify and join back."""
    bundle, keys = _text_bundle(tmp_path, 7, 3000, 40, 1800, "texts.7z"), tmp_path / "keys"
    size = bundle.stat().st_size
    out = tmp_path / "parts"
    out.mkdir()
    code, stdout, stderr = invoke(runner, "split", bundle, "--max-size", str(size * 6 // 10), "-o", out, "--keys", keys)
    assert code == 0, stderr
    parts = sorted(out.iterdir())
    assert len(parts) >= 2 and f"wrote {len(parts)} parts" in stdout
    assert all(p.stat().st_size <= size * 6 // 10 for p in parts)
    code, _, stderr = invoke(runner, "join", *parts, "-o", tmp_path / "whole.7z", "--keys", keys)
    assert code == 0, stderr


def _text_blocks(path: Path) -> list[bytes]:
    """The packed bytes of each block of `path` that holds accounts only."""
    from mirror.sevenzip import Limits, read_archive

    with path.open("rb") as fp:
        archive = read_archive(fp, Limits())
        names: dict[int, list[str]] = {}
        for member in archive.members:
            if member.folder is not None:
                names.setdefault(member.folder, []).append(member.name)
        blocks = []
        for index, folder in enumerate(archive.folders):
            if all(n.startswith("accounts/") for n in names.get(index, [""])):
                fp.seek(folder.pack_offset)
                blocks.append(fp.read(folder.pack_size))
    return blocks


def test_split_copies_blocks_of_accounts_whole_and_packs_the_rest_file_by_file(runner: CliRunner,
                                                                               tmp_path: Path) -> None:
    """A repack of small solid blocks (7zz -ms=20f): every block that holds only accounts, and is small beside a
    part, goes into one part as it is, byte for byte (nothing compressed again); the accounts that share their
    blocks with the signed files or the page are packed alone. With parts too small for eight blocks, every
    account is packed alone, and the room is filled as they compress. The parts verify alone and join back to
    the same files."""
    from helpers import require_tool, run, sevenzip_extract

    made, keys = _text_bundle(tmp_path, 11, 4000, 200, 600, "made.7z"), tmp_path / "keys"
    folder = sevenzip_extract(made, tmp_path / "x")
    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    repack = tmp_path / "repack.7z"
    run(require_tool("7zz"), "a", "-bso0", "-bsp0", "-mx1", "-ms=20f", repack, *names, cwd=folder)
    assert invoke(runner, "verify", repack, "--keys", keys)[0] == 0
    original = _text_blocks(repack)
    assert len(original) == 9  # 180 accounts in twenties; 16 are with the signed files, 4 with the page
    whole = repack.read_bytes()
    code, _, err = invoke(runner, "split", repack, "--max-size", "90k", "-o", tmp_path, "--keys", keys)
    smallest = re.search(r"the smallest --max-size that works is (\S+)", err)
    assert code == 2 and smallest, err
    small = f"{int(smallest[1].removesuffix('k')) + 150}k"  # room for a few blocks, not eight
    for limit, copied_at_least in ((str(repack.stat().st_size - 50_000), len(original)), (small, 0)):
        out = tmp_path / f"parts-{limit}"
        code, _, err = invoke(runner, "split", repack, "--max-size", limit, "-o", out, "--keys", keys)
        assert code == 0, err
        parts = sorted(out.iterdir())
        assert len(parts) >= 2
        copied = [block for part in parts for block in _text_blocks(part) if block in whole]
        assert len(copied) == copied_at_least, (limit, len(copied))
        if limit == small:  # the room filled with compressed accounts: 2 parts (blocks judged against the room
            assert len(parts) <= 3, len(parts)  # the plan gives compressed files, not the part's, made 6)
        for part in parts:
            assert invoke(runner, "verify", part, "--keys", keys)[0] == 0
        joined = tmp_path / f"joined-{limit}.7z"
        code, _, err = invoke(runner, "join", *parts, "-o", joined, "--keys", keys)
        assert code == 0, err
        back = sevenzip_extract(joined, tmp_path / f"back-{limit}")
        assert all((back / n).read_bytes() == (folder / n).read_bytes() for n in names)


def test_every_part_carries_the_signed_files_and_the_page_as_the_bundle_holds_them(
        runner: CliRunner, small: tuple[Path, Path, list[Path]], tmp_path: Path) -> None:
    """What every part carries (the signed files, the page) is the bundle's own blocks of it or the same files
    compressed again, whichever is smaller: here a repack by 7-Zip at -mx1, one file a block."""
    from helpers import require_tool, run, sevenzip_extract
    from mirror.sevenzip import Limits, read_archive

    def blocks(path: Path) -> dict[str, bytes]:
        with path.open("rb") as fp:
            archive = read_archive(fp, Limits())
            found = {}
            for member in archive.members:
                if member.folder is not None and not member.name.startswith(("accounts/", "photos/")):
                    folder = archive.folders[member.folder]
                    fp.seek(folder.pack_offset)
                    found[member.name] = fp.read(folder.pack_size)
            return found

    bundle, keys, _ = small
    folder = sevenzip_extract(bundle, tmp_path / "x")
    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    repack = tmp_path / "one-a-block.7z"
    run(require_tool("7zz"), "a", "-bso0", "-bsp0", "-mx1", "-ms=1f", repack, *names, cwd=folder)
    code, _, err = invoke(runner, "split", repack, "--max-size", "150k", "-o", tmp_path / "p", "--keys", keys)
    assert code == 0, err
    parts = sorted((tmp_path / "p").iterdir())
    common = blocks(repack)
    assert {".mirror/SHA256SUMS", ".mirror/bundle.json", "index.html"} <= common.keys()
    assert len(parts) >= 2
    carried = [{n: b for n, b in blocks(part).items() if n in common} for part in parts]  # not the marker
    assert all(c == carried[0] for c in carried)  # the same blocks in every part
    # the smaller of the two: 7-Zip's blocks copied, or the files compressed again (7-Zip at -mx1, one file a
    # block, compresses worse than create)
    assert sum(map(len, set(carried[0].values()))) <= sum(map(len, set(common.values())))


def test_a_repack_stored_without_compression_splits_as_well_as_the_bundle(runner: CliRunner, tmp_path: Path) -> None:
    """A repack with 7zz -mx0 (or non-solid, stored or filtered) keeps the page and the accounts as they are:
    copying those blocks would repeat the stored page in every part, and short blocks would cost more than
    their files in one. They are compressed again instead; the parts are as many as the bundle's own."""
    from helpers import require_tool, run, sevenzip_extract

    bundle, keys = _text_bundle(tmp_path, 5, 3000, 40, 1500, "b.7z"), tmp_path / "keys"
    limit = str(bundle.stat().st_size * 7 // 10)
    code, _, err = invoke(runner, "split", bundle, "--max-size", limit, "-o", tmp_path / "own", "--keys", keys)
    assert code == 0, err
    own = len(list((tmp_path / "own").iterdir()))
    folder = sevenzip_extract(bundle, tmp_path / "x")
    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    for n, options in enumerate((("-mx0",), ("-ms=off", "-m0=Copy"), ("-ms=off", "-m0=Delta:4", "-m1=LZMA2"))):
        repack = tmp_path / f"stored{n}.7z"
        run(require_tool("7zz"), "a", "-bso0", "-bsp0", *options, repack, *names, cwd=folder)
        out = tmp_path / repack.stem
        code, _, err = invoke(runner, "split", repack, "--max-size", limit, "-o", out, "--keys", keys)
        assert code == 0, (options, err)
        assert len(list(out.iterdir())) == own, options


def test_a_bundle_replaced_while_it_is_split_leaves_no_parts(small: tuple[Path, Path, list[Path]], tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The blocks are read again from the bundle after it was verified: if another bundle of the same author
    takes its place meanwhile, no part is placed (each must carry the very SHA256SUMS verified)."""
    import shutil

    import mirror.bundle.parts as parts_module
    from mirror.bundle.verify import verify_bundle
    from mirror.errors import ContentError
    from mirror.formats.manifest import SUMS_NAME

    bundle, keys, _ = small
    other = make_bundle(tmp_path / "other", [60_000] * 4, keys, "o.7z")  # the same files, another id
    victim = tmp_path / "victim.7z"
    shutil.copyfile(bundle, victim)
    real = parts_module._blocks

    def swapped(*args: object, **kwargs: object) -> object:
        shutil.copyfile(other, victim)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(parts_module, "_blocks", swapped)
    out = tmp_path / "out"
    try:
        made = parts_module.split_bundle(victim, out, 150_000, Keyring(keys)).parts
    except ContentError as exc:
        assert "changed while it was being split" in str(exc)
        assert not out.exists() or list(out.iterdir()) == []
        return
    # nothing was read from the file that took its place (what every part carries was compressed again from
    # the verified copy, and was the smaller): the parts are those of the bundle verified
    signed = verify_bundle(bundle, None).control.sha256(SUMS_NAME)
    assert made and all(verify_bundle(p, None, parts=True).control.sha256(SUMS_NAME) == signed for p in made)


def _text_bundle(tmp_path: Path, seed: int, vocabulary: int, accounts: int, words: int, name: str) -> Path:
    """A bundle of `accounts` English accounts of `words` random words each (from a vocabulary of that many),
    signed by alice in tmp_path/keys (made there)."""
    import random

    from mirror.bundle.create import CreateRequest, create_bundle

    rng = random.Random(seed)
    vocabulary_words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
                        for _ in range(vocabulary)]
    src = tmp_path / "src" / "accounts"
    src.mkdir(parents=True)
    width = len(str(accounts - 1))
    for n in range(accounts):
        text = " ".join(rng.choice(vocabulary_words) for _ in range(words))
        (src / f"{n:0{width}d}.en.md").write_text(f"---\nlanguage: en\ntitle: Account {n}\n---\n{text}\n")
    ring = Keyring(tmp_path / "keys")
    ring.create("alice", None)
    bundle = tmp_path / name
    create_bundle(CreateRequest(src.parent, bundle), ring.secret("alice", None))
    return bundle


def test_parts_of_two_endorsed_copies_carry_at_most_the_cap_together(runner: CliRunner, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Parts of two copies of one bundle, each endorsed by others: each verifies alone, but together they may
    carry more endorsements than a bundle may (the cap, 100, is 3 here). join and extract keep the first ones up
    to the cap and say how many they left out; before, join said "do not trust" and extract wrote a folder that
    verify then refused."""
    for module in ("mirror.bundle.staging", "mirror.bundle.verify", "mirror.bundle.folder"):
        monkeypatch.setattr(f"{module}.MAX_ENDORSEMENTS", 3, raising=False)
    keys = tmp_path / "keys"
    bundle = make_bundle(tmp_path, [60_000] * 4, keys, "s.7z")
    ring = Keyring(keys)
    copies = {}
    for copy, endorsers in (("a", ("e1", "e2")), ("b", ("e3", "e4"))):
        source = bundle
        for name in endorsers:
            ring.create(name, None)
            out = tmp_path / f"{copy}-{name}.7z"
            code, _, err = invoke(runner, "endorse", source, "--key", name, "--claim", "relayed", "-o", out,
                                  "--keys", keys)
            assert code == 0, err
            source = out
        code, _, err = invoke(runner, "split", source, "--max-size", "150k", "-o", tmp_path / copy, "--keys", keys)
        assert code == 0, err
        copies[copy] = sorted((tmp_path / copy).iterdir())
    mixed = [copies["a"][0], *copies["b"][1:]]
    code, out, err = invoke(runner, "extract", *mixed, tmp_path / "dest", "--keys", keys)
    assert code == 0, err
    assert "left out 1 endorsement(s) of other copies" in out
    code, out, err = invoke(runner, "verify", tmp_path / "dest", "--keys", keys)
    assert code == 0, (out, err)
    code, out, err = invoke(runner, "join", *mixed, "-o", tmp_path / "joined.7z", "--keys", keys)
    assert code == 0, err
    assert "left out 1 endorsement(s) of other copies" in out  # join said nothing, and --json had no field
    code, out, err = invoke(runner, "join", "--json", *mixed, "-o", tmp_path / "again.7z", "--keys", keys)
    assert code == 0 and json.loads(out)["endorsements_left_out"] == 1, err
    code, out, err = invoke(runner, "verify", tmp_path / "joined.7z", "--keys", keys)
    assert code == 0, (out, err)
    with (tmp_path / "joined.7z").open("rb") as fp:
        names = [m.name for m in read_archive(fp, Limits()).members]
    assert sum("endorsements/" in name for name in names) == 3


def test_a_damaged_part_among_several_is_named(runner: CliRunner, small: tuple[Path, Path, list[Path]],
                                               tmp_path: Path) -> None:
    """One part damaged on the way, among good ones: join and extract name that part, so the reader knows which
    one to ask for again (before, only the file inside it was named)."""
    _bundle, keys, parts = small
    damaged = tmp_path / parts[0].name
    data = bytearray(parts[0].read_bytes())
    with parts[0].open("rb") as fp:
        archive = read_archive(fp, Limits())
    photo = next(m for m in archive.members if m.name.startswith("photos/") and m.folder is not None)
    block = archive.folders[photo.folder]
    data[block.pack_offset + block.pack_size // 2] ^= 0x01
    damaged.write_bytes(bytes(data))
    given = [*parts[1:], damaged]
    for args in (("join", *given, "-o", tmp_path / "w.7z"), ("extract", *given, tmp_path / "dest")):
        code, _, err = invoke(runner, *args, "--keys", keys)
        assert code == 3 and f"{damaged}: " in err and "sha256 does not match" in err, err


def test_join_never_replaces_a_volume_of_its_input(runner: CliRunner, small: tuple[Path, Path, list[Path]],
                                                   tmp_path: Path) -> None:
    """`join X.7z.001 -o X.7z.002 --force` replaced the second volume of its own input with the joined bundle."""
    bundle, keys, _ = small
    data = bundle.read_bytes()
    third = len(data) // 3 + 1
    for index in range(3):
        (tmp_path / f"s.7z.{index + 1:03d}").write_bytes(data[index * third:(index + 1) * third])
    code, _, err = invoke(runner, "join", tmp_path / "s.7z.001", "-o", tmp_path / "s.7z.002", "--force",
                          "--keys", keys)
    assert code == 2 and "the output name must end in .7z" in err, err  # before: "join never replaces a part"
    assert (tmp_path / "s.7z.002").read_bytes() == data[third:2 * third]


def test_a_part_in_a_folder_to_seed_is_named_as_a_part(small: tuple[Path, Path, list[Path]]) -> None:
    """A part among the bundles to seed was refused as 'N file(s) failed', exit 3 (must not be trusted), though
    it verifies as a part: it is named as one, and not seeded alone (exit 4, as for what is missing)."""
    from mirror.bundle.seeds import check_seeds
    from mirror.errors import ExitCode
    from mirror.trust.keyring import Keyring

    bundle, keys, parts = small
    seeds, refused = check_seeds([bundle, parts[0]], Keyring(keys).snapshot(), untrusted=False)
    assert [s.path for s in seeds] == [bundle]
    assert [(r.path, r.exit_code) for r in refused] == [(parts[0], ExitCode.INCOMPLETE)]
    assert refused[0].reason.startswith(f"is part 1 of {len(parts)}")
    from mirror import i18n

    i18n.use("kk")  # `mirror seed` in Kazakh said "REFUSED  x.part1of3.7z: is part 1 of 3, not a whole bundle"
    try:
        assert i18n.translate(refused[0].reason) == f"1-бөлік (барлығы {len(parts)}), бүтін жиынтық емес"
        i18n.use("ru")
        assert i18n.translate(refused[0].reason) == f"часть 1 из {len(parts)}, а не целый набор"
    finally:
        i18n.use("en")


def test_seed_offers_regular_files_only(small: tuple[Path, Path, list[Path]], tmp_path: Path) -> None:
    """A *.7z link in the folder to seed could lead anywhere on this machine: left out, as serve leaves it out."""
    from mirror.bundle.seeds import find_bundles

    bundle, _, _ = small
    folder = tmp_path / "seed"
    folder.mkdir()
    (folder / "a.7z").write_bytes(bundle.read_bytes())
    (folder / "elsewhere.7z").symlink_to(bundle)
    assert find_bundles(folder) == [folder / "a.7z"]


def test_parts_of_two_versions_are_named_as_versions(runner: CliRunner, small: tuple[Path, Path, list[Path]],
                                                     tmp_path: Path) -> None:
    """Parts of version 1 and of its update, version 2, given together: join and extract said "not from the same
    bundle", which it is; they say which version each is (exit 2, as before) and write nothing."""
    bundle, keys, parts = small
    newer = tmp_path / "s2.7z"
    code, _, err = invoke(runner, "create", bundle.parent / "src", "-o", newer, "--key", "alice", "--update", bundle,
                          "--keys", keys)
    assert code == 0, err
    code, _, err = invoke(runner, "split", newer, "--max-size", "150k", "-o", tmp_path / "p2", "--keys", keys)
    assert code == 0, err
    second = sorted((tmp_path / "p2").iterdir())
    for args in (("join", parts[0], second[1], "-o", tmp_path / "w.7z"), ("extract", parts[0], second[1],
                                                                          tmp_path / "dest")):
        code, _, err = invoke(runner, *args, "--keys", keys)
        assert code == 2 and f"{second[1]} is version 2 of the bundle, {parts[0]} is version 1" in err, err
        assert "give parts of one version" in err and "Traceback" not in err
    assert not (tmp_path / "w.7z").exists() and not (tmp_path / "dest").exists()


def test_the_hint_for_volumes_is_a_join_command_that_works(runner: CliRunner, small: tuple[Path, Path, list[Path]],
                                                            tmp_path: Path) -> None:
    """endorse and torrent of a 7-Zip set's first volume hinted `cat my s.7z.0* > my s.7z`: the folder left out,
    the space not quoted, and `.0*` misses volume 100 on. The hint is `mirror join`, with the paths quoted, and
    running it gives the bundle they take."""
    bundle, keys, _ = small
    volumes = tmp_path / "v v"
    volumes.mkdir()
    data = bundle.read_bytes()
    (volumes / "my s.7z.001").write_bytes(data[: len(data) // 2])
    (volumes / "my s.7z.002").write_bytes(data[len(data) // 2:])
    if not (keys / "bob.pub").exists():
        Keyring(keys).create("bob", None)
    joined = volumes / "my s.7z"
    command = f"mirror join {shlex.quote(str(volumes / 'my s.7z.001'))} -o {shlex.quote(str(joined))}"
    for args in (("endorse", volumes / "my s.7z.001", "--key", "bob", "--claim", "relayed", "-o", tmp_path / "e.7z"),
                 ("torrent", volumes / "my s.7z.001", "-o", tmp_path / "t.torrent")):
        code, _, err = invoke(runner, *args, "--keys", keys)
        assert code == 2 and "is the first of 2 7-Zip volumes" in err and command in err and "cat " not in err, err
    assert not (tmp_path / "e.7z").exists() and not (tmp_path / "t.torrent").exists()
    code, _, err = invoke(runner, *shlex.split(command)[1:], "--keys", keys)
    assert code == 0 and joined.read_bytes() == data, err
    code, _, err = invoke(runner, "endorse", joined, "--key", "bob", "--claim", "relayed", "--keys", keys)
    assert code == 0, err


def test_the_join_hint_never_starts_a_path_with_a_dash(runner: CliRunner, small: tuple[Path, Path, list[Path]],
                                                       tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """./-b.7z.001 printed as -b.7z.001, which `mirror join` reads as an option: the hint says ./-b.7z.001."""
    bundle, keys, _ = small
    data = bundle.read_bytes()
    (tmp_path / "-b.7z.001").write_bytes(data[: len(data) // 2])
    (tmp_path / "-b.7z.002").write_bytes(data[len(data) // 2:])
    monkeypatch.chdir(tmp_path)
    code, _, err = invoke(runner, "torrent", "./-b.7z.001", "--keys", keys)
    assert code == 2 and "mirror join ./-b.7z.001 -o ./-b.7z" in err, err
    code, _, err = invoke(runner, "join", "./-b.7z.001", "-o", "./-b.7z", "--keys", keys)
    assert code == 0 and (tmp_path / "-b.7z").read_bytes() == data, err


def test_names_made_from_a_long_bundle_name_fit_and_a_long_name_given_is_refused_first(
        runner: CliRunner, small: tuple[Path, Path, list[Path]], tmp_path: Path) -> None:
    """A bundle named with 122 Cyrillic letters (247 bytes, legal): split and endorse failed with "File name too
    long" (exit 1), after the work. The names they make are shortened, whole letters only, to 255 bytes; a name
    given that no file system takes is refused before any work, with the limit (exit 2), and nothing is left."""
    bundle, keys, _ = small
    if not (keys / "bob.pub").exists():
        Keyring(keys).create("bob", None)
    long = tmp_path / ("а" * 122 + ".7z")
    long.write_bytes(bundle.read_bytes())
    code, _, err = invoke(runner, "split", long, "--max-size", "150k", "-o", tmp_path / "p", "--keys", keys)
    assert code == 0, err
    parts = sorted((tmp_path / "p").iterdir())
    assert len(parts) > 1 and all(p.name == f"{'а' * 121}.part{i}of{len(parts)}.7z" for i, p in enumerate(parts, 1))
    code, _, err = invoke(runner, "split", long, "--max-size", "150k", "-o", tmp_path / "p", "--keys", keys)
    assert code == 2 and f"{parts[0]} already exists" in err, err  # the shortened names are found again
    code, _, err = invoke(runner, "endorse", long, "--key", "bob", "--claim", "relayed", "--keys", keys)
    assert code == 0 and (tmp_path / ("а" * 121 + ".endorsed.7z")).is_file(), err
    code, _, err = invoke(runner, "torrent", long, "--keys", keys)
    assert code == 0 and (tmp_path / ("а" * 122 + ".torrent")).is_file(), err
    longest = "ж" * 126 + ".7z"  # 255 bytes: taken as it is
    code, _, err = invoke(runner, "join", *parts, "-o", tmp_path / longest, "--keys", keys)
    assert code == 0 and (tmp_path / longest).read_bytes() == bundle.read_bytes(), err
    code, _, err = invoke(runner, "extract", long, tmp_path / longest[:-3], "--keys", keys)
    assert code == 0, err
    before = sorted(tmp_path.iterdir())
    too_long = "в" * 128  # 256 bytes
    for args in (("split", long, "--max-size", "150k", "-o", tmp_path / too_long),
                 ("join", *parts, "-o", tmp_path / f"{too_long}.7z"),
                 ("endorse", long, "--key", "bob", "--claim", "relayed", "-o", tmp_path / f"{too_long}.7z"),
                 ("extract", long, tmp_path / too_long),
                 ("extract", *parts, tmp_path / too_long / "x"),
                 ("torrent", long, "-o", tmp_path / f"{too_long}.torrent"),
                 ("create", bundle.parent / "src", "-o", tmp_path / f"{too_long}.7z", "--key", "alice")):
        code, _, err = invoke(runner, *args, "--keys", keys)
        assert code == 2 and "bytes, more than a file system takes (255)" in err and len(err.splitlines()) == 2, err
        assert "Traceback" not in err and sorted(tmp_path.iterdir()) == before, args


def test_update_of_a_part_says_it_is_a_part(runner: CliRunner, small: tuple[Path, Path, list[Path]],
                                            tmp_path: Path) -> None:
    """create --update PART failed with "N file(s) failed", exit 3 (do not trust), of an intact part."""
    from helpers import make_sources

    _, keys, parts = small
    code, _, err = invoke(runner, "create", make_sources(tmp_path / "src"), "-o", tmp_path / "next.7z", "--key",
                          "alice", "--keys", keys, "--update", parts[0])
    assert code == 2 and f"{parts[0]} is part 1 of {len(parts)}, not a whole bundle" in err, err
    assert "mirror join" in err and not (tmp_path / "next.7z").exists()


def test_a_part_put_in_anothers_place_is_named_by_its_signer(runner: CliRunner,
                                                              small: tuple[Path, Path, list[Path]],
                                                              tmp_path: Path) -> None:
    """A carrier's part 2 of a forgery under the same id and version, given first: the genuine parts were called
    "not from the same bundle", with a hint to give parts of the same id and version (they were). Both signers are
    named now, the stranger as not in the keyring."""
    import random

    from test_parts import photo

    from helpers import make_sources
    from mirror.bundle.create import CreateRequest, create_bundle
    from mirror.bundle.verify import verify_bundle

    bundle, keys, parts = small
    meta = verify_bundle(bundle, Keyring(keys)).meta
    mallory = Keyring(tmp_path / "mallory")
    mallory.create("mallory", None)
    forged = tmp_path / "forged.7z"
    src = make_sources(tmp_path / "src")
    rng = random.Random(4)
    for n in range(4):
        (src / "photos" / f"f{n}.jpg").write_bytes(photo(rng, 60_000))
    create_bundle(CreateRequest(src, forged, title=meta.title, bundle_id=meta.bundle_id, version=meta.version),
                  mallory.secret("mallory", None))
    code, _, err = invoke(runner, "split", forged, "--max-size", "150k", "-o", tmp_path / "fp", "--keys",
                          tmp_path / "mallory")
    assert code == 0, err
    fake = sorted((tmp_path / "fp").iterdir())[0]
    code, _, err = invoke(runner, "extract", fake, *parts, tmp_path / "out", "--keys", keys)
    assert code == 3 and "claim the same bundle and version" in err, err  # a forgery: not to be trusted
    assert "which is not in your keyring" in err and "by alice" in err and "leave out the parts" in err
    assert not (tmp_path / "out").exists()
    code, _, err = invoke(runner, "join", *parts, fake, "-o", tmp_path / "joined.7z", "--keys", keys)
    assert code == 3 and "claim the same bundle and version" in err and f"{fake} is signed by" in err, err
    assert not (tmp_path / "joined.7z").exists()
    # a reader who holds neither key was told to leave out "the parts signed by a key you do not hold": all of them
    code, _, err = invoke(runner, "join", *parts, fake, "-o", tmp_path / "joined.7z", "--keys", tmp_path / "none")
    assert code == 3 and "claim the same bundle and version" in err, err
    assert "key you do not hold" not in err and "you hold neither key: compare each one's fingerprint" in err, err
    both = tmp_path / "both"
    shutil.copytree(keys, both)
    code, _, err = invoke(runner, "keys", "import", tmp_path / "mallory" / "mallory.pub", "--name", "mallory",
                          "--checked", "first-use", "--keys", both)
    assert code == 0, err
    code, _, err = invoke(runner, "join", *parts, fake, "-o", tmp_path / "joined.7z", "--keys", both)
    assert code == 3 and "both keys are in your keyring: ask the author whether mallory or alice" in err, err
    assert not (tmp_path / "joined.7z").exists()


def test_a_tampered_part_names_what_to_do_with_the_others(runner: CliRunner, small: tuple[Path, Path, list[Path]],
                                                          tmp_path: Path) -> None:
    """One tampered part among good ones: exit 3 and nothing written, even with --partial, and no word of what to
    do. The hint says to leave it out; without it, --partial writes what the others carry."""
    _, keys, parts = small
    data = bytearray(parts[1].read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad = tmp_path / parts[1].name
    bad.write_bytes(bytes(data))
    given = [parts[0], bad, *parts[2:]]
    code, _, err = invoke(runner, "extract", *given, tmp_path / "out", "--partial", "--keys", keys)
    assert code == 3 and f"leave out {bad} and ask for it again" in err, err
    assert not (tmp_path / "out").exists()
    code, _, err = invoke(runner, "extract", parts[0], *parts[2:], tmp_path / "out", "--partial", "--keys", keys)
    assert code == 0 and (tmp_path / "out").is_dir(), err


def test_a_later_part_extracted_alone_says_what_to_do(runner: CliRunner, small: tuple[Path, Path, list[Path]],
                                                      tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A courier extracts part 1 (its folder named by the bundle), then part 2 when it comes: "X already exists,
    name a new folder", of a folder the courier never named. It now says an earlier extract made it, and to
    extract the parts together."""
    _, keys, parts = small
    monkeypatch.chdir(tmp_path)
    code, _, err = invoke(runner, "extract", parts[0], "--keys", keys)
    assert code == 4 and "is written there" in err, err
    code, _, err = invoke(runner, "extract", parts[1], "--keys", keys)
    assert code == 2 and "already exists: an earlier extract of this bundle made it" in err, err
    assert "extract all the parts you have, the earlier ones too, together" in err


def test_two_copies_of_one_endorsement_among_parts_are_said(runner: CliRunner, small: tuple[Path, Path, list[Path]],
                                                           tmp_path: Path) -> None:
    """Parts of two copies carrying different files for one endorsement, joined by someone who does not hold
    the endorser's key: the first given was kept without a word (a carrier could knock a real endorsement out). It is
    said now, and which part to give first to keep the other."""
    bundle, keys, _ = small
    carol, reader = tmp_path / "carol", tmp_path / "reader"  # the endorser's keyring; one that holds alice only
    shutil.copytree(keys, carol)
    assert invoke(runner, "keys", "new", "carol", "--no-passphrase", "--keys", carol)[0] == 0
    Keyring(reader).import_public("alice", Keyring(keys).get("alice").public, ("author",), "in-person")
    parts = []
    for claim in ("relayed", "witnessed"):
        endorsed = tmp_path / f"{claim}.7z"
        code, _, err = invoke(runner, "endorse", bundle, "--key", "carol", "--claim", claim, "-o", endorsed,
                              "--keys", carol)
        assert code == 0, err
        code, _, err = invoke(runner, "split", endorsed, "--max-size", "150k", "-o", tmp_path / claim, "--keys", keys)
        assert code == 0, err
        parts.append(sorted((tmp_path / claim).iterdir()))
    mixed = [parts[0][0], *parts[1][1:]]
    code, out, err = invoke(runner, "join", *mixed, "-o", tmp_path / "j.7z", "--keys", reader)
    assert code == 0, err
    assert f"{parts[1][1]} carries another copy of the endorsement by key " in out, out
    assert out.count("another copy") == 1
    code, out, err = invoke(runner, "join", *parts[0], "-o", tmp_path / "k.7z", "--keys", reader)
    assert code == 0 and "another copy" not in out


def test_an_output_named_for_another_kind_of_file_is_refused(runner: CliRunner, tmp_path: Path) -> None:
    """`mirror torrent B.7z -o keep.7z --force` replaced a bundle with a 104-byte torrent; `endorse -o e.txt` and
    `join -o j.txt` were taken too. Each output must be named for what it is (helper-121)."""
    keep = tmp_path / "keep.7z"
    keep.write_bytes(b"7z\xbc\xaf\x27\x1c a bundle")
    for args, suffix in ((("torrent", keep, "-o", keep, "--force"), ".torrent"),
                         (("endorse", keep, "--claim", "relayed", "-o", tmp_path / "e.txt"), ".7z"),
                         (("join", keep, "-o", tmp_path / "j.txt"), ".7z")):
        code, _, err = invoke(runner, *args)
        assert code == 2 and f"the output name must end in {suffix}" in err, (args, err)
    assert keep.read_bytes() == b"7z\xbc\xaf\x27\x1c a bundle"
    assert not (tmp_path / "e.txt").exists() and not (tmp_path / "j.txt").exists()


def test_a_whole_bundle_with_a_part_marker_is_whole_everywhere(runner: CliRunner,
                                                               small: tuple[Path, Path, list[Path]],
                                                               tmp_path: Path) -> None:
    """Anyone passing a bundle on may add `.mirror/part.json` (it is not signed). With every file still there,
    verify --whole passed and extract worked, but endorse refused it as "part 1 of 2" and verify said to join its
    parts (helper-149). What counts is whether files are missing: it is whole everywhere."""
    from forge import Entry, forge, lzma2
    from mirror.sevenzip import iter_members

    bundle, keys, _ = small
    with bundle.open("rb") as handle:
        members = {m.name: b"".join(c) for m, c in iter_members(handle, read_archive(handle, Limits()))}
    members[".mirror/part.json"] = b'{"format":"mirror-part/1","part":1,"parts":2}\n'
    entries = [Entry(name, data) for name, data in members.items()]
    marked = tmp_path / "marked.7z"
    forge(marked, entries, coded=lzma2(b"".join(e.data for e in entries)), encode_header=True)
    code, out, err = invoke(runner, "verify", marked, "--keys", keys)
    assert code == 0 and "carries every file the author signed" in out and "mirror join" not in out, out + err
    Keyring(keys).create("courier", None)
    code, out, err = invoke(runner, "endorse", marked, "--key", "courier", "--claim", "relayed", "-o",
                            tmp_path / "endorsed.7z", "--keys", keys)
    assert code == 0, out + err


def test_parts_renamed_as_volumes_are_read_each_as_itself(runner: CliRunner, small: tuple[Path, Path, list[Path]],
                                                         tmp_path: Path) -> None:
    """Parts renamed s.7z.001, s.7z.002, ... (as 7-Zip names one archive's volumes) were read as one cut archive:
    FAILED for an intact part, "give the first volume" for the second (which 7-Zip opens alone), and join refused
    them (helper-158). A later "volume" that begins as a 7z archive does is an archive of its own; a folder named
    like a volume is none."""
    bundle, keys, parts = small
    renamed = tmp_path / "rn"
    renamed.mkdir()
    for number, part in enumerate(parts, 1):
        (renamed / f"s.7z.{number:03d}").write_bytes(part.read_bytes())
    for number in range(1, len(parts) + 1):
        code, out, err = invoke(runner, "verify", renamed / f"s.7z.{number:03d}", "--keys", keys)
        assert code == 0 and "part" in out, (out, err)
    code, _, err = invoke(runner, "join", *sorted(renamed.iterdir()), "-o", tmp_path / "whole.7z", "--keys", keys)
    assert code == 0, err
    assert (tmp_path / "whole.7z").read_bytes() == bundle.read_bytes()
    alone = tmp_path / "alone"  # a whole bundle named .001 with an unrelated archive named .002 beside it
    alone.mkdir()
    (alone / "b.7z.001").write_bytes(bundle.read_bytes())
    (alone / "b.7z.002").write_bytes(parts[0].read_bytes())
    code, out, err = invoke(runner, "verify", alone / "b.7z.001", "--keys", keys)
    assert code == 0 and out.startswith("VERIFIED"), (out, err)
    (alone / "b.7z.002").unlink()
    (alone / "b.7z.004").mkdir()  # a folder named as a volume is none
    code, out, err = invoke(runner, "verify", alone / "b.7z.001", "--keys", keys)
    assert code == 0 and out.startswith("VERIFIED"), (out, err)
    # a real set of three volumes and an archive of its own named as the fourth (helper-164: the set was read as its
    # first volume alone, FAILED): the set ends before it
    volumes = tmp_path / "set"
    volumes.mkdir()
    data, third = bundle.read_bytes(), len(bundle.read_bytes()) // 3
    for number, piece in enumerate((data[:third], data[third:2 * third], data[2 * third:]), 1):
        (volumes / f"s.7z.{number:03d}").write_bytes(piece)
    (volumes / "s.7z.004").write_bytes(parts[0].read_bytes())
    code, out, err = invoke(runner, "verify", volumes / "s.7z.001", "--keys", keys)
    assert code == 0 and out.startswith("VERIFIED"), (out, err)
    (volumes / "s.7z.002").unlink()  # ... and a gap before it is still a missing volume
    code, out, err = invoke(runner, "verify", volumes / "s.7z.001", "--keys", keys)
    assert code == 4 and "s.7z.002" in out + err, (out, err)


def test_a_damaged_part_checked_whole_names_the_damage(runner: CliRunner, small: tuple[Path, Path, list[Path]],
                                                       tmp_path: Path) -> None:
    """`torrent` of a part with a changed photo said "N file(s) failed: this is a part of a split bundle", and the
    damage was only in the lines it does not print (helper-158): the changed file is the line's reason."""
    _, keys, parts = small
    folder = tmp_path / "x"
    run(require_tool("7zz"), "x", "-bso0", "-bsp0", f"-o{folder}", parts[0])
    photo = next(p for p in sorted((folder / "photos").iterdir()))
    data = bytearray(parts[0].read_bytes())
    at = bytes(data).index(photo.read_bytes()) + 30_000
    data[at] ^= 1
    damaged = tmp_path / "damaged.7z"
    damaged.write_bytes(bytes(data))
    code, _, err = invoke(runner, "torrent", damaged, "-o", tmp_path / "t.torrent", "--keys", keys)
    assert code == 3 and f"failed: changed: photos/{photo.name} (sha256 does not match)" in err, err
    code, out, _ = invoke(runner, "verify", "--whole", damaged, "--keys", keys)
    lines = out.splitlines()
    assert code == 3 and "this is a part of a split bundle" in lines[1] and "changed: photos/" in lines[2], out


def test_volumes_a_messenger_renamed_are_named_with_how_to_name_them(
        runner: CliRunner, small: tuple[Path, Path, list[Path]], tmp_path: Path) -> None:
    """7-Zip volumes a messenger saved as X.7z.001.bin ... were "archive is truncated" with no hint (helper-158)."""
    bundle, keys, _ = small
    folder = tmp_path / "v"
    folder.mkdir()
    run(require_tool("7zz"), "a", "-bso0", "-bsp0", "-v100k", "-mx0", folder / "s.7z", bundle)
    for volume in sorted(folder.iterdir()):
        volume.rename(volume.with_name(volume.name + ".bin"))
    code, _, err = invoke(runner, "verify", folder / "s.7z.001.bin", "--keys", keys)
    assert code == 3 and "name them s.7z.001, s.7z.002, ... in order and give the first" in err, err
