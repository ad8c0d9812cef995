"""The catalogs cover every user-facing string, and `translate` matches lines against templates safely."""

from __future__ import annotations

import ast
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mirror import i18n
from mirror.i18n import Catalog

TOOLS = Path(__file__).resolve().parents[2] / "tools"
sys.path.insert(0, str(TOOLS))

import i18n as catalogs  # noqa: E402  (tools/i18n.py)
from i18n_extract import has_words, messages  # noqa: E402


@pytest.fixture
def russian() -> Iterator[None]:
    """Translate into Russian for one test."""
    i18n.use("ru")
    yield
    i18n.use("en")


def test_catalogs_are_complete_and_compiled() -> None:
    """Every template in the source has a Russian and a Kazakh translation, none is stale, every .mo is current."""
    assert catalogs.check() == []


def test_a_new_message_without_translation_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """A string added to the source and not to the catalogs makes the check fail, naming it."""
    real = catalogs.extracted()
    monkeypatch.setattr(catalogs, "extracted", lambda: {**real, "a brand new message {path}": ["x.py:1"]})
    problems = catalogs.check()
    assert "ru/mirror: not translated: 'a brand new message {path}'" in problems
    assert "kk/mirror: not translated: 'a brand new message {path}'" in problems


def test_a_bundle_has_one_name_in_each_language() -> None:
    """A bundle is "набор" and "жиынтық", as the reader's page says it: verify of a copy packed inside a folder
    said "файлы пакета" / "пакет файлдары", and the index and swarm lines "пакет", which reads as another thing."""
    assert [p for p in catalogs.check() if "a bundle is" in p] == []
    i18n.use("ru")
    try:
        assert i18n.translate("this copy holds a bundle's files inside the folder 'almaty/'") == \
            "в этой копии файлы набора лежат внутри папки 'almaty/'"
        i18n.use("kk")
        assert "жиынтық" in i18n.translate("this copy holds a bundle's files inside the folder 'almaty/'")
    finally:
        i18n.use("en")


def _extract(source: str) -> list[str]:
    return [t for _, t in messages(ast.parse(source))]


def test_extractor_turns_fstrings_into_named_templates() -> None:
    """Errors, hints, printed lines and help texts become brace templates named after their expressions."""
    found = _extract(
        'raise SignatureError(f"signed by key {key_id}, which is not in your keyring", hint="ask {the} author")\n'
        'say(f"  bundle {result.meta.title!r}, {counts[\'accounts\']} accounts, {len(x)} of {printable(p.path)}")\n'
        'click.option("--x", help="what it does")\n'
        'raise TransferError(where, f"{path} is not there", Failure.MISSING)\n')
    assert "signed by key {key_id}, which is not in your keyring" in found
    assert "ask {{the}} author" in found
    assert "  bundle {title!r}, {accounts} accounts, {0} of {path}" in found
    assert "what it does" in found
    assert "{path} is not there" in found


def test_extractor_skips_what_is_not_words() -> None:
    """Dictionary keys, comparisons, patterns and docstrings of plain functions are not messages."""
    found = _extract(
        'def f():\n    """A helper that says hello world."""\n'
        '    doc = {"two words": 1}\n    if x == "also two words": pass\n'
        '    re.compile("some pattern here")\n    return "a user facing sentence"\n')
    assert found == ["a user facing sentence"]


def test_extractor_covers_concatenations_and_choices() -> None:
    """`a + (b if c else "")` yields both lines; a value concatenated in becomes a placeholder."""
    found = _extract('say(f"MISSING {title}" + (f"  {note}" if note else ""))\n'
                     'raise ArchiveError("unsupported coder chain " + " + ".join(names))\n')
    assert {"MISSING {title}", "MISSING {title}  {note}", "unsupported coder chain {value}"} <= set(found)


def test_templates_without_words_are_not_messages() -> None:
    """A line made only of values and punctuation has nothing to translate."""
    assert not has_words("  {size:>10}  {path}")
    assert has_words("{path}: not there")


def test_unmatched_text_passes_through_unchanged(russian: None) -> None:
    """A line no template matches is printed in English, byte for byte."""
    for text in ("no template has this text", "", "  indented:  odd spacing ", "\x1b[31m", "a: b: c"):
        assert i18n.translate(text) == text


def test_english_prints_as_is() -> None:
    """With English chosen, translate returns its input and loads no catalog."""
    i18n.catalog.cache_clear()
    assert i18n.translate("VERIFIED  x.7z") == "VERIFIED  x.7z"
    assert i18n.catalog.cache_info().currsize == 0


def test_values_are_inserted_as_printed(russian: None) -> None:
    """Values from a bundle stay exactly as they were printed, even when they look like a message."""
    line = "  bundle       'CLEAN', version 2, id {x}"
    assert i18n.translate(line) == "  набор         'CLEAN', версия 2, id {x}"


def test_message_values_are_translated_in_turn(russian: None) -> None:
    """An inner error inside an outer one, and a hint, are translated too."""
    assert i18n.translate("index bundle entry: index bundle entry is malformed") == (
        "запись набора в индексе: запись набора в индексе имеет неверный формат")
    assert i18n.translate("hint: pass --force to replace it") == "подсказка: укажите --force, чтобы заменить его"


def test_an_indented_message_is_translated_as_a_message(russian: None) -> None:
    """The indent of a problem under a verdict is no part of a value: "  the bundle has no SHA256SUMS" is the
    message indented, not "{where} has no ..." with the spaces in WHERE; a template that names the indent wins."""
    assert i18n.translate("  the bundle has no SHA256SUMS") == "  в наборе нет SHA256SUMS"
    assert i18n.translate("  stick holds no SHA256SUMS") == "  в stick нет SHA256SUMS"
    assert i18n.translate("  fingerprint  12345").startswith("  отпечаток")


def test_a_value_marked_verbatim_is_never_read_as_the_tools_words(russian: None) -> None:
    """A title or a file name that is written as one of the tool's messages was printed as its translation: an
    unknown signer's account title read as mirror's own Russian verdict. Marked, it is printed as it is (marks
    gone), a ": " in it splits nothing, and its digits are not regrouped; the words around it are still translated."""
    message = "the bundle has no SHA256SUMS"
    assert i18n.translate(message) != message  # the catalog has it
    assert i18n.translate(i18n.verbatim(message)) == message
    assert i18n.translate("  123  " + i18n.verbatim(f"a.md: {message}")) == f"  123  a.md: {message}"
    assert i18n.translate(f"{i18n.verbatim('x')}: {message}") == f"x: {i18n.translate(message)}"
    assert i18n.translate(f"  {i18n.verbatim('hint: pass --force to replace it')}  (1,024)") == (
        "  hint: pass --force to replace it  (1\u00a0024)")
    line = f"{i18n.verbatim('the bundle has no')} SHA256SUMS"  # the template's words half inside the value
    assert i18n.translate(line) == "the bundle has no SHA256SUMS"
    i18n.use("en")
    assert i18n.translate(i18n.verbatim(message)) == message


def test_thousands_are_set_apart_as_russian_and_kazakh_write_them(russian: None) -> None:
    """1,234,567 reads as a decimal in Russian: it is printed 1 234 567 (no-break spaces); lists and versions stay."""
    line = i18n.translate("a path part of 1,024 bytes, more than 255 (a file system's limit)")
    assert "1\u00a0024" in line and "1,024" not in line
    assert i18n.translate("unknown thing 2, 4, 5 of v1.2") == "unknown thing 2, 4, 5 of v1.2"


def test_a_decimal_number_takes_a_comma_in_russian_and_kazakh(russian: None) -> None:
    """"0.5 s" reads as English in a Russian line: a value a template formats as a decimal ({seconds:.1f},
    {wait:g}) is printed with a decimal comma; other values that hold a point (a path, a version) stay."""
    assert i18n.translate("12,345 bytes in 3.5 s") == "12\u00a0345 байт за 3,5 с"
    assert i18n.translate("GET /v1.5/x.7z: no answer within 2.5 s") == "GET /v1.5/x.7z: нет ответа за 2,5 с"
    assert i18n.translate("GET /x: no answer within 5 s") == "GET /x: нет ответа за 5 с"
    assert i18n.translate("index v3 expired 12.5 hours ago") == "срок индекса v3 истёк 12,5 часа назад"
    assert i18n.translate("index v3 expired 1,234.5 days ago") == "срок индекса v3 истёк 1\u00a0234,5 дня назад"


def test_a_message_after_a_path_is_translated_whole(russian: None) -> None:
    """join names the part a problem is in: "PART: 1 file(s) failed: changed: X". The split after the path was
    chosen by its own template's weight alone, so "changed: X" won and "1 file(s) failed" stayed English; what the
    values' templates match counts too."""
    line = "p1/v1.part2of4 (1).7z: 1 file(s) failed: changed: photos/a.jpg (sha256 does not match)"
    assert i18n.translate(line) == ("p1/v1.part2of4 (1).7z: файлов с ошибкой: 1: изменён: photos/a.jpg "
                                    "(sha256 не совпадает)")


def test_prefix_before_a_message_is_kept(russian: None) -> None:
    """`WHERE: MESSAGE` with an unknown WHERE (a host, a path) translates the message and keeps WHERE."""
    assert i18n.translate("https://a.example/m/: index.json is not there") == (
        "https://a.example/m/: index.json там нет")
    assert i18n.translate("photos/a.jpg: exif: 3 more EXIF tag(s): camera settings, sizes and the like") == (
        "photos/a.jpg: exif: ещё теги EXIF (3): настройки камеры, размеры и тому подобное")


def test_verdict_words_and_file_kinds_are_translated_in_turn(russian: None) -> None:
    """The verdict at the head of a part's line, and the kind of a file that is not regular, read in one language."""
    assert i18n.translate("VERIFIED, part 2 of 3: 15 of 44 files present, all match  b.part2of3.7z") == (
        "ПРОВЕРЕНО, часть 2 из 3: файлов есть 15 из 44, все совпадают  b.part2of3.7z")
    assert i18n.translate("/tmp/x is a FIFO (named pipe), not a regular file") == (
        "/tmp/x — FIFO (именованный канал), а не обычный файл")


def test_the_most_specific_template_wins() -> None:
    """Of two templates that match, the one with more literal text is used."""
    catalog = Catalog({"{what} is too large": "{what}: слишком большой",
                       "SHA256SUMS is too large": "SHA256SUMS слишком большой",
                       "{a} is {b}": "{a} есть {b}"})
    assert catalog.translate("SHA256SUMS is too large") == "SHA256SUMS слишком большой"
    assert catalog.translate("index.json is too large") == "index.json: слишком большой"
    assert catalog.translate("sky is blue") == "sky есть blue"


def test_hostile_lines_stay_fast(russian: None) -> None:
    """Long lines full of separators cost bounded time (no catastrophic backtracking)."""
    lines = [": " * 2000, "a: " * 1300 + "not a valid JPEG: x", "{0} " * 1000, "x" * 100_000, "a: " * 5 + "b" * 5000]
    start = time.perf_counter()
    for line in lines:
        out = i18n.translate(line)
        assert out == line or out.endswith(": некорректный JPEG: x")
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize(("environ", "expected"), [
    ({"LANG": "ru_RU.UTF-8"}, "ru"),
    ({"LANG": "kk_KZ.UTF-8"}, "kk"),
    ({"LANG": "kz_KZ.UTF-8"}, "kk"),  # the country's code for its language: a common slip
    ({"MIRROR_LANG": "kz"}, "kk"),
    ({"LC_MESSAGES": "kk_KZ", "LANG": "ru_RU.UTF-8"}, "kk"),
    ({"LC_ALL": "C.UTF-8", "LANG": "ru_RU.UTF-8"}, "en"),
    ({"MIRROR_LANG": "en", "LC_ALL": "ru_RU.UTF-8"}, "en"),
    ({"MIRROR_LANG": "kk", "LANG": "ru_RU.UTF-8"}, "kk"),
    ({"MIRROR_LANG": "ru-RU"}, "ru"),
    ({"LANG": "de_DE.UTF-8"}, "en"),
    ({"LANGUAGE": "kk:ru", "LANG": "ru_RU.UTF-8"}, "kk"),
    ({"LANGUAGE": "de:ru", "LANG": "de_DE.UTF-8"}, "ru"),
    ({"LANGUAGE": "ru", "LANG": "C"}, "en"),
    ({"LANGUAGE": "ru", "MIRROR_LANG": "en", "LANG": "ru_RU.UTF-8"}, "en"),
    ({}, "en"),
])
def test_language_choice(environ: dict[str, str], expected: str) -> None:
    """MIRROR_LANG, then LC_ALL, LC_MESSAGES, LANG: the first set decides; anything but ru or kk is English."""
    assert i18n.language(environ) == expected


def test_a_terminal_that_cannot_show_cyrillic_gets_english() -> None:
    """An ASCII or Latin-1 terminal is not sent letters it cannot print."""
    assert not i18n.can_show("kk", ("ascii", "utf-8"))
    assert not i18n.can_show("ru", ("latin-1",))
    assert i18n.can_show("kk", ("utf-8", "UTF-8"))
    assert i18n.can_show("ru", ("koi8-r", "cp1251"))


LOCALE = Path(__file__).resolve().parents[2] / "src" / "mirror" / "locale"


def _column(line: str) -> int:
    """Where the value starts after an indented label: after its run of two or more spaces, else after its first
    word and one space ("  endorsements {0}", "  подтверждения {0}")."""
    import re

    wide = re.match(r"  \S.*?\S {2,}", line)
    if wide is not None and len(wide[0]) <= 24:
        return len(wide[0])
    word = re.match(r"  \S+ ", line)
    return len(word[0]) if word is not None else -1


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_labels_line_up_in_each_language(lang: str) -> None:
    """The indented labels of verify, show, endorse and open ("  signed by    ...") start their values at one
    column in each language, as in English, so that the block reads as a table."""
    from babel.messages.pofile import read_po

    with (LOCALE / lang / "LC_MESSAGES" / "mirror.po").open("rb") as po:
        labelled = {m.id: m.string for m in read_po(po) if isinstance(m.id, str) and m.string
                    and m.id.startswith("  ") and _column(m.id) == 15}
    columns = {msgid: _column(text) for msgid, text in labelled.items()}
    assert len(labelled) > 10
    assert len(set(columns.values())) == 1, sorted(columns.items(), key=lambda item: item[1])


def test_long_lines_are_translated_within_bounds(russian: None) -> None:
    """A template of several placeholders backtracks on a line built for it (11 s at 4,000 characters; the worst
    that stays is measured by bench/translate.py): past MAX_TEXT_MANY only templates of at most two are tried, so
    a part's long list of missing files is still translated; past MAX_TEXT nothing is."""
    shown = ", ".join(f"photos/2022-01-05-square-{n:03d}-from-the-fourth-floor.jpg" for n in range(20))
    missing = f"  missing      25 files, not in this part: {shown}"
    assert len(missing) > i18n.MAX_TEXT_MANY and i18n.translate(missing).startswith("  отсутствуют ")
    volumes = f"volume {shown} of x is missing (1 of 3 volumes found)"
    assert i18n.translate(volumes) == volumes  # four placeholders, over 1,000 characters: as it is
    short = "volume a.7z.002 of a.7z is missing (1 of 3 volumes found)"
    assert i18n.translate(short).startswith("нет тома a.7z.002")
    longer = "hint: " + "x" * i18n.MAX_TEXT
    assert i18n.translate(longer) == longer


def test_a_line_with_a_prefix_takes_the_most_specific_template_after_it() -> None:
    """"PATH: name: the name carries ..." splits at its first ": " into "name: {0}" and at its second into "the name
    carries {what}": the longer template wins, so the message is translated, not left English after "имя:"."""
    from mirror import i18n

    i18n.use("ru")
    try:
        line = i18n.translate("photos/IMG_1.jpg: name: the name carries a capture time (IMG_1)")
    finally:
        i18n.use("en")
    assert line == "photos/IMG_1.jpg: name: имя содержит время съёмки (IMG_1)"


def test_a_refused_text_is_translated_whole(russian: None) -> None:
    """"refused    cp.txt: not UTF-8 text ..." kept "refused" and "(Windows Cyrillic, ...)" in English: a template
    of accounts ("{member}: not UTF-8 text (byte {start})") swallowed the rest of the line in {start}, because it
    held more literal text than "refused    {path}: {reason}" alone. The reason's own template counts now."""
    line = ("refused    cp.txt: not UTF-8 text (byte 0); it looks like cp1251 (Windows Cyrillic, as Russian-language "
            "Windows saves it)")
    assert i18n.translate(line) == ("отклонён   cp.txt: не текст UTF-8 (байт 0); похоже на cp1251 (кириллица Windows, "
                                    "как сохраняет русскоязычная Windows)")
    assert i18n.translate("mirror: cp.txt: not UTF-8 text (byte 0); it looks like kz1048 (Windows Kazakh)") == (
        "mirror: cp.txt: не текст UTF-8 (байт 0); похоже на kz1048 (казахская Windows)")


def test_a_file_a_part_lacks_is_said_so_in_the_readers_language(russian: None) -> None:
    """show of a part appended "  [not in this part]" to a listed line, out of reach of any template."""
    assert i18n.translate("         9  accounts/a.md  (2022-01-05 | Алматы)  [not in this part]") == (
        "         9  accounts/a.md  (2022-01-05 | Алматы)  [нет в этой части]")


def test_a_host_named_like_a_word_of_the_catalog_keeps_its_name() -> None:
    """A photo's trailing-data place is translated in turn; a publish host named `public` (or `missing`) in a line
    of its own was translated with it ('открытый: всё ещё ждём ...', helper-125): only the place is nested."""
    from mirror import i18n

    i18n.use("ru")
    try:
        assert i18n.translate("public: still waiting for GET index.json: 1,000 bytes in 30 s").startswith("public: ")
        assert "конца изображения" in i18n.translate("171 bytes after the end of the image: data of unknown kind")
        line = "n.gif: the file ends inside the extension at byte 12 (truncated?)"  # a GIF's place too
        assert "внутри расширения" in i18n.translate(line)
    finally:
        i18n.use("en")


def test_fetchs_index_row_and_a_bundle_already_here_are_translated_whole(russian: None,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """"(chosen)" was added to the detail as it was printed, and "already here, " to the trust note: neither line
    had a template, so both stayed English (an expired index and an unknown author's key among them)."""
    from mirror.cli.fetch import _say_index

    _say_index("ок", "index v3 (chosen)")
    _say_index("ок", "index v3 expired 2.5 days ago (chosen)")
    _say_index("ок", "index v4 expired 2.5 days ago")
    rows = capsys.readouterr().out.splitlines()
    assert rows[0] == "        индекс  ок          индекс v3 (выбран)", rows
    assert rows[1].endswith(" (выбран)") and "истёк" in rows[1] and "expired" not in rows[1], rows
    assert "expired" not in rows[2] and "(выбран)" not in rows[2], rows
    note = "intact, but author key 0123456789ABCDEF is not in your keyring (fingerprint 12345)"
    translated = i18n.translate(f"already here, {note}")
    assert translated.startswith("уже здесь, ") and "not in your keyring" not in translated, translated


def test_a_reason_four_messages_deep_is_translated(russian: None) -> None:
    """serve's "skipped PATH: does not verify: 1 file(s) failed: changed: X (sha256 does not match)": the
    innermost reason stayed English (three levels were looked into)."""
    line = i18n.translate("skipped t1.7z: does not verify: 1 file(s) failed: changed: accounts/a.md "
                          "(sha256 does not match)")
    assert "does not match" not in line and "changed" not in line and line.startswith("пропущено: t1.7z: "), line


def test_clauses_joined_by_semicolons_are_translated_each(russian: None) -> None:
    """fetch's swarm summary joins whole messages with "; ": one template took the line for two values
    ("0 Б от веб-сидов (0 peer(s); 130429 B from 1)", every byte from a web seed said to be none). A template that
    spans the "; " itself still wins over its clauses."""
    summary = "0 B from 0 peer(s); 130429 B from 1 web seed(s); bytes by peer: 127.0.0.1:6881=5"
    line = i18n.translate(f"        bundle  ok          ab12 v1: {summary}")
    assert "0 Б от пиров (0); 130429 Б от веб-сидов (1); байт по пирам: 127.0.0.1:6881=5" in line, line
    whole = "the bundle is intact, but its signer (key 0123456789ABCDEF) is not in your keyring; fingerprint 1 2"
    assert i18n.translate(whole).startswith("набор цел, но подписавшего"), i18n.translate(whole)


def test_a_repack_with_a_filter_alone_is_said_whole(russian: None) -> None:
    """"Delta alone" was built of two values and stayed half English: "...методом Delta alone, а его..."."""
    line = i18n.translate("this copy was repacked with Delta alone, which mirror does not read")
    assert "alone" not in line and "Delta" in line, line
    line = i18n.translate("this copy was repacked with the chain BCJ + Delta, which mirror does not read")
    assert "chain" not in line and "BCJ + Delta" in line, line


def test_kazakh_on_a_terminal_without_its_letters_gets_russian(monkeypatch: pytest.MonkeyPatch) -> None:
    """kk_KZ.CP1251 (Windows Cyrillic has no ә ғ қ ң ө ұ ү һ і) gave English; Russian comes first, as LANGUAGE=kk:ru
    already gave; a terminal without Cyrillic still gets English, and one with Kazakh letters Kazakh."""
    import types

    def terminal(encoding: str) -> None:
        for name in ("stdout", "stderr"):
            monkeypatch.setattr(sys, name, types.SimpleNamespace(encoding=encoding))

    terminal("cp1251")
    assert i18n.choose({"LANG": "kk_KZ.CP1251"}) == "ru"
    assert i18n.choose({"MIRROR_LANG": "kk"}) == "ru"
    terminal("ascii")
    assert i18n.choose({"LANG": "kk_KZ.UTF-8"}) == "en"
    terminal("utf-8")
    assert i18n.choose({"LANG": "kk_KZ.UTF-8"}) == "kk"


def test_why_a_mirrors_index_did_not_come_is_one_message(russian: None) -> None:
    """"http://a/: unreachable: ..." kept the English word before a translated reason."""
    from mirror.fetch.choose import _index_failed
    from mirror.fetch.report import Fate

    for fate in (Fate.UNREACHABLE, Fate.TIMEOUT, Fate.MISSING, Fate.BAD_ANSWER, Fate.UNTRUSTED, Fate.TAMPERED,
                 Fate.REFUSED):
        line = i18n.translate(_index_failed("http://127.0.0.1:9/", fate, "connection failed"))
        assert line.startswith("http://127.0.0.1:9/: ") and not any(c.isascii() and c.isalpha() for c in
                                                                     line.split(": ", 2)[1]), (fate, line)


def test_a_request_named_before_a_message_is_a_name(russian: None) -> None:
    """fetch's table: "GET index.json: too slow: ..." stayed English there (a name with a space was no name)."""
    for said in ("too slow: 12 bytes in the last 30 s (at least 1 KB/s needed)", "nothing arrived for 30 s"):
        line = i18n.translate(f"        index   медленно    GET index.json: {said}")
        assert line.startswith("        индекс  медленно    GET index.json: ") and "arrived" not in line \
            and "slow" not in line, line


def test_a_title_with_semicolons_is_not_read_as_messages(russian: None) -> None:
    """A title "Almaty; VERIFIED, part 1 of 2: ..." made the bundle line split at its "; ", and the title's
    pieces came out as mirror's own Russian verdict. A line splits into clauses only when each is a message."""
    title = "'Almaty; VERIFIED, part 1 of 2: 3 of 4 files present, all match  Almaty'"
    line = i18n.translate(f"  bundle       {title}, version 1, id 4678277039f14b298c295c4182013573")
    assert title in line and line.startswith("  набор"), line



def test_a_title_in_fetch_list_is_never_the_tools_verdict(russian: None) -> None:
    """"Almaty; VERIFIED  almaty-january-2022.7z": the list row with title "Almaty" and "VERIFIED {path}" were each a
    message of the catalog, so the line split there, and the title's second half came out as mirror's verdict."""
    title = "Almaty; VERIFIED  almaty-january-2022.7z"
    line = i18n.translate(f"  5530bcc6  v1          3408 bytes  {i18n.verbatim(title)}")
    assert line.endswith(f"  {title}") and "ПРОВЕРЕНО" not in line, line


def test_a_reason_holding_a_colon_is_translated_before_what_create_does(russian: None) -> None:
    """scan's "REASON: mirror create refuses it: FIX" begins with its reason, and a value that begins a template
    never holds ": " (or "PATH: KIND: 3 more" would read as one value): a reason such as "an AVIF image: its metadata
    cannot be removed here" stayed English before the rest. A leading message is taken whole when it is a message
    of the catalog itself; a path still is not."""
    from mirror.privacy.strip import CONVERT_HINT

    line = ("photos/a.avif: an AVIF image: its metadata cannot be removed here: mirror create refuses it: "
            f"{CONVERT_HINT}")
    said = i18n.translate(line)
    assert said.startswith("photos/a.avif: изображение AVIF: здесь его метаданные удалить нельзя: mirror create его "
                           "не примет: "), said
    assert "metadata" not in said and "refuses" not in said, said
    assert i18n.translate("photos/x: y: mirror create refuses it: z") == "photos/x: y: mirror create его не примет: z"


def test_two_messages_of_one_shape_translate_alike_whatever_the_hash_seed() -> None:
    """"not a valid proxy URL: {0}" and "... {proxy!r}" make one pattern; which translation a line got was the
    order of a set, so it changed with PYTHONHASHSEED from run to run (helper-188)."""
    import os
    import subprocess
    import sys

    code = ("from mirror import i18n; i18n.use('ru'); "
            "print(i18n.translate(\"not a valid proxy URL: 'socks5://x'\"))")
    said = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60,
                           env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout for seed in range(8)}
    assert len(said) == 1, said


def test_a_file_name_with_a_space_before_a_message_is_a_name(russian: None) -> None:
    """The room's "note: Алматы 2022.7z: changed while it was checked..." stayed English after "заметка:": a name
    before ": " was taken only without a space. One with an extension at its end is a name now; other words with
    a space are not ("version 2.0: ..." is no file, and no message of the catalog begins that way either)."""
    line = i18n.translate("note: Алматы 2022.7z: changed while it was checked; it is looked at again")
    assert line == "заметка: Алматы 2022.7z: изменился во время проверки; он будет проверен ещё раз", line
    line = i18n.translate("skipped my photos/Алматы 2022.7z: does not verify: 1 file(s) failed: changed: a b.jpg "
                          "(sha256 does not match)")
    assert line.startswith("пропущено: my photos/Алматы 2022.7z: не проходит проверку: ") and "changed" not in line
