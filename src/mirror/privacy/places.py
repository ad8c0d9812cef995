# ruff: noqa: RUF001, RUF002, RUF003  (Cyrillic hemisphere letters, primes and quotation marks are meant)
"""A place written as coordinates in text, and a payment card's number: identifiers that are not phone numbers.

Example::

    coordinates("Мы стояли здесь: 43.238949, 76.889709")   # [("43.238949, 76.889709", 17, 38)]
    coordinates("https://www.google.com/maps/@43.2389,76.8897,17z")   # the pair inside the link
    card_numbers("Kaspi Gold 4400 4302 1234 5678")        # [] unless its check digit is right

A photo's GPS position is taken out before it is bundled; the same position typed into an account, or pasted as a
map's link (Google, Yandex, 2GIS, Apple and OsmAnd put it in their addresses, Google also as !3d43.2389!4d76.8897),
says as much: where someone lives, hid, or was.
Found: two decimal numbers in a latitude's and a longitude's range with at least four decimals each (about 10
m), or with a degree sign, a hemisphere (N, E, с. ш., в. д., с. е., ш. б.) or the second one's name ("lon":,
Долгота:, a line below) and three decimals; degrees, minutes and seconds (43°14'20.2"N; exiftool's 43 deg 14'
20.22" N), or minutes with two decimals. A tab counts as a space (a spreadsheet's row, copied). Decimal commas
with a comma between (43,238949, 76,889709) only with five decimals or more each, not in a longer list of such
figures, and with no sum grouped by thousands (12,345) within 40 characters.
Coarser ones (43.24, 76.89: a district) are not.

A map's short link (maps.app.goo.gl/..., yandex.kz/maps/-/..., go.2gis.com/..., osm.org/go/..., maps.apple/p/...,
omaps.app/..., ge0.me/...), what a map app's Share button gives, names a place as well, though no coordinates are in it.

A card number (16 or 19 digits from 22-27 or 3 to 6, Uzcard's 8600 and Humo's 9860, or American Express's 15; the
last a Luhn check digit; in groups of four, with spaces, dashes, points or slashes between, or in one run) names
its holder to anyone who sends money to it (a bank shows the name before a transfer):
a request for help that gives one identifies whoever it is.
"""

from __future__ import annotations

import re

# A hemisphere, before or after its number: N, S, E, W (Latin or Cyrillic С, Ю, В, З), or the Russian and Kazakh
# abbreviations (с. ш., ю. ш., в. д., з. д.; с. е., о. е., ш. б., б. б.)
_HEMI = r"(?:[NSEWСЮВЗ]|[сювзошб]\.[ \u00a0]?[шдеб]\.?)(?![^\W\d_])"  # no letter after it
_SP = r"[ \u00a0]?"
# A fraction's most digits: a double printed in full has up to 17 (Google Maps' right-click menu copies
# 43.23894977012345, 76.88970938451234; its links hold 48.85837009999999); 20 keeps an angle shorter than one in
# degrees, minutes and seconds, which _LONGEST counts
_FRACTION = 20


def _angle(n: int) -> str:
    """An angle: a number with three decimals or more (and a degree sign, or none), or whole degrees and minutes
    (and seconds), the degrees marked by a sign or by " deg " as exiftool prints them (43 deg 14' 20.22" N), the
    minutes' sign left out before a space, as a GPS receiver or a geocache writes them (N 43° 14.337 E 076°
    53.382), or a space alone after degrees that a hemisphere opens or closes, as a Garmin's list writes them
    (N43 14.337 E076 53.382, 43 14.337 N 76 53.382 E); a hemisphere before or after it. What cannot be precise
    enough is not matched at all, so a text of a million small numbers costs no call per number."""
    return (rf"(?:(?P<pre{n}>{_HEMI}){_SP})?(?P<num{n}>-?\d{{1,3}})"
            rf"(?:(?P<frac{n}>[.,]\d{{3,{_FRACTION}}})(?:{_SP}(?P<deg{n}>[°º˚]))?"
            rf"|(?:{_SP}[°º˚]{_SP}| deg |(?(pre{n}) | (?=\d{{1,2}}[.,]\d{{1,9}}{_SP}{_HEMI})))"
            rf"(?P<min{n}>\d{{1,2}}(?:[.,]\d{{1,9}})?)"
            rf"(?:{_SP}(?P<prime{n}>['′’])(?:{_SP}(?P<sec{n}>\d{{1,2}}(?:[.,]\d{{1,9}})?){_SP}(?:[\"″”]|''))?|(?![\d'′’])))"
            rf"(?:{_SP}(?P<post{n}>{_HEMI}))?")


# The second number's name, which marks the pair as one: "lat": 43.238949, "lon": 76.889709 (JSON, a Telegram
# export's "latitude" and "longitude" on lines of their own), Широта: 43.238949 / Долгота: 76.889709 (up to 29;
# Kazakh's ендік and бойлық also in Latin letters, endik and boilyq),
# lat 43.238949 lon 76.889709 (a short name with only a space after it, "bare": only after the other's name, as
# "Long 12.3456 long 45.6789" is no place); exiftool's lines, "GPS Longitude", spaces to its 32nd column, " : "
_LABEL = (r"(?P<label>(?:\r?\n)?[ \t]{0,12}\"?(?i:(?:lat|lon|lng|long)\"?(?:[ \u00a0]?[:=]|(?P<bare>(?=[ \t\u00a0])))"
          r"|(?:latitude|longitude|широта|долгота|ендік|бойлық|end[iı]k|bo[iy]ly[qk])\"?[ \t\u00a0]?[:=]?"
          r"|gps[ \u00a0](?:latitude|longitude)[ \t]{0,24}:)[ \t\u00a0]?)")
_SEPARATOR = (rf"(?P<sep>[ \t\u00a0]{{0,8}}[,;/]?[ \t\u00a0]{{0,8}}{_LABEL}?"
              r"|%2[cC]|&m?l(?:on|ng)=|![34]d)")  # also in a link: %2C, &lon=, Google's !3d43.2389!4d76.8897
# A number begins a pair after no letter, digit, point or comma; or after Google Maps' data parameter's "!3d" (its
# latitude, "!4d" its longitude) or "!2d" (an embedded map's longitude, "!3d" then its latitude)
_PAIR = re.compile(rf"(?:(?<![\w.,])|(?<=![23]d)){_angle(1)}{_SEPARATOR}{_angle(2)}(?!\d|\.\d)")
# Each begins with a literal character, which the engine finds fast
_HINTS = tuple(re.compile(pattern) for pattern in (r"\.\d{3}", r",\d{3}", "°", "º", "˚", " deg "))
# ... so a text with none of these holds no pair: a fraction's point or comma, a degree's sign (°, and the º and ˚
# keyboards type for it), exiftool's " deg "
COORDINATE_MARKS = (".", ",", "°", "º", "˚", " deg ")
_BEFORE = 16  # a hemisphere, a sign and three digits before the hint
_LONGEST = 192  # no pair is longer, with the two characters its end looks at (174 and 2: _PAIR's parts are bounded)
_WINDOW = 4 * _LONGEST  # searched at once from before a hint
_PLAIN_DECIMALS = 4  # an unmarked number's decimals: 4 is about 10 m (3 about 100 m, a city block) ...
_SPACED_DECIMALS = 5  # ... or 5, for two numbers with only a space between them (a table's columns have 4)
_MARKED_DECIMALS = 3
_MINUTE_DECIMALS = 2  # 43°14.34'N: 0.01' is about 20 m
_BARE_MINUTE_DECIMALS = 3  # ... or 3 without the minutes' sign, as a GPS receiver writes them (45° 30.25: an angle)
# 16 digits (Visa, Mastercard, Mir, UnionPay), 19 (Mir, UnionPay, Maestro), 15 (American Express); not 14, which
# a time stamp has (20150811100527)
_CARD_END = r"(?!\w|[.,/]\d)"
# A card's first four digits: Mir's 2200-2204 and Mastercard's 2221-2720 (never 20xx or 21xx, which a row of
# years begins with), 3 to 6, and Uzbekistan's Uzcard (8600) and Humo (9860), whose numbers end in a Luhn check
# digit as every ISO/IEC 7812 card number does
_FIRST = r"(?:2[2-7]\d\d|[3-6]\d{3}|8600|9860)"
# Tried in turn where a group of digits begins (the longest first: a 16-digit card followed by a CVV or a sum,
# "4400 4302 1234 5679 123", is no 19-digit one, and is one of 16)
# Between the groups: a space or two, a dash of any kind (the en dash an editor makes of "-"), spaced or not, a
# point or a slash
_GAP = r"(?:[ \u00a0]{1,2}|[ \u00a0]?[-\u2010-\u2015][ \u00a0]?|[./])"
_CARDS = tuple(re.compile(shape + _CARD_END) for shape in (
    rf"(?:2[2-7]\d\d|[3-6]\d{{3}})(?:{_GAP}\d{{4}}){{3}}{_GAP}\d{{3}}", rf"{_FIRST}(?:{_GAP}\d{{4}}){{3}}",
    rf"3[47]\d\d{_GAP}?\d{{6}}{_GAP}?\d{{5}}", r"(?:2[2-7]|[3-6]\d)\d{17}", rf"{_FIRST}\d{{12}}"))
# Where a group of digits begins, as a card's first does: not after a slash or an "=", a link's path or query
# (chromestatus.com/feature/5068609911521280, story_fbid=..., a TikTok video's 19 digits: one in ten such ids
# ends in a valid check digit), nor after a number and a slash (a date's)
_CARD_START = re.compile(r"(?<![\w.,+/=-])(?:2[2-7]|[3-6]|8600|9860)")
# Four groups of four with slashes between, which the phone finder's runs do not hold: read as runs of their own
SLASHED = r"/\d{4}/\d{4}/\d{4}"
_SLASHED = re.compile(SLASHED)
# A group of four digits right before or after four such groups: a row of a table (years, sums), no card
_GROUP_BEFORE = re.compile(rf"(?<!\d)\d{{4}}{_GAP}")
_GROUP_AFTER = re.compile(rf"{_GAP}\d{{4}}(?!\d)")
Found = tuple[str, int, int]  # value, start, end
# What makes a decimal-comma pair with ", " between no place: a sum grouped by thousands near it (12,345; not a
# decimal such as 1,5 км or 18,30, which Russian and Kazakh prose is full of, nor a date's or a time's point), or a
# precise decimal-comma number joined to it by the same ", " (a list of figures: 1,234567, 2,345678, 3,456789). A
# second place after a word or a ";" (от 43,238949, 76,889709 до 43,240117, 76,891234) is a place too.
_THOUSANDS_NEAR = re.compile(r"(?<!\d)\d{1,3},\d{3}(?!\d)")
_LISTED_BEFORE = re.compile(rf"(?<!\d)\d{{1,3}},\d{{{_SPACED_DECIMALS},}}[ \t\u00a0]*,[ \t\u00a0]*\Z")
_LISTED_AFTER = re.compile(rf"[ \t\u00a0]*,[ \t\u00a0]*-?\d{{1,3}},\d{{{_SPACED_DECIMALS}}}")
_AROUND = 40
# The first number's name, right before it, which a bare second name asks for: the other of the two
_NAME_BEFORE = re.compile(r"(?i:(?<![^\W\d_])([^\W\d_]{3,9})\"?[ \t\u00a0]?[:=]?[ \t\u00a0]?\"?)\Z")
_LATITUDE_NAMES = frozenset({"lat", "latitude", "широта", "ендік"})
_LONGITUDE_NAMES = frozenset({"lon", "lng", "long", "longitude", "долгота", "бойлық"})
_MARKS = ("deg1", "deg2", "pre1", "pre2", "post1", "post2", "label")  # the groups that mark a pair as coordinates


def _decimals(number: str) -> int:
    point = max(number.find("."), number.find(","))
    return 0 if point < 0 else len(number) - point - 1


def _value(match: re.Match[str], n: int) -> float | None:
    """The angle's degrees, if it is precise enough to name a place and its minutes and seconds are in range. An
    unmarked number padded with zeros (12.5000) is a figure: a map gives its digits, and only its digits count
    (43.238900, as a GPS reading gives one in a hundred, is a place)."""
    fraction, minutes, seconds = match[f"frac{n}"], match[f"min{n}"], match[f"sec{n}"]
    degrees = float(match[f"num{n}"])
    if fraction is not None:
        if not any(match.group(*_MARKS)):  # a sign of the pair's
            least = _PLAIN_DECIMALS if match["sep"].strip(" \t\u00a0") else _SPACED_DECIMALS
            # padded with zeros, its digits less them: 12.5000 is a figure (1), 43.238900 a place a GPS gave (4)
            padded = fraction.endswith("00") and len(fraction.rstrip("0")) - 1 < least
            # a decimal comma (43,238949; 76,889709 as Russian and Kazakh write them) with five digits or more, and
            # no comma between the two but one with a space after it (43,238949, 76,889709: `_accepted` then asks
            # that it stand alone, `_alone`): not a sum grouped by thousands (12,345,
            # 67,890), nor a CSV file's four columns (43,238949,76,889709)
            comma = fraction[0] == "," and (len(fraction) - 1 < _SPACED_DECIMALS
                                            or ("," in match["sep"] and not _comma_spaced(match["sep"])))
            if not match["sep"] or comma or len(fraction) - 1 < least or padded:
                return None
        return degrees + (-1 if degrees < 0 or match[f"num{n}"][0] == "-" else 1) * float("0." + fraction[1:])
    if match.string[match.end(f"num{n}"):match.start(f"min{n}")] == " " and not (
            (match["pre1"] or match["post1"] or " ")[0] in "NSСЮсюо"
            and (match["pre2"] or match["post2"] or " ")[0] in "EWВЗвзшб"):
        # degrees with only a space after them (N43 14.337 E076 53.382, 43 14.337 N 76 53.382 E): the hemispheres
        # are all that marks the pair, so both are there, each of its own axis ("E1 12.345 E2 12.345" is none)
        return None
    whole = float(minutes.replace(",", "."))
    least = _MINUTE_DECIMALS if match[f"prime{n}"] else _BARE_MINUTE_DECIMALS
    if whole >= 60 or (seconds is None and _decimals(minutes) < least):
        return None
    if seconds is not None:
        if float(seconds.replace(",", ".")) >= 60:
            return None
        whole += float(seconds.replace(",", ".")) / 60
    return degrees + (-1 if match[f"num{n}"][0] == "-" else 1) * whole / 60


def _hints(text: str) -> list[int]:
    """Where an angle's fraction or degree sign is: every pair holds one within _BEFORE characters of its start.
    Searched for by their first character, which the regular expression engine finds fast (about 1 ms a MB;
    _PAIR itself tries every position, 35 ms a MB)."""
    return sorted(m.start() for pattern in _HINTS for m in pattern.finditer(text))


def coordinates(text: str) -> list[Found]:
    """Every latitude and longitude pair in `text` precise enough to find a building by (see the module)."""
    found: list[Found] = []
    at = 0
    for hint in _hints(text):
        if hint >= at:
            at = _pairs_near(text, max(at, hint - _BEFORE), found)
    return found


# A GPS receiver's own lines: an NMEA sentence with a position ($GPGGA,123519,4807.038,N,01131.000,E,...: degrees
# and minutes run together) or an IGC flight log's fix (B1235194807038N01131000EA...). A log of them, or one pasted
# into an account, is a place and a time to the metre; neither shape was read as coordinates (helper-191).
_NMEA = re.compile(r"\$(?:GP|GN|GL|GA|GB|BD|GQ)(?:GGA|RMC|GLL|GNS),[^\n$]{0,40}?"
                   r"([0-9]{4}\.[0-9]{2,},[NS],[0-9]{5}\.[0-9]{2,},[EW])(?=,)")
_IGC = re.compile(r"(?m)^B[0-9]{6}([0-9]{7}[NS][0-9]{8}[EW])[AV]")


def receiver_fixes(text: str) -> list[Found]:
    """Every position in an NMEA sentence or an IGC fix in `text` (the latitude and longitude, as written)."""
    found = [(m.group(1), m.start(1), m.end(1)) for m in _NMEA.finditer(text)] if "$" in text else []
    if "B" in text:
        found += [(m.group(1), m.start(1), m.end(1)) for m in _IGC.finditer(text)]
    return sorted(found, key=lambda fix: fix[1])


def _pairs_near(text: str, at: int, found: list[Found]) -> int:
    """The pairs found from `at` within _WINDOW characters (added to `found`), and up to where every pair that
    begins there was found: one that begins within _LONGEST of the window's end, where the window may cut it (and
    a shorter match inside it may pass), is left to the next window."""
    end, done = min(len(text), at + _WINDOW), at
    while (match := _PAIR.search(text, at, end)) is not None:
        if end < len(text) and match.start() >= end - _LONGEST:  # perhaps cut by the window: the next one reads it
            break
        if _accepted(text, match):
            found.append((match.group(), match.start(), match.end()))
            at = done = match.end()
        else:  # "17/43.23895/76.88971" (a map's zoom, then the place): the place may begin inside this match
            at = match.start() + 1
    return max(done, end - _LONGEST) if end < len(text) else len(text)


def _accepted(text: str, match: re.Match[str]) -> bool:
    """Whether a match of _PAIR in `text` is a place: both numbers precise enough (`_value`), latitude first or a
    map's longitude first (2GIS, Yandex); not two fractions (0.3127, 0.3290: a colour's white point; near 0, 0 is
    open sea); and two decimal commas with a comma between stand alone (`_alone`)."""
    first = _value(match, 1)
    second = None if first is None else _value(match, 2)  # (half the time of a text of numbers that are none)
    if first is None or second is None:
        return False
    if match["bare"] is not None and not _named_before(text, match):
        return False
    a, b = abs(first), abs(second)
    if not (max(a, b) >= 1 and ((a <= 90 and b <= 180) or (a <= 180 and b <= 90))):
        return False
    commas = match["frac1"] is not None and "," in match["frac1"] + (match["frac2"] or "")
    return not commas or not _comma_spaced(match["sep"]) or any(match.group(*_MARKS)) or _alone(text, match)


def _named_before(text: str, match: re.Match[str]) -> bool:
    """Whether the first number of a pair whose second has a bare short name (lat 43.238949 lon 76.889709) has the
    other name right before it."""
    before = _NAME_BEFORE.search(text, max(0, match.start() - 16), match.start())
    second = match["label"].strip(' \t\r\n"\u00a0').lower()
    names = _LATITUDE_NAMES if second in _LONGITUDE_NAMES else _LONGITUDE_NAMES
    return before is not None and before[1].lower() in names


def _comma_spaced(sep: str) -> bool:
    """Whether `sep` is the one comma that may stand between two numbers with decimal commas: a comma with a space
    after it, and spaces or none before (43,238949, 76,889709; typed 43,238949 , 76,889709 or with two spaces)."""
    before, comma, after = sep.partition(",")
    return bool(comma) and not before.strip(" \t\u00a0") and bool(after) and not after.strip(" \t\u00a0")


def _alone(text: str, match: re.Match[str]) -> bool:
    """Whether `match` is not one of a list of figures (1,234567, 2,345678, 3,456789) and no sum grouped by
    thousands (12,345) stands within _AROUND characters of it (see _THOUSANDS_NEAR)."""
    start, end = match.start(), match.end()
    return _THOUSANDS_NEAR.search(text, max(0, start - _AROUND), start) is None and \
        _THOUSANDS_NEAR.search(text, end, end + _AROUND) is None and \
        _LISTED_BEFORE.search(text, max(0, start - _AROUND), start) is None and \
        _LISTED_AFTER.match(text, end, end + _AROUND) is None


# A map's short link, as the apps' Share button gives a place (no coordinates in it, the same place to whoever opens
# it): Google's, Yandex's, 2GIS's, OpenStreetMap's and Apple's.
# Organic Maps' (omaps.app, or its app's om://) and MAPS.ME's (ge0.me, ge0://) carry the place in their first part:
# a zoom level, then three bits of latitude and three of longitude a character (nine: about 1 m; seven, about 10 m,
# the fewest reported)
_MAP_LINK = re.compile(r"(?:https?://|(?<![\w./@-]))(?:(?:maps\.app\.goo\.gl/|goo\.gl/maps/"
                       r"|(?:www\.)?yandex\.[a-z]{2,3}(?:\.[a-z]{2})?/maps/-/|go\.2gis\.com/|(?:www\.)?osm\.org/go/|maps\.apple/p/)[\w~@-]{4,64}"
                       r"|(?:ge0\.me/|omaps\.app/|ge0://|om://)[\w-]{8,10}(?![\w-]))", re.ASCII)


# (also without its scheme, maps.app.goo.gl/..., as a messenger shows a link and an author may retype it; looked
# for only in a text that holds one of the hosts, each a literal found fast: the pattern's optional scheme would
# have the engine try it at every position)
MAP_HOSTS = ("goo.gl", "yandex.", "2gis.com", "osm.org", "maps.apple", "ge0.me", "omaps.app", "ge0://", "om://")


def map_links(text: str) -> list[Found]:
    """Every short link to a place on a map in `text` (`_MAP_LINK`)."""
    return [(match.group(), match.start(), match.end()) for match in _MAP_LINK.finditer(text)] \
        if any(host in text for host in MAP_HOSTS) else []


def luhn_valid(digits: str) -> bool:
    """Whether `digits` end in their Luhn check digit (every payment card's number does)."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char) * (2 if i % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _is_card(number: str) -> bool:
    """Whether the digits of `number` end in their Luhn check digit and are not everyone's example (4111 1111 1111
    1111: two digits in all)."""
    digits = "".join(char for char in number if char.isdigit())
    return luhn_valid(digits) and len(set(digits)) > 2


def _table_after(text: str, end: int) -> bool:
    """Whether a group of four digits follows a card's number that ends at `end`, and begins no card itself."""
    after = _GROUP_AFTER.match(text, end)
    if after is None:
        return False
    card = _CARDS[1].match(text, after.end() - 4)
    return card is None or not _is_card(card.group())


def _table_before(text: str, start: int) -> bool:
    """Whether a group of four digits comes before a card's number that begins at `start`."""
    return any(_GROUP_BEFORE.fullmatch(text, start - length, start) for length in range(5, 9) if start >= length)


def card_numbers(text: str, runs: list[tuple[int, int]] | None = None) -> list[Found]:
    """Every payment card number in `text` (see the module); only inside `runs` (spans of digits and the
    separators between them, which the phone finder reads anyway: a card tried at every position costs 20 ms a
    MB), if given. Each group of digits is a card's first in turn, until one is, and each shape at it, the longest
    first (a 19-digit match that failed its check digit hid the 16-digit card in it, "4400 4302 1234 5679 500
    тг"); not four groups of four with another beside them, a table's row of years or sums (one in six such rows of
    years was a card)."""
    found: list[Found] = []
    for start, end in [(0, len(text))] if runs is None else _with_slashed(text, runs):
        at = start
        for begin in _CARD_START.finditer(text, start, end):
            if begin.start() < at:
                continue  # inside a card found
            for grouped, shape in enumerate(_CARDS, -3):
                match = shape.match(text, begin.start())
                if match is None:
                    continue
                if grouped < 0 and (_table_after(text, match.end()) or (
                        _table_before(text, match.start()) and not (found and match.start() - found[-1][2] <= 3))):
                    continue  # "2015 2016 2017 2018 2019": a table's row (cards side by side are cards)
                if _is_card(match.group()):
                    found.append((match.group(), match.start(), match.end()))
                    at = match.end()
                    break
    return found


def _with_slashed(text: str, runs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """`runs`, and every four groups of four digits with slashes between (`_SLASHED`, searched for by its "/"), as
    spans that do not overlap."""
    spans = sorted([*runs, *((m.start() - 4, m.end()) for m in _SLASHED.finditer(text) if m.start() >= 4)]) \
        if "/" in text else runs
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
