"""A folder host follows no link inside its folder, even one planted after a check (safeio.open_folder_beneath)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from mirror.errors import TransferError
from mirror.publish.hosts.directory import DirectoryHost
from mirror.safeio import LinkInside, open_folder_beneath


def test_a_link_planted_between_check_and_write_is_not_followed(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    root, elsewhere = tmp_path / "host", tmp_path / "elsewhere"
    root.mkdir()
    elsewhere.mkdir()
    source = tmp_path / "b.7z"
    source.write_bytes(b"bundle")
    host = DirectoryHost("usb", root)
    real = open_folder_beneath

    def planting(at: Path, parts: tuple[str, ...], *, create: bool = False) -> int:
        if parts and not (at / parts[0]).exists():  # the moment after any check publish could make
            (at / parts[0]).symlink_to(elsewhere)
        return real(at, parts, create=create)

    monkeypatch.setattr("mirror.publish.hosts.directory.open_folder_beneath", planting)
    with pytest.raises(TransferError) as raised:
        host.upload("bundles/b.7z", source, hashlib.sha256(b"bundle").hexdigest())
    assert f"{root / 'bundles'} is a link" in str(raised.value)
    assert list(elsewhere.iterdir()) == []


def test_a_file_that_is_a_link_is_refused_for_reading_and_writing(tmp_path: Path) -> None:
    root = tmp_path / "host"
    root.mkdir()
    secret = tmp_path / "secret.json"
    secret.write_text("{}")
    (root / "index.json").symlink_to(secret)
    host = DirectoryHost("usb", root)
    for call in (lambda: host.read("index.json", 100), lambda: host.stat("index.json"),
                 lambda: host.upload("index.json", secret, hashlib.sha256(b"{}").hexdigest())):
        with pytest.raises(TransferError, match=r"index\.json is a link"):
            call()
    assert secret.read_text() == "{}" and (root / "index.json").is_symlink()


def test_the_root_may_be_a_link_but_no_step_below_it(tmp_path: Path) -> None:
    (tmp_path / "real" / "a").mkdir(parents=True)
    (tmp_path / "mount").symlink_to(tmp_path / "real")
    (tmp_path / "real" / "b").symlink_to(tmp_path / "real" / "a")
    with pytest.raises(LinkInside):
        open_folder_beneath(tmp_path / "mount", ("b",), create=True)
    os.close(open_folder_beneath(tmp_path / "mount", ("a", "c"), create=True))
    assert (tmp_path / "real" / "a" / "c").is_dir()
