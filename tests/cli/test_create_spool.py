"""Accounts compressed during the checking pass (sevenzip/writer.py SpooledTexts): never for a run that will
sign nothing, never a failure of its own, and memory bounded for long accounts."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

import mirror.bundle.prepare
import mirror.formats.manifest
import mirror.sevenzip.writer
from helpers import sevenzip_extract
from mirror.bundle.create import CreateRequest, prepare_bundle, write_bundle
from mirror.sevenzip import Limits, read_archive
from mirror.sevenzip.writer import SpooledTexts, TextBlocks
from mirror.trust.keys import SecretKey


def _accounts(folder: Path, n: int, first: str = "") -> Path:
    (folder / "accounts").mkdir(parents=True)
    for i in range(n):
        text = first if i == 0 and first else f"Day {i}. The square was quiet after noon; word {i} of many.\n" * 40
        (folder / "accounts" / f"2022-01-{i % 28 + 1:02d}-{i:04d}.en.md").write_text(text, encoding="utf-8")
    return folder


def _count_compressions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = mirror.sevenzip.writer._compress

    def counted(chunks: list[bytes]) -> list[bytes]:
        calls.append(sum(len(c) for c in chunks))
        return real(chunks)

    monkeypatch.setattr(mirror.sevenzip.writer, "_compress", counted)
    return calls


def test_a_run_that_finds_an_identifier_compresses_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first account holds a phone number: nothing will be signed, so no account is compressed (the author
    fixes it and runs again; each run used to pay for all the compression first)."""
    calls = _count_compressions(monkeypatch)
    src = _accounts(tmp_path / "src", 400, first="Call me on +7 701 123 45 67 tonight.\n")
    prepared = prepare_bundle(CreateRequest(src, tmp_path / "b.7z"))
    assert prepared.findings and prepared.texts is None
    assert calls == []


def test_a_blocking_name_compresses_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _count_compressions(monkeypatch)
    src = _accounts(tmp_path / "src", 50)
    prepared = prepare_bundle(CreateRequest(src, tmp_path / "b.7z", title="Call +7 701 123 45 67"))
    assert prepared.findings and prepared.texts is None and calls == []


@pytest.mark.parametrize("fails", ["creating it", "writing to it"])
def test_a_spool_that_fails_leaves_the_writing_to_the_writing_pass(tmp_path: Path, secret: SecretKey,
                                                                    monkeypatch: pytest.MonkeyPatch,
                                                                    fails: str) -> None:
    """A full or read-only disk beside the output: the checking pass goes on without the spool (the author sees
    the report), and the writing pass compresses the accounts, read again, as before."""
    def full(*_: object, **__: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    if fails == "creating it":
        monkeypatch.setattr(mirror.bundle.prepare, "SpooledTexts", full)
    else:
        monkeypatch.setattr(SpooledTexts, "_spool", full)
    src = _accounts(tmp_path / "src", 300)
    out = tmp_path / "b.7z"
    prepared = prepare_bundle(CreateRequest(src, out))
    prepared.check()
    assert prepared.texts is None
    write_bundle(prepared, secret)
    stored = sevenzip_extract(out, tmp_path / "x")
    assert {p.name: p.read_bytes() for p in (stored / "accounts").iterdir()} == \
        {p.name: p.read_bytes() for p in (src / "accounts").iterdir()}


def test_a_block_over_the_budget_is_compressed_alone_and_waited_for() -> None:
    """A long account is never held in flight beside others, nor left compressing while the caller goes on."""
    flying: list[int] = []
    handed: list[int] = []
    blocks = TextBlocks(lambda batch, _: handed.append(batch.size), threads=2, block_size=1000, budget=2000)
    real_send = blocks._send

    def watched(batch: object, last: bool = False) -> None:
        real_send(batch, last)  # type: ignore[arg-type]
        flying.append(blocks._flying)

    blocks._send = watched  # type: ignore[method-assign]
    sizes = [900, 900, 900, 5000, 900, 700, 300]
    try:
        for i, size in enumerate(sizes):
            blocks.add(f"m{i}", bytes([i]) * size)
            if size > 2000:
                assert blocks._flying == 0 and sum(handed) == sum(sizes[: i + 1])  # done before add returned
        blocks.finish()
    finally:
        blocks.close()
    assert handed == [900, 900, 900, 5000, 900, 1000]
    assert max(flying) <= 2000


def test_the_page_is_compressed_in_pieces_while_it_is_rendered(tmp_path: Path, secret: SecretKey,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Pieces of PAGE_PIECE, each compressed as soon as it is rendered: stock 7-Zip reads the page as it is made
    in one piece, and every other block is the same, byte for byte."""
    src = _accounts(tmp_path / "src", 60)
    made, blocks = {}, {}
    for piece in (mirror.formats.manifest.PAGE_PIECE, 8192):
        monkeypatch.setattr(mirror.formats.manifest, "PAGE_PIECE", piece)
        calls = _count_compressions(monkeypatch)
        out = tmp_path / f"{piece}.7z"
        prepared = prepare_bundle(CreateRequest(src, out, bundle_id="0" * 32, created="2022-01-10T12:00:00Z"))
        prepared.check()
        write_bundle(prepared, secret)
        made[piece] = sevenzip_extract(out, tmp_path / f"x{piece}")
        pieces = calls.count(piece)
        assert (pieces > 10) if piece == 8192 else (pieces == 0)
        with out.open("rb") as fp:
            archive = read_archive(fp, Limits())
            page = next(m.folder for m in archive.members if m.name == "index.html")
            blocks[piece] = []
            for i, folder in enumerate(archive.folders):
                fp.seek(folder.pack_offset)
                blocks[piece].append(b"" if i == page else fp.read(folder.pack_size))
    first_blocks, second_blocks = blocks.values()
    assert first_blocks == second_blocks and len(first_blocks) >= 3
    first, second = (sorted(p.relative_to(f).as_posix() for p in f.rglob("*") if p.is_file()) for f in made.values())
    assert first == second and "index.html" in first
    for name in first:
        assert [(f / name).read_bytes() for f in made.values()] == [(made[8192] / name).read_bytes()] * 2
