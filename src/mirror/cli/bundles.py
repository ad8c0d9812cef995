"""`mirror verify`, `show` and `extract`: a bundle's life on the reader's machine (create is in create.py).

Example::

    $ mirror verify bundles/almaty.7z
    VERIFIED  bundles/almaty.7z
      signed by    alice (key 01F02ADB18FB02EC)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

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
    shell_word,
    warn,
)
from mirror.errors import ContentError, ExitCode, UnreadableContainer, UntrustedSigner, VerificationError
from mirror.formats.names import printable

if TYPE_CHECKING:
    from mirror.bundle.verify import VerifiedBundle

BUNDLE = click.Path(exists=True, dir_okay=False, path_type=Path)
MAX_LISTED = 20  # missing files a part names in text; --json lists all
_BUNDLE_NAME = re.compile(r"\.7z(\.[0-9]+)?$|\.part[0-9]+of[0-9]+", re.I)  # a bundle, a volume or a part


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


def signer_checked(verified: VerifiedBundle) -> str | None:
    """How the reader checked the author's key (keyset.Checked), or None when it is not in the keyring."""
    return next((r.checked for r in verified.verdict.vouchers if r.public == verified.public), None)


def _counts(result: VerifiedBundle) -> dict[str, int]:
    from mirror.formats.manifest import PAGE_TYPE, count_types

    types = count_types(result.meta.files)  # in columns: a million files never become a million objects
    types.pop(PAGE_TYPE, None)  # the page is not content
    return {"total": sum(types.values()),
            "accounts": sum(n for media, n in types.items() if media.startswith("text/")),
            "photos": sum(n for media, n in types.items() if media.startswith("image/"))}


def _endorsements_json(result: VerifiedBundle) -> list[dict[str, Any]]:
    return [{"member": e.name, "key_id": e.key_id, "status": e.status, "endorser": e.signer_name, "claim": e.claim,
             "reason": e.reason or None} for e in result.endorsements]


def _summary(result: VerifiedBundle, required: int = 0) -> dict[str, Any]:
    return {
        "verdict": "verified" if result.trusted else "untrusted",
        "complete": not result.missing,
        "path": str(result.path),
        "signer": {"name": result.signer_name, "key_id": result.key_id, "fingerprint": result.fingerprint,
                   "in_keyring": result.signer_name is not None, "checked": signer_checked(result)},
        "trust": {"trusted": result.trusted, "reason": result.verdict.reason, "require_endorsers": required,
                  "vouched_by": [r.name for r in result.verdict.vouchers if r.public != result.public]},
        "bundle": {"id": result.meta.bundle_id, "version": result.meta.version, "title": result.meta.title,
                   "created": result.meta.created, "languages": list(result.meta.languages)},
        "files": _counts(result),
        "endorsements": _endorsements_json(result),
        "problems": [],
    }


def content_count(result: VerifiedBundle) -> int:
    """The accounts and photos the bundle lists: what `files.total`, `files_listed` and join's `files` count."""
    return _counts(result)["total"]


def _part_json(result: VerifiedBundle) -> dict[str, Any]:
    number, count = (result.part.number, result.part.count) if result.part is not None else (None, None)
    total = _counts(result)["total"]
    return {"number": number, "of": count, "files_present": total - len(result.missing),
            "files_listed": total, "missing": list(result.missing)}


def _headline(result: VerifiedBundle) -> None:
    """The verdict line: a part says which part it is and how many of the listed files it carries."""
    path = result.path
    if result.part is None and not result.missing:
        say(f"VERIFIED  {path}" if result.trusted else f"INTACT, UNKNOWN SIGNER  {path}")
        return
    part = _part_json(result)
    number, count, present, listed = part["number"], part["of"], part["files_present"], part["files_listed"]
    if result.part is None:  # a folder that lacks files, without a part marker
        if result.trusted:
            say(f"VERIFIED, INCOMPLETE: {present} of {listed} files present, all match  {path}")
        else:
            say(f"INTACT, UNKNOWN SIGNER, INCOMPLETE: {present} of {listed} files present, all match  {path}")
    elif result.trusted:
        say(f"VERIFIED, part {number} of {count}: {present} of {listed} files present, all match  {path}")
    else:
        say(f"INTACT, UNKNOWN SIGNER, part {number} of {count}: {present} of {listed} files present, all match  "
            f"{path}")


def _report_missing(result: VerifiedBundle) -> None:
    """A part names every file it lacks (the first MAX_LISTED here, all of them in --json)."""
    if result.part is None and not result.missing:
        return
    shown = ", ".join(result.missing[:MAX_LISTED]) + (" ..." if len(result.missing) > MAX_LISTED else "")
    if result.missing:
        if result.part is not None:
            say(f"  missing      {len(result.missing)} files, not in this part: {shown}")
        else:
            say(f"  missing      {len(result.missing)} files, not in this folder: {shown}")
        if len(result.missing) > MAX_LISTED:
            say("  (mirror verify --json lists every missing file)")
    if result.part is not None:
        say("  this is one part of a bundle: mirror join PART... -o WHOLE.7z rebuilds it from all its parts")
    else:
        say("  the files here match, but some are missing: mirror extract ALL-PARTS... NEW-FOLDER gives them all")


def report_verified(result: VerifiedBundle, as_json: bool, required: int = 0) -> None:
    """Print the verdict of a bundle that passed every integrity check (`required`: the endorsers the reader asks
    for when the author is not in the keyring, 0 when only the author decides)."""
    if as_json:
        summary = _summary(result, required)
        if result.part is not None or result.missing:
            summary["part"] = _part_json(result)
        dump_json(summary)
        return
    counts = _counts(result)
    _headline(result)
    if result.trusted and result.signer_name is not None:
        if signer_checked(result) in ("first-use", "unchecked"):  # the key could be anybody's: say so
            say(f"  signed by    {result.signer_name} (key {result.key_id}) (trusted on first use, never compared)")
        else:
            say(f"  signed by    {result.signer_name} (key {result.key_id})")
    elif result.trusted:  # the author is unknown, but the reader's policy counts endorsements
        say(f"  signed by    key {result.key_id}, which is not in your keyring")
        say(f"  trusted      {result.verdict.reason}")
    else:
        say(f"  signed by    key {result.key_id}, which is not in your keyring")
    say(f"  fingerprint  {result.fingerprint}")
    say(f"  bundle       {result.meta.title!r}, version {result.meta.version}, id {result.meta.bundle_id}")
    if result.part is None and not result.missing:
        say(f"  files        {counts['accounts']} accounts, {counts['photos']} photos, all sha256 match")
    _report_missing(result)
    _report_endorsements(result)
    if not result.trusted and required:
        found = sum(1 for e in result.endorsements if e.status == "trusted" and e.claim == "knows-author"
                    and e.compared)
        say(f"  not enough   knows-author endorsements from keys you trust: {found} of {required} required")
    if not result.trusted and result.signer_name is None:
        # The exact file, for a shell; an extracted folder's key file, since keys import reads files only.
        key_source = result.path / result.layout.author_key if result.path.is_dir() else result.path
        command = shell_word(key_source)
        say(f"  compare the fingerprint with the author by phone or in person, then: mirror keys import {command} "
            "--name NAME --fingerprint 'DIGITS THE AUTHOR GAVE YOU'")


def _report_endorsements(result: VerifiedBundle) -> None:
    unknown = [e.key_id for e in result.endorsements if e.status == "unknown"]
    for found in result.endorsements:
        who = f"{found.signer_name} (key {found.key_id})"
        if found.status == "trusted" and not found.compared:
            say(f"  endorsed by  {who}: {found.claim} (trusted on first use, never compared: not counted)")
        elif found.status == "trusted":
            say(f"  endorsed by  {who}: {found.claim}")
        elif found.status == "invalid":
            say(f"  endorsement  by {who} is INVALID and ignored: {printable(found.reason)}")
    if unknown:
        say(f"  endorsements {len(unknown)} from keys not in your keyring (not checked; --json lists their key ids)")


def untrusted_signer(exc: UntrustedSigner, path: Path) -> NoReturn:
    """Fail for an intact bundle whose signer is not trusted, with the exact command that imports its key."""
    command = shell_word(path)  # the same words as verify prints
    fail(str(exc), f"compare the fingerprint with the author by phone or in person, then: mirror keys import {command} "
                   "--name NAME --fingerprint 'DIGITS THE AUTHOR GAVE YOU'; or pass --untrusted to use it anyway",
         exc.exit_code)


def report_failure(path: Path, exc: VerificationError, as_json: bool) -> None:
    """Print the verdict of a bundle that must not be trusted."""
    problems = list(exc.problems) if isinstance(exc, ContentError) else [str(exc)]
    if as_json:
        dump_json({"verdict": "invalid", "path": str(path), "error": str(exc), "problems": problems})
        return
    if isinstance(exc, UnreadableContainer):  # a repack: nothing was checked, and nothing may be trusted yet
        say(f"NOT CHECKED  {path}: mirror cannot read this copy, so it must not be trusted yet")
        say(f"  {exc}")
        return
    say(f"FAILED  {path}: do not trust this bundle")
    for problem in problems:
        say(f"  {problem}")


@main.command()
@click.argument("bundle", type=click.Path(exists=True, path_type=Path))
@click.option("--whole", is_flag=True, help="fail unless every listed file is present (a part then fails)")
@json_option
@endorsers_option
@keys_option
def verify(bundle: Path, whole: bool, as_json: bool, require_endorsers: int | None, keys_dir: Path | None) -> None:
    """Check BUNDLE offline: intact, and signed by whom. Writes nothing.

    BUNDLE may be a bundle, a part of one (mirror split), the first volume of a 7-Zip set (X.7z.001), or a
    folder a bundle was extracted into.
    """
    from mirror.bundle.verify import verify_bundle
    from mirror.trust.policy import reader_policy

    required = required_endorsers(require_endorsers)
    try:
        policy = reader_policy(required)
        if bundle.is_dir():
            from mirror.bundle.folder import verify_folder

            result = verify_folder(bundle, open_keyring(keys_dir), parts=not whole, policy=policy)
        else:
            result = verify_bundle(bundle, open_keyring(keys_dir), parts=not whole, volumes=True, policy=policy)
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
    """List what BUNDLE holds (title, languages, files, signer), after verifying it.

    BUNDLE may be a part of one (mirror split: the files it lacks are marked) or the first volume of a 7-Zip set.
    """
    from mirror.bundle.verify import verify_bundle
    from mirror.formats.manifest import META_NAME, SumsLines, SumsTable, file_details
    from mirror.trust.policy import reader_policy

    required = required_endorsers(require_endorsers)
    result = verify_bundle(bundle, open_keyring(keys_dir), policy=reader_policy(required), parts=True, volumes=True)
    with result.control.open(META_NAME) as source:
        listed = result.sums.entries if isinstance(result.sums.entries, SumsTable) else None
        details = file_details(source, listed)  # one file at a time: bundle.json is never held whole
        absent = result.missing if isinstance(result.missing, SumsLines) else frozenset(result.missing)
        if as_json:
            summary = _summary(result, required)
            if result.part is not None or result.missing:
                summary["part"] = _part_json(result)
            dump_json_streamed(summary, "contents", ((p, m.to_json()) for p, m in details))
        else:
            report_verified(result, False, required)
            # Text from the bundle is printed escaped: it may come from a key nobody vouched for, and a terminal
            # escape sequence in it could redraw the verdict above.
            say(f"  languages    {printable(', '.join(result.meta.languages)) or '-'}")
            say(f"  created      {printable(result.meta.created)}")
            for path, meta in details:
                extra = meta.extra
                label = " | ".join(printable(str(extra[k])) for k in ("date", "place", "title") if extra.get(k))
                note = "  [not in this part]" if path in absent else ""
                say(f"  {meta.size:>10}  {printable(path)}" + (f"  ({label})" if label else "") + note)
    if not result.trusted:
        sys.exit(int(ExitCode.UNTRUSTED))


@main.command()
@click.argument("paths", nargs=-1, required=True, metavar="BUNDLE... [DEST]", type=click.Path(path_type=Path))
@click.option("--untrusted", is_flag=True, help="extract even if the signer is not in your keyring")
@click.option("--partial", is_flag=True, help="exit 0 even if the parts given leave files missing (they are named)")
@endorsers_option
@keys_option
def extract(paths: tuple[Path, ...], untrusted: bool, partial: bool, require_endorsers: int | None,
            keys_dir: Path | None) -> None:
    """Verify BUNDLE... fully, then write their files into the new folder DEST.

    Usage: mirror extract BUNDLE [DEST], or mirror extract PART... [DEST] for any set of parts of one bundle
    (mirror split): the files they carry are written, and the ones still missing are named (exit 4, or 0 with
    --partial). DEST is the last argument when it does not exist yet; by default, the bundle's readable name.
    """
    from mirror.bundle.destination import dangling
    from mirror.bundle.parts import extract_parts

    bundles, dest = list(paths), None
    last = bundles[-1]
    if len(bundles) > 1 and (last.is_dir() or not (last.exists() or last.is_symlink())):
        dest = bundles.pop()  # a folder that exists is refused by name: extract never overwrites
        if not dest.is_dir() and _BUNDLE_NAME.search(dest.name):  # a mistyped bundle, not a folder to make
            fail(f"{dest} does not exist", "check the name; DEST, the last argument, is a new folder",
                 ExitCode.USAGE)
    for path in bundles:
        if not path.exists():
            broken = dangling(path)
            fail(broken or f"{path} does not exist",
                 "DEST, the last argument, must be a new folder: mirror never writes through a link" if broken
                 and path is paths[-1] else None, ExitCode.USAGE)
        if path.is_dir():
            fail(f"{path} is a folder, not a bundle", "mirror extract BUNDLE... DEST", ExitCode.USAGE)
    try:
        result = extract_parts(bundles, dest, open_keyring(keys_dir), allow_untrusted=untrusted,
                               policy=reader_policy_for(require_endorsers))
    except UntrustedSigner as exc:
        untrusted_signer(exc, bundles[0])
    who = signer_words(result.verified[0])
    say(f"extracted {result.files} files into {result.dest} (signed by {who})")
    if result.left_out:
        say(f"  left out {result.left_out} endorsement(s) of other copies: a bundle carries at most 100")
    if result.missing:
        shown = ", ".join(result.missing[:MAX_LISTED]) + (" ..." if len(result.missing) > MAX_LISTED else "")
        say(f"  still missing {len(result.missing)} files, in the parts not given: {shown}")
        if not partial:
            fail(f"{len(result.missing)} of the bundle's files are missing from {result.dest}",
                 "extract every part together into a new folder; --partial accepts what is here", ExitCode.INCOMPLETE)


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

    try:
        view = open_view(bundle, open_keyring(keys_dir), cache_folder() / "open", allow_untrusted=untrusted,
                         policy=reader_policy_for(require_endorsers))
    except UntrustedSigner as exc:
        untrusted_signer(exc, bundle)
    verified = view.extracted.verified
    who = signer_words(verified)
    say(f"OPENED  {view.page}")
    say(f"  signed by    {who}; fingerprint {verified.fingerprint}")
    if view.made_here and not verified.layout.has_page:
        say("  this bundle was made before bundles carried a page: the page was made on this computer")
    elif view.made_here:
        say("  its own page is not shown (nobody you trust signed it): the page was made on this computer")
    say(f"  the files are in {view.extracted.dest} (only you can read them); delete the folder when you are done")
    if not no_browser and not webbrowser.open(view.page.as_uri()):
        warn(f"no web browser could be started; open {view.page} in one")
