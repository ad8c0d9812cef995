"""Hypothesis strategies that mutate real inputs, and the verdicts the fuzz tests expect (tests/fuzz/).

Example::

    @FUZZ
    @given(mutated(golden().plain_header))
    def test_header(header: bytes) -> None:
        judge_bundle(golden().with_header(header))      # fails on anything but a clean verdict

Every base is deterministic (the golden bundle and its published test key, photos Pillow draws,
an index signed by that key), so a fixed seed gives the same examples on every machine. Profiles:
`ci` (the default: derandomized, a fixed number of examples) and `long` (MIRROR_FUZZ=long: 20,000
examples per target or MIRROR_FUZZ_EXAMPLES, random seeds; bench/README.md says how to run it and what
it found).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import io
import json
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from forge import Entry, forge_bytes
from helpers import META
from mirror.bundle.verify import Checked, verify_open
from mirror.errors import MirrorError, VerificationError
from mirror.formats.index import BundleEntry, Index
from mirror.formats.manifest import SUMS_NAME, V2, Sums, trusted_comment
from mirror.formats.minisign import PublicKeyFile, Signature
from mirror.sevenzip import Limits, iter_members, read_archive
from mirror.sevenzip.header import Buf, parse_streams
from mirror.sevenzip.reader import _FolderReader
from mirror.trust.index import sign_index
from mirror.trust.keys import SecretKey
from mirror.trust.keyset import KeyRecord, TrustedKeys
from mirror.trust.policy import AuthorTrusted

DATA = Path(__file__).parent / "data"
REGRESSIONS = DATA / "fuzz"

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile("ci", derandomize=True, deadline=None, database=None, print_blob=True,
                          suppress_health_check=_QUIET)
settings.register_profile("long", max_examples=int(os.environ.get("MIRROR_FUZZ_EXAMPLES", "20000")), deadline=None,
                          database=None, print_blob=True, suppress_health_check=_QUIET)
LONG = os.environ.get("MIRROR_FUZZ") == "long"


def examples(count: int) -> settings:
    """The settings of one fuzz target: `count` examples in CI, the long profile's number otherwise."""
    profile = settings.get_profile("long" if LONG else "ci")
    return settings(profile, max_examples=profile.max_examples if LONG else count)


@st.composite
def mutated(draw: st.DrawFn, data: bytes, start: int = 0, end: int | None = None) -> bytes:
    """`data` with 1 to 4 byte-level changes inside [start, end): flips, boundary values, insertions,
    deletions, repeated runs."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        stop = len(out) if end is None else min(end + len(out) - len(data), len(out))
        if stop <= start:
            break
        at = draw(st.integers(start, stop - 1))
        kind = draw(st.sampled_from(["flip", "set", "insert", "delete", "repeat"]))
        if kind == "flip":
            out[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set":
            out[at] = draw(st.sampled_from([0x00, 0x01, 0x7F, 0x80, 0xFF, draw(st.integers(0, 255))]))
        elif kind == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del out[at : at + draw(st.integers(1, 8))]
        else:
            piece = bytes(out[at : at + draw(st.integers(1, 16))])
            out[at:at] = piece * draw(st.integers(1, 64))
    return bytes(out)


def _load_golden_maker() -> object:
    spec = importlib.util.spec_from_file_location("make_golden", DATA / "make_golden.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Golden:
    """The golden bundle, taken apart: its bytes, members, plain header, key, and who trusts it."""

    data: bytes
    members: dict[str, bytes]
    body: bytes  # the start header's 32 bytes are rebuilt: this is the packed data after them
    plain_header: bytes
    secret: SecretKey
    keys: TrustedKeys

    def with_header(self, header: bytes) -> bytes:
        """The archive with this plain header, CRCs recomputed, so the parser sees the change itself."""
        start = struct.pack("<QQI", len(self.body), len(header), zlib.crc32(header))
        return b"7z\xbc\xaf\x27\x1c\x00\x04" + struct.pack("<I", zlib.crc32(start)) + start + self.body + header

    def with_members(self, members: dict[str, bytes]) -> bytes:
        """The members in one Copy block, as a repack would give."""
        return forge_bytes([Entry(n, d) for n, d in members.items()])

    def resigned(self, members: dict[str, bytes]) -> dict[str, bytes]:
        """SHA256SUMS recomputed over the members and signed again by the golden key, as its holder could."""
        listed = {n: hashlib.sha256(d).hexdigest() for n, d in members.items() if n not in (V2.sums, V2.sig)}
        sums = Sums(listed).to_bytes()
        meta = json.loads(self.members[META])
        signature = self.secret.sign(sums, trusted_comment(meta["id"], meta["version"]))
        return {**members, V2.sums: sums, V2.sig: signature.to_bytes()}


@functools.cache
def golden() -> Golden:
    """The golden bundle of tests/data, taken apart once per process."""
    data = (DATA / "golden-v2.7z").read_bytes()
    offset, length, _ = struct.unpack("<QQI", data[12:32])
    buf = Buf(data[32 + offset : 32 + offset + length])
    assert buf.byte() == 0x17  # the writer compresses its header, as 7-Zip does
    folders, _ = parse_streams(buf, Limits(), 32 + offset)
    fp = io.BytesIO(data)
    plain = b"".join(_FolderReader(fp, folders[0]).chunks(folders[0].unpack_size))
    secret: SecretKey = _load_golden_maker().golden_secret()  # type: ignore[attr-defined]
    record = KeyRecord("golden", secret.public, ("author", "publisher"), "qr", "2026-11-23", False)
    fp.seek(0)
    archive = read_archive(fp, Limits())
    members = {m.name: b"".join(chunks) for m, chunks in iter_members(fp, archive)}
    return Golden(data, members, data[32 : folders[0].pack_offset], plain, secret,
                  TrustedKeys((record,)))


def judge_bundle(data: bytes, signed_sums: bytes | None = None) -> Checked | None:
    """Verify `data` as the golden key's holder would be trusted; fail on anything but a clean verdict.

    A refusal must be a VerificationError (exit 3). A success is allowed; when the bundle is trusted and
    `signed_sums` is given, it must be exactly those bytes: changed signed content is never trusted.
    """
    try:
        checked = verify_open(io.BytesIO(data), golden().keys, Limits(), AuthorTrusted())
    except VerificationError:
        return None
    except MirrorError as exc:  # any other MirrorError on bundle bytes is a bug too
        raise AssertionError(f"{type(exc).__name__} ({exc.exit_code}): {exc}") from exc
    if checked.verdict.trusted and signed_sums is not None:
        assert checked.signed.control[SUMS_NAME] == signed_sums, "changed signed content was trusted"
    return checked


@functools.cache
def signed_index() -> tuple[bytes, bytes, PublicKeyFile]:
    """An index of two bundles signed by the golden key (which the reader trusts as publisher)."""
    secret = golden().secret
    entries = tuple(BundleEntry.for_bundle(f"bundle-{i:04d}-abcdef", i + 1, hashlib.sha256(bytes([i])).hexdigest(),
                                           1000 + i, f"Title {i}", "0011223344556677") for i in range(2))
    from mirror.formats.minisign import key_id_hex

    index = Index(key_id_hex(secret.public.key_id), 7, "2026-11-23T00:00:00Z", "2026-12-07T00:00:00Z", entries,
                  ("https://mirror.example/m/",))
    return index.to_bytes(), sign_index(index, secret), secret.public


def signature_parts(raw: bytes) -> tuple[bytes, bytes, str, bytes] | None:
    """What a signature file says cryptographically (the untrusted comment is not part of it)."""
    try:
        sig = Signature.from_bytes(raw)
    except MirrorError:
        return None
    return sig.key_id, sig.signature, sig.trusted_comment, sig.global_signature
