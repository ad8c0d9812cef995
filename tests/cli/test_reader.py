"""Readers read: readable names, `mirror open`, and the page of a real bundle in a real browser."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import subprocess
import sys
import webbrowser
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from click.testing import CliRunner

import hostile_shapes
from browser import BROWSER_QUIET, Recorder, chromium_run, requests_from_page
from conftest import invoke
from helpers import META, require_tool, run
from mirror.bundle.create import CreateRequest, create_bundle
from mirror.formats.manifest import PAGE_NAME
from mirror.trust.keyring import Keyring
from mirror.trust.keys import SecretKey

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
HOSTILE = ("---\ntitle: <script>alert('title')</script>\ndate: 2022-01-05\nplace: <img src=x onerror=alert(1)>\n"
           "language: en\n---\n\nA <script>alert(2)</script> and <img src=x onerror=alert(3)> and "
           "[a link](javascript:alert(4)) and <b onclick=alert(5)>bold</b>.\n")


@pytest.fixture
def browser_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A 'web browser' that only writes down what it was given (Python's webbrowser.open, replaced)."""
    log = tmp_path / "browser.log"

    def record(url: str, *args: object, **kwargs: object) -> bool:
        with log.open("a") as out:
            out.write(url + "\n")
        return True

    monkeypatch.setattr(webbrowser, "open", record)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return log


def _views(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "cache" / "mirror" / "open"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_extract_without_dest_uses_the_readable_name(runner: CliRunner, bundle: Path, tmp_path: Path) -> None:
    """`mirror extract BUNDLE` makes ./<title slug>-<id>-v<version>, and never overwrites it."""
    code, out, err = invoke(runner, "extract", bundle)
    assert code == 0, err
    [made] = [p for p in Path.cwd().iterdir() if p.is_dir()]
    assert made.name.startswith("test-bundle-") and made.name.endswith("-v1") and made.name in out
    assert (made / PAGE_NAME).is_file() and (made / META).is_file()
    code, _, err = invoke(runner, "extract", bundle)
    assert code == 2 and "already exists" in err


def test_fetch_saves_under_the_readable_name(runner: CliRunner, bundle: Path, tmp_path: Path,
                                             keyring: Keyring) -> None:
    """A fetched bundle is named by its title and version; the hash stays in the index, not in the name."""
    (tmp_path / "host").mkdir()
    config = tmp_path / "mirror.toml"
    config.write_text(f'[publisher]\nkey = "alice"\n\n[hosts.a]\nurl = "{tmp_path / "host"}"\n')
    assert invoke(runner, "publish", bundle, "--config", config)[0] == 0
    code, out, err = invoke(runner, "fetch", "--mirror", tmp_path / "host", "--dest", tmp_path / "in")
    assert code == 0, err
    [arrived] = (tmp_path / "in").glob("*.7z")
    assert arrived.name.startswith("test-bundle-") and arrived.name.endswith("-v1.7z")
    code, out, _ = invoke(runner, "fetch", "--mirror", tmp_path / "host", "--dest", tmp_path / "in")
    assert code == 0 and "already here" in out  # found again under its readable name


@pytest.mark.parametrize("letter", ["\U00020000", "ж", "😀"])
def test_a_long_title_in_any_script_still_lands(runner: CliRunner, sources: Path, secret: SecretKey, tmp_path: Path,
                                                letter: str) -> None:
    """Sixty letters of four bytes each made a readable name of 252 bytes, and the names fetch adds to it (the
    hash, an unknown signer's key id) passed the file system's 255: fetch stopped with "File name too long"
    for every bundle. Trusted or not, it lands, and extract makes its folder."""
    bundle = tmp_path / "long.7z"
    create_bundle(CreateRequest(sources, bundle, title=letter * 60), secret)
    (tmp_path / "host").mkdir()
    config = tmp_path / "mirror.toml"
    config.write_text(f'[publisher]\nkey = "alice"\n\n[hosts.a]\nurl = "{tmp_path / "host"}"\n')
    assert invoke(runner, "publish", bundle, "--config", config)[0] == 0
    (tmp_path / "alice.pub").write_text(secret.public.to_text())
    assert invoke(runner, "keys", "import", tmp_path / "alice.pub", "--name", "desk", "--role", "publisher",
                  "--keys", tmp_path / "nobody")[0] == 0  # the index is trusted, the author is not
    for keys, code_wanted in ((tmp_path / "keys", 0), (tmp_path / "nobody", 5)):
        dest = tmp_path / f"in-{code_wanted}"
        code, out, err = invoke(runner, "fetch", "--mirror", tmp_path / "host", "--dest", dest, "--keys", keys)
        assert code == code_wanted and "ARRIVED" in out, out + err
        [arrived] = dest.glob("*.7z")
        assert len(arrived.name.encode()) <= 200
    code, out, err = invoke(runner, "extract", bundle, "--untrusted", "--keys", tmp_path / "nobody")
    assert code == 0, err


def test_open_shows_the_signed_page(runner: CliRunner, bundle: Path, tmp_path: Path, browser_log: Path) -> None:
    """open verifies, unpacks into a folder only the user can read, and hands the signed index.html to the browser."""
    code, out, err = invoke(runner, "open", bundle)
    assert code == 0, err
    [holder] = _views(tmp_path)
    assert stat.S_IMODE(holder.stat().st_mode) == 0o700
    [page] = holder.glob(f"*/{PAGE_NAME}")
    assert browser_log.read_text().split() == [page.as_uri()] and str(page) in out
    sums = (page.parent / ".mirror" / "SHA256SUMS").read_text()
    assert f"{hashlib.sha256(page.read_bytes()).hexdigest()}  index.html\n" in sums  # the page as signed


def test_the_browser_open_starts_is_not_given_the_passphrase(bundle: Path, tmp_path: Path) -> None:
    """A signer who keeps $MIRROR_PASSPHRASE exported (for create) and opens a bundle: the browser, and whatever it
    starts, got the passphrase in its environment (helper-161), and a host's password (helper-170). The real
    command, with a $BROWSER that writes down its environment and the address it was given."""
    seen = tmp_path / "seen"
    fake = tmp_path / "fake-browser"
    fake.write_text(f"#!/bin/sh\nenv > {seen}.env\necho \"$1\" > {seen}.url\n")
    fake.chmod(0o755)
    env = {**os.environ, "BROWSER": str(fake), "MIRROR_PASSPHRASE": "tram fog lantern quietly",
           "MIRROR_DAV_PASSWORD": "hunter2-dav", "READER_OWN": "kept"}
    done = subprocess.run([sys.executable, "-m", "mirror", "open", str(bundle)], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert Path(f"{seen}.url").read_text().startswith("file://")
    passed = Path(f"{seen}.env").read_text()
    assert "MIRROR_PASSPHRASE" not in passed and "tram fog" not in passed
    assert "hunter2-dav" not in passed  # a host's password, by the name docs/mirrors.md gives it
    assert "READER_OWN=kept" in passed  # the environment is otherwise the reader's own (its display)


def test_open_shows_the_page_in_the_readers_language(runner: CliRunner, bundle: Path, tmp_path: Path,
                                                     browser_log: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The page holds English, Russian and Kazakh and shows English first: a Russian reader's browser is sent to
    its #ru, which shows Russian from the start."""
    from mirror import i18n

    monkeypatch.setenv("MIRROR_LANG", "ru")
    try:
        code, _, err = invoke(runner, "open", bundle)
    finally:
        i18n.use("en")
    assert code == 0, err
    [page] = _views(tmp_path)[0].glob(f"*/{PAGE_NAME}")
    assert browser_log.read_text().split() == [page.as_uri() + "#ru"]
    monkeypatch.setenv("MIRROR_LANG", "kk")  # without a browser: the address that opens it in Kazakh is printed
    try:
        code, out, err = invoke(runner, "open", "--no-browser", bundle)
    finally:
        i18n.use("en")
    assert code == 0 and "#kk" in out, out + err
    assert browser_log.read_text().count("\n") == 1


def test_opening_a_bundle_again_replaces_its_earlier_copy(runner: CliRunner, bundle: Path, tmp_path: Path,
                                                          sources: Path, keyring: Keyring,
                                                          browser_log: Path) -> None:
    """Opened three times, a bundle leaves one copy, not three (a gigabyte each); a copy of another bundle, a
    folder that does not say what it holds, and a copy made in the last minute (another open may show it) stay."""
    other = tmp_path / "other.7z"
    create_bundle(CreateRequest(sources, other, title="Another"), keyring.secret("alice", None))
    assert invoke(runner, "open", other)[0] == 0
    [kept] = _views(tmp_path)
    unknown = kept.parent / "view-unknown"
    unknown.mkdir()
    older = kept.parent / "view-older"  # a copy made before markers named the signer: its hash alone
    (older / "x").mkdir(parents=True)
    for time in range(3):
        if time == 1:
            made = next(p for p in _views(tmp_path) if p not in (kept, unknown) and (p / ".mirror-opened").exists())
            (older / ".mirror-opened").write_text((made / ".mirror-opened").read_text().split()[0] + "\n")
        for marker in kept.parent.glob("view-*/.mirror-opened"):  # every copy so far made two minutes ago
            os.utime(marker, (marker.stat().st_atime - 120, marker.stat().st_mtime - 120))
        code, out, err = invoke(runner, "open", bundle)
        assert code == 0, err
        removed = {0: "", 1: "2 earlier copy(ies)", 2: "1 earlier copy(ies)"}[time]  # at 1, the older one too
        assert ("earlier copy(ies)" in out) == bool(removed) and removed in out, out
    assert not older.exists()
    assert invoke(runner, "open", bundle)[0] == 0  # within a minute of the last: that copy may be in use, it stays
    views = _views(tmp_path)
    assert len(views) == 4 and kept in views and unknown in views
    pages = {page.as_uri() for view in set(views) - {kept, unknown} for page in view.glob(f"*/{PAGE_NAME}")}
    assert set(browser_log.read_text().split()[-2:]) == pages


def test_open_refuses_a_tampered_bundle_and_opens_nothing(runner: CliRunner, bundle: Path, tmp_path: Path,
                                                          browser_log: Path) -> None:
    """A bundle that must not be trusted: exit 3, no browser, nothing left on disk."""
    tampered = tmp_path / "tampered.7z"
    data = bytearray(bundle.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside the photos' data
    tampered.write_bytes(bytes(data))
    code, _, err = invoke(runner, "open", tampered)
    assert code == 3 and "mirror:" in err
    assert not browser_log.exists() and _views(tmp_path) == []


def test_open_untrusted_only_when_asked_and_then_with_a_red_banner(runner: CliRunner, bundle: Path, tmp_path: Path,
                                                                  browser_log: Path) -> None:
    """An unknown signer: exit 5 and nothing opened; with --untrusted, a private page with the warning beside the
    signed one, which stays as signed."""
    strangers = ("--keys", tmp_path / "nobody")
    code, _, err = invoke(runner, "open", bundle, *strangers)
    assert code == 5 and "--untrusted" in err and not browser_log.exists() and _views(tmp_path) == []
    code, out, err = invoke(runner, "open", bundle, "--untrusted", *strangers)
    assert code == 0, err
    [opened] = browser_log.read_text().split()
    view = Path(opened.removeprefix("file://"))
    text = view.read_text()
    assert view.name.startswith("mirror-view-") and 'role="alert"' in text and "background:#b00020" in text
    assert "nobody in your keyring signed this bundle" in text and "никем из вашего списка ключей" in text
    assert "own page is not shown" in out and "own page is not shown, because nobody you trust" in text
    [folder] = [p for p in view.parent.iterdir() if p.is_dir()]  # the page is beside the bundle's folder
    signed = (folder / PAGE_NAME).read_text()
    assert 'role="alert"' not in signed  # the signed page stays as it was signed, and is not the one opened
    sources = re.findall(r'<img src="([^"]+)"', text)
    assert sources and all((view.parent / unquote(src)).is_file() for src in sources), sources
    assert sources[0].startswith(quote(folder.name) + "/"), sources
    code, out, err = invoke(runner, "verify", folder, *strangers)  # the folder holds the bundle's files alone
    assert code == 5 and "INTACT, UNKNOWN SIGNER" in out, (out, err)  # it said FAILED: mirror-view-....html


def test_an_unknown_signers_own_page_is_never_shown(runner: CliRunner, tmp_path: Path, secret: SecretKey,
                                                    browser_log: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A signed index.html without the banner's place, with a tracking image and a script: --untrusted opens a
    page made here, with the warning, and none of the signer's HTML."""
    evil = (b'<!DOCTYPE html><html><body><h1>VERIFIED by your friends</h1>'
            b'<img src="http://203.0.113.7/track.gif"><script>document.title="x"</script></body></html>')
    monkeypatch.setattr(hostile_shapes, "PAGE", evil)
    files = {"accounts/2022-01-05-a.ru.md": "# День\n\nНа площади тихо.\n".encode()}
    made = hostile_shapes.pack(tmp_path / "evil.7z", hostile_shapes.signed_by(secret, files))
    code, _, err = invoke(runner, "open", made, "--untrusted", "--keys", tmp_path / "nobody")
    assert code == 0, err
    [opened] = browser_log.read_text().split()
    view = Path(opened.removeprefix("file://"))
    text = view.read_text()
    assert 'role="alert"' in text and "На площади тихо." in text
    assert "203.0.113.7" not in text and "<script" not in text and "VERIFIED by" not in text
    assert view.name.startswith("mirror-view-")


EVIL_PAGE = (b'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><h1>Official statement</h1>'
             b'<img src="http://203.0.113.7/track.png?who=reader"><script>document.title="x"</script></body></html>')


@pytest.mark.parametrize("trusted", [True, False])
def test_extract_never_points_at_a_page_that_could_run_code(runner: CliRunner, tmp_path: Path, secret: SecretKey,
                                                             monkeypatch: pytest.MonkeyPatch, trusted: bool) -> None:
    """extract said "to read them, open X/index.html" for any bundle, though the page is whatever the signer
    put there: an unknown key's page (or a trusted key's page not made by mirror) could run a script and load an
    image from a server, and so tell it where the reader is. The files are still written as signed; the reader is
    told not to open that page, and what shows the files safely."""
    monkeypatch.setattr(hostile_shapes, "PAGE", EVIL_PAGE)
    files = {"accounts/2022-01-05-a.ru.md": "# День\n\nНа площади тихо.\n".encode()}
    made = hostile_shapes.pack(tmp_path / "evil.7z", hostile_shapes.signed_by(secret, files))
    keys = ("--keys", tmp_path / "keys") if trusted else ("--untrusted", "--keys", tmp_path / "nobody")
    code, out, err = invoke(runner, "extract", made, tmp_path / "out", *keys)
    assert code == 0, err
    assert (tmp_path / "out" / PAGE_NAME).read_bytes() == EVIL_PAGE  # as signed: `verify FOLDER` still holds
    assert "to read them" not in out and f"do not open {tmp_path / 'out' / PAGE_NAME} in a web browser" in err
    assert "mirror open" in err and ("not a page of the kind mirror makes (a <img> tag loads" in err) == trusted


def test_open_shows_a_trusted_signers_page_only_if_it_is_static(runner: CliRunner, tmp_path: Path,
                                                                 secret: SecretKey, browser_log: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A trusted key signed a page with a script and a tracking image (another tool, or a stolen key): open shows
    a page made here from the verified files instead, and says why."""
    monkeypatch.setattr(hostile_shapes, "PAGE", EVIL_PAGE)
    files = {"accounts/2022-01-05-a.ru.md": "# День\n\nНа площади тихо.\n".encode()}
    made = hostile_shapes.pack(tmp_path / "evil.7z", hostile_shapes.signed_by(secret, files))
    code, out, err = invoke(runner, "open", made)
    assert code == 0, err
    assert "not a page of the kind mirror makes" in out
    [opened] = browser_log.read_text().split()
    text = Path(opened.removeprefix("file://")).read_text()
    assert "203.0.113.7" not in text and "<script" not in text and "Official statement" not in text
    assert "На площади тихо." in text and "not a page of the kind mirror makes" in text


def test_open_makes_a_page_for_a_bundle_from_before_pages(runner: CliRunner, tmp_path: Path,
                                                          browser_log: Path) -> None:
    """A format 1 bundle has no index.html: open makes one from its verified files and says so."""
    golden = Path(__file__).resolve().parents[1] / "data" / "golden-v1.7z"
    code, out, err = invoke(runner, "open", golden, "--untrusted")
    assert code == 0, err
    assert "made on this computer" in out
    [opened] = browser_log.read_text().split()
    text = Path(opened.removeprefix("file://")).read_text()
    assert "made on your computer" in text and "accounts/2022-01-06-golden.ru.md" in text


def test_the_sample_page_in_a_real_browser(tmp_path: Path, secret: SecretKey) -> None:
    """Headless Chromium renders the sample bundle's page in English, Russian and Kazakh, shows hostile Markdown as
    text, and asks for nothing outside the page (network refused, every request recorded)."""
    chromium = require_tool("chromium")
    sources = tmp_path / "sources"
    shutil.copytree(SEEDS, sources)
    (sources / "accounts" / "2022-01-05-hostile.en.md").write_text(HOSTILE)
    out = tmp_path / "sample.7z"
    create_bundle(CreateRequest(sources, out, title="Almaty, January 2022 (sample collection)"), secret)
    folder = tmp_path / "open"
    from mirror.bundle.view import open_view

    view = open_view(out, None, folder, allow_untrusted=True)
    page = view.extracted.dest / PAGE_NAME
    shots = {}
    with Recorder() as outside:
        dom = chromium_run(chromium, tmp_path / "profile", outside.port, "--dump-dom", page.as_uri())
        for lang in ("", "#ru", "#kk"):
            shot = tmp_path / f"page{lang.strip('#') or '-en'}.png"
            chromium_run(chromium, tmp_path / "profile", outside.port, "--window-size=412,900",
                         f"--screenshot={shot}", page.as_uri() + lang)
            shots[lang] = shot.read_bytes()
    assert requests_from_page(outside) == []
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in dom and "&lt;img src=x onerror=alert(3)&gt;" in dom
    assert "[a link](javascript:alert(4))" in dom and "&lt;script&gt;alert('title')&lt;/script&gt;" in dom
    lowered = dom.lower()
    assert "<script" not in lowered and "onerror=" not in lowered.replace("onerror=alert", "") and \
        'href="javascript' not in lowered
    assert all(png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000 for png in shots.values())
    assert len(set(shots.values())) == 3  # each language shows other words
    if os.environ.get("MIRROR_SCREENSHOTS"):  # `MIRROR_SCREENSHOTS=docs pytest -k real_browser` refreshes docs/
        for lang, png in shots.items():
            (Path(os.environ["MIRROR_SCREENSHOTS"]) / f"reader-page{lang.strip('#') and '-' + lang.strip('#')}.png"
             ).write_bytes(png)


def test_the_pages_own_policy_shows_its_photos_and_stops_what_a_check_missed(tmp_path: Path,
                                                                             secret: SecretKey) -> None:
    """The page carries its own Content-Security-Policy (a meta tag): in real Chromium, opened from the disk, its
    photos load with no violation; and a remote picture and a script put into a copy of it (what pagecheck would
    refuse, had it missed them) are refused by the browser itself: nothing reaches the network, nothing runs."""
    from mirror.bundle.pagecheck import page_problem
    from mirror.bundle.view import open_view

    chromium = require_tool("chromium")
    out = tmp_path / "sample.7z"
    create_bundle(CreateRequest(SEEDS, out, title="Almaty"), secret)
    page = open_view(out, None, tmp_path / "open", allow_untrusted=True).extracted.dest / PAGE_NAME
    assert page_problem(page.read_bytes()) is None

    def console(target: Path, profile: str) -> tuple[list[str], list[bytes]]:
        with Recorder() as outside:  # chromium_run's flags, and its console on stderr
            done = run(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                       "--disable-background-networking", "--disable-component-update", "--disable-sync",
                       *BROWSER_QUIET, f"--user-data-dir={tmp_path / profile}",
                       f"--proxy-server=http://127.0.0.1:{outside.port}",
                       "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--enable-logging=stderr",
                       "--v=0", "--virtual-time-budget=3000", "--dump-dom", target.as_uri())
        assert "<img" in done.stdout
        return [line for line in done.stderr.splitlines() if "CONSOLE" in line], requests_from_page(outside)

    messages, asked = console(page, "p1")
    assert messages == [] and asked == [], messages  # every photo loaded, nothing refused, nothing outside
    hostile = page.with_name("hostile.html")
    hostile.write_text(page.read_text(encoding="utf-8").replace(
        "<main>", '<main><img src="http://photos.example/track.png"><script>document.title="ran"</script>', 1),
        encoding="utf-8")
    assert page_problem(hostile.read_bytes()) is not None  # pagecheck refuses it; the browser, below, too
    messages, asked = console(hostile, "p2")
    assert asked == [], asked
    assert any("Content Security Policy" in line and "photos.example" in line for line in messages), messages
    assert any("Content Security Policy" in line and "script" in line for line in messages), messages


def test_fetch_from_a_folder_of_bundles_says_what_to_do_with_them(runner: CliRunner, bundle: Path,
                                                                  tmp_path: Path) -> None:
    """A USB stick with bundles but no signed index, given to fetch --mirror: the hint said to try a proxy. It names
    a bundle to verify, and serve for a room; a folder with nothing in it is said to be the wrong one."""
    stick = tmp_path / "stick"
    stick.mkdir()
    shutil.copy(bundle, stick / "almaty.7z")
    code, _, err = invoke(runner, "fetch", "--mirror", stick, "--dest", tmp_path / "in")
    assert code == 4 and "--proxy" not in err
    assert f"{stick} holds bundles but no signed index: check each with mirror verify {stick / 'almaty.7z'}" in err
    colon = tmp_path / "usb:stick"  # a colon in its name: still a folder, not a URL of a scheme "usb"
    shutil.copytree(stick, colon)
    code, _, err = invoke(runner, "fetch", "--mirror", colon, "--dest", tmp_path / "in")
    assert code == 4 and "--proxy" not in err and "holds bundles but no signed index" in err, err
    upper = tmp_path / "phone"  # ALMATY.7Z, in a mirror copy's bundles/: as a phone or a FAT stick names it
    (upper / "bundles").mkdir(parents=True)
    shutil.copy(bundle, upper / "bundles" / "ALMATY.7Z")
    (upper / "0.7z").symlink_to(bundle)  # a link, first in name order: a room never offers it, nor names the hint
    code, _, err = invoke(runner, "fetch", "--mirror", upper, "--dest", tmp_path / "in")
    assert code == 4 and f"check each with mirror verify {upper / 'bundles' / 'ALMATY.7Z'}" in err, err
    (tmp_path / "link").symlink_to(stick)  # a link to the stick's folder, as a desktop's mount often is
    code, _, err = invoke(runner, "fetch", "--mirror", tmp_path / "link", "--dest", tmp_path / "in")
    assert code == 4 and "holds bundles but no signed index" in err, err
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / ".almaty.7z").write_bytes(b"")  # another program's hidden temporary file: no bundle
    code, _, err = invoke(runner, "fetch", "--mirror", empty.as_uri(), "--dest", tmp_path / "in")
    assert code == 4 and "name the folder that holds the mirror" in err and "--proxy" not in err


def test_open_forget_removes_every_opened_copy(runner: CliRunner, bundle: Path, tmp_path: Path,
                                               browser_log: Path) -> None:
    """open leaves a readable copy of each bundle in the cache until it is opened again; on a phone or laptop that
    can be taken, the reader removes them all at once."""
    assert invoke(runner, "open", bundle)[0] == 0
    assert len(_views(tmp_path)) == 1
    code, out, err = invoke(runner, "open", "--forget")
    assert code == 0 and "removed 1 opened copy(ies)" in out, out + err
    assert _views(tmp_path) == []
    assert invoke(runner, "open", "--forget", bundle)[0] == 2
    assert invoke(runner, "open")[0] == 2


def test_open_forget_never_follows_a_link_to_another_folder(runner: CliRunner, tmp_path: Path) -> None:
    """open refuses a folder of opened copies that is a link (one made beforehand in a shared cache could lead
    anywhere); --forget followed it, and removed the view-* folders of wherever it led."""
    elsewhere = tmp_path / "someone-elses"
    (elsewhere / "view-work").mkdir(parents=True)
    (elsewhere / "view-work" / "notes.md").write_text("not a copy open made\n")
    (tmp_path / "cache" / "mirror").mkdir(parents=True)
    (tmp_path / "cache" / "mirror" / "open").symlink_to(elsewhere)
    code, out, err = invoke(runner, "open", "--forget")
    assert code == 2 and "is not a folder of yours" in err and "removed" not in out, out + err
    assert (elsewhere / "view-work" / "notes.md").exists()


def test_a_strangers_accounts_are_read_for_the_page_only_as_far_as_it_can_show(
        runner: CliRunner, tmp_path: Path, secret: SecretKey, browser_log: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The page made here read every account first, up to four times the page's text each, and held them all: 24
    accounts of 32 MB in a bundle of 118 KB took 868 MB. Each is read when the page reaches it: up to four times
    the page's text in all (here lowered to 2,000 characters: 8,000 bytes), and past that only what a page made here
    renders of one (here 3,000 bytes); accounts past the first budget showed no text at all."""
    import mirror.bundle.view

    monkeypatch.setattr(mirror.bundle.view, "MAX_PAGE_TEXT", 2_000)
    monkeypatch.setattr(mirror.bundle.view, "_EACH_AT_LEAST", 3_000)
    files = {f"accounts/2022-01-0{n}-a.en.md": (f"word{n} " * 700 + f"END{n}").encode() for n in (1, 2, 3)}
    made = hostile_shapes.pack(tmp_path / "long.7z", hostile_shapes.signed_by(secret, files))
    code, _, err = invoke(runner, "open", made, "--untrusted", "--keys", tmp_path / "nobody")
    assert code == 0, err
    [opened] = browser_log.read_text().split()
    text = Path(opened.removeprefix("file://")).read_text()
    assert all(f"word{n} word{n}" in text for n in (1, 2, 3)), text  # each shows its text
    assert "END1" in text and "END2" not in text and "END3" not in text  # read whole, then as far as allowed


def test_open_unpacks_only_into_a_folder_that_is_this_users_alone(runner: CliRunner, bundle: Path, tmp_path: Path,
                                                                  browser_log: Path) -> None:
    """The plaintext of every bundle opened goes there: a folder others can write to could have a copy renamed
    into their hands (it was taken as it was, made or not). A link is refused; a folder of this user's that others
    may read is made private; a folder on a path others can change (no sticky bit) is refused."""
    folder = tmp_path / "cache" / "mirror" / "open"
    folder.parent.mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    folder.symlink_to(elsewhere)
    code, _, err = invoke(runner, "open", bundle)
    assert code == 2 and "where open unpacks bundles, is not a folder of yours" in err, err
    assert list(elsewhere.iterdir()) == []
    folder.unlink()
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)
    assert invoke(runner, "open", bundle)[0] == 0
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    folder.parent.chmod(0o777)
    code, _, err = invoke(runner, "open", bundle)
    assert code == 2 and f"is inside {folder.parent}, which others can change" in err, err
    folder.parent.chmod(0o777 | stat.S_ISVTX)  # as /tmp: nobody else can rename what is this user's
    assert invoke(runner, "open", bundle)[0] == 0
    folder.parent.chmod(0o775)  # umask 002 (Ubuntu, Debian, Fedora): a group of this user's own; refused, always
    assert invoke(runner, "open", bundle)[0] == 0


def test_open_makes_its_folders_private_under_a_group_umask(runner: CliRunner, bundle: Path, tmp_path: Path,
                                                            browser_log: Path) -> None:
    """~/.cache and ~/.cache/mirror, made by open under umask 002, were 0775, and open then refused them."""
    old = os.umask(0o002)
    try:
        assert invoke(runner, "open", bundle)[0] == 0
    finally:
        os.umask(old)
    for folder in (tmp_path / "cache", tmp_path / "cache" / "mirror", tmp_path / "cache" / "mirror" / "open"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_a_fifo_among_earlier_copies_does_not_stop_open(runner: CliRunner, bundle: Path, tmp_path: Path,
                                                        browser_log: Path) -> None:
    """An earlier copy's marker is opened without blocking: a FIFO there stopped every later open for good."""
    assert invoke(runner, "open", bundle)[0] == 0
    planted = tmp_path / "cache" / "mirror" / "open" / "view-planted"
    planted.mkdir()
    os.mkfifo(planted / ".mirror-opened")
    assert invoke(runner, "open", bundle)[0] == 0


def test_the_variables_kept_from_the_browser_are_put_back_after_it_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The browser starts without any MIRROR_ variable, and this process has them again once it has started (a
    program that runs mirror's commands in its own process lost its keyring's setting for every command after)."""
    from mirror.cli.bundles import _browse

    seen: list[dict[str, str]] = []
    monkeypatch.setenv("MIRROR_KEYS", "/somewhere/keys")
    monkeypatch.setenv("MIRROR_PASSPHRASE", "tram fog")
    monkeypatch.setenv("READER_OWN", "kept")
    monkeypatch.setattr(webbrowser, "open", lambda url, *a, **k: seen.append(dict(os.environ)) or True)
    assert _browse("file:///x/index.html")
    assert not any(name.startswith("MIRROR_") for name in seen[0]) and seen[0]["READER_OWN"] == "kept"
    assert (os.environ["MIRROR_KEYS"], os.environ["MIRROR_PASSPHRASE"]) == ("/somewhere/keys", "tram fog")
