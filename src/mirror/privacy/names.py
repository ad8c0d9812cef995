"""What a file name can give away, and neutral names for photos named by a camera, a phone or a messenger.

Example::

    name_pattern("IMG_20220105_183012.jpg")       # "a capture time (IMG_20220105_183012)"
    folder_pattern("DCIM")                        # "a camera folder (DCIM)"
    neutral_names(["photos/DCIM/IMG_0001.jpg", "photos/square.jpg"], taken=set())
    # {"photos/DCIM/IMG_0001.jpg": "photos/001.jpg"}
    scan_name("accounts/call +7 701 123 45 67.md")   # [Finding(..., "phone", "name: +7 7•• ••• •• 67")]

Cameras, phones and messengers name files by when the picture was taken, to
the second (IMG_20220105_183012, PXL_20220105_183012345, WhatsApp Image
2022-01-05 at 18.30.12, signal-2022-01-05-183012, Telegram's
photo_2022-01-05_18-30-12, day first as in 05.01.2022 18.30), in seconds or
milliseconds since 1970 (FB_IMG_1641234567890, mmexport1641234567890), by a
date alone (05-01-2022), or by a counter and a device (DSC_0042, IMG_E1234,
GOPR0042, DCIM/100CANON): the time that was removed from EXIF, and the kind
of device, would stay in the bundle. Such photos are renamed to numbers, in
the author's order, in the author's own folders. A date in a name the author
chose ("2022-01-05-square") is kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from mirror.formats.names import collision_key
from mirror.privacy.findings import Finding
from mirror.privacy.identifiers import Checks, find_identifiers, mask

_DAY = r"(?:0[1-9]|[12]\d|3[01])"
_MONTH = r"(?:0[1-9]|1[0-2])"
_YEAR = r"(?:19|20)\d\d"
_TIME = r"(?:[01]\d|2[0-3])[-_.:h ]?[0-5]\d"
# A date followed by a time to the minute or second, year first (20220105_183012, 2022-01-05 18.30.12,
# 2022_01_05T1830, WhatsApp's "2022-01-05 at 18.30.12", IMG-20220105-WA0001) or day first with separators
# (05.01.2022 18.30, 05-01-22_18-30-12, macOS's "05.01.22, 18 30 12"; month first too: the middle may be a day).
_CAPTURE_TIME = re.compile(
    rf"(?<!\d)(?:{_YEAR}[-_.]?{_MONTH}[-_.]?{_DAY}(?:[ _T.-]|[ _]at[ _]|-WA)?{_TIME}"
    rf"|{_DAY}([-_.]){_DAY}\1(?:{_YEAR}|\d\d)(?:[ _T.-]|, ?|[ _](?:at|в)[ _]){_TIME})", re.I)
# A time in seconds or milliseconds since 1970, between 2001 and 2033: FB_IMG_1641234567890, mmexport...,
# Snapchat-1641234567, tg_image_1641234567.
_EPOCH = re.compile(r"(?<!\d)1\d{9}(?:\d{3})?(?!\d)")
# A name that is a date and nothing else, either order, perhaps with a copy counter: 2022-01-05, 05.01.2022 (2).
_DATE_ONLY = re.compile(rf"^(?:{_YEAR}([-_.]?){_MONTH}\1{_DAY}|{_DAY}([-_.]){_DAY}\2{_YEAR})"
                        r"(?:[ _-]?\(\d+\)|[_-]\d{1,3})?$")
_DEVICE = re.compile(
    r"^(?:IMG_E|IMG|VID|PXL|MVIMG|PANO|BURST|MVI|MOV|PICT|CIMG|IMAG|HPIM|DSC|DSCN|DSCF|DSC_|_DSC|_MG|_IMG|SAM|SDC|"
    r"RIMG|GOPR|G[HXP]\d\d|DJI|KIF|STA|PIC|P\d{3}|DCIM|FullSizeRender|Photo|Image)[_\-\s]?\d{3,}"
    r"|^(?:Screenshot|Screen[ _]?Shot|Скриншот|Снимок[ _]экрана|Bildschirmfoto|WhatsApp[ _](?:Image|Video)|"
    r"signal-\d|telegram-cloud-photo|photo_\d{4}|IMG-\d{8}-WA|PHOTO-\d{4}|FB_IMG_\d|mmexport\d|wx_camera_\d|"
    r"received_\d{6}|tg_image_\d|viber_image_\d|Snapchat-\d|Weixin[ _]Image|微信图片|FullSizeRender|image\d{1,2}$)"
    r"|^IMG-[0-9a-f]{32}-V"  # Viber
    r"|^-?\d{6,}_-?\d{5,}$"  # Telegram's cache: a chat or file id and a local id, such as -1001234567_123456
    r"|^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$",  # a phone's share or export id
    re.I)
# A device's make and model, as sample sets and some exports name photos (Canon_40D, iphone_13_pro_max, Nikon D70,
# Panasonic_DMC-FZ30, Galaxy S21, SM-G991B): the model EXIF said, which create removed there. A brand is taken only
# with a model right after it (letters run into digits, or two digits at least: D70, S21, CX7530, 40D, 3310; not a
# year; "sony_2" is the second photo of something), after one or two more words (PowerShot S40, HDR-HC3: then the
# model has letters and digits both), or a number after a series word (Redmi Note 10), so "samsung-plant-strike-2",
# "honor-guard-2" and "sony-center-1" are the author's names; a photo taken for a device is only renamed to a
# number (--keep-names keeps it).
_BRANDS = ("canon|nikon|sony|fuji|fujifilm|olympus|panasonic|lumix|leica|pentax|ricoh|kodak|casio|konica|minolta|"
           "hasselblad|polaroid|samsung|galaxy|xiaomi|redmi|poco|huawei|honor|oneplus|oppo|vivo|realme|motorola|"
           "nokia|htc|tecno|infinix|zte|lenovo|asus|meizu|alcatel|digma|gopro|dji|google[ _-]?pixel|pixel")
# A phone's series word, after which a bare number is its model (Redmi Note 10, Xperia 5, Mate 20, Mi 9).
_SERIES = "note|mate|mi|xperia|spark|view|nova|pova|camon|hot|zenfone|edge|razr|nord|reno|find|galaxy|redmi"
# (after a brand, or after galaxy, redmi or mi; never after a word of the author's: "sony-center-view-1")
_MODEL = re.compile(
    rf"(?<![a-z0-9])(?:(?:{_BRANDS})(?:[ _-]|(?=\d))(?!(?:19|20)\d\d(?![0-9]))"
    r"(?:[a-z]{1,10}\d+|\d\d+|\d(?!st|nd|rd|th)[a-z]+)[a-z0-9]*"
    r"|pixel[ _-]?\d[a-z]?"
    rf"|(?:{_BRANDS})[ _-](?:[a-z]{{1,10}}[ _-]){{1,2}}(?:[a-z]{{1,4}}\d+[a-z0-9]*|\d+(?!st|nd|rd|th)[a-z]+[a-z0-9]*)"
    rf"|(?:{_BRANDS})[ _-](?:(?:galaxy|redmi|mi)[ _-])?(?:{_SERIES})[ _-]?\d+(?!st|nd|rd|th)[a-z0-9]*"
    r"|(?:xperia|redmi|nova)[ _-]?\d+(?!st|nd|rd|th)[a-z]?"
    r"|i(?:phone|pad)[ _-]?(?:\d+[a-z]*|x[rs]?|se)|sm-[a-z]\d{3}[a-z0-9]*|eos[ _-]?(?:\d{1,4}d|r\d?)"
    r"|(?:ilce|dmc)-[a-z]*\d[a-z0-9]*|moto[ _-]?[gez]\d+[a-z0-9]*|lg[ _-]?[a-z]{1,2}\d+[a-z0-9]*|bq[ _-]\d{4}[a-z]?)"
    r"(?![a-z0-9])", re.I)
_FOLDER = re.compile(r"^(?:DCIM|\d{3}[A-Z0-9_]{5}|Camera|Camera Roll|Screenshots|WhatsApp(?: Images)?|Telegram"
                     r"(?: Images)?|Signal|Снимки экрана|Скриншоты)$", re.I)


def _stem(name: str) -> str:
    base = name.rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[0] if "." in base[1:] else base


def name_pattern(name: str) -> str | None:
    """What the last part of `name` gives away: a capture time or a device pattern; None for a neutral name."""
    stem = _stem(name)
    if _CAPTURE_TIME.search(stem) or _EPOCH.search(stem):
        return f"a capture time ({stem})"
    if _DATE_ONLY.match(stem):
        return f"a capture date ({stem})"
    if _DEVICE.search(stem):
        return f"a camera, phone or messenger name ({stem})"
    if _MODEL.search(stem):
        return f"a device's make or model ({stem})"
    return None


def folder_pattern(part: str) -> str | None:
    """What a folder name gives away (DCIM, 100CANON, Camera, WhatsApp Images, a capture time); None if nothing."""
    if _FOLDER.match(part):
        return f"a camera or app folder ({part})"
    return f"a capture time ({part})" if _CAPTURE_TIME.search(part) or _EPOCH.search(part) else None


def neutral_names(members: Iterable[str], taken: set[str]) -> dict[str, str]:
    """New names for photos whose name or folders carry a capture time or a device pattern.

    Folder parts that do (DCIM, 100APPLE, Camera...) are left out; file names that do become
    001, 002... in the order of the original names, within the remaining folder, after the
    numbers and names already there. The extension is kept (lower case).

    Args:
        members: photo member names, such as "photos/DCIM/IMG_0001.jpg".
        taken: every other member name of the bundle (never reused).

    Returns:
        old name -> new name, for the photos that are renamed only.
    """
    plan: list[tuple[str, str, str | None, str, bool]] = []  # member, folder, name kept or None, extension, moved
    for member in sorted(members):
        top, *folders, file = member.split("/")
        kept = [part for part in folders if folder_pattern(part) is None]
        extension = "." + file.rsplit(".", 1)[1].lower() if "." in file[1:] else ""
        plan.append((member, "/".join([top, *kept]), None if name_pattern(file) else file, extension,
                     len(kept) != len(folders)))
    used = {collision_key(m) for m in taken} | {collision_key(p[0]) for p in plan if p[2] and not p[4]}
    renamed: dict[str, str] = {}
    counters: dict[str, int] = {}
    for member, folder, keep, extension, moved in plan:
        if keep is not None and not moved:
            continue
        target = f"{folder}/{keep}" if keep is not None else ""
        while not target or collision_key(target) in used:
            counters[folder] = counters.get(folder, 0) + 1
            target = f"{folder}/{counters[folder]:03d}{extension}"
        used.add(collision_key(target))
        renamed[member] = target
    return renamed


def scan_name(path: str, photo: bool, run: Checks | None = None) -> list[Finding]:
    """Identifiers in a path (phone numbers, e-mail addresses...); for a photo, also capture times and devices.
    `run`: the libphonenumber calls the run has left (an archive of a million names holds a million paths)."""
    last = path.rsplit("/", 1)[-1]
    bare = path[: len(path) - len(last)] + _stem(last)
    # "_" separates the words of a name as a space does (Aigerim_8_701_123_45_67.md), except in an e-mail address
    matches = find_identifiers(bare, run)
    if "_" in bare:
        matches += [m for m in find_identifiers(bare.replace("_", " "), run)
                    if not any(start < m[3] and m[2] < end for _, _, start, end in matches)]
    if not matches and not photo:  # (most names: a million of them in an archive)
        return []
    found = [Finding(path, kind, f"name: {mask(value)}") for kind, value, _, _ in sorted(matches, key=lambda m: m[2])]
    if not photo:
        return found
    parts = path.split("/")
    patterns = [folder_pattern(part) for part in parts[:-1]] + [name_pattern(parts[-1])]
    found += [Finding(path, "name", f"the name carries {what}") for what in patterns if what is not None]
    return found
