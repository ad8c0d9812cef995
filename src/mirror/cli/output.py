"""What the commands print: verdicts, summaries, JSON. Part of the CLI layer, like cli.py.

Example::

    report_verified(result, as_json=False)
    # VERIFIED  bundles/almaty.7z
    #   signed by    alice (key 01F02ADB18FB02EC)
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mirror.bundle.verify import VerifiedBundle
from mirror.errors import ConfigError, ContentError, KeyringError, VerificationError
from mirror.formats.names import printable
from mirror.trust.keyring import Keyring

if TYPE_CHECKING:
    from mirror.fetch.choose import MirrorReport
    from mirror.fetch.fetcher import FetchResult
    from mirror.privacy.scan_paths import ScanReport


def _dump(doc: dict[str, Any]) -> None:
    click.echo(json.dumps(doc, ensure_ascii=False, indent=1))


def _counts(result: VerifiedBundle) -> dict[str, int]:
    files = result.meta.files
    return {"total": len(files), "accounts": sum(1 for f in files.values() if f.type.startswith("text/")),
            "photos": sum(1 for f in files.values() if f.type.startswith("image/"))}


def _summary(result: VerifiedBundle) -> dict[str, Any]:
    return {
        "verdict": "verified" if result.trusted else "untrusted",
        "path": str(result.path),
        "signer": {"name": result.signer_name, "key_id": result.key_id, "fingerprint": result.fingerprint,
                   "in_keyring": result.trusted},
        "bundle": {"id": result.meta.bundle_id, "version": result.meta.version, "title": result.meta.title,
                   "created": result.meta.created, "languages": list(result.meta.languages)},
        "files": _counts(result),
        "problems": [],
    }


def report_verified(result: VerifiedBundle, as_json: bool) -> None:
    """Print the verdict of a bundle that passed every integrity check."""
    if as_json:
        _dump(_summary(result))
        return
    counts = _counts(result)
    if result.trusted:
        click.echo(f"VERIFIED  {result.path}")
        click.echo(f"  signed by    {result.signer_name} (key {result.key_id})")
    else:
        click.echo(f"INTACT, UNKNOWN SIGNER  {result.path}")
        click.echo(f"  signed by    key {result.key_id}, which is not in your keyring")
    click.echo(f"  fingerprint  {result.fingerprint}")
    click.echo(f"  bundle       {result.meta.title!r}, version {result.meta.version}, id {result.meta.bundle_id}")
    click.echo(f"  files        {counts['accounts']} accounts, {counts['photos']} photos, all sha256 match")
    if not result.trusted:
        click.echo("  compare the fingerprint with the author by phone or in person, then:"
                   " mirror keys import KEY.pub --name NAME --fingerprint '...'")


def report_failure(path: Path, exc: VerificationError, as_json: bool) -> None:
    """Print the verdict of a bundle that must not be trusted."""
    problems = list(exc.problems) if isinstance(exc, ContentError) else [str(exc)]
    if as_json:
        _dump({"verdict": "invalid", "path": str(path), "error": str(exc), "problems": problems})
        return
    click.echo(f"FAILED  {path}: do not trust this bundle")
    for problem in problems:
        click.echo(f"  {problem}")


def show_bundle(result: VerifiedBundle, as_json: bool) -> None:
    """List a verified bundle's contents."""
    if as_json:
        doc = _summary(result)
        doc["contents"] = {p: m.to_json() for p, m in sorted(result.meta.files.items())}
        _dump(doc)
        return
    report_verified(result, False)
    # Text from the bundle is printed escaped: it may come from a key nobody vouched for, and a terminal
    # escape sequence in it could redraw the verdict above.
    click.echo(f"  languages    {printable(', '.join(result.meta.languages)) or '-'}")
    click.echo(f"  created      {printable(result.meta.created)}")
    for path, meta in sorted(result.meta.files.items()):
        extra = meta.extra
        label = " | ".join(printable(str(extra[k])) for k in ("date", "place", "title") if extra.get(k))
        click.echo(f"  {meta.size:>10}  {printable(path)}" + (f"  ({label})" if label else ""))


def report_scan(path: Path, report: ScanReport, as_json: bool) -> None:
    """Print what `mirror scan` found, one line per finding."""
    if as_json:
        _dump({"path": str(path), "scanned": report.scanned, "skipped": report.skipped,
               "findings": [{"path": f.path, "kind": f.kind, "detail": f.detail} for f in report.findings]})
        return
    for finding in report.findings:  # values come from the files scanned: printed escaped
        click.echo(f"{printable(finding.path)}: {finding.kind}: {printable(finding.detail)}")
    files = len({f.path for f in report.findings})
    verdict = f"FOUND {len(report.findings)} item(s) in {files} file(s)" if report.findings else "CLEAN"
    click.echo(f"{verdict}: scanned {report.scanned} file(s) in {path}"
               + (f", {len(report.skipped)} not scanned (not photos or texts)" if report.skipped else ""))


def report_mirrors(reports: dict[str, MirrorReport]) -> None:
    """One line per mirror: what it did."""
    for report in reports.values():
        click.echo(f"mirror  {report.fate:<10} {report.label}" + (f"  ({report.detail})" if report.detail else ""))


def report_fetch(result: FetchResult) -> None:
    """What each mirror did, then which bundles arrived."""
    report_mirrors(result.reports)
    for arrival in result.arrivals:
        entry = arrival.entry
        if arrival.path is not None:
            click.echo(f"ARRIVED  {entry.title!r} v{entry.version} -> {arrival.path}  {arrival.note}")
        else:
            click.echo(f"MISSING  {entry.title!r} v{entry.version} ({entry.id})" + (f"  {arrival.note}"
                                                                                  if arrival.note else ""))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "bundle"


def _signing_key(ring: Keyring, key_name: str | None) -> str:
    if key_name is not None:
        return key_name
    secret = [r.name for r in ring if r.has_secret]
    if len(secret) != 1:
        raise ConfigError("name the signing key with --key NAME",
                          hint=f"secret keys in {ring.folder}: {', '.join(secret) or 'none (mirror keys new NAME)'}")
    return secret[0]


def run_create(ring: Keyring, src: Path | None, out: Path | None, key_name: str | None, title: str,
               force: bool, keep_metadata: bool, commit_originals: bool, bundle_id: str | None,
               version: int, ask_passphrase: Callable[[str], bytes]) -> None:
    """`mirror create`: defaults from the workspace, unlock the key, build, report."""
    from mirror.bundle.create import CreateRequest, create_bundle
    from mirror.cli.progress import byte_progress
    from mirror.workspace import find_workspace

    workspace = find_workspace(Path.cwd())
    if src is None:
        if workspace is None:
            raise ConfigError("name the folder to bundle", hint="mirror create SRC -o OUT.7z --key NAME")
        src = workspace.sources
    if out is None:
        if workspace is None:
            raise ConfigError("name the output with -o OUT.7z")
        stamp = datetime.now(UTC).strftime("%Y%m%d")
        out = workspace.bundles / f"{_slug(title or src.resolve().name)}-{stamp}.7z"
    if out.suffix.lower() != ".7z":
        raise ConfigError(f"{out}: the output name must end in .7z")
    if out.exists() and not force:  # atomic_output checks again; this one spares a passphrase prompt
        raise ConfigError(f"{out} already exists", hint="pass --force to replace it")
    name = _signing_key(ring, key_name)
    passphrase = ask_passphrase(name) if ring.secret_is_encrypted(name) else None
    secret = ring.secret(name, passphrase)
    if secret.public != ring.get(name).public:
        raise KeyringError(f"secret key {name} does not match {name}.pub")
    request = CreateRequest(src, out, title, force, keep_metadata, commit_originals, bundle_id, version)
    total = sum(p.stat().st_size for p in src.rglob("*") if p.is_file() and not p.is_symlink())
    with byte_progress(total, "create") as progress:
        result = create_bundle(request, secret, progress)
    click.echo(f"created {result.out}: {result.accounts} accounts, {result.photos} photos, "
               f"{result.size} bytes, signed by {name}")
    click.echo(f"  bundle id {result.bundle_id}, version {result.version}")
    if result.salts:
        from mirror.privacy.originals import save_salts

        where = save_salts(result.bundle_id, result.salts)
        click.echo(f"  salts for the original photos kept privately in {where} (never publish them)")
