"""Scan a folder or a bundle for what could identify sources, before passing it on.

Example::

    report = scan_path(Path("to-send/"))
    for finding in report.findings:
        print(finding.path, finding.kind, finding.detail)

A bundle is read with the same strict reader as `verify` (names and sizes
checked first) and never extracted; its photos and accounts are scanned in
memory one at a time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from mirror.errors import PhotoError
from mirror.formats.media import media_for
from mirror.formats.names import printable
from mirror.privacy.scan import Finding, scan_photo, scan_text
from mirror.safeio import open_regular
from mirror.sevenzip import Limits, check_methods, iter_members, read_archive, regular_files

MAX_SCAN_FILE = 512 << 20


@dataclass(slots=True)
class ScanReport:
    """What a scan found, and what it could not look into."""

    findings: list[Finding] = field(default_factory=list)
    scanned: int = 0
    skipped: list[str] = field(default_factory=list)


def _scan_one(name: str, data: bytes, report: ScanReport) -> None:
    media = media_for(name)
    if media is not None and media.kind == "account":
        report.findings += scan_text(data.decode("utf-8", "replace"), name)
    elif (media is not None and media.kind != "account") or data[:3] == b"\xff\xd8\xff":
        try:
            report.findings += scan_photo(data, name)
        except PhotoError as exc:
            report.findings.append(Finding(name, "unscannable", exc.reason))
    else:
        report.skipped.append(name)
        return
    report.scanned += 1


def _folder_files(folder: Path) -> Iterator[tuple[str, Path]]:
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            yield path.relative_to(folder).as_posix(), path


def scan_path(path: Path) -> ScanReport:
    """Scan every photo and text under a folder, or in a bundle.

    Raises:
        ArchiveError: the bundle cannot be read safely.
        ConfigError: the path is a FIFO, device or socket.
        OSError: a file cannot be read.
    """
    report = ScanReport()
    if path.is_dir():
        for name, file in _folder_files(path):
            if not file.is_file() or file.is_symlink() or file.stat().st_size > MAX_SCAN_FILE:
                report.skipped.append(printable(name))
                continue
            _scan_one(name, file.read_bytes(), report)
        return report
    with open_regular(path) as fp:  # a FIFO or device is refused before it is opened
        archive = read_archive(fp, Limits())
        check_methods(archive)
        regular_files(archive)  # names and types checked before any data is read
        for member, chunks in iter_members(fp, archive):
            if member.size > MAX_SCAN_FILE:
                report.skipped.append(member.name)
                for _ in chunks:
                    pass
                continue
            _scan_one(member.name, b"".join(chunks), report)
    return report
