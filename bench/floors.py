"""verify, extract, publish and fetch against the floors: reading the bundle once, hashing it once, 7-Zip, curl.

Usage::

    python bench/floors.py                       # 1 GB of photos, 20,000 accounts; 5 interleaved rounds
    python bench/floors.py --photos-mb 200 --members 2000 --runs 3 --sections verify,extract
    python bench/floors.py --members 20000,1000000 --sections memory

Sections (each command a subprocess; wall time, CPU time and peak RSS as bench/run.py measures them; the commands
of a section alternate order every round; medians; every figure warm-cache):

- ``verify``: ``cat BUNDLE > /dev/null`` and ``openssl dgst -sha256 BUNDLE`` (the floors: read once, hash once),
  ``mirror verify``, ``7zz t``;
- ``extract``: ``mirror extract`` vs ``7zz x``;
- ``memory``: peak RSS of ``mirror verify`` on bundles of N short accounts (``--members``), and its time;
- ``startup``: ``mirror verify`` of a one-file bundle, and ``python -X importtime``'s sum for it;
- ``publish``: ``mirror publish`` of the photo bundle to nginx WebDAV on 127.0.0.1 (a fresh folder and a fresh
  verified-hash cache each round), the same publish again with nothing new, and ``rclone copy --transfers 4`` if
  installed, else ``curl -T`` (the table says which);
- ``fetch``: ``mirror fetch`` of it into a fresh folder vs ``curl -o`` (always with ``publish``, whose host it
  reads; either name runs both).

Photos are JPEGs of noise (they do not compress, like a camera's), accounts short texts; the corpora are cached
under ``bench/corpora/``. The machine may be shared: look at the ratios, and at the CPU seconds, more than at
single wall times. Prints a Markdown report (``--out`` writes it too).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import Sample, measure, mirror_command

BENCH = Path(__file__).resolve().parent
CORPORA = BENCH / "corpora"
SECTIONS = frozenset({"verify", "extract", "memory", "startup", "publish", "fetch"})
DAV_EXT = "/usr/lib/nginx/modules/ngx_http_dav_ext_module.so"
NGINX = """load_module {module};
daemon off; master_process off; pid {p}/nginx.pid; error_log {p}/error.log crit;
events {{ worker_connections 64; }}
http {{ access_log off; sendfile on; default_type application/octet-stream;
  client_body_temp_path {p}/srv/tmp; proxy_temp_path {p}/tmp; fastcgi_temp_path {p}/tmp;
  uwsgi_temp_path {p}/tmp; scgi_temp_path {p}/tmp;
  server {{ listen 127.0.0.1:{port}; root {p}/srv; client_max_body_size 0;
    location / {{ dav_methods PUT DELETE MKCOL COPY MOVE; dav_ext_methods PROPFIND OPTIONS;
      create_full_put_path on; dav_access user:rw group:r all:r;
      limit_except GET HEAD {{ auth_basic "mirror"; auth_basic_user_file {p}/htpasswd; }} }} }} }}
"""
WORDS = ("street", "square", "people", "night", "phone", "light", "city", "snow", "morning", "police", "market", "bus",
         "shop", "bread")


# ------------------------------------------------------------------------------------------------- corpora

def photo_corpus(megabytes: int, corpora: Path = CORPORA) -> Path:
    """A folder of noise JPEGs of about 5 MB each, `megabytes` in all, and 50 accounts (cached)."""
    from PIL import Image  # only to build the corpus

    folder = corpora / f"noise-{megabytes}"
    done = folder.with_name(folder.name + ".complete")
    if done.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "photos").mkdir(parents=True)
    (folder / "accounts").mkdir()
    noise = random.Random(megabytes).randbytes(2400 * 1800 * 3)
    total, i = 0, 0
    while total < megabytes * 1_000_000:
        shifted = noise[i * 7:] + noise[:i * 7]
        path = folder / "photos" / f"p{i:04d}.jpg"
        Image.frombytes("RGB", (2400, 1800), shifted).save(path, quality=95)
        total, i = total + path.stat().st_size, i + 1
    for n in range(50):
        (folder / "accounts" / f"a{n:03d}.md").write_text(f"# Account {n}\n\n" + "The streets were quiet. " * 80)
    done.touch()
    return folder


def account_corpus(members: int, corpora: Path = CORPORA) -> Path:
    """A folder of `members` accounts of about 1.5 KB (cached)."""
    folder = corpora / f"accounts-{members}"
    done = folder.with_name(folder.name + ".complete")
    if done.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    words = random.Random(members)
    for n in range(members):
        sub = folder / "accounts" / f"{n // 1000:04d}"
        if n % 1000 == 0:
            sub.mkdir(parents=True)
        (sub / f"a{n:07d}.md").write_text(" ".join(words.choice(WORDS) for _ in range(250)) + "\n")
    done.touch()
    return folder


# ------------------------------------------------------------------------------------------------- running

class Bench:
    """The commands of one run: a work folder, a keyring that trusts the bench key, the environment."""

    def __init__(self, work: Path, runs: int, before: Path | None = None) -> None:
        self.work, self.runs = work, runs
        self.mirror = mirror_command()
        # the same commands run from another source tree (an earlier commit's src/), in the same rounds
        self.before = ["env", f"PYTHONPATH={before}", *self.mirror] if before else None
        self.keys = work / "keys"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MIRROR_")
                    and k != "PYTHONDONTWRITEBYTECODE"}
        self.env |= {"MIRROR_STATE": str(work / "state"), "XDG_CACHE_HOME": str(work / "cache"), "MIRROR_LANG": "en",
                     "PYTHONPYCACHEPREFIX": str(work / "pycache")}  # compiled once, as an installed mirror is
        subprocess.run([*self.mirror, "keys", "new", "bench", "--no-passphrase", "--keys", str(self.keys)],
                       check=True, env=self.env, stdout=subprocess.DEVNULL)
        self.sevenzip = shutil.which("7zz")

    def bundle(self, src: Path, name: str) -> Path:
        out = self.work / name
        if not out.exists():
            subprocess.run([*self.mirror, "create", str(src), "-o", str(out), "--title", name, "--keys",
                            str(self.keys)], check=True, env=self.env, stdout=subprocess.DEVNULL)
        return out

    def interleaved(self, commands: dict[str, tuple[list[str], Callable[[], None] | None]]) -> dict[str, list[Sample]]:
        """Each command `runs` times, the order reversed every other round, after an uncounted warm-up round."""
        results: dict[str, list[Sample]] = {name: [] for name in commands}
        names = list(commands)
        for round_ in range(self.runs + 1):
            for name in names if round_ % 2 else reversed(names):
                argv, before = commands[name]
                if before is not None:
                    before()
                subprocess.run(["sync"], check=False)
                sample, err = measure(argv, self.work, self.env)
                if sample.code != 0:
                    raise SystemExit(f"{name} failed ({sample.code}): {err.strip()[-500:]}")
                if round_:
                    results[name].append(sample)
        return results


def _median(samples: list[Sample], attribute: str) -> float | None:
    values = [getattr(s, attribute) for s in samples if getattr(s, attribute) is not None]
    return statistics.median(values) if values else None


def table(title: str, results: dict[str, list[Sample]], base: str | None) -> list[str]:
    """A Markdown table: wall, CPU, peak RSS, and wall time as a multiple of `base`'s."""
    over = f"`{base}`" if base else ""
    lines = [f"### {title}", "", f"| command | wall s | CPU s | peak MB | time / {over} |", "|---|---:|---:|---:|---:|"]
    base_wall = _median(results[base], "wall") if base else None
    for name, samples in results.items():
        wall, cpu, rss = (_median(samples, a) for a in ("wall", "cpu", "peak_rss"))
        ratio = f"{wall / base_wall:.2f}" if wall and base_wall else ""
        lines.append(f"| `{name}` | {wall:.3f} | {cpu:.2f} | {(rss or 0) / 1e6:.1f} | {ratio} |")
    return [*lines, ""]


def clean(*paths: Path) -> Callable[[], None]:
    def remove() -> None:
        for path in paths:
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
    return remove


# ------------------------------------------------------------------------------------------------ sections

def verify_section(b: Bench, bundle: Path) -> list[str]:
    commands: dict[str, tuple[list[str], Callable[[], None] | None]] = {
        "cat": (["sh", "-c", f"cat '{bundle}' > /dev/null"], None),
        "openssl dgst -sha256": (["openssl", "dgst", "-sha256", str(bundle)], None),
        "mirror verify": ([*b.mirror, "verify", str(bundle), "--keys", str(b.keys)], None),
    }
    if b.before:
        commands["mirror verify (before)"] = ([*b.before, "verify", str(bundle), "--keys", str(b.keys)], None)
    if b.sevenzip:
        commands["7zz t"] = ([b.sevenzip, "t", "-bd", "-bso0", "-bsp0", str(bundle)], None)
    size = bundle.stat().st_size / 1e6
    return table(f"verify, {size:.0f} MB bundle", b.interleaved(commands), "openssl dgst -sha256")


def extract_section(b: Bench, bundle: Path) -> list[str]:
    out, zx = b.work / "mx", b.work / "zx"
    commands: dict[str, tuple[list[str], Callable[[], None] | None]] = {
        "mirror extract": ([*b.mirror, "extract", str(bundle), str(out), "--keys", str(b.keys)], clean(out))}
    if b.before:
        commands["mirror extract (before)"] = ([*b.before, "extract", str(bundle), str(out), "--keys", str(b.keys)],
                                               clean(out))
    if b.sevenzip:
        commands["7zz x"] = ([b.sevenzip, "x", "-y", "-bd", "-bso0", "-bsp0", f"-o{zx}", str(bundle)], clean(zx))
    lines = table(f"extract, {bundle.stat().st_size / 1e6:.0f} MB bundle", b.interleaved(commands),
                  "7zz x" if b.sevenzip else None)
    clean(out, zx)()
    return lines


def memory_section(b: Bench, members: Sequence[int], corpora: Path) -> list[str]:
    lines = []
    for count in members:
        bundle = b.bundle(account_corpus(count, corpora), f"accounts-{count}.7z")
        commands: dict[str, tuple[list[str], Callable[[], None] | None]] = {
            "mirror verify": ([*b.mirror, "verify", str(bundle), "--keys", str(b.keys)], None)}
        if b.before:
            commands["mirror verify (before)"] = ([*b.before, "verify", str(bundle), "--keys", str(b.keys)], None)
        if b.sevenzip:
            commands["7zz t"] = ([b.sevenzip, "t", "-bd", "-bso0", "-bsp0", str(bundle)], None)
        lines += table(f"verify, {count:,} accounts ({bundle.stat().st_size / 1e6:.1f} MB)", b.interleaved(commands),
                       "7zz t" if b.sevenzip else None)
    return lines


def startup_section(b: Bench) -> list[str]:
    src = b.work / "tiny"
    (src / "accounts").mkdir(parents=True, exist_ok=True)
    (src / "accounts" / "one.md").write_text("One account.\n")
    bundle = b.bundle(src, "tiny.7z")
    argv = [*b.mirror, "verify", str(bundle), "--keys", str(b.keys)]
    commands: dict[str, tuple[list[str], Callable[[], None] | None]] = {
        "mirror verify (tiny)": (argv, None), "python -c pass": ([sys.executable, "-c", "pass"], None)}
    if b.before:
        commands["mirror verify (tiny, before)"] = ([*b.before, *argv[len(b.mirror):]], None)
    lines = table("start-up: verify of a one-file bundle", b.interleaved(commands), None)
    found = subprocess.run([sys.executable, "-X", "importtime", "-m", "mirror", *argv[len(b.mirror):]],
                           capture_output=True, text=True, env=b.env, check=False).stderr
    total = sum(int(m) for m in re.findall(r"import time:\s+(\d+) \|", found))
    return [*lines, f"Import time of that verify (`python -X importtime`, sum of self times): {total / 1e6:.3f} s.", ""]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def publish_fetch_sections(b: Bench, bundle: Path) -> list[str]:
    nginx = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin")
    if not nginx or not Path(DAV_EXT).exists():
        return ["### publish and fetch", "", "not measured: nginx with its WebDAV module is not installed", ""]
    root = b.work / "nginx"
    for sub in ("srv/mirror", "srv/tmp", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    hashed = subprocess.run(["openssl", "passwd", "-6", "-stdin"], input=password, capture_output=True, text=True,
                            check=True).stdout.strip()
    (root / "htpasswd").write_text(f"publisher:{hashed}\n")
    port = _free_port()
    (root / "nginx.conf").write_text(NGINX.format(module=DAV_EXT, p=root, port=port))
    url = f"http://127.0.0.1:{port}/mirror/"
    config = b.work / "mirror.toml"
    config.write_text(f'[publisher]\nkey = "bench"\n\n[hosts.dav]\nurl = "{url}"\nusername = "publisher"\n'
                      f'password_env = "MIRROR_BENCH_DAV"\n')
    b.env["MIRROR_BENCH_DAV"] = password
    reader = b.work / "reader-keys"
    pub = b.work / "bench.pub"
    pub.write_text((b.keys / "bench.pub").read_text())
    subprocess.run([*b.mirror, "keys", "import", str(pub), "--name", "bench", "--role", "author", "--role",
                    "publisher", "--keys", str(reader)], check=True, env=b.env, stdout=subprocess.DEVNULL)
    log = str(root / "error.log")
    server = subprocess.Popen([nginx, "-p", str(root), "-c", str(root / "nginx.conf"), "-e", log])
    try:
        for _ in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        mirror_dir, cache = root / "srv" / "mirror", b.work / "cache"

        def fresh_host() -> None:
            for child in mirror_dir.iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink()
            shutil.rmtree(cache, ignore_errors=True)

        publish = [*b.mirror, "publish", str(bundle), "--config", str(config), "--keys", str(b.keys)]
        commands: dict[str, tuple[list[str], Callable[[], None] | None]] = {
            "mirror publish": (publish, fresh_host),
            "mirror publish, nothing new": (publish, None)}
        if b.before:
            commands["mirror publish (before)"] = ([*b.before, *publish[len(b.mirror):]], fresh_host)
            commands["mirror publish, nothing new (before)"] = ([*b.before, *publish[len(b.mirror):]], None)
        rclone = shutil.which("rclone")
        if rclone:
            obscured = subprocess.run([rclone, "obscure", "-"], input=password, capture_output=True, text=True,
                                      check=True).stdout.strip()

            def fresh_rc() -> None:
                shutil.rmtree(mirror_dir / "rc", ignore_errors=True)

            commands["rclone copy --transfers 4"] = ([rclone, "copy", "--transfers", "4", "--webdav-url", url,
                                                     "--webdav-user", "publisher", "--webdav-pass", obscured,
                                                     str(bundle), ":webdav:rc/"], fresh_rc)
        else:
            commands["curl -T"] = (["curl", "-sf", "-u", f"publisher:{password}", "-T", str(bundle),
                                    f"{url}curl-{bundle.name}"], None)
        lines = table(f"publish, {bundle.stat().st_size / 1e6:.0f} MB to nginx WebDAV on 127.0.0.1",
                      b.interleaved(commands), "rclone copy --transfers 4" if rclone else "curl -T")
        if not rclone:
            lines.insert(-1, "rclone is not installed here: `curl -T` (one PUT, no read-back) is the reference.")
        subprocess.run(publish, check=True, env=b.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        dest, got = b.work / "fetched", b.work / "curl.7z"
        fetch_cmds: dict[str, tuple[list[str], Callable[[], None] | None]] = {
            "mirror fetch": ([*b.mirror, "fetch", "--mirror", url, "--dest", str(dest), "--keys", str(reader)],
                             clean(dest)),
            **({"mirror fetch (before)": ([*b.before, "fetch", "--mirror", url, "--dest", str(dest), "--keys",
                                           str(reader)], clean(dest))} if b.before else {}),
            "curl -o": (["curl", "-sf", "-o", str(got), f"{url}curl-{bundle.name}" if not rclone
                         else f"{url}rc/{bundle.name}"], clean(got))}
        lines += table("fetch of the same bundle", b.interleaved(fetch_cmds), "curl -o")
    finally:
        server.terminate()
        server.wait(10)
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Run the sections asked for and print (and write) the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos-mb", type=int, default=1000)
    parser.add_argument("--members", default="20000", help="comma-separated member counts for the memory section")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sections", default="verify,extract,memory,startup,publish")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--before", type=Path, help="also run mirror from this src/ folder (an earlier commit's)")
    parser.add_argument("--quick", action="store_true", help="tiny inputs, one round: a smoke run")
    parser.add_argument("--corpora", type=Path, default=CORPORA, help="where the corpora are cached")
    args = parser.parse_args(argv)
    if args.quick:
        args.photos_mb, args.members, args.runs = 4, "200", 1
    sections = set(args.sections.split(","))
    if "fetch" in sections:  # fetch reads what publish put on the host: the two run together
        sections.add("publish")
    unknown = sections - SECTIONS
    if unknown:
        parser.error(f"unknown section(s) {', '.join(sorted(unknown))}; choose from {', '.join(sorted(SECTIONS))}")
    lines = ["## verify, extract, publish and fetch against the floors", "",
             f"`python bench/floors.py --photos-mb {args.photos_mb} --members {args.members} --runs {args.runs}`: "
             f"medians of {args.runs} interleaved rounds after a warm-up, warm page cache. The machine is shared "
             "with other work: single wall times are noisy, ratios and CPU seconds less so.", ""]
    with tempfile.TemporaryDirectory(prefix="mirror-floors-") as tmp:
        b = Bench(Path(tmp), args.runs, args.before)
        needs_photos = bool(sections & {"verify", "extract", "publish"})
        big = b.bundle(photo_corpus(args.photos_mb, args.corpora), "photos.7z") if needs_photos else None
        if "verify" in sections and big:
            lines += verify_section(b, big)
        if "extract" in sections and big:
            lines += extract_section(b, big)
        if "memory" in sections:
            lines += memory_section(b, [int(n) for n in args.members.split(",")], args.corpora)
        if "startup" in sections:
            lines += startup_section(b)
        if "publish" in sections and big:
            lines += publish_fetch_sections(b, big)
    report = "\n".join(lines)
    print(report)
    if args.out:
        args.out.write_text(report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
