"""A bank account's IBAN in the author's text is an identifier (privacy/banks.py): a request for a transfer gives
one, and a bank shows its holder's name to whoever sends money to it."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from helpers import assert_linear, assert_same_as_everywhere
from mirror.privacy import banks
from mirror.privacy.banks import ibans
from mirror.privacy.identifiers import mask, scan_text

_FULL_WIDTH = "KZ84722C000012345678".translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})


@pytest.mark.parametrize(("text", "value"), [
    ("Счёт: KZ86125KZT5004100100 (Halyk)", "KZ86125KZT5004100100"),  # the registry's example for Kazakhstan
    ("IBAN KZ84722C000012345678, Kaspi", "KZ84722C000012345678"),
    ("Перевод на счёт KZ84 722C 0000 1234 5678 (Kaspi Gold)", "KZ84 722C 0000 1234 5678"),  # as banks print it
    ("ЖСК:\u00a0KZ16601A871001234567", "KZ16601A871001234567"),
    ("Реквизиты: RU0304452522540817810538091310419", "RU0304452522540817810538091310419"),
    ("IBAN UA743052990000026007233566001", "UA743052990000026007233566001"),
    ("GE29NB0000000101904917 (TBC)", "GE29NB0000000101904917"),
    ("GB82 WEST 1234 5698 7654 32.", "GB82 WEST 1234 5698 7654 32"),
    ("photo_KZ84722C000012345678_receipt", "KZ84722C000012345678"),  # a file name's "_" is a space
    # Kazakhstan's as people retype one: small letters, Cyrillic look-alikes, full-width digits, a dash or two spaces
    # between groups, a line break inside
    ("Скинь на kz84722c000012345678 пожалуйста", "kz84722c000012345678"),
    ("Счёт КZ84 722С 0000 1234 5678", "КZ84 722С 0000 1234 5678"),
    (_FULL_WIDTH, _FULL_WIDTH),
    ("KZ84-722C-0000-1234-5678", "KZ84-722C-0000-1234-5678"),
    ("KZ84  722C 0000 1234  5678", "KZ84  722C 0000 1234  5678"),
    ("IBAN KZ84 722C 0000\n> 1234 5678", "KZ84 722C 0000\n> 1234 5678"),  # a quoted, wrapped e-mail
    ("IBAN KZ84722C00001\n2345678.", "KZ84722C00001\n2345678"),
    ("İlyas: kz84722c000012345678", "kz84722c000012345678"),  # İ's lowercase is two characters
])
def test_an_iban_with_right_check_digits_is_found(text: str, value: str) -> None:
    assert [found[0] for found in ibans(text)] == [value]
    findings = scan_text(text, "a.md")
    assert [f.kind for f in findings] == ["iban"]  # its digits are not also a 12-digit number or a phone
    assert mask(value)[:2] == value[:2] and value[4:-2].strip() not in findings[0].detail


@pytest.mark.parametrize("text", [
    "KZ84722C000012345679",  # a check digit wrong
    "KZ84722C0000123456780",  # longer than Kazakhstan's
    "KZ84722C00001234567",  # shorter
    "XKZ84722C000012345678",  # inside a word
    "KZ84722C000012345678X",
    "KZ84 722C 0000 1234 56789",  # the last group longer: no IBAN of Kazakhstan
    "kz84722c000012345679",  # retyped, but a check digit wrong
    "KZ84 722C 0000 1234\n\n5678",  # two line breaks: no longer one number
    "kz8 4722c000012345678",  # a space where no group ends
    "xkz84722c000012345678",
    "QQ84722C000012345678",  # no such country
    "Модель AB12, серия CD34 5678 9012",
    "sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
])
def test_look_alikes_of_an_iban_are_none(text: str) -> None:
    assert ibans(text) == []
    assert "iban" not in [f.kind for f in scan_text(text, "a.md")]


def _shape(country: str, length: int) -> re.Pattern[str]:
    count = length - 4
    groups = rf"(?:[ \u00a0][A-Z0-9]{{4}}){{{count // 4}}}"
    groups += rf"[ \u00a0][A-Z0-9]{{{count % 4}}}" if count % 4 else ""
    return re.compile(rf"(?<![^\W_]){country}[0-9]{{2}}(?:[A-Z0-9]{{{count}}}|{groups})(?![^\W_])")


_SHAPES = [_shape(country, length) for country, length in banks._LENGTHS.items()]


def _everywhere(text: str) -> list[tuple[str, int, int]]:
    """IBANs by a regular expression of each country's shape tried at every position: what ibans() must find."""
    return _at_every_position(text, _SHAPES, str)


def _at_every_position(text: str, shapes: list[re.Pattern[str]], plain: Callable[[str], str]
                       ) -> list[tuple[str, int, int]]:
    """What the first of `shapes` that matches at each position finds, when its value (made `plain`) passes the
    check digits; the search goes on after it."""
    found: list[tuple[str, int, int]] = []
    at = 0
    while at < len(text):
        match = next((m for shape in shapes if (m := shape.match(text, at)) and banks._checked(plain(m.group()))),
                     None)
        if match is None:
            at += 1
        else:
            found.append((match.group(), match.start(), match.end()))
            at = match.end()
    return found


_CHAR = r"(?:\d|[A-Za-z\uff21-\uff3a\uff41-\uff5aАВЕКМНОРСТХУавекмнорстху])"  # noqa: RUF001
_BREAK = r"[ \t]*(?:\r\n|\r|\n)[ \t>]{0,8}"
_GAP = rf"(?:[ \u00a0\t]{{1,2}}|[ \u00a0\t]?-[ \u00a0\t]?|{_BREAK})"
_RETYPED = [re.compile(rf"(?<![^\W_])(?i:kz|кz|\uff4b\uff5a)\d{{2}}(?:{body})(?![^\W_])") for body in (
    [f"{_CHAR}{{16}}"] + [f"{_CHAR}{{{k}}}{_BREAK}{_CHAR}{{{16 - k}}}" for k in range(17)]
    + [f"(?:{_GAP}{_CHAR}{{4}}){{4}}"])]


def _retyped_everywhere(text: str) -> list[tuple[str, int, int]]:
    """Kazakhstan's IBANs as people retype them, by regular expressions tried at every position (the first that
    passes the check: in one run, one line break in it, or grouped)."""
    return _at_every_position(text, _RETYPED, _plain)


def _plain(value: str) -> str:
    chars = [banks._plain(char) for char in value]
    return "".join(char for char in chars if char is not None)


def _all_everywhere(text: str) -> list[tuple[str, int, int]]:
    exact = _everywhere(text)
    retyped = [r for r in _retyped_everywhere(text) if not any(s < r[2] and r[1] < e for _, s, e in exact)]
    return sorted(exact + retyped, key=lambda found: found[1])


def test_retyped_ones_are_found_as_a_search_at_every_position_finds() -> None:
    """Kazakhstan's IBANs retyped (small letters, Cyrillic look-alikes, full-width characters, dashes, two spaces,
    a line break) are found exactly where regular expressions of their shapes tried everywhere find them."""
    pieces = [*"KZkzКк0123456789 C_x\u00a0-\n>\t", "KZ84722C000012345678", "kz84 722c 0000 1234 5678", "КZ84", "722С",
              " 0000", "  0000", "-1234", _FULL_WIDTH[:4], "\n> ", "kz84722c00001\n2345678", "KZ84-722C-0000-1234-5678",
              "5678", "1234", "722c", *[" "] * 8]
    assert_same_as_everywhere(ibans, _all_everywhere, pieces, seed=43, rounds=200, longest=100, least=50)


def test_the_search_finds_what_a_search_at_every_position_finds() -> None:
    """ibans() looks only where two capitals and two digits are, and reads the rest by hand: on texts dense with
    near-IBANs it finds exactly what a regular expression of each country's shape tried everywhere finds."""
    pieces = [*"KZ0123456789 AC_x\u00a0", "KZ84722C000012345678", "KZ84 722C 0000 1234 5678", "KZ84", "722C",
              " 0000", "GB82 WEST 1234 5698 7654 32", "NO9386011117947", "NO93 8601 1117 947", *[" "] * 12]
    assert_same_as_everywhere(ibans, _everywhere, pieces, seed=97, rounds=150, longest=100, least=50)


@pytest.mark.parametrize("unit", ["KZ84 ", "KZ84722C00001234567", "KZ84 722C 0000 1234 567", "AB12", "kz",
                                  "kz84-722c\n> 0000  1234 567", "кz84722c000012345\n"])
def test_time_is_linear_in_hostile_text(unit: str) -> None:
    assert_linear(ibans, unit)
