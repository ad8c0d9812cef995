"""The page at `/`: what the room offers, for a phone, in English, Russian or Kazakh; static and escaped.

Example::

    html = render_page(catalog.offers, signed_index=True, language="ru", share=True)   # bytes, UTF-8

No script, no form, nothing from anywhere else: every link is relative to the page,
and the only image is the QR code the server makes itself (`qr.png`). Every value
from a bundle is untrusted text: it is escaped, its control and bidi characters are
replaced, and it is isolated (`<bdi>`) so that it cannot reorder the text around it.
How to check a file is always shown in all three languages, the chosen one first.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Sequence

from mirror.serve.catalog import Offer
from mirror.serve.words import LANGUAGES, WORDS

MAX_SHOWN = 500
MAX_TEXT = 300
_HIDDEN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}

_STYLE = """
body{font-family:system-ui,sans-serif;line-height:1.45;margin:0 auto;max-width:42em;padding:0.8em;color:#111;
background:#fff}
nav{margin-bottom:0.6em}nav a,nav strong{margin-right:0.9em;display:inline-block;padding:0.3em 0}
h1{font-size:1.5em;margin:0.3em 0;overflow-wrap:anywhere}h2{font-size:1.2em;margin:0.2em 0 0.4em;overflow-wrap:anywhere}
.warn{background:#fff4d6;border-left:4px solid #c80;padding:0.5em 0.7em}
section.bundle{border:1px solid #ccc;border-radius:6px;padding:0.7em;margin:0.9em 0}
dl{margin:0}dt{font-size:0.85em;color:#555;margin-top:0.35em}dd{margin:0;overflow-wrap:anywhere}
.fp{font-family:ui-monospace,monospace;font-size:1.05em;word-spacing:0.25em}
code{font-family:ui-monospace,monospace;overflow-wrap:anywhere;font-size:0.9em}
a.get{display:inline-block;background:#1452a8;color:#fff;padding:0.55em 1em;border-radius:5px;
text-decoration:none;margin:0.6em 0.6em 0.2em 0;font-weight:bold}
.small{font-size:0.85em}ol li{margin:0.35em 0}
img.qr{width:12em;height:12em;image-rendering:pixelated}
"""


def clean(value: str, limit: int = MAX_TEXT) -> str:
    """Untrusted text made safe to show: control, bidi and private characters replaced, length capped, escaped."""
    shown = "".join("\ufffd" if unicodedata.category(c) in _HIDDEN else c for c in value[:limit])
    return html.escape(shown + ("\u2026" if len(value) > limit else ""), quote=True)


def _words(text: str) -> str:
    """Our own text: escaped, with `backticked` parts as code."""
    parts = html.escape(text, quote=True).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def _grouped(n: int) -> str:
    """A count with its thousands set apart by thin spaces (SI): a comma reads as a decimal point in Russian
    and Kazakh, and a point in English."""
    return f"{n:,}".replace(",", "\u202f")


_UNITS = {"en": ("GB", "MB", "KB", "B"), "ru": ("ГБ", "МБ", "КБ", "Б"), "kk": ("ГБ", "МБ", "КБ", "Б")}


def _size(size: int, language: str) -> str:
    """`size` as people read it in `language`: 12.6 MB; 12,6 МБ (a decimal comma in Russian and Kazakh)."""
    units = _UNITS.get(language, _UNITS["en"])
    for unit, scale in zip(units, (10**9, 10**6, 10**3), strict=False):
        if size >= scale:
            shown = f"{size / scale:.1f}"
            return f"{shown if language == 'en' else shown.replace('.', ',')} {unit}"
    return f"{size} {units[3]}"


def _offer(offer: Offer, language: str) -> str:
    w = WORDS[language]
    byte = _UNITS.get(language, _UNITS["en"])[3]
    meta, sha = offer.meta, offer.sha256
    languages = ", ".join(clean(code, 16) for code in meta.languages[:20]) or "-"
    return (f'<section class="bundle"><h2><bdi>{clean(meta.title)}</bdi></h2><dl>'
            f"<dt>{_words(w.languages)}</dt><dd>{languages}</dd>"
            f"<dt>{_words(w.size)}</dt><dd>{_size(offer.size, language)} ({_grouped(offer.size)} {byte})</dd>"
            f"<dt>{_words(w.date)}</dt><dd><bdi>{clean(meta.created[:10], 10)}</bdi></dd>"
            f"<dt>{_words(w.version)}</dt><dd>{meta.version}</dd>"
            f"{_endorsements(offer, language)}"
            f"<dt>{_words(w.fingerprint)}</dt><dd class=\"fp\">{html.escape(offer.fingerprint)}</dd>"
            f"<dt>{_words(w.key_id)}</dt><dd><code>{html.escape(offer.key_id)}</code></dd>"
            f"<dt>{_words(w.sha256)}</dt><dd><code>{sha}</code></dd></dl>"
            f'<a class="get" href="bundles/{sha}.7z" download="{html.escape(offer.download_name)}">'
            f"{_words(w.download)} ({_size(offer.size, language)})</a>"
            f'<div class="small"><a href="bundles/{sha}.SHA256SUMS">{_words(w.sums)}</a>, '
            f'<a href="bundles/{sha}.SHA256SUMS.minisig">{_words(w.signature)}</a></div></section>')


def _endorsements(offer: Offer, language: str) -> str:
    """The line that tells an endorsed copy from the plain one beside it (the same title, date and key), or none."""
    if not offer.carried:
        return ""
    w = WORDS[language]
    trusted = f"; {_words(w.endorsed_by_room.format(count=offer.endorsed))}" if offer.endorsed else ""
    return (f"<dt>{_words(w.endorsements)}</dt><dd>{offer.carried}{trusted}"
            f'<div class="small">{_words(w.endorsement_note)}</div></dd>')


def _how(language: str) -> str:
    w = WORDS[language]
    steps = "".join(f"<li>{_words(step)}</li>" for step in w.steps)
    return f'<section lang="{language}" id="how-{language}"><h2>{_words(w.how)}</h2><ol>{steps}</ol></section>'


def render_page(offers: Sequence[Offer], signed_index: bool, language: str, share: bool) -> bytes:
    """The whole page as UTF-8 bytes."""
    w = WORDS[language]
    nav = " ".join(f"<strong>{WORDS[c].name}</strong>" if c == language
                   else f'<a href="?lang={c}" lang="{c}">{WORDS[c].name}</a>' for c in LANGUAGES)
    shown = "".join(_offer(o, language) for o in offers[:MAX_SHOWN]) or f"<p>{_words(w.none)}</p>"
    if len(offers) > MAX_SHOWN:
        shown += f"<p>{_words(w.more.format(count=len(offers) - MAX_SHOWN))}</p>"
    how = "".join(_how(c) for c in (language, *(c for c in LANGUAGES if c != language)))
    qr = (f'<p><img class="qr" src="qr.png" alt=""><br><span class="small">{_words(w.share)}</span></p>'
          if share else "")
    page = (f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_words(w.title)}</title><style>{_STYLE}</style></head><body>"
            f"<nav>{nav}</nav><h1>{_words(w.title)}</h1>"
            f'<p class="warn">{_words(w.intro)}</p>'
            f"<p class=\"small\">{_words(w.signed if signed_index else w.unsigned)}</p>"
            f"{shown}{how}{qr}</body></html>\n")
    return page.encode("utf-8")
