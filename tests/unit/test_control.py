"""bundle.json past SPILL bytes waits in an unnamed temporary file during a verify (bundle/control.py), and every
reader of the signed files sees the same bytes as before."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

import mirror.bundle.control as control
from fuzzing import golden
from mirror.bundle.control import Control, Spool
from mirror.bundle.extract import extract_bundle
from mirror.bundle.verify import verify_bundle
from mirror.formats.manifest import META_NAME, SIG_NAME, SUMS_NAME, V2, file_details
from mirror.formats.minisign import Prehashed, prehash
from mirror.record import replace

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden-v2.7z"


def test_a_spool_keeps_small_files_in_memory_and_large_ones_on_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(control, "SPILL", 1000)
    small, large = Spool(), Spool()
    data = os.urandom(5000)
    small.write(data[:600])
    for at in range(0, len(data), 700):
        large.write(data[at : at + 700])
    assert small.read() == data[:600]
    with pytest.raises(ValueError):
        small.fileno()  # never on disk
    assert os.fstat(large.fileno()).st_size == len(data)  # on disk, and with no name anywhere
    assert os.fstat(large.fileno()).st_nlink == 0
    assert large.read() == data and b"".join(large.chunks()) == data
    assert large.sha256 == hashlib.sha256(data).hexdigest() and large.size == len(data)
    with pytest.raises(ValueError):
        large.prehashed  # noqa: B018 - not spooled as a signed message
    signed = Spool(signed=True)
    signed.write(data)
    assert signed.prehashed == Prehashed(prehash(data))
    first, second = large.open(), large.open()  # readers with their own positions
    assert first.read(100) == data[:100] and second.read(50) == data[:50] and first.read(10) == data[100:110]


def test_control_reads_spooled_files_as_bytes_or_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(control, "SPILL", 10)
    spool = Spool()
    spool.write(b'{"x": 1}' * 10)
    held = Control({"a": b"abc", "b": spool})
    assert held["a"] == b"abc" and held["b"] == b'{"x": 1}' * 10
    assert held.open("b").read() == held["b"] and held.open("a").read() == b"abc"
    assert held.sha256("b") == hashlib.sha256(held["b"]).hexdigest() == spool.sha256
    assert dict(held) == {"a": b"abc", "b": held["b"]}


def test_a_bundle_verified_with_bundle_json_spooled_reads_the_same(monkeypatch: pytest.MonkeyPatch,
                                                                    tmp_path: Path) -> None:
    keys = golden().keys
    whole = verify_bundle(GOLDEN, keys)
    monkeypatch.setattr(control, "SPILL", 64)  # the golden bundle.json is a few KB: spooled to disk
    spooled = verify_bundle(GOLDEN, keys)
    assert spooled.trusted and spooled.meta == whole.meta and list(spooled.members) == list(whole.members)
    assert spooled.control[META_NAME] == whole.control[META_NAME] == golden().members[V2.meta]
    assert spooled.control[SUMS_NAME] == whole.control[SUMS_NAME] == golden().members[V2.sums]
    assert spooled.control.prehashed(SUMS_NAME) == whole.control.prehashed(SUMS_NAME)
    assert spooled.control.sha256(SUMS_NAME) == hashlib.sha256(golden().members[V2.sums]).hexdigest()
    with spooled.control.open(META_NAME) as source:
        assert list(file_details(source)) == list(file_details(whole.control[META_NAME]))
    extracted = extract_bundle(GOLDEN, tmp_path / "out", keys)  # bundle.json written out from its spool
    assert (extracted.dest / V2.meta).read_bytes() == golden().members[V2.meta]


def test_a_fetched_arrival_keeps_no_temporary_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """fetch keeps each arrival's verification to the end of the run (fetch --keep-mirror copies the signed list
    and its signature): the signature in memory (the list is read back from the bundle), not a temporary file and
    its descriptor per bundle; without --keep-mirror, no signed file at all; and never the columns of its files,
    which would grow the run's memory with every bundle."""
    from mirror.fetch.fetcher import _kept

    monkeypatch.setattr(control, "SPILL", 64)
    verified = verify_bundle(GOLDEN, golden().keys)
    assert isinstance(verified.control._files[SUMS_NAME], Spool)  # spooled while it was verified
    assert not _kept(verified, keep=False).control
    kept = _kept(verified, keep=True)
    assert set(kept.control) == {SIG_NAME}  # the list itself is read back from the bundle (fetch/keep.py)
    assert all(isinstance(value, bytes) for value in kept.control._files.values())
    assert kept.control[SIG_NAME] == golden().members[V2.sig]
    assert kept.meta == replace(verified.meta, files={}) and len(verified.meta.files) > 0
    assert not kept.members and not kept.sums.entries and verified.members and len(verified.sums.entries) > 0
    assert (kept.key_id, kept.trusted, kept.signer_name) == (verified.key_id, verified.trusted, verified.signer_name)


def test_a_full_temporary_folder_is_named_and_nothing_is_left_to_fail_later(monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk shows when the spool writes (not at a later read), as an OSError naming the temporary folder;
    closing the spool's file afterwards fails quietly (no 'Exception ignored' when the spool is collected)."""
    import errno
    import gc
    import io
    import tempfile

    class Full(io.BytesIO):
        def __init__(self, dir: str | None = None) -> None:
            super().__init__()

        def flush(self) -> None:
            if self.tell():
                raise OSError(errno.ENOSPC, "No space left on device")

        def close(self) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(control, "SPILL", 10)
    monkeypatch.setattr(tempfile, "TemporaryFile", Full)
    spool = Spool()
    with pytest.raises(OSError, match="the temporary folder") as caught:
        spool.write(b"x" * 100)
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == tempfile.gettempdir()
    del spool
    gc.collect()


def test_a_spool_beside_an_output_names_its_folder_when_it_cannot_write(tmp_path: Path) -> None:
    """create's lists wait beside the bundle it makes: a missing folder is named as that, not as TMPDIR."""
    spool = Spool(folder=tmp_path / "gone")
    spool.write(b"x" * 10)  # in memory: nothing to fail yet
    with pytest.raises(OSError, match="beside the bundle being made") as caught:
        spool.write(b"y" * (control.SPILL + 1))
    assert caught.value.filename == str(tmp_path / "gone") and "TMPDIR" not in str(caught.value)


def test_keep_mirror_reads_the_signed_list_back_from_the_bundle(tmp_path: Path) -> None:
    """fetch --keep-mirror writes SHA256SUMS beside the bundle from the bundle itself, streamed, and only if it is
    the list that was verified: otherwise nothing is left at the target."""
    import hashlib

    from mirror.errors import ContentError
    from mirror.fetch.keep import _keep_sums

    signed = golden().members[V2.sums]
    target = tmp_path / "x.SHA256SUMS"
    _keep_sums(GOLDEN, V2.sums, target, hashlib.sha256(signed).hexdigest())
    assert target.read_bytes() == signed
    other = tmp_path / "y.SHA256SUMS"
    with pytest.raises(ContentError, match="changed after it was verified"):
        _keep_sums(GOLDEN, V2.sums, other, hashlib.sha256(b"another list").hexdigest())
    assert not other.exists() and not list(tmp_path.glob("y*"))


def test_keep_mirror_finds_the_signed_list_anywhere_in_its_block(tmp_path: Path) -> None:
    """A repack may put SHA256SUMS after other members of the same block (one solid block, the list last): the
    list is still the one written, not the first member of its block."""
    import hashlib

    from forge import Entry, forge
    from mirror.fetch.keep import _keep_sums

    members = golden().members
    repacked = forge(tmp_path / "r.7z", [Entry(n, d) for n, d in reversed(list(members.items()))])
    target = tmp_path / "x.SHA256SUMS"
    _keep_sums(repacked, V2.sums, target, hashlib.sha256(members[V2.sums]).hexdigest())
    assert target.read_bytes() == members[V2.sums]
