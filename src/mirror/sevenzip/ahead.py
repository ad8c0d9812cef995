"""Members decoded on a second thread while the caller hashes or writes the ones before: both cores at work.

Example::

    with closing(read_ahead(fp, archive)) as pairs:     # closing: the thread stops if the caller stops early
        for member, chunks in pairs:
            digest = hashlib.sha256()
            for chunk in chunks:
                digest.update(chunk)

`hashlib`, `lzma` and file reads release the GIL on large buffers, so reading and
decoding the next megabytes overlap with hashing the last ones. At most DEPTH
batches (of at most BATCH_BYTES each) wait between the threads, so memory stays
bounded; small members travel many to a batch, so a million of them cost a few
thousand hand-overs, not millions. An error on the reading thread is raised in the
caller's, in order, where the member it concerns would have come. An archive that
decodes to at most IN_LINE_BYTES is read on the caller's thread, with the same
contract: a thread would cost more than it saves (a text bundle's verify is mostly
start-up, and this module then loads no threading).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING, BinaryIO

from mirror.sevenzip.model import Archive, Member
from mirror.sevenzip.reader import iter_members

if TYPE_CHECKING:
    import queue
    import threading

BATCH_BYTES = 1 << 20  # also the chunk size: few hand-overs, little memory in flight
BATCH_ITEMS = 1024
DEPTH = 4
IN_LINE_BYTES = 1 << 20

_Item = tuple[Member | None, bytes | None]  # (member, None) starts a member; (None, chunk); (None, None) ends it
_Batch = list[_Item] | BaseException | None  # None: the last batch was sent


class Checkpoint:
    """Where the reading thread waits for its caller, at the first block boundary after the members `needed` picks:
    a caller that must see those (the signed files) before it knows which later blocks it wants (`want`) says so
    with `decide()`. Until then the reading thread sends what it read and starts nothing new."""

    def __init__(self, needed: Callable[[Member], bool], count: int) -> None:
        self.needed = needed
        self.left = count  # members `needed` picks not yet read (the reading thread's count)
        self.decided: threading.Event | None = None  # made when a reading thread starts
        self.early = False  # decide() came before the reading thread started: its Event starts set

    def decide(self) -> None:
        """The caller knows what it wants of the blocks to come (asked with `want`). Read on the caller's thread,
        nothing waits: the next block is asked for only after the caller returns to the loop."""
        self.early = True
        if self.decided is not None:
            self.decided.set()


class _Stopped(Exception):
    """The caller stopped reading while the reading thread waited at the checkpoint."""


def read_ahead(fp: BinaryIO, archive: Archive, crc: bool = True, want: Callable[[Member], bool] | None = None,
               checkpoint: Checkpoint | None = None,
               mismatched: list[str] | None = None) -> Generator[tuple[Member, Iterator[bytes]], None, None]:
    """Like `iter_members`, decoded on another thread (CRCs summed there too). Consume each member's chunks before
    the next member.

    With `checkpoint`, once the members it needs were read, the next block is started (or skipped, by `want`)
    only after the caller called `checkpoint.decide()`.

    Raises:
        ArchiveError: what `iter_members` raises, at the same place in the sequence. After an error, stop: what
            the generator yields then is not defined (the thread path ends; in line, decoding goes on).
    """
    if sum(archive.folders.unpack_sizes) <= IN_LINE_BYTES:
        yield from _in_line(fp, archive, crc, want, mismatched)
        return
    import queue
    import threading

    from mirror.heap import keep_heap_top, release_heap_top

    if checkpoint is not None:
        checkpoint.decided = threading.Event()
        if checkpoint.early:  # decided before the first block was asked for
            checkpoint.decided.set()
    batches: queue.Queue[_Batch] = queue.Queue(DEPTH)
    stop = threading.Event()
    thread = threading.Thread(target=_produce, args=(fp, archive, crc, want, batches, stop, checkpoint, mismatched),
                              daemon=True, name="mirror-read-ahead")
    keep_heap_top()  # heap.py: the chunks this thread reads reuse the memory of those freed, not new pages
    try:
        thread.start()
        yield from _pairs(_items(batches))
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                batches.get_nowait()
            except queue.Empty:
                thread.join(0.01)
        release_heap_top()


def _in_line(fp: BinaryIO, archive: Archive, crc: bool, want: Callable[[Member], bool] | None,
             mismatched: list[str] | None) -> Iterator[tuple[Member, Iterator[bytes]]]:
    """read_ahead on the caller's thread: what the caller left of a member is read before the next, as the
    reading thread's batches skip it."""
    for member, chunks in iter_members(fp, archive, crc, BATCH_BYTES, want, mismatched):
        yield member, chunks
        for _ in chunks:
            pass


def _produce(fp: BinaryIO, archive: Archive, crc: bool, want: Callable[[Member], bool] | None,
             batches: queue.Queue[_Batch], stop: threading.Event, checkpoint: Checkpoint | None,
             mismatched: list[str] | None) -> None:
    import queue

    batch: list[_Item] = []
    size = 0

    def send(item: _Batch) -> bool:
        while not stop.is_set():
            try:
                batches.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def gated(member: Member) -> bool:
        """`want`, asked at the start of each block; at the checkpoint, only once the caller decided."""
        nonlocal batch, size
        decided = checkpoint.decided if checkpoint is not None else None
        if checkpoint is not None and decided is not None and checkpoint.left <= 0 and not decided.is_set():
            if batch and not send(batch):  # everything read so far, for the caller to decide on
                raise _Stopped
            batch, size = [], 0
            while not decided.wait(0.05):
                if stop.is_set():
                    raise _Stopped
        return want is None or want(member)

    try:
        for member, chunks in iter_members(fp, archive, crc, BATCH_BYTES,
                                           gated if checkpoint is not None or want is not None else None,
                                           mismatched):
            if checkpoint is not None and checkpoint.needed(member):
                checkpoint.left -= 1
            batch.append((member, None))
            for chunk in chunks:
                batch.append((None, chunk))
                size += len(chunk)
                if size >= BATCH_BYTES:
                    if not send(batch):
                        return
                    batch, size = [], 0
            batch.append((None, None))
            if len(batch) >= BATCH_ITEMS:
                if not send(batch):
                    return
                batch, size = [], 0
        if send(batch):
            send(None)
    except BaseException as exc:  # handed to the caller's thread, raised there
        if not batch or send(batch):
            send(exc)


def _items(batches: queue.Queue[_Batch]) -> Iterator[_Item]:
    while True:
        batch = batches.get()
        if batch is None:
            return
        if isinstance(batch, BaseException):
            raise batch
        yield from batch


def _pairs(items: Iterator[_Item]) -> Iterator[tuple[Member, Iterator[bytes]]]:
    for member, _ in items:
        if member is not None:  # a member the caller did not read to its end is skipped: its items come first
            yield member, _chunks(items)


def _chunks(items: Iterator[_Item]) -> Iterator[bytes]:
    for _, chunk in items:
        if chunk is None:
            return
        yield chunk
