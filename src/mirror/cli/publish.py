"""`mirror publish`, `refresh` and `status`: bundles and a signed index to every host, and their health.

Example::

    $ mirror publish bundles/almaty.7z
    OK    dav     index v5: 3 sent, 0 already there
    FAIL  usb     /media/usb/mirror: No such file or directory (required)
"""

from __future__ import annotations

import contextlib
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mirror.cli.app import main
from mirror.cli.common import (
    config_option,
    dump_json,
    given_path,
    json_option,
    keys_option,
    load_publish_config,
    open_keyring,
    say,
    signing_key,
    unlock_key,
)
from mirror.errors import ConfigError, ExitCode, KeyringError

if TYPE_CHECKING:
    from mirror.formats.minisign import PublicKeyFile
    from mirror.publish.config import MirrorConfig
    from mirror.publish.hosts.base import Host
    from mirror.publish.plan import Plan
    from mirror.trust.keyring import Keyring

_LOCK = threading.Lock()


def log(line: str) -> None:
    """Progress lines from any thread, to stderr (above the progress bar, if one is showing)."""
    from mirror.cli.progress import echo_err

    with _LOCK:
        echo_err(line)


def _publisher(config: MirrorConfig, keyring: Keyring) -> tuple[str, PublicKeyFile]:
    if config.publisher is None:
        raise ConfigError(f"{config.path}: no [publisher] table", hint='add [publisher] with key = "NAME"')
    return config.publisher.key, keyring.get(config.publisher.key).public


def _check_secret(keyring: Keyring, name: str) -> None:
    """What the run will unlock, checked without its passphrase: the dry run passed with the secret key file gone
    (only its public record was looked at), and the run then failed (helper-167).

    Raises:
        KeyringError: the secret key file is missing, cannot be read, is damaged, or is another key's half.
    """
    try:
        keyring.check_secret(name)
    except KeyringError:
        raise
    except (ConfigError, OSError) as exc:
        why = exc.strerror or str(exc) if isinstance(exc, OSError) else str(exc.args[0] if exc.args else exc)
        raise KeyringError(f"the secret key file of the publisher key {name} cannot be read: {why}",
                           hint="the run itself would stop there: put the key's .key file back in the keyring, "
                                "readable by you") from None


def _hosts(config: MirrorConfig, names: tuple[str, ...]) -> list[Host]:
    from mirror.publish.hosts import open_host

    # a name given twice (--to a --to a) sent to that host twice at once, and said OK twice
    chosen = [config.host(n) for n in dict.fromkeys(names)] if names else list(config.hosts)
    if not chosen:
        raise ConfigError(f"{config.path}: no hosts", hint="add a [hosts.NAME] table with a url")
    return [open_host(h) for h in chosen]


def _print_dry_run(plan: Plan, hosts: dict[str, dict[str, Any]]) -> None:
    for name, host in hosts.items():
        if host["error"] is not None:
            say(f"nothing would be sent to {name}: {host['error']}")
            continue
        say(f"would send to {name}:")
        for item in host["files"]:
            say(f"  {'present' if item['present'] else 'send   '}  {item['path']} ({item['size']} bytes)")
        say(f"  send     index/{plan.index.version}.json, index.json and their signatures")


def run_publish(config_path: Path | None, keys_dir: Path | None, bundles: tuple[Path, ...], to: tuple[str, ...],
                dry_run: bool, as_json: bool, clock_is_right: bool = False, withdraw: tuple[str, ...] = ()) -> None:
    """Publish (or with no bundles, refresh) and exit 4 if a required host failed."""
    from mirror.formats.minisign import key_id_hex
    from mirror.publish import send
    from mirror.publish.plan import plan_publish, sign_plan, staging_dir
    from mirror.publish.state import publishing, record_holding

    config, keyring = load_publish_config(config_path), open_keyring(keys_dir, own=True)
    name, public = _publisher(config, keyring)
    # The passphrase is asked before the bundles are checked and the hosts asked, so that a mistyped one is said
    # at once, and before the publisher's lock is taken (a refresh from cron is not kept out while it is typed).
    if dry_run:  # the dry run fails where the run would: its role (helper-163), its secret key file (helper-167)
        _check_secret(keyring, signing_key(keyring, name, "publisher"))
    secret = None if dry_run else unlock_key(keyring, signing_key(keyring, name, "publisher"))
    hosts = _hosts(config, to)
    with contextlib.nullcontext() if dry_run else publishing(key_id_hex(public.key_id)), staging_dir() as tmp:
        staging = Path(tmp)
        plan = plan_publish(config, hosts, public, bundles, keyring, datetime.now(UTC), staging, log,
                            clock_is_right=clock_is_right, withdraw=frozenset(withdraw))
        doc: dict[str, Any] = {"index": {"version": plan.index.version, "expires": plan.index.expires,
                                         "bundles": len(plan.index.bundles)}, "added": list(plan.added)}
        if not as_json:
            say(f"index version {plan.index.version}, expires {plan.index.expires}, "
                f"{len(plan.index.bundles)} bundle(s), {len(plan.added)} added")
        if dry_run:
            doc["dry_run"] = send.dry_run(plan, hosts, config, log)
            if as_json:
                dump_json(doc)
            else:
                _print_dry_run(plan, doc["dry_run"])
            if any(doc["dry_run"][h.name]["error"] and config.host(h.name).required for h in hosts):
                sys.exit(int(ExitCode.INCOMPLETE))  # as the publish itself would
            return
        assert secret is not None  # noqa: S101 - a dry run returned above
        plan = sign_plan(plan, secret, staging)
        from mirror.cli.progress import byte_progress

        with byte_progress(send.total_bytes(plan, hosts), "publish") as advance:
            results = send.run_plan(plan, hosts, config, log, advance)
        record_holding(plan.index.publisher_key, send.holding_after(plan, results, config))
    doc["hosts"] = [{"name": r.name, "ok": r.ok, "required": r.required, "sent": r.sent, "present": r.present,
                     "error": r.error, "failure": r.failure} for r in results]
    if as_json:
        dump_json(doc)
    else:
        for result in results:
            if result.ok:
                say(f"OK    {result.name}  index v{plan.index.version}: {len(result.sent)} sent, "
                    f"{len(result.present)} already there")
            else:
                note = "required" if result.required else "optional"
                say(f"FAIL  {result.name}  {result.error} ({note})")
    if any(r.required and not r.ok for r in results):
        sys.exit(int(ExitCode.INCOMPLETE))


@main.command()
@click.argument("bundles", nargs=-1, type=given_path(exists=True, dir_okay=False, path_type=Path))
@click.option("--to", "to", multiple=True, help="only these hosts (default: all in mirror.toml)")
@click.option("--withdraw", "withdraw", multiple=True, metavar="ID",
              help="leave the bundle with this id out of the new index (its files stay on the hosts)")
@click.option("--dry-run", is_flag=True, help="show the plan; change nothing")
@click.option("--clock-is-right", is_flag=True,
              help="sign even though the last index was signed later than this machine's clock says it is now")
@json_option
@config_option
@keys_option
def publish(bundles: tuple[Path, ...], to: tuple[str, ...], withdraw: tuple[str, ...], dry_run: bool,
            clock_is_right: bool, as_json: bool, config_path: Path | None, keys_dir: Path | None) -> None:
    """Verify BUNDLES, sign a new index, and upload both to every host. Exit 4 if a required host failed."""
    run_publish(config_path, keys_dir, bundles, to, dry_run, as_json, clock_is_right, withdraw)


@main.command()
@click.option("--to", "to", multiple=True, help="only these hosts")
@click.option("--withdraw", "withdraw", multiple=True, metavar="ID",
              help="leave the bundle with this id out of the new index (its files stay on the hosts)")
@click.option("--dry-run", is_flag=True, help="show the plan; change nothing")
@click.option("--clock-is-right", is_flag=True,
              help="sign even though the last index was signed later than this machine's clock says it is now")
@json_option
@config_option
@keys_option
def refresh(to: tuple[str, ...], withdraw: tuple[str, ...], dry_run: bool, clock_is_right: bool, as_json: bool,
            config_path: Path | None, keys_dir: Path | None) -> None:
    """Sign a new index version with a new expiry and no new bundles, and publish it; --withdraw ID leaves a
    bundle out of it."""
    run_publish(config_path, keys_dir, (), to, dry_run, as_json, clock_is_right, withdraw)


@main.command()
@click.option("--deep", is_flag=True, help="read every file back and check its hash")
@json_option
@config_option
@keys_option
def status(deep: bool, as_json: bool, config_path: Path | None, keys_dir: Path | None) -> None:
    """Show each host's index version and age, and which bundles are present. Exit 4 if any is not OK."""
    from mirror.publish.health import check_hosts
    from mirror.publish.state import load_published

    config, keyring = load_publish_config(config_path), open_keyring(keys_dir)
    _, public = _publisher(config, keyring)
    local = load_published(keyring.get(config.publisher.key).key_id_hex) if config.publisher else None
    expected = local.index if local is not None else None
    now = datetime.now(UTC)
    statuses = check_hosts(_hosts(config, ()), config, public, expected, now, deep, log,
                           local.sides if local is not None else None)
    rows: list[dict[str, Any]] = [
        {"name": s.name, "state": s.state.value, "version": s.version,
         "age_hours": None if s.age_hours is None else round(s.age_hours, 2), "present": s.present,
         "problems": s.problems} for s in statuses]
    if as_json:
        dump_json({"expected_version": expected.version if expected else None, "hosts": rows})
    else:
        for row in rows:
            age = f"{row['age_hours']:.1f} h old" if row["age_hours"] is not None else "no index"
            version = f"v{row['version']}" if row["version"] is not None else "-"
            say(f"{row['state'].upper():<6} {row['name']}  index {version}, {age}, {row['present']} bundle(s) present")
            for problem in row["problems"]:
                say(f"       {problem}")
    if any(row["state"] != "ok" for row in rows):
        sys.exit(int(ExitCode.INCOMPLETE))
