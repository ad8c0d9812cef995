"""Profile one `mirror` command: where the time goes (cProfile) and, optionally, where the memory peaks (tracemalloc).

Usage::

    python bench/profile_mirror.py --out /tmp/c.prof -- create bench/corpora/S -o /tmp/s.7z --key K --keys DIR --force
    python bench/profile_mirror.py --memory -- verify /tmp/m.7z --keys K
    python -m pstats /tmp/create.prof        # browse later

Prints the top functions by cumulative time (and by own time), the wall time and the peak RSS of this process.
With ``--memory``, no cProfile (it distorts timing); instead a thread samples the RSS every 10 ms and keeps the
main thread's Python stack each time it reaches a new high, so the report shows what the code was doing at the
peak (C-level buffers of lzma and py7zr included, which tracemalloc would not see).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

PAGE = os.sysconf("SC_PAGE_SIZE")


def _run_mirror(args: list[str]) -> int:
    from mirror.cli.app import main

    try:
        main.main(args=args, prog_name="mirror", standalone_mode=False)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def profile_time(args: list[str], out: Path | None, top: int) -> str:
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    code = _run_mirror(args)
    profiler.disable()
    wall = time.perf_counter() - start
    if out is not None:
        profiler.dump_stats(out)
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text).strip_dirs()
    print(f"mirror {' '.join(args)}\nexit {code}, {wall:.2f} s under cProfile, peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB\n", file=text)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return text.getvalue()


def _rss() -> int:
    with open("/proc/self/statm", "rb") as handle:
        return int(handle.read().split()[1]) * PAGE


def _where(frame: FrameType) -> str:
    innermost = f"{Path(frame.f_code.co_filename).name}:{frame.f_code.co_name}"
    current: FrameType | None = frame
    while current is not None:
        if f"{os.sep}mirror{os.sep}" in current.f_code.co_filename:
            own = f"{Path(current.f_code.co_filename).name}:{current.f_lineno}:{current.f_code.co_name}"
            return own if current is frame else f"{own} <- {innermost}"
        current = current.f_back
    return innermost


def profile_memory(args: list[str], top: int) -> str:
    """Sample this process's RSS every 10 ms; keep the main thread's Python stack at each new high."""
    main_thread = threading.main_thread().ident
    assert main_thread is not None
    peak_rss, peak_at, peak_stack = 0, 0.0, ""
    timeline: list[tuple[float, int]] = []
    places: dict[str, tuple[int, int]] = {}  # where the main thread was -> (highest RSS seen there, samples)
    stop = threading.Event()
    start = time.perf_counter()

    def sample() -> None:
        nonlocal peak_rss, peak_at, peak_stack
        while not stop.is_set():
            rss = _rss()
            now = time.perf_counter() - start
            if not timeline or abs(rss - timeline[-1][1]) > 8_000_000:
                timeline.append((now, rss))
            frame = sys._current_frames().get(main_thread)
            if frame is not None:
                where = _where(frame)
                high, count = places.get(where, (0, 0))
                places[where] = (max(high, rss), count + 1)
            if rss > peak_rss + 1_000_000:
                peak_rss, peak_at = rss, now
                peak_stack = "".join(traceback.format_stack(frame, limit=top)) if frame else ""
            stop.wait(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = _run_mirror(args)
    stop.set()
    sampler.join()
    wall = time.perf_counter() - start
    lines = [f"mirror {' '.join(args)}",
             f"exit {code}, {wall:.2f} s; peak RSS {peak_rss / 1e6:.1f} MB at {peak_at:.2f} s "
             f"(ru_maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)",
             "RSS over time (s: MB), where it moved by more than 8 MB (at most 60 points shown):",
             "  " + ", ".join(f"{t:.2f}: {r / 1e6:.0f}" for t, r in timeline[::max(len(timeline) // 60, 1)]),
             "Highest RSS seen while the main thread was in (innermost mirror function <- innermost function),"
             " with the number of 10 ms samples there:"]
    for where, (high, count) in sorted(places.items(), key=lambda item: -item[1][0])[:top]:
        lines.append(f"  {high / 1e6:7.1f} MB  {count:5d}  {where}")
    lines += ["Python stack of the main thread when RSS reached its peak:", peak_stack]
    return "\n".join(lines)


def _frame_name(frame: str) -> str:
    name, _, where = frame.rpartition(" (")
    return f"{name} ({where.rstrip(')').rsplit(':', 1)[0]})"


def profile_spy(args: list[str], top: int) -> str:
    """Sample the real, unprofiled run with py-spy (100 Hz, native code included); sum the samples by phase."""
    py_spy = shutil.which("py-spy")
    if py_spy is None:
        return "py-spy is not installed (pip install -r bench/requirements.txt)"
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "stacks.txt"
        start = time.perf_counter()
        subprocess.run([py_spy, "record", "-r", "100", "-f", "raw", "-o", str(raw), "--", sys.executable, "-m",
                        "mirror", *args], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        stacks = [line.rpartition(" ") for line in raw.read_text().splitlines() if line.strip()]
    total = sum(int(count) for _, _, count in stacks) or 1
    phase: dict[str, int] = {}
    leaf: dict[str, int] = {}
    for stack, _, count in stacks:
        frames = stack.split(";")
        ours = [f for f in frames if "(mirror/" in f and "mirror/cli" not in f and "__main__" not in f]
        # the phase: the first two levels below create_bundle / verify_bundle / extract_bundle
        key = " > ".join(_frame_name(f) for f in ours[:3]) if ours else "(start-up, imports, click)"
        phase[key] = phase.get(key, 0) + int(count)
        name = _frame_name(frames[-1])
        leaf[name] = leaf.get(name, 0) + int(count)
    lines = [f"mirror {' '.join(args)}", f"{wall:.2f} s under py-spy; {total} samples at 100 Hz", "",
             "Samples by phase (mirror's three outermost functions):"]
    def table(counts: dict[str, int]) -> list[str]:
        ranked = sorted(counts.items(), key=lambda item: -item[1])[:top]
        return [f"  {n * 100 / total:5.1f}%  {n / 100:6.2f} s  {k}" for k, n in ranked]

    lines += table(phase)
    lines += ["", "Samples by innermost function (where the CPU is):", *table(leaf)]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="write the cProfile stats here (for pstats or snakeviz)")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--memory", action="store_true",
                        help="instead of cProfile: sample RSS, show the Python stack at its peak")
    parser.add_argument("--spy", action="store_true",
                        help="instead of cProfile: py-spy samples an unprofiled run; time summed by phase")
    parser.add_argument("mirror_args", nargs=argparse.REMAINDER, help="-- then the mirror command line")
    args = parser.parse_args(argv)
    mirror_args = args.mirror_args[1:] if args.mirror_args[:1] == ["--"] else args.mirror_args
    if not mirror_args:
        parser.error("give the mirror command after --")
    if args.spy:
        report = profile_spy(mirror_args, args.top)
    elif args.memory:
        report = profile_memory(mirror_args, args.top)
    else:
        report = profile_time(mirror_args, args.out, args.top)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
