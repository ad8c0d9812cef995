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
