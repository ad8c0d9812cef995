"""fetch verifies a bundle while it downloads (fetch/early.py), and counts that only if it holds for the file that
arrived: a mirror's read ahead that differs, or a bundle that fails, ends in the same verdict as a check after."""

from __future__ import annotations

import hashlib
import json
import struct
import time
import zlib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import mirror.fetch.fetcher as fetcher
from mirror.bundle.verify import verify_bundle
from mirror.errors import VerificationError
from mirror.fetch.early import TAIL_MAX
from mirror.formats.index import Index
from mirror.record import replace
from mirror.trust.index import sign_index
from mirror.trust.keyring import Keyring
from mirror_server import MirrorServer
from mirror_setup import Setup, fetch_cli


@pytest.fixture(autouse=True)
def every_bundle_early(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test bundles are small: check them early too."""
    monkeypatch.setattr("mirror.fetch.early.EARLY_MIN", 0)


@pytest.fixture
def checked_after(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The bundles verified once they arrived (not while they downloaded)."""
    calls: list[Path] = []
    real = fetcher.verify_bundle

    def counted(path: Path, *args: Any, **kwargs: Any) -> Any:
        calls.append(path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(fetcher, "verify_bundle", counted)
    return calls


def _indexed(setup: Setup, keyring: Keyring, data: bytes) -> str:
    """`data` put on host a in place of the bundle, under an index alice signs; its sha256."""
    host, sha = setup.hosts[0], hashlib.sha256(data).hexdigest()
    (host / "bundles" / f"{sha}.7z").write_bytes(data)
    index = Index.from_bytes((host / "index.json").read_bytes())
    entry = replace(index.bundles[0], sha256=sha, path=f"bundles/{sha}.7z", infohash=None, magnet=None)
    forged = replace(index, bundles=(entry,))
    (host / "index.json").write_bytes(forged.to_bytes())
    (host / "index.json.minisig").write_bytes(sign_index(forged, keyring.secret("alice", None)))
    return sha


def _ranged(server: MirrorServer) -> list[int]:
    return [int(header.removeprefix("bytes=").rstrip("-")) for path, header in server.requests
            if path.endswith(".7z") and header]


def test_a_bundle_is_verified_while_it_downloads(setup: Setup, served: MirrorServer, runner: CliRunner,
                                                 checked_after: list[Path]) -> None:
    served.rates = {".7z": 400_000}  # the download takes a while; the header is read ahead of it
    code, out, err = fetch_cli(runner, setup, "--mirror", served.url)
    assert code == 0, err
    assert "ARRIVED" in out and "signed by alice" in out
    assert checked_after == []  # not read a second time once it arrived
    size = setup.bundle.stat().st_size
    ahead = _ranged(served)
    assert ahead and all(size - TAIL_MAX < start < size for start in ahead)


def test_a_read_ahead_unlike_the_file_is_not_trusted(setup: Setup, served: MirrorServer, runner: CliRunner,
                                                     checked_after: list[Path]) -> None:
    """The mirror answers the read ahead with damaged bytes but serves the whole file honestly: the file that
    arrived is verified after, and it arrives; the mirror is reported for the answer that was not the bundle."""
    path = f"bundles/{setup.sha256}.7z"
    damaged = bytearray(setup.bundle.read_bytes())
    for i in range(1, 40):
        damaged[-i] ^= 0x55
    served.replace_ranged = {path: bytes(damaged)}
    served.rates = {".7z": 400_000}
    code, out, err = fetch_cli(runner, setup, "--mirror", served.url, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert [a["arrived"] for a in report["bundles"]] == [True], report
    assert _ranged(served) and len(checked_after) == 1
    (mirror,) = report["mirrors"]
    assert mirror["fate"] == "tampered" and "ranged read" in mirror["detail"], mirror


def test_a_bundle_that_fails_verification_fails_as_before(setup: Setup, served: MirrorServer, runner: CliRunner,
                                                          keyring: Keyring, checked_after: list[Path]) -> None:
    """A validly indexed file whose content is not what its author signed: exit 3, nothing placed."""
    data = bytearray(setup.bundle.read_bytes())
    data[len(data) // 2] ^= 0x01  # inside the large photo, stored as it is
    _indexed(setup, keyring, bytes(data))
    served.rates = {".7z": 400_000}
    code, out, _ = fetch_cli(runner, setup, "--mirror", served.url)
    assert code == 3, out
    assert "failed verification" in out and "sha256 does not match" in out
    assert len(checked_after) == 1  # the early check failed too; the verdict is the finished file's
    assert not list((setup.root / "in").glob("*.7z"))


def test_a_mirror_that_drips_the_read_ahead_never_holds_the_result(
        setup: Setup, served: MirrorServer, runner: CliRunner, checked_after: list[Path]) -> None:
    """The end of the file comes 20 bytes a second (status line included), the file itself in about 1.5 s: once
    the download is complete the read ahead is ended, not waited for until its 60 s window runs out."""
    served.rates, served.ranged_rate = {".7z": 400_000}, 20
    began = time.monotonic()
    code, out, err = fetch_cli(runner, setup, "--mirror", served.url, "--timeout", "60")
    assert code == 0, err
    assert "ARRIVED" in out and len(checked_after) == 1
    assert time.monotonic() - began < 30


def _with_crc(data: bytearray, at: int, crc: int) -> None:
    """Set the 4 bytes at `at` so that the CRC-32 of `data` is `crc` (CRC-32 is affine: solve over GF(2))."""
    data[at : at + 4] = bytes(4)
    base = zlib.crc32(data)
    basis: list[tuple[int, int]] = []  # (effect on the CRC, which of the 32 bits make it), reduced
    for bit in range(32):
        flipped = bytearray(data)
        flipped[at + bit // 8] ^= 1 << (bit % 8)
        effect, bits = zlib.crc32(flipped) ^ base, 1 << bit
        for b_effect, b_bits in basis:
            if effect ^ b_effect < effect:
                effect, bits = effect ^ b_effect, bits ^ b_bits
        if effect:
            basis.append((effect, bits))
            basis.sort(reverse=True)
    want, bits = base ^ crc, 0
    for b_effect, b_bits in basis:
        if want ^ b_effect < want:
            want, bits = want ^ b_effect, bits ^ b_bits
    assert want == 0
    for bit in range(32):
        if bits >> bit & 1:
            data[at + bit // 8] ^= 1 << (bit % 8)


def test_a_header_parsed_from_one_answer_and_compared_with_another_is_refused(
        setup: Setup, served: MirrorServer, runner: CliRunner, keyring: Keyring) -> None:
    """The signed file's header locator is malformed (same length and CRC as a good one): verify refuses it. The
    mirror answers the first read ahead with the good locator and everything after honestly: the check made early
    on the good locator must not count, since that answer is not the file."""
    good = setup.bundle.read_bytes()
    offset, length, crc = struct.unpack("<QQI", good[12:32])
    locator = bytearray(good[32 + offset : 32 + offset + length])
    assert locator[0] == 0x17  # an encoded header: the packed header is read ahead in a second answer
    locator[0] = 0
    _with_crc(locator, len(locator) - 4, crc)
    data = good[: 32 + offset] + bytes(locator)
    forged_file = setup.root / "forged.7z"
    forged_file.write_bytes(data)
    with pytest.raises(VerificationError):
        verify_bundle(forged_file, None)
    sha = _indexed(setup, keyring, data)

    class FirstAnswerOnly(dict[str, bytes]):
        """The good bundle's bytes for the first request with Range, then the file as it is."""

        answered = False

        def __contains__(self, key: object) -> bool:
            found = not self.answered and super().__contains__(key)
            self.answered = self.answered or found
            return found

    served.replace_ranged = FirstAnswerOnly({f"bundles/{sha}.7z": good})
    served.rates = {".7z": 400_000}
    code, out, _ = fetch_cli(runner, setup, "--mirror", served.url)
    assert code == 3, out
    assert "failed verification" in out
    assert _ranged(served)
    assert not list((setup.root / "in").glob("*.7z"))
