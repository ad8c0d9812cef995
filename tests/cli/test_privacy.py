"""Photo privacy end to end: create strips, extract gives clean photos, scan finds what is planted."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

import photo_fixtures as fx
from conftest import invoke
from helpers import META, decoded, exiftool, make_sources, require_tool
from mirror.privacy.identifiers import iin_valid
from mirror.trust.keyring import Keyring

IDENTIFYING_GROUPS = {"GPS", "ExifIFD", "IFD1", "XMP-dc", "XMP-x", "IPTC", "ICC_Profile", "MakerNotes"}


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    """A source folder whose photos carry GPS, serials, XMP, IPTC, comments, thumbnails and trailing data."""
    src = make_sources(tmp_path / "planted")
    (src / "photos" / "square.jpg").write_bytes(fx.planted_jpeg())
    (src / "photos" / "progressive.jpg").write_bytes(fx.planted_jpeg(progressive=True))
    (src / "photos" / "street.png").write_bytes(fx.planted_png())
    return src


def test_create_and_extract_leave_no_identifying_metadata(runner: CliRunner, keyring: Keyring, planted: Path,
                                                          tmp_path: Path) -> None:
    """exiftool finds none of the planted items after create and extract; pixels and orientation are unchanged."""
    out, dest = tmp_path / "b.7z", tmp_path / "out"
    assert invoke(runner, "create", planted, "-o", out, "--key", "alice")[0] == 0
    assert invoke(runner, "extract", out, dest)[0] == 0
    for name in ("square.jpg", "progressive.jpg", "street.png"):
        original, cleaned = (planted / "photos" / name).read_bytes(), (dest / "photos" / name).read_bytes()
        tags = exiftool(cleaned)
        assert not {key.split(":")[0] for key in tags} & IDENTIFYING_GROUPS, tags
        assert not [key for key in tags if key.startswith("IFD0:") and key != "IFD0:Orientation"], tags
        assert "File:Comment" not in tags and "ExifTool:Warning" not in tags
        for secret in fx.SECRETS:
            assert secret.encode() not in cleaned and secret not in json.dumps(tags)
        assert decoded(cleaned) == decoded(original)
        assert decoded(cleaned, transpose=True) == decoded(original, transpose=True)
    assert exiftool((dest / "photos" / "square.jpg").read_bytes())["IFD0:Orientation"] == "Rotate 90 CW"
    meta = json.loads((dest / META).read_bytes())
    privacy = meta["files"]["photos/square.jpg"]["privacy"]
    assert privacy["metadata"] == "removed" and privacy["kept"] == ["orientation"]
    assert {"exif", "gps", "exif-thumbnail", "xmp", "iptc", "comment", "trailing-data"} <= set(privacy["removed"])
    assert "PLANTED" not in json.dumps(meta)  # kinds only, never values


def test_keep_metadata_keeps_named_photos_and_says_what_they_reveal(runner: CliRunner, keyring: Keyring,
                                                                     planted: Path, tmp_path: Path) -> None:
    """--keep-metadata PATH stores that photo byte for byte, lists what it reveals, and cleans the others."""
    out, dest = tmp_path / "b.7z", tmp_path / "out"
    code, _, err = invoke(runner, "create", planted, "-o", out, "--key", "alice", "--keep-metadata",
                          planted / "photos" / "square.jpg")
    assert code == 0, err
    assert "kept       photos/square.jpg: gps (43.23861 N, 76.94583 E)" in err
    assert f"kept       photos/square.jpg: serial (BodySerialNumber {fx.SERIAL})" in err
    assert "photos/street.png" not in err  # cleaned, so nothing to say
    assert invoke(runner, "extract", out, dest)[0] == 0
    assert (dest / "photos" / "square.jpg").read_bytes() == (planted / "photos" / "square.jpg").read_bytes()
    files = json.loads((dest / META).read_bytes())["files"]
    privacy = files["photos/square.jpg"]["privacy"]
    assert privacy["metadata"] == "kept" and {"gps", "xmp"} <= set(privacy["kept"])
    assert files["photos/street.png"]["privacy"]["metadata"] == "removed"
    code, _, err = invoke(runner, "create", planted, "-o", tmp_path / "c.7z", "--key", "alice",
                          "--keep-metadata", tmp_path / "elsewhere.jpg")
    assert code == 2 and "not a file or folder in" in err


def test_a_photo_kept_with_its_metadata_keeps_its_camera_name_too(runner: CliRunner, keyring: Keyring,
                                                                    planted: Path, tmp_path: Path) -> None:
    """--keep-metadata keeps a photo exactly as it is, its name included; the cleaned photos beside it with camera
    names are still numbered, never onto the kept one's name."""
    photos = planted / "photos"
    (photos / "square.jpg").rename(photos / "IMG_20220105_183012.jpg")
    (photos / "IMG_20220105_183513.jpg").write_bytes(fx.planted_jpeg())
    out, dest = tmp_path / "b.7z", tmp_path / "out"
    code, _, err = invoke(runner, "create", planted, "-o", out, "--key", "alice", "--keep-metadata",
                          photos / "IMG_20220105_183012.jpg")
    assert code == 0 and "renamed    photos/IMG_20220105_183513.jpg: to photos/001.jpg" in err, err
    assert "photos/IMG_20220105_183012.jpg: to" not in err, err
    assert "kept       photos/IMG_20220105_183012.jpg: name (the name carries a capture time" in err, err
    assert invoke(runner, "extract", out, dest)[0] == 0
    kept = dest / "photos" / "IMG_20220105_183012.jpg"
    assert kept.read_bytes() == (photos / "IMG_20220105_183012.jpg").read_bytes()


def test_create_says_which_photos_lose_a_colour_profile(runner: CliRunner, keyring: Keyring, planted: Path,
                                                        tmp_path: Path) -> None:
    """A photo whose profile (macOS's Generic RGB) goes with its metadata looks darker in colour-managed viewers:
    create says so, naming the profile, before the passphrase; a photo without one is not mentioned."""
    (planted / "photos" / "mac.jpg").write_bytes(fx.icc_jpeg("Generic RGB Profile"))
    code, _, err = invoke(runner, "create", planted, "-o", tmp_path / "b.7z", "--key", "alice")
    assert code == 0, err
    assert ("colours    photos/mac.jpg: its colour profile 'Generic RGB Profile' was removed with the metadata: "
            "its colours may look different (often darker or duller)") in err, err
    assert "colours    photos/street.png" not in err


def test_heic_is_refused_and_no_bundle_written(runner: CliRunner, keyring: Keyring, planted: Path,
                                               tmp_path: Path) -> None:
    """A HEIC photo (by name or by content) stops create with exit 2 and the convert hint; a damaged one (a
    header and nothing else) with the hint to copy it again."""
    damaged = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + b"\0" * 64
    for name in ("phone.heic", "disguised.jpg"):
        (planted / "photos" / name).write_bytes(damaged)
        code, _, err = invoke(runner, "create", planted, "-o", tmp_path / "d.7z", "--key", "alice")
        assert code == 2 and f"photos/{name}: not a readable HEIC/HEIF image" in err and "copy the photo" in err, err
        (planted / "photos" / name).unlink()
    heic = fx.heic_photo()
    for name in ("phone.heic", "disguised.jpg"):
        (planted / "photos" / name).write_bytes(heic)
        out = tmp_path / f"{name}.7z"
        code, _, err = invoke(runner, "create", planted, "-o", out, "--key", "alice")
        assert code == 2, err
        assert f"photos/{name}" in err and "convert it to JPEG" in err
        assert not out.exists() and not list(tmp_path.glob(f".{out.name}*"))
        (planted / "photos" / name).unlink()


def test_a_picture_pasted_into_an_account_is_refused(runner: CliRunner, keyring: Keyring, planted: Path,
                                                     tmp_path: Path) -> None:
    """A photo inside an account as a data: URI would be signed with its GPS: refused, with how to do it instead,
    even with --allow-identifiers; scan names it."""
    import base64

    picture = base64.b64encode(fx.planted_jpeg()).decode()
    (planted / "accounts" / "pasted.md").write_text(f"# Утро\n\n![](data:image/jpeg;base64,{picture})\n")
    out = tmp_path / "b.7z"
    code, _, err = invoke(runner, "create", planted, "-o", out, "--key", "alice", "--allow-identifiers")
    assert code == 2 and not out.exists(), err
    assert "refused    accounts/pasted.md: line 3 holds image/jpeg as base64 (a data: URI)" in err
    assert "a picture saved as a photo file in the folder" in err
    code, out_text, _ = invoke(runner, "scan", planted / "accounts" / "pasted.md")
    assert code == 6 and "embedded-file: line 3: image/jpeg" in out_text


def test_malformed_photo_is_named(runner: CliRunner, keyring: Keyring, planted: Path, tmp_path: Path) -> None:
    """A truncated JPEG gives a one-line error naming the file."""
    (planted / "photos" / "cut.jpg").write_bytes(fx.planted_jpeg()[:300])
    code, _, err = invoke(runner, "create", planted, "-o", tmp_path / "b.7z", "--key", "alice")
    assert code == 2 and "refused    photos/cut.jpg: not a valid JPEG: " in err
    assert "fix: open it in an image editor" in err


def test_commit_originals_lets_the_author_prove_a_match(runner: CliRunner, keyring: Keyring, planted: Path,
                                                        tmp_path: Path) -> None:
    """bundle.json holds salted hashes of originals; the salts stay in a private 0600 file, not the bundle."""
    out, dest = tmp_path / "b.7z", tmp_path / "out"
    code, stdout, _ = invoke(runner, "create", planted, "-o", out, "--key", "alice", "--commit-originals")
    assert code == 0 and "never publish them" in stdout
    assert invoke(runner, "extract", out, dest)[0] == 0
    meta = json.loads((dest / META).read_bytes())
    salts_file = tmp_path / "originals" / f"{meta['id']}.json"
    assert stat.S_IMODE(salts_file.stat().st_mode) == 0o600
    salts = json.loads(salts_file.read_text())["salts"]
    for member, salt in salts.items():
        original = (planted / member).read_bytes()
        committed = meta["files"][member]["privacy"]["original_sha256_salted"]
        assert hashlib.sha256(bytes.fromhex(salt) + original).hexdigest() == committed
        assert hashlib.sha256(original).hexdigest() != committed
        assert salt.encode() not in out.read_bytes()
    assert set(salts) == {"photos/square.jpg", "photos/progressive.jpg", "photos/street.png"}


def test_scan_finds_planted_items_in_folder_and_bundle(runner: CliRunner, keyring: Keyring, planted: Path,
                                                       tmp_path: Path) -> None:
    """scan lists GPS, serials, XMP, comments and identifiers in texts, exits 6; a clean bundle exits 0."""
    (planted / "accounts" / "contacts.md").write_text("Звоните +7 701 123 45 67, пишите a.b@example.kz\n",
                                                      encoding="utf-8")
    code, out, _ = invoke(runner, "scan", planted)
    assert code == 6
    for expected in ("photos/square.jpg: gps:", "photos/square.jpg: serial:", "photos/square.jpg: xmp",
                     "photos/square.jpg: comment:", "photos/square.jpg: trailing-data", "photos/street.png: text:",
                     "accounts/contacts.md: phone:", "accounts/contacts.md: email:"):
        assert expected in out, expected
    kept = tmp_path / "kept.7z"
    assert invoke(runner, "create", planted, "-o", kept, "--key", "alice", "--keep-metadata", planted / "photos",
                  "--allow", planted / "accounts" / "contacts.md")[0] == 0
    code, out, _ = invoke(runner, "scan", "--json", kept)
    assert code == 6 and {"gps", "serial", "phone"} <= {f["kind"] for f in json.loads(out)["findings"]}
    (planted / "accounts" / "contacts.md").unlink()
    clean = tmp_path / "clean.7z"
    assert invoke(runner, "create", planted, "-o", clean, "--key", "alice")[0] == 0
    code, out, _ = invoke(runner, "scan", clean)
    assert code == 0 and out.startswith("CLEAN")


def test_scan_reads_single_files(runner: CliRunner, tmp_path: Path) -> None:
    """`mirror scan photo.jpg` scans the photo (no "not a 7z archive"); a PNG's eXIf and a UTF-16 text too."""
    photo, png, text = tmp_path / "IMG_20220105_183012.jpg", tmp_path / "p.png", tmp_path / "notes.txt"
    photo.write_bytes(fx.exif_jpeg(fx.text_fields_tiff()))
    png.write_bytes(fx.png_with(fx.chunk(b"eXIf", fx.camera_tiff(orientation=1, thumbnail=False))))
    iin = next(f"90010530{n:04}" for n in range(10000) if iin_valid(f"90010530{n:04}"))
    text.write_bytes(f"ИИН {iin}, +7 701 123 45 67, aigerim@mail.kz\n".encode("utf-16"))
    code, out, _ = invoke(runner, "scan", photo)
    assert code == 6
    assert f"{photo.name}: text: ImageDescription {fx.DESCRIPTION}" in out
    assert f"{photo.name}: owner: HostComputer {fx.HOST}" in out
    assert f"{photo.name}: name: the name carries a capture time (IMG_20220105_183012)" in out
    code, out, _ = invoke(runner, "scan", "--json", png)
    assert code == 6 and {"gps", "serial"} <= {f["kind"] for f in json.loads(out)["findings"]}
    code, out, _ = invoke(runner, "scan", text)
    assert code == 6 and {"phone", "email", "iin"} <= {line.split(": ")[1] for line in out.splitlines() if ": " in line}


def test_scan_reads_an_xmp_sidecar_and_a_gps_track(runner: CliRunner, tmp_path: Path) -> None:
    """An XMP sidecar (what photo editors write beside a photo; here made by exiftool) with a GPS position, a camera
    serial and the author's name, and a phone's GPX track, were scanned as accounts and called CLEAN
    (helper-149); create refuses both as neither account nor photo."""
    import subprocess

    folder = tmp_path / "to-send"
    folder.mkdir()
    photo = tmp_path / "p.jpg"
    photo.write_bytes(fx.exif_jpeg(fx.text_fields_tiff()))
    subprocess.run([require_tool("exiftool"), "-q", "-o", str(folder / "IMG_0412.xmp"), "-XMP-dc:Creator=Aigerim N.",
                    "-XMP-exif:GPSLatitude=43.2389", "-XMP-exif:GPSLatitudeRef=N", "-XMP-exif:GPSLongitude=76.8897",
                    "-XMP-exif:GPSLongitudeRef=E", "-XMP-aux:SerialNumber=0421308812", str(photo)],
                   check=True, timeout=60)
    (folder / "walk.gpx").write_text('<?xml version="1.0"?>\n<gpx version="1.1" creator="phone"><trk><trkseg>'
                                     '<trkpt lat="43.2389" lon="76.8897"></trkpt></trkseg></trk></gpx>\n')
    code, out, _ = invoke(runner, "scan", "--json", folder)
    found = {(f["path"], f["kind"]) for f in json.loads(out)["findings"]}
    assert code == 6, out
    assert {("IMG_0412.xmp", "gps"), ("IMG_0412.xmp", "serial"), ("IMG_0412.xmp", "owner"),
            ("walk.gpx", "gps")} <= found, found
    plain = tmp_path / "plain"  # texts that only mention them are accounts (helper-152: FOUND, exit 6)
    plain.mkdir()
    (plain / "notes.md").write_text("Its namespace is adobe:ns:meta/; a track starts with <gpx> or <kml>, then "
                                    "<trkpt lat=...> and <coordinates>.\n")
    (plain / "page.html").write_text('<?xml version="1.0"?>\n<html><body><p>&lt;gpx&gt;</p></body></html>\n')
    code, out, _ = invoke(runner, "scan", plain)
    assert code == 0 and "CLEAN" in out, out
    sidecars = tmp_path / "more"  # roots after a style sheet, a BOM and CRLF, a namespace prefix (helper-153)
    sidecars.mkdir()
    (sidecars / "a.gpx").write_bytes(b'<?xml version="1.0"?>\n<?xml-stylesheet href="x.xsl"?>\n<!-- -->\n<gpx>')
    (sidecars / "b.kml").write_bytes(b'\xef\xbb\xbf<?xml version="1.0"?>\r\n<kml:kml xmlns:kml="k">')
    subset = '<?xml version="1.0"?>\n<!DOCTYPE gpx [\n<!ENTITY me "Ivan">\n]>\n<gpx><trk></trk></gpx>\n'
    (sidecars / "c.gpx").write_text(subset)  # a DOCTYPE with entities, and one saved as UTF-16 (helper-155)
    (sidecars / "d.gpx").write_bytes(subset.encode("utf-16"))
    (sidecars / "e.gpx").write_text(subset.replace("<!ENTITY", "<!-- waypoints [1] -->\n<!ENTITY a ']'>\n<!ENTITY"))
    code, out, _ = invoke(runner, "scan", "--json", sidecars)
    found = {f["path"] for f in json.loads(out)["findings"]}
    assert code == 6 and found == {"a.gpx", "b.kml", "c.gpx", "d.gpx", "e.gpx"}, out  # "]" in a subset: helper-156
    logs = tmp_path / "logs"  # a receiver's own log, a flight log and Garmin's tracks (helper-191)
    logs.mkdir()
    (logs / "gps.log").write_text("$GPGSV,3,1,11,03,03,111,00*74\n"
                                  "$GPGGA,123519,4315.038,N,07653.000,E,1,08,0.9,545.4,M,46.9,M,,*47\n")
    (logs / "flight.igc").write_text("AXXXABC\nHFDTE050122\nB1101354315063N07653198EA0058700558\n")
    (logs / "run.tcx").write_text('<?xml version="1.0"?>\n<TrainingCenterDatabase xmlns="x"><Activities/>\n')
    code, out, _ = invoke(runner, "scan", "--json", logs)
    found = {(f["path"], f["kind"]) for f in json.loads(out)["findings"]}
    assert code == 6 and {("gps.log", "gps"), ("gps.log", "coordinates"), ("flight.igc", "gps"),
                          ("run.tcx", "gps")} <= found, out


def test_scan_of_a_text_of_empty_comments_ends(tmp_path: Path) -> None:
    """Forty empty XML comments before a line of text (281 bytes) held `mirror scan` for ever: the prolog was
    skipped with a regular expression that backtracked through every way to split them (helper-153)."""
    import subprocess
    import sys

    (tmp_path / "notes.txt").write_bytes(b"<!---->" * 40 + b"hi\n")
    done = subprocess.run([sys.executable, "-m", "mirror", "scan", str(tmp_path)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0 and "CLEAN" in done.stdout, done.stdout + done.stderr


def test_scan_is_incomplete_never_clean_when_it_cannot_read_a_file(runner: CliRunner, tmp_path: Path) -> None:
    """A .docx or a video makes the result INCOMPLETE (exit 7); OS files in a folder are findings."""
    folder = tmp_path / "dump"
    folder.mkdir()
    (folder / "a.txt").write_text("nothing to see\n", encoding="utf-8")
    (folder / "report.docx").write_bytes(b"PK\x03\x04" + b"\0" * 40)
    (folder / "clip.mov").write_bytes(b"\0\0\0\x14ftypqt  \0\0\0\0qt  ")
    code, out, _ = invoke(runner, "scan", folder)
    assert code == 7, out
    assert "NOTHING FOUND: scanned 1 file(s)" in out and "CLEAN" not in out
    assert "INCOMPLETE: 2 file(s) not scanned" in out
    assert "  report.docx: a Word document: mirror cannot read its text and author data" in out
    code, out, _ = invoke(runner, "scan", "--json", folder)
    doc = json.loads(out)
    assert code == 7 and doc["verdict"] == "incomplete" and doc["not_scanned_count"] == 2
    (folder / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0")
    code, out, _ = invoke(runner, "scan", folder)
    assert code == 6 and "Thumbs.db: os-file: a Windows thumbnail cache" in out and "INCOMPLETE" in out


def test_a_photo_read_only_in_part_is_counted_as_scanned_and_as_incomplete(runner: CliRunner,
                                                                          tmp_path: Path) -> None:
    """A photo cut in half: what was read is reported, the file counts among those scanned (the summary said
    "FOUND 18 item(s) in 1 file(s): scanned 0 file(s)") and is listed as read only in part."""
    folder = tmp_path / "cut"
    folder.mkdir()
    data = fx.planted_jpeg()
    (folder / "cut.jpg").write_bytes(data[:len(data) // 2])
    code, out, _ = invoke(runner, "scan", folder)
    assert code == 6 and "in 1 file(s): scanned 1 file(s) in" in out, out
    assert "INCOMPLETE: 1 file(s) not scanned or read only in part" in out and "cut.jpg: read only in part" in out


def test_scan_reads_a_plain_7z_with_folders_and_links(runner: CliRunner, tmp_path: Path) -> None:
    """An archive made by 7-Zip of a folder holding an empty folder and a link: the text in it is scanned (the
    whole archive was passed over as "unexpected folder in the bundle"); the link is said as not read."""
    import subprocess

    sevenzip = require_tool("7zz")
    trip = tmp_path / "trip"
    (trip / "empty").mkdir(parents=True)
    (trip / "notes.txt").write_text("call +7 701 123 45 67\n", encoding="utf-8")
    (trip / "link.txt").symlink_to("notes.txt")
    subprocess.run([sevenzip, "a", "-bso0", "-snl", tmp_path / "trip.7z", "trip"], cwd=tmp_path, check=True)
    code, out, _ = invoke(runner, "scan", tmp_path / "trip.7z")
    assert code == 6 and "trip/notes.txt: phone: line 1:" in out, out
    assert "trip/link.txt: not read: it is not a regular file (a link or device)" in out, out
    assert "unexpected folder" not in out


def test_scan_of_a_7z_reads_its_own_name(runner: CliRunner, tmp_path: Path) -> None:
    """A 7z travels under its name, as a single file does: a phone number or address in it is named (a clean name
    and the names create gives bundles are not)."""
    import subprocess

    sevenzip = require_tool("7zz")
    (tmp_path / "notes.txt").write_text("clean\n", encoding="utf-8")
    for name, found in (("aizhan@mail.kz 87011234567.7z", True), ("almaty-january-2022-9160a322-v2.7z", False)):
        subprocess.run([sevenzip, "a", "-bso0", tmp_path / name, "notes.txt"], cwd=tmp_path, check=True)
        code, out, _ = invoke(runner, "scan", tmp_path / name)
        assert (code, f"{name}: phone: name: 87•••••••67" in out) == ((6, True) if found else (0, False)), out


def test_scan_of_a_7z_reads_what_a_folder_scan_reads(runner: CliRunner, tmp_path: Path) -> None:
    """Files without data (their names were never scanned: "CLEAN, scanned 0 file(s)"), and files named like a
    bundle's hash list, key or signatures (passed over unread, in any 7z): the same findings as the folder. Of a
    signature only its comments are read, which its signer wrote freely."""
    import subprocess

    sevenzip = require_tool("7zz")
    folder = tmp_path / "src"
    (folder / "accounts").mkdir(parents=True)
    (folder / "endorsements").mkdir()
    (folder / "accounts" / "call +77011234567.md").write_bytes(b"")
    (folder / ".DS_Store").write_bytes(b"")  # an empty OS file is one too
    (folder / "SHA256SUMS").write_text("a@example.org\n", encoding="utf-8")
    (folder / "endorsements" / "notes.md").write_text("b@example.org\n", encoding="utf-8")
    (folder / "endorsements" / "x.minisig").write_text(
        "untrusted comment: signed by c@example.org\nRWQ" + "A" * 70 + "\ntrusted comment: d@example.org\n"
        + "Q" * 88 + "\ncall +7 701 123 45 67\n", encoding="utf-8")  # a line a signature does not have: read
    (folder / "endorsements" / "photo.jpg").write_bytes(fx.exif_jpeg(fx.camera_tiff()))  # any file: as a photo
    subprocess.run([sevenzip, "a", "-bso0", tmp_path / "x.7z", "."], cwd=folder, check=True)
    said = {}
    for path in (folder, tmp_path / "x.7z"):
        code, out, _ = invoke(runner, "scan", path)
        said[path.name] = {line.split(":")[0] + ":" + line.split(":")[1] for line in out.splitlines()
                           if ": phone:" in line or ": email:" in line or ": os-file:" in line}
        assert "endorsements/x.minisig: phone: line 5:" in out, out  # the line as it stands in the file
        assert code == 6, out
    assert said["x.7z"] == said["src"] == {"accounts/call +77011234567.md: phone", "SHA256SUMS: email",
                                           "endorsements/notes.md: email", "endorsements/x.minisig: email",
                                           "endorsements/x.minisig: phone", ".DS_Store: os-file"}, said
    code, out, _ = invoke(runner, "scan", tmp_path / "x.7z")
    assert "endorsements/photo.jpg: gps:" in out, out


def test_scan_counts_every_file_with_findings_past_its_cap(runner: CliRunner, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the findings kept (10,000; 5 here), the files holding the rest are still counted: 6 files of 2
    addresses each were "10 item(s) ... in 3 file(s)"."""
    import mirror.privacy.scan_paths

    monkeypatch.setattr(mirror.privacy.scan_paths, "MAX_FINDINGS", 5)
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(6):
        (folder / f"{i}.txt").write_text(f"a{i}@example.org b{i}@example.org\n", encoding="utf-8")
    code, out, _ = invoke(runner, "scan", folder)
    assert code == 6 and "FOUND 5 item(s) (and 7 more not listed) in 6 file(s): scanned 6 file(s)" in out, out


def _judged(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times libphonenumber is asked to judge a text, from now on."""
    import phonenumbers

    calls = [0]
    real = phonenumbers.PhoneNumberMatcher

    def counted(*args: object, **kwargs: object) -> object:
        calls[0] += 1
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(phonenumbers, "PhoneNumberMatcher", counted)
    return calls


def _numbered(folder: Path) -> Path:
    """Six accounts, each named with a number and holding four more: 30 numbers, all different."""
    folder.mkdir()
    for i in range(6):
        numbers = " ".join(f"+7 701 123 4{i} 6{n}." for n in range(4))
        (folder / f"call 8 702 555 6{i} 7{i}.md").write_text(f"# Numbers\n\nCall {numbers}\n", encoding="utf-8")
    return folder


def test_one_run_of_scan_shares_its_libphonenumber_budget(runner: CliRunner, keyring: Keyring,
                                                                     tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """libphonenumber takes up to a millisecond a number: each file had 20,000 calls of its own, so a bundle of
    many files of numbers it must judge at length held a scan about 20 s a file. A scan's files (and their names)
    now share one budget (100,000; 10 here), numbers past it are still found, by their shapes, and the scan says
    so. Create, of the author's own collection, judges every one (a number shapes miss would be signed)."""
    import mirror.privacy.identifiers

    monkeypatch.setattr(mirror.privacy.identifiers, "RUN_PHONE_CHECKS", 10)
    src = _numbered(tmp_path / "src")
    calls = _judged(monkeypatch)
    code, out, _ = invoke(runner, "scan", src)
    assert code == 6 and "FOUND 30 item(s) in 6 file(s)" in out, out
    assert calls[0] <= 10, calls
    assert "phone numbers were judged by their shapes alone" in out  # said: some kinds may be missed
    code, out, _ = invoke(runner, "scan", src / "call 8 702 555 60 70.md")
    assert code == 6 and "shapes alone" not in out, out
    calls[0] = 0
    bundle = tmp_path / "b.7z"
    code, _, err = invoke(runner, "create", src, "-o", bundle, "--key", "alice", "--allow-identifiers")
    assert code == 0 and err.count(": phone:") == 30, err
    assert calls[0] >= 30, calls  # each judged by libphonenumber
    calls[0] = 0
    code, out, _ = invoke(runner, "scan", bundle)
    assert code == 6 and out.count(": phone:") >= 30, out
    assert calls[0] <= 10, calls


def test_a_bundle_scan_cannot_read_is_incomplete_with_its_report(runner: CliRunner, bundle: Path,
                                                                  tmp_path: Path) -> None:
    """A truncated bundle (or one repacked with a method mirror does not read) was exit 3 with no JSON at all:
    scan's verdicts are 0, 6 and 7, and this one is "not scanned", with the reason."""
    cut = tmp_path / "cut.7z"
    cut.write_bytes(bundle.read_bytes()[: bundle.stat().st_size // 2])
    code, out, _ = invoke(runner, "scan", "--json", cut)
    doc = json.loads(out)
    assert code == 7 and doc["verdict"] == "incomplete" and doc["not_scanned"][0]["path"] == "cut.7z"
    assert "truncated" in doc["not_scanned"][0]["reason"]


def test_scan_reports_a_repository_once_without_walking_it(runner: CliRunner, tmp_path: Path) -> None:
    """A folder kept in git: .git/ is one finding (create leaves it out), not one for each of its objects, and
    the files beside it are still scanned."""
    folder = tmp_path / "dump"
    for i in range(50):
        (folder / ".git" / "objects" / f"{i:02x}").mkdir(parents=True)
        (folder / ".git" / "objects" / f"{i:02x}" / "0123abcd").write_bytes(b"x\x9c" + bytes(range(40)))
    (folder / "sub" / ".Hg").mkdir(parents=True)
    (folder / "sub" / ".Hg" / "hgrc").write_text("[ui]\nusername = Real Name <real@example.org>\n")
    (folder / "a.txt").write_text("nothing to see\n", encoding="utf-8")
    (folder / ".jj" / "repo").mkdir(parents=True)
    (folder / ".jj" / "repo" / "config.toml").write_text('user.email = "real@example.org"\n')
    (folder / "sub" / ".git").symlink_to("../nowhere")  # a dangling worktree link, and a FIFO: left out by create
    os.mkfifo(folder / ".gitignore")
    code, out, _ = invoke(runner, "scan", "--json", folder)
    doc = json.loads(out)
    assert code == 6, out
    assert sorted((f["path"], f["kind"]) for f in doc["findings"]) == [
        (".git/", "os-file"), (".gitignore", "os-file"), (".jj/", "os-file"), ("sub/.Hg/", "os-file"),
        ("sub/.git", "os-file")]
    assert doc["not_scanned_count"] == 0 and "0123abcd" not in out and "real@example.org" not in out


def test_scan_of_a_clean_folder_is_clean(runner: CliRunner, tmp_path: Path) -> None:
    """Accounts without identifiers and photos without metadata: CLEAN, exit 0."""
    src = make_sources(tmp_path / "clean")
    code, out, _ = invoke(runner, "scan", src)
    assert (code, out) == (0, f"CLEAN: scanned 4 file(s) in {src}\n")


def test_scan_says_which_files_hold_more_than_it_read(runner: CliRunner, tmp_path: Path) -> None:
    """A file is read up to its first 200 findings; the report says that file holds more, rather than counting
    "1 more" for 4,000 numbers it did not read."""
    (tmp_path / "list.txt").write_text("Call +7 701 123 45 67 or +7 701 765 43 21.\n" * 2000)
    (tmp_path / "one.txt").write_text("Only +7 701 555 01 02 here.\n")
    code, out, _ = invoke(runner, "scan", tmp_path)
    assert code == 6
    assert "FOUND 201 item(s) in 2 file(s)" in out and "more not listed" not in out
    assert "1 file(s) hold more than 200 items; each was read only that far, so there are more in: list.txt" in out
    code, out, _ = invoke(runner, "scan", "--json", tmp_path)
    doc = json.loads(out)
    assert (doc["stopped_at_cap"], doc["stopped_at_cap_count"], doc["unlisted_findings"]) == (["list.txt"], 1, 0)


def test_create_lists_200_identifiers_of_a_file_and_counts_the_rest(runner: CliRunner, keyring: Keyring,
                                                                      tmp_path: Path) -> None:
    """A contact list of 20,000 numbers: 200 lines and one that counts the rest, the total in the error; with
    --allow the file is signed and the rest is said once. Before, every finding was listed and each was looked
    up in the list of blocking ones (quadratic: minutes for 400,000)."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "contacts.txt").write_text("Call +7 701 123 45 67 or +7 701 765 43 21.\n" * 10_000)
    code, _, err = invoke(runner, "create", src, "-o", tmp_path / "b.7z", "--key", "alice")
    assert code == 6
    lines = err.splitlines()
    assert sum(line.startswith("found      contacts.txt: phone: line ") for line in lines) == 200
    assert "found      contacts.txt: and 19,800 more identifier(s), not listed" in lines
    assert "mirror: 20,000 personal identifier(s) in what would be signed; nothing was signed" in lines
    code, _, err = invoke(runner, "create", src, "-o", tmp_path / "b.7z", "--key", "alice", "--allow",
                          src / "contacts.txt")
    assert code == 0, err
    assert "allowed    contacts.txt: and 19,800 more identifier(s), not listed" in err.splitlines()
    assert len(err.splitlines()) < 210


def test_create_keeps_10000_identifiers_in_all_and_counts_the_rest(runner: CliRunner, keyring: Keyring,
                                                                    tmp_path: Path) -> None:
    """12,000 accounts with one phone number each: 10,000 listed, the other files counted on one line; the total
    is right; --allow of one unlisted file takes exactly its number off; --allow-identifiers signs."""
    src = tmp_path / "src"
    src.mkdir()
    for n in range(12_000):
        (src / f"a{n:05d}.txt").write_text(f"Account {n}. Call +7 701 123 {n % 100:02d} {n // 100 % 100:02d}.\n")
    out = tmp_path / "b.7z"
    code, _, err = invoke(runner, "create", src, "-o", out, "--key", "alice")
    lines = err.splitlines()
    assert code == 6 and sum(line.startswith("found      a") and ".txt: phone:" in line for line in lines) == 10_000
    assert "found      and 2,000 more identifier(s) in 2,000 more file(s), not listed" in lines
    assert "mirror: 12,000 personal identifier(s) in what would be signed; nothing was signed" in lines
    code, _, err = invoke(runner, "create", src, "-o", out, "--key", "alice", "--allow", src / "a11999.txt")
    assert code == 6 and "mirror: 11,999 personal identifier(s)" in err and not out.exists()
    code, _, err = invoke(runner, "create", src, "-o", out, "--key", "alice", "--allow-identifiers")
    assert code == 0, err[-500:]
    assert "allowed    2,000 more file(s): 2,000 identifier(s), not listed" in err.splitlines()


def test_the_kind_of_a_pasted_file_is_said_in_the_readers_language(runner: CliRunner, keyring: Keyring,
                                                                   planted: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """"в строке 3 — a PDF document в base64": the kind stayed English in Russian and Kazakh lines (helper-163)."""
    import base64

    (planted / "accounts" / "pasted.md").write_text("# x\n\n" + base64.b64encode(b"%PDF-1.7\n" + bytes(600)).decode())
    monkeypatch.setenv("MIRROR_LANG", "ru")
    code, _, err = invoke(runner, "create", planted, "-o", tmp_path / "b.7z", "--key", "alice")
    assert code == 2 and "документ PDF в base64" in err and "a PDF document" not in err, err


def test_keep_text_signs_a_damaged_looking_text_and_nothing_else(runner: CliRunner, keyring: Keyring,
                                                                planted: Path, tmp_path: Path) -> None:
    """--allow FILE skipped the damage check and allowed the file's phone numbers at once, and the number was not
    even shown before it was signed (helper-164). --keep-text FILE takes the text as it is; its identifiers are
    still found."""
    account = planted / "accounts" / "censored.md"
    account.write_text("Он сказал х?й, потом б??дь и п??дец.\n")  # noqa: RUF001
    out = tmp_path / "b.7z"
    code, _, err = invoke(runner, "create", planted, "-o", out, "--key", "alice", "--allow", account)
    assert code == 2 and "inside words in 3 places" in err and "--keep-text FILE" in err, err
    account.write_text("Он сказал х?й, потом б??дь и п??дец. Звоните +7 701 123 45 67.\n")  # noqa: RUF001
    code, _, err = invoke(runner, "create", planted, "-o", out, "--key", "alice", "--keep-text", account)
    assert code == 6 and "phone" in err and not out.exists(), err
    account.write_text("Он сказал х?й, потом б??дь и п??дец.\n")  # noqa: RUF001
    code, _, err = invoke(runner, "create", planted, "-o", out, "--key", "alice", "--keep-text", account.parent)
    assert code == 0 and out.exists(), err  # a folder's texts too (helper-165: it did nothing, silently)


def test_scan_names_the_archives_and_programs_it_does_not_open(runner: CliRunner, tmp_path: Path) -> None:
    """A 7z in a folder, a zip, a tarball, an xz file or a self-extracting program was "not a photo or a text:
    mirror cannot read it", as if scan could read no archive (a courier's folder of bundles, a zip a messenger
    made): each is said as what it is, with what to do, and the scan stays incomplete (exit 7)."""
    import lzma
    import zipfile

    from forge import Entry, forge

    folder = tmp_path / "outbox"
    folder.mkdir()
    forge(folder / "bundle.7z", [Entry("notes.txt", b"call +7 701 123 45 67\n")])
    with zipfile.ZipFile(folder / "notes.zip", "w") as archive:
        archive.writestr("notes.txt", "call +7 701 123 45 67\n")
    (folder / "notes.txt.xz").write_bytes(lzma.compress(b"call +7 701 123 45 67\n"))
    (folder / "notes.tar").write_bytes(b"notes.txt".ljust(257, b"\0") + b"ustar\x0000" + b"\0" * 246)
    (folder / "setup.exe").write_bytes(b"MZ\x90\0" + b"\0" * 60)
    (folder / "data.bin").write_bytes(b"\0\1\2\3")
    code, out, _ = invoke(runner, "scan", folder)
    assert code == 7, out
    assert "  bundle.7z: a 7z archive, not opened inside a folder or another archive: scan it on its own" in out
    for name, kind in (("notes.zip", "zip"), ("notes.txt.xz", "xz"), ("notes.tar", "tar")):
        assert f"  {name}: packed with {kind}, which mirror does not open: unpack it" in out, out
    assert "  setup.exe: a program (a self-extracting archive is one)" in out, out
    assert "  data.bin: not a photo or a text: mirror cannot read it" in out, out
    code, out, _ = invoke(runner, "scan", folder / "notes.zip")  # given alone, the same
    assert code == 7 and "notes.zip: packed with zip, which mirror does not open" in out, out


def test_scan_names_the_later_volumes_of_a_7zip_set_in_a_folder(runner: CliRunner, tmp_path: Path) -> None:
    """The volumes after the first of a set a courier carries in a folder were "not a photo or a text: mirror
    cannot read it": each is said as a volume, with the first to scan on its own (exit 7, as for the first)."""
    from forge import Entry, forge_bytes

    data = forge_bytes([Entry("photo.raw", bytes(range(256)) * 8)])
    folder = tmp_path / "outbox"
    (folder / "in").mkdir(parents=True)
    third = len(data) // 3
    for number, piece in enumerate((data[:third], data[third : 2 * third], data[2 * third :]), start=1):
        (folder / "in" / f"story.7z.{number:03d}").write_bytes(piece)
    code, out, _ = invoke(runner, "scan", folder)
    assert code == 7, out
    assert "  in/story.7z.001: a 7z archive, not opened inside a folder or another archive" in out, out
    for number in (2, 3):
        assert (f"  in/story.7z.00{number}: a volume of a 7-Zip set, not opened inside a folder or another "
                "archive: scan its first volume, story.7z.001, on its own") in out, out
    assert "not a photo or a text" not in out, out
