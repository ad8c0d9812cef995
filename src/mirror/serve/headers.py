"""The headers every response of a page this tool serves carries, and the media types of what it serves.

Example::

    response.headers.update(SECURITY_HEADERS)
    content_type("bundles/ab12....7z")      # "application/x-7z-compressed"

One place for them, so that every server here (`mirror serve`, and later `mirror open`)
sends the same: no script and nothing from anywhere else may run or load, the browser
must not guess a type, and no page of ours can be framed or leak where it came from.
"""

from __future__ import annotations

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
          ".SHA256SUMS": "text/plain; charset=utf-8", ".png": "image/png", ".html": HTML}


def content_type(path: str) -> str:
    """The media type of a served path, by its suffix; octet-stream for anything else."""
    for suffix, kind in _TYPES.items():
        if path.endswith(suffix):
            return kind
    return "application/octet-stream"
