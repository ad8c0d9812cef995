"""`mirror create`: check everything that would be signed, list every problem, then ask for the passphrase.

Example::

    $ mirror create seeds -o bundles/almaty.7z --key alice
    renamed    DCIM/IMG_20220105_183012.jpg: to photos/001.jpg: its name carried a capture time (...)
    created bundles/almaty.7z: 8 accounts, 6 photos, 1234567 bytes, signed by alice
    $ mirror create seeds --update bundles/almaty.7z -o bundles/almaty-2.7z   # the next version

Notes and problems go to stderr before any passphrase prompt, so the author
can still stop; refused files exit 2, identifiers found exit 6, and nothing is
signed in either case.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from mirror.cli.app import main
from mirror.cli.bundles import BUNDLE, slug
from mirror.cli.common import given_path, keys_option, open_keyring, say, shell_word, signing_key, unlock_key, warn
from mirror.errors import ConfigError
from mirror.formats.names import check_name_length, printable
from mirror.safeio import probe_output_folder

if TYPE_CHECKING:
    from mirror.bundle.create import CreateResult
    from mirror.bundle.prepare import NoteKind, Prepared
    from mirror.trust.keyring import Keyring



def _note(what: NoteKind, path: str, detail: str) -> None:
    """One note, its first column a word of its own in each language (each line a template of its own)."""
    if what == "renamed":
        warn(f"{'renamed':<10} {path}: {detail}")
    elif what == "converted":
        warn(f"{'converted':<10} {path}: {detail}")
    elif what == "repaired":
        warn(f"{'repaired':<10} {path}: {detail}")
    elif what == "left out":
        warn(f"{'left out':<10} {path}: {detail}")
    elif what == "kept":
        warn(f"{'kept':<10} {path}: {detail}")
    elif what == "colours":
        warn(f"{'colours':<10} {path}: {detail}")
    else:
        warn(f"{'allowed':<10} {path}: {detail}")


def _report(prepared: Prepared) -> None:
    """Every note, refusal and finding, one per line on stderr: what the author must know before signing."""
    for note in prepared.notes:
        if note.kind and note.what == "kept":
            warn(f"{'kept':<10} {printable(note.path)}: {note.kind} ({printable(note.detail)})")
        elif note.kind:
            warn(f"{'allowed':<10} {printable(note.path)}: {note.kind}: {printable(note.detail)}")
        else:
            _note(note.what, printable(note.path), printable(note.detail))
    for refusal in prepared.refused:
        warn(f"{'refused':<10} {printable(refusal.path)}: {printable(refusal.reason)}")
        warn(f"{'':<10} fix: {refusal.fix}")
    for finding in prepared.findings:
        warn(f"{'found':<10} {printable(finding.path)}: {finding.kind}: {printable(finding.detail)}")
    for path, more in prepared.unlisted.items():
        warn(f"{'found':<10} {printable(path)}: and {more:,} more identifier(s), not listed")
    more, files = prepared.elsewhere
    if files:
        warn(f"{'found':<10} and {more:,} more identifier(s) in {files:,} more file(s), not listed")


def _versions(update: Path | None, bundle_id: str | None, version: int | None, ring: Keyring,
              name: str) -> tuple[str | None, int, str | None]:
    """The bundle id, version and supersedes of the new bundle.

    Raises:
        ConfigError: --id without --version (or the reverse), or --update with either.
    """
    if update is not None:
        if bundle_id is not None or version is not None:
            raise ConfigError("--update sets the bundle id and version itself; leave out --id and --version")
        from mirror.bundle.create import next_version

        return next_version(update, ring, ring.get(name).public)
    if (bundle_id is None) != (version is None):
        raise ConfigError("--id and --version go together" if bundle_id is None else
                          "--id needs --version: a second bundle with the same id and version 1 would "
                          "be ambiguous", hint="pass --update OLD.7z to make the next version of OLD's bundle")
    from mirror.formats.manifest import BUNDLE_ID

    if bundle_id is not None and not BUNDLE_ID.fullmatch(bundle_id):
        raise ConfigError(f"--id {printable(bundle_id)[:80]}: a bundle id is 8 to 64 lower-case letters, digits and "
                          "dashes", hint="mirror show OLD.7z prints the id; or pass --update OLD.7z")
    return bundle_id, version or 1, None


@main.command()
@click.argument("src", required=False, type=given_path(exists=True, file_okay=False, path_type=Path))
@click.option("-o", "--out", type=given_path(dir_okay=False, path_type=Path), help="the bundle to write (.7z)")
@click.option("--key", "key_name", help="your signing key (default: the only secret key in the keyring)")
@click.option("--title", default="", help="a title for readers")
@click.option("--force", is_flag=True, help="replace an existing output file")
@click.option("--update", type=BUNDLE, help="make the next version of this earlier bundle (same id, version + 1)")
@click.option("--id", "bundle_id", help="bundle id of an earlier bundle (with --version; --update is easier)")
@click.option("--version", "version", type=click.IntRange(1, 2**31 - 1), help="bundle version (with --id)")
@click.option("--allow", "allow", multiple=True, type=click.Path(path_type=Path), metavar="FILE",
              help="sign FILE even if it holds phone numbers, e-mail addresses or IINs (repeatable)")
@click.option("--allow-identifiers", is_flag=True, help="sign even if any file holds personal identifiers")
@click.option("--keep-names", is_flag=True, help="keep photo names that carry a capture time or a device name")
@click.option("--keep-metadata", "keep_metadata", multiple=True, type=click.Path(path_type=Path), metavar="PATH",
              help="bundle this photo (or folder of photos) with all its metadata: GPS, serials (repeatable)")
@click.option("--convert-heic", is_flag=True,
              help="convert HEIC/HEIF photos to JPEG (re-encoded, all metadata dropped)")
@click.option("--text-encoding", metavar="ENCODING", help="convert texts that are not UTF-8 from it (cp1251...)")
@click.option("--keep-text", "keep_text", multiple=True, type=click.Path(path_type=Path), metavar="FILE",
              help="sign FILE's text as it is, though it looks damaged ('?' inside words, letters garbled)")
@click.option("--commit-originals", is_flag=True, help="record salted hashes of the original photos")
@keys_option
def create(src: Path | None, out: Path | None, key_name: str | None, title: str, force: bool, update: Path | None,
           bundle_id: str | None, version: int | None, allow: tuple[Path, ...], allow_identifiers: bool,
           keep_names: bool, keep_metadata: tuple[Path, ...], convert_heic: bool, text_encoding: str | None,
           keep_text: tuple[Path, ...], commit_originals: bool, keys_dir: Path | None) -> None:
    """Pack the accounts and photos in SRC into one signed bundle, after checking all of them."""
    from mirror.bundle.create import CreateRequest, prepare_bundle, write_bundle
    from mirror.bundle.sources import resolve_in
    from mirror.cli.progress import byte_progress
    from mirror.heap import return_large_buffers

    return_large_buffers()  # heap.py; prepare_bundle hands it back for a collection of photos

    ring = open_keyring(keys_dir, own=True)
    name = signing_key(ring, key_name, "author")
    bundle_id, version_number, supersedes = _versions(update, bundle_id, version, ring, name)
    src, out = _where(src, out, title, force, version_number, update is not None)
    probe_output_folder(out)  # a folder that cannot take the bundle is said now, not after the check
    if update is not None and out.exists() and os.path.samefile(update, out):
        raise ConfigError(f"{out} is the bundle given to --update; create never replaces the version it follows",
                          hint="name the new version's file with -o")
    if text_encoding is not None:
        try:
            "x".encode(text_encoding)  # a text encoding (base64 and zlib are LookupErrors here too)
        except LookupError:
            raise ConfigError(f"--text-encoding {text_encoding}: no such encoding",
                              hint="for Russian-language Windows texts: --text-encoding cp1251") from None
    request = CreateRequest(
        src, out, title, force, frozenset(resolve_in(src, p, "--keep-metadata") for p in keep_metadata),
        commit_originals, bundle_id, version_number, allow_identifiers=allow_identifiers,
        allow=frozenset(resolve_in(src, p, "--allow") for p in allow), keep_names=keep_names,
        keep_text=frozenset(resolve_in(src, p, "--keep-text") for p in keep_text),
        convert_heic=convert_heic, text_encoding=text_encoding, supersedes=supersedes)
    prepared = prepare_bundle(request)
    _report(prepared)
    prepared.check()
    secret = unlock_key(ring, name)
    with byte_progress(prepared.files.total_size, "create") as progress:
        result = write_bundle(prepared, secret, progress)
    _created(result, name)


def _where(src: Path | None, out: Path | None, title: str, force: bool, version: int,
           updating: bool = False) -> tuple[Path, Path]:
    """SRC and the output, from the options or the workspace (whose default name carries a version past 1).

    Raises:
        ConfigError: no SRC or output outside a workspace, a wrong suffix, an output that exists, or one inside
            SRC.
    """
    from mirror.formats.timefmt import now_text
    from mirror.workspace import current_folder, find_workspace

    workspace = find_workspace(current_folder())
    if src is None:
        if workspace is None:
            raise ConfigError("name the folder to bundle", hint="mirror create SRC -o OUT.7z --key NAME")
        src = workspace.sources
    if out is None:
        if workspace is None:
            raise ConfigError("name the output with -o OUT.7z")
        stem = f"{slug(title or src.resolve().name)}-{now_text()[:10].replace('-', '')}"
        out = workspace.bundles / (f"{stem}-v{version}.7z" if version > 1 else f"{stem}.7z")
    if out.suffix.lower() != ".7z":
        raise ConfigError(f"{out}: the output name must end in .7z")
    check_name_length(out)
    if out.resolve().is_relative_to(src.resolve()):
        raise ConfigError(f"{out} is inside {src}, the folder being bundled",
                          hint="write it elsewhere (-o ../NAME.7z): the next create of that folder would refuse it")
    if out.exists() and not force and updating:  # with --force, a second and different v2 of one bundle, both
        # signed: readers and mirrors would hold two bundles of one id and version (helper-148)
        raise ConfigError(f"{out} already exists: perhaps version {version} made before",
                          hint=f"to make the version after it: --update {shell_word(out)}; --force would sign a "
                          f"second, different version {version} of the same bundle")
    if out.exists() and not force:  # atomic_output checks again; this one spares the checks and a passphrase prompt
        raise ConfigError(f"{out} already exists", hint=f"a new version of the bundle in it: --update "
                          f"{shell_word(out)} -o NEW.7z (readers see it as newer); --force replaces it with a new, "
                          "unrelated bundle")
    return src, out


def _created(result: CreateResult, name: str) -> None:
    """What was written, on stdout; the salts of --commit-originals saved privately."""
    accounts, photos = result.accounts, result.photos
    say(f"created {result.out}: {accounts} account" + ("" if accounts == 1 else "s") + f", {photos} photo"
        + ("" if photos == 1 else "s") + f", {result.size} bytes, signed by {name}")
    say(f"  bundle id {result.bundle_id}, version {result.version}")
    if result.salts:
        from mirror.privacy.originals import save_salts

        where = save_salts(result.bundle_id, result.salts)
        say(f"  salts for the original photos kept privately in {where} (never publish them)")
