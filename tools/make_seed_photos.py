#!/usr/bin/env python3
"""Generate the demo photos in seeds/photos/ (deterministic: fixed seeds, no network).

Usage::

    python tools/make_seed_photos.py            # writes into seeds/photos/
    python tools/make_seed_photos.py --out DIR  # writes somewhere else

Each photo is a synthetic night street scene: a sky gradient with city glow, drifting
smoke, rows of buildings with lit windows, street lamps, falling snow, a little blur and
sensor grain. None of it shows a real place.

Some files deliberately carry metadata, so that the metadata stripper of `mirror` has
something real to remove. All of it is fake:

- 01 (JPEG): EXIF with GPS in Almaty, Make, Model, BodySerialNumber (0xA431),
  DateTimeOriginal, Orientation 6 (the pixels are stored rotated 90 degrees) and an
  embedded EXIF thumbnail (IFD1).
- 02 (JPEG): EXIF with GPS in Almaty, Make, Model, BodySerialNumber, DateTimeOriginal.
- 03 (JPEG): a COM comment segment, no EXIF.
- 04 (JPEG): no metadata.
- 05 (PNG): tEXt (Author, Comment), iTXt (Description) and tIME chunks.
- 06 (PNG): no metadata.

Pillow cannot write an EXIF thumbnail, so the EXIF block is assembled here with
`struct` (a small little-endian TIFF writer) instead of `PIL.Image.Exif`.
"""

from __future__ import annotations

import argparse
import io
import random
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter
from PIL.PngImagePlugin import PngInfo

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "seeds" / "photos"

JPEG_SIZE = (1600, 1200)
PNG_SIZE = (1024, 768)
JPEG_QUALITY = 90
MIN_BYTES = 200 * 1024
MAX_BYTES = 600 * 1024
# Aim inside the allowed window, with margin on both sides.
TARGET_LOW = 260 * 1024
TARGET_HIGH = 520 * 1024
# Grain levels tried in order; the first whose file lands in the target window is kept.
# PNG (lossless) grows fast with grain, so it starts with none.
GRAIN_LADDER = {"jpeg": (6, 8, 4, 10, 3, 12, 2, 14, 1, 16, 0), "png": (0, 1, 2, 3, 4)}

RGB = tuple[int, int, int]

# --------------------------------------------------------------------------- EXIF writer

BYTE, ASCII, SHORT, LONG, RATIONAL, UNDEFINED = 1, 2, 3, 4, 5, 7
TAG_EXIF_IFD = 0x8769
TAG_GPS_IFD = 0x8825
TAG_THUMB_OFFSET = 0x0201
TAG_THUMB_LENGTH = 0x0202

Entry = tuple[int, int, int, bytes]  # tag, type, count, little-endian payload


def e_ascii(tag: int, text: str) -> Entry:
    data = text.encode("ascii") + b"\0"
    return (tag, ASCII, len(data), data)


def e_short(tag: int, value: int) -> Entry:
    return (tag, SHORT, 1, struct.pack("<H", value))


def e_long(tag: int, value: int) -> Entry:
    return (tag, LONG, 1, struct.pack("<I", value))


def e_bytes(tag: int, kind: int, data: bytes) -> Entry:
    return (tag, kind, len(data), data)


def e_rational(tag: int, *values: tuple[int, int]) -> Entry:
    data = b"".join(struct.pack("<II", num, den) for num, den in values)
    return (tag, RATIONAL, len(values), data)


def _ifd_size(entries: list[Entry]) -> int:
    size = 2 + 12 * len(entries) + 4
    for _, _, _, payload in entries:
        if len(payload) > 4:
            size += len(payload) + (len(payload) & 1)
    return size


def _pack_ifd(entries: list[Entry], offset: int, next_ifd: int) -> bytes:
    entries = sorted(entries)
    head = bytearray(struct.pack("<H", len(entries)))
    data = bytearray()
    data_start = offset + 2 + 12 * len(entries) + 4
    for tag, kind, count, payload in entries:
        if len(payload) <= 4:
            value = payload.ljust(4, b"\0")
        else:
            value = struct.pack("<I", data_start + len(data))
            data += payload
            if len(data) & 1:
                data += b"\0"
        head += struct.pack("<HHI", tag, kind, count) + value
    head += struct.pack("<I", next_ifd)
    return bytes(head + data)


def build_exif(ifd0: list[Entry], exif: list[Entry], gps: list[Entry], thumbnail: bytes | None) -> bytes:
    """An APP1 payload: b"Exif\\0\\0" + a TIFF structure with IFD0, Exif, GPS and optional IFD1."""
    ifd0 = [*ifd0, e_long(TAG_EXIF_IFD, 0), e_long(TAG_GPS_IFD, 0)]
    ifd1: list[Entry] = []
    if thumbnail is not None:
        ifd1 = [
            e_short(0x0103, 6),  # Compression: old-style JPEG (the thumbnail)
            e_rational(0x011A, (72, 1)),
            e_rational(0x011B, (72, 1)),
            e_short(0x0128, 2),
            e_long(TAG_THUMB_OFFSET, 0),
            e_long(TAG_THUMB_LENGTH, len(thumbnail)),
        ]
    off0 = 8
    off_exif = off0 + _ifd_size(ifd0)
    off_gps = off_exif + _ifd_size(exif)
    off_ifd1 = off_gps + _ifd_size(gps)
    off_thumb = off_ifd1 + _ifd_size(ifd1)

    def with_value(entries: list[Entry], tag: int, value: int) -> list[Entry]:
        return [e_long(tag, value) if e[0] == tag else e for e in entries]

    ifd0 = with_value(with_value(ifd0, TAG_EXIF_IFD, off_exif), TAG_GPS_IFD, off_gps)
    ifd1 = with_value(ifd1, TAG_THUMB_OFFSET, off_thumb)
    tiff = bytearray(b"II*\0" + struct.pack("<I", off0))
    tiff += _pack_ifd(ifd0, off0, off_ifd1 if thumbnail is not None else 0)
    tiff += _pack_ifd(exif, off_exif, 0)
    tiff += _pack_ifd(gps, off_gps, 0)
    if thumbnail is not None:
        tiff += _pack_ifd(ifd1, off_ifd1, 0)
        tiff += thumbnail
    return b"Exif\0\0" + bytes(tiff)


def dms(value: float) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """Degrees, minutes and seconds (hundredths) as EXIF rationals."""
    degrees = int(value)
    minutes_f = (value - degrees) * 60
    minutes = int(minutes_f)
    hundredths = round((minutes_f - minutes) * 60 * 100)
    return (degrees, 1), (minutes, 1), (hundredths, 100)


@dataclass(frozen=True)
class CameraTags:
    """Fake capture metadata planted in a JPEG."""

    lat: float
    lon: float
    altitude_m: int
    taken: str  # "YYYY:MM:DD HH:MM:SS", local time (UTC+06:00)
    utc_time: tuple[int, int, int]
    make: str = "Demo Optics"
    model: str = "NightView 16"
    serial: str = "DO16-SEED-0042"
    orientation: int = 1


def camera_exif(tags: CameraTags, size: tuple[int, int], thumbnail: bytes | None) -> bytes:
    ifd0 = [
        e_ascii(0x010F, tags.make),
        e_ascii(0x0110, tags.model),
        e_short(0x0112, tags.orientation),
        e_rational(0x011A, (72, 1)),
        e_rational(0x011B, (72, 1)),
        e_short(0x0128, 2),
        e_ascii(0x0131, "mirror seed generator"),
        e_ascii(0x0132, tags.taken),
        e_short(0x0213, 1),  # YCbCrPositioning: centred
    ]
    exif = [
        e_bytes(0x9000, UNDEFINED, b"0232"),  # ExifVersion
        e_ascii(0x9003, tags.taken),  # DateTimeOriginal
        e_ascii(0x9004, tags.taken),  # CreateDate
        e_ascii(0x9011, "+06:00"),  # OffsetTimeOriginal
        e_bytes(0x9101, UNDEFINED, b"\x01\x02\x03\x00"),  # ComponentsConfiguration
        e_bytes(0xA000, UNDEFINED, b"0100"),  # FlashpixVersion
        e_short(0xA001, 1),  # ColorSpace: sRGB
        e_long(0xA002, size[0]),
        e_long(0xA003, size[1]),
        e_ascii(0xA431, tags.serial),  # BodySerialNumber
    ]
    hh, mm, ss = tags.utc_time
    gps = [
        e_bytes(0x0000, BYTE, b"\x02\x03\x00\x00"),  # GPSVersionID
        e_ascii(0x0001, "N" if tags.lat >= 0 else "S"),
        e_rational(0x0002, *dms(abs(tags.lat))),
        e_ascii(0x0003, "E" if tags.lon >= 0 else "W"),
        e_rational(0x0004, *dms(abs(tags.lon))),
        e_bytes(0x0005, BYTE, b"\x00"),  # above sea level
        e_rational(0x0006, (tags.altitude_m, 1)),
        e_rational(0x0007, (hh, 1), (mm, 1), (ss, 1)),
        e_ascii(0x001D, tags.taken[:10]),  # GPSDateStamp
    ]
    return build_exif(ifd0, exif, gps, thumbnail)


# --------------------------------------------------------------------------- scene


@dataclass(frozen=True)
class Palette:
    sky_top: RGB
    sky_horizon: RGB
    smoke: RGB
    building: RGB
    window: RGB
    lamp: RGB
    ground: RGB


NIGHT = Palette(
    (6, 10, 28), (58, 48, 70), (90, 80, 90), (14, 16, 24), (255, 196, 110), (255, 170, 80), (40, 42, 50)
)
SMOKE = Palette(
    (30, 24, 26), (150, 90, 50), (140, 110, 90), (24, 20, 20), (255, 180, 90), (255, 150, 60), (60, 52, 48)
)
FOG = Palette(
    (70, 76, 88),
    (160, 160, 165),
    (190, 190, 195),
    (60, 64, 72),
    (250, 220, 160),
    (255, 220, 170),
    (150, 150, 155),
)
DUSK = Palette(
    (12, 20, 50), (110, 70, 90), (100, 90, 110), (18, 18, 30), (255, 210, 130), (255, 190, 110), (70, 70, 85)
)
DAWN = Palette(
    (40, 60, 100),
    (210, 150, 120),
    (170, 150, 150),
    (35, 38, 52),
    (255, 225, 160),
    (255, 200, 140),
    (120, 115, 125),
)


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def _value_noise(rng: random.Random, size: tuple[int, int], cells: tuple[int, int]) -> Image.Image:
    """Smooth greyscale noise: a small random image scaled up with bicubic interpolation."""
    small = Image.frombytes("L", cells, rng.randbytes(cells[0] * cells[1]))
    return small.resize(size, Image.Resampling.BICUBIC)


def render_scene(seed: int, size: tuple[int, int], palette: Palette) -> Image.Image:
    """A night street: sky, smoke, buildings with windows, lamps, snow and a little blur."""
    rng = random.Random(seed)  # noqa: S311 - reproducible pictures, not security
    w, h = size
    horizon = int(h * 0.62)

    # Sky: vertical gradient, brighter towards the horizon (city glow).
    img = Image.new("RGB", size)
    draw = ImageDraw.Draw(img)
    for y in range(h):
        t = min(1.0, y / horizon) ** 1.8
        draw.line([(0, y), (w, y)], fill=_mix(palette.sky_top, palette.sky_horizon, t))

    # Smoke or fog: two octaves of smooth noise, strongest low in the sky.
    smoke_mask = ImageChops.add(
        _value_noise(rng, size, (12, 9)), _value_noise(rng, size, (40, 30)), scale=2.0
    ).point(lambda v: max(0, v - 70) * 2)
    fade = Image.linear_gradient("L").resize(size).point(lambda v: int(v * 0.55))
    smoke_mask = ImageChops.multiply(smoke_mask, fade)
    img = Image.composite(Image.new("RGB", size, palette.smoke), img, smoke_mask)

    # Buildings in three depth layers; nearer layers are darker, taller and wider.
    draw = ImageDraw.Draw(img)
    for layer in range(3):
        shade = _mix(palette.sky_horizon, palette.building, 0.55 + 0.22 * layer)
        x = rng.randint(-60, 0)
        while x < w:
            bw = rng.randint(70 + 40 * layer, 160 + 80 * layer)
            top = horizon - rng.randint(int(h * (0.12 + 0.08 * layer)), int(h * (0.28 + 0.12 * layer)))
            bottom = horizon + 18 * layer
            draw.rectangle([x, top, x + bw, bottom], fill=shade)
            if rng.random() < 0.3:  # a roof block or antenna
                aw = rng.randint(6, max(8, bw // 4))
                ax = x + rng.randint(0, bw - aw)
                draw.rectangle([ax, top - rng.randint(10, 60), ax + aw, top], fill=shade)
            win_w, win_h = 6 + 3 * layer, 9 + 4 * layer
            for wy in range(top + 14, bottom - 18, win_h + 8 + 2 * layer):
                for wx in range(x + 10, x + bw - win_w - 6, win_w + 9 + 2 * layer):
                    roll = rng.random()
                    if roll < 0.33:
                        lit = _mix(palette.window, shade, rng.uniform(0.0, 0.45))
                        draw.rectangle([wx, wy, wx + win_w, wy + win_h], fill=lit)
                    elif roll < 0.5:
                        draw.rectangle([wx, wy, wx + win_w, wy + win_h], fill=_mix(shade, (0, 0, 0), 0.4))
            x += bw + rng.randint(-10, 25)

    # Street: ground plane with converging kerb lines and tyre tracks in the snow.
    ground_top = horizon + 36
    for y in range(ground_top, h):
        t = (y - ground_top) / max(1, h - ground_top)
        draw.line([(0, y), (w, y)], fill=_mix(palette.building, palette.ground, 0.35 + 0.65 * t))
    vanish = (w // 2 + rng.randint(-w // 8, w // 8), ground_top)
    for frac in (-0.45, -0.08, 0.08, 0.45):
        colour = _mix(palette.ground, (255, 255, 255), 0.18 if abs(frac) < 0.2 else 0.1)
        draw.line([vanish, (int(w * (0.5 + frac)), h)], fill=colour, width=2)

    # Street lamps: dark posts, a bright bulb and a halo that fades with distance (added light).
    post = _mix(palette.ground, (0, 0, 0), 0.55)
    glow = Image.new("RGB", size)
    glow_draw = ImageDraw.Draw(glow)
    for i in range(rng.randint(4, 7)):
        lx = int(w * (0.06 + 0.16 * i)) + rng.randint(-30, 30)
        ly = ground_top - rng.randint(int(h * 0.18), int(h * 0.26))
        draw.line([(lx, ly), (lx, ground_top + rng.randint(0, 30))], fill=post, width=5)
        draw.line([(lx, ly), (lx + 26, ly)], fill=post, width=4)
        cx, r = lx + 26, rng.randint(50, 90)
        for ring in range(8, 0, -1):  # 8 nested discs: light builds up towards the bulb
            rr = r * ring // 8
            glow_draw.ellipse(
                [cx - rr, ly - rr, cx + rr, ly + rr], fill=_mix((0, 0, 0), palette.lamp, 0.05 * (9 - ring))
            )
        glow_draw.ellipse([cx - 8, ly - 5, cx + 8, ly + 5], fill=(255, 250, 235))
    img = ImageChops.add(img, glow.filter(ImageFilter.GaussianBlur(18)))
    img = ImageChops.add(img, glow.filter(ImageFilter.GaussianBlur(2)).point(lambda v: v // 3))

    # Snow: many small flakes and a few large, near (blurred) ones.
    snow = Image.new("L", size)
    snow_draw = ImageDraw.Draw(snow)
    for _ in range(w * h // 900):
        sx, sy = rng.randrange(w), rng.randrange(h)
        r = rng.choice((1, 1, 1, 2, 2, 3))
        snow_draw.ellipse([sx - r, sy - r, sx + r, sy + r], fill=rng.randint(120, 255))
    near = Image.new("L", size)
    near_draw = ImageDraw.Draw(near)
    for _ in range(60):
        sx, sy = rng.randrange(w), rng.randrange(h)
        r = rng.randint(5, 12)
        near_draw.ellipse([sx - r, sy - r, sx + r, sy + r], fill=rng.randint(90, 180))
    snow = ImageChops.lighter(
        snow.filter(ImageFilter.GaussianBlur(0.8)), near.filter(ImageFilter.GaussianBlur(5))
    )
    img = Image.composite(Image.new("RGB", size, (235, 238, 245)), img, snow)

    # Lens softness.
    return img.filter(ImageFilter.GaussianBlur(1.1))


def add_grain(img: Image.Image, seed: int, grain: int) -> Image.Image:
    """Sensor grain of +-`grain` levels (it also sets how large the encoded file is)."""
    if not grain:
        return img
    rng = random.Random(seed)  # noqa: S311 - reproducible pictures, not security
    w, h = img.size
    noise = Image.frombytes("L", img.size, rng.randbytes(w * h)).point(
        lambda v: 128 + (v - 128) * grain // 128
    )
    return ImageChops.add(img, Image.merge("RGB", (noise, noise, noise)), offset=-128)


# --------------------------------------------------------------------------- photos


@dataclass(frozen=True)
class Photo:
    name: str
    seed: int
    palette: Palette
    kind: str  # "jpeg" or "png"
    note: str
    camera: CameraTags | None = None
    thumbnail: bool = False
    comment: bytes | None = None
    png_text: dict[str, str] = field(default_factory=dict)
    png_itxt: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (lang, text)
    png_time: tuple[int, int, int, int, int, int] | None = None


PHOTOS = (
    Photo(
        "01-republic-square-night.jpg",
        seed=2022_0105,
        palette=NIGHT,
        kind="jpeg",
        note="EXIF: GPS, Make/Model, BodySerialNumber, DateTimeOriginal, Orientation=6, thumbnail",
        camera=CameraTags(43.2381, 76.9452, 848, "2022:01:05 22:41:07", (16, 41, 7), orientation=6),
        thumbnail=True,
    ),
    Photo(
        "02-abai-avenue-smoke.jpg",
        seed=2022_0106,
        palette=SMOKE,
        kind="jpeg",
        note="EXIF: GPS, Make/Model, BodySerialNumber, DateTimeOriginal",
        camera=CameraTags(
            43.2405,
            76.9291,
            820,
            "2022:01:06 09:12:55",
            (3, 12, 55),
            model="NightView 16 Mk II",
            serial="DO16-SEED-0077",
        ),
    ),
    Photo(
        "03-city-hall-fog.jpg",
        seed=2022_0107,
        palette=FOG,
        kind="jpeg",
        note="COM comment segment, no EXIF",
        comment="Seed photo for mirror. Synthetic scene; this comment is metadata to strip.".encode("ascii"),
    ),
    Photo("04-courtyard-snow.jpg", seed=2022_0108, palette=DUSK, kind="jpeg", note="no metadata"),
    Photo(
        "05-empty-avenue-dawn.png",
        seed=2022_0109,
        palette=DAWN,
        kind="png",
        note="tEXt Author/Comment, iTXt Description, tIME",
        png_text={
            "Author": "Seed Photographer (fictional)",
            "Comment": "Synthetic demo image; these text chunks are metadata to strip.",
        },
        png_itxt={"Description": ("ru", "Пустой проспект на рассвете, Алматы (синтетическое изображение)")},
        png_time=(2022, 1, 9, 2, 30, 0),
    ),
    Photo("06-tram-stop-night.png", seed=2022_0110, palette=NIGHT, kind="png", note="no metadata"),
)


def _jpeg_bytes(img: Image.Image, **params: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=JPEG_QUALITY, **params)
    return buf.getvalue()


def _png_bytes(img: Image.Image, **params: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=True, **params)
    return buf.getvalue()


def encode(photo: Photo, img: Image.Image) -> bytes:
    """The file bytes of `photo`, with its planted metadata."""
    if photo.kind == "png":
        info = PngInfo()
        for key, text in photo.png_text.items():
            info.add_text(key, text)
        for key, (lang, text) in photo.png_itxt.items():
            info.add_itxt(key, text, lang=lang)
        if photo.png_time is not None:
            info.add(b"tIME", struct.pack(">HBBBBB", *photo.png_time))
        return _png_bytes(img, pnginfo=info)
    if photo.camera is not None:
        if photo.camera.orientation == 6:
            # Stored turned 90 degrees counter-clockwise; viewers rotate it back clockwise.
            img = img.transpose(Image.Transpose.ROTATE_90)
        thumb: bytes | None = None
        if photo.thumbnail:
            small = img.copy()
            small.thumbnail((160, 160))
            thumb = _thumb_bytes(small)
        return _jpeg_bytes(img, exif=camera_exif(photo.camera, img.size, thumb))
    if photo.comment is not None:
        return _jpeg_bytes(img, comment=photo.comment)
    return _jpeg_bytes(img)


def _thumb_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=75)
    return buf.getvalue()


def make_photo(photo: Photo) -> tuple[bytes, int]:
    """Render `photo`, then encode it with the first grain level that lands in the target size window."""
    size = JPEG_SIZE if photo.kind == "jpeg" else PNG_SIZE
    scene = render_scene(photo.seed, size, photo.palette)
    best: tuple[bytes, int] | None = None
    for grain in GRAIN_LADDER[photo.kind]:
        data = encode(photo, add_grain(scene, photo.seed + 1, grain))
        if TARGET_LOW <= len(data) <= TARGET_HIGH:
            return data, grain
        if MIN_BYTES <= len(data) <= MAX_BYTES and best is None:
            best = (data, grain)
    if best is None:
        raise SystemExit(f"{photo.name}: no grain level gives a file of 200-600 KB")
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: seeds/photos)")
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    total = 0
    for photo in PHOTOS:
        data, grain = make_photo(photo)
        (out / photo.name).write_bytes(data)
        total += len(data)
        with Image.open(io.BytesIO(data)) as check:
            stored = f"{check.width}x{check.height}"
        print(f"wrote {out / photo.name}  {stored}  {len(data) / 1024:.0f} KB  grain={grain}  [{photo.note}]")
    print(f"total {total / 1024:.0f} KB in {len(PHOTOS)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
