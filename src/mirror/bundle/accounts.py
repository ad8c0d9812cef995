"""Accounts: UTF-8 text with optional front matter, and the languages they are in.

Example::

    info = read_account(raw, "accounts/2022-01-05.ru.md")
    info.fields["place"]     # "Almaty, Republic Square"
    info.language            # "ru"

Front matter is the `---` block of `key: value` lines that Markdown tools use.
The language comes from its `language` field, else from a name like
`x.ru.md`, else from the script the text is written in (Kazakh letters, else
Cyrillic as Russian, else Latin as English, in its first 64 Ki characters). It is a hint for readers, not a
claim the author signs lightly: front matter is the reliable way.
"""

from __future__ import annotations

import re

from mirror.errors import InputError
from mirror.record import record

FIELDS = ("title", "date", "place", "source")
_LANG = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?")
_KAZAKH = set("әғқңөұүһіӘҒҚҢӨҰҮҺІ")
_SAMPLE = 64 * 1024  # characters the script guess looks at
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")  # binary control bytes; tab, LF, CR, FF are text


@record
class Account:
    """What bundle.json records about an account."""

    language: str
    fields: dict[str, str]


def _front_matter(text: str) -> dict[str, str]:
    if not text.startswith("---\n"):
        return {}
    end = text.find("\n---\n", 3)
    if end < 0:
        return {}
    fields: dict[str, str] = {}
    for line in text[4:end].split("\n"):
        key, sep, value = line.partition(":")
        if sep and key.strip():
            fields[key.strip().lower()] = value.strip()
    return fields


def _guess_language(text: str) -> str:
    letters = [c for c in text[:_SAMPLE] if c.isalpha()]
    if any(c in _KAZAKH for c in letters):
        return "kk"
    cyrillic = sum(1 for c in letters if "\u0400" <= c <= "\u04ff")
    return "ru" if letters and cyrillic * 2 > len(letters) else "en"


def read_account(raw: bytes, member: str) -> Account:
    """Check an account and read its front matter.

    Raises:
        InputError: not UTF-8, or holds NUL or other binary control bytes.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{member}: not UTF-8 text (byte {exc.start})", hint="save it as UTF-8") from None
    if _CONTROL.search(text):
        raise InputError(f"{member}: holds control characters; is it really text?")
    fields = _front_matter(text.removeprefix("\ufeff").replace("\r\n", "\n"))
    language = fields.get("language", "")
    if not _LANG.fullmatch(language):
        parts = member.rsplit("/", 1)[-1].split(".")
        language = parts[-2] if len(parts) >= 3 and _LANG.fullmatch(parts[-2]) else _guess_language(text)
    return Account(language, {k: fields[k][:500] for k in FIELDS if fields.get(k)})
