"""Members larger than the reader's chunks and batches come out of extract byte for byte."""

from __future__ import annotations

import hashlib
import io
import os
import random
import threading
from contextlib import closing
from pathlib import Path

from PIL import Image

from mirror import CreateRequest, create_bundle, extract_bundle
from mirror.sevenzip import Limits, read_ahead, read_archive
from mirror.sevenzip.ahead import BATCH_BYTES
from mirror.trust.keyring import Keyring
from mirror.trust.keys import SecretKey


def _noise_jpeg(width: int, height: int) -> bytes:
    """A JPEG of noise: it stays large, several MiB, as a camera's does."""
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(out, "JPEG", quality=95)
    return out.getvalue()


def test_large_members_extract_exactly(tmp_path: Path, keyring: Keyring, secret: SecretKey) -> None:
    """A photo (Copy) and an account (LZMA2) each several chunks long, beside small files, extract intact."""
    src = tmp_path / "src"
    (src / "photos").mkdir(parents=True)
    (src / "accounts").mkdir()
    photo = _noise_jpeg(1800, 1400)
    assert len(photo) > 2 * BATCH_BYTES
    (src / "photos" / "big.jpg").write_bytes(photo)
    words = random.Random(5).choices(["street", "night", "square", "Алматы", "snow", "light"], k=600_000)
    text = "# Long\n\n" + " ".join(words) + "\n"
    assert len(text.encode()) > 3 * BATCH_BYTES
    (src / "accounts" / "long.md").write_text(text, encoding="utf-8")
    for i in range(30):
        (src / "accounts" / f"short-{i:02d}.md").write_text(f"Account {i}.\n", encoding="utf-8")
    bundle = tmp_path / "big.7z"
    create_bundle(CreateRequest(src, bundle, title="Large members"), secret)
    out = extract_bundle(bundle, tmp_path / "out", keyring).dest
    assert (out / "accounts" / "long.md").read_text(encoding="utf-8") == text
    assert (out / "accounts" / "short-07.md").read_text(encoding="utf-8") == "Account 7.\n"
    sums = dict(line.split("  ", 1)[::-1] for line in (out / ".mirror" / "SHA256SUMS").read_text().splitlines())
    for path, digest in sums.items():
        assert hashlib.sha256((out / path).read_bytes()).hexdigest() == digest, path
    assert len(sums) == 35  # 31 accounts, the photo, the page, bundle.json and author.pub


def test_reading_ahead_stops_when_the_reader_stops(bundle: Path) -> None:
    """A caller that stops early (a failed signature) leaves no thread reading the file; errors come in order."""
    with bundle.open("rb") as fp:
        archive = read_archive(fp, Limits())
        with closing(read_ahead(fp, archive)) as pairs:
            member, chunks = next(pairs)
            assert member.name and next(chunks, b"") is not None
        assert not any(t.name == "mirror-read-ahead" and t.is_alive() for t in threading.enumerate())
