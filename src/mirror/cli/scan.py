"""`mirror scan`: what in a folder, a bundle or a file could identify a source, before it is passed on.

Example::

    $ mirror scan to-send/
    photos/a.jpg: gps: 43.23890 N, 76.88970 E
    FOUND 1 item(s) in 1 file(s): scanned 3 file(s) in to-send
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mirror.cli import main
from mirror.cli.common import dump_json, json_option, say
from mirror.errors import ExitCode


@main.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@json_option
def scan(path: Path, as_json: bool) -> None:
    """List identifying metadata in photos and personal identifiers in texts under PATH (a folder or bundle).

    Exits 6 when anything is found, 0 when nothing is.
    """
    from mirror.formats.names import printable
    from mirror.privacy.scan_paths import scan_path

    report = scan_path(path)
    if as_json:
        dump_json({"path": str(path), "scanned": report.scanned, "skipped": report.skipped,
                   "findings": [{"path": f.path, "kind": f.kind, "detail": f.detail} for f in report.findings]})
    else:
        for finding in report.findings:  # values come from the files scanned: printed escaped
            say(f"{printable(finding.path)}: {finding.kind}: {printable(finding.detail)}")
        files = len({f.path for f in report.findings})
        verdict = f"FOUND {len(report.findings)} item(s) in {files} file(s)" if report.findings else "CLEAN"
        say(f"{verdict}: scanned {report.scanned} file(s) in {path}"
            + (f", {len(report.skipped)} not scanned (not photos or texts)" if report.skipped else ""))
    if report.findings:
        sys.exit(int(ExitCode.FOUND))
