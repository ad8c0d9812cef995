"""What `mirror verify` says about a bundle: the verdict, the signer, the files, the endorsements (and who
signed, in the words of extract and open).

Example::

    verify_command(Path("almaty.7z"), whole=False, as_json=False, require_endorsers=None, keys_dir=None)
    VERIFIED  almaty.7z
      signed by    alice (key 01F02ADB18FB02EC)

Shared by verify, show, extract, join and open (cli/bundles.py, cli/parts.py), and by the plain verify that
runs without click (cli/quick.py). Loads no click: it prints through cli/common.py.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar

from mirror.cli.common import (
    DEFAULT_KEYRING,
    dump_json,
    keyring_from_workspace,
    keys_words,
    missing_keyring,
    open_keyring,
    required_endorsers,
    say,
    shell_word,
)
from mirror.cli.failure import fail
from mirror.errors import (
    ContentError,
    ExitCode,
    NotABundle,
    TruncatedArchive,
    UnreadableContainer,
    UntrustedSigner,
    VerificationError,
)
from mirror.formats.names import printable
from mirror.i18n import verbatim

P = ParamSpec("P")
R = TypeVar("R")

if TYPE_CHECKING:
    from mirror.bundle.verify import VerifiedBundle
    from mirror.trust.keyring import Keyring
    from mirror.trust.keyset import KeyRecord
    from mirror.trust.policy import Policy

MAX_LISTED = 20  # missing files a part names in text; --json lists all


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
             "reason": e.reason or None,
             "counted": e.status == "trusted" and e.compared and e.claim == "knows-author"}
            for e in result.endorsements]


def summary_json(result: VerifiedBundle, required: int = 0) -> dict[str, Any]:
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


def part_json(result: VerifiedBundle) -> dict[str, Any]:
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
    part = part_json(result)
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
    if result.part is not None and not result.missing:  # its part marker is not signed; every file is here
        say("  it carries every file the author signed: extract, open and endorse take it as a whole bundle")
    elif result.part is not None:
        say("  this is one part of a bundle: mirror join PART... -o WHOLE.7z rebuilds it from all its parts")
    else:
        say("  the files here match, but some are missing: mirror extract ALL-PARTS... NEW-FOLDER gives them all")


def report_verified(result: VerifiedBundle, as_json: bool, required: int = 0) -> None:
    """Print the verdict of a bundle that passed every integrity check (`required`: the endorsers the reader asks
    for when the author is not in the keyring, 0 when only the author decides)."""
    if as_json:
        summary = summary_json(result, required)
        if result.part is not None or result.missing:
            summary["part"] = part_json(result)
        dump_json(summary)
        return
    counts = _counts(result)
    _headline(result)
    if result.trusted and result.signer_name is not None:
        if signer_checked(result) == "first-use":  # the key could be anybody's: say so
            say(f"  signed by    {result.signer_name} (key {result.key_id}) (trusted on first use, never compared)")
        elif signer_checked(result) == "unchecked":
            say(f"  signed by    {result.signer_name} (key {result.key_id}) (never compared with its owner)")
        else:
            say(f"  signed by    {result.signer_name} (key {result.key_id})")
        workspace = keyring_from_workspace()
        if workspace is not None:  # a mirror.toml at or above here chose the keyring that trusts it
            say(f"  keyring      {printable(str(workspace[0]))} (the workspace of {printable(workspace[1])})")
    elif result.trusted:  # the author is unknown, but the reader's policy counts endorsements
        say(f"  signed by    key {result.key_id}, which is not in your keyring")
        say(f"  trusted      {result.verdict.reason}")
    else:
        held = _held_in_another_role(result)
        if held is not None:  # "not in your keyring" sent a reader who had imported it to import it again
            name, roles = printable(held.name), ",".join(held.roles)
            say(f"  signed by    {name} (key {result.key_id}), in your keyring as {roles} only, not as an author")
        else:
            say(f"  signed by    key {result.key_id}, which is not in your keyring")
        missing = missing_keyring()
        if missing is not None and missing[1] == DEFAULT_KEYRING:  # nobody has imported a key here yet
            say(f"  keyring      none yet: no key has been imported on this computer ({printable(str(missing[0]))})")
        elif missing is not None:  # a mistyped --keys: no key at all is known
            source = printable(missing[1])
            say(f"  keyring      {printable(str(missing[0]))} does not exist (chosen by {source})")
    say(f"  fingerprint  {result.fingerprint}")
    title = verbatim(repr(result.meta.title))  # the author's words: never read as the tool's
    say(f"  bundle       {title}, version {result.meta.version}, id {result.meta.bundle_id}")
    if result.part is None and not result.missing:
        accounts, photos = counts["accounts"], counts["photos"]
        say(f"  files        {accounts} account" + ("" if accounts == 1 else "s") + f", {photos} photo"
            + ("" if photos == 1 else "s") + ", all sha256 match")
    _report_missing(result)
    _report_endorsements(result)
    if not result.trusted and required:
        found = sum(1 for e in result.endorsements if e.status == "trusted" and e.claim == "knows-author"
                    and e.compared)
        say(f"  not enough   knows-author endorsements from keys you trust: {found} of {required} required")
    if not result.trusted and result.signer_name is None:
        # The exact file, for a shell; an extracted folder's key file, since keys import reads files only.
        key_source = result.path / result.layout.author_key if result.path.is_dir() else result.path
        command, keys = shell_word(key_source), keys_words()
        say(f"  compare the fingerprint with the author by phone or in person, then: mirror keys import {command} "
            f"--name NAME --fingerprint 'DIGITS THE AUTHOR GAVE YOU'{keys}")


def _report_endorsements(result: VerifiedBundle) -> None:
    unknown = [e.key_id for e in result.endorsements if e.status == "unknown"]
    for found in result.endorsements:
        who = f"key {found.key_id}" if found.signer_name is None else f"{found.signer_name} (key {found.key_id})"
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
    command, keys = shell_word(path), keys_words()  # the same words as verify prints
    fail(str(exc), f"compare the fingerprint with the author by phone or in person, then: mirror keys import {command} "
                   f"--name NAME --fingerprint 'DIGITS THE AUTHOR GAVE YOU'{keys}; or pass --untrusted to use it "
                   "anyway", exc.exit_code)


def reading_hint(exc: VerificationError) -> str | None:
    """What the reader does with a copy that must not be trusted, when the error does not say: a damaged or
    changed copy ("compressed data is damaged", exit 3, with nothing after it) is replaced by another, never
    opened or passed on. A copy mirror cannot read keeps its own hint (or none: it may be sound)."""
    if exc.hint is not None or isinstance(exc, UnreadableContainer):
        return exc.hint
    if isinstance(exc, TruncatedArchive):
        return "the copy ends early (a download or a copy was cut short): get the whole file again and verify it"
    return ("this copy was broken or changed on its way: do not open it or pass it on; get another copy (from its "
            "author, from whoever passed it on, or from a mirror) and verify that one")


def with_reading_hint(command: Callable[P, R]) -> Callable[P, R]:
    """`command`, whose VerificationError without a hint gets `reading_hint` (extract, open, join)."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except VerificationError as exc:
            exc.hint = reading_hint(exc)
            raise

    return run


def report_failure(path: Path, exc: VerificationError, as_json: bool) -> None:
    """Print the verdict of a bundle that must not be trusted."""
    problems = list(exc.problems) if isinstance(exc, ContentError) else [str(exc)]
    if as_json:  # checked: false where the text says NOT CHECKED (no mirror bundle, or a copy mirror cannot read)
        checked = not isinstance(exc, NotABundle | UnreadableContainer)
        dump_json({"verdict": "invalid", "checked": checked, "path": str(path), "error": str(exc),
                   "problems": problems})
        return
    if isinstance(exc, NotABundle):  # well formed, and nothing in it signed: not damage, and nothing to trust
        say(f"NOT CHECKED  {path}: nothing in it is signed, so nothing in it can be trusted")
        say(f"  {exc}")
        return
    if isinstance(exc, UnreadableContainer):  # a repack: nothing was checked, and nothing may be trusted yet
        say(f"NOT CHECKED  {path}: mirror cannot read this copy, so it must not be trusted yet")
        say(f"  {exc}")
        return
    say(f"FAILED  {path}: do not trust this bundle")
    for problem in problems:
        say(f"  {problem}")


def verify_path(bundle: Path, keyring: Keyring | None, policy: Policy, parts: bool) -> VerifiedBundle:
    """Check BUNDLE, a file (a bundle, a part, a volume set's first volume) or a folder a bundle was extracted
    into, with the same steps and verdicts: what verify and show both check.

    Raises:
        VerificationError: it must not be trusted.
    """
    if bundle.is_dir():
        from mirror.bundle.folder import verify_folder

        return verify_folder(bundle, keyring, parts=parts, policy=policy)
    from mirror.bundle.verify import verify_bundle

    return verify_bundle(bundle, keyring, parts=parts, volumes=True, policy=policy)


def verify_command(bundle: Path, whole: bool, as_json: bool, require_endorsers: int | None,
                   keys_dir: Path | None, fingerprint: str | None = None) -> None:
    """`mirror verify`: check BUNDLE (a file, a part, a volume set's first volume, or an extracted folder),
    print the verdict and exit 3 (do not trust) or 5 (intact, unknown signer) when it is not trusted.

    `fingerprint`: the digits the author gave the reader (by phone, on paper), to trust the signer's key for this
    check without importing it, as `minisign -P` does; a signer with other digits is not to be trusted (exit 3)."""
    from mirror.trust.policy import reader_policy

    required = required_endorsers(require_endorsers)
    if fingerprint is not None:
        _check_digits(fingerprint)
    try:
        policy = reader_policy(required)
        keyring = open_keyring(keys_dir)  # once: its choice may warn (a workspace passed over)
        result = verify_path(bundle, keyring, policy, parts=not whole)
        if fingerprint is not None:
            result = _with_fingerprint(result, fingerprint, policy, keyring)
    except VerificationError as exc:
        report_failure(bundle, exc, as_json)
        fail(str(exc), reading_hint(exc), ExitCode.INVALID)
    report_verified(result, as_json, required)
    if not result.trusted:
        sys.exit(int(ExitCode.UNTRUSTED))


def _check_digits(given: str) -> None:
    """Refuse digits that cannot be a fingerprint before any work (a usage error, exit 2)."""
    from mirror.trust.fingerprint import FINGERPRINT_DIGITS, typed_digits

    typed = typed_digits(given)
    if not (typed.isascii() and typed.isdigit() and len(typed) == FINGERPRINT_DIGITS):
        fail(f"a fingerprint is {FINGERPRINT_DIGITS} digits; you gave {sum(c.isdigit() for c in typed)} digits and "
             f"{sum(not c.isdigit() for c in typed)} other characters",
             "type the 40 digits the author reads out to you", ExitCode.USAGE)


def _held_in_another_role(result: VerifiedBundle) -> KeyRecord | None:
    """The keyring's record of exactly the signer's key when it holds it, but not as an author (a key imported as
    a publisher only); None otherwise."""
    from mirror.cli.common import opened_keyring

    ring = opened_keyring()  # as this command counts it: a record passed over in a workspace is not "held"
    if ring is None:  # no keyring opened by this command
        return None
    return next((r for r in ring if r.public == result.public and "author" not in r.roles), None)


def _with_fingerprint(result: VerifiedBundle, given: str, policy: Policy, keyring: Keyring) -> VerifiedBundle:
    """The verdict again, with the signer's key trusted for this check if its fingerprint is the one given.

    Raises:
        SignatureError: the bundle is intact but signed by a key with other digits: whoever signed it is not the
            author the reader asked for.
    """
    from mirror.errors import SignatureError
    from mirror.record import replace
    from mirror.trust.fingerprint import same_fingerprint
    from mirror.trust.keyset import KeyRecord, TrustedKeys
    from mirror.trust.policy import Evidence

    if not same_fingerprint(given, result.public):
        raise SignatureError(f"signed by key {result.key_id}, whose fingerprint is not the one you gave",
                             hint="do not trust it; ask the author to read the digits out again")
    given_key = KeyRecord("the fingerprint you gave", result.public, ("author",), "fingerprint", "", False)
    keys = TrustedKeys((*keyring.snapshot().records, given_key))
    evidence = Evidence(result.public, tuple(e.evidence for e in result.endorsements if e.evidence is not None))
    verdict = policy.judge(evidence, keys)
    name = result.signer_name or (given_key.name if verdict.trusted else None)
    return replace(result, verdict=verdict, signer_name=name)
