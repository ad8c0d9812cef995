"""A host's folder listing is a hostile host's answer: bounded in bytes and entries, parsed with no DTD, judged only
for the folder asked, and a server that will not list is asked file by file (helper-174)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mirror.errors import Failure, TransferError
from mirror.net.pace import Limits
from mirror.publish.held import sizes_on
from mirror.publish.hosts import directory, listing
from mirror.publish.hosts.directory import DirectoryHost
from mirror.publish.hosts.webdav import WebDavHost

HEAD = b'<?xml version="1.0" encoding="utf-8"?>\n<D:multistatus xmlns:D="DAV:">'
TAIL = b"</D:multistatus>"


def _entry(href: str, length: int | None, collection: bool = False) -> bytes:
    kind = b"<D:collection/>" if collection else b""
    size = b"" if length is None else f"<D:getcontentlength>{length}</D:getcontentlength>".encode()
    return (f"<D:response><D:href>{href}</D:href><D:propstat><D:prop><D:resourcetype>".encode() + kind +
            b"</D:resourcetype>" + size + b"</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>")


@pytest.fixture
def scripted() -> Iterator[tuple[WebDavHost, dict[str, object]]]:
    """A server on 127.0.0.1 whose PROPFIND answer is `script["status"]` and `script["body"]` (bytes, or "endless"),
    and whose HEAD says 5 bytes for every path; it counts the requests by method."""
    script: dict[str, object] = {"status": 207, "body": HEAD + TAIL, "seen": []}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return

        def do_PROPFIND(self) -> None:
            script["seen"].append("PROPFIND")  # type: ignore[attr-defined]
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(int(script["status"]))  # type: ignore[call-overload]
            body = script["body"]
            if body == "endless":
                self.send_header("Connection", "close")
                self.end_headers()
                with contextlib.suppress(OSError):
                    self.wfile.write(HEAD)
                    while True:
                        self.wfile.write(_entry("/bundles/x", 1) * 200)
                return
            assert isinstance(body, bytes)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_HEAD(self) -> None:
            script["seen"].append("HEAD")  # type: ignore[attr-defined]
            self.send_response(200)
            self.send_header("Content-Length", "5")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield WebDavHost("evil", f"http://127.0.0.1:{server.server_address[1]}/", None, Limits(stall=5)), script
    finally:
        server.shutdown()
        server.server_close()


def test_only_the_files_directly_in_the_folder_count(scripted: tuple[WebDavHost, dict[str, object]]) -> None:
    """The folder itself, a folder inside it, a file deeper down and one elsewhere (absolute URL or not) are not
    files of bundles/; escaped names are unescaped."""
    host, script = scripted
    script["body"] = HEAD + b"".join([
        _entry("/bundles/", None, collection=True), _entry("/bundles/a.7z", 10), _entry("/bundles/sub/", None, True),
        _entry("/bundles/sub/b.7z", 20), _entry("/other/c.7z", 30), _entry("http://elsewhere/bundles2/d.7z", 40),
        _entry("http://127.0.0.1/bundles/e%20f.7z", 50)]) + TAIL
    assert host.sizes("bundles") == {"a.7z": 10, "e f.7z": 50}


def test_only_the_files_asked_for_are_kept_of_a_long_listing(scripted: tuple[WebDavHost, dict[str, object]],
                                                              tmp_path: Path) -> None:
    """A host's listing of up to 100,000 long names was kept whole (about 110 MB from S3's 1 KiB keys) though
    publish asks for a few: only the names asked for are kept, and a file not asked for that comes without its
    length leaves the listing usable."""
    host, script = scripted
    script["body"] = HEAD + b"".join([_entry("/bundles/", None, True), _entry("/bundles/a.7z", 10),
                                      _entry("/bundles/b.7z", None), _entry("/bundles/c.7z", 30)]) + TAIL
    assert host.sizes("bundles", {"a.7z", "c.7z", "gone.7z"}) == {"a.7z": 10, "c.7z": 30}
    assert sizes_on(host, ["bundles/a.7z", "bundles/gone.7z"], print) == {"bundles/a.7z": 10, "bundles/gone.7z": None}
    assert script["seen"] == ["PROPFIND", "PROPFIND"]  # no HEAD: the listing was used
    folder = tmp_path / "usb" / "bundles"
    folder.mkdir(parents=True)
    for name in ("a.7z", "b.7z", "c.7z"):
        (folder / name).write_bytes(b"x" * len(name))
    assert DirectoryHost("usb", tmp_path / "usb").sizes("bundles", {"b.7z"}) == {"b.7z": 4}


def test_a_file_listed_without_its_length_makes_the_listing_unusable(
        scripted: tuple[WebDavHost, dict[str, object]]) -> None:
    """Without a getcontentlength the file's size is asked by HEAD: the listing is not taken as saying it is gone."""
    host, script = scripted
    script["body"] = HEAD + _entry("/bundles/", None, True) + _entry("/bundles/a.7z", 10) + \
        _entry("/bundles/b.7z", None) + TAIL
    assert host.sizes("bundles") is None
    assert sizes_on(host, ["bundles/a.7z", "bundles/b.7z"], print) == {"bundles/a.7z": 5, "bundles/b.7z": 5}
    assert script["seen"] == ["PROPFIND", "PROPFIND", "HEAD", "HEAD"]


def test_a_listing_of_paths_a_proxy_moved_is_not_taken_as_an_empty_folder(
        scripted: tuple[WebDavHost, dict[str, object]]) -> None:
    """A proxy in front of the server that serves /mirror/ from its /dav/mirror/: the hrefs name other paths, so
    every file looked missing and every held bundle was sent again and read back whole in every run. Without the
    folder itself among the entries the listing is not used: each file is asked for."""
    host, script = scripted
    script["body"] = HEAD + _entry("/dav/bundles/", None, True) + _entry("/dav/bundles/a.7z", 10) + TAIL
    assert host.sizes("bundles") is None
    assert sizes_on(host, ["bundles/a.7z", "bundles/a.torrent"], print) == {"bundles/a.7z": 5,
                                                                          "bundles/a.torrent": 5}
    assert script["seen"] == ["PROPFIND", "PROPFIND", "HEAD", "HEAD"]


@pytest.mark.parametrize("page", [b"no", b"<html>" + b"x" * 20_000 + b"</html>"])
@pytest.mark.parametrize("status", [403, 405, 501])
def test_a_server_that_will_not_list_is_asked_file_by_file(scripted: tuple[WebDavHost, dict[str, object]],
                                                           status: int, page: bytes) -> None:
    """Also when it says so with a long error page (it failed the host: "larger than 4096 bytes")."""
    host, script = scripted
    script["status"], script["body"] = status, page
    assert sizes_on(host, ["bundles/a.7z", "bundles/a.torrent"], print) == {"bundles/a.7z": 5,
                                                                          "bundles/a.torrent": 5}
    assert script["seen"] == ["PROPFIND", "HEAD", "HEAD"]


def test_an_endless_listing_stops_at_its_cap(scripted: tuple[WebDavHost, dict[str, object]],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    host, script = scripted
    script["body"] = "endless"
    monkeypatch.setattr(listing, "LISTING_BYTES", 1 << 20)
    with pytest.raises(TransferError, match="the answer to PROPFIND bundles/ is larger than 1,048,576 bytes") as exc:
        host.sizes("bundles")
    assert exc.value.failure is Failure.BAD_ANSWER


def test_a_listing_of_too_many_entries_is_refused(scripted: tuple[WebDavHost, dict[str, object]],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    host, script = scripted
    script["body"] = HEAD + b"".join(_entry(f"/bundles/{n}.7z", n) for n in range(101)) + TAIL
    monkeypatch.setattr(listing, "MAX_LISTING", 100)
    with pytest.raises(TransferError, match="the listing of bundles/ has more than 100 entries"):
        host.sizes("bundles")


@pytest.mark.parametrize("padding", ["wide", "deep"])
def test_a_listing_padded_with_elements_is_refused(scripted: tuple[WebDavHost, dict[str, object]],
                                                   monkeypatch: pytest.MonkeyPatch, padding: str) -> None:
    """Elements that are no entry were kept in memory for the whole answer (64 MiB of `<a/>` is 16 million of them,
    gigabytes as a tree); nesting is bounded too."""
    host, script = scripted
    monkeypatch.setattr(listing, "MAX_LISTING", 100)
    filler = b"<D:a/>" * 2000 if padding == "wide" else b"<D:a>" * 40 + b"</D:a>" * 40
    script["body"] = HEAD + _entry("/bundles/", None, True) + filler + TAIL
    with pytest.raises(TransferError, match="has more than 100 entries" if padding == "wide" else
                       "is nested more than 16 deep") as exc:
        host.sizes("bundles")
    assert exc.value.failure is Failure.BAD_ANSWER


@pytest.mark.parametrize("padding", ["attributes", "text", "before"])
def test_a_listing_with_an_entry_too_large_is_refused(scripted: tuple[WebDavHost, dict[str, object]],
                                                      padding: str) -> None:
    """An entry is held until it ends: 64 MiB of attributes, which no element count sees, in a few entries held
    1.1 GB (measured), and text or junk before an entry is held with it. Each entry is refused past ENTRY_BYTES,
    and a listing of many ordinary entries, hundreds of them in one piece the parser is given, still counts."""
    host, script = scripted
    fat = b" ".join(b'x%d="1"' % n for n in range(20_000))
    big = {"attributes": _entry("/bundles/a.7z", 1).replace(b"<D:response>", b"<D:response " + fat + b">"),
           "text": _entry("/bundles/a.7z", 1).replace(b"<D:href>", b"<D:href>" + b" " * 100_000),
           "before": b"<D:x>" + b"y" * 100_000 + b"</D:x>" + _entry("/bundles/a.7z", 1)}[padding]
    assert len(big) > listing.ENTRY_BYTES
    script["body"] = HEAD + _entry("/bundles/", None, True) + big + TAIL
    with pytest.raises(TransferError, match="the answer to PROPFIND bundles/ has an entry larger than 65,536 "
                                            "bytes") as exc:
        host.sizes("bundles")
    assert exc.value.failure is Failure.BAD_ANSWER
    script["body"] = HEAD + _entry("/bundles/", None, True) + b"".join(
        _entry(f"/bundles/{n}.7z", n) for n in range(5_000)) + TAIL
    assert host.sizes("bundles") == {f"{n}.7z": n for n in range(5_000)}


@pytest.mark.parametrize("body", [
    b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    b'<D:multistatus xmlns:D="DAV:"><D:response><D:href>/bundles/&b;</D:href></D:response></D:multistatus>',
    b'<?xml version="1.0"?><!DOCTYPE m SYSTEM "http://127.0.0.1:9/x.dtd"><D:multistatus xmlns:D="DAV:"/>',
    b"<D:multistatus xmlns:D='DAV:'><D:response>", b"not xml at all"])
def test_a_listing_with_a_dtd_or_not_xml_is_the_hosts_bad_answer(scripted: tuple[WebDavHost, dict[str, object]],
                                                                 body: bytes) -> None:
    host, script = scripted
    script["body"] = body
    with pytest.raises(TransferError, match="the answer to PROPFIND bundles/ is not a WebDAV listing") as exc:
        host.sizes("bundles")
    assert exc.value.failure is Failure.BAD_ANSWER


def test_a_folder_of_too_many_files_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "bundles").mkdir()
    for n in range(11):
        (tmp_path / "bundles" / f"{n}.7z").write_bytes(b"x")
    monkeypatch.setattr(directory, "MAX_LISTING", 10)
    with pytest.raises(TransferError, match="the listing of bundles/ has more than 10 entries"):
        DirectoryHost("usb", tmp_path).sizes("bundles")


def test_a_link_in_a_folder_is_no_file_and_a_linked_folder_is_refused(tmp_path: Path) -> None:
    """A link planted in bundles/ is not taken as the file it names; bundles/ itself a link is refused."""
    root = tmp_path / "usb"
    (root / "bundles").mkdir(parents=True)
    (tmp_path / "secret").write_bytes(b"12345")
    (root / "bundles" / "a.7z").symlink_to(tmp_path / "secret")
    assert DirectoryHost("usb", root).sizes("bundles") == {}
    (root / "elsewhere").symlink_to(root / "bundles")
    with pytest.raises(TransferError, match="is a link"):
        DirectoryHost("usb", root).sizes("elsewhere")


@pytest.fixture
def scripted_s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[object, dict[str, object]]]:
    """An S3 endpoint on 127.0.0.1 whose every ListObjectsV2 page says there is more (`script["status"]` 200), or
    refuses listing (403); HEAD says 5 bytes."""
    pytest.importorskip("boto3")
    from mirror.publish.config import HostConfig
    from mirror.publish.hosts import open_host

    script: dict[str, object] = {"status": 200, "seen": []}
    page = (b'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            b"<Name>b</Name><Prefix>p/bundles/</Prefix><KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys>"
            b"<IsTruncated>true</IsTruncated><NextContinuationToken>more</NextContinuationToken>"
            b"<Contents><Key>p/bundles/x.7z</Key><Size>3</Size></Contents></ListBucketResult>")
    denied = b'<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>no</Message></Error>'

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return

        def do_GET(self) -> None:
            script["seen"].append("LIST")  # type: ignore[attr-defined]
            body = page if script["status"] == 200 else denied
            if script["status"] == 200 and "contents" in script:  # one page of these keys, the last
                body = page.replace(b"<IsTruncated>true", b"<IsTruncated>false").split(b"<Contents>")[0] + \
                    script["contents"] + b"</ListBucketResult>"  # type: ignore[operator]
            self.send_response(int(script["status"]))  # type: ignore[call-overload]
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_HEAD(self) -> None:
            script["seen"].append("HEAD")  # type: ignore[attr-defined]
            self.send_response(200)
            self.send_header("Content-Length", "5")
            if "modified" in script:
                self.send_header("Last-Modified", str(script["modified"]))
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("MIRROR_TEST_KEY", "k")
    config = HostConfig(name="evil", kind="s3", url="s3://b/p", endpoint=f"http://127.0.0.1:{server.server_address[1]}",
                        region="us-east-1", access_key_env="MIRROR_TEST_KEY", secret_key_env="MIRROR_TEST_KEY",  # noqa: S106 - a variable name
                        timeout=5.0)
    host = open_host(config)
    try:
        yield host, script
    finally:
        host.close()
        server.shutdown()
        server.server_close()


def test_an_s3_listing_that_says_more_without_end_stops(scripted_s3: tuple[object, dict[str, object]],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from mirror.publish.hosts import s3

    host, script = scripted_s3
    monkeypatch.setattr(s3, "LIST_PAGES", 5)
    with pytest.raises(TransferError, match="the listing of bundles/ has more than"):
        host.sizes("bundles")  # type: ignore[attr-defined]
    assert script["seen"] == ["LIST"] * 5


def test_an_s3_key_not_allowed_to_list_is_asked_object_by_object(
        scripted_s3: tuple[object, dict[str, object]]) -> None:
    host, script = scripted_s3
    script["status"] = 403
    assert sizes_on(host, ["bundles/a.7z", "bundles/a.torrent"], print) == {  # type: ignore[arg-type]
        "bundles/a.7z": 5, "bundles/a.torrent": 5}
    assert script["seen"] == ["LIST", "HEAD", "HEAD"]


@pytest.mark.parametrize("contents", [b"<Contents><Key>p/bundles/a.7z</Key></Contents>",
                                      b"<Contents><Key>p/bundles/a.7z</Key><Size>-1</Size></Contents>"])
def test_an_s3_key_listed_without_its_size_is_asked_for(scripted_s3: tuple[object, dict[str, object]],
                                                        contents: bytes) -> None:
    """A key without a Size was taken as -1 bytes: a side file there and not empty. As for WebDAV, the listing is
    not used then: each object is asked for by HEAD."""
    host, script = scripted_s3
    script["contents"] = contents + b"<Contents><Key>p/bundles/b.7z</Key><Size>7</Size></Contents>"
    assert host.sizes("bundles") is None  # type: ignore[attr-defined]
    assert sizes_on(host, ["bundles/a.7z", "bundles/b.7z"], print) == {  # type: ignore[arg-type]
        "bundles/a.7z": 5, "bundles/b.7z": 5}


@pytest.mark.parametrize("contents", [b"<Contents><Key>p/bundles/a.7z</Key><Size>abc</Size></Contents>",
                                      b"<Contents><Key>p/bundles/a.7z</Key><Size>" + b"9" * 5000 +
                                      b"</Size></Contents>",
                                      b"<Contents><Key>p/bundles/a.7z</Key><Size>3</Size>"
                                      b"<LastModified>yesterday</LastModified></Contents>"])
def test_an_s3_answer_botocore_cannot_read_is_the_hosts_bad_answer(scripted_s3: tuple[object, dict[str, object]],
                                                                   contents: bytes) -> None:
    """botocore raises ValueError for a Size that is not a number (or of 5,000 digits) and a date that is not one:
    it passed every handler and ended the whole publish or status as an internal error (exit 1), every host with
    it. Now it is this host's failure, in one line."""
    host, script = scripted_s3
    script["contents"] = contents
    with pytest.raises(TransferError, match="LIST bundles/: the server's answer is malformed") as exc:
        host.sizes("bundles")  # type: ignore[attr-defined]
    assert exc.value.failure is Failure.BAD_ANSWER
    script["modified"] = "garbage"
    with pytest.raises(TransferError, match=r"HEAD bundles/a\.7z: the server's answer is malformed"):
        host.stat("bundles/a.7z")  # type: ignore[attr-defined]


def test_an_s3_date_out_of_any_range_is_the_hosts_bad_answer(scripted_s3: tuple[object, dict[str, object]]) -> None:
    """A date as a number no clock holds (1e400, 20 nines) makes botocore raise RuntimeError ("Unable to
    calculate correct timezone offset"), not the ValueError c39c512 turned into the host's failure: it ended the
    whole publish or status as an internal error again (helper-180)."""
    host, script = scripted_s3
    script["contents"] = b"<Contents><Key>p/bundles/a.7z</Key><Size>3</Size><LastModified>1e400</LastModified>" \
                         b"</Contents>"
    with pytest.raises(TransferError, match="LIST bundles/: the server's answer is malformed") as exc:
        host.sizes("bundles")  # type: ignore[attr-defined]
    assert exc.value.failure is Failure.BAD_ANSWER
    script["modified"] = "9" * 20
    with pytest.raises(TransferError, match=r"HEAD bundles/a\.7z: the server's answer is malformed"):
        host.stat("bundles/a.7z")  # type: ignore[attr-defined]
