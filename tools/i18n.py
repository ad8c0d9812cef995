"""Translation catalogs: extract the user-facing strings, update the .po files, compile the .mo files, check.

Example::

    $ .venv/bin/python tools/i18n.py update    # pybabel extract + update: new strings appear untranslated
    $ $EDITOR src/mirror/locale/ru/LC_MESSAGES/mirror.po src/mirror/locale/kk/LC_MESSAGES/mirror.po
    $ .venv/bin/python tools/i18n.py compile   # pybabel compile: the .mo files the package ships
    $ .venv/bin/python tools/i18n.py check     # what tests/unit/test_translations.py checks; exit 1 on a problem

Two domains per language: `mirror` (our templates, extracted by tools/i18n_extract.py as tools/babel.cfg says)
and `click` (click's own words, extracted from the installed click). docs/translations.md explains the rules.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / "tools"
SRC = ROOT / "src"
LOCALE = SRC / "mirror" / "locale"
MAPPING = TOOLS / "babel.cfg"
LANGS = ("ru", "kk")
DOMAINS = ("mirror", "click")
CLICK_KEYWORDS = ("-k", "_", "-k", "ngettext:1,2")
# One word for a bundle in each language, as the reader's page and the guides say it (docs/translations.md): a
# translation that says "пакет" for it reads as another thing; "packet" (an XMP packet) is one
BUNDLE_WORDS = {"ru": "набор", "kk": "жиынтық"}


def po_path(lang: str, domain: str) -> Path:
    """The catalog of one language and domain."""
    return LOCALE / lang / "LC_MESSAGES" / f"{domain}.po"


def _pybabel(*args: str) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TOOLS), os.environ.get("PYTHONPATH", "")])}
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True, env=env, cwd=ROOT)


def _click_dir() -> Path:
    import click

    return Path(click.__file__).parent


def update() -> None:
    """Extract both domains and merge them into every language's .po (new entries empty, old ones dropped)."""
    with tempfile.TemporaryDirectory() as tmp:
        pots = {"mirror": Path(tmp) / "mirror.pot", "click": Path(tmp) / "click.pot"}
        common = ("--sort-output", "-w", "120", "--project", "mirror")
        _pybabel("extract", "-F", str(MAPPING), *common, "--add-location=file", "-o", str(pots["mirror"]),
                 SRC.relative_to(ROOT).as_posix())
        _pybabel("extract", "--no-default-keywords", *CLICK_KEYWORDS, *common, "--no-location", "-o",
                 str(pots["click"]), str(_click_dir()))
        for domain, pot in pots.items():
            for lang in LANGS:
                _pybabel("update", "-D", domain, "-i", str(pot), "-d", str(LOCALE), "-l", lang, "-w", "120",
                         "--init-missing", "--ignore-obsolete", "--ignore-pot-creation-date")


def compile_all() -> None:
    """Compile every .po into the .mo beside it."""
    for domain in DOMAINS:
        _pybabel("compile", "-D", domain, "-d", str(LOCALE), "--statistics")


def extracted() -> dict[str, list[str]]:
    """Every template the source holds, with where it was found (babel.cfg's scope)."""
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    sys.path.insert(0, str(TOOLS))
    with MAPPING.open() as mapping:
        method_map, options_map = parse_mapping_cfg(mapping)
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _, _ in extract_from_dir(str(SRC), method_map, options_map):
        if isinstance(message, str):
            found.setdefault(message, []).append(f"{filename}:{lineno}")
    return found


def click_messages() -> set[str | tuple[str, ...]]:
    """Every msgid of the installed click (a plural entry as its tuple of forms)."""
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir

    keywords = {"_": DEFAULT_KEYWORDS["_"], "ngettext": DEFAULT_KEYWORDS["ngettext"]}
    return {message for _, _, message, _, _ in extract_from_dir(str(_click_dir()), keywords=keywords)}


def fields(text: str) -> list[str]:
    """The placeholders of a brace template, sorted (a malformed template has the field "<malformed>")."""
    import string

    try:
        return sorted(f for _, f, _, _ in string.Formatter().parse(text) if f is not None)
    except ValueError:
        return ["<malformed>"]


def check() -> list[str]:
    """Every problem of the catalogs: untranslated, stale or broken entries, and .mo files behind their .po."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    problems: list[str] = []
    wanted: dict[str, set[str | tuple[str, ...]]] = {"mirror": set(extracted()), "click": click_messages()}
    for lang in LANGS:
        for domain in DOMAINS:
            path = po_path(lang, domain)
            if not path.exists():
                problems.append(f"{path.relative_to(ROOT)}: missing (run tools/i18n.py update)")
                continue
            with path.open("rb") as po:
                catalog = read_po(po)
            have = {m.id: m for m in catalog if m.id}
            where = f"{lang}/{domain}"
            for msgid in sorted(wanted[domain], key=str):
                message = have.get(msgid)
                strings = [] if message is None else (
                    list(message.string) if isinstance(message.string, tuple) else [message.string])
                if message is None or message.fuzzy or not all(strings):
                    problems.append(f"{where}: not translated: {msgid!r}")
                elif isinstance(msgid, str) and fields(strings[0]) != fields(msgid):
                    problems.append(f"{where}: placeholders differ: {msgid!r} -> {strings[0]!r}")
                elif "пакет" in strings[0].lower() and "packet" not in str(msgid).lower():
                    problems.append(f"{where}: a bundle is {BUNDLE_WORDS[lang]!r}, not 'пакет': {msgid!r}")
            if domain == "mirror":
                problems += [f"{where}: stale (no longer in the source): {m!r}"
                             for m in sorted(set(have) - wanted[domain], key=str)]
            compiled = io.BytesIO()
            write_mo(compiled, catalog)
            mo = path.with_suffix(".mo")
            if not mo.exists() or mo.read_bytes() != compiled.getvalue():
                problems.append(f"{mo.relative_to(ROOT)}: not compiled from its .po (run tools/i18n.py compile)")
    return problems


def main(argv: list[str]) -> int:
    """Run one command: update, compile or check."""
    command = argv[0] if argv else ""
    if command == "update":
        update()
    elif command == "compile":
        compile_all()
    elif command == "check":
        problems = check()
        print("\n".join(problems) or "catalogs complete")
        return 1 if problems else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
