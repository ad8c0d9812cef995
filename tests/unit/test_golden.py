"""The golden bundle: today's verifier accepts it, and today's writer reproduces its signed files."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from mirror.bundle.verify import verify_bundle
from mirror.formats.minisign import PublicKeyFile
from mirror.sevenzip import Limits, iter_members, read_archive
from mirror.trust.keyring import Keyring

DATA = Path(__file__).parent.parent / "data"
SIGNED = ("SHA256SUMS", "SHA256SUMS.minisig", "author.pub", "bundle.json")


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
        return {m.name: b"".join(chunks) for m, chunks in iter_members(fp, archive) if m.name in SIGNED}


def test_golden_bundle_still_verifies(tmp_path: Path) -> None:
    """A bundle written by an earlier version verifies with today's code, signer trusted."""
    ring = Keyring(tmp_path / "keys")
    ring.import_public("golden", PublicKeyFile.from_text((DATA / "golden.pub").read_text()), ("author",), "qr")
    result = verify_bundle(DATA / "golden-v1.7z", ring)
    assert result.trusted and result.signer_name == "golden"
    assert result.meta.bundle_id == "601de4b5e0f34c1a8f4b2a9d7c3e1f00"
    assert sorted(result.meta.files) == ["accounts/2022-01-05-golden.en.md", "accounts/2022-01-06-golden.ru.md",
                                         "photos/golden.jpg", "photos/golden.png"]


def test_rebuilding_gives_the_same_signed_files(tmp_path: Path) -> None:
    """Format drift (serialization, stripping, signing) changes these bytes and fails here."""
    maker = _load_maker()
    rebuilt = maker.build(tmp_path / "rebuilt.7z")  # type: ignore[attr-defined]
    assert _signed_files(rebuilt) == _signed_files(DATA / "golden-v1.7z")
