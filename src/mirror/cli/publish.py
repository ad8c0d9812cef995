"""What `mirror publish`, `refresh` and `status` do at the command line: config, keys, output, exit codes.

Example::

    $ mirror publish bundles/almaty.7z
    OK    dav     index v5: 3 sent, 0 already there
    FAIL  usb     /media/usb/mirror: No such file or directory (required)
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import click

from mirror.errors import ConfigError, ExitCode, MirrorError
from mirror.formats.index import Index
from mirror.formats.minisign import PublicKeyFile
from mirror.publish.config import HostConfig, MirrorConfig, load_config
from mirror.publish.health import check_host
from mirror.publish.hosts import open_host
from mirror.publish.hosts.base import Host
from mirror.publish.plan import plan_publish, run_plan, sign_plan, staging_dir
from mirror.state import load_json, published_path
from mirror.trust.keyring import Keyring
from mirror.workspace import CONFIG_NAME, find_workspace

_LOCK = threading.Lock()


def log(line: str) -> None:
    """Progress lines from any thread, to stderr."""
    with _LOCK:
        click.echo(line, err=True)


def find_config(option: Path | None) -> MirrorConfig:
    """--config, else the nearest mirror.toml.

    Raises:
        ConfigError: none found, or it is invalid.
    """
    if option is not None:
        return load_config(option)
    workspace = find_workspace(Path.cwd())
    if workspace is None:
        raise ConfigError(f"no {CONFIG_NAME} here or above", hint="pass --config PATH")
    return load_config(workspace.root / CONFIG_NAME)


def _publisher(config: MirrorConfig, keyring: Keyring) -> tuple[str, PublicKeyFile]:
    if config.publisher is None:
        raise ConfigError(f"{config.path}: no [publisher] table", hint='add [publisher] with key = "NAME"')
    return config.publisher.key, keyring.get(config.publisher.key).public


def _hosts(config: MirrorConfig, names: tuple[str, ...]) -> list[tuple[HostConfig, Host]]:
    chosen = [config.host(n) for n in names] if names else list(config.hosts)
    if not chosen:
        raise ConfigError(f"{config.path}: no hosts", hint="add a [hosts.NAME] table with a url")
    return [(h, open_host(h)) for h in chosen]


def run_publish(config: MirrorConfig, keyring: Keyring, bundles: tuple[Path, ...], to: tuple[str, ...],
                dry_run: bool, ask_passphrase: Callable[[str], bytes]) -> None:
    """Publish (or with no bundles, refresh) and exit 4 if a required host failed."""
    name, public = _publisher(config, keyring)
    selected = _hosts(config, to)
    with staging_dir() as tmp:
        staging = Path(tmp)
        plan = plan_publish(config, [h for _, h in selected], public, bundles, keyring, datetime.now(UTC),
                            staging, log)
        click.echo(f"index version {plan.index.version}, expires {plan.index.expires}, "
                   f"{len(plan.index.bundles)} bundle(s), {len(plan.added)} added")
        if dry_run:
            for host_config, host in selected:
                click.echo(f"would send to {host_config.name}:")
                for upload in plan.uploads:
                    there = host.stat(upload.path) == upload.size
                    click.echo(f"  {'present' if there else 'send   '}  {upload.path} ({upload.size} bytes)")
                click.echo(f"  send     index/{plan.index.version}.json, index.json and their signatures")
                host.close()
            return
        passphrase = ask_passphrase(name) if keyring.secret_is_encrypted(name) else None
        secret = keyring.secret(name, passphrase)
        if secret.public != public:
            raise ConfigError(f"secret key {name} does not match {name}.pub")
        plan = sign_plan(plan, secret, staging)
        results = run_plan(plan, [h for _, h in selected], {c.name: c.required for c, _ in selected}, log)
    failed = False
    for result in results:
        if result.ok:
            click.echo(f"OK    {result.name}  index v{plan.index.version}: {len(result.sent)} sent, "
                       f"{len(result.present)} already there")
        else:
            failed = failed or result.required
            note = "required" if result.required else "optional"
            click.echo(f"FAIL  {result.name}  {result.error} ({note})")
    if failed:
        sys.exit(int(ExitCode.INCOMPLETE))


def run_status(config: MirrorConfig, keyring: Keyring, deep: bool) -> None:
    """One line per host; exit 4 if any host is stale, missing files, or damaged."""
    _, public = _publisher(config, keyring)
    local = load_json(published_path(keyring.get(config.publisher.key).key_id_hex if config.publisher else ""))
    expected = Index.from_bytes(local["index"].encode()) if local.get("index") else None
    now = datetime.now(UTC)
    bad = False
    for host_config, host in _hosts(config, ()):
        try:
            status = check_host(host, public, expected, now, deep)
        except MirrorError as exc:
            click.echo(f"FAIL  {host_config.name}  {exc}")
            bad = True
            continue
        age = f"{status.age_hours:.1f} h old" if status.age_hours is not None else "no index"
        version = f"v{status.version}" if status.version is not None else "-"
        word = "OK  " if status.ok else "STALE" if any("stale" in p or "expired" in p for p in status.problems) \
            else "FAIL"
        click.echo(f"{word}  {host_config.name}  index {version}, {age}, {status.present} bundle(s) present")
        for problem in status.problems:
            click.echo(f"      {problem}")
        bad = bad or not status.ok
    if bad:
        sys.exit(int(ExitCode.INCOMPLETE))
