"""The golden bundles: today's verifier accepts both formats, and today's writer reproduces format 2 byte for byte."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from mirror.bundle.verify import verify_bundle
from mirror.formats.manifest import V1, V2, Layout
from mirror.formats.minisign import PublicKeyFile
from mirror.sevenzip import Limits, iter_members, read_archive
from mirror.trust.keyring import Keyring

DATA = Path(__file__).parent.parent / "data"
SIGNED = (".mirror/SHA256SUMS", ".mirror/SHA256SUMS.minisig", ".mirror/author.pub", ".mirror/bundle.json",
          "index.html")
FILES = ["accounts/2022-01-05-golden.en.md", "accounts/2022-01-06-golden.ru.md", "photos/golden.jpg",
         "photos/golden.png"]


def _load_maker() -> object:
    spec = importlib.util.spec_from_file_location("make_golden", DATA / "make_golden.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_golden"] = module
    spec.loader.exec_module(module)
    return module


def _signed_files(bundle: Path) -> dict[str, bytes]:
    with bundle.open("rb") as fp:
        archive = read_archive(fp, Limits())
        read = {m.name: b"".join(chunks) for m, chunks in iter_members(fp, archive)}  # each read through, in turn
    return {name: data for name, data in read.items() if name in SIGNED}


@pytest.mark.parametrize(("name", "layout", "files"), [
    pytest.param("golden-v1.7z", V1, FILES, id="format 1, made by the first version"),
    pytest.param("golden-v2.7z", V2, sorted([*FILES, "index.html"]), id="format 2"),
])
def test_golden_bundle_still_verifies(tmp_path: Path, name: str, layout: Layout, files: list[str]) -> None:
    """A bundle written by an earlier version verifies with today's code, signer trusted, in its own layout."""
    ring = Keyring(tmp_path / "keys")
    ring.import_public("golden", PublicKeyFile.from_text((DATA / "golden.pub").read_text()), ("author",), "qr")
    result = verify_bundle(DATA / name, ring)
    assert result.trusted and result.signer_name == "golden" and result.layout == layout
    assert result.meta.bundle_id == "601de4b5e0f34c1a8f4b2a9d7c3e1f00"
    assert sorted(result.meta.files) == files


def test_rebuilding_gives_the_same_signed_files(tmp_path: Path) -> None:
    """Format drift (serialization, stripping, signing, the page) changes these bytes and fails here."""
    maker = _load_maker()
    rebuilt = maker.build(tmp_path / "rebuilt.7z")  # type: ignore[attr-defined]
    signed = _signed_files(rebuilt)
    assert set(signed) == set(SIGNED) and signed == _signed_files(DATA / "golden-v2.7z")


def test_rebuilding_gives_the_same_container(tmp_path: Path) -> None:
    """The writer stores no timestamps and cuts blocks by size alone: the whole file comes out the same.

    LZMA2 output is fixed for one liblzma encoder; if a liblzma upgrade ever changes it, the signed
    files above still match, and tests/data/make_golden.py rebuilds this file.
    """
    rebuilt = _load_maker().build(tmp_path / "rebuilt.7z")  # type: ignore[attr-defined]
    assert rebuilt.read_bytes() == (DATA / "golden-v2.7z").read_bytes()
