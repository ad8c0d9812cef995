# ruff: noqa: RUF001  (Cyrillic word lists: letters that look Latin are meant)
"""Deterministic benchmark corpora: photos with real image structure and accounts in English, Russian, Kazakh.

Usage::

    python bench/corpus.py S            # build (or reuse) bench/corpora/S and print its path and size
    python bench/corpus.py tiny --force # rebuild

    from corpus import ensure_corpus
    info = ensure_corpus("S")           # CorpusInfo(path=..., files=..., bytes=...)

The same shape always gives the same bytes (every file has its own seeded generator; Pillow's JPEG
encoder is deterministic for one libjpeg). Shapes:

- ``tiny``: 3 small photos and 12 accounts, for the CI smoke run;
- ``S``: about 100 MB, 33 JPEGs of 2-4 MB, 2 PNG screenshots, 400 accounts;
- ``M``: about 1 GB, 310 JPEGs, 20 PNG screenshots, 4000 accounts;
- ``many``: 20,000 accounts of 1-3 KB and 3 photos;
- ``many10k``, ``many100k``, ``many1m``: 10,000, 100,000 and 1,000,000 accounts of 1-3 KB, no photos;
  ``many1m`` is ``many100k``'s accounts, each hard-linked under ten names (made in a minute, 1.8 GB read as
  text but no more disk; identical texts fall in different LZMA2 blocks, so sizes stay honest).

Photos are what a phone camera writes: 8-12 megapixel, gradients (sky, street), blurred shapes (buildings,
windows, lamps), structure at several scales and sensor noise, JPEG quality 92 with a small EXIF block
(camera make and model, time, GPS position) that ``mirror create`` must strip. Accounts are Markdown with
front matter; their text mixes sentence templates with words drawn from a Zipf-like distribution over real
and syllable-built words, so LZMA compresses them about as much as real prose (3-4x), not trivially.
A corpus is cached under ``bench/corpora/<shape>/``; ``<shape>.json`` beside it records the generator
version, and a mismatch rebuilds it.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import itertools
import json
import os
import random
import shutil
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageOps
from PIL.PngImagePlugin import PngInfo

GENERATOR_VERSION = 3
CORPORA = Path(__file__).resolve().parent / "corpora"
TEMPLATE_SHARE = 0.2  # sentences from templates; the rest are words drawn from the vocabulary
ZIPF_EXPONENT = 1.0
SENSOR_NOISE = (2.6, 4.8)  # range of the noise's standard deviation, in 8-bit levels


@dataclass(frozen=True, slots=True)
class Shape:
    """How many files of which kind a corpus has."""

    name: str
    jpegs: int
    pngs: int
    accounts: int
    account_kb: tuple[float, float]  # size range of an account body, in KB
    photo_scale: float = 1.0  # 1.0 = camera-sized photos; smaller for the tiny corpus
    links_to: str = ""  # made of hard links to this shape's accounts, each under several names


SHAPES: dict[str, Shape] = {
    "tiny": Shape("tiny", jpegs=2, pngs=1, accounts=12, account_kb=(1.0, 6.0), photo_scale=0.25),
    "S": Shape("S", jpegs=33, pngs=2, accounts=400, account_kb=(2.0, 14.0)),
    "M": Shape("M", jpegs=310, pngs=20, accounts=4000, account_kb=(2.0, 14.0)),
    "many": Shape("many", jpegs=3, pngs=0, accounts=20000, account_kb=(0.8, 2.6)),
    "many10k": Shape("many10k", jpegs=0, pngs=0, accounts=10_000, account_kb=(0.8, 2.6)),
    "many100k": Shape("many100k", jpegs=0, pngs=0, accounts=100_000, account_kb=(0.8, 2.6)),
    "many1m": Shape("many1m", jpegs=0, pngs=0, accounts=1_000_000, account_kb=(0.8, 2.6), links_to="many100k"),
}


@dataclass(frozen=True, slots=True)
class CorpusInfo:
    """A generated corpus on disk."""

    shape: str
    path: Path
    files: int
    photos: int
    accounts: int
    bytes: int
    photo_bytes: int
    account_bytes: int


# --------------------------------------------------------------------------------------------------- photos

_CAMERAS = [("samsung", "SM-A515F"), ("Apple", "iPhone 11"), ("Xiaomi", "Redmi Note 9 Pro"),
            ("HUAWEI", "P30 lite"), ("Google", "Pixel 4a"), ("OPPO", "A53")]
_RESOLUTIONS = [(4000, 3000), (4032, 3024), (3264, 2448), (3000, 4000), (4000, 2252)]
_UNIFORM_SD = 73.9  # standard deviation of uniform bytes 0-255


def _exif(rng: random.Random, index: int) -> Image.Exif:
    make, model = _CAMERAS[index % len(_CAMERAS)]
    exif = Image.Exif()
    exif[0x010F] = make
    exif[0x0110] = model
    exif[0x0112] = 1  # orientation
    exif[0x0131] = "bench 1.0"
    day, hour, minute, second = rng.randrange(2, 11), rng.randrange(24), rng.randrange(60), rng.randrange(60)
    exif[0x0132] = f"2022:01:{day:02d} {hour:02d}:{minute:02d}:{second:02d}"
    gps = exif.get_ifd(0x8825)
    lat, lon = 43.20 + rng.uniform(0.0, 0.1), 76.85 + rng.uniform(0.0, 0.1)
    gps[1], gps[3] = "N", "E"
    gps[2] = (float(int(lat)), float(int(lat * 60) % 60), round((lat * 3600) % 60, 2))
    gps[4] = (float(int(lon)), float(int(lon * 60) % 60), round((lon * 3600) % 60, 2))
    return exif


def _colour(rng: random.Random, low: float, high: float) -> tuple[int, int, int]:
    return (int(rng.uniform(low, high)), int(rng.uniform(low, high)), int(rng.uniform(low, high)))


def _noise(rng: random.Random, size: tuple[int, int], mode: str = "L") -> Image.Image:
    """Uniform noise bytes, mean 128."""
    return Image.frombytes(mode, size, rng.randbytes(size[0] * size[1] * len(mode)))


def _smooth_noise(rng: random.Random, size: tuple[int, int], cell: int, mode: str = "L") -> Image.Image:
    """Noise with features about `cell` pixels wide, mean 128."""
    small = _noise(rng, (size[0] // cell + 2, size[1] // cell + 2), mode)
    return small.resize(size, Image.Resampling.BICUBIC)


def _add(picture: Image.Image, noise: Image.Image, gain: float) -> Image.Image:
    """picture + gain * (noise - 128), clipped; a one-band noise is added to every band."""
    table = [max(0, min(255, round(128 + (v - 128) * gain))) for v in range(256)]
    scaled = noise.point(table * len(noise.getbands()))
    if scaled.mode != picture.mode:
        scaled = Image.merge(picture.mode, [scaled] * len(picture.getbands()))
    return ImageChops.add(picture, scaled, 1.0, -128)


def _gradient(size: tuple[int, int], top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    ramp = Image.linear_gradient("L").resize(size, Image.Resampling.BILINEAR)
    return ImageOps.colorize(ramp, top, bottom)


def _scene(rng: random.Random, width: int, height: int) -> Image.Image:
    """Sky and ground gradients, multi-scale texture, buildings with windows, lamps; softened like a lens."""
    horizon = int(height * rng.uniform(0.35, 0.65))
    night = rng.random() < 0.4
    sky_top = _colour(rng, 5, 60) if night else _colour(rng, 90, 200)
    sky_low = tuple(min(c + int(rng.uniform(10, 60)), 255) for c in sky_top)
    ground = _colour(rng, 30, 140)
    picture = Image.new("RGB", (width, height))
    picture.paste(_gradient((width, horizon), sky_top, sky_low), (0, 0))  # type: ignore[arg-type]
    picture.paste(_gradient((width, height - horizon), ground, tuple((c + 200) // 2 for c in ground)),  # type: ignore[arg-type]
                  (0, horizon))
    for cell, amplitude in ((max(width // 48, 2), 22.0), (max(width // 220, 2), 9.0), (3, 5.0)):
        # mostly light and shade, a little colour, as in a real scene
        picture = _add(picture, _smooth_noise(rng, (width, height), cell), amplitude * 1.6 / _UNIFORM_SD)
        picture = _add(picture, _smooth_noise(rng, (width, height), cell, "RGB"), amplitude * 0.3 / _UNIFORM_SD)
    draw = ImageDraw.Draw(picture)
    unit = width / 4000
    for _ in range(rng.randrange(6, 16)):  # buildings standing on the horizon, with windows
        bw, bh = int(rng.uniform(200, 900) * unit), int(rng.uniform(300, 1800) * unit)
        x0 = rng.randrange(-bw // 2, width)
        top = max(horizon - bh, 0)
        colour = _colour(rng, 20, 170)
        draw.rectangle((x0, top, x0 + bw, horizon + int(60 * unit)), fill=colour)
        lit = rng.uniform(0.1, 0.6)
        step = max(int(rng.uniform(40, 90) * unit), 6)
        dark = tuple(max(c - 30, 0) for c in colour)
        for wy in range(top + step // 2, horizon - step // 2, step):
            for wx in range(x0 + step // 3, x0 + bw - step // 3, step):
                shade = _colour(rng, 150, 255) if rng.random() < lit else dark
                draw.rectangle((wx, wy, wx + step // 2, wy + step // 2), fill=shade)
    for _ in range(rng.randrange(10, 40)):  # lamps, cars, people, smoke: ellipses and polygons
        cx, cy = rng.randrange(width), rng.randrange(horizon // 2, height)
        r = int(rng.uniform(8, 160) * unit) + 1
        colour = _colour(rng, 0, 255)
        if rng.random() < 0.5:
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
        else:
            draw.polygon([(cx + int(rng.gauss(0, r)), cy + int(rng.gauss(0, r))) for _ in range(5)], fill=colour)
    return picture.filter(ImageFilter.GaussianBlur(1.1 * max(unit, 0.3)))


def make_jpeg(seed: int, index: int, scale: float = 1.0) -> bytes:
    """A camera-like JPEG (2-4 MB at scale 1.0): scene, sensor noise, quality 92, small EXIF block."""
    rng = random.Random(seed)
    base_w, base_h = _RESOLUTIONS[index % len(_RESOLUTIONS)]
    size = (max(int(base_w * scale), 64), max(int(base_h * scale), 64))
    picture = _scene(rng, *size)
    sigma = rng.uniform(SENSOR_NOISE[0], SENSOR_NOISE[1])  # ISO noise: sets the JPEG size, as on a real phone
    # the mean of two uniform noises is close enough to a sensor's Gaussian noise
    luma = Image.blend(_noise(rng, size), _noise(rng, size), 0.5)
    picture = _add(picture, luma, sigma / (_UNIFORM_SD / 2**0.5))
    picture = _add(picture, _noise(rng, size, "RGB"), sigma * 0.45 / _UNIFORM_SD)
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=92, subsampling="4:2:0", exif=_exif(rng, index).tobytes())
    return out.getvalue()


def make_png(seed: int, scale: float = 1.0) -> bytes:
    """A phone screenshot (flat UI, text-like strokes), with a tEXt chunk and a time that create strips."""
    rng = random.Random(seed)
    width, height = max(int(1080 * scale), 64), max(int(2340 * scale), 64)
    picture = Image.new("RGB", (width, height), _colour(rng, 200, 255))
    draw = ImageDraw.Draw(picture)
    y = int(40 * scale)
    while y < height - 40 * scale:  # chat bubbles with "text" lines
        bubble_h = int(rng.uniform(60, 260) * scale) + 4
        left = rng.random() < 0.5
        x0 = int(30 * scale) if left else int(width * rng.uniform(0.2, 0.4))
        x1 = int(width * rng.uniform(0.6, 0.8)) if left else width - int(30 * scale)
        fill = (255, 255, 255) if left else (220, 248, 198)
        draw.rounded_rectangle((x0, y, x1, y + bubble_h), radius=max(int(20 * scale), 2), fill=fill)
        for line_y in range(y + 12, y + bubble_h - 16, max(int(34 * scale), 4)):
            x = x0 + 16
            while x < x1 - 40:
                word = int(rng.uniform(20, 110) * scale) + 2
                draw.rectangle((x, line_y, min(x + word, x1 - 16), line_y + max(int(18 * scale), 2)),
                               fill=(40, 40, 40))
                x += word + max(int(12 * scale), 2)
        y += bubble_h + int(rng.uniform(16, 48) * scale)
    box = (int(60 * scale), int(height * 0.55), int(width * 0.7), int(height * 0.8))
    thumb = _add(Image.new("RGB", (box[2] - box[0], box[3] - box[1]), (120, 120, 120)),
                 _smooth_noise(rng, (box[2] - box[0], box[3] - box[1]), 12, "RGB"), 1.5)
    picture.paste(thumb, box[:2])
    info = PngInfo()
    info.add_text("Software", "bench screenshot")
    info.add_text("Creation Time", "2022-01-06T21:14:00")
    out = io.BytesIO()
    picture.save(out, "PNG", pnginfo=info, optimize=False, compress_level=6)
    return out.getvalue()


# ------------------------------------------------------------------------------------------------- accounts

def _words(text: str) -> list[str]:
    return text.split()


_EN_FUNCTION = _words("the the the the of of and and and to to in in a a a was was that it it on we he she they i i "
                      "with for at by from as but not there were had have is this our their his her when then all "
                      "one so into out up no more after before about over through only also could would")
_EN_WORDS = _words("square street avenue city hall police crowd people smoke night morning evening shots shooting "
                   "fire cars bus tram bridge internet connection phone message family neighbour friend brother "
                   "sister mother father children window door yard snow cold gas price protest march soldiers "
                   "armoured vehicles checkpoint curfew shop bread queue pharmacy hospital doctor wounded dead "
                   "arrested detained station television radio rumour news video photo silence shout siren "
                   "helicopter airport market district building roof staircase basement kitchen candle battery cash "
                   "card bank terminal ran walked waited heard saw called wrote counted hid left returned closed "
                   "opened burned broke stopped began lasted whispered remembered tried could not reach nobody "
                   "everybody somebody quiet loud dark empty frightened tired hungry long short first second third "
                   "last several many few hundred thousand minutes hours days later earlier outside inside near "
                   "behind across along toward against between among")
_EN_PLACES = ("Republic Square", "Abai Avenue", "Satpayev Street", "Tole Bi Street", "the Green Bazaar",
              "Astana Square", "Dostyk Avenue", "the akimat", "Zhandosov Street", "Orbita", "Almalinsky district",
              "the airport road", "Shevchenko Street", "Al-Farabi Avenue")
_EN_TEMPLATES = (
    "At {time} we heard {count} shots from the direction of {place}.",
    "My {relative} called at {time}; the line dropped after {minutes} minutes.",
    "The internet came back for {minutes} minutes around {time}, long enough to send {count} messages.",
    "On {place} there were about {count} people, most of them young, some with flags.",
    "Nobody in our building went out after {time}; we kept the lights off.",
    "The queue at the bakery on {place} was {count} people long by {time}.",
    "Cash machines did not work, and shops took only cash, so we counted what we had: {count} tenge.",
    "I saw {count} armoured vehicles turn from {place} toward the square.",
    "Later we learned that {count} people from our district had been detained.",
    "Smoke rose over {place} for the whole evening; the smell reached our yard.",
)

_RU_FUNCTION = _words("и и и в в в на на не не что что с с по по мы он она они я я к к из за от у о это был была "
                      "были как так но уже ещё только когда потом все всё там тут до после через около над под без "
                      "для при же бы ли даже тоже один одна")
_RU_WORDS = _words("площадь улица проспект город акимат полиция толпа люди дым ночь утро вечер выстрелы стрельба "
                   "огонь машины автобус трамвай мост интернет связь телефон сообщение семья сосед друг брат сестра "
                   "мама папа дети окно дверь двор снег холод газ цена протест шествие солдаты бронетехника блокпост "
                   "комендантский час магазин хлеб очередь аптека больница врач раненые погибшие задержанные вокзал "
                   "телевизор радио слухи новости видео фото тишина крик сирена вертолёт аэропорт базар район дом "
                   "крыша подъезд подвал кухня свеча батарейка наличные карта банк терминал бежали шли ждали слышали "
                   "видели звонили писали считали прятались ушли вернулись закрыли открыли горело разбили "
                   "остановились началось длилось шептали помнили пытались дозвониться никто все кто-то тихо громко "
                   "темно пусто страшно устали голодные долго коротко первый второй третий последний несколько много "
                   "мало сотни тысячи минуты часы дни позже раньше снаружи внутри рядом сзади напротив вдоль "
                   "навстречу против между среди")
_RU_PLACES = ("площади Республики", "проспекте Абая", "улице Сатпаева", "улице Толе би", "Зелёном базаре",
              "площади Астана", "проспекте Достык", "акимате", "улице Жандосова", "Орбите", "Алмалинском районе",
              "дороге в аэропорт", "улице Шевченко", "проспекте аль-Фараби")
_RU_TEMPLATES = (
    "В {time} мы услышали {count} выстрелов со стороны, где стоит дом на {place}.",
    "Родные позвонили в {time}, связь оборвалась через {minutes} минут.",
    "Интернет появился минут на {minutes} около {time}, успели отправить {count} сообщений.",
    "На {place} было около {count} человек, в основном молодые, некоторые с флагами.",
    "После {time} никто из нашего подъезда не выходил, свет мы не включали.",
    "Очередь в пекарню на {place} к {time} была человек {count}.",
    "Банкоматы не работали, магазины брали только наличные, мы пересчитали всё, что было: {count} тенге.",
    "Я видел {count} бронемашин, они свернули на {place} и пошли к площади.",
    "Потом мы узнали, что из нашего района задержали {count} человек.",
    "Весь вечер над {place} поднимался дым, запах доходил до нашего двора.",
)

_KK_FUNCTION = _words("және және мен мен да де бен пен бұл сол біз ол олар мен не емес еді болды бар жоқ үшін дейін "
                      "кейін бірақ әлі тек қашан содан барлық онда мұнда арқылы жанында астында үстінде бір")
_KK_WORDS = _words("алаң көше даңғыл қала әкімдік полиция тобыр адамдар түтін түн таң кеш атыс от көліктер автобус "
                   "трамвай көпір интернет байланыс телефон хабарлама отбасы көрші дос аға әпке ана әке балалар "
                   "терезе есік аула қар суық газ баға наразылық шеру сарбаздар бронетехника бекет коменданттық "
                   "сағат дүкен нан кезек дәріхана аурухана дәрігер жараланғандар қаза тапқандар ұсталғандар вокзал "
                   "теледидар радио өсек жаңалықтар бейне сурет тыныштық айқай сирена тікұшақ әуежай базар аудан үй "
                   "шатыр подъезд жертөле ас үй шам батарея қолма-қол ақша карта банк терминал жүгірдік жүрдік "
                   "күттік естідік көрдік қоңырау шалдық жаздық санадық жасырындық кеттік қайттық жаптық аштық жанды "
                   "сындырды тоқтады басталды созылды сыбырладық есімізде тырыстық ешкім бәрі біреу тыныш қатты "
                   "қараңғы бос қорқынышты шаршадық аш ұзақ қысқа бірінші екінші үшінші соңғы бірнеше көп аз "
                   "жүздеген мыңдаған минут сағат күн кейінірек ертерек сыртта ішінде жақын артында қарсы бойымен "
                   "арасында")
_KK_PLACES = ("Республика алаңында", "Абай даңғылында", "Сәтбаев көшесінде", "Төле би көшесінде", "Көк базарда",
              "Астана алаңында", "Достық даңғылында", "әкімдік жанында", "Жандосов көшесінде", "Орбитада",
              "Алмалы ауданында", "әуежай жолында", "Шевченко көшесінде", "әл-Фараби даңғылында")
_KK_TEMPLATES = (
    "Сағат {time} шамасында {place} жақтан {count} рет атыс естідік.",
    "Туыстарымыз {time} қоңырау шалды, байланыс {minutes} минуттан кейін үзілді.",
    "Интернет {time} шамасында {minutes} минутқа қосылды, {count} хабарлама жіберіп үлгердік.",
    "{place} шамамен {count} адам болды, көбі жастар, кейбірінің қолында ту бар.",
    "Сағат {time} кейін подъездімізден ешкім шықпады, жарықты жақпадық.",
    "{place} наубайханаға кезек сағат {time} қарай {count} адамға жетті.",
    "Банкоматтар істемеді, дүкендер тек қолма-қол ақша алды, бізде {count} теңге қалды.",
    "{place} {count} бронемашина алаңға қарай бұрылғанын көрдім.",
    "Кейін біздің ауданнан {count} адам ұсталғанын білдік.",
    "Кешке дейін {place} түтін көтеріліп, иісі ауламызға дейін жетті.",
)

_SYLLABLES = {
    "en": _words("ba be bi bo ca co da de di do fa fe ga ge ha he hi ka la le li lo ma me mi mo na ne ni no pa pe pi "
                 "ra re ri ro sa se si so ta te ti to va ve wa we ya ze ar er in on en an st tr th ch sh ing ed ly "
                 "er ment tion ous"),
    "ru": _words("ба бе би бо ва ве ви во га ге го да де ди до жа же за зе зи ка ке ки ко ла ле ли ло ма ме ми мо на "
                 "не ни но па пе пи по ра ре ри ро са се си со та те ти то ча че ша ше ща ще ан ен ин он ст пр тр кр "
                 "ов ск ный ная ное ать ить ение ость ство"),
    "kk": _words("ба бе бі бо ға ге ғы да де ді до жа же жі жо қа ке қы қо ла ле лі ло ма ме мі мо на не ні но па пе "
                 "пі ра ре рі ро са се сі со та те ті то ұл үр өз әл ің ды ді ты ті ған ген лық лік дық дік шы ші сы "
                 "сі тар тер дар дер лар лер"),
}

_LANGUAGES = {
    "en": (_EN_FUNCTION, _EN_WORDS, _EN_PLACES, _EN_TEMPLATES, "Almaty", "Account"),
    "ru": (_RU_FUNCTION, _RU_WORDS, _RU_PLACES, _RU_TEMPLATES, "Алматы", "Свидетельство"),
    "kk": (_KK_FUNCTION, _KK_WORDS, _KK_PLACES, _KK_TEMPLATES, "Алматы", "Куәлік"),
}


class _Vocabulary:
    """Zipf-distributed words: function words, real content words, then rarer syllable-built words."""

    def __init__(self, language: str, size: int = 4000) -> None:
        function, words, places, _, _, _ = _LANGUAGES[language]
        rng = random.Random(sum(language.encode()) * 7919)
        syllables = _SYLLABLES[language]
        made: list[str] = []
        seen = set(function) | set(words)
        while len(made) < size:
            word = "".join(rng.choice(syllables) for _ in range(rng.randrange(2, 5)))
            if word not in seen:
                seen.add(word)
                made.append(word)
        self.words = list(dict.fromkeys(function)) + list(words) + made
        self.cumulative = list(itertools.accumulate(1.0 / rank**ZIPF_EXPONENT
                                                    for rank in range(1, len(self.words) + 1)))
        self.places = places

    def sample(self, rng: random.Random, count: int) -> list[str]:
        return rng.choices(self.words, cum_weights=self.cumulative, k=count)


_VOCABULARIES: dict[str, _Vocabulary] = {}


def _vocabulary(language: str) -> _Vocabulary:
    if language not in _VOCABULARIES:
        _VOCABULARIES[language] = _Vocabulary(language)
    return _VOCABULARIES[language]


def _sentence(rng: random.Random, language: str) -> str:
    vocabulary = _vocabulary(language)
    templates = _LANGUAGES[language][3]
    if rng.random() < TEMPLATE_SHARE:
        template = templates[rng.randrange(len(templates))]
        return template.format(time=f"{rng.randrange(0, 24):02d}:{rng.randrange(0, 60):02d}",
                               count=rng.randrange(2, 400), minutes=rng.randrange(2, 15),
                               place=vocabulary.places[rng.randrange(0, len(vocabulary.places))],
                               relative=("brother", "sister", "mother", "father", "cousin")[rng.randrange(0, 5)])
    words = vocabulary.sample(rng, rng.randrange(6, 22))
    if rng.random() < 0.25:
        words.insert(rng.randrange(0, len(words)), vocabulary.places[rng.randrange(0, len(vocabulary.places))])
    if rng.random() < 0.2:
        words.insert(rng.randrange(0, len(words)), str(rng.randrange(1, 2000)))
    text = " ".join(words)
    if rng.random() < 0.3:
        cut = rng.randrange(1, len(words))
        text = " ".join(words[:cut]) + ", " + " ".join(words[cut:])
    return text[0].upper() + text[1:] + ("." if rng.random() < 0.9 else "?")


def make_account(seed: int, index: int, size_kb: tuple[float, float]) -> tuple[str, bytes]:
    """(file name, UTF-8 Markdown with front matter) of one account, in en, ru or kk."""
    rng = random.Random(seed)
    language = ("en", "ru", "kk")[index % 3]
    _, _, places, _, city, heading = _LANGUAGES[language]
    target = int(rng.uniform(*size_kb) * 1024)
    day = rng.randrange(2, 11)
    place = places[rng.randrange(0, len(places))]
    title = " ".join(_vocabulary(language).sample(rng, rng.randrange(3, 7)))
    lines = ["---", f"title: {title[0].upper() + title[1:]}", f"date: 2022-01-{day:02d}", f"place: {city}, {place}",
             f"language: {language}", f"source: witness {index:05d}", "---", "", f"# {heading} {index}", ""]
    size = sum(len(line.encode()) + 1 for line in lines)
    paragraph: list[str] = []
    while size < target:
        sentence = _sentence(rng, language)
        paragraph.append(sentence)
        size += len(sentence.encode()) + 1
        if len(paragraph) >= rng.randrange(3, 8):
            lines.extend(_wrap(" ".join(paragraph)))
            lines.append("")
            paragraph = []
    if paragraph:
        lines.extend(_wrap(" ".join(paragraph)))
    name = f"2022-01-{day:02d}-{index:05d}.{language}.md"
    return name, ("\n".join(lines).rstrip("\n") + "\n").encode()


def _wrap(text: str, width: int = 100) -> list[str]:
    lines, current = [], ""
    for word in text.split(" "):
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        lines.append(current)
    return lines


# --------------------------------------------------------------------------------------------------- driver

def _photo_job(job: tuple[str, int, str, float]) -> tuple[str, bytes]:
    shape, index, kind, scale = job
    seed = _seed(shape, "photo", index)
    if kind == "png":
        return f"screenshot-{index:04d}.png", make_png(seed, scale)
    return f"IMG_{20220102 + index % 9}_{index:05d}.jpg", make_jpeg(seed, index, scale)


def _seed(shape: str, kind: str, index: int) -> int:
    # Photos are shared between shapes of the same photo scale: S's photos are the first of M's.
    base = {"photo": 1_000_003, "account": 7_000_001}[kind]
    return base + index * 17 + (0 if shape != "tiny" else 999_983)


def _info_path(shape: str) -> Path:
    return CORPORA / f"{shape}.json"


def load_info(shape: str) -> CorpusInfo | None:
    """The cached corpus of `shape`, if it is complete and of this generator version."""
    path = _info_path(shape)
    if not path.exists() or not (CORPORA / shape).is_dir():
        return None
    data = json.loads(path.read_text())
    if data.get("version") != GENERATOR_VERSION:
        return None
    data.pop("version")
    data["path"] = Path(data["path"])
    return CorpusInfo(**data)


def ensure_corpus(shape: str, force: bool = False, workers: int = 2, quiet: bool = False) -> CorpusInfo:
    """Build bench/corpora/<shape>/ unless a complete one of this generator version is there."""
    if shape not in SHAPES:
        raise SystemExit(f"unknown shape {shape!r}; one of {', '.join(SHAPES)}")
    cached = None if force else load_info(shape)
    if cached is not None:
        return cached
    spec = SHAPES[shape]
    root = CORPORA / shape
    _info_path(shape).unlink(missing_ok=True)
    if root.exists():
        shutil.rmtree(root)
    (root / "accounts").mkdir(parents=True)
    (root / "photos").mkdir()
    photo_bytes = account_bytes = 0
    if spec.links_to:
        return _linked(spec, ensure_corpus(spec.links_to, workers=workers, quiet=quiet), root)
    for index in range(spec.accounts):
        name, data = make_account(_seed(shape, "account", index), index, spec.account_kb)
        (root / "accounts" / name).write_bytes(data)
        account_bytes += len(data)
    jobs = [(shape, i, "jpg", spec.photo_scale) for i in range(spec.jpegs)]
    jobs += [(shape, spec.jpegs + i, "png", spec.photo_scale) for i in range(spec.pngs)]
    if not quiet:
        print(f"corpus {shape}: {spec.accounts} accounts written, making {len(jobs)} photos", file=sys.stderr)
    if workers > 1 and len(jobs) > 2:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            made = pool.map(_photo_job, jobs, chunksize=1)
            for done, (name, data) in enumerate(made, 1):
                (root / "photos" / name).write_bytes(data)
                photo_bytes += len(data)
                if not quiet and done % 20 == 0:
                    print(f"  {done}/{len(jobs)} photos", file=sys.stderr)
    else:
        for job in jobs:
            name, data = _photo_job(job)
            (root / "photos" / name).write_bytes(data)
            photo_bytes += len(data)
    info = CorpusInfo(shape, root, spec.accounts + len(jobs), len(jobs), spec.accounts,
                      photo_bytes + account_bytes, photo_bytes, account_bytes)
    record = dataclasses.asdict(info)
    record["path"] = str(root)
    record["version"] = GENERATOR_VERSION
    _info_path(shape).write_text(json.dumps(record, indent=1) + "\n")
    return info


def _linked(spec: Shape, base: CorpusInfo, root: Path) -> CorpusInfo:
    """spec.accounts accounts: hard links to `base`'s, each under several names."""
    names = sorted(p.name for p in (base.path / "accounts").iterdir())
    copies = -(-spec.accounts // len(names))
    made = account_bytes = 0
    for copy in range(copies):
        for name in names[: spec.accounts - made]:
            source = base.path / "accounts" / name
            os.link(source, root / "accounts" / f"{copy}-{name}")
            account_bytes += source.stat().st_size
            made += 1
    info = CorpusInfo(spec.name, root, made, 0, made, account_bytes, 0, account_bytes)
    record = dataclasses.asdict(info)
    record["path"] = str(root)
    record["version"] = GENERATOR_VERSION
    _info_path(spec.name).write_text(json.dumps(record, indent=1) + "\n")
    return info


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("shapes", nargs="+", choices=sorted(SHAPES))
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    for shape in args.shapes:
        info = ensure_corpus(shape, force=args.force, workers=args.workers)
        print(f"{shape}\t{info.path}\t{info.files} files\t{info.bytes / 1e6:.1f} MB "
              f"(photos {info.photo_bytes / 1e6:.1f} MB, accounts {info.account_bytes / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
