"""When no mirror serves a signed index: a peer's unsigned listing, under rules that never weaken a signed mirror.

Example::

    try:
        chosen = choose_index(mirrors, keys, now, strict, reports, log)
    except NoIndex as no_index:
        chosen = choose_listing(mirrors, keys, strict, unsigned, reports, log, no_index)   # or raises no_index

The rules (docs/format.md, "The unsigned peer listing"):
1. A listing is read only after no mirror served an acceptable signed index.
2. Never with --strict: a listing has no date and no expiry.
3. A reader who has accepted a publisher's signed index before (its state is kept) is
   not moved onto listings unless they ask with --unsigned: a hostile peer cannot
   downgrade them by hiding or breaking the index.
4. Only from mirrors that had no index, or one signed by a publisher the reader does
   not know; never from one that served something tampered.
5. Every listed bundle is then handled exactly like an indexed one: at most its listed
   size is read, its sha256 must match, it must verify as if received by hand, and its
   id, version and author must be what the listing said. The listing only says where to look.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from mirror.errors import ManifestError, MissingFile, TransferError
from mirror.fetch.choose import Log, NoIndex
from mirror.fetch.report import Fate, MirrorReport
from mirror.fetch.state import load_seen
from mirror.fetch.transport import Mirror
from mirror.formats.index import BundleEntry, Index
from mirror.formats.layout import LISTING_NAME
from mirror.formats.listing import MAX_LISTING, Listing
from mirror.trust.keyset import TrustedKeys
from mirror.trust.rollback import Choice

_READABLE = (Fate.MISSING, Fate.UNTRUSTED)  # no index at all, or one by a publisher the reader does not know


OTHER_COPIES = 8  # other copies of one bundle tried at most: each may cost a download of its listed size


def _merge(listings: Sequence[Listing]) -> tuple[tuple[BundleEntry, ...], dict[str, tuple[BundleEntry, ...]]]:
    """Of one id by one author, the highest version, as the peers list it; each file's other copies to try.

    Peers may offer several copies of that version: the author's file and copies endorsed on the way (each a
    different file), each peer's smaller copies first (endorsements only add to a bundle, so a peer's smallest is
    the author's own file if it has it). The first is fetched; up to OTHER_COPIES more are returned by its sha256,
    to try when it does not arrive trusted (a reader who requires endorsers needs an endorsed copy).

    A listing is no one's word, so what one peer says never hides what another offers:
    - each peer offers at most PER_PEER copies of one file's pool (its highest versions, smallest first), so
      versions "99" to "91" of bytes it lacks do not fill every place before an honest peer's real one;
    - which copies get a place is decided in rounds across peers (`_places`): every peer's best copy before any
      peer's second, so the places a lying peer can take are bounded by the peers, never by the claims each makes
      (three peers with three made-up higher versions or ids each no longer fill all nine tries);
    - the copies that have a place are tried highest version first (so a peer's second copy of the newest version
      comes before another peer's older version), then in rounds, then in the order the peers were asked;
    - the same file under another title, size or version, or claimed by another id, is another copy to try (what
      the author signed is checked against the entry; a file that arrived whole for one claim is checked against
      the next without downloading it again); every id keeps its own entry, so `fetch ID` finds it, and the copies
      of one file are pooled, each peer again at most PER_PEER of them, its rounds counted over the pool;
    - each claim is asked only of the peers that made it (`listed_by`): a peer that lists the real file one byte
      short, or with another info hash, does not get the honest peer that serves it whole called tampered.
    """
    by_key: dict[tuple[str, str], dict[int, list[BundleEntry]]] = {}  # (id, author) -> peer -> its entries
    for peer, listing in enumerate(listings):
        for entry in listing.bundles:
            by_key.setdefault((entry.id, entry.author_key), {}).setdefault(peer, []).append(entry)
    bundles: list[BundleEntry] = []
    firsts: dict[str, BundleEntry] = {}  # a file -> the entry of the first id that chose it
    pools: dict[str, list[tuple[int, int, int, BundleEntry]]] = {}  # first file -> its candidates, all ids
    for offered in by_key.values():
        candidates = _candidates(offered)
        first = candidates[0][3]
        bundles.append(first)
        firsts.setdefault(first.sha256, first)
        pools.setdefault(first.sha256, []).extend(candidates)
    others: dict[str, tuple[BundleEntry, ...]] = {}
    for sha256, pool in pools.items():
        rest = _places(pool, firsts[sha256])
        if rest:
            others[sha256] = rest
    return tuple(bundles), others


def _places(pool: list[tuple[int, int, int, BundleEntry]], first: BundleEntry) -> tuple[BundleEntry, ...]:
    """Of one file's pool of (-version, turn, peer, entry), the OTHER_COPIES copies tried after `first`, in the
    order they are tried. Each claim once, each peer at most PER_PEER, its copies numbered in rounds over the whole
    pool (a peer's turns in each id's list would give it a first turn per made-up id)."""
    seen: set[Claim] = set()
    rounds: dict[int, int] = {}  # peer -> copies of the pool it has a round for
    ranked: list[tuple[int, int, int, BundleEntry]] = []  # (round, -version, peer, entry)
    for version, _, peer, entry in sorted(pool, key=lambda item: item[:3]):  # each peer's own best first
        mark = claim(entry)
        if mark in seen or rounds.get(peer, 0) >= PER_PEER:
            continue
        seen.add(mark)
        ranked.append((rounds.get(peer, 0), version, peer, entry))
        rounds[peer] = rounds.get(peer, 0) + 1
    placed = sorted((item for item in ranked if item[3] is not first), key=lambda item: item[:3])[:OTHER_COPIES]
    return tuple(item[3] for item in sorted(placed, key=lambda item: (item[1], item[0], item[2])))


PER_PEER = 3  # copies of one bundle one peer's listing may offer (the author's and endorsed ones)

Claim = tuple[str, int, str | None, str, str, int, str]  # what a listing says of a file (`claim`)


def claim(entry: BundleEntry) -> Claim:
    """All an entry says of its file: two entries that differ in any of it are two claims, each tried."""
    return entry.sha256, entry.size, entry.infohash, entry.title, entry.id, entry.version, entry.author_key


Listed = tuple[str, int, str | None]  # a file, its size and its torrent's info hash, as a listing names them


def listed(entry: BundleEntry) -> Listed:
    """The file an entry names, the size and info hash it gives it: the peers that listed all three are asked for
    it (its bytes, or its .torrent)."""
    return entry.sha256, entry.size, entry.infohash


def _candidates(offered: dict[int, list[BundleEntry]]) -> list[tuple[int, int, int, BundleEntry]]:
    """The copies of one bundle the peers list (`offered`: peer -> its entries), as (-version, turn, peer, entry),
    highest version first; within one version one peer's in turn with the next (each peer's smallest first); at
    most PER_PEER of each peer; each claim once (a peer's lie about the real file's size or version never
    replaces another peer's true entry for it). Which of them get a place to be tried is `_places`'s choice."""
    ranked: list[tuple[int, int, int, BundleEntry]] = []
    for peer, entries in offered.items():
        mine = sorted(entries, key=lambda e: (-e.version, e.size))
        ranked += [(-entry.version, turn, peer, entry) for turn, entry in enumerate(mine[:PER_PEER])]
    ranked.sort(key=lambda item: item[:3])
    kept: dict[Claim, tuple[int, int, int, BundleEntry]] = {}
    for item in ranked:
        kept.setdefault(claim(item[3]), item)
    return list(kept.values())


def _read(mirror: Mirror, report: MirrorReport, log: Log) -> tuple[Listing, bytes] | None:
    try:
        raw = mirror.read(LISTING_NAME, MAX_LISTING)
        listing = Listing.from_bytes(raw)
    except MissingFile:  # no listing there: a mirror with a signed index only, or no mirror at all
        return None
    except TransferError as exc:  # there, but it could not be had: said, or the reader never learns why (helper-157)
        log(f"warning: {mirror.label}: its listing could not be read: {exc}")
        return None
    except ManifestError as exc:
        log(f"warning: {mirror.label}: its listing is malformed: {exc}")
        return None
    report.set_index(Fate.OK, f"unsigned listing, {len(listing.bundles)} bundle(s)", 0.0, len(raw))
    return listing, raw


def choose_listing(mirrors: Sequence[Mirror], keys: TrustedKeys, strict: bool, unsigned: bool,
                   reports: dict[str, MirrorReport], log: Log, no_index: NoIndex) -> Choice:
    """The bundles the mirrors' unsigned listings offer, when the rules allow it.

    Raises:
        NoIndex: `no_index` again: no listing, or the rules do not allow one.
        ConfigError: the reader's state file is damaged.
    """
    if strict:
        raise no_index
    seen = [r.name for r in keys if "publisher" in r.roles and load_seen(r.key_id_hex) is not None]
    found: list[tuple[str, Listing, bytes]] = []
    for mirror in mirrors:
        report = reports.setdefault(mirror.label, MirrorReport(mirror.label))
        if report.fate in _READABLE and (got := _read(mirror, report, log)) is not None:
            found.append((mirror.label, *got))
    if not found:
        raise no_index
    if seen and not unsigned:
        for label, _, _ in found:
            reports[label].set_index(Fate.UNTRUSTED, "only an unsigned listing, and you have used a signed index "
                                     "before", 0.0)
        log(f"warning: no mirror served a signed index; you have accepted {seen[0]}'s signed index before, so "
            "unsigned listings are not used (pass --unsigned to rely on each bundle's author signature alone)")
        raise no_index
    log(f"warning: no publisher-signed index; using the unsigned listing of {len(found)} peer(s): "
        "each bundle is trusted only by its author's signature")
    label, _, first_raw = found[0]
    bundles, others = _merge([listing for _, listing, _ in found])
    listed_by: dict[Listed, tuple[str, ...]] = {}
    for peer, listing, _ in found:
        for file in dict.fromkeys(listed(entry) for entry in listing.bundles):
            listed_by[file] = (*listed_by.get(file, ()), peer)
    return Choice(label, Index("", 0, "", "", bundles, ()), hashlib.sha256(first_raw).hexdigest(), False,
                  signed=False, others=others, listed_by=listed_by)
