"""Fuzzing in the suite: mutations of a real bundle's 7z header, SHA256SUMS, signature and bundle.json, of a
signed index, and of photo segments, each giving a clean verdict.

The property, for every mutation: a MirrorError of the expected kind (exit 3 for bundles and indexes, a
PhotoError for photos) or success - and success with a trusted verdict only when the signed bytes did not
change. Never another exception. `ci` runs a fixed, derandomized set of examples in a few seconds;
`MIRROR_FUZZ=long` runs the same targets much longer (bench/README.md). Every crash found is kept under
tests/data/fuzz/ and replayed by test_regressions_replay_cleanly.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuzzing import REGRESSIONS, examples, golden, judge_bundle, mutated, signature_parts, signed_index
from mirror.errors import ManifestError, MirrorError, PhotoError, SignatureError
from mirror.formats import jsonstream
from mirror.formats.manifest import V2, BundleMeta
from mirror.formats.minisign import Signature
from mirror.privacy.clean import clean_photo
from mirror.privacy.scan import scan_photo
from mirror.trust.index import check_index
from photo_fixtures import joined_jpeg, planted_jpeg, planted_png

G = golden()
SUMS = G.members[V2.sums]
AUTHOR_COMMENT = Signature.from_bytes(G.members[V2.sig]).trusted_comment
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False)
                           | st.text(max_size=40), lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)


@examples(250)
@given(mutated(G.plain_header))
def test_header_mutations(header: bytes) -> None:
    """The 7z header, with its CRCs recomputed so that the parser itself meets every change."""
    judge_bundle(G.with_header(header), SUMS)


@examples(120)
@given(mutated(G.data))
def test_mutations_anywhere(data: bytes) -> None:
    """Any byte of the file: start header, packed data, the LZMA2-coded header."""
    judge_bundle(data, SUMS)


@examples(80)
@given(mutated(SUMS))
def test_sums_mutations(sums: bytes) -> None:
    """SHA256SUMS changed by someone without the key: never trusted."""
    judge_bundle(G.with_members({**G.members, V2.sums: sums}), SUMS)


@examples(150)
@given(mutated(SUMS))
def test_sums_mutations_signed_again(sums: bytes) -> None:
    """SHA256SUMS changed and signed by the key holder: the strict parser meets every change."""
    signature = G.secret.sign(sums, AUTHOR_COMMENT)
    judge_bundle(G.with_members({**G.members, V2.sums: sums, V2.sig: signature.to_bytes()}))


@examples(150)
@given(mutated(G.members[V2.sig]))
def test_signature_mutations(signature: bytes) -> None:
    """The signature file: success only when what it says cryptographically is unchanged."""
    if judge_bundle(G.with_members({**G.members, V2.sig: signature}), SUMS) is not None:
        assert signature_parts(signature) == signature_parts(G.members[V2.sig])


@examples(200)
@given(mutated(G.members[V2.meta]))
def test_bundle_json_mutations_signed_again(meta: bytes) -> None:
    """bundle.json changed and signed again: the schema reader meets every change, directly and in a bundle."""
    with contextlib.suppress(ManifestError):
        BundleMeta.from_bytes(meta)
    judge_bundle(G.with_members(G.resigned({**G.members, V2.meta: meta})))


@examples(150)
@given(st.sampled_from(["format", "id", "version", "title", "created", "languages", "author_key", "supersedes",
                        "files", "size", "type", "privacy", "place"]), JSON_VALUES)
def test_bundle_json_values_signed_again(field: str, value: object) -> None:
    """One field of bundle.json (top level or of a file) replaced by any JSON value, signed again."""
    doc = json.loads(G.members[V2.meta])
    target = doc if field in doc else next(iter(doc["files"].values()))
    target[field] = value
    judge_bundle(G.with_members(G.resigned({**G.members, V2.meta: json.dumps(doc, indent=1).encode()})))


@examples(150)
@given(st.sampled_from(["index", "signature", "index signed again"]), st.data())
def test_index_mutations(which: str, data: st.DataObject) -> None:
    """A signed index or its signature changed, with or without the key: SignatureError or ManifestError only,
    and a changed index never checks out without a new signature."""
    raw, signature, publisher = signed_index()
    changed, new_signature = raw, signature
    if which == "signature":
        new_signature = data.draw(mutated(signature))
    else:
        changed = data.draw(mutated(raw))
    if which == "index signed again":
        new_signature = G.secret.sign(changed, Signature.from_bytes(signature).trusted_comment).to_bytes()
    try:
        check_index(changed, new_signature, publisher)
    except (SignatureError, ManifestError):
        return
    assert which == "index signed again" or changed == raw, "a changed index checked out"
    if which == "signature":
        assert signature_parts(new_signature) == signature_parts(signature)


def _judge_photo(data: bytes, name: str) -> None:
    for run in (lambda: clean_photo(data, name, False), lambda: clean_photo(data, name, True),
                lambda: scan_photo(data, name)):
        with contextlib.suppress(PhotoError):
            run()


@examples(200)
@given(mutated(planted_jpeg()))
def test_jpeg_mutations(data: bytes) -> None:
    """A JPEG full of metadata, changed anywhere: the cleaner and the scanner give a PhotoError or a result."""
    _judge_photo(data, "photos/a.jpg")


@examples(200)
@given(mutated(joined_jpeg(), 2, joined_jpeg().index(b"\xff\xdb")))
def test_joined_jpeg_mutations(data: bytes) -> None:
    """A JPEG whose EXIF runs on over three segments and whose XMP has an extended part, changed in its segments
    (lengths, headers, GUIDs, offsets): the scanner joins what it can and gives a PhotoError or a result."""
    _judge_photo(data, "photos/a.jpg")


@examples(200)
@given(mutated(planted_png()))
def test_png_mutations(data: bytes) -> None:
    """A PNG full of metadata chunks, changed anywhere."""
    _judge_photo(data, "photos/a.png")


def _regressions() -> list[Path]:
    return sorted(p for p in REGRESSIONS.iterdir() if p.is_file() and p.suffix != ".md") if REGRESSIONS.is_dir() \
        else []


@pytest.mark.parametrize("path", _regressions(), ids=lambda p: p.name)
def test_regressions_replay_cleanly(path: Path) -> None:
    """Every input the fuzzer once crashed on (tests/data/fuzz/README.md says what each was) gives a clean verdict."""
    data = path.read_bytes()
    if path.suffix == ".7z":
        judge_bundle(data, SUMS)
    elif path.suffix in (".jpg", ".png"):
        _judge_photo(data, f"photos/a{path.suffix}")
    else:
        with pytest.raises(MirrorError):
            BundleMeta.from_bytes(data)


JSON_TEXT = st.text(st.characters(codec="utf-8"), max_size=30)
FILE_ENTRY = st.fixed_dictionaries(
    {"size": st.integers(0, 2**62), "type": st.sampled_from(["text/markdown", "image/jpeg", "image/png"])},
    optional={"title": JSON_TEXT, "place": JSON_TEXT, "language": st.text(max_size=5), "date": JSON_TEXT,
              "privacy": st.fixed_dictionaries({"metadata": st.sampled_from(["removed", "kept"]),
                                                "removed": st.lists(JSON_TEXT, max_size=5)})})


@examples(100)
@given(st.dictionaries(st.from_regex(r"accounts/[a-z0-9]{1,12}\.md", fullmatch=True), FILE_ENTRY, max_size=6),
       JSON_TEXT, st.lists(st.sampled_from(["en", "ru", "kk"]), max_size=3), st.booleans(),
       st.sampled_from([None, 0, 1, 4]), st.data())
def test_bundle_json_reader_agrees_with_json_loads(files: dict[str, dict[str, object]], title: str,
                                                    languages: list[str], ascii_only: bool, indent: int | None,
                                                    data: st.DataObject) -> None:
    """Any well-formed bundle.json, however it is spelled (key order, spacing, escapes), reads as json.loads
    reads it; and a mutation the schema reader accepts is one json.loads accepts the same way."""
    doc = {"format": "mirror-bundle/1", "id": "601de4b5e0f34c1a", "version": 3, "title": title,
           "created": "2026-11-23T00:00:00Z", "languages": languages, "author_key": "AFA30E63839C1FA9",
           "supersedes": None, "files": files}
    keys = data.draw(st.permutations(list(doc)))
    raw = json.dumps({k: doc[k] for k in keys}, ensure_ascii=ascii_only, indent=indent).encode()
    for candidate in (raw, data.draw(mutated(raw))):
        try:
            meta = BundleMeta.from_bytes(candidate)
        except ManifestError:
            meta = None
        streamed = _streamed(candidate)  # read from a file a small window at a time: the same document
        if meta is None:
            assert streamed is None
            continue
        expected = json.loads(candidate)
        assert (meta.title, list(meta.languages), meta.version) == (expected["title"], expected["languages"],
                                                                   expected["version"])
        assert {p: m.to_json() for p, m in meta.files.items()} == expected["files"]
        if candidate is raw:  # a mutation may make one token longer than the small window (then it fails)
            assert streamed is not None
        if streamed is not None:
            assert streamed == meta


def _streamed(raw: bytes) -> BundleMeta | None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jsonstream, "WINDOW", 1024)
        try:
            return BundleMeta.from_bytes(io.BytesIO(raw))
        except ManifestError:
            return None
