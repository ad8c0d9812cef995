"""The reader's page (bundle/page.py): escaped, static, self-contained, deterministic, bounded."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from urllib.request import url2pathname

import pytest

from mirror.bundle import page
from mirror.bundle.page import PageAccount, PageInfo, render_page, strip_front_matter
from mirror.bundle.pagecheck import page_problem

INFO = PageInfo("Almaty, January 2022", "2022-01-10T12:00:00Z", ("en", "kk", "ru"), "01F02ADB18FB02EC",
                "12345 67890 12345 67890 12345 67890 12345 67890")
HOSTILE = ("Hi <script>alert(1)</script> <img src=x onerror=alert(2)> [click](javascript:alert(3)) "
           "[site](https://evil.example/track) ![pic](https://evil.example/x.png) <b onclick=alert(4)>b</b>\n\n"
           "<iframe src='https://evil.example'></iframe>\n")


class Elements(HTMLParser):
    """Every element and attribute of a page, as a browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _parse(data: bytes) -> Elements:
    parser = Elements()
    parser.feed(data.decode("utf-8"))
    return parser


def test_hostile_markdown_stays_text() -> None:
    """<script>, on* attributes, javascript: links, remote images and iframes never become elements."""
    out = render_page(INFO, [PageAccount("accounts/evil.md", "en", {"title": "<script>t</script>"}, HOSTILE)], [])
    elements = _parse(out)
    names = {tag for tag, _ in elements.tags}
    assert not names & {"script", "iframe", "img", "object", "embed", "link", "base", "form", "meta-refresh"}
    assert all(attrs.get("href", "").startswith("#") for tag, attrs in elements.tags if tag == "a")
    assert not any(k.startswith("on") for _, attrs in elements.tags for k in attrs)
    text = out.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "&lt;script&gt;t&lt;/script&gt;" in text
    assert "[https://evil.example/track]" in text and "[pic: https://evil.example/x.png]" in text


def test_nothing_outside_the_page_is_referenced() -> None:
    """The only src/href targets are the bundle's own files and in-page anchors: no scheme, no host."""
    accounts = [PageAccount(f"accounts/{n}.md", "ru", {"date": "2022-01-05"}, HOSTILE) for n in range(3)]
    elements = _parse(render_page(INFO, accounts, ["photos/001.jpg"]))
    targets = [v for _, attrs in elements.tags for k, v in attrs.items() if k in ("src", "href", "action") and v]
    assert targets and all(not re.match(r"[a-z][a-z0-9+.-]*:|//", t, re.I) for t in targets), targets
    assert {"#ru", "#kk", "#en", "photos/001.jpg"} <= set(targets)


def test_accounts_carry_their_language_and_the_interface_speaks_three() -> None:
    """Each account has its own lang; every interface word is there in English, Russian and Kazakh."""
    accounts = [PageAccount("accounts/a.kk.md", "kk", {"title": "Алматы"}, "Мәтін"),
                PageAccount("accounts/b.ru.md", "ru", {}, "Текст")]
    text = render_page(INFO, accounts, []).decode()
    assert '<article id="a1" lang="kk">' in text and '<article id="a2" lang="ru">' in text
    for key in ("signed", "fingerprint", "created", "languages", "accounts", "check", "check_text", "file"):
        assert all(f'lang="{lang}">{page.UI[key][lang]}' in text for lang in page.UI_LANGUAGES), key


def test_same_inputs_same_bytes() -> None:
    """The page is a function of its inputs (the golden bundle depends on it)."""
    accounts = [PageAccount("accounts/a.md", "en", {"date": "2022-01-05", "place": "Almaty"}, "# Title\n\nText")]
    assert render_page(INFO, accounts, ["photos/a.jpg"]) == render_page(INFO, accounts, ["photos/a.jpg"])


def test_control_and_bidi_characters_become_replacement_characters() -> None:
    """A right-to-left override cannot reorder the fingerprint or a date on the page."""
    info = PageInfo("T\u202eitle\x1b[2J", "2022", ("en",), "01F0", "12345\u202e67890")
    text = render_page(info, [PageAccount("accounts/a.md", "en", {"date": "\u20662022\u2069"}, "x\x07y")], []).decode()
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", text)
    assert "12345\ufffd67890" in text


def test_large_bundles_list_the_rest_of_the_accounts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the cap, accounts are listed with a link to their file instead of rendered: the page stays bounded."""
    monkeypatch.setattr(page, "MAX_RENDERED", 3)
    accounts = [PageAccount(f"accounts/{n:03}.md", "en", {"title": f"Account {n}"}, "text " * 50) for n in range(10)]
    text = render_page(INFO, accounts, []).decode()
    assert text.count("<article ") == 3 and text.count('<li lang="en"><a href="accounts/') == 7
    assert "open their files to read them" in text


def test_past_the_listing_cap_the_page_only_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the rendered and listed accounts and the shown photos, the page says how many more there are, in the
    three languages; a caller may pass the count instead of the files (create does, for a million accounts)."""
    monkeypatch.setattr(page, "MAX_RENDERED", 2)
    monkeypatch.setattr(page, "MAX_LISTED", 3)
    monkeypatch.setattr(page, "MAX_FIGURES", 4)
    accounts = [PageAccount(f"accounts/{n:03}.md", "en", {"title": f"Account {n}"}, "text") for n in range(10)]
    photos = [f"photos/{n:03}.jpg" for n in range(6)]
    text = render_page(INFO, accounts, photos).decode()
    assert text.count("<article ") == 2 and text.count('<li lang="en"><a href="accounts/') == 3
    assert "accounts/004.md" in text and "accounts/005.md" not in text
    assert "5 more accounts are in the bundle" in text and "2 more photos are in the bundle" in text
    assert "Свидетельств, не перечисленных здесь: 5" in text and "Тағы 2 фотосурет" in text
    assert text.count("<figure>") == 4 and "photos/004.jpg" not in text
    counted = render_page(INFO, accounts[:5], photos[:4], more_accounts=5, more_photos=2)
    assert counted == text.encode()
    big = render_page(INFO, accounts[:5], [], more_accounts=1_234_567).decode()
    assert "1\u202f234\u202f567 more accounts" in big and big.count("1\u202f234\u202f567") == 3  # ru, kk: no comma


def test_front_matter_is_shown_as_fields_not_as_text() -> None:
    """The --- block goes; the Markdown after it stays."""
    assert strip_front_matter("---\ntitle: T\ndate: 2022\n---\n\nBody\n") == "\nBody\n"
    assert strip_front_matter("\ufeffNo front matter\r\n") == "No front matter\n"


_TRICKY = ["accounts/a%20b.md", "accounts/a b.md", "accounts/a#1.md", "accounts/ночь  тишина.md",
           "accounts/50%25.md", "accounts/x&amp;.md"]


def test_every_link_and_image_opens_the_file_it_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A browser resolves each link and image against the page's own address: `%`, `#`, spaces and letters of any
    script in a name still lead to that file, never to another (a%20b.md is not "a b.md") or to a fragment."""
    monkeypatch.setattr(page, "MAX_RENDERED", 0)
    accounts = [PageAccount(name, "en", {}, "text") for name in _TRICKY]
    photos = ["photos/50%.jpg", "photos/x#y.jpg", "photos/фото 1.jpg"]
    elements = _parse(render_page(INFO, accounts, photos))
    base = (tmp_path / "index.html").as_uri()
    opened = []
    for tag, attrs in elements.tags:
        target = attrs.get("href") if tag == "a" else attrs.get("src") if tag == "img" else None
        if target and not target.startswith("#"):
            url = urlsplit(urljoin(base, target))
            assert not url.fragment and not url.query, target
            opened.append(Path(url2pathname(url.path)).relative_to(tmp_path).as_posix())
    assert opened == [*_TRICKY, *photos]


def test_names_keep_their_spaces_on_the_page(monkeypatch: pytest.MonkeyPatch) -> None:
    """"a  b.md" and "a b.md" are two files: listed names and captions keep runs of spaces (white-space), so the
    reader sees which is which."""
    monkeypatch.setattr(page, "MAX_RENDERED", 0)
    text = render_page(INFO, [PageAccount(n, "en", {}, "t") for n in _TRICKY], ["photos/a  b.jpg"]).decode()
    style = text[text.index("<style>") : text.index("</style>")]
    rules = {selector: body for selector, body in re.findall(r"([^{}]+)\{([^}]*)\}", style)}
    spaced = [s.strip() for selector, body in rules.items() if "white-space:pre-wrap" in body
              for s in selector.split(",")]
    assert "li>a" in spaced and "figcaption" in spaced
    assert "<a href=\"accounts/%D0%BD%D0%BE%D1%87%D1%8C%20%20%D1%82%D0%B8%D1%88%D0%B8%D0%BD%D0%B0.md\">" \
           "accounts/ночь  тишина.md</a>" in text
    assert "<figcaption>photos/a  b.jpg</figcaption>" in text


CUT = "The account continues in its file."


@pytest.mark.parametrize("text", [
    pytest.param("[a]: <https://x.example/" + "a" * 40_000 + ">\n\n" + "[a] " * 1_500, id="a long target used often"),
    pytest.param((">" * 60 + " deep\n\n") * 3_000, id="sixty blockquotes a line"),
    pytest.param("*a* " * 80_000, id="emphasis"),
])
def test_what_markdown_makes_of_an_account_is_bounded_too(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The budget counts the rendered page, not the Markdown: an account of a few hundred kilobytes whose
    Markdown expands a hundredfold is cut at the budget (its open tags closed), and says it goes on."""
    monkeypatch.setattr(page, "MAX_PAGE_TEXT", 256 << 10)
    out = render_page(INFO, [PageAccount("accounts/a.md", "en", {}, text)], [])
    assert 256 << 10 <= len(out) < (256 << 10) + 100_000, len(out)
    assert CUT in out.decode() and out.decode().endswith("</html>\n")
    _parse(out)


def test_deeper_than_markdown_goes_is_said_to_continue() -> None:
    """markdown-it skips everything past its nesting limit without a word: the page says the account goes on
    in its file. Ten levels of lists, as people write them, are shown whole."""
    ten = "".join("  " * level + "- level\n" for level in range(10)) + "\nAfter the list.\n\n## 6 January\n"
    out = render_page(INFO, [PageAccount("accounts/a.md", "en", {}, ten)], []).decode()
    assert "After the list." in out and "6 January" in out and CUT not in out
    deep = "".join("  " * level + "- level\n" for level in range(40)) + "\nAfter the list.\n"
    out = render_page(INFO, [PageAccount("accounts/a.md", "en", {}, deep)], []).decode()
    assert "After the list." not in out and CUT in out


def test_a_plain_text_account_keeps_its_lines() -> None:
    """A .txt is not Markdown: its lines stay lines, "2022." is no list, "# tag" no heading, backslashes stay."""
    text = "5 January\n18:30 we went out\n\n2022. A year.\n# tag\n*important*\nAigerim\\_docs_ <b>x</b>\n"
    out = render_page(INFO, [PageAccount("accounts/diary.txt", "en", {}, text)], []).decode()
    assert ('<pre class="plain" style="font:inherit">5 January\n18:30 we went out\n\n2022. A year.\n# tag\n'
            "*important*\nAigerim\\_docs_ &lt;b&gt;x&lt;/b&gt;\n</pre>") in out
    assert "<ol" not in out and "<em>" not in out.split("<article", 1)[1]


def test_a_cut_inside_a_tight_list_closes_only_what_it_opened(monkeypatch: pytest.MonkeyPatch) -> None:
    """A tight list's paragraphs are never written, so a cut inside one closes the item and the list, no </p>;
    sixty-three blockquotes lose nothing and are not said to, sixty-four lose their text and are."""
    monkeypatch.setattr(page, "MAX_PAGE_TEXT", 2000)
    out = render_page(INFO, [PageAccount("accounts/a.md", "en", {}, "- " + "word " * 1000 + "\n- two\n")], [])
    article = out.decode().split("<article", 1)[1]
    assert "</li></ul>" in article and "</p></li>" not in article and CUT in article
    for depth, lost in ((63, False), (64, True)):
        text = ">" * depth + " deep\n\nafter\n"
        shown = render_page(INFO, [PageAccount("accounts/a.md", "en", {}, text)], []).decode()
        assert (CUT in shown) == lost and ("deep" in shown) != lost, depth


def test_markdown_is_rendered_for_the_first_part_of_a_long_account_only() -> None:
    """markdown-it holds a token for every mark of a text before it writes a byte (128 Ki characters of "*a* "
    take about 60 MB): past MAX_MARKDOWN characters, cut at a line's end, an account continues in its file."""
    lines = [f"Line {n} of a long account, *emphasis* and more words to read." for n in range(4000)]
    text = "\n".join(lines) + "\n"
    assert len(text) > page.MAX_MARKDOWN
    out = render_page(INFO, [PageAccount("accounts/a.md", "en", {}, text)], []).decode()
    shown = [n for n in range(4000) if f"Line {n} of" in out]
    assert shown == list(range(len(shown))) and 0 < len(shown) < 4000 and CUT in out
    plain = render_page(INFO, [PageAccount("accounts/a.txt", "en", {}, text)], []).decode()
    assert "Line 3999 of" in plain and CUT not in plain  # plain text costs no tokens: the page's budget applies


def test_an_account_of_brackets_is_shown_as_plain_text_in_bounded_time() -> None:
    """markdown-it reads a paragraph of unclosed "[" in time that grows with their square: 131,000 took ten
    seconds, and `mirror open --untrusted` renders up to 2,000 accounts a stranger wrote. An account with more
    than MAX_BRACKETS, or past the page's MAX_PAGE_BRACKETS, is shown as plain text, and says so."""
    evil = [PageAccount(f"accounts/{n}.md", "en", {}, "[" * 131_000) for n in range(3)]
    autolinked = [PageAccount(f"accounts/c{n}.md", "en", {}, "![<ab:]>" * 16_000) for n in range(3)]
    each = 1500 * 1501 // 2  # under the cap of one account; the page's cap lets this many through
    some = [PageAccount(f"accounts/s{n}.md", "en", {}, "[a] " * 1500) for n in range(30)]
    out = render_page(INFO, [*evil, *autolinked, *some], []).decode()
    assert out.count("Shown as plain text") == 6 + 30 - page.MAX_PAGE_BRACKET_COST // each
    assert "[[[[" in out and "[a] [a]" in out  # the plain ones keep their brackets as written
    assert render_page(INFO, [PageAccount("accounts/ok.md", "en", {}, "[a](b) " * 500)], []).count(b"plain") == 0


def test_long_words_wrap_and_the_key_and_date_read_whole() -> None:
    """At a phone's width a long Kazakh word in the title ran off the screen, the key id broke in the middle, and
    the date showed as an ISO timestamp that broke too."""
    out = render_page(INFO, [], []).decode()
    assert "h1{" in out and "overflow-wrap:anywhere" in out.split("h1{", 1)[1].split("}", 1)[0]
    assert "dl.meta code{white-space:nowrap}" in out
    assert "<dd>2022-01-10 12:00 UTC</dd>" in out and "2022-01-10T12:00:00Z" not in out


def test_escaped_brackets_and_code_do_not_close_in_the_count() -> None:
    """"[\\]" repeated: markdown-it sees no closing bracket (it is escaped), and took 7.6 s for 43,690 of them, where
    the count took each "]" as a closing one. No "]" closes in the count."""
    escaped = PageAccount("accounts/e.md", "en", {}, "[\\]" * 43_690)
    coded = PageAccount("accounts/c.md", "en", {}, "[`]`" * 20_000)
    out = render_page(INFO, [escaped, coded], []).decode()
    assert out.count("Shown as plain text") == 2


def test_past_the_deadline_the_rest_is_plain_text() -> None:
    """A page made on the reader's computer from a stranger's accounts stops rendering Markdown at its deadline."""
    import time

    accounts = [PageAccount(f"accounts/{n}.md", "en", {}, "*a* b") for n in range(3)]
    assert "Shown as plain text" not in render_page(INFO, accounts, []).decode()
    out = render_page(INFO, accounts, [], deadline=time.monotonic() - 1).decode()
    assert out.count("Shown as plain text") == 3 and "<em>" not in out


def test_a_page_made_here_renders_less_markdown_of_each_account() -> None:
    """What markdown-it does at worst grows faster than the text: a page made on the reader's computer from a
    stranger's accounts renders at most MAX_MARKDOWN_HERE characters of each (the rest continues in its file)."""
    import time

    long = PageAccount("accounts/a.md", "en", {}, "word *word* " * 4000 + "\nTHE END\n")
    assert "THE END" in render_page(INFO, [long], []).decode()
    here = render_page(INFO, [long], [], deadline=time.monotonic() + 60).decode()
    assert "THE END" not in here and CUT in here


def test_an_accounts_headings_stay_below_its_title() -> None:
    """"# x" in an account was an <h1>, as large as the page's own title, above the account's <h2> (helper-159): an
    account could mimic the page. Its headings begin at <h3>."""
    text = render_page(INFO, [PageAccount("accounts/a.md", "en", {}, "# Official statement\n\n## Part\n\n###### fine")],
                       []).decode()
    body = text.split("<article", 1)[1]
    assert "<h1>" not in body and "<h3>Official statement</h3>" in body and "<h4>Part</h4>" in body
    assert "<h6>fine</h6>" in body and page_problem(text.encode()) is None


def test_direction_marks_are_left_out_of_the_page() -> None:
    """Right-to-left marks between a date's parts showed 2022-01-05 as 202205-01- (helper-159); shown as U+FFFD
    instead, a WhatsApp export put one at the start of every line (helper-163). They are left out."""
    account = PageAccount("accounts/a.md", "ru", {"date": "2022\u200f-\u200f01\u200f-\u200f05"},
                          "\u200e[05.01.22, 18:30] Айжан: мы на площади\n\u200e[05.01.22, 18:31] Дана: иду\n")
    text = render_page(INFO, [account], []).decode()
    assert "2022-01-05" in text and "\u200e" not in text and "\u200f" not in text and "\ufffd" not in text
    assert page_problem(text.encode()) is None
