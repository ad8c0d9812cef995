"""CheckedFiles: create's record of the files it accepted, and Overlay, the few files it adds beside them."""

from __future__ import annotations

import hashlib

import pytest

from mirror.bundle.checked import CheckedFiles, Overlay
from mirror.formats.manifest import FileMeta


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def test_checked_files_answer_like_the_dicts_they_replace() -> None:
    """Lookup, membership, order, length, digests in hex and the total size."""
    checked = CheckedFiles()
    checked.add("accounts/a.md", _digest("a"), 3, "text/markdown", {"language": "ru", "place": "Алматы"})
    checked.add("accounts/b.md", _digest("b"), 5, "text/markdown", {})
    checked.add("photos/c.jpg", _digest("c"), 7, "image/jpeg", {"width": 4, "height": 3})
    assert list(checked) == ["accounts/a.md", "accounts/b.md", "photos/c.jpg"] and len(checked) == 3
    assert checked["accounts/a.md"] == FileMeta(3, "text/markdown", {"language": "ru", "place": "Алматы"})
    assert checked["accounts/b.md"] == FileMeta(5, "text/markdown", {})
    assert checked["photos/c.jpg"].extra == {"width": 4, "height": 3}
    assert checked.digests["photos/c.jpg"] == hashlib.sha256(b"c").hexdigest() == checked.digest("photos/c.jpg")
    assert dict(checked.digests) == {name: _digest(name.split("/")[1][0]).hex() for name in checked}
    assert checked.total_size == 15
    assert "accounts/b.md" in checked and "accounts/aa.md" not in checked and 3 not in checked
    for missing in ("accounts/0.md", "accounts/ab.md", "z"):
        with pytest.raises(KeyError):
            checked[missing]
        with pytest.raises(KeyError):
            checked.digests[missing]


def test_spent_details_leave_names_digests_and_the_total() -> None:
    """Once bundle.json is made, create's writing pass needs only each file's digest: the rest is let go, and
    asking for it is an error, never a wrong answer."""
    checked = CheckedFiles()
    checked.add("accounts/a.md", _digest("a"), 3, "text/markdown", {"language": "ru"})
    checked.add("photos/c.jpg", _digest("c"), 7, "image/jpeg", {})
    checked.spend_details()
    assert checked.digest("photos/c.jpg") == _digest("c").hex() and list(checked) == ["accounts/a.md", "photos/c.jpg"]
    assert checked.total_size == 10 and "accounts/a.md" in checked
    with pytest.raises(RuntimeError, match="let go"):
        checked["accounts/a.md"]


@pytest.mark.parametrize(("name", "digest", "size", "extra"), [
    ("accounts/b.md", _digest("x"), 1, {}),  # the same name again
    ("accounts/a.md", _digest("x"), 1, {}),  # sorts before the last
    ("accounts/c.md", b"short", 1, {}),  # not a SHA-256
    ("accounts/c.md", _digest("x"), -1, {}),
    ("accounts/c.md", _digest("x"), 1 << 64, {}),
    ("accounts/c.md", _digest("x"), 1, {"when": object()}),  # JSON cannot write it
], ids=["repeated", "unsorted", "digest", "negative", "huge", "not-json"])
def test_a_refused_add_leaves_the_record_as_it_was(name: str, digest: bytes, size: int,
                                                    extra: dict[str, object]) -> None:
    """Every column grows together or none does: a refused file cannot shift another's digest or size."""
    checked = CheckedFiles()
    checked.add("accounts/b.md", _digest("b"), 2, "text/markdown", {"language": "kk"})
    with pytest.raises((ValueError, TypeError)):
        checked.add(name, digest, size, "text/markdown", extra)
    checked.add("accounts/d.md", _digest("d"), 4, "text/plain", {})
    assert list(checked) == ["accounts/b.md", "accounts/d.md"]
    assert checked["accounts/d.md"] == FileMeta(4, "text/plain", {})
    assert checked.digest("accounts/d.md") == _digest("d").hex() and checked.total_size == 6


def test_overlay_adds_and_overrides_without_copying() -> None:
    """The added entries win; each name is listed once, the added ones first."""
    base = {"a": 1, "b": 2}
    overlay = Overlay({"b": 20, "c": 30}, base)
    assert overlay["a"] == 1 and overlay["b"] == 20 and overlay["c"] == 30
    assert list(overlay) == ["b", "c", "a"] and len(overlay) == 3
    assert "c" in overlay and "d" not in overlay
    base["e"] = 5  # a view, not a copy
    assert overlay["e"] == 5 and len(overlay) == 4
