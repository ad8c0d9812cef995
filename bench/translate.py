"""How fast the CLI translates: building the Russian catalog once, then lines that match and lines that do not.

Example::

    $ .venv/bin/python bench/translate.py
    catalog ru: 0.05 s to build (678 templates)
    matched lines:   40,000 in 0.7 s (18 us each)
    unmatched lines: 24,000 in 0.5 s (19 us each)
    hostile lines of 4,000 characters: the worst in 120 ms
    hostile lines of 1,000 characters: the worst in 90 ms
    hostile lines of 400 characters: the worst in 120 ms

`mirror show` prints one line per file and `fetch` one per event, so a line must cost microseconds, not
milliseconds; nothing of this runs while the language is English.
"""

from __future__ import annotations

import time

from mirror import i18n

MATCHED = ["VERIFIED  bundles/almaty.7z", "  signed by    key 01F02ADB18FB02EC, which is not in your keyring",
           "changed: photos/03-city-hall-fog.jpg (sha256 does not match)",
           "https://a.example/m/: GET index.json: nothing arrived for 30 s",
           "photos/a.jpg: exif: 14 more EXIF tag(s): camera settings, sizes and the like"]
UNMATCHED = ["     1234567  accounts/2022-01-05-almaty.ru.md  (2022-01-05 | Алматы | Площадь)",
             "photos/a.jpg: gps: 43.23890 N, 76.88970 E", "a line that no template has at all, of some length"]
HOSTILE = ["volume x of x is missing (x of x volumes found)", "MISSING   vx (x)x",
           "  web seeds x, trackers x, x pieces of x KiB", "bundle.json field 'files/' is malformedx' is malformed",
           "           fix: x", "x; fix: x; "]
ROUNDS = 8000


def main() -> None:
    """Print the three timings."""
    i18n.use("ru")
    start = time.perf_counter()
    catalog = i18n.catalog("ru")
    built = time.perf_counter() - start
    size = len(catalog.exact) + sum(map(len, catalog.by_start.values())) + sum(map(len, catalog.by_end.values()))
    print(f"catalog ru: {built:.2f} s to build ({size + len(catalog.floating)} templates)")
    for label, lines in (("matched lines:  ", MATCHED), ("unmatched lines:", UNMATCHED)):
        start = time.perf_counter()
        for _ in range(ROUNDS):
            for line in lines:
                i18n.translate(line)
        spent = time.perf_counter() - start
        count = ROUNDS * len(lines)
        print(f"{label} {count:,} in {spent:.1f} s ({spent / count * 1e6:.0f} us each)")
    # lines built to make a template of several placeholders backtrack: at the length caps and just under them
    # (a title is up to 1,000 characters, and each line of `fetch --list` holds one)
    for length in sorted({i18n.MAX_TEXT, i18n.MAX_TEXT_MANY, i18n.MAX_CLAUSES_TEXT, 1000}, reverse=True):
        worst = 0.0
        for unit in HOSTILE:
            line = (unit * length)[:length]
            start = time.perf_counter()
            i18n.translate(line)
            worst = max(worst, time.perf_counter() - start)
        print(f"hostile lines of {length:,} characters: the worst in {worst * 1000:.0f} ms")


if __name__ == "__main__":
    main()
