"""Smoke tests of the benchmarks: `bench/run.py --quick` (issue 6) and `bench/serve.py --quick` (issue 13) run end
to end and write their reports.

No timing is asserted: CI machines vary. The quick mode builds the tiny corpus (cached under
bench/corpora/tiny) and runs every command once; tools that are not installed are reported as skipped.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("## Targets", "## Machine", "## Method", "## Corpora", "## Create", "## Verify", "## Extract",
            "## Start-up", "## Summary of ratios", "## Chart")


def quick_report(script: str, folder: Path) -> str:
    """Run `bench/SCRIPT --quick` in `folder`; the report it wrote."""
    out = folder / "report.md"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / script), "--quick", "--out", str(out)],
                          cwd=folder, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return out.read_text()


def test_quick_benchmark_writes_every_section(tmp_path: Path) -> None:
    """`bench/run.py --quick` writes every section, every command's row and the targets."""
    report = quick_report("run.py", tmp_path)
    for heading in SECTIONS:
        assert heading in report, f"{heading} missing from the report"
    for row in ("**mirror create**", "**mirror verify**", "**mirror extract**", "**mirror --help**"):
        assert row in report, f"{row} missing from the report"
    assert "### Create: tiny" in report
    assert "`mirror --help` in under 0.3 s" in report  # the target line is there, PASS or FAIL
    assert "failed" not in report.lower(), report
    assert (tmp_path / "bench-results" / "tiny.json").exists()


def test_quick_serve_benchmark_compares_with_nginx(tmp_path: Path) -> None:
    """`bench/serve.py --quick` serves one bundle with nginx and `mirror serve` and writes the report and target."""
    report = quick_report("serve.py", tmp_path)
    assert "mirror serve's throughput at least half of nginx's" in report  # the target line, PASS or FAIL
    assert "| 4 | 2 | 0 |" in report and "Peak memory of the `mirror serve` process" in report


def test_hostile_benchmark_measures_every_shape(tmp_path: Path) -> None:
    """`bench/hostile.py --quick` builds every hostile shape and measures verify, extract and scan on each."""
    out = tmp_path / "hostile.md"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "hostile.py"), "--quick", "--out", str(out),
                           "--cache", str(tmp_path / "cache")], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    report = out.read_text()
    for shape in ("a duplicate at the end", "unlisted account", "1 GiB LZMA2 dictionary", "bundle.json signed by",
                  "ends before its declared size", "padded endorsement", "(the cap)", "99,998 files"):
        assert shape in report, shape
    rows = [line for line in report.splitlines() if line.startswith("| ") and "`" in line]
    assert len(rows) == 6 * 3 + 3 * 2 + 2 * 3  # six shapes x three commands, three at the caps x two; growth rows
    assert "## Growth" in report and "## Targets" in report


def test_floors_benchmark_runs_every_section(tmp_path: Path) -> None:
    """`bench/floors.py --quick` measures verify, extract, memory, start-up, publish and fetch against their floors."""
    out = tmp_path / "floors.md"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "floors.py"), "--quick", "--out", str(out),
                           "--corpora", str(tmp_path / "corpora")], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    report = out.read_text()
    for row in ("`openssl dgst -sha256`", "`mirror verify`", "`mirror extract`", "verify, 200 accounts",
                "`mirror verify (tiny)`", "`mirror publish, nothing new`", "`mirror fetch`", "`curl -o`"):
        assert row in report, row
