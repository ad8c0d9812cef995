"""`mirror verify BUNDLE` without click: the command people run most, often on slow phones, starts faster.

Example::

    run_quick(["verify", "almaty.7z", "--keys", "keys"])   # True: verified here (or exited with the verdict)
    run_quick(["verify", "--help"])                        # False: click parses it, and explains
    run_quick(["show", "almaty.7z"])                       # False

Loading click and building the commands is a fifth of a tiny verify's time (docs/performance.md). Only
arguments in plain forms are taken here: the flags `--json` and `--whole`, `--keys DIR` and
`--require-endorsers K` (also with `=`), each at most once, and one existing, readable BUNDLE that does not
start with `-`. Anything else, including every mistake, goes to click, which parses it and words the usage
error as it always has. What runs is the same code as under click (cli/verdict.py), with the same failures
(cli/failure.py); tests/cli/test_quick_verify.py compares the two paths.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from mirror.cli.common import MAX_REQUIRED_ENDORSERS

_FLAGS = {"--json": "as_json", "--whole": "whole"}
_VALUED = {"--keys": "keys_dir", "--require-endorsers": "require_endorsers"}


def parse_verify(args: list[str]) -> dict[str, Any] | None:
    """The keyword arguments of `verify_command` for `args` (the words after `mirror`), or None when they are
    not a verify in plain forms and click must parse them."""
    if not args or args[0] != "verify" or "_MIRROR_COMPLETE" in os.environ:  # click's shell completion
        return None
    found: dict[str, Any] = {"whole": False, "as_json": False, "require_endorsers": None, "keys_dir": None}
    seen: set[str] = set()
    bundle: str | None = None
    words = iter(args[1:])
    for word in words:
        name, equals, value = word.partition("=")
        if word in _FLAGS and word not in seen:
            found[_FLAGS[word]] = True
            seen.add(word)
        elif name in _VALUED and name not in seen:
            if not equals:
                value = next(words, "")
            parsed = _value(name, value)
            if parsed is None:
                return None
            found[_VALUED[name]] = parsed
            seen.add(name)
        elif word and not word.startswith("-") and bundle is None:
            bundle = word
        else:
            return None
    if bundle is None or not os.path.exists(bundle) or not os.access(bundle, os.R_OK):
        return None  # click says it is missing or unreadable, in its words
    found["bundle"] = Path(bundle)
    return found


def _value(name: str, value: str) -> Path | int | None:
    """An option's value in a form click would take without a word, or None."""
    if not value.strip() or value.startswith("-"):  # blank: click refuses it (common.py)
        return None
    if name == "--keys":  # click says when it is a file or a folder it cannot read
        unfit = os.path.exists(value) and not (os.path.isdir(value) and os.access(value, os.R_OK))
        return None if unfit else Path(value)
    if value.isascii() and value.isdigit() and len(value) <= 3 and int(value) <= MAX_REQUIRED_ENDORSERS:
        return int(value)
    return None


def run_quick(args: list[str]) -> bool:
    """Run `mirror verify` here if `args` are in plain forms (exiting with its verdict); False to leave them to
    click."""
    found = parse_verify(args)
    if found is None:
        return False
    from mirror import i18n

    i18n.use(i18n.choose())  # the reader's language, as the click group chooses it
    from mirror.cli.common import quiet_stream
    from mirror.cli.failure import failures

    try:
        with failures():
            from mirror.cli.verdict import verify_command

            verify_command(**found)
    except BrokenPipeError:  # stdout closed early: as click ends then, quietly, exit 1
        quiet_stream(sys.stdout)
        sys.exit(1)
    return True
