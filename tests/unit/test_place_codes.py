"""Codes that name a place in the author's text: plus codes, what3words, Organic Maps' links (privacy/placecodes.py,
privacy/places.py)."""

from __future__ import annotations

import pytest

from helpers import assert_linear, assert_same_as_everywhere
from mirror.privacy import placecodes
from mirror.privacy.identifiers import scan_text


@pytest.mark.parametrize(("text", "kind"), [
    ("Встречаемся: 8HHQ6Q3W+9R", "coordinates"),  # a full plus code: about 14 m
    ("8HHQ6Q3W+9RV.", "coordinates"),
    ("6Q3W+9R Almaty", "coordinates"),  # a short one, with the town it is read in
    ("6Q3W+9R, Алматы", "coordinates"),
    ("https://plus.codes/8HHQ6Q3W+9R", "coordinates"),  # the link plus.codes shares
    ("https://www.google.com/maps/place/8HHQ6Q3W%2B9R", "coordinates"),
    ("https://www.google.com/maps/search/8HHQ6Q3W+9R", "coordinates"),
    ("https://omaps.app/o4B4pYZsRs/Place", "map-link"),  # Organic Maps' Share
    ("http://ge0.me/o4B4pYZsRs/Name", "map-link"),  # MAPS.ME's
    ("Мы у ///filled.count.soap", "map-link"),  # what3words: a 3 m square
    ("///школа.окно.река", "map-link"),  # in Russian
    ("https://w3w.co/filled.count.soap", "map-link"),
    ("https://what3words.com/filled.count.soap", "map-link"),
    ("w3w.co/filled.count.soap", "map-link"),  # typed without its scheme
    ("Адрес: what3words.com/filled.count.soap", "map-link"),
    ("https://map.what3words.com/filled.count.soap", "map-link"),  # the older site's
])
def test_codes_that_name_a_place(text: str, kind: str) -> None:
    assert [f.kind for f in scan_text(text, "a.md")] == [kind]


@pytest.mark.parametrize("text", [
    "8HHQ6Q3W+",  # no digits after the +: about 300 m
    "8HHQ0000+",  # padded: a district or more
    "6Q3W+9R",  # a short code with no town: judged too weak alone (see docs/privacy.md)
    "2345+67 Total",  # sums
    "23456789+22",
    "aGVsbG8HHQ6Q3W+9RVb3JsZA==",  # inside base64
    "x8HHQ6Q3W+9R",
    "https://omaps.app/",
    "https://omaps.app/abc",  # too short to be a place's code
    "file:///usr.share.doc",
    "/// see.also.this",
    "///a.b",
    "///os.path.join(x)",
    "see ///www.gnu.org/licenses",
    "https://notw3w.co/filled.count.soap",
])
def test_look_alikes_of_codes_that_name_a_place(text: str) -> None:
    assert scan_text(text, "a.md") == []


def test_the_search_by_plus_signs_finds_what_a_search_at_every_position_finds() -> None:
    """plus_codes() reads only around a "+" and two code digits: on texts dense with near-codes it finds what
    trying the full and the short pattern at every position finds (the full one first where both begin)."""
    def everywhere(text: str) -> list[tuple[str, int, int]]:
        found: list[tuple[str, int, int]] = []
        for at in range(len(text)):
            match = placecodes._FULL.match(text, at) or placecodes._SHORT.match(text, at)
            if match is None or (found and match.start() < found[-1][2]):
                continue
            if match.group().strip("23456789+") == "":
                continue
            found.append((match.group(), match.start(), match.end()))
        return found

    pieces = [*"2CXa+/ ,", "8HHQ6Q3W", "+9R", "6Q3W", " Almaty", ", Алматы", "+", "0000", "8HHQ6Q3W+9R", "6Q3W+9R",
              " ", " ", "9", "plus.codes/"]
    assert_same_as_everywhere(placecodes.plus_codes, everywhere, pieces, seed=175, rounds=300, longest=400, least=100)


@pytest.mark.parametrize("unit", ["8HHQ6Q3W+", "6Q3W+9R ", "+9R", "///a.b.", "///abc", "https://w3w.co/a.b.",
                                  " w3w.co/a.b."])
def test_time_is_linear_in_hostile_text(unit: str) -> None:
    """Four times the text costs about four times the time (as test_places' test of the same name measures)."""
    assert_linear(lambda text: (placecodes.plus_codes(text), placecodes.what3words(text)), unit)


@pytest.mark.parametrize("text", ["Мы у ///filled.count.soap", "https://w3w.co/filled.count.soap",
                                  "///школа.окно.река"])
def test_a_what3words_address_is_masked_whole(text: str) -> None:
    """Its words are a dictionary's: two letters at each end and each word's length ("///fi••••.•••••.••ap", as the
    first cut showed it) leave a few thousand addresses, a few of them in the town the account is about."""
    [finding] = scan_text(text, "a.md")
    shown = finding.detail.split(": ", 1)[1]
    assert shown.endswith("/•••.•••.•••"), shown
    words = text.rsplit("/", 1)[1].replace(".", "")
    assert not set(words) & set(shown.rsplit("/", 1)[1]), shown
