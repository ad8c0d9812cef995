"""What every command shares: the keyring and config options, passphrases, JSON and text output.

Example::

    @keys_option
    def verify(bundle: Path, keys_dir: Path | None) -> None:
        keyring = open_keyring(keys_dir)            # --keys > $MIRROR_KEYS > workspace > data folder
        dump_json({"verdict": "verified"})           # control and bidi characters escaped as \\uXXXX

Part of the CLI layer: the only code that prints, prompts or reads options. Every line printed here passes
through `mirror.i18n.translate` (JSON never does: it is for scripts). This module does not load click: the
options are made by the command modules, which have, and a plain verify runs without it (cli/quick.py).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import stat
import sys
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mirror.errors import ConfigError, KeyringError
from mirror.i18n import translate

if TYPE_CHECKING:
    from mirror.publish.config import MirrorConfig
    from mirror.trust.keyring import Keyring
    from mirror.trust.keys import SecretKey
    from mirror.trust.keyset import KeyRecord
    from mirror.trust.policy import Policy
    from mirror.workspace import Workspace

PASSPHRASE_ENV = "MIRROR_PASSPHRASE"  # noqa: S105 - the name of a variable, not a secret
KEYS_ENV = "MIRROR_KEYS"
MAX_REQUIRED_ENDORSERS = 100  # --require-endorsers K: 0 to this
PASSPHRASE_ATTEMPTS = 3  # at a terminal, a mistyped passphrase may be typed again
Decorator = Callable[[Any], Any]
# Characters that must never reach a terminal raw from --json: C0 (json.dumps escapes those), DEL and C1, and
# in runs of other characters, any that Python does not call printable (format characters such as bidi
# overrides and isolates, zero-width characters, line and paragraph separators, lone surrogates, unassigned
# code points), except spaces. Escaping changes nothing for a JSON reader.
_RUN = re.compile("[^\x00-\x1f]+")


def check_suffix(out: Path, suffix: str) -> None:
    """An output's name ends in `suffix` (.7z, .torrent): `-o` naming another file by mistake (a bundle, with
    --force) must not be replaced by something else.

    Raises:
        ConfigError: it does not.
    """
    if out.suffix.lower() != suffix:
        raise ConfigError(f"{out}: the output name must end in {suffix}")


def given_path(**kwargs: Any) -> Any:
    """A click.Path that refuses an empty value (`--dest "$DEST"` with DEST unset): never the current folder, or a
    file in it, by accident (helper-148: fetch, split and serve wrote to or served the current folder)."""
    import click

    class Given(click.Path):
        def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
            if isinstance(value, str) and not value.strip():
                self.fail(translate("an empty path: name a file or a folder"), param, ctx)
            if self.exists and isinstance(value, str) and not (self.allow_dash and value == "-"):
                _readable_or_fail(value)
            return super().convert(value, param, ctx)

    return Given(**kwargs)


def _readable_or_fail(value: str) -> None:
    """A file or folder this user may not read, or one inside a folder they may not enter, as one line and exit 1
    (docs/json.md), not click's usage error saying it "does not exist" (helper-158)."""
    import errno

    from mirror.cli.failure import fail

    try:
        mode = os.stat(value).st_mode
    except PermissionError:
        fail(f"{value}: permission denied: a folder on its path may not be entered", "check the folders' "
             "permissions (ls -ld), or run as the user who owns them", 1)
    except OSError as exc:
        if exc.errno not in (errno.ENOENT, errno.ENOTDIR, errno.ENAMETOOLONG, errno.ELOOP):
            fail(f"{value}: {exc.strerror}", None, 1)
        return  # click says it does not exist (a file where a folder was named on the way too)
    folder = stat.S_ISDIR(mode)
    if not os.access(value, os.R_OK | (os.X_OK if folder else 0)):
        hint = "check its permissions (ls -l), or copy it somewhere this user can read"
        if folder:
            fail(f"{value}: permission denied: this user may not read this folder", hint, 1)
        fail(f"{value}: permission denied: this user may not read it", hint, 1)


def keys_option(func: Any) -> Any:
    """--keys DIR, shared by every command that uses the keyring."""
    import click

    class Folder(click.Path):
        """A folder's path; an empty one (`--keys "$KEYS"` with KEYS unset) is an error, never the current folder
        (a stick handed over beside a forged bundle and its signer's key)."""

        def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
            if isinstance(value, str) and not value.strip():
                self.fail(translate("an empty path: name the keys folder"), param, ctx)
            return super().convert(value, param, ctx)

    return click.option("--keys", "keys_dir", type=Folder(file_okay=False, path_type=Path),
                        help=f"keys folder (default: ${KEYS_ENV}, the workspace's keys/, or your data folder)")(func)


def endorsers_option(func: Any) -> Any:
    """--require-endorsers K: also trust a bundle that K keys of the keyring endorse as knows-author."""
    import click

    return click.option("--require-endorsers", "require_endorsers", type=click.IntRange(0, MAX_REQUIRED_ENDORSERS),
                        default=None, metavar="K",
                        help="also trust a bundle whose author you do not know when K keys in your keyring endorse "
                             "it as knows-author (default: [trust] require_endorsers in the workspace's mirror.toml, "
                             "else 0: only the author's key decides)")(func)


def required_endorsers(option: int | None) -> int:
    """How many trusted knows-author endorsements make a bundle trusted without its author: --require-endorsers,
    else the workspace's [trust] require_endorsers, else 0 (only the author's key decides).

    Only a workspace's mirror.toml (one with a [workspace] table, the same rule as for the keyring) sets the
    policy: a mirror.toml without one, dropped in a downloads folder or written for publishing, changes nothing.

    Raises:
        ConfigError: the workspace's mirror.toml is malformed.
    """
    from mirror.workspace import CONFIG_NAME, current_folder, find_workspace, trust_settings

    if option is not None:
        return option
    try:
        workspace = find_workspace(current_folder())
    except ConfigError:  # a broken mirror.toml here or above: passed over, and said so (keys_folder_for)
        return 0
    if workspace is not None:
        from mirror.cli.workspaces import is_known  # here: outside a workspace (most verifies) it is not needed

        if not is_known(workspace):
            workspace = None  # a folder handed over sets no policy, as it chooses no keyring (keys_folder_for)
    return trust_settings(workspace.root / CONFIG_NAME if workspace is not None else None).require_endorsers


def reader_policy_for(option: int | None) -> Policy:
    """The reader's trust policy (trust/policy.py, `reader_policy`) for --require-endorsers or mirror.toml.

    Raises:
        ConfigError: the mirror.toml is malformed.
    """
    from mirror.trust.policy import reader_policy

    return reader_policy(required_endorsers(option))


def seconds(low: float, high: float | None = None) -> Any:
    """A click type for a number of seconds from `low` to `high`: click's FloatRange lets "nan" through (every
    comparison with it is false), and a NaN budget turned the deadline off."""
    import math

    import click

    class Seconds(click.FloatRange):
        def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
            number = click.FLOAT.convert(value, param, ctx)
            if not math.isfinite(number):
                self.fail(f"{value!r} is not a number of seconds", param, ctx)
            return super().convert(number, param, ctx)

    return Seconds(low, high)


def config_option(func: Any) -> Any:
    """--config PATH: the mirror.toml with [publisher] and [hosts]."""
    import click

    return click.option("--config", "config_path", type=given_path(exists=True, dir_okay=False, path_type=Path),
                        help="mirror.toml to use (default: the nearest one)")(func)


def json_option(func: Any) -> Any:
    """--json: one JSON object on stdout (schemas in docs/json.md)."""
    import click

    return click.option("--json", "as_json", is_flag=True,
                        help="one JSON object on stdout, for scripts (docs/json.md)")(func)


DEFAULT_KEYRING = "your data folder"  # where the keyring is when nothing else chose it


def keys_folder_for(option: Path | None, own: bool = False, strict: bool = False) -> tuple[Path, str]:
    """The keyring folder and where that choice came from: --keys, $MIRROR_KEYS, a workspace, or the default.

    A workspace's keyring decides a verdict only once this user works in it (cli/workspaces.py); a command that
    makes or uses its secret keys (`own`: keys new, create, endorse, publish, refresh) uses it all the same, and
    `remember_workspace` notes it once a key is made there or unlocked with a passphrase.
    """
    _workspace[:] = []  # this command's choice alone (tests run many commands in one process)
    given = option if option is not None else Path(os.environ[KEYS_ENV]) if os.environ.get(KEYS_ENV) else None
    if option is None and given is not None and not given.is_absolute():
        # set once for every command, it would be read in whatever folder a command runs: `MIRROR_KEYS=keys`, then
        # a verify in a stick's folder trusted the stick's keys/ (helper-161); --keys names a folder for one command
        value = os.environ[KEYS_ENV]
        if value.startswith("~") and not value.startswith(("~/", "~" + os.sep)) and value != "~":
            raise ConfigError(f"${KEYS_ENV} is not an absolute path: {value}",
                              hint="write the folder's whole path (a ~ in quotes stays a ~)")
        if value.startswith("~"):  # quoted, so the shell did not expand it (helper-163: "$PWD/~/keys" was offered)
            raise ConfigError(f"${KEYS_ENV} is not an absolute path: {value}",
                              hint=f"export {KEYS_ENV}=\"$HOME/{value[1:].lstrip('/')}\" (a ~ in quotes stays a ~)")
        raise ConfigError(f"${KEYS_ENV} is not an absolute path: {value}",
                          hint=f"export {KEYS_ENV}=\"$PWD/{value}\" to mean the one here, or pass --keys")
    _named[:] = [given] if given is not None else []
    if given is not None:
        return given, "--keys" if option is not None else f"${KEYS_ENV}"
    from mirror.folders import keys_folder
    from mirror.formats.names import printable
    from mirror.workspace import CONFIG_NAME, UNKNOWN_WORKSPACE_NOTE, current_folder, find_workspace

    ignored: list[tuple[Path, str]] = []
    try:
        workspace = find_workspace(current_folder(), ignored)
    except ConfigError as exc:
        if own or strict:  # the user's own work, or a key written: a mistake in it is said and stops the command
            raise
        # a broken mirror.toml on a stick or in a downloads folder above: it decides nothing, and stops no verdict
        warn(f"a mirror.toml here or above is not used as a workspace: {exc}")
        workspace = None
    if workspace is not None and not own:
        from mirror.cli.workspaces import is_known  # here: a verify outside a workspace (most are) needs none of it

        unknown = not is_known(workspace)
    else:
        unknown = False
    if workspace is not None and unknown:
        ignored.append((workspace.root / CONFIG_NAME, UNKNOWN_WORKSPACE_NOTE))
    for config, why in ignored:
        warn(f"{printable(str(config))} is not used as a workspace: {why}")
    if workspace is not None and unknown:
        keys = shell_word(workspace.keys)
        warn(f"  only if it is your own folder, moved or copied: pass --keys {keys} (its keys are then all trusted)")
        workspace = None
    _workspace[:] = [workspace] if workspace is not None else []
    if workspace is not None:
        return workspace.keys, f"workspace {workspace.root / CONFIG_NAME}"
    return keys_folder(), DEFAULT_KEYRING


_workspace: list[Workspace] = []  # the workspace whose keyring this command opened, if one did
_named: list[Path] = []  # the keys folder --keys or $MIRROR_KEYS named, if one did


def _named_workspace() -> Workspace | None:
    """The workspace here or above whose keys folder --keys or $MIRROR_KEYS named (`keys import --keys keys` in
    it): a record written there is remembered all the same. None when they named another folder."""
    from mirror.workspace import current_folder, find_workspace

    if not _named:
        return None
    try:
        found = find_workspace(current_folder())
    except ConfigError:
        return None
    same = found is not None and os.path.realpath(found.keys) == os.path.realpath(_named[0])
    return found if same else None


def recorded_here() -> dict[str, str]:
    """Name -> key id of the records this computer wrote into the keyring this command opened, if a workspace's
    (cli/workspaces.py `recorded_keys`); empty otherwise."""
    from mirror.cli.workspaces import recorded_keys

    target = _workspace[0] if _workspace else _named_workspace()
    return recorded_keys(target) if target is not None else {}


def remember_workspace(records: Iterable[KeyRecord] = ()) -> None:
    """Note the workspace whose keyring this command opened as this user's (cli/workspaces.py), and `records` as
    written into it here: a key was made or imported in it, or one of its keys unlocked with a passphrase."""
    from mirror.cli.workspaces import remember

    target = _workspace[0] if _workspace else _named_workspace()
    if target is not None:
        try:
            remember(target, records, known_too=bool(_workspace))  # through --keys: the records alone
        except (OSError, ConfigError) as exc:  # the key is made or used all the same: said, never lost unsaid
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            warn(f"warning: this computer could not note the workspace as yours ({reason}); verdicts there will "
                 "not use its keyring until it can")


_chosen: list[tuple[Path, str]] = []  # the keyring this command opened, and why that one (one command a process)


def open_keyring(option: Path | None, own: bool = False, strict: bool = False) -> Keyring:
    """The keyring for this command (`own`: one that makes or uses its secret keys; `strict`: one that writes a
    key, so a broken mirror.toml stops it rather than send the key elsewhere; see `keys_folder_for`)."""

    folder, source = keys_folder_for(option, own, strict)
    _chosen[:] = [(folder, source)]
    from mirror.workspace import not_yours

    why = not_yours(folder.resolve()) if folder.is_dir() else None  # --keys, $MIRROR_KEYS and the data folder too
    if why is None and folder.is_dir():  # and each key's files: one others may write was taken (helper-161)
        why = _a_key_not_yours(folder)
    if why is not None:  # whoever may change it may plant a key, or a record that says "in-person"
        theirs = why.startswith("it belongs to another user")  # chmod cannot change whose it is (helper-148)
        raise ConfigError(f"the keyring {folder} (chosen by {source}) must not decide whom you trust: {why}",
                          hint="use a keys folder of your own: copy it, or name another with --keys" if theirs else
                          "use a keys folder only you can change: chmod o-w, or another with --keys")
    ring = _filtered(folder)
    _opened[:] = [ring]
    return ring


def _a_key_not_yours(folder: Path) -> str | None:
    """Why a key's file in `folder` (NAME.pub, NAME.trust.json, NAME.key) must not decide anything, or None: a .pub
    and a record that says "in-person", written by another user into a folder that is yours, made their key yours."""
    from mirror.workspace import not_yours

    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.endswith((".pub", ".trust.json", ".key")):
                path = Path(entry.path)  # a link's own owner, and what it leads to (helper-163: a link to a file
                why = not_yours(path) or (_target_not_yours(path) if entry.is_symlink() else None)  # all may write)
                if why is not None:
                    return f"{entry.name}: {why}"
    return None


def _target_not_yours(link: Path) -> str | None:
    """`not_yours` of what a link leads to; None for a link that leads nowhere (a loop, a missing file): that is
    no key, and the keyring passes it over as one that cannot be read."""
    from mirror.workspace import not_yours

    try:
        target = link.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    return not_yours(target)


_opened: list[Keyring] = []  # the keyring this command opened, as it counts (`opened_keyring`)


def opened_keyring() -> Keyring | None:
    """The keyring this command opened (`open_keyring`), filtered as it was for its verdicts; None if none was."""
    return _opened[0] if _opened else None


def _filtered(folder: Path) -> Keyring:
    """The keyring in `folder`, counting in a workspace only the records this computer wrote there."""
    from mirror.trust.keyring import Keyring

    if not _workspace:
        return Keyring(folder)
    from mirror.cli.workspaces import recorded_keys, trusted_here

    # Whom a verdict, an endorsement or a publish trusts: in a workspace, only the records this computer wrote
    # there (a command that makes or uses keys too: endorse and publish trusted a key planted beside the user's)
    written = trusted_here(_workspace[0])
    if written is None:  # remembered before records were: all of it counts, as then
        return Keyring(folder)
    ring = Keyring(folder, allowed=lambda record: record.digest in written)
    from mirror.formats.names import printable

    recorded = recorded_keys(_workspace[0])  # name -> key id, as this computer wrote them there
    for name, record in ring.passed_over():  # another stick at this path, or keys added by whoever held the folder
        where = printable(str(folder / name))
        was = None if record is None else ring.replaced(name) or (
            recorded[name] if recorded.get(name, record.key_id_hex) != record.key_id_hex else None)
        if record is None:
            warn(f"{where}.pub is not used: it is not a key this computer wrote")
        elif was is not None:  # never an import hint here: that would make the replacement trusted
            warn(f"{where}.pub is not used: it now holds key {record.key_id_hex}, not key {was} that its record was "
                 "written for; someone replaced it: do not import it, ask its owner for their key")
        elif record.has_secret and record.checked == "own" and ring.secret_is_encrypted(name):
            warn(f"{where}.pub is not used: this computer did not make it in this workspace, nor unlock it there; "
                 "if it is yours, use it once with its passphrase (mirror create, endorse or publish)")
        elif record.has_secret and record.checked == "own":  # no passphrase: anyone could have put it there
            warn(f"{where}.pub is not used: this computer did not make it in this workspace, and its secret key has "
                 "no passphrase, so anyone could have put it there")
            warn(f"  if you made it, import it again with the fingerprint `keys new` showed you: mirror keys import "
                 f"{shell_word(Path(where + '.pub'))} --name {record.name} --fingerprint 'DIGITS'")
        else:
            warn(f"{where}.pub is not used: this computer did not make or import it in this workspace, nor record it "
                 f"as it is now (checked: {record.checked})")
            warn(f"  if you trust it, import it again with the fingerprint its owner gave you: mirror keys import "
                 f"{shell_word(Path(where + '.pub'))} --name {record.name} --fingerprint 'DIGITS'")
    return ring


def chosen_keyring() -> tuple[Path, str]:
    """The keyring folder this command opened (`open_keyring`), and why that one."""
    return _chosen[0]


def missing_keyring() -> tuple[Path, str] | None:
    """This command's keyring folder and why it was chosen, when that folder does not exist (a mistyped --keys or
    $MIRROR_KEYS): then no key is known, and a verdict says why."""
    if _chosen and not _chosen[0][0].is_dir():
        return _chosen[0]
    return None


def keys_words() -> str:
    """` --keys FOLDER` when this command's keyring came from --keys, else nothing: the `keys import` a verdict
    suggests must write into the keyring the verdict read (without it, the key went into another one, and the next
    `verify --keys FOLDER` still did not know it). $MIRROR_KEYS and a workspace choose the same one for both."""
    if _chosen and _chosen[0][1] == "--keys":
        return " --keys " + shell_word(_chosen[0][0])
    return ""


def keyring_from_workspace() -> tuple[Path, str] | None:
    """The keyring folder and its workspace's mirror.toml, when this command's keyring came from a workspace: a
    verdict then says so, since another folder's mirror.toml decided whom it trusts."""
    if _chosen and _chosen[0][1].startswith("workspace "):
        return _chosen[0][0], _chosen[0][1].removeprefix("workspace ")
    return None


def load_publish_config(option: Path | None) -> MirrorConfig:
    """--config, else the nearest mirror.toml.

    Raises:
        ConfigError: none found, or it is invalid.
    """
    from mirror.cli.workspaces import config_known, remember_config
    from mirror.formats.names import printable
    from mirror.publish.config import load_config
    from mirror.workspace import CONFIG_NAME

    path = option or nearest_config()
    if path is None:
        raise ConfigError(f"no {CONFIG_NAME} here or above", hint="pass --config PATH")
    if option is not None:  # named, so used; but not one any user may rewrite to send the passwords elsewhere
        from mirror.workspace import not_yours

        why = not_yours(option)
        if why == "every user may change it":
            raise ConfigError(f"{printable(str(option))} is not used: {why}", hint=f"chmod o-w {option}")
        if why is not None:
            warn(f"{printable(str(option))}: {why}")
    elif not config_known(path):  # found here or above: on a stick or in a download, it chooses where passwords go
        raise ConfigError(f"{printable(str(path))} is not used: you never named it, as it is now, with --config",
                          hint=f"if it is yours: --config {shell_word(path)} (once; and again after each change)")
    config = load_config(path)
    if option is not None:
        with contextlib.suppress(OSError, ConfigError):  # remembered for next time; the run goes on without
            remember_config(option)
    return config


def nearest_config() -> Path | None:
    """The nearest mirror.toml of yours at or above the current folder; one that is not yours is named and passed
    over (workspace.py, not_yours): publish would send passwords where it says."""
    from mirror.formats.names import printable
    from mirror.workspace import current_folder, find_config_file

    ignored: list[tuple[Path, str]] = []
    found = find_config_file(current_folder(), ignored)
    for config, why in ignored:
        warn(f"{printable(str(config))} is not used: {why}")
    return found


def ask_passphrase(name: str, confirm: bool = False) -> bytes:
    """The passphrase of key `name`: $MIRROR_PASSPHRASE, else asked at the terminal (never echoed).

    Raises:
        KeyringError: no terminal to ask at, or an empty answer.
    """
    from mirror.trust.keys import keep_secrets_out_of_dumps

    keep_secrets_out_of_dumps()
    env = os.environ.get(PASSPHRASE_ENV)
    if env:
        return env.encode("utf-8", "surrogateescape")  # the bytes as set, also when they are not UTF-8
    if sys.stdin is None or not sys.stdin.isatty():
        if env is not None:  # set, but to nothing: say so, not "set it"
            raise KeyringError(f"a passphrase is needed for key {name}, and {PASSPHRASE_ENV} is set but empty",
                               hint=f"put the passphrase in {PASSPHRASE_ENV}, or type it at a terminal")
        raise KeyringError(f"a passphrase is needed for key {name}",
                           hint=f"type it at a terminal, or set {PASSPHRASE_ENV}")
    import click

    try:
        value: str = click.prompt(translate(f"Passphrase for key {name}"), hide_input=True,
                                  confirmation_prompt=confirm, err=True)
    except UnicodeDecodeError:  # its message would quote the bytes typed
        raise KeyringError("what was typed is not text in this terminal's encoding",
                           hint=f"set the terminal to UTF-8, or put the passphrase in {PASSPHRASE_ENV}") from None
    except click.Abort as exc:  # Ctrl-D: nothing typed (Ctrl-C is an interruption: cli/app.py)
        if isinstance(exc.__context__, KeyboardInterrupt):
            raise
        raise KeyringError("no passphrase was typed", hint=f"type it at the prompt, or set {PASSPHRASE_ENV}") from None
    if not value:
        raise KeyringError("an empty passphrase is not allowed", hint="use --no-passphrase if you mean it")
    return value.encode("utf-8", "surrogateescape")


def at_terminal() -> bool:
    """Whether a passphrase is typed at a terminal (so a second try makes sense), not taken from the environment."""
    return not os.environ.get(PASSPHRASE_ENV) and sys.stdin is not None and sys.stdin.isatty()


def _escape(char: str) -> str:
    code = ord(char)
    if code > 0xFFFF:  # JSON spells a character outside the BMP as a surrogate pair
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def _escape_run(match: re.Match[str]) -> str:
    run = match[0]
    if run.isprintable():  # the usual case, checked in C
        return run
    return "".join(c if c.isprintable() or unicodedata.category(c) == "Zs" else _escape(c) for c in run)


def json_text(doc: Any, indent: int | None = 1) -> str:
    """JSON for a terminal or a script: UTF-8, with every control, bidi and other invisible character escaped."""
    text = json.dumps(doc, ensure_ascii=False, indent=indent)
    return _RUN.sub(_escape_run, text)


def echo(text: str, nl: bool = True, err: bool = False, data: bool = False) -> None:
    """Print `text` and flush; once the reader of stdout (or stderr) has gone (`mirror verify X | head -1`), the
    rest goes nowhere and the command still finishes, so its exit code is still the verdict's.

    A stream that cannot spell every character (a CP1251 terminal and a Kazakh title, PYTHONIOENCODING=ascii)
    gets the line in its own encoding, each character it lacks written as `\\u049b`: the rest of the line stays
    readable. `data` (JSON for scripts) always goes out in UTF-8, as JSON is read.
    """
    stream = sys.stderr if err else sys.stdout
    if stream is None:  # no standard stream at all
        return
    out = text + "\n" if nl else text
    try:
        binary = getattr(stream, "buffer", None)
        if data and binary is not None and not _utf8(stream):  # JSON always in UTF-8, as JSON is read: a document
            stream.flush()  # streamed in pieces was part KOI8-R, part UTF-8 (helper-152)
            binary.write(out.encode("utf-8", "replace"))
        else:
            try:
                stream.write(out)
            except UnicodeEncodeError:  # nothing written: the text is encoded whole before a write
                if binary is None:
                    raise
                stream.flush()
                binary.write(out.encode(stream.encoding or "ascii", "backslashreplace"))
        stream.flush()
    except BrokenPipeError:
        quiet_stream(stream)


def _utf8(stream: Any) -> bool:
    """Whether a text stream writes UTF-8."""
    import codecs

    try:
        return codecs.lookup(getattr(stream, "encoding", None) or "utf-8").name == "utf-8"
    except LookupError:
        return False


def terminal_encoding() -> str:
    """The encoding of stdout (UTF-8 when it is closed, `>&-`: nothing will be written anyway)."""
    return getattr(sys.stdout, "encoding", None) or "utf-8"


def quiet_stream(stream: Any) -> None:
    """Point the closed stream's descriptor at /dev/null: later writes and the flush at exit succeed quietly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError, io.UnsupportedOperation):
        pass


def dump_json(doc: Any) -> None:
    """Print one JSON document on stdout."""
    echo(json_text(doc), data=True)


def dump_json_streamed(doc: dict[str, Any], key: str, pairs: Iterable[tuple[str, Any]]) -> None:
    """Print `doc` with one more member, `key`: an object written one pair at a time as `pairs` yields them."""
    head = json_text(doc)
    echo(head[: head.rindex("}")].rstrip() + (",\n" if doc else "") + f" {json_text(key)}: {{", nl=False, data=True)
    separator = "\n"
    for name, value in pairs:
        echo(f"{separator}  {json_text(name)}: {json_text(value, None)}", nl=False, data=True)
        separator = ",\n"
    echo("\n }\n}", data=True)


def _for_terminal(char: str) -> str:
    return char if char.isprintable() or char in "\n\t" or unicodedata.category(char) == "Zs" else \
        char.encode("unicode_escape", "backslashreplace").decode("ascii")


def terminal_text(line: str) -> str:
    """`line` with every control, bidi and other invisible character escaped (\\x1b, \\u202e), so that nothing
    printed (a file name, a title, a host's words) can move the cursor or redraw a verdict; lines stay lines."""
    return line if line.isprintable() else "".join(_for_terminal(c) for c in line)


def say(line: str = "") -> None:
    """One line on stdout, in the reader's language, with control characters escaped; a line break in it (from a
    file name: "fl\nip.7z") is written as \n, so that no name a sender chose can print a line of its own under
    a verdict."""
    echo(terminal_text(translate(line)).replace("\n", "\\n"))


def say_differing(differing: Sequence[tuple[str, Path]]) -> None:
    """Say which endorsements two inputs carried different copies of (join and extract of parts): the first given
    was kept, and nothing here can tell which copy checks out."""
    from mirror.formats.names import printable

    for name, path in differing:
        key = name.rsplit("/", 1)[-1].removesuffix(".minisig")
        shown = printable(str(path))
        say(f"  {shown} carries another copy of the endorsement by key {key}, which no key you hold can check: "
            f"the one given first was kept (to keep this one, give {shown} first)")


def warn(line: str) -> None:
    """One line on stderr, like `say`."""
    echo(terminal_text(translate(line)).replace("\n", "\\n"), err=True)


def _shell_escape(char: str) -> str:
    code = ord(char)
    if char in "\\'":
        return "\\" + char
    if char.isprintable():
        return char
    if 0xDC80 <= code <= 0xDCFF:  # a byte that is not UTF-8 in a file name (os.fsdecode's surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x80:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def shell_word(path: Path) -> str:
    """`path` as one shell word that reads back as exactly this file and that no command takes for an option:
    `./-x.7z` for `-x.7z`, quoted as needed; a name with control or invisible characters is written `$'...'`
    with escapes (bash, zsh, ksh), so that it is still exact and nothing reaches the terminal raw."""
    text = str(path)
    if text.startswith("-"):
        text = f"./{text}"
    if text.isprintable():
        import shlex

        return shlex.quote(text)
    return "$'" + "".join(_shell_escape(c) for c in text) + "'"



def signing_key(ring: Keyring, key_name: str | None, role: str | None = None) -> str:
    """The key to sign with: --key NAME, or the only secret key in the keyring. Checked before any work, so that
    a mistyped name is said at once, not after minutes of reading a large collection.

    In a workspace, a secret key this computer did not make or unlock there signs only if it has a passphrase
    (unlocking it shows it is the user's): one without could have come with the folder, and a bundle would go
    out signed by whoever put it there.

    Raises:
        ConfigError: no --key, and not exactly one secret key.
        KeyringError: no secret key named --key NAME, or one that came with the folder without a passphrase.
    """
    secret = ring.secret_names()
    unproven: set[str] = set()
    if ring.allowed is not None:
        unproven = {name for name in secret
                    if not ring.allowed(ring.get(name)) and not ring.secret_is_encrypted(name)}
        if key_name in unproven:
            raise KeyringError(f"the secret key {key_name} in {ring.folder} has no passphrase and this computer did "
                               "not make it there: anyone could have put it there",
                               hint=f"if you made it, import it again with the fingerprint `keys new` showed you: "
                                    f"mirror keys import {shell_word(ring.folder / (key_name + '.pub'))} --name "
                                    f"{key_name} --fingerprint 'DIGITS'")
        secret = [name for name in secret if name not in unproven]
    listed = (f"secret keys in {ring.folder}: {', '.join(secret)}" if secret
              else f"the secret keys in {ring.folder} came with the folder without a passphrase "
                   f"({', '.join(sorted(unproven))}): make your own with `mirror keys new NAME`" if unproven
              else f"no secret key in {ring.folder} yet: make one with `mirror keys new NAME`")
    if key_name is not None:
        name = key_name
        if name not in secret:
            raise KeyringError(f"no secret key named {name} in {ring.folder}", hint=listed)
    elif len(secret) != 1:
        raise ConfigError("name the signing key with --key NAME", hint=listed)
    else:
        name = secret[0]
    roles_of = ring.get(name).roles if role is not None else ()
    if role is not None and role not in roles_of:
        # what it signed would not verify as this user's own: a publisher-only key's bundle was "UNKNOWN SIGNER,
        # publisher only" to its own author (helper-161)
        roles = ", ".join(roles_of) or "no role"
        raise KeyringError(f"the key {name} is recorded as {roles}, not as {role}: what it signed would not verify "
                           f"as yours", hint=f"sign with a key made for it (mirror keys new NAME --role {role})")
    return name


def unlock_key(ring: Keyring, name: str) -> SecretKey:
    """The signing key `name`; at a terminal, a mistyped passphrase may be typed again (PASSPHRASE_ATTEMPTS)."""
    asked = 0

    def ask(key: str) -> bytes:
        nonlocal asked
        if asked:
            warn("wrong passphrase; try again")
        asked += 1
        return ask_passphrase(key)

    secret = ring.unlock(name, ask, attempts=PASSPHRASE_ATTEMPTS if at_terminal() else 1)
    if asked:  # the user knew its passphrase: the workspace it is in is theirs (a key with none proves nothing)
        record = ring.get(name)
        if record.public != secret.public:  # changed since it was unlocked: not the key the passphrase opened
            raise KeyringError(f"the key {name} changed while it was unlocked", hint="look at who else writes to "
                               f"{ring.folder}, and restore the key from a backup")
        remember_workspace([record])
    return secret
