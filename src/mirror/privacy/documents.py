"""An identity document's number, right after the words that name the document: a passport's or an ID card's.

Example::

    document_numbers("удостоверение личности № 043567891")   # [("043567891", 25, 34)]
    document_numbers("паспорт N12345678")                      # [("N12345678", 8, 17)]

Kazakhstan's ID card (удостоверение личности, жеке куәлік) has nine digits, its passport (төлқұжат) N and eight;
a Russian one four digits of series and six (45 08 123456), an Uzbek or Kyrgyz one two letters and seven
(AA1234567, AN1234567, ID1234567). Any of them names its holder to whoever has the state's records. A number of
that shape is only reported after a word that names the document (within 40 characters: "паспорт серии 45 08
№ 123456", "ЖСК: 043567891"), as a local phone number is after "тел."; alone, nine digits are anything. An ID
card's nine digits in groups of three ("№ 043 567 891") only right after "№": so grouped, they are more often a sum.
"""

from __future__ import annotations

import re

from mirror.privacy.banks import word_starts

Found = tuple[str, int, int]  # value, start, end
# The words, lowercased, as hints: each is looked for as a literal (fast), then the number after it ("жеке куәлік"
# is found by its second word; none of two words, which the translations' extraction would take for prose)
# ("удост" is "удостоверение" cut short, as "удост. личности"; "куәлі" is "куәлік" and its forms, "куәлігі")
_HINTS = ("паспорт", "удост", "уд. лич", "уд.лич", "удв", "төлқұжат", "куәлі", "passport", "id-card", "жск", "card")
# ... of which this one counts only after the word "id" and a space ("ID card 043567891"; "card" alone is anything)
_AFTER_ID = "card"
# ... of which these are abbreviations, counted only as a whole word ("удвоился", doubled, is no "удв.")
_WHOLE = frozenset(("удв", "жск"))
# After the word: up to 40 characters without a digit or a line break ("личности №", "серии", "номер", ": "), then
# the number in one of the documents' shapes: nine digits (Kazakhstan's ID card), N and eight (its passport), two
# Latin capitals and seven (Uzbek, Kyrgyz), a Russian series of four digits and six, with spaces or a "№" between,
# or ten in a row (not any count of people: "паспорта забрали у 1500000 человек"); none with a currency or a count's
# word after it: a sum or a count ("бюджет на паспорта удвоился до 150000000 тенге", "удостоверений выдано 2022
# 150000 штук", "passport ... the fine was 123456789 tenge")
# The words in small letters and their endings only, so that a name is not taken for one: "043567891 Дана
# Сейткали", "Адамова", "Рубина", "Челябинск" after a number are its holder and place, not "дана" (pieces),
# "адам" (people), "руб", "чел."  # noqa: RUF003
_AMOUNT = (r"[ \u00a0]?(?:(?:тенге|теңге|рубл|доллар|человек|штук|адам|дана)\w{0,4}(?![\w-])"
           r"|(?:тг|руб|долл|евро|чел|шт)(?:\.|(?![\w-]))|(?i:kzt|usd|eur|tenge|dollars?|people|persons)(?![\w-])"  # noqa: RUF001
           r"|[₸$€%])")
# (N and eight also in two fours, N 1234 5678, and with "№" for the N it looks like, паспорт № 12345678; the
# two capitals also in Cyrillic letters that look so, АА1234567, as a Russian keyboard types them)
# The number may be on the next line after a label's colon or "№" ending the name's line ("Паспорт:\n043567891",
# as a form or a table is copied); any other line break ends the search.
_NUMBER = re.compile(r"(?:[^\d\n]{0,38}?[:№][ \t\u00a0]*\r?\n[ \t\u00a0]*)?"
                     r"[^\d\n]{0,40}?(?<![^\W\d_])(\d{9}"
                     r"|(?:(?<=№)|(?<=№[ \u00a0]))\d{3}[ \u00a0]\d{3}[ \u00a0]\d{3}(?![ \u00a0]\d{3}(?!\d))"
                     r"|[NН№][ \u00a0]?\d{4}[ \u00a0]?\d{4}"
                     r"|[A-ZАВЕКМНОРСТХ]{2}[ \u00a0]?\d{7}"
                     rf"|\d\d[ \u00a0]?\d\d[ \u00a0]?(?:№[ \u00a0]?)?\d{{6}})(?![\w/:-]|[.,]\d|{_AMOUNT})")
_LONGEST_HINT = max(map(len, _HINTS))


def document_numbers(text: str, lowered: str | None = None) -> list[Found]:
    """Every document number after a word that names the document in `text` (see the module); `lowered`: `text`
    lowercased, if the caller has it."""
    lowered = text.lower() if lowered is None else lowered
    if len(lowered) != len(text):  # İ, whose lowercase is two characters (one in a Kazakh or Turkish name in Latin
        lowered = text.replace("\u0130", "I").lower()  # letters made the whole text's numbers none): read as I
    found: list[Found] = []
    starts = sorted({(at, len(hint)) for hint in _HINTS for at in word_starts(lowered, hint)})
    done = 0
    for at, length in starts:
        if at < done:
            continue
        end = at + length
        if lowered[at:end] == _AFTER_ID and not _after_id(lowered, at):
            continue
        whole = lowered[at:end] in _WHOLE
        if whole and end < len(lowered) and lowered[end].isalpha():
            continue
        while not whole and end < len(lowered) and end - at < _LONGEST_HINT + 8 and lowered[end].isalpha():
            end += 1  # the word's ending: паспорта, удостоверения
        match = _NUMBER.match(text, end)
        if match is not None:
            found.append((match[1], match.start(1), match.end(1)))
            done = match.end(1)
    return found


def _after_id(lowered: str, at: int) -> bool:
    """Whether the word "id" and a space come right before `at` ("id card"; not "paid card")."""
    return at >= 3 and lowered[at - 3:at - 1] == "id" and lowered[at - 1] in " \u00a0" and (
        at == 3 or not lowered[at - 4].isalnum())


