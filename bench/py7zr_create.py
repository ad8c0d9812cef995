"""What a Python user would write to make a 7z of a folder: py7zr with its default filters.

Usage: python bench/py7zr_create.py SRC OUT.7z
"""

from __future__ import annotations

import sys
from pathlib import Path

import py7zr


def main(argv: list[str]) -> int:
    src, out = Path(argv[0]), Path(argv[1])
    with py7zr.SevenZipFile(out, "w") as archive:
        for child in sorted(src.iterdir()):
            archive.writeall(child, child.name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
