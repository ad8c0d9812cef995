"""`mirror endorse`: add your voice to a bundle you pass on, without changing anything the author signed.

Example::

    $ mirror endorse almaty.7z --key bob --claim knows-author -o almaty.endorsed.7z
    ENDORSED  almaty.endorsed.7z
      by           bob (key 5D2F0C8A1B3E4F60): knows-author
      author       alice (key 01F02ADB18FB02EC)
      endorsements 2 in this bundle
"""

from __future__ import annotations

from pathlib import Path

import click

from mirror.cli.app import main
from mirror.cli.bundles import BUNDLE
from mirror.cli.common import (
    check_suffix,
    dump_json,
    given_path,
    json_option,
    keys_option,
    open_keyring,
    say,
    signing_key,
    unlock_key,
    warn,
)
from mirror.formats.endorsement import CLAIMS


@main.command()
@click.argument("bundle", type=BUNDLE)
@click.option("--key", "key_name", help="your key (default: the only secret key in the keyring)")
@click.option("--claim", required=True, type=click.Choice(CLAIMS),
              help="relayed: I passed it on as I got it; knows-author: I know the author holds this key; "
                   "witnessed: I saw what it tells (docs/endorsements.md)")
@click.option("-o", "--out", type=given_path(dir_okay=False, path_type=Path),
              help="the endorsed bundle to write (default: NAME.endorsed.7z beside BUNDLE); never BUNDLE itself")
@click.option("--force", is_flag=True, help="replace an existing output file (never BUNDLE)")
@click.option("--drop-unknown", is_flag=True,
              help="leave out the endorsements by keys not in your keyring, and invalid ones (the author's files "
                   "stay byte for byte the same)")
@json_option
@keys_option
def endorse(bundle: Path, key_name: str | None, claim: str, out: Path | None, force: bool, drop_unknown: bool,
            as_json: bool, keys_dir: Path | None) -> None:
    """Write a copy of BUNDLE that also carries your endorsement: your signature over what the author signed."""
    from mirror.bundle.endorse import EndorseRequest, default_output, endorse_bundle
    from mirror.formats.names import check_name_length
    from mirror.safeio import probe_output_folder

    if out is not None:
        check_suffix(out, ".7z")
    ring = open_keyring(keys_dir, own=True)
    name = signing_key(ring, key_name)
    endorser = ring.get(name)
    request = EndorseRequest(bundle, out or default_output(bundle), claim, force, drop_unknown)
    check_name_length(request.out)
    probe_output_folder(request.out)  # a folder that cannot take the copy is said now, by name
    done = endorse_bundle(request, endorser.public, lambda: unlock_key(ring, name), ring)
    verified = done.verified
    if as_json:
        dump_json({"path": str(verified.path), "member": done.member, "endorser": name,
                   "key_id": endorser.key_id_hex, "claim": claim, "bundle": {"id": verified.meta.bundle_id,
                   "version": verified.meta.version}, "author": {"name": verified.signer_name,
                   "key_id": verified.key_id, "in_keyring": done.author_trusted},
                   "endorsements": len(verified.endorsements), "dropped": list(done.dropped)})
        return
    say(f"ENDORSED  {verified.path}")
    say(f"  by           {name} (key {endorser.key_id_hex}): {claim}")
    if verified.signer_name:
        say(f"  author       {verified.signer_name} (key {verified.key_id})")
    else:
        say(f"  author       not in your keyring (key {verified.key_id})")
    say(f"  endorsements {len(verified.endorsements)} in this bundle")
    if done.dropped:
        say(f"  dropped      endorsements from keys not in your keyring, or invalid: {len(done.dropped)}")
    if not done.author_trusted:
        warn(f"warning: the author's key {verified.key_id} is not in your keyring; your endorsement says only "
             f"that you {claim} it")
