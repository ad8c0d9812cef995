"""`mirror verify`, `show` and `extract`: a bundle's life on the reader's machine (create is in create.py).

Example::

    $ mirror verify bundles/almaty.7z
    VERIFIED  bundles/almaty.7z
      signed by    alice (key 01F02ADB18FB02EC)
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from mirror.cli.app import main
from mirror.cli.common import (
    PASSPHRASE_ENV,
    dump_json_streamed,
    endorsers_option,
    given_path,
    json_option,
    keys_option,
    open_keyring,
    reader_policy_for,
    required_endorsers,
    say,
    say_differing,
    shell_word,
    warn,
)
from mirror.cli.failure import fail
from mirror.cli.verdict import (
    MAX_LISTED,
    content_count,
    part_json,
    reading_hint,
    report_failure,
    report_verified,
    signer_words,
    summary_json,
    untrusted_signer,
    verify_command,
    verify_path,
    with_reading_hint,
)
from mirror.errors import ExitCode, UntrustedSigner, VerificationError
from mirror.formats.manifest import PAGE_NAME
from mirror.formats.names import check_name_length, printable
from mirror.i18n import verbatim

if TYPE_CHECKING:
    from mirror.bundle.verify import VerifiedBundle

BUNDLE = given_path(exists=True, dir_okay=False, path_type=Path)
_BUNDLE_NAME = re.compile(r"\.7z(\.[0-9]+)?$|\.part[0-9]+of[0-9]+", re.I)  # a bundle, a volume or a part


def _is_7z(path: Path) -> bool:
    """Whether the file begins as a 7z archive does (a bundle, its first volume or a part, whatever its name)."""
    try:
        with path.open("rb") as handle:  # a regular file (is_file): never blocks
            return handle.read(6) == b"7z\xbc\xaf\x27\x1c"
    except OSError:
        return True  # unreadable: left to the checks that name why


def slug(text: str) -> str:
    """A file-name-safe form of a title."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "bundle"


# A plain verify does not come here: cli/quick.py parses these options without click. An option added or
# changed here must be added there too (tests/cli/test_quick_verify.py compares the two).
@main.command()
@click.argument("bundle", type=given_path(exists=True, path_type=Path))
@click.option("--whole", is_flag=True, help="fail unless every listed file is present (a part then fails)")
@click.option("--fingerprint", help="the 40 digits the author gave you: trust the signer's key for this check "
              "without importing it")
@json_option
@endorsers_option
@keys_option
def verify(bundle: Path, whole: bool, fingerprint: str | None, as_json: bool, require_endorsers: int | None,
           keys_dir: Path | None) -> None:
    """Check BUNDLE offline: intact, and signed by whom. Writes nothing.

    BUNDLE may be a bundle, a part of one (mirror split), the first volume of a 7-Zip set (X.7z.001), or a
    folder a bundle was extracted into.
    """
    verify_command(bundle, whole, as_json, require_endorsers, keys_dir, fingerprint)


@main.command()
@click.argument("bundle", type=given_path(exists=True, path_type=Path))
@json_option
@endorsers_option
@keys_option
def show(bundle: Path, as_json: bool, require_endorsers: int | None, keys_dir: Path | None) -> None:
    """List what BUNDLE holds (title, languages, files, signer), after verifying it.

    BUNDLE may be a part of one (mirror split: the files it lacks are marked), the first volume of a 7-Zip set, or
    a folder a bundle was extracted into.
    """
    from mirror.formats.manifest import META_NAME, SumsLines, SumsTable, file_details
    from mirror.trust.policy import reader_policy

    required = required_endorsers(require_endorsers)
    try:
        result = verify_path(bundle, open_keyring(keys_dir), reader_policy(required), parts=True)
    except VerificationError as exc:  # the verdict verify prints (one JSON object with --json), then the error
        report_failure(bundle, exc, as_json)
        fail(str(exc), reading_hint(exc), ExitCode.INVALID)
    with result.control.open(META_NAME) as source:
        listed = result.sums.entries if isinstance(result.sums.entries, SumsTable) else None
        details = file_details(source, listed)  # one file at a time: bundle.json is never held whole
        absent = result.missing if isinstance(result.missing, SumsLines) else frozenset(result.missing)
        if as_json:
            summary = summary_json(result, required)
            if result.part is not None or result.missing:
                summary["part"] = part_json(result)
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
                labelled = f"  ({verbatim(label)})" if label else ""  # the author's words: never translated
                if path in absent and result.part is None:  # a folder that lacks files, without a part marker
                    say(f"  {meta.size:>10}  {verbatim(printable(path))}{labelled}  [not in this folder]")
                elif path in absent:
                    say(f"  {meta.size:>10}  {verbatim(printable(path))}{labelled}  [not in this part]")
                else:
                    say(f"  {meta.size:>10}  {verbatim(printable(path))}{labelled}")
    if not result.trusted:
        sys.exit(int(ExitCode.UNTRUSTED))


@main.command()
@click.argument("paths", nargs=-1, required=True, metavar="BUNDLE... [DEST]", type=given_path(path_type=Path))
@click.option("--untrusted", is_flag=True, help="extract even if the signer is not in your keyring")
@click.option("--partial", is_flag=True, help="exit 0 even if the parts given leave files missing (they are named)")
@endorsers_option
@keys_option
@with_reading_hint
def extract(paths: tuple[Path, ...], untrusted: bool, partial: bool, require_endorsers: int | None,
            keys_dir: Path | None) -> None:
    """Verify BUNDLE... fully, then write their files into the new folder DEST.

    Usage: mirror extract BUNDLE [DEST], or mirror extract PART... [DEST] for any set of parts of one bundle
    (mirror split): the files they carry are written, and the ones still missing are named (exit 4, or 0 with
    --partial). DEST is the last argument when it does not exist yet; by default, the bundle's readable name.
    """
    from mirror.bundle.destination import dangling
    from mirror.bundle.parts import extract_parts
    from mirror.safeio import probe_output_folder

    bundles, dest = list(paths), None
    for path in paths:  # before a look at any: a name no file system takes is said as such
        check_name_length(path)
    last = bundles[-1]
    if len(bundles) > 1 and last.is_file() and not _BUNDLE_NAME.search(last.name) and not _is_7z(last):
        # meant as DEST (it was taken for one more input, left out as failing a check, and the files went to a
        # folder of the bundle's name, exit 0: helper-149)
        fail(f"{last} already exists and is not a bundle", "DEST, the last argument, must be a new folder: mirror "
             "never overwrites", ExitCode.USAGE)
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
    if dest is not None:
        check_name_length(dest)
        probe_output_folder(dest)  # a folder that cannot take the files is said now, by name
    try:
        result = extract_parts(bundles, dest, open_keyring(keys_dir), allow_untrusted=untrusted,
                               policy=reader_policy_for(require_endorsers))
    except UntrustedSigner as exc:
        untrusted_signer(exc, bundles[0])
    who = signer_words(result.shown)
    total = content_count(result.verified[0])  # as verify and show count them
    content = total - len(result.missing)
    if result.missing:
        say(f"extracted {content} of {total} accounts and photos into {result.dest} (signed by {who})")
    elif total == 1:
        say(f"extracted its one account or photo into {result.dest} (signed by {who})")
    else:
        say(f"extracted {content} accounts and photos into {result.dest} (signed by {who})")
    _page_hint(result.dest / PAGE_NAME, result.shown, bundles)
    if result.left_out:
        say(f"  left out {result.left_out} endorsement(s) of other copies: a bundle carries at most 100")
    for path, problem in result.failed:
        say(f"  left out {path}, which failed a check (the other inputs carry all of it): {problem}")
    say_differing(result.differing)
    if result.missing:
        shown = ", ".join(result.missing[:MAX_LISTED]) + (" ..." if len(result.missing) > MAX_LISTED else "")
        say(f"  still missing {len(result.missing)} files, in the parts not given: {shown}")
        if not partial:
            fail(f"{len(result.missing)} of the bundle's files are missing from {result.dest}",
                 "what the parts given carry is written there; for the rest, extract all the parts together into a "
                 "new folder once you have them (--partial: exit 0 with files missing)", ExitCode.INCOMPLETE)


def _page_hint(page: Path, verified: VerifiedBundle, bundles: list[Path]) -> None:
    """Point the reader at the bundle's own page only when its author's key is in their keyring (not only vouched
    for by endorsers: the page could hide who vouched, or name another key) and it is a static page of
    the kind mirror makes: another page could run code or load from elsewhere, and so tell a server where the
    reader is. `mirror open` shows the same files on a page made on this computer."""
    from mirror.bundle.pagecheck import MAX_CHECKED, page_problem
    from mirror.safeio import read_at_most

    if not page.is_file() or page.is_symlink():
        return
    flag = "" if verified.trusted else " --untrusted"
    shown = f"mirror open{flag} {shell_word(bundles[0])}" if len(bundles) == 1 else \
        f"mirror open{flag} on the bundle the parts join into"
    if not verified.trusted:
        warn(f"  do not open {page} in a web browser: a key you do not hold signed it, and a page can run code or "
             f"load from elsewhere; {shown} shows the files on a page made on this computer")
        return
    if verified.signer_name is None:  # trusted through endorsers: the page is still the work of a key not held
        warn(f"  do not open {page} in a web browser: its author's key is not in your keyring (people you trust "
             f"vouch for it), and the page could say anything; {shown} shows the files on a page made on this "
             "computer, with who vouched")
        return
    with page.open("rb") as handle:
        problem = page_problem(read_at_most(handle, MAX_CHECKED + 1))
    if problem is None:
        say(f"  to read them, open {page} in a web browser")
    else:
        warn(f"  do not open {page} in a web browser: it is not a page of the kind mirror makes ({problem}); "
             f"{shown} shows the files on a page made on this computer")


@main.command("open")
@click.argument("bundle", type=BUNDLE, required=False)
@click.option("--untrusted", is_flag=True,
              help="open it even if the signer is not in your keyring; the page then says so in red")
@click.option("--no-browser", is_flag=True, help="only print where the page is (for a session without a screen)")
@click.option("--forget", is_flag=True, help="remove every copy open made before, and open nothing")
@endorsers_option
@keys_option
@with_reading_hint
def open_(bundle: Path | None, untrusted: bool, no_browser: bool, forget: bool, require_endorsers: int | None,
          keys_dir: Path | None) -> None:
    """Verify BUNDLE, unpack it into a private folder and open its page in your web browser."""
    from mirror.bundle.view import forget_opened, open_view
    from mirror.folders import cache_folder
    from mirror.i18n import current

    if forget:
        if bundle is not None:
            fail("--forget opens nothing: give it no BUNDLE", "mirror open --forget", ExitCode.USAGE)
        say(f"removed {forget_opened(cache_folder() / 'open')} opened copy(ies) from {cache_folder() / 'open'}")
        return
    if bundle is None:
        fail("give the BUNDLE to open", "mirror open BUNDLE", ExitCode.USAGE)

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
    elif (problem := view.page_problem) is not None:
        say(f"  its own page is not shown (it is not a page of the kind mirror makes: {problem}): the page was "
            "made on this computer")
    elif view.made_here:
        say("  its own page is not shown (nobody you trust signed it): the page was made on this computer")
    say(f"  the files are in {view.extracted.dest} (only you can read them); when you are done: mirror open "
        "--forget")
    if view.replaced:
        say(f"  {view.replaced} earlier copy(ies) of this bundle removed, so copies do not pile up")
    language = current()  # the page holds every language; its #ru or #kk shows the reader's from the start
    address = view.page.as_uri() + (f"#{language}" if language != "en" else "")
    if no_browser:
        if language != "en":  # the file's path opens the page in English; this address, in the reader's language
            say(f"  in a web browser: {address}")
    elif not _browse(address):
        warn(f"no web browser could be started; open {address} in one")


def _browse(address: str) -> bool:
    """Open `address` in the reader's web browser, which inherits this process's environment: a passphrase kept
    in $MIRROR_PASSPHRASE for signing, or a host's password in the variable mirror.toml names (docs/mirrors.md
    names them MIRROR_...), is no business of the browser's (nor of what it starts, nor of its crash reports), and
    `open` signs and publishes nothing. Every MIRROR_ variable is left out."""
    import webbrowser

    # Left out while the browser is started (webbrowser starts it before it returns), then put back: this process
    # may go on (a test's, or a program's that runs the command in its own process)
    kept = {name: os.environ.pop(name) for name in list(os.environ)
            if name.startswith("MIRROR_") or name == PASSPHRASE_ENV}
    try:
        return webbrowser.open(address)
    finally:
        os.environ.update(kept)

