"""A bundle as a BitTorrent v1 torrent: the info dict, the .torrent file, the magnet link; no I/O.

Example::

    name = torrent_name("Almaty, January 2022", "9160a32272b841109d3e2645b87aafa7", 2)
    # "almaty-january-2022-9160a322-v2.7z"
    info = TorrentInfo(name, size, piece_length(size), pieces)   # pieces: SHA-1 of each piece, joined
    torrent = Torrent(info, web_seeds=("https://a.example/m/bundles/ab12....7z",), trackers=())
    raw = torrent.to_bytes()                  # deterministic: the same bundle gives the same bytes
    info.infohash                             # hex SHA-1 of the bencoded info dict (BEP 3)
    magnet_link(info, torrent.web_seeds, torrent.trackers)
    assert Torrent.from_bytes(raw) == torrent

The layout is docs/swarm.md: one file per torrent, named by a readable slug; the piece
length is a function of the size alone; no creation date, no "created by", so two
publishes of the same bundle give identical bytes. Web seeds (BEP 19) are full URLs
of the bundle on each mirror, and live outside the info dict: the info hash depends on
the bundle's bytes, name and size only, and the signed index carries it.
"""

from __future__ import annotations

import hashlib
import math
import re
from urllib.parse import quote, unquote, urljoin, urlsplit

from mirror.errors import ManifestError
from mirror.formats.bencode import Value, bdecode, bencode
from mirror.formats.layout import bundle_path
from mirror.formats.names import name_problem, readable_name
from mirror.record import record

MIN_PIECE = 64 << 10
MAX_PIECE = 16 << 20
TARGET_PIECES = 2048  # about 40 kB of piece hashes at most, as libtorrent aims for
MAX_TORRENT = 1 << 20
_INFOHASH = re.compile(r"[0-9a-f]{40}")
_URL = re.compile(r"(https?|udp)://[^\s\x00-\x1f\x7f]+")
_INFO_KEYS = {b"length", b"name", b"piece length", b"pieces"}
_TOP_KEYS = {b"info", b"url-list", b"announce", b"announce-list"}


def piece_length(size: int) -> int:
    """The smallest power of two from 64 KiB to 16 MiB that cuts `size` into at most 2048 pieces."""
    wanted = max(1, math.ceil(size / TARGET_PIECES))
    return min(MAX_PIECE, max(MIN_PIECE, 1 << (wanted - 1).bit_length()))


def piece_count(size: int, length: int) -> int:
    """How many pieces a file of `size` bytes has (a torrent has at least one)."""
    return max(1, math.ceil(size / length))


def torrent_name(title: str, bundle_id: str, version: int) -> str:
    """The file name inside the torrent: the bundle's readable name (formats/names.py) with .7z."""
    return f"{readable_name(title, bundle_id, version)}.7z"


@record
class TorrentInfo:
    """The info dict of a single-file v1 torrent."""

    name: str
    length: int
    piece_length: int
    pieces: bytes  # 20-byte SHA-1 digests, one per piece, in order

    def __post_init__(self) -> None:
        """Check the dict describes one well-formed file.

        Raises:
            ManifestError: a bad name, length, piece length or piece list.
        """
        if name_problem(self.name) is not None or "/" in self.name:
            name = self.name if len(self.name) <= 80 else self.name[:80] + "..."
            raise ManifestError(f"torrent name {name!r} is not a plain file name")
        if self.length < 1 or not MIN_PIECE >> 2 <= self.piece_length <= MAX_PIECE \
                or self.piece_length & (self.piece_length - 1):
            raise ManifestError("torrent length or piece length is out of range")
        if len(self.pieces) != 20 * piece_count(self.length, self.piece_length):
            raise ManifestError("torrent piece list does not match its length")

    def to_value(self) -> dict[bytes, Value]:
        """The info dict as bencode values."""
        return {b"length": self.length, b"name": self.name.encode(), b"piece length": self.piece_length,
                b"pieces": self.pieces}

    @property
    def infohash(self) -> str:
        """The v1 info hash: hex SHA-1 of the bencoded info dict."""
        return hashlib.sha1(bencode(self.to_value())).hexdigest()  # noqa: S324 - BEP 3 defines it so

    @classmethod
    def from_value(cls, value: Value) -> TorrentInfo:
        """Parse a decoded info dict strictly.

        Raises:
            ManifestError: missing or unknown keys, wrong types, or an unusable file.
        """
        if not isinstance(value, dict) or set(value) != _INFO_KEYS:
            raise ManifestError("torrent info is not a single-file info dict")
        name, length, piece, pieces = (value[k] for k in (b"name", b"length", b"piece length", b"pieces"))
        if not (isinstance(name, bytes) and isinstance(length, int) and isinstance(piece, int)
                and isinstance(pieces, bytes)):
            raise ManifestError("torrent info has a field of the wrong type")
        try:
            text = name.decode("utf-8")
        except UnicodeDecodeError:
            raise ManifestError("torrent name is not UTF-8") from None
        return cls(text, length, piece, pieces)


@record
class Torrent:
    """A .torrent file: the info dict, the web seeds (BEP 19) and optional trackers."""

    info: TorrentInfo
    web_seeds: tuple[str, ...] = ()
    trackers: tuple[str, ...] = ()

    def to_bytes(self) -> bytes:
        """The .torrent file, deterministic: no dates, no client names."""
        doc: dict[bytes, Value] = {b"info": self.info.to_value()}
        if self.web_seeds:
            doc[b"url-list"] = [url.encode() for url in self.web_seeds]
        if self.trackers:
            doc[b"announce"] = self.trackers[0].encode()
            if len(self.trackers) > 1:
                doc[b"announce-list"] = [[url.encode()] for url in self.trackers]
        return bencode(doc)

    @classmethod
    def from_bytes(cls, raw: bytes) -> Torrent:
        """Parse a .torrent file written by `to_bytes`, strictly.

        Raises:
            ManifestError: not canonical bencode, unknown keys, or malformed fields.
        """
        doc = bdecode(raw, MAX_TORRENT)
        if not isinstance(doc, dict) or b"info" not in doc or not set(doc) <= _TOP_KEYS:
            raise ManifestError("torrent has no info dict, or unknown keys")
        seeds = doc.get(b"url-list", [])
        tiers = doc.get(b"announce-list", [[doc[b"announce"]]] if b"announce" in doc else [])
        if not isinstance(seeds, list) or not isinstance(tiers, list):
            raise ManifestError("torrent web seeds or trackers are malformed")
        trackers = [t[0] if isinstance(t, list) and len(t) == 1 else b"" for t in tiers]
        torrent = cls(TorrentInfo.from_value(doc[b"info"]), _urls(seeds), _urls(trackers))
        if torrent.to_bytes() != raw:
            raise ManifestError("torrent is not in the form mirror writes")
        return torrent


def _urls(values: list[Value]) -> tuple[str, ...]:
    urls = []
    for value in values:
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else ""
        if not _URL.fullmatch(text):
            raise ManifestError("torrent names a URL that is not http(s) or udp")
        urls.append(text)
    return tuple(urls)


def web_seeds(mirrors: tuple[str, ...], sha256: str) -> tuple[str, ...]:
    """The bundle's full URL on each http(s) mirror, each once: BEP 19 web seeds of a single-file torrent."""
    return tuple(dict.fromkeys(urljoin(base if base.endswith("/") else base + "/", bundle_path(sha256))
                               for base in map(lower_scheme, mirrors) if base.startswith(("http://", "https://"))))


def lower_scheme(url: str) -> str:
    """`url` with its scheme in small letters (HTTPS://h/ -> https://h/): libtorrent knows no other spelling."""
    scheme, sep, rest = url.partition("://")
    return scheme.lower() + sep + rest if sep else url


def check_urls(urls: tuple[str, ...], what: str) -> tuple[str, ...]:
    """Return `urls` if each is an http(s) or udp URL without spaces or control characters.

    Raises:
        ManifestError: naming `what`.
    """
    if not all(_URL.fullmatch(url) for url in urls):
        raise ManifestError(f"{what}: every URL must be http(s):// or udp:// without spaces")
    for url in urls:  # a .torrent and its magnet link are passed on to anyone: no user name or password in them
        if "@" in re.split(r"[/?#]", url.split("://", 1)[-1], maxsplit=1)[0]:  # the authority part only
            raise ManifestError(f"{what}: a URL must not hold a user name or password (it would be in the "
                                ".torrent and the magnet link, which are passed on)")
        try:
            parts = urlsplit(url)
            named = bool(parts.hostname) and (parts.port is None or parts.port > 0)
        except ValueError:  # "udp://[::1", a port past 65535
            named = False
        if not named:
            raise ManifestError(f"{what}: {url!r} names no host (and port, if any, of 1-65535)")
    return urls


def magnet_link(info: TorrentInfo, web_seeds: tuple[str, ...] = (), trackers: tuple[str, ...] = ()) -> str:
    """A magnet link (BEP 9) with the name, exact length (xl), trackers (tr) and web seeds (ws)."""
    parts = [f"xt=urn:btih:{info.infohash}", f"dn={quote(info.name, safe='')}", f"xl={info.length}"]
    parts += [f"tr={quote(url, safe='')}" for url in trackers]
    parts += [f"ws={quote(url, safe='')}" for url in web_seeds]
    return "magnet:?" + "&".join(parts)


def magnet_infohash(link: str) -> str:
    """The v1 info hash a magnet link names.

    Raises:
        ManifestError: not a magnet link with exactly one hex btih.
    """
    if not link.startswith("magnet:?") or any(c.isspace() or not c.isprintable() for c in link):
        raise ManifestError("not a magnet link")
    topics = [p for p in link[8:].split("&") if p.partition("=")[0].split(".")[0] == "xt"]  # xt=, xt.1=
    found = [p[len("xt=urn:btih:"):] for p in topics if p.startswith("xt=urn:btih:")]
    if len(topics) != 1 or len(found) != 1 or not _INFOHASH.fullmatch(found[0]):
        raise ManifestError("magnet link does not name exactly one hex info hash, and nothing else")
    return found[0]


def check_infohash(text: object) -> str:
    """Return `text` if it is a v1 info hash in lower-case hex.

    Raises:
        ManifestError: it is not.
    """
    if not isinstance(text, str) or not _INFOHASH.fullmatch(text):
        raise ManifestError("info hash must be 40 lower-case hex digits")
    return text


def magnet_trackers(link: str) -> tuple[str, ...]:
    """The trackers (tr=) a magnet link names, in order."""
    return tuple(unquote(p[3:]) for p in link.partition("?")[2].split("&") if p.startswith("tr="))


def without_trackers(link: str) -> str:
    """The magnet link without the trackers (tr=) it names."""
    head, _, query = link.partition("?")
    return f"{head}?{'&'.join(p for p in query.split('&') if not p.startswith('tr='))}"
