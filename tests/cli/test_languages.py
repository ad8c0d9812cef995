"""`mirror` speaks Russian and Kazakh when the environment asks: verdicts, hints, errors and --help; exit codes stay."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import make_jpeg
from mirror.bundle.create import CreateRequest, create_bundle
from mirror.trust.keyring import Keyring
from mirror.trust.keys import SecretKey

KAZAKH_LETTERS = set("әғқңөұүһіӘҒҚҢӨҰҮҺІ")
COMMAND = Path(sys.executable).with_name("mirror")  # the installed entry point, as a reader runs it


def mirror(*args: str | Path, lang: dict[str, str], keys: Path) -> subprocess.CompletedProcess[str]:
    """Run the real `mirror` in a fresh process with these language variables (and no others)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MIRROR_LANG", "LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE")}
    env.update(lang, MIRROR_KEYS=str(keys), PYTHONIOENCODING="utf-8")
    return subprocess.run([str(COMMAND), *map(str, args)], capture_output=True, text=True,
                          encoding="utf-8", env=env, timeout=60, check=False)


@pytest.fixture
def stranger(bundle: Path, secret: SecretKey, tmp_path: Path) -> tuple[Path, Path]:
    """A bundle and an empty keyring: its signer is unknown there."""
    empty = tmp_path / "empty-keys"
    empty.mkdir()
    return bundle, empty


def test_unknown_signer_in_russian(stranger: tuple[Path, Path]) -> None:
    """LANG=ru_RU.UTF-8: the verdict and the hint in Russian, the same exit code 5."""
    bundle, keys = stranger
    result = mirror("verify", bundle, lang={"LANG": "ru_RU.UTF-8"}, keys=keys)
    assert result.returncode == 5, result.stderr
    assert result.stdout.startswith(f"ЦЕЛ, ПОДПИСАВШИЙ НЕИЗВЕСТЕН  {bundle}")
    assert "которого нет в вашем списке ключей" in result.stdout
    assert "  сверьте отпечаток с автором по телефону или при встрече, затем: mirror keys import" in result.stdout
    assert "signed by" not in result.stdout and "compare" not in result.stdout


def test_unknown_signer_in_kazakh(stranger: tuple[Path, Path]) -> None:
    """LANG=kk_KZ.UTF-8: the verdict and the hint in Kazakh (Cyrillic with the Kazakh letters), exit code 5."""
    bundle, keys = stranger
    result = mirror("verify", bundle, lang={"LANG": "kk_KZ.UTF-8"}, keys=keys)
    assert result.returncode == 5, result.stderr
    assert result.stdout.startswith(f"БҮТІН, ҚОЛ ҚОЙҒАН БЕЛГІСІЗ  {bundle}")
    assert "  саусақ ізін автормен телефон арқылы немесе кездескенде салыстырыңыз" in result.stdout
    assert KAZAKH_LETTERS & set(result.stdout)


def test_extract_refusal_and_hint_are_translated(stranger: tuple[Path, Path], tmp_path: Path) -> None:
    """The error and hint of extract from an unknown signer, in Russian, with exit code 5 and nothing written."""
    bundle, keys = stranger
    result = mirror("extract", bundle, tmp_path / "out", lang={"LC_ALL": "ru_RU.UTF-8"}, keys=keys)
    assert result.returncode == 5
    assert result.stderr.splitlines()[0].startswith("mirror: набор цел, но подписавшего (ключ ")
    assert result.stderr.splitlines()[1].startswith("подсказка: сверьте отпечаток")
    assert not (tmp_path / "out").exists()


def test_a_part_in_russian_and_kazakh(sources: Path, keyring: Keyring, tmp_path: Path) -> None:
    """A part of a split bundle: its verdict line with the counts and the line of missing files, in the language."""
    rng = random.Random(5)
    for index in range(3):  # photos made large by entropy-coded bytes (no 0xFF, so no markers): one per part
        jpeg = make_jpeg(seed=3)
        (sources / "photos" / f"big{index}.jpg").write_bytes(
            jpeg[:-2] + rng.randbytes(200_000).replace(b"\xff", b"\xfe") + jpeg[-2:])
    bundle = tmp_path / "b.7z"
    create_bundle(CreateRequest(sources, bundle, title="Parts"), keyring.secret("alice", None))
    split = mirror("split", bundle, "--max-size", "300k", "-o", tmp_path / "parts", lang={"LANG": "ru_RU.UTF-8"},
                   keys=keyring.folder)
    assert split.returncode == 0 and split.stdout.startswith("записано частей: "), split.stderr
    part = sorted((tmp_path / "parts").iterdir())[0]
    russian = mirror("verify", part, lang={"LANG": "ru_RU.UTF-8"}, keys=keyring.folder)
    assert russian.returncode == 0, russian.stderr
    assert re.match(r"ПРОВЕРЕНО, часть 1 из \d: файлов есть \d+ из \d+, все совпадают  ", russian.stdout)
    assert "\n  отсутствуют   файлов: " in russian.stdout and "\n  отпечаток     " in russian.stdout
    kazakh = mirror("verify", part, lang={"LANG": "kk_KZ.UTF-8"}, keys=keyring.folder)
    verdict = r"ТЕКСЕРІЛДІ, 1-бөлік \(барлығы \d\): \d+ файлдың \d+ бар, бәрі сәйкес  "  # noqa: RUF001
    assert re.match(verdict, kazakh.stdout), kazakh.stdout
    assert "\n  жоқ          файлдар: " in kazakh.stdout and "\n  саусақ ізі   " in kazakh.stdout


@pytest.mark.parametrize(("lang", "words"), [
    ("ru", ["пропущено  .DS_Store: ", "переименован DCIM/IMG_20220105_101010.jpg: в photos/", "время съёмки",
            "разрешено  notes.md: phone: строка 1: "]),
    ("kk", ["алынып тасталды .DS_Store: ", "аты өзгертілді DCIM/IMG_20220105_101010.jpg: photos/",
            "түсірілген уақытты", "рұқсат     notes.md: phone: 1-жол: "]),
])
def test_create_notes_in_the_language(sources: Path, keyring: Keyring, tmp_path: Path, lang: str,
                                      words: list[str]) -> None:
    """What create says of each file before it signs (left out, renamed and why, an identifier allowed), first
    column included, in the author's language: a note left in English is one an author may not understand."""
    (sources / ".DS_Store").write_bytes(b"\0\0\0\x01Bud1")
    (sources / "DCIM").mkdir()
    (sources / "DCIM" / "IMG_20220105_101010.jpg").write_bytes(make_jpeg(seed=4))
    (sources / "notes.md").write_text("+7 701 123 45 67\n", encoding="utf-8")
    done = mirror("create", sources, "-o", tmp_path / "b.7z", "--key", "alice", "--allow-identifiers",
                  lang={"MIRROR_LANG": lang}, keys=keyring.folder)
    assert done.returncode == 0, done.stderr
    for word in words:
        assert word in done.stderr, (word, done.stderr)
    english = ("left out", "renamed", "allowed", "capture time", "line 1")
    assert not any(word in done.stderr for word in english), done.stderr


def test_tampered_bundle_in_kazakh(bundle: Path, keyring: Keyring, tmp_path: Path) -> None:
    """A truncated bundle: FAILED and the reason in Kazakh, exit code 3 as in English."""
    cut = tmp_path / "cut.7z"
    cut.write_bytes(bundle.read_bytes()[:3000])
    result = mirror("verify", cut, lang={"MIRROR_LANG": "kk"}, keys=keyring.folder)
    assert result.returncode == 3
    assert result.stdout.splitlines() == [f"ҚАТЕ  {cut}: бұл жиынтыққа сенбеңіз", "  архив қиылған: соңғы тақырыбы жоқ"]


@pytest.mark.parametrize(("lang", "usage", "words"), [
    ("ru_RU.UTF-8", "Использование: mirror verify", ["Проверить BUNDLE без сети", "Показать эту справку и выйти."]),
    ("kk_KZ.UTF-8", "Қолданылуы: mirror verify", ["BUNDLE жиынтығын желісіз тексеру", "Осы анықтаманы көрсетіп"]),
])
def test_help_of_verify(lang: str, usage: str, words: list[str], tmp_path: Path) -> None:
    """`mirror verify --help`: click's own words and our help text in the language, exit code 0."""
    result = mirror("verify", "--help", lang={"LANG": lang}, keys=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith(usage)
    assert all(w in " ".join(result.stdout.split()) for w in words), result.stdout


@pytest.mark.parametrize(("lang", "word"), [("ru_RU.UTF-8", "[обязательно]"), ("kk_KZ.UTF-8", "[міндетті]")])
def test_a_required_option_is_marked_in_the_language(lang: str, word: str, tmp_path: Path) -> None:
    """click marks a required option with a word it translates through a variable: no extractor saw it."""
    result = mirror("join", "--help", lang={"LANG": lang}, keys=tmp_path)
    assert result.returncode == 0 and word in result.stdout and "[required]" not in result.stdout


def test_help_of_mirror_in_kazakh(tmp_path: Path) -> None:
    """`mirror --help`: the group's help of several paragraphs, in Kazakh."""
    result = mirror("--help", lang={"LANG": "kk_KZ.UTF-8"}, keys=tmp_path)
    assert result.returncode == 0
    assert "Шығу кодтары: 0 сәтті" in result.stdout and "Exit codes" not in result.stdout


def test_usage_error_in_russian(tmp_path: Path) -> None:
    """click's usage errors follow the language too, and still exit 2."""
    result = mirror("verify", tmp_path / "nothing.7z", lang={"LANG": "ru_RU.UTF-8"}, keys=tmp_path)
    assert result.returncode == 2
    assert "Ошибка: Недопустимое значение для 'BUNDLE': Путь" in result.stderr  # a file or a folder


@pytest.mark.parametrize("extra", [1, 2, 5, 21])
def test_extra_arguments_in_russian_for_any_count(extra: int, bundle: Path, tmp_path: Path) -> None:
    """Russian takes the singular form for 21 too: "Лишний аргумент (2 3 ... 22)" named 21 of them."""
    result = mirror("show", bundle, *map(str, range(2, 2 + extra)), lang={"LANG": "ru_RU.UTF-8"}, keys=tmp_path)
    assert result.returncode == 2 and "Лишние аргументы: " in result.stderr, result.stderr


def test_the_room_says_how_many_more_in_one_form_for_any_count() -> None:
    from mirror.serve.words import WORDS

    assert [WORDS["ru"].more.format(count=n).split(";")[0] for n in (1, 21)] == [
        "Не показано здесь файлов: 1", "Не показано здесь файлов: 21"]


def test_json_stays_english(stranger: tuple[Path, Path]) -> None:
    """--json is for scripts: the same English keys and values in every language."""
    bundle, keys = stranger
    docs = [json.loads(mirror("verify", "--json", bundle, lang=lang, keys=keys).stdout)
            for lang in ({}, {"LANG": "ru_RU.UTF-8"}, {"LANG": "kk_KZ.UTF-8"})]
    assert docs[0]["verdict"] == "untrusted" and docs[0] == docs[1] == docs[2]


def test_english_by_default_and_by_choice(stranger: tuple[Path, Path]) -> None:
    """No language variable, C, an unknown language, or MIRROR_LANG=en over a Russian LANG: English."""
    bundle, keys = stranger
    for lang in ({}, {"LANG": "C.UTF-8"}, {"LANG": "de_DE.UTF-8"}, {"MIRROR_LANG": "en", "LANG": "ru_RU.UTF-8"}):
        result = mirror("verify", bundle, lang=lang, keys=keys)
        assert result.returncode == 5 and result.stdout.startswith("INTACT, UNKNOWN SIGNER"), (lang, result.stdout)


def test_a_terminal_without_cyrillic_gets_english(stranger: tuple[Path, Path]) -> None:
    """LANG asks for Russian but the output cannot carry Cyrillic (ASCII): English, not a crash."""
    bundle, keys = stranger
    env = {k: v for k, v in os.environ.items() if k not in ("MIRROR_LANG", "LC_ALL", "LANG")}
    env.update(LANG="ru_RU.UTF-8", MIRROR_KEYS=str(keys), PYTHONIOENCODING="ascii")
    result = subprocess.run([str(COMMAND), "verify", str(bundle)], capture_output=True, env=env,
                            timeout=60, check=False)
    assert result.returncode == 5
    assert result.stdout.startswith(b"INTACT, UNKNOWN SIGNER")


@pytest.mark.parametrize("encoding", ["koi8-r", "cp866", "iso8859-5"])
@pytest.mark.parametrize("command", [(), ("extract",), ("keys", "import")])
def test_russian_help_on_a_legacy_terminal(encoding: str, command: tuple[str, ...], tmp_path: Path) -> None:
    """`mirror --help` in Russian on a KOI8-R (or CP866, ISO 8859-5) terminal: "internal error:
    UnicodeEncodeError" at the first dash, which those code pages lack (helper-148); click prints help itself.
    The text comes in the terminal's code page, with what it lacks as \\u2014."""
    env = {k: v for k, v in os.environ.items() if k not in ("MIRROR_LANG", "LC_ALL", "LANG", "LC_MESSAGES")}
    env.update(MIRROR_LANG="ru", PYTHONIOENCODING=encoding, MIRROR_KEYS=str(tmp_path))
    result = subprocess.run([str(COMMAND), *command, "--help"], capture_output=True, env=env, timeout=60,
                            check=False)
    assert result.returncode == 0, result.stderr
    text = result.stdout.decode(encoding)
    assert "Использование:" in text and "internal error" not in result.stderr.decode(encoding, "replace")


def test_fetch_table_speaks_the_language(tmp_path: Path) -> None:
    """The fate column of fetch's table (machine words in English and in --json) is in the reader's language."""
    result = mirror("fetch", "--mirror", "http://127.0.0.1:9/", "--list", "--budget", "2", "--timeout", "1",
                    lang={"LANG": "ru_RU.UTF-8"}, keys=tmp_path)
    assert result.returncode == 4 and "зеркало недоступно  http://127.0.0.1:9/" in result.stdout, result.stdout


def test_one_account_and_one_photo_are_counted_in_the_singular(keyring: Keyring, tmp_path: Path) -> None:
    """English says "1 account, 1 photo" (not "1 accounts"); Russian still gets its own line for it."""
    src = tmp_path / "one"
    src.mkdir()
    (src / "account.md").write_text("The square at noon.\n", encoding="utf-8")
    (src / "square.jpg").write_bytes(make_jpeg(seed=9))
    done = mirror("create", src, "-o", tmp_path / "b.7z", "--key", "alice", lang={"MIRROR_LANG": "en"},
                  keys=keyring.folder)
    assert done.returncode == 0 and ": 1 account, 1 photo, " in done.stdout, done.stderr
    shown = mirror("verify", tmp_path / "b.7z", lang={"MIRROR_LANG": "en"}, keys=keyring.folder)
    assert "  files        1 account, 1 photo, all sha256 match" in shown.stdout, shown.stdout
    russian = mirror("verify", tmp_path / "b.7z", lang={"MIRROR_LANG": "ru"}, keys=keyring.folder)
    assert "свидетельств: 1, фото: 1, все sha256 совпадают" in russian.stdout, russian.stdout
    (src / "square.jpg").unlink()
    mirror("create", src, "-o", tmp_path / "one.7z", "--key", "alice", lang={}, keys=keyring.folder)
    extracted = mirror("extract", tmp_path / "one.7z", tmp_path / "out", lang={}, keys=keyring.folder)
    assert f"extracted its one account or photo into {tmp_path / 'out'} (signed by" in extracted.stdout, extracted


def test_serve_speaks_the_language(tmp_path: Path) -> None:
    """Whoever runs a room hears in their language what was not offered and why, and how to stop."""
    import signal

    room = tmp_path / "room"
    room.mkdir()
    (room / "bad.7z").write_bytes(b"not a bundle" * 100)
    (room / "link.7z").symlink_to(room / "bad.7z")
    env = {k: v for k, v in os.environ.items() if k not in ("MIRROR_LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE")}
    env.update(LANG="kk_KZ.UTF-8", MIRROR_KEYS=str(tmp_path), PYTHONIOENCODING="utf-8")
    served = subprocess.Popen([str(COMMAND), "serve", str(room), "--port", "0"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, encoding="utf-8", env=env)
    try:
        assert served.stderr is not None
        lines = []
        for line in served.stderr:  # the process is killed below if it never says how to stop
            lines.append(line)
            if "Ctrl-C" in line:
                break
        served.send_signal(signal.SIGINT)
        out, err = served.communicate(timeout=30)
    finally:
        served.kill()
    said = "".join(lines) + err
    assert "өткізіп жіберілді: bad.7z: тексеруден өтпейді: 7z архиві емес" in said, said
    assert "өткізіп жіберілді: link.7z: сілтеме немесе қарапайым файл емес" in said, said
    assert "тоқтату үшін Ctrl-C басыңыз" in said and "тоқтатылды: сұраулар: 0" in said, said
    assert "таратылып жатқан жиынтықтар: 0" in out, out


def test_a_taken_port_in_russian(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = mirror("serve", tmp_path, "--port", str(port), lang={"LANG": "ru_RU.UTF-8"}, keys=tmp_path)
    assert result.returncode == 2, result
    assert f"порт {port} на 127.0.0.1 уже занят" in result.stderr, result.stderr
    assert "--port 0 для любого свободного порта" in result.stderr, result.stderr


@pytest.mark.parametrize(("lang", "words"), [
    ("ru", ["оставлено  kept.jpg: makernote (заметки производителя, ", "(миниатюра в EXIF IFD1)"]),
    ("kk", ["қалдырылды kept.jpg: makernote (", "қалдырылды kept.jpg: exif-thumbnail ("]),
])
def test_what_a_kept_photo_reveals_in_the_language(sources: Path, keyring: Keyring, tmp_path: Path, lang: str,
                                                   words: list[str]) -> None:
    """A photo bundled with its metadata: each thing it reveals is said in the author's language (the kind, a
    value like `gps`, stays as it is)."""
    from photo_fixtures import camera_tiff, canon_makernote, exif_jpeg

    (sources / "kept.jpg").write_bytes(exif_jpeg(camera_tiff(makernote=canon_makernote(1234567))))
    done = mirror("create", sources, "-o", tmp_path / "b.7z", "--key", "alice", "--keep-metadata",
                  sources / "kept.jpg", lang={"MIRROR_LANG": lang}, keys=keyring.folder)
    assert done.returncode == 0, done.stderr
    for word in words:
        assert word in done.stderr, (word, done.stderr)
    assert "maker note" not in done.stderr and "thumbnail in" not in done.stderr, done.stderr


def test_no_secret_key_yet_in_russian(sources: Path, tmp_path: Path) -> None:
    """A first create with an empty keyring: the hint says in the author's words that there is no key yet and how
    to make one (its 'none' stayed English, inside a line that was otherwise Russian)."""
    empty = tmp_path / "keys"
    empty.mkdir()
    done = mirror("create", sources, "-o", tmp_path / "b.7z", lang={"MIRROR_LANG": "ru"}, keys=empty)
    assert done.returncode == 2, done
    assert f"в {empty} пока нет секретного ключа: создайте его командой `mirror keys new ИМЯ`" in done.stderr
    assert "none" not in done.stderr and not (tmp_path / "b.7z").exists()


def test_scan_findings_speak_the_language(sources: Path, tmp_path: Path) -> None:
    """The finding's words are translated (they stayed English once its whole detail was marked as data)."""
    (sources / "photos" / "square.jpg").rename(sources / "photos" / "IMG_20220105_123456.jpg")
    result = mirror("scan", sources, lang={"LANG": "ru_RU.UTF-8"}, keys=tmp_path)
    assert "photos/IMG_20220105_123456.jpg: name: имя содержит время съёмки (IMG_20220105_123456)" in result.stdout


def test_a_title_written_as_a_verdict_stays_the_authors_words(sources: Path, secret: SecretKey,
                                                               tmp_path: Path) -> None:
    """A title "Almaty; VERIFIED, part 1 of 2: 3 of 4 files present, all match  Almaty" came out of verify as
    mirror's own Russian verdict (helper-140)."""
    title = "Almaty; VERIFIED, part 1 of 2: 3 of 4 files present, all match  Almaty"
    out = tmp_path / "t.7z"
    create_bundle(CreateRequest(sources, out, title=title), secret)
    empty = tmp_path / "none"
    empty.mkdir()
    result = mirror("verify", out, lang={"LANG": "ru_RU.UTF-8"}, keys=empty)
    assert result.returncode == 5 and f"  набор         {title!r}, версия 1" in result.stdout, result.stdout


def test_json_on_a_legacy_terminal_is_one_utf8_document(keyring: Keyring, tmp_path: Path) -> None:
    """`show --json` on a KOI8-R terminal wrote one file's name in KOI8-R and the next (Kazakh, which KOI8-R
    lacks) in UTF-8: one document in two encodings, which no JSON reader takes (helper-152). JSON is UTF-8."""
    src = tmp_path / "src"
    (src / "accounts").mkdir(parents=True)
    (src / "accounts" / "Привет.md").write_text("Площадь в полдень.\n", encoding="utf-8")
    (src / "accounts" / "Қазақ.md").write_text("Алаң түсте.\n", encoding="utf-8")
    create_bundle(CreateRequest(src, tmp_path / "b.7z", title="Алматы"), keyring.secret("alice", None))
    env = {k: v for k, v in os.environ.items() if k not in ("MIRROR_LANG", "LC_ALL", "LANG", "LC_MESSAGES")}
    env.update(MIRROR_LANG="ru", PYTHONIOENCODING="koi8-r", MIRROR_KEYS=str(keyring.folder))
    for command in ("show", "verify"):
        result = subprocess.run([str(COMMAND), command, "--json", str(tmp_path / "b.7z")], capture_output=True,
                                env=env, timeout=60, check=False)
        assert result.returncode == 0, result.stderr
        doc = json.loads(result.stdout.decode("utf-8"))
        assert "Алматы" in json.dumps(doc, ensure_ascii=False)
