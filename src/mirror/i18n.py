"""The command line in Russian and Kazakh: the language from the environment, and English lines translated.

Example::

    >>> from mirror import i18n
    >>> i18n.language({"LANG": "kk_KZ.UTF-8"})
    'kk'
    >>> i18n.use("ru")
    >>> i18n.translate("signed by key 01F02ADB18FB02EC, which is not in your keyring")
    'подписан ключом 01F02ADB18FB02EC, которого нет в вашем списке ключей'

The library speaks English. The CLI passes every line it prints through `translate` (JSON output stays
English, for scripts). The catalogs under `locale/` hold templates made from the source by tools/i18n.py:
`"signed by key {0}, which is not in your keyring"`. A line is matched against them (the template with the
most literal text wins), the values are put into the translation as they were printed, and a line that matches
nothing stays English. Values named like a message (`{exc}`, `{reason}`, `{hint}`...) are translated in turn;
every other value (a path, a title, a key id) is inserted as it is. Nothing is loaded while the language is
English. docs/translations.md says how to add or change a translation.
"""

from __future__ import annotations

import os
import re
import string
import sys
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from mirror.record import record

if TYPE_CHECKING:
    from gettext import GNUTranslations

LANGUAGES = ("en", "ru", "kk")
LANGUAGE_VARIABLES = ("MIRROR_LANG", "LC_ALL", "LC_MESSAGES", "LANG")
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "mirror"  # our templates
CLICK_DOMAIN = "click"  # click's own words ("Usage:", "Options:"), looked up as click asks for them
# Values that are messages themselves (an inner error, a reason, a hint), translated in turn.
NESTED = frozenset({"exc", "reason", "problem", "why", "detail", "error", "warning", "note", "fix", "what", "hint",
                    "message", "head", "more", "who", "secret", "index", "described", "named", "advice", "junk",
                    "summary", "claim", "refs", "kind", "source", "place"})
MAX_WEIGHED = 4  # matching templates weighed with their values' own (the most literal first); bounds the work
MAX_TEXT = 4000  # a longer line is printed as it is: matching time stays bounded for any input
# Past this length only templates of at most two placeholders are tried: one of more backtracks on a line built
# for it (11 s at 4,000 characters, 1.6 s at 998, 0.12 s at 400; bench/translate.py measures the worst)
MAX_TEXT_MANY = 400
MAX_CLAUSES_TEXT = 400  # a line split at "; " into messages is at most this long
MAX_DEPTH = 4  # "skipped PATH: does not verify: N file(s) failed: changed: X": four messages deep
MAX_SPLITS = 8  # "where: message" with an unknown prefix: how many ": " to try
_LEADING = "(?:\ue000[^\ue001]*\ue001|(?!: )[^\ue000])*?"  # a marked value (verbatim) may hold ": "
_KEY = 6  # characters of a template's literal start (or end) that index it
_FORMATTER = string.Formatter()
_current = "en"


_MISTAKEN = {"kz": "kk"}  # Kazakhstan's country code, often given for its language (kz_KZ, MIRROR_LANG=kz)


def _code(value: str) -> str:
    code = re.split(r"[_.@-]", value.strip().lower(), maxsplit=1)[0]
    return _MISTAKEN.get(code, code)


def preferences(environ: Mapping[str, str] | None = None) -> list[str]:
    """The languages asked for, most wanted first: MIRROR_LANG alone if set; else, as gettext reads them, the
    list in LANGUAGE (kk:ru) and then the locale's (the first set of LC_ALL, LC_MESSAGES, LANG), unless the locale
    is C or POSIX. Only those mirror speaks; ["en"] when none."""
    env = os.environ if environ is None else environ
    value = next((env.get(name, "") for name in LANGUAGE_VARIABLES if env.get(name, "").strip()), "")
    if env.get("MIRROR_LANG", "").strip():
        return [_code(value)] if _code(value) in LANGUAGES else ["en"]
    if not value or _code(value) in ("c", "posix"):
        return ["en"]
    wanted = [_code(v) for v in env.get("LANGUAGE", "").split(":") if v.strip()] + [_code(value)]
    return list(dict.fromkeys(w for w in wanted if w in LANGUAGES)) or ["en"]


def language(environ: Mapping[str, str] | None = None) -> str:
    """The language asked for first (`preferences`)."""
    return preferences(environ)[0]


def can_show(lang: str, encodings: tuple[str | None, ...]) -> bool:
    """Whether streams with these encodings can print the language's letters (else English is printed)."""
    sample = {"ru": "Пж", "kk": "ӘҒҚҢӨҰҮҺІ"}.get(lang, "")
    for encoding in encodings:
        try:
            sample.encode(encoding or "ascii")
        except (UnicodeEncodeError, LookupError):
            return False
    return True


def choose(environ: Mapping[str, str] | None = None) -> str:
    """The language for this run: the most wanted one that stdout and stderr can print (LANGUAGE=kk:ru on a
    CP1251 terminal: Russian, whose letters it has), else English. Kazakh wanted on a terminal without its letters
    gives Russian before English, which Kazakh readers read far more often."""
    streams = (getattr(sys.stdout, "encoding", None), getattr(sys.stderr, "encoding", None))
    wanted = preferences(environ)
    if "kk" in wanted and "ru" not in wanted:
        wanted.insert(wanted.index("kk") + 1, "ru")
    return next((lang for lang in wanted if lang == "en" or can_show(lang, streams)), "en")


def use(lang: str) -> None:
    """Translate into `lang` from now on ("en": print as is).

    Raises:
        ValueError: not one of LANGUAGES.
    """
    global _current
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}")
    _current = lang


def current() -> str:
    """The language lines are translated into."""
    return _current


# A number as a decimal format spec writes it: -1,234.5
_DECIMAL = re.compile(r"-?\d[\d,]*\.\d+%?")
# 1,000,000 as English groups it: in Russian and Kazakh a comma is the decimal mark, so they read 1 000 000
_GROUPED = re.compile(r"(?<![\d,.])(\d{1,3})((?:,\d{3})+)(?![\d,])")


# A value from a bundle, a photo or a peer (a title, a file name, a photo's caption) inside a printed line, marked
# with `verbatim`: no template's literal words are matched inside it, no line is split at a ": " inside it, and its
# digits are not regrouped. A title written as the tool's own English message was printed as the tool's translated
# one. The marks are private-use characters, which printable() escapes in what it is given, so no value carries one.
DATA_OPEN, DATA_CLOSE = "\ue000", "\ue001"
_DATA = re.compile(f"({DATA_OPEN}[^{DATA_CLOSE}]*{DATA_CLOSE})")


def verbatim(value: str) -> str:
    """`value` (already made printable) marked as data: printed as it is, whatever language the line is in."""
    return DATA_OPEN + value.replace(DATA_OPEN, "").replace(DATA_CLOSE, "") + DATA_CLOSE


def _inside_data(text: str, at: int) -> bool:
    """Whether position `at` of `text` lies within a value marked by `verbatim`."""
    opened = text.rfind(DATA_OPEN, 0, at)
    return opened >= 0 and text.rfind(DATA_CLOSE, 0, at) < opened


def translate(text: str) -> str:
    """`text` in the current language, or unchanged when no template matches it (or the language is English);
    in Russian and Kazakh, thousands are set apart with no-break spaces, not commas (not in marked values)."""
    if _current == "en" or not text:
        return text.replace(DATA_OPEN, "").replace(DATA_CLOSE, "") if DATA_OPEN in text else text
    done = catalog(_current).translate(text)
    return "".join(part[1:-1] if part.startswith(DATA_OPEN) else
                   _GROUPED.sub(lambda m: m[1] + m[2].replace(",", "\u00a0"), part) for part in _DATA.split(done))


# Words click passes to gettext through a variable (`_(extra["required"])`), so that no extractor finds them
_CLICK_VARIABLE_WORDS = {"required": {"ru": "обязательно", "kk": "міндетті"}}


# fetch's table: the fate column in each language (machine words in English, as in --json). Here, in a module the
# extractor leaves out, so that the words are not taken for English messages.
_FATES = {
    "ru": {"not tried": "не опрошено", "ok": "ок", "stale": "устарело", "tampered": "подделка",
           "untrusted": "не доверен", "suspect": "под подозр.", "unreachable": "недоступно", "timeout": "медленно",
           "missing": "нет файла", "refused": "отказ", "bad answer": "не по HTTP"},
    "kk": {"not tried": "сұралмады", "ok": "жақсы", "stale": "ескірген", "tampered": "жалған",
           "untrusted": "сенімсіз", "suspect": "күдікті", "unreachable": "қолжетімсіз", "timeout": "баяу",
           "missing": "файл жоқ", "refused": "қабылдамады", "bad answer": "қате жауап"},
}


def fate_word(fate: str) -> str:
    """A fate of fetch's table (report.py's Fate value) in the current language."""
    return _FATES.get(_current, {}).get(fate, fate)


def click_gettext(message: str) -> str:
    """click's `gettext`: its own words in the current language."""
    if _current == "en":
        return message
    if message in _CLICK_VARIABLE_WORDS:
        return _CLICK_VARIABLE_WORDS[message][_current]
    return _gnu(_current, CLICK_DOMAIN).gettext(message)


def click_ngettext(singular: str, plural: str, n: int) -> str:
    """click's `ngettext`, with the plural rules of the current language."""
    if _current == "en":
        return singular if n == 1 else plural
    return _gnu(_current, CLICK_DOMAIN).ngettext(singular, plural, n)


@cache
def _gnu(lang: str, domain: str) -> GNUTranslations:
    """The compiled catalog of `domain` in `lang` (an empty one if it is missing)."""
    import gettext

    found = gettext.translation(domain, LOCALE_DIR, languages=[lang], fallback=True)
    return found if isinstance(found, gettext.GNUTranslations) else gettext.GNUTranslations()


@cache
def catalog(lang: str) -> Catalog:
    """The templates of `lang`, compiled once."""
    entries = getattr(_gnu(lang, DOMAIN), "_catalog", {})  # GNUTranslations keeps its entries there
    return Catalog({k: v for k, v in entries.items() if isinstance(k, str) and k and isinstance(v, str) and v})


@record
class Template:
    """One catalog entry with placeholders: a pattern for the English line and the translation."""

    pattern: re.Pattern[str]
    names: tuple[str, ...]  # the placeholder of each group, in order
    translation: str
    weight: int  # literal characters: the most specific template wins
    anchor: str  # its longest literal part, which a matching line must contain
    decimals: frozenset[str]  # placeholders formatted as decimal numbers ({seconds:.1f}, {wait:g})
    # The pattern again with a leading message value ("{reason}: mirror create refuses it: {fix}") free to hold
    # ": ", for a line the narrow one misses; taken only when that value is a whole message of its own (None: the
    # template does not begin with such a value)
    wide: re.Pattern[str] | None
    after: str  # the literal right after that value: a line holds ": " before it, or the wide pattern is not tried

    @classmethod
    def parse(cls, msgid: str, translation: str) -> Template:
        """Compile one template: literal text exactly, each placeholder as the shortest text that fits."""
        regex: list[str] = []
        names: list[str] = []
        literals: list[str] = []
        decimals: set[str] = set()
        leading: int | None = None  # where in `regex` the narrow leading value is
        for literal, field, spec, _ in _FORMATTER.parse(msgid):
            regex.append(re.escape(literal))
            literals.append(literal)
            if field is None:
                continue
            if spec and spec[-1] in "fFgGeE%":
                decimals.add(field)
            if field in names:
                regex.append(f"(?P=g{names.index(field)})")
            else:  # a value at the very start never holds ": ", or "PATH: KIND: 3 more" would read as one value
                if not "".join(literals) and field in NESTED:
                    leading = len(regex)
                regex.append(f"(?P<g{len(names)}>{_LEADING if not ''.join(literals) else '.*?'})")
                names.append(field)
        wide, after = None, literals[1] if len(literals) > 1 else ""
        if leading is not None and len(names) > 1 and after:
            wide = re.compile("".join([*regex[:leading], "(?P<g0>.*?)", *regex[leading + 1:]]), re.DOTALL)
        return cls(re.compile("".join(regex), re.DOTALL), tuple(names), translation, sum(map(len, literals)),
                   max(literals, key=len), frozenset(decimals), wide, after)


def _clauses(text: str) -> list[str]:
    """`text` cut at each "; " outside marked values (one piece when there is none)."""
    if "; " not in text:
        return [text]
    pieces, start, at = [], 0, text.find("; ")
    while at >= 0:
        if not (DATA_OPEN in text and _inside_data(text, at)):
            pieces.append(text[start:at])
            start = at + 2
        at = text.find("; ", at + 2)
    return [*pieces, text[start:]]


def _literals_outside_data(text: str, matched: re.Match[str]) -> bool:
    """Whether each stretch of a template's own words that `matched` found (between its values) lies outside every
    marked value: a template never reads a title or a file name as its words."""
    at = 0
    for group in range(1, (matched.lastindex or 0) + 1):
        start = matched.start(group)
        if start > at and _inside_data(text, at):
            return False
        at = max(at, matched.end(group))
    return at >= len(text) or not _inside_data(text, at)


class Catalog:
    """Every template of one language, indexed by how lines start and end so that a line tries only a few."""

    def __init__(self, entries: Mapping[str, str]) -> None:
        self.exact: dict[str, str] = {}
        self.by_start: dict[str, list[Template]] = {}
        self.by_end: dict[str, list[Template]] = {}
        self.floating: list[Template] = []
        for msgid, msgstr in entries.items():
            try:
                fields = [f for _, f, _, _ in _FORMATTER.parse(msgid) if f is not None]
                if not fields:
                    self.exact[_literal(msgid)] = _literal(msgstr)
                    continue
                template = Template.parse(msgid, msgstr)
            except (ValueError, re.error):
                continue  # not a template: a catalog entry that no line can match
            start, end = _head(msgid), _tail(msgid)
            if start:
                self.by_start.setdefault(start[:_KEY], []).append(template)
            elif end:
                self.by_end.setdefault(end[-_KEY:], []).append(template)
            else:
                self.floating.append(template)
        self._starts = sorted({len(k) for k in self.by_start})
        self._ends = sorted({len(k) for k in self.by_end})

    def translate(self, text: str, depth: int = 0) -> str:
        """The translation of one line; unchanged when nothing matches."""
        whole = self.weighed(text, depth)
        core = text.strip()
        if not depth and core and core != text:  # "  PROBLEM": an indented message, unless a template that says
            inner = self.weighed(core, depth + 1)  # more of the line (its indent) matches the whole line
            if inner is not None and (whole is None or inner[0] >= whole[0]):
                return _refit(text, inner[1])
        if whole is not None or depth:
            return text if whole is None else whole[1]
        position, best = 0, (-1, text)
        for _ in range(MAX_SPLITS):  # "WHERE: MESSAGE", WHERE a path or a host: the message alone may match
            position = text.find(": ", position) + 2
            if position < 2:
                break
            if DATA_OPEN in text and _inside_data(text, position - 2):
                continue  # a ": " inside a value is no place where a message starts
            weighed = self.weighed(text[position:], depth + 1)
            if weighed is not None and weighed[0] > best[0]:  # "a: name: the name carries X": not "name: {0}"
                best = (weighed[0], text[:position] + weighed[1])
        return best[1]

    def match(self, text: str, depth: int) -> str | None:
        """The translation of `text` by the most specific template that matches all of it, or None."""
        weighed = self.weighed(text, depth)
        return None if weighed is None else weighed[1]

    def weighed(self, text: str, depth: int) -> tuple[int, str] | None:
        """`match`, with how much literal text the template matched (an exact line: all of it)."""
        if text in self.exact:
            return len(text), self.exact[text]
        if len(text) > MAX_TEXT:
            return None
        many = len(text) > MAX_TEXT_MANY
        matches: list[tuple[Template, re.Match[str]]] = []
        for template in set(self._candidates(text)):
            if many and len(template.names) > 2:
                continue
            matched = template.pattern.fullmatch(text)
            if matched is None and template.wide is not None and not many and depth < MAX_DEPTH and \
                    0 <= text.find(": ") < text.rfind(template.after):
                matched = self._wide(template.wide, text, depth)
            if matched is not None and (DATA_OPEN not in text or _literals_outside_data(text, matched)):
                matches.append((template, matched))
        # The most literal text wins, counting what the values' own templates match: "refused    {path}: {reason}"
        # with a translated reason, not "{member}: not UTF-8 text (byte {start})" that swallows the rest in {start}.
        # (two msgids of one pattern, "{0}" and "{proxy!r}": the translation decides, not the order of a set)
        matches.sort(key=lambda found: (-found[0].weight, found[0].pattern.pattern, found[0].translation))
        best: tuple[int, str] | None = None
        for template, matched in matches[:MAX_WEIGHED]:
            nested, filled = self._fill(template, matched, depth)
            if best is None or template.weight + nested > best[0]:
                best = (template.weight + nested, filled)
        # "A; B": whole messages joined (fetch's swarm summary), each translated, when every one is a message of
        # the catalog: a title with a "; " in it ("Almaty; VERIFIED ...") brings no message of its own before it.
        # Short lines only: each clause is matched on its own, and a long one would cost as many lines.
        clauses = _clauses(text) if len(text) <= MAX_CLAUSES_TEXT else [text]
        if 1 < len(clauses) <= MAX_SPLITS and depth < MAX_DEPTH:
            done = [self.weighed(clause, depth + 1) for clause in clauses]
            weight = sum(d[0] for d in done if d is not None) + 2 * (len(clauses) - 1)
            if all(d is not None and d[0] > 0 for d in done) and (best is None or weight > best[0]):
                best = (weight, "; ".join(d[1] for d in done if d is not None))  # the most literal text wins
        name, colon, rest = text.partition(": ")  # "PATH: REASON" as an error names a file: no template of its own
        if colon and DATA_OPEN in text and _inside_data(text, len(name)):
            colon = ""
        if colon and depth < MAX_DEPTH and (" " not in name or _file_like(name)):
            inner = self.weighed(rest, depth + 1)
            if inner is not None and (best is None or len(colon) + inner[0] > best[0]):
                best = (len(colon) + inner[0], f"{name}{colon}{inner[1]}")
        return best

    def _wide(self, wide: re.Pattern[str], text: str, depth: int) -> re.Match[str] | None:
        """A match of a template's wide pattern whose leading value holds ": " and is a whole message of the
        catalog ("an AVIF image: its metadata cannot be removed here"), or None: "PATH: KIND" is none."""
        matched = wide.fullmatch(text)
        if matched is None or ": " not in matched[1] or (DATA_OPEN in text and _inside_data(text, matched.end(1))):
            return None
        return matched if self.weighed(matched[1].strip(), depth + 1) is not None else None

    def _candidates(self, text: str) -> list[Template]:
        found = [t for n in self._starts for t in self.by_start.get(text[:n], ())]
        found += [t for n in self._ends if len(text) >= n for t in self.by_end.get(text[-n:], ())]
        found += [t for t in self.floating if t.anchor in text]
        return found

    def _fill(self, template: Template, matched: re.Match[str], depth: int) -> tuple[int, str]:
        """The translation with its values in place, and how much literal text the values' own templates matched
        (so that "PATH: 1 file(s) failed: changed: X" is taken whole, not as "PATH: 1 file(s) failed" and a
        translated "changed: X")."""
        values = dict(zip(template.names, matched.groups(), strict=False))
        nested = 0
        for name, value in values.items():
            if name in NESTED and depth < MAX_DEPTH:
                inner = self.weighed(value.strip(), depth + 1)
                if inner is not None:
                    nested += inner[0]
                    values[name] = _refit(value, inner[1])
            elif name in template.decimals and _DECIMAL.fullmatch(value):  # 12.5 s: 12,5 с (no catalog here is
                values[name] = value.replace(",", "\u00a0").replace(".", ",")  # in a language with a point)
        out: list[str] = []
        for literal, field, _, _ in _FORMATTER.parse(template.translation):
            out.append(literal)
            if field is not None:
                out.append(values.get(field, "{" + field + "}"))
        return nested, "".join(out)


def _file_like(name: str) -> bool:
    """Whether `name`, which holds a space, reads as a file's name: an extension at its end ("Алматы 2022.7z",
    "my photos/a b.jpg"). Other words before ": " are not taken for a name."""
    extension = name.rpartition(".")[2] if "." in name else ""
    return 0 < len(extension) <= 8 and extension.isalnum() and not extension.isdigit()  # .7z, not "version 2.0"


def _literal(template: str) -> str:
    """The text of a template without placeholders: doubled braces undoubled."""
    return template.replace("{{", "{").replace("}}", "}")


def _head(template: str) -> str:
    """The literal text before the first placeholder."""
    out = []
    for literal, field, _, _ in _FORMATTER.parse(template):
        out.append(literal)
        if field is not None:
            break
    return "".join(out)


def _tail(template: str) -> str:
    """The literal text after the last placeholder ("" when it ends with one)."""
    out: list[str] = []
    for literal, field, _, _ in _FORMATTER.parse(template):
        out = [] if field is not None else [*out, literal]
    return "".join(out)


def _refit(original: str, translated: str) -> str:
    """A translated value in the room the original took: its surrounding spaces, its padding width."""
    stripped = original.strip()
    if translated == stripped:
        return original
    lead = original[: len(original) - len(original.lstrip())]
    width = len(original) - len(lead)
    return lead + translated.ljust(width if original.endswith(" ") else 0)
