"""Differential check of the identifier finder: another `src/` (an earlier commit's) against this one, on the same
texts and names, every finding compared.

Usage::

    git archive HEAD~3 src/mirror | tar -x -C /tmp/old        # the code to compare against
    python bench/finder_diff.py --old /tmp/old/src             # about 60,000 texts and 40,000 names
    python bench/finder_diff.py --old /tmp/old/src --mutations 200000 --seed 7

The texts: every string constant of the tests (tests/**/*.py), the seed accounts, a sample of the bench corpora
that are built (bench/corpora/*/accounts), and random mutations of the tests' strings: digits of other scripts,
invisible characters, character references, %-encodings, line breaks inside numbers, letters O for zeros, odd
case forms, characters beyond the BMP, identifiers of each kind inserted, pieces cut, doubled and joined. The
names: paths made of the same, and of the shapes hostile archives hold (accounts/000123.md). Each side runs in
its own process (`--worker`); `find_identifiers`, `scan_text` (which adds the embedded files) and `scan_name`
(as an account and as a photo) are compared. Exit 1 and the first differences shown when any differ.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What a mutation inserts: digits of other scripts, invisible characters and their references, separators,
# line breaks (with a quoted reply's marks), O's for zeros, case forms the regular expressions' IGNORECASE folds,
# characters beyond the BMP, and the characters the finder's hints look for
INSERTS = (
    "0", "1", "5", "7", "8", "9", "\u0665", "\u06f7", "\u0967", "\uff18", "\uff17", "\U0001d7d8", "\u200b", "\u00ad",
    "\u2060", "\ufeff", "\u034f", "\U000e0020", "\U000e0101", "\u20e3", "\ufe0f", "&#8203;", "&#56;", "&#x37;",
    "&commat;", "&nbsp;", "&shy;", "%40", "%2B", "%20", "\\", "\\-", "*", "**", "_", "__", "`", "\u2009", "\u2212",
    "\u00a0", "\u3000", "\u2011", "\u2013", "\uff0e", "\uff20", "\ufe6b", "\uff0c", "\n", "\r\n", "\r", "\n> ",
    "\n>> ", "\n  ", "О", "o", "O", "о", "\u3007", "\uff2f", "\u017f", "\u212a", "\u1c84", "\u1c82", "\u0131",
    "\u0130", "\U0001f600", "\U00010400", "+", "@", " @ ", "(at)", "[dot]", " собака ", "&", "%", ".", ",", "°",
    "º", "˚", " deg ", "/", "///", "$", "B", "\nB", "$GP", "-", "(", ")", " ", "\t", ":", ";", "KZ", "kz", "кz",
    "\uff4b\uff5a", "тел. ", "Тел: ", "phone ", "WhatsApp ", "паспорт ", "удост. ", "ID card ", "№ ", "N", "data:",
    ";base64,", "/9j/", "iVBORw0KGgo", "goo.gl/", "omaps.app/", "w3w.co/", "+7", "8 701", "87", "U+", "0x",
)
# Identifiers of each kind, inserted whole so that every finder has something to find
TEMPLATES = (
    "+7 701 123 45 67", "8 (701) 123-45-67", "87011234567", "870105300128", "870105 300128", "250-12-34",
    "4400 4302 1234 5679", "4400430212345679", "4400/4302/1234/5679", "KZ86125KZT5004100100",
    "KZ86 125K ZT50 0410 0100", "kz86125kzt5004100100", "43.238949, 76.889709", "43°14'20.2\"N 76°53'20.6\"E",
    "43º14'20\"N 76º53'20\"E", "N 43° 14.337 E 076° 53.382", "lat 43.238949 lon 76.889709", "8HHQ6Q3W+9R",
    "6Q3W+9R Almaty", "///filled.count.soap", "https://w3w.co/filled.count.soap", "maps.app.goo.gl/abcdEF12",
    "ge0.me/abcdefgh", "aizhan@mail.kz", "aizhan [at] mail [dot] kz", "aizhan собака mail.kz",
    "удостоверение личности № 043567891", "паспорт N12345678", "тел. 250 12 34", "WhatsApp: 2501234",
    "0555 123 456", "+996 555 123 456", "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47",
    "B1235194807038N01131000EA0054400556", "data:image/jpeg;base64," + "A" * 70, "/9j/" + "B" * 210,
    "8 7О1 123 45 67", "+7 701 123\n45 67", "8 701\n> 123 45 67", "+7&#8203;701&#8203;1234567", "+7 701 1234567",
)


def _test_strings() -> list[str]:
    """Every string constant (and UTF-8 bytes constant) in the tests."""
    found: set[str] = set()
    for path in sorted((ROOT / "tests").rglob("*.py")):
        try:
            tree = ast.parse(path.read_text("utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        for node in ast.walk(tree):
            value = node.value if isinstance(node, ast.Constant) else None
            if isinstance(value, bytes) and len(value) < 1 << 16:
                try:
                    value = value.decode("utf-8")
                except UnicodeDecodeError:
                    continue
            if isinstance(value, str) and 3 <= len(value) < 1 << 20:
                found.add(value)
    return sorted(found)


def _files(sample: int) -> list[str]:
    """The seed accounts, and every `sample`th account of the bench corpora that are built."""
    texts = [p.read_text("utf-8") for p in sorted((ROOT / "seeds" / "accounts").glob("*.md"))]
    for folder in sorted((ROOT / "bench" / "corpora").glob("*/accounts")):
        texts += [p.read_text("utf-8", "replace") for p in sorted(folder.iterdir())[::sample]]
    return texts


def _mutated(rng: random.Random, pool: list[str]) -> str:
    text = rng.choice(pool)
    for _ in range(rng.randint(1, 6)):
        at = rng.randint(0, len(text))
        roll = rng.random()
        if roll < 0.35:
            text = text[:at] + rng.choice(INSERTS) + text[at:]
        elif roll < 0.6:
            text = text[:at] + rng.choice(TEMPLATES) + text[at:]
        elif roll < 0.7 and text:
            text = text[:at] + text[at + rng.randint(1, 3):]
        elif roll < 0.8:
            digits = [i for i, char in enumerate(text) if char.isdigit()]
            if digits:
                i = rng.choice(digits)
                swap = rng.choice(("О", "o", "\u0660", "\uff10", "\u200b" + text[i], text[i] + "\u00ad", "\n"))
                text = text[:i] + swap + text[i + 1:]
        elif roll < 0.9:
            text = text[:at] + rng.choice(("\n", " ", "", "; ", "\t")) + rng.choice(pool)[:400] + text[at:]
        else:
            end = min(len(text), at + rng.randint(1, 40))
            text = text[:end] + text[at:end] + text[end:]
    return text[:20_000]


def _names(rng: random.Random, pool: list[str], count: int) -> list[str]:
    """Paths as archives and folders name members: plain and hostile shapes, and ones made of the texts."""
    names = [f"accounts/{i:06d}.md" for i in range(0, 1_000_000, 997)]
    names += ["photos/DCIM/IMG_20220105_183012.jpg", "photos/100CANON/IMG_0001.JPG",
              "accounts/Aigerim_8_701_123_45_67.md", "accounts/aigerim_k@mail.ru.md", ".mirror/SHA256SUMS",
              "accounts/2022-01-05 18.30.md"]
    folders = ("accounts/", "photos/", "photos/DCIM/", "accounts/a/b/", "", "docs/Camera/", "x/2022-01-05/")
    ends = (".md", ".txt", ".jpg", ".png", ".heic", "", ".7z", ".md.jpg")
    while len(names) < count:
        stem = _mutated(rng, pool)[: rng.choice((12, 40, 120))].replace("\n", " ").replace("/", "_")
        names.append(rng.choice(folders) + stem + rng.choice(ends))
    return names


def _worker(samples: Path, out: Path) -> None:
    from mirror.privacy.identifiers import find_identifiers, scan_text
    from mirror.privacy.names import scan_name

    data = json.loads(samples.read_text("utf-8"))
    results: dict[str, list[object]] = {"texts": [], "names": []}
    for text in data["texts"]:
        results["texts"].append([find_identifiers(text), [(f.kind, f.detail) for f in scan_text(text, "a.md")]])
    for name in data["names"]:
        results["names"].append([[(f.kind, f.detail) for f in scan_name(name, photo)] for photo in (False, True)])
    out.write_text(json.dumps(results), "ascii")


def _run(src: Path, samples: Path, out: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(src)}
    subprocess.run([sys.executable, __file__, "--worker", str(samples), str(out)], env=env, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--old", type=Path, help="the src/ folder to compare against")
    parser.add_argument("--new", type=Path, default=ROOT / "src", help="the src/ folder to check (this one's)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mutations", type=int, default=40_000)
    parser.add_argument("--names", type=int, default=40_000)
    parser.add_argument("--sample", type=int, default=20, help="every Nth account of the bench corpora")
    parser.add_argument("--worker", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(*args.worker)
        return
    if args.old is None:
        parser.error("--old is required")
    rng = random.Random(args.seed)
    strings = _test_strings()
    pool = [s for s in strings if any(c.isdigit() or c in "@+&%" for c in s)] or strings
    texts = strings + _files(args.sample) + [_mutated(rng, pool) for _ in range(args.mutations)]
    names = _names(rng, pool, args.names)
    with tempfile.TemporaryDirectory() as tmp:
        samples = Path(tmp) / "samples.json"
        samples.write_text(json.dumps({"texts": texts, "names": names}), "ascii")
        _run(args.old, samples, Path(tmp) / "old.json")
        _run(args.new, samples, Path(tmp) / "new.json")
        old = json.loads((Path(tmp) / "old.json").read_text("utf-8"))
        new = json.loads((Path(tmp) / "new.json").read_text("utf-8"))
    differ = [(texts[i], a, b) for i, (a, b) in enumerate(zip(old["texts"], new["texts"], strict=True)) if a != b]
    differ += [(names[i], a, b) for i, (a, b) in enumerate(zip(old["names"], new["names"], strict=True)) if a != b]
    found = sum(1 for result in old["texts"] if result[0])
    print(f"{len(texts):,} texts ({found:,} with findings), {len(names):,} names: {len(differ):,} differ")
    for sample, a, b in differ[:20]:
        print(f"\n{sample[:300]!r}\n  old: {a}\n  new: {b}")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
