"""The reader's page: one static index.html in every bundle, signed like every other member.

Example::

    html = render_page(PageInfo(title="Almaty, January 2022", created="2022-01-10T12:00:00Z",
                                languages=("en", "ru"), key_id="01F0...", fingerprint="12345 ..."),
                       accounts=[PageAccount("accounts/a.en.md", "en", {"date": "2022-01-05"}, "Text...")],
                       photos=["photos/001.jpg"])
    # bytes: the same inputs always give the same bytes

What it promises (docs/format.md, "The reader's page"):
- No JavaScript, no external reference, no remote font: one file plus the photos beside it.
- Every value is escaped; Markdown is rendered with raw HTML disabled, and links and images are shown
  as text with their target, so a hostile account can only ever be text.
- The interface words in English, Russian and Kazakh; the reader picks one with plain links
  (anchors and CSS :target), each account carries its own `lang`.
- Bounded: past MAX_RENDERED accounts or MAX_PAGE_TEXT characters of rendered text, the rest are
  listed by title, date and place with a link to their file, and the page says so; an account longer
  than what is left of the budget, or than MAX_MARKDOWN characters of Markdown, is cut, with a line saying it
  continues in its file. Past MAX_LISTED
  listed accounts and MAX_FIGURES photos, the page only says how many more are in the bundle's folders
  (a page of a million links helps nobody, and would not fit in a reader's memory).
"""

from __future__ import annotations

import html
import itertools
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, cast
from urllib.parse import quote

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token

from mirror.record import field, record

PAGE_NAME = "index.html"
UI_LANGUAGES = ("en", "ru", "kk")
MAX_RENDERED = 2000
MAX_PAGE_TEXT = 8 << 20
MAX_LISTED = 20_000  # accounts listed by title after the rendered ones; the rest are counted
MAX_FIGURES = 10_000  # photos shown; the rest are counted
# Characters of one account rendered from Markdown; the rest continues in its file. markdown-it holds a token
# for every mark before it writes a byte: 128 Ki characters of "*a* " take about 60 MB and a second, where an
# account as people write one (a few thousand words) takes a few MB.
MAX_MARKDOWN = 128 << 10
# markdown-it reads "[" that nothing closes yet in time that grows with their square: 16,000 in a row take about
# two seconds, 131,000 about ten, and what closes one for it is not easy to tell from outside (not an escaped "]",
# not one in a code span or an autolink). So every "[" is counted as open: an account of n costs n(n+1)/2 (about
# 10 ns each), and one over MAX_BRACKET_COST (2,000 brackets), or past the page's MAX_PAGE_BRACKET_COST, is shown
# as plain text. Accounts as people write them hold a few dozen.
MAX_BRACKET_COST = 2_000_000
MAX_PAGE_BRACKET_COST = 20_000_000
# A page made on the reader's computer from a stranger's accounts (`mirror open`) also renders at most this much
# Markdown of each, and stops at its deadline: what markdown-it does at worst grows faster than the text.
MAX_MARKDOWN_HERE = 16 << 10
MAX_NESTING = 64  # block levels markdown-it parses (a list takes two); what is deeper is skipped, and said so
_CONTAINERS = frozenset({"blockquote_open", "bullet_list_open", "ordered_list_open", "list_item_open"})
# The page's own policy, beside pagecheck's refusal of anything that loads from elsewhere or runs: if a check there
# ever missed something, the browser still loads nothing but the page's images (from the bundle's folder: 'self'
# in the room, file: where it is opened from the disk, as Firefox gives each file an origin of its own) and runs
# nothing. The room's own header says the same.
PAGE_CSP = "default-src 'none'; img-src 'self' file:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
BANNER_SLOT = "<!--mirror:banner-->"  # `mirror open --untrusted` puts its warning here in a private copy

# The interface words; accounts themselves are never translated.
UI: dict[str, dict[str, str]] = {
    "language": {"en": "English", "ru": "Русский", "kk": "Қазақша"},
    "signed": {"en": "Signed by key", "ru": "Подписано ключом", "kk": "Қол қойған кілт"},
    "fingerprint": {"en": "Key fingerprint", "ru": "Отпечаток ключа", "kk": "Кілттің саусақ ізі"},
    "created": {"en": "Made", "ru": "Создано", "kk": "Жасалған уақыты"},
    "languages": {"en": "Languages", "ru": "Языки", "kk": "Тілдер"},
    "accounts": {"en": "Accounts", "ru": "Свидетельства", "kk": "Куәгерлердің жазбалары"},
    "photos": {"en": "Photos", "ru": "Фотографии", "kk": "Фотосуреттер"},
    "date": {"en": "Date", "ru": "Дата", "kk": "Күні"},
    "place": {"en": "Place", "ru": "Место", "kk": "Орны"},
    "source": {"en": "Source", "ru": "Источник", "kk": "Дереккөз"},
    "file": {"en": "File", "ru": "Файл", "kk": "Файл"},
    "cut": {"en": "The account continues in its file.", "ru": "Продолжение — в файле свидетельства.",
            "kk": "Жазбаның жалғасы — оның файлында."},
    "plain": {"en": "Shown as plain text: its Markdown would take too long to render here.",
              "ru": "Показано как простой текст: его разметку Markdown здесь слишком долго обрабатывать.",
              "kk": "Қарапайым мәтін ретінде көрсетілді: оның Markdown белгілеуін мұнда өңдеу тым ұзаққа созылады."},
    "more": {"en": "More accounts (open their files to read them):",
             "ru": "Другие свидетельства (откройте их файлы, чтобы прочитать):",
             "kk": "Басқа жазбалар (оқу үшін файлдарын ашыңыз):"},
    "unlisted": {"en": "{n} more accounts are in the bundle's accounts folder, not listed here.",
                 "ru": "Свидетельств, не перечисленных здесь: {n} (они в папке accounts набора).",
                 "kk": "Тағы {n} жазба жиынтықтың accounts қалтасында, мұнда тізілмеген."},
    "unshown": {"en": "{n} more photos are in the bundle's photos folder, not shown here.",
                "ru": "Фотографий, не показанных здесь: {n} (они в папке photos набора).",
                "kk": "Тағы {n} фотосурет жиынтықтың photos қалтасында, мұнда көрсетілмеген."},
    "check": {"en": "How to check this bundle", "ru": "Как проверить этот набор",
              "kk": "Бұл жиынтықты қалай тексеруге болады"},
    "check_text": {
        "en": "This page came inside a bundle, and proves nothing by itself: anyone can copy it, the fingerprint "
              "above too. To check the bundle, run mirror verify on its .7z file: it shows the fingerprint of the "
              "key that really signed it. Compare that fingerprint, digit by digit, with the one the author reads "
              "to you by phone or in person, never with one shown on this page.",
        "ru": "Эта страница пришла внутри набора и сама по себе ничего не доказывает: её может скопировать кто "  # noqa: RUF001
              "угодно, вместе с отпечатком выше. Чтобы проверить набор, запустите mirror verify для его файла .7z: "
              "команда покажет отпечаток ключа, которым он действительно подписан. Сверьте этот отпечаток цифра "
              "за цифрой с тем, который автор продиктует вам по телефону или при встрече, и никогда не сверяйте "
              "с отпечатком на этой странице.",
        "kk": "Бұл бет жиынтықтың ішінде келді және өздігінен ештеңені дәлелдемейді: оны жоғарыдағы саусақ "
              "ізімен қоса кез келген адам көшіре алады. Жиынтықты тексеру үшін оның .7z файлына mirror verify "
              "командасын іске қосыңыз: ол жиынтыққа шын мәнінде қол қойған кілттің саусақ ізін көрсетеді. Сол "
              "саусақ ізін автор сізге телефон арқылы не кездескенде айтып берген саусақ ізімен цифрма-цифр "
              "салыстырыңыз, бұл беттегі саусақ ізімен ешқашан салыстырмаңыз.",
    },
    "check_text_here": {
        "en": "This page was made on your computer from the bundle's verified files. To check the bundle itself, "
              "run mirror verify on its .7z file and compare the fingerprint it shows, digit by digit, with the "
              "one the author reads to you by phone or in person.",
        "ru": "Эта страница сделана на вашем компьютере из проверенных файлов набора. Чтобы проверить сам набор, "
              "запустите mirror verify для его файла .7z и сверьте показанный отпечаток цифра за цифрой с тем, "
              "который автор продиктует вам по телефону или при встрече.",
        "kk": "Бұл бет жиынтықтың тексерілген файлдарынан сіздің компьютеріңізде жасалды. Жиынтықтың өзін тексеру "
              "үшін оның .7z файлына mirror verify командасын іске қосып, көрсетілген саусақ ізін автор сізге "
              "телефон арқылы не кездескенде айтып берген саусақ ізімен цифрма-цифр салыстырыңыз.",
    },
}

_STYLE = """
body{margin:0;font:17px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:#1b1b1b;
background:#fafaf7}
main{max-width:46rem;margin:0 auto;padding:1rem}
header{border-bottom:2px solid #333;margin-bottom:1rem}
h1{font-size:1.6rem;line-height:1.25;margin:.5rem 0;overflow-wrap:anywhere}
h2{overflow-wrap:anywhere}
nav.ui a{display:inline-block;margin:0 .6rem .4rem 0;padding:.25rem .6rem;border:1px solid #555;border-radius:.3rem;
color:#111;text-decoration:none}
dl.meta{font-size:.95rem}
dl.meta dd{margin:0 0 .5rem}
dl.meta dt{font-weight:600}
.fp{font-family:ui-monospace,monospace;letter-spacing:.05em;word-spacing:.3em}
article{border-top:1px solid #ccc;padding-top:.5rem;margin-top:1.5rem;overflow-wrap:anywhere}
article h2{font-size:1.3rem;margin:.4rem 0}
.when{color:#444;font-size:.95rem}
.link{font-family:ui-monospace,monospace;font-size:.9em;color:#333}
figure{margin:1.5rem 0}
figure img{max-width:100%;height:auto;display:block}
figcaption{font-size:.85rem;color:#444}
li>a,figcaption{white-space:pre-wrap}
.check{background:#eef3ee;border:1px solid #8a8;padding:.6rem .9rem;margin:1.5rem 0}
pre,code{white-space:pre-wrap;overflow-wrap:anywhere}
dl.meta code{white-space:nowrap}
.t-ru,.t-kk{display:none}
#ru:target~main .t-en,#kk:target~main .t-en{display:none}
#ru:target~main .t-ru,#kk:target~main .t-kk{display:inline}
""".strip()


@record
class PageInfo:
    """What the page says about the bundle as a whole."""

    title: str
    created: str
    languages: tuple[str, ...]
    key_id: str
    fingerprint: str
    made_here: bool = False  # made by `mirror open` on the reader's computer, not carried in the bundle


@record
class PageAccount:
    """One account: its file, its language, its front matter fields, and its Markdown without front matter."""

    path: str
    language: str
    fields: dict[str, Any] = field(default_factory=dict)
    text: str = ""


def _readable_time(created: str) -> str:
    """"2026-12-06 04:36 UTC" for bundle.json's "2026-12-06T04:36:38Z"; anything else as it is."""
    matched = re.fullmatch(r"([0-9]{4}-[0-9]{2}-[0-9]{2})T([0-9]{2}:[0-9]{2})(?::[0-9]{2}(?:\.[0-9]+)?)?Z", created)
    return f"{matched[1]} {matched[2]} UTC" if matched else created


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _href(path: str) -> str:
    """A bundle file as a link target: every character but letters, digits, `/` and `-._~` percent-encoded, so
    that `#`, `%` or a space in a name never makes the link point at another file or a fragment."""
    return _e(quote(path, safe="/"))


def _ui(key: str) -> str:
    """One interface word in the three languages; CSS shows the one the reader picked."""
    return "".join(f'<span class="t-{lang}" lang="{lang}">{_e(UI[key][lang])}</span>' for lang in UI_LANGUAGES)


def _ui_count(key: str, n: int) -> str:
    """An interface sentence with a count, in the three languages."""
    grouped = f"{n:,}".replace(",", "\u202f")  # a comma reads as a decimal point in Russian and Kazakh (SI's thin
    return "".join(f'<span class="t-{lang}" lang="{lang}">{_e(UI[key][lang].format(n=grouped))}</span>'  # space)
                   for lang in UI_LANGUAGES)


def _markdown() -> MarkdownIt:
    """CommonMark with raw HTML off; links and images become text with their target."""
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False,
                                    "maxNesting": MAX_NESTING})

    def link_open(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        env.setdefault("links", []).append(tokens[idx].attrGet("href") or "")
        return ""

    def link_close(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        target = env["links"].pop() if env.get("links") else ""
        return f' <span class="link">[{_e(target)}]</span>' if target else ""

    def image(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        alt = "".join(child.content for child in token.children or [])
        return f'<span class="link">[{_e(alt)}: {_e(token.attrGet("src") or "")}]</span>'

    md.add_render_rule("link_open", link_open)
    md.add_render_rule("link_close", link_close)
    md.add_render_rule("image", image)
    return md


def strip_front_matter(text: str) -> str:
    """The Markdown after a leading `---` block of key: value lines (shown as fields instead), read as
    bundle/accounts.py reads it."""
    from mirror.bundle.accounts import front_matter

    return front_matter(text)[1]


def _bounded(md: MarkdownIt, text: str, limit: int) -> tuple[str, bool]:
    """`text` rendered as markdown-it renders it, but stopped once the output passes `limit` characters (tags
    still open are closed); and whether anything of `text` is not in it.

    The output of Markdown can be far larger than its source: a reference link's long target shown at each of
    thousands of uses, or twenty blockquotes opened by one line of `>`. So the budget counts what is rendered,
    token by token, never more than one token's output past it. Nor does markdown-it say when it gives up:
    past `maxNesting` levels it skips the rest of the text, which is then said to continue in its file."""
    env: dict[str, Any] = {}
    tokens = md.parse(text, env)
    for token in tokens:  # an account's own headings below its title (h2): its "# x" mimicked the page's h1
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, int(token.tag[1:]) + 2)}"
    renderer, options = cast(RendererHTML, md.renderer), md.options
    out: list[str] = []
    closing: list[str] = []  # the end tags of what is open, innermost last
    size = 0

    def add(sequence: Sequence[Token], index: int) -> bool:
        nonlocal size
        token = sequence[index]
        if token.type in renderer.rules:
            piece = renderer.rules[token.type](sequence, index, options, env)
        else:
            piece = renderer.renderToken(sequence, index, options, env)
        if token.nesting == 1:  # a link's tag and a tight list's paragraphs are never written: nothing to close
            closing.append(f"</{token.tag}>" if token.type != "link_open" and not token.hidden else "")
        elif token.nesting == -1 and closing:
            closing.pop()
        out.append(piece)
        size += len(piece)
        return size <= limit

    for i, token in enumerate(tokens):
        children = (token.children or []) if token.type == "inline" else None
        whole = all(add(children, j) for j in range(len(children))) if children is not None else add(tokens, i)
        if not whole:
            return "".join(out) + "".join(reversed(closing)) + "\n", True
    deepest = MAX_NESTING - 1  # a container opened here leaves no level for the blocks it holds: they were skipped
    return "".join(out), any(t.type in _CONTAINERS and t.level >= deepest for t in tokens)


def _bracket_cost(text: str) -> int:
    """What markdown-it may spend on the brackets of `text` (as much as it renders), in units of one open "["
    passed over, every "[" taken as open: counted high, never low."""
    brackets = text.count("[", 0, MAX_MARKDOWN)
    return brackets * (brackets + 1) // 2


def _account(md: MarkdownIt, number: int, account: PageAccount, limit: int, markdown: bool = True,
             most: int = MAX_MARKDOWN) -> str:
    """One account as an article; `markdown` False: a .md shown as plain text (too costly to render); `most`:
    the characters of Markdown rendered, the rest said to continue in its file."""
    fields = account.fields
    plain = account.path.lower().endswith(".txt") or not markdown
    text = account.text if len(account.text) <= limit else account.text[:limit]
    if not plain and len(text) > most:  # whole lines: a cut inside a line could start a construct
        text = text[:text.rfind("\n", 0, most) + 1 or most]
    heading = _e(fields.get("title") or account.path.rsplit("/", 1)[-1])
    when = " · ".join(_e(fields[k]) for k in ("date", "place") if fields.get(k))
    source = f'<p class="when">{_ui("source")}: {_e(fields["source"])}</p>' if fields.get("source") else ""
    if plain:  # plain text: its lines as they are, no Markdown
        body, cut = f'<pre class="plain" style="font:inherit">{_e(text)}</pre>\n', False  # the style sheet is fixed
    else:
        body, cut = _bounded(md, text, limit)
    body += f'<p class="when">{_ui("cut")}</p>\n' if cut or text is not account.text else ""
    body += f'<p class="when">{_ui("plain")}</p>\n' if not markdown else ""
    return (f'<article id="a{number}" lang="{_e(account.language)}">\n<h2>{heading}</h2>\n'
            + (f'<p class="when">{when}</p>\n' if when else "") + source
            + f"\n{body}<p class=\"when\">{_ui('file')}: <code>{_e(account.path)}</code></p>\n</article>\n")


def _listed(account: PageAccount, base: str = "") -> str:
    fields = account.fields
    words = " · ".join(_e(fields[k]) for k in ("title", "date", "place") if fields.get(k))
    return (f'<li lang="{_e(account.language)}"><a href="{_href(base + account.path)}">{_e(account.path)}</a> '
            f'{words}</li>')


def render_page(info: PageInfo, accounts: Sequence[PageAccount], photos: Sequence[str], more_accounts: int = 0,
                more_photos: int = 0, deadline: float | None = None) -> bytes:
    """The page for a bundle; the same inputs always give the same bytes.

    A caller with many files passes the first MAX_RENDERED + MAX_LISTED accounts and MAX_FIGURES photos only,
    and how many more there are (`more_accounts`, `more_photos`); longer sequences are cut here the same way.
    """
    return b"".join(page_pieces(info, accounts, photos, more_accounts, more_photos, deadline))


def page_pieces(info: PageInfo, accounts: Iterable[PageAccount], photos: Iterable[str], more_accounts: int = 0,
                more_photos: int = 0, deadline: float | None = None, folder: str = "") -> Iterator[bytes]:
    """render_page's bytes in pieces, each account taken as it comes: a caller that writes them out as they are
    made never holds the page, nor more than one account's text.

    `deadline` (time.monotonic()), for a page made on the reader's computer from a stranger's accounts: past it,
    the accounts left are shown as plain text, whatever Markdown could still cost. A bundle's own page has none:
    the same accounts always give the same bytes. `folder`: where the bundle's files are, seen from the page (a
    page made beside the unpacked folder, not in it: that folder holds the bundle's files only)."""
    base = f"{folder}/" if folder else ""
    shown = MAX_RENDERED + MAX_LISTED
    account_list, photo_list = iter(accounts), iter(photos)
    first_account, first_photo = next(account_list, None), next(photo_list, None)
    md = _markdown()

    # Each piece is cleaned and encoded as it is made: the page is held once, as UTF-8, never also as one str.
    def out(pieces: Iterable[str]) -> Iterator[bytes]:
        return (_clean(piece).encode("utf-8") for piece in pieces)

    yield from out((
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n",
        f'<meta http-equiv="Content-Security-Policy" content="{PAGE_CSP}">\n',
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
        '<meta name="referrer" content="no-referrer">\n',
        f"<title>{_e(info.title)}</title>\n<style>\n{_STYLE}\n</style>\n</head>\n<body>\n",
        "".join(f'<i id="{lang}"></i>' for lang in UI_LANGUAGES if lang != "en"),
        f"\n<main>\n{BANNER_SLOT}\n<header>\n<nav class=\"ui\">",
        "".join(f'<a href="#{lang}" lang="{lang}">{_e(UI["language"][lang])}</a>' for lang in UI_LANGUAGES),
        f"</nav>\n<h1>{_e(info.title)}</h1>\n<dl class=\"meta\">\n",
        f"<dt>{_ui('signed')}</dt><dd><code>{_e(info.key_id)}</code></dd>\n",
        f"<dt>{_ui('fingerprint')}</dt><dd class=\"fp\">{_e(info.fingerprint)}</dd>\n",
        f"<dt>{_ui('created')}</dt><dd>{_e(_readable_time(info.created))}</dd>\n",
        f"<dt>{_ui('languages')}</dt><dd>{_e(', '.join(info.languages))}</dd>\n</dl>\n</header>\n",
        f"<section class=\"check\"><strong>{_ui('check')}</strong>"
        f"<p>{_ui('check_text_here' if info.made_here else 'check_text')}</p></section>\n",
        f"<h2>{_ui('accounts')}</h2>\n" if first_account is not None else "",
    ))
    budget, rendered, listing = MAX_PAGE_TEXT, 0, False
    cost_left = MAX_PAGE_BRACKET_COST
    everything = itertools.chain(() if first_account is None else (first_account,), account_list)
    for number, account in enumerate(itertools.islice(everything, shown), start=1):
        if rendered < MAX_RENDERED and budget > 0 and not listing:
            cost = 0 if account.path.lower().endswith(".txt") else _bracket_cost(account.text)
            markdown = cost <= min(MAX_BRACKET_COST, cost_left) and (deadline is None or time.monotonic() < deadline)
            cost_left -= cost if markdown else 0
            piece = _account(md, number, account, budget, markdown,
                             MAX_MARKDOWN if deadline is None else MAX_MARKDOWN_HERE)
            budget -= len(piece)
            rendered += 1
            yield from out((piece,))
            continue
        if not listing:
            listing = True
            yield from out((f"<p>{_ui('more')}</p>\n<ul>\n",))
        yield from out((f"{_listed(account, base)}\n",))
    if listing:
        yield from out(("</ul>\n",))
    more_accounts += sum(1 for _ in everything)
    if more_accounts:
        yield from out((f"<p>{_ui_count('unlisted', more_accounts)}</p>\n",))
    photo_all = itertools.chain(() if first_photo is None else (first_photo,), photo_list)
    figures = itertools.islice(photo_all, MAX_FIGURES)
    if first_photo is not None or more_photos:
        yield from out((f"<h2>{_ui('photos')}</h2>\n",))
        yield from out(f'<figure><img src="{_href(base + p)}" alt="{_e(p)}" loading="lazy">'
                       f"<figcaption>{_e(p)}</figcaption></figure>\n" for p in figures)
    more_photos += sum(1 for _ in photo_all)
    if more_photos:
        yield from out((f"<p>{_ui_count('unshown', more_photos)}</p>\n",))
    yield from out(("</main>\n</body>\n</html>\n",))


_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_MARKS = re.compile("[\u200e\u200f\u061c]")  # direction marks: left out (a WhatsApp export has one on every line)


def _clean(text: str) -> str:
    """No control characters and no bidi embeddings, overrides or isolates in the page: each becomes U+FFFD; the
    direction marks are left out (a right-to-left mark between a date's parts showed 2022-01-05 as 202205-01-,
    helper-159; as U+FFFD, a WhatsApp export showed one at the start of every line, helper-163).

    They are invalid in HTML (C0, C1) or can make text read in another order than it was written (bidi
    controls, which could reorder a date or a fingerprint). The signed file keeps them; the page is a view.
    """
    return _UNSAFE.sub("\ufffd", _MARKS.sub("", text))
