# ruff: noqa: RUF001  (Russian and Kazakh text: letters that look Latin or like digits are meant)
"""The words of the room page in English, Russian and Kazakh (Cyrillic, as written in Kazakhstan).

Example::

    WORDS["ru"].download             # "Скачать"
    pick_language("kk-KZ,ru;q=0.8")  # "kk"

Text between backticks is shown as code. Plain text only: page.py escapes everything.
"""

from __future__ import annotations

import re

from mirror.record import record

LANGUAGES = ("en", "ru", "kk")


@record
class Words:
    """Every phrase of the page in one language."""

    name: str
    title: str
    intro: str
    signed: str
    unsigned: str
    none: str
    more: str
    languages: str
    size: str
    date: str
    version: str
    endorsements: str
    endorsed_by_room: str
    endorsement_note: str
    fingerprint: str
    key_id: str
    sha256: str
    download: str
    sums: str
    signature: str
    how: str
    steps: tuple[str, ...]
    share: str


_EN = Words(
    name="English",
    title="Files shared here",
    intro="Someone near you is sharing these files. Anyone can change a file on its way to you: "
        "check each one before you trust it.",
    signed="This list comes with a publisher's signed index: `mirror fetch` checks it with the publisher's key.",
    unsigned="This list is not signed by anyone: each file must be checked by its author's signature.",
    none="No bundles here yet.",
    more="{count} more bundles are not shown here; `mirror fetch` gets all of them.",
    languages="Languages",
    size="Size",
    date="Date",
    version="Version",
    endorsements="Endorsements this copy carries",
    endorsed_by_room="by keys trusted by whoever shares these files: {count}",
    endorsement_note="signatures of people who passed it on; only the author's key shows it is genuine",
    fingerprint="Author's key fingerprint (compare it!)",
    key_id="Key id",
    sha256="SHA-256 of the file",
    download="Download",
    sums="signed list of files (SHA256SUMS)",
    signature="its signature",
    how="How to check a file",
    steps=(
        "Get the author's key fingerprint from the author: in person, by phone, or from their QR code. "
        "Not from this page: it only shows what the file itself claims.",
        "On a computer with mirror: `mirror verify FILE.7z`. It must say VERIFIED and show the same fingerprint.",
        "Without mirror: unpack with 7-Zip, check the signature with minisign and the author's key, "
        "then every file with `sha256sum -c .mirror/SHA256SUMS`, run in the unpacked folder (`SHA256SUMS` in older "
        "bundles).",
        "On a phone: keep the file as it is and check it on a computer (on Android, Termux has the packages "
        "minisign and 7zip) before you believe it or pass it on.",
        "If anything differs, do not trust the file and do not pass it on.",
    ),
    share="Scan to open this page on another phone on this network.",
)


_RU = Words(
    name="Русский",
    title="Файлы, которыми здесь делятся",
    intro="Эти файлы раздаёт кто-то рядом с вами. По дороге к вам любой файл можно подменить: "
        "проверьте каждый, прежде чем ему доверять.",
    signed="К этому списку приложен подписанный индекс издателя: `mirror fetch` проверяет его ключом издателя.",
    unsigned="Этот список никем не подписан: каждый файл нужно проверить по подписи его автора.",
    none="Здесь пока нет файлов.",
    more="Не показано здесь файлов: {count}; `mirror fetch` скачает их все.",  # one form for 1, 2, 5 and 21
    languages="Языки",
    size="Размер",
    date="Дата",
    version="Версия",
    endorsements="Подтверждения в этой копии",
    endorsed_by_room="ключами, которым доверяет тот, кто раздаёт эти файлы: {count}",
    endorsement_note="это подписи тех, кто передавал файл дальше; подлинность файла удостоверяет только ключ автора",
    fingerprint="Отпечаток ключа автора (сверьте его!)",
    key_id="Идентификатор ключа",
    sha256="SHA-256 файла",
    download="Скачать",
    sums="подписанный список файлов (SHA256SUMS)",
    signature="его подпись",
    how="Как проверить файл",
    steps=(
        "Узнайте отпечаток ключа у самого автора: лично, по телефону или по его QR-коду. "
        "Не с этой страницы: здесь показано только то, что утверждает сам файл.",
        "На компьютере с mirror: `mirror verify ФАЙЛ.7z`. Программа должна написать ПРОВЕРЕНО "
        "(по-английски VERIFIED) и показать тот же отпечаток.",
        "Без mirror: распакуйте файл в 7-Zip, проверьте подпись программой minisign с ключом автора, "
        "затем каждый файл командой `sha256sum -c .mirror/SHA256SUMS` в распакованной папке (в файлах старого "
        "формата — `SHA256SUMS`).",
        "На телефоне: сохраните файл без изменений и проверьте его на компьютере (на Android в Termux есть "
        "пакеты minisign и 7zip), прежде чем верить ему или передавать дальше.",
        "Если хоть что-то не совпадает, не доверяйте файлу и не передавайте его дальше.",
    ),
    share="Отсканируйте, чтобы открыть эту страницу на другом телефоне в этой сети.",
)


_KK = Words(
    name="Қазақша",
    title="Мұнда бөлісілген файлдар",
    intro="Бұл файлдарды жаныңыздағы біреу таратып отыр. Сізге жеткенше кез келген файлды біреу өзгертуі "
        "мүмкін: сенбес бұрын әрқайсысын тексеріңіз.",
    signed="Бұл тізіммен бірге баспагердің қол қойылған индексі бар: `mirror fetch` оны баспагердің кілтімен "
        "тексереді.",
    unsigned="Бұл тізімге ешкім қол қоймаған: әр файлды оның авторының қолтаңбасы арқылы тексеру керек.",
    none="Мұнда әзірге файл жоқ.",
    more="Тағы {count} файл мұнда көрсетілмеген; `mirror fetch` олардың бәрін жүктеп алады.",
    languages="Тілдері",
    size="Көлемі",
    date="Күні",
    version="Нұсқа",
    endorsements="Осы көшірмедегі растаулар",
    endorsed_by_room="осы файлдарды таратып отырған адам сенетін кілттермен: {count}",
    endorsement_note="бұлар файлды әрі қарай жіберген адамдардың қолтаңбалары; файлдың түпнұсқа екенін тек "
        "автордың кілті дәлелдейді",
    fingerprint="Автор кілтінің саусақ ізі (салыстырыңыз!)",
    key_id="Кілт идентификаторы",
    sha256="Файлдың SHA-256 мәні",
    download="Жүктеп алу",
    sums="файлдардың қол қойылған тізімі (SHA256SUMS)",
    signature="оның қолтаңбасы",
    how="Файлды қалай тексеруге болады",
    steps=(
        "Автор кілтінің саусақ ізін автордың өзінен біліңіз: жеке кездесіп, телефон арқылы немесе оның QR-кодынан. "
        "Бұл беттен емес: мұнда тек файлдың өзі не айтатыны көрсетілген.",
        "mirror орнатылған компьютерде: `mirror verify ФАЙЛ.7z`. Бағдарлама ТЕКСЕРІЛДІ (ағылшынша VERIFIED) деп "
        "жазып, дәл сол саусақ ізін көрсетуі керек.",
        "mirror болмаса: файлды 7-Zip арқылы ашыңыз, қолтаңбаны minisign бағдарламасымен автордың кілті арқылы, "
        "содан кейін әр файлды ашылған қалтада `sha256sum -c .mirror/SHA256SUMS` командасымен тексеріңіз (ескі "
        "форматтағы файлдарда — `SHA256SUMS`).",
        "Телефонда: файлды өзгертпей сақтаңыз да, оған сенбес немесе оны басқаға жібермес бұрын компьютерде "
        "тексеріңіз (Android-тегі Termux-та minisign және 7zip пакеттері бар).",
        "Бірдеңе сәйкес келмесе, файлға сенбеңіз және оны басқаға жібермеңіз.",
    ),
    share="Бұл бетті осы желідегі басқа телефонда ашу үшін сканерлеңіз.",
)


WORDS = {"en": _EN, "ru": _RU, "kk": _KK}


_QVALUE = re.compile(r"[01](?:\.[0-9]{0,3})?")  # RFC 9110 12.4.2, ASCII digits only


def _weight(params: list[str]) -> float:
    """An Accept-Language entry's q-value (RFC 9110 12.4.2): 1 when absent, 0 when malformed."""
    for param in params:
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            value = value.strip()
            return float(value) if _QVALUE.fullmatch(value) and float(value) <= 1 else 0.0
    return 1.0


def pick_language(asked: str | None, accept_language: str | None = None) -> str:
    """The page language: `?lang=` when it is one we have, else the one of ours Accept-Language weighs most (the
    first of equal weights; q=0 means not wanted), else English."""
    if asked is not None and asked in LANGUAGES:
        return asked
    best, best_weight = "en", 0.0
    for part in (accept_language or "").split(",")[:20]:
        tag, *params = part.split(";")
        code, weight = re.split("[-_]", tag.strip().lower())[0], _weight(params[:4])  # ru-KZ, ru_RU: ru; rum: no
        if code in LANGUAGES and weight > best_weight:
            best, best_weight = code, weight
    return best
