"""A file whose size in the 7z header is not the size bundle.json signs fails whatever it holds: once the signed
list is known its block is not decoded (a header may declare gigabytes for a photo signed as a few hundred KB,
and decoding them took a minute before the verdict)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from conftest import invoke
from helpers import sevenzip_extract, sevenzip_rebuild
from mirror.sevenzip import Limits, read_archive


def test_a_file_declared_at_another_size_is_not_decoded(runner: CliRunner, bundle: Path, tmp_path: Path) -> None:
    folder = sevenzip_extract(bundle, tmp_path / "x")
    account = sorted((folder / "accounts").iterdir())[0]
    name = account.relative_to(folder).as_posix()
    account.write_bytes(account.read_bytes() * 300)  # another size than bundle.json signs
    repacked = sevenzip_rebuild(folder, tmp_path / "repacked.7z", "-ms=off", "-m0=LZMA2")
    with repacked.open("rb") as fp:
        archive = read_archive(fp, Limits())
    block = next(m.folder for m in archive.members if m.name == name)
    assert block is not None and all(m.folder != block for m in archive.members if m.name != name)
    folder_of = archive.folders[block]
    data = bytearray(repacked.read_bytes())
    middle = folder_of.pack_offset + folder_of.pack_size // 2
    data[middle : middle + 16] = bytes(16)  # decoding this block would fail as damaged, not as resized
    repacked.write_bytes(bytes(data))
    code, out, err = invoke(runner, "verify", repacked)
    assert code == 3, err
    assert f"size differs from bundle.json: {name}" in out and "damaged" not in out + err
