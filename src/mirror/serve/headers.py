"""The headers every response of a page this tool serves carries, and the media types of what it serves.

Example::

    response.headers.update(SECURITY_HEADERS)
    content_type("bundles/ab12....7z")      # "application/x-7z-compressed"

One place for them, so that every server here (`mirror serve`, and later `mirror open`)
sends the same: no script and nothing from anywhere else may run or load, the browser
must not guess a type, and no page of ours can be framed or leak where it came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"

SECURITY_HEADERS = MappingProxyType({
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Server": "mirror",  # not the versions of Python and the HTTP library
})

HTML = "text/html; charset=utf-8"
_TYPES = {".7z": "application/x-7z-compressed", ".json": "application/json", ".minisig": "text/plain; charset=utf-8",
          ".SHA256SUMS": "text/plain; charset=utf-8", ".png": "image/png", ".html": HTML,
          ".torrent": "application/x-bittorrent"}


def content_type(path: str) -> str:
    """The media type of a served path, by its suffix; octet-stream for anything else."""
    for suffix, kind in _TYPES.items():
        if path.endswith(suffix):
            return kind
    return "application/octet-stream"


def header_field(headers: Mapping[str, str], name: str) -> str | None:
    """A list header as one value, however many lines it came in (RFC 9110 5.3: `Accept-Language: de` and
    `Accept-Language: ru` mean `de, ru`); None when absent. The first 64 lines are read."""
    getall = getattr(headers, "getall", None)  # aiohttp's headers keep every line; a plain mapping has one
    lines = list(getall(name, []))[:64] if getall is not None else [v for v in [headers.get(name)] if v is not None]
    return ",".join(lines) if lines else None
