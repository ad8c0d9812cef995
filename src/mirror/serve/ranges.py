"""HTTP Range and If-Range for one file (RFC 9110, section 14), as a pure function.

Example::

    span_for("bytes=100-", None, etag, size=1000)      # Span(100, 1000, partial=True): 206
    span_for(None, None, etag, size=1000)              # Span(0, 1000, partial=False): 200
    span_for("bytes=5000-", None, etag, size=1000)     # None: 416, "bytes */1000"

One range per request, which is what resuming readers and browsers send. Several
ranges, a malformed header or an If-Range that is not the file's exact ETag get the
whole file (a server may ignore Range; a changed file must never be spliced).
"""

from __future__ import annotations

import re

from mirror.record import record

# Positions of any length a client may write (some send 2**64 - 1 for "to the end"), within reason.
_RANGE = re.compile(r"bytes=([0-9]{0,40})-([0-9]{0,40})", re.IGNORECASE)


@record
class Span:
    """The bytes to send: [start, end) of the file; `partial` means 206 with Content-Range."""

    start: int
    end: int
    partial: bool

    @property
    def length(self) -> int:
        """How many bytes the span holds."""
        return self.end - self.start

    def content_range(self, size: int) -> str:
        """The Content-Range header of a 206."""
        return f"bytes {self.start}-{self.end - 1}/{size}"


def span_for(range_header: str | None, if_range: str | None, etag: str, size: int) -> Span | None:
    """What to send for these request headers; None when the one range asked for cannot be satisfied (416)."""
    whole = Span(0, size, False)
    if range_header is None or (if_range is not None and if_range.strip() != etag):
        return whole
    match = _RANGE.fullmatch(range_header.strip())
    if match is None or not (match[1] or match[2]):
        return whole  # several ranges or another syntax: ignored
    first, last = match[1], match[2]
    if not first:  # the last N bytes
        count = int(last)
        return Span(max(0, size - count), size, True) if count and size else None
    start = int(first)
    if last and int(last) < start:
        return whole  # invalid, so ignored
    if start >= size:
        return None
    end = min(int(last) + 1, size) if last else size
    return Span(start, end, True)
