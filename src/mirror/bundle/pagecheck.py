"""Whether a bundle's index.html is a static page of the kind bundle/page.py makes: no scripts, nothing remote.

Example::

    page_problem(Path("out/index.html").read_bytes())   # None, or "it holds a <script> tag"

A signature says who made the page, not what it does: a page made by another tool, or by a key that was
stolen, could run scripts or load an image from a server and so tell it the reader's address. Before the tool
points a reader at a bundle's own page (extract's hint, `mirror open`), the page is checked against what mirror
writes, by an allow-list rather than a list of dangers:
- every `<` opens a tag of the plain form `<name attr="value" ...>`, of a tag mirror writes (no comment but
  page.py's one slot, no unquoted or single-quoted value: nothing a browser could parse otherwise than this check);
- only the attributes mirror writes; a link is a fragment (`#ru`) or a path inside the bundle's folder, an image
  a path inside it; an inline style is one plain declaration;
- the style sheet holds no `(`, `@` or `\\` (so no `url(...)`, `@import` or escapes);
- the page declares UTF-8 where browsers look for it, and is UTF-8.
A page that fails is not opened by mirror; a page made on this computer shows the verified files instead.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from mirror.bundle.page import BANNER_SLOT

MAX_CHECKED = 64 << 20  # bundle/page.py writes at most about 20 MB; a larger page is not one of its pages

_TAGS = frozenset((
    "html", "head", "body", "meta", "title", "style", "main", "header", "nav", "section", "article", "figure",
    "figcaption", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "p", "span", "strong", "em", "i", "b", "code",
    "pre", "blockquote", "ul", "ol", "li", "a", "img", "hr", "br", "div"))
_ATTRIBUTES = frozenset((
    "class", "id", "lang", "href", "src", "alt", "loading", "charset", "name", "content", "style", "start", "role"))
_TAG = re.compile(r'<(/?)([a-zA-Z][a-zA-Z0-9]*)((?:[ \t\n\r\f]+[a-zA-Z-]+="[^"<>]*")*)[ \t\n\r\f]*/?>')
_ATTRIBUTE = re.compile(r'([a-zA-Z-]+)="([^"]*)"')
_DOCTYPE = re.compile(r"(?:\ufeff)?[ \t\n\r\f]*<!doctype html>", re.IGNORECASE)
_CHARSET = re.compile(r'<meta charset="utf-8">', re.IGNORECASE)
_FRAGMENT = re.compile(r"#[A-Za-z0-9_-]*")
_PATH = re.compile(r"[A-Za-z0-9_.~%/-]+")  # bundle/page.py's _href: the rest percent-encoded
_DECLARATION = re.compile(r"[a-zA-Z-]+:[a-zA-Z0-9 ,.#%-]*;?")
_SHEET_FORBIDDEN = re.compile(r"[(@\\<]|url|import|expression", re.IGNORECASE)


def page_problem(data: bytes) -> str | None:
    """None for a static page of the kind mirror makes; else what is wrong with it, in a few words."""
    if len(data) > MAX_CHECKED:
        return f"it is larger than {MAX_CHECKED:,} bytes"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "it is not UTF-8"
    if not _CHARSET.search(text[:1024]):  # where browsers look for it: without it they may guess another encoding
        return "it does not declare UTF-8 at its start"
    doctype = _DOCTYPE.match(text)
    at = doctype.end() if doctype else 0
    while (start := text.find("<", at)) >= 0:
        if text.startswith(BANNER_SLOT, start):  # where `mirror open` adds its notes; a comment of no effect
            at = start + len(BANNER_SLOT)
            continue
        tag = _TAG.match(text, start)
        if tag is None:
            return f"it holds markup mirror does not write: {_shown(text[start:start + 40])}"
        closing, name, attributes = tag.group(1), tag.group(2).lower(), tag.group(3)
        if name not in _TAGS:
            return f"it holds a <{name}> tag"
        problem = None if closing and not attributes else _attributes_problem(name, attributes)
        if closing and attributes:
            problem = f"a closing </{name}> tag has attributes"
        if problem:
            return problem
        at = tag.end()
        if name == "style" and not closing:
            end = text.find("<", at)
            sheet = text[at:] if end < 0 else text[at:end]
            if _SHEET_FORBIDDEN.search(sheet):
                return "its style sheet can load from elsewhere (url, @import or an escape)"
            at = max(at, end) if end >= 0 else len(text)
    return None


def _attributes_problem(tag: str, attributes: str) -> str | None:
    for found in _ATTRIBUTE.finditer(attributes):
        name, value = found.group(1).lower(), found.group(2)
        if name not in _ATTRIBUTES:
            return f"a <{tag}> tag has the attribute {name}"
        if name == "href" and not (_FRAGMENT.fullmatch(value) or _inside(value)):
            return f"a link leads outside the bundle: {_shown(value)}"
        if name == "src" and not (tag == "img" and _inside(value)):
            return f"a <{tag}> tag loads {_shown(value)}, not a file of the bundle"
        if name == "style" and not _DECLARATION.fullmatch(value):
            return f"a <{tag}> tag has a style mirror does not write: {_shown(value)}"
    return None


def _inside(value: str) -> bool:
    """Whether a link or image address is a relative path that stays in the page's folder: no scheme, no leading
    `/`, no `..` step (also not as `%2e%2e`, which browsers read as `..`)."""
    if not _PATH.fullmatch(value) or value.startswith("/"):
        return False
    return ".." not in unquote(value).split("/")


def _shown(text: str) -> str:
    """A piece of the page in a message: printable, short."""
    cut = "".join(c if c.isprintable() else "?" for c in text[:40])
    return repr(cut)
