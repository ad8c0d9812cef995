"""Fingerprints of public keys, for people: digits to read over a phone, and a QR code of the key.

Example::

    fingerprint(public)               # "12345 67890 ..." (40 digits in groups of 5)
    print(qr_terminal(public.key_line))
    png = qr_png(public.key_line)     # bytes of a PNG, for `keys fingerprint --png`

The digits are SHA-256 of the raw key, reduced to 40 decimal digits (10**40 is about
2**132.9: at least 128 bits). The QR code holds the bare key line that `minisign -P`
takes and `mirror keys import -` reads. The only module that imports segno.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata

from mirror.formats.minisign import PublicKeyFile

FINGERPRINT_DIGITS = 40


def fingerprint(public: PublicKeyFile) -> str:
    """40 digits in groups of 5 from SHA-256 of the public key: read aloud to compare keys."""
    value = int.from_bytes(hashlib.sha256(public.public_key).digest()[:20], "big") % 10**FINGERPRINT_DIGITS
    digits = f"{value:0{FINGERPRINT_DIGITS}d}"
    return " ".join(digits[i : i + 5] for i in range(0, FINGERPRINT_DIGITS, 5))


_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015.,_/]+")  # spaces of any kind, dashes, dots: how people group digits


def typed_digits(given: str) -> str:
    """The digits a person typed, without the spaces, dashes or dots they grouped them with (other characters
    stay, so that a placeholder or a letter never counts as a digit); digits of other scripts (full-width from a
    Chinese or Japanese keyboard, Arabic-Indic, Persian) as the digits they are."""
    return "".join(str(unicodedata.decimal(char)) if char.isdecimal() else char for char in _SEPARATORS.sub("", given))


def same_fingerprint(given: str, public: PublicKeyFile) -> bool:
    """Whether digits a person typed (grouped any way) are this key's fingerprint."""
    return typed_digits(given) == fingerprint(public).replace(" ", "")


def qr_terminal(payload: str, encoding: str | None = "utf-8") -> str:
    """A QR code of `payload` for a terminal: drawn with half-block characters, or where the terminal's
    `encoding` has none (a CP1251 or KOI8 terminal), with ANSI colours and spaces."""
    import segno

    try:
        compact = bool("\u2580\u2584\u2588".encode(encoding or "ascii"))
    except (UnicodeEncodeError, LookupError):
        compact = False
    text = io.StringIO()
    segno.make(payload, error="m", micro=False).terminal(out=text, compact=compact, border=2)
    return text.getvalue()


def qr_png(payload: str) -> bytes:
    """A QR code of `payload` as PNG bytes."""
    import segno

    buffer = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(buffer, kind="png", scale=8, border=4)
    return buffer.getvalue()
