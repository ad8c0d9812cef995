"""Whether a bundle's index.html is a static page of the kind bundle/page.py makes: no scripts, nothing remote.

Example::

    page_problem(Path("out/index.html").read_bytes())   # None, or "it holds a <script> tag"

A signature says who made the page, not what it does: a page made by another tool, or by a key that was
stolen, could run scripts or load an image from a server and so tell it the reader's address. Before the tool
points a reader at a bundle's own page (extract's hint, `mirror open`), the page is checked against what mirror
writes, by an allow-list rather than a list of dangers:
- it is UTF-8 with no control characters (page.py replaces them), and its first `<meta` is
  `<meta charset="utf-8">`, in its first 1,024 bytes: a browser reads it as UTF-8, never in an encoding whose
  escape sequences would swallow a quote and make text into markup; no other charset is named anywhere;
- every `<` opens a tag of the plain form `<name attr="value" ...>`, of a tag mirror writes (no comment but
  page.py's one slot, no unquoted or single-quoted value: nothing a browser could parse otherwise than this check);
- only the attributes mirror writes; a link is a fragment (`#ru`) or a path inside the bundle's folder, an image
  a path inside it; an inline style is one plain declaration;
- the style sheet, read as a browser reads it (up to `</style`), holds no `<`, `(`, `@` or `\\` (so no `url(...)`,
  `@import` or escapes).
A page that fails is not opened by mirror; a page made on this computer shows the verified files instead. The check
works on the bytes (every mark it looks for is ASCII), so a page of 100 MB is not also held as text.
"""

from __future__ import annotations

import codecs
import re
import time
from urllib.parse import unquote_to_bytes

from mirror.bundle.page import BANNER_SLOT

# bundle/page.py writes 8 MB of rendered accounts, then lists up to 20,000 more with their names twice (a link and
# its text, percent-encoded): with names of a kilobyte of Cyrillic that is about 150 MB.
MAX_CHECKED = 256 << 20

_TAGS = frozenset((
    b"html", b"head", b"body", b"meta", b"title", b"style", b"main", b"header", b"nav", b"section", b"article",
    b"figure", b"figcaption", b"dl", b"dt", b"dd", b"h1", b"h2", b"h3", b"h4", b"h5", b"h6", b"p", b"span", b"strong",
    b"em", b"i", b"b", b"code", b"pre", b"blockquote", b"ul", b"ol", b"li", b"a", b"img", b"hr", b"br", b"div"))
_ATTRIBUTES = frozenset((
    b"class", b"id", b"lang", b"href", b"src", b"alt", b"loading", b"charset", b"name", b"content", b"style", b"start",
    b"role", b"http-equiv"))
# A meta's http-equiv may only add a policy (a page's policies only ever narrow what it may do): never refresh (a
# redirect), set-cookie or another
_EQUIV = b"content-security-policy"
_TAG = re.compile(rb'<(/?)([a-zA-Z][a-zA-Z0-9]*)((?:[ \t\n\r\f]+[a-zA-Z-]+="[^"<>]*")*)[ \t\n\r\f]*/?>')
_ATTRIBUTE = re.compile(rb'([a-zA-Z-]+)="([^"]*)"')
_DOCTYPE = re.compile(rb"(?:\xef\xbb\xbf)?[ \t\n\r\f]*<!doctype html>", re.IGNORECASE)
_FIRST_META = re.compile(rb"<meta", re.IGNORECASE)
_UTF8_META = b'<meta charset="utf-8">'
# Tab, line feed, form feed and carriage return pass; C1 controls (U+0080-U+009F) and the bidi embeddings,
# overrides, isolates and marks (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C), which page.py replaces,
# do not (as UTF-8).
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae\x8e\x8f]|\xe2\x81[\xa6-\xa9]"
                      rb"|\xd8\x9c")
_STYLE_END = re.compile(rb"</style", re.IGNORECASE)
_FRAGMENT = re.compile(rb"#[A-Za-z0-9_-]*")
_PATH = re.compile(rb"[A-Za-z0-9_.~%/-]+")  # bundle/page.py's _href: the rest percent-encoded
_DECLARATION = re.compile(rb"[a-zA-Z-]+:[a-zA-Z0-9 ,.#%-]*;?")
_SHEET_FORBIDDEN = re.compile(rb"[(@\\<]|url|import|expression", re.IGNORECASE)
_CHUNK = 16 << 20
CHECK_SECONDS = 10.0


def page_problem(data: bytes, seconds: float = CHECK_SECONDS) -> str | None:
    """None for a static page of the kind mirror makes; else what is wrong with it, in a few words.

    A page whose tags take longer than `seconds` of processor time to check is not shown (a page of 64 MB of `<i>`
    in a bundle of 11 KB took 83 s): page.py's pages, of a few MB and some hundred thousand tags, take well under
    one."""
    if len(data) > MAX_CHECKED:
        return f"it is larger than {MAX_CHECKED:,} bytes"
    # processor time of this thread, not the clock's: a machine busy with other work (or one that slept) gave a
    # page of mirror's own less than `seconds` of the check, and it was not shown
    deadline = time.thread_time() + seconds
    tags = 0
    declared = _FIRST_META.search(data, 0, 1024)  # where browsers look for a charset: the one a page may name
    problem = _encoding_problem(data, declared)
    if problem is not None:
        return problem
    doctype = _DOCTYPE.match(data)
    at = doctype.end() if doctype else 0
    while (start := data.find(b"<", at)) >= 0:
        tags += 1
        if not tags % 4096 and time.thread_time() > deadline:
            return f"it has too many tags to check in {seconds:g} s"
        if data.startswith(BANNER_SLOT.encode(), start):  # where `mirror open` adds its notes; a comment of no effect
            at = start + len(BANNER_SLOT)
            continue
        tag = _TAG.match(data, start)
        if tag is None:
            return f"it holds markup mirror does not write: {_shown(data[start:start + 40])}"
        closing, name, attributes = tag.group(1), tag.group(2).lower(), tag.group(3)
        if name not in _TAGS:
            return f"it holds a <{name.decode()}> tag"
        if closing and attributes:
            return f"a closing </{name.decode()}> tag has attributes"
        problem = None if closing else _attributes_problem(name, attributes)
        if problem:
            return problem
        named = {found.group(1).lower() for found in _ATTRIBUTE.finditer(attributes)}
        if b"charset" in named and (declared is None or start != declared.start()):
            return "it names a character set a second time"
        at = tag.end()
        if name == b"style" and not closing:  # raw text up to </style, whatever it holds, as a browser reads it
            end = _STYLE_END.search(data, at)
            sheet = data[at:] if end is None else data[at:end.start()]
            if _SHEET_FORBIDDEN.search(sheet):
                return "its style sheet can load from elsewhere (url, @import, an escape or a tag inside it)"
            at = len(data) if end is None else end.start()
    return None


def _encoding_problem(data: bytes, first: re.Match[bytes] | None) -> str | None:
    """Why a browser might read the page otherwise than as UTF-8 (`first`: its first `<meta`, if any in its first
    1,024 bytes), or None."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for at in range(0, len(data), _CHUNK):  # checked in pieces: never the whole page as text
            decoder.decode(data[at:at + _CHUNK], final=at + _CHUNK >= len(data))
    except UnicodeDecodeError:
        return "it is not UTF-8"
    if _CONTROL.search(data):
        return "it holds control characters, or bidi controls that can reorder what it shows"
    if first is None or not data.startswith(_UTF8_META, first.start()):
        return "it does not declare UTF-8 in its first meta tag, at its start"
    return None


def _attributes_problem(tag: bytes, attributes: bytes) -> str | None:
    shown_tag = tag.decode()
    for found in _ATTRIBUTE.finditer(attributes):
        name, value = found.group(1).lower(), found.group(2)
        if name not in _ATTRIBUTES:
            return f"a <{shown_tag}> tag has the attribute {name.decode()}"
        if name == b"href" and not (_FRAGMENT.fullmatch(value) or _inside(value)):
            return f"a link leads outside the bundle: {_shown(value)}"
        if name == b"src" and not (tag == b"img" and _inside(value)):
            return f"a <{shown_tag}> tag loads {_shown(value)}, not a file of the bundle"
        if name == b"http-equiv" and (tag != b"meta" or value.lower() != _EQUIV):
            return f"a <{shown_tag}> tag has http-equiv {_shown(value)}"
        if name == b"style" and not _DECLARATION.fullmatch(value):
            return f"a <{shown_tag}> tag has a style mirror does not write: {_shown(value)}"
    return None


def _inside(value: bytes) -> bool:
    """Whether a link or image address is a relative path that stays in the page's folder: no scheme, no leading
    `/`, no `..` step (also not as `%2e%2e`, which browsers read as `..`)."""
    if not _PATH.fullmatch(value) or value.startswith(b"/"):
        return False
    return b".." not in unquote_to_bytes(value).split(b"/")


def _shown(raw: bytes) -> str:
    """A piece of the page in a message: printable, short."""
    text = raw[:40].decode("utf-8", "replace")
    return repr("".join(c if c.isprintable() else "?" for c in text))
