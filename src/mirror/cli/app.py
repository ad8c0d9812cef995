"""The click group `main`: every command registers on it, in its own module, loaded when that command runs.

Example::

    from mirror.cli.app import main

    @main.command()
    def verify(...) -> None: ...

The modules that register commands are imported when their command runs (`mirror verify` never loads the
server, the swarm or the publisher), or all of them for `mirror --help`. A plain `mirror verify BUNDLE` does
not come here at all (cli/quick.py).
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from mirror.cli.failure import SETTLED, failures, interrupted, settle
from mirror.cli.language import apply_language, speak
from mirror.i18n import translate

speak()  # before the commands are built: click names some types ("file", "directory") as they are made

# The modules that register commands on `main`, and which command lives where. A command missing from the
# table is still found: an unknown name loads every module before click says it does not exist.
COMMAND_MODULES = ("bundles", "create", "endorse", "fetch", "keys", "parts", "publish", "scan", "serve", "swarm")
_WHERE = {"verify": "bundles", "show": "bundles", "extract": "bundles", "open": "bundles", "create": "create",
          "fetch": "fetch", "keys": "keys", "publish": "publish", "refresh": "publish", "status": "publish",
          "scan": "scan", "serve": "serve", "seed": "swarm", "torrent": "swarm", "split": "parts", "join": "parts",
          "endorse": "endorse"}


def _load(*modules: str) -> None:
    for module in modules:
        importlib.import_module(f"mirror.cli.{module}")


class MirrorGroup(click.Group):
    """The one place where errors become one stderr line and an exit code, in the reader's language."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command, its module loaded now; every module when the name is not in the table."""
        if cmd_name not in self.commands:
            _load(_WHERE.get(cmd_name, "bundles"))
            if cmd_name not in self.commands:
                _load(*COMMAND_MODULES)
            apply_language(self)  # the new command's help, in this run's language
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command (for --help and completion)."""
        _load(*COMMAND_MODULES)
        apply_language(self)
        return super().list_commands(ctx)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Run in the language the environment asks for (docs/translations.md)."""
        apply_language(self)
        # In a process that runs commands one after another (tests) none is settled before it runs. Not cleared
        # after it: a signal handled as that clear returned came before run() had made the exit code final, and
        # "mirror: interrupted" was said twice (1 run of 800 of the spam test)
        SETTLED.clear()
        return super().main(*args, **kwargs)

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        """The arguments read; Ctrl-C meanwhile (or while --help or --version prints) is "interrupted", 130, as
        in a command, not click's "Aborted!" and 1."""
        try:
            return super().make_context(info_name, args, parent, **extra)
        except KeyboardInterrupt:
            settle(True)
            interrupted()
        except (click.exceptions.Exit, click.ClickException):  # --help or --version said, or a usage error
            settle(True)
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with failures():
                done = super().invoke(ctx)
                settle(True)  # its work done: click has yet to close its context and exit 0, and a signal keeps that
                return done
        except KeyboardInterrupt:  # one that came as failures() began to say why the command ends
            settle(True)
            interrupted()
        except click.exceptions.Exit:  # a command's --help said
            settle(True)
            raise
        except click.ClickException as exc:  # a usage error: click prints it, in our words where they are ours
            settle(True)
            exc.message = translate(exc.message)  # type: ignore[misc]  # final in click's stubs, a plain attribute
            raise
        except click.exceptions.Abort as exc:  # click's prompt turns Ctrl-C (and our SIGTERM) into "Aborted!", 1
            if isinstance(exc.__context__, KeyboardInterrupt):
                settle(True)
                interrupted()
            raise


@click.group(cls=MirrorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mirror-bundle")
def main() -> None:
    """Create, verify and extract signed bundles of accounts and photos.

    Exit codes: 0 ok; 1 error; 2 usage; 3 the bundle must not be trusted;
    4 incomplete; 5 intact but the signer is not in your keyring; 6 scan or
    create found identifying data; 7 scan could not read some files; 130
    interrupted (Ctrl-C).
    """
