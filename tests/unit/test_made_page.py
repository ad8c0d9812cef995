"""The page `mirror open` makes for a bundle whose own page is not shown: what of bundle.json it holds."""

from __future__ import annotations

import io
import json
import tracemalloc
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from mirror.bundle import view
from mirror.formats.manifest import Sums


def _verified(photos: list[str], texts: tuple[str, ...] = (), reverse: bool = False) -> Any:
    """What `_made_page` reads of a verified bundle: bundle.json (its files in name order, as create writes them,
    or in reverse, as a hostile or hand-made one may list them), the signed list, the title."""
    files = {p: {"size": 10, "type": "text/markdown" if p in texts else "image/jpeg"}
             for p in sorted([*photos, *texts], reverse=reverse)}
    raw = json.dumps({"files": files}).encode()
    listed = "".join(f"{'0' * 64}  {p}\n" for p in sorted(["author.pub", "bundle.json", *files]))
    meta = SimpleNamespace(title="T", created="2022-01-05T00:00:00Z", languages=("en",))
    return SimpleNamespace(control=SimpleNamespace(open=lambda name: io.BytesIO(raw)), meta=meta, key_id="K",
                           fingerprint="F", sums=Sums.from_bytes(listed.encode()))


def _held(count: int) -> int:
    """The memory held once bundle.json is read, as the page of `count` photos begins."""
    verified = _verified([f"photos/p{i:07d}.jpg" for i in range(count)])
    verified.sums.entries.near(b"photos/", 0)  # the signed list's index, which verify made already
    tracemalloc.start()
    try:
        pieces = view._made_page(Path("/nonexistent/b"), verified)  # what it reads of bundle.json, it has read
        held = tracemalloc.get_traced_memory()[0]
        assert b"<html" in b"".join(pieces)
        return held
    finally:
        tracemalloc.stop()


def test_a_page_made_here_holds_only_the_entries_it_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every entry of bundle.json was held in a dict while the page was made, and sorted, to show at most
    MAX_FIGURES photos: 75,000 photos held 26 MB of it (a million, hundreds of MB) beside what verify holds.
    What the page holds grows with what it shows, not with the bundle."""
    monkeypatch.setattr(view, "MAX_FIGURES", 1_000)
    some, many = _held(25_000), _held(75_000)
    assert many < 1.25 * some, (some, many)


def test_a_page_made_here_shows_the_first_files_by_name_whatever_their_order(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The files shown are the first by name, the rest counted, as before: bundle.json lists them in reverse."""
    monkeypatch.setattr(view, "MAX_FIGURES", 3)
    monkeypatch.setattr(view, "MAX_RENDERED", 1)
    monkeypatch.setattr(view, "MAX_LISTED", 1)
    folder = tmp_path / "b"
    (folder / "accounts").mkdir(parents=True)
    texts = tuple(f"accounts/a{i}.md" for i in range(5))
    for name in texts:
        (folder / name).write_text(f"text of {name}\n")
    for reverse in (False, True):
        made = view._made_page(folder, _verified([f"photos/p{i}.jpg" for i in range(7)], texts, reverse))
        page = b"".join(made).decode()
        assert all(f"photos/p{i}.jpg" in page for i in range(3)) and not any(f"p{i}.jpg" in page for i in range(3, 7))
        assert "text of accounts/a0.md" in page and "accounts/a1.md" in page
        assert not any(f"accounts/a{i}.md" in page for i in range(2, 5))
        assert "4 more photos are in" in page and "3 more accounts are in" in page
