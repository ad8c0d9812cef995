"""Texts as authors save them: UTF-8 with or without a BOM, UTF-16 from Notepad, legacy 8-bit code pages.

Example::

    decoded = decode_text(raw, "accounts/a.txt")            # UTF-8: the bytes stay as they are
    decoded.data, decoded.converted                         # b"...", None
    decode_text(utf16_with_bom, "a.txt").converted          # "UTF-16": stored as UTF-8 from now on
    decode_text(cp1251_bytes, "a.txt")                      # TextError: it looks like cp1251 (Windows Cyrillic)
    decode_text(cp1251_bytes, "a.txt", "cp1251").converted  # "cp1251"

    for first_line, text, seen in text_lines(chunks): ...   # any size: blocks of lines, about MAX_BLOCK

A legacy encoding cannot be told apart from another one for certain, so it is
never converted silently: the author names it (--text-encoding), helped by
charset-normalizer's guess. Byte-order marks are certain, so UTF-16 and UTF-32
with a BOM are converted and reported.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator

from mirror.errors import InputError
from mirror.privacy.cyrillic import cyrillic_encoding, garbled_letters, likelihood_gap, looks_cyrillic, shouts
from mirror.record import record

MAX_BLOCK = 256 * 1024  # characters scanned at once; a longer line is scanned in overlapping parts
OVERLAP = 1024  # characters a part shares with the one before, so an identifier cut at the edge is still seen
SNIFF = 64 * 1024  # bytes looked at to choose an encoding
NOT_TEXT = "not text (it holds binary data)"  # create's words for an account that is no text (scan says them too)
NOT_TEXT_FIX = "accounts are plain texts (.md, .txt): move this file out of the folder"
_NO_TEXT = re.compile("[\x00-\x08\x0e-\x1f\x7f\ud800-\udfff\ue000-\uf8ff\ufffe\uffff]")
_GARBLED = 2  # letters garbled as a neighbouring code page garbles them (cyrillic.garbled_letters): one may be a
# word of another language in a long text
_GAP = 1.5  # ... or a reading this much less likely a byte (cyrillic.likelihood_gap: 0.1 for a Ukrainian text)
CYRILLIC_SNIFF = 16 * 1024  # of which the Cyrillic code pages are told apart on the first (pure Python, per byte)
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32", "UTF-32"), (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
         (codecs.BOM_UTF8, "utf-8-sig", ""), (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
         (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"))
DESCRIBED = {"cp1251": "Windows Cyrillic, as Russian-language Windows saves it", "kz1048": "Windows Kazakh",
             "koi8_r": "KOI8-R (Unix Cyrillic)", "koi8_u": "KOI8-U (Unix Cyrillic)", "cp866": "DOS Cyrillic",
             "cp1125": "DOS Cyrillic", "mac_cyrillic": "Mac Cyrillic", "iso8859_5": "ISO Cyrillic",
             "ptcp154": "Kazakh PT154", "cp1252": "Windows Western European", "utf_16_le": "UTF-16 with no BOM",
             "utf_16_be": "UTF-16 with no BOM", "utf_32_le": "UTF-32 with no BOM",
             "utf_32_be": "UTF-32 with no BOM"}
Block = tuple[int, str, int]  # first line number, text, how many leading characters an earlier block held
_BREAKS = "\n\r"  # lines as editors and grep -n count them (a form feed per page of pdftotext output is none)
_BREAK = re.compile(f"[{_BREAKS}]")
_HIGH = re.compile(b"[\x80-\xff]")
MIXED_AFTER = 4  # characters beyond ASCII read as UTF-8 before the first byte that is not: a text put together


class TextError(InputError):
    """A text the tool will not guess about: a legacy encoding, or not text at all.

    Args:
        name: the text's path as the user knows it ("" for a problem of no one file).
        reason: what is wrong with it (create lists it after the name, translated on its own).
    """

    def __init__(self, name: str, reason: str, hint: str | None = None) -> None:
        super().__init__(f"{name}: {reason}" if name else reason, hint)
        self.name = name
        self.reason = reason


@record
class Decoded:
    """A text and the UTF-8 bytes to store for it.

    Attributes:
        text: the text, without a byte-order mark.
        data: the bytes to store: the original ones when they were UTF-8, else the text in UTF-8.
        converted: the encoding converted from ("UTF-16", "cp1251"...), or None when nothing changed.
    """

    text: str
    data: bytes
    converted: str | None


def _bom(head: bytes) -> tuple[str, str] | None:
    return next(((codec, label) for bom, codec, label in _BOMS if head.startswith(bom)), None)


def _utf16_without_bom(head: bytes) -> str | None:
    """'utf_16_le' or 'utf_16_be' when every other byte is 0x00 (Latin) or 0x04 (Cyrillic), as in UTF-16 text;
    'utf_32_le' or 'utf_32_be' when two bytes of every four are 0x00 and a third 0x00 or 0x04."""
    sample = head[: SNIFF // 4 * 4]
    if len(sample) < 8:
        return None
    if len(sample) % 4 == 0:
        for zeros, high, low, codec in ((sample[2::4] + sample[3::4], sample[1::4], sample[0::4], "utf_32_le"),
                                        (sample[0::4] + sample[1::4], sample[2::4], sample[3::4], "utf_32_be")):
            if not zeros.strip(b"\0") and _share(high, (0, 4)) >= 0.85 and _share(low, (0,)) < 0.2:
                return codec
    for high, low, codec in ((sample[1::2], sample[0::2], "utf_16_le"), (sample[0::2], sample[1::2], "utf_16_be")):
        if _share(high, (0, 4)) >= 0.85 and _share(low, (0, 4)) < 0.2:
            return codec
    return None


def _share(data: bytes, values: tuple[int, ...]) -> float:
    return sum(data.count(value) for value in values) / len(data)


def _single_byte(codec: str) -> bool:
    """Whether `codec` maps each byte to one character and keeps ASCII as it is (cp1251, koi8_r, latin-1...)."""
    return len(bytes(range(256)).decode(codec, "replace")) == 256 and b"09AZaz+@.".decode(codec) == "09AZaz+@."


def guess_encoding(head: bytes) -> str | None:
    """The likely 8-bit encoding of bytes that are not UTF-8 (a Python codec name), or None.

    The Cyrillic code page that reads the bytes most like Russian or Kazakh (the users' own legacy
    encodings, which a general detector confuses on short texts: KOI8-R taken for cp1251, cp866 for
    Urdu); for other texts, charset-normalizer's first single-byte candidate.
    """
    from charset_normalizer import from_bytes

    first = _HIGH.search(head)  # the sample starts where the text stops being ASCII, however far in that is
    start = 0 if first is None else first.start()
    cyrillic = cyrillic_encoding(head[start:start + CYRILLIC_SNIFF])
    if cyrillic is not None:
        return cyrillic
    for match in from_bytes(head[max(0, start - 1024):start + SNIFF]):
        if _single_byte(match.encoding):
            return str(match.encoding)
    return None


def _is_utf8(raw: bytes) -> bool:
    try:
        codecs.getincrementaldecoder("utf-8")().decode(raw[:SNIFF], final=len(raw) <= SNIFF)
    except UnicodeDecodeError:
        return False
    return True


def decode_text(raw: bytes, name: str, encoding: str | None = None, as_it_is: bool = False) -> Decoded:
    """Decode an author's text: UTF-8 as it is, UTF-16/32 with a BOM converted, else only the named encoding; a
    text that was damaged before it came here (`_damage`) is refused too, never signed as it is, unless the author
    takes it `as_it_is` (create --keep-text FILE).

    Raises:
        TextError: not UTF-8 and not in `encoding` (the message names the likely encoding), or damaged.
    """
    decoded = _decoded(raw, name, encoding)
    if not as_it_is:
        _damage(decoded.text, name)
    return decoded


# Cyrillic letters with "?" between them, where a program that saved the text in a code page without some letters
# (Kazakh ones in cp1251) put "?" for each, or U+FFFD where a program read it in the wrong encoding
# ... never before a capital ("Что?Где?Когда?", a question without its space) nor in a link's query
# ("сайт.рф/поиск?запрос=", helper-163)
# (said of each match by `_lost_letter`, in time linear in the text: a look-ahead to the end of the word was
# quadratic, helper-164)
_LOST = re.compile("[\u0400-\u04ff][?\ufffd]+(?=[\u0400-\u04ff])")
_LOST_AT_LEAST = 3  # one may be a question written without a space
_SAMPLE_CHARACTERS = 1 << 16
_WORD_AROUND = re.compile("[\\w?\ufffd]*[\u0400-\u04ff][?\ufffd]+[\\w?\ufffd]*")  # the word shown
_TOKEN_EDGE = re.compile(r"[\s,;|()\"'«»<>\[\]]")  # where a token ends, for `_lost_letter`
_ICONV = {"cp1251": "cp1251", "cp1252": "cp1252", "latin-1": "latin1", "koi8_r": "koi8-r"}  # iconv's names


def _damage(text: str, name: str) -> None:
    """Refuse a text whose letters were lost or garbled before it came here (helper-159: both were signed): "?"
    or U+FFFD inside Cyrillic words, or UTF-8 read as cp1251, Latin-1 or KOI8-R and saved again ("Р\u2019РµС‡РµСЂ" for
    "Вечер"), which turns back into Cyrillic text when the bytes are read as UTF-8 once more.

    Raises:
        TextError: the text is damaged so.
    """
    sample = text[:_SAMPLE_CHARACTERS]
    lost = [match for match in _LOST.finditer(sample) if _lost_letter(sample, match)]
    if len(lost) >= _LOST_AT_LEAST:
        around = _WORD_AROUND.search(sample, max(0, lost[0].start() - 40), lost[0].end() + 40)
        shown = (around.group() if around is not None else lost[0].group())[:40]
        raise TextError(name, f"it has '?' or '\ufffd' inside words in {len(lost)} places ({shown}): letters were "
                        "lost when it was saved in an encoding without them",
                        hint="save the original as UTF-8 (in Notepad: Save as, Encoding UTF-8) and use that copy; if "
                             "the text is right as it is, pass --keep-text FILE")
    garbled = _double_encoded(sample)
    if garbled is not None:
        codec, seen, fixed = garbled
        raise TextError(name, f"it is UTF-8 text that was read as {codec} and saved again: its letters are garbled "
                        f"({seen} for {fixed})", hint=f"convert it back: iconv -f utf-8 -t {_ICONV[codec]} "
                                                     f"{name} > fixed.txt, then use fixed.txt")


def _lost_letter(sample: str, match: re.Match[str]) -> bool:
    """Whether a "?" between Cyrillic letters stands for a lost letter: not before a capital (a question without
    its space, in Russian or Kazakh: "Кім?Қашан?"), not in a link (its query: "сайт.рф/поиск?запрос=", or a
    path before it)."""
    start, end = match.start(), match.end()
    if sample[end].isupper():
        return False
    # the token it is in, at most 64 characters each way, cut at spaces and at the punctuation between a table's
    # cells (helper-165: a date elsewhere on a CSV line hid every lost letter on it)
    head = _TOKEN_EDGE.split(sample[max(0, start - 64):start])[-1]
    after = _TOKEN_EDGE.search(sample, end, end + 64)
    tail = sample[end:after.start() if after is not None else end + 64]
    return "/" not in head and not ("=" in tail or "&" in tail)  # a link's path before it, or its query after it


def _double_encoded(sample: str) -> tuple[str, str, str] | None:
    """The code page UTF-8 text was read in and saved from again, if `sample` is that: its characters, written in
    that code page, are valid UTF-8 of Cyrillic text (a text written in Cyrillic never is: its letters' bytes in
    cp1251 are no UTF-8); with its first garbled word and that word as it was."""
    head = sample[:4096]  # (counted by the codec, not a character at a time: 0.2 ms a text, 2 s of 10,000 accounts)
    if head.isascii() or len(head) - len(head.encode("ascii", "ignore")) < 8:
        return None
    for codec in ("cp1251", "cp1252", "latin-1", "koi8_r"):
        try:
            data = sample.encode(codec)
        except UnicodeEncodeError:
            continue
        try:
            fixed = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(data) - 3:  # not only a character cut at the sample's end
                continue
            fixed = data[:exc.start].decode("utf-8")
        letters = [char for char in fixed if char.isalpha() and ord(char) > 127]
        if len(letters) >= 8 and sum(1 for char in letters if "\u0400" <= char <= "\u04ff") * 2 >= len(letters):
            word = next((w for w in sample.split() if any(ord(c) > 127 for c in w)), "")[:24]
            try:
                return codec, word, word.encode(codec).decode("utf-8", "replace")
            except UnicodeEncodeError:
                return codec, word, "?"
    return None


def _decoded(raw: bytes, name: str, encoding: str | None = None) -> Decoded:
    bom = _bom(raw)
    if bom is not None and bom[1]:
        try:
            text = raw.decode(bom[0])
        except UnicodeDecodeError as exc:
            raise TextError(name, f"starts like {bom[1]} text but is damaged at byte {exc.start}") from None
        return Decoded(text, text.encode("utf-8"), bom[1])
    utf16, position = _utf16_without_bom(raw), 0
    if utf16 is None:  # UTF-16 of ASCII and Cyrillic without a BOM is valid UTF-8 too: never take it as such
        try:
            return Decoded(raw.decode("utf-8-sig"), raw, None)
        except UnicodeDecodeError as exc:
            position = exc.start
    mixed = utf16 is None and _utf8_before(raw, position)
    if encoding is not None:
        named = _codec(encoding)
        if utf16 is not None and named is not None:
            family = codecs.lookup(utf16).name  # utf-16-le: utf-16 or utf-16-le named reads it so
            if named != family and family.rpartition("-")[0] != named:  # cp1251 named for a folder's other files
                shown = family.upper().replace("-LE", "LE").replace("-BE", "BE")
                raise TextError(name, f"it looks like {shown} text without a byte-order mark, not {encoding}",
                                hint=f"save this file as UTF-8 in a text editor (or give --text-encoding {family} "
                                     "for a folder of such files)")
            encoding = encoding if named == family else family  # utf-16 named: the byte order found
        return _decode_as(raw, name, encoding, position if mixed else None)
    if utf16 is None and b"\0" in raw[:SNIFF]:
        raise TextError(name, NOT_TEXT, hint=NOT_TEXT_FIX)
    if mixed:  # UTF-8 with a part pasted in from a legacy text: no one encoding reads it all
        rest, fix = guess_encoding(raw[position:]), ("part of it was saved in another encoding: open it in a text "
                                                      "editor, fix that part, and save the file as UTF-8")
        if rest is None:
            raise TextError(name, f"UTF-8 text up to byte {position}, then not", hint=fix)
        raise TextError(name, f"UTF-8 text up to byte {position}, then not: the rest looks like {rest}", hint=fix)
    likely = utf16 or guess_encoding(raw)
    if likely is None:
        raise TextError(name, f"not UTF-8 text (byte {position}), and not in any encoding mirror knows",
                        hint='open it in a text editor and "Save as" plain text (UTF-8)')
    hint = f"pass --text-encoding {likely} to convert it, or save it as UTF-8"
    other = _KAZAKH_PAIR.get(likely)
    if other is not None and (word := _first_difference(raw, likely, other)) is not None:
        # the two Kazakh code pages put some letters at each other's places: a short note may read well in both
        # (helper-159: a kz1048 note was named PT154, which turned its ғ into ә)
        hint = (f"pass --text-encoding {likely} ({word[0]}) or {other} ({word[1]}), whichever reads right, to "
                "convert it, or save it as UTF-8")
    if likely in DESCRIBED:
        described = DESCRIBED[likely]
        raise TextError(name, f"not UTF-8 text (byte {position}); it looks like {likely} ({described})", hint=hint)
    raise TextError(name, f"not UTF-8 text (byte {position}); it looks like {likely}", hint=hint)


_KAZAKH_PAIR = {"kz1048": "ptcp154", "ptcp154": "kz1048"}


def _first_difference(raw: bytes, one: str, other: str) -> tuple[str, str] | None:
    """The first word `one` and `other` read differently in `raw`, as each reads it; None if they read it alike or
    `other` does not read it as Cyrillic text."""
    head = raw[:4096]
    first, second = head.decode(one, "replace"), head.decode(other, "replace")
    if first == second or not looks_cyrillic(head, other):
        return None
    for a, b in zip(first.split(), second.split(), strict=False):
        if a != b:
            return a.strip(".,;:!?«»()\"'")[:24], b.strip(".,;:!?«»()\"'")[:24]
    return None


def _codec(encoding: str) -> str | None:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        return None


def _utf8_before(raw: bytes, position: int) -> bool:
    """Whether the UTF-8 that `raw` starts with holds MIXED_AFTER characters beyond ASCII before `position`, where
    it stops being UTF-8 (a legacy text's bytes only rarely form a few valid UTF-8 characters by chance)."""
    head = raw[:position]
    return position > 0 and sum(1 for byte in head if byte >= 0xC0) >= MIXED_AFTER


def _decode_as(raw: bytes, name: str, encoding: str, utf8_until: int | None) -> Decoded:
    """`raw` read in the encoding the author named, unless the file says otherwise: it is UTF-8 up to byte
    `utf8_until` (reading it all in `encoding` would garble that part), or this encoding reads it as a text of
    capitals where a Cyrillic code page reads it as Russian or Kazakh (KOI8-R among cp1251 files, or the reverse).
    Nor is a Kazakh text in kz1048 read as cp1251 (_kazakh_in_cp1251: letters no Russian, Ukrainian or Belarusian
    text has). Any other reading is the author's to choose: Ukrainian and Belarusian letters sit where kz1048 puts
    other Kazakh ones, so no statistics of Russian and Kazakh can overrule the encoding named."""
    try:
        codec = codecs.lookup(encoding).name
        if not codec.startswith(("utf-16", "utf-32")):  # DOS marked a text's end with ^Z (CP/M padded with them):
            raw = raw.rstrip(b"\x1a")  # no character of it (in UTF-16BE, 04 1A is К; no double-byte page has it)
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise TextError(name, f"not valid {encoding} text either (byte {exc.start})",
                        hint="check the encoding, or save the file as UTF-8") from None
    except LookupError:
        raise TextError("", f"{encoding} is not a text encoding", hint="for example: cp1251") from None
    if utf8_until is not None:
        raise TextError(name, f"UTF-8 text up to byte {utf8_until}; read as {encoding}, that part would be garbled",
                        hint="part of it was saved in another encoding: open it in a text editor, fix that part, "
                             "and save the file as UTF-8")
    strange = _NO_TEXT.search(text)
    if strange is not None:  # cp1251 bytes read as UTF-16: private-use characters, halves of pairs, controls
        raise TextError(name, f"read as {encoding} it holds characters no text has (character {strange.start()})",
                        hint="check the encoding, or save the file as UTF-8")
    first = _HIGH.search(raw)
    if first is not None:
        sample = raw[first.start():first.start() + CYRILLIC_SNIFF]
        # most texts: one look at their first 4 KiB beyond ASCII (pure Python, a byte at a time)
        head = sample[:4096]
        likely = cyrillic_encoding(head)
        other = likely is not None and codecs.lookup(likely).name != codec
        if other and likely is not None and (not looks_cyrillic(head, codec) or (
                shouts(head, codec) and not shouts(sample, likely))  # cp866 or KOI8-R read as cp1251, or Latin-1
                or _garbled(head, codec, likely)):  # a neighbour's few letters (helper-159)
            raise TextError(name, f"read as {encoding} it is not Russian or Kazakh text; it looks like {likely}",
                            hint="each text needs its own encoding: convert this one (iconv, or a text editor's "
                                 "Save as UTF-8), or put it aside and create the bundle from the others first")
        if codec == "cp1251" and (_kazakh_in_cp1251(sample) or (likely == "kz1048" and _kazakh_only(sample))):
            raise TextError(name, f"read as {encoding} it has letters that Russian, Ukrainian and Belarusian never "
                            "use (ќ, ј, ѕ) where kz1048 has Kazakh ones (қ, ә, ң): it looks like kz1048 (Windows "  # noqa: RUF001
                            "Kazakh)", hint=f"each text needs its own encoding: convert this one to UTF-8 (iconv -f "
                            f"kz1048 -t utf-8, or -f {encoding} if that is right after all), or put it aside and "
                            "create the bundle from the others first")
    return Decoded(text, text.encode("utf-8"), encoding)


def _garbled(head: bytes, codec: str, likely: str) -> bool:
    """Whether `codec` garbles letters of `head` that `likely` reads as Russian or Kazakh ones: two, or one in
    twenty bytes above 127 (a note of three words), or its reading is far less likely as a whole."""
    garbled = garbled_letters(head, codec, likely)
    return (garbled >= _GARBLED or garbled * 20 >= len(_HIGH.findall(head))
            or likelihood_gap(head, codec, likely) > _GAP)


# kz1048 is cp1251 with 16 letters swapped for Kazakh ones. Six of its bytes are қ, Қ, ә, Ә, ң, Ң in kz1048 and
# Macedonian or Serbian letters in cp1251 (ќ, Ќ, ј, Ј, ѕ, Ѕ); texts in those languages also use љ, њ, џ, ђ or ѓ,  # noqa: RUF003
# which no Kazakh text does. (Ukrainian and Belarusian cp1251 texts use the other swapped bytes, є, ї, ґ, ў, so a
# guess between the two code pages is not enough to refuse the one the author named.)
_KAZAKH_ONLY = re.compile(b"[\x8d\x9d\xa3\xbc\xbd\xbe]")
_SOUTH_SLAVIC = re.compile(b"[\x80\x81\x83\x8a\x8c\x8f\x90\x9a\x9c\x9f]")
# Also ғ, ү, ұ, ө in kz1048, which are Є, Ї, Ў, Ґ in cp1251: Ukrainian and Belarusian letters, which no Serbian or
# Macedonian text has (a short Serbian text may use ј with none of љ, њ, џ, ђ, ѓ).  # noqa: RUF003
_KAZAKH_TOO = re.compile(b"[\xaa\xba\xaf\xbf\xa1\xa2\xa5\xb4]")


def _kazakh_only(sample: bytes) -> bool:
    """Whether bytes read as cp1251 hold two or more of the Macedonian and Serbian letters where kz1048 has қ, ә,
    ң, none of those languages' own, and і, which Kazakh writes often and they never do (a short Kazakh note
    without ғ, ү, ұ, ө: "Біз ... қорықпаңдар" as "Біз ... ќорыќпаѕдар")."""
    return len(_KAZAKH_ONLY.findall(sample)) >= 2 and _SOUTH_SLAVIC.search(sample) is None and (
        b"\xb3" in sample or b"\xb2" in sample)


def _kazakh_in_cp1251(sample: bytes) -> bool:
    """Whether bytes read as cp1251 are a Kazakh text in kz1048 (garbled: "Ќазаќстан" for "Қазақстан"): letters of
    Macedonian or Serbian and of Ukrainian or Belarusian together, which no text in one of those languages has."""
    return (len(_KAZAKH_ONLY.findall(sample)) >= 2 and _KAZAKH_TOO.search(sample) is not None
            and _SOUTH_SLAVIC.search(sample) is None)


def stream_codec(head: bytes) -> str:
    """The codec to read a text of unknown origin with, from its first bytes (never fails: errors are replaced)."""
    bom = _bom(head)
    if bom is not None:
        return bom[0]
    utf16 = _utf16_without_bom(head)
    if utf16 is not None:
        return utf16
    if _is_utf8(head) or _mostly_utf8(head):
        return "utf-8"
    return guess_encoding(head) or "latin-1"  # latin-1 keeps ASCII identifiers as they are


# A byte that is not UTF-8 inside UTF-8 text is read as Windows' Western code page (where texts pasted from Word
# or a web page got it: 0xA0 a no-break space, 0x96 a dash), so that a number it sits in stays whole; U+FFFD cut it
# in two. Decoded with surrogateescape, then translated: both in C (an error handler in Python took 2.5 s a MiB of
# such bytes, which a hostile file is made of).
_STRAY = str.maketrans({0xDC00 + byte: bytes([byte]).decode("cp1252", "replace") for byte in range(0x80, 0x100)})
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def _mostly_utf8(head: bytes) -> bool:
    """Whether bytes are UTF-8 but for a few stray ones (a cp1252 dash pasted into a UTF-8 note): at least 8
    characters beyond ASCII decode, eight times as many as bytes that do not. Read as UTF-8 with the stray bytes
    replaced, its identifiers stay whole; read as Latin-1, every non-breaking space inside a number broke it."""
    text = head[:SNIFF].decode("utf-8", "replace")
    stray = text.count("\ufffd")
    decoded = sum(1 for char in text if char > "\x7f") - stray
    return decoded >= 8 and decoded >= 8 * stray


def line_starts(text: str) -> list[int]:
    """Where each line after the first begins in `text` (after each "\n" or "\r", "\r\n" already one)."""
    return [match.end() for match in _BREAK.finditer(text)]


def count_breaks(text: str) -> int:
    """How many line breaks `text` holds (as `line_starts` counts them, at the speed of str.count)."""
    return sum(text.count(char) for char in _BREAKS)


def _one_break(texts: Iterable[str]) -> Iterator[str]:
    """`texts` with each "\r\n" made "\n", also where a piece ends between the two."""
    carried = ""
    for text in texts:
        text = carried + text
        carried = "\r" if text.endswith("\r") else ""
        yield text[: len(text) - len(carried)].replace("\r\n", "\n")
    yield carried


def text_blocks(texts: Iterable[str]) -> Iterator[Block]:
    """Text that arrives in pieces, as blocks of whole lines of about MAX_BLOCK characters ("\r\n" made "\n").

    A line longer than MAX_BLOCK comes in parts that overlap by OVERLAP characters. Each item is
    (number of its first line, text, characters at its start that the previous block already held).
    """
    number, held, seen = 1, "", 0
    for text in _one_break(texts):
        held += text
        while len(held) >= MAX_BLOCK:
            # Whole lines when there is a line break past what the block before held, and the next block starts
            # again with the last of them (up to OVERLAP characters of it: a number that a line break cuts in two
            # is joined across it); else a part of one long line, and the next part starts OVERLAP characters
            # before this one ends. Each cut lies past the one before: the blocks move on.
            cut = max(held.rfind("\n", seen, MAX_BLOCK), held.rfind("\r", seen, MAX_BLOCK)) + 1
            if cut:
                line = max(held.rfind("\n", 0, cut - 1), held.rfind("\r", 0, cut - 1)) + 1
                end, start = cut, max(line, cut - OVERLAP)
            else:
                end, start = MAX_BLOCK, MAX_BLOCK - OVERLAP
            yield number, held[:end], seen
            number, held, seen = number + count_breaks(held[:start]), held[start:], end - start
    if held:
        yield number, held, seen


def text_lines(chunks: Iterable[bytes]) -> Iterator[Block]:
    """The text that arrives in byte chunks (a file, a bundle member) as blocks of lines, in bounded memory."""
    source = iter(chunks)
    head = b""
    for chunk in source:
        head += chunk
        if len(head) >= SNIFF:
            break
    codec = stream_codec(head)
    utf8 = codec == "utf-8"
    decoder = codecs.getincrementaldecoder(codec)("surrogateescape" if utf8 else "replace")

    def read(text: str) -> str:
        return text.translate(_STRAY) if utf8 and _ESCAPED_BYTE.search(text) else text

    def decoded() -> Iterator[str]:
        yield read(decoder.decode(head))
        for chunk in source:
            yield read(decoder.decode(chunk))
        yield read(decoder.decode(b"", final=True))

    return text_blocks(decoded())
