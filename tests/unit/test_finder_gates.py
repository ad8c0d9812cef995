"""The identifier finder's quick looks say no only where its searches find nothing: each checked against the search
it spares, on texts made to sit at their edges (bench/finder_diff.py compares a whole finder against another
commit's on some 100,000 texts and names)."""

from __future__ import annotations

import random
import re

import pytest

from mirror.privacy import identifiers as ids

PIECES = ("0", "1", "7", "8", "000123", "701", "123 45 67", "87011234567", "870105300128", "4400 4302 1234 5679",
          "KZ86125KZT5004100100", "GB31ABCD12AB34CD56EF78", "kz86 125k", "45 08 № 123456", "43.238949", "76.889709",
          "43°14'20\"N", "43º14'20\"N", " deg ", "+",
          "@", " @ ", "(at)", "[dot]", "dot", " собака ", "mail", ".kz", "/", "///", "$GPGGA,", "B", "№", "тел. ",
          "Тел: ", "phone ", "WhatsApp ", "паспорт ", "ID card ", "N", "goo.gl/", "w3w.co/", "8HHQ6Q3W+9R", "6Q3W+9R",
          " Almaty", "accounts/", "photos/", ".md", "_", "-", "(", ")", " ", "\t", "\n", "\r\n", "\n> ", ":", ";",
          ",", ".", "O", "о", "\u0665", "\uff18", "\U0001d7d8", "\u200b", "\u00ad", "\U000e0020", "\U000e0101",
          "\U0001f600", "&#56;", "&#8203;", "%40", "%2B", "\\", "*", "`", "\u2009", "\u2212", "\u00a0", "\u2013",
          "\uff20", "\u1c84", "\u017f", "\u212a", "a", "Дана", "x")


def _texts(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(PIECES) for _ in range(rng.randint(1, 12))) for _ in range(count)]


def test_nothing_to_find_is_said_only_where_the_finder_finds_nothing() -> None:
    """_nothing_to_find spares the finder's searches (a million file names): where it says so, they find nothing."""
    finder = ids.Finder()
    spared = 0
    for text in _texts(11, 20_000):
        view = ids.readable((ids._shown(text) or (text, []))[0])[0]
        if ids._nothing_to_find(view):
            spared += 1
            assert finder._find(view) == [], text
    assert spared > 2000  # (the texts hold enough of both)


_OLD_WRAP_HINT = re.compile(r"[\d)-][ \t\u00a0]*(?:\r\n|\r|\n)[ \t>]*\d")  # searched from the digit


def test_a_wrapped_number_is_looked_for_where_it_was() -> None:
    """_wrap_hint, searched from the line break, says what a search from the digit, bracket or dash said."""
    for text in [*_texts(12, 20_000), "5\r\r\n6", "5 \u00a0\t\r\n> 6", "-\n6", ")\n\t>6", "\u0665\n\u0666", "a\n6"]:
        assert ids._wrap_hint(text) == (_OLD_WRAP_HINT.search(text) is not None), text


def test_a_word_that_says_a_phone_is_looked_for_where_it_may_end() -> None:
    """_said_local looks for the words only after what _SAID_LOCAL may end with: the same answer everywhere."""
    for text in _texts(13, 3000):
        for start in range(len(text) + 1):
            expected = ids._SAID_LOCAL.search(text, max(0, start - 24), start) is not None
            assert ids._said_local(text, start) == expected, (text, start)


def _shown_everywhere(text: str) -> tuple[str, list[tuple[int, int]]] | None:
    """`_shown` with every position a candidate (its pieces all begin with a character of the old class)."""
    everywhere = re.compile(r".", re.DOTALL)
    saved = ids._SHOWN_SHORTER
    try:
        ids._SHOWN_SHORTER = everywhere
        return ids._shown(text)
    finally:
        ids._SHOWN_SHORTER = saved


@pytest.mark.parametrize("seed", [14, 15])
def test_what_shows_shorter_is_read_with_characters_beyond_the_bmp(seed: int) -> None:
    """One class with every character beyond the BMP finds what the invisible ones of both planes did: tags
    (U+E0020...), variation selectors (U+E0101), emoji and mathematical digits beside them."""
    for text in _texts(seed, 5000):
        assert ids._shown(text) == _shown_everywhere(text), text


def test_runs_of_digits_are_the_runs_they_were() -> None:
    """_RUN, begun with a class sre skips to, finds the runs `(?:\\+\\d|\\d)...` found, "+" and digits of any script."""
    old = re.compile(r"(?:\+\d|\d)(?:[ \t\u00a0().\-\u2010-\u2015]{0,3}+\d){6,40}+")
    for text in [*_texts(16, 20_000), "++1234567", "+ 1234567", "1" * 100, "+\u0665" * 9]:
        assert [m.span() for m in ids._RUN.finditer(text)] == [m.span() for m in old.finditer(text)], text
