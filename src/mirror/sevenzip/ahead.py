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
caller's, in order, where the member it concerns would have come.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterator
from typing import BinaryIO

from mirror.sevenzip.model import Archive, Member
from mirror.sevenzip.reader import iter_members

BATCH_BYTES = 1 << 20  # also the chunk size: few hand-overs, little memory in flight
BATCH_ITEMS = 1024
DEPTH = 4

_Item = tuple[Member | None, bytes | None]  # (member, None) starts a member; (None, chunk); (None, None) ends it
_Batch = list[_Item] | BaseException | None  # None: the last batch was sent


def read_ahead(fp: BinaryIO, archive: Archive, crc: bool = True, want: Callable[[Member], bool] | None = None
               ) -> Generator[tuple[Member, Iterator[bytes]], None, None]:
    """Like `iter_members`, decoded on another thread. Consume each member's chunks before the next member.

    Raises:
        ArchiveError: what `iter_members` raises, at the same place in the sequence.
    """
    batches: queue.Queue[_Batch] = queue.Queue(DEPTH)
    stop = threading.Event()
    thread = threading.Thread(target=_produce, args=(fp, archive, crc, want, batches, stop), daemon=True,
                              name="mirror-read-ahead")
    thread.start()
    try:
        yield from _pairs(_items(batches))
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                batches.get_nowait()
            except queue.Empty:
                thread.join(0.01)


def _produce(fp: BinaryIO, archive: Archive, crc: bool, want: Callable[[Member], bool] | None,
             batches: queue.Queue[_Batch], stop: threading.Event) -> None:
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

    try:
        for member, chunks in iter_members(fp, archive, crc, BATCH_BYTES, want):
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
