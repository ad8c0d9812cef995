"""Signing and checking the mirror index, and reading a consistent signed pair from a host or mirror.

Example::

    sig = sign_index(index, secret)
    index = check_index(raw, sig, publisher)                    # SignatureError / ManifestError
    index, raw = read_signed_index(host, lambda r, s: check_index(r, s, publisher))

A host caught between renaming index.json and its signature serves a pair that does
not match: `read_signed_index` reads the pair again, then the immutable
index/<version>.json pair of either half, before it gives up. The publisher (publish,
status) and the reader (fetch) both read indexes through it. `source` is anything
with `read(path, limit) -> bytes` that raises TransferError: this module does no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol

from mirror.errors import ManifestError, SignatureError, TransferError
from mirror.formats.index import MAX_INDEX, Index, index_comment
from mirror.formats.layout import INDEX_NAME, MAX_SIG_FILE, SIG_SUFFIX, version_path
from mirror.formats.minisign import PublicKeyFile, Signature, key_id_hex
from mirror.trust.keys import SecretKey, check_signature

_VERSION = re.compile(r"\tversion:(\d{1,9})\t")
_JSON_VERSION = re.compile(rb'"version": (\d{1,9}),')
Check = Callable[[bytes, bytes], Index]  # (index bytes, signature bytes) -> the checked index


class IndexSource(Protocol):
    """A host or mirror, as far as reading an index goes."""

    def read(self, path: str, limit: int) -> bytes:
        """A small file, at most `limit` bytes. Raises TransferError (MissingFile when absent)."""
        ...


class UnknownPublisher(SignatureError):
    """An index signed by a key that is not a publisher in the reader's keyring."""

    def __init__(self, key_id: bytes) -> None:
        super().__init__(f"index signed by key {key_id_hex(key_id)}, not a publisher in your keyring")
        self.key_id = key_id


def sign_index(index: Index, secret: SecretKey) -> bytes:
    """The .minisig of the index, bound to publisher, version and expiry."""
    comment = index_comment(index.publisher_key, index.version, index.expires)
    return secret.sign(index.to_bytes(), comment).to_bytes()


def check_index(raw: bytes, signature: bytes, publisher: PublicKeyFile) -> Index:
    """Verify an index pair and parse it (the bytes are parsed only after the signature checks out).

    Raises:
        SignatureError: bad signature, or another publisher's.
        ManifestError: signed but malformed, or the comment disagrees with the content.
    """
    sig = Signature.from_bytes(signature)
    check_signature(publisher, sig, raw)
    index = Index.from_bytes(raw)
    if index.publisher_key != key_id_hex(publisher.key_id):
        raise ManifestError("index names another publisher key than its signer")
    if sig.trusted_comment != index_comment(index.publisher_key, index.version, index.expires):
        raise SignatureError("index signature's trusted comment does not match the index")
    return index


def _read_pair(source: IndexSource, path: str, check: Check) -> tuple[Index, bytes]:
    raw = source.read(path, MAX_INDEX)
    return check(raw, source.read(path + SIG_SUFFIX, MAX_SIG_FILE)), raw


def _versions_named(raw: bytes, sig: bytes) -> list[int]:
    """The versions either half of a mismatched pair claims, newest first (hints only: each is verified)."""
    found = set()
    try:
        match = _VERSION.search(Signature.from_bytes(sig).trusted_comment + "\t")
        if match:
            found.add(int(match[1]))
    except SignatureError:
        pass
    match_json = _JSON_VERSION.search(raw[:4096])
    if match_json:
        found.add(int(match_json[1]))
    return sorted(found, reverse=True)


def read_signed_index(source: IndexSource, check: Check) -> tuple[Index, bytes]:
    """A validly signed index from one host or mirror, with its exact bytes.

    Raises:
        TransferError: the source did not answer (MissingFile: it has no index).
        UnknownPublisher: the index is signed by a key `check` does not know (not retried).
        SignatureError, ManifestError: no consistent signed pair; the first problem found.
    """
    try:
        return _read_pair(source, INDEX_NAME, check)
    except UnknownPublisher:
        raise
    except (SignatureError, ManifestError) as first:
        # Caught between two renames: the pair again, then the immutable copy each half names.
        raw = source.read(INDEX_NAME, MAX_INDEX)
        sig = source.read(INDEX_NAME + SIG_SUFFIX, MAX_SIG_FILE)
        try:
            return check(raw, sig), raw
        except (SignatureError, ManifestError):
            pass
        for version in _versions_named(raw, sig):
            try:
                return _read_pair(source, version_path(version), check)
            except (SignatureError, ManifestError, TransferError):
                continue
        raise first from None
