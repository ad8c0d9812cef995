"""The language of a run: click's own words and the commands' help in Russian or Kazakh, English restored.

Example::

    speak()                     # at import, before click's types are made ("file", "directory")
    apply_language(main)        # at the start of every invocation: MIRROR_LANG, LC_ALL, LC_MESSAGES, LANG

Only `mirror.i18n` decides and translates; this module puts it where click reads: the help texts of the
command objects (replaced while the language is not English, the English kept to restore) and the `_` and
`ngettext` click's modules imported from gettext. Nothing here loads a catalog while the language is English.
"""

from __future__ import annotations

import gettext
import inspect
import sys
from collections.abc import Iterator
from weakref import WeakKeyDictionary

import click

from mirror import i18n

_ENGLISH: WeakKeyDictionary[click.Command | click.Parameter, str] = WeakKeyDictionary()
_STDLIB = {"_": gettext.gettext, "ngettext": gettext.ngettext}
_OURS = {"_": i18n.click_gettext, "ngettext": i18n.click_ngettext}


def speak() -> str:
    """Choose this run's language from the environment; click's own words follow it from now on."""
    lang = i18n.choose()
    i18n.use(lang)
    _bind_click()
    return lang


def apply_language(root: click.Command) -> str:
    """Choose this run's language from the environment and make click and the help texts speak it."""
    lang = speak()
    if lang != "en" or _ENGLISH:
        for item in _helped(root):
            english = _ENGLISH.setdefault(item, item.help or "")
            if english:  # a docstring as click shows it (and as tools/i18n_extract.py takes it): cleaned
                item.help = i18n.translate(inspect.cleandoc(english).split("\f")[0].rstrip())
    return lang


def _helped(command: click.Command) -> Iterator[click.Command | click.Parameter]:
    """The command, its options and every subcommand: whatever shows a help text."""
    yield command
    yield from (p for p in command.params if isinstance(p, click.Option))
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            yield from _helped(sub)


def _bind_click() -> None:
    """Point the gettext functions click's modules imported at ours (they return English while it is chosen,
    loading nothing)."""
    for name, module in list(sys.modules.items()):
        if name == "click" or name.startswith("click."):
            for attr, stdlib in _STDLIB.items():
                if getattr(module, attr, None) is stdlib:
                    setattr(module, attr, _OURS[attr])
