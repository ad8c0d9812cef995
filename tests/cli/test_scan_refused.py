"""`mirror scan` says of every photo format `mirror create` refuses what create says, reason and fix, so a courier
who scans first learns the fix before create stops (an AVIF was only "not scanned")."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

import photo_fixtures as fx
from conftest import invoke
from helpers import make_sources
from mirror.trust.keyring import Keyring


def _picture(fmt: str) -> bytes:
    """A small picture as pillow writes it: AVIF (libavif), TIFF or JPEG."""
    out = io.BytesIO()
    Image.new("RGB", (32, 24), "red").save(out, format=fmt)
    return out.getvalue()


def _create_refusal(err: str, name: str) -> str:
    """create's refusal of photos/`name`, as scan is to say it: "REASON: mirror create refuses it: FIX"."""
    found = re.search(rf"refused +photos/{re.escape(name)}: (.*)\n +fix: (.*)\n", err)
    assert found is not None, err
    return f"{found[1]}: mirror create refuses it: {found[2]}"


@pytest.mark.parametrize(("name", "fmt"), [("phone.avif", "AVIF"), ("AVIF-as.jpg", "AVIF"), ("scan.tif", "TIFF"),
                                           ("scan.TIFF", "TIFF"), ("tiff-as.png", "TIFF")])
def test_a_refused_format_is_said_with_creates_reason_and_fix(runner: CliRunner, keyring: Keyring, tmp_path: Path,
                                                              name: str, fmt: str) -> None:
    """A real AVIF (pillow's libavif) was "not scanned: an AVIF image: its metadata cannot be removed without
    re-encoding it", with no fix, and named .avif not even in create's words ("...cannot be removed here"). Now
    the reason scan gives is create's refusal, word for word, with its fix; still not scanned (exit 7)."""
    src = make_sources(tmp_path / "src")
    (src / "photos" / name).write_bytes(_picture(fmt))
    code, _, err = invoke(runner, "create", src, "-o", tmp_path / "b.7z", "--key", "alice")
    assert code == 2, err
    refusal = _create_refusal(err, name)
    code, out, _ = invoke(runner, "scan", "--json", src)
    doc = json.loads(out)
    assert code == 7 and doc["verdict"] == "incomplete", doc
    assert doc["not_scanned"] == [{"path": f"photos/{name}", "reason": refusal}], doc


@pytest.mark.parametrize("name", ["renamed.avif", "renamed.tif", "clip.mp4", "raw.CR2"])
def test_a_photo_named_as_a_refused_format_is_never_clean(runner: CliRunner, keyring: Keyring, tmp_path: Path,
                                                         name: str) -> None:
    """A JPEG without metadata named .avif, .tif, .mp4 or .CR2 scanned CLEAN (exit 0), and create refused it by its
    name. Now scan says create's refusal as a format finding (exit 6)."""
    src = make_sources(tmp_path / "src")
    (src / "photos" / name).write_bytes(fx.plain_jpeg())
    code, _, err = invoke(runner, "create", src, "-o", tmp_path / "b.7z", "--key", "alice")
    assert code == 2, err
    refusal = _create_refusal(err, name)
    code, out, _ = invoke(runner, "scan", "--json", src)
    doc = json.loads(out)
    said = [(f["kind"], f["detail"]) for f in doc["findings"] if f["path"] == f"photos/{name}"]
    assert code == 6 and said == [("format", refusal)], doc


def test_a_jpeg_png_or_heic_create_takes_gets_no_format_finding(runner: CliRunner, tmp_path: Path) -> None:
    """The class fix says nothing of a photo create cleans: the sources folder still scans CLEAN."""
    src = make_sources(tmp_path / "src")
    code, out, _ = invoke(runner, "scan", src)
    assert code == 0 and "CLEAN" in out, out


@pytest.mark.parametrize(("name", "photo"), [("x.txt", fx.plain_jpeg), ("y.md", fx.plain_png)])
def test_a_photo_named_as_an_account_is_never_clean(runner: CliRunner, keyring: Keyring, tmp_path: Path, name: str,
                                                    photo: Callable[[], bytes]) -> None:
    """A JPEG or PNG without metadata named .txt or .md scanned CLEAN (read as the photo it is), and create refused
    it as no text. Now scan says create's refusal as a format finding (exit 6), as it does of a HEIF so named."""
    src = make_sources(tmp_path / "src")
    (src / "accounts" / name).write_bytes(photo())
    code, _, err = invoke(runner, "create", src, "-o", tmp_path / "b.7z", "--key", "alice")
    assert code == 2, err
    found = re.search(rf"refused +accounts/{re.escape(name)}: (.*)\n +fix: (.*)\n", err)
    assert found is not None, err
    code, out, _ = invoke(runner, "scan", "--json", src)
    doc = json.loads(out)
    said = [(f["kind"], f["detail"]) for f in doc["findings"] if f["path"] == f"accounts/{name}"]
    assert code == 6 and said == [("format", f"{found[1]}: mirror create refuses it: {found[2]}")], doc
