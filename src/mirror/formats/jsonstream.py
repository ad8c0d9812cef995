"""A strict JSON pull reader for signed documents whose shape is known, in memory bounded by what it keeps.

Example::

    doc = JsonReader(raw, "bundle.json")
    for key in doc.members():               # '{', then each key; the caller reads each value
        if key == "title":
            title = doc.string(max_chars=1000)
        elif key == "version":
            version = doc.integer()
        elif key == "files":                # an object of small objects: each checked, then built
            files = dict(doc.small_objects(max_key_chars=1024, max_bytes=65536))
        else:
            raise doc.error(f"unknown field {key!r}")
    doc.end()

`json.loads` builds every value before anyone can look at it: 30 MB of `[[],[],...]` signed by any key
becomes 900 MB of lists. This reader builds only the values its caller asks for, each with a cap, so a
caller that knows the schema refuses an unknown field, a wrong type or a long string before it costs
anything. It reads bytes (never one decoded copy of the whole document, which a single astral character
would make four times as large) and accepts exactly RFC 8259 JSON: UTF-8, no duplicate keys, no lone
surrogates.

It reads from bytes, or from a file a window at a time (`WINDOW` ahead of the cursor, then what was read is let
go): bundle.json of a million files is 70 MB or more, which verify never holds. Whitespace between tokens may be
as long as it likes; one token (a string, a number, one small object with the whitespace inside it) must fit in
the window, far more than any cap a caller gives.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any, BinaryIO

from mirror.errors import ManifestError
from mirror.formats.jsonstrict import reject_duplicate_keys

_WS_PATTERN = rb"[ \t\n\r]*+"
_STRING_PATTERN = rb'"(?:[^"\\\x00-\x1f]++|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*+"'
_WS = re.compile(_WS_PATTERN)
_STRING = re.compile(_STRING_PATTERN)
_NUMBER = re.compile(rb"-?(?:0|[1-9][0-9]*+)(?:\.[0-9]++)?(?:[eE][+-]?[0-9]++)?")


def _object_of(value: bytes) -> bytes:
    """The pattern of a JSON object whose values match `value` (possessive: linear time, no backtracking)."""
    pair = _STRING_PATTERN + _WS_PATTERN + b":" + _WS_PATTERN + value + _WS_PATTERN
    return rb"\{" + _WS_PATTERN + b"(?:" + pair + b"(?:," + _WS_PATTERN + pair + b")*+)?+" + rb"\}"


_LIST_OF_STRINGS = (rb"\[" + _WS_PATTERN + b"(?:" + _STRING_PATTERN + _WS_PATTERN + b"(?:," + _WS_PATTERN
                    + _STRING_PATTERN + _WS_PATTERN + b")*+)?+" + rb"\]")
_INNER = _object_of(b"(?:" + _STRING_PATTERN + b"|" + _LIST_OF_STRINGS + b")")
_SMALL_PATTERN = _object_of(b"(?:" + _STRING_PATTERN + rb"|-?[0-9]++|" + _INNER + b")")
# One member of an object of small objects: the key, the value, and what follows (another member or the end):
# one match in the common case.
_SMALL_MEMBER = re.compile(_WS_PATTERN + b"(" + _STRING_PATTERN + b")" + _WS_PATTERN + b":" + _WS_PATTERN
                           + b"(" + _SMALL_PATTERN + b")" + _WS_PATTERN + b"([,}])")
@cache
def _small() -> re.Pattern[bytes]:
    """A small object alone, for the rare member _SMALL_MEMBER cannot take whole: compiled when first needed (1.4 ms
    of every start-up otherwise)."""
    return re.compile(_SMALL_PATTERN)


_DECODER = json.JSONDecoder(object_pairs_hook=reject_duplicate_keys)
_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_INTEGER_DIGITS = 19
WINDOW = 1 << 20  # from a file: at least this much ahead of the cursor before each token (or the rest of it)


class JsonReader:
    """A cursor over one JSON document; every method checks what it reads and raises ManifestError."""

    def __init__(self, raw: bytes | BinaryIO, what: str, max_bytes: int | None = None) -> None:
        """`raw`: the document, or a file to read it from (from its current position to its end, at most
        `max_bytes`)."""
        self.what, self.pos, self.base, self.max_bytes = what, 0, 0, max_bytes
        self.source: BinaryIO | None = None
        if isinstance(raw, bytes):
            self.raw = raw
        else:
            self.raw, self.source = b"", raw
            self._fill()

    def error(self, problem: str) -> ManifestError:
        """A ManifestError naming the document and where in it."""
        pos = self.base + self.pos
        return ManifestError(f"{self.what}: {problem} (at byte {pos})")

    def _fill(self) -> None:
        """From a file: let go of what was read, and have WINDOW bytes ahead of the cursor (or the rest)."""
        if self.source is None or len(self.raw) - self.pos >= WINDOW:
            return
        pieces, have = [self.raw[self.pos :]], len(self.raw) - self.pos
        while have < 2 * WINDOW:
            piece = self.source.read(2 * WINDOW - have)
            if not piece:
                self.source = None  # the end: nothing more will come
                break
            pieces.append(piece)
            have += len(piece)
        self.base += self.pos
        self.raw, self.pos = b"".join(pieces), 0
        if self.max_bytes is not None and self.base + len(self.raw) > self.max_bytes:
            raise ManifestError(f"{self.what} is larger than {self.max_bytes >> 20} MiB")

    def _skip(self) -> None:
        """Past whitespace, with a full window ahead of the next token."""
        while True:
            self._fill()
            match = _WS.match(self.raw, self.pos)
            self.pos = match.end() if match else self.pos
            if self.pos < len(self.raw) or self.source is None:
                self._fill()  # whitespace that ended near the window's end left the token cut short
                return

    def _peek(self) -> bytes:
        self._skip()
        return self.raw[self.pos : self.pos + 1]

    def _expect(self, char: bytes) -> None:
        if self._peek() != char:
            raise self.error(f"expected {char.decode()!r}")
        self.pos += 1

    def _container(self, open_: bytes, close: bytes) -> Iterator[None]:
        self._expect(open_)
        if self._peek() == close:
            self.pos += 1
            return
        while True:
            yield
            if self._peek() == close:
                self.pos += 1
                return
            self._expect(b",")

    def members(self, max_key_chars: int = 1024) -> Iterator[str]:
        """Expect an object; yield each key (the caller must read its value before the next). Raises on a repeated key.

        Raises:
            ManifestError: not an object, a key given twice, a key too long, malformed JSON.
        """
        seen: set[str] = set()
        for _ in self._container(b"{", b"}"):
            key = self.string(max_key_chars)
            if key in seen:
                raise self.error(f"JSON has the key {key!r} twice")
            seen.add(key)
            self._expect(b":")
            yield key

    def items(self, max_items: int) -> Iterator[int]:
        """Expect an array; yield the index of each element (the caller reads it).

        Raises:
            ManifestError: not an array, more than `max_items` elements, malformed JSON.
        """
        for index, _ in enumerate(self._container(b"[", b"]")):
            if index >= max_items:
                raise self.error(f"more than {max_items} items in a list")
            yield index

    def string(self, max_chars: int) -> str:
        """A string of at most `max_chars` characters.

        Raises:
            ManifestError: not a string, too long, not UTF-8, a lone surrogate.
        """
        self._skip()
        match = _STRING.match(self.raw, self.pos)
        if match is None:
            raise self.error("expected a string")
        text = self._text(match.group(), max_chars)
        self.pos = match.end()
        return text

    def _text(self, literal: bytes, max_chars: int) -> str:
        """The text of a string literal (quotes included) already matched by _STRING."""
        if len(literal) - 2 > 6 * max_chars:  # even all-escapes would be too long
            raise self.error(f"a string longer than {max_chars} characters")
        try:
            text = literal[1:-1].decode("utf-8") if b"\\" not in literal else json.loads(literal.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise self.error("a string that is not UTF-8") from None
        if len(text) > max_chars:
            raise self.error(f"a string longer than {max_chars} characters")
        if b"\\u" in literal and _SURROGATE.search(text):
            raise self.error("a string with a lone surrogate (not Unicode text)")
        return str(text)

    def small_objects(self, max_key_chars: int, max_bytes: int,
                      unique: bool = True) -> Iterator[tuple[str, dict[str, Any]]]:
        """Expect an object whose every value is a small object: of at most `max_bytes`, whose values are
        strings, whole numbers, or objects of strings and lists of strings. Yield each key and value.

        With `unique` False the reader keeps no set of the keys: the caller must refuse a key given twice
        (one string per key of a million would cost more than the document).

        Each member's shape and size are checked first by one regular expression (in C); then json.loads
        builds the value, so what one costs is bounded by `max_bytes`. The caller checks each value.

        Raises:
            ManifestError: another shape, a value too large, a key too long or given twice, not UTF-8.
        """
        self._expect(b"{")
        if self._peek() == b"}":
            self.pos += 1
            return
        seen: set[str] = set()
        while True:
            self._fill()
            literal, member, end, after = self._small_member()
            key = self._text(literal, max_key_chars)
            if unique:
                if key in seen:
                    raise self.error(f"JSON has the key {key!r} twice")
                seen.add(key)
            if len(member) > max_bytes:
                raise self.error(f"an object larger than {max_bytes} bytes")
            try:
                value: dict[str, Any] = _DECODER.decode(member.decode("utf-8"))
            except ManifestError as exc:
                raise self.error(str(exc)) from None
            except (UnicodeDecodeError, ValueError):
                raise self.error("an object that is not UTF-8 JSON") from None
            self.pos = end
            yield key, value
            if after is None:
                after = self._peek()
                self._expect(b"}" if after == b"}" else b",")
            if after == b"}":
                return

    def _small_member(self) -> tuple[bytes, bytes, int, bytes | None]:
        """The key's literal, its small object's literal, where the cursor goes next, and the `,` or `}` read
        after the object (None: not read yet). The cursor is left at the object, for errors about it."""
        match = _SMALL_MEMBER.match(self.raw, self.pos)
        if match is not None:
            self.pos = match.start(2)
            return match[1], match[2], match.end(), match[3]
        # Token by token: whitespace between them may be longer than a window.
        self._skip()
        key = _STRING.match(self.raw, self.pos)
        if key is not None:
            self.pos = key.end()
            if self._peek() == b":":
                self.pos += 1
                self._skip()
                member = _small().match(self.raw, self.pos)
                if member is not None:
                    return key.group(), member.group(), member.end(), None
        raise self.error("expected a name and an object of strings, whole numbers and lists of strings")

    def integer(self) -> int:
        """A whole number written without fraction or exponent, of at most 19 digits.

        Raises:
            ManifestError: not such a number.
        """
        self._skip()
        match = _NUMBER.match(self.raw, self.pos)
        if match is None or not match.group().lstrip(b"-").isdigit() or len(match.group()) > MAX_INTEGER_DIGITS:
            raise self.error("expected a whole number")
        self.pos = match.end()
        return int(match.group())

    def null(self) -> bool:
        """Consume `null` if it comes next; whether it did."""
        if self._peek() == b"n" and self.raw.startswith(b"null", self.pos):
            self.pos += 4
            return True
        return False

    def end(self) -> None:
        """Nothing but whitespace may follow the document.

        Raises:
            ManifestError: trailing data.
        """
        self._skip()
        if self.pos != len(self.raw):
            raise self.error("unexpected data after the document")
