"""bundle.json is written file by file; its bytes must stay exactly those of one json.dumps of the whole document
(signed bundles from earlier versions, and the golden bundle, hash them)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mirror.formats.manifest import BundleMeta, FileMeta

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers(-(10**15), 10**15) | TEXT,
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                           max_leaves=8)
FILES = st.dictionaries(TEXT.filter(bool), st.builds(FileMeta, st.integers(0, 10**12), TEXT,
                                                     st.dictionaries(TEXT, JSON_VALUES, max_size=3)), max_size=6)


def _whole(meta: BundleMeta) -> bytes:
    doc: dict[str, Any] = {"format": meta.format, "id": meta.bundle_id, "version": meta.version, "title": meta.title,
                           "created": meta.created, "languages": list(meta.languages), "author_key": meta.author_key,
                           "supersedes": meta.supersedes,
                           "files": {path: m.to_json() for path, m in sorted(meta.files.items())}}
    return (json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode()


@settings(max_examples=300, deadline=None)
@given(TEXT, st.integers(1, 10**6), TEXT, TEXT, st.lists(TEXT, max_size=3), TEXT, FILES, st.none() | TEXT)
def test_written_file_by_file_equals_one_dump(bundle_id: str, version: int, title: str, created: str,
                                              languages: list[str], author: str, files: dict[str, FileMeta],
                                              supersedes: str | None) -> None:
    meta = BundleMeta(bundle_id, version, title, created, tuple(languages), author, files, supersedes)
    assert meta.to_bytes() == _whole(meta)
