"""Peak memory and time of `mirror verify`, `extract` and `scan` on the hostile bundles of issue 10.

Usage::

    python bench/hostile.py                     # every shape at full size, 3 runs each; writes bench/hostile.md
    python bench/hostile.py --runs 1            # one run each
    python bench/hostile.py --quick --out /tmp/h.md   # sizes / 64, one run (CI smoke: tests/test_bench_smoke.py)

Shapes (tests/hostile_shapes.py builds them; they are cached under bench/corpora/hostile/):

- 100,000 empty members whose last two share a name (also 25,000 and 50,000: time must grow linearly);
- an unlisted 256 MiB account after a bundle's signed files, a few dozen KB on disk (also 64 and 128 MiB);
- 1 GiB of zeros in a block declaring a 1 GiB LZMA2 dictionary;
- a 60 MB bundle.json signed by a key nobody trusts;
- a block whose LZMA2 stream ends before its declared size (the old `Aborted!`);
- a 64 MiB "endorsement";
and three at the caps, to show what the bounds cost (they are not issue 10's shapes):
- 512 MiB of zeros in a block with a 256 MiB dictionary, the largest accepted;
- a 32 MiB bundle.json describing 99,998 files (with bundle.json and author.pub, the 100,000 lines SHA256SUMS
  had at most then), signed by an unknown key;
- a 7z header of about 32 MiB: 100,000 names of 140 characters, some outside the BMP.
The last two were at the caps until those were raised to fit a million accounts (bundle.json 512 MiB, the header
128 MiB, docs/format.md "Bounds"); they are kept at these sizes, and bench/analysis.md "A million accounts"
measures the new ones.

Each command runs as a subprocess; peak memory and wall time are measured as bench/run.py does (the sum
of resident set sizes of the process tree sampled every 20 ms, and each process's VmHWM), the median of
--runs runs. The target: every peak of issue 10's shapes under 150 MB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT / "tests"))
from run import Sample, measure  # noqa: E402

import hostile_shapes as shapes  # noqa: E402
from mirror.trust.keys import SecretKey  # noqa: E402

MB, MIB = 1_000_000, 1 << 20
TARGET_MB = 150
COMMANDS = ("verify", "extract", "scan")


@dataclass(frozen=True)
class Shape:
    """One hostile file to build and measure."""

    name: str
    label: str
    size: int  # the parameter that grows: members, bytes of an account...
    unit: str
    build: Callable[[Path, int], Path]
    at_cap: bool = False  # a bound's own cost, not one of issue 10's shapes


def _at_meta_cap(out: Path, files: int) -> Path:
    """bundle.json near 32 MiB describing `files` files (listed in SHA256SUMS, not in the bundle), unknown key."""
    text = "Площадь Республики, вечер; люди стоят до темноты"
    listed = {f"accounts/{i:06d}.md": text.encode() for i in range(files)}
    members = shapes.signed_by(SecretKey.generate(), listed,
                               described={"title": text * 2, "place": "Алматы", "date": "2022-01-05"})
    kept = {n: d for n, d in members.items() if not n.startswith("accounts/")}  # listed, but not in the bundle
    return shapes.pack(out, kept)


def _shapes(quick: bool) -> list[Shape]:
    scale, steps = (64, (1,)) if quick else (1, (4, 2, 1))
    return [
        # the first member an empty .mirror/SHA256SUMS: without a signed file the archive is no bundle before its
        # duplicate is looked for
        *(Shape("duplicate", "empty members, a duplicate at the end", 100_000 // scale // step, "members",
                lambda out, count: shapes.duplicate_at_end(out, count, signed_name=True)) for step in steps),
        *(Shape("account", "unlisted account after the signed files", 256 * MIB // scale // step, "bytes",
                lambda out, size: shapes.big_account(out, size)) for step in steps),
        Shape("dictionary", "1 GiB LZMA2 dictionary over 1 GiB of zeros", 1024 * MIB // scale, "bytes",
              lambda out, size: shapes.huge_dictionary(out, size)),
        Shape("bundle.json", "bundle.json signed by an unknown key", 60 * MB // scale, "bytes",
              lambda out, size: shapes.big_bundle_json(out, SecretKey.generate(), size)),
        Shape("eof", "LZMA2 stream ends before its declared size", 4096, "bytes missing",
              lambda out, size: shapes.stream_ends_early(out, size)),
        Shape("endorsement", "a padded endorsement", 64 * MIB // scale, "bytes",
              lambda out, size: shapes.big_endorsement(out, shapes.signed_by(SecretKey.generate(), {}), size)),
        Shape("dictionary cap", "256 MiB dictionary (the cap) over 512 MiB of zeros", 512 * MIB // scale, "bytes",
              lambda out, size: shapes.huge_dictionary(out, size, dict_prop=32), at_cap=True),
        Shape("bundle.json cap", "32 MiB bundle.json of 99,998 files, unknown key", 99_998 // scale, "files",
              _at_meta_cap, at_cap=True),
        Shape("header cap", "32 MiB 7z header (the cap until 1M members): 100,000 names of 140 characters",
              100_000 // scale, "members", shapes.long_names, at_cap=True),
    ]


def _built(shape: Shape, cache: Path) -> Path:
    path = cache / f"{shape.name.replace(' ', '-').replace('.', '')}-{shape.size}.7z"
    if not path.exists():
        shape.build(path.with_suffix(".tmp"), shape.size).rename(path)
    return path


def _argv(command: str, bundle: Path, work: Path) -> list[str]:
    mirror = [sys.executable, "-m", "mirror"]
    if command == "scan":
        return [*mirror, "scan", str(bundle)]
    if command == "extract":
        return [*mirror, "extract", str(bundle), str(work / "out"), "--keys", str(work / "keys"), "--untrusted"]
    return [*mirror, "verify", str(bundle), "--keys", str(work / "keys")]


def _run(command: str, bundle: Path, runs: int, work: Path) -> tuple[Sample, str]:
    samples, tail = [], ""
    for _ in range(runs):
        shutil.rmtree(work / "out", ignore_errors=True)
        sample, tail = measure(_argv(command, bundle, work), work, {"PATH": "/usr/bin:/bin", "HOME": str(work)})
        samples.append(sample)
    wall, cpu = (statistics.median(getattr(s, f) for s in samples) for f in ("wall", "cpu"))
    rss = statistics.median(s.peak_rss or 0 for s in samples)
    first = next((line for line in tail.splitlines() if line.startswith("mirror:")), tail.strip()[:80])
    return Sample(wall, cpu, int(rss), samples[-1].code), first.removeprefix("mirror: ")


def _human(size: int, unit: str) -> str:
    if unit == "bytes" and size >= MIB:
        return f"{size / MIB:g} MiB" if size % MIB == 0 else f"{size / MB:g} MB"
    return f"{size:,} {unit}"


def report(rows: list[tuple[Shape, int, str, Sample, str]], runs: int) -> str:
    """The markdown page: one row per shape and command, the linear-growth check, and the targets."""
    lines = ["# Hostile input: memory and time", "",
             "Generated by `python bench/hostile.py` (bench/README.md). Issue 10's hostile shapes, and three at the "
             "caps of docs/format.md (verify and extract only: they show what a bound costs); each command's peak RSS "
             f"(process tree, from /proc), wall time and CPU time (user + system), median of {runs} run(s), on "
             f"{os.cpu_count()} cores shared with other work (CPU time is the steadier figure).", "",
             "| shape | size | on disk | command | exit | wall s | CPU s | peak MB | first line of the error |",
             "|---|---|---|---|---|---|---|---|---|"]
    for shape, disk, command, sample, message in rows:
        peak = f"{(sample.peak_rss or 0) / MB:.1f}"
        label = shape.label + (" *(at a cap)*" if shape.at_cap else "")
        lines.append(f"| {label} | {_human(shape.size, shape.unit)} | {disk / 1000:,.0f} KB | `{command}` | "
                     f"{sample.code} | {sample.wall:.2f} | {sample.cpu:.2f} | {peak} | {message.replace('|', '/')} |")
    lines += ["", "## Growth", "", "CPU time per unit at each size of the shapes measured at several sizes: a "
              "flat column is linear growth (start-up, about 0.3 s, weighs on the smallest).", "",
              "| shape | command | size | CPU s | CPU µs per unit |", "|---|---|---|---|---|"]
    for shape, _, command, sample, _ in rows:
        if shape.name in ("duplicate", "account"):
            per = sample.cpu / shape.size * (1e6 if shape.unit == "members" else 1e6 * MIB)
            unit = "member" if shape.unit == "members" else "MiB"
            lines.append(f"| {shape.name} | `{command}` | {_human(shape.size, shape.unit)} | {sample.cpu:.2f} | "
                         f"{per:,.1f} per {unit} |")
    lines += ["", "## Targets", "", "```"]
    for shape, _, command, sample, _ in rows:
        if not shape.at_cap:
            peak = (sample.peak_rss or 0) / MB
            verdict = "PASS" if peak < TARGET_MB else "FAIL"
            lines.append(f"{verdict}  peak of `{command}` on {shape.label} ({_human(shape.size, shape.unit)}) "
                         f"under {TARGET_MB} MB: {peak:.1f} MB")
    return "\n".join([*lines, "```", ""])


def main() -> None:
    """Build the shapes, measure every command on each, write the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="sizes divided by 64, one run (CI smoke)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=BENCH / "hostile.md")
    parser.add_argument("--cache", type=Path, default=BENCH / "corpora" / "hostile")
    args = parser.parse_args()
    runs = 1 if args.quick else args.runs
    cache = args.cache / ("quick" if args.quick else "full")
    cache.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="mirror-hostile-") as tmp:
        work = Path(tmp)
        for shape in _shapes(args.quick):
            bundle = _built(shape, cache)
            for command in COMMANDS[:2] if shape.at_cap else COMMANDS:
                sample, message = _run(command, bundle, runs, work)
                rows.append((shape, bundle.stat().st_size, command, sample, message))
                print(f"{shape.name:>16} {shape.size:>12} {command:>8}: exit {sample.code}, {sample.wall:.2f} s "
                      f"({sample.cpu:.2f} s CPU), "
                      f"{(sample.peak_rss or 0) / MB:.1f} MB  {message[:70]}", flush=True)
    args.out.write_text(report(rows, runs), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
