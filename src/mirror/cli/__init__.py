"""The `mirror` command: parses, calls the library, prints, exits. Nothing else lives here.

Example::

    $ mirror keys new alice
    $ mirror create seeds -o bundles/almaty.7z --key alice
    $ mirror verify bundles/almaty.7z

Heavy modules are imported inside the commands so that `mirror --help` stays fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from mirror.errors import ExitCode, KeyringError, MirrorError

if TYPE_CHECKING:
    from mirror.trust.keyring import Keyring

PASSPHRASE_ENV = "MIRROR_PASSPHRASE"  # noqa: S105 - the name of a variable, not a secret


class MirrorGroup(click.Group):
    """The one place where errors become one stderr line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MirrorError as exc:
            _fail(str(exc), exc.hint, exc.exit_code)
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            _fail(f"{where}{exc.strerror or exc}", None, ExitCode.ERROR)
        except KeyboardInterrupt:
            _fail("interrupted", None, ExitCode.ERROR)


def _fail(message: str, hint: str | None, code: int) -> NoReturn:
    click.echo(f"mirror: {message}", err=True)
    if hint:
        click.echo(f"hint: {hint}", err=True)
    sys.exit(int(code))


@click.group(cls=MirrorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mirror")
def main() -> None:
    """Create, verify and extract signed bundles of accounts and photos.

    Exit codes: 0 ok; 1 error; 2 usage; 3 the bundle must not be trusted;
    4 incomplete; 5 intact but the signer is not in your keyring; 6 scan found
    identifying data.
    """


def keys_option(func: Any) -> Any:
    """--keys DIR, shared by every command that uses the keyring."""
    return click.option("--keys", "keys_dir", type=click.Path(file_okay=False, path_type=Path),
                        help="keys folder (default: $MIRROR_KEYS, the workspace's keys/, or your data folder)")(func)


def _keyring(keys_dir: Path | None) -> Keyring:
    from mirror.trust.keyring import Keyring, default_keys_dir
    from mirror.workspace import find_workspace

    workspace = find_workspace(Path.cwd()) if keys_dir is None and not os.environ.get("MIRROR_KEYS") else None
    return Keyring(default_keys_dir(keys_dir, workspace.keys if workspace else None))


def _passphrase(name: str, confirm: bool) -> bytes:
    env = os.environ.get(PASSPHRASE_ENV)
    if env:
        return env.encode()
    if not sys.stdin.isatty():
        raise KeyringError(f"a passphrase is needed for key {name}",
                           hint=f"type it at a terminal, or set {PASSPHRASE_ENV}")
    value: str = click.prompt(f"Passphrase for key {name}", hide_input=True, confirmation_prompt=confirm,
                              err=True)
    if not value:
        raise KeyringError("an empty passphrase is not allowed", hint="use --no-passphrase if you mean it")
    return value.encode()


# --- keys -----------------------------------------------------------------------------------------

@main.group()
def keys() -> None:
    """Make, list, export and import keys."""


@keys.command("new")
@click.argument("name")
@click.option("--no-passphrase", is_flag=True, help="store the secret key unencrypted (not recommended)")
@click.option("--role", "roles", multiple=True, type=click.Choice(["author", "publisher"]),
              help="what the key signs (default: both)")
@keys_option
def keys_new(name: str, no_passphrase: bool, roles: tuple[str, ...], keys_dir: Path | None) -> None:
    """Create the Ed25519 key pair NAME; the secret key is encrypted with a passphrase."""
    from mirror.trust.keyring import check_name
    from mirror.trust.keys import fingerprint

    ring = _keyring(keys_dir)
    check_name(name)
    passphrase = None if no_passphrase else _passphrase(name, confirm=True)
    record = ring.create(name, passphrase, roles or ("author", "publisher"))
    click.echo(f"created key {name} ({record.key_id_hex}) in {ring.folder}")
    click.echo(f"fingerprint: {fingerprint(record.public)}")
    if no_passphrase:
        click.echo("warning: the secret key is not encrypted; anyone with this disk can sign as you", err=True)


@keys.command("list")
@keys_option
def keys_list(keys_dir: Path | None) -> None:
    """List the keys in the keyring."""
    ring = _keyring(keys_dir)
    records = list(ring)
    if not records:
        click.echo(f"no keys in {ring.folder}", err=True)
    for record in records:
        secret = "secret+public" if record.has_secret else "public"
        click.echo(f"{record.name}\t{record.key_id_hex}\t{','.join(record.roles)}\t{secret}\tchecked: {record.checked}")


@keys.command("export")
@click.argument("name")
@keys_option
def keys_export(name: str, keys_dir: Path | None) -> None:
    """Print the public key NAME in minisign format."""
    click.echo(_keyring(keys_dir).get(name).public.to_text(), nl=False)


@keys.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", required=True, help="your name for this key")
@click.option("--role", "roles", multiple=True, type=click.Choice(["author", "publisher"]),
              help="what you trust it to sign (default: author)")
@click.option("--checked", type=click.Choice(["in-person", "qr", "phone", "first-use", "unchecked"]),
              default=None, help="how you checked the key belongs to its owner")
@click.option("--fingerprint", "expected", help="the fingerprint digits the owner gave you; must match")
@keys_option
def keys_import(file: Path, name: str, roles: tuple[str, ...], checked: str | None, expected: str | None,
                keys_dir: Path | None) -> None:
    """Add the public key in FILE to the keyring as NAME."""
    from mirror.formats.minisign import PublicKeyFile
    from mirror.trust.keys import fingerprint

    raw = file.read_bytes()[:4096].decode("utf-8", "replace")
    public = PublicKeyFile.from_text(raw, str(file))
    digits = fingerprint(public)
    if expected is not None:
        if "".join(expected.split()) != digits.replace(" ", ""):
            raise KeyringError(f"the fingerprint of {file} is {digits}, not the one you gave",
                               hint="do not import it; ask the owner to check again")
        checked = checked or "fingerprint"
    record = _keyring(keys_dir).import_public(name, public, roles or ("author",), checked or "unchecked")
    click.echo(f"imported {name} ({record.key_id_hex}) as {','.join(record.roles)}, checked: {record.checked}")
    click.echo(f"fingerprint: {digits}")
    if record.checked in ("unchecked", "first-use"):
        click.echo("warning: compare this fingerprint with the owner by phone or in person", err=True)


@keys.command("fingerprint")
@click.argument("name")
@click.option("--png", type=click.Path(dir_okay=False, path_type=Path), help="where to write the QR code PNG")
@click.option("--no-qr", is_flag=True, help="digits only")
@keys_option
def keys_fingerprint(name: str, png: Path | None, no_qr: bool, keys_dir: Path | None) -> None:
    """Show the fingerprint of NAME as digits and a QR code of its public key."""
    from mirror.cli.qr import write_qr
    from mirror.trust.keys import fingerprint

    ring = _keyring(keys_dir)
    record = ring.get(name)
    click.echo(f"{name}  key {record.key_id_hex}")
    click.echo(fingerprint(record.public))
    if not no_qr:
        target = png or ring.folder / f"{name}.qr.png"
        click.echo(write_qr(record.public.key_line, target), nl=False)
        click.echo(f"QR code of the public key written to {target}", err=True)


# --- bundles --------------------------------------------------------------------------------------

@main.command()
@click.argument("src", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), help="the bundle to write (.7z)")
@click.option("--key", "key_name", help="your signing key (default: the only secret key in the keyring)")
@click.option("--title", default="", help="a title for readers")
@click.option("--force", is_flag=True, help="replace an existing output file")
@click.option("--keep-metadata", is_flag=True, help="keep photo metadata (GPS, camera serial...) this once")
@click.option("--commit-originals", is_flag=True, help="record salted hashes of the original photos")
@click.option("--id", "bundle_id", help="bundle id, to publish a new version of an earlier bundle")
@click.option("--version", "version", type=click.IntRange(1, 2**31 - 1), default=1, help="bundle version")
@keys_option
def create(src: Path | None, out: Path | None, key_name: str | None, title: str, force: bool,
           keep_metadata: bool, commit_originals: bool, bundle_id: str | None, version: int,
           keys_dir: Path | None) -> None:
    """Pack the accounts and photos in SRC into one signed bundle."""
    from mirror.cli.output import run_create

    run_create(_keyring(keys_dir), src, out, key_name, title, force, keep_metadata, commit_originals,
               bundle_id, version, lambda name: _passphrase(name, confirm=False))


@main.command()
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="one JSON object on stdout, for scripts")
@keys_option
def verify(bundle: Path, as_json: bool, keys_dir: Path | None) -> None:
    """Check BUNDLE offline: intact, and signed by whom. Writes nothing."""
    from mirror.bundle.verify import verify_bundle
    from mirror.cli.output import report_failure, report_verified
    from mirror.errors import VerificationError

    try:
        result = verify_bundle(bundle, _keyring(keys_dir))
    except VerificationError as exc:
        report_failure(bundle, exc, as_json)
        _fail(str(exc), exc.hint, ExitCode.INVALID)
    report_verified(result, as_json)
    if not result.trusted:
        sys.exit(int(ExitCode.UNTRUSTED))


@main.command()
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("dest", type=click.Path(path_type=Path))
@click.option("--untrusted", is_flag=True, help="extract even if the signer is not in your keyring")
@keys_option
def extract(bundle: Path, dest: Path, untrusted: bool, keys_dir: Path | None) -> None:
    """Verify BUNDLE fully, then write its files into the new folder DEST."""
    from mirror.bundle.extract import extract_bundle

    result = extract_bundle(bundle, dest, _keyring(keys_dir), allow_untrusted=untrusted)
    who = result.verified.signer_name or f"unknown key {result.verified.key_id}"
    click.echo(f"extracted {result.files} files into {result.dest} (signed by {who})")


@main.command()
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="one JSON object on stdout")
@keys_option
def show(bundle: Path, as_json: bool, keys_dir: Path | None) -> None:
    """List what BUNDLE holds (title, languages, files, signer), after verifying it."""
    from mirror.bundle.verify import verify_bundle
    from mirror.cli.output import show_bundle

    result = verify_bundle(bundle, _keyring(keys_dir))
    show_bundle(result, as_json)
    if not result.trusted:
        sys.exit(int(ExitCode.UNTRUSTED))


@main.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="one JSON object on stdout")
def scan(path: Path, as_json: bool) -> None:
    """List identifying metadata in photos and personal identifiers in texts under PATH (a folder or bundle).

    Exits 6 when anything is found, 0 when nothing is.
    """
    from mirror.cli.output import report_scan
    from mirror.privacy.scan_paths import scan_path

    report = scan_path(path)
    report_scan(path, report, as_json)
    if report.findings:
        sys.exit(int(ExitCode.FOUND))


# --- mirrors --------------------------------------------------------------------------------------

def config_option(func: Any) -> Any:
    """--config PATH: the mirror.toml with [publisher] and [hosts]."""
    return click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                        help="mirror.toml to use (default: the nearest one)")(func)


@main.command()
@click.argument("bundles", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--to", "to", multiple=True, help="only these hosts (default: all in mirror.toml)")
@click.option("--dry-run", is_flag=True, help="show the plan; change nothing")
@config_option
@keys_option
def publish(bundles: tuple[Path, ...], to: tuple[str, ...], dry_run: bool, config_path: Path | None,
            keys_dir: Path | None) -> None:
    """Verify BUNDLES, sign a new index, and upload both to every host. Exit 4 if a required host failed."""
    from mirror.cli.publish import find_config, run_publish

    run_publish(find_config(config_path), _keyring(keys_dir), bundles, to, dry_run,
                lambda name: _passphrase(name, confirm=False))


@main.command()
@click.option("--to", "to", multiple=True, help="only these hosts")
@click.option("--dry-run", is_flag=True, help="show the plan; change nothing")
@config_option
@keys_option
def refresh(to: tuple[str, ...], dry_run: bool, config_path: Path | None, keys_dir: Path | None) -> None:
    """Sign a new index version with a new expiry and no new bundles, and publish it."""
    from mirror.cli.publish import find_config, run_publish

    run_publish(find_config(config_path), _keyring(keys_dir), (), to, dry_run,
                lambda name: _passphrase(name, confirm=False))


@main.command()
@click.option("--deep", is_flag=True, help="read every file back and check its hash")
@config_option
@keys_option
def status(deep: bool, config_path: Path | None, keys_dir: Path | None) -> None:
    """Show each host's index version and age, and which bundles are present."""
    from mirror.cli.publish import find_config, run_status

    run_status(find_config(config_path), _keyring(keys_dir), deep)


@main.command()
@click.argument("bundle_ids", nargs=-1)
@click.option("--mirror", "mirrors", multiple=True, help="a mirror URL, file:// URL or folder; repeat to add more")
@click.option("--all", "want_all", is_flag=True, help="every bundle in the index (the default without ids)")
@click.option("--dest", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              help="where verified bundles go (default: here)")
@click.option("--proxy", help="e.g. socks5h://127.0.0.1:9050 (Tor); names are resolved by the proxy")
@click.option("--strict", is_flag=True, help="refuse an expired index instead of warning")
@click.option("--timeout", type=click.FloatRange(1, 600), default=30.0, help="read timeout in seconds")
@click.option("--now", "now_text", hidden=True, help="pretend it is this UTC time (tests)")
@keys_option
def fetch(bundle_ids: tuple[str, ...], mirrors: tuple[str, ...], want_all: bool, dest: Path, proxy: str | None,
          strict: bool, timeout: float, now_text: str | None, keys_dir: Path | None) -> None:
    """Fetch bundles from mirrors with failover and resume, and verify them before they land in DEST."""
    from mirror.cli.output import report_fetch, report_mirrors
    from mirror.fetch.fetcher import FetchRequest
    from mirror.fetch.fetcher import fetch as run_fetch
    from mirror.formats.index import parse_time

    now = parse_time(now_text, "--now") if now_text else None
    request = FetchRequest(mirrors, dest, bundle_ids, want_all, proxy, strict, now, (min(10.0, timeout), timeout))
    from mirror.fetch.choose import NoIndex

    try:
        result = run_fetch(request, _keyring(keys_dir), lambda line: click.echo(line, err=True))
    except NoIndex as exc:
        report_mirrors(exc.reports)
        raise
    report_fetch(result)
    sys.exit(int(result.exit_code))


def run() -> None:
    """Entry point that turns an unexpected bug into one line instead of a traceback."""
    try:
        main()
    except Exception as exc:  # the outermost boundary: a bug must still not print a traceback
        if os.environ.get("MIRROR_DEBUG"):
            raise
        click.echo(f"mirror: internal error: {type(exc).__name__}: {exc}", err=True)
        click.echo("hint: run again with MIRROR_DEBUG=1 to see where, and report it", err=True)
        sys.exit(int(ExitCode.ERROR))


