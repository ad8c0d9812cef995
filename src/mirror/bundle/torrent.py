"""The torrent of a bundle file: its SHA-256 and its SHA-1 piece hashes in one read, then the .torrent.

Example::

    verified = verify_bundle(path, keyring)
    made = make_torrent(path, verified, mirrors=("https://a.example/m/",), trackers=())
    made.sha256, made.torrent.info.infohash, made.torrent.to_bytes()

The same bundle and mirror list always give the same bytes (formats/torrent.py), so
`mirror publish`, `mirror torrent` and `mirror seed` agree on the info hash that the
signed index carries.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from mirror.bundle.verified import Facts, VerifiedCache
from mirror.bundle.verify import VerifiedBundle
from mirror.errors import ConfigError
from mirror.formats.torrent import Torrent, TorrentInfo, piece_length, torrent_name, web_seeds
from mirror.hashing import BackgroundHash
from mirror.record import record
from mirror.safeio import open_regular


@record
class MadeTorrent:
    """A bundle's torrent, with the file's SHA-256 and size read in the same pass."""

    sha256: str
    size: int
    torrent: Torrent


def hash_file(path: Path) -> tuple[str, int, int, bytes]:
    """SHA-256, size, piece length and the joined SHA-1 piece hashes of `path`, in one read.

    Raises:
        ConfigError: the file changed size while it was read.
    """
    whole, pieces = BackgroundHash(), bytearray()  # SHA-256 on one core, the SHA-1 pieces on the other
    try:
        with open_regular(path) as handle:
            size = os.fstat(handle.fileno()).st_size
            length = piece_length(size)
            done = 0
            while True:
                piece = handle.read(length)
                if not piece:
                    break
                while len(piece) < length and (more := handle.read(length - len(piece))):
                    piece += more
                whole.update(piece)
                pieces += hashlib.sha1(piece).digest()  # noqa: S324 - BEP 3 piece hashes are SHA-1
                done += len(piece)
        sha256 = whole.hexdigest()
    finally:
        whole.close()  # after an error: its thread ends too
    if done != size:
        raise ConfigError(f"{path} changed while it was read", hint="let whatever writes it finish, then try again")
    if not pieces:
        pieces += hashlib.sha1(b"").digest()  # noqa: S324 - an empty file is one empty piece
    return sha256, size, length, bytes(pieces)


Hashes = tuple[str, int, int, bytes]  # SHA-256, size, piece length, the joined SHA-1 piece hashes


def hash_known(path: Path, cache: VerifiedCache | None) -> Hashes:
    """`hash_file`, or what the cache knows of the unchanged file (bundle/verified.py).

    Needs no verification first: publish runs it beside `verify_bundle`, on the other core.
    """
    if cache is None:
        return hash_file(path)
    before = os.stat(path)
    facts = cache.get(before)
    if facts is not None and facts.sha256 and facts.pieces and facts.piece_length == piece_length(before.st_size):
        return facts.sha256, before.st_size, facts.piece_length, facts.pieces
    sha256, size, length, pieces = hash_file(path)
    cache.record(before, os.stat(path), Facts(sha256=sha256, piece_length=length, pieces=pieces))
    return sha256, size, length, pieces


def make_torrent(path: Path, verified: VerifiedBundle, mirrors: tuple[str, ...] = (),
                 trackers: tuple[str, ...] = (), cache: VerifiedCache | None = None,
                 hashes: Hashes | None = None) -> MadeTorrent:
    """The deterministic torrent of a verified bundle; web seeds from the http(s) mirror base URLs.

    With `cache`, an unchanged file's hashes are taken from it, and new ones recorded; `hashes` are what
    `hash_known` already gave for this file.

    Raises:
        ConfigError: the file changed while it was read.
    """
    sha256, size, length, pieces = hashes if hashes is not None else hash_known(path, cache)
    meta = verified.meta
    info = TorrentInfo(torrent_name(meta.title, meta.bundle_id, meta.version), size, length, pieces)
    return MadeTorrent(sha256, size, Torrent(info, web_seeds(mirrors, sha256), trackers))
