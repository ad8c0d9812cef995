"""Measure mirror against the tools a user would run instead, side by side, and write docs/performance.md.

Usage::

    python bench/run.py                          # S and many, 3 runs after a warm-up, report in docs/
    python bench/run.py --shapes M --runs 1 --no-warmup --exclude py7zr
    python bench/run.py --shapes S,M,many --report-only   # rebuild the report from bench/results/*.json
    python bench/run.py --quick --out /tmp/perf.md        # tiny corpus, every command once (CI smoke)

For each corpus shape (bench/corpus.py) it times, and samples the memory of, every command of four sections:

- create: ``mirror create`` vs ``7zz a -mx5``, ``7zz a -mx1``, py7zr with its default filters, ``tar | zstd -3``,
  and the floor, ``tar | cat`` (reading every file once);
- verify: ``mirror verify`` vs ``7zz t``, ``7zz x`` + ``sha256sum -c``, and ``sha256sum -c`` alone;
- extract: ``mirror extract`` vs ``7zz x``;
- start-up: ``mirror --help`` and ``mirror verify`` of a tiny bundle (against ``python -c pass``).

Each command runs as a subprocess; wall time is from spawn to reaping. Peak memory is the larger of (a) the
highest sum of resident set sizes of the process and all its descendants, sampled from /proc every 20 ms, and
(b) the largest VmHWM (per-process high-water mark, which starts afresh at exec) seen for any of them. Not
``ru_maxrss``: for a child forked from this Python it includes the parent's memory copied before exec. Each figure is
the median of ``--runs`` rounds; within a round the commands of a section run one after another, in the
opposite order every other round (A/B interleaved), after one warm-up round that is not counted. The page
cache cannot be dropped here, so every figure is warm-cache.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import CorpusInfo, ensure_corpus, load_info

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SAMPLE_SECONDS = 0.02
SECTIONS = ("create", "verify", "extract", "startup")
MB = 1_000_000


# ------------------------------------------------------------------------------------------ measuring one run

@dataclass(frozen=True, slots=True)
class Sample:
    """One run of one command."""

    wall: float  # seconds
    cpu: float  # user + system seconds of the process and its descendants
    peak_rss: int | None  # bytes; None if the command ended before the first 20 ms sample
    code: int


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


with open("/proc/self/cmdline", "rb") as _handle:
    _OWN_CMDLINE = _handle.read()


def _tree_memory(root: int, high_water: dict[int, int]) -> int:
    """Resident bytes of `root` and every descendant now (threads are inside their process's RSS).

    Also records each process's own high-water mark (VmHWM) in `high_water`: it starts afresh at exec, so
    unlike ``ru_maxrss`` it does not count the forking Python's memory, and it catches peaks between samples.
    """
    children = _children_map()
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                if handle.read() == _OWN_CMDLINE:  # forked but not yet exec'd: still our own memory
                    continue
            with open(f"/proc/{pid}/status", "rb") as handle:
                status = handle.read()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith(b"VmRSS:"):
                total += int(line.split()[1]) * 1024
            elif line.startswith(b"VmHWM:"):
                high_water[pid] = max(high_water.get(pid, 0), int(line.split()[1]) * 1024)
    return total


def measure(argv: Sequence[str], cwd: Path, env: dict[str, str]) -> tuple[Sample, str]:
    """Run `argv`, return its sample and the tail of its stderr."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(argv), cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err)
        peak = 0
        high_water: dict[int, int] = {}
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not stop.is_set():
                peak = max(peak, _tree_memory(proc.pid, high_water))
                stop.wait(SAMPLE_SECONDS)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        stop.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        tail = err.read()[-2000:].decode(errors="replace")
    rss = max(peak, *high_water.values()) if high_water else None  # None: done before the first sample
    return Sample(wall, usage.ru_utime + usage.ru_stime, rss, proc.returncode), tail


# ----------------------------------------------------------------------------------------------- the commands

@dataclass(slots=True)
class Context:
    """Paths and programs one shape's runs share."""

    corpus: Path
    work: Path
    keys: Path
    mirror: list[str]
    sevenzip: str | None
    zstd: str | None
    bundle: Path  # mirror's bundle of this corpus, made by the create section or before verify
    tiny_bundle: Path

    def path(self, name: str) -> Path:
        return self.work / name


@dataclass(slots=True)
class Command:
    """One contender: how to run it, what to clean before each run, what it writes."""

    name: str  # short, stable: used in results files and the chart
    label: str  # as shown in the report
    argv: Callable[[Context], list[str]]
    needs: tuple[str, ...] = ()  # "7zz", "zstd"
    before: Callable[[Context], None] | None = None
    output: Callable[[Context], Path] | None = None
    mirror: bool = False
    cwd: Callable[[Context], Path] | None = None  # default: the shape's work folder


def _rm(*names: str) -> Callable[[Context], None]:
    def clean(ctx: Context) -> None:
        for name in names:
            path = ctx.path(name)
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
    return clean


def _sh(script: str) -> list[str]:
    return ["bash", "-c", f"set -euo pipefail; {script}"]


def _q(path: Path | str) -> str:
    return "'" + str(path).replace("'", "'\\''") + "'"


def _commands() -> dict[str, list[Command]]:
    def z(ctx: Context) -> str:
        assert ctx.sevenzip is not None
        return ctx.sevenzip

    create = [
        Command("mirror", "mirror create",
                lambda c: [*c.mirror, "create", str(c.corpus), "-o", str(c.path("mirror.7z")), "--key", "bench",
                           "--keys", str(c.keys), "--force"],
                before=_rm("mirror.7z"), output=lambda c: c.path("mirror.7z"), mirror=True),
        Command("7zz-mx5", "7zz a -mx5", lambda c: [z(c), "a", "-mx5", "-bd", "-bso0", "-bsp0", str(c.path("mx5.7z")),
                                                    "accounts", "photos"], ("7zz",), _rm("mx5.7z"),
                lambda c: c.path("mx5.7z"), cwd=lambda c: c.corpus),
        Command("7zz-mx1", "7zz a -mx1", lambda c: [z(c), "a", "-mx1", "-bd", "-bso0", "-bsp0", str(c.path("mx1.7z")),
                                                    "accounts", "photos"], ("7zz",), _rm("mx1.7z"),
                lambda c: c.path("mx1.7z"), cwd=lambda c: c.corpus),
        Command("py7zr", "py7zr (default filters)",
                lambda c: [sys.executable, str(BENCH / "py7zr_create.py"), str(c.corpus), str(c.path("py7zr.7z"))],
                before=_rm("py7zr.7z"), output=lambda c: c.path("py7zr.7z")),
        Command("tar-zstd", "tar \\| zstd -3",
                lambda c: _sh(f"tar -C {_q(c.corpus)} -cf - accounts photos | {_q(c.zstd or 'zstd')} -3 -q -o "
                              f"{_q(c.path('out.tar.zst'))} -"), ("zstd",), _rm("out.tar.zst"),
                lambda c: c.path("out.tar.zst")),
        Command("read-floor", "tar \\| cat (reading the files: the floor)",
                lambda c: _sh(f"tar -C {_q(c.corpus)} -cf - accounts photos | cat > /dev/null")),
    ]
    verify = [
        Command("mirror", "mirror verify", lambda c: [*c.mirror, "verify", str(c.bundle), "--keys", str(c.keys)],
                mirror=True),
        Command("7zz-t", "7zz t", lambda c: [z(c), "t", "-bd", "-bso0", "-bsp0", str(c.bundle)], ("7zz",)),
        Command("7zz-x-sha256sum", "7zz x + sha256sum -c",
                lambda c: _sh(f"{_q(z(c))} x -y -bd -bso0 -bsp0 -o{_q(c.path('vx'))} {_q(c.bundle)}; "
                              f"cd {_q(c.path('vx'))}; sha256sum -c --quiet --strict .mirror/SHA256SUMS"),
                ("7zz",), _rm("vx")),
        Command("sha256sum", "sha256sum -c alone (extracted files)",
                lambda c: _sh(f"cd {_q(c.path('extracted'))}; sha256sum -c --quiet --strict .mirror/SHA256SUMS"),
                ("7zz",)),
    ]
    extract = [
        Command("mirror", "mirror extract",
                lambda c: [*c.mirror, "extract", str(c.bundle), str(c.path("mx")), "--keys", str(c.keys)],
                before=_rm("mx"), mirror=True),
        Command("7zz-x", "7zz x", lambda c: [z(c), "x", "-y", "-bd", "-bso0", "-bsp0", f"-o{c.path('zx')}",
                                             str(c.bundle)], ("7zz",), _rm("zx")),
    ]
    startup = [
        Command("mirror-help", "mirror --help", lambda c: [*c.mirror, "--help"], mirror=True),
        Command("mirror-verify-tiny", "mirror verify (tiny bundle)",
                lambda c: [*c.mirror, "verify", str(c.tiny_bundle), "--keys", str(c.keys)], mirror=True),
        Command("python", "python -c pass (floor)", lambda c: [sys.executable, "-c", "pass"]),
        Command("7zz-t-tiny", "7zz t (tiny bundle)", lambda c: [z(c), "t", "-bd", "-bso0", "-bsp0",
                                                                str(c.tiny_bundle)], ("7zz",)),
    ]
    return {"create": create, "verify": verify, "extract": extract, "startup": startup}


# ------------------------------------------------------------------------------------------- running a section

@dataclass(slots=True)
class Result:
    """Every counted run of one command, and what it wrote."""

    name: str
    label: str
    mirror: bool
    samples: list[Sample] = field(default_factory=list)
    output_bytes: int | None = None
    skipped: str | None = None
    failed: str | None = None

    def median(self, attribute: str) -> float | None:
        values = [getattr(s, attribute) for s in self.samples if getattr(s, attribute) is not None]
        return float(statistics.median(values)) if values else None


def run_section(commands: list[Command], ctx: Context, runs: int, warmup: bool, env: dict[str, str],
                exclude: set[str], log: Callable[[str], None]) -> list[Result]:
    """Run the commands of a section `runs` times, order reversed every other round; a warm-up round first."""
    results = {c.name: Result(c.name, c.label, c.mirror) for c in commands}
    active: list[Command] = []
    for command in commands:
        missing = [n for n in command.needs if (ctx.sevenzip if n == "7zz" else ctx.zstd) is None]
        if command.name in exclude:
            results[command.name].skipped = "excluded from this run (--exclude)"
        elif missing:
            results[command.name].skipped = f"{', '.join(missing)} not installed"
        else:
            active.append(command)
    rounds = runs + (1 if warmup else 0)
    for round_index in range(rounds):
        order = active if round_index % 2 == 0 else list(reversed(active))
        for command in order:
            result = results[command.name]
            if result.failed:
                continue
            if command.before:
                command.before(ctx)
            os.sync()  # untimed: flush what earlier runs wrote, so their writeback does not land in this run
            sample, err = measure(command.argv(ctx), command.cwd(ctx) if command.cwd else ctx.work, env)
            counted = round_index >= rounds - runs
            memory = f"{sample.peak_rss / MB:8.1f} MB" if sample.peak_rss is not None else "       - MB"
            log(f"  {command.label:<40} {sample.wall:8.2f} s {memory}"
                f"{'' if counted else '  (warm-up)'}{'' if sample.code == 0 else f'  exit {sample.code}'}")
            if sample.code != 0:
                result.failed = f"exit {sample.code}: {err.strip().splitlines()[-1] if err.strip() else ''}"
                continue
            if counted:
                result.samples.append(sample)
            if command.output:
                result.output_bytes = command.output(ctx).stat().st_size
    return [results[c.name] for c in commands]


# ------------------------------------------------------------------------------------------------- the machine

def _first_line(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "not installed"
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    return lines[0] if lines else "unknown"


def machine_info(sevenzip: str | None, zstd: str | None) -> dict[str, str]:
    cpu = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "unknown"
    with contextlib.suppress(OSError), open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    commit = _first_line(["git", "-C", str(ROOT), "describe", "--always", "--dirty"])
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "ram": ram,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "mirror": _version("mirror"),
        "py7zr": _version("py7zr"),
        "7zz": _first_line([sevenzip]) if sevenzip else "not installed",
        "zstd": _first_line([zstd, "--version"]) if zstd else "not installed",
        "commit": commit,
    }


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def mirror_command() -> list[str]:
    """The installed `mirror` script next to this Python (not a pyenv shim, which adds its own start-up)."""
    beside = Path(sys.executable).parent / "mirror"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("mirror")
    return [found] if found else [sys.executable, "-m", "mirror"]


# --------------------------------------------------------------------------------------------------- one shape

def bench_shape(info: CorpusInfo, sections: list[str], runs: int, warmup: bool, exclude: set[str],
                base: Context, env: dict[str, str], log: Callable[[str], None]) -> dict[str, object]:
    work = Path(tempfile.mkdtemp(prefix=f"{info.shape}-", dir=base.work))
    ctx = Context(info.path, work, base.keys, base.mirror, base.sevenzip, base.zstd, work / "mirror.7z",
                  base.tiny_bundle)
    commands = _commands()
    out: dict[str, object] = {"shape": info.shape, "corpus": asdict(info) | {"path": str(info.path)},
                              "sections": {}, "section_runs": {}}
    sections_out: dict[str, object] = {}
    section_runs: dict[str, object] = {}
    try:
        for section in sections:
            if section == "startup":
                continue
            log(f"{info.shape} / {section}")
            if section in ("verify", "extract") and not ctx.bundle.exists():
                subprocess.run(commands["create"][0].argv(ctx), check=True, env=env, cwd=work,
                               stdout=subprocess.DEVNULL)
            if section == "verify" and ctx.sevenzip:
                subprocess.run([ctx.sevenzip, "x", "-y", "-bd", "-bso0", "-bsp0", f"-o{work / 'extracted'}",
                                str(ctx.bundle)], check=True, env=env)
            results = run_section(commands[section], ctx, runs, warmup, env, exclude, log)
            sections_out[section] = [_result_json(r) for r in results]
            section_runs[section] = {"runs": runs, "warmup": warmup, "date": datetime.now(UTC).strftime("%Y-%m-%d")}
            if section == "create":  # outputs of the others are large; only mirror's is used later
                for name in ("mx5.7z", "mx1.7z", "py7zr.7z", "out.tar.zst"):
                    ctx.path(name).unlink(missing_ok=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out["sections"] = sections_out
    out["section_runs"] = section_runs
    return out


def save_results(path: Path, data: dict[str, object]) -> dict[str, object]:
    """Write one shape's results, keeping sections of an earlier run of the same corpus not measured now."""
    if path.exists():
        old = json.loads(path.read_text())
        if old.get("corpus") == data["corpus"]:
            sections, runs = data["sections"], data["section_runs"]
            assert isinstance(sections, dict) and isinstance(runs, dict)
            for section, rows in old.get("sections", {}).items():
                if section not in sections:
                    sections[section] = rows
                    runs[section] = old.get("section_runs", {}).get(section) or {
                        "runs": old.get("runs"), "warmup": old.get("warmup")}
    path.write_text(json.dumps(data, indent=1) + "\n")
    return data


def _result_json(result: Result) -> dict[str, object]:
    data: dict[str, object] = {"name": result.name, "label": result.label, "mirror": result.mirror,
                               "samples": [asdict(s) for s in result.samples], "output_bytes": result.output_bytes,
                               "skipped": result.skipped, "failed": result.failed}
    if result.samples:
        data.update(wall=result.median("wall"), cpu=result.median("cpu"), peak_rss=result.median("peak_rss"))
    return data


# ------------------------------------------------------------------------------------------------- the report

Row = dict[str, object]


def _row(results: list[Row], name: str) -> Row | None:
    return next((r for r in results if r["name"] == name and "wall" in r), None)


def _num(row: Row | None, key: str) -> float | None:
    if row is None or row.get(key) is None:
        return None
    value = row[key]
    assert isinstance(value, int | float)
    return float(value)


def _fmt_s(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 10 else f"{value:.1f}"


def _fmt_mb(value: float | None) -> str:
    return "-" if value is None else f"{value / MB:.1f}" if value < 100 * MB else f"{value / MB:.0f}"


def _fmt_x(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def section_table(results: list[Row], with_size: bool) -> list[str]:
    mirror = next((r for r in results if r.get("mirror") and "wall" in r), None)
    head = "| command | median s | range s | time ÷ mirror's | CPU s | peak RSS MB |"
    rule = "|---|---:|---:|---:|---:|---:|"
    if with_size:
        head += " output MB | size ÷ mirror's |"
        rule += "---:|---:|"
    lines = [head, rule]
    for row in results:
        label = str(row["label"])
        if "wall" not in row:
            why = row.get("failed") or row.get("skipped") or "no run"
            lines.append(f"| {label} | {why} |" + " |" * (6 if with_size else 4))
            continue
        samples = row["samples"]
        assert isinstance(samples, list)
        walls = [float(s["wall"]) for s in samples]
        wall = _num(row, "wall")
        base = _num(mirror, "wall")
        ratio = wall / base if wall is not None and base else None
        cells = [f"**{label}**" if row.get("mirror") else label, _fmt_s(wall),
                 f"{_fmt_s(min(walls))}-{_fmt_s(max(walls))}", _fmt_x(ratio), _fmt_s(_num(row, "cpu")),
                 _fmt_mb(_num(row, "peak_rss"))]
        if with_size:
            size, mirror_size = _num(row, "output_bytes"), _num(mirror, "output_bytes")
            cells += [_fmt_mb(size), _fmt_x(size / mirror_size if size is not None and mirror_size else None)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


@dataclass(slots=True)
class Target:
    """One target of issue 6 and how it came out."""

    text: str
    passed: bool | None  # None: not measured
    measured: str


def evaluate_targets(shapes: dict[str, dict[str, object]], startup: list[Row] | None) -> list[Target]:
    def rows(shape: str, section: str) -> list[Row]:
        sections = shapes.get(shape, {}).get("sections", {})
        assert isinstance(sections, dict)
        found = sections.get(section, [])
        assert isinstance(found, list)
        return found

    targets: list[Target] = []
    create_s = rows("S", "create")
    m, z = _row(create_s, "mirror"), _row(create_s, "7zz-mx5")
    if m and z:
        speed = _num(z, "wall") / _num(m, "wall")  # type: ignore[operator]
        size = _num(m, "output_bytes") / _num(z, "output_bytes")  # type: ignore[operator]
        targets.append(Target("create on S at least 6x faster than `7zz a -mx5`", speed >= 6,
                              f"{speed:.2f}x faster ({_fmt_s(_num(m, 'wall'))} s vs {_fmt_s(_num(z, 'wall'))} s)"))
        targets.append(Target("create on S: output within 3% of `7zz a -mx5`'s size", size <= 1.03,
                              f"{(size - 1) * 100:+.1f}% ({_fmt_mb(_num(m, 'output_bytes'))} MB vs "
                              f"{_fmt_mb(_num(z, 'output_bytes'))} MB)"))
    else:
        targets.append(Target("create on S at least 6x faster than `7zz a -mx5`, within 3% of its size", None,
                              "S not measured"))
    verify_m = rows("M", "verify")
    m, x, t, s = (_row(verify_m, n) for n in ("mirror", "7zz-x-sha256sum", "7zz-t", "sha256sum"))
    if m and x:
        ratio = _num(x, "wall") / _num(m, "wall")  # type: ignore[operator]
        extra = ""
        if t and s:
            both = _num(t, "wall") + _num(s, "wall")  # type: ignore[operator]
            extra = f"; vs `7zz t` + `sha256sum -c` run separately ({_fmt_s(both)} s): {both / _num(m, 'wall'):.2f}x"  # type: ignore[operator]
        targets.append(Target("verify on M at least as fast as `7zz x` + `sha256sum -c`", ratio >= 1,
                               f"{ratio:.2f}x ({_fmt_s(_num(m, 'wall'))} s vs {_fmt_s(_num(x, 'wall'))} s){extra}"))
    else:
        targets.append(Target("verify on M at least as fast as `7zz x` + `sha256sum -c`", None, "M not measured"))
    for section in ("create", "verify"):
        peaks = {shape: _num(_row(rows(shape, section), "mirror"), "peak_rss") for shape in ("S", "M", "many")}
        for shape, peak in peaks.items():
            if peak is not None:
                targets.append(Target(f"peak memory of `mirror {section}` on {shape} at most 150 MB",
                                      peak <= 150 * MB, f"{peak / MB:.1f} MB"))
        if peaks["S"] is not None and peaks["M"] is not None:
            growth = peaks["M"] / peaks["S"]
            targets.append(Target(f"peak memory of `mirror {section}` on M within 20% of S", growth <= 1.2,
                                  f"M is {(growth - 1) * 100:+.0f}% of S ({peaks['M'] / MB:.1f} vs "
                                  f"{peaks['S'] / MB:.1f} MB)"))
    create_many = rows("many", "create")
    m, z = _row(create_many, "mirror"), _row(create_many, "7zz-mx5")
    if m and z:
        slower = _num(m, "wall") / _num(z, "wall")  # type: ignore[operator]
        size = _num(m, "output_bytes") / _num(z, "output_bytes")  # type: ignore[operator]
        targets.append(Target("create on many (20,000 accounts) within 2x of `7zz a -mx5`'s time", slower <= 2,
                              f"{slower:.2f}x its time ({_fmt_s(_num(m, 'wall'))} s vs {_fmt_s(_num(z, 'wall'))} s)"))
        targets.append(Target("create on many within 25% of `7zz a -mx5`'s size", size <= 1.25,
                              f"{(size - 1) * 100:+.1f}% ({_fmt_mb(_num(m, 'output_bytes'))} MB vs "
                              f"{_fmt_mb(_num(z, 'output_bytes'))} MB)"))
    else:
        targets.append(Target("create on many within 2x of `7zz a -mx5`'s time and 25% of its size", None,
                              "many not measured"))
    targets += _create_targets(rows)
    for shape in ("M", "many100k"):
        m, x = _row(rows(shape, "extract"), "mirror"), _row(rows(shape, "extract"), "7zz-x")
        if m and x:
            ratio = _num(m, "wall") / _num(x, "wall")  # type: ignore[operator]
            targets.append(Target(f"extract on {shape} at most 1.2x the time of `7zz x`", ratio <= 1.2,
                                  f"{ratio:.2f}x ({_fmt_s(_num(m, 'wall'))} s vs {_fmt_s(_num(x, 'wall'))} s)"))
    tiny = _row(startup or [], "mirror-verify-tiny")
    if tiny:
        wall = _num(tiny, "wall")
        assert wall is not None
        targets.append(Target("`mirror verify` of a tiny bundle in under 0.06 s", wall < 0.06, f"{wall:.3f} s"))
    help_row = _row(startup or [], "mirror-help")
    if help_row:
        wall = _num(help_row, "wall")
        assert wall is not None
        targets.append(Target("`mirror --help` in under 0.3 s", wall < 0.3, f"{wall:.3f} s"))
    else:
        targets.append(Target("`mirror --help` in under 0.3 s", None, "start-up not measured"))
    return targets


def _create_targets(rows: Callable[[str, str], list[Row]]) -> list[Target]:
    """Create: text against 7-Zip (time of -mx1, size of -mx5), photos against tar | zstd, memory at a million."""
    targets: list[Target] = []
    for shape, label in (("many10k", "10,000"), ("many100k", "100,000")):
        found = rows(shape, "create")
        m, fast, small = (_row(found, n) for n in ("mirror", "7zz-mx1", "7zz-mx5"))
        if m and fast:
            ratio = _num(m, "wall") / _num(fast, "wall")  # type: ignore[operator]
            targets.append(Target(f"create of {label} accounts at most 1.5x the time of `7zz a -mx1`", ratio <= 1.5,
                                  f"{ratio:.2f}x ({_fmt_s(_num(m, 'wall'))} s vs {_fmt_s(_num(fast, 'wall'))} s)"))
        if m and small:
            size = _num(m, "output_bytes") / _num(small, "output_bytes")  # type: ignore[operator]
            targets.append(Target(f"create of {label} accounts within 10% of `7zz a -mx5`'s size", size <= 1.10,
                                  f"{(size - 1) * 100:+.1f}% ({_fmt_mb(_num(m, 'output_bytes'))} MB vs "
                                  f"{_fmt_mb(_num(small, 'output_bytes'))} MB)"))
    for shape in ("S", "M"):
        found = rows(shape, "create")
        m, zst = _row(found, "mirror"), _row(found, "tar-zstd")
        if m and zst:
            ratio = _num(m, "wall") / _num(zst, "wall")  # type: ignore[operator]
            targets.append(Target(f"create on {shape} (photos and accounts) at most 1.5x the time of `tar | zstd -3`",
                                  ratio <= 1.5, f"{ratio:.2f}x ({_fmt_s(_num(m, 'wall'))} s vs "
                                  f"{_fmt_s(_num(zst, 'wall'))} s)"))
            peak = _num(m, "peak_rss")
            if peak is not None:
                targets.append(Target(f"peak memory of `mirror create` on {shape} under 100 MB", peak < 100 * MB,
                                      f"{peak / MB:.1f} MB"))
    m = _row(rows("many1m", "create"), "mirror")
    if m:
        peak = _num(m, "peak_rss")
        ok = m.get("failed") is None and peak is not None and peak < 200 * MB
        targets.append(Target("create of 1,000,000 accounts succeeds under 200 MB", ok,
                              f"{_fmt_s(_num(m, 'wall'))} s, {_fmt_mb(peak)} MB" if peak else str(m.get("failed"))))
    return targets


def target_lines(targets: list[Target]) -> list[str]:
    word = {True: "PASS", False: "FAIL", None: "NOT MEASURED"}
    return [f"{word[t.passed]}  {t.text}: {t.measured}" for t in targets]


def write_chart(shapes: dict[str, dict[str, object]], path: Path) -> str | None:
    """A PNG of median times and peak memory per section and shape; None if matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FuncFormatter, NullFormatter
    except ImportError:
        return "matplotlib is not installed (pip install -r bench/requirements.txt): no chart"
    sections = [s for s in ("create", "verify", "extract")
                if any(s in d.get("sections", {}) for d in shapes.values())]  # type: ignore[operator]
    if not sections:
        return "nothing to chart"
    fig, axes = plt.subplots(2, len(sections), figsize=(5.2 * len(sections), 7.5), squeeze=False)
    for col, section in enumerate(sections):
        shape_names = [s for s in shapes if section in shapes[s].get("sections", {})]  # type: ignore[operator]
        names: list[str] = []
        labels: dict[str, str] = {}
        for shape in shape_names:
            for row in shapes[shape]["sections"][section]:  # type: ignore[index]
                if row["name"] not in names:
                    names.append(row["name"])
                    labels[row["name"]] = str(row["label"]).replace("\\|", "|")
        width = 0.8 / max(len(names), 1)
        palette = iter(["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#7f7f7f", "#17becf"])
        colours = {name: "#c0392b" if name.startswith("mirror") else next(palette) for name in names}
        for metric_row, (metric, scale, unit) in enumerate((("wall", 1.0, "s"), ("peak_rss", MB, "MB"))):
            ax = axes[metric_row][col]
            for i, name in enumerate(names):
                values = []
                for shape in shape_names:
                    row = _row(shapes[shape]["sections"][section], name)  # type: ignore[index]
                    value = _num(row, metric)
                    values.append(value / scale if value is not None else 0.0)
                xs = [j + (i - (len(names) - 1) / 2) * width for j in range(len(shape_names))]
                ax.bar(xs, values, width, label=labels[name], color=colours[name])
            ax.set_xticks(range(len(shape_names)), shape_names)
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.yaxis.set_minor_formatter(NullFormatter())
            if metric == "peak_rss" and section in ("create", "verify"):
                ax.axhline(150, color="#c0392b", linestyle="--", linewidth=1)
                ax.text(0.99, 150 * 1.04, "target: 150 MB", color="#c0392b", fontsize=7, ha="right",
                        transform=ax.get_yaxis_transform())
            ax.set_title(f"{section}: {'median wall time' if metric == 'wall' else 'peak RSS'} ({unit})")
            ax.grid(axis="y", alpha=0.3)
            if metric_row == 0:
                ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return None


def _runs_note(data: dict[str, object], section: str) -> str:
    runs = data.get("section_runs", {})
    assert isinstance(runs, dict)
    info = runs.get(section) or {"runs": data.get("runs"), "warmup": data.get("warmup")}
    count = info.get("runs")
    warm = "after one uncounted warm-up round" if info.get("warmup") else "no warm-up round"
    when = f", measured {info['date']}" if info.get("date") else ""
    return f"Median of {count} run{'s' if count != 1 else ''}, {warm}{when}."


def write_report(out: Path, shapes: dict[str, dict[str, object]], startup: dict[str, object] | None,
                 machine: dict[str, str], targets: list[Target], notes: Path | None) -> None:
    chart = out.with_suffix(".png")
    chart_problem = write_chart(shapes, chart)
    lines = ["# Performance", "",
             "`mirror` measured side by side with what a user would run instead (issues 6 and 16), on the machine",
             "below. Generated by `python bench/run.py` (see bench/README.md); figures are medians of several runs.",
             "", "## Targets", "", "From issues 6 and 16, each with the measured figure (verify, publish and fetch",
             "against the floors: [below](#verify-extract-publish-and-fetch-against-the-floors)):", "", "```",
             *target_lines(targets), "```", ""]
    if notes is not None and notes.exists():
        lines += ["Where the time and memory go, and what would fix each FAIL: "
                  "[Findings and profiles](#findings-and-profiles) below.", ""]
    lines += ["## Machine", "", "| | |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in machine.items()]
    lines += ["", "## Method", "",
              "- Every command runs as a subprocess of `bench/run.py`. Wall time: from spawn to reaping.",
              "- Peak memory: the larger of (a) the highest sum of the resident set sizes (`VmRSS` in",
              "  `/proc/PID/status`) of the process and all its descendants, sampled every 20 ms (threads, like",
              "  7-Zip's, are inside their process's RSS; a pipeline's processes are summed), and (b) the largest",
              "  `VmHWM` (a process's own high-water mark since its exec, so it catches a peak between two samples)",
              "  of any process in the tree. Not `ru_maxrss`: for a child forked from the benchmark's Python it",
              "  counts the parent's pages too. `-` means the command ended before the first sample.",
              "- CPU s: user + system time of the command and its children (above wall time = several cores).",
              "- Each figure is the median of N runs (N is given above each table); the commands of a section",
              "  alternate order every round (A B C, C B A, ...), after one uncounted warm-up round unless the",
              "  table says otherwise. Before each run, the previous output is removed and `sync` flushes the",
              "  disk (both untimed), so one run's writeback does not land in the next.",
              "  The page cache cannot be dropped on this machine, so all figures are warm-cache: sources and",
              "  bundles are read from memory, and outputs go to the page cache of the same disk.",
              "- Ratios are `time ÷ mirror's time`: above 1 means `mirror` is faster.",
              "- verify competitors run on `mirror`'s own bundle; `sha256sum -c alone` checks a copy extracted before",
              "  the runs, so `7zz t` + `sha256sum -c alone` is the cost of the two jobs done separately.", ""]
    lines += ["## Corpora", "", "Made by `bench/corpus.py` (deterministic; see bench/README.md).", "",
              "| shape | files | photos | accounts | photo MB | account MB | total MB |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for shape, data in shapes.items():
        c = data["corpus"]
        assert isinstance(c, dict)
        lines.append(f"| {shape} | {c['files']} | {c['photos']} | {c['accounts']} | {c['photo_bytes'] / MB:.1f} | "
                     f"{c['account_bytes'] / MB:.1f} | {c['bytes'] / MB:.1f} |")
    lines.append("")
    titles = {"create": "Create", "verify": "Verify", "extract": "Extract"}
    for section, title in titles.items():
        lines += [f"## {title}", ""]
        present = False
        for shape, data in shapes.items():
            sections = data["sections"]
            assert isinstance(sections, dict)
            if section in sections:
                present = True
                lines += [f"### {title}: {shape}", "", _runs_note(data, section), "",
                          *section_table(sections[section], section == "create"), ""]
        if not present:
            lines += ["Not measured in this run.", ""]
    lines += ["## Start-up", ""]
    if startup:
        rows = startup["results"]
        assert isinstance(rows, list)
        lines += [f"Median of {startup['runs']} runs.", "", *section_table(rows, False), ""]
    else:
        lines += ["Not measured in this run.", ""]
    lines += ["## Summary of ratios", "", "| shape | create: `7zz a -mx5` time | create: `7zz a -mx5` size | verify: "
              "`7zz x` + `sha256sum -c` | verify: `7zz t` | extract: `7zz x` |", "|---|---:|---:|---:|---:|---:|"]
    for shape, data in shapes.items():
        sections = data["sections"]
        assert isinstance(sections, dict)

        def ratio(section: str, name: str, key: str = "wall", sections: dict[str, object] = sections) -> str:
            rows = sections.get(section, [])
            assert isinstance(rows, list)
            a, b = _num(_row(rows, name), key), _num(_row(rows, "mirror"), key)
            return _fmt_x(a / b) if a is not None and b else "-"

        lines.append(f"| {shape} | {ratio('create', '7zz-mx5')} | {ratio('create', '7zz-mx5', 'output_bytes')}"
                     f" | {ratio('verify', '7zz-x-sha256sum')} | {ratio('verify', '7zz-t')} | "
                     f"{ratio('extract', '7zz-x')} |")
    lines += ["", "Each cell is the competitor's figure ÷ `mirror`'s: for time, above 1 means `mirror` is faster; for "
              "size, below 1 means `mirror`'s bundle is bigger.", "", "## Chart", ""]
    lines += [f"_{chart_problem}_" if chart_problem else f"![median times and peak memory]({chart.name})", ""]
    floors = BENCH / "floors.md"  # bench/floors.py's last report: verify, extract, publish and fetch vs the floors
    if floors.exists():
        lines += [floors.read_text().rstrip(), ""]
    if notes is not None and notes.exists():
        lines += [notes.read_text().rstrip(), ""]
    out.write_text("\n".join(lines))


# -------------------------------------------------------------------------------------------------------- main

def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--shapes", default="S,many", help="comma-separated: tiny, S, M, many, many10k, many100k, "
                        "many1m (default S,many)")
    parser.add_argument("--runs", type=int, default=3, help="counted runs per command (median; default 3)")
    parser.add_argument("--no-warmup", action="store_true", help="skip the uncounted warm-up round")
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated: {', '.join(SECTIONS)}")
    parser.add_argument("--exclude", default="", help="commands to leave out, e.g. py7zr (slow on M)")
    parser.add_argument("--quick", action="store_true", help="tiny corpus, every command once (CI smoke)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "performance.md", help="the report to write")
    parser.add_argument("--results", type=Path, help="where per-shape JSON goes (default bench/results; "
                        "with --quick, beside --out)")
    parser.add_argument("--report-only", action="store_true", help="measure nothing; report from saved results")
    parser.add_argument("--notes", type=Path, default=BENCH / "analysis.md",
                        help="markdown appended to the report (profiles, findings)")
    args = parser.parse_args(argv)
    if args.quick:
        args.shapes, args.runs, args.no_warmup = "tiny", 1, True
    shapes = [s for s in args.shapes.split(",") if s]
    sections = [s for s in args.sections.split(",") if s]
    exclude = {s for s in args.exclude.split(",") if s}
    results_dir: Path = args.results or (args.out.parent / "bench-results" if args.quick else BENCH / "results")
    results_dir.mkdir(parents=True, exist_ok=True)
    sevenzip, zstd = shutil.which("7zz"), shutil.which("zstd")
    machine = machine_info(sevenzip, zstd)
    started = time.perf_counter()

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    measured: dict[str, dict[str, object]] = {}
    startup: dict[str, object] | None = None
    if not args.report_only:
        env = {k: v for k, v in os.environ.items() if k not in ("MIRROR_KEYS", "MIRROR_PASSPHRASE",
                                                                 "PYTHONDONTWRITEBYTECODE")}
        env["LC_ALL"] = "C.UTF-8"
        work = Path(tempfile.mkdtemp(prefix="mirror-bench-"))
        # Compiled once, in the warm-up, as an installed mirror is (pip writes the .pyc files): without them every
        # start-up compiles each module again, about 40 ms of a tiny verify. Kept out of the source tree.
        env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        try:
            keys = work / "keys"
            base = Context(work, work, keys, mirror_command(), sevenzip, zstd, work / "none.7z", work / "tiny.7z")
            subprocess.run([*base.mirror, "keys", "new", "bench", "--no-passphrase", "--keys", str(keys)],
                           check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            tiny = ensure_corpus("tiny", quiet=True)
            subprocess.run([*base.mirror, "create", str(tiny.path), "-o", str(base.tiny_bundle), "--key", "bench",
                            "--keys", str(keys)], check=True, env=env, stdout=subprocess.DEVNULL)
            for shape in shapes:
                info = ensure_corpus(shape)
                data = bench_shape(info, sections, args.runs, not args.no_warmup, exclude, base, env, log)
                data["machine"] = machine
                measured[shape] = save_results(results_dir / f"{shape}.json", data)
            if "startup" in sections:
                log("start-up")
                runs = max(args.runs, 5) if not args.quick else 1
                rows = run_section(_commands()["startup"], base, runs, not args.no_warmup, env, exclude, log)
                startup = {"runs": runs, "results": [_result_json(r) for r in rows], "machine": machine}
                (results_dir / "startup.json").write_text(json.dumps(startup, indent=1) + "\n")
        finally:
            shutil.rmtree(work, ignore_errors=True)
    report_shapes: dict[str, dict[str, object]] = {}
    for shape in shapes:
        if shape in measured:
            report_shapes[shape] = measured[shape]
        elif (results_dir / f"{shape}.json").exists():
            report_shapes[shape] = json.loads((results_dir / f"{shape}.json").read_text())
    if startup is None and (results_dir / "startup.json").exists() and "startup" in sections:
        startup = json.loads((results_dir / "startup.json").read_text())
    if args.report_only and report_shapes:
        machine = next(iter(report_shapes.values())).get("machine", machine)  # type: ignore[assignment]
    startup_rows = startup["results"] if startup else None
    targets = evaluate_targets(report_shapes, startup_rows)  # type: ignore[arg-type]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_report(args.out, report_shapes, startup, machine, targets, None if args.quick else args.notes)
    for line in target_lines(targets):
        print(line)
    print(f"report: {args.out} ({time.perf_counter() - started:.1f} s)")
    for shape in shapes:
        if load_info(shape) is None and shape not in report_shapes:
            print(f"note: no results for {shape}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
