"""mirror.heap: large freed buffers go back to the system at once (glibc)."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import pytest

from mirror.sevenzip.writer import ArchiveWriter


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the setting is glibc's")
def test_a_large_freed_buffer_leaves_the_resident_set() -> None:
    """With the setting, 64 buffers of 2 MiB freed on a thread leave no resident memory behind; without it,
    glibc keeps them in the thread's heap (its threshold rises after the first free), here held there by a
    small block allocated after each, as the objects of a long run are."""
    probe = """
import sys, threading
from mirror.heap import return_large_buffers
if sys.argv[1] == "set":
    assert return_large_buffers()
import os
def rss(): return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
def churn():
    first = b"\x01" * (2 << 20); del first        # raises glibc's threshold when nothing is set
    held, pins = [], []
    for _ in range(64):
        held.append(b"\x01" * (2 << 20))            # written: its pages are resident
        pins.append(bytes(1000))                   # above pymalloc's size: from the same heap
    del held
    return pins
before = rss()
kept = []
t = threading.Thread(target=lambda: kept.append(churn())); t.start(); t.join()
print((rss() - before) >> 20)
"""
    grown = {how: int(subprocess.run([sys.executable, "-c", probe, how], capture_output=True, text=True,
                                     check=True).stdout) for how in ("set", "unset")}
    assert grown["set"] < 16 <= grown["unset"]


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the setting is glibc's")
def test_photos_reuse_their_freed_buffers() -> None:
    """A run of photos after reuse_large_buffers: each 6 MiB buffer is served again from the heap, whose pages are
    already there; with the 1 MiB threshold, each is a new mapping whose pages the system clears as it is
    written (a page fault for every 4 KiB)."""
    probe = """
import resource, sys
from mirror.heap import return_large_buffers, reuse_large_buffers
assert return_large_buffers()
if sys.argv[1] == "reuse":
    assert reuse_large_buffers()
def faults(): return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
photo = b"\x01" * (6 << 20)
before = faults()
for _ in range(20):
    copy = bytearray(photo)  # read into a new buffer, then freed
    del copy
print(faults() - before)
"""
    faults = {how: int(subprocess.run([sys.executable, "-c", probe, how], capture_output=True, text=True,
                                      check=True).stdout) for how in ("reuse", "map")}
    pages = 20 * (6 << 20) // 4096
    assert faults["reuse"] < pages // 10 and faults["map"] > pages // 2, faults


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the setting is glibc's")
def test_threads_share_two_heaps_that_keep_what_they_free() -> None:
    """After reuse_large_buffers, eight threads that each use and free a 12 MiB buffer (an LZMA2 encoder's size;
    below HEAP_KEPT, so a heap keeps it) leave at most two such buffers resident, one per heap; with a heap per
    thread (glibc's default), all eight stay. The threads run one after another but overlap in time, as create's
    do, so that each needs a heap of its own unless the number is capped."""
    probe = """
import os, sys, threading
from mirror.heap import reuse_large_buffers
if sys.argv[1] == "capped":
    assert reuse_large_buffers()
else:
    import ctypes
    ctypes.CDLL(None).mallopt(-3, 32 << 20)  # the same threshold, without the cap on heaps
    ctypes.CDLL(None).mallopt(-1, 16 << 20)
def rss(): return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
started, done = threading.Barrier(8), threading.Barrier(8)
def work():
    started.wait()                      # all alive at once: glibc gives each its own heap when it may
    buffer = bytearray(12 << 20)        # from the heap (under the 32 MiB threshold); its pages written
    buffer[::4096] = b"\\x01" * len(range(0, 12 << 20, 4096))
    done.wait()
    del buffer
before = rss()
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
print((rss() - before) >> 20)
"""
    grown = {how: int(subprocess.run([sys.executable, "-c", probe, how], capture_output=True, text=True,
                                     check=True).stdout) for how in ("capped", "uncapped")}
    assert grown["capped"] <= 2 * 12 + 8 and grown["uncapped"] >= 6 * 12, grown


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the setting is glibc's")
def test_chunks_read_ahead_reuse_the_memory_of_those_freed_and_hand_it_back_after(tmp_path: Path) -> None:
    """read_ahead's thread reads a stored member of 64 MiB in chunks of 1 MiB that the caller frees as it goes. With
    verify's fixed threshold (return_large_buffers, from 1,000 members on) each chunk was a new mapping whose pages
    the system cleared as they were read into: 256 page faults a chunk. read_ahead keeps free memory at the top of
    the heaps while it runs (keep_heap_top), so the chunks reuse pages already there, and lets go when it ends
    (release_heap_top, below). `plain` stands for the code without either."""
    archive = tmp_path / "big.7z"
    with ArchiveWriter.create(archive) as writer:
        writer.add_stored([("photos/a.jpg", [b"\xff\xd8" + bytes(1 << 20) * 64])])
    probe = """
import resource, sys
from contextlib import closing
from mirror import heap
from mirror.sevenzip import Limits, read_ahead, read_archive
assert heap.return_large_buffers()  # as verify does from 1,000 members on
if sys.argv[1] == "plain":
    heap.keep_heap_top = heap.release_heap_top = lambda: False
def faults(): return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
with open(sys.argv[2], "rb") as fp:
    archive = read_archive(fp, Limits())
    before = faults()
    with closing(read_ahead(fp, archive, crc=False)) as pairs:
        for member, chunks in pairs:
            for chunk in chunks:
                del chunk  # hashed or written, then freed
    print(faults() - before, heap._keeping)
"""
    runs = {how: [int(n) for n in subprocess.run([sys.executable, "-c", probe, how, str(archive)],
                                                 capture_output=True, text=True, check=True).stdout.split()]
            for how in ("released", "plain")}
    pages = 64 * (1 << 20) // 4096
    assert runs["released"][0] < pages // 4 and runs["plain"][0] > pages // 2, runs  # page faults
    assert runs["released"][1] == 0  # no read-ahead is running: the pad was let go


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the setting is glibc's")
def test_the_heap_top_is_kept_until_the_last_reader_lets_go() -> None:
    """12 MiB freed at the top of the main heap stay resident while a keep_heap_top() is running, and are handed
    back once the last one running ends with release_heap_top() (two run at once here, as in fetch)."""
    probe = """
import os
from mirror import heap
def rss(): return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
def churn():
    buffer = bytearray(12 << 20)                     # under the 32 MiB threshold set below: from the heap
    buffer[::4096] = b"\\x01" * len(range(0, 12 << 20, 4096))
    del buffer
heap._mallopt(heap.M_MMAP_THRESHOLD, heap.HEAP_MAX)
assert heap.keep_heap_top() and heap.keep_heap_top()
before = rss()
churn()
kept = (rss() - before) >> 20
assert not heap.release_heap_top()                 # the other one still runs
still = (rss() - before) >> 20
assert heap.release_heap_top()
print(kept, still, (rss() - before) >> 20)
"""
    kept, still, after = (int(n) for n in subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                                                         check=True).stdout.split())
    assert kept >= 10 and still >= 10 and after < 4, (kept, still, after)
