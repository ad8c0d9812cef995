"""`mirror scan` says what `mirror create` does with a HEIC/HEIF, so CLEAN never promises a create that stops
(helper-172)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import invoke
from helpers import make_sources
from mirror.trust.keyring import Keyring


def _bare_heic() -> bytes:
    """A HEIC written by pillow-heif with no EXIF, XMP or colour profile: nothing for a scan to name."""
    import pillow_heif
    from PIL import Image

    out = io.BytesIO()
    pillow_heif.from_pillow(Image.new("RGB", (64, 48), "blue")).save(out, quality=90)
    return out.getvalue()


@pytest.mark.parametrize(("name", "what"), [("phone.heic", "a HEIC image"), ("phone.HEIF", "a HEIF image"),
                                            ("canon.HIF", "a HEIF image"), ("disguised.jpg", "a HEIC/HEIF image")])
def test_a_heic_without_metadata_is_not_clean_and_scan_says_what_create_says(
        runner: CliRunner, keyring: Keyring, tmp_path: Path, name: str, what: str) -> None:
    """A HEIC without metadata scanned CLEAN (exit 0), and `mirror create` of the same folder then stopped on it.
    Now scan lists it with create's own reason and fix (exit 6); create still refuses it in those words."""
    src = make_sources(tmp_path / "src")
    (src / "photos" / name).write_bytes(_bare_heic())
    code, out, _ = invoke(runner, "scan", "--json", src)
    doc = json.loads(out)
    said = [f["detail"] for f in doc["findings"] if f["path"] == f"photos/{name}"]
    assert code == 6 and doc["verdict"] == "found" and len(said) == 1, doc
    assert said[0].startswith(f"{what}: its metadata cannot be removed without re-encoding it, so mirror create "
                              "refuses it: pass --convert-heic to convert it to JPEG"), said
    assert "with --keep-metadata it is bundled as it is" in said[0]
    code, _, err = invoke(runner, "create", src, "-o", tmp_path / "b.7z", "--key", "alice")
    assert code == 2 and "its metadata cannot be removed without re-encoding it" in err, err
    assert "pass --convert-heic to convert it to JPEG" in err, err
    code, _, err = invoke(runner, "create", src, "-o", tmp_path / "c.7z", "--key", "alice", "--convert-heic")
    assert code == 0, err


@pytest.mark.parametrize("name", ["converted.heic", "converted.HIF"])
def test_a_jpeg_named_heic_is_said_as_create_refuses_it(runner: CliRunner, keyring: Keyring, tmp_path: Path,
                                                        name: str) -> None:
    """A JPEG that a converter left named .heic scanned CLEAN, and create stopped on it ("a JPEG image, named as a
    HEIC image: rename it"). Scan now says so, in the same words, from the same function."""
    import photo_fixtures as fx

    src = make_sources(tmp_path / "src")
    (src / "photos" / name).write_bytes(fx.plain_jpeg())
    code, out, _ = invoke(runner, "scan", src)
    said = f"photos/{name}: format: a JPEG image, named as a HEIC image: mirror create refuses it: rename it to "
    assert code == 6 and f"{said}converted.jpg: it needs no converting" in out, out
    code, _, err = invoke(runner, "create", src, "-o", tmp_path / "b.7z", "--key", "alice")
    assert code == 2 and "a JPEG image, named as a HEIC image" in err and "rename it to converted.jpg" in err, err


@pytest.mark.parametrize(("name", "reason", "kept"), [
    ("phone.avif", "an AVIF image: its metadata cannot be removed here", True),
    ("burst.heics", "not an account or a photo", False),
    ("clip.mov", "a video: its metadata cannot be removed here", True),
    ("note.txt", "not text (it holds binary data)", False),
])
def test_a_heif_under_another_name_is_said_as_create_refuses_it_by_that_name(
        runner: CliRunner, keyring: Keyring, tmp_path: Path, name: str, reason: str, kept: bool) -> None:
    """A HEIF named .avif, .heics, .mov or .txt was said as "mirror create refuses it: pass --convert-heic"; create
    refuses it by its name before --convert-heic is looked at, and --keep-metadata keeps only a photo's or
    video's name (helper-177). Now scan says create's reason for that name, and --keep-metadata only where it
    works; create is run with each option to hold scan to it."""
    src = make_sources(tmp_path / "src")
    (src / "photos" / name).write_bytes(_bare_heic())
    code, out, _ = invoke(runner, "scan", "--json", src)
    said = [f["detail"] for f in json.loads(out)["findings"] if f["path"] == f"photos/{name}"]
    assert code == 6 and len(said) == 1, said
    assert said[0].startswith(f"a HEIC/HEIF image, refused by mirror create by its name: {reason}: "), said
    assert "pass --convert-heic" not in said[0], said
    assert ("with --keep-metadata it is bundled as it is" in said[0]) == kept, said
    code, _, err = invoke(runner, "create", src, "-o", tmp_path / "b.7z", "--key", "alice", "--convert-heic")
    assert code == 2 and reason in err, err
    code, _, err = invoke(runner, "create", src, "-o", tmp_path / "c.7z", "--key", "alice", "--keep-metadata",
                          src / "photos" / name)
    assert (code == 0) == kept, err
    (src / "photos" / name).rename(src / "photos" / "renamed.heic")  # what the finding says converts it
    code, _, err = invoke(runner, "create", src, "-o", tmp_path / "d.7z", "--key", "alice", "--convert-heic")
    assert code == 0, err


def test_a_heif_brand_past_the_fourth_is_read_as_create_reads_it(runner: CliRunner, keyring: Keyring,
                                                                  tmp_path: Path) -> None:
    """scan_photo_chunks judged a file by its first 32 bytes (an ftyp box's major and four compatible brands), create
    by 272 (64 brands): an ftyp of isom, iso2, avc1, mp41, mp42, heic was "a video or ISO media file" to scan and a
    HEIF to create (helper-177). Now scan reads as many bytes as create and says what create says."""
    brands = [b"isom", b"iso2", b"avc1", b"mp41", b"mp42", b"heic"]
    ftyp = (16 + 4 * len(brands)).to_bytes(4, "big") + b"ftyp" + b"isom" + bytes(4) + b"".join(brands)
    src = make_sources(tmp_path / "src")
    (src / "photos" / "x.jpg").write_bytes(ftyp + b"\0\0\0\x10meta" + bytes(8))
    code, out, _ = invoke(runner, "scan", "--json", src)
    why = {n["path"]: n["reason"] for n in json.loads(out)["not_scanned"]}["photos/x.jpg"]
    assert code == 7 and why.startswith("not a readable HEIC/HEIF image"), why
    code, _, err = invoke(runner, "create", src, "-o", tmp_path / "b.7z", "--key", "alice")
    assert code == 2 and "photos/x.jpg: not a readable HEIC/HEIF image" in " ".join(err.split()), err


@pytest.mark.parametrize(("name", "said", "created"), [
    ("big.heic", "a HEIC image: its metadata cannot be removed without re-encoding it, so mirror create refuses it: "
                 "pass --convert-heic", "a HEIC image: its metadata cannot be removed without re-encoding it"),
    ("big.avif", "a HEIC/HEIF image, refused by mirror create by its name: an AVIF image: its metadata cannot be "
                 "removed here: ", "an AVIF image: its metadata cannot be removed here"),
])
def test_a_heic_over_what_scan_reads_is_said_in_creates_words(runner: CliRunner, keyring: Keyring, tmp_path: Path,
                                                              name: str, said: str, created: str) -> None:
    """A HEIC over 64 MiB was only "not read" (exit 7), without what create does with it, which its first bytes
    tell. Now it is said in create's words, as a smaller one is (exit 6), and still said to be not read."""
    from mirror.privacy.scan import MAX_HEIC

    src = make_sources(tmp_path / "src")
    photo = src / "photos" / name
    photo.write_bytes(_bare_heic())
    with photo.open("r+b") as handle:  # sparse: the disk holds the photo's few KB
        handle.truncate(MAX_HEIC + (1 << 20))
    code, out, _ = invoke(runner, "scan", "--json", src)
    doc = json.loads(out)
    details = [f["detail"] for f in doc["findings"] if f["path"] == f"photos/{name}"]
    assert code == 6 and len(details) == 1 and details[0].startswith(said), doc
    assert doc["not_scanned"] == [{"path": f"photos/{name}", "reason": "a HEIC/HEIF image over 64 MiB is not read"}]
    code, _, err = invoke(runner, "create", src, "-o", tmp_path / "b.7z", "--key", "alice")
    assert code == 2 and f"refused    photos/{name}: {created}\n" in err, err


def test_a_heic_known_too_large_by_its_size_is_not_read_past_its_first_bytes(tmp_path: Path) -> None:
    """scan read 64 MiB of a larger HEIC only to find it too large to scan. Where its size is known (a file in a
    folder, given alone, or a 7z member), its first bytes say what it is and the rest is never read."""
    from mirror.privacy.scan import MAX_HEIC
    from mirror.privacy.scan_paths import ScanReport, _scan_file, scan_path

    head = _bare_heic()
    taken: list[int] = []

    def chunks() -> Iterator[bytes]:
        taken.append(1)
        yield head
        raise AssertionError("read past the first chunk")

    report = ScanReport()
    _scan_file("photos/big.heic", lambda: chunks(), report, MAX_HEIC + 1)
    assert [f.kind for f in report.findings] == ["format"] and taken == [1], report
    assert report.not_scanned == [("photos/big.heic", "a HEIC/HEIF image over 64 MiB is not read")]
    photo = tmp_path / "big.heic"
    photo.write_bytes(head)
    with photo.open("r+b") as handle:
        handle.truncate(MAX_HEIC + 1)
    report = scan_path(photo)
    assert [f.kind for f in report.findings if f.path == "big.heic"] == ["format"], report
    assert report.not_scanned == [("big.heic", "a HEIC/HEIF image over 64 MiB is not read")], report
