"""page_problem: every page mirror renders passes; a page that could run code or load from elsewhere does not."""

from __future__ import annotations

import pytest

from mirror.bundle.page import PageAccount, PageInfo, render_page
from mirror.bundle.pagecheck import page_problem

INFO = PageInfo("<script>alert('t')</script> Алматы «қаңтар»", "2022-01-10T12:00:00Z", ("en", "kk", "ru"),
                "01F02ADB18FB02EC", "12345 67890 12345 67890 12345 67890 12345 67890")
HOSTILE = ("Hi <script>alert(1)</script> <img src=x onerror=alert(2)> [click](javascript:alert(3)) "
           "[site](https://evil.example/track) ![pic](https://evil.example/x.png) <b onclick=alert(4)>b</b>\n\n"
           "<iframe src='https://evil.example'></iframe>\n<!-- a comment -->\n<style>a{b:url(x)}</style>\n\n"
           '```js" onload="x\ncode <b>\n```\n\n3. three\n4. four\n\n> quoted *em* **strong** `c`\n\n---\n'
           "line  \nbreak &copy; &#0; \\<\n\n    indented\n")
START = '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n<title>t</title>\n</head>\n<body>\n'


def _page(body: str, start: str = START) -> bytes:
    return (start + body + "\n</body>\n</html>\n").encode()


def test_every_page_mirror_renders_passes() -> None:
    """Hostile Markdown, titles and names in every language, plain text, a listing past the rendered accounts,
    and photos with names that need escaping: all of it is a page mirror makes."""
    accounts = [PageAccount(f"accounts/{n} #%?&\"<'.md", lang, {"title": "<b>x</b>", "date": "2022-01-05",
                                                                   "place": "\"'><", "source": "javascript:x"},
                            HOSTILE) for n, lang in enumerate(("en", "ru", "kk", "en"))]
    plain = PageAccount("accounts/plain.txt", "ru", {"plain": True}, "<script>x</script>\n\tline\n")
    photos = ["photos/a b#c%d.jpg", "photos/..x.jpg", "photos/x..", "photos/ж.png", "photos/javascript:alert(1).jpg"]
    assert page_problem(render_page(INFO, [*accounts, plain], photos, more_accounts=5, more_photos=2)) is None
    assert page_problem(render_page(INFO, [], [])) is None


def test_many_accounts_are_listed_and_still_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mirror.bundle.page.MAX_RENDERED", 2)
    accounts = [PageAccount(f"accounts/{n}.md", "ru", {"title": f"<{n}>"}, HOSTILE) for n in range(6)]
    page = render_page(INFO, accounts, ["photos/1.jpg"])
    assert b"<ul>" in page and page_problem(page) is None


@pytest.mark.parametrize("body", [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=x.js></SCRIPT>",
    '<img src="http://127.0.0.1:18473/track.png">',
    '<img src="//evil.example/t.png">',
    '<img src="/etc/passwd">',
    '<img src="../../home/reader/.ssh/id_ed25519">',
    '<img src="photos/%2e%2e/%2E%2E/x.png">',
    '<img src="photos/a.jpg" srcset="http://evil.example/t.png 2x">',
    '<img src="photos/a.jpg" onerror="alert(1)">',
    "<img src=x onerror=alert(1)>",
    "<img src='x' onerror='alert(1)'>",
    '<img/src="x"/onerror="alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="https://evil.example/">x</a>',
    '<a href="\\\\evil.example\\share">x</a>',
    '<a href="#x" onclick="alert(1)">x</a>',
    '<p style="background:url(http://evil.example/t.png)">x</p>',
    '<p style="background:u\\rl(x)">x</p>',
    "<style>body{background:url(http://evil.example/t.png)}</style>",
    "<style>@import 'http://evil.example/x.css';</style>",
    "<style>body{background:u\\72l(x)}</style>",
    '<link rel="stylesheet" href="http://evil.example/x.css">',
    '<meta http-equiv="refresh" content="0;url=http://evil.example/">',
    '<base href="http://evil.example/">',
    '<iframe src="http://evil.example/"></iframe>',
    '<svg onload="alert(1)"></svg>',
    '<object data="http://evil.example/x"></object>',
    '<form action="http://evil.example/"><input name="q"></form>',
    "<!-- <script>alert(1)</script> -->",
    "<![CDATA[x]]>",
    "<p>unclosed <",
    '<video src="http://evil.example/v.mp4"></video>',
])
def test_active_or_remote_markup_is_found(body: str) -> None:
    assert page_problem(_page(body)) is not None


ISO_2022 = ('<img src="photos/a.jpg" alt="\x1b$B">\x1b(B" onerror="fetch(\'http://127.0.0.1:8765/leak\')">')


@pytest.mark.parametrize(("start", "body"), [
    (START.replace('<meta charset="utf-8">', '<meta charset="iso-2022-jp">\n<meta charset="utf-8">'), ISO_2022),
    (START.replace('<meta charset="utf-8">', '<meta charset="utf-8">\n<meta charset="iso-2022-jp">'), "<p>x</p>"),
    (START, ISO_2022),  # the escape bytes alone: control characters page.py never writes
    (START, '<p>x</p><meta charset="iso-2022-jp">'),
    (START, "<style>x{}<p>}a{} body{background:url(http://127.0.0.1:8765/css)}</style>"),
    (START, "<style>x{}</stylex>a{background:url(http://x/)}</style>"),
    (START, "<p>a\x00b</p>"),
])
def test_what_a_browser_reads_otherwise_is_found(start: str, body: str) -> None:
    """A second charset before the UTF-8 one made Chromium read ESC $ B ... as one character, so that text became
    an onerror attribute; a style sheet runs to </style, not to the next tag."""
    assert page_problem(_page(body, start)) is not None


def test_words_of_the_accounts_that_look_like_markup_names_pass() -> None:
    text = "The charset was utf-8; the meta tag said so. </style> and <style> stay text.\n\n```charset\nx\n```\n"
    accounts = [PageAccount("accounts/a.md", "charset", {"title": "charset=\"x\""}, text),
                PageAccount("accounts/Charset.md", "en", {}, "x")]
    page = render_page(INFO, accounts, ["photos/charset-demo.jpg"])
    assert page_problem(page) is None  # a name or value that says "charset" names no character set


def test_the_encoding_must_be_utf8_and_declared_where_browsers_look() -> None:
    assert page_problem(_page("<p>x</p>")) is None
    assert page_problem(_page("<p>x</p>", START.replace('<meta charset="utf-8">\n', ""))) is not None
    assert page_problem(_page("<p>x</p>", START.replace("<title>", " " * 1100 + "<title>").replace(
        '<meta charset="utf-8">', "").replace("<head>", "<head>" + " " * 1100 + '<meta charset="utf-8">'))) \
        is not None
    assert page_problem(_page("<p>x</p>").decode().encode("utf-16")) is not None
    assert page_problem(_page("<p>\xff</p>").replace("\xff".encode(), b"\xff")) is not None


def test_a_page_too_large_to_be_one_of_mirrors_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mirror.bundle.pagecheck.MAX_CHECKED", 100)
    assert page_problem(_page("<p>" + "x" * 200 + "</p>")) is not None


@pytest.mark.parametrize("char", ["\u202e", "\u202a", "\u2066", "\u2069", "\x85", "\x9f", "\u200e", "\u200f", "\u061c"])
def test_bidi_controls_and_c1_characters_fail_as_page_py_replaces_them(char: str) -> None:
    """A right-to-left override could show a fingerprint or a date in another order than it is written; page.py
    replaces these, so a page holding one is not of its making (they passed: only ASCII controls were looked for)."""
    assert page_problem(_page(f"<p>12345 {char}67890</p>")) is not None
    assert page_problem(render_page(INFO, [PageAccount("accounts/a.md", "en", {}, f"12345 {char}67890")], [])) is None


def test_spaces_and_separators_pass() -> None:
    """What reorders nothing passes; the direction marks do not (helper-159: right-to-left marks between a date's
    parts showed 2022-01-05 as 202205-01- in Chromium, and a number's groups in another order)."""
    assert page_problem(_page("<p>\u00a0\u2028\u202f</p>")) is None


def test_a_page_of_more_tags_than_can_be_checked_in_time_is_not_shown() -> None:
    """64 MB of <i> in a bundle of 11 KB took 83 s to check; past the time given, the page is not shown."""
    many = _page("<i></i>" * 10_000)
    assert page_problem(many) is None
    assert page_problem(many, seconds=0.0) == "it has too many tags to check in 0 s"


def test_a_busy_machine_does_not_shorten_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """The time given was the clock's: on a machine busy with other work (here, a clock that runs an hour between
    two looks, as for a process that was descheduled or slept) a page of mirror's own was not shown. It is the
    processor time the check itself used."""
    import itertools
    import time

    hours = itertools.count(0, 3600.0)
    monkeypatch.setattr(time, "monotonic", lambda: float(next(hours)))
    many = _page("<i></i>" * 10_000)
    assert page_problem(many, seconds=5.0) is None
