"""mirror.heap: large freed buffers go back to the system at once (glibc)."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest


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
