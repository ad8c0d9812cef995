"""What endorsing a large bundle costs, against copying it: `mirror endorse` vs `cp` (and `cp` + fsync).

Usage::

    python bench/endorse.py                      # a ~1 GB bundle, 3 interleaved runs (about 3 minutes)
    python bench/endorse.py --mb 100 --runs 1    # quicker
    python bench/endorse.py --quick --out /tmp/endorse.md

The bundle is made once in a temporary folder: 400 short accounts and photos of random pixels (JPEG does not
compress them, like real photos in a bundle: stored with Copy) until the size asked for. Then, A/B
interleaved, median of the runs: `cp` of the bundle, `cp` then `sync FILE` (endorse fsyncs its output before
renaming it, as every atomic write of mirror does), `mirror verify` of it, and `mirror endorse` (which copies
every block as packed bytes, adds one small block and verifies the new file fully before renaming it).
Peak memory (max RSS) of each child is read with wait4. The page cache is not dropped: every command reads a
file that is already in memory, as it would be right after receiving it.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def _photo(seed: int, width: int = 2048, height: int = 1536) -> bytes:
    """A JPEG of random pixels (about 3 bytes a pixel at quality 90: nothing left to compress)."""
    rng = random.Random(seed)
    image = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def make_sources(folder: Path, megabytes: int) -> int:
    """An author's folder of about `megabytes` MB: 400 accounts and photos of random pixels."""
    (folder / "accounts").mkdir(parents=True)
    (folder / "photos").mkdir()
    rng = random.Random(7)
    words = ["street", "square", "night", "shots", "crowd", "phone", "bread", "snow", "bus", "police"]
    for i in range(400):
        text = " ".join(rng.choice(words) for _ in range(300))
        (folder / "accounts" / f"{i:04d}.en.md").write_text(f"---\ndate: 2022-01-05\n---\n# Account {i}\n\n{text}\n")
    total, seed = 0, 0
    while total < megabytes << 20:
        data = _photo(seed)
        (folder / "photos" / f"p{seed:04d}.jpg").write_bytes(data)
        total += len(data)
        seed += 1
    return total


def _timed(args: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB, from GNU time: the child's own, not the forked parent's) of one command."""
    with tempfile.NamedTemporaryFile("r") as report:
        start = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", report.name, *args], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed: {done.stderr.decode(errors='replace')[-2000:]}")
        return elapsed, int(report.read().split()[-1])


def run(megabytes: int, runs: int) -> str:
    """Build the bundle, time every command `runs` times interleaved; the report in Markdown."""
    mirror = [sys.executable, "-m", "mirror"]
    with tempfile.TemporaryDirectory(prefix="bench-endorse-", dir=os.environ.get("BENCH_TMP")) as tmp:
        work = Path(tmp)
        env = {**os.environ, "MIRROR_KEYS": str(work / "keys"), "MIRROR_LANG": "en"}
        from mirror.trust.keyring import Keyring

        ring = Keyring(work / "keys")
        ring.create("alice", None)
        ring.create("bob", None)
        make_sources(work / "src", megabytes)
        bundle = work / "bundle.7z"
        subprocess.run([*mirror, "create", str(work / "src"), "-o", str(bundle), "--key", "alice"],
                       env=env, check=True, capture_output=True)
        size = bundle.stat().st_size
        commands = {
            "cp": lambda i: ["cp", str(bundle), str(work / f"cp{i}.7z")],
            "cp + sync FILE": lambda i: ["sh", "-c", f'cp "{bundle}" "{work}/cs{i}.7z" && sync "{work}/cs{i}.7z"'],
            "mirror verify": lambda i: [*mirror, "verify", str(bundle)],
            "mirror endorse": lambda i: [*mirror, "endorse", str(bundle), "--key", "bob", "--claim", "relayed",
                                         "-o", str(work / f"e{i}.7z")],
        }
        results: dict[str, list[tuple[float, int]]] = {name: [] for name in commands}
        for i in range(runs):
            for name, make in commands.items():
                results[name].append(_timed(make(i), env))
            for leftover in work.glob("*[0-9].7z"):
                leftover.unlink()
        endorsed = work / "check.7z"
        subprocess.run([*commands["mirror endorse"](0)[:-1], str(endorsed)], env=env, check=True,
                       capture_output=True)
        grew = endorsed.stat().st_size - size
        shutil.rmtree(work / "src")
    cp = statistics.median(t for t, _ in results["cp"])
    lines = [f"Bundle: {size / 2**20:,.0f} MiB ({size:,} bytes); the endorsed copy is {grew} bytes larger. "
             f"Median of {runs} interleaved run(s); {platform.machine()}, {os.cpu_count()} cores, "
             f"Python {platform.python_version()}.", "",
             "| command | seconds | MiB/s | x cp | peak memory |", "|---|---:|---:|---:|---:|"]
    for name, samples in results.items():
        seconds = statistics.median(t for t, _ in samples)
        peak = max(m for _, m in samples)
        lines.append(f"| {name} | {seconds:.2f} | {size / 2**20 / seconds:,.0f} | {seconds / cp:.1f} | "
                     f"{peak / 1024:,.0f} MiB |")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Parse the options, run, print (and write) the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=1024, help="size of the bundle's photos in MB (default 1024)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="a 20 MB bundle, one run")
    parser.add_argument("--out", type=Path, help="also write the report here")
    options = parser.parse_args()
    if options.quick:
        options.mb, options.runs = 20, 1
    report = "# mirror endorse against cp\n\n" + run(options.mb, options.runs)
    print(report)
    if options.out:
        options.out.write_text(report)


if __name__ == "__main__":
    main()
