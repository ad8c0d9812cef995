"""A FIFO, a device or a socket given as a bundle or a key file is refused with exit 2 before it is opened.

Each command runs as a real process with a deadline: a regression (opening the FIFO) would block
until killed, and the test would fail on the deadline instead of hanging.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from mirror.safeio import open_regular

Maker = Callable[[Path], Path]


def fifo(folder: Path) -> Path:
    """A named pipe nobody writes to."""
    path = folder / "bundle.7z"
    os.mkfifo(path)
    return path


def socket_file(folder: Path) -> Path:
    """A socket inode (what a listening Unix socket leaves on disk)."""
    path = folder / "bundle.7z"
    os.mknod(path, stat.S_IFSOCK | 0o600)
    return path


def device(folder: Path) -> Path:
    """A character device that never ends."""
    return Path("/dev/zero")


def link_to_fifo(folder: Path) -> Path:
    """A symlink whose target is a FIFO: the target's type decides."""
    target = fifo(folder)
    link = folder / "link.7z"
    link.symlink_to(target)
    return link


MAKERS = [pytest.param(fifo, "a FIFO (named pipe)", id="fifo"), pytest.param(socket_file, "a socket", id="socket"),
          pytest.param(device, "a character device", id="/dev/zero"),
          pytest.param(link_to_fifo, "a FIFO (named pipe)", id="symlink to a fifo")]


def _mirror(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mirror", *map(str, args)], capture_output=True, text=True,
                          timeout=60, check=False, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize(("make", "kind"), MAKERS)
def test_not_regular_files_are_refused_by_every_command(make: Maker, kind: str, tmp_path: Path,
                                                        keyring: object) -> None:
    """verify, show, extract, scan, publish and keys import: exit 2 with one line naming what the file is."""
    path = make(tmp_path)
    config = tmp_path / "mirror.toml"
    (tmp_path / "host").mkdir()
    config.write_text(f'[publisher]\nkey = "alice"\n\n[hosts.a]\nurl = "{tmp_path / "host"}"\n')
    commands = [("verify", path), ("keys", "import", path, "--name", "someone")]
    if make is fifo:  # every command, once; the other kinds go through the same check
        commands += [("verify", "--json", path), ("show", path), ("extract", path, tmp_path / "out"), ("scan", path),
                     ("publish", path, "--config", config)]
    for command in commands:
        done = _mirror(*command)
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        assert f"is {kind}, not a regular file" in done.stderr, (command, done.stderr)
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) <= 2
    assert not (tmp_path / "out").exists() and not list((tmp_path / "host").iterdir())


def test_open_regular_refuses_a_fifo_swapped_in_after_the_check(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The type is checked again on the open file: a FIFO that replaces the file between the checks is refused."""
    from mirror.errors import ConfigError

    path = tmp_path / "bundle.7z"
    path.write_bytes(b"7z")
    real_stat = os.stat

    def stat_then_swap(target: object, *args: object, **kwargs: object) -> os.stat_result:
        result = real_stat(target, *args, **kwargs)  # type: ignore[arg-type]
        if Path(str(target)) == path:
            path.unlink()
            os.mkfifo(path)
        return result

    monkeypatch.setattr(os, "stat", stat_then_swap)
    with pytest.raises(ConfigError, match="a FIFO"):
        open_regular(path)


def _published(tmp_path: Path, bundle: Path) -> tuple[Path, Path]:
    """A mirror.toml with one folder host, published to once: (config, host folder)."""
    host = tmp_path / "host"
    host.mkdir(exist_ok=True)
    config = tmp_path / "mirror.toml"
    config.write_text(f'[publisher]\nkey = "alice"\n\n[hosts.a]\nurl = "{host}"\n')
    done = _mirror("publish", bundle, "--config", config)
    assert done.returncode == 0, done.stderr
    return config, host


def _refused(done: subprocess.CompletedProcess[str], code: int, words: str) -> None:
    assert done.returncode == code, (done.stdout, done.stderr)
    assert words in done.stderr + done.stdout, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr


def test_a_fifo_planted_where_the_tool_reads_by_itself_is_refused(tmp_path: Path, bundle: Path) -> None:
    """A FIFO in the keyring, a folder host, a folder mirror or a --keep-mirror folder: a clean refusal, no hang."""
    config, host = _published(tmp_path, bundle)
    mirror_copy = tmp_path / "copy"
    subprocess.run(["cp", "-r", str(host), str(mirror_copy)], check=True)
    (host / "index.json").unlink()
    os.mkfifo(host / "index.json")
    _refused(_mirror("publish", bundle, "--config", config), 4, "index.json is not a regular file")
    _refused(_mirror("status", "--config", config), 4, "index.json is not a regular file")
    _refused(_mirror("fetch", "--mirror", host, "--dest", tmp_path / "dl"), 4, "index.json is not a regular file")
    keep = tmp_path / "keep"
    keep.mkdir()
    os.mkfifo(keep / "index.json")
    _refused(_mirror("fetch", "--mirror", mirror_copy, "--dest", tmp_path / "dl", "--keep-mirror", keep), 2,
             "is a FIFO (named pipe)")
    os.mkfifo(tmp_path / "keys" / "planted.pub")
    _refused(_mirror("verify", bundle), 2, "planted.pub is a FIFO (named pipe)")
    (tmp_path / "keys" / "planted.pub").unlink()
    os.mkfifo(tmp_path / "fifo.toml")
    _refused(_mirror("status", "--config", tmp_path / "fifo.toml"), 2, "is not a regular file")


def test_a_fifo_beside_a_seeded_bundle_is_not_waited_on(tmp_path: Path, bundle: Path) -> None:
    """seed reads the .torrent beside a bundle only if it is a regular file."""
    folder = tmp_path / "seeds"
    folder.mkdir()
    (folder / "b.7z").write_bytes(bundle.read_bytes())
    os.mkfifo(folder / "b.torrent")
    os.mkfifo(folder / "c.7z")
    done = _mirror("seed", folder, "--stop-after", "1")
    assert done.returncode == 0, done.stderr
    assert "SEEDING" in done.stdout


def test_a_fifo_or_folder_inside_a_scanned_folder_is_not_scanned(tmp_path: Path) -> None:
    """scan of a folder lists a FIFO as not scanned (INCOMPLETE, exit 7), never opens it."""
    folder = tmp_path / "scan"
    folder.mkdir()
    (folder / "a.txt").write_text("hello\n")
    os.mkfifo(folder / "b.txt")
    _refused(_mirror("scan", folder), 7, "b.txt: a link or not a regular file")


@pytest.mark.parametrize("command", [("torrent", "{bundle}", "-o", "{out}", "--force"),
                                     ("create", "{src}", "-o", "{out}", "--force")])
def test_an_output_that_is_not_a_regular_file_is_never_replaced(command: tuple[str, ...], tmp_path: Path,
                                                                bundle: Path, sources: Path) -> None:
    """--force replaces a file, never a FIFO or device put where the output goes (as root, /dev/full would go)."""
    out = tmp_path / ("out.7z" if command[0] == "create" else "out.torrent")
    os.mkfifo(out)
    args = [part.format(bundle=bundle, out=out, src=sources) for part in command]
    _refused(_mirror(*args), 2, "is a FIFO (named pipe), not a file to write")
    assert stat.S_ISFIFO(os.lstat(out).st_mode)


def test_links_planted_in_dest_never_make_fetch_write_outside(tmp_path: Path, bundle: Path) -> None:
    """A link where a partial download goes, or a FIFO under the bundle's name: fetch writes only inside DEST."""
    import hashlib

    _, host = _published(tmp_path, bundle)
    sha = hashlib.sha256(bundle.read_bytes()).hexdigest()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    dest = tmp_path / "dest"
    (dest / ".mirror-downloads" / "swarm").mkdir(parents=True)
    (dest / ".mirror-downloads" / f"{sha}.7z.part").symlink_to(victim)
    (dest / ".mirror-downloads" / "swarm" / f"{sha}.7z").symlink_to(victim)
    os.mkfifo(dest / ".mirror-downloads" / f"{sha}.7z")
    done = _mirror("fetch", "--mirror", host, "--dest", dest)
    assert done.returncode == 0, done.stderr
    assert victim.read_text() == "precious\n"
    arrived = [p for p in dest.glob("*.7z") if p.is_file() and not p.is_symlink()]
    assert len(arrived) == 1 and arrived[0].read_bytes() == bundle.read_bytes()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / ".mirror-downloads").symlink_to(elsewhere)
    _refused(_mirror("fetch", "--mirror", host, "--dest", linked), 2, "is a link or not a folder")
    assert list(elsewhere.iterdir()) == []
    (linked / ".mirror-downloads").unlink()
    (linked / ".mirror-downloads").write_bytes(b"a file")  # said the same way, not "File exists"
    _refused(_mirror("fetch", "--mirror", host, "--dest", linked), 2, "is a link or not a folder")


def test_a_hard_link_or_a_folder_under_a_downloads_name_is_taken_away(tmp_path: Path, bundle: Path) -> None:
    """A hard link as the partial download would make fetch append to a file outside DEST (the other name); a
    folder under the part's or the finished file's name stopped fetch with a thread's traceback. Both are
    removed (the outside file keeps its bytes), and the bundle arrives."""
    import hashlib

    _, host = _published(tmp_path, bundle)
    sha = hashlib.sha256(bundle.read_bytes()).hexdigest()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    for planted in ("hard link", "folders"):
        dest = tmp_path / planted
        downloads = dest / ".mirror-downloads"
        downloads.mkdir(parents=True)
        if planted == "hard link":
            os.link(victim, downloads / f"{sha}.7z.part")
        else:
            (downloads / f"{sha}.7z.part" / "inside").mkdir(parents=True)
            (downloads / f"{sha}.7z").mkdir()
        done = _mirror("fetch", "--mirror", host, "--dest", dest)
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
        assert victim.read_text() == "precious\n"
        [arrived] = dest.glob("*.7z")
        assert arrived.read_bytes() == bundle.read_bytes()


def test_a_fifo_under_the_arrival_name_is_not_opened(tmp_path: Path, bundle: Path) -> None:
    """A FIFO where the bundle would land: the bundle lands under its other name, the FIFO is left alone."""
    _, host = _published(tmp_path, bundle)
    first = _mirror("fetch", "--mirror", host, "--dest", tmp_path / "probe")
    assert first.returncode == 0, first.stderr
    (name,) = [p.name for p in (tmp_path / "probe").glob("*.7z")]
    dest = tmp_path / "dest"
    dest.mkdir()
    os.mkfifo(dest / name)
    done = _mirror("fetch", "--mirror", host, "--dest", dest)
    assert done.returncode == 0, done.stderr
    assert stat.S_ISFIFO(os.lstat(dest / name).st_mode)
    assert [p.read_bytes() for p in dest.glob("*.7z") if p.is_file()] == [bundle.read_bytes()]


def test_fetch_says_what_a_wrong_path_is(tmp_path: Path, bundle: Path) -> None:
    """A bundle given as --mirror, a device given as --dest: one line that says what it is, no 'File exists'."""
    _, host = _published(tmp_path, bundle)
    _refused(_mirror("fetch", "--mirror", bundle, "--dest", tmp_path / "in"), 4, "this is a file, not a mirror folder")
    os.mkfifo(tmp_path / "dest")
    _refused(_mirror("fetch", "--mirror", host, "--dest", tmp_path / "dest"), 2, "is not a folder")


def test_extract_under_a_file_says_so(tmp_path: Path, bundle: Path) -> None:
    """extract into a path under a file: exit 2, the file named as not a folder, nothing written."""
    _refused(_mirror("extract", bundle, bundle / "out"), 2, f"{bundle} is not a folder")
    assert not list(tmp_path.glob("*.mirror-tmp"))


def test_split_and_join_under_a_file_say_so(tmp_path: Path, bundle: Path) -> None:
    """split -o and join -o a path under a file: exit 2, the file itself named as not a folder, nothing written."""
    before = sorted(tmp_path.rglob("*"))
    _refused(_mirror("split", bundle, "--max-size", "300k", "-o", bundle / "parts" / "x"), 2,
             f"{bundle} is not a folder")
    _refused(_mirror("join", bundle, "-o", bundle / "x" / "whole.7z"), 2, f"{bundle} is not a folder")
    assert sorted(tmp_path.rglob("*")) == before


def test_a_partial_download_is_never_appended_through_a_link_or_to_a_fifo(tmp_path: Path) -> None:
    """The part file is opened without following links and without waiting on a FIFO (a link planted late)."""
    from mirror.fetch.transport import append_to

    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    (tmp_path / "link.part").symlink_to(victim)
    os.mkfifo(tmp_path / "fifo.part")
    os.link(victim, tmp_path / "hard.part")
    for name in ("link.part", "fifo.part", "hard.part"):
        with pytest.raises(OSError):
            append_to(tmp_path / name)
    assert victim.read_bytes() == b"precious"
    with append_to(tmp_path / "new.part") as out:
        out.write(b"abc")
    assert (tmp_path / "new.part").read_bytes() == b"abc"


def test_a_file_without_an_end_is_no_bundle() -> None:
    """/proc/self/maps is a regular file the system makes up as it is read, with no end to seek to: verify said
    "mirror: Invalid argument", exit 1."""
    done = _mirror("verify", "/proc/self/maps")
    assert done.returncode == 3 and "not a 7z archive: the file has no end to read from" in done.stdout, done
