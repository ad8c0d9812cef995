"""Download one bundle from mirrors in turns, resuming across mirrors and runs, and find out who served what.

Example::

    download = Download(entry, downloads, reports, Limits(), log=print)
    path = download.run(mirrors)          # the complete file, whose sha256 is the index's; or None
    download.tampered                     # some mirror served bytes proven wrong

Bundles never change under their hash name, so a partial download may come from several mirrors:
each turn appends from where the last one stopped (HTTP Range), and the final hash decides. A mirror
gets `limits.budget` seconds per turn (net/pace.py). One that still delivered at least the minimum
rate when its turn ended, or whose connection broke after real progress, gets another turn once the
others had theirs, the fastest first: a large bundle arrives over a slow but honest link, and a
throttled mirror never holds the download. A mirror that ignores Range (it can only send the whole file)
gets one turn: another would start from zero again.

Which mirror served which bytes is kept for the run. Bytes that are thrown away (a finished file
that fails its hash, or a part a mirror cannot resume) are hashed first, range by range; once a good
copy arrives, each range is compared with it, and a mirror whose bytes differ is reported as
tampered. A failed hash with one mirror as the only source proves it at once; ranges still unjudged
at the end leave their mirrors suspect. Bytes kept from an earlier run prove nothing about any mirror
(the file could have been damaged on this disk).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import time
from collections.abc import Callable, Iterator, Sequence
from enum import Enum
from pathlib import Path

from mirror.errors import Failure, TransferError
from mirror.fetch.growing import GrowingHash
from mirror.fetch.report import Fate, MirrorReport
from mirror.fetch.transport import Busy, Mirror, RangeIgnored, hurried
from mirror.formats.index import BundleEntry
from mirror.net.pace import Limits, budget
from mirror.record import record
from mirror.safeio import file_sha256

Log = Callable[[str], None]
Advance = Callable[[int], None]
# (bytes expected, label) -> a context that yields a function advancing a progress display, or None
Progress = Callable[[int, str], contextlib.AbstractContextManager[Advance | None]]
EARLIER = "an earlier run"  # the source of bytes kept from an earlier run
MIN_GAIN = 1 << 16  # a turn that ends early earns another only if it brought at least this much (or the rest)
_READ = 1 << 20


@contextlib.contextmanager
def no_progress(total: int, label: str) -> Iterator[Advance | None]:
    """The default: show nothing."""
    yield None


@record
class Piece:
    """Bytes [start, end) of a partial download, and where they came from."""

    source: str
    start: int
    end: int


@record
class Judged:
    """A range of thrown-away bytes, hashed, waiting for a good copy to be compared with."""

    piece: Piece
    sha256: str
    failed: bool  # part of a finished file that failed its hash (not merely thrown away)


class Turn(Enum):
    """How one mirror's turn ended."""

    DONE = "done"  # the file is complete and its hash matches
    AGAIN = "again"  # ended early after real progress: another turn later
    OVER = "over"  # nothing more from this mirror for this bundle


def range_sha256(path: Path, start: int, end: int) -> str:
    """Hex SHA-256 of bytes [start, end) of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        handle.seek(start)
        left = end - start
        while left > 0 and (chunk := handle.read(min(_READ, left))):
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


@dataclasses.dataclass
class Download:
    """One bundle: its part file, who served which bytes, and what each mirror did (in `reports`)."""

    entry: BundleEntry
    downloads: Path
    reports: dict[str, MirrorReport]
    limits: Limits
    log: Log
    progress: Progress = no_progress
    tampered: bool = False
    pieces: list[Piece] = dataclasses.field(default_factory=list)
    judged: list[Judged] = dataclasses.field(default_factory=list)
    _start: int = dataclasses.field(default=0, init=False, repr=False)  # where the current turn's bytes begin
    _restarted: bool = dataclasses.field(default=False, init=False, repr=False)  # this turn's mirror ignored Range
    _growing: GrowingHash | None = dataclasses.field(default=None, init=False, repr=False)  # the part's hash so far

    @property
    def part(self) -> Path:
        """Where the bytes collect."""
        return self.downloads / f"{self.entry.sha256}.7z.part"

    @property
    def growing(self) -> GrowingHash:
        """The part's SHA-256, kept up on a second thread while mirrors append to it."""
        if self._growing is None:
            self._growing = GrowingHash(self.part)
        return self._growing

    @property
    def name(self) -> str:
        """How the bundle is named in progress lines."""
        return f"{self.entry.id} v{self.entry.version}"

    def _size(self) -> int:
        return self.part.stat().st_size if self.part.exists() else 0

    @property
    def held(self) -> int:
        """The bytes of the partial file as it is now (0: none)."""
        return self._size()

    def run(self, mirrors: Sequence[Mirror]) -> Path | None:
        """The complete file, whose sha256 is the index's, or None; mirrors are tried in order, in rounds (none: the
        partial file of an earlier run or claim, if it is whole and its hash matches)."""
        size = self._size()
        if size:
            self.pieces = [Piece(EARLIER, 0, size)]
        if size > self.entry.size:  # damaged whatever it holds: not hashed (a planted sparse file may hold terabytes)
            self.log(f"{self.name}: the partial file of an earlier run is longer than the bundle; fetching it again")
            self.pieces = []
            self._throw_away(failed=True)
        elif size == self.entry.size:  # a run that stopped before hashing, or a damaged part
            if file_sha256(self.part) == self.entry.sha256:
                self.log(f"{self.name}: complete from an earlier run")
                return self.part
            self._throw_away(failed=True)
        queue, first = list(mirrors), True
        while queue:
            again: list[tuple[float, Mirror]] = []
            for n, mirror in enumerate(queue):
                if self.reports[mirror.label].distrusted:
                    continue  # nothing from a mirror that failed a check is used
                turn, rate = self._turn(mirror, hurry=first and n < len(queue) - 1)
                if turn is Turn.DONE:
                    self._judge()
                    return self.part
                if turn is Turn.AGAIN:
                    again.append((rate, mirror))
            queue, first = [mirror for _, mirror in sorted(again, key=lambda pair: -pair[0])], False
        self._leave_suspects()
        if self._size() == 0:  # a page answered in its place kept nothing, and leaves no empty file either
            self.part.unlink(missing_ok=True)
        return None

    def _turn(self, mirror: Mirror, hurry: bool = False) -> tuple[Turn, float]:
        """One mirror's turn within its budget: append what it sends, then see where that leaves the file.
        `hurry`: others wait in this round, so a busy mirror (HTTP 503 with Retry-After) is asked again after them,
        not waited for (it held each bundle for the whole --budget while a free mirror was there)."""
        self._start, self._restarted = self._size(), False
        event = self.reports[mirror.label].bundle(self.entry)
        self.log(f"trying {mirror.label} for {self.name}"
                 + (f" from byte {self._start:,} of {self.entry.size:,}" if self._start else "") + " ...")
        began = time.monotonic()
        error: TransferError | None = None
        complete = False
        with budget(self.limits.budget, self.log):
            try:
                with self.growing.following(), hurried(hurry):
                    complete = self._fetch(mirror)
            except TransferError as exc:
                error = exc
        seconds = time.monotonic() - began
        start = self._start
        gained = self._size() - start
        if gained > 0:
            self._add(Piece(mirror.label, start, start + gained))
        rate = gained / max(seconds, 1e-3)
        if complete:
            return self._finished(mirror, gained, seconds), rate
        fate, detail = (Fate.of(error.failure), error.reason) if error else \
            (Fate.UNREACHABLE, f"stopped at {self._size():,} of {self.entry.size:,} bytes")
        event.add(fate, detail, gained, seconds)
        self.log(f"{mirror.label}: {detail}")
        if hurry and isinstance(error, Busy):
            return Turn.AGAIN, 0.0  # after the others
        enough = min(self.entry.size - start, max(int(self.limits.min_rate * self.limits.stall), MIN_GAIN))
        progressing = gained >= enough and rate >= self.limits.min_rate
        retryable = error is None or error.failure in (Failure.TIMEOUT, Failure.UNREACHABLE)
        # A mirror that cannot resume would start from zero again, throwing away what it and others sent: one turn.
        resumable = not self._restarted
        return (Turn.AGAIN if progressing and retryable and resumable else Turn.OVER), rate

    def _fetch(self, mirror: Mirror) -> bool:
        """Append from the part's end; a mirror that cannot resume gets the part thrown away and sends it whole."""
        label = self.entry.path.rsplit("/", 1)[-1][:12]
        try:
            with self.progress(self.entry.size - self._start, label) as advance:
                return mirror.download(self.entry.path, self.part, self.entry.size, advance)
        except RangeIgnored:
            self.log(f"{mirror.label}: ignored Range; downloading {self.name} again from the start")
            self._throw_away(failed=False)
            self._start, self._restarted = 0, True
            with self.progress(self.entry.size, label) as advance:
                return mirror.download(self.entry.path, self.part, self.entry.size, advance)

    def _add(self, piece: Piece) -> None:
        """Record a piece; contiguous bytes from the same source make one piece."""
        last = self.pieces[-1] if self.pieces else None
        if last is not None and last.source == piece.source and last.end == piece.start:
            self.pieces[-1] = Piece(piece.source, last.start, piece.end)
        else:
            self.pieces.append(piece)

    def _finished(self, mirror: Mirror, gained: int, seconds: float) -> Turn:
        """The file is complete: keep it if its hash matches; otherwise find out whom to blame."""
        report = self.reports[mirror.label]
        event = report.bundle(self.entry)
        digest = self.growing.hexdigest(self.entry.size) or file_sha256(self.part)
        if digest == self.entry.sha256:
            event.add(Fate.OK, "", gained, seconds)
            event.detail = f"{event.received:,} bytes in {event.seconds:.1f} s"
            return Turn.DONE
        sources = {piece.source for piece in self.pieces}
        if sources == {mirror.label}:  # every byte came from this mirror in this run
            event.add(Fate.TAMPERED, f"{self.entry.path}: does not match the sha256 it was listed with", gained,
                      seconds)
            self.tampered = True
            self.log(f"{mirror.label}: {self.entry.path} does not match the sha256 it was listed with")
            self._throw_away(failed=True)
            return Turn.OVER
        self.log(f"{self.name}: the download assembled from {', '.join(sorted(sources))} does not match the "
                 f"sha256 it was listed with; fetching it whole from {mirror.label}")
        event.add(Fate.SUSPECT, "finished a download that did not match the sha256 it was listed with", gained, seconds)
        self._throw_away(failed=True)
        turn, _ = self._turn(mirror)
        return turn

    def _throw_away(self, failed: bool) -> None:
        """Delete the part, hashing first the ranges served in this run, to be judged against a good copy."""
        for piece in self.pieces:
            if piece.source != EARLIER or failed:
                self.judged.append(Judged(piece, range_sha256(self.part, piece.start, piece.end), failed))
        self.part.unlink(missing_ok=True)
        self.growing.reset()
        self.pieces = []

    def _judge(self) -> None:
        """Compare every thrown-away range with the good copy: a mirror whose bytes differ tampered."""
        for judged in self.judged:
            piece = judged.piece
            if range_sha256(self.part, piece.start, piece.end) == judged.sha256:
                continue
            if piece.source == EARLIER:
                self.log(f"{self.name}: the partial download kept from an earlier run was damaged")
                continue
            self.reports[piece.source].blame(self.entry, f"the {piece.end - piece.start:,} bytes it served from byte "
                                                         f"{piece.start:,} do not match the signed bundle")
            self.tampered = True
        self.judged = []

    def _leave_suspects(self) -> None:
        """No good copy came: the mirrors that served part of a failed file stay suspect."""
        for judged in self.judged:
            if judged.failed and judged.piece.source != EARLIER:
                event = self.reports[judged.piece.source].bundle(self.entry)
                if not event.fate.failed_check:
                    event.set(Fate.SUSPECT, f"served {judged.piece.end - judged.piece.start:,} bytes of a download "
                                            "that failed its hash; no whole copy arrived to tell which mirror was "
                                            "wrong")
