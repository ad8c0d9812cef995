"""`mirror split` and `mirror join`: parts of a bundle that fit a channel, and the bundle again.

Example::

    $ mirror split almaty.7z --for telegram-bot -o to-send
    wrote 3 parts of at most 48,000,000 bytes into to-send
      almaty.part1of3.7z  47,912,004 bytes
    $ mirror join to-send/almaty.part*.7z -o almaty.7z
"""

from __future__ import annotations

from pathlib import Path

import click

from mirror.cli.app import main
from mirror.cli.common import (
    check_suffix,
    dump_json,
    given_path,
    json_option,
    keys_option,
    open_keyring,
    say,
    say_differing,
)
from mirror.cli.failure import fail
from mirror.cli.verdict import with_reading_hint
from mirror.errors import ExitCode

PART = given_path(exists=True, dir_okay=False, path_type=Path)


@main.command()
@click.argument("bundle", type=PART)
@click.option("--max-size", "max_size", metavar="SIZE", help="the largest part, e.g. 48M (10^6 bytes) or 45MiB")
@click.option("--for", "channel", type=click.Choice(["telegram-bot", "signal", "email", "whatsapp"]),
              help="the size for a channel (docs/resharing.md)")
@click.option("-o", "--out", "out_dir", type=given_path(file_okay=False, path_type=Path), default=Path(),
              help="the folder for the parts (default: here)")
@json_option
@keys_option
def split(bundle: Path, max_size: str | None, channel: str | None, out_dir: Path, as_json: bool,
          keys_dir: Path | None) -> None:
    """Cut BUNDLE into parts of at most SIZE bytes; each part is a bundle that verifies alone."""
    from mirror.bundle.parts import split_bundle
    from mirror.formats.names import check_name_length
    from mirror.formats.part import CHANNELS, parse_size
    from mirror.safeio import probe_output_folder

    if (max_size is None) == (channel is None):
        fail("give either --max-size SIZE or --for CHANNEL", None, ExitCode.USAGE)
    size = CHANNELS[channel].usable if channel is not None else parse_size(max_size or "")
    check_name_length(out_dir)
    probe_output_folder(out_dir / "part.7z")  # a folder that cannot take the parts is said now, by name
    result = split_bundle(bundle, out_dir, size, open_keyring(keys_dir))
    if as_json:
        dump_json({"bundle": str(bundle), "max_size": size, "channel": channel,
                   "parts": [{"path": str(p), "size": n} for p, n in zip(result.parts, result.sizes, strict=True)]})
        return
    say(f"wrote {len(result.parts)} parts of at most {size:,} bytes into {out_dir}")
    for path, length in zip(result.parts, result.sizes, strict=True):
        say(f"  {path.name}  {length:,} bytes")
    say("each part verifies alone (mirror verify PART); send them as files, not as photos")


@main.command()
@click.argument("parts", nargs=-1, required=True, type=PART)
@click.option("-o", "--out", "out", required=True, type=given_path(dir_okay=False, path_type=Path),
              help="the bundle to write")
@click.option("--force", is_flag=True, help="replace OUT if it exists")
@json_option
@keys_option
@with_reading_hint
def join(parts: tuple[Path, ...], out: Path, force: bool, as_json: bool, keys_dir: Path | None) -> None:
    """Rebuild one bundle from all PARTS of it; it carries the author's signature unchanged."""
    from mirror.bundle.parts import join_parts
    from mirror.cli.verdict import content_count
    from mirror.formats.names import check_name_length
    from mirror.safeio import probe_output_folder

    idle: list[Path] = []
    dropped: list[str] = []  # endorsements of other copies past the cap
    failed: list[tuple[Path, str]] = []  # damaged copies of parts also given whole
    differing: list[tuple[str, Path]] = []  # endorsements two inputs carried different bytes of
    check_suffix(out, ".7z")
    check_name_length(out)
    probe_output_folder(out)
    result = join_parts(list(parts), out, open_keyring(keys_dir), force=force, idle=idle, left_out=dropped,
                        failed=failed, differing=differing)
    left_out = len(dropped)
    files = content_count(result)  # the accounts and photos, as verify counts them
    if as_json:
        dump_json({"path": str(out), "parts": [str(p) for p in parts], "added_nothing": [str(p) for p in idle],
                   "failed": [{"path": str(p), "problem": why} for p, why in failed],
                   "files": files, "endorsements_left_out": left_out,
                   "endorsements_differing": [{"name": n, "path": str(p)} for n, p in differing],
                   "signer": {"name": result.signer_name, "key_id": result.key_id,
                              "fingerprint": result.fingerprint, "in_keyring": result.signer_name is not None}})
        return
    who = result.signer_name or f"unknown key {result.key_id}"
    say(f"joined {len(parts) - len(idle) - len(failed)} part(s) into {out}: {files} accounts and photos, "
        f"signed by {who}")
    for path in idle:
        say(f"  {path} added nothing: all it holds came with the inputs given before it")
    for path, problem in failed:
        say(f"  left out {path}, which failed a check (the other inputs carry all of it): {problem}")
    if left_out:
        say(f"  left out {left_out} endorsement(s) of other copies: a bundle carries at most 100")
    say_differing(differing)
