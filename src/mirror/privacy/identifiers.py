"""Personal identifiers in text: phone numbers, e-mail addresses, Kazakh IINs, card numbers, places, shown masked.

Example::

    list(find_identifiers("Звоните +7 701 123 45 67"))   # [("phone", "+7 701 123 45 67", 8, 24)]
    mask("+7 701 123 45 67")                              # "+7 7•• ••• •• 67"
    scan_text("Звоните +7 701 123 45 67", "accounts/a.md")
    # [Finding("accounts/a.md", "phone", "line 1: +7 7•• ••• •• 67")]

Phone numbers are found with Google's libphonenumber rules (the `phonenumbers`
package), read as Kazakhstan would dial them: +7 and 8 7xx numbers in Kazakh
and Russian styles, and every international number with a "+" (Kyrgyz
mobiles also as dialled at home: 0555 123 456). A local number
written 250-12-34 is reported as a possible phone. Dates (2022-01-05,
05.01.2022), times (18:30) and grouped numbers ("12 000") are not reported. A
12-digit run is an IIN when its check digit and birth date are valid, else a
"12-digit-number" to check by eye. IBANs are found by privacy/banks.py, passports' and ID cards' numbers after
their names by privacy/documents.py, card numbers and coordinates are found by
privacy/places.py, plus codes and what3words addresses by
privacy/placecodes.py. Values are masked in reports: the line number says
where to look, and a report can be seen by others.
"""

from __future__ import annotations

import bisect
import html
import itertools
import re
from collections.abc import Iterable, Iterator

from mirror.privacy.banks import KZ_HINTS, START, ibans
from mirror.privacy.documents import document_numbers
from mirror.privacy.findings import Finding
from mirror.privacy.placecodes import W3W_HINTS, plus_codes, what3words, words_at
from mirror.privacy.places import (
    COORDINATE_MARKS,
    MAP_HOSTS,
    SLASHED,
    card_numbers,
    coordinates,
    map_links,
    receiver_fixes,
)
from mirror.privacy.texts import Block, count_breaks, line_starts, text_blocks

REGION = "KZ"
# A run of digits with the separators people write in numbers: each run is read once, then classified.
# 7 to 41 digits: a longer run (a table of numbers) is read in pieces, so no window handed on is long.
# It begins with a class, "+" or a digit (a digit after the "+"), which sre skips to: `(?:\+\d|\d)` was tried at
# every position (12% longer).
_RUN = re.compile(r"[+\d](?:(?<=\+)\d|(?<=\d))(?:[ \t\u00a0().\-\u2010-\u2015]{0,3}+\d){6,40}+")
_LOCAL = re.compile(r"(?<![\d\-.])\d{3}-\d{2}-\d{2}(?![\d\-.])")
_TWELVE = re.compile(r"(?<![\d+])\d{12}(?!\d)")
# Letters of any script too: айгерим@почта.рф, aigerim@почта.қаз (international addresses and domains).
_EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]+@[^\W_](?:[\w-]*[^\W_])?(?:\.[^\W_](?:[\w-]*[^\W_])?)*"
                    r"\.[^\W\d_]{2,}\b")
# Pictures named for screens of twice the density (photo@2x.png): no domain ends in a picture's extension.
_DENSITY = re.compile(r"\d+(?:\.\d+)?x")
_PICTURE_ENDS = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".heic", ".avif", ".bmp", ".tif", ".tiff")
# An address written so that robots miss it, which any reader puts back together: aizhan [at] mail [dot] kz,
# aizhan(@)mail.kz, aizhan собака mail.kz, aizhan @ mail.kz. A plain " at " only with a dot written out too
# ("looked at tengrinews.kz" is no address).
_OBFUSCATED_DOT = (r"(?:[ \t]?[\[({<][ \t]?(?:\.|dot|точка|нүкте)[ \t]?[\])}>][ \t]?|[ \t](?:dot|точка|нүкте)[ \t]"
                   r"|[ \t]\.[ \t])")  # (and a point with a space each side: aizhan @ mail . kz)
_OBFUSCATED_AT = re.compile(r"[ \t]?[\[({<][ \t]?(?:@|at|собака|эт)[ \t]?[\])}>][ \t]?|[ \t]@[ \t]?|@[ \t]?"
                            r"|[ \t]собака[ \t]|[ \t]at[ \t]", re.IGNORECASE)
_ADDRESS_LOCAL = re.compile(r"(?=[\w.%+-]*[A-Za-z])[A-Za-z0-9._%+-]{3,64}")  # Latin, 3 or more, a letter
_LOCAL_PART = re.compile(r"(?<![\w.%+-])[\w.%+-]{1,64}\Z")
_OBFUSCATED_DOMAIN = re.compile(rf"[^\W_][\w-]*(?:(?:{_OBFUSCATED_DOT}|\.)[^\W_][\w-]*){{0,8}}"
                                rf"(?:{_OBFUSCATED_DOT}|\.)[^\W\d_]{{2,}}\b", re.IGNORECASE)
_DOT_WRITTEN = re.compile(_OBFUSCATED_DOT, re.IGNORECASE)
# A point with a space each side is an address's only when a domain's usual end follows the last one
_SPACED_DOT = re.compile(r"[ \t]\.[ \t](?!.*[ \t]\.[ \t])")
_SPACED_TLDS = frozenset(("kz", "ru", "com", "net", "org", "kg", "uz", "by", "ua", "tj", "tm", "am", "az", "ge", "info",
                          "io", "me", "edu", "gov", "biz", "su", "рф", "қаз", "de", "uk", "us", "eu", "tr", "cn"))
# Only a text with one of these is searched for such an address (a plain " at " needs a dot written out).
_OBFUSCATION_HINTS = ("@ ", " @", "\t@", "@\t", "at)", "at]", "at}", "at>", "@)", "@]", "@}", "@>", "эт)", "эт]",
                      "собака", "dot", "точка", "нүкте", "[.]", "(.)")
# Each hint holds one of these characters or is one of _WORD_HINTS: a text with none of them (most) is passed over
# after nine quick looks (four words, five characters), not twenty.
_HINT_MARKS = "@)]}>"
_WORD_HINTS = tuple(hint for hint in _OBFUSCATION_HINTS if not any(mark in hint for mark in _HINT_MARKS))
# ... and the others by the marks they hold: only those of the marks the text holds are looked for (a ")" in a
# text made all twenty looks)
_MARKED_HINTS = {mark: tuple(hint for hint in _OBFUSCATION_HINTS if mark in hint) for mark in _HINT_MARKS}
# What people and editors put between the digits of a number that the patterns below do not read as a separator:
# thin and other Unicode spaces, the minus sign and full-width hyphens; and the full-width "@", ".", "," and
# digits. Each becomes a space, a "-", "@", ".", "," or a digit of the same length, so offsets and line numbers stay
# those of the text.
_SEPARATORS = str.maketrans({
    **{chr(c): " " for c in (*range(0x2000, 0x200B), 0x202F, 0x205F, 0x3000, 0x180E, 0x1680, 0x2028, 0x2029, 0x0085,
                             0x2800, 0x3164, 0xFFA0, 0x115F, 0x1160)},  # and what shows blank: braille, fillers
    **{chr(c): "-" for c in (0x2010, 0x2011, 0x2212, 0xFE58, 0xFE63, 0xFF0D, 0x2043)},
    "\uff20": "@", "\ufe6b": "@", "\uff0e": ".", "\ufe52": ".",
    # full-width digits and comma, as a Chinese or Japanese input method types them: libphonenumber read such a
    # phone, but a card's, a pair of coordinates' or an IBAN's patterns begin with ASCII digits and missed them
    **{chr(0xFF10 + digit): str(digit) for digit in range(10)}, "\uff0c": ",",
})
_UNUSUAL = re.compile("[" + "".join(re.escape(char) for char in map(chr, _SEPARATORS)) + "]")
# What shows as something shorter, and is read as what it shows: invisible characters (zero-width, soft hyphen:
# a number or an address split by them reads whole on screen) as nothing; HTML character references (the
# reader's page shows &commat; as "@", &#8209; as a hyphen); Markdown's escapes (123\-45\-67, mail\.kz; a
# backslash before a line break after a digit); %40 and %2B in links (mailto:aizhan%40mail.kz,
# viber://chat?number=%2B7701...) as "@" and "+".
# Every format character (Unicode's Cf: zero-width, bidi, invisible operators, tags; helper-163 found ones a list
# of them missed), and variation selectors, the keycap mark (an emoji digit, 8\ufe0f\u20e3, is "8" with both:
# Telegram posts write numbers so, helper-159), the combining grapheme joiner and Mongolian and Khmer marks that
# show nothing. Unicode 15's, as Python 3.11 has it (computed once here: reading its table at each start would
# cost a third of a second).
_INVISIBLE_RANGES = ((0x00AD, 0x00AD), (0x034F, 0x034F), (0x0600, 0x0605), (0x061C, 0x061C), (0x06DD, 0x06DD),
                     (0x070F, 0x070F), (0x0890, 0x0891), (0x08E2, 0x08E2), (0x17B4, 0x17B5), (0x180B, 0x180D),
                     (0x180F, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x2064), (0x2066, 0x206F),
                     (0x20E3, 0x20E3), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD),
                     (0x110CD, 0x110CD), (0x13430, 0x13438), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
                     (0xE0001, 0xE0001), (0xE0020, 0xE007F), (0xE0100, 0xE01EF))
_INVISIBLE = "".join(chr(c) for low, high in _INVISIBLE_RANGES for c in range(low, high + 1))


def _ranges_class(ranges: Iterable[tuple[int, int]]) -> str:
    """The inside of a regular expression's character class of these code point ranges."""
    return "".join(re.escape(chr(low)) + ("-" + re.escape(chr(high)) if high > low else "") for low, high in ranges)


_INVISIBLE_CLASS = _ranges_class(_INVISIBLE_RANGES)
# A number that begins with 8 or 7, of 1 to 9 digits so far (each look-behind of one width)
_AFTER_8_OR_7 = "|".join(rf"(?<=(?<![\d*])[78]\d{{{n}}})" for n in range(10))
# Where one may begin (then _SHORTER_PIECE says): the invisible characters of the BMP, and any character beyond it,
# one range. The astral invisible ranges each cost sre a range test per character (the class with them took five
# times as long), and a first search for a character beyond the BMP to choose between two classes took longer
# than this one search: _SHORTER_PIECE passes over the characters beyond the BMP that are not invisible.
_SHOWN_SHORTER = re.compile("[" + _ranges_class(r for r in _INVISIBLE_RANGES if r[1] <= 0xFFFF)
                            + "\U00010000-\U0010FFFF" + r"&\\%*_`]")
_SHORTER_PIECE = re.compile(rf"[{_INVISIBLE_CLASS}]+"
                            r"|&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});?"
                            r"|\\(?=[!-/:-@\[-`{-~])|(?<=\d)\\(?=\s)|%(?:40|2[bB]|20)"
                            rf"|(?:{_AFTER_8_OR_7})\*\d{{1,9}}\*(?=\d)"
                            r"|(?<=[\d +()-])\*{2,3}(?=\d)|(?<=\d)\*{2,3}(?=[\d ()\r\n-])"
                            r"|(?<=[ +()-])(?:\*|__?)(?=\d)|(?<=\d)(?:\*|__?)(?=[ ()-])"
                            r"|(?<![^\s\d+()-])`(?=[\d+(])|(?<=[\d)])`(?=[\s\d()-]|\Z)"
                            r"|(?<=[@.])(?:\*{1,3}|__?|`)(?=\w)|(?<=\w)(?:\*{1,3}|__?|`)(?=[@.]\w)")
# Markdown's emphasis inside a number (8 701 **123** 45 67, 870412**003**005, 8-701-***123***-45-67): two or three
# asterisks anywhere; one, or underscores, at a word's edge (05_01_2022_1830 is no emphasis in CommonMark, and
# neither is an IIN), and a pair of single ones between the digits of a number that begins with 8 or 7
# (8701*123*4567 shows 87011234567, 123 in italics; 1024*1024*1024 and 3600*24*365 are products, helper-127);
# a code span's backticks around a number's groups (`8 701` 123 45 67); emphasis or a code span inside an e-mail
# address (aizhan@mail.**kz**, **aizhan**@mail.kz), helper-159
# Where such a number may be cut (`_wrap_hint`): a line break before a digit, then a digit, bracket or dash before
# the break, blanks aside. Searched from the line break, which prose holds fewer of than digits (a search from
# the digit, bracket or dash took twice as long).
_WRAP_HINT = re.compile(r"(?:\r\n?|\n)[ \t>]*\d")
_WRAP_BLANKS = " \t\u00a0"
# A number cut by a line break (a hard-wrapped e-mail or .txt): "+7 701" or "8 701" at a line's end, digits on
# the next.
# The next line may be indented (a list item's continuation) and open with Markdown's quote marks, of any depth
# (">>> " of a reply to a reply). The number may be cut after a bracket, a dash, or any of a Kazakh mobile's
# groups; "+7" alone, but no other "+" and one or two digits ("+5" of a table's growth column).
_WRAPPED = re.compile(r"(\+(?:7|\d[\d \t\u00a0().-]{1,16}[\d)-])"
                      r"|(?<![\w+])8[ \t\u00a0-]?\(?7(?:0[0-8]|47|7[15-8])\)?"
                      r"(?:[ \t\u00a0-]?\d{3}(?:[ \t\u00a0-]?\d\d)?)?-?)"
                      r"[ \t\u00a0]*(\r\n|\r|\n)[ \t]*(?:>[ \t]*)*(?=\d)")
# Dates are blanked out around a run before numbers are looked for: libphonenumber reads "30.10.2000 00" as a
# Russian number, and is slow to say no to "2022-01-05 18:30". Two-digit years only with dots: 21-12-34 is a phone.
# So are times of day with a colon: a git log's or a mail client's "Tue Jan 7 14:00:38 2014 -0500" was a phone,
# "38 2014 -0500" (5,500 of them in /usr/share/doc's change logs); and a date written in eight digits alone beside
# another number ("gcc 2.96 20000814" was "96 20000814").
_DAY, _MONTH = r"(?:0?[1-9]|[12]\d|3[01])", r"(?:0?[1-9]|1[0-2])"
_DATE = re.compile(rf"(?<!\d)(?:{_DAY}\.{_MONTH}\.(?:\d\d)?\d\d|{_DAY}[-/]{_MONTH}[-/]\d{{4}}"
                   rf"|\d{{4}}[-./]{_MONTH}[-./]{_DAY}|{_DAY}([ _]){_MONTH}\1(?:19|20)\d\d"
                   r"|(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?|(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))(?!\d)")
_HEX_OR_DASH = frozenset("0123456789abcdefABCDEF-")
_HASH_CHARS = 20  # a hash or id this long, with its dashes: a UUID has 36, a short git hash 7 to 12 (no phone)
# ... or this long, of hex digits alone: a minisign key id (one in 400 has 12 digits in a row, and was a
# "12-digit-number" in every bundle it signed); a phone number written with spaces, brackets or dashes is none
_KEY_ID_CHARS = 16
_BESIDE = 8  # ... and of these, at least this many beside the digits (a dash alone on each side is no hash)
_HEX = frozenset("0123456789abcdefABCDEF")
_CODE_POINT = re.compile(r"(?<![^\W\d_])[Uu]\+\Z")  # "U+" before a run: a Unicode code point (U+2010) ...
# A UUID whose every character is a digit (one in a few hundred random ones has its last 12 so; gdb's and Python's
# docs write 12345678-1234-5678-1234-567812345678): its last group was a "12-digit-number"; "0x" before a run
# makes it hexadecimal (0x555555558054, an address)
_DIGIT_UUID = re.compile(r"\d{8}-\d{4}-\d{4}-\d{4}-\d{12}")
_CODE_POINT_DIGITS = re.compile(r"\+[0-9A-Fa-f]{4,6}(?![0-9A-Za-z])")  # ... of four to six hex digits
_ELEVEN = re.compile(r"(?<!\d)[78](?:\D{0,3}\d){10}(?!\d)")  # a Russian number as dialled at home: 8 916 ...
_NOT_DIGIT = re.compile(r"\D")
_DIGITS = re.compile(r"\d+")
# A file inside the text (a Markdown editor's pasted picture, ![](data:image/jpeg;base64,...)): its metadata travels
# with the text, and nothing cleans it. At least 64 characters of base64 after the header, so a mention is no file.
# A file's bytes pasted as base64 without the data: header (what some editors and chat exports do, and a saved
# e-mail's attachment), by how a JPEG, PNG, GIF, WebP, TIFF, HEIF, AVIF, MP4 or QuickTime (an ftyp box), PDF,
# ZIP (an Office document), 7z, RAR or gzip file's first bytes read in base64 (also base64url, and with JSON's
# escaped "\/"), then at least 200 more characters of it. Either may be cut into lines (MIME cuts base64 at 76
# characters, helper-159: an e-mail's photo with its GPS was signed): a line break counts where more base64
# follows it, after indentation or a quoted reply's "> " (helper-163).
# Two patterns, not one alternation: the second is case-sensitive (base64 is), and apart each is searched for by
# its first characters (one case-insensitive alternation tried both at every position: 2.7 times the time).
_DATA_URI = re.compile(r"data:([a-z]+/[a-z0-9.+-]{1,64})?(?:;[a-z0-9=._-]{1,64}){0,4};base64,\s{0,8}"
                       r"(?:[a-z0-9+/]|(?:\r\n?|\n)[ \t]{0,8}(?=[a-z0-9+/])){64}", re.IGNORECASE)
# (Found by its first characters, then the one before it is looked at, `_raw_files`: a look-behind first made the
# engine try the whole pattern at every position, 3.5 times as long.)
_RAW_FILE = re.compile(r"(?:/9j/|\\/9j\\/|_9j_|iVBORw0KGgo|R0lGOD[lh]|UklGR|SUkqA|TU0AK"
                       r"|AAA[A-Za-z0-9+/_-]{2}GZ0eX[AB]|JVBERi0|UEsDB[AB]|N3q8ryc|UmFyIRoH|H4sI)"
                       r"(?:[A-Za-z0-9+/_-]|\\/|(?:\r\n?|\n)[ \t>]{0,16}(?=[A-Za-z0-9+/_\\-])){200}")  # no groups
_BASE64_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/\\_-")
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/\\_-]")
_CARD_CHARS = 15  # a card number's fewest digits (American Express)
_TWELVE_KINDS = ("iin", "12-digit-number")
_RUN_GAP = 3  # the most separators _RUN reads between two digits: a run it cut at 41 digits goes on this close
_CONTEXT = 8  # characters on each side of a run that libphonenumber sees, to judge what surrounds a number
PHONE_CHECKS = 20_000  # candidates judged by libphonenumber in one file (2 to 22 s); then by shape alone
RUN_PHONE_CHECKS = 100_000  # ... and in one run (a scan, a create) of many files: a bundle of many such files
# Phone numbers by shape, beside libphonenumber (which gives up on a run that holds more than one number, "1985 8
# 701 123 45 67", and on one glued to a Latin letter, "Dana87011234567") and alone once its budget is spent: "+7"
# and 10 digits (never fewer: a number cut at a block's edge is found whole in the next); another "+" and 8 to
# 15 digits; 8 or 7 and a Kazakh mobile's code (700-708, 747, 771, 775-778) and 7 digits, written any way; 8 or
# 7 and 10 digits in the groups of Kazakh and Russian numbers, a space or dash after the code (of 3, 4 or 5
# digits, in brackets or not: 11 digits in a row, an id or a build number, are no phone); a Kazakh mobile
# without its 8 in its groups (701 123 45 67), no number before it ("18 754 440 2022" is a figure and a year), or
# glued (7012345678); an area code in brackets without the 8 ((727) 250-12-34, (495) 123-45-67).
_S = r"[ \u00a0-]"
_MOBILE = r"7(?:0[0-8]|47|7[15-8])"
# Neighbours' mobiles as dialled at home, which libphonenumber reads as Kazakhstan's no number: Kyrgyzstan's, 0
# and nine digits (0555 123 456, 0 (700) 12-34-56: Beeline 55x, 77x, 22x; O! 50x, 70x; MegaCom 99x, 75x; with a
# space, a dash or a bracket in its first five: glued, 0553123456 is as often a book's ISBN). Uzbekistan's nine
# digits in their groups (90 123 45 67) only after a word that says it is a phone (`_SHORT_NUMBER`): alone, "95
# 100 20 30" and "90 120 45 60" are a table's row or scores as often
_KG_CODE = r"(?:5[05]|7[057]|99|22)\d"
_KG_MOBILE = rf"0(?=\d{{0,3}}[ \u00a0(-]){_S}?(?:\({_KG_CODE}\)|{_KG_CODE}){_S}?\d\d(?:{_S}?\d){{4}}(?!\d)"
_NEIGHBOURS = (("KG", re.compile(rf"(?<![\w.,+]){_KG_MOBILE}")),)
_PHONE_SHAPE = re.compile(
    rf"(?<![\d+])(?:\+7(?:[ \u00a0().-]{{0,2}}\d){{10}}(?!\d)|\+[1-689](?:[ \u00a0().-]{{0,2}}\d){{7,14}}(?!\d)"
    rf"|[78]{_S}?(?:\({_MOBILE}\)|{_MOBILE}){_S}?\d{{3}}{_S}?\d\d{_S}?\d\d(?!\d)"
    rf"|[78]{_S}?(?:\([3-9]\d\d\){_S}?|[3-9]\d\d{_S})\d{{3}}{_S}?\d\d{_S}?\d\d(?!\d)"
    rf"|[78]{_S}?(?:\([3-9]\d{{3}}\){_S}?|[3-9]\d{{3}}{_S})\d\d{_S}?\d\d{_S}?\d\d(?!\d)"
    rf"|[78]{_S}?(?:\([3-9]\d{{4}}\){_S}?|[3-9]\d{{4}}{_S})\d{_S}?\d\d{_S}?\d\d(?!\d)"
    rf"|\(?{_MOBILE}\)?{_S}\d{{3}}{_S}\d\d{_S}\d\d(?!\d)"
    rf"|(?<![\w.=/-]){_MOBILE}\d{{7}}(?![\w-]|\.\d)"  # a mobile without its 8, glued: 7012345678, not in a word
    rf"|\([3-9]\d\d\){_S}?\d{{3}}{_S}?\d\d{_S}?\d\d(?!\d)|\([3-9]\d{{3}}\){_S}?\d\d{_S}?\d\d{_S}?\d\d(?!\d)"
    rf"|\([3-9]\d{{4}}\){_S}?\d{_S}?\d\d{_S}?\d\d(?!\d)"  # an area code in brackets: (727) 250-12-34
    rf"|(?<![\w.,]){_KG_MOBILE})")  # a Kyrgyz mobile as dialled at home
# A quantity grouped by thousands (87 012 345 678 tenge; +12 500 000 tenge, said with its unit) and an IPv4 address
# are no phone numbers, whatever libphonenumber makes of them.
_THOUSANDS = re.compile(r"\d{1,3}(?:[ \u00a0,.']\d{3}){3,}")
_GROWTH = re.compile(r"\+\d{1,3}(?:[ \u00a0,.']\d{3}){2,}")
_UNIT = re.compile(r"[ \u00a0]?(?:(?:тенге|тг|руб|долл|евро|млн|млрд|тыс|kzt|usd|eur|tenge)\w{0,8}(?![\w-])|[₸$€%])",  # noqa: RUF001
                   re.IGNORECASE)
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
# A point, then one digit alone: a version's part ("chromium (99.0.4844.84-1)", "gtk+3.0 (3.24.38-2", "7187  9.0.0002"
# were phones); a number written with points has groups of two digits or more after its first (8.701.123.45.67)
_VERSION = re.compile(r"\.\d(?!\d)")
# A local number (250 12 34, 2501234, 50-12-34) right after a word that says it is one.
# Written as local numbers are (5 to 7 digits together, or groups ending in two pairs), not as a quantity (100 500);
# or as an Uzbek mobile is at home, two digits, three and two pairs (90 123 45 67, (93) 123-45-67).
_SHORT_NUMBER = re.compile(r"\d(?<![\w+.,-]\d)(?:\d{4,6}|\d{0,2}(?:[ \u00a0-]\d\d){2}"
                           r"|\d\)?[ \u00a0-]?\d{3}(?:[ \u00a0-]\d\d){2})(?![\w.,-]?\d)(?!\w)")  # fast
_SAID_LOCAL = re.compile(r"(?<!\w)(?:тел(?:ефон\w{0,3})?(?:\s?/\s?факс)?|моб(?:ильный)?|ұялы|phone|tel|mobile|"
                         r"whats ?app|ватсап|вотсап|viber|вайбер)\.?[:\s\u2013\u2014-]{0,4}\(?\Z", re.IGNORECASE)
_SAID_ENDS = ":.(\u2013\u2014-"  # what _SAID_LOCAL may end with but a letter or a blank (`_said_local`)
# ... of which what _SHORT_NUMBER's look-behind lets stand right before its first digit (not [\w+.,-]): a text
# without one holds no local number said to be one
_SAID_BEFORE = re.compile("[\\s:(\u2013\u2014]")
# What a text holds if `Finder._find` can find anything in it (`_nothing_to_find`), but a local number after a word
# that says it is one (`_SHORT_NUMBER`) or a hint the lowercased text holds (`_LOWERED_HINTS`): a run of digits
# (phone numbers, IINs, cards, a receiver's positions, documents' numbers), "@" and the brackets of an obfuscated
# address's hints, "+" (a plus code), "№" (a document's series and number), a coordinate's point, comma or degree,
# an IBAN's start, four groups of a card with slashes, a map's host, what3words' "///" or host. Each search stops at
# the first it finds (prose has a point or a comma within a line), and a file name of no more (a million of them in
# one archive) passes every other search by. Four searches, each led by a class or a literal, which sre skips to:
# one alternation of all of them was tried at each position, and took twice as long.
_ONE_CHARACTER_HINTS = (*_HINT_MARKS, "+", "\u2116", *(mark for mark in COORDINATE_MARKS if len(mark) == 1))
_HINT_CHARACTER = re.compile("[" + re.escape("".join(_ONE_CHARACTER_HINTS)) + "]")
_IBAN_START = re.compile(START)
_HINT_WORDS = re.compile("|".join((SLASHED, *(re.escape(hint) for hint in (
    *(mark for mark in COORDINATE_MARKS if len(mark) > 1), *MAP_HOSTS, *W3W_HINTS)))))
_LOWERED_HINTS = re.compile("|".join(map(re.escape, (*_WORD_HINTS, *KZ_HINTS))))  # an obfuscated address's words,
# a retyped IBAN's "kz"
_PLAIN_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\t": " ", "\n": " ", "\r": " "})
_HIDDEN_WORDS = "•••.•••.•••"  # a what3words address's three words, whatever their length
Match = tuple[str, str, int, int]  # kind, value, start, end


def iin_valid(digits: str) -> bool:
    """Whether 12 digits pass the IIN check digit (weights 1..11, then 3..11,1,2; mod 11)."""
    values = [int(c) for c in digits]
    check = sum(w * v for w, v in zip(range(1, 12), values, strict=False)) % 11
    if check == 10:
        check = sum(w * v for w, v in zip((3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2), values, strict=False)) % 11
    return check != 10 and check == values[11]


def _twelve(digits: str) -> str:
    month, day = int(digits[2:4]), int(digits[4:6])  # an IIN opens with the birth date YYMMDD
    return "iin" if iin_valid(digits) and 1 <= month <= 12 and 1 <= day <= 31 else "12-digit-number"


def _worth_a_look(run: str) -> bool:
    """Whether a run can hold an identifier: 10 characters or more, or 9 with a dash (250-12-34) or a "+"."""
    return len(run) >= 10 or (len(run) == 9 and ("-" in run or run[0] == "+"))


def _hash_like(window: str, first: int, last: int) -> bool:
    """Whether the run window[first:last] is part of a hash or an id (a SHA-256, a UUID): hex letters or digits on
    both sides of it (past a dash), or on one side making with it a token of at least _HASH_CHARS characters that
    holds a letter. A number that only touches a word on one side ("Phone+77011234567", "IIN870105300128abc"), or
    a dash on each ("aigerim-87011234567-almaty"), or a hex letter or two of a name on each side
    ("dana-87011234567-almaty"), is no hash."""
    if window[first] == "+":
        return False
    start, end = first, last
    while start > 0 and window[start - 1] in _HEX_OR_DASH:
        start -= 1
    while end < len(window) and window[end] in _HEX_OR_DASH:
        end += 1
    token = window[start:end]
    before = sum(1 for char in window[start:first] if char != "-")
    after = sum(1 for char in window[last:end] if char != "-")
    if before and after and before + after >= 4:  # "ab870105300128cd"; not "dana-87011234567-almaty"
        return True
    if not (before or after) or not any(c.isalpha() for c in token):
        return False
    beside = len(token) - (last - first)  # "Cafe-8-701-123-45-67" is a name and a number; a UUID's end is no phone
    return (len(token) >= _HASH_CHARS and beside >= _BESIDE) or (len(token) >= _KEY_ID_CHARS and _HEX.issuperset(token))


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group())


class Checks:
    """libphonenumber calls left to one run (a scan, a create): its files share them. Each file also has its own
    `PHONE_CHECKS`; without a run's budget a hostile bundle of a thousand files of numbers libphonenumber must
    judge at length (about 1 ms each) would take 20 s a file."""

    __slots__ = ("left", "per_file", "short")

    def __init__(self, left: int | None = None, per_file: int = PHONE_CHECKS) -> None:
        self.left = RUN_PHONE_CHECKS if left is None else left
        self.per_file = per_file  # each file's own budget
        self.short = False  # some candidates were judged by their shapes alone (this budget or a file's was spent)


class Finder:
    """Finds identifiers in the texts of one file, with a budget of libphonenumber calls.

    libphonenumber takes 0.1 to 1 ms to judge a candidate: a hostile file of millions of ten-digit
    numbers would take hours. After `PHONE_CHECKS` candidates in the file, or once the run's `Checks` are
    spent, phone numbers are recognised by their Kazakh and international shapes alone (`_PHONE_SHAPE`), so
    time stays linear in the size of the input. Runs seen before are not judged again (a text repeats its
    dates and numbers).
    """

    def __init__(self, run: Checks | None = None) -> None:
        self.checks_left = PHONE_CHECKS if run is None else run.per_file
        self.run = run
        self.seen: dict[str, tuple[Match, ...]] = {}

    def _can_check(self) -> bool:
        return self.checks_left > 0 and (self.run is None or self.run.left > 0)

    def _spend(self) -> None:
        self.checks_left -= 1
        if self.run is not None:
            self.run.left -= 1

    def _phones(self, window: str) -> list[Match]:
        if not self._can_check():
            if self.run is not None:
                self.run.short = True
            return [("phone", m.group(), m.start(), m.end()) for m in _PHONE_SHAPE.finditer(window)
                    if not _quantity(m.group(), window[m.end():])]
        import phonenumbers

        self._spend()
        found = [("phone", m.raw_string, m.start, m.end)
                 for m in phonenumbers.PhoneNumberMatcher(window, REGION, leniency=phonenumbers.Leniency.VALID)]
        if not found and _ELEVEN.search(window) and self._can_check():  # 7 916 ..., 79161234567: Russia's
            self._spend()
            found = [("phone", m.raw_string, m.start, m.end)
                     for m in phonenumbers.PhoneNumberMatcher(window, "RU", leniency=phonenumbers.Leniency.VALID)]
        for region, shape in _NEIGHBOURS:  # 0555 123 456: Kyrgyzstan's at home
            if not found and shape.search(window) and self._can_check():
                self._spend()
                found = [("phone", m.raw_string, m.start, m.end) for m in
                         phonenumbers.PhoneNumberMatcher(window, region, leniency=phonenumbers.Leniency.VALID)]
        return found

    def _in_window(self, window: str, first: int, last: int) -> tuple[Match, ...]:
        """What the run window[first:last] is: phone numbers, a local number, IINs, other 12-digit numbers."""
        value = window[first:last]
        if _hash_like(window, first, last) or (value[0] == "+" and _CODE_POINT.search(window, 0, first + 1)
                                                and _CODE_POINT_DIGITS.match(window, first)) \
                or window[max(0, first - 2):first] in ("0x", "0X") or _DIGIT_UUID.search(value):
            return ()  # (a Unicode code point, "U+2010..2014", a hexadecimal number, a UUID of digits: no number)
        digits = len(_NOT_DIGIT.sub("", value))
        dial = digits >= (8 if value[0] == "+" else 10)
        found = [m for m in self._phones(window) if not _quantity(m[1], window[m[3]:])] if dial else []
        taken = [(start, end) for _, _, start, end in found]
        if dial and self._can_check():  # what libphonenumber passed over: a run of two numbers, one glued
            for shape in _PHONE_SHAPE.finditer(window, first, last):
                if not _quantity(shape.group(), window[shape.end():]) and \
                        not any(a < shape.end() and shape.start() < b for a, b in taken):
                    found.append(("phone", shape.group(), shape.start(), shape.end()))
                    taken.append((shape.start(), shape.end()))
        for pattern, kind, wanted in ((_LOCAL, "possible-phone", "-" in value), (_TWELVE, "", len(value) >= 12)):
            for match in pattern.finditer(value) if wanted else ():
                start, end = first + match.start(), first + match.end()
                if not any(a <= start < b for a, b in taken):
                    found.append((kind or _twelve(match.group()), match.group(), start, end))
        taken = [(start, end) for _, _, start, end in found]
        for start, end in _grouped_iins(value):  # an IIN written in groups: 870105 300128, beside other numbers too
            start, end = first + start, first + end
            if not any(a < end and start < b for a, b in taken):
                found.append(("iin", window[start:end], start, end))
        return tuple(found)

    def find(self, text: str) -> list[Match]:
        """Every phone number, e-mail address, IIN and other 12-digit number in `text`, in order (in the text as
        `readable` makes it: the values reported are those of that view, at the text's own offsets)."""
        view, places = _shown(text) or (text, [])
        joined, joins = readable(view)
        if _nothing_to_find(joined):
            return []

        def back(offset: int) -> int:
            return _original(places, _original(joins, offset))

        return [(kind, value, back(start), back(end)) for kind, value, start, end in self._find(joined)]

    def _find(self, text: str) -> list[Match]:
        found: list[Match] = []
        runs: list[tuple[int, int]] = []  # where a card number can be: runs, joined where _RUN cut a long one
        for run in _RUN.finditer(text):
            if runs and run.start() - runs[-1][1] <= _RUN_GAP:
                runs[-1] = (runs[-1][0], run.end())
            else:
                runs.append(run.span())
            if not _worth_a_look(run.group()):
                continue
            start = max(0, run.start() - _CONTEXT)
            window = text[start:run.end() + _CONTEXT]
            key = f"{run.start() - start}:{window}"
            known = self.seen.get(key)
            if known is None:
                if len(self.seen) > 4096:
                    self.seen.clear()
                undated = _DATE.sub(_blank, window)  # the same length: offsets stay
                known = self.seen[key] = self._in_window(undated, run.start() - start, run.end() - start)
            found += [(kind, value, start + a, start + b) for kind, value, a, b in known]
        if "@" in text:
            found += [email for m in _EMAIL.finditer(text) if (email := _email(m)) is not None]
        lowered = text.lower()
        if any(hint in lowered for hint in _WORD_HINTS) or any(
                hint in lowered for mark in _HINT_MARKS if mark in lowered for hint in _MARKED_HINTS[mark]):
            found += _obfuscated_emails(text)
        taken = _Spans([(start, end) for _, _, start, end in found])
        long_runs = [(start, end) for start, end in runs if end - start >= _CARD_CHARS]
        places = [("card-number", *card) for card in card_numbers(text, long_runs)] \
            if long_runs or "/" in text else []  # (slashes: 4400/4302/1234/5679 holds no run)
        if any(mark in text for mark in COORDINATE_MARKS):  # ("43º14'20\"N 76º53'20\"E" has no ".")
            places += [("coordinates", *pair) for pair in coordinates(text)]
        places += [("map-link", *link) for link in map_links(text)] + [("map-link", *w) for w in what3words(text)]
        if runs:  # (a receiver's longitude is a run: 01131.000, B...4807038N01131000E)
            places += [("coordinates", *fix) for fix in receiver_fixes(text)]
        if "+" in text:
            places += [("coordinates", *code) for code in plus_codes(text)]
        if places:  # a number read as a phone already is not reported twice; twelve of a card's digits, or of a
            # fraction's, are no IIN ("4405 3045 0917 3323" is a card whose first twelve make a valid IIN)
            spans = _Spans([(start, end) for _, _, start, end in places])
            found = [match for match in found if match[0] not in _TWELVE_KINDS or not spans.overlaps(*match[2:])]
            taken = _Spans([(start, end) for _, _, start, end in found])
            found += [place for place in places if not taken.overlaps(place[2], place[3])]
            taken = _Spans([(start, end) for _, _, start, end in found])
        accounts = [("iban", *iban) for iban in ibans(text, lowered)]
        if runs or "№" in text:  # each number a document has is a run, but a series, "№" and six (45 08 № 123456)
            accounts += [("document-number", *number) for number in document_numbers(text, lowered)]
        if accounts:  # their digits are no phone, IIN or card (KZ75722C000012345678 holds twelve in a row)
            spans = _Spans([(start, end) for _, _, start, end in accounts])
            found = [match for match in found if not spans.overlaps(match[2], match[3])] + accounts
            taken = _Spans([(start, end) for _, _, start, end in found])
        for number in _SHORT_NUMBER.finditer(text):
            start, end = number.span()
            if _said_local(text, start) and not taken.overlaps(start, end):
                found.append(("possible-phone", number.group(), start, end))
        return sorted(found, key=lambda match: match[2])


# A letter O read as the zero it shows, as a number is typed to slip past a search or by mistake on a Russian
# keyboard: Latin, Cyrillic and Greek, either case, full-width, and the ideographic zero. In a group of digits and
# O's alone, from a digit or of three characters ("8 7О1 123 45 67", "45 6О", "8 701 О23", "87О1О53ОО128"; not o2.pl),
# or in the digits that end a word (Dana87О11234567, as Dana87011234567 is found; not DESKTOP-J1O6ANP, nor an IBAN's
# letters and digits), or nine or more of them before a word (87О11234567Dana, as 87011234567Dana is found); never
# a group of O's alone (the Russian word "о"), nor an octal number's prefix (0o755).
# Possessive throughout: each group is passed once, whatever follows it.
_O_LIKE = "Oo\u041e\u043e\u039f\u03bf\uff2f\uff4f\u3007"
_ZERO_LIKE = re.compile(f"(?P<group>(?<![^\\W_])(?:\\d++[{_O_LIKE}]|[{_O_LIKE}])[\\d{_O_LIKE}]*+"
                        f"(?:(?![^\\W_])|(?<=[\\d{_O_LIKE}]{{9}})))"
                        f"|(?<=[^\\W\\d_])\\d[\\d{_O_LIKE}]*+(?![^\\W_])")
# a first look, far faster than _ZERO_LIKE: an O beside a digit, or before one past other O's
_ZERO_HINT = re.compile(f"[{_O_LIKE}](?:(?<=\\d.)|(?=[{_O_LIKE}]*+\\d))")
_O_TO_ZERO = str.maketrans(_O_LIKE, "0" * len(_O_LIKE))
_OCTAL = re.compile("0[oO]\\d")


def _zeros(match: re.Match[str]) -> str:
    value = match[0]
    if (len(value) < 3 and (match["group"] is None or not value[0].isdigit())) \
            or not any(char.isdigit() for char in value) or _OCTAL.match(value):
        return value  # "о", "ООО", "o2" (o2.pl), a word's last "8o", 0o755; not "45 6О", a phone's last group
    return value.translate(_O_TO_ZERO)


def readable(text: str) -> tuple[str, list[tuple[int, int]]]:
    """`text` as a reader sees its numbers: Unicode spaces and other dashes made plain spaces and "-", full-width
    "@" and "." plain ones, a letter O in a number a zero (_ZERO_LIKE), and a line break that cuts a "+7 701" or "8 701"
    number in two, with the quote marks that open the next line (">>> " of a reply to a reply), made one space;
    with where each joint lies in the view and in `text` (as `_shown` says it)."""
    if not text.isascii() and _UNUSUAL.search(text):  # rare: translate() costs as much as the whole search
        text = text.translate(_SEPARATORS)
    if _ZERO_HINT.search(text):
        text = _ZERO_LIKE.sub(_zeros, text)
    if not _wrap_hint(text):
        return text, []
    pieces: list[str] = []
    places: list[tuple[int, int]] = []
    done = length = 0
    for wrap in _WRAPPED.finditer(text):
        joint = wrap.end(1)
        pieces += [text[done:joint], " "]
        length += joint - done
        places += [(length, joint), (length + 1, wrap.end())]
        length, done = length + 1, wrap.end()
    pieces.append(text[done:])
    return "".join(pieces), places


def _nothing_to_find(text: str) -> bool:
    """Whether `Finder._find` finds nothing in `text` for want of what each of its searches needs: no `_ANY_HINT`,
    none of `_LOWERED_HINTS`, no `_SHORT_NUMBER` after a word that says it is a phone's."""
    if _HINT_CHARACTER.search(text) or _RUN.search(text) or _IBAN_START.search(text) or _HINT_WORDS.search(text):
        return False
    if _LOWERED_HINTS.search(text.lower()):
        return False
    return _SAID_BEFORE.search(text) is None or all(not _said_local(text, number.start())
                                                    for number in _SHORT_NUMBER.finditer(text))


def _said_local(text: str, start: int) -> bool:
    """Whether a word that says a local phone number follows (`_SAID_LOCAL`) ends right before `start`: looked for
    only after a letter, a blank or one of `_SAID_ENDS` (after anything else, "accounts/000123", a search of the
    24 characters before for its words would find none)."""
    before = text[start - 1] if start else ""
    return (before.isalnum() or before == "_" or before.isspace() or (before != "" and before in _SAID_ENDS)) \
        and _SAID_LOCAL.search(text, max(0, start - 24), start) is not None


def _wrap_hint(text: str) -> bool:
    """Whether a digit, bracket or dash, then blanks, a line break, blanks or quote marks and a digit are in `text`
    (where `_WRAPPED` may join a number)."""
    if "\n" not in text and "\r" not in text:
        return False
    for candidate in _WRAP_HINT.finditer(text):
        at = candidate.start()
        while at > 0 and text[at - 1] in _WRAP_BLANKS:  # (never past the line's start: linear in the text)
            at -= 1
        if at > 0 and (text[at - 1] in ")-" or text[at - 1].isdecimal()):  # (isdecimal: what \d matches)
            return True
    return False


class _Spans:
    """Spans of a text already taken by findings, asked whether a new one overlaps any in logarithmic time (a block
    of a million findings and numbers was quadratic)."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        spans.sort()
        self.starts = [start for start, _ in spans]
        self.reach = list(itertools.accumulate((end for _, end in spans), max))  # the furthest end so far

    def overlaps(self, start: int, end: int) -> bool:
        index = bisect.bisect_left(self.starts, end) - 1  # the last span that begins before `end`
        return index >= 0 and self.reach[index] > start


def _grouped_iins(value: str) -> Iterator[tuple[int, int]]:
    """Where groups of digits in `value` that together make 12 make a valid IIN (870105 300128, 8701 0530 0128):
    whole groups of one size only, so the years and ages beside it ("1985 870105 300128") are not taken in, nor
    are counts side by side (a table's cells, "2011 13765 237")."""
    groups = [(m.start(), m.end()) for m in _DIGITS.finditer(value)]
    if len(groups) < 2 or "\t" in value or _THOUSANDS.fullmatch(value):  # cells of a table, a sum
        return
    for i, (start, _) in enumerate(groups):
        count = 0
        for end_group in groups[i:]:
            count += end_group[1] - end_group[0]
            if count >= 12:
                sizes = {b - a for a, b in groups[i:groups.index(end_group) + 1]}
                if count == 12 and end_group != groups[i] and len(sizes) == 1:  # 870105 300128, 8701 0530 0128
                    digits = _NOT_DIGIT.sub("", value[start:end_group[1]])
                    if _twelve(digits) == "iin":
                        yield start, end_group[1]
                break


def _email(match: re.Match[str]) -> Match | None:
    """An address found, less a picture's extension after it (photos/aizhan@mail.kz.jpg names aizhan@mail.kz);
    None for a picture named for screens of twice the density (photo@2x.png), which is no address."""
    value, end = match.group(), match.end()
    ending = next((e for e in _PICTURE_ENDS if value.lower().endswith(e)), None)
    if ending is not None:
        value, end = value[:-len(ending)], end - len(ending)
        if _DENSITY.fullmatch(value.partition("@")[2]) or "." not in value.partition("@")[2]:
            return None
    return "email", value, match.start(), end


def _obfuscated_emails(text: str) -> list[Match]:
    """Addresses written so that robots miss them (`_OBFUSCATED_AT`): aizhan [at] mail [dot] kz, aizhan(@)mail.kz,
    aizhan собака mail.kz, aizhan @ mail.kz; a plain " at " only with a dot written out too."""
    found: list[Match] = []
    for at in _OBFUSCATED_AT.finditer(text):
        if at.start() == 0 or not (text[at.start() - 1].isalnum() or text[at.start() - 1] in "._%+-"):
            continue  # nothing that could be the name before it ("@ @ @": looked for at each)
        local = _LOCAL_PART.search(text, max(0, at.start() - 64), at.start())
        domain = _OBFUSCATED_DOMAIN.match(text, at.end())
        if local is None or domain is None or not _ADDRESS_LOCAL.fullmatch(local.group()):
            continue  # "RT @ tengrinews.kz", "лает собака соседа.Страшно": no one's address
        name = domain.group()
        # A point with a space each side counts only before a domain's usual end: "mail . kz . Пишите" is an
        # address and a sentence's point, "I was @ home . Then" a point between words of prose
        while (spaced := _SPACED_DOT.search(name)) is not None and name[spaced.end():].lower() not in _SPACED_TLDS:
            name = name[:spaced.start()]
        if name != domain.group() and _OBFUSCATED_DOMAIN.fullmatch(name) is None:
            continue
        if (at.group() == "@" or at.group().strip().lower() == "at") and not _DOT_WRITTEN.search(name):
            continue  # "looked at tengrinews.kz"; a plain address is _EMAIL's (aizhan@mail(dot)kz is not)
        end = domain.start() + len(name)
        found.append(("email", text[local.start():end], local.start(), end))
    return found


def _quantity(value: str, after: str = "") -> bool:
    """Whether a phone-like `value` is a quantity (`_THOUSANDS`; `_GROWTH` with its unit `after` it), an address or
    a version (`_VERSION`)."""
    if _VERSION.search(value):
        return True
    if value[0] == "+":  # a growth, said with its unit: "+12 500 000 тенге" (never "+7 701 123 456 Рубина")
        return _GROWTH.fullmatch(value) is not None and _UNIT.match(after) is not None
    return _THOUSANDS.fullmatch(value) is not None or _IPV4.fullmatch(value) is not None


def _shown(text: str) -> tuple[str, list[tuple[int, int]]] | None:
    """`text` as it shows (`_SHOWN_SHORTER`: invisible characters left out, character references, escapes and
    %-encodings read), with where each changed piece begins in the view and in `text`; None if nothing changes."""
    if _SHOWN_SHORTER.search(text) is None:  # (most texts, and nearly all file names)
        return None
    pieces: list[str] = []
    places: list[tuple[int, int]] = []  # (offset in the view, offset in text) where a piece of each begins
    done = length = 0
    for candidate in _SHOWN_SHORTER.finditer(text):
        if candidate.start() < done:  # inside a run read already (a million zero-width spaces were quadratic)
            continue
        match = _SHORTER_PIECE.match(text, candidate.start())
        if match is None:
            continue
        raw = match.group()
        shown = _shown_as(raw)
        if shown == raw:
            continue
        pieces += [text[done:match.start()], shown]
        length += match.start() - done
        places += [(length, match.start()), (length + len(shown), match.end())]
        length, done = length + len(shown), match.end()
    if not places:
        return None
    pieces.append(text[done:])
    return "".join(pieces), places


def _shown_as(raw: str) -> str:
    if raw[0] == "*" and len(raw) > 2 and raw[-1] == "*" and raw[1:-1].isdigit():
        return raw[1:-1]  # a pair of single asterisks around digits: the digits, in italics
    if raw[0] in _INVISIBLE or raw[0] in "\\*_`":
        return ""
    if raw[0] == "%":
        return {"%40": "@", "%20": " "}.get(raw, "+")
    shown = html.unescape(raw)
    if len(shown) != 1:
        return raw
    return "" if shown in _INVISIBLE else shown if shown.isprintable() or shown.isspace() else raw


def _original(places: list[tuple[int, int]], offset: int) -> int:
    """Where offset `offset` of the view `_shown` made lies in the text (a piece shown shorter: where it begins)."""
    index = bisect.bisect_right(places, (offset, 1 << 62)) - 1
    if index < 0:
        return offset
    view, text = places[index]
    following = places[index + 1][1] if index + 1 < len(places) else 1 << 62
    return min(text + offset - view, following)


def find_identifiers(text: str, run: Checks | None = None) -> list[Match]:
    """Every phone number, e-mail address, IIN and other 12-digit number in `text`, in order."""
    return Finder(run).find(text)


def mask(value: str) -> str:
    """`value` with its letters and digits hidden but the first two and the last two (one, for short ones); a
    what3words address's words hidden whole, and their lengths ("///•••.•••.•••"): its words are a dictionary's,
    and their ends and lengths would name a few squares of 3 m in a town."""
    words = words_at(value)
    if words is not None:
        return mask(value[:words]) + _HIDDEN_WORDS
    places = [i for i, char in enumerate(value) if char.isalnum()]
    shown = set(places[:2] + places[-2:]) if len(places) > 6 else set(places[:1])
    return "".join(char if i in shown or not char.isalnum() else "•" for i, char in enumerate(value)).translate(
        _PLAIN_SPACES)


def embedded_files(text: str) -> list[re.Match[str]]:
    """Every file embedded in `text` as base64, in order: data: URIs (group 1 their type, if stated) and pictures
    pasted without a header; a picture that begins a data: URI is that URI's."""
    uris = list(_DATA_URI.finditer(text)) if ";" in text else []  # (;base64,: a search for the case-insensitive
    # "data:" tries every position)
    spans = [(m.start(), m.end()) for m in uris]
    bare = [m for m in _raw_files(text)
            if not (i := bisect.bisect_right(spans, (m.start(), len(text)))) or spans[i - 1][1] <= m.start()]
    return sorted([*uris, *bare], key=lambda m: m.start())


def _raw_files(text: str) -> Iterator[re.Match[str]]:
    """Every _RAW_FILE match in `text` that begins a run of base64 (none of its characters right before it); one
    inside a run skips to the run's end, where the next may begin, so the search stays linear."""
    at = 0
    while (match := _RAW_FILE.search(text, at)) is not None:
        start = match.start()
        if start == 0 or text[start - 1] not in _BASE64_CHARS:
            yield match
            at = match.end()
            continue
        gap = _NOT_BASE64.search(text, start)
        if gap is None:
            return
        at = gap.end()


def embedded_file(text: str) -> tuple[int, str] | None:
    """The first file embedded in `text` as base64: its line (from 1) and what it is ("image/jpeg as base64 (a data:
    URI)", "a PDF document as base64"); or None."""
    uri, bare = _DATA_URI.search(text) if ";" in text else None, next(_raw_files(text), None)
    match = uri if bare is None or (uri is not None and uri.start() <= bare.start()) else bare
    if match is None:
        return None
    if match is uri:
        what = match[1] or "a file of no stated type"  # `what`: a name the translations translate in turn
        kind = f"{what} as base64 (a data: URI)"
    else:
        what = _RAW_KINDS[_raw_kind(match)]
        kind = f"{what} as base64"
    return count_breaks(text[:match.start()]) + 1, kind


def _raw_kind(match: re.Match[str]) -> int:
    """What a _RAW_FILE match's first bytes say the file is: 1 a picture, 2 a HEIF or MP4 box, 3 a PDF, 4 a ZIP,
    5 another archive (7z, RAR, gzip: photos travel in them as in a ZIP, helper-163)."""
    start = match[0]
    return (2 if start.startswith("AAA") else 3 if start.startswith("JVBERi0") else 4 if start.startswith("UEsDB")
            else 5 if start.startswith(("N3q8ryc", "UmFyIRoH", "H4sI")) else 1)


_RAW_KINDS = {1: "an image file", 2: "a photo or video (HEIF, AVIF, MP4 or QuickTime)", 3: "a PDF document",
              4: "a ZIP file (an Office document or an archive)", 5: "an archive file (7z, RAR or gzip)"}


def scan_blocks(blocks: Iterable[Block], path: str, run: Checks | None = None) -> Iterator[Finding]:
    """Findings in blocks from `texts.text_blocks` or `texts.text_lines`, with line numbers and masked values;
    files embedded as data: URIs are reported too, each once (`embedded-file`). `run`: the libphonenumber calls
    the run has left, shared with its other files."""
    finder = Finder(run)
    for (first, text, _), upto in _reported_up_to(blocks):
        for match in embedded_files(text):
            if match.start() < upto:
                line = first + count_breaks(text[:match.start()])
                if match.re is _RAW_FILE:
                    yield _raw_finding(path, line, _raw_kind(match))
                elif match[1]:
                    yield Finding(path, "embedded-file", f"line {line}: {match[1]} inside the text as base64 (a "
                                  "data: URI), with whatever metadata it carries")
                else:
                    yield Finding(path, "embedded-file", f"line {line}: a file inside the text as base64 (a data: "
                                  "URI), with whatever metadata it carries")
        found = finder.find(text)
        starts = line_starts(text) if found else []
        for kind, value, start, _ in found:
            if start < upto:  # one that starts where the next block begins is reported with that block
                yield Finding(path, kind, f"line {first + bisect.bisect_right(starts, start)}: {mask(value)}")


def _raw_finding(path: str, line: int, kind: int) -> Finding:
    """A file pasted as base64 without a data: header, by its `_raw_kind` (one template each, for the
    translations)."""
    if kind == 2:
        return Finding(path, "embedded-file", f"line {line}: a photo or video (HEIF, AVIF, MP4 or QuickTime) inside "
                       "the text as base64, with whatever metadata it carries")
    if kind == 3:
        return Finding(path, "embedded-file", f"line {line}: a PDF document inside the text as base64, with "
                       "whatever metadata it carries")
    if kind == 4:
        return Finding(path, "embedded-file", f"line {line}: a ZIP file (an Office document or an archive) inside "
                       "the text as base64, with whatever metadata it carries")
    if kind == 5:
        return Finding(path, "embedded-file", f"line {line}: an archive file (7z, RAR or gzip) inside the text as "
                       "base64, with whatever metadata it carries")
    return Finding(path, "embedded-file", f"line {line}: a picture inside the text as base64, with whatever "
                   "metadata it carries")


def _reported_up_to(blocks: Iterable[Block]) -> Iterator[tuple[Block, int]]:
    """Each block, and the offset in it where the next block begins: what starts before it is reported with this
    block, the rest with the next, which reads it again, whole (a number that a line break at the block's edge
    cuts in two, or that a long line's cut does)."""
    previous: Block | None = None
    for block in blocks:
        if previous is not None:
            yield previous, len(previous[1]) - block[2]
        previous = block
    if previous is not None:
        yield previous, len(previous[1])


def scan_text(text: str, path: str) -> list[Finding]:
    """Findings in a text already in memory (an account being bundled)."""
    return list(scan_blocks(text_blocks([text]), path))


def scan_text_kept(text: str, path: str, keep: int, run: Checks | None = None) -> tuple[list[Finding], int]:
    """The first `keep` findings of `text`, and how many more it holds (counted, not kept: a list of a million
    phone numbers costs time in proportion, never memory)."""
    found = scan_blocks(text_blocks([text]), path, run)
    kept = list(itertools.islice(found, keep))
    return kept, sum(1 for _ in found)
