"""A passport's or an ID card's number after the words that name it is an identifier (privacy/documents.py)."""

from __future__ import annotations

import re

import pytest

from helpers import assert_linear, assert_same_as_everywhere
from mirror.privacy import documents
from mirror.privacy.documents import document_numbers
from mirror.privacy.identifiers import scan_text


@pytest.mark.parametrize(("text", "value"), [
    ("удостоверение личности № 043567891", "043567891"),  # Kazakhstan's ID card: nine digits
    ("Уд. личности 043567891 выдано МВД РК", "043567891"),
    ("Иванов И., уд. лич. 043567891", "043567891"),
    ("ЖСК 043567891, тел. не помню", "043567891"),
    ("жеке куәлік нөмірі 043567891", "043567891"),
    ("паспорт N12345678", "N12345678"),  # its passport: N and eight
    ("Төлқұжат N 12345678", "N 12345678"),
    ("Паспорт гражданина РК Н12345678", "Н12345678"),  # a Cyrillic Н
    ("паспорт серии 45 08 № 123456", "45 08 № 123456"),  # Russia's: a series and six
    ("Паспорт: 4508 123456.", "4508 123456"),
    ("Passport AA1234567 (Uzbekistan)", "AA1234567"),  # Uzbek, Kyrgyz: two capitals and seven
    ("паспорта: AN 1234567", "AN 1234567"),
    ("ID-card: 043567891", "043567891"),
    ("удост. личности 043567891", "043567891"),  # cut short
    ("жеке куәлігім 043567891", "043567891"),  # Kazakh's forms: куәлігі, куәлігім
    ("Жеке куәлігінің нөмірі: 043567891", "043567891"),
    ("паспорт N 1234 5678", "N 1234 5678"),  # in two fours
    ("паспорт АА1234567", "АА1234567"),  # Cyrillic look-alike capitals
    ("İlyas Ömer, pasport... passport AB 1234567", "AB 1234567"),  # an İ before: its lowercase is longer
    ("ID card 043567891", "043567891"),  # English's two words
    ("паспорт № 12345678", "№ 12345678"),
    ("удостоверение 043567891 Дана Сейткали", "043567891"),  # a name after it, not "дана" (pieces)
    ("ЖСК 043567891 Адамова А.", "043567891"),
    ("паспорт 7505 123456 Челябинск", "7505 123456"),
    ("паспорт N12345678 Рубина", "N12345678"),
    ("паспорт 043567891 штраф не выписан", "043567891"),  # "№" for the N of Kazakhstan's passport
    ("паспорт №12345678, уд. № 043567891", "№12345678"),
    ("my id card: 043567891", "043567891"),
    ("Паспорт:\n043567891", "043567891"),  # a label's colon ends its line: a form copied
    ("Удостоверение личности №\r\n  043567891", "043567891"),
    ("удостоверение личности № 043 567 891", "043 567 891"),  # in groups of three, right after "№"
    ("уд. лич. №043\u00a0567\u00a0891", "043\u00a0567\u00a0891"),
])
def test_a_documents_number_after_its_name_is_found(text: str, value: str) -> None:
    assert [found[0] for found in document_numbers(text)] == [value]
    assert [f.kind for f in scan_text(text, "a.md")] == ["document-number"]


@pytest.mark.parametrize("text", [
    "паспорт выдан 05.01.2015",  # a date
    "паспорт от 2015 года, 12 человек",
    "паспорта забрали у 1500000 человек",  # a count
    "удостоверений выдано 120 000 000",  # a count in groups of three, no "№" before it
    "паспортный стол работал до 18:00, очередь 120 человек",
    "passport photos: 1200 of them",
    "удостоверения у него не было.\n043567891",  # a line below
    "удостоверение 043567891.5",
    "043567891",  # nine digits alone are anything
    "N12345678 AA1234567",
    "Бюджет на паспорта удвоился до 150000000 тенге",  # a sum: "удв" is a word of its own only
    "Расходы удвоились: 250000000 тенге",
    "ЖСК Самал заплатил 350000000 тенге подрядчику",  # a housing co-operative's sum
    "удостоверений выдано 2022 150000 штук",  # a year and a count
    "My passport was returned; the fine was 123456789 tenge",
    "паспорт: выдано 123456789 человек, 123456789 чел., 123456789 ₸, 123456789$, 043567891%",
    "төлқұжат алуға 123456789 теңге, 123456789 адам",
    "paid card 123456789",  # "card" counts after "id" only
    "card 043567891",
    "Паспорт остался дома\n043567891",  # a line break with no label's colon before it
    "Паспорт: дома.\n\n043567891",
    "в паспорте ошибка, а через 45 слов и больше пробелов в тексте стоит число 043567891",  # too far
])
def test_numbers_not_after_a_documents_name_are_none(text: str) -> None:
    assert document_numbers(text) == []


def _everywhere(text: str) -> list[tuple[str, int, int]]:
    """A document's name and its number by one case-insensitive regular expression tried at every position."""
    names = "|".join(
        rf"{re.escape(hint)}(?![^\W\d_])" if hint in documents._WHOLE else
        rf"(?<=(?<![^\W_])id[ \u00a0]){hint}[^\W\d_]{{0,{documents._LONGEST_HINT + 8 - len(hint)}}}+"
        if hint == documents._AFTER_ID else
        rf"{re.escape(hint)}[^\W\d_]{{0,{documents._LONGEST_HINT + 8 - len(hint)}}}+" for hint in documents._HINTS)
    pattern = re.compile(rf"(?<![^\W_])(?i:{names})(?:{documents._NUMBER.pattern})")
    return [(m[1], m.start(1), m.end(1)) for m in pattern.finditer(text)]


def test_the_search_by_names_finds_what_a_search_at_every_position_finds() -> None:
    """document_numbers() looks only after the names it finds as literals: on texts dense with names and numbers it
    finds exactly what one regular expression tried everywhere finds."""
    pieces = [*"0123456789 N№.,\n:-_", "паспорт", "Паспорта", "удостоверение личности", "ЖСК", "жеке куәлік",
              "Passport", "043567891", "12345678", "AA", "45 08 ", "123456", " серии ", "x", *[" "] * 10,
              "паспорт N12345678", "ЖСК: 043567891", "Паспорт 45 08 № 123456",
              "удв", "удвоился", "жскx", "id card", "ID card", "paid card", "card", ":\n", "№\r\n",
              "куәлігі", "удост.", "АВ", "İ", "N 1234 5678",
              " тенге", " человек", "₸", "%", "штук", " Дана", " дана", " руб.", " штраф"]  # noqa: RUF001
    assert_same_as_everywhere(document_numbers, _everywhere, pieces, seed=11, rounds=600, longest=80, least=100)


@pytest.mark.parametrize("unit", ["паспорт ", "паспорт 1", "удостоверение личности №", "ЖСК" + " " * 30, "N1234",
                                  "id card:\n",
                                  "паспорт:\n \n", "удвоился 123456789 ", "паспорт 123456789 тенгеxx"])
def test_time_is_linear_in_hostile_text(unit: str) -> None:
    assert_linear(document_numbers, unit)


@pytest.mark.parametrize("text", [
    "удостоверение личности № 870 105 300 128",  # twelve digits in groups of three (an IIN): no ID card's nine
    "удостоверений № 120 000 000 000",
])
def test_a_longer_run_of_groups_of_three_is_no_id_cards_number(text: str) -> None:
    """'№ 043 567 891' is an ID card's nine digits only when no fourth group follows: the first nine of twelve were
    reported as a document's number ('87• ••• •00')."""
    assert document_numbers(text) == []
    assert [found[0] for found in document_numbers("удостоверение № 043 567 891 2015 года")] == ["043 567 891"]
