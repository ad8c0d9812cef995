"""Downloads across bundles: `mirror fetch --parallel N` from a mirror that throttles each connection.

Usage::

    python bench/fetch_parallel.py                       # 4 bundles of about 320 kB, 500 kB/s per connection
    python bench/fetch_parallel.py --bundles 8 --rate 250000 --runs 3

A censor often throttles per connection rather than per user. The mirror here is the tests' HTTP server on
127.0.0.1 (tests/mirror_server.py), sending every bundle at `--rate` bytes per second on each connection; the
bundles are made and published to a folder with a throwaway key. Each `--parallel` value is run `--runs` times,
interleaved; the median wall time of the fetch (verification included) is printed per value.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "src")]

from click.testing import CliRunner  # noqa: E402

from conftest import invoke  # noqa: E402
from helpers import make_jpeg, make_sources  # noqa: E402
from mirror.bundle.create import CreateRequest, create_bundle  # noqa: E402
from mirror.trust.keyring import Keyring  # noqa: E402
from mirror_server import MirrorServer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bundles", type=int, default=4)
    parser.add_argument("--rate", type=int, default=500_000, help="bytes per second on each connection")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--parallel", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="fetch-parallel-"))
    ring = Keyring(root / "keys")
    ring.create("bench", None)
    secret = ring.secret("bench", None)
    host = root / "host"
    host.mkdir()
    (root / "mirror.toml").write_text(f'[publisher]\nkey = "bench"\n\n[hosts.a]\nurl = "{host}"\n')
    bundles = []
    for i in range(args.bundles):
        sources = make_sources(root / f"src{i}")
        (sources / "photos" / "large.jpg").write_bytes(make_jpeg(900, 700, seed=i, noisy=True))
        out = root / f"b{i}.7z"
        create_bundle(CreateRequest(sources, out, title=f"Bundle {i}"), secret)
        bundles.append(out)
    runner = CliRunner()
    assert invoke(runner, "publish", *bundles, "--config", root / "mirror.toml", "--keys", root / "keys")[0] == 0
    public = root / "bench.pub"
    public.write_text(ring.get("bench").public.to_text())
    reader = root / "reader"
    assert invoke(runner, "keys", "import", public, "--name", "bench", "--role", "author", "--role", "publisher",
                  "--keys", reader)[0] == 0
    total = sum(b.stat().st_size for b in bundles)
    times: dict[int, list[float]] = {n: [] for n in args.parallel}
    for run in range(args.runs):
        for n in args.parallel:
            with MirrorServer(host) as server:
                server.rates = {".7z": args.rate}
                started = time.monotonic()
                code, _, err = invoke(runner, "fetch", "--keys", reader, "--dest", root / f"in-{n}-{run}",
                                      "--mirror", server.url, "--parallel", str(n))
                times[n].append(time.monotonic() - started)
                assert code == 0, err
    print(f"{args.bundles} bundles, {total:,} bytes, {args.rate:,} bytes/s per connection, {args.runs} runs")
    for n, seconds in times.items():
        print(f"--parallel {n}: median {statistics.median(seconds):.2f} s "
              f"(range {min(seconds):.2f}-{max(seconds):.2f})")


if __name__ == "__main__":
    main()
