"""The `mirror` command: parses, calls the library, prints, exits. Nothing else lives here.

Example::

    $ mirror keys new alice
    $ mirror create seeds -o bundles/almaty.7z --key alice
    $ mirror verify bundles/almaty.7z

One module per command group (keys.py, create.py, bundles.py, scan.py, publish.py, fetch.py, serve.py,
swarm.py);
common.py holds the shared options and output. A command's module is imported when that command runs
(`mirror verify` never loads the server, the swarm or the publisher), or all of them for `mirror --help`;
heavy libraries are imported inside the commands, so that start-up stays fast.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
from typing import Any, NoReturn

import click

from mirror.cli.common import warn
from mirror.cli.language import apply_language, speak
from mirror.errors import ExitCode, MirrorError
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
        return super().main(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:  # a usage error: click prints it, in our words where they are ours
            exc.message = translate(exc.message)  # type: ignore[misc]  # final in click's stubs, a plain attribute
            raise
        except MirrorError as exc:
            fail(str(exc), exc.hint, exc.exit_code)
        except BrokenPipeError:
            raise  # `mirror verify X | head`: click quiets the pipe and exits
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            fail(f"{where}{exc.strerror or exc}", None, ExitCode.ERROR)
        except KeyboardInterrupt:
            fail("interrupted", None, ExitCode.ERROR)


def fail(message: str, hint: str | None, code: int) -> NoReturn:
    """Print the error (and the hint) on stderr, translated, and exit with `code`."""
    warn(f"mirror: {message}")
    if hint:
        warn(f"hint: {hint}")
    sys.exit(int(code))


@click.group(cls=MirrorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mirror-bundle")
def main() -> None:
    """Create, verify and extract signed bundles of accounts and photos.

    Exit codes: 0 ok; 1 error; 2 usage; 3 the bundle must not be trusted;
    4 incomplete; 5 intact but the signer is not in your keyring; 6 scan or
    create found identifying data; 7 scan could not read some files.
    """


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # the same way out as Ctrl-C: every command's cleanup runs


def run() -> None:
    """Entry point that turns an unexpected bug into one line instead of a traceback.

    SIGTERM and SIGHUP (a closed terminal, a service manager stopping it) end a command as Ctrl-C does: its
    temporary files and folders are removed, "interrupted", exit 1. (serve and seed stop on them as on Ctrl-C.)
    """
    for number in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if number is not None:
            signal.signal(number, _interrupted)
    try:
        main()
    except Exception as exc:  # the outermost boundary: a bug must still not print a traceback
        if os.environ.get("MIRROR_DEBUG"):
            raise
        warn(f"mirror: internal error: {type(exc).__name__}: {exc}")
        warn("hint: run again with MIRROR_DEBUG=1 to see where, and report it")
        sys.exit(int(ExitCode.ERROR))
