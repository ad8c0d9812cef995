"""Shared helpers for tests: real tools, source folders, rebuilding archives with 7zz."""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import signal
import subprocess
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageOps

from mirror.formats.manifest import CURRENT

# Where today's bundles keep their technical files (docs/format.md, "Layouts").
SUMS, SIG, META, AUTHOR, ENDORSEMENTS = (CURRENT.sums, CURRENT.sig, CURRENT.meta, CURRENT.author_key,
                                         CURRENT.endorsements)


def hear_hangups() -> None:
    """As a child's preexec_fn: it hears SIGHUP even when the suite runs under `nohup` (which has it ignored, and
    mirror then rightly keeps ignoring it); tests that send SIGHUP need it heard. The suite itself keeps nohup's."""
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def require_tool(name: str) -> str:
    """Path of a real binary; a missing one skips locally and fails when CI is set."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is required in CI but is not installed")
        pytest.skip(f"{name} is not installed")
    return path


def run(*args: str | Path, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a real program, capturing text output."""
    return subprocess.run([str(a) for a in args], cwd=cwd, check=check, capture_output=True, text=True,
                          timeout=120)


def make_jpeg(width: int = 64, height: int = 48, seed: int = 1, noisy: bool = False) -> bytes:
    """A real JPEG with some structure (and, if `noisy`, grain that keeps it large)."""
    image = Image.new("RGB", (width, height))
    grain = random.Random(seed)
    image.putdata([((x * 7 + seed + (grain.randrange(64) if noisy else 0)) % 256, (y * 5) % 256,
                    (x * y + seed) % 256) for y in range(height) for x in range(width)])
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def make_png(width: int = 32, height: int = 32, seed: int = 2) -> bytes:
    """A small real PNG."""
    image = Image.new("RGB", (width, height), ((seed * 40) % 256, 90, 160))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def make_sources(folder: Path) -> Path:
    """A small author's folder: two accounts in two languages and two photos."""
    (folder / "accounts").mkdir(parents=True)
    (folder / "photos").mkdir()
    (folder / "accounts" / "2022-01-05-almaty.en.md").write_text(
        "---\ntitle: Square\ndate: 2022-01-05\nplace: Almaty\nlanguage: en\nsource: Test, https://example.org/a\n"
        "---\nPeople gathered on the square in the evening.\n", encoding="utf-8")
    (folder / "accounts" / "2022-01-06-almaty.ru.md").write_text(
        "---\ntitle: Связь\ndate: 2022-01-06\nplace: Алматы\n---\nИнтернета не было весь день.\n",
        encoding="utf-8")
    (folder / "photos" / "square.jpg").write_bytes(make_jpeg())
    (folder / "photos" / "street.png").write_bytes(make_png())
    return folder


def sevenzip_rebuild(extracted: Path, out: Path, *options: str) -> Path:
    """Pack a folder with stock 7-Zip (members in sorted order)."""
    sevenzz = require_tool("7zz")
    names = sorted(p.relative_to(extracted).as_posix() for p in extracted.rglob("*") if p.is_file())
    run(sevenzz, "a", "-bso0", "-bsp0", *options, out, *names, cwd=extracted)
    return out


def sevenzip_extract(bundle: Path, dest: Path) -> Path:
    """Extract with stock 7-Zip (only used on bundles the tests made)."""
    sevenzz = require_tool("7zz")
    run(sevenzz, "x", "-bso0", "-bsp0", f"-o{dest}", bundle)
    return dest


def decoded(data: bytes, transpose: bool = False) -> tuple[str, tuple[int, int], bytes]:
    """Mode, size and pixels as Pillow decodes them (optionally after applying EXIF orientation)."""
    with warnings.catch_warnings():  # the planted MPF segment is a stub, which Pillow notes
        warnings.filterwarnings("ignore", "Image appears to be a malformed MPO file", UserWarning)
        image = Image.open(io.BytesIO(data))
        image.load()
    with image:
        shown = ImageOps.exif_transpose(image) if transpose else image
        return shown.mode, shown.size, shown.tobytes()


def exiftool(data: bytes) -> dict[str, Any]:
    """What `exiftool -j -a -G1 -` reads from `data` on stdin."""
    tool = require_tool("exiftool")
    result = subprocess.run([tool, "-j", "-a", "-G1", "-"], input=data, capture_output=True, check=True,
                            timeout=60)
    tags: dict[str, Any] = json.loads(result.stdout)[0]
    return tags


def refused_alike(data: bytes, name: str, match: str) -> list[str]:
    """Assert that the cleaner and the scanner both refuse `data` with a PhotoError matching `match`; their
    messages, for what else a test asks of them."""
    from mirror.errors import PhotoError
    from mirror.privacy.scan import scan_photo
    from mirror.privacy.strip import strip_photo

    messages = []
    for func in (strip_photo, scan_photo):
        with pytest.raises(PhotoError, match=match) as caught:
            func(data, name)
        messages.append(str(caught.value))
    return messages


def assert_linear(search: Callable[[str], object], unit: str) -> None:
    """Four times `unit` repeated costs `search` about four times the time, never the sixteen of a search that
    backtracks over what it read: the least of interleaved rounds, so that a loaded machine slows both sizes
    alike (an 8x bound on single runs failed under a load of 4.5 on two cores)."""
    def timed(text: str) -> float:
        start = time.perf_counter()
        search(text)
        return time.perf_counter() - start

    small_text, large_text = unit * 20_000, unit * 80_000
    small = large = float("inf")
    for _ in range(6):  # 4 rounds failed now and then with several test runs beside them on two cores
        small, large = min(small, timed(small_text)), min(large, timed(large_text))
    assert large < 11 * small + 0.02, (small, large)


def assert_same_as_everywhere(search: Callable[[str], list[Any]], everywhere: Callable[[str], list[Any]],
                              pieces: list[str], seed: int, rounds: int, longest: int, least: int) -> None:
    """`search` finds exactly what `everywhere` (the same search tried at every position) finds on `rounds` texts of
    1 to `longest` random `pieces`; `least` findings at least in all, so that there were some to find."""
    chooser = random.Random(seed)
    total = 0
    for _ in range(rounds):
        text = "".join(chooser.choice(pieces) for _ in range(chooser.randint(1, longest)))
        expected = everywhere(text)
        assert search(text) == expected, text
        total += len(expected)
    assert total > least
