"""QR codes of public keys, for checking a key in person.

Example::

    text = write_qr(public.key_line, Path("keys/alice.qr.png"))
    print(text)     # the same code drawn in the terminal
"""

from __future__ import annotations

import io
from pathlib import Path

import segno

from mirror.safeio import atomic_write


def write_qr(payload: str, png: Path) -> str:
    """Write a QR code of `payload` as PNG to `png`; return it drawn for a terminal."""
    code = segno.make(payload, error="m", micro=False)
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=8, border=4)
    atomic_write(png, buffer.getvalue(), mode=0o644)
    text = io.StringIO()
    code.terminal(out=text, compact=True, border=2)
    return text.getvalue()
