"""`mirror serve` over real HTTP on 127.0.0.1: the layout and nothing else, headers, Range, slow clients."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import typing
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest
import requests
from click.testing import CliRunner

from conftest import invoke
from mirror.bundle.create import CreateRequest, create_bundle
from mirror.formats.listing import Listing
from mirror.serve.headers import CSP
from mirror.serve.limits import Limits, Stats
from mirror.serve.room import RoomRequest, RoomThread
from mirror.sevenzip.model import MAGIC
from mirror.trust.keyring import Keyring
from mirror.trust.keys import SecretKey
from room import LOOPBACK, make_bundle, plain_folder, raw_get, raw_request, serving

T = TypeVar("T")


@pytest.fixture
def folder(tmp_path: Path, secret: SecretKey) -> Path:
    """A plain folder with one bundle whose title is markup."""
    return plain_folder(tmp_path, secret, title="<script>alert(1)</script> Алматы")


@pytest.fixture
def room(folder: Path) -> RoomThread:
    """The folder served in this process (so that the server's counters can be read)."""
    with RoomThread(RoomRequest(folder, port=0)) as served:
        yield served


def _port(room: RoomThread) -> int:
    return int(room.urls[0].rsplit(":", 1)[1].strip("/"))


def _sha(folder: Path) -> str:
    return hashlib.sha256((folder / "almaty.7z").read_bytes()).hexdigest()


@pytest.mark.parametrize("target", [
    "/../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/bundles/../index.json", "/bundles/..%2f..%2fetc%2fpasswd",
    "/bundles/%2e%2e/listing.json", "/%2Fetc%2Fpasswd", "//listing.json", "/listing.json/", "/bundles/",
    "/bundles", "/almaty.7z", "/.mirror-downloads/x", "/index/", "/bundles\\..\\almaty.7z", "/listing.json%00",
    "http://example.org/../../etc/passwd", "http://example.org/%2e%2e/listing.json", "*", "/qr.png",
])
def test_paths_outside_the_layout_get_404(room: RoomThread, folder: Path, target: str) -> None:
    """Traversal, encoded traversal (also in an absolute-form target, which is otherwise served by its path),
    folders and files outside the layout: 404 and no body of ours."""
    status, headers, body = raw_get(_port(room), target)
    assert status in (400, 404), (target, status)
    assert headers["content-security-policy"] == CSP
    assert b"root:" not in body and b"mirror-listing" not in body


def test_each_bundles_signed_list_is_served_from_a_file_of_the_rooms_own(folder: Path) -> None:
    """A room held every offered bundle's SHA256SUMS in memory, 26 MB a bundle of 100,000 members with long names
    (helper-145): it is served from a file in a private folder of the room's, the same bytes, type and tag as
    before, spooled again if the file is removed under it (helper-146: 503 for good), removed when its bundle
    goes, and the folder when the room closes."""
    from mirror.serve import catalog

    sums_path = f"bundles/{_sha(folder)}.SHA256SUMS"
    expected = catalog.scan_folder(folder, log=lambda _line: None).files[sums_path]
    assert expected.data is not None
    with RoomThread(RoomRequest(folder, port=0)) as served:
        assert served.room is not None
        item = served.room.catalog.files[sums_path]
        assert item.data is None and item.source is not None and item.etag == expected.etag
        spool = item.source.parent
        assert spool.stat().st_mode & 0o077 == 0 and not spool.is_relative_to(folder)
        with requests.get(served.urls[0] + sums_path, timeout=10) as answer:
            assert answer.status_code == 200 and answer.content == expected.data
            assert answer.headers["ETag"] == expected.etag
            assert answer.headers["Content-Type"] == expected.content_type  # text, shown by a phone's browser
        item.source.unlink()  # as a cleaner of /tmp does after days: answered 503 once, then spooled again
        deadline, status = time.monotonic() + 20, 0
        while status != 200 and time.monotonic() < deadline:
            with requests.get(served.urls[0] + sums_path, timeout=10) as answer:
                status, content = answer.status_code, answer.content
            time.sleep(0.2)
        assert status == 200 and content == expected.data
        item = served.room.catalog.files[sums_path]
        assert item.source is not None and item.source.exists()
        (folder / "almaty.7z").unlink()
        deadline = time.monotonic() + 20
        while item.source.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not item.source.exists()
    assert not spool.exists()


def test_only_get_and_head(room: RoomThread, folder: Path) -> None:
    """PUT, POST, DELETE and WebDAV methods get 405; nothing is written."""
    before = sorted(p.name for p in folder.rglob("*"))
    for method in ("PUT", "POST", "DELETE", "MKCOL", "PROPFIND", "OPTIONS"):
        status, headers, _ = raw_get(_port(room), "/new.7z", method, "Content-Length: 4\r\n\r\nABCD")
        assert (status, headers["allow"]) == (405, "GET, HEAD"), method
    assert sorted(p.name for p in folder.rglob("*")) == before
    status, headers, body = raw_get(_port(room), "/listing.json", "HEAD")
    assert status == 200 and body == b"" and int(headers["content-length"]) > 0


def test_security_headers_on_every_response(room: RoomThread, folder: Path) -> None:
    """The page, files, 404, 405, 416 and aiohttp's own 400 all carry the CSP and nosniff."""
    port, sha = _port(room), _sha(folder)
    answers = [raw_get(port, "/"), raw_get(port, "/listing.json"), raw_get(port, f"/bundles/{sha}.7z"),
               raw_get(port, "/nothing"), raw_get(port, "/", "DELETE"),
               raw_get(port, f"/bundles/{sha}.7z", extra="Range: bytes=99999999-\r\n"),
               raw_request(port, b"NOT HTTP AT ALL\r\n\r\n")]
    assert [a[0] for a in answers] == [200, 200, 200, 404, 405, 416, 400]
    for _, headers, _ in answers:
        assert headers["content-security-policy"] == "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
        assert headers["x-content-type-options"] == "nosniff"
        assert "aiohttp" not in headers.get("server", "") and "Python" not in headers.get("server", "")
    assert answers[0][1]["content-type"] == "text/html; charset=utf-8"
    assert answers[5][1]["content-range"] == f"bytes */{(folder / 'almaty.7z').stat().st_size}"


def test_page_shows_markup_as_text(room: RoomThread, folder: Path) -> None:
    """A <script> title is escaped, and the page has no script, no form and no link off the server."""
    _, _, body = raw_get(_port(room), "/")
    page = body.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Алматы" in page
    assert "<script" not in page.lower() and "<form" not in page.lower()
    assert "http://" not in page and "https://" not in page and "//" not in page.replace("://", "")
    assert f'href="bundles/{_sha(folder)}.7z"' in page
    for language, words in (("ru", "Как проверить файл"), ("kk", "Файлды қалай тексеруге болады")):
        assert words in page  # how to check, in every language, whatever the page language
        assert f'lang="{language}"' in page


def test_page_language_follows_the_browser(room: RoomThread) -> None:
    """Accept-Language picks Russian or Kazakh; ?lang= overrides it."""
    _, _, ru = raw_get(_port(room), "/", extra="Accept-Language: ru-RU,ru;q=0.9\r\n")
    _, _, kk = raw_get(_port(room), "/?lang=kk", extra="Accept-Language: ru-RU\r\n")
    assert '<html lang="ru">' in ru.decode() and "Скачать" in ru.decode()
    assert '<html lang="kk">' in kk.decode() and "Жүктеп алу" in kk.decode()
    _, _, two_lines = raw_get(_port(room), "/", extra="Accept-Language: de\r\nAccept-Language: kk;q=0.8\r\n")
    assert '<html lang="kk">' in two_lines.decode()  # one list, however many lines it came in


def test_request_lines_of_other_protocols_and_absolute_targets(room: RoomThread, folder: Path) -> None:
    """A request line naming another HTTP version gets 505, never a page; a target in absolute form (as a client
    that thinks it talks to a proxy sends it) is served by its path."""
    port = _port(room)
    for version in ("HTTP/2.0", "HTTP/0.9"):
        status, _, body = raw_request(port, f"GET / {version}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        assert status in (400, 505) and b"<html" not in body, version
    status, _, body = raw_get(port, f"http://elsewhere.example:81/bundles/{_sha(folder)}.7z")
    assert status == 200 and body == (folder / "almaty.7z").read_bytes()
    status, _, body = raw_get(port, "HTTP://elsewhere.example?lang=ru")
    assert status == 200 and '<html lang="ru">' in body.decode()


def test_escaped_letters_in_a_path_name_the_same_file(room: RoomThread, folder: Path) -> None:
    """"/%6Cisting.json" is "/listing.json" (RFC 3986: an escaped letter, digit or -._~ is that character); an
    escaped slash, NUL or dot-dot still names nothing."""
    port, sha = _port(room), _sha(folder)
    listing = raw_get(port, "/listing.json")
    assert raw_get(port, "/%6Cisting%2Ejson")[::2] == (200, listing[2])
    status, _, body = raw_get(port, f"/bundles/%{ord(sha[0]):X}{sha[1:]}%2e7z")
    assert status == 200 and body == (folder / "almaty.7z").read_bytes()
    for target in ("/bundles%2F" + sha + ".7z", "/listing.json%00", "/%2E%2E/listing.json", "/listing%2ejson%3F"):
        assert raw_get(port, target)[0] in (400, 404), target


def test_range_answers(room: RoomThread, folder: Path) -> None:
    """206 with Content-Range for one range, the whole file for a stale If-Range, bytes as on disk."""
    data = (folder / "almaty.7z").read_bytes()
    url = f"{room.urls[0]}bundles/{_sha(folder)}.7z"
    with requests.get(url, headers={"Range": "bytes=100-"}, timeout=10) as answer:
        assert answer.status_code == 206 and answer.content == data[100:]
        assert answer.headers["Content-Range"] == f"bytes 100-{len(data) - 1}/{len(data)}"
        etag = answer.headers["ETag"]
    assert etag == f'"{_sha(folder)}"'
    with requests.get(url, headers={"Range": "bytes=-10"}, timeout=10) as answer:
        assert answer.status_code == 206 and answer.content == data[-10:]
    with requests.get(url, headers={"Range": "bytes=100-", "If-Range": '"stale"'}, timeout=10) as answer:
        assert answer.status_code == 200 and answer.content == data
    with requests.get(url, timeout=10) as answer:
        disposition = answer.headers["Content-Disposition"]  # the name fetch gives it; in UTF-8 and in ASCII
        assert disposition.startswith('attachment; filename="script-alert-1-script-') and \
            "filename*=UTF-8''script-alert-1-script-%D0%B0%D0%BB%D0%BC%D0%B0%D1%82%D1%8B-" in disposition, disposition
        assert answer.headers["Cache-Control"].endswith("immutable")


def test_conditional_requests_and_the_page_varying_by_language(room: RoomThread, folder: Path) -> None:
    """If-None-Match with the file's tag (or *) is a 304 without the body, weak or strong; If-Match naming another
    tag is a 412; the page, chosen by Accept-Language, says so in Vary; range digits are ASCII only."""
    url = f"{room.urls[0]}bundles/{_sha(folder)}.7z"
    etag = f'"{_sha(folder)}"'
    for tag in (etag, f"W/{etag}", '"other", ' + etag, "*"):
        with requests.get(url, headers={"If-None-Match": tag}, timeout=10) as answer:
            assert answer.status_code == 304 and answer.content == b"" and answer.headers["ETag"] == etag, tag
    with requests.get(url, headers={"If-None-Match": '"other"'}, timeout=10) as answer:
        assert answer.status_code == 200 and len(answer.content) == (folder / "almaty.7z").stat().st_size
    with requests.get(url, headers={"If-Match": '"other"'}, timeout=10) as answer:
        assert answer.status_code == 412
    port = int(room.urls[0].rsplit(":", 1)[1].strip("/"))  # the same header on two lines is one list
    path = url.split(f":{port}", 1)[1]
    status, _, _ = raw_request(port, f'GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nIf-None-Match: "zzz"\r\n'
                               f"If-None-Match: {etag}\r\nConnection: close\r\n\r\n".encode())
    assert status == 304
    with requests.get(url, headers={"If-Match": etag, "Range": "bytes=0-9"}, timeout=10) as answer:
        assert answer.status_code == 206 and len(answer.content) == 10
    with requests.get(room.urls[0], headers={"Accept-Language": "en;q=0.1, ru;q=0.9"}, timeout=10) as page:
        assert page.headers["Vary"] == "Accept-Language" and 'lang="ru"' in page.text
        # sizes as a Russian reads them: a decimal comma, thousands set apart by thin spaces
        assert re.search(r"\d+,\d (?:ГБ|МБ|КБ) \(\d{1,3}(?:\u202f\d{3})+ Б\)", page.text)
        with requests.get(room.urls[0], headers={"Accept-Language": "ru", "If-None-Match": page.headers["ETag"]},
                          timeout=10) as again:
            assert again.status_code == 304
    with requests.get(url, headers={"Range": "bytes=\u0661-\u0663".encode().decode("latin-1")}, timeout=10) as answer:
        assert answer.status_code == 200  # Arabic-Indic digits are no range


def test_fetch_resumes_against_serve(room: RoomThread, folder: Path, tmp_path: Path, runner: CliRunner,
                                     reader_keys: Path) -> None:
    """A half-downloaded bundle is finished with one Range request; the server sends only the rest."""
    data = (folder / "almaty.7z").read_bytes()
    sha = _sha(folder)
    downloads = tmp_path / "in" / ".mirror-downloads"
    downloads.mkdir(parents=True)
    (downloads / f"{sha}.7z.part").write_bytes(data[: len(data) // 2])
    assert room.room is not None
    listing = requests.get(f"{room.urls[0]}listing.json", timeout=5).content
    time.sleep(0.2)  # the server counts a body's bytes just after sending them
    sent_before = room.room.stats.bytes_sent
    code, out, err = invoke(runner, "fetch", "--keys", reader_keys, "--dest", tmp_path / "in",
                            "--mirror", room.urls[0])
    assert code == 0, err
    assert "ARRIVED" in out and [p.read_bytes() for p in (tmp_path / "in").glob("*.7z")] == [data]
    expected = len(listing) + len(data) - len(data) // 2  # the listing, then the rest of the bundle only
    deadline = time.monotonic() + 5
    while room.room.stats.bytes_sent - sent_before < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert room.room.stats.bytes_sent - sent_before == expected
    assert f"/bundles/{sha}.7z" in room.room.stats.paths


@pytest.fixture
def reader_keys(tmp_path: Path, keyring: Keyring, runner: CliRunner) -> Path:
    """A reader's keyring that trusts alice as an author."""
    pub = tmp_path / "alice.pub"
    pub.write_text(keyring.get("alice").public.to_text())
    reader = tmp_path / "reader-keys"
    assert invoke(runner, "keys", "import", pub, "--name", "alice", "--keys", reader)[0] == 0
    return reader


def test_bundles_that_fail_and_links_are_not_offered(tmp_path: Path, folder: Path, secret: SecretKey) -> None:
    """A damaged bundle, a symlink to a bundle and an index.json that is a symlink are neither listed nor served."""
    good = folder / "almaty.7z"
    damaged = bytearray(good.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    (folder / "damaged.7z").write_bytes(bytes(damaged))
    other = make_bundle(tmp_path / "other-src", secret, tmp_path / "other.7z", "elsewhere")
    (folder / "link.7z").symlink_to(other)
    (folder / "index.json").symlink_to("/etc/passwd")
    runner = CliRunner()
    two = make_bundle(tmp_path / "two-src", secret, tmp_path / "two.7z", "two photos", big_photos=2)
    code, _, err = invoke(runner, "split", two, "--max-size", str(two.stat().st_size * 2 // 3), "-o",
                          tmp_path / "parts", "--keys", tmp_path / "nokeys")
    assert code == 0, err
    shutil.copy(sorted((tmp_path / "parts").iterdir())[0], folder / "part.7z")
    (folder / "set.7z.001").write_bytes(good.read_bytes()[:1000])  # a 7-Zip volume set copied in
    (folder / "set.7z.002").write_bytes(good.read_bytes()[1000:])
    lines: list[str] = []
    with RoomThread(RoomRequest(folder, port=0), lines.append) as served:
        assert served.room is not None
        catalog = served.room.catalog
        assert [o.sha256 for o in catalog.offers] == [_sha(folder)]
        assert any(s.startswith("damaged.7z: does not verify") for s in catalog.skipped)
        assert any(s.startswith("part.7z: is part 1 of 2 of a split bundle") for s in catalog.skipped), catalog.skipped
        assert "link.7z: a link or not a regular file, never followed; copy the file itself into the folder" in \
            catalog.skipped  # said, so that the operator knows why it is not offered
        assert any(s.startswith("index.json: a link or not a regular file") for s in catalog.skipped)  # not silent
        assert (f"set.7z.001: the first of a set of 7-Zip volumes, not a bundle; to offer it, join the set into one: "
                f"mirror join {folder / 'set.7z.001'} -o {folder / 'set.7z'}") in catalog.skipped, catalog.skipped
        port = _port(served)
        other_sha = hashlib.sha256(other.read_bytes()).hexdigest()
        assert raw_get(port, f"/bundles/{other_sha}.7z")[0] == 404
        assert raw_get(port, "/index.json")[0] == 404
        assert not catalog.signed_index


def test_a_room_on_a_link_to_a_folder_offers_its_bundles(tmp_path: Path, folder: Path) -> None:
    """`mirror serve LINK` (a desktop's mount is often a link, and fetch's hint for a linked folder says to serve
    it) offered none of the folder's bundles, without a word; a link inside the folder is still never followed."""
    from mirror.serve import catalog

    (tmp_path / "mount").symlink_to(folder)
    (folder / "link.7z").symlink_to(folder / "almaty.7z")
    found = catalog.scan_folder(tmp_path / "mount", log=lambda _line: None)
    assert [o.sha256 for o in found.offers] == [_sha(folder)], found.skipped
    assert any(s.startswith("link.7z: a link") for s in found.skipped), found.skipped


def test_a_bundle_named_in_capitals_is_offered(folder: Path) -> None:
    """A bundle copied from a FAT stick or saved by a phone as ALMATY (1).7Z is offered like almaty.7z (verify,
    show and join took it; the room passed over it without a word)."""
    (folder / "almaty.7z").rename(folder / "ALMATY (1).7Z")
    with RoomThread(RoomRequest(folder, port=0)) as served:
        assert served.room is not None
        assert [o.sha256 for o in served.room.catalog.offers] == [
            hashlib.sha256((folder / "ALMATY (1).7Z").read_bytes()).hexdigest()]


def test_seed_finds_a_bundle_named_in_capitals(folder: Path) -> None:
    """`mirror seed` looks for bundles as the room does: ALMATY.7Z too."""
    from mirror.bundle.seeds import find_bundles

    (folder / "almaty.7z").rename(folder / "ALMATY.7Z")
    (folder / ".hidden.7Z").write_bytes(b"")
    assert find_bundles(folder) == [folder / "ALMATY.7Z"]


def test_a_file_added_while_serving_that_does_not_verify_is_said_once_with_why(folder: Path) -> None:
    """A broken copy put in the folder while the room runs: the log says it was skipped and why, once, as it
    does for what was there at the start."""
    lines: list[str] = []
    with RoomThread(RoomRequest(folder, port=0), log=lines.append):
        (folder / "broken.7z").write_bytes(b"7z\xbc\xaf\x27\x1c" + bytes(40))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any(line.startswith("skipped broken.7z") for line in lines):
            time.sleep(0.2)
        time.sleep(3)  # a round or more later: not said again
    said = [line for line in lines if line.startswith("skipped broken.7z")]
    assert len(said) == 1 and "does not verify" in said[0], lines


def test_a_bundle_added_while_serving_is_offered(room: RoomThread, folder: Path, tmp_path: Path,
                                                 secret: SecretKey) -> None:
    """The folder is looked at again: a new bundle is verified and listed within seconds, a removed one goes."""
    make_bundle(tmp_path / "new-src", secret, tmp_path / "new.7z", "Second bundle")
    shutil.move(tmp_path / "new.7z", folder / "new.7z")
    deadline = time.monotonic() + 20
    listing = Listing(())
    while time.monotonic() < deadline:
        listing = Listing.from_bytes(requests.get(f"{room.urls[0]}listing.json", timeout=5).content)
        if len(listing.bundles) == 2:
            break
        time.sleep(0.2)
    assert sorted(b.title for b in listing.bundles) == ["<script>alert(1)</script> Алматы", "Second bundle"]
    (folder / "almaty.7z").unlink()
    while time.monotonic() < deadline + 20:
        listing = Listing.from_bytes(requests.get(f"{room.urls[0]}listing.json", timeout=5).content)
        if len(listing.bundles) == 1:
            break
        time.sleep(0.2)
    assert [b.title for b in listing.bundles] == ["Second bundle"]


def _listed(room: RoomThread, count: int, seconds: float) -> Listing:
    deadline, listing = time.monotonic() + seconds, Listing(())
    while time.monotonic() < deadline:
        listing = Listing.from_bytes(requests.get(f"{room.urls[0]}listing.json", timeout=5).content)
        if len(listing.bundles) == count:
            break
        time.sleep(0.2)
    return listing


def test_a_bundle_copied_in_slowly_or_over_another_is_offered_once_whole(room: RoomThread, folder: Path,
                                                                          tmp_path: Path, secret: SecretKey) -> None:
    """A copy from a USB stick writes into a file the folder already lists, for longer than a round of the
    watch: the bundle is offered once the copy is whole (before, its first, partial state failed and it was
    never looked at again). Copied over an existing bundle, the new one replaces it the same way."""
    make_bundle(tmp_path / "new-src", secret, tmp_path / "new.7z", "Second bundle")
    data = (tmp_path / "new.7z").read_bytes()
    with (folder / "new.7z").open("wb") as out:  # about 5 s, in steps, as a slow copy does
        for start in range(0, len(data), len(data) // 10 + 1):
            out.write(data[start : start + len(data) // 10 + 1])
            out.flush()
            time.sleep(0.5)
    listing = _listed(room, 2, 20)
    assert sorted(b.title for b in listing.bundles) == ["<script>alert(1)</script> Алматы", "Second bundle"]
    make_bundle(tmp_path / "third-src", secret, tmp_path / "third.7z", "Third bundle")
    with (folder / "new.7z").open("r+b") as out:  # cp over it: the same inode, truncated and written again
        out.truncate(0)
        out.write((tmp_path / "third.7z").read_bytes())
    deadline, titles = time.monotonic() + 20, []
    while time.monotonic() < deadline and "Third bundle" not in titles:
        titles = sorted(b.title for b in _listed(room, 2, 5).bundles)
        time.sleep(0.2)
    assert titles == ["<script>alert(1)</script> Алматы", "Third bundle"]


def test_a_bundle_that_comes_during_the_first_scan_is_offered(folder: Path, tmp_path: Path, secret: SecretKey,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The first look at a large folder takes minutes; a bundle moved in meanwhile is offered at the next round,
    not only once something else in the folder changes."""
    from mirror.serve import room as room_module

    monkeypatch.setattr(room_module, "RESCAN_EVERY", 0.1)
    make_bundle(tmp_path / "new-src", secret, tmp_path / "new.7z", "Second bundle")
    real, calls = room_module.scan_folder, []

    def scan_then_copy_in(*args: object) -> object:
        found = real(*args)  # type: ignore[arg-type]
        calls.append(1)
        if len(calls) == 1:  # as if it came while the first scan ran
            shutil.move(tmp_path / "new.7z", folder / "new.7z")
        return found

    monkeypatch.setattr(room_module, "scan_folder", scan_then_copy_in)
    with RoomThread(RoomRequest(folder, port=0)) as served:
        listing = _listed(served, 2, 10)
    assert sorted(b.title for b in listing.bundles) == ["<script>alert(1)</script> Алматы", "Second bundle"]


def test_a_file_that_keeps_growing_does_not_keep_a_new_bundle_waiting(folder: Path, tmp_path: Path,
                                                                       secret: SecretKey,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A torrent client writes growing.7z for an hour beside the served bundles: a bundle moved in meanwhile is
    offered after UNSETTLED_AT_MOST rounds (made short here), not only once the folder stops changing."""
    from mirror.serve import room as room_module

    monkeypatch.setattr(room_module, "RESCAN_EVERY", 0.1)
    monkeypatch.setattr(room_module, "UNSETTLED_AT_MOST", 5)
    make_bundle(tmp_path / "new-src", secret, tmp_path / "new.7z", "Second bundle")
    stop = threading.Event()

    def grow() -> None:
        with (folder / "growing.7z").open("wb") as out:
            while not stop.is_set():
                out.write(b"x" * 1000)
                out.flush()
                time.sleep(0.02)

    with RoomThread(RoomRequest(folder, port=0)) as served:
        grower = threading.Thread(target=grow)
        grower.start()
        try:
            time.sleep(0.5)
            shutil.move(tmp_path / "new.7z", folder / "new.7z")
            listing = _listed(served, 2, 10)
        finally:
            stop.set()
            grower.join()
    assert sorted(b.title for b in listing.bundles) == ["<script>alert(1)</script> Алматы", "Second bundle"]


def test_cli_errors_are_one_line(tmp_path: Path, runner: CliRunner, folder: Path) -> None:
    """A missing folder and a taken port: exit 2, one line and a hint, no traceback."""
    code, _, err = invoke(runner, "serve", tmp_path / "nowhere", "--port", "0")
    assert code == 2 and err.startswith("mirror: ") and "Traceback" not in err
    with socket.socket() as taken:
        taken.bind((LOOPBACK, 0))
        taken.listen(1)
        code, out, err = invoke(runner, "serve", folder, "--port", str(taken.getsockname()[1]))
    assert code == 2 and "already in use" in err and "hint: " in err
    assert "almaty" not in out + err  # said before the folder's bundles were looked at, not after


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_serve_process_stops_on_sigterm(folder: Path, tmp_path: Path, sig: signal.Signals) -> None:
    """The real command serves the listing, and SIGTERM or SIGHUP (its terminal closed) stops it cleanly with a
    summary, exit 0."""
    with serving(folder, tmp_path) as served:
        status, _, body = raw_get(served.port, "/listing.json")
        assert status == 200 and Listing.from_bytes(body).bundles[0].sha256 == _sha(folder)
        os.kill(served.pid, sig)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and _alive(served.pid):
            time.sleep(0.05)
    log = served.log.read_text()
    assert "serving 1 bundle(s)" in log and "http://127.0.0.1:" in log and "stopped: " in log, log
    assert "Traceback" not in log and "interrupted" not in log


def _alive(pid: int) -> bool:
    try:
        return os.waitpid(pid, os.WNOHANG) == (0, 0)
    except ChildProcessError:
        return False


def _slow_reader(port: int, path: str, stop: threading.Event, received: list[int]) -> None:
    """Ask for a file and read one byte per second until `stop`; then read what is left: how much came in all."""
    sock = _hog(port, path, LOOPBACK)
    total = 0
    try:
        while not stop.wait(1.0):
            total += len(sock.recv(1))
        sock.settimeout(10)
        while chunk := sock.recv(65536):
            total += len(chunk)
    except OSError:  # reset by the server: what was read is counted
        pass
    finally:
        sock.close()
        received.append(total)


def _big_room(tmp_path: Path, secret: SecretKey) -> tuple[Path, bytes, str]:
    """A room's folder with one bundle of about 10 MB; the bundle's bytes and SHA-256."""
    folder = plain_folder(tmp_path, secret, big_photos=3)
    data = (folder / "almaty.7z").read_bytes()
    return folder, data, hashlib.sha256(data).hexdigest()


def test_fifty_downloads_finish_while_five_clients_trickle(tmp_path: Path, secret: SecretKey) -> None:
    """50 concurrent downloads of a 10 MB bundle all finish intact while 5 one-byte-per-second readers are cut off."""
    folder, data, sha = _big_room(tmp_path, secret)
    # Few transfer slots, so that trickling readers that kept theirs would starve the others; every client here
    # comes from 127.0.0.1, where a room's phones each have their own address: the per-client cap is raised.
    limits = Limits(max_transfers=8, window=3.0, queue_wait=60.0, per_client=64, per_client_transfers=64)
    with RoomThread(RoomRequest(folder, port=0, limits=limits)) as served:
        assert served.room is not None
        stats = served.room.stats
        port, url = _port(served), f"{served.urls[0]}bundles/{sha}.7z"
        stop, received = threading.Event(), []
        slow = [threading.Thread(target=_slow_reader, args=(port, f"/bundles/{sha}.7z", stop, received))
                for _ in range(5)]
        for thread in slow:
            thread.start()
        time.sleep(0.5)  # the trickling readers hold their slots first

        def download(_: int) -> str:
            with requests.get(url, timeout=60) as answer:
                return hashlib.sha256(answer.content).hexdigest() if answer.status_code == 200 else "failed"

        with ThreadPoolExecutor(50) as pool:
            results = list(pool.map(download, range(50)))
        deadline = time.monotonic() + 30
        while stats.too_slow + stats.gave_way < 5 and time.monotonic() < deadline:
            time.sleep(0.2)
        stop.set()
        for thread in slow:
            thread.join(30)
    assert results == [sha] * 50
    # Each trickling reader is cut: as too slow, or (on a busy machine, where the downloads wait longer) earlier,
    # giving its slot to a download that waits; never an honest download refused.
    assert stats.too_slow + stats.gave_way == 5 and stats.busy == 0, stats
    assert len(received) == 5 and all(0 < n < len(data) // 2 for n in received), received  # cut off, not served


def _pipeline_without_reading(folder: Path, path: str) -> tuple[bool, Stats]:
    """Send `path` again and again on one connection, reading nothing, for 30 s or until the server cuts it off."""
    with RoomThread(RoomRequest(folder, port=0, limits=Limits(window=2.0, idle=5.0))) as served:
        assert served.room is not None
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 128 << 10)
        sock.connect((LOOPBACK, _port(served)))
        sock.settimeout(0.2)
        cut, deadline = False, time.monotonic() + 30
        burst = memoryview(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode() * 100)
        at = 0  # send, not sendall: a sendall cut by its timeout leaves half a request, which is a 400 and a close
        while time.monotonic() < deadline and not cut:
            try:
                at = (at + sock.send(burst[at:])) % len(burst)
            except TimeoutError:
                pass  # the server stopped reading: the kernel's buffers are full
            except OSError:
                cut = True  # reset by the server
        sock.close()
        return cut, served.room.stats


@pytest.mark.parametrize("path", ["/", "/listing.json", "/nothing-here"])
def test_a_client_that_pipelines_requests_and_reads_nothing_is_cut_off(folder: Path, path: str) -> None:
    """Small answers (the page, the listing, a 404) were queued whole without waiting for the client: one
    connection sending request after request and reading none grew the server by hundreds of MB a minute. Now a
    request waits for the answers before it to be taken, `window` seconds at most, then the client is cut off.

    On loopback, a client that never reads can also stall both sides in TCP's retransmission backoff (its full
    receive queue drops the server's segments); the server then hears nothing and closes it as idle, which says
    nothing about the window. Such a try is repeated, up to three times."""
    for _ in range(3):
        cut, stats = _pipeline_without_reading(folder, path)
        assert cut, stats
        # what the kernel's buffers held, answered; before, every request (millions in 30 s) and all in memory
        assert stats.requests < 20_000 and stats.bytes_sent < 16 << 20, stats
        if stats.too_slow >= 1:
            break
    assert stats.too_slow >= 1, stats


def test_a_client_that_never_sends_headers_is_dropped(tmp_path: Path, folder: Path) -> None:
    """A connection that sends nothing (or half a request) is closed after the idle deadline."""
    with RoomThread(RoomRequest(folder, port=0, limits=Limits(idle=1.0))) as served, \
            socket.create_connection((LOOPBACK, _port(served)), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
        start = time.monotonic()
        assert sock.recv(100) == b""
        assert time.monotonic() - start < 8


def test_connections_per_client_are_capped(tmp_path: Path, folder: Path) -> None:
    """Past the per-client cap, a new connection is closed at once; the ones before it still work."""
    with RoomThread(RoomRequest(folder, port=0, limits=Limits(per_client=3))) as served:
        port = _port(served)
        held = [socket.create_connection((LOOPBACK, port), timeout=5) for _ in range(3)]
        try:
            time.sleep(0.3)
            extra = socket.create_connection((LOOPBACK, port), timeout=5)
            with contextlib.suppress(ConnectionError):
                extra.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            with contextlib.suppress(ConnectionResetError):
                assert extra.recv(100) == b""  # closed without an answer
            extra.close()
            held[0].sendall(b"GET /listing.json HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            assert held[0].recv(12).startswith(b"HTTP/1.1 200")
            assert served.room is not None and served.room.stats.refused_connections >= 1
        finally:
            for sock in held:
                sock.close()


def _listening(port: int) -> set[str]:
    """The IPv4 addresses the kernel has a listening socket on for this port (/proc/net/tcp)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, _, hex_port = local.partition(":")
        if state == "0A" and int(hex_port, 16) == port:
            found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


def test_without_lan_only_loopback_listens(folder: Path) -> None:
    """Without --lan the room listens on 127.0.0.1 and on no other address."""
    if not Path("/proc/net/tcp").exists():
        pytest.skip("no /proc/net/tcp on this system")
    with RoomThread(RoomRequest(folder, port=0)) as served:
        assert served.urls == (f"http://127.0.0.1:{_port(served)}/",)
        assert _listening(_port(served)) == {LOOPBACK}


def test_a_file_cut_while_it_is_sent_ends_the_answer_at_once(tmp_path: Path) -> None:
    """A served file that shrinks mid-answer: the connection is closed at once, not left waiting for bytes."""
    import asyncio
    import os

    from mirror.serve.catalog import Item, Stamp
    from mirror.serve.http import HttpServer

    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(8 << 20))
    stamp = Stamp.of(path.stat())

    def resolve(name: str, query: object, headers: object) -> Item | None:
        return Item.of_file("big.bin", path, stamp, '"x"') if name == "big" else None

    def client(port: int) -> tuple[int, float]:
        with socket.create_connection((LOOPBACK, port), timeout=30) as sock:
            sock.sendall(b"GET /big HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            total = len(sock.recv(65536))
            time.sleep(0.5)  # the server has filled the socket's buffers and waits to send more
            os.truncate(path, 100_000)
            started = time.monotonic()
            with contextlib.suppress(ConnectionResetError):  # the server resets the connection: it ends there
                while chunk := sock.recv(1 << 20):
                    total += len(chunk)
            return total, time.monotonic() - started

    async def main() -> tuple[int, float]:
        server = HttpServer(resolve, Limits(window=5, idle=15))
        [(_, port)] = await server.start([(LOOPBACK, 0)])
        try:
            return await asyncio.to_thread(client, port)
        finally:
            await server.stop()

    total, waited = asyncio.run(main())
    assert total < 8 << 20
    assert waited < 5, waited  # before, the client waited for the idle deadline (15 s) with a short body


def test_a_file_rewritten_in_place_while_it_is_sent_is_never_a_whole_answer(tmp_path: Path) -> None:
    """`cp other.7z served.7z` writes the same inode again: truncated, then as long as before. The answer must not
    end as a whole body of old bytes then new under the old ETag: the connection is reset."""
    path = tmp_path / "big.bin"
    old, new = os.urandom(8 << 20), os.urandom(8 << 20)
    path.write_bytes(old)

    def client(port: int) -> bytes:
        with socket.create_connection((LOOPBACK, port), timeout=30) as sock:
            sock.sendall(b"GET /big HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            body = sock.recv(65536)
            time.sleep(0.5)  # the server has filled the socket's buffers and waits to send more
            with path.open("r+b") as out:
                out.truncate(0)
                out.write(new)
            with contextlib.suppress(ConnectionResetError):
                while chunk := sock.recv(1 << 20):
                    body += chunk
        return body.split(b"\r\n\r\n", 1)[1]

    body, _ = _serve_file(path, Limits(window=5, idle=15), client)
    assert len(body) < len(old) and old.startswith(body[: len(body) // 2])


def test_a_folder_of_very_many_files_is_bounded(tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Too many 7z files that do not verify: problems are listed up to a cap, then counted; the bundle among them is
    verified first."""
    from mirror.serve import catalog

    monkeypatch.setattr(catalog, "MAX_CANDIDATES", 150)
    for number in range(200):
        (folder / f"junk{number:03d}.7z").write_bytes(MAGIC + b"\0" * 40)
    found = catalog.scan_folder(folder, log=lambda _line: None)
    assert len(found.offers) == 1  # its signature checks: verified before archives that are no bundles (peek.py)
    assert len(found.skipped) == catalog.MAX_SKIPPED + 2, found.skipped[-3:]
    assert found.skipped[-2] == "49 more file(s) that were not offered: they do not verify"
    assert found.skipped[-1].startswith("51 more 7z archive(s) not verified: a room verifies at most 150 in one")


def test_planted_files_that_are_no_7z_archives_do_not_crowd_a_bundle_out(
        folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stick with thousands of empty `0*.7z` files (or files of other bytes) named to sort first: they are passed
    over after one stat (and six bytes read), not counted against the files a room verifies; the bundle is offered,
    and the room says how many it passed over and why. With the first names kept, none was offered."""
    from mirror.serve import catalog

    monkeypatch.setattr(catalog, "MAX_CANDIDATES", 5)
    (folder / "almaty.7z").rename(folder / "zzz.7z")
    for number in range(3000):
        (folder / f"0{number:05d}.7z").touch()
    for number in range(40):
        (folder / f"1{number:05d}.7z").write_bytes(b"not a 7z archive, but long enough to be one " * 2)
    found = catalog.scan_folder(folder, log=lambda _line: None)
    assert [o.meta.title for o in found.offers] == ["<script>alert(1)</script> Алматы"], found.skipped
    assert "3040 *.7z file(s) passed over without a look: 3000 too small to be a 7z archive, 40 not beginning as " \
           "one does" in found.skipped
    said = [line for line in found.skipped if ": does not verify: " in line]  # the first named, with why
    assert len(said) == catalog.MAX_SKIPPED, found.skipped[:3]
    assert "the file is empty (0 bytes): not a 7z archive" in said[0] and said[0].startswith("0"), said[0]


def test_a_change_to_any_7z_file_is_seen_past_the_cap(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the cap of files looked at, the watch sees a change to every *.7z file, whatever order the file system
    lists them in and whichever the scan chose: a bundle copied over a planted file named past the first ones (in
    name order, as the watch looked) was never seen."""
    from mirror.serve import catalog

    monkeypatch.setattr(catalog, "MAX_CANDIDATES", 5)
    (folder / "bundles").mkdir()
    for number in range(60):
        (folder / "bundles" / f"b{number:02d}.7z").write_bytes(MAGIC + b"not yet" * 8)
    assert len(catalog._candidates(folder)[0].paths) == 5
    for path in [*sorted((folder / "bundles").iterdir(), reverse=True)[:10], folder / "almaty.7z"]:
        before = catalog.folder_state(folder)
        with path.open("ab") as out:
            out.write(b"more")
        assert catalog.folder_state(folder) != before, path.name


def test_a_full_room_offers_trusted_then_endorsed_bundles_first(folder: Path, tmp_path: Path, keyring: Keyring,
                                                                runner: CliRunner,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """More bundles than a room offers: the author the room's keyring trusts comes first, then a bundle endorsed by
    a key it trusts, then the newest; never whichever was found first (a stick of bundles signed by a stranger,
    named to sort first, crowded the author's out), and the room says how many it left out and why."""
    from mirror.serve import catalog

    for name in ("mallory", "bob"):
        keyring.create(name, None)
    for number in range(3):
        make_bundle(tmp_path / f"m{number}", keyring.secret("mallory", None), folder / f"0{number}.7z",
                    f"Forged {number}")
    code, _, err = invoke(runner, "endorse", folder / "00.7z", "--key", "bob", "--claim", "relayed", "-o",
                          folder / "01-endorsed.7z", "--keys", tmp_path / "keys")
    assert code == 0, err
    room_keys = Keyring(tmp_path / "room-keys")
    for name in ("alice", "bob"):
        room_keys.import_public(name, keyring.get(name).public, ("author",), "in-person")
    monkeypatch.setattr(catalog, "MAX_ENTRIES", 1)
    found = catalog.scan_folder(folder, log=lambda _line: None, keys=room_keys.snapshot())
    assert [o.meta.title for o in found.offers] == ["<script>alert(1)</script> Алматы"]
    assert found.offers[0].trusted
    assert "4 bundle(s) that verify left out: a room offers at most 1; first those whose signer its keyring trusts " \
           "(serve --keys), then those endorsed by keys it trusts, then the newest" in found.skipped
    assert len([p for p in found.files if p.endswith(".7z")]) == 1
    monkeypatch.setattr(catalog, "MAX_ENTRIES", 2)
    found = catalog.scan_folder(folder, log=lambda _line: None, cache=found.cache, keys=room_keys.snapshot())
    offered = {o.meta.title: o for o in found.offers}
    assert set(offered) == {"<script>alert(1)</script> Алматы", "Forged 0"}
    assert offered["Forged 0"].endorsed == 1 and not offered["Forged 0"].trusted
    assert offered["Forged 0"].sha256 == hashlib.sha256((folder / "01-endorsed.7z").read_bytes()).hexdigest()


def test_the_room_page_tells_an_endorsed_copy_from_the_plain_one(folder: Path, tmp_path: Path, keyring: Keyring,
                                                                 runner: CliRunner) -> None:
    """The plain and the endorsed copy of one bundle showed as two entries with the same title, date and key: the
    page now gives each its version, and the endorsed one the endorsements it carries, those by keys the room
    trusts, and that only the author's key makes it genuine."""
    from mirror.serve import catalog
    from mirror.serve.page import render_page

    for path in folder.glob("*.7z"):
        path.unlink()
    keyring.create("bob", None)
    make_bundle(tmp_path / "m", keyring.secret("alice", None), folder / "plain.7z", "Алматы, январь")
    code, _, err = invoke(runner, "endorse", folder / "plain.7z", "--key", "bob", "--claim", "relayed", "-o",
                          folder / "endorsed.7z", "--keys", tmp_path / "keys")
    assert code == 0, err
    endorsed_sha = hashlib.sha256((folder / "endorsed.7z").read_bytes()).hexdigest()

    def sections(keys: Keyring | None, language: str) -> dict[bool, str]:
        found = catalog.scan_folder(folder, log=lambda _line: None, keys=keys.snapshot() if keys else None)
        assert len(found.offers) == 2
        page = render_page(found.offers, False, language, False).decode()
        parts = page.split('<section class="bundle">')[1:]
        return {endorsed_sha in part: part for part in parts}

    shown = sections(None, "en")
    assert "<dt>Version</dt><dd>1</dd>" in shown[True] and "<dt>Version</dt><dd>1</dd>" in shown[False]
    assert "<dt>Endorsements this copy carries</dt><dd>1<div" in shown[True]
    assert "only the author" in shown[True] and "whoever shares" not in shown[True]
    assert "Endorsements" not in shown[False]
    room_keys = Keyring(tmp_path / "room-keys")
    room_keys.import_public("bob", keyring.get("bob").public, ("author",), "in-person")
    shown = sections(room_keys, "ru")
    assert "<dt>Версия</dt><dd>1</dd>" in shown[False]
    # who trusts the keys is said as the page says who shares the files (a "room" that trusts reads wrong in Russian)
    assert ("<dt>Подтверждения в этой копии</dt><dd>1; ключами, которым доверяет тот, кто раздаёт эти файлы: 1<div"
            in shown[True])
    assert "комнат" not in shown[True]
    assert "Подтверждения" not in shown[False]


def test_bundles_with_long_titles_never_make_the_listing_one_readers_refuse(
        tmp_path: Path, folder: Path, secret: SecretKey, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bundles planted with the longest titles allowed would make listing.json larger than any reader takes (a
    thousand of them, 4 MB, did at the real limit): the room leaves them out of it, longest first, and says so;
    the bundle that was there stays listed, and a reader takes the listing."""
    from mirror.formats import listing as listing_format
    from mirror.serve import catalog

    (tmp_path / "tiny").mkdir()
    (tmp_path / "tiny" / "note.txt").write_text("x")
    for number in range(3):
        create_bundle(CreateRequest(tmp_path / "tiny", folder / f"a{number}.7z",
                                    title=f"{number} " + "\U0001f600" * 990), secret)
    honest = catalog.scan_folder(folder, log=lambda _line: None)
    whole = honest.files["listing.json"].data
    assert whole is not None and len(honest.offers) == 4
    limit = len(whole) - 1000  # one long entry too many
    monkeypatch.setattr(listing_format, "MAX_LISTING", limit)  # the reader's limit and the room's, as one
    found = catalog.scan_folder(folder, log=lambda _line: None)
    raw = found.files["listing.json"].data
    assert raw is not None and len(raw) <= limit
    read = Listing.from_bytes(raw)
    assert len(read.bundles) == 3 and "<script>alert(1)</script> Алматы" in {e.title for e in read.bundles}
    assert any(line.startswith("1 bundle(s) left out of listing.json") for line in found.notes), found.notes
    assert not found.skipped, found.skipped  # all four offered: nothing was skipped
    assert len(found.offers) == 4  # still on the page, and at its path


def test_a_folder_of_very_many_pinned_index_names_is_read_in_bounded_memory(tmp_path: Path) -> None:
    """index/ is read for its highest 2,000 versions: every name in it was held first (300,000 empty N.json files
    on a stick took 81 MB at each look at the folder). The highest are still the ones looked at."""
    import tracemalloc

    from mirror.serve import catalog

    (tmp_path / "index").mkdir()
    for number in range(20_000):
        (tmp_path / "index" / f"{number}.json").touch()
    (tmp_path / "index" / "19999.json").write_text('{"format": "mirror-index/2"}')
    tracemalloc.start()
    try:
        files, passed = catalog._index_files(tmp_path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2_500_000  # 5.2 MB when every name was held, 1 MB now
    assert list(files) == ["index/19999.json"] and passed[0] == "index/19998.json: not served, it is not an index"


def _bytes_read() -> int:
    """What this process has read so far, by the kernel's count (rchar: every read call, cached or not)."""
    io = Path("/proc/self/io").read_text()
    return int(next(line for line in io.splitlines() if line.startswith("rchar:")).split()[1])


def test_a_file_still_being_written_is_not_read_whole(folder: Path, tmp_path: Path) -> None:
    """A torrent client's preallocated 1 GiB file and a copy half done: the folder is looked at again every round
    while they change, and each look costs a header read, not a hash of the whole file."""
    from mirror.serve import catalog

    with (folder / "preallocated.7z").open("wb") as out:
        out.truncate(1 << 30)  # sparse: zeros, as a client leaves the pieces it has not received
    whole = (folder / "almaty.7z").read_bytes()
    (folder / "half.7z").write_bytes(whole[:len(whole) // 2])
    before = _bytes_read()
    found = catalog.scan_folder(folder, log=lambda _line: None)
    read = _bytes_read() - before
    assert [o.meta.title for o in found.offers] == ["<script>alert(1)</script> Алматы"]
    assert len(found.skipped) == 2, found.skipped
    assert read < 2 * len(whole) + (4 << 20), read


@pytest.mark.parametrize("swap", ["fifo", "other file"])
def test_a_bundle_swapped_while_it_is_checked_is_looked_at_again(folder: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch, swap: str) -> None:
    """The bundle is replaced between its check and its hash (here, right after verify returns): by a FIFO, whose
    open would block the room for good, or by another file, whose hash would be served under the checked one's
    name. Neither is offered, the scan ends, and the next round looks again."""
    import os

    from mirror.serve import catalog

    real = catalog.verify_open
    bundle = folder / "almaty.7z"

    def verify_then_swap(fp: typing.BinaryIO, *args: object, **options: object) -> object:
        verified = real(fp, *args, **options)  # type: ignore[arg-type]
        if os.fstat(fp.fileno()).st_ino == bundle.stat().st_ino:
            replacement = tmp_path / "replacement"
            if swap == "fifo":
                os.mkfifo(replacement)
            else:
                replacement.write_bytes(bundle.read_bytes())
            os.replace(replacement, bundle)
        return verified

    monkeypatch.setattr(catalog, "verify_open", verify_then_swap)
    found: list[catalog.Catalog] = []
    scan = threading.Thread(target=lambda: found.append(catalog.scan_folder(folder, log=lambda _line: None)))
    scan.start()
    scan.join(20)
    if scan.is_alive():  # let the blocked open go, then fail
        os.close(os.open(bundle, os.O_WRONLY | os.O_NONBLOCK))
        scan.join(5)
    assert found, "the scan blocked on the FIFO"
    assert not found[0].offers
    assert any("almaty.7z" in line and ("no longer a regular file" in line or "changed while" in line)
               for line in found[0].skipped), found[0].skipped
    assert found[0].again  # the watch looks again at the next round, even if the folder stays as it is
    if swap == "other file":  # nothing of the passing state is kept: the next scan checks it afresh
        monkeypatch.setattr(catalog, "verify_open", real)
        again = catalog.scan_folder(folder, log=lambda _line: None, cache=found[0].cache)
        assert [o.meta.title for o in again.offers] == ["<script>alert(1)</script> Алматы"] and not again.again


def test_a_bundle_swapped_for_another_and_back_is_never_offered_mixed(folder: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      secret: SecretKey) -> None:
    """Someone who can write to the folder swaps another bundle in for the moment the room opens the listed one,
    and the listed one back right after: the room reads one open file for both the check and the hash, so it
    never offers the other bundle's title under the listed one's hash; it looks again, and then offers the listed
    bundle as it is."""
    from mirror.serve import catalog

    make_bundle(tmp_path / "other-src", secret, tmp_path / "other.7z", "Another author's story")
    bundle, parked = folder / "almaty.7z", tmp_path / "parked.7z"
    real = catalog.open_regular
    swapped: list[bool] = []

    def swap_around_open(path: Path) -> typing.BinaryIO:
        if path != bundle or swapped:
            return real(path)
        swapped.append(True)
        os.replace(bundle, parked)
        shutil.copyfile(tmp_path / "other.7z", bundle)
        try:
            return real(path)
        finally:
            os.replace(parked, bundle)

    monkeypatch.setattr(catalog, "open_regular", swap_around_open)
    monkeypatch.setattr("mirror.bundle.verify.open_regular", swap_around_open)  # whichever opens it first
    found = catalog.scan_folder(folder, log=lambda _line: None)
    assert swapped and not found.offers and found.again
    again = catalog.scan_folder(folder, log=lambda _line: None, cache=found.cache)
    assert [(o.meta.title, o.sha256) for o in again.offers] == [("<script>alert(1)</script> Алматы", _sha(folder))]


def test_one_bundle_in_many_files_has_its_list_spooled_once(folder: Path, tmp_path: Path) -> None:
    """A list was spooled for every file that held a bundle: one bundle of 100,000 empty members (117 KB, a list
    of 21 MB) linked 20 times (`ln`, no room taken on the stick) put 420 MB in the room's temporary folder, and a
    million members linked a thousand times would fill any. Each bundle's list is spooled once."""
    from mirror.serve import catalog

    for number in range(5):
        os.link(folder / "almaty.7z", folder / f"again{number}.7z")
    spool = tmp_path / "spool"
    spool.mkdir()
    found = catalog.scan_folder(folder, log=lambda _line: None, spool=spool)
    assert len(found.offers) == 1 and len(list(spool.iterdir())) == 1
    item = found.files[f"bundles/{_sha(folder)}.SHA256SUMS"]
    assert item.source is not None and item.source.parent == spool
    (folder / "again9.7z").write_bytes((folder / "almaty.7z").read_bytes())  # a copy, checked in the next scan
    found = catalog.scan_folder(folder, log=lambda _line: None, cache=found.cache, spool=spool)
    assert list(spool.iterdir()) == [item.source] and found.files[f"bundles/{_sha(folder)}.SHA256SUMS"] == item


def test_copies_of_a_bundle_are_decoded_once(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every copy of a bundle was decoded again (6 s each for one of 100,000 empty members: twenty copies kept the
    room from opening for two minutes). A file of the size of a bundle checked already is hashed first, and a copy
    is offered as that bundle was; one of the same size with other bytes is checked in full, and fails."""
    from mirror.serve import catalog

    decoded: list[object] = []
    real = catalog.verify_open

    def counted(*args: typing.Any, **kwargs: typing.Any) -> typing.Any:
        decoded.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(catalog, "verify_open", counted)
    data = (folder / "almaty.7z").read_bytes()
    for number in range(4):
        (folder / f"copy{number}.7z").write_bytes(data)
    os.link(folder / "almaty.7z", folder / "linked.7z")
    (folder / "same-size.7z").write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    found = catalog.scan_folder(folder, log=lambda _line: None)
    assert len(decoded) == 2  # almaty.7z and same-size.7z
    assert len(found.offers) == 1 and sum(c.offer is not None for c in found.cache.values()) == 6
    assert [line.split(":")[0] for line in found.skipped] == ["same-size.7z"]
    (folder / "copy9.7z").write_bytes(data)  # came later: the next scan's check finds the bundle known
    catalog.scan_folder(folder, log=lambda _line: None, cache=found.cache)
    assert len(decoded) == 2


@pytest.mark.parametrize("spooled", [True, False])
def test_the_lists_a_room_holds_are_bounded(folder: Path, tmp_path: Path, secret: SecretKey, spooled: bool,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Distinct bundles with lists of hundreds of MB each: past what the room holds of lists (in its spool folder,
    or in memory where it has none), a bundle is offered without its detached list, and the room says so; the
    list is in the bundle, where readers take it."""
    from mirror.serve import catalog

    make_bundle(tmp_path / "second-src", secret, folder / "second.7z", "Second")
    first = catalog.scan_folder(folder, log=lambda _line: None).files[f"bundles/{_sha(folder)}.SHA256SUMS"]
    monkeypatch.setattr(catalog, "MAX_SPOOLED", first.size if spooled else 0, raising=False)
    monkeypatch.setattr(catalog, "MAX_IN_MEMORY", 0 if spooled else first.size, raising=False)
    spool = tmp_path / "spool"
    spool.mkdir()
    found = catalog.scan_folder(folder, log=lambda _line: None, spool=spool if spooled else None)
    assert len(found.offers) == 2
    lists = [path for path in found.files if path.endswith(".SHA256SUMS")]
    assert len(lists) == 1  # the one checked first (in the room's own order), whichever it was
    assert (found.files[lists[0]].source is not None) == spooled
    assert len(list(spool.iterdir())) == (1 if spooled else 0)
    other = "second.7z" if lists[0] == f"bundles/{_sha(folder)}.SHA256SUMS" else "almaty.7z"
    assert any(line.startswith(f"{other}: offered without its signed list of files beside it")
               for line in found.notes), found.notes  # a note of a bundle offered, never "skipped"
    assert not any(line.startswith(other) for line in found.skipped), found.skipped


def test_a_file_that_seems_to_change_at_every_check_is_checked_twice_not_forever(
        folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file whose stamp differs between its listing and its opening every time (an overlay file system can do
    that): checked at one scan and the next, then kept like any other failure until its stamp changes; a
    bundle is not decoded every 2 s for good."""
    from mirror.serve import catalog

    calls: list[Path] = []

    def always_changed(path: Path, stamp: object, *_: object) -> object:
        calls.append(path)
        return catalog._Checked(None, problem="changed while it was checked; it is looked at again", again=True)

    monkeypatch.setattr(catalog, "_check", always_changed)
    found = catalog.scan_folder(folder, log=lambda _line: None)
    assert found.again and len(calls) == 1
    for _ in range(3):
        found = catalog.scan_folder(folder, log=lambda _line: None, cache=found.cache)
    assert len(calls) == 2 and not found.again


@pytest.mark.parametrize("signature", [None, b"not a signature\n"])
def test_an_index_without_a_real_signature_is_not_called_signed(folder: Path, signature: bytes | None) -> None:
    """index.json alone, or beside something that is no minisign signature: the room does not claim a signed index."""
    from mirror.serve import catalog

    (folder / "index.json").write_bytes(b'{"format": "mirror-index/2"}\n')
    if signature is not None:
        (folder / "index.json.minisig").write_bytes(signature)
    assert catalog.scan_folder(folder, log=lambda _line: None).signed_index is False


def test_fifos_in_the_folder_are_never_opened(folder: Path) -> None:
    """A FIFO as index.json, as its signature, as a bundle or under index/: the folder is read without waiting."""
    import os

    from mirror.serve import catalog

    (folder / "index").mkdir()
    for name in ("index.json", "index.json.minisig", "fifo.7z", "index/3.json"):
        os.mkfifo(folder / name)
    found = catalog.scan_folder(folder, log=lambda _line: None)
    assert [o.meta.title for o in found.offers] == ["<script>alert(1)</script> Алматы"]
    assert found.signed_index is False and "index.json" not in found.files and "index/3.json" not in found.files


@pytest.mark.parametrize("part", ["bundles", "index"])
def test_a_linked_bundles_or_index_folder_is_not_served(tmp_path: Path, folder: Path, secret: SecretKey,
                                                        part: str) -> None:
    """bundles/ or index/ that links to a folder outside: nothing in it is offered or served."""
    from mirror.serve import catalog

    outside = tmp_path / "outside"
    outside.mkdir()
    make_bundle(tmp_path / "outside-src", secret, outside / "outside.7z", "outside")
    (outside / "7.json").write_bytes(b"{}")
    (folder / part).symlink_to(outside)
    found = catalog.scan_folder(folder, log=lambda _line: None)
    assert [o.meta.title for o in found.offers] == ["<script>alert(1)</script> Алматы"]
    assert not any(name.startswith("index/") for name in found.files)


def _hog(port: int, path: str, source: str) -> socket.socket:
    """A download from `source` (another loopback address: another phone in the room) that reads nothing yet."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window: the server notices at once
    sock.bind((source, 0))
    sock.connect((LOOPBACK, port))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    return sock


def _open_copies(path: Path) -> int:
    """How many files this process has open that are `path` (the room runs in a thread of it)."""
    wanted, count = path.stat(), 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            found = os.stat(f"/proc/self/fd/{fd}")
            count += (found.st_dev, found.st_ino) == (wanted.st_dev, wanted.st_ino)
    return count


def test_downloads_that_wait_for_a_slot_hold_no_file(tmp_path: Path, secret: SecretKey) -> None:
    """Each request waiting for a transfer slot held the bundle open (helper-157): the room's budget of open files
    counts one for each connection and one for each transfer, so under a low limit the waiting ones' files ran it
    out ("Too many open files"). A file is opened when its slot is free; the waiting ones are then served."""
    folder, data, sha = _big_room(tmp_path, secret)
    limits = Limits(max_transfers=1, per_client=64, per_client_transfers=64, queue_wait=30.0, window=60.0,
                    slow_after=60.0)
    with RoomThread(RoomRequest(folder, port=0, limits=limits)) as served:
        assert served.room is not None
        port, path = _port(served), f"/bundles/{sha}.7z"
        hog = _hog(port, path, "127.0.0.2")  # takes the only slot and reads nothing
        time.sleep(0.5)
        waiting = [socket.create_connection((LOOPBACK, port)) for _ in range(8)]
        for sock in waiting:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        try:
            time.sleep(1.0)
            assert _open_copies(folder / "almaty.7z") == 1  # the hog's; before, 9
        finally:
            hog.close()

        def answer(sock: socket.socket) -> bytes:  # each is served in turn once the slot is free
            sock.settimeout(30)
            got = b""
            with sock:
                while chunk := sock.recv(1 << 20):
                    got += chunk
            return got

        with ThreadPoolExecutor(len(waiting)) as pool:
            answers = list(pool.map(answer, waiting))
        assert all(got.startswith(b"HTTP/1.1 200") and got.endswith(data) for got in answers)
        # a file changed since it was checked is said at once, not after waiting for a slot (helper-170)
        hog = _hog(port, path, "127.0.0.2")
        try:
            time.sleep(0.5)
            stat = (folder / "almaty.7z").stat()
            os.utime(folder / "almaty.7z", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
            start = time.monotonic()
            status, _, _ = raw_get(port, path)
            assert status == 503 and time.monotonic() - start < limits.queue_wait / 3
        finally:
            hog.close()


def test_a_few_addresses_that_trickle_cannot_hold_every_download_slot(tmp_path: Path, secret: SecretKey) -> None:
    """Two addresses, each at its cap of downloads, read nothing: they held every slot until the window cut them
    off, and an honest reader got 503 meanwhile. Now a download that waits takes the slot of the slowest one
    (which may resume with Range), and an address past its own cap is told at once to come back later."""
    folder, _, sha = _big_room(tmp_path, secret)
    limits = Limits(max_transfers=4, per_client_transfers=2, queue_wait=8.0, window=60.0, slow_after=1.0)
    with RoomThread(RoomRequest(folder, port=0, limits=limits)) as served:
        assert served.room is not None
        stats, port = served.room.stats, _port(served)
        hogs = [_hog(port, f"/bundles/{sha}.7z", source) for source in ("127.0.0.2", "127.0.0.3") for _ in range(2)]
        try:
            time.sleep(0.5)
            extra = _hog(port, f"/bundles/{sha}.7z", "127.0.0.2")  # a third from one address: 503 at once
            extra.settimeout(10)
            assert extra.recv(12) == b"HTTP/1.1 503"
            extra.close()
            with requests.get(f"{served.urls[0]}bundles/{sha}.7z", timeout=60) as answer:
                assert answer.status_code == 200 and hashlib.sha256(answer.content).hexdigest() == sha
        finally:
            for sock in hogs:
                sock.close()
    assert stats.gave_way >= 1 and stats.busy == 1, stats


def test_idle_connections_of_one_address_give_way_when_the_room_is_full(folder: Path) -> None:
    """Connections are full, held idle by two addresses: a newcomer gets an answer, and an idle connection of
    the address that holds the most is closed for it (before, the newcomer was closed at once)."""
    limits = Limits(max_connections=6, per_client=4)
    with RoomThread(RoomRequest(folder, port=0, limits=limits)) as served:
        assert served.room is not None
        port = _port(served)
        held = []
        for source, count in (("127.0.0.2", 4), ("127.0.0.3", 2)):
            for _ in range(count):
                sock = socket.socket()
                sock.bind((source, 0))
                sock.connect((LOOPBACK, port))
                held.append(sock)
        try:
            time.sleep(0.3)
            with socket.create_connection((LOOPBACK, port), timeout=10) as newcomer:
                newcomer.sendall(b"GET /listing.json HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                assert newcomer.recv(12).startswith(b"HTTP/1.1 200")
            held[0].settimeout(5)
            assert held[0].recv(100) == b""  # the oldest idle connection of 127.0.0.2 gave way
            assert served.room.stats.gave_way >= 1
        finally:
            for sock in held:
                sock.close()


def _serve_file(path: Path, limits: Limits, client: Callable[[int], T]) -> tuple[T, Stats]:
    """Serve `path` as /big with HttpServer alone, run `client(port)` on a thread, and return its result and the
    server's stats."""
    import asyncio

    from mirror.serve.catalog import Item, Stamp
    from mirror.serve.http import HttpServer

    stamp = Stamp.of(path.stat())

    def resolve(name: str, query: object, headers: object) -> Item | None:
        return Item.of_file("big.bin", path, stamp, '"x"') if name == "big" else None

    async def main() -> tuple[T, Stats]:
        server = HttpServer(resolve, limits)
        [(_, port)] = await server.start([(LOOPBACK, 0)])
        try:
            return await asyncio.to_thread(client, port), server.stats
        finally:
            await server.stop()

    return asyncio.run(main())


def _read_then(port: int, fast: int, rate: int, seconds: float) -> tuple[int, bool]:
    """Ask for /big, read its first `fast` bytes at once, then `rate` bytes a second for `seconds`: how much came,
    and whether the server cut the connection (as far as reading shows)."""
    with socket.create_connection((LOOPBACK, port), timeout=30) as sock:
        sock.sendall(b"GET /big HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        total = 0
        while total < fast:
            total += len(sock.recv(1 << 20))
        started = time.monotonic()
        try:
            while (elapsed := time.monotonic() - started) < seconds:
                want = int(elapsed * rate) - (total - fast)
                if want > 0:
                    chunk = sock.recv(want)
                    if not chunk:
                        return total, True
                    total += len(chunk)
                time.sleep(0.05)
        except ConnectionResetError:
            return total, True
        return total, False


def test_a_slow_phone_keeps_its_download_while_the_kernel_holds_its_piece(tmp_path: Path) -> None:
    """A phone that reads 40 KiB/s: the kernel's buffers took the first megabytes at once, so the pieces of the body
    grew to 2 MiB, 50 s at that rate. It takes far more than 32 KiB per window (its TCP acknowledges it), so it is
    never cut. Before, each piece had to be taken whole within the window, and it was cut after one window. A
    reader that takes nothing is still cut after one window."""
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(16 << 20))
    window = 6.0  # on loopback a drained receive buffer is announced 64 KiB at a time: 1.6 s at 40 KiB/s

    def phones(port: int) -> list[tuple[int, bool]]:
        with ThreadPoolExecutor(2) as pool:
            slow = pool.submit(_read_then, port, 0, 40 << 10, 2.5 * window)
            stopped = pool.submit(_read_then, port, 0, 0, 2.5 * window)
            return [slow.result(), stopped.result()]

    [(total, cut), _], stats = _serve_file(path, Limits(window=window), phones)
    assert not cut and total > 500_000, total
    assert stats.too_slow == 1, stats  # the reader that took nothing


def _pipelined(port: int, requests_sent: int, read_rate: int | None) -> tuple[int, bool]:
    """Pipeline GET / requests on one connection with a small receive buffer, never reading (`read_rate` None)
    until the server has closed the connection for idleness, or reading slowly all along; then read what comes.
    Returns the bytes received and whether the connection ended in a reset."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((LOOPBACK, port))
    sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * requests_sent)
    received, reset = 0, False
    with sock:
        sock.settimeout(20)
        started = time.monotonic()
        if read_rate is None:
            time.sleep(10)  # idle (1 s) has passed, and the looks at whether the client reads (every 5 s)
        try:
            while chunk := sock.recv(read_rate or (1 << 20)):
                received += len(chunk)
                if read_rate is not None and time.monotonic() - started < 30:
                    time.sleep(0.01)
        except ConnectionResetError:
            reset = True
    return received, reset


def test_answers_left_unread_are_dropped_not_kept_by_the_kernel(folder: Path) -> None:
    """A client pipelines 300 requests for the page and never reads: when its connection is closed for
    idleness, the kernel's megabytes for it are dropped with a reset (before, a gentle close left them in an
    orphan socket outside every cap). A client that reads slowly past the idle time gets every byte. (A window of
    4 s: a closed connection's client that takes nothing for a window is reset.)"""
    limits = Limits(idle=1.0, window=4.0)
    with RoomThread(RoomRequest(folder, port=0, limits=limits)) as served:
        port = _port(served)
        page = len(requests.get(f"http://127.0.0.1:{port}/", timeout=5).content)
        received, reset = _pipelined(port, 300, None)
        assert reset and received < 300 * page
        received, reset = _pipelined(port, 40, 2048)
        assert not reset and received > 40 * page


def test_stopping_the_server_resets_a_connection_whose_close_waits(folder: Path) -> None:
    """A client that never reads, closed for idleness, is looked at again 5 s later; the server stopping
    meanwhile resets it then and there, leaving nothing open after the server."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    with sock:
        with RoomThread(RoomRequest(folder, port=0, limits=Limits(idle=1.0))) as served:
            sock.connect((LOOPBACK, _port(served)))
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * 300)
            time.sleep(2.5)  # idle for 1 s: closed, its last look due 5 s later
        sock.settimeout(20)
        with pytest.raises(ConnectionResetError):
            while sock.recv(1 << 20):
                pass


def test_a_connection_that_gave_way_is_not_chosen_again(folder: Path) -> None:
    """The room is full; one address holds three idle connections that never read their answers. Two newcomers,
    arriving together, each make one of them give way: two different ones, both reset once they have shown for
    a window (4 s here) that their client does not read. (Choosing the same one twice freed nothing, and the cap was
    overshot.)"""
    def client(source: str, port: int) -> socket.socket:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.bind((source, 0))
        sock.connect((LOOPBACK, port))
        return sock

    limits = Limits(max_connections=4, idle=60.0, window=4.0)
    with RoomThread(RoomRequest(folder, port=0, limits=limits)) as served, contextlib.ExitStack() as stack:
        port = _port(served)
        hoarded = [stack.enter_context(client("127.0.0.2", port)) for _ in range(3)]
        for sock in hoarded:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")  # the page, more than the socket takes unread
        stack.enter_context(client("127.0.0.3", port))
        time.sleep(0.5)
        stack.enter_context(client("127.0.0.4", port))  # two newcomers at once: often in one turn of the loop
        stack.enter_context(client("127.0.0.5", port))
        time.sleep(7)
        assert served.room.stats.gave_way == 2
        outcomes = []
        for sock in hoarded:
            sock.settimeout(3)
            try:
                while sock.recv(1 << 20):
                    pass
                outcomes.append("closed")
            except ConnectionResetError:
                outcomes.append("reset")
            except TimeoutError:
                outcomes.append("open")
    assert outcomes == ["reset", "reset", "open"]


def test_a_request_header_is_held_to_what_a_phone_sends(room: RoomThread) -> None:
    """Twenty lines of 200 bytes are served; forty lines, or one of 5,000 bytes, get 400: a connection that never
    ends its header holds at most 32 lines of 4 KiB (nginx holds 32 KiB)."""
    port = _port(room)

    def ask(lines: list[bytes]) -> int:
        head = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        return raw_request(port, head + b"".join(lines) + b"\r\n")[0]

    assert ask([f"X-{i}: {'a' * 200}\r\n".encode() for i in range(20)]) == 200
    assert ask([f"X-{i}: {'a' * 200}\r\n".encode() for i in range(40)]) == 400
    assert ask([b"X-Big: " + b"a" * 5000 + b"\r\n"]) == 400


@pytest.mark.parametrize(("host", "status"), [
    ("127.0.0.1:8470", 200), ("localhost", 200), ("[::1]:8470", 200), ("192.168.1.20", 200),
    (f"{socket.gethostname()}.local:8470", 421), ("evil.local", 421), ("attacker.example", 421),
    ("attacker.example:8470", 421),
    ("127.0.0.1.nip.io", 421), ("localhost:80:80", 421)])
def test_a_name_that_is_not_the_rooms_gets_421(room: RoomThread, host: str, status: int) -> None:
    """DNS rebinding: a web page whose name now points at 127.0.0.1 could read the page and listing (titles, the
    authors' fingerprints: what this person holds) through the operator's own browser. Its requests carry its
    name; the room answers only to addresses and localhost. Not to this machine's own name either (HOSTNAME.local):
    a 200 there confirmed a guess of it, and a machine's name often names its owner (helper-131)."""
    request = f"GET /listing.json HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
    assert raw_request(_port(room), request)[0] == status


def test_a_bundle_replaced_by_a_copy_is_busy_for_a_moment_never_missing(room: RoomThread, folder: Path) -> None:
    """A copy put in place of a bundle (cp, then mv): the room asks readers back in a few seconds (503 with
    Retry-After, which fetch honours) while it looks at the folder again; it never says the bundle is not there."""
    path = f"/bundles/{_sha(folder)}.7z"
    assert raw_request(_port(room), f"HEAD {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                       .encode())[0] == 200
    copy = folder / "almaty.copy"
    shutil.copy(folder / "almaty.7z", copy)
    copy.replace(folder / "almaty.7z")
    statuses = []
    deadline = time.monotonic() + 20
    while (not statuses or statuses[-1] != 200) and time.monotonic() < deadline:
        status, headers, _ = raw_request(_port(room), f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: "
                                         "close\r\n\r\n".encode())
        statuses.append(status)
        if status == 503:
            assert headers["retry-after"] == "3"
            time.sleep(0.2)
    assert statuses[-1] == 200 and 404 not in statuses, statuses


def test_a_bundle_rewritten_in_place_with_its_time_put_back_is_not_served(room: RoomThread, folder: Path) -> None:
    """Bytes changed inside a bundle, its modification time put back (`cp -p` onto it, `touch -r`): the room kept
    the old stamp and served the new bytes as the verified bundle, cached for a year (helper-157). The change time
    tells: the room looks again, and never answers 200 with bytes that are not the bundle's."""
    original = (folder / "almaty.7z").read_bytes()
    path = f"/bundles/{hashlib.sha256(original).hexdigest()}.7z"
    ask = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
    assert raw_request(_port(room), ask)[0] == 200
    before = (folder / "almaty.7z").stat()
    with (folder / "almaty.7z").open("r+b") as handle:
        handle.seek(len(original) // 2)
        handle.write(bytes(b ^ 0xFF for b in original[len(original) // 2:len(original) // 2 + 64]))
    os.utime(folder / "almaty.7z", ns=(before.st_atime_ns, before.st_mtime_ns))
    statuses = []
    deadline = time.monotonic() + 20
    while (not statuses or statuses[-1] != 404) and time.monotonic() < deadline:
        status, _, body = raw_request(_port(room), ask)
        statuses.append(status)
        assert status != 200 or body == original, statuses
        time.sleep(0.2)
    assert statuses[-1] == 404, statuses


def test_a_folder_that_goes_away_is_said_once_and_offers_nothing_until_it_is_back(folder: Path) -> None:
    """A stick pulled out: the room warned every two seconds for good and answered every download "busy, try again"
    (503), so fetch waited out its whole budget (helper-157). It says so once, offers nothing (404) until the folder
    is back, then offers it again."""
    lines: list[str] = []
    path = f"/bundles/{_sha(folder)}.7z"
    ask = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()

    def settles_on(status: int) -> list[int]:
        seen: list[int] = []
        deadline = time.monotonic() + 20
        while (not seen or seen[-1] != status) and time.monotonic() < deadline:
            seen.append(raw_request(port, ask)[0])
            time.sleep(0.3)
        return seen

    with RoomThread(RoomRequest(folder, port=0), lines.append) as room:
        port = _port(room)
        assert raw_request(port, ask)[0] == 200
        away = folder.with_name("away")
        folder.rename(away)
        statuses = settles_on(404)
        assert statuses[-1] == 404, statuses
        time.sleep(5)  # two more rounds of the watch
        assert sum("warning" in line for line in lines) == 1, lines
        assert any("serving nothing until it is back" in line for line in lines), lines
        away.rename(folder)
        statuses = settles_on(200)
        assert statuses[-1] == 200, (statuses, lines)


def _nohup() -> None:
    signal.signal(signal.SIGHUP, signal.SIG_IGN)


def test_a_room_started_with_nohup_serves_on_after_a_hang_up(tmp_path: Path) -> None:
    """`nohup mirror serve FOLDER &` on a laptop in a room: closing the terminal (SIGHUP) stopped the room, since
    its handler replaced the ignoring nohup set (helper-125). It serves on; SIGTERM still stops it."""
    import subprocess
    import sys

    from servers import free_port

    (tmp_path / "empty").mkdir()
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "mirror", "serve", str(tmp_path / "empty"), "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_nohup)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, port), timeout=1):
                break
            time.sleep(0.2)
        process.send_signal(signal.SIGHUP)
        time.sleep(1.0)
        assert process.poll() is None and raw_get(port, "/")[0] == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) in (0, 128 + signal.SIGTERM)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_connections_closed_with_their_answers_unread_are_let_go(folder: Path) -> None:
    """32 connections from one address (its cap) pipeline 40 requests, the last with `Connection: close`, and
    read nothing: aiohttp answered, then closed each, and asyncio waited without end for its buffer to drain, so
    the address never got another connection (from 8 addresses, nobody did). Each is now reset once its client
    takes nothing for the room's window (10 s here), and the address is served again."""
    with RoomThread(RoomRequest(folder, port=0, limits=Limits(window=10.0))) as room:
        _held_closed_connections_are_let_go(_port(room))


def _held_closed_connections_are_let_go(port: int) -> None:
    held = []
    try:
        for _ in range(32):
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 1400)  # as over Wi-Fi: loopback's 64 KiB
            sock.connect((LOOPBACK, port))  # segments let the kernel take every answer at once
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * 39
                         + b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            held.append(sock)
        deadline = time.monotonic() + 30
        served = False
        while not served and time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                served = raw_get(port, "/listing.json")[0] == 200
            time.sleep(0.5)
        assert served, "the address got no connection while its closed ones were held"
    finally:
        for sock in held:
            sock.close()


def test_index_files_are_served_only_as_such_and_their_tags_say_nothing(folder: Path) -> None:
    """A folder served with `mirror serve .` held another program's index.json, with its token: the room served
    it. And an index file's ETag was its inode and its modification time to the nanosecond: when this person got
    their copy, and the same laptop from room to room."""
    from mirror.serve import catalog

    (folder / "index.json").write_bytes(b'{"token": "s3cr3t-api-token"}\n')
    (folder / "index").mkdir()
    (folder / "index" / "1.json").write_bytes(b'{"token": "s3cr3t-api-token"}\n')
    (folder / "index" / "2.json").write_bytes(b'{\n "format": "mirror-index/2",\n "version": 2\n}\n')
    found = catalog.scan_folder(folder, log=lambda _line: None)
    assert "index.json" not in found.files and "index/1.json" not in found.files
    assert any(s.startswith("index.json: not served, it is not an index (") for s in found.skipped), found.skipped
    assert "index/1.json: not served, it is not an index" in found.skipped
    tag = found.files["index/2.json"].etag
    info = (folder / "index" / "2.json").stat()
    assert f"{info.st_ino:x}" not in tag and f"{info.st_mtime_ns:x}" not in tag, tag
    assert catalog.scan_folder(folder, log=lambda _line: None).files["index/2.json"].etag == tag  # stable in a run


def test_a_slow_reader_of_an_answer_with_connection_close_gets_all_of_it(tmp_path: Path) -> None:
    """Reading at 4 KB/s (a phone on a crowded network; the room cuts under about 1 KiB/s): with `Connection:
    close` (HTTP/1.0 clients, Python's urllib) aiohttp closes once the kernel holds the rest, and that close must
    not cut a reader the body itself would not have cut (helper-134 saw 88,736 of 150,000 bytes, then a reset)."""
    size = 80_000
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(size))

    def slow(port: int) -> tuple[int, bool]:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 1400)
            sock.connect((LOOPBACK, port))
            sock.sendall(b"GET /big HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            sock.settimeout(60)
            got, start = b"", time.monotonic()
            try:
                while True:
                    want = int((time.monotonic() - start) * 4000) - len(got)
                    if want > 0:
                        chunk = sock.recv(min(want, 1400))
                        if not chunk:
                            return len(got.partition(b"\r\n\r\n")[2]), False
                        got += chunk
                    time.sleep(0.02)
            except ConnectionResetError:
                return len(got.partition(b"\r\n\r\n")[2]), True

    (received, reset), _ = _serve_file(path, Limits(), slow)
    assert (received, reset) == (size, False)


def test_connections_closed_and_still_sending_give_way_when_the_room_is_full(tmp_path: Path) -> None:
    """Closed, with their answers still unsent, connections keep their places while their clients take them at the
    slowest rate a reader may: when the room is full they give way (reset) to newcomers, as idle ones do, so that
    a few addresses reading at a trickle cannot hold every place for long (helper-135)."""
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(20_000))

    def crowd(port: int) -> tuple[bool, float]:
        held = []
        try:
            for _ in range(4):
                sock = socket.socket()
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 1400)
                sock.bind(("127.0.0.2", 0))
                sock.connect((LOOPBACK, port))
                sock.sendall(b"GET /big HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                held.append(sock)
            time.sleep(1)
            started = time.monotonic()
            while time.monotonic() - started < 20:
                with contextlib.suppress(OSError), socket.create_connection(
                        (LOOPBACK, port), timeout=3, source_address=("127.0.0.9", 0)) as newcomer:
                    newcomer.sendall(b"HEAD /big HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                    if newcomer.recv(100).startswith(b"HTTP/1.1 200"):
                        return True, time.monotonic() - started
                time.sleep(0.5)
            return False, time.monotonic() - started
        finally:
            for sock in held:
                sock.close()

    (served, after), stats = _serve_file(path, Limits(max_connections=4, idle=60.0), crowd)
    assert served and after < 5, (after, stats)
    assert stats.gave_way >= 1, stats


def test_7z_archives_that_are_no_bundles_or_forged_do_not_take_a_trusted_bundles_place(
        folder: Path, tmp_path: Path, keyring: Keyring, monkeypatch: pytest.MonkeyPatch) -> None:
    """More 7z archives than a room verifies: sixty small archives that are no bundles and three bundles by a
    stranger, with the author's among them. The room reads each one's header and signed files (a bounded peek),
    and verifies the author's (its keyring trusts it) and then a stranger's (its signature checks) before any
    archive that is no bundle; with one order for all, the author's was verified 2 times in 64."""
    from mirror.serve import catalog

    keyring.create("mallory", None)
    for number in range(3):
        make_bundle(tmp_path / f"m{number}", keyring.secret("mallory", None), folder / f"m{number}.7z",
                    f"Stranger {number}")
    (tmp_path / "note.txt").write_text("not a bundle")
    junk = tmp_path / "junk.7z"
    subprocess.run(["7zz", "a", "-bd", "-y", str(junk), str(tmp_path / "note.txt")], check=True, capture_output=True)
    for number in range(60):
        shutil.copyfile(junk, folder / f"j{number:02d}.7z")
    room_keys = Keyring(tmp_path / "room-keys")
    room_keys.import_public("alice", keyring.get("alice").public, ("author",), "in-person")
    monkeypatch.setattr(catalog, "MAX_CANDIDATES", 2)
    monkeypatch.setattr(catalog, "MAX_PEEKED", 100, raising=False)
    verified: list[str] = []
    check = catalog._check
    monkeypatch.setattr(catalog, "_check", lambda path, *rest: verified.append(path.name) or check(path, *rest))
    found = catalog.scan_folder(folder, log=lambda _line: None, keys=room_keys.snapshot())
    assert len(verified) == 2 and "almaty.7z" in verified and verified[1].startswith("m"), verified
    assert {o.meta.title for o in found.offers} >= {"<script>alert(1)</script> Алматы"}
    assert any(line.startswith("62 more 7z archive(s) not verified") for line in found.skipped), found.skipped
    again = catalog.scan_folder(folder, log=lambda _line: None, cache=found.cache, keys=room_keys.snapshot(),
                                peeked=found.peeked)
    assert len(verified) == 2 and again.offers == found.offers  # nothing read again: peeks and checks are kept


def test_files_passed_over_keep_their_access_time(folder: Path, tmp_path: Path) -> None:
    """Reading the start of a million planted files wrote a million access times (11 s against 8.8 s without, page
    cache warm): the room reads with O_NOATIME where the system allows, as the folder is only read."""
    from mirror.serve import catalog

    probe = tmp_path / "probe"
    probe.write_bytes(b"x" * 64)
    os.utime(probe, (1_000_000, probe.stat().st_mtime))
    probe.read_bytes()
    if probe.stat().st_atime == 1_000_000:
        pytest.skip("this file system does not record reads (noatime)")
    planted = folder / "0planted.7z"
    planted.write_bytes(b"not a 7z archive, but long enough to be one " * 2)
    os.utime(planted, (1_000_000, planted.stat().st_mtime))
    found = catalog.scan_folder(folder, log=lambda _line: None)
    assert found.skipped == ("0planted.7z: does not verify: not a 7z archive (or truncated in its first 32 bytes)",)
    assert planted.stat().st_atime == 1_000_000


def test_the_commands_own_signal_handlers_are_back_once_the_room_has_stopped(tmp_path: Path) -> None:
    """asyncio's loop put Python's defaults back when the room closed: a second SIGTERM while the summary was
    written killed the process (-15), where the command's handler says "interrupted"."""
    from mirror.cli import _interrupted
    from mirror.serve.room import serve_room
    from servers import free_port

    (tmp_path / "empty").mkdir()
    numbers = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    before = {number: signal.getsignal(number) for number in numbers}
    try:
        for number in numbers:
            signal.signal(number, _interrupted)
        serve_room(RoomRequest(tmp_path / "empty", port=free_port()), lambda _line: None,
                   lambda _room: os.kill(os.getpid(), signal.SIGTERM))
        assert [signal.getsignal(number) for number in numbers] == [_interrupted] * 3
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)
