"""`--json` never lets a control, bidi or other invisible character from a bundle or a photo reach the terminal raw.

Every text field of bundle.json (title, languages, each file's language, date, place, title,
source) and EXIF values read by scan carry C0, DEL, C1, bidi and zero-width characters; the real
`mirror verify --json`, `show --json` and `scan --json` output must hold none of them raw, and must still
decode to exactly the same values.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from click.testing import CliRunner

from conftest import invoke
from forge import Entry, forge
from helpers import META, SIG, SUMS, sevenzip_extract
from mirror.formats.manifest import Sums, trusted_comment
from mirror.trust.keyring import Keyring
from photo_fixtures import camera_tiff, exif_jpeg

EVIL = "A\x1b[2K\x07\x7f\x9b31m\u202eB\u2066C\u200fD\u2028E\ufeffF\u061c\u00adG"
RAW = {c for c in EVIL if not c.isprintable()}  # what must never appear unescaped


def _assert_clean(out: str) -> None:
    leaked = {f"U+{ord(c):04X}" for c in out if c in RAW}
    assert not leaked, leaked


def _evil_bundle(bundle: Path, keyring: Keyring, tmp: Path) -> Path:
    """The bundle with EVIL in every text field of bundle.json, signed again by alice."""
    folder = sevenzip_extract(bundle, tmp / "members")
    members = {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
    meta = json.loads(members[META])
    meta.update(title=EVIL, languages=[EVIL, "en"])  # created is a time, or the bundle is refused
    for path, item in meta["files"].items():
        if path.startswith("accounts/"):
            item.update(language=EVIL, date=EVIL, place=EVIL, title=EVIL, source=EVIL)
    members[META] = (json.dumps(meta, indent=1, ensure_ascii=False) + "\n").encode()
    listed = {n: hashlib.sha256(d).hexdigest() for n, d in members.items() if n not in (SUMS, SIG)}
    members[SUMS] = Sums(listed).to_bytes()
    members[SIG] = keyring.secret("alice", None).sign(
        members[SUMS], trusted_comment(meta["id"], meta["version"])).to_bytes()
    return forge(tmp / "evil.7z", [Entry(n, d) for n, d in members.items()])


def test_verify_and_show_json_escape_every_text_field(bundle: Path, keyring: Keyring, tmp_path: Path,
                                                      runner: CliRunner) -> None:
    """No raw control or bidi character in verify --json or show --json, and the values decode exactly."""
    evil = _evil_bundle(bundle, keyring, tmp_path)
    code, out, err = invoke(runner, "verify", "--json", evil)
    assert code == 0, err
    _assert_clean(out)
    doc = json.loads(out)["bundle"]
    assert (doc["title"], doc["languages"]) == (EVIL, [EVIL, "en"])

    code, out, err = invoke(runner, "show", "--json", evil)
    assert code == 0, err
    _assert_clean(out)
    accounts = [v for p, v in json.loads(out)["contents"].items() if p.startswith("accounts/")]
    assert len(accounts) == 2
    assert all(a[k] == EVIL for a in accounts for k in ("language", "date", "place", "title", "source"))

    code, out, _ = invoke(runner, "show", evil)  # text mode escapes too
    assert code == 0
    _assert_clean(out)


def test_scan_json_escapes_exif_values_and_names(tmp_path: Path, runner: CliRunner) -> None:
    """EXIF Make and a file name holding control and bidi characters come out of scan --json escaped."""
    folder = tmp_path / "to-send"
    (folder / "photos").mkdir(parents=True)
    photo = exif_jpeg(camera_tiff(make=EVIL, thumbnail=False))
    (folder / "photos" / "evil\u202egpj.jpg").write_bytes(photo)
    bundle = forge(tmp_path / "unsigned.7z", [Entry("photos/a.jpg", photo)])
    for target in (folder, bundle):
        code, out, err = invoke(runner, "scan", "--json", target)
        assert code == 6, err
        _assert_clean(out)
        found = json.loads(out)["findings"]
        assert any(f["detail"] == "Make " + " ".join(EVIL.split()) for f in found), found
    assert any(f["path"] == "photos/evil\u202egpj.jpg" for f in json.loads(invoke(runner, "scan", "--json",
                                                                                   folder)[1])["findings"])
