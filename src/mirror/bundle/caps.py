"""The bounds of docs/format.md a new bundle must keep, checked by create before the work they limit.

Example::

    check_sources(collected.files)          # right after listing SRC: count, SHA256SUMS, 7z header
    meta_size += entry_size(member, extra)  # while reading: bundle.json, stopped as soon as it is over
    check_meta(len(meta_bytes))             # the exact size, before anything is signed

A receiver's verify refuses a bundle over any of them, so create refuses it first, naming the bound,
instead of writing a bundle nobody can open (or failing its own check after minutes of work).
"""

from __future__ import annotations

import json
from itertools import chain
from typing import Any

from mirror.bundle.sourcelist import SourceList
from mirror.errors import InputError
from mirror.formats.manifest import CURRENT, MAX_FILES, MAX_META_BYTES, MAX_SUMS_BYTES, PAGE_NAME
from mirror.sevenzip.model import HEADER_BYTES_PER_MEMBER, MAX_HEADER

_SPLIT = "split the files into several folders and make one bundle of each"
# whole sentences, so that each is translated as one (a constant inside an f-string would stay English)
_SHORTER_NAMES = "use shorter names, or split the files into several folders and make one bundle of each"
_SHORTER_FRONT_MATTER = ("shorten the accounts' front matter, or split the files into several folders and make one "
                         "bundle of each")
_SUMS_LINE = 64 + 2 + 1  # "<sha256>  <path>\n" besides the path
_META_ENTRY = 48  # bundle.json's indentation, quotes, size and type besides the values, with room


def _mib(size: int) -> int:
    """Whole MiB, rounded up: a size just over a bound never reads as the bound itself."""
    return -(-size >> 20)


def check_sources(files: SourceList) -> None:
    """Refuse, before any file is read, sources whose bundle would break a bound of docs/format.md.

    Raises:
        InputError: naming the bound.
    """
    if len(files) > MAX_FILES:
        raise InputError(f"the folder holds {len(files):,} accounts and photos; a bundle holds at most {MAX_FILES:,}",
                         hint=_SPLIT)
    added = [PAGE_NAME, CURRENT.meta, CURRENT.author_key]
    sums = len(files.names.blob) + sum(len(name.encode()) for name in added) + _SUMS_LINE * (len(files) + 3)
    if sums > MAX_SUMS_BYTES:
        raise InputError(f"the list of hashes (SHA256SUMS) of these files would take {_mib(sums)} MiB, more than "
                         f"the {MAX_SUMS_BYTES >> 20} MiB a bundle may have", hint=_SHORTER_NAMES)
    header = sum(len(name.encode("utf-16-le", "surrogatepass")) + 2 + HEADER_BYTES_PER_MEMBER
                 for name in chain(files.members(), added))
    if header > MAX_HEADER:
        raise InputError(f"the names of these files would take {_mib(header)} MiB in the 7z header, more than the "
                         f"{MAX_HEADER >> 20} MiB a bundle may have", hint=_SHORTER_NAMES)


def entry_size(member: str, extra: dict[str, Any]) -> int:
    """About what one file's entry adds to bundle.json (a little more, never much less)."""
    name = member.encode("utf-8", "surrogatepass")  # an undecodable file name is refused by the name rules, later
    return len(name) + len(json.dumps(extra, ensure_ascii=False).encode()) + _META_ENTRY


def check_meta(size: int) -> None:
    """Refuse a bundle.json over its bound.

    Raises:
        InputError: naming the bound.
    """
    if size > MAX_META_BYTES:
        raise InputError(f"the description of these files (bundle.json) would take about {_mib(size)} MiB, more "
                         f"than the {MAX_META_BYTES >> 20} MiB a bundle may have",
                         hint=_SHORTER_FRONT_MATTER)
