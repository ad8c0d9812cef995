"""Which bundles in a folder may be seeded: each one verified first, each refusal with its reason.

Example::

    paths = find_bundles(Path("mirror-copy"))     # bundles/<sha256>.7z of a mirror, *.7z of a plain folder
    seeds, refused = check_seeds(paths, keyring, untrusted=False)
    for seed in seeds:
        seed.path, seed.info.infohash

A folder in the mirror layout (formats/layout.py: a published mirror, or one kept by
`fetch --keep-mirror`) holds bundles/<sha256>.7z; a plain folder (what `fetch` writes
into DEST) holds *.7z. Both are read; hidden files and partial downloads are not. A
bundle that fails verification is never seeded; one whose author is not in the
keyring only with `untrusted`; a bundle that appears twice is seeded once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from mirror.bundle.torrent import make_torrent
from mirror.bundle.verify import Keys, verify_bundle
from mirror.errors import (
    ConfigError,
    ContentError,
    ExitCode,
    Incomplete,
    ManifestError,
    MirrorError,
    UntrustedSigner,
    VerificationError,
)
from mirror.formats.index import MAX_INDEX
from mirror.formats.layout import INDEX_NAME, MAX_SIG_FILE, SIG_SUFFIX
from mirror.formats.torrent import MAX_TORRENT, Torrent, TorrentInfo
from mirror.record import record
from mirror.safeio import file_stamp, fit_stem, read_regular
from mirror.trust.index import check_index
from mirror.trust.keyset import TrustedKeys

_CONTENT_NAME = re.compile(r"[0-9a-f]{64}")


@record
class Seed:
    """A bundle that verified, and its torrent."""

    path: Path
    title: str
    signer: str  # the author's name in the keyring, or the key id of an author who is not in it
    trusted: bool
    info: TorrentInfo  # the torrent's info dict: the seed is in the swarm of its info hash
    note: str | None = None  # why it is not the swarm a .torrent beside it names, when it is not
    stamp: tuple[int, int] = (-1, -1)  # its size and modification time before it was checked (`file_stamp`)


@record
class Refusal:
    """A bundle that will not be seeded, and why."""

    path: Path
    reason: str
    exit_code: ExitCode


def find_bundles(folder: Path) -> list[Path]:
    """The bundle files of a mirror-layout or plain folder, sorted.

    Raises:
        ConfigError: `folder` is not a folder.
    """
    if not folder.is_dir():
        raise ConfigError(f"{folder} is not a folder", hint="name a mirror copy or a folder of .7z bundles")
    return sorted(p for p in _candidates(folder) if _regular(p))


def passed_over(folder: Path) -> list[Path]:
    """What `find_bundles` leaves out of `folder` although named like a bundle: links, FIFOs, folders, devices."""
    linked = [folder / "bundles"] if (folder / "bundles").is_symlink() else []
    return sorted([*linked, *(p for p in _candidates(folder) if not _regular(p))])


def _candidates(folder: Path) -> list[Path]:
    """Files named like a bundle in `folder` and its `bundles/`, unless that is a link (it could lead anywhere)."""
    inner = folder / "bundles"
    places = [folder] + ([inner] if inner.is_dir() and not inner.is_symlink() else [])
    return [p for where in places for p in where.iterdir()  # ALMATY.7Z too, as a FAT stick or a phone names it
            if p.name.lower().endswith(".7z") and not p.name.startswith(".")]


def _regular(path: Path) -> bool:
    """Regular files only, as `serve` offers: a link could lead anywhere on this machine, a FIFO blocks."""
    return path.is_file() and not path.is_symlink()


def check_seeds(paths: Iterable[Path], keys: Keys, untrusted: bool) -> tuple[list[Seed], list[Refusal]]:
    """Verify each bundle fully and make its torrent; refuse what must not be seeded."""
    seeds: dict[str, Seed] = {}
    refused: list[Refusal] = []
    signed: dict[Path, dict[str, str]] = {}  # a mirror copy's signed index, checked once for all its bundles
    for path in paths:
        try:
            seed = _check(path, keys, untrusted, signed)
        except MirrorError as exc:
            refused.append(Refusal(path, str(exc), exc.exit_code))
        except OSError as exc:
            refused.append(Refusal(path, exc.strerror or str(exc), ExitCode.ERROR))
        else:
            seeds.setdefault(seed.info.infohash, seed)
    return list(seeds.values()), refused


def _check(path: Path, keys: Keys, untrusted: bool, signed: dict[Path, dict[str, str]]) -> Seed:
    stamp = file_stamp(path)  # before it is read: a change while it is checked is seen when it is seeded
    try:
        verified = verify_bundle(path, keys)
    except ContentError:  # a part of a split bundle lacks files: said so, not "do not trust" (exit 3)
        from mirror.bundle.parts import part_of_split

        try:
            part = part_of_split(path)
        except VerificationError:
            part = None
        if part is None:
            raise
        # not seeded alone (exit 4, as for what did not arrive); the line names the path already, and this one
        # is a message of its own, so that it is said in the reader's language (it stayed English in Kazakh)
        raise Incomplete(f"is part {part.number} of {part.count}, not a whole bundle",
                         hint="join all its parts first: mirror join PART... -o WHOLE.7z") from None
    if not verified.trusted and not untrusted:
        raise UntrustedSigner(verified.key_id, verified.fingerprint)
    made = make_torrent(path, verified)
    if path.parent.name == "bundles" and _CONTENT_NAME.fullmatch(path.stem) and path.stem != made.sha256:
        raise VerificationError("the file is not the bundle its name says (its SHA-256 differs)")
    infohashes: dict[str, str] = {}
    if path.parent.name == "bundles":
        root = path.parent.parent
        if root not in signed:
            signed[root] = _signed_infohashes(root, keys)
        infohashes = signed[root]
    info, note = _chosen(path, made.torrent.info, infohashes.get(made.sha256))
    return Seed(path, verified.meta.title, verified.signer_name or verified.key_id, verified.trusted, info, note,
                stamp)


def _chosen(path: Path, made: TorrentInfo, signed: str | None) -> tuple[TorrentInfo, str | None]:
    """The swarm to seed: the one the signed index names, when the copy has one that checks out; else the one
    of a .torrent beside the bundle for these very bytes (made under another name), else the one publish makes.
    A courier's .torrent with the same pieces under another name would otherwise move the seed out of the swarm
    readers look in, without a word."""
    beside, why = _beside(path, made)
    if signed is not None:
        found = next((i for i in (beside, made) if i is not None and i.infohash == signed), None)
        if found is not None:
            return found, None
        return made, f"the signed index names the swarm {signed}, which no .torrent here makes; seeding {made.infohash}"
    if beside is not None and beside.infohash != made.infohash:
        return beside, (f"the swarm of {torrent_beside(path).name} beside it ({beside.infohash}), not the "
                        f"one publish makes ({made.infohash}): no signed index here says which readers use")
    if why is not None:  # a peer of that swarm would never find this seed: said, not passed over in silence
        return made, (f"{torrent_beside(path).name} beside it is not used ({why}); seeding the swarm publish "
                      f"makes ({made.infohash}), which its readers do not look in")
    return made, None


def _signed_infohashes(root: Path, keys: Keys) -> dict[str, str]:
    """sha256 -> info hash of the bundles a mirror copy's index.json names, if its signature checks out with a
    publisher key in the keyring; empty otherwise (no index, no such key)."""
    if keys is None:
        return {}
    try:
        raw = read_regular(root / INDEX_NAME, MAX_INDEX)
        signature = read_regular(root / (INDEX_NAME + SIG_SUFFIX), MAX_SIG_FILE)
    except (OSError, ConfigError):
        return {}
    snap = keys if isinstance(keys, TrustedKeys) else keys.snapshot()
    for key in snap:
        if "publisher" in key.roles:
            try:
                index = check_index(raw, signature, key.public)
            except MirrorError:
                continue
            return {e.sha256: e.infohash for e in index.bundles if e.infohash}
    return {}


def torrent_beside(bundle: Path) -> Path:
    """Where `mirror torrent` writes a bundle's .torrent by default, and where seed looks for one: beside it, under
    its name shortened if need be so that the name fits a file system."""
    return bundle.with_name(fit_stem(bundle.stem, ".torrent") + ".torrent")


def _beside(path: Path, info: TorrentInfo) -> tuple[TorrentInfo | None, str | None]:
    """The info dict of a .torrent beside the bundle, if it describes these very bytes; else None and why it is not
    used, if there is one.

    A mirror copy's bundles/<sha256>.torrent, or one `mirror torrent` wrote: the seed then joins
    that swarm even if the torrent was made with another name. One made by another client (its own keys, another
    piece size) is not read: its pieces would have to be hashed again to be trusted.
    """
    try:
        raw = read_regular(torrent_beside(path), MAX_TORRENT)
    except FileNotFoundError:
        return None, None
    except ConfigError:  # a FIFO, a folder, a device, or more than a .torrent of a bundle ever holds
        return None, f"it is not a regular file of at most {MAX_TORRENT} bytes"
    except OSError as exc:
        return None, f"it cannot be read ({exc.strerror or type(exc).__name__})"
    try:
        found = Torrent.from_bytes(raw).info
    except ManifestError:
        return None, "mirror reads only the .torrent files it writes (mirror torrent), not another client's"
    if (found.length, found.piece_length, found.pieces) != (info.length, info.piece_length, info.pieces):
        return None, "it describes other bytes, or cuts them in pieces of another size than mirror torrent"
    return found, None
