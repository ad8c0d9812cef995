"""bundle.json read from a file a window at a time (formats/jsonstream.py): the same document as from bytes,
whatever the whitespace, and a clean error for what does not fit."""

from __future__ import annotations

import io
import json

import pytest

from mirror.errors import ManifestError
from mirror.formats import jsonstream
from mirror.formats.manifest import BundleMeta, FileMeta, file_details

WINDOW = 256  # small, so that a document of a few hundred files is read in many windows


@pytest.fixture(autouse=True)
def small_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonstream, "WINDOW", WINDOW)


def _meta(count: int) -> BundleMeta:
    files = {f"accounts/{n:05}.md": FileMeta(n * 7, "text/markdown",
                                             {"title": f"Окно {n} \u2603", "place": "Алматы", "language": "ru"})
             for n in range(count)}
    return BundleMeta("601de4b5e0f34c1a", 3, "Январь", "2026-11-23T00:00:00Z", ("ru", "kk"), "AFA30E63839C1FA9",
                      files)


def test_a_document_read_in_windows_is_the_document() -> None:
    raw = _meta(500).to_bytes()
    assert len(raw) > 100 * WINDOW
    assert BundleMeta.from_bytes(io.BytesIO(raw)) == BundleMeta.from_bytes(raw)
    assert list(file_details(io.BytesIO(raw))) == list(file_details(raw))


def _spaced(doc: dict[str, object], ws: str) -> bytes:
    """`doc` with `ws` between every two tokens outside the files' own objects (those are bounded in size)."""
    items = []
    for key, value in doc.items():
        if key == "files" and isinstance(value, dict):
            inner = f"{ws},{ws}".join(f"{json.dumps(p)}{ws}:{ws}{json.dumps(m)}" for p, m in value.items())
            literal = f"{{{ws}{inner}{ws}}}"
        elif isinstance(value, list):
            literal = f"[{ws}" + f"{ws},{ws}".join(json.dumps(v) for v in value) + f"{ws}]"
        else:
            literal = json.dumps(value)
        items.append(f"{json.dumps(key)}{ws}:{ws}{literal}")
    return f"{ws}{{{ws}{f'{ws},{ws}'.join(items)}{ws}}}{ws}".encode()


def test_whitespace_longer_than_the_window_is_still_whitespace() -> None:
    """JSON lets a writer put as much whitespace between tokens as it likes: runs many windows long."""
    meta = _meta(20)
    raw = _spaced(json.loads(meta.to_bytes()), " " * (3 * WINDOW) + "\n\t\r")
    assert BundleMeta.from_bytes(io.BytesIO(raw)) == BundleMeta.from_bytes(raw) == meta


def test_whitespace_of_any_length_up_to_three_windows_is_whitespace() -> None:
    """Wherever a run of whitespace ends in a window (just before its end, across it), the token after it is read
    whole."""
    meta = _meta(3)
    doc = json.loads(meta.to_bytes())
    for length in range(0, 3 * WINDOW + 8):
        raw = _spaced(doc, " " * length)
        assert BundleMeta.from_bytes(io.BytesIO(raw)) == meta, length


def test_an_error_names_its_place_in_the_whole_document() -> None:
    raw = _meta(200).to_bytes()
    at = raw.index(b'"accounts/00150.md"')
    broken = raw[:at] + b"[" + raw[at + 1 :]
    with pytest.raises(ManifestError) as from_bytes:
        BundleMeta.from_bytes(broken)
    with pytest.raises(ManifestError) as streamed:
        BundleMeta.from_bytes(io.BytesIO(broken))
    assert str(streamed.value) == str(from_bytes.value)
    assert f"(at byte {at})" in str(streamed.value)


def test_a_file_over_the_cap_stops_as_soon_as_it_is() -> None:
    raw = _meta(500).to_bytes()
    source = io.BytesIO(raw)
    with pytest.raises(ManifestError, match="larger than"):
        BundleMeta.from_bytes(source, max_bytes=len(raw) // 4)
    assert source.tell() < len(raw) // 2  # not read to the end first


def test_a_token_longer_than_the_window_is_refused() -> None:
    """Only with a window this small: the real one (1 MiB) is far above every cap on a string or an object."""
    doc = json.loads(_meta(3).to_bytes())
    doc["title"] = "a" * (3 * WINDOW)
    with pytest.raises(ManifestError, match="expected a string"):
        BundleMeta.from_bytes(io.BytesIO(json.dumps(doc).encode()))


def test_trailing_data_after_many_windows_is_refused() -> None:
    raw = _meta(100).to_bytes()
    with pytest.raises(ManifestError, match="unexpected data after the document"):
        BundleMeta.from_bytes(io.BytesIO(raw + b" " * (5 * WINDOW) + b"{}"))
