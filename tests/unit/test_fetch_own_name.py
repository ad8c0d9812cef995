"""A fetched bundle kept under an unknown signer's name moves to its own name once trusted (fetch/fetcher.py),
never over another file, and also where the file system has no hard links (a FAT USB stick)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mirror.fetch.fetcher import _own_name, arrival_names
from mirror.formats.index import BundleEntry

_ENTRY = BundleEntry.for_bundle("0123456789abcdef0123456789abcdef", 2, "ab" * 32, 10, "Almaty", "C7058BB9C3C0D24C")


def _kept(dest: Path) -> Path:
    dest.mkdir()
    path = dest / arrival_names(_ENTRY, trusted=False)[0]
    path.write_bytes(b"bundle")
    return path


@pytest.fixture(params=[True, False], ids=["links", "no-links"])
def links(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Hard links work, or fail as on FAT."""
    if not request.param:
        def no_links(src: object, dst: object) -> None:
            raise PermissionError(1, "Operation not permitted")
        monkeypatch.setattr(os, "link", no_links)
    return bool(request.param)


def test_it_takes_its_own_name(tmp_path: Path, links: bool) -> None:
    moved = _own_name(_ENTRY, _kept(tmp_path / "dest"))
    assert moved.name == arrival_names(_ENTRY)[0] and moved.read_bytes() == b"bundle"
    assert [p.name for p in (tmp_path / "dest").iterdir()] == [moved.name]


def test_it_never_replaces_another_file(tmp_path: Path, links: bool) -> None:
    kept = _kept(tmp_path / "dest")
    for name in arrival_names(_ENTRY)[:2]:
        (kept.parent / name).write_bytes(b"another")
    assert _own_name(_ENTRY, kept) == kept
    assert all((kept.parent / name).read_bytes() == b"another" for name in arrival_names(_ENTRY)[:2])
