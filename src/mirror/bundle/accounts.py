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
from mirror.privacy.identifiers import embedded_file
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


_OPEN = re.compile(r"---[ \t]*\n")
_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.MULTILINE)  # YAML ends a document with either


# A line of a front matter block: `key: value` (a key as Markdown tools write them), a comment, a YAML list item or
# an indented continuation; a block with any other line is no front matter (helper-159: an account that began with
# a rule, a few lines and another rule lost those lines from the page)
_FIELD_LINE = re.compile(r"[A-Za-z_][A-Za-z0-9_ .-]{0,63}:(?:[ \t]|$)|[ \t]|#|- ")


def front_matter(text: str) -> tuple[str | None, str]:
    """The front matter block of `text` (None when there is none) and the text after it.

    As Markdown tools write and read it: a first line of `---`, then `key: value` lines up to a line of `---` or
    `...` (spaces after either, CR or CRLF line ends, and a file that ends on the closing line are all taken). A
    block with a line that is no field (`_FIELD_LINE`) is no front matter: the text is all shown."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    opening = _OPEN.match(text)
    if opening is None:
        return None, text
    closing = _CLOSE.search(text, opening.end())
    if closing is None:
        return None, text
    block = text[opening.end():closing.start()]
    if not all(_FIELD_LINE.match(line) for line in block.split("\n") if line.strip()):
        return None, text  # lines of prose between two rules: text to show, never fields (they were hidden)
    return block, text[closing.end():]


_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"[ \t]*(?:#.*)?$|\'((?:[^\']|\'\')*)\'[ \t]*(?:#.*)?$')


def _value(raw: str) -> str:
    """A field's value as YAML reads a plain scalar on one line: quotes around it are not part of it, nor is a
    comment after it (` # ...`, helper-159: `date: 2022-01-05 # check` showed the comment on the page)."""
    value = raw.strip()
    quoted = _QUOTED.match(value)  # a quoted value, and perhaps a comment after it (helper-163: cut at its "#")
    if quoted is not None:
        if quoted[1] is not None:
            return quoted[1].replace('\\"', '"').replace("\\\\", "\\")
        return quoted[2].replace("''", "'")
    if value.startswith("#"):
        return ""
    return value.split(" #", 1)[0].split("\t#", 1)[0].rstrip()


def _front_matter(text: str) -> dict[str, str]:
    block, _ = front_matter(text)
    fields: dict[str, str] = {}
    key = ""
    folded: list[str] | None = None  # the lines of a block scalar (`title: >-` then indented lines) being read
    for line in (block or "").split("\n"):
        if folded is not None and (line[:1] in " \t" or not line.strip()):
            folded.append(line.strip())
            fields[key] = " ".join(part for part in folded if part)
            continue
        folded = None
        name, sep, value = line.partition(":")
        if sep and name.strip() and line[:1] not in " \t#-":
            key = name.strip().lower()
            fields[key] = _value(value)
            if _BLOCK_SCALAR.fullmatch(value.strip()):  # the value is on the indented lines that follow
                fields[key], folded = "", []
    return fields


_BLOCK_SCALAR = re.compile(r"[>|][+-]?[1-9]?|[>|][1-9][+-]?")


def _guess_language(text: str) -> str:
    """Kazakh when its own letters are at least 2% of the Cyrillic ones (one Kazakh name in a Russian text is not
    Kazakh), Russian when Cyrillic letters are most of them, else English; front matter's keys do not count."""
    _, body = front_matter(text[:_SAMPLE])
    letters = [c for c in body if c.isalpha()]
    cyrillic = sum(1 for c in letters if "\u0400" <= c <= "\u04ff")
    if not letters or cyrillic * 2 <= len(letters):
        return "en"
    kazakh = sum(1 for c in letters if c in _KAZAKH)
    return "kk" if kazakh * 50 >= cyrillic else "ru"


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
    embedded = embedded_file(text)
    if embedded is not None:
        line, kind = embedded
        raise InputError(f"{member}: line {line} holds {kind}, which create cannot check or clean of "
                         "metadata", hint="take it out of the text; a picture saved as a photo file in the folder, "
                                          "and linked to, is cleaned of its metadata by create")
    fields = _front_matter(text)
    language = fields.get("language", "")
    if not _LANG.fullmatch(language):
        parts = member.rsplit("/", 1)[-1].split(".")
        language = parts[-2] if len(parts) >= 3 and _LANG.fullmatch(parts[-2]) else _guess_language(text)
    if language == "kz" or language.startswith("kz-"):  # Kazakhstan's country code, written for Kazakh's "kk"
        language = "kk" + language[2:]
    return Account(language, {k: fields[k][:500] for k in FIELDS if fields.get(k)})
