"""`mirror verify`, `show` and `extract`: a bundle's life on the reader's machine (create is in create.py).

Example::

    $ mirror verify bundles/almaty.7z
    VERIFIED  bundles/almaty.7z
      signed by    alice (key 01F02ADB18FB02EC)
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mirror.cli import fail, main
from mirror.cli.common import (
    dump_json,
    dump_json_streamed,
    endorsers_option,
    json_option,
    keys_option,
    open_keyring,
    reader_policy_for,
    required_endorsers,
    say,
    warn,
)
from mirror.errors import ContentError, ExitCode, VerificationError
from mirror.formats.names import printable

if TYPE_CHECKING:
    from mirror.bundle.verify import VerifiedBundle

BUNDLE = click.Path(exists=True, dir_okay=False, path_type=Path)


def slug(text: str) -> str:
    """A file-name-safe form of a title."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "bundle"


def signer_words(verified: VerifiedBundle) -> str:
    """Who signed, in words: the author's name, or the unknown key and, if endorsers made it trusted, who."""
    if verified.signer_name is not None:
        return verified.signer_name
    if verified.trusted:
        return f"unknown key {verified.key_id}, {verified.verdict.reason}"
    return f"unknown key {verified.key_id}"


def _counts(result: VerifiedBundle) -> dict[str, int]:
    from mirror.formats.manifest import PAGE_TYPE

    files = [f for f in result.meta.files.values() if f.type != PAGE_TYPE]  # the page is not content
    return {"total": len(files), "accounts": sum(1 for f in files if f.type.startswith("text/")),
            "photos": sum(1 for f in files if f.type.startswith("image/"))}


def _endorsements_json(result: VerifiedBundle) -> list[dict[str, Any]]:
    return [{"member": e.name, "key_id": e.key_id, "status": e.status, "endorser": e.signer_name, "claim": e.claim,
             "reason": e.reason or None} for e in result.endorsements]


def _summary(result: VerifiedBundle, required: int = 0) -> dict[str, Any]:
    return {
        "verdict": "verified" if result.trusted else "untrusted",
        "path": str(result.path),
        "signer": {"name": result.signer_name, "key_id": result.key_id, "fingerprint": result.fingerprint,
                   "in_keyring": result.signer_name is not None},
        "trust": {"trusted": result.trusted, "reason": result.verdict.reason, "require_endorsers": required,
                  "vouched_by": [r.name for r in result.verdict.vouchers if r.public != result.public]},
        "bundle": {"id": result.meta.bundle_id, "version": result.meta.version, "title": result.meta.title,
                   "created": result.meta.created, "languages": list(result.meta.languages)},
        "files": _counts(result),
        "endorsements": _endorsements_json(result),
        "problems": [],
    }


def report_verified(result: VerifiedBundle, as_json: bool, required: int = 0) -> None:
    """Print the verdict of a bundle that passed every integrity check (`required`: the endorsers the reader asks
    for when the author is not in the keyring, 0 when only the author decides)."""
    if as_json:
        dump_json(_summary(result, required))
        return
    counts = _counts(result)
    if result.trusted and result.signer_name is not None:
        say(f"VERIFIED  {result.path}")
        say(f"  signed by    {result.signer_name} (key {result.key_id})")
    elif result.trusted:  # the author is unknown, but the reader's policy counts endorsements
        say(f"VERIFIED  {result.path}")
        say(f"  signed by    key {result.key_id}, which is not in your keyring")
        say(f"  trusted      {result.verdict.reason}")
    else:
        say(f"INTACT, UNKNOWN SIGNER  {result.path}")
        say(f"  signed by    key {result.key_id}, which is not in your keyring")
    say(f"  fingerprint  {result.fingerprint}")
    say(f"  bundle       {result.meta.title!r}, version {result.meta.version}, id {result.meta.bundle_id}")
    say(f"  files        {counts['accounts']} accounts, {counts['photos']} photos, all sha256 match")
    _report_endorsements(result)
    if not result.trusted and required:
        found = sum(1 for e in result.endorsements if e.status == "trusted" and e.claim == "knows-author")
        say(f"  not enough   {found} of the {required} knows-author endorsements you require come from your keyring")
    if not result.trusted and result.signer_name is None:
        quoted = shlex.quote(str(result.path))  # the exact command for this file, for a POSIX shell
        say(f"  compare the fingerprint with the author by phone or in person, then: mirror keys import {quoted} "
            "--name NAME --fingerprint 'DIGITS THE AUTHOR GAVE YOU'")


def _report_endorsements(result: VerifiedBundle) -> None:
    unknown = [e.key_id for e in result.endorsements if e.status == "unknown"]
    for found in result.endorsements:
        who = f"{found.signer_name} (key {found.key_id})"
        if found.status == "trusted":
            say(f"  endorsed by  {who}: {found.claim}")
        elif found.status == "invalid":
            say(f"  endorsement  by {who} is INVALID and ignored: {printable(found.reason)}")
    if unknown:
        say(f"  endorsements {len(unknown)} from keys not in your keyring (not checked; --json lists their key ids)")


def report_failure(path: Path, exc: VerificationError, as_json: bool) -> None:
    """Print the verdict of a bundle that must not be trusted."""
    problems = list(exc.problems) if isinstance(exc, ContentError) else [str(exc)]
    if as_json:
        dump_json({"verdict": "invalid", "path": str(path), "error": str(exc), "problems": problems})
        return
    say(f"FAILED  {path}: do not trust this bundle")
    for problem in problems:
        say(f"  {problem}")


@main.command()
@click.argument("bundle", type=BUNDLE)
@json_option
@endorsers_option
@keys_option
def verify(bundle: Path, as_json: bool, require_endorsers: int | None, keys_dir: Path | None) -> None:
    """Check BUNDLE offline: intact, and signed by whom. Writes nothing."""
    from mirror.bundle.verify import verify_bundle
    from mirror.trust.policy import reader_policy

    required = required_endorsers(require_endorsers)
    try:
        result = verify_bundle(bundle, open_keyring(keys_dir), policy=reader_policy(required))
    except VerificationError as exc:
        report_failure(bundle, exc, as_json)
        fail(str(exc), exc.hint, ExitCode.INVALID)
    report_verified(result, as_json, required)
    if not result.trusted:
        sys.exit(int(ExitCode.UNTRUSTED))


@main.command()
@click.argument("bundle", type=BUNDLE)
@json_option
@endorsers_option
@keys_option
def show(bundle: Path, as_json: bool, require_endorsers: int | None, keys_dir: Path | None) -> None:
    """List what BUNDLE holds (title, languages, files, signer), after verifying it."""
    from mirror.bundle.verify import verify_bundle
    from mirror.formats.manifest import META_NAME, file_details
    from mirror.trust.policy import reader_policy

    required = required_endorsers(require_endorsers)
    result = verify_bundle(bundle, open_keyring(keys_dir), policy=reader_policy(required))
    details = file_details(result.control[META_NAME])  # one file at a time: memory does not grow with them
    if as_json:
        dump_json_streamed(_summary(result, required), "contents", ((p, m.to_json()) for p, m in details))
    else:
        report_verified(result, False, required)
        # Text from the bundle is printed escaped: it may come from a key nobody vouched for, and a terminal
        # escape sequence in it could redraw the verdict above.
        say(f"  languages    {printable(', '.join(result.meta.languages)) or '-'}")
        say(f"  created      {printable(result.meta.created)}")
        for path, meta in details:
            extra = meta.extra
            label = " | ".join(printable(str(extra[k])) for k in ("date", "place", "title") if extra.get(k))
            say(f"  {meta.size:>10}  {printable(path)}" + (f"  ({label})" if label else ""))
    if not result.trusted:
        sys.exit(int(ExitCode.UNTRUSTED))


@main.command()
@click.argument("bundle", type=BUNDLE)
@click.argument("dest", required=False, type=click.Path(path_type=Path))
@click.option("--untrusted", is_flag=True, help="extract even if the signer is not in your keyring")
@endorsers_option
@keys_option
def extract(bundle: Path, dest: Path | None, untrusted: bool, require_endorsers: int | None,
            keys_dir: Path | None) -> None:
    """Verify BUNDLE fully, then write its files into the new folder DEST (default: the bundle's readable name)."""
    from mirror.bundle.extract import extract_bundle

    result = extract_bundle(bundle, dest, open_keyring(keys_dir), allow_untrusted=untrusted,
                            policy=reader_policy_for(require_endorsers))
    who = signer_words(result.verified)
    say(f"extracted {result.files} files into {result.dest} (signed by {who})")


@main.command("open")
@click.argument("bundle", type=BUNDLE)
@click.option("--untrusted", is_flag=True,
              help="open it even if the signer is not in your keyring; the page then says so in red")
@click.option("--no-browser", is_flag=True, help="only print where the page is (for a session without a screen)")
@endorsers_option
@keys_option
def open_(bundle: Path, untrusted: bool, no_browser: bool, require_endorsers: int | None,
          keys_dir: Path | None) -> None:
    """Verify BUNDLE, unpack it into a private folder and open its page in your web browser."""
    import webbrowser

    from mirror.bundle.view import open_view
    from mirror.folders import cache_folder

    view = open_view(bundle, open_keyring(keys_dir), cache_folder() / "open", allow_untrusted=untrusted,
                     policy=reader_policy_for(require_endorsers))
    verified = view.extracted.verified
    who = signer_words(verified)
    say(f"OPENED  {view.page}")
    say(f"  signed by    {who}; fingerprint {verified.fingerprint}")
    if view.made_here:
        say("  this bundle was made before bundles carried a page: the page was made on this computer")
    say(f"  the files are in {view.extracted.dest} (only you can read them); delete the folder when you are done")
    if not no_browser and not webbrowser.open(view.page.as_uri()):
        warn(f"no web browser could be started; open {view.page} in one")
