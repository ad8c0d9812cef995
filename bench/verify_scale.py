"""Peak memory and time of verify as the member count grows: 20,000, 100,000 and 1,000,000 tiny members.

Usage::

    python bench/verify_scale.py                        # 20,000 and 100,000 members, 3 runs each
    python bench/verify_scale.py --sizes 1000000 --runs 1
    python bench/verify_scale.py --one BUNDLE          # one verify in this process: prints JSON (used per run)

The bundles are built without `mirror create`: the signed files (format 2, with a tiny reader's page)
signed by the published golden test key (tests/data/make_golden.py), then one account of a dozen bytes per
member, written with sevenzip/writer.py's ArchiveWriter. They are cached under bench/corpora/scale/.

The shipped caps of docs/format.md ("Bounds") fit 1,000,000 members since they were raised (they were 120,000
members, SHA256SUMS 20 MiB, bundle.json 40 MiB, a 7z header of 32 MiB). Each run still verifies with caps raised
to fit 2,000,000 (`bench_limits`), so that the same measurement runs on an older tree for a comparison.

Each verify runs in its own process (`--one`): peak RSS is that process's ru_maxrss, the time its wall time
from the call of verify_bundle (imports excluded), and the whole process's wall time beside it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT / "tests" / "data"))

from make_golden import golden_secret  # noqa: E402

from mirror.formats.manifest import (  # noqa: E402
    MAX_MEMBERS,
    PAGE_NAME,
    PAGE_TYPE,
    V2,
    BundleMeta,
    FileMeta,
    Sums,
    trusted_comment,
)
from mirror.formats.minisign import key_id_hex  # noqa: E402
from mirror.sevenzip import Limits  # noqa: E402
from mirror.sevenzip.writer import ArchiveWriter  # noqa: E402

CACHE = BENCH / "corpora" / "scale"
SIZES = (20_000, 100_000)
PAGE = b"<!doctype html><title>scale</title>\n"


def build(path: Path, members: int) -> Path:
    """A signed bundle of `members` accounts of a dozen bytes (plus the page and the four signed files)."""
    secret = golden_secret()
    public = secret.public
    names = [f"accounts/{i:07d}.md" for i in range(members)]
    data = [f"account {i}\n".encode() for i in range(members)]
    files = {name: FileMeta(len(body), "text/markdown") for name, body in zip(names, data, strict=True)}
    files[PAGE_NAME] = FileMeta(len(PAGE), PAGE_TYPE)
    meta = BundleMeta(f"scale{members:010d}", 1, f"{members} tiny accounts", "2026-12-01T00:00:00Z", ("en",),
                      key_id_hex(public.key_id), files, format=V2.format)
    meta_bytes, key_bytes = meta.to_bytes(), public.to_text().encode()
    digests = {name: hashlib.sha256(body).hexdigest() for name, body in zip(names, data, strict=True)}
    digests |= {PAGE_NAME: hashlib.sha256(PAGE).hexdigest(), V2.meta: hashlib.sha256(meta_bytes).hexdigest(),
                V2.author_key: hashlib.sha256(key_bytes).hexdigest()}
    sums = Sums(digests).to_bytes()
    signature = secret.sign(sums, trusted_comment(meta.bundle_id, meta.version)).to_bytes()
    tmp = path.with_suffix(".tmp")
    with ArchiveWriter.create(tmp) as writer:
        writer.add_block([(V2.sums, sums), (V2.sig, signature), (V2.author_key, key_bytes), (V2.meta, meta_bytes)])
        writer.add_texts([(PAGE_NAME, PAGE), *zip(names, data, strict=True)])
    tmp.rename(path)
    return path


def bundle_for(members: int) -> Path:
    """The cached bundle of `members` members, built if missing."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"scale-{members}.7z"
    return path if path.exists() else build(path, members)


def bench_limits() -> Limits:
    """Caps raised to fit 1,000,000 tiny members: for this measurement only, never shipped."""
    fields = getattr(Limits, "__record_fields__", None) or getattr(Limits, "__dataclass_fields__", ())  # then
    raised = {"max_members": 2_000_000, "max_header": 256 << 20}
    if "max_sums_bytes" in fields:  # the caps of the signed lists travel in Limits
        raised |= {"max_sums_bytes": 256 << 20, "max_meta_bytes": 256 << 20}
    else:  # an older tree: they are module constants
        import mirror.bundle.verify as verify
        import mirror.formats.manifest as manifest

        manifest.MAX_MEMBERS, manifest.MAX_SUMS_BYTES, manifest.MAX_META_BYTES = 2_000_000, 256 << 20, 256 << 20
        verify.CONTROL_CAPS[manifest.SUMS_NAME] = verify.CONTROL_CAPS[manifest.META_NAME] = 256 << 20
    return Limits(**raised)


def one(path: Path) -> dict[str, object]:
    """Verify `path` in this process; its time, peak RSS and what it found."""
    from mirror.bundle.verify import verify_bundle

    limits = bench_limits()
    start = time.perf_counter()
    verified = verify_bundle(path, None, limits)
    wall = time.perf_counter() - start
    return {"seconds": round(wall, 3), "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "members": len(verified.members), "trusted": verified.trusted}


def _run(path: Path) -> dict[str, object]:
    start = time.perf_counter()
    out = subprocess.run([sys.executable, __file__, "--one", str(path)], check=True, capture_output=True, text=True)
    result: dict[str, object] = json.loads(out.stdout)
    result["process_seconds"] = round(time.perf_counter() - start, 3)
    return result


def main() -> None:
    """Build what is missing, then verify each size `--runs` times in a fresh process; print medians."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--one", type=Path, help="verify this bundle once, here; print JSON")
    parser.add_argument("--build", type=int, help="build the bundle of this many members, here")
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(one(args.one)))
        return
    if args.build is not None:
        bundle_for(args.build)
        return
    print(f"shipped member cap {MAX_MEMBERS:,}; runs over it use bench_limits()")
    print("| members | bundle MB | verify s | process s | peak RSS MB | bytes per member above 20k |")
    print("|---:|---:|---:|---:|---:|---:|")
    base: tuple[int, float] | None = None
    for members in args.sizes:
        # Built in a process of its own: Linux hands a parent's peak RSS on to the processes it starts (through
        # fork and exec), so a verify started by a process that built a large bundle would report that peak.
        subprocess.run([sys.executable, __file__, "--build", str(members)], check=True)
        path = bundle_for(members)
        runs = [_run(path) for _ in range(args.runs)]
        seconds = statistics.median(float(str(r["seconds"])) for r in runs)
        process = statistics.median(float(str(r["process_seconds"])) for r in runs)
        peak = statistics.median(float(str(r["peak_mb"])) for r in runs)
        slope = ""
        if base is not None and members > base[0]:
            slope = f"{(peak - base[1]) * (1 << 20) / (members - base[0]):.0f}"
        base = base or (members, peak)
        print(f"| {members:,} | {os.path.getsize(path) / 1e6:.1f} | {seconds:.2f} | {process:.2f} | {peak:.0f} | "
              f"{slope} |", flush=True)


if __name__ == "__main__":
    main()
