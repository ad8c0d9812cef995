"""`mirror scan`: what in a folder, a bundle or a file could identify a source, before it is passed on.

Example::

    $ mirror scan to-send/
    photos/a.jpg: gps: 43.23890 N, 76.88970 E
    FOUND 1 item(s) in 1 file(s): scanned 3 file(s) in to-send
    INCOMPLETE: 1 file(s) not scanned or read only in part; check them by hand or leave them out
      notes.docx: a Word document: mirror cannot read its text and author data

Exit codes: 6 when anything is found, else 7 when some file could not be
scanned (never CLEAN then), else 0.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mirror.cli.app import main
from mirror.cli.common import dump_json, given_path, json_option, say
from mirror.errors import ExitCode
from mirror.i18n import verbatim

_STOPPED_SHOWN = 20  # names on the line; --json lists up to a thousand
_NOT_SCANNED_SHOWN = 100  # files not scanned, a line each; --json lists up to a thousand, all are counted


@main.command()
@click.argument("path", type=given_path(exists=True, path_type=Path))
@json_option
def scan(path: Path, as_json: bool) -> None:
    """List identifying metadata in photos and personal identifiers in texts and names under PATH.

    PATH is a folder, a bundle or one file. Exits 6 when anything is found, 7 when some file
    could not be scanned, 0 when everything was scanned and nothing found.
    """
    from mirror.formats.names import printable
    from mirror.privacy.findings import MAX_PER_FILE
    from mirror.privacy.identifiers import PHONE_CHECKS, RUN_PHONE_CHECKS
    from mirror.privacy.scan_paths import MAX_LISTED, scan_path

    report = scan_path(path)
    verdict = "found" if report.findings else "incomplete" if report.not_scanned_count else "clean"
    if as_json:
        dump_json({"path": str(path), "verdict": verdict, "scanned": report.scanned,
                   "not_scanned": [{"path": name, "reason": why} for name, why in report.not_scanned],
                   "not_scanned_count": report.not_scanned_count, "unlisted_findings": report.unlisted,
                   "stopped_at_cap": report.stopped, "stopped_at_cap_count": report.stopped_count,
                   "phones_by_shape_alone": report.checks.short,
                   "findings": [{"path": f.path, "kind": f.kind, "detail": f.detail} for f in report.findings]})
    else:
        for finding in report.findings:  # values come from the files scanned: printed escaped
            detail = printable(finding.detail)  # the scanner's own words around a value: translated
            say(f"{verbatim(printable(finding.path))}: {finding.kind}: {detail}")
        more = f" (and {report.unlisted:,} more not listed)" if report.unlisted else ""
        head = (f"FOUND {len(report.findings)} item(s){more} in {report.files_with_findings} file(s)"
                if report.findings else "CLEAN" if not report.not_scanned_count else "NOTHING FOUND")
        say(f"{head}: scanned {report.scanned} file(s) in {printable(str(path))}")
        if report.stopped_count:
            names = ", ".join(printable(n) for n in report.stopped[:_STOPPED_SHOWN])
            names += ", ..." if report.stopped_count > _STOPPED_SHOWN else ""
            say(f"  {report.stopped_count} file(s) hold more than {MAX_PER_FILE} items; each was read only that far, "
                f"so there are more in: {names}")
        if report.checks.short:
            say(f"  past {PHONE_CHECKS:,} candidates in one file or {RUN_PHONE_CHECKS:,} in all, phone numbers were "
                "judged by their shapes alone and some kinds may be missed: scan fewer files at once to have each "
                "judged in full")
        if report.not_scanned_count:
            say(f"INCOMPLETE: {report.not_scanned_count} file(s) not scanned or read only in part; check them by "
                "hand or leave them out")
            for name, why in report.not_scanned[:_NOT_SCANNED_SHOWN]:
                say(f"  {name}: {printable(why)}")
            if report.not_scanned_count > _NOT_SCANNED_SHOWN:
                say(f"  ... and {report.not_scanned_count - _NOT_SCANNED_SHOWN:,} more not listed here (mirror scan "
                    f"--json lists the first {MAX_LISTED:,})")
    if report.findings:
        sys.exit(int(ExitCode.FOUND))
    if report.not_scanned_count:
        sys.exit(int(ExitCode.NOT_SCANNED))
