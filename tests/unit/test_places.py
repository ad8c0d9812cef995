# ruff: noqa: RUF001  (primes and Cyrillic hemisphere letters are meant)
"""Coordinates and payment card numbers in the author's text are identifiers (privacy/places.py)."""

from __future__ import annotations

import pytest

from helpers import assert_linear, assert_same_as_everywhere
from mirror.privacy import places
from mirror.privacy.identifiers import scan_text
from mirror.privacy.places import card_numbers, coordinates, luhn_valid


@pytest.mark.parametrize(("text", "value"), [
    ("Мы прятались здесь: 43.238949, 76.889709, в подвале.", "43.238949, 76.889709"),  # as maps copy them
    ("43.238949 76.889709", "43.238949 76.889709"),
    ("-33.868820, 151.209290", "-33.868820, 151.209290"),
    ("https://www.google.com/maps/@43.2389,76.8897,17z", "43.2389,76.8897"),
    ("https://2gis.kz/almaty/geo/70000001/76.889709%2C43.238949", "76.889709%2C43.238949"),  # longitude first
    ("https://yandex.kz/maps/?ll=76.889709%2C43.238949&z=17", "76.889709%2C43.238949"),
    ("https://www.openstreetmap.org/#map=17/43.23895/76.88971", "43.23895/76.88971"),  # after the zoom
    ("https://www.openstreetmap.org/?mlat=43.23895&mlon=76.88971", "43.23895&mlon=76.88971"),
    ("43°14'20.2\"N 76°53'22.9\"E", "43°14'20.2\"N 76°53'22.9\"E"),
    ("43°14′20″ с. ш. 76°53′23″ в. д.", "43°14′20″ с. ш. 76°53′23″ в. д."),
    ("43,2389° с. ш., 76,8897° в. д.", "43,2389° с. ш., 76,8897° в. д."),
    ("N43.2389 E76.8897", "N43.2389 E76.8897"),
    ("Мы были здесь: 43,238949; 76,889709", "43,238949; 76,889709"),  # decimal commas, as Russian writes them
    ("43,238949 76,889709", "43,238949 76,889709"),
    ("43°14.34'N 76°53.38'E", "43°14.34'N 76°53.38'E"),
    # Google Maps' right-click menu copies every digit of a double; its links hold them too
    ("43.23894977012345, 76.88970938451234", "43.23894977012345, 76.88970938451234"),
    ("https://www.google.com/maps/place/X/@48.85837009999999,2.2944813,17z", "48.85837009999999,2.2944813"),
    ("43.238900, 76.889709", "43.238900, 76.889709"),  # a GPS reading's last digits are 00 once in a hundred
    ("43.2389, 76.889700", "43.2389, 76.889700"),
    # named: JSON (a Telegram export's location, on lines of their own), and in words
    ('{"lat": 43.238949, "lon": 76.889709}', '43.238949, "lon": 76.889709'),
    ('"location_information": {\n    "latitude": 43.238949,\n    "longitude": 76.889709\n   }',
     '43.238949,\n    "longitude": 76.889709'),
    ("Широта: 43.238949\nДолгота: 76.889709", "43.238949\nДолгота: 76.889709"),
    ("широта 43.238949, долгота 76.889709", "43.238949, долгота 76.889709"),
    # short names with only a space after them, each number named
    ("lat 43.238949 lon 76.889709", "43.238949 lon 76.889709"),
    ("Lat 43,238949, Lng 76,889709", "43,238949, Lng 76,889709"),
    ("lon 76.8897 lat 43.2389", "76.8897 lat 43.2389"),
    # a photo's GPS as exiftool prints it ("deg" for the sign), its composite line or its two lines padded
    ("GPS Position                    : 43 deg 14' 20.22\" N, 76 deg 53' 22.95\" E",
     "43 deg 14' 20.22\" N, 76 deg 53' 22.95\" E"),
    ("GPS Latitude                    : 43 deg 14' 20.22\" N\nGPS Longitude                   : 76 deg 53' 22.95\" E",
     "43 deg 14' 20.22\" N\nGPS Longitude                   : 76 deg 53' 22.95\" E"),
    ("33 deg 52' 7.75\" S, 151 deg 12' 40.41\" E", "33 deg 52' 7.75\" S, 151 deg 12' 40.41\" E"),
    # tabs, as a spreadsheet's row or a photo viewer's table is copied
    ("Latitude\t43° 14' 20.22\" N\nLongitude\t76° 53' 22.95\" E", "43° 14' 20.22\" N\nLongitude\t76° 53' 22.95\" E"),
    ("Бостандык\t43.238949\t76.889709\t05.01.2022", "43.238949\t76.889709"),
    ("lat\t43.238949\tlon\t76.889709", "43.238949\tlon\t76.889709"),
    # degrees and decimal minutes without the minutes' sign, as a GPS receiver or a geocache gives them
    ("N 43° 14.337 E 076° 53.382", "N 43° 14.337 E 076° 53.382"),
    ("43° 14.337, 76° 53.382", "43° 14.337, 76° 53.382"),
    # ... or with a space alone after the degrees, a hemisphere before them, as a Garmin's list of points writes them
    ("N43 14.337 E076 53.382", "N43 14.337 E076 53.382"),
    ("Точка: С43 14.337 В76 53.382", "С43 14.337 В76 53.382"),
    # Kazakh's names in Latin letters
    ("Endik: 43.238949, Boilyq: 76.889709", "43.238949, Boilyq: 76.889709"),
    ("endik 43.2389\nboylyk 76.8897", "43.2389\nboylyk 76.8897"),
])
def test_coordinates_precise_enough_to_find_a_building_are_found(text: str, value: str) -> None:
    assert [found[0] for found in coordinates(text)] == [value]
    assert [f.kind for f in scan_text(text, "a.md")] == ["coordinates"]


@pytest.mark.parametrize("text", [
    "43.24, 76.89",  # a district, not a house
    "43 14.337 76 53.382",  # degrees and minutes with only spaces need their hemispheres: a table's columns
    "43°14′N 76°53′E",  # whole minutes: about 2 km
    "цена 12.5000, 13.7500",  # figures padded with zeros
    "12.3400, 45.6700",
    "x=12.3456, y=45.6789",
    "Long 12.3456 long 45.6789",
    "x 12.3456 lon 45.6789",  # a bare short name counts only after the other one
    "flat 12.3456 lon 45.6789",
    "1.2345 2.3456",  # a table's columns
    "0.3127,0.3290",  # a colour's white point
    "91.12345, 181.12345",  # out of range
    "в 2022 году 43,5, 76,2",
    "12,345 67,890",  # sums grouped by thousands
    "version 1.2.3.4567, 2.3456",
    "43°75'10\"N 76°53'22\"E",  # no such minute
    "43 deg 14' N, 76 deg 53' E",  # whole minutes, as exiftool prints them
    "1.2345\t2.3456",  # a table's columns, a tab between
    "12.3456\t45.6789",
    "1,234567,\t2,345678,\t3,456789",  # a list of figures
    "rotated 45 deg 30' 12\" clockwise",  # one angle
    "угол 45° 30.25, 60° 15.75",  # minutes of two decimals without their sign: angles
    "43° 14 76° 53",
])
def test_figures_that_are_no_place_are_not_coordinates(text: str) -> None:
    assert coordinates(text) == []


@pytest.mark.parametrize("text", [
    "Помощь семье: Kaspi Gold 4400 4302 1234 5679",
    "карта 4400-4302-1234-5679",
    "4400430212345679",
    "Amex 3782 822463 10005",
    "Мир 2200 1234 5678 9012 341",  # 19 digits
    "4400  4302  1234  5679",  # two spaces between the groups, an en dash, a spaced dash
    "4400–4302–1234–5679",
    "4400 - 4302 - 1234 - 5679",
])
def test_card_numbers_with_their_check_digit_are_found(text: str) -> None:
    assert len(card_numbers(text)) == 1
    [finding] = scan_text(text, "a.md")
    assert finding.kind == "card-number"
    assert "5679" not in finding.detail and "1234" not in finding.detail  # masked


@pytest.mark.parametrize("text", [
    "4400 4302 1234 5678",  # the check digit is wrong
    "4111 1111 1111 1111",  # everyone's example
    "build 20150811100527",  # a time stamp, 14 digits
    "id 44004302123456790",  # 17 digits
    "sha 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "1,4400430212345679",
])
def test_numbers_that_are_no_card_are_not_cards(text: str) -> None:
    assert card_numbers(text) == []


@pytest.mark.parametrize(("text", "count"), [
    ("2024 4400 4302 1234 5679", 0),  # a row of five groups of four: a table's, as far as anyone can tell
    ("5 4400 4302 1234 5679", 1),  # another number before it in the same run of digits
    ("4400 4302 1234 5679 123", 1),  # ... and a CVV or a sum after it (no card of 19 digits)
    ("4400 4302 1234 5679 500 тг", 1),
    ("4400 4302 1234 5679 4400 4302 1234 5679 4400 4302 1234 5679", 3),  # side by side, and past _RUN's 41 digits
    ("Реквизиты 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 4400 4302 1234 5679", 1),
    ("2015 2016 2017 2018 2019 2020", 0),  # a table's row of years (one in six such rows was a card)
    ("1990 1991 1992 1993 1994", 0),
])
def test_a_card_among_other_numbers(text: str, count: int) -> None:
    assert [f.kind for f in scan_text(text, "a.md")] == ["card-number"] * count


def test_a_card_is_no_iin() -> None:
    """A card's first twelve digits that happen to make a valid IIN (one card in a hundred) were reported as an
    IIN; and twelve digits of a fraction as a 12-digit number, not the coordinates they are part of."""
    assert [f.kind for f in scan_text("Карта 4405 3045 0917 3323 (Айгерим)", "a.md")] == ["card-number"]
    assert [f.kind for f in scan_text("41.47583626066106, 72.160718012333", "a.md")] == ["coordinates"]
    assert [f.kind for f in scan_text("870105300128 4400 4302 1234 5679", "a.md")] == ["12-digit-number",
                                                                                          "card-number"]


@pytest.mark.parametrize("text", [
    "Мы здесь: https://maps.app.goo.gl/X2uV9nQ1pL7s",  # Google Maps' Share
    "https://goo.gl/maps/AbCdEf12345",
    "https://yandex.kz/maps/-/CCUk5Jd0-B",  # Yandex Maps' Share
    "https://go.2gis.com/abcd1",  # 2GIS's
    "https://www.osm.org/go/xxAb~",
    # without the scheme, as a messenger shows a link and an author retypes it
    "Мы здесь: maps.app.goo.gl/X2uV9nQ1pL7s", "goo.gl/maps/AbCdEf12345", "(yandex.kz/maps/-/CCUk5Jd0-B)",
    "www.yandex.ru/maps/-/CCUk5Jd0-B", "go.2gis.com/abcd1", "osm.org/go/xxAb~", "omaps.app/o4B4pYZsRs",
    "ge0://B4srhdHVVt/Almaty", "Открой om://o4B4pYZsRs",  # MAPS.ME's and Organic Maps' own links, as the apps share
])
def test_a_maps_short_link_is_a_place(text: str) -> None:
    """What a map app's Share button gives holds no coordinates, and opens on the same place."""
    assert [f.kind for f in scan_text(text, "a.md")] == ["map-link"]


@pytest.mark.parametrize("text", [
    "https://example.com/go.2gis.com/abcd1",  # a path of another site's
    "xmaps.app.goo.gl/X2uV9nQ1pL7s", "old.osm.org/go/xxAb~",  # other hosts
    "maps.app.goo.gl/ab", "https://goo.gl/AbCdEf12345",  # too short a code; a short link to anything
    "atom://abcdefghij", "ge0://ab",  # another scheme; too short a code
])
def test_look_alikes_of_a_maps_short_link_are_none(text: str) -> None:
    assert places.map_links(text) == []


def test_luhn() -> None:
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")


def test_hidden_separators_do_not_hide_a_place_or_a_card() -> None:
    """The finder reads the text as the page shows it: a zero-width space inside, thin spaces between the groups."""
    found = scan_text("43.2389\u200b49, 76.889709 и 4400\u202f4302\u202f1234\u202f5679", "a.md")
    assert [f.kind for f in found] == ["coordinates", "card-number"]


def test_a_phone_number_is_not_also_a_card() -> None:
    found = scan_text("+7 701 123 45 67 и 8 701 123 45 67", "a.md")
    assert {f.kind for f in found} == {"phone"}


@pytest.mark.parametrize("unit", ["1 ", "43°", "43°14'", "N 4", "12.5000, ", "1.123 ", "-1,", "4400 ", "https://",
                                  "4400.", "4400/", "!3d1.1234", "43,238949, ", "1 deg ", "43 deg 14' ",
                                  "1.12345\t", "\nGPS Longitude          : 1.1234", "goo.gl/maps/x ",
                                  "maps.app.goo.gl/", "$GPGGA,", "$GPRMC,1234.5,N,", "\nB1234567", "B"])
def test_time_is_linear_in_hostile_text(unit: str) -> None:
    """Four times the text costs about four times the time, never the sixteen times of a search that backtracks
    over what it read (helpers.assert_linear)."""
    def search(text: str) -> None:
        coordinates(text)
        card_numbers(text)
        card_numbers(text, [])  # the slashed ones, which are read without runs
        places.map_links(text)
        places.receiver_fixes(text)

    assert_linear(search, unit)


def test_the_search_by_hints_finds_what_a_search_at_every_position_finds() -> None:
    """coordinates() reads only windows around a fraction or a degree sign: on texts dense with near-pairs, longer
    than its windows, it finds exactly what trying _PAIR at every position finds (the first cut missed a pair
    that a window cut, and took a shorter match inside it)."""
    def everywhere(text: str) -> list[tuple[str, int, int]]:
        found, at = [], 0
        while (match := places._PAIR.search(text, at)) is not None:
            if places._accepted(text, match):
                found.append((match.group(), match.start(), match.end()))
                at = match.end()
            else:
                at = match.start() + 1
        return found

    pieces = [*"0123456789.,° '\"NEс. ш-/%2Cx\n", "43.238949", "76.889709", "°14'20.2\"", ", ", "с. ш.", " " * 7,
              '"lon": ', "\n    \"longitude\": ", "\nДолгота: ", "широта ", "43.23894977012345", "!3d", "!4d", "!2d",
              "43,238949", "76,889709", ", ", "lat ", " lon ", "Long ", "\t", " deg ", "14' 20.22\" N",
              "\nGPS Longitude" + " " * 19 + ": ", "\nGPS Latitude : ", "Endik: ", "boilyq\t", "lat\t", "\tlon\t",
              "43 deg 14' 20.22\" N", "76 deg 53' 22.95\" E", "N 43° 14.337", " E 076° 53.382", "° 14.33"]
    assert_same_as_everywhere(coordinates, everywhere, pieces, seed=53, rounds=400, longest=1500, least=300)


@pytest.mark.parametrize(("text", "value"), [
    # Google Maps' data parameter alone (a place's page, an embedded map's pb=): no @lat,lon in the link
    ("https://www.google.com/maps/place/X/data=!4m6!3m5!1s0x0:0x1!8m2!3d43.2389498!4d76.8897091!16s",
     "43.2389498!4d76.8897091"),
    ("https://www.google.com/maps/embed?pb=!1m18!1m12!1m3!1d2906.5!2d76.8897091!3d43.2389498!2m3!1f0",
     "76.8897091!3d43.2389498"),
    # other apps' long links, caught by the pair already (written down so that they stay caught)
    ("https://yandex.ru/maps/?pt=76.889709,43.238949&z=17", "76.889709,43.238949"),
    ("https://yandex.kz/maps/162/almaty/?whatshere%5Bpoint%5D=76.889709%2C43.238949&whatshere%5Bzoom%5D=17",
     "76.889709%2C43.238949"),
    ("https://yandex.kz/maps/?whatshere[point]=76.889709,43.238949&whatshere[zoom]=17", "76.889709,43.238949"),
    ("https://2gis.kz/almaty?m=76.889709%2C43.238949%2F17", "76.889709%2C43.238949"),
    ("https://2gis.kz/almaty/geo/76.889709,43.238949", "76.889709,43.238949"),
    ("https://maps.apple.com/?ll=43.238949,76.889709", "43.238949,76.889709"),
    ("https://maps.apple.com/?q=43.238949,76.889709", "43.238949,76.889709"),
    ("https://maps.apple.com/?sll=43.238949,76.889709&z=10", "43.238949,76.889709"),
    ("https://osmand.net/go.html?lat=43.23895&lon=76.88971&z=16", "43.23895&lon=76.88971"),
    ("geo:43.2389,76.8897", "43.2389,76.8897"),
    ("geo:0,0?q=43.238949,76.889709(Home)", "43.238949,76.889709"),
    # decimal commas with a comma and a space between, five decimals or more, nothing like a sum around
    ("Мы были тут: 43,238949, 76,889709", "43,238949, 76,889709"),
    ("43,23895, 76,88971.", "43,23895, 76,88971"),
    ("05.01.2022 в 18.30 мы были в 43,238949, 76,889709", "43,238949, 76,889709"),  # a date and a time beside it
    ("Шли 1,5 часа и в 18,30 были у 43,238949, 76,889709", "43,238949, 76,889709"),  # decimals of prose beside it
    ("43,238949 , 76,889709", "43,238949 , 76,889709"),  # typed with a space before the comma
    ("43,238949,  76,889709", "43,238949,  76,889709"),  # or two after it
])
def test_more_ways_a_place_is_written(text: str, value: str) -> None:
    assert [found[0] for found in coordinates(text)] == [value]
    assert [f.kind for f in scan_text(text, "a.md")] == ["coordinates"]


def test_places_side_by_side_are_each_a_place() -> None:
    """Only decimal commas need no other number near (a first cut asked it of decimal points too, and lost the
    second of two places side by side)."""
    found = coordinates("43.238949, 76.889709 и 43.241230, 76.891234; 43,238949; 76,889709 и 43,241230; 76,891234")
    assert len(found) == 4


@pytest.mark.parametrize("text", [
    "Мы шли от 43,238949, 76,889709 до 43,240117, 76,891234",
    "43,238949, 76,889709; 43,240117, 76,891234",
])
def test_two_places_with_decimal_commas_side_by_side_are_each_a_place(text: str) -> None:
    """A route, from one place to another: the first cut took each for the other's list of figures, and hid both."""
    assert len(coordinates(text)) == 2


@pytest.mark.parametrize("text", [
    "https://www.google.com/maps/place/X/data=!3d43.24!4d76.89",  # a district
    "https://www.google.com/maps/place/X/data=!3d143.2389!4d276.8897",  # no such place
    "!1d2906.5!2d7.8897091",  # a distance and one number
    "43,238949,76,889709",  # four columns of a CSV file, as far as anyone can tell
    "43,238949 ,76,889709",
    "1,234567 , 2,345678 , 3,456789",
    "1,234567, 2,345678, 3,456789",  # a list of figures
    "Ряд: 1,234567, 2,345678, 3,456789, 4,567891.",
    "сумма 12,345 тг; 43,238949, 76,889709",
    "сумма 12,345, 67,890 и 43,238949, 76,889709",  # sums beside it
    "43,2389, 76,8897",  # four decimals: a comma between is a list's as often
    "1,234,567, 2,345,678",
])
def test_more_figures_that_are_no_place(text: str) -> None:
    assert coordinates(text) == []


@pytest.mark.parametrize("text", [
    "4400.4302.1234.5679",  # dots between the groups
    "карта 4400/4302/1234/5679",  # slashes
    "Humo 9860 1234 5678 9015",  # Uzbekistan's schemes: their numbers end in a Luhn check digit too
    "Uzcard 8600123456789012",
])
def test_more_card_numbers(text: str) -> None:
    assert [f.kind for f in scan_text(text, "a.md")] == ["card-number"]


@pytest.mark.parametrize("text", [
    "2023/2024/2025/2026",  # years (their digits pass the check): no card begins with 20
    "2023 2024 2025 2026",
    "v3.1415.9265.3589",
    "8600 1234 5678 9013",  # wrong check digit
    "4400/4302/1234/5679/1234",  # one more group: a path, or a table's
    # ids in links whose digits happen to end in a valid check digit (one in ten does)
    "https://chromestatus.com/feature/5068609911521280",
    "https://www.facebook.com/permalink.php?story_fbid=5068609911521280&id=100001234567890",
    "https://www.facebook.com/groups/123456789/posts/5068609911521280/",
    "https://www.tiktok.com/@user/video/6123456789012345675",
    "1/4400/4302/1234/5679",
])
def test_more_numbers_that_are_no_card(text: str) -> None:
    assert [f.kind for f in scan_text(text, "a.md") if f.kind == "card-number"] == []


@pytest.mark.parametrize("text", [
    "E1 12.345 E2 12.345",  # two longitudes
    "43 14.337 E 76 53.382 N",  # a longitude, then a latitude, the hemispheres after
    "W3 10.500 N2 13.750",  # a longitude, then a latitude
    "Версия E7 12.104, N2 10.101",
])
def test_degrees_and_a_space_need_their_own_axis_hemisphere_before_them(text: str) -> None:
    """'N43 14.337 E076 53.382' has only its hemispheres to mark it: a latitude's with the first number, a
    longitude's with the second (a pair with degree signs needs no such check); before or after each. '43 14.337
    с. ш. 76 53.382 в. д.' was read from 14.337 (the latitude's "с. ш." taken for the longitude's), then not at all
    (helper-189): it is the whole pair."""
    assert coordinates(text) == []
    for whole in ("43 14.337 с. ш. 76 53.382 в. д.", "43 14.337 N 76 53.382 E", "43 14.337N 76 53.382E"):
        assert [found[0] for found in coordinates(whole)] == [whole]
    assert [found[0] for found in coordinates("С43 14.337 В76 53.382")] == ["С43 14.337 В76 53.382"]
    assert [found[0] for found in coordinates("ю. ш. 43 14.337 з. д. 76 53.382")] == [
        "ю. ш. 43 14.337 з. д. 76 53.382"]


@pytest.mark.parametrize(("text", "value"), [
    ("$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47", "4807.038,N,01131.000,E"),
    ("2022-01-05 12:00:01 $GNRMC,083559.00,A,4315.11437,N,07653.91522,E,0.004,77.52,050122,,,A*57",
     "4315.11437,N,07653.91522,E"),
    ("a log\nB1101355206343N00006198WA0058700558\n", "5206343N00006198W"),
])
def test_a_gps_receivers_position_is_a_place(text: str, value: str) -> None:
    """NMEA sentences and IGC fixes, a GPS log or one line of it pasted into an account, were called CLEAN."""
    assert [fix[0] for fix in places.receiver_fixes(text)] == [value]
    assert "coordinates" in {f.kind for f in scan_text(text, "track.md")}


@pytest.mark.parametrize("text", ["I paid $GPGGA fees", "$GPGGA,,,,,,0,00,,,M,,M,,*66 (no fix yet)",
                                  "B12 vitamins", "Bus 1234567890123 left at 9"])
def test_what_only_looks_like_a_receivers_line_is_no_place(text: str) -> None:
    assert places.receiver_fixes(text) == []


@pytest.mark.parametrize("text", ["43º14'20\"N 76º53'20\"E", "43˚14'20\"N 76˚53'20\"E",
                                  "43 deg 14' 20\" N 76 deg 53' 20\" E"])
def test_degrees_without_a_point_or_a_comma_are_a_place(text: str) -> None:
    """Degrees marked by º or ˚ (what keyboards type for °) or exiftool's "deg", seconds whole, no point or comma
    anywhere: coordinates() found them, the finder never asked it (it looked only when the text held ".", "," or
    "°")."""
    assert [f.kind for f in scan_text(text, "a.md")] == ["coordinates"]
