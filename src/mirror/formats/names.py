"""The allow-list for member names, shared by `create` and `verify`.

Example::

    check_member_name("accounts/2022-01-05.en.md")     # returns quietly
    check_member_name("../x")                           # raises ArchiveError
    collision_key("Photos/A.JPG") == collision_key("photos/a.jpg")

A name is a relative POSIX path in NFC whose parts are plain: no `.` or `..`,
no backslash, no drive letters or other characters Windows refuses, no control,
format (bidi), private-use or invisible characters (fillers, variation
selectors), no Windows device names, no trailing dot or space. These rules keep
an extracted bundle identical on every system.
"""

from __future__ import annotations

import os
import re
import sys
import unicodedata
from pathlib import PurePath

from mirror.errors import ArchiveError, ConfigError
from mirror.safeio import NAME_BYTES, name_bytes

MAX_NAME_BYTES = 1024
_SHOWN = 120  # characters of a refused name shown in its message
MAX_PART_BYTES = NAME_BYTES
_FORBIDDEN_CHAR = re.compile(r'[\\:*?"<>|]')
_BAD_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
# Letters and marks that print as nothing, outside the categories above: Hangul and Khitan fillers, the blank
# Braille pattern, the musical null notehead, variation selectors, the combining grapheme joiner, Mongolian
# selectors. "a.md" and "a\u3164.md" look the same. (Spaces other than U+0020, such as the no-break space that
# Russian typography puts before a dash, are allowed: collision_key folds each to U+0020, so a name never sits
# beside its look-alike.)
_INVISIBLE = re.compile("[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u2800\u3164\uffa0\ufe00-\ufe0f"
                        "\U00016fe4\U0001d159\U000e0100-\U000e01ef]")
# Windows reserves the superscript digits too (COM¹, LPT³), and the console's own names.
_DEVICES = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
            *(f"{port}{n}" for port in ("COM", "LPT") for n in "0123456789¹²³")}


def printable(name: str) -> str:
    """A name made safe to print on one terminal line: each character that does not print (a control, format or
    unassigned one, a space other than U+0020) written as its escape, the rest as it is (Cyrillic stays
    readable)."""
    if name.isprintable():
        return name
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in name)


# A name of plain ASCII parts that every rule below allows (the common case, checked in C): letters, digits,
# "_", "-" and inner dots, at most 255 per part; then only the device names remain to be ruled out.
_PLAIN_PART = r"[A-Za-z0-9_-](?:[A-Za-z0-9_.-]{0,253}[A-Za-z0-9_-])?"
_PLAIN = re.compile(f"{_PLAIN_PART}(?:/{_PLAIN_PART})*")
_DEVICE = re.compile(r"(?:^|/)(?:CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])(?:[./]|$)", re.IGNORECASE)


def name_problem(name: str) -> str | None:
    """Why `name` is not allowed, or None when it is."""
    if len(name) <= MAX_NAME_BYTES and _PLAIN.fullmatch(name) and not _DEVICE.search(name):
        return None
    if not name:
        return "empty name"
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        return "name too long"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "absolute path"
    forbidden = _FORBIDDEN_CHAR.search(name)
    if forbidden:
        return "backslash in name" if forbidden[0] == "\\" else f"character {forbidden[0]!r} not allowed"
    # A printable name has none of the bad categories (checked in C); only the others go character by character.
    bad = None if name.isprintable() else next((c for c in name if unicodedata.category(c) in _BAD_CATEGORIES), None)
    if bad is None and (invisible := _INVISIBLE.search(name)) is not None:
        bad = invisible[0]
    if bad is not None:
        return f"control or invisible character U+{ord(bad):04X}"
    if not unicodedata.is_normalized("NFC", name):
        return "name is not in Unicode NFC form"
    for part in name.split("/"):
        if part in ("", ".", ".."):
            return "'..', '.' or empty path part"
        if len(part.encode("utf-8")) > MAX_PART_BYTES:
            size = len(part.encode("utf-8"))
            return f"a path part of {size:,} bytes, more than {MAX_PART_BYTES} (a file system's limit)"
        if part[-1] in ". " or part[0] == " ":
            return "path part starts with a space or ends with a dot or space"
        if part.split(".")[0].rstrip(" ").upper() in _DEVICES:  # "CON .txt" is the device too
            return "Windows device name"
    return None


def check_member_name(name: str) -> None:
    """Return quietly if `name` is allowed.

    Raises:
        ArchiveError: the name is unsafe, with the reason.
    """
    problem = name_problem(name)
    if problem is not None:
        if len(name) > _SHOWN:  # one line, however long the name
            shown, problem = printable(name[:_SHOWN]) + "…", f"{problem}; the name has {len(name):,} characters"
        else:
            shown = printable(name)
        raise ArchiveError(f"unsafe member name '{shown}': {problem}")


def collision_key(name: str) -> str:
    """Names with equal keys would land on the same file on some system."""
    if name.isascii():  # NFKC leaves ASCII as it is, and casefold() is lower() there: the common case, fast
        return name.lower()
    return unicodedata.normalize("NFKC", name).casefold()


SLUG_CHARS = 60
# and at most this many bytes in UTF-8 (60 Cyrillic letters; 30 of a script of four-byte letters): fetch adds up to
# 60 bytes to a readable name (".unknown-signer-<key id>-<hash>.7z"), and file systems take 255
SLUG_BYTES = 120


def local_name(title: str, bundle_id: str, version: int) -> str:
    """`readable_name`, if this system can write it as a file name; else the id and version alone.

    On a system whose file names are in a legacy code page (a ru_RU.CP1251 locale), a Kazakh title has letters
    that code page lacks. The torrent's name is always `readable_name`: it must be the same on every machine.
    """
    name = readable_name(title, bundle_id, version)
    try:
        os.fsencode(name)
    except UnicodeEncodeError:
        return f"bundle-{bundle_id[:8]}-v{version}"
    return name


def unwritable(name: str) -> str | None:
    """Why this system cannot write `name` as a file name (letters its file name encoding lacks), or None."""
    try:
        os.fsencode(name)
    except UnicodeEncodeError as exc:
        return (f"{printable(name)} cannot be written as a file name here: this system writes file names in "
                f"{sys.getfilesystemencoding()}, which has no {printable(exc.object[exc.start:exc.end])!r}")
    return None


def readable_name(title: str, bundle_id: str, version: int) -> str:
    """A file or folder name people can read for a bundle: a slug of its title, its id's start, its version.

    "Almaty, January 2022" -> "almaty-january-2022-9160a322-v2". Letters of any script are kept (Cyrillic
    titles stay readable); anything else becomes "-". Used for fetched bundles, extracted folders and the
    name inside a torrent, so one bundle has one name everywhere; the hash stays in the index and the state.
    """
    folded = unicodedata.normalize("NFKC", title).casefold()
    slug = "".join(c if c.isalnum() else "-" for c in folded)
    slug = re.sub("-{2,}", "-", slug).strip("-")[:SLUG_CHARS].rstrip("-")
    slug = unicodedata.normalize("NFC", slug)
    slug = slug.encode("utf-8")[:SLUG_BYTES].decode("utf-8", "ignore").rstrip("-")  # whole letters only
    fallback = f"bundle-{bundle_id[:8]}-v{version}"
    name = f"{slug}-{bundle_id[:8]}-v{version}" if slug else fallback
    return name if name_problem(name + ".7z") is None else fallback


def check_name_length(path: PurePath) -> None:
    """Return quietly if every name on `path` fits a file system (MAX_PART_BYTES bytes): said before any work,
    not as "File name too long" once it is done.

    Raises:
        ConfigError: a name is longer, with its size and the limit.
    """
    for part in path.parts:
        size = name_bytes(part)
        if size > MAX_PART_BYTES:
            shown = printable(part[:_SHOWN]) + "…" if len(part) > _SHOWN else printable(part)
            raise ConfigError(f"{shown}: a name of {size:,} bytes, more than a file system takes ({MAX_PART_BYTES})",
                              hint="choose a shorter name")
